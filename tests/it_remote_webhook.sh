#!/usr/bin/env bash
# Integration: the webhook sink (see it_remote.sh).
exec bash "$(dirname "${BASH_SOURCE[0]}")/it_remote.sh" "$1" "$2" webhook
