/* test_window_ring.c - the compact sliding ring (12 bytes a point):
 * - wrap-around: a long run of slides (with gaps) against a model of the
 *   window's points: each slide's points, value and source offsets exact;
 * - time deltas that overflow the 31-bit step count: the same input with a
 *   gap too long to encode and with a short gap gives the same events (the
 *   stale points dropped early exactly as the next slide would drop them);
 * - restore: a ring on the tumbling grid and one off it (kept wide), longer
 *   than the ring: export gives back the newest points' times, values and
 *   in_model flags exactly, the offsets of the newest point (the one events
 *   report) and -1 for the others; the pending slide then scores it. */
#include <string.h>

#include "ad_test.h"
#include "ad_types.h"
#include "ad_window.h"

static uint64_t rng = 0x853c49e6748fea9bULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct rec {
    int64_t start, end, off, low_off;
    double v;
    size_t n_points;
    struct ad_tpoint pts[64];
    uint64_t model_n;
    double model_mean;
};

struct log {
    struct rec r[4096];
    int n;
};

static bool on_event(void *ud, const struct ad_window_event *ev)
{
    struct log *l = ud;
    if (l->n >= 4096)
        return true;
    struct rec *r = &l->r[l->n++];
    r->start = ev->start_us;
    r->end = ev->end_us;
    r->off = ev->offset;
    r->low_off = ev->low_offset;
    r->v = ev->value;
    r->n_points = ad_window_event_points(ev, r->pts, 64);
    r->model_n = ev->model->n;
    r->model_mean = ev->model->mean;
    return ev->value < 900; /* some values are not learnt */
}

static struct ad_window *make(struct log *l, int64_t G, int64_t win, int64_t slide, bool scope)
{
    struct ad_window_cfg cfg = {.tumbling = true,
                                .size_us = G,
                                .aggregate = AD_AGG_MEAN,
                                .sliding = true,
                                .win_us = win,
                                .slide_us = slide,
                                .idle_us = 1000000000,
                                .window_scope = scope,
                                .max_series = 10};
    struct ad_window *w = NULL;
    AD_EXPECT_INT(ad_window_new(&cfg, on_event, l, &w), ==, 0);
    return w;
}

static void push(struct ad_window *w, struct ad_part *p, int64_t t, double v, int64_t off)
{
    struct ad_window_point pt = {"s", 1, 0, t, v, off};
    AD_EXPECT_INT(ad_window_push(w, p, &pt, 0), ==, AD_PUSH_OK);
    ad_window_advance(w, p, t);
}

/* ---- wrap-around, against a model ---- */

struct mwin {
    int64_t start, min_off, max_off;
    double sum;
    int n;
};

static void test_wrap_around_offsets_exact(void)
{
    static struct log l;
    static struct mwin mw[4000];
    const int64_t G = 1000000, WIN = 5 * G;
    struct ad_window *w = make(&l, G, WIN, G, false);
    struct ad_part *p = ad_window_part(w, "t", 0);
    int nw = 0;
    int64_t off = 100, t = 10 * G;
    for (int i = 0; i < 3000; i++) {
        if (next_rand() % 7 == 0)
            t += G * (int64_t)(1 + next_rand() % 6); /* a gap: empty windows */
        int k = 1 + (int)(next_rand() % 3);
        mw[nw] = (struct mwin){t, INT64_MAX, -1, 0, 0};
        for (int j = 0; j < k; j++) {
            double v = (double)(next_rand() % 1000);
            off += 1 + (int64_t)(next_rand() % 100000); /* other records in between */
            push(w, p, t + j * 1000, v, off);
            mw[nw].sum += v;
            mw[nw].n++;
            mw[nw].min_off = off < mw[nw].min_off ? off : mw[nw].min_off;
            mw[nw].max_off = off;
        }
        nw++;
        t += G;
    }
    ad_window_flush(w);
    /* every slide scores the newest window closed before its end */
    AD_EXPECT_INT(l.n, >, 2000);
    int last = 0;
    for (int e = 0; e < l.n; e++) {
        const struct rec *r = &l.r[e];
        AD_EXPECT_INT(r->end - r->start, ==, WIN);
        while (last + 1 < nw && mw[last + 1].start + G <= r->end)
            last++;
        const struct mwin *m = &mw[last];
        AD_EXPECT(r->v == m->sum / m->n);
        AD_EXPECT_INT(r->off, ==, m->max_off);
        AD_EXPECT_INT(r->low_off, ==, m->min_off);
        size_t n = 0;
        for (int i = last; i >= 0 && mw[i].start >= r->start; i--)
            n++;
        AD_EXPECT_UINT(r->n_points, ==, n);
        for (size_t i = 0; i < n && i < r->n_points; i++) {
            const struct mwin *mi = &mw[last + 1 - (int)n + (int)i];
            AD_EXPECT_INT(r->pts[i].t_us, ==, mi->start);
            AD_EXPECT(r->pts[i].v == mi->sum / mi->n);
        }
    }
    ad_window_free(w);
}

