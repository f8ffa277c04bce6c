/* test_detect_models.c - what each detector finds on small, fixed series:
 * the robust window's median and band, a seasonal point that is normal in
 * range, one level-shift finding then a new baseline, a variance change, a
 * flatline, and auto with its sensitivity knob. */
#include <stdint.h>
#include <string.h>

#include "ad_detect.h"
#include "ad_test.h"

#define T0      1704067200000000LL /* 2024-01-01T00:00:00Z (a Monday), microseconds */
#define STEP    300000000LL        /* 5 minutes */
#define DAY_PTS 288

static _Alignas(8) unsigned char st[65536];

struct tally {
    size_t anomalies, by_kind[AD_KIND_COUNT_];
    size_t first_at[AD_KIND_COUNT_]; /* index of the first of each kind + 1 */
    size_t last_anomaly;
};

typedef double (*series_fn)(size_t i);

static void run(const struct ad_detect_params *p, series_fn f, size_t n, size_t from,
                struct tally *t)
{
    struct ad_detect_result r;

    memset(t, 0, sizeof(*t));
    ad_test_rng = 2024;
    ad_detect_init(st, p);
    for (size_t i = 0; i < n; i++) {
        ad_detect_step(st, p, T0 + (int64_t)i * STEP, f(i), &r);
        AD_EXPECT(r.score >= 0 && r.score <= 1);
        if (i < from || !r.is_anomaly)
            continue;
        t->anomalies++;
        t->by_kind[r.kind]++;
        if (!t->first_at[r.kind])
            t->first_at[r.kind] = i + 1;
        t->last_anomaly = i;
    }
}

static double noise(size_t i)
{
    (void)i;
    return 50 + ad_test_gauss();
}

static double daily(size_t i)
{
    double h = (double)(i % DAY_PTS) / 12.0;
    return 100 + 30 * sin(6.283185307179586 * h / 24) + ad_test_gauss();
}

/* The fourth day at 06:00-08:00 looks like 18:00-20:00: in range, wrong time. */
static double daily_broken(size_t i)
{
    if (i >= 3 * DAY_PTS + 72 && i < 3 * DAY_PTS + 96) {
        double h = (double)(i % DAY_PTS) / 12.0 + 12;
        return 100 + 30 * sin(6.283185307179586 * h / 24) + ad_test_gauss();
    }
    return daily(i);
}

static double shifted(size_t i)
{
    return 50 + ad_test_gauss() + (i >= 1500 ? 12 : 0);
}

static double noisier(size_t i)
{
    return 50 + ad_test_gauss() * (i >= 1500 ? 6 : 1);
}

static double quieter(size_t i)
{
    return 50 + ad_test_gauss() * (i >= 1500 ? 0.2 : 1);
}

static double stuck(size_t i)
{
    static double held;
    if (i == 1499)
        held = 50 + ad_test_gauss();
    if (i >= 1500 && i < 1600)
        return held;
    return 50 + ad_test_gauss();
}

static double spiky(size_t i)
{
    return 50 + ad_test_gauss() + (i == 1500 ? 15 : 0) - (i == 1800 ? 15 : 0);
}

static void test_robust_median_and_band(void)
{
    struct ad_detect_params p;
    struct ad_detect_result r;
    const double v[] = {5,  1,  4,  2,  3,  9,  8,  7,  6,  10, 11, 12, 13, 14, 15,
                        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};

    ad_detect_defaults(&p, AD_DET_ROBUST);
    p.robust.window = 8;
    ad_detect_init(st, &p);
    for (size_t i = 0; i < 30; i++) {
        ad_detect_step(st, &p, T0 + (int64_t)i * STEP, v[i], &r);
        /* 3 values before a prediction, 8 one-step errors before a band */
        AD_EXPECT_INT(r.scored, ==, i >= 11);
    }
    /* the prediction is the median of the last 21 values: 10 .. 30 -> 20 */
    ad_detect_step(st, &p, T0 + 30 * STEP, 40, &r);
    AD_EXPECT_NEAR(r.expected, 20.0, 1e-12);
    AD_EXPECT(r.lower < r.expected && r.expected < r.upper);
    AD_EXPECT_NEAR(r.upper - r.expected, r.expected - r.lower, 1e-9);
    AD_EXPECT(r.is_anomaly == (r.raw > p.robust.threshold));
}

static void test_robust_finds_spikes_not_noise(void)
{
    struct ad_detect_params p;
    struct tally t;

    ad_detect_defaults(&p, AD_DET_ROBUST);
    run(&p, spiky, 3000, 200, &t);
    AD_EXPECT_UINT(t.first_at[AD_KIND_SPIKE], ==, 1501);
    AD_EXPECT_UINT(t.first_at[AD_KIND_DIP], ==, 1801);
    AD_EXPECT_UINT(t.anomalies, <=, 4);
}

