/* report.js - draws anomalyd's replay report (docs/report.md) from the JSON
 * block #ad-report-data: the summary, a uPlot chart per charted series, the
 * other flagged series by name and the alerts table. Every string from the
 * data goes into the page as text (textContent), never as markup. */
(function () {
  'use strict';
  var body = document.body;
  var violations = 0;
  document.addEventListener('securitypolicyviolation', function () {
    violations++;
    body.setAttribute('data-csp-violations', String(violations));
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function num(v) {
    if (v === null || v === undefined) return '';
    if (typeof v !== 'number') return String(v);
    return Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3)
      : String(Math.round(v * 1000) / 1000);
  }
  function series_name(s) {
    return s.metric ? s.key + ' \u2014 ' + s.metric : s.key;
  }

  function summary(d) {
    var sec = el('section', 'summary');
    sec.id = 'summary';
    sec.appendChild(el('h2', null, 'Run'));
    var dl = el('dl');
    var s = d.summary;
    var rej = Object.keys(s.rejected_by).map(function (k) { return k + ' ' + s.rejected_by[k]; });
    var rows = [
      ['input', d.input], ['config', d.config], ['detector', d.detector],
      ['remote detector', d.remote], ['anomalyd', d.version],
      ['records', s.records], ['accepted', s.accepted],
      ['rejected', s.rejected + (rej.length ? ' (' + rej.join(', ') + ')' : '')],
      ['late / duplicates', s.late + ' / ' + s.duplicates],
      ['scoring events', s.scoring_events], ['series', s.series],
      ['alerts', d.alerts_total + ' (' + s.alerts_positive + ' positive, ' +
        s.alerts_negative + ' negative)'],
      ['flagged series', d.flagged_total]
    ];
    rows.forEach(function (r) {
      if (r[1] === undefined || r[1] === null) return;
      var dt = el('dt', null, r[0]), dd = el('dd', null, r[1]);
      dd.setAttribute('data-field', r[0]);
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    sec.appendChild(dl);
    return sec;
  }

  function chart(c, width) {
    var box = el('div', 'chart');
    box.appendChild(el('h3', 'series-name', series_name(c)));
    var shown = c.t.length;
    box.appendChild(el('p', 'note', c.alerts + ' alert' + (c.alerts === 1 ? '' : 's') +
      ', max score ' + num(c.max_score) + ', ' + shown + ' of ' + c.points_total +
      ' points shown' + (shown < c.points_total ? ' (thinned evenly, flagged points kept)' : '') +
      ', times in UTC'));
    var flagged = c.t.map(function () { return null; });
    c.flagged.forEach(function (i) { flagged[i] = c.value[i]; });
    var plot = el('div', 'plot');
    box.appendChild(plot);
    var opts = {
      width: width, height: 240,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'); },
      scales: { x: { time: true } },
      series: [
        {},
        { label: 'value', stroke: '#1f5fa8', width: 1 },
        { label: 'expected', stroke: '#2c8a3c', width: 1, dash: [5, 4] },
        { label: 'lower', stroke: 'rgba(120,120,120,0.7)', width: 1 },
        { label: 'upper', stroke: 'rgba(120,120,120,0.7)', width: 1 },
        { label: 'flagged', stroke: '#c62828', width: 0, paths: function () { return null; },
          points: { show: true, size: 9, stroke: '#c62828', fill: '#c62828' } }
      ],
      bands: [{ series: [4, 3], fill: 'rgba(120,120,120,0.15)' }]
    };
    box.uplot_args = [opts, [c.t, c.value, c.expected, c.lower, c.upper, flagged], plot];
    return box;
  }

  function charts(d) {
    var sec = el('section', 'charts');
    sec.id = 'charts';
    sec.appendChild(el('h2', null, 'Flagged series: ' + d.charts.length + ' charted of ' +
      d.flagged_total));
    if (!d.charts.length) sec.appendChild(el('p', 'note', 'No series was flagged.'));
    var width = Math.max(320, Math.min(1100, document.documentElement.clientWidth - 48));
    d.charts.forEach(function (c) {
      var box = chart(c, width);
      sec.appendChild(box);
    });
    return sec;
  }

  function table(cols, rows, id) {
    var t = el('table', 'sortable');
    if (id) t.id = id;
    var thead = el('thead'), tr = el('tr');
    cols.forEach(function (c, i) {
      var th = el('th', null, c.label);
      th.addEventListener('click', function () { sort_by(t, i, c.num); });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    t.appendChild(thead);
    var tb = el('tbody');
    rows.forEach(function (r) {
      var row = el('tr');
      cols.forEach(function (c) {
        var v = r[c.field];
        var td = el('td', c.num ? 'num' : null, c.num ? num(v) : v);
        if (c.num) td.setAttribute('data-v', v === null ? '' : String(v));
        row.appendChild(td);
      });
      tb.appendChild(row);
    });
    t.appendChild(tb);
    return t;
  }

  function sort_by(t, col, numeric) {
    var tb = t.tBodies[0];
    var dir = t.getAttribute('data-sort') === String(col) ? -1 : 1;
    t.setAttribute('data-sort', dir === 1 ? String(col) : '');
    var rows = Array.prototype.slice.call(tb.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col], y = b.cells[col];
      if (numeric) {
        var p = parseFloat(x.getAttribute('data-v')), q = parseFloat(y.getAttribute('data-v'));
        return dir * ((isNaN(p) ? -Infinity : p) - (isNaN(q) ? -Infinity : q));
      }
      return dir * x.textContent.localeCompare(y.textContent);
    });
    rows.forEach(function (r) { tb.appendChild(r); });
  }

  function rest(d) {
    var sec = el('section', 'rest');
    sec.id = 'rest';
    if (!d.rest_total) return sec;
    sec.appendChild(el('h2', null, 'Other flagged series: ' + d.rest_total));
    sec.appendChild(table([
      { label: 'key', field: 'key' }, { label: 'metric', field: 'metric' },
      { label: 'alerts', field: 'alerts', num: true },
      { label: 'max score', field: 'max_score', num: true }
    ], d.rest, 'rest-table'));
    if (d.rest.length < d.rest_total)
      sec.appendChild(el('p', 'note', (d.rest_total - d.rest.length) + ' more not listed.'));
    return sec;
  }

  function alerts(d) {
    var sec = el('section', 'alerts');
    sec.id = 'alerts';
    sec.appendChild(el('h2', null, 'Alerts: ' + d.alerts_total));
    if (d.alerts.length < d.alerts_total)
      sec.appendChild(el('p', 'note', 'The first ' + d.alerts.length + ' of ' +
        d.alerts_total + ' alerts.'));
    sec.appendChild(table([
      { label: 'window start', field: 'start' }, { label: 'key', field: 'key' },
      { label: 'metric', field: 'metric' }, { label: 'value', field: 'value', num: true },
      { label: 'expected', field: 'expected', num: true },
      { label: 'lower', field: 'lower', num: true }, { label: 'upper', field: 'upper', num: true },
      { label: 'score', field: 'score', num: true }, { label: 'kind', field: 'kind' },
      { label: 'detector', field: 'detector' }
    ], d.alerts, 'alerts-table'));
    return sec;
  }

  function render() {
    var main = document.getElementById('report');
    var d = JSON.parse(document.getElementById('ad-report-data').textContent);
    main.appendChild(el('h1', null, 'anomalyd replay report'));
    main.appendChild(summary(d));
    var cs = charts(d);
    main.appendChild(cs);
    main.appendChild(rest(d));
    main.appendChild(alerts(d));
    if (typeof uPlot === 'undefined') throw new Error('the chart library did not load');
    Array.prototype.forEach.call(cs.querySelectorAll('.chart'), function (box) {
      var a = box.uplot_args;
      new uPlot(a[0], a[1], a[2]);
    });
    body.setAttribute('data-rendered', String(d.charts.length));
  }

  try {
    render();
  } catch (e) {
    body.setAttribute('data-error', String(e && e.message ? e.message : e));
    document.getElementById('report').appendChild(el('p', 'error', 'Report error: ' + e));
  }
})();
