#!/usr/bin/env bash
# Integration: `anomalyd serve` (the Anomaly Detector REST API alone) driven
# with curl over loopback: every endpoint, every error code, keys, limits,
# concurrent clients, clients that leave mid-request, 8640 points, a clean
# stop; then the daemon's own remote client against it, and the same replay
# with endpoint: local (in-process) giving the same alerts.
#   it_serve.sh ANOMALYD SOURCE_DIR
set -euo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
py=/usr/bin/python3
work=$(mktemp -d)
export W=$work
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0 fail=0
ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; shift; for l in "$@"; do echo "    $l"; done; fail=$((fail + 1)); }

# start NAME [serve args]: a server on a free port, its log in NAME.log; sets
# PORT and PID (the port is read from the start-up line).
start() {
  local name=$1 deadline=$((SECONDS + 15))
  shift
  "$bin" serve --listen 127.0.0.1:0 "$@" 2>"$work/$name.log" &
  PID=$!
  PIDS+=("$PID")
  until grep -q "Anomaly Detector API on port" "$work/$name.log" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$PID" 2>/dev/null; then
      echo "FAIL serve $name did not start:"; cat "$work/$name.log"; exit 1
    fi
    sleep 0.02
  done
  PORT=$(sed -n 's/.*API on port \([0-9]*\) .*/\1/p' "$work/$name.log" | head -1)
}
# stop PID: SIGTERM; sets STOPPED to the exit code, which must be 0 within
# 10 s (a leak under ASan would make it non-zero).
stop() {
  local pid=$1 i
  STOPPED=0
  kill -TERM "$pid"
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { STOPPED=timeout; kill -KILL "$pid"; }
  wait "$pid" || STOPPED=$?
}
# post NAME PATH BODYFILE [curl args]: the response body in NAME.body,
# headers in NAME.hdr, status in NAME.code.
post() {
  local name=$1 path=$2 body=$3
  shift 3
  curl -s -m 30 -o "$work/$name.body" -D "$work/$name.hdr" -w '%{http_code}' \
    -X POST -H 'Content-Type: application/json' --data-binary @"$body" "$@" \
    "http://127.0.0.1:$PORT$path" >"$work/$name.code" || echo 000 >"$work/$name.code"
}
code() { cat "$work/$1.code"; echo; }
header() { tr -d '\r' <"$work/$1.hdr" | sed -n "s/^$2: //Ip" | head -1; }
# json NAME EXPR: evaluates a Python expression over the body j.
json() { "$py" -c "import json,sys; j=json.load(open('$work/$1.body')); print($2)" 2>/dev/null || echo '?'; }

L11=/anomalydetector/v1.1/timeseries/last/detect
E11=/anomalydetector/v1.1/timeseries/entire/detect
L10=/anomalydetector/v1.0/timeseries/last/detect
E10=/anomalydetector/v1.0/timeseries/entire/detect
CP=/anomalydetector/v1.1/timeseries/changepoint/detect
data=$src/tests/data/uvad

