#!/usr/bin/env bash
# Integration (issue 17 item 6), no broker needed: points lost for want of
# memory are counted and fail the replay. 300,000 distinct keys replayed
# under an address-space limit (ulimit -v) lose points once the limit is
# reached; the replay says how many and exits 1 (it exited 0 before, saying
# every record was accepted). The same replay without the limit is the
# control: no loss, exit 0.
#   it_oom.sh ANOMALYD SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; fail=1; }

if grep -q __asan_init "$bin" 2>/dev/null; then
  echo "ok # skip: a sanitizer build reserves more address space than any ulimit -v here"
  exit 0
fi
awk 'BEGIN { for (i = 0; i < 300000; i++)
  printf "{\"id\":\"k%d\",\"ts\":%d,\"temp\":%d.5}\n", i, 1700000000000 + i, i % 50 }' \
  >"$work/keys.jsonl"
cfg="$src/config/examples/scenario-c-sensors.yaml"
replay() { # NAME ULIMIT_KB (or unlimited)
  (
    ulimit -v "$2"
    "$bin" -c "$cfg" --set limits.max_series=100000000 --input "$work/keys.jsonl" \
      >/dev/null 2>"$work/$1.log"
  )
  echo $?
}

rc=$(replay ref unlimited)
if [ "$rc" = 0 ] && grep -q "replay: 300000 points" "$work/ref.log" &&
  ! grep -q "lost for want of memory" "$work/ref.log"; then
  ok "control: without a limit every point is kept, exit 0"
else
  bad "control: exit $rc"
  sed 's/^/    /' "$work/ref.log"
fi

# The limit: enough to start, too little for every series (a few tries, as
# the process's own footprint differs between builds).
found=
for kb in 60000 70000 90000 50000; do
  rc=$(replay lim "$kb")
  points=$(sed -n 's/^replay: \([0-9]*\) points.*/\1/p' "$work/lim.log")
  if [ -n "$points" ] && [ "$points" -lt 300000 ]; then
    found=$kb
    break
  fi
done
if [ -z "$found" ]; then
  bad "no address-space limit made the replay lose points (last: exit $rc)"
  sed 's/^/    /' "$work/lim.log" | tail -5
  exit 1
fi
lost=$(sed -n 's/^anomalyd: \([0-9]*\) points, series states or outputs lost.*/\1/p' "$work/lim.log")
if [ "$rc" = 1 ] && [ -n "$lost" ] && [ "$lost" -ge $((300000 - points)) ]; then
  ok "ulimit -v $found: $points of 300000 points kept, $lost lost and reported, exit 1"
else
  bad "ulimit -v $found: $points points kept, exit $rc, lost reported: '${lost}'"
  sed 's/^/    /' "$work/lim.log" | tail -5
fi
exit $fail
