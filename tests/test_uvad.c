/* test_uvad.c - numerical tests of the univariate detector: the FFT against
 * a naive DFT, the t quantile, period detection on synthetic series with
 * known periods, the three models on injected anomalies, imputation, last vs
 * entire consistency and change points. */
#include "ad_test.h"

#include <pthread.h>

#include "../src/core/ad_uvad_int.h"
#include "ad_err.h"
#include "ad_fft.h"
#include "ad_uvad.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* splitmix64 -> uniform [0, 1) */
static double urand(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* approximately standard normal (Irwin-Hall of 12) */
static double nrand(void)
{
    double s = 0.0;
    for (int i = 0; i < 12; i++)
        s += urand();
    return s - 6.0;
}

static void check_fft_len(size_t n)
{
    double *re = malloc(n * sizeof(double)), *im = malloc(n * sizeof(double));
    double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
    AD_EXPECT(re && im && x && y);
    for (size_t i = 0; i < n; i++) {
        re[i] = x[i] = nrand();
        im[i] = y[i] = nrand();
    }
    AD_EXPECT_INT(ad_fft(re, im, n, 0), ==, 0);
    double scale = 0.0;
    for (size_t k = 0; k < n; k++) {
        double sr = 0.0, si = 0.0;
        for (size_t j = 0; j < n; j++) {
            double a = -2.0 * 3.14159265358979323846 * (double)((j * k) % n) / (double)n;
            sr += x[j] * cos(a) - y[j] * sin(a);
            si += x[j] * sin(a) + y[j] * cos(a);
        }
        scale = fmax(scale, fmax(fabs(sr), fabs(si)));
        if (fabs(sr - re[k]) > 1e-9 * (1.0 + scale) || fabs(si - im[k]) > 1e-9 * (1.0 + scale))
            AD_FAIL_("n=%zu k=%zu: fft %.17g%+.17gi vs dft %.17g%+.17gi", n, k, re[k], im[k], sr,
                     si);
    }
    AD_EXPECT_INT(ad_fft(re, im, n, 1), ==, 0);
    for (size_t j = 0; j < n; j++) {
        AD_EXPECT_NEAR(re[j], x[j], 1e-10);
        AD_EXPECT_NEAR(im[j], y[j], 1e-10);
    }
    free(re);
    free(im);
    free(x);
    free(y);
}

static void test_fft_vs_dft(void)
{
    static const size_t fixed[] = {1,  2,  3,  4,   5,   7,   8,   12,  13,  16,  17,  31,   48,
                                   53, 64, 97, 100, 101, 127, 128, 255, 256, 257, 499, 1000, 1009};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        check_fft_len(fixed[i]);
    for (int i = 0; i < 20; i++)
        check_fft_len(1 + (size_t)(urand() * 700));
}

static void test_fft_errors(void)
{
    double a[4] = {0}, b[4] = {0};
    AD_EXPECT_INT(ad_fft(a, b, 0, 0), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_fft(NULL, b, 4, 0), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_fft(a, b, AD_FFT_MAX_N + 1, 0), ==, AD_EINVAL);
    AD_EXPECT_UINT(ad_fft_scratch_bytes(0), ==, 0);
    AD_EXPECT_UINT(ad_fft_scratch_bytes(8), ==, 8 * sizeof(double));
}

/* The length the service's spectral residual sees at 8640 points (+5). */
static void test_fft_large_odd(void)
{
    size_t n = 8645;
    double *re = calloc(n, sizeof(double)), *im = calloc(n, sizeof(double));
    AD_EXPECT(re && im);
    re[3] = 1.0; /* a delta: |X[k]| == 1 everywhere */
    AD_EXPECT_INT(ad_fft(re, im, n, 0), ==, 0);
    for (size_t k = 0; k < n; k++)
        AD_EXPECT_NEAR(hypot(re[k], im[k]), 1.0, 1e-11);
    free(re);
    free(im);
}

static void test_t_ppf(void)
{
    /* reference quantiles of Student's t (checked by integrating the density
     * numerically: F(2.2281388519649385; 10) = 0.975 to 1e-12) */
    AD_EXPECT_NEAR(ad_uv_t_ppf(0.975, 10), 2.2281388519649385, 1e-9);
    AD_EXPECT_NEAR(ad_uv_t_ppf(0.99, 1), 31.820515953773956, 1e-8);
    AD_EXPECT_NEAR(ad_uv_t_ppf(0.95, 30), 1.6972608865939587, 1e-9);
    AD_EXPECT_NEAR(ad_uv_t_ppf(0.5, 7), 0.0, 1e-12);
    AD_EXPECT_NEAR(ad_uv_t_ppf(0.025, 10), -2.2281388519649385, 1e-9);
    AD_EXPECT_NEAR(ad_uv_t_ppf(1.0 - 0.05 / 17280.0, 8000), 4.6, 0.02);
    AD_EXPECT(isnan(ad_uv_t_ppf(1.0, 3)));
    /* the cheap floor of the ESD critical value never exceeds it */
    static const size_t ns[] = {12, 13, 50, 333, 1000, 8640};
    for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++)
        for (size_t i = 1; i + 2 < ns[a]; i += 1 + ns[a] / 40) {
            double lo = ad_uv_esd_critical_floor((int)i, 0.05, ns[a]);
            double ex = ad_uv_esd_critical((int)i, 0.05, ns[a]);
            if (!(lo <= ex) || !(lo > 0.8 * ex))
                AD_FAIL_("n=%zu i=%zu: floor %.17g vs critical %.17g", ns[a], i, lo, ex);
        }
}

