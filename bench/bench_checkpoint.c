/* bench_checkpoint - the cost of checkpoints.
 *
 *   bench_checkpoint [SERIES [RECORDS [DIR]]]      (1000000 3000000 /tmp)
 *
 * 1. Checkpoint size and time for SERIES live series (one partition):
 *    serialization (on the loop in the daemon) and the durable write (temp
 *    file, fsync, rename, directory fsync: the thread pool in the daemon).
 * 2. Restore time: reading, checking and restoring the same checkpoint.
 * 3. Pipeline throughput over RECORDS scenario C records (1000 sensors) with a
 *    checkpoint every second of wall time, serialized and written on the same
 *    thread (harsher than the daemon's 10 s default, which also writes off the
 *    loop), next to the same run without checkpoints, in the same process.
 * 4. With SERIES live series (each record a different series, every series
 *    closing a window per pass, so every series changes between two
 *    checkpoints): throughput over LARGE_RECORDS records with a checkpoint
 *    every 10 s serialized on this thread, as the daemon's loop does by
 *    default (the checksum and the write are the thread pool's, not timed),
 *    and taken by a forked child (state.checkpoint_fork, ad_snapshot.h), next
 *    to checkpoints off.
 *
 * 5. The loop's stall per checkpoint round (every partition once, as the
 *    daemon's timer does) with SERIES series over 32 partitions: every
 *    round full (state.full_every 1, the baseline) next to incremental
 *    rounds (only the series changed since the previous round: CHANGED of
 *    them, spread over the partitions; a due full one is the same on the
 *    loop, then merged off it) and a round where one partition needs a full
 *    one on the loop (after a restore, or a series evicted from it).
 *    Serialization only (the seal and the write are the thread pool's).
 *    Best of 5 rounds each, alternating. Then the thread pool's part of a due
 *    full one: the compaction of one partition's base and 9 records.
 *
 *   bench_checkpoint SERIES RECORDS DIR LARGE_RECORDS   (LARGE_RECORDS 0 skips 4)
 *   bench_checkpoint SERIES 0 DIR 0 "" 3 CHANGED        (only 1, 2 and 5: CHANGED 0 skips 5) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ad_buf.h"
#include "ad_checkpoint.h"
#include "ad_ckpt_delta.h"
#include "ad_config.h"
#include "ad_hash.h"
#include "ad_pipeline.h"
#include "ad_snapshot.h"
#include "ad_state.h"
#include "bench_util.h"

/* A checkpoint of partition bench[0], resuming at offset, into b (reset). */
static int ckpt_into(struct ad_pipeline *p, int64_t offset, uint64_t fp, bool unsealed,
                     struct ad_buf *b, uint64_t *nseries)
{
    struct ad_ckpt_req req = {.topic = "bench",
                              .offset = offset,
                              .fingerprint = fp,
                              .unsealed = unsealed};
    struct ad_ckpt_result res = {0};
    struct ad_out out;
    ad_out_buf(&out, b);
    int rc = ad_pipeline_checkpoint(p, &req, &out, &res);
    if (nseries)
        *nseries = res.nseries;
    return rc;
}

static struct ad_pipeline *make(struct ad_config *cfg, int64_t max_series)
{
    /* Welford models, as measured before auto became the default detector. */
    static const char *const sets[] = {"model.detector=welford", NULL};
    return bench_pipeline(sets, max_series, cfg);
}

static uint64_t fingerprint(const struct ad_config *cfg)
{
    struct ad_pipeline_cfg pc;
    ad_config_to_pipeline(cfg, &pc);
    return ad_ckpt_fingerprint(&pc.window);
}

struct rctx {
    struct ad_pipeline *p;
};

static int restore_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct rctx *c = ud;
    return ad_pipeline_restore(c->p, "bench", 0, st, metric);
}

static double run(struct ad_pipeline *p, const char *data, const size_t *off, size_t n,
                  const char *dir, uint64_t fp, int *ckpts)
{
    struct ad_record_meta meta = {.topic = "bench", .timestamp_ms = -1};
    struct ad_buf b;
    char err[512];
    ad_buf_init(&b, (size_t)1 << 32);
    double t0 = now_s(), next = t0 + 1.0;
    for (size_t i = 0; i < n; i++) {
        meta.offset = (int64_t)i;
        ad_pipeline_push(p, data + off[i], off[i + 1] - off[i], &meta, 0);
        if (dir && (i & 1023) == 0 && now_s() >= next) {
            if (ckpt_into(p, (int64_t)i + 1, fp, false, &b, NULL) ||
                ad_state_write(&(struct ad_state_loc){.dir = dir,
                                                      .topic = "bench-run",
                                                      .partition = 0},
                               b.p, b.len, err, sizeof(err))) {
                fprintf(stderr, "checkpoint: %s\n", err);
                exit(1);
            }
            (*ckpts)++;
            next = now_s() + 1.0;
        }
    }
    double t = now_s() - t0;
    ad_buf_free(&b);
    return t;
}

