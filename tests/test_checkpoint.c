/* Checkpoint encoding: round trip, and every way a file can be damaged. */
#include "ad_test.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ad_checkpoint.h"
#include "ad_err.h"
#include "ad_fd.h"
#include "ad_hash.h"
#include "ad_state.h"

/* ad_ckpt_check() and, when it accepts buf, ad_ckpt_each(). */
static int ckpt_read(const void *buf, size_t len, struct ad_ckpt_header *h, ad_ckpt_series_cb cb,
                     void *ud, char *err, size_t errlen)
{
    int rc = ad_ckpt_check(buf, len, h, err, errlen);
    return rc || !cb ? rc : ad_ckpt_each(buf, len, cb, ud);
}

struct got {
    int n;
    char keys[8][32];
    struct ad_series_state st[8];
    struct ad_ring_point ring[8][4];
};

static int collect(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct got *g = ud;
    AD_EXPECT_STR(metric, "temp");
    snprintf(g->keys[g->n], 32, "%.*s", (int)st->key_len, st->key);
    g->st[g->n] = *st;
    if (st->rlen)
        memcpy(g->ring[g->n], st->ring, st->rlen * sizeof(*st->ring));
    g->n++;
    return 0;
}

static void build(struct ad_buf *b)
{
    struct ad_ckpt_header h = {.fingerprint = 42, .offset = 1234, .created_ms = 99, .partition = 3};
    snprintf(h.topic, sizeof(h.topic), "sensor-raw");
    struct ad_ring_point ring[2] = {{60000000, 21.5, 10, 8, true},
                                    {120000000, 99.25, 12, 11, false}};
    struct ad_series_state a = {.key = "sim-1",
                                .key_len = 5,
                                .life = {373, 22.34, 123.51},
                                .win = {2, 1.5, 0.5},
                                .model_off = 1200,
                                .last_t = 5,
                                .closed_until = 180000000,
                                .next_e = 240000000,
                                .pending = true,
                                .unlearned = 1,
                                .ring = ring,
                                .rlen = 2};
    struct ad_series_state c = {.key = "sim-2",
                                .key_len = 5,
                                .life = {1, -3.0, 0},
                                .model_off = -1,
                                .last_t = INT64_MIN,
                                .closed_until = INT64_MIN};
    AD_EXPECT_INT(ad_ckpt_begin(b, &h), ==, 0);
    AD_EXPECT_INT(ad_ckpt_add(b, &a, "temp"), ==, 0);
    AD_EXPECT_INT(ad_ckpt_add(b, &c, "temp"), ==, 0);
    AD_EXPECT_INT(ad_ckpt_finish(b, 2), ==, 0);
}

static void test_round_trip(void)
{
    struct ad_buf b;
    struct ad_ckpt_header h;
    struct got g = {0};
    char err[256];
    ad_buf_init(&b, 1 << 20);
    build(&b);
    AD_EXPECT_INT(ckpt_read(b.p, b.len, &h, collect, &g, err, sizeof(err)), ==, 0);
    AD_EXPECT_UINT(h.fingerprint, ==, 42);
    AD_EXPECT_INT(h.offset, ==, 1234);
    AD_EXPECT_INT(h.partition, ==, 3);
    AD_EXPECT_STR(h.topic, "sensor-raw");
    AD_EXPECT_UINT(h.nseries, ==, 2);
    AD_EXPECT_INT(g.n, ==, 2);
    AD_EXPECT_STR(g.keys[0], "sim-1");
    AD_EXPECT_UINT(g.st[0].life.n, ==, 373);
    AD_EXPECT(g.st[0].life.mean == 22.34 && g.st[0].life.m2 == 123.51); /* bit-exact */
    AD_EXPECT_INT(g.st[0].model_off, ==, 1200);
    AD_EXPECT_INT(g.st[0].next_e, ==, 240000000);
    AD_EXPECT(g.st[0].pending);
    AD_EXPECT_UINT(g.st[0].rlen, ==, 2);
    AD_EXPECT(g.ring[0][1].v == 99.25 && !g.ring[0][1].in_model && g.ring[0][0].in_model);
    AD_EXPECT_STR(g.keys[1], "sim-2");
    AD_EXPECT_INT(g.st[1].last_t, ==, INT64_MIN);
    ad_buf_free(&b);
}