static void test_stats_helpers(void)
{
    double v[] = {5, 1, 4, 2, 3}, tmp[10];
    AD_EXPECT_NEAR(ad_uv_median(v, 5, tmp), 3.0, 0);
    AD_EXPECT_NEAR(ad_uv_median(v, 4, tmp), 3.0, 0); /* 5 1 4 2 -> (2 + 4) / 2 */
    AD_EXPECT_NEAR(ad_uv_mad(v, 5, tmp), 1.0 / 0.6744897501960817, 1e-12);
    double out[5];
    ad_uv_average_filter(v, 5, 3, false, out);
    AD_EXPECT_NEAR(out[0], 5.0, 0);
    AD_EXPECT_NEAR(out[1], 3.0, 1e-15);
    AD_EXPECT_NEAR(out[4], 3.0, 1e-15);
    double g[] = {NAN, 1, NAN, NAN, 4, NAN};
    ad_uv_interp_nan(g, 6);
    AD_EXPECT_NEAR(g[0], 1, 0);
    AD_EXPECT_NEAR(g[2], 2, 1e-15);
    AD_EXPECT_NEAR(g[3], 3, 1e-15);
    AD_EXPECT_NEAR(g[5], 4, 0);
    double line[40], fit[40];
    for (int i = 0; i < 40; i++)
        line[i] = 3.0 + 0.5 * i;
    AD_EXPECT_INT(ad_uv_spline_fit(line, 40, 3, fit), ==, 0);
    for (int i = 0; i < 40; i++)
        AD_EXPECT_NEAR(fit[i], line[i], 1e-9);
    double slope_tmp[40 * 39 / 2 + 40];
    AD_EXPECT_NEAR(ad_uv_theil_slope(line, 40, slope_tmp), 0.5, 1e-12);
}

/* Not-a-knot splines reproduce cubics exactly, whatever the spacing. */
static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Theil-Sen (for large windows: the slopes within a sampled bracket, or
 * radix selection of all of them) against sorting every pairwise slope, on
 * data with ties, negative and zero slopes, all slopes equal, skewed
 * slopes and huge outliers. */
