/* ad_uvad_det.c - "uvad": the retired Anomaly Detector service's algorithm
 * (ad_uvad.h) as a streaming detector of ad_detect.h.
 *
 * The state is a ring of the last `window` values. Each point is judged the
 * way the service's last/detect judges the newest point of a request: the
 * ring (the past) plus the point, with the period detected from them, the
 * model the series' shape calls for, margins from `sensitivity` and
 * `max_anomaly_ratio`. Points are taken as evenly spaced (a series of
 * tumbling windows; gaps are not imputed). Nothing is allocated: every byte
 * the algorithm needs comes from the caller's scratch (ad_detect_scratch_size,
 * ad_uv_detect_scratch), so the cost per point is the algorithm's on window
 * points, O(window log window) (its FFTs and sorts), with no heap traffic.
 *
 * The score: r = |x - expected| / margin (the margin on x's side, so r = 1 is
 * the edge of the service's band), mapped to r / (1 + r) in [0, 1); the
 * decision is the service's isAnomaly. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ad_detect_int.h"
#include "ad_err.h"
#include "ad_uvad.h"

struct uvad_state {
    uint64_t n;    /* values held, at most window */
    uint64_t head; /* next slot */
    /* then: double vals[window], by arrival (a ring) */
};

static double *vals_of(const struct uvad_state *s)
{
    return (double *)(void *)((char *)(uintptr_t)s + sizeof(*s));
}

static int u_check(const struct ad_detect_params *p, char *err, size_t errlen)
{
    if (p->uvad.window < AD_UV_MIN_POINTS || p->uvad.window > AD_DETECT_UVAD_MAX_WINDOW ||
        p->uvad.sensitivity < 0 || p->uvad.sensitivity > 99 ||
        !(p->uvad.max_anomaly_ratio > 0 && p->uvad.max_anomaly_ratio <= 0.49)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "uvad: window must be %d..%d, sensitivity 0..99, max_anomaly_ratio in "
                     "(0, 0.49]",
                     AD_UV_MIN_POINTS, AD_DETECT_UVAD_MAX_WINDOW);
        return AD_EINVAL;
    }
    return 0;
}

static size_t u_size(const struct ad_detect_params *p)
{
    return sizeof(struct uvad_state) + (size_t)p->uvad.window * sizeof(double);
}

static void u_init(void *state, const struct ad_detect_params *p)
{
    memset(state, 0, u_size(p));
}

/* The series to judge: the ring in arrival order, then x, into the front of
 * scratch; returns its length. */
static size_t series(const struct uvad_state *s, const struct ad_detect_params *p, double x,
                     double *out)
{
    const double *v = vals_of(s);
    uint32_t w = p->uvad.window;
    size_t k = 0, start = s->n < w ? 0 : (size_t)s->head;

    for (uint64_t i = s->n < w ? 0 : 1; i < s->n; i++)
        out[k++] = v[(start + i) % w];
    out[k++] = x;
    return k;
}

/* Bytes the series of n values takes at the front of scratch, rounded up to
 * 16 so that the algorithm's arena after it starts 16-byte aligned. */
static size_t series_bytes(size_t n)
{
    return (n * sizeof(double) + 15) & ~(size_t)15;
}

static void judge(const struct ad_detect_params *p, const double *v, size_t n, double x,
                  unsigned char *scratch, struct ad_detect_result *out)
{
    struct ad_uv_request q;
    struct ad_uv_result r = {0};

    ad_uv_request_init(&q);
    q.values = v;
    q.n = n;
    q.mode = AD_UV_LAST;
    q.sensitivity = p->uvad.sensitivity;
    q.max_anomaly_ratio = p->uvad.max_anomaly_ratio;
    if (ad_uv_detect_scratch(&q, &r, NULL, scratch + series_bytes(n), ad_uv_scratch_bytes(n)) != 0)
        return; /* a series the algorithm refuses (e.g. too flat): unscored */
    double e = r.expected[n - 1], up = r.upper[n - 1], lo = r.lower[n - 1];
    double margin = x >= e ? up : lo, d = fabs(x - e);
    double ratio = margin > 0 ? d / margin : d > 0 ? 1e9 : 0;

    out->scored = true;
    out->expected = e;
    out->lower = e - lo;
    out->upper = e + up;
    out->raw = ratio;
    out->score = ratio / (1 + ratio);
    out->is_anomaly = r.is_anomaly[n - 1] != 0;
    if (out->is_anomaly)
        out->kind = r.is_negative[n - 1] && !r.is_positive[n - 1] ? AD_KIND_DIP : AD_KIND_SPIKE;
}

static void u_step(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                   void *scratch, struct ad_detect_result *out)
{
    struct uvad_state *s = state;
    (void)t_us;

    /* last/detect needs AD_UV_MIN_POINTS points, the judged one included. */
    if (scratch && s->n + 1 >= AD_UV_MIN_POINTS) {
        double *v = scratch;
        size_t n = series(s, p, x, v);
        judge(p, v, n, x, scratch, out);
    }
    vals_of(s)[s->head] = x;
    s->head = (s->head + 1) % p->uvad.window;
    if (s->n < p->uvad.window)
        s->n++;
}

static size_t u_scratch(const struct ad_detect_params *p)
{
    size_t n = (size_t)p->uvad.window + 1;

    /* judge() needs at most series_bytes(n) + ad_uv_scratch_bytes(n); the 16
     * bytes of slack are kept so that the size (docs/detection.md's figures)
     * stays what it was when judge() rounded its offset differently. */
    return series_bytes(n) + 16 + ad_uv_scratch_bytes(n);
}

static size_t u_segs(const struct ad_detect_params *p, struct ad_detect_seg *s, size_t max)
{
    size_t n = ad_detect_seg_add(s, 0, max, 0, 2, 8);
    return ad_detect_seg_add(s, n, max, sizeof(struct uvad_state), p->uvad.window, 8);
}

static bool u_valid(const void *state, const struct ad_detect_params *p)
{
    const struct uvad_state *s = state;

    return s->n <= p->uvad.window && s->head < p->uvad.window &&
           (s->n == p->uvad.window || s->head == s->n) &&
           ad_detect_finite(vals_of(s), (size_t)s->n);
}

const struct ad_detect_ops ad_detect_uvad_ops = {
    .name = "uvad",
    .id = AD_DET_UVAD,
    .version = 1,
    .check = u_check,
    .size = u_size,
    .init = u_init,
    .step = u_step,
    .segs = u_segs,
    .valid = u_valid,
    .scratch = u_scratch,
};
