/* ad_azure.c - the Anomaly Detector REST contract's wire format: request URLs
 * and bodies, verdict and error parsing (see include/ad_azure.h and
 * docs/remote.md).
 *
 * No I/O, no clock, no globals. Bodies are parsed with jansson, written with
 * ad_buf; every size from input is capped before it is used. */
#include "ad_azure.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_time.h"

#define US_PER_S INT64_C(1000000)

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int ad_azure_add_time(struct ad_buf *out, int64_t us)
{
    char tmp[48];
    int64_t secs = us / US_PER_S, frac = us % US_PER_S, y;
    int64_t days = secs / 86400, sod = secs % 86400;
    unsigned m, d;
    int n;

    if (us < AD_TIME_MIN_US || us > AD_TIME_MAX_US)
        return AD_EINVAL;
    ad_civil_from_days(days, &y, &m, &d);
    n = snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02d", (int)y, m, d, (int)(sod / 3600),
                 (int)(sod / 60 % 60), (int)(sod % 60));
    if (frac % 1000 == 0 && frac)
        n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%03d", (int)(frac / 1000));
    else if (frac)
        n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%06d", (int)frac);
    tmp[n++] = 'Z';
    return ad_buf_add(out, tmp, (size_t)n);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */

int ad_azure_api_version(const char *name)
{
    if (name && strcmp(name, "v1.0") == 0)
        return 0;
    if (name && strcmp(name, "v1.1") == 0)
        return 1;
    return AD_EINVAL;
}

int ad_azure_custom_interval(const char *granularity, int64_t interval_us, int64_t *out)
{
    static const struct {
        const char *name;
        int64_t unit_us; /* 0: no fixed length, customInterval never sent */
    } units[] = {
        {"yearly", 0},
        {"monthly", 0},
        {"weekly", INT64_C(604800000000)},
        {"daily", INT64_C(86400000000)},
        {"hourly", INT64_C(3600000000)},
        {"minutely", INT64_C(60000000)},
        {"secondly", INT64_C(1000000)},
        {"microsecond", 1},
        {"none", 0},
    };

    if (!granularity || interval_us <= 0)
        return AD_EINVAL;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(granularity, units[i].name) != 0)
            continue;
        if (units[i].unit_us == 0) {
            *out = 1;
            return 0;
        }
        if (interval_us % units[i].unit_us != 0)
            return AD_EINVAL;
        *out = interval_us / units[i].unit_us;
        return 0;
    }
    return AD_EINVAL;
}

int ad_azure_url(const char *endpoint, int api_version, bool entire, struct ad_buf *out)
{
    size_t start = out->len, len;
    int rc;

    if (!endpoint || (api_version != 0 && api_version != 1))
        return AD_EINVAL;
    len = strlen(endpoint);
    while (len > 0 && endpoint[len - 1] == '/')
        len--;
    if (len == 0)
        return AD_EINVAL;
    rc = ad_buf_add(out, endpoint, len);
    if (rc == 0)
        rc = ad_buf_printf(out, "/anomalydetector/%s/timeseries/%s/detect",
                           api_version ? "v1.1" : "v1.0", entire ? "entire" : "last");
    return rc ? ad_buf_rollback(out, start, rc) : 0;
}

struct item {
    int64_t t;
    double v;
    size_t idx; /* position in the input: the later one wins a tie */
};

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Steps 1-4 of the header: fills a (n slots) and returns the index of the
 * first point to send; *end is one past the last. */
static size_t clean_points(const struct ad_azure_point *pts, size_t n, int64_t interval_us,
                           struct item *a, size_t *end)
{
    size_t m = 0, k = 0;

    for (size_t i = 0; i < n; i++) {
        double v = pts[i].v;
        if (!(fabs(v) <= AD_AZURE_MAX_VALUE) || pts[i].t_us < AD_TIME_MIN_US ||
            pts[i].t_us > AD_TIME_MAX_US)
            continue; /* NaN fails the comparison too */
        a[m].t = pts[i].t_us;
        a[m].v = v;
        a[m].idx = i;
        m++;
    }
    qsort(a, m, sizeof(*a), item_cmp);
    for (size_t i = 0; i < m; i++)
        if (i + 1 == m || a[i + 1].t != a[i].t)
            a[k++] = a[i]; /* the last of each run of equal times */
    if (k > 0) {
        int64_t newest = a[k - 1].t;
        m = k;
        k = 0;
        for (size_t i = 0; i < m; i++)
            if ((newest - a[i].t) % interval_us == 0)
                a[k++] = a[i];
    }
    *end = k;
    return k > AD_AZURE_MAX_POINTS ? k - AD_AZURE_MAX_POINTS : 0;
}

