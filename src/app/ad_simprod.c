#include "ad_simprod.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_err.h"
#include "ad_log.h"

#define TICK_MS 10

struct ad_simprod {
    uv_loop_t *loop;
    uv_timer_t timer;
    struct ad_sim *sim;
    enum ad_sim_format format;
    struct ad_simprod_opts o;
    char *topic;
    rd_kafka_t *rk;
    struct ad_buf buf;
    struct ad_sim_record pending; /* produced from buf when the queue had no room */
    bool have_pending, stopping, closed;
    uint64_t produced, delivered, failed;
    uint64_t start_ms;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct ad_simprod *sp = opaque;
    (void)rk;
    if (m->err)
        sp->failed++;
    else
        sp->delivered++;
}

static void on_closed(uv_handle_t *h)
{
    struct ad_simprod *sp = h->data;
    sp->closed = true;
    if (sp->o.done)
        sp->o.done(sp, sp->o.ud);
}

static int produce_one(struct ad_simprod *sp)
{
    rd_kafka_headers_t *h = NULL;
    if (sp->format == AD_SIM_IOT) {
        h = rd_kafka_headers_new(1);
        rd_kafka_header_add(h, "iothub-connection-device-id", -1, sp->pending.device, -1);
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(sp->rk, RD_KAFKA_V_TOPIC(sp->topic),
                                                RD_KAFKA_V_KEY(sp->pending.device,
                                                               strlen(sp->pending.device)),
                                                RD_KAFKA_V_VALUE(sp->buf.p, sp->buf.len),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                RD_KAFKA_V_TIMESTAMP(sp->pending.time_us / 1000),
                                                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    if (err && h)
        rd_kafka_headers_destroy(h);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return AD_EAGAIN;
    if (err) {
        AD_WARN("simulate", "while producing: %s", rd_kafka_err2str(err));
        sp->failed++;
    }
    return 0;
}

static void on_tick(uv_timer_t *t)
{
    struct ad_simprod *sp = t->data;
    uint64_t elapsed = uv_now(sp->loop) - sp->start_ms + TICK_MS;
    uint64_t due = (uint64_t)(sp->o.rate * (double)elapsed / 1000.0);

    if (sp->o.count && due > sp->o.count)
        due = sp->o.count;
    while (sp->produced < due) {
        if (!sp->have_pending) {
            ad_buf_reset(&sp->buf);
            if (ad_sim_next(sp->sim, &sp->buf, &sp->pending))
                break;
            sp->have_pending = true;
        }
        if (produce_one(sp) == AD_EAGAIN)
            break;
        sp->have_pending = false;
        sp->produced++;
    }
    rd_kafka_poll(sp->rk, 0);
    if (sp->o.count && sp->produced >= sp->o.count)
        ad_simprod_stop(sp);
}

int ad_simprod_start(uv_loop_t *loop, const struct ad_sim_cfg *sim,
                     const struct ad_simprod_opts *opts, struct ad_simprod **out, char *err,
                     size_t errlen)
{
    struct ad_simprod *sp = calloc(1, sizeof(*sp));
    char e[512];

    if (!sp)
        return AD_ENOMEM;
    if (!(opts->rate > 0) || ad_sim_new(sim, &sp->sim) != 0) {
        free(sp);
        snprintf(err, errlen, "simulate: invalid options");
        return AD_EINVAL;
    }
    sp->loop = loop;
    sp->o = *opts;
    sp->format = sim->format;
    sp->topic = strdup(opts->topic);
    ad_buf_init(&sp->buf, 65536);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_opaque(conf, sp);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", opts->brokers, e, sizeof(e)) ||
        rd_kafka_conf_set(conf, "linger.ms", "20", e, sizeof(e)) ||
        rd_kafka_conf_set(conf, "client.id", "anomalyd-simulate", e, sizeof(e)) ||
        !(sp->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e)))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "simulate: %s", e);
        ad_sim_free(sp->sim);
        ad_buf_free(&sp->buf);
        free(sp->topic);
        free(sp);
        return AD_ECONFIG;
    }
    uv_timer_init(loop, &sp->timer);
    sp->timer.data = sp;
    sp->start_ms = uv_now(loop);
    uv_timer_start(&sp->timer, on_tick, 0, TICK_MS);
    *out = sp;
    return 0;
}

void ad_simprod_stop(struct ad_simprod *sp)
{
    if (sp->stopping)
        return;
    sp->stopping = true;
    uv_timer_stop(&sp->timer);
    if (rd_kafka_flush(sp->rk, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        AD_WARN("simulate", "%d record(s) not delivered", rd_kafka_outq_len(sp->rk));
    uv_close((uv_handle_t *)&sp->timer, on_closed);
}

uint64_t ad_simprod_produced(const struct ad_simprod *sp)
{
    return sp->produced;
}

uint64_t ad_simprod_delivered(const struct ad_simprod *sp)
{
    return sp->delivered;
}

void ad_simprod_free(struct ad_simprod *sp)
{
    if (!sp)
        return;
    if (sp->rk)
        rd_kafka_destroy(sp->rk);
    ad_sim_free(sp->sim);
    ad_buf_free(&sp->buf);
    free(sp->topic);
    free(sp);
}
