# tests/lib/kafka.sh - shared helpers for the Kafka integration tests
# (tests/it_kafka*.sh): a mock cluster on loopback, the daemon in the
# background, polling with deadlines, topic capture with kcat, and the
# "ok NAME" / "FAIL NAME" / "N passed, M failed" report.
#
#   source "$src/tests/lib/kafka.sh"
#   kt_init "$1" "$2"           # ANOMALYD SOURCE_DIR; sets $KT_BIN $KT_SRC $KT_WORK, the trap
#   kt_broker sensor-raw:4 anomalies:4 dlq:1    # sets $ADDR
#   kt_daemon a --set source.kafka.group=g1 ...  # $KT_WORK/a.{pid,log,out,rc}
#   wait_for 30 topic_has anomalies 58
#   kt_signal a TERM; kt_wait_exit a 10; rc=$(kt_rc a)
#   n=$(kt_metric a anomalyd_points_total)      # also kt_port a, kt_get a /readyz OUT
#   kt_done                                      # prints the summary, exits
#
# Every background process is started through kt_bg, which records its pid;
# the EXIT trap kills them all. The mock broker's stdin is a fifo held open
# by this shell on fd 9 (closed in every child), so the broker also dies when
# the test shell is killed outright.

KT_PY=/usr/bin/python3
KT_PASS=0
KT_FAIL=0
KT_PIDS=()
KT_T0=$(date +%s.%N)

kt_log() { printf '# %s\n' "$*" >&2; }

kt_init() { # ANOMALYD SOURCE_DIR
  KT_BIN=$(realpath "$1")
  KT_SRC=$(realpath "$2")
  KT_MOCK="$(dirname "$KT_BIN")/tests/ad_mockbroker"
  KT_CFG="$KT_SRC/config/examples/scenario-c-sensors.yaml"
  KT_REF="$KT_SRC/tests/ref/reference.py"
  KT_CMP="$KT_SRC/tests/ref/compare_alerts.py"
  KT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/it_kafka.XXXXXX")
  trap kt_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  for t in "$KT_BIN" "$KT_MOCK"; do
    [ -x "$t" ] || { echo "FAIL setup: $t is not built"; exit 1; }
  done
  command -v kcat >/dev/null || { echo "FAIL setup: kcat is not installed"; exit 1; }
}

kt_cleanup() {
  local p
  for p in "${KT_PIDS[@]}"; do
    kill -KILL "$p" 2>/dev/null || true
  done
  exec 9>&- 2>/dev/null || true # EOF on the broker's stdin
  wait 2>/dev/null || true
  if [ "${KT_KEEP:-0}" = 1 ] || [ "$KT_FAIL" -ne 0 ]; then
    echo "# work directory kept: $KT_WORK" >&2
  else
    rm -rf "$KT_WORK"
  fi
}

ok() { echo "ok $*"; KT_PASS=$((KT_PASS + 1)); }
fail() { echo "FAIL $*"; KT_FAIL=$((KT_FAIL + 1)); }
check() { # NAME CMD...: ok/FAIL by CMD's status
  local _check_name=$1; shift
  if "$@"; then ok "$_check_name"; else fail "$_check_name"; fi
}

kt_done() {
  awk -v a="$KT_T0" -v b="$(date +%s.%N)" -v n="$(basename "$0")" \
    'BEGIN { printf "# %s: %.1f s\n", n, b - a }' >&2
  echo "$KT_PASS passed, $KT_FAIL failed"
  [ "$KT_FAIL" -eq 0 ]
  exit $?
}

# wait_for DEADLINE_SECONDS CMD...: runs CMD every 150 ms until it succeeds
# (returns 0) or the deadline passes (returns 1).
wait_for() {
  local deadline=$1; shift
  local end=$(($(date +%s%N) + ${deadline%.*} * 1000000000))
  while :; do
    if "$@"; then return 0; fi
    [ "$(date +%s%N)" -lt "$end" ] || return 1
    sleep 0.15
  done
}

