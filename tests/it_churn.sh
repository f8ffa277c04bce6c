#!/usr/bin/env bash
# Churn: a key space churning far past limits.max_series. Bounded RSS,
# evictions counted, returning series resume their models.
#
# The records are a sliding band of keys: tick t (1 s of event time) has one
# record for each key of [t*SHIFT, t*SHIFT + BAND), so a key is seen
# BAND/SHIFT times, once a tick, and new keys keep coming to the end: the key
# space grows all through the run (a daemon keeping every series grows all
# through it too). The keys of a tick come in the same (hashed) order every
# tick, so between two records of a key come the band's other keys: in its
# partition alone some BAND/4 other series, far past MAX_SERIES, so every
# return of a key follows its eviction.
#
# Phase 1, scenario C's config (every point scored against its series'
# lifetime model): ref (limits.max_series at its default: no eviction) and
# churn (limits.max_series=MAX_SERIES) read the same records.
#  - churn's metrics: every record past the first MAX_SERIES evicted a series
#    (evictions = N - MAX_SERIES), every return resumed one (resumed = N -
#    distinct keys), live series <= MAX_SERIES, the evicted series' store
#    holds (nearly) every key;
#  - models (model export: the checkpoints plus the evicted series' store)
#    and alerts equal ref's, bit for bit and field for field;
#  - churn's anonymous RSS stays flat while the key space grows: the maximum
#    over the second half of the run is at most 1.25 x + 16 MiB the maximum
#    over records 10..25%. VmRSS and RssFile are printed, not checked: they
#    include the pages of evicted.mdb mapped by LMDB, which grows with the
#    key space by design (file-backed page cache). ref's figures are printed
#    for comparison, with the outcome of the same check on them (it fails:
#    the check sees the growth of a daemon that keeps every series).
#  - negative controls: (a) the export while the store is locked (as by a
#    running daemon) fails, says why, and its models (only the live series')
#    do not compare equal; (b) a churn run without a store (state.dir="", so
#    nothing can resume; no state.dir means no checkpoints and no model
#    export either) resumes nothing and its alerts differ from ref's.
# Phase 2, the same with 1 s tumbling windows (one point of a series per
# window): eviction closes the open window early, the returning point falls
# in a later window, so nothing is late; a last record per partition an hour
# later closes ref's last windows too. Models and alerts equal ref's (but for
# those end-* series: one that churn evicts has its window closed, which in
# ref stays open).
#   it_churn.sh ANOMALYD SOURCE_DIR
set -uo pipefail
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
KT_SESSION_MS=3000
MAX_SERIES=1000

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
        lines.append((k * 2654435761 % 2**32, '%s\t{"id":"%s","ts":%d,"temp":%.2f}\n'
                      % (key, key, t0 + t * 1000, v)))
    lines.sort()
    out.write("".join(l for _, l in lines))
PY
}
produce() { # FILE [kcat args]: key<TAB>value lines to sensor-raw (lz4: the mock
  # cluster drops the oldest records past 5 MB a partition)
  kcat -P -b "$ADDR" -t sensor-raw -K '\t' -z lz4 -X linger.ms=20 "${@:2}" 9>&- <"$1" \
    2>>"$KT_WORK/produce.log"
}
kept_all() { # the beginning offset of every partition of sensor-raw is 0
  kcat -Q -b "$ADDR" -m 10 -t sensor-raw:0:-2 -t sensor-raw:1:-2 -t sensor-raw:2:-2 \
    -t sensor-raw:3:-2 9>&- 2>/dev/null | awk '$3 == "offset" { n++; if ($4 != 0) bad++ }
    END { exit !(n == 4 && !bad) }'
}

