/* ad_seasonal.c - the seasonal profile and the "seasonal" detector.
 *
 * The period comes from the timestamps: the local time of day (UTC plus a
 * configured offset) in day_bins bins, and optionally the hour of the week
 * (168 bins). Or from the data (params.seasonal.data_period): the first
 * AD_SEASON_WARM values are kept; once the buffer is full, the strongest
 * autocorrelation peak of the detrended buffer (lags 4..AD_SEASON_WARM/3, confirmed at twice the lag)
 * is the period in points, used instead of the day when it is not a
 * divisor of the day that the day bins already resolve. The profile then
 * has one bin per point of that period, phased from the first point, and is
 * relearnt at once from the buffer; the week term is off. The model is additive: a slow level, a per-bin day offset and a
 * per-hour week offset, each an exponentially weighted mean of what the
 * other terms leave (backfitting, one pass per point). The data decide
 * whether the profile is worth using: the mean absolute residual with the day
 * term, with day and week terms, and with the level alone are tracked, and
 * the week term is used only when it predicts better.
 *
 * State (288 day bins, weekly, data period): 88 bytes + 456 floats + 15
 * bitmap words + AD_SEASON_WARM floats, about 2.9 KiB per series whatever
 * the step of the series. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ad_detect_int.h"
#include "ad_err.h"

/* The longest data period kept (about 142 years in microseconds): bounds
 * the phase arithmetic of a restored state. */
#define AD_SEASON_MAX_PERIOD_US (INT64_C(1) << 52)

#define DAY_S      86400.0
#define WEEK_H     168
#define WEEK_WORDS ((WEEK_H + 31) / 32)
#define ERR_ALPHA  0.02
#define DAY_RATE   0.25 /* per day, for one bin */
#define WEEK_RATE  0.3  /* per week, for one hour bin */
#define PEAK_MIN   0.4  /* a data period's autocorrelation, at least */
#define DEPTH_MIN  0.6  /* and its swing from the lowest before it */
#define REPEAT_MIN 0.6  /* the autocorrelation at twice the lag, relative to it */

static uint32_t day_words(const struct ad_detect_params *p)
{
    return (p->seasonal.day_bins + 31) / 32;
}

static uint32_t week_bins(const struct ad_detect_params *p)
{
    return p->seasonal.weekly ? WEEK_H : 0;
}

static float *day_arr(const struct ad_season *s)
{
    return (float *)(void *)((char *)(uintptr_t)s + sizeof(*s));
}

static float *week_arr(const struct ad_season *s, const struct ad_detect_params *p)
{
    return day_arr(s) + p->seasonal.day_bins;
}

static uint32_t *day_set(const struct ad_season *s, const struct ad_detect_params *p)
{
    return (uint32_t *)(void *)(week_arr(s, p) + week_bins(p));
}

static uint32_t *week_set(const struct ad_season *s, const struct ad_detect_params *p)
{
    return day_set(s, p) + day_words(p);
}

static uint32_t warm_len(const struct ad_detect_params *p)
{
    return p->seasonal.data_period ? AD_SEASON_WARM : 0;
}

static float *warm_arr(const struct ad_season *s, const struct ad_detect_params *p)
{
    return (float *)(void *)(week_set(s, p) + (p->seasonal.weekly ? WEEK_WORDS : 0));
}

size_t ad_season_size(const struct ad_detect_params *p)
{
    size_t words = p->seasonal.day_bins + week_bins(p) + day_words(p) +
                   (p->seasonal.weekly ? WEEK_WORDS : 0) + warm_len(p);
    return AD_ALIGN8(sizeof(struct ad_season) + words * 4);
}

void ad_season_init(struct ad_season *s, const struct ad_detect_params *p)
{
    memset(s, 0, ad_season_size(p));
    s->q99 = AD_Q99_GAUSS;
}

static bool bit(const uint32_t *set, uint32_t i)
{
    return (set[i / 32] >> (i % 32)) & 1u;
}

/* Length of the profile's period in seconds: the data's, or a day. */
static double period_s(const struct ad_season *s)
{
    return s->period_us > 0 ? (double)s->period_us / 1e6 : DAY_S;
}

