#!/usr/bin/env bash
# Scale-out: two instances in one group, each with its own state.dir and the
# shared state topic (state.topic), one killed mid-run. The union of the
# alerts published equals those of one uninterrupted run (same ids, same
# alerts), and every series' final model (n, mean, M2) equals the
# uninterrupted run's, bit for bit.
#
# The records are produced while the group consumes them (rate-limited), so
# that each kill -9 lands while its victim is reading (and has read records
# its newest checkpoint does not cover, which the next owner reads again):
#   b2 starts alone, b1 joins: they share the 4 partitions; kill -9 b1; b2
#   takes b1's partitions and restores them from the state topic (b1's
#   progress is past b2's own checkpoint files of them); b1 restarts (same
#   state.dir) and takes partitions back by cooperative rebalance (b2's revoke
#   writes their state to the topic); kill -9 b2; b1 takes everything, reads
#   to the end and stops: its state.dir then has every partition's checkpoint,
#   some of them never held by b1 but through the state topic.
# The reference run a reads the same records, uninterrupted, afterwards.
# The scale-out instances write their checkpoints in forked children
# (state.checkpoint_fork), the reference on the loop: both ways end equal.
#   it_scaleout.sh ANOMALYD SOURCE_DIR
set -uo pipefail
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
KT_SESSION_MS=3000
N=200000
RATE=4000 # records/s: the production lasts 50 s, the kills need ~20 s of it

kt_broker sensor-raw:4 anomalies:4 dlq:1 sta:2 stb:2
kt_bg sim "$KT_BIN" simulate --brokers "$ADDR" --topic sensor-raw --count $N --devices 40 \
  --seed 57 --anomaly-rate 0.002 --rate $RATE
producing() { ! kt_exited sim; }

