/* ad_sink.c - the alert log.
 *
 * The log is append-only: O_APPEND makes every write() land at the current
 * end of the file, and one write() per line means a reader (tail -F, a log
 * shipper) or a second writer never sees half a line on a local file
 * system. Reopening (logrotate's postrotate, SIGHUP) opens the path first
 * and swaps descriptors only when that succeeded, so a failed reopen keeps
 * writing to the old file rather than nowhere. */
#include "ad_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_err.h"
#include "ad_fd.h"

struct ad_alert_log {
    int fd;
    char *path; /* owned */
    uint64_t lines;
    uint64_t failures;
    bool failing; /* the latest write failed */
};

/* Opens path for appending; returns the fd or -1 with errno set. */
static int log_open_fd(const char *path)
{
    int fd;

    do {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

int ad_alert_log_open(const char *path, struct ad_alert_log **out, char *err, size_t errlen)
{
    struct ad_alert_log *log;
    size_t n;
    int fd;

    if (!path || !*path) {
        snprintf(err, errlen, "alert log: empty path");
        return AD_EINVAL;
    }
    fd = log_open_fd(path);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return AD_EIO;
    }
    n = strlen(path);
    log = calloc(1, sizeof(*log));
    if (log)
        log->path = malloc(n + 1);
    if (!log || !log->path) {
        free(log);
        close(fd);
        snprintf(err, errlen, "%s: out of memory", path);
        return AD_ENOMEM;
    }
    memcpy(log->path, path, n + 1);
    log->fd = fd;
    *out = log;
    return 0;
}

int ad_alert_log_write(struct ad_alert_log *log, const char *line, size_t len)
{
    ssize_t w;

    if (len == 0 || line[len - 1] != '\n') {
        log->failures++;
        return AD_EINVAL;
    }
    do {
        w = write(log->fd, line, len);
    } while (w < 0 && errno == EINTR);
    if (w >= 0 && (size_t)w == len) {
        log->lines++;
        log->failing = false;
        return 0;
    }
    log->failures++;
    log->failing = true;
    if (w > 0) {
        /* A short write (disk full, file size limit): finish the line so
         * the next one starts on a line of its own; if even that fails,
         * try to end the torn line so only it is lost. */
        if (ad_write_all(log->fd, line + w, len - (size_t)w) != 0)
            (void)ad_write_all(log->fd, "\n", 1);
    }
    return AD_EIO;
}

int ad_alert_log_reopen(struct ad_alert_log *log, char *err, size_t errlen)
{
    int fd = log_open_fd(log->path), old;

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", log->path, strerror(errno));
        return AD_EIO;
    }
    old = log->fd;
    log->fd = fd;
    close(old);
    return 0;
}

uint64_t ad_alert_log_lines(const struct ad_alert_log *log)
{
    return log->lines;
}

uint64_t ad_alert_log_failures(const struct ad_alert_log *log)
{
    return log->failures;
}

bool ad_alert_log_failing(const struct ad_alert_log *log)
{
    return log->failing;
}

void ad_alert_log_close(struct ad_alert_log *log)
{
    if (!log)
        return;
    close(log->fd);
    free(log->path);
    free(log);
}