/* Bins of the profile in use. */
static uint32_t nbins(const struct ad_season *s, const struct ad_detect_params *p)
{
    return s->period_us > 0 ? (uint32_t)s->period_pts : p->seasonal.day_bins;
}

/* Profile bin and hour of week of t (microseconds since the epoch, UTC), in
 * integer arithmetic (no fmod on the hot path). */
static void phases(const struct ad_season *s, const struct ad_detect_params *p, int64_t t_us,
                   uint32_t *db, uint32_t *wh)
{
    int64_t local = t_us / 1000000 + p->seasonal.utc_offset_s;
    int64_t d = local % 86400, w = local % (7 * 86400);

    if (d < 0)
        d += 86400;
    if (w < 0)
        w += 7 * 86400;
    *db = (uint32_t)(d * (int64_t)p->seasonal.day_bins / 86400);
    *wh = (uint32_t)(w / 3600);
    if (s->period_us > 0) {
        /* Half a step earlier, so a point on the grid is mid-bin. */
        int64_t per = s->period_us, half = per / (2 * s->period_pts);
        int64_t ph = (t_us % per - s->origin_t % per + half) % per; /* no overflow */
        if (ph < 0)
            ph += per;
        *db = (uint32_t)((ph / (double)per) * (double)s->period_pts);
        if (*db >= (uint32_t)s->period_pts)
            *db = (uint32_t)s->period_pts - 1;
    }
}

static double age_days(const struct ad_season *s, int64_t t_us)
{
    return s->n ? ((double)t_us - (double)s->first_t) / (period_s(s) * 1e6) : 0;
}

/* Whether the week term is in use at hour of week wh, age periods old. */
static bool use_week(const struct ad_season *s, const struct ad_detect_params *p, double age,
                     uint32_t wh)
{
    return p->seasonal.weekly && s->period_us == 0 && bit(week_set(s, p), wh) && age >= 7.5 &&
           s->mad_week < 0.9 * s->mad_day;
}

/* The prediction at pt's time (its bins and age already known). */
static bool predict_pt(const struct ad_season *s, const struct ad_detect_params *p,
                       struct ad_season_pt *pt)
{
    double mad, e;

    pt->ok = false;
    if (s->n == 0 || pt->age < 1.0 || !(s->mad_day > 0) || !bit(day_set(s, p), pt->db))
        return false;
    e = s->base + s->level + day_arr(s)[pt->db];
    mad = s->mad_day;
    if (use_week(s, p, pt->age, pt->wh)) {
        e += week_arr(s, p)[pt->wh];
        mad = s->mad_week;
    }
    pt->expected = e;
    pt->sigma = 1.2533 * mad;
    if (pt->sigma < ad_detect_sigma_floor(e))
        pt->sigma = ad_detect_sigma_floor(e);
    pt->ok = true;
    return true;
}

bool ad_season_look(const struct ad_season *s, const struct ad_detect_params *p, int64_t t_us,
                    struct ad_season_pt *pt)
{
    phases(s, p, t_us, &pt->db, &pt->wh);
    pt->age = age_days(s, t_us);
    return predict_pt(s, p, pt);
}

static double clipped(double r, double lim)
{
    if (lim > 0 && r > lim)
        return lim;
    if (lim > 0 && r < -lim)
        return -lim;
    return r;
}

static void ewma_abs(double *m, double r, double cap)
{
    double a = fabs(r);
    if (*m > 0 && a > cap * *m)
        a = cap * *m;
    *m = *m == 0 ? a : *m + ERR_ALPHA * (a - *m);
}

/* Tracks the errors of the flat, day and day+week predictions of x. */
static void learn_errors(struct ad_season *s, const struct ad_detect_params *p, double x,
                         const struct ad_season_pt *pt)
{
    uint32_t db = pt->db, wh = pt->wh;
    bool dset = bit(day_set(s, p), db);
    double e_day = s->base + s->level + day_arr(s)[db];

    ewma_abs(&s->mad_flat, x - s->mean, 6);
    if (!dset || pt->age < 1.0)
        return;
    ewma_abs(&s->mad_day, x - e_day, 6);
    if (p->seasonal.weekly && s->period_us == 0 && bit(week_set(s, p), wh) && pt->age >= 7.0)
        ewma_abs(&s->mad_week, x - e_day - week_arr(s, p)[wh], 6);
    else
        s->mad_week = s->mad_day;
}

