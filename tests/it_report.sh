#!/usr/bin/env bash
# Integration: replay --report FILE.html, opened OFFLINE in headless Chromium
# (Debian's chromium; its absence fails the test). What is asserted is what
# the browser rendered (--dump-dom after the report's script ran): one uPlot
# canvas per charted series up to --report-series, every flagged series named
# (a chart's title or a row of the list), the alerts table holding as many
# rows as alerts were written, no Content-Security-Policy violation, and keys
# with HTML, a closing </script>, control characters or 1,000 bytes shown
# as text. A screenshot is kept beside the binary (it_report.png).
#   it_report.sh ANOMALYD SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
py=/usr/bin/python3
chromium=${AD_CHROMIUM:-/usr/bin/chromium}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=$(cd "$(dirname "$bin")" && pwd)
fail=0

if [ ! -x "$chromium" ]; then
  echo "FAIL chromium not found at $chromium (tools/deps.sh installs it)"
  exit 1
fi

# render HTML DOM_OUT [SCREENSHOT]: the page as the browser left it, offline
# (a proxy that does not exist catches any request the page might try).
render() {
  local flags=(--headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars
    --user-data-dir="$work/chrome" --proxy-server=127.0.0.1:9 --virtual-time-budget=5000)
  timeout 120 "$chromium" "${flags[@]}" --dump-dom "file://$1" >"$2" 2>"$work/chrome.log" || {
    echo "FAIL chromium --dump-dom exited $?"
    tail -5 "$work/chrome.log"
    return 1
  }
  if [ -n "${3:-}" ]; then
    timeout 120 "$chromium" "${flags[@]}" --window-size=1280,2000 --screenshot="$3" \
      "file://$1" >/dev/null 2>>"$work/chrome.log" || echo "note: no screenshot"
  fi
}

# check DOM ALERTS CAP: the rendered page against the alerts written.
check() {
  "$py" - "$@" <<'PY'
import json, sys
from collections import Counter
from html.parser import HTMLParser

dom_p, alerts_p, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])

