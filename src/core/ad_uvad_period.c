/* ad_uvad_period.c - period detection as the service does it: first the
 * periods a granularity usually has (a week of hours, a day of minutes...),
 * accepted when period-over-period means explain enough of the variance;
 * then the spectrum: Welch periodogram peaks, the best candidate by
 * leave-one-out error, confirmed on the series subsampled at that period. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_fft.h"
#include "ad_uvad_int.h"

#define PERIOD_THRESH 0.9 /* periodogram peaks within 90 % of the strongest */
#define PERIOD_MIN_EV 0.2 /* explained variance a spectral period needs */

/* Welch's averaged spectrum (Hann window, half overlap, per-segment mean
 * removed) of v, into pw[0..seg/2]. Returns 0 or AD_ENOMEM. */
static int welch(const double *v, size_t n, size_t seg, double *pw)
{
    size_t step = seg - seg / 2, nb = seg / 2 + 1;
    double *re = ad_malloc(seg * sizeof(double)), *im = ad_malloc(seg * sizeof(double));
    double *w = ad_malloc(seg * sizeof(double));
    double *scratch = ad_malloc(ad_fft_scratch_bytes(seg));
    int rc = AD_ENOMEM;
    if (!re || !im || !w || !scratch)
        goto err;
    double wsum = 0.0;
    for (size_t k = 0; k < seg; k++) {
        w[k] = 0.5 - 0.5 * cos(2.0 * 3.14159265358979323846 * (double)k / (double)seg);
        wsum += w[k];
    }
    for (size_t k = 0; k < nb; k++)
        pw[k] = 0.0;
    size_t nseg = 0;
    for (size_t s = 0; s + seg <= n; s += step, nseg++) {
        double mu = ad_uv_mean(v + s, seg);
        for (size_t k = 0; k < seg; k++) {
            re[k] = (v[s + k] - mu) * w[k];
            im[k] = 0.0;
        }
        if ((rc = ad_fft_scratch(re, im, seg, 0, scratch)) != 0)
            goto err;
        for (size_t k = 0; k < nb; k++) {
            double p = (re[k] * re[k] + im[k] * im[k]) / (wsum * wsum);
            bool nyquist = seg % 2 == 0 && k == seg / 2;
            pw[k] += (k == 0 || nyquist) ? p : 2.0 * p;
        }
    }
    for (size_t k = 0; k < nb && nseg; k++)
        pw[k] /= (double)nseg;
    rc = 0;
err:
    ad_free(re);
    ad_free(im);
    ad_free(w);
    ad_free(scratch);
    return rc;
}

int ad_uv_periodogram_peaks(const double *v, size_t n, double thresh, struct ad_uv_peak *peaks,
                            int cap)
{
    size_t maxp = (size_t)fmin((double)n / 3.0, 512.0);
    size_t seg = 2 * maxp < n / 2 ? 2 * maxp : n / 2;
    if (seg < 4 || maxp < 1)
        return 0;
    size_t nb = seg / 2 + 1;
    double *pw = ad_malloc(nb * sizeof(double));
    int *per = ad_malloc(nb * sizeof(int));
    int rc = AD_ENOMEM, count = 0;
    if (!pw || !per)
        goto err;
    if ((rc = welch(v, n, seg, pw)) != 0)
        goto err;
    /* bins 1.. as integer periods (descending), equal neighbours merged */
    size_t m = 0;
    for (size_t k = 1; k < nb; k++) {
        int p = (int)nearbyint((double)seg / (double)k);
        if (m > 0 && per[m - 1] == p) {
            if (fabs(pw[k]) > fabs(pw[m - 1]))
                pw[m - 1] = pw[k];
            continue;
        }
        per[m] = p;
        pw[m++] = pw[k];
    }
    size_t ge = 0, lt = 0;
    for (size_t i = 0; i < m; i++) {
        if (per[i] == (int)seg)
            pw[i] = 0.0;
        ge += per[i] >= (int)maxp;
        lt += per[i] < AD_UV_MIN_PERIOD;
    }
    size_t lo = ge ? ge - 1 : 0, hi = m - lt;
    bool all_zero = true;
    for (size_t i = lo; i < hi; i++)
        all_zero = all_zero && ad_uv_isclose(pw[i], 0.0);
    rc = 0;
    if (hi <= lo || all_zero)
        goto err;
    double top = 0.0;
    for (size_t i = lo; i < hi; i++)
        top = fmax(top, fabs(pw[i]));
    double keep = top * thresh;
    while (count < cap) {
        size_t best = lo;
        for (size_t i = lo; i < hi; i++)
            if (fabs(pw[i]) > fabs(pw[best]))
                best = i;
        if (fabs(pw[best]) < keep || pw[best] == 0.0)
            break;
        peaks[count].period = per[best];
        peaks[count].power = pw[best];
        peaks[count].pmin = per[best + 1 < hi ? best + 1 : hi - 1];
        peaks[count].pmax = per[best > lo ? best - 1 : lo];
        count++;
        pw[best] = 0.0;
    }
err:
    ad_free(pw);
    ad_free(per);
    return rc ? rc : count;
}

