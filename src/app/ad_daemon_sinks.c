/* ad_daemon_sinks.c - the daemon's outputs.
 *
 * ==== ENGINE WIRING ====================================================
 * The alert fan-out (stdout, the alert log, the webhook, the alerts topic),
 * the dead-letter topic and the remote stage, wired to the pipeline's
 * hooks. Kept together on purpose: the shared engine object (pipeline +
 * remote stage + sinks) replaces this file; only the offset holds (the
 * ledger) and the Kafka messages are the daemon's own.
 * ======================================================================= */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_clock.h"
#include "ad_daemon_int.h"
#include "ad_err.h"
#include "ad_http.h"
#include "ad_log.h"
#include "ad_pipeline.h"
#include "ad_remote.h"
#include "ad_sink.h"
#include "ad_webhook.h"

#define LAT_MAX_SAMPLES    (1u << 20)
#define REJECTS_LOGGED     10 /* per-record problems logged one by one, then summarized */

/* ---- alert delivery latency ----------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void lat_record(struct ad_daemon *d, int64_t t0_ns)
{
    if (d->nlat == d->lat_cap) {
        if (d->lat_cap >= LAT_MAX_SAMPLES)
            return;
        size_t ncap = d->lat_cap ? d->lat_cap * 2 : 1024;
        uint32_t *n = realloc(d->lat_us, ncap * sizeof(*n));
        if (!n)
            return;
        d->lat_us = n;
        d->lat_cap = ncap;
    }
    uint64_t us = (uint64_t)(ad_clock_mono_ns() - t0_ns) / 1000;
    d->lat_us[d->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Logs the delivery latency percentiles of the alerts (a benchmark reads it). */
void ad_daemon_lat_report(struct ad_daemon *d)
{
    if (!d->nlat)
        return;
    qsort(d->lat_us, d->nlat, sizeof(*d->lat_us), cmp_u32);
    AD_INFO("daemon",
            "alert delivery latency (window close -> delivery report): p50=%.3fms "
            "p99=%.3fms max=%.3fms n=%zu",
            d->lat_us[d->nlat / 2] / 1000.0, d->lat_us[d->nlat * 99 / 100] / 1000.0,
            d->lat_us[d->nlat - 1] / 1000.0, d->nlat);
}

/* ---- holds -------------------------------------------------------------------- */

/* Holds (topic, partition) at low for an output; a hold the ledger could
 * only record coarsely is reported (it still holds). */
static void hold(struct ad_daemon *d, const char *topic, int32_t partition, int64_t low,
                 struct ad_ledger_hold *h)
{
    if (ad_ledger_hold(&d->ledger, topic, partition, low, h) != 0 && d->hold_errors++ == 0)
        AD_ERROR("daemon", "out of memory while recording an output of %s[%d]: its offsets "
                           "stay held until every such output is done (further ones are not "
                           "logged)",
                 topic, (int)partition);
}

static void release(struct ad_daemon *d, const struct ad_ledger_hold *h)
{
    struct ad_ledger_part *p = ad_ledger_release(&d->ledger, h);
    if (p)
        ad_daemon_released(d, p);
}

/* ---- Kafka messages: alerts and dead letters -------------------------------------- */

/* One alert or dead letter, lent to Kafka out until its done callback. */
struct out_msg {
    struct ad_kafka_msg msg;
    struct ad_daemon *d;
    struct ad_ledger_hold hold; /* the source offsets it holds */
    int64_t t0_ns;              /* alerts: when the window closed (emitted) */
    struct ad_kafka_header hdr[4];
    char part[16], off[24], reason[32];
    char data[]; /* key, value, source topic */
};

static void out_msg_free(struct out_msg *m)
{
    free(m);
}

static struct out_msg *out_msg_new(struct ad_daemon *d, const char *key, size_t key_len,
                                   const char *val, size_t val_len, const char *topic)
{
    size_t tl = topic ? strlen(topic) : 0;
    struct out_msg *m = malloc(sizeof(*m) + key_len + val_len + tl);
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->d = d;
    m->msg.partition = -1;
    memcpy(m->data, key, key_len);
    memcpy(m->data + key_len, val, val_len);
    if (tl)
        memcpy(m->data + key_len + val_len, topic, tl);
    m->msg.key = m->data;
    m->msg.key_len = key_len;
    m->msg.val = m->data + key_len;
    m->msg.val_len = val_len;
    return m;
}

