#define _DEFAULT_SOURCE /* madvise, MADV_DONTNEED */
#include "ad_spill.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_log.h"

#if SIZE_MAX > UINT32_MAX
#define MAP_SIZE ((size_t)1 << 40)
#else
#define MAP_SIZE ((size_t)1 << 30)
#endif
#define KEY_BUF      512 /* LMDB's default maximum key size is 511 */
#define DIRECT_MLEN  254 /* longest metric in a direct key; 0xff marks a hashed key */
#define HASH_MARK    0xff
#define HASH_KEY_LEN 32 /* 0xff, 7 zero bytes, 3 x 64-bit hash */
#define ID_HDR       8  /* hashed entries' value: u32 metric length, u32 key length */

struct ad_spill {
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;       /* the open write transaction, or NULL */
    size_t maxkey;      /* longest direct key */
    uint64_t entries;   /* the open transaction's view */
    uint64_t committed; /* as of the last commit */
    uint64_t puts;
    uint64_t batch_puts; /* since the last commit */
    size_t batch_bytes;
    int failing; /* an error was logged; quiet until a commit succeeds */
    int lock_fd; /* the file, flock'ed while the store is open */
    void *map;   /* LMDB's map of the file (read-only) */
    _Atomic uint64_t cache_bound, trims;
    char path[4096];
};

/* An entry's LMDB key. */
struct spill_key {
    unsigned char buf[KEY_BUF];
    size_t len;
    int hashed;
};

/* An entry decoded; metric points into mbuf or into the value. */
struct spill_entry {
    const char *key;
    size_t key_len;
    const char *metric;
    size_t metric_len;
    const void *val;
    size_t val_len;
};

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void make_key(const struct ad_spill *s, const char *key, size_t key_len, const char *metric,
                     size_t mlen, struct spill_key *k)
{
    unsigned char hdr[4];

    if (mlen <= DIRECT_MLEN && 1 + mlen + key_len <= s->maxkey) {
        k->buf[0] = (unsigned char)mlen;
        memcpy(k->buf + 1, metric, mlen);
        if (key_len)
            memcpy(k->buf + 1 + mlen, key, key_len);
        k->len = 1 + mlen + key_len;
        k->hashed = 0;
        return;
    }
    memset(k->buf, 0, HASH_KEY_LEN);
    k->buf[0] = HASH_MARK;
    put_u32(hdr, (uint32_t)mlen);
    for (unsigned char lane = 0; lane < 3; lane++) {
        uint64_t h = ad_fnv1a64(AD_FNV64_BASIS, &lane, 1);
        h = ad_fnv1a64(h, hdr, sizeof(hdr));
        h = ad_fnv1a64(h, metric, mlen);
        h = ad_fnv1a64(h, key, key_len);
        for (int i = 0; i < 8; i++)
            k->buf[8 + 8 * lane + i] = (unsigned char)(h >> (8 * i));
    }
    k->len = HASH_KEY_LEN;
    k->hashed = 1;
}

/* Splits a stored entry; 0, or -1 when it does not decode. mbuf (256
 * bytes) receives a direct key's metric, NUL-terminated. */
static int decode(const MDB_val *k, const MDB_val *v, struct spill_entry *e, char *mbuf)
{
    const unsigned char *kb = k->mv_data, *vb = v->mv_data;

    if (k->mv_size < 1)
        return -1;
    if (kb[0] != HASH_MARK) {
        size_t mlen = kb[0];
        if (k->mv_size < 1 + mlen)
            return -1;
        memcpy(mbuf, kb + 1, mlen);
        mbuf[mlen] = '\0';
        e->metric = mbuf;
        e->metric_len = mlen;
        e->key = (const char *)kb + 1 + mlen;
        e->key_len = k->mv_size - 1 - mlen;
        e->val = v->mv_data;
        e->val_len = v->mv_size;
        return 0;
    }
    if (k->mv_size != HASH_KEY_LEN || v->mv_size < ID_HDR)
        return -1;
    size_t mlen = get_u32(vb), klen = get_u32(vb + 4);
    if (mlen >= v->mv_size - ID_HDR || klen > v->mv_size - ID_HDR - mlen - 1 ||
        vb[ID_HDR + mlen] != '\0')
        return -1;
    e->metric = (const char *)vb + ID_HDR;
    e->metric_len = mlen;
    e->key = (const char *)vb + ID_HDR + mlen + 1;
    e->key_len = klen;
    e->val = vb + ID_HDR + mlen + 1 + klen;
    e->val_len = v->mv_size - ID_HDR - mlen - 1 - klen;
    return 0;
}

