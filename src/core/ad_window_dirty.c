/* ad_window_dirty.c - each partition's list of dirty series (changed since
 * the last export), what an incremental checkpoint walks instead of every
 * series: an array of series pointers, each series holding its index, so
 * that listing, unlisting (swap with the last) and walking cost O(1) per
 * series and nothing per clean one. */
#include "ad_alloc.h"
#include "ad_window_int.h"

void ad_win_dirty_unlink(struct ad_series *s)
{
    struct ad_part *p = s->part;
    if (s->didx && p) {
        struct ad_series *last = p->dirty[--p->ndirty];
        p->dirty[s->didx - 1] = last;
        last->didx = s->didx;
    }
    s->didx = 0;
    s->dirty = false;
}

void ad_win_mark_dirty(struct ad_series *s)
{
    struct ad_part *p = s->part;
    s->dirty = true;
    if (s->didx || !p)
        return;
    if (p->ndirty == p->dirty_cap) {
        uint32_t ncap = p->dirty_cap ? p->dirty_cap * 2 : 64;
        struct ad_series **nd = ad_realloc(p->dirty, (size_t)ncap * sizeof(*nd));
        if (!nd) {
            p->departed++; /* not listed: the next checkpoint must be a full one */
            return;
        }
        p->dirty = nd;
        p->dirty_cap = ncap;
    }
    p->dirty[p->ndirty++] = s;
    s->didx = p->ndirty;
}

void ad_win_series_move(struct ad_series *s, struct ad_part *p)
{
    struct ad_part *old = s->part;
    ad_win_dirty_unlink(s);
    ad_win_act_unlink(s);
    if (old)
        old->departed++;
    s->part = p;
    if (old && p)
        ad_win_mark_dirty(s);
}

void ad_win_series_leave(struct ad_series *s)
{
    ad_win_dirty_unlink(s);
    if (s->part)
        s->part->departed++;
}

int ad_window_part_export_dirty(struct ad_window *w, struct ad_part *p, ad_window_state_fn fn,
                                void *ud)
{
    struct ad_ring_point *ring = NULL;
    size_t cap = 0;
    int rc = 0;

    /* From the end: unlisting moves the last one into the hole. */
    while (p->ndirty && rc == 0) {
        struct ad_series *s = p->dirty[p->ndirty - 1];
        struct ad_series_state st;
        rc = ad_win_series_state(w, s, &ring, &cap, &st);
        rc = rc ? rc : fn(ud, &st);
        if (rc == 0)
            ad_win_dirty_unlink(s);
    }
    ad_free(ring);
    return rc;
}

uint64_t ad_part_departed(const struct ad_part *p)
{
    return p->departed;
}

uint32_t ad_part_dirty_count(const struct ad_part *p)
{
    return p->ndirty;
}
