/* ad_uvad_int.h - helpers shared by the ad_uvad*.c files (not public).
 *
 * Arrays are borrowed; a helper that needs scratch takes it from the caller
 * (a `tmp` argument, sized in its comment) or says that it allocates. */
#ifndef AD_UVAD_INT_H
#define AD_UVAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_alloc.h"
#include "ad_jscan.h"
#include "ad_uvad.h"

#define AD_UV_EPS        1e-8
#define AD_UV_MIN_PERIOD 4

/* ---- memory ---------------------------------------------------------------
 * Every allocation of the ad_uvad*.c files goes through ad_alloc.h: the heap
 * by default; while ad_uv_detect_scratch() runs on a thread, the arena it
 * installs there (ad_alloc_arena_set()) over its caller's scratch buffer, so
 * that call never touches the heap. */

/* ---- statistics (ad_uvad_util.c) ---------------------------------------- */

double ad_uv_mean(const double *v, size_t n);
/* Population variance / standard deviation (numpy's default ddof = 0). */
double ad_uv_var(const double *v, size_t n);
double ad_uv_std(const double *v, size_t n);
/* Median of v; tmp holds n doubles (v is not modified). */
double ad_uv_median(const double *v, size_t n, double *tmp);
/* The same median, quicker when guess (> 0) is within -10 % / +12 % of it
 * (the previous pass's, in an iteration): only the values near the guess
 * are selected among. */
double ad_uv_median_near(const double *v, size_t n, double guess, double *tmp);
/* statsmodels' robust.mad: median(|v - median(v)|) / 0.6745. tmp: n doubles. */
double ad_uv_mad(const double *v, size_t n, double *tmp);
/* numpy's isclose(a, b) with its default tolerances. */
bool ad_uv_isclose(double a, double b);
/* Min-max scaling to [0, 1] in place (left as is when min == max). */
void ad_uv_normalize(double *v, size_t n);
/* Mean over the trailing window of w points (fewer at the start); with
 * fill_to_n the missing leading points count as the mean of the earlier ones
 * (the service's average_filter). out must not alias v. */
void ad_uv_average_filter(const double *v, size_t n, size_t w, bool fill_to_n, double *out);
/* Replaces NaNs by linear interpolation between the nearest finite
 * neighbours; constant beyond the first/last finite value. All-NaN: zeros. */
void ad_uv_interp_nan(double *v, size_t n);
/* Values |x - mean| / (std + 1e-8) >= 3 replaced by interpolation (in place). */
void ad_uv_smooth_spikes(double *v, size_t n);
/* Theil-Sen slope of v[0..n) against 0..n-1. tmp: n * (n - 1) / 2 doubles. */
double ad_uv_theil_slope(const double *v, size_t n, double *tmp);
/* Centred running median over w points (w/2 each side). The ends keep the
 * input, or with `ends` use the part of the window inside the series.
 * tmp: w + 1 doubles. out must not alias v. */
void ad_uv_median_filter(const double *v, size_t n, size_t w, bool ends, double *out, double *tmp);
/* Straightens both ends of a smoothed series over half a window with the
 * Theil-Sen slope of the first/last w points (the `seasonal` package's
 * aglet). Allocates. Returns 0 or AD_ENOMEM. */
int ad_uv_aglet(const double *src, size_t n, size_t w, double *dst);
/* Least-squares cubic spline with nsegs coarse segments evaluated at 0..n-1.
 * Returns 0, AD_ENOMEM, or AD_ERANGE for a singular fit. */
int ad_uv_spline_fit(const double *v, size_t n, size_t nsegs, double *out);
/* The not-a-knot cubic spline through (x[i], y[i]) (x: strictly ascending
 * grid positions from 0) evaluated at every grid position 0..x[n-1] into
 * out (scipy's interp1d(kind="cubic")). Returns 0, AD_EINVAL (n < 4) or
 * AD_ENOMEM. */
int ad_uv_cubic_interp(const int64_t *x, const double *y, size_t n, double *out);
/* The service's trend: a coarse spline with aglet ends; period <= 0 guesses
 * the trended period from the periodogram. Returns 0 or AD_ENOMEM. */
int ad_uv_trend(const double *v, size_t n, int period, double *out);
/* The quantile function of Student's t with df degrees of freedom. */
double ad_uv_t_ppf(double p, double df);
/* The generalized-ESD critical value for the i-th (1-based) outlier of n. */
double ad_uv_esd_critical(int i, double alpha, size_t n);
/* A cheap value never above ad_uv_esd_critical() (a normal quantile from a
 * rational approximation less its error bound): a statistic at or below it
 * fails the test without computing the t quantile. */
double ad_uv_esd_critical_floor(int i, double alpha, size_t n);
/* Leave-one-out MSE of fitting v by its period-over-period means; seasons
 * (period doubles) gets the means when not NULL. Period must be >= 2 and
 * < n. Allocates; returns the MSE, or -1 on allocation failure. */
