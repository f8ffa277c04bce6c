#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for
# SECONDS (default 60) on a copy of its corpus, as many targets at a time as
# there are cores. A crash fails the run and leaves the reproducer in
# build-fuzz/. With FUZZ_RUNS=N a target also stops
# after N executions, and libFuzzer's final statistics are printed (the long
# runs recorded in docs/development.md:
#   FUZZ_RUNS=10000000 nice -n 19 tools/fuzz.sh 600 TARGET).
#   tools/fuzz.sh [SECONDS] [TARGET]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
only=${2:-}
"$root/tools/deps.sh"
CC=clang "$root/tools/build.sh" build-fuzz -DCMAKE_C_COMPILER=clang -DAD_FUZZ=ON \
  -DAD_SANITIZE=ON -DAD_BUILD_BENCH=OFF
cd "$root/build-fuzz"

# One target: SECONDS on a copy of its corpus, its summary lines to stdout.
fuzz_one() {
  local name=$1 work rc=0
  work=$(mktemp -d)
  cp -r "$root/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  local args=(-max_total_time="$secs" -max_len=65536 -artifact_prefix="$root/build-fuzz/$name-")
  if [ -n "${FUZZ_RUNS:-}" ]; then
    args+=(-runs="$FUZZ_RUNS" -print_final_stats=1)
  else
    args+=(-print_final_stats=0)
  fi
  ./fuzz/"$name" "${args[@]}" "$work" >"$work.log" 2>&1 || rc=$?
  echo "fuzz: $name for ${secs}s"
  if [ -n "${FUZZ_RUNS:-}" ]; then
    grep -E '^(#[0-9]+ +DONE|Done|stat::)' "$work.log" || true
  else
    tail -n 3 "$work.log"
  fi
  [ "$rc" -eq 0 ] || grep -E -A40 '==[0-9]+==ERROR|SUMMARY|deadly signal' "$work.log" | head -60 || true
  rm -rf "$work" "$work.log"
  return "$rc"
}

# The targets, as many at a time as the machine has cores (each is one
# process), their output in order; any failure fails the run.
targets=()
for src in "$root"/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  targets+=("$name")
done
jobs=$(nproc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
  pids=()
  for ((k = i; k < i + jobs && k < ${#targets[@]}; k++)); do
    fuzz_one "${targets[k]}" >"$out/$k" 2>&1 &
    pids+=($!)
  done
  for ((k = i; k < i + jobs && k < ${#targets[@]}; k++)); do
    wait "${pids[k - i]}" || failed=1
    cat "$out/$k"
  done
done
exit "$failed"
