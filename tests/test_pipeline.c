/* The assembled pipeline: records in, alert lines out; the remote stage's
 * verdict logic per mode and its per-series ordering, with a fake remote. */
#include "ad_test.h"

#include "ad_azure.h"
#include "ad_err.h"
#include "ad_pipeline.h"
#include "ad_test_cfg.h"

struct sink {
    char lines[64][1024];
    int n;
    struct ad_remote_job *jobs[256];
    int njobs;
};

static void on_alert(void *ud, const struct ad_alert *a, const char *line, size_t len)
{
    struct sink *s = ud;
    (void)a;
    if (s->n < 64)
        snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%.*s", (int)len, line);
}

static void on_job(void *ud, struct ad_remote_job *job)
{
    struct sink *s = ud;
    s->jobs[s->njobs++] = job;
}

static struct ad_pipeline *make(const struct ad_pipeline_cfg *cfg)
{
    struct ad_pipeline *p;
    char err[512];
    if (ad_pipeline_new(cfg, &p, err, sizeof(err)))
        AD_FAIL_("pipeline: %s", err);
    return p;
}

/* input.time_format: epoch_ms, plus windows.tumbling.size: 1m with tumbling. */
static struct ad_pipeline_cfg epoch_ms_cfg(bool tumbling)
{
    struct ad_pipeline_cfg c = ad_test_pipeline_cfg();
    c.decode.time_format = AD_TIME_EPOCH_MS;
    c.window.tumbling = tumbling;
    return c;
}

static void push(struct ad_pipeline *p, const char *key, long long ts_ms, double v, int64_t off)
{
    char rec[256];
    int n = snprintf(rec, sizeof(rec), "{\"id\":\"%s\",\"ts\":%lld,\"temp\":%g}", key, ts_ms, v);
    struct ad_record_meta m = {.topic = "t", .partition = 0, .offset = off, .timestamp_ms = -1};
    AD_EXPECT_INT(ad_pipeline_push(p, rec, (size_t)n, &m, 0), ==, AD_REJECT_NONE);
}

/* Scenario C shape: every reading scored on arrival; a spike after 30 steady
 * readings is flagged with the exact fields of interface.md. */
static void test_point_alert_line(void)
{
    struct ad_pipeline_cfg c = epoch_ms_cfg(false);
    struct ad_pipeline *p = make(&c);
    struct sink s = {0};
    ad_pipeline_on_alert(p, on_alert, &s);
    for (int i = 0; i < 30; i++)
        push(p, "sim-1", 1763632800000LL + i * 1000, i % 2 ? 21.0 : 19.0, i);
    AD_EXPECT_INT(s.n, ==, 0);
    push(p, "sim-1", 1763632830000LL, 40.0, 30);
    AD_EXPECT_INT(s.n, ==, 1);
    AD_EXPECT_CONTAINS(s.lines[0], "\"key\":\"sim-1\",\"metric\":\"temp\","
                                   "\"window_start\":\"2025-11-20T10:00:30.000Z\","
                                   "\"window_end\":\"2025-11-20T10:00:30.000Z\",\"value\":40,"
                                   "\"expected\":20,");
    AD_EXPECT_CONTAINS(s.lines[0], "\"threshold\":4,\"direction\":\"positive\",\"n\":30,"
                                   "\"detector\":\"welford\",\"source\":{\"topic\":\"t\","
                                   "\"partition\":0,\"offset\":30}}\n");
    struct ad_pipeline_stats st;
    ad_pipeline_stats(p, &st);
    AD_EXPECT_UINT(st.alerts, ==, 1);
    AD_EXPECT_UINT(st.win.events, ==, 31);
    ad_pipeline_free(p);
}

/* 1m tumbling windows, a 15m window sliding by 1m, window scope, 10 samples. */
static struct ad_pipeline_cfg remote_cfg(int mode)
{
    struct ad_pipeline_cfg c = epoch_ms_cfg(true);
    c.window.sliding = true;
    c.window.win_us = 15 * 60 * AD_TEST_S;
    c.window.slide_us = 60 * AD_TEST_S;
    c.window.window_scope = true;
    c.score.min_samples = 10;
    c.remote_mode = mode;
    return c;
}

