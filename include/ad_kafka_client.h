/* ad_kafka_client.h - what the Kafka consumer (ad_kafka_in.h) and producer
 * (ad_kafka_out.h) share: a librdkafka client whose events are served on a
 * libuv loop.
 *
 * librdkafka runs its own threads; these modules never let them touch the
 * caller. The client's queue wakes the loop through a non-blocking pipe
 * (rd_kafka_queue_io_event_enable) watched by a uv_poll_t, and is drained on
 * the loop thread. librdkafka's logs and errors go to that queue too, so
 * every callback runs on the loop thread. */
#ifndef AD_KAFKA_CLIENT_H
#define AD_KAFKA_CLIENT_H

#include <stdbool.h>
#include <uv.h>

#include <jansson.h>

#include "ad_kafka.h"

/* Embedded first in its owner (librdkafka's opaque points at it). */
struct ad_kafka_client {
    rd_kafka_t *rk;
    rd_kafka_queue_t *q; /* the queue that wakes the loop */
    int fd[2];           /* its wake-up pipe */
    uv_poll_t poll;
    int handles;                             /* open uv handles of the owner */
    void (*wake)(struct ad_kafka_client *c); /* events are waiting on q */
    void (*fatal)(void *ud);                 /* a fatal librdkafka error */
    void *fatal_ud;
    int brokers_up; /* brokers connected at the latest statistics, -1 unknown */
};

/* Sets c->brokers_up from a librdkafka statistics document (the root
 * object): the brokers in state UP; 0 when none is and some connection is
 * being tried and failing; -1 when none is wanted (idle). */
void ad_kafka_client_stats(struct ad_kafka_client *c, const json_t *root);

/* Sets statistics.interval.ms to 1 s unless source.kafka.properties sets
 * it: broker reachability (readiness) and the consumer lag come from them. */
void ad_kafka_client_stats_interval(rd_kafka_conf_t *conf, const struct ad_config *cfg);

/* Serves librdkafka's log lines through the ad_log macros (tag "rdkafka"). */
void ad_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

/* Returns 0 and an owned conf for role, with c as the opaque, the error
 * callback (fatal errors go to c->fatal) and the log callback set, and logs
 * routed to the client's queue; or AD_ECONFIG with err. The caller adds its
 * own callbacks, then hands conf to ad_kafka_client_start. */
int ad_kafka_client_conf(struct ad_kafka_client *c, const struct ad_config *cfg,
                         enum ad_kafka_role role, rd_kafka_conf_t **conf, char *err, size_t errlen);

/* Creates the client from conf (taken, also on failure) and watches its
 * queue (the consumer queue, or the main one for a producer) on loop: c->wake
 * runs whenever it has events. Returns 0, AD_ECONFIG or AD_EIO with err. */
int ad_kafka_client_start(struct ad_kafka_client *c, uv_loop_t *loop, rd_kafka_conf_t *conf,
                          enum ad_kafka_role role, char *err, size_t errlen);

/* Stops watching the queue and closes the handle (c->handles drops by one
 * once the loop has run its close callback). */
void ad_kafka_client_close(struct ad_kafka_client *c);

/* Destroys the queue and the client and closes the pipe. Call once the
 * handle is closed. */
void ad_kafka_client_free(struct ad_kafka_client *c);

#endif
