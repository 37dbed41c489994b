/* A segment rule as a form: "all of" / "any of" a list of conditions (field, operator, value).
 * The fields, their operators, kinds, choices and bounds come from GET /api/v1/admin/lookups
 * (the rule compiler's own table), so the form offers exactly what the API accepts.
 *   Admin.ruleForm(lookups, onChange) → { node, rule(), set(rule) }; rule() is null while incomplete. */
'use strict';
(() => {
  const { el, t } = Admin;
  const ORDER = ['gender', 'age', 'birthday_month', 'tier', 'tag', 'rfm_class', 'nes', 'r_score', 'f_score', 'm_score', 'visits',
    'total_spend', 'last_visit_within_days', 'last_visit_on', 'joined_on', 'store', 'reachable', 'in_line', 'referred_count', 'joined_by_referral',
    'bought_category', 'bought_sku', 'category_share'];

  /** The choices a field offers, as [value, label]: enums, tiers, stores, small number ranges. */
  function choicesOf(name, spec, lookups) {
    if (name === 'tier') return lookups.tiers.map((x) => [x.code, x.name]);
    if (name === 'store') return lookups.stores.map((x) => [x.code, x.name]);
    if (name === 'gender') return spec.choices.map((g) => [g, Admin.fmt.gender(g)]);
    if (name === 'rfm_class') return spec.choices.map((c) => [c, t(`rfm.${c}`)]);
    if (name === 'nes') return spec.choices.map((c) => [c, t(`nes.${c}`)]);
    if (spec.kind === 'bool') return [[true, t('common.yes')], [false, t('common.no')]];
    if (spec.kind === 'int' && spec.bounds && spec.bounds[1] - spec.bounds[0] <= 12) {
      const out = [];
      for (let i = spec.bounds[0]; i <= spec.bounds[1]; i += 1) out.push([i, name === 'birthday_month' ? t('rule.month', { m: i }) : String(i)]);
      return out;
    }
    return null;
  }

  function parse(spec, raw) {
    if (raw === '' || raw == null) return undefined;
    if (spec.kind === 'int') return Number.isInteger(Number(raw)) ? Number(raw) : undefined;
    if (spec.kind === 'bool') return raw === true || raw === 'true';
    return String(raw);
  }

  /** One condition row; returns {node, value()} where value() is the condition or null. */
  function conditionRow(lookups, initial, onChange, onRemove) {
    const fields = lookups.rule_fields;
    const names = ORDER.filter((n) => n in fields).concat(Object.keys(fields).filter((n) => !ORDER.includes(n)));
    const fieldSel = el('select', { 'aria-label': t('rule.field') }, names.map((n) => el('option', { value: n, text: t(`field.${n}`) })));
    const opSel = el('select', { 'aria-label': t('rule.op') });
    const valueBox = el('div');
    let read = () => undefined;
    fieldSel.value = initial.field || 'gender';

    function buildValue(value) {
      const spec = fields[fieldSel.value];
      const choices = choicesOf(fieldSel.value, spec, lookups);
      const type = spec.kind === 'date' ? 'date' : (spec.kind === 'text' || spec.kind === 'enum' ? 'text' : 'number');
      const input = (v, label) => el('input', { type, value: v ?? '', 'aria-label': label || t('rule.value'), min: spec.bounds ? spec.bounds[0] : null,
        max: spec.bounds ? spec.bounds[1] : null, step: spec.kind === 'number' ? 'any' : 1, list: fieldSel.value === 'tag' ? 'ruleTags' : null });
      const op = opSel.value;
      if (spec.kind === 'share') { // {category, share 0–1}, typed as a percentage
        const cat = el('input', { type: 'text', value: (value && value.category) || '', 'aria-label': t('rule.category') });
        const pct = el('input', { type: 'number', min: 0, max: 100, step: 'any', value: value && value.share != null ? Number(value.share) * 100 : '', 'aria-label': t('rule.sharePct') });
        valueBox.replaceChildren(el('div', { class: 'between' }, cat, pct, el('span', { class: 'muted', text: '%' })));
        read = () => (cat.value.trim() && pct.value !== '' ? { category: cat.value.trim(), share: Math.round(Number(pct.value) * 100) / 10000 } : undefined);
        return;
      }
      if (op === 'in' && choices) {
        const picked = new Set((value || []).map(String));
        const boxes = choices.map(([v, label]) => el('label', {}, el('input', { type: 'checkbox', value: String(v), checked: picked.has(String(v)) }), ` ${label}`));
        valueBox.replaceChildren(el('div', { class: 'multi', role: 'group', 'aria-label': t('rule.value') }, boxes));
        read = () => {
          const out = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => parse(spec, i.value));
          return out.length ? out : undefined;
        };
      } else if (op === 'between') {
        const [lo, hi] = [input(value && value[0], t('rule.low')), input(value && value[1], t('rule.high'))];
        valueBox.replaceChildren(el('div', { class: 'between' }, lo, el('span', { text: '–' }), hi));
        read = () => { const v = [parse(spec, lo.value), parse(spec, hi.value)]; return v.includes(undefined) ? undefined : v; };
      } else if (choices) {
        const sel = el('select', { 'aria-label': t('rule.value') }, choices.map(([v, label]) => el('option', { value: String(v), text: label })));
        if (value != null) sel.value = String(value);
        valueBox.replaceChildren(sel);
        read = () => parse(spec, sel.value);
      } else {
        const one = input(value);
        const unit = { last_visit_within_days: t('rule.days'), total_spend: 'NT$', age: t('rule.years') }[fieldSel.value];
        valueBox.replaceChildren(unit ? el('div', { class: 'between' }, one, el('span', { class: 'muted', text: unit })) : one,
          fieldSel.value === 'tag' ? el('datalist', { id: 'ruleTags' }, lookups.tags.map((x) => el('option', { value: x }))) : null);
        read = () => parse(spec, one.value);
      }
    }

    function buildOps(op, value) {
      const spec = fields[fieldSel.value];
      opSel.replaceChildren(...spec.ops.map((o) => el('option', { value: o, text: t(`op.${o}`) })));
      opSel.value = spec.ops.includes(op) ? op : spec.ops[0];
      buildValue(value);
    }

    fieldSel.addEventListener('change', () => { buildOps(); onChange(); });
    opSel.addEventListener('change', () => { buildValue(); onChange(); });
    valueBox.addEventListener('input', onChange);
    valueBox.addEventListener('change', onChange);
    buildOps(initial.op, initial.value);
    const node = el('div', { class: 'cond', role: 'group', 'aria-label': t('rule.condition') }, fieldSel, opSel, valueBox,
      el('button', { class: 'remove secondary', type: 'button', 'aria-label': t('rule.remove'), text: '✕', onclick: () => { node.remove(); onRemove(); } }));
    return { node, value: () => { const v = read(); return v === undefined ? null : { field: fieldSel.value, op: opSel.value, value: v }; } };
  }

  Admin.ruleForm = (lookups, onChange) => {
    let join = 'and';
    let rows = [];
    const list = el('div', { class: 'stack', style: 'gap:8px' });
    const joinBtns = ['and', 'or'].map((j) => el('button', { type: 'button', text: t(`rule.${j}`), 'aria-pressed': String(j === join),
      onclick: () => { join = j; joinBtns.forEach((b, i) => b.setAttribute('aria-pressed', String(['and', 'or'][i] === j))); onChange(); } }));
    const emptyNote = el('p', { class: 'muted', text: t('rule.everyone') });
    const refresh = () => { rows = rows.filter((r) => list.contains(r.node)); emptyNote.hidden = rows.length > 0; onChange(); };
    const add = (initial = {}) => { const row = conditionRow(lookups, initial, onChange, refresh); rows.push(row); list.append(row.node); refresh(); };
    const node = el('div', { class: 'stack' },
      el('div', { class: 'row', style: 'align-items:center' }, el('span', { class: 'shrink', text: t('rule.match') }),
        el('div', { class: 'segmented shrink', role: 'group', 'aria-label': t('rule.match') }, joinBtns)),
      emptyNote, list,
      el('div', {}, el('button', { class: 'secondary', type: 'button', text: t('rule.add'), onclick: () => add() })));

    function rule() {
      const parts = rows.map((r) => r.value());
      if (parts.includes(null)) return null;
      if (parts.length === 0) return {};
      return parts.length === 1 ? parts[0] : { [join]: parts };
    }
    /** Loads a saved rule: one condition, or one level of and/or; anything deeper is not offered. */
    function set(r) {
      list.replaceChildren();
      rows = [];
      const key = r && (r.and ? 'and' : r.or ? 'or' : null);
      const parts = key ? r[key] : (r && r.field ? [r] : []);
      if (!parts.every((p) => p.field)) return false;
      join = key || 'and';
      joinBtns.forEach((b, i) => b.setAttribute('aria-pressed', String(['and', 'or'][i] === join)));
      parts.forEach((p) => add(p));
      refresh();
      return true;
    }
    return { node, rule, set, add };
  };

  /** A rule in words: "性別 等於 女性 且 NES 屬於 S1、S2". */
  Admin.describeRule = (r, lookups) => {
    if (!r || !Object.keys(r).length) return t('rule.everyone');
    const key = r.and ? 'and' : r.or ? 'or' : null;
    if (key) return r[key].map((p) => Admin.describeRule(p, lookups)).join(` ${t(`rule.${key}Word`)} `);
    if (r.not) return `${t('rule.not')}(${Admin.describeRule(r.not, lookups)})`;
    const spec = lookups.rule_fields[r.field];
    const choices = spec ? choicesOf(r.field, spec, lookups) : null;
    const word = (v) => { const hit = choices && choices.find(([c]) => String(c) === String(v)); return hit ? hit[1] : String(v); };
    if (spec && spec.kind === 'share' && r.value) return `${t(`field.${r.field}`)}（${r.value.category}）${t(`op.${r.op}`)} ${Number(r.value.share) * 100}%`;
    const value = Array.isArray(r.value) ? r.value.map(word).join(r.op === 'between' ? '–' : '、') : word(r.value);
    return `${t(`field.${r.field}`)} ${t(`op.${r.op}`)} ${value}`;
  };
})();
