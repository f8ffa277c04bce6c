/* Spill store: round trips, persistence across reopen, long and binary ids,
 * auto-commit, errors, and a sync from another thread during puts. */
#define _DEFAULT_SOURCE /* mincore */
#include "ad_test.h"

#include <lmdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "ad_err.h"
#include "ad_hash.h"
#include "ad_spill.h"

static char dir[64];

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof(dir), "/tmp/ad_spill_XXXXXX");
    AD_EXPECT(mkdtemp(dir) != NULL);
}

/* Runs at exit of each (forked) test. */
static void rm_tmp(void)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, AD_SPILL_FILE);
    unlink(p);
    snprintf(p, sizeof(p), "%s/%s-lock", dir, AD_SPILL_FILE);
    unlink(p);
    rmdir(dir);
}

static struct ad_spill *open_tmp(void)
{
    struct ad_spill *s = NULL;
    char err[256] = "";
    if (!dir[0]) {
        mkdir_tmp();
        atexit(rm_tmp);
    }
    int rc = ad_spill_open(dir, &s, err, sizeof(err));
    if (rc)
        AD_FAIL_("ad_spill_open: %s: %s", ad_err_name(rc), err);
    return s;
}

static void expect_val(struct ad_spill *s, const char *key, size_t key_len, const char *metric,
                       const char *want)
{
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_spill_get(s, key, key_len, metric, &b), ==, 0);
    AD_EXPECT_UINT(b.len, ==, strlen(want));
    AD_EXPECT(memcmp(b.p, want, b.len) == 0);
    ad_buf_free(&b);
}

static void expect_absent(struct ad_spill *s, const char *key, size_t key_len, const char *metric)
{
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_spill_get(s, key, key_len, metric, &b), ==, AD_ENOENT);
    ad_buf_free(&b);
}

static void test_round_trip(void)
{
    struct ad_spill *s = open_tmp();
    AD_EXPECT_UINT(ad_spill_count(s), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "sim-1", 5, "temp", "state-1", 7), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "sim-1", 5, "hum", "state-h", 7), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "", 0, "temp", "", 0), ==, 0);
    expect_val(s, "sim-1", 5, "temp", "state-1"); /* uncommitted, seen */
    expect_val(s, "sim-1", 5, "hum", "state-h");
    expect_val(s, "", 0, "temp", "");
    expect_absent(s, "sim-2", 5, "temp");
    expect_absent(s, "sim-1", 5, "tem");
    expect_absent(s, "sim-", 4, "temp");
    AD_EXPECT_UINT(ad_spill_count(s), ==, 3);
    AD_EXPECT_UINT(ad_spill_puts(s), ==, 3);
    /* the entry stays after a get */
    expect_val(s, "sim-1", 5, "temp", "state-1");
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0); /* nothing pending */
    expect_val(s, "sim-1", 5, "temp", "state-1");
    ad_spill_close(s);
    ad_spill_close(NULL);
}

static void test_overwrite(void)
{
    struct ad_spill *s = open_tmp();
    AD_EXPECT_INT(ad_spill_put(s, "a", 1, "m", "old", 3), ==, 0);
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "a", 1, "m", "newer value", 11), ==, 0);
    expect_val(s, "a", 1, "m", "newer value");
    AD_EXPECT_INT(ad_spill_put(s, "a", 1, "m", "x", 1), ==, 0);
    expect_val(s, "a", 1, "m", "x");
    AD_EXPECT_UINT(ad_spill_count(s), ==, 1);
    AD_EXPECT_UINT(ad_spill_puts(s), ==, 3);
    ad_spill_close(s);
}

/* Committed puts and those only closed over both survive a reopen. */
static void test_reopen(void)
{
    struct ad_spill *s = open_tmp();
    AD_EXPECT_INT(ad_spill_put(s, "k1", 2, "m", "v1", 2), ==, 0);
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    AD_EXPECT_INT(ad_spill_sync(s), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "k2", 2, "m", "v2", 2), ==, 0); /* close commits it */
    ad_spill_close(s);
    s = open_tmp();
    AD_EXPECT_UINT(ad_spill_count(s), ==, 2);
    AD_EXPECT_UINT(ad_spill_puts(s), ==, 0);
    expect_val(s, "k1", 2, "m", "v1");
    expect_val(s, "k2", 2, "m", "v2");
    ad_spill_close(s);
}

