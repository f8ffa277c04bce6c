/* fuzz_azure.c - the remote detector client's parsers on arbitrary bytes:
 * ad_azure_parse_last(), ad_azure_parse_entire_last(), ad_azure_parse_error()
 * and ad_retry_after_ms() (header = the input's first line, body = the rest),
 * then ad_azure_build_request() on the bytes read as points; every verdict
 * parsed goes through the alert's remote member and the webhook row. Never
 * crashes or leaks; the invariants below abort when broken.
 *
 * Points: each 4 bytes b0 b1 b2 b3 give t = T0 + (b0 % 64) minutes (plus
 * b1 & 0x7f microseconds off the grid when b1 & 0x80) and v = int16(b2 b3) / 8,
 * except b3 0xff (NaN), 0xfe (+Inf) and 0xfd (1e101). The grid step is 1 or
 * 5 minutes (the input's size). */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_alert.h"
#include "ad_azure.h"
#include "ad_buf.h"
#include "ad_err.h"
#include "ad_retry.h"
#include "ad_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0  INT64_C(1795168800000000) /* 2026-11-20T10:00:00Z */
#define MIN INT64_C(60000000)

static void check_clean(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n >= cap)
        abort(); /* not NUL-terminated */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

static void check_json(const char *p, size_t len)
{
    json_t *j = json_loadb(p, len, 0, NULL);
    if (!j)
        abort();
    json_decref(j);
}

static void check_verdict_out(const struct ad_azure_verdict *v)
{
    struct ad_buf b;
    int rc;

    if (!isfinite(v->expected_value) || !isfinite(v->upper_margin) || !isfinite(v->lower_margin) ||
        !isfinite(v->severity) || v->period < -1 || v->suggested_window < -1)
        abort();
    ad_buf_init(&b, 1 << 16);
    rc = ad_buf_addc(&b, '{');
    if (rc == 0)
        rc = ad_alert_remote_json(&b, v, "ok", "x");
    if (rc == 0)
        rc = ad_buf_addc(&b, '}');
    if (rc)
        abort();
    check_json(b.p, b.len);
    ad_buf_reset(&b);
    struct ad_alert a = {.value = 1.5, .detector = AD_DETECTOR_REMOTE, .remote = v};
    if (ad_alert_webhook_row(&b, &a, T0) != 0)
        abort();
    check_json(b.p, b.len);
    ad_buf_free(&b);
}

static void fuzz_responses(const char *buf, size_t size)
{
    struct ad_azure_verdict v, sentinel;
    char err[128];
    int rc;

    memset(&sentinel, 0x5a, sizeof(sentinel));
    v = sentinel;
    err[0] = '\0';
    rc = ad_azure_parse_last(buf, size, &v, err, sizeof(err));
    if (rc == 0)
        check_verdict_out(&v);
    else if ((rc != AD_EPARSE && rc != AD_ELIMIT) || memcmp(&v, &sentinel, sizeof(v)) != 0 ||
             !err[0] || strnlen(err, sizeof(err)) >= sizeof(err))
        abort();

    size_t npoints[2] = {12, 1 + size % 16};
    for (int i = 0; i < 2; i++) {
        v = sentinel;
        rc = ad_azure_parse_entire_last(buf, size, npoints[i], &v, err, sizeof(err));
        if (rc == 0)
            check_verdict_out(&v);
        else if ((rc != AD_EPARSE && rc != AD_ELIMIT) || memcmp(&v, &sentinel, sizeof(v)) != 0)
            abort();
    }
}

static void fuzz_errors(const char *buf, size_t size)
{
    struct ad_azure_error e;
    char header[128];
    size_t hl = 0, body_off;
    int64_t ms;

    while (hl < size && hl < sizeof(header) - 1 && buf[hl] != '\n' && buf[hl] != '\0')
        hl++;
    memcpy(header, buf, hl);
    header[hl] = '\0';
    body_off = hl < size ? hl + 1 : hl;

    for (int i = 0; i < 2; i++) {
        int rc = ad_azure_parse_error(buf, size, i ? header : NULL, &e);
        if (rc != 0 && rc != AD_EPARSE)
            abort();
        check_clean(e.code, sizeof(e.code));
        check_clean(e.message, sizeof(e.message));
        if (rc != 0 && !i && (e.code[0] || e.message[0]))
            abort();
    }
    ms = ad_retry_after_ms(header, buf + body_off, size - body_off, 1795168800);
    if (ms < -1 || ms > AD_RETRY_MAX_AFTER_MS)
        abort();
    ms = ad_retry_after_ms(NULL, buf, size, 0);
    if (ms < -1 || ms > AD_RETRY_MAX_AFTER_MS)
        abort();
}

static void fuzz_request(const uint8_t *buf, size_t size)
{
    size_t n = size / 4, sent = 0;
    struct ad_azure_point *p = malloc((n ? n : 1) * sizeof(*p));
    struct ad_azure_cfg c = {1, "minutely", size % 2 ? 5 * MIN : MIN, 95, 0.25, -1, 12};
    struct ad_buf b;
    int rc;

    if (!p)
        return;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *r = buf + 4 * i;
        p[i].t_us = T0 + (r[0] % 64) * MIN + (r[1] & 0x80 ? r[1] & 0x7f : 0);
        p[i].v = (int16_t)(uint16_t)(r[2] | r[3] << 8) / 8.0;
        if (r[3] == 0xff)
            p[i].v = NAN;
        else if (r[3] == 0xfe)
            p[i].v = INFINITY;
        else if (r[3] == 0xfd)
            p[i].v = 1e101;
    }
    ad_buf_init(&b, 1 << 20);
    rc = ad_azure_build_request(&c, p, n, &b, &sent);
    if (rc == AD_ERANGE) {
        if (sent >= 12 || b.len != 0)
            abort();
    } else if (rc != 0) {
        abort();
    } else {
        json_t *j = json_loadb(b.p, b.len, 0, NULL);
        json_t *series = json_object_get(j, "series");
        int64_t prev = -1, newest = -1;
        if (!j || json_array_size(series) != sent || sent < 12 || sent > 8640)
            abort();
        for (size_t i = sent; i-- > 0;) {
            json_t *pt = json_array_get(series, i);
            const char *ts = json_string_value(json_object_get(pt, "timestamp"));
            int64_t t;
            if (!ts || ad_time_parse_rfc3339(ts, strlen(ts), &t) != 0 ||
                !json_is_number(json_object_get(pt, "value")))
                abort();
            if (newest < 0)
                newest = t;
            if ((prev >= 0 && t >= prev) || (newest - t) % c.interval_us != 0)
                abort(); /* not strictly ascending, or off the grid */
            prev = t;
        }
        json_decref(j);
    }
    ad_buf_free(&b);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exact-size copy: any read past the end is an ASan report. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    fuzz_responses(buf, size);
    fuzz_errors(buf, size);
    fuzz_request((const uint8_t *)buf, size);
    free(buf);
    return 0;
}
