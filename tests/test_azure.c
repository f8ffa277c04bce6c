/* test_azure.c - the Anomaly Detector wire format: request bodies against
 * golden files in tests/data/azure/, every response and error parser on good
 * and bad bodies. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ad_buf.h"
#include "ad_azure.h"
#include "ad_err.h"
#include "ad_test.h"

#define S  INT64_C(1000000)
#define T0 INT64_C(1795168800000000) /* 2026-11-20T10:00:00Z */

/* ---- helpers -------------------------------------------------------------- */

/* Reads tests/data/azure/<name> without its trailing newline; free(). */
static char *slurp(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "azure/%s", name);
    FILE *f = fopen(ad_test_data(rel), "rb");
    if (!f)
        AD_FAIL_("cannot open %s", ad_test_data(rel));
    char *p = malloc(1 << 20);
    AD_EXPECT(p != NULL);
    size_t n = fread(p, 1, (1 << 20) - 1, f);
    fclose(f);
    while (n > 0 && p[n - 1] == '\n')
        n--;
    p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

static void expect_golden(const char *name, const char *got)
{
    char *want = slurp(name, NULL);
    AD_EXPECT_STR(got, want);
    free(want);
}

static struct ad_azure_cfg cfg_minutely(void)
{
    struct ad_azure_cfg c = {1, "minutely", 60 * S, 95, 0.25, -1, 12};
    return c;
}

/* Builds a body; returns the code, the body in *out (reset first). */
static int build(const struct ad_azure_cfg *c, const struct ad_azure_point *p, size_t n,
                 struct ad_buf *out, size_t *sent)
{
    ad_buf_reset(out);
    return ad_azure_build_request(c, p, n, out, sent);
}

/* ---- requests ------------------------------------------------------------- */

static void test_url(void)
{
    struct ad_buf b;
    ad_buf_init(&b, 1024);
    AD_EXPECT_INT(ad_azure_url("https://ad.example.com", 1, false, &b), ==, 0);
    AD_EXPECT_STR(b.p, "https://ad.example.com/anomalydetector/v1.1/timeseries/last/detect");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_azure_url("http://127.0.0.1:8080//", 0, true, &b), ==, 0);
    AD_EXPECT_STR(b.p, "http://127.0.0.1:8080/anomalydetector/v1.0/timeseries/entire/detect");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_azure_url("http://h/base/", 1, true, &b), ==, 0);
    AD_EXPECT_STR(b.p, "http://h/base/anomalydetector/v1.1/timeseries/entire/detect");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_azure_url("", 1, false, &b), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_url("///", 1, false, &b), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_url(NULL, 1, false, &b), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_url("http://h", 2, false, &b), ==, AD_EINVAL);
    AD_EXPECT_UINT(b.len, ==, 0);
    ad_buf_free(&b);

    struct ad_buf small;
    ad_buf_init(&small, 20);
    AD_EXPECT_INT(ad_azure_url("http://h", 1, false, &small), ==, AD_ELIMIT);
    AD_EXPECT_UINT(small.len, ==, 0);
    ad_buf_free(&small);

    AD_EXPECT_INT(ad_azure_api_version("v1.0"), ==, 0);
    AD_EXPECT_INT(ad_azure_api_version("v1.1"), ==, 1);
    AD_EXPECT_INT(ad_azure_api_version("v2"), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_api_version(NULL), ==, AD_EINVAL);
}

static void test_custom_interval(void)
{
    int64_t ci = 0;
    AD_EXPECT_INT(ad_azure_custom_interval("minutely", 300 * S, &ci), ==, 0);
    AD_EXPECT_INT(ci, ==, 5);
    AD_EXPECT_INT(ad_azure_custom_interval("hourly", 3600 * S, &ci), ==, 0);
    AD_EXPECT_INT(ci, ==, 1);
    AD_EXPECT_INT(ad_azure_custom_interval("weekly", 14 * 86400 * S, &ci), ==, 0);
    AD_EXPECT_INT(ci, ==, 2);
    AD_EXPECT_INT(ad_azure_custom_interval("microsecond", 250000, &ci), ==, 0);
    AD_EXPECT_INT(ci, ==, 250000);
    AD_EXPECT_INT(ad_azure_custom_interval("monthly", 720 * 3600 * S, &ci), ==, 0);
    AD_EXPECT_INT(ci, ==, 1);
    AD_EXPECT_INT(ad_azure_custom_interval("none", 7, &ci), ==, 0);
    AD_EXPECT_INT(ci, ==, 1);
    AD_EXPECT_INT(ad_azure_custom_interval("minutely", 90 * S, &ci), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_custom_interval("hourly", 60 * S, &ci), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_custom_interval("fortnightly", 60 * S, &ci), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_custom_interval("minutely", 0, &ci), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_custom_interval(NULL, 60 * S, &ci), ==, AD_EINVAL);
}