static void test_theil_slope_exact(void)
{
    static const size_t ws[] = {40, 91, 92, 300, 665};
    for (size_t t = 0; t < sizeof(ws) / sizeof(ws[0]); t++) {
        size_t w = ws[t], m = w * (w - 1) / 2;
        double *v = malloc(w * sizeof(double)), *tmp = malloc((m + w) * sizeof(double));
        double *all = malloc(m * sizeof(double));
        for (int shape = 0; shape < 8; shape++) {
            for (size_t i = 0; i < w; i++)
                v[i] = shape == 0   ? nrand()
                       : shape == 1 ? (double)((i * 7) % 5) - 2.0 /* many ties */
                       : shape == 2 ? -0.25 * (double)i + (double)(i % 3)
                       : shape == 3 ? 3.0 * (double)i       /* every slope equal */
                       : shape == 4 ? exp(0.02 * (double)i) /* skewed slopes */
                       : shape == 5 ? nrand() + (i % 17 == 0 ? 1e6 * nrand() : 0.0)
                       : shape == 6 ? 1e-310 * nrand() /* subnormal differences */
                                    : 1e300 * nrand(); /* slopes near overflow */
            size_t k = 0;
            for (size_t i = 0; i < w; i++)
                for (size_t j = i + 1; j < w; j++)
                    all[k++] = (v[j] - v[i]) / (double)(j - i);
            qsort(all, m, sizeof(double), cmp_dbl);
            double want = m % 2 ? all[m / 2] : (all[m / 2 - 1] + all[m / 2]) / 2.0;
            double got = ad_uv_theil_slope(v, w, tmp);
            if (got != want)
                AD_FAIL_("w=%zu shape %d: %.17g vs %.17g", w, shape, got, want);
        }
        free(v);
        free(tmp);
        free(all);
    }
}

/* ad_uv_median_near() (a bracket around a guess, the plain selection when
 * it misses) against a sort, whatever the guess: on the median, near it,
 * far off, zero, negative, NaN; odd and even sizes; ties, a constant run,
 * skew, outliers, signed zeros. The input is left alone. */
static void test_median_near_exact(void)
{
    static const size_t ns[] = {12, 63, 64, 65, 1000, 1001, 8641};
    for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
        size_t n = ns[t];
        double *v = malloc(n * sizeof(double)), *copy = malloc(n * sizeof(double));
        double *s = malloc(n * sizeof(double)), *tmp = malloc(n * sizeof(double));
        for (int shape = 0; shape < 8; shape++) {
            for (size_t i = 0; i < n; i++)
                v[i] = shape == 0   ? nrand()
                       : shape == 1 ? (double)((i * 7) % 5) /* many ties */
                       : shape == 2 ? 4.0                   /* constant */
                       : shape == 3 ? fabs(nrand())         /* |residuals| */
                       : shape == 4 ? exp(3.0 * nrand())    /* skewed */
                       : shape == 5 ? fabs(nrand()) + (i % 17 == 0 ? 1e9 : 0.0)
                       : shape == 6 ? (i % 2 ? 0.0 : -0.0) + (i % 5 == 0 ? nrand() : 0.0)
                                    : (i < n / 2 ? -1.0 : 1.0) * (double)(i % 3);
            memcpy(copy, v, n * sizeof(double));
            memcpy(s, v, n * sizeof(double));
            qsort(s, n, sizeof(double), cmp_dbl);
            double want = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
            const double guesses[] = {want,        want * 1.05, want * 0.95, want * 3.0,
                                      want * 0.01, 0.0,         -1.0,        NAN};
            for (size_t g = 0; g < sizeof(guesses) / sizeof(guesses[0]); g++) {
                double got = ad_uv_median_near(v, n, guesses[g], tmp);
                if (!(got == want)) /* a zero's sign is the plain selection's, as before */
                    AD_FAIL_("n=%zu shape %d guess %zu: %.17g vs %.17g", n, shape, g, got, want);
                AD_EXPECT(memcmp(copy, v, n * sizeof(double)) == 0);
            }
        }
        free(v);
        free(copy);
        free(s);
        free(tmp);
    }
}

