/* ad_engine.c - the pipeline, the remote stage and the sink fan-out, wired
 * once (ad_engine.h).
 *
 * An alert goes to every sink in order. When at least one sink is
 * asynchronous, the alert gets a delivery record: one hold in the driver's
 * ledger, the worst outcome so far, and a count of the asynchronous sinks
 * that still owe a report (plus one while the emits run, so that a sink that
 * reports from inside emit cannot hand the hold back before the later sinks
 * took the line). The hold goes back to the ledger when the count reaches
 * zero. */
#include "ad_engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ad_clock.h"
#include "ad_err.h"
#include "ad_http.h"
#include "ad_log.h"
#include "ad_sink.h"

#define ENGINE_MAX_SINKS    8
#define REPLAY_WEBHOOK_WAIT 30000 /* ms the final pump waits for the webhook */

struct ad_engine_sink {
    struct ad_engine *e;
    const struct ad_engine_sink_ops *ops;
    void *self;
    uint64_t emitted, delivered, refused, failed, pending;
    struct ad_log_limit warn_limit; /* refused lines: one logged a minute */
};

struct ad_engine_delivery {
    void *hold;     /* the ledger's token, NULL without a ledger */
    unsigned waits; /* asynchronous sinks yet to report, +1 while emitting */
    enum ad_engine_outcome worst;
};

struct ad_engine {
    const struct ad_config *cfg;
    struct ad_pipeline *pipe;
    struct ad_engine_sink sinks[ENGINE_MAX_SINKS];
    size_t nsinks, nasync;
    bool has_ledger;
    struct ad_engine_ledger ledger;
    uint64_t alerts, hold_errors, holds;
    bool log_failures;

    uv_loop_t own_loop; /* when opts.loop is NULL and a network stage is configured */
    uv_loop_t *loop;
    bool have_own_loop;
    struct ad_http *http;
    struct ad_remote *remote; /* the real remote stage, or NULL */
    bool has_fake_remote;
    struct ad_engine_remote_ops fake;
    bool remote_stats_valid;
    struct ad_remote_stats remote_stats;
    struct ad_webhook *webhook;
    bool stopped;

    /* the file sinks' state */
    FILE *out;
    bool out_flush;
    struct ad_alert_log *alog;
    char *alog_path; /* the path open now (owned) */
    bool alog_sink;  /* the alert log sink was added */
};

/* ---- holds ----------------------------------------------------------------- */

static void hold_error(struct ad_engine *e, int rc)
{
    e->hold_errors++;
    if (e->has_ledger && e->ledger.error)
        e->ledger.error(e->ledger.ud, rc);
}

/* Takes a hold on (topic, partition) from low into *tok (NULL without a
 * ledger). Returns 0, or AD_ENOMEM when nothing could be held (reported). */
static int hold_take(struct ad_engine *e, const char *topic, int32_t partition, int64_t low,
                     void **tok)
{
    *tok = NULL;
    if (!e->has_ledger)
        return 0;
    int rc = e->ledger.hold(e->ledger.ud, topic, partition, low, tok);
    if (rc != 0)
        hold_error(e, rc);
    if (!*tok)
        return AD_ENOMEM;
    e->holds++;
    return 0;
}

static void hold_release(struct ad_engine *e, void *tok, enum ad_engine_outcome outcome)
{
    if (!tok)
        return;
    e->holds--;
    e->ledger.release(e->ledger.ud, tok, outcome);
}

/* Drops one count of d; the last one hands the hold back. */
static void delivery_put(struct ad_engine *e, struct ad_engine_delivery *d)
{
    if (--d->waits > 0)
        return;
    hold_release(e, d->hold, d->worst);
    free(d);
}

static void delivery_note(struct ad_engine_delivery *d, enum ad_engine_outcome o)
{
    if (o > d->worst)
        d->worst = o;
}

void ad_engine_sink_done(struct ad_engine_sink *s, struct ad_engine_delivery *d,
                         enum ad_engine_outcome outcome)
{
    s->pending--;
    if (outcome == AD_ENGINE_DELIVERED)
        s->delivered++;
    else
        s->failed++; /* the sink logs its own failures (a batch dropped, a message) */
    delivery_note(d, outcome);
    delivery_put(s->e, d);
}

