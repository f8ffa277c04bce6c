/* bench_uvad_same - prints the REST responses to a fixed set of random
 * detect requests, so two builds can be compared byte for byte after a
 * change meant to leave the results alone (a speed-up):
 *
 *   bench_uvad_same [COUNT] [SEED] > responses.txt   (default 300, 1)
 *
 * Each request draws its shape (seasonal with period 7, 12, 24 or 60 and
 * trend; noise only; a random walk; a ramp; a constant with spikes), its
 * length (12 .. 2,000 points), granularity (none, minutely, hourly, daily,
 * with gaps sometimes), mode (last or entire), sensitivity and
 * maxAnomalyRatio from a seeded generator. One line per response: status,
 * then the body. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad_buf.h"
#include "ad_uvad_api.h"

static uint64_t rng;

static double urand(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double nrand(void)
{
    double s = 0.0;
    for (int i = 0; i < 12; i++)
        s += urand();
    return s - 6.0;
}

static size_t pick(size_t n)
{
    return (size_t)(urand() * (double)n) % n;
}

/* The value of point i of the request's shape. */
static double value_at(int shape, size_t i, int period, double *walk)
{
    double x = (double)i;
    switch (shape) {
    case 0:
        return 100 + 0.02 * x + 15 * sin(2 * 3.141592653589793 * x / period) + nrand();
    case 1:
        return 50 + 3 * nrand();
    case 2:
        *walk += nrand();
        return *walk;
    case 3:
        return 10 + 0.5 * x + 0.3 * nrand();
    default:
        return 7.0 + (urand() < 0.03 ? 30 * urand() : 0.0);
    }
}

/* One random request body into b; *path gets the endpoint. */
static void request(struct ad_buf *b, const char **path)
{
    static const char *const gran[] = {"none", "minutely", "hourly", "daily"};
    static const int64_t step[] = {0, 60, 3600, 86400};
    static const int periods[] = {7, 12, 24, 60};
    int shape = (int)pick(5), g = (int)pick(4), period = periods[pick(4)];
    size_t n = 12 + pick(urand() < 0.5 ? 300 : 1990);
    bool gaps = g != 0 && urand() < 0.3;
    *path = urand() < 0.5 ? "/anomalydetector/v1.1/timeseries/last/detect"
                          : "/anomalydetector/v1.1/timeseries/entire/detect";
    ad_buf_printf(b, "{\"granularity\":\"%s\",\"sensitivity\":%d,\"maxAnomalyRatio\":%.3f", gran[g],
                  (int)pick(100), 0.01 + 0.48 * urand());
    if (urand() < 0.2)
        ad_buf_printf(b, ",\"period\":%d", period);
    ad_buf_adds(b, ",\"series\":[");
    double walk = 0.0;
    int64_t t = 1700000000 / 86400 * 86400;
    for (size_t i = 0; i < n; i++) {
        double v = value_at(shape, i, period, &walk);
        if (urand() < 0.01)
            v += 20 * nrand();
        ad_buf_printf(b, "%s{", i ? "," : "");
        if (g != 0) {
            time_t tt = (time_t)t;
            struct tm tm;
            gmtime_r(&tt, &tm);
            ad_buf_printf(b, "\"timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02dZ\",", tm.tm_year + 1900,
                          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
            t += step[g] * (gaps && urand() < 0.05 ? 2 : 1);
        }
        ad_buf_printf(b, "\"value\":%.6g}", v);
    }
    ad_buf_adds(b, "]}");
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 300;
    rng = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    struct ad_buf b, out;
    ad_buf_init(&b, 64 << 20);
    ad_buf_init(&out, 64 << 20);
    for (long k = 0; k < count; k++) {
        const char *path;
        ad_buf_reset(&b);
        ad_buf_reset(&out);
        request(&b, &path);
        struct ad_uv_http_request rq = {"POST", path, strlen(path), b.p, b.len, 0};
        struct ad_uv_response res;
        ad_uv_api_handle(&rq, &out, &res);
        printf("%ld %d %.*s\n", k, res.status, (int)out.len, out.p);
    }
    ad_buf_free(&b);
    ad_buf_free(&out);
    return 0;
}
