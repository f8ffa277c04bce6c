/* ad_proc.h - the process's own resource use, for the process_* metrics
 * that the Prometheus client libraries export (same names and meanings), read
 * from Linux's /proc/self. */
#ifndef AD_PROC_H
#define AD_PROC_H

struct ad_proc_stats {
    double cpu_seconds;        /* user + system CPU time */
    double resident_bytes;     /* resident set size */
    double virtual_bytes;      /* virtual memory size */
    double open_fds;           /* open file descriptors */
    double max_fds;            /* the soft limit on them */
    double start_time_seconds; /* when the process started, seconds since the epoch */
};

/* Fills *out (zeroed first). Returns 0, or AD_EIO when /proc/self/stat
 * cannot be read (what else could be read is filled). */
int ad_proc_read(struct ad_proc_stats *out);

#endif
