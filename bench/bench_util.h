/* bench_util.h - what the benchmarks share: a monotonic clock and the
 * thread's CPU time in seconds, the process's resident memory, scenario C
 * records generated in memory (so that disk speed is never measured), and a
 * pipeline built from a few config settings. Header-only: each benchmark is
 * one file and one binary. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ad_buf.h"
#include "ad_config.h"
#include "ad_pipeline.h"
#include "ad_sim.h"
#include "ad_time.h"

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the calling thread: on a shared machine the wall clock also
 * counts the time other processes held the core. */
static inline double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set size in bytes (0 when /proc cannot tell). */
static inline long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* Records as one buffer: record i is data[off[i] .. off[i + 1]). */
struct lines {
    char *data;
    size_t *off;
    size_t n;
};

/* Fills L with records of the simulator's scenario C format (seed 7, one
 * record per sensor per second, anomaly rate 0.001). Returns 0 or -1. */
static inline int generate(struct lines *L, uint64_t records, uint32_t sensors)
{
    struct ad_sim_cfg sc = {.format = AD_SIM_SENSOR,
                            .seed = 7,
                            .devices = sensors,
                            .interval_us = 1000000,
                            .anomaly_rate = 0.001,
                            .noise = 0.5};
    struct ad_sim *sim;
    struct ad_sim_record r;
    struct ad_buf b;

    ad_time_parse_rfc3339("2026-11-20T10:00:00Z", 20, &sc.start_us);
    if (ad_sim_new(&sc, &sim))
        return -1;
    ad_buf_init(&b, (size_t)1 << 34);
    L->off = malloc((records + 1) * sizeof(size_t));
    if (!L->off)
        return -1;
    for (uint64_t i = 0; i < records; i++) {
        L->off[i] = b.len;
        if (ad_sim_next(sim, &b, &r))
            return -1;
    }
    L->off[records] = b.len;
    L->n = records;
    L->data = b.p;
    ad_sim_free(sim);
    return 0;
}

/* A pipeline for epoch-millisecond records (scenario C) with the config's
 * defaults, then each "key=value" of the NULL-terminated sets (may be NULL),
 * validated; max_series > 0 replaces the config's. The config is freed, or,
 * when keep is not NULL, left in *keep for the caller (ad_config_free).
 * Exits the process on any error. The caller owns the pipeline. */
static inline struct ad_pipeline *bench_pipeline(const char *const *sets, int64_t max_series,
                                                 struct ad_config *keep)
{
    struct ad_config own, *cfg = keep ? keep : &own;
    struct ad_pipeline_cfg pc;
    struct ad_pipeline *p = NULL;
    char err[512] = "out of memory";
    int rc = ad_config_init(cfg);

    if (!rc)
        rc = ad_config_set(cfg, "input.time_format=epoch_ms", err, sizeof(err));
    for (size_t i = 0; !rc && sets && sets[i]; i++)
        rc = ad_config_set(cfg, sets[i], err, sizeof(err));
    if (!rc)
        rc = ad_config_validate(cfg, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
    if (max_series > 0)
        cfg->max_series = max_series;
    ad_config_to_pipeline(cfg, &pc);
    if (ad_pipeline_new(&pc, &p, err, sizeof(err))) {
        fprintf(stderr, "pipeline: %s\n", err);
        exit(1);
    }
    if (!keep)
        ad_config_free(cfg);
    return p;
}

#endif
