/* The Kafka sink against librdkafka's mock cluster: each alert the engine
 * emits is produced to the alerts topic and its hold goes back delivered
 * once the delivery report is in; a message given up on keeps its offsets
 * held; a dead letter is produced and counted; without an alerts topic the
 * engine gets no Kafka sink. */
#include "ad_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ad_config.h"
#include "ad_engine.h"
#include "ad_err.h"
#include "ad_kafka_out.h"
#include "ad_kafka_sink.h"
#include "ad_log.h"

struct ledger {
    int held, taken;
    int released[3]; /* by outcome */
};

static int l_hold(void *ud, const char *topic, int32_t partition, int64_t low, void **token)
{
    struct ledger *l = ud;
    (void)topic, (void)partition, (void)low;
    int *t = malloc(sizeof(*t));
    AD_EXPECT(t != NULL);
    *t = ++l->taken;
    l->held++;
    *token = t;
    return 0;
}

static void l_release(void *ud, void *token, enum ad_engine_outcome outcome)
{
    struct ledger *l = ud;
    free(token);
    l->held--;
    l->released[outcome]++;
}

struct fixture {
    uv_loop_t loop;
    struct ad_config cfg;
    struct ledger l;
    struct ad_engine *e;
    struct ad_kafka_out *out;
    struct ad_kafka_sink *ks;
};

#define MOCK "      test.mock.num.brokers: \"1\"\n"

/* properties: the lines under source.kafka.properties; sinks: the sinks
 * section's lines. */
static void setup(struct fixture *f, const char *properties, const char *sinks)
{
    char yaml[1024], err[512];
    snprintf(yaml, sizeof(yaml),
             "source:\n  kafka:\n    brokers: 127.0.0.1:1\n    topics: [in]\n"
             "    properties:\n%s"
             "input:\n  time_format: epoch_ms\nsinks:\n%s",
             properties, sinks);
    memset(f, 0, sizeof(*f));
    AD_EXPECT_INT(uv_loop_init(&f->loop), ==, 0);
    AD_EXPECT_INT(ad_config_init(&f->cfg), ==, 0);
    if (ad_config_load_buffer(&f->cfg, "t.yaml", yaml, strlen(yaml), err, sizeof(err)) != 0)
        AD_FAIL_("load: %s", err);
    const struct ad_engine_ledger led = {l_hold, l_release, NULL, &f->l};
    const struct ad_engine_opts o = {.loop = &f->loop, .ledger = &led};
    if (ad_engine_new(&f->cfg, &o, &f->e, err, sizeof(err)) != 0)
        AD_FAIL_("engine: %s", err);
    const struct ad_kafka_out_cbs cbs = {0};
    if (ad_kafka_out_new(&f->loop, &f->cfg, &cbs, &f->out, err, sizeof(err)) != 0)
        AD_FAIL_("kafka out: %s", err);
    AD_EXPECT_INT(ad_kafka_sink_new(f->out, &f->cfg, f->e, &f->ks), ==, 0);
}

static void teardown(struct fixture *f)
{
    ad_kafka_out_close(f->out);
    ad_engine_stop(f->e);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    ad_kafka_out_free(f->out);
    ad_engine_free(f->e);
    ad_kafka_sink_free(f->ks);
    AD_EXPECT_INT(uv_loop_close(&f->loop), ==, 0);
    ad_config_free(&f->cfg);
}

static void push(struct fixture *f, long long ts_ms, double v, int64_t off)
{
    char rec[256];
    int n = snprintf(rec, sizeof(rec), "{\"id\":\"sim-1\",\"ts\":%lld,\"temp\":%g}", ts_ms, v);
    struct ad_record_meta m = {.topic = "in", .partition = 0, .offset = off, .timestamp_ms = -1};
    AD_EXPECT_INT(ad_pipeline_push(ad_engine_pipeline(f->e), rec, (size_t)n, &m, 0), ==,
                  AD_REJECT_NONE);
}

/* 30 steady readings, then `spikes` spikes: one alert each. */
static void feed(struct fixture *f, int spikes)
{
    for (int i = 0; i < 30; i++)
        push(f, 1763632800000LL + i * 1000, i % 2 ? 21.0 : 19.0, i);
    for (int i = 0; i < spikes; i++)
        push(f, 1763632830000LL + i * 1000, 400.0 * (i + 1), 30 + i);
}

/* Serves delivery reports until no hold is left (at most 30 s). */
static void wait_released(struct fixture *f)
{
    for (int i = 0; i < 3000 && f->l.held > 0; i++) {
        ad_kafka_out_flush(f->out, true, 10);
        ad_kafka_out_poll(f->out);
        uv_run(&f->loop, UV_RUN_NOWAIT);
    }
}