/* An alert or a dead letter is done: delivered (its offsets are released),
 * retried, or given up on (its offsets stay held: never committed). */
static bool out_msg_done(struct ad_kafka_msg *km, int status, const char *error)
{
    struct out_msg *m = (struct out_msg *)km;
    struct ad_daemon *d = m->d;
    if (status == AD_EAGAIN) {
        AD_WARN("kafka", "while delivering to %s: %s; retrying", km->topic, error);
        if (!d->stopping)
            return true; /* its offsets stay held until it is delivered */
    } else if (status == 0) {
        d->delivered++;
        if (m->t0_ns)
            lat_record(d, m->t0_ns);
        release(d, &m->hold);
    }
    out_msg_free(m);
    return false;
}

static void send_alert(struct ad_daemon *d, const struct ad_alert *a, const char *line,
                       size_t len)
{
    /* The topic's value is the JSON object without the newline. */
    struct out_msg *m = out_msg_new(d, a->key, a->key_len, line, len - 1, NULL);
    if (!m) {
        d->delivery_errors++;
        return;
    }
    m->msg.topic = d->cfg->sinks.kafka_topic;
    m->msg.done = out_msg_done;
    m->t0_ns = ad_clock_mono_ns();
    hold(d, a->topic, a->partition, a->low_offset, &m->hold);
    ad_kafka_out_send(d->out, &m->msg);
}

static void send_dead_letter(struct ad_daemon *d, const void *buf, size_t len,
                             const struct ad_record_meta *meta, const char *reason)
{
    struct out_msg *m = out_msg_new(d, "", 0, buf, len, meta->topic);
    if (!m)
        return;
    size_t tl = strlen(meta->topic);
    m->msg.topic = d->cfg->sinks.dead_letter_topic;
    m->msg.key = NULL;
    m->msg.done = out_msg_done;
    snprintf(m->reason, sizeof(m->reason), "%s", reason);
    snprintf(m->part, sizeof(m->part), "%d", meta->partition);
    snprintf(m->off, sizeof(m->off), "%lld", (long long)meta->offset);
    m->hdr[0] = (struct ad_kafka_header){"anomalyd-reason", m->reason, strlen(m->reason)};
    m->hdr[1] = (struct ad_kafka_header){"anomalyd-source-topic", m->data + len, tl};
    m->hdr[2] = (struct ad_kafka_header){"anomalyd-source-partition", m->part, strlen(m->part)};
    m->hdr[3] = (struct ad_kafka_header){"anomalyd-source-offset", m->off, strlen(m->off)};
    m->msg.headers = m->hdr;
    m->msg.nheaders = 4;
    d->dead_letters++;
    ad_kafka_out_send(d->out, &m->msg);
}

/* ---- the pipeline's hooks ------------------------------------------------------ */

/* A box for a hold that travels through a void * (remote jobs, webhook rows). */
struct hold_box {
    struct ad_ledger_hold h;
};

static struct hold_box *hold_box_new(struct ad_daemon *d, const char *topic, int32_t partition,
                                     int64_t low)
{
    struct hold_box *b = malloc(sizeof(*b));
    if (b)
        hold(d, topic, partition, low, &b->h);
    return b;
}

static void hold_box_release(struct ad_daemon *d, struct hold_box *b)
{
    if (!b)
        return;
    release(d, &b->h);
    free(b);
}

static void on_alert(void *ud, const struct ad_alert *a, const char *line, size_t len)
{
    struct ad_daemon *d = ud;

    d->alerts_by[a->detector != AD_DETECTOR_WELFORD][a->direction == AD_DIR_NEGATIVE]++;

    if (d->opts.alerts_to_stdout) {
        fwrite(line, 1, len, stdout);
        fflush(stdout);
    }
    if (d->alog && ad_alert_log_write(d->alog, line, len) != 0)
        AD_WARN("sink", "while writing the alert log: %s", strerror(errno));
    if (d->webhook) {
        /* Without a box to hold its offsets the row is refused, not sent
         * unheld. */
        struct hold_box *b = hold_box_new(d, a->topic, a->partition, a->low_offset);
        if (!b || ad_webhook_add_alert(d->webhook, a, b) != 0) {
            d->webhook_refused++;
            hold_box_release(d, b);
        }
    }
    if (d->cfg->sinks.kafka_topic[0])
        send_alert(d, a, line, len);
}

