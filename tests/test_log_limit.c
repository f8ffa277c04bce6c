/* test_log_limit.c - the log's throttle (ad_log_limit_allow): a burst per
 * window, the window opened by the first call after the last one ended,
 * and the count of calls left out handed to that call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_log.h"
#include "ad_test.h"

/* burst 1: the first call, then one a period with the count left out. */
static void test_burst_one(void)
{
    struct ad_log_limit l = {0};
    uint64_t left = 99;
    AD_EXPECT(ad_log_limit_allow(&l, 1000, 1, 60000, &left));
    AD_EXPECT_UINT(left, ==, 0);
    for (int i = 0; i < 7; i++) {
        AD_EXPECT(!ad_log_limit_allow(&l, 1000 + i * 1000, 1, 60000, &left));
        AD_EXPECT_UINT(left, ==, 0);
    }
    AD_EXPECT(!ad_log_limit_allow(&l, 60999, 1, 60000, &left)); /* one ms short */
    AD_EXPECT(ad_log_limit_allow(&l, 61000, 1, 60000, &left));
    AD_EXPECT_UINT(left, ==, 8);
    AD_EXPECT_INT(l.window_ms, ==, 61000);
    /* A quiet period: the next one is logged with nothing left out. */
    AD_EXPECT(ad_log_limit_allow(&l, 500000, 1, 60000, &left));
    AD_EXPECT_UINT(left, ==, 0);
}

/* A burst per window; left_out may be NULL. */
static void test_burst_window(void)
{
    struct ad_log_limit l = {0};
    uint64_t left = 0;
    for (int i = 0; i < 5; i++) {
        AD_EXPECT(ad_log_limit_allow(&l, 10 + i, 5, 60000, NULL));
        AD_EXPECT_UINT(l.logged, ==, (unsigned)i + 1);
    }
    AD_EXPECT(!ad_log_limit_allow(&l, 20, 5, 60000, NULL));
    AD_EXPECT(!ad_log_limit_allow(&l, 60009, 5, 60000, &left));
    AD_EXPECT_UINT(left, ==, 0);
    /* The window opened at 10: from 60010 on a new one, with the two left out. */
    AD_EXPECT(ad_log_limit_allow(&l, 60010, 5, 60000, &left));
    AD_EXPECT_UINT(left, ==, 2);
    AD_EXPECT_UINT(l.logged, ==, 1);
    for (int i = 0; i < 4; i++)
        AD_EXPECT(ad_log_limit_allow(&l, 60011, 5, 60000, &left));
    AD_EXPECT_UINT(left, ==, 0);
    AD_EXPECT(!ad_log_limit_allow(&l, 60012, 5, 60000, &left));
}

/* The first call is allowed whatever the clock says (0 or negative). */
static void test_first_call(void)
{
    struct ad_log_limit l = {0};
    uint64_t left = 1;
    AD_EXPECT(ad_log_limit_allow(&l, 0, 1, 60000, &left));
    AD_EXPECT_UINT(left, ==, 0);
    AD_EXPECT(!ad_log_limit_allow(&l, 0, 1, 60000, &left));
    struct ad_log_limit m = {0};
    AD_EXPECT(ad_log_limit_allow(&m, -5, 3, 1000, &left));
    AD_EXPECT(ad_log_limit_allow(&m, -4, 3, 1000, &left));
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_burst_one);
    AD_TEST_RUN(argc, argv, test_burst_window);
    AD_TEST_RUN(argc, argv, test_first_call);
    return ad_test_done();
}
