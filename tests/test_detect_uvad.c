/* test_detect_uvad.c - "uvad", the Anomaly Detector algorithm as a streaming
 * detector: each point's verdict is the service's last/detect on the ring
 * plus the point (the heap entry point, ad_uv_detect(), as the reference);
 * the scratch entry point gives the same answers and its size bound holds;
 * spikes are found; the state saves and restores; without scratch nothing
 * is scored. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_detect.h"
#include "ad_err.h"
#include "ad_test.h"
#include "ad_uvad.h"

#define T0   1704067200000000LL
#define STEP 300000000LL

static _Alignas(16) unsigned char st[16384], st2[16384];

/* A daily-ish pattern of 24 points, noise, spikes at 150 and 260. */
static double value(size_t i)
{
    return 50 + 10 * sin(6.283185307179586 * (double)i / 24) + ad_test_gauss() +
           (i == 150 ? 15 : 0) + (i == 260 ? -15 : 0);
}

/* The service's last/detect on v[0..n) (heap), as the reference. */
static void reference(const struct ad_detect_params *p, const double *v, size_t n,
                      struct ad_uv_result *r)
{
    struct ad_uv_request q;
    ad_uv_request_init(&q);
    q.values = v;
    q.n = n;
    q.mode = AD_UV_LAST;
    q.sensitivity = p->uvad.sensitivity;
    q.max_anomaly_ratio = p->uvad.max_anomaly_ratio;
    memset(r, 0, sizeof(*r));
    AD_EXPECT_INT(ad_uv_detect(&q, r, NULL), ==, 0);
}

static void test_same_as_last_detect(void)
{
    struct ad_detect_params p;
    struct ad_detect_result res;
    double hist[400];
    size_t anomalies = 0;

    ad_detect_defaults(&p, AD_DET_UVAD);
    p.uvad.window = 60;
    AD_EXPECT_INT(ad_detect_check(&p, NULL, 0), ==, 0);
    AD_EXPECT(ad_detect_size(&p) <= sizeof(st));
    size_t sb = ad_detect_scratch_size(&p);
    AD_EXPECT(sb > 0);
    void *scratch = malloc(sb);
    AD_EXPECT(scratch != NULL);
    ad_test_rng = 7;
    ad_detect_init(st, &p);
    for (size_t i = 0; i < 400; i++) {
        hist[i] = value(i);
        ad_detect_step_scratch(st, &p, T0 + (int64_t)i * STEP, hist[i], scratch, &res);
        if (i + 1 < 12) {
            AD_EXPECT(!res.scored);
            continue;
        }
        size_t n = i + 1 < p.uvad.window ? i + 1 : p.uvad.window;
        struct ad_uv_result r;
        reference(&p, hist + i + 1 - n, n, &r);
        AD_EXPECT(res.scored);
        AD_EXPECT(res.expected == r.expected[n - 1]);
        AD_EXPECT(res.upper == r.expected[n - 1] + r.upper[n - 1]);
        AD_EXPECT(res.is_anomaly == (r.is_anomaly[n - 1] != 0));
        AD_EXPECT(res.score >= 0 && res.score < 1);
        anomalies += res.is_anomaly;
        if (i == 150)
            AD_EXPECT(res.is_anomaly && res.kind == AD_KIND_SPIKE);
        if (i == 260)
            AD_EXPECT(res.is_anomaly && res.kind == AD_KIND_DIP);
        ad_uv_result_free(&r);
    }
    /* sensitivity 95 is the service's eager setting: some noise points too */
    AD_EXPECT_UINT(anomalies, <=, 60);
    free(scratch);
}

static void test_save_restore_and_no_scratch(void)
{
    struct ad_detect_params p;
    struct ad_detect_result a, b;
    uint8_t buf[16384];
    size_t len;

    ad_detect_defaults(&p, AD_DET_UVAD);
    void *scratch = malloc(ad_detect_scratch_size(&p));
    ad_test_rng = 3;
    ad_detect_init(st, &p);
    for (size_t i = 0; i < 130; i++)
        ad_detect_step_scratch(st, &p, T0 + (int64_t)i * STEP, value(i), scratch, &a);
    AD_EXPECT_INT(ad_detect_save(st, &p, buf, sizeof(buf), &len), ==, 0);
    AD_EXPECT_UINT(len, ==, ad_detect_encoded_size(&p));
    AD_EXPECT_INT(ad_detect_restore(st2, &p, buf, len), ==, 0);
    for (size_t i = 130; i < 200; i++) {
        double x = value(i);
        ad_detect_step_scratch(st, &p, T0 + (int64_t)i * STEP, x, scratch, &a);
        ad_detect_step_scratch(st2, &p, T0 + (int64_t)i * STEP, x, scratch, &b);
        AD_EXPECT(a.scored && memcmp(&a, &b, sizeof(a)) == 0);
    }
    /* another window: the encoding does not fit, the series starts fresh */
    p.uvad.window = 50;
    AD_EXPECT_INT(ad_detect_restore(st2, &p, buf, len), ==, AD_EPARSE);
    /* no scratch: learnt, not scored */
    ad_detect_step(st, &p, T0, 1.0, &a);
    AD_EXPECT(!a.scored);
    free(scratch);
}

/* ad_uv_scratch_bytes(n) is enough for every shape the service models. */
static void test_scratch_bound(void)
{
    const size_t ns[] = {12, 16, 24, 31, 50, 97, 128, 289, 500, 1024};
    double v[1024];

    for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
        size_t n = ns[a], sb = ad_uv_scratch_bytes(n);
        void *scratch = malloc(sb);
        for (int shape = 0; shape < 5; shape++) {
            ad_test_rng = 11 + (uint64_t)shape;
            for (size_t i = 0; i < n; i++)
                v[i] = shape == 0   ? ad_test_gauss()
                       : shape == 1 ? 10 * sin(6.283185307179586 * (double)i / 24) + ad_test_gauss()
                       : shape == 2 ? 0.1 * (double)i + ad_test_gauss()
                       : shape == 3 ? (i > n / 2 ? 10 : 0) + ad_test_gauss()
                                    : ad_test_gauss() + (i % 37 == 0 ? 20 : 0);
            for (int mode = 0; mode < 2; mode++) {
                struct ad_uv_request q;
                struct ad_uv_result r = {0}, h = {0};
                ad_uv_request_init(&q);
                q.values = v;
                q.n = n;
                q.mode = mode ? AD_UV_LAST : AD_UV_ENTIRE;
                AD_EXPECT_INT(ad_uv_detect_scratch(&q, &r, NULL, scratch, sb), ==, 0);
                AD_EXPECT_INT(ad_uv_detect(&q, &h, NULL), ==, 0);
                AD_EXPECT_UINT(r.n, ==, h.n);
                AD_EXPECT(memcmp(r.expected, h.expected, n * sizeof(double)) == 0);
                AD_EXPECT(memcmp(r.is_anomaly, h.is_anomaly, n) == 0);
                ad_uv_result_free(&h);
            }
        }
        /* too small a buffer: AD_ENOMEM, not a crash */
        struct ad_uv_request q;
        struct ad_uv_result r = {0};
        ad_uv_request_init(&q);
        q.values = v;
        q.n = n;
        AD_EXPECT_INT(ad_uv_detect_scratch(&q, &r, NULL, scratch, 64), ==, AD_ENOMEM);
        free(scratch);
    }
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_same_as_last_detect);
    AD_TEST_RUN(argc, argv, test_save_restore_and_no_scratch);
    AD_TEST_RUN(argc, argv, test_scratch_bound);
    return ad_test_done();
}