static void test_cubic_interp(void)
{
    int64_t x[] = {0, 1, 3, 4, 8, 9, 10, 15, 16, 20};
    double y[10], out[21];
    for (int i = 0; i < 10; i++) {
        double t = (double)x[i];
        y[i] = 0.5 * t * t * t - 3.0 * t * t + t - 7.0;
    }
    AD_EXPECT_INT(ad_uv_cubic_interp(x, y, 10, out), ==, 0);
    for (int k = 0; k <= 20; k++) {
        double t = (double)k;
        AD_EXPECT_NEAR(out[k], 0.5 * t * t * t - 3.0 * t * t + t - 7.0, 1e-9);
    }
    AD_EXPECT_INT(ad_uv_cubic_interp(x, y, 3, out), ==, AD_EINVAL);
}

static double *seasonal_series(size_t n, int period, double amp, double noise, double level)
{
    double *v = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        v[i] = level +
               amp * sin(2.0 * 3.14159265358979323846 * (double)(i % (size_t)period) /
                         (double)period) +
               noise * nrand();
    return v;
}

static void test_period_usual(void)
{
    double *v = seasonal_series(24 * 14, 24, 10.0, 0.5, 100.0);
    AD_EXPECT_INT(ad_uv_detect_period(v, 24 * 14, AD_UV_GRAN_HOURLY, 1), ==, 24);
    free(v);
    v = seasonal_series(7 * 20, 7, 5.0, 0.3, 50.0);
    AD_EXPECT_INT(ad_uv_detect_period(v, 7 * 20, AD_UV_GRAN_DAILY, 1), ==, 7);
    free(v);
    v = seasonal_series(288 * 5, 288, 10.0, 0.5, 100.0); /* a day of 5-minute points */
    AD_EXPECT_INT(ad_uv_detect_period(v, 288 * 5, AD_UV_GRAN_MINUTELY, 5), ==, 288);
    free(v);
}

static void test_period_spectral(void)
{
    static const int periods[] = {12, 17, 30, 50};
    for (size_t k = 0; k < sizeof(periods) / sizeof(periods[0]); k++) {
        size_t n = (size_t)periods[k] * 12;
        double *v = seasonal_series(n, periods[k], 10.0, 0.5, 20.0);
        int p = ad_uv_detect_period(v, n, AD_UV_GRAN_NONE, 1);
        if (p != periods[k])
            AD_FAIL_("period %d detected as %d", periods[k], p);
        free(v);
    }
}

static void test_period_none(void)
{
    double v[200];
    for (int i = 0; i < 200; i++)
        v[i] = 10.0 + nrand();
    AD_EXPECT_INT(ad_uv_detect_period(v, 200, AD_UV_GRAN_NONE, 1), ==, 0);
    for (int i = 0; i < 200; i++)
        v[i] = 3.0;
    AD_EXPECT_INT(ad_uv_detect_period(v, 200, AD_UV_GRAN_HOURLY, 1), ==, 0);
}

static struct ad_uv_result detect(const double *v, size_t n, enum ad_uv_gran g, int ci,
                                  enum ad_uv_mode mode)
{
    struct ad_uv_request q;
    ad_uv_request_init(&q);
    q.values = v;
    q.n = n;
    q.granularity = g;
    q.custom_interval = ci;
    q.mode = mode;
    struct ad_uv_result r;
    struct ad_uv_error e = {0};
    int rc = ad_uv_detect(&q, &r, &e);
    if (rc != 0)
        AD_FAIL_("detect: %d %s %s", rc, e.code ? e.code : "", e.message);
    return r;
}

static size_t count_anomalies(const struct ad_uv_result *r)
{
    size_t c = 0;
    for (size_t i = 0; i < r->n; i++)
        c += r->is_anomaly[i];
    return c;
}

