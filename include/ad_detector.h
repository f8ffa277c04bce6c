/* ad_detector.h - the remote Anomaly Detector client's pure half: request
 * bodies, response and error parsing, retry/backoff/circuit-breaker rules and
 * the JSON anomalyd writes about a remote verdict (docs/remote.md).
 *
 * Pure: no I/O, no clock (every time is passed in), no global state. The
 * transport (libcurl on libuv) lives elsewhere and calls these.
 *
 * Ownership, for the whole family: every pointer argument is borrowed for the
 * duration of the call; nothing is retained. Output goes to caller-owned
 * structs or is appended to a caller-owned struct ad_buf; a function that
 * fails leaves the buffer's content as it was (its max bounds every body).
 * Parsers set their out-parameter only on success (ad_det_parse_error, a
 * best-effort reader, always sets it). */
#ifndef AD_DETECTOR_H
#define AD_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"

#define AD_DET_MIN_POINTS      12      /* the service's lower bound on a series */
#define AD_DET_MAX_POINTS      8640    /* ... and its upper bound */
#define AD_DET_MAX_INPUT       1048576 /* most points ad_det_build_request() takes */
#define AD_DET_MAX_BODY        1048576 /* most response bytes a parser accepts */
#define AD_DET_MAX_RETRY_AFTER 3600000 /* ms: ad_det_retry_after_ms()'s cap */
#define AD_DET_MAX_VALUE       1e100   /* the service's bound on |value| */

/* ---- requests ------------------------------------------------------------ */

/* One tumbling point: t_us is the window start (microseconds since the Unix
 * epoch, UTC), v its aggregate. */
struct ad_det_point {
    int64_t t_us;
    double v;
};

/* Request parameters (remote.anomaly_detector.* in the config). Strings are
 * borrowed. */
struct ad_det_cfg {
    int api_version;         /* 0 = v1.0, 1 = v1.1 (ad_det_api_version()) */
    const char *granularity; /* yearly monthly weekly daily hourly minutely secondly
                                microsecond none */
    int64_t interval_us;     /* the tumbling window's size, > 0: the series' grid step */
    int sensitivity;         /* 0..99 */
    double max_anomaly_ratio; /* 0 < r <= 0.49 */
    int period;              /* >= 0 sent as "period"; -1 = omitted (the service detects it) */
    int min_points;          /* fewer points are not sent; values below 12 count as 12 */
};

/* "v1.0" -> 0, "v1.1" -> 1, anything else (or NULL) -> AD_EINVAL. */
int ad_det_api_version(const char *name);

/* The customInterval of a series whose grid step is interval_us at the given
 * granularity: interval_us / unit, where the unit is 7 d, 1 d, 1 h, 1 min,
 * 1 s or 1 us. Sets *out to 1 when that is 1 and for yearly, monthly (no
 * fixed length) and none, which never send customInterval. Returns 0, or
 * AD_EINVAL for an unknown granularity, interval_us <= 0, or an interval that
 * is not a whole multiple of the unit (e.g. 90 s with minutely): use it to
 * check a config before any request is built. */
int ad_det_custom_interval(const char *granularity, int64_t interval_us, int64_t *out);

/* Appends the detect URL to out:
 *   {endpoint without trailing '/'}/anomalydetector/v1.1/timeseries/last/detect
 * (v1.0 for api_version 0; entire/detect when entire is true). Returns 0,
 * AD_EINVAL (NULL or empty endpoint, api_version not 0 or 1) or the buffer's
 * AD_ELIMIT/AD_ENOMEM. */
int ad_det_url(const char *endpoint, int api_version, bool entire, struct ad_buf *out);

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
 * a bad cfg (see ad_det_custom_interval(), sensitivity, max_anomaly_ratio,
 * period < -1); AD_ELIMIT for n > AD_DET_MAX_INPUT or a body over out's max;
 * AD_ENOMEM. */
int ad_det_build_request(const struct ad_det_cfg *c, const struct ad_det_point *pts, size_t n,
                         struct ad_buf *out, size_t *sent);

/* ---- responses ----------------------------------------------------------- */

/* The service's verdict on one point. The band is
 * expected_value - lower_margin .. expected_value + upper_margin. */
