/* ad_snapshot.c - checkpoints written by a forked child (see ad_snapshot.h). */
#define _GNU_SOURCE /* pipe2 */
#include "ad_snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ad_buf.h"
#include "ad_err.h"
#include "ad_state.h"

/* What the child reports through the pipe. */
struct result {
    int32_t rc;
    uint64_t series, bytes;
    char err[488];
};

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

struct job {
    struct ad_pipeline *p;
    const char *topic;
    int32_t partition;
    int64_t offset, created_ms;
    uint64_t fingerprint;
    int fd, rc;
    struct result *r;
};

static int sink(void *ud, const void *buf, size_t len)
{
    struct job *j = ud;
    return ad_state_write_all(j->fd, buf, len);
}

/* Serializes straight into the temp file: the child holds no copy of the
 * state, and touches (copies) no page it shares with the parent. */
static int fill(void *ud, int fd)
{
    struct job *j = ud;
    j->fd = fd;
    j->rc = ad_pipeline_checkpoint_stream(j->p, j->topic, j->partition, j->offset,
                                          j->created_ms, j->fingerprint, sink, j, &j->r->series,
                                          &j->r->bytes);
    if (j->rc && j->rc != AD_EIO)
        errno = ENOMEM;
    return j->rc ? -1 : 0;
}

static void child(struct ad_pipeline *p, const char *dir, const char *topic, int32_t partition,
                  int64_t offset, int64_t created_ms, uint64_t fingerprint, int sync_fd, int out)
{
    struct result r;
    memset(&r, 0, sizeof(r));
    struct job j = {p, topic, partition, offset, created_ms, fingerprint, -1, 0, &r};
    if (sync_fd >= 0 && fdatasync(sync_fd) != 0) {
        r.rc = AD_EIO;
        snprintf(r.err, sizeof(r.err), "while syncing the evicted series' store: %s",
                 strerror(errno));
    }
    if (r.rc == 0)
        r.rc = ad_state_write_stream(dir, topic, partition, fill, &j, r.err, sizeof(r.err));
    write_all(out, &r, sizeof(r));
    _exit(r.rc ? 1 : 0);
}

int ad_snapshot_start(struct ad_pipeline *p, const char *dir, const char *topic, int32_t partition,
                      int64_t offset, int64_t created_ms, uint64_t fingerprint, int sync_fd,
                      struct ad_snapshot *s)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return AD_EIO;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return AD_EIO;
    }
    if (pid == 0) {
        close(fds[0]);
        child(p, dir, topic, partition, offset, created_ms, fingerprint, sync_fd, fds[1]);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    s->pid = pid;
    s->fd = fds[0];
    s->series = s->bytes = 0;
    return 0;
}

int ad_snapshot_finish(struct ad_snapshot *s, char *err, size_t errlen)
{
    struct result r;
    size_t got = 0;
    int status = 0;

    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) & ~O_NONBLOCK);
    while (got < sizeof(r)) {
        ssize_t n = read(s->fd, (char *)&r + got, sizeof(r) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(s->fd);
    s->fd = -1;
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got != sizeof(r)) {
        snprintf(err, errlen, "the checkpoint process %d died (%s %d) before it finished",
                 (int)s->pid, WIFSIGNALED(status) ? "signal" : "status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        return AD_EIO;
    }
    s->series = r.series;
    s->bytes = r.bytes;
    if (r.rc) {
        r.err[sizeof(r.err) - 1] = '\0';
        snprintf(err, errlen, "%s", r.err);
        return AD_EIO;
    }
    return 0;
}
