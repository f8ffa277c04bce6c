/* bench_dash - pipeline throughput with the dashboard watched by five viewers
 * next to the same pipeline without viewers, in one process and one run, and
 * the memory of the dashboard's history rings.
 *
 *   bench_dash [RECORDS [SENSORS [ROUNDS]]]     (1000000 1000 3)
 *
 * Records are scenario C lines generated in memory (bench_util.h). The loop
 * pushes them into the pipeline in chunks from an idle callback, so the HTTP
 * server is served between chunks as in the daemon. Three setups, run in
 * turn ROUNDS times, best run of each reported:
 *   off       no dashboard at all
 *   0 viewers the dashboard attached (score hook, alert sink), nobody looking
 *   5 viewers five threads that do what the page does: the alert feed (SSE)
 *             read as it comes, /api/overview and /api/flagged every second,
 *             /api/series of one sensor (watched, so its ring fills) every 2 s
 * Then the history's memory: empty, with the default 64 x 600 rings full,
 * and after a million series were scored with none flagged or watched. */
#define _GNU_SOURCE /* pthread_tryjoin_np */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "ad_config.h"
#include "ad_dash.h"
#include "ad_history.h"
#include "ad_httpd.h"
#include "ad_pipeline.h"
#include "bench_util.h"

#define CHUNK   2000
#define VIEWERS 5

enum setup { OFF = 0, IDLE_DASH, VIEWED, NSETUPS };
static const char *const setup_name[NSETUPS] = {"off", "0 viewers", "5 viewers"};

struct run {
    uv_loop_t loop;
    uv_idle_t idle;
    const struct lines *L;
    size_t next;
    struct ad_pipeline *p;
    struct ad_dash *dash;
    struct ad_httpd *httpd;
    uint64_t alerts;
    double t0, t1; /* wall */
    double c0, c1; /* the loop thread's CPU */
};

/* ---- a viewer: a thread doing what the page does ---------------------------------- */

struct viewer {
    pthread_t th;
    int port, idx;
    atomic_int *stop;
    uint64_t feed_bytes, requests;
};

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void http_get(struct viewer *v, const char *path)
{
    char req[512], buf[65536];
    int fd = dial(v->port);
    if (fd < 0)
        return;
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path);
    if (write(fd, req, (size_t)n) == n)
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
    close(fd);
    v->requests++;
}

static void *viewer_main(void *arg)
{
    struct viewer *v = arg;
    char buf[65536], path[128];
    static const char feed[] = "GET /api/feed HTTP/1.1\r\nHost: bench\r\n\r\n";
    int fd = dial(v->port);
    if (fd < 0 || write(fd, feed, sizeof(feed) - 1) != (ssize_t)sizeof(feed) - 1)
        return NULL;
    double next_1s = now_s(), next_2s = now_s();
    while (!atomic_load(v->stop)) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 50) > 0) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n <= 0)
                break;
            v->feed_bytes += (uint64_t)n;
        }
        double t = now_s();
        if (t >= next_1s) {
            http_get(v, "/api/overview");
            http_get(v, "/api/flagged?seconds=5");
            next_1s = t + 1.0;
        }
        if (t >= next_2s) {
            snprintf(path, sizeof(path), "/api/series?key=sim-%d&metric=temp", v->idx);
            http_get(v, path);
            next_2s = t + 2.0;
        }
    }
    close(fd);
    return NULL;
}

/* ---- the run ------------------------------------------------------------------------ */

static void on_alert(void *ud, const struct ad_alert *a, const char *line, size_t len)
{
    struct run *r = ud;
    r->alerts++;
    if (r->dash)
        ad_dash_alert(r->dash, a, line, len);
}

static void overview(void *ud, struct ad_dash_overview *o)
{
    struct run *r = ud;
    o->records = r->next;
    o->alerts = r->alerts;
    o->series = 0;
    o->ready = true;
    o->health = "ok";
}

static int each_series(void *ud, ad_pipeline_each_fn fn, void *fn_ud)
{
    struct run *r = ud;
    return ad_pipeline_each_series(r->p, fn, fn_ud);
}

