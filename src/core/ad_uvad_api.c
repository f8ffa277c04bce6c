/* ad_uvad_api.c - the univariate REST API's wire format (ad_uvad_api.h):
 * the body read by the fast scan (ad_uvad_scan.c) or, for any body it leaves
 * alone, by jansson; the same checks on either; ad_buf out, the service's
 * error codes in between. */
#include "ad_uvad_api.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_time.h"
#include "ad_uvad_int.h"

#define US_PER_S INT64_C(1000000)

static const char *const gran_names[] = {"none",   "yearly",   "monthly",  "weekly",     "daily",
                                         "hourly", "minutely", "secondly", "microsecond"};

int ad_uv_api_route(const char *path, size_t len, int *version, enum ad_uv_endpoint *ep)
{
    static const char prefix[] = "/anomalydetector/v1.";
    const char *q = memchr(path, '?', len);
    if (q)
        len = (size_t)(q - path);
    size_t pl = sizeof(prefix) - 1;
    if (len < pl + 1 || memcmp(path, prefix, pl) != 0)
        return AD_ENOENT;
    if (path[pl] != '0' && path[pl] != '1')
        return AD_ENOENT;
    int v = path[pl] - '0';
    const char *rest = path + pl + 1;
    size_t rl = len - pl - 1;
    static const struct {
        const char *s;
        enum ad_uv_endpoint ep;
    } eps[] = {{"/timeseries/entire/detect", AD_UV_EP_ENTIRE},
               {"/timeseries/last/detect", AD_UV_EP_LAST},
               {"/timeseries/changepoint/detect", AD_UV_EP_CHANGEPOINT}};
    for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
        size_t el = strlen(eps[i].s);
        bool slash = rl == el + 1 && rest[el] == '/';
        if ((rl == el || slash) && memcmp(rest, eps[i].s, el) == 0) {
            if (eps[i].ep == AD_UV_EP_CHANGEPOINT && v != 1)
                return AD_ENOENT;
            *version = v;
            *ep = eps[i].ep;
            return 0;
        }
    }
    return AD_ENOENT;
}

void ad_uv_parsed_free(struct ad_uv_parsed *p)
{
    if (!p)
        return;
    free(p->values);
    free(p->index);
    memset(p, 0, sizeof(*p));
}

/* The body the checks read: the fast scan, or jansson's tree. */
struct body {
    const struct ad_uv_scan *sc; /* or NULL: */
    const json_t *root;
    const json_t *series; /* root's series (jansson only) */
};

/* j (NULL: absent) as the checks see it. */
static void jv_of(const json_t *j, struct ad_uv_jv *v)
{
    memset(v, 0, sizeof(*v));
    switch (j ? json_typeof(j) : JSON_NULL) {
    case JSON_INTEGER:
        v->type = AD_JSCAN_INT;
        v->num = (double)json_integer_value(j);
        break;
    case JSON_REAL:
        v->type = AD_JSCAN_REAL;
        v->num = json_real_value(j);
        break;
    case JSON_STRING:
        v->type = AD_JSCAN_STRING;
        v->s = json_string_value(j);
        v->len = json_string_length(j);
        break;
    case JSON_ARRAY:
        v->type = AD_JSCAN_ARRAY;
        v->len = json_array_size(j);
        break;
    case JSON_OBJECT:
        v->type = AD_JSCAN_OBJECT;
        break;
    case JSON_TRUE:
        v->type = AD_JSCAN_TRUE;
        break;
    case JSON_FALSE:
        v->type = AD_JSCAN_FALSE;
        break;
    default:
        v->type = j ? AD_JSCAN_NULL : AD_JSCAN_MISSING;
        break;
    }
}

static bool is_number(const struct ad_uv_jv *v)
{
    return v->type == AD_JSCAN_INT || v->type == AD_JSCAN_REAL;
}

/* The string v equal to s. */
static bool str_is(const struct ad_uv_jv *v, const char *s)
{
    return v->type == AD_JSCAN_STRING && strlen(s) == v->len && memcmp(v->s, s, v->len) == 0;
}

/* A JSON integer, or a real with an integral value (JSON has one number
 * type; 5.0 is accepted as 5). */
static bool as_int(const struct ad_uv_jv *j, long long lo, long long hi, long long *out)
{
    if (!is_number(j) || (j->type == AD_JSCAN_REAL && j->num != floor(j->num)))
        return false;
    double d = j->num;
    if (!(d >= (double)lo && d <= (double)hi))
        return false;
    *out = (long long)d;
    return true;
}

