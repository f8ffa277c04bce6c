#!/usr/bin/env bash
# Integration: the operations surface of the daemon (docs/operations.md,
# "Metrics and health" and "Signals and exit codes"; docs/alerts.md) against
# the mock cluster. Five daemons run side by side, each in its own consumer
# group on its own topics:
#   m  (cases 1, 2, 3, 7) 3000 simulated records + 7 invalid lines
#   r0 (case 2) a broker address where nothing listens: never ready
#   h  (cases 4, 7) alerts flowing while the alert log is rotated 5 times
#   c  (cases 5, 7) -c on a config file the test owns, reloaded bad and good
#   n  (case 6) NOTIFY_SOCKET and WATCHDOG_USEC=2000000
#   1. every /metrics scrape taken during the run is valid text exposition
#      0.0.4 (HELP/TYPE before the samples, each family one group, names,
#      labels, float values, counters named *_total, no duplicate series), and
#      the counters match what was sent: consumed == produced, rejected
#      {reason="invalid_json"} == the invalid lines, alerts == alert log lines
#   2. /readyz: 503 with no partitions, 200 once assigned, 503 once the broker
#      is gone (the assignment is lost after session.timeout.ms), not 200 once
#      SIGTERM is being handled; /healthz 200
#   3. HTTP abuse: garbage -> 400, 10 KiB of headers -> 431 (or closed), a
#      slow and a trickling client are dropped after ~1 s while other requests
#      are answered, POST /metrics -> 405, GET /nope -> 404
#   4. SIGHUP rotation while alerts flow: no torn line, and the alert ids of
#      all the files equal those of the output topic (none lost, none twice)
#   5. SIGHUP with a bad config keeps the running one (alerts go on with the
#      old threshold); a good one is applied (alerts carry the new threshold)
#   6. sd_notify: READY=1, WATCHDOG=1 about every second, RELOADING=1 and
#      READY=1 around SIGHUP, STOPPING=1 at SIGTERM, exit 0
#   7. real alerts (alert logs and the output topic) validate against the JSON
#      Schema of docs/alerts.md, members in the documented order
#   it_ops.sh ANOMALYD SOURCE_DIR
set -uo pipefail
# shellcheck source=lib/kafka.sh
source "$2/tests/lib/kafka.sh"
kt_init "$1" "$2"
W=$KT_WORK
OPS=$W/ops.py

# ---- python helpers (standard library only) ------------------------------------------------
cat >"$OPS" <<'PY'
"""Helpers of tests/it_ops.sh. Subcommands print "ok<TAB>message" or
"FAIL<TAB>message" lines where they judge a case (see report() in the test)."""
import json, os, re, select, socket, statistics, sys, threading, time
from collections import Counter
from datetime import datetime

def say(good, msg):
    print("%s\t%s" % ("ok" if good else "FAIL", msg), flush=True)

# ---- HTTP over a raw socket -------------------------------------------------------------
def http(port, data, timeout=5.0):
    """Sends data, reads to EOF. Returns status (None when no response), headers,
    body and a note on what went wrong on the socket (refused, reset, timeout)."""
    r = {"status": None, "headers": {}, "body": b"", "note": ""}
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as e:
        r["note"] = "connect: " + type(e).__name__
        return r
    buf = b""
    with s:
        try:
            s.sendall(data)
        except OSError as e:
            r["note"] += "send: %s " % type(e).__name__
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                buf += b
        except socket.timeout:
            r["note"] += "timeout "
        except OSError as e:
            r["note"] += "recv: %s " % type(e).__name__
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] ([0-9]{3}) ", head)
    if m:
        r["status"] = int(m.group(1))
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            r["headers"][k.strip().lower().decode()] = v.strip().decode()
        r["body"] = body
    elif buf:
        r["note"] += "unparsable response %r" % buf[:60]
    r["note"] = r["note"].strip() or ("closed without a response" if r["status"] is None else "")
    return r

def request(port, method, path, extra="", timeout=5.0):
    body = "Content-Length: 0\r\n" if method in ("POST", "PUT") else ""
    return http(port, ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s\r\n"
                       % (method, path, body, extra)).encode(), timeout)

def cmd_req(port, method, path, out=None):
    """Prints the status (or none:NOTE); the body goes to OUT, the Content-Type to OUT.ctype."""
    r = request(int(port), method, path)
    if out:
        with open(out + ".tmp", "wb") as f:
            f.write(r["body"])
        with open(out + ".ctype", "w") as f:
            f.write(r["headers"].get("content-type", "") + "\n")
        os.rename(out + ".tmp", out)
    print(r["status"] if r["status"] is not None else "none:" + r["note"].replace(" ", "_"))

def cmd_scraper(port, outdir, seconds, interval):
    """Scrapes /metrics every INTERVAL s for SECONDS s into OUTDIR/NNNN.prom."""
    os.makedirs(outdir, exist_ok=True)
    end, i = time.monotonic() + float(seconds), 0
    while time.monotonic() < end:
        r = request(int(port), "GET", "/metrics", timeout=3)
        if r["status"] == 200:
            p = os.path.join(outdir, "%04d.prom" % i)
            with open(p + ".ctype", "w") as f:
                f.write(r["headers"].get("content-type", "") + "\n")
            with open(p + ".tmp", "wb") as f:
                f.write(r["body"])
            os.rename(p + ".tmp", p)
            i += 1
        time.sleep(float(interval))

