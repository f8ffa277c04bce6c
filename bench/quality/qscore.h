/* qscore.h - the NAB-style scorer of the quality harness.
 *
 * Rules: a point is a detection when its score is at or above the threshold;
 * detections in the warm-up (the first 15% of a series, at most 750 points)
 * are ignored. Inside a window only the earliest detection counts, worth
 * A_tp * sigma(y) where y runs from -1 at the window's left edge to 0 past
 * its right edge and sigma(y) = 2 / (1 + exp(5 y)) - 1; a window without one
 * costs -A_fn. A detection outside every window costs A_fp * sigma(y) with
 * y = (distance past the preceding window's end) / (that window's length)
 * (sigma(y) = -1 for y > 3 or with no preceding window). The total is
 * normalized so that never alarming is 0 and a detection at every window's
 * left edge is 100. One threshold per detector and profile, swept over every
 * distinct score for the best total. */
#ifndef QSCORE_H
#define QSCORE_H

#include <stddef.h>

struct q_profile {
    const char *name;
    double a_tp, a_fp, a_fn;
};
extern const struct q_profile q_profiles[3]; /* standard, low-FP, low-FN */

/* One series as the scorer sees it: its length, windows and scores. */
struct q_scored {
    size_t n;
    const double *score; /* n scores in [0, 1] */
    size_t nwin;
    const size_t *lo, *hi; /* inclusive */
};

size_t q_probation(size_t n);
double q_sigmoid(double y);

/* The raw total of series[0..ns) at threshold thr; *null and *perfect get
 * the totals of never alarming and of the perfect detector. */
double q_total(const struct q_scored *series, size_t ns, const struct q_profile *pr, double thr,
               double *null, double *perfect);
/* 100 * (raw - null) / (perfect - null); 0 when perfect == null. */
double q_normalize(double raw, double null, double perfect);

/* Sweeps every distinct score for the best normalized score; *best_thr gets
 * the threshold (above every score when never alarming is best). Returns -1e300
 * when out of memory. */
double q_sweep(const struct q_scored *series, size_t ns, const struct q_profile *pr,
               double *best_thr);

#endif
