/* ad_daemon.c - Kafka in, pipeline, sinks out, on one libuv loop.
 *
 * librdkafka runs its own threads; this module never lets them touch the
 * pipeline. Each client's queue wakes the loop through a non-blocking pipe
 * (rd_kafka_queue_io_event_enable) watched by uv_poll_t, and is drained on
 * the loop thread; a 1 s timer polls too, so that an idle consumer is never
 * evicted for not polling. librdkafka's logs, errors, rebalances and delivery
 * reports are all served by those polls, so every callback below runs on the
 * loop thread. */
#include "ad_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ad_detector.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_http.h"
#include "ad_httpd.h"
#include "ad_kafka.h"
#include "ad_metrics.h"
#include "ad_notify.h"
#include "ad_checkpoint.h"
#include "ad_model.h"
#include "ad_remote.h"
#include "ad_snapshot.h"
#include "ad_spill.h"
#include "ad_state.h"
#include "ad_statetopic.h"
#include "ad_webhook.h"
#include "ad_log.h"
#include "ad_pipeline.h"
#include "ad_sink.h"

#define DRAIN_BUDGET     20000 /* messages per loop iteration before yielding */
#define TICK_MS          1000
#define RETRY_MS         50
#define FLUSH_TIMEOUT_MS 5000

#define STATE_READ_TIMEOUT_MS 30000 /* restoring a partition from the state topic */

enum token_kind { TOKEN_ALERT = 0, TOKEN_DEAD_LETTER, TOKEN_STATE };

struct ckpt_work;

/* One produced message, owned by librdkafka between produce and its delivery
 * report, or by the blocked list while the producer queue is full. */
struct token {
    struct token *next;
    enum token_kind kind;
    uint32_t tp_id; /* the source partition's tracker, 0 for none */
    struct ckpt_work *flush; /* TOKEN_STATE: the checkpoint it belongs to, or NULL */
    uint64_t seq;
    uint64_t t0_ns; /* when the alert was emitted (its window closed) */
    int32_t src_partition;
    int64_t src_offset;
    char reason[32];
    size_t key_len, val_len, topic_len;
    char data[]; /* key, value, source topic */
};

struct pending {
    int64_t low;
    uint64_t seq;
    bool acked;
};

/* An assigned partition: what was consumed and which alerts are in flight. */
struct tpart {
    struct tpart *next;
    char *topic;
    int32_t partition;
    uint32_t id;
    int64_t next_off; /* offset after the last processed record, -1 before any */
    int64_t stored;   /* last offset handed to rd_kafka_offsets_store */
    struct pending *q; /* ring of in-flight outputs, in production order */
    size_t qhead, qlen, qcap;
    uint64_t next_seq;
    uint64_t consumed;
    int64_t lag; /* from librdkafka statistics, -1 unknown */
    int64_t ckpt_offset;   /* the offset the newest durable checkpoint resumes at, -1 none */
    uint64_t ckpt_consumed; /* consumed when that checkpoint was taken */
    bool ckpt_busy;         /* a checkpoint write is in flight */
    bool ckpt_wanted;       /* due, but outputs were in flight: take it when they are done */
    bool state_full;        /* the state topic is to get every series, not only changed ones */
    bool ckpt_owed;         /* restored from the state topic: write the local file too */
};

struct ad_daemon {
    uv_loop_t *loop;
    const struct ad_config *cfg;
    struct ad_daemon_opts opts;
    struct ad_pipeline *pipe;
    rd_kafka_t *consumer, *producer;
    rd_kafka_queue_t *cq, *pq;
    int cfd[2], pfd[2];
    uv_poll_t cpoll, ppoll;
    uv_timer_t tick, retry;
    uv_idle_t more;
    uv_signal_t sig[3];
    int handles; /* open uv handles */
    struct ad_alert_log *alog;
    struct ad_http *http;       /* shared by the remote detector and the webhook */
    struct ad_remote *remote;
    struct ad_webhook *webhook;
    uint64_t webhook_refused;
    struct ad_httpd *httpd;
    uv_timer_t watchdog;
    uint64_t watchdog_ms;
    char *alert_log_path; /* the path open now (a reload may change it) */
    time_t start_time;
    bool ready_sent, assigned_once;
    uint64_t rebalances, reloads, reload_failures;
    uint64_t alerts_by[2][2]; /* [detector: welford, anomaly_detector][direction - 1] */
    bool checkpoints;        /* state.dir is set */
    struct ad_spill *spill;  /* evicted series' state, with checkpoints */
    rd_kafka_t *state_reader; /* reads the state topic on assignment, with state.topic */
    int32_t state_nparts;
    struct ad_buf skey;      /* scratch: a state topic key */
    struct ad_buf sval;      /* scratch: a state topic value */
    uint64_t state_sent, state_failed, state_restored, state_restore_errors;
    uint64_t fingerprint;
    uv_timer_t ckpt_timer;
    uint64_t ckpt_written, ckpt_failed, ckpt_bytes, ckpt_series;
    double ckpt_seconds;
    time_t ckpt_last; /* when the newest checkpoint became durable */
    struct tpart *parts;
    uint32_t next_tp_id;
    struct token *blocked, *blocked_tail;
    size_t nblocked;
    bool paused, hard_paused, stopping;
    bool want_headers; /* input.key is header:NAME */
    bool closing_consumer;   /* the consumer is being closed (on the closer thread) */
    bool consumer_abandoned; /* its close did not finish in time: never touch it again */
    uint64_t rejects_logged, rejects_since; /* per-record problems: the first few, then summaries */
    uint64_t rejects_summary_ms;
    uint64_t paused_since;
    int status;
    uint64_t consumed, delivered, delivery_errors, dead_letters, queue_full;
    uint32_t *lat_us; /* alert latencies, window close -> delivery report */
    size_t nlat, lat_cap;
};

