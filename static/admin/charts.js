/* Charts for the console on Chart.js (static/vendor/chartjs): one palette, readable labels,
 * numbers in the tooltip, and every chart registered so the router destroys it on leaving. */
'use strict';
(() => {
  const PALETTE = ['#6f4e37', '#06c755', '#e0a030', '#2f8f9d', '#d0587e', '#7a6ff0', '#9c8b7a', '#3d7bd9'];
  const NES_COLOURS = { N: '#3d7bd9', E0: '#06c755', S1: '#e0a030', S2: '#e07b30', S3: '#b3261e' };
  const GRID = '#efe8e1';

  function setDefaults() {
    if (!window.Chart || Chart.defaults.__console) return;
    Object.assign(Chart.defaults, { __console: true, maintainAspectRatio: false, responsive: true, animation: { duration: 300 } });
    Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    Chart.defaults.font.size = 13;
    Chart.defaults.color = '#6e655d';
    Chart.defaults.plugins.legend.labels.boxWidth = 12;
    Chart.defaults.plugins.legend.labels.usePointStyle = true;
    Chart.defaults.plugins.tooltip.padding = 10;
  }

  /** A canvas in a sized box; the chart is made once the box is in the page. */
  function mount(config, { size = '', label } = {}) {
    setDefaults();
    const canvas = Admin.el('canvas', { role: 'img', 'aria-label': label || '' });
    const box = Admin.el('div', { class: `chart ${size}` }, canvas);
    requestAnimationFrame(() => {
      if (!canvas.isConnected) return;
      const chart = new Chart(canvas, config);
      Admin.state.charts.push(chart);
      box.dataset.ready = '1';
    });
    return box;
  }

  const axis = (extra = {}) => ({ grid: { color: GRID }, border: { display: false }, ticks: { precision: 0 }, beginAtZero: true, ...extra });
  const noGrid = { grid: { display: false }, border: { display: false } };

  function bars(labels, values, { label, horizontal = false, colours, format, size = '' } = {}) {
    return mount({
      type: 'bar',
      data: { labels, datasets: [{ label, data: values, backgroundColor: colours || PALETTE[0], borderRadius: 6, maxBarThickness: 42 }] },
      options: {
        indexAxis: horizontal ? 'y' : 'x',
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => ` ${format ? format(c.raw, c.dataIndex) : Admin.fmt.num(c.raw)}` } } },
        scales: horizontal ? { x: axis(), y: noGrid } : { x: noGrid, y: axis() },
      },
    }, { label, size });
  }

  function doughnut(labels, values, { label, colours } = {}) {
    const total = values.reduce((a, b) => a + b, 0);
    return mount({
      type: 'doughnut',
      data: { labels, datasets: [{ data: values, backgroundColor: colours || PALETTE, borderWidth: 2, borderColor: '#fff' }] },
      options: {
        cutout: '62%',
        plugins: {
          legend: { position: 'right' },
          tooltip: { callbacks: { label: (c) => ` ${c.label}: ${Admin.fmt.num(c.raw)} (${total ? Math.round((c.raw / total) * 100) : 0}%)` } },
        },
      },
    }, { label });
  }

  /** Days: bars (bar: true) and lines; series = [{label, data, colour, bar?, right?: own axis, money?}]. */
  function trend(days, series, { label } = {}) {
    const right = series.some((s) => s.right);
    return mount({
      type: 'line',
      data: {
        labels: days,
        datasets: series.map((s) => (s.bar
          ? { type: 'bar', label: s.label, data: s.data, backgroundColor: s.colour, borderRadius: 4, maxBarThickness: 18, yAxisID: 'y', order: 2 }
          : { label: s.label, data: s.data, borderColor: s.colour, backgroundColor: `${s.colour}22`, fill: false, tension: 0.25, order: 1,
            pointRadius: days.length > 45 ? 0 : 2, borderWidth: 2.5, yAxisID: s.right ? 'y1' : 'y', money: s.money })),
      },
      options: {
        interaction: { mode: 'index', intersect: false },
        plugins: { tooltip: { callbacks: { label: (c) => ` ${c.dataset.label}: ${c.dataset.money ? Admin.fmt.money(c.raw) : Admin.fmt.num(c.raw)}` } } },
        scales: {
          x: { ...noGrid, ticks: { maxTicksLimit: 10, maxRotation: 0 } },
          y: axis(),
          ...(right ? { y1: axis({ position: 'right', grid: { display: false }, ticks: { callback: (v) => Admin.fmt.money(v) } }) } : {}),
        },
      },
    }, { label, size: 'tall' });
  }

  /** Rates (0–1) per day, one line of points per series (null: no point that day); `tip(series, i)` adds words to a point's tooltip. */
  function rates(days, series, { label, tip } = {}) {
    return mount({
      type: 'line',
      data: {
        labels: days,
        datasets: series.map((s, i) => ({ label: s.label, data: s.data.map((v) => (v == null ? null : v * 100)), borderColor: s.colour || PALETTE[i % PALETTE.length],
          backgroundColor: s.colour || PALETTE[i % PALETTE.length], spanGaps: true, pointRadius: 5, pointHoverRadius: 7, borderWidth: 2, tension: 0 })),
      },
      options: {
        interaction: { mode: 'nearest', intersect: true },
        plugins: { tooltip: { callbacks: { label: (c) => ` ${c.dataset.label}: ${Admin.fmt.pct(c.raw / 100)}${tip ? ` ${tip(c.datasetIndex, c.dataIndex)}` : ''}` } } },
        scales: { x: { ...noGrid, ticks: { maxTicksLimit: 10, maxRotation: 0 } }, y: axis({ ticks: { callback: (v) => `${v}%` } }) },
      },
    }, { label, size: 'tall' });
  }

  /** Stacked bars: series = [{label, data, colour}]; `format(i)` is the tooltip's footer for a bar. */
  function stacked(labels, series, { label, format } = {}) {
    return mount({
      type: 'bar',
      data: { labels, datasets: series.map((s) => ({ label: s.label, data: s.data, backgroundColor: s.colour, borderRadius: 4, maxBarThickness: 42 })) },
      options: {
        interaction: { mode: 'index', intersect: false },
        plugins: { tooltip: { callbacks: { label: (c) => ` ${c.dataset.label}: ${Admin.fmt.num(c.raw)}`, footer: (items) => (format && items.length ? format(items[0].dataIndex) : '') } } },
        scales: { x: { ...noGrid, stacked: true }, y: axis({ stacked: true }) },
      },
    }, { label, size: 'tall' });
  }

  Admin.charts = { PALETTE, NES_COLOURS, bars, doughnut, trend, rates, stacked, mount };
})();
