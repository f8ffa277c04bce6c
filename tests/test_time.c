/* test_time.c - RFC 3339 parsing, epoch conversions and formatting. */
#include <string.h>

#include "ad_err.h"
#include "ad_test.h"
#include "ad_time.h"

static int parse(const char *s, int64_t *us)
{
    return ad_time_parse_rfc3339(s, strlen(s), us);
}

static int64_t parse_ok(const char *s)
{
    int64_t us = -12345;
    int rc = parse(s, &us);
    if (rc != 0)
        AD_FAIL_("parse(\"%s\") = %s, want 0", s, ad_err_name(rc));
    return us;
}

static void expect_rc(const char *s, int want)
{
    int64_t us = -12345;
    int rc = parse(s, &us);
    if (rc != want)
        AD_FAIL_("parse(\"%s\") = %s, want %s", s, ad_err_name(rc), ad_err_name(want));
    AD_EXPECT_INT(us, ==, -12345); /* out untouched on failure */
}

static void test_rfc3339_valid(void)
{
    AD_EXPECT_INT(parse_ok("1970-01-01T00:00:00Z"), ==, 0);
    AD_EXPECT_INT(parse_ok("2026-11-20T10:00:00Z"), ==, INT64_C(1795168800000000));
    AD_EXPECT_INT(parse_ok("2026-11-20t10:00:00z"), ==, INT64_C(1795168800000000));
    AD_EXPECT_INT(parse_ok("2026-11-20 10:00:00Z"), ==, INT64_C(1795168800000000));
    AD_EXPECT_INT(parse_ok("2026-11-20T10:00:00+00:00"), ==, INT64_C(1795168800000000));
    AD_EXPECT_INT(parse_ok("2026-11-20T10:00:00-00:00"), ==, INT64_C(1795168800000000));
    AD_EXPECT_INT(parse_ok("2026-11-20T10:00:00.123+01:00"), ==, INT64_C(1795165200123000));
    AD_EXPECT_INT(parse_ok("2026-11-20T09:00:00.123-00:00"), ==, INT64_C(1795165200123000));
    AD_EXPECT_INT(parse_ok("2026-11-20T10:00:00+23:59"), ==,
                  INT64_C(1795168800000000) - (23 * 3600 + 59 * 60) * INT64_C(1000000));
    AD_EXPECT_INT(parse_ok("2026-11-20T10:00:00-23:59"), ==,
                  INT64_C(1795168800000000) + (23 * 3600 + 59 * 60) * INT64_C(1000000));
    AD_EXPECT_INT(parse_ok("2024-02-29T23:59:59.5Z"), ==, INT64_C(1709251199500000));
    AD_EXPECT_INT(parse_ok("2000-02-29T00:00:00Z"), ==, INT64_C(951782400000000));
    /* Fractions: 1..9 digits, truncated (not rounded) to microseconds. */
    AD_EXPECT_INT(parse_ok("1970-01-01T00:00:00.1Z"), ==, 100000);
    AD_EXPECT_INT(parse_ok("1970-01-01T00:00:00.000001Z"), ==, 1);
    AD_EXPECT_INT(parse_ok("1970-01-01T00:00:00.0000019Z"), ==, 1);
    AD_EXPECT_INT(parse_ok("1970-01-01T00:00:00.999999999Z"), ==, 999999);
    AD_EXPECT_INT(parse_ok("1970-01-01T00:00:00.123456789Z"), ==, 123456);
    /* Leap second: normalised to the next second. */
    AD_EXPECT_INT(parse_ok("2016-12-31T23:59:60Z"), ==, parse_ok("2017-01-01T00:00:00Z"));
    AD_EXPECT_INT(parse_ok("2016-12-31T23:59:60Z"), ==, INT64_C(1483228800000000));
    AD_EXPECT_INT(parse_ok("2017-01-01T00:59:60+01:00"), ==, INT64_C(1483228800000000));
    AD_EXPECT_INT(parse_ok("2016-12-31T23:59:60.5Z"), ==, INT64_C(1483228800500000));
    /* Range edges. */
    AD_EXPECT_INT(parse_ok("9999-12-31T23:59:59.999999Z"), ==, AD_TIME_MAX_US);
    AD_EXPECT_INT(parse_ok("9999-12-31T23:59:59.999999999Z"), ==, AD_TIME_MAX_US);
    AD_EXPECT_INT(parse_ok("1970-01-01T01:00:00+01:00"), ==, 0);
    AD_EXPECT_INT(parse_ok("1969-12-31T23:00:00-01:00"), ==, 0);
    expect_rc("10000-01-01T00:00:00Z", AD_EPARSE); /* five-digit years */
}

