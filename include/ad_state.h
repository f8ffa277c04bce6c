/* ad_state.h - checkpoint files in state.dir, one per input partition:
 * "<topic>-<partition>.ckpt" (the topic's characters outside [A-Za-z0-9._-]
 * escaped as %XX) and the previous good one as ".ckpt.prev".
 *
 * Writing (redis' rdb way): the bytes go to a temp file, which is fsynced,
 * the current file becomes .prev, the temp file is renamed over the current
 * one and the directory is fsynced; a crash at any point leaves a complete
 * current or previous file. Blocking: run it off the loop (uv_queue_work) or
 * at shutdown. */
#ifndef AD_STATE_H
#define AD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_checkpoint.h"
#include "ad_ckpt_delta.h"

/* A partition's checkpoint: "dir/<topic>-<partition>.ckpt". Borrowed.
 * cluster and group (NULL or "" when unknown) are whose state is wanted:
 * ad_state_load() refuses a file of another one. */
struct ad_state_loc {
    const char *dir;
    const char *topic;
    int32_t partition;
    const char *cluster;
    const char *group;
};

/* Writes "dir/<topic>-<partition>.ckpt" into out. Returns 0 or AD_ELIMIT. */
int ad_state_path(const char *dir, const char *topic, int32_t partition, char *out, size_t len);

/* Creates dir (mode 0750) when missing. Returns 0 or AD_EIO with err. */
int ad_state_dir_init(const char *dir, char *err, size_t errlen);

/* Writes buf durably as path: a temp file beside it, fsync, (with keep_prev
 * the current file renamed to path.prev,) rename over path, fsync of the
 * directory. Returns 0 or AD_EIO with the failing step and strerror in err. */
int ad_state_write_atomic(const char *path, const void *buf, size_t len, bool keep_prev, char *err,
                          size_t errlen);

/* Writes the bytes fill() writes to fd (returning 0, or a negative AD_E*
 * code with errno set; ad_write_all() of ad_fd.h does) durably as path, the
 * way ad_state_write_atomic() does. */
typedef int (*ad_state_fill_fn)(void *ud, int fd);
int ad_state_write_with(const char *path, bool keep_prev, ad_state_fill_fn fill, void *ud,
                        char *err, size_t errlen);
/* The same as the partition's checkpoint (keeping the previous one). */
int ad_state_write_stream(const struct ad_state_loc *loc, ad_state_fill_fn fill, void *ud,
                          char *err, size_t errlen);

/* Writes buf durably as the partition's checkpoint. Returns 0 or AD_EIO with
 * the failing step and strerror in err. */
int ad_state_write(const struct ad_state_loc *loc, const void *buf, size_t len, char *err,
                   size_t errlen);

/* Loads the partition's checkpoint: the current file, or when it is missing,
 * corrupt, of another version or written under other settings (fingerprint),
 * the previous one. Every problem is logged. A file whose header names
 * another topic or partition, or another cluster or group than loc (where
 * both are known), is not restored: it is renamed to
 * "<file>.mismatch-<unix seconds>" and logged with both identities. A file
 * without a cluster or group (written before version 4) is restored with a
 * warning. Returns 0 (cb has seen every
 * series, *h is filled), AD_ENOENT when there is no usable checkpoint (a cold
 * start), or the callback's error. A checkpoint that resumes at or before
 * newer_than (state newer than it was restored from elsewhere) is not used
 * either (AD_ENOENT, logged); pass -1 to take any. */
int ad_state_load(const struct ad_state_loc *loc, uint64_t fingerprint, int64_t newer_than,
                  struct ad_ckpt_header *h, ad_ckpt_series_cb cb, void *ud);

/* ---- incremental checkpoints (ad_ckpt_delta.h) ---------------------------
 * Beside a partition's checkpoint (the base), "<...>.ckpt.delta": one record
 * per incremental checkpoint since the base. ad_state_load() restores the
 * base, then the records that follow it in order. */

/* Writes the log's path ("<checkpoint>.delta") into out. 0 or AD_ELIMIT. */
int ad_state_delta_path(const struct ad_state_loc *loc, char *out, size_t len);
/* Appends a record (rec: the sealed checkpoint ckpt of len bytes, the
 * seq-th after the base whose checksum is base_sum; rec->h is not read; seq
 * 1 truncates the log first) and fdatasyncs it. Returns 0 or AD_EIO with err
 * (the record then torn or cut off again: write a full checkpoint next).
 * Blocking. */
int ad_state_append_delta(const struct ad_state_loc *loc, const struct ad_ckpt_delta *rec,
                          char *err, size_t errlen);
