#!/usr/bin/env bash
# Integration: the REST API inside the daemon (http.api.enabled) on its HTTP
# listener, next to /healthz and /metrics, with a key from the config and
# one from ANOMALYD_API_KEYS; the daemon consumes from the mock cluster
# meanwhile and stops cleanly.
#   it_serve_daemon.sh ANOMALYD SOURCE_DIR
set -euo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK
kt_broker sensor-raw:2 anomalies:2 dlq:1
"$KT_PY" - "$W" <<'PY'
import json, math, sys
s = [{"timestamp": "2026-01-01T%02d:%02d:00Z" % (i // 60, i % 60),
      "value": 10 + math.sin(i / 5.0) + (30 if i == 99 else 0)} for i in range(100)]
json.dump({"series": s, "granularity": "minutely"}, open(sys.argv[1] + "/req.json", "w"))
PY
ANOMALYD_API_KEYS=env-daemon-key kt_daemon d --set http.api.enabled=true \
  --set 'http.api.keys=[cfg-daemon-key]'
P=$(sed -n 's/.*serving \/metrics.*(port \([0-9]*\)).*/\1/p' "$W/d.log" | head -1)
U=http://127.0.0.1:$P/anomalydetector/v1.1/timeseries/last/detect
st() { curl -s -m 20 -o "$W/$1.body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary @"$W/req.json" "${@:2}" "$U" || echo 000; }
check "daemon log names the API" log_has d "serving the Anomaly Detector API under /anomalydetector/ (2 key"
[ "$(st nokey)" = 401 ] && ok "no key: 401" || fail "no key"
[ "$(st cfg -H 'Ocp-Apim-Subscription-Key: cfg-daemon-key')" = 200 ] &&
  grep -q '"isAnomaly":true' "$W/cfg.body" && ok "config key: 200, the spike flagged" ||
  fail "config key: $(cat "$W/cfg.body")"
[ "$(st env -H 'Ocp-Apim-Subscription-Key: env-daemon-key')" = 200 ] && ok "environment key: 200" ||
  fail "environment key"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/healthz")" = 200 ] &&
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/metrics")" = 200 ] &&
  ok "/healthz and /metrics alongside" || fail "/healthz, /metrics"
curl -s "http://127.0.0.1:$P/metrics" >"$W/metrics.txt"
grep -qx 'anomalyd_api_requests_total{endpoint="last",class="2xx"} 2' "$W/metrics.txt" &&
  grep -qx 'anomalyd_api_requests_total{endpoint="last",class="4xx"} 1' "$W/metrics.txt" &&
  grep -qx 'anomalyd_api_rejected_total{status="401"} 1' "$W/metrics.txt" &&
  grep -qx 'anomalyd_api_compute_duration_seconds_count 2' "$W/metrics.txt" &&
  grep -qx 'anomalyd_api_in_flight 0' "$W/metrics.txt" &&
  grep -q '^anomalyd_points_total ' "$W/metrics.txt" &&
  ok "the daemon's /metrics has the anomalyd_api_* counters" ||
  fail "anomalyd_api_* in /metrics: $(grep anomalyd_api "$W/metrics.txt" | head -20)"
if grep -q -e cfg-daemon-key -e env-daemon-key "$W/d.log"; then fail "a key in the log"; else ok "no key in the log"; fi
kt_signal d TERM
kt_wait_exit d 20
[ "$(kt_rc d)" = 0 ] && ok "the daemon stops cleanly (exit 0)" || fail "daemon exit $(kt_rc d)"
kt_done