# dump NAME [args]: the models of NAME's state.dir, sorted; stderr to NAME.export.log.
dump() {
  "$KT_BIN" model export -c "$KT_CFG" --set state.dir="$KT_WORK/$1.state" "${@:2}" \
    --output "$KT_WORK/$1.models" 9>&- 2>"$KT_WORK/$1.export.log"
  local rc=$?
  sort -o "$KT_WORK/$1.models" "$KT_WORK/$1.models"
  return $rc
}
# run_daemon NAME GROUP [args]: scenario C's config, min_samples 2 (keys are
# seen a few times only). The consumer's prefetch is bounded (by default
# librdkafka may hold 64 MiB of records, which would swamp the RSS figures).
run_daemon() {
  local name=$1 group=$2; shift 2
  mkdir -p "$KT_WORK/$name.state"
  kt_daemon "$name" --set source.kafka.group="$group" --set state.dir="$KT_WORK/$name.state" \
    --set state.checkpoint_interval=100ms --set sinks.alert_log.path="$KT_WORK/$name.alerts" \
    --set sinks.kafka.topic= --set source.kafka.properties.statistics.interval.ms=500 \
    --set source.kafka.properties.queued.max.messages.kbytes=2048 \
    --set source.kafka.properties.fetch.max.bytes=1048576 \
    --set source.kafka.properties.max.partition.fetch.bytes=262144 \
    --set model.welford.min_samples=2 "$@"
}
metrics() { # NAME: the running daemon's /metrics
  local port
  port=$(grep -o 'port [0-9]*' "$KT_WORK/$1.log" | tail -1 | cut -d' ' -f2)
  curl -s -m 2 "127.0.0.1:$port/metrics" 2>/dev/null
}
finished() { # NAME: all N records read and the consumer lag zero
  metrics "$1" | awk -v want="$N" '/^anomalyd_records_consumed_total/ { c += $2 }
    /^anomalyd_consumer_lag/ { nl++; l += $2 }
    END { exit !(c >= want && nl >= 1 && l == 0) }'
}
# windows_done NAME: all N records and the end ones read, N windows closed
# (the end records' windows stay open, and so their offsets uncommitted: the
# lag does not reach zero).
windows_done() {
  metrics "$1" | awk -v want="$N" '/^anomalyd_records_consumed_total/ { c += $2 }
    /^anomalyd_windows_closed_total/ { w += $2 }
    END { exit !(c >= want + 4 && w >= want) }'
}
# sample_mem NAME: every 50 ms, "time VmRSS RssAnon RssFile" (kB) of the
# running daemon to NAME.mem (read by the shell itself: the metrics endpoint,
# served by the busy loop, is too slow to time these samples).
sample_mem() {
  local pid k v _ vm an fi
  pid=$(kt_pid "$1")
  while [ -r "/proc/$pid/status" ] && ! kt_exited "$1"; do
    vm='' an='' fi=''
    while read -r k v _; do
      case $k in VmRSS:) vm=$v ;; RssAnon:) an=$v ;; RssFile:) fi=$v ;; esac
    done <"/proc/$pid/status" 2>/dev/null
    [ -n "$vm" ] && echo "$EPOCHREALTIME $vm $an $fi" >>"$KT_WORK/$1.mem"
    sleep 0.05
  done
}
# sample_read NAME: "time records-read live-series" of the running daemon
# to NAME.read.
sample_read() {
  local c
  while ! kt_exited "$1"; do
    c=$(metrics "$1" | awk '/^anomalyd_records_consumed_total/ { c += $2; s = 1 }
      $1 == "anomalyd_series" { l = $2 } END { if (s) print c, l + 0 }')
    [ -n "$c" ] && echo "$EPOCHREALTIME $c" >>"$KT_WORK/$1.read"
    sleep 0.2
  done
}
# rss NAME: NAME.rss, "records-read VmRSS RssAnon RssFile" per memory sample,
# the records read interpolated between the reads' samples.
rss() {
  "$KT_PY" - "$KT_WORK/$1.mem" "$KT_WORK/$1.read" "$KT_WORK/$1.rss" <<'PY'
import bisect, sys
mem = [l.split() for l in open(sys.argv[1])]
rd = [(float(t), int(c)) for t, c, _ in (l.split() for l in open(sys.argv[2]))]
ts = [t for t, _ in rd]
with open(sys.argv[3], "w") as o:
    for t, *v in mem:
        t = float(t)
        i = bisect.bisect_right(ts, t)
        if i == 0 or i == len(rd):
            continue  # before the first or after the last count
        (t0, c0), (t1, c1) = rd[i - 1], rd[i]
        c = c0 + (c1 - c0) * (t - t0) / (t1 - t0) if t1 > t0 else c1
        o.write("%d %s\n" % (c, " ".join(v)))
PY
}
# run NAME GROUP DONE [args]: a daemon until "DONE NAME" holds (RSS
# sampled), its metrics then in NAME.metrics, then SIGTERM and a clean exit.
run() {
  local name=$1 group=$2 done=$3 t0=$SECONDS s1 s2; shift 3
  run_daemon "$name" "$group" "$@"
  sample_mem "$name" &
  s1=$!
  sample_read "$name" &
  s2=$!
  wait_for 120 $done "$name" || fail "$name: did not finish ($done)"
  metrics "$name" >"$KT_WORK/$name.metrics"
  kt_signal "$name" TERM
  kt_wait_exit "$name" 20 && [ "$(kt_rc "$name")" = 0 ] || fail "$name: clean exit"
  wait "$s1" "$s2" 2>/dev/null
  rss "$name"
  kt_log "$name: $((SECONDS - t0)) s"
}
m() { # NAME FAMILY: FAMILY's value (summed over labels) in NAME.metrics
  awk -v f="$2" '$1 == f || index($1, f "{") == 1 { n += $2; s = 1 }
    END { if (s) printf "%.0f\n", n; else print "none" }' "$KT_WORK/$1.metrics"
}
# rss_flat NAME: RssAnon once the key space is far past MAX_SERIES: the
# maximum over records 50..100% at most 1.25 x + 16 MiB the maximum over
# records 10..25% (after the warm-up). Prints the figures.
rss_flat() {
  awk -v n="$N" -v name="$1" '
    $1 >= 0.10 * n && $1 < 0.25 * n { if ($3 > q) q = $3; if ($2 > qv) qv = $2; nq++ }
    $1 >= 0.50 * n { if ($3 > h) h = $3; if ($2 > hv) hv = $2; if ($4 > hf) hf = $4; nh++ }
    END {
      lim = 1.25 * q + 16384
      printf "# %s: RssAnon max %d kB over records 10-25%% (%d samples), %d kB over " \
        "50-100%% (%d samples), limit %d kB; VmRSS %d -> %d kB (RssFile up to %d kB)\n",
        name, q, nq, h, nh, lim, qv, hv, hf > "/dev/stderr"
      exit !(nq >= 2 && nh >= 2 && h <= lim)
    }' "$KT_WORK/$1.rss"
}
# alerts_equal A B: the same alert ids, each id the same alert, and enough of them.
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
sys.exit(0 if set(a) == set(b) and not diff and len(a) > 100 else 1)
PY
}
# models_equal A B WANT: the sorted model dumps' d* series identical, WANT
# of them. (Phase 2's end-* series are left out: in churn, one evicted before
# the run ends has its window closed, in ref that window is still open.)
models_equal() {
  grep '^{"id":"d' "$KT_WORK/$1.models" >"$KT_WORK/$1.models.d"
  grep '^{"id":"d' "$KT_WORK/$2.models" >"$KT_WORK/$2.models.d"
  cmp -s "$KT_WORK/$1.models.d" "$KT_WORK/$2.models.d" &&
    [ "$(count_lines "$KT_WORK/$1.models.d")" = "$3" ]
}
check_models() { # REF CHURN WANT LABEL
  if models_equal "$1" "$2" "$3"; then
    ok "$4: churn's $3 (n, mean, M2) equal ref's, bit for bit"
  else
    fail "$4 differ ($(count_lines "$KT_WORK/$1.models") ref, $(count_lines "$KT_WORK/$2.models")" \
      "churn): $(diff "$KT_WORK/$1.models.d" "$KT_WORK/$2.models.d" | head -4)"
  fi
}
# counts NAME WANT_EVICTIONS WANT_RESUMED DISTINCT: churn's metrics.
counts() {
  local name=$1 ev rs st live late maxlive
  maxlive=$(awk '{ if ($3 > m) m = $3 } END { print m + 0 }' "$KT_WORK/$name.read")
  ev=$(m "$name" anomalyd_series_evictions_total)
  rs=$(m "$name" anomalyd_series_resumed_total)
  st=$(m "$name" anomalyd_evicted_series_stored)
  live=$(m "$name" anomalyd_series)
  late=$(m "$name" anomalyd_late_points_total)
  kt_log "$name: evictions $ev, resumed $rs, stored $st, live $live (at most $maxlive), late $late"
  check "$name: every record past the first $MAX_SERIES evicted a series ($ev = $2)" \
    [ "$ev" = "$2" ]
  check "$name: every return of a key resumed its series ($rs = $3)" [ "$rs" = "$3" ]
  check "$name: live series <= $MAX_SERIES all along (at most $maxlive, $live at the end)" \
    test "${live//none/X}" -le $MAX_SERIES -a "$maxlive" -le $MAX_SERIES
  # Only keys seen once and still live at the end were never evicted.
  check "$name: the evicted series' store holds the keys ($st of $4)" \
    test "${st//none/X}" -ge $(($4 - MAX_SERIES)) -a "${st//none/X}" -le "$4"
  check "$name: no late points ($late)" [ "$late" = 0 ]
}

