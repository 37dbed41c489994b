/* 設定 › API 權杖 (owners only): admin tokens for other systems (GET/POST /api/v1/admin/tokens,
 * DELETE …/ID): list with status, mint one (scopes, optional expiry; shown once), revoke one.
 * And the staff of a store over their life (POST …/stores/CODE/staff/USER/disable|enable|password|
 * sign-out), offered as buttons in 門市與人員 (settings-more.js). */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;
  const SCOPES = ['members:read', 'campaigns:manage', 'members:adjust', 'settings:manage'];

  function status(tok) {
    if (tok.revoked_at) return badge(t('tokens.revoked'), 'bad');
    if (!tok.active) return badge(t('tokens.expired'), 'bad');
    return badge(t('tokens.active'), 'ok');
  }

  async function showOnce(created) {
    const value = el('input', { readOnly: true, value: created.token, class: 'secret', id: 'newToken', 'aria-label': t('tokens.secret'), onfocus: (ev) => ev.target.select() });
    await Admin.ask(t('tokens.createdTitle', { name: created.name }), el('div', { class: 'stack' },
      el('p', { class: 'alert warn', text: t('keys.once') }), value), t('keys.stored'), { alone: true });
    Admin.$('dialogBody').replaceChildren(); // the secret leaves the page with the dialog
    Admin.refresh();
  }

  async function revoke(tok) {
    if (!(await Admin.ask(t('tokens.revokeTitle', { name: tok.name }), el('p', { text: t('tokens.revokeText') }), t('tokens.revoke'), { danger: true }))) return;
    await Admin.saveThen('DELETE', `/api/v1/admin/tokens/${tok.id}`, undefined, t('tokens.revokedToast', { name: tok.name }));
  }

  function createForm() {
    const name = el('input', { name: 'name', required: true, maxLength: 120, placeholder: 'CRM' });
    const days = el('input', { name: 'days', type: 'number', min: 1, max: 3650, placeholder: '90' });
    const boxes = SCOPES.map((s) => el('label', {}, el('input', { type: 'checkbox', value: s, checked: s === 'members:read' }), ` ${t(`tokens.scope.${s}`)}`));
    const form = el('form', { class: 'stack', onsubmit: (ev) => {
      ev.preventDefault();
      const scopes = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      Admin.send(form, 'POST', '/api/v1/admin/tokens', { name: name.value.trim(), scopes, expires_in_days: days.value ? Number(days.value) : null },
        { done: null, then: showOnce });
    } },
    el('div', { class: 'grid g2', style: 'gap:12px' }, Admin.field(t('tokens.name'), name), Admin.field(t('tokens.days'), days, t('tokens.daysHint'))),
    el('div', { class: 'multi', role: 'group', 'aria-label': t('tokens.scopes') }, boxes),
    el('div', {}, el('button', { class: 'primary', type: 'submit', text: t('tokens.create') })));
    return form;
  }

  Admin.settingsTabs.tokens = async (main) => {
    const { tokens } = await Admin.api('/api/v1/admin/tokens');
    main.append(card(t('set.tab.tokens'), el('p', { class: 'muted', style: 'margin-bottom:12px', text: t('tokens.note') }), tokens.length ? table([
      [t('tokens.name'), (k) => el('b', { text: k.name })],
      [t('tokens.key'), (k) => el('code', { text: `adm_${k.key_id}_…` })],
      [t('tokens.scopes'), (k) => SCOPES.filter((s) => k.scopes.includes(s)).map((s) => t(`tokens.scope.${s}`)).join('、')],
      [t('tokens.expires'), (k) => (k.expires_at ? fmt.date(k.expires_at) : t('tokens.never'))],
      [t('tokens.status'), status],
      ['', (k) => (k.active ? el('button', { class: 'danger small', type: 'button', text: t('tokens.revoke'), onclick: () => revoke(k) }) : '')],
    ], tokens, { label: t('set.tab.tokens') }) : Admin.empty(t('tokens.none'))), el('div', { style: 'height:18px' }), card(t('tokens.create'), createForm()));
  };

  // ── staff over their life ───────────────────────────────
  const staffUrl = (store, s, action) => `/api/v1/admin/stores/${encodeURIComponent(store.code)}/staff/${encodeURIComponent(s.username)}/${action}`;

  async function newPassword(store, s) {
    const input = el('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true });
    const body = el('div', { class: 'stack' }, el('p', { class: 'muted', text: t('staff.passwordText', { name: s.name }) }),
      Admin.field(t('users.newPassword'), input, t('set.staff.passwordHint')));
    const check = async () => {
      Admin.clearFormError(body);
      try { await Admin.api(staffUrl(store, s, 'password'), { method: 'POST', body: { password: input.value } }); return true; } catch (err) { Admin.showFormError(body, err); return false; }
    };
    if (await Admin.ask(t('staff.passwordTitle', { name: s.name }), body, t('users.passwordGo'), { check })) {
      Admin.toast(t('staff.passwordDone', { name: s.name }));
      Admin.refresh();
    }
  }

  async function act(store, s, action, danger) {
    if (danger && !(await Admin.ask(t(`staff.${action}Title`, { name: s.name }), el('p', { text: t(`staff.${action}Text`) }), t(`staff.${action}`), { danger: true }))) return;
    await Admin.saveThen('POST', staffUrl(store, s, action), undefined, t(`staff.${action}Done`, { name: s.name }));
  }

  /** The buttons of one staff row. */
  Admin.staffActions = (store, s) => el('span', { class: 'chips' },
    s.active ? el('button', { class: 'danger small', type: 'button', text: t('staff.disable'), onclick: () => act(store, s, 'disable', true) })
      : el('button', { class: 'secondary small', type: 'button', text: t('staff.enable'), onclick: () => act(store, s, 'enable', false) }),
    el('button', { class: 'secondary small', type: 'button', text: t('staff.password'), onclick: () => newPassword(store, s) }),
    el('button', { class: 'secondary small', type: 'button', text: t('staff.sign-out'), onclick: () => act(store, s, 'sign-out', true) }));
})();
