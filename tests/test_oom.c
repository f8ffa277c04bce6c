/* test_oom.c - the core under injected allocation failures (curl's "torture"
 * runs are the model). Each scenario drives one module the way its unit test
 * does (decode, window, pipeline with the remote stage, checkpoint, model,
 * alert) and reduces what it produced to a digest. It runs once without
 * failures (the reference digest; it must allocate), then again with the n-th
 * allocation failing, for every n, once with only that allocation failing and
 * once with every allocation from the n-th on failing.
 *
 * A failure is handled when the scenario then returns an error, or the module
 * reports it (a counter of points or alerts lost to allocation failure), or
 * the result is the reference result all the same (the module recovered).
 * Anything else (a different result with no error and no count) is a failure
 * swallowed and fails the test; a crash fails it too, and in the ASan build
 * (ASAN_OPTIONS=detect_leaks=1) so does any leak on any of the paths.
 *
 * jansson allocates through ad_malloc/ad_free here, so its failures are
 * injected as well. */
#include <jansson.h>
#include <stdbool.h>

/* Each scenario runs twice per allocation it makes: slow under ASan. */
#define AD_TEST_TIMEOUT_S 280

#include "ad_alert.h"
#include "ad_alloc.h"
#include "ad_azure.h"
#include "ad_buf.h"
#include "ad_checkpoint.h"
#include "ad_decode.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_model.h"
#include "ad_out.h"
#include "ad_pipeline.h"
#include "ad_test.h"
#include "ad_test_cfg.h"
#include "ad_window.h"

/* ad_ckpt_check() and, when it accepts buf, ad_ckpt_each(). */
static int ckpt_read(const void *buf, size_t len, struct ad_ckpt_header *h, ad_ckpt_series_cb cb,
                     void *ud, char *err, size_t errlen)
{
    int rc = ad_ckpt_check(buf, len, h, err, errlen);
    return rc || !cb ? rc : ad_ckpt_each(buf, len, cb, ud);
}

/* ad_window_push() with the point's members as arguments. */
static enum ad_push_result wpush(struct ad_window *w, struct ad_part *p, const char *key,
                                 size_t key_len, uint32_t metric, int64_t t_us, double v,
                                 int64_t offset, int64_t now_ms)
{
    struct ad_window_point pt = {key, key_len, metric, t_us, v, offset};
    return ad_window_push(w, p, &pt, now_ms);
}

/* What a scenario run produced. */
struct outcome {
    uint64_t digest;
    bool reported; /* a module counted a loss to allocation failure */
};

static void mix(struct outcome *o, const void *p, size_t n)
{
    o->digest = ad_fnv1a64(o->digest, p, n);
}

static void mix_i64(struct outcome *o, int64_t v)
{
    mix(o, &v, sizeof(v));
}

static void mix_str(struct outcome *o, const char *s, size_t n)
{
    mix_i64(o, (int64_t)n);
    mix(o, s, n);
}

typedef int (*scenario_fn)(struct outcome *o);

/* Runs fn under every injected failure; see the file comment. */
static void torture(const char *name, scenario_fn fn)
{
    struct outcome ref = {AD_FNV64_BASIS, false}, o;
    ad_alloc_fail_at(0, false);
    AD_EXPECT_INT(fn(&ref), ==, 0);
    AD_EXPECT(!ref.reported);
    uint64_t total = ad_alloc_count();
    AD_EXPECT_UINT(total, >, 0);
    uint64_t errors = 0, reported = 0, recovered = 0, first = 1;
    if (getenv("AD_OOM_AT")) /* AD_OOM_AT=N: only from the N-th (under a debugger) */
        first = strtoull(getenv("AD_OOM_AT"), NULL, 10);
    for (uint64_t n = first; n <= total; n++) {
        for (int sticky = 0; sticky < 2; sticky++) {
            o = (struct outcome){AD_FNV64_BASIS, false};
            ad_alloc_fail_at(n, sticky);
            int rc = fn(&o);
            uint64_t failed = ad_alloc_failed();
            ad_alloc_fail_at(0, false);
            if (!failed) {
                AD_EXPECT_INT(rc, ==, 0);
                AD_EXPECT_UINT(o.digest, ==, ref.digest);
                continue;
            }
            if (rc != 0)
                errors++;
            else if (o.reported)
                reported++;
            else if (o.digest == ref.digest)
                recovered++;
            else
                AD_FAIL_("%s: allocation %llu%s failed: no error, nothing counted, and the "
                         "result differs",
                         name, (unsigned long long)n, sticky ? " (and every later one)" : "");
        }
    }
    printf("  %s: %llu allocations; failures: %llu errors, %llu counted, %llu recovered\n", name,
           (unsigned long long)total, (unsigned long long)errors, (unsigned long long)reported,
           (unsigned long long)recovered);
}

