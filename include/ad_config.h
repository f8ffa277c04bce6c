/* ad_config.h - the daemon's configuration: YAML (libyaml) applied through one
 * option table with types, defaults, bounds and help.
 *
 * Ownership: an ad_config owns every string and list in it; ad_config_free()
 * releases them. Loading functions leave the struct valid (defaults plus what
 * was applied so far) even when they fail, so it can always be freed.
 * Errors are written to err as "file:line:col key.path: reason". */
#ifndef AD_CONFIG_H
#define AD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ad_types.h"

#define AD_CONFIG_EXIT 78 /* EX_CONFIG */

struct ad_strlist {
    size_t n;
    char **v;
};

struct ad_kvlist {
    size_t n;
    char **k;
    char **v;
};

/* model.detector's values, in the order of the option's names. */
enum ad_cfg_detector {
    AD_CFG_DET_AUTO = 0,
    AD_CFG_DET_WELFORD,
    AD_CFG_DET_ROBUST,
    AD_CFG_DET_SEASONAL,
    AD_CFG_DET_CHANGE,
    AD_CFG_DET_UVAD
};

/* Every duration is held in microseconds. */
/* sinks.webhook.format: what the webhook posts. */
enum ad_webhook_format {
    AD_WEBHOOK_ROWS = 0,     /* scenario B's dashboard rows */
    AD_WEBHOOK_ALERTMANAGER, /* Alertmanager's /api/v2/alerts array */
};

struct ad_config {
    struct {
        char *brokers;
        struct ad_strlist topics;
        char *group;
        char *instance_id;                  /* "" none, "auto", or the group.instance.id */
        int start;                          /* enum ad_start */
        char *event_hubs_connection_string; /* secret */
        struct ad_kvlist properties;
    } kafka;
    struct {
        char *key;                 /* JSON pointer, or "header:NAME" */
        char *time;                /* JSON pointer, or "record" */
        int time_format;           /* enum ad_time_format */
        struct ad_strlist metrics; /* JSON pointers */
    } input;
    struct {
        bool tumbling; /* the windows.tumbling block is present */
        int64_t tumbling_size_us;
        int aggregate; /* enum ad_agg */
        int missing;   /* enum ad_fill (ad_detect.h): empty tumbling windows */
        bool sliding;  /* the windows.sliding block is present */
        int64_t sliding_size_us;
        int64_t sliding_slide_us;
        int64_t allowed_lateness_us;
        int64_t idle_timeout_us;
    } windows;
    struct {
        int scope; /* enum ad_scope */
        double threshold;
        int64_t min_samples;
        int direction; /* enum ad_direction */
        bool learn_anomalies;
        char *import; /* path, "" = none */
        /* model.detector: an index into ad_config_detector_names (AD_CFG_DET_*);
         * after ad_config_validate() the effective detector (a config that
         * sets model.welford.* or no model key at all, and no detector, keeps
         * welford). */
        int detector;
        double auto_sensitivity;
        bool likelihood;
        int64_t robust_window;
        double robust_threshold;
        int64_t seasonal_utc_offset_min;
        int64_t seasonal_day_bins;
        bool seasonal_weekly;
        bool seasonal_data_period;
        double seasonal_threshold;
        double change_k, change_h, change_var_ratio;
        int64_t change_flat_min;
        int64_t uvad_window;
        int64_t uvad_sensitivity;
        double uvad_max_anomaly_ratio;
        int rules_direction; /* enum ad_direction */
        double rules_min_abs_dev, rules_min_rel_dev;
        int64_t rules_cooldown_us;
    } model;
    struct {
        int mode; /* enum ad_remote_mode */
        char *endpoint;
        char *key;         /* secret */
        char *api_version; /* "v1.0" | "v1.1" */
        char *granularity;
        int64_t sensitivity;
        double max_anomaly_ratio;
        int64_t min_points;
        int64_t timeout_us;
        int64_t max_in_flight;
        int64_t period;    /* -1: omitted, the service detects it */
        bool entire;       /* ask entire/detect instead of last/detect */
        int64_t retries;   /* retries after the first attempt */
        int64_t budget_us; /* the longest a window waits for its verdict */
        int64_t breaker_threshold;
        int64_t breaker_cooldown_us;
    } remote;
    struct {
        char *kafka_topic;
        char *alert_log_path;
        char *webhook_url;
        struct ad_kvlist webhook_headers; /* values are secrets */
        int64_t webhook_batch_size;
        int64_t webhook_flush_interval_us;
        int64_t webhook_timeout_us;
        int64_t webhook_max_pending;
        int webhook_format; /* enum ad_webhook_format */
        char *dead_letter_topic;
        char *scores_topic; /* every scored point, keyed by series */
    } sinks;
    char *http_listen;
    struct {
        bool enabled;           /* serve the REST API under /anomalydetector/ */
        struct ad_strlist keys; /* secrets; empty: no key check */
        int64_t max_body;       /* request bytes */
        int64_t max_points;     /* points per series */
        int64_t max_concurrent_per_client;
    } http_api;
    struct {
        bool enabled;           /* the dashboard at / (ad_dash.h) */
        int64_t max_clients;    /* live feed clients (503 beyond) */
        int64_t history_points; /* points per series ring */
        int64_t history_series; /* series with a ring */
        int64_t client_queue;   /* bytes queued per feed client before it is dropped */
        int64_t watch_us;       /* a series view's ring lasts this long after its last ask */
    } http_dashboard;
    char *state_dir;
    int64_t checkpoint_interval_us;
    bool checkpoint_fork;
    int64_t full_every; /* every Nth checkpoint of a partition is a full one */
    char *state_topic;
    int64_t max_message_bytes;
    int64_t max_series;
    int64_t max_key_bytes;
    int64_t evicted_cache_bytes;
    int log_level;  /* enum ad_log_level */
    int log_format; /* enum ad_log_format */

