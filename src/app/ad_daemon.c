/* ad_daemon.c - Kafka in, pipeline, sinks out, on one libuv loop: the
 * wiring and the lifecycle.
 *
 * The parts live in modules of their own: the offset ledger (ad_ledger.h),
 * Kafka in and out (ad_kafka_in.h, ad_kafka_out.h), the engine (ad_engine.h:
 * the pipeline, the remote stage, stdout, the alert log, the webhook), the
 * Kafka topics as its sink (ad_kafka_sink.h), the checkpoint scheduler
 * (ad_ckpt_sched.c) and the metrics (ad_daemon_metrics.c). The daemon adds
 * the offset ledger behind the engine's holds. Every callback runs on the
 * loop thread. */
#include "ad_daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ad_apiserve.h"
#include "ad_checkpoint.h"
#include "ad_clock.h"
#include "ad_config_preflight.h"
#include "ad_daemon_int.h"
#include "ad_engine.h"
#include "ad_err.h"
#include "ad_dash.h"
#include "ad_httpd.h"
#include "ad_kafka_client.h"
#include "ad_kafka_sink.h"
#include "ad_log.h"
#include "ad_notify.h"
#include "ad_pipeline.h"
#include "ad_spill.h"
#include "ad_state.h"
#include "ad_statetopic.h"

#define TICK_MS            1000
#define FLUSH_TIMEOUT_MS   5000
#define REJECTS_SUMMARY_MS 60000 /* per-record problems: one summary a minute */
#define LOST_REPORT_MS     60000 /* data lost for want of memory: a report a minute at most */
#define REJECTS_LOGGED     10    /* per-record problems logged one by one, then summarized */

/* ---- partitions and offsets ------------------------------------------------------ */

struct tpart *ad_daemon_tp_find(struct ad_daemon *d, const char *topic, int32_t partition)
{
    struct ad_ledger_part *p = ad_ledger_find(&d->ledger, topic, partition);
    return p ? p->ud : NULL;
}

struct tpart *ad_daemon_tp_by_id(struct ad_daemon *d, uint32_t id)
{
    struct ad_ledger_part *p = ad_ledger_by_id(&d->ledger, id);
    return p ? p->ud : NULL;
}

static struct ad_tally *tally_get(struct ad_daemon *d, const char *topic, int32_t partition)
{
    for (struct ad_tally *y = d->tallies; y; y = y->next)
        if (y->partition == partition && !strcmp(y->topic, topic))
            return y;
    struct ad_tally *y = calloc(1, sizeof(*y));
    if (!y || !(y->topic = strdup(topic))) {
        free(y);
        return NULL;
    }
    y->partition = partition;
    y->next = d->tallies;
    d->tallies = y;
    return y;
}

static struct tpart *tp_add(struct ad_daemon *d, const char *topic, int32_t partition)
{
    struct ad_ledger_part *p;
    if (ad_ledger_add(&d->ledger, topic, partition, &p) != 0)
        return NULL;
    if (p->ud)
        return p->ud;
    struct tpart *t = calloc(1, sizeof(*t));
    if (!t) {
        ad_ledger_remove(&d->ledger, p);
        return NULL;
    }
    t->lp = p;
    t->tally = tally_get(d, topic, partition);
    t->lag = -1;
    t->ckpt_offset = -1;
    t->state_full = true;
    p->ud = t;
    return t;
}

static void tp_remove(struct ad_daemon *d, struct tpart *t)
{
    ad_ledger_remove(&d->ledger, t->lp);
    free(t);
}

int64_t ad_daemon_tp_safe(struct ad_daemon *d, struct tpart *t)
{
    return ad_ledger_safe(t->lp, ad_pipeline_low_offset(d->pipe, t->lp->topic, t->lp->partition));
}

bool ad_daemon_ckpt_current(const struct ad_daemon *d)
{
    for (const struct ad_ledger_part *p = d->ledger.parts; p; p = p->next) {
        const struct tpart *t = p->ud;
        if (t &&
            (t->consumed != t->ckpt_consumed || t->ckpt_owed || (d->state_reader && t->state_full)))
            return false;
    }
    return true;
}

void ad_daemon_store_offsets(struct ad_daemon *d, struct tpart *only)
{
    size_t n = 0;
    if (!d->ledger.nparts)
        return;
    struct ad_kafka_offset *v = malloc(d->ledger.nparts * sizeof(*v));
    if (!v)
        return; /* stored at the next tick */
    for (struct ad_ledger_part *p = d->ledger.parts; p; p = p->next) {
        struct tpart *t = p->ud;
        if (only && t != only)
            continue;
        /* With checkpoints, commit only what a durable checkpoint covers. */
        int64_t cap = d->checkpoints ? t->ckpt_offset : INT64_MAX;
        int64_t off = ad_ledger_advance(p, ad_pipeline_low_offset(d->pipe, p->topic, p->partition),
                                        cap);
        if (off >= 0)
            v[n++] = (struct ad_kafka_offset){p->topic, p->partition, off};
    }
    ad_kafka_in_store(d->in, v, n);
    free(v);
}