/* Compaction, the way a due full checkpoint is taken off the loop: merges
 * the partition's base (whose checksum must be base_sum) and the nrec
 * records of its log into a new base (every series' newest state, the last
 * record's offset and times), written as the partition's checkpoint (the old
 * one becomes .prev), and removes the log. Blocking (the thread pool's).
 * Returns 0 with the new base's checksum in *sum, or an error with err
 * (AD_ESTATE: the files are not the base and records expected; nothing
 * changed then, nor on any failure before the write). */
int ad_state_compact(const struct ad_state_loc *loc, uint64_t base_sum, uint64_t nrec,
                     uint64_t *sum, char *err, size_t errlen);
/* Removes the log (after a new base is durable). 0, AD_ELIMIT or AD_EIO. */
int ad_state_remove_delta(const struct ad_state_loc *loc);
/* A delta log as read: the records that follow a base, each checked once. */
struct ad_state_deltas {
    char *log; /* the log's bytes (owned; NULL when n is 0) */
    size_t log_len;
    struct ad_ckpt_delta *rec; /* the records in order (owned; ckpt points into log) */
    size_t n;
};
/* Reads the log at log_path and indexes the records that follow the base
 * (base, base_len: the checkpoint as read), logging why it stops early.
 * Returns 0 with *out filled (release with ad_state_deltas_free()). */
int ad_state_delta_read(const char *log_path, const void *base, size_t base_len,
                        struct ad_state_deltas *out);
/* Releases what ad_state_delta_read() filled in (accepts a zeroed struct). */
void ad_state_deltas_free(struct ad_state_deltas *d);

/* Reads the checkpoint file at path (not ad_state_load's choice: this very
 * file, as `anomalyd model export` reads each) and its delta log, calling cb
 * once per series with its newest state: the newest record's state of it,
 * else the base's. *h is the base's header with the newest record's offset,
 * times. Returns 0, AD_ENOENT, AD_EPARSE/AD_ERANGE (the base not usable,
 * reason in err), AD_ENOMEM or cb's code. */
int ad_state_each_latest(const char *path, struct ad_ckpt_header *h, ad_ckpt_series_cb cb, void *ud,
                         char *err, size_t errlen);

/* One daemon per state.dir: an fcntl write lock on dir/lock, which holds
 * the holder's pid. The lock goes with the process (a stale file of a dead
 * one does not block; a forked child does not inherit it). Returns 0 and
 * the descriptor in *fd (keep it open; ad_state_unlock() or exit releases
 * it), AD_ECONFIG when another process holds it (err names its pid), or
 * AD_EIO with err. */
int ad_state_lock(const char *dir, int *fd, char *err, size_t errlen);
/* Releases the lock (removing nothing: the file stays). Accepts -1. */
void ad_state_unlock(int fd);

/* Reads a whole file (at most max bytes) into a malloc'd buffer. */
int ad_state_read_file(const char *path, size_t max, char **out, size_t *len);

/* ---- the rest of state.dir's layout ------------------------------------------
 * Besides the checkpoint files, state.dir holds the daemon's lock file
 * (dir/lock, ad_state_lock), checkpoints of another owner moved aside
 * ("*.ckpt.mismatch-<time>", never read again), the evicted series' stores
 * (ad_spill.h): dir/evicted.mdb, and dir/spill-1/ .. dir/spill-16/ when
 * another process holds that one (each store belongs to one process at a
 * time: `model export` reading it as the daemon starts), and the seed models of `anomalyd model import`. Only this module
 * knows these names. */
#define AD_STATE_SPILL_DIRS 16 /* spill-1 .. spill-16 */
#define AD_STATE_SEED_FILE  "seed.m2.jsonl"

/* Writes the directory of spill store i into out: dir itself for 0,
 * dir/spill-i for 1..AD_STATE_SPILL_DIRS. Returns 0, AD_EINVAL (i out of
 * range) or AD_ELIMIT. */
int ad_state_spill_dir(const char *dir, int i, char *out, size_t len);

/* Writes dir/seed.m2.jsonl into out. Returns 0 or AD_ELIMIT. */
int ad_state_seed_path(const char *dir, char *out, size_t len);

/* Calls fn(ud, store_dir) for each spill store of dir that exists (its
 * evicted.mdb is there), in store order (0, 1, .., 16); stops when fn
 * returns non-zero and returns that. Returns 0 or fn's value. */
typedef int (*ad_state_dir_fn)(void *ud, const char *store_dir);
int ad_state_foreach_spill(const char *dir, ad_state_dir_fn fn, void *ud);

/* The checkpoint files of dir ("*.ckpt", not the .prev ones) as full paths,
 * sorted by name. */
struct ad_state_files {
    char **paths; /* owned */
    size_t n;
};
/* Returns 0 and an owned list (free with ad_state_files_free()), AD_EIO
 * with errno set when dir cannot be read, or AD_ENOMEM. */
int ad_state_list_checkpoints(const char *dir, struct ad_state_files *out);
void ad_state_files_free(struct ad_state_files *f);

#endif
