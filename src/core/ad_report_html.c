/* ad_report_html.c - the replay report's page (include/ad_report.h): an HTML
 * skeleton, the inlined chart library and report script and style, the run's
 * data as one JSON block, and a Content-Security-Policy that allows exactly
 * those inlined scripts and styles by their SHA-256 and nothing from the
 * network. Everything the page shows is drawn by web/report/report.js from
 * the JSON block, as text. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad_decode.h"
#include "ad_detect.h"
#include "ad_detector.h"
#include "ad_err.h"
#include "ad_report_int.h"
#include "ad_time.h"
#include "ad_types.h"

/* ---- SHA-256 (FIPS 180-4) ---------------------------------------------------- */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* One 64-byte block into the state h. */
static void sha_block(uint32_t h[8], const unsigned char *blk)
{
    uint32_t w[64], s[8];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
               (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(s, h, sizeof(s));
    for (int i = 0; i < 64; i++) {
        uint32_t e1 = rotr(s[4], 6) ^ rotr(s[4], 11) ^ rotr(s[4], 25);
        uint32_t ch = (s[4] & s[5]) ^ (~s[4] & s[6]);
        uint32_t t1 = s[7] + e1 + ch + sha_k[i] + w[i];
        uint32_t e0 = rotr(s[0], 2) ^ rotr(s[0], 13) ^ rotr(s[0], 22);
        uint32_t maj = (s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]);
        memmove(s + 1, s, 7 * sizeof(s[0]));
        s[4] += t1;
        s[0] = t1 + e0 + maj;
    }
    for (int i = 0; i < 8; i++)
        h[i] += s[i];
}

void ad_report_sha256(const void *p, size_t len, unsigned char out[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const unsigned char *b = p;
    unsigned char tail[128] = {0};
    size_t full = len / 64 * 64, rest = len - full;
    uint64_t bits = (uint64_t)len * 8;

    for (size_t i = 0; i < full; i += 64)
        sha_block(h, b + i);
    if (rest)
        memcpy(tail, b + full, rest);
    tail[rest] = 0x80;
    size_t tlen = rest + 1 + 8 <= 64 ? 64 : 128;
    for (int i = 0; i < 8; i++)
        tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t i = 0; i < tlen; i += 64)
        sha_block(h, tail + i);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

int ad_report_csp_hash(struct ad_buf *out, const void *p, size_t len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char d[33] = {0};
    char enc[45];
    size_t w = 0;

    ad_report_sha256(p, len, d);
    for (size_t i = 0; i < 33; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        enc[w++] = b64[v >> 18 & 63];
        enc[w++] = b64[v >> 12 & 63];
        enc[w++] = b64[v >> 6 & 63];
        enc[w++] = b64[v & 63];
    }
    enc[43] = '='; /* 32 bytes: 43 characters and one pad */
    size_t start = out->len;
    int rc = ad_buf_adds(out, "'sha256-");
    rc = rc ? rc : ad_buf_add(out, enc, 44);
    rc = rc ? rc : ad_buf_addc(out, '\'');
    return rc ? ad_buf_rollback(out, start, rc) : 0;
}

/* ---- JSON for a <script> data block ------------------------------------------ */

int ad_report_json_str(struct ad_buf *out, const char *s, size_t len)
{
    return ad_buf_add_json_str_flags(out, s, len, AD_JSON_HTML);
}

/* ---- the data block ----------------------------------------------------------- */

/* ,"name": then a number (null when not finite). */
static int add_num(struct ad_buf *b, const char *name, double v)
{
    int rc = ad_buf_printf(b, ",\"%s\":", name);
    return rc ? rc : isfinite(v) ? ad_buf_add_double(b, v) : ad_buf_adds(b, "null");
}

static int add_u64(struct ad_buf *b, const char *name, uint64_t v)
{
    return ad_buf_printf(b, ",\"%s\":%llu", name, (unsigned long long)v);
}

/* ,"name":"text" (nothing for NULL). */
static int add_str(struct ad_buf *b, const char *name, const char *s)
{
    if (!s)
        return 0;
    int rc = ad_buf_printf(b, ",\"%s\":", name);
    return rc ? rc : ad_report_json_str(b, s, strlen(s));
}

static int add_time(struct ad_buf *b, const char *name, int64_t us)
{
    char t[AD_TIME_STRLEN];
    ad_time_format(us, t);
    return add_str(b, name, t);
}

static int add_summary(struct ad_buf *b, const struct ad_report_page *pg)
{
    const struct ad_pipeline_stats *st = pg->stats;
    int rc = ad_buf_adds(b, ",\"summary\":{\"records\":");
    rc = rc ? rc : ad_buf_printf(b, "%llu", (unsigned long long)st->records);
    rc = rc ? rc : add_u64(b, "accepted", st->accepted);
    rc = rc ? rc : add_u64(b, "rejected", st->rejected);
    rc = rc ? rc : ad_buf_adds(b, ",\"rejected_by\":{");
    const char *sep = "";
    for (int i = 1; rc == 0 && i < AD_REJECT_COUNT; i++) {
        if (!st->rejected_by[i])
            continue;
        rc = ad_buf_printf(b, "%s\"%s\":%llu", sep, ad_reject_name((enum ad_reject)i),
                           (unsigned long long)st->rejected_by[i]);
        sep = ",";
    }
    rc = rc ? rc : ad_buf_addc(b, '}');
    rc = rc ? rc : add_u64(b, "late", st->win.late);
    rc = rc ? rc : add_u64(b, "duplicates", st->win.duplicates);
    rc = rc ? rc : add_u64(b, "points", st->win.points);
    rc = rc ? rc : add_u64(b, "scoring_events", st->win.events);
    rc = rc ? rc : add_u64(b, "series", st->win.series);
    rc = rc ? rc : add_u64(b, "alerts", st->alerts);
    rc = rc ? rc : add_u64(b, "alerts_positive", st->alerts_positive);
    rc = rc ? rc : add_u64(b, "alerts_negative", st->alerts_negative);
    return rc ? rc : ad_buf_addc(b, '}');
}

static int add_alert_row(struct ad_buf *b, const struct rpt_alert *a)
{
    const char *det = ad_detector_name((enum ad_detector_kind)a->detector);
    int rc = ad_buf_adds(b, "{\"key\":");
    rc = rc ? rc : ad_report_json_str(b, a->s->key, a->s->key_len);
    rc = rc ? rc : add_str(b, "metric", a->s->metric);
    rc = rc ? rc : add_time(b, "start", a->start_us);
    rc = rc ? rc : add_time(b, "end", a->end_us);
    rc = rc ? rc : add_num(b, "t", (double)a->start_us / 1e6);
    rc = rc ? rc : add_num(b, "value", a->value);
    rc = rc ? rc : add_num(b, "expected", a->expected);
    rc = rc ? rc : add_num(b, "lower", a->lower);
    rc = rc ? rc : add_num(b, "upper", a->upper);
    rc = rc ? rc : add_num(b, "score", a->score);
    rc = rc ? rc : add_str(b, "kind", ad_kind_name(a->kind));
    rc = rc ? rc : add_str(b, "detector", det ? det : "");
    rc = rc ? rc
            : add_str(b, "direction", a->direction == AD_DIR_NEGATIVE ? "negative" : "positive");
    return rc ? rc : ad_buf_addc(b, '}');
}

/* "name":[one value a point, null where it has none] */
static int add_column(struct ad_buf *b, const char *name, const struct rpt_series *s, int col)
{
    int rc = ad_buf_printf(b, ",\"%s\":[", name);
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        const struct rpt_point *p = &s->pts[i];
        double v = col == 0   ? (double)p->t_us / 1e6
                   : col == 1 ? p->value
                   : col == 2 ? p->expected
                   : col == 3 ? p->lower
                              : p->upper;
        bool has = col < 2 || (p->flags & RPT_SCORED);
        if (i)
            rc = ad_buf_addc(b, ',');
        if (rc == 0)
            rc = has && isfinite(v) ? ad_buf_add_double(b, v) : ad_buf_adds(b, "null");
    }
    return rc ? rc : ad_buf_addc(b, ']');
}

