/* ad_state_delta.c - the delta log of a partition's checkpoint
 * ("<topic>-<partition>.ckpt.delta", framing in ad_ckpt_delta.h): appended
 * to by incremental checkpoints, removed when a full one replaces the base,
 * read back after the base on restore. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ad_alloc.h"
#include "ad_ckpt_delta.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_htab.h"
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

/* ---- the newest state of each series: base + log, for readers of files ---- */

struct seen_ent {
    size_t key_len;
    char *metric; /* points into name */
    char name[];  /* key bytes, then the metric's name, NUL-terminated */
};

struct latest {
    struct ad_htab seen; /* of struct seen_ent: the series already handed over */
    ad_ckpt_series_cb cb;
    void *ud;
    bool nomem;
};

struct seen_key {
    const char *key;
    size_t key_len;
    const char *metric;
};

static bool seen_eq(const void *val, const void *key)
{
    const struct seen_ent *e = val;
    const struct seen_key *k = key;
    return e->key_len == k->key_len && memcmp(e->name, k->key, k->key_len) == 0 &&
           strcmp(e->metric, k->metric) == 0;
}

/* Hands a series over the first time it is seen (the newest record first). */
static int latest_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct latest *l = ud;
    struct seen_key k = {st->key, st->key_len, metric};
    uint64_t h = ad_fnv1a64(ad_fnv1a64(AD_FNV64_BASIS, st->key, st->key_len), metric,
                            strlen(metric) + 1);
    if (ad_htab_find(&l->seen, h, seen_eq, &k))
        return 0;
    size_t ml = strlen(metric);
    struct seen_ent *e = ad_malloc(sizeof(*e) + st->key_len + ml + 1);
    if (!e || ad_htab_put(&l->seen, h, e) != 0) {
        ad_free(e);
        l->nomem = true;
        return AD_ENOMEM;
    }
    e->key_len = st->key_len;
    memcpy(e->name, st->key, st->key_len);
    e->metric = e->name + st->key_len;
    memcpy(e->metric, metric, ml + 1);
    return l->cb(l->ud, st, metric);
}

static void latest_free(struct latest *l)
{
    for (size_t i = 0; l->seen.val && i <= l->seen.mask; i++)
        ad_free(l->seen.val[i]);
    ad_htab_free(&l->seen);
}

/* Walks the n records of log (which ad_state_delta_read() counted) newest
 * first, then the base, through l. */
static int latest_walk(struct latest *l, const char *log, size_t log_len, size_t n,
                       const char *base, size_t base_len)
{
    size_t *at = ad_malloc((n ? n : 1) * sizeof(*at)), pos = 0;
    struct ad_ckpt_delta d;
    char err[8];
    int rc = at ? 0 : AD_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        at[i] = pos;
        rc = ad_ckpt_delta_next(log, log_len, &pos, &d, err, sizeof(err));
    }
    for (size_t i = n; rc == 0 && i-- > 0;) {
        pos = at[i];
        rc = ad_ckpt_delta_next(log, log_len, &pos, &d, err, sizeof(err));
        rc = rc ? rc : ad_ckpt_each(d.ckpt, d.len, latest_cb, l);
    }
    ad_free(at);
    return rc ? rc : ad_ckpt_each(base, base_len, latest_cb, l);
}

int ad_state_each_latest(const char *path, struct ad_ckpt_header *h, ad_ckpt_series_cb cb, void *ud,
                         char *err, size_t errlen)
{
    char logp[4200], *base = NULL, *log = NULL;
    size_t base_len = 0, log_len = 0, n = 0;
    struct latest l = {.cb = cb, .ud = ud};
    int rc = ad_state_read_file(path, DELTA_LOG_MAX, &base, &base_len);
    if (rc) {
        snprintf(err, errlen, "%s", ad_strerror(rc));
        return rc;
    }
    rc = ad_ckpt_check(base, base_len, h, err, errlen);
    snprintf(logp, sizeof(logp), "%s.delta", path);
    rc = rc ? rc : ad_state_delta_read(logp, base, base_len, &log, &log_len, &n);
    if (rc == 0 && n == 0)
        rc = ad_ckpt_each(base, base_len, cb, ud);
    else if (rc == 0)
        rc = latest_walk(&l, log, log_len, n, base, base_len);
    if (rc == 0 && n) {
        /* The header of the newest record: where the state resumes. */
        struct ad_ckpt_header last = *h;
        size_t pos = 0;
        struct ad_ckpt_delta d;
        for (size_t i = 0; i < n && ad_ckpt_delta_next(log, log_len, &pos, &d, err, errlen) == 0;
             i++)
            last = d.h;
        h->offset = last.offset;
        h->max_t = last.max_t;
        h->created_ms = last.created_ms;
    }
    if (l.nomem)
        snprintf(err, errlen, "out of memory");
    latest_free(&l);
    ad_free(log);
    ad_free(base);
    return rc;
}