/* ---- settings: the defaults (ad_test_cfg.h) with two metrics, small windows ---- */

static struct ad_pipeline_cfg pipe_cfg(bool sliding, int remote_mode)
{
    static const char *const metrics[] = {"/temp", "/hum"};
    struct ad_pipeline_cfg c = ad_test_pipeline_cfg();
    c.decode.n_metrics = 2;
    c.decode.metrics = metrics;
    c.decode.max_key_bytes = 64;
    c.window.max_series = 5;
    c.window.tumbling = true;
    c.window.size_us = 10 * AD_TEST_S;
    c.window.sliding = sliding;
    c.window.win_us = 40 * AD_TEST_S;
    c.window.slide_us = 20 * AD_TEST_S;
    c.window.lateness_us = 10 * AD_TEST_S;
    c.window.idle_us = 300 * AD_TEST_S;
    c.score.threshold = 2.0;
    c.score.min_samples = 3;
    c.remote_mode = remote_mode;
    return c;
}

/* The i-th record of a small stream: 7 sensors, one spike. */
static size_t record(char *out, size_t cap, int i)
{
    int sensor = i % 7;
    double temp = 20 + (i % 5) * 0.5 + (i == 120 ? 40 : 0);
    return (size_t)snprintf(out, cap, "{\"id\":\"sensor-%d\",\"ts\":%d,\"temp\":%.2f,\"hum\":%d}",
                            sensor, 1700000000 + i * 2, temp, 40 + i % 3);
}

/* ---- decode ---- */

static int scn_decode(struct outcome *o)
{
    struct ad_pipeline_cfg cfg = pipe_cfg(false, AD_REMOTE_OFF);
    struct ad_decoder *d = NULL;
    char err[256], buf[256];
    int rc = ad_decoder_new(&cfg.decode, &d, err, sizeof(err));
    if (rc)
        return rc;
    struct ad_decoded *r = malloc(sizeof(*r));
    static const char *odd[] = {"{\"id\":1,\"ts\":\"2024-01-01T00:00:00Z\",\"temp\":1,\"hum\":2}",
                                "{\"id\":\"x\",\"temp\":1}", "not json", "[1,2,3]",
                                "{\"id\":\"y\",\"ts\":1,\"temp\":\"hot\",\"hum\":1}"};
    struct ad_record_meta meta = {.topic = "t", .offset = -1, .timestamp_ms = -1};
    for (int i = 0; r && i < 20 + 5; i++) {
        size_t len = i < 20 ? record(buf, sizeof(buf), i) : strlen(odd[i - 20]);
        enum ad_reject why = ad_decode(d, i < 20 ? buf : odd[i - 20], len, &meta, r);
        if (why == AD_REJECT_NOMEM) {
            o->reported = true;
            continue;
        }
        mix_i64(o, why);
        if (why == AD_REJECT_NONE) {
            mix_str(o, r->key, r->key_len);
            mix_i64(o, r->time_us);
            for (size_t k = 0; k < r->n_values; k++)
                mix(o, &r->values[k], sizeof(r->values[k]));
        }
    }
    rc = r ? 0 : AD_ENOMEM;
    free(r);
    ad_decoder_free(d);
    return rc;
}

/* ---- window ---- */

struct wstate {
    struct outcome *o;
    struct ad_buf saved[16]; /* evicted series' checkpoints, by series number */
};

static bool on_event(void *ud, const struct ad_window_event *ev)
{
    struct wstate *ws = ud;
    size_t len;
    const char *key = ad_series_key(ev->series, &len);
    mix_str(ws->o, key, len);
    mix_i64(ws->o, ev->start_us);
    mix_i64(ws->o, ev->end_us);
    mix(ws->o, &ev->value, sizeof(ev->value));
    mix_i64(ws->o, (int64_t)ev->n_points);
    mix_i64(ws->o, ev->model->n);
    return true;
}

