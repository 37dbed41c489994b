/* Forms that show a refusal where it happened: the API's {code, message, details} becomes a
 * message inside the form (role=alert), and the field named by details.field is marked and focused.
 *   Admin.send(form, method, path, body, {done, then}) → the answer, or null when refused.
 * A message for one field of one code is `err.CODE.FIELD` in the texts, else `err.CODE`. */
'use strict';
(() => {
  const { el, t } = Admin;

  /** The text for an error, specific to the field it names when the texts have one. */
  Admin.describeField = (err) => {
    const field = err && err.details && err.details.field;
    if (field && I18N.has(`err.${err.code}.${field}`)) return t(`err.${err.code}.${field}`, err.details);
    return Admin.describe(err);
  };

  /** The form's alert box (made on first use, first in the form). */
  function alertBox(form) {
    let box = form.querySelector(':scope > .alert.form-error');
    if (!box) {
      box = el('div', { class: 'alert form-error', role: 'alert', hidden: true });
      form.prepend(box);
    }
    return box;
  }

  Admin.clearFormError = (form) => {
    alertBox(form).hidden = true;
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  };

  Admin.showFormError = (form, err) => {
    Admin.clearFormError(form);
    const box = alertBox(form);
    box.textContent = Admin.describeField(err);
    box.hidden = false;
    const field = err && err.details && err.details.field;
    const input = field && form.querySelector(`[name="${CSS.escape(field)}"]`);
    if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); } else box.scrollIntoView({ block: 'nearest' });
  };

  /** Sends; on success a toast (`done`) and `then(answer)` (default: redraw the page). */
  Admin.send = async (form, method, path, body, { done = t('common.saved'), then } = {}) => {
    const buttons = [...form.querySelectorAll('button[type=submit]')];
    buttons.forEach((b) => { b.disabled = true; });
    Admin.clearFormError(form);
    try {
      const answer = await Admin.api(path, { method, body });
      if (done) Admin.toast(done);
      await (then ? then(answer) : Admin.refresh());
      return answer;
    } catch (err) {
      if (!(err instanceof Admin.ApiError && err.status === 401)) Admin.showFormError(form, err); // 401: the sign-in page says why
      return null;
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  };

  /** A labelled field: field(label, input, hint?). */
  Admin.field = (label, input, hint) => el('label', { class: 'field' }, label, input, hint ? el('span', { class: 'hint', text: hint }) : null);

  /** A whole number from an input, or the text itself when it is not one (the API then names the field). */
  Admin.intOrRaw = (input) => {
    const raw = input.value.trim();
    if (raw === '') return null;
    return /^-?\d+$/.test(raw) ? Number(raw) : raw;
  };
})();
