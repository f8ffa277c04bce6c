/* ad_likelihood.c - the anomaly likelihood post-stage (after Ahmad, Lavin,
 * Purdy and Agha, "Unsupervised real-time anomaly detection for streaming
 * data", Neurocomputing 2017): a raw score is judged not by itself but by how
 * improbable the average of the last few raw scores is under the long-run
 * distribution of raw scores. A noisy detector then alerts once, early, when
 * its scores rise together, and stays quiet on isolated noise.
 *
 * Streaming and O(1): the long-run distribution is an exponentially weighted
 * mean and variance (about LONG points; a cumulative average while younger),
 * the recent average a ring of AD_LIK_SHORT raw scores. */
#include <math.h>
#include <string.h>

#include "ad_detect_int.h"

#define LONG_POINTS 3000.0
#define WARMUP      64
#define RAW_CAP     50.0
#define SD_FLOOR    0.25

void ad_likelihood_init(struct ad_likelihood *lk)
{
    memset(lk, 0, sizeof(*lk));
}

/* -log10 of the upper Gaussian tail Q(z). */
static double upper_tail_logp(double z)
{
    if (z <= 0)
        return -log10(0.5 * erfc(z / sqrt(2.0)));
    if (z < 8)
        return -log10(0.5 * erfc(z / sqrt(2.0)));
    double x = z / sqrt(2.0);
    return (x * x + log(2.0 * x * AD_SQRT_PI)) / log(10.0);
}

/* The update; with 'beside', a caller that keeps the larger of the result
 * and ad_detect_tail_score(raw) is given 0 instead of a score that cannot be
 * the larger, which is then not computed (the tail function is most of the
 * cost). Why it cannot: with L(u) = -log10 Q(u), the likelihood is
 * (L(u) - l2) / (L(u) + 5) with l2 = log10 2, and the point's own score is
 * L2(raw) / (L2(raw) + 5) with L2(raw) = L(raw) - l2 (two-sided). When
 * u <= raw, L(u) - l2 <= L2(raw), so the likelihood is at most
 * L2 / (L2 + 5 + l2): below the point's score by about 6% of it (0.3% at
 * the far tail), far more than rounding or the two tails' asymptotic forms
 * (0.007 in L at most) can make up; raw >= 0.5 keeps that margin clear of
 * rounding near 0. And u < 0 (with a margin for rounding) always gives 0. */
static double update(struct ad_likelihood *lk, double raw, bool beside)
{
    /* the score of a usual recent average (avg == mean: log10(2)), as
     * ad_detect_logp_score() gives it, folded at compile time */
    const double usual = log10(2.0) / (log10(2.0) + AD_DETECT_LOGP_HALF);
    double r = isnan(raw) ? 0 : raw, avg = 0, score = 0, a, delta;
    bool scored = false;
    size_t held;

    if (r < 0)
        r = 0;
    if (r > RAW_CAP)
        r = RAW_CAP;
    lk->recent[lk->n % AD_LIK_SHORT] = r;
    held = lk->n + 1 < AD_LIK_SHORT ? (size_t)lk->n + 1 : AD_LIK_SHORT;
    for (size_t i = 0; i < held; i++)
        avg += lk->recent[i];
    /* x * 1/8 is x / 8 exactly (a power of two) */
    avg = held == AD_LIK_SHORT ? avg * (1.0 / AD_LIK_SHORT) : avg / (double)held;
    if (lk->n >= WARMUP) {
        /* Raw scores are in sigmas: a spread under a quarter of one is a
         * series that was flat, not evidence that any change is a wonder. */
        double sd = sqrt(lk->var), floor = 0.05 * lk->mean > SD_FLOOR ? 0.05 * lk->mean : SD_FLOOR;
        if (sd < floor)
            sd = floor;
        double u = (avg - lk->mean) / sd;
        if (!(beside && (u < -1e-9 || (u <= r && r >= 0.5)))) { /* else 0, see above */
            score = ad_detect_logp_score(upper_tail_logp(u));
            scored = true;
        }
    }
    lk->n++;
    /* 1 / n, never under 1 / LONG_POINTS (which it is from there on) */
    a = (double)lk->n >= LONG_POINTS ? 1.0 / LONG_POINTS : 1.0 / (double)lk->n;
    delta = r - lk->mean;
    lk->mean += a * delta;
    lk->var = (1 - a) * (lk->var + a * delta * delta);
    if (!scored)
        return 0;
    /* The stationary level of a usual score is log10(2) (avg == mean). */
    score -= usual;
    return score > 0 ? score / (1 - usual) : 0;
}

double ad_likelihood_update(struct ad_likelihood *lk, double raw)
{
    return update(lk, raw, false);
}

double ad_likelihood_update_beside(struct ad_likelihood *lk, double raw)
{
    return update(lk, raw, true);
}

bool ad_likelihood_valid(const struct ad_likelihood *lk)
{
    if (!(lk->mean >= 0 && lk->mean <= RAW_CAP) || !(lk->var >= 0 && lk->var <= RAW_CAP * RAW_CAP))
        return false;
    for (size_t i = 0; i < AD_LIK_SHORT; i++)
        if (!isfinite(lk->recent[i]) || lk->recent[i] < 0 || lk->recent[i] > RAW_CAP)
            return false;
    return true;
}

void ad_likelihood_forget_recent(struct ad_likelihood *lk)
{
    for (size_t i = 0; i < AD_LIK_SHORT; i++)
        lk->recent[i] = lk->mean;
}
