/* ad_uvad.h - the univariate anomaly detection of the retired Anomaly
 * Detector service, in C (docs/algorithm.md says what matches the service and
 * what does not): gap imputation, period detection, the model the service
 * picks by series shape (seasonal decomposition + ESD, spectral residual, or
 * a dynamic threshold), expected values, margins from the sensitivity, and
 * severity; for the entire/detect and last/detect modes.
 *
 * Pure and reentrant: no I/O, no clock, no globals; every call allocates its
 * own scratch (bounded by AD_UV_MAX_FILLED points) and frees it before it
 * returns, so calls may run on any number of threads at once.
 *
 * Ownership, for the whole family: a request borrows its arrays for the
 * duration of the call; a result owns its arrays, which ad_uv_detect()
 * allocates and ad_uv_result_free() releases (it accepts a zeroed struct). */
#ifndef AD_UVAD_H
#define AD_UVAD_H

#include <stddef.h>
#include <stdint.h>

#define AD_UV_MIN_POINTS 12
#define AD_UV_MAX_POINTS 8640
#define AD_UV_MAX_FILLED (2 * AD_UV_MAX_POINTS) /* points after gap filling */
#define AD_UV_MAX_VALUE  1e100

/* The service's defaults. */
#define AD_UV_DEFAULT_RATIO       0.25
#define AD_UV_DEFAULT_SENSITIVITY 99
#define AD_UV_ALPHA               0.05 /* ESD significance */
#define AD_UV_SR_THRESHOLD        3.5  /* spectral residual score threshold */

enum ad_uv_gran {
    AD_UV_GRAN_NONE = 0,
    AD_UV_GRAN_YEARLY,
    AD_UV_GRAN_MONTHLY,
    AD_UV_GRAN_WEEKLY,
    AD_UV_GRAN_DAILY,
    AD_UV_GRAN_HOURLY,
    AD_UV_GRAN_MINUTELY,
    AD_UV_GRAN_SECONDLY,
    AD_UV_GRAN_MICROSECOND
};

enum ad_uv_impute {
    AD_UV_IMPUTE_AUTO = 0,
    AD_UV_IMPUTE_PREVIOUS,
    AD_UV_IMPUTE_LINEAR,
    AD_UV_IMPUTE_FIXED,
    AD_UV_IMPUTE_ZERO,
    AD_UV_IMPUTE_NOTFILL
};

enum ad_uv_mode { AD_UV_ENTIRE = 0, AD_UV_LAST };

/* Which model produced a result (the service's internal ModelType). */
enum ad_uv_model {
    AD_UV_MODEL_SEASONAL = 10,
    AD_UV_MODEL_SEASONAL_MAD = 11,
    AD_UV_MODEL_SR = 20,
    AD_UV_MODEL_SR_ZSCORE = 21,
    AD_UV_MODEL_DYNAMIC = 40,
    AD_UV_MODEL_DYNAMIC_MAD = 41
};

struct ad_uv_request {
    const double *values; /* n finite values, |v| <= AD_UV_MAX_VALUE */
    const int64_t *index; /* n grid positions, index[0] == 0, strictly
                              ascending (gaps allowed); NULL = 0..n-1 */
    size_t n;             /* AD_UV_MIN_POINTS .. AD_UV_MAX_POINTS */
    enum ad_uv_gran granularity;
    int custom_interval;      /* >= 1 */
    int period;               /* >= 0 given; -1 = detect */
    double max_anomaly_ratio; /* (0, 0.49] */
    int sensitivity;          /* 0..100 (the REST layer caps at 99) */
    enum ad_uv_impute impute;
    double impute_value; /* for AD_UV_IMPUTE_FIXED */
    enum ad_uv_mode mode;
};

/* Fills r with the service's defaults: ratio 0.25, sensitivity 99, period -1,
 * custom_interval 1, impute auto, mode entire; no points. */
void ad_uv_request_init(struct ad_uv_request *r);

