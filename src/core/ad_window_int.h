/* ad_window_int.h - the window module's shared state (not API): the series,
 * partition and window objects and the functions its files share
 * (ad_window.c: table, lists, public entry points; ad_window_ring.c: the
 * sliding ring and closing windows; ad_window_state.c: checkpoint state). */
#ifndef AD_WINDOW_INT_H
#define AD_WINDOW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_htab.h"
#include "ad_wheel.h"
#include "ad_window.h"

/* An open tumbling window: 64 bytes. acc is what the aggregate needs: the
 * sum (mean, sum), the minimum, the maximum, or the last value (last, with
 * last_t); count alone makes count. */
struct slot {
    int64_t start;
    uint64_t count; /* 0 = free */
    double acc;
    int64_t last_t;
    int64_t min_off, max_off;
    struct slot *lo_prev, *lo_next; /* the partition's open slots, in opening order */
};

/* Slots a series carries after its key; more (up to K = lateness / size + 2,
 * the most that can be open at once) are allocated when that many are open. */
#define AD_WIN_INLINE_SLOTS 2

/* The compact sliding ring of a series: its points' values (v[cap]) and,
 * after them, their times as uint32 tq[cap], each (t - base) / unit with bit
 * 31 the point's in_model flag: 12 bytes a point. unit is the tumbling size
 * (points are tumbling windows' starts). A time that does not fit (2^31 steps
 * past the base, or off its grid) makes the ring wide until it empties: then
 * int64 t[cap] and uint8 in_model[cap] follow the values (17 bytes a point).
 * The source offsets are kept for the newest point only: it is the one a
 * slide scores, and so the only one whose offsets an event reports (the
 * commit hold of an open window comes from the tumbling slots, not from the
 * ring). */
struct ad_cring {
    int64_t base, unit;
    int64_t off, low_off; /* of the newest point */
    bool wide;
    double v[];
};

struct ad_series {
    struct ad_series *lru_prev, *lru_next;
    struct ad_series *act_prev, *act_next;
    struct ad_series *plru_prev, *plru_next; /* the partition's own LRU order */
    struct ad_part *part;
    int64_t last_seen_ms;
    int64_t last_t;         /* event time of the previous point (de-duplication) */
    int64_t closed_until;   /* end of the last closed tumbling window */
    int64_t oldest_start;   /* start of the oldest open slot, when n_open > 0 */
    int64_t next_e;         /* the boundary of the pending slide, when pending */
    int64_t model_off;      /* highest source offset the model includes, -1 none */
    struct ad_welford life; /* lifetime model */
    struct ad_welford win;  /* window-scope model over the ring's in_model points */
    struct slot *slots;
    struct ad_cring *ring;
    uint32_t rhead, rlen, rcap;
    uint32_t unlearned; /* newest ring points not yet in life (lifetime scope) */
    uint32_t metric;
    uint32_t key_len;
    uint16_t n_open;
    uint16_t nslots; /* slots at `slots`: AD_WIN_INLINE_SLOTS after the key, or
                        more in an array of their own */
    bool in_act;
    bool pending;
    bool dirty;    /* changed since the last export */
    uint32_t didx; /* 1 + its index in part->dirty when listed there, 0 not */
    char key[];
};

struct ad_part {
    struct ad_part *next;
    char *topic;
    int32_t partition;
    int64_t max_t;
    int64_t wm;
    struct ad_wheel due; /* the act list's series by deadline (with tumbling windows) */
    uint64_t seq;        /* the last act-list sequence number given */
    /* Every open slot of the partition's series, in the order they opened.
     * While the offsets of the points accepted are non-negative and never
     * go down (a Kafka partition), the first holds the lowest offset; else
     * (lo_walk) the lowest is found by a walk, until the list empties. */
    struct slot *lo_head, *lo_tail;
    int64_t lo_last; /* the offset of the last point accepted */
    bool lo_walk;
    struct ad_series *act_head, *act_tail;
    /* The dirty series of the partition (an incremental checkpoint's walk,
     * ad_window_dirty.c), and how many series left it (evicted, freed,
     * moved, or not listed for want of memory): an incremental checkpoint
     * cannot tell those, so a change of the count calls for a full one. */
    struct ad_series **dirty;
    uint32_t ndirty, dirty_cap;
    uint64_t departed;
    /* Its series in the order of the global LRU list (a full checkpoint's
     * walk: the partition's series only, in the order a restore rebuilds). */
    struct ad_series *plru_head, *plru_tail;
    uint64_t nseries;
};

