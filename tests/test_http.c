/* The HTTP clients against a small server on the test's own loop: URLs
 * checked when a client starts, a TLS failure that is not retried (the
 * webhook), and remote.anomaly_detector.max_in_flight held for retries too. */
#include "ad_test.h"

#include <uv.h>

#include "ad_config.h"
#include "ad_err.h"
#include "ad_http.h"
#include "ad_remote.h"
#include "ad_webhook.h"

/* ---- the server: answers every connection with one canned response -------- */

struct srv {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    int port;
    const char *answer; /* written after delay_ms, then the connection closes */
    uint64_t delay_ms;
    int accepted, busy, max_busy; /* busy: asked, not yet answered */
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wr;
    struct srv *s;
    bool asked;
    int closes;
    char buf[4096];
};

static void conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (++c->closes == 2)
        free(c);
}

static void conn_close(struct conn *c)
{
    if (c->asked) {
        c->s->busy--;
        c->asked = false;
    }
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
        uv_close((uv_handle_t *)&c->timer, conn_closed);
    }
}

static void conn_written(uv_write_t *w, int status)
{
    (void)status;
    conn_close(w->data);
}

static void conn_answer(uv_timer_t *t)
{
    struct conn *c = t->data;
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)c->s->answer, (unsigned)strlen(c->s->answer));
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, conn_written) != 0)
        conn_close(c);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct conn *c = h->data;
    (void)hint;
    *b = uv_buf_init(c->buf, sizeof(c->buf));
}

static void conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct conn *c = st->data;
    (void)b;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n > 0 && !c->asked && !uv_is_active((uv_handle_t *)&c->timer)) {
        c->asked = true;
        if (++c->s->busy > c->s->max_busy)
            c->s->max_busy = c->s->busy;
        uv_timer_start(&c->timer, conn_answer, c->s->delay_ms, 0);
    }
}

static void srv_accept(uv_stream_t *l, int status)
{
    struct srv *s = l->data;
    struct conn *c = calloc(1, sizeof(*c));
    AD_EXPECT(status == 0 && c != NULL);
    c->s = s;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    AD_EXPECT_INT(uv_accept(l, (uv_stream_t *)&c->tcp), ==, 0);
    s->accepted++;
    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

static void srv_start(struct srv *s, uv_loop_t *loop, const char *answer, uint64_t delay_ms)
{
    struct sockaddr_in a;
    struct sockaddr_storage got;
    int len = sizeof(got);
    *s = (struct srv){.loop = loop, .answer = answer, .delay_ms = delay_ms};
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    AD_EXPECT_INT(uv_tcp_bind(&s->tcp, (const struct sockaddr *)&a, 0), ==, 0);
    AD_EXPECT_INT(uv_listen((uv_stream_t *)&s->tcp, 128, srv_accept), ==, 0);
    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&got, &len);
    s->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
}

/* Runs the loop until *done or ms pass. */
static void run_until(uv_loop_t *loop, const bool *done, uint64_t ms)
{
    uv_update_time(loop);
    uint64_t end = uv_now(loop) + ms;
    while (!*done && uv_now(loop) < end)
        uv_run(loop, UV_RUN_ONCE);
}

static void tick(uv_timer_t *t)
{
    (void)t; /* keeps uv_run(ONCE) from blocking for ever */
}

static void set(struct ad_config *cfg, const char *a)
{
    char err[256];
    if (ad_config_set(cfg, a, err, sizeof(err)) != 0)
        AD_FAIL_("%s: %s", a, err);
}

/* ---- URLs ------------------------------------------------------------------- */

