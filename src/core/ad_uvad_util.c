/* ad_uvad_util.c - statistics, smoothing and trend fitting for the univariate
 * detector (ad_uvad_int.h). Double precision throughout. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ad_err.h"
#include "ad_fft.h"
#include "ad_uvad_int.h"

double ad_uv_mean(const double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s / (double)n;
}

double ad_uv_var(const double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    double m = ad_uv_mean(v, n), s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (v[i] - m) * (v[i] - m);
    return s / (double)n;
}

double ad_uv_std(const double *v, size_t n)
{
    return sqrt(ad_uv_var(v, n));
}

/* Rearranges a so that a[k] is the k-th smallest, smaller ones before it and
 * larger ones after it (Hoare's selection with a median-of-three pivot). */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) {
            double t = a[mid];
            a[mid] = a[lo];
            a[lo] = t;
        }
        if (a[hi] < a[lo]) {
            double t = a[hi];
            a[hi] = a[lo];
            a[lo] = t;
        }
        if (a[hi] < a[mid]) {
            double t = a[hi];
            a[hi] = a[mid];
            a[mid] = t;
        }
        double pivot = a[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return a[k];
}

/* Median of a (reordered in place). */
static double median_inplace(double *a, size_t n)
{
    if (n == 0)
        return 0.0;
    size_t k = n / 2;
    if (n % 2)
        return select_kth(a, n, k);
    double lo = select_kth(a, n, k - 1), hi = a[k];
    for (size_t i = k; i < n; i++)
        if (a[i] < hi)
            hi = a[i];
    return (lo + hi) / 2.0;
}

double ad_uv_median(const double *v, size_t n, double *tmp)
{
    memcpy(tmp, v, n * sizeof(*v));
    return median_inplace(tmp, n);
}

/* The median of v from a bracket [lo, hi] believed to hold it: one
 * branch-free pass counts the values below and keeps those inside (in tmp),
 * where the wanted ranks are selected. Returns false, knowing nothing, when
 * the bracket missed them, when a NaN showed, or when the answer involves
 * a zero (which of +0 and -0 a selection lands on is the plain path's
 * business). Exact otherwise: the value median_inplace() finds. */
static bool median_bracketed(const double *v, size_t n, double lo, double hi, double *tmp,
                             double *out)
{
    size_t below = 0, above = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        double t = v[i];
        below += t < lo;
        above += t > hi;
        tmp[c] = t;
        c += (t >= lo) & (t <= hi);
    }
    bool even = n % 2 == 0;
    size_t k = even ? n / 2 - 1 : n / 2; /* and k + 1 when even */
    if (below + c + above != n || k < below || k + even >= below + c)
        return false;
    size_t r = k - below;
    double x1 = select_kth(tmp, c, r), x2 = x1;
    if (even) {
        x2 = tmp[r + 1];
        for (size_t i = r + 2; i < c; i++)
            x2 = tmp[i] < x2 ? tmp[i] : x2;
    }
    if (x1 == 0.0 || x2 == 0.0)
        return false;
    *out = even ? (x1 + x2) / 2.0 : x1;
    return true;
}

double ad_uv_median_near(const double *v, size_t n, double guess, double *tmp)
{
    double m;
    if (n >= 64 && guess > 0.0 && isfinite(guess) &&
        median_bracketed(v, n, guess * 0.9, guess * 1.12, tmp, &m))
        return m;
    return ad_uv_median(v, n, tmp);
}

double ad_uv_mad(const double *v, size_t n, double *tmp)
{
    double med = ad_uv_median(v, n, tmp);
    for (size_t i = 0; i < n; i++)
        tmp[i] = fabs(v[i] - med);
    return median_inplace(tmp, n) / 0.6744897501960817;
}

bool ad_uv_isclose(double a, double b)
{
    return fabs(a - b) <= 1e-8 + 1e-5 * fabs(b);
}

void ad_uv_normalize(double *v, size_t n)
{
    if (n == 0)
        return;
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        if (v[i] < lo)
            lo = v[i];
        if (v[i] > hi)
            hi = v[i];
    }
    if (lo == hi)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = (v[i] - lo) / (hi - lo);
}

