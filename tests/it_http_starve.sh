#!/usr/bin/env bash
# Integration: the HTTP listener cannot be starved. A slowloris of 300
# connections (each sends a request line and then one header line every
# 0.3 s, and reconnects as soon as it is dropped) runs against the daemon
# for 8 s while /healthz, /readyz and /metrics are probed every 0.1 s: the
# probes keep being answered, slow clients are cut after ~1 s of headers,
# and the daemon keeps running.
#   it_http_starve.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK

kt_broker sensor-raw:2 anomalies:2 dlq:1
kt_daemon h
port=$(kt_port h)
[ -n "$port" ] || fail "no HTTP port in the log"

"$KT_PY" - "$port" "$W/h.starve.json" <<'PY' 9>&-
import json, socket, sys, threading, time
port, out = int(sys.argv[1]), sys.argv[2]
DURATION, SLOW = 8.0, 300
stop = time.monotonic() + DURATION
held = {"opened": 0, "dropped": 0, "lifetimes": []}
lock = threading.Lock()

def slow_client(i):
    # One slow connection after the other: a request line, then a header
    # line every 0.3 s, never the blank line that ends the headers.
    while time.monotonic() < stop:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(0.05); continue
        t0 = time.monotonic()
        with lock:
            held["opened"] += 1
        try:
            s.sendall(b"GET /?slow=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n" % i)
            while time.monotonic() < stop:
                time.sleep(0.3)
                s.sendall(b"X-Slow: a\r\n")
        except OSError:
            with lock:
                held["dropped"] += 1
                held["lifetimes"].append(time.monotonic() - t0)
        finally:
            s.close()

def probe(path):
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.settimeout(2)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
        status = got.split(b" ", 2)[1].decode() if got.startswith(b"HTTP/1.1 ") else "closed"
    except OSError as e:
        status = type(e).__name__
    return status, time.monotonic() - t0

threads = [threading.Thread(target=slow_client, args=(i,), daemon=True) for i in range(SLOW)]
for t in threads:
    t.start()
time.sleep(1.5)  # every slot taken, and the first slow clients already cut once
probes = []
paths = ["/healthz", "/readyz", "/metrics"]
while time.monotonic() < stop - 0.5:
    p = paths[len(probes) % 3]
    status, secs = probe(p)
    probes.append((p, status, secs))
    time.sleep(0.1)
for t in threads:
    t.join(5)
life = sorted(held["lifetimes"])
json.dump({"probes": probes, "opened": held["opened"], "dropped": held["dropped"],
           "max_life": life[-1] if life else None}, open(out, "w"))
PY

summary() { "$KT_PY" -c 'import json,sys; print(eval(sys.argv[2], {"d": json.load(open(sys.argv[1]))}))' "$W/h.starve.json" "$1"; }
n=$(summary 'len(d["probes"])')
answered=$(summary 'sum(1 for p, s, t in d["probes"] if s in ("200", "503"))')
healthz=$(summary 'sum(1 for p, s, t in d["probes"] if p == "/healthz" and s == "200")')
nhealthz=$(summary 'sum(1 for p, s, t in d["probes"] if p == "/healthz")')
kt_log "probes: $(summary 'd["probes"][:12]')"
kt_log "slow connections opened $(summary 'd["opened"]'), dropped $(summary 'd["dropped"]')"
check "slowloris: $answered of $n probes answered (/healthz 200: $healthz of $nhealthz)" \
  eval '[ "$n" -ge 20 ] && [ "$answered" -ge $((n * 95 / 100)) ] && [ "$healthz" -ge $((nhealthz * 95 / 100)) ]'
# A client learns it was cut at its next send (every 0.3 s), so ~1.3 s at most.
check "slowloris: no slow client holds a connection past ~1 s of headers (longest $(summary 'd["max_life"]') s)" \
  eval '[ "$(summary "0 < (d[\"max_life\"] or 9) <= 2.5")" = True ]'
check "slowloris: the daemon keeps running" eval '! kt_exited h'
kt_stop_ok h slowloris
kt_broker_stop
kt_done
