#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, then runs
# `anomalyd demo`: an in-process Kafka-protocol cluster on loopback, the
# simulator producing scenario C sensor telemetry to it, and the daemon
# consuming it with the scenario C config, printing alerts as they come.
# Ctrl-C stops it; arguments are passed on (e.g. --duration 30s, --rate 5000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/deps.sh"
"$root/tools/build.sh" build
exec "$root/build/anomalyd" demo "$@"
