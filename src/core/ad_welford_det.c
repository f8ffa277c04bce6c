/* ad_welford_det.c - the Welford model as a detector: exactly the rule of
 * interface.md (ad_score.c does the arithmetic), with a score in [0, 1] from
 * |z| and the band expected +- threshold * stddev. */
#include <math.h>
#include <stdio.h>

#include "ad_detect_int.h"
#include "ad_err.h"
#include "ad_score.h"
#include "ad_types.h"

static int w_check(const struct ad_detect_params *p, char *err, size_t errlen)
{
    if (!(p->welford.threshold > 0) || !isfinite(p->welford.threshold) ||
        p->welford.direction < AD_DIR_BOTH || p->welford.direction > AD_DIR_NEGATIVE) {
        if (err && errlen)
            snprintf(err, errlen, "welford: threshold must be > 0 and direction valid");
        return AD_EINVAL;
    }
    return 0;
}

static size_t w_size(const struct ad_detect_params *p)
{
    (void)p;
    return sizeof(struct ad_welford);
}

static void w_init(void *state, const struct ad_detect_params *p)
{
    struct ad_welford *w = state;
    (void)p;
    w->n = 0;
    w->mean = 0;
    w->m2 = 0;
}

static void w_step(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                   void *scratch, struct ad_detect_result *out)
{
    struct ad_score_cfg cfg = {p->welford.threshold, p->welford.min_samples, p->welford.direction,
                               p->welford.learn_anomalies};
    struct ad_verdict v;
    (void)t_us;
    (void)scratch;

    ad_score_eval(&cfg, state, x, &v);
    if (ad_score_learns(&cfg, &v))
        ad_welford_add(state, x);
    out->scored = v.scored;
    out->is_anomaly = v.anomalous;
    out->expected = v.expected;
    out->raw = fabs(v.zscore);
    out->score = v.scored ? ad_detect_tail_score(v.zscore) : 0;
    out->lower = v.expected - p->welford.threshold * v.stddev;
    out->upper = v.expected + p->welford.threshold * v.stddev;
    out->kind = v.anomalous ? (v.zscore > 0 ? AD_KIND_SPIKE : AD_KIND_DIP) : AD_KIND_NONE;
}

static size_t w_segs(const struct ad_detect_params *p, struct ad_detect_seg *s, size_t max)
{
    (void)p;
    return ad_detect_seg_add(s, 0, max, 0, 3, 8);
}

static bool w_valid(const void *state, const struct ad_detect_params *p)
{
    const struct ad_welford *w = state;
    (void)p;
    return isfinite(w->mean) && isfinite(w->m2) && w->m2 >= 0 && w->n <= (uint64_t)INT64_MAX &&
           (w->n > 0 || (w->mean == 0 && w->m2 == 0));
}

const struct ad_detect_ops ad_detect_welford_ops = {
    .name = "welford",
    .id = AD_DET_WELFORD,
    .version = 1,
    .check = w_check,
    .size = w_size,
    .init = w_init,
    .step = w_step,
    .segs = w_segs,
    .valid = w_valid,
};
