/* 門市收銀：今日交易（本店、本營業日，最新的在上）與交班統計；店長可作廢今天的集點（補償紀錄，
 * 只能一次）；顧客沒有出示會員卡時，顯示（或列印）收據領取碼 QR。另有重複集點規則的提示文字。
 * Builds on window.Cashier (cashier.js): GET /api/v1/shift/today, POST /api/v1/awards/{id}/void,
 * POST /api/v1/claims (the claim code's QR is /claims/{code}.png). */
'use strict';
(() => {
  const C = window.Cashier;
  const { $, el } = C;
  const money = (v) => `NT$${Number(v || 0).toLocaleString('zh-TW', { maximumFractionDigits: 2 })}`;
  const time = (iso) => new Date(iso).toLocaleTimeString('zh-TW', { timeZone: 'Asia/Taipei', hour: '2-digit', minute: '2-digit', hour12: false });
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

  Object.assign(C.MESSAGES, {
    repeat_visit: (d) => `此會員 ${d.minutes_ago ?? '?'} 分鐘前才集點過；本品牌規定 ${d.within ?? '?'} 分鐘內不能重複集點`,
    award_not_found: '找不到這筆集點（可能是其他門市的交易）',
    award_not_today: '只能作廢今天的集點；其他日期請用「調整點數」',
    award_issued_reward: '這筆集點已集滿並發出獎勵，無法作廢；請用「調整點數」處理',
    award_already_spent: (d) => `會員已用掉這筆集點給的${C.unit(d.currency)}（目前 ${d.balance ?? '?'}，需扣回 ${d.needed ?? '?'}），無法作廢；請用「調整點數」處理`,
    invalid_reason: '請填寫原因（最多 200 字）',
    receipt_already_awarded: '這筆交易編號已經用於其他會員或不同金額的集點，請按「下一位」重新開始',
  });

  const isManager = () => { const s = C.session(); return !!(s && s.staff && s.staff.role === 'manager'); };

  // ── today's transactions and the shift summary ─────────────
  let loading = 0;
  async function load() {
    if (!C.session()) return;
    const mine = ++loading;
    try {
      const { data } = await C.api('/api/v1/shift/today');
      if (mine === loading) render(data);
    } catch (err) {
      if (mine === loading) C.report(err);
    }
  }

  function render({ summary: s, transactions }) {
    const figures = [
      ['集點', `${s.awards} 筆`], ['會員', `${s.members} 人`], ['營業額', money(s.revenue)],
      [`送出${C.unit('stamp')}數`, String(s.stamps)], ['送出點數', String(s.points)],
      ['兌換', `${s.redemptions} 筆`], ['優惠券', `${s.coupons_used} 張`], ['作廢', `${s.voided_awards} 筆`],
    ];
    $('shiftSummary').replaceChildren(...figures.map(([k, v]) => el('div', { className: 'fig' }, el('dt', { textContent: k }), el('dd', { textContent: v }))));
    $('todayList').replaceChildren(...transactions.map(row));
    $('todayEmpty').hidden = transactions.length > 0;
  }

  function what(t) {
    if (t.kind === 'redemption') return `兌換「${t.reward}」−${t.points} 點`;
    if (t.kind === 'coupon') return `使用優惠券 ${t.code}${t.amount ? `（${money(t.amount)}）` : ''}`;
    const parts = [t.amount != null ? money(t.amount) : null, t.visit ? '來店' : null,
      t.stamps ? `+${t.stamps} ${C.unit('stamp')}` : null, t.points ? `+${t.points} 點` : null];
    return parts.filter(Boolean).join('・') || '集點';
  }

  function row(t) {
    const item = el('li', { className: `item tx ${t.kind}${t.voided ? ' voided' : ''}` },
      el('span', { className: 'tx-time', textContent: time(t.at) }),
      el('span', { className: 'item-main' }, el('b', { textContent: what(t) }),
        el('small', { textContent: `${t.member_name || '會員'}・${t.member_no}${t.receipt_id ? `・${t.receipt_id.slice(0, 8)}` : ''}` })));
    if (t.voided) item.append(el('span', { className: 'waiting', textContent: '已作廢' }));
    else if (t.kind === 'award' && isManager() && !t.rewards) item.append(el('button', { className: 'secondary small', type: 'button', textContent: '作廢', onclick: () => askVoid(item, t) }));
    return item;
  }

  function askVoid(item, t) {
    if (item.querySelector('form')) return;
    const reason = el('input', { maxLength: 200, placeholder: '作廢原因，例如：結帳錯誤' });
    reason.setAttribute('aria-label', '作廢原因');
    const form = el('form', { className: 'void-form', noValidate: true, onsubmit: (ev) => { ev.preventDefault(); voidAward(form, t, reason.value.trim()); } },
      reason, el('button', { className: 'go small', type: 'submit', textContent: '確認作廢' }));
    item.append(form);
    reason.focus();
  }

  async function voidAward(form, t, reason) {
    C.clearBanner();
    if (!reason) { C.banner(C.MESSAGES.invalid_reason); return; }
    if (!(await C.ask('作廢集點', `收回 ${what(t)}（${t.member_name || t.member_no}）？作廢會新增補償紀錄，無法復原。`, '確認作廢'))) return;
    form.querySelectorAll('button, input').forEach((b) => { b.disabled = true; });
    try {
      const { data } = await C.api(`/api/v1/awards/${t.id}/void`, { method: 'POST', body: { reason } });
      const v = data.void;
      C.banner(`已作廢：收回 ${v.stamps} ${C.unit('stamp')}、${v.points} 點`, 'ok');
      const shown = C.member();
      if (shown && shown.member_no === data.member.member_no) C.setMember(data.member);
    } catch (err) {
      C.report(err);
    }
    load();
  }

  // ── a receipt claim QR for a sale without a member card ────
  let claim = null; // { key, receipt_id }: the same receipt id while the sale is the same
  async function showClaim(event) {
    event.preventDefault();
    C.clearBanner();
    const amount = $('claimAmount').value.trim().replace(/,/g, '');
    const visit = $('claimVisit').checked;
    if (!amount && !visit) { C.banner('請輸入收據金額，或勾選「計入到店」'); return; }
    if (amount && !/^\d{1,8}(\.\d{1,2})?$/.test(amount)) { C.banner(C.MESSAGES.invalid_amount); return; }
    const key = `${amount}|${visit}`;
    if (!claim || claim.key !== key) claim = { key, receipt_id: uuid() };
    const body = { receipt_id: claim.receipt_id, visit };
    if (amount) body.amount = amount;
    $('claimBtn').disabled = true;
    try {
      const { data } = await C.api('/api/v1/claims', { method: 'POST', body });
      $('claimQr').src = `/claims/${encodeURIComponent(data.code)}.png`;
      $('claimCode').textContent = data.code;
      $('claimWhat').textContent = [data.amount != null ? money(data.amount) : null, data.visit ? '到店' : null].filter(Boolean).join('・');
      $('claimExpires').textContent = `有效至 ${new Date(data.expires_at).toLocaleString('zh-TW', { timeZone: 'Asia/Taipei', hour12: false })}`;
      $('claimShown').hidden = false;
      claim = null; // shown: the next one is another sale
      $('claimForm').reset();
      $('claimShown').scrollIntoView({ block: 'nearest' });
    } catch (err) {
      C.report(err);
    } finally {
      $('claimBtn').disabled = false;
    }
  }

  $('claimForm').addEventListener('submit', showClaim);
  $('claimPrint').addEventListener('click', () => window.print());
  $('todayRefresh').addEventListener('click', load);
  // the list is fresh whenever the till comes back to 辨識會員 (after 下一位, a sign-in, a reload)
  new MutationObserver(() => { if (!$('identifyView').hidden) { $('claimShown').hidden = true; load(); } })
    .observe($('identifyView'), { attributes: true, attributeFilter: ['hidden'] });
  if (!$('identifyView').hidden) load();
})();