/* ---- the fan-out ----------------------------------------------------------- */

/* A sink that fails for one alert usually fails for every alert (a full
 * disk): the first failure is logged, then at most one line a minute says
 * how many more there were. Every one is counted (refused). */
#define SINK_WARN_EVERY_MS 60000

static void sink_refused(struct ad_engine_sink *s, int rc)
{
    s->refused++;
    if (!s->e->log_failures)
        return;
    uint64_t left;
    if (!ad_log_limit_allow(&s->warn_limit, ad_clock_mono_ms(), 1, SINK_WARN_EVERY_MS, &left))
        return;
    if (left)
        AD_WARN("sink",
                "while writing an alert to %s: %s (%llu more failed since the last warning)",
                s->ops->name, ad_strerror(rc), (unsigned long long)left);
    else
        AD_WARN("sink",
                "while writing an alert to %s: %s (further failures are summarized every "
                "minute)",
                s->ops->name, ad_strerror(rc));
}

/* Hands the line to s; an asynchronous sink only with a delivery record (d
 * NULL: its offsets could not be held, so it is not sent). */
static void emit_one(struct ad_engine_sink *s, const struct ad_alert *a, const char *line,
                     size_t len, struct ad_engine_delivery *d)
{
    int rc;
    s->emitted++;
    if (!s->ops->async) {
        rc = s->ops->emit(s->self, s, a, line, len, NULL);
        if (rc == 0)
            s->delivered++;
        else
            sink_refused(s, rc);
        return;
    }
    if (!d) {
        sink_refused(s, AD_ENOMEM);
        return;
    }
    s->pending++;
    d->waits++;
    rc = s->ops->emit(s->self, s, a, line, len, d);
    if (rc != 0) {
        sink_refused(s, rc);
        s->pending--;
        d->waits--; /* the emit guard keeps it above zero */
        delivery_note(d, AD_ENGINE_DROPPED);
    }
}

/* The delivery record of an alert with its hold, or NULL (reported). */
static struct ad_engine_delivery *delivery_new(struct ad_engine *e, const struct ad_alert *a)
{
    struct ad_engine_delivery *d = malloc(sizeof(*d));
    if (!d) {
        hold_error(e, AD_ENOMEM);
        return NULL;
    }
    *d = (struct ad_engine_delivery){.waits = 1, .worst = AD_ENGINE_DELIVERED};
    if (hold_take(e, a->topic, a->partition, a->low_offset, &d->hold) != 0) {
        free(d);
        return NULL;
    }
    return d;
}

static void on_alert(void *ud, const struct ad_alert *a, const char *line, size_t len)
{
    struct ad_engine *e = ud;
    struct ad_engine_delivery *d = e->nasync ? delivery_new(e, a) : NULL;

    e->alerts++;
    for (size_t i = 0; i < e->nsinks; i++)
        emit_one(&e->sinks[i], a, line, len, d);
    if (d)
        delivery_put(e, d);
}

int ad_engine_add_sink(struct ad_engine *e, const struct ad_engine_sink_ops *ops, void *self,
                       struct ad_engine_sink **out)
{
    if (e->nsinks == ENGINE_MAX_SINKS)
        return AD_ENOMEM;
    struct ad_engine_sink *s = &e->sinks[e->nsinks++];
    *s = (struct ad_engine_sink){.e = e, .ops = ops, .self = self};
    if (ops->async)
        e->nasync++;
    if (out)
        *out = s;
    return 0;
}

/* ---- the built-in sinks ------------------------------------------------------ */

static int out_emit(void *self, struct ad_engine_sink *s, const struct ad_alert *a,
                    const char *line, size_t len, struct ad_engine_delivery *d)
{
    struct ad_engine *e = self;
    (void)s, (void)a, (void)d;
    if (fwrite(line, 1, len, e->out) != len)
        return AD_EIO;
    if (e->out_flush && fflush(e->out) != 0)
        return AD_EIO;
    return 0;
}