enum ckpt_mode { CK_OFF, CK_FORK, CK_LOOP };

struct large_run {
    double seconds;
    int checkpoints;
    double max_stall; /* the longest time the record loop stood still for a checkpoint */
    long minflt;      /* minor page faults of this process (copy-on-write ones included) */
};

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* Part 4: records generated on the fly, series i % nseries, one window per pass. */
static struct large_run run_large(uint64_t nseries, size_t records, const char *dir,
                                  enum ckpt_mode mode)
{
    struct ad_config cfg;
    struct ad_pipeline *p = make(&cfg, (int64_t)nseries + 1);
    uint64_t fp = fingerprint(&cfg);
    struct ad_record_meta meta = {.topic = "bench", .timestamp_ms = -1};
    struct ad_snapshot snap = {.fd = -1};
    struct ad_buf b;
    struct large_run r = {0};
    char line[128], err[512];
    ad_buf_init(&b, (size_t)1 << 33);
    long f0 = minor_faults();
    double t0 = now_s(), next = t0 + 10.0;
    for (size_t i = 0; i < records; i++) {
        uint64_t s = i % nseries, pass = i / nseries;
        int n = snprintf(line, sizeof(line), "{\"id\":\"sensor-%08llu\",\"ts\":%llu,\"temp\":%.2f}",
                         (unsigned long long)s,
                         (unsigned long long)(1763632800000ull + pass * 60000ull),
                         20.0 + (double)((s + pass) % 97) / 10);
        meta.offset = (int64_t)i;
        ad_pipeline_push(p, line, (size_t)n, &meta, 0);
        if ((i & 1023) || mode == CK_OFF)
            continue;
        if (snap.fd >= 0) {
            struct pollfd pf = {.fd = snap.fd, .events = POLLIN};
            if (poll(&pf, 1, 0) == 1) {
                if (ad_snapshot_finish(&snap, err, sizeof(err))) {
                    fprintf(stderr, "snapshot: %s\n", err);
                    exit(1);
                }
                r.checkpoints++;
            }
        }
        if (now_s() < next || snap.fd >= 0)
            continue;
        double s0 = now_s();
        if (mode == CK_FORK) {
            struct ad_ckpt_req req = {.topic = "bench", .offset = (int64_t)i, .fingerprint = fp};
            if (ad_snapshot_start(p, dir, &req, -1, &snap)) {
                fprintf(stderr, "fork failed\n");
                exit(1);
            }
        } else {
            /* What the loop does; the checksum and the write are the thread
             * pool's (not timed here). */
            if (ckpt_into(p, (int64_t)i, fp, true, &b, NULL)) {
                fprintf(stderr, "checkpoint failed\n");
                exit(1);
            }
            r.checkpoints++; /* the write would run on the thread pool: not timed here */
        }
        double stall = now_s() - s0;
        if (stall > r.max_stall)
            r.max_stall = stall;
        next = now_s() + 10.0;
    }
    if (snap.fd >= 0 && ad_snapshot_finish(&snap, err, sizeof(err)) == 0)
        r.checkpoints++;
    r.seconds = now_s() - t0;
    r.minflt = minor_faults() - f0;
    ad_buf_free(&b);
    ad_pipeline_free(p);
    ad_config_free(&cfg);
    return r;
}

/* Removes the state file of (dir, name, partition 0) and its ".prev". */
static void remove_state(const char *dir, const char *name)
{
    char path[4096];
    ad_state_path(dir, name, 0, path, sizeof(path));
    remove(path);
    snprintf(path + strlen(path), 16, ".prev");
    remove(path);
}

/* One checkpoint of nseries series: its size, the time to serialize and to
 * write it, then the time to restore it into a fresh pipeline. The config's
 * fingerprint goes to *fp. Returns 0, or 1 on a failure (printed). */
