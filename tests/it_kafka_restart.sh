#!/usr/bin/env bash
# Integration: kill -9 mid-stream and restart with the same group (at-least-once).
#   2a. killed before its first offset commit (commit and checkpoint intervals
#       10 min): the restart re-reads everything; every expected alert
#       arrives, a re-emitted id carries the identical alert
#   2b. killed after offsets were committed (both intervals 500 ms): the
#       restart resumes from them (and from state.dir's checkpoints);
#       still every expected alert id must arrive (none skipped), duplicates
#       identical, and no alert the reference does not expect
#   it_kafka_restart.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK

SIM=(--format sensor --count 20000 --devices 20 --seed 7 --anomaly-rate 0.003)
kt_seed "$W/data.jsonl" "$W/expected"

# crash_restart NAME INTERVAL_MS: 20000 records produced at 2500/s
# while daemon NAME.1 runs; kill -9 once about half the alerts are out;
# NAME.2 (same group) finishes the job.
crash_restart() {
  local t=$1 commit_ms=$2
  local props=(--set source.kafka.properties.auto.commit.interval.ms="$commit_ms"
    --set state.checkpoint_interval="${commit_ms}ms")
  kt_broker sensor-raw:4 anomalies:4 dlq:1
  kt_daemon "$t.1" "${props[@]}"
  wait_for 30 log_has "$t.1" "\[kafka\] assigned" || fail "$t: the first daemon got no partitions"
  kt_bg "$t.sim" "$KT_BIN" simulate "${SIM[@]}" --brokers "$ADDR" --topic sensor-raw --rate 2500
  # Alerts start once a sensor has 30 readings (600 records), so 2/5 of
  # them are out at about half the records.
  if ! wait_for 30 topic_has anomalies $((n_exp * 2 / 5)); then
    fail "$t: only $(topic_count anomalies) alerts before the kill"
  fi
  kt_signal "$t.1" KILL
  kt_wait_exit "$t.1" 10
  kt_log "$t: killed (exit $(kt_rc "$t.1")) with $(topic_count sensor-raw) records in," \
    "$(topic_count anomalies) alerts out"
  kt_daemon "$t.2" "${props[@]}"
  kt_wait_exit "$t.sim" 30 || fail "$t: the simulator did not finish"
  # Done when every expected id is out; or, to fail fast, once the restarted
  # daemon has its partitions and no alert came for 5 s.
  settle_reset anomalies
  wait_for 60 eval 'topic_has_ids anomalies "$W/expected" ||
    { log_has "$t.2" "\[kafka\] assigned" && settled anomalies 5; }'
  if topic_has_ids anomalies "$W/expected"; then
    ok "$t: every expected alert id arrived after the restart"
  else
    fail "$t: not every expected alert id arrived after the restart"
  fi
  kt_signal "$t.2" TERM
  if kt_wait_exit "$t.2" 10 && [ "$(kt_rc "$t.2")" = 0 ]; then
    ok "$t: the restarted daemon stops on SIGTERM with exit 0"
  else
    fail "$t: the restarted daemon: SIGTERM -> exit $(kt_rc "$t.2")"
  fi
  local n2
  n2=$(sed -n 's/.*stopped: \([0-9]*\) records consumed.*/\1/p' "$W/$t.2.log")
  if [ "$commit_ms" -ge 60000 ]; then
    check "$t: the restart re-read all 20000 records (it read ${n2:-?})" [ "${n2:-0}" -eq 20000 ]
  else
    check "$t: the restart resumed mid-stream (it read ${n2:-?} of 20000 records)" \
      eval '[ "${n2:-0}" -gt 0 ] && [ "${n2:-0}" -lt 20000 ]'
  fi
  consume anomalies "$W/$t.topic.json"
  check "$t: at least once, duplicates identical, nothing unexpected" \
    check_at_least_once "$W/$t.topic.json" "$W/expected"
  kt_broker_stop
}

crash_restart "kill-9 before the first commit" 600000
crash_restart "kill-9 after commits" 500

kt_done