static int series_no(const char *key, size_t len)
{
    return len > 2 ? (key[len - 1] - '0') % 16 : 0;
}

static void on_evicted(void *ud, const struct ad_part *p, const struct ad_series_state *st)
{
    struct wstate *ws = ud;
    struct ad_ckpt_header h = {.offset = -1, .partition = p ? ad_part_partition(p) : -1};
    struct ad_buf *b = &ws->saved[series_no(st->key, st->key_len)];
    if (ad_ckpt_one(b, &h, st, "m") != 0) {
        ad_buf_reset(b); /* lost to allocation failure: loaded as a new series */
        ws->o->reported = true;
    }
}

struct wload {
    struct ad_series_state *st;
    struct ad_ring_point ring[64];
    char key[64];
};

static int load_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct wload *l = ud;
    (void)metric;
    if (st->rlen > 64 || st->key_len >= sizeof(l->key))
        return AD_ELIMIT;
    *l->st = *st;
    if (st->rlen)
        memcpy(l->ring, st->ring, st->rlen * sizeof(*st->ring));
    memcpy(l->key, st->key, st->key_len);
    l->st->ring = l->ring;
    l->st->key = l->key;
    return 0;
}

static struct wload loaded;

static int on_load(void *ud, const struct ad_part *p, const char *key, size_t key_len,
                   uint32_t metric, struct ad_series_state *st)
{
    struct wstate *ws = ud;
    struct ad_buf *b = &ws->saved[series_no(key, key_len)];
    struct ad_ckpt_header h;
    char err[128];
    (void)p;
    loaded.st = st;
    int rc = b->len ? ckpt_read(b->p, b->len, &h, load_cb, &loaded, err, sizeof(err)) : AD_ENOENT;
    st->metric = metric;
    return rc;
}

static int scn_window(struct outcome *o)
{
    struct wstate ws = {.o = o};
    struct ad_window_cfg wc = {.tumbling = true,
                               .size_us = 10,
                               .aggregate = AD_AGG_MEAN,
                               .sliding = true,
                               .win_us = 40,
                               .slide_us = 20,
                               .lateness_us = 10,
                               .idle_us = 5000,
                               .max_series = 4};
    struct ad_window *w = NULL;
    for (int i = 0; i < 16; i++)
        ad_buf_init(&ws.saved[i], 1 << 20);
    int rc = ad_window_new(&wc, on_event, &ws, &w);
    if (rc == 0) {
        struct ad_window_store store = {on_evicted, on_load, &ws};
        ad_window_set_store(w, &store);
    }
    struct ad_part *p = rc ? NULL : ad_window_part(w, "t", 0);
    rc = rc ? rc : p ? 0 : AD_ENOMEM;
    for (int i = 0; rc == 0 && i < 240; i++) {
        char key[16];
        int n = snprintf(key, sizeof(key), "s-%d", i % 6);
        enum ad_push_result pr = wpush(w, p, key, (size_t)n, 0, i * 3, (double)(i % 11), i, i);
        if (pr == AD_PUSH_NOMEM)
            o->reported = true;
        mix_i64(o, pr == AD_PUSH_NOMEM ? AD_PUSH_OK : pr);
        ad_window_advance(w, p, i * 3);
        if (i % 50 == 49)
            ad_window_tick(w, i + 10000);
    }
    if (rc == 0) {
        ad_window_flush(w);
        struct ad_window_stats st;
        ad_window_stats(w, &st);
        if (st.nomem)
            o->reported = true;
    }
    ad_window_free(w);
    for (int i = 0; i < 16; i++)
        ad_buf_free(&ws.saved[i]);
    return rc;
}

/* ---- pipeline (with the remote stage, checkpoints and restore) ---- */

struct pstate {
    struct outcome *o;
    struct ad_pipeline *p;
    int jobs;
};

static void on_alert(void *ud, const struct ad_alert *a, const char *line, size_t len)
{
    struct pstate *ps = ud;
    (void)a;
    mix_str(ps->o, line, len);
}

static void on_reject(void *ud, const void *buf, size_t len, const struct ad_record_meta *meta,
                      const char *reason)
{
    struct pstate *ps = ud;
    (void)meta;
    mix_str(ps->o, buf, len);
    mix_str(ps->o, reason, strlen(reason));
}

/* Answers every other job at once and the rest after the input (in order). */
static struct ad_remote_job *held[512];
static int nheld;

