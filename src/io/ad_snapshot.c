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
#include "ad_fd.h"
#include "ad_out.h"
#include "ad_state.h"

/* What the child reports through the pipe. */
struct result {
    int32_t rc;
    uint64_t series, bytes, sum;
    char err[480];
};

struct job {
    struct ad_pipeline *p;
    const struct ad_ckpt_req *req;
    struct result *r;
};

/* Serializes straight into the temp file: the child holds no copy of the
 * state, and touches (copies) no page it shares with the parent. */
static int fill(void *ud, int fd)
{
    struct job *j = ud;
    struct ad_out out;
    struct ad_ckpt_result res = {0};
    ad_out_fd(&out, fd);
    int rc = ad_pipeline_checkpoint(j->p, j->req, &out, &res);
    ad_out_close(&out);
    j->r->series = res.nseries;
    j->r->bytes = res.bytes;
    j->r->sum = res.sum;
    if (rc && rc != AD_EIO)
        errno = ENOMEM;
    return rc;
}

static void child(struct ad_pipeline *p, const char *dir, const struct ad_ckpt_req *req,
                  int sync_fd, int out)
{
    struct result r;
    memset(&r, 0, sizeof(r));
    struct ad_ckpt_req sreq = *req;
    sreq.unsealed = false;
    sreq.delta = false; /* the child writes whole files (bases) only */
    sreq.each = NULL;   /* only read the state: its pages are shared with the parent */
    struct job j = {p, &sreq, &r};
    if (sync_fd >= 0 && fdatasync(sync_fd) != 0) {
        r.rc = AD_EIO;
        snprintf(r.err, sizeof(r.err), "while syncing the evicted series' store: %s",
                 strerror(errno));
    }
    struct ad_state_loc loc = {.dir = dir, .topic = req->topic, .partition = req->partition};
    if (r.rc == 0)
        r.rc = ad_state_write_stream(&loc, fill, &j, r.err, sizeof(r.err));
    if (r.rc == 0)
        (void)ad_state_remove_delta(&loc); /* a log left behind follows another base */
    (void)ad_write_all(out, &r, sizeof(r));
    _exit(r.rc ? 1 : 0);
}

int ad_snapshot_start(struct ad_pipeline *p, const char *dir, const struct ad_ckpt_req *req,
                      int sync_fd, struct ad_snapshot *s)
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
        child(p, dir, req, sync_fd, fds[1]);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    s->pid = pid;
    s->fd = fds[0];
    s->series = s->bytes = s->sum = 0;
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
    s->sum = r.sum;
    if (r.rc) {
        r.err[sizeof(r.err) - 1] = '\0';
        snprintf(err, errlen, "%s", r.err);
        return AD_EIO;
    }
    return 0;
}