# ---- phase 1: every point scored (scenario C's config) -------------------------
BAND=12000 SHIFT=4000 TICKS=50
N=$((BAND * TICKS))
DISTINCT=$((SHIFT * (TICKS - 1) + BAND))
kt_broker sensor-raw:4 dlq:1
gen $BAND $SHIFT $TICKS 7 >"$KT_WORK/data1.tsv"
produce "$KT_WORK/data1.tsv" || { fail "produce"; cat "$KT_WORK/produce.log"; }
wait_for 30 topic_has sensor-raw $N || fail "records produced"
check "the broker kept every record" kept_all
kt_log "phase 1: $N records, $DISTINCT keys, each seen $((BAND / SHIFT)) times (fewer at the edges)"

# churn checkpoints every 100 ms, which also commits the store of evicted
# series: its open write transaction stays small (LMDB keeps the dirty pages
# of the largest one for reuse: 10000 puts, AD_SPILL_BATCH_PUTS, to random
# keys of a large store dirty some 25 MiB). ref, whose checkpoints hold
# every series, every 3 s.
run ref gref finished --set state.checkpoint_interval=3s
run churn gchurn finished --set limits.max_series=$MAX_SERIES
counts churn $((N - MAX_SERIES)) $((N - DISTINCT)) $DISTINCT
check "ref: no evictions" [ "$(m ref anomalyd_series_evictions_total)" = 0 ]

