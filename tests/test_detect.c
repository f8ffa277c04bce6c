/* test_detect.c - the detector interface: the Welford detector against the
 * scoring rule, save/restore round trips for every detector, fixed state
 * size, refused NaN/Inf, restore of bad encodings, the score map, the
 * likelihood stage, the rules and the missing-data policy. The behaviour of
 * each model is in test_detect_models.c. */
#include <stdint.h>

#include "ad_detect.h"
#include "ad_err.h"
#include "ad_score.h"
#include "ad_test.h"
#include "ad_types.h"

#define T0        1704067200000000LL /* 2024-01-01T00:00:00Z in microseconds */
#define STEP      300000000LL        /* 5 minutes */
#define MAX_STATE 65536

static _Alignas(8) unsigned char st_a[MAX_STATE + 64];
static _Alignas(8) unsigned char st_b[MAX_STATE + 64];
static uint8_t enc_a[MAX_STATE], enc_b[MAX_STATE];

/* A daily pattern with noise, a spike and a level shift. */
static double series_value(size_t i)
{
    double h = (double)(i % 288) / 12.0, v = 100 + 20 * sin(6.283185307179586 * h / 24);
    v += 2 * ad_test_gauss();
    if (i == 1500)
        v += 60;
    if (i >= 2500)
        v += 25;
    return v;
}

static void all_params(struct ad_detect_params *p, int *n)
{
    int k = 0;
    for (int id = AD_DET_WELFORD; id <= AD_DET_AUTO; id++) {
        ad_detect_defaults(&p[k++], id);
        ad_detect_defaults(&p[k], id);
        p[k++].likelihood = true;
    }
    *n = k;
}

static void test_registry_and_check(void)
{
    struct ad_detect_params p;
    char err[128] = "";
    const char *names[] = {"welford", "robust", "seasonal", "change", "auto"};

    for (int i = 0; i < 5; i++) {
        const struct ad_detect_ops *ops = ad_detect_find(names[i]);
        AD_EXPECT(ops != NULL);
        AD_EXPECT_STR(ops->name, names[i]);
        AD_EXPECT(ad_detect_by_id(ops->id) == ops);
        ad_detect_defaults(&p, ops->id);
        AD_EXPECT_INT(ad_detect_check(&p, err, sizeof(err)), ==, 0);
    }
    AD_EXPECT(ad_detect_find("zscore") == NULL);
    AD_EXPECT(ad_detect_find(NULL) == NULL);
    ad_detect_defaults(&p, 99);
    AD_EXPECT_INT(ad_detect_check(&p, err, sizeof(err)), ==, AD_EINVAL);
    ad_detect_defaults(&p, AD_DET_ROBUST);
    p.robust.window = 4;
    AD_EXPECT_INT(ad_detect_check(&p, err, sizeof(err)), ==, AD_EINVAL);
    AD_EXPECT_CONTAINS(err, "window");
    ad_detect_defaults(&p, AD_DET_AUTO);
    p.autod.sensitivity = 101;
    AD_EXPECT_INT(ad_detect_check(&p, err, sizeof(err)), ==, AD_EINVAL);
    ad_detect_defaults(&p, AD_DET_SEASONAL);
    p.seasonal.day_bins = 10;
    AD_EXPECT_INT(ad_detect_check(&p, err, sizeof(err)), ==, AD_EINVAL);
    ad_detect_defaults(&p, AD_DET_CHANGE);
    p.change.var_ratio = 1;
    AD_EXPECT_INT(ad_detect_check(&p, err, sizeof(err)), ==, AD_EINVAL);
    AD_EXPECT_STR(ad_kind_name(AD_KIND_LEVEL_SHIFT), "level_shift");
    AD_EXPECT_STR(ad_kind_name(AD_KIND_FLATLINE), "flatline");
    AD_EXPECT_STR(ad_kind_name(AD_KIND_COUNT_), "?");
}

