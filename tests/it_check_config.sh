#!/usr/bin/env bash
# Integration (issue 17, item 7): --check-config runs every check the daemon
# runs at start, so a config it accepts is one the daemon starts with, and a
# config the daemon refuses with 78 is refused by --check-config with 78 and
# the same reason. It prints the derived Kafka client settings with secrets
# masked; --probe also asks the brokers for metadata (the mock cluster).
#   it_check_config.sh ANOMALYD SOURCE_DIR
set -uo pipefail
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
w=$KT_WORK
mkdir -p "$w/state" "$w/log"
# A config the daemon can start with (apart from the broker, never reached).
base=(--set 'source.kafka.brokers=127.0.0.1:1' --set 'source.kafka.topics=[t]'
  --set http.listen=127.0.0.1:0 --set "state.dir=$w/state"
  --set "sinks.alert_log.path=$w/log/alerts.jsonl")

# cc NAME WANT_RC WANT_TEXT ARG...: --check-config with the base settings
# and ARG (an option as it is, anything else a --set), its exit status and
# a line of its output.
cc() {
  local name=$1 want=$2 text=$3 rc
  shift 3
  local sets=()
  for s in "$@"; do
    case $s in --*) sets+=("$s") ;; *) sets+=(--set "$s") ;; esac
  done
  timeout 20 "$KT_BIN" --check-config "${base[@]}" "${sets[@]}" >"$w/$name.out" 2>&1
  rc=$?
  if [ "$rc" != "$want" ]; then
    fail "$name: --check-config exit $rc, want $want"
    sed 's/^/    /' "$w/$name.out" | head -5 >&2
    return 1
  fi
  if ! grep -qF -- "$text" "$w/$name.out"; then
    fail "$name: no '$text' in the output"
    sed 's/^/    /' "$w/$name.out" | head -5 >&2
    return 1
  fi
  ok "$name"
}

# daemon NAME SET...: the daemon with the same settings exits 78 within 20 s
# with the reason --check-config gave.
daemon() {
  local name=$1 rc
  shift
  local sets=()
  for s in "$@"; do sets+=(--set "$s"); done
  timeout 20 "$KT_BIN" "${base[@]}" "${sets[@]}" >"$w/$name.d.out" 2>&1
  rc=$?
  local why
  why=$(grep '^anomalyd: ' "$w/$name.out" | head -1)
  if [ "$rc" != 78 ]; then
    fail "$name: the daemon exited $rc, want 78"
  elif ! grep -qF -- "$why" "$w/$name.d.out"; then
    fail "$name: the daemon's reason differs from '$why'"
    sed 's/^/    /' "$w/$name.d.out" | tail -3 >&2
  else
    ok "$name-daemon"
  fi
}

cc valid 0 'consumer metadata.broker.list = 127.0.0.1:1' 'source.kafka.properties={sasl.password: S3CRETPW, linger.ms: 7}'
if grep -q S3CRETPW "$w/valid.out"; then fail "valid: the SASL password is printed"; else ok valid-masked; fi
grep -q '^#   producer queue.buffering.max.ms = 7$' "$w/valid.out" && ok valid-derived ||
  fail "valid: linger.ms (queue.buffering.max.ms) not among the derived settings"
grep -q 'default_topic_conf' "$w/valid.out" && fail "valid: a pointer is printed" || ok valid-no-pointers

cases=(
  "unknown-prop|source.kafka.properties.no.such.prop|source.kafka.properties={no.such.prop: 1}"
  "eventhubs|source.kafka.event_hubs_connection_string|source.kafka.event_hubs_connection_string=garbage"
  "listen-name|http.listen|http.listen=localhost:9464"
  "listen-nohost|http.listen|http.listen=:9464"
  "alert-log-dir|sinks.alert_log.path|sinks.alert_log.path=$w/missing/alerts.jsonl"
  "webhook-space|sinks.webhook.url|sinks.webhook.url=http://exa mple.com/x"
  "webhook-bracket|sinks.webhook.url|sinks.webhook.url=http://[::1/x"
  "endpoint|remote.anomaly_detector.endpoint|remote.anomaly_detector.endpoint=https://a b/"
  'webhook-header|sinks.webhook.headers.X:Y|sinks.webhook={url: "http://127.0.0.1:9/x", headers: {"X:Y": v}}'
  "state-dir|state.dir|state.dir=$w/no/such/dir"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name text set <<<"$c"
  if cc "$name" 78 "$text" "$set"; then
    # a missing state.dir parent stops the daemon with 1 (a disk, not the config)
    [ "$name" = state-dir ] || daemon "$name" "$set"
  fi
done

# --probe: the brokers answer a metadata request (the mock cluster), or not
# (exit 1: unreachable is not a config error).
cc probe-down 1 'source.kafka.brokers' --probe
kt_broker t:1
cc probe-up 0 'brokers: reachable' --probe "source.kafka.brokers=$ADDR"
# state.topic is looked up as the daemon does at start (a cluster without it
# is a 78 there; the mock creates topics on demand, so only the lookup is
# seen here).
cc probe-state 0 'state.topic: t, 1 partition(s)' --probe "source.kafka.brokers=$ADDR" state.topic=t
# The HTTP endpoints: a TCP listener answers (the mock broker's port), a
# closed port does not.
cc probe-webhook-up 0 'sinks.webhook.url: reachable (http://127.0.0.1:' --probe \
  "source.kafka.brokers=$ADDR" "sinks.webhook.url=http://127.0.0.1:${ADDR##*:}/hook?token=T0K"
cc probe-webhook-down 1 'sinks.webhook.url: cannot connect to http://127.0.0.1:1/hook?***' \
  --probe "source.kafka.brokers=$ADDR" "sinks.webhook.url=http://127.0.0.1:1/hook?token=T0K"
if grep -q T0K "$w/probe-webhook-up.out" "$w/probe-webhook-down.out"; then
  fail "probe: the webhook's token is printed"
else
  ok probe-masked
fi
kt_done