    /* Private bookkeeping of the loader: where each option was last set. */
    struct ad_config_origin *origin_;
    char *source_name_; /* file name of the last loaded file */
};

enum ad_opt_type {
    AD_OPT_STRING = 0,
    AD_OPT_SECRET, /* a string that is masked when printed */
    AD_OPT_BOOL,
    AD_OPT_INT,      /* int64_t, bounded by min/max */
    AD_OPT_DOUBLE,   /* double, bounded by min/max */
    AD_OPT_DURATION, /* int64_t microseconds, bounded by min/max (in microseconds) */
    AD_OPT_ENUM,     /* int, one of the names in enum_names (index = value) */
    AD_OPT_STRLIST,  /* struct ad_strlist */
    AD_OPT_KVLIST,   /* struct ad_kvlist: a map of string to scalar */
    AD_OPT_BLOCK     /* bool: whether an optional mapping is present */
};

/* One row of the option table. */
struct ad_option {
    const char *path; /* "windows.tumbling.size" */
    enum ad_opt_type type;
    size_t offset;   /* offsetof(struct ad_config, ...) */
    const char *def; /* default, in the YAML text form ("1m", "true", "[sensor-raw]") */
    double min, max; /* bounds for INT, DOUBLE, DURATION (in microseconds) */
    const char *const *enum_names; /* NULL-terminated, for AD_OPT_ENUM */
    const char *help;              /* one line */
    unsigned flags;                /* AD_OPT_F_* */
};

/* Option flags. */
#define AD_OPT_F_MIN_EXCL 1u /* INT/DOUBLE/DURATION: the bound min itself is not allowed */
#define AD_OPT_F_NONEMPTY 2u /* STRING: must not be ""; STRLIST: no item may be "" */
#define AD_OPT_F_SECRET_VALUES                                                                     \
    4u                  /* KVLIST: every value, STRLIST: every item is masked when printed */
#define AD_OPT_F_URL 8u /* STRING: a URL, printed by ad_secret_url (userinfo, query masked) */
/* STRING options with enum_names accept only those names (api_version, granularity).
 * STRLIST and KVLIST options use min/max as the bounds of their number of entries. */

/* Limits of the loader. */
#define AD_CONFIG_MAX_FILE       (1024 * 1024) /* bytes of one config file or buffer */
#define AD_CONFIG_MAX_NESTING    64            /* nesting levels of a YAML document */
#define AD_CONFIG_MAX_SCALAR     (64 * 1024)   /* bytes of one value after ${VAR} expansion */
#define AD_CONFIG_MAX_REMOTE_KEY 480           /* bytes of remote.anomaly_detector.key */
#define AD_CONFIG_MAX_ENV_NAME   255           /* characters of a ${NAME} */
#define AD_CONFIG_MAX_PROP_NAME  128           /* printable ASCII of a properties name */

