/* 設定, continued: automations (journeys: switch on, edit the text, coupon and timing, see what
 * each sent) and stores with their staff (add a store, add a cashier or manager). */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;

  // ── automations ─────────────────────────────────────────
  // The win-back's NES stages, with the days each means under the brand's purchase cycle.
  function nesTargets(j, cycle, editable) {
    const c = cycle.days;
    const span = { S1: [c, 2 * c], S2: [2 * c, 3 * c], S3: [3 * c, null] };
    const boxes = ['S1', 'S2', 'S3'].map((stage) => el('input', { type: 'checkbox', name: 'target_nes', value: stage,
      checked: j.target_nes.includes(stage), disabled: !editable }));
    const node = el('fieldset', { class: 'reward-side' }, el('legend', { text: t('set.journey.targets') }),
      boxes.map((box) => el('label', { class: 'choice' }, box, t(span[box.value][1] ? 'set.journey.stage' : 'set.journey.stageOver',
        { stage: box.value, from: fmt.num(span[box.value][0]), to: fmt.num(span[box.value][1] || 0) }))),
      el('p', { class: 'muted', style: 'font-size:13px;margin:6px 0 0', text: t(`set.journey.cycle.${cycle.source}`, { days: fmt.num(c), gaps: fmt.num(cycle.gaps), min: fmt.num(cycle.min_gaps),
        median: cycle.median_days == null ? '—' : fmt.num(cycle.median_days) }) }));
    return { node, value: () => boxes.filter((b) => b.checked).map((b) => b.value) };
  }

  /** The text as a member would read it: {key} filled from the sample, {{ }} as braces, anything else as written (models/placeholder.py). */
  function render(text, values) {
    return text.replace(/\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, key) => (m === '{{' ? '{' : m === '}}' ? '}' : key in values ? values[key] : m));
  }

  /** LINE's statistics for the journey's unit: impressions, opens and clicks (with their rates), a
   * count LINE withheld named as "under 20", or why there are none yet (report.line.note). */
  function lineStats(line) {
    const day = (iso) => fmt.date(`${iso}T12:00:00+08:00`);
    const count = (n, rate) => (n == null ? t('set.journey.line.withheld') : rate == null ? fmt.num(n) : t('set.journey.line.rate', { n: fmt.num(n), p: fmt.pct(rate) }));
    const words = line.unique_impressions == null && line.note ? t(`set.journey.line.${line.note}`)
      : t('set.journey.line.fetched', { from: day(line.period.from), to: day(line.period.to), n: fmt.num(line.recipients),
        imp: count(line.impressions), open: count(line.unique_impressions, line.open_rate), click: count(line.unique_clicks, line.click_rate) });
    return el('p', { class: 'muted journey-line', style: 'font-size:13px', 'data-note': line.note || 'fetched', text: words,
      title: line.fetched_at ? t('camp.line.fetched', { when: fmt.time(line.fetched_at) }) : null });
  }

  function journeyCard(j, lookups, editable, cycle, sample) {
    const on = el('input', { type: 'checkbox', checked: j.enabled, disabled: !editable });
    const text = el('textarea', { name: 'text', maxLength: 1000, disabled: !editable, value: j.text });
    const coupon = el('select', { name: 'coupon', disabled: !editable }, el('option', { value: '', text: t('common.none') }),
      lookups.coupon_templates.map((c) => el('option', { value: c.id, text: c.name })));
    coupon.value = j.coupon_template_id == null ? '' : String(j.coupon_template_id);
    const usesDays = ['birthday', 'tier_expiring', 'coupon_expiring'].includes(j.kind);
    const timing = el('input', { type: 'number', min: 0, step: 1, disabled: !editable, value: usesDays ? j.days_before : j.delay_minutes });
    const targets = j.kind === 'winback' ? nesTargets(j, cycle, editable) : null;
    const bubble = el('div', { class: 'bubble', 'data-preview': j.kind });
    const couponName = () => (coupon.value ? coupon.selectedOptions[0].textContent : t('journey.sampleCoupon'));
    const drawPreview = () => { bubble.textContent = render(text.value, { ...sample, coupon: couponName() }) || t('camp.preview.empty'); };
    text.addEventListener('input', drawPreview);
    coupon.addEventListener('change', drawPreview);
    drawPreview();
    const preview = el('div', { class: 'journey-preview', 'aria-label': t('journey.preview'), role: 'group' },
      el('span', { class: 'hint', text: t('journey.previewAs', { name: sample.name }) }), el('div', { class: 'chat mini' }, el('div', { class: 'msg' }, bubble)));
    const r = j.report;
    const skipped = Object.values(r.skipped).reduce((a, b) => a + b, 0);
    const save = (ev) => {
      ev.preventDefault();
      const body = { enabled: on.checked, text: text.value, coupon_template_id: coupon.value ? Number(coupon.value) : null,
        [usesDays ? 'days_before' : 'delay_minutes']: Number(timing.value) || 0, ...(targets ? { target_nes: targets.value() } : {}) };
      Admin.saveThen('PUT', `/api/v1/admin/journeys/${j.kind}`, body, t(on.checked ? 'set.journey.savedOn' : 'set.journey.savedOff', { name: t(`set.journey.${j.kind}`) }));
    };
    return el('section', { class: 'card', 'aria-label': t(`set.journey.${j.kind}`) },
      el('h2', {}, el('span', {}, t(`set.journey.${j.kind}`), el('span', { class: 'sub' }, j.enabled ? badge(t('common.on'), 'ok') : badge(t('common.off'))))),
      el('p', { class: 'muted', style: 'font-size:13px;margin:-6px 0 10px', text: t(`set.journey.${j.kind}.what`) }),
      j.service ? el('p', { class: 'muted', style: 'font-size:13px;margin:-6px 0 10px', text: t('set.journey.service') }) : null,
      el('form', { class: 'stack', onsubmit: save },
        el('label', { class: 'choice' }, on, t('set.journey.on')),
        el('label', { class: 'field' }, t('set.journey.text'), text, el('span', { class: 'hint', text: t('set.journey.placeholders') })), preview,
        el('div', { class: 'row' }, el('label', { class: 'field' }, t('set.journey.coupon'), coupon),
          el('label', { class: 'field' }, usesDays ? t('set.journey.daysBefore') : t('set.journey.delay'), timing)),
        targets ? targets.node : null,
        el('p', { class: 'muted', style: 'font-size:13px', text: t('set.journey.report', { triggered: fmt.num(r.triggered), sent: fmt.num(r.sent), skipped: fmt.num(skipped), revenue: fmt.money(r.revenue_within_days) }) }),
        r.line ? lineStats(r.line) : null,
        editable ? el('div', {}, el('button', { class: 'primary', type: 'submit', text: t('common.save') })) : null));
  }

  Admin.settingsTabs.journeys = async (main) => {
    const [{ journeys, purchase_cycle: cycle }, lookups, newest] = await Promise.all([Admin.api('/api/v1/admin/journeys'), Admin.lookups(true),
      Admin.api('/api/v1/admin/members?per_page=1').catch(() => ({ members: [] }))]);
    // the preview's member: the newest one (a real name and tier), or a made-up one before anyone joined
    const m = newest.members[0];
    const topTier = lookups.tiers.length ? lookups.tiers[lookups.tiers.length - 1].name : t('journey.sampleTier');
    const sample = { name: (m && m.name) || t('journey.sampleName'), brand: lookups.brand.name, tier: (m && m.tier) || topTier,
      reward: lookups.card.reward || t('journey.sampleReward') };
    main.append(el('div', { class: 'grid g2' }, journeys.map((j) => journeyCard(j, lookups, Admin.can('campaigns:manage'), cycle, sample))));
  };

  // ── stores and staff ────────────────────────────────────
  /** What 門市據點 shows in chat (PUT /api/v1/admin/stores/CODE): an emptied field clears it. */
  function storeInfo(store) {
    const form = Admin.simpleForm([
      ['name', t('set.store.rename'), 'text', { required: true }], ['address', t('set.store.address'), 'text'],
      ['hours', t('set.store.hours'), 'text', { hint: t('set.store.hoursHint') }], ['phone', t('set.store.phone'), 'tel'],
      ['latitude', t('set.store.latitude'), 'number', { hint: t('set.store.latLngHint') }], ['longitude', t('set.store.longitude'), 'number'],
      ['map_url', t('set.store.mapUrl'), 'url', { hint: t('set.store.mapUrlHint') }],
    ], store, (v, f) => Admin.send(f, 'PUT', `/api/v1/admin/stores/${encodeURIComponent(store.code)}`, v));
    return el('details', { style: 'margin-bottom:12px' }, el('summary', { style: 'cursor:pointer;font-weight:600', text: t('set.store.info') }),
      el('div', { style: 'margin-top:12px' }, form));
  }

  async function staffBox(store) {
    const { staff } = await Admin.api(`/api/v1/admin/stores/${encodeURIComponent(store.code)}/staff`);
    const form = Admin.simpleForm([
      ['username', t('set.staff.username'), 'text', { required: true }], ['name', t('set.staff.name'), 'text'],
      ['role', t('set.staff.role'), 'select', { options: [['cashier', t('set.staff.cashier')], ['manager', t('set.staff.manager')]] }],
      ['password', t('set.staff.password'), 'password', { required: true, hint: t('set.staff.passwordHint') }],
    ], {}, (v) => Admin.saveThen('POST', `/api/v1/admin/stores/${encodeURIComponent(store.code)}/staff`, v, t('set.staff.added', { name: v.username })), t('set.staff.add'));
    return el('section', { class: 'card', 'aria-label': store.name },
      el('h2', {}, el('span', {}, store.name, el('span', { class: 'sub', text: store.code }))),
      storeInfo(store),
      staff.length ? table([
        [t('set.staff.name'), (s) => s.name], [t('set.staff.username'), (s) => s.username],
        [t('set.staff.role'), (s) => badge(t(`set.staff.${s.role}`), s.role === 'manager' ? 'warn' : '')],
        [t('members.status'), (s) => (s.active ? badge(t('common.on'), 'ok') : badge(t('common.off'), 'bad'))],
        ['', (s) => Admin.staffActions(store, s)],
      ], staff, { label: t('set.staff.of', { store: store.name }) }) : Admin.empty(t('set.staff.none')),
      el('details', { style: 'margin-top:12px' }, el('summary', { style: 'cursor:pointer;font-weight:600', text: t('set.staff.add') }), el('div', { style: 'margin-top:12px' }, form)));
  }

  Admin.settingsTabs.stores = async (main) => {
    const { stores } = await Admin.api('/api/v1/admin/stores');
    main.append(card(t('set.store.add'), Admin.simpleForm([['code', t('set.store.code'), 'text', { required: true, hint: t('set.store.codeHint') }],
      ['name', t('set.store.name'), 'text', { required: true }]], {}, (v) => Admin.saveThen('POST', '/api/v1/admin/stores', v), t('set.store.add'))));
    const boxes = await Promise.all(stores.map(staffBox));
    main.append(el('div', { style: 'height:18px' }), stores.length ? el('div', { class: 'grid g2' }, boxes) : card(null, Admin.empty(t('set.store.none'))));
  };
})();
