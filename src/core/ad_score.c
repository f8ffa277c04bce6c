#include "ad_score.h"

#include <math.h>

#include "ad_types.h"

void ad_welford_add(struct ad_welford *w, double x)
{
    double delta = x - w->mean;
    w->n++;
    w->mean += delta / (double)w->n;
    w->m2 += delta * (x - w->mean);
}

void ad_welford_remove(struct ad_welford *w, double x)
{
    if (w->n == 0)
        return;
    if (w->n == 1) {
        w->n = 0;
        w->mean = 0;
        w->m2 = 0;
        return;
    }
    double old_mean = w->mean;
    double new_mean = ((double)w->n * old_mean - x) / (double)(w->n - 1);
    w->n--;
    w->mean = new_mean;
    w->m2 -= (x - new_mean) * (x - old_mean);
    if (w->n == 1 || w->m2 < 0)
        w->m2 = 0;
}

double ad_welford_stddev(const struct ad_welford *w)
{
    if (w->n < 2)
        return 0;
    return sqrt(w->m2 / (double)(w->n - 1));
}

void ad_score_eval(const struct ad_score_cfg *cfg, const struct ad_welford *w, double x,
                   struct ad_verdict *out)
{
    out->n = w->n;
    out->expected = w->mean;
    out->stddev = ad_welford_stddev(w);
    out->scored = w->n >= cfg->min_samples && out->stddev > 0;
    out->anomalous = false;
    out->zscore = 0;
    out->direction = AD_DIR_POSITIVE;
    if (!out->scored)
        return;
    out->zscore = (x - w->mean) / out->stddev;
    out->direction = out->zscore < 0 ? AD_DIR_NEGATIVE : AD_DIR_POSITIVE;
    if (fabs(out->zscore) > cfg->threshold)
        out->anomalous = cfg->direction == AD_DIR_BOTH || cfg->direction == out->direction;
}

bool ad_score_learns(const struct ad_score_cfg *cfg, const struct ad_verdict *v)
{
    return !v->anomalous || cfg->learn_anomalies;
}
