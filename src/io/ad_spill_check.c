/* ad_spill_check.c - checks an evicted series' store (an LMDB data file)
 * before LMDB maps it: LMDB trusts every page it reads, so a torn or
 * overwritten page (MDB_NOSYNC and a power loss, a bad disk, a stray write)
 * makes mdb_put fault (SIGSEGV) and a read past a truncated end SIGBUS.
 *
 * The file is read with pread, never mapped, so a damaged one costs an error
 * and not the process. What is checked (LMDB 0.9's data format, version 1):
 * both meta pages (magic, version, page size), that the file holds every
 * page up to the newest meta's last page, and, walked from the roots of the
 * main and the free-page trees: each page says its own number, is a branch,
 * leaf or overflow page as its parent expects, its bounds and node offsets
 * stay inside the page, its children and overflow pages are below the last
 * page, the depth and entry counts agree with the meta, and the free list's
 * page numbers are in range. */
#include "ad_spill.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_alloc.h"
#include "ad_err.h"

/* LMDB's on-disk layout (mdb.c, 64-bit pgno_t and size_t). */
#define PAGEHDRSZ    16u
#define P_BRANCH     0x01u
#define P_LEAF       0x02u
#define P_OVERFLOW   0x04u
#define P_META       0x08u
#define P_LEAF2      0x20u
#define F_BIGDATA    0x01u
#define F_SUBDATA    0x02u
#define F_DUPDATA    0x04u
#define NODESIZE     8u
#define MDB_MAGIC    0xBEEFC0DEu
#define MDB_DATA_VER 1u
#define P_INVALID    UINT64_MAX
#define META_OFF     PAGEHDRSZ        /* MDB_meta after the page header */
#define DB_SIZE      48u              /* MDB_db */
#define DBS_OFF      (META_OFF + 24u) /* mm_dbs[2] after magic, version, address, mapsize */
#define MAX_DEPTH    32u

struct db {
    uint16_t flags, depth;
    uint64_t branch, leaf, overflow, entries, root;
};

struct meta {
    uint32_t psize;
    struct db dbs[2]; /* FREE_DBI, MAIN_DBI */
    uint64_t last_pg, txnid;
};

struct walk {
    int fd;
    uint32_t psize;
    uint64_t last_pg, file_pages;
    uint64_t entries, pages, budget;
    bool free_db;
    unsigned char *page[MAX_DEPTH + 1]; /* a buffer per level */
    char *err;
    size_t errlen;
};

static uint16_t u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t u32(const unsigned char *p)
{
    return (uint32_t)u16(p) | (uint32_t)u16(p + 2) << 16;
}

static uint64_t u64(const unsigned char *p)
{
    return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

__attribute__((format(printf, 2, 3))) static int bad(struct walk *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, w->errlen, fmt, ap);
    va_end(ap);
    return AD_EPARSE;
}

#define ULL(x) ((unsigned long long)(x))