void ad_daemon_released(struct ad_daemon *d, struct ad_ledger_part *p)
{
    struct tpart *t = p->ud;
    if (t && t->ckpt == AD_CKPT_WANTED && !d->stopping)
        ad_ckpt_start(d, t);
}

/* ---- the engine: the ledger behind its holds, the daemon's own hooks ---------------- */

/* A hold travels through the engine in a box. One the ledger could record
 * only coarsely still holds (AD_ENOMEM with the box set). */
static int ledger_hold(void *ud, const char *topic, int32_t partition, int64_t low, void **token)
{
    struct ad_daemon *d = ud;
    struct ad_ledger_hold *b = malloc(sizeof(*b));
    if (!b)
        return AD_ENOMEM;
    *token = b;
    return ad_ledger_hold(&d->ledger, topic, partition, low, b);
}

/* Delivered, or dropped for good (a 4xx, a refusal): its offsets may be
 * committed, and a checkpoint waiting for them may start. Kept: they stay
 * uncommitted. */
static void ledger_release(void *ud, void *token, enum ad_engine_outcome outcome)
{
    struct ad_daemon *d = ud;
    if (outcome != AD_ENGINE_KEPT) {
        struct ad_ledger_part *p = ad_ledger_release(&d->ledger, token);
        if (p)
            ad_daemon_released(d, p);
    }
    free(token);
}

static void ledger_error(void *ud, int rc)
{
    struct ad_daemon *d = ud;
    (void)rc;
    if (d->hold_errors++ == 0)
        AD_ERROR("daemon", "out of memory while recording an output: its offsets stay held "
                           "until every such output is done (further ones are not logged)");
}

/* Counts alerts by detector and direction (metrics). */
static int count_emit(void *self, struct ad_engine_sink *sink, const struct ad_alert *a,
                      const char *line, size_t len, struct ad_engine_delivery *delivery)
{
    struct ad_daemon *d = self;
    (void)sink, (void)line, (void)len, (void)delivery;
    if ((unsigned)a->detector < AD_DETECTOR_COUNT)
        d->alerts_by[a->detector][a->direction == AD_DIR_NEGATIVE]++;
    return 0;
}

static const struct ad_engine_sink_ops count_ops = {.name = "count", .emit = count_emit};

static void on_reject(void *ud, const void *buf, size_t len, const struct ad_record_meta *meta,
                      const char *reason)
{
    struct ad_daemon *d = ud;
    if (d->rejects_logged < REJECTS_LOGGED) {
        d->rejects_logged++;
        const struct ad_log_field f[] = {{"reason", reason, 0},
                                         {"topic", meta->topic, 0},
                                         {"partition", NULL, meta->partition},
                                         {"offset", NULL, meta->offset},
                                         {"bytes", NULL, (long long)len}};
        AD_LOGF(AD_LOG_WARN, "decode", f, 5,
                "record rejected: reason=%s source=%s[%d]@%lld bytes=%zu%s", reason, meta->topic,
                (int)meta->partition, (long long)meta->offset, len,
                d->rejects_logged == REJECTS_LOGGED ? " (further ones are summarized every minute)"
                                                    : "");
    } else {
        d->rejects_since++;
    }
    ad_kafka_sink_dead_letter(d->ksink, buf, len, meta, reason);
}

/* The engine from the config (pipeline, model import, remote stage, stdout,
 * the alert log, the webhook) with the ledger, the alert counts and the
 * reject hook; the Kafka topic joins it once Kafka out is up. */
static int engine_open(struct ad_daemon *d, char *err, size_t errlen)
{
    const struct ad_engine_ledger ledger = {ledger_hold, ledger_release, ledger_error, d};
    const struct ad_engine_opts o = {
        .loop = d->loop,
        .out = d->opts.alerts_to_stdout ? stdout : NULL,
        .out_flush = true,
        .alert_log = true,
        .log_failures = true,
        .ledger = &ledger,
    };
    int rc = ad_engine_new(d->cfg, &o, &d->engine, err, errlen);
    if (rc)
        return rc;
    d->pipe = ad_engine_pipeline(d->engine);
    ad_pipeline_on_reject(d->pipe, on_reject, d);
    rc = ad_engine_add_sink(d->engine, &count_ops, d, NULL);
    if (rc)
        snprintf(err, errlen, "while adding the daemon's sinks: %s", ad_strerror(rc));
    return rc;
}

