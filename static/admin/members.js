/* 會員: search, filter (tier, reachable, last visit), sort and export the list (GET /api/v1/admin/members
 * and members.csv; ?q=&page=&sort=&tier=&reach=&within= kept in the URL), and one member's
 * page: profile, tier, balances, RFM/NES, tags (add, remove), a manager's balance adjustment with
 * its reason, coupons, the ledger, the messages the member received, and their data rights
 * (members-privacy.js). An erased member's page shows what stays, with nothing to change. */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;
  const PER_PAGE = 20;
  const STATUS_KIND = { issued: 'ok', redeemed: 'info', expired: '', voided: 'bad', sent: 'ok', pending: 'warn', failed: 'bad', skipped: '' };
  const label = (prefix, value) => (I18N.has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value);
  /** What a message was for, in words: journey:KIND names its automation; anything unknown is "other", never a raw code. */
  function purpose(p) {
    const [head, kind] = String(p).split(':');
    if (head === 'journey') return t('purpose.journey', { name: I18N.has(`set.journey.${kind}`) ? t(`set.journey.${kind}`) : kind });
    if (head === 'campaign') return t('purpose.campaign');
    return I18N.has(`purpose.${p}`) ? t(`purpose.${p}`) : t('purpose.other');
  }

  const SORTABLE = { name: 'name', tier: 'tier', points: 'points', stamps: 'stamps', lastVisit: 'last_visit_at', joined: 'joined_at' };

  /** The list's filters as one segment rule for ?rule= (null: everyone). */
  function filterRule(f) {
    const parts = [];
    if (f.tier) parts.push({ field: 'tier', op: 'eq', value: f.tier });
    if (f.reach) parts.push({ field: 'reachable', op: 'eq', value: f.reach === 'yes' });
    if (f.within) parts.push({ field: 'last_visit_within_days', op: 'lte', value: Number(f.within) });
    return parts.length ? (parts.length === 1 ? parts[0] : { and: parts }) : null;
  }

  async function exportList(query) {
    try {
      const resp = await Admin.api(`/api/v1/admin/members.csv?${query}`, { raw: true });
      const url = URL.createObjectURL(await resp.blob());
      const a = el('a', { href: url, download: 'members.csv' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) { Admin.fail(err); }
  }

  Admin.pages.members = async (main) => {
    const q = new URLSearchParams(location.search);
    const query = q.get('q') || '';
    const page = Math.max(1, Number(q.get('page')) || 1);
    const sort = q.get('sort') || '-joined_at';
    const filters = { tier: q.get('tier') || '', reach: q.get('reach') || '', within: q.get('within') || '' };
    const lookups = await Admin.lookups();
    const rule = filterRule(filters);
    const params = new URLSearchParams({ q: query, sort });
    if (rule) params.set('rule', JSON.stringify(rule));
    const data = await Admin.api(`/api/v1/admin/members?${params}&page=${page}&per_page=${PER_PAGE}`);
    const input = el('input', { type: 'search', name: 'q', value: query, placeholder: t('members.searchHint'), 'aria-label': t('members.search') });
    const pick = (name, value, options) => el('select', { name, 'aria-label': t(`members.filter.${name}`), onchange: () => go(1) },
      options.map(([v, text]) => el('option', { value: v, text, selected: v === value })));
    const tierSel = pick('tier', filters.tier, [['', t('members.filter.anyTier')], ...lookups.tiers.map((x) => [x.code, x.name])]);
    const reachSel = pick('reach', filters.reach, [['', t('members.filter.anyReach')], ['yes', t('members.canReach')], ['no', t('members.blocked')]]);
    const withinSel = pick('within', filters.within, [['', t('members.filter.anyVisit')], ...[7, 30, 90].map((n) => [String(n), t('members.filter.withinDays', { n })])]);
    const link = (p, next = {}) => {
      const u = new URLSearchParams({ q: next.q ?? input.value.trim(), page: p, sort: next.sort ?? sort });
      for (const [k, sel] of [['tier', tierSel], ['reach', reachSel], ['within', withinSel]]) if (sel.value) u.set(k, sel.value);
      return `/admin/members?${u}`;
    };
    const go = (p, next) => Admin.go(link(p, next));
    main.append(Admin.pageHead(t('members.title'), t('members.count', { n: fmt.num(data.total) }),
      el('button', { class: 'secondary shrink', type: 'button', id: 'exportMembers', text: t('members.export'), onclick: () => exportList(params) })));
    const form = el('form', { class: 'row members-filter', role: 'search', onsubmit: (ev) => { ev.preventDefault(); go(1); } },
      input, tierSel, reachSel, withinSel, el('button', { class: 'primary shrink', type: 'submit', text: t('members.search') }));
    /** A heading that sorts: first click the biggest (or newest) first, again the other way. */
    const sortBy = (key) => {
      const col = SORTABLE[key];
      const dir = sort === `-${col}` ? 'descending' : sort === col ? 'ascending' : null;
      const next = sort === `-${col}` ? col : `-${col}`;
      return el('button', { type: 'button', class: 'sort', 'data-sort': dir || '', onclick: () => go(1, { sort: next }),
        text: `${t(`members.col.${key}`)}${dir === 'descending' ? ' ↓' : dir === 'ascending' ? ' ↑' : ''}` });
    };
    const rows = data.members;
    const list = rows.length ? table([
      [sortBy('name'), (m) => Admin.link(`/admin/members/${m.member_no}`, m.name || t('common.unknown')), 'nowrap'],
      [t('members.number'), (m) => m.member_no, 'nowrap wide-only'],
      [sortBy('tier'), (m) => (m.tier ? badge(m.tier, 'warn') : '–')],
      [sortBy('points'), (m) => fmt.num(m.points), 'num'],
      [sortBy('stamps'), (m) => fmt.num(m.stamps), 'num'],
      [sortBy('lastVisit'), (m) => fmt.date(m.last_visit_at), 'nowrap'],
      [sortBy('joined'), (m) => fmt.date(m.joined_at), 'nowrap wide-only'],
      [t('members.reachable'), (m) => (m.in_line === false ? badge(t('members.notInLine'), 'info')
        : m.reachable ? badge(t('members.canReach'), 'ok') : badge(t('members.blocked'), 'bad'))],
    ], rows, { onRow: (m) => Admin.go(`/admin/members/${m.member_no}`), label: t('members.title') }) : Admin.empty(t('members.none'));
    for (const th of list.querySelectorAll('th')) { // the sorted column says so to screen readers
      const b = th.querySelector('button.sort');
      if (b && b.dataset.sort) th.setAttribute('aria-sort', b.dataset.sort);
    }
    const pages = Math.max(1, Math.ceil(data.total / PER_PAGE));
    const pager = el('div', { class: 'pager' }, t('common.page', { page, pages, total: fmt.num(data.total) }),
      el('button', { class: 'secondary small', type: 'button', disabled: page <= 1, text: t('common.prev'), onclick: () => go(page - 1, { q: query }) }),
      el('button', { class: 'secondary small', type: 'button', disabled: page >= pages, text: t('common.next'), onclick: () => go(page + 1, { q: query }) }));
    main.append(card(null, form, list, pager));
  };

  // ── one member ──────────────────────────────────────────
  function profileCard(d) {
    const p = d.profile;
    const s = d.summary;
    return card(null,
      el('div', { class: 'page-head', style: 'margin:0' }, el('h2', { style: 'font-size:20px;margin:0;flex:1', id: 'memberName', text: p.name || t('common.unknown') }),
        s.tier ? badge(s.tier, 'warn') : null,
        p.erased_at ? badge(t('members.erased'), 'bad') : p.in_line === false ? badge(t('members.notInLine'), 'info')
          : (p.reachable ? badge(t('members.canReach'), 'ok') : badge(t('members.blocked'), 'bad'))),
      el('div', { class: 'balances' },
        el('div', {}, el('span', { text: t('members.stamps') }), el('b', { id: 'stampBalance', text: `${fmt.num(s.balances.stamps)}` }),
          el('span', { text: t('members.card', { filled: s.card.filled, size: s.card.size }) })),
        el('div', {}, el('span', { text: t('members.points') }), el('b', { id: 'pointBalance', text: fmt.num(s.balances.points) }))),
      el('dl', { class: 'facts', style: 'margin-top:12px' },
        ...[[t('members.number'), p.member_no], [t('members.phone'), p.phone || '–'], [t('members.birthday'), p.birthday_on || '–'],
          [t('members.gender'), fmt.gender(p.gender)], [t('members.joined'), fmt.date(p.joined_at)],
          [t('members.tierUntil'), p.tier_until ? fmt.date(p.tier_until) : '–'], [t('members.terms'), p.terms_version || '–']]
          .flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])));
  }

  function statsCard(d) {
    const seg = d.segments;
    if (!seg) return card(t('members.stats'), el('p', { class: 'muted', text: t('members.noStats') }));
    return card(t('members.stats'), el('div', { class: 'chips', style: 'margin-bottom:12px' },
      seg.rfm.class ? badge(label('rfm', seg.rfm.class), 'warn') : null, badge(label('nes', seg.nes), 'info'),
      badge(`R${seg.rfm.r ?? '–'} F${seg.rfm.f ?? '–'} M${seg.rfm.m ?? '–'}`)),
    el('dl', { class: 'facts' }, ...[[t('members.visits'), fmt.num(seg.visits)], [t('members.spend'), fmt.money(seg.spend)],
      [t('members.lastVisit'), fmt.date(seg.last_visit_at)], [t('members.computed'), fmt.time(seg.computed_at)]]
      .flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])));
  }

  function tagsCard(d, no) {
    const editable = Admin.can('campaigns:manage') && !d.profile.erased_at;
    const call = async (method, path, body) => {
      try { await Admin.api(`/api/v1/admin/members/${no}/tags${path}`, { method, body }); Admin.refresh(); } catch (err) { Admin.fail(err); }
    };
    const chips = d.tags.map((name) => el('span', { class: 'chip', style: editable ? '' : 'padding-right:12px' }, name,
      editable ? el('button', { type: 'button', 'aria-label': t('members.removeTag', { name }), text: '×', onclick: () => call('DELETE', `/${encodeURIComponent(name)}`) }) : null));
    const input = el('input', { name: 'tag', maxLength: 60, placeholder: t('members.newTag'), 'aria-label': t('members.newTag'), list: 'tagChoices' });
    const choices = el('datalist', { id: 'tagChoices' });
    Admin.lookups().then((l) => choices.replaceChildren(...l.tags.map((name) => el('option', { value: name })))).catch(() => {});
    const form = editable ? el('form', { class: 'row', style: 'margin-top:12px', onsubmit: (ev) => { ev.preventDefault(); if (input.value.trim()) call('POST', '', { tag: input.value.trim() }); } },
      input, choices, el('button', { class: 'secondary shrink', type: 'submit', text: t('members.addTag') })) : null;
    return card(t('members.tags'), el('div', { class: 'chips', id: 'tagList' }, chips.length ? chips : el('span', { class: 'muted', text: t('common.none') })), form);
  }

  function adjustCard(no) {
    if (!Admin.can('members:adjust')) return card(t('members.adjust'), el('p', { class: 'muted', text: t('members.adjustManagerOnly') }));
    const currency = el('select', { name: 'currency' }, el('option', { value: 'points', text: t('members.points') }), el('option', { value: 'stamps', text: t('members.stamps') }));
    const amount = el('input', { name: 'amount', type: 'number', step: 1, required: true, placeholder: '+10 / -5' });
    const reason = el('input', { name: 'reason', maxLength: 200, required: true, placeholder: t('members.reasonHint') });
    const submit = async (ev) => {
      ev.preventDefault();
      const n = Number(amount.value);
      if (!Number.isInteger(n) || n === 0) { Admin.toast(t('err.invalid_amount'), 'error'); return; }
      const what = `${n > 0 ? '+' : ''}${n} ${currency.selectedOptions[0].textContent}`;
      if (!(await Admin.ask(t('members.adjustConfirm'), el('p', { text: t('members.adjustConfirmText', { what, reason: reason.value }) }), t('members.adjustGo')))) return;
      try {
        const done = await Admin.api(`/api/v1/admin/members/${no}/adjustments`, { method: 'POST', body: { currency: currency.value, amount: n, reason: reason.value } });
        Admin.toast(t(done.code === 'approval_required' ? 'members.adjustWaiting' : 'members.adjusted', { what })); // 202: waits for approval
        Admin.refresh();
      } catch (err) { Admin.fail(err); }
    };
    return card(t('members.adjust'), el('form', { class: 'stack', onsubmit: submit },
      el('div', { class: 'row' }, el('label', { class: 'field' }, t('members.currency'), currency), el('label', { class: 'field' }, t('members.amount'), amount)),
      el('label', { class: 'field' }, t('members.reason'), reason),
      el('button', { class: 'primary', type: 'submit', text: t('members.adjustGo') })));
  }

  /** A receipt id is the POS's (often a UUID): its last 8 characters tell receipts apart, the whole one is its title. */
  const receipt = (id) => (id ? el('span', { class: 'receipt', title: id, text: id.length > 12 ? t('members.receipt', { tail: id.slice(-8) }) : id }) : '');
  function ledgerCard(d) {
    return card(t('members.ledger'), d.ledger.length ? table([
      [t('members.when'), (e) => fmt.time(e.created_at), 'nowrap'],
      [t('members.what'), (e) => label('ledger', e.reason), 'nowrap'],
      [t('members.currency'), (e) => (e.currency === 'stamp' ? t('members.stamps') : t('members.points')), 'nowrap'],
      [t('members.delta'), (e) => el('span', { class: e.amount > 0 ? 'plus' : 'minus', text: `${e.amount > 0 ? '+' : ''}${e.amount}` }), 'num'],
      [t('members.store'), (e) => e.store_name || '–', 'nowrap'],
      [t('members.spent'), (e) => (e.purchase_amount == null ? '–' : fmt.money(e.purchase_amount)), 'num'],
      [t('members.note'), (e) => e.note || receipt(e.receipt_id)],
    ], d.ledger, { label: t('members.ledger') }) : Admin.empty(t('members.noLedger')));
  }

  function couponsCard(d) {
    return card(t('members.coupons'), d.coupons.length ? table([
      [t('members.coupon'), (c) => c.name],
      [t('members.code'), (c) => c.code],
      [t('members.status'), (c) => badge(label('coupon', c.status), STATUS_KIND[c.status] || '')],
      [t('members.expires'), (c) => fmt.date(c.expires_at)],
    ], d.coupons) : Admin.empty(t('members.noCoupons')));
  }

  function messagesCard(d) {
    return card(t('members.messages'), d.messages.length ? table([
      [t('members.when'), (m) => fmt.time(m.sent_at || m.created_at)],
      [t('members.purpose'), (m) => purpose(m.purpose), 'nowrap'],
      [t('members.status'), (m) => badge(label('msg', m.status), STATUS_KIND[m.status] || '')],
    ], d.messages) : Admin.empty(t('members.noMessages')));
  }

  Admin.pages.member = async (main, [no]) => {
    const d = await Admin.api(`/api/v1/admin/members/${encodeURIComponent(no)}`);
    const erased = Boolean(d.profile.erased_at);
    main.append(Admin.pageHead(d.profile.name || (erased ? t('members.erased') : no), t('members.numberIs', { no }),
      Admin.link('/admin/members', t('members.back'), { class: 'btn secondary' })));
    main.append(el('div', { class: 'split' },
      el('div', { class: 'stack' }, profileCard(d), tagsCard(d, no)),
      el('div', { class: 'stack' }, erased ? null : adjustCard(no), Admin.privacyCard(d, no), statsCard(d), couponsCard(d))));
    main.append(el('div', { class: 'stack', style: 'margin-top:18px' }, ledgerCard(d), messagesCard(d))); // the page's width: seven columns
  };
})();