/* A second open of the same file is refused, not left to block. */
static void test_open_twice(void)
{
    struct ad_spill *s = open_tmp(), *t = NULL;
    char err[256] = "";
    AD_EXPECT_INT(ad_spill_open(dir, &t, err, sizeof(err)), ==, AD_EIO);
    AD_EXPECT(t == NULL);
    AD_EXPECT_CONTAINS(err, AD_SPILL_FILE);
    AD_EXPECT_CONTAINS(err, "in use");
    ad_spill_close(s);
    s = open_tmp(); /* released by the close */
    ad_spill_close(s);
}

static void test_open_error(void)
{
    struct ad_spill *s = (struct ad_spill *)(uintptr_t)1;
    char err[256] = "", path[128];
    FILE *f;
    mkdir_tmp();
    atexit(rm_tmp);
    /* a regular file as the directory: fails even as root */
    snprintf(path, sizeof(path), "%s/%s", dir, AD_SPILL_FILE);
    f = fopen(path, "w");
    AD_EXPECT(f != NULL);
    fclose(f);
    AD_EXPECT_INT(ad_spill_open(path, &s, err, sizeof(err)), ==, AD_EIO);
    AD_EXPECT(s == NULL);
    AD_EXPECT_CONTAINS(err, path);
    AD_EXPECT_CONTAINS(err, "/" AD_SPILL_FILE "/" AD_SPILL_FILE ": ");
    AD_EXPECT_CONTAINS(err, "Not a directory");
    AD_EXPECT_INT(ad_spill_open("/nonexistent-ad-spill", &s, err, sizeof(err)), ==, AD_EIO);
    AD_EXPECT_CONTAINS(err, "/nonexistent-ad-spill/" AD_SPILL_FILE);
}

struct seen {
    int n, a, b, c, other;
};

static int visit(void *ud, const char *key, size_t key_len, const char *metric, const void *val,
                 size_t val_len)
{
    struct seen *v = ud;
    v->n++;
    if (key_len == 1 && key[0] == 'a' && strcmp(metric, "m") == 0 && val_len == 2 &&
        memcmp(val, "va", 2) == 0)
        v->a++;
    else if (key_len == 1 && key[0] == 'b' && strcmp(metric, "m2") == 0 && val_len == 2 &&
             memcmp(val, "vb", 2) == 0)
        v->b++;
    else if (key_len == 700 && key[699] == 'c' && strcmp(metric, "m") == 0 && val_len == 2 &&
             memcmp(val, "vc", 2) == 0)
        v->c++;
    else
        v->other++;
    return 0;
}

static int stop_at_2(void *ud, const char *key, size_t key_len, const char *metric, const void *val,
                     size_t val_len)
{
    return ++*(int *)ud == 2 ? 42 : 0;
}

/* Committed and pending entries, direct and hashed keys: each once. */
static void test_foreach(void)
{
    struct ad_spill *s = open_tmp();
    struct seen v = {0};
    char longkey[700];
    int n = 0;
    memset(longkey, 'x', sizeof(longkey));
    longkey[699] = 'c';
    AD_EXPECT_INT(ad_spill_put(s, "a", 1, "m", "old", 3), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, longkey, sizeof(longkey), "m", "old", 3), ==, 0);
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "a", 1, "m", "va", 2), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "b", 1, "m2", "vb", 2), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, longkey, sizeof(longkey), "m", "vc", 2), ==, 0);
    AD_EXPECT_INT(ad_spill_foreach(s, visit, &v), ==, 0);
    AD_EXPECT_INT(v.n, ==, 3);
    AD_EXPECT(v.a == 1 && v.b == 1 && v.c == 1 && v.other == 0);
    AD_EXPECT_INT(ad_spill_foreach(s, stop_at_2, &n), ==, 42);
    AD_EXPECT_INT(n, ==, 2);
    /* the store is usable after a foreach */
    AD_EXPECT_INT(ad_spill_put(s, "d", 1, "m", "vd", 2), ==, 0);
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    AD_EXPECT_UINT(ad_spill_count(s), ==, 4);
    ad_spill_close(s);
}

