#!/usr/bin/env bash
# remote_bench.sh - the cost of the remote Anomaly Detector in confirm mode:
# the replay's throughput against tests/tools/ad_stub_server.py answering every
# request in 20 ms, next to the same replay with the remote off. The claim
# checked: the ratio stays >= 0.9 at (at least) 100 flagged windows per second.
# Not a test: run by hand, figures go to docs/benchmarks.md.
#
#   bench/remote_bench.sh [BUILD_DIR]            (default: build)
#
# Workload: scenario B's example config (1-minute max, 15-minute windows every
# 10 minutes, window scope, threshold 4) over `anomalyd simulate --format iot`
# with many devices, one record per device per minute and a high anomaly rate,
# so that the local model flags more than 100 windows per second of replay
# (about 300 of the 30000 windows; ~170/s on the 2-core machine of
# docs/benchmarks.md).
# In confirm mode each flagged window is one last/detect request; the server
# answers each 20 ms after it arrived ("delay:20:ok-anomaly": every window
# confirmed, so both runs publish the same alerts). Both runs read the same
# file with the same config; the only difference is
# remote.anomaly_detector.mode (and its endpoint and max_in_flight).
#
# Each mode runs AD_RB_RUNS times, interleaved; the table shows the best run
# of each (the least disturbed by whatever else the machine runs) and the
# ratio of the best runs, plus every run's figure and the ratio of the
# medians. records/s is the replay's own figure (input read to the last
# verdict received, end-of-input flush included); CPU s is the process's
# user + system time, which other load disturbs less than wall time.
#
# Environment (defaults): AD_RB_DEVICES (1000), AD_RB_COUNT (300000 records),
# AD_RB_RATE (anomaly rate, 0.008), AD_RB_SEED (7), AD_RB_RUNS (5),
# AD_RB_DELAY_MS (20), AD_RB_MAX_IN_FLIGHT (64), AD_RB_OUT (the markdown
# section, /tmp/rt/benchmarks-remote.md when /tmp/rt exists, else none).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$here/build}
bin=$build/anomalyd
py=/usr/bin/python3
stub=$here/tests/tools/ad_stub_server.py
cfg=$here/config/examples/scenario-b-iot.yaml
devices=${AD_RB_DEVICES:-1000}
count=${AD_RB_COUNT:-300000}
rate=${AD_RB_RATE:-0.008}
seed=${AD_RB_SEED:-7}
runs=${AD_RB_RUNS:-5}
delay=${AD_RB_DELAY_MS:-20}
mif=${AD_RB_MAX_IN_FLIGHT:-64}
out=${AD_RB_OUT-}
[ -z "$out" ] && [ -d /tmp/rt ] && out=/tmp/rt/benchmarks-remote.md
[ -x "$bin" ] || { echo "no $bin (build first, or give BUILD_DIR)" >&2; exit 2; }

