#!/usr/bin/env bash
# Integration: the live dashboard (docs/dashboard.md) on the daemon's listener,
# with the daemon on the mock cluster fed by `anomalyd simulate`, looked at in
# headless Chromium driven over the DevTools protocol (tests/it_dashboard.sh
# writes the driver below; /usr/bin/python3 with python3-websocket).
#   1. HTTP: the page, its assets and every answer carry the strict CSP,
#      nosniff and no-referrer; POST -> 405; JSON endpoints answer; no secret
#      of the config (a remote key from the environment) in any answer
#   2. rendered: the overview's numbers change between two reads; an injected
#      anomaly (a key holding HTML) shows in the feed as text, not markup, and
#      its series chart has flagged points (read from uPlot's data); the bar
#      chart of flagged keys has it; a search for a missing key says so; a
#      1000-byte key is charted too; a screenshot is kept in the build dir
#   3. abuse: 100 feed clients are served, the 101st gets 503 and the daemon
#      stays healthy; a client that never reads is dropped once its queue is
#      full (counted in /metrics), memory stays bounded; SIGTERM -> exit 0
# Chromium missing is a failure, not a skip (tools/deps.sh installs it).
#   it_dashboard.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK
CHROME=${AD_CHROMIUM:-/usr/bin/chromium}
SHOT="$(dirname "$KT_BIN")/it_dashboard.png"
SECRET="dash-secret-$$-0c5e2a"
HTMLKEY='<img src=x onerror="window.__xss=1">&amp;<b>sensor</b>'
LONGKEY=$(printf 'L%.0s' $(seq 1 1000))

if [ ! -x "$CHROME" ]; then
  fail "setup: $CHROME is missing (tools/deps.sh installs chromium)"
  kt_done
fi
if ! "$KT_PY" -c 'import websocket' 2>/dev/null; then
  fail "setup: python3-websocket is missing (tools/deps.sh installs it)"
  kt_done
fi

# ---- helpers (standard library and python3-websocket) -----------------------------------
cat >"$W/dash.py" <<'PY'
"""Helpers of tests/it_dashboard.sh: HTTP checks, records to inject, the
browser driver and the abuse clients. Judging subcommands print
"ok<TAB>msg" / "FAIL<TAB>msg" lines."""
import json, os, re, socket, subprocess, sys, tempfile, time, urllib.request, urllib.error

def say(good, msg):
    print("%s\t%s" % ("ok" if good else "FAIL", msg), flush=True)

def get(port, path, method="GET", timeout=10):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'")

def http_checks(port, secret):
    paths = ["/", "/ui/dashboard/app.js", "/ui/dashboard/app.css",
             "/ui/vendor/uplot/uPlot.iife.min.js", "/ui/vendor/uplot/uPlot.min.css",
             "/api/overview", "/api/flagged?seconds=60", "/api/search?q=sensor",
             "/api/series?key=sensor-0001&metric=temp", "/api/search?q=no-such-key-zz"]
    bodies = b""
    for p in paths:
        st, h, body = get(port, p)
        bodies += body
        good = (st == 200 and h.get("Content-Security-Policy") == CSP and
                h.get("X-Content-Type-Options") == "nosniff" and
                h.get("Referrer-Policy") == "no-referrer")
        say(good, "GET %s: 200 with the strict CSP, nosniff, no-referrer (got %s)" % (p, st))
    st, h, body = get(port, "/")
    say(b"<script" in body and b"<script>" not in body and b"style=" not in body and
        b"http://" not in body and b"https://" not in body,
        "the page has no inline script or style and loads nothing from elsewhere")
    st, h, body = get(port, "/api/overview", method="POST")
    say(st == 405, "POST /api/overview -> 405 (got %s)" % st)
    st, h, body = get(port, "/api/feed", method="DELETE")
    say(st == 405, "DELETE /api/feed -> 405 (got %s)" % st)
    st, h, body = get(port, "/api/series?metric=temp")
    say(st == 400, "series without key= -> 400 (got %s)" % st)
    st, h, body = get(port, "/ui/dashboard/nope.js")
    say(st == 404, "a missing asset -> 404 (got %s)" % st)
    st, h, body = get(port, "/api/search?q=no-such-key-zz")
    say(st == 200 and json.loads(body)["matches"] == [], "search for a missing key: no matches")
    o = json.loads(get(port, "/api/overview")[2])
    say(all(k in o for k in ("records_per_s", "alerts_per_s", "lag", "series", "health")),
        "overview has records/s, alerts/s, lag, series, health")
    # The feed for a moment, and /metrics: still no secret anywhere.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /api/feed HTTP/1.1\r\nHost: x\r\n\r\n")
    end = time.time() + 2
    s.settimeout(0.5)
    while time.time() < end:
        try:
            b = s.recv(65536)
            if not b:
                break
            bodies += b
        except socket.timeout:
            pass
    s.close()
    say(secret.encode() not in bodies, "no secret of the config in any dashboard answer")

