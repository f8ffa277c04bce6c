/* ad_pipeline.h - the stages assembled once: decode -> window -> score ->
 * alert. The daemon, the replay, the demo and the benchmarks all drive this
 * same object; a source hands it records and it hands back alert lines and
 * rejected records through callbacks. Pure: no I/O, processing time passed in.
 *
 * Ownership: the pipeline copies what it needs from its ad_pipeline_cfg at
 * creation. Pointers given to callbacks are borrowed for the duration of the
 * call. */
#ifndef AD_PIPELINE_H
#define AD_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "ad_alert.h"
#include "ad_decode.h"
#include "ad_detect.h"
#include "ad_out.h"
#include "ad_score.h"
#include "ad_scores.h"
#include "ad_types.h"
#include "ad_window.h"

struct ad_pipeline;
struct ad_azure_verdict;

/* The pipeline's settings: one struct per stage. The app layer fills it from
 * the loaded configuration (ad_config_to_pipeline() in ad_config.h); tests
 * fill it by hand. decode's strings are borrowed for the duration of
 * ad_pipeline_new(); everything else is copied. */
struct ad_pipeline_cfg {
    struct ad_decode_cfg decode; /* input.*, limits.max_message_bytes, max_key_bytes */
    struct ad_window_cfg window; /* windows.*, model.welford.scope, limits.max_series */
    struct ad_score_cfg score;   /* model.welford.* but scope */
    int remote_mode;             /* enum ad_remote_mode: remote.anomaly_detector.mode */
    /* model.detector and its blocks. detect.detector 0 (a zeroed cfg) or
     * AD_DET_WELFORD without the likelihood stage: the Welford path above,
     * exactly as before the detectors (scenario C's contract); any other:
     * per-series ad_detect state, scored and learnt by ad_detect_step(). */
    struct ad_detect_params detect;
    struct ad_detect_rules rules; /* model.rules.* (not for the Welford path) */
    int missing;                  /* enum ad_fill: windows.tumbling.missing (idem) */
};

/* Whether cfg scores with a local detector of ad_detect.h (true) or the
 * Welford path (detect.detector 0, or welford without the likelihood). */
bool ad_pipeline_cfg_uses_detect(const struct ad_pipeline_cfg *cfg);

/* An alert: the record and its formatted JSON line (ending in '\n'). */
typedef void (*ad_pipeline_alert_cb)(void *ud, const struct ad_alert *a, const char *line,
                                     size_t len);
/* A record that could not be used: reason is an ad_reject name or "late".
 * buf/meta are the record as it came in (for a dead-letter sink). */
typedef void (*ad_pipeline_reject_cb)(void *ud, const void *buf, size_t len,
                                      const struct ad_record_meta *meta, const char *reason);

/* A window waiting for the remote detector's verdict (remote mode confirm or
 * always). The pipeline owns it; the adapter that asks the remote reads the
 * public part and answers with ad_pipeline_remote_done(), exactly once. */
struct ad_remote_job {
    const char *key;
    size_t key_len;
    const char *metric;
    const struct ad_tpoint *points; /* the window's series, ascending */
    size_t n_points;
    bool local_anomaly; /* the local model flagged the window */
    const char *topic;  /* source partition and the lowest offset the window */
    int32_t partition;  /* depends on: hold it until the job is done */
    int64_t low_offset;
    void *adapter; /* free for the adapter's use */
};

/* What the remote said. */
struct ad_remote_outcome {
    const struct ad_azure_verdict *verdict; /* copied; NULL: no verdict (then the
                                             * local one stands); given to sinks
                                             * as ad_alert.remote */
    const char *json; /* the alert's "remote":{...} member (status, verdict or why not) */
    size_t json_len;
};

typedef void (*ad_pipeline_remote_cb)(void *ud, struct ad_remote_job *job);

struct ad_pipeline_stats {
    uint64_t records;  /* pushed */
    uint64_t accepted; /* decoded */
    uint64_t rejected; /* all reasons */
    uint64_t rejected_by[AD_REJECT_COUNT];
    uint64_t late_records; /* records with at least one late point */
    uint64_t nomem;        /* points lost to allocation failure */
    uint64_t alerts;
    uint64_t alerts_positive;
    uint64_t alerts_negative;
    uint64_t unscored;        /* events without a verdict: n < min_samples or stddev 0 */
    uint64_t alert_errors;    /* alerts that could not be formatted */
    uint64_t remote_jobs;     /* windows handed to the remote detector */
    uint64_t remote_flagged;  /* windows the remote verdict flagged */
    uint64_t remote_vetoed;   /* confirm: local anomalies the remote verdict cleared */
    uint64_t remote_fallback; /* windows decided locally: the remote gave no verdict */
    uint64_t detect_fresh;    /* series whose saved detector state could not be restored
                                 (another detector, parameters or layout): started fresh */
    uint64_t store_mismatch;  /* evicted series' states of another cluster or group: not loaded */
    struct ad_window_stats win;
};