void ad_uv_average_filter(const double *v, size_t n, size_t w, bool fill_to_n, double *out)
{
    size_t full = w;
    if (w >= n)
        w = n;
    if (n == 0 || w == 0)
        return;
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        acc += v[i];
        if (i >= w)
            acc -= v[i - w];
        if (i >= w || i == 0) {
            out[i] = i >= w ? acc / (double)w : acc;
            continue;
        }
        if (i == w - 1 && !fill_to_n) {
            out[i] = acc / (double)w;
            continue;
        }
        if (fill_to_n)
            out[i] = (acc + ((acc - v[i]) / (double)i) * (double)(full - i - 1)) / (double)full;
        else
            out[i] = acc / (double)(i + 1);
    }
}

void ad_uv_interp_nan(double *v, size_t n)
{
    size_t prev = n; /* index of the last finite value seen */
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        if (prev == n) {
            for (size_t j = 0; j < i; j++)
                v[j] = v[i];
        } else if (i > prev + 1) {
            double a = v[prev], b = v[i];
            for (size_t j = prev + 1; j < i; j++)
                v[j] = a + (b - a) * (double)(j - prev) / (double)(i - prev);
        }
        prev = i;
    }
    if (prev == n) {
        for (size_t j = 0; j < n; j++)
            v[j] = 0.0;
        return;
    }
    for (size_t j = prev + 1; j < n; j++)
        v[j] = v[prev];
}

void ad_uv_smooth_spikes(double *v, size_t n)
{
    double sd = ad_uv_std(v, n) + 1e-8, m = ad_uv_mean(v, n);
    bool any = false;
    for (size_t i = 0; i < n; i++)
        if (fabs(v[i] - m) / sd >= 3.0) {
            v[i] = NAN;
            any = true;
        }
    if (any)
        ad_uv_interp_nan(v, n);
}

/* Order-preserving 64-bit key of a double (negative values reversed). */
static uint64_t dkey(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof(b));
    return (b >> 63) ? ~b : b | (UINT64_C(1) << 63);
}

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)

/* Ranks k and, with pair, k + 1 (0-based) of a[0..m) by most significant
 * digit radix selection on dkey(), 11 bits per level: a histogram picks the
 * bucket holding rank k and the array is compacted to it; when rank k + 1
 * starts the next non-empty bucket, its value is that bucket's minimum.
 * Destroys a. Exact: the values a sort would put there. */
static void radix_select(double *a, size_t m, size_t k, bool pair, double *x1, double *x2)
{
    static const int shifts[] = {53, 42, 31, 20, 9, 0};
    uint32_t cnt[RADIX_SIZE];
    bool have2 = !pair;
    *x2 = 0.0;
    for (size_t level = 0; level < sizeof(shifts) / sizeof(shifts[0]) && m > 1; level++) {
        int sh = shifts[level];
        uint64_t mask = sh == 0 ? 0x1ff : RADIX_SIZE - 1;
        memset(cnt, 0, sizeof(cnt));
        for (size_t i = 0; i < m; i++)
            cnt[(dkey(a[i]) >> sh) & mask]++;
        size_t b = 0, before = 0;
        while (before + cnt[b] <= k)
            before += cnt[b++];
        if (!have2 && before + cnt[b] == k + 1) {
            size_t b2 = b + 1;
            while (cnt[b2] == 0)
                b2++;
            double mn = INFINITY;
            for (size_t i = 0; i < m; i++)
                if (((dkey(a[i]) >> sh) & mask) == b2 && a[i] < mn)
                    mn = a[i];
            *x2 = mn;
            have2 = true;
        }
        if (cnt[b] == m) /* this digit does not tell them apart */
            continue;
        size_t c = 0;
        for (size_t i = 0; i < m; i++)
            if (((dkey(a[i]) >> sh) & mask) == b)
                a[c++] = a[i];
        m = c;
        k -= before;
    }
    /* one value left, or every key (so every value) equal */
    *x1 = a[k < m ? k : 0];
    if (!have2)
        *x2 = *x1;
}

#define THEIL_SAMPLE 2048 /* pairs sampled to bracket the median slope */

#if defined(__GNUC__) || defined(__clang__)
#define THEIL_LANES 1
typedef double theil_lanes __attribute__((vector_size(2 * sizeof(double))));
#else
#define THEIL_LANES 0
#endif

/* Brackets ranks k and k + 1 of the m pairwise slopes of v by the slopes of
 * THEIL_SAMPLE pairs drawn with a fixed generator: *lo and *hi such that the
 * ranks most likely lie between them (the caller checks). Two selections,
 * not a sort: only the sample's ranks at either edge of the bracket matter. */
