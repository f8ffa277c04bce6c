/* Incremental checkpoints: the delta log's framing (torn, corrupt, foreign
 * and out-of-order records), the files (base + records restored in order,
 * a torn tail or a stale log ignored, the previous base with its log),
 * ad_state_each_latest, out of memory at every allocation, and the window's
 * per-partition dirty lists. */
#include "ad_test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_alloc.h"
#include "ad_checkpoint.h"
#include "ad_ckpt_delta.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_state.h"
#include "ad_window.h"

#define FP 77

/* A sealed checkpoint of the given series ("key" = its name, life.n = n),
 * resuming at offset. */
static void ckpt_of(struct ad_buf *b, int64_t offset, const char *const *keys, const uint64_t *n,
                    int count)
{
    struct ad_ckpt_header h = {.fingerprint = FP, .offset = offset, .max_t = offset * 1000};
    snprintf(h.topic, sizeof(h.topic), "t");
    AD_EXPECT_INT(ad_ckpt_begin(b, &h), ==, 0);
    for (int i = 0; i < count; i++) {
        struct ad_series_state st = {.key = keys[i],
                                     .key_len = strlen(keys[i]),
                                     .life = {n[i], (double)n[i], 0.5},
                                     .model_off = offset,
                                     .last_t = INT64_MIN,
                                     .closed_until = INT64_MIN};
        AD_EXPECT_INT(ad_ckpt_add(b, &st, "temp"), ==, 0);
    }
    AD_EXPECT_INT(ad_ckpt_finish(b, (uint64_t)count), ==, 0);
}

/* Appends a framed record to log. */
static void frame(struct ad_buf *log, uint64_t base_sum, uint64_t seq, const struct ad_buf *ck)
{
    unsigned char head[AD_CKPT_DELTA_HEAD];
    ad_ckpt_delta_head(head, base_sum, seq, ck->len);
    AD_EXPECT_INT(ad_buf_add(log, head, sizeof(head)), ==, 0);
    AD_EXPECT_INT(ad_buf_add(log, ck->p, ck->len), ==, 0);
}