static const struct ad_engine_sink_ops out_ops = {.name = "stdout", .emit = out_emit};

static int alog_emit(void *self, struct ad_engine_sink *s, const struct ad_alert *a,
                     const char *line, size_t len, struct ad_engine_delivery *d)
{
    struct ad_engine *e = self;
    (void)s, (void)a, (void)d;
    return e->alog ? ad_alert_log_write(e->alog, line, len) : 0;
}

static const struct ad_engine_sink_ops alog_ops = {.name = "alert_log", .emit = alog_emit};

static int webhook_emit(void *self, struct ad_engine_sink *s, const struct ad_alert *a,
                        const char *line, size_t len, struct ad_engine_delivery *d)
{
    struct ad_engine *e = self;
    (void)s, (void)line, (void)len;
    if (!e->webhook)
        return AD_ESTATE; /* stopped */
    return ad_webhook_add_alert(e->webhook, a, d);
}

static const struct ad_engine_sink_ops webhook_ops = {.name = "webhook",
                                                      .async = true,
                                                      .emit = webhook_emit};

/* The webhook's ack: the row's delivery is the token. A row the endpoint
 * refused (4xx) is dropped for good; one still undelivered when the engine
 * stops keeps its offsets held. */
static void webhook_ack(void *ud, void *token, bool delivered)
{
    struct ad_engine_sink *s = ud;
    ad_engine_sink_done(s, token,
                        delivered       ? AD_ENGINE_DELIVERED
                        : s->e->stopped ? AD_ENGINE_KEPT
                                        : AD_ENGINE_DROPPED);
}

/* ---- the remote stage ------------------------------------------------------- */

static void remote_job(void *ud, struct ad_remote_job *job)
{
    struct ad_engine *e = ud;
    void *hold;
    if (hold_take(e, job->topic, job->partition, job->low_offset, &hold) != 0) {
        /* Its offsets cannot be held while it is out: the local verdict
         * decides now, as when the detector is unavailable. */
        struct ad_remote_outcome o = {.json = "\"remote\":{\"status\":\"unavailable\"}"};
        o.json_len = strlen(o.json);
        ad_pipeline_remote_done(e->pipe, job, &o);
        return;
    }
    job->adapter = hold;
    if (e->remote)
        ad_remote_submit(e->remote, job);
    else
        e->fake.submit(e->fake.self, job);
}

void ad_engine_remote_done(void *ud, struct ad_remote_job *job, const struct ad_remote_outcome *o)
{
    struct ad_engine *e = ud;
    void *hold = job->adapter;
    ad_pipeline_remote_done(e->pipe, job, o); /* emits its alert, frees the job */
    hold_release(e, hold, AD_ENGINE_DELIVERED);
}

/* ---- assembly ---------------------------------------------------------------- */

static int open_alert_log(struct ad_engine *e, const char *path, char *err, size_t errlen)
{
    char why[512];
    struct ad_alert_log *log = NULL;
    char *copy = NULL;
    int rc = 0;

    if (path[0]) {
        rc = ad_alert_log_open(path, &log, why, sizeof(why));
        if (rc) {
            snprintf(err, errlen, "sinks.alert_log.path: while opening the alert log: %s", why);
            return rc;
        }
    }
    copy = strdup(path);
    if (!copy) {
        ad_alert_log_close(log);
        snprintf(err, errlen, "alert log: out of memory");
        return AD_ENOMEM;
    }
    ad_alert_log_close(e->alog);
    free(e->alog_path);
    e->alog = log;
    e->alog_path = copy;
    return 0;
}