/* Learns x at t; pt is what ad_season_look() said about t on this state
 * (its bins, age and prediction: computed once for both). */
static void learn_point(struct ad_season *s, const struct ad_detect_params *p, int64_t t_us,
                        double x, double clip, const struct ad_season_pt *pt)
{
    uint32_t db = pt->db, wh = pt->wh, *ds = day_set(s, p);
    float *day = day_arr(s), *week = week_arr(s, p);
    double lim = 0, step, hits_day, a_lvl, wterm = 0;

    if (s->n == 0) {
        s->first_t = t_us;
        s->base = x;
        s->mean = x;
    } else if (t_us > s->last_t) {
        double dt = ((double)t_us - (double)s->last_t) / 1e6;
        s->step_s = s->step_s == 0 ? dt : s->step_s + 0.05 * (dt - s->step_s);
    }
    if (pt->ok)
        lim = clip * pt->sigma;
    learn_errors(s, p, x, pt);
    step = s->step_s > 0 ? s->step_s : 60;
    hits_day = period_s(s) / nbins(s, p) / step;
    if (hits_day < 1)
        hits_day = 1;
    /* The week term takes part only once it is in use: before that it
     * learns what the day term leaves, and the day term ignores it. */
    if (use_week(s, p, pt->age, wh))
        wterm = week[wh];
    /* The level: a drift of the deseasonalised series over about a day,
     * from 0; the bins hold values relative to the first one (base), so no
     * bin learns against a level that was still settling. */
    a_lvl = step / period_s(s);
    if (a_lvl > 0.05)
        a_lvl = 0.05;
    s->mean += (a_lvl > 1.0 / (double)(s->n + 1) ? a_lvl : 1.0 / (double)(s->n + 1)) *
               (x - s->mean);
    x -= s->base;
    if (bit(ds, db))
        s->level += a_lvl * clipped(x - day[db] - wterm - s->level, lim);
    if (!bit(ds, db)) {
        day[db] = ad_detect_to_float(x - s->level - wterm);
        ds[db / 32] |= 1u << (db % 32);
    } else {
        /* The first days average (each bin is about once a day), then the
         * rate settles at DAY_RATE per day (1 / (days + 1) is DAY_RATE or
         * less from day 3 on: not divided out). */
        double days = floor(pt->age), rate = days >= 3 ? DAY_RATE : 1.0 / (days + 1.0);
        if (rate < DAY_RATE)
            rate = DAY_RATE;
        day[db] = ad_detect_to_float(day[db] + rate / hits_day *
                                                   clipped(x - s->level - wterm - day[db], lim));
    }
    if (p->seasonal.weekly && s->period_us == 0 && s->n > 0 && pt->age >= 1.0) {
        uint32_t *ws = week_set(s, p);
        double r = x - s->level - day[db];
        if (!bit(ws, wh)) {
            week[wh] = ad_detect_to_float(r);
            ws[wh / 32] |= 1u << (wh % 32);
        } else {
            double hits_hour = 3600.0 / step;
            if (hits_hour < 1)
                hits_hour = 1;
            week[wh] = ad_detect_to_float(week[wh] +
                                          WEEK_RATE / hits_hour * clipped(r - week[wh], lim));
        }
    }
    s->n++;
    s->last_t = t_us;
}

/* The autocorrelations of the detrended buffer at lags l..l+3 (biased:
 * lags are compared on one scale). y is n values, c0 their sum of squares.
 * Four lags per pass: each sum still adds its products in the order of i
 * (the result is a lag-by-lag loop's, bit for bit), but the four chains of
 * additions run side by side instead of one after the other. */