def inject(path, key, n_normal, n_spike, n_after, t0_ms):
    """Records of one key: n_normal near 20, n_spike at 90, n_after near 20."""
    with open(path, "a") as f:
        t = t0_ms
        vals = [20 + ((i * 7) % 5 - 2) * 0.2 for i in range(n_normal)] + [90.0] * n_spike + \
               [20 + ((i * 3) % 5 - 2) * 0.2 for i in range(n_after)]
        for v in vals:
            f.write(json.dumps({"id": key, "ts": t, "temp": v}) + "\n")
            t += 1000

# ---- the browser, over the DevTools protocol -----------------------------------------------
class Page:
    def __init__(self, chrome, url, workdir):
        import websocket
        self.prof = tempfile.mkdtemp(dir=workdir, prefix="chrome.")
        self.proc = subprocess.Popen(
            [chrome, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--mute-audio",
             "--remote-debugging-port=0", "--remote-allow-origins=*",
             "--user-data-dir=" + self.prof, "--window-size=1400,1700", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "chrome.log"), "w"))
        portfile = os.path.join(self.prof, "DevToolsActivePort")
        end = time.time() + 30
        while not (os.path.exists(portfile) and os.path.getsize(portfile) > 0):
            if time.time() > end or self.proc.poll() is not None:
                raise RuntimeError("chromium did not start (see chrome.log)")
            time.sleep(0.1)
        port = int(open(portfile).read().split()[0])
        targets = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port).read())
        page = [t for t in targets if t["type"] == "page"][0]
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)
        self.n = 0
        self.errors = []
        self.call("Runtime.enable")
        self.call("Page.enable")
        self.call("Page.navigate", url=url)

    def call(self, method, **params):
        self.n += 1
        my = self.n
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("method") in ("Runtime.exceptionThrown",):
                self.errors.append(m["params"]["exceptionDetails"].get("text", "?"))
            if m.get("method") == "Runtime.consoleAPICalled" and m["params"]["type"] == "error":
                self.errors.append(str(m["params"]["args"]))
            if m.get("id") == my:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m["result"]

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            return None
        return r["result"].get("value")

    def wait(self, expr, seconds):
        end = time.time() + seconds
        while time.time() < end:
            v = self.js(expr)
            if v:
                return v
            time.sleep(0.25)
        return None

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.kill()
            self.proc.wait()

def browser(chrome, port, workdir, shot, htmlkey, longkey):
    from urllib.parse import urlencode
    base = "http://127.0.0.1:%d/" % port
    p = Page(chrome, base + "#" + urlencode({"key": htmlkey, "metric": "temp"}), workdir)
    try:
        browse(p, base, shot, htmlkey, longkey)
        say(not p.errors, "no script errors in the page (%s)" % p.errors[:3])
    finally:
        p.close()