static int bench_one_checkpoint(uint64_t nseries, const char *dir, uint64_t *fp)
{
    struct ad_config cfg;
    struct ad_pipeline *p = make(&cfg, (int64_t)nseries + 1);
    struct ad_record_meta meta = {.topic = "bench", .timestamp_ms = -1};
    char line[128], err[512];

    *fp = fingerprint(&cfg);
    for (uint64_t i = 0; i < nseries; i++) {
        int n = snprintf(line, sizeof(line),
                         "{\"id\":\"sensor-%08llu\",\"ts\":1763632800000,\"temp\":%.2f}",
                         (unsigned long long)i, 20.0 + (double)(i % 97) / 10);
        meta.offset = (int64_t)i;
        ad_pipeline_push(p, line, (size_t)n, &meta, 0);
    }
    struct ad_buf b;
    uint64_t ns = 0;
    ad_buf_init(&b, (size_t)1 << 33);
    double t0 = now_s();
    if (ckpt_into(p, (int64_t)nseries, *fp, true, &b, &ns)) {
        fprintf(stderr, "checkpoint failed\n");
        return 1;
    }
    double t_ser = now_s() - t0;
    t0 = now_s();
    if (ad_ckpt_seal(&b, AD_FNV64_BASIS) ||
        ad_state_write(&(struct ad_state_loc){.dir = dir, .topic = "bench", .partition = 0}, b.p,
                       b.len, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t_write = now_s() - t0;
    printf("checkpoint of %llu series: %.1f MB (%.1f bytes/series), serialize %.3f s (the "
           "loop's part), checksum and durable write %.3f s (the thread pool's)\n",
           (unsigned long long)ns, (double)b.len / 1e6, (double)b.len / (double)ns, t_ser, t_write);
    ad_pipeline_free(p);
    ad_config_free(&cfg);

    /* Restore into a fresh pipeline. */
    struct ad_pipeline *q = make(&cfg, (int64_t)nseries + 1);
    struct rctx rc = {q};
    struct ad_ckpt_header h;
    t0 = now_s();
    /* The daemon's way: the file read, checked and restored by ad_state_load. */
    if (ad_state_load(&(struct ad_state_loc){.dir = dir, .topic = "bench", .partition = 0}, *fp, -1,
                      &h, restore_cb, &rc) != 0) {
        fprintf(stderr, "restore failed\n");
        return 1;
    }
    double t_restore = now_s() - t0;
    struct ad_pipeline_stats st;
    ad_pipeline_stats(q, &st);
    printf("restore of %llu series: %.3f s (read, checksum, rebuild)\n",
           (unsigned long long)st.win.series, t_restore);
    ad_pipeline_free(q);
    ad_config_free(&cfg);
    ad_buf_free(&b);
    remove_state(dir, "bench");
    return 0;
}

/* Throughput over records simulated records of 1000 sensors, with and
 * without a checkpoint every second (best of 3 rounds each). */
static void bench_throughput(size_t records, const char *dir, uint64_t fp)
{
    struct ad_config cfg;
    struct ad_pipeline *p;
    struct lines L;
    if (generate(&L, records, 1000)) {
        fprintf(stderr, "throughput: could not generate %zu records\n", records);
        exit(1);
    }
    double best_off = 1e30, best_on = 1e30;
    int ckpts = 0;
    for (int round = 0; round < 3; round++) {
        int c = 0;
        p = make(&cfg, 1000000);
        double t = run(p, L.data, L.off, records, NULL, fp, &c);
        ad_pipeline_free(p);
        ad_config_free(&cfg);
        if (t < best_off)
            best_off = t;
        p = make(&cfg, 1000000);
        t = run(p, L.data, L.off, records, dir, fp, &c);
        ad_pipeline_free(p);
        ad_config_free(&cfg);
        if (t < best_on) {
            best_on = t;
            ckpts = c;
        }
    }
    printf("throughput, %zu records, 1000 sensors:\n", records);
    printf("  checkpoints off:            %10.0f records/s\n", (double)records / best_off);
    printf("  checkpoint every 1 s:       %10.0f records/s  (%d checkpoints, fsync on the same "
           "thread)\n",
           (double)records / best_on, ckpts);
    printf("  ratio on/off:               %10.3f  (target >= 0.95 at every 10 s)\n",
           best_off / best_on);
    remove_state(dir, "bench-run");
    free(L.off);
    free(L.data);
}

/* large records over nseries live series, checkpoints off, in a forked child
 * and on the loop. Rounds alternate the three ways; each one's best round
 * counts (the machine's noise only ever slows a run down). only is "" or one
 * of "off", "fork", "loop" (one way: profiling). */
static void bench_large(uint64_t nseries, size_t large, const char *dir, const char *only,
                        int rounds)
{
    static const char *const names[] = {"off", "fork", "loop"};
    struct large_run best[3];
    for (int m = 0; m < 3; m++)
        best[m] = (struct large_run){.seconds = 1e30};
    for (int round = 0; round < rounds; round++)
        for (int m = 0; m < 3; m++) {
            if (*only && strcmp(only, names[m]))
                continue;
            struct large_run lr = run_large(nseries, large, dir, (enum ckpt_mode)m);
            fprintf(stderr, "  round %d %-4s %8.0f records/s, %d checkpoints, %ld minor faults\n",
                    round + 1, names[m], (double)large / lr.seconds, lr.checkpoints, lr.minflt);
            if (lr.seconds < best[m].seconds)
                best[m] = lr;
        }
    printf("throughput, %zu records over %llu live series, checkpoint every 10 s (best of %d):\n",
           large, (unsigned long long)nseries, rounds);
    printf("  checkpoints off:            %10.0f records/s  (%ld minor faults)\n",
           (double)large / best[0].seconds, best[0].minflt);
    printf("  forked child (checkpoint_fork): %6.0f records/s  (%d checkpoints, longest stall "
           "%.3f s, %ld minor faults)  ratio %.3f (target >= 0.95)\n",
           (double)large / best[1].seconds, best[1].checkpoints, best[1].max_stall, best[1].minflt,
           best[0].seconds / best[1].seconds);
    printf("  on the loop (the default):  %10.0f records/s  (%d checkpoints, longest stall "
           "%.3f s, %ld minor faults)  ratio %.3f\n",
           (double)large / best[2].seconds, best[2].checkpoints, best[2].max_stall, best[2].minflt,
           best[0].seconds / best[2].seconds);
    remove_state(dir, "bench");
}

static int accept_all(void *ud, const struct ad_series_state *st, const char *metric)
{
    (void)ud, (void)st, (void)metric;
    return 0;
}

#define NPARTS 32

/* One round over the 32 partitions; full_part: the partition that is full
 * (-1 none, NPARTS all). Returns the seconds the loop would stand still. */
static double round_stall(struct ad_pipeline *p, int full_part, struct ad_buf *b, uint64_t fp,
                          uint64_t *nseries)
{
    double t0 = now_s();
    *nseries = 0;
    for (int part = 0; part < NPARTS; part++) {
        bool full = full_part == NPARTS || part == full_part;
        struct ad_ckpt_req req = {.topic = "bench",
                                  .partition = part,
                                  .offset = 1,
                                  .fingerprint = fp,
                                  .unsealed = true,
                                  .each = accept_all,
                                  .delta = !full};
        struct ad_ckpt_result res = {0};
        struct ad_out out;
        ad_out_buf(&out, b);
        if (ad_pipeline_checkpoint(p, &req, &out, &res) != 0) {
            fprintf(stderr, "checkpoint failed\n");
            exit(1);
        }
        *nseries += res.nseries;
    }
    return now_s() - t0;
}

/* Pushes one point to each of n series (series (start + k * step) % total,
 * in partition series % 32), at event time pass. */
static void touch(struct ad_pipeline *p, uint64_t total, uint64_t n, uint64_t start, uint64_t pass)
{
    char line[128];
    struct ad_record_meta meta = {.topic = "bench", .timestamp_ms = -1};
    for (uint64_t k = 0; k < n; k++) {
        uint64_t s = (start + k * 7919) % total;
        int len = snprintf(line, sizeof(line),
                           "{\"id\":\"sensor-%08llu\",\"ts\":%llu,\"temp\":%.2f}",
                           (unsigned long long)s,
                           (unsigned long long)(1763632800000ull + pass * 1000ull),
                           20.0 + (double)((s + pass) % 97) / 10);
        meta.partition = (int32_t)(s % NPARTS);
        meta.offset = (int64_t)(pass * total + s);
        ad_pipeline_push(p, line, (size_t)len, &meta, 0);
    }
}

/* Partition 0's checkpoint (full or the changed series) into b, sealed. */
static void part0(struct ad_pipeline *p, bool delta, struct ad_buf *b, uint64_t fp)
{
    struct ad_ckpt_req req = {.topic = "bench",
                              .offset = 1,
                              .fingerprint = fp,
                              .each = accept_all,
                              .delta = delta};
    struct ad_out out;
    ad_out_buf(&out, b);
    if (ad_pipeline_checkpoint(p, &req, &out, NULL) != 0) {
        fprintf(stderr, "checkpoint failed\n");
        exit(1);
    }
}

/* The thread pool's part of a due full checkpoint: partition 0's base and
 * 9 records merged into a new base. */
static void bench_compaction(struct ad_pipeline *p, uint64_t nseries, uint64_t changed, uint64_t fp,
                             const char *dir)
{
    struct ad_buf b;
    char err[512];
    struct ad_state_loc loc = {.dir = dir, .topic = "bench-c", .partition = 0};
    ad_buf_init(&b, (size_t)1 << 33);
    part0(p, false, &b, fp);
    uint64_t sum = ad_ckpt_sum(b.p, b.len), nsum;
    size_t base_len = b.len;
    if (ad_state_write(&loc, b.p, b.len, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    for (uint64_t seq = 1; seq <= 9; seq++) {
        touch(p, nseries, changed, seq * 31, 100 + seq);
        part0(p, true, &b, fp);
        struct ad_ckpt_delta rec = {.base_sum = sum, .seq = seq, .ckpt = b.p, .len = b.len};
        if (ad_state_append_delta(&loc, &rec, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
    }
    double t0 = now_s();
    if (ad_state_compact(&loc, sum, 9, &nsum, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    printf("  a due full one off the loop: compaction of one partition's base (%.1f MB) and 9 "
           "records: %.2f ms on the thread pool, 0 on the loop\n",
           (double)base_len / 1e6, (now_s() - t0) * 1e3);
    ad_buf_free(&b);
    remove_state(dir, "bench-c");
}

static void bench_rounds(uint64_t nseries, uint64_t changed, const char *dir)
{
    struct ad_config cfg;
    struct ad_pipeline *p = make(&cfg, (int64_t)nseries + 1);
    uint64_t fp = fingerprint(&cfg), n;
    struct ad_buf b;
    ad_buf_init(&b, (size_t)1 << 33);
    touch(p, nseries, nseries, 0, 0); /* every series, once */
    double best[3] = {1e30, 1e30, 1e30};
    uint64_t got[3] = {0, 0, 0};
    for (int round = 0; round < 5; round++) {
        /* full: every series, whatever changed */
        touch(p, nseries, changed, (uint64_t)round * 104729, (uint64_t)round * 3 + 1);
        double t = round_stall(p, NPARTS, &b, fp, &n);
        best[0] = t < best[0] ? t : best[0], got[0] = n;
        /* incremental: the changed ones */
        touch(p, nseries, changed, (uint64_t)round * 104729 + 1, (uint64_t)round * 3 + 2);
        t = round_stall(p, -1, &b, fp, &n);
        best[1] = t < best[1] ? t : best[1], got[1] = n;
        /* one partition needs a full one, the others incremental */
        touch(p, nseries, changed, (uint64_t)round * 104729 + 2, (uint64_t)round * 3 + 3);
        t = round_stall(p, round % NPARTS, &b, fp, &n);
        best[2] = t < best[2] ? t : best[2], got[2] = n;
    }
    printf("loop stall per checkpoint round, %llu series over %d partitions, %llu changed "
           "between rounds (best of 5):\n",
           (unsigned long long)nseries, NPARTS, (unsigned long long)changed);
    printf("  every partition full (full_every 1):   %8.2f ms  (%llu series serialized)  ratio 1\n",
           best[0] * 1e3, (unsigned long long)got[0]);
    printf("  incremental (the changed series only): %8.2f ms  (%llu series)  ratio %.4f\n",
           best[1] * 1e3, (unsigned long long)got[1], best[1] / best[0]);
    printf("  one partition full (needed), 31 incr.: %8.2f ms  (%llu series)  ratio %.4f\n",
           best[2] * 1e3, (unsigned long long)got[2], best[2] / best[0]);
    bench_compaction(p, nseries, changed, fp, dir);
    ad_buf_free(&b);
    ad_pipeline_free(p);
    ad_config_free(&cfg);
}

int main(int argc, char **argv)
{
    uint64_t nseries = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    size_t records = argc > 2 ? strtoull(argv[2], NULL, 10) : 3000000;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    size_t large = argc > 4 ? strtoull(argv[4], NULL, 10) : 40000000;
    const char *only = argc > 5 ? argv[5] : ""; /* "off", "fork" or "loop": one run (profiling) */
    int rounds = argc > 6 ? (int)strtol(argv[6], NULL, 10) : 3;
    uint64_t changed = argc > 7 ? strtoull(argv[7], NULL, 10) : 10000;
    uint64_t fp;

    if (bench_one_checkpoint(nseries, dir, &fp) != 0)
        return 1;
    if (records)
        bench_throughput(records, dir, fp);
    if (large)
        bench_large(nseries, large, dir, only, rounds);
    if (changed)
        bench_rounds(nseries, changed, dir);
    return 0;
}
