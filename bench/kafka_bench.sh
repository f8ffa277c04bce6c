#!/usr/bin/env bash
# kafka_bench.sh - anomalyd end to end on Kafka (consume, decode, window, score,
# publish), side by side with `kcat -C` consuming the same records to
# /dev/null (the raw consume rate: our ceiling) and with
# bench/py_welford_consumer.py, the same job written with confluent_kafka.
# Then the latency from a window's close to its alert's delivery report at a
# steady rate. Not a test: run by hand, figures go to docs/benchmarks.md.
#
#   bench/kafka_bench.sh [BUILD_DIR]            (default: build)
#
# Everything runs on loopback against <build>/tests/ad_mockbroker (librdkafka's
# mock cluster), in about 3.5 minutes on 2 cores. The records are scenario C
# (`anomalyd simulate --format sensor`, keyed by sensor), the same seed for
# every contender, followed by one sentinel record per partition (a known
# sensor reading 999999, so that every contender flags it): a contender is done
# when it has handled the sentinel of every partition.
#
# Two ways of giving the records to each contender, each on a topic of its own
# (or a consumer group of its own); all three consume as a consumer group:
#   stream   the contender is subscribed and assigned first; then the producer
#            streams the records through the mock (AD_KB_STREAM_RATE) while it
#            consumes: a contender faster than the producer gets its rate.
#            Time: producer start -> the last sentinel handled.
#   backlog  the records were produced beforehand (the mock keeps ~5 MB per
#            partition, so PARTITIONS must hold them: 32 x 31k records do).
#            Time: partitions assigned -> the last sentinel handled.
#            This is where kcat shows the raw consume rate.
# "assigned" and "handled" are the same kind of event for all three, stamped
# by this script as the contender writes it (each line read from a pipe the
# moment it is written, stamped with $EPOCHREALTIME: microseconds, no
# polling): kcat's "rebalanced ... assigned" and "... revoked" (written as -c
# COUNT is reached) lines, the Python script's "assigned" and "done" lines,
# anomalyd's "assigned" log lines and the alert-log line of its last sentinel
# alert (the alert log is a FIFO here, one write() per line; it used to be
# followed with tail -F, which polls once a second and put every anomalyd
# time on a whole second).
#
# The contenders: kcat, anomalyd and python with their defaults, then
# anomalyd-tuned and python-tuned, the same two with one librdkafka consumer
# property raised (AD_KB_TUNED, see below), to show what that costs them. Each
# contender runs AD_KB_RUNS times, interleaved; the table has the best run and
# every run's rate, and the CPU seconds each contender used (all its threads).
# Latency: anomalyd alone on a fresh topic fed at AD_KB_LAT_RATE records/s
# for AD_KB_LAT_SECONDS; the percentiles are the daemon's own, logged at
# SIGTERM. Twice, alternately: with the producer's linger.ms at 5 (the setting
# before, the baseline) and with the default (1 ms now), and the ratio.
# Idle CPU: anomalyd assigned every partition of a topic that gets nothing,
# for AD_KB_IDLE_SECONDS (10): its CPU time over that time, next to kcat's
# doing the same (the baseline: a librdkafka consumer that does nothing
# else).
#
# Environment (defaults): AD_KB_RECORDS (1000000), AD_KB_PARTITIONS (32),
# AD_KB_DEVICES (1000), AD_KB_SEED (7), AD_KB_STREAM_RATE (records/s of the
# producer in stream mode, 1000000: as fast as it goes), AD_KB_MODES
# ("stream backlog"), AD_KB_CONTENDERS ("kcat kcat-tuned anomalyd python anomalyd-tuned
# python-tuned"), AD_KB_RUNS (2), AD_KB_TUNED (queued.min.messages=1000000),
# AD_KB_LAT_RATE (20000), AD_KB_LAT_SECONDS (25), AD_KB_IDLE_SECONDS (10),
# AD_KB_SKIP_LAT=1 / AD_KB_SKIP_IDLE=1 skip those parts, AD_KB_KEEP=1 keeps
# the work directory (logs of every process).
set -euo pipefail

