/* ad_decode.h - a record's bytes -> one key, one event time and one value per
 * configured metric (a single-pass scanner, jansson as the reference and the
 * fallback). Pure: no Kafka, no clock.
 *
 * A record is accepted whole or rejected whole with one counted reason; a
 * rejected record never reaches the window stage. */
#ifndef AD_DECODE_H
#define AD_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "ad_types.h"

/* Rejection reasons: name (used in metrics and the summary), description. */
#define AD_REJECT_MAP(X)                                                                           \
    X(TOO_LARGE, "too_large", "record larger than limits.max_message_bytes")                       \
    X(INVALID_JSON, "invalid_json", "not valid JSON")                                              \
    X(INVALID_UTF8, "invalid_utf8", "invalid UTF-8")                                               \
    X(TOO_DEEP, "too_deep", "JSON nested too deeply")                                              \
    X(NOT_OBJECT, "not_object", "top level is not a JSON object")                                  \
    X(MISSING_KEY, "missing_key", "key field or header missing")                                   \
    X(BAD_KEY, "bad_key", "key is not a string or integer, is empty or too long")                  \
    X(MISSING_TIME, "missing_time", "time field missing")                                          \
    X(BAD_TIME, "bad_time", "time field malformed or of the wrong type")                           \
    X(TIME_RANGE, "time_out_of_range", "time outside 1970..9999")                                  \
    X(MISSING_METRIC, "missing_metric", "a metric field is missing or null")                       \
    X(BAD_METRIC, "bad_metric", "a metric is not a number")                                        \
    X(METRIC_RANGE, "metric_out_of_range", "a metric is NaN, infinite or |v| > 1e100")             \
    X(NOMEM, "out_of_memory", "no memory to parse the record")

enum ad_reject {
    AD_REJECT_NONE = 0,
#define AD_REJECT_ENUM_(id, name, desc) AD_REJECT_##id,
    AD_REJECT_MAP(AD_REJECT_ENUM_)
#undef AD_REJECT_ENUM_
        AD_REJECT_COUNT
};

const char *ad_reject_name(enum ad_reject r);
const char *ad_reject_desc(enum ad_reject r);

/* Looks up a record header by name; sets *val and *len (borrowed) and returns 0,
 * or returns AD_ENOENT. */
typedef int (*ad_header_fn)(void *ctx, const char *name, const void **val, size_t *len);

/* Where a record came from. Borrowed for the duration of one call. */
struct ad_record_meta {
    const char *topic; /* "" when unknown */
    int32_t partition;
    int64_t offset;       /* increasing within a partition; -1 when unknown */
    int64_t timestamp_ms; /* the Kafka record timestamp, or -1 */
    ad_header_fn header;  /* NULL when the source has no headers */
    void *header_ctx;
    /* For the dead letter, which carries the record as it came: its key
     * (NULL for none) and every header in order (header_at sets the i-th's
     * name, value and length and returns 0, or AD_ENOENT past the last;
     * NULL when the source has no headers; it reads header_ctx). */
    const void *key;
    size_t key_len;
    int (*header_at)(void *ctx, size_t i, const char **name, const void **val, size_t *len);
};

/* One decoded record. values[i] belongs to the i-th configured metric. */
struct ad_decoded {
    char key[AD_KEY_MAX + 1]; /* NUL-terminated copy */
    size_t key_len;
    int64_t time_us;
    size_t n_values;
    double values[AD_MAX_METRICS];
};

struct ad_decoder;

/* The decoder's settings (input.*, limits.max_message_bytes and
 * limits.max_key_bytes of the configuration). The strings are borrowed for
 * the duration of ad_decoder_new(), which keeps its own parsed copies. */
struct ad_decode_cfg {
    const char *key;  /* JSON pointer, "header:NAME" or "const:KEY" */
    const char *time; /* JSON pointer, or "record" (the Kafka record timestamp) */
    int time_format;  /* enum ad_time_format */
    size_t n_metrics;
    const char *const *metrics; /* n_metrics JSON pointers */
    int64_t max_message_bytes;
    int64_t max_key_bytes; /* capped at AD_KEY_MAX */
};

/* Builds a decoder from cfg (copied: cfg and its strings may go away
 * afterwards). Fails with AD_EINVAL for a NULL argument, AD_ECONFIG and a
 * message in err for an invalid JSON pointer, a bad limit or too many
 * metrics, AD_ENOMEM. Returns owned; free with ad_decoder_free(). */
int ad_decoder_new(const struct ad_decode_cfg *cfg, struct ad_decoder **out, char *err,
                   size_t errlen);
void ad_decoder_free(struct ad_decoder *d);

/* Number of metrics and the name of the i-th (the pointer's last token,
 * unescaped). The name is owned by the decoder. */
size_t ad_decoder_metric_count(const struct ad_decoder *d);
const char *ad_decoder_metric_name(const struct ad_decoder *d, size_t i);

/* Decodes one record. Returns AD_REJECT_NONE and fills *out, or the reason.
 * Tries the single-pass scanner (ad_jscan.h) first and parses with jansson
 * only the records the scanner leaves to it. */
enum ad_reject ad_decode(struct ad_decoder *d, const void *buf, size_t len,
                         const struct ad_record_meta *meta, struct ad_decoded *out);

/* The same decode through jansson alone: the reference that ad_decode() must
 * agree with on every input (the differential fuzz target and tests). */
enum ad_reject ad_decode_reference(struct ad_decoder *d, const void *buf, size_t len,
                                   const struct ad_record_meta *meta, struct ad_decoded *out);

#endif
