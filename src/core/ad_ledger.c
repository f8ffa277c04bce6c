/* ad_ledger.c - the at-least-once offset ledger (see ad_ledger.h). */
#include "ad_ledger.h"

#include "ad_alloc.h"

#include <stdlib.h>
#include <string.h>

#include "ad_err.h"

struct ad_ledger_entry {
    int64_t low;
    uint64_t seq;
    bool released;
};

void ad_ledger_init(struct ad_ledger *l)
{
    memset(l, 0, sizeof(*l));
}

static void part_free(struct ad_ledger_part *p)
{
    ad_free(p->q);
    ad_free(p->topic);
    ad_free(p);
}

void ad_ledger_close(struct ad_ledger *l)
{
    while (l->parts) {
        struct ad_ledger_part *p = l->parts;
        l->parts = p->next;
        part_free(p);
    }
    l->nparts = 0;
}

struct ad_ledger_part *ad_ledger_find(const struct ad_ledger *l, const char *topic,
                                      int32_t partition)
{
    for (struct ad_ledger_part *p = l->parts; p; p = p->next)
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return p;
    return NULL;
}

struct ad_ledger_part *ad_ledger_by_id(const struct ad_ledger *l, uint32_t id)
{
    if (!id)
        return NULL;
    for (struct ad_ledger_part *p = l->parts; p; p = p->next)
        if (p->id == id)
            return p;
    return NULL;
}

int ad_ledger_add(struct ad_ledger *l, const char *topic, int32_t partition,
                  struct ad_ledger_part **out)
{
    struct ad_ledger_part *p = ad_ledger_find(l, topic, partition);
    if (p) {
        *out = p;
        return 0;
    }
    size_t tl = strlen(topic);
    p = ad_malloc(sizeof(*p));
    char *name = p ? ad_malloc(tl + 1) : NULL;
    if (!name) {
        ad_free(p);
        return AD_ENOMEM;
    }
    memset(p, 0, sizeof(*p));
    memcpy(name, topic, tl + 1);
    p->topic = name;
    p->partition = partition;
    p->id = ++l->last_id;
    if (!p->id) /* wrapped after 4 billion assignments: 0 means "none" */
        p->id = ++l->last_id;
    p->next_off = -1;
    p->stored = -1;
    p->coarse_low = INT64_MAX;
    p->pinned = INT64_MAX;
    p->next = l->parts;
    l->parts = p;
    l->nparts++;
    *out = p;
    return 0;
}

void ad_ledger_remove(struct ad_ledger *l, struct ad_ledger_part *p)
{
    struct ad_ledger_part **pp = &l->parts;
    while (*pp && *pp != p)
        pp = &(*pp)->next;
    if (!*pp)
        return;
    *pp = p->next;
    l->nparts--;
    part_free(p);
}

/* Doubles p's ring; returns 0 or AD_ENOMEM (the ring is unchanged). */
static int ring_grow(struct ad_ledger_part *p)
{
    size_t ncap = p->qcap ? p->qcap * 2 : 64;
    if (ncap > SIZE_MAX / sizeof(struct ad_ledger_entry))
        return AD_ENOMEM;
    struct ad_ledger_entry *nq = ad_malloc(ncap * sizeof(*nq));
    if (!nq)
        return AD_ENOMEM;
    for (size_t i = 0; i < p->qlen; i++)
        nq[i] = p->q[(p->qhead + i) % p->qcap];
    ad_free(p->q);
    p->q = nq;
    p->qcap = ncap;
    p->qhead = 0;
    return 0;
}

int ad_ledger_hold(struct ad_ledger *l, const char *topic, int32_t partition, int64_t low,
                   struct ad_ledger_hold *out)
{
    struct ad_ledger_part *p = ad_ledger_find(l, topic, partition);
    out->part_id = 0;
    out->seq = 0;
    if (!p)
        return 0;
    out->part_id = p->id;
    if (p->qlen == p->qcap && ring_grow(p) != 0) {
        p->coarse++;
        if (low < p->coarse_low)
            p->coarse_low = low;
        out->seq = AD_LEDGER_COARSE;
        return AD_ENOMEM;
    }
    struct ad_ledger_entry *e = &p->q[(p->qhead + p->qlen) % p->qcap];
    e->low = low;
    e->seq = p->next_seq++;
    e->released = false;
    p->qlen++;
    out->seq = e->seq;
    return 0;
}

struct ad_ledger_part *ad_ledger_release(struct ad_ledger *l, const struct ad_ledger_hold *h)
{
    struct ad_ledger_part *p = ad_ledger_by_id(l, h->part_id);
    if (!p)
        return NULL;
    if (h->seq == AD_LEDGER_COARSE) {
        /* The lowest offset stays held until the last coarse hold goes: the
         * ledger does not know which of them held it. */
        if (p->coarse && --p->coarse == 0)
            p->coarse_low = INT64_MAX;
        return p;
    }
    if (!p->qlen)
        return p;
    uint64_t first = p->q[p->qhead].seq;
    if (h->seq < first || h->seq - first >= p->qlen)
        return p; /* released already */
    p->q[(p->qhead + (h->seq - first)) % p->qcap].released = true;
    while (p->qlen && p->q[p->qhead].released) {
        p->qhead = (p->qhead + 1) % p->qcap;
        p->qlen--;
    }
    return p;
}

void ad_ledger_processed(struct ad_ledger_part *p, int64_t offset)
{
    p->next_off = offset + 1;
}

bool ad_ledger_pin(struct ad_ledger_part *p, int64_t offset)
{
    bool first = p->pinned == INT64_MAX;
    if (offset < 0)
        offset = p->stored >= 0 ? p->stored : -1;
    if (offset < p->pinned)
        p->pinned = offset;
    return first;
}

bool ad_ledger_pending(const struct ad_ledger_part *p)
{
    if (p->coarse)
        return true;
    for (size_t i = 0; i < p->qlen; i++)
        if (!p->q[(p->qhead + i) % p->qcap].released)
            return true;
    return false;
}

int64_t ad_ledger_safe(const struct ad_ledger_part *p, int64_t window_low)
{
    int64_t low = p->next_off;
    if (low < 0)
        return -1;
    if (window_low >= 0 && window_low < low)
        low = window_low;
    if (p->coarse && p->coarse_low < low)
        low = p->coarse_low;
    if (p->pinned < low)
        low = p->pinned; /* -1: nothing is safe */
    for (size_t i = 0; i < p->qlen; i++) {
        const struct ad_ledger_entry *e = &p->q[(p->qhead + i) % p->qcap];
        if (!e->released && e->low < low)
            low = e->low;
    }
    return low;
}

int64_t ad_ledger_advance(struct ad_ledger_part *p, int64_t window_low, int64_t cap)
{
    int64_t safe = ad_ledger_safe(p, window_low);
    if (safe > cap)
        safe = cap;
    if (safe <= p->stored)
        return -1;
    p->stored = safe;
    return safe;
}
