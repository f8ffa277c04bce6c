/* test_alert.c - the alert id (stability, sensitivity, a fixed vector checked
 * against a second, independent implementation) and the alert JSON line. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ad_alert.h"
#include "ad_alertmgr.h"
#include "ad_detect.h"
#include "ad_buf.h"
#include "ad_azure.h"
#include "ad_config.h"
#include "ad_err.h"
#include "ad_test.h"

/* 2026-11-20T10:00:00Z and one minute later. */
#define T0 INT64_C(1795168800000000)
#define T1 INT64_C(1795168860000000)

/* ---- a second implementation of the id, written from docs/alerts.md ----
 * It builds the canonical byte string in memory with snprintf, then hashes
 * it byte by byte; the library streams and formats numbers itself. */
static uint64_t ref_fnv1a64(const unsigned char *p, size_t n, uint64_t basis)
{
    uint64_t h = basis;
    while (n--) {
        h ^= *p++;
        h *= 1099511628211u; /* 0x100000001b3 */
    }
    return h;
}

static uint64_t ref_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void ref_id(const char *key, size_t key_len, const char *metric, int64_t ws, int64_t we,
                   const char *detector, char out[33])
{
    unsigned char bytes[1024];
    size_t n = 0;

    memcpy(bytes + n, key, key_len);
    n += key_len;
    bytes[n++] = 0;
    n += (size_t)snprintf((char *)bytes + n, sizeof(bytes) - n, "%s", metric);
    bytes[n++] = 0;
    n += (size_t)snprintf((char *)bytes + n, sizeof(bytes) - n, "%" PRId64, ws);
    bytes[n++] = 0;
    n += (size_t)snprintf((char *)bytes + n, sizeof(bytes) - n, "%" PRId64, we);
    bytes[n++] = 0;
    n += (size_t)snprintf((char *)bytes + n, sizeof(bytes) - n, "%s", detector);

    uint64_t basis = 14695981039346656037u; /* 0xcbf29ce484222325 */
    uint64_t a = ref_mix(ref_fnv1a64(bytes, n, basis));
    uint64_t b = ref_mix(ref_fnv1a64(bytes, n, basis ^ 0x9e3779b97f4a7c15u));
    snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, a, b);
}

static struct ad_alert sample(void)
{
    struct ad_alert a;
    memset(&a, 0, sizeof(a));
    a.key = "sim-614";
    a.key_len = strlen(a.key);
    a.metric = "temp";
    a.window_start_us = T0;
    a.window_end_us = T1;
    a.value = 31.2;
    a.expected = 22.3;
    a.stddev = 1.1;
    a.zscore = 8.09;
    a.threshold = 4.0;
    a.direction = AD_DIR_POSITIVE;
    a.n = 373;
    a.detector = AD_DETECTOR_WELFORD;
    a.topic = "sensor-raw";
    a.partition = 3;
    a.offset = 18211;
    ad_alert_explain_welford(&a);
    return a;
}

static void id_of(const struct ad_alert *a, char out[AD_ALERT_ID_LEN + 1])
{
    memset(out, 'x', AD_ALERT_ID_LEN + 1);
    ad_alert_id(a, out);
    AD_EXPECT_UINT(strlen(out), ==, AD_ALERT_ID_LEN);
    for (size_t i = 0; i < AD_ALERT_ID_LEN; i++)
        AD_EXPECT(strchr("0123456789abcdef", out[i]) != NULL);
}

static void test_id_known_vector(void)
{
    struct ad_alert a = sample();
    char id[AD_ALERT_ID_LEN + 1], ref[33];

    id_of(&a, id);
    ref_id("sim-614", 7, "temp", T0, T1, "welford", ref);
    AD_EXPECT_STR(id, ref);
    /* Pinned as well (computed by a third implementation, in Python, from
     * docs/alerts.md): changing the algorithm must be a deliberate act. */
    AD_EXPECT_STR(id, "0d68abf66a22dc7f3414f4b0d49e51a4");
}

