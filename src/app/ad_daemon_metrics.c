/* ad_daemon_metrics.c - /metrics (Prometheus text format 0.0.4), /healthz
 * and /readyz.
 *
 * The metrics are one table, in output order. Each entry is a family: a
 * plain value, one value per label (a result, a status), or a function for
 * the few with label sets of their own. The values are read once per scrape
 * into a struct view, so the table holds offsets, not code. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ad_apiserve.h"
#include "ad_dash.h"
#include "ad_clock.h"
#include "ad_daemon.h"
#include "ad_daemon_int.h"
#include "ad_detector.h"
#include "ad_engine.h"
#include "ad_kafka_sink.h"
#include "ad_metrics.h"
#include "ad_pipeline.h"
#include "ad_proc.h"
#include "ad_remote.h"
#include "ad_spill.h"
#include "ad_webhook.h"

/* Everything a scrape reports, read once. */
struct view {
    const struct ad_daemon *d;
    struct ad_pipeline_stats pipe;
    struct ad_kafka_out_stats out;
    struct ad_remote_stats remote;
    struct ad_webhook_stats webhook;
    double start_time, points, late, duplicates, windows, slides;
    double dead_letters, producer_errors, queue_depth, queue_full, rebalances;
    double series, evictions, resumed, spill_stored, detect_fresh, scores_sent;
    double lost_nomem, pinned;
    double state_ok, state_error, state_restored, state_restore_errors;
    double ckpt_ok, ckpt_error, ckpt_age, ckpt_bytes, ckpt_seconds;
    double ckpt_stall, ckpt_deltas, ckpt_compactions;
    struct ad_kafka_sink_lat_hist alert_lat;
    double reload_ok, reload_error;
    double remote_status[7], remote_retries, breaker_state, remote_in_flight;
    double webhook_rows[3], webhook_pending;
    double sink_errors[3], dead_letter_errors, dead_letters_truncated;
    const struct ad_apiserve *apis; /* the API server, or NULL */
    struct ad_apiserve_stats api;
    double api_rejected[AD_API_REJECT_COUNT], api_in_flight;
    double dash_clients, dash_dropped, dash_refused, dash_history_bytes, dash_history_series;
    struct ad_proc_stats proc; /* the process_* families */
};

/* When a family is shown. */
enum when {
    ALWAYS = 0,
    ALERT_TOPIC,
    SPILL,
    STATE_TOPIC,
    CHECKPOINTS,
    CHECKPOINTED,
    REMOTE,
    WEBHOOK,
    API,
    DASH
};

struct family {
    const char *name, *type, *help;
    enum when when;
    size_t off;                /* the value (or the first of the labelled ones) */
    const char *label;         /* NULL: one plain sample */
    const char *const *values; /* the label's values, NULL-terminated */
    void (*render)(struct ad_buf *b, const struct family *f, const struct view *v);
};

#define V(field) offsetof(struct view, field)

static double at(const struct view *v, size_t off)
{
    return *(const double *)((const char *)v + off);
}

/* ---- families with label sets of their own --------------------------------------- */

static void build_info(struct ad_buf *b, const struct family *f, const struct view *v)
{
    const char *l[] = {"version", AD_VERSION};
    (void)v;
    ad_prom_sample(b, f->name, l, 1, 1);
}

static void per_partition(struct ad_buf *b, const struct family *f, const struct view *v)
{
    bool lag = strcmp(f->name, "anomalyd_consumer_lag") == 0;
    char part[16];
    /* Consumed: every partition ever consumed, assigned now or not. */
    for (const struct ad_tally *y = lag ? NULL : v->d->tallies; y; y = y->next) {
        snprintf(part, sizeof(part), "%d", y->partition);
        const char *l[] = {"topic", y->topic, "partition", part};
        ad_prom_sample(b, f->name, l, 2, (double)y->consumed);
    }
    for (const struct ad_ledger_part *p = lag ? v->d->ledger.parts : NULL; p; p = p->next) {
        const struct tpart *t = p->ud;
        snprintf(part, sizeof(part), "%d", p->partition);
        const char *l[] = {"topic", p->topic, "partition", part};
        if (t->lag >= 0)
            ad_prom_sample(b, f->name, l, 2, (double)t->lag);
    }
}