int ad_azure_build_request(const struct ad_azure_cfg *c, const struct ad_azure_point *pts, size_t n,
                           struct ad_buf *out, size_t *sent)
{
    size_t start = out->len, first, end, need;
    int64_t ci;
    struct item *a;
    int rc;

    if (!c || (n && !pts) || ad_azure_custom_interval(c->granularity, c->interval_us, &ci) != 0 ||
        c->sensitivity < 0 || c->sensitivity > 99 ||
        !(c->max_anomaly_ratio > 0 && c->max_anomaly_ratio <= 0.49) || c->period < -1 ||
        c->min_points > AD_AZURE_MAX_POINTS)
        return AD_EINVAL;
    if (n > AD_AZURE_MAX_INPUT)
        return AD_ELIMIT;
    need = c->min_points > AD_AZURE_MIN_POINTS ? (size_t)c->min_points : AD_AZURE_MIN_POINTS;

    a = ad_malloc((n ? n : 1) * sizeof(*a));
    if (!a)
        return AD_ENOMEM;
    first = clean_points(pts, n, c->interval_us, a, &end);
    if (end - first < need) {
        *sent = end - first;
        ad_free(a);
        return AD_ERANGE;
    }

    rc = ad_buf_adds(out, "{\"series\":[");
    for (size_t i = first; rc == 0 && i < end; i++) {
        rc = ad_buf_adds(out, i == first ? "{\"timestamp\":\"" : ",{\"timestamp\":\"");
        if (rc == 0)
            rc = ad_azure_add_time(out, a[i].t);
        if (rc == 0)
            rc = ad_buf_adds(out, "\",\"value\":");
        if (rc == 0)
            rc = ad_buf_add_double(out, a[i].v);
        if (rc == 0)
            rc = ad_buf_addc(out, '}');
    }
    ad_free(a);
    if (rc == 0)
        rc = ad_buf_adds(out, "],\"granularity\":");
    if (rc == 0)
        rc = ad_buf_add_json_str(out, c->granularity, strlen(c->granularity));
    if (rc == 0 && ci > 1)
        rc = ad_buf_printf(out, ",\"customInterval\":%lld", (long long)ci);
    if (rc == 0)
        rc = ad_buf_adds(out, ",\"maxAnomalyRatio\":");
    if (rc == 0)
        rc = ad_buf_add_double(out, c->max_anomaly_ratio);
    if (rc == 0)
        rc = ad_buf_printf(out, ",\"sensitivity\":%d", c->sensitivity);
    if (rc == 0 && c->period >= 0)
        rc = ad_buf_printf(out, ",\"period\":%d", c->period);
    if (rc == 0)
        rc = ad_buf_addc(out, '}');
    if (rc)
        return ad_buf_rollback(out, start, rc);
    *sent = end - first;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Responses                                                                 */

/* Parses body into an object; on failure writes the reason and returns the
 * code. The caller owns *root. */
static int load_object(const char *body, size_t len, json_t **root, char *err, size_t errlen)
{
    json_error_t jerr;

    if (len > AD_AZURE_MAX_BODY) {
        set_err(err, errlen, "body too large (%zu bytes, max %d)", len, AD_AZURE_MAX_BODY);
        return AD_ELIMIT;
    }
    if (!body || len == 0) {
        set_err(err, errlen, "empty body");
        return AD_EPARSE;
    }
    *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root) {
        set_err(err, errlen, "malformed JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                jerr.column);
        return AD_EPARSE;
    }
    if (!json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        set_err(err, errlen, "not a JSON object");
        return AD_EPARSE;
    }
    return 0;
}

static int get_bool(const json_t *o, const char *name, bool *v, char *err, size_t errlen)
{
    const json_t *j = json_object_get(o, name);
    if (!j) {
        set_err(err, errlen, "missing %s", name);
        return AD_EPARSE;
    }
    if (!json_is_boolean(j)) {
        set_err(err, errlen, "%s is not a boolean", name);
        return AD_EPARSE;
    }
    *v = json_is_true(j);
    return 0;
}

static int get_num(const json_t *o, const char *name, double *v, char *err, size_t errlen)
{
    const json_t *j = json_object_get(o, name);
    if (!j) {
        set_err(err, errlen, "missing %s", name);
        return AD_EPARSE;
    }
    if (!json_is_number(j) || !isfinite(json_number_value(j))) {
        set_err(err, errlen, "%s is not a number", name);
        return AD_EPARSE;
    }
    *v = json_number_value(j);
    return 0;
}

/* An optional integer >= 0 (an integral real such as 12.0 is accepted);
 * absent or null leaves *v at -1. */
static int get_opt_count(const json_t *o, const char *name, int *v, char *err, size_t errlen)
{
    const json_t *j = json_object_get(o, name);
    double d;

    *v = -1;
    if (!j || json_is_null(j))
        return 0;
    d = json_is_number(j) ? json_number_value(j) : -1;
    if (!(d >= 0 && d <= 2147483647.0 && d == floor(d))) {
        set_err(err, errlen, "%s is not an integer >= 0", name);
        return AD_EPARSE;
    }
    *v = (int)d;
    return 0;
}

int ad_azure_parse_last(const char *body, size_t len, struct ad_azure_verdict *out, char *err,
                        size_t errlen)
{
    struct ad_azure_verdict v;
    json_t *root = NULL, *sev;
    int rc;

    memset(&v, 0, sizeof(v));
    rc = load_object(body, len, &root, err, errlen);
    if (rc)
        return rc;
    if ((rc = get_bool(root, "isAnomaly", &v.is_anomaly, err, errlen)) != 0 ||
        (rc = get_bool(root, "isPositiveAnomaly", &v.is_positive_anomaly, err, errlen)) != 0 ||
        (rc = get_bool(root, "isNegativeAnomaly", &v.is_negative_anomaly, err, errlen)) != 0 ||
        (rc = get_num(root, "expectedValue", &v.expected_value, err, errlen)) != 0 ||
        (rc = get_num(root, "upperMargin", &v.upper_margin, err, errlen)) != 0 ||
        (rc = get_num(root, "lowerMargin", &v.lower_margin, err, errlen)) != 0 ||
        (rc = get_opt_count(root, "period", &v.period, err, errlen)) != 0 ||
        (rc = get_opt_count(root, "suggestedWindow", &v.suggested_window, err, errlen)) != 0)
        goto done;
    sev = json_object_get(root, "severity");
    if (sev && !json_is_null(sev)) {
        if ((rc = get_num(root, "severity", &v.severity, err, errlen)) != 0)
            goto done;
        v.has_severity = true;
    }
    *out = v;
done:
    json_decref(root);
    return rc;
}

/* Checks that o[name] is an array of n entries of one type (booleans when
 * want_bool, else numbers) and returns its last entry. Absent is an error
 * unless optional (then *last = NULL). */
static int get_series(const json_t *o, const char *name, size_t n, bool want_bool, bool optional,
                      const json_t **last, char *err, size_t errlen)
{
    const json_t *arr = json_object_get(o, name);

    *last = NULL;
    if (!arr || (optional && json_is_null(arr))) {
        if (optional)
            return 0;
        set_err(err, errlen, "missing %s", name);
        return AD_EPARSE;
    }
    if (!json_is_array(arr)) {
        set_err(err, errlen, "%s is not an array", name);
        return AD_EPARSE;
    }
    if (json_array_size(arr) != n) {
        set_err(err, errlen, "%s has %zu entries, expected %zu", name, json_array_size(arr), n);
        return AD_EPARSE;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        if (want_bool ? !json_is_boolean(e) : !json_is_number(e)) {
            set_err(err, errlen, "%s[%zu] is not a %s", name, i, want_bool ? "boolean" : "number");
            return AD_EPARSE;
        }
    }
    *last = json_array_get(arr, n - 1);
    return 0;
}

int ad_azure_parse_entire_last(const char *body, size_t len, size_t npoints,
                               struct ad_azure_verdict *out, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        bool is_bool;
        bool optional;
    } fields[] = {
        {"expectedValues", false, false},   {"upperMargins", false, false},
        {"lowerMargins", false, false},     {"isAnomaly", true, false},
        {"isPositiveAnomaly", true, false}, {"isNegativeAnomaly", true, false},
        {"severity", false, true},
    };
    const json_t *last[7];
    struct ad_azure_verdict v;
    json_t *root = NULL;
    int rc;

