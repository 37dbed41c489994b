/* 推播活動: the list, and the composer: the message (text, image, a Flex template, or a coupon
 * offer) beside a LINE chat preview, the audience (everyone reachable or a saved segment), the
 * holdout and the time. "Review" saves the composition's one draft (POST the first time, PUT
 * after: going back and reviewing again rewrites it) and shows the quota estimate (GET …/estimate);
 * confirming sends it (POST …/send) and opens its progress and report. Choosing a segment shows
 * how many reachable members it has at once. */
'use strict';
(() => {
  const { el, t, fmt, card, badge, table } = Admin;
  const KINDS = ['text', 'image', 'flex', 'coupon_offer'];
  const STATUS = { draft: '', scheduled: 'warn', sending: 'info', sent: 'ok', cancelled: 'bad' };
  Admin.campaignStatus = (s) => badge(t(`camp.status.${s}`), STATUS[s] || '');

  Admin.pages.campaigns = async (main) => {
    const { campaigns } = await Admin.api('/api/v1/admin/campaigns');
    const add = Admin.can('campaigns:manage') ? Admin.link('/admin/campaigns/new', t('camp.new'), { class: 'btn go' }) : null;
    main.append(Admin.pageHead(t('camp.title'), t('camp.sub'), add));
    main.append(card(null, campaigns.length ? table([
      [t('camp.name'), (c) => Admin.link(`/admin/campaigns/${c.id}`, c.name)],
      [t('camp.kind'), (c) => t(`camp.kind.${c.kind}`)],
      [t('camp.status'), (c) => Admin.campaignStatus(c.status)],
      [t('camp.when'), (c) => fmt.time(c.finished_at || c.started_at || c.scheduled_at || c.created_at)],
      [t('camp.holdout'), (c) => `${c.holdout_pct}%`, 'num'],
    ], campaigns, { onRow: (c) => Admin.go(`/admin/campaigns/${c.id}`), label: t('camp.title') }) : Admin.empty(t('camp.none'))));
  };

  function field(label, input, hint) {
    return el('label', { class: 'field' }, label, input, hint ? el('span', { class: 'hint', text: hint }) : null);
  }

  Admin.pages.compose = async (main) => {
    const lookups = await Admin.lookups(true);
    const q = new URLSearchParams(location.search);
    const state = { kind: 'text', template: 'promo' };
    const preview = el('div');
    const inputs = {
      name: el('input', { name: 'name', maxLength: 120, required: true, placeholder: t('camp.nameHint') }),
      text: el('textarea', { name: 'text', maxLength: 5000, placeholder: t('camp.textHint') }),
      url: el('input', { name: 'url', type: 'url', placeholder: 'https://…' }),
      title: el('input', { name: 'title', maxLength: 60 }),
      body: el('textarea', { name: 'body', maxLength: 500 }),
      image: el('input', { name: 'image', type: 'url', placeholder: 'https://…' }),
      button: el('input', { name: 'button', maxLength: 20, placeholder: t('camp.flex.defaultButton') }),
      link: el('input', { name: 'link', type: 'url', placeholder: 'https://…' }),
      template: el('select', { name: 'template' }, Object.keys(Admin.bubble.TEMPLATES).filter((k) => k !== 'offer')
        .map((k) => el('option', { value: k, text: t(`camp.flex.${k}`) }))),
      coupon: el('select', { name: 'coupon' }, lookups.coupon_templates.filter((c) => c.active).map((c) => el('option', { value: c.id, text: c.name }))),
      segment: el('select', { name: 'segment' }, el('option', { value: '', text: t('camp.everyone') }),
        lookups.segments.map((s) => el('option', { value: s.id, text: s.name }))),
      holdout: el('input', { name: 'holdout', type: 'range', min: 0, max: 50, step: 5, value: 0 }),
      when: el('input', { name: 'when', type: 'datetime-local', disabled: true }),
    };
    inputs.segment.value = q.get('segment') || '';
    const holdoutText = el('b', { text: '0%' });
    const segmentNote = el('p', { class: 'muted', style: 'font-size:13px' });
    const segmentSize = el('p', { id: 'segmentSize', class: 'count-line', role: 'status', 'aria-live': 'polite' });
    let draftId = null; // this composition's draft, once reviewed
    let sized = null; // the segment whose size is shown (or being asked for)

    function content() {
      if (state.kind === 'text') return { text: inputs.text.value };
      if (state.kind === 'image') return { url: inputs.url.value.trim(), preview_url: inputs.url.value.trim() };
      if (state.kind === 'coupon_offer') return { coupon_template_id: Number(inputs.coupon.value) || null, title: inputs.title.value.trim() || undefined, text: inputs.body.value.trim() || undefined };
      const f = { title: inputs.title.value.trim(), text: inputs.body.value.trim(), image: inputs.image.value.trim(), button: inputs.button.value.trim(), link: inputs.link.value.trim() };
      return { alt_text: f.title || inputs.name.value || t('camp.kind.flex'), contents: Admin.bubble.TEMPLATES[inputs.template.value].build(f) };
    }
    function draw() {
      preview.replaceChildren(Admin.bubble.phone(state.kind, content(), lookups.brand.name));
      holdoutText.textContent = `${inputs.holdout.value}%`;
      const seg = lookups.segments.find((s) => String(s.id) === inputs.segment.value);
      segmentNote.textContent = seg ? Admin.describeRule(seg.rule, lookups) : t('camp.everyoneNote');
      if (sized !== inputs.segment.value) sizeSegment(seg);
    }
    /** The reachable members of the chosen segment (or of everyone): the audience before the holdout. */
    async function sizeSegment(seg) {
      const mine = inputs.segment.value;
      sized = mine;
      const reachable = { field: 'reachable', op: 'eq', value: true };
      const rule = seg && seg.rule && Object.keys(seg.rule).length ? { and: [seg.rule, reachable] } : reachable;
      segmentSize.textContent = t('camp.sizing');
      try {
        const { count } = await Admin.api('/api/v1/admin/segments/preview', { method: 'POST', body: { rule } });
        if (sized === mine) segmentSize.textContent = t('camp.segmentSize', { n: fmt.num(count) });
      } catch (err) { if (sized === mine) segmentSize.textContent = Admin.describe(err); }
    }

    const parts = { // built on each switch: title and body inputs serve two kinds, and a node has one parent
      text: () => [field(t('camp.text'), inputs.text)],
      image: () => [field(t('camp.imageUrl'), inputs.url, t('camp.imageHint'))],
      flex: () => [field(t('camp.template'), inputs.template), field(t('camp.flex.image'), inputs.image, t('camp.optional')), field(t('camp.flex.title'), inputs.title),
        field(t('camp.flex.text'), inputs.body), el('div', { class: 'row' }, field(t('camp.flex.button'), inputs.button), field(t('camp.flex.link'), inputs.link))],
      coupon_offer: () => [lookups.coupon_templates.some((c) => c.active) ? field(t('camp.coupon'), inputs.coupon) : el('p', { class: 'alert warn', text: t('camp.noCoupons') }),
        field(t('camp.flex.title'), inputs.title, t('camp.optional')), field(t('camp.flex.text'), inputs.body, t('camp.optional'))],
    };
    const kindBox = el('div', { class: 'stack' });
    const kindBtns = KINDS.map((k) => el('button', { type: 'button', text: t(`camp.kind.${k}`), 'aria-pressed': String(k === state.kind), onclick: () => setKind(k) }));
    function setKind(k) {
      state.kind = k;
      kindBtns.forEach((b, i) => b.setAttribute('aria-pressed', String(KINDS[i] === k)));
      kindBox.replaceChildren(...parts[k]());
      draw();
    }

    const whenNow = el('input', { type: 'radio', name: 'timing', value: 'now', checked: true });
    const whenLater = el('input', { type: 'radio', name: 'timing', value: 'later' });
    for (const r of [whenNow, whenLater]) r.addEventListener('change', () => { inputs.when.disabled = !whenLater.checked; if (whenLater.checked && !inputs.when.value) inputs.when.value = `${Admin.taipeiDay(1)}T10:00`; });

    async function review(ev) {
      ev.preventDefault();
      const body = { name: inputs.name.value.trim(), kind: state.kind, content: content(), holdout_pct: Number(inputs.holdout.value) };
      if (inputs.segment.value) body.segment_id = Number(inputs.segment.value);
      if (whenLater.checked && inputs.when.value) body.scheduled_at = `${inputs.when.value}:00+08:00`;
      let draft;
      let est;
      try {
        draft = await Admin.api(draftId ? `/api/v1/admin/campaigns/${draftId}` : '/api/v1/admin/campaigns', { method: draftId ? 'PUT' : 'POST', body });
        draftId = draft.id;
        est = await Admin.api(`/api/v1/admin/campaigns/${draft.id}/estimate`);
      } catch (err) {
        if (err.code === 'campaign_not_draft' || err.code === 'campaign_not_found') draftId = null; // no longer this composition's: next time, a new draft
        Admin.fail(err);
        return;
      }
      const confirmBox = el('input', { type: 'checkbox', name: 'overQuota' });
      const remaining = est.quota.remaining == null ? t('camp.unlimited') : fmt.num(est.quota.remaining);
      const info = el('div', {},
        el('p', { id: 'reviewText', text: draft.scheduled_at ? t('camp.reviewText', { name: draft.name, when: fmt.time(draft.scheduled_at) }) : t('camp.reviewNow', { name: draft.name }) }),
        el('div', { class: 'quota' },
          el('div', {}, el('span', { text: t('camp.audience') }), el('b', { id: 'estAudience', text: fmt.num(est.audience) })),
          el('div', {}, el('span', { text: t('camp.heldOut') }), el('b', { text: fmt.num(est.holdout_estimate) })),
          el('div', {}, el('span', { text: t('camp.messages') }), el('b', { id: 'estMessages', text: fmt.num(est.messages_estimate) }))),
        el('p', { class: est.over_quota ? 'alert warn' : 'alert ok', id: 'quotaNote', text: est.over_quota ? t('camp.overQuota', { remaining }) : t('camp.quotaOk', { remaining }) }),
        est.over_quota ? el('label', { class: 'choice', style: 'margin-top:10px' }, confirmBox, t('camp.confirmOver')) : null);
      const ok = await Admin.ask(t('camp.reviewTitle'), info, draft.scheduled_at ? t('camp.scheduleGo') : t('camp.sendGo'), {
        check: async () => { if (est.over_quota && !confirmBox.checked) { Admin.toast(t('camp.confirmOver'), 'error'); return false; } return true; },
      });
      if (!ok) return; // back to editing: the next review rewrites this same draft
      try {
        await Admin.api(`/api/v1/admin/campaigns/${draft.id}/send`, { method: 'POST', body: { confirm_over_quota: confirmBox.checked } });
        Admin.go(`/admin/campaigns/${draft.id}`);
      } catch (err) { Admin.fail(err); }
    }

    const form = el('form', { class: 'stack', onsubmit: review, oninput: draw, onchange: draw },
      card(t('camp.step.content'), el('div', { class: 'stack' }, field(t('camp.name'), inputs.name),
        el('div', { class: 'segmented', role: 'group', 'aria-label': t('camp.kind') }, kindBtns), kindBox)),
      card(t('camp.step.audience'), el('div', { class: 'stack' }, field(t('camp.segment'), inputs.segment), segmentSize, segmentNote,
        el('label', { class: 'field' }, el('span', {}, t('camp.holdoutLabel'), ' ', holdoutText), inputs.holdout, el('span', { class: 'hint', text: t('camp.holdoutHint') })))),
      card(t('camp.step.time'), el('div', { class: 'stack' },
        el('div', {}, el('label', { class: 'choice' }, whenNow, t('camp.now')), el('label', { class: 'choice' }, whenLater, t('camp.later'))),
        field(t('camp.at'), inputs.when, t('camp.quietHint')))),
      el('div', { class: 'row' }, el('button', { class: 'go', type: 'submit', text: t('camp.review') })));
    main.append(Admin.pageHead(t('camp.new'), null, Admin.link('/admin/campaigns', t('camp.back'), { class: 'btn secondary' })));
    main.append(el('div', { class: 'split' }, form, el('div', { style: 'position:sticky;top:20px' }, card(t('camp.preview.title'), preview))));
    setKind(q.get('kind') && KINDS.includes(q.get('kind')) ? q.get('kind') : 'text');
  };
})();
