#!/usr/bin/env bash
# Integration: what an operator meets first on the command line, no broker
# needed (issue 17, items 8, 11, 12, 24, 25): each command's --help, secrets
# kept out of --check-config and of error messages, config edge cases that
# must be refused, the alert log's error naming its key, the replay's hint
# for input that is not JSON lines, and the packaging's restart and core
# dump settings.
#   it_cli.sh ANOMALYD SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; fail=1; }

# run NAME WANT_RC CMD...: runs CMD with stdout+stderr to $work/NAME.out and
# checks its exit status.
run() {
  local name=$1 want=$2 rc
  shift 2
  "$@" >"$work/$name.out" 2>&1
  rc=$?
  if [ "$rc" != "$want" ]; then
    bad "$name: exit $rc, want $want"
    sed 's/^/    /' "$work/$name.out" | head -5
    return 1
  fi
}
has() { grep -qF -- "$2" "$work/$1.out" || { bad "$1: no '$2'"; sed 's/^/    /' "$work/$1.out" | head -5; return 1; }; }
hasnt() { ! grep -qF -- "$2" "$work/$1.out" || { bad "$1: shows '$2'"; return 1; }; }

# ---- item 25: each command's own --help, exit 0 ----
for c in model simulate demo serve; do
  if run "help-$c" 0 "$bin" "$c" --help && has "help-$c" "anomalyd $c" &&
    hasnt "help-$c" "run the daemon"; then ok "help-$c"; fi
done
for c in export import; do
  if run "help-model-$c" 0 "$bin" model "$c" --help && has "help-model-$c" "anomalyd model $c"; then
    ok "help-model-$c"
  fi
done
if run help-simulate-opts 0 "$bin" simulate --help && has help-simulate-opts "--anomaly-rate" &&
  hasnt help-simulate-opts "demo options"; then ok help-simulate-opts; fi
if run help-global 0 "$bin" --help && has help-global "simulate options:" &&
  has help-global "demo options:"; then ok help-global; fi

base='source: {kafka: {brokers: "b:9092"}}'
# --check-config also runs the daemon's start checks (it_check_config.sh):
# paths on this machine for the configs that must pass.
mkdir -p "$work/state"
here=(--set "sinks.alert_log.path=$work/alerts.jsonl" --set "state.dir=$work/state")

# ---- item 8: URLs shown without their credentials ----
cat >"$work/url.yaml" <<EOF
$base
sinks: {webhook: {url: "https://user:PA55WD@hook.example:8443/x?token=T0KEN"}}
remote: {anomaly_detector: {endpoint: "https://e.example.com/?code=C0DE"}}
EOF
if run url-mask 0 "$bin" -c "$work/url.yaml" "${here[@]}" --check-config &&
  hasnt url-mask PA55WD && hasnt url-mask T0KEN && hasnt url-mask C0DE &&
  has url-mask 'url: "https://***@hook.example:8443/x?***"'; then ok url-mask; fi

# ---- item 11: secrets through two paths, the key as a header, LimitCORE ----
printf 'source: {kafka: {brokers: "b:9092", properties: {sasl.oauthbearer.config: "%s"}}}\n' \
  'principal=p extension_x=OAUTHSECRET' >"$work/oauth.yaml"
if run oauth-mask 0 "$bin" -c "$work/oauth.yaml" "${here[@]}" --check-config && hasnt oauth-mask OAUTHSECRET &&
  has oauth-mask 'sasl.oauthbearer.config: "***"'; then ok oauth-mask; fi

printf '%s\nremote: {anomaly_detector: {key: "Sup3r${Secr3tTail"}}\n' "$base" >"$work/dollar.yaml"
if run secret-dollar 78 "$bin" -c "$work/dollar.yaml" --check-config &&
  hasnt secret-dollar Secr3tTail && has secret-dollar "remote.anomaly_detector.key"; then
  ok secret-dollar
fi

printf '%s\nremote: {anomaly_detector: {key: "abc\\r\\nX-Evil: 1"}}\n' "$base" >"$work/crlf.yaml"
if run key-crlf 78 "$bin" -c "$work/crlf.yaml" --check-config &&
  has key-crlf "must not contain control characters" && hasnt key-crlf "X-Evil"; then ok key-crlf; fi