static void test_seasonal_spike(void)
{
    size_t n = 24 * 10;
    double *v = seasonal_series(n, 24, 20.0, 0.5, 100.0);
    v[150] += 40.0;
    v[200] -= 40.0;
    struct ad_uv_result r = detect(v, n, AD_UV_GRAN_HOURLY, 1, AD_UV_ENTIRE);
    AD_EXPECT_INT(r.period, ==, 24);
    AD_EXPECT(r.model == AD_UV_MODEL_SEASONAL || r.model == AD_UV_MODEL_SEASONAL_MAD);
    AD_EXPECT(r.is_anomaly[150] && r.is_positive[150] && !r.is_negative[150]);
    AD_EXPECT(r.is_anomaly[200] && r.is_negative[200]);
    AD_EXPECT_UINT(count_anomalies(&r), <=, 6);
    AD_EXPECT_NEAR(r.expected[150], v[150] - 40.0, 0.05);
    AD_EXPECT(r.severity[150] > 0.0 && r.severity[150] <= 1.0);
    AD_EXPECT_NEAR(r.severity[10], 0.0, 0);
    /* sensitivity 99: margins are 1 % of |expected| unless widened */
    AD_EXPECT_NEAR(r.upper[150], fabs(r.expected[150]) * 0.01, 1e-9);
    ad_uv_result_free(&r);
    free(v);
}

static void test_dynamic_spike(void)
{
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = 50.0 + 0.1 * i + nrand();
    v[60] = 90.0;
    struct ad_uv_result r = detect(v, 100, AD_UV_GRAN_NONE, 1, AD_UV_ENTIRE);
    AD_EXPECT_INT(r.period, ==, 0);
    AD_EXPECT(r.model == AD_UV_MODEL_DYNAMIC || r.model == AD_UV_MODEL_DYNAMIC_MAD);
    AD_EXPECT(r.is_anomaly[60] && r.is_positive[60]);
    AD_EXPECT_NEAR(r.expected[60], 56.0, 0.1);
    AD_EXPECT_UINT(count_anomalies(&r), <=, 3);
    ad_uv_result_free(&r);
}

static void test_spectral_residual_spike(void)
{
    double v[300];
    for (int i = 0; i < 300; i++)
        v[i] = 10.0 + 0.3 * nrand();
    v[200] = 25.0;
    struct ad_uv_result r = detect(v, 300, AD_UV_GRAN_MINUTELY, 1, AD_UV_ENTIRE);
    AD_EXPECT_INT(r.period, ==, 0);
    AD_EXPECT_INT(r.model, ==, AD_UV_MODEL_SR);
    AD_EXPECT(r.is_anomaly[200] && r.is_positive[200]);
    AD_EXPECT_UINT(count_anomalies(&r), <=, 5);
    AD_EXPECT_NEAR(r.expected[150], 10.0, 0.05);
    ad_uv_result_free(&r);
    /* last/detect on a spike at the end */
    v[299] = 30.0;
    r = detect(v, 300, AD_UV_GRAN_MINUTELY, 1, AD_UV_LAST);
    AD_EXPECT(r.is_anomaly[299]);
    AD_EXPECT_NEAR(r.expected[299], 10.0, 0.05);
    ad_uv_result_free(&r);
    v[299] = 10.1;
    r = detect(v, 300, AD_UV_GRAN_MINUTELY, 1, AD_UV_LAST);
    AD_EXPECT(!r.is_anomaly[299]);
    AD_EXPECT_INT(r.model, ==, AD_UV_MODEL_SR_ZSCORE);
    ad_uv_result_free(&r);
}