#define LAT_MAX_SAMPLES (1u << 20)

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void lat_record(struct ad_daemon *d, uint64_t t0_ns)
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
    uint64_t us = (uv_hrtime() - t0_ns) / 1000;
    d->lat_us[d->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Logs the delivery latency percentiles of the alerts (a benchmark reads it). */
static void lat_report(struct ad_daemon *d)
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

/* ---- partitions ------------------------------------------------------------ */

static struct tpart *tp_find(struct ad_daemon *d, const char *topic, int32_t partition)
{
    for (struct tpart *t = d->parts; t; t = t->next)
        if (t->partition == partition && strcmp(t->topic, topic) == 0)
            return t;
    return NULL;
}

static struct tpart *tp_by_id(struct ad_daemon *d, uint32_t id)
{
    for (struct tpart *t = d->parts; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

static struct tpart *tp_add(struct ad_daemon *d, const char *topic, int32_t partition)
{
    struct tpart *t = tp_find(d, topic, partition);
    if (t)
        return t;
    t = calloc(1, sizeof(*t));
    if (!t || !(t->topic = strdup(topic))) {
        free(t);
        return NULL;
    }
    t->partition = partition;
    t->id = ++d->next_tp_id;
    t->next_off = -1;
    t->stored = -1;
    t->lag = -1;
    t->ckpt_offset = -1;
    t->state_full = true;
    t->next = d->parts;
    d->parts = t;
    return t;
}

static void tp_remove(struct ad_daemon *d, struct tpart *t)
{
    struct tpart **pp = &d->parts;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    free(t->q);
    free(t->topic);
    free(t);
}

/* Records that an output depending on offsets >= low is in flight. */
static int tp_hold(struct tpart *t, int64_t low, uint64_t *seq)
{
    if (t->qlen == t->qcap) {
        size_t ncap = t->qcap ? t->qcap * 2 : 64;
        struct pending *nq = malloc(ncap * sizeof(*nq));
        if (!nq)
            return AD_ENOMEM;
        for (size_t i = 0; i < t->qlen; i++)
            nq[i] = t->q[(t->qhead + i) % t->qcap];
        free(t->q);
        t->q = nq;
        t->qcap = ncap;
        t->qhead = 0;
    }
    struct pending *p = &t->q[(t->qhead + t->qlen) % t->qcap];
    p->low = low;
    p->seq = t->next_seq++;
    p->acked = false;
    t->qlen++;
    *seq = p->seq;
    return 0;
}

static void tp_release(struct tpart *t, uint64_t seq)
{
    if (!t->qlen)
        return;
    uint64_t first = t->q[t->qhead].seq;
    if (seq < first || seq - first >= t->qlen)
        return;
    t->q[(t->qhead + (seq - first)) % t->qcap].acked = true;
    while (t->qlen && t->q[t->qhead].acked) {
        t->qhead = (t->qhead + 1) % t->qcap;
        t->qlen--;
    }
}

/* The offset up to which the partition is safe to commit. */
static int64_t tp_safe(struct ad_daemon *d, struct tpart *t)
{
    int64_t low = t->next_off;
    if (low < 0)
        return -1;
    int64_t w = ad_pipeline_low_offset(d->pipe, t->topic, t->partition);
    if (w >= 0 && w < low)
        low = w;
    for (size_t i = 0; i < t->qlen; i++) {
        const struct pending *p = &t->q[(t->qhead + i) % t->qcap];
        if (!p->acked && p->low < low)
            low = p->low;
    }
    return low;
}

static void ckpt_start(struct ad_daemon *d, struct tpart *t);

/* An output in flight outside Kafka (a remote job, a webhook row) holds its
 * source offsets through one of these until it is done. */
struct hold {
    uint32_t tp_id;
    uint64_t seq;
};

static struct hold *hold_new(struct ad_daemon *d, const char *topic, int32_t partition,
                             int64_t low)
{
    struct hold *h = calloc(1, sizeof(*h));
    struct tpart *t = tp_find(d, topic, partition);
    if (h && t && tp_hold(t, low, &h->seq) == 0)
        h->tp_id = t->id;
    return h;
}

static void hold_release(struct ad_daemon *d, struct hold *h)
{
    if (!h)
        return;
    struct tpart *t = h->tp_id ? tp_by_id(d, h->tp_id) : NULL;
    if (t) {
        tp_release(t, h->seq);
        if (t->ckpt_wanted && !d->stopping)
            ckpt_start(d, t);
    }
    free(h);
}

/* Hands the safe offsets of every partition (or of one) to librdkafka. */
static void store_offsets(struct ad_daemon *d, struct tpart *only)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    for (struct tpart *t = d->parts; t; t = t->next) {
        if (only && t != only)
            continue;
        int64_t safe = tp_safe(d, t);
        if (d->checkpoints && safe > t->ckpt_offset)
            safe = t->ckpt_offset; /* commit only what a durable checkpoint covers */
        if (safe > t->stored) {
            rd_kafka_topic_partition_list_add(l, t->topic, t->partition)->offset = safe;
            t->stored = safe;
        }
    }
    if (l->cnt) {
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(d->consumer, l);
        if (err)
            AD_WARN("kafka", "while storing offsets: %s", rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- producing -------------------------------------------------------------- */

/* While the producer queue is full the consumer queue is simply not drained:
 * fetched records wait in librdkafka and consumption resumes at once. (Pausing
 * the partitions instead makes librdkafka drop its prefetched records and
 * fetch again only about a second after the resume.) A block that lasts
 * HARD_PAUSE_MS pauses the partitions for real and polls again, so the group
 * does not evict a consumer that has stopped polling (max.poll.interval.ms). */
#define HARD_PAUSE_MS 30000

static void hard_pause(struct ad_daemon *d, bool pause)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (d->hard_paused == pause || rd_kafka_assignment(d->consumer, &l) || !l)
        return;
    if (pause)
        rd_kafka_pause_partitions(d->consumer, l);
    else
        rd_kafka_resume_partitions(d->consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
    d->hard_paused = pause;
}

static void pause_consumer(struct ad_daemon *d, bool pause)
{
    if (d->paused == pause)
        return;
    d->paused = pause;
    d->paused_since = uv_now(d->loop);
    if (!pause)
        hard_pause(d, false);
    AD_INFO("kafka", "%s consuming: producer queue %s", pause ? "pausing" : "resuming",
            pause ? "full" : "drained");
}

/* Produces tok; returns 0, AD_EAGAIN when the queue is full (tok is kept by
 * the caller) or AD_EIO (tok is freed, the error counted). */
static int produce(struct ad_daemon *d, struct token *tok)
{
    const char *key = tok->data, *val = tok->data + tok->key_len;
    const char *topic = tok->kind == TOKEN_ALERT   ? d->cfg->sinks.kafka_topic
                        : tok->kind == TOKEN_STATE ? d->cfg->state_topic
                                                   : d->cfg->sinks.dead_letter_topic;
    rd_kafka_resp_err_t err;

    if (tok->kind == TOKEN_STATE) {
        err = rd_kafka_producev(d->producer, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_PARTITION(tok->src_partition),
                                RD_KAFKA_V_KEY(key, tok->key_len),
                                RD_KAFKA_V_VALUE((void *)(uintptr_t)val, tok->val_len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(tok),
                                RD_KAFKA_V_END);
    } else if (tok->kind == TOKEN_ALERT) {
        err = rd_kafka_producev(d->producer, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_KEY(key, tok->key_len),
                                RD_KAFKA_V_VALUE((void *)(uintptr_t)val, tok->val_len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(tok),
                                RD_KAFKA_V_END);
    } else {
        char part[16], off[24];
        const char *src = tok->data + tok->key_len + tok->val_len;
        rd_kafka_headers_t *h = rd_kafka_headers_new(4);
        snprintf(part, sizeof(part), "%d", tok->src_partition);
        snprintf(off, sizeof(off), "%lld", (long long)tok->src_offset);
        rd_kafka_header_add(h, "anomalyd-reason", -1, tok->reason, -1);
        rd_kafka_header_add(h, "anomalyd-source-topic", -1, src, (ssize_t)tok->topic_len);
        rd_kafka_header_add(h, "anomalyd-source-partition", -1, part, -1);
        rd_kafka_header_add(h, "anomalyd-source-offset", -1, off, -1);
        err = rd_kafka_producev(d->producer, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_VALUE((void *)(uintptr_t)val, tok->val_len),
                                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_OPAQUE(tok), RD_KAFKA_V_END);
        if (err)
            rd_kafka_headers_destroy(h); /* owned by librdkafka only on success */
    }
    if (!err)
        return 0;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        d->queue_full++;
        return AD_EAGAIN;
    }
    AD_ERROR("kafka", "while producing to %s: %s", topic, rd_kafka_err2str(err));
    d->delivery_errors++;
    return AD_EIO;
}

static void on_retry(uv_timer_t *t);
static void drain_consumer(struct ad_daemon *d);
static void ckpt_state_done(struct ckpt_work *w, bool delivered);

/* A token is done with: delivered, or given up on. A state message's
 * checkpoint learns which. */
static void token_done(struct ad_daemon *d, struct token *tok, bool delivered)
{
    if (tok->kind == TOKEN_STATE) {
        if (delivered)
            d->state_sent++;
        else
            d->state_failed++;
        if (tok->flush)
            ckpt_state_done(tok->flush, delivered);
    }
    free(tok);
}

static void block(struct ad_daemon *d, struct token *tok)
{
    tok->next = NULL;
    if (d->blocked_tail)
        d->blocked_tail->next = tok;
    else
        d->blocked = tok;
    d->blocked_tail = tok;
    d->nblocked++;
    pause_consumer(d, true);
    if (!uv_is_active((uv_handle_t *)&d->retry))
        uv_timer_start(&d->retry, on_retry, RETRY_MS, RETRY_MS);
}

static void send_token(struct ad_daemon *d, struct token *tok)
{
    if (d->blocked) {
        block(d, tok); /* keep the order behind what is already waiting */
        return;
    }
    int rc = produce(d, tok);
    if (rc == AD_EAGAIN)
        block(d, tok);
    else if (rc)
        token_done(d, tok, false);
}

static void on_retry(uv_timer_t *t)
{
    struct ad_daemon *d = t->data;
    while (d->blocked) {
        struct token *tok = d->blocked;
        int rc = produce(d, tok);
        if (rc == AD_EAGAIN)
            break;
        d->blocked = tok->next;
        if (!d->blocked)
            d->blocked_tail = NULL;
        d->nblocked--;
        if (rc)
            token_done(d, tok, false);
    }
    rd_kafka_poll(d->producer, 0);
    if (!d->blocked) {
        uv_timer_stop(&d->retry);
        pause_consumer(d, false);
        drain_consumer(d);
    } else if (!d->hard_paused && uv_now(d->loop) - d->paused_since >= HARD_PAUSE_MS) {
        hard_pause(d, true);
        drain_consumer(d);
    }
}

static struct token *token_new(enum token_kind kind, const char *key, size_t key_len,
                               const char *val, size_t val_len, const char *topic)
{
    size_t tl = topic ? strlen(topic) : 0;
    struct token *t = malloc(sizeof(*t) + key_len + val_len + tl);
    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    t->key_len = key_len;
    t->val_len = val_len;
    t->topic_len = tl;
    memcpy(t->data, key, key_len);
    memcpy(t->data + key_len, val, val_len);
    if (tl)
        memcpy(t->data + key_len + val_len, topic, tl);
    return t;
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
        struct hold *h = hold_new(d, a->topic, a->partition, a->low_offset);
        if (ad_webhook_add_alert(d->webhook, a, h) != 0) {
            d->webhook_refused++;
            hold_release(d, h);
        }
    }
    if (!d->cfg->sinks.kafka_topic[0])
        return;
    /* The topic's value is the JSON object without the newline. */
    struct token *tok = token_new(TOKEN_ALERT, a->key, a->key_len, line, len - 1, NULL);
    if (!tok) {
        d->delivery_errors++;
        return;
    }
    tok->t0_ns = uv_hrtime();
    struct tpart *t = tp_find(d, a->topic, a->partition);
    if (t && tp_hold(t, a->low_offset, &tok->seq) == 0)
        tok->tp_id = t->id;
    send_token(d, tok);
}

#define REJECTS_LOGGED   10    /* per-record problems logged one by one */
#define REJECTS_SUMMARY_MS 60000 /* then one summary a minute */

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
    if (!d->cfg->sinks.dead_letter_topic[0])
        return;
    struct token *tok = token_new(TOKEN_DEAD_LETTER, "", 0, buf, len, meta->topic);
    if (!tok)
        return;
    snprintf(tok->reason, sizeof(tok->reason), "%s", reason);
    tok->src_partition = meta->partition;
    tok->src_offset = meta->offset;
    d->dead_letters++;
    send_token(d, tok);
}

/* Delivery reports, served by rd_kafka_poll on the loop thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct ad_daemon *d = opaque;
    struct token *tok = m->_private;
    (void)rk;
    if (!tok)
        return;
    if (tok->kind == TOKEN_STATE) {
        /* Not retried: a later checkpoint sends every series again instead,
         * so an old state never lands after a newer one. */
        if (m->err) {
            d->delivery_errors++;
            AD_WARN("state", "while delivering to %s: %s", rd_kafka_topic_name(m->rkt),
                    rd_kafka_err2str(m->err));
        }
        token_done(d, tok, !m->err);
        return;
    }
    if (m->err) {
        d->delivery_errors++;
        AD_WARN("kafka", "while delivering to %s: %s; retrying",
                rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        if (!d->stopping) {
            block(d, tok); /* its offsets stay held until it is delivered */
            return;
        }
    } else {
        d->delivered++;
        if (tok->kind == TOKEN_ALERT)
            lat_record(d, tok->t0_ns);
        struct tpart *t = tok->tp_id ? tp_by_id(d, tok->tp_id) : NULL;
        if (t) {
            tp_release(t, tok->seq);
            if (t->ckpt_wanted && !d->stopping)
                ckpt_start(d, t);
        }
    }
    free(tok);
}

/* ---- checkpoints ------------------------------------------------------------------ */

/* One checkpoint of a partition: the file (written on the thread pool) and,
 * with state.topic, the messages of the series changed since the previous
 * one and the partition's marker. It counts as durable, and its offset may be
 * committed, once the file is written and every message acknowledged. */
struct ckpt_work {
    uv_work_t req;
    struct ad_daemon *d;
    uint32_t tp_id;
    char *dir, *topic;
    int32_t partition;
    int64_t offset;
    uint64_t consumed, nseries;
    struct ad_buf buf;                /* the file, serialized on the loop (not forked) */
    uint64_t bytes;                   /* the file's size */
    struct ad_snapshot snap;          /* the file, written by a forked child */
    uv_poll_t snap_poll;              /* ... whose pipe says when it is done */
    struct ad_spill *spill;           /* made durable before the file is written */
    struct token *stoks, *stoks_tail; /* state topic messages, sent by ckpt_send_state() */
    int waits;                        /* the file, and each message not yet acknowledged */
    bool state_failed;                /* a message was not delivered */
    uint64_t t0;
    int rc;
    char err[512];
};

static bool tp_has_pending(const struct tpart *t)
{
    for (size_t i = 0; i < t->qlen; i++)
        if (!t->q[(t->qhead + i) % t->qcap].acked)
            return true;
    return false;
}

static void ckpt_free(struct ckpt_work *w)
{
    while (w->stoks) {
        struct token *tok = w->stoks;
        w->stoks = tok->next;
        free(tok);
    }
    ad_buf_free(&w->buf);
    free(w->dir);
    free(w->topic);
    free(w);
}

/* Queues the current d->skey / d->sval as a state topic message of w. */
static int ckpt_add_state(struct ad_daemon *d, struct ckpt_work *w)
{
    struct token *tok = token_new(TOKEN_STATE, d->skey.p, d->skey.len, d->sval.p, d->sval.len,
                                  NULL);
    if (!tok)
        return AD_ENOMEM;
    tok->src_partition = ad_statetopic_partition(w->partition, d->state_nparts);
    tok->flush = w;
    tok->tp_id = w->tp_id;
    tok->next = NULL;
    if (w->stoks_tail)
        w->stoks_tail->next = tok;
    else
        w->stoks = tok;
    w->stoks_tail = tok;
    return 0;
}

struct state_ctx {
    struct ad_daemon *d;
    struct ckpt_work *w;
    bool full;
};

static int state_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct state_ctx *c = ud;
    struct ad_daemon *d = c->d;
    if (!st->dirty && !c->full)
        return 0;
    struct ad_ckpt_header h = {.fingerprint = d->fingerprint, .offset = c->w->offset,
                               .partition = c->w->partition};
    snprintf(h.topic, sizeof(h.topic), "%s", c->w->topic);
    int rc = ad_ckpt_one(&d->sval, &h, st, metric);
    rc = rc ? rc
            : ad_statetopic_series_key(&d->skey, c->w->topic, c->w->partition, metric, st->key,
                                       st->key_len);
    return rc ? rc : ckpt_add_state(d, c->w);
}

/* Serializes t's state (with fork, only what goes to the state topic: the
 * child serializes the file). Returns NULL when there is nothing new to save
 * or the state is not consistent now (outputs in flight). */
static struct ckpt_work *ckpt_prepare(struct ad_daemon *d, struct tpart *t, bool fork)
{
    if (!d->checkpoints || t->ckpt_busy || tp_has_pending(t))
        return NULL;
    int64_t safe = tp_safe(d, t);
    bool state_owed = d->state_reader && t->state_full;
    if (safe < 0 || (t->consumed == t->ckpt_consumed && safe == t->ckpt_offset && !state_owed &&
                     !t->ckpt_owed))
        return NULL;
    struct ckpt_work *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->d = d;
    w->tp_id = t->id;
    w->dir = strdup(d->cfg->state_dir);
    w->topic = strdup(t->topic);
    w->partition = t->partition;
    w->offset = safe;
    w->consumed = t->consumed;
    w->t0 = uv_hrtime();
    w->waits = 1;
    ad_buf_init(&w->buf, (size_t)4 << 30);
    w->req.data = w;
    struct state_ctx sc = {d, w, t->state_full};
    int rc = w->dir && w->topic ? 0 : AD_ENOMEM;
    rc = rc ? rc
            : ad_pipeline_checkpoint_unsealed(d->pipe, t->topic, t->partition, safe,
                                     (int64_t)time(NULL) * 1000, d->fingerprint,
                                     fork ? NULL : &w->buf, &w->nseries,
                                     d->state_reader ? state_series : NULL, &sc);
    w->bytes = w->buf.len;
    if (rc == 0 && d->state_reader) {
        /* The marker goes last: it says where the partition is consumed again. */
        struct ad_ckpt_header h = {.fingerprint = d->fingerprint, .offset = safe,
                                   .created_ms = (int64_t)time(NULL) * 1000,
                                   .max_t = ad_pipeline_max_time(d->pipe, t->topic, t->partition),
                                   .partition = t->partition};
        snprintf(h.topic, sizeof(h.topic), "%s", t->topic);
        rc = ad_ckpt_begin(&d->sval, &h);
        rc = rc ? rc : ad_ckpt_finish(&d->sval, 0);
        rc = rc ? rc : ad_statetopic_marker_key(&d->skey, t->topic, t->partition);
        rc = rc ? rc : ckpt_add_state(d, w);
        if (rc == 0)
            t->state_full = false; /* set again if a message is not delivered */
    }
    if (rc) {
        AD_ERROR("state", "while serializing the state of %s[%d]: %s", t->topic, t->partition,
                 ad_strerror(rc));
        d->ckpt_failed++;
        ckpt_free(w);
        return NULL;
    }
    if (d->spill)
        ad_spill_commit(d->spill); /* made durable with this checkpoint's file */
    w->spill = d->spill;
    return w;
}

static void ckpt_write(struct ckpt_work *w)
{
    if (w->spill && ad_spill_sync(w->spill) != 0) {
        snprintf(w->err, sizeof(w->err), "while syncing the evicted series' store in %s", w->dir);
        w->rc = AD_EIO;
        return;
    }
    /* The checksum is appended here, off the loop. */
    if (ad_ckpt_seal(&w->buf, AD_FNV64_BASIS) != 0) {
        snprintf(w->err, sizeof(w->err), "%s[%d]: out of memory", w->topic, w->partition);
        w->rc = AD_ENOMEM;
        return;
    }
    w->bytes = w->buf.len;
    w->rc = ad_state_write(w->dir, w->topic, w->partition, w->buf.p, w->buf.len, w->err,
                           sizeof(w->err));
}

static void ckpt_work_cb(uv_work_t *req)
{
    ckpt_write(req->data);
}

/* When the file and every state message are done: the checkpoint is durable
 * (or failed). */
static void ckpt_settle(struct ckpt_work *w)
{
    if (--w->waits > 0)
        return;
    struct ad_daemon *d = w->d;
    struct tpart *t = tp_by_id(d, w->tp_id);
    if (t)
        t->ckpt_busy = false;
    if (w->rc || w->state_failed) {
        d->ckpt_failed++;
        if (w->rc)
            AD_ERROR("state", "%s", w->err);
        if (w->state_failed && t)
            t->state_full = true;
    } else {
        d->ckpt_written++;
        d->ckpt_bytes = w->bytes;
        d->ckpt_series = w->nseries;
        d->ckpt_seconds = (double)(uv_hrtime() - w->t0) / 1e9;
        d->ckpt_last = time(NULL);
        if (t && w->offset >= t->ckpt_offset) {
            t->ckpt_offset = w->offset;
            t->ckpt_consumed = w->consumed;
            t->ckpt_owed = false;
        }
    }
    ckpt_free(w);
}

static void ckpt_state_done(struct ckpt_work *w, bool delivered)
{
    w->state_failed |= !delivered;
    ckpt_settle(w);
}

static void send_token(struct ad_daemon *d, struct token *tok);

/* Hands w's state messages to the producer. */
static void ckpt_send_state(struct ad_daemon *d, struct ckpt_work *w)
{
    struct token *tok = w->stoks;
    w->stoks = w->stoks_tail = NULL;
    w->waits++; /* until the last one is handed over */
    while (tok) {
        struct token *next = tok->next;
        w->waits++;
        send_token(d, tok);
        tok = next;
    }
    ckpt_settle(w);
}

static void ckpt_after_cb(uv_work_t *req, int status)
{
    (void)status;
    ckpt_settle(req->data);
}

/* Checkpoints t now, on this thread (revoke, shutdown), and waits (bounded)
 * for its state messages. */
static void ckpt_sync(struct ad_daemon *d, struct tpart *t)
{
    struct ckpt_work *w = ckpt_prepare(d, t, false);
    if (!w)
        return;
    t->ckpt_busy = true;
    ckpt_write(w);
    bool state = w->stoks != NULL;
    ckpt_send_state(d, w);
    if (state) {
        rd_kafka_resp_err_t fe = rd_kafka_flush(d->producer, FLUSH_TIMEOUT_MS);
        if (fe)
            AD_WARN("state", "state topic flush for %s[%d]: %s", t->topic, t->partition,
                    rd_kafka_err2str(fe));
    }
    ckpt_settle(w); /* the file's part; durable now if every message was acknowledged */
}

static void snap_closed(uv_handle_t *h)
{
    ckpt_settle(h->data); /* the file's part */
}

static void on_snap_done(uv_poll_t *h, int status, int events)
{
    struct ckpt_work *w = h->data;
    (void)status;
    (void)events;
    w->rc = ad_snapshot_finish(&w->snap, w->err, sizeof(w->err));
    w->nseries = w->snap.series;
    w->bytes = w->snap.bytes;
    uv_close((uv_handle_t *)h, snap_closed);
}

/* Starts an asynchronous checkpoint of t: serialized here and written on the
 * thread pool, or with state.checkpoint_fork serialized and written by a
 * forked child (ad_snapshot.h), so that the loop does not stop for the
 * serialization (when fork fails, it is serialized here after all). When outputs are in flight the state is not consistent with
 * any offset, so the checkpoint waits for them (ckpt_wanted). */
static void ckpt_start(struct ad_daemon *d, struct tpart *t)
{
    if (t->ckpt_busy)
        return;
    if (tp_has_pending(t)) {
        t->ckpt_wanted = true;
        return;
    }
    t->ckpt_wanted = false;
    bool fork = d->cfg->checkpoint_fork;
    struct ckpt_work *w = ckpt_prepare(d, t, fork);
    if (!w)
        return;
    t->ckpt_busy = true;
    if (fork && w->buf.len == 0 &&
        ad_snapshot_start(d->pipe, w->dir, w->topic, w->partition, w->offset,
                          (int64_t)time(NULL) * 1000, d->fingerprint, ad_spill_fd(w->spill),
                          &w->snap) == 0) {
        if (uv_poll_init(d->loop, &w->snap_poll, w->snap.fd) == 0) {
            w->snap_poll.data = w;
            uv_poll_start(&w->snap_poll, UV_READABLE, on_snap_done);
        } else {
            w->rc = ad_snapshot_finish(&w->snap, w->err, sizeof(w->err)); /* waits */
            w->waits--;
        }
        ckpt_send_state(d, w);
        return;
    }
    if (fork) {
        /* fork failed: serialize here after all. */
        uint64_t unused;
        w->rc = ad_pipeline_checkpoint_unsealed(d->pipe, t->topic, t->partition, w->offset,
                                       (int64_t)time(NULL) * 1000, d->fingerprint, &w->buf,
                                       &unused, NULL, NULL);
        w->bytes = w->buf.len;
        if (w->rc) {
            snprintf(w->err, sizeof(w->err), "while serializing %s[%d]: %s", t->topic,
                     t->partition, ad_strerror(w->rc));
            ckpt_send_state(d, w);
            ckpt_settle(w);
            return;
        }
    }
    /* Serialized here: written on the thread pool. */
    if (uv_queue_work(d->loop, &w->req, ckpt_work_cb, ckpt_after_cb) != 0) {
        ckpt_write(w);
        ckpt_send_state(d, w);
        ckpt_settle(w);
        return;
    }
    ckpt_send_state(d, w);
}

static void on_ckpt_timer(uv_timer_t *timer)
{
    struct ad_daemon *d = timer->data;
    for (struct tpart *t = d->parts; t; t = t->next)
        ckpt_start(d, t);
}

/* ---- evicted series, restoring --------------------------------------------------- */

/* A series evicted at limits.max_series: its state goes to the spill store
 * (and the state topic), so that it resumes when it is seen again. */
static void on_evicted(void *ud, const char *topic, int32_t partition, const char *key,
                       size_t key_len, const char *metric, const void *ckpt, size_t len)
{
    struct ad_daemon *d = ud;
    if (d->spill && ad_spill_put(d->spill, key, key_len, metric, ckpt, len) != 0)
        AD_WARN("state", "an evicted series' state was not stored; it starts afresh if seen "
                         "again");
    if (!d->state_reader || partition < 0 ||
        ad_statetopic_series_key(&d->skey, topic, partition, metric, key, key_len) != 0)
        return;
    struct token *tok = token_new(TOKEN_STATE, d->skey.p, d->skey.len, ckpt, len, NULL);
    if (!tok)
        return;
    tok->src_partition = ad_statetopic_partition(partition, d->state_nparts);
    send_token(d, tok);
}

static int load_evicted(void *ud, const char *key, size_t key_len, const char *metric,
                        struct ad_buf *out)
{
    struct ad_daemon *d = ud;
    return d->spill ? ad_spill_get(d->spill, key, key_len, metric, out) : AD_ENOENT;
}

struct restore_ctx {
    struct ad_daemon *d;
    const char *topic;
    int32_t partition;
};

static int restore_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct restore_ctx *c = ud;
    return ad_pipeline_restore(c->d->pipe, c->topic, c->partition, st, metric);
}

/* The loop stands still while a partition is restored: tell systemd's
 * watchdog that it is busy, not hung. */
static void restore_alive(void *ud)
{
    struct ad_daemon *d = ud;
    if (d->watchdog_ms)
        ad_notify("WATCHDOG=1");
}

/* Restores (topic, partition): from the state topic, and from the local
 * checkpoint when that one is newer. Returns the offset to consume the
 * partition from, or -1 for the committed one. */
static int64_t restore_partition(struct ad_daemon *d, struct tpart *t)
{
    int64_t off = -1, max_t = INT64_MIN;
    t->state_full = true;
    if (d->state_reader) {
        struct ad_statetopic_restore r = {.fingerprint = d->fingerprint,
                                          .alive = restore_alive, .alive_ud = d};
        struct restore_ctx rc = {d, t->topic, t->partition};
        char e[512];
        uint64_t t0 = uv_hrtime();
        if (ad_statetopic_read(d->state_reader, d->cfg->state_topic, d->state_nparts, t->topic,
                               t->partition, STATE_READ_TIMEOUT_MS, &r, restore_series, &rc, e,
                               sizeof(e)) != 0) {
            d->state_restore_errors++;
            AD_ERROR("state", "%s[%d] not restored from the state topic: %s", t->topic,
                     t->partition, e);
        } else {
            d->state_restored += r.series;
            off = r.offset;
            max_t = r.max_t;
            t->state_full = r.offset < 0;
            t->ckpt_owed = r.offset >= 0;
            AD_INFO("state",
                    "%s[%d]: %llu series states restored from %s[%d] (offsets %lld..%lld, %llu "
                    "messages, %llu skipped) in %.3f s; resuming at offset %lld",
                    t->topic, t->partition, (unsigned long long)r.series, d->cfg->state_topic,
                    (int)ad_statetopic_partition(t->partition, d->state_nparts),
                    (long long)r.low, (long long)r.high, (unsigned long long)r.messages, (unsigned long long)r.skipped,
                    (double)(uv_hrtime() - t0) / 1e9, (long long)r.offset);
        }
    }
    struct ad_ckpt_header h;
    struct restore_ctx rc = {d, t->topic, t->partition};
    if (ad_state_load(d->cfg->state_dir, t->topic, t->partition, d->fingerprint, off, &h,
                      restore_series, &rc) == 0) {
        off = h.offset;
        max_t = h.max_t;
        t->state_full = true;
    }
    ad_pipeline_restore_clock(d->pipe, t->topic, t->partition, max_t);
    return off;
}

static void on_remote_job(void *ud, struct ad_remote_job *job)
{
    struct ad_daemon *d = ud;
    job->adapter = hold_new(d, job->topic, job->partition, job->low_offset);
    ad_remote_submit(d->remote, job);
}

static void on_remote_done(void *ud, struct ad_remote_job *job, const struct ad_remote_outcome *o)
{
    struct ad_daemon *d = ud;
    struct hold *h = job->adapter;
    ad_pipeline_remote_done(d->pipe, job, o); /* may free job */
    hold_release(d, h);
}

static void on_webhook_ack(void *ud, void *token, bool delivered)
{
    struct ad_daemon *d = ud;
    if (delivered || !d->stopping)
        hold_release(d, token); /* dropped for good (4xx) or delivered */
    else
        free(token); /* not delivered at shutdown: its offsets stay uncommitted */
}

/* ---- consuming ----------------------------------------------------------------- */

static int header_lookup(void *ctx, const char *name, const void **val, size_t *len)
{
    rd_kafka_headers_t *h = ctx;
    return rd_kafka_header_get_last(h, name, val, len) == RD_KAFKA_RESP_ERR_NO_ERROR
               ? 0
               : AD_ENOENT;
}

static void handle_message(struct ad_daemon *d, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            AD_WARN("kafka", "while consuming: %s", rd_kafka_message_errstr(m));
        return;
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    struct tpart *t = tp_find(d, topic, m->partition);
    if (!t)
        t = tp_add(d, topic, m->partition);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    rd_kafka_headers_t *hdrs = NULL;
    struct ad_record_meta meta = {
        .topic = topic,
        .partition = m->partition,
        .offset = m->offset,
        .timestamp_ms = tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts,
    };
    if (d->want_headers && rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        meta.header = header_lookup;
        meta.header_ctx = hdrs;
    }
    d->consumed++;
    if (t && t->consumed++ == 0 && t->ckpt_offset >= 0 && m->offset < t->ckpt_offset)
        AD_WARN("state",
                "%s[%d] restarts at offset %lld, before its checkpoint's %lld: the log was "
                "truncated or recreated; the restored models may not belong to it",
                topic, (int)m->partition, (long long)m->offset, (long long)t->ckpt_offset);
    ad_pipeline_push(d->pipe, m->payload ? m->payload : "", m->len, &meta,
                     (int64_t)uv_now(d->loop));
    if (t)
        t->next_off = m->offset + 1;
}

static void on_more(uv_idle_t *h);

static void drain_consumer(struct ad_daemon *d)
{
    int budget = DRAIN_BUDGET;
    rd_kafka_message_t *m;

    /* Soft-paused: leave the records in librdkafka's queue. Hard-paused: poll
     * (partitions deliver nothing; events and rebalances are still served). */
    while (!d->stopping && (!d->paused || d->hard_paused) && budget-- > 0 &&
           (m = rd_kafka_consumer_poll(d->consumer, 0))) {
        handle_message(d, m);
        rd_kafka_message_destroy(m);
    }
    if (budget < 0 && !d->stopping)
        uv_idle_start(&d->more, on_more); /* more to do: yield to the loop first */
    else
        uv_idle_stop(&d->more);
}

static void on_more(uv_idle_t *h)
{
    drain_consumer(h->data);
}

static void drain_pipe(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

static void on_consumer_wake(uv_poll_t *h, int status, int events)
{
    struct ad_daemon *d = h->data;
    drain_pipe(d->cfd[0]);
    drain_consumer(d);
}

static void on_producer_wake(uv_poll_t *h, int status, int events)
{
    struct ad_daemon *d = h->data;
    drain_pipe(d->pfd[0]);
    while (rd_kafka_poll(d->producer, 0) > 0) {
    }
}

static void on_tick(uv_timer_t *h)
{
    struct ad_daemon *d = h->data;
    drain_consumer(d);
    while (rd_kafka_poll(d->producer, 0) > 0) {
    }
    ad_pipeline_tick(d->pipe, (int64_t)uv_now(d->loop));
    store_offsets(d, NULL);
    if (d->rejects_since && uv_now(d->loop) - d->rejects_summary_ms >= REJECTS_SUMMARY_MS) {
        AD_WARN("decode", "%llu more records rejected since the last report "
                          "(by reason: anomalyd_records_rejected_total)",
                (unsigned long long)d->rejects_since);
        d->rejects_since = 0;
        d->rejects_summary_ms = uv_now(d->loop);
    }
    if (!d->ready_sent && time(NULL) - d->start_time >= 10) {
        /* Subscribed and polling, but the group gave us nothing (yet). */
        ad_notify("READY=1\nSTATUS=consuming, no partitions assigned yet");
        d->ready_sent = true;
    }
}

/* ---- librdkafka callbacks (served on the loop thread) ---------------------------- */

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct ad_daemon *d = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

    d->rebalances++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        d->assigned_once = true;
        if (!d->ready_sent) {
            ad_notify("READY=1\nSTATUS=consuming");
            d->ready_sent = true;
        }
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *e = &parts->elems[i];
            struct tpart *t = tp_add(d, e->topic, e->partition);
            AD_INFO("kafka", "assigned %s[%d]", e->topic, e->partition);
            int64_t off = t && d->checkpoints ? restore_partition(d, t) : -1;
            if (off >= 0) {
                /* Resume exactly where the checkpoint's state ends. */
                e->offset = off;
                t->ckpt_offset = off;
                t->next_off = off; /* stored (and committed) at the next tick */
            }
        }
        rd_kafka_error_t *e = NULL;
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e) {
            AD_ERROR("kafka", "while assigning partitions: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (d->hard_paused) {
            d->hard_paused = false;
            hard_pause(d, true); /* the new partitions too */
        }
        return;
    }
    /* Revoked (or lost): store what is safe, commit it, forget the window state. */
    bool lost = rd_kafka_assignment_lost(rk);
    for (int i = 0; i < parts->cnt; i++) {
        struct tpart *t = tp_find(d, parts->elems[i].topic, parts->elems[i].partition);
        if (t && !lost) {
            ckpt_sync(d, t);
            store_offsets(d, t);
        }
    }
    if (!lost && !d->closing_consumer) {
        /* Asynchronous: a synchronous commit would stall the loop for as long
         * as the coordinator is unreachable. The next owner may then re-read
         * a little more, never less. */
        rd_kafka_resp_err_t ce = rd_kafka_commit(rk, NULL, 1);
        if (ce && ce != RD_KAFKA_RESP_ERR__NO_OFFSET)
            AD_WARN("kafka", "while committing on revoke: %s", rd_kafka_err2str(ce));
    }
    for (int i = 0; i < parts->cnt; i++) {
        struct tpart *t = tp_find(d, parts->elems[i].topic, parts->elems[i].partition);
        AD_INFO("kafka", "%s %s[%d]", lost ? "lost" : "revoked", parts->elems[i].topic,
                parts->elems[i].partition);
        ad_pipeline_drop_partition(d->pipe, parts->elems[i].topic, parts->elems[i].partition);
        if (t)
            tp_remove(d, t);
    }
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e)
            rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct ad_daemon *d = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        AD_ERROR("kafka", "fatal error in %s: %s: %s", rd_kafka_name(rk), rd_kafka_err2name(orig),
                 buf);
        d->status = 1;
        ad_daemon_stop(d);
        return;
    }
    AD_WARN("kafka", "%s: %s: %s", rd_kafka_name(rk), rd_kafka_err2name(err), reason);
}