static void test_rfc3339_not_nul_terminated(void)
{
    /* len stops the parser; the bytes after it are never read. */
    const char s[] = "2026-11-20T10:00:00ZGARBAGE";
    int64_t us = 0;
    AD_EXPECT_INT(ad_time_parse_rfc3339(s, 20, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1795168800000000));
    AD_EXPECT_INT(ad_time_parse_rfc3339(s, 21, &us), ==, AD_EPARSE);
    AD_EXPECT_INT(ad_time_parse_rfc3339(s, 19, &us), ==, AD_EPARSE);
    /* Fraction and offset cut off by len. */
    const char f[] = "2026-11-20T10:00:00.123+01:00";
    AD_EXPECT_INT(ad_time_parse_rfc3339(f, 23, &us), ==, AD_EPARSE);
    AD_EXPECT_INT(ad_time_parse_rfc3339(f, 28, &us), ==, AD_EPARSE);
    AD_EXPECT_INT(ad_time_parse_rfc3339(f, 29, &us), ==, 0);
    /* Every prefix of a valid string fails without reading past len: exact-size heap copies
     * let ASan catch any overread. */
    for (size_t n = 0; n < sizeof(f) - 1; n++) {
        char *c = malloc(n ? n : 1);
        AD_EXPECT(c != NULL);
        memcpy(c, f, n);
        AD_EXPECT_INT(ad_time_parse_rfc3339(c, n, &us), ==, AD_EPARSE);
        free(c);
    }
    AD_EXPECT_INT(ad_time_parse_rfc3339(NULL, 0, &us), ==, AD_EPARSE);
}