static void rejected(struct ad_buf *b, const struct family *f, const struct view *v)
{
    for (int r = 1; r < AD_REJECT_COUNT; r++) {
        const char *l[] = {"reason", ad_reject_name((enum ad_reject)r)};
        ad_prom_sample(b, f->name, l, 1, (double)v->pipe.rejected_by[r]);
    }
}

static void alerts(struct ad_buf *b, const struct family *f, const struct view *v)
{
    static const char *const dirs[] = {"positive", "negative"};
    for (int i = 0; i < AD_DETECTOR_COUNT; i++)
        for (int j = 0; j < 2; j++) {
            const char *l[] = {"detector", ad_detector_name((enum ad_detector_kind)i), "direction",
                               dirs[j]};
            ad_prom_sample(b, f->name, l, 2, (double)v->d->alerts_by[i][j]);
        }
}

static void remote_latency(struct ad_buf *b, const struct family *f, const struct view *v)
{
    double bounds[12];
    for (int i = 0; i < 12; i++)
        bounds[i] = ad_remote_latency_bounds_ms[i] / 1000.0;
    struct ad_prom_hist h = {bounds, v->remote.latency_le_ms, 12, v->remote.latency_sum_s};
    ad_prom_histogram(b, f->name, NULL, 0, &h);
}

static void alert_latency(struct ad_buf *b, const struct family *f, const struct view *v)
{
    struct ad_prom_hist h = {ad_alert_latency_bounds_s, v->alert_lat.counts,
                             AD_ALERT_LATENCY_BUCKETS, v->alert_lat.sum_s};
    ad_prom_histogram(b, f->name, NULL, 0, &h);
}

static void api_requests(struct ad_buf *b, const struct family *f, const struct view *v)
{
    for (int e = 0; e < AD_API_EP_COUNT; e++)
        for (int c = 0; c < AD_API_CLASS_COUNT; c++) {
            const char *l[] = {"endpoint", ad_api_ep_name((enum ad_api_ep)e), "class",
                               ad_api_class_name((enum ad_api_class)c)};
            ad_prom_sample(b, f->name, l, 2, (double)v->api.by_ep[e][c]);
        }
}

static void api_latency(struct ad_buf *b, const struct family *f, const struct view *v)
{
    struct ad_prom_hist h = {ad_api_latency_bounds_s, v->api.latency, AD_API_LATENCY_BUCKETS,
                             v->api.latency_sum_s};
    ad_prom_histogram(b, f->name, NULL, 0, &h);
}

/* ---- the table -------------------------------------------------------------------- */

static const char *const results[] = {"ok", "error", NULL};
static const char *const lost_reasons[] = {"nomem", NULL};
static const char *const remote_statuses[] = {"ok",       "skipped",      "unavailable", "timeout",
                                              "rejected", "breaker_open", "overloaded",  NULL};
static const char *const webhook_results[] = {"delivered", "dropped", "refused", NULL};
static const char *const sink_names[] = {"alert_log", "webhook", "kafka", NULL};
static const char *const api_rejections[] = {"401", "413", "429", "503", NULL};

#define PLAIN(name, type, help, when, field)                                                       \
    {                                                                                              \
        name, type, help, when, V(field), NULL, NULL, NULL                                         \
    }
#define LABELS(name, type, help, when, field, l, vs)                                               \
    {                                                                                              \
        name, type, help, when, V(field), l, vs, NULL                                              \
    }
#define CUSTOM(name, type, help, when, fn)                                                         \
    {                                                                                              \
        name, type, help, when, 0, NULL, NULL, fn                                                  \
    }