work=$(mktemp -d)
spid=
cleanup() {
  if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "generating $count records ($devices devices, 1 per minute, anomaly rate $rate)..." >&2
"$bin" simulate --format iot --devices "$devices" --count "$count" --seed "$seed" --interval 60s \
  --anomaly-rate "$rate" --output-format kcat >"$work/in.jsonl"

"$py" "$stub" --port-file "$work/port" --log "$work/stub.log" --default "delay:$delay:ok-anomaly" \
  2>"$work/stub.err" &
spid=$!
deadline=$((SECONDS + 15))
while [ ! -s "$work/port" ]; do
  [ $SECONDS -lt $deadline ] && kill -0 "$spid" 2>/dev/null ||
    { echo "the stub server did not start" >&2; cat "$work/stub.err" >&2; exit 1; }
  sleep 0.02
done
port=$(cat "$work/port")

# run MODE I: one replay; its stderr goes to MODE.I.err
run() {
  local mode=$1 i=$2 args=(--set remote.anomaly_detector.mode=off) # the example asks in-process
  if [ "$mode" = confirm ]; then
    args=(--set remote.anomaly_detector.mode=confirm
          --set remote.anomaly_detector.endpoint=http://127.0.0.1:$port
          --set remote.anomaly_detector.max_in_flight=$mif)
  fi
  /usr/bin/time -f "wall %e user %U sys %S" \
    "$bin" -c "$cfg" --input "$work/in.jsonl" --input-format kcat --set model.detector=welford \
      "${args[@]}" \
    >"$work/$mode.$i.alerts" 2>"$work/$mode.$i.err"
  echo "  $mode run $i: $(grep -o '[0-9.]* s, [0-9]* records/s' "$work/$mode.$i.err")" >&2
}
cut -d' ' -f1-3 /proc/loadavg >"$work/load"
for i in $(seq 1 "$runs"); do
  if [ $((i % 2)) = 1 ]; then run off "$i"; run confirm "$i"; else run confirm "$i"; run off "$i"; fi
done
kill "$spid"; wait "$spid" 2>/dev/null || true; spid=

"$py" - "$work" "$runs" "$count" "$devices" "$rate" "$delay" "$mif" "$out" <<'PY'
import json, os, re, statistics, sys
work, runs, count, devices, rate, delay, mif, out = sys.argv[1:]
runs = int(runs)

def parse(mode, i):
    err = open(os.path.join(work, "%s.%d.err" % (mode, i))).read()
    secs, rps = re.search(r"replay: ([0-9.]+) s, ([0-9]+) records/s", err).groups()
    alerts = int(re.search(r"(\d+) alerts \(", err).group(1))
    wall, user, sys_ = map(float, re.search(r"wall ([0-9.]+) user ([0-9.]+) sys ([0-9.]+)", err).groups())
    m = re.search(r"replay: remote: (\d+) requests, (\d+) ok", err)
    req, ok = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return dict(secs=float(secs), rps=int(rps), alerts=alerts, cpu=user + sys_, req=req, ok=ok)

res = {m: [parse(m, i) for i in range(1, runs + 1)] for m in ("off", "confirm")}
windows = int(re.search(r"(\d+) scoring events", open(os.path.join(work, "off.1.err")).read()).group(1))
load = open(os.path.join(work, "load")).read().strip()
med = {m: sorted(r, key=lambda x: x["rps"])[len(r) // 2] for m, r in res.items()}
best = {m: max(r, key=lambda x: x["rps"]) for m, r in res.items()}
flagged = best["off"]["alerts"]
ratio = best["confirm"]["rps"] / best["off"]["rps"]
ratio_med = med["confirm"]["rps"] / med["off"]["rps"]
cpu_ratio = statistics.median(r["cpu"] for r in res["confirm"]) / statistics.median(r["cpu"] for r in res["off"])
fps_off = flagged / best["off"]["secs"]
fps_conf = best["confirm"]["req"] / best["confirm"]["secs"]
log = [json.loads(l) for l in open(os.path.join(work, "stub.log"))]
max_open = max((e["open"] for e in log), default=0)
consistent = all(r["req"] == r["ok"] == flagged and r["alerts"] == flagged for r in res["confirm"])

rows = [
    ("remote off", best["off"], "-", fps_off),
    ("confirm, %s ms server" % delay, best["confirm"],
     "%d (%d ok)" % (best["confirm"]["req"], best["confirm"]["ok"]), fps_conf),
]
lines = []
lines.append("| run | records | replay s | records/s | CPU s | remote requests | flagged windows/s |")
lines.append("|---|---:|---:|---:|---:|---:|---:|")
for name, r, req, fps in rows:
    lines.append("| %s | %s | %.2f | %d | %.2f | %s | %.0f |" % (name, count, r["secs"], r["rps"], r["cpu"], req, fps))
table = "\n".join(lines)
every = "; ".join("%s: %s" % (m, ", ".join("%d (%.2f s CPU)" % (r["rps"], r["cpu"]) for r in res[m]))
                  for m in ("off", "confirm"))
verdict = "PASS" if ratio >= 0.9 and fps_conf >= 100 and consistent else "FAIL"
print()
print(table)
print()
print("ratio confirm/off (best runs): %.3f   flagged windows/s in confirm: %.0f   -> %s "
      "(want ratio >= 0.9 at >= 100 flagged windows/s)" % (ratio, fps_conf, verdict))
print("ratio of the medians: %.3f   CPU time confirm/off (medians): %.3f" % (ratio_med, cpu_ratio))
print("every run's records/s: %s" % every)
print("server: %d requests, at most %d open at once (max_in_flight %s)" % (len(log), max_open, mif))
if not consistent:
    print("WARNING: a confirm run did not get one ok verdict per flagged window")

if out:
    cpu = os.popen("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").read().strip()
    ncpu = os.cpu_count()
    md = """## Remote detector: confirm mode against a 20 ms server (`bench/remote_bench.sh`)

The cost of asking the remote Anomaly Detector about every locally flagged window. The replay
(`anomalyd -c config/examples/scenario-b-iot.yaml --input FILE --input-format kcat`) runs over
%(count)s simulated IoT records (`anomalyd simulate --format iot --devices %(devices)s --interval
60s --anomaly-rate %(rate)s`: one record per device per minute, so every 15 records make a
window; %(flagged)d of the %(windows)d windows are flagged locally, about %(fps_off).0f per
second of replay), once with `remote.anomaly_detector.mode: off` and once
with `confirm` against `tests/tools/ad_stub_server.py` answering every `last/detect` %(delay)s ms
after it arrived (`delay:%(delay)s:ok-anomaly`, so every window is confirmed and both runs publish
the same %(flagged)d alerts), `max_in_flight: %(mif)s`. Best of %(runs)d interleaved runs each;
records/s is the replay's own figure (first byte read to the last verdict received), CPU s the
process's user + system time.

%(table)s

**Ratio confirm / off: %(ratio).2f at %(fps).0f flagged windows/s** (claim: >= 0.9 at 100
flagged windows/s: %(verdict)s); ratio of the medians %(ratio_med).2f, CPU time confirm / off
(medians) %(cpu_ratio).2f. Every run's records/s: %(every)s. The server saw at most
%(max_open)d requests open at once, so the %(delay)s ms answers overlapped with the pipeline's
work and the server was not the bottleneck. Why the ratio holds: the replay turns the loop
every 64 records and waits only when more than `4 * max_in_flight` verdicts are pending, so with
%(mif)s in flight the 20 ms round trips overlap with decoding and windowing; what remains is the
client's own CPU per request (building the body, curl, parsing the answer), which is within the
run-to-run spread here (CPU time per run is listed next to its rate).

Machine: %(cpu)s, %(ncpu)d cores, the server on the same machine; load average %(load)s when
the runs started (the spread between runs is other work on the machine).
""" % dict(count=count, devices=devices, rate=rate, delay=delay, flagged=flagged, mif=mif,
           runs=runs, table=table, ratio=ratio, fps=fps_conf, ratio_med=ratio_med, cpu_ratio=cpu_ratio, verdict=verdict, every=every,
           max_open=max_open, cpu=cpu, ncpu=ncpu, windows=windows, load=load, fps_off=fps_off)
    open(out, "w").write(md)
    print("wrote %s" % out)
sys.exit(0 if verdict == "PASS" else 1)
PY
