#!/usr/bin/env bash
# Integration: the Kafka daemon against a mock cluster (tests/tools/ad_mockbroker).
#   1. a seeded data set -> exactly the reference's alerts on the output topic,
#      keyed by series, and the same alerts in the alert log; SIGTERM -> exit 0
#   4. bad records -> the dead-letter topic, unchanged, with the reason and the
#      source position in headers; the good records still give their alerts
#   6. SIGTERM and SIGINT while records flow -> exit 0 within 10 s; a bad
#      config -> exit 78
#   it_kafka.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK

# ---- 1. seeded data set -> exactly the expected alerts -----------------------------------
SIM=(--format sensor --count 20000 --devices 20 --seed 7 --anomaly-rate 0.003)
kt_seed "$W/c1.jsonl" "$W/c1.expected"

kt_broker sensor-raw:4 anomalies:4 dlq:1
if ! "$KT_BIN" simulate "${SIM[@]}" --brokers "$ADDR" --topic sensor-raw --rate 50000 \
  2>"$W/c1.sim.log" 9>&-; then
  fail "seeded: simulate could not produce: $(cat "$W/c1.sim.log")"
fi
kt_daemon c1
if wait_for 60 topic_has anomalies "$n_exp"; then
  ok "seeded: $n_exp alerts arrived on the output topic"
else
  fail "seeded: only $(topic_count anomalies) of $n_exp alerts arrived within 60 s"
fi
kt_stop_ok c1 seeded
consume anomalies "$W/c1.topic.json"
payloads "$W/c1.topic.json" "$W/c1.topic.alerts"
check "seeded: the topic's alerts equal the reference's ($n_exp)" \
  "$KT_PY" "$KT_CMP" "$W/c1.topic.alerts" "$W/c1.expected"
check "seeded: each alert's record key is its series key" "$KT_PY" -c '
import json, sys
bad = [e for e in map(json.loads, open(sys.argv[1])) if e["key"] != json.loads(e["payload"])["key"]]
for e in bad[:5]: print("key %r for %s" % (e["key"], e["payload"]))
sys.exit(1 if bad else 0)' "$W/c1.topic.json"
check "seeded: the alert log holds the same alerts" \
  "$KT_PY" "$KT_CMP" "$W/c1.alerts.jsonl" "$W/c1.expected"
check "seeded: the daemon consumed all 20000 records" \
  grep -q "stopped: 20000 records consumed" "$W/c1.log"
kt_broker_stop

# ---- 4. bad records -> the dead-letter topic ----------------------------------------------
"$KT_BIN" simulate --format sensor --count 4000 --devices 8 --seed 3 --anomaly-rate 0.01 \
  --output "$W/c4.good.jsonl"
