#!/usr/bin/env bash
# Integration: incremental checkpoints across a kill -9.
#   A daemon with state.full_every=1000 (after its first full checkpoint,
#   every round only appends a delta record) reads records produced at
#   2500/s; once it has appended at least three delta records it is killed
#   with SIGKILL, between a delta and any next full checkpoint. A second
#   daemon (same group, same state.dir, state.full_every=3: a compaction of
#   base + log into a new base every third round) restores base + deltas and
#   finishes.
#   No point may be lost or counted twice:
#   - the union of the alerts, duplicates identical, equals the reference's
#     (tests/ref/reference.py through compare_alerts.py), id for id and
#     z-score for z-score;
#   - every series' final model (n, mean, M2) equals, bit for bit, that of
#     one uninterrupted run over the same records with full checkpoints
#     only (state.full_every=1).
#   it_kafka_delta.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK
KT_SESSION_MS=3000
N=20000

SIM=(--format sensor --count $N --devices 20 --seed 11 --anomaly-rate 0.003)
kt_seed "$W/data.jsonl" "$W/expected"

run_daemon() { # NAME GROUP FULL_EVERY
  mkdir -p "$W/${1%.*}.state"
  kt_daemon "$1" --set source.kafka.group="$2" --set state.dir="$W/${1%.*}.state" \
    --set state.checkpoint_interval=200ms --set state.full_every="$3" \
    --set sinks.kafka.topic= --set source.kafka.properties.statistics.interval.ms=500
}
metric() { local v; v=$(kt_metric "$1" "$2"); echo "${v:-0}"; } # NAME FAMILY: 0 when absent
dump() { # STATE OUT: the models of a state.dir, sorted
  "$KT_BIN" model export -c "$KT_CFG" --set state.dir="$1" --output "$2" 9>&- 2>>"$W/export.log" &&
    sort -o "$2" "$2"
}

kt_broker sensor-raw:2 anomalies:2 dlq:1
run_daemon d.1 gd 1000
wait_for 30 log_has d.1 "\[kafka\] assigned" || fail "d.1: no partitions"
kt_bg sim "$KT_BIN" simulate "${SIM[@]}" --brokers "$ADDR" --topic sensor-raw --rate 2500
wait_for 30 eval '[ "$(metric d.1 anomalyd_checkpoint_deltas_total)" -ge 3 ]' ||
  fail "d.1: fewer than 3 incremental checkpoints"
kt_signal d.1 KILL
kt_wait_exit d.1 10
kt_log "d.1 killed after $(topic_count sensor-raw) records in;" \
  "delta logs: $(ls "$W/d.state" | grep -c '\.delta$')"
check "delta logs were left behind by the killed daemon" \
  eval 'ls "$W/d.state"/*.ckpt.delta >/dev/null 2>&1'

run_daemon d.2 gd 3
check "d.2 restored base + delta records" \
  wait_for 30 log_has d.2 "incremental checkpoints applied after it"
kt_wait_exit sim 30 || fail "the simulator did not finish"
lag_zero() {
  kt_get d.2 /metrics "$W/d.2.metrics" >/dev/null || return 1
  awk '/^anomalyd_consumer_lag/ { n++; s += $2 } END { exit !(n >= 1 && s == 0) }' "$W/d.2.metrics"
}
wait_for 60 lag_zero || fail "d.2: lag did not reach zero"
check "d.2 compacted base + log into new bases off the loop" \
  eval '[ "$(metric d.2 anomalyd_checkpoint_compactions_total)" -ge 1 ]'
kt_stop_ok d.2 "d.2" 15
dump "$W/d.state" "$W/d.models"

# The union of both runs' alerts, each id once: the reference's alerts.
"$KT_PY" - "$W/d.1.alerts.jsonl" "$W/d.2.alerts.jsonl" "$W/d.alerts" <<'PY' ||
import json, sys
seen, out, bad = {}, [], 0
for path in sys.argv[1:3]:
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        lines = []
    for l in lines:
        a = json.loads(l)
        if a["alert_id"] in seen:
            if seen[a["alert_id"]] != a:
                print("id %s re-emitted with other content" % a["alert_id"]); bad += 1
            continue
        seen[a["alert_id"]] = a
        out.append((a["key"], a["window_end"], l))
with open(sys.argv[3], "w") as f:
    for _, _, l in sorted(out, key=lambda x: (x[0], x[1])):
        f.write(l + "\n")
sys.exit(1 if bad else 0)
PY
  fail "alerts: an id re-emitted with other content"
check "alerts: the union equals the reference (no point lost or counted twice)" \
  "$KT_PY" "$KT_CMP" "$W/d.alerts" "$W/expected"

# The same records, one uninterrupted run, full checkpoints only.
run_daemon u gu 1
wait_for 60 eval '[ "$(metric u anomalyd_records_consumed_total)" -ge $N ]' ||
  fail "u: did not read $N records"
kt_signal u TERM
kt_wait_exit u 15
dump "$W/u.state" "$W/u.models"
same_models "$W/u.models" "$W/d.models" 20
kt_broker_stop
kt_done
