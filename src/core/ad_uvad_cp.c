/* ad_uvad_cp.c - change-point detection for /timeseries/changepoint/detect.
 * Our own algorithm (the service's was never published); docs/algorithm.md:
 *
 *   1. gaps are filled linearly; a seasonal component (period given, or
 *      detected as for anomalies) is removed with the same STL;
 *   2. the noise level sigma is estimated robustly from first differences
 *      (1.4826 * MAD(diff) / sqrt(2)), which a level shift barely moves;
 *   3. at every point t with w = stableTrendWindow points on both sides the
 *      means of [t - w, t) and [t, t + w) are compared:
 *      z = |mean_right - mean_left| / (sigma * sqrt(2 / w)), and the
 *      confidence is erf(z / sqrt(2)) (the two-sided normal probability that
 *      the shift is not noise);
 *   4. t is a change point when its confidence reaches the threshold and its
 *      z is the largest within w points either side (one point per shift). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ad_err.h"
#include "ad_uvad_int.h"

void ad_uv_cp_result_free(struct ad_uv_cp_result *r)
{
    if (!r)
        return;
    ad_free(r->is_change);
    ad_free(r->confidence);
    memset(r, 0, sizeof(*r));
}

/* Robust noise level of x from its first differences; when more than half
 * of them are equal (MAD 0) their standard deviation stands in. tmp: 2n
 * doubles. */
static double noise_sigma(const double *x, size_t n, double *tmp)
{
    for (size_t i = 0; i + 1 < n; i++)
        tmp[i] = x[i + 1] - x[i];
    double sd = ad_uv_std(tmp, n - 1);
    double mad = ad_uv_mad(tmp, n - 1, tmp + n);
    return (mad > 0.0 ? mad : sd) / sqrt(2.0);
}

/* z statistic of a mean shift at every position (0 where the windows do not
 * fit). cs: n + 1 prefix sums of x. */
static void shift_scores(const double *cs, size_t n, size_t w, double sigma, double *z)
{
    double scale = sigma * sqrt(2.0 / (double)w);
    for (size_t t = 0; t < n; t++) {
        z[t] = 0.0;
        if (t < w || t + w > n)
            continue;
        double left = (cs[t] - cs[t - w]) / (double)w;
        double right = (cs[t + w] - cs[t]) / (double)w;
        double d = fabs(right - left);
        if (scale > 0.0)
            z[t] = d / scale;
        else
            z[t] = d > 0.0 ? INFINITY : 0.0;
    }
}

/* Fills the grid linearly and removes the seasonal component. x: all
 * doubles (the grid length). Returns the period used, or a negative error. */
static int prepare(const struct ad_uv_cp_request *q, double *x, size_t all)
{
    if (q->index) {
        for (size_t j = 0; j + 1 < q->n; j++) {
            size_t a = (size_t)q->index[j], b = (size_t)q->index[j + 1];
            for (size_t k = a; k < b; k++)
                x[k] = q->values[j] +
                       (q->values[j + 1] - q->values[j]) * (double)(k - a) / (double)(b - a);
        }
        x[all - 1] = q->values[q->n - 1];
    } else {
        memcpy(x, q->values, all * sizeof(double));
    }
    int period = q->period >= 0 ? q->period
                                : ad_uv_detect_period(x, all, q->granularity, q->custom_interval);
    if (period < 2 || all < 2 * (size_t)period + 1)
        return period < 0 ? 0 : period;
    double *trend = ad_malloc(all * sizeof(double)), *season = ad_malloc(all * sizeof(double));
    int rc = AD_ENOMEM;
    if (trend && season && (rc = ad_uv_stl(x, all, (size_t)period, trend, season)) == 0)
        for (size_t i = 0; i < all; i++)
            x[i] -= season[i];
    ad_free(trend);
    ad_free(season);
    return rc ? rc : period;
}

static int alloc_cp(struct ad_uv_cp_result *r, size_t n)
{
    memset(r, 0, sizeof(*r));
    r->n = n;
    r->is_change = ad_calloc(n, 1);
    r->confidence = ad_calloc(n, sizeof(double));
    if (!r->is_change || !r->confidence) {
        ad_uv_cp_result_free(r);
        return AD_ENOMEM;
    }
    return 0;
}

int ad_uv_changepoint(const struct ad_uv_cp_request *q, struct ad_uv_cp_result *out,
                      struct ad_uv_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!q || !q->values || q->n < AD_UV_MIN_POINTS || q->n > AD_UV_MAX_POINTS ||
        q->stable_trend_window < 1 || !(q->threshold > 0.0 && q->threshold <= 1.0)) {
        if (err) {
            err->code = "InvalidModelArgument";
            snprintf(err->message, sizeof(err->message), "Invalid change-point request.");
        }
        return AD_EINVAL;
    }
    size_t all = q->index ? (size_t)q->index[q->n - 1] + 1 : q->n;
    if (all > AD_UV_MAX_FILLED) {
        if (err) {
            err->code = "InvalidSeries";
            snprintf(err->message, sizeof(err->message), "The gaps in the series are too long.");
        }
        return AD_EINVAL;
    }
    size_t w = (size_t)q->stable_trend_window;
    double *x = ad_malloc(all * sizeof(double)), *cs = ad_malloc((all + 1) * sizeof(double));
    double *z = ad_malloc(2 * all * sizeof(double));
    int rc = AD_ENOMEM;
    if (!x || !cs || !z)
        goto err;
    int period = prepare(q, x, all);
    if (period < 0) {
        rc = period;
        goto err;
    }
    double sigma = noise_sigma(x, all, z);
    cs[0] = 0.0;
    for (size_t i = 0; i < all; i++)
        cs[i + 1] = cs[i] + x[i];
    shift_scores(cs, all, w, sigma, z);
    if ((rc = alloc_cp(out, q->n)) != 0)
        goto err;
    out->period = period;
    for (size_t j = 0; j < q->n; j++) {
        size_t t = q->index ? (size_t)q->index[j] : j;
        double conf = isinf(z[t]) ? 1.0 : erf(z[t] / sqrt(2.0));
        out->confidence[j] = conf;
        if (conf < q->threshold || z[t] == 0.0)
            continue;
        bool peak = true;
        size_t lo = t >= w ? t - w : 0, hi = t + w < all ? t + w : all - 1;
        for (size_t k = lo; k <= hi && peak; k++)
            peak = z[k] < z[t] || (z[k] == z[t] && k >= t);
        out->is_change[j] = peak;
    }
err:
    ad_free(x);
    ad_free(cs);
    ad_free(z);
    return rc;
}
