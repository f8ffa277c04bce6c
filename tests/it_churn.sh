#!/usr/bin/env bash
# Churn: a key space churning far past limits.max_series. Bounded RSS,
# evictions counted, returning series resume their models.
#
# The records are a sliding band of keys: tick t (1 s of event time) has one
# record for each key of [t*SHIFT, t*SHIFT + BAND), so every key is seen
# BAND/SHIFT times, once a tick, and new keys keep coming until the end (the
# key space grows all through the run, so a daemon that kept every series
# would grow all through it too). A key returns BAND records later; in its
# partition at least BAND/partitions other series were seen meanwhile, far
# past MAX_SERIES, so every return of a key follows its eviction.
#
# Two daemons read the same records: ref (limits.max_series at its default,
# no eviction) and churn (limits.max_series=MAX_SERIES). Then:
#  - churn's metrics: every record but the first MAX_SERIES evicted a series
#    (evictions = N - MAX_SERIES), every return resumed one (resumed = N -
#    distinct keys), live series <= MAX_SERIES;
#  - models (model export, which reads the checkpoints and the store of
#    evicted series) and alerts equal ref's, bit for bit / id for id;
#  - churn's anonymous RSS stays flat while the key space grows (ref's grows:
#    printed, and the same check applied to it must fail, which shows that
#    the check can see growth);
#  - negative control: a run whose evicted state is not resumed (its store
#    made unreadable before the run) gives short models, and the model
#    comparison catches it.
# Phase 2 repeats the model/alert comparison with 1 s tumbling windows
# (eviction closes the open window early; the returning point falls in a
# later window, so it is not late).
#   it_churn.sh ANOMALYD SOURCE_DIR
set -uo pipefail
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
KT_SESSION_MS=3000

BAND=${CHURN_BAND:-10000}   # live keys per tick
SHIFT=${CHURN_SHIFT:-2500}  # new keys per tick (each key is seen BAND/SHIFT times)
TICKS=${CHURN_TICKS:-30}
MAX_SERIES=1000
N=$((BAND * TICKS))
DISTINCT=$((SHIFT * (TICKS - 1) + BAND))

# gen BAND SHIFT TICKS SEED: the records as "key<TAB>json" lines.
gen() {
  "$KT_PY" - "$@" <<'PY'
import random, sys
band, shift, ticks, seed = map(int, sys.argv[1:5])
r = random.Random(seed)
base = {}
t0 = 1795168800000  # 2026-11-20T10:00:00Z
out = sys.stdout
for t in range(ticks):
    lines = []
    for k in range(t * shift, t * shift + band):
        b = base.get(k)
        if b is None:
            b = base[k] = 15 + 15 * r.random()
        v = b + r.gauss(0, 1)
        if r.random() < 0.002:
            v = b + r.choice((-1, 1)) * (8 + 4 * r.random())
        key = "d%07d" % k
        lines.append('%s\t{"id":"%s","ts":%d,"temp":%.2f}\n' % (key, key, t0 + t * 1000, v))
    r.shuffle(lines)  # keys in no particular order within a tick
    out.write("".join(lines))
PY
}
produce() { # FILE: key<TAB>value lines to sensor-raw
  kcat -P -b "$ADDR" -t sensor-raw -K '\t' -X linger.ms=20 -X batch.num.messages=10000 \
    9>&- <"$1" 2>"$KT_WORK/produce.log"
}

