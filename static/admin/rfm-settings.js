/* Beside the dashboard's RFM grid: when the segments were computed, how "high" is decided per
 * dimension, the action hint per class, and (campaigns:manage) a form to change both:
 * PUT /api/v1/admin/segments/settings, then a recompute so the grid shows the new classes. */
'use strict';
(() => {
  const { el, t, fmt } = Admin;
  const DIMS = [['r', 'r_days'], ['f', 'f_visits'], ['m', 'm_amount']];
  const MODES = ['quintile', 'average', 'threshold'];
  const CLASSES = ['重要價值', '重要保持', '重要發展', '重要挽留', '一般價值', '一般保持', '一般發展', '一般挽留']; // the grid's order
  const inOrder = (hints) => CLASSES.filter((c) => c in hints).map((c) => [c, hints[c]]); // JSON keys arrive sorted

  /** "R 五分位 ≥ 3 · F ≥ 4 次 · M 高於平均" from the settings. */
  function describe(s) {
    return DIMS.map(([d, key]) => {
      const mode = s[`${d}_mode`];
      const value = mode === 'threshold' ? t(`rfm.th.${d}`, { v: d === 'm' ? fmt.money(s[key]) : fmt.num(s[key]) }) : t(`rfm.mode.${mode}`);
      return `${d.toUpperCase()} ${value}`;
    }).join(' · ');
  }

  function form(s) {
    const node = el('form', { class: 'rfm-form', 'aria-label': t('rfm.settings') });
    const inputs = {};
    for (const [d, key] of DIMS) {
      const mode = el('select', { name: `${d}_mode`, 'aria-label': t(`rfm.dim.${d}`) },
        MODES.map((m) => el('option', { value: m, text: t(`rfm.mode.${m}`), selected: s[`${d}_mode`] === m })));
      const value = el('input', { name: key, value: s[key], inputmode: 'decimal', 'aria-label': t(`rfm.th.label.${d}`), style: 'max-width:110px' });
      inputs[d] = { mode, value, key };
      node.append(el('div', { class: 'row' }, Admin.field(t(`rfm.dim.${d}`), mode), Admin.field(t(`rfm.th.label.${d}`), value)));
    }
    const hints = inOrder(s.hints).map(([cls, text]) => {
      const input = el('input', { name: `hints/${cls}`, value: text, maxLength: 200, 'aria-label': t('rfm.hintFor', { cls }) });
      return [cls, input];
    });
    node.append(el('h3', { style: 'font-size:14px;margin:10px 0 4px', text: t('rfm.hints') }),
      ...hints.map(([cls, input]) => Admin.field(t(`rfm.${cls}`), input)),
      el('button', { class: 'primary', type: 'submit', text: t('rfm.saveAndRecompute') }));
    node.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { hints: Object.fromEntries(hints.map(([cls, input]) => [cls, input.value.trim()])) };
      for (const [d, { mode, value, key }] of Object.entries(inputs)) {
        body[`${d}_mode`] = mode.value;
        body[key] = d === 'm' ? value.value.trim() : Admin.intOrRaw(value);
      }
      await Admin.send(node, 'PUT', '/api/v1/admin/segments/settings', body, {
        done: null,
        then: async () => {
          await Admin.api('/api/v1/admin/segments/recompute', { method: 'POST' });
          Admin.toast(t('rfm.saved'));
          Admin.refresh();
        },
      });
    });
    return node;
  }

  /** The part under the grid: `segments` is the dashboard's `segments`, `s` GET …/segments/settings. */
  Admin.rfmDetails = (segments, s) => {
    const computed = el('p', { class: 'muted', id: 'rfmComputed', style: 'margin:10px 0 4px;font-size:13px',
      text: segments.computed_at ? t('rfm.computedAt', { at: fmt.time(segments.computed_at) }) : t('rfm.neverComputed') });
    const rule = el('p', { class: 'muted', id: 'rfmRule', style: 'margin:0 0 8px;font-size:13px', text: `${t('rfm.high')}：${describe(s)}` });
    const hints = el('dl', { class: 'rfm-hints', 'aria-label': t('rfm.hints') },
      inOrder(s.hints).flatMap(([cls, text]) => [el('dt', { text: t(`rfm.${cls}`) }), el('dd', { 'data-class': cls, text })]));
    const edit = Admin.can('campaigns:manage')
      ? el('details', {}, el('summary', { text: t('rfm.edit') }), form(s)) : null;
    return el('div', {}, computed, rule, el('h3', { style: 'font-size:14px;margin:6px 0', text: t('rfm.hints') }), hints, edit);
  };
})();