static void acf4(const double *y, uint32_t n, uint32_t l, double c0, double *out)
{
    double c[4] = {0, 0, 0, 0};
    uint32_t i = 0;

    for (; i + l + 3 < n; i++) {
        c[0] += y[i] * y[i + l];
        c[1] += y[i] * y[i + l + 1];
        c[2] += y[i] * y[i + l + 2];
        c[3] += y[i] * y[i + l + 3];
    }
    for (uint32_t k = 0; k < 3; k++)
        for (uint32_t j = i; j + l + k < n; j++)
            c[k] += y[j] * y[j + l + k];
    for (uint32_t k = 0; k < 4; k++)
        out[k] = c[k] / c0;
}

/* The autocorrelation at lag l alone. */
static double acf_at(const double *y, uint32_t n, uint32_t l, double c0)
{
    double c = 0;
    for (uint32_t i = 0; i + l < n; i++)
        c += y[i] * y[i + l];
    return c / c0;
}

/* Whether lag l (2..maxl) is an autocorrelation peak that repeats at twice
 * its lag. acf[2l] is computed when first asked for (only a local peak
 * asks): NaN in acf marks a lag not computed yet. */
static bool repeating_peak(const double *y, uint32_t n, double c0, double *acf, uint32_t l)
{
    if (!(l >= AD_SEASON_MIN_PERIOD && acf[l] >= acf[l - 1] && acf[l] >= acf[l + 1]))
        return false;
    if (isnan(acf[2 * l]))
        acf[2 * l] = acf_at(y, n, 2 * l, c0);
    return acf[2 * l] >= REPEAT_MIN * acf[l];
}

/* The period, in points, of the buffer v (n values, evenly spaced): the
 * smallest autocorrelation peak within 15% of the highest, itself at least
 * PEAK_MIN and at least DEPTH_MIN above the lowest autocorrelation before it
 * (a true cycle swings down and back), and repeating at twice its lag (a
 * wandering series, AR(1) or a random walk, can swing once by chance, rarely
 * twice); so at most n / 3 points; 0 when none. *refined is the peak's
 * lag to a fraction of a point (a parabola through it and its neighbours). */
static uint32_t buffer_period(const float *v, uint32_t n, double *refined)
{
    double y[AD_SEASON_WARM], mx = 0, my = 0, sxy = 0, sxx = 0, c0 = 0, best = 0;
    double acf[2 * (AD_SEASON_WARM / 3) + 6];
    uint32_t maxl = n / 3, found = 0;

    for (uint32_t i = 0; i < n; i++) {
        mx += i;
        my += v[i];
    }
    mx /= n;
    my /= n;
    for (uint32_t i = 0; i < n; i++) {
        sxy += (i - mx) * (v[i] - my);
        sxx += (i - mx) * (i - mx);
    }
    for (uint32_t i = 0; i < n; i++) {
        y[i] = v[i] - my - (sxy / sxx) * (i - mx);
        c0 += y[i] * y[i];
    }
    if (!(c0 > 0))
        return 0;
    /* Every lag up to maxl + 1 is looked at (four at a time: up to 3 more);
     * beyond, only twice a local peak's lag, computed on demand. */
    for (uint32_t l = 1; l <= 2 * maxl + 1; l++)
        acf[l] = NAN;
    for (uint32_t l = 1; l <= maxl + 1; l += 4)
        acf4(y, n, l, c0, acf + l);
    double low = acf[1];
    for (uint32_t l = 2; l <= maxl; l++) {
        bool peak = repeating_peak(y, n, c0, acf, l);
        if (peak && acf[l] > best && acf[l] >= PEAK_MIN && acf[l] - low >= DEPTH_MIN)
            best = acf[l];
        if (acf[l] < low)
            low = acf[l];
    }
    if (best <= 0)
        return 0;
    low = acf[1];
    for (uint32_t l = 2; l <= maxl && !found; l++) {
        if (repeating_peak(y, n, c0, acf, l) && acf[l] >= 0.85 * best && acf[l] - low >= DEPTH_MIN)
            found = l;
        if (acf[l] < low)
            low = acf[l];
    }
    if (found) {
        double a = acf[found - 1], b = acf[found], c = acf[found + 1], den = a - 2 * b + c;
        double d = den < 0 ? 0.5 * (a - c) / den : 0;
        *refined = found + (d > 0.5 ? 0.5 : d < -0.5 ? -0.5 : d);
    }
    return found;
}

