/* The engine: one alert through every sink in order, synchronous and
 * asynchronous sinks, sinks that fail or refuse, the offset ledger's holds
 * (released only once every asynchronous sink has reported), a hold that
 * cannot be taken, and the remote stage off/confirm/always with a fake
 * remote. */
#include "ad_test.h"

#include <stdlib.h>
#include <unistd.h>

#include "ad_azure.h"
#include "ad_config.h"
#include "ad_engine.h"
#include "ad_err.h"

/* ---- fixtures ------------------------------------------------------------------ */

struct ledger {
    int held; /* holds not yet released */
    int taken, released, released_undelivered;
    int errors, last_error;
    int fail_next;   /* hold() fails this many times, holding nothing */
    int coarse_next; /* hold() fails this many times, with a (coarse) token set */
    int64_t last_low;
    char log[1024]; /* "h" a hold, "r"/"d"/"k" handed back delivered/dropped/kept */
    size_t loglen;
};

static void note(struct ledger *l, char c)
{
    if (l->loglen + 1 < sizeof(l->log))
        l->log[l->loglen++] = c;
}

static int l_hold(void *ud, const char *topic, int32_t partition, int64_t low, void **token)
{
    struct ledger *l = ud;
    (void)topic, (void)partition;
    if (l->fail_next > 0) {
        l->fail_next--;
        return AD_ENOMEM;
    }
    int rc = 0;
    if (l->coarse_next > 0) {
        l->coarse_next--;
        rc = AD_ENOMEM;
    }
    int *t = malloc(sizeof(*t));
    AD_EXPECT(t != NULL);
    *t = ++l->taken;
    l->held++;
    l->last_low = low;
    note(l, 'h');
    *token = t;
    return rc;
}

static void l_release(void *ud, void *token, enum ad_engine_outcome outcome)
{
    struct ledger *l = ud;
    AD_EXPECT(token != NULL);
    free(token);
    l->held--;
    l->released++;
    if (outcome != AD_ENGINE_DELIVERED)
        l->released_undelivered++;
    note(l, "rdk"[outcome]);
}

static void l_error(void *ud, int rc)
{
    struct ledger *l = ud;
    l->errors++;
    l->last_error = rc;
}

/* A test sink: synchronous or not; records what it got. */
struct tsink {
    struct ledger *l; /* to log "e" at each emit */
    int fail;         /* emit returns this */
    bool done_inline; /* async: reports delivered from inside emit */
    int emitted, closed;
    char last[1024];
    struct ad_engine_sink *sink;
    struct ad_engine_delivery *held[64];
    int nheld;
};

static int t_emit(void *self, struct ad_engine_sink *sink, const struct ad_alert *a,
                  const char *line, size_t len, struct ad_engine_delivery *d)
{
    struct tsink *s = self;
    (void)a;
    s->emitted++;
    s->sink = sink;
    snprintf(s->last, sizeof(s->last), "%.*s", (int)len, line);
    if (s->l)
        note(s->l, 'e');
    if (s->fail)
        return s->fail;
    if (!d)
        return 0; /* a synchronous sink (an asynchronous one always gets a d) */
    if (s->done_inline)
        ad_engine_sink_done(sink, d, AD_ENGINE_DELIVERED);
    else if (s->nheld < 64)
        s->held[s->nheld++] = d;
    return 0;
}

static void t_close(void *self)
{
    ((struct tsink *)self)->closed++;
}

static const struct ad_engine_sink_ops sync_ops = {.name = "sync",
                                                   .emit = t_emit,
                                                   .close = t_close};
static const struct ad_engine_sink_ops async_ops = {.name = "async",
                                                    .async = true,
                                                    .emit = t_emit,
                                                    .close = t_close};
static const struct ad_engine_sink_ops async2_ops = {.name = "async2",
                                                     .async = true,
                                                     .emit = t_emit,
                                                     .close = t_close};

