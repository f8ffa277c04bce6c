/* ad_uvad_model.c - the three models the service picks between:
 *   seasonal  - robust STL (periodic seasonal component, loess trend),
 *               outliers voted on the de-seasoned series and its
 *               remainder; expected = trend (re-interpolated over the
 *               outliers) + seasonal;
 *   dynamic   - no period: outliers voted on the series itself, expected =
 *               a coarse spline trend of the series without its outliers;
 *   spectral residual (Ren et al., KDD 2019) - minute/second data with no
 *               period: saliency scores from the log-amplitude spectrum,
 *               expected = a running mean of the low-score ("skeleton")
 *               points. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_fft.h"
#include "ad_uvad_int.h"

#define SR_SKELETON  1.0 /* scores at or below: a normal ("skeleton") point */
#define SR_MIN_RAW   3.5 /* raw score range mapped to [0, 1] for margins */
#define SR_MAX_RAW   15.0
#define SR_MAG_AVG   3   /* log-amplitude smoothing window */
#define SR_SCORE_AVG 100 /* saliency averaging window */
#define SR_EXTEND    5   /* points appended before the transform */
#define SR_LOOKBACK  5

/* ---- seasonal decomposition ---------------------------------------------- */

#define MAPE_UB 0.10 /* above: try the decomposition of the log series */
#define MAPE_LB 0.05 /* ... and keep it when its error is below this */

/* STL of y, or of log(y) (shifted to >= 1 first) mapped back. */
static int stl_maybe_log(const double *y, size_t n, size_t p, bool logt, double *trend,
                         double *season, double *tmp)
{
    if (!logt)
        return ad_uv_stl(y, n, p, trend, season);
    double base = y[0];
    for (size_t i = 1; i < n; i++)
        base = fmin(base, y[i]);
    double shift = base < 1.0 ? 1.0 - base : 0.0;
    for (size_t i = 0; i < n; i++)
        tmp[i] = log(y[i] + shift);
    int rc = ad_uv_stl(tmp, n, p, trend, season);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        double t = exp(trend[i]);
        season[i] = exp(trend[i] + season[i]) - t;
        trend[i] = t - shift;
    }
    return 0;
}

/* last/detect's decomposition: also decompose the series extended by one
 * point (the median of the values in the next point's phase) and keep that
 * fit when it leaves the newest point a smaller remainder. tmp: 5n + 5
 * doubles. */
static int stl_adjusted(const double *y, size_t n, size_t p, bool logt, double *trend,
                        double *season, double *tmp)
{
    double *ext = tmp + n, *t2 = ext + n + 1, *s2 = t2 + n + 1, *med = s2 + n + 1;
    int rc = stl_maybe_log(y, n, p, logt, trend, season, tmp);
    if (rc != 0)
        return rc;
    size_t m = 0;
    for (size_t i = n - p;; i -= p) {
        ext[m++] = y[i];
        if (i < p)
            break;
    }
    double next = ad_uv_median(ext, m, med);
    memcpy(ext, y, n * sizeof(double));
    ext[n] = next;
    if ((rc = stl_maybe_log(ext, n + 1, p, logt, t2, s2, med)) != 0)
        return rc;
    double orig = fabs(y[n - 1] - trend[n - 1] - season[n - 1]);
    double adj = fabs(y[n - 1] - t2[n - 1] - s2[n - 1]);
    if (adj < orig) {
        memcpy(trend, t2, n * sizeof(double));
        memcpy(season, s2, n * sizeof(double));
    }
    return 0;
}

/* Plain or (last) adjusted STL. tmp: 5n + 5 doubles. */
static int stl_fit(const double *y, size_t n, size_t p, bool logt, bool last, double *trend,
                   double *season, double *tmp)
{
    return last ? stl_adjusted(y, n, p, logt, trend, season, tmp)
                : stl_maybe_log(y, n, p, logt, trend, season, tmp);
}

/* The service's de-outlier STL: decompose, then replace the de-trended
 * points at >= 3 standard deviations that sit in phases where such points
 * are rare by the previous value, and decompose again. */