static void theil_bracket(const double *v, size_t n, size_t m, size_t k, double *lo, double *hi)
{
    double smp[THEIL_SAMPLE];
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    for (size_t s = 0; s < THEIL_SAMPLE; s++) {
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        size_t i = (size_t)(x >> 33) % n;
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        size_t j = (size_t)(x >> 33) % (n - 1);
        j += j >= i; /* a second, different point */
        if (j < i) {
            size_t t = i;
            i = j;
            j = t;
        }
        smp[s] = (v[j] - v[i]) / (double)(j - i);
    }
    /* rank k of m sits near rank k * S / m of the sample; +-4 standard
     * deviations of a sample quantile (sqrt(S) / 2 at most) either side */
    double at = (double)k / (double)m * THEIL_SAMPLE, margin = 4.0 * 23.0 + 2.0;
    long a = (long)(at - margin), b = (long)(at + margin) + 1;
    *lo = -INFINITY;
    *hi = INFINITY;
    size_t from = 0;
    if (a > 0) {
        *lo = select_kth(smp, THEIL_SAMPLE, (size_t)a);
        from = (size_t)a + 1; /* select_kth left only larger-or-equal values after a */
    }
    if (b < THEIL_SAMPLE)
        *hi = select_kth(smp + from, THEIL_SAMPLE - from, (size_t)b - from);
}

/* Ranks k and, with pair, k + 1 of the pairwise slopes of v (m of them)
 * from those within a sampled bracket, kept in tmp: one pass over the pairs
 * instead of storing and selecting all of them. Returns false when the
 * bracket missed (then nothing is known). Exact: the values a sort of all
 * slopes would put at those ranks. */
static bool theil_bracketed(const double *v, size_t n, size_t m, size_t k, bool pair, double *tmp,
                            double *x1, double *x2)
{
    double lo, hi;
    theil_bracket(v, n, m, k, &lo, &hi);
    /* branch-free: which side of the bracket a slope falls on is a coin
     * toss, so a branch would be mispredicted about half of the time; the
     * store is unconditional and only kept (c advanced) inside the bracket */
    size_t below = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        const double vi = v[i];
        size_t j = i + 1;
#if THEIL_LANES
        /* two slopes per division instruction: the same IEEE quotient in
         * each lane (the divisions bound this loop) */
        const theil_lanes vv = {vi, vi};
        for (; j + 1 < n; j += 2) {
            const theil_lanes num = (theil_lanes){v[j], v[j + 1]} - vv;
            const theil_lanes den = {(double)(j - i), (double)(j + 1 - i)};
            const theil_lanes sl = num / den;
            below += sl[0] < lo;
            tmp[c] = sl[0];
            c += (sl[0] >= lo) & (sl[0] <= hi);
            below += sl[1] < lo;
            tmp[c] = sl[1];
            c += (sl[1] >= lo) & (sl[1] <= hi);
        }
#endif
        for (; j < n; j++) {
            double sl = (v[j] - vi) / (double)(j - i);
            below += sl < lo;
            tmp[c] = sl;
            c += (sl >= lo) & (sl <= hi);
        }
    }
    if (k < below || k + (pair ? 1 : 0) >= below + c)
        return false;
    radix_select(tmp, c, k - below, pair, x1, x2);
    return true;
}

double ad_uv_theil_slope(const double *v, size_t n, double *tmp)
{
    size_t m = n * (n - 1) / 2;
    if (m >= 4096) {
        size_t k = m % 2 ? m / 2 : m / 2 - 1;
        double x1, x2;
        if (theil_bracketed(v, n, m, k, m % 2 == 0, tmp, &x1, &x2))
            return m % 2 ? x1 : (x1 + x2) / 2.0;
    }
    m = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            tmp[m++] = (v[j] - v[i]) / (double)(j - i);
    if (m < 4096)
        return m ? median_inplace(tmp, m) : 0.0;
    double x1, x2;
    radix_select(tmp, m, m % 2 ? m / 2 : m / 2 - 1, m % 2 == 0, &x1, &x2);
    return m % 2 ? x1 : (x1 + x2) / 2.0;
}

