/* bench_window - the window stage alone (ad_window.h, public API only, so
 * that the same file builds against an older tree: bench/window_ab.sh runs
 * a baseline build and this one alternately and prints the ratios).
 *
 *   bench_window mem SETUP [SERIES]   bytes per series (RSS growth and heap
 *                                     bytes in use) once every series has
 *                                     filled its windows: SETUP is raw,
 *                                     tumbling, tumbling+sliding or sliding
 *   bench_window tick [SERIES]        what the daemon's 1 s tick asks of the
 *                                     window stage, with SERIES series holding
 *                                     open 1 s tumbling windows (none idle):
 *                                     the idle tick, and the partition's
 *                                     lowest open offset (the commit point)
 *   bench_window advance [SERIES]     watermark advances over SERIES sparse
 *                                     series (one point a minute each, 60 s
 *                                     lateness): time inside ad_window_advance
 *   bench_window aligned [SERIES]     aligned 1 s tumbling deadlines, half of
 *                                     the series reporting every second and
 *                                     half every other second: the longest
 *                                     and the total time inside
 *                                     ad_window_advance (the due series that
 *                                     stay open go back into the timer wheel
 *                                     among fresher ones)
 *
 * Defaults: 200000 series for mem, 1000000 for tick and advance, 100000 for
 * aligned. Each mode is
 * one process, so that RSS is its own. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_types.h"
#include "ad_window.h"
#include "bench_util.h"

#define G 1000000LL /* 1 s */

static uint64_t events;
static bool on_event(void *ud, const struct ad_window_event *ev)
{
    (void)ud;
    (void)ev;
    events++;
    return true;
}

static void key_of(char *buf, size_t n, uint64_t i)
{
    snprintf(buf, n, "sensor-%07llu", (unsigned long long)i);
}

static struct ad_window *make(struct ad_window_cfg *cfg)
{
    struct ad_window *w = NULL;
    cfg->max_series = 100000000;
    if (cfg->idle_us == 0)
        cfg->idle_us = 3600 * G;
    if (ad_window_new(cfg, on_event, NULL, &w) != 0) {
        fprintf(stderr, "ad_window_new failed\n");
        exit(1);
    }
    return w;
}

static void push(struct ad_window *w, struct ad_part *p, uint64_t i, int64_t t, double v,
                 int64_t off, int64_t now_ms)
{
    char key[32];
    key_of(key, sizeof(key), i);
    struct ad_window_point pt = {key, strlen(key), 0, t, v, off};
    if (ad_window_push(w, p, &pt, now_ms) != AD_PUSH_OK) {
        fprintf(stderr, "push refused\n");
        exit(1);
    }
}