struct ad_det_verdict {
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
 * over AD_DET_MAX_BODY; AD_EPARSE otherwise, with a reason in err (errlen
 * bytes, may be NULL/0): "malformed JSON: ...", "not a JSON object",
 * "missing isAnomaly", "isAnomaly is not a boolean", ... */
int ad_det_parse_last(const char *body, size_t len, struct ad_det_verdict *out, char *err,
                      size_t errlen);

/* Parses the 200 body of entire/detect for a request of npoints points and
 * returns the verdict on the newest one. Required: expectedValues,
 * upperMargins, lowerMargins (arrays of numbers), isAnomaly, isPositiveAnomaly,
 * isNegativeAnomaly (arrays of booleans), each with exactly npoints entries,
 * and period (integer >= 0); severity (array of numbers, npoints entries) is
 * optional. Every entry is type-checked. suggested_window is -1. Returns as
 * ad_det_parse_last(); AD_EINVAL for npoints 0 or > 8640. */
int ad_det_parse_entire_last(const char *body, size_t len, size_t npoints,
                             struct ad_det_verdict *out, char *err, size_t errlen);

/* An error response: control characters are replaced by '?', and long values
 * are cut at a UTF-8 character boundary, so both can be logged as is. */
struct ad_det_error {
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
int ad_det_parse_error(const char *body, size_t len, const char *x_ms_error_code,
                       struct ad_det_error *out);

/* ---- retries ------------------------------------------------------------- */

/* How long the server asked us to wait, in ms, from (first match wins):
 *   - retry_after, the Retry-After header (NULL when absent): delta-seconds
 *     ("7") or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") taken relative
 *     to now_epoch_s (a date in the past gives 0);
 *   - the body (len bytes; the first AD_DET_MAX_BODY are searched): the text
 *     "Try again in N second(s)" anywhere, case-insensitive, e.g. inside the
 *     gateway envelope's message.
 * Returns the delay capped at AD_DET_MAX_RETRY_AFTER (1 hour), or -1 when
 * neither gives one (an unreadable header falls through to the body). */
int64_t ad_det_retry_after_ms(const char *retry_after, const char *body, size_t len,
                              int64_t now_epoch_s);

enum ad_det_class {
    AD_DET_OK = 0, /* use the body */
    AD_DET_RETRY,  /* transient: retry later with backoff */
    AD_DET_FAIL    /* permanent: never retried */
};

/* Classifies an attempt: transport_failed (connection refused/reset, DNS,
 * timeout: no complete response) -> RETRY; else 2xx -> OK; 408, 429 and
 * 5xx -> RETRY; any other status (1xx, 3xx, other 4xx, 0) -> FAIL. */
enum ad_det_class ad_det_classify(long http_status, bool transport_failed);

/* The delay before retry number attempt (0 = the first retry), in ms:
 * d = min(base_ms * 2^attempt, max_ms), then "equal jitter": d/2 plus a
 * uniform integer in [0, d - d/2], so the result lies in [d/2, d].
 * *rng_state is the caller's splitmix64 state (any seed; advanced by one
 * step). base_ms <= 0 gives 0; max_ms < base_ms caps at max_ms. */
int64_t ad_det_backoff_ms(unsigned attempt, int64_t base_ms, int64_t max_ms,
                          uint64_t *rng_state);

/* ---- circuit breaker ----------------------------------------------------- */

enum ad_breaker_state { AD_BREAKER_CLOSED = 0, AD_BREAKER_OPEN, AD_BREAKER_HALF_OPEN };

/* A breaker for one endpoint. Caller-owned, no resources, driven by injected
 * time in ms (any monotonic origin). Fields are read-only outside the
 * ad_breaker_* functions. */
struct ad_breaker {
    int state;                 /* enum ad_breaker_state */
    unsigned failures;         /* consecutive failures while closed */
    unsigned threshold;        /* failures that open the circuit, >= 1 */
    int64_t open_until_ms;     /* while open: when a probe is allowed */
    int64_t cooldown_ms;       /* the current cooldown */
    int64_t base_cooldown_ms;  /* the configured one; cooldown_ms <= 16x this */
    unsigned probes_in_flight; /* 0 or 1, in half-open */
};

/* Closed, no failures. threshold 0 counts as 1, cooldown_ms < 1 as 1. */
void ad_breaker_init(struct ad_breaker *b, unsigned threshold, int64_t cooldown_ms);

/* May a request start now? Closed: yes. Open: no until open_until_ms, then
 * the breaker turns half-open and allows exactly one probe. Half-open: no
 * while the probe is in flight. Every true must be followed by one
 * ad_breaker_record() for that request. */
bool ad_breaker_allow(struct ad_breaker *b, int64_t now_ms);

/* Records the outcome of an allowed request (success = AD_DET_OK; a FAIL
 * such as a 400 is the server answering and should be recorded as success).
 * Closed: a success resets the count; threshold consecutive failures open the
 * circuit for cooldown_ms. Half-open: success closes it (cooldown back to the
 * base); failure opens it again with the cooldown doubled, capped at 16x the
 * base. Open: outcomes of requests started before it opened are ignored. */
void ad_breaker_record(struct ad_breaker *b, bool success, int64_t now_ms);

/* "closed", "open", "half_open" ("unknown" otherwise). */
const char *ad_breaker_state_name(int state);

/* ---- verdicts, alerts and webhook rows ----------------------------------- */

/* The modes of remote.anomaly_detector.mode are enum ad_remote_mode
 * (ad_config.h): 0 off, 1 confirm, 2 always. */

/* Is the remote asked about this window? off: never; confirm: only when the
 * local model flagged the point; always: every window. */
bool ad_det_should_ask(int mode, bool local_anomaly);

/* The final verdict on a point: off, or no remote verdict (v NULL: not asked,
 * skipped, unavailable, timeout, rejected, breaker open): the local one;
 * otherwise the remote's is_anomaly. */
bool ad_det_final(int mode, bool local_anomaly, const struct ad_det_verdict *v);

/* Appends the alert's `remote` member (no leading comma) for
 * ad_alert_format_ext():
 *   "remote":{"status":"ok","is_anomaly":true,"expected_value":31.5,
 *             "upper_margin":1.2,"lower_margin":1.2,"is_positive_anomaly":true,
 *             "is_negative_anomaly":false,"severity":0.4,"period":0}
 *   "remote":{"status":"rejected","reason":"InvalidSeries"}
 * status is one of "ok", "skipped", "unavailable", "timeout", "rejected",
 * "breaker_open" (not checked). The verdict members follow when v is not
 * NULL (severity only when has_severity, period only when >= 0); "reason"
 * follows when detail is not NULL. Returns 0, AD_EINVAL (NULL status, a
 * non-finite number) or the buffer's errors. */
int ad_det_remote_json(struct ad_buf *out, const struct ad_det_verdict *v, const char *status,
                       const char *detail);

/* Appends one dashboard row (scenario B) as a JSON object:
 *   {"timestamp":"2026-11-20T10:00:00Z","value":31.2,"expectedValue":22.3,
 *    "upperMargin":4.4,"lowerMargin":4.4,"isAnomaly":true,
 *    "isPositiveAnomaly":true,"isNegativeAnomaly":false}
 * From the remote verdict v when not NULL; else from the local model:
 * expected = local_expected, both margins = threshold * local_stddev,
 * isAnomaly = local_anomaly, isPositive/isNegative = local_anomaly and value
 * above/below the expected value. Returns 0, AD_EINVAL (a non-finite number,
 * a time outside 1970..9999) or the buffer's errors. */
int ad_det_webhook_row(struct ad_buf *out, int64_t t_us, double value,
                       const struct ad_det_verdict *v, bool local_anomaly, double local_expected,
                       double local_stddev, double threshold);

/* Adds one JSON value (row, len bytes, not validated) to the array in batch:
 * an empty batch becomes "[row]", "[a]" becomes "[a,row]". batch is always a
 * complete JSON array after a successful call. Returns 0, AD_EINVAL when
 * batch is neither empty nor ends in ']', or the buffer's errors. */
int ad_det_batch_add(struct ad_buf *batch, const char *row, size_t len);

#endif