static int cmp_peak(const void *a, const void *b)
{
    const struct ad_uv_peak *x = a, *y = b;
    if (x->period != y->period)
        return x->period < y->period ? -1 : 1;
    return x->power < y->power ? -1 : x->power > y->power;
}

/* One round of the spectral detector on v (modified: detrended in place).
 * Returns the period (0 = none) or a negative error. */
static int spectral_round(double *v, size_t n)
{
    if (n < 12)
        return 0;
    double *trend = ad_malloc(n * sizeof(double));
    if (!trend)
        return AD_ENOMEM;
    ad_uv_smooth_spikes(v, n);
    int rc = ad_uv_trend(v, n, -1, trend);
    for (size_t i = 0; rc == 0 && i < n; i++)
        v[i] -= trend[i];
    ad_free(trend);
    if (rc != 0)
        return rc;
    double var = ad_uv_var(v, n);
    if (ad_uv_isclose(var, 0.0))
        return 0;
    struct ad_uv_peak peaks[64];
    int np = ad_uv_periodogram_peaks(v, n, PERIOD_THRESH, peaks, 64);
    if (np <= 0)
        return np;
    qsort(peaks, (size_t)np, sizeof(peaks[0]), cmp_peak);
    double best_mse = INFINITY;
    int best = 0, next = 0;
    for (int i = 0; i < np; i++) {
        int from = peaks[i].pmin > next ? peaks[i].pmin : next;
        for (int p = from; p <= peaks[i].pmax; p++) {
            if (p < 2 || (size_t)p >= n)
                continue;
            double mse = ad_uv_gcv(v, n, p, NULL);
            if (mse < 0)
                return AD_ENOMEM;
            if (mse < best_mse) {
                best_mse = mse;
                best = p;
            }
        }
        next = peaks[i].pmax + 1;
    }
    if (best == 0)
        return 0;
    if (!(ad_uv_isclose(best_mse, 0.0) || 1.0 - best_mse / var >= PERIOD_MIN_EV))
        return 0;
    if ((double)n / best + 1.0 <= 3.0)
        return 0;
    return best;
}

/* The spectrum detector: a period, then periods of the subsampled series
 * multiply it while they are found. */
static int spectral_period(const double *v, size_t n)
{
    double *x = ad_malloc(n * sizeof(double)), *y = ad_malloc(n * sizeof(double));
    int period = 0;
    if (!x || !y) {
        period = AD_ENOMEM;
        goto out;
    }
    memcpy(x, v, n * sizeof(double));
    ad_uv_normalize(x, n);
    memcpy(y, x, n * sizeof(double));
    period = spectral_round(y, n);
    size_t len = n;
    for (int verified = period; verified > 0 && period > 0;) {
        size_t m = 0;
        for (size_t i = 0; i < len; i += (size_t)verified)
            x[m++] = x[i];
        len = m;
        memcpy(y, x, len * sizeof(double));
        verified = spectral_round(y, len);
        if (verified < 0) {
            period = verified;
            break;
        }
        if (verified > 0) {
            if ((long long)period * verified > (long long)n)
                break;
            period *= verified;
        }
    }
out:
    ad_free(x);
    ad_free(y);
    return period;
}

