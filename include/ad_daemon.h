/* ad_daemon.h - the daemon: Kafka (or Event Hubs) in, the pipeline, alerts
 * out to a topic, the alert log and optionally stdout, on one libuv loop.
 *
 * At-least-once: a partition's offset is stored only up to the lowest offset
 * still held by an open window or by an alert whose delivery report has not
 * come back; auto-commit commits what was stored. A crash therefore replays,
 * never skips. SIGTERM/SIGINT stop consuming, flush the producer, store and
 * commit the safe offsets, leave the group and return 0. SIGHUP reopens the
 * alert log and reloads the config (a bad one is reported and the old one
 * kept; only log.level, model.welford.{threshold, min_samples, direction,
 * learn_anomalies} and sinks.alert_log.path take effect without a restart).
 * Under systemd it speaks the notify protocol (READY, WATCHDOG, RELOADING,
 * STOPPING), and with http.listen set it serves /metrics, /healthz and
 * /readyz. */
#ifndef AD_DAEMON_H
#define AD_DAEMON_H

#include <stdbool.h>
#include <uv.h>

#include "ad_config.h"

struct ad_daemon;
struct ad_apiserve;
struct ad_buf;

/* The anomalyd_api_* families of /metrics (docs/operations.md) for the API
 * server a, from the daemon's metrics table: what `anomalyd serve` shows on
 * its own /metrics. */
void ad_api_metrics_render(const struct ad_apiserve *a, struct ad_buf *b);

struct ad_daemon_opts {
    bool alerts_to_stdout; /* also print alert lines on stdout (the demo) */
    bool handle_signals;   /* install SIGTERM/SIGINT/SIGHUP handlers */
    /* For SIGHUP's reload: the file and --set overrides the config came from
     * (NULL: reload only reopens the alert log). Borrowed. */
    const char *config_path;
    char *const *sets;
    size_t nsets;
};

/* Starts consuming on loop. cfg is borrowed and must outlive the daemon.
 * Returns 0 and an owned daemon, or AD_ECONFIG/AD_EIO/AD_ENOMEM with a
 * message in err; when the start fails nothing is left running. */
int ad_daemon_start(uv_loop_t *loop, const struct ad_config *cfg, const struct ad_daemon_opts *opts,
                    struct ad_daemon **out, char *err, size_t errlen);

/* Begins the clean stop (as SIGTERM does). When done, the daemon's handles
 * are closed and the loop has nothing of it left; then call ad_daemon_free. */
void ad_daemon_stop(struct ad_daemon *d);

/* The exit status the daemon ended with: 0 clean, 1 fatal. */
int ad_daemon_status(const struct ad_daemon *d);

void ad_daemon_free(struct ad_daemon *d);

/* Runs the daemon on a new loop until it stops; returns the exit status. */
int ad_daemon_run(const struct ad_config *cfg, const struct ad_daemon_opts *opts);

#endif
