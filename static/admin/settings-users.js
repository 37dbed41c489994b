/* 設定 › 後台帳號 (owners only): the console's accounts and their roles; create one, disable or
 * enable it, set a new password (GET/POST /api/v1/admin/users…). The server refuses other roles
 * (403) and keeps the last active owner (409 last_owner); a change to one's own account signs
 * one out, as it ends every session of that account. */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;
  const ROLES = ['analyst', 'marketer', 'manager', 'owner'];
  const ROLE_KIND = { owner: 'warn', manager: 'info', marketer: '', analyst: '' };
  const url = (u, action) => `/api/v1/admin/users/${encodeURIComponent(u.email)}/${action}`;
  const isMe = (u) => !!(Admin.state.session.user && Admin.state.session.user.email === u.email);

  function status(u) {
    if (!u.active) return badge(t('users.disabled'), 'bad');
    if (u.failed_logins) return badge(t('users.failed', { n: u.failed_logins }), 'warn');
    return badge(t('users.active'), 'ok');
  }

  function showError(box, err) {
    box.textContent = Admin.describeField(err);
    box.hidden = false;
  }

  async function toggle(u, box) {
    const disabling = u.active;
    if (disabling && !(await Admin.ask(t('users.disableTitle', { name: u.name }),
      el('p', { text: t(isMe(u) ? 'users.disableSelf' : 'users.disableText', { email: u.email }) }), t('users.disable'), { danger: true }))) return;
    try {
      await Admin.api(url(u, disabling ? 'disable' : 'enable'), { method: 'POST' });
    } catch (err) {
      if (err.status !== 401) showError(box, err);
      return;
    }
    if (disabling && isMe(u)) { Admin.onSignedOut(t('users.selfSignedOut')); return; }
    Admin.toast(t(disabling ? 'users.disabledToast' : 'users.enabledToast', { email: u.email }));
    Admin.refresh();
  }

  async function resetPassword(u) {
    const input = el('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true });
    const body = el('div', { class: 'stack' }, el('p', { class: 'muted', text: t(isMe(u) ? 'users.passwordSelf' : 'users.passwordText', { email: u.email }) }),
      Admin.field(t('users.newPassword'), input, t('set.staff.passwordHint')));
    let signedOut = false;
    const check = async () => {
      Admin.clearFormError(body);
      try {
        await Admin.api(url(u, 'password'), { method: 'POST', body: { password: input.value } });
        return true;
      } catch (err) {
        if (err.status === 401) { signedOut = true; return true; }
        Admin.showFormError(body, err);
        return false;
      }
    };
    if (!(await Admin.ask(t('users.passwordTitle', { name: u.name }), body, t('users.passwordGo'), { check })) || signedOut) return;
    if (isMe(u)) { Admin.onSignedOut(t('users.passwordSelfDone')); return; }
    Admin.toast(t('users.passwordDone', { email: u.email }));
    Admin.refresh();
  }

  function createForm() {
    const email = el('input', { name: 'email', type: 'email', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: false });
    const name = el('input', { name: 'name', maxLength: 120 });
    const role = el('select', { name: 'role' }, ROLES.map((r) => el('option', { value: r, text: t(`role.${r}`) })));
    role.value = 'marketer';
    const roleHint = el('span', { class: 'hint', text: t('users.can.marketer') });
    role.addEventListener('change', () => { roleHint.textContent = t(`users.can.${role.value}`); });
    const password = el('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' });
    const form = el('form', { class: 'stack', onsubmit: (ev) => {
      ev.preventDefault();
      Admin.send(form, 'POST', '/api/v1/admin/users', { email: email.value.trim(), name: name.value.trim() || null, role: role.value, password: password.value },
        { done: t('users.created', { email: email.value.trim() }) });
    } },
    el('div', { class: 'grid g2', style: 'gap:12px' },
      Admin.field(t('users.email'), email, t('users.emailHint')), Admin.field(t('users.name'), name, t('users.nameHint')),
      el('label', { class: 'field' }, t('users.role'), role, roleHint), Admin.field(t('users.password'), password, t('set.staff.passwordHint'))),
    el('div', {}, el('button', { class: 'primary', type: 'submit', text: t('users.create') })));
    return form;
  }

  Admin.settingsTabs.users = async (main) => {
    const { users } = await Admin.api('/api/v1/admin/users');
    const box = el('div', { class: 'alert', role: 'alert', hidden: true, style: 'margin-bottom:12px' });
    main.append(card(t('set.tab.users'), el('p', { class: 'muted', style: 'margin-bottom:12px', text: t('users.note') }), box, table([
      [t('users.name'), (u) => el('span', {}, el('b', { text: u.name }), isMe(u) ? el('span', { class: 'muted', text: ` ${t('users.you')}` }) : null)],
      [t('users.email'), (u) => u.email],
      [t('users.role'), (u) => badge(t(`role.${u.role}`), ROLE_KIND[u.role])],
      [t('users.status'), status],
      [t('users.lastLogin'), (u) => fmt.time(u.last_login_at)],
      ['', (u) => el('span', { class: 'chips' },
        el('button', { class: `small ${u.active ? 'danger' : 'secondary'}`, type: 'button', text: t(u.active ? 'users.disable' : 'users.enable'), onclick: () => toggle(u, box) }),
        el('button', { class: 'secondary small', type: 'button', text: t('users.resetPassword'), onclick: () => resetPassword(u) }))],
    ], users, { label: t('set.tab.users') })), el('div', { style: 'height:18px' }), card(t('users.add'), createForm()));
  };
})();
