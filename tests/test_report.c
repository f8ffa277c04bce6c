/* test_report.c - the replay report's core (ad_report.h): SHA-256 and the CSP
 * hash, the escaping of the data block, the spool record, the choice and
 * order of the charted series, the thinning of their points, the caps, and
 * the page (its data block against a golden text). */
#include <jansson.h>
#include <string.h>

#include "ad_detect.h"
#include "ad_err.h"
#include "ad_report.h"
#include "ad_test.h"
#include "ad_types.h"

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void expect_sha(const void *p, size_t len, const char *want)
{
    unsigned char d[32];
    char h[65];
    ad_report_sha256(p, len, d);
    hex(d, 32, h);
    AD_EXPECT_STR(h, want);
}

/* FIPS 180-4's examples, the padding edges (55, 56, 64 bytes) and a long
 * input. */
static void test_sha256(void)
{
    expect_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char a[1000];
    memset(a, 'a', sizeof(a));
    expect_sha(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    expect_sha(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    expect_sha(a, 1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

static void test_csp_hash(void)
{
    struct ad_buf b;
    ad_buf_init(&b, 1024);
    AD_EXPECT_INT(ad_report_csp_hash(&b, "", 0), ==, 0);
    AD_EXPECT_STR(b.p, "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_report_csp_hash(&b, "abc", 3), ==, 0);
    AD_EXPECT_STR(b.p, "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='");
    AD_EXPECT_UINT(b.len, ==, 53);
    ad_buf_free(&b);
}

/* Nothing in a key can end the data block or break JSON.parse: '<', '>',
 * '&', U+2028/9, quotes, backslashes and control characters are escaped;
 * other UTF-8 is kept. */
static void test_json_str(void)
{
    struct ad_buf b;
    ad_buf_init(&b, 1024);
    const char in[] = "a\"b\\c</script><b x='1'>&amp;\n\t\x01\x7f"
                      "\xe2\x80\xa8|\xe2\x80\xa9|\xe2\x80\xa6|\xc3\xa9";
    AD_EXPECT_INT(ad_report_json_str(&b, in, sizeof(in) - 1), ==, 0);
    AD_EXPECT_STR(b.p, "\"a\\\"b\\\\c\\u003c/script\\u003e\\u003cb x='1'\\u003e\\u0026amp;"
                       "\\u000a\\u0009\\u0001\x7f\\u2028|\\u2029|\xe2\x80\xa6|\xc3\xa9\"");
    /* A NUL in a key, and a cut-off U+2028 at the end. */
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_report_json_str(&b, "x\0y\xe2\x80", 5), ==, 0);
    AD_EXPECT_STR(b.p, "\"x\\u0000y\xe2\x80\"");
    /* Back through a JSON parser: the same bytes. */
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_report_json_str(&b, in, sizeof(in) - 1), ==, 0);
    json_error_t e;
    json_t *v = json_loadb(b.p, b.len, JSON_DECODE_ANY, &e);
    AD_EXPECT(json_is_string(v));
    AD_EXPECT_UINT(json_string_length(v), ==, sizeof(in) - 1);
    AD_EXPECT(memcmp(json_string_value(v), in, sizeof(in) - 1) == 0);
    json_decref(v);
    /* A full buffer leaves it as it was. */
    struct ad_buf small;
    ad_buf_init(&small, 8);
    AD_EXPECT_INT(ad_buf_adds(&small, "ab"), ==, 0);
    AD_EXPECT_INT(ad_report_json_str(&small, "<<<<", 4), ==, AD_ELIMIT);
    AD_EXPECT_STR(small.p, "ab");
    ad_buf_free(&small);
    ad_buf_free(&b);
}

/* Every byte alone, and before and after plain text, under both policies:
 * what ad_json_esc() says, or the byte itself when it says nothing (the
 * escaper skips the bytes it need not look at by a table of its own), also
 * into a buffer with no room to spare (the escaper then counts the length
 * before it reserves) or one byte too little. */
static void test_json_str_bytes(void)
{
    struct ad_buf b, want;
    ad_buf_init(&b, 1024);
    ad_buf_init(&want, 1024);
    for (unsigned flags = 0; flags <= AD_JSON_HTML; flags += AD_JSON_HTML) {
        for (unsigned c = 0; c < 256; c++) {
            char in[3] = {'a', (char)c, 'z'}, e[6];
            size_t n = ad_json_esc((unsigned char)c, flags, e);
            ad_buf_reset(&b);
            ad_buf_reset(&want);
            AD_EXPECT_INT(ad_buf_add_json_str_flags(&b, in, sizeof(in), flags), ==, 0);
            AD_EXPECT_INT(ad_buf_adds(&want, "\"a"), ==, 0);
            AD_EXPECT_INT(n ? ad_buf_add(&want, e, n) : ad_buf_addc(&want, (char)c), ==, 0);
            AD_EXPECT_INT(ad_buf_adds(&want, "z\""), ==, 0);
            if (b.len != want.len || memcmp(b.p, want.p, b.len) != 0)
                AD_FAIL_("byte 0x%02x, flags %u: \"%s\" vs \"%s\"", c, flags, b.p, want.p);
            /* A buffer whose maximum is the exact length, and one byte short. */
            struct ad_buf tight;
            ad_buf_init(&tight, want.len);
            AD_EXPECT_INT(ad_buf_add_json_str_flags(&tight, in, sizeof(in), flags), ==, 0);
            AD_EXPECT(tight.len == want.len && memcmp(tight.p, want.p, want.len) == 0);
            ad_buf_free(&tight);
            ad_buf_init(&tight, want.len);
            AD_EXPECT_INT(ad_buf_addc(&tight, '-'), ==, 0);
            AD_EXPECT_INT(ad_buf_add_json_str_flags(&tight, in, sizeof(in), flags), ==, AD_ELIMIT);
            AD_EXPECT_STR(tight.p, "-");
            ad_buf_free(&tight);
            ad_buf_reset(&b);
            AD_EXPECT_INT(ad_buf_add_json_str_flags(&b, in + 1, 1, flags), ==, 0);
            AD_EXPECT_UINT(b.len, ==, want.len - 2);
            AD_EXPECT(b.p[0] == '"' && memcmp(b.p + 1, want.p + 2, b.len - 2) == 0);
        }
    }
    ad_buf_free(&b);
    ad_buf_free(&want);
}

static void test_spool_round_trip(void)
{
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    struct ad_score_row rows[3] = {
        {.key = "dev-1",
         .key_len = 5,
         .metric = "temp",
         .t_us = 1000000,
         .value = 2.5,
         .scored = true,
         .expected = 2,
         .lower = 1,
         .upper = 3,
         .score = 0.25,
         .is_anomaly = false,
         .kind = AD_KIND_NONE},
        {.key = "k\0ey",
         .key_len = 4,
         .metric = "",
         .t_us = -5,
         .value = -1e300,
         .is_anomaly = true,
         .kind = AD_KIND_DIP},
        {.key = NULL, .metric = NULL, .t_us = 7, .value = 0},
    };
    for (int i = 0; i < 3; i++)
        AD_EXPECT_INT(ad_report_spool_put(&b, &rows[i]), ==, 0);
    size_t at = 0, used = 0;
    for (int i = 0; i < 3; i++) {
        struct ad_score_row r;
        /* Every prefix of the record is "more to come". */
        for (size_t cut = 0; cut < 20; cut++)
            AD_EXPECT_INT(ad_report_spool_get(b.p + at, cut, &r, &used), ==, AD_EAGAIN);
        AD_EXPECT_INT(ad_report_spool_get(b.p + at, b.len - at, &r, &used), ==, 0);
        AD_EXPECT_INT(ad_report_spool_get(b.p + at, used - 1, &r, &used), ==, AD_EAGAIN);
        AD_EXPECT_INT(ad_report_spool_get(b.p + at, b.len - at, &r, &used), ==, 0);
        AD_EXPECT_UINT(r.key_len, ==, rows[i].key ? rows[i].key_len : 0);
        AD_EXPECT(memcmp(r.key, rows[i].key ? rows[i].key : "", r.key_len) == 0);
        AD_EXPECT_STR(r.metric, rows[i].metric ? rows[i].metric : "");
        AD_EXPECT_INT(r.t_us, ==, rows[i].t_us);
        AD_EXPECT(r.value == rows[i].value && r.expected == rows[i].expected);
        AD_EXPECT(r.lower == rows[i].lower && r.upper == rows[i].upper);
        AD_EXPECT(r.score == rows[i].score);
        AD_EXPECT_INT(r.scored, ==, rows[i].scored);
        AD_EXPECT_INT(r.is_anomaly, ==, rows[i].is_anomaly);
        AD_EXPECT_INT(r.kind, ==, rows[i].kind);
        at += used;
    }
    AD_EXPECT_UINT(at, ==, b.len);
    /* Not a record: a NUL inside the metric (58 fixed bytes, "dev-1\0", "temp"),
     * unknown flag bits. */
    struct ad_score_row r;
    b.p[58 + 6 + 1] = '\0';
    AD_EXPECT_INT(ad_report_spool_get(b.p, b.len, &r, &used), ==, AD_EINVAL);
    b.p[58 + 6 + 1] = 'e';
    AD_EXPECT_INT(ad_report_spool_get(b.p, b.len, &r, &used), ==, 0);
    b.p[56] = 0x10;
    AD_EXPECT_INT(ad_report_spool_get(b.p, b.len, &r, &used), ==, AD_EINVAL);
    ad_buf_free(&b);
}

static void alert(struct ad_report *r, const char *key, const char *metric, int64_t t_s,
                  double score)
{
    struct ad_alert a = {
        .key = key,
        .key_len = strlen(key),
        .metric = metric,
        .window_start_us = t_s * 1000000,
        .window_end_us = (t_s + 60) * 1000000,
        .value = 30,
        .expected = 20,
        .lower = 18,
        .upper = 22,
        .score = score,
        .kind = AD_KIND_SPIKE,
        .detector = AD_DETECTOR_AUTO,
        .direction = AD_DIR_POSITIVE,
        .explained = true,
    };
    AD_EXPECT_INT(ad_report_alert(r, &a), ==, 0);
}

static void point(struct ad_report *r, const char *key, int64_t t_s, double v, bool anomaly)
{
    struct ad_score_row row = {.key = key,
                               .key_len = strlen(key),
                               .metric = "temp",
                               .t_us = t_s * 1000000,
                               .value = v,
                               .scored = t_s > 0,
                               .expected = 20,
                               .lower = 18,
                               .upper = 22,
                               .score = anomaly ? 0.9 : 0.1,
                               .is_anomaly = anomaly};
    AD_EXPECT_INT(ad_report_point(r, &row), ==, 0);
}

/* The charted series: most alerts, then the highest score, then by key;
 * --report-series caps them; the alert rows are capped too. */
static void test_select_and_caps(void)
{
    struct ad_report *r;
    struct ad_report_opts o = {.max_series = 2, .max_alerts = 4};
    AD_EXPECT_INT(ad_report_new(&(struct ad_report_opts){.max_series = 1001}, &r), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_report_new(&o, &r), ==, 0);
    struct ad_score_row early = {.key = "a", .key_len = 1, .metric = "temp"};
    AD_EXPECT_INT(ad_report_point(r, &early), ==, AD_ESTATE);
    alert(r, "b", "temp", 0, 0.5);
    alert(r, "a", "temp", 0, 0.6);
    alert(r, "c", "temp", 0, 0.9);
    alert(r, "b", "temp", 60, 0.7);
    alert(r, "a", "temp", 60, 0.7);
    alert(r, "d", "temp", 0, 0.99);
    AD_EXPECT_UINT(ad_report_select(r), ==, 2);
    struct ad_alert late = {.key = "x", .key_len = 1, .metric = "temp"};
    AD_EXPECT_INT(ad_report_alert(r, &late), ==, AD_ESTATE);
    struct ad_report_counts n;
    ad_report_counts(r, &n);
    AD_EXPECT_UINT(n.alerts, ==, 6);
    AD_EXPECT_UINT(n.alert_rows, ==, 4);
    AD_EXPECT_UINT(n.flagged, ==, 4);
    AD_EXPECT_UINT(n.charted, ==, 2);
    /* a and b (two alerts each, same top score: a before b) are charted;
     * their points are kept, the others' are not. */
    point(r, "a", 1, 1, false);
    point(r, "b", 1, 1, false);
    point(r, "b", 2, 1, true);
    point(r, "c", 1, 1, false);
    point(r, "d", 1, 1, false);
    point(r, "zzz", 1, 1, false);
    ad_report_counts(r, &n);
    AD_EXPECT_UINT(n.points, ==, 3);
    AD_EXPECT_UINT(n.points_seen, ==, 3);
    ad_report_free(r);
}

/* 100,000 points of one series: at most 2 * max_points kept, every flagged
 * one among them, the rest evenly spread over the whole run. */
static void test_thinning(void)
{
    struct ad_report *r;
    AD_EXPECT_INT(ad_report_new(&(struct ad_report_opts){.max_points = 100}, &r), ==, 0);
    alert(r, "s", "temp", 0, 0.9);
    ad_report_select(r);
    for (int64_t t = 0; t < 100000; t++)
        point(r, "s", t, (double)t, t % 997 == 500);
    struct ad_report_counts n;
    ad_report_counts(r, &n);
    AD_EXPECT_UINT(n.points_seen, ==, 100000);
    AD_EXPECT_UINT(n.points, <=, 200);
    AD_EXPECT_UINT(n.points, >=, 100);

    struct ad_buf b;
    ad_buf_init(&b, 1 << 24);
    struct ad_pipeline_stats st = {0};
    struct ad_report_page pg = {.stats = &st};
    AD_EXPECT_INT(ad_report_write(r, &pg, &b), ==, 0);
    const char *d = strstr(b.p, "id=\"ad-report-data\">");
    AD_EXPECT(d != NULL);
    d = strchr(d, '>') + 1;
    json_error_t e;
    json_t *root = json_loadb(d, (size_t)(strstr(d, "</script>") - d), 0, &e);
    AD_EXPECT(root != NULL);
    json_t *c = json_array_get(json_object_get(root, "charts"), 0);
    json_t *t = json_object_get(c, "t"), *fl = json_object_get(c, "flagged");
    AD_EXPECT_INT(json_integer_value(json_object_get(c, "points_total")), ==, 100000);
    AD_EXPECT_UINT(json_array_size(t), ==, n.points);
    AD_EXPECT_UINT(json_array_size(fl), ==, 100); /* 0..99999 holds 100 of t % 997 == 500 */
    double prev = -1, gap_max = 0;
    for (size_t i = 0; i < json_array_size(t); i++) {
        double x = json_number_value(json_array_get(t, i));
        AD_EXPECT(x > prev);
        gap_max = x - prev > gap_max ? x - prev : gap_max;
        prev = x;
    }
    AD_EXPECT(gap_max <= 1024.0); /* even: no hole wider than the final stride */
    AD_EXPECT(prev >= 99000.0);   /* to the end of the run */
    for (size_t i = 0; i < json_array_size(fl); i++) {
        size_t k = (size_t)json_integer_value(json_array_get(fl, i));
        double x = json_number_value(json_array_get(t, k));
        AD_EXPECT_INT((int64_t)x % 997, ==, 500);
    }
    json_decref(root);
    ad_buf_free(&b);
    ad_report_free(r);
}

static const char golden_data[] =
    "{\"format\":1,\"input\":\"in.jsonl\",\"config\":\"c.yaml\",\"detector\":\"auto\","
    "\"summary\":{\"records\":10,\"accepted\":9,\"rejected\":1,\"rejected_by\":{\"bad_time\":1},"
    "\"late\":0,\"duplicates\":0,\"points\":9,\"scoring_events\":3,\"series\":2,\"alerts\":1,"
    "\"alerts_positive\":1,\"alerts_negative\":0},\"alerts_total\":1,\"max_points\":2000,"
    "\"alerts\":[{\"key\":\"\\u003c/script\\u003e\\u003cb\\u003ek\",\"metric\":\"temp\","
    "\"start\":\"1970-01-01T00:01:00.000Z\",\"end\":\"1970-01-01T00:02:00.000Z\",\"t\":60,"
    "\"value\":30,\"expected\":20,\"lower\":18,\"upper\":22,\"score\":0.75,"
    "\"kind\":\"spike\",\"detector\":\"auto\",\"direction\":\"positive\"}],\"flagged_total\":1,"
    "\"charts\":[{\"key\":\"\\u003c/script\\u003e\\u003cb\\u003ek\",\"metric\":\"temp\","
    "\"alerts\":1,\"max_score\":0.75,\"points_total\":2,\"t\":[0,60],\"value\":[5,30],"
    "\"expected\":[null,20],\"lower\":[null,18],\"upper\":[null,22],\"flagged\":[1]}],"
    "\"rest\":[],\"rest_total\":0}";

/* The page: a CSP with the hashes of exactly the inlined texts, the texts
 * themselves, and the data block (golden). */
static void test_page(void)
{
    struct ad_report *r;
    const char *key = "</script><b>k";
    AD_EXPECT_INT(ad_report_new(NULL, &r), ==, 0);
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    struct ad_pipeline_stats st = {.records = 10,
                                   .accepted = 9,
                                   .rejected = 1,
                                   .alerts = 1,
                                   .alerts_positive = 1};
    st.rejected_by[AD_REJECT_BAD_TIME] = 1;
    st.win.points = 9;
    st.win.events = 3;
    st.win.series = 2;
    struct ad_report_page pg = {
        .input = "in.jsonl",
        .config = "c.yaml",
        .detector = "auto",
        .stats = &st,
        .uplot_js = {"var uPlot=1;", 12},
        .uplot_css = {".u{}", 4},
        .report_js = {"go();", 5},
        .report_css = {"b{}", 3},
    };
    AD_EXPECT_INT(ad_report_write(r, &pg, &b), ==, AD_ESTATE);
    alert(r, key, "temp", 60, 0.75);
    ad_report_select(r);
    point(r, key, 60, 30, true); /* out of time order: written sorted */
    point(r, key, 0, 5, false);  /* t 0: not scored (warm-up), band null */
    AD_EXPECT_INT(ad_report_write(r, &pg, &b), ==, 0);

    struct ad_buf csp;
    ad_buf_init(&csp, 4096);
    ad_buf_adds(&csp, "content=\"default-src 'none'; base-uri 'none'; form-action 'none'; "
                      "script-src ");
    ad_report_csp_hash(&csp, "var uPlot=1;", 12);
    ad_buf_addc(&csp, ' ');
    ad_report_csp_hash(&csp, "go();", 5);
    ad_buf_adds(&csp, "; style-src ");
    ad_report_csp_hash(&csp, ".u{}", 4);
    ad_buf_addc(&csp, ' ');
    ad_report_csp_hash(&csp, "b{}", 3);
    ad_buf_adds(&csp, "; img-src data:\">");
    AD_EXPECT_CONTAINS(b.p, csp.p);
    AD_EXPECT_CONTAINS(b.p, "<script>var uPlot=1;</script>\n<script>go();</script>\n");
    AD_EXPECT_CONTAINS(b.p, "<style>.u{}</style>\n<style>b{}</style>\n");
    const char *d = strstr(b.p, "<script type=\"application/json\" id=\"ad-report-data\">");
    AD_EXPECT(d != NULL);
    d = strchr(d, '>') + 1;
    const char *end = strstr(d, "</script>");
    AD_EXPECT(end != NULL);
    if ((size_t)(end - d) != strlen(golden_data) || strncmp(d, golden_data, strlen(golden_data)))
        fprintf(stderr, "data block:\n%.*s\n", (int)(end - d), d);
    AD_EXPECT_UINT((size_t)(end - d), ==, strlen(golden_data));
    AD_EXPECT(strncmp(d, golden_data, strlen(golden_data)) == 0);
    /* The key's "</script>" and "<b>" appear nowhere as markup. */
    AD_EXPECT(strstr(b.p, "<b>") == NULL);

    /* An inlined text that would end its element early is refused, and a
     * buffer too small leaves the output as it was. */
    size_t len = b.len;
    pg.report_js = (struct ad_report_text){"x='</SCRIPT>'", 13};
    AD_EXPECT_INT(ad_report_write(r, &pg, &b), ==, AD_EINVAL);
    pg.report_js = (struct ad_report_text){"<!-- x", 6};
    AD_EXPECT_INT(ad_report_write(r, &pg, &b), ==, AD_EINVAL);
    pg.report_js = (struct ad_report_text){"go();", 5};
    b.max = b.len + 100;
    AD_EXPECT_INT(ad_report_write(r, &pg, &b), ==, AD_ELIMIT);
    AD_EXPECT_UINT(b.len, ==, len);
    ad_buf_free(&csp);
    ad_buf_free(&b);
    ad_report_free(r);
}

/* More flagged series than charts and than the list holds. */
static void test_rest_list(void)
{
    struct ad_report *r;
    struct ad_report_opts o = {.max_series = 3, .max_listed = 5};
    AD_EXPECT_INT(ad_report_new(&o, &r), ==, 0);
    char key[16];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "k%02d", i);
        for (int j = 0; j <= i; j++)
            alert(r, key, "m", j * 60, 0.5);
    }
    ad_report_select(r);
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    struct ad_pipeline_stats st = {0};
    struct ad_report_page pg = {.stats = &st};
    AD_EXPECT_INT(ad_report_write(r, &pg, &b), ==, 0);
    const char *d = strchr(strstr(b.p, "id=\"ad-report-data\">"), '>') + 1;
    json_error_t e;
    json_t *root = json_loadb(d, (size_t)(strstr(d, "</script>") - d), 0, &e);
    AD_EXPECT(root != NULL);
    json_t *charts = json_object_get(root, "charts"), *rest = json_object_get(root, "rest");
    AD_EXPECT_UINT(json_array_size(charts), ==, 3);
    AD_EXPECT_STR(json_string_value(json_object_get(json_array_get(charts, 0), "key")), "k19");
    AD_EXPECT_STR(json_string_value(json_object_get(json_array_get(charts, 2), "key")), "k17");
    AD_EXPECT_UINT(json_array_size(rest), ==, 5);
    AD_EXPECT_STR(json_string_value(json_object_get(json_array_get(rest, 0), "key")), "k16");
    AD_EXPECT_INT(json_integer_value(json_object_get(json_array_get(rest, 0), "alerts")), ==, 17);
    AD_EXPECT_INT(json_integer_value(json_object_get(root, "rest_total")), ==, 17);
    AD_EXPECT_INT(json_integer_value(json_object_get(root, "flagged_total")), ==, 20);
    AD_EXPECT_INT(json_integer_value(json_object_get(root, "alerts_total")), ==, 210);
    AD_EXPECT_UINT(json_array_size(json_object_get(root, "alerts")), ==, 210);
    json_decref(root);
    ad_buf_free(&b);
    ad_report_free(r);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_sha256);
    AD_TEST_RUN(argc, argv, test_csp_hash);
    AD_TEST_RUN(argc, argv, test_json_str);
    AD_TEST_RUN(argc, argv, test_json_str_bytes);
    AD_TEST_RUN(argc, argv, test_spool_round_trip);
    AD_TEST_RUN(argc, argv, test_select_and_caps);
    AD_TEST_RUN(argc, argv, test_thinning);
    AD_TEST_RUN(argc, argv, test_page);
    AD_TEST_RUN(argc, argv, test_rest_list);
    return ad_test_done();
}
