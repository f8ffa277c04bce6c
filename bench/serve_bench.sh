#!/usr/bin/env bash
# serve_bench.sh - `anomalyd serve` under load: requests/s and latency
# percentiles of last/detect (1,000 points) and entire/detect (8,640 points)
# with 16 concurrent clients on the machine's cores, next to a baseline
# measured in the same run (GET /healthz: the HTTP server alone), and the
# latency of one client against a server on one core with one pool thread.
# The client is bench_serve_load (C, closed loop, one request per
# connection). Not a test: run by hand, figures go to docs/benchmarks.md.
#
#   bench/serve_bench.sh [BUILD_DIR]      (default: build)
#
# Environment: AD_SB_SECONDS (10 per run), AD_SB_CLIENTS (16), AD_SB_CPUS
# (the cores of the 16-client runs, "0,1"), AD_SB_THREADS (UV_THREADPOOL_SIZE
# of the 16-client runs; unset: the server's own default, one thread per core).
set -euo pipefail
build=$(realpath "${1:-build}")
bin=$build/anomalyd
load=$build/bench/bench_serve_load
secs=${AD_SB_SECONDS:-10}
clients=${AD_SB_CLIENTS:-16}
cpus=${AD_SB_CPUS:-0,1}
threads=${AD_SB_THREADS:-}
work=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for t in "$bin" "$load"; do [ -x "$t" ] || { echo "not built: $t" >&2; exit 1; }; done

python3 - "$work" <<'PY'
import json, math, random, sys, datetime
random.seed(1)
def series(n):
    t0 = datetime.datetime(2026, 1, 1)
    return [{"timestamp": (t0 + datetime.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "value": round(100 + 10 * math.sin(2 * math.pi * i / 24) + random.gauss(0, 1), 4)}
            for i in range(n)]
for name, n in (("last1000", 1000), ("entire8640", 8640)):
    json.dump({"series": series(n), "granularity": "hourly"}, open("%s/%s.json" % (sys.argv[1], name), "w"))
PY
printf 'http:\n  api:\n    max_concurrent_per_client: 1024\n' >"$work/cfg.yaml"

# serve CPUS THREADS: a server pinned to CPUS; sets PORT and PID.
serve() {
  [ -n "$PID" ] && { kill "$PID"; wait "$PID" 2>/dev/null || true; }
  rm -f "$work/serve.log"
  if [ -n "$2" ]; then export UV_THREADPOOL_SIZE=$2; else unset UV_THREADPOOL_SIZE; fi
  taskset -c "$1" "$bin" serve --listen 127.0.0.1:0 -c "$work/cfg.yaml" 2>"$work/serve.log" &
  PID=$!
  until grep -q "API on port" "$work/serve.log" 2>/dev/null; do sleep 0.05; done
  PORT=$(sed -n 's/.*API on port \([0-9]*\) .*/\1/p' "$work/serve.log")
}
L=/anomalydetector/v1.1/timeseries/last/detect
E=/anomalydetector/v1.1/timeseries/entire/detect
row() { # LABEL CLIENTS PATH BODY
  printf '%-44s %s\n' "$1" "$("$load" 127.0.0.1 "$PORT" "$3" "$4" "$2" "$secs")"
}
echo "# anomalyd serve: $secs s per run, $(nproc) cores, $(date -u +%FT%TZ)"
serve "$cpus" "$threads"
echo "## $clients clients, server on cpus $cpus, ${threads:-the default number of} pool threads"
row "GET /healthz (baseline: HTTP alone)" "$clients" /healthz -
row "last/detect, 1000 points" "$clients" $L "$work/last1000.json"
row "entire/detect, 8640 points" "$clients" $E "$work/entire8640.json"
serve 0 1
echo "## 1 client, server on cpu 0, 1 pool thread"
row "GET /healthz (baseline)" 1 /healthz -
row "last/detect, 1000 points" 1 $L "$work/last1000.json"
row "entire/detect, 8640 points" 1 $E "$work/entire8640.json"
