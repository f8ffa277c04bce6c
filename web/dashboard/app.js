/* anomalyd dashboard: the overview (polled every second), the live alert feed
 * (server-sent events), the keys flagged in the last N seconds (a bar chart)
 * and a series view (value, expected value, band, flagged points, the alert
 * behind each). Keys and every other field from the server go into the page
 * as text (textContent), never as markup. */
'use strict';
(function () {
  const FEED_ROWS = 100;
  const state = { key: null, metric: null, seriesPlot: null, flaggedPlot: null,
                  points: [], alerts: new Map(), feedBoot: null, feedSeq: 0, feedCount: 0,
                  overviews: 0 };
  window.adDash = state; /* read by the browser test */

  const $ = (id) => document.getElementById(id);
  function el(tag, cls, txt) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt !== undefined && txt !== null) e.textContent = String(txt);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function num(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return '-';
    if (typeof v !== 'number') return String(v);
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    return v.toFixed(digits === undefined ? (Number.isInteger(v) ? 0 : 2) : digits);
  }
  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store', credentials: 'omit' });
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return r.json();
  }
  function keyButton(key, metric, extra) {
    const li = el('li');
    const b = el('button', null, key);
    b.type = 'button';
    b.title = key + ' / ' + metric;
    b.dataset.key = key;
    b.dataset.metric = metric;
    b.addEventListener('click', () => select(key, metric));
    if (extra !== undefined) b.appendChild(el('span', 'count', extra));
    li.appendChild(b);
    return li;
  }

  /* ---- overview ------------------------------------------------------------------- */
  async function overview() {
    const badge = $('ov-health');
    try {
      const o = await getJSON('/api/overview');
      $('ov-records-rate').textContent = num(o.records_per_s, 1);
      $('ov-alerts-rate').textContent = num(o.alerts_per_s, 2);
      $('ov-records').textContent = num(o.records);
      $('ov-alerts').textContent = num(o.alerts);
      $('ov-lag').textContent = o.lag < 0 ? 'unknown' : num(o.lag);
      $('ov-series').textContent = num(o.series);
      $('ov-history').textContent = num(o.history_series);
      $('ov-clients').textContent = num(o.feed_clients);
      badge.textContent = o.health;
      badge.dataset.state = o.ready ? 'ok' : 'bad';
      $('ov-updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      state.overviews++;
    } catch (e) {
      badge.textContent = 'unreachable';
      badge.dataset.state = 'bad';
    }
  }

  /* ---- flagged keys (bar chart) ----------------------------------------------------- */
  function flaggedPlot(labels) {
    const box = $('flagged-chart');
    const opts = {
      width: Math.max(300, box.clientWidth), height: 220,
      scales: { x: { time: false, range: (u, lo, hi) => [lo - 0.6, hi + 0.6] },
                y: { range: (u, lo, hi) => [0, Math.max(1, hi) * 1.15] } },
      axes: [
        { values: (u, splits) => splits.map((i) => {
            const s = labels()[i];
            return Number.isInteger(i) && s !== undefined ? (s.length > 14 ? s.slice(0, 13) + '\u2026' : s) : '';
          }), rotate: 0, gap: 4, incrs: [1] },
        { label: 'alerts' },
      ],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      series: [{}, { label: 'alerts', fill: 'rgba(198,40,40,0.55)', stroke: '#c62828',
                     paths: uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } }],
    };
    return new uPlot(opts, [[], []], box);
  }
  async function flagged() {
    const seconds = $('flagged-seconds').value;
    let f;
    try { f = await getJSON('/api/flagged?seconds=' + encodeURIComponent(seconds)); } catch (e) { return; }
    state.flaggedKeys = f.keys.map((k) => k.key);
    if (!state.flaggedPlot) state.flaggedPlot = flaggedPlot(() => state.flaggedKeys);
    state.flaggedPlot.setData([f.keys.map((k, i) => i), f.keys.map((k) => k.count)]);
    $('flagged-total').textContent = f.alerts + ' alerts, ' + f.distinct + ' series';
    const list = $('flagged-list');
    clear(list);
    for (const k of f.keys) list.appendChild(keyButton(k.key, k.metric, '\u00d7' + k.count));
  }

  /* ---- live feed ------------------------------------------------------------------ */
  function feedRow(a, id) {
    /* ids are BOOT-SEQ: after a reconnect the backlog comes again, skip what
     * this page has shown (unless the daemon restarted: another BOOT) */
    const m = /^(\d+)-(\d+)$/.exec(id || '');
    if (m) {
      const seq = Number(m[2]);
      if (m[1] === state.feedBoot && seq <= state.feedSeq) return;
      state.feedBoot = m[1];
      state.feedSeq = seq;
    }
    const tr = el('tr', 'fresh');
    tr.dataset.key = a.key;
    tr.dataset.metric = a.metric;
    const when = a.window_start ? new Date(a.window_start).toLocaleTimeString() : '';
    const cells = [when, a.key, a.metric, num(a.value), num(a.expected), num(a.score, 3), a.kind || a.direction];
    cells.forEach((c, i) => tr.appendChild(el('td', i === 1 ? 'key' : null, c)));
    tr.title = a.key;
    tr.addEventListener('click', () => select(a.key, a.metric));
    const body = $('feed-rows');
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > FEED_ROWS) body.removeChild(body.lastChild);
    setTimeout(() => tr.classList.remove('fresh'), 1500);
    state.feedCount++;
  }
  function startFeed() {
    const es = new EventSource('/api/feed');
    es.addEventListener('open', () => { $('feed-state').textContent = 'live'; });
    es.addEventListener('error', () => { $('feed-state').textContent = 'reconnecting'; });
    es.addEventListener('alert', (ev) => {
      let a;
      try { a = JSON.parse(ev.data); } catch (e) { return; }
      feedRow(a, ev.lastEventId);
    });
    state.feed = es;
  }

  /* ---- series view ---------------------------------------------------------------- */
  function showAlert(i) {
    const p = state.points[i];
    if (!p || !p[6]) return;
    const body = $('alert-rows');
    clear(body);
    const a = state.alerts.get(p[8]) || { time: new Date(p[0]).toISOString(), value: p[1],
      expected: p[2], lower: p[3], upper: p[4], score: p[5], kind: p[7],
      note: 'the alert itself is no longer in the recent list' };
    for (const [k, v] of Object.entries(a)) {
      const tr = el('tr');
      tr.appendChild(el('td', null, k));
      tr.appendChild(el('td', null, typeof v === 'object' && v !== null ? JSON.stringify(v) : v));
      body.appendChild(tr);
    }
    state.shownAlert = i;
  }
  function seriesPlot() {
    const box = $('series-chart');
    const opts = {
      width: Math.max(400, box.clientWidth), height: 300,
      series: [
        {},
        { label: 'value', stroke: '#1f5fbf', width: 1.5 },
        { label: 'expected', stroke: '#6b7385', dash: [6, 4], width: 1 },
        { label: 'lower', stroke: 'rgba(46,125,50,0.6)', width: 1 },
        { label: 'upper', stroke: 'rgba(46,125,50,0.6)', width: 1 },
        { label: 'flagged', stroke: '#c62828', fill: '#c62828', width: 0, paths: () => null,
          points: { show: true, size: 10, space: 0, stroke: '#c62828', fill: '#c62828' } },
      ],
      bands: [{ series: [4, 3], fill: 'rgba(46,125,50,0.10)' }],
      hooks: { setCursor: [(u) => { if (u.cursor.idx !== null && u.cursor.idx !== undefined) showAlert(u.cursor.idx); }] },
    };
    const u = new uPlot(opts, [[], [], [], [], [], []], box);
    u.over.addEventListener('click', () => {
      /* the flagged point nearest the cursor */
      const i = u.cursor.idx;
      if (i === null || i === undefined) return;
      let best = -1;
      state.points.forEach((p, j) => { if (p[6] && (best < 0 || Math.abs(j - i) < Math.abs(best - i))) best = j; });
      if (best >= 0) showAlert(best);
    });
    return u;
  }
  async function refreshSeries() {
    if (!state.key) return;
    const url = '/api/series?key=' + encodeURIComponent(state.key) + '&metric=' + encodeURIComponent(state.metric);
    let s;
    try { s = await getJSON(url); } catch (e) { $('series-state').textContent = String(e.message); return; }
    if (s.key !== state.key || s.metric !== state.metric) return; /* another series was picked meanwhile */
    state.points = s.points;
    state.alerts = new Map(s.alerts.map((x) => [x.seq, x.alert]));
    const pts = s.points;
    const data = [pts.map((p) => p[0] / 1000), pts.map((p) => p[1]), pts.map((p) => p[2]),
                  pts.map((p) => p[3]), pts.map((p) => p[4]), pts.map((p) => (p[6] ? p[1] : null))];
    if (!state.seriesPlot) state.seriesPlot = seriesPlot();
    state.seriesPlot.setData(data);
    const nflag = pts.filter((p) => p[6]).length;
    const box = $('series-chart');
    box.dataset.points = String(pts.length);
    box.dataset.flagged = String(nflag);
    $('series-state').textContent = pts.length + ' points, ' + nflag + ' flagged' +
      (s.watched ? '' : ' (history full: not watched)') +
      (pts.length ? '' : ' \u2014 points appear as they are scored');
    const list = $('series-flags');
    clear(list);
    pts.forEach((p, i) => {
      if (!p[6]) return;
      const li = el('li');
      const b = el('button', null, new Date(p[0]).toLocaleTimeString() + ' ' + p[7] + ' ' + num(p[1]));
      b.type = 'button';
      b.addEventListener('click', () => showAlert(i));
      li.appendChild(b);
      list.appendChild(li);
    });
  }
  function select(key, metric) {
    state.key = key;
    state.metric = metric;
    state.points = [];
    $('series-title').textContent = key + ' / ' + metric;
    $('series-title').title = key;
    clear($('alert-rows'));
    history.replaceState(null, '', '#' + new URLSearchParams({ key: key, metric: metric }).toString());
    refreshSeries();
  }
  async function search(ev) {
    if (ev) ev.preventDefault();
    const q = $('search').value;
    const out = $('search-results');
    clear(out);
    let r;
    try { r = await getJSON('/api/search?q=' + encodeURIComponent(q)); } catch (e) {
      $('search-state').textContent = String(e.message);
      return;
    }
    $('search-state').textContent = r.matches.length ? r.matches.length + (r.truncated ? '+' : '') + ' series'
      : 'no series matches "' + q + '"';
    for (const m of r.matches) out.appendChild(keyButton(m.key, m.metric));
  }

  function start() {
    $('search-form').addEventListener('submit', search);
    $('flagged-seconds').addEventListener('change', flagged);
    const h = new URLSearchParams(location.hash.slice(1));
    if (h.get('key') !== null && h.get('metric') !== null) select(h.get('key'), h.get('metric'));
    overview();
    flagged();
    startFeed();
    setInterval(overview, 1000);
    setInterval(flagged, 1000);
    setInterval(refreshSeries, 2000);
  }
  document.addEventListener('DOMContentLoaded', start);
})();
