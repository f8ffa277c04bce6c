/* ad_window_state.c - what a checkpoint keeps of a series (export, restore),
 * the evicted-series store, and read-only accessors. */

#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_window_int.h"

int ad_window_foreach(const struct ad_window *w, ad_window_series_fn fn, void *ud)
{
    for (const struct ad_series *s = w->lru_head; s; s = s->lru_next) {
        int rc = fn(ud, s);
        if (rc)
            return rc;
    }
    return 0;
}

/* Fills st from s; ring is the caller's buffer, grown as needed. The open
 * windows are not state (their records are consumed again), and neither is
 * the de-duplication mark while one is open: the first record consumed again
 * may be the very point that set it. */
int ad_win_series_state(const struct ad_window *w, const struct ad_series *s,
                        struct ad_ring_point **ring, size_t *cap, struct ad_series_state *st)
{
    if (s->rlen > *cap) {
        struct ad_ring_point *nr = ad_realloc(*ring, s->rlen * sizeof(*nr));
        if (!nr)
            return AD_ENOMEM;
        *ring = nr;
        *cap = s->rlen;
    }
    for (uint32_t i = 0; i < s->rlen; i++)
        ad_win_ring_get(s, i, &(*ring)[i]);
    *st = (struct ad_series_state){
        .key = s->key,
        .key_len = s->key_len,
        .metric = s->metric,
        .life = s->life,
        .win = s->win,
        .model_off = s->model_off,
        .last_t = s->n_open ? INT64_MIN : s->last_t,
        .closed_until = s->closed_until,
        .next_e = s->next_e,
        .pending = s->pending,
        .unlearned = s->unlearned,
        .ring = *ring,
        .rlen = s->rlen,
        .dirty = s->dirty,
        .det = ad_win_series_det(w, s),
        .det_len = w->cfg.det_bytes,
    };
    return 0;
}

int ad_window_part_export(struct ad_window *w, const struct ad_part *p, bool clear_dirty,
                          ad_window_state_fn fn, void *ud)
{
    struct ad_ring_point *ring = NULL;
    size_t cap = 0;
    int rc = 0;

    for (struct ad_series *s = p->plru_head; s && rc == 0; s = s->plru_next) {
        struct ad_series_state st;
        rc = ad_win_series_state(w, s, &ring, &cap, &st);
        rc = rc ? rc : fn(ud, &st);
        if (rc == 0 && clear_dirty && s->dirty)
            ad_win_dirty_unlink(s);
    }
    ad_free(ring);
    return rc;
}

/* Sets the state of s, of partition p, from st. */
int ad_win_series_apply(struct ad_window *w, struct ad_series *s, struct ad_part *p,
                        const struct ad_series_state *st)
{
    if (s->part != p) {
        ad_win_series_move(s, p);
    }
    s->life = st->life;
    s->win = st->win;
    s->model_off = st->model_off;
    s->last_t = st->last_t;
    s->closed_until = st->closed_until;
    s->next_e = st->next_e;
    s->pending = st->pending && w->cfg.sliding;
    if (st->dirty)
        ad_win_mark_dirty(s);
    else
        ad_win_dirty_unlink(s);
    int n = ad_win_ring_load(w, s, st->ring, w->cfg.sliding ? st->rlen : 0);
    if (n < 0)
        return n;
    s->unlearned = st->unlearned > (uint32_t)n ? (uint32_t)n : st->unlearned;
    void *det = ad_win_series_det(w, s);
    if (det && st->det_len == w->cfg.det_bytes)
        memcpy(det, st->det, st->det_len);
    else if (det)
        memset(det, 0, w->cfg.det_bytes); /* none saved: a fresh detector */
    if (s->pending && !s->in_act)
        ad_win_act_append(w, s);
    else if (s->in_act)
        ad_win_rekey(w, s);
    return 0;
}

void ad_window_set_store(struct ad_window *w, const struct ad_window_store *store)
{
    if (store)
        w->store = *store;
    else
        memset(&w->store, 0, sizeof(w->store));
}

size_t ad_window_event_points(const struct ad_window_event *ev, struct ad_tpoint *out, size_t max)
{
    const struct ad_series *s = ev->series;
    size_t n = 0;
    if (ev->start_us == ev->end_us || !s->rlen) {
        if (max) {
            out[0].t_us = ev->start_us;
            out[0].v = ev->value;
        }
        return 1;
    }
    for (uint32_t i = 0; i < s->rlen; i++) {
        int64_t t = ad_win_ring_t(s, i);
        if (t < ev->start_us || t >= ev->end_us)
            continue;
        if (n < max) {
            out[n].t_us = t;
            out[n].v = ad_win_ring_v(s, i);
        }
        n++;
    }
    return n;
}

const char *ad_series_key(const struct ad_series *s, size_t *len)
{
    if (len)
        *len = s->key_len;
    return s->key;
}

uint32_t ad_series_metric(const struct ad_series *s)
{
    return s->metric;
}

const struct ad_welford *ad_series_model(const struct ad_series *s)
{
    return &s->life;
}

void ad_window_stats(const struct ad_window *w, struct ad_window_stats *out)
{
    *out = w->st;
}

uint64_t ad_window_nomem(const struct ad_window *w)
{
    return w->st.nomem;
}
