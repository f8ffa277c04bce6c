#include "ad_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_alloc.h"
#include "ad_ckpt_delta.h"
#include "ad_clock.h"
#include "ad_err.h"
#include "ad_fd.h"
#include "ad_log.h"
#include "ad_spill.h"
#include "ad_state_int.h"

#define CKPT_MAX ((size_t)4 << 30)

int ad_state_path(const char *dir, const char *topic, int32_t partition, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    char name[1024];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)topic; *p && n + 4 < sizeof(name); p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '.' || *p == '_' || *p == '-') {
            name[n++] = (char)*p;
        } else {
            name[n++] = '%';
            name[n++] = hex[*p >> 4];
            name[n++] = hex[*p & 15];
        }
    }
    name[n] = '\0';
    int w = snprintf(out, len, "%s/%s-%d.ckpt", dir, name, partition);
    return w < 0 || (size_t)w >= len ? AD_ELIMIT : 0;
}

/* Removes the temp files ("*.tmp.PID") of writers that are gone (a crash in
 * the middle of a write); a live writer's (a forked checkpoint that outlived
 * its killed parent) is left alone. */
static void remove_stale_temps(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    char path[4096 + 256];
    if (!dh)
        return;
    while ((e = readdir(dh)) != NULL) {
        const char *t = strstr(e->d_name, ".tmp.");
        char *end;
        long pid = t ? strtol(t + 5, &end, 10) : 0;
        if (!t || pid <= 0 || *end || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(dh);
}

int ad_state_dir_init(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        remove_stale_temps(dir);
        return 0;
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "state.dir %s: %s", dir, strerror(errno));
        return AD_EIO;
    }
    return 0;
}

int ad_state_fsync_parent(const char *path)
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

struct buf_fill {
    const void *buf;
    size_t len;
};

static int fill_buf(void *ud, int fd)
{
    struct buf_fill *f = ud;
    return ad_write_all(fd, f->buf, f->len);
}

int ad_state_write_atomic(const char *path, const void *buf, size_t len, bool keep_prev, char *err,
                          size_t errlen)
{
    struct buf_fill f = {buf, len};
    return ad_state_write_with(path, keep_prev, fill_buf, &f, err, errlen);
}

int ad_state_write_with(const char *path, bool keep_prev, ad_state_fill_fn fill, void *ud,
                        char *err, size_t errlen)
{
    char tmp[4200], prev[4200];
    const char *step = "open";
    int fd = -1;

    /* Per process: a forked checkpoint that outlives a killed parent must
     * not write into the file its restarted successor writes. */
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    snprintf(prev, sizeof(prev), "%s.prev", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        goto fail;
    step = "write";
    if (fill(ud, fd) != 0)
        goto fail;
    step = "fsync";
    if (fsync(fd) != 0)
        goto fail;
    step = "close";
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    step = "rename";
    if (keep_prev && rename(path, prev) != 0 && errno != ENOENT)
        goto fail;
    if (rename(tmp, path) != 0)
        goto fail;
    step = "fsync of the directory";
    if (ad_state_fsync_parent(path) != 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "while writing %s (%s): %s", path, step, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return AD_EIO;
}

int ad_state_write_stream(const struct ad_state_loc *loc, ad_state_fill_fn fill, void *ud,
                          char *err, size_t errlen)
{
    char path[4096];
    if (ad_state_path(loc->dir, loc->topic, loc->partition, path, sizeof(path))) {
        snprintf(err, errlen, "state path too long");
        return AD_EIO;
    }
    return ad_state_write_with(path, true, fill, ud, err, errlen);
}

int ad_state_write(const struct ad_state_loc *loc, const void *buf, size_t len, char *err,
                   size_t errlen)
{
    struct buf_fill f = {buf, len};
    return ad_state_write_stream(loc, fill_buf, &f, err, errlen);
}

int ad_state_read_file(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return errno == ENOENT ? AD_ENOENT : AD_EIO;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size > max) {
        close(fd);
        return AD_ELIMIT;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = ad_malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return AD_ENOMEM;
    }
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    *out = buf;
    *len = got;
    return 0;
}

/* Stands in front of the restore callback: the header (filled before the
 * first series) must be of these settings, this partition and identity and
 * newer than newer_than, or nothing is restored. */
struct gate {
    struct ad_ckpt_header *h;
    const struct ad_state_loc *loc;
    uint64_t fingerprint;
    int64_t newer_than;
    ad_ckpt_series_cb cb;
    void *ud;
    const char *refused; /* why the file is not used, or NULL */
    bool older;          /* refused for being older than newer_than */
    bool mismatch;       /* refused for being another partition's or owner's */
    const char *log;     /* the partition's delta log (ad_state_delta_path) */
};

static bool gate_open(struct gate *g)
{
    const struct ad_state_loc *loc = g->loc;
    if (strcmp(g->h->topic, loc->topic) != 0 || g->h->partition != loc->partition)
        g->refused = "another partition's checkpoint", g->mismatch = true;
    else if (ad_ckpt_other_owner(g->h, loc->cluster, loc->group))
        g->refused = "another cluster's or consumer group's checkpoint", g->mismatch = true;
    else if (g->h->fingerprint != g->fingerprint)
        g->refused = "written under other window/model settings";
    else if (g->h->offset <= g->newer_than)
        g->refused = "older than the state restored from the state topic", g->older = true;
    return !g->refused;
}

static int gate_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct gate *g = ud;
    if (!gate_open(g))
        return AD_ESTATE;
    return g->cb(g->ud, st, metric);
}