/* Each family's samples form one group (text format 0.0.4). */
static const struct family families[] = {
    CUSTOM("anomalyd_build_info", "gauge", "Build information.", ALWAYS, build_info),
    /* The process_* families of the Prometheus client libraries. */
    PLAIN("process_cpu_seconds_total", "counter",
          "Total user and system CPU time spent in seconds.", ALWAYS, proc.cpu_seconds),
    PLAIN("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", ALWAYS,
          proc.resident_bytes),
    PLAIN("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", ALWAYS,
          proc.virtual_bytes),
    PLAIN("process_open_fds", "gauge", "Number of open file descriptors.", ALWAYS, proc.open_fds),
    PLAIN("process_max_fds", "gauge", "Maximum number of open file descriptors.", ALWAYS,
          proc.max_fds),
    PLAIN("process_start_time_seconds", "gauge",
          "Start time of the process since unix epoch in seconds.", ALWAYS,
          proc.start_time_seconds),
    PLAIN("anomalyd_process_start_time_seconds", "gauge", "Start time since the epoch.", ALWAYS,
          start_time),
    CUSTOM("anomalyd_records_consumed_total", "counter", "Records consumed, by partition.", ALWAYS,
           per_partition),
    CUSTOM("anomalyd_consumer_lag", "gauge", "Consumer lag in records (librdkafka statistics).",
           ALWAYS, per_partition),
    CUSTOM("anomalyd_records_rejected_total", "counter", "Records rejected, by reason.", ALWAYS,
           rejected),
    PLAIN("anomalyd_points_total", "counter", "Points accepted into a series.", ALWAYS, points),
    PLAIN("anomalyd_late_points_total", "counter", "Points after their window closed.", ALWAYS,
          late),
    PLAIN("anomalyd_duplicate_points_total", "counter", "Points dropped as duplicates.", ALWAYS,
          duplicates),
    LABELS("anomalyd_points_lost_total", "counter",
           "Points, series states and outputs lost, by reason (nomem: allocation failure).", ALWAYS,
           lost_nomem, "reason", lost_reasons),
    PLAIN("anomalyd_partitions_pinned", "gauge",
          "Assigned partitions whose offset is held at a loss (not committed past it).", ALWAYS,
          pinned),
    PLAIN("anomalyd_windows_closed_total", "counter", "Tumbling windows closed.", ALWAYS, windows),
    PLAIN("anomalyd_sliding_windows_total", "counter", "Sliding-window scoring events.", ALWAYS,
          slides),
    CUSTOM("anomalyd_alert_latency_seconds", "histogram",
           "Alert latency: window close (the engine's emit) to the alerts topic's delivery "
           "report.",
           ALERT_TOPIC, alert_latency),
    CUSTOM("anomalyd_alerts_total", "counter", "Alerts, by detector and direction.", ALWAYS,
           alerts),
    PLAIN("anomalyd_dead_letters_total", "counter", "Records sent to the dead-letter topic.",
          ALWAYS, dead_letters),
    PLAIN("anomalyd_dead_letter_errors_total", "counter",
          "Dead letters that could not be produced or delivered.", ALWAYS, dead_letter_errors),
    PLAIN("anomalyd_dead_letters_truncated_total", "counter",
          "Dead letters sent as a copy cut to fit the producer's message.max.bytes.", ALWAYS,
          dead_letters_truncated),
    LABELS("anomalyd_sink_errors_total", "counter",
           "Alerts a sink could not write or deliver (refused, dropped or kept), by sink.", ALWAYS,
           sink_errors, "sink", sink_names),
    PLAIN("anomalyd_producer_errors_total", "counter", "Failed produce calls and deliveries.",
          ALWAYS, producer_errors),
    PLAIN("anomalyd_producer_queue_depth", "gauge", "Messages in the producer's queue.", ALWAYS,
          queue_depth),
    PLAIN("anomalyd_producer_queue_full_total", "counter", "Times the producer queue was full.",
          ALWAYS, queue_full),
    PLAIN("anomalyd_rebalances_total", "counter", "Consumer group rebalance events.", ALWAYS,
          rebalances),
    PLAIN("anomalyd_series", "gauge", "Live series.", ALWAYS, series),
    PLAIN("anomalyd_series_evictions_total", "counter", "Series evicted at limits.max_series.",
          ALWAYS, evictions),
    PLAIN("anomalyd_series_resumed_total", "counter",
          "Evicted series seen again and resumed from their stored state.", ALWAYS, resumed),
    PLAIN("anomalyd_detector_state_fresh_total", "counter",
          "Series whose saved detector state did not fit the detector's parameters and restarted "
          "fresh.",
          ALWAYS, detect_fresh),
    PLAIN("anomalyd_scores_sent_total", "counter", "Scored points sent to sinks.scores.topic.",
          ALWAYS, scores_sent),
    PLAIN("anomalyd_evicted_series_stored", "gauge", "Series states in the evicted series' store.",
          SPILL, spill_stored),
    LABELS("anomalyd_state_topic_messages_total", "counter",
           "Series states and markers written to state.topic, by result.", STATE_TOPIC, state_ok,
           "result", results),
    PLAIN("anomalyd_state_topic_restored_states_total", "counter",
          "Series states applied from state.topic on assignments (one per message "
          "read: a series not compacted yet counts once per update).",
          STATE_TOPIC, state_restored),
    PLAIN("anomalyd_state_topic_restore_errors_total", "counter",
          "Assignments whose state could not be read from state.topic.", STATE_TOPIC,
          state_restore_errors),
    LABELS("anomalyd_checkpoints_total", "counter", "Checkpoints written, by result.", CHECKPOINTS,
           ckpt_ok, "result", results),
    PLAIN("anomalyd_checkpoint_age_seconds", "gauge",
          "Seconds the state has waited to be saved (0: in the newest durable checkpoint).",
          CHECKPOINTS, ckpt_age),
    PLAIN("anomalyd_checkpoint_bytes", "gauge", "Size of the newest checkpoint.", CHECKPOINTED,
          ckpt_bytes),
    PLAIN("anomalyd_checkpoint_duration_seconds", "gauge",
          "Time the newest checkpoint took, serialization and fsync included.", CHECKPOINTED,
          ckpt_seconds),
    PLAIN("anomalyd_checkpoint_stall_seconds", "gauge",
          "Time the loop spent in the newest checkpoint round (serializing, forking): what "
          "consumption waited for; the writes run off the loop.",
          CHECKPOINTED, ckpt_stall),
    PLAIN("anomalyd_checkpoint_deltas_total", "counter",
          "Incremental checkpoints written (only the series changed since the previous one).",
          CHECKPOINTS, ckpt_deltas),
    PLAIN("anomalyd_checkpoint_compactions_total", "counter",
          "Full checkpoints made off the loop by merging a base and its delta log.", CHECKPOINTS,
          ckpt_compactions),
    LABELS("anomalyd_config_reloads_total", "counter", "Config reloads, by result.", ALWAYS,
           reload_ok, "result", results),
    LABELS("anomalyd_remote_requests_total", "counter", "Remote detector answers, by status.",
           REMOTE, remote_status, "status", remote_statuses),
    PLAIN("anomalyd_remote_retries_total", "counter", "Remote detector retries.", REMOTE,
          remote_retries),
    CUSTOM("anomalyd_remote_request_duration_seconds", "histogram",
           "Duration of remote detector HTTP attempts.", REMOTE, remote_latency),
    PLAIN("anomalyd_remote_breaker_state", "gauge",
          "Circuit breaker: 0 closed, 1 open, 2 half-open.", REMOTE, breaker_state),
    PLAIN("anomalyd_remote_in_flight", "gauge", "Remote requests in flight.", REMOTE,
          remote_in_flight),
    LABELS("anomalyd_webhook_rows_total", "counter", "Webhook rows, by result.", WEBHOOK,
           webhook_rows, "result", webhook_results),
    PLAIN("anomalyd_webhook_pending_rows", "gauge", "Webhook rows waiting to be delivered.",
          WEBHOOK, webhook_pending),
    CUSTOM("anomalyd_api_requests_total", "counter",
           "Anomaly Detector API answers, by endpoint and status class.", API, api_requests),
    LABELS("anomalyd_api_rejected_total", "counter",
           "API requests refused before any computation, by status.", API, api_rejected, "status",
           api_rejections),
    PLAIN("anomalyd_api_in_flight", "gauge", "API requests computing on the thread pool.", API,
          api_in_flight),
    CUSTOM("anomalyd_api_compute_duration_seconds", "histogram",
           "Time on the thread pool per API request (parse, detect, answer).", API, api_latency),
    PLAIN("anomalyd_dashboard_clients", "gauge", "Live alert feed clients connected.", DASH,
          dash_clients),
    PLAIN("anomalyd_dashboard_clients_dropped_total", "counter",
          "Feed clients dropped for falling behind (http.dashboard.client_queue).", DASH,
          dash_dropped),
    PLAIN("anomalyd_dashboard_clients_refused_total", "counter",
          "Feed clients refused with 503 (http.dashboard.max_clients).", DASH, dash_refused),
    PLAIN("anomalyd_dashboard_history_bytes", "gauge",
          "Memory of the dashboard's history rings and recent alerts.", DASH, dash_history_bytes),
    PLAIN("anomalyd_dashboard_history_series", "gauge", "Series with a dashboard history ring.",
          DASH, dash_history_series),
};