/* ---- overflow of the time deltas ---- */

static void run_gap(struct log *l, int64_t gap, bool scope)
{
    /* granularity 1 us: 2^31 steps are 36 minutes */
    struct ad_window *w = make(l, 1, 8, 2, scope);
    struct ad_part *p = ad_window_part(w, "t", 0);
    uint64_t saved = rng;
    int64_t t = 1000;
    for (int i = 0; i < 400; i++) {
        if (i % 50 == 25)
            t += gap;
        push(w, p, t, (double)(next_rand() % 1000), i);
        t += 1 + (int64_t)(next_rand() % 3);
    }
    ad_window_flush(w);
    rng = saved;
    ad_window_free(w);
}

static void compare_gap_runs(bool scope)
{
    static struct log a, b;
    const int64_t small = 1000, big = 3000000000LL; /* > 2^31 steps */
    a.n = b.n = 0;
    run_gap(&a, small, scope);
    run_gap(&b, big, scope);
    AD_EXPECT_INT(a.n, ==, b.n);
    AD_EXPECT_INT(a.n, >, 100);
    for (int i = 0; i < a.n; i++) {
        const struct rec *x = &a.r[i], *y = &b.r[i];
        int64_t shift = y->end - x->end; /* a whole number of gaps */
        AD_EXPECT_INT(shift % (big - small), ==, 0);
        AD_EXPECT(x->v == y->v);
        AD_EXPECT_INT(x->off, ==, y->off);
        AD_EXPECT_INT(x->low_off, ==, y->low_off);
        AD_EXPECT_UINT(x->n_points, ==, y->n_points);
        AD_EXPECT_UINT(x->model_n, ==, y->model_n);
        AD_EXPECT(x->model_mean == y->model_mean);
        for (size_t j = 0; j < x->n_points && j < 64; j++) {
            AD_EXPECT_INT(y->pts[j].t_us - x->pts[j].t_us, ==, shift);
            AD_EXPECT(x->pts[j].v == y->pts[j].v);
        }
    }
}

static void test_delta_overflow_lifetime(void)
{
    compare_gap_runs(false);
}

static void test_delta_overflow_window_scope(void)
{
    compare_gap_runs(true);
}

/* ---- restore and export ---- */

struct exp {
    struct ad_ring_point ring[64];
    uint32_t rlen;
    int calls;
};

static int on_state(void *ud, const struct ad_series_state *st)
{
    struct exp *e = ud;
    e->calls++;
    e->rlen = st->rlen;
    memcpy(e->ring, st->ring, st->rlen * sizeof(*st->ring));
    return 0;
}