static int map_err(int rc)
{
    return rc == MDB_MAP_FULL || rc == MDB_TXN_FULL || rc == ENOMEM ? AD_ENOMEM : AD_EIO;
}

/* Ends the transaction after an error (after a failed write LMDB accepts
 * only an abort; mdb_txn_commit has already freed it), logs the first error
 * since the last good commit and maps the code. */
static int fail(struct ad_spill *s, const char *what, int rc)
{
    if (s->txn)
        mdb_txn_abort(s->txn);
    s->txn = NULL;
    s->entries = s->committed;
    s->batch_puts = 0;
    s->batch_bytes = 0;
    if (!s->failing)
        AD_ERROR("spill",
                 "%s: %s: %s; the puts since the last commit are lost (further errors "
                 "are not logged until a commit succeeds)",
                 s->path, what, mdb_strerror(rc));
    s->failing = 1;
    return map_err(rc);
}

static int txn_open(struct ad_spill *s)
{
    if (s->txn)
        return 0;
    int rc = mdb_txn_begin(s->env, NULL, 0, &s->txn);
    if (rc)
        s->txn = NULL;
    return rc;
}

/* Where LMDB mapped the file (LMDB does not say unless MDB_FIXEDMAP): the
 * mapping of its inode in /proc/self/maps, or NULL. */
static void *find_map(int fd)
{
    struct stat st;
    char line[4400];
    void *map = NULL;
    FILE *f = fstat(fd, &st) == 0 ? fopen("/proc/self/maps", "re") : NULL;
    while (f && !map && fgets(line, sizeof(line), f)) {
        unsigned long long start, end, off, ino;
        unsigned maj, min;
        if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &start, &end, &off, &maj, &min, &ino) ==
                6 &&
            ino == (unsigned long long)st.st_ino && off == 0 && maj == major(st.st_dev) &&
            min == minor(st.st_dev))
            map = (void *)(uintptr_t)start;
    }
    if (f)
        fclose(f);
    return map;
}

/* MDB_NOLOCK leaves exclusion to us: flock on a descriptor of our own, per
 * open file description, so a second open in this process conflicts too;
 * then, the lock held, the file is checked before LMDB maps it. */
static int lock_and_check(struct ad_spill *s, char *err, size_t errlen)
{
    char why[512];
    s->lock_fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (s->lock_fd < 0) {
        snprintf(err, errlen, "%s: open: %s", s->path, strerror(errno));
        return AD_EIO;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(s->lock_fd);
        if (e == EWOULDBLOCK)
            snprintf(err, errlen, "%s: in use by another spill store (locked)", s->path);
        else
            snprintf(err, errlen, "%s: lock: %s", s->path, strerror(e));
        return AD_EIO;
    }
    int rc = ad_spill_check_file(s->path, why, sizeof(why));
    if (rc == 0)
        return 0;
    close(s->lock_fd);
    snprintf(err, errlen, "%s: %s: %s", s->path, rc == AD_EPARSE ? "damaged" : "check", why);
    return rc == AD_EPARSE || rc == AD_ENOMEM ? rc : AD_EIO;
}

int ad_spill_open(const char *dir, struct ad_spill **out, char *err, size_t errlen)
{
    struct ad_spill *s;
    MDB_stat st;
    int rc;
    const char *step = "open";

    *out = NULL;
    s = ad_calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "spill store: out of memory");
        return AD_ENOMEM;
    }
    rc = snprintf(s->path, sizeof(s->path), "%s/%s", dir, AD_SPILL_FILE);
    if (rc < 0 || (size_t)rc >= sizeof(s->path)) {
        snprintf(err, errlen, "%s/%s: path too long", dir, AD_SPILL_FILE);
        ad_free(s);
        return AD_EIO;
    }
    rc = lock_and_check(s, err, errlen);
    if (rc) {
        ad_free(s);
        return rc;
    }
    rc = mdb_env_create(&s->env);
    if (rc) {
        snprintf(err, errlen, "%s: %s", s->path, mdb_strerror(rc));
        close(s->lock_fd);
        ad_free(s);
        return AD_EIO;
    }
    rc = mdb_env_set_mapsize(s->env, MAP_SIZE);
    if (!rc)
        rc = mdb_env_open(s->env, s->path, MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOLOCK, 0640);
    if (rc)
        goto fail;
    step = "open the database";
    s->maxkey = (size_t)mdb_env_get_maxkeysize(s->env);
    if (s->maxkey > KEY_BUF - 1)
        s->maxkey = KEY_BUF - 1;
    rc = mdb_txn_begin(s->env, NULL, 0, &s->txn);
    if (rc)
        goto fail;
    rc = mdb_dbi_open(s->txn, NULL, 0, &s->dbi);
    if (!rc)
        rc = mdb_stat(s->txn, s->dbi, &st);
    if (rc) {
        mdb_txn_abort(s->txn);
        goto fail;
    }
    rc = mdb_txn_commit(s->txn);
    s->txn = NULL;
    if (rc)
        goto fail;
    s->entries = s->committed = st.ms_entries;
    s->map = find_map(s->lock_fd);
    *out = s;
    return 0;

