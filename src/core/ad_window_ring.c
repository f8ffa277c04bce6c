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

static uint32_t *ring_tq(const struct ad_series *s)
{
    return (uint32_t *)(void *)(s->ring->v + s->rcap);
}

static uint32_t ring_idx(const struct ad_series *s, uint32_t i)
{
    return (s->rhead + i) % s->rcap;
}

static size_t ring_bytes(uint32_t cap)
{
    return sizeof(struct ad_cring) + (size_t)cap * (sizeof(double) + sizeof(uint32_t));
}

int64_t ad_win_ring_t(const struct ad_series *s, uint32_t i)
{
    uint32_t q = ring_tq(s)[ring_idx(s, i)] & TQ_MAX;
    return s->ring->base + (int64_t)q * s->ring->unit;
}

double ad_win_ring_v(const struct ad_series *s, uint32_t i)
{
    return s->ring->v[ring_idx(s, i)];
}

static bool ring_in_model(const struct ad_series *s, uint32_t i)
{
    return (ring_tq(s)[ring_idx(s, i)] & TQ_IN_MODEL) != 0;
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

/* Writes point pt as the ring's newest (room made, base set, t encodable). */
static void ring_store(struct ad_series *s, const struct ad_ring_point *pt)
{
    uint32_t j = ring_idx(s, s->rlen);
    uint32_t q = (uint32_t)((pt->t_us - s->ring->base) / s->ring->unit);
    s->ring->v[j] = pt->v;
    ring_tq(s)[j] = q | (pt->in_model ? TQ_IN_MODEL : 0);
    s->ring->off = pt->off;
    s->ring->low_off = pt->low_off;
    s->rlen++;
}

/* Can t be stored against the ring's base? */
static bool ring_fits(const struct ad_series *s, int64_t t)
{
    const struct ad_cring *r = s->ring;
    if (s->rlen == 0)
        return true;
    if (t < r->base || (t - r->base) % r->unit)
        return false;
    return (t - r->base) / r->unit <= TQ_MAX;
}

/* A new ring of cap points holding s's points (oldest at 0), or NULL. */
static struct ad_cring *ring_copy(const struct ad_series *s, uint32_t cap, int64_t unit)
{
    struct ad_cring *nr = ad_malloc(ring_bytes(cap));
    if (!nr)
        return NULL;
    *nr = (struct ad_cring){.base = s->ring ? s->ring->base : 0,
                            .unit = unit,
                            .off = s->ring ? s->ring->off : -1,
                            .low_off = s->ring ? s->ring->low_off : -1};
    uint32_t *tq = (uint32_t *)(void *)(nr->v + cap);
    for (uint32_t i = 0; i < s->rlen; i++) {
        nr->v[i] = s->ring->v[ring_idx(s, i)];
        tq[i] = ring_tq(s)[ring_idx(s, i)];
    }
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

/* Makes the ring able to take t when its offset from the base does not fit
 * (t before the base, off the base's grid, or 2^31 steps past it): first the
 * points no later window can hold (t's own window ends at t + size; a window
 * ending there or later starts at t + size - win or later) are dropped as a
 * later slide would drop them, then the base moves to the oldest point (or
 * t); a point still in the way (possible only for a ring restored from a
 * checkpoint of another granularity) is dropped too. */
static void ring_refit(struct ad_window *w, struct ad_series *s, int64_t t)
{
    int64_t keep_from = t + w->cfg.size_us - w->cfg.win_us;
    while (s->rlen && ad_win_ring_t(s, 0) < keep_from)
        ring_drop_oldest(w, s);
    struct ad_cring *r = s->ring;
    for (; s->rlen; ring_drop_oldest(w, s)) {
        int64_t nb = ad_win_ring_t(s, 0), hi = t;
        nb = t < nb ? t : nb;
        for (uint32_t i = 0; i < s->rlen; i++)
            hi = ad_win_ring_t(s, i) > hi ? ad_win_ring_t(s, i) : hi;
        if ((r->base - nb) % r->unit || (t - nb) % r->unit || (hi - nb) / r->unit > TQ_MAX)
            continue;
        for (uint32_t i = 0; i < s->rlen; i++) {
            uint32_t *q = &ring_tq(s)[ring_idx(s, i)];
            uint32_t nq = (uint32_t)((ad_win_ring_t(s, i) - nb) / r->unit); /* <= TQ_MAX */
            *q = nq | (*q & TQ_IN_MODEL);
        }
        r->base = nb;
        return;
    }
    r->base = t;
}

static void ring_push(struct ad_window *w, struct ad_series *s, const struct ad_ring_point *pt)
{
    if (s->rlen == s->rcap && s->rcap < w->ring_max) {
        uint32_t ncap = s->rcap ? s->rcap * 2 : 4;
        if (ncap > w->ring_max)
            ncap = w->ring_max;
        struct ad_cring *nr = ring_copy(s, ncap, w->cfg.size_us);
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
    if (s->rlen == 0)
        s->ring->base = pt->t_us;
    else if (!ring_fits(s, pt->t_us))
        ring_refit(w, s, pt->t_us);
    ring_store(s, pt);
}

int ad_win_ring_load(struct ad_window *w, struct ad_series *s, const struct ad_ring_point *pts,
                     uint32_t n)
{
    s->rlen = 0;
    s->rhead = 0;
    if (n > w->ring_max)
        n = w->ring_max;
    if (n == 0)
        return 0;
    /* The longest run of newest points on the newest one's grid within
     * 2^31 steps of the oldest of them. */
    const struct ad_ring_point *last = &pts[n - 1];
    int64_t G = w->cfg.size_us, lo = last->t_us, hi = last->t_us;
    uint32_t k = 1;
    for (; k < n; k++) {
        int64_t t = pts[n - 1 - k].t_us;
        int64_t nlo = t < lo ? t : lo, nhi = t > hi ? t : hi;
        if ((last->t_us - t) % G || (nhi - nlo) / G > TQ_MAX)
            break;
        lo = nlo;
        hi = nhi;
    }
    if (k > s->rcap) {
        struct ad_cring *nr = ad_malloc(ring_bytes(k));
        if (!nr)
            return AD_ENOMEM;
        ad_free(s->ring);
        s->ring = nr;
        s->rcap = k;
    }
    s->ring->unit = G;
    s->ring->base = lo;
    for (uint32_t i = n - k; i < n; i++)
        ring_store(s, &pts[i]);
    return (int)k;
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
            ring_tq(s)[ring_idx(s, s->rlen - 1)] &= ~TQ_IN_MODEL;
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
        return sl->min;
    case AD_AGG_MAX:
        return sl->max;
    case AD_AGG_SUM:
        return sl->sum;
    case AD_AGG_COUNT:
        return (double)sl->count;
    case AD_AGG_LAST:
        return sl->last;
    default:
        return sl->sum / (double)sl->count;
    }
}

static void find_oldest(const struct ad_window *w, struct ad_series *s)
{
    int64_t best = INT64_MAX;
    for (uint32_t i = 0; i < w->nslots; i++)
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
    s->n_open--;
    ad_win_mark_dirty(s);
    if (end > s->closed_until)
        s->closed_until = end;
    if (off > s->model_off)
        s->model_off = off;
    if (s->n_open)
        find_oldest(w, s);
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
    while (s->n_open && s->oldest_start + w->cfg.size_us <= limit) {
        uint32_t idx = (uint32_t)((uint64_t)(s->oldest_start / w->cfg.size_us) % w->nslots);
        close_slot(w, s, &s->slots[idx], reason);
    }
    /* Windows still open end after limit, so none holds a point of the slide. */
    if (s->pending && s->next_e <= limit)
        emit_slide(w, s, reason);
    if (s->n_open == 0 && !s->pending)
        ad_win_act_unlink(s);
    else
        ad_win_rekey(w, s);
}