/* librdkafka statistics (served on the loop): consumer lag per partition. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct ad_daemon *d = opaque;
    json_error_t e;
    json_t *root = json_loadb(json, len, 0, &e), *topics, *t, *parts, *pv;
    const char *tname, *pname;
    (void)rk;
    if ((topics = json_object_get(root, "topics")) != NULL) {
        json_object_foreach(topics, tname, t)
        {
            parts = json_object_get(t, "partitions");
            json_object_foreach(parts, pname, pv)
            {
                char *end;
                long pn = strtol(pname, &end, 10);
                json_t *lag = json_object_get(pv, "consumer_lag");
                struct tpart *tp = *end ? NULL : tp_find(d, tname, (int32_t)pn);
                if (tp && json_is_integer(lag))
                    tp->lag = (int64_t)json_integer_value(lag);
            }
        }
    }
    json_decref(root);
    return 0; /* librdkafka frees json */
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    int lvl = level <= 3 ? AD_LOG_ERROR : level <= 4 ? AD_LOG_WARN : level <= 6 ? AD_LOG_INFO
                                                                               : AD_LOG_DEBUG;
    AD_LOG_(lvl, "rdkafka", "%s: %s: %s", rd_kafka_name(rk), fac, buf);
}

/* ---- metrics and health ------------------------------------------------------------ */