static int point_order(const void *pa, const void *pb)
{
    const struct rpt_point *a = pa, *b = pb;
    if (a->t_us != b->t_us)
        return a->t_us < b->t_us ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* {"key","metric","alerts","max_score"} and, for a chart, its points. */
static int add_series(struct ad_buf *b, struct rpt_series *s, bool chart)
{
    int rc = ad_buf_adds(b, "{\"key\":");
    rc = rc ? rc : ad_report_json_str(b, s->key, s->key_len);
    rc = rc ? rc : add_str(b, "metric", s->metric);
    rc = rc ? rc : add_u64(b, "alerts", s->alerts);
    rc = rc ? rc : add_num(b, "max_score", s->max_score);
    if (rc || !chart)
        return rc ? rc : ad_buf_addc(b, '}');
    if (s->n > 1)
        qsort(s->pts, s->n, sizeof(*s->pts), point_order);
    rc = add_u64(b, "points_total", s->seen);
    static const char *const cols[] = {"t", "value", "expected", "lower", "upper"};
    for (int c = 0; rc == 0 && c < 5; c++)
        rc = add_column(b, cols[c], s, c);
    rc = rc ? rc : ad_buf_adds(b, ",\"flagged\":[");
    const char *sep = "";
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        if (!(s->pts[i].flags & RPT_ANOMALY))
            continue;
        rc = ad_buf_printf(b, "%s%zu", sep, i);
        sep = ",";
    }
    return rc ? rc : ad_buf_adds(b, "]}");
}

