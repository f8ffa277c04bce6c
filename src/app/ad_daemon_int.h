/* ad_daemon_int.h - what the daemon's files share (private to src/app).
 *
 *   ad_daemon.c          wiring and lifecycle: start, stop, the tick, signals,
 *                        reload, Kafka in's callbacks, storing offsets, the
 *                        engine's ledger hooks
 *   ad_ckpt_sched.c      the checkpoint scheduler, evicted series, restoring
 *   ad_daemon_metrics.c  /metrics, /healthz, /readyz
 *
 * The offset ledger (ad_ledger.h), Kafka in (ad_kafka_in.h), Kafka out
 * (ad_kafka_out.h), the engine (ad_engine.h: the pipeline, the remote stage,
 * the alert sinks) and the Kafka topics as its sink (ad_kafka_sink.h) are
 * modules of their own. Everything here runs on the
 * loop thread. */
#ifndef AD_DAEMON_INT_H
#define AD_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ad_buf.h"
#include "ad_daemon.h"
#include "ad_detector.h"
#include "ad_kafka_in.h"
#include "ad_kafka_out.h"
#include "ad_ledger.h"
#include "ad_log.h"

#define AD_DAEMON_CLUSTER_WAIT_MS 2000 /* for the cluster id at the first assignment */

struct ad_pipeline;
struct ad_engine;
struct ad_kafka_sink;
struct ad_httpd;
struct ad_apiserve;
struct ad_dash;
struct ad_spill;
struct ckpt_work;

/* Where a partition's checkpoint stands (one setter: ad_ckpt_set_state). */
enum ad_ckpt_state {
    AD_CKPT_IDLE = 0, /* nothing in flight */
    AD_CKPT_WANTED,   /* due, but outputs were in flight: taken when they are done */
    AD_CKPT_BUSY,     /* a checkpoint write (file and state messages) is in flight */
};

/* Records consumed from a partition over the daemon's life: kept across
 * revoke and assign, so that the counter never restarts at 0. */
struct ad_tally {
    struct ad_tally *next;
    char *topic;
    int32_t partition;
    uint64_t consumed;
};

/* An assigned partition, beyond what the ledger tracks (its ud). */
struct tpart {
    struct ad_ledger_part *lp; /* topic, partition, id, offsets, holds */
    struct ad_tally *tally;    /* the daemon's (d->tallies), NULL out of memory */
    uint64_t consumed;
    int64_t lag;            /* from librdkafka statistics, -1 unknown */
    int64_t ckpt_offset;    /* the offset the newest durable checkpoint resumes at, -1 none */
    uint64_t ckpt_consumed; /* consumed when that checkpoint was taken */
    enum ad_ckpt_state ckpt;
    bool state_full; /* the state topic is to get every series, not only changed ones */
    bool ckpt_owed;  /* restored from the state topic: write the local file too */
    /* Incremental checkpoints (ad_ckpt_delta.h): the base this process
     * wrote, and the delta records appended to its log since. */
    uint64_t base_sum;    /* the base's checksum; 0 none (the next one is full) */
    uint64_t delta_seq;   /* records in its log */
    uint64_t deltas_left; /* incremental rounds before the next full one */
    uint64_t departed;    /* ad_pipeline_departed() when the base was taken */
    uint64_t bases;       /* full checkpoints written since the assignment */
};

struct ad_daemon {
    uv_loop_t *loop;
    const struct ad_config *cfg;
    struct ad_daemon_opts opts;
    struct ad_engine *engine; /* the pipeline, the remote stage, the alert sinks */
    struct ad_pipeline *pipe; /* the engine's (borrowed) */
    struct ad_ledger ledger;
    struct ad_kafka_in *in;
    struct ad_kafka_out *out;
    uv_timer_t tick;
    uv_signal_t sig[3];
    uv_timer_t watchdog;
    uv_timer_t ckpt_timer;
    int handles; /* open uv handles of the daemon's own */
    uint64_t watchdog_ms;
    int64_t start_time; /* seconds since the epoch */
    bool ready_sent, stopping;
    int status;
    uint64_t rebalances, reloads, reload_failures;
    struct ad_reload_job *reload_job; /* the reload being read off the loop, or NULL */
    bool reload_again;                /* a SIGHUP came during it: one more after it */

