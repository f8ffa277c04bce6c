/* ad_dtoa.c - see ad_dtoa.h.
 *
 * The reference asks glibc three times at most: each %.Pg converts the
 * double exactly (multi-precision), each strtod does again. That is most of
 * the time of an entire/detect response, which writes four numbers per
 * point. The fast path gets the same text from integers: with v = m * 2^-s
 * (m the 53-bit significand) and 1e-3 <= |v| < 1e15, both m * 10^q for
 * q <= 19 and the bounds of v's rounding interval scaled the same way fit in
 * 128 bits, so the P-digit rounding of v and the test whether it reads back
 * are exact. It leaves to the reference what it does not cover:
 * subnormals, magnitudes outside that range and texts printf would write
 * with an exponent. */
#include "ad_dtoa.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {1ULL,
                                       10ULL,
                                       100ULL,
                                       1000ULL,
                                       10000ULL,
                                       100000ULL,
                                       1000000ULL,
                                       10000000ULL,
                                       100000000ULL,
                                       1000000000ULL,
                                       10000000000ULL,
                                       100000000000ULL,
                                       1000000000000ULL,
                                       10000000000000ULL,
                                       100000000000000ULL,
                                       1000000000000000ULL,
                                       10000000000000000ULL,
                                       100000000000000000ULL,
                                       1000000000000000000ULL,
                                       10000000000000000000ULL};

size_t ad_dtoa_reference(double v, char out[AD_DTOA_MAX])
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, AD_DTOA_MAX, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return n > 0 ? (size_t)n : 0;
}

/* printf's %.Pg layout, fixed-point form, of the P digits in dg (no NUL)
 * with decimal exponent x (-4 <= x < P): trailing zeros of the fraction and
 * a bare point dropped. Returns the length written after the sign. */
static size_t layout_fixed(const char *dg, int P, int x, char *out)
{
    int last = P - 1; /* the last digit kept: trailing zeros after the point go */
    while (last > x && dg[last] == '0')
        last--;
    size_t w = 0;
    if (x >= 0) {
        memcpy(out, dg, (size_t)x + 1);
        w = (size_t)x + 1;
        if (last > x) {
            out[w++] = '.';
            memcpy(out + w, dg + x + 1, (size_t)(last - x));
            w += (size_t)(last - x);
        }
    } else {
        out[w++] = '0';
        out[w++] = '.';
        for (int z = 0; z < -x - 1; z++)
            out[w++] = '0';
        memcpy(out + w, dg, (size_t)last + 1);
        w += (size_t)last + 1;
    }
    out[w] = '\0';
    return w;
}

/* Whether the decimal n / 10^q reads back (strtod) to v = m / 2^s: it must
 * lie within half a unit of m of v, the bound itself when m is even (strtod
 * rounds ties to even); in integers, everything times 10^q * 2^(s+1). Below
 * a power of two (m = 2^52) the next double down is half as far: a quarter
 * unit on that side, the bound included (m is even). Within the fast range
 * neither rule decides a double (a midpoint between two doubles there has
 * more than 17 significant digits; test_dtoa checks all 59 powers of two),
 * but they keep the test exact should the range grow. */
static bool reads_back(uint64_t n, uint64_t m, int s, int q)
{
    u128 d = (u128)n << (s + 1), c = (u128)(2 * m) * pow10_u64[q], tol = pow10_u64[q];
    if (d < c && m == UINT64_C(1) << 52)
        return 2 * (c - d) <= tol;
    u128 diff = d < c ? c - d : d - c;
    return diff < tol || (diff == tol && !(m & 1));
}

/* The fast path: the text's length, or 0 when v is one the reference must
 * write. */
static size_t dtoa_fast(double v, char out[AD_DTOA_MAX])
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
    int bexp = (int)((bits >> 52) & 0x7ff);
    double a = fabs(v);
    /* the sign as printf writes it ("-0" too): out[0] is overwritten by the
     * first digit when there is none */
    size_t w = bits >> 63;
    out[0] = '-';
    if (a == 0.0) { /* %g writes zero as "0" at any precision */
        out[w] = '0';
        out[w + 1] = '\0';
        return w + 1;
    }
    if (!(a >= 1e-3 && a < 1e15))
        return 0; /* subnormals and the rest by range */
    uint64_t m = frac | (UINT64_C(1) << 52);
    int s = 1075 - bexp; /* v = m * 2^-s; the range gives 3 <= s <= 62 */

    /* x = floor(log10 |v|), in [-3, 14]: estimated from the binary exponent
     * (never above the true value), then raised while m * 10^q / 2^s, the
     * value scaled to 17 integer digits, has 18 */
    int x = (int)floor((double)(bexp - 1023) * 0.30102999566398120);
    if (x < -3)
        x = -3;
    while (x < 14 && (uint64_t)(((u128)m * pow10_u64[16 - x]) >> s) >= pow10_u64[17])
        x++;
    int q = 16 - x; /* v * 10^q has 17 digits before the point */

    for (int P = 15; P <= 17; P++) {
        int qp = q - 17 + P; /* v * 10^qp has P digits; qp >= 0 */
        u128 t = (u128)m * pow10_u64[qp];
        uint64_t n = (uint64_t)(t >> s);
        u128 rem = t & (((u128)1 << s) - 1), half = (u128)1 << (s - 1);
        if (rem > half || (rem == half && (n & 1)))
            n++; /* to nearest, ties to even, as glibc's printf */
        if (!reads_back(n, m, s, qp))
            continue;
        int xp = x;
        char dg[20];
        if (n == pow10_u64[P]) { /* rounded up to the next power of ten */
            xp++;
            n /= 10;
        }
        if (xp >= P)
            return 0; /* printf writes this one with an exponent */
        for (int i = P - 1; i >= 0; i--) {
            dg[i] = (char)('0' + n % 10);
            n /= 10;
        }
        return w + layout_fixed(dg, P, xp, out + w);
    }
    return 0;
}

size_t ad_dtoa(double v, char out[AD_DTOA_MAX])
{
    size_t n = dtoa_fast(v, out);
    return n ? n : ad_dtoa_reference(v, out);
}
