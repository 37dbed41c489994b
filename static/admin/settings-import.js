/* 設定 › 匯入會員: an existing member list (CSV, UTF-8 or Big5) becomes pre-members
 * (POST /api/v1/admin/member-imports, the file's bytes as the body). 試算 (dry_run=1) answers the
 * report at once and writes nothing; 開始匯入 starts the import in the background and the page
 * polls GET …/member-imports/ID every 0.7 s for its counts until it is done (or failed). */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;
  const POLL_MS = 700;
  const COLUMNS = ['name', 'phone', 'birthday', 'gender', 'points', 'stamps', 'tier', 'joined_on', 'tags', 'external_id'];

  const reason = (e) => (I18N.has(`imp.err.${e.code}`) ? t(`imp.err.${e.code}`) : e.message);
  const column = (c) => (c ? t(`imp.col.${c}`) : '–');

  function reportCard(r, title) {
    const counts = el('ul', { class: 'stack', 'aria-label': t('imp.counts') },
      el('li', { text: t('imp.total', { n: fmt.num(r.total), enc: r.encoding === 'cp950' ? 'Big5' : 'UTF-8' }) }),
      el('li', { text: t(r.dry_run ? 'imp.wouldImport' : 'imp.toImport', { n: fmt.num(r.to_import) }) }),
      el('li', { text: t('imp.unchanged', { n: fmt.num(r.unchanged) }) }),
      el('li', { text: t('imp.errorRows', { n: fmt.num(r.error_rows) }) }),
      r.ignored_columns.length ? el('li', { class: 'muted', text: t('imp.ignored', { cols: r.ignored_columns.join('、') }) }) : null);
    const errors = r.errors.length ? table([
      [t('imp.line'), (e) => String(e.line), 'num'], [t('imp.column'), (e) => column(e.column)], [t('imp.reason'), reason]],
    r.errors, { label: t('imp.errors') }) : el('p', { class: 'muted', text: t('imp.noErrors') });
    return card(title, counts, el('div', { style: 'height:12px' }), errors,
      r.errors_left_off ? el('p', { class: 'muted', text: t('imp.leftOff', { n: fmt.num(r.errors_left_off) }) }) : null);
  }

  function progressCard(job) {
    const share = job.to_import ? Math.round((100 * job.imported) / job.to_import) : (job.status === 'done' ? 100 : 0);
    const text = job.status === 'done' ? t('imp.done', { n: fmt.num(job.imported), unchanged: fmt.num(job.unchanged) })
      : job.status === 'failed' ? t('imp.failed', { n: fmt.num(job.imported) })
        : t('imp.progress', { done: fmt.num(job.imported), total: fmt.num(job.to_import) });
    return card(t('imp.running'), el('div', { class: 'progress', role: 'progressbar', 'aria-label': t('imp.running'), 'aria-valuenow': share,
      'aria-valuemin': 0, 'aria-valuemax': 100 }, el('div', { style: `width:${share}%` })),
    el('p', { id: 'importStatus', role: 'status', style: 'margin-top:8px' }, badge(t(`imp.status.${job.status}`),
      { done: 'ok', failed: 'bad', running: 'warn', queued: 'warn' }[job.status]), ' ', text));
  }

  Admin.settingsTabs.import = async (main) => {
    const { stores } = await Admin.lookups();
    const file = el('input', { type: 'file', name: 'file', accept: '.csv,text/csv', 'aria-label': t('imp.file') });
    const store = el('select', { name: 'store', 'aria-label': t('imp.store') }, stores.map((s) => el('option', { value: s.code, text: s.name })));
    const alert = el('p', { class: 'alert bad', role: 'alert', hidden: true });
    const out = el('div', { class: 'stack' });

    async function send(dryRun) {
      alert.hidden = true;
      const chosen = file.files && file.files[0];
      if (!chosen) { Object.assign(alert, { textContent: t('imp.chooseFile'), hidden: false }); return; }
      const query = new URLSearchParams({ filename: chosen.name, store: store.value });
      if (dryRun) query.set('dry_run', '1');
      try {
        const answer = await Admin.api(`/api/v1/admin/member-imports?${query}`, { method: 'POST', body: await chosen.arrayBuffer(), contentType: 'text/csv' });
        if (dryRun) { out.replaceChildren(reportCard(answer, t('imp.dryRunTitle'))); return; }
        follow(answer.import);
      } catch (err) {
        if (err.status !== 401) Object.assign(alert, { textContent: Admin.describeField(err), hidden: false });
      }
    }

    function follow(job) {
      const draw = (j) => out.replaceChildren(progressCard(j), j.status === 'done' || j.status === 'failed' ? reportCard(j, t('imp.resultTitle')) : '');
      draw(job);
      let busy = false;
      const timer = setInterval(async () => {
        if (busy) return;
        busy = true;
        try {
          const { import: now } = await Admin.api(`/api/v1/admin/member-imports/${job.id}`);
          draw(now);
          if (now.status === 'done' || now.status === 'failed') clearInterval(timer);
        } catch (err) { clearInterval(timer); Admin.fail(err); } finally { busy = false; }
      }, POLL_MS);
      Admin.state.timers.push(timer);
    }

    main.append(card(t('imp.title'), el('div', { class: 'stack' },
      el('p', { class: 'muted', text: t('imp.intro') }),
      el('p', { class: 'muted', text: t('imp.columns', { cols: COLUMNS.map((c) => `${t(`imp.col.${c}`)}（${c}）`).join('、') }) }),
      el('label', { class: 'field' }, t('imp.file'), file),
      stores.length > 1 ? el('label', { class: 'field' }, t('imp.store'), store) : null,
      alert,
      el('div', { class: 'chips' },
        el('button', { class: 'secondary', type: 'button', text: t('imp.dryRun'), onclick: () => send(true) }),
        el('button', { class: 'primary', type: 'button', text: t('imp.start'), onclick: () => send(false) })))),
    el('div', { style: 'height:18px' }), out);
  };
})();
