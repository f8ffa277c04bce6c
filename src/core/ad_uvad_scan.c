/* ad_uvad_scan.c - the detect request's fast path (ad_uvad_int.h): one pass
 * over the body that reads the usual request (an object of the API's own
 * fields, scalar values, a series of flat {timestamp, value} objects)
 * without building jansson's tree, which costs about a third of a
 * 1,000-point last/detect.
 *
 * Like the decoder's scanner (ad_jscan.c) it never rejects: a body it takes
 * is one that jansson (json_loadb with JSON_REJECT_DUPLICATES) reads with
 * the same values; for anything else, valid or not, it answers AD_EAGAIN
 * and the caller parses with jansson, which decides. Every check here may
 * be stricter than jansson's, never looser:
 * - strings: printable ASCII only, no escapes (so no UTF-8 to validate and
 *   the raw bytes are the decoded string);
 * - object keys: the request's own field names at the top level, and
 *   "timestamp" and "value" in a point, each at most once (an unknown or a
 *   repeated key is left to jansson);
 * - values: scalars, except the series (an array of objects); numbers by
 *   the JSON grammar, read by ad_jscan_int()/ad_jscan_real() (jansson's
 *   integers and strtod's reals; 19-digit integers and overflowing reals
 *   are left to jansson);
 * - nothing but JSON whitespace after the closing brace. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_uvad_int.h"

const char *const ad_uv_key_names[AD_UV_K_COUNT] =
    {"series",     "granularity",      "customInterval",
     "period",     "maxAnomalyRatio",  "sensitivity",
     "imputeMode", "imputeFixedValue", "stableTrendWindow",
     "threshold"};

#define SCAN_FIRST_CAP 1024 /* points before the first growth */

struct scan {
    const char *b;
    size_t len, i;
    struct ad_uv_scan *out;
    size_t cap; /* points allocated in out->pt */
};