/* A sorted window of doubles: insert and remove by binary search. */
static size_t lower_bound(const double *a, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void sorted_insert(double *a, size_t *n, double x)
{
    size_t at = lower_bound(a, *n, x);
    memmove(a + at + 1, a + at, (*n - at) * sizeof(double));
    a[at] = x;
    (*n)++;
}

static void sorted_remove(double *a, size_t *n, double x)
{
    size_t at = lower_bound(a, *n, x);
    memmove(a + at, a + at + 1, (*n - at - 1) * sizeof(double));
    (*n)--;
}

void ad_uv_median_filter(const double *v, size_t n, size_t w, bool ends, double *out, double *tmp)
{
    size_t half = w / 2, cnt = 0, lo = 0, hi = 0; /* tmp holds v[lo..hi) sorted */
    for (size_t i = 0; i < n; i++) {
        size_t want_lo = i >= half ? i - half : 0, want_hi = i + half + 1 < n ? i + half + 1 : n;
        bool inside = i >= half && i + half < n;
        if (!inside && !ends) {
            out[i] = v[i];
            continue;
        }
        while (hi < want_hi)
            sorted_insert(tmp, &cnt, v[hi++]);
        while (lo < want_lo)
            sorted_remove(tmp, &cnt, v[lo++]);
        out[i] = cnt % 2 ? tmp[cnt / 2] : (tmp[cnt / 2 - 1] + tmp[cnt / 2]) / 2.0;
    }
}

int ad_uv_aglet(const double *src, size_t n, size_t w, double *dst)
{
    if (w > n)
        w = n;
    if (dst != src)
        memcpy(dst, src, n * sizeof(*src));
    size_t half = w / 2;
    if (half == 0)
        return 0;
    double *tmp = ad_malloc((w * (w - 1) / 2 + 1) * sizeof(double));
    if (!tmp)
        return AD_ENOMEM;
    double left = ad_uv_theil_slope(src, w, tmp);
    double right = ad_uv_theil_slope(src + n - w, w, tmp);
    double l0 = src[half], r0 = src[n - half - 1];
    ad_free(tmp);
    for (size_t k = 0; k < half; k++) {
        dst[k] = -(double)(half - k) * left + l0;
        dst[n - half + k] = (double)(k + 1) * right + r0;
    }
    return 0;
}

/* The 4 non-zero cubic B-spline basis values at x, for the clamped knot
 * vector t (nt knots); returns the index of the first of them. */
static size_t bspline_basis(const double *t, size_t nt, double x, double b[4])
{
    size_t span = 3;
    while (span + 1 < nt - 4 && x >= t[span + 1])
        span++;
    double left[4], right[4];
    b[0] = 1.0;
    for (size_t j = 1; j <= 3; j++) {
        left[j] = x - t[span + 1 - j];
        right[j] = t[span + j] - x;
        double saved = 0.0;
        for (size_t r = 0; r < j; r++) {
            double den = right[r + 1] + left[j - r];
            double tmp = den != 0.0 ? b[r] / den : 0.0;
            b[r] = saved + right[r + 1] * tmp;
            saved = left[j - r] * tmp;
        }
        b[j] = saved;
    }
    return span - 3;
}

/* Solves the banded (half-bandwidth 3) symmetric positive system A x = y in
 * place: a is m rows of 4 (a[i][d] = A[i][i-d]). Returns 0 or AD_ERANGE. */
static int band_cholesky_solve(double (*a)[4], double *y, size_t m)
{
    for (size_t i = 0; i < m; i++) {
        for (size_t d = 3; d >= 1; d--) {
            if (d > i)
                continue;
            size_t j = i - d;
            double s = a[i][d];
            for (size_t k = d + 1; k <= 3 && k <= i; k++)
                if (k - d <= 3 && j >= k - d)
                    s -= a[i][k] * a[j][k - d];
            a[i][d] = s / a[j][0];
        }
        double s = a[i][0];
        for (size_t k = 1; k <= 3 && k <= i; k++)
            s -= a[i][k] * a[i][k];
        if (!(s > 0.0))
            return AD_ERANGE;
        a[i][0] = sqrt(s);
    }
    for (size_t i = 0; i < m; i++) {
        double s = y[i];
        for (size_t k = 1; k <= 3 && k <= i; k++)
            s -= a[i][k] * y[i - k];
        y[i] = s / a[i][0];
    }
    for (size_t i = m; i-- > 0;) {
        double s = y[i];
        for (size_t k = 1; k <= 3 && i + k < m; k++)
            s -= a[i + k][k] * y[i + k];
        y[i] = s / a[i][0];
    }
    return 0;
}

int ad_uv_spline_fit(const double *v, size_t n, size_t nsegs, double *out)
{
    size_t nknots = nsegs + 1 < 2 ? 2 : nsegs + 1;
    size_t interior = nknots - 1; /* linspace(0, n-1, nknots+2)[1:-2] */
    size_t nt = interior + 8, m = interior + 4;
    if (n < m + 1) {
        double mu = ad_uv_mean(v, n);
        for (size_t i = 0; i < n; i++)
            out[i] = mu;
        return 0;
    }
    double *t = ad_malloc(nt * sizeof(double)), *y = ad_calloc(m, sizeof(double));
    double(*a)[4] = ad_calloc(m, sizeof(*a));
    int rc = AD_ENOMEM;
    if (!t || !y || !a)
        goto err;
    double last = (double)(n - 1);
    for (size_t k = 0; k < 4; k++) {
        t[k] = 0.0;
        t[nt - 1 - k] = last;
    }
    for (size_t k = 0; k < interior; k++)
        t[4 + k] = last * (double)(k + 1) / (double)(nknots + 1);
    for (size_t i = 0; i < n; i++) {
        double b[4];
        size_t s = bspline_basis(t, nt, (double)i, b);
        for (size_t p = 0; p < 4; p++) {
            y[s + p] += b[p] * v[i];
            for (size_t q = 0; q <= p; q++)
                a[s + p][p - q] += b[p] * b[q];
        }
    }
    rc = band_cholesky_solve(a, y, m);
    if (rc != 0)
        goto err;
    for (size_t i = 0; i < n; i++) {
        double b[4];
        size_t s = bspline_basis(t, nt, (double)i, b);
        out[i] = b[0] * y[s] + b[1] * y[s + 1] + b[2] * y[s + 2] + b[3] * y[s + 3];
    }
err:
    ad_free(t);
    ad_free(y);
    ad_free(a);
    return rc;
}

/* The period a trend window is derived from when none is given: the
 * power-weighted mean of the periodogram peaks left after a broad median
 * trend is removed (the `seasonal` package's guess). */
static int guess_trended_period(const double *v, size_t n, int *out)
{
    size_t maxp = n / 3 < 512 ? n / 3 : 512;
    size_t w = 2 * maxp - 1;
    double *broad = ad_malloc(n * sizeof(double)), *tmp = ad_malloc((w + 1) * sizeof(double));
    struct ad_uv_peak peaks[64];
    int rc = AD_ENOMEM;
    if (!broad || !tmp)
        goto err;
    ad_uv_median_filter(v, n, w, false, broad, tmp);
    if ((rc = ad_uv_aglet(broad, n, w, broad)) != 0)
        goto err;
    for (size_t i = 0; i < n; i++)
        broad[i] = v[i] - broad[i];
    int np = ad_uv_periodogram_peaks(broad, n, 0.9, peaks, 64);
    if (np < 0) {
        rc = np;
        goto err;
    }
    *out = (int)maxp;
    double sw = 0.0, sp = 0.0;
    for (int i = 0; i < np; i++) {
        sw += peaks[i].power;
        sp += peaks[i].power * peaks[i].period;
    }
    if (np > 0 && sw != 0.0)
        *out = (int)nearbyint(sp / sw);
    rc = 0;
err:
    ad_free(broad);
    ad_free(tmp);
    return rc;
}

int ad_uv_trend(const double *v, size_t n, int period, double *out)
{
    if (n < 6) {
        double mu = ad_uv_mean(v, n);
        for (size_t i = 0; i < n; i++)
            out[i] = mu;
        return 0;
    }
    int rc;
    if (period < 0 && (rc = guess_trended_period(v, n, &period)) != 0)
        return rc;
    size_t w;
    if (period <= 1)
        w = n / 3 < 512 ? n / 3 : 512;
    else
        w = 2 * (size_t)period - 1;
    if (w < 1)
        w = 1;
    size_t nsegs = n / (w * 2) + 1;
    if ((rc = ad_uv_spline_fit(v, n, nsegs, out)) != 0)
        return rc;
    return ad_uv_aglet(out, n, w, out);
}

int ad_uv_cubic_interp(const int64_t *x, const double *y, size_t n, double *out)
{
    if (n < 4)
        return AD_EINVAL;
    size_t m = n - 2; /* unknown second derivatives M[1..n-2] */
    double *h = ad_malloc((n - 1) * sizeof(double)), *M = ad_calloc(n, sizeof(double));
    double *cp = ad_malloc(m * sizeof(double)), *dp = ad_malloc(m * sizeof(double));
    int rc = AD_ENOMEM;
    if (!h || !M || !cp || !dp)
        goto err;
    for (size_t i = 0; i + 1 < n; i++)
        h[i] = (double)(x[i + 1] - x[i]);
    /* Thomas algorithm on rows 1..n-2; the first and last rows absorb the
     * not-a-knot conditions (M[0] and M[n-1] written through M[1], M[2] and
     * M[n-2], M[n-3]). */
    for (size_t i = 1; i <= m; i++) {
        double a = h[i - 1], b = 2.0 * (h[i - 1] + h[i]), c = h[i];
        double r = 6.0 * ((y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1]);
        if (i == 1) {
            b += h[0] * (h[0] + h[1]) / h[1];
            c -= h[0] * h[0] / h[1];
            a = 0.0;
        }
        if (i == m) {
            a -= h[m] * h[m] / h[m - 1];
            b += h[m] * (h[m - 1] + h[m]) / h[m - 1];
            c = 0.0;
        }
        double den = b - (i > 1 ? a * cp[i - 2] : 0.0);
        cp[i - 1] = c / den;
        dp[i - 1] = (r - (i > 1 ? a * dp[i - 2] : 0.0)) / den;
    }
    for (size_t i = m; i >= 1; i--)
        M[i] = dp[i - 1] - (i < m ? cp[i - 1] * M[i + 1] : 0.0);
    M[0] = ((h[0] + h[1]) * M[1] - h[0] * M[2]) / h[1];
    M[n - 1] = ((h[m] + h[m - 1]) * M[m] - h[m] * M[m - 1]) / h[m - 1];
    for (size_t j = 0; j + 1 < n; j++) {
        double hj = h[j];
        for (int64_t k = x[j]; k < x[j + 1]; k++) {
            double u = (double)(x[j + 1] - k), t = (double)(k - x[j]);
            out[k] = M[j] * u * u * u / (6.0 * hj) + M[j + 1] * t * t * t / (6.0 * hj) +
                     (y[j] / hj - M[j] * hj / 6.0) * u + (y[j + 1] / hj - M[j + 1] * hj / 6.0) * t;
        }
    }
    out[x[n - 1]] = y[n - 1];
    rc = 0;
err:
    ad_free(h);
    ad_free(M);
    ad_free(cp);
    ad_free(dp);
    return rc;
}

/* ln of the complete beta function B(a, b). */
static double lbeta(double a, double b)
{
    return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* Continued fraction of the regularized incomplete beta (modified Lentz). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        d = fabs(d) < tiny ? 1.0 / tiny : 1.0 / d;
        c = fabs(c) < tiny ? tiny : c;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        d = fabs(d) < tiny ? 1.0 / tiny : 1.0 / d;
        c = fabs(c) < tiny ? tiny : c;
        double step = d * c;
        h *= step;
        if (fabs(step - 1.0) < 1e-15)
            break;
    }
    return h;
}