/* Reports the oldest line s holds. */
static void t_complete(struct tsink *s, enum ad_engine_outcome outcome)
{
    AD_EXPECT(s->nheld > 0);
    struct ad_engine_delivery *d = s->held[0];
    memmove(s->held, s->held + 1, (size_t)(s->nheld - 1) * sizeof(s->held[0]));
    s->nheld--;
    ad_engine_sink_done(s->sink, d, outcome);
}

static void load(struct ad_config *cfg, const char *const *sets, size_t n)
{
    char err[512];
    AD_EXPECT_INT(ad_config_init(cfg), ==, 0);
    for (size_t i = 0; i < n; i++)
        if (ad_config_set(cfg, sets[i], err, sizeof(err)))
            AD_FAIL_("set %s: %s", sets[i], err);
}

static struct ad_engine *make(const struct ad_config *cfg, const struct ad_engine_opts *o)
{
    struct ad_engine *e;
    char err[512];
    if (ad_engine_new(cfg, o, &e, err, sizeof(err)))
        AD_FAIL_("engine: %s", err);
    return e;
}

static void push(struct ad_engine *e, const char *key, long long ts_ms, double v, int64_t off)
{
    char rec[256];
    int n = snprintf(rec, sizeof(rec), "{\"id\":\"%s\",\"ts\":%lld,\"temp\":%g}", key, ts_ms, v);
    struct ad_record_meta m = {.topic = "t", .partition = 0, .offset = off, .timestamp_ms = -1};
    AD_EXPECT_INT(ad_pipeline_push(ad_engine_pipeline(e), rec, (size_t)n, &m, 0), ==,
                  AD_REJECT_NONE);
}

/* 30 steady readings, then `spikes` spikes: one alert each (scenario C). */
static void feed_points(struct ad_engine *e, int spikes)
{
    for (int i = 0; i < 30; i++)
        push(e, "sim-1", 1763632800000LL + i * 1000, i % 2 ? 21.0 : 19.0, i);
    for (int i = 0; i < spikes; i++)
        push(e, "sim-1", 1763632830000LL + i * 1000, 400.0 * (i + 1), 30 + i);
}

static const char *const point_sets[] = {"input.time_format=epoch_ms"};

static struct ad_engine_sink_stats sink_stats(struct ad_engine *e, const char *name)
{
    struct ad_engine_sink_stats ss;
    AD_EXPECT_INT(ad_engine_sink_stats_by_name(e, name, &ss), ==, 0);
    return ss;
}

static char *slurp(FILE *f)
{
    static char buf[8192];
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    return buf;
}

/* ---- the fan-out ------------------------------------------------------------------ */

/* stdout and the alert log get the same line, in order with the driver's
 * sinks; no async sink: no delivery record and no hold. */
