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
#include <unistd.h>

#include "ad_alloc.h"
#include "ad_ckpt_delta.h"
#include "ad_err.h"
#include "ad_fd.h"
#include "ad_hash.h"
#include "ad_htab.h"
#include "ad_log.h"
#include "ad_state.h"
#include "ad_state_int.h"

#define DELTA_LOG_MAX ((size_t)4 << 30)

int ad_state_delta_path(const struct ad_state_loc *loc, char *out, size_t len)
{
    char base[4096];
    if (ad_state_path(loc->dir, loc->topic, loc->partition, base, sizeof(base)) != 0)
        return AD_ELIMIT;
    int n = snprintf(out, len, "%s.delta", base);
    return n >= 0 && (size_t)n < len ? 0 : AD_ELIMIT;
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
    if (ad_write_all(fd, head, sizeof(head)) != 0 || ad_write_all(fd, rec->ckpt, rec->len) != 0)
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
    if (seq == 1 && ad_state_fsync_parent(path) != 0)
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
    return ad_state_fsync_parent(path) == 0 ? 0 : AD_EIO;
}

int ad_state_delta_read(const char *log_path, const void *base, size_t base_len,
                        struct ad_state_deltas *out)
{
    const char *why = NULL;
    *out = (struct ad_state_deltas){0};
    int rc = ad_state_read_file(log_path, DELTA_LOG_MAX, &out->log, &out->log_len);
    if (rc == AD_ENOENT)
        return 0;
    if (rc) {
        AD_WARN("state", "delta log %s not read (%s): restoring its base alone", log_path,
                ad_strerror(rc));
        return 0;
    }
    out->n = ad_ckpt_delta_index(out->log, out->log_len, ad_ckpt_sum(base, base_len), &out->rec,
                                 &why);
    if (why)
        AD_WARN("state", "delta log %s: %zu records used, the rest ignored (%s)", log_path, out->n,
                why);
    if (out->n == 0)
        ad_state_deltas_free(out);
    return 0;
}

void ad_state_deltas_free(struct ad_state_deltas *d)
{
    ad_free(d->rec);
    ad_free(d->log);
    *d = (struct ad_state_deltas){0};
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

/* Walks the records of dl newest first, then the base, through l. */
static int latest_walk(struct latest *l, const struct ad_state_deltas *dl, const char *base,
                       size_t base_len)
{
    int rc = 0;
    for (size_t i = dl->n; rc == 0 && i-- > 0;)
        rc = ad_ckpt_each(dl->rec[i].ckpt, dl->rec[i].len, latest_cb, l);
    return rc ? rc : ad_ckpt_each(base, base_len, latest_cb, l);
}

/* What compaction expects to find: the base of checksum base_sum and nrec
 * records after it. */
struct expect {
    uint64_t base_sum, nrec;
};

/* The newest state of each series of a base (base, base_len: as read from
 * path) and its log at logp, through l->cb: checks the base (header in *h),
 * reads the log, and, when want is not NULL, that they are what it expects
 * (AD_ESTATE otherwise); then hands over each series once (a reader without
 * want and without records reads the base straight) and sets h's offset and
 * times to the newest record's. Returns 0 or an error (err when there is a
 * reason). */
static int latest_read(const char *path, const char *base, size_t base_len, const char *logp,
                       const struct expect *want, struct ad_ckpt_header *h, struct latest *l,
                       char *err, size_t errlen)
{
    struct ad_state_deltas dl = {0};
    int rc = ad_ckpt_check(base, base_len, h, err, errlen);
    rc = rc ? rc : ad_state_delta_read(logp, base, base_len, &dl);
    if (rc == 0 && want && (ad_ckpt_sum(base, base_len) != want->base_sum || dl.n != want->nrec)) {
        snprintf(err, errlen, "%s: not the base and %llu records written", path,
                 (unsigned long long)want->nrec);
        rc = AD_ESTATE;
    }
    if (rc == 0 && dl.n == 0 && !want)
        rc = ad_ckpt_each(base, base_len, l->cb, l->ud);
    else if (rc == 0)
        rc = latest_walk(l, &dl, base, base_len);
    if (rc == 0 && dl.n) {
        /* The header of the newest record: where the state resumes. */
        const struct ad_ckpt_header *last = &dl.rec[dl.n - 1].h;
        h->offset = last->offset;
        h->max_t = last->max_t;
        h->created_ms = last->created_ms;
    }
    ad_state_deltas_free(&dl);
    return rc;
}

int ad_state_each_latest(const char *path, struct ad_ckpt_header *h, ad_ckpt_series_cb cb, void *ud,
                         char *err, size_t errlen)
{
    char logp[4200], *base = NULL;
    size_t base_len = 0;
    struct latest l = {.cb = cb, .ud = ud};
    int rc = ad_state_read_file(path, DELTA_LOG_MAX, &base, &base_len);
    if (rc) {
        snprintf(err, errlen, "%s", ad_strerror(rc));
        return rc;
    }
    snprintf(logp, sizeof(logp), "%s.delta", path);
    rc = latest_read(path, base, base_len, logp, NULL, h, &l, err, errlen);
    if (l.nomem)
        snprintf(err, errlen, "out of memory");
    latest_free(&l);
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
    char path[4096], logp[4200], *base = NULL;
    size_t base_len = 0;
    struct ad_ckpt_header h = {0};
    struct ad_buf series;
    struct compact_ctx c = {&series, 0};
    struct latest l = {.cb = compact_cb, .ud = &c};
    struct expect want = {base_sum, nrec};
    err[0] = '\0';
    ad_buf_init(&series, DELTA_LOG_MAX);
    int rc = ad_state_path(loc->dir, loc->topic, loc->partition, path, sizeof(path));
    rc = rc ? rc : ad_state_delta_path(loc, logp, sizeof(logp));
    rc = rc ? rc : ad_state_read_file(path, DELTA_LOG_MAX, &base, &base_len);
    rc = rc ? rc : latest_read(path, base, base_len, logp, &want, &h, &l, err, errlen);
    rc = rc ? rc : compact_write(loc, &h, &c, sum, err, errlen);
    if (rc && !err[0])
        snprintf(err, errlen, "%s: compaction: %s", path, ad_strerror(rc));
    latest_free(&l);
    ad_buf_free(&series);
    ad_free(base);
    return rc;
}
