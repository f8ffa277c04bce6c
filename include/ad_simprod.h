/* ad_simprod.h - produces simulated telemetry (ad_sim) to a Kafka topic from
 * a libuv timer, at a steady rate, keyed by device (and, for the iot format,
 * with the IoT Hub device-id header). Never blocks the loop: a full producer
 * queue just waits for the next tick. */
#ifndef AD_SIMPROD_H
#define AD_SIMPROD_H

#include <stdint.h>
#include <uv.h>

#include "ad_sim.h"

struct ad_simprod;
typedef void (*ad_simprod_done_cb)(struct ad_simprod *sp, void *ud);

struct ad_simprod_opts {
    const char *brokers;
    const char *topic;
    double rate;             /* records per second, > 0 */
    uint64_t count;          /* records in all; 0 = until stopped */
    ad_simprod_done_cb done; /* called once, after the last delivery report or stop */
    void *ud;
};

/* Returns 0 and an owned producer, or AD_EINVAL/AD_ECONFIG with err. */
int ad_simprod_start(uv_loop_t *loop, const struct ad_sim_cfg *sim,
                     const struct ad_simprod_opts *opts, struct ad_simprod **out, char *err,
                     size_t errlen);
/* Stops producing, flushes (bounded) and closes its handles; done follows. */
void ad_simprod_stop(struct ad_simprod *sp);
uint64_t ad_simprod_produced(const struct ad_simprod *sp);
uint64_t ad_simprod_delivered(const struct ad_simprod *sp);
void ad_simprod_free(struct ad_simprod *sp);

#endif
