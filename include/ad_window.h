/* ad_window.h - per-series state: tumbling windows, sliding windows, the
 * per-partition watermark, idle closing, de-duplication and the series table.
 * Pure: no clock is read (processing time is passed in), no I/O.
 *
 * A series is (key, metric). Points enter with ad_window_push(); every
 * scoring event (a closed tumbling window, a sliding window's slide, or a raw
 * point when there is no tumbling window) is handed to the callback with the
 * model to score against. The callback answers whether the scored value is
 * learnt (added to the model); the window module applies that answer, so the
 * scoring rule lives in one place (the callback) and the state in another.
 *
 * Ownership: the window object owns every series and partition; pointers in an
 * event are borrowed for the duration of the callback. */
#ifndef AD_WINDOW_H
#define AD_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_score.h"

struct ad_window;
struct ad_series;
struct ad_part;

struct ad_window_cfg {
    bool tumbling;
    int64_t size_us; /* tumbling size (the granularity) */
    int aggregate;   /* enum ad_agg */
    bool sliding;
    int64_t win_us;   /* sliding size, a multiple of size_us */
    int64_t slide_us; /* slide, a multiple of size_us, <= win_us */
    int64_t lateness_us;
    int64_t idle_us;     /* processing time */
    bool window_scope;   /* score against the sliding window's own points */
    uint64_t max_series; /* past it, the least recently seen series is evicted */
    size_t det_bytes;    /* bytes of a detector area carried by each series (a
                             multiple of 8; 0: none), zeroed when the series is
                             created, handed to the callback as ev->det */
};

/* Why an event was emitted. */
enum ad_window_reason {
    AD_WCLOSE_POINT = 0, /* no tumbling window: a raw point */
    AD_WCLOSE_WATERMARK, /* the partition's watermark passed the window's end */
    AD_WCLOSE_IDLE,      /* the series was quiet for idle_timeout */
    AD_WCLOSE_FLUSH,     /* end of input / shutdown */
    AD_WCLOSE_EVICT      /* the series was evicted at limits.max_series */
};

struct ad_window_event {
    const struct ad_series *series;
    const struct ad_part *part;     /* the partition the series' records came from */
    int64_t start_us, end_us;       /* the window (start == end for raw points) */
    double value;                   /* the value scored: aggregate, or newest point of a slide */
    int64_t offset;                 /* the source offset of the newest record in the window */
    int64_t low_offset;             /* the lowest source offset of the records in the window
                                   (of the scored point's tumbling window, for a slide) */
    const struct ad_welford *model; /* score against this; do not keep the pointer */
    size_t n_points;                /* points in the sliding window (1 otherwise) */
    enum ad_window_reason reason;
    void *det; /* the series' detector area (cfg det_bytes), or NULL;
                                   the callback may change it; do not keep the pointer */
};

/* Scores one event. Returns true when ev->value is to be learnt by the model. */
typedef bool (*ad_window_cb)(void *ud, const struct ad_window_event *ev);

struct ad_window_stats {
    uint64_t points;     /* accepted into a series */
    uint64_t late;       /* after their window closed: counted, not folded in */
    uint64_t duplicates; /* same timestamp as the series' previous point */
    uint64_t windows;    /* tumbling windows closed */
    uint64_t slides;     /* sliding-window events */
    uint64_t events;     /* scoring events of any kind */
    uint64_t series;     /* live series */
    uint64_t series_created;
    uint64_t evictions;
    uint64_t idle_closes; /* series whose windows the idle timeout closed */
    uint64_t replayed;    /* points skipped as already in a restored model */
    uint64_t resumed;     /* series created again from the store's state */
    uint64_t nomem;       /* points lost to the sliding ring, or evicted series' states
                               lost, for want of memory */
};

/* Returns 0 and an owned window object (free with ad_window_free()), or
 * AD_EINVAL for an inconsistent cfg, AD_ENOMEM. */
int ad_window_new(const struct ad_window_cfg *cfg, ad_window_cb cb, void *ud,
                  struct ad_window **out);
