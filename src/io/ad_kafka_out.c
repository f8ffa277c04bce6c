/* ad_kafka_out.c - Kafka out: the producer on a libuv loop (see
 * ad_kafka_out.h). */
#include "ad_kafka_out.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_kafka_client.h"
#include "ad_log.h"

#define RETRY_MS    50
#define MAX_HEADERS AD_KAFKA_MAX_HEADERS

struct ad_kafka_out {
    struct ad_kafka_client cl; /* first: librdkafka's opaque */
    uv_loop_t *loop;
    uv_timer_t retry;
    void (*flow)(void *ud, enum ad_kafka_out_flow f);
    void *ud;
    struct ad_kafka_msg *blocked, *blocked_tail;
    size_t nblocked;
    uint64_t errors, queue_full;
};

/* Produces m; returns 0, AD_EAGAIN when the queue is full (m is kept by the
 * caller) or AD_EIO (the error is logged and counted). */
static int produce(struct ad_kafka_out *o, struct ad_kafka_msg *m)
{
    rd_kafka_vu_t vu[7 + MAX_HEADERS];
    size_t n = 0;
    vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[n++].u.cstr = m->topic;
    if (m->partition >= 0) {
        vu[n].vtype = RD_KAFKA_VTYPE_PARTITION;
        vu[n++].u.i32 = m->partition;
    }
    if (m->key) {
        vu[n].vtype = RD_KAFKA_VTYPE_KEY;
        vu[n].u.mem.ptr = (void *)(uintptr_t)m->key;
        vu[n++].u.mem.size = m->key_len;
    }
    vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[n].u.mem.ptr = (void *)(uintptr_t)m->val;
    vu[n++].u.mem.size = m->val_len;
    for (size_t i = 0; i < m->nheaders && i < MAX_HEADERS; i++) {
        vu[n].vtype = RD_KAFKA_VTYPE_HEADER; /* copied by librdkafka */
        vu[n].u.header.name = m->headers[i].name;
        vu[n].u.header.val = m->headers[i].value;
        vu[n++].u.header.size = (ssize_t)m->headers[i].len;
    }
    if (m->timestamp_ms > 0) {
        vu[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
        vu[n++].u.i64 = m->timestamp_ms;
    }
    vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
    vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vu[n++].u.ptr = m;
    rd_kafka_error_t *e = rd_kafka_produceva(o->cl.rk, vu, n);
    if (!e)
        return 0;
    rd_kafka_resp_err_t err = rd_kafka_error_code(e);
    rd_kafka_error_destroy(e);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        o->queue_full++;
        return AD_EAGAIN;
    }
    AD_ERROR("kafka", "while producing to %s: %s", m->topic, rd_kafka_err2str(err));
    o->errors++;
    return AD_EIO;
}

static void on_retry(uv_timer_t *t);

static void block(struct ad_kafka_out *o, struct ad_kafka_msg *m)
{
    m->next = NULL;
    if (o->blocked_tail)
        o->blocked_tail->next = m;
    else
        o->blocked = m;
    o->blocked_tail = m;
    o->nblocked++;
    if (o->flow)
        o->flow(o->ud, AD_KAFKA_OUT_BLOCKED);
    if (!uv_is_active((uv_handle_t *)&o->retry))
        uv_timer_start(&o->retry, on_retry, RETRY_MS, RETRY_MS);
}

void ad_kafka_out_send(struct ad_kafka_out *o, struct ad_kafka_msg *m)
{
    if (o->blocked) {
        block(o, m); /* keep the order behind what is already waiting */
        return;
    }
    int rc = produce(o, m);
    if (rc == AD_EAGAIN)
        block(o, m);
    else if (rc)
        m->done(m, AD_EIO, "produce failed");
}

static struct ad_kafka_msg *unblock(struct ad_kafka_out *o)
{
    struct ad_kafka_msg *m = o->blocked;
    o->blocked = m->next;
    if (!o->blocked)
        o->blocked_tail = NULL;
    o->nblocked--;
    return m;
}

void ad_kafka_out_poll(struct ad_kafka_out *o)
{
    while (rd_kafka_poll(o->cl.rk, 0) > 0) {
    }
}

static void on_retry(uv_timer_t *t)
{
    struct ad_kafka_out *o = t->data;
    while (o->blocked) {
        int rc = produce(o, o->blocked);
        if (rc == AD_EAGAIN)
            break;
        struct ad_kafka_msg *m = unblock(o);
        if (rc)
            m->done(m, AD_EIO, "produce failed");
    }
    rd_kafka_poll(o->cl.rk, 0);
    if (!o->blocked) {
        uv_timer_stop(&o->retry);
        if (o->flow)
            o->flow(o->ud, AD_KAFKA_OUT_DRAINED);
    } else if (o->flow) {
        o->flow(o->ud, AD_KAFKA_OUT_STILL_BLOCKED);
    }
}

