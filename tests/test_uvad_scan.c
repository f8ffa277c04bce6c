/* test_uvad_scan.c - the detect request's fast scan (ad_uvad_scan.c): which
 * bodies it takes and which it leaves to jansson, and that
 * ad_uv_parse_request() (scan first) agrees with the jansson-only
 * reference on every body here: outcome, error code and message, every
 * parameter, every value's bits and grid position. */
#include "ad_test.h"

#include "../src/core/ad_uvad_int.h"
#include "ad_buf.h"
#include "ad_err.h"
#include "ad_uvad_api.h"

/* Both parses of body agree (see the header comment); returns the outcome. */
static int agree(const char *body, size_t len, int version, enum ad_uv_endpoint ep)
{
    struct ad_uv_parsed a, b;
    struct ad_uv_error ea = {"", ""}, eb = {"", ""};
    int ra = ad_uv_parse_request(body, len, version, ep, &a, &ea);
    int rb = ad_uv_parse_request_reference(body, len, version, ep, &b, &eb);
    if (ra != rb)
        AD_FAIL_("%.200s: outcome %d, reference %d", body, ra, rb);
    if (ra != 0) {
        AD_EXPECT_STR(ea.code, eb.code);
        AD_EXPECT_STR(ea.message, eb.message);
        return ra;
    }
    const struct ad_uv_request *x = &a.req, *y = &b.req;
    AD_EXPECT_INT(x->n, ==, y->n);
    AD_EXPECT_INT(x->granularity, ==, y->granularity);
    AD_EXPECT_INT(x->custom_interval, ==, y->custom_interval);
    AD_EXPECT_INT(x->period, ==, y->period);
    AD_EXPECT_INT(x->sensitivity, ==, y->sensitivity);
    AD_EXPECT_INT(x->impute, ==, y->impute);
    AD_EXPECT(memcmp(&x->max_anomaly_ratio, &y->max_anomaly_ratio, sizeof(double)) == 0);
    AD_EXPECT(memcmp(&x->impute_value, &y->impute_value, sizeof(double)) == 0);
    AD_EXPECT(memcmp(x->values, y->values, x->n * sizeof(double)) == 0);
    AD_EXPECT(memcmp(x->index, y->index, x->n * sizeof(int64_t)) == 0);
    AD_EXPECT_INT(a.cp.stable_trend_window, ==, b.cp.stable_trend_window);
    AD_EXPECT(memcmp(&a.cp.threshold, &b.cp.threshold, sizeof(double)) == 0);
    ad_uv_parsed_free(&a);
    ad_uv_parsed_free(&b);
    return 0;
}

/* "{" params "series":[...] "}" with n hourly points written in the given
 * number style (0: reals, 1: integers, 2: exponents and signs). */
static char *body_of(const char *params, size_t n, int style, const char *sep)
{
    struct ad_buf b;
    ad_buf_init(&b, 1 << 24);
    ad_buf_printf(&b, "{%s%s\"series\":[", params, *params ? "," : "");
    for (size_t i = 0; i < n; i++) {
        ad_buf_printf(&b,
                      "%s{\"timestamp\":\"2026-01-%02zuT%02zu:00:00Z\",%s\"value\":", i ? "," : "",
                      1 + i / 24, i % 24, sep);
        if (style == 0)
            ad_buf_printf(&b, "%.4f", 10.0 + (double)(i % 7) * 0.3);
        else if (style == 1)
            ad_buf_printf(&b, "%zu", i % 5);
        else
            ad_buf_printf(&b, "%s%zue%s%zu", i % 2 ? "-" : "", i + 1, i % 3 ? "-" : "+", i % 4);
        ad_buf_adds(&b, "}");
    }
    ad_buf_adds(&b, "]}");
    return b.p;
}