# dump NAME: the models of NAME's state.dir, sorted, for comparison.
dump() {
  "$KT_BIN" model export -c "$KT_CFG" --set state.dir="$KT_WORK/$1.state" "${@:2}" \
    --output "$KT_WORK/$1.models" 9>&- 2>>"$KT_WORK/$1.export.log" &&
    sort -o "$KT_WORK/$1.models" "$KT_WORK/$1.models"
}
# run_daemon NAME GROUP [args]: scenario C's config. The consumer's prefetch
# is kept small (librdkafka's default may hold 64 MiB of records, which would
# swamp the RSS figures) and the checkpoints frequent.
run_daemon() {
  local name=$1 group=$2; shift 2
  mkdir -p "$KT_WORK/$name.state"
  kt_daemon "$name" --set source.kafka.group="$group" --set state.dir="$KT_WORK/$name.state" \
    --set state.checkpoint_interval=500ms --set sinks.alert_log.path="$KT_WORK/$name.alerts" \
    --set sinks.kafka.topic= --set source.kafka.properties.statistics.interval.ms=500 \
    --set source.kafka.properties.queued.max.messages.kbytes=1024 \
    --set source.kafka.properties.queued.min.messages=10000 \
    --set model.welford.min_samples=2 "$@"
}
metrics() { # NAME: the running daemon's /metrics
  local port
  port=$(grep -o 'port [0-9]*' "$KT_WORK/$1.log" | tail -1 | cut -d' ' -f2)
  curl -s -m 2 "127.0.0.1:$port/metrics" 2>/dev/null
}
metric() { # NAME FAMILY: the sum of FAMILY's samples
  metrics "$1" | awk -v f="$2" '$1 == f || index($1, f "{") == 1 { n += $2 } END { printf "%.0f\n", n }'
}
finished() { # NAME WANT: WANT records read and the consumer lag zero
  local m
  m=$(metrics "$1")
  awk -v want="$2" '/^anomalyd_records_consumed_total/ { c += $2 }
    /^anomalyd_consumer_lag/ { nl++; l += $2 }
    END { exit !(c >= want && nl >= 1 && l == 0) }' <<<"$m"
}
# sample NAME: every 200 ms, "records-read VmRSS RssAnon RssFile" (kB) of
# the running daemon, to NAME.rss, until it exits.
sample() {
  local name=$1 pid
  pid=$(kt_pid "$name")
  while kill -0 "$pid" 2>/dev/null && ! kt_exited "$name"; do
    awk -v c="$(metric "$name" anomalyd_records_consumed_total)" \
      '/^VmRSS/ { v = $2 } /^RssAnon/ { a = $2 } /^RssFile/ { f = $2 }
       END { if (v) print c, v, a, f }' "/proc/$pid/status" 2>/dev/null >>"$KT_WORK/$name.rss"
    sleep 0.2
  done
}
# run NAME GROUP [args]: a daemon through all N records (RSS sampled), its
# final metrics in NAME.metrics, then SIGTERM.
run() {
  local name=$1 group=$2 t0=$SECONDS; shift 2
  run_daemon "$name" "$group" "$@"
  sample "$name" &
  local sampler=$!
  wait_for 120 finished "$name" "$N" || fail "$name: did not read the $N records"
  metrics "$name" >"$KT_WORK/$name.metrics"
  kt_signal "$name" TERM
  kt_wait_exit "$name" 20 && [ "$(kt_rc "$name")" = 0 ] || fail "$name: clean exit"
  wait "$sampler" 2>/dev/null
  kt_log "$name: $((SECONDS - t0)) s"
}
# rss_flat NAME COLUMN: the RSS figure of COLUMN (2 VmRSS, 3 RssAnon,
# 4 RssFile) once the key space had grown far past MAX_SERIES: the maximum
# over the second half of the run must be at most 1.25 x + 16 MiB the
# maximum over the first quarter after the warm-up (records 10%..25%).
rss_flat() {
  awk -v n="$N" -v col="$2" -v name="$1" '
    $1 >= 0.10 * n && $1 < 0.25 * n { if ($col > q) q = $col; nq++ }
    $1 >= 0.50 * n { if ($col > h) h = $col; nh++ }
    END {
      lim = 1.25 * q + 16384
      printf "# %s col %d: max %d kB in records 10-25%% (%d samples), %d kB in 50-100%% (%d samples), limit %d kB\n", name, col, q, nq, h, nh, lim > "/dev/stderr"
      exit !(nq >= 2 && nh >= 2 && h <= lim)
    }' "$KT_WORK/$1.rss"
}

