#!/usr/bin/python3
"""A local stand-in for the Anomaly Detector REST service (and for a webhook
endpoint), for anomalyd's integration tests and benchmarks. Python 3 stdlib
only; one asyncio loop; HTTP/1.1 with keep-alive; any number of concurrent
connections.

    ad_stub_server.py --port-file F --log L [--script S] [--default ACTION]
                      [--attempt-script S] [--webhook-script S]
                      [--webhook-default ACTION] [--k 3.0]

It binds 127.0.0.1 on a port of its choosing and writes the port number to
--port-file (atomically: a temporary file renamed over it) once it accepts.

Paths:
  POST .../timeseries/last/detect     last/detect (api version from the path)
  POST .../timeseries/entire/detect   entire/detect
  GET|POST /_stub/...                 control, never logged nor scripted:
      GET  /_stub/stats               {"requests", "detect", "webhook", "open", "max_open"}
      POST /_stub/default             body: an ACTION, the new default of detect requests
      POST /_stub/webhook-default     body: an ACTION, the new default of webhook requests
      POST /_stub/script              body: ACTIONs, one a line, appended to the script
  POST anything else                  the webhook endpoint

Which action answers a request:
  - detect requests: the attempt script first (--attempt-script: line k is
    the action for the k-th request carrying the same body, i.e. the k-th
    attempt of one window; deterministic under any concurrency), then the
    script (--script: consumed in arrival order), then --default (ok);
  - webhook requests: the same script and default, unless --webhook-script
    or --webhook-default is given, which then give them their own.

Actions:
  ok                   a verdict computed from the series: expectedValue = mean
                       of all points but the last, margins = k * their sample
                       stddev, isAnomaly when the last point is outside the band
                       (v1.1 adds severity); entire/detect answers the aligned
                       arrays (every point against that same band). A webhook
                       request gets 204.
  ok-anomaly           the same numbers, isAnomaly forced true (direction: the
                       side of expectedValue the last point is on)
  ok-normal            the same numbers, isAnomaly forced false
  delay:MS[:ACTION]    wait MS ms after the request arrived, then ACTION (ok)
  429                  gateway envelope, "Rate limit is exceeded. Try again in 1 seconds."
  429-try-again:N      ... "Try again in N seconds." in the body, no header
  429-retry-after:N    Retry-After: N header, body without a delay
  500 | 503            gateway envelope
  400:CODE             service envelope {"code": CODE, "message": ...} and the
                       x-ms-error-code: CODE header (v1.1)
  400-body:CODE        the service envelope without the header (v1.0)
  401                  gateway envelope {"error": {"code": "401", "message": ...}}
  http:STATUS          any status with the gateway envelope
  malformed            200 with a body that is not JSON
  reset                the connection is closed without an answer (RST)
  hang                 never answered; the socket stays open until the client
                       closes it
  webhook-ok           204 (also fine for a detect request: an empty 204)

The log (--log) gets one JSON object per request, written when the request
has been read (before it is answered), flushed at once:
  {"seq", "t" (time.time()), "conn", "method", "path", "api" (last|entire|
   webhook), "version", "headers" (lower-case names), "has_key", "key",
   "attempt" (1 + earlier requests with the same body), "action", "open"
   (requests being handled, this one included), "raw" (the body as text),
   "body" (parsed JSON, or null), "response" (the verdict sent, for ok*)}
"""
import argparse
import asyncio
import json
import math
import os
import signal
import socket
import sys
import time
import traceback

REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


def read_actions(path):
    if not path:
        return []
    out = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def stats(values):
    """Mean and sample stddev of values (0 for fewer than 2)."""
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((x - mean) ** 2 for x in values) / (n - 1))