/* The Welford detector is the interface.md rule, bit for bit. */
static void test_welford_is_exact(void)
{
    for (int learn = 0; learn <= 1; learn++) {
        struct ad_detect_params p;
        struct ad_score_cfg cfg = {3.0, 30, AD_DIR_POSITIVE, learn != 0};
        struct ad_welford ref = {0, 0, 0};
        struct ad_detect_result r;
        size_t anomalies = 0;

        ad_detect_defaults(&p, AD_DET_WELFORD);
        p.welford.threshold = 3.0;
        p.welford.direction = AD_DIR_POSITIVE;
        p.welford.learn_anomalies = learn != 0;
        ad_detect_init(st_a, &p);
        ad_test_rng = 7;
        for (size_t i = 0; i < 3000; i++) {
            double x = 10 + ad_test_gauss() + (i % 97 == 0 ? 8 : 0) - (i % 89 == 0 ? 8 : 0);
            struct ad_verdict v;
            ad_score_eval(&cfg, &ref, x, &v);
            if (ad_score_learns(&cfg, &v))
                ad_welford_add(&ref, x);
            ad_detect_step(st_a, &p, T0 + (int64_t)i * STEP, x, &r);
            AD_EXPECT_INT(r.is_anomaly, ==, v.anomalous);
            AD_EXPECT_INT(r.scored, ==, v.scored);
            AD_EXPECT(memcmp(&r.expected, &v.expected, sizeof(double)) == 0);
            AD_EXPECT(r.raw == fabs(v.zscore));
            if (v.scored) {
                AD_EXPECT_NEAR(r.upper, v.expected + 3.0 * v.stddev, 1e-12);
                AD_EXPECT(r.score >= 0 && r.score <= 1);
            }
            if (r.is_anomaly) {
                AD_EXPECT_INT(r.kind, ==, AD_KIND_SPIKE); /* positive direction only */
                anomalies++;
            }
        }
        AD_EXPECT(memcmp(st_a, &ref, sizeof(ref)) == 0);
        AD_EXPECT_UINT(anomalies, >, 10);
    }
}

static void run_points(void *st, const struct ad_detect_params *p, size_t from, size_t to,
                       struct ad_detect_result *last)
{
    for (size_t i = from; i < to; i++)
        ad_detect_step(st, p, T0 + (int64_t)i * STEP, series_value(i), last);
}

/* Save, restore elsewhere, compare bytes; then both go on identically. */
static void test_save_restore_round_trip(void)
{
    struct ad_detect_params ps[10];
    int np;

    all_params(ps, &np);
    for (int k = 0; k < np; k++) {
        const struct ad_detect_params *p = &ps[k];
        size_t size = ad_detect_size(p), na = 0, nb = 0;
        struct ad_detect_result ra, rb;

        AD_EXPECT_UINT(size % 8, ==, 0);
        AD_EXPECT_UINT(size, <=, MAX_STATE);
        memset(st_b, 0xa5, sizeof(st_b));
        ad_detect_init(st_a, p);
        ad_test_rng = 99;
        run_points(st_a, p, 0, 2000, &ra);
        AD_EXPECT_INT(ad_detect_save(st_a, p, enc_a, sizeof(enc_a), &na), ==, 0);
        AD_EXPECT_UINT(na, ==, ad_detect_encoded_size(p));
        AD_EXPECT_INT(ad_detect_save(st_a, p, enc_a, na - 1, &nb), ==, AD_ELIMIT);
        AD_EXPECT_INT(ad_detect_restore(st_b, p, enc_a, na), ==, 0);
        AD_EXPECT(memcmp(st_a, st_b, size) == 0);
        AD_EXPECT_INT(ad_detect_save(st_b, p, enc_b, sizeof(enc_b), &nb), ==, 0);
        AD_EXPECT_UINT(nb, ==, na);
        AD_EXPECT(memcmp(enc_a, enc_b, na) == 0);
        /* the bytes after the state are never touched */
        AD_EXPECT_INT(st_b[size], ==, 0xa5);
        for (size_t i = 2000; i < 4000; i++) {
            double x = series_value(i);
            ad_detect_step(st_a, p, T0 + (int64_t)i * STEP, x, &ra);
            ad_detect_step(st_b, p, T0 + (int64_t)i * STEP, x, &rb);
            AD_EXPECT(memcmp(&ra, &rb, sizeof(ra)) == 0);
        }
        AD_EXPECT(memcmp(st_a, st_b, size) == 0);
        AD_EXPECT_INT(st_b[size], ==, 0xa5);
    }
}

