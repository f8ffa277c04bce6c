/* ad_decode.c - a record's bytes -> key, event time and metric values.
 *
 * The hot path is ad_jscan() (decode_fast() below): one validating pass over
 * the bytes, no tree. Records it leaves alone take the jansson path: one
 * json_loadb(), one pass over the accepted bytes for the
 * nesting limit (skipped for records too short to exceed it), then one
 * json_object_getn()/json_array_get() per pre-parsed pointer token. Nothing
 * is allocated here beyond jansson's own tree, which is released on every
 * path.
 *
 * Decisions the interface left open (see also tests/data/decode/):
 * - Parsing uses JSON_DECODE_ANY (a scalar top level is NOT_OBJECT, not
 *   INVALID_JSON) and JSON_ALLOW_NUL (a \u0000 in a field we do not read is
 *   harmless; in the key it is BAD_KEY). Duplicate members: the last wins.
 * - jansson's numeric overflow (an integer beyond int64_t or a real beyond
 *   DBL_MAX anywhere in the record) is INVALID_JSON: the parser cannot say
 *   which field it was in. METRIC_RANGE is for our own checks on parsed values.
 * - Metrics are JSON numbers only: booleans and numeric strings are BAD_METRIC.
 * - Time strings in the epoch formats (and numeric strings in auto) must match
 *   -?DIGITS[.DIGITS][(e|E)[+-]DIGITS]: no spaces, no '+', no hex, inf or nan.
 * - A null-valued header counts as missing (MISSING_KEY), like a JSON null.
 * - On a reject, *out is partially written and must be ignored. */
#include "ad_decode.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_jscan.h"
#include "ad_time.h"

#define AD_DECODE_MAX_DEPTH 64
#define AD_METRIC_MAX_ABS   1e100

/* ------------------------------------------------------------------------ */
/* Reject names */

const char *ad_reject_name(enum ad_reject r)
{
    switch (r) {
    case AD_REJECT_NONE:
        return "none";
#define AD_REJECT_NAME_(id, name, desc)                                                            \
    case AD_REJECT_##id:                                                                           \
        return name;
        AD_REJECT_MAP(AD_REJECT_NAME_)
#undef AD_REJECT_NAME_
    case AD_REJECT_COUNT:
        break;
    }
    return "unknown";
}

const char *ad_reject_desc(enum ad_reject r)
{
    switch (r) {
    case AD_REJECT_NONE:
        return "accepted";
#define AD_REJECT_DESC_(id, name, desc)                                                            \
    case AD_REJECT_##id:                                                                           \
        return desc;
        AD_REJECT_MAP(AD_REJECT_DESC_)
#undef AD_REJECT_DESC_
    case AD_REJECT_COUNT:
        break;
    }
    return "unknown reason";
}

/* ------------------------------------------------------------------------ */
/* JSON pointers (RFC 6901), parsed once */

/* Tokens are struct ad_jscan_tok (ad_jscan.h): the fast path reads them too.
 * Their strings point into the jptr's own allocation. */

struct jptr {
    size_t n;
    struct ad_jscan_tok *t; /* n tokens followed by the strings: one allocation */
};

static void jptr_free(struct jptr *p)
{
    ad_free(p->t);
    p->t = NULL;
    p->n = 0;
}

