/* ad_window_ring.c - the sliding ring of closed tumbling points, and closing
 * windows: a tumbling window's aggregate, a sliding window's slide, the
 * scoring event handed to the callback. */

#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_window_int.h"
#include "ad_types.h"

/* ---- sliding ring --------------------------------------------------------- */

#define TQ_IN_MODEL 0x80000000u
#define TQ_MAX      0x7fffffffu

/* Bytes of a ring of cap points: compact, the values then uint32 tq[cap];
 * wide, the values then int64 t[cap] then uint8 in_model[cap]. */
static size_t ring_bytes(uint32_t cap, bool wide)
{
    size_t per = sizeof(double) + (wide ? sizeof(int64_t) + 1 : sizeof(uint32_t));
    return sizeof(struct ad_cring) + (size_t)cap * per;
}

static uint32_t *tq_of(const struct ad_cring *r, uint32_t cap)
{
    return (uint32_t *)(uintptr_t)(r->v + cap);
}

static int64_t *t64_of(const struct ad_cring *r, uint32_t cap)
{
    return (int64_t *)(uintptr_t)(r->v + cap);
}

static uint8_t *im_of(const struct ad_cring *r, uint32_t cap)
{
    return (uint8_t *)(t64_of(r, cap) + cap);
}

static int64_t t_at(const struct ad_cring *r, uint32_t cap, uint32_t j)
{
    if (r->wide)
        return t64_of(r, cap)[j];
    return r->base + (int64_t)(tq_of(r, cap)[j] & TQ_MAX) * r->unit;
}

static bool im_at(const struct ad_cring *r, uint32_t cap, uint32_t j)
{
    return r->wide ? im_of(r, cap)[j] != 0 : (tq_of(r, cap)[j] & TQ_IN_MODEL) != 0;
}

/* Writes a point at j (compact: t is on the base's grid, within TQ_MAX). */
static void put_at(struct ad_cring *r, uint32_t cap, uint32_t j, int64_t t, double v, bool im)
{
    r->v[j] = v;
    if (r->wide) {
        t64_of(r, cap)[j] = t;
        im_of(r, cap)[j] = im;
    } else {
        tq_of(r, cap)[j] = (uint32_t)((t - r->base) / r->unit) | (im ? TQ_IN_MODEL : 0);
    }
}

static uint32_t ring_idx(const struct ad_series *s, uint32_t i)
{
    return (s->rhead + i) % s->rcap;
}

int64_t ad_win_ring_t(const struct ad_series *s, uint32_t i)
{
    return t_at(s->ring, s->rcap, ring_idx(s, i));
}

double ad_win_ring_v(const struct ad_series *s, uint32_t i)
{
    return s->ring->v[ring_idx(s, i)];
}

static bool ring_in_model(const struct ad_series *s, uint32_t i)
{
    return im_at(s->ring, s->rcap, ring_idx(s, i));
}

void ad_win_ring_get(const struct ad_series *s, uint32_t i, struct ad_ring_point *out)
{
    bool newest = i + 1 == s->rlen;
    *out = (struct ad_ring_point){.t_us = ad_win_ring_t(s, i),
                                  .v = ad_win_ring_v(s, i),
                                  .off = newest ? s->ring->off : -1,
                                  .low_off = newest ? s->ring->low_off : -1,
                                  .in_model = ring_in_model(s, i)};
}

/* Writes pt as the ring's newest point (room made; compact: t fits). */
static void ring_store(struct ad_series *s, const struct ad_ring_point *pt)
{
    put_at(s->ring, s->rcap, ring_idx(s, s->rlen), pt->t_us, pt->v, pt->in_model);
    s->ring->off = pt->off;
    s->ring->low_off = pt->low_off;
    s->rlen++;
}

/* Can t be stored against the ring's base? */
static bool ring_fits(const struct ad_series *s, int64_t t)
{
    const struct ad_cring *r = s->ring;
    if (r->wide || s->rlen == 0)
        return true;
    if (t < r->base || (t - r->base) % r->unit)
        return false;
    return (t - r->base) / r->unit <= TQ_MAX;
}

/* A new ring of cap points (wide or not) holding s's points from index 0,
 * or NULL. A compact copy keeps the base, so its points must fit it. */
static struct ad_cring *ring_copy(const struct ad_window *w, const struct ad_series *s,
                                  uint32_t cap, bool wide)
{
    struct ad_cring *nr = ad_malloc(ring_bytes(cap, wide));
    if (!nr)
        return NULL;
    *nr = (struct ad_cring){.base = s->ring ? s->ring->base : 0,
                            .unit = w->cfg.size_us,
                            .off = s->ring ? s->ring->off : -1,
                            .low_off = s->ring ? s->ring->low_off : -1,
                            .wide = wide};
    for (uint32_t i = 0; i < s->rlen; i++)
        put_at(nr, cap, i, ad_win_ring_t(s, i), ad_win_ring_v(s, i), ring_in_model(s, i));
    return nr;
}

