/* ad_history.c - see ad_history.h. Slots live in one array; the core's hash
 * table (ad_htab.h) over (key, metric) finds them. Claiming a slot when none is free
 * takes the one nobody watches that was flagged (or watched) longest ago: the
 * slots are on one list, free ones first, then the used ones from the least
 * recently flagged or watched, so a claim walks past the watched ones only
 * (they are at most half the slots, and usually a handful) instead of every
 * slot. */
#include "ad_history.h"

#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_htab.h"

struct slot {
    char *id; /* key, '\0', metric, '\0' (owned) */
    size_t key_len, id_len;
    uint64_t hash;
    bool used;
    int64_t watch_until; /* ms; watched while now < watch_until */
    struct ad_hist_point *ring;
    size_t head, n;      /* next write, points held */
    uint32_t prev, next; /* the claim order list (indexes; NIL at its ends) */
};

#define NIL UINT32_MAX

struct ad_history {
    struct ad_history_cfg cfg;
    struct slot *slots;
    struct ad_htab idx;   /* the used slots by (key, metric); sized never to grow */
    uint32_t first, last; /* the claim order list: free, then used from the least recent */
    size_t used, ring_bytes, key_bytes;
    int64_t last_now;
    uint64_t evictions, refused;
};

struct name {
    const char *key;
    size_t key_len;
    const char *metric;
};

static bool slot_is(const void *val, const void *key)
{
    const struct slot *s = val;
    const struct name *k = key;
    return s->key_len == k->key_len && memcmp(s->id, k->key, k->key_len) == 0 &&
           strcmp(s->id + k->key_len + 1, k->metric) == 0;
}

int ad_history_new(const struct ad_history_cfg *cfg, struct ad_history **out)
{
    if (cfg->points == 0 || cfg->series == 0 || cfg->series > (1u << 24) || cfg->max_key == 0)
        return AD_EINVAL;
    struct ad_history *h = ad_calloc(1, sizeof(*h));
    if (!h)
        return AD_ENOMEM;
    h->cfg = *cfg;
    h->slots = ad_calloc(cfg->series, sizeof(*h->slots));
    if (!h->slots || ad_htab_init(&h->idx, cfg->series) != 0) {
        ad_history_free(h);
        return AD_ENOMEM;
    }
    for (uint32_t i = 0; i < cfg->series; i++) {
        h->slots[i].prev = i ? i - 1 : NIL;
        h->slots[i].next = i + 1 < cfg->series ? i + 1 : NIL;
    }
    h->first = 0;
    h->last = (uint32_t)cfg->series - 1;
    *out = h;
    return 0;
}

void ad_history_free(struct ad_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; h->slots && i < h->cfg.series; i++) {
        ad_free(h->slots[i].id);
        ad_free(h->slots[i].ring);
    }
    ad_free(h->slots);
    ad_htab_free(&h->idx);
    ad_free(h);
}

static struct slot *find(const struct ad_history *h, const char *key, size_t key_len,
                         const char *metric, uint64_t hash)
{
    struct name k = {key, key_len, metric};
    return ad_htab_find(&h->idx, hash, slot_is, &k);
}

static uint32_t idx_of(const struct ad_history *h, const struct slot *s)
{
    return (uint32_t)(s - h->slots);
}

static void list_remove(struct ad_history *h, struct slot *s)
{
    if (s->prev != NIL)
        h->slots[s->prev].next = s->next;
    else
        h->first = s->next;
    if (s->next != NIL)
        h->slots[s->next].prev = s->prev;
    else
        h->last = s->prev;
}

/* s becomes the most recently flagged or watched: last on the list. */
static void touch(struct ad_history *h, struct slot *s)
{
    uint32_t i = idx_of(h, s);
    if (h->last == i)
        return;
    list_remove(h, s);
    s->prev = h->last;
    s->next = NIL;
    h->slots[h->last].next = i;
    h->last = i;
}

/* A free slot goes first on the list: the next claim takes it. */
static void unlink_slot(struct ad_history *h, struct slot *s)
{
    ad_htab_del(&h->idx, s->hash, s);
    h->key_bytes -= s->id_len;
    ad_free(s->id);
    s->id = NULL;
    s->used = false;
    h->used--;
    uint32_t i = idx_of(h, s);
    if (h->first == i)
        return;
    list_remove(h, s);
    s->prev = NIL;
    s->next = h->first;
    h->slots[h->first].prev = i;
    h->first = i;
}

/* A slot to reuse: a free one, else the least recently flagged one nobody
 * watches (evicted), else NULL. */
static struct slot *victim(struct ad_history *h, int64_t now_ms)
{
    for (uint32_t i = h->first; i != NIL; i = h->slots[i].next) {
        struct slot *s = &h->slots[i];
        if (!s->used)
            return s;
        if (s->watch_until > now_ms)
            continue;
        unlink_slot(h, s);
        h->evictions++;
        return s;
    }
    return NULL;
}

