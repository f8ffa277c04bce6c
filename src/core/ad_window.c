/* ad_window.c - series table, tumbling and sliding windows, watermarks.
 *
 * Data structures, all intrusive so that a point costs no allocation once its
 * series exists:
 * - a hash table (ad_htab) of series keyed by (key, metric);
 * - a global LRU list of series by processing time (eviction at max_series);
 * - per partition, an "active" list of the series that hold an open tumbling
 *   window or a pending slide, also in processing-time order (idle closing
 *   walks it from the head), plus the earliest deadline among them so that a
 *   watermark advance only scans when some window can actually close.
 *
 * Each series has K = floor(lateness / size) + 2 tumbling slots (the most
 * windows that can be open at once under the watermark rule), indexed by
 * window number mod K, and, with a sliding window, a ring of closed tumbling
 * points that grows on demand up to (size + slide) / granularity. */
#include "ad_window.h"

#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_htab.h"
#include "ad_types.h"

struct slot {
    int64_t start;
    uint64_t count; /* 0 = free */
    double sum, min, max, last;
    int64_t last_t;
    int64_t min_off, max_off;
};

struct ad_series {
    struct ad_series *lru_prev, *lru_next;
    struct ad_series *act_prev, *act_next;
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
    struct ad_ring_point *ring;
    uint32_t rhead, rlen, rcap;
    uint32_t unlearned; /* newest ring points not yet in life (lifetime scope) */
    uint32_t metric;
    uint32_t key_len;
    uint16_t n_open;
    uint16_t nslots; /* slots allocated after the key */
    bool in_act;
    bool pending;
    bool dirty; /* changed since the last export */
    char key[];
};

struct ad_part {
    struct ad_part *next;
    char *topic;
    int32_t partition;
    int64_t max_t;
    int64_t wm;
    int64_t deadline; /* no window of the act list closes before wm reaches it */
    struct ad_series *act_head, *act_tail;
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

/* ---- lists ---------------------------------------------------------------- */

static void lru_unlink(struct ad_window *w, struct ad_series *s)
{
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        w->lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        w->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
}

static void lru_append(struct ad_window *w, struct ad_series *s)
{
    s->lru_prev = w->lru_tail;
    s->lru_next = NULL;
    if (w->lru_tail)
        w->lru_tail->lru_next = s;
    else
        w->lru_head = s;
    w->lru_tail = s;
}

static void act_unlink(struct ad_series *s)
{
    struct ad_part *p = s->part;
    if (!s->in_act)
        return;
    if (s->act_prev)
        s->act_prev->act_next = s->act_next;
    else
        p->act_head = s->act_next;
    if (s->act_next)
        s->act_next->act_prev = s->act_prev;
    else
        p->act_tail = s->act_prev;
    s->act_prev = s->act_next = NULL;
    s->in_act = false;
}

static void act_append(struct ad_series *s)
{
    struct ad_part *p = s->part;
    s->act_prev = p->act_tail;
    s->act_next = NULL;
    if (p->act_tail)
        p->act_tail->act_next = s;
    else
        p->act_head = s;
    p->act_tail = s;
    s->in_act = true;
}

/* The event time the watermark must reach before something of s can close. */
static int64_t series_deadline(const struct ad_window *w, const struct ad_series *s)
{
    int64_t d = INT64_MAX;
    if (s->n_open)
        d = s->oldest_start + w->cfg.size_us;
    if (s->pending && s->next_e < d)
        d = s->next_e;
    return d;
}

/* ---- sliding ring --------------------------------------------------------- */

static struct ad_ring_point *ring_at(const struct ad_series *s, uint32_t i)
{
    return &s->ring[(s->rhead + i) % s->rcap];
}

static void ring_drop_oldest(struct ad_window *w, struct ad_series *s)
{
    struct ad_ring_point *p = ring_at(s, 0);
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
                nr[i] = *ring_at(s, i);
            ad_free(s->ring);
            s->ring = nr;
            s->rcap = ncap;
            s->rhead = 0;
        }
    }
    if (s->rlen == s->rcap)
        ring_drop_oldest(w, s);
    *ring_at(s, s->rlen) = *pt;
    s->rlen++;
}

/* ---- emitting --------------------------------------------------------------- */

static void *series_det(const struct ad_window *w, const struct ad_series *s);