/* Feeds two series minute by minute; a spike at minute 20 of series a. */
static void feed(struct ad_pipeline *p)
{
    for (int m = 0; m < 22; m++) {
        push(p, "a", 1763632800000LL + m * 60000LL, m == 20 ? 90.0 : 20.0 + (m % 3), 2 * m);
        push(p, "b", 1763632800000LL + m * 60000LL, 50.0 + (m % 2), 2 * m + 1);
    }
    ad_pipeline_flush(p);
}

static const struct ad_azure_verdict remote_yes = {.is_anomaly = true,
                                                   .is_positive_anomaly = true,
                                                   .period = -1,
                                                   .suggested_window = -1};
static const struct ad_azure_verdict remote_no = {.period = -1, .suggested_window = -1};

static struct ad_remote_outcome verdict(bool anomaly)
{
    struct ad_remote_outcome o = {.verdict = anomaly ? &remote_yes : &remote_no};
    o.json = anomaly ? "\"remote\":{\"status\":\"ok\",\"is_anomaly\":true}"
                     : "\"remote\":{\"status\":\"ok\",\"is_anomaly\":false}";
    o.json_len = strlen(o.json);
    return o;
}

static void test_confirm_mode(void)
{
    struct ad_pipeline_cfg c = remote_cfg(AD_REMOTE_CONFIRM);
    struct ad_pipeline *p = make(&c);
    struct sink s = {0};
    ad_pipeline_on_alert(p, on_alert, &s);
    ad_pipeline_on_remote(p, on_job, &s);
    feed(p);
    /* Only the locally flagged window is asked about, and nothing is emitted
     * before the verdict. */
    AD_EXPECT_INT(s.njobs, ==, 1);
    AD_EXPECT(s.jobs[0]->local_anomaly);
    AD_EXPECT_UINT(s.jobs[0]->n_points, ==, 15);
    AD_EXPECT_INT(s.n, ==, 0);
    AD_EXPECT_UINT(ad_pipeline_remote_pending(p), ==, 1);
    struct ad_remote_outcome o = verdict(true);
    ad_pipeline_remote_done(p, s.jobs[0], &o);
    AD_EXPECT_INT(s.n, ==, 1);
    AD_EXPECT_CONTAINS(s.lines[0], "\"detector\":\"welford\"");
    AD_EXPECT_CONTAINS(s.lines[0], ",\"remote\":{\"status\":\"ok\",\"is_anomaly\":true}}\n");
    ad_pipeline_free(p);

    /* The remote clears it: no alert. Without a verdict: the local one. */
    for (int variant = 0; variant < 2; variant++) {
        p = make(&c);
        memset(&s, 0, sizeof(s));
        ad_pipeline_on_alert(p, on_alert, &s);
        ad_pipeline_on_remote(p, on_job, &s);
        feed(p);
        AD_EXPECT_INT(s.njobs, ==, 1);
        struct ad_remote_outcome none = {.json = "\"remote\":{\"status\":\"unavailable\"}"};
        none.json_len = strlen(none.json);
        o = verdict(false);
        ad_pipeline_remote_done(p, s.jobs[0], variant ? &none : &o);
        AD_EXPECT_INT(s.n, ==, variant ? 1 : 0);
        if (variant)
            AD_EXPECT_CONTAINS(s.lines[0], "\"remote\":{\"status\":\"unavailable\"}}");
        ad_pipeline_free(p);
    }
}

/* always: every window is asked; either verdict flags; alerts of one series
 * come out in window order even when verdicts come back out of order. */
static void test_always_mode_order(void)
{
    struct ad_pipeline_cfg c = remote_cfg(AD_REMOTE_ALWAYS);
    struct ad_pipeline *p = make(&c);
    struct sink s = {0};
    ad_pipeline_on_alert(p, on_alert, &s);
    ad_pipeline_on_remote(p, on_job, &s);
    feed(p);
    AD_EXPECT_INT(s.njobs, ==, 2 * 22); /* one slide per minute, both series */
    /* Answer in reverse: the remote flags every window of b. Nothing of b
     * may come out until its first window is answered. */
    struct ad_remote_job *first_b = NULL;
    for (int i = 0; i < s.njobs; i++)
        if (s.jobs[i]->key[0] == 'b') {
            first_b = s.jobs[i];
            break;
        }
    for (int i = s.njobs - 1; i >= 0; i--) {
        if (s.jobs[i] == first_b)
            continue;
        struct ad_remote_outcome o = verdict(s.jobs[i]->key[0] == 'b');
        ad_pipeline_remote_done(p, s.jobs[i], &o);
    }
    /* a's windows are done; its one local anomaly is out. b waits. */
    AD_EXPECT_INT(s.n, ==, 1);
    AD_EXPECT_CONTAINS(s.lines[0], "\"key\":\"a\"");
    struct ad_remote_outcome o = verdict(true);
    ad_pipeline_remote_done(p, first_b, &o);
    AD_EXPECT_INT(s.n, ==, 1 + 22);
    char prev[32] = "";
    for (int i = 1; i < s.n; i++) {
        AD_EXPECT_CONTAINS(s.lines[i], "\"key\":\"b\"");
        AD_EXPECT_CONTAINS(s.lines[i], "\"detector\":\"anomaly_detector\"");
        const char *we = strstr(s.lines[i], "\"window_end\":\"") + 14;
        AD_EXPECT(strncmp(prev, we, 24) < 0); /* strictly increasing */
        snprintf(prev, sizeof(prev), "%.24s", we);
    }
    AD_EXPECT_UINT(ad_pipeline_remote_pending(p), ==, 0);
    ad_pipeline_free(p);
}