BUILD=$(cd "${1:-build}" 2> /dev/null && pwd) ||
    { echo "kafka_bench: no build directory '${1:-build}' (usage: $0 [BUILD_DIR])" >&2; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
AD=$BUILD/anomalyd
MOCK=$BUILD/tests/ad_mockbroker
PYC=$HERE/py_welford_consumer.py
CFG=$HERE/../config/examples/scenario-c-sensors.yaml
PY=/usr/bin/python3 # Debian's, with python3-confluent-kafka

RECORDS=${AD_KB_RECORDS:-1000000}
PARTS=${AD_KB_PARTITIONS:-32}
DEVICES=${AD_KB_DEVICES:-1000}
SEED=${AD_KB_SEED:-7}
STREAM_RATE=${AD_KB_STREAM_RATE:-1000000}
MODES=${AD_KB_MODES:-stream backlog}
CONTENDERS=${AD_KB_CONTENDERS:-kcat kcat-tuned anomalyd python anomalyd-tuned python-tuned}
RUNS=${AD_KB_RUNS:-2}
# librdkafka (before 2.4) stops fetching while the local queue holds more than
# queued.min.messages (100000) and looks again only when its broker thread
# wakes, up to 1 s later: a consumer slower than the fetcher idles in between.
# The -tuned contenders raise the threshold above the whole run.
TUNED=${AD_KB_TUNED:-queued.min.messages=1000000}
LAT_RATE=${AD_KB_LAT_RATE:-20000}
LAT_SECONDS=${AD_KB_LAT_SECONDS:-25}
IDLE_SECONDS=${AD_KB_IDLE_SECONDS:-10}
TIMEOUT=${AD_KB_TIMEOUT:-120} # seconds, for any one contender
TOTAL=$((RECORDS + PARTS))    # what each contender consumes
SENTINEL=999999

die() {
    echo "kafka_bench: $*" >&2
    exit 1
}

for c in $CONTENDERS; do
    case $c in
    kcat | anomalyd | python | kcat-tuned | anomalyd-tuned | python-tuned) ;;
    *) die "unknown contender '$c' in AD_KB_CONTENDERS" ;;
    esac
done
for m in $MODES; do
    case $m in stream | backlog) ;; *) die "unknown mode '$m' in AD_KB_MODES" ;; esac
done

for f in "$AD" "$MOCK"; do
    [ -x "$f" ] || die "$f not found: build first (cmake --build $BUILD)"
done
command -v kcat > /dev/null || die "kcat not found (apt-get install kcat)"
if ! "$PY" -c 'import confluent_kafka' 2> /dev/null; then
    echo "kafka_bench: installing python3-confluent-kafka" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q python3-confluent-kafka > /dev/null ||
        { apt-get update -q > /dev/null && apt-get install -y -q python3-confluent-kafka > /dev/null; } ||
        die "could not install python3-confluent-kafka"
fi

# busy_pct: how busy the CPUs are over 1 s (everything on the machine).
busy_pct() {
    local a b
    read -r -a a < /proc/stat
    sleep 1
    read -r -a b < /proc/stat
    awk -v u="$((b[1] + b[2] + b[3] + b[6] + b[7] + b[8] - a[1] - a[2] - a[3] - a[6] - a[7] - a[8]))" \
        -v i="$((b[4] + b[5] - a[4] - a[5]))" 'BEGIN { printf "%.0f", 100 * u / (u + i) }'
}
BUSY_BEFORE=$(busy_pct)
[ "$BUSY_BEFORE" -le 10 ] ||
    echo "kafka_bench: warning: the CPUs were $BUSY_BEFORE% busy before the start: figures will be low and noisy" >&2