# Bodies: N hourly points of a daily wave with one spike near the end.
"$py" - "$work" <<'PY'
import json, math, sys, datetime
w = sys.argv[1]
def series(n, spike=None):
    t0 = datetime.datetime(2026, 1, 1)
    out = []
    for i in range(n):
        v = 100 + 10 * math.sin(2 * math.pi * i / 24) + (i % 7) * 0.3
        if spike is not None and i == spike:
            v += 80
        out.append({"timestamp": (t0 + datetime.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "value": round(v, 6)})
    return out
def dump(name, obj):
    with open("%s/%s.json" % (w, name), "w") as f:
        json.dump(obj, f)
dump("h200", {"series": series(200, 190), "granularity": "hourly"})
dump("h8640", {"series": series(8640, 8000), "granularity": "hourly"})
dump("h150", {"series": series(150), "granularity": "hourly"})
dump("h1000", {"series": series(1000), "granularity": "hourly"})
dump("h1200", {"series": series(1200), "granularity": "hourly"})
cp = series(200)
for i, p in enumerate(cp):
    if i >= 120:
        p["value"] += 50
dump("cp", {"series": cp, "granularity": "hourly", "stableTrendWindow": 10, "threshold": 0.9})
s = series(48)
errors = {
    "InvalidJsonFormat": "not json",
    "RequiredSeries": {"granularity": "hourly"},
    "InvalidGranularity": {"series": s, "granularity": "fortnightly"},
    "InvalidCustomInterval": {"series": s, "granularity": "hourly", "customInterval": 0},
    "InvalidPeriod": {"series": s, "granularity": "hourly", "period": -2},
    "InvalidModelArgument": {"series": s, "granularity": "hourly", "sensitivity": 120},
    "InvalidImputeMode": {"series": s, "granularity": "hourly", "imputeMode": "guess"},
    "InvalidImputeFixedValue": {"series": s, "granularity": "hourly", "imputeMode": "fixed"},
    "InvalidSeries": {"series": s[:5], "granularity": "hourly"},
    "BadArgument": {"series": [{"timestamp": "x", "value": "y"}] * 12, "granularity": "hourly"},
}
for code, body in errors.items():
    with open("%s/err_%s.json" % (w, code), "w") as f:
        f.write(body if isinstance(body, str) else json.dumps(body))
dump("v10_nogran", {"series": s})
with open(w + "/big.json", "w") as f:   # 200 KB of a valid-looking prefix
    f.write('{"series":[' + ",".join(['{"timestamp":"2026-01-01T00:00:00Z","value":1}'] * 4500) + "]}")
PY

# =====================================================================================
start open
curl -s -o "$work/health.body" -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" >"$work/health.code"
[ "$(code health)" = 200 ] && ok "healthz 200" || bad "healthz" "$(code health)"

# ---- every endpoint ---------------------------------------------------------------
post g11 $L11 "$data/v11_last.request.json"
if [ "$(code g11)" = 200 ] && "$py" - "$work/g11.body" "$data/v11_last.response.json" <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:])
for k in ("isAnomaly", "isPositiveAnomaly", "isNegativeAnomaly", "period", "suggestedWindow"):
    assert got[k] == want[k], (k, got[k], want[k])
assert abs(got["expectedValue"] - want["expectedValue"]) <= 0.05 * abs(want["expectedValue"])
assert "severity" in got
PY
then ok "v1.1 last/detect: the vendor's example (verdict, period, expected within 5%)"
else bad "v1.1 last/detect" "$(code g11)" "$(head -c 300 "$work/g11.body")"; fi

post g10 $L10 "$data/v10_last.request.json"
[ "$(code g10)" = 200 ] && [ "$(json g10 "'severity' in j")" = False ] &&
  [ "$(json g10 "j['period']")" = 12 ] &&
  ok "v1.0 last/detect: 200, period 12, no severity" || bad "v1.0 last/detect" "$(code g10)"

post ge11 $E11 "$data/v11_entire.request.json"
if [ "$(code ge11)" = 200 ] && "$py" - "$work/ge11.body" "$data/v11_entire.response.json" <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:])
n = len(want["isAnomaly"])
for k in ("expectedValues", "upperMargins", "lowerMargins", "isAnomaly", "isPositiveAnomaly",
          "isNegativeAnomaly", "severity"):
    assert len(got[k]) == n, (k, len(got[k]), n)
same = sum(a == b for a, b in zip(got["isAnomaly"], want["isAnomaly"]))
assert same >= 0.98 * n, (same, n)
assert got["period"] == want["period"]
PY
then ok "v1.1 entire/detect: the vendor's example (arrays aligned, verdicts)"
else bad "v1.1 entire/detect" "$(code ge11)" "$(head -c 300 "$work/ge11.body")"; fi

