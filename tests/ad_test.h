/* ad_test.h - a tiny unit-test harness: typed asserts that print both sides,
 * each test run in a forked child with a timeout (as libuv's runner does), so
 * a crash or a hang fails one test and the others still run.
 *
 *   static void test_foo(void) { AD_EXPECT_INT(1 + 1, ==, 2); }
 *   int main(int argc, char **argv) { AD_TEST_RUN(argc, argv, test_foo); return ad_test_done(); }
 *
 * Running a test binary with a test name as argument runs only that test,
 * in-process (handy under gdb). */
#ifndef AD_TEST_H
#define AD_TEST_H

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AD_TEST_TIMEOUT_S
#define AD_TEST_TIMEOUT_S 60
#endif

static int ad_test_failed_;
static int ad_test_passed_;

/* Seeded test data: a 64-bit LCG (the same numbers on every platform) and a
 * Box-Muller normal deviate drawn from it. Seed by assigning ad_test_rng. */
static uint64_t ad_test_rng;

static inline double ad_test_unif(void)
{
    ad_test_rng = ad_test_rng * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(ad_test_rng >> 11) + 0.5) / 9007199254740992.0;
}

static inline double ad_test_gauss(void)
{
    return sqrt(-2.0 * log(ad_test_unif())) * cos(6.283185307179586 * ad_test_unif());
}

#define AD_FAIL_(...)                                                                              \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)

#define AD_EXPECT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            AD_FAIL_("expected %s", #cond);                                                        \
    } while (0)

#define AD_EXPECT_INT(a, op, b)                                                                    \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (!(a_ op b_))                                                                           \
            AD_FAIL_("expected %s %s %s: %lld vs %lld", #a, #op, #b, a_, b_);                      \
    } while (0)

#define AD_EXPECT_UINT(a, op, b)                                                                   \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);             \
        if (!(a_ op b_))                                                                           \
            AD_FAIL_("expected %s %s %s: %llu vs %llu", #a, #op, #b, a_, b_);                      \
    } while (0)

/* |a - b| <= tol * max(1, |b|) */
#define AD_EXPECT_NEAR(a, b, tol)                                                                  \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b), s_ = fabs(b_) > 1 ? fabs(b_) : 1;               \
        if (!(fabs(a_ - b_) <= (tol)*s_))                                                          \
            AD_FAIL_("expected %s ~= %s: %.17g vs %.17g", #a, #b, a_, b_);                         \
    } while (0)

#define AD_EXPECT_STR(a, b)                                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            AD_FAIL_("expected %s == %s:\n  got:  \"%s\"\n  want: \"%s\"", #a, #b,                 \
                     a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                      \
    } while (0)

#define AD_EXPECT_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_))                                                                \
            AD_FAIL_("expected %s to contain \"%s\":\n  got: \"%s\"", #hay, n_,                    \
                     h_ ? h_ : "(null)");                                                          \
    } while (0)

static inline void ad_test_one_(const char *name, void (*fn)(void), int only)
{
    if (only) {
        fn();
        printf("ok %s\n", name);
        ad_test_passed_++;
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(AD_TEST_TIMEOUT_S);
        fn();
        fflush(stdout);
        exit(0); /* not _exit: LeakSanitizer checks at exit */
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        printf("ok %s\n", name);
        ad_test_passed_++;
    } else {
        if (WIFSIGNALED(st))
            printf("FAIL %s (signal %d%s)\n", name, WTERMSIG(st),
                   WTERMSIG(st) == SIGALRM ? ", timeout" : "");
        else
            printf("FAIL %s (exit %d)\n", name, WEXITSTATUS(st));
        ad_test_failed_++;
    }
    fflush(stdout);
}

#define AD_TEST_RUN(argc, argv, fn)                                                                \
    do {                                                                                           \
        if ((argc) < 2 || strcmp((argv)[1], #fn) == 0)                                             \
            ad_test_one_(#fn, fn, (argc) >= 2);                                                    \
    } while (0)

static inline int ad_test_done(void)
{
    printf("%d passed, %d failed\n", ad_test_passed_, ad_test_failed_);
    return ad_test_failed_ ? 1 : 0;
}

#ifndef AD_TEST_DATA_DIR
#define AD_TEST_DATA_DIR "tests/data"
#endif

/* Path of a file under tests/data (AD_TEST_DATA_DIR is set by CMake). */
static inline const char *ad_test_data(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", AD_TEST_DATA_DIR, rel);
    return path;
}

#endif
