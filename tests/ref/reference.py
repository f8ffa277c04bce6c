#!/usr/bin/python3
"""An independent reference of anomalyd's windowing and scoring rules, for
in-order data (each series' points arrive in event-time order, no late
points). It reads JSON-lines records and prints the alerts it expects, one per
line: alert_id key metric window_start_us window_end_us value zscore direction n

It shares no code with anomalyd: the rules are re-implemented from
interface.md and docs/architecture.md, the variance by the two-pass formula
over the exact point set (not Welford), and the alert id from docs/alerts.md.
"""
import argparse
import datetime
import json
import math
import sys


def fnv1a64(data, basis):
    h = basis
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def splitmix_final(z):
    m = 0xFFFFFFFFFFFFFFFF
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & m
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & m
    z ^= z >> 31
    return z


def alert_id(key, metric, start_us, end_us, detector="welford"):
    data = b"\0".join([key.encode(), metric.encode(), str(start_us).encode(),
                       str(end_us).encode(), detector.encode()])
    basis = 0xCBF29CE484222325
    h1 = splitmix_final(fnv1a64(data, basis))
    h2 = splitmix_final(fnv1a64(data, basis ^ 0x9E3779B97F4A7C15))
    return "%016x%016x" % (h1, h2)


def parse_time(v, unit):
    if unit == "rfc3339":
        d = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        delta = d - epoch
        return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds
    mult = {"s": 1000000, "ms": 1000, "us": 1}[unit]
    return int(round(float(v) * mult))


class Model:
    """The exact (two-pass) statistics of a multiset of values."""

    def __init__(self, values=()):
        self.values = list(values)

    def stats(self):
        n = len(self.values)
        if n == 0:
            return 0, 0.0, 0.0
        mean = sum(self.values) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in self.values) / (n - 1)) if n >= 2 else 0.0
        return n, mean, sd


def score(args, model, x):
    """Returns (anomalous, z, direction, n, mean, sd)."""
    n, mean, sd = model.stats()
    if n < args.min_samples or sd <= 0:
        return False, 0.0, None, n, mean, sd
    z = (x - mean) / sd
    direction = "negative" if z < 0 else "positive"
    ok = abs(z) > args.threshold and args.direction in ("both", direction)
    return ok, z, direction, n, mean, sd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)            # field name, or const:NAME
    ap.add_argument("--time", required=True)           # field name
    ap.add_argument("--unit", default="ms")            # s | ms | us | rfc3339
    ap.add_argument("--metric", required=True)
    ap.add_argument("--tumbling", type=float, default=0)  # seconds
    ap.add_argument("--agg", default="mean")
    ap.add_argument("--sliding", type=float, default=0)
    ap.add_argument("--slide", type=float, default=0)
    ap.add_argument("--scope", default="lifetime")
    ap.add_argument("--threshold", type=float, default=4.0)
    ap.add_argument("--min-samples", type=int, default=30)
    ap.add_argument("--direction", default="both")
    ap.add_argument("--learn-anomalies", action="store_true")
    ap.add_argument("--kcat", action="store_true")     # input lines are kcat -J envelopes
    args = ap.parse_args()

    series = {}  # key -> list of (t_us, value), arrival order
    order = []
    for line in sys.stdin:
        if not line.strip():
            continue
        rec = json.loads(line)
        env = None
        if args.kcat:
            env, rec = rec, json.loads(rec["payload"])
        if args.key.startswith("const:"):
            key = args.key[6:]
        elif args.key.startswith("header:"):
            h = env["headers"]
            key = dict(zip(h[0::2], h[1::2]))[args.key[7:]]
        else:
            key = str(rec[args.key])
        t = env["ts"] * 1000 if args.time == "record" else parse_time(rec[args.time], args.unit)
        if key not in series:
            series[key] = []
            order.append(key)
        series[key].append((t, float(rec[args.metric])))

    out = []
    G = int(args.tumbling * 1e6)
    W = int(args.sliding * 1e6)
    S = int(args.slide * 1e6)
    for key in order:
        pts = series[key]
        # de-duplicate: same time as the previous point of the series
        dedup = []
        for t, v in pts:
            if dedup and dedup[-1][0] == t:
                continue
            dedup.append((t, v))
        if not G:
            model = Model()
            for t, v in dedup:
                ok, z, d, n, mean, sd = score(args, model, v)
                if ok:
                    out.append((key, t, t, v, z, d, n))
                if not ok or args.learn_anomalies:
                    model.values.append(v)
            continue
        # tumbling aggregates, in window order
        wins = {}
        for t, v in dedup:
            wins.setdefault(t - t % G, []).append((t, v))
        tpts = []
        for start in sorted(wins):
            vals = [v for _, v in wins[start]]
            last = max(wins[start], key=lambda tv: tv[0])[1]
            agg = {"mean": sum(vals) / len(vals), "min": min(vals), "max": max(vals),
                   "sum": sum(vals), "count": float(len(vals)), "last": last}[args.agg]
            tpts.append((start, agg))
        if not W:
            model = Model()
            for start, v in tpts:
                ok, z, d, n, mean, sd = score(args, model, v)
                if ok:
                    out.append((key, start, start + G, v, z, d, n))
                if not ok or args.learn_anomalies:
                    model.values.append(v)
            continue
        # sliding: group points by the first slide boundary at or after their end
        groups = {}
        for start, v in tpts:
            pe = start + G
            e = (pe + S - 1) // S * S
            groups.setdefault(e, []).append((start, v))
        life = Model()
        excluded = set()  # window scope: flagged points not learnt
        for e in sorted(groups):
            group = groups[e]
            cand_t, cand_v = group[-1]
            if args.scope == "window":
                others = [v for s, v in tpts if e - W <= s and s + G <= e and s != cand_t
                          and s not in excluded]
                model = Model(others)
            else:
                for s, v in group[:-1]:
                    life.values.append(v)
                model = life
            ok, z, d, n, mean, sd = score(args, model, cand_v)
            if ok:
                out.append((key, e - W, e, cand_v, z, d, n))
            learn = not ok or args.learn_anomalies
            if args.scope == "window":
                if not learn:
                    excluded.add(cand_t)
            elif learn:
                life.values.append(cand_v)
    for key, s, e, v, z, d, n in out:
        print("%s %s %s %d %d %.9g %.6f %s %d" % (alert_id(key, args.metric, s, e), key,
                                                  args.metric, s, e, v, z, d, n))


if __name__ == "__main__":
    main()