static int not_found(void *ud, const char *path, struct ad_buf *out, const char **ctype)
{
    (void)ud, (void)path, (void)out, (void)ctype;
    return 404;
}

static void on_idle(uv_idle_t *h)
{
    struct run *r = h->data;
    struct ad_record_meta meta = {.topic = "bench", .timestamp_ms = -1};
    size_t end = r->next + CHUNK < r->L->n ? r->next + CHUNK : r->L->n;
    for (; r->next < end; r->next++) {
        meta.offset = (int64_t)r->next;
        ad_pipeline_push(r->p, r->L->data + r->L->off[r->next],
                         r->L->off[r->next + 1] - r->L->off[r->next], &meta, 0);
    }
    if (r->next == r->L->n) {
        ad_pipeline_flush(r->p);
        r->t1 = now_s();
        r->c1 = cpu_s(); /* the loop's: pipeline, HTTP server and dashboard */
        uv_idle_stop(h);
    }
}

static void dash_open(struct run *r)
{
    char err[256];
    struct ad_httpd_opts ho = {&r->loop, "127.0.0.1:0", not_found, NULL};
    struct ad_dash_opts o = {.loop = &r->loop,
                             .max_clients = 100,
                             .history_points = 600,
                             .history_series = 64,
                             .client_queue = 256 * 1024,
                             .max_key = 256,
                             .watch_ms = 120000,
                             .ops = {overview, each_series, r}};
    if (ad_httpd_start(&ho, &r->httpd, err, sizeof(err)) ||
        ad_dash_new(&o, &r->dash, err, sizeof(err))) {
        fprintf(stderr, "dashboard: %s\n", err);
        exit(1);
    }
    ad_httpd_set_pages(r->httpd, ad_dash_pages, r->dash);
    ad_pipeline_on_score_if(r->p, ad_dash_on_score, ad_dash_wants, r->dash);
}

/* One run of setup s: records per CPU second of the loop thread (records per
 * wall second in *wall), and the dashboard's stats in *ds. */
static double run_once(const struct lines *L, enum setup s, double *wall, struct ad_dash_stats *ds)
{
    struct run r = {.L = L};
    struct viewer v[VIEWERS];
    atomic_int stop = 0;
    uv_loop_init(&r.loop);
    static const char *const sets[] = {"model.welford.min_samples=30", NULL};
    r.p = bench_pipeline(sets, 0, NULL);
    ad_pipeline_on_alert(r.p, on_alert, &r);
    if (s != OFF)
        dash_open(&r);
    int nv = s == VIEWED ? VIEWERS : 0;
    for (int i = 0; i < nv; i++) {
        v[i] = (struct viewer){.port = ad_httpd_port(r.httpd), .idx = i + 1, .stop = &stop};
        pthread_create(&v[i].th, NULL, viewer_main, &v[i]);
    }
    struct ad_dash_stats st = {0};
    while (r.dash && st.clients < (size_t)nv) { /* every viewer on the feed first */
        uv_run(&r.loop, UV_RUN_ONCE);
        ad_dash_stats(r.dash, &st);
    }
    uv_idle_init(&r.loop, &r.idle);
    r.idle.data = &r;
    r.t0 = now_s();
    r.c0 = cpu_s();
    uv_idle_start(&r.idle, on_idle);
    while (r.t1 == 0)
        uv_run(&r.loop, UV_RUN_ONCE);
    atomic_store(&stop, 1);
    for (int i = 0; i < nv; i++) { /* serve them until they are gone */
        while (pthread_tryjoin_np(v[i].th, NULL) != 0)
            uv_run(&r.loop, UV_RUN_NOWAIT);
    }
    struct ad_pipeline_stats ps;
    ad_pipeline_stats(r.p, &ps);
    if (ps.accepted != L->n)
        fprintf(stderr, "%s: %llu of %zu records accepted\n", setup_name[s],
                (unsigned long long)ps.accepted, L->n);
    if (r.dash)
        ad_dash_stats(r.dash, ds);
    uv_close((uv_handle_t *)&r.idle, NULL);
    ad_dash_close(r.dash);
    ad_httpd_close(r.httpd);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    ad_dash_free(r.dash);
    ad_pipeline_free(r.p);
    uv_loop_close(&r.loop);
    *wall = (double)L->n / (r.t1 - r.t0);
    return (double)L->n / (r.c1 - r.c0);
}

