#!/usr/bin/env bash
# Integration: the producer's queue is full -> the daemon pauses consuming,
# retries the blocked alerts, resumes, and loses nothing: a data set with
# many alerts, a producer queue of 5 messages; every expected alert arrives
# exactly once, and the backlog still drains at a useful rate.
#   it_kafka_backpressure.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK

N=6000
SIM=(--format sensor --count "$N" --devices 20 --seed 13 --anomaly-rate 0.05)
kt_seed "$W/data.jsonl" "$W/expected" --min-samples 5

kt_broker sensor-raw:4 anomalies:4 dlq:1
"$KT_BIN" simulate "${SIM[@]}" --brokers "$ADDR" --topic sensor-raw --rate 100000 \
  2>"$W/sim.log" 9>&- || fail "backpressure: simulate could not produce: $(cat "$W/sim.log")"
kt_daemon bp --set source.kafka.properties.queue.buffering.max.messages=5 \
  --set model.welford.min_samples=5
if kt_exited bp; then
  fail "backpressure: librdkafka rejected queue.buffering.max.messages=5: $(cat "$W/bp.log")"
fi
wait_for 30 log_has bp "\[kafka\] assigned" || fail "backpressure: no partitions assigned"
t0=$(date +%s)
if wait_for 90 topic_has anomalies "$n_exp"; then
  ok "backpressure: $n_exp alerts arrived"
else
  fail "backpressure: only $(topic_count anomalies) of $n_exp alerts arrived within 90 s"
fi
secs=$(($(date +%s) - t0))
# Without back-pressure the backlog drains in about a second. A pause should
# last about as long as the producer needs to make room (the daemon retries
# every 50 ms); some 50 pauses here, so at least 500 records/s is a low bar.
check "backpressure: the $N-record backlog drained in $secs s (at least 500 records/s)" \
  [ "$secs" -le $((N / 500)) ]
check "backpressure: the daemon paused consuming ($(log_count bp 'pausing consuming') times)" \
  log_has bp "pausing consuming: producer queue full"
check "backpressure: and resumed ($(log_count bp 'resuming consuming') times)" \
  log_has bp "resuming consuming: producer queue drained"
kt_stop_ok bp "backpressure"
consume anomalies "$W/topic.json"
payloads "$W/topic.json" "$W/topic.alerts"
check "backpressure: the topic's alerts equal the reference's, none lost or doubled" \
  "$KT_PY" "$KT_CMP" "$W/topic.alerts" "$W/expected"
check "backpressure: the alert log holds the same alerts" \
  "$KT_PY" "$KT_CMP" "$W/bp.alerts.jsonl" "$W/expected"
check "backpressure: all $N records consumed, $n_exp alerts delivered, no delivery errors" \
  grep -q "stopped: $N records consumed, $n_exp outputs delivered, 0 delivery errors" "$W/bp.log"
if grep -q "queue.buffering.max.messages" "$W/bp.log"; then
  kt_log "librdkafka on the property: $(grep -m2 "queue.buffering.max.messages" "$W/bp.log")"
fi
kt_broker_stop

kt_done
