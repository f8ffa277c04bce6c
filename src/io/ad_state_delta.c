/* ad_state_delta.c - the delta log of a partition's checkpoint
 * ("<topic>-<partition>.ckpt.delta", framing in ad_ckpt_delta.h): appended
 * to by incremental checkpoints, removed when a full one replaces the base,
 * read back after the base on restore. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ad_alloc.h"
#include "ad_ckpt_delta.h"
#include "ad_err.h"
#include "ad_log.h"
#include "ad_state.h"

#define DELTA_LOG_MAX ((size_t)4 << 30)

int ad_state_delta_path(const struct ad_state_loc *loc, char *out, size_t len)
{
    char base[4096];
    if (ad_state_path(loc->dir, loc->topic, loc->partition, base, sizeof(base)) != 0)
        return AD_ELIMIT;
    int n = snprintf(out, len, "%s.delta", base);
    return n >= 0 && (size_t)n < len ? 0 : AD_ELIMIT;
}

static int fsync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes both parts, retrying short writes. */
static int write_record(int fd, const unsigned char *head, const void *ckpt, size_t len)
{
    struct iovec iov[2] = {{(void *)(uintptr_t)head, AD_CKPT_DELTA_HEAD},
                           {(void *)(uintptr_t)ckpt, len}};
    size_t total = AD_CKPT_DELTA_HEAD + len, done = 0;
    while (done < total) {
        ssize_t n = writev(fd, iov, 2);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return AD_EIO;
        done += (size_t)n;
        for (int i = 0; i < 2; i++) {
            size_t k = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + k;
            iov[i].iov_len -= k;
            n -= (ssize_t)k;
        }
    }
    return 0;
}

int ad_state_append_delta(const struct ad_state_loc *loc, const struct ad_ckpt_delta *rec,
                          char *err, size_t errlen)
{
    uint64_t seq = rec->seq;
    char path[4200];
    unsigned char head[AD_CKPT_DELTA_HEAD];
    const char *step = "open";
    off_t start = 0;
    int fd = -1;

    if (ad_state_delta_path(loc, path, sizeof(path)) != 0) {
        snprintf(err, errlen, "state path too long");
        return AD_EIO;
    }
    /* The first record after a base starts the log afresh. */
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (seq == 1 ? O_TRUNC : O_APPEND), 0640);
    if (fd < 0)
        goto err;
    step = "seek";
    start = lseek(fd, 0, SEEK_END);
    if (start < 0)
        goto err;
    ad_ckpt_delta_head(head, rec->base_sum, seq, rec->len);
    step = "write";
    if (write_record(fd, head, rec->ckpt, rec->len) != 0)
        goto err;
    step = "fdatasync";
    if (fdatasync(fd) != 0)
        goto err;
    step = "close";
    int c = close(fd);
    fd = -1;
    if (c != 0)
        goto err;
    step = "fsync of the directory";
    if (seq == 1 && fsync_parent(path) != 0)
        goto err;
    return 0;
err:
    snprintf(err, errlen, "while appending to %s (%s): %s", path, step, strerror(errno));
    if (fd >= 0) {
        if (ftruncate(fd, start) != 0) /* best effort: a full checkpoint comes next anyway */
            errno = 0;
        close(fd);
    }
    return AD_EIO;
}

int ad_state_remove_delta(const struct ad_state_loc *loc)
{
    char path[4200];
    if (ad_state_delta_path(loc, path, sizeof(path)) != 0)
        return AD_ELIMIT;
    if (unlink(path) != 0)
        return errno == ENOENT ? 0 : AD_EIO;
    return fsync_parent(path) == 0 ? 0 : AD_EIO;
}

int ad_state_delta_read(const char *log_path, const void *base, size_t base_len, char **log,
                        size_t *log_len, size_t *n)
{
    const char *why = NULL;
    *log = NULL;
    *log_len = 0;
    *n = 0;
    int rc = ad_state_read_file(log_path, DELTA_LOG_MAX, log, log_len);
    if (rc == AD_ENOENT)
        return 0;
    if (rc) {
        AD_WARN("state", "delta log %s not read (%s): restoring its base alone", log_path,
                ad_strerror(rc));
        return 0;
    }
    *n = ad_ckpt_delta_valid(*log, *log_len, ad_ckpt_sum(base, base_len), &why);
    if (why)
        AD_WARN("state", "delta log %s: %zu records used, the rest ignored (%s)", log_path, *n,
                why);
    if (*n == 0) {
        ad_free(*log);
        *log = NULL;
        *log_len = 0;
    }
    return 0;
}
