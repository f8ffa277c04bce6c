/* ad_kafka_sink.c - the alerts topic as an engine sink and the dead-letter
 * topic, on Kafka out (ad_kafka_sink.h). */
#include "ad_kafka_sink.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_clock.h"
#include "ad_err.h"
#include "ad_log.h"
#include "ad_metrics.h"
#include "ad_scores.h"

#define LAT_MAX_SAMPLES (1u << 20)
#define SCORE_ROW_MAX   (64u * 1024) /* a row: a key (<= limits.max_key_bytes) and numbers */

struct ad_kafka_sink {
    struct ad_kafka_out *out;
    const struct ad_config *cfg;
    bool stopping;
    struct ad_kafka_sink_stats st;
    size_t dl_max;    /* the producer's message.max.bytes: a dead letter's limit */
    uint32_t *lat_us; /* alert latencies, emitted -> delivery report */
    size_t nlat, lat_cap;
    struct ad_kafka_sink_lat_hist hist; /* the same, all of them, as a histogram */
    struct ad_buf row;                  /* a scores row being formatted, reused */
    struct ad_log_limit score_warn;     /* scores' retries: one logged a minute */
};

const double ad_alert_latency_bounds_s[AD_ALERT_LATENCY_BUCKETS] = {0.0005, 0.001, 0.002, 0.005,
                                                                    0.01,   0.02,  0.05,  0.1,
                                                                    0.2,    0.5,   1.0,   INFINITY};

/* One alert, lent to Kafka out until its done callback. */
struct out_msg {
    struct ad_kafka_msg msg;
    struct ad_kafka_sink *ks;
    struct ad_engine_sink *sink; /* alerts: the engine's sink and delivery */
    struct ad_engine_delivery *delivery;
    int64_t t0_ns; /* alerts: when the engine emitted it */
    char data[];   /* key, value */
};

/* ---- latency --------------------------------------------------------------------- */

static void hist_record(struct ad_kafka_sink *ks, double s)
{
    ad_prom_hist_observe(ad_alert_latency_bounds_s, AD_ALERT_LATENCY_BUCKETS, ks->hist.counts,
                         &ks->hist.sum_s, s);
}

bool ad_kafka_sink_latency_hist(const struct ad_kafka_sink *ks, struct ad_kafka_sink_lat_hist *out)
{
    if (!ks)
        return false;
    *out = ks->hist;
    return true;
}

static void lat_record(struct ad_kafka_sink *ks, int64_t t0_ns)
{
    int64_t dt = ad_clock_mono_ns() - t0_ns;
    hist_record(ks, (double)(dt > 0 ? dt : 0) / 1e9);
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
    uint64_t us = (uint64_t)(dt > 0 ? dt : 0) / 1000;
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
                                   const void *val, size_t val_len)
{
    struct out_msg *m = malloc(sizeof(*m) + key_len + val_len);
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->ks = ks;
    m->msg.partition = -1;
    memcpy(m->data, key, key_len);
    memcpy(m->data + key_len, val, val_len);
    m->msg.key = m->data;
    m->msg.key_len = key_len;
    m->msg.val = m->data + key_len;
    m->msg.val_len = val_len;
    return m;
}

/* An alert is done: delivered, produced again after a
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
    struct out_msg *m = out_msg_new(ks, a->key, a->key_len, line, len - 1);
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

/* ---- dead letters ------------------------------------------------------------------ */

/* Our headers after the record's own: reason, source topic, partition,
 * offset, and, for a copy cut to fit, the original length. */
#define DL_OWN_HEADERS 5
#define DL_OVERHEAD    1024 /* room kept for the protocol's per-message bytes */

/* A dead letter, lent to Kafka out until its done callback: the record's key,
 * value and headers as they came, and ours. Everything is copied into data. */
