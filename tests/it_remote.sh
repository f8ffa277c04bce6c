#!/usr/bin/env bash
# Integration: the remote Anomaly Detector client and the webhook sink through
# the real binary in replay mode, against tests/tools/ad_stub_server.py (a
# local server implementing the REST contract, scripted per request).
#   it_remote.sh ANOMALYD SOURCE_DIR [GROUP]
# GROUP (one ctest test each; the it_remote_GROUP.sh wrappers pass it):
#   requests (default)  exact request bodies and headers, short windows skipped,
#                       the key kept secret, each mode's verdict logic, scenario A
#   faults              429 (Retry-After / "Try again in N seconds"), 5xx, 4xx,
#                       malformed, reset, hang: retries, timings, local verdicts kept
#   breaker             the circuit breaker over a live pipe; hung requests vs budget
#   webhook             batches, order, fields, headers, retries without loss
set -euo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
py=/usr/bin/python3
stub=$src/tests/tools/ad_stub_server.py
work=$(mktemp -d)
export W=$work
STUB_PID=
cleanup() {
  if [ -n "$STUB_PID" ]; then kill "$STUB_PID" 2>/dev/null || true; wait "$STUB_PID" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0 fail=0

# ---- helpers ----------------------------------------------------------------------
# start_stub NAME [server args]: a fresh server logging to $work/NAME.log; sets PORT.
start_stub() {
  local name=$1 deadline=$((SECONDS + 15))
  shift
  stop_stub
  rm -f "$work/$name.port" "$work/$name.log"
  "$py" "$stub" --port-file "$work/$name.port" --log "$work/$name.log" "$@" \
    2>"$work/$name.stub.err" &
  STUB_PID=$!
  while [ ! -s "$work/$name.port" ]; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$STUB_PID" 2>/dev/null; then
      echo "FAIL the stub server did not start:"; cat "$work/$name.stub.err"; exit 1
    fi
    sleep 0.02
  done
  PORT=$(cat "$work/$name.port")
}
stop_stub() {
  if [ -n "$STUB_PID" ]; then
    kill "$STUB_PID" 2>/dev/null || true
    wait "$STUB_PID" 2>/dev/null || true
    STUB_PID=
  fi
}
# replay NAME CONFIG INPUT [anomalyd args]: alerts to NAME.alerts, stderr to
# NAME.err, exit code to NAME.rc, wall milliseconds to NAME.ms; bounded by 120 s.
replay() {
  local name=$1 cfg=$2 input=$3 t0 rc=0
  shift 3
  t0=$(date +%s%N)
  timeout 120 "$bin" -c "$cfg" --input "$input" "$@" >"$work/$name.alerts" 2>"$work/$name.err" || rc=$?
  echo $rc >"$work/$name.rc"
  echo $((($(date +%s%N) - t0) / 1000000)) >"$work/$name.ms"
}
# check NAME: runs the Python on stdin (after PYLIB); ok when it exits 0. Its
# last output line, if any, is shown after the name.
check() {
  local name=$1 out
  if out=$("$py" -c "$PYLIB
$(cat)" 2>&1); then
    echo "ok $name${out:+ (${out##*$'\n'})}"; pass=$((pass + 1))
  else
    echo "FAIL $name"; echo "$out" | sed 's/^/    /' | tail -25; fail=$((fail + 1))
  fi
}
PYLIB='
import json, math, os, re, sys, time
W = os.environ["W"]
def path(p): return p if p.startswith("/") else os.path.join(W, p)
def load(p): return [json.loads(l) for l in open(path(p)) if l.strip()]
def text(p): return open(path(p)).read()
def rc(name): return int(text(name + ".rc"))
def secs(name): return int(text(name + ".ms")) / 1000.0
def iso(us): return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(us // 1000000))
def parse_iso(s):
    import calendar
    s = s.rstrip("Z").split(".")[0]
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%S")) * 1000000
def summary(name):
    """The replay: remote: line as a dict."""
    for l in text(name + ".err").splitlines():
        if l.startswith("replay: remote:"):
            return {k: int(n) for n, k in re.findall(r"(\d+) (\w+)", l)}
    raise AssertionError("no remote summary in %s.err:\n%s" % (name, text(name + ".err")))
def windows(lines, key_of, time_of, value_of, G, Wn, S, agg):
    """Independent windows: {(key, end_us): [(t_us, v), ...]} of the sliding
    windows [end - Wn, end) over tumbling aggregates of size G (all in s)."""
    G, Wn, S = int(G * 1e6), int(Wn * 1e6), int(S * 1e6)
    per = {}
    for l in lines:
        k, t, v = key_of(l), time_of(l), value_of(l)
        pts = per.setdefault(k, [])
        if pts and pts[-1][0] == t:
            continue
        pts.append((t, v))
    out = {}
    for k, pts in per.items():
        tum = {}
        for t, v in pts:
            tum.setdefault(t - t % G, []).append(v)
        agg_f = {"max": max, "mean": lambda xs: sum(xs) / len(xs)}[agg]
        tp = sorted((s, agg_f(vs)) for s, vs in tum.items())
        ends = sorted({(s + G + S - 1) // S * S for s, _ in tp})
        for e in ends:
            out[(k, e)] = [(s, v) for s, v in tp if e - Wn <= s and s + G <= e]
    return out
def b_windows(p="b.jsonl", G=60, Wn=900, S=600):
    import pickle
    cache = path("%s.%d-%d-%d.pickle" % (p, G, Wn, S))
    if os.path.exists(cache):
        return pickle.load(open(cache, "rb"))
    out = b_windows_uncached(p, G, Wn, S)
    pickle.dump(out, open(cache, "wb"))
    return out
def b_windows_uncached(p, G, Wn, S):
    recs = [json.loads(l) for l in open(path(p))]
    def key(env):
        h = env["headers"]
        return dict(zip(h[0::2], h[1::2]))["iothub-connection-device-id"]
    return windows(recs, key, lambda env: env["ts"] * 1000,
                   lambda env: float(json.loads(env["payload"])["temperature"]), G, Wn, S, "max")
def series_of(req):
    return tuple((parse_iso(p["timestamp"]), p["value"]) for p in req["body"]["series"])
def by_series(wins):
    """{series tuple: window id} (asserting that series are unique)."""
    out = {}
    for w, pts in wins.items():
        out.setdefault(tuple(pts), []).append(w)
    return out
def attempts(log):
    """{raw body: [log entries in order]}"""
    out = {}
    for e in log:
        out.setdefault(e["raw"], []).append(e)
    return out
def alert_window(a):
    return (a["key"], parse_iso(a["window_end"]))
def ids(name): return [a["alert_id"] for a in load(name + ".alerts")]
def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)
NUM = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
POINT = r"\{\"timestamp\":\"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\",\"value\":" + NUM + r"\}"
def body_re(tail):
    return re.compile(r"^\{\"series\":\[" + POINT + "(?:," + POINT + r")*\]" + re.escape(tail) + "$")
ROW_FIELDS = ["timestamp", "value", "expectedValue", "upperMargin", "lowerMargin", "isAnomaly",
              "isPositiveAnomaly", "isNegativeAnomaly", "alertId", "key", "metric", "detector"]
def identity(a):
    """The row members that say which alert a row is about."""
    return {"alertId": a["alert_id"], "key": a["key"], "metric": a["metric"],
            "detector": a["detector"]}
def expected_rows(name, tumbling_s=60):
    """The webhook rows the alerts of NAME should give (local verdicts)."""
    out = []
    for a in load(name + ".alerts"):
        m = a["threshold"] * a["stddev"]
        out.append({"timestamp": iso(parse_iso(a["window_end"]) - tumbling_s * 1000000),
                    "value": a["value"], "expectedValue": a["expected"], "upperMargin": m,
                    "lowerMargin": m, "isAnomaly": True,
                    "isPositiveAnomaly": a["value"] > a["expected"],
                    "isNegativeAnomaly": a["value"] < a["expected"], **identity(a)})
    return out
def same_row(r, w):
    expect(list(r) == ROW_FIELDS, "row fields %s" % list(r))
    for k in ROW_FIELDS:
        if isinstance(w[k], float):
            expect(math.isclose(r[k], w[k], rel_tol=1e-12, abs_tol=1e-12), (k, r, w))
        else:
            expect(r[k] == w[k], (k, r, w))
def posts(name):
    """The webhook requests of stub log NAME: [(entry, rows)], rows in field order."""
    out = []
    for e in load(name + ".log"):
        if e["api"] == "webhook":
            rows = json.loads(e["raw"], object_pairs_hook=lambda kv: dict(kv))
            out.append((e, rows))
    return out
def delivered(ps):
    return [r for e, rows in ps if not e["action"][:1].isdigit() for r in rows]
def check_faults(name, actions, status, reason=None, gaps=(), log=None, curl_retry=False):
    """Confirm-mode run NAME against stub log LOG (default NAME.log): every
    locally flagged window asked exactly len(actions) times with those
    actions, successive attempts of one window lo..hi s apart (gaps), every
    local alert published with remote.status STATUS (reason matching REASON),
    and the summary line consistent. curl_retry: libcurl itself resends a
    request at once when a reused connection dies without an answer, so the
    retry count of the client may be lower and a gap may be ~0."""
    log = load((log or name) + ".log")
    expect(rc("b_" + name) == 0, "exit %d: %s" % (rc("b_" + name), text("b_" + name + ".err")[-500:]))
    index = by_series(b_windows())
    flagged = {alert_window(a) for a in load("b_off.alerts")}
    jobs = attempts(log)
    expect({index[series_of(v[0])][0] for v in jobs.values()} == flagged,
           "the windows asked are not the locally flagged ones")
    worst = [0.0] * len(gaps)
    for v in jobs.values():
        acts = [e["action"] for e in v]
        if isinstance(actions, tuple):  # (action, fewest, most attempts)
            expect(set(acts) == {actions[0]} and actions[1] <= len(acts) <= actions[2],
                   "attempts %s, want %d..%d x %s" % (acts, actions[1], actions[2], actions[0]))
        else:
            expect(acts == list(actions), "attempts %s, want %s" % (acts, list(actions)))
        for i, ((lo, hi), (a, b)) in enumerate(zip(gaps, zip(v, v[1:]))):
            d = b["t"] - a["t"]
            # 10 ms of slack below: libuv timers have millisecond granularity
            expect(lo - 0.010 <= d <= hi or (curl_retry and d < 0.1),
                   "attempt %d came %.3f s after the previous one, want %.1f..%.1f s"
                   % (i + 2, d, lo, hi))
            worst[i] = max(worst[i], d)
    off = load("b_off.alerts")
    got = load("b_" + name + ".alerts")
    expect(sorted(a["alert_id"] for a in got) == sorted(a["alert_id"] for a in off),
           "alerts lost or added: %d published, %d flagged" % (len(got), len(off)))
    for a in got:
        r = a["remote"]
        expect(r["status"] == status, "remote %s, want status %s" % (r, status))
        if reason is not None:
            expect(re.search(reason, r.get("reason", "")), "reason %r, want /%s/" % (r.get("reason"), reason))
    s = summary("b_" + name)
    expect(s["requests"] <= len(log) and s["retries"] <= len(log) - len(jobs), s)
    if not curl_retry:
        expect(s["requests"] == len(log) and s["retries"] == len(log) - len(jobs), s)
    expect(s[status] == len(jobs) and s["breaker_open"] == 0, s)
    worst = [w for w in worst if w > 0]
    gap = (", slowest retries " + "/".join("%.2f" % w for w in worst) + " s") if worst else ""
    return "%d windows, %d requests, %s%s" % (len(jobs), len(log), status, gap)
'
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
# remote MODE: the --set arguments that point the client at the running stub.
remote() {
  echo --set remote.anomaly_detector.mode="$1" \
    --set remote.anomaly_detector.endpoint=http://127.0.0.1:$PORT
}

# ---- data shared by every group ------------------------------------------------------
# Scenario B: 5 devices, 6000 records each at 10 s; 100 windows of 15 minutes per
# device (15 points each, but the first: 10 points, not sent); 11 flagged locally.
# The examples score with auto; these checks are about the remote stage over
# the Welford model the scenarios were written for (kept in the examples).
# The examples ask the in-process algorithm (mode: always, endpoint: local);
# these cases set their mode and the stub's endpoint themselves, from off.
sed -e 's/^  detector: auto$/  detector: welford/' -e 's/^    mode: always$/    mode: off/' \
  "$src/config/examples/scenario-b-iot.yaml" >"$work/scenario-b-welford.yaml"
sed -e 's/^  detector: auto$/  detector: welford/' -e 's/^    mode: always$/    mode: off/' \
  "$src/config/examples/scenario-a-tweets.yaml" >"$work/scenario-a-welford.yaml"
cfgB=$work/scenario-b-welford.yaml
cfgA=$work/scenario-a-welford.yaml
B=(--input-format kcat)
unset ANOMALY_DETECTOR_KEY
"$bin" simulate --format iot --devices 5 --count 30000 --seed 5 --interval 10s \
  --anomaly-rate 0.01 --output-format kcat >"$work/b.jsonl"
replay b_off "$cfgB" "$work/b.jsonl" "${B[@]}"
[ "$(cat "$work/b_off.rc")" = 0 ] && [ "$(wc -l <"$work/b_off.alerts")" -ge 5 ] ||
  { echo "FAIL the local-only replay of scenario B:"; cat "$work/b_off.err"; exit 1; }

# =====================================================================================
group_requests() {
# Scenario A: one tweet every 6 minutes (--devices 1: one timestamp per record).
"$bin" simulate --format tweet --devices 1 --count 3000 --seed 3 --interval 6m \
  --anomaly-rate 0.05 >"$work/a.jsonl"
replay a_off "$cfgA" "$work/a.jsonl"

# ---- scenario B, mode always: every window sent, exact bodies -------------------
start_stub always --default ok
replay b_always "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote always)
stop_stub
check "always: request bodies (field order, timestamps, 15 points, parameters)" <<'PY'
log = load("always.log")
expect(rc("b_always") == 0, "exit %d" % rc("b_always"))
rx = body_re(',"granularity":"minutely","maxAnomalyRatio":0.25,"sensitivity":95}')
for e in log:
    expect(e["method"] == "POST", e["method"])
    expect(e["path"] == "/anomalydetector/v1.1/timeseries/last/detect", e["path"])
    expect(e["headers"].get("content-type") == "application/json", e["headers"])
    expect(not e["has_key"], "a key header was sent without a key configured")
    expect(rx.match(e["raw"]), "body does not have the exact form: %s" % e["raw"][:300])
    order = [k for k, _ in json.loads(e["raw"], object_pairs_hook=lambda kv: kv)]
    expect(order == ["series", "granularity", "maxAnomalyRatio", "sensitivity"], order)
    ts = [p["timestamp"] for p in e["body"]["series"]]
    us = [parse_iso(t) for t in ts]
    expect(us == sorted(us) and len(set(us)) == len(us), "not ascending/unique: %s" % ts)
    expect(all(u % 60000000 == 0 for u in us), "off the minute grid: %s" % ts)
    expect(len(us) == 15, "%d points, want 15" % len(us))
print("%d bodies" % len(log))
PY
check "always: the windows sent are exactly the windows with >= 12 points, once each" <<'PY'
log = load("always.log")
wins = b_windows()
full = {w: p for w, p in wins.items() if len(p) >= 12}
short = [w for w, p in wins.items() if len(p) < 12]
sent = sorted(series_of(e) for e in log)
want = sorted(tuple(p) for p in full.values())
expect(sent == want, "sent %d series, want %d; first difference: %s" % (
    len(sent), len(want), next(((a, b) for a, b in zip(sent, want) if a != b), None)))
s = summary("b_always")
expect(s["requests"] == len(full) and s["ok"] == len(full), s)
expect(s["skipped"] == len(short) and len(short) > 0, (s, len(short)))
print("%d sent, %d skipped" % (len(full), len(short)))
PY
check "always: local alerts kept, remote-only anomalies alerted as anomaly_detector" <<'PY'
log = load("always.log")
wins = b_windows()
index = by_series(wins)
verdict = {}
for e in log:
    w = index[series_of(e)]
    expect(len(w) == 1, "ambiguous series")
    verdict[w[0]] = e["response"]
off = {alert_window(a): a for a in load("b_off.alerts")}
got = {alert_window(a): a for a in load("b_always.alerts")}
want = set(off) | {w for w, v in verdict.items() if v["isAnomaly"]}
expect(set(got) == want, "alerts %s, want %s" % (sorted(set(got) ^ want), ""))
remote_only = 0
for w, a in got.items():
    v = verdict[w]
    r = a["remote"]
    expect(r["status"] == "ok" and r["is_anomaly"] == v["isAnomaly"], r)
    for k, rk in (("expectedValue", "expected_value"), ("upperMargin", "upper_margin"),
                  ("lowerMargin", "lower_margin"), ("severity", "severity")):
        expect(math.isclose(r[rk], v[k], rel_tol=1e-12, abs_tol=1e-12), (rk, r[rk], v[k]))
    expect(r["is_positive_anomaly"] == v["isPositiveAnomaly"], r)
    expect(r["is_negative_anomaly"] == v["isNegativeAnomaly"], r)
    if w in off:
        expect(a["detector"] == "welford" and a["alert_id"] == off[w]["alert_id"], a)
    else:
        remote_only += 1
        expect(a["detector"] == "anomaly_detector", a)
        expect(a["direction"] == ("positive" if v["isPositiveAnomaly"] else "negative"), a)
expect(remote_only > 0, "the server flagged no window the local model did not")
print("%d alerts: %d local, %d remote only" % (len(got), len(got) - remote_only, remote_only))
PY
check "always: HTTP/1.1 keep-alive (connections reused)" <<'PY'
log = load("always.log")
conns = {e["conn"] for e in log}
expect(len(conns) <= 32, "%d connections for %d requests" % (len(conns), len(log)))
print("%d requests on %d connections" % (len(log), len(conns)))
PY

start_stub always_normal --default ok-normal
replay b_always_normal "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote always)
stop_stub
check "always: remote says normal -> the local alerts still stand" <<'PY'
expect(ids("b_always_normal") == ids("b_off"), "alerts differ from the local run")
for a in load("b_always_normal.alerts"):
    expect(a["remote"]["status"] == "ok" and a["remote"]["is_anomaly"] is False, a["remote"])
print("%d alerts" % len(ids("b_off")))
PY

# ---- scenario B, mode confirm ---------------------------------------------------------
start_stub confirm_normal --default ok-normal
replay b_confirm_normal "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote confirm)
stop_stub
check "confirm: only locally flagged windows sent; remote normal -> no alert" <<'PY'
log = load("confirm_normal.log")
wins = b_windows()
flagged = sorted(tuple(wins[alert_window(a)]) for a in load("b_off.alerts"))
expect(len(flagged) > 5, "too few local alerts to test with")
expect(sorted(series_of(e) for e in log) == flagged, "requests are not the flagged windows")
expect(text("b_confirm_normal.alerts") == "", "alerts were published")
s = summary("b_confirm_normal")
expect(s["requests"] == len(flagged) and s["ok"] == len(flagged), s)
print("%d requests, 0 alerts" % len(log))
PY

start_stub confirm_anomaly --default ok-anomaly
replay b_confirm_anomaly "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote confirm)
stop_stub
check "confirm: remote anomaly -> alert with both verdicts" <<'PY'
log = load("confirm_anomaly.log")
index = by_series(b_windows())
resp = {index[series_of(e)][0]: e["response"] for e in log}
off = {a["alert_id"]: a for a in load("b_off.alerts")}
got = load("b_confirm_anomaly.alerts")
expect(sorted(a["alert_id"] for a in got) == sorted(off), "alert ids differ from the local run")
for a in got:
    o = off[a["alert_id"]]
    for k in ("value", "expected", "stddev", "zscore", "threshold", "direction", "n", "detector"):
        expect(a[k] == o[k], (k, a[k], o[k]))
    v = resp[alert_window(a)]
    r = a["remote"]
    expect(r["status"] == "ok" and r["is_anomaly"] is True, r)
    expect(math.isclose(r["expected_value"], v["expectedValue"], rel_tol=1e-12), (r, v))
    expect(r["period"] == 0 and "severity" in r, r)
print("%d alerts" % len(got))
PY

printf 'ok-anomaly\nok-normal\nok-normal\nok-anomaly\nok-normal\nok-anomaly\nok-anomaly\nok-normal\n' \
  >"$work/mixed.script"
start_stub confirm_mixed --script "$work/mixed.script" --default ok-normal
replay b_confirm_mixed "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote confirm) \
  --set remote.anomaly_detector.max_in_flight=1
stop_stub
check "confirm: the alerts are exactly the windows the server called anomalous" <<'PY'
log = load("confirm_mixed.log")
index = by_series(b_windows())
yes = {index[series_of(e)][0] for e in log if e["action"] == "ok-anomaly"}
got = [alert_window(a) for a in load("b_confirm_mixed.alerts")]
expect(len(yes) == 4, yes)
expect(sorted(got) == sorted(yes), (got, yes))
# alerts come out in window order per series
for k in {w[0] for w in got}:
    ends = [w[1] for w in got if w[0] == k]
    expect(ends == sorted(ends), ends)
print("%d of %d confirmed" % (len(got), len(log)))
PY

# ---- the replay waits for verdicts instead of dropping them -----------------------------
start_stub mif1 --default ok
replay b_mif1 "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote always) \
  --set remote.anomaly_detector.max_in_flight=1
stop_stub
check "replay with max_in_flight 1: every window gets its verdict (none overloaded)" <<'PY'
s = summary("b_mif1")
wins = b_windows()
expect(s["overloaded"] == 0, "%d windows answered overloaded in an offline replay: %s"
       % (s["overloaded"], s))
expect(s["ok"] == s["requests"] == sum(len(p) >= 12 for p in wins.values()), s)
print("%d verdicts" % s["ok"])
PY

# ---- the subscription key ----------------------------------------------------------
key='s3cr3t-Key-0123456789abcdef'
export ANOMALY_DETECTOR_KEY=$key
start_stub key --default ok-anomaly
replay b_key "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote confirm) --set log.level=debug
stop_stub
start_stub key401 --default 401
replay b_key401 "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote confirm) --set log.level=debug
stop_stub
"$bin" -c "$cfgB" --check-config $(remote confirm) >"$work/check.out" 2>&1 || true
unset ANOMALY_DETECTOR_KEY
check "key: Ocp-Apim-Subscription-Key sent from ANOMALY_DETECTOR_KEY, never printed" <<'PY'
key = "s3cr3t-Key-0123456789abcdef"
for name in ("key", "key401"):
    log = load(name + ".log")
    expect(log and all(e["key"] == key for e in log), "header missing or wrong")
for f in ("b_key.err", "b_key.alerts", "b_key401.err", "b_key401.alerts", "check.out"):
    expect(key not in text(f) and key[:12] not in text(f), "the key appears in " + f)
expect(re.search(r"^\s+key: \"\*\*\*\"$", text("check.out"), re.M), text("check.out"))
expect(all(a["remote"]["status"] == "rejected" for a in load("b_key401.alerts")), "401 not rejected")
print("%d requests with the key" % len(load("key.log")))
PY

# ---- entire/detect, v1.0, customInterval, period, parameters ------------------------------
start_stub entire --default ok
replay b_entire "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote always) \
  --set remote.anomaly_detector.entire=true
stop_stub
check "entire: entire/detect called, the newest point's verdict used" <<'PY'
log = load("entire.log")
index = by_series(b_windows())
expect(log and all(e["path"] == "/anomalydetector/v1.1/timeseries/entire/detect" for e in log),
       {e["path"] for e in log})
rx = body_re(',"granularity":"minutely","maxAnomalyRatio":0.25,"sensitivity":95}')
expect(all(rx.match(e["raw"]) for e in log), "body form")
flagged = {index[series_of(e)][0] for e in log if e["response"]["isAnomaly"][-1]}
off = {alert_window(a) for a in load("b_off.alerts")}
got = load("b_entire.alerts")
expect({alert_window(a) for a in got} == off | flagged, "alerts differ")
s = summary("b_entire")
expect(s["ok"] == len(log) and s["requests"] == len(log), s)
print("%d requests, %d alerts" % (len(log), len(got)))
PY

start_stub v10 --default ok-anomaly
replay b_v10 "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote confirm) \
  --set remote.anomaly_detector.api_version=v1.0
stop_stub
check "v1.0: path and a verdict without severity" <<'PY'
log = load("v10.log")
expect(log and all(e["path"] == "/anomalydetector/v1.0/timeseries/last/detect" for e in log), "path")
got = load("b_v10.alerts")
expect(len(got) == len(log) and all(a["remote"]["status"] == "ok" and "severity" not in a["remote"]
                                    for a in got), [a["remote"] for a in got])
print("%d alerts" % len(got))
PY

start_stub params --default ok
replay b_params "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote always) \
  --set windows.tumbling.size=5m --set windows.sliding.size=60m --set windows.sliding.slide=30m \
  --set remote.anomaly_detector.period=12 --set remote.anomaly_detector.sensitivity=80 \
  --set remote.anomaly_detector.max_anomaly_ratio=0.1
stop_stub
check "params: customInterval 5, period 12, sensitivity 80, maxAnomalyRatio 0.1" <<'PY'
log = load("params.log")
expect(rc("b_params") == 0, text("b_params.err"))
rx = body_re(',"granularity":"minutely","customInterval":5,"maxAnomalyRatio":0.1,"sensitivity":80,"period":12}')
for e in log:
    expect(rx.match(e["raw"]), e["raw"][-200:])
    us = [parse_iso(p["timestamp"]) for p in e["body"]["series"]]
    expect(all(u % 300000000 == 0 for u in us), "off the 5-minute grid")
wins = b_windows(G=300, Wn=3600, S=1800)
full = sorted(tuple(p) for p in wins.values() if len(p) >= 12)
expect(sorted(series_of(e) for e in log) == full, "windows sent")
s = summary("b_params")
expect(s["skipped"] == sum(len(p) < 12 for p in wins.values()) > 0, s)
print("%d requests, %d skipped" % (len(log), s["skipped"]))
PY

# ---- scenario A: hourly, 72 h window, min_points 24, mode always ----------------------------
start_stub scen_a --default ok
replay a_always "$cfgA" "$work/a.jsonl" $(remote always)
stop_stub
check "scenario A end to end (hourly, 24..72 points, short windows skipped)" <<'PY'
log = load("scen_a.log")
expect(rc("a_always") == 0, text("a_always.err"))
rx = body_re(',"granularity":"hourly","maxAnomalyRatio":0.25,"sensitivity":95}')
for e in log:
    expect(rx.match(e["raw"]), e["raw"][-200:])
    us = [parse_iso(p["timestamp"]) for p in e["body"]["series"]]
    expect(all(u % 3600000000 == 0 for u in us) and us == sorted(set(us)), "grid/order")
    expect(24 <= len(us) <= 72, len(us))
recs = [json.loads(l) for l in open(path("a.jsonl"))]
wins = windows(recs, lambda r: "tweets", lambda r: parse_iso(r["timestamp"]),
               lambda r: float(r["favorite"]), 3600, 72 * 3600, 3600, "mean")
full = sorted(tuple(p) for p in wins.values() if len(p) >= 24)
sent = sorted(series_of(e) for e in log)
expect(len(sent) == len(full) and all(
    [a[0] for a in x] == [b[0] for b in y] and
    all(math.isclose(a[1], b[1], rel_tol=1e-9) for a, b in zip(x, y))
    for x, y in zip(sent, full)), "windows sent differ from the expected ones")
s = summary("a_always")
expect(s["requests"] == s["ok"] == len(full), s)
expect(s["skipped"] == sum(len(p) < 24 for p in wins.values()) > 0, s)
off = set(ids("a_off"))
expect(off <= set(ids("a_always")), "a local alert is missing")
print("%d requests, %d skipped, %d alerts" % (len(full), s["skipped"], len(ids("a_always"))))
PY

}

# =====================================================================================
group_faults() {
# Confirm mode over scenario B: the 11 locally flagged windows are asked; the
# server's attempt script decides what each window's k-th request gets. The
# breaker is out of the way (threshold 1000) unless the case is about it.
CF="--set remote.anomaly_detector.breaker_threshold=1000"
# fault NAME STUB_ARGS... -- ANOMALYD_ARGS...: one run against a fresh server.
fault() {
  local name=$1 stubargs=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do stubargs+=("$1"); shift; done
  shift
  start_stub "$name" "${stubargs[@]}"
  replay "b_$name" "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote confirm) "$@"
  stop_stub
}
# as ACTION...: an attempt script file (line k: the k-th request of each window).
as() { local f="$work/as.$RANDOM$RANDOM"; printf '%s\n' "$@" >"$f"; echo "$f"; }

fault t429 --attempt-script "$(as 429 ok-anomaly)" -- $CF
check "429 'Try again in 1 seconds' retried after >= 1 s, then ok" <<'PY'
print(check_faults("t429", ["429", "ok-anomaly"], "ok", gaps=[(1.0, 3.0)]))
PY
fault t429ra --attempt-script "$(as 429-retry-after:2 ok-anomaly)" -- $CF
check "429 with Retry-After: 2 retried after >= 2 s, then ok" <<'PY'
print(check_faults("t429ra", ["429-retry-after:2", "ok-anomaly"], "ok", gaps=[(2.0, 4.5)]))
PY
fault t429body --attempt-script "$(as 429-try-again:2 429 ok-anomaly)" -- $CF
check "429 'Try again in 2 seconds' then 'in 1 seconds' honoured, then ok" <<'PY'
print(check_faults("t429body", ["429-try-again:2", "429", "ok-anomaly"], "ok",
                   gaps=[(2.0, 4.5), (1.0, 3.0)]))
PY
fault t429long --default 429-retry-after:60 -- $CF --set remote.anomaly_detector.budget=3s
check "429 asking for longer than the budget: not retried, unavailable at once" <<'PY'
r = check_faults("t429long", ["429-retry-after:60"], "unavailable", reason=r"^HTTP 429$")
expect(secs("b_t429long") < 10, "took %.1f s" % secs("b_t429long"))
print(r + ", %.1f s" % secs("b_t429long"))
PY
fault t5xx --attempt-script "$(as 500 503 ok-anomaly)" -- $CF
check "500 then 503 retried with backoff (>= 100 ms, >= 200 ms), then ok" <<'PY'
print(check_faults("t5xx", ["500", "503", "ok-anomaly"], "ok", gaps=[(0.1, 1.0), (0.2, 1.5)]))
PY
fault t500 --default 500 -- $CF --set remote.anomaly_detector.retries=2
check "500 every time: 1 + 2 retries, then unavailable with the local verdict" <<'PY'
print(check_faults("t500", ["500"] * 3, "unavailable", reason=r"^HTTP 500$",
                   gaps=[(0.1, 1.0), (0.2, 1.5)]))
PY
fault t400 --default 400:InvalidSeries -- --set remote.anomaly_detector.breaker_threshold=3
check "400 (service envelope + x-ms-error-code): not retried, rejected, breaker closed" <<'PY'
print(check_faults("t400", ["400:InvalidSeries"], "rejected", reason=r"^(400 )?InvalidSeries$"))
PY
fault t400body --default 400-body:InvalidGranularity -- $CF
check "400 (service envelope, no header): rejected with the body's code" <<'PY'
print(check_faults("t400body", ["400-body:InvalidGranularity"], "rejected",
                   reason=r"^(400 )?InvalidGranularity$"))
PY
fault t401 --default 401 -- $CF
check "401 (gateway envelope): not retried, rejected" <<'PY'
print(check_faults("t401", ["401"], "rejected", reason=r"^(401 )?401$"))
PY
fault t404 --default http:404 -- $CF
check "404 (gateway envelope): not retried, rejected" <<'PY'
print(check_faults("t404", ["http:404"], "rejected", reason=r"^(404 )?404$"))
PY
fault tmal --attempt-script "$(as malformed ok-anomaly)" -- $CF
check "malformed 200 retried, then ok" <<'PY'
print(check_faults("tmal", ["malformed", "ok-anomaly"], "ok", gaps=[(0.1, 1.0)]))
PY
fault tmal2 --default malformed -- $CF --set remote.anomaly_detector.retries=1
check "malformed 200 every time: unavailable (malformed response)" <<'PY'
print(check_faults("tmal2", ["malformed"] * 2, "unavailable", reason=r"malformed response"))
PY
fault treset --attempt-script "$(as reset ok-anomaly)" -- $CF
check "connection reset retried, then ok" <<'PY'
print(check_faults("treset", ["reset", "ok-anomaly"], "ok", gaps=[(0.1, 1.0)], curl_retry=True))
PY
fault treset2 --default reset -- $CF --set remote.anomaly_detector.retries=0
check "connection reset, no retries left: unavailable with the transport error" <<'PY'
print(check_faults("treset2", ("reset", 1, 2), "unavailable", reason=r".", curl_retry=True))
PY
fault thang --default hang -- $CF --set remote.anomaly_detector.timeout=1s \
  --set remote.anomaly_detector.budget=3s
check "a response that never comes: timeout per attempt (1 s), all within the budget (3 s)" <<'PY'
# attempts at 0, ~1.1-1.2 s and ~2.3-2.8 s (1 s timeouts, backoff 0.1-0.2 s then
# 0.2-0.4 s); the last one is cut to what is left of the budget
r = check_faults("thang", ("hang", 2, 4), "timeout", gaps=[(1.0, 2.5)] * 3)
for v in attempts(load("thang.log")).values():
    expect(v[-1]["t"] - v[0]["t"] < 3.0, "an attempt started after the budget")
expect(secs("b_thang") < 8, "took %.1f s" % secs("b_thang"))
print(r + ", %.1f s" % secs("b_thang"))
PY
# A slow but healthy server (300 ms), one request at a time, 1 s budget, the
# first 3000 records in mode always (45 windows asked): windows whose budget
# runs out while they wait for the slot get "timeout" but must not be sent
# with what is left (~0 ms) and counted as server failures: the breaker
# (threshold 10) stays closed.
head -n 3000 "$work/b.jsonl" >"$work/b3k.jsonl"
start_stub slow --default delay:300
replay b_slow "$cfgB" "$work/b3k.jsonl" "${B[@]}" $(remote always) \
  --set remote.anomaly_detector.max_in_flight=1 --set remote.anomaly_detector.budget=1s \
  --set remote.anomaly_detector.breaker_threshold=10
stop_stub
check "a slow healthy server: windows out of budget in the queue do not open the breaker" <<'PY'
s = summary("b_slow")
expect(rc("b_slow") == 0, text("b_slow.err")[-300:])
expect(s["breaker_open"] == 0, "the breaker opened against a server that answers every "
       "request in 300 ms: %s" % s)
expect(s["ok"] >= 3 and s["ok"] + s["timeout"] + s["skipped"] == 50, s)
print("%d ok, %d timeout, %d requests" % (s["ok"], s["timeout"], s["requests"]))
PY

# A port nobody listens on: start a server, note its port, stop it.
start_stub refused
stop_stub
replay b_refused "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote confirm) $CF \
  --set remote.anomaly_detector.retries=1
: >"$work/refused.log"
check "connection refused: retried, then unavailable with the local verdict" <<'PY'
s = summary("b_refused")
off = sorted(a["alert_id"] for a in load("b_off.alerts"))
got = load("b_refused.alerts")
expect(sorted(a["alert_id"] for a in got) == off, "alerts lost")
expect(all(a["remote"]["status"] == "unavailable" and a["remote"].get("reason") for a in got),
       [a["remote"] for a in got])
expect(s["requests"] == 2 * len(off) and s["retries"] == len(off), s)
expect(secs("b_refused") < 10, "took %.1f s" % secs("b_refused"))
print("%d windows, %s" % (len(got), got[0]["remote"]["reason"]))
PY
}

# =====================================================================================
group_breaker() {
# The breaker over a live pipe: records go to the replay through a FIFO in
# phases, so that time passes between them as it would in the daemon. Between
# phases the driver writes empty lines (not records) every 20 ms, each of which
# makes the replay turn its loop once. Mode always (every window asked), one
# request at a time, no retries: each failing window is one failure.
# Base cooldown C = 2 s; it doubles after a failed probe.
start_stub breaker --default 500
export BIN=$bin CFG=$cfgB PORT
"$py" - >"$work/breaker.out" 2>&1 <<'PY' || true
import json, os, subprocess, sys, time, urllib.request
W, PORT = os.environ["W"], os.environ["PORT"]
C = 2.0
lines = open(os.path.join(W, "b.jsonl"), "rb").read().splitlines(keepends=True)
fifo = os.path.join(W, "in.fifo")
os.mkfifo(fifo)
proc = subprocess.Popen(
    [os.environ["BIN"], "-c", os.environ["CFG"], "--input", fifo, "--input-format", "kcat",
     "--set", "remote.anomaly_detector.mode=always",
     "--set", "remote.anomaly_detector.endpoint=http://127.0.0.1:" + PORT,
     "--set", "remote.anomaly_detector.max_in_flight=1",
     "--set", "remote.anomaly_detector.retries=0",
     "--set", "remote.anomaly_detector.breaker_threshold=3",
     "--set", "remote.anomaly_detector.breaker_cooldown=2s"],
    stdout=open(os.path.join(W, "b_breaker.alerts"), "w"),
    stderr=open(os.path.join(W, "b_breaker.err"), "w"))
fd = os.open(fifo, os.O_WRONLY)
pos = 0
def feed(n):
    """Writes the next n records (300 records close one window per device)."""
    global pos
    os.write(fd, b"".join(lines[pos:pos + n]))
    pos += n
def nudge():
    os.write(fd, b"\n")
def http(path, data=None):
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (PORT, path), data=data, timeout=10) as r:
        return r.read()
def count():
    return json.loads(http("/_stub/stats"))["detect"]
def log():
    return [json.loads(l) for l in open(os.path.join(W, "breaker.log"))]
def drive(until=None, cond=None, limit=10.0):
    """Keeps the replay's loop turning until time `until` or cond() (False at limit)."""
    end = time.time() + limit
    while True:
        if cond is not None and cond():
            return True
        if until is not None and time.time() >= until:
            return True
        if time.time() >= end:
            return False
        nudge()
        time.sleep(0.02)
def result(name, ok, detail=""):
    print("%s %s%s" % ("ok" if ok else "FAIL", name, " (%s)" % detail if detail else ""))
    sys.stdout.flush()

# 1. The server fails every request: after 3 failures the breaker opens.
feed(3000)
drive(cond=lambda: count() >= 3)
drive(until=time.time() + 0.3)
n1 = count()
t_open = log()[-1]["t"]
result("breaker: opens after breaker_threshold (3) consecutive failures", n1 == 3,
       "%d requests" % n1)
# 2. While it is open (C = 2 s), windows get no request.
feed(3000)
drive(until=t_open + 1.2)
n2 = count()
result("breaker: no requests while open (50 more windows)", n2 == n1, "%d requests" % n2)
# 3. After the cooldown, with no input meanwhile (a quiet pipe), the first
#    window is the probe; the server still fails it.
time.sleep(max(0.0, t_open + C + 0.3 - time.time()))
feed(300)
probe = drive(cond=lambda: count() > n2, limit=2.0)
n3 = count()
result("breaker: the first window after an idle cooldown sends the probe", probe and n3 == n2 + 1,
       "%d requests after the cooldown" % (n3 - n2))
if not probe:
    feed(300)  # a later window probes once the loop's clock is current
    drive(cond=lambda: count() > n2, limit=5.0)
drive(until=time.time() + 0.3)
n3 = count()
t_probe = log()[-1]["t"]
result("breaker: after the cooldown exactly one probe goes out", n3 == n2 + 1,
       "%d requests" % (n3 - n2))
# 4. The probe failed: open again with the cooldown doubled (2 C = 4 s), so
#    nothing goes out past C.
feed(2700)
drive(until=t_probe + C + 0.7)
n4 = count()
result("breaker: a failed probe reopens with the cooldown doubled", n4 == n3,
       "%d requests within %.1f s" % (n4 - n3, C + 0.7))
# 5. The server recovers; after 2 C a probe succeeds and requests flow again.
http("/_stub/default", b"ok")
drive(until=t_probe + 2 * C + 0.3)
feed(300)
ok5 = drive(cond=lambda: count() > n4, limit=5.0)
n5 = count()
feed(len(lines) - pos)
os.close(fd)
try:
    rc = proc.wait(timeout=60)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = "timeout"
entries = log()
n6 = len(entries)
after = entries[n4:]
result("breaker: after recovery a probe succeeds and requests flow again",
       ok5 and n6 > n5 + 100 and all(e["action"] == "ok" for e in after),
       "%d requests after recovery" % (n6 - n4))
err = open(os.path.join(W, "b_breaker.err")).read()
summ = [l for l in err.splitlines() if l.startswith("replay: remote:")]
result("breaker: the replay ends (exit 0) with a consistent summary",
       rc == 0 and summ and ("%d requests" % n6) in summ[0] and " 0 breaker_open" not in summ[0],
       summ[0] if summ else err[-300:])
PY
stop_stub
cat "$work/breaker.out"
pass=$((pass + $(grep -c '^ok ' "$work/breaker.out" || true)))
fail=$((fail + $(grep -c '^FAIL ' "$work/breaker.out" || true)))
grep -q 'replay ends' "$work/breaker.out" || { echo "FAIL breaker driver"; fail=$((fail + 1)); }
check "breaker: every local alert published through all of it" <<'PY'
off = sorted(ids("b_off"))
got = load("b_breaker.alerts")
local = sorted(a["alert_id"] for a in got if a["detector"] == "welford")
expect(local == off, "local alerts lost: %d of %d" % (len(local), len(off)))
st = {a["remote"]["status"] for a in got}
print("statuses of the local alerts: %s" % ", ".join(sorted(st)))
PY

# The loop keeps going while every request hangs: a short budget bounds each
# window's wait, the whole 30000-record replay ends, every window is decided.
start_stub hangall --default hang
replay b_hangall "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote always) \
  --set remote.anomaly_detector.budget=1s --set remote.anomaly_detector.timeout=5s \
  --set remote.anomaly_detector.breaker_threshold=1000 --set remote.anomaly_detector.max_in_flight=8
stop_stub
check "hang everywhere: the replay ends in bounded time, every window gets the local verdict" <<'PY'
expect(rc("b_hangall") == 0, "exit %d: %s" % (rc("b_hangall"), text("b_hangall.err")[-500:]))
expect(secs("b_hangall") < 60, "took %.1f s" % secs("b_hangall"))
s = summary("b_hangall")
wins = b_windows()
expect(s["ok"] == 0 and s["skipped"] + s["timeout"] + s["unavailable"] == len(wins), s)
expect(s["timeout"] > 0, s)
got = load("b_hangall.alerts")
expect(sorted(a["alert_id"] for a in got) == sorted(ids("b_off")), "alerts differ from local")
expect(all(a["remote"]["status"] in ("timeout", "unavailable") for a in got), "status")
log = load("hangall.log")
mx = max(e["open"] for e in log)
expect(mx <= 8 + 1, "%d requests open at once with max_in_flight 8" % mx)
print("%.1f s, %d windows timed out, at most %d requests open" % (secs("b_hangall"), s["timeout"], mx))
PY
}

# =====================================================================================
group_webhook() {
# Mode off, threshold 3 (more alerts): every alert becomes a row POSTed to
# /push in batches of 4 with an Authorization header.
WH=(--set model.welford.threshold=3 --set sinks.webhook.batch_size=4
    --set sinks.webhook.flush_interval=200ms --set 'sinks.webhook.headers.Authorization=Bearer t0k3n-42')
webhook() { echo --set sinks.webhook.url=http://127.0.0.1:$PORT/push; }
start_stub wh --webhook-default webhook-ok
replay b_wh "$cfgB" "$work/b.jsonl" "${B[@]}" "${WH[@]}" $(webhook)
stop_stub
"$bin" -c "$cfgB" --check-config "${WH[@]}" >"$work/wh_check.out" 2>&1 || true
check "webhook: rows in batches of <= batch_size, in order, exact fields, header sent" <<'PY'
expect(rc("b_wh") == 0, text("b_wh.err"))
ps = posts("wh")
want = expected_rows("b_wh")
expect(len(want) >= 10, "only %d alerts" % len(want))
for e, rows in ps:
    expect(e["method"] == "POST" and e["path"] == "/push", (e["method"], e["path"]))
    expect(e["headers"].get("authorization") == "Bearer t0k3n-42", e["headers"])
    expect(e["headers"].get("content-type") == "application/json", e["headers"])
    expect(1 <= len(rows) <= 4, "a batch of %d rows" % len(rows))
    expect(not re.search(r"\s", e["raw"]), "whitespace in the body")
expect(max(len(rows) for e, rows in ps) == 4, "no full batch")
got = delivered(ps)
expect(len(got) == len(want), "%d rows posted, %d alerts" % (len(got), len(want)))
for r, w in zip(got, want):
    same_row(r, w)
expect("not delivered" not in text("b_wh.err"), text("b_wh.err"))
for f in ("b_wh.err", "wh_check.out"):
    expect("t0k3n-42" not in text(f), "the header value appears in " + f)
print("%d rows in %d posts" % (len(got), len(ps)))
PY

printf '500\n' >"$work/wh500.script"
start_stub wh500 --webhook-script "$work/wh500.script"
replay b_wh500 "$cfgB" "$work/b.jsonl" "${B[@]}" "${WH[@]}" $(webhook)
stop_stub
check "webhook: a 500 is retried after backoff (>= 100 ms), no row lost or duplicated" <<'PY'
ps = posts("wh500")
want = expected_rows("b_wh500")
got = delivered(ps)
expect(ps[0][0]["action"] == "500", ps[0][0]["action"])
expect(ps[1][1][:len(ps[0][1])] == ps[0][1], "the retried batch does not start with the failed rows")
expect(len(got) == len(want), "%d rows delivered, want %d" % (len(got), len(want)))
for r, w in zip(got, want):
    same_row(r, w)
expect("not delivered" not in text("b_wh500.err"), text("b_wh500.err"))
d = ps[1][0]["t"] - ps[0][0]["t"]
expect(d >= 0.100 - 0.010, "the retry came %.3f s after the failed POST, want >= 0.1 s "
       "(200 ms backoff with equal jitter)" % d)
print("%d rows, retry after %.3f s" % (len(got), d))
PY

printf '429-retry-after:1\n' >"$work/wh429.script"
start_stub wh429 --webhook-script "$work/wh429.script"
replay b_wh429 "$cfgB" "$work/b.jsonl" "${B[@]}" "${WH[@]}" $(webhook)
stop_stub
check "webhook: a 429 with Retry-After: 1 is retried no sooner than 1 s, no row lost" <<'PY'
ps = posts("wh429")
want = expected_rows("b_wh429")
got = delivered(ps)
expect(len(got) == len(want), "%d rows delivered, want %d" % (len(got), len(want)))
for r, w in zip(got, want):
    same_row(r, w)
d = ps[1][0]["t"] - ps[0][0]["t"]
expect(d >= 1.0 - 0.010, "the retry came %.3f s after the 429 (Retry-After: 1)" % d)
print("%d rows, retry after %.3f s" % (len(got), d))
PY

printf '400:BadRequest\n' >"$work/wh400.script"
start_stub wh400 --webhook-script "$work/wh400.script"
# A flush interval longer than the replay: every batch but the last is full,
# so the first (refused) one holds batch_size rows however slow the build is
# (a 200 ms flush under the sanitizers sent smaller first batches).
replay b_wh400 "$cfgB" "$work/b.jsonl" "${B[@]}" "${WH[@]}" $(webhook) \
  --set sinks.webhook.flush_interval=1h
stop_stub
check "webhook: a 400 drops that batch (counted), the rest delivered once" <<'PY'
ps = posts("wh400")
want = expected_rows("b_wh400")
dropped = ps[0][1]
expect(ps[0][0]["action"] == "400:BadRequest" and len(dropped) == 4, ps[0][0]["action"])
got = delivered(ps)
expect(len(dropped) + len(got) == len(want), "%d + %d rows, want %d" % (len(dropped), len(got), len(want)))
for r, w in zip(dropped + got, want):
    same_row(r, w)
expect("replay: 4 webhook rows not delivered" in text("b_wh400.err"), text("b_wh400.err")[-400:])
print("%d dropped, %d delivered" % (len(dropped), len(got)))
PY

# sinks.webhook.format=alertmanager: the same alerts as /api/v2/alerts elements.
start_stub wham --webhook-default webhook-ok
replay b_wham "$cfgB" "$work/b.jsonl" "${B[@]}" "${WH[@]}" $(webhook) \
  --set sinks.webhook.format=alertmanager
stop_stub
check "webhook: format alertmanager posts labels, annotations, startsAt and endsAt" <<'PY'
expect(rc("b_wham") == 0, text("b_wham.err"))
alerts = load("b_wham.alerts")
got = delivered(posts("wham"))
expect(len(got) == len(alerts) >= 10, "%d elements, %d alerts" % (len(got), len(alerts)))
for r, a in zip(got, alerts):
    expect(sorted(r) == ["annotations", "endsAt", "labels", "startsAt"], r)
    l = r["labels"]
    expect(l["alertname"] == "AnomalyDetected" and l["alert_id"] == a["alert_id"], (l, a))
    expect((l["key"], l["metric"], l["detector"], l["direction"]) ==
           (a["key"], a["metric"], a["detector"], a["direction"]), (l, a))
    expect(all(isinstance(v, str) for v in list(l.values()) + list(r["annotations"].values())), r)
    expect(float(r["annotations"]["value"]) == a["value"], (r, a))
    expect(parse_iso(r["startsAt"]) == parse_iso(a["window_start"]), (r, a))
    expect(parse_iso(r["endsAt"]) == parse_iso(a["window_end"]) + 300000000, (r, a))
print("%d alertmanager elements" % len(got))
PY

# A URL libcurl cannot use is a config error at start, not a request retried
# for as long as the replay waits.
replay b_badurl "$cfgB" "$work/b.jsonl" "${B[@]}" \
  --set 'sinks.webhook.url="https://exa mple.com:99999/x"'
check "webhook: a malformed URL is refused at start (exit 78), at once" <<'PY'
expect(text("b_badurl.rc").strip() == "78", text("b_badurl.rc") + text("b_badurl.err"))
expect("sinks.webhook.url" in text("b_badurl.err"), text("b_badurl.err"))
expect(int(text("b_badurl.ms")) < 5000, text("b_badurl.ms"))
PY

# Mode always with the webhook: rows carry the remote verdict's numbers.
start_stub whr --default ok --webhook-default webhook-ok
replay b_whr "$cfgB" "$work/b.jsonl" "${B[@]}" $(remote always) $(webhook) \
  --set sinks.webhook.batch_size=5
stop_stub
check "webhook + remote: rows carry the remote verdict (expectedValue, margins, flags)" <<'PY'
ps = posts("whr")
alerts = load("b_whr.alerts")
got = delivered(ps)
expect(len(got) == len(alerts), "%d rows, %d alerts" % (len(got), len(alerts)))
for r, a in zip(got, alerts):
    v = a["remote"]
    w = {"timestamp": iso(parse_iso(a["window_end"]) - 60000000), "value": a["value"],
         "expectedValue": v["expected_value"], "upperMargin": v["upper_margin"],
         "lowerMargin": v["lower_margin"], "isAnomaly": v["is_anomaly"],
         "isPositiveAnomaly": v["is_positive_anomaly"], "isNegativeAnomaly": v["is_negative_anomaly"],
         **identity(a)}
    same_row(r, w)
print("%d rows" % len(got))
PY
}

# =====================================================================================
group=${3:-requests}
case $group in
  requests | faults | breaker | webhook) "group_$group" ;;
  *) echo "unknown group '$group'"; exit 2 ;;
esac
finish
