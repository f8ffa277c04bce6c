#!/usr/bin/env bash
# Integration: the circuit breaker and hung requests (see it_remote.sh).
exec bash "$(dirname "${BASH_SOURCE[0]}")/it_remote.sh" "$1" "$2" breaker