static void test_id_edge_vectors(void)
{
    struct ad_alert a;
    char id[AD_ALERT_ID_LEN + 1], ref[33];

    /* All empty: a NULL metric and a detector without a name count as "". */
    memset(&a, 0, sizeof(a));
    a.key = "";
    a.detector = AD_DETECTOR_COUNT;
    id_of(&a, id);
    ref_id("", 0, "", 0, 0, "", ref);
    AD_EXPECT_STR(id, ref);
    AD_EXPECT_STR(id, "1371f219905f3143970bd7a3d903459f");

    /* Negative times, INT64_MIN included. */
    a.key = "k";
    a.key_len = 1;
    a.metric = "m";
    a.detector = AD_DETECTOR_WELFORD;
    a.window_start_us = -1;
    a.window_end_us = INT64_MIN;
    id_of(&a, id);
    ref_id("k", 1, "m", -1, INT64_MIN, "welford", ref);
    AD_EXPECT_STR(id, ref);
    AD_EXPECT_STR(id, "9e907fecf64786396b24bc2c2757c18a");

    /* Key bytes beyond key_len are not hashed; embedded NULs are. */
    a = sample();
    a.key = "sim-614-extra";
    a.key_len = 7;
    id_of(&a, id);
    AD_EXPECT_STR(id, "0d68abf66a22dc7f3414f4b0d49e51a4");
    a.key = "a\0b";
    a.key_len = 3;
    id_of(&a, id);
    ref_id("a\0b", 3, "temp", T0, T1, "welford", ref);
    AD_EXPECT_STR(id, ref);

    /* INT64_MAX and a long UTF-8 key. */
    a = sample();
    a.key = "capteur-\xc3\xa9t\xc3\xa9-\xe2\x82\xac-0123456789abcdefghijklmnopqrstuvwxyz";
    a.key_len = strlen(a.key);
    a.window_start_us = INT64_MAX;
    a.window_end_us = 0;
    id_of(&a, id);
    ref_id(a.key, a.key_len, "temp", INT64_MAX, 0, "welford", ref);
    AD_EXPECT_STR(id, ref);
}

static void test_id_stable_and_sensitive(void)
{
    struct ad_alert a = sample(), b;
    char base[AD_ALERT_ID_LEN + 1], id[AD_ALERT_ID_LEN + 1];

    id_of(&a, base);
    for (int i = 0; i < 100; i++) {
        id_of(&a, id);
        AD_EXPECT_STR(id, base);
    }

    /* Fields outside the series and window do not change the id. */
    b = a;
    b.value = -1;
    b.expected = 0;
    b.stddev = 9;
    b.zscore = -3;
    b.threshold = 1;
    b.direction = AD_DIR_NEGATIVE;
    b.n = 1;
    b.topic = "other";
    b.partition = 0;
    b.offset = 1;
    id_of(&b, id);
    AD_EXPECT_STR(id, base);

    /* Every identifying field does, each half on its own too. */
    const char *alt_keys[] = {"sim-615", "sim-61", "Sim-614", "sim-614 "};
    for (size_t i = 0; i < sizeof(alt_keys) / sizeof(alt_keys[0]); i++) {
        b = a;
        b.key = alt_keys[i];
        b.key_len = strlen(alt_keys[i]);
        id_of(&b, id);
        AD_EXPECT(strncmp(id, base, 16) != 0);
        AD_EXPECT(strncmp(id + 16, base + 16, 16) != 0);
    }
    b = a;
    b.metric = "hum";
    id_of(&b, id);
    AD_EXPECT(strcmp(id, base) != 0);
    b = a;
    b.metric = NULL;
    id_of(&b, id);
    AD_EXPECT(strcmp(id, base) != 0);
    b = a;
    b.window_start_us++;
    id_of(&b, id);
    AD_EXPECT(strcmp(id, base) != 0);
    b = a;
    b.window_end_us--;
    id_of(&b, id);
    AD_EXPECT(strcmp(id, base) != 0);
    b = a;
    b.detector = AD_DETECTOR_REMOTE;
    id_of(&b, id);
    AD_EXPECT(strcmp(id, base) != 0);

    /* The separators keep fields apart: moving a byte across a boundary. */
    char id2[AD_ALERT_ID_LEN + 1];
    b = a;
    b.key = "ab";
    b.key_len = 2;
    b.metric = "c";
    id_of(&b, id);
    b.key = "a";
    b.key_len = 1;
    b.metric = "bc";
    id_of(&b, id2);
    AD_EXPECT(strcmp(id, id2) != 0);
    /* Start and end swapped. */
    b = a;
    b.window_start_us = T1;
    b.window_end_us = T0;
    id_of(&b, id);
    AD_EXPECT(strcmp(id, base) != 0);
}