/* An RFC 6901 array index: "0" or digits without a leading zero. */
static long long token_index(const char *s, size_t len)
{
    if (len == 0 || len > 18 || (len > 1 && s[0] == '0'))
        return -1;
    long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Parses ptr into *out. "" (the whole document) is refused: it can never
 * name a key, a time or a metric. Returns 0, AD_ECONFIG (message in err) or
 * AD_ENOMEM. */
static int jptr_parse(const char *what, const char *ptr, struct jptr *out, char *err, size_t errlen)
{
    if (!ptr || ptr[0] != '/') {
        snprintf(err, errlen, "%s: \"%s\" is not a JSON pointer (must start with '/')", what,
                 ptr ? ptr : "");
        return AD_ECONFIG;
    }
    size_t plen = strlen(ptr), n = 0;
    for (size_t i = 0; i < plen; i++) {
        if (ptr[i] == '/')
            n++;
        else if (ptr[i] == '~' && (i + 1 >= plen || (ptr[i + 1] != '0' && ptr[i + 1] != '1'))) {
            snprintf(err, errlen, "%s: \"%s\": '~' must be followed by '0' or '1' (RFC 6901)", what,
                     ptr);
            return AD_ECONFIG;
        }
    }
    /* Strings need at most plen bytes (each token loses its '/', gains a NUL). */
    struct ad_jscan_tok *t = ad_malloc(n * sizeof(*t) + plen);
    if (!t) {
        snprintf(err, errlen, "%s: out of memory", what);
        return AD_ENOMEM;
    }
    char *mem = (char *)(t + n), *w = mem;
    size_t k = 0;
    for (size_t i = 1; i <= plen; i++) { /* skips the leading '/' */
        char *start = w;
        while (i < plen && ptr[i] != '/') {
            if (ptr[i] == '~') {
                *w++ = ptr[i + 1] == '0' ? '~' : '/';
                i += 2;
            } else {
                *w++ = ptr[i++];
            }
        }
        t[k].s = start;
        t[k].len = (size_t)(w - start);
        t[k].idx = token_index(start, t[k].len);
        *w++ = '\0';
        k++;
    }
    out->n = n;
    out->t = t;
    return 0;
}

/* Resolves p in root. Returns the value (borrowed) or NULL when missing. */
static json_t *jptr_get(const struct jptr *p, json_t *root)
{
    json_t *v = root;
    for (size_t i = 0; i < p->n && v; i++) {
        const struct ad_jscan_tok *t = &p->t[i];
        if (json_is_object(v))
            v = json_object_getn(v, t->s, t->len);
        else if (json_is_array(v) && t->idx >= 0)
            v = json_array_get(v, (size_t)t->idx);
        else
            v = NULL;
    }
    return v;
}

/* ------------------------------------------------------------------------ */
/* The decoder */

enum key_src { KEY_POINTER, KEY_HEADER, KEY_CONST };
enum time_src { TIME_POINTER, TIME_RECORD };

struct ad_decoder {
    size_t max_message_bytes;
    size_t max_key_bytes;
    enum key_src key_src;
    struct jptr key;
    char *header; /* the header name (KEY_HEADER) or the key itself (KEY_CONST) */
    enum time_src time_src;
    struct jptr time;
    int time_format;
    size_t n_metrics;
    struct jptr metric[AD_MAX_METRICS];
    /* The fast path's view of the pointers: key (KEY_POINTER), time
     * (TIME_POINTER), then the metrics; *_slot index paths[]. */
    struct ad_jscan_path paths[2 + AD_MAX_METRICS];
    size_t n_paths, key_slot, time_slot, metric_slot;
};

void ad_decoder_free(struct ad_decoder *d)
{
    if (!d)
        return;
    jptr_free(&d->key);
    ad_free(d->header);
    jptr_free(&d->time);
    for (size_t i = 0; i < d->n_metrics; i++)
        jptr_free(&d->metric[i]);
    ad_free(d);
}

/* Checks the settings that need no parsing. Returns 0 or AD_ECONFIG. */
static int check_cfg(const struct ad_decode_cfg *cfg, char *err, size_t errlen)
{
    if (cfg->max_message_bytes < 1) {
        snprintf(err, errlen, "limits.max_message_bytes: must be at least 1, not %lld",
                 (long long)cfg->max_message_bytes);
        return AD_ECONFIG;
    }
    if (cfg->max_key_bytes < 1) {
        snprintf(err, errlen, "limits.max_key_bytes: must be at least 1, not %lld",
                 (long long)cfg->max_key_bytes);
        return AD_ECONFIG;
    }
    if (cfg->time_format < AD_TIME_AUTO || cfg->time_format > AD_TIME_RFC3339) {
        snprintf(err, errlen, "input.time_format: invalid value %d", cfg->time_format);
        return AD_ECONFIG;
    }
    if (cfg->n_metrics == 0) {
        snprintf(err, errlen, "input.metrics: at least one metric is needed");
        return AD_ECONFIG;
    }
    if (cfg->n_metrics > AD_MAX_METRICS) {
        snprintf(err, errlen, "input.metrics: %zu metrics, at most %d are supported",
                 cfg->n_metrics, AD_MAX_METRICS);
        return AD_ECONFIG;
    }
    return 0;
}

/* input.key: a JSON pointer, "header:NAME" or "const:KEY". */
static int setup_key(struct ad_decoder *d, const char *key, char *err, size_t errlen)
{
    bool is_const = key && strncmp(key, "const:", 6) == 0;
    if (!key || (strncmp(key, "header:", 7) != 0 && !is_const)) {
        d->key_src = KEY_POINTER;
        return jptr_parse("input.key", key, &d->key, err, errlen);
    }
    const char *name = key + (is_const ? 6 : 7);
    size_t len = strlen(name);
    if (len == 0 || (is_const && len > d->max_key_bytes)) {
        snprintf(err, errlen, "input.key: \"%s\" needs a %s", is_const ? "const:" : "header:",
                 is_const ? "key of 1..limits.max_key_bytes bytes" : "header name");
        return AD_ECONFIG;
    }
    d->key_src = is_const ? KEY_CONST : KEY_HEADER;
    if (!(d->header = ad_malloc(len + 1))) {
        snprintf(err, errlen, "out of memory");
        return AD_ENOMEM;
    }
    memcpy(d->header, name, len + 1);
    return 0;
}

/* input.metrics: JSON pointers whose last tokens (the names) are distinct
 * and not empty. */
static int setup_metrics(struct ad_decoder *d, const struct ad_decode_cfg *cfg, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < cfg->n_metrics; i++) {
        char what[48];
        int rc;
        snprintf(what, sizeof(what), "input.metrics[%zu]", i);
        if ((rc = jptr_parse(what, cfg->metrics[i], &d->metric[i], err, errlen)) != 0)
            return rc;
        d->n_metrics = i + 1;
        const struct ad_jscan_tok *last = &d->metric[i].t[d->metric[i].n - 1];
        if (last->len == 0) {
            snprintf(err, errlen, "%s: \"%s\": the last token (the metric's name) is empty", what,
                     cfg->metrics[i]);
            return AD_ECONFIG;
        }
        for (size_t j = 0; j < i; j++) {
            const struct ad_jscan_tok *o = &d->metric[j].t[d->metric[j].n - 1];
            if (o->len == last->len && memcmp(o->s, last->s, last->len) == 0) {
                snprintf(err, errlen,
                         "%s: \"%s\" has the same name \"%s\" as input.metrics[%zu] \"%s\"", what,
                         cfg->metrics[i], last->s, j, cfg->metrics[j]);
                return AD_ECONFIG;
            }
        }
    }
    return 0;
}

