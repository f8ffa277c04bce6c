/* ad_apiguard.c - key comparison and per-client request accounting for the
 * REST API (include/ad_apiguard.h). */
#include "ad_apiguard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_hash.h"

bool ad_key_equal(const char *given, size_t glen, const char *want)
{
    size_t wlen = strlen(want);
    unsigned char diff = glen != wlen;
    if (wlen == 0)
        return false; /* an empty key never matches: it would accept anyone */
    /* Walk the whole given key; index want cyclically so that every byte is
     * touched whatever the lengths, and fold every difference together. */
    for (size_t i = 0; i < glen; i++)
        diff |= (unsigned char)(given[i] ^ want[i % wlen]);
    return diff == 0;
}

bool ad_key_match(const char *given, size_t glen, const char *const *keys, size_t n)
{
    bool ok = false;
    for (size_t i = 0; i < n; i++)
        ok |= ad_key_equal(given, glen, keys[i]);
    return ok;
}

/* ---- per-client counts: a chained hash table keyed by address ---------- */

#define NBUCKETS 256

struct client {
    struct client *next;
    unsigned count;
    char addr[]; /* NUL-terminated */
};

struct ad_clients {
    struct client *b[NBUCKETS];
    size_t n;
};

static struct client **slot(struct ad_clients *t, const char *addr)
{
    uint64_t h = ad_fnv1a64(AD_FNV64_BASIS, addr, strlen(addr));
    struct client **pp = &t->b[h % NBUCKETS];
    while (*pp && strcmp((*pp)->addr, addr) != 0)
        pp = &(*pp)->next;
    return pp;
}

struct ad_clients *ad_clients_new(void)
{
    return calloc(1, sizeof(struct ad_clients));
}

void ad_clients_free(struct ad_clients *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < NBUCKETS; i++) {
        struct client *c = t->b[i], *next;
        for (; c; c = next) {
            next = c->next;
            free(c);
        }
    }
    free(t);
}

int ad_clients_acquire(struct ad_clients *t, const char *addr, unsigned limit)
{
    struct client **pp = slot(t, addr);
    if (*pp) {
        if (limit && (*pp)->count >= limit)
            return AD_EAGAIN;
        (*pp)->count++;
        return 0;
    }
    size_t len = strlen(addr);
    struct client *c = malloc(sizeof(*c) + len + 1);
    if (!c)
        return AD_ENOMEM;
    memcpy(c->addr, addr, len + 1);
    c->count = 1;
    c->next = NULL;
    *pp = c;
    t->n++;
    return 0;
}

void ad_clients_release(struct ad_clients *t, const char *addr)
{
    struct client **pp = slot(t, addr), *c = *pp;
    if (!c)
        return;
    if (--c->count == 0) {
        *pp = c->next;
        free(c);
        t->n--;
    }
}

unsigned ad_clients_count(const struct ad_clients *t, const char *addr)
{
    uint64_t h = ad_fnv1a64(AD_FNV64_BASIS, addr, strlen(addr));
    for (const struct client *c = t->b[h % NBUCKETS]; c; c = c->next)
        if (strcmp(c->addr, addr) == 0)
            return c->count;
    return 0;
}

size_t ad_clients_size(const struct ad_clients *t)
{
    return t->n;
}
