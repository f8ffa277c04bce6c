/* ad_htab.c - open-addressing hash table (see ad_htab.h). */
#include "ad_htab.h"

#include "ad_alloc.h"
#include "ad_err.h"

#define MIN_BITS 3
#define MAX_BITS 31

/* Allocates empty arrays of 2^bits slots into *t (n untouched). */
static int alloc_slots(struct ad_htab *t, unsigned bits)
{
    size_t cap = (size_t)1 << bits;
    void **val = ad_calloc(cap, sizeof(*val) + sizeof(uint32_t));
    if (!val)
        return AD_ENOMEM;
    t->val = val;
    t->tag = (uint32_t *)(void *)(val + cap);
    t->mask = cap - 1;
    t->shift = 32 - bits;
    return 0;
}

int ad_htab_init(struct ad_htab *t, size_t cap)
{
    unsigned bits = MIN_BITS;
    while (((size_t)1 << bits) < cap && bits < MAX_BITS)
        bits++;
    t->n = 0;
    t->val = NULL;
    t->mask = 0;
    return alloc_slots(t, bits);
}

void ad_htab_free(struct ad_htab *t)
{
    ad_free(t->val);
    t->val = NULL;
    t->tag = NULL;
    t->mask = 0;
    t->n = 0;
}

static void insert(struct ad_htab *t, uint32_t tag, void *val)
{
    size_t i = ad_htab_home(t, tag);
    while (t->val[i])
        i = (i + 1) & t->mask;
    t->tag[i] = tag;
    t->val[i] = val;
}

static int grow(struct ad_htab *t)
{
    struct ad_htab old = *t;
    unsigned bits = old.val ? 32 - old.shift + 1 : MIN_BITS;
    if (bits > MAX_BITS || alloc_slots(t, bits) != 0)
        return AD_ENOMEM;
    for (size_t i = 0; old.val && i <= old.mask; i++)
        if (old.val[i])
            insert(t, old.tag[i], old.val[i]);
    ad_free(old.val);
    return 0;
}

int ad_htab_put(struct ad_htab *t, uint64_t h, void *val)
{
    size_t cap = t->val ? t->mask + 1 : 0;
    if ((t->n + 1) * 4 > cap * 3 && grow(t) != 0 && (t->n + 1) * 8 > cap * 7)
        return AD_ENOMEM;
    insert(t, ad_htab_tag(h), val);
    t->n++;
    return 0;
}

/* The slot of val (added under h), or SIZE_MAX. */
static size_t slot_of(const struct ad_htab *t, uint64_t h, const void *val)
{
    if (!t->val)
        return SIZE_MAX;
    for (size_t i = ad_htab_home(t, ad_htab_tag(h));; i = (i + 1) & t->mask) {
        if (!t->val[i])
            return SIZE_MAX;
        if (t->val[i] == val)
            return i;
    }
}

bool ad_htab_del(struct ad_htab *t, uint64_t h, const void *val)
{
    size_t i = slot_of(t, h, val), mask = t->mask;
    if (i == SIZE_MAX)
        return false;
    /* Backward shift: an entry after the hole moves into it unless its home
     * slot lies cyclically in (hole, entry]. */
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!t->val[j])
            break;
        size_t home = ad_htab_home(t, t->tag[j]);
        if (((j - home) & mask) < ((j - i) & mask))
            continue;
        t->val[i] = t->val[j];
        t->tag[i] = t->tag[j];
        i = j;
    }
    t->val[i] = NULL;
    t->n--;
    return true;
}

bool ad_htab_replace(struct ad_htab *t, uint64_t h, const void *old, void *val)
{
    size_t i = slot_of(t, h, old);
    if (i == SIZE_MAX)
        return false;
    t->val[i] = val;
    return true;
}
