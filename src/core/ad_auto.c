/* ad_auto.c - "auto", the default detector: the robust window and the
 * seasonal profile as two baselines, the one with the smaller running error
 * chosen point by point; the change finder on the chosen residual (level
 * shifts re-baseline both baselines, flatlines stop their learning); the
 * anomaly likelihood over the residual; one score, the largest of the three
 * judgements, and one knob: sensitivity 0..100 sets the score threshold.
 *
 * State per series at the defaults (64-point window, 288 day bins, weekly):
 * about 3.9 KiB (3,976 B, the data period's buffer included), fixed; cost
 * per point O(window). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ad_detect_int.h"
#include "ad_err.h"

#define ERR_ALPHA   0.01
#define SEASON_WIN  0.85 /* the seasonal baseline must be this much better */
#define PEAK_DECAY  0.99
#define SCORE_AT_50 0.48 /* the best threshold on the tuning seed (docs/detection.md) */

struct auto_state {
    uint64_t n;
    double err_rob, err_sea; /* running mean |error| of each baseline */
    double q99;              /* running 99th percentile of |z| (the series' own tail) */
    double peak;             /* the recent highest score, decaying */
    struct ad_change c;
    struct ad_likelihood lk;
};

static size_t off_season(void)
{
    return AD_ALIGN8(sizeof(struct auto_state));
}

static size_t off_robust(const struct ad_detect_params *p)
{
    return off_season() + ad_season_size(p);
}

static struct ad_season *season_of(void *st)
{
    return (struct ad_season *)(void *)((char *)st + off_season());
}

static struct ad_robust_win *robust_of(void *st, const struct ad_detect_params *p)
{
    return (struct ad_robust_win *)(void *)((char *)st + off_robust(p));
}

/* The score threshold of a sensitivity: 50 is the tuned default, each 25
 * points up halves the distance to 0, each 25 down halves it to 1. */
static double threshold_of(double sens)
{
    double s = sens < 0 ? 0 : sens > 100 ? 100 : sens;
    if (s == 50)
        return SCORE_AT_50; /* the default: pow(0.5, 0) is 1, no need to ask */
    if (s >= 50)
        return SCORE_AT_50 * pow(0.5, (s - 50) / 25);
    return 1 - (1 - SCORE_AT_50) * pow(0.5, (50 - s) / 25);
}

static int a_check(const struct ad_detect_params *p, char *err, size_t errlen)
{
    int rc = ad_detect_change_ops.check(p, err, errlen);

    if (rc == 0)
        rc = ad_detect_seasonal_ops.check(p, err, errlen);
    if (rc == 0 && !(p->autod.sensitivity >= 0 && p->autod.sensitivity <= 100)) {
        if (err && errlen)
            snprintf(err, errlen, "auto: sensitivity must be 0..100");
        rc = AD_EINVAL;
    }
    return rc;
}

static size_t a_size(const struct ad_detect_params *p)
{
    return off_robust(p) + ad_robust_win_size(p->robust.window);
}

static void a_init(void *state, const struct ad_detect_params *p)
{
    struct auto_state *a = state;

    a->n = 0;
    a->err_rob = a->err_sea = 0;
    a->q99 = AD_Q99_GAUSS;
    a->peak = 0;
    ad_change_init(&a->c);
    ad_likelihood_init(&a->lk);
    ad_season_init(season_of(state), p);
    ad_robust_win_init(robust_of(state, p));
}

static void track_err(double *m, double r)
{
    double v = fabs(r);
    if (*m > 0 && v > 6 * *m)
        v = 6 * *m;
    *m = *m == 0 ? v : *m + ERR_ALPHA * (v - *m);
}

/* Picks the baseline; false when neither is warm. *pt is the seasonal
 * profile's look at t (for its learning of the point). */
static bool baseline(struct auto_state *a, void *state, const struct ad_detect_params *p,
                     int64_t t_us, double x, double *e, double *sig, bool *seasonal,
                     bool *robust_ok, double *rmed, struct ad_season_pt *pt)
{
    double er = 0, sr = 0;
    bool rok = *robust_ok = ad_robust_win_stats(robust_of(state, p), p->robust.window, &er, &sr);
    bool sok = ad_season_look(season_of(state), p, t_us, pt);

    if (rok && sok) {
        track_err(&a->err_rob, x - er);
        track_err(&a->err_sea, x - pt->expected);
    }
    *rmed = er;
    *seasonal = sok && a->err_sea < SEASON_WIN * a->err_rob;
    if (*seasonal) {
        *e = pt->expected;
        *sig = pt->sigma;
    } else if (rok) {
        *e = er;
        *sig = sr;
    }
    return *seasonal || rok;
}

/* pt: the profile's look at t on the profile as it is now. */
static void learn(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                  const double *rmed, const struct ad_season_pt *pt)
{
    struct auto_state *a = state;

    if (ad_change_in_flat(&a->c))
        return;
    ad_robust_win_add(robust_of(state, p), p->robust.window, x, rmed);
    ad_season_learn_pt(season_of(state), p, t_us, x, 4.0, pt);
}

