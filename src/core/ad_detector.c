/* ad_detector.c - the remote Anomaly Detector client's pure half (see
 * include/ad_detector.h and docs/remote.md).
 *
 * No I/O, no clock, no globals. Bodies are parsed with jansson, written with
 * ad_buf; every size from input is capped before it is used. */
#include "ad_detector.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_time.h"
#include "ad_types.h"

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

/* Restores out to len start and passes rc through: the one error exit of
 * every appending function. */
static int buf_undo(struct ad_buf *out, size_t start, int rc)
{
    out->len = start;
    if (out->p)
        out->p[start] = '\0';
    return rc;
}

static int add_bool(struct ad_buf *out, bool v)
{
    return v ? ad_buf_add(out, "true", 4) : ad_buf_add(out, "false", 5);
}

/* "YYYY-MM-DDTHH:MM:SSZ", with ".mmm" or ".uuuuuu" when the time has a
 * sub-second part. us must be within AD_TIME_MIN_US..AD_TIME_MAX_US. */
static int add_time(struct ad_buf *out, int64_t us)
{
    char tmp[48];
    int64_t secs = us / US_PER_S, frac = us % US_PER_S, y;
    int64_t days = secs / 86400, sod = secs % 86400;
    unsigned m, d;
    int n;

    if (us < AD_TIME_MIN_US || us > AD_TIME_MAX_US)
        return AD_EINVAL;
    ad_civil_from_days(days, &y, &m, &d);
    n = snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02d", (int)y, m, d,
                 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (frac % 1000 == 0 && frac)
        n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%03d", (int)(frac / 1000));
    else if (frac)
        n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, ".%06d", (int)frac);
    tmp[n++] = 'Z';
    return ad_buf_add(out, tmp, (size_t)n);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */

int ad_det_api_version(const char *name)
{
    if (name && strcmp(name, "v1.0") == 0)
        return 0;
    if (name && strcmp(name, "v1.1") == 0)
        return 1;
    return AD_EINVAL;
}

int ad_det_custom_interval(const char *granularity, int64_t interval_us, int64_t *out)
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

int ad_det_url(const char *endpoint, int api_version, bool entire, struct ad_buf *out)
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
    return rc ? buf_undo(out, start, rc) : 0;
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
static size_t clean_points(const struct ad_det_point *pts, size_t n, int64_t interval_us,
                           struct item *a, size_t *end)
{
    size_t m = 0, k = 0;