# dump NAME: the models of NAME's checkpoints, sorted, for comparison.
dump() {
  "$KT_BIN" model export -c "$KT_CFG" --set state.dir="$KT_WORK/$1.state" \
    --output "$KT_WORK/$1.models" 9>&- 2>>"$KT_WORK/$1.export.log" &&
    sort -o "$KT_WORK/$1.models" "$KT_WORK/$1.models"
}
run_daemon() { # NAME GROUP STATE_TOPIC [args]
  local name=$1 group=$2 st=$3; shift 3
  mkdir -p "$KT_WORK/$name.state"
  rm -f "$KT_WORK/$name.pid" "$KT_WORK/$name.rc"
  kt_daemon "$name" --set source.kafka.group="$group" --set state.dir="$KT_WORK/$name.state" \
    --set state.topic="$st" --set state.checkpoint_interval=100ms \
    --set sinks.alert_log.path="$KT_WORK/$name.alerts" \
    --set source.kafka.properties.statistics.interval.ms=500 "$@"
}
metrics() { # NAME: the running daemon's /metrics
  local port
  port=$(grep -o 'port [0-9]*' "$KT_WORK/$1.log" | tail -1 | cut -d' ' -f2)
  curl -s -m 5 "127.0.0.1:$port/metrics" 2>/dev/null
}
consumed() { # NAME: records read from the partitions NAME holds now
  metrics "$1" | awk '/^anomalyd_records_consumed_total/ { n += $2 } END { print n + 0 }'
}
consumed_ge() { [ "$(consumed "$1")" -ge "$2" ]; } # NAME N
finished() { consumed_ge "$@"; }
# owned NAME: the partitions of sensor-raw NAME holds, by its log (assigned
# minus revoked and lost), sorted, on one line.
owned() {
  awk '/ assigned sensor-raw\[/ || / (revoked|lost) sensor-raw\[/ {
         match($0, /sensor-raw\[[0-9]+\]/); p = substr($0, RSTART + 11, RLENGTH - 12)
         if ($0 ~ / assigned /) own[p] = 1; else delete own[p] }
       END { for (p in own) printf "%s\n", p }' "$KT_WORK/$1.log" 2>/dev/null | sort -n | paste -sd' '
}
owns_some() { [ -n "$(owned "$1")" ]; }
owns_all() { [ "$(owned "$1")" = "0 1 2 3" ]; }
log_after() { tail -n +"$(($2 + 1))" "$KT_WORK/$1.log"; } # NAME LINES: the log past LINES
# restored_ok NAME LINES PARTS: past line LINES of NAME's log, each of PARTS
# was restored from stb, and at least one of them with series > 0. (A
# partition is logged as assigned before it is restored: wait for this.)
restored_ok() {
  local name=$1 from=$2 p line nonzero=0; shift 2
  for p in "$@"; do
    line=$(log_after "$name" "$from" | grep "\[state\] sensor-raw\[$p\]: .* restored from stb" | tail -1)
    [ -n "$line" ] || return 1
    [[ $line =~ \]:\ ([0-9]+)\ series ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] && nonzero=1
  done
  [ "$nonzero" = 1 ]
}
# start_offsets NAME: "P OFFSET" for each partition NAME restored last, by its
# log: where it started reading P (the state topic's marker, or its own
# checkpoint file's offset when that is newer; -1: neither had P).
start_offsets() {
  awk '/\[state\] sensor-raw\[[0-9]+\]: .* restored from .* resuming at offset/ ||
       /\[state\] restored .* series of sensor-raw\[[0-9]+\] from .* resuming at offset/ {
         match($0, /sensor-raw\[[0-9]+\]/); p = substr($0, RSTART + 11, RLENGTH - 12); o = $NF + 0
         if ($0 ~ / restored from /) off[p] = o; else if (o > off[p]) off[p] = o }
       END { for (p in off) print p, off[p] }' "$KT_WORK/$1.log"
}
# positions NAME: "P OFFSET" for each partition NAME holds: how far it has
# read it (its start offset, -1 taken as 0, plus the records read since).
positions() {
  metrics "$1" | awk -v starts="$(start_offsets "$1" | paste -sd,)" '
    BEGIN { n = split(starts, a, ","); for (i = 1; i <= n; i++) { split(a[i], f, " "); s[f[1]] = f[2] < 0 ? 0 : f[2] } }
    /^anomalyd_records_consumed_total/ {
      match($0, /partition="[0-9]+"/); p = substr($0, RSTART + 11, RLENGTH - 12); print p, s[p] + $2 }'
}
# replayed POSITIONS NAME LINES PARTS: how many records NAME, past line LINES
# of its log, resumed PARTS behind POSITIONS (a killed owner's positions).
replayed() {
  local pos=$1 name=$2 from=$3; shift 3
  log_after "$name" "$from" >"$KT_WORK/replay.log"
  awk -v parts="$*" -v pos="$pos" '
    BEGIN { n = split(pos, a, ","); for (i = 1; i <= n; i++) { split(a[i], f, " "); at[f[1]] = f[2] }
            split(parts, q, " "); for (i in q) want[q[i]] = 1 }
    /\[state\] sensor-raw\[[0-9]+\]: .* resuming at offset/ || /\[state\] restored .* series of sensor-raw/ {
      match($0, /sensor-raw\[[0-9]+\]/); p = substr($0, RSTART + 11, RLENGTH - 12); o = $NF + 0
      if ($0 ~ / restored from /) off[p] = o; else if (o > off[p]) off[p] = o }
    END { for (p in want) { r = at[p] - (off[p] < 0 ? 0 : off[p]); t += r
            printf "sensor-raw[%s] read to >= %d, resumed at %d; ", p, at[p], off[p] }
          printf "%d records read again\n", t; print t > replay }' replay="$KT_WORK/replay.n" "$KT_WORK/replay.log"
}
# read_since_ckpt NAME: NAME has written a checkpoint, and read records since
# its newest one (by its metrics, polled: the first call after a checkpoint
# notes it and fails). A checkpoint shows first in the state messages
# acknowledged (its file may take longer), so both counters are watched.
# A kill -9 right after this leaves records read but not checkpointed, which
# the next owner reads again.
RS_CKPT=none RS_READ=0
read_since_ckpt() {
  local m c r
  m=$(metrics "$1")
  c=$(awk '/^anomalyd_checkpoints_total\{result="ok"\}/ { c = $2 }
           /^anomalyd_state_topic_messages_total\{result="ok"\}/ { s = $2 }
           END { if (c != "" && s != "" && c + 0 > 0) print c, s }' <<<"$m")
  r=$(awk '/^anomalyd_records_consumed_total/ { n += $2 } END { print n + 0 }' <<<"$m")
  if [ -z "$c" ] || [ "$c" != "$RS_CKPT" ]; then
    RS_CKPT=$c RS_READ=$r
    return 1
  fi
  [ "$r" -gt "$RS_READ" ]
}
# kill_mid_read NAME: kill -9 NAME right after it read records its newest
# checkpoint does not cover, while the records are still produced (so it has
# not read all of its partitions); sets $pos to its positions then.
kill_mid_read() {
  RS_CKPT=none
  wait_for 30 read_since_ckpt "$1" || fail "$1: did not read past its checkpoint"
  state_metrics_ok "$1" || fail "$1: state topic metrics"
  pos=$(positions "$1" | paste -sd,)
  check "$1 killed mid-run (holds [$(owned "$1")], read past its checkpoint, production running)" producing
  kt_signal "$1" KILL
  kt_wait_exit "$1" 5 || fail "$1: kill -9"
}
# state_metrics_ok NAME [MIN_RESTORED]: state topic messages written, none
# failed, no restore errors (and at least MIN_RESTORED series states restored).
state_metrics_ok() {
  metrics "$1" | awk '
    /^anomalyd_state_topic_messages_total\{result="ok"\}/ { ok = $2 }
    /^anomalyd_state_topic_messages_total\{result="error"\}/ { err = $2; seen++ }
    /^anomalyd_state_topic_restore_errors_total/ { rerr = $2; seen++ }
    /^anomalyd_state_topic_restored_states_total/ { rs = $2 }
    END { printf "# %s: state topic messages ok %d, error %d; %d series states restored, %d restore errors\n",
                 name, ok, err, rs, rerr > "/dev/stderr"
          exit !(seen == 2 && ok > 0 && err == 0 && rerr == 0 && rs >= min) }' name="$1" min="${2:-0}"
}

# 1. Scale-out: b1 and b2 in group gb, while the records are produced. The
# consumer fetches about every 500 ms here; checkpoints every 2 s leave room
# for a kill -9 between a fetch and the next checkpoint.
B_ARGS=(--set state.checkpoint_interval=2s --set state.checkpoint_fork=true)
# b2 starts first and holds every partition until b1 joins, so that b1's
# state.dir never has a checkpoint of b2's partitions: when b1 ends up with
# them, only the state topic can have given it their series.
run_daemon b2 gb stb "${B_ARGS[@]}"
wait_for 30 owns_all b2 || fail "b2: not assigned the partitions"
run_daemon b1 gb stb "${B_ARGS[@]}"
wait_for 30 owns_some b1 || fail "b1: not assigned partitions"
shared() { # b1 and b2 both hold partitions, together all of them, once each
  local b1p b2p
  b1p=$(owned b1) b2p=$(owned b2)
  [ -n "$b1p" ] && [ -n "$b2p" ] &&
    [ "$(printf '%s\n' $b1p $b2p | sort -n | paste -sd' ')" = "0 1 2 3" ]
}
wait_for 30 shared || fail "b1/b2: the partitions are not shared"
b1_parts=$(owned b1)
b2_parts=$(owned b2)
kt_log "b1 holds [$b1_parts], b2 holds [$b2_parts]"
check "b1 and b2 both hold partitions" test -n "$b1_parts" -a -n "$b2_parts"

# 2. kill -9 b1 while it reads.
wait_for 30 consumed_ge b1 3000 || fail "b1: did not read"
kill_mid_read b1
b1_pos=$pos
mv "$KT_WORK/b1.log" "$KT_WORK/b1.log.1"
b2_mark=$(count_lines "$KT_WORK/b2.log")

# b2 takes b1's partitions (after b1's session times out) and restores them
# from the state topic.
wait_for 40 owns_all b2 || fail "b2: did not take b1's partitions (holds [$(owned b2)])"
# shellcheck disable=SC2086
check "b2 restored b1's partitions [$b1_parts] from stb" wait_for 10 restored_ok b2 "$b2_mark" $b1_parts
# b2 held them before b1 joined: the state topic's markers (b1's progress)
# are past b2's own checkpoint files of them, so the topic's state is used.
# from_topic NAME LINES PARTS: past line LINES of NAME's log, each of PARTS
# resumed at the state topic's marker, past NAME's own checkpoint file if any.
from_topic() {
  local name=$1 from=$2 p x y; shift 2
  for p in "$@"; do
    x=$(log_after "$name" "$from" | grep "\[state\] sensor-raw\[$p\]: .* restored from stb" | tail -1 | awk '{ print $NF }')
    y=$(log_after "$name" "$from" | grep "\[state\] restored .* series of sensor-raw\[$p\] from " | tail -1 | awk '{ print $NF }')
    kt_log "$name: sensor-raw[$p] state topic marker at ${x:-none}, own checkpoint file at ${y:-none}"
    [ -n "$x" ] && [ "$x" -gt "${y:--1}" ] || return 1
  done
}
# shellcheck disable=SC2086
check "b2 resumed [$b1_parts] at the state topic's markers, past its own older checkpoints" \
  from_topic b2 "$b2_mark" $b1_parts
log_after b2 "$b2_mark" | grep '\[state\] sensor-raw.*restored from stb' | sed 's/^/# b2: /' >&2
# shellcheck disable=SC2086
kt_log "kill -9 b1: $(replayed "$b1_pos" b2 "$b2_mark" $b1_parts)"
replay1=$(cat "$KT_WORK/replay.n")

# 3. b1 restarts (same state.dir): partitions move back to it; b2's revoke
# writes their state to the topic, b1 restores it from there.
b2_mark=$(count_lines "$KT_WORK/b2.log")
run_daemon b1 gb stb "${B_ARGS[@]}"
wait_for 40 owns_some b1 || fail "b1 (restarted): not assigned partitions"
b2_revoked() { log_after b2 "$b2_mark" | grep -q 'revoked sensor-raw'; }
wait_for 30 b2_revoked || fail "b2: nothing revoked"
b1_parts=$(owned b1)
kt_log "restarted b1 holds [$b1_parts], b2 holds [$(owned b2)]"
# shellcheck disable=SC2086
check "restarted b1 restored [$b1_parts] from stb" wait_for 10 restored_ok b1 0 $b1_parts
# shellcheck disable=SC2086
check "restarted b1 resumed [$b1_parts] at the state topic's markers" from_topic b1 0 $b1_parts
grep '\[state\] sensor-raw.*restored from stb' "$KT_WORK/b1.log" | sed 's/^/# b1: /' >&2
wait_for 30 consumed_ge b1 2000 || fail "restarted b1: did not read"
wait_for 10 consumed_ge b2 1 || fail "b2: did not read"

# 4. kill -9 b2 while it reads; b1 takes everything.
b2_parts=$(owned b2)
kill_mid_read b2
b2_pos=$pos
b1_mark=$(count_lines "$KT_WORK/b1.log")
wait_for 40 owns_all b1 || fail "b1: did not take b2's partitions (holds [$(owned b1)])"
# shellcheck disable=SC2086
check "b1 restored b2's partitions [$b2_parts] from stb" wait_for 10 restored_ok b1 "$b1_mark" $b2_parts
# shellcheck disable=SC2086
check "b1 resumed [$b2_parts] at the state topic's markers" from_topic b1 "$b1_mark" $b2_parts
log_after b1 "$b1_mark" | grep '\[state\] sensor-raw.*restored from stb' | sed 's/^/# b1: /' >&2
# shellcheck disable=SC2086
kt_log "kill -9 b2: $(replayed "$b2_pos" b1 "$b1_mark" $b2_parts)"
replay2=$(cat "$KT_WORK/replay.n")
# Each kill is timed between a fetch and the next checkpoint, but a checkpoint
# can still slip in before the signal lands (rarely, on a loaded machine):
# one of the two is enough for the re-read records and re-emitted alerts to
# be covered below.
check "the new owners read again records the killed ones had read but not checkpointed ($replay1, $replay2)" \
  test "$replay1" -gt 0 -o "$replay2" -gt 0

# 5. The reference: one instance, uninterrupted, over the same records.
wait_for 90 kt_exited sim || fail "simulate did not finish"
check "records produced" test "$(kt_rc sim)" = 0 -a "$(topic_count sensor-raw)" = $N
run_daemon a ga sta --set sinks.kafka.topic=
wait_for 60 finished a $N || fail "run a: did not read $N records"
kt_signal a TERM
kt_wait_exit a 15 && [ "$(kt_rc a)" = 0 ] || fail "run a: clean exit"
dump a

# 6. b1 reads to the end: every alert of a published, lag zero.
covers_a() {
  cat "$KT_WORK"/b1.alerts "$KT_WORK"/b2.alerts >"$KT_WORK/b.alerts" 2>/dev/null
  "$KT_PY" - "$KT_WORK/a.alerts" "$KT_WORK/b.alerts" <<'PY'
import json, sys
a = {json.loads(l)["alert_id"] for l in open(sys.argv[1])}
b = {json.loads(l)["alert_id"] for l in open(sys.argv[2])}
sys.exit(0 if a <= b else 1)
PY
}
lag_zero() { # NAME: lag reported for all 4 partitions, all zero
  metrics "$1" | awk '/^anomalyd_consumer_lag/ { n++; s += $2 } END { exit !(n == 4 && s == 0) }'
}
wait_for 60 covers_a || fail "run b: did not publish every alert"
wait_for 30 lag_zero b1 || fail "run b: lag did not reach zero"
check "b1: state topic messages written, none failed; series restored" state_metrics_ok b1 1
kt_signal b1 TERM
kt_wait_exit b1 15 && [ "$(kt_rc b1)" = 0 ] || fail "b1: clean exit"
# b1 held every partition at the end: its state.dir has all their checkpoints.
check "b1's state.dir has a checkpoint of every partition" \
  test -s "$KT_WORK/b1.state/sensor-raw-0.ckpt" -a -s "$KT_WORK/b1.state/sensor-raw-1.ckpt" \
  -a -s "$KT_WORK/b1.state/sensor-raw-2.ckpt" -a -s "$KT_WORK/b1.state/sensor-raw-3.ckpt"
dump b1

# 7. The comparisons.
cat "$KT_WORK"/b1.alerts "$KT_WORK"/b2.alerts >"$KT_WORK/b.alerts"
"$KT_PY" "$KT_SRC/tests/lib/same_alerts.py" "$KT_WORK/a.alerts" "$KT_WORK/b.alerts" &&
  ok "alerts: the union of b1 and b2 equals the uninterrupted run, id for id, alert for alert" ||
  fail "alerts differ"
# The same on the anomalies topic (b1 and b2 publish there, a does not):
# each message's key is its alert's key, copies of an id are identical.
consume anomalies "$KT_WORK/anomalies.json" || fail "consume anomalies: $(cat "$KT_WORK/anomalies.json.err")"
"$KT_PY" "$KT_SRC/tests/lib/same_alerts.py" "$KT_WORK/a.alerts" "$KT_WORK/anomalies.json" --kcat &&
  ok "anomalies topic: the alerts published by b1 and b2 equal the uninterrupted run's" ||
  fail "anomalies topic differs"
same_models "$KT_WORK/a.models" "$KT_WORK/b1.models" 40
check "no state topic errors in the logs" \
  eval '! grep -h "not restored from the state topic\|state topic flush" "$KT_WORK"/b1.log* "$KT_WORK"/b2.log'
kt_done
