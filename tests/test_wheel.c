/* test_wheel.c - the deadline wheel against a brute-force model: random adds
 * (keys near a moving limit, far ahead so that buckets are shared, and at
 * tick boundaries, negative too), deletions and due calls with a limit that
 * mostly grows but sometimes jumps; each due call must return exactly the
 * model's nodes with key <= limit, in ascending seq order, and every node
 * left must still be found later. */
#include <stdint.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_test.h"
#include "ad_wheel.h"

#define N 400

static struct ad_wheel_node nodes[N];
static bool in[N];

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void check_due(struct ad_wheel *wh, int64_t limit)
{
    bool due[N] = {false};
    size_t expect = 0;
    for (int i = 0; i < N; i++)
        if (in[i] && nodes[i].key <= limit) {
            due[i] = true;
            expect++;
        }
    size_t got = 0;
    uint64_t prev_seq = 0;
    for (struct ad_wheel_node *x = ad_wheel_due(wh, limit); x; x = x->next) {
        int i = (int)(x - nodes);
        AD_EXPECT(i >= 0 && i < N);
        AD_EXPECT(due[i]);
        AD_EXPECT(!x->in);
        AD_EXPECT_UINT(x->seq, >=, prev_seq);
        prev_seq = x->seq;
        due[i] = false;
        in[i] = false;
        got++;
    }
    AD_EXPECT_UINT(got, ==, expect);
    uint64_t n = 0;
    for (int i = 0; i < N; i++)
        n += in[i];
    AD_EXPECT_UINT(wh->n, ==, n);
}

/* unit: tick size; span: buckets asked for; far: how far ahead keys go. */
static void run(int64_t unit, uint32_t span, int64_t far, int steps)
{
    struct ad_wheel wh;
    uint64_t seq = 0;
    int64_t limit = -50 * unit;
    AD_EXPECT_INT(ad_wheel_init(&wh, unit, span), ==, 0);
    for (int i = 0; i < N; i++)
        in[i] = false;
    for (int step = 0; step < steps; step++) {
        int i = (int)(next_rand() % N);
        uint64_t r = next_rand();
        switch (r % 8) {
        case 0:
        case 1:
        case 2:
            if (in[i])
                ad_wheel_del(&wh, &nodes[i]);
            /* keys from a little below the limit to far above it; a new seq
             * mostly the largest, sometimes an old one (a re-add) */
            int64_t key = limit - unit + (int64_t)((r >> 8) % (uint64_t)far);
            if ((r >> 40) % 4 == 0)
                key -= key % unit; /* on a tick boundary */
            uint64_t s = (r >> 50) % 5 == 0 ? (r >> 20) % (seq + 1) : ++seq;
            ad_wheel_add(&wh, &nodes[i], key, s);
            in[i] = true;
            break;
        case 3:
            if (in[i]) {
                ad_wheel_del(&wh, &nodes[i]);
                in[i] = false;
            }
            break;
        case 4:
        case 5:
            check_due(&wh, limit);
            break;
        case 6:
            limit += (int64_t)((r >> 8) % (uint64_t)(2 * unit));
            check_due(&wh, limit);
            break;
        default:
            if ((r >> 8) % 16 == 0)
                limit += (int64_t)((r >> 12) % (uint64_t)(far + 1)); /* a jump */
            break;
        }
    }
    check_due(&wh, INT64_MAX - 1);
    AD_EXPECT_UINT(wh.n, ==, 0);
    ad_wheel_free(&wh);
}

static void test_keys_within_span(void)
{
    run(1000, 16, 12000, 30000);
}

static void test_keys_sharing_buckets(void)
{
    run(1000, 4, 100000, 30000);
}

static void test_unit_one(void)
{
    run(1, 8, 40, 30000);
}

static void test_init_failure(void)
{
    struct ad_wheel wh;
    ad_alloc_fail_at(2, false);
    AD_EXPECT_INT(ad_wheel_init(&wh, 10, 8), ==, AD_ENOMEM);
    AD_EXPECT(wh.head == NULL && wh.tail == NULL);
    ad_alloc_fail_at(0, false);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_keys_within_span);
    AD_TEST_RUN(argc, argv, test_keys_sharing_buckets);
    AD_TEST_RUN(argc, argv, test_unit_one);
    AD_TEST_RUN(argc, argv, test_init_failure);
    return ad_test_done();
}
