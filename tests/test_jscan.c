/* test_jscan.c - the decoder's single-pass scanner (ad_jscan.h): what it
 * accepts and extracts, what it leaves to jansson, its number readers, and
 * the decoder's two paths agreeing on tricky records. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ad_decode.h"
#include "ad_jscan.h"
#include "ad_test.h"

/* Paths /id, /ts, /temp, /a/b, /arr/1 */
static const struct ad_jscan_tok t_id[] = {{"id", 2, -1}};
static const struct ad_jscan_tok t_ts[] = {{"ts", 2, -1}};
static const struct ad_jscan_tok t_temp[] = {{"temp", 4, -1}};
static const struct ad_jscan_tok t_ab[] = {{"a", 1, -1}, {"b", 1, -1}};
static const struct ad_jscan_tok t_arr1[] = {{"arr", 3, -1}, {"1", 1, 1}};
static const struct ad_jscan_path paths[] = {{1, t_id},
                                             {1, t_ts},
                                             {1, t_temp},
                                             {2, t_ab},
                                             {2, t_arr1}};
#define NP (sizeof(paths) / sizeof(paths[0]))

static enum ad_jscan_rc scan(const char *s, struct ad_jscan_val *v)
{
    return ad_jscan(s, strlen(s), paths, NP, v);
}

static void expect_val(const struct ad_jscan_val *v, enum ad_jscan_type type, const char *text)
{
    AD_EXPECT_INT(v->type, ==, type);
    if (text) {
        AD_EXPECT_UINT(v->len, ==, strlen(text));
        AD_EXPECT(v->p && memcmp(v->p, text, v->len) == 0);
    }
}

static void test_extract(void)
{
    struct ad_jscan_val v[NP];
    AD_EXPECT_INT(scan(" {\"id\":\"s-1\",\"ts\":17e8,\"x\":[{}],\"temp\":-0.5,\"a\":{\"c\":1,"
                       "\"b\":true},\"arr\":[0,{\"q\":null}]}\n",
                       v),
                  ==, AD_JSCAN_OK);
    expect_val(&v[0], AD_JSCAN_STRING, "s-1");
    expect_val(&v[1], AD_JSCAN_REAL, "17e8");
    expect_val(&v[2], AD_JSCAN_REAL, "-0.5");
    expect_val(&v[3], AD_JSCAN_TRUE, "true");
    expect_val(&v[4], AD_JSCAN_OBJECT, "{");
    /* Missing, wrong-shaped parents, the last of a duplicate not on a path. */
    AD_EXPECT_INT(scan("{\"id\":12,\"a\":5,\"arr\":{\"1\":2},\"x\":1,\"x\":2}", v), ==,
                  AD_JSCAN_OK);
    expect_val(&v[0], AD_JSCAN_INT, "12");
    AD_EXPECT_INT(v[1].type, ==, AD_JSCAN_MISSING);
    AD_EXPECT_INT(v[3].type, ==, AD_JSCAN_MISSING);
    expect_val(&v[4], AD_JSCAN_INT, "2"); /* an index token also names a member */
    /* Escapes in a value are noted, the raw content kept. */
    AD_EXPECT_INT(scan("{\"id\":\"a\\u00e9\\ud83d\\ude00\\n\"}", v), ==, AD_JSCAN_OK);
    AD_EXPECT(v[0].escaped);
    expect_val(&v[0], AD_JSCAN_STRING, "a\\u00e9\\ud83d\\ude00\\n");
    AD_EXPECT_INT(scan("{\"id\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}", v), ==, AD_JSCAN_OK);
    AD_EXPECT(!v[0].escaped);
    AD_EXPECT_INT(scan("{}", v), ==, AD_JSCAN_OK);
    AD_EXPECT_INT(scan("[1,{\"id\":2}]", v), ==, AD_JSCAN_NOT_OBJECT);
    AD_EXPECT_INT(scan(" 7 ", v), ==, AD_JSCAN_NOT_OBJECT);
}