static void test_id_many_distinct(void)
{
    /* 20000 series x windows: no collision in either half. */
    enum { N = 20000 };
    static char ids[N][AD_ALERT_ID_LEN + 1];
    struct ad_alert a = sample();
    char key[32];

    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "sim-%d", i % 200);
        a.key = key;
        a.key_len = strlen(key);
        a.window_start_us = T0 + (int64_t)(i / 200) * 60000000;
        a.window_end_us = a.window_start_us + 60000000;
        ad_alert_id(&a, ids[i]);
        char ref[33];
        if (i % 97 == 0) {
            ref_id(key, a.key_len, a.metric, a.window_start_us, a.window_end_us,
                   ad_detector_name(a.detector), ref);
            AD_EXPECT_STR(ids[i], ref);
        }
    }
    qsort(ids, N, sizeof(ids[0]), (int (*)(const void *, const void *))strcmp);
    for (int i = 1; i < N; i++)
        AD_EXPECT(strcmp(ids[i - 1], ids[i]) != 0);
}

static void test_format_golden(void)
{
    struct ad_alert a = sample();
    struct ad_buf b;

    ad_buf_init(&b, 1 << 16);
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, 0);
    AD_EXPECT_STR(b.p, "{\"alert_id\":\"0d68abf66a22dc7f3414f4b0d49e51a4\",\"key\":\"sim-614\","
                       "\"metric\":\"temp\",\"window_start\":\"2026-11-20T10:00:00.000Z\","
                       "\"window_end\":\"2026-11-20T10:01:00.000Z\",\"value\":31.2,"
                       "\"expected\":22.3,\"score\":0.7526941841883465,\"lower\":17.9,"
                       "\"upper\":26.700000000000003,\"kind\":\"spike\","
                       "\"stddev\":1.1,\"zscore\":8.09,\"threshold\":4,"
                       "\"direction\":\"positive\",\"n\":373,\"detector\":\"welford\","
                       "\"source\":{\"topic\":\"sensor-raw\",\"partition\":3,\"offset\":18211}}\n");
    AD_EXPECT_UINT(b.len, ==, strlen(b.p));

    /* Appends: a second alert follows the first on its own line. */
    size_t first = b.len;
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, 0);
    AD_EXPECT_UINT(b.len, ==, 2 * first);
    AD_EXPECT(memcmp(b.p, b.p + first, first) == 0);
    ad_buf_free(&b);
}