double ad_uv_gcv(const double *v, size_t n, int period, double *seasons);

/* ---- Welch periodogram (ad_uvad_period.c) -------------------------------- */

struct ad_uv_peak {
    int period;
    double power;
    int pmin, pmax; /* the neighbouring periods: a range of candidates */
};
/* The `seasonal` package's periodogram_peaks: peaks of a Welch spectrum
 * within thresh of the strongest, at most `cap` of them. Returns the count
 * (0 = none), or AD_ENOMEM. */
int ad_uv_periodogram_peaks(const double *v, size_t n, double thresh, struct ad_uv_peak *peaks,
                            int cap);

/* ---- STL (ad_uvad_stl.c) ----------------------------------------------- */

/* Robust STL with a periodic seasonal component: trend and season (n each)
 * of y for period np. Returns 0, AD_EINVAL (np < 2 or n < 2 * np + 1) or
 * AD_ENOMEM. */
int ad_uv_stl(const double *y, size_t n, size_t np, double *trend, double *season);

/* ---- anomaly kernels (ad_uvad_esd.c, ad_uvad_model.c) ---------------------- */

/* What a model hands to the margin stage, for n points. The caller owns every
 * array (all n long); score is only read for the spectral residual. */
struct ad_uv_raw {
    size_t n;
    const double *value;
    double *expected;
    double *score;
    unsigned char *anom, *pos, *neg;
    enum ad_uv_model model;
};

/* The ESD + z-score + remainder-ESD vote of the service's detect(): marks at
 * most max_outliers points per tail of `data` (and of `remainder` when not
 * NULL) in raw->anom/pos/neg. Returns 0 or AD_ENOMEM; *mad_used tells whether
 * a majority value switched a detector to its MAD variant. */
int ad_uv_esd_vote(const double *data, const double *remainder, size_t n, double ratio,
                   struct ad_uv_raw *raw, bool *mad_used);

/* Models: each fills raw (expected, anom, pos, neg, score, model). */
int ad_uv_model_seasonal(const double *v, size_t n, int period, double ratio, bool last,
                         struct ad_uv_raw *raw);
int ad_uv_model_dynamic(const double *v, size_t n, double ratio, struct ad_uv_raw *raw);
int ad_uv_model_sr(const double *v, size_t n, double ratio, bool last, struct ad_uv_raw *raw);

/* The spectral residual saliency score of v (the paper's S(x) then
 * |S - mean| / mean over 100 points). scores: n doubles. Allocates. */
int ad_uv_sr_scores(const double *v, size_t n, bool robust_extend, double *scores);

/* ---- the request body's fast path (ad_uvad_scan.c) ----------------------- */

/* One JSON value as the request checks of ad_uvad_api.c read it, from
 * jansson's tree or from the scan below. */
struct ad_uv_jv {
    enum ad_jscan_type type; /* AD_JSCAN_MISSING when absent */
    double num;              /* INT and REAL: jansson's json_number_value() */
    const char *s;           /* STRING: its bytes (borrowed, no NUL inside) */
    size_t len;              /* STRING: bytes; ARRAY: elements */
};

/* The request's top-level fields, in ad_uv_key_names[] order. */
enum ad_uv_key {
    AD_UV_K_SERIES = 0,
    AD_UV_K_GRANULARITY,
    AD_UV_K_CUSTOM_INTERVAL,
    AD_UV_K_PERIOD,
    AD_UV_K_RATIO,
    AD_UV_K_SENSITIVITY,
    AD_UV_K_IMPUTE_MODE,
    AD_UV_K_IMPUTE_VALUE,
    AD_UV_K_STABLE_WINDOW,
    AD_UV_K_THRESHOLD,
    AD_UV_K_COUNT
};
extern const char *const ad_uv_key_names[AD_UV_K_COUNT];

/* A scanned body: key[k] for each field (null reads as absent; the series
 * is an ARRAY of n points), and each point's timestamp pt[2 i] and value
 * pt[2 i + 1] (MISSING when the point lacks it). Strings borrow the body. */
struct ad_uv_scan {
    struct ad_uv_jv key[AD_UV_K_COUNT];
    bool seen[AD_UV_K_COUNT];
    size_t n;
    struct ad_uv_jv *pt; /* owned: ad_uv_scan_free() */
};

/* Reads a body that is sure to mean the same to jansson (json_loadb with
 * JSON_REJECT_DUPLICATES): an object of the fields above with scalar values
 * and a series of flat objects, strings of printable ASCII without escapes.
 * Returns 0 (*out filled), AD_EAGAIN for any other body, valid or not (parse
 * it with jansson, which decides), or AD_ENOMEM; *out owns nothing then. */
int ad_uv_scan_body(const char *body, size_t len, struct ad_uv_scan *out);
void ad_uv_scan_free(struct ad_uv_scan *s);

#endif
