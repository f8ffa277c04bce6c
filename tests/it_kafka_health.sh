#!/usr/bin/env bash
# Integration: restarts and broker health (issue 17, items 3, 17, 22).
#   1. a stop during start-up: SIGTERM at several moments between the
#      subscription and the first assignment exits 0, never SIGABRT
#      (librdkafka before 2.3.0 aborted when a cooperative-sticky consumer
#      was closed before its first assignment: librdkafka issue 4312)
#   2. anomalyd_records_consumed_total{partition} survives a rebalance: after
#      a second member took some partitions, every partition the first one
#      consumed is still exported, and never lower than before
#   3. every broker down: /readyz turns 503 within 4 s (the producer and
#      the consumer report no broker reachable), and 200 again once the
#      brokers are back
#   it_kafka_health.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK

readyz_is() { [ "$(kt_get "$1" /readyz "$W/$1.readyz")" = "$2" ]; } # NAME STATUS
# consumed NAME OUT: "partition count" lines of NAME's consumed counter
consumed() {
  kt_get "$1" /metrics "$W/$1.metrics" >/dev/null
  sed -n 's/^anomalyd_records_consumed_total{topic="sensor-raw",partition="\([0-9]*\)"} \([0-9.e+]*\)$/\1 \2/p' \
    "$W/$1.metrics" | sort -n >"$2"
}

kt_broker sensor-raw:4 anomalies:4 dlq:1

# ---- 1. a stop during start-up ------------------------------------------------------
# stop_at NAME DELAY|join: SIGTERM DELAY seconds after subscribing, or right
# after the JoinGroup response (the group is joined, nothing assigned yet:
# the moment librdkafka 2.0.2's cooperative-sticky assignor aborted on).
aborts=0
stop_at() {
  local n=$1 rc
  kt_daemon "$n" --set source.kafka.group="quick-$n" --set state.dir="$W/state.$n" \
    --set log.level=debug --set source.kafka.properties.debug=cgrp
  if [ "$2" = join ]; then
    wait_for 20 log_has "$n" "JoinGroup response" || kt_log "$n: no JoinGroup response in 20 s"
  else
    sleep "$2"
  fi
  kt_signal "$n" TERM
  kt_wait_exit "$n" 15
  rc=$(kt_rc "$n")
  if [ "$rc" != 0 ]; then
    aborts=$((aborts + 1))
    kt_log "$n: SIGTERM at $2 -> exit $rc: $(grep -m1 -i 'assert' "$W/$n.log")"
  elif log_has "$n" "\[kafka\] assigned"; then
    kt_log "$n: (assigned before the SIGTERM)"
  fi
}
stop_at q0 0
stop_at q1 1
echo "rtt all 500" >&9 # a second between the JoinGroup and the SyncGroup responses
for n in j1 j2 j3; do stop_at "$n" join; done
echo "rtt all 0" >&9
check "stop during start-up: 5 SIGTERMs before the first assignment, all exit 0" \
  [ "$aborts" = 0 ]

# ---- 2. the consumed counter across a rebalance --------------------------------------
for p in 0 1 2 3; do
  for i in $(seq 1 50); do printf '{"id":"d%d","ts":%d,"temp":20}\n' "$p" "$((1700000000000 + i * 1000))"; done \
    >"$W/p$p.jsonl"
  kcat -P -b "$ADDR" -t sensor-raw -p "$p" -l "$W/p$p.jsonl" 9>&- 2>>"$W/kcat.err"
done
kt_daemon a --set state.dir="$W/state.a" --set source.kafka.group=gh
all_consumed() { consumed a "$W/a.before" && [ "$(awk '$2 >= 50' "$W/a.before" | wc -l)" = 4 ]; }
wait_for 30 all_consumed || fail "counter: a did not consume the 200 records ($(tr '\n' ' ' <"$W/a.before"))"
kt_daemon b --set state.dir="$W/state.b" --set source.kafka.group=gh
wait_for 30 log_has b "\[kafka\] assigned" || fail "counter: b got no partitions in 30 s"
wait_for 10 log_has a "\[kafka\] \(revoked\|lost\)" || true
consumed a "$W/a.after"
check "counter: every partition a consumed is still exported after the rebalance, none lower ($(tr '\n' ' ' <"$W/a.after"))" \
  awk 'NR == FNR { before[$1] = $2; next } { after[$1] = $2 }
       END { for (p in before) if (!(p in after) || after[p] < before[p]) exit 1 }' \
  "$W/a.before" "$W/a.after"
kt_stop_ok b "counter: b"

# ---- 3. every broker down ---------------------------------------------------------------
wait_for 30 readyz_is a 200 || fail "readyz: a not ready before the outage ($(cat "$W/a.readyz"))"
echo "down all" >&9
t0=$(date +%s%N)
if wait_for 8 readyz_is a 503; then
  ms=$((($(date +%s%N) - t0) / 1000000))
  kt_log "readyz 503 after $ms ms: $(tr '\n' ' ' <"$W/a.readyz")"
  check "readyz: 503 within 4 s of every broker going down ($ms ms)" [ "$ms" -le 4000 ]
  check "readyz: says no broker is reachable ($(tr '\n' ' ' <"$W/a.readyz"))" \
    grep -q "no broker reachable" "$W/a.readyz"
else
  fail "readyz: still $(tr '\n' ' ' <"$W/a.readyz") 8 s into the outage"
fi
echo "up all" >&9
check "readyz: 200 again once the brokers are back" wait_for 40 readyz_is a 200
kt_stop_ok a "a"
kt_done