/* Returns the option table and its size. */
const struct ad_option *ad_config_options(size_t *count);

/* Returns the option of that exact path, or NULL. */
const struct ad_option *ad_config_option_find(const char *path);
/* The name value v of the enum option o has in the config; NULL when o is
 * NULL, not an enum, or v is out of range. */
const char *ad_config_enum_name(const struct ad_option *o, int v);

/* Sets every option to its default. Defaults are YAML text that goes through
 * the loader, ${VAR} expansion included (source.kafka.brokers defaults to
 * "${KAFKA_BROKERS:-localhost:9092}"). Returns 0 or AD_ENOMEM (AD_ECONFIG
 * only if such a variable holds more than 64 KiB). On failure the struct is
 * zeroed, and ad_config_free() on it is harmless. */
int ad_config_init(struct ad_config *cfg);

/* Makes dst (uninitialized memory) a deep copy of src: every string and
 * list, and where each option was set, so that the copy validates, prints
 * and reports errors as src does. A copy of a config after ad_config_init()
 * saves parsing the defaults again (what the environment held then is kept).
 * Returns 0 or AD_ENOMEM (dst is then zeroed, ad_config_free() on it
 * harmless). */
int ad_config_copy(struct ad_config *dst, const struct ad_config *src);

/* Loads a YAML file over the current values. Returns 0, or AD_ECONFIG with
 * "file:line:col key.path: reason" in err (AD_EIO when the file cannot be
 * read, with the path and strerror in err). */
int ad_config_load_file(struct ad_config *cfg, const char *path, char *err, size_t errlen);

/* The same for a buffer; name is used in error messages as the file name. */
int ad_config_load_buffer(struct ad_config *cfg, const char *name, const char *buf, size_t len,
                          char *err, size_t errlen);

/* Applies one "key.path=VALUE" override (VALUE in YAML flow syntax, so lists
 * are "[a, b]"). Errors are reported as "--set:1:COL key.path: reason". */
int ad_config_set(struct ad_config *cfg, const char *assignment, char *err, size_t errlen);

/* Checks the rules between options (sliding needs tumbling, sizes multiples
 * of each other, ...). Errors point at the line of the offending key. */
int ad_config_validate(struct ad_config *cfg, char *err, size_t errlen);

/* True when the option was set by a file or --set rather than defaulted. */
bool ad_config_is_set(const struct ad_config *cfg, const char *path);

/* Writes the effective config as YAML, with secrets masked by the rule of
 * ad_secret.h: secret options, every sinks.webhook.headers value and each
 * source.kafka.properties entry with a secret name (ad_secret_name()) are
 * printed as "***" when set, "" when empty; URL options (AD_OPT_F_URL) by
 * ad_secret_url(). Returns 0, AD_EIO or AD_ENOMEM. */
int ad_config_print(const struct ad_config *cfg, FILE *out);

/* Parses "500ms", "10s", "5m", "1h", "72h", "1h30m", "0" into microseconds.
 * Each unit appears at most once, largest first ("1m1m" and "30m1h" are
 * AD_EPARSE). Returns 0 or AD_EPARSE / AD_ERANGE. */
int ad_duration_parse(const char *s, int64_t *out_us);

/* Formats a duration in the compact form ad_duration_parse reads: "0",
 * "500ms", "1h30m", "72h" (hours are the largest unit). Negative values get
 * a leading '-'. buf needs AD_DURATION_STRLEN bytes. Returns the length. */
#define AD_DURATION_STRLEN 48
size_t ad_duration_format(int64_t us, char *buf);

void ad_config_free(struct ad_config *cfg);

/* The core stages take their own settings, never struct ad_config: this
 * fills the pipeline's (decoder, window, score, remote mode) from cfg. The
 * decoder's strings are borrowed from cfg: use out while cfg lives (the
 * pipeline and decoder constructors copy what they keep). The checkpoint
 * fingerprint of a config is ad_ckpt_fingerprint(&out->window). */
struct ad_pipeline_cfg;
void ad_config_to_pipeline(const struct ad_config *cfg, struct ad_pipeline_cfg *out);

#endif