/* Jobs still pending when the pipeline is freed are freed with it. */
static void test_free_with_pending_jobs(void)
{
    struct ad_pipeline_cfg c = remote_cfg(AD_REMOTE_ALWAYS);
    struct ad_pipeline *p = make(&c);
    struct sink s = {0};
    ad_pipeline_on_remote(p, on_job, &s);
    feed(p);
    AD_EXPECT_INT(s.njobs, >, 10);
    ad_pipeline_free(p);
}

/* const:NAME: every record belongs to one series (scenario A's keyword). */
static void test_const_key(void)
{
    static const char *const metrics[] = {"/favorite"};
    struct ad_pipeline_cfg c = ad_test_pipeline_cfg();
    c.decode.key = "const:tweets";
    c.decode.time = "/timestamp";
    c.decode.metrics = metrics;
    c.score.min_samples = 3;
    struct ad_pipeline *p = make(&c);
    struct sink s = {0};
    struct ad_record_meta m = {.topic = "t", .timestamp_ms = -1};
    ad_pipeline_on_alert(p, on_alert, &s);
    const char *recs[] = {"{\"timestamp\":\"2026-11-20T10:00:00Z\",\"favorite\":10}",
                          "{\"timestamp\":\"2026-11-20T10:01:00Z\",\"favorite\":12}",
                          "{\"timestamp\":\"2026-11-20T10:02:00Z\",\"favorite\":11}",
                          "{\"timestamp\":\"2026-11-20T10:03:00Z\",\"favorite\":90}"};
    for (int i = 0; i < 4; i++) {
        m.offset = i;
        AD_EXPECT_INT(ad_pipeline_push(p, recs[i], strlen(recs[i]), &m, 0), ==, AD_REJECT_NONE);
    }
    AD_EXPECT_INT(s.n, ==, 1);
    AD_EXPECT_CONTAINS(s.lines[0], "\"key\":\"tweets\",\"metric\":\"favorite\"");
    struct ad_pipeline_stats st;
    ad_pipeline_stats(p, &st);
    AD_EXPECT_UINT(st.win.series, ==, 1);
    ad_pipeline_free(p);
}

/* The pipeline copies its settings: changing the struct and the strings it
 * pointed to after ad_pipeline_new() changes nothing. ad_pipeline_reload_score()
 * replaces the scoring settings with a copy of its argument. */
static void test_cfg_copied_and_reload(void)
{
    char key[] = "/id";
    const char *metrics[] = {"/temp"};
    struct ad_pipeline_cfg c = epoch_ms_cfg(false);
    c.decode.key = key;
    c.decode.metrics = metrics;
    struct ad_pipeline *p = make(&c);
    key[1] = 'x';
    metrics[0] = "/other";
    c.decode.time_format = AD_TIME_RFC3339;
    c.score.threshold = 1e6;
    struct sink s = {0};
    ad_pipeline_on_alert(p, on_alert, &s);
    for (int i = 0; i < 30; i++)
        push(p, "sim-1", 1763632800000LL + i * 1000, i % 2 ? 21.0 : 19.0, i);
    push(p, "sim-1", 1763632830000LL, 40.0, 30);
    AD_EXPECT_INT(s.n, ==, 1);
    AD_EXPECT_CONTAINS(s.lines[0], "\"threshold\":4,");

    struct ad_score_cfg sc = c.score; /* threshold 1e6: nothing is anomalous */
    ad_pipeline_reload_score(p, &sc);
    sc.threshold = 2.5; /* the pipeline holds its own copy */
    push(p, "sim-1", 1763632831000LL, 80.0, 31);
    AD_EXPECT_INT(s.n, ==, 1);
    ad_pipeline_reload_score(p, &sc);
    push(p, "sim-1", 1763632832000LL, 200.0, 32);
    AD_EXPECT_INT(s.n, ==, 2);
    AD_EXPECT_CONTAINS(s.lines[1], "\"threshold\":2.5,");
    ad_pipeline_free(p);
}