/* The encoding is little-endian words, whatever the host. */
static void test_encoding_layout(void)
{
    struct ad_detect_params p;
    size_t n = 0;
    struct ad_detect_result r;
    double mean;
    uint64_t bits = 0;

    ad_detect_defaults(&p, AD_DET_WELFORD);
    ad_detect_init(st_a, &p);
    ad_detect_step(st_a, &p, T0, 2.5, &r);
    ad_detect_step(st_a, &p, T0 + STEP, 3.5, &r);
    AD_EXPECT_INT(ad_detect_save(st_a, &p, enc_a, sizeof(enc_a), &n), ==, 0);
    AD_EXPECT_UINT(n, ==, 10 + 3 * 8);
    AD_EXPECT_INT(enc_a[0], ==, 'A');
    AD_EXPECT_INT(enc_a[1], ==, 'D');
    AD_EXPECT_INT(enc_a[2], ==, AD_DET_WELFORD);
    AD_EXPECT_INT(enc_a[3], ==, 1);
    AD_EXPECT_INT(enc_a[4], ==, 0);
    AD_EXPECT_INT(enc_a[6], ==, 3);  /* three words */
    AD_EXPECT_INT(enc_a[10], ==, 2); /* n = 2, low byte first */
    for (int b = 0; b < 8; b++)
        bits |= (uint64_t)enc_a[18 + b] << (8 * b);
    memcpy(&mean, &bits, sizeof(mean));
    AD_EXPECT(mean == 3.0);
}

static void test_restore_refuses_bad_encodings(void)
{
    struct ad_detect_params p, other;
    struct ad_detect_result r;
    size_t n = 0, m = 0;

    ad_detect_defaults(&p, AD_DET_AUTO);
    ad_detect_init(st_a, &p);
    ad_test_rng = 5;
    run_points(st_a, &p, 0, 800, &r);
    AD_EXPECT_INT(ad_detect_save(st_a, &p, enc_a, sizeof(enc_a), &n), ==, 0);
    /* a fresh state, for comparison with a refused restore */
    ad_detect_init(st_a, &p);
    AD_EXPECT_INT(ad_detect_restore(st_b, &p, enc_a, n - 1), ==, AD_EPARSE);
    AD_EXPECT(memcmp(st_a, st_b, ad_detect_size(&p)) == 0);
    enc_a[3] ^= 0xff; /* another layout version */
    AD_EXPECT_INT(ad_detect_restore(st_b, &p, enc_a, n), ==, AD_EPARSE);
    enc_a[3] ^= 0xff;
    enc_a[4] = 1; /* says a likelihood stage follows */
    AD_EXPECT_INT(ad_detect_restore(st_b, &p, enc_a, n), ==, AD_EPARSE);
    enc_a[4] = 0;
    AD_EXPECT_INT(ad_detect_restore(st_b, &p, enc_a, n), ==, 0);
    /* a NaN where a double was: refused, and the state is fresh again */
    memset(enc_a + 10 + 8, 0xff, 8);
    AD_EXPECT_INT(ad_detect_restore(st_b, &p, enc_a, n), ==, AD_EPARSE);
    AD_EXPECT(memcmp(st_a, st_b, ad_detect_size(&p)) == 0);
    /* another detector's encoding */
    ad_detect_defaults(&other, AD_DET_ROBUST);
    ad_detect_init(st_b, &other);
    AD_EXPECT_INT(ad_detect_save(st_b, &other, enc_b, sizeof(enc_b), &m), ==, 0);
    AD_EXPECT_INT(ad_detect_restore(st_b, &p, enc_b, m), ==, AD_EPARSE);
    /* a robust ring index out of range */
    ad_detect_init(st_b, &other);
    run_points(st_b, &other, 0, 100, &r);
    AD_EXPECT_INT(ad_detect_save(st_b, &other, enc_b, sizeof(enc_b), &m), ==, 0);
    enc_b[10 + 8] = 200; /* head */
    AD_EXPECT_INT(ad_detect_restore(st_b, &other, enc_b, m), ==, AD_EPARSE);
}

/* A non-finite value never reaches a model. */
static void test_nan_never_reaches_a_model(void)
{
    struct ad_detect_params ps[10];
    const double bad[] = {NAN, INFINITY, -INFINITY};
    int np;

    all_params(ps, &np);
    for (int k = 0; k < np; k++) {
        struct ad_detect_result r;
        size_t size = ad_detect_size(&ps[k]);
        ad_detect_init(st_a, &ps[k]);
        ad_test_rng = 3;
        run_points(st_a, &ps[k], 0, 1000, &r);
        memcpy(st_b, st_a, size);
        for (int b = 0; b < 3; b++) {
            ad_detect_step(st_a, &ps[k], T0 + 1000 * STEP, bad[b], &r);
            AD_EXPECT(!r.scored && !r.is_anomaly && r.score == 0);
            AD_EXPECT(memcmp(st_a, st_b, size) == 0);
        }
    }
}

