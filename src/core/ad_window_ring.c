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

struct ad_ring_point *ad_win_ring_at(const struct ad_series *s, uint32_t i)
{
    return &s->ring[(s->rhead + i) % s->rcap];
}

static void ring_drop_oldest(struct ad_window *w, struct ad_series *s)
{
    struct ad_ring_point *p = ad_win_ring_at(s, 0);
    if (w->cfg.window_scope) {
        if (p->in_model)
            ad_welford_remove(&s->win, p->v);
    } else if (s->unlearned >= s->rlen) {
        /* Never scored, about to be forgotten: learn it first. */
        ad_welford_add(&s->life, p->v);
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
        struct ad_ring_point *nr = ad_malloc((size_t)ncap * sizeof(*nr));
        if (!nr) {
            /* Out of memory: the point, or the oldest one (which the full
             * window still needed), is lost to the sliding window. */
            w->st.nomem++;
            if (s->rcap == 0)
                return;
        } else {
            for (uint32_t i = 0; i < s->rlen; i++)
                nr[i] = *ad_win_ring_at(s, i);
            ad_free(s->ring);
            s->ring = nr;
            s->rcap = ncap;
            s->rhead = 0;
        }
    }
    if (s->rlen == s->rcap)
        ring_drop_oldest(w, s);
    *ad_win_ring_at(s, s->rlen) = *pt;
    s->rlen++;
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
    while (s->rlen && ad_win_ring_at(s, 0)->t_us < wstart)
        ring_drop_oldest(w, s);
    if (s->rlen == 0)
        return;
    struct ad_ring_point *cand = ad_win_ring_at(s, s->rlen - 1);
    if (w->cfg.window_scope) {
        tmp = s->win;
        if (cand->in_model)
            ad_welford_remove(&tmp, cand->v);
        model = &tmp;
    } else {
        /* Points that entered since the last slide, but the newest, are learnt
         * unscored: a slide scores its newest point, as last/detect does. */
        for (uint32_t i = s->rlen - s->unlearned; s->unlearned > 1; i++, s->unlearned--)
            ad_welford_add(&s->life, ad_win_ring_at(s, i)->v);
        model = &s->life;
    }
    struct ad_window_event ev = {
        .series = s,
        .part = s->part,
        .start_us = wstart,
        .end_us = e,
        .value = cand->v,
        .offset = cand->off,
        .low_offset = cand->low_off,
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
        if (!learn && cand->in_model) {
            ad_welford_remove(&s->win, cand->v);
            cand->in_model = false;
        }
    } else {
        if (learn && s->unlearned)
            ad_welford_add(&s->life, cand->v);
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
