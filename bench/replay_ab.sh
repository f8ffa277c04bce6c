#!/usr/bin/env bash
# replay_ab.sh - replay throughput of two anomalyd binaries on the same input,
# run alternately in one script (best of ROUNDS each), printed as a ratio.
# For checking that a change (a refactor, a new build flag) costs nothing:
#
#   bench/replay_ab.sh BASELINE_BIN CANDIDATE_BIN [RECORDS] [ROUNDS] [CONFIG]
#       (defaults: 1000000 records, 5 rounds, config/examples/scenario-c-sensors.yaml)
#
# The input is scenario C telemetry from the candidate's simulator (1,000
# sensors, or DEVICES from the environment), written once to a temporary file; alerts go to /dev/null. Time is
# wall time of the whole replay process (read, decode, window, score, format).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: replay_ab.sh BASELINE_BIN CANDIDATE_BIN [RECORDS] [ROUNDS] [CONFIG]}
cand=${2:?usage: replay_ab.sh BASELINE_BIN CANDIDATE_BIN [RECORDS] [ROUNDS] [CONFIG]}
records=${3:-1000000}
rounds=${4:-5}
cfg=${5:-$root/config/examples/scenario-c-sensors.yaml}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cand" simulate --format sensor --count "$records" --devices "${DEVICES:-1000}" --seed 7 \
  --output "$work/in.jsonl"

run() { # BIN -> seconds on stdout
  local t0 t1
  t0=$(date +%s.%N)
  "$1" -c "$cfg" --input "$work/in.jsonl" >/dev/null 2>"$work/err" ||
    { cat "$work/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}
best_b=999999 best_c=999999
for i in $(seq "$rounds"); do
  b=$(run "$base"); c=$(run "$cand")
  printf 'round %d: baseline %.3f s  candidate %.3f s\n' "$i" "$b" "$c"
  best_b=$(awk -v x="$b" -v y="$best_b" 'BEGIN { print (x < y ? x : y) }')
  best_c=$(awk -v x="$c" -v y="$best_c" 'BEGIN { print (x < y ? x : y) }')
done
awk -v n="$records" -v b="$best_b" -v c="$best_c" 'BEGIN {
  printf "records %d: baseline best %.3f s (%.0f rec/s), candidate best %.3f s (%.0f rec/s)\n", n, b, n / b, c, n / c
  printf "candidate/baseline throughput ratio: %.3f\n", b / c }'
