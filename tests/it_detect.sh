#!/usr/bin/env bash
# Integration: the local detectors through the real binary. Scenario A and B's
# example configs (model.detector: auto; their in-process Anomaly Detector
# switched off for this part) replay the simulator's data; recall and
# precision against `simulate --truth` are printed and must clear a floor.
# Then the examples as they are (auto + the algorithm in-process, mode
# always), end to end, and the demo that shows both. Also: --scores rows (JSONL and CSV, one per
# scored point, in order), alerts that explain themselves, and which detector
# a config gets.
#   it_detect.sh ANOMALYD SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

# quality NAME TRUTH SCORES ALERTS WINDOW_S SIGN MIN_RECALL MIN_PRECISION
# Recall: injected anomalies (after 20 windows of warm-up; SIGN positive: only
# the spikes, as a max aggregate hides dips) whose tumbling window is flagged.
# Precision: flagged windows that hold an injected anomaly.
quality() {
  "$py" - "$@" <<'PY' || fail=1
import json, sys, datetime
name, truth_p, scores_p, alerts_p, size, sign, min_r, min_p = sys.argv[1:9]
size, min_r, min_p = int(size), float(min_r), float(min_p)
def sec(t):
    return int(datetime.datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")
               .replace(tzinfo=datetime.timezone.utc).timestamp())
truth = [json.loads(l) for l in open(truth_p)]
rows = [json.loads(l) for l in open(scores_p)]
alerts = [json.loads(l) for l in open(alerts_p)]
first = {}
for r in rows:
    first.setdefault(r["key"], sec(r["time"]))
flagged = {(r["key"], sec(r["time"])) for r in rows if r["is_anomaly"]}
injected = {(t["key"], sec(t["time"]) // size * size) for t in truth}
want = {(t["key"], sec(t["time"]) // size * size) for t in truth
        if (sign == "both" or t["delta"] > 0)
        and sec(t["time"]) // size * size >= first.get(t["key"], 0) + 20 * size}
recall = len(want & flagged) / len(want) if want else 0.0
precision = len(flagged & injected) / len(flagged) if flagged else 0.0
all_recall = len(injected & flagged) / len(injected) if injected else 0.0
# Each flagged row is one alert of its own window, explained.
ok_alerts = len(alerts) == len(flagged) and all(
    a["detector"] == "auto" and 0 <= a["score"] <= 1 and a["lower"] <= a["upper"]
    and a["kind"] in ("spike", "dip", "level_shift", "variance_change", "seasonal", "flatline")
    and "zscore" not in a and (a["key"], sec(a["window_start"])) in flagged for a in alerts)
print("%s: recall %.3f (%d of %d%s), precision %.3f (%d flagged), recall of every injected "
      "anomaly %.3f, %d alerts" % (name, recall, len(want & flagged), len(want),
      " spikes" if sign == "positive" else "", precision, len(flagged), all_recall, len(alerts)))
if recall < min_r or precision < min_p or not ok_alerts:
    print("FAIL %s: floors recall %.2f precision %.2f, alerts consistent: %s" % (
        name, min_r, min_p, ok_alerts))
    sys.exit(1)
PY
}

# The local detectors alone first (an alert per flagged point): the examples
# also ask the in-process Anomaly Detector (mode: always, endpoint: local),
# checked below.
LOCAL=(--set remote.anomaly_detector.mode=off)

# Scenario B: 5 devices, a record every 10 s, 1-minute max.
"$bin" simulate --format iot --devices 5 --count 30000 --seed 5 --interval 10s \
  --anomaly-rate 0.01 --output-format kcat --truth "$work/b.truth" >"$work/b.jsonl"
"$bin" -c "$src/config/examples/scenario-b-iot.yaml" --input "$work/b.jsonl" --input-format kcat \
  "${LOCAL[@]}" --scores "$work/b.scores" >"$work/b.alerts" 2>"$work/b.log"
quality scenario-b "$work/b.truth" "$work/b.scores" "$work/b.alerts" 60 positive 0.8 0.8
# Another seed, to see that the floor is not one lucky draw.
"$bin" simulate --format iot --devices 5 --count 30000 --seed 17 --interval 10s \
  --anomaly-rate 0.01 --output-format kcat --truth "$work/b2.truth" >"$work/b2.jsonl"
"$bin" -c "$src/config/examples/scenario-b-iot.yaml" --input "$work/b2.jsonl" --input-format kcat \
  "${LOCAL[@]}" --scores "$work/b2.scores" >"$work/b2.alerts" 2>"$work/b2.log"
quality scenario-b-seed17 "$work/b2.truth" "$work/b2.scores" "$work/b2.alerts" 60 positive 0.8 0.8

# Scenario A: one series, a tweet every 20 minutes, hourly means.
"$bin" simulate --format tweet --count 3000 --seed 3 --interval 20m --anomaly-rate 0.05 \
  --truth "$work/a.truth" >"$work/a.jsonl"
"$bin" -c "$src/config/examples/scenario-a-tweets.yaml" --input "$work/a.jsonl" \
  "${LOCAL[@]}" --scores "$work/a.scores" >"$work/a.alerts" 2>"$work/a.log"
quality scenario-a "$work/a.truth" "$work/a.scores" "$work/a.alerts" 3600 both 0.25 0.9

# --scores: one row per tumbling point (5 devices x 1000 minutes), in time
# order per series; CSV with a header; "-" writes rows only to stdout.
n=$(wc -l <"$work/b.scores")
[ "$n" = 5000 ] || { echo "FAIL scores: $n rows, want 5000"; fail=1; }
"$bin" -c "$src/config/examples/scenario-b-iot.yaml" --input "$work/b.jsonl" --input-format kcat \
  "${LOCAL[@]}" --scores - --scores-format csv >"$work/b.csv" 2>/dev/null
head -1 "$work/b.csv" | grep -qx 'key,metric,time,value,expected,lower,upper,score,is_anomaly,kind' ||
  { echo "FAIL scores csv header: $(head -1 "$work/b.csv")"; fail=1; }
[ "$(wc -l <"$work/b.csv")" = 5001 ] || { echo "FAIL scores csv rows"; fail=1; }
"$py" - "$work/b.scores" "$work/b.csv" <<'PY' || fail=1
import csv, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
with open(sys.argv[2]) as f:
    crow = list(csv.DictReader(f))
last = {}
for r in rows:
    assert r["time"] > last.get(r["key"], ""), ("out of order", r)
    last[r["key"]] = r["time"]
    assert 0 <= r["score"] <= 1, r
    assert r["expected"] is None or r["lower"] <= r["upper"], r
assert [(c["key"], c["time"], c["is_anomaly"]) for c in crow] == \
       [(r["key"], r["time"], "true" if r["is_anomaly"] else "false") for r in rows], "csv != jsonl"
print("ok scores: %d rows, JSONL and CSV agree, in order per series" % len(rows))
PY

# Which detector a config gets: none set and no model block -> auto (the
# default interface.md promises); model.welford.* and no detector -> welford; the
# example (detector: auto) -> auto; --set wins.
# (--check-config also checks the paths: this machine's.)
mkdir -p "$work/st"
here=(--set "sinks.alert_log.path=$work/a.jsonl" --set "state.dir=$work/st")
printf 'input: {key: /id}\n' >"$work/min.yaml"
"$bin" -c "$work/min.yaml" "${here[@]}" --check-config | grep -qx '  detector: auto' ||
  { echo "FAIL a config without a model block is not auto"; fail=1; }
printf 'model: {welford: {threshold: 3}}\n' >"$work/wf.yaml"
"$bin" -c "$work/wf.yaml" "${here[@]}" --check-config | grep -qx '  detector: welford' ||
  { echo "FAIL model.welford.* without a detector is not welford"; fail=1; }
printf 'model: {auto: {sensitivity: 80}}\n' >"$work/auto.yaml"
"$bin" -c "$work/auto.yaml" "${here[@]}" --check-config | grep -qx '  detector: auto' ||
  { echo "FAIL model.auto.* without a detector is not auto"; fail=1; }
"$bin" -c "$src/config/examples/scenario-b-iot.yaml" "${here[@]}" --set model.detector=robust \
  --check-config |
  grep -qx '  detector: robust' || { echo "FAIL --set model.detector"; fail=1; }
rc=0
"$bin" -c "$work/auto.yaml" --set model.detector=bogus --check-config >/dev/null 2>&1 || rc=$?
[ "$rc" = 78 ] || { echo "FAIL an unknown detector exits $rc, want 78"; fail=1; }

# The examples as they are, end to end: auto and the in-process Anomaly
# Detector (always, endpoint: local): every slide asked, every verdict ok,
# each alert with both verdicts.
for sc in b a; do
  f=$src/config/examples/scenario-b-iot.yaml args=(--input-format kcat)
  [ $sc = a ] && f=$src/config/examples/scenario-a-tweets.yaml args=()
  "$bin" -c "$f" --input "$work/$sc.jsonl" "${args[@]}" >"$work/$sc.rem.alerts" \
    2>"$work/$sc.rem.log" || { echo "FAIL $sc as configured: $(tail -3 "$work/$sc.rem.log")"; fail=1; }
  "$py" - "$work/$sc.rem.alerts" "$work/$sc.rem.log" "$sc" <<'PY' || fail=1
import json, re, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
log = open(sys.argv[2]).read()
m = re.search(r"replay: remote: (\d+) requests, (\d+) ok", log)
assert m and int(m.group(1)) > 0 and m.group(1) == m.group(2), log[-500:]
# Before min_points a slide is not sent: its local alert says "skipped".
assert alerts and all(a["remote"]["status"] in ("ok", "skipped") for a in alerts), alerts[:1]
assert sum(a["remote"]["status"] == "ok" for a in alerts) > len(alerts) // 2, alerts[:1]
assert all(a["detector"] in ("auto", "anomaly_detector") for a in alerts), alerts[:1]
print("ok scenario %s as configured: %s requests, all ok; %d alerts with the remote verdict" % (
    sys.argv[3].upper(), m.group(1), len(alerts)))
PY
done

# The demo shows the same offline: scenarios A and B's example configs, the
# local detectors alone and as configured, recall and precision printed (the
# floors above for the local detectors; per slide with the remote stage).
"$bin" demo --scenarios >"$work/demo.out" 2>"$work/demo.err" ||
  { echo "FAIL demo --scenarios: $(cat "$work/demo.err")"; fail=1; }
cat "$work/demo.out"
"$py" - "$work/demo.out" <<'PY' || fail=1
import re, sys
got = {}
for l in open(sys.argv[1]):
    m = re.match(r"scenario ([AB]) .*\((auto alone|auto \+ remote mode always)\): "
                 r"recall ([0-9.]+) .*precision ([0-9.]+)", l)
    if m:
        got[m.group(1) + (" remote" if "remote" in m.group(2) else "")] = (
            float(m.group(3)), float(m.group(4)))
assert set(got) == {"A", "B", "A remote", "B remote"}, got
assert got["B"][0] >= 0.8 and got["B"][1] >= 0.8, got
assert got["A"][0] >= 0.25 and got["A"][1] >= 0.9, got
assert got["B remote"][0] >= 0.9 and got["B remote"][1] >= 0.9, got
assert got["A remote"][0] >= got["A"][0] and got["A remote"][1] >= 0.9, got
print("ok demo --scenarios: %s" % got)
PY
# model.detector: uvad, the Anomaly Detector algorithm as a local detector.
"$bin" -c "$src/config/examples/scenario-b-iot.yaml" --input "$work/b.jsonl" --input-format kcat \
  "${LOCAL[@]}" --set model.detector=uvad --set model.uvad.window=30 --scores "$work/bu.scores" \
  >"$work/bu.alerts" 2>"$work/bu.log" || { echo "FAIL uvad replay: $(cat "$work/bu.log")"; fail=1; }
"$py" - "$work/bu.scores" "$work/bu.alerts" <<'PY' || fail=1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
alerts = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == 5000 and sum(r["expected"] is not None for r in rows) >= 4900, len(rows)
assert alerts and all(a["detector"] == "uvad" for a in alerts), alerts[:1]
print("ok uvad: %d rows, %d alerts" % (len(rows), len(alerts)))
PY

[ "$fail" = 0 ] && echo "it_detect: ok"
exit "$fail"
