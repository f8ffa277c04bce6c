/* ad_window.c - series table, tumbling and sliding windows, watermarks.
 *
 * Data structures, all intrusive so that a point costs no allocation once its
 * series exists:
 * - a hash table (ad_htab) of series keyed by (key, metric);
 * - a global LRU list of series by processing time (eviction at max_series);
 * - per partition, an "active" list of the series that hold an open tumbling
 *   window or a pending slide, in the order of their last point (idle closing
 *   walks it from the head and stops at the first series not idle), and a
 *   timer wheel (ad_wheel) of the same series by the event time the watermark
 *   must reach for something of theirs to close, so that a watermark advance
 *   touches only the series it closes: they come out of the wheel in
 *   act-list order (the wheel's seq is the act-list position), which is the
 *   order a walk of the list would close them in.
 *
 * A series may hold up to K = floor(lateness / size) + 2 open tumbling
 * windows (the most the watermark rule allows at once), under the rule of K
 * slots indexed by window number mod K; it carries two slots after its key
 * and gets an array of more only when more are open. With a sliding window
 * it has a compact ring of closed tumbling points (ad_window_ring.c) that
 * grows on demand up to (size + slide) / granularity. */
#include "ad_window.h"

#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_htab.h"
#include "ad_types.h"
#include "ad_window_int.h"

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

void ad_win_act_unlink(struct ad_series *s)
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
    if (ad_win_node(s)->in)
        ad_wheel_del(&p->due, ad_win_node(s));
}

void ad_win_act_append(const struct ad_window *w, struct ad_series *s)
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
    ad_wheel_add(&p->due, ad_win_node(s), ad_win_deadline(w, s), ++p->seq);
}

int64_t ad_win_deadline(const struct ad_window *w, const struct ad_series *s)
{
    int64_t d = INT64_MAX;
    if (s->n_open)
        d = s->oldest_start + w->cfg.size_us;
    if (s->pending && s->next_e < d)
        d = s->next_e;
    return d;
}