static void test_file_sinks(void)
{
    char logpath[] = "/tmp/ad_test_engine_XXXXXX";
    int fd = mkstemp(logpath);
    AD_EXPECT(fd >= 0);
    close(fd);
    char set_log[300];
    snprintf(set_log, sizeof(set_log), "sinks.alert_log.path=%s", logpath);
    /* The Welford model, as the bytes below expect (auto is the default). */
    const char *sets[] = {"input.time_format=epoch_ms", "model.detector=welford", set_log};
    struct ad_config cfg;
    load(&cfg, sets, 3);
    FILE *out = tmpfile();
    struct ledger l = {0};
    struct ad_engine_ledger led = {l_hold, l_release, l_error, &l};
    struct ad_engine_opts o = {.out = out, .alert_log = true, .ledger = &led};
    struct ad_engine *e = make(&cfg, &o);
    struct tsink s = {0};
    AD_EXPECT_INT(ad_engine_add_sink(e, &sync_ops, &s, NULL), ==, 0);

    feed_points(e, 2);
    struct ad_engine_stats st;
    ad_engine_stats(e, &st);
    AD_EXPECT_UINT(st.alerts, ==, 2);
    AD_EXPECT_UINT(st.nsinks, ==, 3);
    AD_EXPECT_INT(l.taken, ==, 0); /* nothing asynchronous: nothing held */
    AD_EXPECT_INT(s.emitted, ==, 2);
    struct ad_engine_sink_stats ss;
    AD_EXPECT_INT(ad_engine_sink_stats(e, 0, &ss), ==, 0);
    AD_EXPECT_STR(ss.name, "stdout");
    AD_EXPECT_UINT(ss.delivered, ==, 2);
    AD_EXPECT_INT(ad_engine_sink_stats(e, 1, &ss), ==, 0);
    AD_EXPECT_STR(ss.name, "alert_log");
    AD_EXPECT_UINT(ss.delivered, ==, 2);
    AD_EXPECT_INT(ad_engine_sink_stats(e, 3, &ss), ==, AD_ENOENT);

    char *printed = slurp(out);
    AD_EXPECT_CONTAINS(printed, s.last); /* the second line, byte for byte */
    AD_EXPECT_CONTAINS(printed, "\"detector\":\"welford\"");
    FILE *lf = fopen(logpath, "r");
    AD_EXPECT(lf != NULL);
    char logged[8192];
    size_t n = fread(logged, 1, sizeof(logged) - 1, lf);
    logged[n] = '\0';
    fclose(lf);
    AD_EXPECT_STR(logged, printed);

    /* A reload to another path: later lines go there, the old file stays. */
    char err[256], path2[320];
    snprintf(path2, sizeof(path2), "%s.2", logpath);
    AD_EXPECT_INT(ad_engine_set_alert_log(e, logpath, err, sizeof(err)), ==, 0); /* same */
    AD_EXPECT_INT(ad_engine_set_alert_log(e, path2, err, sizeof(err)), ==, 0);
    push(e, "sim-1", 1763632900000LL, 9000.0, 99);
    AD_EXPECT_UINT(sink_stats(e, "alert_log").delivered, ==, 3);
    AD_EXPECT_INT(ad_engine_set_alert_log(e, "/nonexistent-dir/x.log", err, sizeof(err)), ==,
                  AD_EIO);
    AD_EXPECT_INT(ad_engine_reopen(e, err, sizeof(err)), ==, 0);
    ad_engine_free(e);
    AD_EXPECT_INT(s.closed, ==, 1);
    lf = fopen(path2, "r");
    AD_EXPECT(lf != NULL);
    n = fread(logged, 1, sizeof(logged) - 1, lf);
    logged[n] = '\0';
    fclose(lf);
    AD_EXPECT_STR(logged, s.last); /* only the line after the switch */
    fclose(out);
    unlink(logpath);
    unlink(path2);
    ad_config_free(&cfg);
}

/* A synchronous sink that fails is counted; the sinks after it still get
 * the line. An alert log that cannot be opened fails the engine. */
static void test_failing_sink(void)
{
    struct ad_config cfg;
    load(&cfg, point_sets, 1);
    struct ad_engine_opts o = {0};
    struct ad_engine *e = make(&cfg, &o);
    struct tsink bad = {.fail = AD_EIO}, good = {0};
    ad_engine_add_sink(e, &sync_ops, &bad, NULL);
    ad_engine_add_sink(e, &async_ops, &good, NULL);
    feed_points(e, 1);
    AD_EXPECT_INT(bad.emitted, ==, 1);
    AD_EXPECT_INT(good.emitted, ==, 1);
    struct ad_engine_sink_stats ss;
    ad_engine_sink_stats(e, 0, &ss);
    AD_EXPECT_UINT(ss.refused, ==, 1);
    AD_EXPECT_UINT(ss.failed, ==, 0);
    AD_EXPECT_UINT(ss.delivered, ==, 0);
    ad_engine_sink_stats(e, 1, &ss);
    AD_EXPECT_UINT(ss.pending, ==, 1);
    t_complete(&good, AD_ENGINE_DELIVERED);
    ad_engine_sink_stats(e, 1, &ss);
    AD_EXPECT_UINT(ss.pending, ==, 0);
    AD_EXPECT_UINT(ss.delivered, ==, 1);
    ad_engine_free(e);
    ad_config_free(&cfg);

    const char *sets[] = {"input.time_format=epoch_ms",
                          "sinks.alert_log.path=/nonexistent-dir/alerts.log"};
    load(&cfg, sets, 2);
    struct ad_engine_opts lo = {.alert_log = true};
    char err[512];
    AD_EXPECT_INT(ad_engine_new(&cfg, &lo, &e, err, sizeof(err)), ==, AD_EIO);
    AD_EXPECT_CONTAINS(err, "while opening the alert log: /nonexistent-dir/alerts.log");
    ad_config_free(&cfg);
}