/* Ids past LMDB's key size go under a hashed key; get checks the full id. */
static void test_long_id(void)
{
    struct ad_spill *s = open_tmp();
    char k1[1024], k2[1024], metric[300];
    memset(k1, 'k', sizeof(k1));
    memcpy(k2, k1, sizeof(k2));
    k2[1023] = 'K';
    memset(metric, 'm', sizeof(metric) - 1);
    metric[299] = '\0';
    AD_EXPECT_INT(ad_spill_put(s, k1, 601, "temp", "v601", 4), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, k1, sizeof(k1), "temp", "v1", 2), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, k2, sizeof(k2), "temp", "v2", 2), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "short", 5, metric, "vm", 2), ==, 0); /* metric > 254 */
    /* the longest direct key and the shortest hashed one */
    AD_EXPECT_INT(ad_spill_put(s, k1, 511 - 1 - 4, "temp", "edge", 4), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, k1, 511 - 4, "temp", "edge+1", 6), ==, 0);
    expect_val(s, k1, 601, "temp", "v601");
    expect_val(s, k1, sizeof(k1), "temp", "v1");
    expect_val(s, k2, sizeof(k2), "temp", "v2");
    expect_val(s, "short", 5, metric, "vm");
    expect_val(s, k1, 506, "temp", "edge");
    expect_val(s, k1, 507, "temp", "edge+1");
    expect_absent(s, k1, 600, "temp");
    expect_absent(s, k1, sizeof(k1), "temp2");
    AD_EXPECT_UINT(ad_spill_count(s), ==, 6);
    ad_spill_close(s);
    s = open_tmp();
    expect_val(s, k1, sizeof(k1), "temp", "v1");
    expect_val(s, "short", 5, metric, "vm");
    ad_spill_close(s);
}

/* The hashed key of the header's format, computed here independently. */
static void hashed_key(const char *key, size_t key_len, const char *metric, unsigned char *out)
{
    unsigned char hdr[4];
    size_t mlen = strlen(metric);
    for (int i = 0; i < 4; i++)
        hdr[i] = (unsigned char)(mlen >> (8 * i));
    memset(out, 0, 32);
    out[0] = 0xff;
    for (unsigned char lane = 0; lane < 3; lane++) {
        uint64_t h = ad_fnv1a64(AD_FNV64_BASIS, &lane, 1);
        h = ad_fnv1a64(h, hdr, 4);
        h = ad_fnv1a64(h, metric, mlen);
        h = ad_fnv1a64(h, key, key_len);
        for (int i = 0; i < 8; i++)
            out[8 + 8 * lane + i] = (unsigned char)(h >> (8 * i));
    }
}

/* A hash collision, forged by copying id A's raw entry under id B's hashed
 * key: a get of B answers AD_ENOENT, never A's state. */
static void test_hash_collision(void)
{
    struct ad_spill *s = open_tmp();
    char ka[600], kb[600], path[128], raw[1024];
    unsigned char hk[32];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k, v;
    memset(ka, 'a', sizeof(ka));
    memset(kb, 'b', sizeof(kb));
    AD_EXPECT_INT(ad_spill_put(s, ka, sizeof(ka), "temp", "state of a", 10), ==, 0);
    ad_spill_close(s);

    snprintf(path, sizeof(path), "%s/%s", dir, AD_SPILL_FILE);
    AD_EXPECT_INT(mdb_env_create(&env), ==, 0);
    AD_EXPECT_INT(mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOLOCK, 0640), ==, 0);
    AD_EXPECT_INT(mdb_txn_begin(env, NULL, 0, &txn), ==, 0);
    AD_EXPECT_INT(mdb_dbi_open(txn, NULL, 0, &dbi), ==, 0);
    hashed_key(ka, sizeof(ka), "temp", hk);
    k.mv_size = sizeof(hk);
    k.mv_data = hk;
    AD_EXPECT_INT(mdb_get(txn, dbi, &k, &v), ==, 0); /* the documented layout */
    AD_EXPECT_UINT(v.mv_size, ==, 8 + 4 + 1 + sizeof(ka) + 10);
    AD_EXPECT(memcmp((const char *)v.mv_data + 8, "temp", 5) == 0);
    AD_EXPECT(v.mv_size <= sizeof(raw));
    memcpy(raw, v.mv_data, v.mv_size);
    v.mv_data = raw;
    hashed_key(kb, sizeof(kb), "temp", hk);
    AD_EXPECT_INT(mdb_put(txn, dbi, &k, &v, 0), ==, 0);
    AD_EXPECT_INT(mdb_txn_commit(txn), ==, 0);
    mdb_env_close(env);

    s = open_tmp();
    AD_EXPECT_UINT(ad_spill_count(s), ==, 2);
    expect_absent(s, kb, sizeof(kb), "temp");
    expect_val(s, ka, sizeof(ka), "temp", "state of a");
    AD_EXPECT_INT(ad_spill_put(s, kb, sizeof(kb), "temp", "state of b", 10), ==, 0);
    expect_val(s, kb, sizeof(kb), "temp", "state of b");
    ad_spill_close(s);
}

