/* ad_report.c - the replay report's accumulator (include/ad_report.h): the
 * flagged series and the alert rows of the first pass, the thinned points of
 * the charted series of the second, the spool's record format, and the
 * hashing and escaping helpers of the page (ad_report_html.c writes it). */
#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_report_int.h"

/* ---- the flagged series ----------------------------------------------------- */

struct series_key {
    const char *key;
    size_t key_len;
    const char *metric;
};

static bool series_eq(const void *val, const void *key)
{
    const struct rpt_series *s = val;
    const struct series_key *k = key;
    return s->key_len == k->key_len && memcmp(s->key, k->key, k->key_len) == 0 &&
           strcmp(s->metric, k->metric) == 0;
}

static struct rpt_series *series_find(const struct ad_report *r, const struct series_key *k)
{
    return ad_htab_find(&r->idx, ad_series_name_hash(k->key, k->key_len, k->metric), series_eq, k);
}

static void series_free(struct rpt_series *s)
{
    if (!s)
        return;
    ad_free(s->key);
    ad_free(s->metric);
    ad_free(s->pts);
    ad_free(s);
}

/* The series of k, added when new. NULL: out of memory. */
static struct rpt_series *series_get(struct ad_report *r, const struct series_key *k)
{
    struct rpt_series *s = series_find(r, k);
    if (s)
        return s;
    if (r->nseries == r->series_cap) {
        size_t cap = r->series_cap ? r->series_cap * 2 : 64;
        struct rpt_series **v = ad_realloc(r->series, cap * sizeof(*v));
        if (!v)
            return NULL;
        r->series = v;
        r->series_cap = cap;
    }
    size_t mlen = strlen(k->metric);
    s = ad_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->key = ad_malloc(k->key_len + 1);
    s->metric = ad_malloc(mlen + 1);
    if (!s->key || !s->metric)
        goto err;
    memcpy(s->key, k->key, k->key_len);
    s->key[k->key_len] = '\0';
    memcpy(s->metric, k->metric, mlen + 1);
    s->key_len = k->key_len;
    s->stride = 1;
    if (ad_htab_put(&r->idx, ad_series_name_hash(k->key, k->key_len, k->metric), s) != 0)
        goto err;
    r->series[r->nseries++] = s;
    return s;
err:
    series_free(s);
    return NULL;
}

int ad_report_new(const struct ad_report_opts *o, struct ad_report **out)
{
    struct ad_report *r;

    *out = NULL;
    if (o && o->max_series > AD_REPORT_MAX_SERIES)
        return AD_EINVAL;
    r = ad_calloc(1, sizeof(*r));
    if (!r)
        return AD_ENOMEM;
    if (o)
        r->o = *o;
    r->o.max_series = r->o.max_series ? r->o.max_series : AD_REPORT_DEF_SERIES;
    r->o.max_points = r->o.max_points ? r->o.max_points : AD_REPORT_DEF_POINTS;
    r->o.max_alerts = r->o.max_alerts ? r->o.max_alerts : AD_REPORT_DEF_ALERTS;
    r->o.max_listed = r->o.max_listed ? r->o.max_listed : AD_REPORT_DEF_LISTED;
    *out = r;
    return 0;
}

void ad_report_free(struct ad_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nseries; i++)
        series_free(r->series[i]);
    ad_free(r->series);
    ad_free(r->rows);
    ad_htab_free(&r->idx);
    ad_free(r);
}

int ad_report_alert(struct ad_report *r, const struct ad_alert *a)
{
    struct series_key k = {a->key ? a->key : "", a->key ? a->key_len : 0,
                           a->metric ? a->metric : ""};
    if (r->selected)
        return AD_ESTATE;
    struct rpt_series *s = series_get(r, &k);
    if (!s)
        return AD_ENOMEM;
    r->alerts++;
    if (s->alerts++ == 0 || a->score > s->max_score)
        s->max_score = a->score;
    if (r->nrows == r->o.max_alerts)
        return 0;
    if (r->nrows == r->rows_cap) {
        size_t cap = r->rows_cap ? r->rows_cap * 2 : 256;
        cap = cap > r->o.max_alerts ? r->o.max_alerts : cap;
        struct rpt_alert *v = ad_realloc(r->rows, cap * sizeof(*v));
        if (!v)
            return AD_ENOMEM;
        r->rows = v;
        r->rows_cap = cap;
    }
    r->rows[r->nrows++] = (struct rpt_alert){
        .s = s,
        .start_us = a->window_start_us,
        .end_us = a->window_end_us,
        .value = a->value,
        .expected = a->expected,
        .lower = a->lower,
        .upper = a->upper,
        .score = a->score,
        .kind = a->kind,
        .detector = (int)a->detector,
        .direction = a->direction,
    };
    return 0;
}

/* Most alerts first, then the highest score, then by key and metric. */
static int series_order(const void *pa, const void *pb)
{
    const struct rpt_series *a = *(struct rpt_series *const *)pa;
    const struct rpt_series *b = *(struct rpt_series *const *)pb;
    if (a->alerts != b->alerts)
        return a->alerts > b->alerts ? -1 : 1;
    if (a->max_score != b->max_score)
        return a->max_score > b->max_score ? -1 : 1;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c == 0 && a->key_len != b->key_len)
        c = a->key_len < b->key_len ? -1 : 1;
    return c ? c : strcmp(a->metric, b->metric);
}

size_t ad_report_select(struct ad_report *r)
{
    if (r->selected)
        return r->charted;
    r->selected = true;
    if (r->nseries > 1)
        qsort(r->series, r->nseries, sizeof(*r->series), series_order);
    r->charted = r->nseries < r->o.max_series ? r->nseries : r->o.max_series;
    for (size_t i = 0; i < r->charted; i++)
        r->series[i]->charted = true;
    return r->charted;
}