static void test_fallback(void)
{
    static const char *const cases[] = {
        "",
        "{",
        "{\"id\":1,}",
        "{\"id\":1} x",
        "{\"id\":1}\xc3\xa9",
        "{\"i\\u0064\":1}",          /* escaped key */
        "{\"x\\n\":1}",              /* escaped key, not on a path */
        "{\"temp\":1,\"temp\":2}",   /* duplicate on a path */
        "{\"a\":{\"b\":1},\"a\":2}", /* duplicate parent */
        "{\"id\":\"\\ud83d\"}",      /* lone high surrogate */
        "{\"id\":\"\\ude00\"}",      /* lone low surrogate */
        "{\"id\":\"\\ud83d\\u0041\"}",
        "{\"id\":\"\\x\"}",
        "{\"id\":\"\\u12G4\"}",
        "{\"id\":\"a\tb\"}",             /* raw control byte */
        "{\"id\":\"\xc0\xaf\"}",         /* overlong */
        "{\"id\":\"\xed\xa0\x80\"}",     /* encoded surrogate */
        "{\"id\":\"\xf4\x90\x80\x80\"}", /* past U+10FFFF */
        "{\"id\":\"\xe2\x82\"}",         /* truncated */
        "{\"id\":01}",
        "{\"id\":1.}",
        "{\"id\":.5}",
        "{\"id\":1e}",
        "{\"id\":1e+}",
        "{\"id\":-}",
        "{\"id\":+1}",
        "{\"id\":1234567890123456789}", /* 19 digits: jansson decides */
        "{\"id\":1e301}",               /* could overflow: jansson decides */
        "{\"id\":1000.5e298}",
        "{\"id\":tru}",
        "{\"id\":nul}",
        "{\"id\":truex}",
        "{\"id\" 1}",
        "{\"id\":1 \"ts\":2}",
        "{id:1}",
        "[1,]",
        "\xef\xbb\xbf{}",
    };
    struct ad_jscan_val v[NP];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum ad_jscan_rc rc = scan(cases[i], v);
        if (rc != AD_JSCAN_FALLBACK)
            AD_FAIL_("case %zu (%s): rc %d, expected the fallback", i, cases[i], (int)rc);
        AD_EXPECT_INT(rc, ==, AD_JSCAN_FALLBACK);
    }
    /* Edges that stay on the fast path. */
    AD_EXPECT_INT(scan("{\"id\":123456789012345678,\"ts\":1e299,\"temp\":1e-99999}", v), ==,
                  AD_JSCAN_OK);
    AD_EXPECT_INT(scan("{\"id\":\"\\u0000\",\"a\":{\"b\":0,\"c\":1,\"c\":2}}", v), ==, AD_JSCAN_OK);
}

/* Nesting: 64 levels scan, 65 go to jansson (which says TOO_DEEP). */
static void test_depth(void)
{
    char buf[2 * 70 + 8];
    struct ad_jscan_val v[NP];
    for (int depth = 63; depth <= 66; depth++) {
        size_t n = 0;
        buf[n++] = '{';
        buf[n++] = '"';
        buf[n++] = 'x';
        buf[n++] = '"';
        buf[n++] = ':';
        for (int k = 1; k < depth; k++)
            buf[n++] = '[';
        for (int k = 1; k < depth; k++)
            buf[n++] = ']';
        buf[n++] = '}';
        enum ad_jscan_rc rc = ad_jscan(buf, n, paths, NP, v);
        AD_EXPECT_INT(rc, ==, depth <= AD_JSCAN_MAX_DEPTH ? AD_JSCAN_OK : AD_JSCAN_FALLBACK);
    }
}

static void test_numbers(void)
{
    static const char *const reals[] = {"0.1",
                                        "-0.0",
                                        "1e22",
                                        "1e23",
                                        "123456789012345e-22",
                                        "1234567890123456.7",
                                        "4.9e-324",
                                        "2.2250738585072011e-308",
                                        "1.7976931348623157e308",
                                        "0.30000000000000004",
                                        "9007199254740993.0",
                                        "1E-5",
                                        "5e-1",
                                        "0.000001234e+10",
                                        "3.14159265358979323846",
                                        "1e-400",
                                        "100000000000000000000000.0",
                                        "8.589973e9",
                                        "-123.456e-7"};
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        double got = -1, want = strtod(reals[i], NULL);
        AD_EXPECT(ad_jscan_real(reals[i], strlen(reals[i]), &got));
        if (memcmp(&got, &want, sizeof(got)) != 0)
            AD_FAIL_("%s: %.17g, strtod says %.17g", reals[i], got, want);
    }
    double d;
    AD_EXPECT(!ad_jscan_real("1e309", 5, &d)); /* overflow refused */
    long long v = 1;
    AD_EXPECT(ad_jscan_int("-0", 2, &v) && v == 0);
    AD_EXPECT(ad_jscan_int("-999999999999999999", 19, &v) && v == -999999999999999999LL);
    AD_EXPECT(!ad_jscan_int("1234567890123456789", 19, &v));
    AD_EXPECT(!ad_jscan_int("-", 1, &v));
}

