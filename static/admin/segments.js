/* 分眾: build a rule with the form (rule-form.js), watch the live count and a sample
 * (POST /api/v1/admin/segments/preview, a moment after each change), save it as a segment, and
 * the saved segments: load one back into the form, export it as CSV, or send it a campaign. */
'use strict';
(() => {
  const { el, t, fmt, card, table } = Admin;
  const DEBOUNCE_MS = 300;

  async function exportCsv(segment) {
    try {
      const resp = await Admin.api(`/api/v1/admin/segments/${segment.id}/members.csv`, { raw: true });
      const url = URL.createObjectURL(await resp.blob());
      const a = el('a', { href: url, download: `segment-${segment.id}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) { Admin.fail(err); }
  }

  Admin.pages.segments = async (main) => {
    const lookups = await Admin.lookups(true);
    const [{ segments }, overview] = await Promise.all([Admin.api('/api/v1/admin/segments'), Admin.api('/api/v1/admin/segments/overview')]);
    const countBox = el('div', { class: 'count-box', role: 'status', 'aria-live': 'polite' },
      el('b', { id: 'liveCount', text: '–' }), el('span', { class: 'muted', text: t('seg.members') }));
    const problem = el('p', { class: 'field-error', role: 'alert', hidden: true });
    const sample = el('div');
    let timer = 0;
    let asked = 0;

    async function preview() {
      const rule = form.rule();
      if (rule === null) {
        problem.textContent = t('seg.incomplete');
        problem.hidden = false;
        return;
      }
      const mine = ++asked;
      countBox.classList.add('busy');
      try {
        const data = await Admin.api('/api/v1/admin/segments/preview', { method: 'POST', body: { rule } });
        if (mine !== asked) return;
        problem.hidden = true;
        countBox.querySelector('b').textContent = fmt.num(data.count);
        sample.replaceChildren(data.sample.length ? table([
          [t('members.name'), (m) => Admin.link(`/admin/members/${m.member_no}`, m.name || t('common.unknown'))],
          [t('members.number'), (m) => m.member_no],
          [t('members.gender'), (m) => fmt.gender(m.gender)],
          [t('members.joined'), (m) => fmt.date(m.joined_at)],
        ], data.sample, { label: t('seg.sample') }) : Admin.empty(t('seg.nobody')));
      } catch (err) {
        if (mine !== asked) return;
        problem.textContent = Admin.describe(err);
        problem.hidden = false;
      } finally {
        if (mine === asked) countBox.classList.remove('busy');
      }
    }
    const changed = () => { clearTimeout(timer); timer = setTimeout(preview, DEBOUNCE_MS); };
    const form = Admin.ruleForm(lookups, changed);

    const name = el('input', { name: 'segmentName', maxLength: 120, required: true, placeholder: t('seg.nameHint'), 'aria-label': t('seg.name') });
    const canSave = Admin.can('campaigns:manage');
    async function save(ev) {
      ev.preventDefault();
      const rule = form.rule();
      if (rule === null) { Admin.toast(t('seg.incomplete'), 'error'); return; }
      try {
        const made = await Admin.api('/api/v1/admin/segments', { method: 'POST', body: { name: name.value.trim(), rule } });
        Admin.toast(t('seg.saved', { name: made.name, n: fmt.num(made.count) }));
        Admin.refresh();
      } catch (err) { Admin.fail(err); }
    }
    const saveForm = canSave ? el('form', { class: 'row', style: 'margin-top:18px;padding-top:16px;border-top:1px solid var(--border)', onsubmit: save },
      el('label', { class: 'field' }, t('seg.name'), name), el('button', { class: 'primary shrink', type: 'submit', text: t('seg.save') })) : null;

    main.append(Admin.pageHead(t('seg.title'), t('seg.sub')));
    main.append(el('div', { class: 'split', style: 'margin-bottom:18px' },
      card(t('seg.conditions'), form.node, saveForm),
      card(t('seg.preview'), countBox, el('p', { class: 'muted', id: 'segComputed', style: 'font-size:13px;margin:4px 0',  // RFM, NES, rule tags as of
        text: overview.computed_at ? t('rfm.computedAt', { at: fmt.time(overview.computed_at) }) : t('rfm.neverComputed') }), problem, el('h3', { style: 'font-size:14px;margin:6px 0', text: t('seg.sample') }), sample)));

    const actions = (s) => el('div', { class: 'chips' },
      el('button', { class: 'secondary small', type: 'button', text: t('seg.load'), onclick: () => {
        if (form.set(s.rule)) { name.value = ''; window.scrollTo(0, 0); } else Admin.toast(t('seg.tooDeep'), 'error');
      } }),
      el('button', { class: 'secondary small', type: 'button', text: t('seg.export'), onclick: () => exportCsv(s) }),
      Admin.can('campaigns:manage') ? Admin.link(`/admin/campaigns/new?segment=${s.id}`, t('seg.campaign'), { class: 'btn secondary small' }) : null);
    main.append(el('div', { style: 'margin-bottom:18px' }, Admin.segmentPresets(lookups, { onLoad: (p) => {
      if (form.set(p.rule)) { name.value = p.name; window.scrollTo(0, 0); } else Admin.toast(t('seg.tooDeep'), 'error');
    } })));
    main.append(card(t('seg.saved.title'), segments.length ? table([
      [t('seg.name'), (s) => el('b', { text: s.name })],
      [t('seg.rule'), (s) => el('span', { class: 'muted', text: Admin.describeRule(s.rule, lookups) })],
      ['', actions],
    ], segments, { label: t('seg.saved.title') }) : Admin.empty(t('seg.noneSaved'))));

    const from = new URLSearchParams(location.search).get('rule');
    if (!(from && form.set(JSON.parse(from)))) form.add({ field: 'gender', op: 'eq', value: 'female' });
    preview();
  };
})();