static int start_network(struct ad_engine *e, const struct ad_engine_opts *o, char *err,
                         size_t errlen)
{
    const struct ad_config *cfg = e->cfg;
    bool remote = cfg->remote.mode != AD_REMOTE_OFF && !o->remote;
    int rc;

    if (o->remote && cfg->remote.mode != AD_REMOTE_OFF) {
        e->fake = *o->remote;
        e->has_fake_remote = true;
        ad_pipeline_on_remote(e->pipe, remote_job, e);
    }
    if (!remote && !cfg->sinks.webhook_url[0])
        return 0;
    e->loop = o->loop;
    if (!e->loop) {
        if (uv_loop_init(&e->own_loop) != 0) {
            snprintf(err, errlen, "while starting the event loop");
            return AD_EIO;
        }
        e->have_own_loop = true;
        e->loop = &e->own_loop;
    }
    rc = ad_http_new(e->loop, &e->http);
    if (rc) {
        snprintf(err, errlen, "while starting the HTTP client: %s", ad_strerror(rc));
        return rc;
    }
    if (remote) {
        struct ad_remote_opts ro = {e->loop, e->http, cfg, ad_engine_remote_done, e};
        rc = ad_remote_new(&ro, &e->remote, err, errlen);
        if (rc)
            return rc;
        ad_pipeline_on_remote(e->pipe, remote_job, e);
    }
    if (cfg->sinks.webhook_url[0]) {
        struct ad_engine_sink *ws;
        if (ad_engine_add_sink(e, &webhook_ops, e, &ws) != 0) {
            snprintf(err, errlen, "too many sinks");
            return AD_ENOMEM;
        }
        struct ad_webhook_opts wo = {e->loop, e->http, cfg, webhook_ack, ws};
        rc = ad_webhook_new(&wo, &e->webhook, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

int ad_engine_new(const struct ad_config *cfg, const struct ad_engine_opts *o,
                  struct ad_engine **out, char *err, size_t errlen)
{
    struct ad_engine *e = calloc(1, sizeof(*e));
    char why[512];
    int rc;

    if (!e) {
        snprintf(err, errlen, "out of memory");
        return AD_ENOMEM;
    }
    e->cfg = cfg;
    e->log_failures = o->log_failures;
    if (o->ledger) {
        e->ledger = *o->ledger;
        e->has_ledger = true;
    }
    struct ad_pipeline_cfg pc;
    ad_config_to_pipeline(cfg, &pc);
    rc = ad_pipeline_new(&pc, &e->pipe, err, errlen);
    if (rc)
        goto err;
    if (cfg->model.import[0]) {
        rc = ad_pipeline_import(e->pipe, cfg->model.import, why, sizeof(why));
        if (rc) {
            snprintf(err, errlen, "model.import: %s", why);
            rc = AD_ECONFIG;
            goto err;
        }
    }
    ad_pipeline_on_alert(e->pipe, on_alert, e);
    if (o->out) {
        e->out = o->out;
        e->out_flush = o->out_flush;
        ad_engine_add_sink(e, &out_ops, e, NULL);
    }
    if (o->alert_log) {
        rc = open_alert_log(e, cfg->sinks.alert_log_path, err, errlen);
        if (rc)
            goto err;
        ad_engine_add_sink(e, &alog_ops, e, NULL);
        e->alog_sink = true;
    }
    rc = start_network(e, o, err, errlen);
    if (rc)
        goto err;
    *out = e;
    return 0;
err:
    ad_engine_free(e);
    return rc;
}

struct ad_pipeline *ad_engine_pipeline(struct ad_engine *e)
{
    return e->pipe;
}

bool ad_engine_has_loop(const struct ad_engine *e)
{
    return e->have_own_loop;
}

/* ---- running and stopping ----------------------------------------------------- */

void ad_engine_pump(void *ud, bool final)
{
    struct ad_engine *e = ud;
    if (!e->have_own_loop)
        return;
    uv_run(e->loop, UV_RUN_NOWAIT);
    size_t limit = final ? 0 : 4 * (size_t)e->cfg->remote.max_in_flight;
    while (ad_pipeline_remote_pending(e->pipe) > limit)
        uv_run(e->loop, UV_RUN_ONCE);
    if (!final)
        return;
    if (e->webhook) {
        ad_webhook_flush(e->webhook);
        uint64_t deadline = uv_now(e->loop) + REPLAY_WEBHOOK_WAIT;
        while (ad_webhook_pending(e->webhook) && uv_now(e->loop) < deadline) {
            uv_run(e->loop, UV_RUN_ONCE);
            uv_update_time(e->loop);
        }
    }
    ad_engine_stop(e);
    uv_run(e->loop, UV_RUN_DEFAULT);
}

void ad_engine_stop(struct ad_engine *e)
{
    if (e->stopped)
        return;
    e->stopped = true;
    /* The remote first: its pending windows emit their alerts to the sinks,
     * the webhook included, before the webhook stops. */
    if (e->remote) {
        ad_remote_stats(e->remote, &e->remote_stats);
        e->remote_stats_valid = true;
        ad_remote_close(e->remote);
        e->remote = NULL;
    } else if (e->has_fake_remote) {
        e->fake.close(e->fake.self);
    }
    if (e->webhook) {
        struct ad_webhook *w = e->webhook;
        ad_webhook_close(w); /* acknowledges what is left as not delivered */
        e->webhook = NULL;
    }
    if (e->http)
        ad_http_close(e->http);
    e->http = NULL;
}

int ad_engine_set_alert_log(struct ad_engine *e, const char *path, char *err, size_t errlen)
{
    if (!e->alog_sink) {
        snprintf(err, errlen, "the engine has no alert log sink");
        return AD_ESTATE;
    }
    if (strcmp(path, e->alog_path) == 0)
        return 0; /* the same file: kept open */
    return open_alert_log(e, path, err, errlen) == 0 ? 0 : AD_EIO;
}

int ad_engine_reopen(struct ad_engine *e, char *err, size_t errlen)
{
    return e->alog ? ad_alert_log_reopen(e->alog, err, errlen) : 0;
}

/* ---- stats -------------------------------------------------------------------- */

void ad_engine_stats(const struct ad_engine *e, struct ad_engine_stats *out)
{
    *out = (struct ad_engine_stats){.alerts = e->alerts,
                                    .hold_errors = e->hold_errors,
                                    .holds = e->holds,
                                    .nsinks = e->nsinks};
}

int ad_engine_sink_stats(const struct ad_engine *e, size_t i, struct ad_engine_sink_stats *out)
{
    if (i >= e->nsinks)
        return AD_ENOENT;
    const struct ad_engine_sink *s = &e->sinks[i];
    *out = (struct ad_engine_sink_stats){.name = s->ops->name,
                                         .emitted = s->emitted,
                                         .delivered = s->delivered,
                                         .refused = s->refused,
                                         .failed = s->failed,
                                         .pending = s->pending};
    return 0;
}

int ad_engine_sink_stats_by_name(const struct ad_engine *e, const char *name,
                                 struct ad_engine_sink_stats *out)
{
    for (size_t i = 0; i < e->nsinks; i++)
        if (strcmp(e->sinks[i].ops->name, name) == 0)
            return ad_engine_sink_stats(e, i, out);
    return AD_ENOENT;
}

bool ad_engine_remote_stats(const struct ad_engine *e, struct ad_remote_stats *out)
{
    if (e->remote)
        ad_remote_stats(e->remote, out);
    else if (e->remote_stats_valid)
        *out = e->remote_stats;
    else
        return false;
    return true;
}

bool ad_engine_alert_log_failing(const struct ad_engine *e)
{
    return e->alog && ad_alert_log_failing(e->alog);
}

bool ad_engine_webhook_stats(const struct ad_engine *e, struct ad_webhook_stats *out)
{
    if (!e->webhook)
        return false;
    ad_webhook_stats(e->webhook, out);
    return true;
}

void ad_engine_free(struct ad_engine *e)
{
    if (!e)
        return;
    ad_engine_stop(e);
    if (e->have_own_loop) {
        uv_run(e->loop, UV_RUN_DEFAULT); /* the close callbacks of remote, webhook, http */
        uv_loop_close(e->loop);
    }
    for (size_t i = 0; i < e->nsinks; i++)
        if (e->sinks[i].ops->close)
            e->sinks[i].ops->close(e->sinks[i].self);
    ad_alert_log_close(e->alog);
    free(e->alog_path);
    ad_pipeline_free(e->pipe);
    free(e);
}