/* Field k of the body when present and not null; else MISSING. */
static void field(const struct body *b, enum ad_uv_key k, struct ad_uv_jv *v)
{
    if (b->sc) {
        *v = b->sc->key[k];
        return;
    }
    jv_of(json_object_get(b->root, ad_uv_key_names[k]), v);
    if (v->type == AD_JSCAN_NULL)
        v->type = AD_JSCAN_MISSING;
}

/* Point i of the series: its value and timestamp. Returns false when the
 * point is not an object. */
static bool point_at(const struct body *b, size_t i, struct ad_uv_jv *val, struct ad_uv_jv *ts)
{
    if (b->sc) {
        *ts = b->sc->pt[2 * i];
        *val = b->sc->pt[2 * i + 1];
        return true;
    }
    const json_t *pt = json_array_get(b->series, i);
    if (!json_is_object(pt))
        return false;
    jv_of(json_object_get(pt, "value"), val);
    jv_of(json_object_get(pt, "timestamp"), ts);
    return true;
}

/* v1.0 (and change points, parsed as 0) require a granularity; v1.1 defaults
 * to none. */
static int parse_granularity(const struct body *b, int version, enum ad_uv_gran *g,
                             struct ad_uv_error *err)
{
    struct ad_uv_jv j;
    field(b, AD_UV_K_GRANULARITY, &j);
    *g = AD_UV_GRAN_NONE;
    if (j.type == AD_JSCAN_MISSING) {
        if (version == 0)
            return ad_uv_fail(err, "RequiredGranularity", "The granularity field is required.");
        return 0;
    }
    for (size_t i = 0; i < sizeof(gran_names) / sizeof(gran_names[0]); i++)
        if (str_is(&j, gran_names[i])) {
            *g = (enum ad_uv_gran)i;
            return 0;
        }
    return ad_uv_fail(err, "InvalidGranularity",
                      "granularity must be one of yearly, monthly, weekly, daily, hourly, "
                      "minutely, "
                      "secondly, microsecond, none.");
}