/* Claims a slot for (key, metric); NULL when none can be had. */
static struct slot *claim(struct ad_history *h, const char *key, size_t key_len, const char *metric,
                          uint64_t hash, int64_t now_ms)
{
    size_t mlen = strlen(metric);
    struct slot *s = key_len <= h->cfg.max_key ? victim(h, now_ms) : NULL;
    if (!s) {
        h->refused++;
        return NULL;
    }
    if (!s->ring) {
        s->ring = ad_malloc(h->cfg.points * sizeof(*s->ring));
        if (!s->ring)
            goto err;
        h->ring_bytes += h->cfg.points * sizeof(*s->ring);
    }
    s->id = ad_malloc(key_len + mlen + 2);
    if (!s->id)
        goto err;
    memcpy(s->id, key, key_len);
    s->id[key_len] = '\0';
    memcpy(s->id + key_len + 1, metric, mlen + 1);
    s->key_len = key_len;
    s->id_len = key_len + mlen + 2;
    if (ad_htab_put(&h->idx, hash, s) != 0) { /* cannot happen: sized for every slot */
        ad_free(s->id);
        s->id = NULL;
        goto err;
    }
    s->hash = hash;
    s->used = true;
    s->head = s->n = 0;
    s->watch_until = 0;
    touch(h, s);
    h->used++;
    h->key_bytes += s->id_len;
    return s;
err:
    h->refused++;
    return NULL;
}

static void append(struct ad_history *h, struct slot *s, const struct ad_score_row *r)
{
    s->ring[s->head] = (struct ad_hist_point){
        .t_us = r->t_us,
        .value = r->value,
        .expected = r->expected,
        .lower = r->lower,
        .upper = r->upper,
        .score = r->score,
        .scored = r->scored,
        .is_anomaly = r->is_anomaly,
        .kind = (uint8_t)r->kind,
    };
    s->head = (s->head + 1) % h->cfg.points;
    if (s->n < h->cfg.points)
        s->n++;
}

void ad_history_score(struct ad_history *h, const struct ad_score_row *row, int64_t now_ms)
{
    if (h->used == 0 && !row->is_anomaly)
        return; /* nothing held: the common case costs nothing */
    h->last_now = now_ms;
    uint64_t hash = ad_series_name_hash(row->key, row->key_len, row->metric);
    struct slot *s = find(h, row->key, row->key_len, row->metric, hash);
    if (!s && row->is_anomaly)
        s = claim(h, row->key, row->key_len, row->metric, hash, now_ms);
    if (!s)
        return;
    if (row->is_anomaly)
        touch(h, s);
    append(h, s, row);
}

int ad_history_alert(struct ad_history *h, const struct ad_hist_alert *a, int64_t now_ms)
{
    h->last_now = now_ms;
    uint64_t hash = ad_series_name_hash(a->key, a->key_len, a->metric);
    struct slot *s = find(h, a->key, a->key_len, a->metric, hash);
    if (!s)
        s = claim(h, a->key, a->key_len, a->metric, hash, now_ms);
    if (!s)
        return AD_ELIMIT;
    touch(h, s);
    for (size_t k = 0; k < s->n; k++) {
        size_t i = (s->head + h->cfg.points - 1 - k) % h->cfg.points;
        if (s->ring[i].t_us == a->t_us) {
            s->ring[i].alert_seq = a->seq;
            s->ring[i].is_anomaly = true;
            return 0;
        }
    }
    return AD_ENOENT;
}

/* Slots watched at now_ms. */
static size_t watched(const struct ad_history *h, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < h->cfg.series; i++)
        n += h->slots[i].used && h->slots[i].watch_until > now_ms;
    return n;
}

int ad_history_watch(struct ad_history *h, const char *key, size_t key_len, const char *metric,
                     int64_t now_ms)
{
    if (key_len > h->cfg.max_key)
        return AD_EINVAL;
    h->last_now = now_ms;
    uint64_t hash = ad_series_name_hash(key, key_len, metric);
    struct slot *s = find(h, key, key_len, metric, hash);
    if (!s && watched(h, now_ms) >= (h->cfg.series + 1) / 2) {
        h->refused++; /* the other half stays for flagged series */
        return AD_ELIMIT;
    }
    if (!s)
        s = claim(h, key, key_len, metric, hash, now_ms);
    if (!s)
        return AD_ELIMIT;
    s->watch_until = now_ms + h->cfg.watch_ms;
    touch(h, s);
    return 0;
}

size_t ad_history_read(const struct ad_history *h, const char *key, size_t key_len,
                       const char *metric, struct ad_hist_point *out, size_t max)
{
    const struct slot *s = find(h, key, key_len, metric, ad_series_name_hash(key, key_len, metric));
    if (!s)
        return 0;
    size_t n = s->n < max ? s->n : max;
    size_t first = (s->head + h->cfg.points - n) % h->cfg.points; /* the newest n */
    for (size_t k = 0; k < n; k++)
        out[k] = s->ring[(first + k) % h->cfg.points];
    return n;
}

bool ad_history_wants(const struct ad_history *h, const char *key, size_t key_len,
                      const char *metric, bool is_anomaly)
{
    if (is_anomaly)
        return true;
    return h->used &&
           find(h, key, key_len, metric, ad_series_name_hash(key, key_len, metric)) != NULL;
}

bool ad_history_has(const struct ad_history *h, const char *key, size_t key_len, const char *metric)
{
    return find(h, key, key_len, metric, ad_series_name_hash(key, key_len, metric)) != NULL;
}

void ad_history_stats(const struct ad_history *h, struct ad_history_stats *out)
{
    *out = (struct ad_history_stats){
        .bytes = sizeof(*h) + h->cfg.series * sizeof(*h->slots) +
                 (h->idx.mask + 1) * (sizeof(*h->idx.val) + sizeof(*h->idx.tag)) + h->ring_bytes +
                 h->key_bytes,
        .series = h->used,
        .evictions = h->evictions,
        .refused = h->refused,
    };
    out->watched = watched(h, h->last_now);
}