/* ---- Kafka in's callbacks ---------------------------------------------------------- */

static void in_rebalance(void *ud, bool assigned)
{
    struct ad_daemon *d = ud;
    d->rebalances++;
    d->cluster_asked = false; /* asked again (once) at this assignment's first partition */
    if (assigned && !d->ready_sent) {
        ad_notify("READY=1\nSTATUS=consuming");
        d->ready_sent = true;
    }
}

/* The source cluster's id, once: it goes into every checkpoint, and a
 * checkpoint of another cluster is not restored. Asked at most once per
 * rebalance (rd_kafka_clusterid may wait AD_DAEMON_CLUSTER_WAIT_MS), before
 * the assignment's first restore. */
static void learn_cluster(struct ad_daemon *d)
{
    char id[sizeof(d->cluster_id)];
    if (d->cluster_id[0] || !d->checkpoints)
        return;
    if (ad_kafka_in_cluster_id(d->in, 0, id, sizeof(id)) != 0 &&
        ad_kafka_in_cluster_id(d->in, AD_DAEMON_CLUSTER_WAIT_MS, id, sizeof(id)) != 0) {
        AD_WARN("state", "the cluster id is not known yet: checkpoints are checked against "
                         "the consumer group only");
        return;
    }
    snprintf(d->cluster_id, sizeof(d->cluster_id), "%s", id);
    ad_pipeline_set_identity(d->pipe, d->cluster_id, d->cfg->kafka.group);
    AD_INFO("state", "state of cluster %s, group %s", d->cluster_id, d->cfg->kafka.group);
}

static int64_t in_assign(void *ud, const char *topic, int32_t partition)
{
    struct ad_daemon *d = ud;
    if (!d->cluster_asked) {
        d->cluster_asked = true;
        learn_cluster(d);
    }
    struct tpart *t = tp_add(d, topic, partition);
    int64_t off = t && d->checkpoints ? ad_ckpt_restore(d, t) : -1;
    if (off >= 0) {
        /* Resume exactly where the checkpoint's state ends. */
        t->ckpt_offset = off;
        t->lp->next_off = off; /* stored (and committed) at the next tick */
    }
    return off;
}

static void in_revoke(void *ud, const char *topic, int32_t partition, bool lost)
{
    struct ad_daemon *d = ud;
    struct tpart *t = ad_daemon_tp_find(d, topic, partition);
    if (t && !lost) {
        ad_ckpt_sync(d, t);
        ad_daemon_store_offsets(d, t);
    }
}

static void in_revoked(void *ud, const char *topic, int32_t partition)
{
    struct ad_daemon *d = ud;
    struct tpart *t = ad_daemon_tp_find(d, topic, partition);
    ad_pipeline_drop_partition(d->pipe, topic, partition);
    if (t)
        tp_remove(d, t);
}

/* The pipeline lost points, series states or outputs for want of memory
 * while t's record at low (or, t NULL, on a tick) was processed: the
 * offsets from there on are never committed or checkpointed while the
 * partition stays assigned (the ledger's pin), so that they are consumed
 * again after a restart or a rebalance. Logged at once per partition, then
 * at most every LOST_REPORT_MS. */
static void lost_points(struct ad_daemon *d, struct tpart *t, int64_t low)
{
    for (struct ad_ledger_part *p = d->ledger.parts; p; p = p->next) {
        if ((t && p != t->lp) || !ad_ledger_pin(p, t ? low : -1))
            continue;
        AD_ERROR("pipeline",
                 "%s[%d]: data lost for want of memory%s: its offset is not committed past "
                 "%lld while it stays assigned, so that it is consumed again from there after a "
                 "restart (restart once memory is available; anomalyd_points_lost_total)",
                 p->topic, (int)p->partition, t ? "" : " on a timer",
                 (long long)(p->pinned >= 0 ? p->pinned : p->stored));
    }
    uint64_t n = ad_pipeline_nomem(d->pipe);
    if (n != d->lost_logged &&
        ad_log_limit_allow(&d->lost_limit, (int64_t)uv_now(d->loop), 1, LOST_REPORT_MS, NULL)) {
        AD_ERROR("pipeline",
                 "%llu points, series states or outputs lost for want of memory so far (%llu "
                 "since the last report)",
                 (unsigned long long)n, (unsigned long long)(n - d->lost_logged));
        d->lost_logged = n;
    }
}