/* Delivery reports, served by rd_kafka_poll on the loop thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rm, void *opaque)
{
    struct ad_kafka_out *o = opaque;
    struct ad_kafka_msg *m = rm->_private;
    (void)rk;
    if (!m)
        return;
    if (!rm->err) {
        m->done(m, 0, NULL);
        return;
    }
    o->errors++;
    if (m->done(m, AD_EAGAIN, rd_kafka_err2str(rm->err)))
        block(o, m); /* still lent: produced again */
}

static void on_wake(struct ad_kafka_client *c)
{
    ad_kafka_out_poll((struct ad_kafka_out *)c);
}

/* librdkafka statistics (served on the loop): broker reachability. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct ad_kafka_out *o = opaque;
    json_error_t e;
    json_t *root = json_loadb(json, len, 0, &e);
    (void)rk;
    if (root)
        ad_kafka_client_stats(&o->cl, root);
    json_decref(root);
    return 0; /* librdkafka frees json */
}

int ad_kafka_out_new(uv_loop_t *loop, const struct ad_config *cfg,
                     const struct ad_kafka_out_cbs *cbs, struct ad_kafka_out **out, char *err,
                     size_t errlen)
{
    struct ad_kafka_out *o = calloc(1, sizeof(*o));
    rd_kafka_conf_t *conf;
    int rc;

    if (!o)
        return AD_ENOMEM;
    o->loop = loop;
    o->flow = cbs->flow;
    o->ud = cbs->ud;
    o->cl.wake = on_wake;
    o->cl.fatal = cbs->fatal;
    o->cl.fatal_ud = cbs->ud;
    rc = ad_kafka_client_conf(&o->cl, cfg, AD_KAFKA_PRODUCER, &conf, err, errlen);
    if (rc)
        goto err;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    ad_kafka_client_stats_interval(conf, cfg); /* broker reachability */
    rc = ad_kafka_client_start(&o->cl, loop, conf, AD_KAFKA_PRODUCER, err, errlen);
    if (rc)
        goto err;
    if (uv_timer_init(loop, &o->retry) != 0) {
        snprintf(err, errlen, "while starting the event loop handles");
        rc = AD_EIO;
        goto err;
    }
    o->retry.data = o;
    o->cl.handles++;
    *out = o;
    return 0;
err:
    /* Close what was opened, let the loop run the close callbacks, free. */
    ad_kafka_out_close(o);
    if (o->cl.handles)
        uv_run(loop, UV_RUN_NOWAIT);
    ad_kafka_out_free(o);
    return rc;
}

const char *ad_kafka_out_flush(struct ad_kafka_out *o, bool retry_blocked, int timeout_ms)
{
    while (retry_blocked && o->blocked) {
        struct ad_kafka_msg *m = unblock(o);
        if (produce(o, m))
            m->done(m, AD_EIO, "produce failed");
    }
    rd_kafka_resp_err_t fe = rd_kafka_flush(o->cl.rk, timeout_ms);
    return fe ? rd_kafka_err2str(fe) : NULL;
}

void ad_kafka_out_stats(const struct ad_kafka_out *o, struct ad_kafka_out_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (!o)
        return;
    st->errors = o->errors;
    st->queue_full = o->queue_full;
    st->queued = o->cl.rk ? rd_kafka_outq_len(o->cl.rk) : 0;
    st->blocked = o->nblocked;
}

int ad_kafka_out_brokers_up(const struct ad_kafka_out *o)
{
    return o ? o->cl.brokers_up : -1;
}

bool ad_kafka_out_failed(const struct ad_kafka_out *o)
{
    return !o || !o->cl.rk || rd_kafka_fatal_error(o->cl.rk, NULL, 0) != 0;
}

rd_kafka_t *ad_kafka_out_client(struct ad_kafka_out *o)
{
    return o->cl.rk;
}

static void on_closed(uv_handle_t *h)
{
    struct ad_kafka_out *o = h->data;
    o->cl.handles--;
}

void ad_kafka_out_close(struct ad_kafka_out *o)
{
    ad_kafka_client_close(&o->cl);
    uv_handle_t *h = (uv_handle_t *)&o->retry;
    if (h->loop && !uv_is_closing(h))
        uv_close(h, on_closed);
}

int ad_kafka_out_handles(const struct ad_kafka_out *o)
{
    return o ? o->cl.handles : 0;
}

void ad_kafka_out_free(struct ad_kafka_out *o)
{
    if (!o)
        return;
    ad_kafka_client_free(&o->cl);
    while (o->blocked) {
        struct ad_kafka_msg *m = unblock(o);
        m->done(m, AD_EIO, "shutting down");
    }
    free(o);
}
