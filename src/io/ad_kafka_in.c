/* ad_kafka_in.c - Kafka in: the group consumer on a libuv loop (see
 * ad_kafka_in.h). */
#include "ad_kafka_in.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad_clock.h"
#include "ad_err.h"
#include "ad_kafka_client.h"
#include "ad_log.h"

#define DRAIN_BUDGET     1000 /* messages per loop iteration before yielding */
#define HARD_PAUSE_MS    30000
#define CLOSE_TIMEOUT_MS 5000

struct ad_kafka_in {
    struct ad_kafka_client cl; /* first: librdkafka's opaque */
    uv_loop_t *loop;
    const struct ad_config *cfg;
    struct ad_kafka_in_cbs cbs;
    uv_idle_t more;
    bool want_headers; /* input.key is header:NAME */
    bool paused, hard_paused, stopping, assigned_once;
    bool closing;   /* the consumer is being closed (on the closer thread) */
    bool abandoned; /* its close did not finish in time: never touch it again */
    uint64_t paused_since;
};

/* ---- records ---------------------------------------------------------------- */

/* Both read the record's headers through the message itself (ctx), which
 * parses them once, on first use: a record nobody asks about costs nothing. */
static int header_lookup(void *ctx, const char *name, const void **val, size_t *len)
{
    rd_kafka_headers_t *h;
    if (rd_kafka_message_headers(ctx, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return AD_ENOENT;
    return rd_kafka_header_get_last(h, name, val, len) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0
                                                                                     : AD_ENOENT;
}

static int header_at(void *ctx, size_t i, const char **name, const void **val, size_t *len)
{
    rd_kafka_headers_t *h;
    if (rd_kafka_message_headers(ctx, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return AD_ENOENT;
    return rd_kafka_header_get_all(h, i, name, val, len) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0
                                                                                       : AD_ENOENT;
}

static void handle_message(struct ad_kafka_in *in, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            AD_WARN("kafka", "while consuming: %s", rd_kafka_message_errstr(m));
        return;
    }
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    struct ad_record_meta meta = {
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .timestamp_ms = tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts,
        .key = m->key,
        .key_len = m->key ? m->key_len : 0,
    };
    meta.header = in->want_headers ? header_lookup : NULL;
    meta.header_ctx = m;
    meta.header_at = header_at;
    in->cbs.record(in->cbs.ud, m->payload ? m->payload : "", m->len, &meta);
}

static void on_more(uv_idle_t *h);

void ad_kafka_in_drain(struct ad_kafka_in *in)
{
    int budget = DRAIN_BUDGET;
    rd_kafka_message_t *m;

    /* Soft-paused: leave the records in librdkafka's queue. Hard-paused: poll
     * (partitions deliver nothing; events and rebalances are still served). */
    while (!in->stopping && (!in->paused || in->hard_paused) && budget-- > 0 &&
           (m = rd_kafka_consumer_poll(in->cl.rk, 0))) {
        handle_message(in, m);
        rd_kafka_message_destroy(m);
    }
    if (budget < 0 && !in->stopping)
        uv_idle_start(&in->more, on_more); /* more to do: yield to the loop first */
    else
        uv_idle_stop(&in->more);
}

static void on_more(uv_idle_t *h)
{
    ad_kafka_in_drain(h->data);
}

static void on_wake(struct ad_kafka_client *c)
{
    ad_kafka_in_drain((struct ad_kafka_in *)c);
}

/* ---- back-pressure -------------------------------------------------------------- */

/* (Pausing the partitions at once instead of leaving the records queued
 * makes librdkafka drop its prefetched records and fetch again only about a
 * second after the resume.) */
static void hard_pause(struct ad_kafka_in *in, bool pause)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (in->hard_paused == pause || rd_kafka_assignment(in->cl.rk, &l) || !l)
        return;
    if (pause)
        rd_kafka_pause_partitions(in->cl.rk, l);
    else
        rd_kafka_resume_partitions(in->cl.rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    in->hard_paused = pause;
}

void ad_kafka_in_pause(struct ad_kafka_in *in, bool pause)
{
    if (in->paused != pause) {
        in->paused = pause;
        in->paused_since = uv_now(in->loop);
        if (!pause)
            hard_pause(in, false);
        AD_INFO("kafka", "%s consuming: producer queue %s", pause ? "pausing" : "resuming",
                pause ? "full" : "drained");
    }
    if (!pause)
        ad_kafka_in_drain(in);
}

void ad_kafka_in_pause_check(struct ad_kafka_in *in)
{
    if (in->paused && !in->hard_paused && uv_now(in->loop) - in->paused_since >= HARD_PAUSE_MS) {
        hard_pause(in, true);
        ad_kafka_in_drain(in);
    }
}

/* ---- librdkafka callbacks (served on the loop thread) ---------------------------- */

static void on_assign(struct ad_kafka_in *in, rd_kafka_t *rk,
                      rd_kafka_topic_partition_list_t *parts, bool cooperative)
{
    in->assigned_once = true;
    in->cbs.rebalance(in->cbs.ud, true);
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *e = &parts->elems[i];
        AD_INFO("kafka", "assigned %s[%d]", e->topic, e->partition);
        int64_t off = in->cbs.assign(in->cbs.ud, e->topic, e->partition);
        if (off >= 0)
            e->offset = off; /* resume exactly where the checkpoint's state ends */
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
    if (in->hard_paused) {
        in->hard_paused = false;
        hard_pause(in, true); /* the new partitions too */
    }
}

/* Revoked (or lost): store what is safe, commit it, forget the partitions. */
static void on_revoke(struct ad_kafka_in *in, rd_kafka_t *rk,
                      rd_kafka_topic_partition_list_t *parts, bool cooperative)
{
    bool lost = rd_kafka_assignment_lost(rk);
    in->cbs.rebalance(in->cbs.ud, false);
    for (int i = 0; i < parts->cnt; i++)
        in->cbs.revoke(in->cbs.ud, parts->elems[i].topic, parts->elems[i].partition, lost);
    if (!lost && !in->closing) {
        /* Asynchronous: a synchronous commit would stall the loop for as long
         * as the coordinator is unreachable. The next owner may then re-read
         * a little more, never less. */
        rd_kafka_resp_err_t ce = rd_kafka_commit(rk, NULL, 1);
        if (ce && ce != RD_KAFKA_RESP_ERR__NO_OFFSET)
            AD_WARN("kafka", "while committing on revoke: %s", rd_kafka_err2str(ce));
    }
    for (int i = 0; i < parts->cnt; i++) {
        AD_INFO("kafka", "%s %s[%d]", lost ? "lost" : "revoked", parts->elems[i].topic,
                parts->elems[i].partition);
        in->cbs.revoked(in->cbs.ud, parts->elems[i].topic, parts->elems[i].partition);
    }
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e)
            rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct ad_kafka_in *in = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(in, rk, parts, cooperative);
    else
        on_revoke(in, rk, parts, cooperative);
}

/* librdkafka statistics (served on the loop): consumer lag per partition. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct ad_kafka_in *in = opaque;
    json_error_t e;
    json_t *root = json_loadb(json, len, 0, &e), *topics, *t, *parts, *pv;
    const char *tname, *pname;
    (void)rk;
    ad_kafka_client_stats(&in->cl, root);
    if ((topics = json_object_get(root, "topics")) != NULL) {
        json_object_foreach(topics, tname, t)
        {
            parts = json_object_get(t, "partitions");
            json_object_foreach(parts, pname, pv)
            {
                char *end;
                long pn = strtol(pname, &end, 10);
                json_t *lag = json_object_get(pv, "consumer_lag");
                if (!*end && json_is_integer(lag))
                    in->cbs.lag(in->cbs.ud, tname, (int32_t)pn, (int64_t)json_integer_value(lag));
            }
        }
    }
    json_decref(root);
    return 0; /* librdkafka frees json */
}

/* ---- lifecycle ------------------------------------------------------------------ */

int ad_kafka_in_new(uv_loop_t *loop, const struct ad_config *cfg, const struct ad_kafka_in_cbs *cbs,
                    struct ad_kafka_in **out, char *err, size_t errlen)
{
    struct ad_kafka_in *in = calloc(1, sizeof(*in));
    rd_kafka_conf_t *conf;
    int rc;

    if (!in)
        return AD_ENOMEM;
    in->loop = loop;
    in->cfg = cfg;
    in->cbs = *cbs;
    in->want_headers = strncmp(cfg->input.key, "header:", 7) == 0;
    in->cl.wake = on_wake;
    in->cl.fatal = cbs->fatal;
    in->cl.fatal_ud = cbs->ud;
    rc = ad_kafka_client_conf(&in->cl, cfg, AD_KAFKA_CONSUMER, &conf, err, errlen);
    if (rc)
        goto err;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    ad_kafka_client_stats_interval(conf, cfg); /* lag, broker reachability */
    rc = ad_kafka_client_start(&in->cl, loop, conf, AD_KAFKA_CONSUMER, err, errlen);
    if (rc)
        goto err;
    if (uv_idle_init(loop, &in->more) != 0) {
        snprintf(err, errlen, "while starting the event loop handles");
        rc = AD_EIO;
        goto err;
    }
    in->more.data = in;
    in->cl.handles++;
    *out = in;
    return 0;
err:
    /* Nothing was consumed yet: close what was opened, let the loop run the
     * close callbacks, and free it all. */
    ad_kafka_in_close(in);
    if (in->cl.handles)
        uv_run(loop, UV_RUN_NOWAIT);
    ad_kafka_in_free(in);
    return rc;
}

int ad_kafka_in_subscribe(struct ad_kafka_in *in, char *err, size_t errlen)
{
    const struct ad_config *cfg = in->cfg;
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(
        (int)cfg->kafka.topics.n);
    for (size_t i = 0; i < cfg->kafka.topics.n; i++)
        rd_kafka_topic_partition_list_add(topics, cfg->kafka.topics.v[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t se = rd_kafka_subscribe(in->cl.rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (se) {
        snprintf(err, errlen, "while subscribing: %s", rd_kafka_err2str(se));
        return AD_ECONFIG;
    }
    return 0;
}

void ad_kafka_in_store(struct ad_kafka_in *in, const struct ad_kafka_offset *v, size_t n)
{
    if (!n)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, v[i].topic, v[i].partition)->offset = v[i].offset;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(in->cl.rk, l);
    if (err)
        AD_WARN("kafka", "while storing offsets: %s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

int ad_kafka_in_brokers_up(const struct ad_kafka_in *in)
{
    return in ? in->cl.brokers_up : -1;
}

int ad_kafka_in_cluster_id(struct ad_kafka_in *in, int timeout_ms, char *out, size_t len)
{
    char *id = in && in->cl.rk ? rd_kafka_clusterid(in->cl.rk, timeout_ms) : NULL;
    if (!id)
        return AD_ENOENT;
    snprintf(out, len, "%s", id);
    rd_kafka_mem_free(in->cl.rk, id);
    return 0;
}

bool ad_kafka_in_assigned_once(const struct ad_kafka_in *in)
{
    return in->assigned_once;
}

void ad_kafka_in_stop(struct ad_kafka_in *in)
{
    in->stopping = true;
    if (in->cl.poll.loop)
        uv_poll_stop(&in->cl.poll);
    if (in->more.loop)
        uv_idle_stop(&in->more);
}

/* The commit and the group leave run on a helper thread, so that an
 * unreachable coordinator cannot hold the stop past CLOSE_TIMEOUT_MS
 * (librdkafka would wait for its request timeouts). */
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

bool ad_kafka_in_close_consumer(struct ad_kafka_in *in)
{
    struct closer *c = calloc(1, sizeof(*c));
    pthread_t th;
    struct timespec ts;

    in->closing = true;
    if (!c)
        return true;
    c->rk = in->cl.rk;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&th, NULL, closer_main, c) != 0) {
        closer_main(c);
        free(c);
        return true;
    }
    pthread_detach(th);
    /* pthread_cond_timedwait takes a CLOCK_REALTIME deadline. */
    int64_t deadline_us = ad_clock_wall_us() + (int64_t)CLOSE_TIMEOUT_MS * 1000;
    ts.tv_sec = (time_t)(deadline_us / 1000000);
    ts.tv_nsec = (long)(deadline_us % 1000000) * 1000;
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
        return true;
    }
    AD_WARN("kafka",
            "the group coordinator did not answer within %d ms; exiting without "
            "leaving the group (the session times out instead)",
            CLOSE_TIMEOUT_MS);
    in->abandoned = true;
    return false;
}

bool ad_kafka_in_abandoned(const struct ad_kafka_in *in)
{
    return in->abandoned;
}

static void on_closed(uv_handle_t *h)
{
    struct ad_kafka_in *in = h->data;
    in->cl.handles--;
}

void ad_kafka_in_close(struct ad_kafka_in *in)
{
    ad_kafka_client_close(&in->cl);
    uv_handle_t *h = (uv_handle_t *)&in->more;
    if (h->loop && !uv_is_closing(h))
        uv_close(h, on_closed);
}

int ad_kafka_in_handles(const struct ad_kafka_in *in)
{
    return in ? in->cl.handles : 0;
}

/* Before librdkafka 2.3.0, destroying a cooperative-sticky consumer that
 * joined its group but got no assignment yet fails an assertion in
 * rd_kafka_sticky_assignor_state_destroy (librdkafka issue 4312): a stop
 * during start-up aborted. Such a consumer (closed already: it left the
 * group) is not destroyed; it is kept here, reachable, until the process
 * exits, which is what follows the free. */
static rd_kafka_t *kept_consumers[8];

static bool keep_unassigned(struct ad_kafka_in *in)
{
    static size_t nkept;
    if (in->assigned_once || !in->cl.rk || rd_kafka_version() >= 0x020300ff ||
        nkept == sizeof(kept_consumers) / sizeof(kept_consumers[0]))
        return false;
    kept_consumers[nkept++] = in->cl.rk;
    in->cl.rk = NULL;
    return true;
}

void ad_kafka_in_free(struct ad_kafka_in *in)
{
    if (!in || in->abandoned)
        return; /* the closer thread may still use the consumer; the process exits */
    if (keep_unassigned(in))
        AD_DEBUG("kafka", "the consumer got no assignment: not destroyed (librdkafka issue 4312)");
    ad_kafka_client_free(&in->cl);
    free(in);
}