#define FAMILY(name, type, help) ad_prom_family(b, name, type, help)
#define SAMPLE(name, v)          ad_prom_sample(b, name, NULL, 0, (double)(v))

static void render_metrics(struct ad_daemon *d, struct ad_buf *b)
{
    struct ad_pipeline_stats st;
    char part[16];

    ad_pipeline_stats(d->pipe, &st);
    FAMILY("anomalyd_build_info", "gauge", "Build information.");
    const char *bl[] = {"version", AD_VERSION};
    ad_prom_sample(b, "anomalyd_build_info", bl, 1, 1);
    FAMILY("anomalyd_process_start_time_seconds", "gauge", "Start time since the epoch.");
    SAMPLE("anomalyd_process_start_time_seconds", d->start_time);

    /* Each family's samples must form one group (text format 0.0.4). */
    FAMILY("anomalyd_records_consumed_total", "counter", "Records consumed, by partition.");
    for (struct tpart *t = d->parts; t; t = t->next) {
        snprintf(part, sizeof(part), "%d", t->partition);
        const char *l[] = {"topic", t->topic, "partition", part};
        ad_prom_sample(b, "anomalyd_records_consumed_total", l, 2, (double)t->consumed);
    }
    FAMILY("anomalyd_consumer_lag", "gauge", "Consumer lag in records (librdkafka statistics).");
    for (struct tpart *t = d->parts; t; t = t->next) {
        snprintf(part, sizeof(part), "%d", t->partition);
        const char *l[] = {"topic", t->topic, "partition", part};
        if (t->lag >= 0)
            ad_prom_sample(b, "anomalyd_consumer_lag", l, 2, (double)t->lag);
    }
    FAMILY("anomalyd_records_rejected_total", "counter", "Records rejected, by reason.");
    for (int r = 1; r < AD_REJECT_COUNT; r++) {
        const char *l[] = {"reason", ad_reject_name((enum ad_reject)r)};
        ad_prom_sample(b, "anomalyd_records_rejected_total", l, 1, (double)st.rejected_by[r]);
    }
    FAMILY("anomalyd_points_total", "counter", "Points accepted into a series.");
    SAMPLE("anomalyd_points_total", st.win.points);
    FAMILY("anomalyd_late_points_total", "counter", "Points after their window closed.");
    SAMPLE("anomalyd_late_points_total", st.win.late);
    FAMILY("anomalyd_duplicate_points_total", "counter", "Points dropped as duplicates.");
    SAMPLE("anomalyd_duplicate_points_total", st.win.duplicates);
    FAMILY("anomalyd_windows_closed_total", "counter", "Tumbling windows closed.");
    SAMPLE("anomalyd_windows_closed_total", st.win.windows);
    FAMILY("anomalyd_sliding_windows_total", "counter", "Sliding-window scoring events.");
    SAMPLE("anomalyd_sliding_windows_total", st.win.slides);
    FAMILY("anomalyd_alerts_total", "counter", "Alerts, by detector and direction.");
    static const char *const dets[] = {"welford", "anomaly_detector"};
    static const char *const dirs[] = {"positive", "negative"};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            const char *l[] = {"detector", dets[i], "direction", dirs[j]};
            ad_prom_sample(b, "anomalyd_alerts_total", l, 2, (double)d->alerts_by[i][j]);
        }
    FAMILY("anomalyd_dead_letters_total", "counter", "Records sent to the dead-letter topic.");
    SAMPLE("anomalyd_dead_letters_total", d->dead_letters);
    FAMILY("anomalyd_producer_errors_total", "counter", "Failed produce calls and deliveries.");
    SAMPLE("anomalyd_producer_errors_total", d->delivery_errors);
    FAMILY("anomalyd_producer_queue_depth", "gauge", "Messages in the producer's queue.");
    SAMPLE("anomalyd_producer_queue_depth", d->producer ? rd_kafka_outq_len(d->producer) : 0);
    FAMILY("anomalyd_producer_queue_full_total", "counter", "Times the producer queue was full.");
    SAMPLE("anomalyd_producer_queue_full_total", d->queue_full);
    FAMILY("anomalyd_rebalances_total", "counter", "Consumer group rebalance events.");
    SAMPLE("anomalyd_rebalances_total", d->rebalances);
    FAMILY("anomalyd_series", "gauge", "Live series.");
    SAMPLE("anomalyd_series", st.win.series);
    FAMILY("anomalyd_series_evictions_total", "counter", "Series evicted at limits.max_series.");
    SAMPLE("anomalyd_series_evictions_total", st.win.evictions);
    FAMILY("anomalyd_series_resumed_total", "counter",
           "Evicted series seen again and resumed from their stored state.");
    SAMPLE("anomalyd_series_resumed_total", st.win.resumed);
    if (d->spill) {
        FAMILY("anomalyd_evicted_series_stored", "gauge",
               "Series states in the evicted series' store.");
        SAMPLE("anomalyd_evicted_series_stored", ad_spill_count(d->spill));
    }
    if (d->state_reader) {
        FAMILY("anomalyd_state_topic_messages_total", "counter",
               "Series states and markers written to state.topic, by result.");
        const char *okl[] = {"result", "ok"}, *badl[] = {"result", "error"};
        ad_prom_sample(b, "anomalyd_state_topic_messages_total", okl, 1, (double)d->state_sent);
        ad_prom_sample(b, "anomalyd_state_topic_messages_total", badl, 1,
                       (double)d->state_failed);
        FAMILY("anomalyd_state_topic_restored_states_total", "counter",
               "Series states applied from state.topic on assignments (one per message "
               "read: a series not compacted yet counts once per update).");
        SAMPLE("anomalyd_state_topic_restored_states_total", d->state_restored);
        FAMILY("anomalyd_state_topic_restore_errors_total", "counter",
               "Assignments whose state could not be read from state.topic.");
        SAMPLE("anomalyd_state_topic_restore_errors_total", d->state_restore_errors);
    }
    if (d->checkpoints) {
        FAMILY("anomalyd_checkpoints_total", "counter", "Checkpoints written, by result.");
        const char *okl[] = {"result", "ok"}, *badl[] = {"result", "error"};
        ad_prom_sample(b, "anomalyd_checkpoints_total", okl, 1, (double)d->ckpt_written);
        ad_prom_sample(b, "anomalyd_checkpoints_total", badl, 1, (double)d->ckpt_failed);
        if (d->ckpt_last) {
            FAMILY("anomalyd_checkpoint_age_seconds", "gauge",
                   "Seconds since the newest durable checkpoint.");
            SAMPLE("anomalyd_checkpoint_age_seconds", time(NULL) - d->ckpt_last);
            FAMILY("anomalyd_checkpoint_bytes", "gauge", "Size of the newest checkpoint.");
            SAMPLE("anomalyd_checkpoint_bytes", d->ckpt_bytes);
            FAMILY("anomalyd_checkpoint_duration_seconds", "gauge",
                   "Time the newest checkpoint took, serialization and fsync included.");
            SAMPLE("anomalyd_checkpoint_duration_seconds", d->ckpt_seconds);
        }
    }
    FAMILY("anomalyd_config_reloads_total", "counter", "Config reloads, by result.");
    const char *ok[] = {"result", "ok"}, *bad[] = {"result", "error"};
    ad_prom_sample(b, "anomalyd_config_reloads_total", ok, 1, (double)d->reloads);
    ad_prom_sample(b, "anomalyd_config_reloads_total", bad, 1, (double)d->reload_failures);
    if (d->remote) {
        struct ad_remote_stats rs;
        ad_remote_stats(d->remote, &rs);
        FAMILY("anomalyd_remote_requests_total", "counter", "Remote detector answers, by status.");
        const char *names[] = {"ok", "skipped", "unavailable", "timeout", "rejected",
                               "breaker_open", "overloaded"};
        uint64_t vals[] = {rs.ok, rs.skipped, rs.unavailable, rs.timeout, rs.rejected,
                           rs.breaker_open, rs.overloaded};
        for (int i = 0; i < 7; i++) {
            const char *l[] = {"status", names[i]};
            ad_prom_sample(b, "anomalyd_remote_requests_total", l, 1, (double)vals[i]);
        }
        FAMILY("anomalyd_remote_retries_total", "counter", "Remote detector retries.");
        SAMPLE("anomalyd_remote_retries_total", rs.retries);
        FAMILY("anomalyd_remote_request_duration_seconds", "histogram",
               "Duration of remote detector HTTP attempts.");
        double bounds[12];
        for (int i = 0; i < 12; i++)
            bounds[i] = ad_remote_latency_bounds_ms[i] / 1000.0;
        ad_prom_histogram(b, "anomalyd_remote_request_duration_seconds", NULL, 0, bounds,
                          rs.latency_le_ms, 12, rs.latency_sum_s);
        FAMILY("anomalyd_remote_breaker_state", "gauge",
               "Circuit breaker: 0 closed, 1 open, 2 half-open.");
        SAMPLE("anomalyd_remote_breaker_state", rs.breaker_state);
        FAMILY("anomalyd_remote_in_flight", "gauge", "Remote requests in flight.");
        SAMPLE("anomalyd_remote_in_flight", rs.in_flight);
    }
    if (d->webhook) {
        struct ad_webhook_stats ws;
        ad_webhook_stats(d->webhook, &ws);
        FAMILY("anomalyd_webhook_rows_total", "counter", "Webhook rows, by result.");
        const char *names[] = {"delivered", "dropped", "refused"};
        uint64_t vals[] = {ws.delivered, ws.dropped, ws.refused + d->webhook_refused};
        for (int i = 0; i < 3; i++) {
            const char *l[] = {"result", names[i]};
            ad_prom_sample(b, "anomalyd_webhook_rows_total", l, 1, (double)vals[i]);
        }
        FAMILY("anomalyd_webhook_pending_rows", "gauge", "Webhook rows waiting to be delivered.");
        SAMPLE("anomalyd_webhook_pending_rows", ws.pending);
    }
}