static int add_data(struct ad_buf *b, struct ad_report *r, const struct ad_report_page *pg)
{
    int rc = ad_buf_adds(b, "{\"format\":1");
    rc = rc ? rc : add_str(b, "input", pg->input);
    rc = rc ? rc : add_str(b, "config", pg->config);
    rc = rc ? rc : add_str(b, "detector", pg->detector);
    rc = rc ? rc : add_str(b, "remote", pg->remote);
    rc = rc ? rc : add_str(b, "version", pg->version);
    rc = rc ? rc : add_summary(b, pg);
    rc = rc ? rc : add_u64(b, "alerts_total", r->alerts);
    rc = rc ? rc : add_u64(b, "max_points", 2 * (uint64_t)r->o.max_points);
    rc = rc ? rc : ad_buf_adds(b, ",\"alerts\":[");
    for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
        rc = i ? ad_buf_addc(b, ',') : 0;
        rc = rc ? rc : add_alert_row(b, &r->rows[i]);
    }
    rc = rc ? rc : ad_buf_adds(b, "]");
    rc = rc ? rc : add_u64(b, "flagged_total", r->nseries);
    rc = rc ? rc : ad_buf_adds(b, ",\"charts\":[");
    for (size_t i = 0; rc == 0 && i < r->charted; i++) {
        rc = i ? ad_buf_addc(b, ',') : 0;
        rc = rc ? rc : add_series(b, r->series[i], true);
    }
    rc = rc ? rc : ad_buf_adds(b, "],\"rest\":[");
    size_t end = r->nseries - r->charted > r->o.max_listed ? r->charted + r->o.max_listed
                                                           : r->nseries;
    for (size_t i = r->charted; rc == 0 && i < end; i++) {
        rc = i > r->charted ? ad_buf_addc(b, ',') : 0;
        rc = rc ? rc : add_series(b, r->series[i], false);
    }
    rc = rc ? rc : ad_buf_adds(b, "]");
    rc = rc ? rc : add_u64(b, "rest_total", r->nseries - r->charted);
    return rc ? rc : ad_buf_adds(b, "}");
}

/* ---- the page ----------------------------------------------------------------- */

/* Whether t could end its <script> or <style> element early or confuse the
 * parser's script states. */
static bool unsafe_inline(const struct ad_report_text *t)
{
    static const char *const bad[] = {"</script", "</style", "<!--"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(bad[i]);
        for (size_t j = 0; t->p && j + n <= t->len; j++)
            if (t->p[j] == '<' && strncasecmp(t->p + j, bad[i], n) == 0)
                return true;
    }
    return false;
}

static int add_csp(struct ad_buf *b, const struct ad_report_page *pg)
{
    int rc = ad_buf_adds(b, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                            "'none'; base-uri 'none'; form-action 'none'; script-src ");
    rc = rc ? rc : ad_report_csp_hash(b, pg->uplot_js.p, pg->uplot_js.len);
    rc = rc ? rc : ad_buf_addc(b, ' ');
    rc = rc ? rc : ad_report_csp_hash(b, pg->report_js.p, pg->report_js.len);
    rc = rc ? rc : ad_buf_adds(b, "; style-src ");
    rc = rc ? rc : ad_report_csp_hash(b, pg->uplot_css.p, pg->uplot_css.len);
    rc = rc ? rc : ad_buf_addc(b, ' ');
    rc = rc ? rc : ad_report_csp_hash(b, pg->report_css.p, pg->report_css.len);
    return rc ? rc : ad_buf_adds(b, "; img-src data:\">\n");
}

static int add_inline(struct ad_buf *b, const char *tag, const struct ad_report_text *t)
{
    int rc = ad_buf_printf(b, "<%s>", tag);
    rc = rc ? rc : ad_buf_add(b, t->p ? t->p : "", t->len);
    return rc ? rc : ad_buf_printf(b, "</%s>\n", tag);
}

int ad_report_write(struct ad_report *r, const struct ad_report_page *pg, struct ad_buf *out)
{
    const struct ad_report_text *texts[] = {&pg->uplot_js, &pg->uplot_css, &pg->report_js,
                                            &pg->report_css};
    size_t start = out->len;
    int rc;

    if (!r->selected)
        return AD_ESTATE;
    for (size_t i = 0; i < 4; i++)
        if (unsafe_inline(texts[i]))
            return AD_EINVAL;
    rc = ad_buf_adds(out,
                     "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    rc = rc ? rc : add_csp(out, pg);
    rc = rc ? rc
            : ad_buf_adds(out, "<meta name=\"viewport\" content=\"width=device-width, "
                               "initial-scale=1\">\n<title>anomalyd replay report</title>\n");
    rc = rc ? rc : add_inline(out, "style", &pg->uplot_css);
    rc = rc ? rc : add_inline(out, "style", &pg->report_css);
    rc = rc ? rc
            : ad_buf_adds(out, "</head>\n<body>\n<noscript>This report draws its tables and "
                               "charts with JavaScript.</noscript>\n<main id=\"report\"></main>\n"
                               "<script type=\"application/json\" id=\"ad-report-data\">");
    rc = rc ? rc : add_data(out, r, pg);
    rc = rc ? rc : ad_buf_adds(out, "</script>\n");
    rc = rc ? rc : add_inline(out, "script", &pg->uplot_js);
    rc = rc ? rc : add_inline(out, "script", &pg->report_js);
    rc = rc ? rc : ad_buf_adds(out, "</body>\n</html>\n");
    return rc ? ad_buf_rollback(out, start, rc) : 0;
}
