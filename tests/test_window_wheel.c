/* test_window_wheel.c - window closes driven by the deadline wheel, checked
 * two ways on random inputs with injected clocks (event time and processing
 * time are arguments; nothing reads a clock):
 * - tumbling windows against a reference model written here from the rules
 *   (a point is late when its window ends at or before the watermark or the
 *   series' last closed window; a watermark advance closes, for every series
 *   with an open window that ends at or before it, all such windows, series
 *   in the order of their last accepted point; a point whose window takes
 *   the slot of an open one closes that one first; an idle tick closes series
 *   from the oldest last accepted point while they are idle): the events
 *   must be equal, in order, step by step;
 * - with sliding windows, partition moves and restores, the wheel's own
 *   invariants after every step (every active series in the wheel under its
 *   current deadline, past the watermark or within reach of the next scan;
 *   act-list order = seq order) and the partition's lowest open offset equal
 *   to a walk over its open windows (offsets rising, and not). */
#include <stdio.h>
#include <string.h>

#include "../src/core/ad_window_int.h"
#include "ad_test.h"
#include "ad_types.h"

#define NKEYS 40
#define MAXEV 4096
#define NWIN  16

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct ev {
    int key;
    int64_t start, end;
    double v;
    int reason;
};

struct evlog {
    struct ev e[MAXEV];
    int n;
};

static bool on_event(void *ud, const struct ad_window_event *e)
{
    struct evlog *l = ud;
    size_t len;
    const char *k = ad_series_key(e->series, &len);
    if (l->n < MAXEV)
        l->e[l->n++] = (struct ev){(k[1] - '0') * 10 + (k[2] - '0'), e->start_us, e->end_us,
                                   e->value, (int)e->reason};
    return true;
}

/* ---- the reference model (tumbling only, one partition) ---- */

struct mwin {
    int64_t start;
    double count;
};

struct mseries {
    struct mwin open[NWIN];
    int nopen;
    int64_t last_t, closed_until, last_seen;
    uint64_t seq; /* of the last accepted point; 0: not active */
};

struct model {
    struct mseries s[NKEYS];
    int64_t G, lateness, idle_ms, wm, max_t;
    uint64_t seq;
    struct evlog out;
};

static void m_close(struct model *m, int k, int64_t limit, int reason)
{
    struct mseries *s = &m->s[k];
    for (;;) {
        int best = -1;
        for (int i = 0; i < s->nopen; i++)
            if (s->open[i].start + m->G <= limit &&
                (best < 0 || s->open[i].start < s->open[best].start))
                best = i;
        if (best < 0)
            break;
        struct mwin w = s->open[best];
        s->open[best] = s->open[--s->nopen];
        if (w.start + m->G > s->closed_until)
            s->closed_until = w.start + m->G;
        m->out.e[m->out.n++] = (struct ev){k, w.start, w.start + m->G, w.count, reason};
    }
    if (s->nopen == 0)
        s->seq = 0;
}

/* The active series in the order of their last accepted point. */
static int m_order(const struct model *m, int *order)
{
    int n = 0;
    for (int k = 0; k < NKEYS; k++)
        if (m->s[k].seq)
            order[n++] = k;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && m->s[order[j - 1]].seq > m->s[order[j]].seq; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    return n;
}

static void m_push(struct model *m, int k, int64_t t, int64_t now)
{
    struct mseries *s = &m->s[k];
    int64_t ws = t - t % m->G, we = ws + m->G;
    s->last_seen = now;
    if (we <= s->closed_until || we <= m->wm || t == s->last_t)
        return;
    s->last_t = t;
    /* K = lateness / G + 2 slots by window number mod K: a window ahead by a
     * multiple of K (a point from far ahead of the watermark) first closes
     * the ones in its way, oldest first */
    int64_t K = m->lateness / m->G + 2;
    for (int j = 0; j < s->nopen; j++)
        if (s->open[j].start != ws && (s->open[j].start / m->G) % K == (ws / m->G) % K) {
            m_close(m, k, s->open[j].start + m->G, AD_WCLOSE_WATERMARK);
            break;
        }
    int i = 0;
    while (i < s->nopen && s->open[i].start != ws)
        i++;
    if (i == s->nopen)
        s->open[s->nopen++] = (struct mwin){ws, 0};
    s->open[i].count += 1;
    s->seq = ++m->seq;
}

static void m_advance(struct model *m, int64_t t)
{
    if (t <= m->max_t)
        return;
    m->max_t = t;
    if (t - m->lateness > m->wm)
        m->wm = t - m->lateness;
    int order[NKEYS], n = m_order(m, order);
    for (int i = 0; i < n; i++)
        m_close(m, order[i], m->wm, AD_WCLOSE_WATERMARK);
}