static int stl_deoutlier(const double *v, size_t n, size_t p, bool logt, bool last, double *trend,
                         double *season)
{
    double *x = ad_calloc(n, sizeof(double)), *tmp = ad_malloc((5 * n + 5) * sizeof(double));
    size_t *cnt = ad_calloc(p, sizeof(size_t));
    int rc = AD_ENOMEM;
    if (!x || !tmp || !cnt)
        goto err;
    if ((rc = stl_fit(v, n, p, logt, last, trend, season, tmp)) != 0)
        goto err;
    for (size_t i = 0; i < n; i++)
        x[i] = v[i] - trend[i];
    double m = ad_uv_mean(x, n), sd = ad_uv_std(x, n);
    if (sd == 0.0)
        goto err;
    for (size_t i = 0; i < n; i++)
        if (fabs(x[i] - m) / sd >= 3.0)
            cnt[i % p]++;
    size_t rare = (size_t)(((double)n / (double)p) / 2.0);
    bool any = false;
    for (size_t i = 0; i < n; i++)
        if (fabs(x[i] - m) / sd >= 3.0 && cnt[i % p] <= rare) {
            x[i] = NAN;
            any = true;
        }
    if (!any)
        goto err;
    for (size_t i = 1; i < n; i++)
        if (isnan(x[i]))
            x[i] = x[i - 1];
    for (size_t i = n; i-- > 1;)
        if (isnan(x[i - 1]))
            x[i - 1] = x[i];
    for (size_t i = 0; i < n; i++)
        x[i] += trend[i];
    rc = stl_fit(x, n, p, logt, last, trend, season, tmp);
err:
    ad_free(x);
    ad_free(tmp);
    ad_free(cnt);
    return rc;
}

/* Mean absolute remainder relative to the values. */
static double mape(const double *v, size_t n, const double *trend, const double *season)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += fabs((v[i] - trend[i] - season[i]) / v[i]);
    return s / (double)n;
}

/* Decomposition as the service does it: plain, or of the log series when
 * that fits much better. */
static int decompose(const double *v, size_t n, size_t p, bool last, double *trend, double *season)
{
    int rc = stl_deoutlier(v, n, p, false, last, trend, season);
    if (rc != 0 || !(mape(v, n, trend, season) > MAPE_UB))
        return rc;
    double *t2 = ad_malloc(n * sizeof(double)), *s2 = ad_malloc(n * sizeof(double));
    rc = AD_ENOMEM;
    if (t2 && s2 && (rc = stl_deoutlier(v, n, p, true, last, t2, s2)) == 0 &&
        mape(v, n, t2, s2) < MAPE_LB) {
        memcpy(trend, t2, n * sizeof(double));
        memcpy(season, s2, n * sizeof(double));
    }
    ad_free(t2);
    ad_free(s2);
    return rc;
}

/* Sets pos/neg of every flagged point by where it lies against expected. */
static void set_directions(struct ad_uv_raw *raw)
{
    for (size_t i = 0; i < raw->n; i++) {
        raw->pos[i] = raw->neg[i] = 0;
        if (!raw->anom[i])
            continue;
        if (raw->expected[i] > raw->value[i])
            raw->neg[i] = 1;
        else
            raw->pos[i] = 1;
    }
}

int ad_uv_model_seasonal(const double *v, size_t n, int period, double ratio, bool last,
                         struct ad_uv_raw *raw)
{
    size_t p = (size_t)period;
    double *trend = ad_malloc(n * sizeof(double)), *season = ad_malloc(n * sizeof(double));
    double *de = ad_malloc(n * sizeof(double)), *rem = ad_malloc(n * sizeof(double));
    int rc = AD_ENOMEM;
    if (!trend || !season || !de || !rem)
        goto err;
    if ((rc = decompose(v, n, p, last, trend, season)) != 0)
        goto err;
    for (size_t i = 0; i < n; i++) {
        de[i] = v[i] - season[i];
        rem[i] = de[i] - trend[i];
    }
    ad_uv_normalize(de, n);
    ad_uv_normalize(rem, n);
    if (ratio < 1.0 / (double)n)
        ratio = 1.0 / (double)n;
    bool mad = false;
    if ((rc = ad_uv_esd_vote(de, rem, n, ratio, raw, &mad)) != 0)
        goto err;
    raw->model = mad ? AD_UV_MODEL_SEASONAL_MAD : AD_UV_MODEL_SEASONAL;
    size_t flagged = 0, tail = 0, win = p / 2;
    for (size_t i = 0; i < n; i++)
        if (raw->anom[i]) {
            trend[i] = NAN;
            flagged++;
            tail += i + win >= n;
        }
    if (flagged) {
        if (win > 0 && (double)tail >= 0.5 * (double)win)
            for (size_t i = n - win; i < n; i++)
                trend[i] = NAN;
        ad_uv_interp_nan(trend, n);
    }
    for (size_t i = 0; i < n; i++)
        raw->expected[i] = trend[i] + season[i];
    set_directions(raw);
err:
    ad_free(trend);
    ad_free(season);
    ad_free(de);
    ad_free(rem);
    return rc;
}

