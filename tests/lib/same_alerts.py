"""same_alerts.py REFERENCE GOT [--kcat] [--min N]: do the alerts in GOT (a
union of runs: JSON lines, or with --kcat the kcat -J envelopes of an output
topic) equal those of REFERENCE (JSON lines of one uninterrupted run)?
Equal means: the same alert ids, each with the same content as the
reference's, and an id seen twice carries the same content both times (with
--kcat also: each message's key is its alert's key). Prints a summary and the
first differences to stderr; exits 0 when equal and REFERENCE has more than N
alerts (default 50)."""
import json
import sys


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    kcat = "--kcat" in sys.argv
    least = int(sys.argv[sys.argv.index("--min") + 1]) if "--min" in sys.argv else 50
    if "--min" in sys.argv:
        args.remove(str(least))
    ref_path, got_path = args
    a = {}
    for line in open(ref_path):
        x = json.loads(line)
        a[x["alert_id"]] = x
    got, bad, n = {}, 0, 0
    for line in open(got_path):
        n += 1
        if kcat:
            e = json.loads(line)
            x = json.loads(e["payload"])
            if e.get("key") != x["key"]:
                print("# record key %r != alert key %r" % (e.get("key"), x["key"]), file=sys.stderr)
                bad += 1
        else:
            x = json.loads(line)
        if got.setdefault(x["alert_id"], x) != x:
            if bad < 3:
                print("# id %s seen with different content:\n#  %s\n#  %s"
                      % (x["alert_id"], got[x["alert_id"]], x), file=sys.stderr)
            bad += 1
    missing, extra = set(a) - set(got), set(got) - set(a)
    differ = sorted(i for i in set(a) & set(got) if a[i] != got[i])
    print("# reference: %d alerts; got: %d lines, %d distinct; %d missing, %d extra, %d differ, "
          "%d problems" % (len(a), n, len(got), len(missing), len(extra), len(differ), bad),
          file=sys.stderr)
    for i in sorted(missing)[:3]:
        print("# missing %s" % a[i], file=sys.stderr)
    for i in sorted(extra)[:3]:
        print("# extra %s" % got[i], file=sys.stderr)
    for i in differ[:3]:
        print("# differs: %s\n#   vs %s" % (a[i], got[i]), file=sys.stderr)
    ok = not missing and not extra and not differ and not bad and len(a) > least
    sys.exit(0 if ok else 1)


main()
