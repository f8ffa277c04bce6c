/* test_htab.c - the open-addressing hash table against a plain array: adds,
 * finds, deletions (backward shift) and replacements, with distinct hashes
 * and with many values under one hash. */
#include <stdbool.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_htab.h"
#include "ad_test.h"

#define N 5000

static int vals[N];

static bool eq_int(const void *val, const void *key)
{
    return *(const int *)val == *(const int *)key;
}

/* The hash of i; with few_hashes, only 7 distinct hashes in all. */
static uint64_t hash_of(int i, bool few_hashes)
{
    int k = few_hashes ? i % 7 : i;
    return ad_fnv1a64(AD_FNV64_BASIS, &k, sizeof(k));
}

static void check_all(const struct ad_htab *t, const bool *in, bool few_hashes)
{
    for (int i = 0; i < N; i++) {
        int *v = ad_htab_find(t, hash_of(i, few_hashes), eq_int, &i);
        AD_EXPECT(in[i] ? v == &vals[i] : v == NULL);
    }
}

static void run(bool few_hashes)
{
    static bool in[N];
    struct ad_htab t = {0};
    int n = few_hashes ? 300 : N;
    for (int i = 0; i < N; i++) {
        vals[i] = i;
        in[i] = false;
    }
    for (int i = 0; i < n; i++) {
        AD_EXPECT_INT(ad_htab_put(&t, hash_of(i, few_hashes), &vals[i]), ==, 0);
        in[i] = true;
    }
    AD_EXPECT_UINT(t.n, ==, n);
    AD_EXPECT_UINT(t.n * 4, <=, (t.mask + 1) * 3);
    check_all(&t, in, few_hashes);
    for (int i = 0; i < n; i += 3) { /* every third goes */
        AD_EXPECT(ad_htab_del(&t, hash_of(i, few_hashes), &vals[i]));
        AD_EXPECT(!ad_htab_del(&t, hash_of(i, few_hashes), &vals[i]));
        in[i] = false;
    }
    check_all(&t, in, few_hashes);
    int other = 1;
    AD_EXPECT(ad_htab_replace(&t, hash_of(1, few_hashes), &vals[1], &other));
    AD_EXPECT(ad_htab_find(&t, hash_of(1, few_hashes), eq_int, &other) == &other);
    AD_EXPECT(ad_htab_replace(&t, hash_of(1, few_hashes), &other, &vals[1]));
    for (int i = 0; i < n; i += 3) { /* and come back */
        AD_EXPECT_INT(ad_htab_put(&t, hash_of(i, few_hashes), &vals[i]), ==, 0);
        in[i] = true;
    }
    check_all(&t, in, few_hashes);
    ad_htab_free(&t);
    ad_htab_free(&t); /* a freed table is a zeroed one */
}

static void test_distinct_hashes(void)
{
    run(false);
}

static void test_shared_hashes(void)
{
    run(true);
}

/* When growing fails the table still takes entries up to 7/8 full, then
 * refuses them and is unchanged. */
static void test_grow_failure(void)
{
    struct ad_htab t;
    AD_EXPECT_INT(ad_htab_init(&t, 8), ==, 0);
    ad_alloc_fail_at(1, true);
    int i;
    for (i = 0; i < 8; i++)
        if (ad_htab_put(&t, hash_of(i, false), &vals[i]) != 0)
            break;
    ad_alloc_fail_at(0, false);
    AD_EXPECT_INT(i, ==, 7);
    AD_EXPECT_UINT(t.n, ==, 7);
    for (int k = 0; k < 7; k++)
        AD_EXPECT(ad_htab_find(&t, hash_of(k, false), eq_int, &k) == &vals[k]);
    ad_htab_free(&t);
}

int main(int argc, char **argv)
{
    for (int i = 0; i < N; i++)
        vals[i] = i;
    AD_TEST_RUN(argc, argv, test_distinct_hashes);
    AD_TEST_RUN(argc, argv, test_shared_hashes);
    AD_TEST_RUN(argc, argv, test_grow_failure);
    return ad_test_done();
}