static void in_record(void *ud, const void *buf, size_t len, const struct ad_record_meta *meta)
{
    struct ad_daemon *d = ud;
    struct tpart *t = ad_daemon_tp_find(d, meta->topic, meta->partition);
    if (!t)
        t = tp_add(d, meta->topic, meta->partition);
    d->consumed++;
    if (t && t->tally)
        t->tally->consumed++;
    if (t && t->consumed++ == 0 && t->ckpt_offset >= 0 && meta->offset < t->ckpt_offset)
        AD_WARN("state",
                "%s[%d] restarts at offset %lld, before its checkpoint's %lld: the log was "
                "truncated or recreated; the restored models may not belong to it",
                meta->topic, (int)meta->partition, (long long)meta->offset,
                (long long)t->ckpt_offset);
    uint64_t lost = ad_pipeline_nomem(d->pipe);
    int64_t low = ad_pipeline_low_offset(d->pipe, meta->topic, meta->partition);
    ad_pipeline_push(d->pipe, buf, len, meta, (int64_t)uv_now(d->loop));
    if (t)
        ad_ledger_processed(t->lp, meta->offset);
    if (ad_pipeline_nomem(d->pipe) != lost && t)
        lost_points(d, t, low >= 0 && low < meta->offset ? low : meta->offset);
}

static void in_lag(void *ud, const char *topic, int32_t partition, int64_t lag)
{
    struct tpart *t = ad_daemon_tp_find(ud, topic, partition);
    if (t)
        t->lag = lag;
}

static void on_fatal(void *ud)
{
    struct ad_daemon *d = ud;
    d->status = 1;
    ad_daemon_stop(d);
}

/* Kafka out's back-pressure: the consumer waits while the producer is full. */
static void out_flow(void *ud, enum ad_kafka_out_flow f)
{
    struct ad_daemon *d = ud;
    if (!d->in)
        return;
    if (f == AD_KAFKA_OUT_BLOCKED)
        ad_kafka_in_pause(d->in, true);
    else if (f == AD_KAFKA_OUT_STILL_BLOCKED)
        ad_kafka_in_pause_check(d->in);
    else
        ad_kafka_in_pause(d->in, false);
}

/* ---- the tick, the watchdog, signals ---------------------------------------------- */

static void on_tick(uv_timer_t *h)
{
    struct ad_daemon *d = h->data;
    ad_kafka_in_drain(d->in);
    ad_kafka_out_poll(d->out);
    uint64_t lost = ad_pipeline_nomem(d->pipe);
    ad_pipeline_tick(d->pipe, (int64_t)uv_now(d->loop));
    if (ad_pipeline_nomem(d->pipe) != lost)
        lost_points(d, NULL, -1);
    ad_daemon_store_offsets(d, NULL);
    if (d->checkpoints && ad_daemon_ckpt_current(d)) /* anomalyd_checkpoint_age_seconds */
        d->ckpt_current_at = ad_clock_wall_us() / 1000000;
    if (d->rejects_since && uv_now(d->loop) - d->rejects_summary_ms >= REJECTS_SUMMARY_MS) {
        AD_WARN("decode",
                "%llu more records rejected since the last report "
                "(by reason: anomalyd_records_rejected_total)",
                (unsigned long long)d->rejects_since);
        d->rejects_since = 0;
        d->rejects_summary_ms = uv_now(d->loop);
    }
    if (!d->ready_sent && ad_clock_wall_us() / 1000000 - d->start_time >= 10) {
        /* Subscribed and polling, but the group gave us nothing (yet). */
        ad_notify("READY=1\nSTATUS=consuming, no partitions assigned yet");
        d->ready_sent = true;
    }
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    ad_notify("WATCHDOG=1");
}

/* Applies what a reload may change: the log level, the scoring settings,
 * the alert log's path. */
static void reload_apply(struct ad_daemon *d, const struct ad_config *nc)
{
    char err[1024];
    struct ad_pipeline_cfg pc;
    ad_log_set_level(nc->log_level);
    ad_log_set_format(nc->log_format);
    ad_config_to_pipeline(nc, &pc);
    ad_pipeline_reload_score(d->pipe, &pc.score);
    if (ad_engine_set_alert_log(d->engine, nc->sinks.alert_log_path, err, sizeof(err)) != 0)
        AD_ERROR("sink", "%s; keeping the old one", err);
    d->reloads++;
    AD_INFO("daemon",
            "config reloaded from %s (log.level, log.format, model.welford.* and "
            "sinks.alert_log.path applied; other changes need a restart)",
            d->opts.config_path);
}

/* A SIGHUP reload: the file is read and parsed on the thread pool, so that a
 * large or slow file does not stall the loop (/healthz, the watchdog, Kafka);
 * the result is applied on the loop. The job reads only d->opts, which does
 * not change after the start. */
struct ad_reload_job {
    uv_work_t req;
    struct ad_daemon *d;
    struct ad_config nc;
    bool inited;
    int rc;
    char err[1024];
};

