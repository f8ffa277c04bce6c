#!/usr/bin/env bash
# Integration (issue 17, item 23): the daemon's log and process metrics.
#  - log.format json: every line on stderr is one JSON object with time,
#    level, module and msg (and fields, for a rejected record), and no secret;
#  - JOURNAL_STREAM inherited while stderr is a file (not the journal's
#    stream): no "<N>" priority prefixes, timestamps kept;
#  - /metrics has the process_* families with this process's figures.
#   it_logs.sh ANOMALYD SOURCE_DIR
set -uo pipefail
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK
kt_broker sensor-raw:1 anomalies:1 dlq:1

# 1. Text lines, a JOURNAL_STREAM that is not stderr's.
JOURNAL_STREAM=8:424242 kt_daemon t
check "text: no priority prefix when stderr is not the journal's stream" \
  eval '! grep -q "^<[0-9]>" "$W/t.log"'
check "text: lines start with a timestamp" grep -qE '^20[0-9-]{8}T[0-9:.]{12}Z info  \[' "$W/t.log"
kt_signal t TERM
kt_wait_exit t 15

# 2. JSON lines, with a secret in the config.
kt_daemon j --set log.format=json --set source.kafka.group=g2 \
  --set 'source.kafka.properties.sasl.password=S3CRETPW'
# A record that is not JSON: its rejection is logged with fields.
printf 'not json\n' | kcat -P -b "$ADDR" -t sensor-raw 9>&-
wait_for 20 log_has j "record rejected" || fail "json: no rejection logged"
kt_get j /metrics "$W/metrics" 5 >/dev/null
kt_signal j TERM
kt_wait_exit j 15
check "json: exit 0" [ "$(kt_rc j)" = 0 ]
"$KT_PY" - "$W/j.log" >"$W/json.check" 2>&1 <<'PY'
import json, re, sys
bad, n, mods = [], 0, set()
for i, line in enumerate(open(sys.argv[1], "rb").read().split(b"\n")[:-1], 1):
    n += 1
    try:
        o = json.loads(line)
    except Exception as e:
        bad.append("line %d not JSON: %r" % (i, line[:120])); continue
    if set(o) - {"fields"} != {"time", "level", "module", "msg"}:
        bad.append("line %d keys %s" % (i, sorted(o))); continue
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]) or \
            o["level"] not in ("error", "warn", "info", "debug"):
        bad.append("line %d: %r" % (i, o)); continue
    mods.add(o["module"])
    if o["msg"].startswith("record rejected"):
        f = o.get("fields", {})
        off = f.get("offset")
        if f == {"reason": "invalid_json", "topic": "sensor-raw", "partition": 0, "offset": off,
                 "bytes": 8} and isinstance(off, int) and off >= 0:
            mods.add("rejected-with-fields")
        else:
            bad.append("line %d fields %r" % (i, f))
print("%d lines, modules %s" % (n, sorted(mods)))
for b in bad[:5]:
    print(b)
sys.exit(1 if bad or n < 3 or "daemon" not in mods or "rejected-with-fields" not in mods else 0)
PY
rc=$?
check "json: every line one object with time, level, module, msg ($(head -1 "$W/json.check"))" \
  [ "$rc" = 0 ]
check "json: the secret is not in the log" eval '! grep -q S3CRETPW "$W/j.log"'
check "json: the port's line is there" grep -q '"module":"http","msg":"serving /metrics' "$W/j.log"

# 3. process_* families, with this process's figures.
"$KT_PY" - "$W/metrics" "$(date +%s)" >"$W/proc.check" 2>&1 <<'PY'
import sys
vals = {}
for line in open(sys.argv[1]):
    if line.startswith("process_"):
        k, v = line.split()[:2]
        vals[k] = float(v)
now = float(sys.argv[2])
want = ["process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
        "process_start_time_seconds"]
missing = [w for w in want if w not in vals]
ok = not missing and vals["process_cpu_seconds_total"] >= 0 and \
    vals["process_resident_memory_bytes"] > 1e6 and vals["process_open_fds"] >= 5 and \
    now - 120 < vals["process_start_time_seconds"] <= now
print(vals, "missing", missing)
sys.exit(0 if ok else 1)
PY
rc=$?
check "process_* families with sane values ($(cat "$W/proc.check"))" [ "$rc" = 0 ]
kt_done