/* Construction errors come from the stage that refuses its settings. */
static void test_new_errors(void)
{
    struct ad_pipeline *p = NULL;
    char err[256];
    AD_EXPECT_INT(ad_pipeline_new(NULL, &p, err, sizeof(err)), ==, AD_EINVAL);
    struct ad_pipeline_cfg c = ad_test_pipeline_cfg();
    c.decode.key = "id";
    AD_EXPECT_INT(ad_pipeline_new(&c, &p, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT_CONTAINS(err, "input.key");
    c = ad_test_pipeline_cfg();
    c.window.sliding = true; /* without tumbling windows */
    AD_EXPECT_INT(ad_pipeline_new(&c, &p, err, sizeof(err)), ==, AD_EINVAL);
    AD_EXPECT_CONTAINS(err, "windows: inconsistent settings");
    AD_EXPECT(p == NULL);
}

static int to_buf(void *ud, const void *buf, size_t len)
{
    return ad_buf_add(ud, buf, len);
}

/* A checkpoint streamed in chunks (a forked child's way) is byte for byte the
 * one serialized into a buffer, and its export clears no dirty flag. */
static void test_checkpoint_stream(void)
{
    struct ad_pipeline_cfg c = epoch_ms_cfg(true);
    struct ad_pipeline *p = make(&c);
    struct ad_buf a, b;
    ad_buf_init(&a, (size_t)1 << 30);
    ad_buf_init(&b, (size_t)1 << 30);
    char key[32];
    for (int i = 0; i < 30000; i++) { /* more than one 1 MiB chunk */
        snprintf(key, sizeof(key), "sensor-%d", i % 15000);
        push(p, key, 1763632800000LL + (long long)(i / 15000) * 60000, 20.0 + i % 7, i);
    }
    struct ad_ckpt_req req = {.topic = "t", .offset = 17, .created_ms = 99, .fingerprint = 5};
    struct ad_ckpt_result ra, rb;
    struct ad_out out;
    ad_out_stream(&out, to_buf, &b);
    AD_EXPECT_INT(ad_pipeline_checkpoint(p, &req, &out, &rb), ==, 0);
    ad_out_close(&out);
    ad_out_buf(&out, &a);
    AD_EXPECT_INT(ad_pipeline_checkpoint(p, &req, &out, &ra), ==, 0);
    ad_out_close(&out);
    /* unsealed: a stream cannot be sealed later */
    req.unsealed = true;
    ad_out_stream(&out, to_buf, &b);
    AD_EXPECT_INT(ad_pipeline_checkpoint(p, &req, &out, NULL), ==, AD_EINVAL);
    ad_out_close(&out);
    uint64_t na = ra.nseries, nb = rb.nseries, bytes = rb.bytes;
    AD_EXPECT_UINT(na, ==, 15000);
    AD_EXPECT_UINT(nb, ==, na);
    AD_EXPECT_UINT(bytes, ==, a.len);
    AD_EXPECT_UINT(b.len, ==, a.len);
    AD_EXPECT(a.len > ((size_t)1 << 20));
    AD_EXPECT(memcmp(a.p, b.p, a.len) == 0);
    ad_buf_free(&a);
    ad_buf_free(&b);
    ad_pipeline_free(p);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_const_key);
    AD_TEST_RUN(argc, argv, test_point_alert_line);
    AD_TEST_RUN(argc, argv, test_confirm_mode);
    AD_TEST_RUN(argc, argv, test_always_mode_order);
    AD_TEST_RUN(argc, argv, test_free_with_pending_jobs);
    AD_TEST_RUN(argc, argv, test_checkpoint_stream);
    AD_TEST_RUN(argc, argv, test_cfg_copied_and_reload);
    AD_TEST_RUN(argc, argv, test_new_errors);
    return ad_test_done();
}
