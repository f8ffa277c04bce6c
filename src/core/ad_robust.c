/* ad_robust.c - the robust window (median prediction, MAD of its errors) and
 * the "robust" detector built on it.
 *
 * The median and the median absolute deviation ignore up to half the window
 * being outliers, so a spike neither moves the baseline nor widens the band.
 * The prediction is the median of the last AD_ROBUST_SHORT values (a short
 * horizon follows drifts and daily swings with little lag), the band the
 * median absolute one-step error over the last W points. Each point costs
 * O(W) at worst (memmoves in two sorted arrays). When the MAD collapses (a
 * series that is mostly one value), the band falls back
 * on a slow mean absolute deviation, then on a floor relative to the value:
 * a flat series is never a division by zero. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ad_detect_int.h"
#include "ad_err.h"

#define MAX_WINDOW 1024
#define MIN_HELD   8
#define SLOW_ALPHA 0.01

static float *resid(const struct ad_robust_win *w, uint32_t window)
{
    (void)window;
    return (float *)(void *)((char *)(uintptr_t)w + sizeof(*w));
}

static float *rsorted(const struct ad_robust_win *w, uint32_t window)
{
    return resid(w, window) + window;
}

size_t ad_robust_win_size(uint32_t window)
{
    return sizeof(struct ad_robust_win) + AD_ALIGN8((size_t)window * 2 * sizeof(float));
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

/* Sorted arrays kept in step with their rings: a point costs two binary
 * searches and one short memmove per array. The searches are branch-free
 * (the next half is picked with a mask: the compiler keeps a branch for ?:,
 * and a branchy search spent most of its time in mispredictions, as a
 * quickselect per point did), so a loop runs a fixed log2(n) rounds;
 * name_lower2() runs two of them side by side (two independent chains of
 * loads take about the time of one).
 * name_find(a, n, old, v, &i, &at) works out a replace of one occurrence of
 * *old (present) by v in the sorted a[0..n), or an append of v when old is
 * NULL: i is the leaving value's index (n when none leaves), at v's index in
 * the result. The first element equal to *old leaves, and v goes before the
 * first remaining element that is not less than it: at counts the elements
 * less than v, less a[i] when a[i] is one of them. name_put(a, i, at, v) then
 * moves the values between i and at by one towards i and puts v at at (with
 * i == n the values from at on move up and the array grows by one). Finding
 * and moving are apart so that a caller can find in both its arrays before
 * moving either: a memmove's branches depend on the data, and a
 * misprediction would throw away the other array's search. */
#define SORTED_FNS(T, name)                                                                        \
    static size_t name##_lower(const T *a, size_t n, T v)                                          \
    {                                                                                              \
        size_t lo = 0;                                                                             \
        if (n == 0)                                                                                \
            return 0;                                                                              \
        while (n > 1) {                                                                            \
            size_t half = n / 2;                                                                   \
            lo += ((size_t)0 - (size_t)(a[lo + half - 1] < v)) & half;                             \
            n -= half;                                                                             \
        }                                                                                          \
        return lo + (a[lo] < v);                                                                   \
    }                                                                                              \
    static void name##_lower2(const T *a, size_t n, T u, T v, size_t *iu, size_t *iv)              \
    {                                                                                              \
        size_t lu = 0, lv = 0;                                                                     \
        while (n > 1) {                                                                            \
            size_t half = n / 2;                                                                   \
            lu += ((size_t)0 - (size_t)(a[lu + half - 1] < u)) & half;                             \
            lv += ((size_t)0 - (size_t)(a[lv + half - 1] < v)) & half;                             \
            n -= half;                                                                             \
        }                                                                                          \
        *iu = lu + (a[lu] < u);                                                                    \
        *iv = lv + (a[lv] < v);                                                                    \
    }                                                                                              \
    static void name##_find(const T *a, size_t n, const T *old, T v, size_t *i, size_t *at)        \
    {                                                                                              \
        if (!old || n == 0) {                                                                      \
            *i = n;                                                                                \
            *at = name##_lower(a, n, v);                                                           \
            return;                                                                                \
        }                                                                                          \
        name##_lower2(a, n, *old, v, i, at);                                                       \
        if (*i >= n)                                                                               \
            *i = n - 1; /* not found: cannot happen while the arrays agree */                      \
        *at -= (a[*i] < v);                                                                        \
    }                                                                                              \
    static void name##_put(T *a, size_t i, size_t at, T v)                                         \
    {                                                                                              \
        if (at > i)                                                                                \
            memmove(a + i, a + i + 1, (at - i) * sizeof(T));                                       \
        else if (at < i)                                                                           \
            memmove(a + at + 1, a + at, (i - at) * sizeof(T));                                     \
        a[at] = v;                                                                                 \
    }                                                                                              \
    static double name##_median(const T *a, size_t n)                                              \
    {                                                                                              \
        return n % 2 ? (double)a[n / 2] : 0.5 * ((double)a[n / 2 - 1] + (double)a[n / 2]);         \
    }

SORTED_FNS(double, dsort)
SORTED_FNS(float, fsort)

/* Replaces one occurrence of *old (present) by v in the sorted a[0..n). */
static void dsort_replace(double *a, size_t n, const double *old, double v)
{
    size_t i, at;
    dsort_find(a, n, old, v, &i, &at);
    dsort_put(a, i, at, v);
}

