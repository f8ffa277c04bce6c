#!/usr/bin/env bash
# Source checks the compiler does not make; CI runs it after the format check.
# Fails (exit 1), printing FILE:LINE: RULE: WHY for each problem, on
#   banned    calls of the banned functions (gets, sprintf, vsprintf, strcpy,
#             strcat, strncpy, strncat, strtok, atoi, atol, atoll, atof, tmpnam,
#             tempnam, mktemp, asctime, ctime, gmtime, localtime, alloca)
#   layer     src/core/ (and core modules' headers) including uv.h, rdkafka,
#             curl/*, yaml.h, lmdb.h, http_parser.h or an io/app module's
#             header, or reading a clock; src/io/ including an app header
#   lines     a source file over 1,000 lines
#   function  a function over 100 lines (signature to closing brace)
#   params    a function declared in include/ with more than 6 parameters
# Exceptions to the last three: tools/limits-allow.txt, one a line, each with
# its reason. The rules and their reasons: tools/check.py, docs/development.md.
#   tools/check.sh               check src/ include/ tests/ fuzz/ bench/
#   tools/check.sh --functions   list every function and its length
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec /usr/bin/python3 "$root/tools/check.py" "$@"