static void setup_paths(struct ad_decoder *d)
{
    size_t n = 0;
    if (d->key_src == KEY_POINTER) {
        d->key_slot = n;
        d->paths[n++] = (struct ad_jscan_path){d->key.n, d->key.t};
    }
    if (d->time_src == TIME_POINTER) {
        d->time_slot = n;
        d->paths[n++] = (struct ad_jscan_path){d->time.n, d->time.t};
    }
    d->metric_slot = n;
    for (size_t i = 0; i < d->n_metrics; i++)
        d->paths[n++] = (struct ad_jscan_path){d->metric[i].n, d->metric[i].t};
    d->n_paths = n;
}

int ad_decoder_new(const struct ad_decode_cfg *cfg, struct ad_decoder **out, char *err,
                   size_t errlen)
{
    char dummy[1];
    struct ad_decoder *d = NULL;
    int rc;

    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (!cfg || !out || (cfg->n_metrics && !cfg->metrics)) {
        snprintf(err, errlen, "ad_decoder_new: NULL argument");
        return AD_EINVAL;
    }
    if ((rc = check_cfg(cfg, err, errlen)) != 0)
        return rc;
    if (!(d = ad_calloc(1, sizeof(*d)))) {
        snprintf(err, errlen, "out of memory");
        return AD_ENOMEM;
    }
#if SIZE_MAX < INT64_MAX
    d->max_message_bytes = cfg->max_message_bytes > (int64_t)SIZE_MAX
                               ? SIZE_MAX
                               : (size_t)cfg->max_message_bytes;
#else
    d->max_message_bytes = (size_t)cfg->max_message_bytes;
#endif
    d->max_key_bytes = cfg->max_key_bytes > AD_KEY_MAX ? AD_KEY_MAX : (size_t)cfg->max_key_bytes;
    d->time_format = cfg->time_format;
    if ((rc = setup_key(d, cfg->key, err, errlen)) != 0)
        goto err;
    if (cfg->time && strcmp(cfg->time, "record") == 0) {
        d->time_src = TIME_RECORD;
    } else {
        d->time_src = TIME_POINTER;
        if ((rc = jptr_parse("input.time", cfg->time, &d->time, err, errlen)) != 0)
            goto err;
    }
    if ((rc = setup_metrics(d, cfg, err, errlen)) != 0)
        goto err;
    setup_paths(d);
    *out = d;
    return 0;
err:
    ad_decoder_free(d);
    return rc;
}

