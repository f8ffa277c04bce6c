#!/usr/bin/env bash
# Self-test of tools/check.py: runs it on a small fixture tree holding one
# instance of each problem (and look-alikes that are not problems: names in
# comments and strings, members, prefixed names, 100-line functions) and
# compares its report, line for line. .ci/run runs it before tools/check.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/tools" "$t/src/core" "$t/src/io" "$t/src/app" "$t/include" "$t/tests"
cp "$root/tools/check.py" "$t/tools/"

cat >"$t/src/core/ad_a.c" <<'EOF'
#include <uv.h>
#include "ad_b.h"
#include "ad_types.h"
#include "../io/ad_b_int.h"
/* sprintf( and time(NULL) in a comment */
static const char *s = "strcpy(x) time(NULL)";
static long f(void)
{
    char c = '"';
    long t = time(NULL) + uv_hrtime();
    struct x y = {.time = 1};
    return t + c + ad_time(3) + y.time + p->clock(1) + s[0];
}
EOF
cat >"$t/src/io/ad_b.c" <<'EOF'
#include <uv.h>
#include "ad_c.h"
#include "ad_b.h"
static void g(char *d, const char *s)
{
    strcpy(d, s);
    d->strcat(s);
}
EOF
touch "$t/src/app/ad_c.c" "$t/include/ad_c.h" "$t/include/ad_types.h" "$t/src/io/ad_b_int.h"
cat >"$t/include/ad_b.h" <<'EOF'
#include <curl/curl.h>
typedef int (*ad_cb)(int a, int b, int c, int d, int e, int f, int g);
int ad_b_many(int a, int (*cb)(int, int), int c, int d, int e, int f, int g);
int ad_b_six(int a, int b, int c, int d, int e, int f);
int ad_b_fmt(int a, int b, int c, int d, int e, int f, ...) __attribute__((format(printf, 6, 7)));
struct ad_s {
    int (*m)(int a, int b, int c, int d, int e, int f, int g);
};
EOF
cat >"$t/include/ad_types.h" <<'EOF'
#include "ad_c.h"
EOF
{
  echo 'static int too_long(int a,'
  echo '                    int b)'
  echo '{'
  for _ in $(seq 1 97); do echo '    a += b;'; done
  echo '    return a;'
  echo '}'
  echo 'static int just_fits(void)'
  echo '{'
  for _ in $(seq 1 97); do echo '    ;'; done
  echo '}'
  echo 'static int allowed_long(void)'
  echo '{'
  for _ in $(seq 1 100); do echo '    ;'; done
  echo '}'
} >"$t/src/app/ad_c.c"
for _ in $(seq 1 1001); do echo; done >"$t/tests/test_big.c"
printf 'int main(int argc, char **argv)\n{\n    AD_TEST_RUN(argc, argv, t);\n    return 0;\n}\n' \
  >"$t/tests/test_noexit.c"
printf 'int main(int argc, char **argv)\n{\n    AD_TEST_RUN(argc, argv, t);\n    return ad_test_done();\n}\n' \
  >"$t/tests/test_exits.c"
cat >"$t/tools/limits-allow.txt" <<'EOF'
# comment
function src/app/ad_c.c:allowed_long   a reason
params ad_b_nothing                    stale entry
EOF

expected="src/io/ad_b.c:6: banned: strcpy(): no bound; use snprintf or memcpy with a known length
src/app/ad_c.c:1: function: too_long() is 102 lines long (limit 100)
include/ad_types.h:1: layer: core includes ad_c.h, a header of the app layer
src/core/ad_a.c:1: layer: core includes the I/O library header <uv.h>
src/core/ad_a.c:2: layer: core includes ad_b.h, a header of the io layer
src/core/ad_a.c:4: layer: core includes ../io/ad_b_int.h, a header of the io layer
src/core/ad_a.c:10: layer: core reads a clock (time); time comes in as an argument
src/core/ad_a.c:10: layer: core reads a clock (uv_hrtime); time comes in as an argument
src/io/ad_b.c:2: layer: io includes ad_c.h, a header of the app layer
tests/test_big.c:1001: lines: 1001 lines (limit 1000)
include/ad_b.h:3: params: ad_b_many() takes 7 parameters (limit 6)
include/ad_b.h:5: params: ad_b_fmt() takes 7 parameters (limit 6)
tests/test_noexit.c:1: testexit: main() does not return ad_test_done(): failures would exit 0"

status=0
got=$(/usr/bin/python3 "$t/tools/check.py" 2>"$t/stderr") || status=$?
fail=0
if [ "$status" -ne 1 ]; then
  echo "check_test: exit $status, want 1" >&2
  fail=1
fi
if [ "$got" != "$expected" ]; then
  echo "check_test: report differs (< got, > want):" >&2
  diff <(echo "$got") <(echo "$expected") >&2 || true
  fail=1
fi
if ! grep -q "'params ad_b_nothing' matches nothing" "$t/stderr"; then
  echo "check_test: the stale allow-list entry was not reported" >&2
  fail=1
fi
# A clean tree passes.
rm -rf "$t/src" "$t/include" "$t/tests" "$t/tools/limits-allow.txt"
mkdir -p "$t/src/core"
printf 'static int ok(void)\n{\n    return 0;\n}\n' >"$t/src/core/ad_ok.c"
if ! /usr/bin/python3 "$t/tools/check.py" >"$t/out" 2>&1; then
  echo "check_test: a clean tree fails:" >&2
  cat "$t/out" >&2
  fail=1
fi
[ "$fail" -eq 0 ] && echo "check_test: ok"
exit "$fail"
