#!/usr/bin/env bash
# Integration (issue 17, item 10): a SIGHUP reload reads and parses the config
# off the event loop, so /healthz (and the watchdog) keep being answered
# while it lasts, and a file nested too deep is refused at once.
#   it_reload.sh ANOMALYD SOURCE_DIR
#
# The daemon's config file is a FIFO: the reload's read blocks until this
# script writes the file into it, for as long as the script likes, which is
# what a slow parse (an 80 KB file took 7 s) or a slow disk looks like to the
# loop, without depending on the machine's speed.
set -uo pipefail
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK
kt_broker sensor-raw:1 anomalies:1 dlq:1
mkfifo "$W/cfg.fifo"

feed() { cat "$1" >"$W/cfg.fifo"; } # FILE: into the FIFO (waits for the reader)
healthz() { [ "$(kt_get a /healthz /dev/null 2)" = 200 ]; }
reloads() { kt_metric a "anomalyd_config_reloads_total{result=\"$1\"}"; } # RESULT

kt_bg feed0 feed "$KT_CFG"
kt_daemon a -c "$W/cfg.fifo"
P=$(kt_port a)
check "started with the config read from the FIFO" [ -n "$P" ]
check "healthz before the reload" healthz

# 1. A reload whose read does not end for 3 s: /healthz answers throughout.
kt_signal a HUP
sleep 0.3
answered=0
for _ in 1 2 3 4 5 6; do
  healthz && answered=$((answered + 1))
  sleep 0.4
done
check "healthz answered 6 of 6 times while the reload was reading ($answered)" [ "$answered" = 6 ]
check "the reload is not applied before the file is read" [ "$(reloads ok)" = 0 ]
feed "$KT_CFG"
check "the reload is applied once the file is read" wait_for 10 log_has a "config reloaded from"
check "reloads_total{result=ok} 1" eval '[ "$(reloads ok)" = 1 ]'

# 2. A file nested 40,000 levels deep (80 KB: 8 s in libyaml before the
#    bound): refused at once, the running config kept, /healthz fine.
/usr/bin/python3 -c 'import sys; sys.stdout.write("[" * 40000 + "]" * 40000 + "\n")' >"$W/deep.yaml"
kt_signal a HUP
t0=$(date +%s%N)
feed "$W/deep.yaml"
check "the deep file is refused with its position" \
  wait_for 5 log_has a "while reloading the config: .*cfg.fifo:1:65: YAML nested deeper than 64 levels"
ms=$((($(date +%s%N) - t0) / 1000000))
kt_log "deep file refused after $ms ms"
check "reloads_total{result=error} 1" eval '[ "$(reloads error)" = 1 ]'
check "healthz after the refused reload" healthz

# 3. Two SIGHUPs while a read is pending: both are served, one after the other.
kt_signal a HUP
sleep 0.3
kt_signal a HUP
sleep 0.3
feed "$KT_CFG"
# (The second write waits for the first read to end: a writer that opened the
# FIFO while the first reader still had it would add to that reader's file.)
check "the first of them applied" wait_for 10 eval '[ "$(reloads ok)" = 2 ]'
feed "$KT_CFG"
check "the queued one applied after it" wait_for 10 eval '[ "$(reloads ok)" = 3 ]'

kt_signal a TERM
kt_wait_exit a 15
check "exit 0 after SIGTERM (rc $(kt_rc a))" [ "$(kt_rc a)" = 0 ]
kt_done