int ad_uv_model_dynamic(const double *v, size_t n, double ratio, struct ad_uv_raw *raw)
{
    double *x = ad_malloc(n * sizeof(double));
    int rc = AD_ENOMEM;
    if (!x)
        return rc;
    memcpy(x, v, n * sizeof(double));
    ad_uv_normalize(x, n);
    bool mad = false;
    if ((rc = ad_uv_esd_vote(x, NULL, n, ratio, raw, &mad)) != 0)
        goto err;
    raw->model = mad ? AD_UV_MODEL_DYNAMIC_MAD : AD_UV_MODEL_DYNAMIC;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        x[i] = raw->anom[i] ? NAN : v[i];
        any = any || raw->anom[i];
    }
    if (any) {
        ad_uv_interp_nan(x, n);
        rc = ad_uv_trend(x, n, -1, raw->expected);
    } else {
        rc = ad_uv_trend(v, n, 0, raw->expected);
    }
    if (rc == 0)
        set_directions(raw);
err:
    ad_free(x);
    return rc;
}

/* ---- spectral residual --------------------------------------------------- */

/* numpy's default (linear) quantile of sorted s. */
static double quantile_sorted(const double *s, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)floor(pos);
    if (i + 1 >= n)
        return s[n - 1];
    return s[i] + (s[i + 1] - s[i]) * (pos - (double)i);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The value the series is extended with: the median of the look-back points
 * plus half their mean slope towards the last one, scaled as the service does. */
static double predict_next(const double *w, size_t m)
{
    double tmp[SR_LOOKBACK + 1], slopes = 0.0;
    for (size_t i = 0; i + 1 < m; i++)
        slopes += (w[m - 1] - w[i]) / (double)(m - 1 - i);
    double med = ad_uv_median(w, m, tmp);
    return med + slopes * 0.5 * (double)(m + 1) / (double)(m - 1);
}

/* The look-back window: the last points, or with `robust` the last points
 * inside the 1.5-IQR fences (the median fills what is missing). */
static int lookback(const double *v, size_t n, bool robust, double w[SR_LOOKBACK + 1])
{
    if (!robust) {
        for (size_t k = 0; k <= SR_LOOKBACK; k++) {
            size_t at = n >= SR_LOOKBACK + 2 ? n - SR_LOOKBACK - 2 + k : (k < n ? k : n - 1);
            w[k] = v[at];
        }
        return 0;
    }
    double *s = ad_malloc(n * sizeof(double));
    if (!s)
        return AD_ENOMEM;
    memcpy(s, v, n * sizeof(double));
    qsort(s, n, sizeof(double), cmp_double);
    double q75 = quantile_sorted(s, n, 0.75), q50 = quantile_sorted(s, n, 0.5);
    double q25 = quantile_sorted(s, n, 0.25);
    ad_free(s);
    double hi = q75 + 1.5 * (q75 - q25), lo = q25 - 1.5 * (q75 - q25);
    for (size_t k = 0; k <= SR_LOOKBACK; k++)
        w[k] = q50;
    long i = SR_LOOKBACK, j = (long)n - 1;
    for (; i >= 0 && j >= 0; j--)
        if (v[j] >= lo && v[j] <= hi)
            w[i--] = v[j];
    return 0;
}

