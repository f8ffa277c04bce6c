/* state.dir: a checkpoint is restored only into the partition, topic, group
 * and cluster it was written for (others are moved aside), and one daemon at
 * a time holds the directory. */
#include "ad_test.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ad_checkpoint.h"
#include "ad_err.h"
#include "ad_state.h"

static void mkdir_tmp(char *dir)
{
    AD_EXPECT(mkdtemp(dir) != NULL);
}

static void rm_rf(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

/* Writes a one-series checkpoint of (topic, partition) resuming at offset as
 * the file of loc (which may be another partition's). */
static void write_ckpt_of(const struct ad_state_loc *loc, const char *topic, int32_t partition,
                          int64_t offset, const char *cluster, const char *group)
{
    struct ad_ckpt_header h = {.fingerprint = 7, .offset = offset, .partition = partition};
    snprintf(h.cluster, sizeof(h.cluster), "%s", cluster);
    snprintf(h.group, sizeof(h.group), "%s", group);
    struct ad_series_state st = {.key = "k1", .key_len = 2, .life = {3, 1.0, 0.5}, .model_off = -1};
    struct ad_buf b;
    char err[256];
    snprintf(h.topic, sizeof(h.topic), "%s", topic);
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_ckpt_one(&b, &h, &st, "temp"), ==, 0);
    AD_EXPECT_INT(ad_state_write(loc, b.p, b.len, err, sizeof(err)), ==, 0);
    ad_buf_free(&b);
}

static void write_ckpt(const struct ad_state_loc *loc, const char *topic, int32_t partition,
                       int64_t offset)
{
    write_ckpt_of(loc, topic, partition, offset, "", "");
}

static int count_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    (void)st;
    (void)metric;
    (*(int *)ud)++;
    return 0;
}

/* Files of dir whose name starts with prefix. */
static int count_files(const char *dir, const char *prefix)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    int n = 0;
    AD_EXPECT(dh != NULL);
    while (dh && (e = readdir(dh)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (dh)
        closedir(dh);
    return n;
}

/* Issue 17 item 5: sensor-raw-0.ckpt and sensor-raw-1.ckpt swapped. Neither
 * is restored into the other partition; both are moved aside. */
static void test_swapped_partitions(void)
{
    char dir[] = "/tmp/ad_state_XXXXXX";
    mkdir_tmp(dir);
    struct ad_state_loc p0 = {.dir = dir, .topic = "sensor-raw", .partition = 0},
                        p1 = {.dir = dir, .topic = "sensor-raw", .partition = 1};
    write_ckpt(&p0, "sensor-raw", 1, 500); /* partition 1's state in partition 0's file */
    write_ckpt(&p1, "sensor-raw", 0, 100);
    struct ad_ckpt_header h;
    int n = 0;
    AD_EXPECT_INT(ad_state_load(&p0, 7, -1, &h, count_series, &n), ==, AD_ENOENT);
    AD_EXPECT_INT(ad_state_load(&p1, 7, -1, &h, count_series, &n), ==, AD_ENOENT);
    AD_EXPECT_INT(n, ==, 0);
    AD_EXPECT_INT(count_files(dir, "sensor-raw-0.ckpt.mismatch-"), ==, 1);
    AD_EXPECT_INT(count_files(dir, "sensor-raw-1.ckpt.mismatch-"), ==, 1);
    AD_EXPECT_INT(count_files(dir, "sensor-raw-0.ckpt"), ==, 1); /* only the moved one */
    /* Another topic's file under this name is refused the same way. */
    write_ckpt(&p0, "sensor-other", 0, 9);
    AD_EXPECT_INT(ad_state_load(&p0, 7, -1, &h, count_series, &n), ==, AD_ENOENT);
    AD_EXPECT_INT(n, ==, 0);
    /* The right file is restored (the control). */
    write_ckpt(&p0, "sensor-raw", 0, 42);
    AD_EXPECT_INT(ad_state_load(&p0, 7, -1, &h, count_series, &n), ==, 0);
    AD_EXPECT_INT(n, ==, 1);
    AD_EXPECT_INT(h.offset, ==, 42);
    rm_rf(dir);
}

/* Issue 17 item 1: the identity is kept in the header (version 4); a file
 * of another cluster or group is moved aside, one without identity (older
 * versions) is restored, and an unknown cluster id checks the group only. */
static void test_identity(void)
{
    char dir[] = "/tmp/ad_state_XXXXXX";
    mkdir_tmp(dir);
    struct ad_state_loc loc = {.dir = dir,
                               .topic = "sensor-raw",
                               .partition = 2,
                               .cluster = "clusterA",
                               .group = "g1"};
    struct ad_ckpt_header h;
    int n = 0;
    write_ckpt_of(&loc, "sensor-raw", 2, 10, "clusterA", "g1");
    AD_EXPECT_INT(ad_state_load(&loc, 7, -1, &h, count_series, &n), ==, 0);
    AD_EXPECT_STR(h.cluster, "clusterA");
    AD_EXPECT_STR(h.group, "g1");
    AD_EXPECT_INT(n, ==, 1);
    write_ckpt_of(&loc, "sensor-raw", 2, 11, "clusterB", "g1"); /* a fresh cluster */
    /* Refused and moved aside; the previous file (this cluster's) is used. */
    AD_EXPECT_INT(ad_state_load(&loc, 7, -1, &h, count_series, &n), ==, 0);
    AD_EXPECT_INT(h.offset, ==, 10);
    AD_EXPECT_INT(count_files(dir, "sensor-raw-2.ckpt.mismatch-"), ==, 1);
    write_ckpt_of(&loc, "sensor-raw", 2, 12, "clusterA", "g2"); /* another group */
    AD_EXPECT_INT(ad_state_load(&loc, 7, -1, &h, count_series, &n), ==, 0);
    AD_EXPECT_INT(h.offset, ==, 10);
    /* Moved aside again (within the same second: under another name). */
    AD_EXPECT_INT(count_files(dir, "sensor-raw-2.ckpt.mismatch-"), ==, 2);
    char prev[256];
    snprintf(prev, sizeof(prev), "%s/sensor-raw-2.ckpt.prev", dir);
    AD_EXPECT_INT(unlink(prev), ==, 0);
    write_ckpt_of(&loc, "sensor-raw", 2, 12, "clusterB", "g2");
    n = 0;
    AD_EXPECT_INT(ad_state_load(&loc, 7, -1, &h, count_series, &n), ==, AD_ENOENT);
    AD_EXPECT_INT(n, ==, 0);
    /* Without identity (an older version's file): restored. */
    write_ckpt_of(&loc, "sensor-raw", 2, 13, "", "");
    AD_EXPECT_INT(ad_state_load(&loc, 7, -1, &h, count_series, &n), ==, 0);
    AD_EXPECT_INT(h.offset, ==, 13);
    /* The cluster id not known: the group decides. */
    struct ad_state_loc nocl = loc;
    nocl.cluster = "";
    write_ckpt_of(&loc, "sensor-raw", 2, 14, "clusterA", "g1");
    AD_EXPECT_INT(ad_state_load(&nocl, 7, -1, &h, count_series, &n), ==, 0);
    AD_EXPECT_INT(h.offset, ==, 14);
    nocl.group = "g9"; /* g1's file is refused, the previous one (no identity) used */
    AD_EXPECT_INT(ad_state_load(&nocl, 7, -1, &h, count_series, &n), ==, 0);
    AD_EXPECT_INT(h.offset, ==, 13);
    rm_rf(dir);
}

/* A long identity is cut, never overflows, and round-trips cut. */
static void test_identity_long(void)
{
    struct ad_ckpt_header h = {.partition = 1}, r;
    struct ad_buf b;
    char err[128];
    memset(h.group, 'g', sizeof(h.group) - 1);
    h.group[sizeof(h.group) - 1] = '\0';
    snprintf(h.cluster, sizeof(h.cluster), "c");
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_ckpt_begin(&b, &h), ==, 0);
    AD_EXPECT_INT(ad_ckpt_finish(&b, 0), ==, 0);
    AD_EXPECT_INT(ad_ckpt_check(b.p, b.len, &r, err, sizeof(err)), ==, 0);
    AD_EXPECT_UINT(strlen(r.group), ==, AD_CKPT_ID_MAX);
    AD_EXPECT_STR(r.cluster, "c");
    ad_buf_free(&b);
}

