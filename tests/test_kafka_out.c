/* Kafka out against librdkafka's mock cluster: every message's done
 * callback runs exactly once, back-pressure is reported and keeps the
 * order, a delivery failure may be retried or given up. */
#include "ad_test.h"

#include "ad_config.h"
#include "ad_err.h"
#include "ad_kafka_out.h"
#include "ad_log.h"

#define N_MAX 400

struct msg {
    struct ad_kafka_msg m;
    int idx;
    char val[16];
};

struct run {
    struct msg msgs[N_MAX];
    int done_count[N_MAX];
    int status[N_MAX];
    int order[N_MAX], norder;
    int retries_left; /* delivery failures to retry */
    int blocked, still_blocked, drained;
    int want; /* done callbacks to wait for */
    int ndone;
};

static struct run *R;

static bool on_done(struct ad_kafka_msg *km, int status, const char *error)
{
    struct msg *m = (struct msg *)km;
    (void)error;
    if (status == AD_EAGAIN && R->retries_left > 0) {
        R->retries_left--;
        return true;
    }
    R->done_count[m->idx]++;
    R->status[m->idx] = status;
    R->order[R->norder++] = m->idx;
    R->ndone++;
    return false;
}

static void on_flow(void *ud, enum ad_kafka_out_flow f)
{
    struct run *r = ud;
    if (f == AD_KAFKA_OUT_BLOCKED)
        r->blocked++;
    else if (f == AD_KAFKA_OUT_STILL_BLOCKED)
        r->still_blocked++;
    else
        r->drained++;
}

static void load(struct ad_config *cfg, const char *extra)
{
    char yaml[1024], err[512];
    snprintf(yaml, sizeof(yaml),
             "source:\n  kafka:\n    brokers: 127.0.0.1:1\n    topics: [in]\n"
             "    properties:\n      test.mock.num.brokers: \"1\"\n%s",
             extra);
    AD_EXPECT_INT(ad_config_init(cfg), ==, 0);
    if (ad_config_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), err, sizeof(err)) != 0)
        AD_FAIL_("load: %s", err);
}

static void on_check(uv_timer_t *t)
{
    struct run *r = t->data;
    if (r->ndone >= r->want)
        uv_stop(t->loop);
}

static void on_deadline(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Sends n messages to topic/partition and runs the loop until want done
 * callbacks ran (or 30 s passed). */
static void run(struct ad_config *cfg, const char *topic, int32_t partition, int n)
{
    uv_loop_t loop;
    uv_timer_t check, deadline;
    struct ad_kafka_out *o = NULL;
    char err[512];
    const struct ad_kafka_out_cbs cbs = {.flow = on_flow, .ud = R};

    AD_EXPECT_INT(uv_loop_init(&loop), ==, 0);
    if (ad_kafka_out_new(&loop, cfg, &cbs, &o, err, sizeof(err)) != 0)
        AD_FAIL_("ad_kafka_out_new: %s", err);
    for (int i = 0; i < n; i++) {
        struct msg *m = &R->msgs[i];
        m->idx = i;
        snprintf(m->val, sizeof(m->val), "v%d", i);
        m->m.topic = topic;
        m->m.partition = partition;
        m->m.key = "k";
        m->m.key_len = 1;
        m->m.val = m->val;
        m->m.val_len = strlen(m->val);
        m->m.done = on_done;
        ad_kafka_out_send(o, &m->m);
    }
    uv_timer_init(&loop, &check);
    uv_timer_init(&loop, &deadline);
    check.data = R;
    uv_timer_start(&check, on_check, 10, 10);
    uv_timer_start(&deadline, on_deadline, 30000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&check, NULL);
    uv_close((uv_handle_t *)&deadline, NULL);
    ad_kafka_out_close(o);
    uv_run(&loop, UV_RUN_DEFAULT);
    AD_EXPECT_INT(ad_kafka_out_handles(o), ==, 0);
    ad_kafka_out_free(o);
    AD_EXPECT_INT(uv_loop_close(&loop), ==, 0);
}

static void test_delivered_once(void)
{
    struct ad_config cfg;
    static struct run r;
    R = &r;
    load(&cfg, "");
    r.want = 100;
    run(&cfg, "out", 0, 100);
    AD_EXPECT_INT(r.ndone, ==, 100);
    for (int i = 0; i < 100; i++) {
        AD_EXPECT_INT(r.done_count[i], ==, 1);
        AD_EXPECT_INT(r.status[i], ==, 0);
        AD_EXPECT_INT(r.order[i], ==, i); /* one partition: in order */
    }
    AD_EXPECT_INT(r.blocked, ==, 0);
    ad_config_free(&cfg);
}

static void test_queue_full_blocks_in_order(void)
{
    struct ad_config cfg;
    static struct run r;
    R = &r;
    load(&cfg, "      queue.buffering.max.messages: \"10\"\n");
    r.want = N_MAX;
    run(&cfg, "out", 0, N_MAX);
    AD_EXPECT_INT(r.ndone, ==, N_MAX);
    for (int i = 0; i < N_MAX; i++) {
        AD_EXPECT_INT(r.done_count[i], ==, 1);
        AD_EXPECT_INT(r.status[i], ==, 0);
        AD_EXPECT_INT(r.order[i], ==, i);
    }
    AD_EXPECT_INT(r.blocked, >, 0);
    AD_EXPECT_INT(r.drained, >, 0);
    ad_config_free(&cfg);
}

/* A partition the topic does not have: the delivery fails; a retried
 * message comes back again, and giving up ends it once. */
static void test_delivery_failure(void)
{
    struct ad_config cfg;
    static struct run r;
    R = &r;
    load(&cfg, "      message.timeout.ms: \"300\"\n");
    r.want = 3;
    r.retries_left = 2;
    run(&cfg, "out", 99, 3);
    AD_EXPECT_INT(r.ndone, ==, 3);
    for (int i = 0; i < 3; i++) {
        AD_EXPECT_INT(r.done_count[i], ==, 1);
        AD_EXPECT_INT(r.status[i], !=, 0);
    }
    AD_EXPECT_INT(r.retries_left, <, 2); /* the first one failed on delivery: retried */
    ad_config_free(&cfg);
}

int main(int argc, char **argv)
{
    ad_log_set_level(AD_LOG_ERROR);
    AD_TEST_RUN(argc, argv, test_delivered_once);
    AD_TEST_RUN(argc, argv, test_queue_full_blocks_in_order);
    AD_TEST_RUN(argc, argv, test_delivery_failure);
    return ad_test_done();
}
