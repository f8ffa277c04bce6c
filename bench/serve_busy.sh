#!/usr/bin/env bash
# serve_busy.sh - the daemon's own record throughput while the Anomaly
# Detector API it serves (http.api.enabled) is busy, next to the same
# daemon with the API idle, alternately in one run. Not a test: run by hand,
# figures go to docs/benchmarks.md.
#
#   bench/serve_busy.sh [BUILD_DIR]        (default: build)
#
# A mock cluster on loopback (<build>/tests/ad_mockbroker) holds a backlog of
# AD_SB_RECORDS scenario C records (`anomalyd simulate`, 16 partitions). Each
# run starts a daemon (scenario C config, API on) with a fresh consumer
# group and times it from its first consumed record to its last, read from
# its /metrics (anomalyd_records_consumed_total, polled every 20 ms: the
# resolution of the figure). In a "busy" run bench_serve_load keeps
# AD_SB_CLIENTS clients posting 1,000-point last/detect requests to the same
# listener for the whole run. Both use the machine's cores as they come (the
# API's work is on libuv's thread pool, the records on the loop): the ratio
# says what a busy API costs the stream on this machine.
#
# Environment (defaults): AD_SB_RECORDS (600000: what 16 mock partitions hold), AD_SB_CLIENTS (16),
# AD_SB_RUNS (3 of each, interleaved; the best of each is compared).
set -euo pipefail
build=$(realpath "${1:-build}")
src=$(cd "$(dirname "$0")/.." && pwd)
load=$build/bench/bench_serve_load
records=${AD_SB_RECORDS:-600000}
clients=${AD_SB_CLIENTS:-16}
runs=${AD_SB_RUNS:-3}
for t in "$build/anomalyd" "$load"; do [ -x "$t" ] || { echo "not built: $t" >&2; exit 1; }; done
# shellcheck source=../tests/lib/kafka.sh
source "$src/tests/lib/kafka.sh"
kt_init "$build/anomalyd" "$src"

kt_broker sensor-raw:16 anomalies:1 dlq:1
"$KT_BIN" simulate --format sensor --brokers "$ADDR" --topic sensor-raw --rate 1000000 \
  --count "$records" --devices 1000 --seed 7 >"$KT_WORK/produce.log" 2>&1 ||
  { echo "simulate failed: $(cat "$KT_WORK/produce.log")" >&2; exit 1; }

/usr/bin/python3 - "$KT_WORK/last1000.json" <<'PY'
import json, math, random, sys, datetime
random.seed(1)
t0 = datetime.datetime(2026, 1, 1)
series = [{"timestamp": (t0 + datetime.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "value": round(100 + 10 * math.sin(2 * math.pi * i / 24) + random.gauss(0, 1), 4)}
          for i in range(1000)]
json.dump({"series": series, "granularity": "hourly"}, open(sys.argv[1], "w"))
PY

counts() { # PORT: "records consumed (all partitions) API detections answered (2xx)"
  curl -s "http://127.0.0.1:$1/metrics" | awk '
    /^anomalyd_records_consumed_total/ {n += $NF}
    /^anomalyd_api_requests_total.*class="2xx"/ {r += $NF}
    END {printf "%d %d\n", n, r}'
}

# run N MODE: one daemon over the whole backlog; prints "records/s requests/s"
run() {
  local name=d$1 port t0= t1 n reqs=0 lpid=
  kt_daemon "$name" --set source.kafka.group="g$1" --set http.api.enabled=true \
    --set http.api.max_concurrent_per_client=1024 \
    --set sinks.alert_log.path= --set state.dir="$KT_WORK/state-$1"
  port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$KT_WORK/$name.log" | head -1)
  if [ "$2" = busy ]; then
    "$load" 127.0.0.1 "$port" /anomalydetector/v1.1/timeseries/last/detect \
      "$KT_WORK/last1000.json" "$clients" 600 >"$KT_WORK/$name.load" 2>&1 &
    lpid=$!
  fi
  local deadline=$((SECONDS + 300)) r r0=0 r1
  while :; do
    read -r n r < <(counts "$port")
    [ -z "$t0" ] && [ "$n" -gt 0 ] && { t0=$EPOCHREALTIME; r0=$r; }
    [ "$n" -ge "$records" ] && { t1=$EPOCHREALTIME; r1=$r; break; }
    [ $SECONDS -gt $deadline ] && { echo "run $1: timed out at $n records" >&2; exit 1; }
    sleep 0.02
  done
  reqs=$((r1 - r0))
  if [ -n "$lpid" ]; then
    kill "$lpid" 2>/dev/null || true
    wait "$lpid" 2>/dev/null || true
  fi
  kt_signal "$name" TERM
  kt_wait_exit "$name" 30 || true
  awk -v n="$records" -v a="$t0" -v b="$t1" -v r="$reqs" \
    'BEGIN {printf "%.0f %.1f\n", (n - 1) / (b - a), r / (b - a)}'
}

echo "# serve_busy: $records records, 16 partitions, $clients API clients, $(nproc) cores, $(date -u +%FT%TZ)"
best_idle=0
best_busy=0
busy_reqs=0
i=0
for r in $(seq "$runs"); do
  for mode in idle busy; do
    i=$((i + 1))
    read -r rate reqs < <(run "$i" "$mode")
    printf '%-5s run %d: %8d records/s  (%s API detections/s answered during the run)\n' \
      "$mode" "$r" "$rate" "$reqs"
    if [ "$mode" = idle ] && [ "$rate" -gt "$best_idle" ]; then best_idle=$rate; fi
    if [ "$mode" = busy ] && [ "$rate" -gt "$best_busy" ]; then best_busy=$rate; busy_reqs=$reqs; fi
  done
done
awk -v a="$best_idle" -v b="$best_busy" -v q="$busy_reqs" 'BEGIN {
  printf "best: API idle %d records/s, API busy %d records/s (%s requests/s): ratio %.2f\n", a, b, q, b / a }'
