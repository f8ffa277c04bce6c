#!/usr/bin/env bash
# Integration: every scored point to a topic (sinks.scores.topic), and a
# restored detector state whose parameters changed counted in /metrics.
#   1. scenario C's config with the auto detector and a scores topic: one
#      message per record, keyed by its series, whose value has the fields of
#      replay --scores and equals replay's row for the same point (same
#      detector, same input), in input order per series
#   2. a restart with another robust window: the checkpointed detector states
#      do not fit, the series restart fresh, and
#      anomalyd_detector_state_fresh_total counts them
#   it_scores.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK
N=3000

SIM=(--format sensor --count "$N" --devices 6 --seed 11 --anomaly-rate 0.004)
"$KT_BIN" simulate "${SIM[@]}" --output "$W/in.jsonl"
kt_broker sensor-raw:2 anomalies:1 scores:2
if ! "$KT_BIN" simulate "${SIM[@]}" --brokers "$ADDR" --topic sensor-raw --rate 50000 \
  2>"$W/sim.log" 9>&-; then
  fail "simulate could not produce: $(cat "$W/sim.log")"
fi

AUTO=(--set model.detector=auto --set sinks.scores.topic=scores)

# ---- 1. one message per scored point ---------------------------------------------------------
kt_daemon s1 "${AUTO[@]}" --set state.checkpoint_interval=200ms
if wait_for 60 topic_has scores "$N"; then
  ok "scores: $N rows arrived on the scores topic"
else
  fail "scores: only $(topic_count scores) of $N rows arrived within 60 s"
fi
check "scores: anomalyd_scores_sent_total is $N" [ "$(kt_metric s1 anomalyd_scores_sent_total)" = "$N" ]
kt_stop_ok s1 scores
consume scores "$W/scores.json"

# The same input through replay --scores: the same rows.
"$KT_BIN" -c "$KT_CFG" "${AUTO[@]}" --set sinks.scores.topic= --set sinks.kafka.topic= \
  --input "$W/in.jsonl" --scores "$W/replay.jsonl" >/dev/null 2>"$W/replay.err" ||
  fail "replay --scores: $(cat "$W/replay.err")"
check "scores: the topic's rows equal replay --scores, keyed by series, in order" \
  "$KT_PY" - "$W/scores.json" "$W/replay.jsonl" "$N" <<'PY'
import collections, json, sys
fields = ["key", "metric", "time", "value", "expected", "lower", "upper", "score",
          "is_anomaly", "kind"]
by_key = collections.defaultdict(list)
for line in open(sys.argv[1]):
    env = json.loads(line)
    row = json.loads(env["payload"])
    assert list(row) == fields, row
    assert env["key"] == row["key"], (env["key"], row)
    by_key[row["key"]].append(row)
want = collections.defaultdict(list)
for line in open(sys.argv[2]):
    row = json.loads(line)
    want[row["key"]].append(row)
n = sum(len(v) for v in by_key.values())
assert n == int(sys.argv[3]), n
assert sum(1 for v in by_key.values() for r in v if r["is_anomaly"]) > 0
# Within a partition (a series) the order is the scoring order.
for k in want:
    got = [(r["time"], r["value"], r["score"], r["kind"]) for r in by_key[k]]
    exp = [(r["time"], r["value"], r["score"], r["kind"]) for r in want[k]]
    assert got == exp, (k, len(got), len(exp))
PY

# ---- 2. a changed detector restarts fresh, counted -----------------------------------------
kt_daemon s2 "${AUTO[@]}" --set model.robust.window=32 --set source.kafka.start=earliest
wait_for 20 log_has s2 "restored .* series" ||
  fail "fresh: the restart did not restore from checkpoints: $(tail -3 "$W/s2.log")"
fresh=$(kt_metric s2 anomalyd_detector_state_fresh_total)
check "fresh: anomalyd_detector_state_fresh_total counts the 6 series ($fresh)" \
  [ "${fresh:-0}" = 6 ]
kt_stop_ok s2 fresh

kt_done