/* ---- holds ---------------------------------------------------------------------- */

/* One hold per alert, handed back only once every asynchronous sink
 * reported, whatever the order, with the worst outcome. */
static void test_hold_until_every_sink(void)
{
    struct ad_config cfg;
    load(&cfg, point_sets, 1);
    struct ledger l = {0};
    struct ad_engine_ledger led = {l_hold, l_release, l_error, &l};
    struct ad_engine_opts o = {.ledger = &led};
    struct ad_engine *e = make(&cfg, &o);
    struct tsink a = {.l = &l}, b = {.l = &l}, s = {.l = &l};
    ad_engine_add_sink(e, &async_ops, &a, NULL);
    ad_engine_add_sink(e, &sync_ops, &s, NULL);
    ad_engine_add_sink(e, &async2_ops, &b, NULL);

    feed_points(e, 2);
    AD_EXPECT_INT(l.taken, ==, 2);
    AD_EXPECT_INT(l.held, ==, 2);
    AD_EXPECT_INT(l.last_low, ==, 31); /* the second spike's own offset */
    AD_EXPECT_STR(l.log, "heeeheee");  /* held before the first emit */
    struct ad_engine_stats st;
    ad_engine_stats(e, &st);
    AD_EXPECT_UINT(st.holds, ==, 2);

    t_complete(&b, AD_ENGINE_DELIVERED); /* the first alert: b first, a later */
    AD_EXPECT_INT(l.held, ==, 2);
    t_complete(&a, AD_ENGINE_DELIVERED);
    AD_EXPECT_INT(l.held, ==, 1);
    AD_EXPECT_INT(l.released_undelivered, ==, 0);
    t_complete(&a, AD_ENGINE_KEPT); /* the second: a keeps its offsets, b drops it */
    AD_EXPECT_INT(l.held, ==, 1);
    t_complete(&b, AD_ENGINE_DROPPED);
    AD_EXPECT_INT(l.held, ==, 0);
    AD_EXPECT_INT(l.released_undelivered, ==, 1);
    AD_EXPECT_STR(l.log, "heeeheeerk"); /* kept wins over dropped */
    ad_engine_stats(e, &st);
    AD_EXPECT_UINT(st.holds, ==, 0);
    AD_EXPECT_UINT(sink_stats(e, "async").failed, ==, 1);
    AD_EXPECT_UINT(sink_stats(e, "async2").delivered, ==, 1);
    AD_EXPECT_UINT(sink_stats(e, "async2").failed, ==, 1);
    AD_EXPECT_UINT(sink_stats(e, "async2").refused, ==, 0);
    ad_engine_free(e);
    ad_config_free(&cfg);
}

/* A sink that reports from inside emit does not release the hold before the
 * later sinks took the line; a sink that refuses the line counts as not
 * delivered; when every async sink refuses, the hold goes at once. */