/* ---- reading the values ------------------------------------------------------------- */

static void read_remote(struct view *v)
{
    const struct ad_remote_stats *rs = &v->remote;
    uint64_t st[7] = {rs->ok,       rs->skipped,      rs->unavailable, rs->timeout,
                      rs->rejected, rs->breaker_open, rs->overloaded};
    for (int i = 0; i < 7; i++)
        v->remote_status[i] = (double)st[i];
    v->remote_retries = (double)rs->retries;
    v->breaker_state = (double)rs->breaker_state;
    v->remote_in_flight = (double)rs->in_flight;
}

static void read_api(const struct ad_apiserve *a, struct view *v)
{
    v->apis = a;
    if (!a)
        return;
    ad_apiserve_stats(a, &v->api);
    for (int r = 0; r < AD_API_REJECT_COUNT; r++)
        v->api_rejected[r] = (double)v->api.rejected[r];
    v->api_in_flight = (double)v->api.in_flight;
}

/* How long the state has been waiting to be saved: 0 when every partition's
 * state is in its newest durable checkpoint, else the seconds since the
 * later of that checkpoint and the last time (checked every second) the
 * state was found saved. An idle topic stays at 0; state that checkpoints
 * fail to save, or that changes faster than they run, ages. */
static double ckpt_age(const struct ad_daemon *d)
{
    int64_t now = ad_clock_wall_us() / 1000000;
    int64_t since = d->ckpt_last > d->ckpt_current_at ? d->ckpt_last : d->ckpt_current_at;
    return ad_daemon_ckpt_current(d) || now < since ? 0 : (double)(now - since);
}

