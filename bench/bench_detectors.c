/* bench_detectors - the local detectors in the whole pipeline: replay
 * throughput of each model.detector next to Welford-only, measured in one run
 * on the same bytes (rounds alternate; best of each), and bytes of memory per
 * series per detector (RSS growth while distinct series are created, and the
 * fixed detector area and its checkpoint encoding).
 *
 *   bench_detectors [RECORDS [SENSORS [SERIES_FOR_MEMORY [ROUNDS]]]]
 *       (defaults: 1000000 1000 200000 3)
 *
 * Records: scenario C telemetry from the simulator (one reading per sensor per
 * second, anomaly rate 0.001), generated in memory so disk speed is not
 * measured; every reading is scored (no tumbling window). Goal (issue 13):
 * auto at >= 0.5x Welford-only. Each rate is given by the wall clock and by
 * the replaying thread's CPU time (best of the rounds for each): on a shared
 * machine the first also counts time the core spent on other processes.
 *
 * Then "uvad" (the Anomaly Detector algorithm on a ring of `window` points)
 * apart, as its cost per point grows with the window (O(window log window)):
 * ns per point for windows of 24 to 1,024 on a 5-minute daily sine with
 * noise, next to Welford's ns per point measured in the same run, and that
 * cost over window x log2(window). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/core/ad_pdet.h"
#include "ad_buf.h"
#include "ad_config.h"
#include "ad_pipeline.h"
#include "ad_sim.h"
#include "ad_time.h"
#include "bench_util.h"

static const char *const detectors[] = {"welford", "auto", "robust", "seasonal", "change"};
#define N_DET (sizeof(detectors) / sizeof(detectors[0]))

/* The scenario C config with model.detector = det (welford: the Welford
 * path, exactly the default scenario C scoring). */
static struct ad_pipeline *make_pipeline(const char *det, int64_t max_series)
{
    char set[64];
    snprintf(set, sizeof(set), "model.detector=%s", det);
    const char *const sets[] = {set, NULL};
    return bench_pipeline(sets, max_series, NULL);
}

/* Replays L with detector det; returns the wall seconds, *cpu the thread's
 * CPU seconds (on a shared machine the wall clock also counts the time other
 * processes held the core, so both are reported). */
static double run(const char *det, const struct lines *L, uint64_t *alerts, double *cpu)
{
    struct ad_pipeline *p = make_pipeline(det, 1000000);
    struct ad_record_meta meta = {.topic = "bench", .timestamp_ms = -1};
    double c0 = cpu_s(), t0 = now_s();
    for (size_t i = 0; i < L->n; i++) {
        meta.offset = (int64_t)i;
        ad_pipeline_push(p, L->data + L->off[i], L->off[i + 1] - L->off[i], &meta, 0);
    }
    ad_pipeline_flush(p);
    double t = now_s() - t0;
    *cpu = cpu_s() - c0;
    struct ad_pipeline_stats st;
    ad_pipeline_stats(p, &st);
    *alerts = st.alerts;
    ad_pipeline_free(p);
    return t;
}

/* RSS growth per series while n distinct series get one record each. */
static double bytes_per_series(const char *det, uint64_t n)
{
    struct ad_pipeline *p = make_pipeline(det, (int64_t)n);
    struct ad_record_meta meta = {.topic = "bench", .timestamp_ms = -1};
    char line[128];
    long before = rss_bytes();
    for (uint64_t i = 0; i < n; i++) {
        int len = snprintf(line, sizeof(line),
                           "{\"id\":\"sensor-%08llu\",\"ts\":1763632800000,\"temp\":21.5}",
                           (unsigned long long)i);
        meta.offset = (int64_t)i;
        ad_pipeline_push(p, line, (size_t)len, &meta, 0);
    }
    long after = rss_bytes();
    ad_pipeline_free(p);
    return (double)(after - before) / (double)n;
}

