/* test_history.c - the dashboard's history rings: only flagged or watched
 * series are held, rings keep the newest points, eviction takes the least
 * recently flagged series nobody watches, watches lapse, alerts mark their
 * point, memory stays within the configured bound whatever the number of
 * series scored, and allocation failures leave the history usable. */
#include <stdio.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_history.h"
#include "ad_test.h"

static struct ad_score_row row(const char *key, int64_t t_us, double v, bool anomaly)
{
    return (struct ad_score_row){.key = key,
                                 .key_len = strlen(key),
                                 .metric = "temp",
                                 .t_us = t_us,
                                 .value = v,
                                 .scored = true,
                                 .expected = 1.0,
                                 .lower = 0.5,
                                 .upper = 1.5,
                                 .score = anomaly ? 0.99 : 0.1,
                                 .is_anomaly = anomaly,
                                 .kind = anomaly ? 1 : 0};
}

static struct ad_history *make(size_t points, size_t series)
{
    struct ad_history_cfg cfg = {.points = points,
                                 .series = series,
                                 .watch_ms = 1000,
                                 .max_key = 64};
    struct ad_history *h = NULL;
    AD_EXPECT_INT(ad_history_new(&cfg, &h), ==, 0);
    return h;
}

/* Points of a series nobody flagged or watched are not kept. */
static void test_unwatched_cost_nothing(void)
{
    struct ad_history *h = make(8, 4);
    struct ad_history_stats st0, st;
    ad_history_stats(h, &st0);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "dev-%d", i);
        struct ad_score_row r = row(key, i, 1.0, false);
        ad_history_score(h, &r, 0);
    }
    ad_history_stats(h, &st);
    AD_EXPECT_UINT(st.series, ==, 0);
    AD_EXPECT_UINT(st.bytes, ==, st0.bytes);
    AD_EXPECT(!ad_history_has(h, "dev-7", 5, "temp"));
    ad_history_free(h);
}

/* A flagged point claims a slot; later points of the series are kept; the
 * ring holds the newest `points` in time order. */
static void test_ring_keeps_newest(void)
{
    struct ad_history *h = make(5, 2);
    struct ad_score_row r = row("a", 0, 9.0, true);
    ad_history_score(h, &r, 10);
    for (int i = 1; i < 12; i++) {
        r = row("a", i, (double)i, false);
        ad_history_score(h, &r, 10);
    }
    struct ad_hist_point p[8];
    size_t n = ad_history_read(h, "a", 1, "temp", p, 8);
    AD_EXPECT_UINT(n, ==, 5);
    for (size_t i = 0; i < n; i++)
        AD_EXPECT_INT(p[i].t_us, ==, (int64_t)(7 + i));
    AD_EXPECT_NEAR(p[4].value, 11.0, 0);
    AD_EXPECT_NEAR(p[4].upper, 1.5, 0);
    /* Fewer asked for: the newest ones. */
    n = ad_history_read(h, "a", 1, "temp", p, 2);
    AD_EXPECT_UINT(n, ==, 2);
    AD_EXPECT_INT(p[0].t_us, ==, 10);
    AD_EXPECT_INT(p[1].t_us, ==, 11);
    /* Another metric of the same key is another series. */
    AD_EXPECT_UINT(ad_history_read(h, "a", 1, "hum", p, 8), ==, 0);
    ad_history_free(h);
}

/* With every slot taken, a newly flagged series evicts the least recently
 * flagged one; a watched series is never evicted while its watch lasts. */
static void test_eviction_lru_and_watch(void)
{
    struct ad_history *h = make(4, 3);
    struct ad_score_row r;
    AD_EXPECT_INT(ad_history_watch(h, "w", 1, "temp", 0), ==, 0);
    r = row("a", 1, 5, true);
    ad_history_score(h, &r, 100);
    r = row("b", 1, 5, true);
    ad_history_score(h, &r, 200);
    r = row("a", 2, 5, true); /* a flagged again: b is now the oldest */
    ad_history_score(h, &r, 300);
    r = row("c", 1, 5, true);
    ad_history_score(h, &r, 400);
    AD_EXPECT(ad_history_has(h, "a", 1, "temp"));
    AD_EXPECT(!ad_history_has(h, "b", 1, "temp"));
    AD_EXPECT(ad_history_has(h, "c", 1, "temp"));
    AD_EXPECT(ad_history_has(h, "w", 1, "temp")); /* watched until 1000 */
    struct ad_history_stats st;
    ad_history_stats(h, &st);
    AD_EXPECT_UINT(st.evictions, ==, 1);
    AD_EXPECT_UINT(st.watched, ==, 1);
    /* The watch lapsed: w (watched at 0) is now the least recent. */
    r = row("d", 1, 5, true);
    ad_history_score(h, &r, 1500);
    AD_EXPECT(!ad_history_has(h, "w", 1, "temp"));
    AD_EXPECT(ad_history_has(h, "d", 1, "temp"));
    ad_history_free(h);
}

/* Watches take at most half the slots: past that a new watch is refused
 * (the flagged series keep their half); when every slot is watched (one
 * slot), flagged series are refused; an overlong key is never held. */