static int kind_of(int ev, double z, bool seasonal, const struct ad_season *s, double x)
{
    if (ev == AD_CHANGE_SHIFT)
        return AD_KIND_LEVEL_SHIFT;
    if (ev == AD_CHANGE_VARIANCE)
        return AD_KIND_VARIANCE_CHANGE;
    if (ev == AD_CHANGE_FLAT)
        return AD_KIND_FLATLINE;
    if (seasonal && fabs(x - s->mean) < 3 * 1.2533 * s->mad_flat)
        return AD_KIND_SEASONAL;
    return z > 0 ? AD_KIND_SPIKE : AD_KIND_DIP;
}

static void a_step(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                   void *scratch, struct ad_detect_result *out)
{
    struct auto_state *a = state;
    double e = 0, sig = 1, z, zt, ls, rmed = 0, thr = threshold_of(p->autod.sensitivity);
    struct ad_change_out o;
    struct ad_season_pt pt;
    bool seasonal, rok;
    int ev;
    (void)scratch;

    a->n++;
    if (!baseline(a, state, p, t_us, x, &e, &sig, &seasonal, &rok, &rmed, &pt)) {
        ad_change_feed(&a->c, p, x, 0, 0, &o);
        learn(state, p, t_us, x, NULL, &pt);
        return;
    }
    z = (x - e) / sig;
    ev = ad_change_feed(&a->c, p, x, x - e, z, &o);
    zt = ad_detect_tail_adjust(&a->q99, z);
    ls = ad_likelihood_update_beside(&a->lk, fabs(zt));
    out->scored = true;
    out->raw = fabs(z);
    out->expected = e;
    out->lower = e - p->robust.threshold * sig;
    out->upper = e + p->robust.threshold * sig;
    out->score = ad_detect_tail_score(zt);
    if (ls > out->score)
        out->score = ls;
    if (ev != AD_CHANGE_NONE && out->score < p->autod.event_score)
        out->score = p->autod.event_score;
    {
        /* An alarm repeats only when it grows: a score under the recent
         * peak is halved (the peak decays by 1% a point, a half-life of
         * about 70 points), so one event is one alert, not a cluster. */
        double sc = out->score;
        if (sc < a->peak && ev == AD_CHANGE_NONE)
            out->score = 0.5 * sc;
        a->peak = a->peak * PEAK_DECAY > sc ? a->peak * PEAK_DECAY : sc;
    }
    out->is_anomaly = out->score >= thr;
    if (out->is_anomaly || ev != AD_CHANGE_NONE)
        out->kind = kind_of(ev, z, seasonal, season_of(state), x);
    if (ev == AD_CHANGE_SHIFT) {
        /* The robust window follows any shift; the seasonal level only one
         * found on its own residuals (a shift found on the robust window's
         * may be its lag on a daily swing). */
        ad_robust_win_shift(robust_of(state, p), o.delta, o.run);
        if (seasonal) {
            ad_season_shift(season_of(state), o.delta);
            ad_season_look(season_of(state), p, t_us, &pt); /* the shifted profile's */
        }
    }
    if (ev != AD_CHANGE_NONE)
        ad_likelihood_forget_recent(&a->lk);
    learn(state, p, t_us, x, rok ? &rmed : NULL, &pt);
}

static size_t a_segs(const struct ad_detect_params *p, struct ad_detect_seg *s, size_t max)
{
    size_t n = ad_detect_seg_add(s, 0, max, 0, 5, 8), k;

    k = n;
    n = ad_change_segs(s, n, max);
    ad_detect_seg_shift(s, k, n, offsetof(struct auto_state, c));
    n = ad_detect_seg_add(s, n, max, offsetof(struct auto_state, lk), 3 + AD_LIK_SHORT, 8);
    k = n;
    n = ad_season_segs(p, s, n, max);
    ad_detect_seg_shift(s, k, n, off_season());
    k = n;
    n = ad_robust_win_segs(p->robust.window, s, n, max);
    ad_detect_seg_shift(s, k, n, off_robust(p));
    return n;
}

static bool a_valid(const void *state, const struct ad_detect_params *p)
{
    const struct auto_state *a = state;
    void *st = (void *)(uintptr_t)state;

    const double v[] = {a->err_rob, a->err_sea, a->q99, a->peak};

    return ad_detect_finite(v, 4) && a->err_rob >= 0 && a->err_sea >= 0 && a->q99 >= 0.5 &&
           a->peak >= 0 && ad_change_valid(&a->c) && ad_likelihood_valid(&a->lk) &&
           ad_season_valid(season_of(st), p) &&
           ad_robust_win_valid(robust_of(st, p), p->robust.window);
}

const struct ad_detect_ops ad_detect_auto_ops = {
    .name = "auto",
    .id = AD_DET_AUTO,
    .version = 2, /* 2: the seasonal profile's data period */
    .check = a_check,
    .size = a_size,
    .init = a_init,
    .step = a_step,
    .segs = a_segs,
    .valid = a_valid,
};