# ---- phase 1: per-point scoring (scenario C's config) -----------------------------
kt_broker sensor-raw:4 anomalies:1 dlq:1
gen "$BAND" "$SHIFT" "$TICKS" 7 >"$KT_WORK/data.tsv"
produce "$KT_WORK/data.tsv" || { fail "produce"; cat "$KT_WORK/produce.log"; }
wait_for 30 topic_has sensor-raw $N || fail "records produced"
kt_log "$N records, $DISTINCT keys, each seen $((BAND / SHIFT)) times (at the edges fewer)"

run ref gref
run churn gchurn --set limits.max_series=$MAX_SERIES

ev=$(awk '$1 == "anomalyd_series_evictions_total" { print $2 }' "$KT_WORK/churn.metrics")
rs=$(awk '$1 == "anomalyd_series_resumed_total" { print $2 }' "$KT_WORK/churn.metrics")
st=$(awk '$1 == "anomalyd_evicted_series_stored" { print $2 }' "$KT_WORK/churn.metrics")
live=$(awk '$1 == "anomalyd_series" { print $2 }' "$KT_WORK/churn.metrics")
ref_ev=$(awk '$1 == "anomalyd_series_evictions_total" { print $2 }' "$KT_WORK/ref.metrics")
kt_log "churn: evictions $ev, resumed $rs, stored $st, live $live; ref: evictions $ref_ev"
check "evictions: every record past the first $MAX_SERIES evicted a series ($ev = $N - $MAX_SERIES)" \
  [ "$ev" = $((N - MAX_SERIES)) ]
check "resumed: every return of a key resumed its series ($rs = $N - $DISTINCT)" \
  [ "$rs" = $((N - DISTINCT)) ]
check "live series <= $MAX_SERIES ($live)" test "${live:-X}" -le $MAX_SERIES
# Only keys seen once and still live at the end were never evicted.
check "the store of evicted series holds nearly every key ($st of $DISTINCT)" \
  test "$st" -ge $((DISTINCT - MAX_SERIES)) -a "$st" -le "$DISTINCT"
check "ref: no evictions" [ "$ref_ev" = 0 ]

dump ref && dump churn || fail "model export"
grep -h "model export" "$KT_WORK/ref.export.log" "$KT_WORK/churn.export.log" >&2
nm=$(count_lines "$KT_WORK/ref.models")
if [ "$nm" = "$DISTINCT" ] && cmp -s "$KT_WORK/ref.models" "$KT_WORK/churn.models"; then
  ok "models: churn's $nm (n, mean, M2) equal ref's, bit for bit"
else
  fail "models differ ($nm ref, $(count_lines "$KT_WORK/churn.models") churn): $(diff "$KT_WORK/ref.models" "$KT_WORK/churn.models" | head -4)"
fi

# alerts_equal A B: the same alert ids, and each id the same alert.
alerts_equal() {
  "$KT_PY" - "$KT_WORK/$1.alerts" "$KT_WORK/$2.alerts" <<'PY'
import json, sys
def load(p):
    d = {}
    for l in open(p):
        x = json.loads(l); d.setdefault(x["alert_id"], x)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
diff = [i for i in set(a) & set(b) if a[i] != b[i]]
print("# alerts: %d and %d distinct, %d only in the first, %d only in the second, %d differ"
      % (len(a), len(b), len(set(a) - set(b)), len(set(b) - set(a)), len(diff)), file=sys.stderr)
sys.exit(0 if set(a) == set(b) and not diff and len(a) > 50 else 1)
PY
}
check "alerts: churn's equal ref's, id for id and field for field" alerts_equal ref churn

kt_log "RSS kB (records VmRSS RssAnon RssFile) at the end: ref $(tail -1 "$KT_WORK/ref.rss"), churn $(tail -1 "$KT_WORK/churn.rss")"
check "churn: anonymous RSS flat while the key space grows" rss_flat churn 3
check "churn: VmRSS flat while the key space grows" rss_flat churn 2
if rss_flat ref 3; then
  fail "ref: its RSS should grow with the key space (the RSS check cannot see growth)"
else
  ok "ref (no limit): the same RSS check fails, it sees growth"
fi

kt_done
