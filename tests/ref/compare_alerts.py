#!/usr/bin/python3
"""compare_alerts.py ALERTS.jsonl EXPECTED.txt

Compares anomalyd's alert lines with the reference's expected alerts (see
reference.py): the same alerts in the same order per series, the same ids,
and values equal (z-scores to 1e-6 relative). Prints a diff of the first
mismatches and exits 1 on any difference."""
import datetime
import json
import sys


def us(ts):
    d = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    e = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    delta = d - e
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def main():
    got = []
    with open(sys.argv[1]) as f:
        for line in f:
            a = json.loads(line)
            got.append((a["alert_id"], a["key"], a["metric"], us(a["window_start"]),
                        us(a["window_end"]), float(a["value"]), float(a["zscore"]),
                        a["direction"], int(a["n"])))
    want = []
    with open(sys.argv[2]) as f:
        for line in f:
            p = line.split()
            want.append((p[0], p[1], p[2], int(p[3]), int(p[4]), float(p[5]), float(p[6]),
                         p[7], int(p[8])))
    # Order across series depends on window closing; compare per id.
    g = {x[0]: x for x in got}
    w = {x[0]: x for x in want}
    bad = 0
    if len(g) != len(got):
        print("duplicate alert ids in anomalyd's output")
        bad += 1
    for i in sorted(set(g) | set(w)):
        a, b = g.get(i), w.get(i)
        if a is None or b is None:
            print("only in %s: %s" % ("reference" if a is None else "anomalyd", a or b))
            bad += 1
            continue
        same = (a[1:5] == b[1:5] and abs(a[5] - b[5]) <= 1e-9 * max(1, abs(b[5]))
                and abs(a[6] - b[6]) <= 1e-6 * max(1, abs(b[6])) and a[7] == b[7]
                and a[8] == b[8])
        if not same:
            print("differs:\n  anomalyd:  %s\n  reference: %s" % (a, b))
            bad += 1
        if bad > 20:
            break
    print("compared %d anomalyd alerts with %d expected: %s" %
          (len(got), len(want), "OK" if not bad else "%d differences" % bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