expected "$W/c4.good.jsonl" "$W/c4.expected"
n_exp=$(count_lines "$W/c4.expected")
# Bad records (reason TAB record), spread over the good ones and keyed like
# them, so that they land on several partitions between good records.
pad=$(printf 'x%.0s' $(seq 1 220))
cat >"$W/c4.bad.txt" <<EOF
invalid_json	{"id":"sim-0","ts":1795168800000,"temp":
invalid_json	this is not json
missing_metric	{"id":"sim-1","ts":1795168801000,"hum":40.5}
missing_metric	{"id":"sim-2","ts":1795168802000,"temp":null}
bad_metric	{"id":"sim-3","ts":1795168803000,"temp":"21.5"}
bad_metric	{"id":"sim-4","ts":1795168804000,"temp":true}
too_large	{"id":"sim-5","ts":1795168805000,"temp":21.5,"pad":"$pad"}
invalid_json	{"id":"sim-6" "ts":1795168806000}
bad_metric	{"id":"sim-7","ts":1795168807000,"temp":[1]}
too_large	{"id":"sim-0","ts":1795168808000,"temp":22.0,"note":"$pad$pad"}
EOF
n_bad=$(count_lines "$W/c4.bad.txt")
"$KT_PY" - "$W/c4.good.jsonl" "$W/c4.bad.txt" "$W/c4.kcat" <<'PY'
import json, sys
good = open(sys.argv[1]).read().splitlines()
bad = [l.split("\t", 1) for l in open(sys.argv[2]).read().splitlines()]
step = len(good) // (len(bad) + 1)
with open(sys.argv[3], "w") as o:
    for i, g in enumerate(good):
        o.write("%s\t%s\n" % (json.loads(g)["id"], g))
        if i % step == step - 1 and bad:
            reason, rec = bad.pop(0)
            o.write("sim-%d\t%s\n" % (i % 8, rec))
PY
kt_broker sensor-raw:4 anomalies:4 dlq:1
kt_daemon c4 --set limits.max_message_bytes=200
if ! kcat -P -b "$ADDR" -t sensor-raw -K '\t' -l "$W/c4.kcat" 9>&- 2>"$W/c4.kcat.err"; then
  fail "dead letters: kcat could not produce: $(cat "$W/c4.kcat.err")"
fi
if wait_for 60 topic_has dlq "$n_bad" && wait_for 30 topic_has anomalies "$n_exp"; then
  ok "dead letters: $n_bad dead letters and $n_exp alerts arrived"
else
  fail "dead letters: $(topic_count dlq) of $n_bad dead letters, $(topic_count anomalies) of $n_exp alerts"
fi
check "dead letters: the daemon keeps running" eval '! kt_exited c4'
kt_stop_ok c4 "dead letters"
consume dlq "$W/c4.dlq.json"
consume sensor-raw "$W/c4.src.json"
consume anomalies "$W/c4.topic.json"
check "dead letters: exactly the bad records, unchanged, with reason and source headers" \
  "$KT_PY" - "$W/c4.dlq.json" "$W/c4.src.json" "$W/c4.bad.txt" <<'PY'
import json, sys
from collections import Counter
def headers(e):
    h = e.get("headers") or []
    if isinstance(h, dict):
        return h
    return dict(zip(h[0::2], h[1::2]))
dlq = [json.loads(l) for l in open(sys.argv[1])]
src = {(e["partition"], e["offset"]): e for e in map(json.loads, open(sys.argv[2]))}
bad = [tuple(l.split("\t", 1)) for l in open(sys.argv[3]).read().splitlines()]
want = Counter(bad)
got = Counter()
errors = 0
need = ["anomalyd-reason", "anomalyd-source-topic", "anomalyd-source-partition",
        "anomalyd-source-offset"]
for e in dlq:
    h = headers(e)
    if any(k not in h for k in need):
        print("missing headers: %s" % e); errors += 1; continue
    if h["anomalyd-source-topic"] != "sensor-raw":
        print("source topic %r" % h["anomalyd-source-topic"]); errors += 1
    s = src.get((int(h["anomalyd-source-partition"]), int(h["anomalyd-source-offset"])))
    if s is None or s["payload"] != e["payload"]:
        print("dead letter %r does not match its source record %r" % (e["payload"], s and s["payload"]))
        errors += 1
    got[(h["anomalyd-reason"], e["payload"])] += 1
if got != want:
    print("dead letters differ:\n  unexpected: %s\n  missing: %s" % (list((got - want).elements()), list((want - got).elements())))
    errors += 1
print("%d dead letters checked" % len(dlq))
sys.exit(1 if errors else 0)
PY
payloads "$W/c4.topic.json" "$W/c4.topic.alerts"
check "dead letters: the good records' alerts equal the reference's ($n_exp)" \
  "$KT_PY" "$KT_CMP" "$W/c4.topic.alerts" "$W/c4.expected"
check "dead letters: the daemon counted $n_bad dead letters" \
  grep -q "stopped: $((4000 + n_bad)) records consumed, .* $n_bad dead letters" "$W/c4.log"
kt_broker_stop

# ---- 6. shutdown while records flow; bad config ------------------------------------------
kt_broker sensor-raw:4 anomalies:4 dlq:1
kt_bg sim6 "$KT_BIN" simulate --format sensor --count 0 --devices 20 --seed 9 \
  --anomaly-rate 0.01 --brokers "$ADDR" --topic sensor-raw --rate 2000
for sig in TERM INT; do
  name=c6$sig
  kt_daemon "$name"
  n0=$(topic_count anomalies)
  # Flowing: assigned, and alerts from this daemon arrive.
  if ! wait_for 30 log_has "$name" "\[kafka\] assigned sensor-raw" ||
    ! wait_for 30 topic_has anomalies $((n0 + 2)); then
    fail "shutdown: SIG$sig: the daemon got no records to work on"
  fi
  t0=$(date +%s%N)
  kt_signal "$name" "$sig"
  if kt_wait_exit "$name" 10 && [ "$(kt_rc "$name")" = 0 ]; then
    ok "shutdown: SIG$sig while records flow -> exit 0 in $((($(date +%s%N) - t0) / 1000000)) ms"
  else
    fail "shutdown: SIG$sig -> exit $(kt_rc "$name") (none = still running after 10 s)"
  fi
  check "shutdown: SIG$sig logged, offsets committed without error" eval \
    'log_has "$name" "received SIG$sig, stopping" && log_has "$name" "stopped: " &&
     ! log_has "$name" "while committing"'
done
kt_signal sim6 TERM
kt_wait_exit sim6 10 || fail "shutdown: the simulator did not stop"
kt_broker_stop

bad_config() { # NAME ARGS...: the daemon must exit 78 at once
  local name=$1; shift
  kt_bg "$name" "$KT_BIN" "$@" --set http.listen= --set state.dir= \
    --set sinks.alert_log.path="$W/$name.alerts"
  if kt_wait_exit "$name" 10 && [ "$(kt_rc "$name")" = 78 ]; then
    ok "bad config: $name -> 78: $(head -1 "$W/$name.log")"
  else
    fail "bad config: $name -> exit $(kt_rc "$name"): $(head -3 "$W/$name.log")"
  fi
}
printf 'source:\n  kafka:\n    start: sometimes\n' >"$W/bad.yaml"
bad_config bad-file -c "$W/bad.yaml"
bad_config bad-set -c "$KT_CFG" --set source.kafka.brokers=127.0.0.1:1 \
  --set model.welford.threshold=-1
bad_config bad-property -c "$KT_CFG" --set source.kafka.brokers=127.0.0.1:1 \
  --set source.kafka.properties.no.such.property=1
bad_config missing-file -c "$W/does-not-exist.yaml"

kt_done
