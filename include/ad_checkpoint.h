/* ad_checkpoint.h - the checkpoint file format: the state of one input
 * partition's series (models, de-duplication and lateness marks, sliding
 * rings; not open windows) and the source offset from which the partition is
 * to be consumed again. Pure encoding and decoding; the file handling
 * (temp file, fsync, rename, directory fsync) is in ad_state.h.
 *
 * Layout (little-endian), version 4:
 *   "ADCKPT\0\3"  magic (8 bytes; the last byte is the version)
 *   u64 fingerprint   settings the state depends on (ad_ckpt_fingerprint)
 *   i64 offset        consume the partition again from here
 *   i64 created_ms
 *   i64 max_t         the partition's newest event time (its watermark's
 *                     source), INT64_MIN for none; not in version 1, which is
 *                     still read (as INT64_MIN)
 *   i32 partition, u16 topic length, topic bytes
 *   u64 series count
 *   u8 cluster id length, cluster id, u8 group length, group: whose state it
 *     is (the Kafka cluster id and consumer group; empty when unknown); not
 *     in versions 1 to 3, which are still read (as empty)
 *   per series: u16 key length, key, u8 metric-name length, metric name,
 *     u64 n, f64 mean, f64 m2 (lifetime), u64 n, f64 mean, f64 m2 (window),
 *     i64 model_off, i64 last_t, i64 closed_until, i64 next_e, u8 pending,
 *     u32 unlearned, u32 ring length, ring points (i64 t, f64 v, i64 off,
 *     i64 low_off, u8 in_model),
 *     u32 detector length, detector bytes: the series' local detector state
 *     (the pipeline's encoding, ad_pdet.h; 0 bytes for the Welford path or a
 *     fresh detector); not in versions 1 and 2, which are still read (as 0)
 *   u64 FNV-1a-64 of every byte before it
 * A reader (ad_ckpt_check) checks the size limits, the checksum, the magic
 * and version before it trusts a byte. */
#ifndef AD_CHECKPOINT_H
#define AD_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"
#include "ad_window.h"

#define AD_CKPT_VERSION  4
#define AD_CKPT_MAX_RING 17280
#define AD_CKPT_MAX_DET  (1u << 20) /* bytes of one series' detector state */
#define AD_CKPT_ID_MAX   255        /* bytes of a cluster id or group kept (longer: cut) */

struct ad_ckpt_header {
    uint64_t fingerprint;
    int64_t offset;
    int64_t created_ms;
    int64_t max_t;
    int32_t partition;
    char topic[256];
    uint64_t nseries;
    /* Whose state: the source cluster's id (rd_kafka_clusterid) and the
     * consumer group, "" when unknown (and in files before version 4). */
    char cluster[AD_CKPT_ID_MAX + 1];
    char group[AD_CKPT_ID_MAX + 1];
};

/* A hash of the settings a checkpoint's state depends on (windows, scope,
 * aggregate: the window stage's cfg); a checkpoint written under other
 * settings is not restored. The hash of a given configuration never changes:
 * it is stored in every checkpoint. */
uint64_t ad_ckpt_fingerprint(const struct ad_window_cfg *w);

/* Starts a checkpoint in b (which it resets), with h->nseries as the series
 * count (0 when ad_ckpt_finish() is to set it). */
int ad_ckpt_begin(struct ad_buf *b, const struct ad_ckpt_header *h);
/* Appends one series; metric is its metric's name. st->det/det_len are the
 * detector bytes as they are to be stored (the caller's encoding), and
 * AD_EINVAL past AD_CKPT_MAX_DET. */
int ad_ckpt_add(struct ad_buf *b, const struct ad_series_state *st, const char *metric);
/* Streaming: the header (begin, with the true count) and the series are
 * written out in chunks; hash is the FNV-1a-64 of the chunks written so far
 * (ad_fnv1a64 from AD_FNV64_BASIS). Appends the checksum of everything to b,
 * whose bytes are the rest. */
int ad_ckpt_seal(struct ad_buf *b, uint64_t hash);
/* Writes the series count (the checksum is still to be appended: see
 * ad_ckpt_seal, with AD_FNV64_BASIS for a whole buffer). */
int ad_ckpt_set_count(struct ad_buf *b, uint64_t nseries);
/* Writes the series count and the checksum. */
int ad_ckpt_finish(struct ad_buf *b, uint64_t nseries);

/* A one-series checkpoint in b (reset first): the unit the state topic and
 * the spill store of evicted series keep per series. */
int ad_ckpt_one(struct ad_buf *b, const struct ad_ckpt_header *h, const struct ad_series_state *st,
                const char *metric);

/* Whose state a header says it is: sets h->cluster and h->group (NULL: "",
 * unknown; longer than AD_CKPT_ID_MAX bytes: cut). */
void ad_ckpt_set_owner(struct ad_ckpt_header *h, const char *cluster, const char *group);
/* Whether h is another owner's state than cluster and group: true when
 * either differs from h's, both being known (not NULL, not ""). A NULL
 * cluster is not checked. */
bool ad_ckpt_other_owner(const struct ad_ckpt_header *h, const char *cluster, const char *group);

/* Called per series while reading; returning non-zero stops the read. */
typedef int (*ad_ckpt_series_cb)(void *ud, const struct ad_series_state *st, const char *metric);

/* Checks a whole checkpoint (size limits, checksum, magic and version, every
 * series record) and fills *h. Returns 0, AD_EPARSE with a reason in err for
 * a truncated or corrupt file, AD_ERANGE for another version, or AD_ENOMEM. */
int ad_ckpt_check(const void *buf, size_t len, struct ad_ckpt_header *h, char *err, size_t errlen);
/* Calls cb per series of a checkpoint that ad_ckpt_check() accepted (so that
 * a bad file restores nothing at all: check first, then read). Returns 0,
 * AD_ENOMEM, AD_EPARSE (not checked, and malformed) or cb's code. */
int ad_ckpt_each(const void *buf, size_t len, ad_ckpt_series_cb cb, void *ud);

#endif
