/* ad_detect.c - the detector registry, the generic layer (the likelihood
 * post-stage, the portable encoding), the shared score map, the rules and
 * the missing-data policy. */
#include "ad_detect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ad_detect_int.h"
#include "ad_err.h"
#include "ad_types.h"

static const char *const kind_names[AD_KIND_COUNT_] = {"none",        "spike",           "dip",
                                                       "level_shift", "variance_change", "seasonal",
                                                       "flatline"};

const char *ad_kind_name(int kind)
{
    if (kind < 0 || kind >= AD_KIND_COUNT_)
        return "?";
    return kind_names[kind];
}

void ad_detect_defaults(struct ad_detect_params *p, int id)
{
    memset(p, 0, sizeof(*p));
    p->detector = id;
    p->welford.threshold = 4.0;
    p->welford.min_samples = 30;
    p->welford.direction = AD_DIR_BOTH;
    p->welford.learn_anomalies = false;
    p->robust.window = 64;
    p->robust.threshold = 6.0;
    p->seasonal.utc_offset_s = 0;
    p->seasonal.day_bins = 288;
    p->seasonal.weekly = true;
    p->seasonal.data_period = true;
    p->seasonal.threshold = 6.0;
    p->change.k = 1.0;
    p->change.h = 16.0;
    p->change.var_ratio = 2.5;
    p->change.flat_min = 12;
    p->autod.sensitivity = 50;
    p->autod.event_score = 0.75;
    p->uvad.window = 97; /* 4 x 24 + 1: the service's last/detect window for a daily period */
    p->uvad.sensitivity = 95;
    p->uvad.max_anomaly_ratio = 0.25;
    p->likelihood = false;
}

static const struct ad_detect_ops *const registry[] = {&ad_detect_welford_ops,
                                                       &ad_detect_robust_ops,
                                                       &ad_detect_seasonal_ops,
                                                       &ad_detect_change_ops,
                                                       &ad_detect_auto_ops,
                                                       &ad_detect_uvad_ops};
#define N_REGISTRY (sizeof(registry) / sizeof(registry[0]))

const struct ad_detect_ops *ad_detect_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_REGISTRY; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const struct ad_detect_ops *ad_detect_by_id(int id)
{
    for (size_t i = 0; i < N_REGISTRY; i++)
        if (registry[i]->id == id)
            return registry[i];
    return NULL;
}

/* ---- segments ------------------------------------------------------------ */

size_t ad_detect_seg_add(struct ad_detect_seg *s, size_t n, size_t max, size_t off, uint32_t count,
                         uint8_t width)
{
    if (n >= max || count == 0)
        return n;
    s[n].off = off;
    s[n].count = count;
    s[n].width = width;
    return n + 1;
}

void ad_detect_seg_shift(struct ad_detect_seg *s, size_t from, size_t n, size_t base)
{
    for (size_t i = from; i < n; i++)
        s[i].off += base;
}

bool ad_detect_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(v[i]) <= AD_DETECT_STATE_MAX))
            return false;
    return true;
}

float ad_detect_to_float(double v)
{
    if (v > 1e37)
        return 1e37f;
    if (v < -1e37)
        return -1e37f;
    return (float)v;
}

double ad_detect_tail_adjust(double *q99, double z)
{
    double az = fabs(z), q = *q99, adj = q > AD_Q99_GAUSS ? z * AD_Q99_GAUSS / q : z;

    if (az > 3 * q)
        az = 3 * q;
    *q99 += 0.05 * (az > q ? 0.99 : -0.01);
    if (*q99 < 0.5)
        *q99 = 0.5;
    return adj;
}

/* ---- the generic layer --------------------------------------------------- */

int ad_detect_check(const struct ad_detect_params *p, char *err, size_t errlen)
{
    const struct ad_detect_ops *ops = ad_detect_by_id(p->detector);

    if (!ops) {
        if (err && errlen)
            snprintf(err, errlen, "unknown detector id %d", p->detector);
        return AD_EINVAL;
    }
    return ops->check(p, err, errlen);
}

static size_t base_size(const struct ad_detect_ops *ops, const struct ad_detect_params *p)
{
    return AD_ALIGN8(ops->size(p));
}

size_t ad_detect_size(const struct ad_detect_params *p)
{
    const struct ad_detect_ops *ops = ad_detect_by_id(p->detector);

    if (!ops)
        return 0;
    return base_size(ops, p) + (p->likelihood ? sizeof(struct ad_likelihood) : 0);
}

