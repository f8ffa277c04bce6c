/* test_quality_score.c - the harness's scorer on hand-made cases. */
#include "ad_test.h"
#include "qgen.h"
#include "qscore.h"

#define N 2000

static double scores[N];
static size_t lo1[1] = {1000}, hi1[1] = {1199};

static struct q_scored one(void)
{
    return (struct q_scored){N, scores, 1, lo1, hi1};
}

static double norm_at(const struct q_scored *s, size_t ns, int prof, double thr)
{
    double null, perfect, raw = q_total(s, ns, &q_profiles[prof], thr, &null, &perfect);
    return q_normalize(raw, null, perfect);
}

static void test_perfect_is_100(void)
{
    struct q_scored s = one();
    memset(scores, 0, sizeof(scores));
    scores[1000] = 1;
    for (int p = 0; p < 3; p++)
        AD_EXPECT_NEAR(norm_at(&s, 1, p, 0.5), 100.0, 1e-9);
}

static void test_never_alarm_is_0(void)
{
    struct q_scored s = one();
    double thr;
    memset(scores, 0, sizeof(scores));
    AD_EXPECT_NEAR(norm_at(&s, 1, 0, 0.5), 0.0, 1e-12);
    /* the sweep may choose "never" and then says 0 too */
    AD_EXPECT_NEAR(q_sweep(&s, 1, &q_profiles[0], &thr), 0.0, 1e-12);
}

static void test_warmup_ignored(void)
{
    struct q_scored s = one();
    AD_EXPECT_UINT(q_probation(N), ==, 300);
    AD_EXPECT_UINT(q_probation(100000), ==, 750);
    memset(scores, 0, sizeof(scores));
    for (size_t i = 0; i < 300; i++)
        scores[i] = 1;
    AD_EXPECT_NEAR(norm_at(&s, 1, 0, 0.5), 0.0, 1e-12);
    scores[300] = 1; /* the first point after the warm-up counts: a far FP */
    AD_EXPECT_NEAR(norm_at(&s, 1, 0, 0.5), 100.0 * -0.11 / (q_sigmoid(-1) + 1), 1e-9);
}

static void test_late_detection_is_worth_less(void)
{
    struct q_scored s = one();
    double left, mid, right;
    memset(scores, 0, sizeof(scores));
    scores[1000] = 1;
    left = norm_at(&s, 1, 0, 0.5);
    scores[1000] = 0;
    scores[1100] = 1;
    mid = norm_at(&s, 1, 0, 0.5);
    scores[1100] = 0;
    scores[1199] = 1;
    right = norm_at(&s, 1, 0, 0.5);
    AD_EXPECT(left > mid && mid > right);
    /* the middle of the window: sigma(-0.5) = 2 / (1 + e^-2.5) - 1 */
    AD_EXPECT_NEAR(mid, 100.0 * (q_sigmoid(-100.0 / 200.0) + 1) / (q_sigmoid(-1) + 1), 1e-9);
    AD_EXPECT(right > 50.0 && right < 51.0);
}

static void test_only_earliest_counts(void)
{
    struct q_scored s = one();
    double a, b;
    memset(scores, 0, sizeof(scores));
    scores[1050] = 1;
    a = norm_at(&s, 1, 0, 0.5);
    for (size_t i = 1051; i < 1200; i++)
        scores[i] = 1;
    b = norm_at(&s, 1, 0, 0.5);
    AD_EXPECT_NEAR(a, b, 1e-12);
}

static void test_false_positive_costs(void)
{
    struct q_scored s = one();
    double base, just_after, far_after, before;
    memset(scores, 0, sizeof(scores));
    scores[1000] = 1;
    base = norm_at(&s, 1, 0, 0.5);
    scores[1210] = 1; /* 10 points after a 200-point window */
    just_after = base - norm_at(&s, 1, 0, 0.5);
    scores[1210] = 0;
    scores[1990] = 1; /* y = 3.95 > 3: full cost */
    far_after = base - norm_at(&s, 1, 0, 0.5);
    scores[1990] = 0;
    scores[500] = 1; /* no preceding window: full cost */
    before = base - norm_at(&s, 1, 0, 0.5);
    AD_EXPECT(just_after > 0 && just_after < far_after);
    AD_EXPECT_NEAR(far_after, before, 1e-9);
    AD_EXPECT_NEAR(before, 100.0 * 0.11 / (q_sigmoid(-1) + 1), 1e-9);
    AD_EXPECT_NEAR(just_after, -100.0 * 0.11 * q_sigmoid(11.0 / 200.0) / (q_sigmoid(-1) + 1), 1e-9);
    /* the low-FP profile doubles the cost */
    AD_EXPECT_NEAR(100.0 - norm_at(&s, 1, 1, 0.5), 2 * before, 1e-9);
}

