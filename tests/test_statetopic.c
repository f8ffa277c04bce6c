/* State topic keys and partitioning: distinct per series and per partition,
 * binary-safe, and the marker apart from every series key. */
#include "ad_test.h"

#include "ad_buf.h"
#include "ad_checkpoint.h"
#include "ad_err.h"
#include "ad_statetopic.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* ad_ckpt_check() and, when it accepts buf, ad_ckpt_each(). */
static int ckpt_read(const void *buf, size_t len, struct ad_ckpt_header *h, ad_ckpt_series_cb cb,
                     void *ud, char *err, size_t errlen)
{
    int rc = ad_ckpt_check(buf, len, h, err, errlen);
    return rc || !cb ? rc : ad_ckpt_each(buf, len, cb, ud);
}

static void test_keys(void)
{
    struct ad_buf a, b;
    ad_buf_init(&a, 4096);
    ad_buf_init(&b, 4096);
    AD_EXPECT_INT(ad_statetopic_series_key(&a, "sensor-raw", 12, "temp", "dev\0x", 5), ==, 0);
    static const char want[] = "ssensor-raw\00012\000temp\000dev\0x";
    AD_EXPECT_UINT(a.len, ==, sizeof(want) - 1);
    AD_EXPECT(memcmp(a.p, want, a.len) == 0);
    /* partition 1 + key "2..." must not equal partition 12 + key "...": the
     * separators keep them apart. */
    AD_EXPECT_INT(ad_statetopic_series_key(&b, "sensor-raw", 1, "temp", "dev\0x", 5), ==, 0);
    AD_EXPECT(a.len != b.len || memcmp(a.p, b.p, a.len) != 0);
    AD_EXPECT_INT(ad_statetopic_marker_key(&b, "sensor-raw", 12), ==, 0);
    static const char mwant[] = "msensor-raw\00012";
    AD_EXPECT_UINT(b.len, ==, sizeof(mwant) - 1);
    AD_EXPECT(memcmp(b.p, mwant, b.len) == 0);
    ad_buf_free(&a);
    ad_buf_free(&b);
}

static void test_partitions(void)
{
    AD_EXPECT_INT(ad_statetopic_partition(0, 4), ==, 0);
    AD_EXPECT_INT(ad_statetopic_partition(5, 4), ==, 1);
    AD_EXPECT_INT(ad_statetopic_partition(3, 8), ==, 3);
    AD_EXPECT_INT(ad_statetopic_partition(7, 0), ==, 0);
}

static int one_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    int *n = ud;
    AD_EXPECT_STR(metric, "temp");
    AD_EXPECT_UINT(st->key_len, ==, 5);
    AD_EXPECT(memcmp(st->key, "sim-1", 5) == 0);
    AD_EXPECT_UINT(st->life.n, ==, 7);
    AD_EXPECT_INT(st->model_off, ==, 41);
    (*n)++;
    return 0;
}

/* The value of a state message: a one-series checkpoint, checked in full. */
static void test_one_series_value(void)
{
    struct ad_buf b;
    struct ad_ckpt_header h = {.fingerprint = 9, .offset = 42, .partition = 2};
    struct ad_series_state st = {.key = "sim-1",
                                 .key_len = 5,
                                 .life = {7, 1.5, 2.0},
                                 .model_off = 41,
                                 .last_t = INT64_MIN,
                                 .closed_until = INT64_MIN};
    struct ad_ckpt_header got;
    char err[128];
    int n = 0;
    snprintf(h.topic, sizeof(h.topic), "sensor-raw");
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_ckpt_one(&b, &h, &st, "temp"), ==, 0);
    AD_EXPECT_INT(ckpt_read(b.p, b.len, &got, one_cb, &n, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(n, ==, 1);
    AD_EXPECT_UINT(got.nseries, ==, 1);
    AD_EXPECT_INT(got.offset, ==, 42);
    AD_EXPECT_STR(got.topic, "sensor-raw");
    b.p[b.len / 2] ^= 1; /* one flipped bit: refused */
    AD_EXPECT_INT(ckpt_read(b.p, b.len, &got, one_cb, &n, err, sizeof(err)), ==, AD_EPARSE);
    AD_EXPECT_INT(n, ==, 1);
    ad_buf_free(&b);
}

/* ---- reading, against librdkafka's mock cluster (in process) ---------------- */

static rd_kafka_t *mock_client(rd_kafka_type_t type, const char *bootstrap)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (bootstrap)
        AD_EXPECT(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) ==
                  RD_KAFKA_CONF_OK);
    else
        AD_EXPECT(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof(err)) ==
                  RD_KAFKA_CONF_OK);
    if (type == RD_KAFKA_CONSUMER) {
        AD_EXPECT(rd_kafka_conf_set(conf, "group.id", "reader", err, sizeof(err)) ==
                  RD_KAFKA_CONF_OK);
        AD_EXPECT(rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) ==
                  RD_KAFKA_CONF_OK);
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk)
        AD_FAIL_("rd_kafka_new: %s", err);
    return rk;
}