static void m_tick(struct model *m, int64_t now)
{
    int order[NKEYS], n = m_order(m, order);
    for (int i = 0; i < n && m->s[order[i]].last_seen <= now - m->idle_ms; i++)
        m_close(m, order[i], INT64_MAX, AD_WCLOSE_IDLE);
}

static void expect_same(const struct evlog *got, const struct evlog *want, int step)
{
    AD_EXPECT_INT(got->n, ==, want->n);
    for (int i = 0; i < got->n && i < want->n; i++) {
        const struct ev *a = &got->e[i], *b = &want->e[i];
        if (a->key != b->key || a->start != b->start || a->end != b->end || a->v != b->v ||
            a->reason != b->reason) {
            AD_FAIL_("step %d event %d: got key %d [%lld,%lld) %g reason %d, want key %d "
                     "[%lld,%lld) %g reason %d",
                     step, i, a->key, (long long)a->start, (long long)a->end, a->v, a->reason,
                     b->key, (long long)b->start, (long long)b->end, b->v, b->reason);
            return;
        }
    }
}

static void check_invariants(const struct ad_window *w);

static void key_name(char *buf, int k)
{
    snprintf(buf, 4, "k%02d", k);
}

static void run_model(int64_t lateness_s, int steps)
{
    static struct model m;
    static struct evlog got;
    struct ad_window_cfg cfg = {.tumbling = true,
                                .size_us = 1000000,
                                .aggregate = AD_AGG_COUNT,
                                .lateness_us = lateness_s * 1000000,
                                .idle_us = 3000000,
                                .max_series = 1000};
    struct ad_window *w = NULL;
    memset(&m, 0, sizeof(m));
    m.G = cfg.size_us;
    m.lateness = cfg.lateness_us;
    m.idle_ms = cfg.idle_us / 1000;
    m.wm = m.max_t = INT64_MIN;
    for (int k = 0; k < NKEYS; k++)
        m.s[k].last_t = m.s[k].closed_until = INT64_MIN;
    AD_EXPECT_INT(ad_window_new(&cfg, on_event, &got, &w), ==, 0);
    struct ad_part *p = ad_window_part(w, "t", 0);
    int64_t clock_us = 100000000, now_ms = 5000;
    for (int step = 0; step < steps; step++) {
        uint64_t r = next_rand();
        got.n = m.out.n = 0;
        if (r % 50 == 0) {
            now_ms += (int64_t)((r >> 8) % 5000);
            ad_window_tick(w, now_ms);
            m_tick(&m, now_ms);
        } else {
            int k = (int)((r >> 8) % NKEYS);
            /* event time: a clock that mostly creeps, sometimes jumps, and
             * points scattered behind it (late ones included) */
            clock_us += (int64_t)((r >> 16) % 200000);
            if ((r >> 40) % 200 == 0)
                clock_us += (int64_t)((r >> 24) % 20000000);
            int64_t t = clock_us - (int64_t)((r >> 32) % (uint64_t)(cfg.lateness_us + 1500000));
            if ((r >> 44) % 8 == 0)
                t -= t % 1000000; /* on a window boundary */
            now_ms += (int64_t)((r >> 52) % 40);
            char key[4];
            key_name(key, k);
            struct ad_window_point pt = {key, 3, 0, t, 1.0, step};
            (void)ad_window_push(w, p, &pt, now_ms);
            m_push(&m, k, t, now_ms);
            ad_window_advance(w, p, clock_us);
            m_advance(&m, clock_us);
        }
        expect_same(&got, &m.out, step);
        check_invariants(w);
    }
    ad_window_free(w);
}

static void test_tumbling_against_model(void)
{
    run_model(0, 40000);
}

static void test_tumbling_lateness_against_model(void)
{
    run_model(3, 40000);
}

/* ---- invariants (sliding, moves between partitions, restores) ---- */

/* The lowest offset of p's open windows as a walk over them finds it. */
static int64_t walk_low(const struct ad_part *p)
{
    int64_t low = -1;
    for (const struct ad_series *s = p->act_head; s; s = s->act_next)
        for (uint32_t i = 0; i < s->nslots; i++)
            if (s->slots[i].count && (low < 0 || s->slots[i].min_off < low))
                low = s->slots[i].min_off;
    return low;
}