static void test_request_unsorted(void)
{
    static const int order[12] = {7, 2, 11, 0, 5, 9, 1, 4, 10, 3, 8, 6};
    struct ad_azure_point p[12], copy[12];
    for (int i = 0; i < 12; i++) {
        p[i].t_us = T0 + order[i] * 60 * S;
        p[i].v = 20 + order[i] * 0.5;
    }
    memcpy(copy, p, sizeof(p));
    struct ad_azure_cfg c = cfg_minutely();
    struct ad_buf b;
    size_t sent = 0;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, 0);
    AD_EXPECT_UINT(sent, ==, 12);
    expect_golden("req_unsorted.json", b.p);
    AD_EXPECT(memcmp(copy, p, sizeof(p)) == 0); /* input untouched */
    ad_buf_free(&b);
}

static void test_request_duplicates(void)
{
    struct ad_azure_point p[14];
    size_t n = 0, sent = 0;
    p[n++] = (struct ad_azure_point){T0 + 5 * 60 * S, 55}; /* overridden below */
    for (int i = 0; i < 12; i++)
        p[n++] = (struct ad_azure_point){T0 + i * 60 * S, 20 + i * 0.5};
    p[n++] = (struct ad_azure_point){T0 + 3 * 60 * S, 99}; /* wins over 21.5 */
    struct ad_azure_cfg c = cfg_minutely();
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(build(&c, p, n, &b, &sent), ==, 0);
    AD_EXPECT_UINT(sent, ==, 12);
    expect_golden("req_duplicates.json", b.p);
    AD_EXPECT_CONTAINS(b.p, "{\"timestamp\":\"2026-11-20T10:03:00Z\",\"value\":99}");
    AD_EXPECT_CONTAINS(b.p, "{\"timestamp\":\"2026-11-20T10:05:00Z\",\"value\":22.5}");

    /* 12 given, one a duplicate: 11 distinct times are too few. */
    p[11] = p[10];
    AD_EXPECT_INT(build(&c, p + 1, 12, &b, &sent), ==, AD_ERANGE);
    AD_EXPECT_UINT(sent, ==, 11);
    ad_buf_free(&b);
}

static void test_request_off_grid_and_bad_values(void)
{
    struct ad_azure_point p[24];
    size_t n = 0, sent = 0;
    for (int i = 0; i < 14; i++)
        p[n++] = (struct ad_azure_point){T0 + i * 60 * S, 10 + i};
    p[n++] = (struct ad_azure_point){T0 + 90 * S, 1000};         /* off the grid */
    p[n++] = (struct ad_azure_point){T0 + 5 * 60 * S + 1, 1000}; /* off by 1 us */
    p[n++] = (struct ad_azure_point){T0 + 14 * 60 * S, NAN};     /* dropped before anchoring */
    p[n++] = (struct ad_azure_point){T0 + 15 * 60 * S, 1e101};   /* |v| > 1e100 */
    p[n++] = (struct ad_azure_point){T0 + 16 * 60 * S, -INFINITY};
    p[n++] = (struct ad_azure_point){-60 * S, 1};           /* before 1970 */
    p[n++] = (struct ad_azure_point){INT64_MAX, 1};         /* after 9999 */
    p[n++] = (struct ad_azure_point){T0 + 2 * 60 * S, NAN}; /* does not override 12 */
    struct ad_azure_cfg c = cfg_minutely();
    c.period = 0;
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(build(&c, p, n, &b, &sent), ==, 0);
    AD_EXPECT_UINT(sent, ==, 14);
    expect_golden("req_off_grid.json", b.p);

    /* 1e100 itself is allowed. */
    p[0].v = -1e100;
    AD_EXPECT_INT(build(&c, p, 14, &b, &sent), ==, 0);
    AD_EXPECT_CONTAINS(b.p, "\"value\":-1e+100}");

    /* The grid is anchored on the newest point: an off-grid newest point
     * leaves nothing else on its grid. */
    p[14] = (struct ad_azure_point){T0 + 20 * 60 * S + 30 * S, 1};
    AD_EXPECT_INT(build(&c, p, 15, &b, &sent), ==, AD_ERANGE);
    AD_EXPECT_UINT(sent, ==, 1);
    ad_buf_free(&b);
}

