/* ad_wheel.h - a hashed timer wheel of deadlines, intrusive: each element is
 * an ad_wheel_node embedded in the caller's object, with a deadline (key) and
 * a sequence number (seq) that orders the elements due together.
 *
 * Keys are event times; a key's tick is floor(key / unit) and its bucket the
 * tick modulo the bucket count (a power of two at least span). Each bucket is
 * a doubly-linked list in add order (a node goes to its bucket's tail in
 * O(1)); ad_wheel_due() sorts the due nodes by seq (a merge sort over all the
 * due buckets), so that it hands them back in seq order whatever order they
 * were added in. Keys further apart than span ticks share buckets: still
 * correct, at the cost of skipping the ones not due when their bucket is
 * scanned.
 *
 * Costs: add/del O(1), due O(ticks advanced, at most the bucket count + due
 * nodes x log of the due nodes + nodes skipped). Nothing here allocates but
 * ad_wheel_init().
 *
 * Ownership: the wheel owns its bucket arrays (ad_wheel_free()); the nodes
 * are the caller's. */
#ifndef AD_WHEEL_H
#define AD_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ad_wheel_node {
    struct ad_wheel_node *prev, *next;
    int64_t key;  /* the deadline */
    uint64_t seq; /* the order among nodes due together */
    bool in;      /* in a wheel */
};

struct ad_wheel {
    struct ad_wheel_node **head, **tail; /* one list per bucket */
    int64_t unit;
    uint32_t mask;     /* bucket count - 1 */
    int64_t scan_from; /* the lowest tick that may hold a node not yet due */
    uint64_t n;        /* nodes in the wheel */
};

/* Sets up an empty wheel of ticks of unit (> 0) with at least span buckets
 * (rounded up to a power of two, at most 65536). Returns 0 or AD_ENOMEM. */
int ad_wheel_init(struct ad_wheel *wh, int64_t unit, uint32_t span);
/* Releases the buckets (not the nodes). Accepts a zeroed struct. */
void ad_wheel_free(struct ad_wheel *wh);

/* Adds node x (not in a wheel) with key and seq, at its bucket's tail
 * (O(1), whatever its seq). */
void ad_wheel_add(struct ad_wheel *wh, struct ad_wheel_node *x, int64_t key, uint64_t seq);
/* Takes x, which is in wh, out of it. */
void ad_wheel_del(struct ad_wheel *wh, struct ad_wheel_node *x);

/* Takes out every node whose key is <= limit and returns them as a list
 * linked through next (NULL-terminated), in ascending seq order (nodes with
 * equal seq: in no particular order). */
struct ad_wheel_node *ad_wheel_due(struct ad_wheel *wh, int64_t limit);

#endif