fail:
    snprintf(err, errlen, "%s: %s: %s", s->path, step, mdb_strerror(rc));
    mdb_env_close(s->env);
    close(s->lock_fd);
    ad_free(s);
    return AD_EIO;
}

void ad_spill_close(struct ad_spill *s)
{
    if (!s)
        return;
    ad_spill_commit(s);
    mdb_env_close(s->env);
    close(s->lock_fd);
    ad_free(s);
}

/* The LMDB key of a series, with the write transaction open. */
static int key_in_txn(struct ad_spill *s, const char *key, size_t key_len, const char *metric,
                      size_t mlen, struct spill_key *k, MDB_val *mk)
{
    make_key(s, key, key_len, metric, mlen, k);
    int rc = txn_open(s);
    if (rc)
        return fail(s, "begin", rc);
    mk->mv_size = k->len;
    mk->mv_data = k->buf;
    return 0;
}

int ad_spill_put(struct ad_spill *s, const char *key, size_t key_len, const char *metric,
                 const void *val, size_t val_len)
{
    struct spill_key k;
    MDB_val mk, mv;
    MDB_stat st;
    size_t mlen;
    int rc;

    if (!s || !metric || (!key && key_len) || (!val && val_len))
        return AD_EINVAL;
    mlen = strlen(metric);
    if (mlen > UINT32_MAX || key_len > UINT32_MAX ||
        val_len > SIZE_MAX - ID_HDR - 1 - mlen - key_len)
        return AD_EINVAL;
    rc = key_in_txn(s, key, key_len, metric, mlen, &k, &mk);
    if (rc)
        return rc;
    if (!k.hashed) {
        mv.mv_size = val_len;
        mv.mv_data = val_len ? (void *)(uintptr_t)val : "";
        rc = mdb_put(s->txn, s->dbi, &mk, &mv, 0);
    } else {
        /* the full id first, so that get() can tell another id under the
         * same hashes */
        mv.mv_size = ID_HDR + mlen + 1 + key_len + val_len;
        mv.mv_data = NULL;
        rc = mdb_put(s->txn, s->dbi, &mk, &mv, MDB_RESERVE);
        if (!rc) {
            unsigned char *p = mv.mv_data;
            put_u32(p, (uint32_t)mlen);
            put_u32(p + 4, (uint32_t)key_len);
            memcpy(p + ID_HDR, metric, mlen + 1);
            if (key_len)
                memcpy(p + ID_HDR + mlen + 1, key, key_len);
            if (val_len)
                memcpy(p + ID_HDR + mlen + 1 + key_len, val, val_len);
        }
    }
    if (!rc)
        rc = mdb_stat(s->txn, s->dbi, &st);
    if (rc)
        return fail(s, "put", rc);
    s->entries = st.ms_entries;
    s->puts++;
    s->batch_puts++;
    s->batch_bytes += k.len + mv.mv_size;
    /* Bound the dirty pages the open transaction holds in memory. Safe for
     * the caller: entries are only ever overwritten with newer state. */
    if (s->batch_puts >= AD_SPILL_BATCH_PUTS || s->batch_bytes >= AD_SPILL_BATCH_BYTES)
        return ad_spill_commit(s);
    return 0;
}

int ad_spill_get(struct ad_spill *s, const char *key, size_t key_len, const char *metric,
                 struct ad_buf *out)
{
    struct spill_key k;
    struct spill_entry e;
    MDB_val mk, mv;
    char mbuf[256];
    size_t mlen;
    int rc;

