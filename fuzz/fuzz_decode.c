/* fuzz_decode.c - the record decoder and the RFC 3339 parser on arbitrary
 * bytes. Never crashes or leaks; the invariants below abort when broken.
 *
 * Decoder A: key /id, time /ts (auto), metrics /temp and /a/b.
 * Decoder B (picked by size % 5, so trailing spaces choose it): key /id or
 * from header "k" (the input's first buf[0] % 13 bytes), time "record"
 * (a timestamp derived from the size) or /ts in one of the explicit formats,
 * and small limits so TOO_LARGE and BAD_KEY are reachable. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_decode.h"
#include "ad_err.h"
#include "ad_time.h"
#include "fuzz_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_B 5

static struct ad_decoder *dec_a;
static struct ad_decoder *dec_b[N_B];

static struct ad_decoder *make(const char *key, const char *time, int fmt,
                               const char *const *metrics, size_t nm, int64_t max_msg,
                               int64_t max_key)
{
    struct ad_decode_cfg cfg = {.key = key,
                                .time = time,
                                .time_format = fmt,
                                .n_metrics = nm,
                                .metrics = metrics,
                                .max_message_bytes = max_msg,
                                .max_key_bytes = max_key};
    struct ad_decoder *d = NULL;
    char err[256];
    if (ad_decoder_new(&cfg, &d, err, sizeof(err)) != 0)
        abort();
    return d;
}

static void init(void)
{
    static const char id[] = "/id", ts[] = "/ts", hk[] = "header:k", rec[] = "record";
    static const char *const ma[] = {"/temp", "/a/b"};
    static const char *const mb[] = {"/temp", "/a/0"};
    dec_a = make(id, ts, AD_TIME_AUTO, ma, 2, 1048576, 1024);
    dec_b[0] = make(hk, rec, AD_TIME_AUTO, mb, 2, 4096, 8);
    dec_b[1] = make(hk, ts, AD_TIME_EPOCH_S, mb, 2, 4096, 8);
    dec_b[2] = make(id, ts, AD_TIME_EPOCH_MS, mb, 2, 4096, 8);
    dec_b[3] = make(hk, ts, AD_TIME_EPOCH_US, ma, 2, 4096, 8);
    dec_b[4] = make(id, ts, AD_TIME_RFC3339, ma, 2, 64, 8);
}

static void check_time_round_trip(int64_t us)
{
    char buf[AD_TIME_STRLEN];
    size_t n = ad_time_format(us, buf);
    int64_t back = -1;
    if (n == 0 || n >= AD_TIME_STRLEN || ad_time_parse_rfc3339(buf, n, &back) != 0 || back != us)
        abort();
}

static void check(enum ad_reject r, const struct ad_decoded *out, size_t max_key)
{
    if ((int)r < 0 || r >= AD_REJECT_COUNT)
        abort();
    if (r != AD_REJECT_NONE)
        return;
    if (out->key_len == 0 || out->key_len > max_key || out->key[out->key_len] != '\0' ||
        strlen(out->key) != out->key_len)
        abort();
    if (out->time_us < AD_TIME_MIN_US || out->time_us > AD_TIME_MAX_US || out->n_values != 2)
        abort();
    for (size_t i = 0; i < out->n_values; i++)
        if (!(out->values[i] >= -1e100 && out->values[i] <= 1e100))
            abort();
    check_time_round_trip(out->time_us);
}

/* Reference nesting depth from the parsed tree (jansson bounds it at 2048). */
static size_t tree_depth(json_t *v)
{
    size_t max = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c)
        {
            size_t d = tree_depth(c);
            max = d > max ? d : max;
        }
        return max + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
        {
            size_t d = tree_depth(c);
            max = d > max ? d : max;
        }
        return max + 1;
    }
    return 0;
}

/* Differential check of the decoder's nesting limit against the tree. A raw
 * NUL byte makes a record invalid JSON before anything else is looked at
 * (jansson's lexer would end a number at it: {"b":2\0} parses), so such an
 * input is checked for that reason alone. */
static void check_depth(const uint8_t *buf, size_t size, enum ad_reject r)
{
    if (size && memchr(buf, '\0', size)) {
        if (r != AD_REJECT_INVALID_JSON && r != AD_REJECT_TOO_LARGE)
            abort();
        return;
    }
    json_error_t e;
    json_t *j = json_loadb((const char *)buf, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!j) {
        if (r == AD_REJECT_NONE)
            abort();
        return;
    }
    if (json_is_object(j) && (r == AD_REJECT_TOO_DEEP) != (tree_depth(j) > 64))
        abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dec_a)
        init();

    /* Exact-size copy: any read past the end is an ASan report. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);

    struct ad_decoded out;
    enum ad_reject r = ad_decode(dec_a, buf, size, NULL, &out);
    check(r, &out, 1024);
    check_depth(buf, size, r);

    size_t hlen = size ? buf[0] % 13u : 0;
    struct hdr h = {buf, hlen < size ? hlen : size};
    int64_t ts = size % 7 == 0 ? -1 : (int64_t)size * INT64_C(1234567891);
    struct ad_record_meta meta = {.topic = "fuzz",
                                  .timestamp_ms = ts,
                                  .header = header,
                                  .header_ctx = &h};
    r = ad_decode(dec_b[size % N_B], buf, size, size % 11 == 0 ? NULL : &meta, &out);
    check(r, &out, 8);

    int64_t us = -1;
    int rc = ad_time_parse_rfc3339((const char *)buf, size, &us);
    if (rc == 0) {
        if (us < AD_TIME_MIN_US || us > AD_TIME_MAX_US)
            abort();
        check_time_round_trip(us);
    } else if (us != -1) {
        abort(); /* out touched on failure */
    }
    free(buf);
    return 0;
}