WORK=$(mktemp -d /tmp/kafka_bench.XXXXXX)
cleanup() {
    local p
    exec 9>&- 2> /dev/null || true # the mock exits when its stdin closes
    for p in $(jobs -p); do        # only what this script started and still runs
        kill -TERM "$p" 2> /dev/null || true
    done
    wait 2> /dev/null || true
    if [ "${AD_KB_KEEP:-0}" = 1 ]; then
        echo "kafka_bench: logs kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A sleep that forks nothing (the polling loops below stay off the CPU).
exec {NAPFD}<> <(:)
nap() { read -r -t "$1" -u "$NAPFD" _ || true; }

# Prefixes each line with the wall-clock time it was read at.
stamp() {
    local l
    while IFS= read -r l; do
        printf '%s %s\n' "$EPOCHREALTIME" "$l"
    done
}

# wait_lines FILE PATTERN COUNT PID: until FILE has COUNT lines matching PATTERN.
wait_lines() {
    local deadline=$((SECONDS + TIMEOUT)) n
    while :; do
        n=$(grep -c -- "$2" "$1" 2> /dev/null || true)
        [ "${n:-0}" -ge "$3" ] && return 0
        kill -0 "$4" 2> /dev/null || die "process $4 died while waiting for '$2' in $1"
        [ $SECONDS -lt $deadline ] || die "timed out waiting for '$2' in $1"
        nap 0.02
    done
}

# first_stamp FILE PATTERN / last_stamp FILE PATTERN
first_stamp() { awk -v p="$2" 'index($0, p) { print $1; exit }' "$1"; }
last_stamp() { awk -v p="$2" 'index($0, p) { t = $1 } END { print t }' "$1"; }

# cpu_of PID: user + system CPU seconds of a live process (all its threads).
CLK_TCK=$(getconf CLK_TCK)
cpu_of() {
    awk -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
        "/proc/$1/stat" 2> /dev/null || echo 0
}

# Kills $1 (one of ours) and its children after TIMEOUT seconds unless the
# watchdog is killed first.
watchdog() {
    (
        nap "$TIMEOUT"
        kill -TERM $(cat "/proc/$1/task/$1/children" 2> /dev/null) "$1" 2> /dev/null
    ) &
    WATCHDOG=$!
}

# ---- the mock cluster ----------------------------------------------------------
mkfifo "$WORK/mock.in"
TOPICS=(--topic backlog:"$PARTS" --topic lat-1:"$PARTS" --topic lat-2:"$PARTS"
        --topic idle:"$PARTS" --topic alerts-anomalyd:1 --topic alerts-python:1)
for r in $(seq "$RUNS"); do
    for c in $CONTENDERS; do
        TOPICS+=(--topic "stream-$c-$r:$PARTS")
    done
done
"$MOCK" "${TOPICS[@]}" --addr-file "$WORK/addr" < "$WORK/mock.in" > "$WORK/mock.log" 2>&1 &
MOCK_PID=$!
exec 9> "$WORK/mock.in"
for _ in $(seq 400); do # 20 s: slow on a loaded machine
    [ -s "$WORK/addr" ] && break
    nap 0.05
done
[ -s "$WORK/addr" ] || die "the mock cluster did not start (see $WORK/mock.log)"
BROKERS=$(cat "$WORK/addr")

# ---- the records -----------------------------------------------------------------
# One sentinel per partition: a sensor that the default partitioner (CRC32 of
# the key, as librdkafka's consistent_random) puts in that partition, so its
# model has ~RECORDS/DEVICES points when the sentinel comes.
"$PY" - "$PARTS" "$DEVICES" "$SENTINEL" > "$WORK/sentinels.txt" << 'EOF'
import sys, zlib
parts, devices, value = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for p in range(parts):
    key = next((k for k in ("sim-%d" % i for i in range(devices))
                if zlib.crc32(k.encode()) % parts == p), None)
    if key is None:
        sys.exit("no sensor maps to partition %d: raise AD_KB_DEVICES" % p)
    print('%s\t{"id":"%s","ts":%d,"temp":%s,"hum":50.0}' % (key, key, 1800000000000 + p, value))
EOF

# produce TOPIC RATE: the records, then the sentinels; logs to $WORK/produce-TOPIC.log.
produce() {
    "$AD" simulate --format sensor --brokers "$BROKERS" --topic "$1" --rate "$2" \
        --count "$RECORDS" --devices "$DEVICES" --seed "$SEED" > "$WORK/produce-$1.log" 2>&1 ||
        die "simulate failed: $(cat "$WORK/produce-$1.log")"
    kcat -P -l -b "$BROKERS" -t "$1" -K $'\t' "$WORK/sentinels.txt" >> "$WORK/produce-$1.log" 2>&1 ||
        die "could not produce the sentinels to $1"
}

# ---- the contenders ------------------------------------------------------------------
# start_X TOPIC TAG [tuned] starts contender X (CPID) with its stderr, stamped,
# in $WORK/TAG.err; READY is what its assignment line says and READY_N how many
# there are. finish_X TAG waits for its end and sets T1 (the stamp of its last
# record handled), GOT (records consumed) and ALERTS.

start_kcat() {
    local extra=()
    [ "${3:-}" = tuned ] && extra=(-X "$TUNED")
    /usr/bin/time -f '%U %S' -o "$WORK/$2.time" \
        kcat -C -b "$BROKERS" -G "g-$2" "${extra[@]}" -o beginning -c "$TOTAL" "$1" > /dev/null \
        2> >(stamp > "$WORK/$2.err") &
    CPID=$!
    READY="assigned:" READY_N=1
}
finish_kcat() {
    watchdog "$CPID"
    wait "$CPID" || die "kcat failed (see $WORK/$1.err)"
    kill "$WATCHDOG" 2> /dev/null || true
    nap 0.1 # the stamper's last lines
    # -c: the loop ends at exactly TOTAL messages, then the group is left
    # (the "revoked" line) and kcat exits.
    T1=$(first_stamp "$WORK/$1.err" "revoked:")
    [ -n "$T1" ] || die "kcat did not reach its count (see $WORK/$1.err)"
    GOT=$TOTAL ALERTS=-
    CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/$1.time")
}

start_python() {
    local extra=()
    [ "${3:-}" = tuned ] && extra=(--property "$TUNED")
    "$PY" "$PYC" --brokers "$BROKERS" --topic "$1" --group "g-$2" --alerts-topic alerts-python \
        --count "$TOTAL" "${extra[@]}" > "$WORK/$2.out" 2> >(stamp > "$WORK/$2.err") &
    CPID=$!
    READY="assigned" READY_N=1
}
finish_python() {
    watchdog "$CPID"
    wait "$CPID" || die "the Python contender failed (see $WORK/$1.err)"
    kill "$WATCHDOG" 2> /dev/null || true
    nap 0.1
    T1=$(first_stamp "$WORK/$1.err" "done:")
    [ -n "$T1" ] || die "the Python contender did not finish (see $WORK/$1.err)"
    read -r GOT ALERTS CPU < <("$PY" -c 'import json,sys; d = json.load(sys.stdin)
print(d["records"], d["alerts"], "%.2f" % d["cpu_seconds"])' < "$WORK/$1.out")
}

start_anomalyd() {
    local extra=()
    [ "${3:-}" = tuned ] && extra=(--set "source.kafka.properties.$TUNED")
    [ "${3:-}" = linger5 ] && extra=(--set source.kafka.properties.linger.ms=5)
    # The alert log is where the sentinels show: a FIFO, each line stamped as
    # it is written (read until the daemon closes it at exit).
    rm -f "$WORK/$2.alerts.jsonl"
    mkfifo "$WORK/$2.alerts.jsonl"
    stamp < "$WORK/$2.alerts.jsonl" > "$WORK/$2.sent" &
    SENT_PID=$!
    env -u ANOMALYD_MODEL "$AD" -c "$CFG" --set source.kafka.brokers="$BROKERS" \
        --set "source.kafka.topics=[$1]" --set source.kafka.group="g-$2" \
        --set source.kafka.start=earliest --set sinks.kafka.topic=alerts-anomalyd \
        --set sinks.alert_log.path="$WORK/$2.alerts.jsonl" --set log.level=info \
        --set state.dir="$WORK/state-$2" --set http.listen=127.0.0.1:0 \
        "${extra[@]}" > /dev/null 2> >(stamp > "$WORK/$2.err") &
    CPID=$!
    READY="] assigned " READY_N=$PARTS
}
finish_anomalyd() {
    local pat="\"value\":$SENTINEL," n parts
    wait_lines "$WORK/$1.sent" "$pat" "$PARTS" "$CPID" # the stamps are the reader's, not this poll's
    T1=$(last_stamp "$WORK/$1.sent" "$pat")
    n=$(grep -c -F -- "$pat" "$WORK/$1.sent" || true)
    CPU=$(cpu_of "$CPID")
    kill -TERM "$CPID" 2> /dev/null || true
    wait "$CPID" || die "anomalyd failed (see $WORK/$1.err)"
    wait "$SENT_PID" || true # EOF: the daemon closed the FIFO
    nap 0.1
    [ "$n" -eq "$PARTS" ] || die "anomalyd flagged $n of $PARTS sentinels (see $WORK/$1.err)"
    parts=$(grep -F -- "$pat" "$WORK/$1.sent" | sed -n 's/.*"partition":\([0-9]*\).*/\1/p' |
        sort -u | wc -l)
    [ "$parts" -eq "$PARTS" ] || die "the sentinels came from $parts partitions, not $PARTS"
    GOT=$(sed -n 's/.*stopped: \([0-9]*\) records consumed.*/\1/p' "$WORK/$1.err")
    ALERTS=$(grep -c . "$WORK/$1.sent" || true)
}

# run RUN MODE CONTENDER: one contender on one copy of the records; appends
# "run mode contender records seconds alerts cpu mock_cpu producer_seconds" to $WORK/results.
run() {
    local r=$1 mode=$2 c=$3 topic tag=$1-$2-$3 t0 s prod=- m0 m1
    if [ "$mode" = stream ]; then topic=stream-$c-$r; else topic=backlog; fi
    case $c in
    *-tuned) "start_${c%-tuned}" "$topic" "$tag" tuned ;;
    *) "start_$c" "$topic" "$tag" ;;
    esac
    wait_lines "$WORK/$tag.err" "$READY" "$READY_N" "$CPID"
    m0=$(cpu_of "$MOCK_PID")
    if [ "$mode" = stream ]; then
        t0=$EPOCHREALTIME
        produce "$topic" "$STREAM_RATE"
        prod=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
    else
        t0=$(first_stamp "$WORK/$tag.err" "$READY")
    fi
    "finish_${c%-tuned}" "$tag"
    m1=$(cpu_of "$MOCK_PID")
    [ "$GOT" -eq "$TOTAL" ] || die "$c ($mode) consumed $GOT records, not $TOTAL"
    s=$(awk -v a="$t0" -v b="$T1" 'BEGIN { printf "%.3f", b - a }')
    local mock
    mock=$(awk -v a="$m0" -v b="$m1" 'BEGIN { printf "%.2f", b - a }')
    echo "$r $mode $c $GOT $s $ALERTS $CPU $mock $prod" >> "$WORK/results"
    printf 'kafka_bench: run %d %-7s %-15s %8d records in %7.3f s, %s alerts, %s CPU s (mock %s)%s\n' \
        "$r" "$mode" "$c" "$GOT" "$s" "$ALERTS" "$CPU" "$mock" \
        "$([ "$prod" = - ] || echo ", producer done in $prod s")" >&2
}