post ge10 $E10 "$work/h200.json"
[ "$(code ge10)" = 200 ] && [ "$(json ge10 "len(j['isAnomaly'])")" = 200 ] &&
  [ "$(json ge10 "j['isAnomaly'][190]")" = True ] &&
  ok "v1.0 entire/detect: 200 points, the spike flagged" || bad "v1.0 entire/detect" "$(code ge10)"

post cp $CP "$work/cp.json"
[ "$(code cp)" = 200 ] && [ "$(json cp "len(j['isChangePoint']) == 200 and any(j['isChangePoint'][110:130])")" = True ] &&
  ok "v1.1 changepoint/detect: the level shift found" || bad "changepoint" "$(code cp)" "$(head -c 300 "$work/cp.body")"

post q "$L11?api-version=x" "$work/h200.json"
[ "$(code q)" = 200 ] && ok "a query string is ignored" || bad "query string" "$(code q)"

# ---- every error -----------------------------------------------------------------
for e in InvalidJsonFormat RequiredSeries InvalidGranularity InvalidCustomInterval InvalidPeriod \
  InvalidModelArgument InvalidImputeMode InvalidImputeFixedValue InvalidSeries BadArgument; do
  post "e11_$e" $L11 "$work/err_$e.json"
  got="$(code "e11_$e") $(header "e11_$e" x-ms-error-code) $(json "e11_$e" "j['code']" 2>/dev/null)"
  [ "$got" = "400 $e $e" ] && ok "v1.1 400 $e with x-ms-error-code" || bad "v1.1 $e" "got: $got"
done
post e10 $L10 "$work/v10_nogran.json"
got="$(code e10) [$(header e10 x-ms-error-code)] $(json e10 "j['code']")"
[ "$got" = "400 [] RequiredGranularity" ] && ok "v1.0 400 RequiredGranularity, no header" ||
  bad "v1.0 RequiredGranularity" "got: $got"
post e10b $E10 "$work/err_InvalidSeries.json"
got="$(code e10b) [$(header e10b x-ms-error-code)] $(json e10b "j['code']")"
[ "$got" = "400 [] InvalidSeries" ] && ok "v1.0 400 InvalidSeries, no header" || bad "v1.0 InvalidSeries" "got: $got"
post nf /anomalydetector/v1.1/timeseries/nothing/detect "$work/h200.json"
[ "$(code nf)" = 404 ] && [ "$(json nf "j['error']['code']")" = 404 ] &&
  ok "404 in the gateway envelope" || bad "404" "$(code nf)"
curl -s -o "$work/m.body" -w '%{http_code}' "http://127.0.0.1:$PORT$L11" >"$work/m.code"
[ "$(code m)" = 405 ] && [ "$(json m "j['error']['code']")" = 405 ] &&
  ok "GET on an endpoint: 405" || bad "405" "$(code m)"

# ---- 8640 points ------------------------------------------------------------------
post big8640 $E11 "$work/h8640.json"
[ "$(code big8640)" = 200 ] && [ "$(json big8640 "len(j['expectedValues'])")" = 8640 ] &&
  [ "$(json big8640 "j['isAnomaly'][8000]")" = True ] &&
  ok "entire/detect of 8640 points (the spike flagged)" || bad "8640 points" "$(code big8640)"
post last8640 $L11 "$work/h8640.json"
[ "$(code last8640)" = 200 ] && ok "last/detect of 8640 points" || bad "last 8640" "$(code last8640)"