static void test_last_matches_entire(void)
{
    size_t n = 24 * 8;
    double *v = seasonal_series(n, 24, 20.0, 0.5, 100.0);
    for (int spike = 0; spike < 2; spike++) {
        v[n - 1] += spike ? 50.0 : 0.0;
        struct ad_uv_result e = detect(v, n, AD_UV_GRAN_HOURLY, 1, AD_UV_ENTIRE);
        struct ad_uv_result l = detect(v, n, AD_UV_GRAN_HOURLY, 1, AD_UV_LAST);
        AD_EXPECT_INT(e.period, ==, l.period);
        AD_EXPECT_INT(e.is_anomaly[n - 1], ==, l.is_anomaly[n - 1]);
        AD_EXPECT_INT(l.is_anomaly[n - 1], ==, spike);
        /* last/detect also tries the decomposition extended by one phase median */
        AD_EXPECT_NEAR(e.expected[n - 1], l.expected[n - 1], 0.01);
        AD_EXPECT_INT(l.suggested_window, ==, 4 * 24 + 1);
        ad_uv_result_free(&e);
        ad_uv_result_free(&l);
    }
    free(v);
}

static void test_deterministic(void)
{
    size_t n = 500;
    double *v = seasonal_series(n, 50, 3.0, 1.0, 0.0);
    struct ad_uv_result a = detect(v, n, AD_UV_GRAN_NONE, 1, AD_UV_ENTIRE);
    struct ad_uv_result b = detect(v, n, AD_UV_GRAN_NONE, 1, AD_UV_ENTIRE);
    AD_EXPECT_INT(memcmp(a.expected, b.expected, n * sizeof(double)), ==, 0);
    AD_EXPECT_INT(memcmp(a.is_anomaly, b.is_anomaly, n), ==, 0);
    ad_uv_result_free(&a);
    ad_uv_result_free(&b);
    ad_uv_result_free(&a); /* twice: zeroed after the first */
    ad_uv_result_free(NULL);
    free(v);
}

/* Hourly data with gaps: every impute mode reports the given points only. */
static void test_impute_modes(void)
{
    size_t n = 24 * 8, m = 0;
    double *full = seasonal_series(n, 24, 20.0, 0.3, 100.0), v[24 * 8];
    int64_t idx[24 * 8];
    for (size_t i = 0; i < n; i++)
        if (i % 17 != 5 && !(i >= 100 && i < 104)) {
            v[m] = full[i];
            idx[m++] = (int64_t)i;
        }
    static const enum ad_uv_impute modes[] = {AD_UV_IMPUTE_AUTO,   AD_UV_IMPUTE_PREVIOUS,
                                              AD_UV_IMPUTE_LINEAR, AD_UV_IMPUTE_FIXED,
                                              AD_UV_IMPUTE_ZERO,   AD_UV_IMPUTE_NOTFILL};
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        struct ad_uv_request q;
        ad_uv_request_init(&q);
        q.values = v;
        q.index = idx;
        q.n = m;
        q.granularity = AD_UV_GRAN_HOURLY;
        q.impute = modes[k];
        q.impute_value = 100.0;
        struct ad_uv_result r;
        struct ad_uv_error e;
        AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, 0);
        AD_EXPECT_UINT(r.n, ==, m);
        /* notFill detects on the points as given: the gaps shift the phase */
        if (modes[k] != AD_UV_IMPUTE_NOTFILL && r.period != 24)
            AD_FAIL_("impute mode %d: period %d", (int)modes[k], r.period);
        if (modes[k] != AD_UV_IMPUTE_ZERO && modes[k] != AD_UV_IMPUTE_FIXED)
            AD_EXPECT_UINT(count_anomalies(&r), <=, 4);
        ad_uv_result_free(&r);
    }
    free(full);
}

/* auto imputation with a period: a short gap follows the spline, a long gap
 * (a whole day of hourly data) takes the same hours of the days around it. */
