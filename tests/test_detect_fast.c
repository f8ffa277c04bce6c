/* test_detect_fast.c - the detectors' shortcuts change nothing: each is
 * checked against the plain computation it stands for, on seeded data made to
 * hit its edges (ties, runs of one value, scores near 0 and in the far tail).
 *   - the robust window's sorted arrays stay the sorted ring, and its median
 *     is the ring's, through ties and re-baselines;
 *   - the likelihood update that auto uses beside the point score gives the
 *     same larger score and the same state as the full update. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/ad_detect_int.h"
#include "ad_test.h"

#define WIN 64

static _Alignas(8) unsigned char wbuf[8192];

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of the window's last n values, sorted from scratch. */
static double ring_median(const struct ad_robust_win *w)
{
    double v[AD_ROBUST_SHORT];
    size_t n = (size_t)w->n;

    memcpy(v, w->vals, n * sizeof(double));
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void test_robust_window_stays_sorted(void)
{
    struct ad_robust_win *w = (struct ad_robust_win *)(void *)wbuf;
    double med, sig, ties[5] = {1, 2, 2.5, 3, 7};

    AD_EXPECT(ad_robust_win_size(WIN) <= sizeof(wbuf));
    ad_test_rng = 11;
    ad_robust_win_init(w);
    for (int i = 0; i < 20000; i++) {
        double x;
        switch ((i / 500) % 4) {
        case 0: /* few distinct values: ties everywhere */
            x = ties[(int)(ad_test_unif() * 5)];
            break;
        case 1: /* one value, then a step */
            x = i % 500 < 300 ? 5 : 9;
            break;
        case 2: /* a trend: every new value at one end */
            x = 0.01 * i + 0.001 * ad_test_gauss();
            break;
        default: /* noise with spikes */
            x = ad_test_gauss() * (ad_test_unif() < 0.02 ? 50 : 1);
        }
        ad_robust_win_add(w, WIN, x, NULL);
        if (i % 997 == 0)
            ad_robust_win_shift(w, 3.5, (uint64_t)(i % 7)); /* a re-baseline */
        AD_EXPECT(ad_robust_win_valid(w, WIN));             /* sorted arrays == sorted rings */
        if (ad_robust_win_stats(w, WIN, &med, &sig)) {
            double want = ring_median(w);
            AD_EXPECT(memcmp(&med, &want, sizeof(med)) == 0);
            AD_EXPECT(sig > 0);
        }
    }
}

/* A raw score stream that visits what the shortcut decides on: usual
 * scores, quiet runs (the recent average under the long-run one), bursts (the
 * average above it), exact zeros, values near 0.5, the far tail beyond 8 and
 * beyond the cap, and NaN. */
static double raw_at(int i)
{
    int phase = (i / 400) % 6;
    double g = fabs(ad_test_gauss());

    if (i % 1237 == 0)
        return NAN;
    switch (phase) {
    case 0:
        return g;
    case 1:
        return i % 50 < 10 ? 3 + 4 * g : 0.2 * g;
    case 2:
        return ad_test_unif() < 0.1 ? 0 : 0.5 + 1e-3 * ad_test_gauss();
    case 3:
        return 6 + 10 * ad_test_unif(); /* across the asymptotic branch at 8 */
    case 4:
        return ad_test_unif() < 0.05 ? 60 * ad_test_unif() : g;
    default:
        return 1e-12 * g; /* all but zero */
    }
}

static void test_likelihood_beside_is_the_full_update(void)
{
    struct ad_likelihood full, fast;
    int skipped_work = 0;

    ad_test_rng = 23;
    ad_likelihood_init(&full);
    ad_likelihood_init(&fast);
    for (int i = 0; i < 200000; i++) {
        double raw = raw_at(i), point = ad_detect_tail_score(raw);
        double a = ad_likelihood_update(&full, raw), b = ad_likelihood_update_beside(&fast, raw);
        double best_a = a > point ? a : point, best_b = b > point ? b : point;

        AD_EXPECT(memcmp(&best_a, &best_b, sizeof(double)) == 0);
        AD_EXPECT(b == a || b == 0);
        AD_EXPECT(memcmp(&full, &fast, sizeof(full)) == 0);
        if (a > 0 && b == 0)
            skipped_work++;
        if (i % 5000 == 4999) { /* as auto does after a finding */
            ad_likelihood_forget_recent(&full);
            ad_likelihood_forget_recent(&fast);
        }
    }
    /* the stream did reach the case where a score was left uncomputed */
    AD_EXPECT_INT(skipped_work, >, 100);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_robust_window_stays_sorted);
    AD_TEST_RUN(argc, argv, test_likelihood_beside_is_the_full_update);
    return ad_test_done();
}