echo "kafka_bench: mock cluster at $BROKERS; $RECORDS records + $PARTS sentinels, $PARTS" \
    "partitions, $DEVICES sensors; $RUNS run(s) of: $MODES x $CONTENDERS" >&2
: > "$WORK/results"
case " $MODES " in *" backlog "*) produce backlog 1000000 ;; esac
for r in $(seq "$RUNS"); do
    for mode in $MODES; do
        for c in $CONTENDERS; do
            run "$r" "$mode" "$c"
        done
    done
done

# ---- latency at a steady rate ----------------------------------------------------------
# lat_run TOPIC TAG [linger5]: LAT_RATE records/s for LAT_SECONDS s; sets LAT (the
# daemon's "p50=... p99=... max=... n=..." line) and LAT_GOT.
lat_run() {
    start_anomalyd "$1" "$2" "${3:-}"
    wait_lines "$WORK/$2.err" "$READY" "$READY_N" "$CPID"
    "$AD" simulate --format sensor --brokers "$BROKERS" --topic "$1" --rate "$LAT_RATE" \
        --count $((LAT_RATE * LAT_SECONDS)) --devices "$DEVICES" --seed $((SEED + 1)) \
        > "$WORK/produce-$1.log" 2>&1 || die "simulate failed (see $WORK/produce-$1.log)"
    nap 1
    kill -TERM "$CPID"
    wait "$CPID" || die "anomalyd failed (see $WORK/$2.err)"
    wait "$SENT_PID" || true
    nap 0.1
    LAT=$(grep -o 'p50=.*' "$WORK/$2.err" || echo "no alerts")
    LAT_GOT=$(sed -n 's/.*stopped: \([0-9]*\) records consumed.*/\1/p' "$WORK/$2.err")
}
ms_of() { sed -n "s/.*$1=\([0-9.]*\)ms.*/\1/p" <<< "$2"; } # KEY LATLINE
LAT_LINE="skipped" LAT_BASE="skipped" LAT_RATIO=""
if [ "${AD_KB_SKIP_LAT:-0}" != 1 ]; then
    echo "kafka_bench: latency: $LAT_RATE records/s for $LAT_SECONDS s, linger.ms 5 then 1" >&2
    lat_run lat-1 latency-linger5 linger5
    LAT_BASE=$LAT
    lat_run lat-2 latency
    LAT_LINE="$LAT ($LAT_GOT consumed)"
    LAT_RATIO=$(awk -v a="$(ms_of p50 "$LAT")" -v b="$(ms_of p50 "$LAT_BASE")" \
        -v c="$(ms_of p99 "$LAT")" -v d="$(ms_of p99 "$LAT_BASE")" \
        'BEGIN { if (b > 0 && d > 0) printf "p50 ratio %.3f, p99 ratio %.3f (now / linger.ms 5)", a / b, c / d }')