    /* outputs: the engine's sinks, and the daemon's own counts */
    struct ad_kafka_sink *ksink;              /* the alerts topic (an engine sink), dead letters */
    uint64_t alerts_by[AD_DETECTOR_COUNT][2]; /* [enum ad_detector_kind][direction - 1] */
    uint64_t consumed;
    struct ad_tally *tallies;               /* by partition, every partition ever consumed */
    uint64_t hold_errors;                   /* holds the ledger could not record (out of memory) */
    uint64_t lost_logged;                   /* the nomem count at the last report */
    struct ad_log_limit lost_limit;         /* its reports: one a minute at most (loop time) */
    uint64_t rejects_logged, rejects_since; /* the first few, then summaries */
    uint64_t rejects_summary_ms;

    /* checkpoints (ad_ckpt_sched.c) */
    bool checkpoints;         /* state.dir is set */
    int state_lock;           /* state.dir's lock (ad_state_lock), -1 none */
    char cluster_id[256];     /* the source cluster's id, "" until known */
    bool cluster_asked;       /* learn_cluster() ran in this rebalance's assignment */
    struct ad_spill *spill;   /* evicted series' state, with checkpoints */
    rd_kafka_t *state_reader; /* reads the state topic on assignment, with state.topic */
    int32_t state_nparts;
    struct ad_buf skey, sval; /* scratch: a state topic key and value */
    uint64_t state_sent, state_failed, state_restored, state_restore_errors;
    uint64_t fingerprint;
    uint64_t ckpt_written, ckpt_failed, ckpt_bytes, ckpt_series;
    double ckpt_seconds;
    double ckpt_stall_seconds; /* the loop's time in the newest checkpoint round */
    uint64_t ckpt_deltas;      /* incremental checkpoints written */
    uint64_t ckpt_compactions; /* due full ones made off the loop (base + deltas merged) */
    int64_t ckpt_last;         /* when the newest checkpoint became durable (s since the epoch) */
    int64_t ckpt_current_at;   /* when every partition's state was last found saved (s) */

    struct ad_httpd *httpd;
    struct ad_apiserve *api; /* with http.api.enabled; owned by httpd */
    struct ad_dash *dash;    /* with http.dashboard.enabled (ad_dash_daemon.c) */
};

/* ad_daemon.c */
struct tpart *ad_daemon_tp_find(struct ad_daemon *d, const char *topic, int32_t partition);
struct tpart *ad_daemon_tp_by_id(struct ad_daemon *d, uint32_t id);
/* Hands the safe offsets of every partition (or of only) to librdkafka. */
void ad_daemon_store_offsets(struct ad_daemon *d, struct tpart *only);
/* A hold of p was released: a checkpoint waiting for it may start. */
void ad_daemon_released(struct ad_daemon *d, struct ad_ledger_part *p);
/* The safe offset of t now. */
int64_t ad_daemon_tp_safe(struct ad_daemon *d, struct tpart *t);
/* True when every assigned partition's state is in its newest durable
 * checkpoint (nothing consumed since, nothing owed). */
bool ad_daemon_ckpt_current(const struct ad_daemon *d);

/* ad_ckpt_sched.c */
void ad_ckpt_set_state(struct tpart *t, enum ad_ckpt_state s);
void ad_ckpt_start(struct ad_daemon *d, struct tpart *t);
void ad_ckpt_sync(struct ad_daemon *d, struct tpart *t);
void ad_ckpt_on_timer(uv_timer_t *timer);
void ad_ckpt_state_done(struct ckpt_work *w, bool delivered);
/* Restores t (state topic, local checkpoint); returns the offset to
 * consume it from, or -1 for the committed one. */
int64_t ad_ckpt_restore(struct ad_daemon *d, struct tpart *t);
/* Hooks the spill store into the pipeline (evicted series). */
void ad_ckpt_wire_store(struct ad_daemon *d);

/* ad_dash_daemon.c: the dashboard on d->httpd, fed by the pipeline and the
 * engine. Returns 0 or an error with err. */
int ad_daemon_dash_open(struct ad_daemon *d, char *err, size_t errlen);

/* ad_daemon_metrics.c */
int ad_daemon_on_http(void *ud, const char *path, struct ad_buf *out, const char **ctype);
/* Why the daemon is not ready, or NULL when it is: the one rule behind
 * /readyz and the dashboard's health ("stopping", "producer failed", "no
 * broker reachable", "no partitions assigned", "alert log failing"). Brokers:
 * 0 connected at the latest statistics (each second) or all reported down is
 * not ready; unknown (-1) is not held against. */
const char *ad_daemon_not_ready(const struct ad_daemon *d);

#endif