static void test_url_check(void)
{
    static const char *const good[] = {"http://127.0.0.1:8080/x", "https://example.com/api/rows",
                                       "http://user:pw@h.example:1/x?y=1"};
    static const char *const bad[] = {"https://exa mple.com:99999/x",
                                      "https://example.com:99999/x",
                                      "ftp://example.com/x",
                                      "example.com/x",
                                      "",
                                      "http://exa mple.com/x"};
    char err[256];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (ad_http_url_check(good[i], err, sizeof(err)) != 0)
            AD_FAIL_("%s refused: %s", good[i], err);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (ad_http_url_check(bad[i], err, sizeof(err)) != AD_ECONFIG)
            AD_FAIL_("%s accepted", bad[i]);
        AD_EXPECT_CONTAINS(err, "not a valid URL");
    }

    /* The webhook refuses such a URL when it starts (and --check-config
     * through ad_webhook_check()), instead of retrying it for ever. */
    struct ad_config cfg;
    AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
    set(&cfg, "sinks.webhook.url=\"https://exa mple.com:99999/x\"");
    AD_EXPECT_INT(ad_webhook_check(&cfg, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT_CONTAINS(err, "sinks.webhook.url");
    struct ad_webhook *w = NULL;
    struct ad_webhook_opts o = {.cfg = &cfg};
    AD_EXPECT_INT(ad_webhook_new(&o, &w, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT(w == NULL);
    set(&cfg, "sinks.webhook.url=\"https://example.com/x\"");
    AD_EXPECT_INT(ad_webhook_check(&cfg, err, sizeof(err)), ==, 0);
    ad_config_free(&cfg);
}

/* ---- the webhook: a TLS failure is permanent ------------------------------- */

struct acks {
    int n, delivered;
    bool done;
};

static void on_ack(void *ud, void *token, bool delivered)
{
    struct acks *a = ud;
    (void)token;
    a->n++;
    a->delivered += delivered;
    a->done = true;
}

static void test_webhook_tls_failure_not_retried(void)
{
    uv_loop_t loop;
    struct srv s;
    struct ad_config cfg;
    struct ad_http *http;
    struct ad_webhook *w;
    struct acks acks = {0};
    char err[256], url[64];

    uv_loop_init(&loop);
    /* plain HTTP on an https:// URL: the TLS handshake fails every time */
    srv_start(&s, &loop, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0);
    AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
    snprintf(url, sizeof(url), "sinks.webhook.url=https://127.0.0.1:%d/x", s.port);
    set(&cfg, url);
    set(&cfg, "sinks.webhook.batch_size=1");
    AD_EXPECT_INT(ad_http_new(&loop, &http), ==, 0);
    struct ad_webhook_opts o = {.loop = &loop,
                                .http = http,
                                .cfg = &cfg,
                                .cb = on_ack,
                                .ud = &acks};
    AD_EXPECT_INT(ad_webhook_new(&o, &w, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(ad_webhook_add(w, "{}", 2, NULL), ==, 0);
    run_until(&loop, &acks.done, 5000);

    struct ad_webhook_stats st;
    ad_webhook_stats(w, &st);
    AD_EXPECT_INT(acks.n, ==, 1); /* dropped at once, not after retries */
    AD_EXPECT_INT(acks.delivered, ==, 0);
    AD_EXPECT_UINT(st.posts, ==, 1);
    AD_EXPECT_UINT(st.retries, ==, 0);
    AD_EXPECT_UINT(st.permanent, ==, 1);
    AD_EXPECT_UINT(st.dropped, ==, 1);

    ad_webhook_close(w);
    ad_http_close(http);
    uv_close((uv_handle_t *)&s.tcp, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    AD_EXPECT_INT(uv_loop_close(&loop), ==, 0);
    ad_config_free(&cfg);
}

/* ---- the remote client: retries take a slot like any request -------------- */

#define JOBS 40

struct answers {
    int n;
    bool done;
};

static void on_done(void *ud, struct ad_remote_job *job, const struct ad_remote_outcome *o)
{
    struct answers *a = ud;
    (void)job, (void)o;
    if (++a->n == JOBS)
        a->done = true;
}

static void test_remote_retries_hold_max_in_flight(void)
{
    uv_loop_t loop;
    uv_timer_t tk;
    struct srv s;
    struct ad_config cfg;
    struct ad_http *http;
    struct ad_remote *r;
    struct answers ans = {0};
    struct ad_tpoint pts[24];
    struct ad_remote_job jobs[JOBS];
    char err[256], url[96];

    uv_loop_init(&loop);
    uv_timer_init(&loop, &tk);
    uv_timer_start(&tk, tick, 10, 10);
    srv_start(&s, &loop,
              "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
              30);
    AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
    set(&cfg, "windows.tumbling.size=1m");
    set(&cfg, "remote.anomaly_detector.max_in_flight=4");
    set(&cfg, "remote.anomaly_detector.retries=2");
    set(&cfg, "remote.anomaly_detector.breaker_threshold=1000"); /* keep asking */
    snprintf(url, sizeof(url), "remote.anomaly_detector.endpoint=http://127.0.0.1:%d", s.port);
    set(&cfg, url);
    AD_EXPECT_INT(ad_http_new(&loop, &http), ==, 0);
    struct ad_remote_opts o = {.loop = &loop, .http = http, .cfg = &cfg, .cb = on_done, .ud = &ans};
    AD_EXPECT_INT(ad_remote_new(&o, &r, err, sizeof(err)), ==, 0);
    for (int i = 0; i < 24; i++)
        pts[i] = (struct ad_tpoint){.t_us = INT64_C(1763632800000000) + i * INT64_C(60000000),
                                    .v = 20.0 + i % 3};
    for (int i = 0; i < JOBS; i++) {
        jobs[i] = (struct ad_remote_job){.key = "k",
                                         .key_len = 1,
                                         .metric = "/v",
                                         .points = pts,
                                         .n_points = 24,
                                         .topic = "t",
                                         .low_offset = i};
        ad_remote_submit(r, &jobs[i]);
    }
    run_until(&loop, &ans.done, 30000);

    struct ad_remote_stats st;
    ad_remote_stats(r, &st);
    AD_EXPECT_INT(ans.n, ==, JOBS);
    AD_EXPECT_UINT(st.retries, >=, JOBS); /* the retries did happen ... */
    AD_EXPECT_INT(s.max_busy, <=, 4);     /* ... without going past the limit */
    AD_EXPECT_INT(s.max_busy, >=, 1);

    ad_remote_close(r);
    ad_http_close(http);
    uv_close((uv_handle_t *)&s.tcp, NULL);
    uv_close((uv_handle_t *)&tk, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    AD_EXPECT_INT(uv_loop_close(&loop), ==, 0);
    ad_config_free(&cfg);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_url_check);
    AD_TEST_RUN(argc, argv, test_webhook_tls_failure_not_retried);
    AD_TEST_RUN(argc, argv, test_remote_retries_hold_max_in_flight);
    return ad_test_done();
}