    if (!s || !metric || (!key && key_len) || !out)
        return AD_EINVAL;
    mlen = strlen(metric);
    if (mlen > UINT32_MAX || key_len > UINT32_MAX)
        return AD_ENOENT;
    rc = key_in_txn(s, key, key_len, metric, mlen, &k, &mk);
    if (rc)
        return rc;
    rc = mdb_get(s->txn, s->dbi, &mk, &mv);
    if (rc == MDB_NOTFOUND)
        return AD_ENOENT;
    if (rc)
        return fail(s, "get", rc);
    if (decode(&mk, &mv, &e, mbuf) != 0)
        return AD_ENOENT;
    if (k.hashed && (e.metric_len != mlen || memcmp(e.metric, metric, mlen) != 0 ||
                     e.key_len != key_len || (key_len && memcmp(e.key, key, key_len) != 0)))
        return AD_ENOENT; /* another id under the same hashes */
    ad_buf_reset(out);
    return ad_buf_add(out, e.val, e.val_len);
}

int ad_spill_commit(struct ad_spill *s)
{
    int rc;

    if (!s)
        return AD_EINVAL;
    if (!s->txn)
        return 0;
    rc = mdb_txn_commit(s->txn);
    s->txn = NULL; /* freed, whatever the outcome */
    if (rc)
        return fail(s, "commit", rc);
    s->committed = s->entries;
    s->batch_puts = 0;
    s->batch_bytes = 0;
    s->failing = 0;
    return 0;
}

/* Safe on any thread while the owner keeps putting and committing: without
 * MDB_WRITEMAP the pages of the uncommitted transaction are in malloc'd
 * memory, or, when LMDB spills some of them to the file, in pages that no
 * committed meta page references, so the flush can only make the committed
 * state durable plus some harmless bytes. Every commit that returned before
 * the call is in the page cache, hence on disk when fdatasync returns; a
 * commit running meanwhile may reach the disk in part, as the kernel's own
 * writeback may do at any time under MDB_NOSYNC: the sync adds no risk.
 * mdb_env_sync(force) only reads the environment's flags and descriptor. */
/* After a sync (every page written so far is clean): when the file exceeds
 * the bound, drop its pages from the process's map and from the page cache.
 * Reads fault them in again from the file; nothing is lost. */
static void trim(struct ad_spill *s)
{
    struct stat st;
    uint64_t bound = s->cache_bound;
    int fd = -1;
    if (!bound || !s->map || mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) != 0 ||
        (uint64_t)st.st_size <= bound)
        return;
    size_t len = (size_t)st.st_size < MAP_SIZE ? (size_t)st.st_size : MAP_SIZE;
    if (madvise(s->map, len, MADV_DONTNEED) != 0 ||
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
        AD_WARN("spill", "%s: dropping cached pages: %s", s->path, strerror(errno));
    s->trims++;
}

int ad_spill_sync(struct ad_spill *s)
{
    int rc;

    if (!s)
        return AD_EINVAL;
    rc = mdb_env_sync(s->env, 1);
    if (rc) {
        AD_ERROR("spill", "%s: sync: %s", s->path, mdb_strerror(rc));
        return AD_EIO;
    }
    trim(s);
    return 0;
}

void ad_spill_set_cache_bound(struct ad_spill *s, uint64_t bytes)
{
    if (s)
        s->cache_bound = bytes;
}

uint64_t ad_spill_trims(struct ad_spill *s)
{
    return s ? s->trims : 0;
}

int ad_spill_foreach(struct ad_spill *s, ad_spill_fn fn, void *ud)
{
    MDB_cursor *c;
    MDB_val mk, mv;
    struct spill_entry e;
    char mbuf[256];
    int rc, ret = 0;

    if (!s || !fn)
        return AD_EINVAL;
    rc = txn_open(s);
    if (!rc)
        rc = mdb_cursor_open(s->txn, s->dbi, &c);
    if (rc)
        return fail(s, "foreach", rc);
    for (rc = mdb_cursor_get(c, &mk, &mv, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &mk, &mv, MDB_NEXT)) {
        if (decode(&mk, &mv, &e, mbuf) != 0)
            continue;
        ret = fn(ud, e.key, e.key_len, e.metric, e.val, e.val_len);
        if (ret)
            break;
    }
    mdb_cursor_close(c);
    if (rc && rc != MDB_NOTFOUND)
        return fail(s, "foreach", rc);
    return ret;
}

uint64_t ad_spill_count(struct ad_spill *s)
{
    return s ? s->entries : 0;
}

uint64_t ad_spill_puts(struct ad_spill *s)
{
    return s ? s->puts : 0;
}

int ad_spill_fd(struct ad_spill *s)
{
    int fd = -1;
    if (!s || mdb_env_get_fd(s->env, &fd) != 0)
        return -1;
    return fd;
}