static void emit_simple(struct ad_window *w, struct ad_series *s, int64_t start, int64_t end,
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
        .det = series_det(w, s),
    };
    w->st.events++;
    s->dirty = true;
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
    while (s->rlen && ring_at(s, 0)->t_us < wstart)
        ring_drop_oldest(w, s);
    if (s->rlen == 0)
        return;
    struct ad_ring_point *cand = ring_at(s, s->rlen - 1);
    if (w->cfg.window_scope) {
        tmp = s->win;
        if (cand->in_model)
            ad_welford_remove(&tmp, cand->v);
        model = &tmp;
    } else {
        /* Points that entered since the last slide, but the newest, are learnt
         * unscored: a slide scores its newest point, as last/detect does. */
        for (uint32_t i = s->rlen - s->unlearned; s->unlearned > 1; i++, s->unlearned--)
            ad_welford_add(&s->life, ring_at(s, i)->v);
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
        .det = series_det(w, s),
    };
    w->st.slides++;
    w->st.events++;
    s->dirty = true;
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
    s->dirty = true;
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
        emit_simple(w, s, start, end, v, off, low_off, reason);
}

/* Closes, oldest first, every window of s that ends at or before limit, and
 * the pending slide if its boundary is at or before limit. */
static void close_until(struct ad_window *w, struct ad_series *s, int64_t limit,
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
        act_unlink(s);
}

/* ---- series table ------------------------------------------------------------ */

static uint64_t series_hash(const char *key, size_t len, uint32_t metric)
{
    uint64_t h = ad_fnv1a64(AD_FNV64_BASIS, key, len);
    h = ad_fnv1a64(h, &metric, sizeof(metric));
    return h ^ (h >> 29);
}

/* What a series is looked up by. */
struct series_key {
    const char *key;
    size_t len;
    uint32_t metric;
};

static bool series_eq(const void *val, const void *key)
{
    const struct ad_series *s = val;
    const struct series_key *k = key;
    return s->metric == k->metric && s->key_len == k->len && memcmp(s->key, k->key, k->len) == 0;
}

static void series_destroy(struct ad_window *w, struct ad_series *s)
{
    (void)ad_htab_del(&w->series, series_hash(s->key, s->key_len, s->metric), s);
    act_unlink(s);
    lru_unlink(w, s);
    ad_free(s->ring);
    ad_free(s);
    w->st.series--;
}

static int series_state(const struct ad_window *w, const struct ad_series *s,
                        struct ad_ring_point **ring, size_t *cap, struct ad_series_state *st);

/* Evicts the least recently seen series: its windows are closed (scored) and
 * its state handed to the store, if there is one, before it is freed. */
