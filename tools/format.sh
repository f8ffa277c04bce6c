#!/usr/bin/env bash
# Formats the C sources (src/ include/ tests/ fuzz/ bench/, *.c and *.h) with
# clang-format 14 and the root .clang-format.
#   tools/format.sh           rewrite the files that differ, in place
#   tools/format.sh --check   change nothing; list the files that differ and
#                             exit 1 if there are any (CI)
#   tools/format.sh [--check] FILE...   only these files
# Another clang-format version formats some constructs differently, so the
# script insists on 14 (set CLANG_FORMAT to override the binary).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  shift
fi
case "${1:-}" in -*) echo "usage: tools/format.sh [--check] [FILE...]" >&2; exit 2 ;; esac

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
  for c in clang-format-14 clang-format; do
    if command -v "$c" >/dev/null; then cf=$c; break; fi
  done
fi
if [ -z "$cf" ]; then
  echo "format: clang-format 14 not found (apt-get install clang-format-14)" >&2
  exit 2
fi
if [ -z "${CLANG_FORMAT:-}" ] && ! "$cf" --version | grep -q 'version 14\.'; then
  echo "format: $cf is not clang-format 14 ($("$cf" --version)); set CLANG_FORMAT to force" >&2
  exit 2
fi

if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find src include tests fuzz bench -type f \( -name '*.c' -o -name '*.h' \) \
                         2>/dev/null | LC_ALL=C sort)
fi

differ=0
for f in "${files[@]}"; do
  if [ "$check" -eq 1 ]; then
    if ! "$cf" --style=file "$f" | cmp -s - "$f"; then
      echo "$f"
      differ=$((differ + 1))
    fi
  else
    "$cf" --style=file -i "$f"
  fi
done
if [ "$check" -eq 1 ] && [ "$differ" -gt 0 ]; then
  echo "format: $differ file(s) differ from .clang-format; run tools/format.sh" >&2
  exit 1
fi
exit 0
