/* ad_config_table.c - the option table: every option's path, type, field,
 * default, bounds and help, in the order of the printed layout. The loader,
 * the validation and the printer all walk this one table. */
#include "ad_config_int.h"

#include <string.h>

#define MAX_ITEMS AD_CONFIG_MAX_ITEMS

static const char *const start_names[] = {"earliest", "latest", NULL};
static const char *const time_format_names[] = {"auto",     "epoch_s", "epoch_ms",
                                                "epoch_us", "rfc3339", NULL};
static const char *const webhook_format_names[] = {"rows", "alertmanager", NULL};
static const char *const agg_names[] = {"mean", "min", "max", "sum", "count", "last", NULL};
static const char *const scope_names[] = {"lifetime", "window", NULL};
static const char *const direction_names[] = {"both", "positive", "negative", NULL};
static const char *const detector_names[] = {"auto",   "welford", "robust", "seasonal",
                                             "change", "uvad",    NULL};
static const char *const missing_names[] = {"skip", "previous", "linear", "zero", NULL};
static const char *const mode_names[] = {"off", "confirm", "always", NULL};
static const char *const api_version_names[] = {"v1.0", "v1.1", NULL};
static const char *const granularity_names[] = {"yearly", "monthly",  "weekly",   "daily",
                                                "hourly", "minutely", "secondly", "microsecond",
                                                "none",   NULL};
static const char *const log_level_names[] = {"error", "warn", "info", "debug", NULL};
static const char *const log_format_names[] = {"text", "json", NULL}; /* enum ad_log_format */

#define OFF(f) offsetof(struct ad_config, f)

/* Sections must be contiguous and in the order of the printed layout: the
 * printer opens and closes mapping levels as it walks the rows. */
