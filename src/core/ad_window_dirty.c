/* ad_window_dirty.c - each partition's own lists, so that a checkpoint
 * never walks another partition's series:
 * - the dirty series (changed since the last export), what an incremental
 *   checkpoint walks: an array of series pointers, each series holding its
 *   index, so that listing, unlisting (swap with the last) and walking cost
 *   O(1) per series and nothing per clean one;
 * - all its series in the global LRU order (a full checkpoint's walk; a
 *   restore rebuilds the LRU order from the file's). */
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

static void plru_unlink(struct ad_series *s)
{
    struct ad_part *p = s->part;
    if (!p)
        return;
    if (s->plru_prev)
        s->plru_prev->plru_next = s->plru_next;
    else
        p->plru_head = s->plru_next;
    if (s->plru_next)
        s->plru_next->plru_prev = s->plru_prev;
    else
        p->plru_tail = s->plru_prev;
    s->plru_prev = s->plru_next = NULL;
    p->nseries--;
}

static void plru_append(struct ad_series *s)
{
    struct ad_part *p = s->part;
    if (!p)
        return;
    s->plru_prev = p->plru_tail;
    s->plru_next = NULL;
    if (p->plru_tail)
        p->plru_tail->plru_next = s;
    else
        p->plru_head = s;
    p->plru_tail = s;
    p->nseries++;
}

void ad_win_part_touch(struct ad_series *s)
{
    if (s->part && s->part->plru_tail != s) {
        plru_unlink(s);
        plru_append(s);
    }
}

void ad_win_series_move(struct ad_series *s, struct ad_part *p)
{
    struct ad_part *old = s->part;
    ad_win_slots_move(s, p); /* while s->part is still the old one */
    ad_win_dirty_unlink(s);
    plru_unlink(s);
    ad_win_act_unlink(s);
    if (old)
        old->departed++;
    s->part = p;
    plru_append(s);
    if (old && p)
        ad_win_mark_dirty(s);
}

void ad_win_series_leave(struct ad_series *s)
{
    ad_win_dirty_unlink(s);
    plru_unlink(s);
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