    for (size_t i = 0; i < n; i++) {
        double v = pts[i].v;
        if (!(fabs(v) <= AD_DET_MAX_VALUE) || pts[i].t_us < AD_TIME_MIN_US ||
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
    return k > AD_DET_MAX_POINTS ? k - AD_DET_MAX_POINTS : 0;
}

int ad_det_build_request(const struct ad_det_cfg *c, const struct ad_det_point *pts, size_t n,
                         struct ad_buf *out, size_t *sent)
{
    size_t start = out->len, first, end, need;
    int64_t ci;
    struct item *a;
    int rc;

    if (!c || (n && !pts) || ad_det_custom_interval(c->granularity, c->interval_us, &ci) != 0 ||
        c->sensitivity < 0 || c->sensitivity > 99 ||
        !(c->max_anomaly_ratio > 0 && c->max_anomaly_ratio <= 0.49) || c->period < -1 ||
        c->min_points > AD_DET_MAX_POINTS)
        return AD_EINVAL;
    if (n > AD_DET_MAX_INPUT)
        return AD_ELIMIT;
    need = c->min_points > AD_DET_MIN_POINTS ? (size_t)c->min_points : AD_DET_MIN_POINTS;

    a = malloc((n ? n : 1) * sizeof(*a));
    if (!a)
        return AD_ENOMEM;
    first = clean_points(pts, n, c->interval_us, a, &end);
    if (end - first < need) {
        *sent = end - first;
        free(a);
        return AD_ERANGE;
    }

    rc = ad_buf_adds(out, "{\"series\":[");
    for (size_t i = first; rc == 0 && i < end; i++) {
        rc = ad_buf_adds(out, i == first ? "{\"timestamp\":\"" : ",{\"timestamp\":\"");
        if (rc == 0)
            rc = add_time(out, a[i].t);
        if (rc == 0)
            rc = ad_buf_adds(out, "\",\"value\":");
        if (rc == 0)
            rc = ad_buf_add_double(out, a[i].v);
        if (rc == 0)
            rc = ad_buf_addc(out, '}');
    }
    free(a);
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
        return buf_undo(out, start, rc);
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

    if (len > AD_DET_MAX_BODY) {
        set_err(err, errlen, "body too large (%zu bytes, max %d)", len, AD_DET_MAX_BODY);
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

int ad_det_parse_last(const char *body, size_t len, struct ad_det_verdict *out, char *err,
                      size_t errlen)
{
    struct ad_det_verdict v;
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

int ad_det_parse_entire_last(const char *body, size_t len, size_t npoints,
                             struct ad_det_verdict *out, char *err, size_t errlen)
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
    struct ad_det_verdict v;
    json_t *root = NULL;
    int rc;

    if (npoints == 0 || npoints > AD_DET_MAX_POINTS) {
        set_err(err, errlen, "npoints must be 1..%d", AD_DET_MAX_POINTS);
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

int ad_det_parse_error(const char *body, size_t len, const char *x_ms_error_code,
                       struct ad_det_error *out)
{
    json_t *root = NULL;
    const json_t *env;
    bool found = false;

    memset(out, 0, sizeof(*out));
    if (body && len > 0 && len <= AD_DET_MAX_BODY)
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
        while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t' || h[n - 1] == '\r' ||
                         h[n - 1] == '\n'))
            n--;
        if (n > 0)
            copy_clean(out->code, sizeof(out->code), h, n, true);
    }
    return found ? 0 : AD_EPARSE;
}

/* ------------------------------------------------------------------------ */
/* Retries                                                                   */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Does s (at least len bytes) start with the lowercase ASCII word w? */
static bool starts_ci(const char *s, size_t len, const char *w)
{
    size_t n = strlen(w);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != w[i])
            return false;
    return true;
}

static int64_t secs_to_ms(int64_t s)
{
    if (s < 0)
        return 0;
    return s >= AD_DET_MAX_RETRY_AFTER / 1000 ? AD_DET_MAX_RETRY_AFTER : s * 1000;
}

/* Reads 1+ decimal digits at s[*i] (bounded by len), saturating far above the
 * cap; returns -1 when there is no digit. */
static int64_t read_digits(const char *s, size_t len, size_t *i)
{
    int64_t v = -1;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        v = (v < 0 ? 0 : v) * 10 + (s[*i] - '0');
        if (v > INT64_C(1000000000000))
            v = INT64_C(1000000000000);
        (*i)++;
    }
    return v;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" -> epoch seconds, or -1. */
static int64_t parse_imf_fixdate(const char *s, size_t len)
{
    static const char days[] = "mon tue wed thu fri sat sun ";
    static const char months[] = "jan feb mar apr may jun jul aug sep oct nov dec ";
    char name[5] = {0};
    const char *mp;
    size_t i;
    int64_t f[5];

    if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3))
        return -1;
    for (i = 0; i < 3; i++)
        name[i] = (char)lower((unsigned char)s[i]);
    name[3] = ' ';
    if (!strstr(days, name))
        return -1;
    for (i = 0; i < 3; i++)
        name[i] = (char)lower((unsigned char)s[8 + i]);
    mp = strstr(months, name);
    if (!mp)
        return -1;
    static const size_t at[5] = {5, 12, 17, 20, 23}, width[5] = {2, 4, 2, 2, 2};
    for (int k = 0; k < 5; k++) {
        i = at[k];
        f[k] = read_digits(s, at[k] + width[k], &i);
        if (i != at[k] + width[k])
            return -1;
    }
    /* f: day, year, hour, minute, second */
    if (f[0] < 1 || f[0] > 31 || f[2] > 23 || f[3] > 59 || f[4] > 60)
        return -1;
    return ad_days_from_civil(f[1], (unsigned)((mp - months) / 4 + 1), (unsigned)f[0]) * 86400 +
           f[2] * 3600 + f[3] * 60 + f[4];
}

static int64_t header_delay_ms(const char *h, int64_t now_epoch_s)
{
    size_t len, i = 0;
    int64_t v;

    while (*h == ' ' || *h == '\t')
        h++;
    len = strnlen(h, 256);
    while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t' || h[len - 1] == '\r' ||
                       h[len - 1] == '\n'))
        len--;
    v = read_digits(h, len, &i);
    if (v >= 0 && i == len)
        return secs_to_ms(v);
    v = parse_imf_fixdate(h, len);
    return v < 0 ? -1 : secs_to_ms(v - now_epoch_s);
}