static void read_view(const struct ad_daemon *d, struct view *v)
{
    memset(v, 0, sizeof(*v));
    v->d = d;
    read_api(d->api, v);
    ad_pipeline_stats(d->pipe, &v->pipe);
    ad_kafka_out_stats(d->out, &v->out);
    if (d->dash) {
        struct ad_dash_stats ds;
        ad_dash_stats(d->dash, &ds);
        v->dash_clients = (double)ds.clients;
        v->dash_dropped = (double)ds.clients_dropped;
        v->dash_refused = (double)ds.clients_refused;
        v->dash_history_bytes = (double)(ds.history_bytes + ds.alert_bytes);
        v->dash_history_series = (double)ds.history_series;
    }
    struct ad_kafka_sink_stats ks;
    ad_kafka_sink_stats(d->ksink, &ks);
    v->start_time = (double)d->start_time;
    ad_proc_read(&v->proc); /* zeros where /proc cannot be read */
    v->points = (double)v->pipe.win.points;
    v->late = (double)v->pipe.win.late;
    v->duplicates = (double)v->pipe.win.duplicates;
    v->windows = (double)v->pipe.win.windows;
    v->slides = (double)v->pipe.win.slides;
    v->dead_letters = (double)ks.dead_letters;
    v->dead_letter_errors = (double)ks.dead_letter_errors;
    v->dead_letters_truncated = (double)ks.dead_letters_truncated;
    for (int i = 0; sink_names[i]; i++) {
        struct ad_engine_sink_stats ss;
        if (ad_engine_sink_stats_by_name(d->engine, sink_names[i], &ss) == 0)
            v->sink_errors[i] = (double)(ss.refused + ss.failed);
    }
    v->producer_errors = (double)(v->out.errors + ks.errors);
    v->queue_depth = (double)v->out.queued;
    v->queue_full = (double)v->out.queue_full;
    v->rebalances = (double)d->rebalances;
    v->series = (double)v->pipe.win.series;
    v->evictions = (double)v->pipe.win.evictions;
    v->resumed = (double)v->pipe.win.resumed;
    v->detect_fresh = (double)v->pipe.detect_fresh;
    v->scores_sent = (double)ks.scores;
    v->lost_nomem = (double)ad_pipeline_nomem(d->pipe);
    for (const struct ad_ledger_part *p = d->ledger.parts; p; p = p->next)
        v->pinned += p->pinned != INT64_MAX;
    v->spill_stored = d->spill ? (double)ad_spill_count(d->spill) : 0;
    v->state_ok = (double)d->state_sent;
    v->state_error = (double)d->state_failed;
    v->state_restored = (double)d->state_restored;
    v->state_restore_errors = (double)d->state_restore_errors;
    v->ckpt_ok = (double)d->ckpt_written;
    v->ckpt_error = (double)d->ckpt_failed;
    v->ckpt_age = ckpt_age(d);
    v->ckpt_bytes = (double)d->ckpt_bytes;
    v->ckpt_seconds = d->ckpt_seconds;
    v->ckpt_stall = d->ckpt_stall_seconds;
    v->ckpt_deltas = (double)d->ckpt_deltas;
    v->ckpt_compactions = (double)d->ckpt_compactions;
    if (!ad_kafka_sink_latency_hist(d->ksink, &v->alert_lat))
        memset(&v->alert_lat, 0, sizeof(v->alert_lat));
    v->reload_ok = (double)d->reloads;
    v->reload_error = (double)d->reload_failures;
    if (ad_engine_remote_stats(d->engine, &v->remote))
        read_remote(v);
    /* Refused: by the webhook, or by the engine for want of a hold. */
    struct ad_engine_sink_stats ws;
    if (ad_engine_webhook_stats(d->engine, &v->webhook) &&
        ad_engine_sink_stats_by_name(d->engine, "webhook", &ws) == 0) {
        v->webhook_rows[0] = (double)v->webhook.delivered;
        v->webhook_rows[1] = (double)v->webhook.dropped;
        v->webhook_rows[2] = (double)(v->webhook.refused + ws.refused);
        v->webhook_pending = (double)v->webhook.pending;
    }
}