static void check_invariants(const struct ad_window *w)
{
    for (const struct ad_part *p = w->parts; p; p = p->next) {
        uint64_t n = 0, prev = 0;
        for (const struct ad_series *s = p->act_head; s; s = s->act_next) {
            AD_EXPECT(s->in_act && s->part == p);
            const struct ad_wheel_node *x = ad_win_node(s);
            AD_EXPECT(x->in);
            AD_EXPECT_INT(x->key, ==, ad_win_deadline(w, s));
            /* past the watermark, or else (a series that came from a
             * partition further behind) found by the next advance's scan */
            if (x->key <= p->wm)
                AD_EXPECT_INT(x->key / p->due.unit, >=, p->due.scan_from);
            AD_EXPECT_UINT(x->seq, >, prev);
            prev = x->seq;
            n++;
        }
        AD_EXPECT_UINT(p->due.n, ==, n);
        AD_EXPECT_INT(ad_part_low_offset(p), ==, walk_low(p));
    }
}

static bool count_only(void *ud, const struct ad_window_event *e)
{
    (void)e;
    (*(uint64_t *)ud)++;
    return true;
}

static void run_invariants(bool window_scope, int64_t lateness_s)
{
    uint64_t events = 0;
    struct ad_window_cfg cfg = {.tumbling = true,
                                .size_us = 1000000,
                                .aggregate = AD_AGG_MEAN,
                                .sliding = true,
                                .win_us = 5000000,
                                .slide_us = 2000000,
                                .lateness_us = lateness_s * 1000000,
                                .idle_us = 4000000,
                                .window_scope = window_scope,
                                .max_series = 30};
    struct ad_window *w = NULL;
    AD_EXPECT_INT(ad_window_new(&cfg, count_only, &events, &w), ==, 0);
    struct ad_part *parts[2] = {ad_window_part(w, "t", 0), ad_window_part(w, "t", 1)};
    int64_t clock[2] = {50000000, 47000000}, now_ms = 1000;
    for (int step = 0; step < 30000; step++) {
        uint64_t r = next_rand();
        int pi = (int)(r & 1);
        char key[4];
        key_name(key, (int)((r >> 8) % NKEYS));
        if (r % 97 == 0) {
            now_ms += (int64_t)((r >> 16) % 6000);
            ad_window_tick(w, now_ms);
        } else if (r % 89 == 0) {
            /* a restore of a series with a pending slide */
            struct ad_ring_point ring[2] = {{clock[pi] - 3000000, 1.0, 1, 1, true},
                                            {clock[pi] - 2000000, 2.0, 2, 2, true}};
            struct ad_series_state st = {.key = key,
                                         .key_len = 3,
                                         .life = {0},
                                         .model_off = 2,
                                         .last_t = INT64_MIN,
                                         .closed_until = clock[pi] - 1000000,
                                         .next_e = clock[pi] - clock[pi] % 2000000 + 2000000,
                                         .pending = true,
                                         .ring = ring,
                                         .rlen = 2};
            AD_EXPECT_INT(ad_window_restore(w, parts[pi], &st), ==, 0);
        } else {
            clock[pi] += (int64_t)((r >> 16) % 300000);
            if ((r >> 40) % 300 == 0)
                clock[pi] += (int64_t)((r >> 24) % 15000000);
            int64_t t = clock[pi] - (int64_t)((r >> 32) % (uint64_t)(cfg.lateness_us + 1500000));
            now_ms += (int64_t)((r >> 52) % 40);
            /* offsets: mostly rising, sometimes unknown (-1) or going back */
            int64_t off = (r >> 20) % 500 == 0 ? -1 : (r >> 20) % 500 == 1 ? step / 2 : step;
            struct ad_window_point pt = {key, 3, (uint32_t)((r >> 60) & 1), t, (double)(r % 1000),
                                         off};
            (void)ad_window_push(w, parts[pi], &pt, now_ms);
            ad_window_advance(w, parts[pi], clock[pi]);
        }
        check_invariants(w);
    }
    AD_EXPECT_UINT(events, >, 1000);
    ad_window_flush(w);
    check_invariants(w);
    for (int i = 0; i < 2; i++)
        AD_EXPECT_UINT(parts[i]->due.n, ==, 0);
    ad_window_free(w);
}

static void test_sliding_invariants(void)
{
    run_invariants(false, 0);
    run_invariants(false, 2);
}

static void test_sliding_window_scope_invariants(void)
{
    run_invariants(true, 1);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_tumbling_against_model);
    AD_TEST_RUN(argc, argv, test_tumbling_lateness_against_model);
    AD_TEST_RUN(argc, argv, test_sliding_invariants);
    AD_TEST_RUN(argc, argv, test_sliding_window_scope_invariants);
    return ad_test_done();
}
