/* ad_kafka_in.h - Kafka in: the group consumer on a libuv loop.
 *
 * Records are drained on the loop thread (DRAIN_BUDGET at a time, then the
 * loop gets a turn); rebalances, consumer lag (librdkafka statistics) and
 * fatal errors come back through the callbacks below, all on the loop
 * thread. Offsets are stored only through ad_kafka_in_store (auto-commit
 * commits what was stored).
 *
 * Back-pressure: while the caller cannot take more output, the consumer is
 * soft-paused (records wait in librdkafka's queue and consumption resumes at
 * once); a pause that lasts 30 s pauses the partitions for real and polls
 * again, so that the group does not evict a consumer that stopped polling
 * (max.poll.interval.ms). */
#ifndef AD_KAFKA_IN_H
#define AD_KAFKA_IN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ad_config.h"
#include "ad_decode.h"

struct ad_kafka_in;

struct ad_kafka_in_cbs {
    /* At the start of every rebalance event; assigned tells which kind. */
    void (*rebalance)(void *ud, bool assigned);
    /* A partition is assigned: returns the offset to consume it from, or -1
     * for the committed one. */
    int64_t (*assign)(void *ud, const char *topic, int32_t partition);
    /* A partition is revoked (lost: taken without a revoke) before the
     * offsets are committed: store what is safe now. */
    void (*revoke)(void *ud, const char *topic, int32_t partition, bool lost);
    /* ... and after: forget it. */
    void (*revoked)(void *ud, const char *topic, int32_t partition);
    /* One record, borrowed for the call. */
    void (*record)(void *ud, const void *buf, size_t len, const struct ad_record_meta *meta);
    /* Consumer lag of a partition, from librdkafka statistics. */
    void (*lag)(void *ud, const char *topic, int32_t partition, int64_t lag);
    /* A fatal librdkafka error (already logged). */
    void (*fatal)(void *ud);
    void *ud;
};

/* One offset to store. */
struct ad_kafka_offset {
    const char *topic;
    int32_t partition;
    int64_t offset;
};

/* Creates the consumer of cfg (borrowed; it must outlive the consumer) on
 * loop, callbacks copied. Not subscribed yet. Returns 0 and an owned
 * consumer, or AD_ECONFIG/AD_EIO/AD_ENOMEM with err. */
int ad_kafka_in_new(uv_loop_t *loop, const struct ad_config *cfg, const struct ad_kafka_in_cbs *cbs,
                    struct ad_kafka_in **out, char *err, size_t errlen);

/* Subscribes to source.kafka.topics. Returns 0 or AD_ECONFIG with err. */
int ad_kafka_in_subscribe(struct ad_kafka_in *in, char *err, size_t errlen);

/* Drains what librdkafka has fetched (a budget at a time). */
void ad_kafka_in_drain(struct ad_kafka_in *in);

/* Back-pressure: pause (soft) or resume consuming. Resuming drains. */
void ad_kafka_in_pause(struct ad_kafka_in *in, bool pause);

/* While paused: after 30 s, pause the partitions for real and poll. */
void ad_kafka_in_pause_check(struct ad_kafka_in *in);

/* Hands offsets to librdkafka (rd_kafka_offsets_store). */
void ad_kafka_in_store(struct ad_kafka_in *in, const struct ad_kafka_offset *v, size_t n);

/* Whether the group has assigned anything since the start. */
bool ad_kafka_in_assigned_once(const struct ad_kafka_in *in);

/* Brokers the consumer is connected to, from its latest statistics (each
 * second; 0: none, and connecting fails), or 0 at once when librdkafka
 * reports all brokers down; -1 unknown (no statistics yet,
 * statistics.interval.ms=0, or no connection wanted). */
int ad_kafka_in_brokers_up(const struct ad_kafka_in *in);

/* The source cluster's id (rd_kafka_clusterid: from the metadata, waiting
 * at most timeout_ms for it; 0: only when known already) into out. Returns
 * 0 or AD_ENOENT (not known). Loop thread. */
int ad_kafka_in_cluster_id(struct ad_kafka_in *in, int timeout_ms, char *out, size_t len);

/* Stops consuming (no more records are delivered). */
void ad_kafka_in_stop(struct ad_kafka_in *in);

/* Commits the stored offsets and leaves the group, on a helper thread, and
 * waits for it at most 5 s. Returns false when it did not finish in time:
 * the consumer is then abandoned to the exiting process, and
 * ad_kafka_in_free leaves it alone. */
bool ad_kafka_in_close_consumer(struct ad_kafka_in *in);

/* Whether the consumer was abandoned (its callbacks may still run on the
 * closer thread: nothing they reach may be freed). */
bool ad_kafka_in_abandoned(const struct ad_kafka_in *in);

/* Closes the uv handles; ad_kafka_in_handles() is 0 once the loop ran. */
void ad_kafka_in_close(struct ad_kafka_in *in);
int ad_kafka_in_handles(const struct ad_kafka_in *in);

/* Destroys the consumer (after ad_kafka_in_close and a loop turn). NULL ok.
 * With librdkafka before 2.3.0, a consumer that never got an assignment is
 * not destroyed (librdkafka issue 4312: it would abort); it stays allocated
 * until the process exits: call this only on the way out. */
void ad_kafka_in_free(struct ad_kafka_in *in);

#endif