class Page(HTMLParser):
    """Collects what the report drew: charts, their titles and canvases,
    the rows of the alerts table and of the list of other series."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.body = [], {}
        self.charts, self.alert_rows, self.rest_rows = [], 0, []
        self.tags = Counter()
        self.text_into = None
        self.cell = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        cls = (a.get("class") or "").split()
        if tag == "body":
            self.body = a
        if tag == "div" and "chart" in cls:
            self.charts.append({"title": "", "canvas": 0})
        if tag == "h3" and "series-name" in cls and self.charts:
            self.text_into = "title"
        if tag == "canvas" and self.charts:
            self.charts[-1]["canvas"] += 1
        if tag == "table":
            self.table = a.get("id")
        if tag == "tr" and self.in_tbody:
            if self.table == "alerts-table":
                self.alert_rows += 1
            elif self.table == "rest-table":
                self.rest_rows.append([])
        if tag == "td" and self.in_tbody and self.table == "rest-table":
            self.cell = ""
        if tag == "tbody":
            self.in_tbody = True
        if "pwned" in cls or "data-pwned" in a:
            self.tags["pwned"] += 1
    in_tbody = False
    table = None
    def handle_endtag(self, tag):
        if tag == "h3":
            self.text_into = None
        if tag == "tbody":
            self.in_tbody = False
        if tag == "td" and self.cell is not None:
            self.rest_rows[-1].append(self.cell)
            self.cell = None
    def handle_data(self, data):
        if self.text_into == "title":
            self.charts[-1]["title"] += data
        if self.cell is not None:
            self.cell += data

p = Page()
p.feed(open(dom_p, encoding="utf-8").read())
alerts = [json.loads(l) for l in open(alerts_p, encoding="utf-8")]
per = Counter((a["key"], a["metric"]) for a in alerts)
bad = []
if p.body.get("data-error"):
    bad.append("report script error: " + p.body["data-error"])
if p.body.get("data-csp-violations"):
    bad.append("%s CSP violations" % p.body["data-csp-violations"])
want_charts = min(cap, len(per))
if p.body.get("data-rendered") != str(want_charts):
    bad.append("data-rendered %r, want %d" % (p.body.get("data-rendered"), want_charts))
if len(p.charts) != want_charts or any(c["canvas"] < 1 for c in p.charts):
    bad.append("%d charts (canvases %s), want %d each with a canvas" % (
        len(p.charts), [c["canvas"] for c in p.charts], want_charts))
if p.alert_rows != len(alerts):
    bad.append("alerts table: %d rows, %d alerts written" % (p.alert_rows, len(alerts)))
titles = {c["title"] for c in p.charts}
charted = {s for s in per if (s[0] + " \u2014 " + s[1] if s[1] else s[0]) in titles}
listed = {(r[0], r[1]) for r in p.rest_rows if len(r) >= 2}
missing = [s for s in per if s not in charted and s not in listed]
if missing:
    bad.append("%d flagged series not named, e.g. %r" % (len(missing), missing[0][0][:80]))
if len(charted) != want_charts:
    bad.append("%d chart titles match a flagged series, want %d" % (len(charted), want_charts))
# The charted series are the ones with the most alerts.
if charted and listed and min(per[s] for s in charted) < max(per[s] for s in listed):
    bad.append("a listed series has more alerts than a charted one")
if p.tags["pwned"] or p.tags["img"] or p.tags["b"]:
    bad.append("markup from a key reached the page: %r" % dict(p.tags))
for b in bad:
    print("FAIL " + b)
print("rendered: %d charts, %d listed series, %d alert rows, %d flagged series, %d alerts" % (
    len(p.charts), len(p.rest_rows), p.alert_rows, len(per), len(alerts)))
sys.exit(1 if bad else 0)
PY
}

# 1. The simulator's IoT telemetry (scenario B's config): 30 devices with
#    injected spikes; 5 charts, the rest listed.
"$bin" simulate --format iot --devices 30 --count 30000 --seed 5 --interval 10s \
  --anomaly-rate 0.005 --output-format kcat >"$work/b.jsonl"
mkdir -p "$work/out"
"$bin" -c "$src/config/examples/scenario-b-iot.yaml" --input "$work/b.jsonl" --input-format kcat \
  --report "$work/out/b.html" --report-series 5 >"$work/b.alerts" 2>"$work/b.log" ||
  { echo "FAIL replay --report"; cat "$work/b.log"; fail=1; }
grep -q "^replay: report $work/out/b.html: 5 of" "$work/b.log" ||
  { echo "FAIL no report line"; cat "$work/b.log"; fail=1; }
[ "$(ls -A "$work/out")" = b.html ] || { echo "FAIL left in the report's dir: $(ls -A "$work/out")"; fail=1; }
[ "$(wc -l <"$work/b.alerts")" -gt 5 ] || { echo "FAIL too few alerts to test"; fail=1; }
# Self-contained: nothing the browser would fetch (no src=, href=, url( or import).
if grep -Eq '<(script|link|img|iframe)[^>]* (src|href)=' "$work/out/b.html"; then
  echo "FAIL the report references an external resource"; fail=1
fi
render "$work/out/b.html" "$work/b.dom" "$artifacts/it_report.png" || fail=1
check "$work/b.dom" "$work/b.alerts" 5 || fail=1
[ -s "$artifacts/it_report.png" ] && echo "screenshot: $artifacts/it_report.png"

# 2. Hostile keys: HTML, a closing script tag, quotes, control characters,
#    U+2028 and a 1,000-byte key (the limit is 1,024); each series has two spikes.
cat >"$work/k.yaml" <<'EOF'
input: {key: /id, time: /ts, metrics: [/v]}
model: {detector: welford, welford: {threshold: 4.0, min_samples: 10}}
limits: {max_key_bytes: 1024}
EOF
"$py" - "$work/k.jsonl" <<'PY'
import json, sys
keys = ['<img src=x onerror="document.body.setAttribute(\'data-pwned\',1)">',
        '</script><script>document.body.setAttribute("data-pwned",1)</script>',
        '<b class="pwned">bold</b> & "quoted" \'single\'',
        'ctl\u0001\u001f\u007f tab\tnl\nls\u2028ps\u2029',
        'long-' + 'x' * 995,
        'plain']
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for t in range(60):
        for i, k in enumerate(keys):
            v = 10 + ((t * 7 + i * 3) % 5) * 0.1 + (50 if t in (40, 50) else 0)
            f.write(json.dumps({"id": k, "ts": 1700000000 + t * 60, "v": v}) + "\n")
PY
"$bin" -c "$work/k.yaml" --input "$work/k.jsonl" --report "$work/k.html" >"$work/k.alerts" \
  2>"$work/k.log" || { echo "FAIL replay of hostile keys"; cat "$work/k.log"; fail=1; }
[ "$(wc -l <"$work/k.alerts")" -ge 12 ] || { echo "FAIL hostile keys: too few alerts"; fail=1; }
render "$work/k.html" "$work/k.dom" "$artifacts/it_report_keys.png" || fail=1
check "$work/k.dom" "$work/k.alerts" 20 || fail=1
grep -o '<body[^>]*>' "$work/k.dom" | grep -q 'data-pwned' && { echo "FAIL a key's script ran"; fail=1; }

# --scores and --report together: the same rows as --scores alone, the same
# alerts as a replay without a report.
"$bin" -c "$work/k.yaml" --input "$work/k.jsonl" --scores "$work/s1.jsonl" >"$work/k0.alerts" \
  2>/dev/null
"$bin" -c "$work/k.yaml" --input "$work/k.jsonl" --scores "$work/s2.jsonl" \
  --report "$work/k2.html" >/dev/null 2>&1
cmp -s "$work/s1.jsonl" "$work/s2.jsonl" || { echo "FAIL --scores differs with --report"; fail=1; }
cmp -s "$work/k0.alerts" "$work/k.alerts" || { echo "FAIL alerts differ with --report"; fail=1; }

# 3. Usage: --report needs a replay; a report that cannot be written fails.
rc=0
"$bin" -c "$work/k.yaml" --check-config --report "$work/x.html" >/dev/null 2>&1 || rc=$?
[ "$rc" = 78 ] || { echo "FAIL --report without --input exits $rc, want 78"; fail=1; }
rc=0
"$bin" -c "$work/k.yaml" --input "$work/k.jsonl" --report "$work/k.html" --report-series 0 \
  >/dev/null 2>&1 || rc=$?
[ "$rc" = 78 ] || { echo "FAIL --report-series 0 exits $rc, want 78"; fail=1; }
rc=0
"$bin" -c "$work/k.yaml" --input "$work/k.jsonl" --report "$work/nodir/k.html" >/dev/null \
  2>"$work/nodir.log" || rc=$?
[ "$rc" = 1 ] || { echo "FAIL a report in a missing directory exits $rc, want 1"; fail=1; }

[ "$fail" = 0 ] && echo "it_report: ok"
exit "$fail"