/* A flat series: no division by zero, scores stay finite. */
static void test_flat_series(void)
{
    struct ad_detect_params ps[10];
    int np;

    all_params(ps, &np);
    for (int k = 0; k < np; k++) {
        struct ad_detect_result r;
        size_t anomalies = 0;
        ad_detect_init(st_a, &ps[k]);
        for (size_t i = 0; i < 3000; i++) {
            double x = i < 2000 ? 42.0 : 43.0;
            ad_detect_step(st_a, &ps[k], T0 + (int64_t)i * STEP, x, &r);
            AD_EXPECT(isfinite(r.score) && r.score >= 0 && r.score <= 1);
            AD_EXPECT(isfinite(r.expected) && isfinite(r.lower) && isfinite(r.upper));
            AD_EXPECT(r.lower <= r.upper);
            anomalies += r.is_anomaly;
        }
        /* the step itself, perhaps a flatline finding; never a storm. Not
         * for Welford: its contract (learn_anomalies: false) keeps alarming
         * after a step, the failure the other detectors exist to avoid. */
        if (ps[k].detector != AD_DET_WELFORD && anomalies > 12)
            AD_FAIL_("detector %d (likelihood %d): %zu anomalies", ps[k].detector, ps[k].likelihood,
                     anomalies);
    }
}

static void test_state_size_bound(void)
{
    struct ad_detect_params p;

    ad_detect_defaults(&p, AD_DET_AUTO);
    AD_EXPECT_UINT(ad_detect_size(&p), <=, 4096);
    ad_detect_defaults(&p, AD_DET_WELFORD);
    AD_EXPECT_UINT(ad_detect_size(&p), ==, 24);
    ad_detect_defaults(&p, AD_DET_SEASONAL);
    p.seasonal.day_bins = 1440;
    AD_EXPECT_UINT(ad_detect_size(&p), <=, 8192);
}

static void test_tail_score(void)
{
    double prev = -1;
    AD_EXPECT_NEAR(ad_detect_tail_score(0), 0, 1e-12);
    AD_EXPECT_NEAR(ad_detect_tail_score(4), 0.456, 0.01);
    AD_EXPECT_NEAR(ad_detect_tail_score(-4), ad_detect_tail_score(4), 1e-15);
    /* monotone and continuous across the asymptotic branch at 8 */
    for (double z = 0; z < 40; z += 0.01) {
        double s = ad_detect_tail_score(z);
        AD_EXPECT(s >= prev && s < 1);
        AD_EXPECT(s - prev < 0.01 || prev < 0);
        prev = s;
    }
    AD_EXPECT(ad_detect_tail_score(INFINITY) == 1);
    AD_EXPECT(ad_detect_tail_score(NAN) == 0);
}

static void test_likelihood(void)
{
    struct ad_likelihood lk;
    double s = 0, single = 0;

    ad_likelihood_init(&lk);
    for (int i = 0; i < 500; i++)
        s = ad_likelihood_update(&lk, 1.0 + 0.1 * (i % 3));
    AD_EXPECT(s < 0.1);
    /* one isolated high score: noticed, but less than a sustained rise */
    single = ad_likelihood_update(&lk, 5.0);
    for (int i = 0; i < 8; i++)
        s = ad_likelihood_update(&lk, 1.0);
    AD_EXPECT(s < single);
    for (int i = 0; i < 6; i++)
        s = ad_likelihood_update(&lk, 5.0);
    AD_EXPECT(s > single);
    AD_EXPECT(s > 0.5 && s <= 1);
    AD_EXPECT(ad_likelihood_valid(&lk));
    lk.var = -1;
    AD_EXPECT(!ad_likelihood_valid(&lk));
}