/* The delta records that follow the base (buf, len) in g's log, in *dl
 * (owned), and the header of the state they lead to in g->h (the last
 * record's offset, time and newest event time). A record of other settings
 * ends the sequence. */
static void load_deltas(struct gate *g, const void *buf, size_t len, struct ad_state_deltas *dl)
{
    size_t used = 0;
    if (!g->log || ad_state_delta_read(g->log, buf, len, dl) != 0)
        return;
    for (; used < dl->n && dl->rec[used].h.fingerprint == g->h->fingerprint; used++) {
        g->h->offset = dl->rec[used].h.offset;
        g->h->max_t = dl->rec[used].h.max_t;
        g->h->created_ms = dl->rec[used].h.created_ms;
    }
    if (used < dl->n)
        AD_WARN("state", "delta log %s: %zu of %zu records used (other settings)", g->log, used,
                dl->n);
    dl->n = used;
}

/* Restores the records load_deltas() kept, in order, after the base. */
static int each_delta(const struct ad_state_deltas *dl, struct gate *g)
{
    int rc = 0;
    for (size_t i = 0; i < dl->n && rc == 0; i++)
        rc = ad_ckpt_each(dl->rec[i].ckpt, dl->rec[i].len, gate_cb, g);
    return rc;
}

/* A file of another partition, topic, cluster or group: renamed aside (kept
 * for inspection, never restored again) and logged with both identities. */
static void move_aside(const char *path, const struct gate *g)
{
    char aside[4300];
    const struct ad_state_loc *loc = g->loc;
    const struct ad_ckpt_header *h = g->h;
    long long now = (long long)(ad_clock_wall_us() / 1000000);
    snprintf(aside, sizeof(aside), "%s.mismatch-%lld", path, now);
    for (int i = 1; i < 100 && access(aside, F_OK) == 0; i++) /* never replace an earlier one */
        snprintf(aside, sizeof(aside), "%s.mismatch-%lld.%d", path, now, i);
    bool moved = rename(path, aside) == 0;
    AD_ERROR("state",
             "checkpoint %s not restored: %s (the file: topic %s partition %d cluster \"%s\" "
             "group \"%s\"; wanted: topic %s partition %d cluster \"%s\" group \"%s\"); %s%s",
             path, g->refused, h->topic, (int)h->partition, h->cluster, h->group, loc->topic,
             (int)loc->partition, loc->cluster ? loc->cluster : "", loc->group ? loc->group : "",
             moved ? "moved aside to " : "could not move it aside: ",
             moved ? aside : strerror(errno));
}