static int parse_impute(const struct body *b, struct ad_uv_request *r, struct ad_uv_error *err)
{
    static const char *const modes[] = {"auto", "previous", "linear", "fixed", "zero", "notFill"};
    struct ad_uv_jv j;
    field(b, AD_UV_K_IMPUTE_MODE, &j);
    if (j.type == AD_JSCAN_MISSING)
        return 0;
    size_t i = 0;
    for (; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (str_is(&j, modes[i]))
            break;
    if (i == sizeof(modes) / sizeof(modes[0]))
        return ad_uv_fail(err, "InvalidImputeMode",
                          "imputeMode must be one of auto, previous, linear, fixed, zero, "
                          "notFill.");
    r->impute = (enum ad_uv_impute)i;
    if (r->impute == AD_UV_IMPUTE_FIXED) {
        struct ad_uv_jv v;
        field(b, AD_UV_K_IMPUTE_VALUE, &v);
        if (!is_number(&v) || !isfinite(v.num))
            return ad_uv_fail(err, "InvalidImputeFixedValue",
                              "imputeFixedValue must be a number when imputeMode is fixed.");
        r->impute_value = v.num;
    }
    return 0;
}

/* The optional scalar parameters, in the service's checking order. */
static int parse_params(const struct body *b, int version, struct ad_uv_request *r,
                        struct ad_uv_error *err)
{
    long long v;
    struct ad_uv_jv j;
    int rc = parse_granularity(b, version, &r->granularity, err);
    if (rc != 0)
        return rc;
    field(b, AD_UV_K_CUSTOM_INTERVAL, &j);
    if (j.type != AD_JSCAN_MISSING) {
        if (!as_int(&j, 1, INT32_MAX, &v))
            return ad_uv_fail(err, "InvalidCustomInterval",
                              "customInterval must be a positive integer.");
        r->custom_interval = (int)v;
    }
    field(b, AD_UV_K_PERIOD, &j);
    if (j.type != AD_JSCAN_MISSING) {
        if (!as_int(&j, 0, AD_UV_MAX_POINTS, &v))
            return ad_uv_fail(err, "InvalidPeriod", "period must be a non-negative integer.");
        r->period = (int)v;
    }
    field(b, AD_UV_K_RATIO, &j);
    if (j.type != AD_JSCAN_MISSING) {
        double d = is_number(&j) ? j.num : NAN;
        if (!(d > 0.0 && d <= 0.49))
            return ad_uv_fail(err, "InvalidModelArgument", "maxAnomalyRatio must be in (0, 0.49].");
        r->max_anomaly_ratio = d;
    }
    field(b, AD_UV_K_SENSITIVITY, &j);
    if (j.type != AD_JSCAN_MISSING) {
        if (!as_int(&j, 0, 99, &v))
            return ad_uv_fail(err, "InvalidModelArgument",
                              "sensitivity must be an integer in [0, 99].");
        r->sensitivity = (int)v;
    }
    if (version >= 1)
        return parse_impute(b, r, err);
    return 0;
}

/* Grid positions from timestamps: whole multiples of the step from the
 * first point (calendar months for monthly and yearly). */
static int grid_index(enum ad_uv_gran g, int ci, const int64_t *t, size_t n, int64_t *idx,
                      struct ad_uv_error *err)
{
    static const int64_t step_s[] = {0, 0, 0, 7 * 86400, 86400, 3600, 60, 1, 0};
    const int64_t t0 = t[0], day_us = 86400 * US_PER_S;
    int64_t day0 = t0 / day_us, tod0 = t0 % day_us, y0, y;
    unsigned m0, d0, m, d;
    ad_civil_from_days(day0, &y0, &m0, &d0);
    for (size_t i = 0; i < n; i++) {
        int64_t delta = t[i] - t0, k;
        if (g == AD_UV_GRAN_MONTHLY || g == AD_UV_GRAN_YEARLY) {
            ad_civil_from_days(t[i] / day_us, &y, &m, &d);
            int64_t months = (y - y0) * 12 + ((int64_t)m - (int64_t)m0);
            bool ok = d == d0 && t[i] % day_us == tod0;
            if (g == AD_UV_GRAN_YEARLY) {
                ok = ok && m == m0;
                months /= 12;
            }
            if (!ok || months % ci != 0)
                goto off_grid;
            k = months / ci;
        } else {
            /* a step beyond the representable range leaves only the first point */
            int64_t unit = g == AD_UV_GRAN_MICROSECOND ? 1 : step_s[g] * US_PER_S;
            if (ci > INT64_MAX / unit ? delta != 0 : delta % (unit * ci) != 0)
                goto off_grid;
            int64_t step = ci > INT64_MAX / unit ? INT64_MAX : unit * ci;
            k = delta / step;
        }
        idx[i] = k;
        continue;
    off_grid:
        return ad_uv_fail(err, "InvalidSeries",
                          "The timestamp of point %zu is not on the grid of granularity %s with "
                          "customInterval %d starting at the first point.",
                          i, gran_names[g], ci);
    }
    return 0;
}

/* The series: values, and grid positions from the timestamps unless the
 * granularity is none. */
static int parse_series(const struct body *b, const struct ad_uv_jv *series, struct ad_uv_parsed *p,
                        enum ad_uv_gran g, int ci, struct ad_uv_error *err)
{
    if (series->type != AD_JSCAN_ARRAY)
        return ad_uv_fail(err, "BadArgument", "series must be an array of points.");
    size_t n = series->len;
    if (n < AD_UV_MIN_POINTS)
        return ad_uv_fail(err, "InvalidSeries", "The series needs at least %d points.",
                          AD_UV_MIN_POINTS);
    if (n > AD_UV_MAX_POINTS)
        return ad_uv_fail(err, "InvalidSeries", "The series has more than %d points.",
                          AD_UV_MAX_POINTS);
    p->values = malloc(n * sizeof(double));
    p->index = malloc(n * sizeof(int64_t));
    if (!p->values || !p->index)
        return AD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct ad_uv_jv v, ts;
        if (!point_at(b, i, &v, &ts) || !is_number(&v))
            return ad_uv_fail(err, "BadArgument",
                              "Point %zu of the series is not an object with a numeric value.", i);
        p->values[i] = v.num;
        if (!isfinite(p->values[i]) || fabs(p->values[i]) > AD_UV_MAX_VALUE)
            return ad_uv_fail(err, "InvalidSeries",
                              "The value of point %zu is outside [-1e100, 1e100].", i);
        if (g == AD_UV_GRAN_NONE) {
            p->index[i] = (int64_t)i;
            continue;
        }
        if (ts.type != AD_JSCAN_STRING || ad_time_parse_rfc3339(ts.s, ts.len, &p->index[i]) != 0)
            return ad_uv_fail(err, "BadArgument", "Point %zu has no valid ISO 8601 timestamp.", i);
        if (i > 0 && p->index[i] < p->index[i - 1])
            return ad_uv_fail(err, "InvalidSeries",
                              "The timestamps of the series must be ascending.");
        if (i > 0 && p->index[i] == p->index[i - 1])
            return ad_uv_fail(err, "InvalidSeries",
                              "The series has a duplicate timestamp at point %zu.", i);
    }
    if (g != AD_UV_GRAN_NONE)
        return grid_index(g, ci, p->index, n, p->index, err);
    return 0;
}