static void reload_work(uv_work_t *req)
{
    struct ad_reload_job *j = req->data;
    const struct ad_daemon_opts *o = &j->d->opts;
    int rc = ad_config_init(&j->nc);
    j->inited = rc == 0;
    if (rc)
        snprintf(j->err, sizeof(j->err), "%s", ad_strerror(rc));
    if (rc == 0 && o->config_path)
        rc = ad_config_load_file(&j->nc, o->config_path, j->err, sizeof(j->err));
    for (size_t i = 0; rc == 0 && i < o->nsets; i++)
        rc = ad_config_set(&j->nc, o->sets[i], j->err, sizeof(j->err));
    if (rc == 0)
        rc = ad_config_validate(&j->nc, j->err, sizeof(j->err));
    j->rc = rc;
}

static void reload(struct ad_daemon *d);

static void reload_done(uv_work_t *req, int status)
{
    struct ad_reload_job *j = req->data;
    struct ad_daemon *d = j->d;
    d->reload_job = NULL;
    if (!d->stopping && status == 0) {
        if (j->rc) {
            d->reload_failures++;
            AD_ERROR("daemon", "while reloading the config: %s; keeping the running config",
                     j->err);
        } else if (d->opts.config_path) {
            reload_apply(d, &j->nc);
        }
    }
    if (j->inited)
        ad_config_free(&j->nc);
    free(j);
    if (d->stopping)
        return;
    ad_notify("READY=1");
    if (d->reload_again) {
        d->reload_again = false;
        reload(d);
    }
}

/* SIGHUP: reopen the alert log now, and start reloading what can be
 * reloaded (one reload at a time). */
static void reload(struct ad_daemon *d)
{
    char err[1024];
    struct ad_reload_job *j;

    if (ad_engine_reopen(d->engine, err, sizeof(err)) != 0)
        AD_ERROR("sink", "while reopening the alert log: %s", err);
    if (d->reload_job) {
        d->reload_again = true;
        return;
    }
    ad_notify("RELOADING=1");
    j = calloc(1, sizeof(*j));
    if (j) {
        j->d = d;
        j->req.data = j;
        if (uv_queue_work(d->loop, &j->req, reload_work, reload_done) == 0) {
            d->reload_job = j;
            return;
        }
        free(j);
    }
    d->reload_failures++;
    AD_ERROR("daemon", "while reloading the config: cannot start the reload; keeping the "
                       "running config");
    ad_notify("READY=1");
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct ad_daemon *d = h->data;
    if (signum == SIGHUP) {
        reload(d);
        return;
    }
    AD_INFO("daemon", "received %s, stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    ad_daemon_stop(d);
}

/* ---- state.dir and state.topic ------------------------------------------------------ */

/* The evicted series' store: state.dir/evicted.mdb, or when another
 * instance sharing state.dir holds that one, state.dir/spill-N/evicted.mdb
 * (each store belongs to one process at a time). */
static int spill_open(struct ad_daemon *d, char *err, size_t errlen)
{
    const char *sd = d->cfg->state_dir;
    char dir[4096], path[4200], aside[4300], e[512];
    int rc = ad_spill_open(sd, &d->spill, e, sizeof(e));
    for (int i = 1; rc == AD_EIO && strstr(e, "in use") && i <= AD_STATE_SPILL_DIRS; i++) {
        AD_WARN("state", "%s; trying another store", e);
        rc = ad_state_spill_dir(sd, i, dir, sizeof(dir));
        if (rc) {
            snprintf(e, sizeof(e), "%s: the path of spill store %d is too long", sd, i);
            break;
        }
        rc = ad_state_dir_init(dir, e, sizeof(e));
        rc = rc ? rc : ad_spill_open(dir, &d->spill, e, sizeof(e));
        if (rc == 0)
            AD_WARN("state",
                    "evicted series' store: %s/%s (series evicted by other "
                    "processes sharing %s are not seen)",
                    dir, AD_SPILL_FILE, sd);
    }
    if (rc == AD_EPARSE || (rc == AD_EIO && !strstr(e, "in use"))) {
        /* Damaged or unreadable: keep it for inspection, start an empty one
         * (never a crash loop on it). */
        snprintf(path, sizeof(path), "%s/%s", sd, AD_SPILL_FILE);
        snprintf(aside, sizeof(aside), "%s.bad-%lld", path,
                 (long long)(ad_clock_wall_us() / 1000000));
        AD_ERROR("state", "%s; moved aside to %s: evicted series start afresh", e, aside);
        if (rename(path, aside) == 0)
            rc = ad_spill_open(sd, &d->spill, e, sizeof(e));
    }
    if (rc)
        snprintf(err, errlen, "state.dir: %s", e);
    else
        ad_spill_set_cache_bound(d->spill, (uint64_t)d->cfg->evicted_cache_bytes);
    return rc;
}

/* Checkpoints in state.dir: the evicted series' store and the seed models. */
static int state_dir_open(struct ad_daemon *d, char *err, size_t errlen)
{
    const struct ad_config *cfg = d->cfg;
    int rc = ad_state_dir_init(cfg->state_dir, err, errlen);
    rc = rc ? rc : ad_state_lock(cfg->state_dir, &d->state_lock, err, errlen);
    if (rc)
        return rc;
    ad_pipeline_set_identity(d->pipe, NULL, cfg->kafka.group);
    struct ad_pipeline_cfg pc;
    ad_config_to_pipeline(cfg, &pc);
    d->checkpoints = true;
    d->fingerprint = ad_ckpt_fingerprint(&pc.window);
    rc = spill_open(d, err, errlen);
    if (rc)
        return rc;
    ad_ckpt_wire_store(d);
    /* A model imported with `anomalyd model import` seeds new series. */
    char seed[4096], e[512];
    if (ad_state_seed_path(cfg->state_dir, seed, sizeof(seed)) == 0 && access(seed, R_OK) == 0 &&
        ad_pipeline_import(d->pipe, seed, e, sizeof(e)) != 0)
        AD_WARN("state", "seed models %s not used: %s", seed, e);
    return 0;
}

/* The state topic: its partition count, and a consumer outside the group to
 * read it on assignments. */
static int state_topic_open(struct ad_daemon *d, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf;
    char e[512];
    int n = ad_statetopic_partitions(ad_kafka_out_client(d->out), d->cfg->state_topic, 10000, e,
                                     sizeof(e));
    if (n < 0) {
        /* A missing topic is a configuration error (exit 78); a cluster that
         * does not answer is not (exit 1: systemd starts us again). */
        snprintf(err, errlen, "state.topic: %s", e);
        return n == AD_ENOENT ? AD_ECONFIG : AD_EIO;
    }
    d->state_nparts = n;
    if (ad_kafka_conf_new(d->cfg, AD_KAFKA_CONSUMER, &conf, err, errlen))
        return AD_ECONFIG;
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", e, sizeof(e));
    rd_kafka_conf_set(conf, "client.id", "anomalyd-state", e, sizeof(e));
    rd_kafka_conf_set(conf, "queued.min.messages", "100000", e, sizeof(e));
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "20", e, sizeof(e)); /* reads to the end */
    rd_kafka_conf_set_log_cb(conf, ad_kafka_log_cb);
    d->state_reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    if (!d->state_reader) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "while creating the state topic reader: %s", e);
        return AD_ECONFIG;
    }
    rd_kafka_poll_set_consumer(d->state_reader);
    AD_INFO("state", "state topic %s: %d partition(s)", d->cfg->state_topic, n);
    return 0;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static void on_closed(uv_handle_t *h)
{
    struct ad_daemon *d = h->data;
    d->handles--;
}