def browse(p, base, shot, htmlkey, longkey):
    J = json.dumps
    ok = p.wait("window.adDash && window.adDash.overviews >= 1 && "
                "document.getElementById('ov-records').textContent", 20)
    say(ok, "the overview rendered (records: %s)" % ok)
    first = p.js("document.getElementById('ov-records').textContent")
    time.sleep(3)
    second = p.js("document.getElementById('ov-records').textContent")
    say(first is not None and first != second and first != "-",
        "the overview updates without a reload (records %s -> %s)" % (first, second))
    health = p.js("document.getElementById('ov-health').textContent")
    say(health == "ok", "health shows ok (%s)" % health)
    # The injected anomaly in the feed, as text.
    infeed = p.wait("[...document.querySelectorAll('#feed-rows td.key')].some(td => td.textContent === %s)"
                    % J(htmlkey), 30)
    say(infeed, "the injected anomaly's key (with HTML in it) appears in the feed as text")
    say(p.js("document.querySelectorAll('body img, body b').length === 0 && window.__xss === undefined"),
        "no markup from a key made it into the DOM (no img, no b, no script ran)")
    # Its series chart (the page opened on it) has flagged points.
    n = p.wait("window.adDash.seriesPlot && window.adDash.seriesPlot.data[5].filter(v => v !== null).length", 20)
    say(n and n >= 1, "its series chart has flagged points in uPlot's data (%s)" % n)
    band = p.js("window.adDash.seriesPlot.data[3].filter(v => v !== null).length")
    say(band and band >= 1, "the chart has the expected band (%s points)" % band)
    title = p.js("document.getElementById('series-title').textContent")
    say(title == htmlkey + " / temp", "the series title is the key as text")
    shown = p.js("(() => { const i = window.adDash.points.findIndex(q => q[6]);"
                 " document.querySelector('#series-flags button').click();"
                 " return [...document.querySelectorAll('#alert-rows td')].map(td => td.textContent); })()")
    say(shown and "alert_id" in shown and htmlkey in shown,
        "clicking a flagged point shows its alert's fields (%s)" % (shown or [])[:4])
    # The bar chart of flagged keys (last hour) has it.
    p.js("(() => { const s = document.getElementById('flagged-seconds'); s.value = '3600';"
         " s.dispatchEvent(new Event('change')); })()")
    bars = p.wait("[...document.querySelectorAll('#flagged-list button')].some(b => b.dataset.key === %s)"
                  " && window.adDash.flaggedPlot.data[1].length" % J(htmlkey), 10)
    say(bars and bars >= 1, "the flagged-keys bar chart has the key (%s bars)" % bars)
    # A search for a key that does not exist.
    p.js("document.getElementById('search').value = 'no-such-key-<i>zz</i>';"
         "document.getElementById('search-form').requestSubmit();")
    msg = p.wait("(t => t.startsWith('no series') && t)(document.getElementById('search-state').textContent)", 10)
    say(msg and "<i>zz</i>" in msg and p.js("document.querySelectorAll('body i').length") == 0,
        "a search for a missing key says so, the query shown as text (%s)" % msg)
    p.call("Emulation.setDeviceMetricsOverride", width=1400, height=1700, deviceScaleFactor=1, mobile=False)
    time.sleep(1)
    png = p.call("Page.captureScreenshot", format="png")["data"]
    import base64
    with open(shot, "wb") as f:
        f.write(base64.b64decode(png))
    say(os.path.getsize(shot) > 10000, "screenshot kept: %s" % shot)
    # A very long key: charted from a click in the feed.
    clicked = p.wait("(() => { const td = [...document.querySelectorAll('#feed-rows td.key')]"
                     ".find(td => td.textContent === %s); if (!td) return false; td.click(); return true; })()"
                     % J(longkey), 20)
    n = clicked and p.wait("window.adDash.key === %s && window.adDash.points.filter(q => q[6]).length" % J(longkey), 10)
    say(n and n >= 1, "a 1000-byte key is in the feed and its chart has flagged points (%s)" % n)

# ---- abuse -------------------------------------------------------------------------------
def metric(port, name):
    body = get(port, "/metrics")[2].decode()
    m = re.search(r"^%s (\S+)$" % re.escape(name), body, re.M)
    return float(m.group(1)) if m else None

def feed_client(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /api/feed HTTP/1.1\r\nHost: x\r\n\r\n")
    return s

def status_of(s):
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            break
        head += b
    m = re.match(rb"HTTP/1\.1 (\d+)", head)
    return int(m.group(1)) if m else None

def many(port, n):
    # One after the other, as viewers come: a burst of new connections past
    # the listener's own cap (AD_HTTPD_MAX_CONNS) is refused before any request.
    clients, codes = [], []
    for _ in range(n):
        clients.append(feed_client(port))
        codes.append(status_of(clients[-1]))
    say(codes.count(200) == n, "%d feed clients served (%d x 200)" % (n, codes.count(200)))
    extra = [feed_client(port) for _ in range(3)]
    codes = [status_of(s) for s in extra]
    say(codes == [503] * 3, "feed clients past http.dashboard.max_clients get 503 (%s)" % codes)
    say(get(port, "/healthz")[0] == 200 and get(port, "/api/overview")[0] == 200,
        "with %d feed clients the daemon answers /healthz and the API" % n)
    say(metric(port, "anomalyd_dashboard_clients") == n,
        "anomalyd_dashboard_clients == %d" % n)
    say((metric(port, "anomalyd_dashboard_clients_refused_total") or 0) >= 3,
        "refused feed clients are counted")
    for s in clients + extra:
        s.close()
    end = time.time() + 10
    while time.time() < end and metric(port, "anomalyd_dashboard_clients") != 0:
        time.sleep(0.2)
    say(metric(port, "anomalyd_dashboard_clients") == 0, "closed feed clients are forgotten")

def rss_kb(pid):
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
    return 0

def stuck_start(port, pidfile):
    s = feed_client(port, rcvbuf=4096)  # never reads a byte
    time.sleep(0.5)
    json.dump({"rss": rss_kb(int(open(pidfile).read())),
               "dropped": metric(port, "anomalyd_dashboard_clients_dropped_total")},
              open(pidfile + ".stuck", "w"))
    # Keep the socket open (and unread) until the test kills us.
    time.sleep(600)

def stuck_check(port, pidfile):
    st = json.load(open(pidfile + ".stuck"))
    end = time.time() + 30
    while time.time() < end:
        d = metric(port, "anomalyd_dashboard_clients_dropped_total") or 0
        if d > (st["dropped"] or 0):
            break
        time.sleep(0.3)
    say(d > (st["dropped"] or 0), "a feed client that never reads is dropped (dropped_total %s)" % d)
    grow = rss_kb(int(open(pidfile).read())) - st["rss"]
    say(grow < 64 * 1024, "the daemon's memory grew by %d KiB meanwhile (< 64 MiB)" % grow)
    hb = metric(port, "anomalyd_dashboard_history_bytes")
    say(hb is not None and 0 < hb < 64 * 1024 * 1024,
        "anomalyd_dashboard_history_bytes is reported and bounded (%s)" % hb)

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "http":
        http_checks(int(args[0]), args[1])
    elif cmd == "inject":
        inject(args[0], args[1], int(args[2]), int(args[3]), int(args[4]), int(args[5]))
    elif cmd == "browser":
        browser(args[0], int(args[1]), args[2], args[3], args[4], args[5])
    elif cmd == "many":
        many(int(args[0]), int(args[1]))
    elif cmd == "stuck":
        stuck_start(int(args[0]), args[1])
    elif cmd == "stuck_check":
        stuck_check(int(args[0]), args[1])
PY

report() { # judging lines of dash.py -> ok/fail
  local line
  while IFS=$'\t' read -r verdict msg; do
    case $verdict in
      ok) ok "$msg" ;;
      FAIL) fail "$msg" ;;
      *) kt_log "$verdict $msg" ;;
    esac
  done
}
dash() { "$KT_PY" "$W/dash.py" "$@" 2>>"$W/dash.err"; }

