/* 儀表板: blocks caused by campaigns over the period (the dashboard's `campaign_blocks`): each
 * campaign's block rate by the day it was sent (members who blocked within 24 h of its message ÷
 * members it reached that day), the period's unfollows per week with the share campaigns caused,
 * and the same figures as a table. */
'use strict';
(() => {
  const { el, t, fmt, card, charts } = Admin;
  const short = (day) => day.slice(5).replace('-', '/');

  function rateChart(b, days) {
    const series = b.campaigns.map((c) => ({ label: c.name, data: days.map((day) => { const hit = c.days.find((x) => x.day === day); return hit ? hit.rate : null; }) }));
    const tip = (ci, di) => {
      const hit = b.campaigns[ci].days.find((x) => x.day === days[di]);
      return hit ? t(hit.settled ? 'dash.cb.tip' : 'dash.cb.tipOpen', { blocked: fmt.num(hit.blocked), sent: fmt.num(hit.sent) }) : '';
    };
    return charts.rates(days.map(short), series, { label: t('dash.cb.rates'), tip });
  }

  function weekChart(b) {
    const weeks = b.weeks;
    return charts.stacked(weeks.map((w) => t('dash.cb.week', { from: short(w.from), to: short(w.to) })), [
      { label: t('dash.cb.byCampaign'), data: weeks.map((w) => w.attributed), colour: '#d0587e' },
      { label: t('dash.cb.other'), data: weeks.map((w) => w.unfollows - w.attributed), colour: '#c9b8a8' },
    ], { label: t('dash.cb.weeks'), format: (i) => (weeks[i].share == null ? t('dash.cb.noUnfollows') : t('dash.cb.share', { p: fmt.pct(weeks[i].share) })) });
  }

  function rows(b) {
    const list = b.campaigns.flatMap((c) => c.days.map((d) => ({ ...d, name: c.name, id: c.id })));
    return Admin.table([
      [t('dash.cb.campaign'), (r) => Admin.link(`/admin/campaigns/${r.id}`, r.name)], [t('dash.cb.sentOn'), (r) => fmt.date(`${r.day}T12:00:00+08:00`)],
      [t('dash.cb.sent'), (r) => fmt.num(r.sent), 'num'], [t('dash.cb.blocked'), (r) => fmt.num(r.blocked), 'num'],
      [t('dash.cb.rate'), (r) => (r.settled ? fmt.pct(r.rate) : t('dash.cb.open', { p: fmt.pct(r.rate) })), 'num'],
    ], list, { label: t('dash.cb.title') });
  }

  /** The card, or an empty note when the period had no campaign and no unfollow (no canvas then). */
  Admin.campaignBlocksCard = (d) => {
    const b = d.campaign_blocks;
    const unfollows = b.weeks.reduce((a, w) => a + w.unfollows, 0);
    const title = el('span', {}, t('dash.cb.title'), el('span', { class: 'sub', text: t('dash.cb.sub', { h: b.window_hours }) }));
    if (!b.campaigns.length && !unfollows) return card(title, Admin.empty(t('dash.cb.none')));
    const days = d.trend.map((r) => r.day);
    return el('section', { class: 'card', id: 'campaignBlocks', 'aria-label': t('dash.cb.title') },
      el('h2', {}, title),
      el('div', { class: 'grid g2' },
        el('div', {}, el('h3', { class: 'muted', style: 'font-size:13px;margin-bottom:6px', text: t('dash.cb.rates') }),
          b.campaigns.length ? rateChart(b, days) : Admin.empty(t('dash.cb.noCampaigns'))),
        el('div', {}, el('h3', { class: 'muted', style: 'font-size:13px;margin-bottom:6px', text: t('dash.cb.weeks') }), weekChart(b))),
      b.campaigns.length ? el('div', { style: 'margin-top:12px' }, rows(b)) : null);
  };
})();