const struct ad_option ad_config_table_[] = {
    {"source.kafka.brokers", AD_OPT_STRING, OFF(kafka.brokers), "${KAFKA_BROKERS:-localhost:9092}",
     0, 0, NULL, "bootstrap servers, host:port[,host:port...]", 0},
    {"source.kafka.topics", AD_OPT_STRLIST, OFF(kafka.topics), "[sensor-raw]", 1, MAX_ITEMS, NULL,
     "topics to consume", AD_OPT_F_NONEMPTY},
    {"source.kafka.group", AD_OPT_STRING, OFF(kafka.group), "anomalyd", 0, 0, NULL,
     "consumer group id", AD_OPT_F_NONEMPTY},
    {"source.kafka.instance_id", AD_OPT_STRING, OFF(kafka.instance_id), "", 0, 0, NULL,
     "static group membership: \"\" off, auto (host, group, state.dir), or an id", 0},
    {"source.kafka.start", AD_OPT_ENUM, OFF(kafka.start), "latest", 0, 0, start_names,
     "earliest | latest: where a group with no committed offset starts", 0},
    {"source.kafka.event_hubs_connection_string", AD_OPT_SECRET,
     OFF(kafka.event_hubs_connection_string), "", 0, 0, NULL,
     "set => Event Hubs Kafka endpoint (SASL_SSL, PLAIN, :9093)", 0},
    {"source.kafka.properties", AD_OPT_KVLIST, OFF(kafka.properties), "{}", 0, MAX_ITEMS, NULL,
     "raw librdkafka properties, passed through", 0},

    {"input.key", AD_OPT_STRING, OFF(input.key), "/id", 0, 0, NULL,
     "JSON pointer into the record, header:NAME, or const:NAME (one series key for all)", 0},
    {"input.time", AD_OPT_STRING, OFF(input.time), "/ts", 0, 0, NULL,
     "JSON pointer, or \"record\" (the Kafka record timestamp)", 0},
    {"input.time_format", AD_OPT_ENUM, OFF(input.time_format), "auto", 0, 0, time_format_names,
     "auto | epoch_s | epoch_ms | epoch_us | rfc3339", 0},
    {"input.metrics", AD_OPT_STRLIST, OFF(input.metrics), "[/temp]", 1, 16, NULL,
     "JSON pointers; the metric's name is the pointer's last token", 0},

    {"windows.tumbling", AD_OPT_BLOCK, OFF(windows.tumbling), NULL, 0, 0, NULL,
     "optional block; absent => every record is scored as it arrives", 0},
    {"windows.tumbling.size", AD_OPT_DURATION, OFF(windows.tumbling_size_us), "1m", (double)MS,
     (double)(30 * DAY), NULL, "window length; a window's aggregate is one point", 0},
    {"windows.tumbling.aggregate", AD_OPT_ENUM, OFF(windows.aggregate), "mean", 0, 0, agg_names,
     "mean | min | max | sum | count | last", 0},
    {"windows.tumbling.missing", AD_OPT_ENUM, OFF(windows.missing), "skip", 0, 0, missing_names,
     "skip | previous | linear | zero: empty windows before a closed one (not welford)", 0},
    {"windows.sliding", AD_OPT_BLOCK, OFF(windows.sliding), NULL, 0, 0, NULL,
     "optional block: series of tumbling points per slide", 0},
    {"windows.sliding.size", AD_OPT_DURATION, OFF(windows.sliding_size_us), "15m", (double)MS,
     (double)(365 * DAY), NULL, "span of the series; a multiple of tumbling.size", 0},
    {"windows.sliding.slide", AD_OPT_DURATION, OFF(windows.sliding_slide_us), "10m", (double)MS,
     (double)(365 * DAY), NULL, "time between scorings; a multiple of tumbling.size", 0},
    {"windows.allowed_lateness", AD_OPT_DURATION, OFF(windows.allowed_lateness_us), "5s", 0,
     (double)(7 * DAY), NULL, "how long a window waits for late points after its end", 0},
    {"windows.idle_timeout", AD_OPT_DURATION, OFF(windows.idle_timeout_us), "1m", (double)MS,
     (double)(30 * DAY), NULL, "close the windows of a key silent this long (processing time)", 0},

    {"model.detector", AD_OPT_ENUM, OFF(model.detector), "auto", 0, 0, detector_names,
     "auto | welford | robust | seasonal | change | uvad (no detector but welford.* set: welford)",
     0},
    {"model.likelihood", AD_OPT_BOOL, OFF(model.likelihood), "false", 0, 0, NULL,
     "follow the detector with the anomaly-likelihood stage (auto has its own)", 0},
    {"model.auto.sensitivity", AD_OPT_DOUBLE, OFF(model.auto_sensitivity), "50", 0, 100, NULL,
     "0-100, higher = more alerts", 0},
    {"model.robust.window", AD_OPT_INT, OFF(model.robust_window), "64", 8, 1024, NULL,
     "past points in the median/MAD window (robust, change, auto)", 0},
    {"model.robust.threshold", AD_OPT_DOUBLE, OFF(model.robust_threshold), "6.0", 0, 1e6, NULL,
     "robust |z| above which a point is anomalous", AD_OPT_F_MIN_EXCL},
    {"model.seasonal.utc_offset_minutes", AD_OPT_INT, OFF(model.seasonal_utc_offset_min), "0", -840,
     840, NULL, "local time = UTC + this, for the time-of-day and day-of-week phases", 0},
    {"model.seasonal.day_bins", AD_OPT_INT, OFF(model.seasonal_day_bins), "288", 24, 1440, NULL,
     "bins per day of the daily profile (288 = 5 minutes)", 0},
    {"model.seasonal.weekly", AD_OPT_BOOL, OFF(model.seasonal_weekly), "true", 0, 0, NULL,
     "also learn an hour-of-week profile", 0},
    {"model.seasonal.data_period", AD_OPT_BOOL, OFF(model.seasonal_data_period), "true", 0, 0, NULL,
     "also find the period from the data (first 192 points), for periods the timestamps miss", 0},
    {"model.seasonal.threshold", AD_OPT_DOUBLE, OFF(model.seasonal_threshold), "6.0", 0, 1e6, NULL,
     "robust |z| of the residual above which a point is anomalous", AD_OPT_F_MIN_EXCL},
    {"model.change.k", AD_OPT_DOUBLE, OFF(model.change_k), "1.0", 0, 1e3, NULL,
     "CUSUM slack, in robust sigmas", 0},
    {"model.change.h", AD_OPT_DOUBLE, OFF(model.change_h), "16", 0, 1e6, NULL,
     "CUSUM decision interval, in robust sigmas", AD_OPT_F_MIN_EXCL},
    {"model.change.var_ratio", AD_OPT_DOUBLE, OFF(model.change_var_ratio), "2.5", 1, 1e6, NULL,
     "short/long spread ratio that is a variance change", AD_OPT_F_MIN_EXCL},
    {"model.change.flat_min", AD_OPT_INT, OFF(model.change_flat_min), "12", 2, 1e9, NULL,
     "shortest run of equal values that can be a flatline", 0},
    {"model.uvad.window", AD_OPT_INT, OFF(model.uvad_window), "97", 12, 1024, NULL,
     "points judged together (the last ones); cost per point O(window log window)", 0},
    {"model.uvad.sensitivity", AD_OPT_INT, OFF(model.uvad_sensitivity), "95", 0, 99, NULL,
     "the Anomaly Detector's sensitivity: lower = wider margins, fewer anomalies", 0},
    {"model.uvad.max_anomaly_ratio", AD_OPT_DOUBLE, OFF(model.uvad_max_anomaly_ratio), "0.25", 0,
     0.49, NULL, "the Anomaly Detector's maxAnomalyRatio", AD_OPT_F_MIN_EXCL},
    {"model.rules.direction", AD_OPT_ENUM, OFF(model.rules_direction), "both", 0, 0,
     direction_names, "both | positive | negative: which anomalies alert (not welford)", 0},
    {"model.rules.min_abs_dev", AD_OPT_DOUBLE, OFF(model.rules_min_abs_dev), "0", 0, 1e300, NULL,
     "an alert needs |value - expected| >= this (0 = off)", 0},
    {"model.rules.min_rel_dev", AD_OPT_DOUBLE, OFF(model.rules_min_rel_dev), "0", 0, 1e6, NULL,
     "an alert needs |value - expected| >= this x |expected| (0 = off)", 0},
    {"model.rules.cooldown", AD_OPT_DURATION, OFF(model.rules_cooldown_us), "0", 0,
     (double)(30 * DAY), NULL, "after an alert, a series' next alert waits this long (event time)",
     0},
    {"model.welford.scope", AD_OPT_ENUM, OFF(model.scope), "lifetime", 0, 0, scope_names,
     "lifetime | window (the sliding window's own points)", 0},
    {"model.welford.threshold", AD_OPT_DOUBLE, OFF(model.threshold), "4.0", 0, 1e6, NULL,
     "anomalous when |z| > threshold", AD_OPT_F_MIN_EXCL},
    {"model.welford.min_samples", AD_OPT_INT, OFF(model.min_samples), "30", 2, 1e9, NULL,
     "points a series needs before it is scored", 0},
    {"model.welford.direction", AD_OPT_ENUM, OFF(model.direction), "both", 0, 0, direction_names,
     "both | positive | negative", 0},
    {"model.welford.learn_anomalies", AD_OPT_BOOL, OFF(model.learn_anomalies), "false", 0, 0, NULL,
     "whether a flagged point updates the model", 0},
    {"model.import", AD_OPT_STRING, OFF(model.import), "", 0, 0, NULL,
     "an M2 model file (scenario C's JSON format) to start from", 0},

    {"remote.anomaly_detector.mode", AD_OPT_ENUM, OFF(remote.mode), "off", 0, 0, mode_names,
     "off | confirm | always", 0},
    {"remote.anomaly_detector.endpoint", AD_OPT_STRING, OFF(remote.endpoint), "", 0, 0, NULL,
     "server URL (anomalyd serve: http://HOST:PORT), or local", AD_OPT_F_URL},
    {"remote.anomaly_detector.key", AD_OPT_SECRET, OFF(remote.key), "${ANOMALY_DETECTOR_KEY:-}", 0,
     0, NULL, "subscription key (Ocp-Apim-Subscription-Key)", 0},
    {"remote.anomaly_detector.api_version", AD_OPT_STRING, OFF(remote.api_version), "v1.1", 0, 0,
     api_version_names, "v1.0 | v1.1", 0},
    {"remote.anomaly_detector.granularity", AD_OPT_STRING, OFF(remote.granularity), "minutely", 0,
     0, granularity_names,
     "yearly | monthly | weekly | daily | hourly | minutely | secondly | microsecond | none", 0},
    {"remote.anomaly_detector.sensitivity", AD_OPT_INT, OFF(remote.sensitivity), "95", 0, 99, NULL,
     "lower = wider margins, fewer anomalies", 0},
    {"remote.anomaly_detector.max_anomaly_ratio", AD_OPT_DOUBLE, OFF(remote.max_anomaly_ratio),
     "0.25", 0, 0.49, NULL, "the service's maxAnomalyRatio", AD_OPT_F_MIN_EXCL},
    {"remote.anomaly_detector.min_points", AD_OPT_INT, OFF(remote.min_points), "12", 12, 8640, NULL,
     "points a series needs before it is sent", 0},
    {"remote.anomaly_detector.timeout", AD_OPT_DURATION, OFF(remote.timeout_us), "5s", (double)MS,
     (double)(10 * MIN), NULL, "timeout of one request", 0},
    {"remote.anomaly_detector.max_in_flight", AD_OPT_INT, OFF(remote.max_in_flight), "16", 1, 1024,
     NULL, "most requests outstanding at once", 0},
    {"remote.anomaly_detector.period", AD_OPT_INT, OFF(remote.period), "-1", -1, 1e6, NULL,
     "the series' period in points; -1 lets the service detect it", 0},
    {"remote.anomaly_detector.entire", AD_OPT_BOOL, OFF(remote.entire), "false", 0, 0, NULL,
     "ask entire/detect (a verdict for every point) instead of last/detect", 0},
    {"remote.anomaly_detector.retries", AD_OPT_INT, OFF(remote.retries), "3", 0, 20, NULL,
     "retries of 429, 5xx and connection failures, with backoff", 0},
    {"remote.anomaly_detector.budget", AD_OPT_DURATION, OFF(remote.budget_us), "30s", (double)MS,
     (double)HOUR, NULL, "the longest a window waits for its verdict, retries included", 0},
    {"remote.anomaly_detector.breaker_threshold", AD_OPT_INT, OFF(remote.breaker_threshold), "5", 1,
     1000, NULL, "consecutive failures that open the circuit breaker", 0},
    {"remote.anomaly_detector.breaker_cooldown", AD_OPT_DURATION, OFF(remote.breaker_cooldown_us),
     "30s", (double)MS, (double)HOUR, NULL, "how long an open breaker waits before a probe", 0},

    {"sinks.kafka.topic", AD_OPT_STRING, OFF(sinks.kafka_topic), "anomalies", 0, 0, NULL,
     "alert output topic; \"\" disables", 0},
    {"sinks.alert_log.path", AD_OPT_STRING, OFF(sinks.alert_log_path),
     "/var/log/anomalyd/alerts.jsonl", 0, 0, NULL,
     "JSON lines file, reopened on SIGHUP; \"\" disables", 0},
    {"sinks.webhook.url", AD_OPT_STRING, OFF(sinks.webhook_url), "", 0, 0, NULL,
     "http(s) URL that gets flagged windows as batched JSON rows; \"\" disables", AD_OPT_F_URL},
    {"sinks.webhook.headers", AD_OPT_KVLIST, OFF(sinks.webhook_headers), "{}", 0, MAX_ITEMS, NULL,
     "extra request headers, e.g. Authorization (values are masked when printed)",
     AD_OPT_F_SECRET_VALUES},
    {"sinks.webhook.batch_size", AD_OPT_INT, OFF(sinks.webhook_batch_size), "100", 1, 10000, NULL,
     "most rows in one POST", 0},
    {"sinks.webhook.flush_interval", AD_OPT_DURATION, OFF(sinks.webhook_flush_interval_us), "1s",
     (double)MS, (double)HOUR, NULL, "longest a row waits for its batch to fill", 0},
    {"sinks.webhook.timeout", AD_OPT_DURATION, OFF(sinks.webhook_timeout_us), "5s", (double)MS,
     (double)(10 * MIN), NULL, "timeout of one POST", 0},
    {"sinks.webhook.max_pending", AD_OPT_INT, OFF(sinks.webhook_max_pending), "10000", 1, 1e7, NULL,
     "rows held while the endpoint is down; past it rows are dropped and counted", 0},
    {"sinks.webhook.format", AD_OPT_ENUM, OFF(sinks.webhook_format), "rows", 0, 0,
     webhook_format_names,
     "rows: scenario B's dashboard rows; alertmanager: Alertmanager's /api/v2/alerts array", 0},
    {"sinks.dead_letter.topic", AD_OPT_STRING, OFF(sinks.dead_letter_topic), "", 0, 0, NULL,
     "topic for undecodable and late records; \"\" disables", 0},
    {"sinks.scores.topic", AD_OPT_STRING, OFF(sinks.scores_topic), "", 0, 0, NULL,
     "topic for every scored point (the fields of replay --scores, JSON); \"\" disables", 0},

    {"http.listen", AD_OPT_STRING, OFF(http_listen), "127.0.0.1:9464", 0, 0, NULL,
     "host:port of /metrics, /healthz, /readyz and the dashboard; \"\" disables", 0},
    {"http.api.enabled", AD_OPT_BOOL, OFF(http_api.enabled), "false", 0, 0, NULL,
     "serve the Anomaly Detector REST API under /anomalydetector/ on http.listen", 0},
    {"http.api.keys", AD_OPT_STRLIST, OFF(http_api.keys), "[]", 0, MAX_ITEMS, NULL,
     "accepted Ocp-Apim-Subscription-Key values (masked when printed); [] and no "
     "ANOMALYD_API_KEYS: no key check",
     AD_OPT_F_SECRET_VALUES},
    {"http.api.max_body", AD_OPT_INT, OFF(http_api.max_body), "4194304", 1024, 8.0 * 1024 * 1024,
     NULL, "largest request body, in bytes (413 beyond)", 0},
    {"http.api.max_points", AD_OPT_INT, OFF(http_api.max_points), "8640", 12, 8640, NULL,
     "most points in a series (400 InvalidSeries beyond)", 0},
    {"http.api.max_concurrent_per_client", AD_OPT_INT, OFF(http_api.max_concurrent_per_client),
     "16", 1, 4096, NULL, "requests in flight per client address (429 beyond)", 0},
    {"http.dashboard.enabled", AD_OPT_BOOL, OFF(http_dashboard.enabled), "true", 0, 0, NULL,
     "serve the live dashboard at / (with /ui/ and /api/) on http.listen", 0},
    {"http.dashboard.max_clients", AD_OPT_INT, OFF(http_dashboard.max_clients), "100", 1, 10000,
     NULL, "live alert feed clients at once (503 beyond)", 0},
    {"http.dashboard.history_points", AD_OPT_INT, OFF(http_dashboard.history_points), "600", 10,
     20000, NULL, "scored points kept per charted series", 0},
    {"http.dashboard.history_series", AD_OPT_INT, OFF(http_dashboard.history_series), "64", 1,
     100000, NULL, "series with a history: the watched ones and the most recently flagged", 0},
    {"http.dashboard.client_queue", AD_OPT_INT, OFF(http_dashboard.client_queue), "262144", 4096,
     64.0 * 1024 * 1024, NULL,
     "bytes queued per feed client; a client that falls further "
     "behind is dropped",
     0},
    {"http.dashboard.watch", AD_OPT_DURATION, OFF(http_dashboard.watch_us), "2m", (double)SEC,
     (double)DAY, NULL, "how long a series view keeps its series' history after its last request",
     0},

    {"state.dir", AD_OPT_STRING, OFF(state_dir), "/var/lib/anomalyd", 0, 0, NULL,
     "checkpoint directory; \"\" disables checkpoints", 0},
    {"state.checkpoint_interval", AD_OPT_DURATION, OFF(checkpoint_interval_us), "10s",
     (double)(100 * MS), (double)DAY, NULL, "time between checkpoints", 0},
    {"state.checkpoint_fork", AD_OPT_BOOL, OFF(checkpoint_fork), "false", 0, 0, NULL,
     "serialize checkpoints in a forked child instead of on the loop", 0},
    {"state.full_every", AD_OPT_INT, OFF(full_every), "10", 1, 100000, NULL,
     "every Nth checkpoint of a partition is full; the others append only the series changed "
     "since the previous one (1: all full)",
     0},
    {"state.topic", AD_OPT_STRING, OFF(state_topic), "", 0, 0, NULL,
     "compacted topic that also keeps series state, for scale-out; \"\" disables", 0},

    {"limits.max_message_bytes", AD_OPT_INT, OFF(max_message_bytes), "1048576", 64,
     64.0 * 1024 * 1024, NULL, "largest record accepted", 0},
    {"limits.max_series", AD_OPT_INT, OFF(max_series), "1000000", 1, 1e8, NULL,
     "most (key, metric) series held at once", 0},
    {"limits.max_key_bytes", AD_OPT_INT, OFF(max_key_bytes), "256", 1, 1024, NULL,
     "longest series key accepted", 0},
    {"limits.evicted_cache_bytes", AD_OPT_INT, OFF(evicted_cache_bytes), "0", 0,
     1024.0 * 1024 * 1024 * 1024, NULL,
     "evicted series' store larger than this: its cached pages are dropped at each checkpoint; "
     "0 never",
     0},

    {"log.level", AD_OPT_ENUM, OFF(log_level), "info", 0, 0, log_level_names,
     "error | warn | info | debug", 0},
    {"log.format", AD_OPT_ENUM, OFF(log_format), "text", 0, 0, log_format_names,
     "text | json: one JSON object per line", 0},
};