static void test_framing(void)
{
    struct ad_buf base, r1, r2, log;
    ad_buf_init(&base, 1 << 20);
    ad_buf_init(&r1, 1 << 20);
    ad_buf_init(&r2, 1 << 20);
    ad_buf_init(&log, 1 << 20);
    const char *k[] = {"a", "b"};
    uint64_t n1[] = {1, 1}, n2[] = {2}, n3[] = {3, 5};
    ckpt_of(&base, 10, k, n1, 2);
    ckpt_of(&r1, 20, k, n2, 1);
    ckpt_of(&r2, 30, k, n3, 2);
    uint64_t sum = ad_ckpt_sum(base.p, base.len);
    AD_EXPECT_UINT(sum, ==, ad_fnv1a64(AD_FNV64_BASIS, base.p, base.len - 8));
    frame(&log, sum, 1, &r1);
    size_t end1 = log.len;
    frame(&log, sum, 2, &r2);

    const char *why = "x";
    AD_EXPECT_UINT(ad_ckpt_delta_valid(log.p, log.len, sum, &why), ==, 2);
    AD_EXPECT(why == NULL);
    size_t pos = 0;
    struct ad_ckpt_delta d;
    char err[200];
    AD_EXPECT_INT(ad_ckpt_delta_next(log.p, log.len, &pos, &d, err, sizeof(err)), ==, 0);
    AD_EXPECT_UINT(d.seq, ==, 1);
    AD_EXPECT_INT(d.h.offset, ==, 20);
    AD_EXPECT_UINT(d.h.nseries, ==, 1);
    AD_EXPECT_INT(ad_ckpt_delta_next(log.p, log.len, &pos, &d, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(d.h.offset, ==, 30);
    AD_EXPECT_INT(ad_ckpt_delta_next(log.p, log.len, &pos, &d, err, sizeof(err)), ==, AD_ENOENT);

    /* Torn anywhere in the second record: the first one stands alone. */
    for (size_t cut = end1 + 1; cut < log.len; cut++) {
        AD_EXPECT_UINT(ad_ckpt_delta_valid(log.p, cut, sum, &why), ==, 1);
        AD_EXPECT(why != NULL);
    }
    AD_EXPECT_UINT(ad_ckpt_delta_valid(log.p, end1, sum, &why), ==, 1);
    AD_EXPECT(why == NULL);
    /* A flipped byte anywhere in the second record (frame or body). */
    for (size_t at = end1; at < log.len; at += 7) {
        log.p[at] ^= 0x40;
        AD_EXPECT_UINT(ad_ckpt_delta_valid(log.p, log.len, sum, &why), ==, 1);
        log.p[at] ^= 0x40;
    }
    /* Of another base: nothing; out of order: stops there. */
    AD_EXPECT_UINT(ad_ckpt_delta_valid(log.p, log.len, sum + 1, &why), ==, 0);
    AD_EXPECT_STR(why, "a record of another base checkpoint");
    ad_buf_reset(&log);
    frame(&log, sum, 1, &r1);
    frame(&log, sum, 3, &r2);
    AD_EXPECT_UINT(ad_ckpt_delta_valid(log.p, log.len, sum, &why), ==, 1);
    AD_EXPECT_STR(why, "a record out of order");
    ad_buf_free(&base);
    ad_buf_free(&r1);
    ad_buf_free(&r2);
    ad_buf_free(&log);
}

/* What a restore saw: the last state of each key, in callback order. */
struct seen {
    int calls;
    char order[16][8];
    uint64_t n[4]; /* life.n of a, b, c, d (0 = not seen) */
};

static int on_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct seen *s = ud;
    AD_EXPECT_STR(metric, "temp");
    AD_EXPECT_UINT(st->key_len, ==, 1);
    if (s->calls < 16)
        snprintf(s->order[s->calls], 8, "%c%llu", st->key[0], (unsigned long long)st->life.n);
    s->calls++;
    s->n[st->key[0] - 'a'] = st->life.n;
    return 0;
}

/* Writes base (a1 b1, offset 10) and, through the io layer, records
 * (a2, offset 20) and (a3 c5, offset 30). Returns the base's checksum. */
static uint64_t write_chain(const struct ad_state_loc *loc)
{
    struct ad_buf b;
    char err[300];
    ad_buf_init(&b, 1 << 20);
    const char *k1[] = {"a", "b"}, *k3[] = {"a", "c"};
    uint64_t n1[] = {1, 1}, n2[] = {2}, n3[] = {3, 5};
    ckpt_of(&b, 10, k1, n1, 2);
    uint64_t sum = ad_ckpt_sum(b.p, b.len);
    AD_EXPECT_INT(ad_state_write(loc, b.p, b.len, err, sizeof(err)), ==, 0);
    ckpt_of(&b, 20, k1, n2, 1);
    struct ad_ckpt_delta rec = {.base_sum = sum, .seq = 1, .ckpt = b.p, .len = b.len};
    AD_EXPECT_INT(ad_state_append_delta(loc, &rec, err, sizeof(err)), ==, 0);
    ckpt_of(&b, 30, k3, n3, 2);
    rec = (struct ad_ckpt_delta){.base_sum = sum, .seq = 2, .ckpt = b.p, .len = b.len};
    AD_EXPECT_INT(ad_state_append_delta(loc, &rec, err, sizeof(err)), ==, 0);
    ad_buf_free(&b);
    return sum;
}

static void load(const struct ad_state_loc *loc, struct seen *s, struct ad_ckpt_header *h, int rc)
{
    memset(s, 0, sizeof(*s));
    AD_EXPECT_INT(ad_state_load(loc, FP, -1, h, on_series, s), ==, rc);
}

static void test_files(void)
{
    char dir[] = "/tmp/ad_delta_XXXXXX", path[4200], logp[4200];
    AD_EXPECT(mkdtemp(dir) != NULL);
    struct ad_state_loc loc = {.dir = dir, .topic = "t", .partition = 0};
    struct seen s;
    struct ad_ckpt_header h;
    AD_EXPECT_INT(ad_state_path(dir, "t", 0, path, sizeof(path)), ==, 0);
    AD_EXPECT_INT(ad_state_delta_path(&loc, logp, sizeof(logp)), ==, 0);
    write_chain(&loc);

    /* Base, then the records in order; resumes at the last one's offset. */
    load(&loc, &s, &h, 0);
    AD_EXPECT_INT(s.calls, ==, 5);
    AD_EXPECT_STR(s.order[2], "a2");
    AD_EXPECT_STR(s.order[3], "a3");
    AD_EXPECT_UINT(s.n[0], ==, 3);
    AD_EXPECT_UINT(s.n[1], ==, 1);
    AD_EXPECT_UINT(s.n[2], ==, 5);
    AD_EXPECT_INT(h.offset, ==, 30);
    AD_EXPECT_INT(h.max_t, ==, 30000);

    /* A torn record at the end (a crash mid-append): ignored. */
    struct stat sb;
    AD_EXPECT_INT(stat(logp, &sb), ==, 0);
    AD_EXPECT_INT(truncate(logp, sb.st_size - 3), ==, 0);
    load(&loc, &s, &h, 0);
    AD_EXPECT_UINT(s.n[0], ==, 2);
    AD_EXPECT_UINT(s.n[2], ==, 0);
    AD_EXPECT_INT(h.offset, ==, 20);

    /* The old base becomes .prev, a new one is current; the log, of the old
     * one, is not applied to the new one but is to .prev. */
    write_chain(&loc);
    struct ad_buf b;
    char err[300];
    ad_buf_init(&b, 1 << 20);
    const char *kd[] = {"d"};
    uint64_t nd[] = {9};
    ckpt_of(&b, 40, kd, nd, 1);
    AD_EXPECT_INT(ad_state_write(&loc, b.p, b.len, err, sizeof(err)), ==, 0);
    load(&loc, &s, &h, 0);
    AD_EXPECT_INT(s.calls, ==, 1);
    AD_EXPECT_UINT(s.n[3], ==, 9);
    AD_EXPECT_INT(h.offset, ==, 40);
    FILE *f = fopen(path, "r+");
    AD_EXPECT(f != NULL);
    fseek(f, 20, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    load(&loc, &s, &h, 0); /* current corrupt: .prev and its log */
    AD_EXPECT_UINT(s.n[0], ==, 3);
    AD_EXPECT_UINT(s.n[3], ==, 0);
    AD_EXPECT_INT(h.offset, ==, 30);

    /* seq 1 starts the log afresh; removing it leaves the base alone. */
    AD_EXPECT_INT(ad_state_write(&loc, b.p, b.len, err, sizeof(err)), ==, 0);
    struct ad_ckpt_delta rec = {ad_ckpt_sum(b.p, b.len), 1, b.p, b.len, {0}};
    AD_EXPECT_INT(ad_state_append_delta(&loc, &rec, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(stat(logp, &sb), ==, 0);
    AD_EXPECT_INT(sb.st_size, ==, (off_t)(AD_CKPT_DELTA_HEAD + b.len));
    AD_EXPECT_INT(ad_state_remove_delta(&loc), ==, 0);
    AD_EXPECT_INT(stat(logp, &sb), ==, -1);
    AD_EXPECT_INT(ad_state_remove_delta(&loc), ==, 0);
    ad_buf_free(&b);

    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

/* Compaction: base + log merged into a new base (newest states, the last
 * record's offset), the log gone; refused, changing nothing, when the files
 * are not the base and records expected. */
static void test_compact(void)
{
    char dir[] = "/tmp/ad_delta_XXXXXX", logp[4200], err[300];
    AD_EXPECT(mkdtemp(dir) != NULL);
    struct ad_state_loc loc = {.dir = dir, .topic = "t", .partition = 0};
    struct seen s;
    struct ad_ckpt_header h;
    struct stat sb;
    AD_EXPECT_INT(ad_state_delta_path(&loc, logp, sizeof(logp)), ==, 0);
    uint64_t sum = write_chain(&loc), nsum = 0;
    AD_EXPECT_INT(ad_state_compact(&loc, sum + 1, 2, &nsum, err, sizeof(err)), ==, AD_ESTATE);
    AD_EXPECT_INT(ad_state_compact(&loc, sum, 3, &nsum, err, sizeof(err)), ==, AD_ESTATE);
    AD_EXPECT_INT(stat(logp, &sb), ==, 0);
    load(&loc, &s, &h, 0);
    AD_EXPECT_INT(s.calls, ==, 5); /* unchanged: base + 2 records */
    AD_EXPECT_INT(ad_state_compact(&loc, sum, 2, &nsum, err, sizeof(err)), ==, 0);
    AD_EXPECT_UINT(nsum, !=, sum);
    AD_EXPECT_INT(stat(logp, &sb), ==, -1);
    load(&loc, &s, &h, 0);
    AD_EXPECT_INT(s.calls, ==, 3); /* one state per series */
    AD_EXPECT_UINT(s.n[0], ==, 3);
    AD_EXPECT_UINT(s.n[1], ==, 1);
    AD_EXPECT_UINT(s.n[2], ==, 5);
    AD_EXPECT_INT(h.offset, ==, 30);
    AD_EXPECT_INT(h.max_t, ==, 30000);
    AD_EXPECT_UINT(h.nseries, ==, 3);
    /* Out of memory at each allocation: refused or done, never half done. */
    for (uint64_t at = 1; at < 100; at++) {
        sum = write_chain(&loc);
        ad_alloc_fail_at(at, false);
        int rc = ad_state_compact(&loc, sum, 2, &nsum, err, sizeof(err));
        bool failed = ad_alloc_failed() > 0;
        ad_alloc_fail_at(0, false);
        load(&loc, &s, &h, 0);
        AD_EXPECT_UINT(s.n[0], ==, 3);
        AD_EXPECT_INT(h.offset, ==, 30);
        if (!failed) {
            AD_EXPECT_INT(rc, ==, 0);
            break;
        }
    }
    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

/* One call per series, with its newest state; the header resumes at the
 * newest record. Every allocation failing in turn: an error, never a crash
 * or a wrong answer. */
static void test_each_latest(void)
{
    char dir[] = "/tmp/ad_delta_XXXXXX", path[4200], err[200];
    AD_EXPECT(mkdtemp(dir) != NULL);
    struct ad_state_loc loc = {.dir = dir, .topic = "t", .partition = 0};
    AD_EXPECT_INT(ad_state_path(dir, "t", 0, path, sizeof(path)), ==, 0);
    write_chain(&loc);
    struct seen s = {0};
    struct ad_ckpt_header h;
    AD_EXPECT_INT(ad_state_each_latest(path, &h, on_series, &s, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(s.calls, ==, 3);
    AD_EXPECT_UINT(s.n[0], ==, 3);
    AD_EXPECT_UINT(s.n[1], ==, 1);
    AD_EXPECT_UINT(s.n[2], ==, 5);
    AD_EXPECT_INT(h.offset, ==, 30);

    int ok = 0, nomem = 0;
    for (uint64_t at = 1; at < 200; at++) {
        memset(&s, 0, sizeof(s));
        ad_alloc_fail_at(at, false);
        int rc = ad_state_each_latest(path, &h, on_series, &s, err, sizeof(err));
        bool failed = ad_alloc_failed() > 0;
        ad_alloc_fail_at(0, false);
        if (!failed) {
            AD_EXPECT_INT(rc, ==, 0);
            AD_EXPECT_UINT(s.n[0], ==, 3);
            ok++;
            break;
        }
        AD_EXPECT(rc == AD_ENOMEM || rc == 0); /* a log not read: the base alone */
        nomem += rc == AD_ENOMEM;
        memset(&s, 0, sizeof(s));
        struct seen s2 = {0};
        ad_alloc_fail_at(at, false);
        rc = ad_state_load(&loc, FP, -1, &h, on_series, &s2);
        ad_alloc_fail_at(0, false);
        AD_EXPECT(rc == 0 || rc == AD_ENOENT || rc == AD_ENOMEM);
    }
    AD_EXPECT_INT(ok, ==, 1);
    AD_EXPECT_INT(nomem, >, 0);
    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

static bool on_event(void *ud, const struct ad_window_event *ev)
{
    (void)ud;
    (void)ev;
    return true;
}

struct keys {
    int n;
    char k[16][8];
};

static int export_key(void *ud, const struct ad_series_state *st)
{
    struct keys *k = ud;
    AD_EXPECT(st->dirty);
    if (k->n < 16)
        snprintf(k->k[k->n], 8, "%.*s", (int)st->key_len, st->key);
    k->n++;
    return 0;
}

static int export_any(void *ud, const struct ad_series_state *st)
{
    struct keys *k = ud;
    if (k->n < 16)
        snprintf(k->k[k->n], 8, "%.*s", (int)st->key_len, st->key);
    k->n++;
    return 0;
}

static void push(struct ad_window *w, struct ad_part *p, const char *key, int64_t t_s, int64_t off)
{
    struct ad_window_point pt = {key, strlen(key), 0, t_s * 1000000, 1.0, off};
    AD_EXPECT_INT(ad_window_push(w, p, &pt, 0), ==, AD_PUSH_OK);
}

/* The dirty list of a partition holds its changed series only; eviction
 * and moves count as departures. */
static void test_dirty_lists(void)
{
    struct ad_window *w;
    struct ad_window_cfg c = {.tumbling = true,
                              .size_us = 1000000,
                              .max_series = 4,
                              .idle_us = 3600000000LL};
    AD_EXPECT_INT(ad_window_new(&c, on_event, NULL, &w), ==, 0);
    struct ad_part *p0 = ad_window_part(w, "t", 0), *p1 = ad_window_part(w, "t", 1);
    push(w, p0, "a", 1, 1);
    push(w, p0, "b", 1, 2);
    push(w, p1, "c", 1, 1);
    AD_EXPECT_UINT(ad_part_dirty_count(p0), ==, 0); /* open windows are not state */
    ad_window_advance(w, p0, 3000000);              /* closes a's and b's second 1 */
    ad_window_advance(w, p1, 3000000);
    AD_EXPECT_UINT(ad_part_dirty_count(p0), ==, 2);
    AD_EXPECT_UINT(ad_part_dirty_count(p1), ==, 1);
    struct keys k = {0};
    AD_EXPECT_INT(ad_window_part_export_dirty(w, p0, export_key, &k), ==, 0);
    AD_EXPECT_INT(k.n, ==, 2);
    AD_EXPECT_UINT(ad_part_dirty_count(p0), ==, 0);
    AD_EXPECT_UINT(ad_part_dirty_count(p1), ==, 1);
    k.n = 0;
    AD_EXPECT_INT(ad_window_part_export_dirty(w, p0, export_key, &k), ==, 0);
    AD_EXPECT_INT(k.n, ==, 0);

    /* a moves to p1: dirty there, departed from p0. */
    uint64_t d0 = ad_part_departed(p0);
    push(w, p1, "a", 5, 7);
    AD_EXPECT_UINT(ad_part_departed(p0), ==, d0 + 1);
    k.n = 0;
    AD_EXPECT_INT(ad_window_part_export_dirty(w, p1, export_key, &k), ==, 0);
    AD_EXPECT_INT(k.n, ==, 2);
    /* Evictions (max_series 4) count against the victim's partition. */
    push(w, p0, "d", 6, 3);
    push(w, p0, "e", 6, 4);
    AD_EXPECT_UINT(ad_part_departed(p0), ==, d0 + 2); /* b, the least recent */
    /* A full export with clear_dirty empties the list too. */
    ad_window_advance(w, p0, 9000000);
    AD_EXPECT_UINT(ad_part_dirty_count(p0), ==, 2);
    k.n = 0;
    AD_EXPECT_INT(ad_window_part_export(w, p0, true, export_key, &k), ==, 0);
    AD_EXPECT_UINT(ad_part_dirty_count(p0), ==, 0);
    /* A full export walks the partition's own series, least recent first. */
    AD_EXPECT_INT(k.n, ==, 2);
    AD_EXPECT_STR(k.k[0], "d");
    AD_EXPECT_STR(k.k[1], "e");
    AD_EXPECT_UINT(ad_window_part_count(w, p0), ==, 2);
    AD_EXPECT_UINT(ad_window_part_count(w, p1), ==, 2);
    ad_window_advance(w, p1, 9000000);
    k.n = 0;
    AD_EXPECT_INT(ad_window_part_export(w, p1, false, export_any, &k), ==, 0);
    AD_EXPECT_INT(k.n, ==, 2);
    AD_EXPECT_STR(k.k[0], "c");
    AD_EXPECT_STR(k.k[1], "a");
    ad_window_part_drop(w, p1);
    ad_window_free(w);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_framing);
    AD_TEST_RUN(argc, argv, test_files);
    AD_TEST_RUN(argc, argv, test_each_latest);
    AD_TEST_RUN(argc, argv, test_compact);
    AD_TEST_RUN(argc, argv, test_dirty_lists);
    return ad_test_done();
}
