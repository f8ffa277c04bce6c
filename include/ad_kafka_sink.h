/* ad_kafka_sink.h - the Kafka topics as outputs of the engine: the alerts
 * topic (sinks.kafka.topic) is an asynchronous engine sink (ad_engine.h) on
 * Kafka out, and rejected records go to the dead-letter topic
 * (sinks.dead_letter.topic) through the same producer.
 *
 * An alert is produced with the alert's key and its JSON line (without the
 * newline) as the value; its delivery report tells the engine
 * AD_ENGINE_DELIVERED, or AD_ENGINE_KEPT when the message was given up on
 * (its offsets then stay held: never committed). A failed delivery is
 * produced again until ad_kafka_sink_stop(). A dead letter carries the
 * source topic, partition, offset and the reason in headers; it holds no
 * offsets. Every scored point goes to the scores topic (sinks.scores.topic)
 * the same way: keyed by its series, the value the JSON object of replay's
 * --scores (ad_scores.h) without the newline; it holds no offsets either.
 *
 * Threads: the loop thread of the Kafka out it is built on. */
#ifndef AD_KAFKA_SINK_H
#define AD_KAFKA_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "ad_config.h"
#include "ad_engine.h"
#include "ad_kafka_out.h"
#include "ad_pipeline.h"

struct ad_kafka_sink;

struct ad_kafka_sink_stats {
    uint64_t delivered;              /* alerts and dead letters reported delivered */
    uint64_t dead_letters;           /* dead letters reported delivered */
    uint64_t dead_letter_errors;     /* dead letters lost: produce or delivery failed */
    uint64_t dead_letters_truncated; /* dead letters sent as a copy cut to fit */
    uint64_t scores;                 /* scored points sent to the scores topic */
    uint64_t errors;                 /* alerts that could not even be made (out of memory) */
};

/* The alert latency histogram's upper bounds, in seconds (0.5 ms .. 1 s,
 * then +Inf): anomalyd_alert_latency_seconds. */
#define AD_ALERT_LATENCY_BUCKETS 12
extern const double ad_alert_latency_bounds_s[AD_ALERT_LATENCY_BUCKETS];

/* Alert latency: from the engine's emit (for the local detectors in the
 * same loop turn as the window close that made the alert) to its delivery
 * report. counts[i] per bucket (not cumulative), sum in seconds. */
struct ad_kafka_sink_lat_hist {
    uint64_t counts[AD_ALERT_LATENCY_BUCKETS];
    double sum_s;
};
/* Copies the histogram into out; false without a sink. */
bool ad_kafka_sink_latency_hist(const struct ad_kafka_sink *ks, struct ad_kafka_sink_lat_hist *out);

/* Alert delivery latency (emitted -> delivery report), in microseconds. */
struct ad_kafka_sink_latency {
    size_t n; /* samples (at most 2^20 are kept) */
    uint32_t p50_us, p99_us, max_us;
};

/* Creates the sink on out (borrowed) with cfg's topics (cfg borrowed: it
 * must outlive the sink) and, when sinks.kafka.topic is set, adds it to e as
 * an asynchronous sink named "kafka". The caller owns the sink: free it with
 * ad_kafka_sink_free() once both e and out are freed (out's last delivery
 * reports reach the sink and, through it, e). Returns 0 and the sink in
 * *ks, or AD_ENOMEM (nothing added). */
int ad_kafka_sink_new(struct ad_kafka_out *out, const struct ad_config *cfg, struct ad_engine *e,
                      struct ad_kafka_sink **ks);

/* Sends a rejected record to sinks.dead_letter.topic (nothing without one)
 * as it came: its key, value, headers and timestamp (meta's), followed by the
 * headers anomalyd-reason, anomalyd-source-topic, -partition and -offset. A
 * record that would not fit the producer's message.max.bytes goes as a copy
 * of its first bytes with the header anomalyd-truncated = the original
 * length. Counted when its delivery report comes (dead_letters, or
 * dead_letter_errors). buf, meta and reason are copied. */
void ad_kafka_sink_dead_letter(struct ad_kafka_sink *ks, const void *buf, size_t len,
                               const struct ad_record_meta *meta, const char *reason);

/* Sends one scored point to sinks.scores.topic (nothing without one); row
 * is copied. The shape of ad_pipeline_score_cb: subscribe it with
 * ad_pipeline_on_score(pipe, ad_kafka_sink_score, ks). */
void ad_kafka_sink_score(void *ks, const struct ad_score_row *row);

/* From now on a failed delivery is not produced again (shutdown). */
void ad_kafka_sink_stop(struct ad_kafka_sink *ks);

void ad_kafka_sink_stats(const struct ad_kafka_sink *ks, struct ad_kafka_sink_stats *out);
/* Fills out (sorts the samples); false without a sample. */
bool ad_kafka_sink_latency(struct ad_kafka_sink *ks, struct ad_kafka_sink_latency *out);

/* Frees the sink. NULL ok. */
void ad_kafka_sink_free(struct ad_kafka_sink *ks);

#endif