#undef FAMILY
#undef SAMPLE

static int on_http(void *ud, const char *path, struct ad_buf *out, const char **ctype)
{
    struct ad_daemon *d = ud;
    if (!strcmp(path, "/metrics")) {
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        render_metrics(d, out);
        return 200;
    }
    if (!strcmp(path, "/healthz")) {
        /* Answered from the loop itself: if this runs, the loop is turning. */
        ad_buf_adds(out, "ok\n");
        return 200;
    }
    if (!strcmp(path, "/readyz")) {
        bool producer_ok = d->producer && !rd_kafka_fatal_error(d->producer, NULL, 0);
        bool ready = !d->stopping && d->assigned_once && d->parts && producer_ok;
        ad_buf_printf(out, "%s\nconfig: loaded\npartitions: %s\nproducer: %s\n",
                      ready ? "ready" : "not ready", d->parts ? "assigned" : "none",
                      producer_ok ? "ok" : "failed");
        return ready ? 200 : 503;
    }
    ad_buf_adds(out, "not found\n");
    return 404;
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    ad_notify("WATCHDOG=1");
}

/* SIGHUP: reopen the alert log, reload what can be reloaded. */
static void reload(struct ad_daemon *d)
{
    struct ad_config nc;
    char err[1024];
    int rc;

    ad_notify("RELOADING=1");
    rc = ad_config_init(&nc);
    if (rc == 0 && d->opts.config_path)
        rc = ad_config_load_file(&nc, d->opts.config_path, err, sizeof(err));
    for (size_t i = 0; rc == 0 && i < d->opts.nsets; i++)
        rc = ad_config_set(&nc, d->opts.sets[i], err, sizeof(err));
    if (rc == 0)
        rc = ad_config_validate(&nc, err, sizeof(err));
    if (rc || !d->opts.config_path) {
        if (rc) {
            d->reload_failures++;
            AD_ERROR("daemon", "while reloading the config: %s; keeping the running config", err);
        }
    } else {
        ad_log_set_level(nc.log_level);
        struct ad_pipeline_cfg pc;
        ad_config_to_pipeline(&nc, &pc);
        ad_pipeline_reload_score(d->pipe, &pc.score);
        if (strcmp(nc.sinks.alert_log_path, d->alert_log_path ? d->alert_log_path : "")) {
            struct ad_alert_log *nl = NULL;
            if (nc.sinks.alert_log_path[0] &&
                ad_alert_log_open(nc.sinks.alert_log_path, &nl, err, sizeof(err)) != 0) {
                AD_ERROR("sink", "while opening the new alert log: %s; keeping the old one", err);
            } else {
                ad_alert_log_close(d->alog);
                d->alog = nl;
                free(d->alert_log_path);
                d->alert_log_path = strdup(nc.sinks.alert_log_path);
            }
        }
        d->reloads++;
        AD_INFO("daemon", "config reloaded from %s (log.level, model.welford.* and "
                          "sinks.alert_log.path applied; other changes need a restart)",
                d->opts.config_path);
    }
    ad_config_free(&nc);
    if (d->alog && ad_alert_log_reopen(d->alog, err, sizeof(err)) != 0)
        AD_ERROR("sink", "while reopening the alert log: %s", err);
    ad_notify("READY=1");
}

