#!/usr/bin/env bash
# Integration (issue 17, item 18): anomalyd_checkpoint_age_seconds says how
# long the state has been waiting to be saved, so an idle topic is not stale
# (the gauge stays under about one checkpoint interval), while state that is
# not saved (here: an interval of an hour while records flow) ages.
#   it_ckpt_age.sh ANOMALYD SOURCE_DIR
set -uo pipefail
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
kt_broker sensor-raw:1 anomalies:1 dlq:1

age() { kt_metric "$1" anomalyd_checkpoint_age_seconds | awk '{ print int($1) }'; } # NAME
produce() { # N FIRST_TS: N records of sensor s1 into sensor-raw
  /usr/bin/python3 -c 'import sys
n, t0 = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    print("{\"id\":\"s1\",\"ts\":%d,\"temp\":%d}" % (t0 + i * 1000, 20 + i % 3))' "$1" "$2" |
    kcat -P -b "$ADDR" -t sensor-raw 9>&-
}

# 1. Checkpoints every second; records, then 8 s of nothing.
kt_daemon a --set state.checkpoint_interval=1s
produce 50 1700000000000
check "a: checkpoints taken" wait_for 20 eval \
  '[ "$(kt_metric a "anomalyd_checkpoints_total{result=\"ok\"}")" -ge 1 ] 2>/dev/null'
sleep 8
age=$(age a)
check "a: idle for 8 s, the age stays within an interval or two (age $age)" \
  eval '[ -n "$age" ] && [ "$age" -le 2 ]'
kt_signal a TERM
kt_wait_exit a 15

# 2. Checkpoints every hour: the state changes and is not saved, so it ages.
kt_daemon b --set state.checkpoint_interval=1h --set source.kafka.group=g2
sleep 1
produce 50 1700001000000
wait_for 20 eval '[ "$(kt_metric b anomalyd_points_total)" -ge 1 ] 2>/dev/null'
sleep 5
age=$(age b)
check "b: unsaved state for 5 s ages (age $age)" eval '[ -n "$age" ] && [ "$age" -ge 4 ]'
kt_signal b TERM
kt_wait_exit b 15
kt_done
