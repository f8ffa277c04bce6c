/* fuzz_decode_diff.c - differential: every input goes through ad_decode()
 * (the single-pass scanner, jansson only as its fallback) and through
 * ad_decode_reference() (jansson alone) with several decoder settings; any
 * difference in the verdict, the reason, the key bytes, the time or the
 * values' bits aborts.
 *
 * The settings cover flat and nested pointers, array indexes, escaped
 * pointer tokens, an empty token, integer keys, every time format, header
 * keys and the record timestamp, and small limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_decode.h"
#include "ad_err.h"
#include "ad_time.h"
#include "fuzz_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct setting {
    const char *key, *time;
    int fmt;
    const char *metrics[4];
    int64_t max_msg, max_key;
};

static const struct setting settings[] = {
    {"/id", "/ts", AD_TIME_AUTO, {"/temp", "/a/b"}, 1048576, 1024},
    {"/id", "/ts", AD_TIME_EPOCH_MS, {"/temp", "/a/0", "/a/1/x"}, 1048576, 8},
    {"/id", "/ts", AD_TIME_EPOCH_S, {"/temp"}, 1048576, 1024},
    {"/id", "/ts", AD_TIME_EPOCH_US, {"/temp", "/hum"}, 1048576, 1024},
    {"/id", "/ts", AD_TIME_RFC3339, {"/temp", "/a/b/c"}, 1048576, 1024},
    {"header:k", "record", AD_TIME_AUTO, {"/temp", "/0"}, 1048576, 16},
    {"/a/id", "/a/ts", AD_TIME_AUTO, {"/a/temp", "/a~1b", "/m~0n", "/e//x"}, 1048576, 1024},
    {"/0", "/1", AD_TIME_AUTO, {"/2", "/a/0/0", "/ts"}, 1048576, 1024},
    {"const:dev", "/ts", AD_TIME_AUTO, {"/temp", "/id"}, 64, 1024},
    {"/id", "record", AD_TIME_AUTO, {"/v"}, 1048576, 1024},
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

static struct ad_decoder *dec[N_SETTINGS];

static void init(void)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        size_t nm = 0;
        while (nm < 4 && s->metrics[nm])
            nm++;
        struct ad_decode_cfg cfg = {.key = s->key,
                                    .time = s->time,
                                    .time_format = s->fmt,
                                    .n_metrics = nm,
                                    .metrics = s->metrics,
                                    .max_message_bytes = s->max_msg,
                                    .max_key_bytes = s->max_key};
        char err[256];
        if (ad_decoder_new(&cfg, &dec[i], err, sizeof(err)) != 0)
            abort();
    }
}

static void same(enum ad_reject ra, const struct ad_decoded *a, enum ad_reject rb,
                 const struct ad_decoded *b)
{
    if (ra != rb)
        abort();
    if (ra != AD_REJECT_NONE)
        return;
    if (a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len + 1) != 0 ||
        a->time_us != b->time_us || a->n_values != b->n_values ||
        memcmp(a->values, b->values, a->n_values * sizeof(a->values[0])) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dec[0])
        init();
    /* Exact-size copy: any read past the end is an ASan report. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    size_t hlen = size ? buf[0] % 9u : 0;
    struct hdr h = {buf, hlen < size ? hlen : size};
    int64_t ts = size % 5 == 0 ? -1 : (int64_t)size * INT64_C(987654321);
    struct ad_record_meta meta = {.topic = "fuzz",
                                  .timestamp_ms = ts,
                                  .header = header,
                                  .header_ctx = &h};
    for (size_t i = 0; i < N_SETTINGS; i++) {
        struct ad_decoded a, b;
        memset(&a, 0xA5, sizeof(a));
        memset(&b, 0x5A, sizeof(b));
        enum ad_reject ra = ad_decode(dec[i], buf, size, &meta, &a);
        enum ad_reject rb = ad_decode_reference(dec[i], buf, size, &meta, &b);
        same(ra, &a, rb, &b);
    }
    free(buf);
    return 0;
}
