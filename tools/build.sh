#!/usr/bin/env bash
# Configures and builds into DIR (default: build). Extra arguments go to cmake.
# Exits non-zero when configuring or compiling fails (the compiler's output,
# less the progress lines, is printed either way).
#   tools/build.sh [DIR] [-DOPTION=VALUE ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cmake --build "$dir" -j "$(nproc)" >"$log" 2>&1 || status=$?
grep -Ev '^\[ *[0-9]+%\]' "$log" || true
if [ "$status" -ne 0 ]; then
  echo "build: compiling in $dir failed (exit $status)" >&2
fi
exit "$status"
