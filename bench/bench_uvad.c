/* bench_uvad - latency of the univariate detector on one core.
 *
 *   bench_uvad [ITERATIONS [last|entire]]   (default 200, both kinds)
 *
 * Three series shapes (hourly seasonal, 5-minute noisy = spectral residual,
 * daily trend without period = dynamic threshold), each timed as
 *   last/detect   at 1,000 points (the REST handler: parse, detect, write)
 *   entire/detect at 8,640 points (idem)
 * with p50/p90/p99/max over ITERATIONS runs, printed next to a baseline
 * measured in the same run: one O(n) pass over the same body (a checksum of
 * its bytes), i.e. the least any handler must spend on the request. Both
 * wall time and the thread's CPU time are reported (they differ on a loaded
 * machine). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad_buf.h"
#include "ad_uvad_api.h"
#include "bench_util.h"

/* Milliseconds of the wall clock and of this thread's CPU (bench_util.h). */
static double now_ms(void)
{
    return now_s() * 1e3;
}
static double cpu_ms(void)
{
    return cpu_s() * 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng = 42;

static double nrand(void)
{
    double s = 0.0;
    for (int i = 0; i < 12; i++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        s += (double)(rng >> 11) / 9007199254740992.0;
    }
    return s - 6.0;
}

enum shape { SEASONAL, SPECTRAL, DYNAMIC };

/* A request body of n points of the given shape. */
static char *body(enum shape s, size_t n)
{
    struct ad_buf b;
    ad_buf_init(&b, 64 << 20);
    static const char *const gran[] = {"hourly", "minutely", "daily"};
    static const int step_s[] = {3600, 300, 86400};
    ad_buf_printf(&b, "{\"granularity\":\"%s\"%s,\"series\":[", gran[s],
                  s == SPECTRAL ? ",\"customInterval\":5" : "");
    for (size_t i = 0; i < n; i++) {
        double v;
        if (s == SEASONAL)
            v = 100 + 20 * sin(2 * 3.141592653589793 * (double)(i % 24) / 24.0) + nrand();
        else if (s == SPECTRAL)
            v = 50 + 3 * nrand();
        else
            v = 10 + 0.01 * (double)i + nrand();
        if (i == n - 1 || i == n / 2)
            v += 40;
        time_t t = (time_t)(1700000000 / 86400 * 86400 + (int64_t)i * step_s[s]);
        struct tm tm;
        gmtime_r(&t, &tm);
        ad_buf_printf(&b, "%s{\"timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02dZ\",\"value\":%.4f}",
                      i ? "," : "", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, v);
    }
    ad_buf_adds(&b, "]}");
    return b.p;
}

static void report(const char *what, double *ms, int it)
{
    qsort(ms, (size_t)it, sizeof(double), cmp_double);
    printf("  %-34s p50 %8.3f  p90 %8.3f  p99 %8.3f  max %8.3f ms\n", what, ms[it / 2],
           ms[it * 9 / 10], ms[it * 99 / 100], ms[it - 1]);
}

static void run(enum shape s, const char *path, size_t n, int it)
{
    static const char *const names[] = {"seasonal (hourly)", "spectral residual (5 min)",
                                        "dynamic threshold (daily)"};
    char *b = body(s, n);
    size_t len = strlen(b);
    double *ms = malloc((size_t)it * sizeof(double)), *base = malloc((size_t)it * sizeof(double));
    double *cpu = malloc((size_t)it * sizeof(double));
    struct ad_buf out;
    ad_buf_init(&out, 64 << 20);
    int status = 0;
    volatile uint64_t sink = 0;
    for (int i = 0; i < it; i++) {
        double t0 = now_ms();
        uint64_t h = 1469598103934665603ULL;
        for (size_t k = 0; k < len; k++)
            h = (h ^ (unsigned char)b[k]) * 1099511628211ULL;
        sink += h;
        base[i] = now_ms() - t0;
        struct ad_uv_response res;
        ad_buf_reset(&out);
        struct ad_uv_http_request rq = {"POST", path, strlen(path), b, len, 0};
        t0 = now_ms();
        double c0 = cpu_ms();
        ad_uv_api_handle(&rq, &out, &res);
        cpu[i] = cpu_ms() - c0;
        ms[i] = now_ms() - t0;
        status = res.status;
    }
    printf("%s, %zu points, %s: status %d\n", names[s], n, strstr(path, "last") ? "last" : "entire",
           status);
    report("detect, wall", ms, it);
    report("detect, CPU", cpu, it);
    report("baseline (one pass over the body)", base, it);
    (void)sink;
    ad_buf_free(&out);
    free(ms);
    free(cpu);
    free(base);
    free(b);
}

int main(int argc, char **argv)
{
    int it = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 200;
    if (it < 10)
        it = 10;
    const char *last = "/anomalydetector/v1.1/timeseries/last/detect";
    const char *entire = "/anomalydetector/v1.1/timeseries/entire/detect";
    const char *only = argc > 2 ? argv[2] : "";
    for (int s = SEASONAL; s <= DYNAMIC; s++) {
        if (strcmp(only, "entire") != 0)
            run((enum shape)s, last, 1000, it);
        if (strcmp(only, "last") != 0)
            run((enum shape)s, entire, 8640, it / 10 > 10 ? it / 10 : 10);
    }
    return 0;
}
