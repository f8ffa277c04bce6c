/* ad_statetopic.c - keys, partitioning and the restoring read of the state
 * topic (see ad_statetopic.h). */
#include "ad_statetopic.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ad_clock.h"
#include "ad_err.h"
#include "ad_log.h"

static int key_prefix(struct ad_buf *b, char kind, const char *topic, int32_t partition)
{
    ad_buf_reset(b);
    int rc = ad_buf_addc(b, kind);
    rc = rc ? rc : ad_buf_adds(b, topic);
    rc = rc ? rc : ad_buf_addc(b, '\0');
    return rc ? rc : ad_buf_printf(b, "%d", (int)partition);
}

int ad_statetopic_series_key(struct ad_buf *b, const char *topic, int32_t partition,
                             const char *metric, const char *key, size_t key_len)
{
    int rc = key_prefix(b, 's', topic, partition);
    rc = rc ? rc : ad_buf_addc(b, '\0');
    rc = rc ? rc : ad_buf_adds(b, metric);
    rc = rc ? rc : ad_buf_addc(b, '\0');
    return rc ? rc : ad_buf_add(b, key, key_len);
}

int ad_statetopic_marker_key(struct ad_buf *b, const char *topic, int32_t partition)
{
    return key_prefix(b, 'm', topic, partition);
}

int32_t ad_statetopic_partition(int32_t p, int32_t nparts)
{
    return nparts > 0 && p >= 0 ? p % nparts : 0;
}

int ad_statetopic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err,
                             size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (!rkt) {
        snprintf(err, errlen, "%s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        return AD_EIO;
    }
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (e) {
        snprintf(err, errlen, "while asking for the metadata of %s: %s", topic,
                 rd_kafka_err2str(e));
        return AD_EIO;
    }
    int n = AD_ENOENT;
    if (md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0)
        n = md->topics[0].partition_cnt;
    else
        snprintf(err, errlen,
                 "topic %s does not exist (%s): create it, compacted "
                 "(cleanup.policy=compact)",
                 topic, md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no metadata");
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Is key the series key or the marker of (topic, partition)? */
static int key_kind(const void *key, size_t len, const char *topic, int32_t partition)
{
    char pfx[64];
    size_t tl = strlen(topic);
    int pl = snprintf(pfx, sizeof(pfx), "%d", (int)partition);
    const char *k = key;
    if (len < 1 + tl + 1 + (size_t)pl || (k[0] != 's' && k[0] != 'm') ||
        memcmp(k + 1, topic, tl) != 0 || k[1 + tl] != '\0' || memcmp(k + 2 + tl, pfx, pl) != 0)
        return 0;
    size_t rest = 2 + tl + (size_t)pl;
    if (k[0] == 'm')
        return rest == len ? 'm' : 0;
    return rest < len && k[rest] == '\0' ? 's' : 0;
}

/* The header of a message must be of these settings, of (topic, partition)
 * and hold what its key says: one series, or none for a marker. */
struct msg_gate {
    const struct ad_ckpt_header *h;
    const struct ad_statetopic_restore *r;
    const char *topic;
    int32_t partition;
    int kind;
};

static bool header_ok(const struct msg_gate *g)
{
    return g->h->fingerprint == g->r->fingerprint && g->h->partition == g->partition &&
           strcmp(g->h->topic, g->topic) == 0 && g->h->nseries == (g->kind == 's') &&
           !ad_ckpt_other_owner(g->h, NULL, g->r->group);
}

static int gate_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct msg_gate *g = ud;
    return header_ok(g) ? g->r->cb(g->r->ud, st, metric) : AD_ESTATE;
}

int ad_statetopic_read(rd_kafka_t *reader, const char *topic, int32_t partition,
                       struct ad_statetopic_restore *r, char *err, size_t errlen)
{
    const char *state_topic = r->state_topic;
    int timeout_ms = r->timeout_ms;
    int32_t sp = ad_statetopic_partition(partition, r->nparts);
    int64_t lo = 0, hi = 0;
    int rc = 0;

    r->offset = -1;
    r->max_t = INT64_MIN;
    r->messages = r->series = r->skipped = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(reader, state_topic, sp, &lo, &hi,
                                                             timeout_ms);
    if (e) {
        snprintf(err, errlen, "while asking for the offsets of %s[%d]: %s", state_topic, (int)sp,
                 rd_kafka_err2str(e));
        return AD_EIO;
    }
    r->low = lo;
    r->high = hi;
    if (hi <= lo)
        return 0; /* empty: a cold start */

    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, state_topic, sp)->offset = lo;
    e = rd_kafka_assign(reader, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, errlen, "while reading %s[%d]: %s", state_topic, (int)sp,
                 rd_kafka_err2str(e));
        return AD_EIO;
    }
    int64_t deadline = ad_clock_mono_ms() + timeout_ms, ping = ad_clock_mono_ms() + 1000;
    int64_t next = lo;
    while (rc == 0 && next < hi) {
        if (r->alive && ad_clock_mono_ms() >= ping) {
            r->alive(r->alive_ud);
            ping = ad_clock_mono_ms() + 1000;
        }
        int64_t left = deadline - ad_clock_mono_ms();
        if (left <= 0) {
            snprintf(err, errlen, "reading %s[%d] timed out at offset %lld of %lld..%lld",
                     state_topic, (int)sp, (long long)next, (long long)lo, (long long)hi);
            rc = AD_EIO;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(reader, left > 200 ? 200 : (int)left);
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                AD_WARN("state", "while reading %s[%d]: %s", state_topic, (int)sp,
                        rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        next = m->offset + 1;
        r->messages++;
        int kind = m->key ? key_kind(m->key, m->key_len, topic, partition) : 0;
        if (kind && m->payload) {
            struct ad_ckpt_header h;
            struct msg_gate g = {&h, r, topic, partition, kind};
            char why[128];
            /* Checked in full (checksum, version) before a byte is used, and
             * the header by the gate before the series is applied. */
            int vr = ad_ckpt_check(m->payload, m->len, &h, why, sizeof(why));
            vr = vr ? vr : ad_ckpt_each(m->payload, m->len, gate_cb, &g);
            if (vr == 0 && kind == 'm' && header_ok(&g)) {
                r->offset = h.offset;
                r->max_t = h.max_t;
            } else if (vr == 0 && kind == 's' && h.nseries == 1) {
                r->series++;
            } else if (vr == 0 || vr == AD_EPARSE || vr == AD_ERANGE || vr == AD_ESTATE) {
                r->skipped++;
            } else {
                rc = vr; /* the callback's error */
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(reader, NULL);
    return rc;
}
