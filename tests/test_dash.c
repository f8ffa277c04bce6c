/* test_dash.c - the dashboard's server side on a real loop and socket
 * (ad_dash.h over ad_httpd.h's pages hook and streams): the feed's events,
 * backlog and heartbeats, the client bound (503), a client that never reads
 * (dropped, counted), the JSON endpoints (escaping, query decoding, bad
 * arguments), 405 and the fall-through to the GET handler. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "ad_dash.h"
#include "ad_err.h"
#include "ad_httpd.h"
#include "ad_test.h"

struct fx {
    uv_loop_t loop;
    struct ad_httpd *s;
    struct ad_dash *d;
    int port;
    uint64_t records;
};

static void overview(void *ud, struct ad_dash_overview *o)
{
    struct fx *f = ud;
    o->records = f->records;
    o->alerts = 0;
    o->lag = 7;
    o->series = 3;
    o->ready = true;
    o->health = "ok";
}

static int each_series(void *ud, ad_pipeline_each_fn fn, void *fn_ud)
{
    static const char *const keys[] = {"dev-1", "dev-2", "other", "dev-<b>\"3\""};
    (void)ud;
    for (size_t i = 0; i < 4; i++) {
        int rc = fn(fn_ud, keys[i], strlen(keys[i]), "temp");
        if (rc)
            return rc;
    }
    return 0;
}

static int handler(void *ud, const char *path, struct ad_buf *out, const char **ctype)
{
    (void)ud, (void)ctype;
    if (strcmp(path, "/metrics") != 0)
        return 404;
    ad_buf_adds(out, "metrics\n");
    return 200;
}

static void fx_open(struct fx *f, size_t max_clients, size_t queue)
{
    char err[256];
    memset(f, 0, sizeof(*f));
    uv_loop_init(&f->loop);
    struct ad_httpd_opts ho = {&f->loop, "127.0.0.1:0", handler, f};
    AD_EXPECT_INT(ad_httpd_start(&ho, &f->s, err, sizeof(err)), ==, 0);
    struct ad_dash_opts o = {.loop = &f->loop,
                             .max_clients = max_clients,
                             .history_points = 50,
                             .history_series = 4,
                             .client_queue = queue,
                             .max_key = 256,
                             .watch_ms = 60000,
                             .heartbeat_ms = 100,
                             .ops = {overview, each_series, f}};
    AD_EXPECT_INT(ad_dash_new(&o, &f->d, err, sizeof(err)), ==, 0);
    ad_httpd_set_pages(f->s, ad_dash_pages, f->d);
    f->port = ad_httpd_port(f->s);
}

static void fx_close(struct fx *f)
{
    ad_dash_close(f->d);
    ad_httpd_close(f->s);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    ad_dash_free(f->d);
    AD_EXPECT_INT(uv_loop_close(&f->loop), ==, 0);
}

/* A client socket (non-blocking) that has sent a GET for path. */
static int client(struct fx *f, const char *method, const char *path, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    AD_EXPECT_INT(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    char req[1024];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\n\r\n", method, path);
    AD_EXPECT_INT(write(fd, req, (size_t)n), ==, n);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Turns the loop and reads fd into buf until it holds want (or EOF when
 * want is NULL) or about ms pass. Returns bytes read (closed: *eof). */
static size_t pump(struct fx *f, int fd, char *buf, size_t cap, const char *want, int ms, bool *eof)
{
    size_t len = strlen(buf);
    for (int i = 0; i < ms; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n > 0) {
            len += (size_t)n;
            buf[len] = '\0';
        } else if (n == 0) {
            if (eof)
                *eof = true;
            return len;
        } else if (errno != EAGAIN) {
            if (eof)
                *eof = true;
            return len;
        }
        if (want && strstr(buf, want))
            return len;
        uv_sleep(1);
    }
    return len;
}

static void get(struct fx *f, const char *method, const char *path, char *buf, size_t cap)
{
    int fd = client(f, method, path, 0);
    buf[0] = '\0';
    pump(f, fd, buf, cap, NULL, 3000, NULL);
    close(fd);
}

static void alert(struct fx *f, const char *key, int64_t t_us, const char *line)
{
    struct ad_alert a = {.key = key,
                         .key_len = strlen(key),
                         .metric = "temp",
                         .window_start_us = t_us};
    ad_dash_alert(f->d, &a, line, strlen(line));
}

/* The feed: headers, the backlog, new alerts and heartbeats as they come. */
static void test_feed(void)
{
    struct fx f;
    char buf[65536] = "";
    fx_open(&f, 4, 65536);
    alert(&f, "dev-1", 1000, "{\"key\":\"dev-1\",\"n\":1}\n");
    int fd = client(&f, "GET", "/api/feed", 0);
    pump(&f, fd, buf, sizeof(buf), "\"n\":1}", 2000, NULL);
    AD_EXPECT_CONTAINS(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream");
    AD_EXPECT_CONTAINS(buf, "Content-Security-Policy: default-src 'self'");
    AD_EXPECT_CONTAINS(buf, "-1\nevent: alert\ndata: {\"key\":\"dev-1\",\"n\":1}\n\n");
    alert(&f, "dev-2", 2000, "{\"key\":\"dev-2\",\"n\":2}\n");
    pump(&f, fd, buf, sizeof(buf), "\"n\":2}", 2000, NULL);
    AD_EXPECT_CONTAINS(buf, "-2\nevent: alert\ndata: {\"key\":\"dev-2\",\"n\":2}\n\n");
    pump(&f, fd, buf, sizeof(buf), ": heartbeat\n\n", 3000, NULL);
    AD_EXPECT_CONTAINS(buf, ": heartbeat\n\n");
    struct ad_dash_stats st;
    ad_dash_stats(f.d, &st);
    AD_EXPECT_UINT(st.clients, ==, 1);
    close(fd); /* the client leaves: forgotten */
    for (int i = 0; i < 2000 && st.clients; i++) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        ad_dash_stats(f.d, &st);
        uv_sleep(1);
    }
    AD_EXPECT_UINT(st.clients, ==, 0);
    fx_close(&f);
}

/* Past max_clients: 503 with Retry-After, counted; the others stay. */
static void test_client_bound(void)
{
    struct fx f;
    char b1[4096] = "", b2[4096] = "", b3[4096] = "";
    fx_open(&f, 2, 65536);
    int c1 = client(&f, "GET", "/api/feed", 0);
    pump(&f, c1, b1, sizeof(b1), "retry:", 2000, NULL);
    int c2 = client(&f, "GET", "/api/feed", 0);
    pump(&f, c2, b2, sizeof(b2), "retry:", 2000, NULL);
    int c3 = client(&f, "GET", "/api/feed", 0);
    bool eof = false;
    pump(&f, c3, b3, sizeof(b3), NULL, 2000, &eof);
    AD_EXPECT_CONTAINS(b1, "200 OK");
    AD_EXPECT_CONTAINS(b2, "200 OK");
    AD_EXPECT_CONTAINS(b3, "HTTP/1.1 503 ");
    AD_EXPECT_CONTAINS(b3, "Retry-After: 5");
    AD_EXPECT(eof);
    struct ad_dash_stats st;
    ad_dash_stats(f.d, &st);
    AD_EXPECT_UINT(st.clients, ==, 2);
    AD_EXPECT_UINT(st.clients_refused, ==, 1);
    close(c1);
    close(c2);
    close(c3);
    fx_close(&f);
}

/* A client that never reads is dropped once its queue passes the bound;
 * a reading one is not. */
static void test_slow_client_dropped(void)
{
    struct fx f;
    char line[2048], rb[1 << 16] = "";
    fx_open(&f, 4, 8192);
    int stuck = client(&f, "GET", "/api/feed", 4096);
    int good = client(&f, "GET", "/api/feed", 0);
    for (int i = 0; i < 100; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    memset(line, 'x', sizeof(line));
    memcpy(line, "{\"pad\":\"", 8);
    memcpy(line + sizeof(line) - 3, "\"}\n", 3);
    line[sizeof(line) - 1] = '\0';
    struct ad_dash_stats st = {0};
    for (int i = 0; i < 4000 && st.clients_dropped == 0; i++) {
        alert(&f, "dev-1", i, line);
        uv_run(&f.loop, UV_RUN_NOWAIT);
        rb[0] = '\0';
        pump(&f, good, rb, sizeof(rb), NULL, 1, NULL); /* the good one reads */
        ad_dash_stats(f.d, &st);
    }
    AD_EXPECT_UINT(st.clients_dropped, ==, 1);
    AD_EXPECT_UINT(st.clients, ==, 1);
    close(stuck);
    close(good);
    fx_close(&f);
}

/* The JSON endpoints: overview, series (watched, points, alerts, escaping),
 * search (prefix, escaping), flagged (counts), bad arguments. */
static void test_api(void)
{
    struct fx f;
    static char buf[1 << 16];
    fx_open(&f, 4, 65536);
    f.records = 42;
    for (int i = 0; i < 1100; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT); /* the first tick samples the overview */
    get(&f, "GET", "/api/overview", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "Content-Type: application/json");
    AD_EXPECT_CONTAINS(buf, "\"records\":42");
    AD_EXPECT_CONTAINS(buf, "\"lag\":7,\"series\":3,\"ready\":true,\"health\":\"ok\"");

    const char *key = "dev-<b>\"3\"";
    get(&f, "GET", "/api/series?key=dev-%3Cb%3E%223%22&metric=temp", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "\"key\":\"dev-<b>\\\"3\\\"\",\"metric\":\"temp\",\"watched\":true");
    for (int i = 0; i < 5; i++) {
        struct ad_score_row r = {.key = key,
                                 .key_len = strlen(key),
                                 .metric = "temp",
                                 .t_us = i * 1000000,
                                 .value = i == 3 ? 50 : 1,
                                 .scored = i > 0,
                                 .expected = 1,
                                 .lower = 0,
                                 .upper = 2,
                                 .score = i == 3 ? 1 : 0,
                                 .is_anomaly = i == 3,
                                 .kind = i == 3 ? 1 : 0};
        ad_dash_on_score(f.d, &r);
    }
    alert(&f, key, 3000000, "{\"alert_id\":\"a1\"}\n");
    get(&f, "GET", "/api/series?key=dev-%3Cb%3E%223%22&metric=temp", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "\"points\":[[0,1,null,null,null,0,0,\"none\",0],[1000,1,1,0,2,0,0");
    AD_EXPECT_CONTAINS(buf, "[3000,50,1,0,2,1,1,\"spike\",1]");
    AD_EXPECT_CONTAINS(buf, "\"alerts\":[{\"seq\":1,\"alert\":{\"alert_id\":\"a1\"}}]");

    get(&f, "GET", "/api/search?q=dev-", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf,
                       "{\"matches\":[{\"key\":\"dev-1\",\"metric\":\"temp\"},{\"key\":\"dev-2\"");
    AD_EXPECT_CONTAINS(buf,
                       "{\"key\":\"dev-<b>\\\"3\\\"\",\"metric\":\"temp\"}],\"truncated\":false}");
    get(&f, "GET", "/api/search?q=zzz", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "{\"matches\":[],\"truncated\":false}");

    alert(&f, "dev-1", 1, "{}\n");
    alert(&f, "dev-1", 2, "{}\n");
    get(&f, "GET", "/api/flagged?seconds=60", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf,
                       "\"alerts\":3,\"keys\":[{\"key\":\"dev-1\",\"metric\":\"temp\",\"count\":2},"
                       "{\"key\":\"dev-<b>\\\"3\\\"\",\"metric\":\"temp\",\"count\":1}],"
                       "\"distinct\":2}");

    get(&f, "GET", "/api/flagged?seconds=0", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "HTTP/1.1 400 ");
    get(&f, "GET", "/api/series?key=a%zz&metric=temp", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "HTTP/1.1 400 ");
    get(&f, "GET", "/api/series?key=a", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "HTTP/1.1 400 ");
    fx_close(&f);
}

/* Pages: the page and assets with the policy; other methods 405 (the feed
 * too, which must not become a stream); unknown paths fall through to the
 * GET handler. */
static void test_pages(void)
{
    struct fx f;
    static char buf[1 << 18];
    fx_open(&f, 4, 65536);
    get(&f, "GET", "/", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "HTTP/1.1 200 OK");
    AD_EXPECT_CONTAINS(buf, "Content-Type: text/html");
    AD_EXPECT_CONTAINS(buf, "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer");
    AD_EXPECT_CONTAINS(buf, "/ui/dashboard/app.js");
    get(&f, "HEAD", "/ui/vendor/uplot/uPlot.iife.min.js", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "HTTP/1.1 200 OK");
    AD_EXPECT(strstr(buf, "uPlot") == NULL); /* no body for HEAD */
    get(&f, "POST", "/api/feed", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "HTTP/1.1 405 ");
    AD_EXPECT_CONTAINS(buf, "Allow: GET, HEAD");
    struct ad_dash_stats st;
    ad_dash_stats(f.d, &st);
    AD_EXPECT_UINT(st.clients, ==, 0);
    get(&f, "GET", "/metrics", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "metrics\n");
    AD_EXPECT(strstr(buf, "Content-Security-Policy") == NULL);
    get(&f, "GET", "/ui/report/x.js", buf, sizeof(buf));
    AD_EXPECT_CONTAINS(buf, "HTTP/1.1 404 ");
    fx_close(&f);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_feed);
    AD_TEST_RUN(argc, argv, test_client_bound);
    AD_TEST_RUN(argc, argv, test_slow_client_dropped);
    AD_TEST_RUN(argc, argv, test_api);
    AD_TEST_RUN(argc, argv, test_pages);
    return ad_test_done();
}