static void test_request_custom_interval(void)
{
    struct ad_azure_point p[12];
    for (int i = 0; i < 12; i++)
        p[i] = (struct ad_azure_point){T0 + i * 300 * S, 1.25 * i - 3};
    struct ad_azure_cfg c = cfg_minutely();
    c.interval_us = 300 * S;
    c.period = 12;
    c.sensitivity = 80;
    c.max_anomaly_ratio = 0.1;
    struct ad_buf b;
    size_t sent = 0;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, 0);
    expect_golden("req_5min.json", b.p);
    ad_buf_free(&b);
}

static void test_request_hourly(void)
{
    struct ad_azure_point p[25];
    for (int i = 0; i < 25; i++)
        p[i] = (struct ad_azure_point){T0 + i * 3600 * S, i * i / 10.0};
    struct ad_azure_cfg c = {0, "hourly", 3600 * S, 95, 0.25, -1, 24};
    struct ad_buf b;
    size_t sent = 0;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(build(&c, p, 25, &b, &sent), ==, 0);
    AD_EXPECT_UINT(sent, ==, 25);
    expect_golden("req_hourly.json", b.p);
    /* min_points above the count: skipped, body untouched. */
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_buf_adds(&b, "keep"), ==, 0);
    c.min_points = 26;
    AD_EXPECT_INT(ad_azure_build_request(&c, p, 25, &b, &sent), ==, AD_ERANGE);
    AD_EXPECT_UINT(sent, ==, 25);
    AD_EXPECT_STR(b.p, "keep");
    ad_buf_free(&b);
}

/* The contract's timestamps: whole seconds without a fraction, else
 * milliseconds or microseconds; out of range is refused, buffer unchanged. */
static void test_timestamps(void)
{
    struct ad_buf b;
    ad_buf_init(&b, 4096);
    AD_EXPECT_INT(ad_azure_add_time(&b, T0), ==, 0);
    AD_EXPECT_STR(b.p, "2026-11-20T10:00:00Z");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_azure_add_time(&b, T0 + 250000), ==, 0);
    AD_EXPECT_STR(b.p, "2026-11-20T10:00:00.250Z");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_azure_add_time(&b, T0 + 7), ==, 0);
    AD_EXPECT_STR(b.p, "2026-11-20T10:00:00.000007Z");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_azure_add_time(&b, INT64_C(253402300799999999)), ==, 0);
    AD_EXPECT_STR(b.p, "9999-12-31T23:59:59.999999Z");
    ad_buf_reset(&b);
    ad_buf_adds(&b, "x");
    AD_EXPECT_INT(ad_azure_add_time(&b, -1), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_add_time(&b, INT64_C(253402300800000000)), ==, AD_EINVAL);
    AD_EXPECT_STR(b.p, "x");
    ad_buf_free(&b);
}

static void test_request_fractional_seconds(void)
{
    struct ad_azure_point p[12];
    for (int i = 0; i < 12; i++)
        p[i] = (struct ad_azure_point){T0 + S / 2 + i * 250000, i * 1e-7};
    struct ad_azure_cfg c = {1, "microsecond", 250000, 99, 0.49, -1, 12};
    struct ad_buf b;
    size_t sent = 0;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, 0);
    expect_golden("req_fraction.json", b.p);
    ad_buf_free(&b);
}

static void test_request_too_few(void)
{
    struct ad_azure_point p[11];
    for (int i = 0; i < 11; i++)
        p[i] = (struct ad_azure_point){T0 + i * 60 * S, i};
    struct ad_azure_cfg c = cfg_minutely();
    struct ad_buf b;
    size_t sent = 99;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(build(&c, p, 11, &b, &sent), ==, AD_ERANGE);
    AD_EXPECT_UINT(sent, ==, 11);
    AD_EXPECT_UINT(b.len, ==, 0);
    /* min_points below 12 still needs 12 */
    c.min_points = 3;
    AD_EXPECT_INT(build(&c, p, 11, &b, &sent), ==, AD_ERANGE);
    AD_EXPECT_INT(build(&c, NULL, 0, &b, &sent), ==, AD_ERANGE);
    AD_EXPECT_UINT(sent, ==, 0);
    ad_buf_free(&b);
}

