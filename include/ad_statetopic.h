/* ad_statetopic.h - the state topic (state.topic): a compacted Kafka topic
 * that keeps the state of every series, so that whichever instance of a
 * consumer group is assigned an input partition can restore that
 * partition's series before it consumes the partition's records (Kafka
 * Streams' changelog topics, without a local database).
 *
 * Layout. Input partition P of topic T is kept in partition
 * P mod (the state topic's partition count). Each message value is a
 * checkpoint (ad_checkpoint.h): one series' state (ad_ckpt_one), or, for the
 * partition marker, no series and the offset to consume T[P] again from. The
 * message key makes compaction keep the newest state per series and the
 * newest marker per input partition:
 *   series: "s" T NUL P(decimal) NUL metric NUL key-bytes
 *   marker: "m" T NUL P(decimal)
 * A checkpoint writes every series changed since the previous one, then the
 * marker; offsets are committed once all of it is acknowledged.
 *
 * Restoring reads the state partition from its start to its high watermark
 * and applies the messages of (T, P) in log order, so the newest state of a
 * series wins whether or not compaction has run. Messages of a later, partial
 * checkpoint may follow the newest marker: each series' state carries the
 * offset its model includes (model_off), and the window module skips what a
 * model already includes, so such a series is not counted twice. */
#ifndef AD_STATETOPIC_H
#define AD_STATETOPIC_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"
#include "ad_checkpoint.h"

/* Writes the key of a series' message (metric is its name) into b (reset). */
int ad_statetopic_series_key(struct ad_buf *b, const char *topic, int32_t partition,
                             const char *metric, const char *key, size_t key_len);
/* Writes the key of (topic, partition)'s marker into b (reset). */
int ad_statetopic_marker_key(struct ad_buf *b, const char *topic, int32_t partition);

/* The state partition that keeps input partition p. */
int32_t ad_statetopic_partition(int32_t p, int32_t nparts);

/* The partition count of topic, asked of the cluster through rk (any client).
 * Returns the count, or AD_ENOENT when the topic does not exist, or AD_EIO on
 * a timeout, with a message in err. */
int ad_statetopic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err,
                             size_t errlen);

struct ad_statetopic_restore {
    const char *state_topic; /* the state topic (borrowed) */
    int32_t nparts;          /* its partition count */
    int timeout_ms;          /* the longest the read may block */
    ad_ckpt_series_cb cb;    /* called with ud for every series state read */
    void *ud;
    uint64_t fingerprint;    /* of this config: other settings' state is skipped */
    const char *group;       /* the consumer group: another group's state is skipped (NULL:
                                any; messages before version 4 record none: taken) */
    int64_t offset;          /* out: the newest marker's offset, -1 when none */
    int64_t max_t;           /* out: the newest marker's partition clock (ad_checkpoint.h) */
    int64_t low, high;       /* out: the state partition's offsets read */
    uint64_t messages;       /* out: messages read */
    uint64_t series;         /* out: series states applied (messages, not distinct series) */
    uint64_t skipped;        /* out: unreadable or other settings' messages */
    void (*alive)(void *ud); /* called about once a second while reading (a watchdog), or NULL */
    void *alive_ud;
};

/* Reads the state of (topic, partition) from r->state_topic with reader (a
 * consumer created without subscriptions; it is assigned the state partition
 * for the read and unassigned after) and calls r->cb for every series state
 * of it, in log order. Blocks for at most r->timeout_ms. Returns 0 (r->offset
 * is the marker's offset or -1), cb's error, or AD_EIO (also on a timeout)
 * with a message. */
int ad_statetopic_read(rd_kafka_t *reader, const char *topic, int32_t partition,
                       struct ad_statetopic_restore *r, char *err, size_t errlen);

#endif