/* Reads, checks and restores one file, reading it once (ad_ckpt_check checks
 * every byte before the first callback), then the delta records that follow
 * it. Returns 0, AD_ENOENT (missing), AD_ESTATE (not usable: logged) or the
 * callback's error. */
static int load_file(const char *path, struct gate *g)
{
    char err[256], *buf = NULL;
    size_t len = 0;
    int rc = ad_state_read_file(path, CKPT_MAX, &buf, &len);
    if (rc == AD_ENOENT)
        return rc;
    if (rc) {
        AD_WARN("state", "while reading %s: %s", path, ad_strerror(rc));
        return AD_ESTATE;
    }
    g->refused = NULL;
    g->older = g->mismatch = false;
    struct ad_state_deltas dl = {0};
    rc = ad_ckpt_check(buf, len, g->h, err, sizeof(err));
    if (rc == 0)
        load_deltas(g, buf, len, &dl);
    rc = rc ? rc : ad_ckpt_each(buf, len, gate_cb, g);
    rc = rc ? rc : each_delta(&dl, g);
    size_t nlog = dl.n;
    ad_state_deltas_free(&dl);
    ad_free(buf);
    if (rc == 0 && nlog)
        AD_INFO("state", "%s: %zu incremental checkpoints applied after it", path, nlog);
    if (rc == 0 && !gate_open(g))
        rc = AD_ESTATE; /* no series: the gate was not asked */
    if (rc == AD_ESTATE && g->older) {
        AD_INFO("state", "checkpoint %s (offset %lld) is %s (offset %lld): not used", path,
                (long long)g->h->offset, g->refused, (long long)g->newer_than);
    } else if (rc == AD_ESTATE && g->mismatch) {
        move_aside(path, g);
    } else if (rc == AD_ESTATE) {
        AD_WARN("state", "checkpoint %s not used: %s", path, g->refused);
    } else if (rc == AD_EPARSE || rc == AD_ERANGE) {
        AD_WARN("state", "checkpoint %s not used: %s", path, err);
        rc = AD_ESTATE;
    }
    if (rc == 0 && !g->h->group[0] && g->loc->group && g->loc->group[0])
        AD_WARN("state",
                "checkpoint %s records no cluster or consumer group (written before version "
                "4): restored as group %s's state",
                path, g->loc->group);
    return rc;
}

int ad_state_load(const struct ad_state_loc *loc, uint64_t fingerprint, int64_t newer_than,
                  struct ad_ckpt_header *h, ad_ckpt_series_cb cb, void *ud)
{
    char path[4096], prev[4200];
    char log[4200];
    struct gate g = {h, loc, fingerprint, newer_than, cb, ud, NULL, false, false, log};
    const char *topic = loc->topic;
    int32_t partition = loc->partition;

    if (ad_state_path(loc->dir, topic, partition, path, sizeof(path)))
        return AD_ENOENT;
    if (ad_state_delta_path(loc, log, sizeof(log)) != 0)
        g.log = NULL;
    snprintf(prev, sizeof(prev), "%s.prev", path);
    const char *used = path;
    int rc = load_file(path, &g);
    if ((rc == AD_ENOENT || rc == AD_ESTATE) && !g.older) {
        used = prev;
        rc = load_file(prev, &g);
        if (rc == 0)
            AD_WARN("state", "using the previous checkpoint %s", prev);
    }
    if (rc == AD_ESTATE)
        return AD_ENOENT;
    if (rc == 0)
        AD_INFO("state", "restored %llu series of %s[%d] from %s, resuming at offset %lld",
                (unsigned long long)h->nseries, topic, partition, used, (long long)h->offset);
    return rc;
}

/* ---- the rest of state.dir's layout ------------------------------------------ */