#define HANDLES(d)                                                                                 \
    {                                                                                              \
        (uv_handle_t *)&(d)->tick, (uv_handle_t *)&(d)->sig[0], (uv_handle_t *)&(d)->sig[1],       \
            (uv_handle_t *)&(d)->sig[2], (uv_handle_t *)&(d)->watchdog,                            \
            (uv_handle_t *)&(d)->ckpt_timer                                                        \
    }

static int start_handles(struct ad_daemon *d)
{
    uv_handle_t *hs[] = HANDLES(d);
    int rc = uv_timer_init(d->loop, &d->watchdog);
    rc = rc ? rc : uv_timer_init(d->loop, &d->ckpt_timer);
    rc = rc ? rc : uv_timer_init(d->loop, &d->tick);
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = uv_signal_init(d->loop, &d->sig[i]);
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
        if (hs[i]->loop) {
            hs[i]->data = d;
            d->handles++;
        }
    if (rc)
        return AD_EIO;
    uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
    if (d->checkpoints) {
        uint64_t ms = (uint64_t)(d->cfg->checkpoint_interval_us / 1000);
        uv_timer_start(&d->ckpt_timer, ad_ckpt_on_timer, ms, ms);
    }
    d->watchdog_ms = ad_notify_watchdog_usec() / 2000;
    if (d->watchdog_ms) {
        ad_notify("WATCHDOG=1");
        uv_timer_start(&d->watchdog, on_watchdog, d->watchdog_ms, d->watchdog_ms);
    }
    if (d->opts.handle_signals) {
        uv_signal_start(&d->sig[0], on_signal, SIGTERM);
        uv_signal_start(&d->sig[1], on_signal, SIGINT);
        uv_signal_start(&d->sig[2], on_signal, SIGHUP);
    }
    return 0;
}