# ---- concurrent clients (the default bound of 16 per client) -----------------------
for i in $(seq 16); do post "conc$i" $E11 "$work/h8640.json" & done
wait_jobs() { for j in $(jobs -p); do case " ${PIDS[*]} " in *" $j "*) ;; *) wait "$j" || true ;; esac; done; }
wait_jobs
codes=$(for i in $(seq 16); do code "conc$i"; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
all_same=1
for i in $(seq 16); do cmp -s "$work/conc$i.body" "$work/big8640.body" || all_same=0; done
[ "$codes" = " 16 200;" ] && [ $all_same = 1 ] &&
  ok "16 concurrent clients: all 200, answers identical to the serial one" || bad "concurrent" "$codes same=$all_same"

# ---- clients that leave ------------------------------------------------------------
rc=0
"$py" - "$PORT" "$work/h8640.json" <<'PY' || rc=$?
import socket, sys, time
port, body = int(sys.argv[1]), open(sys.argv[2], "rb").read()
def req(path, n):
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (path.encode(), len(body))) + body[:n]
for i in range(6):   # the whole request, then gone before the answer
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(req("/anomalydetector/v1.1/timeseries/entire/detect", len(body))); s.close()
for i in range(3):   # half a body, then gone
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(req("/anomalydetector/v1.1/timeseries/entire/detect", len(body) // 2)); s.close()
s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"POST /anomalydetector/v1.1/timeseries/last/detect HTTP/1.1\r\nHost: x\r\n")
s.settimeout(12); t0 = time.time()
try:
    d = s.recv(100)
except socket.timeout:
    d = b"timeout"
dt = time.time() - t0
assert d == b"" and 0.7 < dt < 4, ("a client that never finishes its headers", d, dt)
PY
post after $L11 "$work/h200.json"
[ $rc = 0 ] && [ "$(code after)" = 200 ] && kill -0 "$PID" &&
  ok "clients leaving mid-request or mid-body are dropped; slow headers cut at 1 s; still serving" ||
  bad "clients that leave" "rc=$rc after=$(code after)"
stop "$PID"
[ "$STOPPED" = 0 ] && ok "SIGTERM: a clean stop (exit 0)" || bad "stop: $STOPPED" "$(cat "$work/open.log")"
dropped=$(sed -n 's/.* \([0-9]*\) dropped (client gone).*/\1/p' "$work/open.log")
[ "${dropped:-0}" -ge 1 ] && ok "answers to clients that left were dropped ($dropped)" ||
  bad "no dropped answer counted" "$(tail -2 "$work/open.log")"

# ---- limits and keys ----------------------------------------------------------------
cat >"$work/limits.yaml" <<'EOF'
http:
  api:
    keys: [cfg-key-123456, "${SECOND_KEY:-}"]
    max_body: 100000
    max_points: 1000
    max_concurrent_per_client: 2
EOF
export ANOMALYD_API_KEYS="env-key-abcdef, env-key-two"
start limits -c "$work/limits.yaml"
unset ANOMALYD_API_KEYS
K=(-H "Ocp-Apim-Subscription-Key: cfg-key-123456")
post nokey $L11 "$work/h150.json"
post badkey $L11 "$work/h150.json" -H "Ocp-Apim-Subscription-Key: cfg-key-12345"
post goodkey $L11 "$work/h150.json" "${K[@]}"
post envkey $L11 "$work/h150.json" -H "Ocp-Apim-Subscription-Key: env-key-two"
got="$(code nokey) $(json nokey "j['error']['code']") $(code badkey) $(json badkey "j['error']['code']") $(code goodkey) $(code envkey)"
[ "$got" = "401 401 401 401 200 200" ] &&
  ok "keys: missing 401, wrong 401 (gateway envelope), config key 200, environment key 200" ||
  bad "keys" "got: $got"
if grep -q -e cfg-key-123456 -e env-key "$work/limits.log"; then bad "a key in the log"; else ok "no key in the log"; fi
"$bin" -c "$work/limits.yaml" --check-config >"$work/check.out" 2>&1 || true
grep -q 'keys: \["\*\*\*", ""\]' "$work/check.out" && ! grep -q cfg-key "$work/check.out" &&
  ok "--check-config masks http.api.keys" || bad "--check-config" "$(grep -n keys "$work/check.out")"

# Bodies held at once are bounded (16 x max_body): the 17th client sending most
# of a body that fits max_body, with the others still sending, gets 503.
busy=0
"$py" - "$PORT" <<'PY' || busy=$?
import socket, sys
port = int(sys.argv[1])
head = (b"POST /anomalydetector/v1.1/timeseries/last/detect HTTP/1.1\r\nHost: x\r\n"
        b"Ocp-Apim-Subscription-Key: cfg-key-123456\r\nContent-Length: 99000\r\n\r\n")
held, answers = [], []
for i in range(17):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head + b" " * 95000)
    held.append(s)