static void test_rules(void)
{
    struct ad_detect_rules r = {AD_DIR_POSITIVE, 0, 0, 0};
    struct ad_detect_result res = {true, true, AD_KIND_DIP, 0.9, 6, 100, 90, 110};
    int64_t last = INT64_MIN;

    ad_detect_rules_apply(&r, &last, T0, 80, &res);
    AD_EXPECT(!res.is_anomaly); /* a dip, only rises wanted */
    AD_EXPECT(last == INT64_MIN);
    res.is_anomaly = true;
    res.kind = AD_KIND_VARIANCE_CHANGE; /* no direction */
    ad_detect_rules_apply(&r, &last, T0, 80, &res);
    AD_EXPECT(res.is_anomaly);
    AD_EXPECT(last == T0);

    r = (struct ad_detect_rules){AD_DIR_BOTH, 5, 0, 0};
    res.is_anomaly = true;
    res.kind = AD_KIND_SPIKE;
    ad_detect_rules_apply(&r, &last, T0, 104, &res);
    AD_EXPECT(!res.is_anomaly); /* 4 < 5 */
    r = (struct ad_detect_rules){AD_DIR_BOTH, 0, 0.1, 0};
    res.is_anomaly = true;
    ad_detect_rules_apply(&r, &last, T0, 109, &res);
    AD_EXPECT(!res.is_anomaly); /* 9 < 10% of 100 */
    res.is_anomaly = true;
    ad_detect_rules_apply(&r, &last, T0, 111, &res);
    AD_EXPECT(res.is_anomaly);

    r = (struct ad_detect_rules){AD_DIR_BOTH, 0, 0, 600000000LL};
    last = INT64_MIN;
    res.is_anomaly = true;
    ad_detect_rules_apply(&r, &last, T0, 150, &res);
    AD_EXPECT(res.is_anomaly);
    res.is_anomaly = true;
    ad_detect_rules_apply(&r, &last, T0 + STEP, 150, &res);
    AD_EXPECT(!res.is_anomaly); /* within 10 minutes of the last */
    res.is_anomaly = true;
    ad_detect_rules_apply(&r, &last, T0 + 2 * STEP, 150, &res);
    AD_EXPECT(res.is_anomaly);
}

static void test_fill(void)
{
    double v = -1;

    AD_EXPECT_INT(ad_fill_parse("skip"), ==, AD_FILL_SKIP);
    AD_EXPECT_INT(ad_fill_parse("previous"), ==, AD_FILL_PREVIOUS);
    AD_EXPECT_INT(ad_fill_parse("linear"), ==, AD_FILL_LINEAR);
    AD_EXPECT_INT(ad_fill_parse("zero"), ==, AD_FILL_ZERO);
    AD_EXPECT_INT(ad_fill_parse("mean"), ==, -1);
    AD_EXPECT(!ad_fill_value(AD_FILL_SKIP, 1, 5, 1, 3, &v));
    AD_EXPECT(ad_fill_value(AD_FILL_PREVIOUS, 1, 5, 2, 3, &v) && v == 1);
    AD_EXPECT(ad_fill_value(AD_FILL_LINEAR, 1, 5, 1, 3, &v) && v == 2);
    AD_EXPECT(ad_fill_value(AD_FILL_LINEAR, 1, 5, 3, 3, &v) && v == 4);
    AD_EXPECT(ad_fill_value(AD_FILL_ZERO, 1, 5, 2, 3, &v) && v == 0);
    AD_EXPECT(!ad_fill_value(AD_FILL_LINEAR, 1, 5, 0, 3, &v));
    AD_EXPECT(!ad_fill_value(AD_FILL_LINEAR, 1, 5, 4, 3, &v));
}

int main(int argc, char **argv)
{
    ad_test_rng = 12345; /* the noise's seed for a test that does not set one */
    AD_TEST_RUN(argc, argv, test_registry_and_check);
    AD_TEST_RUN(argc, argv, test_welford_is_exact);
    AD_TEST_RUN(argc, argv, test_save_restore_round_trip);
    AD_TEST_RUN(argc, argv, test_encoding_layout);
    AD_TEST_RUN(argc, argv, test_restore_refuses_bad_encodings);
    AD_TEST_RUN(argc, argv, test_nan_never_reaches_a_model);
    AD_TEST_RUN(argc, argv, test_flat_series);
    AD_TEST_RUN(argc, argv, test_state_size_bound);
    AD_TEST_RUN(argc, argv, test_tail_score);
    AD_TEST_RUN(argc, argv, test_likelihood);
    AD_TEST_RUN(argc, argv, test_rules);
    AD_TEST_RUN(argc, argv, test_fill);
    return ad_test_done();
}