static void memory(void)
{
    struct ad_history_cfg hc = {.points = 600, .series = 64, .watch_ms = 1000, .max_key = 256};
    struct ad_history *h;
    struct ad_history_stats st;
    char key[32];
    if (ad_history_new(&hc, &h))
        exit(1);
    ad_history_stats(h, &st);
    size_t empty = st.bytes;
    for (int i = 0; i < 1000000; i++) { /* a million series, none flagged or watched */
        snprintf(key, sizeof(key), "sensor-%07d", i);
        struct ad_score_row row = {.key = key, .key_len = strlen(key), .metric = "temp"};
        ad_history_score(h, &row, 0);
    }
    ad_history_stats(h, &st);
    size_t million = st.bytes;
    for (int i = 0; i < 64; i++) { /* then the 64 slots flagged and their rings full */
        snprintf(key, sizeof(key), "sensor-%07d", i);
        for (int k = 0; k < 600; k++) {
            struct ad_score_row row = {.key = key,
                                       .key_len = strlen(key),
                                       .metric = "temp",
                                       .t_us = k,
                                       .is_anomaly = !k};
            ad_history_score(h, &row, 0);
        }
    }
    ad_history_stats(h, &st);
    printf("history memory (http.dashboard.history_series 64 x history_points 600):\n");
    printf("  empty:                               %9zu bytes\n", empty);
    printf("  1,000,000 series scored, none held:  %9zu bytes\n", million);
    printf("  64 rings full (%zu series held):      %9zu bytes (%zu per point)\n", st.series,
           st.bytes, sizeof(struct ad_hist_point));
    ad_history_free(h);
}

int main(int argc, char **argv)
{
    uint64_t records = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint32_t sensors = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1000;
    int rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
    struct lines L;
    if (records == 0 || sensors == 0 || rounds < 1 || generate(&L, records, sensors)) {
        fprintf(stderr, "usage: bench_dash [RECORDS [SENSORS [ROUNDS]]]\n");
        return 2;
    }
    double best[NSETUPS] = {0}, best_wall[NSETUPS] = {0};
    struct ad_dash_stats ds = {0};
    for (int k = 0; k < rounds; k++)
        for (int s = 0; s < NSETUPS; s++) {
            struct ad_dash_stats d = {0};
            double wall, rate = run_once(&L, (enum setup)s, &wall, &d);
            printf("  round %d %-10s %10.0f records/CPU s %10.0f records/s\n", k + 1, setup_name[s],
                   rate, wall);
            if (rate > best[s])
                best[s] = rate;
            if (wall > best_wall[s])
                best_wall[s] = wall;
            if (s == VIEWED)
                ds = d;
        }
    printf("pipeline throughput, %llu records, %u sensors, best of %d:\n",
           (unsigned long long)records, sensors, rounds);
    for (int s = 0; s < NSETUPS; s++)
        printf("  %-10s %10.0f records per CPU second of the loop, %10.0f per wall second\n",
               setup_name[s], best[s], best_wall[s]);
    printf("  ratio 5 viewers / 0 viewers: %.3f CPU, %.3f wall (goal >= 0.95)\n",
           best[VIEWED] / best[IDLE_DASH], best_wall[VIEWED] / best_wall[IDLE_DASH]);
    printf("  ratio 5 viewers / off:       %.3f CPU, %.3f wall\n", best[VIEWED] / best[OFF],
           best_wall[VIEWED] / best_wall[OFF]);
    printf("  with 5 viewers: %zu history series, %zu history bytes, %zu alert bytes, "
           "%llu dropped\n",
           ds.history_series, ds.history_bytes, ds.alert_bytes,
           (unsigned long long)ds.clients_dropped);
    memory();
    free(L.data);
    free(L.off);
    return 0;
}
