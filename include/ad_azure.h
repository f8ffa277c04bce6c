/* ad_azure.h - the wire format of the Anomaly Detector REST contract
 * (univariate last/detect and entire/detect, v1.0 and v1.1): request URLs and
 * bodies, verdict and error parsing (docs/remote.md). When and how often to
 * retry is ad_retry.h's business; what a verdict means for an alert is
 * ad_detector.h's.
 *
 * Pure: no I/O, no clock (every time is passed in), no global state. The
 * transport (libcurl on libuv, src/io/ad_remote.c) calls these.
 *
 * Ownership, for the whole family: every pointer argument is borrowed for the
 * duration of the call; nothing is retained. Output goes to caller-owned
 * structs or is appended to a caller-owned struct ad_buf; a function that
 * fails leaves the buffer's content as it was (its max bounds every body).
 * Parsers set their out-parameter only on success (ad_azure_parse_error, a
 * best-effort reader, always sets it). */
#ifndef AD_AZURE_H
#define AD_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"

#define AD_AZURE_MIN_POINTS 12      /* the service's lower bound on a series */
#define AD_AZURE_MAX_POINTS 8640    /* ... and its upper bound */
#define AD_AZURE_MAX_INPUT  1048576 /* most points ad_azure_build_request() takes */
#define AD_AZURE_MAX_BODY   1048576 /* most response bytes a parser accepts */
#define AD_AZURE_MAX_VALUE  1e100   /* the service's bound on |value| */

/* ---- requests ------------------------------------------------------------ */

/* Appends t_us as the contract writes a timestamp: UTC "YYYY-MM-DDTHH:MM:SSZ",
 * with ".mmm" or ".uuuuuu" before the Z only when the time has a sub-second
 * part (the dashboard rows of ad_alert_webhook_row() use it too). Returns 0,
 * AD_EINVAL for a time outside 1970..9999, or the buffer's errors (the buffer
 * is then unchanged). */
int ad_azure_add_time(struct ad_buf *out, int64_t t_us);

/* One tumbling point: t_us is the window start (microseconds since the Unix
 * epoch, UTC), v its aggregate. */
struct ad_azure_point {
    int64_t t_us;
    double v;
};

/* Request parameters (remote.anomaly_detector.* in the config). Strings are
 * borrowed. */
struct ad_azure_cfg {
    int api_version;          /* 0 = v1.0, 1 = v1.1 (ad_azure_api_version()) */
    const char *granularity;  /* yearly monthly weekly daily hourly minutely secondly
                                microsecond none */
    int64_t interval_us;      /* the tumbling window's size, > 0: the series' grid step */
    int sensitivity;          /* 0..99 */
    double max_anomaly_ratio; /* 0 < r <= 0.49 */
    int period;               /* >= 0 sent as "period"; -1 = omitted (the service detects it) */
    int min_points;           /* fewer points are not sent; values below 12 count as 12 */
};

/* "v1.0" -> 0, "v1.1" -> 1, anything else (or NULL) -> AD_EINVAL. */
int ad_azure_api_version(const char *name);

/* The customInterval of a series whose grid step is interval_us at the given
 * granularity: interval_us / unit, where the unit is 7 d, 1 d, 1 h, 1 min,
 * 1 s or 1 us. Sets *out to 1 when that is 1 and for yearly, monthly (no
 * fixed length) and none, which never send customInterval. Returns 0, or
 * AD_EINVAL for an unknown granularity, interval_us <= 0, or an interval that
 * is not a whole multiple of the unit (e.g. 90 s with minutely): use it to
 * check a config before any request is built. */
int ad_azure_custom_interval(const char *granularity, int64_t interval_us, int64_t *out);

/* Appends the detect URL to out:
 *   {endpoint without trailing '/'}/anomalydetector/v1.1/timeseries/last/detect
 * (v1.0 for api_version 0; entire/detect when entire is true). Returns 0,
 * AD_EINVAL (NULL or empty endpoint, api_version not 0 or 1) or the buffer's
 * AD_ELIMIT/AD_ENOMEM. */
int ad_azure_url(const char *endpoint, int api_version, bool entire, struct ad_buf *out);

