/* test_ledger.c - the at-least-once offset ledger. */
#include "ad_err.h"
#include "ad_alloc.h"
#include "ad_ledger.h"
#include "ad_test.h"

static struct ad_ledger_part *add(struct ad_ledger *l, const char *topic, int32_t partition)
{
    struct ad_ledger_part *p = NULL;
    AD_EXPECT_INT(ad_ledger_add(l, topic, partition, &p), ==, 0);
    AD_EXPECT(p != NULL);
    return p;
}

static void test_add_find_remove(void)
{
    struct ad_ledger l;
    ad_ledger_init(&l);
    struct ad_ledger_part *a = add(&l, "in", 0), *b = add(&l, "in", 1), *c = add(&l, "other", 0);
    AD_EXPECT(add(&l, "in", 0) == a); /* found, not added twice */
    AD_EXPECT_UINT(l.nparts, ==, 3);
    AD_EXPECT(ad_ledger_find(&l, "in", 1) == b);
    AD_EXPECT(ad_ledger_find(&l, "other", 0) == c);
    AD_EXPECT(ad_ledger_find(&l, "other", 1) == NULL);
    AD_EXPECT(ad_ledger_by_id(&l, b->id) == b);
    AD_EXPECT(ad_ledger_by_id(&l, 0) == NULL);
    AD_EXPECT(a->id != b->id && b->id != c->id && a->id != 0);
    AD_EXPECT_INT(a->next_off, ==, -1);
    AD_EXPECT_INT(a->stored, ==, -1);
    uint32_t bid = b->id;
    ad_ledger_remove(&l, b);
    AD_EXPECT_UINT(l.nparts, ==, 2);
    AD_EXPECT(ad_ledger_find(&l, "in", 1) == NULL);
    AD_EXPECT(ad_ledger_by_id(&l, bid) == NULL);
    /* Assigned again: a new id, so the old partition's holds cannot touch it. */
    b = add(&l, "in", 1);
    AD_EXPECT(b->id != bid);
    ad_ledger_close(&l);
    AD_EXPECT(l.parts == NULL);
}

static void test_safe_offset(void)
{
    struct ad_ledger l;
    ad_ledger_init(&l);
    struct ad_ledger_part *p = add(&l, "in", 3);
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, -1); /* nothing processed yet */
    ad_ledger_processed(p, 99);
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 100);
    AD_EXPECT_INT(ad_ledger_safe(p, 40), ==, 40); /* an open window starts at 40 */
    AD_EXPECT_INT(ad_ledger_safe(p, 150), ==, 100);

    struct ad_ledger_hold h1, h2, h3;
    AD_EXPECT_INT(ad_ledger_hold(&l, "in", 3, 30, &h1), ==, 0);
    AD_EXPECT_INT(ad_ledger_hold(&l, "in", 3, 20, &h2), ==, 0);
    AD_EXPECT_INT(ad_ledger_hold(&l, "in", 3, 60, &h3), ==, 0);
    AD_EXPECT(ad_ledger_pending(p));
    AD_EXPECT_INT(ad_ledger_safe(p, 40), ==, 20);
    /* Released out of order: the lowest held offset still decides. */
    AD_EXPECT(ad_ledger_release(&l, &h3) == p);
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 20);
    AD_EXPECT(ad_ledger_release(&l, &h2) == p);
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 30);
    AD_EXPECT(ad_ledger_release(&l, &h2) == p); /* twice: nothing */
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 30);
    AD_EXPECT(ad_ledger_pending(p));
    ad_ledger_release(&l, &h1);
    AD_EXPECT(!ad_ledger_pending(p));
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 100);
    ad_ledger_close(&l);
}

static void test_advance(void)
{
    struct ad_ledger l;
    ad_ledger_init(&l);
    struct ad_ledger_part *p = add(&l, "in", 0);
    AD_EXPECT_INT(ad_ledger_advance(p, -1, INT64_MAX), ==, -1);
    ad_ledger_processed(p, 9);
    AD_EXPECT_INT(ad_ledger_advance(p, -1, INT64_MAX), ==, 10);
    AD_EXPECT_INT(p->stored, ==, 10);
    AD_EXPECT_INT(ad_ledger_advance(p, -1, INT64_MAX), ==, -1); /* stored already */
    ad_ledger_processed(p, 19);
    AD_EXPECT_INT(ad_ledger_advance(p, 5, INT64_MAX), ==, -1); /* never backwards */
    AD_EXPECT_INT(ad_ledger_advance(p, -1, 15), ==, 15);       /* capped by a checkpoint */
    AD_EXPECT_INT(ad_ledger_advance(p, -1, -1), ==, -1);       /* no checkpoint yet */
    AD_EXPECT_INT(ad_ledger_advance(p, -1, INT64_MAX), ==, 20);
    ad_ledger_close(&l);
}