/* ad_decode() (scanner first) and ad_decode_reference() (jansson alone). */
static void expect_same(struct ad_decoder *d, const char *rec, size_t len, enum ad_reject want)
{
    struct ad_decoded a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0xff, sizeof(b));
    enum ad_reject ra = ad_decode(d, rec, len, NULL, &a);
    enum ad_reject rb = ad_decode_reference(d, rec, len, NULL, &b);
    if (ra != want || rb != want)
        AD_FAIL_("%.*s: fast %s, jansson %s, expected %s", (int)len, rec, ad_reject_name(ra),
                 ad_reject_name(rb), ad_reject_name(want));
    if (ra == AD_REJECT_NONE && rb == AD_REJECT_NONE) {
        AD_EXPECT_STR(a.key, b.key);
        AD_EXPECT_INT(a.time_us, ==, b.time_us);
        AD_EXPECT(memcmp(a.values, b.values, sizeof(a.values[0]) * 2) == 0);
    }
}

static void test_paths_agree(void)
{
    static const char *const metrics[] = {"/temp", "/a/0"};
    struct ad_decode_cfg cfg = {.key = "/id",
                                .time = "/ts",
                                .time_format = AD_TIME_AUTO,
                                .n_metrics = 2,
                                .metrics = metrics,
                                .max_message_bytes = 4096,
                                .max_key_bytes = 16};
    struct ad_decoder *d = NULL;
    AD_EXPECT_INT(ad_decoder_new(&cfg, &d, NULL, 0), ==, 0);
    if (!d)
        return;
    /* Issue 17 item 28: jansson alone took {"temp":1\0} as temp 1. */
    static const char nul1[] = "{\"temp\":1\0}";
    static const char nul2[] = "{\"id\":\"k\",\"ts\":1700000000,\"a\":[2],\"temp\":1\0}";
    expect_same(d, nul1, sizeof(nul1) - 1, AD_REJECT_INVALID_JSON);
    expect_same(d, nul2, sizeof(nul2) - 1, AD_REJECT_INVALID_JSON);
#define R(s, want) expect_same(d, s, strlen(s), want)
    R("{\"id\":\"k\",\"ts\":1700000000,\"a\":[2.5],\"temp\":-0}", AD_REJECT_NONE);
    R("{\"id\":-0,\"ts\":1.7e9,\"a\":[1e100],\"temp\":0.1}", AD_REJECT_NONE);
    R("{\"id\":\"k\",\"ts\":\"1700000000.25\",\"a\":[1],\"temp\":1,\"temp\":2}", AD_REJECT_NONE);
    R("{\"id\":\"k\\u00e9\",\"ts\":\"2024-01-01T00:00:00\\u005a\",\"a\":[1],\"temp\":2}",
      AD_REJECT_NONE);
    R("{\"id\":\"k\\u0000\",\"ts\":1700000000,\"a\":[1],\"temp\":2}", AD_REJECT_BAD_KEY);
    R("{\"id\":\"\",\"ts\":1700000000,\"a\":[1],\"temp\":2}", AD_REJECT_BAD_KEY);
    R("{\"id\":\"12345678901234567\",\"ts\":1700000000,\"a\":[1],\"temp\":2}", AD_REJECT_BAD_KEY);
    R("{\"id\":1.5,\"ts\":1700000000,\"a\":[1],\"temp\":2}", AD_REJECT_BAD_KEY);
    R("{\"id\":null,\"ts\":1700000000}", AD_REJECT_MISSING_KEY);
    R("{\"id\":\"k\",\"ts\":true}", AD_REJECT_BAD_TIME);
    R("{\"id\":\"k\",\"ts\":1e20}", AD_REJECT_TIME_RANGE);
    R("{\"id\":\"k\",\"ts\":1700000000,\"a\":[\"1\"],\"temp\":2}", AD_REJECT_BAD_METRIC);
    R("{\"id\":\"k\",\"ts\":1700000000,\"a\":[1e101],\"temp\":2}", AD_REJECT_METRIC_RANGE);
    R("{\"id\":\"k\",\"ts\":1700000000,\"a\":{\"0\":1},\"temp\":2}", AD_REJECT_NONE);
    R("{\"id\":\"k\",\"ts\":1700000000,\"a\":{\"1\":1},\"temp\":2}", AD_REJECT_MISSING_METRIC);
    R("{\"id\":\"k\",\"ts\":1700000000,\"a\":[1],\"temp\":1e309}", AD_REJECT_INVALID_JSON);
    R("{\"id\":\"k\",\"ts\":1700000000,\"a\":[1],\"temp\":9223372036854775808}",
      AD_REJECT_INVALID_JSON);
    R("{\"id\":\"k\",\"x\":\"\xff\",\"a\":[1],\"temp\":2}", AD_REJECT_INVALID_UTF8);
    R("[1]", AD_REJECT_NOT_OBJECT);
#undef R
    ad_decoder_free(d);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_extract);
    AD_TEST_RUN(argc, argv, test_fallback);
    AD_TEST_RUN(argc, argv, test_depth);
    AD_TEST_RUN(argc, argv, test_numbers);
    AD_TEST_RUN(argc, argv, test_paths_agree);
    return ad_test_done();
}