bool ad_robust_win_stats(const struct ad_robust_win *w, uint32_t window, double *med, double *sigma)
{
    double m, s;

    if (w->n < 3 || w->rn < MIN_HELD)
        return false;
    m = dsort_median(w->vsorted, (size_t)w->n);
    s = 1.4826 * fsort_median(rsorted(w, window), (size_t)w->rn);
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
    size_t di, dat;

    /* Both arrays' places are found before either moves: the searches'
     * loads then overlap, and neither waits behind the other's memmove. */
    dsort_find(w->vsorted, (size_t)w->n, w->n == AD_ROBUST_SHORT ? &w->vals[w->head] : NULL, x, &di,
               &dat);
    if (w->n >= 3) {
        double d = fabs(x - (med ? *med : dsort_median(w->vsorted, (size_t)w->n)));
        float *ring = resid(w, window), f = ad_detect_to_float(d);
        size_t fi, fat;
        fsort_find(rsorted(w, window), (size_t)w->rn, w->rn == window ? &ring[w->rhead] : NULL, f,
                   &fi, &fat);
        fsort_put(rsorted(w, window), fi, fat, f);
        ring[w->rhead] = f;
        /* not % window: a division by a variable is dearer than the rest */
        if (++w->rhead >= window)
            w->rhead = 0;
        if (w->rn < window)
            w->rn++;
        /* 1.2533 turns a mean absolute deviation into a Gaussian sigma; the
         * update is clipped so that one outlier moves the floor little. */
        d *= 1.2533;
        if (w->slow_scale > 0 && d > 4 * w->slow_scale)
            d = 4 * w->slow_scale;
        /* An exact repeat says nothing about the spread (a stuck sensor
         * must not shrink the floor its recovery is judged against). */
        if (x != w->vals[(w->head + AD_ROBUST_SHORT - 1) % AD_ROBUST_SHORT])
            w->slow_scale = w->slow_scale == 0 ? d
                                               : w->slow_scale + SLOW_ALPHA * (d - w->slow_scale);
    }
    dsort_put(w->vsorted, di, dat, x);
    w->vals[w->head] = x;
    w->head = (w->head + 1) % AD_ROBUST_SHORT;
    if (w->n < AD_ROBUST_SHORT)
        w->n++;
}

void ad_robust_win_shift(struct ad_robust_win *w, double delta, uint64_t keep)
{
    for (uint64_t k = keep; k < w->n; k++) {
        uint64_t i = (w->head + AD_ROBUST_SHORT - 1 - k) % AD_ROBUST_SHORT;
        double old = w->vals[i];
        w->vals[i] += delta;
        dsort_replace(w->vsorted, (size_t)w->n, &old, w->vals[i]);
    }
}

/* Whether sorted[0..n) is ring[0..n) in ascending order (a restore check). */
#define SORTED_CHECK(T, name)                                                                      \
    static bool name##_matches(const T *ring, const T *sorted, size_t n)                           \
    {                                                                                              \
        T tmp[MAX_WINDOW];                                                                         \
        for (size_t i = 0; i < n; i++) {                                                           \
            if (!(fabs((double)ring[i]) <= AD_DETECT_STATE_MAX) ||                                 \
                (i > 0 && !(sorted[i - 1] <= sorted[i])))                                          \
                return false;                                                                      \
            tmp[i] = ring[i];                                                                      \
        }                                                                                          \
        for (size_t i = 1; i < n; i++)                                                             \
            for (size_t j = i; j > 0 && tmp[j - 1] > tmp[j]; j--) {                                \
                T t = tmp[j];                                                                      \
                tmp[j] = tmp[j - 1];                                                               \
                tmp[j - 1] = t;                                                                    \
            }                                                                                      \
        return n == 0 || memcmp(tmp, sorted, n * sizeof(T)) == 0;                                  \
    }
SORTED_CHECK(double, dsort)
SORTED_CHECK(float, fsort)

size_t ad_robust_win_segs(uint32_t window, struct ad_detect_seg *s, size_t n, size_t max)
{
    n = ad_detect_seg_add(s, n, max, 0, (uint32_t)(sizeof(struct ad_robust_win) / 8), 8);
    return ad_detect_seg_add(s, n, max, sizeof(struct ad_robust_win), 2 * window, 4);
}

bool ad_robust_win_valid(const struct ad_robust_win *w, uint32_t window)
{
    return w->n <= AD_ROBUST_SHORT && w->head < AD_ROBUST_SHORT &&
           (w->n == AD_ROBUST_SHORT || w->head == w->n) && w->rn <= window && w->rhead < window &&
           (w->rn == window || w->rhead == w->rn) && isfinite(w->slow_scale) && isfinite(w->q99) &&
           w->q99 >= 0.5 && w->slow_scale >= 0 &&
           dsort_matches(w->vals, w->vsorted, (size_t)w->n) &&
           fsort_matches(resid(w, window), rsorted(w, window), (size_t)w->rn);
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
                   void *scratch, struct ad_detect_result *out)
{
    struct ad_robust_win *w = state;
    double med = 0, sig, thr = p->robust.threshold;
    bool ok = ad_robust_win_stats(w, p->robust.window, &med, &sig);
    (void)t_us;
    (void)scratch;

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
    .name = "robust",
    .id = AD_DET_ROBUST,
    .version = 1,
    .check = r_check,
    .size = r_size,
    .init = r_init,
    .step = r_step,
    .segs = r_segs,
    .valid = r_valid,
};