const size_t ad_config_table_len_ = sizeof(ad_config_table_) / sizeof(ad_config_table_[0]);

const struct ad_option *ad_config_options(size_t *count)
{
    if (count)
        *count = ad_config_table_len_;
    return ad_config_table_;
}

const struct ad_option *ad_config_option_find(const char *path)
{
    /* The first byte sorts out most rows before the whole compare: the
     * loader looks up every key of every load this way. */
    for (size_t i = 0; i < ad_config_table_len_; i++)
        if (ad_config_table_[i].path[0] == path[0] && strcmp(ad_config_table_[i].path, path) == 0)
            return &ad_config_table_[i];
    return NULL;
}

const char *ad_config_enum_name(const struct ad_option *o, int v)
{
    if (!o || o->type != AD_OPT_ENUM || !o->enum_names || v < 0)
        return NULL;
    int n = 0;
    while (n < v && o->enum_names[n])
        n++;
    return o->enum_names[n]; /* NULL past the last name */
}

/* True when s starts with prefix followed by '.' (prefix "" matches all). */
bool ad_config_path_under(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 0)
        return true;
    return s[0] == prefix[0] && strncmp(s, prefix, n) == 0 && s[n] == '.';
}

/* A section is a path with options below it ("source.kafka"), not an option. */
bool ad_config_is_section(const char *path)
{
    for (size_t i = 0; i < ad_config_table_len_; i++)
        if (ad_config_path_under(ad_config_table_[i].path, path))
            return true;
    return false;
}