void ad_win_rekey(const struct ad_window *w, struct ad_series *s)
{
    int64_t d = ad_win_deadline(w, s);
    struct ad_wheel_node *x = ad_win_node(s);
    if (!x->in || x->key == d)
        return;
    ad_wheel_del(&s->part->due, x);
    ad_wheel_add(&s->part->due, x, d, x->seq);
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

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* The slots carried after the key (the detector area follows them). */
static struct slot *inline_slots(const struct ad_series *s)
{
    return (struct slot *)(uintptr_t)((char *)(uintptr_t)s +
                                      align8(sizeof(struct ad_series) + s->key_len + 1));
}

/* Bytes allocated before each series (its wheel node, with tumbling). */
static size_t pre_room(const struct ad_window *w)
{
    return w->cfg.tumbling ? AD_WIN_NODE_ROOM : 0;
}

static void series_free(const struct ad_window *w, struct ad_series *s)
{
    if (s->slots && s->slots != inline_slots(s))
        ad_free(s->slots);
    ad_free(s->ring);
    ad_free((char *)s - pre_room(w));
}

static void series_destroy(struct ad_window *w, struct ad_series *s)
{
    (void)ad_htab_del(&w->series, series_hash(s->key, s->key_len, s->metric), s);
    ad_win_series_leave(s);
    ad_win_act_unlink(s);
    lru_unlink(w, s);
    series_free(w, s);
    w->st.series--;
}

/* Evicts the least recently seen series: its windows are closed (scored) and
 * its state handed to the store, if there is one, before it is freed. */
static void evict_one(struct ad_window *w)
{
    struct ad_series *victim = w->lru_head;
    if (!victim)
        return;
    ad_win_close_until(w, victim, INT64_MAX, AD_WCLOSE_EVICT);
    w->st.evictions++;
    if (w->store.evicted) {
        struct ad_ring_point *ring = NULL;
        size_t cap = 0;
        struct ad_series_state st;
        if (ad_win_series_state(w, victim, &ring, &cap, &st) == 0)
            w->store.evicted(w->store.ud, victim->part, &st);
        else
            w->st.nomem++; /* its state is lost: it starts afresh when seen again */
        ad_free(ring);
    }
    series_destroy(w, victim);
}

/* The series' detector area (cfg.det_bytes after its key and slots), or
 * NULL without one. */
void *ad_win_series_det(const struct ad_window *w, const struct ad_series *s)
{
    if (!w->cfg.det_bytes)
        return NULL;
    size_t head = align8(sizeof(struct ad_series) + s->key_len + 1);
    size_t slots = s->slots ? align8(AD_WIN_INLINE_SLOTS * sizeof(struct slot)) : 0;
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
    size_t slots = w->cfg.tumbling ? AD_WIN_INLINE_SLOTS * sizeof(struct slot) : 0;
    char *mem = ad_calloc(1, pre_room(w) + head + align8(slots) + align8(w->cfg.det_bytes));
    if (!mem)
        return NULL;
    s = (struct ad_series *)(void *)(mem + pre_room(w)); /* the node: zeroed, not in */
    memcpy(s->key, key, len);
    s->key[len] = '\0';
    s->key_len = (uint32_t)len;
    s->metric = metric;
    s->last_t = INT64_MIN;
    s->closed_until = INT64_MIN;
    s->model_off = -1;
    s->slots = slots ? (struct slot *)(void *)((char *)s + head) : NULL;
    s->nslots = slots ? AD_WIN_INLINE_SLOTS : 0;
    if (ad_htab_put(&w->series, h, s) != 0) {
        ad_free(mem);
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
        series_free(w, s);
    }
    struct ad_part *p = w->parts, *pn;
    for (; p; p = pn) {
        pn = p->next;
        ad_free(p->dirty);
        ad_wheel_free(&p->due);
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
    p->lo_last = INT64_MIN;
    if (w->cfg.tumbling) {
        int64_t span = (w->cfg.lateness_us + w->cfg.slide_us) / w->cfg.size_us + 3;
        if (ad_wheel_init(&p->due, w->cfg.size_us, (uint32_t)(span > 65536 ? 65536 : span))) {
            ad_free(p->topic);
            ad_free(p);
            return NULL;
        }
    }
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
    (void)w;
    return p->nseries;
}

int64_t ad_part_max_time(const struct ad_part *p)
{
    return p->max_t;
}

void ad_win_lo_append(struct ad_part *p, struct slot *sl)
{
    sl->lo_next = NULL;
    sl->lo_prev = p->lo_tail;
    if (p->lo_tail)
        p->lo_tail->lo_next = sl;
    else
        p->lo_head = sl;
    p->lo_tail = sl;
}

void ad_win_lo_unlink(struct ad_part *p, struct slot *sl)
{
    if (sl->lo_prev)
        sl->lo_prev->lo_next = sl->lo_next;
    else
        p->lo_head = sl->lo_next;
    if (sl->lo_next)
        sl->lo_next->lo_prev = sl->lo_prev;
    else
        p->lo_tail = sl->lo_prev;
    sl->lo_prev = sl->lo_next = NULL;
    if (!p->lo_head) {
        p->lo_walk = false; /* nothing open: the order holds again */
        p->lo_last = INT64_MIN;
    }
}

void ad_win_slots_move(struct ad_series *s, struct ad_part *p)
{
    for (uint32_t i = 0; i < s->nslots && s->n_open; i++) {
        if (!s->slots[i].count)
            continue;
        ad_win_lo_unlink(s->part, &s->slots[i]);
        ad_win_lo_append(p, &s->slots[i]);
        p->lo_walk = true; /* its offsets are another partition's */
    }
}

int64_t ad_part_low_offset(const struct ad_part *p)
{
    if (!p->lo_walk)
        return p->lo_head ? p->lo_head->min_off : -1;
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
    for (struct ad_series *s = p->plru_head, *next; s; s = next) {
        next = s->plru_next; /* ad_win_series_leave() unlinks s */
        ad_win_act_unlink(s);
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
        ad_win_series_leave(s);
        s->part = NULL;
    }
    struct ad_part **pp = &w->parts;
    while (*pp && *pp != p)
        pp = &(*pp)->next;
    if (*pp)
        *pp = p->next;
    if (w->last_part == p)
        w->last_part = NULL;
    ad_free(p->dirty);
    ad_wheel_free(&p->due);
    ad_free(p->topic);
    ad_free(p);
}

/* A series seen for the first time (or again after its eviction): resumes
 * from the store when the store has it. */
static void series_resume(struct ad_window *w, struct ad_series *s, struct ad_part *p)
{
    struct ad_series_state st;
    int rc = w->store.load ? w->store.load(w->store.ud, p, s->key, s->key_len, s->metric, &st)
                           : AD_ENOENT;
    rc = rc ? rc : ad_win_series_apply(w, s, p, &st);
    if (rc == 0)
        w->st.resumed++;
    else if (rc == AD_ENOMEM)
        w->st.nomem++; /* its state is lost: it starts afresh */
}

int ad_window_restore(struct ad_window *w, struct ad_part *p, const struct ad_series_state *st)
{
    struct ad_series *s = series_get(w, st->key, st->key_len, st->metric, true);
    return s ? ad_win_series_apply(w, s, p, st) : AD_ENOMEM;
}

/* Where x (a slot in the old array of n, or elsewhere) is now. */
static struct slot *moved(struct slot *x, const struct slot *old, uint32_t n, struct slot *nw)
{
    uintptr_t a = (uintptr_t)x, lo = (uintptr_t)old, hi = (uintptr_t)(old + n);
    return a >= lo && a < hi ? nw + (a - lo) / sizeof(*x) : x;
}

/* The n slots at old were copied to nw: the open ones' list links follow. */
static void relink(struct ad_part *p, const struct slot *old, uint32_t n, struct slot *nw)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!nw[i].count)
            continue;
        nw[i].lo_prev = moved(nw[i].lo_prev, old, n, nw);
        nw[i].lo_next = moved(nw[i].lo_next, old, n, nw);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!nw[i].count)
            continue;
        if (nw[i].lo_prev)
            nw[i].lo_prev->lo_next = &nw[i];
        else
            p->lo_head = &nw[i];
        if (nw[i].lo_next)
            nw[i].lo_next->lo_prev = &nw[i];
        else
            p->lo_tail = &nw[i];
    }
}