static void test_low_fn_weighs_misses(void)
{
    size_t lo[2] = {600, 1500}, hi[2] = {699, 1599};
    struct q_scored s = {N, scores, 2, lo, hi};
    memset(scores, 0, sizeof(scores));
    scores[600] = 1;
    /* one of two windows found at its left edge: 50 whatever the miss weight */
    AD_EXPECT_NEAR(norm_at(&s, 1, 0, 0.5), 50.0, 1e-9);
    AD_EXPECT_NEAR(norm_at(&s, 1, 2, 0.5), 50.0, 1e-9);
    /* plus one far FP: the FP weighs less against a doubled miss weight */
    scores[1900] = 1;
    AD_EXPECT(norm_at(&s, 1, 2, 0.5) > norm_at(&s, 1, 0, 0.5));
}

static void test_sweep_matches_brute_force(void)
{
    size_t lo[2] = {600, 1500}, hi[2] = {699, 1599};
    struct q_scored s[2] = {{N, scores, 2, lo, hi}, {N, scores + 0, 1, lo1, hi1}};
    uint64_t x = 42;
    double thr, best = -1e300;

    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        scores[i] = (double)(x >> 40) / 16777216.0 * 0.9;
    }
    scores[610] = 0.97;
    scores[1005] = 0.95;
    scores[1520] = 0.93;
    for (int p = 0; p < 3; p++) {
        double got = q_sweep(s, 2, &q_profiles[p], &thr);
        best = -1e300;
        for (size_t i = 0; i < N; i++) {
            double v = norm_at(s, 2, p, scores[i]);
            if (v > best)
                best = v;
        }
        if (best < 0)
            best = 0;
        AD_EXPECT_NEAR(got, best, 1e-9);
        AD_EXPECT_NEAR(norm_at(s, 2, p, thr), got, 1e-9);
        AD_EXPECT(got > 80);
    }
}

static void test_corpus_shape(void)
{
    struct q_corpus a, b;
    size_t types[Q_TYPE_COUNT] = {0};

    AD_EXPECT_INT(q_corpus_make(&a, 7), ==, 0);
    AD_EXPECT_INT(q_corpus_make(&b, 7), ==, 0);
    AD_EXPECT_UINT(a.n, >=, 60);
    AD_EXPECT_UINT(a.n, ==, b.n);
    for (size_t i = 0; i < a.n; i++) {
        const struct q_series *s = &a.s[i];
        AD_EXPECT_UINT(s->n, >=, 900);
        AD_EXPECT_UINT(s->n, <=, 20000);
        AD_EXPECT(memcmp(s->v, b.s[i].v, s->n * sizeof(double)) == 0);
        types[s->type]++;
        AD_EXPECT_UINT(s->nwin, ==, s->type == 0 ? 0 : s->nwin);
        if (s->type != 0)
            AD_EXPECT_UINT(s->nwin, >=, 1);
        for (size_t w = 0; w < s->nwin; w++) {
            AD_EXPECT_UINT(s->lo[w], >=, q_probation(s->n));
            AD_EXPECT_UINT(s->hi[w], <, s->n);
            if (w > 0)
                AD_EXPECT_UINT(s->lo[w], >, s->hi[w - 1]);
        }
        for (size_t k = 1; k < s->n; k++)
            AD_EXPECT(s->t_us[k] > s->t_us[k - 1]);
    }
    for (int t = 0; t < Q_TYPE_COUNT; t++)
        AD_EXPECT_UINT(types[t], >=, 5);
    q_corpus_free(&a);
    q_corpus_free(&b);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_perfect_is_100);
    AD_TEST_RUN(argc, argv, test_never_alarm_is_0);
    AD_TEST_RUN(argc, argv, test_warmup_ignored);
    AD_TEST_RUN(argc, argv, test_late_detection_is_worth_less);
    AD_TEST_RUN(argc, argv, test_only_earliest_counts);
    AD_TEST_RUN(argc, argv, test_false_positive_costs);
    AD_TEST_RUN(argc, argv, test_low_fn_weighs_misses);
    AD_TEST_RUN(argc, argv, test_sweep_matches_brute_force);
    AD_TEST_RUN(argc, argv, test_corpus_shape);
    return ad_test_done();
}
