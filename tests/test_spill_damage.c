/* A damaged evicted series' store (issue 17 item 4): truncated, pages
 * overwritten with garbage, meta pages zeroed, bytes flipped. Opening it
 * either refuses it (AD_EPARSE, "damaged" and what in the message: the
 * daemon then moves it aside) or it works: no case may crash the process
 * (each runs in a child; a signal fails the test). */
#include "ad_test.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ad_err.h"
#include "ad_spill.h"

#define N_ENTRIES 4000
#define PSIZE     4096 /* LMDB's page size here (the system's) */

static char dir[64], path[128], pristine[128];

static void rm_tmp(void)
{
    unlink(path);
    unlink(pristine);
    rmdir(dir);
}

static void put_many(struct ad_spill *s, int from, int n, size_t vlen)
{
    char key[32], val[9000];
    memset(val, 'v', sizeof(val));
    for (int i = from; i < from + n; i++) {
        int kl = snprintf(key, sizeof(key), "series-%06d", i);
        size_t l = i % 97 == 0 ? 8500 : vlen; /* some on overflow pages */
        snprintf(val, 16, "%d", i);
        AD_EXPECT_INT(ad_spill_put(s, key, (size_t)kl, "temp", val, l), ==, 0);
    }
    AD_EXPECT_INT(ad_spill_commit(s), ==, 0);
}

/* A store of N_ENTRIES series over several transactions (so that it has
 * branch, leaf, overflow and free-list pages), copied to pristine. */