/* The slot for the window starting at ws: its open one, or a free one. Keeps
 * the rule of K slots indexed by window number mod K: an open window with
 * the same index (possible only when a series moved between partitions whose
 * watermarks differ, or a point came from far ahead of the watermark) is
 * closed first, with what is older. Returns NULL when more slots are needed
 * and there is no memory for them. */
static struct slot *slot_get(struct ad_window *w, struct ad_series *s, int64_t ws)
{
    int64_t G = w->cfg.size_us;
    uint64_t idx = (uint64_t)(ws / G) % w->nslots;
    struct slot *free_sl = NULL;
    for (uint32_t i = 0; i < s->nslots; i++) {
        struct slot *sl = &s->slots[i];
        if (!sl->count) {
            free_sl = free_sl ? free_sl : sl;
        } else if (sl->start == ws) {
            return sl;
        } else if ((uint64_t)(sl->start / G) % w->nslots == idx) {
            ad_win_close_until(w, s, sl->start + G, AD_WCLOSE_WATERMARK);
            return sl; /* closed now; no other open window has this index */
        }
    }
    if (free_sl)
        return free_sl;
    uint32_t ncap = s->nslots * 2u > w->nslots ? w->nslots : s->nslots * 2u;
    struct slot *ns = ad_calloc(ncap, sizeof(*ns));
    if (!ns)
        return NULL;
    memcpy(ns, s->slots, s->nslots * sizeof(*ns));
    relink(s->part, s->slots, s->nslots, ns);
    if (s->slots != inline_slots(s))
        ad_free(s->slots);
    s->slots = ns;
    free_sl = &ns[s->nslots];
    s->nslots = (uint16_t)ncap;
    return free_sl;
}