static void ring_drop_oldest(struct ad_window *w, struct ad_series *s)
{
    double v = ad_win_ring_v(s, 0);
    if (w->cfg.window_scope) {
        if (ring_in_model(s, 0))
            ad_welford_remove(&s->win, v);
    } else if (s->unlearned >= s->rlen) {
        /* Never scored, about to be forgotten: learn it first. */
        ad_welford_add(&s->life, v);
        s->unlearned--;
    }
    s->rhead = (s->rhead + 1) % s->rcap;
    s->rlen--;
}

static void ring_push(struct ad_window *w, struct ad_series *s, const struct ad_ring_point *pt)
{
    if (s->rlen == s->rcap && s->rcap < w->ring_max) {
        uint32_t ncap = s->rcap ? s->rcap * 2 : 4;
        if (ncap > w->ring_max)
            ncap = w->ring_max;
        struct ad_cring *nr = ring_copy(w, s, ncap, s->ring && s->ring->wide);
        if (!nr) {
            /* Out of memory: the point, or the oldest one (which the full
             * window still needed), is lost to the sliding window. */
            w->st.nomem++;
            if (s->rcap == 0)
                return;
        } else {
            ad_free(s->ring);
            s->ring = nr;
            s->rcap = ncap;
            s->rhead = 0;
        }
    }
    if (s->rlen == s->rcap)
        ring_drop_oldest(w, s);
    if (s->rlen == 0) {
        s->ring->wide = false; /* a wide block has room for the compact form */
        s->ring->base = pt->t_us;
    } else if (!ring_fits(s, pt->t_us)) {
        /* A time off the base's grid or 2^31 steps past it (a long gap with
         * a fine granularity, or a ring restored from another one): the
         * ring goes wide (int64 times) until it is empty again. */
        struct ad_cring *nr = ring_copy(w, s, s->rcap, true);
        if (!nr) {
            w->st.nomem++; /* the point is lost to the sliding window */
            return;
        }
        ad_free(s->ring);
        s->ring = nr;
        s->rhead = 0;
    }
    ring_store(s, pt);
}

int ad_win_ring_load(struct ad_window *w, struct ad_series *s, const struct ad_ring_point *pts,
                     uint32_t n)
{
    s->rlen = 0;
    s->rhead = 0;
    if (n > w->ring_max) {
        pts += n - w->ring_max; /* the newest ring_max */
        n = w->ring_max;
    }
    if (n == 0)
        return 0;
    int64_t G = w->cfg.size_us, lo = pts[0].t_us, hi = pts[0].t_us;
    bool wide = false;
    for (uint32_t i = 1; i < n; i++) {
        lo = pts[i].t_us < lo ? pts[i].t_us : lo;
        hi = pts[i].t_us > hi ? pts[i].t_us : hi;
        wide = wide || (pts[i].t_us - pts[0].t_us) % G != 0;
    }
    wide = wide || (uint64_t)hi - (uint64_t)lo > (uint64_t)TQ_MAX * (uint64_t)G;
    if (n > s->rcap || wide) {
        struct ad_cring *nr = ad_malloc(ring_bytes(n, wide));
        if (!nr)
            return AD_ENOMEM;
        ad_free(s->ring);
        s->ring = nr;
        s->rcap = n;
    }
    *s->ring = (struct ad_cring){.base = lo, .unit = G, .wide = wide};
    for (uint32_t i = 0; i < n; i++)
        ring_store(s, &pts[i]);
    return (int)n;
}

/* ---- emitting --------------------------------------------------------------- */

void ad_win_emit_simple(struct ad_window *w, struct ad_series *s, int64_t start, int64_t end,
                        double v, int64_t off, int64_t low_off, enum ad_window_reason reason)
{
    struct ad_window_event ev = {
        .series = s,
        .part = s->part,
        .start_us = start,
        .end_us = end,
        .value = v,
        .offset = off,
        .low_offset = low_off,
        .model = &s->life,
        .n_points = 1,
        .reason = reason,
        .det = ad_win_series_det(w, s),
    };
    w->st.events++;
    ad_win_mark_dirty(s);
    if (w->cb(w->ud, &ev))
        ad_welford_add(&s->life, v);
}

