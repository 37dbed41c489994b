/* 現成分眾: segments a marketer reaches for first (生日當月, 30 天未回訪, 沉睡大戶), each with its rule in
 * words and its size now (POST …/segments/preview). One click saves it as a segment (or finds the one
 * saved before, by name) and, if asked, opens the composer with it. The rules are relative to the day
 * the segment is used (within days, NES stages), except the birthday month, which the name carries. */
'use strict';
(() => {
  const { el, t, fmt, table } = Admin;

  function presets() {
    const month = Number(Admin.today().slice(5, 7));
    return [
      { key: 'birthday', name: t('preset.birthday.name', { m: month }), hint: t('preset.birthday.hint'),
        rule: { field: 'birthday_month', op: 'eq', value: month } },
      { key: 'lapsed30', name: t('preset.lapsed30.name'), hint: t('preset.lapsed30.hint'),
        rule: { and: [{ field: 'visits', op: 'gte', value: 1 }, { not: { field: 'last_visit_within_days', op: 'lte', value: 30 } }] } }, // came before
      { key: 'sleepingBig', name: t('preset.sleepingBig.name'), hint: t('preset.sleepingBig.hint'),
        rule: { and: [{ field: 'nes', op: 'in', value: ['S2', 'S3'] }, { field: 'm_score', op: 'gte', value: 4 }] } },
    ];
  }

  /** The saved segment for a preset: the one saved before under its name, or a new one. */
  async function saved(p) {
    const { segments } = await Admin.api('/api/v1/admin/segments');
    const found = segments.find((s) => s.name === p.name);
    if (found) return found;
    return Admin.api('/api/v1/admin/segments', { method: 'POST', body: { name: p.name, rule: p.rule } });
  }

  Admin.segmentPresets = (lookups, { onLoad } = {}) => {
    const list = presets();
    const counts = new Map(list.map((p) => [p.key, el('b', { id: `preset-${p.key}`, text: '–' })]));
    const manage = Admin.can('campaigns:manage');
    const use = async (p, compose) => {
      try {
        const s = await saved(p);
        Admin.toast(t('preset.saved', { name: s.name }));
        if (compose) Admin.go(`/admin/campaigns/new?segment=${s.id}`); else Admin.refresh();
      } catch (err) { Admin.fail(err); }
    };
    const node = Admin.card(t('preset.title'), el('p', { class: 'muted', style: 'margin-bottom:8px', text: t('preset.sub') }), table([
      [t('seg.name'), (p) => el('div', {}, el('b', { text: p.name }), el('div', { class: 'muted', style: 'font-size:13px', text: p.hint }))],
      [t('seg.rule'), (p) => el('span', { class: 'muted', text: Admin.describeRule(p.rule, lookups) })],
      [t('seg.preview'), (p) => counts.get(p.key), 'num'],
      ['', (p) => el('div', { class: 'chips' },
        onLoad && !JSON.stringify(p.rule).includes('"not"') ? el('button', { class: 'secondary small', type: 'button', text: t('seg.load'), onclick: () => onLoad(p) }) : null,
        manage ? el('button', { class: 'secondary small', type: 'button', text: t('preset.save'), onclick: () => use(p, false) }) : null,
        manage ? el('button', { class: 'go small', type: 'button', text: t('seg.campaign'), onclick: () => use(p, true) }) : null)],
    ], list, { label: t('preset.title') }));
    for (const p of list) {
      Admin.api('/api/v1/admin/segments/preview', { method: 'POST', body: { rule: p.rule } })
        .then(({ count }) => { counts.get(p.key).textContent = fmt.num(count); })
        .catch((err) => { counts.get(p.key).textContent = Admin.describe(err); });
    }
    return node;
  };
})();
