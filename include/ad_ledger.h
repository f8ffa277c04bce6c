/* ad_ledger.h - the at-least-once offset ledger: which offset of each
 * consumed (topic, partition) is safe to store.
 *
 * A partition's offset may be stored (and so committed) only up to the
 * lowest offset still needed: the offset after the last processed record,
 * the oldest record of a window still open (the caller passes it in), and
 * the low offset of every output (alert, dead letter, remote job, webhook
 * row) not yet delivered. Each such output takes a hold when it is made and
 * releases it when it is done; holds are released in any order.
 *
 * A hold never silently goes missing. When the ledger cannot grow its table
 * (allocation failure) ad_ledger_hold returns AD_ENOMEM and hands out a
 * coarse hold instead: it needs no memory, is released like any other, and
 * until every coarse hold of the partition is released the partition's safe
 * offset stays at or below the lowest offset any of them held. The caller
 * reports the error; the guarantee stands.
 *
 * A record whose points were lost (not folded into the state for want of
 * memory) pins its partition (ad_ledger_pin): the safe offset never passes
 * it again while the partition is tracked, so neither a commit nor a
 * checkpoint covers it; the partition is consumed from there again when it
 * is assigned anew (after a restart or a rebalance), when memory may be
 * there. Until then the partition is processed but its offset stands still.
 *
 * Pure: no I/O, no clock, no logging. One ledger is used from one thread.
 * The ledger owns its partitions and their topic names; the ud of a
 * partition is the caller's. */
#ifndef AD_LEDGER_H
#define AD_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ad_ledger_entry; /* private: one hold in a partition's table */

/* One tracked (topic, partition). Fields are read-only to the caller except
 * ud. */
struct ad_ledger_part {
    struct ad_ledger_part *next; /* the ledger's list, newest first */
    char *topic;
    int32_t partition;
    uint32_t id;      /* unique within the ledger, never 0, never reused */
    int64_t next_off; /* offset after the last processed record, -1 before any */
    int64_t stored;   /* the last offset ad_ledger_advance returned, -1 none */
    void *ud;         /* the caller's; the ledger never reads or frees it */
    /* private */
    struct ad_ledger_entry *q; /* ring of holds, in the order they were taken */
    size_t qhead, qlen, qcap;
    uint64_t next_seq;
    uint64_t coarse;    /* coarse holds outstanding */
    int64_t coarse_low; /* the lowest offset they hold, INT64_MAX none */
    int64_t pinned;     /* the lowest offset of a record with lost points, INT64_MAX none,
                           -1: nothing is safe (a loss before anything was stored) */
};

struct ad_ledger {
    struct ad_ledger_part *parts;
    size_t nparts;
    uint32_t last_id;
};

/* What a hold is released with. A zero part_id is a hold on nothing (the
 * partition was not tracked); releasing it does nothing. */
struct ad_ledger_hold {
    uint32_t part_id;
    uint64_t seq; /* AD_LEDGER_COARSE for a coarse hold */
};
#define AD_LEDGER_COARSE UINT64_MAX

void ad_ledger_init(struct ad_ledger *l);

/* Frees every partition (their ud is not touched). The ledger is empty and
 * may be used again. */
void ad_ledger_close(struct ad_ledger *l);

/* Starts tracking (topic, partition), or finds it when it is tracked
 * already. Returns 0 and *out, or AD_ENOMEM (nothing changed). */
int ad_ledger_add(struct ad_ledger *l, const char *topic, int32_t partition,
                  struct ad_ledger_part **out);

/* The tracked partition, or NULL. */
struct ad_ledger_part *ad_ledger_find(const struct ad_ledger *l, const char *topic,
                                      int32_t partition);
struct ad_ledger_part *ad_ledger_by_id(const struct ad_ledger *l, uint32_t id);

/* Stops tracking p (revoked) and frees it; its outstanding holds become
 * holds on nothing. */
void ad_ledger_remove(struct ad_ledger *l, struct ad_ledger_part *p);

/* Records that an output depending on offsets >= low of (topic, partition)
 * is in flight; *out is what it is released with. Returns 0 (when the
 * partition is not tracked, *out holds nothing), or AD_ENOMEM: *out is then
 * a coarse hold (see the top of this file), which must be released too. */
int ad_ledger_hold(struct ad_ledger *l, const char *topic, int32_t partition, int64_t low,
                   struct ad_ledger_hold *out);

/* Releases a hold. Returns its partition when it is still tracked (the
 * caller may now checkpoint or store it), else NULL. Releasing twice, or a
 * hold of a removed partition, does nothing. */
struct ad_ledger_part *ad_ledger_release(struct ad_ledger *l, const struct ad_ledger_hold *h);

/* Records that the record at offset was processed. */
void ad_ledger_processed(struct ad_ledger_part *p, int64_t offset);

/* Records that points of the record at offset were lost: the safe offset
 * of p stays at or below offset while p is tracked. A negative offset (a
 * loss not tied to a record, e.g. on a timer) pins p at what was stored
 * last, or when nothing was, makes nothing safe (ad_ledger_safe -1) while p
 * is tracked. Returns true when p was not pinned before. */
bool ad_ledger_pin(struct ad_ledger_part *p, int64_t offset);

/* Whether p has outputs in flight. */
bool ad_ledger_pending(const struct ad_ledger_part *p);

/* The offset up to which p is safe to store: the lowest of next_off,
 * window_low (the oldest record of an open window, -1 none), every hold and
 * the pin.
 * -1 before any record was processed. */
int64_t ad_ledger_safe(const struct ad_ledger_part *p, int64_t window_low);

/* The offset to store now: the safe offset, capped at cap (the offset a
 * durable checkpoint covers; INT64_MAX for no cap), when it is beyond what
 * was stored before (it is then recorded as stored). Else -1. */
int64_t ad_ledger_advance(struct ad_ledger_part *p, int64_t window_low, int64_t cap);

#endif
