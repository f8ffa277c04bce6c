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
    /* Not part of the record: the lowest source offset the alert depends on
     * (its window's first record), held back from the offset store until the
     * alert is delivered. */
    int64_t low_offset;
    /* Not part of the record: the remote detector's verdict when it was asked
     * (the adapter's own struct), for sinks that need it (the webhook). */
    const void *remote;
};

/* The stable id: 128 bits of a keyed hash of (key, metric, window start,
 * window end, detector) as 32 lowercase hex characters plus a NUL.
 * The same inputs always give the same id, on every machine. The algorithm
 * (two FNV-1a-64 halves, each through the splitmix64 finalizer) is specified
 * in src/ad_alert.c and docs/alerts.md. A NULL metric or detector counts as
 * the empty string. Cannot fail. */
void ad_alert_id(const struct ad_alert *a, char out[AD_ALERT_ID_LEN + 1]);

/* Appends the alert as one JSON object followed by '\n' (docs/alerts.md).
 * Field order is fixed: alert_id, key, metric, window_start, window_end,
 * value, expected, stddev, zscore, threshold, direction, n, detector, source.
 * A NULL metric or detector is written as ""; a NULL topic omits the "source"
 * object. No allocation beyond the buffer's growth. Returns 0, AD_ELIMIT or
 * AD_ENOMEM from the buffer, or AD_EINVAL for a non-finite number or a
 * direction other than AD_DIR_POSITIVE/AD_DIR_NEGATIVE; on error the buffer
 * is unchanged. */
int ad_alert_format(const struct ad_alert *a, struct ad_buf *out);

/* As ad_alert_format(), then appends extra (borrowed; extra_len bytes, not
 * validated) as further members before the closing brace: extra is zero or
 * more complete JSON members separated by commas, without a leading comma,
 * e.g. "\"remote\":{\"status\":\"skipped\"}". NULL or 0 bytes adds none. */
int ad_alert_format_ext(const struct ad_alert *a, const char *extra, size_t extra_len,
                        struct ad_buf *out);

#endif
