/* 設定 › 推薦好友: the member-get-member programme (GET/PUT /api/v1/admin/referral-program): on or
 * off, what the referrer and the friend each get (stamps, points, a coupon, or nothing), the
 * purchase that counts, the monthly cap per referrer and how new a friend must be. */
'use strict';
(() => {
  const { el, t, fmt, card } = Admin;
  const KINDS = ['none', 'stamps', 'points', 'coupon'];

  /** One side's reward: a kind, and an amount or a coupon template; read() → the API's value. */
  function rewardPicker(side, value, templates) {
    const kind = el('select', { name: `${side}_reward` }, KINDS.map((k) => el('option', { value: k, text: t(`ref.kind.${k}`) })));
    kind.value = value ? value.kind : 'none';
    const amount = el('input', { name: `${side}_amount`, type: 'number', step: 1, value: value && value.amount ? value.amount : 1 });
    const usable = templates.filter((c) => c.active || (value && c.id === value.coupon_template_id));
    const coupon = el('select', { name: `${side}_coupon` }, usable.map((c) => el('option', { value: c.id, text: c.name })));
    if (value && value.coupon_template_id != null) coupon.value = String(value.coupon_template_id);
    const amountField = Admin.field(t('ref.amount'), amount);
    const couponField = Admin.field(t('ref.coupon'), coupon, usable.length ? null : t('ref.noCoupons'));
    const sync = () => {
      amountField.hidden = !['stamps', 'points'].includes(kind.value);
      couponField.hidden = kind.value !== 'coupon';
    };
    kind.addEventListener('change', sync);
    sync();
    const read = () => {
      if (kind.value === 'none') return null;
      if (kind.value === 'coupon') return { kind: 'coupon', coupon_template_id: coupon.value ? Number(coupon.value) : null };
      return { kind: kind.value, amount: Admin.intOrRaw(amount) };
    };
    const node = el('fieldset', { class: 'reward-side' }, el('legend', { text: t(`ref.${side}`) }),
      el('div', { class: 'grid g2', style: 'gap:12px' }, Admin.field(t('ref.gets'), kind), amountField, couponField));
    return { node, read };
  }

  Admin.settingsTabs.referral = async (main) => {
    const [p, lookups] = await Promise.all([Admin.api('/api/v1/admin/referral-program'), Admin.lookups(true)]);
    const enabled = el('input', { type: 'checkbox', name: 'enabled', checked: p.enabled });
    const [referrer, friend] = ['referrer', 'friend'].map((side) => rewardPicker(side, p[`${side}_reward`], lookups.coupon_templates));
    const minPurchase = el('input', { name: 'min_purchase', type: 'number', step: 'any', value: p.min_purchase });
    const cap = el('input', { name: 'monthly_cap', type: 'number', step: 1, value: p.monthly_cap == null ? '' : p.monthly_cap });
    const hours = el('input', { name: 'new_friend_hours', type: 'number', step: 1, value: p.new_friend_hours });
    const form = el('form', { class: 'stack', onsubmit: (ev) => {
      ev.preventDefault();
      Admin.send(form, 'PUT', '/api/v1/admin/referral-program', {
        enabled: enabled.checked, referrer_reward: referrer.read(), friend_reward: friend.read(),
        min_purchase: minPurchase.value.trim() || '0', monthly_cap: Admin.intOrRaw(cap), new_friend_hours: Admin.intOrRaw(hours),
      });
    } },
    el('label', { class: 'choice' }, enabled, t('ref.enabled')),
    el('div', { class: 'grid g2' }, referrer.node, friend.node),
    el('div', { class: 'grid g3', style: 'gap:12px' },
      Admin.field(t('ref.minPurchase'), minPurchase, t('ref.minPurchaseHint')), Admin.field(t('ref.cap'), cap, t('ref.capHint')),
      Admin.field(t('ref.hours'), hours, t('ref.hoursHint'))),
    el('div', {}, el('button', { class: 'primary', type: 'submit', text: t('common.save') })));
    main.append(card(t('set.tab.referral'), el('p', { class: 'muted', style: 'margin-bottom:14px', text: t('ref.note') }), form,
      el('p', { class: 'muted', style: 'margin-top:12px;font-size:13px', text: t('ref.updated', { when: fmt.time(p.updated_at) }) })));
  };
})();