static int parse_cp_params(const struct body *b, struct ad_uv_cp_request *c,
                           struct ad_uv_error *err)
{
    long long v;
    struct ad_uv_jv j;
    field(b, AD_UV_K_STABLE_WINDOW, &j);
    c->stable_trend_window = 10;
    c->threshold = 0.99;
    if (j.type != AD_JSCAN_MISSING) {
        if (!as_int(&j, 5, AD_UV_MAX_POINTS, &v))
            return ad_uv_fail(err, "InvalidModelArgument",
                              "stableTrendWindow must be an integer of at least 5.");
        c->stable_trend_window = (int)v;
    }
    field(b, AD_UV_K_THRESHOLD, &j);
    if (j.type != AD_JSCAN_MISSING) {
        double d = is_number(&j) ? j.num : NAN;
        if (!(d > 0.0 && d <= 1.0))
            return ad_uv_fail(err, "InvalidModelArgument", "threshold must be in (0, 1].");
        c->threshold = d;
    }
    return 0;
}

static int parse_root(const struct body *b, struct ad_uv_parsed *out, struct ad_uv_error *err)
{
    struct ad_uv_request *r = &out->req;
    ad_uv_request_init(r);
    r->mode = out->ep == AD_UV_EP_LAST ? AD_UV_LAST : AD_UV_ENTIRE;
    struct ad_uv_jv series;
    field(b, AD_UV_K_SERIES, &series);
    if (series.type == AD_JSCAN_MISSING)
        return ad_uv_fail(err, "RequiredSeries", "The series field is required.");
    int rc;
    if (out->ep == AD_UV_EP_CHANGEPOINT) {
        if ((rc = parse_params(b, 0, r, err)) != 0)
            return rc;
        if ((rc = parse_cp_params(b, &out->cp, err)) != 0)
            return rc;
    } else if ((rc = parse_params(b, out->version, r, err)) != 0) {
        return rc;
    }
    if ((rc = parse_series(b, &series, out, r->granularity, r->custom_interval, err)) != 0)
        return rc;
    r->values = out->values;
    r->index = out->index;
    r->n = series.len;
    struct ad_uv_cp_request *c = &out->cp;
    c->values = r->values;
    c->index = r->index;
    c->n = r->n;
    c->granularity = r->granularity;
    c->custom_interval = r->custom_interval;
    c->period = r->period;
    if (out->ep == AD_UV_EP_CHANGEPOINT && (size_t)c->stable_trend_window * 2 > c->n)
        return ad_uv_fail(err, "InvalidModelArgument",
                          "stableTrendWindow must be at most half the number of points.");
    return 0;
}

/* A request for ep of API version `version`: the body through the fast scan
 * (when `fast` and it takes it) or jansson. */
static int parse_body(const char *body, size_t len, int version, enum ad_uv_endpoint ep, bool fast,
                      struct ad_uv_parsed *out, struct ad_uv_error *err)
{
    memset(out, 0, sizeof(*out));
    out->ep = ep;
    out->version = version;
    if (len > AD_UV_API_MAX_BODY)
        return ad_uv_fail(err, "InvalidJsonFormat", "The request body is too large.");
    struct ad_uv_scan sc;
    int rc = fast ? ad_uv_scan_body(body, len, &sc) : AD_EAGAIN;
    if (rc == 0) {
        struct body b = {&sc, NULL, NULL};
        rc = parse_root(&b, out, err);
        ad_uv_scan_free(&sc);
    } else if (rc == AD_EAGAIN) {
        json_error_t jerr;
        json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root || !json_is_object(root) || json_object_size(root) == 0) {
            json_decref(root);
            return ad_uv_fail(err, "InvalidJsonFormat", "The request body is not a JSON object.");
        }
        struct body b = {NULL, root, json_object_get(root, "series")};
        rc = parse_root(&b, out, err);
        json_decref(root);
    }
    if (rc != 0)
        ad_uv_parsed_free(out);
    return rc;
}