static void evict_one(struct ad_window *w)
{
    struct ad_series *victim = w->lru_head;
    if (!victim)
        return;
    close_until(w, victim, INT64_MAX, AD_WCLOSE_EVICT);
    w->st.evictions++;
    if (w->store.evicted) {
        struct ad_ring_point *ring = NULL;
        size_t cap = 0;
        struct ad_series_state st;
        if (series_state(w, victim, &ring, &cap, &st) == 0)
            w->store.evicted(w->store.ud, victim->part, &st);
        else
            w->st.nomem++; /* its state is lost: it starts afresh when seen again */
        ad_free(ring);
    }
    series_destroy(w, victim);
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* The series' detector area (cfg.det_bytes after its key and slots), or
 * NULL without one. */
static void *series_det(const struct ad_window *w, const struct ad_series *s)
{
    if (!w->cfg.det_bytes)
        return NULL;
    size_t head = align8(sizeof(struct ad_series) + s->key_len + 1);
    size_t slots = align8((size_t)s->nslots * sizeof(struct slot));
    return (char *)(uintptr_t)s + head + slots;
}

static struct ad_series *series_get(struct ad_window *w, const char *key, size_t len,
                                    uint32_t metric, bool create)
{
    uint64_t h = series_hash(key, len, metric);
    struct series_key k = {key, len, metric};
    struct ad_series *s = ad_htab_find(&w->series, h, series_eq, &k);

    if (s || !create)
        return s;
    if (w->st.series >= w->cfg.max_series)
        evict_one(w);

    size_t head = align8(sizeof(struct ad_series) + len + 1);
    size_t slots = w->cfg.tumbling ? (size_t)w->nslots * sizeof(struct slot) : 0;
    s = ad_calloc(1, head + align8(slots) + align8(w->cfg.det_bytes));
    if (!s)
        return NULL;
    memcpy(s->key, key, len);
    s->key[len] = '\0';
    s->key_len = (uint32_t)len;
    s->metric = metric;
    s->last_t = INT64_MIN;
    s->closed_until = INT64_MIN;
    s->model_off = -1;
    s->slots = slots ? (struct slot *)(void *)((char *)s + head) : NULL;
    s->nslots = slots ? (uint16_t)w->nslots : 0;
    if (ad_htab_put(&w->series, h, s) != 0) {
        ad_free(s);
        return NULL;
    }
    lru_append(w, s);
    w->st.series++;
    w->st.series_created++;
    return s;
}

/* ---- public -------------------------------------------------------------------- */

int ad_window_new(const struct ad_window_cfg *cfg, ad_window_cb cb, void *ud,
                  struct ad_window **out)
{
    struct ad_window *w;

    if (!cb || cfg->max_series == 0)
        return AD_EINVAL;
    if (cfg->tumbling && cfg->size_us <= 0)
        return AD_EINVAL;
    if (cfg->sliding &&
        (!cfg->tumbling || cfg->win_us <= 0 || cfg->slide_us <= 0 || cfg->slide_us > cfg->win_us ||
         cfg->win_us % cfg->size_us || cfg->slide_us % cfg->size_us))
        return AD_EINVAL;
    if (cfg->window_scope && !cfg->sliding)
        return AD_EINVAL;
    if (cfg->tumbling && cfg->lateness_us / cfg->size_us > 62)
        return AD_EINVAL;
    w = ad_calloc(1, sizeof(*w));
    if (!w)
        return AD_ENOMEM;
    w->cfg = *cfg;
    w->cb = cb;
    w->ud = ud;
    if (ad_htab_init(&w->series, 1024) != 0) {
        ad_free(w);
        return AD_ENOMEM;
    }
    if (cfg->tumbling)
        w->nslots = (uint32_t)(cfg->lateness_us / cfg->size_us) + 2;
    if (cfg->sliding)
        w->ring_max = (uint32_t)((cfg->win_us + cfg->slide_us) / cfg->size_us);
    *out = w;
    return 0;
}

void ad_window_free(struct ad_window *w)
{
    if (!w)
        return;
    struct ad_series *s = w->lru_head, *next;
    for (; s; s = next) {
        next = s->lru_next;
        ad_free(s->ring);
        ad_free(s);
    }
    struct ad_part *p = w->parts, *pn;
    for (; p; p = pn) {
        pn = p->next;
        ad_free(p->topic);
        ad_free(p);
    }
    ad_htab_free(&w->series);
    ad_free(w);
}

struct ad_part *ad_window_part(struct ad_window *w, const char *topic, int32_t partition)
{
    struct ad_part *p = w->last_part;
    if (p && p->partition == partition && strcmp(p->topic, topic) == 0)
        return p;
    for (p = w->parts; p; p = p->next)
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return w->last_part = p;
    p = ad_calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->topic = ad_strdup(topic);
    if (!p->topic) {
        ad_free(p);
        return NULL;
    }
    p->partition = partition;
    p->max_t = INT64_MIN;
    p->wm = INT64_MIN;
    p->deadline = INT64_MAX;
    p->next = w->parts;
    w->parts = p;
    return w->last_part = p;
}

const char *ad_part_topic(const struct ad_part *p)
{
    return p->topic;
}

int32_t ad_part_partition(const struct ad_part *p)
{
    return p->partition;
}

int64_t ad_part_watermark(const struct ad_part *p)
{
    return p->wm;
}

uint64_t ad_window_part_count(const struct ad_window *w, const struct ad_part *p)
{
    uint64_t n = 0;
    for (const struct ad_series *s = w->lru_head; s; s = s->lru_next)
        n += s->part == p;
    return n;
}

int64_t ad_part_max_time(const struct ad_part *p)
{
    return p->max_t;
}

int64_t ad_part_low_offset(const struct ad_part *p)
{
    int64_t low = -1;
    for (const struct ad_series *s = p->act_head; s; s = s->act_next) {
        if (!s->n_open)
            continue;
        for (const struct slot *sl = s->slots; sl < s->slots + s->nslots; sl++)
            if (sl->count && (low < 0 || sl->min_off < low))
                low = sl->min_off;
    }
    return low;
}

void ad_window_part_drop(struct ad_window *w, struct ad_part *p)
{
    for (struct ad_series *s = w->lru_head; s; s = s->lru_next) {
        if (s->part != p)
            continue;
        act_unlink(s);
        for (uint32_t i = 0; s->slots && i < s->nslots; i++)
            s->slots[i].count = 0;
        s->n_open = 0;
        s->pending = false;
        s->rlen = 0;
        s->unlearned = 0;
        memset(&s->win, 0, sizeof(s->win));
        s->last_t = INT64_MIN;
        s->closed_until = INT64_MIN;
        s->model_off = -1;
        s->part = NULL;
    }
    struct ad_part **pp = &w->parts;
    while (*pp && *pp != p)
        pp = &(*pp)->next;
    if (*pp)
        *pp = p->next;
    if (w->last_part == p)
        w->last_part = NULL;
    ad_free(p->topic);
    ad_free(p);
}

static int series_apply(struct ad_window *w, struct ad_series *s, struct ad_part *p,
                        const struct ad_series_state *st);

/* A series seen for the first time (or again after its eviction): resumes
 * from the store when the store has it. */
static void series_resume(struct ad_window *w, struct ad_series *s, struct ad_part *p)
{
    struct ad_series_state st;
    int rc = w->store.load ? w->store.load(w->store.ud, p, s->key, s->key_len, s->metric, &st)
                           : AD_ENOENT;
    rc = rc ? rc : series_apply(w, s, p, &st);
    if (rc == 0)
        w->st.resumed++;
    else if (rc == AD_ENOMEM)
        w->st.nomem++; /* its state is lost: it starts afresh */
}

enum ad_push_result ad_window_push(struct ad_window *w, struct ad_part *p,
                                   const struct ad_window_point *pt, int64_t now_ms)
{
    int64_t t_us = pt->t_us, offset = pt->offset;
    double v = pt->v;
    uint64_t created = w->st.series_created;
    struct ad_series *s = series_get(w, pt->key, pt->key_len, pt->metric, true);
    if (!s)
        return AD_PUSH_NOMEM;
    if (w->st.series_created != created)
        series_resume(w, s, p);
    s->last_seen_ms = now_ms;
    lru_unlink(w, s);
    lru_append(w, s);
    if (s->part != p) {
        act_unlink(s);
        s->part = p;
        s->model_off = -1; /* offsets of another partition do not compare */
    }
    if (!w->cfg.tumbling) {
        if (offset >= 0 && offset <= s->model_off) {
            w->st.replayed++;
            return AD_PUSH_REPLAYED;
        }
        if (t_us == s->last_t) {
            w->st.duplicates++;
            return AD_PUSH_DUPLICATE;
        }
        s->last_t = t_us;
        s->model_off = offset;
        w->st.points++;
        emit_simple(w, s, t_us, t_us, v, offset, offset, AD_WCLOSE_POINT);
        return AD_PUSH_OK;
    }

    int64_t G = w->cfg.size_us;
    int64_t ws = t_us - t_us % G, we = ws + G;
    if (we <= s->closed_until && offset >= 0 && offset <= s->model_off) {
        w->st.replayed++; /* its window is in the restored model already */
        return AD_PUSH_REPLAYED;
    }
    if (we <= s->closed_until || we <= p->wm) {
        w->st.late++;
        return AD_PUSH_LATE;
    }
    if (t_us == s->last_t) {
        w->st.duplicates++;
        return AD_PUSH_DUPLICATE;
    }
    s->last_t = t_us;
    struct slot *sl = &s->slots[(uint64_t)(ws / G) % w->nslots];
    if (sl->count && sl->start != ws) {
        /* Only reachable when a series moved between partitions whose
         * watermarks differ: close what occupies the slot, oldest first. */
        close_until(w, s, sl->start + G, AD_WCLOSE_WATERMARK);
    }
    if (!sl->count) {
        sl->start = ws;
        sl->count = 0;
        sl->sum = 0;
        sl->min = v;
        sl->max = v;
        sl->last = v;
        sl->last_t = t_us;
        sl->min_off = offset;
        sl->max_off = offset;
        if (s->n_open == 0 || ws < s->oldest_start)
            s->oldest_start = ws;
        s->n_open++;
    }
    sl->count++;
    sl->sum += v;
    if (v < sl->min)
        sl->min = v;
    if (v > sl->max)
        sl->max = v;
    if (t_us >= sl->last_t) {
        sl->last = v;
        sl->last_t = t_us;
    }
    if (offset < sl->min_off)
        sl->min_off = offset;
    if (offset > sl->max_off)
        sl->max_off = offset;
    w->st.points++;

    if (s->in_act)
        act_unlink(s);
    act_append(s);
    int64_t d = series_deadline(w, s);
    if (d < p->deadline)
        p->deadline = d;
    return AD_PUSH_OK;
}

static void part_scan(struct ad_window *w, struct ad_part *p)
{
    int64_t deadline = INT64_MAX;
    struct ad_series *s = p->act_head, *next;
    for (; s; s = next) {
        next = s->act_next;
        if (series_deadline(w, s) <= p->wm)
            close_until(w, s, p->wm, AD_WCLOSE_WATERMARK);
        if (s->in_act) {
            int64_t d = series_deadline(w, s);
            if (d < deadline)
                deadline = d;
        }
    }
    p->deadline = deadline;
}

void ad_window_advance(struct ad_window *w, struct ad_part *p, int64_t t_us)
{
    if (t_us <= p->max_t)
        return;
    p->max_t = t_us;
    int64_t wm = t_us - w->cfg.lateness_us;
    if (wm > p->wm)
        p->wm = wm;
    if (p->wm >= p->deadline)
        part_scan(w, p);
}

void ad_window_tick(struct ad_window *w, int64_t now_ms)
{
    int64_t cutoff = now_ms - w->cfg.idle_us / 1000;
    for (struct ad_part *p = w->parts; p; p = p->next) {
        struct ad_series *s = p->act_head, *next;
        for (; s && s->last_seen_ms <= cutoff; s = next) {
            next = s->act_next;
            close_until(w, s, INT64_MAX, AD_WCLOSE_IDLE);
            w->st.idle_closes++;
        }
    }
}

void ad_window_flush(struct ad_window *w)
{
    for (struct ad_part *p = w->parts; p; p = p->next) {
        while (p->act_head)
            close_until(w, p->act_head, INT64_MAX, AD_WCLOSE_FLUSH);
        p->deadline = INT64_MAX;
    }
}

struct ad_welford *ad_window_model(struct ad_window *w, const char *key, size_t key_len,
                                   uint32_t metric)
{
    struct ad_series *s = series_get(w, key, key_len, metric, true);
    return s ? &s->life : NULL;
}

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
static int series_state(const struct ad_window *w, const struct ad_series *s,
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
        (*ring)[i] = *ring_at(s, i);
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
        .det = series_det(w, s),
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

    for (struct ad_series *s = w->lru_head; s && rc == 0; s = s->lru_next) {
        if (s->part != p)
            continue;
        struct ad_series_state st;
        rc = series_state(w, s, &ring, &cap, &st);
        rc = rc ? rc : fn(ud, &st);
        if (rc == 0 && clear_dirty && s->dirty)
            s->dirty = false;
    }
    ad_free(ring);
    return rc;
}

/* Sets the state of s, of partition p, from st. */
static int series_apply(struct ad_window *w, struct ad_series *s, struct ad_part *p,
                        const struct ad_series_state *st)
{
    if (s->part != p) {
        act_unlink(s);
        s->part = p;
    }
    s->life = st->life;
    s->win = st->win;
    s->model_off = st->model_off;
    s->last_t = st->last_t;
    s->closed_until = st->closed_until;
    s->next_e = st->next_e;
    s->pending = st->pending && w->cfg.sliding;
    s->dirty = st->dirty;
    s->rlen = 0;
    s->rhead = 0;
    uint32_t n = w->cfg.sliding ? st->rlen : 0;
    if (n > w->ring_max)
        n = w->ring_max;
    if (n > s->rcap) {
        struct ad_ring_point *nr = ad_malloc((size_t)n * sizeof(*nr));
        if (!nr)
            return AD_ENOMEM;
        ad_free(s->ring);
        s->ring = nr;
        s->rcap = n;
    }
    const struct ad_ring_point *src = st->ring + (st->rlen - n); /* the newest n */
    if (n)
        memcpy(s->ring, src, (size_t)n * sizeof(*src));
    s->rlen = n;
    s->unlearned = st->unlearned > n ? n : st->unlearned;
    void *det = series_det(w, s);
    if (det && st->det_len == w->cfg.det_bytes)
        memcpy(det, st->det, st->det_len);
    else if (det)
        memset(det, 0, w->cfg.det_bytes); /* none saved: a fresh detector */
    if (s->pending && !s->in_act) {
        act_append(s);
        if (s->next_e < p->deadline)
            p->deadline = s->next_e;
    }
    return 0;
}

int ad_window_restore(struct ad_window *w, struct ad_part *p, const struct ad_series_state *st)
{
    struct ad_series *s = series_get(w, st->key, st->key_len, st->metric, true);
    return s ? series_apply(w, s, p, st) : AD_ENOMEM;
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
        const struct ad_ring_point *p = ring_at(s, i);
        if (p->t_us < ev->start_us || p->t_us >= ev->end_us)
            continue;
        if (n < max) {
            out[n].t_us = p->t_us;
            out[n].v = p->v;
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