# ---- the daemon on the mock cluster, fed by the simulator ----------------------------------
kt_broker sensor-raw:2 anomalies:2 dlq:1
export ANOMALY_DETECTOR_KEY=$SECRET # a secret in the config: never in an answer
kt_bg sim "$KT_BIN" simulate --format sensor --count 0 --devices 50 --seed 11 \
  --anomaly-rate 0.01 --brokers "$ADDR" --topic sensor-raw --rate 300
kt_daemon d --set limits.max_key_bytes=1024 --set http.dashboard.client_queue=16384 \
  --set http.dashboard.max_clients=100
PORT=$(kt_port d)
[ -n "$PORT" ] || { fail "setup: no HTTP port in the daemon's log"; kt_done; }
wait_for 30 log_has d "assigned sensor-raw" || fail "setup: no partitions assigned"
wait_for 30 eval 'curl -s "http://127.0.0.1:$PORT/api/overview" | grep -q "\"records\":[1-9]"' ||
  fail "setup: the daemon consumes nothing"

# ---- 1. HTTP -----------------------------------------------------------------------------------
report < <(dash http "$PORT" "$SECRET")

# ---- 2. rendered, in Chromium ----------------------------------------------------------------
T0=$(( $(date +%s) * 1000 ))
dash inject "$W/inject.jsonl" "$HTMLKEY" 40 1 20 "$T0"
dash inject "$W/inject.jsonl" "$LONGKEY" 40 1 20 "$T0"
kcat -P -b "$ADDR" -t sensor-raw -p 0 -l "$W/inject.jsonl" 9>&- 2>"$W/kcat.err" ||
  fail "setup: kcat could not produce the injected records: $(cat "$W/kcat.err")"
report < <(timeout 180 "$KT_PY" "$W/dash.py" browser "$CHROME" "$PORT" "$W" "$SHOT" \
  "$HTMLKEY" "$LONGKEY" 2>>"$W/dash.err")
[ -s "$W/dash.err" ] && kt_log "driver: $(tail -5 "$W/dash.err")"

# ---- 3. abuse ------------------------------------------------------------------------------------
report < <(dash many "$PORT" 100)
kt_bg stuck "$KT_PY" "$W/dash.py" stuck "$PORT" "$W/d.pid"
wait_for 10 test -s "$W/d.pid.stuck" || fail "abuse: the stuck client did not connect"
# A flood of alerts: one key whose every point after the first 40 is flagged.
dash inject "$W/flood.jsonl" "flood-key" 40 3000 0 "$T0"
kcat -P -b "$ADDR" -t sensor-raw -p 1 -l "$W/flood.jsonl" 9>&- 2>>"$W/kcat.err"
report < <(dash stuck_check "$PORT" "$W/d.pid")
kt_signal stuck KILL
check "abuse: /healthz still answers" \
  eval 'curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null'
kt_stop_ok d dashboard
kt_done
