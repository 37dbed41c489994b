/* 設定 › 點數兌換: the points rewards catalogue the counter offers (GET/POST /api/v1/admin/rewards,
 * PUT …/ID): add a reward, rename or reprice it, take it off the counter and put it back. A
 * withdrawn reward is kept (past redemptions name it), only no longer offered. */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;

  async function setActive(reward, active, box) {
    try {
      await Admin.api(`/api/v1/admin/rewards/${reward.id}`, { method: 'PUT', body: { active } });
      Admin.toast(t(active ? 'rewards.onToast' : 'rewards.offToast', { name: reward.name }));
      Admin.refresh();
    } catch (err) {
      if (err.status !== 401) Object.assign(box, { textContent: Admin.describeField(err), hidden: false });
    }
  }

  function editor(reward) {
    const name = el('input', { name: 'name', required: true, maxLength: 120, value: reward ? reward.name : '' });
    const cost = el('input', { name: 'points_cost', type: 'number', step: 1, required: true, value: reward ? reward.points_cost : '' });
    const form = el('form', { class: 'stack', onsubmit: (ev) => {
      ev.preventDefault();
      const body = { name: name.value.trim(), points_cost: Admin.intOrRaw(cost) };
      if (reward) Admin.send(form, 'PUT', `/api/v1/admin/rewards/${reward.id}`, body);
      else Admin.send(form, 'POST', '/api/v1/admin/rewards', body, { done: t('rewards.added', { name: body.name }) });
    } },
    el('div', { class: 'grid g2', style: 'gap:12px' }, Admin.field(t('rewards.name'), name), Admin.field(t('rewards.cost'), cost, t('rewards.costHint'))),
    el('div', { class: 'chips' }, el('button', { class: 'primary', type: 'submit', text: t('common.save') }),
      reward ? el('button', { class: 'secondary', type: 'button', text: t('common.cancel'), onclick: () => Admin.refresh() }) : null));
    return card(reward ? t('rewards.edit', { name: reward.name }) : t('rewards.add'), form);
  }

  Admin.settingsTabs.rewards = async (main) => {
    const { rewards } = await Admin.api('/api/v1/admin/rewards');
    const box = el('div', { class: 'alert', role: 'alert', hidden: true, style: 'margin-bottom:12px' });
    const slot = el('div');
    const edit = (reward) => { slot.replaceChildren(editor(reward)); slot.querySelector('input').focus(); };
    main.append(card(t('set.tab.rewards'), el('p', { class: 'muted', style: 'margin-bottom:12px', text: t('rewards.note') }), box,
      rewards.length ? table([
        [t('rewards.name'), (r) => el('b', { text: r.name })],
        [t('rewards.cost'), (r) => t('rewards.points', { n: fmt.num(r.points_cost) }), 'num'],
        [t('rewards.status'), (r) => (r.active ? badge(t('rewards.on'), 'ok') : badge(t('rewards.off')))],
        ['', (r) => el('span', { class: 'chips' },
          el('button', { class: 'secondary small', type: 'button', text: t('common.edit'), onclick: () => edit(r) }),
          el('button', { class: `small ${r.active ? 'danger' : 'secondary'}`, type: 'button', text: t(r.active ? 'rewards.withdraw' : 'rewards.restore'),
            onclick: () => setActive(r, !r.active, box) }))],
      ], rewards, { label: t('set.tab.rewards') }) : Admin.empty(t('rewards.none'))), el('div', { style: 'height:18px' }), slot);
    slot.replaceChildren(editor(null));
  };
})();