/* Produces one state message of (sensor-raw, 0): a series state (series key
 * "sim-N", life.n = n) or, with key NULL, the marker at offset; recorded as
 * group's. */
static void produce_state(rd_kafka_t *p, const char *group, const char *key, uint64_t n,
                          int64_t offset)
{
    struct ad_buf k, v;
    struct ad_ckpt_header h = {.fingerprint = 9, .offset = offset, .partition = 0};
    struct ad_series_state st = {.key = key, .key_len = key ? strlen(key) : 0, .model_off = -1};
    st.life.n = n;
    snprintf(h.topic, sizeof(h.topic), "sensor-raw");
    snprintf(h.group, sizeof(h.group), "%s", group);
    ad_buf_init(&k, 4096);
    ad_buf_init(&v, 1 << 20);
    if (key) {
        AD_EXPECT_INT(ad_ckpt_one(&v, &h, &st, "temp"), ==, 0);
        AD_EXPECT_INT(ad_statetopic_series_key(&k, "sensor-raw", 0, "temp", key, strlen(key)), ==,
                      0);
    } else {
        AD_EXPECT_INT(ad_ckpt_begin(&v, &h), ==, 0);
        AD_EXPECT_INT(ad_ckpt_finish(&v, 0), ==, 0);
        AD_EXPECT_INT(ad_statetopic_marker_key(&k, "sensor-raw", 0), ==, 0);
    }
    AD_EXPECT_INT(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("anomalyd-state"), RD_KAFKA_V_PARTITION(0),
                                    RD_KAFKA_V_KEY(k.p, k.len), RD_KAFKA_V_VALUE(v.p, v.len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                  ==, RD_KAFKA_RESP_ERR_NO_ERROR);
    ad_buf_free(&k);
    ad_buf_free(&v);
}

struct seen_states {
    int n;
    uint64_t life_n[8];
};

static int seen_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct seen_states *s = ud;
    (void)metric;
    if (s->n < 8)
        s->life_n[s->n] = st->life.n;
    s->n++;
    return 0;
}

/* Issue 17 item 1: a state topic shared by two consumer groups. Only this
 * group's series states and marker are restored; messages of before
 * version 4 (no group) are taken. */
static void test_read_skips_other_group(void)
{
    rd_kafka_t *p = mock_client(RD_KAFKA_PRODUCER, NULL);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(p);
    AD_EXPECT(mc != NULL);
    AD_EXPECT_INT(rd_kafka_mock_topic_create(mc, "anomalyd-state", 1, 1), ==, 0);
    produce_state(p, "g1", "sim-1", 11, 0);
    produce_state(p, "g2", "sim-2", 22, 0);
    produce_state(p, "", "sim-3", 33, 0); /* no group: an older writer's */
    produce_state(p, "g1", NULL, 0, 500);
    produce_state(p, "g2", NULL, 0, 900); /* the other group's marker, last */
    AD_EXPECT_INT(rd_kafka_flush(p, 10000), ==, RD_KAFKA_RESP_ERR_NO_ERROR);

    rd_kafka_t *c = mock_client(RD_KAFKA_CONSUMER, rd_kafka_mock_cluster_bootstraps(mc));
    struct seen_states seen = {0};
    struct ad_statetopic_restore r = {.state_topic = "anomalyd-state",
                                      .nparts = 1,
                                      .timeout_ms = 20000,
                                      .cb = seen_cb,
                                      .ud = &seen,
                                      .fingerprint = 9,
                                      .group = "g1"};
    char err[512];
    if (ad_statetopic_read(c, "sensor-raw", 0, &r, err, sizeof(err)) != 0)
        AD_FAIL_("ad_statetopic_read: %s", err);
    AD_EXPECT_UINT(r.messages, ==, 5);
    AD_EXPECT_INT(seen.n, ==, 2);
    AD_EXPECT_UINT(seen.life_n[0], ==, 11);
    AD_EXPECT_UINT(seen.life_n[1], ==, 33);
    AD_EXPECT_INT(r.offset, ==, 500); /* g1's marker, not g2's later one */
    AD_EXPECT_UINT(r.skipped, ==, 2);
    /* The control: no group given, everything is taken. */
    seen.n = 0;
    r.group = NULL;
    if (ad_statetopic_read(c, "sensor-raw", 0, &r, err, sizeof(err)) != 0)
        AD_FAIL_("ad_statetopic_read: %s", err);
    AD_EXPECT_INT(seen.n, ==, 3);
    AD_EXPECT_INT(r.offset, ==, 900);
    rd_kafka_destroy(c);
    rd_kafka_destroy(p);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_keys);
    AD_TEST_RUN(argc, argv, test_partitions);
    AD_TEST_RUN(argc, argv, test_one_series_value);
    AD_TEST_RUN(argc, argv, test_read_skips_other_group);
    return ad_test_done();
}
