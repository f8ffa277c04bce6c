#!/usr/bin/env bash
# Integration (issue 17, item 18): anomalyd_checkpoint_age_seconds says how
# long the state has been waiting to be saved, so an idle topic is not stale
# (the gauge stays under about one checkpoint interval), while state that is
# not saved (here: an interval of an hour while records flow) ages.
#   it_ckpt_age.sh ANOMALYD SOURCE_DIR
set -uo pipefail
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK
kt_broker sensor-raw:1 anomalies:1 dlq:1

port_of() { sed -n 's/.*serving \/metrics.*(port \([0-9]*\)).*/\1/p' "$W/$1.log" | head -1; }
metric() { # NAME PORT: the gauge's value, "" when absent
  curl -s -m 2 "http://127.0.0.1:$2/metrics" | awk -v n="$1" '$1 == n { print int($2) }'
}
produce() { # N FIRST_TS: N records of sensor s1 into sensor-raw
  /usr/bin/python3 -c 'import sys
n, t0 = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    print("{\"id\":\"s1\",\"ts\":%d,\"temp\":%d}" % (t0 + i * 1000, 20 + i % 3))' "$1" "$2" |
    kcat -P -b "$ADDR" -t sensor-raw 9>&-
}

# 1. Checkpoints every second; records, then 8 s of nothing.
kt_daemon a --set state.checkpoint_interval=1s
P=$(port_of a)
produce 50 1700000000000
check "a: checkpoints taken" wait_for 20 eval \
  'curl -s "http://127.0.0.1:$P/metrics" | grep -q "^anomalyd_checkpoints_total{result=\"ok\"} [1-9]"'
sleep 8
age=$(metric anomalyd_checkpoint_age_seconds "$P")
check "a: idle for 8 s, the age stays within an interval or two (age $age)" \
  eval '[ -n "$age" ] && [ "$age" -le 2 ]'
kt_signal a TERM
kt_wait_exit a 15

# 2. Checkpoints every hour: the state changes and is not saved, so it ages.
kt_daemon b --set state.checkpoint_interval=1h --set source.kafka.group=g2
P=$(port_of b)
sleep 1
produce 50 1700001000000
wait_for 20 eval 'curl -s "http://127.0.0.1:$P/metrics" | grep -q "^anomalyd_points_total [1-9]"'
sleep 5
age=$(metric anomalyd_checkpoint_age_seconds "$P")
check "b: unsaved state for 5 s ages (age $age)" eval '[ -n "$age" ] && [ "$age" -ge 4 ]'
kt_signal b TERM
kt_wait_exit b 15
kt_done