struct dead_letter {
    struct ad_kafka_msg msg;
    struct ad_kafka_sink *ks;
    struct ad_kafka_header hdr[AD_KAFKA_MAX_HEADERS];
    char part[16], off[24], orig_len[24];
    size_t used; /* bytes of data taken */
    char data[];
};

static const char *dl_copy(struct dead_letter *m, const void *p, size_t n)
{
    char *at = m->data + m->used;
    if (n)
        memcpy(at, p, n);
    m->used += n;
    return at;
}

static bool dead_letter_done(struct ad_kafka_msg *km, int status, const char *error)
{
    struct dead_letter *m = (struct dead_letter *)km;
    struct ad_kafka_sink *ks = m->ks;
    if (status == AD_EAGAIN && !ks->stopping) {
        AD_WARN("kafka", "while delivering a dead letter to %s: %s; retrying", km->topic, error);
        return true;
    }
    if (status == 0) {
        ks->st.delivered++;
        ks->st.dead_letters++;
    } else {
        ks->st.dead_letter_errors++;
        if (ks->st.dead_letter_errors == 1 || ks->st.dead_letter_errors % 1000 == 0)
            AD_WARN("kafka", "a dead letter was not delivered to %s: %s (%llu so far)", km->topic,
                    error ? error : "produce failed",
                    (unsigned long long)ks->st.dead_letter_errors);
    }
    free(m);
    return false;
}

/* The record's own headers (at most what leaves room for ours): their bytes. */
static size_t dl_source_headers(const struct ad_record_meta *meta, size_t *n)
{
    size_t bytes = 0, i = 0;
    const char *name;
    const void *val;
    size_t len;
    while (meta->header_at && i < AD_KAFKA_MAX_HEADERS - DL_OWN_HEADERS &&
           meta->header_at(meta->header_ctx, i, &name, &val, &len) == 0) {
        bytes += strlen(name) + 1 + len;
        i++;
    }
    *n = i;
    return bytes;
}

void ad_kafka_sink_dead_letter(struct ad_kafka_sink *ks, const void *buf, size_t len,
                               const struct ad_record_meta *meta, const char *reason)
{
    if (!ks || !ks->cfg->sinks.dead_letter_topic[0])
        return;
    size_t nsrc, hbytes = dl_source_headers(meta, &nsrc);
    size_t tl = strlen(meta->topic), rl = strlen(reason), kl = meta->key ? meta->key_len : 0;
    /* What librdkafka measures against message.max.bytes: key, value and
     * headers. A record too large for it goes as a copy cut to fit, which
     * the anomalyd-truncated header says (with the original length). */
    size_t fixed = kl + hbytes + tl + rl + 160 + DL_OVERHEAD;
    size_t vl = len;
    if (fixed >= ks->dl_max)
        vl = 0;
    else if (len > ks->dl_max - fixed)
        vl = ks->dl_max - fixed;
    size_t cap = kl + vl + hbytes + tl + rl;
    struct dead_letter *m = malloc(sizeof(*m) + cap);
    if (!m) {
        ks->st.dead_letter_errors++;
        return;
    }
    memset(m, 0, sizeof(*m));
    m->ks = ks;
    m->msg.partition = -1;
    m->msg.topic = ks->cfg->sinks.dead_letter_topic;
    m->msg.done = dead_letter_done;
    m->msg.key = meta->key ? dl_copy(m, meta->key, kl) : NULL;
    m->msg.key_len = kl;
    m->msg.val = dl_copy(m, buf, vl);
    m->msg.val_len = vl;
    m->msg.timestamp_ms = meta->timestamp_ms > 0 ? meta->timestamp_ms : 0;
    size_t h = 0;
    for (size_t i = 0; i < nsrc; i++) {
        const char *name;
        const void *val;
        size_t hl;
        meta->header_at(meta->header_ctx, i, &name, &val, &hl);
        const char *n = dl_copy(m, name, strlen(name) + 1);
        /* a header without a value (NULL) stays one */
        m->hdr[h++] = (struct ad_kafka_header){n, val ? dl_copy(m, val, hl) : NULL, hl};
    }
    snprintf(m->part, sizeof(m->part), "%d", (int)meta->partition);
    snprintf(m->off, sizeof(m->off), "%lld", (long long)meta->offset);
    m->hdr[h++] = (struct ad_kafka_header){"anomalyd-reason", dl_copy(m, reason, rl), rl};
    m->hdr[h++] = (struct ad_kafka_header){"anomalyd-source-topic", dl_copy(m, meta->topic, tl),
                                           tl};
    m->hdr[h++] = (struct ad_kafka_header){"anomalyd-source-partition", m->part, strlen(m->part)};
    m->hdr[h++] = (struct ad_kafka_header){"anomalyd-source-offset", m->off, strlen(m->off)};
    if (vl < len) {
        snprintf(m->orig_len, sizeof(m->orig_len), "%zu", len);
        m->hdr[h++] = (struct ad_kafka_header){"anomalyd-truncated", m->orig_len,
                                               strlen(m->orig_len)};
        ks->st.dead_letters_truncated++;
    }
    m->msg.headers = m->hdr;
    m->msg.nheaders = h;
    ad_kafka_out_send(ks->out, &m->msg);
}