/* ---- lifecycle ---------------------------------------------------------------------- */

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

static void on_closed(uv_handle_t *h)
{
    struct ad_daemon *d = h->data;
    d->handles--;
}

static void close_handle(struct ad_daemon *d, uv_handle_t *h)
{
    if (h->loop && !uv_is_closing(h))
        uv_close(h, on_closed);
    (void)d;
}

static int make_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return AD_EIO;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

static rd_kafka_t *client_new(struct ad_daemon *d, enum ad_kafka_role role, char *err,
                              size_t errlen)
{
    rd_kafka_conf_t *conf;
    char e[512];
    if (ad_kafka_conf_new(d->cfg, role, &conf, err, errlen))
        return NULL;
    rd_kafka_conf_set_opaque(conf, d);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set(conf, "log.queue", "true", e, sizeof(e));
    if (role == AD_KAFKA_CONSUMER) {
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        rd_kafka_conf_set_stats_cb(conf, on_stats);
        bool user_stats = false;
        for (size_t i = 0; i < d->cfg->kafka.properties.n; i++)
            user_stats |= !strcmp(d->cfg->kafka.properties.k[i], "statistics.interval.ms");
        if (!user_stats) /* for the consumer lag metric */
            rd_kafka_conf_set(conf, "statistics.interval.ms", "5000", e, sizeof(e));
    }
    else
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(role == AD_KAFKA_CONSUMER ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER,
                                  conf, e, sizeof(e));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "while creating the Kafka %s: %s",
                 role == AD_KAFKA_CONSUMER ? "consumer" : "producer", e);
        return NULL;
    }
    rd_kafka_set_log_queue(rk, NULL); /* logs go to the main queue, served on the loop */
    return rk;
}