fi

# ---- idle CPU -------------------------------------------------------------------------------
# idle_cpu PID: its CPU seconds over IDLE_SECONDS, as % of one core.
idle_cpu() {
    local c0 c1
    c0=$(cpu_of "$1")
    nap "$IDLE_SECONDS"
    c1=$(cpu_of "$1")
    awk -v a="$c0" -v b="$c1" -v s="$IDLE_SECONDS" 'BEGIN { printf "%.2f", 100 * (b - a) / s }'
}
IDLE_LINE="skipped"
if [ "${AD_KB_SKIP_IDLE:-0}" != 1 ]; then
    echo "kafka_bench: idle: $IDLE_SECONDS s assigned to an empty topic" >&2
    start_anomalyd idle idle
    wait_lines "$WORK/idle.err" "$READY" "$READY_N" "$CPID"
    nap 2 # past the assignment's restores and first fetches
    IDLE_AD=$(idle_cpu "$CPID")
    kill -TERM "$CPID"
    wait "$CPID" || die "anomalyd failed (see $WORK/idle.err)"
    wait "$SENT_PID" || true
    kcat -C -b "$BROKERS" -G g-idle-kcat idle > /dev/null 2> >(stamp > "$WORK/idle-kcat.err") &
    KPID=$!
    wait_lines "$WORK/idle-kcat.err" "assigned:" 1 "$KPID"
    nap 2
    IDLE_KC=$(idle_cpu "$KPID")
    kill -TERM "$KPID" 2> /dev/null || true
    wait "$KPID" 2> /dev/null || true
    IDLE_LINE="anomalyd $IDLE_AD% of a core, kcat (the baseline) $IDLE_KC%"