/* Builds the stages from cfg (copied; cfg may go away afterwards). Returns 0
 * and an owned pipeline (free with ad_pipeline_free()), or AD_EINVAL,
 * AD_ECONFIG or AD_ENOMEM with a message in err. */
int ad_pipeline_new(const struct ad_pipeline_cfg *cfg, struct ad_pipeline **out, char *err,
                    size_t errlen);
void ad_pipeline_free(struct ad_pipeline *p);

void ad_pipeline_on_alert(struct ad_pipeline *p, ad_pipeline_alert_cb cb, void *ud);

/* Every scored point (replay's --scores), in the order the pipeline scores
 * them: a record's metric values without a tumbling window, each closed
 * tumbling window otherwise (with sliding windows and a local detector, each
 * tumbling point once; with the Welford path, each slide's newest point).
 * is_anomaly is the local verdict, before any remote detector. */
typedef void (*ad_pipeline_score_cb)(void *ud, const struct ad_score_row *row);
/* Adds a subscriber (the replay's --scores, the dashboard, ...): each gets
 * every row, in the order they subscribed. Returns 0, or AD_ELIMIT past
 * AD_PIPELINE_MAX_SCORERS. */
#define AD_PIPELINE_MAX_SCORERS 4
int ad_pipeline_on_score(struct ad_pipeline *p, ad_pipeline_score_cb cb, void *ud);
/* The same for a subscriber that wants only some rows: want (asked first,
 * with the series and the verdict) returns whether to build and hand over
 * the row, so rows nobody wants cost nothing (the dashboard's history). */
typedef bool (*ad_pipeline_score_want)(void *ud, const char *key, size_t key_len,
                                       const char *metric, bool is_anomaly);
int ad_pipeline_on_score_if(struct ad_pipeline *p, ad_pipeline_score_cb cb,
                            ad_pipeline_score_want want, void *ud);

/* Calls fn for each series held (key, metric name; borrowed for the call)
 * until it returns non-zero, which is returned; 0 at the end. */
typedef int (*ad_pipeline_each_fn)(void *ud, const char *key, size_t key_len, const char *metric);
int ad_pipeline_each_series(struct ad_pipeline *p, ad_pipeline_each_fn fn, void *ud);
void ad_pipeline_on_reject(struct ad_pipeline *p, ad_pipeline_reject_cb cb, void *ud);

/* Turns on the remote stage (cfg remote.anomaly_detector.mode confirm or
 * always, sliding windows): each sliding window to be asked about becomes a
 * job handed to cb; its alert (if any) is emitted when the job is done, in
 * window order per series. */
void ad_pipeline_on_remote(struct ad_pipeline *p, ad_pipeline_remote_cb cb, void *ud);

/* Completes a job: decides by the mode (ad_detector_decide()), emits the
 * alert (with o->json as its "remote" member) and frees the job. May emit
 * later jobs of the same series that were waiting behind this one. */
void ad_pipeline_remote_done(struct ad_pipeline *p, struct ad_remote_job *job,
                             const struct ad_remote_outcome *o);

/* Jobs not yet done. */
size_t ad_pipeline_remote_pending(const struct ad_pipeline *p);

/* Takes one record. Returns AD_REJECT_NONE or the reason it was rejected
 * (already counted and reported to the reject callback). */
enum ad_reject ad_pipeline_push(struct ad_pipeline *p, const void *buf, size_t len,
                                const struct ad_record_meta *meta, int64_t now_ms);

/* Processing-time housekeeping (idle windows). Call about once a second. */
void ad_pipeline_tick(struct ad_pipeline *p, int64_t now_ms);

/* Closes and scores every open window (end of input, shutdown). */
void ad_pipeline_flush(struct ad_pipeline *p);

/* Seeds lifetime models from an M2 model file (or the newest file of a
 * directory). Returns 0 or an error with a message in err. */
int ad_pipeline_import(struct ad_pipeline *p, const char *path, char *err, size_t errlen);

/* Appends every series' lifetime model to out as M2 JSON lines. */
int ad_pipeline_export(struct ad_pipeline *p, struct ad_buf *out);

/* Replaces the scoring settings (model.welford threshold, min_samples,
 * direction, learn_anomalies) with a copy of cfg: what a reload may change
 * without a restart. */
void ad_pipeline_reload_score(struct ad_pipeline *p, const struct ad_score_cfg *cfg);

/* Called per series while a checkpoint is taken (metric is its name);
 * st->dirty tells whether it changed since the previous checkpoint. A
 * non-zero return stops the checkpoint. */
typedef int (*ad_pipeline_series_cb)(void *ud, const struct ad_series_state *st,
                                     const char *metric);