/* ns per point of detector p over n points (after a warm-up of one window). */
static double ns_per_point(const struct ad_detect_params *p, size_t n)
{
    size_t sz = ad_detect_size(p), sb = ad_detect_scratch_size(p), warm = 1100;
    void *st = aligned_alloc(16, (sz + 15) & ~(size_t)15);
    void *scratch = sb ? malloc(sb) : NULL;
    struct ad_detect_result r;
    double t0 = 0, sink = 0;

    ad_detect_init(st, p);
    for (size_t i = 0; i < warm + n; i++) {
        double x = 50 + 10 * sin(6.283185307179586 * (double)(i % 288) / 288) +
                   (double)((i * 2654435761u) % 1000) / 500.0;
        if (i == warm)
            t0 = now_s();
        ad_detect_step_scratch(st, p, 1704067200000000LL + (int64_t)i * 300000000LL, x, scratch,
                               &r);
        sink += r.score;
    }
    double t = now_s() - t0;
    free(scratch);
    free(st);
    return sink >= 0 ? t * 1e9 / (double)n : 0;
}

static void uvad_cost(void)
{
    const uint32_t windows[] = {24, 48, 97, 194, 388, 776, 1024};
    struct ad_detect_params w, u;

    ad_detect_defaults(&w, AD_DET_WELFORD);
    ad_detect_defaults(&u, AD_DET_UVAD);
    double base = ns_per_point(&w, 2000000);
    printf("\nuvad per point against its window (5-minute daily sine with noise), Welford %.0f ns "
           "per point in the same run\n",
           base);
    printf("| window | ns per point | x Welford | ns / (window log2 window) | scratch bytes | "
           "state bytes |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
        u.uvad.window = windows[i];
        size_t n = windows[i] > 200 ? 300 : 2000;
        double ns = ns_per_point(&u, n), nl = windows[i] * log2((double)windows[i]);
        printf("| %u | %.0f | %.0f | %.1f | %zu | %zu |\n", windows[i], ns, ns / base, ns / nl,
               ad_detect_scratch_size(&u), ad_detect_size(&u));
    }
}

int main(int argc, char **argv)
{
    uint64_t records = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint32_t sensors = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1000;
    uint64_t mem_series = argc > 3 ? strtoull(argv[3], NULL, 10) : 200000;
    int rounds = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 3;
    struct lines L;
    double best[N_DET], best_cpu[N_DET];
    uint64_t alerts[N_DET];

    if (records == 0 || sensors == 0 || rounds < 1 || generate(&L, records, sensors)) {
        fprintf(stderr, "usage: bench_detectors [RECORDS [SENSORS [SERIES [ROUNDS]]]]\n");
        return 1;
    }
    for (size_t d = 0; d < N_DET; d++)
        best[d] = best_cpu[d] = 1e30;
    for (int r = 0; r < rounds; r++)
        for (size_t d = 0; d < N_DET; d++) {
            double c, t = run(detectors[d], &L, &alerts[d], &c);
            if (t < best[d])
                best[d] = t;
            if (c < best_cpu[d])
                best_cpu[d] = c;
        }
    printf("replay throughput by model.detector: %llu records, %u sensors, scenario C format, "
           "best of %d\n",
           (unsigned long long)records, sensors, rounds);
    printf(
        "| detector | records/s | x Welford-only | records per CPU second | x Welford-only (CPU) "
        "| alerts |\n|---|---|---|---|---|---|\n");
    for (size_t d = 0; d < N_DET; d++)
        printf("| %s | %.0f | %.2f | %.0f | %.2f | %llu |\n", detectors[d],
               (double)records / best[d], best[0] / best[d], (double)records / best_cpu[d],
               best_cpu[0] / best_cpu[d], (unsigned long long)alerts[d]);
    free(L.data);
    free(L.off);

    if (mem_series) {
        printf("\nmemory per series: %llu series of one record each (keys of 15 bytes, no "
               "tumbling window)\n",
               (unsigned long long)mem_series);
        printf("| detector | RSS bytes per series | detector area | checkpoint bytes |\n"
               "|---|---|---|---|\n");
        for (size_t d = 0; d < N_DET; d++) {
            struct ad_detect_params dp;
            struct ad_detect_rules none = {0};
            struct ad_pdet *pd = NULL;
            char err[128];
            ad_detect_defaults(&dp, ad_detect_find(detectors[d])->id);
            double b = bytes_per_series(detectors[d], mem_series);
            if (d == 0) {
                printf("| welford | %.0f | 0 (the Welford path) | 0 |\n", b);
            } else if (ad_pdet_new(&dp, &none, 0, 0, &pd, err, sizeof(err)) == 0) {
                printf("| %s | %.0f | %zu | %zu |\n", detectors[d], b, ad_pdet_area_size(pd),
                       ad_pdet_encoded_size(pd));
                ad_pdet_free(pd);
            }
        }
    }
    uvad_cost();
    return 0;
}
