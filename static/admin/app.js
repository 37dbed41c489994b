/* 行銷後台 start-up: sign-in, the language switch and the router (/admin/… paths, history API,
 * so a reload or a shared link opens the same page; the server answers every /admin path with
 * this one page). */
'use strict';
(() => {
  const { el, $, t } = Admin;
  const ROUTES = [ // [pattern, page, nav]
    [/^\/admin\/?$/, null, 'dashboard'],
    [/^\/admin\/dashboard$/, 'dashboard', 'dashboard'],
    [/^\/admin\/members$/, 'members', 'members'],
    [/^\/admin\/members\/(\w+)$/, 'member', 'members'],
    [/^\/admin\/segments$/, 'segments', 'segments'],
    [/^\/admin\/campaigns$/, 'campaigns', 'campaigns'],
    [/^\/admin\/campaigns\/new$/, 'compose', 'campaigns'],
    [/^\/admin\/campaigns\/(\d+)$/, 'campaign', 'campaigns'],
    [/^\/admin\/settings(?:\/(\w+))?$/, 'settings', 'settings'],
  ];
  let rendering = 0;

  function translateStatic() {
    document.documentElement.lang = I18N.lang === 'en' ? 'en' : 'zh-Hant-TW';
    document.title = t('app.title');
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const box of document.querySelectorAll('.lang')) {
      box.replaceChildren(...[['zh-TW', '中文'], ['en', 'EN']].map(([code, label]) => el('button', {
        type: 'button', class: 'small', text: label, 'aria-pressed': String(I18N.lang === code),
        lang: code === 'en' ? 'en' : 'zh-Hant-TW', onclick: () => { I18N.setLang(code); translateStatic(); render(); },
      })));
    }
  }

  async function render() {
    const session = Admin.state.session;
    $('loginView').hidden = !!session;
    $('appView').hidden = !session;
    Admin.cleanup();
    if (!session) { $('email').focus(); return; }
    const path = location.pathname.replace(/\/+$/, '') || '/admin';
    const [, page, nav] = ROUTES.find(([re]) => re.test(path)) || [null, 'missing', ''];
    const params = (ROUTES.find(([re]) => re.test(path)) || [/$/])[0].exec(path).slice(1);
    if (page === null) { Admin.go('/admin/dashboard', true); return; }
    for (const a of document.querySelectorAll('[data-nav]')) {
      if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    for (const a of document.querySelectorAll('[data-nav="settings"]')) a.hidden = !(Admin.can('settings:manage') || Admin.can('campaigns:manage'));
    const user = session.user || {};
    $('who').textContent = `${user.name || ''} · ${t(`role.${user.role}`)}`;
    const main = $('main');
    const mine = ++rendering;
    main.replaceChildren(el('p', { class: 'empty', text: t('common.loading') }));
    try {
      const content = el('div');
      if (!Admin.state.lookups) await Admin.lookups().catch(() => null); // the brand's name for previews, the forms' choices
      await (Admin.pages[page] || Admin.pages.missing)(content, params);
      if (mine === rendering) main.replaceChildren(content);
    } catch (err) {
      if (mine === rendering) main.replaceChildren(Admin.card(t('err.title'), el('p', { class: 'alert', role: 'alert', text: Admin.describe(err) })));
    }
  }

  Admin.go = (path, replace = false) => {
    $('toast').hidden = true; // a note about the page being left
    if (replace) history.replaceState(null, '', path);
    else if (path !== location.pathname) history.pushState(null, '', path);
    window.scrollTo(0, 0);
    render();
  };
  Admin.refresh = render;
  Admin.pages.missing = async (main) => { main.append(Admin.pageHead(t('err.notFound')), Admin.link('/admin/dashboard', t('nav.dashboard'))); };

  Admin.onSignedOut = (message) => {
    Admin.setSession(null);
    $('loginError').textContent = message || '';
    $('loginError').hidden = !message;
    render();
  };

  async function signIn(ev) {
    ev.preventDefault();
    const btn = $('loginBtn');
    btn.disabled = true;
    $('loginError').hidden = true;
    try {
      const data = await Admin.api('/api/v1/admin/auth/login', { method: 'POST', body: { email: $('email').value, password: $('password').value } });
      Admin.setSession({ token: data.token, expires_at: data.expires_at, user: data.user });
      $('password').value = '';
      render();
      if (data.failed_attempts) Admin.toast(t('login.failedSince', { n: data.failed_attempts })); // someone tried this account
    } catch (err) {
      $('loginError').textContent = Admin.describe(err);
      $('loginError').hidden = false;
      $('password').select();
    } finally {
      btn.disabled = false;
    }
  }

  async function signOut() {
    try { await Admin.api('/api/v1/admin/auth/logout', { method: 'POST' }); } catch (e) { /* signed out locally anyway */ }
    Admin.onSignedOut('');
  }

  document.addEventListener('click', (ev) => {
    const a = ev.target.closest('a[data-link]');
    if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
    ev.preventDefault();
    Admin.go(a.getAttribute('href'));
  });
  window.addEventListener('popstate', render);
  $('loginForm').addEventListener('submit', signIn);
  $('signOut').addEventListener('click', signOut);
  Admin.setSession(Admin.loadSession());
  translateStatic();
  render();
})();