static int count(void *ud, const struct ad_series_state *st, const char *metric)
{
    (void)st, (void)metric;
    ++*(int *)ud;
    return 0;
}

/* Any flipped byte, any truncation: rejected before a single series is
 * handed over. */
static void test_damage_detected(void)
{
    struct ad_buf b;
    struct ad_ckpt_header h;
    char err[256];
    ad_buf_init(&b, 1 << 20);
    build(&b);
    char *copy = malloc(b.len);
    for (size_t i = 0; i < b.len; i++) {
        int n = 0;
        memcpy(copy, b.p, b.len);
        copy[i] ^= 0x20;
        int rc = ckpt_read(copy, b.len, &h, count, &n, err, sizeof(err));
        if (rc == 0 || n != 0)
            AD_FAIL_("flipped byte %zu accepted", i);
    }
    for (size_t len = 0; len < b.len; len++) {
        int n = 0;
        if (ckpt_read(b.p, len, &h, count, &n, err, sizeof(err)) == 0 || n)
            AD_FAIL_("truncation to %zu accepted", len);
    }
    free(copy);
    ad_buf_free(&b);
}

/* Another version: AD_ERANGE with a message naming both versions. */
static void test_version_mismatch(void)
{
    struct ad_buf b;
    struct ad_ckpt_header h;
    char err[256];
    ad_buf_init(&b, 1 << 20);
    build(&b);
    b.p[7] = 9;
    /* re-seal the checksum so that only the version differs */
    uint64_t sum = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < b.len - 8; i++)
        sum = (sum ^ (unsigned char)b.p[i]) * 0x100000001b3ULL;
    memcpy(b.p + b.len - 8, &sum, 8);
    AD_EXPECT_INT(ckpt_read(b.p, b.len, &h, NULL, NULL, err, sizeof(err)), ==, AD_ERANGE);
    AD_EXPECT_CONTAINS(err, "version 9");
    ad_buf_free(&b);
}

static void reseal(struct ad_buf *b)
{
    uint64_t sum = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < b->len - 8; i++)
        sum = (sum ^ (unsigned char)b->p[i]) * 0x100000001b3ULL;
    memcpy(b->p + b->len - 8, &sum, 8);
}

/* Version 2 keeps the partition's clock; version 1 files (without it) are
 * still read, with no clock. */