    if (npoints == 0 || npoints > AD_AZURE_MAX_POINTS) {
        set_err(err, errlen, "npoints must be 1..%d", AD_AZURE_MAX_POINTS);
        return AD_EINVAL;
    }
    rc = load_object(body, len, &root, err, errlen);
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        rc = get_series(root, fields[i].name, npoints, fields[i].is_bool, fields[i].optional,
                        &last[i], err, errlen);
        if (rc)
            goto done;
    }
    memset(&v, 0, sizeof(v));
    if ((rc = get_opt_count(root, "period", &v.period, err, errlen)) != 0)
        goto done;
    if (v.period < 0) {
        set_err(err, errlen, "missing period");
        rc = AD_EPARSE;
        goto done;
    }
    v.expected_value = json_number_value(last[0]);
    v.upper_margin = json_number_value(last[1]);
    v.lower_margin = json_number_value(last[2]);
    v.is_anomaly = json_is_true(last[3]);
    v.is_positive_anomaly = json_is_true(last[4]);
    v.is_negative_anomaly = json_is_true(last[5]);
    v.has_severity = last[6] != NULL;
    v.severity = last[6] ? json_number_value(last[6]) : 0;
    v.suggested_window = -1;
    *out = v;
done:
    json_decref(root);
    return rc;
}