/* Frees every series without emitting anything. Accepts NULL. */
void ad_window_free(struct ad_window *w);

/* Finds or creates the partition (topic is copied). Returns NULL on ENOMEM. */
struct ad_part *ad_window_part(struct ad_window *w, const char *topic, int32_t partition);
const char *ad_part_topic(const struct ad_part *p);
int32_t ad_part_partition(const struct ad_part *p);
/* The partition's watermark (max event time - allowed lateness), or INT64_MIN. */
int64_t ad_part_watermark(const struct ad_part *p);
/* The partition's newest event time, or INT64_MIN. */
int64_t ad_part_max_time(const struct ad_part *p);
/* The number of series of partition p (a walk: reads only). */
uint64_t ad_window_part_count(const struct ad_window *w, const struct ad_part *p);
/* The lowest source offset held by an open window of the partition, or -1. */
int64_t ad_part_low_offset(const struct ad_part *p);

/* Result of one push. AD_PUSH_REPLAYED: the point belongs to a window (or is
 * a point) that the series' model already includes, per a restored
 * checkpoint: it is skipped, so nothing is counted twice. */
enum ad_push_result {
    AD_PUSH_OK = 0,
    AD_PUSH_LATE,
    AD_PUSH_DUPLICATE,
    AD_PUSH_NOMEM,
    AD_PUSH_REPLAYED
};

/* ---- state for checkpoints ---- */

/* The one (time, value) point: a point of a window's series, as the remote
 * detector's wire format takes it. */
struct ad_tpoint {
    int64_t t_us;
    double v;
};

/* A closed tumbling point of a sliding window's ring: an ad_tpoint (the same
 * leading members) with the source offsets it depends on, as checkpoints
 * carry it. The ring itself is compact (12 bytes a point) and keeps the
 * offsets of its newest point only, the one a slide scores: exported points
 * but the newest have off and low_off -1. */
struct ad_ring_point {
    int64_t t_us; /* the tumbling window's start */
    double v;     /* its aggregate */
    int64_t off, low_off;
    bool in_model;
};

/* What a checkpoint keeps of a series: everything but its open windows,
 * whose records are consumed again from the checkpoint's offset. Pointers are
 * borrowed for the duration of the call that hands the struct over. */
struct ad_series_state {
    const char *key;
    size_t key_len;
    uint32_t metric;
    struct ad_welford life; /* lifetime model */
    struct ad_welford win;  /* window-scope model */
    int64_t model_off;      /* highest source offset the model includes, -1 none */
    int64_t last_t;         /* de-duplication */
    int64_t closed_until;   /* end of the last closed tumbling window */
    int64_t next_e;         /* pending slide boundary */
    bool pending;
    uint32_t unlearned;
    const struct ad_ring_point *ring; /* oldest first */
    uint32_t rlen;
    bool dirty;      /* changed since the previous export (export);
                                   to be exported again (restore) */
    const void *det; /* the detector area: cfg det_bytes raw bytes
                                   (export; restore: det_len 0 or det_bytes, 0 =
                                   fresh). In a checkpoint, its encoding instead
                                   (ad_pdet's; version 3 and later). */
    size_t det_len;
};

/* Calls fn for every series of partition p (export for a checkpoint). With
 * clear_dirty, each one fn accepts (returns 0) is then no longer dirty;
 * without, the series are only read (a forked child's export must not write
 * to pages it shares with its parent). */
typedef int (*ad_window_state_fn)(void *ud, const struct ad_series_state *st);
int ad_window_part_export(struct ad_window *w, const struct ad_part *p, bool clear_dirty,
                          ad_window_state_fn fn, void *ud);
/* Calls fn for the dirty series of partition p only (an incremental
 * checkpoint: it walks p's dirty list, not the other series), newest change
 * order not kept; each one fn accepts is no longer dirty. */
int ad_window_part_export_dirty(struct ad_window *w, struct ad_part *p, ad_window_state_fn fn,
                                void *ud);