struct ad_window {
    struct ad_window_cfg cfg;
    ad_window_cb cb;
    void *ud;
    struct ad_htab series; /* of struct ad_series, by (key, metric) */
    struct ad_series *lru_head, *lru_tail;
    struct ad_part *parts;
    struct ad_part *last_part;
    struct ad_window_store store;
    uint32_t nslots;
    uint32_t ring_max;
    struct ad_window_stats st;
};

/* A series with tumbling windows is allocated with its wheel node just
 * before it (raw series have none): in the partition's wheel by its
 * deadline while active; the node's seq orders the act list. */
#define AD_WIN_NODE_ROOM ((sizeof(struct ad_wheel_node) + 7) & ~(size_t)7)

static inline struct ad_wheel_node *ad_win_node(const struct ad_series *s)
{
    return (struct ad_wheel_node *)(uintptr_t)((const char *)s - AD_WIN_NODE_ROOM);
}

static inline struct ad_series *ad_win_node_series(struct ad_wheel_node *x)
{
    return (struct ad_series *)(void *)((char *)x + AD_WIN_NODE_ROOM);
}

/* ad_window.c */
/* Takes s out of its partition's act list and deadline wheel. */
void ad_win_act_unlink(struct ad_series *s);
/* Appends s (not in the act list) to its partition's act list and wheel. */
void ad_win_act_append(const struct ad_window *w, struct ad_series *s);
/* The event time the watermark must reach before something of s can close. */
int64_t ad_win_deadline(const struct ad_window *w, const struct ad_series *s);
/* After a change of s's deadline: moves s (if in the wheel) to its bucket,
 * keeping its place in the act order. */
void ad_win_rekey(const struct ad_window *w, struct ad_series *s);
/* The series' detector area (cfg.det_bytes after its key and slots), or
 * NULL without one. */
void *ad_win_series_det(const struct ad_window *w, const struct ad_series *s);

/* ad_window_ring.c */
/* Point i of s's ring (0: the oldest): its time, its value, all of it (the
 * offsets of all but the newest are -1: not kept). */
int64_t ad_win_ring_t(const struct ad_series *s, uint32_t i);
double ad_win_ring_v(const struct ad_series *s, uint32_t i);
void ad_win_ring_get(const struct ad_series *s, uint32_t i, struct ad_ring_point *out);
/* Sets s's ring (emptied first) from the newest of the n points pts (oldest
 * first), as many as the ring holds. Returns how many it took, or AD_ENOMEM
 * (the ring left empty). */
int ad_win_ring_load(struct ad_window *w, struct ad_series *s, const struct ad_ring_point *pts,
                     uint32_t n);
/* Emits a scoring event for one value (a raw point or a tumbling window). */
void ad_win_emit_simple(struct ad_window *w, struct ad_series *s, int64_t start, int64_t end,
                        double v, int64_t off, int64_t low_off, enum ad_window_reason reason);
/* Closes, oldest first, every window of s that ends at or before limit, and
 * the pending slide if its boundary is at or before limit. */
void ad_win_close_until(struct ad_window *w, struct ad_series *s, int64_t limit,
                        enum ad_window_reason reason);

/* Adds the (just opened) slot sl to p's open slots; takes it out. */
void ad_win_lo_append(struct ad_part *p, struct slot *sl);
void ad_win_lo_unlink(struct ad_part *p, struct slot *sl);
/* s is about to move to partition p: its open slots go to p's list (called
 * by ad_win_series_move(), before s->part changes). */
void ad_win_slots_move(struct ad_series *s, struct ad_part *p);
/* The open slot of s whose window starts at start, or NULL. */
struct slot *ad_win_slot_find(const struct ad_series *s, int64_t start);

/* ad_window_dirty.c */
/* s changed since the last export: listed on its partition's dirty list. */
void ad_win_mark_dirty(struct ad_series *s);
/* s is clean: off its partition's dirty list. */
void ad_win_dirty_unlink(struct ad_series *s);
/* Puts s (new, or of another partition) in partition p, its open slots
 * with it (ad_win_slots_move()); one that moved is dirty there, and counted
 * as departed from its old partition. */
void ad_win_series_move(struct ad_series *s, struct ad_part *p);
/* s is freed, or p dropped with it: off the partition's lists, counted
 * departed. */
void ad_win_series_leave(struct ad_series *s);
/* s went to the tail of the global LRU list: to its partition's tail too. */
void ad_win_part_touch(struct ad_series *s);

/* ad_window_state.c */
/* Fills st from s; ring is the caller's buffer, grown as needed. */
int ad_win_series_state(const struct ad_window *w, const struct ad_series *s,
                        struct ad_ring_point **ring, size_t *cap, struct ad_series_state *st);
/* Sets the state of s, of partition p, from st. */
int ad_win_series_apply(struct ad_window *w, struct ad_series *s, struct ad_part *p,
                        const struct ad_series_state *st);

#endif