size_t ad_decoder_metric_count(const struct ad_decoder *d)
{
    return d ? d->n_metrics : 0;
}

const char *ad_decoder_metric_name(const struct ad_decoder *d, size_t i)
{
    if (!d || i >= d->n_metrics)
        return NULL;
    return d->metric[i].t[d->metric[i].n - 1].s;
}

/* ------------------------------------------------------------------------ */
/* Record checks */

/* Nesting depth of containers, the top level being 1, read from the bytes of
 * a record that jansson has accepted (so strings and escapes are well formed
 * and the brackets balance): one pass, no recursion, and cheaper than walking
 * the tree. Returns true when within the limit. */
static bool depth_ok(const char *b, size_t len)
{
    /* Too short to hold limit + 1 bracket pairs: the common case, O(1). */
    if (len < 2 * (AD_DECODE_MAX_DEPTH + 1))
        return true;
    size_t depth = 0;
    for (size_t i = 0; i < len; i++) {
        switch (b[i]) {
        case '"':
            for (i++; i < len && b[i] != '"'; i++)
                if (b[i] == '\\')
                    i++;
            break;
        case '[':
        case '{':
            if (++depth > AD_DECODE_MAX_DEPTH)
                return false;
            break;
        case ']':
        case '}':
            depth--;
            break;
        default:
            break;
        }
    }
    return true;
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF) without NUL. */
static bool utf8_ok_no_nul(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return false;
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += n + 1;
    }
    return true;
}

static enum ad_reject key_from_header(const struct ad_decoder *d, const struct ad_record_meta *meta,
                                      struct ad_decoded *out)
{
    const void *val = NULL;
    size_t len = 0;
    if (!meta || !meta->header || meta->header(meta->header_ctx, d->header, &val, &len) != 0 ||
        !val)
        return AD_REJECT_MISSING_KEY;
    if (len == 0 || len > d->max_key_bytes || !utf8_ok_no_nul(val, len))
        return AD_REJECT_BAD_KEY;
    memcpy(out->key, val, len);
    out->key[len] = '\0';
    out->key_len = len;
    return AD_REJECT_NONE;
}

