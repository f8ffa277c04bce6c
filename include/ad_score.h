/* ad_score.h - the Welford (n, mean, M2) model and the scoring rule of
 * interface.md. Pure and allocation-free. */
#ifndef AD_SCORE_H
#define AD_SCORE_H

#include <stdbool.h>
#include <stdint.h>

struct ad_welford {
    uint64_t n;
    double mean;
    double m2;
};

/* Adds x (Welford's update). */
void ad_welford_add(struct ad_welford *w, double x);
/* Removes a previously added x (the inverse update); n == 0 is left alone.
 * When n drops to 0 the state is reset exactly; M2 is clamped at 0. */
void ad_welford_remove(struct ad_welford *w, double x);
/* sqrt(M2 / (n - 1)) for n >= 2, else 0. */
double ad_welford_stddev(const struct ad_welford *w);

struct ad_score_cfg {
    double threshold;
    uint64_t min_samples;
    int direction; /* enum ad_direction */
    bool learn_anomalies;
};

struct ad_verdict {
    bool scored;    /* n >= min_samples and stddev > 0 */
    bool anomalous; /* |z| > threshold, strictly, in an allowed direction */
    int direction;  /* AD_DIR_POSITIVE or AD_DIR_NEGATIVE (sign of z) */
    double expected, stddev, zscore;
    uint64_t n;
};

/* Scores x against w without changing it (the rule of interface.md). */
void ad_score_eval(const struct ad_score_cfg *cfg, const struct ad_welford *w, double x,
                   struct ad_verdict *out);

/* Is a scored point learnt (added to its model)? Yes, unless v found it
 * anomalous and cfg->learn_anomalies is false. The model's owner (the window
 * stage) does the adding. */
bool ad_score_learns(const struct ad_score_cfg *cfg, const struct ad_verdict *v);

#endif