static void test_seasonal_point_in_range(void)
{
    struct ad_detect_params p;
    struct tally t;

    ad_detect_defaults(&p, AD_DET_SEASONAL);
    run(&p, daily_broken, 5 * DAY_PTS, 2 * DAY_PTS, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_SEASONAL], >=, 1);
    AD_EXPECT_UINT(t.first_at[AD_KIND_SEASONAL], >=, 3 * DAY_PTS + 73);
    AD_EXPECT_UINT(t.first_at[AD_KIND_SEASONAL], <=, 3 * DAY_PTS + 80);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_SPIKE] + t.by_kind[AD_KIND_DIP], ==, 0);
    /* the same days unbroken: quiet */
    run(&p, daily, 5 * DAY_PTS, 2 * DAY_PTS, &t);
    AD_EXPECT_UINT(t.anomalies, ==, 0);
}

/* A block 00:30-01:30 UTC each day; hour bins line up with it only in a
 * time zone 30 minutes behind UTC. */
static double block(size_t i)
{
    size_t minute = (i % DAY_PTS) * 5;
    return (minute >= 30 && minute < 90 ? 10 : 0) + 0.01 * ad_test_gauss();
}

static double day4_error(const struct ad_detect_params *p)
{
    struct ad_detect_result r;
    double err = 0;

    ad_test_rng = 1;
    ad_detect_init(st, p);
    for (size_t i = 0; i < 4 * DAY_PTS; i++) {
        ad_detect_step(st, p, T0 + (int64_t)i * STEP, block(i), &r);
        if (i >= 3 * DAY_PTS) {
            AD_EXPECT(r.scored);
            err += fabs(block(i) - r.expected);
        }
    }
    return err;
}

static void test_seasonal_uses_the_utc_offset(void)
{
    struct ad_detect_params p;
    double aligned, misaligned;

    ad_detect_defaults(&p, AD_DET_SEASONAL);
    p.seasonal.day_bins = 24;
    p.seasonal.weekly = false;
    misaligned = day4_error(&p);
    p.seasonal.utc_offset_s = -1800;
    aligned = day4_error(&p);
    AD_EXPECT(aligned * 5 < misaligned);
}

/* A period of 37 points (3 h 5 min at 5-minute steps): no divisor of a day,
 * so only a period found in the data can model it. From point 700 on, a
 * stretch of 12 points is out of phase: in range, wrong for its phase. */
#define P37 37
static double odd_period(size_t i)
{
    size_t ph = (i >= 700 && i < 712) ? (i + P37 / 2) % P37 : i % P37;
    return 100 + 30 * sin(6.283185307179586 * (double)ph / P37) + ad_test_gauss();
}

/* Mean |error| of the predictions over points [400, 690) and the tally of
 * anomalies from point 400 on. */
static double odd_period_run(const struct ad_detect_params *p, struct tally *t)
{
    struct ad_detect_result r;
    double err = 0;
    size_t scored = 0;

    memset(t, 0, sizeof(*t));
    ad_test_rng = 37;
    ad_detect_init(st, p);
    for (size_t i = 0; i < 900; i++) {
        double x = odd_period(i);
        ad_detect_step(st, p, T0 + (int64_t)i * STEP, x, &r);
        if (i >= 400 && i < 690 && r.scored) {
            err += fabs(x - r.expected);
            scored++;
        }
        if (i >= 400 && r.is_anomaly) {
            t->anomalies++;
            t->by_kind[r.kind]++;
            if (!t->first_at[r.kind])
                t->first_at[r.kind] = i + 1;
        }
    }
    return scored ? err / (double)scored : 1e9;
}

static void test_seasonal_period_from_the_data(void)
{
    struct ad_detect_params p;
    struct tally t;
    double with, without;

    ad_detect_defaults(&p, AD_DET_SEASONAL);
    AD_EXPECT(p.seasonal.data_period);
    with = odd_period_run(&p, &t);
    /* noise is N(0, 1): mean |error| ~ 0.8 when the phase is right */
    AD_EXPECT(with < 2.0);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_SEASONAL], >=, 1);
    AD_EXPECT_UINT(t.first_at[AD_KIND_SEASONAL], >=, 701);
    AD_EXPECT_UINT(t.first_at[AD_KIND_SEASONAL], <=, 712);
    /* timestamps alone: the day profile cannot follow it (or is not warm) */
    p.seasonal.data_period = false;
    without = odd_period_run(&p, &t);
    AD_EXPECT(without > 4 * with);
    /* auto holds the same profile: it finds the out-of-phase stretch too */
    ad_detect_defaults(&p, AD_DET_AUTO);
    odd_period_run(&p, &t);
    AD_EXPECT_UINT(t.anomalies, >=, 1);
    AD_EXPECT_UINT(t.first_at[AD_KIND_SEASONAL] + t.first_at[AD_KIND_SPIKE] +
                       t.first_at[AD_KIND_DIP],
                   >=, 701);
}