/* ---- compaction: base + log -> a new base, off the loop ---------------------- */

struct compact_ctx {
    struct ad_buf *series; /* the series records, newest states */
    uint64_t n;
};

static int compact_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct compact_ctx *c = ud;
    c->n++;
    return ad_ckpt_add(c->series, st, metric);
}

/* Writes the new base: header (the newest record's offset and times, the
 * count), the series, the checksum. */
static int compact_write(const struct ad_state_loc *loc, struct ad_ckpt_header *h,
                         const struct compact_ctx *c, uint64_t *sum, char *err, size_t errlen)
{
    struct ad_buf b;
    ad_buf_init(&b, DELTA_LOG_MAX);
    h->nseries = c->n;
    int rc = ad_ckpt_begin(&b, h);
    rc = rc ? rc : ad_buf_add(&b, c->series->p, c->series->len);
    rc = rc ? rc : ad_ckpt_seal(&b, AD_FNV64_BASIS);
    if (rc)
        snprintf(err, errlen, "%s[%d]: compaction: %s", loc->topic, loc->partition,
                 ad_strerror(rc));
    rc = rc ? rc : ad_state_write(loc, b.p, b.len, err, errlen);
    if (rc == 0) {
        *sum = ad_ckpt_sum(b.p, b.len);
        (void)ad_state_remove_delta(loc); /* it follows the old base */
    }
    ad_buf_free(&b);
    return rc;
}

int ad_state_compact(const struct ad_state_loc *loc, uint64_t base_sum, uint64_t nrec,
                     uint64_t *sum, char *err, size_t errlen)
{
    char path[4096], logp[4200], *base = NULL, *log = NULL;
    size_t base_len = 0, log_len = 0, n = 0;
    struct ad_ckpt_header h = {0}, last;
    struct ad_buf series;
    struct compact_ctx c = {&series, 0};
    struct latest l = {.cb = compact_cb, .ud = &c};
    err[0] = '\0';
    ad_buf_init(&series, DELTA_LOG_MAX);
    int rc = ad_state_path(loc->dir, loc->topic, loc->partition, path, sizeof(path));
    rc = rc ? rc : ad_state_delta_path(loc, logp, sizeof(logp));
    rc = rc ? rc : ad_state_read_file(path, DELTA_LOG_MAX, &base, &base_len);
    rc = rc ? rc : ad_ckpt_check(base, base_len, &h, err, errlen);
    rc = rc ? rc : ad_state_delta_read(logp, base, base_len, &log, &log_len, &n);
    if (rc == 0 && (ad_ckpt_sum(base, base_len) != base_sum || n != nrec)) {
        snprintf(err, errlen, "%s: not the base and %llu records written", path,
                 (unsigned long long)nrec);
        rc = AD_ESTATE;
    }
    rc = rc ? rc : latest_walk(&l, log, log_len, n, base, base_len);
    last = h;
    size_t pos = 0;
    struct ad_ckpt_delta d;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = ad_ckpt_delta_next(log, log_len, &pos, &d, err, errlen);
        last = d.h;
    }
    if (rc == 0 && n) {
        h.offset = last.offset;
        h.max_t = last.max_t;
        h.created_ms = last.created_ms;
    }
    rc = rc ? rc : compact_write(loc, &h, &c, sum, err, errlen);
    if (rc && !err[0])
        snprintf(err, errlen, "%s: compaction: %s", path, ad_strerror(rc));
    latest_free(&l);
    ad_buf_free(&series);
    ad_free(log);
    ad_free(base);
    return rc;
}