/* Kafka out, Kafka in, the state topic, the subscription. */
static int kafka_open(struct ad_daemon *d, char *err, size_t errlen)
{
    const struct ad_kafka_in_cbs cbs = {
        .rebalance = in_rebalance,
        .assign = in_assign,
        .revoke = in_revoke,
        .revoked = in_revoked,
        .record = in_record,
        .lag = in_lag,
        .fatal = on_fatal,
        .ud = d,
    };
    const struct ad_kafka_out_cbs ocbs = {.flow = out_flow, .fatal = on_fatal, .ud = d};
    int rc = ad_kafka_out_new(d->loop, d->cfg, &ocbs, &d->out, err, errlen);
    if (rc == 0 && ad_kafka_sink_new(d->out, d->cfg, d->engine, &d->ksink) != 0) {
        snprintf(err, errlen, "while adding the Kafka sink: out of memory");
        rc = AD_ENOMEM;
    }
    if (rc == 0 && d->cfg->sinks.scores_topic[0] &&
        (rc = ad_pipeline_on_score(d->pipe, ad_kafka_sink_score, d->ksink)) != 0)
        snprintf(err, errlen, "while subscribing the scores topic: %s", ad_strerror(rc));
    rc = rc ? rc : ad_kafka_in_new(d->loop, d->cfg, &cbs, &d->in, err, errlen);
    if (rc == 0 && d->cfg->state_topic[0])
        rc = state_topic_open(d, err, errlen);
    return rc ? rc : ad_kafka_in_subscribe(d->in, err, errlen);
}

static int handles_open(const struct ad_daemon *d)
{
    return d->handles + ad_kafka_in_handles(d->in) + ad_kafka_out_handles(d->out);
}

int ad_daemon_start(uv_loop_t *loop, const struct ad_config *cfg, const struct ad_daemon_opts *opts,
                    struct ad_daemon **out, char *err, size_t errlen)
{
    struct ad_daemon *d = calloc(1, sizeof(*d));
    int rc;

    if (!d)
        return AD_ENOMEM;
    d->loop = loop;
    d->cfg = cfg;
    d->opts = *opts;
    d->state_lock = -1;
    ad_ledger_init(&d->ledger);
    ad_buf_init(&d->skey, 64 * 1024);
    ad_buf_init(&d->sval, (size_t)1 << 24);
    d->start_time = ad_clock_wall_us() / 1000000;
    d->ckpt_current_at = d->start_time;
    rc = ad_config_preflight(cfg, NULL, err, errlen); /* what --check-config checks */
    rc = rc ? rc : engine_open(d, err, errlen);
    if (rc == 0 && cfg->state_dir[0])
        rc = state_dir_open(d, err, errlen);
    if (rc == 0 && cfg->http_listen[0]) {
        struct ad_httpd_opts ho = {loop, cfg->http_listen, ad_daemon_on_http, d};
        rc = ad_httpd_start(&ho, &d->httpd, err, errlen);
        rc = rc ? rc : ad_apiserve_attach(loop, cfg, d->httpd, &d->api, err, errlen); /* http.api */
        if (rc == 0 && cfg->http_dashboard.enabled)
            rc = ad_daemon_dash_open(d, err, errlen);
        if (rc == 0)
            AD_INFO("http", "serving /metrics, /healthz, /readyz on %s (port %d)", cfg->http_listen,
                    ad_httpd_port(d->httpd));
    }
    rc = rc ? rc : kafka_open(d, err, errlen);
    if (rc == 0 && start_handles(d) != 0) {
        snprintf(err, errlen, "while starting the event loop handles");
        rc = AD_EIO;
    }
    if (rc)
        goto err;
    AD_INFO("daemon", "consuming %zu topic(s) as group %s", cfg->kafka.topics.n, cfg->kafka.group);
    *out = d;
    return 0;
err:
    ad_daemon_stop(d);
    if (handles_open(d))
        uv_run(loop, UV_RUN_NOWAIT);
    ad_daemon_free(d);
    return rc;
}

/* Logs the alert delivery latency percentiles (a benchmark reads it). */
/* Alerts the engine's sink NAME could not write or deliver (0 without it). */
static uint64_t sink_errors(const struct ad_daemon *d, const char *name)
{
    struct ad_engine_sink_stats ss;
    if (!d->engine || ad_engine_sink_stats_by_name(d->engine, name, &ss) != 0)
        return 0;
    return ss.refused + ss.failed;
}

