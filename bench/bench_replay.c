/* bench_replay - replay throughput of the whole pipeline next to a baseline
 * measured in the same process on the same bytes: jansson parsing each line
 * and nothing else. Then bytes of memory per series: RSS growth while 1M
 * distinct series are created.
 *
 *   bench_replay [RECORDS [SENSORS [SERIES_FOR_MEMORY]]]   (1000000 1000 1000000)
 *
 * Records are generated in memory in the scenario C format by the simulator
 * (anomaly rate 0.001), so disk speed is not measured. Each side runs three
 * times, alternating, and the best run of each is reported. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ad_buf.h"
#include "ad_config.h"
#include "ad_pipeline.h"
#include "ad_sim.h"
#include "ad_time.h"
#include "bench_util.h"

static uint64_t alerts_seen;
static void count_alert(void *ud, const struct ad_alert *a, const char *line, size_t len)
{
    (void)ud;
    (void)a;
    (void)line;
    alerts_seen += len > 0;
}

static double run_baseline(const struct lines *L)
{
    json_error_t e;
    uint64_t ok = 0;
    double t0 = now_s();
    for (size_t i = 0; i < L->n; i++) {
        json_t *j = json_loadb(L->data + L->off[i], L->off[i + 1] - L->off[i], 0, &e);
        ok += j != NULL;
        json_decref(j);
    }
    double t = now_s() - t0;
    if (ok != L->n)
        fprintf(stderr, "baseline: %llu of %zu lines parsed\n", (unsigned long long)ok, L->n);
    return t;
}

static struct ad_pipeline *make_pipeline(int64_t max_series)
{
    /* The scenario C example: every reading scored with a lifetime model. */
    static const char *const sets[] = {"model.welford.min_samples=30", NULL};
    struct ad_pipeline *p = bench_pipeline(sets, max_series, NULL);
    ad_pipeline_on_alert(p, count_alert, NULL);
    return p;
}

static double run_pipeline(const struct lines *L, uint64_t *alerts)
{
    struct ad_pipeline *p = make_pipeline(1000000);
    struct ad_record_meta meta = {.topic = "bench", .timestamp_ms = -1};
    double t0 = now_s();
    for (size_t i = 0; i < L->n; i++) {
        meta.offset = (int64_t)i;
        ad_pipeline_push(p, L->data + L->off[i], L->off[i + 1] - L->off[i], &meta, 0);
    }
    ad_pipeline_flush(p);
    double t = now_s() - t0;
    struct ad_pipeline_stats st;
    ad_pipeline_stats(p, &st);
    if (st.accepted != L->n)
        fprintf(stderr, "pipeline: %llu of %zu records accepted\n", (unsigned long long)st.accepted,
                L->n);
    *alerts = st.alerts;
    ad_pipeline_free(p);
    return t;
}

int main(int argc, char **argv)
{
    uint64_t records = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint32_t sensors = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1000;
    uint64_t mem_series = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
    struct lines L;

    if (records == 0 || sensors == 0 || generate(&L, records, sensors)) {
        fprintf(stderr, "usage: bench_replay [RECORDS [SENSORS [SERIES]]]\n");
        return 1;
    }
    double best_base = 1e30, best_pipe = 1e30;
    uint64_t alerts = 0;
    for (int round = 0; round < 3; round++) {
        double b = run_baseline(&L), p = run_pipeline(&L, &alerts);
        if (b < best_base)
            best_base = b;
        if (p < best_pipe)
            best_pipe = p;
    }
    double rb = (double)records / best_base, rp = (double)records / best_pipe;
    printf("replay throughput: %llu records, %u sensors, scenario C format (%.1f MB)\n",
           (unsigned long long)records, sensors, (double)L.off[L.n] / 1e6);
    printf("  baseline (jansson parse only): %12.0f records/s\n", rb);
    printf("  anomalyd pipeline:             %12.0f records/s  (%llu alerts)\n", rp,
           (unsigned long long)alerts);
    printf("  ratio pipeline/baseline:       %12.3f  (target >= 0.9)\n", rp / rb);
    free(L.data);
    free(L.off);

    /* Memory per series: one record for each of mem_series distinct keys. */
    if (mem_series) {
        struct ad_pipeline *p = make_pipeline((int64_t)mem_series);
        struct ad_record_meta meta = {.topic = "bench", .timestamp_ms = -1};
        char line[128];
        long before = rss_bytes();
        for (uint64_t i = 0; i < mem_series; i++) {
            int n = snprintf(line, sizeof(line),
                             "{\"id\":\"sensor-%08llu\",\"ts\":1763632800000,\"temp\":21.5}",
                             (unsigned long long)i);
            meta.offset = (int64_t)i;
            ad_pipeline_push(p, line, (size_t)n, &meta, 0);
        }
        long after = rss_bytes();
        struct ad_pipeline_stats st;
        ad_pipeline_stats(p, &st);
        printf("memory: %llu series, RSS growth %.1f MB, %.0f bytes per series "
               "(keys of 15 bytes, no tumbling window)\n",
               (unsigned long long)st.win.series, (double)(after - before) / 1e6,
               (double)(after - before) / (double)st.win.series);
        ad_pipeline_free(p);
    }
    return 0;
}