static void test_request_trim_8640(void)
{
    size_t n = 9000, sent = 0;
    struct ad_azure_point *p = malloc(n * sizeof(*p));
    AD_EXPECT(p != NULL);
    for (size_t i = 0; i < n; i++) /* newest first, to exercise the sort too */
        p[i] = (struct ad_azure_point){T0 + (int64_t)(n - 1 - i) * 60 * S, (double)(n - 1 - i)};
    struct ad_azure_cfg c = cfg_minutely();
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(build(&c, p, n, &b, &sent), ==, 0);
    AD_EXPECT_UINT(sent, ==, 8640);
    /* 9000 - 8640 = 360 minutes dropped: the first kept is 16:00. */
    const char *head = "{\"series\":[{\"timestamp\":\"2026-11-20T16:00:00Z\",\"value\":360},";
    AD_EXPECT(strncmp(b.p, head, strlen(head)) == 0);
    json_error_t e;
    json_t *j = json_loadb(b.p, b.len, 0, &e);
    AD_EXPECT(j != NULL);
    json_t *series = json_object_get(j, "series");
    AD_EXPECT_UINT(json_array_size(series), ==, 8640);
    AD_EXPECT_STR(json_string_value(json_object_get(json_array_get(series, 8639), "timestamp")),
                  "2026-11-26T15:59:00Z");
    json_decref(j);

    /* A body over the buffer's max: AD_ELIMIT, buffer unchanged. */
    struct ad_buf small;
    ad_buf_init(&small, 4096);
    AD_EXPECT_INT(ad_azure_build_request(&c, p, n, &small, &sent), ==, AD_ELIMIT);
    AD_EXPECT_UINT(small.len, ==, 0);
    ad_buf_free(&small);
    ad_buf_free(&b);
    free(p);
}

static void test_request_bad_cfg(void)
{
    struct ad_azure_point p[12];
    for (int i = 0; i < 12; i++)
        p[i] = (struct ad_azure_point){T0 + i * 60 * S, i};
    struct ad_buf b;
    size_t sent = 0;
    ad_buf_init(&b, 1 << 20);
    struct ad_azure_cfg c = cfg_minutely();
    c.granularity = "fortnightly";
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, AD_EINVAL);
    c = cfg_minutely();
    c.interval_us = 90 * S;
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, AD_EINVAL);
    c = cfg_minutely();
    c.sensitivity = 100;
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, AD_EINVAL);
    c = cfg_minutely();
    c.max_anomaly_ratio = 0.5;
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, AD_EINVAL);
    c.max_anomaly_ratio = 0;
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, AD_EINVAL);
    c.max_anomaly_ratio = NAN;
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, AD_EINVAL);
    c = cfg_minutely();
    c.period = -2;
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, AD_EINVAL);
    c = cfg_minutely();
    c.min_points = 8641;
    AD_EXPECT_INT(build(&c, p, 12, &b, &sent), ==, AD_EINVAL);
    c = cfg_minutely();
    AD_EXPECT_INT(build(&c, NULL, 12, &b, &sent), ==, AD_EINVAL);
    AD_EXPECT_INT(build(NULL, p, 12, &b, &sent), ==, AD_EINVAL);
    AD_EXPECT_INT(build(&c, p, AD_AZURE_MAX_INPUT + 1, &b, &sent), ==, AD_ELIMIT);
    AD_EXPECT_UINT(b.len, ==, 0);
    ad_buf_free(&b);
}

/* ---- last/detect ---------------------------------------------------------- */

