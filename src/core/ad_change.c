/* ad_change.c - the change finder and the "change" detector.
 *
 * Three findings, each raised once and then absorbed so that a lasting change
 * never becomes an alert storm:
 * - a level shift: a two-sided CUSUM of the baseline's residual in robust
 *   sigmas, each point clipped to +-4 so that a single spike cannot trip it;
 *   when a sum passes h, the mean residual of its run is the size of the
 *   shift, handed back so the caller moves its baseline by it;
 * - a variance change: a short exponentially weighted variance of the
 *   residual (in sigmas, around its own short mean) past var_ratio^2 (an
 *   increase), or a faster weighted mean of z^2 under 1/(1.2 var_ratio)^2
 *   (a decrease: the series became quieter than its band says), once LOW_WARM
 *   points have been seen since the last finding and not during a run of
 *   equal values (that is a flatline's to report);
 * - a flatline: a run of equal values at least flat_min long and more than
 *   twice the longest run seen before; the run is reported once, and while it
 *   lasts the caller's baseline does not learn, so the recovery is judged
 *   against the values before the sensor stuck. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ad_detect_int.h"
#include "ad_err.h"

#define Z_CLIP     4.0
#define VAR_ALPHA  0.05
#define LOW_ALPHA  0.15 /* faster: the baseline's band adapts to a quieter series */
#define LOW_WARM   128.0
#define LOW_FACTOR 1.2 /* a decrease must be this much larger than var_ratio */

void ad_change_init(struct ad_change *c)
{
    memset(c, 0, sizeof(*c));
    c->var_short = 1;
    c->var_low = 1;
}

static bool same_value(double a, double b)
{
    return fabs(a - b) <= 1e-12 * (fabs(a) > 1 ? fabs(a) : 1);
}

/* Returns AD_CHANGE_FLAT when a run becomes a finding. */
static int feed_flat(struct ad_change *c, const struct ad_detect_params *p, double x)
{
    double need;

    if (c->n > 0 && same_value(x, c->last)) {
        c->flat_run++;
    } else {
        if (c->flagged_flat == 0 && c->flat_run > c->flat_max)
            c->flat_max = c->flat_run;
        c->flat_run = 0;
        c->flagged_flat = 0;
    }
    c->last = x;
    need = 2 * c->flat_max + 2;
    if (need < p->change.flat_min)
        need = p->change.flat_min;
    if (c->flagged_flat == 0 && c->flat_run + 1 >= need) {
        c->flagged_flat = 1;
        return AD_CHANGE_FLAT;
    }
    return AD_CHANGE_NONE;
}

/* The median of the last k residuals (the size of a shift: robust to the
 * few points of the run that came before it). */
static double recent_median(const struct ad_change *c, size_t k)
{
    double v[AD_CHANGE_RECENT], t;

    for (size_t i = 0; i < k; i++)
        v[i] = c->recent[(c->n - i) % AD_CHANGE_RECENT];
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--)
            t = v[j], v[j] = v[j - 1], v[j - 1] = t;
    return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

static void cusum_side(double *s, double *r, double *cnt, double inc, double resid)
{
    *s += inc;
    if (*s <= 0) {
        *s = 0;
        *r = 0;
        *cnt = 0;
    } else {
        *r += resid;
        *cnt += 1;
    }
}

int ad_change_feed(struct ad_change *c, const struct ad_detect_params *p, double x, double resid,
                   double z, struct ad_change_out *o)
{
    double zc = z > Z_CLIP ? Z_CLIP : z < -Z_CLIP ? -Z_CLIP : z, zz, v;
    int ev = feed_flat(c, p, x);

    c->n++;
    o->event = ev;
    o->stat = 0;
    o->delta = 0;
    o->run = 0;
    if (ev != AD_CHANGE_NONE || c->flagged_flat)
        return ev;
    c->recent[c->n % AD_CHANGE_RECENT] = resid;
    cusum_side(&c->spos, &c->rpos, &c->cpos, zc - p->change.k, resid);
    cusum_side(&c->sneg, &c->rneg, &c->cneg, -zc - p->change.k, resid);
    o->stat = (c->spos > c->sneg ? c->spos : c->sneg) / p->change.h;
    if (c->spos > p->change.h || c->sneg > p->change.h) {
        bool up = c->spos > p->change.h;
        double run = up ? c->cpos : c->cneg;
        o->run = run > AD_CHANGE_RECENT ? AD_CHANGE_RECENT : run < 1 ? 1 : (uint64_t)run;
        o->delta = recent_median(c, (size_t)o->run);
        c->spos = c->sneg = c->rpos = c->rneg = c->cpos = c->cneg = 0;
        c->var_short = c->var_low = 1;
        c->mean_short = 0;
        c->since_event = 0;
        return o->event = AD_CHANGE_SHIFT;
    }
    zz = zc * zc;
    c->mean_short += VAR_ALPHA * (zc - c->mean_short);
    c->var_short += VAR_ALPHA * (zz - c->var_short);
    c->var_low += LOW_ALPHA * (zz - c->var_low);
    c->since_event++;
    v = c->var_short - c->mean_short * c->mean_short;
    if (v > p->change.var_ratio * p->change.var_ratio ||
        (c->since_event >= LOW_WARM && c->flat_run == 0 &&
         c->var_low * LOW_FACTOR * p->change.var_ratio * LOW_FACTOR * p->change.var_ratio < 1)) {
        o->delta = v > 1 ? sqrt(v) : sqrt(c->var_low);
        c->var_short = c->var_low = 1;
        c->mean_short = 0;
        c->since_event = 0;
        return o->event = AD_CHANGE_VARIANCE;
    }
    return AD_CHANGE_NONE;
}