static int run_mem(const char *setup, uint64_t n)
{
    struct ad_window_cfg cfg = {.aggregate = AD_AGG_MEAN};
    int windows = 2;
    if (strcmp(setup, "raw") == 0) {
        windows = 1;
    } else if (strcmp(setup, "tumbling") == 0) {
        cfg.tumbling = true;
        cfg.size_us = G;
    } else if (strcmp(setup, "tumbling+sliding") == 0) {
        cfg.tumbling = cfg.sliding = true;
        cfg.size_us = G;
        cfg.win_us = 60 * G; /* 60 points */
        cfg.slide_us = G;
        windows = 64;
    } else if (strcmp(setup, "sliding") == 0) {
        /* sliding scoring alone (once a minute over the last 60 points);
         * its points are still 1 s tumbling windows (the granularity) */
        cfg.tumbling = cfg.sliding = true;
        cfg.size_us = G;
        cfg.aggregate = AD_AGG_LAST;
        cfg.win_us = 60 * G;
        cfg.slide_us = 60 * G;
        windows = 125;
    } else {
        fprintf(stderr, "unknown setup %s\n", setup);
        return 2;
    }
    long rss0 = rss_bytes();
    size_t heap0 = mallinfo2().uordblks;
    struct ad_window *w = make(&cfg);
    struct ad_part *p = ad_window_part(w, "t", 0);
    int64_t off = 0;
    double t0 = now_s();
    for (int k = 0; k < windows; k++) {
        int64_t t = 1000 * G + k * G;
        for (uint64_t i = 0; i < n; i++)
            push(w, p, i, t + (int64_t)(i % 1000), (double)((i + (uint64_t)k) % 97), off++, 0);
        ad_window_advance(w, p, t + G - 1);
    }
    double dt = now_s() - t0;
    long rss = rss_bytes() - rss0;
    size_t heap = mallinfo2().uordblks - heap0;
    struct ad_window_stats st;
    ad_window_stats(w, &st);
    printf("mem %-17s series %llu: %.0f bytes/series RSS, %.0f bytes/series heap in use "
           "(%llu windows, %llu slides, %.2f s)\n",
           setup, (unsigned long long)n, (double)rss / (double)n, (double)heap / (double)n,
           (unsigned long long)st.windows, (unsigned long long)st.slides, dt);
    ad_window_free(w);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run_tick(uint64_t n)
{
    struct ad_window_cfg cfg = {.tumbling = true, .size_us = G, .idle_us = 60 * G};
    struct ad_window *w = make(&cfg);
    struct ad_part *p = ad_window_part(w, "t", 0);
    /* every series has a window open, last seen within the first second */
    for (uint64_t i = 0; i < n; i++)
        push(w, p, i, 1000 * G + (int64_t)(i % 1000000), 1.0, (int64_t)i, (int64_t)(i * 1000 / n));
    double d[21], lo[21];
    int64_t low = 0;
    for (int k = 0; k < 21; k++) {
        double t0 = now_s();
        ad_window_tick(w, 1000 + k * 1000); /* 1 s ticks, nothing idle yet */
        double t1 = now_s();
        low += ad_part_low_offset(p);
        d[k] = t1 - t0;
        lo[k] = now_s() - t1;
    }
    qsort(d, 21, sizeof(d[0]), cmp_double);
    qsort(lo, 21, sizeof(lo[0]), cmp_double);
    printf("tick series %llu (1 s tumbling, none idle): idle tick median %.1f us (max %.1f); "
           "lowest open offset median %.1f us (max %.1f), %s\n",
           (unsigned long long)n, d[10] * 1e6, d[20] * 1e6, lo[10] * 1e6, lo[20] * 1e6,
           low == 0 ? "offset 0 as expected" : "WRONG offset");
    ad_window_free(w);
    return 0;
}

static int run_advance(uint64_t n)
{
    struct ad_window_cfg cfg = {.tumbling = true, .size_us = G, .lateness_us = 60 * G};
    struct ad_window *w = make(&cfg);
    struct ad_part *p = ad_window_part(w, "t", 0);
    const int seconds = 240;
    double in_adv = 0, t_all = now_s();
    uint64_t records = 0;
    /* series i reports at the seconds s with s % 60 == i % 60: each holds a
     * window for 61 s, so all are open while a sixtieth closes each second */
    for (int s = 0; s < seconds; s++) {
        for (uint64_t i = (uint64_t)(s % 60); i < n; i += 60) {
            int64_t t = 1000 * G + s * G + (int64_t)((i / 60) * G / (n / 60 + 1));
            push(w, p, i, t, 1.0, (int64_t)records, 0);
            double t0 = now_s();
            ad_window_advance(w, p, t);
            in_adv += now_s() - t0;
            records++;
        }
    }
    t_all = now_s() - t_all;
    struct ad_window_stats st;
    ad_window_stats(w, &st);
    printf("advance series %llu, %llu records: %.3f s inside ad_window_advance (%.0f ns a "
           "record), %.3f s in all, %llu windows closed\n",
           (unsigned long long)n, (unsigned long long)records, in_adv,
           in_adv * 1e9 / (double)records, t_all, (unsigned long long)st.windows);
    ad_window_free(w);
    return 0;
}

static int run_aligned(uint64_t n)
{
    struct ad_window_cfg cfg = {.tumbling = true, .size_us = G, .lateness_us = 3 * G / 2};
    struct ad_window *w = make(&cfg);
    struct ad_part *p = ad_window_part(w, "t", 0);
    const int seconds = 20;
    double in_adv = 0, worst = 0;
    uint64_t records = 0;
    /* even series report every second, odd ones every even second, spread
     * over the second in series order: when the watermark passes a second's
     * end every series is due at once, and the even ones that reported late
     * in the last second go back into the wheel among the odd ones */
    for (int s = 0; s < seconds; s++) {
        for (uint64_t i = 0; i < n; i++) {
            if ((i & 1) && (s & 1))
                continue;
            int64_t t = 1000 * G + s * G + (int64_t)(i * (uint64_t)G / (n + 1));
            push(w, p, i, t, 1.0, (int64_t)records, 0);
            double t0 = now_s();
            ad_window_advance(w, p, t);
            double d = now_s() - t0;
            in_adv += d;
            if (d > worst)
                worst = d;
            records++;
        }
    }
    struct ad_window_stats st;
    ad_window_stats(w, &st);
    printf("aligned series %llu, %llu records: %.3f s inside ad_window_advance, longest call "
           "%.3f s, %llu windows closed\n",
           (unsigned long long)n, (unsigned long long)records, in_adv, worst,
           (unsigned long long)st.windows);
    ad_window_free(w);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "mem") == 0 && argc > 2)
        return run_mem(argv[2], argc > 3 ? strtoull(argv[3], NULL, 10) : 200000);
    if (strcmp(mode, "tick") == 0)
        return run_tick(argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000);
    if (strcmp(mode, "advance") == 0)
        return run_advance(argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000);
    if (strcmp(mode, "aligned") == 0)
        return run_aligned(argc > 2 ? strtoull(argv[2], NULL, 10) : 100000);
    fprintf(stderr, "usage: bench_window mem SETUP [SERIES] | tick [SERIES] | advance [SERIES] | "
                    "aligned [SERIES]\n");
    return 2;
}