static struct ad_engine_sink_stats kafka_stats(struct ad_engine *e)
{
    struct ad_engine_sink_stats st = {0};
    AD_EXPECT_INT(ad_engine_sink_stats_by_name(e, "kafka", &st), ==, 0);
    return st;
}

static void test_alerts_delivered(void)
{
    struct fixture f;
    setup(&f, MOCK, "  kafka: {topic: alerts}\n");
    feed(&f, 3);
    AD_EXPECT_INT(f.l.taken, ==, 3);
    AD_EXPECT_UINT(kafka_stats(f.e).pending, ==, 3);
    wait_released(&f);
    AD_EXPECT_INT(f.l.held, ==, 0);
    AD_EXPECT_INT(f.l.released[AD_ENGINE_DELIVERED], ==, 3);
    struct ad_engine_sink_stats es = kafka_stats(f.e);
    AD_EXPECT_UINT(es.delivered, ==, 3);
    AD_EXPECT_UINT(es.pending, ==, 0);
    struct ad_kafka_sink_stats ks;
    ad_kafka_sink_stats(f.ks, &ks);
    AD_EXPECT_UINT(ks.delivered, ==, 3);
    AD_EXPECT_UINT(ks.errors, ==, 0);
    struct ad_kafka_sink_latency lat;
    AD_EXPECT(ad_kafka_sink_latency(f.ks, &lat));
    AD_EXPECT_UINT(lat.n, ==, 3);
    AD_EXPECT(lat.p50_us <= lat.max_us);
    /* The histogram holds the same three, in the bucket of their latency. */
    struct ad_kafka_sink_lat_hist h;
    AD_EXPECT(ad_kafka_sink_latency_hist(f.ks, &h));
    uint64_t n = 0;
    for (int i = 0; i < AD_ALERT_LATENCY_BUCKETS; i++)
        n += h.counts[i];
    AD_EXPECT_UINT(n, ==, 3);
    AD_EXPECT(h.sum_s >= 0 && h.sum_s <= 3 * (double)lat.max_us / 1e6 + 1e-6);
    AD_EXPECT(h.sum_s >= (double)lat.max_us / 1e6 - 1e-6);
    int want = 0; /* the max's bucket holds at least one */
    while (want + 1 < AD_ALERT_LATENCY_BUCKETS &&
           (double)lat.max_us / 1e6 > ad_alert_latency_bounds_s[want] + 1e-6)
        want++;
    AD_EXPECT_UINT(h.counts[want], >=, 1);
    AD_EXPECT(ad_alert_latency_bounds_s[0] == 0.0005);
    AD_EXPECT(ad_alert_latency_bounds_s[AD_ALERT_LATENCY_BUCKETS - 2] == 1.0);
    teardown(&f);
}

/* No broker answers (nothing listens on port 1): a delivery that fails
 * after ad_kafka_sink_stop() is not retried, and the alert's offsets stay
 * held (kept). */
static void test_given_up_keeps_offsets(void)
{
    struct fixture f;
    setup(&f, "      message.timeout.ms: \"200\"\n", "  kafka: {topic: alerts}\n");
    ad_kafka_sink_stop(f.ks);
    feed(&f, 2);
    AD_EXPECT_INT(f.l.taken, ==, 2);
    wait_released(&f);
    AD_EXPECT_INT(f.l.held, ==, 0);
    AD_EXPECT_INT(f.l.released[AD_ENGINE_KEPT], ==, 2);
    AD_EXPECT_UINT(kafka_stats(f.e).failed, ==, 2);
    struct ad_kafka_sink_latency lat;
    AD_EXPECT(!ad_kafka_sink_latency(f.ks, &lat));
    struct ad_kafka_sink_lat_hist h;
    AD_EXPECT(ad_kafka_sink_latency_hist(f.ks, &h));
    AD_EXPECT_UINT(h.counts[0] + h.counts[AD_ALERT_LATENCY_BUCKETS - 1], ==, 0);
    AD_EXPECT(!ad_kafka_sink_latency_hist(NULL, &h));
    teardown(&f);
}

static bool dead_letter_done(struct fixture *f)
{
    struct ad_kafka_sink_stats ks;
    ad_kafka_sink_stats(f->ks, &ks);
    return ks.delivered == 1;
}

/* A dead letter holds nothing and is counted; without an alerts topic the
 * engine has no Kafka sink, and alerts hold nothing either (no
 * asynchronous sink). */
