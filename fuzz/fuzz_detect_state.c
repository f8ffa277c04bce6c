/* fuzz_detect_state.c - ad_detect_restore() on arbitrary bytes.
 *
 * The first byte picks a detector (welford, robust, seasonal, change, auto;
 * bit 3: with the likelihood stage; bit 4: stamp a valid header over the
 * input so the payload is explored); the rest is the encoding. Beyond "no
 * crash": a refused encoding leaves a fresh state; an accepted one saves back
 * to the same bytes, and 64 points stepped from it give finite results with
 * scores in [0, 1]. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static _Alignas(8) unsigned char state[16384], fresh[16384];
static uint8_t buf[16384], again[16384];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ad_detect_params p;
    struct ad_detect_result r;
    size_t len, n = 0, ssize;
    int rc;

    if (size < 1)
        return 0;
    ad_detect_defaults(&p, AD_DET_WELFORD + (data[0] & 7) % 5);
    p.likelihood = (data[0] & 8) != 0;
    len = size - 1 < sizeof(buf) ? size - 1 : sizeof(buf);
    memcpy(buf, data + 1, len);
    if ((data[0] & 16) && len >= 10) {
        size_t want = ad_detect_encoded_size(&p);
        ad_detect_init(fresh, &p);
        if (ad_detect_save(fresh, &p, again, sizeof(again), &n) != 0)
            abort();
        memcpy(buf, again, 10); /* a valid header; the payload is the input's */
        if (len < want) {
            memcpy(buf + len, again + len, want - len);
            len = want;
        }
    }
    ssize = ad_detect_size(&p);
    if (ssize > sizeof(state))
        abort();
    memset(state, 0x5a, sizeof(state));
    rc = ad_detect_restore(state, &p, buf, len);
    if (rc != 0) {
        ad_detect_init(fresh, &p);
        if (memcmp(state, fresh, ssize) != 0)
            abort();
        return 0;
    }
    if (ad_detect_save(state, &p, again, sizeof(again), &n) != 0 || n != len ||
        memcmp(again, buf, len) != 0)
        abort();
    for (size_t i = 0; i < 64; i++) {
        double x = (double)buf[(i * 7) % len] - 128.0 + (double)i;
        ad_detect_step(state, &p, 1704067200000000LL + (int64_t)i * 300000000LL, x, &r);
        if (!isfinite(r.score) || r.score < 0 || r.score > 1 || isnan(r.expected) ||
            isnan(r.lower) || isnan(r.upper))
            abort();
    }
    return 0;
}
