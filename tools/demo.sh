#!/usr/bin/env bash
# The README's first command (until the Kafka source lands): installs what is
# missing, builds, then pipes the simulator's scenario C telemetry (100
# sensors, injected anomalies) through anomalyd's replay with the scenario C
# config. Alerts are printed as JSON lines; the summary goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/deps.sh"
"$root/tools/build.sh" build
bin="$root/build/anomalyd"
"$bin" simulate --format sensor --devices 100 --count 50000 --seed 42 --anomaly-rate 0.002 |
  "$bin" -c "$root/config/examples/scenario-c-sensors.yaml" --input -
