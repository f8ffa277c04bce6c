/* ad_robust.c - the robust window (median prediction, MAD of its errors) and
 * the "robust" detector built on it.
 *
 * The median and the median absolute deviation ignore up to half the window
 * being outliers, so a spike neither moves the baseline nor widens the band.
 * The prediction is the median of the last AD_ROBUST_SHORT values (a short
 * horizon follows drifts and daily swings with little lag), the band the
 * median absolute one-step error over the last W points. Each point costs
 * O(W): a copy and a quickselect. When the MAD collapses (a series that is mostly one value), the band falls back
 * on a slow mean absolute deviation, then on a floor relative to the value:
 * a flat series is never a division by zero. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ad_detect_int.h"
#include "ad_err.h"

#define MAX_WINDOW 1024
#define MIN_HELD 8
#define SLOW_ALPHA 0.01

static double *resid(struct ad_robust_win *w)
{
    return (double *)(w + 1);
}

static const double *cresid(const struct ad_robust_win *w)
{
    return (const double *)(w + 1);
}

size_t ad_robust_win_size(uint32_t window)
{
    return sizeof(struct ad_robust_win) + (size_t)window * sizeof(double);
}

void ad_robust_win_init(struct ad_robust_win *w)
{
    memset(w, 0, sizeof(*w));
    w->q99 = AD_Q99_GAUSS;
}

double ad_detect_sigma_floor(double x)
{
    return 1e-9 * fabs(x) + 1e-12;
}

/* The k-th smallest of a[0..n) (a is reordered so that a[0..k) <= a[k]).
 * A three-way partition keeps runs of equal values linear. */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;

    while (lo < hi) {
        double pv = a[lo + (hi - lo) / 2], t;
        size_t lt = lo, i = lo, gt = hi + 1;

        while (i < gt) {
            if (a[i] < pv) {
                t = a[lt], a[lt] = a[i], a[i] = t;
                lt++, i++;
            } else if (a[i] > pv) {
                gt--;
                t = a[gt], a[gt] = a[i], a[i] = t;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt - 1;
        else if (k >= gt)
            lo = gt;
        else
            return pv;
    }
    return a[k];
}

static double median_of(double *a, size_t n)
{
    double hi = select_kth(a, n, n / 2);
    if (n % 2)
        return hi;
    /* the largest of the lower half: after selection, a[0..n/2) <= hi */
    double lo = a[0];
    for (size_t i = 1; i < n / 2; i++)
        if (a[i] > lo)
            lo = a[i];
    return 0.5 * (lo + hi);
}

static double value_median(const struct ad_robust_win *w)
{
    double buf[AD_ROBUST_SHORT];

    memcpy(buf, w->vals, (size_t)w->n * sizeof(double));
    return median_of(buf, (size_t)w->n);
}

bool ad_robust_win_stats(const struct ad_robust_win *w, uint32_t window, double *med,
                         double *sigma)
{
    double buf[MAX_WINDOW], m, s;

    (void)window;
    if (w->n < 3 || w->rn < MIN_HELD)
        return false;
    m = value_median(w);
    memcpy(buf, cresid(w), (size_t)w->rn * sizeof(double));
    s = 1.4826 * median_of(buf, (size_t)w->rn);
    if (s < 0.5 * w->slow_scale)
        s = 0.5 * w->slow_scale;
    if (s < ad_detect_sigma_floor(m))
        s = ad_detect_sigma_floor(m);
    *med = m;
    *sigma = s;
    return true;
}

void ad_robust_win_add(struct ad_robust_win *w, uint32_t window, double x, const double *med)
{
    if (w->n >= 3) {
        double d = fabs(x - (med ? *med : value_median(w)));
        resid(w)[w->rhead] = d;
        w->rhead = (w->rhead + 1) % window;
        if (w->rn < window)
            w->rn++;
        /* 1.2533 turns a mean absolute deviation into a Gaussian sigma; the
         * update is clipped so that one outlier moves the floor little. */
        d *= 1.2533;
        if (w->slow_scale > 0 && d > 4 * w->slow_scale)
            d = 4 * w->slow_scale;
        w->slow_scale = w->slow_scale == 0 ? d : w->slow_scale + SLOW_ALPHA * (d - w->slow_scale);
    }
    w->vals[w->head] = x;
    w->head = (w->head + 1) % AD_ROBUST_SHORT;
    if (w->n < AD_ROBUST_SHORT)
        w->n++;
}

void ad_robust_win_shift(struct ad_robust_win *w, double delta, uint64_t keep)
{
    for (uint64_t k = keep; k < w->n; k++) {
        uint64_t i = (w->head + AD_ROBUST_SHORT - 1 - k) % AD_ROBUST_SHORT;
        w->vals[i] += delta;
    }
}

size_t ad_robust_win_segs(uint32_t window, struct ad_detect_seg *s, size_t n, size_t max)
{
    n = ad_detect_seg_add(s, n, max, 0, (uint32_t)(sizeof(struct ad_robust_win) / 8), 8);
    return ad_detect_seg_add(s, n, max, sizeof(struct ad_robust_win), window, 8);
}

bool ad_robust_win_valid(const struct ad_robust_win *w, uint32_t window)
{
    return w->n <= AD_ROBUST_SHORT && w->head < AD_ROBUST_SHORT &&
           (w->n == AD_ROBUST_SHORT || w->head == w->n) && w->rn <= window && w->rhead < window &&
           (w->rn == window || w->rhead == w->rn) && isfinite(w->slow_scale) &&
           isfinite(w->q99) && w->q99 >= 0.5 &&
           w->slow_scale >= 0 && ad_detect_finite(w->vals, AD_ROBUST_SHORT) &&
           ad_detect_finite(cresid(w), window);
}

/* ---- the "robust" detector ---------------------------------------------- */

static int r_check(const struct ad_detect_params *p, char *err, size_t errlen)
{
    if (p->robust.window < 8 || p->robust.window > MAX_WINDOW || !(p->robust.threshold > 0) ||
        !isfinite(p->robust.threshold)) {
        if (err && errlen)
            snprintf(err, errlen, "robust: window must be 8..%d and threshold > 0", MAX_WINDOW);
        return AD_EINVAL;
    }
    return 0;
}

static size_t r_size(const struct ad_detect_params *p)
{
    return ad_robust_win_size(p->robust.window);
}

static void r_init(void *state, const struct ad_detect_params *p)
{
    (void)p;
    ad_robust_win_init(state);
}

static void r_step(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                   struct ad_detect_result *out)
{
    struct ad_robust_win *w = state;
    double med = 0, sig, thr = p->robust.threshold;
    bool ok = ad_robust_win_stats(w, p->robust.window, &med, &sig);
    (void)t_us;

    if (ok) {
        double z = (x - med) / sig;
        out->scored = true;
        out->raw = fabs(z);
        out->score = ad_detect_tail_score(ad_detect_tail_adjust(&w->q99, z));
        out->expected = med;
        out->lower = med - thr * sig;
        out->upper = med + thr * sig;
        out->is_anomaly = fabs(z) > thr;
        out->kind = out->is_anomaly ? (z > 0 ? AD_KIND_SPIKE : AD_KIND_DIP) : AD_KIND_NONE;
    }
    ad_robust_win_add(w, p->robust.window, x, ok ? &med : NULL);
}

static size_t r_segs(const struct ad_detect_params *p, struct ad_detect_seg *s, size_t max)
{
    return ad_robust_win_segs(p->robust.window, s, 0, max);
}

static bool r_valid(const void *state, const struct ad_detect_params *p)
{
    return ad_robust_win_valid(state, p->robust.window);
}

const struct ad_detect_ops ad_detect_robust_ops = {
    "robust", AD_DET_ROBUST, 1, r_check, r_size, r_init, r_step, r_segs, r_valid};
