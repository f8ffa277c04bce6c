/* ad_engine.h - the pipeline, the optional remote stage and the alert sinks,
 * assembled once from the configuration. The replay and the daemon both drive
 * one engine: they push records into ad_engine_pipeline() and the engine
 * hands every alert line to each sink, in the order the sinks were added:
 *
 *   stdout (opts.out), the alert log (sinks.alert_log.path), the webhook
 *   (sinks.webhook.url), then the sinks the driver adds (the daemon's Kafka
 *   topic, whose producer it owns).
 *
 * A sink is an object with emit/close (struct ad_engine_sink_ops). A
 * synchronous sink has delivered (or failed) when emit returns. An
 * asynchronous one (the webhook, a Kafka topic) accepts the line when emit
 * returns 0 and reports later, exactly once, with ad_engine_sink_done().
 *
 * Offsets (at least once): a driver that commits source offsets gives the
 * engine a ledger (struct ad_engine_ledger). For each alert that goes to at
 * least one asynchronous sink, the engine takes one hold on the alert's
 * lowest source offset (ad_alert.low_offset) before the first emit, and
 * hands it back once every asynchronous sink has reported, with the worst
 * outcome of them (enum ad_engine_outcome): the driver releases the offsets
 * unless an output asked to keep them. Each remote job holds its window's
 * offsets the same way until its verdict is in. A hold that cannot be taken
 * is reported to the ledger's error hook, and never silently lost: without
 * a hold (or without memory for the engine's record of the alert) the
 * asynchronous sinks do not get the line (counted as refused: not sent
 * unheld; the synchronous ones still do), and a remote job is decided
 * locally at once (status "unavailable").
 *
 * The daemon (ad_daemon.c) builds its engine with its loop, stdout when
 * alerts go there, the alert log, and a ledger over ad_ledger; it adds a
 * synchronous sink that counts alerts for its metrics and the Kafka topic
 * (ad_kafka_sink.h); it reloads with ad_engine_set_alert_log() and
 * ad_engine_reopen(). The replay (ad_cmd_replay.c) builds one without a
 * ledger and turns it with ad_engine_pump().
 *
 * Threads: everything runs on the loop's thread. */
#ifndef AD_ENGINE_H
#define AD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "ad_config.h"
#include "ad_pipeline.h"
#include "ad_remote.h"
#include "ad_webhook.h"

struct ad_engine;
/* The engine's handle of one sink, for ad_engine_sink_done(). */
struct ad_engine_sink;
/* One alert on its way through the asynchronous sinks (opaque). */
struct ad_engine_delivery;

/* How an asynchronous output ended, from best to worst. */
enum ad_engine_outcome {
    AD_ENGINE_DELIVERED = 0, /* the sink has it */
    AD_ENGINE_DROPPED,       /* given up for good (an endpoint's 4xx, a refusal): counted;
                                its offsets may be committed */
    AD_ENGINE_KEPT,          /* not delivered, and should be after a restart (shutdown,
                                a Kafka message given up on): keep its offsets held */
};

struct ad_engine_sink_ops {
    const char *name; /* for stats and logs ("stdout", "alert_log", "webhook", "kafka") */
    bool async;       /* emit accepts; ad_engine_sink_done() reports */
    /* Takes one alert: a and line (len bytes, ending in '\n') are borrowed for
     * the call. A synchronous sink returns 0 (delivered) or a negative AD_E*
     * code (counted as failed). An asynchronous one returns 0 when it took the
     * line (it then calls ad_engine_sink_done(sink, d, ...) exactly once,
     * possibly before emit returns) or a negative code when it refused it
     * (counted as failed and as AD_ENGINE_DROPPED; no ad_engine_sink_done()
     * then). d is never NULL for an asynchronous sink. */
    int (*emit)(void *self, struct ad_engine_sink *sink, const struct ad_alert *a, const char *line,
                size_t len, struct ad_engine_delivery *d);
    /* Releases the sink; called once by ad_engine_free(). May be NULL. */
    void (*close)(void *self);
};

/* The driver's offset ledger. hold() records that (topic, partition) must not
 * be committed at or past low_offset until its token is handed back, and sets
 * *token (not NULL); it returns 0, or a negative code, which goes to error()
 * (may be NULL): with *token set even so (a coarse hold), the token is used
 * as usual; with *token NULL, nothing is held (see above). release() runs
 * exactly once for each token set, with the worst outcome of the outputs
 * (a remote job's is always AD_ENGINE_DELIVERED): the driver releases the
 * offsets, or for AD_ENGINE_KEPT keeps them held, and frees the token. */
struct ad_engine_ledger {
    int (*hold)(void *ud, const char *topic, int32_t partition, int64_t low_offset, void **token);
    void (*release)(void *ud, void *token, enum ad_engine_outcome outcome);
    void (*error)(void *ud, int rc);
    void *ud;
};

/* A remote stage other than ad_remote (tests): submit() takes a job and
 * answers it, exactly once, with ad_engine_remote_done(engine, job, o);
 * close() answers every pending job and stops. */
struct ad_engine_remote_ops {
    void (*submit)(void *self, struct ad_remote_job *job);
    void (*close)(void *self);
    void *self;
};

