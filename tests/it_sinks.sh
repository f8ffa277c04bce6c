#!/usr/bin/env bash
# Integration: sinks that tell the truth, against a mock cluster.
#   1. dead letters carry the record as it came: its key, its headers (in
#      order) and its timestamp, then anomalyd-reason and the source
#      topic/partition/offset; a record larger than the producer's
#      message.max.bytes arrives as a copy cut to fit, saying so
#      (anomalyd-truncated), and the daemon counts what was delivered
#   2. a failing alert log (/dev/full): every failure counted in
#      anomalyd_sink_errors_total{sink="alert_log"}, the warning rate-limited,
#      /readyz 503 saying why, and the shutdown summary counts the errors
#   it_sinks.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK

metric() { local v; v=$(kt_metric "$1" "$2"); echo "${v:-none}"; } # NAME METRIC{LABELS}

# ---- 1. dead letters as they came ---------------------------------------------------------
kt_broker sensor-raw:2 anomalies:2 dlq:1
big=1200000 # > limits.max_message_bytes (1 MiB) and the producer's 1,000,000
"$KT_PY" - "$W/d.big" "$big" <<'PY'
import sys
n = int(sys.argv[2])
head = '{"id":"dev-big","ts":1795168800000,"temp":21.5,"pad":"'
with open(sys.argv[1], "w") as f:
    f.write(head + "y" * (n - len(head) - 2) + '"}')
PY
produce() { # KCAT ARGS...: one record from stdin
  kcat -P -b "$ADDR" -t sensor-raw "$@" 9>&- 2>>"$W/d.kcat.err"
}
printf 'dev-1\t{"id":"dev-1","ts":1795168800000,"temp":\n' |
  produce -K '\t' -H trace=abc-123 -H tenant=blue -H trace=second || fail "kcat produce 1"
printf 'dev-2\t{"id":"dev-2","ts":1795168800000,"temp":"warm"}\n' |
  produce -K '\t' -H only=1 || fail "kcat produce 2"
printf 'no key, not json\n' | produce || fail "kcat produce 3"
{ printf 'dev-big\t'; cat "$W/d.big"; printf '\n'; } |
  produce -K '\t' -H big=yes -X message.max.bytes=2000000 || fail "kcat produce 4 (big)"
printf 'dev-3\t{"id":"dev-3","ts":1795168801000,"temp":20.5}\n' | produce -K '\t' ||
  fail "kcat produce 5"
n_bad=4
sleep 1.5 # the dead letters must keep the records' timestamps, not take the time they are sent
kt_daemon d
if wait_for 60 topic_has dlq "$n_bad"; then
  ok "dead letters: $n_bad arrived"
else
  fail "dead letters: $(topic_count dlq) of $n_bad arrived"
fi
kt_stop_ok d "dead letters"
consume dlq "$W/d.dlq.json"
consume sensor-raw "$W/d.src.json"
check "dead letters: key, headers, timestamp and value as they came, reason and source added" \
  "$KT_PY" - "$W/d.dlq.json" "$W/d.src.json" <<'PY'
import json, sys
def headers(e):
    h = e.get("headers") or []
    return list(zip(h[0::2], h[1::2])) if isinstance(h, list) else list(h.items())
dlq = [json.loads(l) for l in open(sys.argv[1])]
src = {(e["partition"], e["offset"]): e for e in map(json.loads, open(sys.argv[2]))}
ours = ["anomalyd-reason", "anomalyd-source-topic", "anomalyd-source-partition",
        "anomalyd-source-offset"]
bad = 0
reasons = []
for e in dlq:
    h = headers(e)
    names = [k for k, v in h]
    hd = dict(h)
    s = src.get((int(hd.get("anomalyd-source-partition", -1)), int(hd.get("anomalyd-source-offset", -1))))
    if s is None:
        print("no source record for %s" % h); bad += 1; continue
    sh = headers(s)
    if h[:len(sh)] != sh:
        print("headers %s do not start with the source's %s" % (h, sh)); bad += 1
    tail = names[len(sh):]
    want_tail = ours + (["anomalyd-truncated"] if "anomalyd-truncated" in hd else [])
    if tail != want_tail:
        print("our headers %s, want %s" % (tail, want_tail)); bad += 1
    if e.get("key") != s.get("key"):
        print("key %r, source %r" % (e.get("key"), s.get("key"))); bad += 1
    if e["ts"] != s["ts"]:
        print("timestamp %s, source %s" % (e["ts"], s["ts"])); bad += 1
    if hd.get("anomalyd-source-topic") != "sensor-raw":
        print("source topic %r" % hd.get("anomalyd-source-topic")); bad += 1
    if "anomalyd-truncated" in hd:
        if int(hd["anomalyd-truncated"]) != len(s["payload"]) or not s["payload"].startswith(e["payload"]) \
                or not 0 < len(e["payload"]) < 1000000:
            print("truncated copy: %d of %d bytes, header %s" % (len(e["payload"]), len(s["payload"]), hd["anomalyd-truncated"])); bad += 1
    elif e["payload"] != s["payload"]:
        print("value %r, source %r" % (e["payload"][:80], s["payload"][:80])); bad += 1
    reasons.append(hd.get("anomalyd-reason"))
if sorted(reasons) != ["bad_metric", "invalid_json", "invalid_json", "too_large"]:
    print("reasons %s" % sorted(reasons)); bad += 1
print("%d dead letters checked" % len(dlq))
sys.exit(1 if bad else 0)
PY
check "dead letters: the big record's copy says it was cut" \
  grep -q '"anomalyd-truncated","1200000"' "$W/d.dlq.json"
check "dead letters: the daemon counted the $n_bad it delivered" \
  grep -q "stopped: 5 records consumed, .* $n_bad dead letters" "$W/d.log"
kt_broker_stop

# ---- 2. a failing alert log ----------------------------------------------------------------
kt_broker sensor-raw:2 anomalies:2 dlq:1
"$KT_BIN" simulate --format sensor --count 6000 --devices 4 --seed 5 --anomaly-rate 0.01 \
  --brokers "$ADDR" --topic sensor-raw --rate 50000 2>"$W/f.sim.log" 9>&- ||
  fail "failing log: simulate could not produce: $(cat "$W/f.sim.log")"
kt_daemon f --set sinks.alert_log.path=/dev/full
wait_for 60 topic_has anomalies 10 || fail "failing log: only $(topic_count anomalies) alerts"
n_alerts=$(topic_count anomalies)
errs=$(metric f 'anomalyd_sink_errors_total{sink="alert_log"}')
check "failing log: anomalyd_sink_errors_total{sink=\"alert_log\"} counts the failures ($errs)" \
  eval '[ "$errs" != none ] && [ "${errs%.*}" -ge 10 ]'
code=$(kt_get f /readyz "$W/f.readyz")
check "failing log: /readyz is 503 and says why ($code: $(tr '\n' ' ' <"$W/f.readyz"))" \
  eval '[ "$code" = 503 ] && grep -q "alert_log: failing" "$W/f.readyz"'
kt_stop_ok f "failing log"
warns=$(log_count f "while writing an alert to alert_log")
check "failing log: $n_alerts alerts, $warns warnings (rate-limited)" [ "$warns" -le 2 ]
check "failing log: the shutdown summary counts the alert log's errors" \
  eval 'grep "stopped:" "$W/f.log" | grep -Eq "alert log [1-9][0-9]*" &&
        ! grep -q " 0 delivery errors" "$W/f.log"'
kt_broker_stop

kt_done
