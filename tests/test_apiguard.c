/* The REST API's admission rules: the key comparison and the per-client
 * count of requests in flight. */
#include <stdio.h>
#include <string.h>

#include "ad_test.h"

#include "ad_apiguard.h"
#include "ad_err.h"

static void test_key_equal(void)
{
    AD_EXPECT(ad_key_equal("s3cret", 6, "s3cret"));
    AD_EXPECT(!ad_key_equal("s3creT", 6, "s3cret"));
    AD_EXPECT(!ad_key_equal("s3cre", 5, "s3cret"));         /* a prefix */
    AD_EXPECT(!ad_key_equal("s3crets3cret", 12, "s3cret")); /* the key twice */
    AD_EXPECT(!ad_key_equal("s3cret\0", 7, "s3cret"));      /* a trailing NUL */
    AD_EXPECT(!ad_key_equal("", 0, "s3cret"));
    AD_EXPECT(!ad_key_equal("", 0, "")); /* an empty key accepts no one */
    AD_EXPECT(!ad_key_equal("x", 1, ""));
    /* Only glen bytes are read: the rest of the buffer does not matter. */
    AD_EXPECT(ad_key_equal("abcXYZ", 3, "abc"));
}

static void test_key_match(void)
{
    const char *keys[] = {"first-key", "second-key"};
    AD_EXPECT(ad_key_match("first-key", 9, keys, 2));
    AD_EXPECT(ad_key_match("second-key", 10, keys, 2));
    AD_EXPECT(!ad_key_match("third-key", 9, keys, 2));
    AD_EXPECT(!ad_key_match("first-key", 9, keys, 0));
}

static void test_clients(void)
{
    struct ad_clients *t = ad_clients_new();
    AD_EXPECT(t != NULL);
    AD_EXPECT_INT(ad_clients_acquire(t, "10.0.0.1", 2), ==, 0);
    AD_EXPECT_INT(ad_clients_acquire(t, "10.0.0.1", 2), ==, 0);
    AD_EXPECT_INT(ad_clients_acquire(t, "10.0.0.1", 2), ==, AD_EAGAIN);
    AD_EXPECT_UINT(ad_clients_count(t, "10.0.0.1"), ==, 2);
    /* Another client is not held back by the first. */
    AD_EXPECT_INT(ad_clients_acquire(t, "::1", 2), ==, 0);
    AD_EXPECT_UINT(ad_clients_size(t), ==, 2);
    ad_clients_release(t, "10.0.0.1");
    AD_EXPECT_INT(ad_clients_acquire(t, "10.0.0.1", 2), ==, 0);
    ad_clients_release(t, "10.0.0.1");
    ad_clients_release(t, "10.0.0.1");
    /* A client with nothing in flight leaves the table. */
    AD_EXPECT_UINT(ad_clients_count(t, "10.0.0.1"), ==, 0);
    AD_EXPECT_UINT(ad_clients_size(t), ==, 1);
    ad_clients_release(t, "10.0.0.1"); /* unknown: a no-op */
    ad_clients_release(t, "::1");
    AD_EXPECT_UINT(ad_clients_size(t), ==, 0);
    /* limit 0: no bound. */
    for (int i = 0; i < 1000; i++)
        AD_EXPECT_INT(ad_clients_acquire(t, "10.0.0.2", 0), ==, 0);
    AD_EXPECT_UINT(ad_clients_count(t, "10.0.0.2"), ==, 1000);
    ad_clients_free(t);
}

/* Many addresses share the buckets: counts stay per address. */
static void test_clients_many(void)
{
    struct ad_clients *t = ad_clients_new();
    char a[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(a, sizeof(a), "10.1.%d.%d", i / 256, i % 256);
        AD_EXPECT_INT(ad_clients_acquire(t, a, 1), ==, 0);
    }
    AD_EXPECT_UINT(ad_clients_size(t), ==, 2000);
    for (int i = 0; i < 2000; i += 2) {
        snprintf(a, sizeof(a), "10.1.%d.%d", i / 256, i % 256);
        AD_EXPECT_INT(ad_clients_acquire(t, a, 1), ==, AD_EAGAIN);
        ad_clients_release(t, a);
    }
    AD_EXPECT_UINT(ad_clients_size(t), ==, 1000);
    AD_EXPECT_UINT(ad_clients_count(t, "10.1.0.1"), ==, 1);
    AD_EXPECT_UINT(ad_clients_count(t, "10.1.0.0"), ==, 0);
    ad_clients_free(t); /* frees entries still counted */
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_key_equal);
    AD_TEST_RUN(argc, argv, test_key_match);
    AD_TEST_RUN(argc, argv, test_clients);
    AD_TEST_RUN(argc, argv, test_clients_many);
    return ad_test_done();
}