fi

# ---- the table ---------------------------------------------------------------------------
echo
awk -v lat="$LAT_LINE" -v latrate="$LAT_RATE" -v latsecs="$LAT_SECONDS" -v latbase="$LAT_BASE" \
    -v latratio="$LAT_RATIO" -v idle="$IDLE_LINE" -v idlesecs="$IDLE_SECONDS" -v tuned="$TUNED" '
    # run mode contender records seconds alerts cpu mock_cpu producer_seconds
    {
        k = $2 SUBSEP $3
        if (!(k in best)) { order[++nk] = k; runs[k] = "" }
        if ($3 ~ /-tuned$/) tuned_ran = 1
        rate = $4 / $5
        runs[k] = runs[k] (runs[k] == "" ? "" : " ") sprintf("%.0f", rate / 1000)
        if (!(k in best) || rate > best[k]) {
            best[k] = rate; n[k] = $4; s[k] = $5; al[k] = $6; cpu[k] = $7; mock[k] = $8; pr[k] = $9
        }
    }
    END {
        printf "%-8s %-15s %8s %8s %10s %7s %6s %6s %7s %6s  %s\n", "mode", "contender", "records",
               "seconds", "records/s", "vs kcat", "alerts", "cpu s", "us/rec", "mock s",
               "runs (k rec/s)"
        for (i = 1; i <= nk; i++) {
            k = order[i]
            split(k, p, SUBSEP)
            kc = best[p[1], "kcat"]
            printf "%-8s %-15s %8d %8.3f %10.0f %7s %6s %6.2f %7.2f %6.2f  %s\n", p[1], p[2], n[k],
                   s[k], best[k], kc ? sprintf("%.2f", best[k] / kc) : "-", al[k], cpu[k],
                   cpu[k] * 1e6 / n[k], mock[k], runs[k]
        }
        for (i = 1; i <= nk; i++)
            if (pr[order[i]] != "-") {
                split(order[i], p, SUBSEP)
                prods = prods sprintf(" %s %.3f s;", p[2], pr[order[i]])
            }
        if (prods != "")
            print "(stream: the producer was done in" prods " the best run of each)"
        print ""
        for (i = 1; i <= nk; i++) {
            split(order[i], p, SUBSEP)
            m = p[1]
            if (seen[m]++) continue
            for (t = 0; t < 2; t++) {
                sfx = t ? "-tuned" : ""
                a = best[m, "anomalyd" sfx]; py = best[m, "python" sfx]; kc = best[m, "kcat"]
                if (!a || !py || !kc) continue
                printf "%-8s anomalyd%s/python%s = %.2f (target >= 3: %s), anomalyd%s/kcat = %.2f (target >= 0.6: %s)\n",
                       m, sfx, sfx, a / py, (a / py >= 3) ? "met" : "MISSED", sfx, a / kc,
                       (a / kc >= 0.6) ? "met" : "MISSED"
            }
            kt = best[m, "kcat-tuned"]
            for (t = 0; t < 2 && kt; t++) {
                sfx = t ? "-tuned" : ""
                a = best[m, "anomalyd" sfx]
                if (a)
                    printf "%-8s anomalyd%s/kcat-tuned = %.2f (issue 15 goal >= 0.8: %s)\n", m, sfx,
                           a / kt, (a / kt >= 0.8) ? "met" : "MISSED"
            }
        }
        if (tuned_ran)
            print "(-tuned: the consumer runs with the librdkafka property " tuned ")"
        print "(cpu s: the contender process, all threads; mock s: the mock cluster during the same run)"
        printf "latency, window close -> delivery report, at %d records/s for %d s: %s\n",
               latrate, latsecs, lat
        printf "  the same with linger.ms 5 (before; the baseline): %s\n", latbase
        if (latratio != "") print "  " latratio
        printf "idle CPU over %d s, every partition assigned, nothing to read: %s\n", idlesecs, idle
    }' "$WORK/results"
echo "(CPUs busy before the start: $BUSY_BEFORE%, right after the end: $(busy_pct)%; load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg))"