static void skip_ws(struct scan *s)
{
    while (s->i < s->len) {
        char c = s->b[s->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        s->i++;
    }
}

/* Consumes c (after whitespace) when it is next. */
static bool take(struct scan *s, char c)
{
    skip_ws(s);
    if (s->i < s->len && s->b[s->i] == c) {
        s->i++;
        return true;
    }
    return false;
}

/* A string of printable ASCII without escapes, at the opening quote. */
static bool plain_string(struct scan *s, const char **p, size_t *len)
{
    if (s->i >= s->len || s->b[s->i] != '"')
        return false;
    size_t at = ++s->i;
    while (s->i < s->len) {
        unsigned char c = (unsigned char)s->b[s->i];
        if (c == '"') {
            *p = s->b + at;
            *len = s->i - at;
            s->i++;
            return true;
        }
        if (c < 0x20 || c > 0x7e || c == '\\')
            return false;
        s->i++;
    }
    return false;
}

/* A number (the decoder's scanner's grammar, ad_jscan_number), then one of
 * , } ] or whitespace; read as jansson reads it: INT (no fraction or
 * exponent) or REAL. */
static bool number(struct scan *s, struct ad_uv_jv *v)
{
    const char *b = s->b;
    size_t at = s->i, n = s->len;
    bool real;
    size_t i = at + ad_jscan_number(b + at, n - at, &real);
    if (i == at || i >= n ||
        !(b[i] == ',' || b[i] == '}' || b[i] == ']' || b[i] == ' ' || b[i] == '\t' ||
          b[i] == '\n' || b[i] == '\r'))
        return false;
    long long iv;
    if (real ? !ad_jscan_real(b + at, i - at, &v->num) : !ad_jscan_int(b + at, i - at, &iv))
        return false;
    if (!real)
        v->num = (double)iv;
    v->type = real ? AD_JSCAN_REAL : AD_JSCAN_INT;
    s->i = i;
    return true;
}

/* The literal word at s->i. */
static bool word(struct scan *s, const char *w, size_t wl)
{
    if (s->len - s->i < wl || memcmp(s->b + s->i, w, wl) != 0)
        return false;
    s->i += wl;
    return true;
}

/* A scalar value (after whitespace): string, number, true, false or null. */
static bool scalar(struct scan *s, struct ad_uv_jv *v)
{
    skip_ws(s);
    memset(v, 0, sizeof(*v));
    if (s->i >= s->len)
        return false;
    switch (s->b[s->i]) {
    case '"':
        v->type = AD_JSCAN_STRING;
        return plain_string(s, &v->s, &v->len);
    case 't':
        v->type = AD_JSCAN_TRUE;
        return word(s, "true", 4);
    case 'f':
        v->type = AD_JSCAN_FALSE;
        return word(s, "false", 5);
    case 'n':
        v->type = AD_JSCAN_NULL;
        return word(s, "null", 4);
    default:
        return number(s, v);
    }
}

/* A key (after whitespace) and its colon. */
static bool key(struct scan *s, const char **k, size_t *kl)
{
    skip_ws(s);
    return plain_string(s, k, kl) && take(s, ':');
}

static bool key_is(const char *k, size_t kl, const char *name)
{
    return strlen(name) == kl && memcmp(k, name, kl) == 0;
}

/* One point: an object of "timestamp" and "value" (either may be missing),
 * appended to out->pt. Returns 0, AD_EAGAIN or AD_ENOMEM. */
static int point(struct scan *s)
{
    struct ad_uv_scan *o = s->out;
    if (o->n == s->cap) {
        if (o->n > AD_UV_MAX_POINTS)
            return AD_EAGAIN; /* jansson reports the size */
        size_t cap = s->cap ? 2 * s->cap : SCAN_FIRST_CAP;
        struct ad_uv_jv *pt = ad_realloc(o->pt, cap * 2 * sizeof(*pt));
        if (!pt)
            return AD_ENOMEM;
        o->pt = pt;
        s->cap = cap;
    }
    struct ad_uv_jv *ts = &o->pt[2 * o->n], *val = ts + 1;
    memset(ts, 0, 2 * sizeof(*ts));
    if (!take(s, '{'))
        return AD_EAGAIN;
    if (take(s, '}')) {
        o->n++;
        return 0;
    }
    do {
        const char *k;
        size_t kl;
        if (!key(s, &k, &kl))
            return AD_EAGAIN;
        struct ad_uv_jv *v = key_is(k, kl, "value") ? val : key_is(k, kl, "timestamp") ? ts : NULL;
        if (!v || v->type != AD_JSCAN_MISSING || !scalar(s, v))
            return AD_EAGAIN;
    } while (take(s, ','));
    if (!take(s, '}'))
        return AD_EAGAIN;
    o->n++;
    return 0;
}

/* The series: an array of points. Returns 0, AD_EAGAIN or AD_ENOMEM. */
static int series(struct scan *s, struct ad_uv_jv *v)
{
    skip_ws(s);
    if (!take(s, '['))
        return AD_EAGAIN;
    v->type = AD_JSCAN_ARRAY;
    if (take(s, ']'))
        return 0;
    do {
        int rc = point(s);
        if (rc != 0)
            return rc;
    } while (take(s, ','));
    if (!take(s, ']'))
        return AD_EAGAIN;
    v->len = s->out->n;
    return 0;
}

/* One member of the top-level object. */
static int member(struct scan *s)
{
    const char *k;
    size_t kl;
    if (!key(s, &k, &kl))
        return AD_EAGAIN;
    size_t at = 0;
    while (at < AD_UV_K_COUNT && !key_is(k, kl, ad_uv_key_names[at]))
        at++;
    if (at == AD_UV_K_COUNT || s->out->seen[at])
        return AD_EAGAIN;
    s->out->seen[at] = true;
    struct ad_uv_jv *v = &s->out->key[at];
    if (at == AD_UV_K_SERIES)
        return series(s, v);
    if (!scalar(s, v))
        return AD_EAGAIN;
    if (v->type == AD_JSCAN_NULL) /* null reads as absent (the checks' field()) */
        memset(v, 0, sizeof(*v));
    return 0;
}

int ad_uv_scan_body(const char *body, size_t len, struct ad_uv_scan *out)
{
    memset(out, 0, sizeof(*out));
    struct scan s = {body, len, 0, out, 0};
    int rc = AD_EAGAIN;
    if (!body || !take(&s, '{') || take(&s, '}'))
        goto err;
    do {
        if ((rc = member(&s)) != 0)
            goto err;
    } while (take(&s, ','));
    rc = AD_EAGAIN;
    if (!take(&s, '}'))
        goto err;
    skip_ws(&s);
    if (s.i != s.len)
        goto err;
    return 0;
err:
    ad_uv_scan_free(out);
    return rc;
}

void ad_uv_scan_free(struct ad_uv_scan *s)
{
    if (!s)
        return;
    ad_free(s->pt);
    memset(s, 0, sizeof(*s));
}