/* The producer's message.max.bytes (librdkafka's default when unreadable). */
static size_t producer_max_bytes(struct ad_kafka_out *out)
{
    char v[32];
    size_t n = sizeof(v);
    rd_kafka_t *rk = out ? ad_kafka_out_client(out) : NULL;
    if (!rk || rd_kafka_conf_get(rd_kafka_conf(rk), "message.max.bytes", v, &n) != RD_KAFKA_CONF_OK)
        return 1000000;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    return end == v || x < 4096 ? 1000000 : (size_t)x;
}

/* A scored point is done: produced again after a failed delivery (not once
 * stopping), else dropped; it holds no offsets and counts in no alert stat.
 * A failed delivery usually fails for every point: the first retry is
 * logged, then at most one line a minute says how many more there were. */
#define SCORE_WARN_EVERY_MS 60000

static bool score_done(struct ad_kafka_msg *km, int status, const char *error)
{
    struct out_msg *m = (struct out_msg *)km;
    struct ad_kafka_sink *ks = m->ks;
    uint64_t left;
    if (status == AD_EAGAIN && !ks->stopping) {
        if (!ad_log_limit_allow(&ks->score_warn, ad_clock_mono_ms(), 1, SCORE_WARN_EVERY_MS, &left))
            return true;
        if (left)
            AD_WARN("kafka",
                    "while delivering to %s: %s; retrying (%llu more retried since the "
                    "last warning)",
                    km->topic, error, (unsigned long long)left);
        else
            AD_WARN("kafka",
                    "while delivering to %s: %s; retrying (further retries of scores "
                    "are summarized every minute)",
                    km->topic, error);
        return true;
    }
    free(m);
    return false;
}

void ad_kafka_sink_score(void *self, const struct ad_score_row *row)
{
    struct ad_kafka_sink *ks = self;
    struct ad_buf *b;

    if (!ks || !ks->cfg->sinks.scores_topic || !ks->cfg->sinks.scores_topic[0])
        return;
    b = &ks->row;
    ad_buf_reset(b);
    if (ad_scores_format_row(row, AD_SCORES_JSONL, b) != 0 || b->len < 1) {
        ks->st.errors++;
        return;
    }
    /* The topic's value is the JSON object without the newline. */
    struct out_msg *m = out_msg_new(ks, row->key, row->key_len, b->p, b->len - 1);
    if (!m) {
        ks->st.errors++;
        return;
    }
    m->msg.topic = ks->cfg->sinks.scores_topic;
    m->msg.done = score_done;
    ks->st.scores++;
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
    s->dl_max = producer_max_bytes(out);
    ad_buf_init(&s->row, SCORE_ROW_MAX);
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
    ad_buf_free(&ks->row);
    free(ks);
}