static void lat_report(struct ad_daemon *d)
{
    struct ad_kafka_sink_latency l;
    if (!ad_kafka_sink_latency(d->ksink, &l))
        return;
    AD_INFO("daemon",
            "alert delivery latency (window close -> delivery report): p50=%.3fms "
            "p99=%.3fms max=%.3fms n=%zu",
            l.p50_us / 1000.0, l.p99_us / 1000.0, l.max_us / 1000.0, l.n);
}

/* Stops consuming, gives the outputs a last chance, checkpoints, stores and
 * commits the safe offsets and leaves the group. */
static void drain_and_leave(struct ad_daemon *d)
{
    if (d->out) {
        /* Give blocked alerts one more chance, then wait (bounded) for the
         * delivery reports, which release their offsets. */
        const char *fe = ad_kafka_out_flush(d->out, true, FLUSH_TIMEOUT_MS);
        struct ad_kafka_out_stats st;
        ad_kafka_out_stats(d->out, &st);
        if (fe)
            AD_WARN("kafka", "producer flush: %s (%d message(s) not delivered)", fe, st.queued);
    }
    if (d->in && d->pipe) {
        for (struct ad_ledger_part *p = d->ledger.parts; p; p = p->next)
            ad_ckpt_sync(d, p->ud);
        ad_daemon_store_offsets(d, NULL);
        ad_kafka_in_close_consumer(d->in);
        struct ad_kafka_out_stats st;
        struct ad_kafka_sink_stats ks;
        ad_kafka_out_stats(d->out, &st);
        ad_kafka_sink_stats(d->ksink, &ks);
        uint64_t alog = sink_errors(d, "alert_log"), hook = sink_errors(d, "webhook");
        AD_INFO("daemon",
                "stopped: %llu records consumed, %llu outputs delivered, %llu delivery errors "
                "(Kafka %llu, alert log %llu, webhook %llu), %llu dead letters",
                (unsigned long long)d->consumed, (unsigned long long)ks.delivered,
                (unsigned long long)(st.errors + ks.errors + alog + hook),
                (unsigned long long)(st.errors + ks.errors), (unsigned long long)alog,
                (unsigned long long)hook, (unsigned long long)ks.dead_letters);
        lat_report(d);
    }
}

void ad_daemon_stop(struct ad_daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = true;
    ad_notify("STOPPING=1");
    ad_kafka_sink_stop(d->ksink);
    if (d->in)
        ad_kafka_in_stop(d->in);
    /* Windows waiting for a verdict get the local one now; webhook rows not
     * delivered keep their offsets uncommitted. */
    if (d->engine)
        ad_engine_stop(d->engine);
    drain_and_leave(d);
    uv_handle_t *hs[] = HANDLES(d);
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
        if (hs[i]->loop && !uv_is_closing(hs[i]))
            uv_close(hs[i], on_closed);
    if (d->in)
        ad_kafka_in_close(d->in);
    if (d->out)
        ad_kafka_out_close(d->out);
    ad_dash_close(d->dash);
    if (d->httpd)
        ad_httpd_close(d->httpd); /* closes d->api too */
    d->httpd = NULL;
    d->api = NULL;
}

int ad_daemon_status(const struct ad_daemon *d)
{
    return d->status;
}

void ad_daemon_free(struct ad_daemon *d)
{
    if (!d)
        return;
    if (d->in && ad_kafka_in_abandoned(d->in))
        return; /* the closer thread may still use the consumer; the process exits */
    ad_kafka_in_free(d->in);
    if (d->state_reader)
        rd_kafka_destroy(d->state_reader);
    ad_kafka_out_free(d->out);
    while (d->ledger.parts)
        tp_remove(d, d->ledger.parts->ud);
    while (d->tallies) {
        struct ad_tally *y = d->tallies;
        d->tallies = y->next;
        free(y->topic);
        free(y);
    }
    ad_ledger_close(&d->ledger);
    ad_engine_free(d->engine); /* the pipeline with it */
    ad_dash_free(d->dash);     /* after the engine: its sink feeds the dashboard */
    ad_kafka_sink_free(d->ksink);
    ad_spill_close(d->spill);
    ad_state_unlock(d->state_lock);
    ad_buf_free(&d->skey);
    ad_buf_free(&d->sval);
    free(d);
}

int ad_daemon_run(const struct ad_config *cfg, const struct ad_daemon_opts *opts)
{
    uv_loop_t loop;
    struct ad_daemon *d;
    char err[1024];
    int rc, status;

    if (uv_loop_init(&loop) != 0)
        return 1;
    rc = ad_daemon_start(&loop, cfg, opts, &d, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "anomalyd: %s\n", err);
        uv_loop_close(&loop);
        return rc == AD_ECONFIG ? AD_CONFIG_EXIT : 1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    status = ad_daemon_status(d);
    ad_daemon_free(d);
    uv_loop_close(&loop);
    return status;
}