static int read_page(struct walk *w, uint64_t pgno, unsigned char *buf)
{
    if (pgno > w->last_pg || pgno >= w->file_pages)
        return bad(w, "page %llu is past the last page %llu", ULL(pgno), ULL(w->last_pg));
    if (w->budget && ++w->pages > w->budget)
        return bad(w, "more than %llu pages: a loop in the tree? (at page %llu)", ULL(w->budget),
                   ULL(pgno));
    size_t got = 0;
    while (got < w->psize) {
        ssize_t n = pread(w->fd, buf + got, w->psize - got, (off_t)(pgno * w->psize + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return bad(w, "page %llu cannot be read (errno %llu)", ULL(pgno),
                       ULL((unsigned long long)(n < 0 ? errno : 0)));
        got += (size_t)n;
    }
    if (u64(buf) != pgno)
        return bad(w, "page %llu says it is page %llu (overwritten)", ULL(pgno), ULL(u64(buf)));
    return 0;
}

/* A leaf node's data stored on overflow pages: they exist and are marked. */
static int check_overflow(struct walk *w, uint64_t pgno, uint64_t dsize, unsigned char *buf)
{
    int rc = read_page(w, pgno, buf);
    if (rc)
        return rc;
    uint64_t n = u32(buf + 12);
    if (!(u16(buf + 10) & P_OVERFLOW) || n == 0 || pgno + n - 1 > w->last_pg ||
        (uint64_t)n * w->psize < dsize + PAGEHDRSZ)
        return bad(w, "overflow page %llu is malformed (%llu pages)", ULL(pgno), ULL(n));
    return 0;
}

/* The free list's values: a count, then that many page numbers. */
static int check_idl(struct walk *w, const unsigned char *d, uint64_t dsize)
{
    uint64_t n = dsize >= 8 ? u64(d) : 0;
    if (dsize < 8 || n > dsize / 8 - 1)
        return bad(w, "a free-list entry is malformed (%llu ids in %llu bytes)", ULL(n),
                   ULL(dsize));
    for (uint64_t i = 1; i <= n; i++)
        if (u64(d + 8 * i) > w->last_pg)
            return bad(w, "the free list holds page %llu, past the last page %llu",
                       ULL(u64(d + 8 * i)), ULL(w->last_pg));
    return 0;
}

/* A free-list entry on overflow pages (checked by check_overflow already). */
static int check_big_idl(struct walk *w, uint64_t pgno, uint64_t dsize)
{
    if (dsize > (w->last_pg + 2) * 8)
        return bad(w, "a free-list entry of %llu bytes for %llu pages", ULL(dsize),
                   ULL(w->last_pg + 1));
    unsigned char *d = ad_malloc(dsize ? dsize : 1);
    if (!d)
        return AD_ENOMEM;
    int rc = pread(w->fd, d, dsize, (off_t)(pgno * w->psize + PAGEHDRSZ)) == (ssize_t)dsize
                 ? check_idl(w, d, dsize)
                 : bad(w, "overflow page %llu cannot be read (%llu bytes)", ULL(pgno), ULL(dsize));
    ad_free(d);
    return rc;
}

static int check_leaf_node(struct walk *w, const unsigned char *node, size_t room, int depth)
{
    uint16_t flags = u16(node + 4), ksize = u16(node + 6);
    uint64_t dsize = (uint64_t)u16(node) | (uint64_t)u16(node + 2) << 16;
    if (flags & (F_SUBDATA | F_DUPDATA))
        return bad(w, "a node has flags %llu (no sub-databases here) at depth %llu", ULL(flags),
                   ULL((unsigned long long)depth));
    uint64_t inpage = flags & F_BIGDATA ? 8 : dsize;
    if (NODESIZE + ksize + inpage > room)
        return bad(w, "a leaf node (key %llu bytes, data %llu) overruns its page", ULL(ksize),
                   ULL(dsize));
    const unsigned char *data = node + NODESIZE + ksize;
    w->entries++;
    if (flags & F_BIGDATA) {
        int rc = check_overflow(w, u64(data), dsize, w->page[depth + 1]);
        return rc || !w->free_db ? rc : check_big_idl(w, u64(data), dsize);
    }
    return w->free_db ? check_idl(w, data, dsize) : 0;
}

/* Checks page pgno (at depth, 0 the root) and what hangs below it. */
static int check_tree(struct walk *w, uint64_t pgno, unsigned depth, unsigned want_depth)
{
    unsigned char *p = w->page[depth];
    int rc = depth >= want_depth || depth >= MAX_DEPTH
                 ? bad(w, "the tree is deeper than its meta says (%llu), at page %llu",
                       ULL(want_depth), ULL(pgno))
                 : read_page(w, pgno, p);
    if (rc)
        return rc;
    uint16_t flags = u16(p + 10), lower = u16(p + 12), upper = u16(p + 14);
    bool leaf = depth + 1 == want_depth;
    if ((flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META | P_LEAF2)) != (leaf ? P_LEAF : P_BRANCH))
        return bad(w, "page %llu has flags 0x%llx, not those of its place in the tree", ULL(pgno),
                   ULL(flags));
    if (lower < PAGEHDRSZ || lower > upper || upper > w->psize || (lower - PAGEHDRSZ) % 2)
        return bad(w, "page %llu has bounds out of range (lower/upper 0x%llx)", ULL(pgno),
                   ULL((unsigned long long)lower << 16 | upper));
    unsigned n = (lower - PAGEHDRSZ) / 2;
    if (n == 0 && !(depth == 0 && leaf))
        return bad(w, "page %llu is empty at depth %llu", ULL(pgno), ULL(depth));
    for (unsigned i = 0; i < n; i++) {
        uint16_t off = u16(p + PAGEHDRSZ + 2 * i);
        if (off < upper || off > w->psize - NODESIZE)
            return bad(w, "page %llu: node offset %llu out of range", ULL(pgno), ULL(off));
        const unsigned char *node = p + off;
        if (leaf) {
            rc = check_leaf_node(w, node, w->psize - off, (int)depth);
        } else if (NODESIZE + u16(node + 6) > w->psize - off) {
            rc = bad(w, "page %llu: a branch node's key (%llu bytes) overruns it", ULL(pgno),
                     ULL(u16(node + 6)));
        } else {
            uint64_t child = (uint64_t)u16(node) | (uint64_t)u16(node + 2) << 16 |
                             (uint64_t)u16(node + 4) << 32;
            rc = check_tree(w, child, depth + 1, want_depth);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static void read_meta(const unsigned char *p, struct meta *m)
{
    for (int i = 0; i < 2; i++) {
        const unsigned char *d = p + DBS_OFF + DB_SIZE * (unsigned)i;
        m->dbs[i] = (struct db){.flags = u16(d + 4),
                                .depth = u16(d + 6),
                                .branch = u64(d + 8),
                                .leaf = u64(d + 16),
                                .overflow = u64(d + 24),
                                .entries = u64(d + 32),
                                .root = u64(d + 40)};
    }
    m->psize = u32(p + DBS_OFF); /* mm_dbs[FREE_DBI].md_pad */
    m->last_pg = u64(p + DBS_OFF + 2 * DB_SIZE);
    m->txnid = u64(p + DBS_OFF + 2 * DB_SIZE + 8);
}

/* Reads meta page i (at i * psize; page 0's size first) into *m. */
static int meta_at(int fd, unsigned i, uint32_t psize, struct meta *m, char *err, size_t errlen)
{
    unsigned char p[DBS_OFF + 2 * DB_SIZE + 16];
    if (pread(fd, p, sizeof(p), (off_t)i * psize) != (ssize_t)sizeof(p)) {
        snprintf(err, errlen, "meta page %u cannot be read (truncated)", i);
        return AD_EPARSE;
    }
    read_meta(p, m);
    if (u64(p) != i || !(u16(p + 10) & P_META) || u32(p + META_OFF) != MDB_MAGIC ||
        u32(p + META_OFF + 4) != MDB_DATA_VER) {
        snprintf(err, errlen, "meta page %u is damaged (no LMDB magic, version or page flag)", i);
        return AD_EPARSE;
    }
    if (m->psize < 512 || m->psize > 65536 || (m->psize & (m->psize - 1)) || m->last_pg < 1) {
        snprintf(err, errlen, "meta page %u is damaged (page size %u, last page %llu)", i,
                 (unsigned)m->psize, (unsigned long long)m->last_pg);
        return AD_EPARSE;
    }
    return 0;
}

static int check_db(struct walk *w, const struct db *db, const char *name)
{
    char e[300];
    w->entries = 0;
    if (db->root == P_INVALID)
        return db->entries || db->depth ? bad(w, "an empty tree with %llu entries, depth %llu",
                                              ULL(db->entries), ULL(db->depth))
                                        : 0;
    int rc = check_tree(w, db->root, 0, db->depth);
    if (rc == 0 && w->entries != db->entries)
        rc = bad(w, "%llu entries found, the meta says %llu", ULL(w->entries), ULL(db->entries));
    if (rc) {
        snprintf(e, sizeof(e), "%s", w->err);
        snprintf(w->err, w->errlen, "%s tree: %s", name, e);
    }
    return rc;
}

/* Checks the trees of meta m (with the fd open and the buffers allocated). */
static int check_meta_trees(struct walk *w, const struct meta *m, uint64_t size)
{
    w->psize = m->psize;
    w->last_pg = m->last_pg;
    w->file_pages = size / m->psize;
    if (w->file_pages <= m->last_pg)
        return bad(w, "truncated: %llu pages, the newest transaction uses %llu", ULL(w->file_pages),
                   ULL(m->last_pg + 1));
    if (m->dbs[0].depth > MAX_DEPTH || m->dbs[1].depth > MAX_DEPTH)
        return bad(w, "a tree depth of %llu/%llu", ULL(m->dbs[0].depth), ULL(m->dbs[1].depth));
    w->budget = m->last_pg + 2; /* no page is visited twice in a sound tree */
    w->free_db = true;
    int rc = check_db(w, &m->dbs[0], "free-page");
    w->free_db = false;
    return rc ? rc : check_db(w, &m->dbs[1], "main");
}

int ad_spill_check_file(const char *path, char *err, size_t errlen)
{
    struct walk w = {.err = err, .errlen = errlen};
    struct meta m0, m1;
    struct stat st;
    int rc = 0;

    w.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (w.fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return errno == ENOENT ? AD_ENOENT : AD_EIO;
    }
    if (fstat(w.fd, &st) != 0 || st.st_size == 0) {
        close(w.fd);
        return st.st_size == 0 ? 0 : AD_EIO; /* empty: LMDB initializes it */
    }
    rc = meta_at(w.fd, 0, 0, &m0, err, errlen);
    rc = rc ? rc : meta_at(w.fd, 1, m0.psize, &m1, err, errlen);
    for (unsigned i = 0; rc == 0 && i <= MAX_DEPTH; i++) {
        w.page[i] = ad_malloc(m0.psize);
        if (!w.page[i])
            rc = AD_ENOMEM;
    }
    if (rc == 0 && m1.psize != m0.psize)
        rc = bad(&w, "the meta pages disagree on the page size (%llu, %llu)", ULL(m0.psize),
                 ULL(m1.psize));
    /* LMDB opens the newest transaction: that one must be sound. */
    rc = rc ? rc : check_meta_trees(&w, m1.txnid > m0.txnid ? &m1 : &m0, (uint64_t)st.st_size);
    for (unsigned i = 0; i <= MAX_DEPTH; i++)
        ad_free(w.page[i]);
    close(w.fd);
    return rc;
}
