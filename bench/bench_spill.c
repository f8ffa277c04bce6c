/* bench_spill - the evicted series' store: what durability per commit would
 * cost, and what checking the store at open costs.
 *
 *   bench_spill [ENTRIES] [DIR]
 *
 * 1. ENTRIES puts of 330 bytes (an evicted series' state), committed every
 *    AD_SPILL_BATCH_PUTS puts: as anomalyd does it (MDB_NOSYNC, one sync at
 *    the end: the baseline) and with a sync after every commit (what
 *    MDB_NOMETASYNC or a synced commit would cost at least). Ratio: puts/s
 *    synced per commit / puts/s as now.
 * 2. ad_spill_check_file over the resulting file, next to reading the file
 *    once (pread, 1 MiB at a time) as the baseline, both with the file in the
 *    page cache. Ratio: check time / read time. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ad_spill.h"
#include "bench_util.h"

/* Puts n entries into a fresh store in dir; returns the seconds taken. */
static double fill(const char *dir, long n, int sync_each)
{
    struct ad_spill *s;
    char err[512], key[32], val[330], path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, AD_SPILL_FILE);
    unlink(path);
    if (ad_spill_open(dir, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_spill: %s\n", err);
        exit(1);
    }
    memset(val, 'v', sizeof(val));
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof(key), "sensor-%09ld", (i * 7919) % n);
        if (ad_spill_put(s, key, (size_t)kl, "temp", val, sizeof(val)) != 0)
            exit(1);
        if ((i + 1) % AD_SPILL_BATCH_PUTS == 0) {
            ad_spill_commit(s);
            if (sync_each)
                ad_spill_sync(s);
        }
    }
    ad_spill_commit(s);
    ad_spill_sync(s);
    double t = now_s() - t0;
    ad_spill_close(s);
    return t;
}

static double read_all(const char *path)
{
    static char buf[1 << 20];
    int fd = open(path, O_RDONLY);
    off_t off = 0;
    ssize_t r;
    double t0 = now_s();
    while (fd >= 0 && (r = pread(fd, buf, sizeof(buf), off)) > 0)
        off += r;
    if (fd >= 0)
        close(fd);
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 500000;
    if (n < AD_SPILL_BATCH_PUTS) {
        fprintf(stderr, "usage: bench_spill [ENTRIES >= %d] [DIR]\n", AD_SPILL_BATCH_PUTS);
        return 2;
    }
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    char path[4200], err[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, AD_SPILL_FILE);

    double base = 1e9, synced = 1e9;
    for (int r = 0; r < 3; r++) { /* alternating, best of 3 */
        double a = fill(dir, n, 0), b = fill(dir, n, 1);
        base = a < base ? a : base;
        synced = b < synced ? b : synced;
    }
    printf("puts: %ld entries of 330 bytes, a commit every %d puts\n", n, AD_SPILL_BATCH_PUTS);
    printf("  as now (no sync until the end)   %9.0f puts/s\n", (double)n / base);
    printf("  synced after every commit        %9.0f puts/s\n", (double)n / synced);
    printf("  ratio synced / as now            %9.3f\n", base / synced);

    fill(dir, n, 0);
    stat(path, &st);
    double rd = 1e9, ck = 1e9;
    for (int r = 0; r < 3; r++) {
        double a = read_all(path);
        double t0 = now_s();
        if (ad_spill_check_file(path, err, sizeof(err)) != 0) {
            fprintf(stderr, "bench_spill: check: %s\n", err);
            return 1;
        }
        double b = now_s() - t0;
        rd = a < rd ? a : rd;
        ck = b < ck ? b : ck;
    }
    printf("check at open: %.1f MB file (%.0f bytes per entry)\n", (double)st.st_size / 1e6,
           (double)st.st_size / (double)n);
    printf("  baseline: read the file once     %9.3f s\n", rd);
    printf("  ad_spill_check_file              %9.3f s (%.0f MB/s)\n", ck,
           (double)st.st_size / 1e6 / ck);
    printf("  ratio check / read               %9.3f\n", ck / rd);
    unlink(path);
    return 0;
}
