/* test_sink.c - the alert log (append, one write per line, reopen after a
 * logrotate-style rename, errors, counters) and ad_write_all(). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ad_err.h"
#include "ad_sink.h"
#include "ad_test.h"

static char tmpdir[256];

/* A fresh directory per test, removed (with its files) by cleanup_dir(). */
static void make_dir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/ad_test_sink.XXXXXX", base && *base ? base : "/tmp");
    AD_EXPECT(mkdtemp(tmpdir) != NULL);
}

static const char *path_in(const char *name)
{
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof(p[i]), "%s/%s", tmpdir, name);
    return p[i];
}

static void cleanup_dir(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

/* Reads a whole file into a NUL-terminated malloc'd string. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    AD_EXPECT(f != NULL);
    size_t cap = 4096, n = 0, r;
    char *p = malloc(cap);
    while ((r = fread(p + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap)
            p = realloc(p, cap *= 2);
        AD_EXPECT(p != NULL);
    }
    fclose(f);
    p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

/* Every line of the file is a complete JSON object; returns how many. */
static size_t count_json_lines(const char *path)
{
    size_t len, lines = 0;
    char *p = slurp(path, &len);
    AD_EXPECT(len == 0 || p[len - 1] == '\n');
    for (char *s = p, *nl; s < p + len; s = nl + 1) {
        nl = memchr(s, '\n', (size_t)(p + len - s));
        AD_EXPECT(nl != NULL);
        json_error_t jerr;
        json_t *j = json_loadb(s, (size_t)(nl - s), 0, &jerr);
        if (!j || !json_is_object(j))
            AD_FAIL_("%s: line %zu is not a JSON object: %.*s", path, lines + 1, (int)(nl - s), s);
        json_decref(j);
        lines++;
    }
    free(p);
    return lines;
}

static void write_line(struct ad_alert_log *log, const char *s)
{
    AD_EXPECT_INT(ad_alert_log_write(log, s, strlen(s)), ==, 0);
}

static void test_write_lines(void)
{
    struct ad_alert_log *log = NULL;
    char err[256] = "";
    struct stat st;

    make_dir();
    umask(022);
    AD_EXPECT_INT(ad_alert_log_open(path_in("alerts.jsonl"), &log, err, sizeof(err)), ==, 0);
    AD_EXPECT(log != NULL);
    AD_EXPECT_INT(stat(path_in("alerts.jsonl"), &st), ==, 0);
    AD_EXPECT_INT(st.st_mode & 0777, ==, 0640);

    write_line(log, "{\"a\":1}\n");
    write_line(log, "{\"a\":2}\n");
    AD_EXPECT_UINT(ad_alert_log_lines(log), ==, 2);
    AD_EXPECT_UINT(ad_alert_log_failures(log), ==, 0);

    /* Not a complete line: refused, nothing written, counted. */
    AD_EXPECT_INT(ad_alert_log_write(log, "{\"a\":3}", 7), ==, AD_EINVAL);
    AD_EXPECT_INT(ad_alert_log_write(log, "", 0), ==, AD_EINVAL);
    AD_EXPECT_UINT(ad_alert_log_failures(log), ==, 2);
    AD_EXPECT_UINT(ad_alert_log_lines(log), ==, 2);
    ad_alert_log_close(log);

    /* Opening again appends, never truncates. */
    AD_EXPECT_INT(ad_alert_log_open(path_in("alerts.jsonl"), &log, err, sizeof(err)), ==, 0);
    AD_EXPECT_UINT(ad_alert_log_lines(log), ==, 0);
    write_line(log, "{\"a\":4}\n");
    ad_alert_log_close(log);

    char *p = slurp(path_in("alerts.jsonl"), NULL);
    AD_EXPECT_STR(p, "{\"a\":1}\n{\"a\":2}\n{\"a\":4}\n");
    free(p);
    ad_alert_log_close(NULL);
    cleanup_dir();
}

static void test_close_on_exec(void)
{
    struct ad_alert_log *log = NULL;
    char err[256];

    make_dir();
    /* The descriptor is the lowest free one after open: find it via a dup. */
    int probe = dup(0);
    AD_EXPECT(probe >= 0);
    close(probe);
    AD_EXPECT_INT(ad_alert_log_open(path_in("a.jsonl"), &log, err, sizeof(err)), ==, 0);
    int flags = fcntl(probe, F_GETFD);
    AD_EXPECT(flags >= 0);
    AD_EXPECT(flags & FD_CLOEXEC);
    int fl = fcntl(probe, F_GETFL);
    AD_EXPECT(fl & O_APPEND);
    AD_EXPECT_INT(fl & O_ACCMODE, ==, O_WRONLY);
    ad_alert_log_close(log);
    cleanup_dir();
}

static void test_reopen_after_rename(void)
{
    struct ad_alert_log *log = NULL;
    char err[256] = "";

    make_dir();
    const char *path = path_in("alerts.jsonl"), *rotated = path_in("alerts.jsonl.1");
    AD_EXPECT_INT(ad_alert_log_open(path, &log, err, sizeof(err)), ==, 0);
    write_line(log, "{\"before\":1}\n");

    /* logrotate: rename, then signal the daemon; lines written in between
     * still go to the renamed file. */
    AD_EXPECT_INT(rename(path, rotated), ==, 0);
    write_line(log, "{\"before\":2}\n");
    AD_EXPECT_INT(access(path, F_OK), ==, -1);

    AD_EXPECT_INT(ad_alert_log_reopen(log, err, sizeof(err)), ==, 0);
    write_line(log, "{\"after\":1}\n");
    write_line(log, "{\"after\":2}\n");
    AD_EXPECT_UINT(ad_alert_log_lines(log), ==, 4);
    ad_alert_log_close(log);

    char *old = slurp(rotated, NULL), *cur = slurp(path, NULL);
    AD_EXPECT_STR(old, "{\"before\":1}\n{\"before\":2}\n");
    AD_EXPECT_STR(cur, "{\"after\":1}\n{\"after\":2}\n");
    free(old);
    free(cur);
    AD_EXPECT_UINT(count_json_lines(rotated), ==, 2);
    AD_EXPECT_UINT(count_json_lines(path), ==, 2);
    cleanup_dir();
}

static void test_reopen_failure_keeps_old_fd(void)
{
    struct ad_alert_log *log = NULL;
    char err[256] = "", path[1024], moved[1024], dir2[512];

    make_dir();
    snprintf(dir2, sizeof(dir2), "%s/logs", tmpdir);
    AD_EXPECT_INT(mkdir(dir2, 0700), ==, 0);
    snprintf(path, sizeof(path), "%s/alerts.jsonl", dir2);
    snprintf(moved, sizeof(moved), "%s/gone", tmpdir);
    AD_EXPECT_INT(ad_alert_log_open(path, &log, err, sizeof(err)), ==, 0);
    write_line(log, "{\"n\":1}\n");

    /* The directory disappears: reopen fails, the old file keeps working. */
    AD_EXPECT_INT(rename(dir2, moved), ==, 0);
    AD_EXPECT_INT(ad_alert_log_reopen(log, err, sizeof(err)), ==, AD_EIO);
    char want[1200];
    snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
    AD_EXPECT_STR(err, want);
    write_line(log, "{\"n\":2}\n");
    ad_alert_log_close(log);

    char *p = slurp(path_in("gone/alerts.jsonl"), NULL);
    AD_EXPECT_STR(p, "{\"n\":1}\n{\"n\":2}\n");
    free(p);
    cleanup_dir();
}

static void test_open_errors(void)
{
    static char dummy;
    struct ad_alert_log *log = (struct ad_alert_log *)(void *)&dummy; /* stays untouched */
    struct ad_alert_log *const sentinel = log;
    char err[256] = "", want[1200];

    make_dir();
    const char *missing = path_in("no/such/dir/alerts.jsonl");
    AD_EXPECT_INT(ad_alert_log_open(missing, &log, err, sizeof(err)), ==, AD_EIO);
    snprintf(want, sizeof(want), "%s: %s", missing, strerror(ENOENT));
    AD_EXPECT_STR(err, want);
    AD_EXPECT(log == sentinel);

    /* A regular file where a directory should be. */
    FILE *f = fopen(path_in("file"), "w");
    AD_EXPECT(f != NULL);
    fclose(f);
    const char *under_file = path_in("file/alerts.jsonl");
    AD_EXPECT_INT(ad_alert_log_open(under_file, &log, err, sizeof(err)), ==, AD_EIO);
    snprintf(want, sizeof(want), "%s: %s", under_file, strerror(ENOTDIR));
    AD_EXPECT_STR(err, want);

    /* A directory as the log. */
    AD_EXPECT_INT(ad_alert_log_open(tmpdir, &log, err, sizeof(err)), ==, AD_EIO);
    snprintf(want, sizeof(want), "%s: %s", tmpdir, strerror(EISDIR));
    AD_EXPECT_STR(err, want);

    /* Read-only directory (meaningless as root, who may write anyway). */
    if (geteuid() != 0) {
        char ro[1024];
        snprintf(ro, sizeof(ro), "%s/ro", tmpdir);
        AD_EXPECT_INT(mkdir(ro, 0500), ==, 0);
        const char *denied = path_in("ro/alerts.jsonl");
        AD_EXPECT_INT(ad_alert_log_open(denied, &log, err, sizeof(err)), ==, AD_EIO);
        snprintf(want, sizeof(want), "%s: %s", denied, strerror(EACCES));
        AD_EXPECT_STR(err, want);
    }

    AD_EXPECT_INT(ad_alert_log_open("", &log, err, sizeof(err)), ==, AD_EINVAL);
    AD_EXPECT_CONTAINS(err, "empty path");
    AD_EXPECT(log == sentinel);
    cleanup_dir();
}

/* A JSON line of varying length (some longer than a pipe buffer). */
static size_t make_line(char *buf, size_t cap, int writer, int i)
{
    int pad = (i * 7919 + writer * 131) % 3000;
    int n = snprintf(buf, cap, "{\"writer\":%d,\"i\":%d,\"pad\":\"", writer, i);
    for (int k = 0; k < pad; k++)
        buf[n++] = (char)('a' + (i + k) % 26);
    n += snprintf(buf + n, cap - (size_t)n, "\"}\n");
    return (size_t)n;
}

static void test_many_lines_complete(void)
{
    enum { WRITERS = 4, LINES = 2000 };
    char err[256] = "";

    make_dir();
    const char *path = path_in("alerts.jsonl");

    /* Several processes append to the same log at once, as a daemon and a
     * replay might: with O_APPEND and one write() per line no line tears. */
    for (int w = 0; w < WRITERS; w++) {
        pid_t pid = fork();
        AD_EXPECT(pid >= 0);
        if (pid == 0) {
            struct ad_alert_log *log = NULL;
            static char line[4096];
            if (ad_alert_log_open(path, &log, err, sizeof(err)) != 0)
                _exit(2);
            for (int i = 0; i < LINES; i++) {
                size_t n = make_line(line, sizeof(line), w, i);
                if (ad_alert_log_write(log, line, n) != 0)
                    _exit(3);
                /* A rotation in the middle must not lose or tear lines. */
                if (w == 0 && i == LINES / 2 && ad_alert_log_reopen(log, err, sizeof(err)) != 0)
                    _exit(4);
            }
            if (ad_alert_log_lines(log) != LINES || ad_alert_log_failures(log) != 0)
                _exit(5);
            ad_alert_log_close(log);
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int st;
        AD_EXPECT(wait(&st) > 0);
        AD_EXPECT(WIFEXITED(st));
        AD_EXPECT_INT(WEXITSTATUS(st), ==, 0);
    }
    AD_EXPECT_UINT(count_json_lines(path), ==, WRITERS * LINES);

    /* Each writer's lines are all there, in order. */
    size_t len;
    char *p = slurp(path, &len);
    int next[WRITERS] = {0};
    for (char *s = p; s < p + len; s = strchr(s, '\n') + 1) {
        int w, i;
        AD_EXPECT_INT(sscanf(s, "{\"writer\":%d,\"i\":%d", &w, &i), ==, 2);
        AD_EXPECT(w >= 0 && w < WRITERS);
        AD_EXPECT_INT(i, ==, next[w]);
        char want[4096];
        size_t n = make_line(want, sizeof(want), w, i);
        AD_EXPECT(memcmp(s, want, n) == 0);
        next[w]++;
    }
    free(p);
    cleanup_dir();
}

static void test_short_write_reported(void)
{
    char err[256] = "";

    make_dir();
    const char *path = path_in("alerts.jsonl");
    pid_t pid = fork();
    AD_EXPECT(pid >= 0);
    if (pid == 0) {
        /* A 100-byte file size limit turns the second line into a short
         * write (and its completion into EFBIG). */
        struct rlimit rl = {100, 100};
        struct ad_alert_log *log = NULL;
        char line[61];
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(2);
        if (ad_alert_log_open(path, &log, err, sizeof(err)) != 0)
            _exit(3);
        memset(line, 'x', 60);
        line[59] = '\n';
        if (ad_alert_log_write(log, line, 60) != 0)
            _exit(4);
        if (ad_alert_log_write(log, line, 60) != AD_EIO)
            _exit(5);
        if (ad_alert_log_write(log, line, 60) != AD_EIO)
            _exit(6);
        if (ad_alert_log_lines(log) != 1 || ad_alert_log_failures(log) != 2)
            _exit(7);
        ad_alert_log_close(log);
        _exit(0);
    }
    int st;
    AD_EXPECT(waitpid(pid, &st, 0) == pid);
    AD_EXPECT(WIFEXITED(st));
    AD_EXPECT_INT(WEXITSTATUS(st), ==, 0);
    cleanup_dir();
}

static void test_write_all_nonblocking_pipe(void)
{
    enum { TOTAL = 4 << 20 };
    int fds[2];

    AD_EXPECT_INT(pipe(fds), ==, 0);
    pid_t pid = fork();
    AD_EXPECT(pid >= 0);
    if (pid == 0) {
        /* The reader checks every byte of the pattern, slowly at first. */
        close(fds[1]);
        char buf[1000];
        size_t got = 0;
        ssize_t r;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        while ((r = read(fds[0], buf, sizeof(buf))) > 0) {
            for (ssize_t k = 0; k < r; k++)
                if (buf[k] != (char)((got + (size_t)k) % 251))
                    _exit(2);
            got += (size_t)r;
        }
        _exit(got == TOTAL ? 0 : 3);
    }
    close(fds[0]);
    AD_EXPECT_INT(fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK), ==, 0);
    char *data = malloc(TOTAL);
    AD_EXPECT(data != NULL);
    for (size_t k = 0; k < TOTAL; k++)
        data[k] = (char)(k % 251);
    AD_EXPECT_INT(ad_write_all(fds[1], data, TOTAL), ==, 0);
    AD_EXPECT_INT(ad_write_all(fds[1], data, 0), ==, 0);
    close(fds[1]);
    free(data);
    int st;
    AD_EXPECT(waitpid(pid, &st, 0) == pid);
    AD_EXPECT(WIFEXITED(st));
    AD_EXPECT_INT(WEXITSTATUS(st), ==, 0);
}

static void test_write_all_errors(void)
{
    int fds[2];

    AD_EXPECT_INT(ad_write_all(-1, "x", 1), ==, AD_EIO);
    AD_EXPECT_INT(errno, ==, EBADF);

    /* Reader gone: EPIPE (SIGPIPE ignored, as the daemon does). */
    AD_EXPECT_INT(pipe(fds), ==, 0);
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    AD_EXPECT_INT(ad_write_all(fds[1], "x", 1), ==, AD_EIO);
    AD_EXPECT_INT(errno, ==, EPIPE);
    close(fds[1]);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_write_lines);
    AD_TEST_RUN(argc, argv, test_close_on_exec);
    AD_TEST_RUN(argc, argv, test_reopen_after_rename);
    AD_TEST_RUN(argc, argv, test_reopen_failure_keeps_old_fd);
    AD_TEST_RUN(argc, argv, test_open_errors);
    AD_TEST_RUN(argc, argv, test_many_lines_complete);
    AD_TEST_RUN(argc, argv, test_short_write_reported);
    AD_TEST_RUN(argc, argv, test_write_all_nonblocking_pipe);
    AD_TEST_RUN(argc, argv, test_write_all_errors);
    return ad_test_done();
}
