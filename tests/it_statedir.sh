#!/usr/bin/env bash
# Integration (issue 17 item 1), no broker needed: one daemon per state.dir.
# A second daemon on the same state.dir exits 78 naming the first one's pid;
# after the first is killed (SIGKILL: its lock file stays behind) a new one
# starts; a daemon with its own state.dir starts beside it (the control).
#   it_statedir.sh ANOMALYD SOURCE_DIR
set -uo pipefail
bin=$1
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fail=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; fail=1; }

# Nothing listens on port 9: the daemons start, and keep trying to connect.
cat >"$work/a.yaml" <<EOF2
source: {kafka: {brokers: "127.0.0.1:9", group: gs}}
http: {listen: ""}
sinks: {alert_log: {path: "$work/alerts.jsonl"}}
EOF2

# start NAME STATE_DIR: a daemon in the background; its pid in $started.
start() {
  "$bin" -c "$work/a.yaml" --set state.dir="$2" >"$work/$1.log" 2>&1 &
  started=$!
  pids+=("$started")
}
# wait_log NAME TEXT: up to 20 s for TEXT in NAME's log.
wait_log() {
  for _ in $(seq 200); do
    grep -qF -- "$2" "$work/$1.log" && return 0
    sleep 0.1
  done
  return 1
}
# exit_of PID [SECONDS]: sets rc to its exit status within SECONDS (10), or
# to "running".
exit_of() {
  local i
  for ((i = 0; i < ${2:-10} * 10; i++)); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      rc=$?
      return
    fi
    sleep 0.1
  done
  rc=running
}

start first "$work/state"
first=$started
if wait_log first "consuming"; then ok "first daemon started"; else bad "first daemon did not start"; fi

start second "$work/state"
exit_of "$started"
if [ "$rc" = 78 ] && grep -q "in use by another anomalyd (pid $first" "$work/second.log"; then
  ok "second daemon on the same state.dir exits 78 naming pid $first"
else
  bad "second daemon: exit $rc, want 78 naming pid $first"
  sed 's/^/    /' "$work/second.log" | head -5
fi

start other "$work/other-state"
if wait_log other "consuming" && exit_of "$started" 2 && [ "$rc" = running ]; then
  ok "control: a daemon with its own state.dir runs beside it"
else
  bad "control: a daemon with its own state.dir did not start"
  sed 's/^/    /' "$work/other.log" | head -5
fi
kill -TERM "$started" 2>/dev/null

kill -9 "$first"
wait "$first" 2>/dev/null
if [ -s "$work/state/lock" ]; then ok "the killed daemon's lock file stays behind"; else bad "no lock file"; fi
start third "$work/state"
if wait_log third "consuming" && exit_of "$started" 2 && [ "$rc" = running ]; then
  ok "a stale lock file of a dead daemon does not block"
else
  bad "third daemon did not start after the first was killed"
  sed 's/^/    /' "$work/third.log" | head -5
fi
kill -TERM "$started" 2>/dev/null
exit_of "$started" 60
if [ "$rc" = 0 ]; then ok "third daemon stops cleanly"; else bad "third daemon: exit $rc on SIGTERM"; fi
exit $fail