/* Folds point (t, v, offset) into the open slot sl. */
static void slot_add(const struct ad_window *w, struct slot *sl, int64_t t, double v,
                     int64_t offset)
{
    sl->count++;
    switch (w->cfg.aggregate) {
    case AD_AGG_MIN:
        sl->acc = v < sl->acc ? v : sl->acc;
        break;
    case AD_AGG_MAX:
        sl->acc = v > sl->acc ? v : sl->acc;
        break;
    case AD_AGG_LAST:
        if (t >= sl->last_t) {
            sl->acc = v;
            sl->last_t = t;
        }
        break;
    case AD_AGG_COUNT:
        break;
    default: /* sum, mean */
        sl->acc += v;
        break;
    }
    if (offset < sl->min_off)
        sl->min_off = offset;
    if (offset > sl->max_off)
        sl->max_off = offset;
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
    ad_win_part_touch(s);
    if (s->part != p) {
        ad_win_series_move(s, p);
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
        ad_win_emit_simple(w, s, t_us, t_us, v, offset, offset, AD_WCLOSE_POINT);
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
    struct slot *sl = slot_get(w, s, ws);
    if (!sl) {
        w->st.nomem++; /* more windows open than slots, and no memory for more */
        return AD_PUSH_NOMEM;
    }
    s->last_t = t_us;
    if (!sl->count) {
        *sl = (struct slot){.start = ws,
                            .acc = w->cfg.aggregate == AD_AGG_SUM || w->cfg.aggregate == AD_AGG_MEAN
                                       ? 0
                                       : v,
                            .last_t = t_us,
                            .min_off = offset,
                            .max_off = offset};
        if (s->n_open == 0 || ws < s->oldest_start)
            s->oldest_start = ws;
        s->n_open++;
        ad_win_lo_append(p, sl);
    }
    if (offset < 0 || offset < p->lo_last)
        p->lo_walk = true;
    else
        p->lo_last = offset;
    slot_add(w, sl, t_us, v, offset);
    w->st.points++;

    if (s->in_act)
        ad_win_act_unlink(s);
    ad_win_act_append(w, s);
    return AD_PUSH_OK;
}

static struct ad_series *series_of(struct ad_wheel_node *x)
{
    return ad_win_node_series(x);
}

/* Closes what the watermark passed: the due series, in act-list order (as a
 * walk of that list would), each up to the watermark; those with windows
 * still open go back into the wheel, in the same order, with their place in
 * the act list (seq) kept. */
static void part_due(struct ad_window *w, struct ad_part *p)
{
    struct ad_wheel_node *x = ad_wheel_due(&p->due, p->wm), *next;
    struct ad_wheel_node again = {0}, *tail = &again;
    for (; x; x = next) {
        next = x->next;
        struct ad_series *s = series_of(x);
        ad_win_close_until(w, s, p->wm, AD_WCLOSE_WATERMARK);
        if (s->in_act) {
            tail->next = x;
            tail = x;
        }
    }
    tail->next = NULL;
    for (x = again.next; x; x = next) {
        next = x->next;
        ad_wheel_add(&p->due, x, ad_win_deadline(w, series_of(x)), x->seq);
    }
}

void ad_window_advance(struct ad_window *w, struct ad_part *p, int64_t t_us)
{
    if (t_us <= p->max_t)
        return;
    p->max_t = t_us;
    int64_t wm = t_us - w->cfg.lateness_us;
    if (wm > p->wm)
        p->wm = wm;
    if (p->due.n)
        part_due(w, p);
}

void ad_window_tick(struct ad_window *w, int64_t now_ms)
{
    int64_t cutoff = now_ms - w->cfg.idle_us / 1000;
    for (struct ad_part *p = w->parts; p; p = p->next) {
        struct ad_series *s = p->act_head, *next;
        for (; s && s->last_seen_ms <= cutoff; s = next) {
            next = s->act_next;
            ad_win_close_until(w, s, INT64_MAX, AD_WCLOSE_IDLE);
            w->st.idle_closes++;
        }
    }
}

void ad_window_flush(struct ad_window *w)
{
    for (struct ad_part *p = w->parts; p; p = p->next) {
        while (p->act_head)
            ad_win_close_until(w, p->act_head, INT64_MAX, AD_WCLOSE_FLUSH);
    }
}

struct ad_welford *ad_window_model(struct ad_window *w, const char *key, size_t key_len,
                                   uint32_t metric)
{
    struct ad_series *s = series_get(w, key, key_len, metric, true);
    return s ? &s->life : NULL;
}
