/* ad_ckpt_delta.h - incremental checkpoints: the delta log beside a
 * partition's base checkpoint. Pure encoding and decoding; the files are in
 * ad_state.h ("<topic>-<partition>.ckpt.delta").
 *
 * A base is a whole checkpoint (ad_checkpoint.h). Each checkpoint round
 * between two bases appends one record to the log: the series that changed
 * since the previous round, as a complete sealed checkpoint of its own (so
 * its header carries that round's offset and newest event time), framed as
 * (little-endian):
 *   "ADCKDL\0\1"  magic (8 bytes; the last byte is the framing version)
 *   u64 base_sum  the checksum of the base it follows (its last 8 bytes)
 *   u64 seq       1 for the first record after the base, then 2, 3, ...
 *   u64 len       bytes of the checkpoint that follows
 *   u64 head_sum  FNV-1a-64 of the 32 bytes before it
 *   len bytes     the checkpoint (with its own checksum)
 * Restoring is the base, then each record of the log that follows it
 * (same base_sum, seq 1, 2, ... in order), a later record's series replacing
 * an earlier one's; it resumes at the last record's offset. The reading
 * stops at the first record that is torn, corrupt, of another base or out of
 * order: what follows is not trusted (a writer that crashed mid-append never
 * counted that record, or any later one, as durable). */
#ifndef AD_CKPT_DELTA_H
#define AD_CKPT_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "ad_checkpoint.h"

#define AD_CKPT_DELTA_HEAD 40 /* bytes of a record's frame before its checkpoint */

/* One record of a log, as read: ckpt/len borrowed from the log's bytes. */
struct ad_ckpt_delta {
    uint64_t base_sum;
    uint64_t seq;
    const void *ckpt;
    size_t len;
    struct ad_ckpt_header h; /* the record's checkpoint header (checked) */
};

/* The checksum a sealed checkpoint ends with (what a record's base_sum
 * names), or 0 when len is too short to hold one. */
uint64_t ad_ckpt_sum(const void *ckpt, size_t len);

/* Writes the frame of a record of len checkpoint bytes into out. */
void ad_ckpt_delta_head(unsigned char out[AD_CKPT_DELTA_HEAD], uint64_t base_sum, uint64_t seq,
                        uint64_t len);

/* Reads the record at *pos of a log of len bytes: checks the frame and the
 * whole checkpoint (ad_ckpt_check) and advances *pos past it. Returns 0,
 * AD_ENOENT at the end of the log, AD_EPARSE with a reason in err for a
 * torn or corrupt record (*pos not moved), or AD_ENOMEM. */
int ad_ckpt_delta_next(const void *log, size_t len, size_t *pos, struct ad_ckpt_delta *d, char *err,
                       size_t errlen);

/* Indexes the records of a log that follow the base of checksum base_sum:
 * those read in order from the start with that base_sum and seq 1, 2, ...
 * (checked from the frame before the record's checkpoint is), each checked
 * once, whole (ad_ckpt_check). Stops at the first that is not one of them;
 * *why then tells why (a static string: also "out of memory"), NULL when the
 * log ended cleanly. Returns the count; when recs is not NULL, *recs gets
 * the records in order (owned: ad_free; their ckpt borrowed from log; NULL
 * when none). */
size_t ad_ckpt_delta_index(const void *log, size_t len, uint64_t base_sum,
                           struct ad_ckpt_delta **recs, const char **why);
/* ad_ckpt_delta_index() without the records: their count. */
size_t ad_ckpt_delta_valid(const void *log, size_t len, uint64_t base_sum, const char **why);

#endif