static void test_inline_and_refused(void)
{
    struct ad_config cfg;
    load(&cfg, point_sets, 1);
    struct ledger l = {0};
    struct ad_engine_ledger led = {l_hold, l_release, l_error, &l};
    struct ad_engine_opts o = {.ledger = &led};
    struct ad_engine *e = make(&cfg, &o);
    struct tsink fast = {.l = &l, .done_inline = true}, slow = {.l = &l};
    ad_engine_add_sink(e, &async_ops, &fast, NULL);
    ad_engine_add_sink(e, &async2_ops, &slow, NULL);
    feed_points(e, 1);
    AD_EXPECT_STR(l.log, "hee");
    AD_EXPECT_INT(l.held, ==, 1);
    t_complete(&slow, AD_ENGINE_DELIVERED);
    AD_EXPECT_STR(l.log, "heer");

    /* Both refuse now: handed back as dropped, nothing pending. */
    fast.fail = AD_ELIMIT;
    slow.fail = AD_ELIMIT;
    push(e, "sim-1", 1763632900000LL, 9000.0, 99);
    AD_EXPECT_STR(l.log, "heerheed");
    AD_EXPECT_INT(l.held, ==, 0);
    AD_EXPECT_UINT(sink_stats(e, "async").pending, ==, 0);
    AD_EXPECT_UINT(sink_stats(e, "async2").refused, ==, 1);
    AD_EXPECT_UINT(sink_stats(e, "async2").failed, ==, 0);

    /* The inline sink delivers, the other refuses: held and handed back
     * within the alert, as dropped. */
    fast.fail = 0;
    slow.fail = AD_ELIMIT;
    push(e, "sim-1", 1763632901000LL, 90000.0, 100);
    AD_EXPECT_STR(l.log, "heerheedheed");
    AD_EXPECT_UINT(sink_stats(e, "async").delivered, ==, 2);
    ad_engine_free(e);
    ad_config_free(&cfg);
}

/* A hold the ledger cannot take is reported to its error hook and never
 * silently lost: without a token the asynchronous sinks do not get the line
 * (counted as failed), the synchronous ones do; a coarse hold (an error with
 * a token) is used like any other. */
static void test_hold_error(void)
{
    struct ad_config cfg;
    load(&cfg, point_sets, 1);
    struct ledger l = {.fail_next = 1, .coarse_next = 1};
    struct ad_engine_ledger led = {l_hold, l_release, l_error, &l};
    struct ad_engine_opts o = {.ledger = &led};
    struct ad_engine *e = make(&cfg, &o);
    struct tsink a = {0}, s = {0};
    ad_engine_add_sink(e, &async_ops, &a, NULL);
    ad_engine_add_sink(e, &sync_ops, &s, NULL);
    feed_points(e, 1); /* no hold */
    AD_EXPECT_INT(l.errors, ==, 1);
    AD_EXPECT_INT(l.last_error, ==, AD_ENOMEM);
    AD_EXPECT_INT(a.emitted, ==, 0);
    AD_EXPECT_INT(s.emitted, ==, 1);
    AD_EXPECT_UINT(sink_stats(e, "async").refused, ==, 1);
    AD_EXPECT_UINT(sink_stats(e, "async").emitted, ==, 1);
    AD_EXPECT_UINT(sink_stats(e, "async").pending, ==, 0);
    push(e, "sim-1", 1763632900000LL, 9000.0, 99); /* a coarse hold */
    AD_EXPECT_INT(l.errors, ==, 2);
    AD_EXPECT_INT(a.emitted, ==, 1);
    AD_EXPECT_INT(l.held, ==, 1);
    struct ad_engine_stats st;
    ad_engine_stats(e, &st);
    AD_EXPECT_UINT(st.hold_errors, ==, 2);
    AD_EXPECT_UINT(st.holds, ==, 1);
    t_complete(&a, AD_ENGINE_DELIVERED);
    AD_EXPECT_INT(l.held, ==, 0);
    AD_EXPECT_STR(l.log, "hr");
    ad_engine_free(e);
    ad_config_free(&cfg);
}

/* ---- the remote stage ------------------------------------------------------------ */

struct fake_remote {
    struct ad_engine *e;
    struct ad_remote_job *jobs[256];
    int njobs, answered, closed;
};

static void f_submit(void *self, struct ad_remote_job *job)
{
    struct fake_remote *f = self;
    AD_EXPECT(f->njobs < 256);
    f->jobs[f->njobs++] = job;
}

static const struct ad_azure_verdict remote_yes = {.is_anomaly = true,
                                                   .is_positive_anomaly = true,
                                                   .period = -1,
                                                   .suggested_window = -1};
static const struct ad_azure_verdict remote_no = {.period = -1, .suggested_window = -1};