static void test_binary_keys(void)
{
    struct ad_spill *s = open_tmp();
    const char k1[] = {'a', '\0', 'b'}, k2[] = {'a', '\0', 'c'}, k3[] = {'\0'};
    char big[100];
    memset(big, 0, sizeof(big));
    AD_EXPECT_INT(ad_spill_put(s, k1, 3, "m", "one", 3), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, k2, 3, "m", "two", 3), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, k3, 1, "m", "three", 5), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "a", 1, "m", "four", 4), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, big, sizeof(big), "m", "\0\1\2", 3), ==, 0);
    expect_val(s, k1, 3, "m", "one");
    expect_val(s, k2, 3, "m", "two");
    expect_val(s, k3, 1, "m", "three");
    expect_val(s, "a", 1, "m", "four");
    expect_absent(s, "", 0, "m");
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_spill_get(s, big, sizeof(big), "m", &b), ==, 0);
    AD_EXPECT(b.len == 3 && memcmp(b.p, "\0\1\2", 3) == 0);
    ad_buf_free(&b);
    /* "m" + key "xa" and metric "mx" + key "a" must not meet */
    AD_EXPECT_INT(ad_spill_put(s, "xa", 2, "m", "A", 1), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "a", 1, "mx", "B", 1), ==, 0);
    expect_val(s, "xa", 2, "m", "A");
    expect_val(s, "a", 1, "mx", "B");
    AD_EXPECT_UINT(ad_spill_count(s), ==, 7);
    ad_spill_close(s);
}

/* A value larger than the caller's buffer maximum. */
static void test_get_limit(void)
{
    struct ad_spill *s = open_tmp();
    struct ad_buf b;
    ad_buf_init(&b, 4);
    AD_EXPECT_INT(ad_spill_put(s, "k", 1, "m", "123456789", 9), ==, 0);
    AD_EXPECT_INT(ad_spill_get(s, "k", 1, "m", &b), ==, AD_ELIMIT);
    AD_EXPECT_INT(ad_spill_put(s, "k", 1, "m", "1234", 4), ==, 0);
    AD_EXPECT_INT(ad_spill_get(s, "k", 1, "m", &b), ==, 0);
    AD_EXPECT_STR(b.p, "1234");
    ad_buf_free(&b);
    AD_EXPECT_INT(ad_spill_put(s, NULL, 1, "m", "", 0), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_spill_put(s, "k", 1, NULL, "", 0), ==, AD_EINVAL);
    ad_spill_close(s);
}

/* A commit that cannot write (the file size limit): AD_EIO, the puts since
 * the last commit are lost, the committed ones stay, and the store works
 * again once writes do. */