dump ref || fail "ref: model export: $(cat "$KT_WORK/ref.export.log")"
dump churn || fail "churn: model export: $(cat "$KT_WORK/churn.export.log")"
cat "$KT_WORK/ref.export.log" "$KT_WORK/churn.export.log" | sed 's/^/# /' >&2
check_models ref churn $DISTINCT "models"
# One key in the middle, seen 3 times, so evicted and resumed twice in churn.
mid=$(grep -h '^{"id":"d0100000"' "$KT_WORK/ref.models" "$KT_WORK/churn.models")
kt_log "d0100000: $(echo $mid)"
check "d0100000: n = 3 in both runs" [ "$(grep -c '"n":3,' <<<"$mid")" = 2 ]
check "alerts: churn's equal ref's, id for id and field for field" alerts_equal ref churn

# Under AddressSanitizer freed memory waits in its quarantine (256 MB), so
# memory only grows with churn there: the figures are printed, not checked.
if ldd "$KT_BIN" 2>/dev/null | grep libasan >/dev/null; then # no -q: with pipefail, its early exit would fail ldd (SIGPIPE)
  rss_flat churn || true
  kt_log "churn: RSS not checked under AddressSanitizer (its quarantine keeps freed memory)"
else
  check "churn: anonymous RSS flat while the key space grows" rss_flat churn
fi
if rss_flat ref; then
  kt_log "ref: the same check passes (no growth seen)"
else
  kt_log "ref: the same check fails (its RSS grows with the key space)"
fi
kt_log "at the end (records VmRSS RssAnon RssFile, kB): ref $(tail -1 "$KT_WORK/ref.rss");" \
  "churn $(tail -1 "$KT_WORK/churn.rss")"