bool ad_change_in_flat(const struct ad_change *c)
{
    return c->flagged_flat != 0;
}

size_t ad_change_segs(struct ad_detect_seg *seg, size_t n, size_t max)
{
    return ad_detect_seg_add(seg, n, max, 0, (uint32_t)(sizeof(struct ad_change) / 8), 8);
}

bool ad_change_valid(const struct ad_change *c)
{
    const double *d = &c->spos;
    size_t nd = (sizeof(*c) - sizeof(c->n)) / sizeof(double);

    return ad_detect_finite(d, nd) && c->spos >= 0 && c->sneg >= 0 && c->cpos >= 0 &&
           c->cneg >= 0 && c->var_short >= 0 && c->var_low >= 0 && c->since_event >= 0 &&
           c->flat_run >= 0 && c->flat_max >= 0 && (c->flagged_flat == 0 || c->flagged_flat == 1);
}

/* ---- the "change" detector: the robust window as its baseline ----------- */

struct change_state {
    struct ad_change c;
    struct ad_robust_win w; /* followed by its ring */
};

static int c_check(const struct ad_detect_params *p, char *err, size_t errlen)
{
    int rc = ad_detect_robust_ops.check(p, err, errlen);

    if (rc)
        return rc;
    if (!(p->change.k >= 0) || !(p->change.h > 0) || !(p->change.var_ratio > 1) ||
        !isfinite(p->change.h) || !isfinite(p->change.k) || !isfinite(p->change.var_ratio) ||
        p->change.flat_min < 2) {
        if (err && errlen)
            snprintf(err, errlen, "change: k >= 0, h > 0, var_ratio > 1, flat_min >= 2");
        return AD_EINVAL;
    }
    return 0;
}

static size_t c_size(const struct ad_detect_params *p)
{
    return offsetof(struct change_state, w) + ad_robust_win_size(p->robust.window);
}

static void c_init(void *state, const struct ad_detect_params *p)
{
    struct change_state *cs = state;
    (void)p;
    ad_change_init(&cs->c);
    ad_robust_win_init(&cs->w);
}

static void c_step(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                   void *scratch, struct ad_detect_result *out)
{
    struct change_state *cs = state;
    double med = 0, sig;
    struct ad_change_out o;
    bool ok = ad_robust_win_stats(&cs->w, p->robust.window, &med, &sig);
    int ev;
    (void)t_us;
    (void)scratch;

    if (ok) {
        double z = (x - med) / sig;
        ev = ad_change_feed(&cs->c, p, x, x - med, z, &o);
        out->scored = true;
        out->raw = o.stat;
        out->expected = med;
        out->lower = med - p->robust.threshold * sig;
        out->upper = med + p->robust.threshold * sig;
        out->score = ad_detect_logp_score(5 * o.stat);
        out->is_anomaly = ev != AD_CHANGE_NONE;
        if (ev == AD_CHANGE_SHIFT) {
            out->kind = AD_KIND_LEVEL_SHIFT;
            ad_robust_win_shift(&cs->w, o.delta, o.run);
        } else if (ev == AD_CHANGE_VARIANCE) {
            out->kind = AD_KIND_VARIANCE_CHANGE;
        } else if (ev == AD_CHANGE_FLAT) {
            out->kind = AD_KIND_FLATLINE;
        }
        if (out->is_anomaly && out->score < 0.8)
            out->score = 0.8;
    } else {
        ad_change_feed(&cs->c, p, x, 0, 0, &o);
    }
    if (!ad_change_in_flat(&cs->c))
        ad_robust_win_add(&cs->w, p->robust.window, x, ok ? &med : NULL);
}

static size_t c_segs(const struct ad_detect_params *p, struct ad_detect_seg *s, size_t max)
{
    size_t n = ad_change_segs(s, 0, max), k = n;

    n = ad_robust_win_segs(p->robust.window, s, n, max);
    ad_detect_seg_shift(s, k, n, offsetof(struct change_state, w));
    return n;
}

static bool c_valid(const void *state, const struct ad_detect_params *p)
{
    const struct change_state *cs = state;
    return ad_change_valid(&cs->c) && ad_robust_win_valid(&cs->w, p->robust.window);
}

const struct ad_detect_ops ad_detect_change_ops = {
    .name = "change",
    .id = AD_DET_CHANGE,
    .version = 2, /* 2: var_low and since_event (variance decreases) */
    .check = c_check,
    .size = c_size,
    .init = c_init,
    .step = c_step,
    .segs = c_segs,
    .valid = c_valid,
};