/* Candidate periods of a granularity, most likely first; returns the count. */
static int usual_periods(enum ad_uv_gran g, int ci, int out[3])
{
    switch (g) {
    case AD_UV_GRAN_DAILY:
        out[0] = 7;
        return 1;
    case AD_UV_GRAN_HOURLY:
        out[0] = 168 / ci;
        out[1] = 24 / ci;
        return 2;
    case AD_UV_GRAN_MINUTELY:
        out[0] = 1440 * 7 / ci;
        out[1] = 1440 / ci;
        out[2] = 1440 * 2 / ci;
        return 3;
    case AD_UV_GRAN_WEEKLY:
        out[0] = 12;
        out[1] = 4;
        return 2;
    case AD_UV_GRAN_MONTHLY:
        out[0] = 12;
        return 1;
    case AD_UV_GRAN_SECONDLY:
        out[0] = 86400 * 7 / ci;
        out[1] = 86400 / ci;
        out[2] = 86400 * 2 / ci;
        return 3;
    case AD_UV_GRAN_MICROSECOND:
        out[0] = 1000;
        return 1;
    default:
        return 0;
    }
}

static int standard_period(enum ad_uv_gran g, int ci)
{
    switch (g) {
    case AD_UV_GRAN_DAILY:
        return 7;
    case AD_UV_GRAN_HOURLY:
        return 168 / ci;
    case AD_UV_GRAN_MINUTELY:
        return 1440 * 7 / ci;
    case AD_UV_GRAN_WEEKLY:
        return 12;
    case AD_UV_GRAN_MONTHLY:
        return 12;
    case AD_UV_GRAN_SECONDLY:
        return 86400 * 7 / ci;
    default:
        return 0;
    }
}

/* Does the period-over-period fit explain more than the period's bar? */
static int explains(const double *v, size_t n, int p, bool detrended)
{
    double bar;
    if (p <= 24)
        bar = 0.35;
    else if (p <= 168)
        bar = detrended ? 0.65 : 0.15;
    else
        bar = detrended ? 0.7 : 0.1;
    double mse = ad_uv_gcv(v, n, p, NULL);
    if (mse < 0)
        return AD_ENOMEM;
    double fev = ad_uv_isclose(mse, 0.0) ? 1.0 : 1.0 - mse / ad_uv_var(v, n);
    return fev > bar;
}

/* The service's check of one usual period: on the spike-smoothed series,
 * else on the series minus a running median of that period. */
static int valid_usual_period(const double *v, size_t n, int p, double *a, double *b)
{
    memcpy(a, v, n * sizeof(double));
    ad_uv_normalize(a, n);
    memcpy(b, a, n * sizeof(double));
    ad_uv_smooth_spikes(b, n);
    if (ad_uv_isclose(ad_uv_var(b, n), 0.0))
        return 0;
    int rc = explains(b, n, p, false);
    if (rc != 0)
        return rc;
    double *tmp = ad_malloc(((size_t)p + 2) * sizeof(double));
    if (!tmp)
        return AD_ENOMEM;
    ad_uv_median_filter(a, n, (size_t)p, true, b, tmp);
    ad_free(tmp);
    for (size_t i = 0; i < n; i++)
        b[i] = a[i] - b[i];
    ad_uv_smooth_spikes(b, n);
    if (ad_uv_isclose(ad_uv_var(b, n), 0.0))
        return 0;
    return explains(b, n, p, true);
}

static int usual_period(const double *v, size_t n, enum ad_uv_gran g, int ci)
{
    int cand[3], nc = usual_periods(g, ci, cand), found = 0;
    double *a = ad_malloc(n * sizeof(double)), *b = ad_malloc(n * sizeof(double));
    if (!a || !b) {
        found = AD_ENOMEM;
        goto out;
    }
    for (int i = 0; i < nc && found == 0; i++) {
        int p = cand[i];
        if (n <= 2 * (size_t)(p > 0 ? p : 0) || p < AD_UV_MIN_PERIOD)
            continue;
        int ok = valid_usual_period(v, n, p, a, b);
        if (ok < 0) {
            found = ok;
            goto out;
        }
        if (ok)
            found = p;
    }
    if (found > 0) {
        int sp = standard_period(g, ci);
        if (sp > 0 && n > 2 * (size_t)sp && sp % found == 0)
            found = sp;
    }
out:
    ad_free(a);
    ad_free(b);
    return found;
}

int ad_uv_detect_period(const double *v, size_t n, enum ad_uv_gran g, int custom_interval)
{
    if (!v || n < 12)
        return 0;
    int ci = custom_interval > 0 ? custom_interval : 1;
    int p = usual_period(v, n, g, ci);
    if (p != 0)
        return p < 0 ? 0 : p;
    p = spectral_period(v, n);
    return p < 0 ? 0 : p;
}
