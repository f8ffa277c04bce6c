/* ad_robust.c - the robust window (median and MAD of the last W values) and
 * the "robust" detector built on it.
 *
 * The median and the median absolute deviation ignore up to half the window
 * being outliers, so a spike neither moves the baseline nor widens the band.
 * Each point costs O(W): the window is copied and two quickselects run. When
 * the MAD collapses (a series that is mostly one value), the band falls back
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

static double *ring(struct ad_robust_win *w)
{
    return (double *)(w + 1);
}

static const double *cring(const struct ad_robust_win *w)
{
    return (const double *)(w + 1);
}

size_t ad_robust_win_size(uint32_t window)
{
    return sizeof(struct ad_robust_win) + (size_t)window * sizeof(double);
}

void ad_robust_win_init(struct ad_robust_win *w)
{
    w->n = 0;
    w->head = 0;
    w->slow_scale = 0;
    w->last = 0;
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

bool ad_robust_win_stats(const struct ad_robust_win *w, uint32_t window, double *med,
                         double *sigma)
{
    double buf[MAX_WINDOW];
    size_t n = (size_t)w->n;
    double m, mad, s;

    (void)window;
    if (n < MIN_HELD)
        return false;
    memcpy(buf, cring(w), n * sizeof(double));
    m = median_of(buf, n);
    for (size_t i = 0; i < n; i++)
        buf[i] = fabs(cring(w)[i] - m);
    mad = median_of(buf, n);
    s = 1.4826 * mad;
    if (s < 0.5 * w->slow_scale)
        s = 0.5 * w->slow_scale;
    if (s < ad_detect_sigma_floor(m))
        s = ad_detect_sigma_floor(m);
    *med = m;
    *sigma = s;
    return true;
}

void ad_robust_win_add(struct ad_robust_win *w, uint32_t window, double x, double absdev)
{
    ring(w)[w->head] = x;
    w->head = (w->head + 1) % window;
    if (w->n < window)
        w->n++;
    w->last = x;
    if (absdev >= 0 && isfinite(absdev)) {
        /* 1.2533 turns a mean absolute deviation into a Gaussian sigma; the
         * update is clipped so that one outlier moves the floor little. */
        double d = 1.2533 * absdev;
        if (w->slow_scale > 0 && d > 4 * w->slow_scale)
            d = 4 * w->slow_scale;
        w->slow_scale = w->slow_scale == 0 ? d : w->slow_scale + SLOW_ALPHA * (d - w->slow_scale);
    }
}

void ad_robust_win_shift(struct ad_robust_win *w, uint32_t window, double delta)
{
    (void)window;
    for (size_t i = 0; i < w->n; i++)
        ring(w)[i] += delta;
}

size_t ad_robust_win_segs(uint32_t window, struct ad_detect_seg *s, size_t n, size_t max)
{
    n = ad_detect_seg_add(s, n, max, 0, 4, 8);
    return ad_detect_seg_add(s, n, max, sizeof(struct ad_robust_win), window, 8);
}

bool ad_robust_win_valid(const struct ad_robust_win *w, uint32_t window)
{
    return w->n <= window && w->head < window && (w->n == window || w->head == w->n) &&
           isfinite(w->slow_scale) && w->slow_scale >= 0 && isfinite(w->last) &&
           ad_detect_finite(cring(w), window);
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
    double med, sig, thr = p->robust.threshold, absdev = -1;
    (void)t_us;

    if (ad_robust_win_stats(w, p->robust.window, &med, &sig)) {
        double z = (x - med) / sig;
        out->scored = true;
        out->raw = fabs(z);
        out->score = ad_detect_tail_score(z);
        out->expected = med;
        out->lower = med - thr * sig;
        out->upper = med + thr * sig;
        out->is_anomaly = fabs(z) > thr;
        out->kind = out->is_anomaly ? (z > 0 ? AD_KIND_SPIKE : AD_KIND_DIP) : AD_KIND_NONE;
        absdev = fabs(x - med);
    }
    ad_robust_win_add(w, p->robust.window, x, absdev);
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