/* Appends the JSON body of a last/detect or entire/detect request to out:
 *
 *   {"series":[{"timestamp":"2026-11-20T10:00:00Z","value":1.5},...],
 *    "granularity":"minutely","customInterval":5,"maxAnomalyRatio":0.25,
 *    "sensitivity":95,"period":12}
 *
 * in exactly that member order, without whitespace; customInterval only when
 * > 1, period only when c->period >= 0. The points (n of them, not modified)
 * are cleaned on a copy, in this order:
 *   1. points with a non-finite value, |v| > 1e100, or a time outside
 *      1970..9999 are dropped (as if never given);
 *   2. sorted ascending by time; of several points with one timestamp the
 *      last one given wins;
 *   3. points off the grid newest - k * interval_us are dropped: the grid is
 *      anchored on the newest point, the one last/detect judges;
 *   4. only the newest 8640 are kept.
 * Timestamps are UTC "YYYY-MM-DDTHH:MM:SSZ", with ".mmm" or ".uuuuuu" before
 * the Z only when the time has a sub-second part. Values are the shortest
 * decimal that reads back to the same double.
 *
 * Returns 0 with *sent = the points in the body; AD_ERANGE when fewer than
 * max(12, c->min_points) points remain - the "skipped" case, not an error:
 * *sent is set to the count that remained and out is unchanged; AD_EINVAL for
 * a bad cfg (see ad_azure_custom_interval(), sensitivity, max_anomaly_ratio,
 * period < -1); AD_ELIMIT for n > AD_AZURE_MAX_INPUT or a body over out's max;
 * AD_ENOMEM. */
int ad_azure_build_request(const struct ad_azure_cfg *c, const struct ad_azure_point *pts, size_t n,
                           struct ad_buf *out, size_t *sent);

/* ---- responses ----------------------------------------------------------- */

/* The service's verdict on one point. The band is
 * expected_value - lower_margin .. expected_value + upper_margin. */
struct ad_azure_verdict {
    bool is_anomaly;
    bool is_positive_anomaly;
    bool is_negative_anomaly;
    double expected_value;
    double upper_margin;
    double lower_margin;
    double severity; /* 0 unless has_severity (v1.1 only) */
    bool has_severity;
    int period;           /* -1 when the response has none */
    int suggested_window; /* -1 when the response has none (entire/detect never has one) */
};

/* Parses the 200 body of last/detect (len bytes, no NUL needed). Required:
 * isAnomaly, isPositiveAnomaly, isNegativeAnomaly (booleans), expectedValue,
 * upperMargin, lowerMargin (numbers). Optional, but checked when present and
 * not null: period, suggestedWindow (integers >= 0), severity (number).
 * Unknown members are ignored. Returns 0 and sets *out; AD_ELIMIT for a body
 * over AD_AZURE_MAX_BODY; AD_EPARSE otherwise, with a reason in err (errlen
 * bytes, may be NULL/0): "malformed JSON: ...", "not a JSON object",
 * "missing isAnomaly", "isAnomaly is not a boolean", ... */
int ad_azure_parse_last(const char *body, size_t len, struct ad_azure_verdict *out, char *err,
                        size_t errlen);

/* Parses the 200 body of entire/detect for a request of npoints points and
 * returns the verdict on the newest one. Required: expectedValues,
 * upperMargins, lowerMargins (arrays of numbers), isAnomaly, isPositiveAnomaly,
 * isNegativeAnomaly (arrays of booleans), each with exactly npoints entries,
 * and period (integer >= 0); severity (array of numbers, npoints entries) is
 * optional. Every entry is type-checked. suggested_window is -1. Returns as
 * ad_azure_parse_last(); AD_EINVAL for npoints 0 or > 8640. */
int ad_azure_parse_entire_last(const char *body, size_t len, size_t npoints,
                               struct ad_azure_verdict *out, char *err, size_t errlen);

/* An error response: control characters are replaced by '?', and long values
 * are cut at a UTF-8 character boundary, so both can be logged as is. */
struct ad_azure_error {
    char code[64];
    char message[256];
};

/* Reads a non-2xx body in either envelope: the service's {"code": "...",
 * "message": "..."} or the gateway's {"error": {"code": "...", "message":
 * "..."}} (a code may also be a JSON integer). x_ms_error_code is the header
 * of that name (NULL or "" when absent); when present it wins for code.
 * Always sets *out (empty strings for what was not found). Returns 0 when the
 * body was one of the envelopes, AD_EPARSE otherwise (out->code may still hold
 * the header's value). */
int ad_azure_parse_error(const char *body, size_t len, const char *x_ms_error_code,
                         struct ad_azure_error *out);

#endif
