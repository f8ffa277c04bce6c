/* test_pdet.c - the pipeline's detector areas (src/core/ad_pdet.c) and the
 * --scores rows (ad_scores.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/ad_pdet.h"
#include "ad_err.h"
#include "ad_scores.h"
#include "ad_test.h"
#include "ad_types.h"

#define STEP_US INT64_C(300000000) /* 5 minutes */

static struct ad_pdet *make(int id, const struct ad_detect_rules *r, int fill)
{
    struct ad_detect_params p;
    struct ad_detect_rules none = {0};
    struct ad_pdet *d = NULL;
    char err[128];
    ad_detect_defaults(&p, id);
    AD_EXPECT_INT(ad_pdet_new(&p, r ? r : &none, fill, STEP_US, &d, err, sizeof(err)), ==, 0);
    return d;
}

/* A noisy daily sine, deterministic. */
static double series(uint64_t i)
{
    uint64_t h = i * UINT64_C(0x9e3779b97f4a7c15);
    double noise = (double)(h >> 40) / (double)(UINT64_C(1) << 24) - 0.5;
    return 20 + 5 * sin((double)i * 2 * 3.14159265358979 / 288) + noise;
}

/* Two areas fed the same points, one of them saved and restored halfway,
 * give the same results bit for bit; a spike is found. */
static void test_save_restore_and_spike(void)
{
    struct ad_pdet *d = make(AD_DET_AUTO, NULL, AD_FILL_SKIP);
    size_t sz = ad_pdet_area_size(d);
    void *a = calloc(1, sz), *b = calloc(1, sz);
    uint8_t *enc = malloc(ad_pdet_encoded_size(d));
    struct ad_detect_result ra, rb;
    size_t len;
    int found = 0;

    AD_EXPECT_UINT(sz % 8, ==, 0);
    /* A fresh area encodes as nothing and restores as fresh. */
    AD_EXPECT_INT(ad_pdet_encode(d, a, enc, ad_pdet_encoded_size(d), &len), ==, 0);
    AD_EXPECT_UINT(len, ==, 0);
    for (uint64_t i = 0; i < 3000; i++) {
        int64_t t = (int64_t)i * STEP_US;
        double x = series(i) + (i == 2500 ? 30 : 0);
        if (i == 1500) {
            AD_EXPECT_INT(ad_pdet_encode(d, b, enc, ad_pdet_encoded_size(d), &len), ==, 0);
            AD_EXPECT_UINT(len, ==, ad_pdet_encoded_size(d));
            memset(b, 0x5a, sz);
            AD_EXPECT_INT(ad_pdet_decode(d, b, enc, len), ==, 0);
            AD_EXPECT_INT(ad_pdet_last_time(b), ==, t - STEP_US);
        }
        AD_EXPECT(ad_pdet_point(d, a, t, x, &ra));
        AD_EXPECT(ad_pdet_point(d, b, t, x, &rb));
        AD_EXPECT(memcmp(&ra, &rb, sizeof(ra)) == 0);
        if (ra.is_anomaly && i == 2500)
            found = 1;
    }
    AD_EXPECT_INT(found, ==, 1);
    /* A point not after the newest one is not stepped again. */
    AD_EXPECT(!ad_pdet_point(d, a, 0, 1.0, &ra));
    AD_EXPECT(!ra.scored);
    AD_EXPECT_UINT(ad_pdet_fresh_restores(d), ==, 0);
    /* Another detector's bytes, or damaged ones: fresh, and counted. */
    struct ad_pdet *other = make(AD_DET_ROBUST, NULL, AD_FILL_SKIP);
    AD_EXPECT_INT(ad_pdet_decode(other, a, enc, len), ==, AD_EPARSE);
    enc[0] = 'X';
    AD_EXPECT_INT(ad_pdet_decode(d, b, enc, len), ==, AD_EPARSE);
    AD_EXPECT_INT(ad_pdet_last_time(b), ==, INT64_MIN);
    AD_EXPECT_UINT(ad_pdet_fresh_restores(d), ==, 1);
    AD_EXPECT_UINT(ad_pdet_fresh_restores(other), ==, 1);
    AD_EXPECT_INT(ad_pdet_kind(d), ==, AD_DETECTOR_AUTO);
    AD_EXPECT_INT(ad_pdet_kind(other), ==, AD_DETECTOR_ROBUST);
    ad_pdet_free(other);
    ad_pdet_free(d);
    free(a);
    free(b);
    free(enc);
}

/* The cooldown rule holds back a second alert; the fill policy steps the
 * empty slots (linear: the same state as feeding the interpolated points). */