static void test_holds_on_untracked_and_removed(void)
{
    struct ad_ledger l;
    ad_ledger_init(&l);
    struct ad_ledger_hold h;
    AD_EXPECT_INT(ad_ledger_hold(&l, "in", 0, 5, &h), ==, 0);
    AD_EXPECT_UINT(h.part_id, ==, 0);
    AD_EXPECT(ad_ledger_release(&l, &h) == NULL);

    struct ad_ledger_part *p = add(&l, "in", 0);
    ad_ledger_processed(p, 50);
    AD_EXPECT_INT(ad_ledger_hold(&l, "in", 0, 5, &h), ==, 0);
    ad_ledger_remove(&l, p);
    p = add(&l, "in", 0); /* assigned again */
    ad_ledger_processed(p, 70);
    AD_EXPECT(ad_ledger_release(&l, &h) == NULL); /* the old one's: ignored */
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 71);
    ad_ledger_close(&l);
}

static void test_ring_wraps_and_grows(void)
{
    struct ad_ledger l;
    ad_ledger_init(&l);
    struct ad_ledger_part *p = add(&l, "in", 0);
    ad_ledger_processed(p, 100000);
    struct ad_ledger_hold hs[1000];
    /* Interleave takes and releases so that the ring wraps, then grows. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 1000; i++)
            AD_EXPECT_INT(ad_ledger_hold(&l, "in", 0, 1000 * round + i, &hs[i]), ==, 0);
        AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 1000 * round);
        for (int i = 0; i < 999; i++)
            ad_ledger_release(&l, &hs[i]);
        AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 1000 * round + 999);
        ad_ledger_release(&l, &hs[999]);
        AD_EXPECT(!ad_ledger_pending(p));
    }
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 100001);
    ad_ledger_close(&l);
}

/* From now, the allocation after the next n fails, and every later one
 * (n < 0: none fails). */
static void fail_after(int n)
{
    ad_alloc_fail_at(n < 0 ? 0 : (uint64_t)n + 1, true);
}

static void test_add_allocation_failure(void)
{
    struct ad_ledger l;
    ad_ledger_init(&l);
    for (int n = 0; n < 2; n++) { /* the partition, then its name */
        struct ad_ledger_part *p = NULL;
        fail_after(n);
        AD_EXPECT_INT(ad_ledger_add(&l, "in", 0, &p), ==, AD_ENOMEM);
        AD_EXPECT(p == NULL);
        AD_EXPECT_UINT(l.nparts, ==, 0);
    }
    fail_after(-1);
    add(&l, "in", 0);
    ad_ledger_close(&l);
}

/* A hold the ledger cannot record is reported, and still holds. */
static void test_hold_allocation_failure(void)
{
    struct ad_ledger l;
    ad_ledger_init(&l);
    struct ad_ledger_part *p = add(&l, "in", 0);
    ad_ledger_processed(p, 500);

    fail_after(0); /* the first hold needs the table: it fails */
    struct ad_ledger_hold c1, c2, h;
    AD_EXPECT_INT(ad_ledger_hold(&l, "in", 0, 100, &c1), ==, AD_ENOMEM);
    AD_EXPECT_UINT(c1.part_id, ==, p->id);
    AD_EXPECT_UINT(c1.seq, ==, AD_LEDGER_COARSE);
    AD_EXPECT(ad_ledger_pending(p));
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 100);
    AD_EXPECT_INT(ad_ledger_advance(p, -1, INT64_MAX), ==, 100);

    AD_EXPECT_INT(ad_ledger_hold(&l, "in", 0, 300, &c2), ==, AD_ENOMEM);
    fail_after(-1); /* memory again: a normal hold */
    AD_EXPECT_INT(ad_ledger_hold(&l, "in", 0, 200, &h), ==, 0);
    AD_EXPECT(h.seq != AD_LEDGER_COARSE);
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 100);

    /* One coarse hold released: the ledger does not know which offset it
     * held, so the lowest stays held. */
    ad_ledger_release(&l, &c1);
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 100);
    AD_EXPECT_INT(ad_ledger_advance(p, -1, INT64_MAX), ==, -1);
    ad_ledger_release(&l, &c2);
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 200); /* the normal hold */
    ad_ledger_release(&l, &c2);                    /* twice: no underflow */
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 200);
    ad_ledger_release(&l, &h);
    AD_EXPECT(!ad_ledger_pending(p));
    AD_EXPECT_INT(ad_ledger_advance(p, -1, INT64_MAX), ==, 501);
    ad_ledger_close(&l);
}