static void test_format_escaping_and_negative(void)
{
    struct ad_alert a = sample();
    struct ad_buf b;
    /* quote, backslash, newline, tab, 0x01, DEL, UTF-8 (é, €, U+1F600) */
    static const char key[] = "s\"n\\x\n\t\x01\x7f-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

    a.key = key;
    a.key_len = sizeof(key) - 1;
    a.metric = "t\"emp";
    a.window_start_us = T0 + 1500; /* sub-millisecond: microseconds */
    a.window_end_us = T0 + 1500;   /* no window: start = end */
    a.value = -0.5;
    a.expected = 1e-7;
    a.stddev = 0.1;
    a.zscore = -5.000000000000001;
    a.threshold = 4.5;
    a.direction = AD_DIR_NEGATIVE;
    a.n = UINT64_MAX;
    a.detector = AD_DETECTOR_WELFORD;
    a.topic = "raw\\t";
    a.partition = -1;
    a.offset = INT64_MAX;
    ad_alert_explain_welford(&a);

    char id[AD_ALERT_ID_LEN + 1], want[2048];
    ad_alert_id(&a, id);
    snprintf(want, sizeof(want),
             "{\"alert_id\":\"%s\",\"key\":\"s\\\"n\\\\x\\n\\t\\u0001\\u007f-\xc3\xa9\xe2\x82\xac"
             "\xf0\x9f\x98\x80\",\"metric\":\"t\\\"emp\","
             "\"window_start\":\"2026-11-20T10:00:00.001500Z\","
             "\"window_end\":\"2026-11-20T10:00:00.001500Z\",\"value\":-0.5,\"expected\":1e-07,"
             "\"score\":0.5552240759883462,\"lower\":-0.4499999,\"upper\":0.4500001,"
             "\"kind\":\"dip\",\"stddev\":0.1,\"zscore\":-5.000000000000001,\"threshold\":4.5,"
             "\"direction\":\"negative\",\"n\":18446744073709551615,\"detector\":\"welford\","
             "\"source\":{\"topic\":\"raw\\\\t\",\"partition\":-1,"
             "\"offset\":9223372036854775807}}\n",
             id);
    ad_buf_init(&b, 1 << 16);
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, 0);
    AD_EXPECT_STR(b.p, want);

    /* And it is valid JSON that reads back to the same values. */
    json_error_t jerr; /* n is beyond jansson's integers: read it as a real */
    json_t *j = json_loadb(b.p, b.len, JSON_DECODE_INT_AS_REAL, &jerr);
    if (!j)
        AD_FAIL_("not JSON: %s", jerr.text);
    AD_EXPECT_UINT(json_string_length(json_object_get(j, "key")), ==, sizeof(key) - 1);
    AD_EXPECT(memcmp(json_string_value(json_object_get(j, "key")), key, sizeof(key) - 1) == 0);
    AD_EXPECT_STR(json_string_value(json_object_get(j, "direction")), "negative");
    AD_EXPECT(json_real_value(json_object_get(j, "zscore")) == a.zscore);
    AD_EXPECT(json_real_value(json_object_get(j, "expected")) == a.expected);
    AD_EXPECT_STR(json_string_value(json_object_get(j, "alert_id")), id);
    json_decref(j);
    ad_buf_free(&b);
}

static void test_format_optional_parts(void)
{
    struct ad_alert a = sample();
    struct ad_buf b;
    char id[AD_ALERT_ID_LEN + 1];

    /* Replay from a file: no topic, no source object. */
    a.topic = NULL;
    a.metric = NULL;
    ad_alert_id(&a, id);
    ad_buf_init(&b, 1 << 16);
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, 0);
    AD_EXPECT_CONTAINS(b.p, "\"metric\":\"\",");
    AD_EXPECT_CONTAINS(b.p, "\"detector\":\"welford\"}\n");
    AD_EXPECT(strstr(b.p, "source") == NULL);

    /* Extra members (the remote verdict) go last. */
    a = sample();
    ad_buf_reset(&b);
    const char *extra = "\"remote\":{\"status\":\"skipped\"}";
    AD_EXPECT_INT(ad_alert_format_ext(&a, extra, strlen(extra), &b), ==, 0);
    AD_EXPECT_CONTAINS(b.p, "\"offset\":18211},\"remote\":{\"status\":\"skipped\"}}\n");
    json_error_t jerr;
    json_t *j = json_loadb(b.p, b.len, 0, &jerr);
    AD_EXPECT(j != NULL);
    json_decref(j);
    ad_buf_free(&b);
}

static void test_format_invalid(void)
{
    struct ad_alert a = sample();
    struct ad_buf b;

    ad_buf_init(&b, 1 << 16);
    AD_EXPECT_INT(ad_buf_adds(&b, "prefix\n"), ==, 0);

    a.direction = AD_DIR_BOTH;
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, AD_EINVAL);
    AD_EXPECT_STR(b.p, "prefix\n");

    a = sample();
    a.zscore = NAN;
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, AD_EINVAL);
    AD_EXPECT_STR(b.p, "prefix\n");
    AD_EXPECT_UINT(b.len, ==, 7);

    a = sample();
    a.value = INFINITY;
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, AD_EINVAL);
    AD_EXPECT_STR(b.p, "prefix\n");

    a = sample();
    a.detector = AD_DETECTOR_COUNT; /* no name */
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, AD_EINVAL);
    AD_EXPECT_STR(b.p, "prefix\n");
    ad_buf_free(&b);
}