printf '%s\nremote: {anomaly_detector: {key: "%s"}}\n' "$base" "$(head -c 481 /dev/zero | tr '\0' k)" \
  >"$work/long.yaml"
if run key-long 78 "$bin" -c "$work/long.yaml" --check-config && has key-long "longer than 480 bytes"
then ok key-long; fi

if grep -qx 'LimitCORE=0' "$src/systemd/anomalyd.service"; then ok unit-limitcore
else bad "unit-limitcore: systemd/anomalyd.service has no LimitCORE=0"; fi

# ---- item 12: durations, variable names ----
for d in 1m1m 30m1h 1s1m 1h1h30m; do
  if run "dur-$d" 78 "$bin" -c /dev/null --set "source.kafka.brokers=b:9092" \
    --set "windows.idle_timeout=$d" --check-config && has "dur-$d" "invalid duration"; then
    ok "dur-$d"
  fi
done
if run dur-ok 0 "$bin" -c /dev/null --set "source.kafka.brokers=b:9092" "${here[@]}" \
  --set "windows.allowed_lateness=1h30m" --check-config && has dur-ok "allowed_lateness: 1h30m"
then ok dur-ok; fi
name=$(head -c 256 /dev/zero | tr '\0' V)
printf 'source: {kafka: {brokers: "${%s}"}}\n' "$name" >"$work/env.yaml"
if run env-long 78 "$bin" -c "$work/env.yaml" --check-config &&
  has env-long "environment variable name longer than 255 characters"; then ok env-long; fi

# ---- item 24: a bounded restart policy for the daemon in compose ----
if awk '/^  anomalyd:/{s=1; next} /^  [a-z]/{s=0} s && /restart:/{print $2}' \
  "$src/docker-compose.yml" | grep -Eq '^"?on-failure:[0-9]+"?$'; then ok compose-restart
else bad "compose-restart: the anomalyd service's restart policy is not on-failure:N"; fi

# ---- item 25: the alert log's error names its key; replay hints ----
printf '{"id":"a","ts":1700000000000,"temp":1}\n' >"$work/in.jsonl"
if run alertlog 1 "$bin" -c /dev/null --set "source.kafka.brokers=b:9092" \
  --set "sinks.alert_log.path=$work/no/such/dir/a.jsonl" --input "$work/in.jsonl" &&
  has alertlog "sinks.alert_log.path"; then ok alertlog; fi

printf '\xef\xbb\xbf{"id":"a","ts":1700000000000,"temp":1}\n' >"$work/bom.jsonl"
printf '[{"id":"a","ts":1700000000000,"temp":1},\n {"id":"b","ts":1700000000000,"temp":2}]\n' \
  >"$work/array.jsonl"
gzip -c "$work/in.jsonl" >"$work/in.gz"
for f in "bom.jsonl:input starts with a UTF-8 byte order mark" \
  "array.jsonl:input is a JSON array: one record per line expected" \
  "in.gz:input looks like gzip: decompress it first"; do
  file=${f%%:*} want=${f#*:}
  if run "hint-$file" 0 "$bin" -c /dev/null --set "source.kafka.brokers=b:9092" \
    --input "$work/$file" && has "hint-$file" "replay: $want"; then ok "hint-$file"; fi
done
# Plain JSON lines get no hint.
if run hint-none 0 "$bin" -c /dev/null --set "source.kafka.brokers=b:9092" \
  --set "input.time=/ts" --input "$work/in.jsonl" && hasnt hint-none "input "; then ok hint-none; fi

# --max-rejected turns a mostly rejected replay into a failure (exit 1).
if run maxrej-over 1 "$bin" -c /dev/null --set "source.kafka.brokers=b:9092" \
  --input "$work/bom.jsonl" --max-rejected 0.5 && has maxrej-over "more than --max-rejected 0.5"
then ok maxrej-over; fi
if run maxrej-under 0 "$bin" -c /dev/null --set "source.kafka.brokers=b:9092" \
  --set "input.time=/ts" --input "$work/in.jsonl" --max-rejected 0; then ok maxrej-under; fi
if run maxrej-bad 78 "$bin" -c /dev/null --input "$work/in.jsonl" --max-rejected 2; then
  ok maxrej-bad
fi

exit $fail