/* Emits the pending slide of s: the window [next_e - size, next_e). */
static void emit_slide(struct ad_window *w, struct ad_series *s, enum ad_window_reason reason)
{
    int64_t e = s->next_e, wstart = e - w->cfg.win_us;
    struct ad_welford tmp;
    const struct ad_welford *model;

    s->pending = false;
    while (s->rlen && ad_win_ring_t(s, 0) < wstart)
        ring_drop_oldest(w, s);
    if (s->rlen == 0)
        return;
    struct ad_ring_point cand;
    ad_win_ring_get(s, s->rlen - 1, &cand);
    if (w->cfg.window_scope) {
        tmp = s->win;
        if (cand.in_model)
            ad_welford_remove(&tmp, cand.v);
        model = &tmp;
    } else {
        /* Points that entered since the last slide, but the newest, are learnt
         * unscored: a slide scores its newest point, as last/detect does. */
        for (uint32_t i = s->rlen - s->unlearned; s->unlearned > 1; i++, s->unlearned--)
            ad_welford_add(&s->life, ad_win_ring_v(s, i));
        model = &s->life;
    }
    struct ad_window_event ev = {
        .series = s,
        .part = s->part,
        .start_us = wstart,
        .end_us = e,
        .value = cand.v,
        .offset = cand.off,
        .low_offset = cand.low_off,
        .model = model,
        .n_points = s->rlen,
        .reason = reason,
        .det = ad_win_series_det(w, s),
    };
    w->st.slides++;
    w->st.events++;
    ad_win_mark_dirty(s);
    bool learn = w->cb(w->ud, &ev);
    if (w->cfg.window_scope) {
        if (!learn && cand.in_model) {
            ad_welford_remove(&s->win, cand.v);
            put_at(s->ring, s->rcap, ring_idx(s, s->rlen - 1), cand.t_us, cand.v, false);
        }
    } else {
        if (learn && s->unlearned)
            ad_welford_add(&s->life, cand.v);
        s->unlearned = 0;
    }
}

static void slide_append(struct ad_window *w, struct ad_series *s, int64_t start, double v,
                         int64_t off, int64_t low_off, enum ad_window_reason reason)
{
    int64_t pe = start + w->cfg.size_us, S = w->cfg.slide_us;
    struct ad_ring_point pt = {.t_us = start,
                               .v = v,
                               .off = off,
                               .low_off = low_off,
                               .in_model = true};

    if (s->pending && pe > s->next_e)
        emit_slide(w, s, reason);
    ring_push(w, s, &pt);
    if (w->cfg.window_scope)
        ad_welford_add(&s->win, v);
    else if (s->unlearned < s->rlen)
        s->unlearned++;
    if (!s->pending) {
        s->pending = true;
        s->next_e = (pe + S - 1) / S * S;
    }
    if (pe == s->next_e)
        emit_slide(w, s, reason);
}

static double slot_value(const struct ad_window *w, const struct slot *sl)
{
    switch (w->cfg.aggregate) {
    case AD_AGG_MIN:
    case AD_AGG_MAX:
    case AD_AGG_SUM:
    case AD_AGG_LAST:
        return sl->acc;
    case AD_AGG_COUNT:
        return (double)sl->count;
    default:
        return sl->acc / (double)sl->count;
    }
}

struct slot *ad_win_slot_find(const struct ad_series *s, int64_t start)
{
    for (uint32_t i = 0; i < s->nslots; i++)
        if (s->slots[i].count && s->slots[i].start == start)
            return &s->slots[i];
    return NULL;
}

static void find_oldest(struct ad_series *s)
{
    int64_t best = INT64_MAX;
    for (uint32_t i = 0; i < s->nslots; i++)
        if (s->slots[i].count && s->slots[i].start < best)
            best = s->slots[i].start;
    s->oldest_start = best;
}

static void close_slot(struct ad_window *w, struct ad_series *s, struct slot *sl,
                       enum ad_window_reason reason)
{
    int64_t start = sl->start, end = start + w->cfg.size_us;
    double v = slot_value(w, sl);
    int64_t off = sl->max_off, low_off = sl->min_off;

    sl->count = 0;
    ad_win_lo_unlink(s->part, sl);
    s->n_open--;
    ad_win_mark_dirty(s);
    if (end > s->closed_until)
        s->closed_until = end;
    if (off > s->model_off)
        s->model_off = off;
    if (s->n_open)
        find_oldest(s);
    w->st.windows++;
    if (w->cfg.sliding)
        slide_append(w, s, start, v, off, low_off, reason);
    else
        ad_win_emit_simple(w, s, start, end, v, off, low_off, reason);
}

/* Closes, oldest first, every window of s that ends at or before limit, and
 * the pending slide if its boundary is at or before limit. */
void ad_win_close_until(struct ad_window *w, struct ad_series *s, int64_t limit,
                        enum ad_window_reason reason)
{
    while (s->n_open && s->oldest_start + w->cfg.size_us <= limit)
        close_slot(w, s, ad_win_slot_find(s, s->oldest_start), reason);
    /* Windows still open end after limit, so none holds a point of the slide. */
    if (s->pending && s->next_e <= limit)
        emit_slide(w, s, reason);
    if (s->n_open == 0 && !s->pending)
        ad_win_act_unlink(s);
    else
        ad_win_rekey(w, s);
}
