#!/usr/bin/env bash
# Integration: revoke/assign. Daemon A runs; daemon B joins the same group
# while records flow and both get partitions; B stops (SIGTERM) mid-way and A
# takes its partitions back (each with its own state.dir, the state handed
# over through the state topic). Every expected alert id must be on the output
# topic (the union of A's and B's), a re-emitted id must carry the identical
# alert, and nothing the reference does not expect may appear.
#   it_kafka_rebalance.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK
# Each rebalance round of the mock coordinator lasts up to session - 1 s, and
# a cooperative hand-over takes two rounds: keep them short.
export KT_SESSION_MS=3000

N=20000
SIM=(--format sensor --count "$N" --devices 20 --seed 5 --anomaly-rate 0.003)
kt_seed "$W/data.jsonl" "$W/expected"

assigned() { grep -o '\[kafka\] assigned sensor-raw\[[0-9]*\]' "$W/$1.log" 2>/dev/null | grep -o '\[[0-9]*\]$' | sort -u; }
n_assigned() { grep -c '\[kafka\] assigned sensor-raw' "$W/$1.log" 2>/dev/null || true; }

kt_broker sensor-raw:4 anomalies:4 dlq:1 anomalyd-state:4
# One daemon per state.dir (issue 17 item 1): A and B each have their own and
# hand partitions over through the state topic (docs/operations.md,
# "Scale-out"), so that the partition's new owner resumes its models.
kt_daemon A --set state.topic=anomalyd-state
wait_for 30 eval '[ "$(n_assigned A)" -ge 4 ]' || fail "rebalance: A did not get all 4 partitions"
# 1500 records/s for 13 s.
kt_bg sim "$KT_BIN" simulate "${SIM[@]}" --brokers "$ADDR" --topic sensor-raw --rate 1500
wait_for 30 topic_has sensor-raw 2000 || fail "rebalance: records do not flow"
kt_daemon B --set state.dir="$W/state.B" --set state.topic=anomalyd-state
if wait_for 30 eval '[ "$(n_assigned B)" -ge 1 ] && log_has A "\[kafka\] revoked"'; then
  ok "rebalance: B joined and got partitions $(assigned B | tr -d '\n'), A gave them up"
else
  fail "rebalance: B got no partitions (A: $(assigned A | tr -d '\n'), B: $(assigned B | tr -d '\n'))"
fi
b_parts=$(assigned B)
# B works on its partitions for 2500 records, then leaves mid-stream.
in_at_b=$(topic_count sensor-raw)
wait_for 30 topic_has sensor-raw $((in_at_b + 2500)) || fail "rebalance: records stopped flowing"
in_at_stop=$(topic_count sensor-raw)
a_before=$(n_assigned A)
kt_signal B TERM
if kt_wait_exit B 10 && [ "$(kt_rc B)" = 0 ]; then
  ok "rebalance: B stops on SIGTERM mid-stream (B assigned at $in_at_b, stopped at $in_at_stop of $N records) with exit 0"
else
  fail "rebalance: B: SIGTERM -> exit $(kt_rc B)"
fi
if wait_for 30 eval '[ "$(n_assigned A)" -gt "$a_before" ]'; then
  taken=$(grep '\[kafka\] assigned sensor-raw' "$W/A.log" | tail -n +$((a_before + 1)) |
    grep -o '\[[0-9]*\]$' | sort -u)
  if [ "$taken" = "$b_parts" ]; then
    ok "rebalance: A took B's partitions $(tr -d '\n' <<<"$taken") back"
  else
    fail "rebalance: A took $(tr -d '\n' <<<"$taken") back, B had $(tr -d '\n' <<<"$b_parts")"
  fi
else
  fail "rebalance: A did not take B's partitions back"
fi
kt_wait_exit sim 30 || fail "rebalance: the simulator did not finish"
settle_reset anomalies
wait_for 60 eval 'topic_has_ids anomalies "$W/expected" || settled anomalies 5'
if topic_has_ids anomalies "$W/expected"; then
  ok "rebalance: every expected alert id arrived"
else
  fail "rebalance: not every expected alert id arrived"
fi
kt_signal A TERM
if kt_wait_exit A 10 && [ "$(kt_rc A)" = 0 ]; then
  ok "rebalance: A stops on SIGTERM with exit 0"
else
  fail "rebalance: A: SIGTERM -> exit $(kt_rc A)"
fi
consume anomalies "$W/topic.json"
check "rebalance: at least once, duplicates identical, nothing unexpected" \
  check_at_least_once "$W/topic.json" "$W/expected"
a=$(sed -n 's/.*stopped: \([0-9]*\) records consumed.*/\1/p' "$W/A.log")
b=$(sed -n 's/.*stopped: \([0-9]*\) records consumed.*/\1/p' "$W/B.log")
check "rebalance: the stream was still flowing when B stopped" [ "$in_at_stop" -lt $N ]
check "rebalance: A and B consumed every record (A $a + B $b >= $N)" [ $((${a:-0} + ${b:-0})) -ge $N ]
kt_broker_stop

kt_done
