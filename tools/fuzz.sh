#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for
# SECONDS (default 60) on a copy of its corpus. A crash fails the run and
# leaves the reproducer in build-fuzz/. With FUZZ_RUNS=N a target also stops
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
for src in "$root"/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  work=$(mktemp -d)
  cp -r "$root/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  echo "fuzz: $name for ${secs}s"
  args=(-max_total_time="$secs" -max_len=65536 -artifact_prefix="$root/build-fuzz/$name-")
  if [ -n "${FUZZ_RUNS:-}" ]; then
    args+=(-runs="$FUZZ_RUNS" -print_final_stats=1)
  else
    args+=(-print_final_stats=0)
  fi
  ./fuzz/"$name" "${args[@]}" "$work" 2>&1 |
    if [ -n "${FUZZ_RUNS:-}" ]; then
      grep -E '^(#[0-9]+ +DONE|Done|stat::|==[0-9]+==ERROR|SUMMARY)'
    else
      tail -n 3
    fi
  rm -rf "$work"
done