/* An integer key, in decimal. */
static enum ad_reject key_from_int(const struct ad_decoder *d, long long iv, struct ad_decoded *out)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = iv < 0 ? 0ULL - (unsigned long long)iv : (unsigned long long)iv;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (iv < 0)
        tmp[n++] = '-';
    if (n > d->max_key_bytes)
        return AD_REJECT_BAD_KEY;
    for (size_t i = 0; i < n; i++)
        out->key[i] = tmp[n - 1 - i];
    out->key[n] = '\0';
    out->key_len = n;
    return AD_REJECT_NONE;
}

static enum ad_reject key_from_json(const struct ad_decoder *d, json_t *root,
                                    struct ad_decoded *out)
{
    json_t *v = jptr_get(&d->key, root);
    if (!v || json_is_null(v))
        return AD_REJECT_MISSING_KEY;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        /* jansson has checked the UTF-8; JSON_ALLOW_NUL lets \u0000 through. */
        if (len == 0 || len > d->max_key_bytes || memchr(s, '\0', len))
            return AD_REJECT_BAD_KEY;
        memcpy(out->key, s, len);
        out->key[len] = '\0';
        out->key_len = len;
        return AD_REJECT_NONE;
    }
    if (json_is_integer(v))
        return key_from_int(d, json_integer_value(v), out);
    return AD_REJECT_BAD_KEY;
}

/* Checks -?DIGITS[.DIGITS][(e|E)[+-]DIGITS] over exactly len bytes; sets
 * *integer when there is neither a fraction nor an exponent. */
static bool numeric_string(const char *s, size_t len, bool *integer)
{
    size_t i = 0, k;
    if (i < len && s[i] == '-')
        i++;
    for (k = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
    }
    if (i == k)
        return false;
    *integer = true;
    if (i < len && s[i] == '.') {
        *integer = false;
        for (k = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == k)
            return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        *integer = false;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        for (k = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == k)
            return false;
    }
    return i == len;
}

static enum ad_reject range_reason(int rc)
{
    return rc == AD_ERANGE ? AD_REJECT_TIME_RANGE : AD_REJECT_BAD_TIME;
}

/* per_second: 1, 1000, 1000000, or 0 for "by magnitude". */
static enum ad_reject time_from_int(int64_t v, int64_t per_second, int64_t *us)
{
    int rc = per_second ? ad_time_from_epoch_int(v, per_second, us)
                        : ad_time_from_epoch_auto_int(v, us);
    return rc ? range_reason(rc) : AD_REJECT_NONE;
}

static enum ad_reject time_from_real(double v, int64_t per_second, int64_t *us)
{
    int rc = per_second ? ad_time_from_epoch(v, per_second, us) : ad_time_from_epoch_auto(v, us);
    return rc ? range_reason(rc) : AD_REJECT_NONE;
}

/* A numeric string (already checked by numeric_string(); s is NUL-terminated
 * right after the number, as jansson's strings are). */
static enum ad_reject time_from_numeric_string(const char *s, bool integer, int64_t per_second,
                                               int64_t *us)
{
    char *end;
    errno = 0;
    if (integer) {
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE)
            return AD_REJECT_TIME_RANGE;
        if (errno || *end != '\0')
            return AD_REJECT_BAD_TIME;
        return time_from_int(v, per_second, us);
    }
    double v = strtod(s, &end);
    if (errno == ERANGE && fabs(v) >= 1.0)
        return AD_REJECT_TIME_RANGE; /* overflow; an underflow reads as ~0 */
    if (*end != '\0')
        return AD_REJECT_BAD_TIME;
    return time_from_real(v, per_second, us);
}

/* Units per second of an epoch time format: 0 for "by magnitude" (auto), -1
 * for RFC 3339. */