static void test_write_failure(void)
{
    struct ad_spill *s = open_tmp();
    struct rlimit old, lim;
    struct stat st;
    char path[128], key[32], val[1000];
    int rc = 0, i;
    memset(val, 'v', sizeof(val));
    AD_EXPECT_INT(ad_spill_put(s, "kept", 4, "m", "v", 1), ==, 0);
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    snprintf(path, sizeof(path), "%s/%s", dir, AD_SPILL_FILE);
    AD_EXPECT_INT(stat(path, &st), ==, 0);
    signal(SIGXFSZ, SIG_IGN);
    AD_EXPECT_INT(getrlimit(RLIMIT_FSIZE, &old), ==, 0);
    lim = old;
    lim.rlim_cur = (rlim_t)st.st_size + 64 * 1024;
    AD_EXPECT_INT(setrlimit(RLIMIT_FSIZE, &lim), ==, 0);
    for (i = 0; i < 1000 && rc == 0; i++) {
        int kl = snprintf(key, sizeof(key), "lost-%d", i);
        rc = ad_spill_put(s, key, (size_t)kl, "m", val, sizeof(val));
    }
    if (rc == 0)
        rc = ad_spill_commit(s);
    AD_EXPECT_INT(rc, ==, AD_EIO);
    AD_EXPECT_UINT(ad_spill_count(s), ==, 1);
    expect_absent(s, "lost-0", 6, "m");
    expect_val(s, "kept", 4, "m", "v");
    AD_EXPECT_INT(setrlimit(RLIMIT_FSIZE, &old), ==, 0);
    AD_EXPECT_INT(ad_spill_put(s, "again", 5, "m", "w", 1), ==, 0);
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    AD_EXPECT_INT(ad_spill_sync(s), ==, 0);
    ad_spill_close(s);
    s = open_tmp();
    AD_EXPECT_UINT(ad_spill_count(s), ==, 2);
    expect_val(s, "kept", 4, "m", "v");
    expect_val(s, "again", 5, "m", "w");
    ad_spill_close(s);
}

#define MANY 100000

static void test_many_autocommit(void)
{
    struct ad_spill *s = open_tmp();
    char key[32], val[64];
    struct stat st;
    char path[128];
    for (int i = 0; i < MANY; i++) {
        int kl = snprintf(key, sizeof(key), "series-%d", i);
        int vl = snprintf(val, sizeof(val), "state of %d", i);
        AD_EXPECT_INT(ad_spill_put(s, key, (size_t)kl, "temp", val, (size_t)vl), ==, 0);
    }
    AD_EXPECT_UINT(ad_spill_count(s), ==, MANY);
    AD_EXPECT_UINT(ad_spill_puts(s), ==, MANY);
    /* the auto-commits have written the file already */
    snprintf(path, sizeof(path), "%s/%s", dir, AD_SPILL_FILE);
    AD_EXPECT_INT(stat(path, &st), ==, 0);
    AD_EXPECT_INT(st.st_size, >, 1 << 20);
    ad_spill_close(s);
    s = open_tmp();
    AD_EXPECT_UINT(ad_spill_count(s), ==, MANY);
    expect_val(s, "series-0", 8, "temp", "state of 0");
    expect_val(s, "series-99999", 12, "temp", "state of 99999");
    ad_spill_close(s);
}

struct syncer {
    struct ad_spill *s;
    atomic_int stop;
    atomic_int runs;
    int fails;
};

static void *sync_loop(void *arg)
{
    struct syncer *y = arg;
    while (!atomic_load(&y->stop)) {
        if (ad_spill_sync(y->s) != 0)
            y->fails++;
        atomic_fetch_add(&y->runs, 1);
    }
    return NULL;
}

/* Syncs on another thread while the owner puts and (auto-)commits. */
static void test_sync_thread(void)
{
    struct ad_spill *s = open_tmp();
    struct syncer y = {.s = s};
    pthread_t th;
    char key[32], val[200];
    memset(val, 'v', sizeof(val));
    AD_EXPECT_INT(pthread_create(&th, NULL, sync_loop, &y), ==, 0);
    int n = 3 * AD_SPILL_BATCH_PUTS + 100, distinct = n < 20000 ? n : 20000;
    for (int i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof(key), "s%d", i % 20000);
        AD_EXPECT_INT(ad_spill_put(s, key, (size_t)kl, "temp", val, sizeof(val)), ==, 0);
        if (i % 5000 == 0)
            AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    }
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    /* A loaded machine may not have scheduled the syncer yet: let it sync at
     * least once before it is stopped (it did run 1 in 5 times under load). */
    while (atomic_load(&y.runs) == 0)
        sched_yield();
    atomic_store(&y.stop, 1);
    AD_EXPECT_INT(pthread_join(th, NULL), ==, 0);
    AD_EXPECT_INT(y.fails, ==, 0);
    AD_EXPECT_INT(atomic_load(&y.runs), >, 0);
    AD_EXPECT_UINT(ad_spill_count(s), ==, (uint64_t)distinct);
    ad_spill_close(s);
}

