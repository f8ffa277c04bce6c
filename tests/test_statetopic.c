/* State topic keys and partitioning: distinct per series and per partition,
 * binary-safe, and the marker apart from every series key. */
#include "ad_test.h"

#include "ad_buf.h"
#include "ad_checkpoint.h"
#include "ad_err.h"
#include "ad_statetopic.h"

/* ad_ckpt_check() and, when it accepts buf, ad_ckpt_each(). */
static int ckpt_read(const void *buf, size_t len, struct ad_ckpt_header *h, ad_ckpt_series_cb cb,
                     void *ud, char *err, size_t errlen)
{
    int rc = ad_ckpt_check(buf, len, h, err, errlen);
    return rc || !cb ? rc : ad_ckpt_each(buf, len, cb, ud);
}

static void test_keys(void)
{
    struct ad_buf a, b;
    ad_buf_init(&a, 4096);
    ad_buf_init(&b, 4096);
    AD_EXPECT_INT(ad_statetopic_series_key(&a, "sensor-raw", 12, "temp", "dev\0x", 5), ==, 0);
    static const char want[] = "ssensor-raw\00012\000temp\000dev\0x";
    AD_EXPECT_UINT(a.len, ==, sizeof(want) - 1);
    AD_EXPECT(memcmp(a.p, want, a.len) == 0);
    /* partition 1 + key "2..." must not equal partition 12 + key "...": the
     * separators keep them apart. */
    AD_EXPECT_INT(ad_statetopic_series_key(&b, "sensor-raw", 1, "temp", "dev\0x", 5), ==, 0);
    AD_EXPECT(a.len != b.len || memcmp(a.p, b.p, a.len) != 0);
    AD_EXPECT_INT(ad_statetopic_marker_key(&b, "sensor-raw", 12), ==, 0);
    static const char mwant[] = "msensor-raw\00012";
    AD_EXPECT_UINT(b.len, ==, sizeof(mwant) - 1);
    AD_EXPECT(memcmp(b.p, mwant, b.len) == 0);
    ad_buf_free(&a);
    ad_buf_free(&b);
}

static void test_partitions(void)
{
    AD_EXPECT_INT(ad_statetopic_partition(0, 4), ==, 0);
    AD_EXPECT_INT(ad_statetopic_partition(5, 4), ==, 1);
    AD_EXPECT_INT(ad_statetopic_partition(3, 8), ==, 3);
    AD_EXPECT_INT(ad_statetopic_partition(7, 0), ==, 0);
}

static int one_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    int *n = ud;
    AD_EXPECT_STR(metric, "temp");
    AD_EXPECT_UINT(st->key_len, ==, 5);
    AD_EXPECT(memcmp(st->key, "sim-1", 5) == 0);
    AD_EXPECT_UINT(st->life.n, ==, 7);
    AD_EXPECT_INT(st->model_off, ==, 41);
    (*n)++;
    return 0;
}

/* The value of a state message: a one-series checkpoint, checked in full. */
static void test_one_series_value(void)
{
    struct ad_buf b;
    struct ad_ckpt_header h = {.fingerprint = 9, .offset = 42, .partition = 2};
    struct ad_series_state st = {.key = "sim-1",
                                 .key_len = 5,
                                 .life = {7, 1.5, 2.0},
                                 .model_off = 41,
                                 .last_t = INT64_MIN,
                                 .closed_until = INT64_MIN};
    struct ad_ckpt_header got;
    char err[128];
    int n = 0;
    snprintf(h.topic, sizeof(h.topic), "sensor-raw");
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_ckpt_one(&b, &h, &st, "temp"), ==, 0);
    AD_EXPECT_INT(ckpt_read(b.p, b.len, &got, one_cb, &n, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(n, ==, 1);
    AD_EXPECT_UINT(got.nseries, ==, 1);
    AD_EXPECT_INT(got.offset, ==, 42);
    AD_EXPECT_STR(got.topic, "sensor-raw");
    b.p[b.len / 2] ^= 1; /* one flipped bit: refused */
    AD_EXPECT_INT(ckpt_read(b.p, b.len, &got, one_cb, &n, err, sizeof(err)), ==, AD_EPARSE);
    AD_EXPECT_INT(n, ==, 1);
    ad_buf_free(&b);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_keys);
    AD_TEST_RUN(argc, argv, test_partitions);
    AD_TEST_RUN(argc, argv, test_one_series_value);
    return ad_test_done();
}