static int64_t per_second_of(int time_format)
{
    switch (time_format) {
    case AD_TIME_EPOCH_S:
        return 1;
    case AD_TIME_EPOCH_MS:
        return 1000;
    case AD_TIME_EPOCH_US:
        return 1000000;
    case AD_TIME_RFC3339:
        return -1;
    default: /* AD_TIME_AUTO */
        return 0;
    }
}

static enum ad_reject time_from_json(const struct ad_decoder *d, json_t *root, int64_t *us)
{
    json_t *v = jptr_get(&d->time, root);
    if (!v || json_is_null(v))
        return AD_REJECT_MISSING_TIME;
    int64_t per_second = per_second_of(d->time_format);
    if (per_second < 0) { /* AD_TIME_RFC3339 */
        if (!json_is_string(v))
            return AD_REJECT_BAD_TIME;
        int rc = ad_time_parse_rfc3339(json_string_value(v), json_string_length(v), us);
        return rc ? range_reason(rc) : AD_REJECT_NONE;
    }
    if (json_is_integer(v))
        return time_from_int(json_integer_value(v), per_second, us);
    if (json_is_real(v))
        return time_from_real(json_real_value(v), per_second, us);
    if (!json_is_string(v))
        return AD_REJECT_BAD_TIME;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    bool integer;
    if (numeric_string(s, len, &integer))
        return time_from_numeric_string(s, integer, per_second, us);
    if (per_second)
        return AD_REJECT_BAD_TIME;
    int rc = ad_time_parse_rfc3339(s, len, us);
    return rc ? range_reason(rc) : AD_REJECT_NONE;
}

static enum ad_reject time_from_record(const struct ad_record_meta *meta, int64_t *us)
{
    if (!meta || meta->timestamp_ms < 0)
        return AD_REJECT_MISSING_TIME;
    return ad_time_from_epoch_int(meta->timestamp_ms, 1000, us) ? AD_REJECT_TIME_RANGE
                                                                : AD_REJECT_NONE;
}

static enum ad_reject decode_tree(const struct ad_decoder *d, json_t *root, const void *buf,
                                  size_t len, const struct ad_record_meta *meta,
                                  struct ad_decoded *out)
{
    if (!json_is_object(root))
        return AD_REJECT_NOT_OBJECT;
    if (!depth_ok(buf, len))
        return AD_REJECT_TOO_DEEP;

    enum ad_reject r = AD_REJECT_NONE;
    if (d->key_src == KEY_CONST) {
        out->key_len = strlen(d->header);
        memcpy(out->key, d->header, out->key_len + 1);
    } else {
        r = d->key_src == KEY_HEADER ? key_from_header(d, meta, out) : key_from_json(d, root, out);
    }
    if (r != AD_REJECT_NONE)
        return r;

    r = d->time_src == TIME_RECORD ? time_from_record(meta, &out->time_us)
                                   : time_from_json(d, root, &out->time_us);
    if (r != AD_REJECT_NONE)
        return r;

    for (size_t i = 0; i < d->n_metrics; i++) {
        json_t *v = jptr_get(&d->metric[i], root);
        double x;
        if (!v || json_is_null(v))
            return AD_REJECT_MISSING_METRIC;
        if (json_is_integer(v))
            x = (double)json_integer_value(v);
        else if (json_is_real(v))
            x = json_real_value(v);
        else
            return AD_REJECT_BAD_METRIC;
        if (!(fabs(x) <= AD_METRIC_MAX_ABS)) /* also NaN */
            return AD_REJECT_METRIC_RANGE;
        out->values[i] = x;
    }
    out->n_values = d->n_metrics;
    return AD_REJECT_NONE;
}

/* ------------------------------------------------------------------------ */
/* The fast path: the same decisions from ad_jscan()'s spans, or FAST_FALLBACK
 * for the few cases it leaves to the jansson path (escaped strings that must
 * be read, numbers strtod cannot take from a short copy). */

#define FAST_FALLBACK (-1)