static void test_rfc3339_invalid(void)
{
    static const char *const bad[] = {
        "",
        "2026-11-20",
        "2026-11-20T10:00:00",             /* no offset */
        "2026-11-20T10:00Z",               /* no seconds */
        "2026-11-20T10:00:00.Z",           /* empty fraction */
        "2026-11-20T10:00:00.",            /* empty fraction, no offset */
        "2026-11-20T10:00:00.1234567890Z", /* 10 fraction digits */
        "2026-11-20T10:00:00,5Z",          /* comma fraction */
        "2026-13-01T00:00:00Z",            /* month 13 */
        "2026-00-01T00:00:00Z",            /* month 0 */
        "2026-01-00T00:00:00Z",            /* day 0 */
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z", /* April has 30 days */
        "2026-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z", /* century, not a leap year */
        "2026-11-20T24:00:00Z",
        "2026-11-20T23:60:00Z",
        "2026-11-20T23:59:61Z",
        "2026-11-20T10:00:00+24:00",
        "2026-11-20T10:00:00+01:60",
        "2026-11-20T10:00:00+0100",
        "2026-11-20T10:00:00+01",
        "2026-11-20T10:00:00+01:0",
        "2026-11-20T10:00:00+01:00:00",
        "2026-11-20T10:00:00ZZ",
        "2026-11-20T10:00:00Z ",
        " 2026-11-20T10:00:00Z",
        "2026-11-20T10:00:00 Z",
        "2026-11-20X10:00:00Z",
        "2026-11-20_10:00:00Z",
        "2026/11/20T10:00:00Z",
        "2026-1-20T10:00:00Z",
        "2026-11-2T10:00:00Z",
        "2026-11-20T1:00:00Z",
        "2026-11-20T10:0:00Z",
        "2026-11-20T10:00:0Z",
        "2O26-11-20T10:00:00Z",
        "+2026-11-20T10:00:00Z",
        "-2026-11-20T10:00:00Z",
        "20261-11-20T10:00:00Z",
        "2026-11-20T10:00:00UTC",
        "2026-11-20T10:00:00+a1:00",
        "2026-11-20T10:00:00-01:0a",
        "2026-11-20T10:00:00.12a4Z",
        "1700000000",
        "not a time at all, but long enough",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_rc(bad[i], AD_EPARSE);
}

static void test_rfc3339_range(void)
{
    expect_rc("1969-12-31T23:59:59Z", AD_ERANGE);
    expect_rc("1969-12-31T23:59:59.999999Z", AD_ERANGE);
    expect_rc("1970-01-01T00:00:00+00:01", AD_ERANGE);
    expect_rc("0000-01-01T00:00:00Z", AD_ERANGE);
    expect_rc("9999-12-31T23:59:60Z", AD_ERANGE);
    expect_rc("9999-12-31T23:59:59-00:01", AD_ERANGE);
    expect_rc("9999-12-31T23:59:59.999999-23:59", AD_ERANGE);
    AD_EXPECT_INT(parse_ok("9999-12-31T23:59:59+23:59"), <, AD_TIME_MAX_US);
}

static void test_days_from_civil(void)
{
    AD_EXPECT_INT(ad_days_from_civil(1970, 1, 1), ==, 0);
    AD_EXPECT_INT(ad_days_from_civil(1969, 12, 31), ==, -1);
    AD_EXPECT_INT(ad_days_from_civil(2000, 3, 1), ==, 11017);
    AD_EXPECT_INT(ad_days_from_civil(9999, 12, 31), ==, 2932896);
    AD_EXPECT_INT(ad_days_from_civil(1, 1, 1), ==, -719162);
    AD_EXPECT_INT(ad_days_from_civil(0, 3, 1), ==, -719468);
    /* Round trip through civil_from_days, and consecutive days are consecutive dates. */
    int64_t py = 0;
    unsigned pm = 0, pd = 0;
    for (int64_t z = -800000; z <= 3000000; z++) {
        int64_t y;
        unsigned m, d;
        ad_civil_from_days(z, &y, &m, &d);
        if (ad_days_from_civil(y, m, d) != z)
            AD_FAIL_("day %lld -> %lld-%u-%u does not round-trip", (long long)z, (long long)y, m,
                     d);
        if (z > -800000 && !(d == pd + 1 && m == pm && y == py) &&
            !(d == 1 && ((m == pm + 1 && y == py) || (m == 1 && pm == 12 && y == py + 1))))
            AD_FAIL_("day %lld: %lld-%u-%u after %lld-%u-%u", (long long)z, (long long)y, m, d,
                     (long long)py, pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

static void test_epoch_double(void)
{
    int64_t us = -7;
    AD_EXPECT_INT(ad_time_from_epoch(0, 1, &us), ==, 0);
    AD_EXPECT_INT(us, ==, 0);
    AD_EXPECT_INT(ad_time_from_epoch(1.5, 1, &us), ==, 0);
    AD_EXPECT_INT(us, ==, 1500000);
    AD_EXPECT_INT(ad_time_from_epoch(1700000000.123456, 1, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1700000000123456));
    AD_EXPECT_INT(ad_time_from_epoch(1700000000123.0, 1000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1700000000123000));
    AD_EXPECT_INT(ad_time_from_epoch(1700000000123.4567, 1000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1700000000123457)); /* nearest microsecond */
    AD_EXPECT_INT(ad_time_from_epoch(1700000000123.4564, 1000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1700000000123456));
    AD_EXPECT_INT(ad_time_from_epoch(1.5, 1000000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, 2);
    AD_EXPECT_INT(ad_time_from_epoch(1.4, 1000000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, 1);
    AD_EXPECT_INT(ad_time_from_epoch(-0.4, 1000000, &us), ==, 0); /* rounds to 0 */
    AD_EXPECT_INT(us, ==, 0);
    AD_EXPECT_INT(ad_time_from_epoch(2500, 1000000000, &us), ==, 0); /* ns */
    AD_EXPECT_INT(us, ==, 3);
    /* Range: 1970..9999 */
    AD_EXPECT_INT(ad_time_from_epoch(253402300799.0, 1, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(253402300799000000));
    us = -7;
    AD_EXPECT_INT(ad_time_from_epoch(253402300800.0, 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch(-1, 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch(-0.6, 1000000, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch(1e300, 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch(-1e300, 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch(NAN, 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch(INFINITY, 1000, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch(-INFINITY, 1000000, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch(1, 0, &us), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_time_from_epoch(1, -1000, &us), ==, AD_EINVAL);
    AD_EXPECT_INT(us, ==, -7);
}

static void test_epoch_int(void)
{
    int64_t us = -7;
    AD_EXPECT_INT(ad_time_from_epoch_int(0, 1, &us), ==, 0);
    AD_EXPECT_INT(us, ==, 0);
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_C(1700000000123), 1000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1700000000123000));
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_C(253402300799), 1, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(253402300799000000));
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_C(253402300799999), 1000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(253402300799999000));
    AD_EXPECT_INT(ad_time_from_epoch_int(AD_TIME_MAX_US, 1000000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, AD_TIME_MAX_US);
    /* Beyond 2^53: exact, where a double would not be. */
    AD_EXPECT_INT(ad_time_from_epoch_int(AD_TIME_MAX_US - 1, 1000000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, AD_TIME_MAX_US - 1);
    /* ns: nearest microsecond, half up */
    AD_EXPECT_INT(ad_time_from_epoch_int(1500, 1000000000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, 2);
    AD_EXPECT_INT(ad_time_from_epoch_int(1499, 1000000000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, 1);
    AD_EXPECT_INT(ad_time_from_epoch_int(-400, 1000000000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, 0);
    us = -7;
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_C(253402300800), 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_C(253402300800000), 1000, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(AD_TIME_MAX_US + 1, 1000000, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(-1, 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(-1, 1000000, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_MAX, 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_MIN, 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_MAX, 1000, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_MIN, 1000000, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(INT64_MIN, 1000000000, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_int(1, 0, &us), ==, AD_EINVAL);
    AD_EXPECT_INT(us, ==, -7);
}

static void test_epoch_auto(void)
{
    int64_t us;
    /* < 1e11: seconds */
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(INT64_C(99999999999), &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(99999999999000000));
    AD_EXPECT_INT(ad_time_from_epoch_auto(99999999999.0, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(99999999999000000));
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(1700000000, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1700000000000000));
    AD_EXPECT_INT(ad_time_from_epoch_auto(1700000000.25, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1700000000250000));
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(0, &us), ==, 0);
    AD_EXPECT_INT(us, ==, 0);
    /* 1e11 .. 1e14: milliseconds */
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(INT64_C(100000000000), &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(100000000000000));
    AD_EXPECT_INT(ad_time_from_epoch_auto(1e11, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(100000000000000));
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(INT64_C(1700000000123), &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1700000000123000));
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(INT64_C(99999999999999), &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(99999999999999000));
    /* >= 1e14: microseconds */
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(INT64_C(100000000000000), &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(100000000000000));
    AD_EXPECT_INT(ad_time_from_epoch_auto(1e14, &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(100000000000000));
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(INT64_C(1700000000123456), &us), ==, 0);
    AD_EXPECT_INT(us, ==, INT64_C(1700000000123456));
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(AD_TIME_MAX_US, &us), ==, 0);
    AD_EXPECT_INT(us, ==, AD_TIME_MAX_US);
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(AD_TIME_MAX_US + 1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(INT64_MAX, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(-1, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_auto_int(INT64_MIN, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_auto(-1.0, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_auto(3e17, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_auto(NAN, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_auto(INFINITY, &us), ==, AD_ERANGE);
    AD_EXPECT_INT(ad_time_from_epoch_auto(-INFINITY, &us), ==, AD_ERANGE);
}

static void expect_format(int64_t us, const char *want)
{
    char buf[AD_TIME_STRLEN];
    size_t n = ad_time_format(us, buf);
    AD_EXPECT_STR(buf, want);
    AD_EXPECT_UINT(n, ==, strlen(want));
}

static void test_format(void)
{
    expect_format(0, "1970-01-01T00:00:00.000Z");
    expect_format(1000, "1970-01-01T00:00:00.001Z");
    expect_format(1500, "1970-01-01T00:00:00.001500Z");
    expect_format(1, "1970-01-01T00:00:00.000001Z");
    expect_format(INT64_C(1795168800000000), "2026-11-20T10:00:00.000Z");
    expect_format(INT64_C(1795165200123000), "2026-11-20T09:00:00.123Z");
    expect_format(INT64_C(1709251199500000), "2024-02-29T23:59:59.500Z");
    expect_format(AD_TIME_MAX_US, "9999-12-31T23:59:59.999999Z");
    expect_format(AD_TIME_MAX_US - 999, "9999-12-31T23:59:59.999Z");
    expect_format(-1, "1969-12-31T23:59:59.999999Z");
    expect_format(-1000000, "1969-12-31T23:59:59.000Z");
    /* Far outside the accepted range: must not crash or overflow the buffer. */
    char buf[AD_TIME_STRLEN];
    size_t n = ad_time_format(INT64_MIN, buf);
    AD_EXPECT(n > 0 && n < AD_TIME_STRLEN && strlen(buf) == n);
    n = ad_time_format(INT64_MAX, buf);
    AD_EXPECT(n > 0 && n < AD_TIME_STRLEN && strlen(buf) == n);
}

static void test_format_round_trip(void)
{
    char buf[AD_TIME_STRLEN];
    uint64_t x = 88172645463325252ULL; /* xorshift64 */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t us = (int64_t)(x % (uint64_t)(AD_TIME_MAX_US + 1));
        if (i % 3 == 0)
            us -= us % 1000; /* millisecond form */
        if (i % 7 == 0)
            us -= us % 1000000;
        size_t n = ad_time_format(us, buf);
        int64_t back = -1;
        int rc = ad_time_parse_rfc3339(buf, n, &back);
        if (rc != 0 || back != us)
            AD_FAIL_("%lld -> \"%s\" -> rc %d, %lld", (long long)us, buf, rc, (long long)back);
    }
    int64_t edges[] = {AD_TIME_MIN_US, AD_TIME_MAX_US, 1, 999, 1000, 951782400000000};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        size_t n = ad_time_format(edges[i], buf);
        int64_t back = -1;
        AD_EXPECT_INT(ad_time_parse_rfc3339(buf, n, &back), ==, 0);
        AD_EXPECT_INT(back, ==, edges[i]);
    }
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_rfc3339_valid);
    AD_TEST_RUN(argc, argv, test_rfc3339_not_nul_terminated);
    AD_TEST_RUN(argc, argv, test_rfc3339_invalid);
    AD_TEST_RUN(argc, argv, test_rfc3339_range);
    AD_TEST_RUN(argc, argv, test_days_from_civil);
    AD_TEST_RUN(argc, argv, test_epoch_double);
    AD_TEST_RUN(argc, argv, test_epoch_int);
    AD_TEST_RUN(argc, argv, test_epoch_auto);
    AD_TEST_RUN(argc, argv, test_format);
    AD_TEST_RUN(argc, argv, test_format_round_trip);
    return ad_test_done();
}
