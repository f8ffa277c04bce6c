/* ad_proc.c - process_* figures from /proc/self (see include/ad_proc.h). */
#include "ad_proc.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ad_err.h"

/* Seconds since the epoch at which the machine booted ("btime" of
 * /proc/stat), or -1. Read once: it does not change, and /proc/stat is
 * costly to generate on a machine with many CPUs (every scrape asked). */
static double boot_time(void)
{
    static double cached = -2; /* -2: not read yet */
    char line[256];
    double bt = -1;
    if (cached > -2)
        return cached;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return cached = -1;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long v;
        if (sscanf(line, "btime %llu", &v) == 1) {
            bt = (double)v;
            break;
        }
    }
    fclose(f);
    return cached = bt;
}

/* /proc/self/stat: utime (14), stime (15), starttime (22), vsize (23) and
 * rss (24, pages). Fields 3 onwards follow the last ')' (the command name
 * may hold blanks and parentheses). */
static int read_stat(struct ad_proc_stats *out)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return AD_EIO;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st, start, vsize;
    long long rss;
    if (!p || sscanf(p + 1,
                     " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
                     "%*d %*d %llu %llu %lld",
                     &ut, &st, &start, &vsize, &rss) != 5)
        return AD_EIO;
    double hz = (double)sysconf(_SC_CLK_TCK);
    double page = (double)sysconf(_SC_PAGESIZE);
    double bt = boot_time();
    out->cpu_seconds = (double)(ut + st) / hz;
    out->virtual_bytes = (double)vsize;
    out->resident_bytes = (double)rss * page;
    out->start_time_seconds = bt >= 0 ? bt + (double)start / hz : 0;
    return 0;
}

/* Entries of /proc/self/fd, less the one the listing itself holds open. */
static double open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    double n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0;
}

int ad_proc_read(struct ad_proc_stats *out)
{
    struct rlimit rl;
    memset(out, 0, sizeof(*out));
    out->open_fds = open_fds();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = (double)rl.rlim_cur;
    return read_stat(out);
}