static void restore_export(bool off_grid)
{
    static struct log l;
    const int64_t G = 1000000;
    struct ad_window *w = make(&l, G, 6 * G, 2 * G, true);
    struct ad_part *p = ad_window_part(w, "t", 0);
    /* with off_grid, 2.5 s is off the tumbling grid: the ring goes wide */
    struct ad_ring_point in[6] = {
        {1 * G, 1.5, 10, 9, true},  {2 * G + (off_grid ? G / 2 : 0), 2.5, 20, 19, true},
        {3 * G, 3.5, 30, 29, true}, {4 * G, 4.5, 40, 38, false},
        {5 * G, 5.5, 50, 45, true}, {7 * G, -0.25, 1LL << 40, (1LL << 40) - 7, true},
    };
    struct ad_series_state st = {.key = "s",
                                 .key_len = 1,
                                 .model_off = 50,
                                 .last_t = INT64_MIN,
                                 .closed_until = 8 * G,
                                 .next_e = 10 * G,
                                 .pending = true,
                                 .ring = in,
                                 .rlen = 6};
    /* the ring holds (6 + 2) / 1 = 8 points: all 6 */
    AD_EXPECT_INT(ad_window_restore(w, p, &st), ==, 0);
    struct exp e = {0};
    AD_EXPECT_INT(ad_window_part_export(w, p, false, on_state, &e), ==, 0);
    AD_EXPECT_INT(e.calls, ==, 1);
    AD_EXPECT_UINT(e.rlen, ==, 6);
    for (uint32_t i = 0; i < e.rlen; i++) {
        const struct ad_ring_point *a = &e.ring[i], *b = &in[i];
        AD_EXPECT_INT(a->t_us, ==, b->t_us);
        AD_EXPECT(a->v == b->v);
        AD_EXPECT(a->in_model == b->in_model);
        AD_EXPECT_INT(a->off, ==, i + 1 == e.rlen ? b->off : -1);
        AD_EXPECT_INT(a->low_off, ==, i + 1 == e.rlen ? b->low_off : -1);
    }
    /* the pending slide scores the newest point with its offsets */
    l.n = 0;
    ad_window_flush(w);
    AD_EXPECT_INT(l.n, ==, 1);
    AD_EXPECT_INT(l.r[0].off, ==, 1LL << 40);
    AD_EXPECT_INT(l.r[0].low_off, ==, (1LL << 40) - 7);
    AD_EXPECT(l.r[0].v == -0.25);
    AD_EXPECT_UINT(l.r[0].n_points, ==, 3); /* [4 s, 10 s) */
    ad_window_free(w);
}

static void test_restore_export(void)
{
    restore_export(false);
    restore_export(true);
}

/* A ring restored longer than the window's ring keeps its newest points. */
static void test_restore_truncates(void)
{
    static struct log l;
    const int64_t G = 1000000;
    struct ad_window *w = make(&l, G, 3 * G, G, false); /* ring of 4 */
    struct ad_part *p = ad_window_part(w, "t", 0);
    struct ad_ring_point in[7];
    for (int i = 0; i < 7; i++)
        in[i] = (struct ad_ring_point){i * G, i + 0.5, 100 + i, 90 + i, true};
    struct ad_series_state st = {.key = "s",
                                 .key_len = 1,
                                 .last_t = INT64_MIN,
                                 .closed_until = 7 * G,
                                 .ring = in,
                                 .rlen = 7,
                                 .unlearned = 2};
    AD_EXPECT_INT(ad_window_restore(w, p, &st), ==, 0);
    struct exp e = {0};
    AD_EXPECT_INT(ad_window_part_export(w, p, false, on_state, &e), ==, 0);
    AD_EXPECT_UINT(e.rlen, ==, 4);
    for (uint32_t i = 0; i < 4; i++) {
        AD_EXPECT_INT(e.ring[i].t_us, ==, in[3 + i].t_us);
        AD_EXPECT(e.ring[i].v == in[3 + i].v);
    }
    AD_EXPECT_INT(e.ring[3].off, ==, 106);
    ad_window_free(w);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_wrap_around_offsets_exact);
    AD_TEST_RUN(argc, argv, test_delta_overflow_lifetime);
    AD_TEST_RUN(argc, argv, test_delta_overflow_window_scope);
    AD_TEST_RUN(argc, argv, test_restore_export);
    AD_TEST_RUN(argc, argv, test_restore_truncates);
    return ad_test_done();
}
