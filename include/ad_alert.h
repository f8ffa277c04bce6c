/* ad_alert.h - the alert record of interface.md: its stable id and its JSON
 * line. Pure. */
#ifndef AD_ALERT_H
#define AD_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"

#define AD_ALERT_ID_LEN 32 /* hex characters */

/* Every pointer is borrowed for the duration of the call that takes it. */
struct ad_alert {
    const char *key;
    size_t key_len;
    const char *metric;
    int64_t window_start_us;
    int64_t window_end_us;
    double value;
    double expected; /* the model's mean */
    double stddev;
    double zscore;
    double threshold;
    int direction; /* AD_DIR_POSITIVE or AD_DIR_NEGATIVE (ad_config.h) */
    uint64_t n;    /* samples in the model when the point was scored */
    const char *detector; /* "welford" */
    const char *topic;    /* source */
    int32_t partition;
    int64_t offset;
};

/* The stable id: 128 bits of a keyed hash of (key, metric, window start,
 * window end, detector) as 32 lowercase hex characters plus a NUL.
 * The same inputs always give the same id, on every machine. */
void ad_alert_id(const struct ad_alert *a, char out[AD_ALERT_ID_LEN + 1]);

/* Appends the alert as one JSON object followed by '\n'. Field order is
 * fixed: alert_id, key, metric, window_start, window_end, value, expected,
 * stddev, zscore, threshold, direction, n, detector, source. Returns 0 or
 * AD_ELIMIT/AD_ENOMEM from the buffer (the buffer is then unchanged). */
int ad_alert_format(const struct ad_alert *a, struct ad_buf *out);

#endif