static void test_format_buffer_limit(void)
{
    struct ad_alert a = sample();
    struct ad_buf full, b;

    ad_buf_init(&full, 1 << 16);
    AD_EXPECT_INT(ad_alert_format(&a, &full), ==, 0);
    const size_t prefix = 5, need = prefix + full.len;

    /* Every maximum short of the line fails with AD_ELIMIT and leaves the
     * existing content exactly as it was. */
    for (size_t max = prefix; max < need; max++) {
        ad_buf_init(&b, max);
        AD_EXPECT_INT(ad_buf_adds(&b, "abcde"), ==, 0);
        AD_EXPECT_INT(ad_alert_format(&a, &b), ==, AD_ELIMIT);
        AD_EXPECT_UINT(b.len, ==, prefix);
        AD_EXPECT_STR(b.p, "abcde");
        /* Still usable afterwards. */
        AD_EXPECT_INT(ad_buf_addc(&b, 'f'), ==, max > prefix ? 0 : AD_ELIMIT);
        ad_buf_free(&b);
    }
    /* Exactly enough room succeeds. */
    ad_buf_init(&b, need);
    AD_EXPECT_INT(ad_buf_adds(&b, "abcde"), ==, 0);
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, 0);
    AD_EXPECT_STR(b.p + prefix, full.p);
    ad_buf_free(&b);
    ad_buf_free(&full);
}

static void test_remote_json(void)
{
    struct ad_azure_verdict v = {true, true, false, 31.5, 1.25, 1.25, 0.4, true, 12, 49};
    struct ad_buf b;
    ad_buf_init(&b, 4096);
    AD_EXPECT_INT(ad_alert_remote_json(&b, &v, "ok", NULL), ==, 0);
    AD_EXPECT_STR(b.p, "\"remote\":{\"status\":\"ok\",\"is_anomaly\":true,\"expected_value\":31.5,"
                       "\"upper_margin\":1.25,\"lower_margin\":1.25,\"is_positive_anomaly\":true,"
                       "\"is_negative_anomaly\":false,\"severity\":0.4,\"period\":12}");
    ad_buf_reset(&b);
    v.has_severity = false;
    v.period = -1;
    v.is_anomaly = v.is_positive_anomaly = false;
    v.expected_value = 0.1;
    AD_EXPECT_INT(ad_alert_remote_json(&b, &v, "ok", NULL), ==, 0);
    AD_EXPECT_STR(b.p, "\"remote\":{\"status\":\"ok\",\"is_anomaly\":false,\"expected_value\":0.1,"
                       "\"upper_margin\":1.25,\"lower_margin\":1.25,\"is_positive_anomaly\":false,"
                       "\"is_negative_anomaly\":false}");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_alert_remote_json(&b, NULL, "unavailable", "HTTP 503"), ==, 0);
    AD_EXPECT_STR(b.p, "\"remote\":{\"status\":\"unavailable\",\"reason\":\"HTTP 503\"}");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_alert_remote_json(&b, NULL, "skipped", NULL), ==, 0);
    AD_EXPECT_STR(b.p, "\"remote\":{\"status\":\"skipped\"}");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_alert_remote_json(&b, NULL, "rejected", "Invalid\"Series\n"), ==, 0);
    AD_EXPECT_STR(b.p, "\"remote\":{\"status\":\"rejected\",\"reason\":\"Invalid\\\"Series\\n\"}");

    /* Errors leave the buffer as it was. */
    ad_buf_reset(&b);
    ad_buf_adds(&b, "x");
    v.upper_margin = NAN;
    AD_EXPECT_INT(ad_alert_remote_json(&b, &v, "ok", NULL), ==, AD_EINVAL);
    AD_EXPECT_STR(b.p, "x");
    AD_EXPECT_INT(ad_alert_remote_json(&b, NULL, NULL, NULL), ==, AD_EINVAL);
    ad_buf_free(&b);
    ad_buf_init(&b, 20);
    AD_EXPECT_INT(ad_alert_remote_json(&b, NULL, "breaker_open", NULL), ==, AD_ELIMIT);
    AD_EXPECT_UINT(b.len, ==, 0);
    ad_buf_free(&b);
}

/* The dashboard row: from the remote verdict when the alert has one, else
 * from the local model (margins = threshold * stddev, direction from the
 * value); rows collect into one JSON array. */