static void test_scan_takes_usual_bodies(void)
{
    char *b = body_of("\"granularity\":\"hourly\",\"sensitivity\":95", 30, 0, "");
    struct ad_uv_scan sc;
    AD_EXPECT_INT(ad_uv_scan_body(b, strlen(b), &sc), ==, 0);
    AD_EXPECT_INT(sc.n, ==, 30);
    AD_EXPECT_INT(sc.key[AD_UV_K_SERIES].type, ==, AD_JSCAN_ARRAY);
    AD_EXPECT_INT(sc.key[AD_UV_K_SERIES].len, ==, 30);
    AD_EXPECT_INT(sc.key[AD_UV_K_SENSITIVITY].type, ==, AD_JSCAN_INT);
    AD_EXPECT_NEAR(sc.key[AD_UV_K_SENSITIVITY].num, 95.0, 0);
    AD_EXPECT_INT(sc.key[AD_UV_K_PERIOD].type, ==, AD_JSCAN_MISSING);
    AD_EXPECT_INT(sc.pt[2 * 29 + 1].type, ==, AD_JSCAN_REAL);
    AD_EXPECT_INT(sc.pt[2 * 29].len, ==, 20);
    ad_uv_scan_free(&sc);
    AD_EXPECT_INT(agree(b, strlen(b), 1, AD_UV_EP_LAST), ==, 0);
    free(b);
    /* whitespace everywhere JSON allows it, null for an absent field */
    const char *ws = " \t\r\n{ \"period\" : null ,\n\"series\" :\t[ { \"value\" : 1 , "
                     "\"timestamp\" : \"2026-01-01T00:00:00Z\" } ] } \n";
    AD_EXPECT_INT(ad_uv_scan_body(ws, strlen(ws), &sc), ==, 0);
    AD_EXPECT_INT(sc.key[AD_UV_K_PERIOD].type, ==, AD_JSCAN_MISSING);
    AD_EXPECT(sc.seen[AD_UV_K_PERIOD]);
    ad_uv_scan_free(&sc);
    /* a series longer than the first allocation */
    b = body_of("", 3000, 2, "");
    AD_EXPECT_INT(ad_uv_scan_body(b, strlen(b), &sc), ==, 0);
    AD_EXPECT_INT(sc.n, ==, 3000);
    ad_uv_scan_free(&sc);
    free(b);
}

static void test_scan_leaves_the_rest_to_jansson(void)
{
    static const char *const other[] = {
        "",
        "[]",
        "{}",
        "{\"series\":[]} x",
        "{\"series\":[],}",
        "{\"series\":[],\"series\":[]}",
        "{\"series\":[{\"value\":1,\"value\":2}]}",
        "{\"series\":[{\"value\":1,\"extra\":2}]}",
        "{\"series\":[{\"value\":{}}]}",
        "{\"series\":[1]}",
        "{\"series\":{}}",
        "{\"series\":null}",
        "{\"extra\":1,\"series\":[]}",
        "{\"granularity\":\"hour\\u006cy\",\"series\":[]}",
        "{\"granularity\":\"caf\xc3\xa9\",\"series\":[]}",
        "{\"gran\\u0075larity\":\"hourly\",\"series\":[]}",
        "{\"period\":[1],\"series\":[]}",
        "{\"period\":01,\"series\":[]}",
        "{\"period\":1.,\"series\":[]}",
        "{\"period\":-,\"series\":[]}",
        "{\"period\":1e,\"series\":[]}",
        "{\"period\":.5,\"series\":[]}",
        "{\"period\":+1,\"series\":[]}",
        "{\"period\":1234567890123456789,\"series\":[]}",
        "{\"period\":1e400,\"series\":[]}",
        "{\"period\":tru,\"series\":[]}",
        "{\"period\":truex,\"series\":[]}",
        "{\"series\":[{\"value\":1}]",
        "{'series':[]}",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        struct ad_uv_scan sc;
        size_t len = strlen(other[i]);
        int rc = ad_uv_scan_body(other[i], len, &sc);
        if (rc != AD_EAGAIN)
            AD_FAIL_("the scan took %s (rc %d)", other[i], rc);
        AD_EXPECT(sc.pt == NULL);
        for (int v = 0; v <= 1; v++)
            agree(other[i], len, v, AD_UV_EP_ENTIRE);
    }
    /* a NUL byte after the object */
    static const char nul[] = "{\"series\":[{\"value\":1}]}\0";
    struct ad_uv_scan sc;
    AD_EXPECT_INT(ad_uv_scan_body(nul, sizeof(nul) - 1, &sc), ==, AD_EAGAIN);
    agree(nul, sizeof(nul) - 1, 1, AD_UV_EP_ENTIRE);
}

/* Bodies the scan takes, each valid or failing a check, read the same way by
 * both paths (same errors in the same order). */
