/* test_pipeline_detect.c - the pipeline with a local detector (ad_detect.h):
 * alerts that explain themselves, one score row per point, the detector's
 * state through a checkpoint, the evicted-series store and a restore under
 * another detector, and the Welford path untouched by a zeroed detect cfg. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_checkpoint.h"
#include "ad_err.h"
#include "ad_out.h"
#include "ad_pipeline.h"
#include "ad_test.h"
#include "ad_test_cfg.h"

#define T0_MS   1763632800000LL
#define STEP_MS 60000LL

/* What a pipeline said: alert lines and score rows, as text. */
struct seen {
    struct ad_buf alerts, rows;
    int n_alerts, n_rows;
};

static void on_alert(void *ud, const struct ad_alert *a, const char *line, size_t len)
{
    struct seen *s = ud;
    (void)a;
    ad_buf_add(&s->alerts, line, len);
    s->n_alerts++;
}

static void on_row(void *ud, const struct ad_score_row *r)
{
    struct seen *s = ud;
    AD_EXPECT_INT(ad_scores_format_row(r, AD_SCORES_JSONL, &s->rows), ==, 0);
    s->n_rows++;
}

static struct ad_pipeline_cfg detect_cfg(int id)
{
    struct ad_pipeline_cfg c = ad_test_pipeline_cfg();
    c.decode.time_format = AD_TIME_EPOCH_MS;
    ad_detect_defaults(&c.detect, id);
    return c;
}

static struct ad_pipeline *make(const struct ad_pipeline_cfg *c, struct seen *s)
{
    struct ad_pipeline *p = NULL;
    char err[256];
    if (ad_pipeline_new(c, &p, err, sizeof(err)) != 0)
        AD_FAIL_("pipeline: %s", err);
    memset(s, 0, sizeof(*s));
    ad_buf_init(&s->alerts, (size_t)1 << 26);
    ad_buf_init(&s->rows, (size_t)1 << 26);
    ad_pipeline_on_alert(p, on_alert, s);
    ad_pipeline_on_score(p, on_row, s);
    return p;
}

static void seen_free(struct seen *s)
{
    ad_buf_free(&s->alerts);
    ad_buf_free(&s->rows);
}

/* Point i of series k: a noisy level with a spike at 700 and a level shift
 * at 900 in series 0. */
static double value(int k, int i)
{
    unsigned h = (unsigned)(i * 2654435761u + (unsigned)k * 40503u);
    double v = 20 + k + (double)(h >> 20) / 4096.0 - 0.5;
    if (k == 0 && i == 700)
        v += 25;
    if (k == 0 && i >= 900)
        v += 10;
    return v;
}

static void push(struct ad_pipeline *p, int k, int i)
{
    char rec[128];
    int n = snprintf(rec, sizeof(rec), "{\"id\":\"s-%d\",\"ts\":%lld,\"temp\":%.6f}", k,
                     T0_MS + (long long)i * STEP_MS, value(k, i));
    struct ad_record_meta m = {.topic = "t", .partition = 0, .offset = i, .timestamp_ms = -1};
    AD_EXPECT_INT(ad_pipeline_push(p, rec, (size_t)n, &m, 0), ==, AD_REJECT_NONE);
}

static void feed(struct ad_pipeline *p, int from, int to)
{
    for (int i = from; i < to; i++)
        for (int k = 0; k < 2; k++)
            push(p, k, i);
}

struct restore_ctx {
    struct ad_pipeline *p;
};

static int restore_one(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct restore_ctx *c = ud;
    return ad_pipeline_restore(c->p, "t", 0, st, metric);
}