/* How many series left p since it was created (evicted, freed, moved to
 * another partition, or not listed as dirty for want of memory). What an
 * incremental checkpoint cannot say; a change calls for a full one. */
uint64_t ad_part_departed(const struct ad_part *p);
/* How many series of p are dirty (listed). */
uint32_t ad_part_dirty_count(const struct ad_part *p);

/* Restores one series into partition p (before p's records are consumed).
 * Returns 0 or AD_ENOMEM. */
int ad_window_restore(struct ad_window *w, struct ad_part *p, const struct ad_series_state *st);

/* Where the state of evicted series goes, and comes back from when such a
 * series is seen again (limits.max_series with state.dir). Both are called
 * from within ad_window_push(); p may be NULL in evicted() for a series whose
 * partition was dropped. load() fills *st (pointers valid until the next
 * call) and returns 0 when it has the series, AD_ENOENT when it has not, or
 * another error (the series starts afresh; AD_ENOMEM is counted in
 * stats.nomem). */
struct ad_window_store {
    void (*evicted)(void *ud, const struct ad_part *p, const struct ad_series_state *st);
    int (*load)(void *ud, const struct ad_part *p, const char *key, size_t key_len, uint32_t metric,
                struct ad_series_state *st);
    void *ud;
};
/* Sets (or with NULL, removes) the store. */
void ad_window_set_store(struct ad_window *w, const struct ad_window_store *store);

/* Forgets partition p (revoked): the window state of its series (open
 * windows, pending slides, sliding rings, de-duplication and lateness marks)
 * is discarded unscored, since the partition's records will be consumed again
 * from its committed offset; lifetime models are kept. p is freed. */
void ad_window_part_drop(struct ad_window *w, struct ad_part *p);

/* One point of series (key, metric): its event time, value and source
 * offset (-1 when unknown). Borrowed for the call. */
struct ad_window_point {
    const char *key;
    size_t key_len;
    uint32_t metric;
    int64_t t_us;
    double v;
    int64_t offset;
};

/* Adds point pt from partition p at processing time now_ms. Without tumbling
 * windows the point is scored at once. */
enum ad_push_result ad_window_push(struct ad_window *w, struct ad_part *p,
                                   const struct ad_window_point *pt, int64_t now_ms);

/* Advances p's watermark to (t_us - lateness) if that is later, closing every
 * window of p whose end it passes. Call once per record, after its points. */
void ad_window_advance(struct ad_window *w, struct ad_part *p, int64_t t_us);

/* Closes the windows of series quiet since now_ms - idle. */
void ad_window_tick(struct ad_window *w, int64_t now_ms);

/* Closes every open window of every series (end of input, shutdown). */
void ad_window_flush(struct ad_window *w);

/* Finds or creates a series and returns its lifetime model for seeding
 * (model import). Returns NULL on ENOMEM. */
struct ad_welford *ad_window_model(struct ad_window *w, const char *key, size_t key_len,
                                   uint32_t metric);

/* Calls fn for every series' lifetime model (export). Stops when fn returns
 * non-zero and returns that value. */
typedef int (*ad_window_series_fn)(void *ud, const struct ad_series *s);
int ad_window_foreach(const struct ad_window *w, ad_window_series_fn fn, void *ud);

/* Copies the points of ev's sliding window (ascending; at most max) into out
 * and returns how many there are. For other events: the one scored point. */
size_t ad_window_event_points(const struct ad_window_event *ev, struct ad_tpoint *out, size_t max);

const char *ad_series_key(const struct ad_series *s, size_t *len);
uint32_t ad_series_metric(const struct ad_series *s);
const struct ad_welford *ad_series_model(const struct ad_series *s);

void ad_window_stats(const struct ad_window *w, struct ad_window_stats *out);
/* ad_window_stats()'s nomem alone, without copying the stats (O(1): the
 * pipeline reads it around every push). */
uint64_t ad_window_nomem(const struct ad_window *w);

#endif