/* Regularized incomplete beta I_x(a, b). */
static double inc_beta(double a, double b, double x)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    double front = exp(a * log(x) + b * log1p(-x) - lbeta(a, b));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * beta_cf(a, b, x) / a;
    return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

/* Upper tail P(T > t) of Student's t, t >= 0. */
static double t_sf(double t, double df)
{
    return 0.5 * inc_beta(df / 2.0, 0.5, df / (df + t * t));
}

/* Upper-tail quantile of the standard normal: a rational start (Abramowitz
 * & Stegun 26.2.23, error < 4.5e-4) polished by Newton steps on erfc. */
static double norm_isf(double q)
{
    double r = sqrt(-2.0 * log(q < 0.5 ? q : 1.0 - q));
    double z = r - (2.515517 + 0.802853 * r + 0.010328 * r * r) /
                       (1.0 + 1.432788 * r + 0.189269 * r * r + 0.001308 * r * r * r);
    if (q > 0.5)
        z = -z;
    for (int i = 0; i < 3; i++) {
        double f = 0.5 * erfc(z / sqrt(2.0)) - q;
        double pdf = exp(-0.5 * z * z) / sqrt(2.0 * 3.14159265358979323846);
        if (pdf <= 0.0)
            break;
        z += f / pdf;
    }
    return z;
}