/* The evicted series' store: state.dir/evicted.mdb, or when another
 * instance sharing state.dir holds that one, state.dir/spill-N/evicted.mdb
 * (each store belongs to one process at a time). */
static int spill_open(struct ad_daemon *d, char *err, size_t errlen)
{
    const char *sd = d->cfg->state_dir;
    char dir[4096], path[4200], aside[4300], e[512];
    int rc = ad_spill_open(sd, &d->spill, e, sizeof(e));
    for (int i = 1; rc == AD_EIO && strstr(e, "in use") && i <= 16; i++) {
        AD_WARN("state", "%s; trying another store", e);
        snprintf(dir, sizeof(dir), "%s/spill-%d", sd, i);
        rc = ad_state_dir_init(dir, e, sizeof(e));
        rc = rc ? rc : ad_spill_open(dir, &d->spill, e, sizeof(e));
        if (rc == 0)
            AD_WARN("state", "evicted series' store: %s/%s (series evicted by other "
                             "processes sharing %s are not seen)",
                    dir, AD_SPILL_FILE, sd);
    }
    if (rc == AD_EIO && !strstr(e, "in use")) {
        /* Unreadable: keep it for inspection, start an empty one. */
        snprintf(path, sizeof(path), "%s/%s", sd, AD_SPILL_FILE);
        snprintf(aside, sizeof(aside), "%s.bad-%lld", path, (long long)time(NULL));
        AD_ERROR("state", "%s; moved aside to %s: evicted series start afresh", e, aside);
        if (rename(path, aside) == 0)
            rc = ad_spill_open(sd, &d->spill, e, sizeof(e));
    }
    if (rc)
        snprintf(err, errlen, "state.dir: %s", e);
    return rc;
}

/* The state topic: its partition count, and a consumer outside the group to
 * read it on assignments. */
static int state_topic_open(struct ad_daemon *d, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf;
    char e[512];
    int n = ad_statetopic_partitions(d->producer, d->cfg->state_topic, 10000, e, sizeof(e));
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
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, d);
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

