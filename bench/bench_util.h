/* bench_util.h - what the benchmarks share: a monotonic clock in seconds,
 * the process's resident memory, and scenario C records generated in memory
 * (so that disk speed is never measured). Header-only: each benchmark is one
 * file and one binary. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ad_buf.h"
#include "ad_sim.h"
#include "ad_time.h"

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
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

#endif
