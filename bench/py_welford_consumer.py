#!/usr/bin/python3
"""py_welford_consumer - the Python contender of bench/kafka_bench.sh.

The job anomalyd does for scenario C, written the way a user would write it
with confluent_kafka (Debian's python3-confluent-kafka) instead of running
anomalyd: consume the sensor topic, json.loads each record, keep a Welford
model (n, mean, M2) per sensor, flag |z| > threshold once the model has
min_samples points (a flagged point does not update the model), and produce
each alert as a JSON object keyed by the sensor to an output topic.

    /usr/bin/python3 bench/py_welford_consumer.py --brokers B --topic T
        --group G --alerts-topic A --count N [--threshold 4] [--min-samples 30]
        [--property NAME=VALUE]...

It stops after --count records and prints one line of JSON on stdout:
records, alerts, assigned_at (time.time() when the partitions were assigned),
first_at / last_at (when the first / last record had been handled),
cpu_seconds (user + system, all threads, at last_at). The
producer is flushed after last_at, and the group is left, before it exits.
It also writes "assigned" and "done" lines on stderr as they happen, which
the benchmark stamps (the same way as kcat's and anomalyd's).
"""
import argparse
import hashlib
import json
import math
import resource
import sys
import time
from datetime import datetime, timezone

from confluent_kafka import Consumer, KafkaException, Producer


def rfc3339_ms(ts_ms):
    dt = datetime.fromtimestamp(ts_ms / 1000.0, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ts_ms % 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--alerts-topic", default="anomalies")
    ap.add_argument("--count", type=int, required=True, help="stop after this many records")
    ap.add_argument("--threshold", type=float, default=4.0)
    ap.add_argument("--min-samples", type=int, default=30)
    ap.add_argument("--batch", type=int, default=1000, help="Consumer.consume() batch size")
    ap.add_argument("--property", action="append", default=[], metavar="NAME=VALUE",
                    help="an extra librdkafka consumer property (repeatable)")
    a = ap.parse_args()

    cconf = {
        "bootstrap.servers": a.brokers,
        "group.id": a.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": True,
    }
    for p in a.property:
        name, _, value = p.partition("=")
        cconf[name] = value
    consumer = Consumer(cconf)
    # The same delivery guarantees as anomalyd's producer.
    producer = Producer({
        "bootstrap.servers": a.brokers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
    })
    stats = {"records": 0, "alerts": 0, "rejected": 0, "delivery_errors": 0,
             "assigned_at": None, "first_at": None, "last_at": None}

    def on_assign(c, parts):
        if stats["assigned_at"] is None:
            stats["assigned_at"] = time.time()
        # The benchmark times the run from this line (as it does kcat's and anomalyd's).
        print("py_welford_consumer: assigned %d partition(s)" % len(parts), file=sys.stderr,
              flush=True)

    def on_delivery(err, msg):
        if err is not None:
            stats["delivery_errors"] += 1

    consumer.subscribe([a.topic], on_assign=on_assign)

    models = {}  # sensor id -> [n, mean, M2]
    thr, min_n, out_topic = a.threshold, a.min_samples, a.alerts_topic
    n_records, n_alerts, count = 0, 0, a.count
    loads, sqrt = json.loads, math.sqrt

    while n_records < count:
        msgs = consumer.consume(num_messages=min(a.batch, count - n_records), timeout=1.0)
        if not msgs:
            continue
        if stats["first_at"] is None:
            stats["first_at"] = time.time()
        for msg in msgs:
            if msg.error():
                raise KafkaException(msg.error())
            n_records += 1
            try:
                rec = loads(msg.value())
                key = rec["id"]
                value = float(rec["temp"])
                ts = int(rec["ts"])
            except (ValueError, KeyError, TypeError):
                stats["rejected"] += 1
                continue
            m = models.get(key)
            if m is None:
                m = models[key] = [0, 0.0, 0.0]
            n, mean, m2 = m
            if n >= min_n and m2 > 0.0:
                std = sqrt(m2 / (n - 1))
                z = (value - mean) / std
                if z > thr or z < -thr:
                    n_alerts += 1
                    when = rfc3339_ms(ts)
                    alert = {
                        "alert_id": hashlib.sha1(
                            ("%s\x00temp\x00%d" % (key, ts)).encode()).hexdigest()[:32],
                        "key": key, "metric": "temp",
                        "window_start": when, "window_end": when,
                        "value": value, "expected": mean, "stddev": std,
                        "zscore": z, "threshold": thr,
                        "direction": "positive" if z > 0 else "negative",
                        "n": n, "detector": "welford",
                        "source": {"topic": msg.topic(), "partition": msg.partition(),
                                   "offset": msg.offset()},
                    }
                    while True:
                        try:
                            producer.produce(out_topic, json.dumps(alert).encode(),
                                             key.encode(), on_delivery=on_delivery)
                            break
                        except BufferError:
                            producer.poll(0.05)
                    continue  # an anomaly does not update the model
            n += 1
            d = value - mean
            mean += d / n
            m[0], m[1], m[2] = n, mean, m2 + d * (value - mean)
        producer.poll(0)  # serve delivery reports

    stats["last_at"] = time.time()
    ru = resource.getrusage(resource.RUSAGE_SELF)  # every thread, librdkafka's too
    stats["cpu_seconds"] = ru.ru_utime + ru.ru_stime
    print("py_welford_consumer: done: %d records" % n_records, file=sys.stderr, flush=True)
    stats["records"], stats["alerts"] = n_records, n_alerts
    stats["undelivered"] = producer.flush(10)
    consumer.close()
    print(json.dumps(stats), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