/* want, then the row's identity members (alertId, key, metric, detector of
 * a), then the closing brace. */
static void expect_row_at(const char *got, const char *pre, const char *want,
                          const struct ad_alert *a, const char *post)
{
    char id[AD_ALERT_ID_LEN + 1], full[2048];
    ad_alert_id(a, id);
    snprintf(full, sizeof(full),
             "%s%s,\"alertId\":\"%s\",\"key\":\"%.*s\",\"metric\":\"%s\",\"detector\":\"%s\"}%s",
             pre, want, id, (int)a->key_len, a->key, a->metric, ad_detector_name(a->detector),
             post);
    AD_EXPECT_STR(got, full);
}

static void expect_row(const char *got, const char *want, const struct ad_alert *a)
{
    expect_row_at(got, "", want, a, "");
}

static void expect_batch1(const char *got, const char *want, const struct ad_alert *a)
{
    expect_row_at(got, "[", want, a, "]");
}

static void test_webhook_rows(void)
{
    const int64_t min = INT64_C(60000000);
    struct ad_azure_verdict v = {true, false, true, 22.5, 0.75, 0.5, 0, false, 0, -1};
    struct ad_alert a = sample();
    struct ad_buf row, batch;
    ad_buf_init(&row, 4096);
    ad_buf_init(&batch, 4096);

    a.value = 20.25;
    a.remote = &v;
    AD_EXPECT_INT(ad_alert_webhook_row(&row, &a, T0), ==, 0);
    expect_row(row.p,
               "{\"timestamp\":\"2026-11-20T10:00:00Z\",\"value\":20.25,"
               "\"expectedValue\":22.5,\"upperMargin\":0.75,\"lowerMargin\":0.5,"
               "\"isAnomaly\":true,\"isPositiveAnomaly\":false,"
               "\"isNegativeAnomaly\":true",
               &a);
    AD_EXPECT_INT(ad_alert_batch_add(&batch, row.p, row.len), ==, 0);
    expect_batch1(batch.p,
                  "{\"timestamp\":\"2026-11-20T10:00:00Z\",\"value\":20.25,"
                  "\"expectedValue\":22.5,\"upperMargin\":0.75,\"lowerMargin\":0.5,"
                  "\"isAnomaly\":true,\"isPositiveAnomaly\":false,"
                  "\"isNegativeAnomaly\":true",
                  &a);

    /* Local verdicts: margins = threshold * stddev, direction from the value. */
    ad_buf_reset(&row);
    a = sample(); /* 31.2 against 22.3 +- 4 * 1.1, welford */
    AD_EXPECT_INT(ad_alert_webhook_row(&row, &a, T0 + min + 1), ==, 0);
    expect_row(row.p,
               "{\"timestamp\":\"2026-11-20T10:01:00.000001Z\",\"value\":31.2,"
               "\"expectedValue\":22.3,\"upperMargin\":4.4,"
               "\"lowerMargin\":4.4,\"isAnomaly\":true,"
               "\"isPositiveAnomaly\":true,\"isNegativeAnomaly\":false",
               &a);
    ad_buf_reset(&row);
    a.value = 10;
    a.expected = 22;
    a.stddev = 1;
    AD_EXPECT_INT(ad_alert_webhook_row(&row, &a, T0 + 1000), ==, 0);
    expect_row(row.p,
               "{\"timestamp\":\"2026-11-20T10:00:00.001Z\",\"value\":10,"
               "\"expectedValue\":22,\"upperMargin\":4,\"lowerMargin\":4,"
               "\"isAnomaly\":true,\"isPositiveAnomaly\":false,"
               "\"isNegativeAnomaly\":true",
               &a);
    AD_EXPECT_INT(ad_alert_batch_add(&batch, row.p, row.len), ==, 0);
    /* Not the local model's anomaly, and no remote verdict to show. */
    ad_buf_reset(&row);
    a.value = 22;
    a.stddev = 0;
    a.detector = AD_DETECTOR_REMOTE;
    AD_EXPECT_INT(ad_alert_webhook_row(&row, &a, 0), ==, 0);
    expect_row(row.p,
               "{\"timestamp\":\"1970-01-01T00:00:00Z\",\"value\":22,"
               "\"expectedValue\":22,\"upperMargin\":0,\"lowerMargin\":0,"
               "\"isAnomaly\":false,\"isPositiveAnomaly\":false,"
               "\"isNegativeAnomaly\":false",
               &a);
    AD_EXPECT_INT(ad_alert_batch_add(&batch, row.p, row.len), ==, 0);
    json_t *j = json_loadb(batch.p, batch.len, 0, NULL);
    AD_EXPECT(json_is_array(j) && json_array_size(j) == 3);
    json_decref(j);

    /* Errors leave both buffers as they were. */
    ad_buf_reset(&row);
    a = sample();
    AD_EXPECT_INT(ad_alert_webhook_row(&row, &a, -1), ==, AD_EINVAL);
    a.value = INFINITY;
    AD_EXPECT_INT(ad_alert_webhook_row(&row, &a, T0), ==, AD_EINVAL);
    AD_EXPECT_UINT(row.len, ==, 0);
    size_t before = batch.len;
    struct ad_buf tiny;
    ad_buf_init(&tiny, before + 3);
    ad_buf_add(&tiny, batch.p, batch.len);
    AD_EXPECT_INT(ad_alert_batch_add(&tiny, "{\"a\":1}", 7), ==, AD_ELIMIT);
    AD_EXPECT_STR(tiny.p, batch.p);
    AD_EXPECT_INT(ad_alert_batch_add(&tiny, "1", 1), ==, 0);
    AD_EXPECT_STR(tiny.p + tiny.len - 4, "},1]");
    ad_buf_reset(&tiny);
    ad_buf_adds(&tiny, "{}");
    AD_EXPECT_INT(ad_alert_batch_add(&tiny, "1", 1), ==, AD_EINVAL);
    ad_buf_free(&tiny);
    ad_buf_free(&row);
    ad_buf_free(&batch);
}

