/* 門市收銀：登入 → 掃描會員 QR（或輸入會員編號）→ 集點／兌換 → 下一位；
 * 掃描（或輸入代碼）優惠券 → 內容與條件 → 使用；店長可作廢一次。
 * Plain ES2020, no build step. Talks to /api/v1 (see /openapi.json).
 * Every write carries an id made once per transaction (receipt_id / request_id) and reused on
 * retry, so a retry after a lost answer never counts twice.
 * After a QR scan the writes carry the card's token (the member is there); after a typed member
 * number (or a phone) a spend is answered 409 confirmation_required: the member confirms in LINE, the page polls.
 * A phone nobody gave can start a pre-member (not in LINE yet): it collects, and the page shows its claim code. */
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const SESSION_KEY = 'cashier.session';
  const TIMEOUT_MS = 15000;
  const JSQR_URL = '/static/vendor/jsqr/jsQR.js';
  const OFFLINE_TEXT = '網路連線中斷，請稍後按重試';
  const POLL_MS = 1500;

  const MESSAGES = {
    token_expired: 'QR 已過期，請會員更新會員卡 QR 碼',
    member_erased: '這位會員已刪除會員資料，無法集點或兌換；可請對方重新加入會員',
    token_invalid: '這不是有效的會員卡 QR 碼，請會員重新開啟 LINE 會員卡',
    member_not_found: '查無此會員，請確認會員編號',
    member_required: '請掃描會員 QR 或輸入會員編號',
    insufficient_balance: (d) => `${d.currency === 'stamp' ? unit('stamp') : '點數'}不足：會員目前有 ${d.balance ?? '?'} ${unit(d.currency)}，` +
      `此兌換需要 ${d.needed ?? '?'} ${unit(d.currency)}`,
    invalid_amount: '消費金額格式不正確：請輸入 0 到 10,000,000 的數字，最多兩位小數',
    nothing_to_award: '請輸入消費金額，或勾選「來店」',
    invalid_visit: '「來店」欄位不正確，請重新整理頁面',
    invalid_credentials: '帳號或密碼錯誤',
    unauthorized: '請重新登入',
    session_expired: '登入已逾時，請重新登入',
    invalid_api_key: '請重新登入',
    receipt_already_awarded: '這筆交易編號已經用於其他會員或不同金額的集點，請按「下一位」重新開始',
    receipt_already_has_claim: '這張收據已印出領取碼，且金額或來店與此不同；請確認收據後重新輸入，或請顧客用領取碼集點',
    request_id_reused: '這筆兌換編號已經用於其他會員或商品，請按「下一位」重新開始',
    grant_used: '這個獎勵已經兌換過了',
    grant_not_found: '找不到這個獎勵，請重新查詢會員',
    reward_not_found: '這個兌換商品已下架',
    request_in_progress: '上一個請求仍在處理中，請稍後按重試',
    manager_only: '此操作需要店長權限',
    internal_error: '系統發生錯誤，請稍後再試',
    coupon_required: '請掃描優惠券 QR 或輸入優惠券代碼',
    coupon_not_found: '查無此優惠券，請確認代碼',
    coupon_token_invalid: '這不是有效的優惠券 QR 碼，請會員重新開啟 LINE 優惠券',
    coupon_already_redeemed: '這張優惠券已經使用過了',
    coupon_expired: '這張優惠券已過期',
    coupon_voided: '這張優惠券已被收回，無法使用',
    coupon_wrong_store: '這張優惠券不適用於本門市',
    coupon_not_yet_valid: '這張優惠券尚未開始使用',
    coupon_min_spend: (d) => `未達最低消費：此優惠券需消費滿 NT$${d.min_spend ?? '?'}`,
    coupon_void_limit: '這張優惠券的使用已作廢過一次，不能再作廢',
    coupon_not_redeemed: '這張優惠券目前未使用，不需作廢',
    reason_required: '請填寫原因',
    confirmation_cancelled: '會員已取消（或已停止等待），未扣除任何點數或獎勵',
    confirmation_expired: '會員未在時間內確認，未扣除任何點數或獎勵；可請會員出示會員卡 QR 碼後再兌換',
    confirmation_failed: '會員確認時無法完成兌換（點數不足或獎勵已使用），未扣除任何點數或獎勵',
    phone_ambiguous: '這支手機號碼有多位會員使用，請掃描會員卡 QR 或輸入會員編號',
    invalid_phone: '手機號碼格式不正確：請輸入 09 開頭的 10 位數字',
    too_many_lookups: (d) => `查詢次數過多，請改掃會員卡 QR${d.retry_after_seconds ? `，或 ${Math.ceil(d.retry_after_seconds / 60)} 分鐘後再試` : ''}`,
    premember_cannot_spend: '這位顧客尚未加入 LINE 會員，只能集點；加入 LINE 並輸入認領碼後才能兌換',
    phone_in_use: '這支手機號碼已是 LINE 會員，請掃描會員卡 QR',
    member_merged: '這位顧客剛完成加入 LINE 會員，點數已轉入；請按「下一位」後重新查詢',
    confirmation_unreachable: '會員已封鎖官方帳號，無法在 LINE 確認；請會員出示會員卡 QR 碼後再兌換',
  };
  /** The words the member sees for a stamp and a point (the bot's text table, from /api/v1/me). */
  const UNITS = { stamp: '章', point: '點' };
  const unit = (currency) => ((state.session && state.session.units) || UNITS)[currency === 'stamp' ? 'stamp' : 'point'];
  const SIGN_IN_AGAIN = new Set(['session_expired', 'unauthorized', 'invalid_api_key']);

  const state = { session: null, member: null, token: null, catalogue: [], pending: null, inflight: false, coupon: null, waiting: null, claimCode: null };
  const hooks = { award: [], awarded: [] };
  const scan = { stream: null, timer: 0, decoder: null };

  class NetworkError extends Error {}
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.code = (body && body.code) || `http_${status}`;
      this.details = (body && body.details) || {};
    }
  }

  // ── helpers ────────────────────────────────────────────────
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function el(tag, props = {}, ...children) {
    const node = Object.assign(document.createElement(tag), props);
    for (const c of children) if (c != null) node.append(c);
    return node;
  }

  function describe(err) {
    if (err instanceof NetworkError) return OFFLINE_TEXT;
    const text = MESSAGES[err.code];
    if (typeof text === 'function') return text(err.details || {});
    if (text) return text;
    if (err.status >= 500) return `系統暫時無法處理（${err.status}），請稍後再試`;
    return `${err.message}（${err.code}）`;
  }

  const retryable = (err) => err instanceof NetworkError || err.status >= 500 || err.code === 'request_in_progress';

  async function api(path, { method = 'GET', body, auth = true } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && state.session) headers.Authorization = `Bearer ${state.session.token}`;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    let resp, data; // eslint-disable-line one-var
    try {
      resp = await fetch(path, {
        method, headers, cache: 'no-store', signal: ctl.signal,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      data = await resp.json().catch(() => null);
    } catch (e) {
      throw new NetworkError(String(e));
    } finally {
      clearTimeout(timer);
    }
    if (!resp.ok) throw new ApiError(resp.status, data);
    if (data === null) throw new NetworkError('unreadable answer'); // cut off on the way: safe to retry
    return { status: resp.status, data };
  }

  // ── banner, dialog, views ──────────────────────────────────
  function banner(text, kind = 'error') {
    $('bannerText').textContent = text;
    Object.assign($('banner'), { className: `banner ${kind}`, hidden: false });
  }
  const clearBanner = () => { $('banner').hidden = true; };

  /** Anything that went wrong: sign-in problems go back to the sign-in screen. */
  function report(err) {
    const known = err instanceof NetworkError || err instanceof ApiError;
    if (!known) console.warn(err); // eslint-disable-line no-console
    if (known && SIGN_IN_AGAIN.has(err.code) && state.session) signOut(describe(err));
    else banner(known ? describe(err) : '發生未預期的錯誤，請重新整理頁面');
  }

  function ask(title, text, okLabel) {
    const dialog = $('confirmDialog');
    [$('dialogTitle').textContent, $('dialogText').textContent, $('dialogOk').textContent] = [title, text, okLabel];
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
  }

  function show(view) {
    for (const id of ['loginView', 'identifyView', 'memberView', 'couponView']) $(id).hidden = id !== view;
    $('signOut').hidden = !state.session;
    window.scrollTo(0, 0);
  }

  function renderNet() {
    const on = navigator.onLine;
    $('net').textContent = on ? '已連線' : '離線';
    $('net').classList.toggle('off', !on);
    if (on && state.pending && !state.inflight) $('retryText').textContent = '網路已恢復，請按重試';
  }

  // ── session ────────────────────────────────────────────────
  function setSession(session) {
    state.session = session;
    if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(SESSION_KEY);
    $('storeName').textContent = session ? session.store.name : '門市收銀';
    $('staffName').textContent = session ? `${session.staff.name}・${session.store.code}` : '';
    $('stampLabel').textContent = `集${unit('stamp')}`;
    document.dispatchEvent(new CustomEvent('cashier:session', { detail: session })); // cashier-approvals.js
  }

  function signOut(message) {
    stopScan();
    setSession(null);
    resetMember();
    resetCoupon();
    show('loginView');
    if (message) banner(message, 'warn');
    else clearBanner();
    $('username').focus();
  }

  async function login(event) {
    event.preventDefault();
    clearBanner();
    const btn = $('loginBtn');
    Object.assign(btn, { disabled: true, textContent: '登入中…' });
    try {
      const body = { username: $('username').value.trim(), password: $('password').value };
      const { data } = await api('/api/v1/auth/login', { method: 'POST', body, auth: false });
      setSession({ token: data.token, staff: data.staff, store: data.store, units: data.units });
      $('password').value = '';
      show('identifyView');
    } catch (err) {
      report(err);
    } finally {
      Object.assign(btn, { disabled: false, textContent: '登入' });
    }
  }

  // ── identify the member ────────────────────────────────────
  async function lookup(body, btn, onNotFound = null) {
    clearBanner();
    if (btn) btn.disabled = true;
    try {
      const [{ data }, rewards] = await Promise.all([
        api('/api/v1/scan', { method: 'POST', body }),
        api('/api/v1/rewards').then((r) => r.data.rewards, () => null),
      ]);
      if (rewards) state.catalogue = rewards;
      openMember(data, body.token || null);
    } catch (err) {
      if (err instanceof NetworkError) banner('網路連線中斷，請確認網路後再查詢一次');
      else if (onNotFound && err.code === 'member_not_found') onNotFound();
      else report(err);
    } finally {
      if (btn) btn.disabled = false;
    }
  }

  /** A member number, or a phone (starts with 0 or +: member numbers never do). */
  function lookupNumber(event) {
    event.preventDefault();
    const raw = $('memberNo').value.replace(/[\s\-().]/g, '');
    if (/^[0+]/.test(raw)) { lookupPhone(raw); return; }
    const number = raw.replace(/\D/g, '');
    if (!number) { banner(MESSAGES.member_required); $('memberNo').focus(); return; }
    lookup({ member_no: number }, $('lookupBtn'));
  }

  function lookupPhone(phone) {
    lookup({ phone }, $('lookupBtn'), async () => {
      const ok = await ask('查無此手機號碼的會員', `要以 ${phone} 建立門市會員嗎？顧客尚未加入 LINE 也能先集點，之後加入 LINE 時輸入認領碼即可轉入。`, '建立門市會員');
      if (ok) createPremember(phone);
    });
  }

  async function createPremember(phone) {
    clearBanner();
    try {
      const { data } = await api('/api/v1/premembers', { method: 'POST', body: { phone } });
      openMember(data.member, null);
      state.claimCode = data.claim_code;
      renderMember();
    } catch (err) {
      report(err);
    }
  }

  const NO_CAMERA = '無法使用相機：請允許瀏覽器使用相機，或改用輸入會員編號';
  const CAMERA_MESSAGES = {
    NotAllowedError: NO_CAMERA, SecurityError: NO_CAMERA,
    NotFoundError: '找不到可用的相機，請改用輸入會員編號', OverconstrainedError: '找不到可用的相機，請改用輸入會員編號',
    NotReadableError: '相機正被其他程式使用，請關閉後再試',
    DecoderError: '無法載入 QR 解碼元件，請檢查網路或改用輸入會員編號',
  };
  const cameraMessage = (err) => CAMERA_MESSAGES[err && err.name] || '無法開啟相機，請改用輸入會員編號';

  const loadScript = (src) => new Promise((resolve, reject) => {
    document.head.append(el('script', {
      src, onload: resolve, onerror: () => reject(Object.assign(new Error(src), { name: 'DecoderError' })),
    }));
  });

  async function makeDecoder() {
    if ('BarcodeDetector' in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes('qr_code')) {
          const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
          return { name: 'BarcodeDetector', decode: async (v) => ((await detector.detect(v))[0] || {}).rawValue };
        }
      } catch (e) { /* fall back to jsQR */ }
    }
    if (!window.jsQR) await loadScript(JSQR_URL);
    const canvas = el('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    return {
      name: 'jsQR',
      decode: async (v) => {
        const scale = Math.min(1, 800 / Math.max(v.videoWidth, v.videoHeight));
        const w = Math.round(v.videoWidth * scale);
        const h = Math.round(v.videoHeight * scale);
        if (canvas.width !== w || canvas.height !== h) Object.assign(canvas, { width: w, height: h });
        ctx.drawImage(v, 0, 0, w, h);
        const found = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: 'dontInvert' });
        return found && found.data;
      },
    };
  }

  async function startScan() {
    clearBanner();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      banner(window.isSecureContext ? '這台裝置無法使用相機，請改用輸入會員編號' : '相機需要以 HTTPS 開啟此頁，請改用輸入會員編號');
      return;
    }
    $('scanBtn').disabled = true;
    try {
      scan.decoder = scan.decoder || await makeDecoder();
      scan.stream = await navigator.mediaDevices.getUserMedia({
        audio: false, video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (err) {
      stopScan();
      banner(cameraMessage(err));
      return;
    }
    $('video').srcObject = scan.stream;
    Object.assign($('scanner'), { hidden: false }).dataset.decoder = scan.decoder.name;
    $('scanBtn').hidden = true;
    await $('video').play().catch(() => {});
    tick();
  }

  async function tick() {
    if (!scan.stream) return;
    const video = $('video');
    const text = video.readyState >= 2 && video.videoWidth ? await scan.decoder.decode(video).catch(() => null) : null;
    if (!scan.stream) return;
    if (text && text.trim()) {
      stopScan();
      if (navigator.vibrate) navigator.vibrate(60);
      const scanned = text.trim();
      if (isCouponToken(scanned)) lookupCoupon({ token: scanned }, $('scanBtn'));
      else lookup({ token: scanned }, $('scanBtn'));
      return;
    }
    scan.timer = setTimeout(tick, 120);
  }

  function stopScan() {
    clearTimeout(scan.timer);
    if (scan.stream) scan.stream.getTracks().forEach((t) => t.stop());
    scan.stream = null;
    $('video').srcObject = null;
    $('scanner').hidden = true;
    Object.assign($('scanBtn'), { hidden: false, disabled: false });
  }

  // ── the member ─────────────────────────────────────────────
  function resetMember(member = null, token = null) {
    stopWaiting();
    Object.assign(state, { member, token, pending: null, inflight: false, claimCode: null });
    $('awardForm').reset();
    $('result').hidden = true;
    $('memberNo').value = '';
    if (member) renderMember();
    else syncControls();
  }

  function openMember(member, token = null) {
    resetMember(member, token);
    show('memberView');
  }

  /** How the writes name the member: the scanned card's token, else the typed number. */
  const identity = () => (state.token ? { token: state.token } : { member_no: state.member.member_no });

  function renderMember() {
    const m = state.member;
    const { size, filled, reward } = m.card;
    $('memberName').textContent = m.name || (m.in_line === false ? '門市會員' : '（未提供姓名）');
    $('memberNumber').textContent = m.member_no;
    $('memberTier').textContent = m.tier || '一般會員';
    $('prememberNote').hidden = m.in_line !== false;
    $('prememberClaimBox').hidden = !state.claimCode;
    $('prememberClaimCode').textContent = state.claimCode || '';
    $('stampCount').textContent = `${filled} / ${size}`;
    const [st, pt] = [unit('stamp'), unit('point')];
    $('pointCount').textContent = `${m.balances.points} ${pt}`;
    const dots = $('stampDots');
    dots.replaceChildren(...Array.from({ length: size }, (_, i) => el('span', { className: i < filled ? 'dot on' : 'dot' })));
    dots.style.setProperty('--cols', String(Math.min(size, 10)));
    dots.setAttribute('aria-label', `集點卡 ${filled} / ${size} ${st}`);
    $('cardReward').textContent = filled >= size ? `已集滿！可兌換「${reward}」` : `集滿 ${size} ${st}兌換「${reward}」，還差 ${size - filled} ${st}`;

    $('grantsBox').hidden = !m.rewards.length;
    $('grantList').replaceChildren(...m.rewards.map((g) => el('li', { className: 'item ready' },
      el('div', { className: 'item-main' }, el('b', { textContent: g.name }),
        el('small', { textContent: `${new Date(g.issued_at).toLocaleDateString('zh-TW')} 獲得` })),
      el('button', { type: 'button', className: 'go', textContent: '兌換', onclick: () => useGrant(g) }))));
    renderCatalogue();
    syncControls();
    document.dispatchEvent(new CustomEvent('cashier:member', { detail: m }));
  }

  function renderCatalogue() {
    const points = state.member ? state.member.balances.points : 0;
    $('catalogueEmpty').hidden = state.catalogue.length > 0;
    $('catalogue').replaceChildren(...state.catalogue.map((item) => {
      const short = item.points_cost - points;
      return el('li', { className: short > 0 ? 'item short' : 'item' },
        el('div', { className: 'item-main' }, el('b', { textContent: item.name }),
          el('small', { textContent: short > 0 ? `${item.points_cost} ${unit('point')}・還差 ${short} ${unit('point')}` : `${item.points_cost} ${unit('point')}` })),
        el('button', { type: 'button', className: 'primary', textContent: '兌換', onclick: () => redeem(item) }));
    }));
  }

  function syncControls() {
    const locked = state.inflight || !!state.pending;
    for (const id of ['amount', 'visit', 'confirmBtn']) $(id).disabled = locked;
    document.querySelectorAll('#grantList button, #catalogue button').forEach((b) => { b.disabled = locked; });
    $('confirmBtn').textContent = state.inflight && state.pending && state.pending.kind === 'award' ? '處理中…' : '確認集點';
    Object.assign($('retryBtn'), { disabled: state.inflight, textContent: state.inflight ? '重試中…' : '重試' });
    $('retryBox').hidden = !(state.pending && state.pending.failed);
  }

  function showResult(title, lines, kind = 'ok') {
    $('resultTitle').textContent = title;
    $('resultLines').replaceChildren(...lines.map(([text, cls]) => el('li', { textContent: text, className: cls || '' })));
    Object.assign($('result'), { className: `result ${kind}`, hidden: false });
    // the result at the top, right under the header, and the amount field and 確認集點 under it
    // (above the 下一位 bar): the next sale starts without scrolling (CSS: .result scroll-margin-top)
    $('result').scrollIntoView({ block: 'start' });
  }

  // ── writes: award, redeem, hand over a card reward ─────────
  function confirmAward(event) {
    event.preventDefault();
    clearBanner();
    if (state.pending || state.inflight) return;
    const amount = $('amount').value.trim().replace(/,/g, '');
    const visit = $('visit').checked;
    if (!amount && !visit) { banner(MESSAGES.nothing_to_award); return; }
    if (amount && !/^\d{1,8}(\.\d{1,2})?$/.test(amount)) { banner(MESSAGES.invalid_amount); return; }
    const body = { ...identity(), receipt_id: uuid(), visit };
    if (amount) body.amount = amount;
    for (const extend of hooks.award) if (extend(body) === false) return; // cashier-items.js: the receipt's items
    send({ kind: 'award', path: '/api/v1/awards', body, done: awarded });
  }

  function awarded(data) {
    const a = data.award;
    const lines = [];
    const [st, pt] = [unit('stamp'), unit('point')];
    if (a.stamps) lines.push([`+${a.stamps} ${st}`, 'gain']);
    if (a.points) lines.push([`+${a.points} ${pt}`, 'gain']);
    if (!a.stamps && !a.points) lines.push([`本次未獲得${st}或點數（未達門檻或已達上限）`]);
    if (a.rewards_issued) lines.push([`已集滿！獲得 ${a.rewards_issued} 份「${data.member.card.reward}」`, 'gift']);
    if (a.capped) lines.push(['已達今日集點上限，超過的部分未計入', 'note']);
    if (a.replayed) lines.push(['這筆交易先前已完成，未重複集點', 'note']);
    const m = data.member;
    lines.push([`目前：集${st} ${m.card.filled} / ${m.card.size}・點數 ${m.balances.points} ${pt}`, 'now']);
    lines.push([`交易編號 ${a.receipt_id.slice(0, 8)}`, 'ref']);
    const repeat = a.repeat_visit; // the brand's repeat-visit rule, policy warn: the award stands
    if (repeat) lines.unshift([`注意：此會員 ${repeat.minutes_ago} 分鐘前才集點過（${repeat.within} 分鐘內重複集點）`, 'repeat']);
    $('awardForm').reset();
    hooks.awarded.forEach((fn) => fn(data));
    showResult('集點完成', lines, repeat ? 'warn' : 'ok');
  }

  async function redeem(item) {
    clearBanner();
    const points = state.member.balances.points;
    const pt = unit('point');
    const ok = await ask('點數兌換', `以 ${item.points_cost} ${pt}兌換「${item.name}」？會員目前有 ${points} ${pt}。`, '確認兌換');
    if (!ok || state.pending || state.inflight) return;
    const body = { ...identity(), reward_id: item.id, request_id: uuid() };
    send({
      kind: 'redeem', path: '/api/v1/redemptions', body,
      done: (data) => showResult('兌換完成', [[`已兌換「${data.redemption.reward}」`, 'gain'],
        [`扣除 ${data.redemption.points} ${pt}，剩餘 ${data.member.balances.points} ${pt}`, 'now']]),
    });
  }

  async function useGrant(grant) {
    clearBanner();
    const ok = await ask('兌換集點卡獎勵', `將「${grant.name}」交給會員，並標記為已兌換？`, '確認兌換');
    if (!ok || state.pending || state.inflight) return;
    send({
      kind: 'grant', path: `/api/v1/grants/${grant.id}/use`, body: identity(),
      done: () => showResult('兌換完成', [[`已兌換「${grant.name}」`, 'gain']]),
      // a retry after a lost answer finds it used: by then it was us
      alreadyDone: (err) => err.code === 'grant_used',
    });
  }

  async function send(pending) {
    state.pending = pending;
    pending.attempts = (pending.attempts || 0) + 1;
    state.inflight = true;
    $('result').hidden = true;
    syncControls();
    let data = null, failure = null; // eslint-disable-line one-var
    try { data = (await api(pending.path, { method: 'POST', body: pending.body })).data; } catch (err) { failure = err; }
    state.inflight = false;
    if (state.pending !== pending) return; // signed out or next customer meanwhile
    if (failure && failure.code === 'token_expired' && pending.body.token) {
      // the card's QR expired while the cashier worked: go on by its number (a spend then asks the member)
      const { token, ...rest } = pending.body; // eslint-disable-line no-unused-vars
      pending.body = { ...rest, member_no: state.member.member_no };
      state.token = null;
      send(pending);
      return;
    }
    if (failure && failure.code === 'confirmation_required') {
      waitForMember(pending, failure.details);
      return;
    }
    if (failure && pending.attempts > 1 && pending.alreadyDone && pending.alreadyDone(failure)) {
      failure = null;
      data = { member: (await api('/api/v1/scan', { method: 'POST', body: { member_no: state.member.member_no } })
        .catch(() => ({ data: state.member }))).data };
    }
    if (!failure) {
      state.pending = null;
      state.member = data.member;
      renderMember();
      pending.done(data);
    } else if (retryable(failure) && state.session) {
      pending.failed = true;
      $('retryText').textContent = failure instanceof NetworkError ? OFFLINE_TEXT : `${describe(failure)}，請按重試`;
      syncControls();
      window.scrollTo(0, 0);
    } else {
      state.pending = null;
      syncControls();
      report(failure);
    }
  }

  // ── a spend by typed number: the member confirms in LINE ──
  function waitForMember(pending, details) {
    const c = details.confirmation;
    if (details.reachable === false) {
      state.pending = null;
      syncControls();
      banner(MESSAGES.confirmation_unreachable);
      return;
    }
    state.waiting = { pending, confirmation: c, timer: 0 };
    $('confirmWhat').textContent = c.kind === 'redeem' ? `以 ${c.points} 點兌換「${c.what}」` : `兌換「${c.what}」`;
    $('confirmWait').hidden = false;
    syncControls();
    window.scrollTo(0, 0);
    poll(state.waiting);
  }

  async function poll(waiting) {
    let data = null;
    try { data = (await api(waiting.confirmation.poll)).data; } catch (err) { data = null; } // keep asking
    if (state.waiting !== waiting) return; // stopped, next customer or signed out meanwhile
    const status = data ? data.confirmation.status : 'pending';
    if (status === 'pending') {
      waiting.timer = setTimeout(() => poll(waiting), POLL_MS);
      return;
    }
    const { pending } = waiting;
    stopWaiting();
    state.pending = null;
    state.member = data.member;
    renderMember();
    if (status === 'confirmed') pending.done(data);
    else banner(MESSAGES[`confirmation_${status}`] || MESSAGES.confirmation_failed, status === 'failed' ? 'error' : 'warn');
  }

  function stopWaiting() {
    if (!state.waiting) return;
    clearTimeout(state.waiting.timer);
    state.waiting = null;
    $('confirmWait').hidden = true;
  }

  /** The cashier stops waiting: the server cancels it, so a 確認 tapped later spends nothing. */
  async function withdrawConfirmation() {
    const waiting = state.waiting;
    if (!waiting) return;
    stopWaiting();
    let data = null;
    try { data = (await api(`${waiting.confirmation.poll}/cancel`, { method: 'POST', body: {} })).data; } catch (err) { report(err); }
    state.pending = null;
    if (data) {
      state.member = data.member;
      renderMember();
      if (data.confirmation.status === 'confirmed') { waiting.pending.done(data); return; } // the member was quicker
    }
    syncControls();
    banner(MESSAGES.confirmation_cancelled, 'warn');
  }

  function retry() {
    if (!state.pending || state.inflight) return;
    clearBanner();
    send(state.pending); // the same body: the same receipt_id / request_id
  }

  async function nextCustomer() {
    if (state.waiting) await withdrawConfirmation();
    if (state.pending && !(await ask('尚未完成', '上一筆交易尚未確認完成。放棄後若重新輸入，可能會重複集點。確定要換下一位嗎？', '放棄並換下一位'))) return;
    clearBanner();
    resetMember();
    show('identifyView');
  }

  // ── coupons: look up, redeem once, void once (managers) ────
  const COUPON_CODE = /^[A-HJ-NP-Z2-9]{10}$/;
  /** A coupon QR carries CODE.signature; a member card QR carries number.time.signature. */
  const isCouponToken = (text) => { const parts = text.split('.'); return parts.length === 2 && COUPON_CODE.test(parts[0]); };
  const STATE_LABELS = {
    usable: '可使用', coupon_already_redeemed: '已使用', coupon_expired: '已過期', coupon_voided: '已收回',
    coupon_wrong_store: '不適用本店', coupon_not_yet_valid: '尚未開始',
  };
  const when = (iso) => new Date(iso).toLocaleString('zh-TW', {
    timeZone: 'Asia/Taipei', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  });
  const money = (value) => Number(value).toLocaleString('zh-TW', { maximumFractionDigits: 2 });
  const isManager = () => !!(state.session && state.session.staff && state.session.staff.role === 'manager');

  function resetCoupon() {
    state.coupon = null;
    $('couponRedeemForm').reset();
    $('couponVoidForm').reset();
    $('couponResult').hidden = true;
    $('couponResultTitle').textContent = '';
    $('couponResultLines').replaceChildren();
    $('couponCode').value = '';
  }

  async function fetchCoupon(ref) {
    return (await api('/api/v1/coupons/lookup', { method: 'POST', body: ref })).data;
  }

  async function lookupCoupon(ref, btn) {
    clearBanner();
    if (btn) btn.disabled = true;
    try {
      const data = await fetchCoupon(ref);
      resetCoupon();
      state.coupon = { ref, data, lost: false, inflight: false };
      renderCoupon();
      show('couponView');
    } catch (err) {
      if (err instanceof NetworkError) banner('網路連線中斷，請確認網路後再查詢一次');
      else report(err);
    } finally {
      if (btn) btn.disabled = false;
    }
  }

  function lookupCouponCode(event) {
    event.preventDefault();
    const code = $('couponCode').value.replace(/[\s-]/g, '').toUpperCase();
    if (!code) { banner(MESSAGES.coupon_required); $('couponCode').focus(); return; }
    lookupCoupon({ code }, $('couponLookupBtn'));
  }

  function renderCoupon() {
    const { data } = state.coupon;
    const c = data.coupon;
    const key = data.usable ? 'usable' : data.problem;
    $('couponName').textContent = c.name;
    $('couponCodeShown').textContent = c.code;
    Object.assign($('couponState'), { textContent: STATE_LABELS[key] || key, className: data.usable ? 'tier' : 'tier bad' });
    $('couponValue').textContent = c.description;
    const terms = [Number(c.min_spend) > 0 ? `消費滿 NT$${money(c.min_spend)} 可用` : '無最低消費'];
    terms.push(`使用期限至 ${when(c.expires_at)}`);
    if (data.problem === 'coupon_not_yet_valid') terms.push(`${when(c.valid_from)} 起可使用`);
    if (c.stores && c.stores.length) terms.push(`適用門市：${c.stores.join('、')}`);
    if (c.status === 'redeemed' && c.redeemed_at) {
      terms.push(`已於 ${when(c.redeemed_at)} 使用${c.redeemed_amount ? `（結帳 NT$${money(c.redeemed_amount)}）` : ''}`);
    }
    $('couponTerms').replaceChildren(...terms.map((t) => el('li', { textContent: t })));
    const m = data.member;
    $('couponMember').textContent = m ? `會員：${m.name || '（未提供姓名）'}・${m.member_no}` : '';
    $('couponRedeemBox').hidden = !data.usable;
    $('couponAmountField').hidden = !data.needs_amount;
    $('couponMinSpend').textContent = data.needs_amount ? `（滿 NT$${money(c.min_spend)} 可用）` : '';
    $('couponVoidBox').hidden = !(data.can_void && isManager());
    const busy = state.coupon.inflight;
    for (const id of ['couponAmount', 'couponRedeemBtn', 'voidReason', 'couponVoidBtn']) $(id).disabled = busy;
    $('couponRedeemBtn').textContent = busy ? '處理中…' : '確認使用';
  }

  function couponResult(title, lines, kind = 'ok') {
    $('couponResultTitle').textContent = title;
    $('couponResultLines').replaceChildren(...lines.map(([text, cls]) => el('li', { textContent: text, className: cls || '' })));
    Object.assign($('couponResult'), { className: `result ${kind}`, hidden: false });
    window.scrollTo(0, 0);
  }

  /** One coupon write; afterwards the coupon is looked up again, so the page shows what the server has. */
  async function couponWrite(path, body) {
    const coupon = state.coupon;
    coupon.inflight = true;
    $('couponResult').hidden = true;
    renderCoupon();
    try {
      await api(path, { method: 'POST', body });
      return { ok: true };
    } catch (err) {
      return { ok: false, err };
    } finally {
      coupon.inflight = false;
      if (state.coupon === coupon) {
        coupon.data = await fetchCoupon(coupon.ref).catch(() => coupon.data);
        renderCoupon();
      }
    }
  }

  async function redeemCoupon(event) {
    event.preventDefault();
    clearBanner();
    const coupon = state.coupon;
    if (!coupon || coupon.inflight) return;
    const body = { ...coupon.ref };
    const amount = $('couponAmount').value.trim().replace(/,/g, '');
    if (coupon.data.needs_amount) {
      if (!amount || !/^\d{1,8}(\.\d{1,2})?$/.test(amount)) { banner('請輸入結帳金額（此優惠券有最低消費）'); $('couponAmount').focus(); return; }
      body.amount = amount;
    }
    const { ok, err } = await couponWrite('/api/v1/coupons/redeem', body);
    if (state.coupon !== coupon) return;
    // The answer was lost (or this is the retry after one) and the coupon is now used at this
    // store: the request went through. Redemption flips the coupon once, so a retry never uses it twice.
    const lost = !ok && (err instanceof NetworkError || (coupon.lost && err.code === 'coupon_already_redeemed'));
    if (ok || (lost && coupon.data.redeemed_here)) {
      const c = coupon.data.coupon;
      const lines = [[c.description, 'gain'], [`「${c.name}」已使用，會員會在 LINE 收到通知`, 'now']];
      if (body.amount) lines.push([`結帳 NT$${money(body.amount)}`, 'note']);
      if (!ok) lines.push(['連線曾中斷，但這次使用已完成，未重複使用', 'note']);
      couponResult('優惠券已使用', lines);
    } else if (err instanceof NetworkError) {
      coupon.lost = true;
      banner(`${OFFLINE_TEXT}：網路恢復後請再按一次「確認使用」，不會重複使用`);
    } else {
      report(err);
    }
  }

  async function voidCoupon(event) {
    event.preventDefault();
    clearBanner();
    const coupon = state.coupon;
    if (!coupon || coupon.inflight) return;
    const reason = $('voidReason').value.trim();
    if (!reason) { banner('請填寫作廢原因'); $('voidReason').focus(); return; }
    const ok = await ask('作廢此次使用', `作廢「${coupon.data.coupon.name}」的這次使用？作廢後優惠券可以再使用，且不能再作廢。`, '確認作廢');
    if (!ok || state.coupon !== coupon) return;
    const done = await couponWrite('/api/v1/coupons/void-redemption', { ...coupon.ref, reason });
    if (state.coupon !== coupon) return;
    if (done.ok) {
      $('couponVoidForm').reset();
      couponResult('已作廢此次使用', [['優惠券可以再使用一次', 'now'], [`原因：${reason}`, 'note']], 'warn');
    } else if (done.err instanceof NetworkError) banner(`${OFFLINE_TEXT}，請確認優惠券狀態後再試`);
    else report(done.err);
  }

  function nextAfterCoupon() {
    if (state.coupon && state.coupon.inflight) return;
    clearBanner();
    resetCoupon();
    show('identifyView');
  }

  // ── start ──────────────────────────────────────────────────
  function start() {
    const leave = async () => {
      if (!state.pending || await ask('尚未完成', '上一筆交易尚未確認完成，確定要登出嗎？', '登出')) signOut();
    };
    for (const [id, type, fn] of [
      ['loginForm', 'submit', login], ['signOut', 'click', leave], ['bannerClose', 'click', clearBanner],
      ['scanBtn', 'click', startScan], ['scanCancel', 'click', stopScan], ['numberForm', 'submit', lookupNumber],
      ['awardForm', 'submit', confirmAward], ['retryBtn', 'click', retry], ['nextBtn', 'click', nextCustomer],
      ['couponForm', 'submit', lookupCouponCode], ['couponRedeemForm', 'submit', redeemCoupon],
      ['couponVoidForm', 'submit', voidCoupon], ['couponNextBtn', 'click', nextAfterCoupon],
      ['confirmStop', 'click', withdrawConfirmation],
    ]) $(id).addEventListener(type, fn);
    window.addEventListener('online', renderNet);
    window.addEventListener('offline', renderNet);
    document.addEventListener('visibilitychange', () => { if (document.hidden) stopScan(); });
    renderNet();

    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(SESSION_KEY)); } catch (e) { saved = null; }
    if (!saved || !saved.token) { show('loginView'); return; }
    setSession(saved);
    show('identifyView');
    api('/api/v1/me').then(({ data }) => {
      setSession({ ...saved, store: data.store, units: data.units, staff: { ...saved.staff, ...(data.staff || {}), role: data.role } });
    }, report);
  }

  // What cashier-approvals.js (a manager's corrections and their approval) builds on.
  window.Cashier = {
    $, el, api, ask, banner, clearBanner, report, showResult, MESSAGES, unit,
    onAward: (fn) => hooks.award.push(fn), // fn(body) before an award is sent; false: do not send
    onAwarded: (fn) => hooks.awarded.push(fn),
    session: () => state.session,
    member: () => state.member,
    busy: () => state.inflight || !!state.pending,
    setMember: (member) => { state.member = member; renderMember(); },
  };

  start();
})();