static int fast_key(const struct ad_decoder *d, const struct ad_jscan_val *v,
                    struct ad_decoded *out)
{
    long long iv;
    switch (v->type) {
    case AD_JSCAN_MISSING:
    case AD_JSCAN_NULL:
        return AD_REJECT_MISSING_KEY;
    case AD_JSCAN_STRING:
        if (v->escaped)
            return FAST_FALLBACK;
        /* Raw bytes of a validated string without escapes: UTF-8, no NUL. */
        if (v->len == 0 || v->len > d->max_key_bytes)
            return AD_REJECT_BAD_KEY;
        memcpy(out->key, v->p, v->len);
        out->key[v->len] = '\0';
        out->key_len = v->len;
        return AD_REJECT_NONE;
    case AD_JSCAN_INT:
        if (!ad_jscan_int(v->p, v->len, &iv))
            return FAST_FALLBACK;
        return key_from_int(d, iv, out);
    default:
        return AD_REJECT_BAD_KEY;
    }
}

static int fast_time(const struct ad_decoder *d, const struct ad_jscan_val *v, int64_t *us)
{
    if (v->type == AD_JSCAN_MISSING || v->type == AD_JSCAN_NULL)
        return AD_REJECT_MISSING_TIME;
    int64_t per_second = per_second_of(d->time_format);
    if (v->type == AD_JSCAN_STRING && v->escaped)
        return FAST_FALLBACK;
    if (per_second < 0) { /* AD_TIME_RFC3339 */
        if (v->type != AD_JSCAN_STRING)
            return AD_REJECT_BAD_TIME;
        int rc = ad_time_parse_rfc3339(v->p, v->len, us);
        return rc ? range_reason(rc) : AD_REJECT_NONE;
    }
    long long iv;
    double x;
    switch (v->type) {
    case AD_JSCAN_INT:
        if (!ad_jscan_int(v->p, v->len, &iv))
            return FAST_FALLBACK;
        return time_from_int(iv, per_second, us);
    case AD_JSCAN_REAL:
        if (!ad_jscan_real(v->p, v->len, &x))
            return FAST_FALLBACK;
        return time_from_real(x, per_second, us);
    case AD_JSCAN_STRING:
        break;
    default:
        return AD_REJECT_BAD_TIME;
    }
    bool integer;
    if (numeric_string(v->p, v->len, &integer)) {
        char tmp[128]; /* time_from_numeric_string() wants it NUL-terminated */
        if (v->len >= sizeof(tmp))
            return FAST_FALLBACK;
        memcpy(tmp, v->p, v->len);
        tmp[v->len] = '\0';
        return time_from_numeric_string(tmp, integer, per_second, us);
    }
    if (per_second)
        return AD_REJECT_BAD_TIME;
    int rc = ad_time_parse_rfc3339(v->p, v->len, us);
    return rc ? range_reason(rc) : AD_REJECT_NONE;
}

static int fast_metric(const struct ad_jscan_val *v, double *out)
{
    long long iv;
    double x;
    switch (v->type) {
    case AD_JSCAN_MISSING:
    case AD_JSCAN_NULL:
        return AD_REJECT_MISSING_METRIC;
    case AD_JSCAN_INT:
        if (!ad_jscan_int(v->p, v->len, &iv))
            return FAST_FALLBACK;
        x = (double)iv;
        break;
    case AD_JSCAN_REAL:
        if (!ad_jscan_real(v->p, v->len, &x))
            return FAST_FALLBACK;
        break;
    default:
        return AD_REJECT_BAD_METRIC;
    }
    if (!(fabs(x) <= AD_METRIC_MAX_ABS)) /* also NaN */
        return AD_REJECT_METRIC_RANGE;
    *out = x;
    return AD_REJECT_NONE;
}

/* Returns an enum ad_reject, or FAST_FALLBACK. Checks in decode_tree()'s
 * order so that the first failing check gives the same reason. */