static void f_answer(struct fake_remote *f, int i, bool has, bool anomaly)
{
    struct ad_remote_outcome o = {.verdict = !has ? NULL : anomaly ? &remote_yes : &remote_no};
    o.json = !has      ? "\"remote\":{\"status\":\"unavailable\"}"
             : anomaly ? "\"remote\":{\"status\":\"ok\",\"is_anomaly\":true}"
                       : "\"remote\":{\"status\":\"ok\",\"is_anomaly\":false}";
    o.json_len = strlen(o.json);
    struct ad_remote_job *job = f->jobs[i];
    f->jobs[i] = NULL;
    f->answered++;
    ad_engine_remote_done(f->e, job, &o);
}

static void f_close(void *self)
{
    struct fake_remote *f = self;
    f->closed++;
    for (int i = 0; i < f->njobs; i++)
        if (f->jobs[i])
            f_answer(f, i, false, false);
}

static const char *const remote_sets[] = {
    "input.time_format=epoch_ms",
    "windows.tumbling.size=1m",
    "windows.sliding.size=15m",
    "windows.sliding.slide=1m",
    "model.welford.scope=window",
    "model.welford.min_samples=10",
    "remote.anomaly_detector.endpoint=http://127.0.0.1:1",
    NULL, /* mode */
};

/* Two series minute by minute; a spike at minute 20 of series a. */
static void feed_windows(struct ad_engine *e)
{
    for (int m = 0; m < 22; m++) {
        push(e, "a", 1763632800000LL + m * 60000LL, m == 20 ? 90.0 : 20.0 + (m % 3), 2 * m);
        push(e, "b", 1763632800000LL + m * 60000LL, 50.0 + (m % 2), 2 * m + 1);
    }
    ad_pipeline_flush(ad_engine_pipeline(e));
}

struct remote_run {
    struct ad_config cfg;
    struct ledger l;
    struct fake_remote f;
    struct tsink s;
    struct ad_engine *e;
};

static void remote_start(struct remote_run *r, const char *mode, bool fake)
{
    const char *sets[8];
    memcpy(sets, remote_sets, sizeof(sets));
    sets[7] = mode;
    load(&r->cfg, sets, 8);
    struct ad_engine_ledger led = {l_hold, l_release, l_error, &r->l};
    struct ad_engine_remote_ops ro = {f_submit, f_close, &r->f};
    struct ad_engine_opts o = {.ledger = &led, .remote = fake ? &ro : NULL};
    r->e = make(&r->cfg, &o);
    r->f.e = r->e;
    ad_engine_add_sink(r->e, &sync_ops, &r->s, NULL);
    AD_EXPECT(!ad_engine_has_loop(r->e));
}

static void remote_end(struct remote_run *r)
{
    ad_engine_free(r->e);
    AD_EXPECT_INT(r->l.held, ==, 0);
    ad_config_free(&r->cfg);
}

static void test_remote_off(void)
{
    struct remote_run r = {0};
    remote_start(&r, "remote.anomaly_detector.mode=off", true);
    feed_windows(r.e);
    AD_EXPECT_INT(r.f.njobs, ==, 0); /* the fake is never asked with mode off */
    AD_EXPECT_INT(r.s.emitted, >=, 1);
    AD_EXPECT(strstr(r.s.last, "\"remote\"") == NULL);
    AD_EXPECT_INT(r.l.taken, ==, 0);
    remote_end(&r);
    AD_EXPECT_INT(r.f.closed, ==, 0);
}

/* confirm: the locally flagged window waits for the verdict, holding its
 * offsets; the alert goes out with it, then the hold is released. */
static void test_remote_confirm(void)
{
    struct remote_run r = {0};
    remote_start(&r, "remote.anomaly_detector.mode=confirm", true);
    feed_windows(r.e);
    AD_EXPECT_INT(r.f.njobs, ==, 1);
    AD_EXPECT_INT(r.s.emitted, ==, 0);
    AD_EXPECT_INT(r.l.held, ==, 1);
    AD_EXPECT_INT(r.l.last_low, ==, r.f.jobs[0]->low_offset);
    f_answer(&r.f, 0, true, true);
    AD_EXPECT_INT(r.s.emitted, ==, 1);
    AD_EXPECT_CONTAINS(r.s.last, ",\"remote\":{\"status\":\"ok\",\"is_anomaly\":true}}\n");
    AD_EXPECT_INT(r.l.held, ==, 0);
    AD_EXPECT_STR(r.l.log, "hr");
    remote_end(&r);
}