static bool shown(const struct ad_daemon *d, enum when w)
{
    switch (w) {
    case ALWAYS:
        return true;
    case ALERT_TOPIC:
        return d->ksink && d->cfg->sinks.kafka_topic[0];
    case SPILL:
        return d->spill != NULL;
    case STATE_TOPIC:
        return d->state_reader != NULL;
    case CHECKPOINTS:
        return d->checkpoints;
    case CHECKPOINTED:
        return d->checkpoints && d->ckpt_last;
    case REMOTE: {
        struct ad_remote_stats rs;
        return ad_engine_remote_stats(d->engine, &rs);
    }
    case WEBHOOK: {
        struct ad_webhook_stats ws;
        return ad_engine_webhook_stats(d->engine, &ws);
    }
    case API:
        return d->api != NULL;
    case DASH:
        return d->dash != NULL;
    }
    return false;
}

static void render_family(struct ad_buf *b, const struct family *f, const struct view *v)
{
    ad_prom_family(b, f->name, f->type, f->help);
    if (f->render) {
        f->render(b, f, v);
    } else if (!f->label) {
        ad_prom_sample(b, f->name, NULL, 0, at(v, f->off));
    } else {
        for (size_t j = 0; f->values[j]; j++) {
            const char *l[] = {f->label, f->values[j]};
            ad_prom_sample(b, f->name, l, 1, at(v, f->off + j * sizeof(double)));
        }
    }
}