static void test_impute_auto_seasonal(void)
{
    size_t n = 24 * 10, m = 0;
    double *full = seasonal_series(n, 24, 20.0, 0.0, 100.0), v[24 * 10];
    int64_t idx[24 * 10];
    for (size_t i = 0; i < n; i++)
        if (i != 50 && !(i >= 120 && i < 144)) {
            v[m] = full[i];
            idx[m++] = (int64_t)i;
        }
    struct ad_uv_request q;
    ad_uv_request_init(&q);
    q.values = v;
    q.index = idx;
    q.n = m;
    q.granularity = AD_UV_GRAN_HOURLY;
    q.period = 24;
    struct ad_uv_result r;
    struct ad_uv_error e;
    AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, 0);
    AD_EXPECT_UINT(count_anomalies(&r), ==, 0);
    /* the points next to the gaps are judged against a smooth fit */
    for (size_t j = 0; j < m; j++)
        if (idx[j] == 49 || idx[j] == 51 || idx[j] == 119 || idx[j] == 144)
            AD_EXPECT_NEAR(r.expected[j], v[j], 0.02);
    ad_uv_result_free(&r);
    free(full);
}

static void test_request_errors(void)
{
    double v[20] = {0};
    int64_t idx[20];
    for (int i = 0; i < 20; i++)
        idx[i] = i;
    struct ad_uv_request q;
    struct ad_uv_result r;
    struct ad_uv_error e;
    ad_uv_request_init(&q);
    q.values = v;
    q.n = 11;
    AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, AD_EINVAL);
    AD_EXPECT_STR(e.code, "InvalidSeries");
    q.n = 20;
    q.period = 10; /* 2 * 10 + 1 > 20 */
    AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, AD_EINVAL);
    AD_EXPECT_STR(e.code, "InvalidModelArgument");
    q.period = -1;
    q.max_anomaly_ratio = 0.5;
    AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, AD_EINVAL);
    AD_EXPECT_STR(e.code, "InvalidModelArgument");
    q.max_anomaly_ratio = 0.25;
    idx[5] = 4;
    q.index = idx;
    AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, AD_EINVAL);
    AD_EXPECT_STR(e.code, "InvalidSeries");
    q.index = NULL;
    v[3] = INFINITY;
    AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, AD_EINVAL);
    AD_EXPECT_STR(e.code, "InvalidSeries");
    v[3] = 0.0;
    AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, 0); /* a constant series is fine */
    AD_EXPECT_UINT(count_anomalies(&r), ==, 0);
    ad_uv_result_free(&r);
}

static void test_sparse_seasonal_rejected(void)
{
    double v[30];
    int64_t idx[30];
    for (int i = 0; i < 30; i++) {
        v[i] = i % 2;
        idx[i] = 3 * i; /* two thirds missing */
    }
    struct ad_uv_request q;
    ad_uv_request_init(&q);
    q.values = v;
    q.index = idx;
    q.n = 30;
    q.period = 4;
    struct ad_uv_result r;
    struct ad_uv_error e;
    AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, AD_EINVAL);
    AD_EXPECT_STR(e.code, "InvalidSeries");
    q.period = -1; /* detected: too sparse for a period, so none */
    AD_EXPECT_INT(ad_uv_detect(&q, &r, &e), ==, 0);
    AD_EXPECT_INT(r.period, ==, 0);
    ad_uv_result_free(&r);
}

static void test_changepoint_step(void)
{
    double v[200];
    for (int i = 0; i < 200; i++)
        v[i] = (i < 120 ? 10.0 : 16.0) + 0.5 * nrand();
    struct ad_uv_cp_request q = {v, NULL, 200, AD_UV_GRAN_NONE, 1, 0, 10, 0.99};
    struct ad_uv_cp_result r;
    struct ad_uv_error e;
    AD_EXPECT_INT(ad_uv_changepoint(&q, &r, &e), ==, 0);
    size_t found = 0, at = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.is_change[i]) {
            found++;
            at = i;
        }
    AD_EXPECT_UINT(found, ==, 1);
    AD_EXPECT(at >= 118 && at <= 122);
    AD_EXPECT(r.confidence[at] >= 0.99);
    AD_EXPECT(r.confidence[50] < 0.99);
    ad_uv_cp_result_free(&r);
    for (int i = 0; i < 200; i++)
        v[i] = 10.0 + 0.5 * nrand();
    AD_EXPECT_INT(ad_uv_changepoint(&q, &r, &e), ==, 0);
    found = 0;
    for (size_t i = 0; i < r.n; i++)
        found += r.is_change[i];
    AD_EXPECT_UINT(found, <=, 1);
    ad_uv_cp_result_free(&r);
}

