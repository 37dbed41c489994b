/* 儀表板: GET /api/v1/admin/dashboard for a period (kept in the URL: ?from=…&to=…), as KPI tiles
 * and charts: trend, blocks caused by campaigns (dashboard-blocks.js), gender, age, visit frequency, the RFM grid (with rfm-settings.js: when it was
 * computed, the rule for "high", the action hints), the NES funnel and top stores. */
'use strict';
(() => {
  const { el, t, fmt, card, charts } = Admin;
  const RFM_COLUMNS = [['價值', 'rfm.col.value'], ['保持', 'rfm.col.keep'], ['發展', 'rfm.col.develop'], ['挽留', 'rfm.col.retain']];
  const RFM_ROWS = [['重要', 'rfm.row.high'], ['一般', 'rfm.row.low']];
  const PRESETS = [7, 30, 90];
  const AGES = ['<20', '20–29', '30–39', '40–49', '50–59', '60+', 'unknown'];
  const VISITS = ['0', '1', '2–3', '4–5', '6+'];
  const NES = ['N', 'E0', 'S1', 'S2', 'S3'];
  const inOrder = (counts, keys) => keys.filter((k) => k in counts).map((k) => [k, counts[k]]); // JSON keys arrive sorted

  /** The period asked for in the URL; without one the server picks its default (the last 30
   * days to its today) and says which it chose in `period`. */
  function asked() {
    const q = new URLSearchParams(location.search);
    const p = new URLSearchParams();
    for (const k of ['from', 'to']) if (q.get(k)) p.set(k, q.get(k));
    return p.toString() ? `?${p}` : '';
  }
  const span = ({ from, to }) => ({ from, to, days: Math.round((new Date(to) - new Date(from)) / 86400000) + 1 });

  function periodPicker(p) {
    const apply = (from, to) => Admin.go(`/admin/dashboard?from=${from}&to=${to}`);
    const fromIn = el('input', { type: 'date', value: p.from, 'aria-label': t('dash.from') });
    const toIn = el('input', { type: 'date', value: p.to, 'aria-label': t('dash.to') });
    const presets = el('div', { class: 'segmented', role: 'group', 'aria-label': t('dash.period') }, PRESETS.map((n) => el('button', {
      type: 'button', text: t('dash.lastDays', { n }), 'aria-pressed': String(p.to === Admin.today() && p.days === n),
      onclick: () => apply(Admin.taipeiDay(-(n - 1)), Admin.today()),
    })));
    const custom = el('form', { onsubmit: (ev) => { ev.preventDefault(); apply(fromIn.value, toIn.value); } },
      fromIn, el('span', { class: 'muted', text: '–' }), toIn, el('button', { class: 'secondary', type: 'submit', text: t('dash.apply') }));
    return el('div', { class: 'period' }, presets, custom);
  }

  /** A KPI tile; `def` is the KPI's definition, shown on hover (title) and to a keyboard or screen
   * reader through the focusable ⓘ beside the label. */
  function kpi(label, value, note, accent, def) {
    return el('div', { class: 'kpi', style: `--accent:${accent}`, title: def },
      el('div', { class: 'label' }, label, el('span', { class: 'kpi-def', tabindex: '0', role: 'note', 'aria-label': def, title: def, text: 'ⓘ' })),
      el('div', { class: 'value', text: value }), el('div', { class: 'note', text: note || '\u00a0' }));
  }

  function rfmGrid(counts, hints) {
    const max = Math.max(1, ...Object.values(counts));
    const cells = [el('div'), ...RFM_COLUMNS.map(([, key]) => el('div', { class: 'axis', text: t(key) }))];
    for (const [row, rowKey] of RFM_ROWS) {
      cells.push(el('div', { class: 'axis', text: t(rowKey) }));
      for (const [col] of RFM_COLUMNS) {
        const name = row + col;
        const n = counts[name] || 0;
        const share = n / max;
        const bg = `color-mix(in srgb, #6f4e37 ${Math.round(8 + share * 80)}%, #f6efe8)`;
        cells.push(el('div', { class: `cell${share > 0.5 ? ' dark' : ''}`, style: `background:${bg}`, 'data-class': name, title: `${t(`rfm.hint.${name}`)}\n${t('rfm.action')}：${hints[name] || ''}` },
          el('span', { text: t(`rfm.${name}`) }), el('b', { text: fmt.num(n) })));
      }
    }
    return el('div', { class: 'rfm', role: 'img', 'aria-label': t('dash.rfm') }, cells);
  }

  async function recompute(btn) {
    btn.disabled = true;
    try {
      await Admin.api('/api/v1/admin/segments/recompute', { method: 'POST' });
      Admin.toast(t('dash.recomputed'));
      Admin.refresh();
    } catch (err) { Admin.fail(err); btn.disabled = false; }
  }

  Admin.pages.dashboard = async (main) => {
    const [d, rfmSettings] = await Promise.all([Admin.api(`/api/v1/admin/dashboard${asked()}`), Admin.api('/api/v1/admin/segments/settings')]);
    const p = span(d.period);
    const m = d.members;
    const sub = `${fmt.date(`${d.period.from}T12:00:00+08:00`)} – ${fmt.date(`${d.period.to}T12:00:00+08:00`)}`;
    main.append(Admin.pageHead(t('dash.title'), sub, periodPicker(p)));
    main.append(el('div', { class: 'kpis' },
      kpi(t('dash.total'), fmt.num(m.total), m.premembers ? t('dash.friendsPre', { n: fmt.num(m.friends), p: fmt.num(m.premembers) }) : t('dash.friends', { n: fmt.num(m.friends) }), '#6f4e37', t('dash.def.total')),
      kpi(t('dash.reachable'), fmt.num(m.reachable), m.total ? t('dash.ofMembers', { p: fmt.pct(m.reachable / m.total) }) : '', '#06c755', t('dash.def.reachable')),
      kpi(t('dash.new'), fmt.num(m.new), t('dash.inPeriod'), '#3d7bd9', t('dash.def.new')),
      kpi(t('dash.newReachable'), fmt.num(m.new_reachable), m.new ? t('dash.ofNew', { p: fmt.pct(m.new_reachable / m.new) }) : t('dash.inPeriod'), '#1f9d6a', t('dash.def.newReachable')),
      kpi(t('dash.regulars'), fmt.num(d.regulars), t('dash.visitors', { n: fmt.num(d.visitors) }), '#e0a030', t('dash.def.regulars')),
      kpi(t('dash.returning'), fmt.pct(d.returning_rate), t('dash.returningNote', { n: fmt.num(d.returning), v: fmt.num(d.visitors) }), '#2f8f9d', t('dash.def.returning')),
      kpi(t('dash.blockRate'), fmt.pct(d.block_rate), t('dash.blocks', { n: fmt.num(d.blockers_in_period), f: fmt.num(d.friends_in_period), b: fmt.num(d.blocked_now) }), '#d0587e', t('dash.def.blockRate'))));

    const days = d.trend.map((r) => r.day.slice(5).replace('-', '/'));
    main.append(el('div', { class: 'grid', style: 'margin-bottom:18px' }, card(el('span', {}, t('dash.trend'), el('span', { class: 'sub', text: t('dash.revenue', { v: fmt.money(d.revenue) }) })),
      charts.trend(days, [
        { label: t('dash.series.visits'), data: d.trend.map((r) => r.visits), colour: '#6f4e37', bar: true },
        { label: t('dash.series.new'), data: d.trend.map((r) => r.new_members), colour: '#3d7bd9', bar: true },
        { label: t('dash.series.revenue'), data: d.trend.map((r) => Number(r.revenue)), colour: '#06c755', right: true, money: true },
      ], { label: t('dash.trend') }))));
    main.append(el('div', { class: 'grid', style: 'margin-bottom:18px' }, Admin.campaignBlocksCard(d)));

    const genders = Object.entries(d.gender).sort((a, b) => b[1] - a[1]);
    const ages = inOrder(d.age, AGES);
    const freq = inOrder(d.visit_frequency, VISITS);
    main.append(el('div', { class: 'grid g3', style: 'margin-bottom:18px' },
      card(t('dash.gender'), genders.length ? charts.doughnut(genders.map(([g]) => fmt.gender(g)), genders.map(([, n]) => n), { label: t('dash.gender') }) : Admin.empty(t('dash.noMembers'))),
      card(t('dash.age'), charts.bars(ages.map(([a]) => (a === 'unknown' ? t('common.unknown') : a)), ages.map(([, n]) => n), { label: t('dash.age'), colours: '#2f8f9d' })),
      card(el('span', {}, t('dash.frequency'), el('span', { class: 'sub', text: t('dash.frequencyNote') })),
        charts.bars(freq.map(([k]) => t('dash.times', { k })), freq.map(([, n]) => n), { label: t('dash.frequency'), colours: '#e0a030' }))));

    const nes = inOrder(d.nes, NES);
    const recomputeBtn = Admin.can('campaigns:manage') ? el('button', { class: 'secondary small', type: 'button', text: t('dash.recompute'), onclick: (ev) => recompute(ev.currentTarget) }) : null;
    const scored = Object.values(d.rfm).reduce((a, b) => a + b, 0) + nes.reduce((a, [, n]) => a + n, 0);
    main.append(el('div', { class: 'grid g2', style: 'margin-bottom:18px' },
      card(el('span', {}, t('dash.rfm'), el('span', { class: 'sub' }, recomputeBtn)), rfmGrid(d.rfm, d.segments.hints),
        scored ? null : el('p', { class: 'muted', style: 'margin-top:10px;font-size:13px', text: t('dash.rfmEmpty') }),
        Admin.rfmDetails(d.segments, rfmSettings)),
      card(t('dash.nes'), charts.bars(nes.map(([k]) => t(`nes.${k}`)), nes.map(([, n]) => n),
        { label: t('dash.nes'), horizontal: true, colours: nes.map(([k]) => charts.NES_COLOURS[k]) }))));

    const stores = d.top_stores;
    main.append(card(t('dash.stores'), stores.length
      ? charts.bars(stores.map((s) => s.name), stores.map((s) => s.visits), {
        label: t('dash.stores'), horizontal: true, colours: '#6f4e37', size: stores.length < 4 ? 'short' : '',
        format: (v, i) => t('dash.storeTip', { visits: fmt.num(v), revenue: fmt.money(stores[i].revenue), members: fmt.num(stores[i].members) }),
      })
      : Admin.empty(t('dash.noVisits'))));
  };
})();
