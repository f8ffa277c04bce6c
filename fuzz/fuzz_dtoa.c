/* fuzz_dtoa.c - differential: ad_dtoa() (integer arithmetic for the usual
 * magnitudes) against ad_dtoa_reference() (printf and strtod), byte for
 * byte, and the text must read back to the double. Each 8 bytes of the
 * input are one double's bits; with the first byte odd, each double's
 * binary exponent is first folded into the fast path's range (about 2^-10
 * to 2^50), where raw bits would seldom land. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_dtoa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(double v)
{
    if (!isfinite(v))
        return;
    char a[AD_DTOA_MAX], b[AD_DTOA_MAX];
    size_t na = ad_dtoa(v, a), nb = ad_dtoa_reference(v, b);
    if (na != nb || strcmp(a, b) != 0 || strlen(a) != na || strtod(a, NULL) != v)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fold = data[0] & 1;
    for (size_t at = 1; at + 8 <= size; at += 8) {
        uint64_t u;
        memcpy(&u, data + at, sizeof(u));
        if (fold) {
            uint64_t e = (u >> 52) & 0x7ff;
            u = (u & ~(UINT64_C(0x7ff) << 52)) | ((1013 + e % 62) << 52);
        }
        double v;
        memcpy(&v, &u, sizeof(v));
        check(v);
    }
    return 0;
}