/* Checkpoints p and restores it into a new pipeline of cfg c. */
static struct ad_pipeline *checkpoint_restore(struct ad_pipeline *p,
                                              const struct ad_pipeline_cfg *c, struct seen *s)
{
    struct ad_buf b;
    struct ad_out out;
    struct ad_ckpt_header h;
    char err[256];
    struct ad_ckpt_req req = {.topic = "t", .offset = 600, .fingerprint = 1};
    ad_buf_init(&b, (size_t)1 << 26);
    ad_out_buf(&out, &b);
    AD_EXPECT_INT(ad_pipeline_checkpoint(p, &req, &out, NULL), ==, 0);
    ad_out_close(&out);
    AD_EXPECT_UINT((unsigned char)b.p[7], ==, AD_CKPT_VERSION);
    struct ad_pipeline *q = make(c, s);
    struct restore_ctx rc = {q};
    AD_EXPECT_INT(ad_ckpt_check(b.p, b.len, &h, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(ad_ckpt_each(b.p, b.len, restore_one, &rc), ==, 0);
    ad_buf_free(&b);
    return q;
}

static void test_alerts_rows_and_checkpoint(void)
{
    struct ad_pipeline_cfg c = detect_cfg(AD_DET_AUTO);
    struct seen sa, sb;
    struct ad_pipeline *a = make(&c, &sa);
    feed(a, 0, 600);
    struct ad_pipeline *b = checkpoint_restore(a, &c, &sb);
    /* Both go on from point 600: the same rows and alerts, byte for byte. */
    size_t rows0 = sa.rows.len, alerts0 = sa.alerts.len;
    feed(a, 600, 1200);
    feed(b, 600, 1200);
    AD_EXPECT_INT(sa.n_rows, ==, 2400);
    AD_EXPECT_INT(sb.n_rows, ==, 1200);
    AD_EXPECT_UINT(sa.rows.len - rows0, ==, sb.rows.len);
    AD_EXPECT(memcmp(sa.rows.p + rows0, sb.rows.p, sb.rows.len) == 0);
    AD_EXPECT_UINT(sa.alerts.len - alerts0, ==, sb.alerts.len);
    AD_EXPECT(sb.alerts.len == 0 || memcmp(sa.alerts.p + alerts0, sb.alerts.p, sb.alerts.len) == 0);
    /* The spike and the shift are found and explained; no alert storm. */
    AD_EXPECT_CONTAINS(sb.alerts.p ? sb.alerts.p : "",
                       "\"window_start\":\"2025-11-20T21:40:00.000Z\"");
    AD_EXPECT_CONTAINS(sb.alerts.p ? sb.alerts.p : "", "\"detector\":\"auto\"");
    AD_EXPECT_CONTAINS(sb.alerts.p ? sb.alerts.p : "", "\"kind\":\"spike\"");
    AD_EXPECT_CONTAINS(sb.alerts.p ? sb.alerts.p : "", "\"kind\":\"level_shift\"");
    AD_EXPECT_INT(sb.n_alerts, <=, 8);
    AD_EXPECT(strstr(sb.alerts.p, "zscore") == NULL);
    struct ad_pipeline_stats st;
    ad_pipeline_stats(b, &st);
    AD_EXPECT_UINT(st.detect_fresh, ==, 0);
    AD_EXPECT_UINT(st.alerts, ==, (uint64_t)sb.n_alerts);

    /* Restored under another detector: each series' detector starts fresh. */
    struct ad_pipeline_cfg r = detect_cfg(AD_DET_ROBUST);
    struct seen sc;
    struct ad_pipeline *q = checkpoint_restore(a, &r, &sc);
    ad_pipeline_stats(q, &st);
    AD_EXPECT_UINT(st.detect_fresh, ==, 2);
    ad_pipeline_free(q);
    seen_free(&sc);
    ad_pipeline_free(a);
    ad_pipeline_free(b);
    seen_free(&sa);
    seen_free(&sb);
}

/* An in-memory store of one-series checkpoints by key. */
struct mstore {
    struct ad_buf ck[2];
    int evictions, loads;
};

static void m_evicted(void *ud, const char *topic, int32_t partition, const char *key,
                      size_t key_len, const char *metric, const void *ckpt, size_t len)
{
    struct mstore *m = ud;
    int k = key[key_len - 1] - '0';
    (void)topic, (void)partition, (void)metric;
    ad_buf_reset(&m->ck[k]);
    ad_buf_add(&m->ck[k], ckpt, len);
    m->evictions++;
}

static int m_load(void *ud, const char *key, size_t key_len, const char *metric, struct ad_buf *out)
{
    struct mstore *m = ud;
    int k = key[key_len - 1] - '0';
    (void)metric;
    if (!m->ck[k].len)
        return AD_ENOENT;
    ad_buf_reset(out);
    m->loads++;
    return ad_buf_add(out, m->ck[k].p, m->ck[k].len);
}

/* With one series held at a time, the detectors' state goes through the
 * store on every record: the rows are those of a pipeline that holds both. */
static void test_evicted_store(void)
{
    struct ad_pipeline_cfg c = detect_cfg(AD_DET_AUTO);
    struct seen sa, sb;
    struct mstore m;
    memset(&m, 0, sizeof(m));
    ad_buf_init(&m.ck[0], 1 << 20);
    ad_buf_init(&m.ck[1], 1 << 20);
    struct ad_pipeline *a = make(&c, &sa);
    c.window.max_series = 1;
    struct ad_pipeline *b = make(&c, &sb);
    struct ad_pipeline_store st = {m_evicted, m_load, &m};
    ad_pipeline_set_store(b, &st, 9);
    feed(a, 0, 1000);
    feed(b, 0, 1000);
    AD_EXPECT_INT(m.evictions, >=, 1990);
    AD_EXPECT_INT(m.loads, >=, 1990);
    AD_EXPECT_UINT(sa.rows.len, ==, sb.rows.len);
    AD_EXPECT(memcmp(sa.rows.p, sb.rows.p, sa.rows.len) == 0);
    AD_EXPECT_UINT(sa.alerts.len, ==, sb.alerts.len);
    ad_pipeline_free(a);
    ad_pipeline_free(b);
    seen_free(&sa);
    seen_free(&sb);
    ad_buf_free(&m.ck[0]);
    ad_buf_free(&m.ck[1]);
}

/* A tumbling window with the linear fill: a missing minute is stepped, so
 * the rows name only the windows that closed, and nothing is unscored twice. */
static void test_tumbling_rows(void)
{
    struct ad_pipeline_cfg c = detect_cfg(AD_DET_ROBUST);
    struct seen s;
    c.window.tumbling = true;
    c.missing = AD_FILL_LINEAR;
    struct ad_pipeline *p = make(&c, &s);
    for (int i = 0; i < 300; i++)
        if (i % 50 != 49)
            push(p, 1, i);
    ad_pipeline_flush(p);
    AD_EXPECT_INT(s.n_rows, ==, 300 - 6);
    AD_EXPECT_CONTAINS(s.rows.p, "\"key\":\"s-1\",\"metric\":\"temp\"");
    ad_pipeline_free(p);
    seen_free(&s);
}

/* A zeroed detect cfg is the Welford path: its alerts are the interface.md
 * rule's (zscore, stddev, n), and every point still gets a row. */
/* The score hook is a tiny list: every subscriber gets every row (the
 * scores topic and the dashboard both subscribe); one past
 * AD_PIPELINE_MAX_SCORERS is refused. */
static void count_row(void *ud, const struct ad_score_row *r)
{
    (void)r;
    (*(size_t *)ud)++;
}

static void test_score_subscribers(void)
{
    struct ad_pipeline_cfg c = detect_cfg(AD_DET_AUTO);
    struct seen s;
    struct ad_pipeline *p = make(&c, &s);
    size_t counts[AD_PIPELINE_MAX_SCORERS] = {0};

    for (size_t i = 1; i < AD_PIPELINE_MAX_SCORERS; i++)
        AD_EXPECT_INT(ad_pipeline_on_score(p, count_row, &counts[i]), ==, 0);
    AD_EXPECT_INT(ad_pipeline_on_score(p, count_row, &counts[0]), ==, AD_ELIMIT);
    feed(p, 0, 50);
    AD_EXPECT_UINT(s.n_rows, ==, 100);
    for (size_t i = 1; i < AD_PIPELINE_MAX_SCORERS; i++)
        AD_EXPECT_UINT(counts[i], ==, 100);
    AD_EXPECT_UINT(counts[0], ==, 0);
    ad_pipeline_free(p);
    seen_free(&s);
}

static void test_welford_path(void)
{
    struct ad_pipeline_cfg c = ad_test_pipeline_cfg();
    struct seen s;
    c.decode.time_format = AD_TIME_EPOCH_MS;
    AD_EXPECT(!ad_pipeline_cfg_uses_detect(&c));
    struct ad_pipeline *p = make(&c, &s);
    feed(p, 0, 800);
    AD_EXPECT_INT(s.n_rows, ==, 1600);
    AD_EXPECT_INT(s.n_alerts, >=, 1);
    AD_EXPECT_CONTAINS(s.alerts.p, "\"zscore\":");
    AD_EXPECT_CONTAINS(s.alerts.p, "\"detector\":\"welford\"");
    AD_EXPECT_CONTAINS(s.rows.p, "\"is_anomaly\":true,\"kind\":\"spike\"");
    ad_pipeline_free(p);
    seen_free(&s);
    c.detect.detector = AD_DET_WELFORD;
    AD_EXPECT(!ad_pipeline_cfg_uses_detect(&c));
    c.detect.likelihood = true;
    AD_EXPECT(ad_pipeline_cfg_uses_detect(&c));
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_alerts_rows_and_checkpoint);
    AD_TEST_RUN(argc, argv, test_evicted_store);
    AD_TEST_RUN(argc, argv, test_tumbling_rows);
    AD_TEST_RUN(argc, argv, test_welford_path);
    AD_TEST_RUN(argc, argv, test_score_subscribers);
    return ad_test_done();
}
