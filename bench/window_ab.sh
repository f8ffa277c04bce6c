#!/usr/bin/env bash
# window_ab.sh - the window stage of two trees side by side: bench/bench_window.c
# (public window API only) built from a baseline revision and from a
# candidate build, each mode run alternately (best of ROUNDS each):
#
#   bench/window_ab.sh BASE_REV CAND_BUILD_DIR [ROUNDS] [MEM_SERIES]
#       (defaults: 3 rounds, 200000 series for the memory rows)
#
# The baseline is `git archive BASE_REV` with this tree's bench_window.c,
# configured like tools/build.sh (RelWithDebInfo) in a temporary directory.
# Rows: bytes per series for each window setup (RSS growth and heap bytes in
# use), the window work of the daemon's 1 s tick at 1M series (idle tick and
# the partition's lowest open offset), watermark advances over 1M sparse
# series. Figures go to docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base_rev=${1:?usage: window_ab.sh BASE_REV CAND_BUILD_DIR [ROUNDS] [MEM_SERIES]}
cand=${2:?usage: window_ab.sh BASE_REV CAND_BUILD_DIR [ROUNDS] [MEM_SERIES]}/bench/bench_window
rounds=${3:-3}
mem_series=${4:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
git -C "$root" archive "$base_rev" | tar -x -C "$work/src"
cp "$root/bench/bench_window.c" "$work/src/bench/"
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/build" -j "$(nproc)" --target bench_window >/dev/null
base=$work/build/bench/bench_window
[ -x "$cand" ] || { echo "no $cand: build the candidate first" >&2; exit 1; }

for args in "mem raw" "mem tumbling" "mem tumbling+sliding" "mem sliding" "tick" "advance"; do
  for i in $(seq "$rounds"); do
    # shellcheck disable=SC2086
    if [ "${args%% *}" = mem ]; then a="$args $mem_series"; else a=$args; fi
    # shellcheck disable=SC2086
    printf 'baseline  %s\n' "$("$base" $a)"
    # shellcheck disable=SC2086
    printf 'candidate %s\n' "$("$cand" $a)"
  done
done