/* Cornish-Fisher start for the t quantile from the normal one. */
static double t_start(double z, double df)
{
    double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
    return z + (z3 + z) / (4.0 * df) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df) +
           (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df * df * df) +
           (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) /
               (92160.0 * df * df * df * df);
}

double ad_uv_t_ppf(double p, double df)
{
    if (!(p > 0.0 && p < 1.0) || !(df > 0.0))
        return NAN;
    if (p < 0.5)
        return -ad_uv_t_ppf(1.0 - p, df);
    double q = 1.0 - p; /* wanted upper tail */
    if (q == 0.5)
        return 0.0;
    double lo = 0.0, hi = 1.0;
    while (t_sf(hi, df) > q && hi < 1e300)
        hi *= 2.0;
    double t = df >= 3.0 ? t_start(norm_isf(q), df) : hi / 2.0;
    if (!(t > lo && t < hi))
        t = hi / 2.0;
    double lpdf0 = lgamma((df + 1.0) / 2.0) - lgamma(df / 2.0) -
                   0.5 * log(df * 3.14159265358979323846);
    for (int it = 0; it < 200; it++) {
        double f = t_sf(t, df) - q; /* decreasing in t */
        if (f > 0.0)
            lo = t;
        else
            hi = t;
        double pdf = exp(lpdf0 - (df + 1.0) / 2.0 * log1p(t * t / df));
        double next = pdf > 0.0 ? t + f / pdf : (lo + hi) / 2.0;
        if (!(next > lo && next < hi))
            next = (lo + hi) / 2.0;
        if (fabs(next - t) <= 1e-13 * (1.0 + fabs(t)))
            return next;
        t = next;
    }
    return t;
}

