/* fuzz_report.c - the replay report's core on arbitrary bytes, read as a
 * spool (ad_report_spool_get) and as a key (ad_report_json_str).
 *
 * Beyond "no crash, no leak": a record the spool reader accepts writes back
 * to the very bytes it came from; the escaped string holds no '<', '>', '&',
 * control character or raw U+2028/U+2029; and the page built from the
 * records (their anomalies as alerts, their points on charts) holds no '<' in
 * its data block, so nothing in a key can end it. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_err.h"
#include "ad_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the escaped string must not hold (besides NUL): the other control
 * characters, '<', '>' and '&'. */
static const char forbidden[] = "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                                "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
                                "<>&";

static void check_escaped(const uint8_t *data, size_t size)
{
    struct ad_buf b;
    ad_buf_init(&b, 8 * size + 16);
    if (ad_report_json_str(&b, (const char *)data, size) != 0)
        abort();
    /* By libc rather than a loop of the harness's own (instrumented, so a
     * traced compare per byte): strcspn stops at the first NUL, and a NUL
     * is a control character too, so it must find none before b.len. */
    if (strcspn(b.p, forbidden) != b.len || memmem(b.p, b.len, "\xe2\x80\xa8", 3) ||
        memmem(b.p, b.len, "\xe2\x80\xa9", 3))
        abort();
    ad_buf_free(&b);
}

/* Every record of data in turn; stops at the first that is
 * not one: pass 0 checks each and takes its anomalies as alerts, pass 1
 * offers it as a point. */
static void each_record(const uint8_t *data, size_t size, struct ad_report *r, int pass)
{
    size_t at = 0, used = 0;
    struct ad_score_row row;
    struct ad_buf again;

    ad_buf_init(&again, size + 64);
    while (ad_report_spool_get(data + at, size - at, &row, &used) == 0) {
        if (pass == 0) {
            ad_buf_reset(&again);
            if (ad_report_spool_put(&again, &row) != 0 || again.len != used ||
                memcmp(again.p, data + at, used) != 0)
                abort();
            struct ad_alert a = {.key = row.key,
                                 .key_len = row.key_len,
                                 .metric = row.metric,
                                 .window_start_us = row.t_us,
                                 .value = row.value,
                                 .expected = row.expected,
                                 .lower = row.lower,
                                 .upper = row.upper,
                                 .score = row.score,
                                 .kind = row.kind};
            if (row.is_anomaly && ad_report_alert(r, &a) != 0)
                abort();
        } else if (ad_report_point(r, &row) != 0) {
            abort();
        }
        at += used;
    }
    ad_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ad_report *r;
    struct ad_report_opts o = {.max_series = 3, .max_points = 4, .max_alerts = 8, .max_listed = 2};
    struct ad_pipeline_stats st = {0};
    struct ad_report_page pg = {.stats = &st, .input = "in"};
    struct ad_buf page;

    check_escaped(data, size);
    if (ad_report_new(&o, &r) != 0)
        abort();
    each_record(data, size, r, 0);
    ad_report_select(r);
    each_record(data, size, r, 1);
    ad_buf_init(&page, (size_t)1 << 26);
    if (ad_report_write(r, &pg, &page) != 0)
        abort();
    const char *open = strstr(page.p, "id=\"ad-report-data\">");
    if (!open)
        abort();
    open += strlen("id=\"ad-report-data\">");
    const char *close = strstr(open, "</script>");
    if (!close || memchr(open, '<', (size_t)(close - open)) != NULL)
        abort();
    ad_buf_free(&page);
    ad_report_free(r);
    return 0;
}