/* One verdict per input point (filled gaps are not reported). In last mode
 * every array is still filled, but only the last entry is the service's
 * last/detect answer. */
struct ad_uv_result {
    size_t n;
    int period;
    int suggested_window; /* last mode: 4 * period + 1, or the granularity's default */
    enum ad_uv_model model;
    double *expected;
    double *upper;    /* upper margin */
    double *lower;    /* lower margin */
    double *severity; /* 0 for normal points, else in (0, 1] */
    unsigned char *is_anomaly;
    unsigned char *is_positive;
    unsigned char *is_negative;
};

/* The service's error: code is a static string ("InvalidSeries",
 * "InvalidModelArgument", "BadArgument"...), message a sentence. */
struct ad_uv_error {
    const char *code;
    char message[256];
};

/* Refuses a request: fills err (when not NULL) with code and the formatted
 * message, and returns AD_EINVAL. Shared by the pipeline and the API. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int ad_uv_fail(struct ad_uv_error *err, const char *code, const char *fmt, ...);

/* Runs the detection. Returns 0 and fills *out (which must be zeroed or
 * freed); AD_EINVAL when the request breaks the rules above or the data
 * cannot be modelled (err says why, with the service's code: e.g. a given
 * period with fewer than 2 * period + 1 points is InvalidModelArgument); or
 * AD_ENOMEM. err may be NULL. On failure *out is left zeroed. */
int ad_uv_detect(const struct ad_uv_request *req, struct ad_uv_result *out,
                 struct ad_uv_error *err);

/* Releases the result's arrays and zeroes it. Accepts NULL. */
void ad_uv_result_free(struct ad_uv_result *r);

/* ad_uv_detect() with every allocation, the result's arrays included, carved
 * out of the caller's scratch buffer (len bytes, 16-byte aligned): the call
 * never touches the heap. A scratch of ad_uv_scratch_bytes(req->n) bytes is
 * enough for any request of n points (AD_ENOMEM when it was too small). The
 * result lives in scratch: read it before scratch is reused, and do not pass
 * it to ad_uv_result_free(). Same errors as ad_uv_detect(). */
int ad_uv_detect_scratch(const struct ad_uv_request *req, struct ad_uv_result *out,
                         struct ad_uv_error *err, void *scratch, size_t len);
/* Bytes of scratch ad_uv_detect_scratch() needs for a request of n points
 * (measured peak, with a margin; docs/detection.md). */
size_t ad_uv_scratch_bytes(size_t n);

/* The period the service would detect for these (already gap-free) values at
 * this granularity: the granularity's usual periods checked first, then the
 * spectrum. Returns 0 when none is found. Pure; allocates scratch. */
int ad_uv_detect_period(const double *v, size_t n, enum ad_uv_gran g, int custom_interval);

/* ---- change points (/timeseries/changepoint/detect) ---------------------- */

struct ad_uv_cp_request {
    const double *values;
    const int64_t *index; /* as in struct ad_uv_request; gaps are filled linearly */
    size_t n;
    enum ad_uv_gran granularity;
    int custom_interval;
    int period;              /* -1 = detect */
    int stable_trend_window; /* >= 5; the service's default is 10 */
    double threshold;        /* (0, 1]; the service's default is 0.99 */
};

/* Per input point: is_change (1/0) and confidence in [0, 1]. Owned by the
 * result; free with ad_uv_cp_result_free(). */
struct ad_uv_cp_result {
    size_t n;
    int period;
    unsigned char *is_change;
    double *confidence;
};

/* Detects level shifts (docs/algorithm.md, "Change points"). Returns 0,
 * AD_EINVAL (err set) or AD_ENOMEM. */
int ad_uv_changepoint(const struct ad_uv_cp_request *req, struct ad_uv_cp_result *out,
                      struct ad_uv_error *err);
void ad_uv_cp_result_free(struct ad_uv_cp_result *r);

#endif