class Stub:
    def __init__(self, args):
        self.args = args
        self.script = read_actions(args.script)
        self.attempt_script = read_actions(args.attempt_script)
        self.default = args.default
        self.own_webhook = bool(args.webhook_script or args.webhook_default)
        self.webhook_script = read_actions(args.webhook_script)
        self.webhook_default = args.webhook_default or "webhook-ok"
        self.log = open(args.log, "a", buffering=1 << 16) if args.log else None
        self.seq = 0
        self.conns = 0
        self.n = {"requests": 0, "detect": 0, "webhook": 0}
        self.active = {}  # request token -> its socket while it hangs, else None
        self.max_open = 0
        self.bodies = {}

    # ---- choosing an action --------------------------------------------------
    def pick(self, api, raw):
        attempt = self.bodies.get((api, raw), 0) + 1
        self.bodies[(api, raw)] = attempt
        if api == "webhook" and self.own_webhook:
            if self.webhook_script:
                return self.webhook_script.pop(0), attempt
            return self.webhook_default, attempt
        if api != "webhook" and attempt <= len(self.attempt_script):
            return self.attempt_script[attempt - 1], attempt
        if self.script:
            return self.script.pop(0), attempt
        return self.default, attempt

    # ---- verdicts ------------------------------------------------------------
    def verdict(self, api, version, body, force):
        series = body.get("series") if isinstance(body, dict) else None
        if not isinstance(series, list) or not series:
            return None
        values = [float(p.get("value", 0)) for p in series]
        hist = values[:-1] if len(values) > 1 else values
        mean, sd = stats(hist)
        margin = self.args.k * sd

        def one(x):
            pos = x > mean + margin
            neg = x < mean - margin
            an = pos or neg
            if force is not None:
                an = force
                pos = an and x >= mean
                neg = an and x < mean
            sev = 0.0
            if an:
                sev = min(1.0, abs(x - mean) / (margin * 4)) if margin > 0 else 1.0
            return an, pos, neg, sev

        if api == "entire":
            vs = [one(x) for x in values]
            out = {"period": 0,
                   "expectedValues": [mean] * len(values),
                   "upperMargins": [margin] * len(values),
                   "lowerMargins": [margin] * len(values),
                   "isAnomaly": [v[0] for v in vs],
                   "isPositiveAnomaly": [v[1] for v in vs],
                   "isNegativeAnomaly": [v[2] for v in vs]}
            if version == "v1.1":
                out["severity"] = [v[3] for v in vs]
            return out
        an, pos, neg, sev = one(values[-1])
        out = {"period": 0, "suggestedWindow": len(values) + 1, "expectedValue": mean,
               "upperMargin": margin, "lowerMargin": margin, "isAnomaly": an,
               "isNegativeAnomaly": neg, "isPositiveAnomaly": pos}
        if version == "v1.1":
            out["severity"] = sev
        return out

    # ---- responses -----------------------------------------------------------
    @staticmethod
    def response(status, body=b"", headers=(), close=False):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status"))]
        if status != 204:
            lines.append("Content-Type: application/json; charset=utf-8")
            lines.append("Content-Length: %d" % len(body))
        else:
            body = b""
        lines.extend(headers)
        lines.append("Connection: close" if close else "Connection: keep-alive")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def answer(self, action, api, version, body):
        """Returns (bytes or a special string, the verdict sent or None)."""
        gw = lambda code, msg: {"error": {"code": code, "message": msg}}
        if action in ("ok", "ok-anomaly", "ok-normal", "webhook-ok"):
            if api == "webhook" or action == "webhook-ok":
                return self.response(204), None
            force = {"ok": None, "ok-anomaly": True, "ok-normal": False}[action]
            v = self.verdict(api, version, body, force)
            if v is None:
                return self.response(400, {"code": "InvalidSeries",
                                           "message": "The series is missing or empty."},
                                     ["x-ms-error-code: InvalidSeries"]), None
            return self.response(200, v), v
        if action == "429":
            return self.response(429, gw("429", "Rate limit is exceeded. Try again in 1 seconds.")), None
        if action.startswith("429-try-again:"):
            n = int(action.split(":", 1)[1])
            return self.response(429, gw("429", "Rate limit is exceeded. Try again in %d seconds." % n)), None
        if action.startswith("429-retry-after:"):
            n = int(action.split(":", 1)[1])
            return self.response(429, gw("429", "Rate limit is exceeded."),
                                 ["Retry-After: %d" % n]), None
        if action in ("500", "503"):
            st = int(action)
            return self.response(st, gw(str(st), "The service is temporarily unavailable.")), None
        if action.startswith("400:"):
            code = action.split(":", 1)[1]
            return self.response(400, {"code": code, "message": "The request is not valid (%s)." % code},
                                 ["x-ms-error-code: %s" % code]), None
        if action.startswith("400-body:"):
            code = action.split(":", 1)[1]
            return self.response(400, {"code": code, "message": "The request is not valid (%s)." % code}), None
        if action == "401":
            return self.response(401, gw("401", "Access denied due to invalid subscription key or "
                                                "wrong API endpoint. Make sure to provide a valid "
                                                "key for an active subscription and use a correct "
                                                "regional API endpoint for your resource.")), None
        if action.startswith("http:"):
            st = int(action.split(":", 1)[1])
            return self.response(st, gw(str(st), "Status %d." % st)), None
        if action == "malformed":
            return self.response(200, '{"isAnomaly": tru, "expectedValue": '), None
        if action in ("reset", "hang"):
            return action, None
        return self.response(500, gw("StubError", "unknown action %r" % action)), None

    def count_open(self):
        """Requests being handled now. A hung request whose client has closed
        its connection no longer counts, even if its end-of-file has not been
        read yet (the client may already have started the next request)."""
        for token, sock in list(self.active.items()):
            if sock is None:
                continue
            try:
                if sock.recv(1, socket.MSG_PEEK) == b"":
                    self.active.pop(token)
                    sock.close()
            except BlockingIOError:
                pass
            except OSError:
                self.active.pop(token)
                sock.close()
        return len(self.active)

    # ---- control -------------------------------------------------------------
    def control(self, method, path, raw):
        if method == "GET" and path == "/_stub/stats":
            d = dict(self.n)
            d.update(open=self.count_open(), max_open=self.max_open)
            return self.response(200, d)
        if method == "POST" and path == "/_stub/default":
            self.default = raw.strip()
            return self.response(204)
        if method == "POST" and path == "/_stub/webhook-default":
            self.webhook_default = raw.strip()
            self.own_webhook = True
            return self.response(204)
        if method == "POST" and path == "/_stub/script":
            self.script.extend(l.strip() for l in raw.splitlines() if l.strip())
            return self.response(204)
        return self.response(404, {"error": {"code": "404", "message": "no such control"}})

    # ---- one connection ------------------------------------------------------
    async def handle(self, reader, writer):
        self.conns += 1
        conn = self.conns
        sock = writer.get_extra_info("socket")
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = time.time()
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
                headers = {}
                for l in lines[1:]:
                    if ":" in l:
                        k, v = l.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    data = b""
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                        if size == 0:
                            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                                pass  # trailers
                            break
                        data += (await reader.readexactly(size + 2))[:-2]
                else:
                    data = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                raw = data.decode("utf-8", "replace")
                close = headers.get("connection", "").lower() == "close"
                path = target.split("?", 1)[0]
                if path.startswith("/_stub/"):
                    writer.write(self.control(method, path, raw))
                    await writer.drain()
                    if close:
                        break
                    continue
                if path.endswith("/timeseries/last/detect"):
                    api = "last"
                elif path.endswith("/timeseries/entire/detect"):
                    api = "entire"
                else:
                    api = "webhook"
                version = ""
                for part in path.split("/"):
                    if part in ("v1.0", "v1.1"):
                        version = part
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                action, attempt = self.pick(api, raw)
                self.n["requests"] += 1
                self.n["detect" if api != "webhook" else "webhook"] += 1
                token = object()
                self.active[token] = None
                open_now = self.count_open()
                self.max_open = max(self.max_open, open_now)
                try:
                    delay = 0.0
                    act = action
                    if act.startswith("delay:"):
                        parts = act.split(":", 2)
                        delay = float(parts[1]) / 1000.0
                        act = parts[2] if len(parts) > 2 else "ok"
                    out, sent = self.answer(act, api, version, body)
                    self.seq += 1
                    if self.log:
                        entry = {"seq": self.seq, "t": arrived, "conn": conn, "method": method,
                                 "path": path, "api": api, "version": version,
                                 "headers": headers,
                                 "has_key": "ocp-apim-subscription-key" in headers,
                                 "key": headers.get("ocp-apim-subscription-key"),
                                 "attempt": attempt, "action": action, "open": open_now,
                                 "raw": raw, "body": body, "response": sent}
                        self.log.write(json.dumps(entry) + "\n")
                        self.log.flush()
                    if delay > 0:
                        await asyncio.sleep(max(0.0, arrived + delay - time.time()))
                    if out == "reset":
                        try:
                            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                            b"\x01\x00\x00\x00\x00\x00\x00\x00")
                        except OSError:
                            pass
                        writer.transport.abort()
                        return
                    if out == "hang":
                        # a duplicate of the socket to peek at (asyncio's own
                        # socket object cannot recv)
                        peek = socket.fromfd(sock.fileno(), socket.AF_INET, socket.SOCK_STREAM)
                        peek.setblocking(False)
                        self.active[token] = peek
                        while await reader.read(65536):
                            pass  # the client closes when it gives up
                        return
                    writer.write(out if not close else out.replace(
                        b"Connection: keep-alive", b"Connection: close"))
                    await writer.drain()
                finally:
                    peek = self.active.pop(token, None)
                    if peek is not None:
                        peek.close()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except Exception:  # a bug of the stub: say so, drop the connection
            traceback.print_exc()
        finally:
            try:
                writer.close()
            except Exception:
                pass


async def main_async(args):
    stub = Stub(args)
    server = await asyncio.start_server(stub.handle, "127.0.0.1", args.port, backlog=1024,
                                        limit=1 << 20)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    async with server:
        await stop.wait()
    if stub.log:
        stub.log.flush()
        stub.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--script")
    ap.add_argument("--attempt-script")
    ap.add_argument("--default", default="ok")
    ap.add_argument("--webhook-script")
    ap.add_argument("--webhook-default")
    ap.add_argument("--k", type=float, default=3.0, help="band half-width in stddevs [3]")
    args = ap.parse_args()
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