static void answer(struct pstate *ps, struct ad_remote_job *j)
{
    static const char json[] = "{\"status\":\"ok\",\"isAnomaly\":true}";
    struct ad_azure_verdict v = {.is_anomaly = j->n_points % 3 == 0,
                                 .is_positive_anomaly = true,
                                 .period = -1,
                                 .suggested_window = -1};
    struct ad_remote_outcome out = {.verdict = j->n_points % 5 ? &v : NULL,
                                    .json = json,
                                    .json_len = sizeof(json) - 1};
    mix_i64(ps->o, (int64_t)j->n_points);
    ad_pipeline_remote_done(ps->p, j, &out);
}

static void on_remote(void *ud, struct ad_remote_job *j)
{
    struct pstate *ps = ud;
    if (ps->jobs++ % 2 == 0 || nheld == 512)
        answer(ps, j);
    else
        held[nheld++] = j;
}

/* The store of evicted series: one slot per (sensor, metric). */
static struct ad_buf pstore[8][2];

static size_t pslot(const char *key, size_t len)
{
    return len ? (size_t)(key[len - 1] - '0') % 8 : 0;
}

static void pstore_evicted(void *ud, const char *topic, int32_t partition, const char *key,
                           size_t key_len, const char *metric, const void *ckpt, size_t len)
{
    struct pstate *ps = ud;
    struct ad_buf *b = &pstore[pslot(key, key_len)][metric[0] == 'h'];
    (void)topic;
    (void)partition;
    ad_buf_reset(b);
    if (ad_buf_add(b, ckpt, len) != 0)
        ps->o->reported = true; /* the test's own loss */
}

static int pstore_load(void *ud, const char *key, size_t key_len, const char *metric,
                       struct ad_buf *out)
{
    struct ad_buf *b = &pstore[pslot(key, key_len)][metric[0] == 'h'];
    (void)ud;
    ad_buf_reset(out);
    return b->len ? ad_buf_add(out, b->p, b->len) : AD_ENOENT;
}

static int pipe_new(struct pstate *ps, const struct ad_pipeline_cfg *cfg)
{
    char err[256];
    int rc = ad_pipeline_new(cfg, &ps->p, err, sizeof(err));
    if (rc)
        return rc;
    ad_pipeline_on_alert(ps->p, on_alert, ps);
    ad_pipeline_on_reject(ps->p, on_reject, ps);
    ad_pipeline_on_remote(ps->p, on_remote, ps);
    struct ad_pipeline_store store = {pstore_evicted, pstore_load, ps};
    ad_pipeline_set_store(ps->p, &store, 7);
    return 0;
}

static void pipe_done(struct pstate *ps)
{
    struct ad_pipeline_stats st;
    ad_pipeline_stats(ps->p, &st);
    mix_i64(ps->o, (int64_t)st.win.evictions);
    mix_i64(ps->o, (int64_t)st.win.resumed);
    if (st.nomem || st.alert_errors || st.win.nomem || st.rejected_by[AD_REJECT_NOMEM])
        ps->o->reported = true;
    mix_i64(ps->o, (int64_t)st.alerts);
}

static int restore_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct ad_pipeline *p = ud;
    return ad_pipeline_restore(p, "t", 0, st, metric);
}

static int to_buf(void *ud, const void *buf, size_t len)
{
    return ad_buf_add(ud, buf, len);
}

/* Checkpoints a's partition into a buffer and (streamed) into a second one,
 * checks they agree and restores the first into b. */
static int ckpt_roundtrip(struct ad_pipeline *a, struct ad_pipeline *b, struct outcome *o)
{
    struct ad_buf whole, streamed;
    struct ad_out out;
    struct ad_ckpt_req req = {.topic = "t",
                              .partition = 0,
                              .offset = 99,
                              .created_ms = 5,
                              .fingerprint = 7};
    struct ad_ckpt_result res;
    struct ad_ckpt_header h;
    char err[128];
    ad_buf_init(&whole, 1 << 24);
    ad_buf_init(&streamed, 1 << 24);
    ad_out_buf(&out, &whole);
    int rc = ad_pipeline_checkpoint(a, &req, &out, &res);
    ad_out_close(&out);
    if (rc == 0) {
        ad_out_stream(&out, to_buf, &streamed);
        rc = ad_pipeline_checkpoint(a, &req, &out, &res);
        ad_out_close(&out);
    }
    if (rc == 0 && (whole.len != streamed.len || memcmp(whole.p, streamed.p, whole.len) != 0))
        AD_FAIL_("the buffered and the streamed checkpoint differ");
    rc = rc ? rc : ckpt_read(whole.p, whole.len, &h, restore_cb, b, err, sizeof(err));
    if (rc == 0)
        mix_i64(o, (int64_t)h.nseries);
    ad_buf_free(&whole);
    ad_buf_free(&streamed);
    return rc;
}