static int decode_fast(const struct ad_decoder *d, const void *buf, size_t len,
                       const struct ad_record_meta *meta, struct ad_decoded *out)
{
    struct ad_jscan_val v[2 + AD_MAX_METRICS];
    switch (ad_jscan(buf, len, d->paths, d->n_paths, v)) {
    case AD_JSCAN_OK:
        break;
    case AD_JSCAN_NOT_OBJECT:
        return AD_REJECT_NOT_OBJECT;
    default:
        return FAST_FALLBACK;
    }
    int r = AD_REJECT_NONE;
    if (d->key_src == KEY_CONST) {
        out->key_len = strlen(d->header);
        memcpy(out->key, d->header, out->key_len + 1);
    } else {
        r = d->key_src == KEY_HEADER ? (int)key_from_header(d, meta, out)
                                     : fast_key(d, &v[d->key_slot], out);
    }
    if (r != AD_REJECT_NONE)
        return r;
    r = d->time_src == TIME_RECORD ? (int)time_from_record(meta, &out->time_us)
                                   : fast_time(d, &v[d->time_slot], &out->time_us);
    if (r != AD_REJECT_NONE)
        return r;
    for (size_t i = 0; i < d->n_metrics; i++)
        if ((r = fast_metric(&v[d->metric_slot + i], &out->values[i])) != AD_REJECT_NONE)
            return r;
    out->n_values = d->n_metrics;
    return AD_REJECT_NONE;
}

/* ------------------------------------------------------------------------ */
/* Entry points */

static enum ad_reject decode_jansson(struct ad_decoder *d, const void *buf, size_t len,
                                     const struct ad_record_meta *meta, struct ad_decoded *out)
{
    json_error_t jerr;
    uint64_t failures = ad_alloc_failures();
    json_t *root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    /* jansson does not always say "out of memory" (its lexer drops bytes it
     * cannot buffer, and the tree is then wrong); when it allocates through
     * ad_malloc (json_set_alloc_funcs), the allocator tells. */
    if (ad_alloc_failures() != failures) {
        json_decref(root);
        return AD_REJECT_NOMEM;
    }
    if (!root) {
        switch (json_error_code(&jerr)) {
        case json_error_invalid_utf8:
            return AD_REJECT_INVALID_UTF8;
        case json_error_stack_overflow:
            return AD_REJECT_TOO_DEEP;
        case json_error_out_of_memory:
            return AD_REJECT_NOMEM;
        default:
            return AD_REJECT_INVALID_JSON;
        }
    }
    enum ad_reject r = decode_tree(d, root, buf, len, meta, out);
    json_decref(root);
    return r;
}

/* Checks common to both paths. A raw NUL byte is never valid JSON, but
 * jansson's lexer takes one right after a number as the end of the input
 * ({"temp":1\0} would be temp 1), so it is refused here. */
static bool precheck(const struct ad_decoder *d, const void *buf, size_t len, enum ad_reject *r)
{
    if (len > d->max_message_bytes) {
        *r = AD_REJECT_TOO_LARGE;
        return false;
    }
    if (len && memchr(buf, '\0', len)) {
        *r = AD_REJECT_INVALID_JSON;
        return false;
    }
    return true;
}

enum ad_reject ad_decode(struct ad_decoder *d, const void *buf, size_t len,
                         const struct ad_record_meta *meta, struct ad_decoded *out)
{
    enum ad_reject r;
    if (!precheck(d, buf, len, &r))
        return r;
    int fr = decode_fast(d, buf, len, meta, out);
    if (fr != FAST_FALLBACK)
        return (enum ad_reject)fr;
    return decode_jansson(d, buf, len, meta, out);
}

enum ad_reject ad_decode_reference(struct ad_decoder *d, const void *buf, size_t len,
                                   const struct ad_record_meta *meta, struct ad_decoded *out)
{
    enum ad_reject r;
    if (!precheck(d, buf, len, &r))
        return r;
    return decode_jansson(d, buf, len, meta, out);
}