# ---- Prometheus text exposition format 0.0.4 ----------------------------------------------
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LNAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z|[+-]?Inf\Z|NaN\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}

def parse_labels(s, i, errs, where):
    """s[i] == '{'; returns (labels, index after '}')."""
    labels, i = {}, i + 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = LNAME.match(s, i)
        if not m:
            errs.append("%s: bad label name at %r" % (where, s[i:i + 20])); return labels, None
        name, i = m.group(0), m.end()
        if s[i:i + 2] != '="':
            errs.append("%s: expected =\" after label %s" % (where, name)); return labels, None
        i += 2
        val = []
        while i < len(s) and s[i] != '"':
            if s[i] == "\\":
                if s[i + 1:i + 2] not in ("\\", '"', "n"):
                    errs.append("%s: bad escape in label %s" % (where, name)); return labels, None
                val.append({"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]]); i += 2
            else:
                val.append(s[i]); i += 1
        if i >= len(s):
            errs.append("%s: unterminated label value" % where); return labels, None
        i += 1
        if name in labels:
            errs.append("%s: label %s twice" % (where, name))
        labels[name] = "".join(val)
        if s[i:i + 1] == ",":
            i += 1
        elif s[i:i + 1] != "}":
            errs.append("%s: expected , or } after label %s" % (where, name)); return labels, None

def prom_parse(text, errs, where):
    """Validates TEXT; returns [(name, labels, value)]."""
    samples, helps, types, seen_sample = [], {}, {}, set()
    current, done, series = None, set(), set()
    if text and not text.endswith("\n"):
        errs.append("%s: does not end with a newline" % where)
    def family_line(fam, n):
        nonlocal current
        if fam != current:
            if fam in done:
                errs.append("%s:%d: the lines of %s are not one group (interrupted by %s)"
                            % (where, n, fam, current))
            if current is not None:
                done.add(current)
            current = fam
    for n, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        w = "%s:%d" % (where, n)
        if "\r" in line:
            errs.append("%s: carriage return" % w)
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not NAME.fullmatch(parts[2]):
                    errs.append("%s: bad metric name in %r" % (w, line)); continue
                fam = parts[2]
                family_line(fam, n)
                if fam in seen_sample:
                    errs.append("%s: # %s %s after its samples" % (w, parts[1], fam))
                if parts[1] == "HELP":
                    if fam in helps:
                        errs.append("%s: second HELP for %s" % (w, fam))
                    doc = parts[3] if len(parts) > 3 else ""
                    if re.search(r"\\[^\\n]|\\$", doc):
                        errs.append("%s: bad escape in HELP %s" % (w, fam))
                    helps[fam] = doc
                else:
                    if fam in types:
                        errs.append("%s: second TYPE for %s" % (w, fam))
                    t = parts[3].strip() if len(parts) > 3 else ""
                    if t not in TYPES:
                        errs.append("%s: bad type %r for %s" % (w, t, fam))
                    if t == "counter" and not fam.endswith("_total"):
                        errs.append("%s: counter %s does not end in _total" % (w, fam))
                    types[fam] = t
            continue  # other comments are allowed
        m = NAME.match(line)
        if not m:
            errs.append("%s: bad sample line %r" % (w, line)); continue
        name, i, labels = m.group(0), m.end(), {}
        if line[i:i + 1] == "{":
            labels, i = parse_labels(line, i, errs, w)
            if i is None:
                continue
        rest = line[i:]
        if not rest[:1] in (" ", "\t"):
            errs.append("%s: no blank between name and value in %r" % (w, line)); continue
        fields = rest.split()
        if not 1 <= len(fields) <= 2 or not FLOAT.match(fields[0]) or \
                (len(fields) == 2 and not re.fullmatch(r"-?[0-9]+", fields[1])):
            errs.append("%s: bad value/timestamp in %r" % (w, line)); continue
        value = float(fields[0].replace("Inf", "inf").replace("NaN", "nan"))
        fam = name
        if name not in types:
            for suf, kinds in (("_bucket", ("histogram",)), ("_sum", ("histogram", "summary")),
                               ("_count", ("histogram", "summary"))):
                if name.endswith(suf) and types.get(name[:-len(suf)]) in kinds:
                    fam = name[:-len(suf)]
        if fam not in types:
            errs.append("%s: sample %s without a preceding # TYPE" % (w, name))
        if fam not in helps:
            errs.append("%s: sample %s without a preceding # HELP" % (w, name))
        family_line(fam, n)
        seen_sample.add(fam)
        if types.get(fam) == "counter" and not value >= 0:
            errs.append("%s: counter %s has value %s" % (w, name, fields[0]))
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            errs.append("%s: duplicate series %s%s" % (w, name, labels))
        series.add(key)
        samples.append((name, labels, value))
    return samples

def cmd_prom(*files):
    """Validates every scrape; exit status 1 with the problems printed."""
    errs = []
    for p in files:
        prom_parse(open(p, encoding="utf-8").read(), errs, os.path.basename(p))
        if os.path.exists(p + ".ctype"):
            ct = open(p + ".ctype").read().strip()
            if not re.match(r"text/plain; *version=0\.0\.4(;|$)", ct):
                errs.append("%s: Content-Type %r" % (os.path.basename(p), ct))
    # The same problem in every scrape: report each kind once.
    uniq = sorted({re.sub(r"^[^:]*:[0-9]+: ", "", e) for e in errs})
    for e in uniq[:12]:
        print("   " + e)
    print("%d scrapes, %d problems (%d kinds)" % (len(files), len(errs), len(uniq)))
    sys.exit(1 if errs else 0)

def cmd_val(path, name, *filters):
    """Sum of the samples NAME{filters} of one scrape ("k=v" filters)."""
    want = dict(f.split("=", 1) for f in filters)
    errs = []
    tot = sum(v for n, l, v in prom_parse(open(path).read(), errs, path)
              if n == name and all(l.get(k) == x for k, x in want.items()))
    print("%d" % tot if tot == int(tot) else tot)

# ---- case 3: malformed, oversized and slow requests ---------------------------------------
def cmd_abuse(port):
    port = int(port)
    slow = {}

    def slow_client(name, trickle):
        start = time.monotonic()
        got, closed = b"", None
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError as e:
            slow[name] = (None, b"", "connect: " + type(e).__name__); return
        with s:
            try:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                while time.monotonic() - start < 9 and closed is None:
                    if trickle:
                        try:
                            s.send(b"a")
                        except OSError:
                            closed = time.monotonic(); break
                    r, _, _ = select.select([s], [], [], 0.4 if trickle else 0.2)
                    if r:
                        try:
                            b = s.recv(4096)
                        except OSError:
                            b = b""
                        if not b:
                            closed = time.monotonic()
                        got += b
            except OSError:
                closed = time.monotonic()
        slow[name] = (closed - start if closed else None, got, "")

    threads = [threading.Thread(target=slow_client, args=(n, t))
               for n, t in (("half a request, then silence", False),
                            ("one header byte every 0.4 s", True))]
    for t in threads:
        t.start()
    time.sleep(0.2)

    r = http(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xde\xad\xbe\xef\r\n\r\n")
    say(r["status"] == 400, "http: binary garbage -> %s" % (r["status"] or r["note"]))
    r = http(port, b"hello there, this is not HTTP\r\n\r\n")
    say(r["status"] == 400, "http: a line of text -> %s" % (r["status"] or r["note"]))
    pad = "a" * 10240
    r = request(port, "GET", "/metrics", "X-Pad: %s\r\n" % pad)
    good = r["status"] == 431 or (r["status"] is None and "timeout" not in r["note"])
    say(good, "http: 10 KiB of headers -> %s" % (r["status"] or r["note"]))
    r = request(port, "GET", "/healthz", "X-Pad: %s\r\n" % ("a" * 7000))
    say(r["status"] == 200, "http: 7 KiB of headers (under the 8 KiB cap) -> %s"
        % (r["status"] or r["note"]))
    r = request(port, "POST", "/metrics")
    say(r["status"] == 405 and "GET" in r["headers"].get("allow", ""),
        "http: POST /metrics -> %s (Allow: %s)" % (r["status"] or r["note"],
                                                   r["headers"].get("allow")))
    r = request(port, "GET", "/nope")
    say(r["status"] == 404, "http: GET /nope -> %s" % (r["status"] or r["note"]))
    r = request(port, "HEAD", "/healthz")
    say(r["status"] == 200 and r["body"] == b"", "http: HEAD /healthz -> %s, %d body bytes"
        % (r["status"] or r["note"], len(r["body"])))

    # Other requests are answered while the slow clients hold their connections.
    answered = []
    while any(t.is_alive() for t in threads) and len(answered) < 40:
        r = request(port, "GET", "/healthz", timeout=3)
        answered.append(r["status"])
        time.sleep(0.25)
    for t in threads:
        t.join(12)
    say(len(answered) >= 2 and all(s == 200 for s in answered),
        "http: %d of %d /healthz requests answered 200 while the slow clients were connected"
        % (answered.count(200), len(answered)))
    for name, (after, got, note) in sorted(slow.items()):
        say(after is not None and 0.7 <= after <= 2.5 and not got.startswith(b"HTTP/1.1 200"),
            "http: slow client (%s) dropped after %s s (%d response bytes)%s"
            % (name, "%.1f" % after if after is not None else "never", len(got),
               " " + note if note else ""))

# ---- case 6: the notify socket -------------------------------------------------------------
def cmd_notify_listen(path, out, ready, seconds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + path[1:] if path.startswith("@") else path)
    open(ready, "w").close()
    end = time.monotonic() + float(seconds)
    with open(out, "a") as f:
        while time.monotonic() < end:
            s.settimeout(max(0.05, end - time.monotonic()))
            try:
                data = s.recv(4096)
            except socket.timeout:
                break
            f.write(json.dumps([time.monotonic(), data.decode("utf-8", "replace")]) + "\n")
            f.flush()

def cmd_notify_check(path):
    msgs = [json.loads(l) for l in open(path)]
    seq = [m.split("\n")[0] for t, m in msgs if m != "WATCHDOG=1"]
    say(seq == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"],
        "notify: READY=1, RELOADING=1, READY=1, STOPPING=1 in order (got %s)" % seq)
    first_ready = next((m for t, m in msgs if m.startswith("READY=1")), "")
    say("STATUS=consuming" in first_ready.split("\n"),
        "notify: the first READY=1 came with the partitions: %r" % first_ready)
    stop_t = next((t for t, m in msgs if m.startswith("STOPPING=1")), float("inf"))
    wd = [t for t, m in msgs if m == "WATCHDOG=1" and t < stop_t]
    gaps = [b - a for a, b in zip(wd, wd[1:])]
    med = statistics.median(gaps) if gaps else 0
    say(len(wd) >= 4 and 0.8 <= med <= 1.25 and max(gaps) < 1.9,
        "notify: %d WATCHDOG=1 before STOPPING=1, every %.2f s (median; max %.2f s; "
        "WATCHDOG_USEC=2 s)" % (len(wd), med, max(gaps) if gaps else 0))
    ti = {}
    for t, m in msgs:
        ti.setdefault(m.split("\n")[0], []).append(t)
    rl, rd = ti.get("RELOADING=1", [None])[0], ti.get("READY=1", [])
    after = [t for t in rd if rl is not None and t >= rl]
    say(bool(after) and after[0] - rl < 2.0,
        "notify: READY=1 %s after RELOADING=1" % ("%.3f s" % (after[0] - rl) if after else "never"))
    between = [t for t in wd if rd and rl is not None and rd[0] < t < rl]
    say(len(between) >= 2, "notify: %d WATCHDOG=1 between READY=1 and RELOADING=1" % len(between))

# ---- alerts ----------------------------------------------------------------------------------
def strict_json(line):
    def no_constant(c):
        raise ValueError("not JSON: %s" % c)
    return json.loads(line, parse_constant=no_constant)

def alert_lines(path):
    """(lines, problems) of an alert log: each line complete JSON, the file ends with \\n."""
    raw = open(path, "rb").read()
    probs = []
    if raw and not raw.endswith(b"\n"):
        probs.append("%s: the last line is not complete" % path)
    out = []
    for i, l in enumerate(raw.split(b"\n")[:-1], 1):
        try:
            a = strict_json(l.decode("utf-8"))
            if not isinstance(a, dict) or "alert_id" not in a:
                raise ValueError("not an alert")
            out.append(a)
        except ValueError as e:
            probs.append("%s:%d: %s: %r" % (os.path.basename(path), i, e, l[:80]))
    return out, probs

def topic_alerts(envelopes):
    return [strict_json(json.loads(l)["payload"]) for l in open(envelopes)]

def cmd_rotation(envelopes, *files):
    alerts, probs, sizes = [], [], []
    for p in files:
        a, pr = alert_lines(p)
        alerts += a
        probs += pr
        sizes.append(len(a))
    say(not probs and all(sizes),
        "rotation: every line of the %d files is complete JSON (%s lines)%s"
        % (len(files), "+".join(map(str, sizes)), "; " + "; ".join(probs[:3]) if probs else ""))
    got = Counter(a["alert_id"] for a in alerts)
    want = Counter(a["alert_id"] for a in topic_alerts(envelopes))
    lost, extra = want - got, got - want
    say(len(want) > 0 and not lost and not extra,
        "rotation: the files hold exactly the %d alerts of the output topic "
        "(%d missing from the files, %d not on the topic)"
        % (sum(want.values()), sum(lost.values()), sum(extra.values())))

def cmd_thresholds(path):
    """The alerts' thresholds, run-length encoded: 4:120,3:40."""
    runs = []
    for a in alert_lines(path)[0]:
        t = "%g" % a.get("threshold")
        if runs and runs[-1][0] == t:
            runs[-1][1] += 1
        else:
            runs.append([t, 1])
    print(",".join("%s:%d" % (t, n) for t, n in runs))

ORDER = ["alert_id", "key", "metric", "window_start", "window_end", "value", "expected",
         "score", "lower", "upper", "kind", "stddev", "zscore", "threshold", "direction", "n",
         "detector", "source", "remote"]
SUBSET = {"$schema", "$id", "title", "description", "type", "required", "properties",
          "additionalProperties", "pattern", "enum", "minimum", "exclusiveMinimum", "format"}

def is_type(v, t):
    return {"object": isinstance(v, dict), "array": isinstance(v, list),
            "string": isinstance(v, str), "boolean": isinstance(v, bool), "null": v is None,
            "integer": isinstance(v, int) and not isinstance(v, bool)
            or isinstance(v, float) and v.is_integer(),
            "number": isinstance(v, (int, float)) and not isinstance(v, bool)}[t]

def mini_validate(schema, v, path, errs):
    """The subset of JSON Schema 2020-12 that docs/alerts.md uses (SUBSET)."""
    for k in schema:
        if k not in SUBSET:
            errs.append("%s: keyword %s is not implemented by the fallback checker" % (path, k))
    t = schema.get("type")
    if t is not None and not any(is_type(v, x) for x in (t if isinstance(t, list) else [t])):
        errs.append("%s: %r is not of type %s" % (path, v, t)); return
    if "enum" in schema and not any(v == e and type(v) == type(e) for e in schema["enum"]):
        errs.append("%s: %r not in %s" % (path, v, schema["enum"]))
    if isinstance(v, str) and "pattern" in schema and not re.search(schema["pattern"], v):
        errs.append("%s: %r does not match %s" % (path, v, schema["pattern"]))
    if is_type(v, "number"):
        if "minimum" in schema and not v >= schema["minimum"]:
            errs.append("%s: %r < %r" % (path, v, schema["minimum"]))
        if "exclusiveMinimum" in schema and not v > schema["exclusiveMinimum"]:
            errs.append("%s: %r <= %r" % (path, v, schema["exclusiveMinimum"]))
    if isinstance(v, dict):
        for r in schema.get("required", []):
            if r not in v:
                errs.append("%s: %s is missing" % (path, r))
        for k, sub in schema.get("properties", {}).items():
            if k in v:
                mini_validate(sub, v[k], path + "." + k, errs)
        if schema.get("additionalProperties") is False:
            for k in v:
                if k not in schema.get("properties", {}):
                    errs.append("%s: unexpected member %s" % (path, k))

def date_time_errors(schema, a):
    """format: date-time, checked here whatever the validator does with formats."""
    errs = []
    for k, sub in schema.get("properties", {}).items():
        if sub.get("format") == "date-time" and isinstance(a.get(k), str):
            v = a[k]
            try:
                datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")
            except ValueError:
                errs.append("%s: %r is not an RFC 3339 UTC time" % (k, v))
    if not errs and "window_start" in a and "window_end" in a and a["window_end"] < a["window_start"]:
        errs.append("window_end %s before window_start %s" % (a["window_end"], a["window_start"]))
    return errs

def cmd_schema(md, *files):
    text = open(md, encoding="utf-8").read()
    m = re.search(r"^## JSON Schema\n.*?^```json\n(.*?)^```", text, re.S | re.M)
    schema = json.loads(m.group(1))
    try:  # Debian's python3-jsonschema when installed, else the hand-written subset checker
        import jsonschema
        jsonschema.Draft202012Validator.check_schema(schema)
        v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        check = lambda a: [("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message))
                           for e in v.iter_errors(a)]
        how = "jsonschema (Draft 2020-12)"
    except ImportError:
        def check(a):
            errs = []
            mini_validate(schema, a, "$", errs)
            return errs
        how = "the hand-written subset checker (no jsonschema module)"
    n, bad, order_bad, probs, srcs = 0, [], [], [], []
    for p in files:
        if p.endswith(".json"):  # kcat -J envelopes of the output topic
            alerts = topic_alerts(p)
        else:
            alerts, pr = alert_lines(p)
            probs += pr
        srcs.append("%s %d" % (os.path.basename(p), len(alerts)))
        for a in alerts:
            n += 1
            errs = check(a) + date_time_errors(schema, a)
            if errs:
                bad.append("%s: %s" % (a.get("alert_id"), "; ".join(errs)))
            keys = [k for k in a if k in ORDER]
            if keys != sorted(keys, key=ORDER.index) or list(a)[:len(keys)] != keys:
                order_bad.append("%s: %s" % (a.get("alert_id"), list(a)))
    say(n >= 50 and not bad and not probs,
        "schema: %d alerts (%s) validate against docs/alerts.md's JSON Schema with %s%s"
        % (n, ", ".join(srcs), how, "".join("\n   " + e for e in (probs + bad)[:5])))
    say(n > 0 and not order_bad, "schema: members in the documented order in all %d alerts%s"
        % (n, "".join("\n   " + e for e in order_bad[:3])))

if __name__ == "__main__":
    cmd = sys.argv[1].replace("-", "_")
    globals()["cmd_" + cmd](*sys.argv[2:])
PY

# ---- bash helpers --------------------------------------------------------------------------------
# report FILE: the ok/FAIL lines of a helper, counted.
report() {
  local st msg
  while IFS=$'\t' read -r st msg; do
    case $st in
      ok) ok "$msg" ;;
      FAIL) fail "$msg" ;;
      *) echo "$st${msg:+	$msg}" ;; # continuation lines
    esac
  done <"$1"
}
port_of() { sed -n 's/.*serving \/metrics.*(port \([0-9]*\)).*/\1/p' "$W/$1.log" | head -1; }
req() { "$KT_PY" "$OPS" req "$@"; }                     # PORT METHOD PATH [OUT]: the status
status_is() { [ "$(req "$1" GET "$2")" = "$3" ]; }       # PORT PATH STATUS
scrape() { [ "$(req "$(port_of "$1")" GET /metrics "$2")" = 200 ]; } # NAME OUT
val() { "$KT_PY" "$OPS" val "$@"; }                     # SCRAPE NAME [k=v]...: summed samples
lines_ge() { [ "$(count_lines "$1")" -ge "$2" ]; }       # FILE N
# ops_daemon NAME IN OUT [--set ...]: kt_daemon in its own group, topics and state dir.
ops_daemon() {
  local name=$1 in=$2 out=$3; shift 3
  mkdir -p "$W/state.$name"
  kt_daemon "$name" --set source.kafka.group="g.$name" --set "source.kafka.topics=[$in]" \
    --set sinks.kafka.topic="$out" --set state.dir="$W/state.$name" "$@"
}
# caught_up NAME TOPIC: the daemon's consumed counter equals the topic's size.
caught_up() {
  scrape "$1" "$W/$1.caught.prom" &&
    [ "$(val "$W/$1.caught.prom" anomalyd_records_consumed_total)" = "$(topic_count "$2")" ]
}

# ---- start: the cluster, the notify listener, five daemons, the producers ----------------------
kt_broker c1in:4 c1out:4 c4in:2 c4out:2 c5in:2 c5out:2 c6in:1 c6out:1 dlq:1

NS=$W/notify.sock
[ ${#NS} -lt 100 ] || NS=@anomalyd-it-ops-$$ # sun_path holds 108 bytes
kt_bg notify "$KT_PY" "$OPS" notify-listen "$NS" "$W/notify.jsonl" "$W/notify.ready" 85
wait_for 5 test -e "$W/notify.ready" || fail "notify: the listener did not bind $NS"

# r0: nothing listens at its broker address (a port just bound and released).
dead=$("$KT_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
real_addr=$ADDR
ADDR=127.0.0.1:$dead
kt_daemon r0 --set source.kafka.group=g.r0 --set state.dir=
ADDR=$real_addr

ops_daemon m c1in c1out
PM=$(port_of m)
# Right at start, before the group assigned anything (the mock's rebalance takes ~3 s).
early=$(req "$PM" GET /readyz)
log_has m "\[kafka\] assigned" && early_assigned=1 || early_assigned=0
kt_bg scr "$KT_PY" "$OPS" scraper "$PM" "$W/scrapes" 80 0.4
kt_bg abuse "$KT_PY" "$OPS" abuse "$PM"

ops_daemon h c4in c4out --set model.welford.min_samples=5

cp "$KT_SRC/config/examples/scenario-c-sensors.yaml" "$W/c5.orig.yaml"
cp "$W/c5.orig.yaml" "$W/c5.yaml"
saved_cfg=$KT_CFG
KT_CFG=$W/c5.yaml
ops_daemon c c5in c5out --set model.welford.min_samples=5
KT_CFG=$saved_cfg

export NOTIFY_SOCKET=$NS WATCHDOG_USEC=2000000
ops_daemon n c6in c6out --set state.dir=
unset NOTIFY_SOCKET WATCHDOG_USEC

# Case 1's input: 7 invalid lines (kcat) and 3000 simulated records, while m runs.
cat >"$W/c1.invalid" <<'EOF'
{"id":"sim-0","ts":1795168800000,"temp":
this is not json
{"id":"sim-6" "ts":1795168806000}
{"id":"sim-1","ts":1795168801000,"temp":21.5
{{}
{"id":"sim-2","ts":1795168802000,"temp":21.5,}
[1,2
EOF
N1=3000
n_invalid=$(count_lines "$W/c1.invalid")
kcat -P -b "$ADDR" -t c1in -l "$W/c1.invalid" 9>&- 2>"$W/c1.kcat.err" ||
  fail "metrics: kcat could not produce: $(cat "$W/c1.kcat.err")"
kt_bg sim1 "$KT_BIN" simulate --format sensor --count "$N1" --devices 20 --seed 5 \
  --anomaly-rate 0.01 --brokers "$ADDR" --topic c1in --rate 1500
SIMH=(--format sensor --count 0 --devices 10 --anomaly-rate 0.05 --rate 400)
kt_bg sim4 "$KT_BIN" simulate "${SIMH[@]}" --seed 41 --brokers "$ADDR" --topic c4in
kt_bg sim5 "$KT_BIN" simulate "${SIMH[@]}" --seed 51 --brokers "$ADDR" --topic c5in

# ---- 2. /readyz and /healthz ----------------------------------------------------------------------
P0=$(port_of r0)
r=$(req "$P0" GET /readyz "$W/r0.readyz")
check "readyz: 503 while no broker answers ($r: $(tr '\n' ' ' <"$W/r0.readyz" 2>/dev/null))" \
  eval '[ "$r" = 503 ] && grep -q "partitions: none" "$W/r0.readyz"'
check "healthz: 200 while no broker answers" status_is "$P0" /healthz 200
if [ "$early_assigned" = 0 ]; then
  check "readyz: $early right at start, before the assignment" [ "$early" = 503 ]
else
  ok "readyz: (m was assigned before the first request; r0's 503 covers it)"
fi
kt_signal r0 TERM
kt_wait_exit r0 10 && [ "$(kt_rc r0)" = 0 ] || fail "readyz: r0 -> exit $(kt_rc r0) on SIGTERM"
wait_for 15 log_has m "\[kafka\] assigned" || fail "readyz: m got no partitions in 15 s"
if wait_for 5 status_is "$PM" /readyz 200; then
  ok "readyz: 200 once assigned"
else
  fail "readyz: $(req "$PM" GET /readyz) after the assignment"
fi
check "healthz: 200" status_is "$PM" /healthz 200

# ---- 6. the notify protocol ---------------------------------------------------------------------
notify_has() { [ "$(grep -c "\"$1" "$W/notify.jsonl" 2>/dev/null)" -ge "$2" ]; } # MSG N
wait_for 15 notify_has READY=1 1 || fail "notify: no READY=1 within 15 s"
sleep 3.2 # three watchdog periods
kt_signal n HUP
wait_for 5 notify_has READY=1 2 || fail "notify: no READY=1 after SIGHUP"
sleep 1.5
kt_stop_ok n "notify"
"$KT_PY" "$OPS" notify-check "$W/notify.jsonl" >"$W/notify.report"
report "$W/notify.report"

# ---- 5. reload with a bad config keeps the running one ---------------------------------------------
C=$W/c.alerts.jsonl
wait_for 20 lines_ge "$C" 3 || fail "reload: c made no alerts within 20 s"
# a) not YAML; b) YAML, a new threshold (2.5), and a bad value elsewhere: nothing of it may apply.
printf 'source:\n  kafka:\n    topics: [c5in\nmodel: {welford: {threshold: 2.5}\n' >"$W/c5.yaml"
kt_signal c HUP
wait_for 5 eval '[ "$(log_count c "keeping the running config")" -ge 1 ]'
sed -e 's/threshold: 4.0/threshold: 2.5/' -e 's/start: latest/start: sometimes/' \
  "$W/c5.orig.yaml" >"$W/c5.yaml"
kt_signal c HUP
if wait_for 5 eval '[ "$(log_count c "keeping the running config")" = 2 ]'; then
  ok "reload: 2 bad configs -> 2 errors, e.g. $(grep "keeping the running config" "$W/c.log" |
    tail -1 | sed 's/.*\[daemon\] //')"
else
  fail "reload: the bad configs were not reported: $(grep -i "reload\|error" "$W/c.log" | tail -3)"
fi
check "reload: both errors name the file" \
  eval '[ "$(grep -c "while reloading the config: .*c5\.yaml" "$W/c.log")" = 2 ]'
n_bad=$(count_lines "$C")
if wait_for 10 eval '! kt_exited c && lines_ge "$C" $((n_bad + 3))'; then
  ok "reload: still running and alerting after the bad reloads ($n_bad -> $(count_lines "$C") alerts)"
else
  fail "reload: after the bad reloads: exit $(kt_rc c), $(count_lines "$C") alerts (had $n_bad)"
fi
sed -e 's/threshold: 4.0/threshold: 3.0/' "$W/c5.orig.yaml" >"$W/c5.yaml"
kt_signal c HUP
check "reload: a good config -> \"config reloaded\"" \
  wait_for 5 log_has c "config reloaded from $W/c5.yaml"
wait_for 10 grep -q '"threshold":3,' "$C" || fail "reload: no alert with threshold 3 within 10 s"
runs=$("$KT_PY" "$OPS" thresholds "$C")
# 4 (the file's) until the good reload, never 2.5, then only 3; min_samples=5 (--set) kept.
check "reload: alert thresholds in order: $runs" eval '[[ $runs =~ ^4:[0-9]+,3:[0-9]+$ ]]'
if scrape c "$W/c.final.prom"; then
  e=$(val "$W/c.final.prom" anomalyd_config_reloads_total result=error)
  o=$(val "$W/c.final.prom" anomalyd_config_reloads_total result=ok)
  check "reload: anomalyd_config_reloads_total error=$e ok=$o (want 2, 1)" \
    eval '[ "$e" = 2 ] && [ "$o" = 1 ]'
else
  fail "reload: no /metrics from c"
fi
kt_signal sim5 TERM
# Case 2: no 200 once SIGTERM is being handled. ad_daemon_stop() runs on the loop (producer
# flush, commit, close) and closes the listener before the loop turns again, so the answer is
# a refused or dropped connection rather than the 503 that on_http() would give.
PC=$(port_of c)
kt_signal c TERM
wait_for 10 log_has c "received SIGTERM, stopping"
r=$(req "$PC" GET /readyz)
check "readyz: not 200 once SIGTERM is being handled (got $r)" [ "$r" != 200 ]
if kt_wait_exit c 10 && [ "$(kt_rc c)" = 0 ]; then
  ok "reload: SIGTERM -> exit 0"
else
  fail "reload: SIGTERM -> exit $(kt_rc c)"
fi
kt_wait_exit sim5 10 || fail "reload: the simulator did not stop"

# ---- 4. SIGHUP rotation while alerts flow -------------------------------------------------------------
H=$W/h.alerts.jsonl
wait_for 20 lines_ge "$H" 2 || fail "rotation: h made no alerts within 20 s"
files=()
for i in 1 2 3 4 5; do
  wait_for 10 lines_ge "$H" 2 || fail "rotation $i: no new alerts within 10 s"
  mv "$H" "$H.$i"
  files+=("$H.$i")
  kt_signal h HUP
  wait_for 5 test -e "$H" || fail "rotation $i: the alert log was not reopened"
done
wait_for 10 lines_ge "$H" 2 || fail "rotation: no alerts in the new file within 10 s"
files+=("$H")
kt_signal sim4 TERM
kt_wait_exit sim4 10 || fail "rotation: the simulator did not stop"
wait_for 20 caught_up h c4in || fail "rotation: h did not consume all of c4in within 20 s"
check "rotation: 5 SIGHUPs, 5 reloads logged" eval '[ "$(log_count h "config reloaded")" = 5 ]'
kt_stop_ok h "rotation"
consume c4out "$W/c4out.json" || fail "rotation: kcat could not read c4out"
"$KT_PY" "$OPS" rotation "$W/c4out.json" "${files[@]}" >"$W/rotation.report"
report "$W/rotation.report"

# ---- 1. metrics --------------------------------------------------------------------------------------
n_in=$((N1 + n_invalid))
kt_wait_exit sim1 30 || fail "metrics: the simulator did not finish"
check "metrics: c1in holds the $n_in records sent" eval '[ "$(topic_count c1in)" = "$n_in" ]'
if wait_for 20 caught_up m c1in; then
  ok "metrics: sum of anomalyd_records_consumed_total == $n_in records produced"
else
  fail "metrics: anomalyd_records_consumed_total is $(val "$W/m.caught.prom" anomalyd_records_consumed_total), $n_in records produced"
fi
wait_for 5 scrape m "$W/m.final.prom" || fail "metrics: no final scrape of m"
F=$W/m.final.prom
v=$(val "$F" anomalyd_records_rejected_total reason=invalid_json)
check "metrics: anomalyd_records_rejected_total{reason=\"invalid_json\"} $v == $n_invalid lines" \
  [ "$v" = "$n_invalid" ]
v=$(val "$F" anomalyd_records_rejected_total)
check "metrics: all reasons sum to $v == $n_invalid" [ "$v" = "$n_invalid" ]
v=$(val "$F" anomalyd_points_total)
check "metrics: anomalyd_points_total $v == $N1 valid records" [ "$v" = "$N1" ]
v=$(val "$F" anomalyd_alerts_total)
check "metrics: sum of anomalyd_alerts_total $v == $(count_lines "$W/m.alerts.jsonl") alert log lines" \
  eval '[ "$v" -gt 0 ] && [ "$v" = "$(count_lines "$W/m.alerts.jsonl")" ]'
v=$(val "$F" anomalyd_dead_letters_total)
check "metrics: anomalyd_dead_letters_total $v == $n_invalid" [ "$v" = "$n_invalid" ]

# ---- 7. the alerts against docs/alerts.md's JSON Schema -----------------------------------------------
consume c1out "$W/c1out.json" || fail "schema: kcat could not read c1out"
"$KT_PY" "$OPS" schema "$KT_SRC/docs/alerts.md" "$W/m.alerts.jsonl" "$W/c1out.json" \
  "${files[@]}" "$W/c.alerts.jsonl" >"$W/schema.report"
report "$W/schema.report"

# ---- 2. the broker goes away: the assignment is lost after session.timeout.ms -> 503 ------------------
kt_broker_stop
if wait_for 15 eval '[ "$(req "$PM" GET /readyz)" = 503 ]'; then
  ok "readyz: 503 once the broker is gone ($(grep -c "\[kafka\] lost" "$W/m.log") partitions lost)"
else
  fail "readyz: $(req "$PM" GET /readyz) 15 s after the broker went away"
fi
check "healthz: 200 with the broker gone" status_is "$PM" /healthz 200
kt_signal scr TERM
kt_wait_exit scr 5

# Case 1 (format) over every scrape: the scraper's (before, during and after the run, with the
# broker gone too) and the final ones of m and c.
if "$KT_PY" "$OPS" prom "$W"/scrapes/*.prom "$W/m.final.prom" "$W/c.final.prom" "$W/h.caught.prom" \
  >"$W/prom.report"; then
  ok "metrics: valid text exposition 0.0.4: $(tail -1 "$W/prom.report")"
else
  fail "metrics: not valid text exposition 0.0.4: $(tail -1 "$W/prom.report")"
  head -n -1 "$W/prom.report"
fi

# ---- 3. HTTP abuse (ran in the background since m started) ---------------------------------------------
kt_wait_exit abuse 20 || fail "http: the abuse client did not finish within 20 s"
report "$W/abuse.out"
[ "$(kt_rc abuse)" = 0 ] || fail "http: the abuse client failed: $(tail -3 "$W/abuse.log")"

kt_stop_ok m "shutdown: m (broker gone)"
kt_done
