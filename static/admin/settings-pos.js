/* 設定 › POS 金鑰: each store's API keys for its POS (GET/POST /api/v1/admin/stores/CODE/api-keys,
 * POST …/KEY_ID/revoke). Only a key's public id is ever listed; a new key's whole text is shown
 * once, in a dialog with a copy button, and dropped from the page when the dialog closes. */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;
  const keysUrl = (store) => `/api/v1/admin/stores/${encodeURIComponent(store.code)}/api-keys`;

  async function copy(input) {
    try {
      await navigator.clipboard.writeText(input.value);
      return true;
    } catch (e) { // no clipboard API (an insecure origin, an old browser): the selection and the copy command
      input.select();
      return document.execCommand('copy');
    }
  }

  async function showOnce(store, created) {
    const value = el('input', { readOnly: true, value: created.api_key, class: 'secret', id: 'newApiKey', 'aria-label': t('keys.secret'), onfocus: (ev) => ev.target.select() });
    const button = el('button', { type: 'button', class: 'secondary shrink', text: t('keys.copy'), onclick: async () => {
      button.textContent = (await copy(value)) ? t('keys.copied') : t('keys.copyFailed');
    } });
    await Admin.ask(t('keys.createdTitle', { store: store.name }), el('div', { class: 'stack' },
      el('p', { class: 'alert warn', text: t('keys.once') }), el('div', { class: 'row', style: 'align-items:center' }, value, button),
      el('p', { class: 'muted', style: 'font-size:13px', text: t('keys.howTo') })), t('keys.stored'), { alone: true });
    Admin.$('dialogBody').replaceChildren(); // the secret leaves the page with the dialog
    Admin.refresh();
  }

  async function revoke(store, key, box) {
    if (!(await Admin.ask(t('keys.revokeTitle', { label: key.label }), el('p', { text: t('keys.revokeText', { store: store.name }) }), t('keys.revoke'), { danger: true }))) return;
    try {
      await Admin.api(`${keysUrl(store)}/${encodeURIComponent(key.key_id)}/revoke`, { method: 'POST' });
      Admin.toast(t('keys.revoked', { label: key.label }));
      Admin.refresh();
    } catch (err) {
      if (err.status !== 401) Object.assign(box, { textContent: Admin.describeField(err), hidden: false });
    }
  }

  async function storeCard(store) {
    const { keys } = await Admin.api(keysUrl(store));
    const box = el('div', { class: 'alert', role: 'alert', hidden: true, style: 'margin-bottom:12px' });
    const label = el('input', { name: 'label', maxLength: 120, placeholder: 'POS 1' });
    const form = el('form', { class: 'row', style: 'margin-top:14px', onsubmit: (ev) => {
      ev.preventDefault();
      Admin.send(form, 'POST', keysUrl(store), { label: label.value.trim() || null }, { done: null, then: (created) => showOnce(store, created) });
    } }, Admin.field(t('keys.label'), label), el('button', { class: 'primary shrink', type: 'submit', text: t('keys.create') }));
    return el('section', { class: 'card', 'aria-label': t('keys.of', { store: store.name }) },
      el('h2', {}, el('span', {}, store.name, el('span', { class: 'sub', text: store.code }))), box,
      keys.length ? table([
        [t('keys.label'), (k) => el('b', { text: k.label })],
        [t('keys.key'), (k) => el('code', { text: k.hint })],
        [t('keys.created'), (k) => fmt.time(k.created_at)],
        [t('keys.status'), (k) => (k.active ? badge(t('keys.active'), 'ok') : badge(t('keys.revokedAt', { when: fmt.date(k.revoked_at) }), 'bad'))],
        ['', (k) => (k.active ? el('button', { class: 'danger small', type: 'button', text: t('keys.revoke'), onclick: () => revoke(store, k, box) }) : '')],
      ], keys, { label: t('keys.of', { store: store.name }) }) : Admin.empty(t('keys.none')), form);
  }

  Admin.settingsTabs.keys = async (main) => {
    const { stores } = await Admin.api('/api/v1/admin/stores');
    main.append(el('p', { class: 'muted', style: 'margin-bottom:14px', text: t('keys.note') }));
    if (!stores.length) { main.append(card(null, Admin.empty(t('keys.noStores')))); return; }
    main.append(el('div', { class: 'grid g2' }, await Promise.all(stores.map(storeCard))));
  };
})();