void ad_detect_init(void *state, const struct ad_detect_params *p)
{
    const struct ad_detect_ops *ops = ad_detect_by_id(p->detector);

    memset(state, 0, ad_detect_size(p));
    ops->init(state, p);
    if (p->likelihood)
        ad_likelihood_init((struct ad_likelihood *)((char *)state + base_size(ops, p)));
}

size_t ad_detect_scratch_size(const struct ad_detect_params *p)
{
    const struct ad_detect_ops *ops = ad_detect_by_id(p->detector);

    return ops && ops->scratch ? ops->scratch(p) : 0;
}

void ad_detect_step(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                    struct ad_detect_result *out)
{
    ad_detect_step_scratch(state, p, t_us, x, NULL, out);
}

void ad_detect_step_scratch(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                            void *scratch, struct ad_detect_result *out)
{
    const struct ad_detect_ops *ops = ad_detect_by_id(p->detector);

    memset(out, 0, sizeof(*out));
    if (!isfinite(x) || (p->detector != AD_DET_WELFORD && fabs(x) > AD_DETECT_MAX_ABS))
        return;
    ops->step(state, p, t_us, x, scratch, out);
    if (p->likelihood) {
        struct ad_likelihood *lk = (struct ad_likelihood *)((char *)state + base_size(ops, p));
        double ls = ad_likelihood_update(lk, out->scored ? out->raw : 0);

        if (ls > out->score) {
            out->score = ls;
            /* The likelihood's own decision: a tail probability under 1e-5. */
            if (ls >= ad_detect_logp_score(5.0) && !out->is_anomaly) {
                out->is_anomaly = true;
                out->kind = x >= out->expected ? AD_KIND_SPIKE : AD_KIND_DIP;
            }
        }
    }
}

static size_t all_segs(const struct ad_detect_ops *ops, const struct ad_detect_params *p,
                       struct ad_detect_seg *s)
{
    size_t n = ops->segs(p, s, AD_DETECT_MAX_SEGS);

    if (p->likelihood) {
        size_t base = base_size(ops, p);
        n = ad_detect_seg_add(s, n, AD_DETECT_MAX_SEGS, base, 3 + AD_LIK_SHORT, 8);
    }
    return n;
}

#define HDR_BYTES 10

size_t ad_detect_encoded_size(const struct ad_detect_params *p)
{
    const struct ad_detect_ops *ops = ad_detect_by_id(p->detector);
    struct ad_detect_seg s[AD_DETECT_MAX_SEGS];
    size_t n, bytes = HDR_BYTES;

    if (!ops)
        return 0;
    n = all_segs(ops, p, s);
    for (size_t i = 0; i < n; i++)
        bytes += (size_t)s[i].count * s[i].width;
    return bytes;
}

static uint32_t total_words(const struct ad_detect_seg *s, size_t n)
{
    uint32_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += s[i].count;
    return w;
}

int ad_detect_save(const void *state, const struct ad_detect_params *p, uint8_t *buf, size_t cap,
                   size_t *written)
{
    const struct ad_detect_ops *ops = ad_detect_by_id(p->detector);
    struct ad_detect_seg s[AD_DETECT_MAX_SEGS];
    size_t n, pos = HDR_BYTES, need = ad_detect_encoded_size(p);
    uint32_t words;

    if (!ops)
        return AD_EINVAL;
    if (cap < need)
        return AD_ELIMIT;
    n = all_segs(ops, p, s);
    words = total_words(s, n);
    buf[0] = 'A';
    buf[1] = 'D';
    buf[2] = (uint8_t)ops->id;
    buf[3] = ops->version;
    buf[4] = p->likelihood ? 1 : 0;
    buf[5] = 0;
    for (int b = 0; b < 4; b++)
        buf[6 + b] = (uint8_t)(words >> (8 * b));
    for (size_t i = 0; i < n; i++) {
        const uint8_t *src = (const uint8_t *)state + s[i].off;
        for (uint32_t k = 0; k < s[i].count; k++) {
            uint64_t v = 0;
            if (s[i].width == 8) {
                memcpy(&v, src + (size_t)k * 8, 8);
            } else {
                uint32_t v32;
                memcpy(&v32, src + (size_t)k * 4, 4);
                v = v32;
            }
            for (int b = 0; b < s[i].width; b++)
                buf[pos++] = (uint8_t)(v >> (8 * b));
        }
    }
    *written = pos;
    return 0;
}