int64_t ad_det_retry_after_ms(const char *retry_after, const char *body, size_t len,
                              int64_t now_epoch_s)
{
    static const char phrase[] = "try again in";

    if (retry_after) {
        int64_t ms = header_delay_ms(retry_after, now_epoch_s);
        if (ms >= 0)
            return ms;
    }
    if (!body)
        return -1;
    if (len > AD_DET_MAX_BODY)
        len = AD_DET_MAX_BODY;
    for (size_t i = 0; i + sizeof(phrase) - 1 < len; i++) {
        size_t j = i + sizeof(phrase) - 1;
        int64_t v;
        if (!starts_ci(body + i, len - i, phrase))
            continue;
        while (j < len && body[j] == ' ')
            j++;
        v = read_digits(body, len, &j);
        while (j < len && body[j] == ' ')
            j++;
        if (v >= 0 && starts_ci(body + j, len - j, "second"))
            return secs_to_ms(v);
    }
    return -1;
}

enum ad_det_class ad_det_classify(long http_status, bool transport_failed)
{
    if (transport_failed)
        return AD_DET_RETRY;
    if (http_status >= 200 && http_status <= 299)
        return AD_DET_OK;
    if (http_status == 408 || http_status == 429 || (http_status >= 500 && http_status <= 599))
        return AD_DET_RETRY;
    return AD_DET_FAIL;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

int64_t ad_det_backoff_ms(unsigned attempt, int64_t base_ms, int64_t max_ms,
                          uint64_t *rng_state)
{
    int64_t d = base_ms, half;

    if (base_ms <= 0 || max_ms <= 0)
        return 0;
    for (unsigned i = 0; i < attempt && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2;
    if (d > max_ms)
        d = max_ms;
    half = d / 2;
    /* The modulo's bias is below 2^-20 for any d under 2^43 ms. */
    return half + (int64_t)(splitmix64(rng_state) % (uint64_t)(d - half + 1));
}

/* ------------------------------------------------------------------------ */
/* Circuit breaker: every state change goes through breaker_set().           */

#define BREAKER_MAX_FACTOR 16

static void breaker_set(struct ad_breaker *b, int state, int64_t now_ms)
{
    b->state = state;
    b->probes_in_flight = 0;
    if (state == AD_BREAKER_OPEN)
        b->open_until_ms = now_ms > INT64_MAX - b->cooldown_ms ? INT64_MAX : now_ms + b->cooldown_ms;
    if (state == AD_BREAKER_CLOSED) {
        b->failures = 0;
        b->cooldown_ms = b->base_cooldown_ms;
    }
}

void ad_breaker_init(struct ad_breaker *b, unsigned threshold, int64_t cooldown_ms)
{
    memset(b, 0, sizeof(*b));
    b->threshold = threshold ? threshold : 1;
    b->base_cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 1;
    if (b->base_cooldown_ms > INT64_MAX / BREAKER_MAX_FACTOR)
        b->base_cooldown_ms = INT64_MAX / BREAKER_MAX_FACTOR;
    breaker_set(b, AD_BREAKER_CLOSED, 0);
}

bool ad_breaker_allow(struct ad_breaker *b, int64_t now_ms)
{
    switch (b->state) {
    case AD_BREAKER_CLOSED:
        return true;
    case AD_BREAKER_OPEN:
        if (now_ms < b->open_until_ms)
            return false;
        breaker_set(b, AD_BREAKER_HALF_OPEN, now_ms);
        b->probes_in_flight = 1;
        return true;
    default: /* half-open */
        if (b->probes_in_flight)
            return false;
        b->probes_in_flight = 1;
        return true;
    }
}

void ad_breaker_record(struct ad_breaker *b, bool success, int64_t now_ms)
{
    switch (b->state) {
    case AD_BREAKER_CLOSED:
        if (success) {
            b->failures = 0;
        } else if (++b->failures >= b->threshold) {
            breaker_set(b, AD_BREAKER_OPEN, now_ms);
        }
        break;
    case AD_BREAKER_HALF_OPEN:
        if (success) {
            breaker_set(b, AD_BREAKER_CLOSED, now_ms);
        } else {
            int64_t cap = b->base_cooldown_ms * BREAKER_MAX_FACTOR;
            b->cooldown_ms = b->cooldown_ms > cap / 2 ? cap : b->cooldown_ms * 2;
            breaker_set(b, AD_BREAKER_OPEN, now_ms);
        }
        break;
    default: /* open: a straggler from before it opened */
        break;
    }
}

const char *ad_breaker_state_name(int state)
{
    switch (state) {
    case AD_BREAKER_CLOSED:
        return "closed";
    case AD_BREAKER_OPEN:
        return "open";
    case AD_BREAKER_HALF_OPEN:
        return "half_open";
    default:
        return "unknown";
    }
}

/* ------------------------------------------------------------------------ */
/* Verdicts, the alert's remote member, webhook rows                         */

bool ad_det_should_ask(int mode, bool local_anomaly)
{
    if (mode == AD_REMOTE_CONFIRM)
        return local_anomaly;
    return mode == AD_REMOTE_ALWAYS;
}

bool ad_det_final(int mode, bool local_anomaly, const struct ad_det_verdict *v)
{
    if (mode == AD_REMOTE_OFF || !v)
        return local_anomaly;
    return v->is_anomaly;
}

/* Appends ,"name":<number>. */
static int add_num_member(struct ad_buf *out, const char *name, double v)
{
    int rc = ad_buf_printf(out, ",\"%s\":", name);
    return rc ? rc : ad_buf_add_double(out, v);
}

static int add_bool_member(struct ad_buf *out, const char *name, bool v)
{
    int rc = ad_buf_printf(out, ",\"%s\":", name);
    return rc ? rc : add_bool(out, v);
}

int ad_det_remote_json(struct ad_buf *out, const struct ad_det_verdict *v, const char *status,
                       const char *detail)
{
    size_t start = out->len;
    int rc;

    if (!status)
        return AD_EINVAL;
    rc = ad_buf_adds(out, "\"remote\":{\"status\":");
    if (rc == 0)
        rc = ad_buf_add_json_str(out, status, strlen(status));
    if (rc == 0 && v) {
        if ((rc = add_bool_member(out, "is_anomaly", v->is_anomaly)) == 0 &&
            (rc = add_num_member(out, "expected_value", v->expected_value)) == 0 &&
            (rc = add_num_member(out, "upper_margin", v->upper_margin)) == 0 &&
            (rc = add_num_member(out, "lower_margin", v->lower_margin)) == 0 &&
            (rc = add_bool_member(out, "is_positive_anomaly", v->is_positive_anomaly)) == 0)
            rc = add_bool_member(out, "is_negative_anomaly", v->is_negative_anomaly);
        if (rc == 0 && v->has_severity)
            rc = add_num_member(out, "severity", v->severity);
        if (rc == 0 && v->period >= 0)
            rc = ad_buf_printf(out, ",\"period\":%d", v->period);
    }
    if (rc == 0 && detail) {
        rc = ad_buf_adds(out, ",\"reason\":");
        if (rc == 0)
            rc = ad_buf_add_json_str(out, detail, strlen(detail));
    }
    if (rc == 0)
        rc = ad_buf_addc(out, '}');
    return rc ? buf_undo(out, start, rc) : 0;
}

int ad_det_webhook_row(struct ad_buf *out, int64_t t_us, double value,
                       const struct ad_det_verdict *v, bool local_anomaly, double local_expected,
                       double local_stddev, double threshold)
{
    struct ad_det_verdict lv;
    size_t start = out->len;
    int rc;

    if (!v) {
        memset(&lv, 0, sizeof(lv));
        lv.expected_value = local_expected;
        lv.upper_margin = lv.lower_margin = threshold * local_stddev;
        lv.is_anomaly = local_anomaly;
        lv.is_positive_anomaly = local_anomaly && value > local_expected;
        lv.is_negative_anomaly = local_anomaly && value < local_expected;
        v = &lv;
    }
    rc = ad_buf_adds(out, "{\"timestamp\":\"");
    if (rc == 0)
        rc = add_time(out, t_us);
    if (rc == 0)
        rc = ad_buf_addc(out, '"');
    if (rc == 0 && (rc = add_num_member(out, "value", value)) == 0 &&
        (rc = add_num_member(out, "expectedValue", v->expected_value)) == 0 &&
        (rc = add_num_member(out, "upperMargin", v->upper_margin)) == 0 &&
        (rc = add_num_member(out, "lowerMargin", v->lower_margin)) == 0 &&
        (rc = add_bool_member(out, "isAnomaly", v->is_anomaly)) == 0 &&
        (rc = add_bool_member(out, "isPositiveAnomaly", v->is_positive_anomaly)) == 0 &&
        (rc = add_bool_member(out, "isNegativeAnomaly", v->is_negative_anomaly)) == 0)
        rc = ad_buf_addc(out, '}');
    return rc ? buf_undo(out, start, rc) : 0;
}

int ad_det_batch_add(struct ad_buf *batch, const char *row, size_t len)
{
    size_t start = batch->len;
    int rc;

    if (start > 0 && batch->p[start - 1] != ']')
        return AD_EINVAL;
    if (start == 0)
        rc = ad_buf_addc(batch, '[');
    else {
        batch->len--; /* reopen the array */
        rc = ad_buf_addc(batch, ',');
    }
    if (rc == 0)
        rc = ad_buf_add(batch, row, len);
    if (rc == 0)
        rc = ad_buf_addc(batch, ']');
    if (rc && start > 0)
        batch->p[start - 1] = ']'; /* where the ',' went */
    return rc ? buf_undo(batch, start, rc) : 0;
}