/* A window only the remote flagged: its detector's name in the line, and an
 * id of its own. */
static void test_format_remote_detector(void)
{
    struct ad_alert a = sample();
    struct ad_buf b;
    char welford_id[AD_ALERT_ID_LEN + 1], remote_id[AD_ALERT_ID_LEN + 1];

    ad_alert_id(&a, welford_id);
    a.detector = AD_DETECTOR_REMOTE;
    ad_alert_id(&a, remote_id);
    AD_EXPECT(strcmp(welford_id, remote_id) != 0);
    ad_buf_init(&b, 1 << 16);
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, 0);
    AD_EXPECT_CONTAINS(b.p, "\"n\":373,\"detector\":\"anomaly_detector\",\"source\":");
    AD_EXPECT_CONTAINS(b.p, remote_id);
    ad_buf_free(&b);
}

/* A local detector's alert explains itself: score, band and kind in place
 * of the Welford members; its webhook row takes its margins from the band. */
static void test_format_explained(void)
{
    struct ad_alert a = sample();
    struct ad_buf b;
    char id[AD_ALERT_ID_LEN + 1];

    a.detector = AD_DETECTOR_AUTO;
    a.explained = true;
    a.score = 0.75;
    a.expected = 22.5;
    a.lower = 20.5;
    a.upper = 24.75;
    a.kind = AD_KIND_LEVEL_SHIFT;
    ad_alert_id(&a, id);
    ad_buf_init(&b, 1 << 16);
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, 0);
    char want[1024];
    snprintf(want, sizeof(want),
             "{\"alert_id\":\"%s\",\"key\":\"sim-614\",\"metric\":\"temp\","
             "\"window_start\":\"2026-11-20T10:00:00.000Z\","
             "\"window_end\":\"2026-11-20T10:01:00.000Z\",\"value\":31.2,\"expected\":22.5,"
             "\"score\":0.75,\"lower\":20.5,\"upper\":24.75,\"kind\":\"level_shift\","
             "\"direction\":\"positive\",\"detector\":\"auto\","
             "\"source\":{\"topic\":\"sensor-raw\",\"partition\":3,\"offset\":18211}}\n",
             id);
    AD_EXPECT_STR(b.p, want);
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_alert_webhook_row(&b, &a, T0), ==, 0);
    AD_EXPECT_CONTAINS(b.p, "\"upperMargin\":2.25");
    AD_EXPECT_CONTAINS(b.p, "\"lowerMargin\":2,");
    AD_EXPECT_CONTAINS(b.p, "\"isAnomaly\":true,\"isPositiveAnomaly\":true");
    a.score = HUGE_VAL;
    AD_EXPECT_INT(ad_alert_format(&a, &b), ==, AD_EINVAL);
    ad_buf_free(&b);
}

