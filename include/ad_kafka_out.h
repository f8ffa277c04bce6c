/* ad_kafka_out.h - Kafka out: the producer on a libuv loop.
 *
 * The caller owns each message (struct ad_kafka_msg, usually embedded in a
 * struct of its own) and lends it to the producer from ad_kafka_out_send
 * until the message's done callback runs: once, with its delivery report, or
 * when producing it failed for good. Delivery reports are served on the loop
 * thread.
 *
 * When librdkafka's queue is full, messages wait in order in a blocked list
 * and are produced again every 50 ms; the blocked callback tells the caller
 * to stop feeding (and, on each retry, that it is still blocked), then that
 * the queue drained. */
#ifndef AD_KAFKA_OUT_H
#define AD_KAFKA_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ad_config.h"
#include "ad_kafka.h"

struct ad_kafka_out;
struct ad_kafka_msg;

#define AD_KAFKA_MAX_HEADERS 64

struct ad_kafka_header {
    const char *name;
    const char *value;
    size_t len;
};

/* The message's outcome: status 0 delivered; AD_EAGAIN the delivery failed
 * (error says why): return true to have it produced again (it stays lent),
 * false to take it back; AD_EIO producing it failed for good (already
 * logged and counted; the return value is ignored). */
typedef bool (*ad_kafka_done_cb)(struct ad_kafka_msg *m, int status, const char *error);

struct ad_kafka_msg {
    struct ad_kafka_msg *next; /* the producer's, while it is lent */
    const char *topic;         /* borrowed; must outlive the message */
    int32_t partition;         /* or -1: the partitioner's choice */
    const void *key;           /* borrowed; NULL for none */
    size_t key_len;
    const void *val; /* borrowed */
    size_t val_len;
    const struct ad_kafka_header *headers; /* borrowed, copied at each produce */
    size_t nheaders;                       /* at most AD_KAFKA_MAX_HEADERS are sent */
    int64_t timestamp_ms;                  /* the record's timestamp; <= 0: now */
    ad_kafka_done_cb done;
};

enum ad_kafka_out_flow {
    AD_KAFKA_OUT_BLOCKED = 0,   /* a message is waiting for room in the queue */
    AD_KAFKA_OUT_STILL_BLOCKED, /* a retry found the queue still full */
    AD_KAFKA_OUT_DRAINED,       /* every waiting message is produced */
};

struct ad_kafka_out_stats {
    uint64_t errors;     /* failed produce calls and deliveries */
    uint64_t queue_full; /* produce calls that found the queue full */
    int queued;          /* messages in librdkafka's queue */
    size_t blocked;      /* messages waiting for room */
};

struct ad_kafka_out_cbs {
    void (*flow)(void *ud, enum ad_kafka_out_flow f); /* back-pressure; may be NULL */
    void (*fatal)(void *ud); /* a fatal librdkafka error (logged); may be NULL */
    void *ud;
};

/* Creates the producer of cfg (borrowed; it must outlive the producer) on
 * loop, callbacks copied. Returns 0 and an owned producer, or
 * AD_ECONFIG/AD_EIO/AD_ENOMEM with err. */
int ad_kafka_out_new(uv_loop_t *loop, const struct ad_config *cfg,
                     const struct ad_kafka_out_cbs *cbs, struct ad_kafka_out **out, char *err,
                     size_t errlen);

/* Lends m to the producer (in order behind any waiting message). */
void ad_kafka_out_send(struct ad_kafka_out *o, struct ad_kafka_msg *m);

/* Serves delivery reports. */
void ad_kafka_out_poll(struct ad_kafka_out *o);

/* Produces waiting messages once more (those that fail are done with
 * AD_EIO), then waits up to timeout_ms for every delivery report. Returns
 * NULL, or why not all were delivered. */
const char *ad_kafka_out_flush(struct ad_kafka_out *o, bool retry_blocked, int timeout_ms);

void ad_kafka_out_stats(const struct ad_kafka_out *o, struct ad_kafka_out_stats *st);

/* Brokers the producer is connected to (as ad_kafka_in_brokers_up). */
int ad_kafka_out_brokers_up(const struct ad_kafka_out *o);

/* Whether librdkafka holds a fatal error. */
bool ad_kafka_out_failed(const struct ad_kafka_out *o);

/* The client, for metadata requests. Borrowed. */
rd_kafka_t *ad_kafka_out_client(struct ad_kafka_out *o);

/* Closes the uv handles; ad_kafka_out_handles() is 0 once the loop ran. */
void ad_kafka_out_close(struct ad_kafka_out *o);
int ad_kafka_out_handles(const struct ad_kafka_out *o);

/* Destroys the producer (after ad_kafka_out_close and a loop turn): waiting
 * messages are done with AD_EIO. NULL ok. */
void ad_kafka_out_free(struct ad_kafka_out *o);

#endif
