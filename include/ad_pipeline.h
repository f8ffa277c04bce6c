/* ad_pipeline.h - the stages assembled once: decode -> window -> score ->
 * alert. The daemon, the replay, the demo and the benchmarks all drive this
 * same object; a source hands it records and it hands back alert lines and
 * rejected records through callbacks. Pure: no I/O, processing time passed in.
 *
 * Ownership: the pipeline copies what it needs from the config. Pointers given
 * to callbacks are borrowed for the duration of the call. */
#ifndef AD_PIPELINE_H
#define AD_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "ad_alert.h"
#include "ad_config.h"
#include "ad_decode.h"
#include "ad_window.h"

struct ad_pipeline;

/* An alert: the record and its formatted JSON line (ending in '\n'). */
typedef void (*ad_pipeline_alert_cb)(void *ud, const struct ad_alert *a, const char *line,
                                     size_t len);
/* A record that could not be used: reason is an ad_reject name or "late".
 * buf/meta are the record as it came in (for a dead-letter sink). */
typedef void (*ad_pipeline_reject_cb)(void *ud, const void *buf, size_t len,
                                      const struct ad_record_meta *meta, const char *reason);

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
    uint64_t unscored; /* events without a verdict: n < min_samples or stddev 0 */
    uint64_t alert_errors; /* alerts that could not be formatted */
    struct ad_window_stats win;
};

/* Builds the stages from cfg. Returns 0 and an owned pipeline (free with
 * ad_pipeline_free()), or AD_ECONFIG/AD_ENOMEM with a message in err. */
int ad_pipeline_new(const struct ad_config *cfg, struct ad_pipeline **out, char *err,
                    size_t errlen);
void ad_pipeline_free(struct ad_pipeline *p);

void ad_pipeline_on_alert(struct ad_pipeline *p, ad_pipeline_alert_cb cb, void *ud);
void ad_pipeline_on_reject(struct ad_pipeline *p, ad_pipeline_reject_cb cb, void *ud);

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

/* Writes every series' lifetime model as M2 JSON lines to fd. */
int ad_pipeline_export(struct ad_pipeline *p, int fd);

/* Forgets a revoked partition's window state (ad_window_part_drop). */
void ad_pipeline_drop_partition(struct ad_pipeline *p, const char *topic, int32_t partition);

void ad_pipeline_stats(const struct ad_pipeline *p, struct ad_pipeline_stats *out);

/* The lowest source offset of (topic, partition) still held by an open
 * window, or -1 when none is. */
int64_t ad_pipeline_low_offset(struct ad_pipeline *p, const char *topic, int32_t partition);

#endif