static void test_dead_letter_without_alerts_topic(void)
{
    struct fixture f;
    setup(&f, MOCK, "  kafka: {topic: \"\"}\n  dead_letter: {topic: dlq}\n");
    struct ad_engine_sink_stats es;
    AD_EXPECT_INT(ad_engine_sink_stats_by_name(f.e, "kafka", &es), ==, AD_ENOENT);
    struct ad_record_meta m = {.topic = "in", .partition = 2, .offset = 17, .timestamp_ms = -1};
    ad_kafka_sink_dead_letter(f.ks, "not json", 8, &m, "invalid_json");
    feed(&f, 1);
    AD_EXPECT_INT(f.l.taken, ==, 0);
    for (int i = 0; i < 3000 && !dead_letter_done(&f); i++) {
        ad_kafka_out_flush(f.out, true, 10);
        ad_kafka_out_poll(f.out);
    }
    struct ad_kafka_sink_stats ks;
    ad_kafka_sink_stats(f.ks, &ks);
    AD_EXPECT_UINT(ks.dead_letters, ==, 1);
    AD_EXPECT_UINT(ks.delivered, ==, 1);
    teardown(&f);
}

/* A rejected record larger than the producer's message.max.bytes still
 * reaches the dead-letter topic, as a copy cut to fit (counted as such), and
 * a dead letter is counted once its delivery report is in, not before. */
static void test_dead_letter_too_large_for_producer(void)
{
    struct fixture f;
    setup(&f, MOCK "      message.max.bytes: \"20000\"\n",
          "  kafka: {topic: \"\"}\n  dead_letter: {topic: dlq}\n");
    size_t big = 50000;
    char *rec = malloc(big);
    AD_EXPECT(rec != NULL);
    memset(rec, 'x', big);
    struct ad_record_meta m = {.topic = "in",
                               .partition = 0,
                               .offset = 5,
                               .timestamp_ms = -1,
                               .key = "dev-9",
                               .key_len = 5};
    ad_kafka_sink_dead_letter(f.ks, rec, big, &m, "too_large");
    free(rec);
    struct ad_kafka_sink_stats ks;
    for (int i = 0; i < 500; i++) {
        ad_kafka_out_flush(f.out, true, 10);
        ad_kafka_out_poll(f.out);
        ad_kafka_sink_stats(f.ks, &ks);
        if (ks.delivered + ks.dead_letter_errors > 0)
            break;
    }
    ad_kafka_sink_stats(f.ks, &ks);
    AD_EXPECT_UINT(ks.delivered, ==, 1);
    AD_EXPECT_UINT(ks.dead_letters, ==, 1);
    AD_EXPECT_UINT(ks.dead_letters_truncated, ==, 1);
    AD_EXPECT_UINT(ks.dead_letter_errors, ==, 0);
    teardown(&f);
}

/* Counts the lines of text that contain needle. */
static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* No broker answers: every score's delivery fails and is retried, again and
 * again, but the retry warning is logged once (then once a minute). */
static void test_score_retries_logged_once(void)
{
    struct fixture f;
    setup(&f, "      message.timeout.ms: \"100\"\n",
          "  kafka: {topic: \"\"}\n  scores: {topic: scores}\n");
    ad_log_set_level(AD_LOG_WARN);
    char path[] = "/tmp/test_kafka_sink.XXXXXX";
    int fd = mkstemp(path);
    AD_EXPECT(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    AD_EXPECT(saved >= 0 && dup2(fd, 2) == 2);
    for (int i = 0; i < 3; i++) {
        struct ad_score_row r = {.key = "sim-1", .key_len = 5, .metric = "temp", .value = i};
        ad_kafka_sink_score(f.ks, &r);
    }
    struct ad_kafka_out_stats os = {0};
    for (int i = 0; i < 1000 && os.errors < 9; i++) {
        ad_kafka_out_flush(f.out, true, 10);
        ad_kafka_out_poll(f.out);
        ad_kafka_out_stats(f.out, &os);
    }
    ad_kafka_sink_stop(f.ks);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    static char text[65536];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    close(fd);
    text[n > 0 ? n : 0] = 0;
    AD_EXPECT_UINT(os.errors, >=, 9); /* each of the three failed three times */
    AD_EXPECT_INT(count_lines(text, "; retrying"), ==, 1);
    AD_EXPECT_CONTAINS(text, "while delivering to scores: ");
    AD_EXPECT_CONTAINS(text, "(further retries of scores are summarized every minute)");
    ad_log_set_level(AD_LOG_ERROR);
    teardown(&f);
}

int main(int argc, char **argv)
{
    ad_log_set_level(AD_LOG_ERROR);
    AD_TEST_RUN(argc, argv, test_alerts_delivered);
    AD_TEST_RUN(argc, argv, test_given_up_keeps_offsets);
    AD_TEST_RUN(argc, argv, test_dead_letter_without_alerts_topic);
    AD_TEST_RUN(argc, argv, test_dead_letter_too_large_for_producer);
    AD_TEST_RUN(argc, argv, test_score_retries_logged_once);
    return ad_test_done();
}