static void test_clock_and_version_1(void)
{
    struct ad_buf b;
    struct ad_ckpt_header h = {.fingerprint = 1,
                               .offset = 5,
                               .max_t = 1763632800000000LL,
                               .partition = 0};
    struct got g = {0};
    char err[256];
    snprintf(h.topic, sizeof(h.topic), "t");
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_ckpt_begin(&b, &h), ==, 0);
    struct ad_series_state a = {.key = "sim-1",
                                .key_len = 5,
                                .life = {3, 1.0, 2.0},
                                .model_off = 4,
                                .last_t = INT64_MIN,
                                .closed_until = INT64_MIN};
    AD_EXPECT_INT(ad_ckpt_add(&b, &a, "temp"), ==, 0);
    AD_EXPECT_INT(ad_ckpt_finish(&b, 1), ==, 0);
    memset(&h, 0, sizeof(h));
    AD_EXPECT_INT(ckpt_read(b.p, b.len, &h, collect, &g, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(h.max_t, ==, 1763632800000000LL);
    AD_EXPECT_INT(g.n, ==, 1);
    /* The same as version 1: no identity (its two empty lengths after the
     * series count, bytes 55 and 56), no max_t field after created_ms (byte
     * 32), and no detector length (the 4 bytes before the checksum) after
     * the series. */
    AD_EXPECT_INT(b.p[55], ==, 0);
    AD_EXPECT_INT(b.p[56], ==, 0);
    memmove(b.p + 55, b.p + 57, b.len - 57);
    b.len -= 2;
    memmove(b.p + b.len - 12, b.p + b.len - 8, 8);
    b.len -= 4;
    memmove(b.p + 32, b.p + 40, b.len - 40);
    b.len -= 8;
    b.p[7] = 1;
    reseal(&b);
    g.n = 0;
    AD_EXPECT_INT(ckpt_read(b.p, b.len, &h, collect, &g, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(h.max_t, ==, INT64_MIN);
    AD_EXPECT_INT(h.offset, ==, 5);
    AD_EXPECT_STR(h.topic, "t");
    AD_EXPECT_INT(g.n, ==, 1);
    AD_EXPECT_STR(g.keys[0], "sim-1");
    AD_EXPECT_UINT(g.st[0].life.n, ==, 3);
    ad_buf_free(&b);
}

static void touch(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    AD_EXPECT(f != NULL);
    fclose(f);
}

static bool exists(const char *dir, const char *name)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* Temp files of writers that are gone are removed when the state directory
 * is opened; a live writer's is kept; other files are never touched. The
 * checkpoint written leaves no temp file behind. */
static void test_stale_temps(void)
{
    char dir[] = "/tmp/ad_state_XXXXXX", mine[64], gone[64], err[256];
    AD_EXPECT(mkdtemp(dir) != NULL);
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    AD_EXPECT(child > 0);
    while (waitpid(child, NULL, 0) < 0) {
    }
    snprintf(mine, sizeof(mine), "t-0.ckpt.tmp.%d", (int)getpid());
    snprintf(gone, sizeof(gone), "t-1.ckpt.tmp.%d", (int)child); /* reaped: no such process */
    touch(dir, mine);
    touch(dir, gone);
    touch(dir, "t-2.ckpt.tmp");
    touch(dir, "notes.tmp.x");
    AD_EXPECT_INT(ad_state_dir_init(dir, err, sizeof(err)), ==, 0);
    AD_EXPECT(exists(dir, mine));
    AD_EXPECT(!exists(dir, gone));
    AD_EXPECT(exists(dir, "t-2.ckpt.tmp"));
    AD_EXPECT(exists(dir, "notes.tmp.x"));
    struct ad_state_loc loc = {.dir = dir, .topic = "t", .partition = 3};
    AD_EXPECT_INT(ad_state_write(&loc, "abc", 3, err, sizeof(err)), ==, 0);
    AD_EXPECT(exists(dir, "t-3.ckpt"));
    snprintf(mine, sizeof(mine), "t-3.ckpt.tmp.%d", (int)getpid());
    AD_EXPECT(!exists(dir, mine));
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

static int collect_store(void *ud, const char *store_dir)
{
    char *seen = ud;
    size_t n = strlen(seen);
    snprintf(seen + n, 512 - n, "%s;", strrchr(store_dir, '/') + 1);
    return strstr(store_dir, "spill-9") ? AD_EIO : 0; /* stops there */
}

/* The layout of state.dir that only ad_state.c knows: the checkpoint files
 * (sorted, not the .prev ones), the spill stores that exist (dir itself,
 * then spill-1..16 in order), the seed file. */
static void test_state_layout(void)
{
    char dir[] = "/tmp/ad_state_XXXXXX", path[256], seen[512] = "";
    AD_EXPECT(mkdtemp(dir) != NULL);
    touch(dir, "b-1.ckpt");
    touch(dir, "a-0.ckpt");
    touch(dir, "a-0.ckpt.prev");
    touch(dir, "x.ckpt.tmp.1");
    touch(dir, ".ckpt");
    struct ad_state_files f;
    AD_EXPECT_INT(ad_state_list_checkpoints(dir, &f), ==, 0);
    AD_EXPECT_UINT(f.n, ==, 2);
    snprintf(path, sizeof(path), "%s/a-0.ckpt", dir);
    AD_EXPECT_STR(f.paths[0], path);
    snprintf(path, sizeof(path), "%s/b-1.ckpt", dir);
    AD_EXPECT_STR(f.paths[1], path);
    ad_state_files_free(&f);
    AD_EXPECT_UINT(f.n, ==, 0);
    AD_EXPECT_INT(ad_state_list_checkpoints("/nonexistent-ad-dir", &f), ==, AD_EIO);

    AD_EXPECT_INT(ad_state_spill_dir(dir, 0, path, sizeof(path)), ==, 0);
    AD_EXPECT_STR(path, dir);
    AD_EXPECT_INT(ad_state_spill_dir(dir, 17, path, sizeof(path)), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_state_spill_dir(dir, 3, path, 8), ==, AD_ELIMIT);
    AD_EXPECT_INT(ad_state_foreach_spill(dir, collect_store, seen), ==, 0);
    AD_EXPECT_STR(seen, ""); /* no store anywhere */
    const int stores[] = {0, 2, 9, 16};
    for (size_t i = 0; i < 4; i++) {
        char sdir[256];
        AD_EXPECT_INT(ad_state_spill_dir(dir, stores[i], sdir, sizeof(sdir)), ==, 0);
        mkdir(sdir, 0750);
        touch(sdir, "evicted.mdb");
    }
    AD_EXPECT_INT(ad_state_foreach_spill(dir, collect_store, seen), ==, AD_EIO);
    char want[300];
    snprintf(want, sizeof(want), "%s;spill-2;spill-9;", strrchr(dir, '/') + 1);
    AD_EXPECT_STR(seen, want);

    AD_EXPECT_INT(ad_state_seed_path(dir, path, sizeof(path)), ==, 0);
    AD_EXPECT_CONTAINS(path, "/seed.m2.jsonl");
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

/* A stream output through a file descriptor writes what a buffer output
 * would hold, in chunks as it goes, and keeps the checksum of what it wrote;
 * a failed write fails the flush. */
static void test_fd_output(void)
{
    struct ad_buf whole;
    struct ad_out o;
    FILE *f = tmpfile();
    AD_EXPECT(f != NULL);
    ad_buf_init(&whole, (size_t)1 << 24);
    ad_out_fd(&o, fileno(f));
    for (int i = 0; i < 300000; i++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "line %d\n", i);
        AD_EXPECT_INT(ad_buf_add(o.buf, line, (size_t)n), ==, 0);
        AD_EXPECT_INT(ad_out_flush(&o, false), ==, 0);
        AD_EXPECT_INT(ad_buf_add(&whole, line, (size_t)n), ==, 0);
    }
    AD_EXPECT_UINT(o.written, >, 0); /* chunks went out before the end */
    AD_EXPECT_INT(ad_out_flush(&o, true), ==, 0);
    AD_EXPECT_UINT(ad_out_bytes(&o), ==, whole.len);
    AD_EXPECT_UINT(o.hash, ==, ad_fnv1a64(AD_FNV64_BASIS, whole.p, whole.len));
    ad_out_close(&o);
    char *got = malloc(whole.len);
    rewind(f);
    AD_EXPECT(got && fread(got, 1, whole.len, f) == whole.len);
    AD_EXPECT(memcmp(got, whole.p, whole.len) == 0);
    free(got);
    fclose(f);
    ad_buf_free(&whole);
    ad_out_fd(&o, -1);
    AD_EXPECT_INT(ad_buf_add(o.buf, "x", 1), ==, 0);
    AD_EXPECT_INT(ad_out_flush(&o, true), ==, AD_EIO);
    ad_out_close(&o);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_round_trip);
    AD_TEST_RUN(argc, argv, test_damage_detected);
    AD_TEST_RUN(argc, argv, test_version_mismatch);
    AD_TEST_RUN(argc, argv, test_clock_and_version_1);
    AD_TEST_RUN(argc, argv, test_stale_temps);
    AD_TEST_RUN(argc, argv, test_state_layout);
    AD_TEST_RUN(argc, argv, test_fd_output);
    return ad_test_done();
}