int ad_uv_parse_request(const char *body, size_t len, int version, enum ad_uv_endpoint ep,
                        struct ad_uv_parsed *out, struct ad_uv_error *err)
{
    return parse_body(body, len, version, ep, true, out, err);
}

int ad_uv_parse_request_reference(const char *body, size_t len, int version, enum ad_uv_endpoint ep,
                                  struct ad_uv_parsed *out, struct ad_uv_error *err)
{
    return parse_body(body, len, version, ep, false, out, err);
}

/* ---- writing ------------------------------------------------------------- */

static int add_num(struct ad_buf *b, double v)
{
    return ad_buf_add_double(b, isfinite(v) ? v : 0.0);
}

static int add_key(struct ad_buf *b, bool first, const char *k)
{
    int rc = first ? 0 : ad_buf_addc(b, ',');
    if (rc == 0)
        rc = ad_buf_add_json_str(b, k, strlen(k));
    return rc ? rc : ad_buf_addc(b, ':');
}

static int add_nums(struct ad_buf *b, const char *k, const double *v, size_t n)
{
    int rc = add_key(b, false, k);
    rc = rc ? rc : ad_buf_addc(b, '[');
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i)
            rc = ad_buf_addc(b, ',');
        rc = rc ? rc : add_num(b, v[i]);
    }
    return rc ? rc : ad_buf_addc(b, ']');
}

static int add_bools(struct ad_buf *b, const char *k, const unsigned char *v, size_t n)
{
    int rc = add_key(b, false, k);
    rc = rc ? rc : ad_buf_addc(b, '[');
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = ad_buf_adds(b, i ? (v[i] ? ",true" : ",false") : (v[i] ? "true" : "false"));
    return rc ? rc : ad_buf_addc(b, ']');
}

static int write_last(const struct ad_uv_result *r, int version, struct ad_buf *b)
{
    size_t i = r->n - 1;
    int rc = ad_buf_printf(b,
                           "{\"isAnomaly\":%s,\"isPositiveAnomaly\":%s,\"isNegativeAnomaly\":%s,"
                           "\"period\":%d,\"suggestedWindow\":%d,\"expectedValue\":",
                           r->is_anomaly[i] ? "true" : "false",
                           r->is_positive[i] ? "true" : "false",
                           r->is_negative[i] ? "true" : "false", r->period, r->suggested_window);
    rc = rc ? rc : add_num(b, r->expected[i]);
    rc = rc ? rc : ad_buf_adds(b, ",\"upperMargin\":");
    rc = rc ? rc : add_num(b, r->upper[i]);
    rc = rc ? rc : ad_buf_adds(b, ",\"lowerMargin\":");
    rc = rc ? rc : add_num(b, r->lower[i]);
    if (version >= 1) {
        rc = rc ? rc : ad_buf_adds(b, ",\"severity\":");
        rc = rc ? rc : add_num(b, r->severity[i]);
    }
    return rc ? rc : ad_buf_addc(b, '}');
}

int ad_uv_write_result(const struct ad_uv_result *r, int version, bool last, struct ad_buf *out)
{
    size_t mark = out->len;
    int rc;
    if (last) {
        rc = write_last(r, version, out);
    } else {
        rc = ad_buf_printf(out, "{\"period\":%d", r->period);
        rc = rc ? rc : add_nums(out, "expectedValues", r->expected, r->n);
        rc = rc ? rc : add_nums(out, "upperMargins", r->upper, r->n);
        rc = rc ? rc : add_nums(out, "lowerMargins", r->lower, r->n);
        rc = rc ? rc : add_bools(out, "isAnomaly", r->is_anomaly, r->n);
        rc = rc ? rc : add_bools(out, "isPositiveAnomaly", r->is_positive, r->n);
        rc = rc ? rc : add_bools(out, "isNegativeAnomaly", r->is_negative, r->n);
        if (version >= 1)
            rc = rc ? rc : add_nums(out, "severity", r->severity, r->n);
        rc = rc ? rc : ad_buf_addc(out, '}');
    }
    return rc ? ad_buf_rollback(out, mark, rc) : 0;
}