/* The saliency map: amplitude spectrum -> log -> minus its local mean ->
 * back with the original phase -> magnitude. re/im hold the input (re) and
 * are overwritten. */
static int saliency(double *re, double *im, size_t m, double *out)
{
    int rc = ad_fft(re, im, m, 0);
    if (rc != 0)
        return rc;
    double *mag = ad_malloc(m * sizeof(double)), *lg = ad_malloc(m * sizeof(double));
    double *avg = ad_malloc(m * sizeof(double));
    if (!mag || !lg || !avg) {
        rc = AD_ENOMEM;
        goto err;
    }
    for (size_t k = 0; k < m; k++) {
        mag[k] = sqrt(re[k] * re[k] + im[k] * im[k]);
        bool tiny = mag[k] <= AD_UV_EPS;
        lg[k] = tiny ? 0.0 : log(mag[k]);
        if (tiny)
            mag[k] = AD_UV_EPS;
    }
    ad_uv_average_filter(lg, m, SR_MAG_AVG, false, avg);
    for (size_t k = 0; k < m; k++) {
        if (mag[k] <= AD_UV_EPS) {
            re[k] = im[k] = 0.0;
            continue;
        }
        double g = exp(lg[k] - avg[k]) / mag[k];
        re[k] *= g;
        im[k] *= g;
    }
    if ((rc = ad_fft(re, im, m, 1)) != 0)
        goto err;
    for (size_t k = 0; k < m; k++)
        out[k] = sqrt(re[k] * re[k] + im[k] * im[k]);
err:
    ad_free(mag);
    ad_free(lg);
    ad_free(avg);
    return rc;
}

int ad_uv_sr_scores(const double *v, size_t n, bool robust_extend, double *scores)
{
    size_t m = n + SR_EXTEND;
    double w[SR_LOOKBACK + 1];
    double *re = ad_malloc(m * sizeof(double)), *im = ad_calloc(m, sizeof(double));
    double *mag = ad_malloc(m * sizeof(double)), *avg = ad_malloc(n * sizeof(double));
    int rc = AD_ENOMEM;
    if (!re || !im || !mag || !avg)
        goto err;
    if ((rc = lookback(v, n, robust_extend, w)) != 0)
        goto err;
    double next = predict_next(w, SR_LOOKBACK + 1);
    memcpy(re, v, n * sizeof(double));
    for (size_t k = n; k < m; k++)
        re[k] = next;
    if ((rc = saliency(re, im, m, mag)) != 0)
        goto err;
    ad_uv_average_filter(mag, n, SR_SCORE_AVG, true, avg);
    for (size_t i = 0; i < n; i++) {
        double a = ad_uv_isclose(avg[i], AD_UV_EPS) ? AD_UV_EPS : avg[i];
        scores[i] = fabs(mag[i] - a) / a;
    }
err:
    ad_free(re);
    ad_free(im);
    ad_free(mag);
    ad_free(avg);
    return rc;
}

/* last/detect's scores: the newest point is scored on the series without the
 * high-scoring stretch just before it, and zeroed when its z-score is small. */
static int sr_last_scores(const double *v, size_t n, size_t max_out, double *sc,
                          enum ad_uv_model *model)
{
    int rc = ad_uv_sr_scores(v, n, false, sc);
    if (rc != 0)
        return rc;
    size_t drop = (size_t)((double)n * 0.1);
    drop = max_out > drop ? max_out : drop;
    if (drop > (size_t)((double)n * 0.45))
        drop = (size_t)((double)n * 0.45);
    size_t cut = n - 1;
    for (size_t i = n - drop; i < n; i++)
        if (sc[i] >= 1.5) {
            cut = i;
            break;
        }
    double *f = ad_malloc((cut + 1) * sizeof(double)), *fs = ad_malloc((cut + 1) * sizeof(double));
    if (!f || !fs) {
        ad_free(f);
        ad_free(fs);
        return AD_ENOMEM;
    }
    memcpy(f, v, cut * sizeof(double));
    f[cut] = v[n - 1];
    rc = cut + 1 >= AD_UV_MIN_POINTS / 2 ? ad_uv_sr_scores(f, cut + 1, false, fs) : 0;
    if (rc == 0) {
        for (size_t i = cut; i + 1 < n; i++)
            sc[i] = SR_SKELETON * 2.0;
        if (cut + 1 >= AD_UV_MIN_POINTS / 2)
            sc[n - 1] = fs[cut];
        double sd = ad_uv_std(v, n);
        double z = sd > 0.0 ? fabs(v[n - 1] - ad_uv_mean(v, n)) / sd : 0.0;
        *model = AD_UV_MODEL_SR;
        if (z < 1.5) {
            sc[n - 1] = 0.0;
            *model = AD_UV_MODEL_SR_ZSCORE;
        }
    }
    ad_free(f);
    ad_free(fs);
    return rc;
}