/* Alertmanager's /api/v2/alerts element: labels name the series and the
 * alert, annotations carry the numbers as strings, startsAt/endsAt from the
 * window (endsAt held AD_ALERTMGR_HOLD_US past its end). */
static void test_alertmanager(void)
{
    struct ad_alert a = sample();
    char id[AD_ALERT_ID_LEN + 1];
    struct ad_buf b;
    ad_buf_init(&b, 4096);
    a.key = "dev \"7\"";
    a.key_len = strlen(a.key);
    ad_alert_id(&a, id);
    AD_EXPECT_INT(ad_alertmgr_alert(&b, &a), ==, 0);
    json_error_t e;
    json_t *j = json_loadb(b.p, b.len, 0, &e);
    if (!j)
        AD_FAIL_("not JSON: %s: %s", e.text, b.p);
    json_t *l = json_object_get(j, "labels"), *an = json_object_get(j, "annotations");
    AD_EXPECT_STR(json_string_value(json_object_get(l, "alertname")), "AnomalyDetected");
    AD_EXPECT_STR(json_string_value(json_object_get(l, "key")), "dev \"7\"");
    AD_EXPECT_STR(json_string_value(json_object_get(l, "metric")), "temp");
    AD_EXPECT_STR(json_string_value(json_object_get(l, "detector")), "welford");
    AD_EXPECT_STR(json_string_value(json_object_get(l, "direction")), "positive");
    AD_EXPECT_STR(json_string_value(json_object_get(l, "kind")), "spike");
    AD_EXPECT_STR(json_string_value(json_object_get(l, "alert_id")), id);
    AD_EXPECT_STR(json_string_value(json_object_get(an, "value")), "31.2");
    AD_EXPECT_STR(json_string_value(json_object_get(an, "expected")), "22.3");
    AD_EXPECT_STR(json_string_value(json_object_get(an, "summary")),
                  "temp of dev \"7\" is 31.2, expected 22.3");
    AD_EXPECT_STR(json_string_value(json_object_get(j, "startsAt")), "2026-11-20T10:00:00.000Z");
    AD_EXPECT_STR(json_string_value(json_object_get(j, "endsAt")), "2026-11-20T10:06:00.000Z");
    /* every label and annotation is a string, as Alertmanager requires */
    const char *k;
    json_t *v;
    json_object_foreach(l, k, v) AD_EXPECT(json_is_string(v));
    json_object_foreach(an, k, v) AD_EXPECT(json_is_string(v));
    json_decref(j);
    /* an alert that cannot be written leaves the buffer as it was */
    size_t before = b.len;
    a.value = NAN;
    AD_EXPECT_INT(ad_alertmgr_alert(&b, &a), ==, AD_EINVAL);
    AD_EXPECT_UINT(b.len, ==, before);
    ad_buf_free(&b);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_id_known_vector);
    AD_TEST_RUN(argc, argv, test_id_edge_vectors);
    AD_TEST_RUN(argc, argv, test_id_stable_and_sensitive);
    AD_TEST_RUN(argc, argv, test_id_many_distinct);
    AD_TEST_RUN(argc, argv, test_format_golden);
    AD_TEST_RUN(argc, argv, test_format_escaping_and_negative);
    AD_TEST_RUN(argc, argv, test_format_optional_parts);
    AD_TEST_RUN(argc, argv, test_format_invalid);
    AD_TEST_RUN(argc, argv, test_format_buffer_limit);
    AD_TEST_RUN(argc, argv, test_format_remote_detector);
    AD_TEST_RUN(argc, argv, test_format_explained);
    AD_TEST_RUN(argc, argv, test_remote_json);
    AD_TEST_RUN(argc, argv, test_webhook_rows);
    AD_TEST_RUN(argc, argv, test_alertmanager);
    return ad_test_done();
}