static int restore_words(void *state, const struct ad_detect_seg *s, size_t n, const uint8_t *buf)
{
    size_t pos = HDR_BYTES;

    for (size_t i = 0; i < n; i++) {
        uint8_t *dst = (uint8_t *)state + s[i].off;
        for (uint32_t k = 0; k < s[i].count; k++) {
            uint64_t v = 0;
            for (int b = 0; b < s[i].width; b++)
                v |= (uint64_t)buf[pos++] << (8 * b);
            if (s[i].width == 8) {
                memcpy(dst + (size_t)k * 8, &v, 8);
            } else {
                uint32_t v32 = (uint32_t)v;
                memcpy(dst + (size_t)k * 4, &v32, 4);
            }
        }
    }
    return 0;
}

int ad_detect_restore(void *state, const struct ad_detect_params *p, const uint8_t *buf, size_t len)
{
    const struct ad_detect_ops *ops = ad_detect_by_id(p->detector);
    struct ad_detect_seg s[AD_DETECT_MAX_SEGS];
    size_t n;
    uint32_t words = 0;

    if (!ops)
        return AD_EINVAL;
    n = all_segs(ops, p, s);
    if (len != ad_detect_encoded_size(p) || buf[0] != 'A' || buf[1] != 'D' ||
        buf[2] != (uint8_t)ops->id || buf[3] != ops->version || buf[4] != (p->likelihood ? 1 : 0) ||
        buf[5] != 0)
        goto err;
    for (int b = 0; b < 4; b++)
        words |= (uint32_t)buf[6 + b] << (8 * b);
    if (words != total_words(s, n))
        goto err;
    ad_detect_init(state, p); /* padding between the words reads back as 0 */
    restore_words(state, s, n, buf);
    if (!ops->valid(state, p))
        goto err;
    if (p->likelihood &&
        !ad_likelihood_valid((const struct ad_likelihood *)((char *)state + base_size(ops, p))))
        goto err;
    return 0;
err:
    ad_detect_init(state, p);
    return AD_EPARSE;
}

/* ---- the score map ------------------------------------------------------- */

double ad_detect_logp_score(double logp10)
{
    if (!(logp10 > 0))
        return 0;
    if (logp10 > 1e12)
        return 1;
    return logp10 / (logp10 + AD_DETECT_LOGP_HALF);
}

double ad_detect_tail_score(double z)
{
    double a = fabs(z), logp;

    if (!isfinite(a))
        return isnan(a) ? 0 : 1;
    if (a < 8) {
        logp = -log10(erfc(a / sqrt(2.0)));
    } else {
        /* erfc(x) ~ exp(-x^2) / (x sqrt(pi)) with x = a / sqrt(2). */
        double xx = a / sqrt(2.0);
        logp = (xx * xx + log(xx * AD_SQRT_PI)) / log(10.0);
    }
    return ad_detect_logp_score(logp);
}

/* ---- rules --------------------------------------------------------------- */

void ad_detect_rules_apply(const struct ad_detect_rules *r, int64_t *last_alert_us, int64_t t_us,
                           double x, struct ad_detect_result *res)
{
    double dev = x - res->expected;
    bool directed = res->kind != AD_KIND_VARIANCE_CHANGE && res->kind != AD_KIND_FLATLINE;

    if (!res->is_anomaly)
        return;
    if (directed) {
        if ((r->direction == AD_DIR_POSITIVE && dev < 0) ||
            (r->direction == AD_DIR_NEGATIVE && dev > 0) || fabs(dev) < r->min_abs_dev ||
            (r->min_rel_dev > 0 && fabs(dev) < r->min_rel_dev * fabs(res->expected))) {
            res->is_anomaly = false;
            return;
        }
    }
    if (r->cooldown_us > 0 && *last_alert_us != INT64_MIN && t_us >= *last_alert_us &&
        (uint64_t)t_us - (uint64_t)*last_alert_us < (uint64_t)r->cooldown_us) {
        res->is_anomaly = false;
        return;
    }
    *last_alert_us = t_us;
}

/* ---- missing data -------------------------------------------------------- */

int ad_fill_parse(const char *s)
{
    static const char *const names[] = {"skip", "previous", "linear", "zero"};

    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

bool ad_fill_value(int policy, double v0, double v1, uint64_t k, uint64_t gap, double *out)
{
    if (k == 0 || k > gap)
        return false;
    switch (policy) {
    case AD_FILL_PREVIOUS:
        *out = v0;
        return true;
    case AD_FILL_LINEAR:
        *out = v0 + (v1 - v0) * (double)k / (double)(gap + 1);
        return true;
    case AD_FILL_ZERO:
        *out = 0;
        return true;
    default:
        return false;
    }
}