/* What a checkpoint is of: (topic, partition)'s series, resuming
 * consumption at offset (ad_checkpoint.h). Pointers are borrowed for the
 * call. */
struct ad_ckpt_req {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t created_ms;
    uint64_t fingerprint;
    /* Leave out the checksum: the caller appends it with
     * ad_ckpt_seal(buf, AD_FNV64_BASIS), off the loop (about 0.12 s per
     * 100 MB). Buffer outputs only. */
    bool unsealed;
    /* Called per series as well (may be NULL); with it, the series are no
     * longer dirty afterwards (without, they are only read: a forked child's
     * way, which must not write to pages it shares with its parent). */
    ad_pipeline_series_cb each;
    void *ud;
    /* Incremental: only the series changed since the previous checkpoint
     * of the partition (its dirty list; no walk over the others). Needs a
     * patchable (buffer) output or none, and each (which may accept every
     * series: it is what marks them clean). */
    bool delta;
};

struct ad_ckpt_result {
    uint64_t nseries;
    uint64_t bytes; /* of the output (0 without one) */
    uint64_t sum;   /* its checksum when sealed here (ad_ckpt_sum), else 0 */
};

/* Serializes the checkpoint req asks for into out (ad_out.h: a buffer, or a
 * stream written out in chunks of about 1 MiB, so that no copy of the whole
 * state is held), handing each series to req->each too. With out NULL only
 * req->each is called. Fills *res (may be NULL). Returns 0, AD_ENOMEM,
 * AD_ELIMIT (the buffer's maximum), AD_EIO (the stream's write failed),
 * AD_EINVAL (unsealed into a stream) or req->each's code. */
int ad_pipeline_checkpoint(struct ad_pipeline *p, const struct ad_ckpt_req *req, struct ad_out *out,
                           struct ad_ckpt_result *res);
/* How many series left (topic, partition) so far (ad_part_departed), or
 * UINT64_MAX out of memory: an incremental checkpoint is only complete when
 * this has not changed since the previous full one. */
uint64_t ad_pipeline_departed(struct ad_pipeline *p, const char *topic, int32_t partition);
/* Restores one series of a checkpoint into (topic, partition); a series of a
 * metric this config does not have is skipped. */
int ad_pipeline_restore(struct ad_pipeline *p, const char *topic, int32_t partition,
                        const struct ad_series_state *st, const char *metric);

/* Where evicted series go (limits.max_series) and come back from. evicted()
 * gets the series' state as a one-series checkpoint (ad_ckpt_one) of its
 * partition (topic "" and partition -1 when that was dropped); load() is
 * asked for a series the pipeline does not hold and answers 0 with such a
 * checkpoint in out, or AD_ENOENT. Checkpoints of other settings
 * (fingerprint) are ignored; one of another partition resumes the model but
 * not the offsets. */
struct ad_pipeline_store {
    void (*evicted)(void *ud, const char *topic, int32_t partition, const char *key, size_t key_len,
                    const char *metric, const void *ckpt, size_t len);
    int (*load)(void *ud, const char *key, size_t key_len, const char *metric, struct ad_buf *out);
    void *ud;
};
void ad_pipeline_set_store(struct ad_pipeline *p, const struct ad_pipeline_store *store,
                           uint64_t fingerprint);
/* Whose state the pipeline holds: the source's Kafka cluster id and consumer
 * group (NULL or "" when unknown; copied, cut at AD_CKPT_ID_MAX bytes). Every
 * checkpoint and evicted series' state written from now on records them; an
 * evicted series' state recording another one is not loaded (the series
 * starts afresh, counted in stats.store_mismatch). */
void ad_pipeline_set_identity(struct ad_pipeline *p, const char *cluster, const char *group);

/* A partition's newest event time, or INT64_MIN. */
int64_t ad_pipeline_max_time(struct ad_pipeline *p, const char *topic, int32_t partition);
/* Restores a partition's clock (its newest event time, from a checkpoint's
 * header) so that a record late before a restart is late after it too. */
void ad_pipeline_restore_clock(struct ad_pipeline *p, const char *topic, int32_t partition,
                               int64_t max_t);

/* Forgets a revoked partition's window state (ad_window_part_drop). */
void ad_pipeline_drop_partition(struct ad_pipeline *p, const char *topic, int32_t partition);

void ad_pipeline_stats(const struct ad_pipeline *p, struct ad_pipeline_stats *out);
/* Points, series states and outputs lost for want of memory so far: the
 * pipeline's and the window stage's nomem counts together (O(1), no stats
 * copied; a caller compares it before and after a push or a tick). */
uint64_t ad_pipeline_nomem(const struct ad_pipeline *p);

/* The lowest source offset of (topic, partition) still held by an open
 * window, or -1 when none is. */
int64_t ad_pipeline_low_offset(struct ad_pipeline *p, const char *topic, int32_t partition);

#endif