static void test_rules_and_fill(void)
{
    struct ad_detect_rules r = {.direction = AD_DIR_BOTH, .cooldown_us = 100 * STEP_US};
    struct ad_pdet *d = make(AD_DET_ROBUST, &r, AD_FILL_SKIP);
    void *a = calloc(1, ad_pdet_area_size(d));
    struct ad_detect_result res;
    int alerts = 0;
    for (uint64_t i = 0; i < 600; i++) {
        double x = series(i) + (i == 400 || i == 420 ? 40 : 0);
        ad_pdet_point(d, a, (int64_t)i * STEP_US, x, &res);
        alerts += res.is_anomaly;
    }
    AD_EXPECT_INT(alerts, ==, 1);
    ad_pdet_free(d);
    free(a);

    struct ad_pdet *lin = make(AD_DET_ROBUST, NULL, AD_FILL_LINEAR);
    struct ad_pdet *skip = make(AD_DET_ROBUST, NULL, AD_FILL_SKIP);
    void *x = calloc(1, ad_pdet_area_size(lin)), *y = calloc(1, ad_pdet_area_size(lin));
    struct ad_detect_result rx, ry;
    for (int64_t i = 0; i < 100; i++) {
        bool gap = i >= 50 && i < 53; /* x misses 3 slots */
        double v = 10 + (double)(i % 7);
        double filled = i >= 50 && i < 53 ? 11 + (13.0 - 11.0) * (double)(i - 49) / 4 : v;
        if (i == 49)
            v = 11;
        if (i == 53)
            v = 13;
        if (!gap)
            ad_pdet_point(lin, x, i * STEP_US, v, &rx);
        ad_pdet_point(skip, y, i * STEP_US, gap ? filled : v, &ry);
    }
    AD_EXPECT(memcmp(&rx, &ry, sizeof(rx)) == 0);
    AD_EXPECT(memcmp((char *)x + 32, (char *)y + 32, ad_pdet_area_size(lin) - 32) == 0);
    ad_pdet_free(lin);
    ad_pdet_free(skip);
    free(x);
    free(y);
}

static void test_score_rows(void)
{
    struct ad_buf b;
    struct ad_score_row r = {.key = "a,\"b",
                             .key_len = 4,
                             .metric = "temp",
                             .t_us = INT64_C(1795168800000000),
                             .value = 3,
                             .scored = true,
                             .expected = 2.5,
                             .lower = 1.5,
                             .upper = 3.5,
                             .score = 0.25,
                             .is_anomaly = true,
                             .kind = AD_KIND_SPIKE};
    ad_buf_init(&b, 1 << 16);
    AD_EXPECT_INT(ad_scores_format_row(&r, AD_SCORES_JSONL, &b), ==, 0);
    AD_EXPECT_STR(b.p, "{\"key\":\"a,\\\"b\",\"metric\":\"temp\","
                       "\"time\":\"2026-11-20T10:00:00.000Z\",\"value\":3,\"expected\":2.5,"
                       "\"lower\":1.5,\"upper\":3.5,\"score\":0.25,\"is_anomaly\":true,"
                       "\"kind\":\"spike\"}\n");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_scores_header(AD_SCORES_CSV, &b), ==, 0);
    r.scored = false;
    r.is_anomaly = false;
    r.kind = AD_KIND_NONE;
    AD_EXPECT_INT(ad_scores_format_row(&r, AD_SCORES_CSV, &b), ==, 0);
    AD_EXPECT_STR(b.p, "key,metric,time,value,expected,lower,upper,score,is_anomaly,kind\n"
                       "\"a,\"\"b\",temp,2026-11-20T10:00:00.000Z,3,,,,0,false,none\n");
    r.value = NAN;
    size_t len = b.len;
    AD_EXPECT_INT(ad_scores_format_row(&r, AD_SCORES_CSV, &b), ==, AD_EINVAL);
    AD_EXPECT_UINT(b.len, ==, len);
    AD_EXPECT_INT(ad_scores_format_row(&r, 7, &b), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_scores_format_parse("csv"), ==, AD_SCORES_CSV);
    AD_EXPECT_INT(ad_scores_format_parse("jsonl"), ==, AD_SCORES_JSONL);
    AD_EXPECT_INT(ad_scores_format_parse("json"), ==, -1);
    ad_buf_free(&b);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_save_restore_and_spike);
    AD_TEST_RUN(argc, argv, test_rules_and_fill);
    AD_TEST_RUN(argc, argv, test_score_rows);
    return ad_test_done();
}