/* Whether the timestamps' day (or week) profile already resolves a period
 * of per seconds at steps of step seconds: a divisor of the day (its whole
 * cycles in a day miss the day by at most half a step or 3% of a period: a
 * peak found a point off by noise is still the day's) at least 4 day bins
 * long, a whole number of days (the day's pattern found again at a multiple
 * of its lag), or a week. */
static bool time_period_covers(const struct ad_detect_params *p, double per, double step)
{
    double k = floor(DAY_S / per + 0.5), tol = 0.03 * per > 0.5 * step ? 0.03 * per : 0.5 * step;
    double days = floor(per / DAY_S + 0.5);

    if (days >= 1 && fabs(per - days * DAY_S) <= tol)
        return true;
    return k >= 1 && fabs(k * per - DAY_S) <= tol && per >= 4 * DAY_S / p->seasonal.day_bins;
}

/* The warm-up buffer is full: find its period; if the timestamps cannot
 * model it, restart the profile on it and relearn the buffer. */
static void decide_period(struct ad_season *s, const struct ad_detect_params *p, double clip)
{
    const float *w = warm_arr(s, p);
    /* a restored state may hold any times: a span that does not fit is no grid */
    int64_t span = 0;
    if (s->last_t > s->first_t && (s->first_t >= 0 || s->last_t <= INT64_MAX + s->first_t))
        span = s->last_t - s->first_t;
    int64_t t0 = s->first_t, step_us = span / (AD_SEASON_WARM - 1);
    double exact = 0;
    uint32_t per = buffer_period(w, AD_SEASON_WARM, &exact);
    double base = s->base, q99 = s->q99;

    s->period_pts = -1;
    /* The day's test on the refined lag: a noisy peak one point off a
     * day's period is still the day's. */
    if (per == 0 || step_us <= 0 || per > p->seasonal.day_bins ||
        step_us > AD_SEASON_MAX_PERIOD_US / per ||
        time_period_covers(p, exact * (double)step_us / 1e6, (double)step_us / 1e6))
        return;
    /* everything before the warm-up buffer, which is relearnt below */
    memset(s, 0, (size_t)((const char *)w - (char *)s));
    s->q99 = q99;
    s->period_pts = per;
    s->period_us = (int64_t)per * step_us;
    s->origin_t = t0;
    for (uint32_t i = 0; i < AD_SEASON_WARM; i++) {
        struct ad_season_pt pt;
        int64_t t = t0 + (int64_t)i * step_us;
        ad_season_look(s, p, t, &pt);
        learn_point(s, p, t, base + w[i], clip, &pt);
    }
}

void ad_season_learn_pt(struct ad_season *s, const struct ad_detect_params *p, int64_t t_us,
                        double x, double clip, const struct ad_season_pt *pt)
{
    learn_point(s, p, t_us, x, clip, pt);
    if (!p->seasonal.data_period || s->period_pts != 0)
        return;
    warm_arr(s, p)[s->n - 1] = ad_detect_to_float(x - s->base);
    if (s->n == AD_SEASON_WARM)
        decide_period(s, p, clip);
}

double ad_season_gain(const struct ad_season *s)
{
    if (!(s->mad_flat > 0))
        return 1;
    return (s->mad_week < s->mad_day ? s->mad_week : s->mad_day) / s->mad_flat;
}

void ad_season_shift(struct ad_season *s, double delta)
{
    s->level += delta;
}

size_t ad_season_segs(const struct ad_detect_params *p, struct ad_detect_seg *seg, size_t n,
                      size_t max)
{
    size_t off = sizeof(struct ad_season);
    uint32_t f = p->seasonal.day_bins + week_bins(p);
    uint32_t u = day_words(p) + (p->seasonal.weekly ? WEEK_WORDS : 0);

    n = ad_detect_seg_add(seg, n, max, 0, (uint32_t)(sizeof(struct ad_season) / 8), 8);
    n = ad_detect_seg_add(seg, n, max, off, f, 4);
    n = ad_detect_seg_add(seg, n, max, off + (size_t)f * 4, u, 4);
    if (warm_len(p))
        n = ad_detect_seg_add(seg, n, max, off + (size_t)(f + u) * 4, warm_len(p), 4);
    return n;
}