static void test_parse_last_good(void)
{
    size_t len;
    char *body = slurp("resp_last_v11.json", &len);
    struct ad_azure_verdict v;
    char err[128] = "";
    AD_EXPECT_INT(ad_azure_parse_last(body, len, &v, err, sizeof(err)), ==, 0);
    AD_EXPECT(v.is_anomaly && v.is_positive_anomaly && !v.is_negative_anomaly);
    AD_EXPECT_NEAR(v.expected_value, 809.2328, 1e-15);
    AD_EXPECT_NEAR(v.upper_margin, 40.46164, 1e-15);
    AD_EXPECT_NEAR(v.lower_margin, 40.46164, 1e-15);
    AD_EXPECT(v.has_severity);
    AD_EXPECT_NEAR(v.severity, 0.35, 1e-15);
    AD_EXPECT_INT(v.period, ==, 12);
    AD_EXPECT_INT(v.suggested_window, ==, 49);
    free(body);

    body = slurp("resp_last_v10.json", &len);
    AD_EXPECT_INT(ad_azure_parse_last(body, len, &v, err, sizeof(err)), ==, 0);
    AD_EXPECT(!v.is_anomaly && !v.has_severity);
    AD_EXPECT_INT(v.period, ==, 0);
    free(body);

    /* Optional members absent or null; an integral real period. */
    const char *min = "{\"isAnomaly\":false,\"isPositiveAnomaly\":false,"
                      "\"isNegativeAnomaly\":false,\"expectedValue\":1,\"upperMargin\":0,"
                      "\"lowerMargin\":0.5,\"severity\":null,"
                      "\"period\":24.0,\"extra\":[1,2]}";
    AD_EXPECT_INT(ad_azure_parse_last(min, strlen(min), &v, err, sizeof(err)), ==, 0);
    AD_EXPECT(!v.has_severity);
    AD_EXPECT_INT(v.period, ==, 24);
    AD_EXPECT_INT(v.suggested_window, ==, -1);
}

/* Each required member missing, then of the wrong type. */
static void test_parse_last_bad_members(void)
{
    static const struct {
        const char *name;
        const char *type_reason;
    } req[] = {
        {"isAnomaly", "isAnomaly is not a boolean"},
        {"isPositiveAnomaly", "isPositiveAnomaly is not a boolean"},
        {"isNegativeAnomaly", "isNegativeAnomaly is not a boolean"},
        {"expectedValue", "expectedValue is not a number"},
        {"upperMargin", "upperMargin is not a number"},
        {"lowerMargin", "lowerMargin is not a number"},
    };
    size_t len;
    char *body = slurp("resp_last_v11.json", &len);
    json_t *good = json_loadb(body, len, 0, NULL);
    AD_EXPECT(good != NULL);
    struct ad_azure_verdict v, sentinel;
    memset(&sentinel, 0x5a, sizeof(sentinel));
    char err[128], want[128];

    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        json_t *j = json_deep_copy(good);
        json_object_del(j, req[i].name);
        char *s = json_dumps(j, JSON_COMPACT);
        v = sentinel;
        AD_EXPECT_INT(ad_azure_parse_last(s, strlen(s), &v, err, sizeof(err)), ==, AD_EPARSE);
        snprintf(want, sizeof(want), "missing %s", req[i].name);
        AD_EXPECT_STR(err, want);
        AD_EXPECT(memcmp(&v, &sentinel, sizeof(v)) == 0); /* out untouched */
        free(s);
        json_object_set_new(j, req[i].name, json_string("1"));
        s = json_dumps(j, JSON_COMPACT);
        AD_EXPECT_INT(ad_azure_parse_last(s, strlen(s), &v, err, sizeof(err)), ==, AD_EPARSE);
        AD_EXPECT_STR(err, req[i].type_reason);
        free(s);
        json_decref(j);
    }

    static const struct {
        const char *name;
        const char *json;
        const char *reason;
    } opt[] = {
        {"period", "-1", "period is not an integer >= 0"},
        {"period", "1.5", "period is not an integer >= 0"},
        {"period", "\"12\"", "period is not an integer >= 0"},
        {"period", "3000000000", "period is not an integer >= 0"},
        {"suggestedWindow", "true", "suggestedWindow is not an integer >= 0"},
        {"severity", "\"high\"", "severity is not a number"},
        {"isAnomaly", "null", "isAnomaly is not a boolean"},
        {"expectedValue", "[1]", "expectedValue is not a number"},
    };
    for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
        json_t *j = json_deep_copy(good);
        json_object_set_new(j, opt[i].name, json_loads(opt[i].json, JSON_DECODE_ANY, NULL));
        char *s = json_dumps(j, JSON_COMPACT);
        AD_EXPECT_INT(ad_azure_parse_last(s, strlen(s), &v, err, sizeof(err)), ==, AD_EPARSE);
        AD_EXPECT_STR(err, opt[i].reason);
        free(s);
        json_decref(j);
    }
    json_decref(good);
    free(body);
}