import time; time.sleep(0.5)
last = held[-1]
last.settimeout(5)
d = last.recv(200)
assert d.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in d, d
for s in held[:16]:
    s.settimeout(0.2)
    try:
        assert s.recv(1) == b"", "an earlier client was answered"
    except socket.timeout:
        pass
for s in held:
    s.close()
PY
[ $busy = 0 ] && ok "bodies held at once are bounded: the 17th large body gets 503 Retry-After" ||
  bad "buffered bodies bound"

post toolarge $L11 "$work/big.json" "${K[@]}"
[ "$(code toolarge)" = 413 ] && ok "a body over max_body: 413" || bad "413" "$(code toolarge)"
# The same without Expect: 100-continue, the body sent at once: the 413 must
# still reach the client (read before the server closes, not a reset).
r413=0
"$py" - "$PORT" "$work/big.json" <<'PY' || r413=$?
import socket, sys
port, body = int(sys.argv[1]), open(sys.argv[2], "rb").read()
for i in range(5):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /anomalydetector/v1.1/timeseries/last/detect HTTP/1.1\r\nHost: x\r\n"
              b"Ocp-Apim-Subscription-Key: cfg-key-123456\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    s.settimeout(5)
    d = s.recv(100)
    assert d.startswith(b"HTTP/1.1 413"), d
    s.close()
PY
[ $r413 = 0 ] && ok "413 read by a client that sent the whole large body at once" || bad "413 without Expect"
post points $L11 "$work/h1200.json" "${K[@]}"
got="$(code points) $(header points x-ms-error-code)"
[ "$got" = "400 InvalidSeries" ] && ok "more points than max_points: 400 InvalidSeries" || bad "max_points" "$got"

for i in $(seq 24); do post "thr$i" $E11 "$work/h1000.json" "${K[@]}" & done
wait_jobs
codes=$(for i in $(seq 24); do code "thr$i"; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
n429=0 nok=0 retry=1
for i in $(seq 24); do
  case $(code "thr$i") in
    200) nok=$((nok + 1)) ;;
    429) n429=$((n429 + 1)); [ "$(header "thr$i" Retry-After)" = 1 ] || retry=0
         [ "$(json "thr$i" "j['error']['code']")" = 429 ] || retry=0 ;;
  esac
done
[ $((nok + n429)) = 24 ] && [ $nok -ge 2 ] && [ $n429 -ge 1 ] && [ $retry = 1 ] &&
  ok "24 at once from one client, 2 allowed: $nok 200, $n429 429 with Retry-After" ||
  bad "per-client bound" "$codes retry=$retry"
# /metrics counts every answer above: 2 x 401, 1 x 503 (bodies held), 6 x 413,
# the 429s; by endpoint and class; compute latency only for computed requests.
curl -s "http://127.0.0.1:$PORT/metrics" >"$work/metrics.txt"
mok=0
"$py" - "$work/metrics.txt" "$nok" "$n429" <<'PY' || mok=$?
import re, sys
text = open(sys.argv[1]).read()
nok, n429 = int(sys.argv[2]), int(sys.argv[3])
m = {}
for line in text.splitlines():
    if line and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
def req(ep, cl):
    return m['anomalyd_api_requests_total{endpoint="%s",class="%s"}' % (ep, cl)]