/* Copies at most dstsize - 1 bytes of src into dst, NUL-terminated, with
 * control characters (and, when ascii, every byte >= 0x80) replaced by '?';
 * a cut never splits a UTF-8 sequence. */
static void copy_clean(char *dst, size_t dstsize, const char *src, size_t len, bool ascii)
{
    size_t k = len < dstsize - 1 ? len : dstsize - 1;

    if (k < len)
        while (k > 0 && ((unsigned char)src[k] & 0xC0) == 0x80)
            k--;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c < 0x20 || c == 0x7f || (ascii && c >= 0x80) ? '?' : (char)c;
    }
    dst[k] = '\0';
}

/* Copies a string or integer member into dst; returns whether there was one. */
static bool take_str(const json_t *o, const char *name, char *dst, size_t dstsize)
{
    const json_t *j = json_object_get(o, name);
    char num[32];

    if (json_is_string(j)) {
        copy_clean(dst, dstsize, json_string_value(j), json_string_length(j), false);
        return true;
    }
    if (json_is_integer(j)) {
        int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        copy_clean(dst, dstsize, num, (size_t)n, true);
        return true;
    }
    return false;
}

int ad_azure_parse_error(const char *body, size_t len, const char *x_ms_error_code,
                         struct ad_azure_error *out)
{
    json_t *root = NULL;
    const json_t *env;
    bool found = false;

    memset(out, 0, sizeof(*out));
    if (body && len > 0 && len <= AD_AZURE_MAX_BODY)
        root = json_loadb(body, len, 0, NULL);
    if (json_is_object(root)) {
        env = json_object_get(root, "error");
        if (!json_is_object(env))
            env = root;
        found = take_str(env, "code", out->code, sizeof(out->code));
        found |= take_str(env, "message", out->message, sizeof(out->message));
    }
    json_decref(root);
    if (x_ms_error_code) {
        const char *h = x_ms_error_code;
        size_t n;
        while (*h == ' ' || *h == '\t')
            h++;
        n = strnlen(h, 1024);
        while (n > 0 &&
               (h[n - 1] == ' ' || h[n - 1] == '\t' || h[n - 1] == '\r' || h[n - 1] == '\n'))
            n--;
        if (n > 0)
            copy_clean(out->code, sizeof(out->code), h, n, true);
    }
    return found ? 0 : AD_EPARSE;
}