/* ---- the charted series' points --------------------------------------------- */

/* Halves the ordinary points (every stride-th ordinal is kept) until the
 * array has room again; pinned points stay. */
static void thin(struct rpt_series *s, size_t full)
{
    while (s->n >= full && s->stride < (UINT64_C(1) << 62)) {
        size_t w = 0;
        s->stride *= 2;
        for (size_t i = 0; i < s->n; i++)
            if ((s->pts[i].flags & RPT_PINNED) || s->pts[i].idx % s->stride == 0)
                s->pts[w++] = s->pts[i];
        s->n = w;
    }
}

int ad_report_point(struct ad_report *r, const struct ad_score_row *row)
{
    struct series_key k = {row->key ? row->key : "", row->key ? row->key_len : 0,
                           row->metric ? row->metric : ""};
    if (!r->selected)
        return AD_ESTATE;
    struct rpt_series *s = series_find(r, &k);
    if (!s || !s->charted)
        return 0;
    r->points_seen++;
    uint64_t idx = s->seen++;
    bool pin = row->is_anomaly && s->pinned < r->o.max_points;
    if (!pin && idx % s->stride != 0)
        return 0;
    size_t full = 2 * r->o.max_points;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        cap = cap > full ? full : cap;
        struct rpt_point *v = ad_realloc(s->pts, cap * sizeof(*v));
        if (!v)
            return AD_ENOMEM;
        s->pts = v;
        s->cap = cap;
    }
    s->pts[s->n++] = (struct rpt_point){
        .t_us = row->t_us,
        .value = row->value,
        .expected = row->expected,
        .lower = row->lower,
        .upper = row->upper,
        .idx = idx,
        .flags = (row->scored ? RPT_SCORED : 0u) | (row->is_anomaly ? RPT_ANOMALY : 0u) |
                 (pin ? RPT_PINNED : 0u),
    };
    s->pinned += pin;
    thin(s, full);
    return 0;
}

void ad_report_counts(const struct ad_report *r, struct ad_report_counts *out)
{
    *out = (struct ad_report_counts){
        .alerts = r->alerts,
        .alert_rows = r->nrows,
        .flagged = r->nseries,
        .charted = r->charted,
        .points_seen = r->points_seen,
    };
    for (size_t i = 0; i < r->charted; i++)
        out->points += r->series[i]->n;
}

/* ---- the spool record ------------------------------------------------------- */

/* u32 key length, u32 metric length, i64 time, five doubles (value, expected,
 * lower, upper, score), u8 flags, u8 kind, then the key and the metric, each
 * followed by a NUL. */
#define SPOOL_FIXED   (4 + 4 + 8 + 5 * 8 + 2)
#define SPOOL_MAX_KEY (UINT32_C(1) << 30)

int ad_report_spool_put(struct ad_buf *out, const struct ad_score_row *row)
{
    const char *key = row->key ? row->key : "", *metric = row->metric ? row->metric : "";
    size_t klen = row->key ? row->key_len : 0, mlen = strlen(metric);
    unsigned char h[SPOOL_FIXED];
    uint32_t k32 = (uint32_t)klen, m32 = (uint32_t)mlen;
    double d[5] = {row->value, row->expected, row->lower, row->upper, row->score};
    size_t start = out->len;
    int rc;

    if (klen >= SPOOL_MAX_KEY || mlen >= SPOOL_MAX_KEY)
        return AD_EINVAL;
    memcpy(h, &k32, 4);
    memcpy(h + 4, &m32, 4);
    memcpy(h + 8, &row->t_us, 8);
    memcpy(h + 16, d, sizeof(d));
    h[56] = (unsigned char)((row->scored ? 1 : 0) | (row->is_anomaly ? 2 : 0));
    h[57] = (unsigned char)row->kind;
    rc = ad_buf_add(out, h, sizeof(h));
    rc = rc ? rc : ad_buf_add(out, key, klen);
    rc = rc ? rc : ad_buf_addc(out, '\0');
    rc = rc ? rc : ad_buf_add(out, metric, mlen);
    rc = rc ? rc : ad_buf_addc(out, '\0');
    return rc ? ad_buf_rollback(out, start, rc) : 0;
}

int ad_report_spool_get(const void *p, size_t len, struct ad_score_row *row, size_t *used)
{
    const unsigned char *b = p;
    uint32_t k32, m32;
    double d[5];

    if (len < SPOOL_FIXED)
        return AD_EAGAIN;
    memcpy(&k32, b, 4);
    memcpy(&m32, b + 4, 4);
    if (k32 >= SPOOL_MAX_KEY || m32 >= SPOOL_MAX_KEY || (b[56] & ~3u) != 0)
        return AD_EINVAL;
    size_t total = SPOOL_FIXED + (size_t)k32 + 1 + (size_t)m32 + 1;
    if (len < total)
        return AD_EAGAIN;
    const char *key = (const char *)b + SPOOL_FIXED;
    /* The metric is a C string: no NUL inside (the key may hold one). */
    if (key[k32] != '\0' || memchr(key + k32 + 1, '\0', m32) || key[k32 + 1 + m32] != '\0')
        return AD_EINVAL;
    memcpy(d, b + 16, sizeof(d));
    *row = (struct ad_score_row){
        .key = key,
        .key_len = k32,
        .metric = key + k32 + 1,
        .value = d[0],
        .scored = (b[56] & 1) != 0,
        .expected = d[1],
        .lower = d[2],
        .upper = d[3],
        .score = d[4],
        .is_anomaly = (b[56] & 2) != 0,
        .kind = b[57],
    };
    memcpy(&row->t_us, b + 8, 8);
    *used = total;
    return 0;
}
