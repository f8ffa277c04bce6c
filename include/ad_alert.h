/* ad_alert.h - the alert record of interface.md: its stable id, its JSON
 * line, the "remote" member about the remote detector's verdict, and the
 * dashboard row the webhook sink posts for it. Pure. */
#ifndef AD_ALERT_H
#define AD_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"
#include "ad_detector.h"

#define AD_ALERT_ID_LEN 32 /* hex characters */

struct ad_azure_verdict;

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
    int direction;                  /* AD_DIR_POSITIVE or AD_DIR_NEGATIVE (ad_types.h) */
    uint64_t n;                     /* samples in the model when the point was scored */
    enum ad_detector_kind detector; /* written as ad_detector_name() */
    /* Every alert carries score, lower, upper and kind (the Welford path
     * fills them with ad_alert_explain_welford()). explained: a local
     * detector of ad_detect.h produced it, and the record has no stddev,
     * zscore, threshold or n (those stay Welford's). */
    bool explained;
    double score;        /* 0..1 */
    double lower, upper; /* the band around expected */
    int kind;            /* enum ad_kind (ad_detect.h), written as ad_kind_name() */
    const char *topic;   /* source */
    int32_t partition;
    int64_t offset;
    /* Not part of the record: the lowest source offset the alert depends on
     * (its window's first record), held back from the offset store until the
     * alert is delivered. */
    int64_t low_offset;
    /* Not part of the record: the remote detector's verdict when it gave one
     * (NULL otherwise), for sinks that need it (the webhook's row). */
    const struct ad_azure_verdict *remote;
};

/* The stable id: 128 bits of a keyed hash of (key, metric, window start,
 * window end, detector) as 32 lowercase hex characters plus a NUL.
 * The same inputs always give the same id, on every machine. The algorithm
 * (two FNV-1a-64 halves, each through the splitmix64 finalizer) is specified
 * in src/core/ad_alert.c and docs/alerts.md. A NULL metric, or a detector
 * without a name, counts as the empty string. Cannot fail. */
void ad_alert_id(const struct ad_alert *a, char out[AD_ALERT_ID_LEN + 1]);

/* Fills the explanation of a Welford alert from its model members: score =
 * |zscore| on the detectors' tail scale (ad_detect_tail_score), the band
 * expected -+ threshold * stddev, kind spike or dip by direction. The
 * producer of a Welford alert calls it (again after changing direction);
 * ad_alert_format() writes score, lower, upper and kind as they are. */
void ad_alert_explain_welford(struct ad_alert *a);

/* Appends the alert as one JSON object followed by '\n' (docs/alerts.md).
 * Field order is fixed: alert_id, key, metric, window_start, window_end,
 * value, expected, score, lower, upper, kind, stddev, zscore, threshold,
 * direction, n, detector, source; an explained alert has no stddev, zscore,
 * threshold or n.
 * A NULL metric is written as ""; a NULL topic omits the "source" object.
 * No allocation beyond the buffer's growth. Returns 0, AD_ELIMIT or
 * AD_ENOMEM from the buffer, or AD_EINVAL for a non-finite number, a
 * direction other than AD_DIR_POSITIVE/AD_DIR_NEGATIVE or a detector without
 * a name; on error the buffer is unchanged. */
int ad_alert_format(const struct ad_alert *a, struct ad_buf *out);

/* As ad_alert_format(), then appends extra (borrowed; extra_len bytes, not
 * validated) as further members before the closing brace: extra is zero or
 * more complete JSON members separated by commas, without a leading comma,
 * e.g. "\"remote\":{\"status\":\"skipped\"}". NULL or 0 bytes adds none. */
int ad_alert_format_ext(const struct ad_alert *a, const char *extra, size_t extra_len,
                        struct ad_buf *out);

/* Appends the alert's `remote` member (no leading comma), the extra of
 * ad_alert_format_ext() for a window the remote detector was asked about:
 *   "remote":{"status":"ok","is_anomaly":true,"expected_value":31.5,
 *             "upper_margin":1.2,"lower_margin":1.2,"is_positive_anomaly":true,
 *             "is_negative_anomaly":false,"severity":0.4,"period":0}
 *   "remote":{"status":"rejected","reason":"InvalidSeries"}
 * status is one of "ok", "skipped", "unavailable", "timeout", "rejected",
 * "breaker_open", "overloaded" (not checked). The verdict members follow when
 * v is not NULL (severity only when has_severity, period only when >= 0);
 * "reason" follows when detail is not NULL. Returns 0, AD_EINVAL (NULL
 * status, a non-finite number) or the buffer's errors; on error the buffer is
 * unchanged. */
int ad_alert_remote_json(struct ad_buf *out, const struct ad_azure_verdict *v, const char *status,
                         const char *detail);

/* Appends the dashboard row (scenario B) of a flagged window as one JSON
 * object, for the point at t_us (the window's newest tumbling point):
 *   {"timestamp":"2026-11-20T10:00:00Z","value":31.2,"expectedValue":22.3,
 *    "upperMargin":4.4,"lowerMargin":4.4,"isAnomaly":true,
 *    "isPositiveAnomaly":true,"isNegativeAnomaly":false,
 *    "alertId":"4f0c...","key":"sim-614","metric":"temp","detector":"welford"}
 * timestamp as ad_azure_add_time(), value = a->value; alertId, key, metric
 * and detector as in the alert record (after scenario B's fields, so a
 * consumer of those sees them unchanged). From a->remote when not
 * NULL; else from the local model: expectedValue = a->expected, both margins
 * = a->threshold * a->stddev (an explained alert: upper - expected and
 * expected - lower), isAnomaly = a local detector flagged it (the detector
 * is not the remote one), isPositive/isNegative = that and the value above /
 * below the expected one. Returns 0, AD_EINVAL (a non-finite number, a time
 * outside 1970..9999) or the buffer's errors; on error out is unchanged. */
int ad_alert_webhook_row(struct ad_buf *out, const struct ad_alert *a, int64_t t_us);

/* Adds one JSON value (row, len bytes, not validated) to the array in batch,
 * the webhook's body: an empty batch becomes "[row]", "[a]" becomes
 * "[a,row]"; batch is a complete JSON array after every successful call.
 * Returns 0, AD_EINVAL when batch is neither empty nor ends in ']', or the
 * buffer's errors (batch then unchanged). */
int ad_alert_batch_add(struct ad_buf *batch, const char *row, size_t len);

#endif