static void test_scan_agrees_with_jansson(void)
{
    static const char *const params[] = {
        "",
        "\"granularity\":\"hourly\"",
        "\"granularity\":\"daily\"",
        "\"granularity\":\"hourly\",\"customInterval\":2",
        "\"granularity\":\"hourly\",\"customInterval\":2.0",
        "\"granularity\":\"hourly\",\"customInterval\":2.5",
        "\"granularity\":\"hourly\",\"customInterval\":0",
        "\"granularity\":\"hourly\",\"customInterval\":\"2\"",
        "\"granularity\":\"weird\"",
        "\"granularity\":5",
        "\"granularity\":true",
        "\"period\":24",
        "\"period\":24.0e0",
        "\"period\":-1",
        "\"period\":-0",
        "\"period\":false",
        "\"maxAnomalyRatio\":0.49",
        "\"maxAnomalyRatio\":0.5",
        "\"maxAnomalyRatio\":1e-3",
        "\"maxAnomalyRatio\":-0.0",
        "\"sensitivity\":0",
        "\"sensitivity\":99",
        "\"sensitivity\":100",
        "\"sensitivity\":null",
        "\"imputeMode\":\"fixed\",\"imputeFixedValue\":3.25",
        "\"imputeMode\":\"fixed\"",
        "\"imputeMode\":\"fixed\",\"imputeFixedValue\":\"3\"",
        "\"imputeMode\":\"notFill\"",
        "\"imputeMode\":\"none\"",
        "\"imputeFixedValue\":1,\"imputeMode\":\"zero\"",
        "\"stableTrendWindow\":5,\"threshold\":0.9",
        "\"stableTrendWindow\":4",
        "\"threshold\":1.5",
        "\"threshold\":1",
    };
    static const enum ad_uv_endpoint eps[] = {AD_UV_EP_ENTIRE, AD_UV_EP_LAST, AD_UV_EP_CHANGEPOINT};
    size_t ok = 0, failed = 0;
    for (size_t p = 0; p < sizeof(params) / sizeof(params[0]); p++)
        for (int style = 0; style < 3; style++) {
            char *b = body_of(params[p], 12 + 20 * (size_t)style, style, style ? " " : "");
            struct ad_uv_scan sc;
            AD_EXPECT_INT(ad_uv_scan_body(b, strlen(b), &sc), ==, 0);
            ad_uv_scan_free(&sc);
            for (int v = 0; v <= 1; v++)
                for (size_t e = 0; e < 3; e++) {
                    int rc = agree(b, strlen(b), v, eps[e]);
                    ok += rc == 0;
                    failed += rc != 0;
                }
            free(b);
        }
    /* both kinds happened: the checks ran on scanned bodies */
    AD_EXPECT(ok > 50);
    AD_EXPECT(failed > 50);
}

/* Point-level cases: a missing value or timestamp, wrong types, off-grid
 * and repeated timestamps, out-of-range values, too few points. */
static void test_scan_points_agree(void)
{
    static const char *const bodies[] = {
        "{\"granularity\":\"hourly\",\"series\":[{\"timestamp\":\"2026-01-01T00:00:00Z\"}]}",
        "{\"series\":[{\"value\":1},{\"value\":2},{\"value\":3},{\"value\":4},{\"value\":5},"
        "{\"value\":6},{\"value\":7},{\"value\":8},{\"value\":9},{\"value\":10},{\"value\":11},"
        "{\"value\":12}]}",
        "{\"series\":[{},{\"value\":2}]}",
        "{\"series\":[{\"value\":\"1\"}]}",
        "{\"series\":[{\"value\":null}]}",
        "{\"series\":[{\"value\":1e300}]}",
        "{\"granularity\":\"hourly\",\"series\":[{\"value\":1,\"timestamp\":5}]}",
        "{\"granularity\":\"hourly\",\"series\":[{\"value\":1,\"timestamp\":\"yesterday\"}]}",
        "{\"granularity\":\"hourly\",\"series\":[{\"value\":1,\"timestamp\":\"2026-01-01T00:00:"
        "00Z\"},"
        "{\"value\":1,\"timestamp\":\"2026-01-01T00:00:00Z\"}]}",
        "{\"granularity\":\"hourly\",\"series\":[{\"value\":1,\"timestamp\":\"2026-01-01T01:00:"
        "00Z\"},"
        "{\"value\":1,\"timestamp\":\"2026-01-01T00:00:00Z\"}]}",
        "{\"granularity\":\"hourly\",\"series\":[{\"value\":1,\"timestamp\":\"2026-01-01T00:00:"
        "00Z\"},"
        "{\"value\":1,\"timestamp\":\"2026-01-01T00:30:00Z\"}]}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct ad_uv_scan sc;
        AD_EXPECT_INT(ad_uv_scan_body(bodies[i], strlen(bodies[i]), &sc), ==, 0);
        ad_uv_scan_free(&sc);
        for (int v = 0; v <= 1; v++)
            agree(bodies[i], strlen(bodies[i]), v, AD_UV_EP_LAST);
    }
    char *b = body_of("\"granularity\":\"hourly\"", 8641, 0, "");
    AD_EXPECT_INT(agree(b, strlen(b), 1, AD_UV_EP_ENTIRE), ==, AD_EINVAL);
    free(b);
    b = body_of("\"granularity\":\"hourly\"", 17000, 1, "");
    AD_EXPECT_INT(agree(b, strlen(b), 1, AD_UV_EP_ENTIRE), ==, AD_EINVAL);
    free(b);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_scan_takes_usual_bodies);
    AD_TEST_RUN(argc, argv, test_scan_leaves_the_rest_to_jansson);
    AD_TEST_RUN(argc, argv, test_scan_agrees_with_jansson);
    AD_TEST_RUN(argc, argv, test_scan_points_agree);
    return ad_test_done();
}
