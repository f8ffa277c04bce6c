/* ad_wheel.c - the hashed timer wheel of deadlines (see ad_wheel.h).
 *
 * scan_from is the lowest tick that may hold a node: ad_wheel_add() lowers it
 * to the node's tick, ad_wheel_due() raises it past what it scanned. A due
 * call scans the buckets of ticks scan_from..tick(limit) (each bucket once at
 * most), takes the due nodes of each out (in bucket order, which is add
 * order, not seq order) and sorts them all by seq like a bottom-up merge
 * sort: each node enters a binary counter of lists as a run of one, and slot
 * k holds a merge of 2^k runs. Buckets are not kept sorted because a series
 * re-added with its old seq (ad_window.c part_due) would otherwise walk back
 * past every later node of its bucket. */
#include "ad_wheel.h"

#include "ad_alloc.h"
#include "ad_err.h"

#define MAX_BUCKETS 65536u

static int64_t tick_of(const struct ad_wheel *wh, int64_t key)
{
    int64_t t = key / wh->unit;
    return (key % wh->unit < 0) ? t - 1 : t; /* floor */
}

static uint32_t bucket_of(const struct ad_wheel *wh, int64_t key)
{
    return (uint32_t)((uint64_t)tick_of(wh, key) & wh->mask);
}

int ad_wheel_init(struct ad_wheel *wh, int64_t unit, uint32_t span)
{
    uint32_t nb = 1;
    while (nb < span && nb < MAX_BUCKETS)
        nb *= 2;
    *wh = (struct ad_wheel){.unit = unit > 0 ? unit : 1, .mask = nb - 1, .scan_from = INT64_MAX};
    wh->head = ad_calloc(nb, sizeof(*wh->head));
    wh->tail = ad_calloc(nb, sizeof(*wh->tail));
    if (!wh->head || !wh->tail) {
        ad_wheel_free(wh);
        return AD_ENOMEM;
    }
    return 0;
}

void ad_wheel_free(struct ad_wheel *wh)
{
    ad_free(wh->head);
    ad_free(wh->tail);
    wh->head = wh->tail = NULL;
    wh->n = 0;
}

void ad_wheel_add(struct ad_wheel *wh, struct ad_wheel_node *x, int64_t key, uint64_t seq)
{
    uint32_t b = bucket_of(wh, key);

    x->key = key;
    x->seq = seq;
    x->in = true;
    x->prev = wh->tail[b];
    x->next = NULL;
    if (x->prev)
        x->prev->next = x;
    else
        wh->head[b] = x;
    wh->tail[b] = x;
    wh->n++;
    int64_t t = tick_of(wh, key);
    if (t < wh->scan_from)
        wh->scan_from = t;
}

static void unlink_node(struct ad_wheel *wh, uint32_t b, struct ad_wheel_node *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        wh->head[b] = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        wh->tail[b] = x->prev;
    x->prev = x->next = NULL;
    x->in = false;
    wh->n--;
}

void ad_wheel_del(struct ad_wheel *wh, struct ad_wheel_node *x)
{
    unlink_node(wh, bucket_of(wh, x->key), x);
}

/* Merges two lists in seq order (through next); a's nodes first on ties. */
static struct ad_wheel_node *merge(struct ad_wheel_node *a, struct ad_wheel_node *b)
{
    struct ad_wheel_node head = {0}, *t = &head;
    while (a && b) {
        if (b->seq < a->seq) {
            t->next = b;
            b = b->next;
        } else {
            t->next = a;
            a = a->next;
        }
        t = t->next;
    }
    t->next = a ? a : b;
    return head.next;
}

/* Takes the nodes of bucket b with key <= limit out, in bucket order; *keep is set
 * when a node of tick <= last stays (its key is past limit in that tick). */
static struct ad_wheel_node *take_due(struct ad_wheel *wh, uint32_t b, int64_t limit, int64_t last,
                                      bool *keep)
{
    struct ad_wheel_node head = {0}, *t = &head, *x = wh->head[b], *next;
    for (; x; x = next) {
        next = x->next;
        if (x->key > limit) {
            if (tick_of(wh, x->key) <= last)
                *keep = true;
            continue;
        }
        unlink_node(wh, b, x);
        t->next = x;
        t = x;
    }
    t->next = NULL;
    return head.next;
}

struct ad_wheel_node *ad_wheel_due(struct ad_wheel *wh, int64_t limit)
{
    int64_t last = tick_of(wh, limit);
    if (wh->n == 0 || last < wh->scan_from)
        return NULL;
    uint64_t nb = (uint64_t)wh->mask + 1;
    uint64_t span = (uint64_t)last - (uint64_t)wh->scan_from + 1; /* 0: wrapped, all */
    uint64_t count = span == 0 || span > nb ? nb : span;
    struct ad_wheel_node *runs[64] = {0};
    bool keep = false;

    for (uint64_t i = 0; i < count; i++) {
        uint32_t b = (uint32_t)(((uint64_t)wh->scan_from + i) & wh->mask);
        struct ad_wheel_node *x = wh->head[b] ? take_due(wh, b, limit, last, &keep) : NULL;
        while (x) {
            struct ad_wheel_node *l = x;
            x = x->next;
            l->next = NULL;
            int k = 0;
            for (; k < 63 && runs[k]; k++) {
                l = merge(runs[k], l);
                runs[k] = NULL;
            }
            runs[k] = runs[k] ? merge(runs[k], l) : l;
        }
    }
    struct ad_wheel_node *out = NULL;
    for (int k = 0; k < 64; k++)
        if (runs[k])
            out = merge(runs[k], out);
    wh->scan_from = keep ? last : (last == INT64_MAX ? last : last + 1);
    if (wh->n == 0)
        wh->scan_from = INT64_MAX;
    return out;
}