double ad_uv_esd_critical(int i, double alpha, size_t n)
{
    double nn = (double)n, ii = (double)i;
    double p = 1.0 - alpha / (2.0 * (nn - ii + 1.0));
    double df = nn - ii - 1.0;
    if (df < 1.0)
        return INFINITY;
    double t = ad_uv_t_ppf(p, df);
    return (nn - ii) * t / sqrt((df + t * t) * (nn - ii + 1.0));
}

double ad_uv_esd_critical_floor(int i, double alpha, size_t n)
{
    double nn = (double)n, ii = (double)i;
    double q = alpha / (2.0 * (nn - ii + 1.0)), df = nn - ii - 1.0;
    if (df < 1.0)
        return INFINITY;
    /* Abramowitz & Stegun 26.2.23 (error < 4.5e-4) minus its error bound:
     * below the normal quantile, itself below the t quantile */
    double r = sqrt(-2.0 * log(q));
    double z = r - (2.515517 + 0.802853 * r + 0.010328 * r * r) /
                       (1.0 + 1.432788 * r + 0.189269 * r * r + 0.001308 * r * r * r);
    z = fmax(z - 5e-4, 0.0);
    return (nn - ii) * z / sqrt((df + z * z) * (nn - ii + 1.0));
}

double ad_uv_gcv(const double *v, size_t n, int period, double *seasons)
{
    size_t p = (size_t)period;
    double *sum = ad_calloc(3 * p, sizeof(double));
    if (!sum)
        return -1.0;
    double *sum2 = sum + p, *cnt = sum2 + p;
    for (size_t i = 0; i < n; i++) {
        size_t k = i % p;
        sum[k] += v[i];
        sum2[k] += v[i] * v[i];
        cnt[k] += 1.0;
    }
    double mse = 0.0;
    for (size_t k = 0; k < p; k++) {
        if (seasons)
            seasons[k] = cnt[k] > 0 ? sum[k] / cnt[k] : 0.0;
        if (cnt[k] > 1.0) {
            double r = cnt[k] / (cnt[k] - 1.0);
            mse += r * r * (sum2[k] - sum[k] * sum[k] / cnt[k]);
        }
    }
    ad_free(sum);
    mse /= (double)n;
    return ad_uv_isclose(mse, 0.0) ? 0.0 : mse;
}