static void test_parse_last_bad_bodies(void)
{
    struct ad_azure_verdict v;
    char err[128];
    size_t len;
    char *body = slurp("resp_last_v11.json", &len);

    /* Every truncation of a good body fails cleanly. */
    for (size_t cut = 0; cut < len; cut++) {
        char *p = malloc(cut ? cut : 1); /* exact size: ASan sees over-reads */
        memcpy(p, body, cut);
        AD_EXPECT_INT(ad_azure_parse_last(p, cut, &v, err, sizeof(err)), ==, AD_EPARSE);
        free(p);
    }
    AD_EXPECT_INT(ad_azure_parse_last(body, len - 1, &v, err, sizeof(err)), ==, AD_EPARSE);
    AD_EXPECT(strncmp(err, "malformed JSON: ", 16) == 0);
    AD_EXPECT_INT(ad_azure_parse_last(body, 0, &v, err, sizeof(err)), ==, AD_EPARSE);
    AD_EXPECT_STR(err, "empty body");
    AD_EXPECT_INT(ad_azure_parse_last("[true]", 6, &v, err, sizeof(err)), ==, AD_EPARSE);
    AD_EXPECT_STR(err, "not a JSON object");
    AD_EXPECT_INT(ad_azure_parse_last("<html>502</html>", 16, &v, err, sizeof(err)), ==, AD_EPARSE);
    const char *dup = "{\"isAnomaly\":true,\"isAnomaly\":false}";
    AD_EXPECT_INT(ad_azure_parse_last(dup, strlen(dup), &v, err, sizeof(err)), ==, AD_EPARSE);
    /* A NULL err is fine. */
    AD_EXPECT_INT(ad_azure_parse_last("{}", 2, &v, NULL, 0), ==, AD_EPARSE);

    /* The 1 MiB cap: a good body padded to exactly the cap parses, one more
     * byte does not. */
    char *big = malloc(AD_AZURE_MAX_BODY + 1);
    memset(big, ' ', AD_AZURE_MAX_BODY + 1);
    memcpy(big, body, len);
    AD_EXPECT_INT(ad_azure_parse_last(big, AD_AZURE_MAX_BODY, &v, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(ad_azure_parse_last(big, AD_AZURE_MAX_BODY + 1, &v, err, sizeof(err)), ==,
                  AD_ELIMIT);
    AD_EXPECT_STR(err, "body too large (1048577 bytes, max 1048576)");
    free(big);
    free(body);
}

/* ---- entire/detect -------------------------------------------------------- */

static void test_parse_entire(void)
{
    size_t len;
    char *body = slurp("resp_entire.json", &len);
    struct ad_azure_verdict v;
    char err[128] = "";
    AD_EXPECT_INT(ad_azure_parse_entire_last(body, len, 12, &v, err, sizeof(err)), ==, 0);
    AD_EXPECT(v.is_anomaly && !v.is_positive_anomaly && v.is_negative_anomaly);
    AD_EXPECT_NEAR(v.expected_value, 21.5, 1e-15);
    AD_EXPECT_NEAR(v.upper_margin, 0.75, 1e-15);
    AD_EXPECT_NEAR(v.lower_margin, 0.5, 1e-15);
    AD_EXPECT(v.has_severity);
    AD_EXPECT_NEAR(v.severity, 0.6, 1e-15);
    AD_EXPECT_INT(v.period, ==, 0);
    AD_EXPECT_INT(v.suggested_window, ==, -1);

    AD_EXPECT_INT(ad_azure_parse_entire_last(body, len, 13, &v, err, sizeof(err)), ==, AD_EPARSE);
    AD_EXPECT_STR(err, "expectedValues has 12 entries, expected 13");
    AD_EXPECT_INT(ad_azure_parse_entire_last(body, len, 0, &v, err, sizeof(err)), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_azure_parse_entire_last(body, len, 8641, &v, err, sizeof(err)), ==, AD_EINVAL);

    json_t *good = json_loadb(body, len, 0, NULL);
    static const char *const arrays[] = {"expectedValues",    "upperMargins",
                                         "lowerMargins",      "isAnomaly",
                                         "isPositiveAnomaly", "isNegativeAnomaly"};
    char want[128];
    for (size_t i = 0; i < 6; i++) {
        bool is_bool = i >= 3;
        json_t *j = json_deep_copy(good);
        json_object_del(j, arrays[i]);
        char *s = json_dumps(j, JSON_COMPACT);
        AD_EXPECT_INT(ad_azure_parse_entire_last(s, strlen(s), 12, &v, err, sizeof(err)), ==,
                      AD_EPARSE);
        snprintf(want, sizeof(want), "missing %s", arrays[i]);
        AD_EXPECT_STR(err, want);
        free(s);
        json_decref(j);

        j = json_deep_copy(good); /* one entry short */
        json_array_remove(json_object_get(j, arrays[i]), 0);
        s = json_dumps(j, JSON_COMPACT);
        AD_EXPECT_INT(ad_azure_parse_entire_last(s, strlen(s), 12, &v, err, sizeof(err)), ==,
                      AD_EPARSE);
        snprintf(want, sizeof(want), "%s has 11 entries, expected 12", arrays[i]);
        AD_EXPECT_STR(err, want);
        free(s);
        json_decref(j);

        j = json_deep_copy(good); /* a wrong type in the middle */
        json_array_set_new(json_object_get(j, arrays[i]), 3,
                           is_bool ? json_integer(1) : json_true());
        s = json_dumps(j, JSON_COMPACT);
        AD_EXPECT_INT(ad_azure_parse_entire_last(s, strlen(s), 12, &v, err, sizeof(err)), ==,
                      AD_EPARSE);
        snprintf(want, sizeof(want), "%s[3] is not a %s", arrays[i],
                 is_bool ? "boolean" : "number");
        AD_EXPECT_STR(err, want);
        free(s);
        json_decref(j);

        j = json_deep_copy(good); /* not an array */
        json_object_set_new(j, arrays[i], json_integer(1));
        s = json_dumps(j, JSON_COMPACT);
        AD_EXPECT_INT(ad_azure_parse_entire_last(s, strlen(s), 12, &v, err, sizeof(err)), ==,
                      AD_EPARSE);
        snprintf(want, sizeof(want), "%s is not an array", arrays[i]);
        AD_EXPECT_STR(err, want);
        free(s);
        json_decref(j);
    }

    json_t *j = json_deep_copy(good); /* severity optional, period required */
    json_object_del(j, "severity");
    char *s = json_dumps(j, JSON_COMPACT);
    AD_EXPECT_INT(ad_azure_parse_entire_last(s, strlen(s), 12, &v, err, sizeof(err)), ==, 0);
    AD_EXPECT(!v.has_severity);
    free(s);
    json_object_del(j, "period");
    s = json_dumps(j, JSON_COMPACT);
    AD_EXPECT_INT(ad_azure_parse_entire_last(s, strlen(s), 12, &v, err, sizeof(err)), ==,
                  AD_EPARSE);
    AD_EXPECT_STR(err, "missing period");
    free(s);
    json_decref(j);

    for (size_t cut = 0; cut < len; cut += 7)
        AD_EXPECT_INT(ad_azure_parse_entire_last(body, cut, 12, &v, err, sizeof(err)), ==,
                      AD_EPARSE);
    json_decref(good);
    free(body);
}

/* ---- errors --------------------------------------------------------------- */

static void test_parse_error(void)
{
    struct ad_azure_error e;
    size_t len;
    char *body = slurp("err_service.json", &len);
    AD_EXPECT_INT(ad_azure_parse_error(body, len, NULL, &e), ==, 0);
    AD_EXPECT_STR(e.code, "InvalidSeries");
    AD_EXPECT_STR(e.message, "The series should be sorted by timestamp ascendingly.");
    /* The header wins for the code (whitespace and CRLF trimmed). */
    AD_EXPECT_INT(ad_azure_parse_error(body, len, " InvalidCustomInterval\r\n", &e), ==, 0);
    AD_EXPECT_STR(e.code, "InvalidCustomInterval");
    AD_EXPECT_STR(e.message, "The series should be sorted by timestamp ascendingly.");
    AD_EXPECT_INT(ad_azure_parse_error(body, len, "", &e), ==, 0);
    AD_EXPECT_STR(e.code, "InvalidSeries");
    free(body);

    body = slurp("err_gateway_401.json", &len);
    AD_EXPECT_INT(ad_azure_parse_error(body, len, NULL, &e), ==, 0);
    AD_EXPECT_STR(e.code, "401");
    AD_EXPECT_CONTAINS(e.message, "Access denied due to invalid subscription key");
    free(body);

    const char *num = "{\"error\":{\"code\":429,\"message\":\"slow down\"}}";
    AD_EXPECT_INT(ad_azure_parse_error(num, strlen(num), NULL, &e), ==, 0);
    AD_EXPECT_STR(e.code, "429");
    AD_EXPECT_STR(e.message, "slow down");

    const char *msg_only = "{\"message\":\"line1\nline2\"}";
    AD_EXPECT_INT(ad_azure_parse_error(msg_only, strlen(msg_only), NULL, &e), ==, AD_EPARSE);
    const char *msg_esc = "{\"message\":\"line1\\nline2\\u0007\"}";
    AD_EXPECT_INT(ad_azure_parse_error(msg_esc, strlen(msg_esc), NULL, &e), ==, 0);
    AD_EXPECT_STR(e.code, "");
    AD_EXPECT_STR(e.message, "line1?line2?");

    /* Garbage: empty strings and AD_EPARSE; the header still gives a code. */
    static const char *const garbage[] = {"",
                                          "<html><body>502 Bad Gateway</body></html>",
                                          "{\"code\":",
                                          "[\"code\"]",
                                          "{\"error\":true}",
                                          "{\"code\":{},\"message\":[]}",
                                          "null"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        memset(&e, 'x', sizeof(e));
        AD_EXPECT_INT(ad_azure_parse_error(garbage[i], strlen(garbage[i]), NULL, &e), ==,
                      AD_EPARSE);
        AD_EXPECT_STR(e.code, "");
        AD_EXPECT_STR(e.message, "");
    }
    AD_EXPECT_INT(ad_azure_parse_error(NULL, 0, "BadArgument", &e), ==, AD_EPARSE);
    AD_EXPECT_STR(e.code, "BadArgument");
    AD_EXPECT_INT(ad_azure_parse_error(garbage[1], strlen(garbage[1]), "Bad\x01\xc3\xa9", &e), ==,
                  AD_EPARSE);
    AD_EXPECT_STR(e.code, "Bad???");

    /* Long values are cut on a UTF-8 boundary: 'a' then 200 x "é" (2 bytes):
     * 255 bytes fit, 'a' + 127 whole characters = 255 bytes. */
    struct ad_buf b;
    ad_buf_init(&b, 4096);
    ad_buf_adds(&b, "{\"code\":\"");
    for (int i = 0; i < 70; i++)
        ad_buf_adds(&b, "\xc3\xa9");
    ad_buf_adds(&b, "\",\"message\":\"a");
    for (int i = 0; i < 200; i++)
        ad_buf_adds(&b, "\xc3\xa9");
    ad_buf_adds(&b, "\"}");
    AD_EXPECT_INT(ad_azure_parse_error(b.p, b.len, NULL, &e), ==, 0);
    AD_EXPECT_UINT(strlen(e.message), ==, 255);
    AD_EXPECT_UINT(strlen(e.code), ==, 62); /* 31 characters of 2 bytes */
    ad_buf_free(&b);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_url);
    AD_TEST_RUN(argc, argv, test_custom_interval);
    AD_TEST_RUN(argc, argv, test_request_unsorted);
    AD_TEST_RUN(argc, argv, test_request_duplicates);
    AD_TEST_RUN(argc, argv, test_request_off_grid_and_bad_values);
    AD_TEST_RUN(argc, argv, test_request_custom_interval);
    AD_TEST_RUN(argc, argv, test_request_hourly);
    AD_TEST_RUN(argc, argv, test_timestamps);
    AD_TEST_RUN(argc, argv, test_request_fractional_seconds);
    AD_TEST_RUN(argc, argv, test_request_too_few);
    AD_TEST_RUN(argc, argv, test_request_trim_8640);
    AD_TEST_RUN(argc, argv, test_request_bad_cfg);
    AD_TEST_RUN(argc, argv, test_parse_last_good);
    AD_TEST_RUN(argc, argv, test_parse_last_bad_members);
    AD_TEST_RUN(argc, argv, test_parse_last_bad_bodies);
    AD_TEST_RUN(argc, argv, test_parse_entire);
    AD_TEST_RUN(argc, argv, test_parse_error);
    return ad_test_done();
}
