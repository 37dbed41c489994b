/* 設定: tabs for tiers, earning rules and coupon templates (here), automations, stores and staff
 * (settings-more.js), the points rewards (settings-rewards.js), the referral programme
 * (settings-referral.js), POS keys (settings-pos.js), the console's accounts (settings-users.js) and the
 * member list import (settings-import.js).
 * Each tab lists what exists and offers a small form over the admin API; tabs a role may not use
 * (settings:manage, campaigns:manage) are not shown. */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;
  Admin.settingsTabs = {};
  const TAB_ORDER = [['tiers', 'settings:manage'], ['rule', 'settings:manage'], ['rewards', 'settings:manage'], ['coupons', 'settings:manage'],
    ['referral', 'settings:manage'], ['journeys', 'members:read'], ['stores', 'settings:manage'], ['keys', 'settings:manage'], ['tokens', 'settings:manage'], ['users', 'settings:manage'],
    ['corrections', 'members:adjust'], ['import', 'settings:manage']];

  /** A form from [name, label, type, extra]: type text|number|select|textarea|checkbox|color; values() → object, '' → null. */
  Admin.simpleForm = (fields, initial = {}, onSubmit, submitLabel = t('common.save')) => {
    const inputs = {};
    const rows = fields.map(([name, label, type = 'text', extra = {}]) => {
      let input;
      if (type === 'select') input = el('select', { name }, extra.options.map(([v, l]) => el('option', { value: v, text: l })));
      else if (type === 'textarea') input = el('textarea', { name, style: 'min-height:70px' });
      else input = el('input', { name, type, step: type === 'number' ? 'any' : null, required: !!extra.required });
      const value = initial[name];
      if (type === 'checkbox') input.checked = !!value;
      else if (value != null) input.value = Array.isArray(value) ? value.join('\n') : String(value);
      inputs[name] = [input, type, extra];
      return type === 'checkbox' ? el('label', { class: 'choice' }, input, label)
        : el('label', { class: 'field' }, label, input, extra.hint ? el('span', { class: 'hint', text: extra.hint }) : null);
    });
    const values = () => Object.fromEntries(Object.entries(inputs).map(([name, [input, type, extra]]) => {
      if (type === 'checkbox') return [name, input.checked];
      const raw = input.value.trim();
      if (extra.list) return [name, raw.split('\n').map((x) => x.trim()).filter(Boolean)];
      if (raw === '') return [name, null];
      return [name, extra.int ? Number(raw) : raw];
    }));
    const form = el('form', { class: 'stack', onsubmit: async (ev) => { ev.preventDefault(); await onSubmit(values(), form); } },
      el('div', { class: 'grid g3', style: 'gap:12px' }, rows), el('div', {}, el('button', { class: 'primary', type: 'submit', text: submitLabel })));
    return form;
  };

  /** Sends, reports, and redraws the page; nulls left out when `dropNull`. */
  Admin.saveThen = async (method, path, body, done = t('common.saved')) => {
    try { await Admin.api(path, { method, body }); Admin.toast(done); Admin.refresh(); } catch (err) { Admin.fail(err); }
  };
  const compact = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));

  Admin.pages.settings = async (main, [tab]) => {
    const tabs = TAB_ORDER.filter(([, scope]) => Admin.can(scope) && (scope !== 'members:read' || Admin.can('campaigns:manage') || Admin.can('settings:manage')));
    const current = tabs.find(([name]) => name === tab) ? tab : (tabs[0] || [])[0];
    main.append(Admin.pageHead(t('set.title'), t('set.sub')),
      el('nav', { class: 'tabs', 'aria-label': t('set.title') }, tabs.map(([name]) => Admin.link(`/admin/settings/${name}`, t(`set.tab.${name}`),
        { 'aria-current': name === current ? 'page' : null }))));
    if (current) await Admin.settingsTabs[current](main);
  };

  // ── tiers ───────────────────────────────────────────────
  const TIER_FIELDS = () => [['name', t('set.tier.name'), 'text', { required: true }], ['code', t('set.tier.code'), 'text', { required: true, hint: t('set.tier.codeHint') }],
    ['rank', t('set.tier.rank'), 'number', { int: true, required: true, hint: t('set.tier.rankHint') }],
    ['metric', t('set.tier.metric'), 'select', { options: ['spend', 'points', 'visits'].map((m) => [m, t(`set.metric.${m}`)]) }],
    ['threshold', t('set.tier.threshold'), 'number'], ['window_days', t('set.tier.window'), 'number', { int: true }],
    ['period_days', t('set.tier.period'), 'number', { int: true }], ['earn_multiplier', t('set.tier.multiplier'), 'number'],
    ['color', t('set.tier.color'), 'color'], ['benefits', t('set.tier.benefits'), 'textarea', { list: true, hint: t('set.onePerLine') }]];

  Admin.settingsTabs.tiers = async (main) => {
    const { tiers } = await Admin.api('/api/v1/admin/tiers');
    const editor = el('div');
    const edit = (tier) => {
      editor.replaceChildren(card(tier ? t('set.tier.edit', { name: tier.name }) : t('set.tier.add'), Admin.simpleForm(TIER_FIELDS(), tier || { color: '#6f4e37', metric: 'spend', window_days: 365, period_days: 365, earn_multiplier: 1 },
        (v) => (tier ? Admin.saveThen('PUT', `/api/v1/admin/tiers/${tier.code}`, compact(v)) : Admin.saveThen('POST', '/api/v1/admin/tiers', compact(v))))));
    };
    main.append(card(t('set.tab.tiers'), tiers.length ? table([
      [t('set.tier.name'), (x) => el('span', { class: 'chips' }, el('span', { style: `width:14px;height:14px;border-radius:4px;background:${x.color}` }), el('b', { text: x.name }))],
      [t('set.tier.rank'), (x) => String(x.rank), 'num'],
      [t('set.tier.rule'), (x) => t('set.tier.ruleText', { metric: t(`set.metric.${x.metric}`), threshold: fmt.num(x.threshold), days: x.window_days })],
      [t('set.tier.multiplier'), (x) => `×${x.earn_multiplier}`, 'num'],
      [t('set.tier.benefits'), (x) => x.benefits.join('、') || '–'],
      ['', (x) => el('button', { class: 'secondary small', type: 'button', text: t('common.edit'), onclick: () => edit(x) })],
    ], tiers, { label: t('set.tab.tiers') }) : Admin.empty(t('set.tier.none'))), el('div', { style: 'height:18px' }), editor);
    edit(null);
  };

  // ── earning rules ───────────────────────────────────────
  Admin.settingsTabs.rule = async (main) => {
    const rule = await Admin.api('/api/v1/admin/earning-rule');
    const fields = [['stamps_per_visit', t('set.rule.stampsPerVisit'), 'number', { int: true }], ['amount_per_stamp', t('set.rule.amountPerStamp'), 'number', { hint: t('set.blankNone') }],
      ['amount_per_point', t('set.rule.amountPerPoint'), 'number', { hint: t('set.blankNone') }], ['min_spend', t('set.rule.minSpend'), 'number'],
      ['daily_cap_stamps', t('set.rule.capStamps'), 'number', { int: true, hint: t('set.blankNone') }], ['daily_cap_points', t('set.rule.capPoints'), 'number', { int: true, hint: t('set.blankNone') }],
      ['card_size', t('set.rule.cardSize'), 'number', { int: true }], ['reward_name', t('set.rule.reward'), 'text'],
      ['stamp_expiry_days', t('set.rule.stampExpiry'), 'number', { int: true, hint: t('set.blankNever') }],
      ['point_expiry_days', t('set.rule.pointExpiry'), 'number', { int: true, hint: t('set.blankNever') }],
      ['repeat_visit_minutes', t('set.rule.repeatMinutes'), 'number', { int: true, hint: t('set.rule.repeatHint') }],
      ['repeat_visit_policy', t('set.rule.repeatPolicy'), 'select', { options: [['warn', t('set.rule.repeat.warn')], ['refuse', t('set.rule.repeat.refuse')]] }]];
    main.append(card(t('set.tab.rule'), el('p', { class: 'muted', style: 'margin-bottom:14px', text: t('set.rule.note') }),
      Admin.simpleForm(fields, rule, (v) => Admin.saveThen('PUT', '/api/v1/admin/earning-rule', { ...v, min_spend: v.min_spend ?? '0' }))));
  };

  // ── coupon templates ────────────────────────────────────
  const value = (c) => ({ amount_off: `NT$${fmt.num(c.value)}`, percent_off: t('set.coupon.percent', { off: 100 - Number(c.value) }), free_item: c.item_name || t('set.coupon.free') }[c.kind]);
  Admin.settingsTabs.coupons = async (main) => {
    const { templates } = await Admin.api('/api/v1/admin/coupon-templates');
    const fields = [['name', t('set.coupon.name'), 'text', { required: true }],
      ['kind', t('set.coupon.kind'), 'select', { options: ['amount_off', 'percent_off', 'free_item'].map((k) => [k, t(`set.coupon.kind.${k}`)]) }],
      ['value', t('set.coupon.value'), 'number', { hint: t('set.coupon.valueHint') }], ['item_name', t('set.coupon.item'), 'text'],
      ['min_spend', t('set.coupon.minSpend'), 'number'], ['valid_days', t('set.coupon.days'), 'number', { int: true }],
      ['total_stock', t('set.coupon.stock'), 'number', { int: true, hint: t('set.blankNone') }], ['per_member_limit', t('set.coupon.perMember'), 'number', { int: true, hint: t('set.blankNone') }],
      ['trigger', t('set.coupon.trigger'), 'select', { options: ['manual', 'campaign', 'welcome', 'birthday', 'stamp_card', 'tier_upgrade'].map((k) => [k, t(`set.trigger.${k}`)]) }]];
    main.append(card(t('set.tab.coupons'), templates.length ? table([
      [t('set.coupon.name'), (c) => el('b', { text: c.name })], [t('set.coupon.value'), value],
      [t('set.coupon.minSpend'), (c) => (Number(c.min_spend) ? fmt.money(c.min_spend) : '–')],
      [t('set.coupon.validity'), (c) => (c.valid_days ? t('set.coupon.daysText', { n: c.valid_days }) : fmt.date(c.valid_until))],
      [t('set.coupon.issued'), (c) => `${fmt.num(c.issued_count)}${c.total_stock != null ? ` / ${fmt.num(c.total_stock)}` : ''}`, 'num'],
      [t('set.coupon.trigger'), (c) => badge(t(`set.trigger.${c.trigger}`), 'info')],
    ], templates, { label: t('set.tab.coupons') }) : Admin.empty(t('set.coupon.none'))), el('div', { style: 'height:18px' }),
    card(t('set.coupon.add'), Admin.simpleForm(fields, { kind: 'amount_off', valid_days: 30, trigger: 'manual' },
      (v) => Admin.saveThen('POST', '/api/v1/admin/coupon-templates', compact(v)))));
  };
})();