int ad_uv_write_cp(const struct ad_uv_cp_result *r, struct ad_buf *out)
{
    size_t mark = out->len;
    int rc = ad_buf_printf(out, "{\"period\":%d", r->period);
    rc = rc ? rc : add_bools(out, "isChangePoint", r->is_change, r->n);
    rc = rc ? rc : add_nums(out, "confidenceScores", r->confidence, r->n);
    rc = rc ? rc : ad_buf_addc(out, '}');
    return rc ? ad_buf_rollback(out, mark, rc) : 0;
}

int ad_uv_write_error(const char *code, const char *message, struct ad_buf *out)
{
    size_t mark = out->len;
    int rc = ad_buf_adds(out, "{\"code\":");
    rc = rc ? rc : ad_buf_add_json_str(out, code, strlen(code));
    rc = rc ? rc : ad_buf_adds(out, ",\"message\":");
    rc = rc ? rc : ad_buf_add_json_str(out, message, strlen(message));
    rc = rc ? rc : ad_buf_addc(out, '}');
    return rc ? ad_buf_rollback(out, mark, rc) : 0;
}

/* The gateway's envelope, for errors that are not the service's own. */
static int gateway_error(int status, const char *message, struct ad_buf *out,
                         struct ad_uv_response *res)
{
    res->status = status;
    res->error_code[0] = '\0';
    return ad_buf_printf(out, "{\"error\":{\"code\":\"%d\",\"message\":\"%s\"}}", status, message);
}

static int service_error(const struct ad_uv_error *e, int version, struct ad_buf *out,
                         struct ad_uv_response *res)
{
    res->status = 400;
    snprintf(res->error_code, sizeof(res->error_code), "%s", version >= 1 ? e->code : "");
    return ad_uv_write_error(e->code, e->message, out);
}

static int run(const struct ad_uv_parsed *p, struct ad_buf *out, struct ad_uv_response *res)
{
    struct ad_uv_error e = {"BadArgument", ""};
    int rc;
    if (p->ep == AD_UV_EP_CHANGEPOINT) {
        struct ad_uv_cp_result cr;
        rc = ad_uv_changepoint(&p->cp, &cr, &e);
        if (rc == 0) {
            rc = ad_uv_write_cp(&cr, out);
            ad_uv_cp_result_free(&cr);
        }
    } else {
        struct ad_uv_result r;
        rc = ad_uv_detect(&p->req, &r, &e);
        if (rc == 0) {
            rc = ad_uv_write_result(&r, p->version, p->ep == AD_UV_EP_LAST, out);
            ad_uv_result_free(&r);
        }
    }
    if (rc == AD_EINVAL)
        return service_error(&e, p->version, out, res);
    if (rc != 0)
        return rc == AD_ELIMIT ? gateway_error(413, "Response too large", out, res)
                               : gateway_error(500, "Internal error", out, res);
    res->status = 200;
    res->error_code[0] = '\0';
    return 0;
}

int ad_uv_api_handle(const struct ad_uv_http_request *req, struct ad_buf *out,
                     struct ad_uv_response *res)
{
    int version;
    enum ad_uv_endpoint ep;
    if (!req->path || ad_uv_api_route(req->path, req->path_len, &version, &ep) != 0)
        return gateway_error(404, "Resource not found", out, res);
    if (!req->method || strcmp(req->method, "POST") != 0)
        return gateway_error(405, "Method not allowed", out, res);
    if (req->body_len > AD_UV_API_MAX_BODY)
        return gateway_error(413, "Request entity too large", out, res);
    struct ad_uv_parsed p;
    struct ad_uv_error e = {"BadArgument", ""};
    int rc = ad_uv_parse_request(req->body, req->body_len, version, ep, &p, &e);
    if (rc == AD_EINVAL)
        return service_error(&e, version, out, res);
    if (rc != 0)
        return gateway_error(500, "Internal error", out, res);
    size_t n = ep == AD_UV_EP_CHANGEPOINT ? p.cp.n : p.req.n;
    if (req->max_points && n > req->max_points) {
        e.code = "InvalidSeries";
        snprintf(e.message, sizeof(e.message),
                 "The series has more than %zu points (this server's limit).", req->max_points);
        rc = service_error(&e, version, out, res);
        ad_uv_parsed_free(&p);
        return rc;
    }
    rc = run(&p, out, res);
    ad_uv_parsed_free(&p);
    return rc;
}
