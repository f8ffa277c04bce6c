/* Points lost for want of memory (issue 17 item 6), with the fault-injection
 * allocator: a push either folds its point in or the pipeline's nomem count
 * (ad_pipeline_nomem) grows, never neither; and a loss pins the partition
 * in the offset ledger the way the daemon does, so that no offset past the
 * lost point is ever stored. */
#include "ad_test.h"

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_ledger.h"
#include "ad_pipeline.h"
#include "ad_test_cfg.h"

static struct ad_pipeline *make(void)
{
    struct ad_pipeline *p;
    struct ad_pipeline_cfg c = ad_test_pipeline_cfg();
    char err[512];
    c.decode.time_format = AD_TIME_EPOCH_MS;
    if (ad_pipeline_new(&c, &p, err, sizeof(err)))
        AD_FAIL_("pipeline: %s", err);
    return p;
}

static uint64_t points(const struct ad_pipeline *p)
{
    struct ad_pipeline_stats st;
    ad_pipeline_stats(p, &st);
    return st.win.points;
}

/* The daemon's record path (ad_daemon.c in_record): push, mark processed,
 * and pin the partition at the record (or the oldest open window's record)
 * when the push lost something. Returns whether it did. */
static bool process(struct ad_pipeline *p, struct ad_ledger_part *lp, const char *key, int64_t off)
{
    char rec[128];
    int n = snprintf(rec, sizeof(rec), "{\"id\":\"%s\",\"ts\":%lld,\"temp\":%d}", key,
                     1763632800000LL + off * 1000, (int)(off % 7));
    struct ad_record_meta m = {.topic = "t", .partition = 0, .offset = off, .timestamp_ms = -1};
    uint64_t lost = ad_pipeline_nomem(p);
    int64_t low = ad_pipeline_low_offset(p, "t", 0);
    ad_pipeline_push(p, rec, (size_t)n, &m, 0);
    ad_ledger_processed(lp, off);
    if (ad_pipeline_nomem(p) == lost)
        return false;
    ad_ledger_pin(lp, low >= 0 && low < off ? low : off);
    return true;
}

/* A new series' point under every single allocation failure of its push:
 * kept or counted as lost, never silently gone. */
static void test_loss_never_silent(void)
{
    int failed_somewhere = 0, losses = 0;
    for (uint64_t n = 1; n < 64; n++) {
        struct ad_pipeline *p = make();
        struct ad_ledger l;
        struct ad_ledger_part *lp = NULL;
        ad_ledger_init(&l);
        AD_EXPECT_INT(ad_ledger_add(&l, "t", 0, &lp), ==, 0);
        for (int64_t off = 0; off < 5; off++)
            process(p, lp, "old", off);
        uint64_t pts = points(p), lost = ad_pipeline_nomem(p);
        ad_alloc_fail_at(n, false);
        bool pinned = process(p, lp, "new", 5);
        uint64_t injected = ad_alloc_failed();
        ad_alloc_fail_at(0, false);
        failed_somewhere += injected > 0;
        if (points(p) == pts + 1) {
            AD_EXPECT(!pinned); /* kept: nothing to pin */
        } else {
            AD_EXPECT_UINT(points(p), ==, pts);
            AD_EXPECT_UINT(ad_pipeline_nomem(p), >, lost);
            AD_EXPECT(pinned);
            AD_EXPECT_INT(lp->pinned, <=, 5);
            losses++;
        }
        ad_ledger_close(&l);
        ad_pipeline_free(p);
    }
    AD_EXPECT_INT(failed_somewhere, >, 0); /* the push allocates: the failures were real */
    AD_EXPECT_INT(losses, >, 0);
}

/* Every allocation failing from record 50's on (memory gone): the records
 * go on being processed, the count grows, and the offset stored never
 * passes 50, however far processing gets. */
static void test_no_commit_past_a_loss(void)
{
    struct ad_pipeline *p = make();
    struct ad_ledger l;
    struct ad_ledger_part *lp = NULL;
    char key[32];
    int64_t stored = -1, s;
    ad_ledger_init(&l);
    AD_EXPECT_INT(ad_ledger_add(&l, "t", 0, &lp), ==, 0);
    for (int64_t off = 0; off < 200; off++) {
        snprintf(key, sizeof(key), "k%lld", (long long)off); /* a new series each */
        if (off == 50)
            ad_alloc_fail_at(1, true);
        bool pinned = process(p, lp, key, off);
        if (off == 59)
            ad_alloc_fail_at(0, false); /* memory again */
        if (off < 50)
            AD_EXPECT(!pinned);
        s = ad_ledger_advance(lp, ad_pipeline_low_offset(p, "t", 0), INT64_MAX);
        if (s >= 0)
            stored = s;
        AD_EXPECT_INT(stored, <=, 50);
    }
    AD_EXPECT_INT(stored, ==, 50); /* up to the lost point, not beyond */
    AD_EXPECT_UINT(ad_pipeline_nomem(p), >=, 10);
    AD_EXPECT_UINT(points(p), <=, 190);
    ad_ledger_close(&l);
    ad_pipeline_free(p);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_loss_never_silent);
    AD_TEST_RUN(argc, argv, test_no_commit_past_a_loss);
    return ad_test_done();
}