static int scn_pipeline(struct outcome *o)
{
    struct ad_pipeline_cfg cfg = pipe_cfg(true, AD_REMOTE_CONFIRM);
    struct pstate a = {.o = o}, b = {.o = o};
    char buf[256];
    nheld = 0;
    for (int i = 0; i < 16; i++)
        ad_buf_init(&pstore[i / 2][i % 2], 1 << 20);
    int rc = pipe_new(&a, &cfg);
    rc = rc ? rc : pipe_new(&b, &cfg);
    for (int i = 0; rc == 0 && i < 160; i++) {
        struct ad_record_meta meta = {.topic = "t",
                                      .partition = 0,
                                      .offset = i,
                                      .timestamp_ms = -1};
        size_t len = i == 77 ? (size_t)snprintf(buf, sizeof(buf), "{bad")
                             : record(buf, sizeof(buf), i);
        (void)ad_pipeline_push(a.p, buf, len, &meta, 1000 + i);
        if (i % 60 == 59)
            ad_pipeline_tick(a.p, 1000 + i);
    }
    for (int i = 0; rc == 0 && i < nheld; i++)
        answer(&a, held[i]);
    rc = rc ? rc : ckpt_roundtrip(a.p, b.p, o);
    if (rc == 0) {
        struct ad_buf m;
        ad_buf_init(&m, 1 << 20);
        ad_pipeline_flush(a.p);
        rc = ad_pipeline_export(b.p, &m);
        if (rc == 0)
            mix_str(o, m.p, m.len);
        ad_buf_free(&m);
    }
    if (a.p)
        pipe_done(&a);
    if (b.p)
        pipe_done(&b);
    ad_pipeline_free(a.p);
    ad_pipeline_free(b.p);
    for (int i = 0; i < 16; i++) {
        mix_str(o, pstore[i / 2][i % 2].p, pstore[i / 2][i % 2].len); /* what was evicted */
        ad_buf_free(&pstore[i / 2][i % 2]);
    }
    return rc;
}

/* ---- checkpoint encoding ---- */

static int count_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct outcome *o = ud;
    mix_str(o, st->key, st->key_len);
    mix_str(o, metric, strlen(metric));
    mix_i64(o, st->rlen);
    return 0;
}

static int scn_checkpoint(struct outcome *o)
{
    struct ad_ring_point ring[40];
    for (int i = 0; i < 40; i++)
        ring[i] = (struct ad_ring_point){.t_us = i,
                                         .v = i * 0.5,
                                         .off = i,
                                         .low_off = i,
                                         .in_model = i % 2};
    struct ad_series_state st = {.key = "k1",
                                 .key_len = 2,
                                 .life = {3, 1.5, 0.5},
                                 .model_off = 7,
                                 .last_t = 9,
                                 .ring = ring,
                                 .rlen = 40};
    struct ad_ckpt_header h = {.fingerprint = 1, .offset = 2, .partition = 3, .topic = "top"};
    struct ad_buf b;
    char err[128];
    ad_buf_init(&b, 1 << 20);
    int rc = ad_ckpt_begin(&b, &h);
    for (int i = 0; rc == 0 && i < 30; i++)
        rc = ad_ckpt_add(&b, &st, "temp");
    rc = rc ? rc : ad_ckpt_finish(&b, 30);
    rc = rc ? rc : ckpt_read(b.p, b.len, &h, count_cb, o, err, sizeof(err));
    ad_buf_free(&b);
    return rc;
}

/* ---- model lines ---- */

static int model_cb(void *ud, const char *id, size_t id_len, const char *metric, uint64_t n,
                    double mean, double m2)
{
    struct outcome *o = ud;
    mix_str(o, id, id_len);
    mix_str(o, metric ? metric : "", metric ? strlen(metric) : 0);
    mix_i64(o, (int64_t)n);
    mix(o, &mean, sizeof(mean));
    mix(o, &m2, sizeof(m2));
    return 0;
}