/* The fraction of the store file's pages in the page cache (mincore on a
 * map of our own). */
static double cached_fraction(void)
{
    char p[128];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, AD_SPILL_FILE);
    int fd = open(p, O_RDONLY);
    AD_EXPECT(fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0);
    size_t pages = ((size_t)st.st_size + 4095) / 4096, in = 0;
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    unsigned char *vec = malloc(pages);
    AD_EXPECT(m != MAP_FAILED && vec != NULL);
    AD_EXPECT_INT(mincore(m, (size_t)st.st_size, vec), ==, 0);
    for (size_t i = 0; i < pages; i++)
        in += vec[i] & 1;
    munmap(m, (size_t)st.st_size);
    free(vec);
    close(fd);
    return (double)in / (double)pages;
}

static int count_entry(void *ud, const char *key, size_t key_len, const char *metric,
                       const void *val, size_t val_len)
{
    (void)key, (void)key_len, (void)metric, (void)val, (void)val_len;
    (*(int *)ud)++;
    return 0;
}

/* Issue 17 item 6: limits.evicted_cache_bytes. Without a bound the store's
 * pages stay cached; with one, a sync drops them, and every entry reads
 * back all the same. */
static void test_cache_bound(void)
{
    struct ad_spill *s = open_tmp();
    char key[32], val[300];
    int n = 0;
    memset(val, 'x', sizeof(val));
    for (int i = 0; i < 20000; i++) {
        int kl = snprintf(key, sizeof(key), "s%d", i);
        AD_EXPECT_INT(ad_spill_put(s, key, (size_t)kl, "temp", val, sizeof(val)), ==, 0);
    }
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
    AD_EXPECT_INT(ad_spill_foreach(s, count_entry, &n), ==, 0);
    AD_EXPECT_INT(ad_spill_sync(s), ==, 0);
    AD_EXPECT_UINT(ad_spill_trims(s), ==, 0); /* no bound: nothing dropped */
    double before = cached_fraction();
    AD_EXPECT(before > 0.9);
    ad_spill_set_cache_bound(s, 1 << 20);
    AD_EXPECT_INT(ad_spill_sync(s), ==, 0);
    AD_EXPECT_UINT(ad_spill_trims(s), ==, 1);
    double after = cached_fraction();
    printf("# store pages cached: %.0f%% before the trim, %.0f%% after\n", before * 100,
           after * 100);
    AD_EXPECT(after < 0.2);
    n = 0;
    AD_EXPECT_INT(ad_spill_foreach(s, count_entry, &n), ==, 0);
    AD_EXPECT_INT(n, ==, 20000);
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_spill_get(s, "s7", 2, "temp", &b), ==, 0);
    AD_EXPECT_UINT(b.len, ==, sizeof(val));
    AD_EXPECT(memcmp(b.p, val, sizeof(val)) == 0);
    ad_buf_free(&b);
    ad_spill_close(s);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_round_trip);
    AD_TEST_RUN(argc, argv, test_overwrite);
    AD_TEST_RUN(argc, argv, test_reopen);
    AD_TEST_RUN(argc, argv, test_open_twice);
    AD_TEST_RUN(argc, argv, test_open_error);
    AD_TEST_RUN(argc, argv, test_foreach);
    AD_TEST_RUN(argc, argv, test_long_id);
    AD_TEST_RUN(argc, argv, test_hash_collision);
    AD_TEST_RUN(argc, argv, test_binary_keys);
    AD_TEST_RUN(argc, argv, test_get_limit);
    AD_TEST_RUN(argc, argv, test_write_failure);
    AD_TEST_RUN(argc, argv, test_many_autocommit);
    AD_TEST_RUN(argc, argv, test_sync_thread);
    AD_TEST_RUN(argc, argv, test_cache_bound);
    return ad_test_done();
}
