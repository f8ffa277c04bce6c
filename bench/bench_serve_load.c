/* bench_serve_load.c - a small closed-loop HTTP load generator for
 * bench/serve_bench.sh (no wrk on the machine): C clients, each sending one
 * request per connection (the server closes after each answer) back to back
 * for a while; prints requests/s and latency percentiles.
 *
 *   bench_serve_load HOST PORT PATH BODY|- CLIENTS SECONDS
 *
 * BODY is a file POSTed as application/json; "-" sends a GET. Output, one
 * line: label-free "key=value" pairs (requests, rps, p50_ms, p90_ms, p99_ms,
 * max_ms, non200). Not a test. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct shared {
    struct sockaddr_in addr;
    char *req;
    size_t req_len;
    double end;
};

struct worker {
    pthread_t th;
    const struct shared *sh;
    double *lat;
    size_t n, cap;
    size_t non200;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request; returns the HTTP status, or -1. */
static int one(const struct shared *sh)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1, one = 1;
    char buf[65536];
    size_t got = 0;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)&sh->addr, sizeof(sh->addr)) != 0)
        goto out;
    for (size_t off = 0; off < sh->req_len;) {
        ssize_t w = write(fd, sh->req + off, sh->req_len - off);
        if (w <= 0)
            goto out;
        off += (size_t)w;
    }
    for (;;) { /* until the server closes: keep the first bytes for the status */
        ssize_t r = read(fd, got < 64 ? buf + got : buf + 64,
                         got < 64 ? 64 - got : sizeof(buf) - 64);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got >= 12 && strncmp(buf, "HTTP/1.1 ", 9) == 0)
        status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
out:
    close(fd);
    return status;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    while (now_s() < w->sh->end) {
        double t0 = now_s();
        int st = one(w->sh);
        double dt = now_s() - t0;
        if (st != 200)
            w->non200++;
        if (w->n == w->cap) {
            size_t cap = w->cap ? 2 * w->cap : 4096;
            double *p = realloc(w->lat, cap * sizeof(double));
            if (!p)
                break;
            w->lat = p;
            w->cap = cap;
        }
        w->lat[w->n++] = dt;
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static char *build_request(const char *host, const char *path, const char *body_path, size_t *len)
{
    char *body = NULL, *req;
    long blen = 0;
    if (strcmp(body_path, "-") != 0) {
        FILE *f = fopen(body_path, "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0 || (blen = ftell(f)) < 0 ||
            fseek(f, 0, SEEK_SET) != 0 || !(body = malloc((size_t)blen + 1)) ||
            fread(body, 1, (size_t)blen, f) != (size_t)blen) {
            fprintf(stderr, "cannot read %s\n", body_path);
            exit(1);
        }
        fclose(f);
    }
    size_t cap = (size_t)blen + 512 + strlen(path) + strlen(host);
    req = malloc(cap);
    if (!req)
        exit(1);
    int n = body ? snprintf(req, cap,
                            "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                            "Content-Length: %ld\r\n\r\n",
                            path, host, blen)
                 : snprintf(req, cap, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
    if (body)
        memcpy(req + n, body, (size_t)blen);
    *len = (size_t)n + (size_t)blen;
    free(body);
    return req;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s HOST PORT PATH BODY|- CLIENTS SECONDS\n", argv[0]);
        return 2;
    }
    struct shared sh = {0};
    int clients = (int)strtol(argv[5], NULL, 10);
    double secs = strtod(argv[6], NULL);
    sh.addr.sin_family = AF_INET;
    sh.addr.sin_port = htons((uint16_t)strtol(argv[2], NULL, 10));
    if (inet_pton(AF_INET, argv[1], &sh.addr.sin_addr) != 1 || clients < 1 || clients > 1024 ||
        !(secs > 0)) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    sh.req = build_request(argv[1], argv[3], argv[4], &sh.req_len);
    struct worker *w = calloc((size_t)clients, sizeof(*w));
    double t0 = now_s();
    sh.end = t0 + secs;
    for (int i = 0; i < clients; i++) {
        w[i].sh = &sh;
        pthread_create(&w[i].th, NULL, run, &w[i]);
    }
    size_t total = 0, non200 = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(w[i].th, NULL);
        total += w[i].n;
        non200 += w[i].non200;
    }
    double wall = now_s() - t0;
    double *all = malloc((total ? total : 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof(double));
        k += w[i].n;
        free(w[i].lat);
    }
    qsort(all, total, sizeof(double), cmp);
#define PCT(p) (total ? 1000 * all[(size_t)((double)(total - 1) * (p))] : 0)
    printf("requests=%zu rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non200=%zu\n",
           total, (double)total / wall, PCT(0.50), PCT(0.90), PCT(0.99), PCT(1.0), non200);
    free(all);
    free(w);
    free(sh.req);
    return 0;
}
