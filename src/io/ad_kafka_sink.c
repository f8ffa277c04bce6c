/* ad_kafka_sink.c - the alerts topic as an engine sink and the dead-letter
 * topic, on Kafka out (ad_kafka_sink.h). */
#include "ad_kafka_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_clock.h"
#include "ad_err.h"
#include "ad_log.h"

#define LAT_MAX_SAMPLES (1u << 20)

struct ad_kafka_sink {
    struct ad_kafka_out *out;
    const struct ad_config *cfg;
    bool stopping;
    struct ad_kafka_sink_stats st;
    uint32_t *lat_us; /* alert latencies, emitted -> delivery report */
    size_t nlat, lat_cap;
};

/* One alert or dead letter, lent to Kafka out until its done callback. */
struct out_msg {
    struct ad_kafka_msg msg;
    struct ad_kafka_sink *ks;
    struct ad_engine_sink *sink; /* alerts: the engine's sink and delivery */
    struct ad_engine_delivery *delivery;
    int64_t t0_ns; /* alerts: when the engine emitted it */
    struct ad_kafka_header hdr[4];
    char part[16], off[24], reason[32];
    char data[]; /* key, value, source topic */
};

/* ---- latency --------------------------------------------------------------------- */

static void lat_record(struct ad_kafka_sink *ks, int64_t t0_ns)
{
    if (ks->nlat == ks->lat_cap) {
        if (ks->lat_cap >= LAT_MAX_SAMPLES)
            return;
        size_t ncap = ks->lat_cap ? ks->lat_cap * 2 : 1024;
        uint32_t *n = realloc(ks->lat_us, ncap * sizeof(*n));
        if (!n)
            return;
        ks->lat_us = n;
        ks->lat_cap = ncap;
    }
    uint64_t us = (uint64_t)(ad_clock_mono_ns() - t0_ns) / 1000;
    ks->lat_us[ks->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

bool ad_kafka_sink_latency(struct ad_kafka_sink *ks, struct ad_kafka_sink_latency *out)
{
    if (!ks || !ks->nlat)
        return false;
    qsort(ks->lat_us, ks->nlat, sizeof(*ks->lat_us), cmp_u32);
    *out = (struct ad_kafka_sink_latency){.n = ks->nlat,
                                          .p50_us = ks->lat_us[ks->nlat / 2],
                                          .p99_us = ks->lat_us[ks->nlat * 99 / 100],
                                          .max_us = ks->lat_us[ks->nlat - 1]};
    return true;
}

/* ---- messages ---------------------------------------------------------------------- */

static struct out_msg *out_msg_new(struct ad_kafka_sink *ks, const char *key, size_t key_len,
                                   const void *val, size_t val_len, const char *topic)
{
    size_t tl = topic ? strlen(topic) : 0;
    struct out_msg *m = malloc(sizeof(*m) + key_len + val_len + tl);
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->ks = ks;
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

/* An alert or a dead letter is done: delivered, produced again after a
 * failed delivery (not once stopping), or given up on (an alert's offsets
 * then stay held). */
static bool out_msg_done(struct ad_kafka_msg *km, int status, const char *error)
{
    struct out_msg *m = (struct out_msg *)km;
    struct ad_kafka_sink *ks = m->ks;
    if (status == AD_EAGAIN) {
        AD_WARN("kafka", "while delivering to %s: %s; retrying", km->topic, error);
        if (!ks->stopping)
            return true; /* its offsets stay held until it is delivered */
    } else if (status == 0) {
        ks->st.delivered++;
        if (m->t0_ns)
            lat_record(ks, m->t0_ns);
    }
    if (m->sink)
        ad_engine_sink_done(m->sink, m->delivery,
                            status == 0 ? AD_ENGINE_DELIVERED : AD_ENGINE_KEPT);
    free(m);
    return false;
}

static int alert_emit(void *self, struct ad_engine_sink *sink, const struct ad_alert *a,
                      const char *line, size_t len, struct ad_engine_delivery *delivery)
{
    struct ad_kafka_sink *ks = self;
    /* The topic's value is the JSON object without the newline. */
    struct out_msg *m = out_msg_new(ks, a->key, a->key_len, line, len - 1, NULL);
    if (!m) {
        ks->st.errors++;
        return AD_ENOMEM;
    }
    m->msg.topic = ks->cfg->sinks.kafka_topic;
    m->msg.done = out_msg_done;
    m->t0_ns = ad_clock_mono_ns();
    m->sink = sink;
    m->delivery = delivery;
    ad_kafka_out_send(ks->out, &m->msg);
    return 0;
}

static const struct ad_engine_sink_ops alert_ops = {.name = "kafka",
                                                    .async = true,
                                                    .emit = alert_emit};

void ad_kafka_sink_dead_letter(struct ad_kafka_sink *ks, const void *buf, size_t len,
                               const struct ad_record_meta *meta, const char *reason)
{
    if (!ks || !ks->cfg->sinks.dead_letter_topic[0])
        return;
    struct out_msg *m = out_msg_new(ks, "", 0, buf, len, meta->topic);
    if (!m)
        return;
    size_t tl = strlen(meta->topic);
    m->msg.topic = ks->cfg->sinks.dead_letter_topic;
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
    ks->st.dead_letters++;
    ad_kafka_out_send(ks->out, &m->msg);
}

/* ---- the sink ------------------------------------------------------------------------ */

int ad_kafka_sink_new(struct ad_kafka_out *out, const struct ad_config *cfg, struct ad_engine *e,
                      struct ad_kafka_sink **ks)
{
    struct ad_kafka_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return AD_ENOMEM;
    s->out = out;
    s->cfg = cfg;
    if (cfg->sinks.kafka_topic[0] && ad_engine_add_sink(e, &alert_ops, s, NULL) != 0) {
        free(s);
        return AD_ENOMEM;
    }
    *ks = s;
    return 0;
}

void ad_kafka_sink_stop(struct ad_kafka_sink *ks)
{
    if (ks)
        ks->stopping = true;
}

void ad_kafka_sink_stats(const struct ad_kafka_sink *ks, struct ad_kafka_sink_stats *out)
{
    if (ks)
        *out = ks->st;
    else
        *out = (struct ad_kafka_sink_stats){0};
}

void ad_kafka_sink_free(struct ad_kafka_sink *ks)
{
    if (!ks)
        return;
    free(ks->lat_us);
    free(ks);
}