static int scn_model(struct outcome *o)
{
    struct ad_buf b;
    char err[256];
    int rc = 0;
    ad_buf_init(&b, 1 << 20);
    for (int i = 0; rc == 0 && i < 40; i++) {
        char id[32];
        int n = snprintf(id, sizeof(id), "sensor-%d", i);
        struct ad_model_entry e = {id,       (size_t)n, i % 2 ? "temp" : NULL, (uint64_t)i + 2,
                                   i * 1.25, i * 0.5};
        rc = ad_model_format_line(&b, &e);
    }
    struct ad_model_import im = {.cb = model_cb, .ud = o};
    rc = rc ? rc : ad_model_import_buffer("lines", b.p, b.len, &im, err, sizeof(err));
    static const char arr[] = "[{\"id\":\"a\",\"m2\":{\"n\":3,\"mean\":1,\"m2\":2}},"
                              "{\"id\":7,\"metric\":\"hum\",\"m2\":{\"n\":1,\"mean\":4,\"m2\":0}}]";
    rc = rc ? rc : ad_model_import_buffer("array", arr, sizeof(arr) - 1, &im, err, sizeof(err));
    ad_buf_free(&b);
    return rc;
}

/* ---- alert lines ---- */

static int scn_alert(struct outcome *o)
{
    struct ad_buf b;
    int rc = 0;
    ad_buf_init(&b, 1 << 20);
    for (int i = 0; rc == 0 && i < 50; i++) {
        struct ad_alert a = {.key = "sensor-\"1\"",
                             .key_len = 10,
                             .metric = "temp",
                             .window_start_us = i * 1000000LL,
                             .window_end_us = i * 1000000LL + 1,
                             .value = 40 + i,
                             .expected = 20,
                             .stddev = 1.5,
                             .zscore = 13.3,
                             .threshold = 3,
                             .direction = AD_DIR_POSITIVE,
                             .n = 100,
                             .detector = AD_DETECTOR_WELFORD,
                             .topic = "t",
                             .partition = 1,
                             .offset = i};
        rc = i % 2 ? ad_alert_format(&a, &b) : ad_alert_format_ext(&a, "{\"x\":1}", 7, &b);
    }
    if (rc == 0)
        mix_str(o, b.p, b.len);
    ad_buf_free(&b);
    return rc;
}

static void test_decode(void)
{
    torture("decode", scn_decode);
}

static void test_window(void)
{
    torture("window", scn_window);
}

static void test_pipeline(void)
{
    torture("pipeline", scn_pipeline);
}

static void test_checkpoint(void)
{
    torture("checkpoint", scn_checkpoint);
}

static void test_model(void)
{
    torture("model", scn_model);
}

static void test_alert(void)
{
    torture("alert", scn_alert);
}

/* The hook itself: the n-th call fails, and with sticky every later one. */
static void test_hook(void)
{
    ad_alloc_fail_at(2, false);
    void *a = ad_malloc(8), *b = ad_malloc(8), *c = ad_calloc(1, 8);
    AD_EXPECT(a && !b && c);
    AD_EXPECT_UINT(ad_alloc_count(), ==, 3);
    AD_EXPECT_UINT(ad_alloc_failed(), ==, 1);
    ad_free(a);
    ad_free(c);
    ad_alloc_fail_at(1, true);
    AD_EXPECT(!ad_strdup("x") && !ad_realloc(NULL, 4) && !ad_malloc(1));
    AD_EXPECT_UINT(ad_alloc_failed(), ==, 3);
    ad_alloc_fail_at(0, false);
    char *s = ad_strndup("abcdef", 3);
    AD_EXPECT_STR(s, "abc");
    ad_free(s);
}

int main(int argc, char **argv)
{
    json_set_alloc_funcs(ad_malloc, ad_free);
    AD_TEST_RUN(argc, argv, test_hook);
    AD_TEST_RUN(argc, argv, test_decode);
    AD_TEST_RUN(argc, argv, test_window);
    AD_TEST_RUN(argc, argv, test_pipeline);
    AD_TEST_RUN(argc, argv, test_checkpoint);
    AD_TEST_RUN(argc, argv, test_model);
    AD_TEST_RUN(argc, argv, test_alert);
    return ad_test_done();
}