bool ad_season_valid(const struct ad_season *s, const struct ad_detect_params *p)
{
    const double fixed[] = {s->step_s,   s->level, s->mad_day, s->mad_week,
                            s->mad_flat, s->q99,   s->base,    s->mean};
    const float *f = day_arr(s);

    if (!ad_detect_finite(fixed, 8) || s->q99 < 0.5 || s->step_s < 0 || s->mad_day < 0 ||
        s->mad_week < 0 || s->mad_flat < 0 || (s->n > 0 && s->last_t < s->first_t))
        return false;
    /* The data period: undecided (only while the buffer fills), none, or
     * a period the profile's bins can hold. */
    if (s->period_pts < -1 || s->period_pts > (int64_t)p->seasonal.day_bins ||
        (!p->seasonal.data_period && s->period_pts != 0) ||
        (p->seasonal.data_period && s->period_pts == 0 && s->n >= AD_SEASON_WARM) ||
        (s->period_pts > 0 && (s->period_pts < AD_SEASON_MIN_PERIOD || s->period_us <= 0)) ||
        (s->period_pts <= 0 && s->period_us != 0) || s->period_us > AD_SEASON_MAX_PERIOD_US)
        return false;
    for (uint32_t i = 0; i < p->seasonal.day_bins + week_bins(p); i++)
        if (!(fabsf(f[i]) <= 1e37f))
            return false;
    for (uint32_t i = 0; i < warm_len(p); i++)
        if (!(fabsf(warm_arr(s, p)[i]) <= 1e37f))
            return false;
    return true;
}

/* ---- the "seasonal" detector -------------------------------------------- */

static int s_check(const struct ad_detect_params *p, char *err, size_t errlen)
{
    if (p->seasonal.day_bins < 24 || p->seasonal.day_bins > 1440 ||
        p->seasonal.utc_offset_s < -14 * 3600 || p->seasonal.utc_offset_s > 14 * 3600 ||
        !(p->seasonal.threshold > 0) || !isfinite(p->seasonal.threshold)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "seasonal: day_bins must be 24..1440, utc offset within +-14h, threshold > 0");
        return AD_EINVAL;
    }
    return 0;
}

static size_t s_size(const struct ad_detect_params *p)
{
    return ad_season_size(p);
}

static void s_init(void *state, const struct ad_detect_params *p)
{
    ad_season_init(state, p);
}

static void s_step(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                   void *scratch, struct ad_detect_result *out)
{
    struct ad_season *s = state;
    struct ad_season_pt pt;
    double thr = p->seasonal.threshold;
    (void)scratch;

    if (ad_season_look(s, p, t_us, &pt)) {
        double e = pt.expected, sig = pt.sigma;
        double z = (x - e) / sig;
        out->scored = true;
        out->raw = fabs(z);
        out->score = ad_detect_tail_score(ad_detect_tail_adjust(&s->q99, z));
        out->expected = e;
        out->lower = e - thr * sig;
        out->upper = e + thr * sig;
        out->is_anomaly = fabs(z) > thr;
        if (out->is_anomaly) {
            /* Normal in range for the series, wrong for its time: seasonal. */
            bool in_range = fabs(x - s->mean) < 3 * 1.2533 * s->mad_flat;
            out->kind = in_range ? AD_KIND_SEASONAL : z > 0 ? AD_KIND_SPIKE : AD_KIND_DIP;
        }
    }
    /* the tail adjustment above changed q99 alone: pt still holds */
    ad_season_learn_pt(s, p, t_us, x, 4.0, &pt);
}

static size_t s_segs(const struct ad_detect_params *p, struct ad_detect_seg *s, size_t max)
{
    return ad_season_segs(p, s, 0, max);
}

static bool s_valid(const void *state, const struct ad_detect_params *p)
{
    return ad_season_valid(state, p);
}

const struct ad_detect_ops ad_detect_seasonal_ops = {
    .name = "seasonal",
    .id = AD_DET_SEASONAL,
    .version = 2, /* 2: the data period and its warm-up buffer */
    .check = s_check,
    .size = s_size,
    .init = s_init,
    .step = s_step,
    .segs = s_segs,
    .valid = s_valid,
};