/* A full table that cannot grow: the holds that fit stay exact. */
static void test_growth_failure_keeps_table(void)
{
    struct ad_ledger l;
    ad_ledger_init(&l);
    struct ad_ledger_part *p = add(&l, "in", 0);
    ad_ledger_processed(p, 1000);
    struct ad_ledger_hold hs[64], c;
    for (int i = 0; i < 64; i++)
        AD_EXPECT_INT(ad_ledger_hold(&l, "in", 0, 10 + i, &hs[i]), ==, 0);
    fail_after(0);
    AD_EXPECT_INT(ad_ledger_hold(&l, "in", 0, 500, &c), ==, AD_ENOMEM);
    fail_after(-1);
    for (int i = 0; i < 64; i++) {
        AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 10 + i);
        ad_ledger_release(&l, &hs[i]);
    }
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 500);
    ad_ledger_release(&l, &c);
    AD_EXPECT_INT(ad_ledger_safe(p, -1), ==, 1001);
    ad_ledger_close(&l);
}

/* Issue 17 item 6: a record whose points were lost pins its partition: the
 * safe offset (so every commit and checkpoint) stays at it, whatever is
 * processed or released later, until the partition is removed; a loss on a
 * timer pins at what was stored, or before anything was stored, makes
 * nothing safe. */
static void test_pin(void)
{
    struct ad_ledger l;
    ad_ledger_init(&l);
    struct ad_ledger_part *a = add(&l, "in", 0), *b = add(&l, "in", 1);
    for (int64_t off = 100; off < 110; off++)
        ad_ledger_processed(a, off);
    AD_EXPECT_INT(ad_ledger_advance(a, -1, INT64_MAX), ==, 110);
    ad_ledger_processed(a, 110);
    AD_EXPECT(ad_ledger_pin(a, 110));  /* the record at 110 lost a point */
    AD_EXPECT(!ad_ledger_pin(a, 112)); /* pinned already; a later one changes nothing */
    for (int64_t off = 111; off < 200; off++)
        ad_ledger_processed(a, off);
    AD_EXPECT_INT(ad_ledger_safe(a, -1), ==, 110);
    AD_EXPECT_INT(ad_ledger_advance(a, -1, INT64_MAX), ==, -1); /* 110 stored already */
    AD_EXPECT_INT(ad_ledger_safe(a, 105), ==, 105);             /* an older window still rules */
    ad_ledger_pin(a, 107);                                      /* an earlier loss lowers it */
    AD_EXPECT_INT(ad_ledger_safe(a, -1), ==, 107);
    AD_EXPECT_INT(ad_ledger_advance(a, -1, INT64_MAX), ==, -1); /* never backwards */
    /* A timer's loss: at what was stored; before anything was: nothing safe. */
    struct ad_ledger_part *c = add(&l, "in", 2);
    ad_ledger_processed(c, 5);
    AD_EXPECT(ad_ledger_pin(c, -1));
    ad_ledger_processed(c, 6);
    AD_EXPECT_INT(ad_ledger_safe(c, -1), ==, -1);
    AD_EXPECT_INT(ad_ledger_advance(c, -1, INT64_MAX), ==, -1);
    ad_ledger_processed(b, 7);
    AD_EXPECT_INT(ad_ledger_advance(b, -1, INT64_MAX), ==, 8); /* other partitions go on */
    AD_EXPECT(ad_ledger_pin(b, -1));
    ad_ledger_processed(b, 9);
    AD_EXPECT_INT(ad_ledger_safe(b, -1), ==, 8);
    /* Assigned anew: consumed again from the pin, a fresh start. */
    ad_ledger_remove(&l, a);
    a = add(&l, "in", 0);
    ad_ledger_processed(a, 110);
    AD_EXPECT_INT(ad_ledger_advance(a, -1, INT64_MAX), ==, 111);
    ad_ledger_close(&l);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_add_find_remove);
    AD_TEST_RUN(argc, argv, test_safe_offset);
    AD_TEST_RUN(argc, argv, test_advance);
    AD_TEST_RUN(argc, argv, test_holds_on_untracked_and_removed);
    AD_TEST_RUN(argc, argv, test_ring_wraps_and_grows);
    AD_TEST_RUN(argc, argv, test_add_allocation_failure);
    AD_TEST_RUN(argc, argv, test_hold_allocation_failure);
    AD_TEST_RUN(argc, argv, test_growth_failure_keeps_table);
    AD_TEST_RUN(argc, argv, test_pin);
    return ad_test_done();
}
