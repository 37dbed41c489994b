/* 設定 › 調整核准: corrections above the threshold waiting for a second person's approval, from every
 * store's counter and from this console (GET /api/v1/admin/correction-requests, members:adjust).
 * Owners (settings:manage) approve or reject them (POST …/ID/approve|reject); nobody decides their own
 * request (it shows 「待主管核准」), and a request past CORRECTION_APPROVAL_HOURS can only be asked again. */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;
  const what = (r) => `${r.amount > 0 ? '+' : ''}${fmt.num(r.amount)} ${r.currency === 'stamp' ? t('members.stamps') : t('members.points')}`;

  async function decide(r, verb) {
    const approve = verb === 'approve';
    const note = el('input', { name: 'note', maxLength: 200, placeholder: t('corr.notePlaceholder'), 'aria-label': t('corr.note') });
    const body = el('div', { class: 'stack' }, el('p', { text: t('corr.confirmText', { what: what(r), no: r.member.member_no, who: r.requested_by, reason: r.reason }) }),
      approve ? null : el('label', { class: 'field' }, t('corr.note'), note));
    if (!(await Admin.ask(t(approve ? 'corr.approveTitle' : 'corr.rejectTitle'), body, t(approve ? 'corr.approve' : 'corr.reject'), { danger: !approve }))) return;
    try {
      await Admin.api(`/api/v1/admin/correction-requests/${r.id}/${verb}`, { method: 'POST', body: approve ? undefined : { note: note.value.trim() || undefined } });
      Admin.toast(t(approve ? 'corr.approved' : 'corr.rejected', { what: what(r), no: r.member.member_no }));
    } catch (err) { Admin.fail(err); }
    Admin.refresh();
  }

  const actions = (r) => {
    if (r.status !== 'pending') return '';
    if (r.mine) return badge(t('corr.waiting'), 'warn');
    if (!Admin.can('settings:manage')) return badge(t('corr.waiting'), 'warn');
    return el('span', { class: 'chips' },
      el('button', { class: 'secondary small', type: 'button', text: t('corr.reject'), onclick: () => decide(r, 'reject') }),
      el('button', { class: 'primary small', type: 'button', text: t('corr.approve'), onclick: () => decide(r, 'approve') }));
  };

  Admin.settingsTabs.corrections = async (main) => {
    const [{ requests: pending }, { requests: all }] = await Promise.all([
      Admin.api('/api/v1/admin/correction-requests'), Admin.api('/api/v1/admin/correction-requests?status=all')]);
    const columns = [
      [t('corr.when'), (r) => fmt.time(r.requested_at)],
      [t('corr.where'), (r) => r.store_name || t('corr.console')],
      [t('corr.member'), (r) => Admin.link(`/admin/members/${r.member.member_no}`, `${r.member.name || ''} ${r.member.member_no}`.trim())],
      [t('members.delta'), (r) => el('span', { class: r.amount > 0 ? 'plus' : 'minus', text: what(r) }), 'num'],
      [t('members.reason'), (r) => r.reason],
      [t('corr.by'), (r) => r.requested_by],
    ];
    main.append(el('p', { class: 'muted', style: 'margin-bottom:14px', text: t('corr.note.intro') }),
      card(t('corr.pending'), pending.length ? table([...columns, [t('corr.until'), (r) => fmt.time(r.expires_at)], ['', actions]], pending,
        { label: t('corr.pending') }) : Admin.empty(t('corr.none'))),
      el('div', { style: 'height:18px' }),
      card(t('corr.history'), all.filter((r) => r.status !== 'pending').length ? table([...columns,
        [t('members.status'), (r) => badge(t(`corr.status.${r.status}`), { approved: 'ok', rejected: 'bad' }[r.status] || '')],
        [t('corr.decidedBy'), (r) => r.decided_by || '–']], all.filter((r) => r.status !== 'pending'), { label: t('corr.history') })
        : Admin.empty(t('corr.noHistory'))));
  };
})();
