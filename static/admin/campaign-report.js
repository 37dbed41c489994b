/* 推播活動報表: one campaign's progress while it sends (polled every 1.5 s while sending, 10 s
 * while scheduled), then its report: delivery, why members were skipped, coupons, and purchases
 * of the target against the holdout with the uplift between them (GET /api/v1/admin/campaigns/<id>), and for a campaign
 * sent with tracked links, who clicked which link (GET …/clicks). */
'use strict';
(() => {
  const { el, t, fmt, card, charts, table } = Admin;
  const LIVE = { sending: 1500, scheduled: 10000 };

  function kpi(label, value, id, accent = '#6f4e37') {
    return el('div', { class: 'kpi', style: `--accent:${accent}` }, el('div', { class: 'label', text: label }), el('div', { class: 'value', id, text: value }));
  }

  function progressCard(c, r) {
    const skipped = Object.values(r.skipped).reduce((a, b) => a + b, 0);
    const done = r.sent + r.failed + skipped;
    const share = r.targeted ? Math.round((done / r.targeted) * 100) : (c.status === 'sent' ? 100 : 0);
    const text = c.status === 'scheduled' ? t('camp.scheduledFor', { when: fmt.time(c.scheduled_at) })
      : c.status === 'draft' ? t('camp.status.draft') : t('camp.progress', { done: fmt.num(done), total: fmt.num(r.targeted) });
    return card(t('camp.delivery'), el('div', { class: 'progress', role: 'progressbar', 'aria-valuenow': share, 'aria-valuemin': 0, 'aria-valuemax': 100 },
      el('div', { style: `width:${share}%` })), el('p', { id: 'progressText', style: 'margin-top:8px', text }));
  }

  function deliveryChart(r) {
    const parts = [[t('camp.sent'), r.sent, '#06c755'], [t('camp.failed'), r.failed, '#b3261e'], [t('camp.pending'), r.pending, '#9c8b7a'],
      [t('camp.heldOut'), r.held_out, '#3d7bd9'], ...Object.entries(r.skipped).map(([why, n]) => [t(`camp.skip.${why}`), n, '#e0a030'])]
      .filter(([, n]) => n > 0);
    return parts.length ? charts.doughnut(parts.map((p) => p[0]), parts.map((p) => p[1]), { label: t('camp.delivery'), colours: parts.map((p) => p[2]) })
      : Admin.empty(t('camp.noRecipients'));
  }

  function outcomeCard(r) {
    const groups = [[t('camp.target'), r.target], [t('camp.holdoutGroup'), r.holdout]];
    const uplift = r.uplift.conversion_points == null ? t('camp.noHoldout')
      : t('camp.uplift', { points: r.uplift.conversion_points, money: fmt.money(r.uplift.revenue_per_member) });
    return card(el('span', {}, t('camp.outcome'), el('span', { class: 'sub', text: t('camp.window', { days: r.window_days }) })),
      el('div', { class: 'grid g2' },
        el('div', {}, el('h3', { class: 'muted', style: 'font-size:13px;margin-bottom:6px', text: t('camp.conversion') }),
          charts.bars(groups.map((g) => g[0]), groups.map((g) => g[1].conversion * 100), {
          label: t('camp.conversion'), colours: ['#06c755', '#9c8b7a'], size: 'short',
          format: (v, i) => t('camp.conversionTip', { p: v.toFixed(1), buyers: groups[i][1].buyers, members: groups[i][1].members }) })),
        el('div', {}, el('h3', { class: 'muted', style: 'font-size:13px;margin-bottom:6px', text: t('camp.revenuePer') }),
          charts.bars(groups.map((g) => g[0]), groups.map((g) => Number(g[1].revenue_per_member)), {
            label: t('camp.revenuePer'), colours: ['#6f4e37', '#c9b8a8'], size: 'short', format: (v) => fmt.money(v) }))),
      el('p', { class: 'muted', style: 'margin-top:10px', id: 'uplift', text: uplift }));
  }

  /** targeted → sent → opened → clicked (LINE's counts per unit, null under 20 users) → clicked per member and
   * bought after a click (the bot's own redirect, for a campaign sent with tracked links) → bought, and the blocks. */
  function funnelCard(c, r) {
    const line = r.line;
    const tracked = r.clicks && r.clicks.tracked ? r.clicks : null;
    const steps = [[t('camp.targeted'), r.targeted, '#6f4e37'], [t('camp.sent'), r.sent, '#06c755'],
      [t('camp.opened'), line.unique_impressions, '#3d7bd9'], [t('camp.clicked'), line.unique_clicks, '#e0a030'],
      [t('camp.clickedTracked'), tracked ? tracked.unique_clickers : null, '#c77d00'],
      [t('camp.boughtAfterClick'), tracked ? tracked.after_click.buyers : null, '#b0436a'],
      [t('camp.bought'), r.target.buyers, '#d0587e']].filter(([, n]) => n != null);
    const note = line.note ? t(`camp.line.${line.note}`) : t('camp.line.fetched', { when: fmt.time(line.fetched_at) });
    const blocks = r.blocks.rate == null ? t('camp.blocksNone')
      : t('camp.blocks', { members: fmt.num(r.blocks.members), rate: (r.blocks.rate * 100).toFixed(1) });
    return card(t('camp.funnel'), charts.bars(steps.map((s) => s[0]), steps.map((s) => s[1]), {
      label: t('camp.funnel'), colours: steps.map((s) => s[2]), size: 'short', format: (v) => fmt.num(v) }),
    el('p', { class: 'muted', style: 'margin-top:10px', id: 'lineNote', text: note }),
    el('p', { class: 'muted', id: 'blocks', text: blocks }),
    el('button', { class: 'secondary', type: 'button', id: 'funnelCsv', text: t('camp.funnelCsv'), onclick: () => downloadFunnel(c.id) }));
  }

  /** Per link (the bot's redirect): clicks, unique clickers, click-through over sent; then who clicked, first clickers first. */
  async function clicksCard(c, r) {
    const k = r.clicks;
    const links = table([[t('camp.link'), (l) => el('span', { title: l.url, text: l.label ? `${l.label} · ${l.url}` : l.url })],
      [t('camp.linkClicks'), (l) => fmt.num(l.clicks), 'num'], [t('camp.linkUnique'), (l) => fmt.num(l.unique_clickers), 'num'],
      [t('camp.linkCtr'), (l) => fmt.pct(l.click_rate), 'num']], k.links, { label: t('camp.links') });
    const who = await Admin.api(`/api/v1/admin/campaigns/${c.id}/clicks?per_page=50&days=${r.window_days}`);
    const people = who.clickers.length ? table([
      [t('camp.clicker'), (p) => Admin.link(`/admin/members/${p.member_no}`, p.display_name || p.member_no)],
      [t('camp.firstClick'), (p) => fmt.time(p.first_click_at)], [t('camp.linkClicks'), (p) => fmt.num(p.clicks), 'num'],
      [t('camp.boughtAfter'), (p) => fmt.money(p.bought_after_click), 'num']], who.clickers, { label: t('camp.clickers') })
      : Admin.empty(t('camp.noClicks'));
    const after = t('camp.afterClick', { clickers: fmt.num(k.unique_clickers), rate: fmt.pct(k.click_rate), buyers: fmt.num(k.after_click.buyers),
      revenue: fmt.money(k.after_click.revenue), redeemed: fmt.num(k.after_click.coupons_redeemed) });
    return card(t('camp.links'), el('p', { class: 'muted', id: 'clicksSummary', text: after }), links,
      el('h3', { class: 'muted', style: 'font-size:13px;margin:12px 0 6px', text: who.total > who.clickers.length
        ? t('camp.clickersSome', { shown: who.clickers.length, total: fmt.num(who.total) }) : t('camp.clickers') }), people);
  }

  async function downloadFunnel(id) {
    try {
      const resp = await Admin.api(`/api/v1/admin/campaigns/${id}/report.csv`, { raw: true });
      const url = URL.createObjectURL(await resp.blob());
      const a = el('a', { href: url, download: `campaign-${id}-funnel.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) { Admin.fail(err); }
  }

  async function cancel(id) {
    if (!(await Admin.ask(t('camp.cancelTitle'), el('p', { text: t('camp.cancelText') }), t('camp.cancelGo'), { danger: true }))) return;
    try { await Admin.api(`/api/v1/admin/campaigns/${id}/cancel`, { method: 'POST' }); Admin.refresh(); } catch (err) { Admin.fail(err); }
  }

  Admin.pages.campaign = async (main, [id]) => {
    const c = await Admin.api(`/api/v1/admin/campaigns/${id}`);
    const r = c.report;
    const cancellable = ['draft', 'scheduled'].includes(c.status) && Admin.can('campaigns:manage');
    main.append(Admin.pageHead(c.name, t(`camp.kind.${c.kind}`), el('span', { id: 'campaignStatus' }, Admin.campaignStatus(c.status)),
      cancellable ? el('button', { class: 'danger', type: 'button', text: t('camp.cancelGo'), onclick: () => cancel(c.id) }) : null,
      Admin.link('/admin/campaigns', t('camp.back'), { class: 'btn secondary' })));
    const coupons = r.coupons;
    const clicks = r.clicks && r.clicks.tracked ? await clicksCard(c, r) : null;  // before any chart: a chart is drawn once it is in the page
    const skipped = Object.values(r.skipped).reduce((a, b) => a + b, 0);
    main.append(el('div', { class: 'kpis' },
      kpi(t('camp.targeted'), fmt.num(r.targeted), 'kpiTargeted'), kpi(t('camp.sent'), fmt.num(r.sent), 'kpiSent', '#06c755'),
      kpi(t('camp.heldOut'), fmt.num(r.held_out), 'kpiHeld', '#3d7bd9'), kpi(t('camp.failed'), fmt.num(r.failed), 'kpiFailed', '#b3261e'),
      kpi(t('camp.skippedAll'), fmt.num(skipped), 'kpiSkipped', '#e0a030'),
      kpi(t('camp.couponsClaimed'), `${fmt.num(coupons.claimed)} / ${fmt.num(coupons.redeemed)}`, 'kpiCoupons', '#d0587e')));
    main.append(el('div', { class: 'split' },
      el('div', { class: 'stack' }, progressCard(c, r), card(t('camp.breakdown'), deliveryChart(r)), funnelCard(c, r),
        clicks, outcomeCard(r),
        coupons.claimed ? card(t('camp.coupons'), el('p', { text: t('camp.couponText', { claimed: coupons.claimed, redeemed: coupons.redeemed, revenue: fmt.money(coupons.revenue) }) })) : null),
      el('div', { class: 'stack' }, card(t('camp.preview.title'), Admin.bubble.phone(c.kind, c.content)),
        card(t('camp.details'), el('dl', { class: 'facts' }, ...[
          [t('camp.segment'), c.rule ? Admin.describeRule(c.rule, await Admin.lookups()) : t('camp.everyone')],
          [t('camp.holdout'), `${c.holdout_pct}%`], [t('camp.created'), fmt.time(c.created_at)],
          [t('camp.started'), fmt.time(c.started_at)], [t('camp.finished'), fmt.time(c.finished_at)],
          [t('camp.statsAt'), r.segments && r.segments.computed_at  // the stats its rule selected on
            ? t('camp.statsAge', { at: fmt.time(r.segments.computed_at), min: fmt.num(Math.round(r.segments.age_seconds / 60)) }) : '–']]
          .flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]))))));
    if (LIVE[c.status]) {
      Admin.every(LIVE[c.status], async () => {
        try {
          const now = await Admin.api(`/api/v1/admin/campaigns/${id}`);
          if (now.status !== c.status || now.report.sent !== r.sent || now.report.failed !== r.failed) Admin.refresh();
        } catch (err) { /* the next poll tries again */ }
      });
    }
  };
})();
