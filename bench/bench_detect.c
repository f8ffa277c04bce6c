/* bench_detect.c - per-point cost and bytes per series of each detector, at
 * 5-minute steps with a daily period (the figures of docs/detection.md).
 * The best of several runs is reported (the machine may be shared).
 *
 *   bench_detect [points]        (default 200000) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ad_detect.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    double *v = malloc(n * sizeof(double)), welford_ns = 0;
    uint64_t x = 1;
    static const struct {
        const char *name;
        int id;
        bool lik;
    } det[] = {{"welford", AD_DET_WELFORD, false},   {"robust", AD_DET_ROBUST, false},
               {"seasonal", AD_DET_SEASONAL, false}, {"change", AD_DET_CHANGE, false},
               {"auto", AD_DET_AUTO, false},         {"welford+likelihood", AD_DET_WELFORD, true}};

    if (!v || n == 0)
        return 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(x >> 11) / 9007199254740992.0 - 0.5;
        v[i] = 100 + 30 * sin(6.283185307179586 * (double)(i % 288) / 288) + 4 * u;
    }
    printf("%-20s %8s %10s %10s %8s\n", "detector", "bytes", "encoded", "ns/point", "x welford");
    for (size_t d = 0; d < sizeof(det) / sizeof(det[0]); d++) {
        struct ad_detect_params p;
        struct ad_detect_result r;
        double best = 1e30, sink = 0;
        void *st;

        ad_detect_defaults(&p, det[d].id);
        p.likelihood = det[d].lik;
        st = aligned_alloc(8, ad_detect_size(&p));
        if (!st)
            return 1;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = now_s();
            ad_detect_init(st, &p);
            for (size_t i = 0; i < n; i++) {
                ad_detect_step(st, &p, 1704067200000000LL + (int64_t)i * 300000000LL, v[i], &r);
                sink += r.score;
            }
            double dt = (now_s() - t0) * 1e9 / (double)n;
            if (dt < best)
                best = dt;
        }
        if (d == 0)
            welford_ns = best;
        printf("%-20s %8zu %10zu %10.0f %8.1f%s\n", det[d].name, ad_detect_size(&p),
               ad_detect_encoded_size(&p), best, best / welford_ns, sink < 0 ? " " : "");
        free(st);
    }
    free(v);
    return 0;
}
