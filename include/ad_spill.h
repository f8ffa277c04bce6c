/* ad_spill.h - the state of series evicted at limits.max_series, on disk
 * (LMDB in state.dir/evicted.mdb) so that a returning series resumes.
 *
 * One entry per series (key bytes, metric name); a put replaces the entry,
 * nothing is ever deleted. The values are opaque bytes (the caller's encoded
 * series state).
 *
 * Transactions: every put goes into one LMDB write transaction kept open
 * until ad_spill_commit() (or an automatic commit after AD_SPILL_BATCH_PUTS
 * puts or AD_SPILL_BATCH_BYTES bytes, which bounds the dirty pages held in
 * memory), so a put costs no fsync. Commits are not synced either
 * (MDB_NOSYNC); ad_spill_sync() makes every commit done before it durable.
 * A process crash loses only the puts not yet committed; a system crash
 * between a commit and the next sync may lose that commit or corrupt the
 * file (LMDB's MDB_NOSYNC caveat), so the caller syncs before it relies on
 * the entries, e.g. before writing a checkpoint that no longer holds the
 * evicted series.
 * When a put or a commit fails, LMDB aborts the transaction: the puts since
 * the last commit are lost, the committed entries stay.
 *
 * Threads: one owner thread makes every call except ad_spill_sync(), which
 * may run on another thread at the same time (not with ad_spill_close()).
 * The file is locked (flock) while open: a second opener, in this process
 * or another, gets AD_EIO, instead of a writer blocking on the first one's
 * long-lived transaction.
 *
 * Keys: the LMDB key of a series is u8 metric length, the metric, then the
 * key bytes (binary-safe). When that is longer than LMDB's maximum key size
 * (511 bytes) or the metric is longer than 254 bytes, the LMDB key is 32
 * bytes instead: 0xff, 7 zero bytes, then three 64-bit FNV-1a hashes of the
 * series id (u32 metric length, metric, key) under three seeds; the value
 * then starts with the full id (u32 LE metric length, u32 LE key length, the
 * metric, a NUL, the key), which ad_spill_get() compares: two ids with the
 * same hashes share one entry, the later put wins and a get of the other
 * answers AD_ENOENT (that series starts afresh: state is lost, never mixed
 * up). FNV-1a is not collision-resistant against crafted keys; the worst a
 * crafted key can do is that loss. */
#ifndef AD_SPILL_H
#define AD_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"

#define AD_SPILL_FILE        "evicted.mdb"
#define AD_SPILL_BATCH_PUTS  2000 /* each may dirty a 4 KiB page: about 8 MiB held */
#define AD_SPILL_BATCH_BYTES ((size_t)16 << 20)

struct ad_spill;

/* Opens (creating, mode 0640) dir/evicted.mdb: one file (MDB_NOSUBDIR), no
 * lock file (MDB_NOLOCK: one process, one thread of transactions; the file
 * is flock'ed instead), commits not synced (MDB_NOSYNC), a 1 TiB map
 * (address space only; the file grows as needed). The file is checked
 * (ad_spill_check_file) once locked and before LMDB maps it. Returns 0,
 * AD_ENOMEM, AD_EPARSE for a damaged file ("damaged: " and what in err: the
 * caller moves it aside), or AD_EIO with a message naming the file and the
 * cause in err (the store in use by another opener, a file LMDB rejects,
 * ...). */
int ad_spill_open(const char *dir, struct ad_spill **out, char *err, size_t errlen);

/* Checks an LMDB data file without mapping it (pread only, so a damaged or
 * truncated one cannot fault the process): the meta pages, the file size
 * against the newest transaction's last page, and every page of the main
 * and free-page trees reachable from the newest meta (page numbers, kinds,
 * bounds, node offsets, overflow pages, depth and entry counts, free-list
 * ids). Cost: one read of every page in use. Returns 0 (sound, or an empty
 * file), AD_ENOENT, AD_EPARSE with what is wrong in err, AD_EIO, AD_ENOMEM.
 * A file being written by another process may fail: lock it first. */
int ad_spill_check_file(const char *path, char *err, size_t errlen);

/* Commits what is pending (no sync; a failure is logged) and closes.
 * Accepts NULL. */
void ad_spill_close(struct ad_spill *s);

/* Stores val under the series (key, metric), replacing what was there.
 * metric is a NUL-terminated string, key any bytes. Returns 0, AD_EINVAL,
 * AD_ENOMEM (out of memory, or the file reached the map size), or AD_EIO
 * (logged; the pending puts are lost, see above). */
int ad_spill_put(struct ad_spill *s, const char *key, size_t key_len, const char *metric,
                 const void *val, size_t val_len);

/* Looks the series up, seeing uncommitted puts too. On success the value
 * replaces out's content (ad_buf_reset first) and 0 is returned; AD_ENOENT
 * when absent (or another id's entry under the same hashes), AD_ELIMIT when
 * the value exceeds out->max, AD_ENOMEM, AD_EIO. The entry is kept. */
int ad_spill_get(struct ad_spill *s, const char *key, size_t key_len, const char *metric,
                 struct ad_buf *out);

/* Commits the open write transaction without fsync (cheap: the dirty pages
 * are written to the page cache). Returns 0 (also when nothing is pending),
 * AD_ENOMEM or AD_EIO (logged; the pending puts are lost). Owner thread. */
int ad_spill_commit(struct ad_spill *s);

/* Makes every commit done before the call durable (mdb_env_sync with force:
 * fdatasync of the file). Returns 0 or AD_EIO (logged). Blocking; may run on
 * another thread while the owner keeps putting and committing. */
int ad_spill_sync(struct ad_spill *s);

/* Bounds what the store keeps in memory: after each ad_spill_sync(), when
 * the file is larger than bytes (0, the default: never), its pages are
 * dropped from this process's map (madvise MADV_DONTNEED: RssFile) and from
 * the page cache (posix_fadvise POSIX_FADV_DONTNEED); a returning series is
 * then read from the disk. Any thread. ad_spill_trims() counts the trims. */
void ad_spill_set_cache_bound(struct ad_spill *s, uint64_t bytes);
uint64_t ad_spill_trims(struct ad_spill *s);

/* Called for every entry (committed and pending), in the order of the LMDB
 * keys; key, metric and val are valid during the call only, val is not
 * aligned. fn must not call into the store. */
typedef int (*ad_spill_fn)(void *ud, const char *key, size_t key_len, const char *metric,
                           const void *val, size_t val_len);

/* Calls fn for every entry; stops when fn returns non-zero and returns that.
 * Entries that do not decode are skipped. Returns 0, fn's value, or
 * AD_ENOMEM/AD_EIO (logged). */
int ad_spill_foreach(struct ad_spill *s, ad_spill_fn fn, void *ud);

/* Entries stored (pending puts included), and successful puts since open. */
uint64_t ad_spill_count(struct ad_spill *s);
uint64_t ad_spill_puts(struct ad_spill *s);
/* The data file's descriptor: fdatasync() on it does what ad_spill_sync()
 * does (MDB_NOSYNC without MDB_WRITEMAP), for a forked child that must not
 * call into LMDB. -1 for NULL. */
int ad_spill_fd(struct ad_spill *s);

#endif