static void test_all_watched(void)
{
    struct ad_history *h4 = make(4, 4);
    AD_EXPECT_INT(ad_history_watch(h4, "a", 1, "temp", 0), ==, 0);
    AD_EXPECT_INT(ad_history_watch(h4, "b", 1, "temp", 0), ==, 0);
    AD_EXPECT_INT(ad_history_watch(h4, "c", 1, "temp", 0), ==, AD_ELIMIT);
    AD_EXPECT_INT(ad_history_watch(h4, "a", 1, "temp", 10), ==, 0); /* held: renewed */
    for (int i = 0; i < 4; i++) {
        char k[2] = {(char)('p' + i), 0};
        struct ad_score_row r = row(k, 1, 5, true);
        ad_history_score(h4, &r, 20 + i);
    }
    AD_EXPECT(ad_history_has(h4, "a", 1, "temp")); /* watched: kept */
    AD_EXPECT(ad_history_has(h4, "b", 1, "temp"));
    AD_EXPECT(ad_history_has(h4, "s", 1, "temp")); /* the two newest flagged */
    AD_EXPECT(ad_history_has(h4, "r", 1, "temp"));
    AD_EXPECT_INT(ad_history_watch(h4, "c", 1, "temp", 2000), ==, 0); /* a, b lapsed */
    ad_history_free(h4);

    struct ad_history *h = make(4, 1);
    AD_EXPECT_INT(ad_history_watch(h, "x", 1, "temp", 0), ==, 0);
    AD_EXPECT_INT(ad_history_watch(h, "z", 1, "temp", 0), ==, AD_ELIMIT);
    struct ad_score_row r = row("f", 1, 5, true);
    ad_history_score(h, &r, 10);
    AD_EXPECT(!ad_history_has(h, "f", 1, "temp"));
    struct ad_hist_alert fa = {"f", 1, "temp", 1, 7};
    AD_EXPECT_INT(ad_history_alert(h, &fa, 10), ==, AD_ELIMIT);
    char longkey[100];
    memset(longkey, 'k', sizeof(longkey));
    AD_EXPECT_INT(ad_history_watch(h, longkey, sizeof(longkey), "temp", 0), ==, AD_EINVAL);
    struct ad_history_stats st;
    ad_history_stats(h, &st);
    AD_EXPECT_UINT(st.refused, ==, 3); /* z, f scored, f alerted */
    AD_EXPECT_UINT(st.watched, ==, 1);
    /* Re-watching a held series is not a claim. */
    AD_EXPECT_INT(ad_history_watch(h, "x", 1, "temp", 500), ==, 0);
    ad_history_free(h);
}

/* An alert marks the newest point of its time with its number. */
static void test_alert_marks_point(void)
{
    struct ad_history *h = make(8, 2);
    AD_EXPECT_INT(ad_history_watch(h, "k<b>", 4, "temp", 0), ==, 0);
    for (int i = 0; i < 4; i++) {
        struct ad_score_row r = row("k<b>", i * 10, i, i == 2);
        ad_history_score(h, &r, 0);
    }
    struct ad_hist_alert a = {"k<b>", 4, "temp", 20, 42};
    AD_EXPECT_INT(ad_history_alert(h, &a, 0), ==, 0);
    a.t_us = 25;
    a.seq = 43;
    AD_EXPECT_INT(ad_history_alert(h, &a, 0), ==, AD_ENOENT);
    struct ad_hist_point p[8];
    AD_EXPECT_UINT(ad_history_read(h, "k<b>", 4, "temp", p, 8), ==, 4);
    AD_EXPECT_UINT(p[2].alert_seq, ==, 42);
    AD_EXPECT(p[2].is_anomaly);
    AD_EXPECT_UINT(p[1].alert_seq, ==, 0);
    ad_history_free(h);
}

/* Memory: bounded by series x points whatever is scored, and counted. */
static void test_memory_bound(void)
{
    size_t points = 100, series = 16;
    struct ad_history *h = make(points, series);
    char key[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "sensor-%08d", i);
        struct ad_score_row r = row(key, i, i, i % 3 == 0);
        ad_history_score(h, &r, i);
    }
    struct ad_history_stats st;
    ad_history_stats(h, &st);
    AD_EXPECT_UINT(st.series, ==, series);
    size_t ring = series * points * sizeof(struct ad_hist_point);
    AD_EXPECT_UINT(st.bytes, >=, ring);
    AD_EXPECT_UINT(st.bytes, <=, ring + series * (64 + 8 + sizeof(void *) * 16) + 4096);
    AD_EXPECT_UINT(st.evictions, ==, 20000 / 3 + 1 - series);
    ad_history_free(h);
}

/* Allocation failures: the point is not kept, nothing leaks, and the
 * history works once memory is back. */
static void test_alloc_failure(void)
{
    struct ad_history *h = make(8, 2);
    struct ad_score_row r = row("a", 1, 1, true);
    for (int n = 1; n <= 2; n++) {
        ad_alloc_fail_at(n, true);
        ad_history_score(h, &r, 0);
        ad_alloc_fail_at(0, false);
        AD_EXPECT(!ad_history_has(h, "a", 1, "temp"));
    }
    ad_history_score(h, &r, 0);
    AD_EXPECT(ad_history_has(h, "a", 1, "temp"));
    ad_history_free(h);
    struct ad_history_cfg cfg = {.points = 8, .series = 2, .watch_ms = 1, .max_key = 8};
    struct ad_history *h2 = NULL;
    ad_alloc_fail_at(1, true);
    AD_EXPECT_INT(ad_history_new(&cfg, &h2), ==, AD_ENOMEM);
    ad_alloc_fail_at(0, false);
    cfg.points = 0;
    AD_EXPECT_INT(ad_history_new(&cfg, &h2), ==, AD_EINVAL);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_unwatched_cost_nothing);
    AD_TEST_RUN(argc, argv, test_ring_keeps_newest);
    AD_TEST_RUN(argc, argv, test_eviction_lru_and_watch);
    AD_TEST_RUN(argc, argv, test_all_watched);
    AD_TEST_RUN(argc, argv, test_alert_marks_point);
    AD_TEST_RUN(argc, argv, test_memory_bound);
    AD_TEST_RUN(argc, argv, test_alloc_failure);
    return ad_test_done();
}
