/* test_dtoa.c - ad_dtoa() against its definition, ad_dtoa_reference()
 * (printf and strtod): the same bytes for golden edge cases and for seeded
 * doubles of every kind the fast path takes or leaves, and every text reads
 * back to its double. */
#include <float.h>
#include <string.h>

#include "ad_dtoa.h"
#include "ad_test.h"

/* Both ways, byte for byte, and the text reads back. */
static void same(double v)
{
    char a[AD_DTOA_MAX], b[AD_DTOA_MAX];
    size_t na = ad_dtoa(v, a), nb = ad_dtoa_reference(v, b);
    if (na != nb || strcmp(a, b) != 0)
        AD_FAIL_("%a: ad_dtoa \"%s\", reference \"%s\"", v, a, b);
    AD_EXPECT_UINT(strlen(a), ==, na);
    if (strtod(a, NULL) != v)
        AD_FAIL_("%a: \"%s\" does not read back", v, a);
}

static double from_bits(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

static void test_golden(void)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {-0.1, "-0.1"},
        {1.0 / 3.0, "0.3333333333333333"},  /* 16 digits */
        {2.0 / 3.0, "0.6666666666666666"},  /* 16 digits */
        {0.1 + 0.2, "0.30000000000000004"}, /* 17 digits */
        {100.0, "100"},
        {12345.678, "12345.678"},
        {0.001, "0.001"},
        {0.00123, "0.00123"},
        {0.000999, "0.000999"}, /* below the fast range: the reference */
        {123456789012345.0, "123456789012345"},
        {999999999999999.9, "999999999999999.9"},
        {1e15, "1e+15"},
        {1e16, "1e+16"},
        {0.125, "0.125"},
        {2.5, "2.5"},
        {1.0, "1"},
        {0.0, "0"},
        {-0.0, "-0"},
        {1e-300, "1e-300"},
        {5e-324, "4.94065645841247e-324"},
        {DBL_MAX, "1.7976931348623157e+308"}, /* 15 digits read back as inf */
        {9007199254740993.0, "9007199254740992"},
        {32894418.3, "32894418.3"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[AD_DTOA_MAX];
        ad_dtoa(cases[i].v, out);
        AD_EXPECT_STR(out, cases[i].text);
        same(cases[i].v);
    }
}

/* The edges of the fast path's range and of its roundings: each side of
 * 1e-3 and 1e15, values that round up to the next power of ten at 15, 16
 * or 17 digits, powers of two, exact ties at 15 and 16 digits. */
static void test_edges(void)
{
    static const double at[] = {1e-3, 1e15, 1e-2, 0.1, 1.0, 10.0, 1e14, 9.5, 99.5, 0.5};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        double v = at[i];
        for (int k = 0; k < 64; k++) {
            same(v);
            same(-v);
            v = nextafter(v, 0.0);
        }
        v = at[i];
        for (int k = 0; k < 64; k++) {
            same(v);
            v = nextafter(v, INFINITY);
        }
    }
    for (int e = -20; e <= 60; e++) {
        double p = ldexp(1.0, e);
        same(p);
        same(nextafter(p, 0.0));
        same(nextafter(p, INFINITY));
    }
    /* 15, 16 and 17 nines, and decimal ties the binary can hold */
    static const char *const texts[] = {"9.99999999999999",
                                        "9.999999999999999",
                                        "9.9999999999999999",
                                        "0.999999999999999",
                                        "99999999999999.99",
                                        "1.0000000000000005",
                                        "1.00000000000000005",
                                        "0.0010000000000000005",
                                        "1.25",
                                        "1.375",
                                        "4503599627370496.5",
                                        "1125899906842624.125"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        double v = strtod(texts[i], NULL);
        same(v);
        same(nextafter(v, 0.0));
        same(nextafter(v, INFINITY));
    }
}

/* Seeded doubles: short decimals (what sensors send), results of
 * arithmetic (what detectors write), every binary exponent, raw bits. */
static void test_seeded(void)
{
    ad_test_rng = 20261206;
    for (int i = 0; i < 100000; i++) {
        double scale = pow(10.0, (double)(int)(ad_test_unif() * 22.0) - 6.0);
        same(floor(ad_test_unif() * 100000.0) / 1000.0 * scale);
        same(ad_test_gauss() * scale);
        same(ad_test_unif() / 3.0 * scale + 1.0 / 7.0);
        int e = (int)(ad_test_unif() * 80.0) - 20;
        same(ldexp(1.0 + ad_test_unif(), e));
        uint64_t u = (uint64_t)(ad_test_unif() * 18446744073709551616.0);
        double r = from_bits(u);
        if (isfinite(r))
            same(r);
    }
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_golden);
    AD_TEST_RUN(argc, argv, test_edges);
    AD_TEST_RUN(argc, argv, test_seeded);
    return ad_test_done();
}
