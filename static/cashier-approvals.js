/* 門市收銀，主管：調整會員點數／集點，以及本店待核准的調整（另一位主管核准或退回）。
 * Builds on window.Cashier (cashier.js). A correction above the threshold answers 202
 * approval_required: nothing moves until another manager of the store approves it here (or an
 * owner in the console); the requester sees 「待主管核准」 and cannot decide it. */
'use strict';
(() => {
  const C = window.Cashier;
  const { $, el } = C;
  const signed = (n) => `${n > 0 ? '+' : ''}${n.toLocaleString('zh-TW')}`;
  const what = (r) => `${signed(r.amount)} ${C.unit(r.currency)}`;
  const when = (iso) => new Date(iso).toLocaleString('zh-TW', { timeZone: 'Asia/Taipei', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });

  Object.assign(C.MESSAGES, {
    own_correction: '這是您送出的調整，需由另一位主管核准或退回',
    correction_expired: '這筆調整申請已超過核准期限，請重新送出',
    correction_already_decided: (d) => `這筆調整申請已經${{ approved: '核准', rejected: '退回', expired: '逾期' }[d.status] || '處理'}了`,
    correction_not_found: '找不到這筆調整申請，請重新整理',
    invalid_reason: '請填寫調整原因（最多 200 字）',
    amount_too_large: (d) => `單次調整最多 ${Number(d.max || 0).toLocaleString('zh-TW')} ${d.currency ? C.unit(d.currency) : ''}`,
    invalid_currency: `請選擇調整點數或${C.unit('stamp')}數`,
  });

  const isManager = () => { const s = C.session(); return !!(s && s.staff && s.staff.role === 'manager'); };

  // ── the store's pending requests ───────────────────────────
  let loading = 0;
  async function load() {
    const box = $('approvalsBox');
    box.hidden = !isManager();
    if (box.hidden) return;
    const mine = ++loading;
    try {
      const { data } = await C.api('/api/v1/correction-requests');
      if (mine === loading) render(data.requests);
    } catch (err) {
      if (mine === loading) C.report(err);
    }
  }

  function render(requests) {
    $('approvalsEmpty').hidden = requests.length > 0;
    $('approvalList').replaceChildren(...requests.map((r) => el('li', { className: 'item approval' },
      el('div', { className: 'item-main' },
        el('b', {}, el('span', { className: r.amount < 0 ? 'delta minus' : 'delta', textContent: what(r) }),
          document.createTextNode(`・${r.member.name || '（未提供姓名）'} ${r.member.member_no}`)),
        el('small', { textContent: `原因：${r.reason}` }),
        el('small', { textContent: `${r.requested_by} 申請・${when(r.requested_at)}，${when(r.expires_at)} 前有效` })),
      r.mine ? el('span', { className: 'waiting', textContent: '待主管核准' })
        : el('div', { className: 'actions' },
          el('button', { type: 'button', className: 'secondary small', textContent: '退回', onclick: () => decide(r, 'reject') }),
          el('button', { type: 'button', className: 'go small', textContent: '核准', onclick: () => decide(r, 'approve') })))));
  }

  async function decide(r, verb) {
    C.clearBanner();
    const approve = verb === 'approve';
    const ok = await C.ask(approve ? '核准調整' : '退回調整',
      `${approve ? '核准' : '退回'} ${r.requested_by} 的申請：會員 ${r.member.member_no} ${what(r)}，原因：${r.reason}？`,
      approve ? '確認核准' : '確認退回');
    if (!ok) return;
    try {
      await C.api(`/api/v1/correction-requests/${r.id}/${verb}`, { method: 'POST' });
      C.banner(approve ? `已核准：會員 ${r.member.member_no} ${what(r)}` : `已退回：會員 ${r.member.member_no} ${what(r)}`, 'ok');
      const open = C.member();
      if (approve && open && open.member_no === r.member.member_no && !C.busy()) {
        const { data } = await C.api('/api/v1/scan', { method: 'POST', body: { member_no: open.member_no } });
        C.setMember(data);
      }
    } catch (err) {
      C.report(err);
    }
    load();
  }

  // ── a correction for the member on screen ──────────────────
  async function submit(event) {
    event.preventDefault();
    C.clearBanner();
    const member = C.member();
    const raw = $('correctAmount').value.trim().replace(/[,\s]/g, '');
    const reason = $('correctReason').value.trim();
    const currency = $('correctCurrency').value;
    if (!/^[+-]?\d{1,7}$/.test(raw) || Number(raw) === 0) { C.banner('請輸入不為 0 的整數，例如 +10 或 -5'); return; }
    if (!reason) { C.banner('請填寫調整原因'); $('correctReason').focus(); return; }
    const amount = Number(raw);
    const ok = await C.ask('調整點數', `會員 ${member.member_no} ${signed(amount)} ${C.unit(currency)}，原因：${reason}。這會新增一筆調整紀錄，無法刪除。`, '確認調整');
    if (!ok || C.busy()) return;
    const btn = $('correctBtn');
    btn.disabled = true;
    try {
      const { status, data } = await C.api('/api/v1/corrections', { method: 'POST', body: { member_no: member.member_no, currency, amount, reason } });
      $('correctForm').reset();
      C.setMember(data.member);
      if (status === 202) {
        C.showResult('待主管核准', [[`已送出調整申請：${signed(amount)} ${C.unit(currency)}`, 'gain'],
          ['數量較大，需另一位主管核准後才會生效', 'note'], [`申請編號 ${data.request.id}`, 'ref']], 'warn');
        load();
      } else {
        C.showResult('調整完成', [[`${signed(amount)} ${C.unit(currency)}`, 'gain'],
          [`目前：${C.unit('stamp')} ${data.member.balances.stamps}・點數 ${data.member.balances.points} ${C.unit('point')}`, 'now']]);
      }
    } catch (err) {
      C.report(err);
    } finally {
      btn.disabled = false;
    }
  }

  function onSession() {
    $('correctBox').hidden = !isManager();
    load();
  }

  document.addEventListener('cashier:session', onSession);
  document.addEventListener('cashier:member', () => { $('correctBox').hidden = !isManager(); });
  $('approvalsRefresh').addEventListener('click', load);
  $('correctForm').addEventListener('submit', submit);
  onSession(); // cashier.js has already restored a saved sign-in
})();
