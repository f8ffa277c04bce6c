#!/usr/bin/env bash
# The README's second command: installs what is missing, builds with
# -Werror and runs every test (unit, golden, fuzz-corpus replay, integration).
#   tools/test.sh              the suite
#   tools/test.sh --sanitize   the suite again under ASan+UBSan (build-asan/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/deps.sh"
dir=build
opts=(-DAD_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  opts+=(-DAD_SANITIZE=ON -DAD_BUILD_BENCH=OFF)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
"$root/tools/build.sh" "$dir" "${opts[@]}"
cd "$root/$dir"
ctest --output-on-failure -j "$(nproc)"