# Negative control (a): the store locked, as by a running daemon: the export
# fails, says why, and has only the live series, which the comparison catches.
flock -n -E 99 "$KT_WORK/churn.state/evicted.mdb" "$KT_BIN" model export -c "$KT_CFG" \
  --set state.dir="$KT_WORK/churn.state" --output "$KT_WORK/locked.models" 9>&- \
  2>"$KT_WORK/locked.export.log"
rc=$?
sort -o "$KT_WORK/locked.models" "$KT_WORK/locked.models"
sed 's/^/# control (a): /' "$KT_WORK/locked.export.log" >&2
check "control (a): export with the store locked exits 1 ($rc)" [ "$rc" = 1 ]
check "control (a): and says the store is in use" \
  grep -q "evicted.mdb: in use .*(locked).*not exported" "$KT_WORK/locked.export.log"
if models_equal ref locked $DISTINCT; then
  fail "control (a): the comparison did not catch the missing evicted series"
else
  ok "control (a): the model comparison catches it ($(count_lines "$KT_WORK/locked.models") models)"
fi

# Negative control (b): no store (state.dir=""), nothing resumes.
run nostore gnostore finished --set limits.max_series=$MAX_SERIES --set state.dir=
check "control (b): nothing resumed ($(m nostore anomalyd_series_resumed_total))" \
  [ "$(m nostore anomalyd_series_resumed_total)" = 0 ]
if alerts_equal ref nostore; then
  fail "control (b): the alert comparison did not catch the lost models"
else
  ok "control (b): the alert comparison catches the lost models"
fi

# ---- phase 2: 1 s tumbling windows ----------------------------------------------
BAND=6000 SHIFT=2000 TICKS=25
N=$((BAND * TICKS))
DISTINCT=$((SHIFT * (TICKS - 1) + BAND))
TW=(--set windows.tumbling.size=1s)
kt_broker sensor-raw:4 dlq:1
gen $BAND $SHIFT $TICKS 11 >"$KT_WORK/data2.tsv"
produce "$KT_WORK/data2.tsv" || { fail "produce"; cat "$KT_WORK/produce.log"; }
wait_for 30 topic_has sensor-raw $N || fail "records produced"
# An hour later on each partition: the watermark passes every open window.
for p in 0 1 2 3; do
  printf 'end-%d\t{"id":"end-%d","ts":%d,"temp":20}\n' $p $p $((1795168800000 + 3600000)) \
    >"$KT_WORK/end.tsv"
  produce "$KT_WORK/end.tsv" -p $p
done
wait_for 30 topic_has sensor-raw $((N + 4)) || fail "end records produced"
check "the broker kept every record" kept_all
kt_log "phase 2: $N records, $DISTINCT keys, 1 s tumbling windows"

run tref gtref windows_done "${TW[@]}" --set state.checkpoint_interval=3s
run tchurn gtchurn windows_done "${TW[@]}" --set limits.max_series=$MAX_SERIES
counts tchurn $((N + 4 - MAX_SERIES)) $((N - DISTINCT)) $DISTINCT
check "tref: no late points" [ "$(m tref anomalyd_late_points_total)" = 0 ]
dump tref "${TW[@]}" || fail "tref: model export: $(cat "$KT_WORK/tref.export.log")"
dump tchurn "${TW[@]}" || fail "tchurn: model export: $(cat "$KT_WORK/tchurn.export.log")"
cat "$KT_WORK/tref.export.log" "$KT_WORK/tchurn.export.log" | sed 's/^/# /' >&2
check_models tref tchurn $DISTINCT "tumbling: models"
check "tumbling: alerts equal ref's, id for id and field for field" alerts_equal tref tchurn
# The same state under other window settings: nothing exported, and said so.
dump tchurn
check "export under other window settings: no models ($(count_lines "$KT_WORK/tchurn.models"))" \
  [ "$(count_lines "$KT_WORK/tchurn.models")" = 0 ]
check "export under other window settings: reported for files and evicted series" \
  grep -q "evicted series written under other window/model settings, left out" \
  "$KT_WORK/tchurn.export.log"

kt_done