struct ad_engine_opts {
    /* The loop of the remote stage and the webhook (borrowed). NULL: when the
     * config asks for either, the engine runs a loop of its own, turned by
     * ad_engine_pump() (the replay's way). */
    uv_loop_t *loop;
    FILE *out;         /* the stdout sink: every line is written here; NULL: none */
    bool out_flush;    /* fflush(out) after each line */
    bool alert_log;    /* the alert log sink, on sinks.alert_log.path; with that
                           empty it writes nothing until ad_engine_set_alert_log() */
    bool log_failures; /* log a refused line (a synchronous sink's failure, an
                           emit refused) at warning level (the daemon); an
                           asynchronous sink logs its own later failures */
    const struct ad_engine_ledger *ledger;     /* copied; NULL: nothing to hold */
    const struct ad_engine_remote_ops *remote; /* copied; NULL: ad_remote per the config */
};

struct ad_engine_sink_stats {
    const char *name;
    uint64_t emitted;   /* lines for the sink */
    uint64_t delivered; /* written (synchronous) or reported delivered */
    uint64_t refused;   /* emit failed, or not sent for want of a hold */
    uint64_t failed;    /* asynchronous: reported dropped or kept */
    uint64_t pending;   /* asynchronous: taken, not yet reported */
};

struct ad_engine_stats {
    uint64_t alerts;
    uint64_t hold_errors; /* holds that could not be taken (see above) */
    uint64_t holds;       /* held now: alerts and remote jobs not yet released */
    size_t nsinks;
};

/* Builds the pipeline (with model.import), the sinks and, for remote mode
 * confirm/always, the remote stage from cfg (borrowed; it must outlive the
 * engine, as ad_remote and ad_webhook keep it). Returns 0 and an owned
 * engine (stop with ad_engine_stop(), free with ad_engine_free()), or
 * AD_ECONFIG (a setting, the model import, the remote or webhook settings),
 * AD_EIO (the alert log or the loop could not be opened) or AD_ENOMEM, with a
 * message in err. */
int ad_engine_new(const struct ad_config *cfg, const struct ad_engine_opts *opts,
                  struct ad_engine **out, char *err, size_t errlen);

/* The pipeline the driver pushes records into (owned by the engine). */
struct ad_pipeline *ad_engine_pipeline(struct ad_engine *e);

/* Adds a sink after the configured ones. ops is borrowed (static), self is
 * the sink's own state, closed with ops->close by ad_engine_free(). Returns
 * 0 or AD_ENOMEM (then the sink is not added and not closed). */
int ad_engine_add_sink(struct ad_engine *e, const struct ad_engine_sink_ops *ops, void *self,
                       struct ad_engine_sink **out);

/* An asynchronous sink's report on a line it took (d as emit got it). */
void ad_engine_sink_done(struct ad_engine_sink *sink, struct ad_engine_delivery *d,
                         enum ad_engine_outcome outcome);

/* Answers a remote job (the ad_remote_done_cb of the engine's remote stage;
 * ud is the engine). */
void ad_engine_remote_done(void *ud, struct ad_remote_job *job, const struct ad_remote_outcome *o);

/* True when the engine runs its own loop (so the driver must pump it). */
bool ad_engine_has_loop(const struct ad_engine *e);

/* The replay's pump (ad_replay_opts.pump, ud the engine): turns the own loop
 * without waiting and keeps the remote queue at most 4 x max_in_flight long.
 * With final, waits for every verdict, flushes the webhook and waits for it
 * (at most 30 s), then stops (ad_engine_stop()) and runs the loop until its
 * handles are closed. Without an own loop it does nothing. */
void ad_engine_pump(void *ud, bool final);

/* Stops the remote stage (pending jobs get the local verdict now), the
 * webhook (undelivered rows are reported not delivered) and the HTTP client;
 * their memory goes once the loop has run their close callbacks. The file
 * sinks and the driver's sinks stay until ad_engine_free(). Idempotent. */
void ad_engine_stop(struct ad_engine *e);

/* Switches the alert log to path ("" closes it), as a reload does; the same
 * path keeps the open file. On failure the old log stays and AD_EIO is
 * returned with err. Only for an engine built with opts.alert_log
 * (AD_ESTATE otherwise). */
int ad_engine_set_alert_log(struct ad_engine *e, const char *path, char *err, size_t errlen);
/* Re-opens the alert log (logrotate); 0 without one. */
int ad_engine_reopen(struct ad_engine *e, char *err, size_t errlen);

void ad_engine_stats(const struct ad_engine *e, struct ad_engine_stats *out);
/* The stats of sink i (0 .. nsinks-1, in emit order); AD_ENOENT past the end. */
int ad_engine_sink_stats(const struct ad_engine *e, size_t i, struct ad_engine_sink_stats *out);
/* Finds a sink's stats by name: 0 or AD_ENOENT. */
int ad_engine_sink_stats_by_name(const struct ad_engine *e, const char *name,
                                 struct ad_engine_sink_stats *out);
/* The remote stage's stats (the last ones before it stopped); false without
 * an ad_remote stage. */
bool ad_engine_remote_stats(const struct ad_engine *e, struct ad_remote_stats *out);
/* Whether the alert log's latest write failed (false without an alert log):
 * readiness says so until a write succeeds again. */
bool ad_engine_alert_log_failing(const struct ad_engine *e);
/* The webhook's stats; false without a webhook or once it stopped. */
bool ad_engine_webhook_stats(const struct ad_engine *e, struct ad_webhook_stats *out);

/* Frees the engine: stops it if needed, closes every sink, frees the
 * pipeline and closes the own loop. Accepts NULL. With a borrowed loop, run
 * that loop after ad_engine_stop() before freeing, so the remote stage and
 * the webhook finish closing. */
void ad_engine_free(struct ad_engine *e);

#endif