/* Runs ad_state_lock(dir) in a child: its result code (0, or 100 + -rc),
 * with the message in err. */
static int lock_in_child(const char *dir, char *err, size_t errlen)
{
    int pfd[2], status = 0;
    AD_EXPECT_INT(pipe(pfd), ==, 0);
    pid_t c = fork();
    if (c == 0) {
        char e[512] = "";
        int fd = -1, rc = ad_state_lock(dir, &fd, e, sizeof(e));
        if (write(pfd[1], e, strlen(e) + 1) < 0)
            _exit(99);
        _exit(rc ? 100 - rc : 0);
    }
    close(pfd[1]);
    ssize_t n = read(pfd[0], err, errlen - 1);
    err[n > 0 ? n : 0] = '\0';
    close(pfd[0]);
    while (waitpid(c, &status, 0) < 0) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Issue 17 item 1: one process holds state.dir; another is refused naming
 * the holder's pid (AD_ECONFIG: exit 78); a dead holder's file does not
 * block, and neither does a released lock. */
static void test_lock(void)
{
    char dir[] = "/tmp/ad_state_XXXXXX", err[512], want[64];
    int fd = -1;
    mkdir_tmp(dir);
    AD_EXPECT_INT(lock_in_child(dir, err, sizeof(err)), ==, 0); /* it died: the file stays */
    AD_EXPECT_INT(ad_state_lock(dir, &fd, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(lock_in_child(dir, err, sizeof(err)), ==, 100 - AD_ECONFIG);
    snprintf(want, sizeof(want), "pid %ld", (long)getpid());
    AD_EXPECT_CONTAINS(err, want);
    AD_EXPECT_CONTAINS(err, dir);
    ad_state_unlock(fd);
    AD_EXPECT_INT(lock_in_child(dir, err, sizeof(err)), ==, 0);
    rm_rf(dir);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_swapped_partitions);
    AD_TEST_RUN(argc, argv, test_identity);
    AD_TEST_RUN(argc, argv, test_identity_long);
    AD_TEST_RUN(argc, argv, test_lock);
    return ad_test_done();
}
