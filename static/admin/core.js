/* 行銷後台 core: the session, the JSON API client, DOM helpers, formats, toast and dialog.
 * Plain ES2020, no build step. Each page file adds `Admin.pages.NAME = async (main, params) => …`;
 * app.js routes /admin/… paths to them. The session token is an ordinary admin token
 * (POST /api/v1/admin/auth/login), so every call goes through the admin API's scope checks. */
'use strict';
window.Admin = (() => {
  const SESSION_KEY = 'admin.session';
  const TIMEOUT_MS = 20000;
  const t = (key, vars) => I18N.t(key, vars);
  // today: the Taipei date the server last answered with (X-Business-Date); the browser's clock is never asked
  const state = { session: null, charts: [], timers: [], lookups: null, today: null };

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.code = (body && body.code) || (status ? `http_${status}` : 'network');
      this.details = (body && body.details) || {};
    }
  }

  /** el('div', {class: 'card', onclick: fn, 'aria-label': '…'}, child, 'text', …) */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value == null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
      else if (key in node && !key.includes('-') && key !== 'list') node[key] = value;
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat()) if (child != null && child !== false) node.append(child);
    return node;
  }
  const $ = (id) => document.getElementById(id);

  // ── session ─────────────────────────────────────────────
  function loadSession() {
    try {
      const s = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
      if (s && s.token) return s; // expiry is the server's to judge (401 session_expired): clocks differ
    } catch (e) { /* a damaged entry: sign in again */ }
    localStorage.removeItem(SESSION_KEY);
    return null;
  }
  function setSession(session) {
    state.session = session;
    state.lookups = null;
    if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else localStorage.removeItem(SESSION_KEY);
  }
  const can = (scope) => !!(state.session && state.session.user && state.session.user.scopes.includes(scope));

  // ── API ─────────────────────────────────────────────────
  /** `contentType`: the body is sent as it is (a file's bytes) with that type, not as JSON. */
  async function api(path, { method = 'GET', body, raw = false, contentType } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = contentType || 'application/json';
    if (state.session) headers.Authorization = `Bearer ${state.session.token}`;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    let resp;
    try {
      resp = await fetch(path, { method, headers, cache: 'no-store', signal: ctl.signal,
        body: body === undefined || contentType ? body : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, { code: 'network', message: String(e) });
    } finally {
      clearTimeout(timer);
    }
    const day = resp.headers.get('X-Business-Date');
    if (day) state.today = day;
    if (raw && resp.ok) return resp;
    const data = await resp.json().catch(() => null);
    if (!resp.ok) {
      const err = new ApiError(resp.status, data);
      if (resp.status === 401 && state.session && path !== '/api/v1/admin/auth/login') Admin.onSignedOut(describe(err));
      throw err;
    }
    return data;
  }

  /** The forms' choices (tiers, stores, tags, segments, coupon templates, rule fields), once per sign-in. */
  async function lookups(fresh = false) {
    if (!state.lookups || fresh) state.lookups = await api('/api/v1/admin/lookups');
    return state.lookups;
  }

  function describe(err) {
    if (!(err instanceof ApiError)) return t('err.unexpected');
    const key = `err.${err.code}`;
    if (I18N.has(key)) return t(key, err.details);
    if (err.code === 'network') return t('err.network');
    if (err.status >= 500) return t('err.server', { status: err.status });
    return `${err.message} (${err.code})`;
  }

  // ── feedback ────────────────────────────────────────────
  let toastTimer = 0;
  function toast(text, kind = 'ok') {
    const box = $('toast');
    Object.assign(box, { textContent: text, className: `toast ${kind}`, hidden: false });
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, kind === 'error' ? 6000 : 3500);
  }
  const fail = (err) => toast(describe(err), 'error');

  /** A modal with `body` (a node); resolves true on OK. `check()` may veto closing with OK; `alone`: OK is the only button. */
  function ask(title, body, okLabel, { danger = false, check, alone = false } = {}) {
    const dialog = $('dialog');
    $('dialogTitle').textContent = title;
    $('dialogBody').replaceChildren(body);
    Object.assign($('dialogOk'), { textContent: okLabel, className: danger ? 'danger' : 'primary' });
    dialog.querySelector('button[value=cancel]').hidden = alone;
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) => {
      const onClose = async () => {
        if (dialog.returnValue === 'ok' && check && !(await check())) { dialog.showModal(); dialog.addEventListener('close', onClose, { once: true }); return; }
        resolve(dialog.returnValue === 'ok');
      };
      dialog.addEventListener('close', onClose, { once: true });
    });
  }

  // ── formats (zh-TW numbers and dates in Asia/Taipei) ────
  const locale = () => (I18N.lang === 'en' ? 'en-US' : 'zh-TW');
  const fmt = {
    num: (n) => (n == null ? '–' : Number(n).toLocaleString(locale())),
    money: (s) => (s == null ? '–' : `NT$${Number(s).toLocaleString(locale(), { maximumFractionDigits: 0 })}`),
    pct: (x) => (x == null ? '–' : `${(Number(x) * 100).toLocaleString(locale(), { maximumFractionDigits: 1 })}%`),
    date: (iso) => (iso ? new Date(iso).toLocaleDateString(locale(), { timeZone: 'Asia/Taipei', year: 'numeric', month: '2-digit', day: '2-digit' }) : '–'),
    time: (iso) => (iso ? new Date(iso).toLocaleString(locale(), { timeZone: 'Asia/Taipei', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }) : '–'),
    gender: (g) => t(`gender.${g || 'unknown'}`),
  };
  /** Today as YYYY-MM-DD in Taipei, as the server's clock says: every API answer carries it. */
  function today() {
    if (!state.today) throw new Error('the server has not said which day it is yet (X-Business-Date)');
    return state.today;
  }
  /** The Taipei day `offsetDays` from `from` (YYYY-MM-DD, by default the server's today). */
  function taipeiDay(offsetDays = 0, from = today()) {
    const noon = new Date(`${from}T12:00:00+08:00`);
    return new Date(noon.getTime() + offsetDays * 86400000).toLocaleDateString('sv-SE', { timeZone: 'Asia/Taipei' });
  }

  // ── page building blocks ────────────────────────────────
  function pageHead(title, sub, ...actions) {
    return el('div', { class: 'page-head' }, el('h1', {}, title, sub ? el('span', { class: 'sub', text: sub }) : null), ...actions);
  }
  function card(title, ...children) {
    return el('section', { class: 'card', 'aria-label': typeof title === 'string' ? title : null }, title ? el('h2', {}, title) : null, ...children);
  }
  function badge(text, kind = '') { return el('span', { class: `badge ${kind}`, text }); }
  function empty(text) { return el('p', { class: 'empty', text }); }
  function link(href, text, props = {}) { return el('a', { href, 'data-link': true, ...props }, text); }
  /** A table from rows: columns = [[heading, (row) => cell, 'num'?], …]. */
  function table(columns, rows, { onRow, label } = {}) {
    const head = el('tr', {}, columns.map(([h, , cls]) => el('th', { class: cls || null, scope: 'col' }, h)));
    const body = rows.map((row) => el('tr', { class: onRow ? 'clickable' : null, onclick: onRow ? () => onRow(row) : null },
      columns.map(([, cell, cls]) => el('td', { class: cls || null }, cell(row)))));
    return el('div', { class: 'table-wrap' }, el('table', { 'aria-label': label || null }, el('thead', {}, head), el('tbody', {}, body)));
  }
  /** Intervals and charts of the page being left are stopped by the router. */
  const every = (ms, fn) => { state.timers.push(setInterval(fn, ms)); };
  function cleanup() {
    state.timers.splice(0).forEach(clearInterval);
    state.charts.splice(0).forEach((c) => c.destroy());
  }

  return {
    pages: {}, state, ApiError, el, $, api, lookups, describe, toast, fail, ask, fmt, today, taipeiDay, t, can,
    loadSession, setSession, pageHead, card, badge, empty, link, table, every, cleanup,
    onSignedOut: () => {}, go: () => {},
  };
})();