/* Reentrancy: four threads detect on shared input at once; every result
 * must equal the serial one bit for bit. */
struct par {
    const double *v;
    size_t n;
    struct ad_uv_result r;
    int rc;
};

static void *par_run(void *arg)
{
    struct par *p = arg;
    struct ad_uv_request q;
    ad_uv_request_init(&q);
    q.values = p->v;
    q.n = p->n;
    q.granularity = AD_UV_GRAN_HOURLY;
    struct ad_uv_error e;
    for (int i = 0; i < 5 && p->rc == 0; i++) {
        ad_uv_result_free(&p->r);
        p->rc = ad_uv_detect(&q, &p->r, &e);
    }
    return NULL;
}

static void test_reentrant_threads(void)
{
    size_t n = 24 * 12;
    double *v = seasonal_series(n, 24, 20.0, 1.0, 100.0);
    v[100] += 60.0;
    struct ad_uv_result serial = detect(v, n, AD_UV_GRAN_HOURLY, 1, AD_UV_ENTIRE);
    struct par ps[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        memset(&ps[i], 0, sizeof(ps[i]));
        ps[i].v = v;
        ps[i].n = n;
        AD_EXPECT_INT(pthread_create(&th[i], NULL, par_run, &ps[i]), ==, 0);
    }
    for (int i = 0; i < 4; i++) {
        AD_EXPECT_INT(pthread_join(th[i], NULL), ==, 0);
        AD_EXPECT_INT(ps[i].rc, ==, 0);
        AD_EXPECT_INT(memcmp(ps[i].r.expected, serial.expected, n * sizeof(double)), ==, 0);
        AD_EXPECT_INT(memcmp(ps[i].r.upper, serial.upper, n * sizeof(double)), ==, 0);
        AD_EXPECT_INT(memcmp(ps[i].r.is_anomaly, serial.is_anomaly, n), ==, 0);
        ad_uv_result_free(&ps[i].r);
    }
    AD_EXPECT(serial.is_anomaly[100]);
    ad_uv_result_free(&serial);
    free(v);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_median_near_exact);
    AD_TEST_RUN(argc, argv, test_fft_vs_dft);
    AD_TEST_RUN(argc, argv, test_fft_errors);
    AD_TEST_RUN(argc, argv, test_fft_large_odd);
    AD_TEST_RUN(argc, argv, test_t_ppf);
    AD_TEST_RUN(argc, argv, test_stats_helpers);
    AD_TEST_RUN(argc, argv, test_cubic_interp);
    AD_TEST_RUN(argc, argv, test_theil_slope_exact);
    AD_TEST_RUN(argc, argv, test_period_usual);
    AD_TEST_RUN(argc, argv, test_period_spectral);
    AD_TEST_RUN(argc, argv, test_period_none);
    AD_TEST_RUN(argc, argv, test_seasonal_spike);
    AD_TEST_RUN(argc, argv, test_dynamic_spike);
    AD_TEST_RUN(argc, argv, test_spectral_residual_spike);
    AD_TEST_RUN(argc, argv, test_last_matches_entire);
    AD_TEST_RUN(argc, argv, test_deterministic);
    AD_TEST_RUN(argc, argv, test_impute_modes);
    AD_TEST_RUN(argc, argv, test_impute_auto_seasonal);
    AD_TEST_RUN(argc, argv, test_request_errors);
    AD_TEST_RUN(argc, argv, test_sparse_seasonal_rejected);
    AD_TEST_RUN(argc, argv, test_changepoint_step);
    AD_TEST_RUN(argc, argv, test_reentrant_threads);
    return ad_test_done();
}
