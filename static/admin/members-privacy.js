/* One member's data rights on their page (owners: settings:manage): download a copy of everything
 * held about them (GET …/export, audited) and erase them at their request, with a reason
 * (POST …/erase, audited). An erased member's page says so, and offers neither. */
'use strict';
I18N.add({
  'privacy.title': ['個資權利', 'Data rights'],
  'privacy.note': ['會員臨櫃要求時：下載其資料副本，或刪除其個人資料（姓名、手機、生日、性別與 LINE 帳號連結）。點數紀錄與報表數字會保留且匿名。兩者都會記錄在稽核紀錄。',
    'When a member asks at the counter: download a copy of their data, or erase their personal data (name, phone, birthday, gender and LINE link). The ledger and report figures stay, anonymous. Both are audited.'],
  'privacy.ownerOnly': ['只有擁有者可以匯出或刪除會員資料。', 'Only an owner can export or erase a member\'s data.'],
  'privacy.export': ['下載資料副本', 'Download their data'],
  'privacy.exported': ['已下載會員資料', 'Data downloaded'],
  'privacy.erase': ['刪除會員資料', 'Erase member data'],
  'privacy.eraseTitle': ['刪除這位會員的個人資料？', 'Erase this member\'s personal data?'],
  'privacy.eraseText': ['姓名、手機、生日、性別、同意紀錄與 LINE 帳號連結會立即清除，無法復原；剩餘點數與未使用的優惠券將失效。請填寫原因（會記錄在稽核紀錄）。',
    'Name, phone, birthday, gender, consent and the LINE link are erased at once and for good; remaining points and unused coupons lapse. Give the reason (it goes into the audit log).'],
  'privacy.reason': ['原因', 'Reason'],
  'privacy.reasonHint': ['例如：本人於信義店臨櫃申請', 'e.g. asked in person at the store'],
  'privacy.erased': ['已刪除會員資料', 'Member data erased'],
  'privacy.erasedOn': ['此會員的個人資料已於 {when} 刪除。點數紀錄與報表數字保留且匿名。', 'This member\'s personal data was erased on {when}. The ledger and report figures stay, anonymous.'],
  'members.erased': ['已刪除', 'Erased'],
  'err.member_erased': ['這位會員的資料已刪除，無法再集點或使用', 'This member\'s data was erased; nothing can be earned or used'],
  'err.reason_required': ['請填寫原因', 'Give a reason'],
});

(() => {
  const { el, t, fmt, card } = Admin;

  function download(data, name) {
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  Admin.privacyCard = (d, no) => {
    if (d.profile.erased_at) return card(t('privacy.title'), el('p', { id: 'erasedNote', text: t('privacy.erasedOn', { when: fmt.time(d.profile.erased_at) }) }));
    if (!Admin.can('settings:manage')) return card(t('privacy.title'), el('p', { class: 'muted', text: t('privacy.ownerOnly') }));
    const exportData = async () => {
      try {
        download(await Admin.api(`/api/v1/admin/members/${encodeURIComponent(no)}/export`), `member-${no}.json`);
        Admin.toast(t('privacy.exported'));
      } catch (err) { Admin.fail(err); }
    };
    const erase = async () => {
      const reason = el('input', { name: 'reason', maxLength: 200, required: true, placeholder: t('privacy.reasonHint') });
      const body = el('div', { class: 'stack' }, el('p', { text: t('privacy.eraseText') }), el('label', { class: 'field' }, t('privacy.reason'), reason));
      const check = () => { if (reason.value.trim()) return true; Admin.toast(t('err.reason_required'), 'error'); return false; };
      if (!(await Admin.ask(t('privacy.eraseTitle'), body, t('privacy.erase'), { danger: true, check }))) return;
      try {
        await Admin.api(`/api/v1/admin/members/${encodeURIComponent(no)}/erase`, { method: 'POST', body: { reason: reason.value.trim() } });
        Admin.toast(t('privacy.erased'));
        Admin.refresh();
      } catch (err) { Admin.fail(err); }
    };
    return card(t('privacy.title'), el('p', { class: 'muted', text: t('privacy.note') }),
      el('div', { class: 'row' },
        el('button', { class: 'secondary', type: 'button', id: 'exportMember', text: t('privacy.export'), onclick: exportData }),
        el('button', { class: 'danger', type: 'button', id: 'eraseMember', text: t('privacy.erase'), onclick: erase })));
  };
})();