count_lines() { # FILE: number of lines, 0 for a missing file
  if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# kt_bg NAME CMD...: runs CMD in the background with stdout in NAME.out,
# stderr in NAME.log; its pid goes to NAME.pid (and $KT_PIDS), its exit
# status to NAME.rc when it ends.
kt_bg() {
  local name=$1; shift
  local w=$KT_WORK
  rm -f "$w/$name.pid" "$w/$name.rc"
  (
    trap - EXIT INT TERM
    "$@" >"$w/$name.out" 2>"$w/$name.log" 9>&- &
    echo $! >"$w/$name.pid.tmp" && mv "$w/$name.pid.tmp" "$w/$name.pid"
    wait $!
    echo $? >"$w/$name.rc.tmp" && mv "$w/$name.rc.tmp" "$w/$name.rc"
  ) 9>&- &
  KT_PIDS+=($!)
  wait_for 5 test -s "$w/$name.pid" || { echo "FAIL setup: $name did not start"; exit 1; }
  KT_PIDS+=("$(cat "$w/$name.pid")")
}

kt_pid() { cat "$KT_WORK/$1.pid"; }
kt_exited() { test -s "$KT_WORK/$1.rc"; }
kt_rc() { cat "$KT_WORK/$1.rc" 2>/dev/null || echo none; }
kt_signal() { kill -"$2" "$(kt_pid "$1")" 2>/dev/null || true; } # NAME SIG
kt_wait_exit() { wait_for "$2" kt_exited "$1"; }                # NAME SECONDS
# kt_stop_ok NAME LABEL [SECONDS]: SIGTERM to NAME, then ok when it exits 0
# within SECONDS (10), else FAIL with its exit status (none: still running).
kt_stop_ok() {
  kt_signal "$1" TERM
  if kt_wait_exit "$1" "${3:-10}" && [ "$(kt_rc "$1")" = 0 ]; then
    ok "$2: SIGTERM -> exit 0"
  else
    fail "$2: SIGTERM -> exit $(kt_rc "$1")"
  fi
}
log_has() { grep -q -- "$2" "$KT_WORK/$1.log" 2>/dev/null; }     # NAME PATTERN
log_count() { grep -c -- "$2" "$KT_WORK/$1.log" 2>/dev/null || true; }

# kt_port NAME: the HTTP port NAME's daemon logged it serves /metrics on
# ("" before that line is written).
kt_port() {
  sed -n 's/.*serving \/metrics.*(port \([0-9]*\)).*/\1/p' "$KT_WORK/$1.log" 2>/dev/null | head -1
}
# kt_get NAME PATH OUT [SECONDS]: GET PATH from NAME's daemon, the body into
# OUT; prints the HTTP status (000 when nothing answered within SECONDS, 3).
kt_get() {
  curl -s -m "${4:-3}" -o "$3" -w '%{http_code}' "http://127.0.0.1:$(kt_port "$1")$2" 9>&-
}
# kt_metric NAME FAMILY: the sum of FAMILY's samples over all their labels in
# NAME's /metrics, "" when it has none (or nothing answered). A FAMILY given
# with its labels (x{a="b"}) selects that one sample.
kt_metric() {
  rm -f "$KT_WORK/$1.metrics"
  kt_get "$1" /metrics "$KT_WORK/$1.metrics" >/dev/null
  awk -v m="$2" '$1 == m || index($1, m "{") == 1 { n += $2; f = 1 }
                 END { if (f) printf "%.15g\n", n }' "$KT_WORK/$1.metrics" 2>/dev/null
}

# kt_broker TOPIC:PARTS...: starts the mock cluster with these topics, sets
# $ADDR, and a fresh state directory $KT_STATE for the daemons using it.
declare -A KT_PARTS
kt_broker() {
  local args=() t
  for t in "$@"; do
    args+=(--topic "$t")
    KT_PARTS[${t%:*}]=${t##*:}
  done
  KT_NBROKER=$((${KT_NBROKER:-0} + 1))
  KT_STATE="$KT_WORK/state.$KT_NBROKER" # checkpoints belong to one cluster
  mkdir -p "$KT_STATE"
  rm -f "$KT_WORK/mb.fifo" "$KT_WORK/mb.addr"
  mkfifo "$KT_WORK/mb.fifo"
  "$KT_MOCK" "${args[@]}" --addr-file "$KT_WORK/mb.addr" <"$KT_WORK/mb.fifo" \
    >"$KT_WORK/mb.out" 2>"$KT_WORK/mb.log" &
  KT_MB_PID=$!
  KT_PIDS+=($!)
  exec 9>"$KT_WORK/mb.fifo" # the broker lives as long as this fd is open
  wait_for 10 test -s "$KT_WORK/mb.addr" || { echo "FAIL setup: mock broker did not start"; exit 1; }
  ADDR=$(cat "$KT_WORK/mb.addr")
  kt_log "mock cluster at $ADDR"
}

# kt_broker_stop: closes the broker's stdin and waits (bounded) for it to end.
kt_broker_stop() {
  exec 9>&-
  wait_for 10 eval '! kill -0 '"$KT_MB_PID"' 2>/dev/null' || kill -KILL "$KT_MB_PID" 2>/dev/null
  wait "$KT_MB_PID" 2>/dev/null || true
}

# kt_daemon NAME [--set K=V]...: the daemon on scenario C's config against
# $ADDR, reading sensor-raw from the beginning; waits for it to subscribe.
# The mock cluster's group coordinator (librdkafka 2.0.2) completes a
# rebalance only when every old member rejoined or its session timed out,
# even after an explicit LeaveGroup (it waits session.timeout.ms - 1 s); a
# short session ($KT_SESSION_MS, default 6 s; librdkafka's default: 45 s)
# keeps a restart or a member leaving to a few seconds. state.dir is the
# cluster's $KT_STATE, which one daemon at a time may hold (a second one on
# it exits 78): a daemon running beside another sets a state.dir of its own.
# Each daemon's HTTP endpoint gets a free port.
kt_daemon() {
  local name=$1; shift
  kt_bg "$name" "$KT_BIN" -c "$KT_CFG" \
    --set source.kafka.brokers="$ADDR" --set source.kafka.start=earliest \
    --set source.kafka.group=g1 --set sinks.alert_log.path="$KT_WORK/$name.alerts.jsonl" \
    --set sinks.dead_letter.topic=dlq --set log.level=info --set state.dir="$KT_STATE" \
    --set http.listen=127.0.0.1:0 \
    --set source.kafka.properties.session.timeout.ms="${KT_SESSION_MS:-6000}" \
    --set source.kafka.properties.heartbeat.interval.ms=$((${KT_SESSION_MS:-6000} / 6)) "$@"
  wait_for 10 log_has "$name" "consuming .* as group" || kt_exited "$name" ||
    { fail "$name: the daemon did not start"; cat "$KT_WORK/$name.log" >&2; }
}

# consume TOPIC OUT: the whole topic as kcat -J envelopes, one per line.
consume() {
  kcat -C -b "$ADDR" -t "$1" -o beginning -e -J -q -m 10 9>&- >"$2.tmp" 2>"$2.err" &&
    mv "$2.tmp" "$2"
}

# topic_count TOPIC: the number of messages in TOPIC: the sum of its
# partitions' end offsets (nothing is ever deleted from the mock's topics).
topic_count() {
  local q=() p
  for ((p = 0; p < ${KT_PARTS[$1]:-1}; p++)); do q+=(-t "$1:$p:-1"); done
  kcat -Q -b "$ADDR" -m 10 "${q[@]}" 9>&- 2>/dev/null |
    awk '$3 == "offset" { n += $4 } END { print n + 0 }'
}
topic_has() { [ "$(topic_count "$1")" -ge "$2" ]; } # TOPIC N

# settled TOPIC SECONDS: true once TOPIC's message count has not changed for
# SECONDS (polled; call settle_reset TOPIC first).
settle_reset() { rm -f "$KT_WORK/settled.$1"; }
settled() {
  local f="$KT_WORK/settled.$1" n now
  n=$(topic_count "$1")
  now=$(date +%s)
  if [ -f "$f" ] && [ "$(cut -d' ' -f1 "$f")" = "$n" ]; then
    [ $((now - $(cut -d' ' -f2 "$f"))) -ge "$2" ]
    return
  fi
  echo "$n $now" >"$f"
  return 1
}

# payloads ENVELOPES OUT: the payload of every envelope, one per line.
payloads() {
  "$KT_PY" -c '
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    for l in f:
        o.write(json.loads(l)["payload"] + "\n")' "$1" "$2"
}

# topic_has_ids TOPIC EXPECTED: every alert id of reference output EXPECTED
# is in TOPIC at least once.
topic_has_ids() {
  consume "$1" "$KT_WORK/poll.$1.json" || return 1
  "$KT_PY" - "$KT_WORK/poll.$1.json" "$2" <<'PY'
import json, sys
got = {json.loads(json.loads(l)["payload"])["alert_id"] for l in open(sys.argv[1])}
want = {l.split()[0] for l in open(sys.argv[2]) if l.strip()}
sys.exit(0 if want <= got else 1)
PY
}

# expected DATA OUT [reference options]: scenario C's reference alerts.
expected() {
  local data=$1 out=$2; shift 2
  "$KT_PY" "$KT_REF" --key id --time ts --unit ms --metric temp --threshold 4 \
    --min-samples 30 "$@" <"$data" >"$out"
}

# kt_seed DATA EXPECTED [REFERENCE ARGS...]: the simulator's records for the
# caller's SIM array (its arguments) into DATA, the reference's alerts for
# them into EXPECTED; sets n_exp to their count and logs it.
kt_seed() {
  local data=$1 out=$2; shift 2
  "$KT_BIN" simulate "${SIM[@]}" --output "$data"
  expected "$data" "$out" "$@"
  n_exp=$(count_lines "$out")
  kt_log "$n_exp expected alerts"
}

# check_at_least_once ENVELOPES EXPECTED: every expected id is on the topic,
# each message's key is its alert's key, the copies of an id are identical
# JSON, and the set of distinct alerts equals the reference's (compare_alerts.py).
# same_models REF GOT N: the sorted model dumps REF and GOT are identical and
# hold N series.
same_models() {
  if cmp -s "$1" "$2" && [ "$(count_lines "$1")" = "$3" ]; then
    ok "models: every series' (n, mean, M2) equals the uninterrupted run's"
  else
    fail "models differ: $(diff "$1" "$2" | head -4)"
  fi
}

check_at_least_once() {
  "$KT_PY" - "$1" "$2" "$KT_CMP" <<'PY'
import json, subprocess, sys, tempfile
env = [json.loads(l) for l in open(sys.argv[1])]
by_id = {}
bad = 0
for e in env:
    a = json.loads(e["payload"])
    if e.get("key") != a["key"]:
        print("record key %r != alert key %r" % (e.get("key"), a["key"])); bad += 1
    # The same id must be the same alert, down to its source position.
    prev = by_id.setdefault(a["alert_id"], (a, e["payload"]))
    if prev[0] != a:
        print("id %s re-emitted with different content:\n  %s\n  %s" % (a["alert_id"], prev[1], e["payload"]))
        bad += 1
want = {l.split()[0] for l in open(sys.argv[2]) if l.strip()}
missing = want - set(by_id)
if missing:
    print("%d expected alert ids never arrived, e.g. %s" % (len(missing), sorted(missing)[:5])); bad += 1
with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as t:
    for body, payload in by_id.values():
        t.write(payload + "\n")
    t.flush()
    r = subprocess.run([sys.executable, sys.argv[3], t.name, sys.argv[2]], capture_output=True, text=True)
    if r.returncode:
        print(r.stdout.strip()); bad += 1
print("%d messages, %d distinct alert ids, %d expected, %d duplicates" % (len(env), len(by_id), len(want), len(env) - len(by_id)))
sys.exit(1 if bad else 0)
PY
}