void ad_api_metrics_render(const struct ad_apiserve *a, struct ad_buf *b)
{
    struct view v;
    memset(&v, 0, sizeof(v));
    read_api(a, &v);
    for (size_t i = 0; a && i < sizeof(families) / sizeof(families[0]); i++)
        if (families[i].when == API)
            render_family(b, &families[i], &v);
}

static void render_metrics(const struct ad_daemon *d, struct ad_buf *b)
{
    struct view v;
    read_view(d, &v);
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        if (shown(d, families[i].when))
            render_family(b, &families[i], &v);
}

const char *ad_daemon_not_ready(const struct ad_daemon *d)
{
    int in_up = ad_kafka_in_brokers_up(d->in), out_up = ad_kafka_out_brokers_up(d->out);
    if (d->stopping)
        return "stopping";
    if (ad_kafka_out_failed(d->out))
        return "producer failed";
    if (in_up == 0 || out_up == 0)
        return "no broker reachable";
    if (!d->in || !ad_kafka_in_assigned_once(d->in) || !d->ledger.parts)
        return "no partitions assigned";
    if (ad_engine_alert_log_failing(d->engine))
        return "alert log failing";
    return NULL;
}

int ad_daemon_on_http(void *ud, const char *path, struct ad_buf *out, const char **ctype)
{
    struct ad_daemon *d = ud;
    if (!strcmp(path, "/metrics")) {
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        render_metrics(d, out);
        return 200;
    }
    if (!strcmp(path, "/healthz")) {
        /* Answered from the loop itself: if this runs, the loop is turning. */
        ad_buf_adds(out, "ok\n");
        return 200;
    }
    if (!strcmp(path, "/readyz")) {
        int in_up = ad_kafka_in_brokers_up(d->in), out_up = ad_kafka_out_brokers_up(d->out);
        bool has_parts = d->ledger.parts != NULL;
        bool alog_failing = ad_engine_alert_log_failing(d->engine);
        bool ready = ad_daemon_not_ready(d) == NULL;
        ad_buf_printf(out, "%s\nconfig: loaded\npartitions: %s\nproducer: %s\n",
                      ready ? "ready" : "not ready", has_parts ? "assigned" : "none",
                      ad_kafka_out_failed(d->out) ? "failed"
                      : out_up == 0               ? "no broker reachable"
                                                  : "ok");
        ad_buf_printf(out, "consumer: %s\n", in_up == 0 ? "no broker reachable" : "ok");
        if (alog_failing)
            ad_buf_adds(out, "alert_log: failing (the latest write failed)\n");
        return ready ? 200 : 503;
    }
    ad_buf_adds(out, "not found\n");
    return 404;
}