static void test_change_one_level_shift_then_quiet(void)
{
    struct ad_detect_params p;
    struct tally t;

    ad_detect_defaults(&p, AD_DET_CHANGE);
    run(&p, shifted, 3000, 200, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_LEVEL_SHIFT], ==, 1);
    AD_EXPECT_UINT(t.first_at[AD_KIND_LEVEL_SHIFT], >, 1500);
    AD_EXPECT_UINT(t.first_at[AD_KIND_LEVEL_SHIFT], <=, 1510);
    AD_EXPECT_UINT(t.anomalies, <=, 2);
    run(&p, noise, 3000, 200, &t);
    AD_EXPECT_UINT(t.anomalies, ==, 0);
}

static void test_change_variance_and_flatline(void)
{
    struct ad_detect_params p;
    struct tally t;

    ad_detect_defaults(&p, AD_DET_CHANGE);
    run(&p, noisier, 2000, 200, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_VARIANCE_CHANGE], >=, 1);
    AD_EXPECT_UINT(t.first_at[AD_KIND_VARIANCE_CHANGE], >, 1500);
    AD_EXPECT_UINT(t.first_at[AD_KIND_VARIANCE_CHANGE], <=, 1530);
    /* a decrease is a variance change too, found once */
    run(&p, quieter, 2000, 200, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_VARIANCE_CHANGE], ==, 1);
    AD_EXPECT_UINT(t.first_at[AD_KIND_VARIANCE_CHANGE], >, 1500);
    AD_EXPECT_UINT(t.first_at[AD_KIND_VARIANCE_CHANGE], <=, 1540);
    AD_EXPECT_UINT(t.anomalies, ==, 1);
    /* the same through auto */
    ad_detect_defaults(&p, AD_DET_AUTO);
    run(&p, quieter, 2000, 200, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_VARIANCE_CHANGE], ==, 1);
    AD_EXPECT_UINT(t.first_at[AD_KIND_VARIANCE_CHANGE], >, 1500);
    AD_EXPECT_UINT(t.first_at[AD_KIND_VARIANCE_CHANGE], <=, 1540);
    ad_detect_defaults(&p, AD_DET_CHANGE);
    /* a flat stretch stays a flatline, not a variance change */
    run(&p, stuck, 2000, 200, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_VARIANCE_CHANGE], ==, 0);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_FLATLINE], ==, 1);
    AD_EXPECT_UINT(t.first_at[AD_KIND_FLATLINE], ==, 1500 + p.change.flat_min);
    /* the recovery is judged against the values before the sensor stuck */
    AD_EXPECT_UINT(t.anomalies, <=, 2);
}

static void test_auto_finds_each_kind(void)
{
    struct ad_detect_params p;
    struct tally t;

    ad_detect_defaults(&p, AD_DET_AUTO);
    run(&p, spiky, 3000, 200, &t);
    AD_EXPECT_UINT(t.first_at[AD_KIND_SPIKE], ==, 1501);
    AD_EXPECT_UINT(t.first_at[AD_KIND_DIP], ==, 1801);
    AD_EXPECT_UINT(t.anomalies, <=, 4);
    run(&p, shifted, 3000, 200, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_LEVEL_SHIFT], ==, 1);
    AD_EXPECT(t.anomalies >= 1 && t.anomalies <= 6); /* never a storm */
    AD_EXPECT_UINT(t.last_anomaly, <, 1530);
    run(&p, noisier, 2000, 200, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_VARIANCE_CHANGE], >=, 1);
    run(&p, stuck, 2000, 200, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_FLATLINE], ==, 1);
    run(&p, daily_broken, 5 * DAY_PTS, 2 * DAY_PTS, &t);
    AD_EXPECT_UINT(t.by_kind[AD_KIND_SEASONAL], >=, 1);
    run(&p, daily, 5 * DAY_PTS, 2 * DAY_PTS, &t);
    AD_EXPECT_UINT(t.anomalies, ==, 0);
    run(&p, noise, 3000, 200, &t);
    AD_EXPECT_UINT(t.anomalies, ==, 0);
}

static void test_auto_sensitivity_is_monotone(void)
{
    struct ad_detect_params p;
    struct tally t;
    size_t prev = 0;

    ad_detect_defaults(&p, AD_DET_AUTO);
    for (int s = 0; s <= 100; s += 25) {
        p.autod.sensitivity = s;
        run(&p, noisier, 2500, 200, &t);
        AD_EXPECT_UINT(t.anomalies, >=, prev);
        prev = t.anomalies;
    }
    AD_EXPECT_UINT(prev, >, 10); /* at 100, the noisier half alarms often */
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_robust_median_and_band);
    AD_TEST_RUN(argc, argv, test_robust_finds_spikes_not_noise);
    AD_TEST_RUN(argc, argv, test_seasonal_point_in_range);
    AD_TEST_RUN(argc, argv, test_seasonal_uses_the_utc_offset);
    AD_TEST_RUN(argc, argv, test_seasonal_period_from_the_data);
    AD_TEST_RUN(argc, argv, test_change_one_level_shift_then_quiet);
    AD_TEST_RUN(argc, argv, test_change_variance_and_flatline);
    AD_TEST_RUN(argc, argv, test_auto_finds_each_kind);
    AD_TEST_RUN(argc, argv, test_auto_sensitivity_is_monotone);
    return ad_test_done();
}
