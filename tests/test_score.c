/* Welford and the scoring rule against a two-pass reference. */
#include "ad_test.h"

#include "ad_config.h"
#include "ad_score.h"

static uint64_t rng_state = 42;
static double rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

static void two_pass(const double *x, size_t n, double *mean, double *m2)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    *mean = n ? s / (double)n : 0;
    double q = 0;
    for (size_t i = 0; i < n; i++)
        q += (x[i] - *mean) * (x[i] - *mean);
    *m2 = q;
}

static void test_welford_matches_two_pass(void)
{
    double x[5000];
    for (int trial = 0; trial < 20; trial++) {
        struct ad_welford w = {0};
        double scale = trial % 2 ? 1e6 : 1e-3, offset = trial * 1000.0;
        for (size_t i = 0; i < 5000; i++) {
            x[i] = offset + (rnd() - 0.5) * scale;
            ad_welford_add(&w, x[i]);
        }
        double mean, m2;
        two_pass(x, 5000, &mean, &m2);
        AD_EXPECT_UINT(w.n, ==, 5000);
        AD_EXPECT_NEAR(w.mean, mean, 1e-12);
        AD_EXPECT_NEAR(w.m2, m2, 1e-9);
    }
}

/* The window scope: a sliding set maintained by add/remove. */
static void test_welford_add_remove_window(void)
{
    enum { N = 3000, W = 48 };
    double x[N];
    struct ad_welford w = {0};
    for (size_t i = 0; i < N; i++) {
        x[i] = 20 + 5 * (rnd() - 0.5) + (i % 500 == 0 ? 40 : 0);
        ad_welford_add(&w, x[i]);
        if (i >= W)
            ad_welford_remove(&w, x[i - W]);
        size_t lo = i >= W ? i - W + 1 : 0, n = i - lo + 1;
        double mean, m2;
        two_pass(x + lo, n, &mean, &m2);
        AD_EXPECT_UINT(w.n, ==, n);
        AD_EXPECT_NEAR(w.mean, mean, 1e-9);
        AD_EXPECT_NEAR(w.m2, m2, 1e-7);
    }
    /* Remove everything: back to exactly zero. */
    for (size_t i = N - W; i < N; i++)
        ad_welford_remove(&w, x[i]);
    AD_EXPECT_UINT(w.n, ==, 0);
    AD_EXPECT(w.mean == 0 && w.m2 == 0);
}

static void test_stddev_small_n(void)
{
    struct ad_welford w = {0};
    AD_EXPECT(ad_welford_stddev(&w) == 0);
    ad_welford_add(&w, 5);
    AD_EXPECT(ad_welford_stddev(&w) == 0);
    ad_welford_add(&w, 7);
    AD_EXPECT_NEAR(ad_welford_stddev(&w), 1.4142135623730951, 1e-15);
}

static struct ad_welford model_of(double mean, double sd, uint64_t n)
{
    struct ad_welford w = {.n = n, .mean = mean, .m2 = sd * sd * (double)(n - 1)};
    return w;
}

static void test_rule_threshold_strict(void)
{
    struct ad_score_cfg c = {.threshold = 4.0, .min_samples = 30, .direction = AD_DIR_BOTH};
    struct ad_welford w = model_of(10, 1, 100);
    struct ad_verdict v;
    ad_score_eval(&c, &w, 14.0, &v); /* z == 4 exactly: not anomalous */
    AD_EXPECT(v.scored);
    AD_EXPECT_NEAR(v.zscore, 4.0, 1e-12);
    AD_EXPECT(!v.anomalous);
    ad_score_eval(&c, &w, 14.0001, &v);
    AD_EXPECT(v.anomalous);
    AD_EXPECT_INT(v.direction, ==, AD_DIR_POSITIVE);
    ad_score_eval(&c, &w, 5.9, &v);
    AD_EXPECT(v.anomalous);
    AD_EXPECT_INT(v.direction, ==, AD_DIR_NEGATIVE);
    AD_EXPECT_UINT(v.n, ==, 100);
    AD_EXPECT_NEAR(v.expected, 10, 1e-15);
    AD_EXPECT_NEAR(v.stddev, 1, 1e-12);
}

static void test_rule_direction_and_min_samples(void)
{
    struct ad_score_cfg c = {.threshold = 3.0, .min_samples = 30, .direction = AD_DIR_POSITIVE};
    struct ad_welford w = model_of(0, 1, 30);
    struct ad_verdict v;
    ad_score_eval(&c, &w, -10, &v);
    AD_EXPECT(v.scored && !v.anomalous);
    c.direction = AD_DIR_NEGATIVE;
    ad_score_eval(&c, &w, -10, &v);
    AD_EXPECT(v.anomalous);
    ad_score_eval(&c, &w, 10, &v);
    AD_EXPECT(!v.anomalous);
    w = model_of(0, 1, 29); /* n < min_samples: no verdict */
    ad_score_eval(&c, &w, -100, &v);
    AD_EXPECT(!v.scored && !v.anomalous);
    struct ad_welford flat = {.n = 100, .mean = 3, .m2 = 0}; /* stddev 0: no verdict */
    ad_score_eval(&c, &flat, 1000, &v);
    AD_EXPECT(!v.scored && !v.anomalous);
}

static void test_learn_anomalies(void)
{
    struct ad_score_cfg c = {.threshold = 3.0, .min_samples = 2, .direction = AD_DIR_BOTH};
    struct ad_welford w = model_of(0, 1, 50);
    struct ad_verdict v;
    ad_score_eval(&c, &w, 100, &v);
    AD_EXPECT(v.anomalous);
    AD_EXPECT(!ad_score_learns(&c, &v)); /* an anomaly stays out of the model */
    ad_score_eval(&c, &w, 0.5, &v);
    AD_EXPECT(v.scored && !v.anomalous);
    AD_EXPECT(ad_score_learns(&c, &v));
    struct ad_welford few = model_of(0, 1, 1); /* unscored points are learnt */
    ad_score_eval(&c, &few, 100, &v);
    AD_EXPECT(!v.scored && ad_score_learns(&c, &v));
    c.learn_anomalies = true;
    ad_score_eval(&c, &w, 100, &v);
    AD_EXPECT(v.anomalous);
    AD_EXPECT(ad_score_learns(&c, &v));
    AD_EXPECT_UINT(w.n, ==, 50); /* scoring never changes the model */
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_welford_matches_two_pass);
    AD_TEST_RUN(argc, argv, test_welford_add_remove_window);
    AD_TEST_RUN(argc, argv, test_stddev_small_n);
    AD_TEST_RUN(argc, argv, test_rule_threshold_strict);
    AD_TEST_RUN(argc, argv, test_rule_direction_and_min_samples);
    AD_TEST_RUN(argc, argv, test_learn_anomalies);
    return ad_test_done();
}