/* always: every sliding window is asked about; stopping answers the pending
 * ones (local verdict stands) and releases their holds. */
static void test_remote_always_stop(void)
{
    struct remote_run r = {0};
    remote_start(&r, "remote.anomaly_detector.mode=always", true);
    feed_windows(r.e);
    AD_EXPECT_INT(r.f.njobs, >, 1);
    AD_EXPECT_INT(r.l.held, ==, r.f.njobs);
    f_answer(&r.f, 0, true, false);
    AD_EXPECT_INT(r.l.held, ==, r.f.njobs - 1);
    ad_engine_stop(r.e);
    AD_EXPECT_INT(r.f.closed, ==, 1);
    AD_EXPECT_INT(r.f.answered, ==, r.f.njobs);
    AD_EXPECT_INT(r.l.held, ==, 0);
    AD_EXPECT_INT(r.s.emitted, >=, 1); /* series a's spike, decided locally */
    AD_EXPECT_CONTAINS(r.s.last, "\"remote\":{\"status\":\"unavailable\"}");
    ad_engine_stop(r.e); /* idempotent */
    AD_EXPECT_INT(r.f.closed, ==, 1);
    remote_end(&r);
}

/* A job whose offsets cannot be held is not sent: decided locally at once. */
static void test_remote_hold_error(void)
{
    struct remote_run r = {0};
    r.l.fail_next = 1000;
    remote_start(&r, "remote.anomaly_detector.mode=confirm", true);
    feed_windows(r.e);
    AD_EXPECT_INT(r.f.njobs, ==, 0);
    AD_EXPECT_INT(r.l.errors, >=, 1);
    AD_EXPECT_INT(r.s.emitted, ==, 1); /* the local verdict stands */
    AD_EXPECT_CONTAINS(r.s.last, "\"remote\":{\"status\":\"unavailable\"}");
    AD_EXPECT_UINT(ad_pipeline_remote_pending(ad_engine_pipeline(r.e)), ==, 0);
    remote_end(&r);
}

/* The real remote stage needs a loop: without one given, the engine runs
 * its own, which the replay pumps; the final pump stops it. */
static void test_own_loop(void)
{
    struct remote_run r = {0};
    remote_start(&r, "remote.anomaly_detector.mode=off", false);
    ad_engine_pump(r.e, true); /* no loop: nothing to do */
    remote_end(&r);

    const char *sets[8];
    memcpy(sets, remote_sets, sizeof(sets));
    sets[7] = "remote.anomaly_detector.mode=confirm";
    struct ad_config cfg;
    load(&cfg, sets, 8);
    struct ad_engine_opts o = {0};
    struct ad_engine *e = make(&cfg, &o);
    AD_EXPECT(ad_engine_has_loop(e));
    struct ad_remote_stats rs;
    AD_EXPECT(ad_engine_remote_stats(e, &rs));
    AD_EXPECT_UINT(rs.requests, ==, 0);
    ad_engine_pump(e, true);
    AD_EXPECT(ad_engine_remote_stats(e, &rs)); /* kept from before the stop */
    ad_engine_free(e);
    ad_config_free(&cfg);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_file_sinks);
    AD_TEST_RUN(argc, argv, test_failing_sink);
    AD_TEST_RUN(argc, argv, test_hold_until_every_sink);
    AD_TEST_RUN(argc, argv, test_inline_and_refused);
    AD_TEST_RUN(argc, argv, test_hold_error);
    AD_TEST_RUN(argc, argv, test_remote_off);
    AD_TEST_RUN(argc, argv, test_remote_confirm);
    AD_TEST_RUN(argc, argv, test_remote_always_stop);
    AD_TEST_RUN(argc, argv, test_remote_hold_error);
    AD_TEST_RUN(argc, argv, test_own_loop);
    return ad_test_done();
}