static int start_handles(struct ad_daemon *d)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&d->cpoll,  (uv_handle_t *)&d->ppoll,
                         (uv_handle_t *)&d->tick,   (uv_handle_t *)&d->retry,
                         (uv_handle_t *)&d->more,   (uv_handle_t *)&d->sig[0],
                         (uv_handle_t *)&d->sig[1], (uv_handle_t *)&d->sig[2],
                         (uv_handle_t *)&d->watchdog, (uv_handle_t *)&d->ckpt_timer};
    int rc = uv_poll_init(d->loop, &d->cpoll, d->cfd[0]);
    rc = rc ? rc : uv_timer_init(d->loop, &d->watchdog);
    rc = rc ? rc : uv_timer_init(d->loop, &d->ckpt_timer);
    rc = rc ? rc : uv_poll_init(d->loop, &d->ppoll, d->pfd[0]);
    rc = rc ? rc : uv_timer_init(d->loop, &d->tick);
    rc = rc ? rc : uv_timer_init(d->loop, &d->retry);
    rc = rc ? rc : uv_idle_init(d->loop, &d->more);
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = uv_signal_init(d->loop, &d->sig[i]);
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
        if (hs[i]->loop) {
            hs[i]->data = d;
            d->handles++;
        }
    if (rc)
        return AD_EIO;
    uv_poll_start(&d->cpoll, UV_READABLE, on_consumer_wake);
    uv_poll_start(&d->ppoll, UV_READABLE, on_producer_wake);
    uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
    if (d->checkpoints) {
        uint64_t ms = (uint64_t)(d->cfg->checkpoint_interval_us / 1000);
        uv_timer_start(&d->ckpt_timer, on_ckpt_timer, ms, ms);
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

int ad_daemon_start(uv_loop_t *loop, const struct ad_config *cfg,
                    const struct ad_daemon_opts *opts, struct ad_daemon **out, char *err,
                    size_t errlen)
{
    struct ad_daemon *d = calloc(1, sizeof(*d));
    int rc;

    if (!d)
        return AD_ENOMEM;
    d->loop = loop;
    d->cfg = cfg;
    d->opts = *opts;
    d->cfd[0] = d->cfd[1] = d->pfd[0] = d->pfd[1] = -1;
    d->want_headers = strncmp(cfg->input.key, "header:", 7) == 0;
    ad_buf_init(&d->skey, 64 * 1024);
    ad_buf_init(&d->sval, (size_t)1 << 24);
    struct ad_pipeline_cfg pc;
    ad_config_to_pipeline(cfg, &pc);
    rc = ad_pipeline_new(&pc, &d->pipe, err, errlen);
    if (rc)
        goto fail;
    if (cfg->model.import[0]) {
        char e[512];
        rc = ad_pipeline_import(d->pipe, cfg->model.import, e, sizeof(e));
        if (rc) {
            snprintf(err, errlen, "model.import: %s", e);
            rc = AD_ECONFIG;
            goto fail;
        }
    }
    ad_pipeline_on_alert(d->pipe, on_alert, d);
    ad_pipeline_on_reject(d->pipe, on_reject, d);
    d->start_time = time(NULL);
    if (cfg->sinks.alert_log_path[0]) {
        rc = ad_alert_log_open(cfg->sinks.alert_log_path, &d->alog, err, errlen);
        if (rc)
            goto fail;
        d->alert_log_path = strdup(cfg->sinks.alert_log_path);
    }
    if (cfg->state_dir[0]) {
        rc = ad_state_dir_init(cfg->state_dir, err, errlen);
        if (rc)
            goto fail;
        d->checkpoints = true;
        d->fingerprint = ad_ckpt_fingerprint(&pc.window);
        rc = spill_open(d, err, errlen);
        if (rc)
            goto fail;
        struct ad_pipeline_store ps = {on_evicted, load_evicted, d};
        ad_pipeline_set_store(d->pipe, &ps, d->fingerprint);
        /* A model imported with `anomalyd model import` seeds new series. */
        char seed[4096], e[512];
        snprintf(seed, sizeof(seed), "%s/seed.m2.jsonl", cfg->state_dir);
        if (access(seed, R_OK) == 0 && ad_pipeline_import(d->pipe, seed, e, sizeof(e)) != 0)
            AD_WARN("state", "seed models %s not used: %s", seed, e);
    }
    if (cfg->http_listen[0]) {
        rc = ad_httpd_start(loop, cfg->http_listen, on_http, d, &d->httpd, err, errlen);
        if (rc)
            goto fail;
        AD_INFO("http", "serving /metrics, /healthz, /readyz on %s (port %d)", cfg->http_listen,
                ad_httpd_port(d->httpd));
    }
    if (cfg->remote.mode != AD_REMOTE_OFF || cfg->sinks.webhook_url[0]) {
        rc = ad_http_new(loop, &d->http);
        if (rc) {
            snprintf(err, errlen, "while starting the HTTP client: %s", ad_strerror(rc));
            goto fail;
        }
    }
    if (cfg->remote.mode != AD_REMOTE_OFF) {
        rc = ad_remote_new(loop, d->http, cfg, on_remote_done, d, &d->remote, err, errlen);
        if (rc)
            goto fail;
        ad_pipeline_on_remote(d->pipe, on_remote_job, d);
    }
    if (cfg->sinks.webhook_url[0]) {
        rc = ad_webhook_new(loop, d->http, cfg, on_webhook_ack, d, &d->webhook, err, errlen);
        if (rc)
            goto fail;
    }
    if (make_pipe(d->cfd) || make_pipe(d->pfd)) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        rc = AD_EIO;
        goto fail;
    }
    d->producer = client_new(d, AD_KAFKA_PRODUCER, err, errlen);
    d->consumer = d->producer ? client_new(d, AD_KAFKA_CONSUMER, err, errlen) : NULL;
    if (!d->consumer) {
        rc = AD_ECONFIG;
        goto fail;
    }
    if (cfg->state_topic[0]) {
        rc = state_topic_open(d, err, errlen);
        if (rc)
            goto fail;
    }
    rd_kafka_poll_set_consumer(d->consumer);
    d->cq = rd_kafka_queue_get_consumer(d->consumer);
    d->pq = rd_kafka_queue_get_main(d->producer);
    rd_kafka_queue_io_event_enable(d->cq, d->cfd[1], "1", 1);
    rd_kafka_queue_io_event_enable(d->pq, d->pfd[1], "1", 1);

    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new((int)cfg->kafka.topics.n);
    for (size_t i = 0; i < cfg->kafka.topics.n; i++)
        rd_kafka_topic_partition_list_add(topics, cfg->kafka.topics.v[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t se = rd_kafka_subscribe(d->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (se) {
        snprintf(err, errlen, "while subscribing: %s", rd_kafka_err2str(se));
        rc = AD_ECONFIG;
        goto fail;
    }
    rc = start_handles(d);
    if (rc) {
        snprintf(err, errlen, "while starting the event loop handles");
        goto fail;
    }
    AD_INFO("daemon", "consuming %zu topic(s) as group %s", cfg->kafka.topics.n,
            cfg->kafka.group);
    *out = d;
    return 0;
fail:
    ad_daemon_stop(d);
    if (d->handles)
        uv_run(loop, UV_RUN_NOWAIT);
    ad_daemon_free(d);
    return rc;
}

/* Commits the stored offsets and leaves the group, on a helper thread so
 * that an unreachable coordinator cannot hold the stop past CLOSE_TIMEOUT_MS
 * (librdkafka would wait for its request timeouts). On a timeout the consumer
 * is abandoned to the exiting process. */
#define CLOSE_TIMEOUT_MS 5000

struct closer {
    rd_kafka_t *rk;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, abandoned;
};

static void *closer_main(void *arg)
{
    struct closer *c = arg;
    rd_kafka_resp_err_t ce = rd_kafka_commit(c->rk, NULL, 0);
    if (ce && ce != RD_KAFKA_RESP_ERR__NO_OFFSET)
        AD_WARN("kafka", "while committing offsets at shutdown: %s", rd_kafka_err2str(ce));
    rd_kafka_consumer_close(c->rk); /* leaves the group */
    pthread_mutex_lock(&c->mu);
    c->done = true;
    bool free_it = c->abandoned;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (free_it)
        free(c); /* the waiter gave up on us */
    return NULL;
}

static void close_consumer(struct ad_daemon *d)
{
    struct closer *c = calloc(1, sizeof(*c));
    pthread_t th;
    struct timespec ts;

    d->closing_consumer = true;
    if (!c)
        return;
    c->rk = d->consumer;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&th, NULL, closer_main, c) != 0) {
        closer_main(c);
        free(c);
        return;
    }
    pthread_detach(th);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += CLOSE_TIMEOUT_MS / 1000;
    pthread_mutex_lock(&c->mu);
    while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0) {
    }
    bool done = c->done;
    c->abandoned = !done;
    pthread_mutex_unlock(&c->mu);
    if (done) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c);
    } else {
        AD_WARN("kafka", "the group coordinator did not answer within %d ms; exiting without "
                         "leaving the group (the session times out instead)",
                CLOSE_TIMEOUT_MS);
        d->consumer_abandoned = true;
    }
}

void ad_daemon_stop(struct ad_daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = true;
    ad_notify("STOPPING=1");
    if (d->cpoll.loop)
        uv_poll_stop(&d->cpoll);
    if (d->more.loop)
        uv_idle_stop(&d->more);
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
    if (d->producer) {
        /* Give blocked alerts one more chance, then wait (bounded) for the
         * delivery reports, which release their offsets. */
        while (d->blocked) {
            struct token *tok = d->blocked;
            d->blocked = tok->next;
            d->nblocked--;
            if (produce(d, tok))
                token_done(d, tok, false);
        }
        d->blocked_tail = NULL;
        rd_kafka_resp_err_t fe = rd_kafka_flush(d->producer, FLUSH_TIMEOUT_MS);
        if (fe)
            AD_WARN("kafka", "producer flush: %s (%d message(s) not delivered)",
                    rd_kafka_err2str(fe), rd_kafka_outq_len(d->producer));
    }
    if (d->consumer && d->pipe) {
        for (struct tpart *t = d->parts; t; t = t->next)
            ckpt_sync(d, t);
        store_offsets(d, NULL);
        close_consumer(d);
        AD_INFO("daemon",
                "stopped: %llu records consumed, %llu outputs delivered, %llu delivery errors, "
                "%llu dead letters",
                (unsigned long long)d->consumed, (unsigned long long)d->delivered,
                (unsigned long long)d->delivery_errors, (unsigned long long)d->dead_letters);
        lat_report(d);
    }
    uv_handle_t *hs[] = {(uv_handle_t *)&d->cpoll,  (uv_handle_t *)&d->ppoll,
                         (uv_handle_t *)&d->tick,   (uv_handle_t *)&d->retry,
                         (uv_handle_t *)&d->more,   (uv_handle_t *)&d->sig[0],
                         (uv_handle_t *)&d->sig[1], (uv_handle_t *)&d->sig[2],
                         (uv_handle_t *)&d->watchdog, (uv_handle_t *)&d->ckpt_timer};
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
        close_handle(d, hs[i]);
    if (d->httpd)
        ad_httpd_close(d->httpd);
    d->httpd = NULL;
}

int ad_daemon_status(const struct ad_daemon *d)
{
    return d->status;
}

void ad_daemon_free(struct ad_daemon *d)
{
    if (!d)
        return;
    if (d->consumer_abandoned)
        return; /* the closer thread may still use the daemon; the process exits */
    if (d->cq)
        rd_kafka_queue_destroy(d->cq);
    if (d->pq)
        rd_kafka_queue_destroy(d->pq);
    if (d->consumer)
        rd_kafka_destroy(d->consumer);
    if (d->state_reader)
        rd_kafka_destroy(d->state_reader);
    if (d->producer)
        rd_kafka_destroy(d->producer);
    while (d->blocked) {
        struct token *t = d->blocked;
        d->blocked = t->next;
        free(t);
    }
    while (d->parts)
        tp_remove(d, d->parts);
    for (int i = 0; i < 2; i++) {
        if (d->cfd[i] >= 0)
            close(d->cfd[i]);
        if (d->pfd[i] >= 0)
            close(d->pfd[i]);
    }
    ad_alert_log_close(d->alog);
    free(d->alert_log_path);
    ad_pipeline_free(d->pipe);
    ad_spill_close(d->spill);
    ad_buf_free(&d->skey);
    ad_buf_free(&d->sval);
    free(d->lat_us);
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