static void build(void)
{
    struct ad_spill *s = NULL;
    char err[256], cmd[300];
    snprintf(dir, sizeof(dir), "/tmp/ad_spilld_XXXXXX");
    AD_EXPECT(mkdtemp(dir) != NULL);
    atexit(rm_tmp);
    snprintf(path, sizeof(path), "%s/%s", dir, AD_SPILL_FILE);
    snprintf(pristine, sizeof(pristine), "%s/pristine", dir);
    AD_EXPECT_INT(ad_spill_open(dir, &s, err, sizeof(err)), ==, 0);
    for (int t = 0; t < 4; t++)
        put_many(s, t * N_ENTRIES / 4, N_ENTRIES / 4, 300);
    put_many(s, 0, N_ENTRIES / 2, 200); /* rewrites: pages freed */
    ad_spill_close(s);
    snprintf(cmd, sizeof(cmd), "cp %s %s", path, pristine);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

static off_t file_size(void)
{
    struct stat st;
    AD_EXPECT_INT(stat(path, &st), ==, 0);
    return st.st_size;
}

static void restore_pristine(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "cp %s %s", pristine, path);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

/* Overwrites len bytes at off: with garbage (seeded), or zeros. */
static void scribble(off_t off, size_t len, unsigned seed, bool zero)
{
    unsigned char buf[PSIZE * 4];
    int fd = open(path, O_WRONLY);
    AD_EXPECT(fd >= 0 && len <= sizeof(buf));
    srand(seed);
    for (size_t i = 0; i < len; i++)
        buf[i] = zero ? 0 : (unsigned char)rand();
    AD_EXPECT_INT(pwrite(fd, buf, len, off), ==, (ssize_t)len);
    close(fd);
}

static int visit(void *ud, const char *key, size_t key_len, const char *metric, const void *val,
                 size_t val_len)
{
    (void)key, (void)key_len, (void)metric, (void)val, (void)val_len;
    (*(int *)ud)++;
    return 0;
}

/* In a child: opens the store and, when it opens, uses it the way the
 * daemon and `model export` do. Exit 0: refused as damaged; 2: opened and
 * used; 3: refused otherwise; a signal: it crashed. */
static int use_store(char *err, size_t errlen)
{
    int pfd[2], st = 0;
    AD_EXPECT_INT(pipe(pfd), ==, 0);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        struct ad_spill *s = NULL;
        char e[512] = "";
        struct ad_buf b;
        int n = 0, rc = ad_spill_open(dir, &s, e, sizeof(e));
        if (write(pfd[1], e, strlen(e) + 1) < 0)
            _exit(9);
        if (rc)
            _exit(rc == AD_EPARSE && strstr(e, "damaged") ? 0 : 3);
        ad_buf_init(&b, 1 << 20);
        ad_spill_foreach(s, visit, &n);
        ad_spill_get(s, "series-000001", 13, "temp", &b);
        for (int i = 0; i < 3000; i++) {
            char key[32];
            int kl = snprintf(key, sizeof(key), "new-%d", i);
            ad_spill_put(s, key, (size_t)kl, "temp", "xyz", 3);
        }
        ad_spill_commit(s);
        ad_spill_close(s);
        ad_buf_free(&b);
        _exit(2);
    }
    close(pfd[1]);
    ssize_t n = read(pfd[0], err, errlen - 1);
    err[n > 0 ? n : 0] = '\0';
    close(pfd[0]);
    while (waitpid(c, &st, 0) < 0) {
    }
    if (WIFSIGNALED(st))
        return -WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* The damage must be refused as such, with what is wrong in the message. */
static void expect_refused(const char *what, const char *why)
{
    char err[512];
    int rc = use_store(err, sizeof(err));
    if (rc != 0)
        AD_FAIL_("%s: %s (%s)", what, rc < 0 ? "crashed" : rc == 2 ? "accepted" : "refused", err);
    AD_EXPECT_CONTAINS(err, why);
    restore_pristine();
}

static void test_pristine(void)
{
    char err[512];
    build();
    AD_EXPECT_INT(use_store(err, sizeof(err)), ==, 2); /* the control */
    AD_EXPECT_STR(err, "");
    char why[256];
    AD_EXPECT_INT(ad_spill_check_file(path, why, sizeof(why)), ==, 0);
}

static void test_truncated(void)
{
    build();
    off_t size = file_size();
    AD_EXPECT(size > 40 * PSIZE);
    AD_EXPECT_INT(truncate(path, size / 2), ==, 0);
    expect_refused("truncated to half", "truncated");
    AD_EXPECT_INT(truncate(path, size - PSIZE), ==, 0);
    expect_refused("last page cut", "truncated");
    AD_EXPECT_INT(truncate(path, 3 * PSIZE), ==, 0);
    expect_refused("3 pages left", "truncated");
    AD_EXPECT_INT(truncate(path, 100), ==, 0);
    expect_refused("100 bytes left", "meta page 0");
}

static void test_meta_zeroed(void)
{
    build();
    scribble(0, 2 * PSIZE, 0, true);
    expect_refused("both meta pages zeroed", "meta page 0");
    scribble(PSIZE, PSIZE, 0, true);
    expect_refused("meta page 1 zeroed", "meta page 1");
    scribble(0, 2 * PSIZE, 1, false);
    expect_refused("both meta pages garbage", "meta page 0");
}

/* Garbage over every single data page in turn, and over runs of pages. */
static void test_pages_garbage(void)
{
    build();
    off_t pages = file_size() / PSIZE;
    int refused = 0;
    for (off_t pg = 2; pg < pages; pg++) {
        char err[512];
        scribble(pg * PSIZE, PSIZE, (unsigned)pg, false);
        int rc = use_store(err, sizeof(err));
        if (rc < 0 || rc == 3)
            AD_FAIL_("garbage over page %lld: %s (%s)", (long long)pg,
                     rc < 0 ? "crashed" : "refused, not as damaged", err);
        refused += rc == 0;
        restore_pristine();
    }
    /* Pages not in use (freed) may be overwritten harmlessly; most are. */
    AD_EXPECT_INT(refused, >, (int)(pages / 2));
    printf("# garbage over one page: %d of %lld refused, the rest unused pages\n", refused,
           (long long)pages - 2);
    for (off_t pg = pages / 4; pg < pages * 3 / 4; pg += 4)
        scribble(pg * PSIZE, 4 * PSIZE, (unsigned)pg, false);
    expect_refused("garbage over the middle half", "damaged");
}

/* Page headers kept, contents damaged: single bytes flipped after the
 * header of every page (bounds, node offsets, sizes, child numbers). */
static void test_bytes_flipped(void)
{
    build();
    off_t pages = file_size() / PSIZE;
    for (unsigned seed = 1; seed <= 60; seed++) {
        char err[512];
        int fd = open(path, O_RDWR);
        AD_EXPECT(fd >= 0);
        srand(seed);
        for (off_t pg = 2; pg < pages; pg++) {
            unsigned char b;
            off_t at = pg * PSIZE + 8 + rand() % (seed < 30 ? 24 : PSIZE - 8);
            AD_EXPECT_INT(pread(fd, &b, 1, at), ==, 1);
            b ^= (unsigned char)(1u << (rand() % 8));
            AD_EXPECT_INT(pwrite(fd, &b, 1, at), ==, 1);
        }
        close(fd);
        int rc = use_store(err, sizeof(err));
        if (rc < 0 || rc == 3)
            AD_FAIL_("bytes flipped (seed %u): %s (%s)", seed,
                     rc < 0 ? "crashed" : "refused, not as damaged", err);
        restore_pristine();
    }
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_pristine);
    AD_TEST_RUN(argc, argv, test_truncated);
    AD_TEST_RUN(argc, argv, test_meta_zeroed);
    AD_TEST_RUN(argc, argv, test_pages_garbage);
    AD_TEST_RUN(argc, argv, test_bytes_flipped);
    return ad_test_done();
}