want = {
    'anomalyd_api_rejected_total{status="401"}': 2,
    'anomalyd_api_rejected_total{status="413"}': 6,
    'anomalyd_api_rejected_total{status="429"}': n429,
    'anomalyd_api_rejected_total{status="503"}': 1,
    'anomalyd_api_in_flight': 0,
    'anomalyd_api_compute_duration_seconds_count': 3 + nok,
}
for k, v in want.items():
    assert m.get(k) == v, (k, m.get(k), v)
got = (req("last", "2xx"), req("last", "4xx"), req("last", "5xx"), req("entire", "2xx"),
       req("entire", "4xx"), req("changepoint", "2xx"), req("other", "4xx"))
assert got == (2, 2 + 1 + 6, 1, nok, n429, 0, 0), got
assert m['anomalyd_api_compute_duration_seconds_sum'] > 0
assert m['anomalyd_api_compute_duration_seconds_bucket{le="+Inf"}'] == 3 + nok
assert "# TYPE anomalyd_api_compute_duration_seconds histogram" in text
PY
[ $mok = 0 ] && ok "/metrics: anomalyd_api_* by endpoint and class, rejections, in flight, latency" ||
  bad "/metrics of serve" "$(grep anomalyd_api "$work/metrics.txt" | head -30)"
stop "$PID"
[ "$STOPPED" = 0 ] && ok "SIGTERM after the limits: exit 0" || bad "stop limits: $STOPPED" "$(cat "$work/limits.log")"

# ---- the daemon's remote client: against serve, and in-process ----------------------
cfgB=$src/config/examples/scenario-b-iot.yaml
"$bin" simulate --format iot --devices 3 --count 9000 --seed 5 --interval 10s \
  --anomaly-rate 0.01 --output-format kcat >"$work/b.jsonl"
start remote
R=(--input-format kcat --set remote.anomaly_detector.mode=always)
timeout 120 "$bin" -c "$cfgB" --input "$work/b.jsonl" "${R[@]}" \
  --set remote.anomaly_detector.endpoint=http://127.0.0.1:$PORT >"$work/b_http.alerts" 2>"$work/b_http.err" || true
timeout 120 "$bin" -c "$cfgB" --input "$work/b.jsonl" "${R[@]}" \
  >"$work/b_local.alerts" 2>"$work/b_local.err" || true
stop "$PID"
[ "$STOPPED" = 0 ] || bad "stop remote: $STOPPED" "$(cat "$work/remote.log")"
if "$py" - "$work" <<'PY'
import json, re, sys
w = sys.argv[1]
def load(n): return [json.loads(l) for l in open("%s/%s.alerts" % (w, n)) if l.strip()]
def summary(n):
    for l in open("%s/%s.err" % (w, n)):
        if l.startswith("replay: remote:"):
            return {k: int(v) for v, k in re.findall(r"(\d+) (\w+)", l)}
    raise AssertionError(open("%s/%s.err" % (w, n)).read()[-2000:])
h, l = load("b_http"), load("b_local")
sh, sl = summary("b_http"), summary("b_local")
assert sh["ok"] > 0 and sh["ok"] == sl["ok"], (sh, sl)
assert sh.get("unavailable", 0) == 0 and sl.get("unavailable", 0) == 0, (sh, sl)
assert h and all(a["remote"]["status"] == "ok" for a in h), "an alert without a verdict"
# the same alerts, and per series in the same order; how series interleave
# depends on when each HTTP verdict came back
def by_key(a):
    d = {}
    for x in a:
        d.setdefault(x["key"], []).append(x)
    return d
assert by_key(h) == by_key(l), "the HTTP and the in-process replays differ"
print("%d verdicts, %d alerts, identical" % (sh["ok"], len(h)))
PY
then ok "scenario B replay: remote client against serve == endpoint: local (same alerts)"
else bad "scenario B remote" "$(tail -3 "$work/b_http.err")" "$(tail -3 "$work/b_local.err")"; fi

echo "it_serve: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