static void on_reject(void *ud, const void *buf, size_t len, const struct ad_record_meta *meta,
                      const char *reason)
{
    struct ad_daemon *d = ud;
    if (d->rejects_logged < REJECTS_LOGGED) {
        d->rejects_logged++;
        AD_WARN("decode", "record rejected: reason=%s source=%s[%d]@%lld bytes=%zu%s", reason,
                meta->topic, (int)meta->partition, (long long)meta->offset, len,
                d->rejects_logged == REJECTS_LOGGED ? " (further ones are summarized every minute)"
                                                    : "");
    } else {
        d->rejects_since++;
    }
    if (d->cfg->sinks.dead_letter_topic[0])
        send_dead_letter(d, buf, len, meta, reason);
}

static void on_remote_done(void *ud, struct ad_remote_job *job, const struct ad_remote_outcome *o)
{
    struct ad_daemon *d = ud;
    struct hold_box *b = job->adapter;
    ad_pipeline_remote_done(d->pipe, job, o); /* may free job */
    hold_box_release(d, b);
}

static void on_remote_job(void *ud, struct ad_remote_job *job)
{
    struct ad_daemon *d = ud;
    job->adapter = hold_box_new(d, job->topic, job->partition, job->low_offset);
    if (!job->adapter) {
        /* Its offsets cannot be held while it is out: the local verdict
         * decides now, as when the detector is unavailable. */
        struct ad_remote_outcome o = {.json = "\"remote\":{\"status\":\"unavailable\"}"};
        o.json_len = strlen(o.json);
        ad_pipeline_remote_done(d->pipe, job, &o);
        return;
    }
    ad_remote_submit(d->remote, job);
}

static void on_webhook_ack(void *ud, void *token, bool delivered)
{
    struct ad_daemon *d = ud;
    if (delivered || !d->stopping)
        hold_box_release(d, token); /* dropped for good (4xx) or delivered */
    else
        free(token); /* not delivered at shutdown: its offsets stay uncommitted */
}

void ad_daemon_wire_outputs(struct ad_daemon *d)
{
    ad_pipeline_on_alert(d->pipe, on_alert, d);
    ad_pipeline_on_reject(d->pipe, on_reject, d);
}

int ad_daemon_open_outputs(struct ad_daemon *d, char *err, size_t errlen)
{
    const struct ad_config *cfg = d->cfg;
    int rc;
    if (cfg->sinks.alert_log_path[0]) {
        rc = ad_alert_log_open(cfg->sinks.alert_log_path, &d->alog, err, errlen);
        if (rc)
            return rc;
        d->alert_log_path = strdup(cfg->sinks.alert_log_path);
    }
    return 0;
}

/* The remote stage and the webhook, sharing one HTTP client. */
int ad_daemon_open_remote(struct ad_daemon *d, char *err, size_t errlen)
{
    const struct ad_config *cfg = d->cfg;
    int rc;
    if (cfg->remote.mode != AD_REMOTE_OFF || cfg->sinks.webhook_url[0]) {
        rc = ad_http_new(d->loop, &d->http);
        if (rc) {
            snprintf(err, errlen, "while starting the HTTP client: %s", ad_strerror(rc));
            return rc;
        }
    }
    if (cfg->remote.mode != AD_REMOTE_OFF) {
        rc = ad_remote_new(d->loop, d->http, cfg, on_remote_done, d, &d->remote, err, errlen);
        if (rc)
            return rc;
        ad_pipeline_on_remote(d->pipe, on_remote_job, d);
    }
    if (cfg->sinks.webhook_url[0]) {
        struct ad_webhook_opts wo = {d->loop, d->http, cfg, on_webhook_ack, d};
        rc = ad_webhook_new(&wo, &d->webhook, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

void ad_daemon_close_outputs(struct ad_daemon *d)
{
    /* Windows waiting for a verdict get the local one now; webhook rows not
     * delivered keep their offsets uncommitted. */
    if (d->remote)
        ad_remote_close(d->remote);
    if (d->webhook)
        ad_webhook_close(d->webhook);
    if (d->http)
        ad_http_close(d->http);
    d->remote = NULL;
    d->webhook = NULL;
    d->http = NULL;
}