int ad_state_spill_dir(const char *dir, int i, char *out, size_t len)
{
    int n;
    if (i < 0 || i > AD_STATE_SPILL_DIRS)
        return AD_EINVAL;
    n = i == 0 ? snprintf(out, len, "%s", dir) : snprintf(out, len, "%s/spill-%d", dir, i);
    return n >= 0 && (size_t)n < len ? 0 : AD_ELIMIT;
}

int ad_state_seed_path(const char *dir, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%s", dir, AD_STATE_SEED_FILE);
    return n >= 0 && (size_t)n < len ? 0 : AD_ELIMIT;
}

int ad_state_foreach_spill(const char *dir, ad_state_dir_fn fn, void *ud)
{
    char sdir[4096], path[4200];
    struct stat sb;
    for (int i = 0; i <= AD_STATE_SPILL_DIRS; i++) {
        if (ad_state_spill_dir(dir, i, sdir, sizeof(sdir)) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", sdir, AD_SPILL_FILE);
        if (stat(path, &sb) != 0) /* none there (and opening it would create one) */
            continue;
        int rc = fn(ud, sdir);
        if (rc)
            return rc;
    }
    return 0;
}

static int name_order(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_ckpt_name(const struct dirent *d)
{
    size_t l = strlen(d->d_name);
    return l > 5 && strcmp(d->d_name + l - 5, ".ckpt") == 0;
}

int ad_state_list_checkpoints(const char *dir, struct ad_state_files *out)
{
    struct dirent **names;
    struct ad_state_files f = {0};
    int n = scandir(dir, &names, is_ckpt_name, name_order), rc = 0;

    if (n < 0)
        return AD_EIO;
    f.paths = calloc((size_t)n + 1, sizeof(*f.paths));
    for (int i = 0; i < n; i++) {
        size_t len = strlen(dir) + 1 + strlen(names[i]->d_name) + 1;
        char *p = f.paths ? malloc(len) : NULL;
        if (p) {
            snprintf(p, len, "%s/%s", dir, names[i]->d_name);
            f.paths[f.n++] = p;
        } else {
            rc = AD_ENOMEM;
        }
        free(names[i]);
    }
    free(names);
    if (rc) {
        ad_state_files_free(&f);
        return rc;
    }
    *out = f;
    return 0;
}

void ad_state_files_free(struct ad_state_files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->paths[i]);
    free(f->paths);
    f->paths = NULL;
    f->n = 0;
}

/* ---- one daemon per state.dir ------------------------------------------------------ */

/* The pid recorded in the lock file, or 0. */
static long lock_file_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    char *end;
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    long pid = strtol(buf, &end, 10);
    return end != buf && pid > 0 ? pid : 0;
}

int ad_state_lock(const char *dir, int *fd, char *err, size_t errlen)
{
    char path[4200], pid[32];
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    snprintf(path, sizeof(path), "%s/lock", dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (f < 0) {
        snprintf(err, errlen, "state.dir lock %s: %s", path, strerror(errno));
        return AD_EIO;
    }
    if (fcntl(f, F_SETLK, &fl) != 0) {
        int e = errno;
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        long holder = fcntl(f, F_GETLK, &q) == 0 && q.l_type != F_UNLCK ? (long)q.l_pid : 0;
        if (!holder)
            holder = lock_file_pid(f);
        close(f);
        if (e != EACCES && e != EAGAIN) {
            snprintf(err, errlen, "state.dir lock %s: %s", path, strerror(e));
            return AD_EIO;
        }
        snprintf(err, errlen,
                 "state.dir %s is in use by another anomalyd (pid %ld, holding %s); give every "
                 "instance its own state.dir",
                 dir, holder, path);
        return AD_ECONFIG;
    }
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n)
        AD_WARN("state", "could not record the pid in %s: %s", path, strerror(errno));
    *fd = f;
    return 0;
}

void ad_state_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing releases the process's lock */
}
