/* ad_htab.h - the one hash table of the core: open addressing with linear
 * probing, each slot a value pointer and a 32-bit tag folded from the value's
 * 64-bit hash, kept in an array of their own so that a probe compares tags
 * (four bytes a slot) and touches a value only when they match; the slot is
 * chosen from the tag, so deletion can shift entries back (no tombstones).
 * 12 bytes a slot, at most 3/4 full.
 *
 * The table stores borrowed pointers (never NULL) and knows nothing of keys:
 * the caller hashes (ad_hash.h) and says, through eq, which value matches.
 * Several values may share a hash and even be equal; ad_htab_find() returns
 * the first that eq accepts. A zeroed struct is an empty table.
 *
 * Ownership: the table owns its arrays only; ad_htab_free() releases them and
 * accepts a zeroed struct. */
#ifndef AD_HTAB_H
#define AD_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ad_htab {
    void **val;     /* NULL: empty slot */
    uint32_t *tag;  /* the tag of each value */
    uint32_t shift; /* 32 - log2(capacity) */
    size_t mask;    /* capacity - 1 (a power of two), 0 when val is NULL */
    size_t n;
};

/* Is val the value that key stands for? */
typedef bool (*ad_htab_eq_fn)(const void *val, const void *key);

/* Sets up an empty table with room for cap entries (rounded up to a power of
 * two, at least 8) before it grows. Returns 0 or AD_ENOMEM. */
int ad_htab_init(struct ad_htab *t, size_t cap);
void ad_htab_free(struct ad_htab *t);

static inline uint32_t ad_htab_tag(uint64_t h)
{
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* The home slot of a tag (Fibonacci hashing: the tag's bits all count). */
static inline size_t ad_htab_home(const struct ad_htab *t, uint32_t tag)
{
    return (size_t)((uint32_t)(tag * UINT32_C(0x9E3779B1)) >> t->shift);
}

/* The value with hash h that eq(value, key) accepts, or NULL. Inline so that
 * a constant eq is inlined into the probe loop. */
static inline void *ad_htab_find(const struct ad_htab *t, uint64_t h, ad_htab_eq_fn eq,
                                 const void *key)
{
    if (!t->val)
        return NULL;
    uint32_t tag = ad_htab_tag(h);
    for (size_t i = ad_htab_home(t, tag);; i = (i + 1) & t->mask) {
        void *v = t->val[i];
        if (!v)
            return NULL;
        if (t->tag[i] == tag && eq(v, key))
            return v;
    }
}

/* Adds val (not NULL) under hash h, growing the table past 3/4 full. When
 * growing fails the table fills up to 7/8 before an add fails. Returns 0 or
 * AD_ENOMEM (the table is unchanged). */
int ad_htab_put(struct ad_htab *t, uint64_t h, void *val);
/* Removes val (by identity), added under hash h. Returns whether it was
 * there. */
bool ad_htab_del(struct ad_htab *t, uint64_t h, const void *val);
/* Puts val in the place of old (by identity, added under hash h; the two are
 * equal under the caller's eq). Cannot fail; returns whether old was there. */
bool ad_htab_replace(struct ad_htab *t, uint64_t h, const void *old, void *val);

#endif