/* Expected values from the skeleton points (score <= 1): for point i the mean
 * of the skeleton values in [i/2, i], then a 5-point running mean; in last
 * mode only the newest point, from the newer half of the skeleton. */
static int sr_expected(const double *v, size_t n, const double *sc, bool last, double *ex)
{
    if (last) {
        size_t total = 0, seen = 0;
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            total += sc[i] <= SR_SKELETON;
        for (size_t i = 0; i < n; i++)
            if (sc[i] <= SR_SKELETON && seen++ >= total / 2)
                s += v[i];
        memcpy(ex, v, n * sizeof(double));
        size_t used = total - total / 2;
        ex[n - 1] = used ? s / (double)used : v[n - 1];
        return 0;
    }
    double *cs = ad_malloc((n + 1) * sizeof(double)), *cc = ad_malloc((n + 1) * sizeof(double));
    double *tmp = ad_malloc(n * sizeof(double));
    if (!cs || !cc || !tmp) {
        ad_free(cs);
        ad_free(cc);
        ad_free(tmp);
        return AD_ENOMEM;
    }
    cs[0] = cc[0] = 0.0;
    double all = 0.0;
    for (size_t i = 0; i < n; i++) {
        bool sk = sc[i] <= SR_SKELETON;
        cs[i + 1] = cs[i] + (sk ? v[i] : 0.0);
        cc[i + 1] = cc[i] + (sk ? 1.0 : 0.0);
        all += v[i];
        double c = cc[i + 1] - cc[i / 2];
        tmp[i] = c == 0.0 ? all / (double)(i + 1) : (cs[i + 1] - cs[i / 2]) / c;
    }
    ad_uv_average_filter(tmp, n, 5, false, ex);
    ad_free(cs);
    ad_free(cc);
    ad_free(tmp);
    return 0;
}

struct scored {
    double s;
    size_t i;
};

static int cmp_scored_desc(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int ad_uv_model_sr(const double *v, size_t n, double ratio, bool last, struct ad_uv_raw *raw)
{
    size_t max_out = (size_t)((double)n * ratio);
    if (max_out < 1)
        max_out = 1;
    struct scored *top = ad_malloc(n * sizeof(*top));
    int rc = AD_ENOMEM;
    if (!top)
        return rc;
    raw->model = AD_UV_MODEL_SR;
    rc = last ? sr_last_scores(v, n, max_out, raw->score, &raw->model)
              : ad_uv_sr_scores(v, n, true, raw->score);
    if (rc == 0)
        rc = sr_expected(v, n, raw->score, last, raw->expected);
    if (rc != 0)
        goto err;
    size_t nt = 0;
    for (size_t i = 0; i < n; i++)
        if (raw->score[i] >= AD_UV_SR_THRESHOLD) {
            top[nt].s = raw->score[i];
            top[nt++].i = i;
        }
    qsort(top, nt, sizeof(*top), cmp_scored_desc);
    for (size_t k = 0; k < nt && k < max_out; k++)
        raw->anom[top[k].i] = 1;
    /* the service maps raw scores to [0, 1] for its margins with this exact
     * arithmetic: score - MIN / (MAX - MIN), clipped */
    for (size_t i = 0; i < n; i++)
        raw->score[i] = fmin(fmax(raw->score[i] - SR_MIN_RAW / (SR_MAX_RAW - SR_MIN_RAW), 0.0),
                             1.0);
    set_directions(raw);
err:
    ad_free(top);
    return rc;
}
