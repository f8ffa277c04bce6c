/* test_config.c - the config loader: defaults, types, exact error messages,
 * ${VAR} expansion, --set, cross-field validation, printing, the golden files
 * in tests/data/config/, and a test that keeps the option table,
 * config/anomalyd.yaml and docs/config.md in step. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "ad_buf.h"
#include "ad_checkpoint.h"
#include "ad_config.h"
#include "ad_err.h"
#include "ad_log.h"
#include "ad_pipeline.h"
#include "ad_test.h"
#include "ad_test_cfg.h"

#define S  INT64_C(1000000)
#define MN (60 * S)

/* ---- helpers ---------------------------------------------------------- */

static struct ad_config cfg;
static char err[1024];

/* Loads yaml over a fresh config named "t.yaml"; returns the loader's code. */
static int load(const char *yaml)
{
    ad_config_free(&cfg);
    AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
    err[0] = '\0';
    return ad_config_load_buffer(&cfg, "t.yaml", yaml, strlen(yaml), err, sizeof(err));
}

/* Loads and validates; returns the first failing code. */
static int load_valid(const char *yaml)
{
    int rc = load(yaml);
    return rc ? rc : ad_config_validate(&cfg, err, sizeof(err));
}

/* Returns the printed config (owned; free it). */
static char *print_str(const struct ad_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    AD_EXPECT(f != NULL);
    AD_EXPECT_INT(ad_config_print(c, f), ==, 0);
    fclose(f);
    return buf;
}

/* Reads a whole file (owned; NULL if missing). */
static char *read_all(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    AD_EXPECT(buf != NULL);
    AD_EXPECT_UINT(fread(buf, 1, (size_t)n, f), ==, (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (lenp) *lenp = (size_t)n;
    return buf;
}

/* Compares two configs option by option; secrets too unless skip_secrets. */
static void expect_same(const struct ad_config *a, const struct ad_config *b, bool skip_secrets)
{
    size_t n;
    const struct ad_option *opt = ad_config_options(&n);

    for (size_t i = 0; i < n; i++) {
        const struct ad_option *o = &opt[i];
        const void *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;
        switch (o->type) {
        case AD_OPT_SECRET:
            if (skip_secrets) break;
            /* fall through */
        case AD_OPT_STRING:
            if (strcmp(*(char *const *)fa, *(char *const *)fb))
                AD_FAIL_("%s: \"%s\" vs \"%s\"", o->path, *(char *const *)fa, *(char *const *)fb);
            break;
        case AD_OPT_BOOL:
        case AD_OPT_BLOCK:
            if (*(const bool *)fa != *(const bool *)fb) AD_FAIL_("%s differs", o->path);
            break;
        case AD_OPT_INT:
        case AD_OPT_DURATION:
            if (*(const int64_t *)fa != *(const int64_t *)fb)
                AD_FAIL_("%s: %lld vs %lld", o->path, (long long)*(const int64_t *)fa,
                         (long long)*(const int64_t *)fb);
            break;
        case AD_OPT_DOUBLE:
            if (*(const double *)fa != *(const double *)fb)
                AD_FAIL_("%s: %.17g vs %.17g", o->path, *(const double *)fa, *(const double *)fb);
            break;
        case AD_OPT_ENUM:
            if (*(const int *)fa != *(const int *)fb)
                AD_FAIL_("%s: %d vs %d", o->path, *(const int *)fa, *(const int *)fb);
            break;
        case AD_OPT_STRLIST: {
            const struct ad_strlist *la = fa, *lb = fb;
            if (la->n != lb->n) AD_FAIL_("%s: %zu vs %zu items", o->path, la->n, lb->n);
            for (size_t j = 0; j < la->n; j++)
                if (strcmp(la->v[j], lb->v[j]))
                    AD_FAIL_("%s[%zu]: \"%s\" vs \"%s\"", o->path, j, la->v[j], lb->v[j]);
            break;
        }
        case AD_OPT_KVLIST: {
            const struct ad_kvlist *la = fa, *lb = fb;
            if (la->n != lb->n) AD_FAIL_("%s: %zu vs %zu entries", o->path, la->n, lb->n);
            for (size_t j = 0; j < la->n; j++)
                if (strcmp(la->k[j], lb->k[j]) ||
                    (strcmp(la->v[j], lb->v[j]) && (!skip_secrets || strcmp(lb->v[j], "***"))))
                    AD_FAIL_("%s[%zu]: %s=%s vs %s=%s", o->path, j, la->k[j], la->v[j], lb->k[j],
                             lb->v[j]);
            break;
        }
        }
    }
}

/* ---- defaults and the table ------------------------------------------- */

static void test_defaults(void)
{
    struct ad_config c;
    AD_EXPECT_INT(ad_config_init(&c), ==, 0);
    AD_EXPECT_STR(c.kafka.brokers, "localhost:9092");
    AD_EXPECT_UINT(c.kafka.topics.n, ==, 1);
    AD_EXPECT_STR(c.kafka.topics.v[0], "sensor-raw");
    AD_EXPECT_STR(c.kafka.group, "anomalyd");
    AD_EXPECT_INT(c.kafka.start, ==, AD_START_LATEST);
    AD_EXPECT_STR(c.kafka.event_hubs_connection_string, "");
    AD_EXPECT_UINT(c.kafka.properties.n, ==, 0);
    AD_EXPECT_STR(c.input.key, "/id");
    AD_EXPECT_STR(c.input.time, "/ts");
    AD_EXPECT_INT(c.input.time_format, ==, AD_TIME_AUTO);
    AD_EXPECT_UINT(c.input.metrics.n, ==, 1);
    AD_EXPECT_STR(c.input.metrics.v[0], "/temp");
    AD_EXPECT(!c.windows.tumbling);
    AD_EXPECT(!c.windows.sliding);
    AD_EXPECT_INT(c.windows.tumbling_size_us, ==, MN);
    AD_EXPECT_INT(c.windows.aggregate, ==, AD_AGG_MEAN);
    AD_EXPECT_INT(c.windows.sliding_size_us, ==, 15 * MN);
    AD_EXPECT_INT(c.windows.sliding_slide_us, ==, 10 * MN);
    AD_EXPECT_INT(c.windows.allowed_lateness_us, ==, 5 * S);
    AD_EXPECT_INT(c.windows.idle_timeout_us, ==, MN);
    AD_EXPECT_INT(c.model.scope, ==, AD_SCOPE_LIFETIME);
    AD_EXPECT_NEAR(c.model.threshold, 4.0, 0);
    AD_EXPECT_INT(c.model.min_samples, ==, 30);
    AD_EXPECT_INT(c.model.direction, ==, AD_DIR_BOTH);
    AD_EXPECT(!c.model.learn_anomalies);
    AD_EXPECT_STR(c.model.import, "");
    AD_EXPECT_INT(c.remote.mode, ==, AD_REMOTE_OFF);
    AD_EXPECT_STR(c.remote.endpoint, "");
    AD_EXPECT_STR(c.remote.key, "");
    AD_EXPECT_STR(c.remote.api_version, "v1.1");
    AD_EXPECT_STR(c.remote.granularity, "minutely");
    AD_EXPECT_INT(c.remote.sensitivity, ==, 95);
    AD_EXPECT_NEAR(c.remote.max_anomaly_ratio, 0.25, 0);
    AD_EXPECT_INT(c.remote.min_points, ==, 12);
    AD_EXPECT_INT(c.remote.timeout_us, ==, 5 * S);
    AD_EXPECT_INT(c.remote.max_in_flight, ==, 16);
    AD_EXPECT_STR(c.sinks.kafka_topic, "anomalies");
    AD_EXPECT_STR(c.sinks.alert_log_path, "/var/log/anomalyd/alerts.jsonl");
    AD_EXPECT_STR(c.sinks.webhook_url, "");
    AD_EXPECT_STR(c.sinks.dead_letter_topic, "");
    AD_EXPECT_STR(c.http_listen, "127.0.0.1:9464");
    AD_EXPECT_STR(c.state_dir, "/var/lib/anomalyd");
    AD_EXPECT_INT(c.checkpoint_interval_us, ==, 10 * S);
    AD_EXPECT_INT(c.max_message_bytes, ==, 1048576);
    AD_EXPECT_INT(c.max_series, ==, 1000000);
    AD_EXPECT_INT(c.max_key_bytes, ==, 256);
    AD_EXPECT_INT(c.log_level, ==, AD_LOG_INFO);
    AD_EXPECT(!ad_config_is_set(&c, "log.level"));
    AD_EXPECT_INT(ad_config_validate(&c, err, sizeof(err)), ==, 0);
    ad_config_free(&c);
    /* Free leaves a zeroed struct that init can reuse, and free is idempotent. */
    ad_config_free(&c);
    AD_EXPECT(c.kafka.brokers == NULL && c.origin_ == NULL);
    AD_EXPECT_INT(ad_config_init(&c), ==, 0);
    ad_config_free(&c);
}

static void test_defaults_follow_env(void)
{
    struct ad_config c;
    setenv("KAFKA_BROKERS", "k1:9092,k2:9092", 1);
    setenv("ANOMALY_DETECTOR_KEY", "s3cr3t-key", 1);
    AD_EXPECT_INT(ad_config_init(&c), ==, 0);
    AD_EXPECT_STR(c.kafka.brokers, "k1:9092,k2:9092");
    AD_EXPECT_STR(c.remote.key, "s3cr3t-key");
    char *out = print_str(&c);
    AD_EXPECT(strstr(out, "s3cr3t-key") == NULL);
    AD_EXPECT_CONTAINS(out, "    key: \"***\"\n");
    free(out);
    ad_config_free(&c);
}

static void test_table(void)
{
    size_t n;
    const struct ad_option *o = ad_config_options(&n);
    AD_EXPECT_UINT(n, >=, 45);
    for (size_t i = 0; i < n; i++) {
        AD_EXPECT(o[i].help && *o[i].help && !strchr(o[i].help, '\n'));
        AD_EXPECT(ad_config_option_find(o[i].path) == &o[i]); /* unique */
        AD_EXPECT((o[i].type == AD_OPT_ENUM) <= (o[i].enum_names != NULL));
        AD_EXPECT((o[i].type == AD_OPT_BLOCK) == (o[i].def == NULL));
        if (o[i].type == AD_OPT_INT || o[i].type == AD_OPT_DOUBLE || o[i].type == AD_OPT_DURATION)
            AD_EXPECT(o[i].min < o[i].max);
    }
    AD_EXPECT(ad_config_option_find("windows.tumbling")->type == AD_OPT_BLOCK);
    AD_EXPECT(ad_config_option_find("windows") == NULL);
    AD_EXPECT(ad_config_option_find("nope") == NULL);
}

/* ---- values of every type --------------------------------------------- */

static void test_every_type(void)
{
    AD_EXPECT_INT(load("source:\n"
                       "  kafka:\n"
                       "    brokers: b1:9092\n"
                       "    topics: [a, 'b c', \"d\"]\n"
                       "    group: 12345\n" /* a number is a string's text */
                       "    start: earliest\n"
                       "    event_hubs_connection_string: Endpoint=sb://x/;SharedAccessKey=abc\n"
                       "    properties:\n"
                       "      security.protocol: SASL_SSL\n"
                       "      fetch.max.bytes: 1048576\n"
                       "input:\n"
                       "  time_format: epoch_ms\n"
                       "  metrics:\n"
                       "    - /a/temp\n"
                       "    - /b\n"
                       "windows:\n"
                       "  tumbling: {size: 1h30m, aggregate: max}\n"
                       "  allowed_lateness: 0\n"
                       "model:\n"
                       "  welford:\n"
                       "    threshold: 2.5e0\n"
                       "    min_samples: 2\n"
                       "    learn_anomalies: YES\n"
                       "remote:\n"
                       "  anomaly_detector:\n"
                       "    mode: off\n"
                       "    max_anomaly_ratio: 0.49\n"
                       "log: {level: debug}\n"),
                  ==, 0);
    AD_EXPECT_STR(cfg.kafka.brokers, "b1:9092");
    AD_EXPECT_UINT(cfg.kafka.topics.n, ==, 3);
    AD_EXPECT_STR(cfg.kafka.topics.v[1], "b c");
    AD_EXPECT_STR(cfg.kafka.topics.v[2], "d");
    AD_EXPECT_STR(cfg.kafka.group, "12345");
    AD_EXPECT_INT(cfg.kafka.start, ==, AD_START_EARLIEST);
    AD_EXPECT_STR(cfg.kafka.event_hubs_connection_string, "Endpoint=sb://x/;SharedAccessKey=abc");
    AD_EXPECT_UINT(cfg.kafka.properties.n, ==, 2);
    AD_EXPECT_STR(cfg.kafka.properties.k[1], "fetch.max.bytes");
    AD_EXPECT_STR(cfg.kafka.properties.v[1], "1048576");
    AD_EXPECT_INT(cfg.input.time_format, ==, AD_TIME_EPOCH_MS);
    AD_EXPECT_UINT(cfg.input.metrics.n, ==, 2);
    AD_EXPECT(cfg.windows.tumbling && !cfg.windows.sliding);
    AD_EXPECT_INT(cfg.windows.tumbling_size_us, ==, 90 * MN);
    AD_EXPECT_INT(cfg.windows.aggregate, ==, AD_AGG_MAX);
    AD_EXPECT_INT(cfg.windows.allowed_lateness_us, ==, 0);
    AD_EXPECT_NEAR(cfg.model.threshold, 2.5, 0);
    AD_EXPECT_INT(cfg.model.min_samples, ==, 2);
    AD_EXPECT(cfg.model.learn_anomalies);
    AD_EXPECT_INT(cfg.remote.mode, ==, AD_REMOTE_OFF);
    AD_EXPECT_NEAR(cfg.remote.max_anomaly_ratio, 0.49, 0);
    AD_EXPECT_INT(cfg.log_level, ==, AD_LOG_DEBUG);
    AD_EXPECT(ad_config_is_set(&cfg, "log.level"));
    AD_EXPECT(ad_config_is_set(&cfg, "windows.tumbling"));
    AD_EXPECT(!ad_config_is_set(&cfg, "windows.sliding"));
    AD_EXPECT(!ad_config_is_set(&cfg, "input.key"));
    AD_EXPECT_INT(ad_config_validate(&cfg, err, sizeof(err)), ==, 0);
    ad_config_free(&cfg);
}

static void test_bools_and_textual_scalars(void)
{
    static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "on", "ON"};
    static const char *const f[] = {"false", "False", "no", "NO", "off", "Off"};
    char y[128];
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        snprintf(y, sizeof(y), "model: {welford: {learn_anomalies: %s}}", t[i]);
        AD_EXPECT_INT(load(y), ==, 0);
        AD_EXPECT(cfg.model.learn_anomalies);
    }
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        snprintf(y, sizeof(y), "model: {welford: {learn_anomalies: %s}}", f[i]);
        AD_EXPECT_INT(load(y), ==, 0);
        AD_EXPECT(!cfg.model.learn_anomalies);
    }
    /* Tags are ignored: scalars are text. */
    AD_EXPECT_INT(load("remote: {anomaly_detector: {mode: !!bool off, sensitivity: !!str 7}}"), ==,
                  0);
    AD_EXPECT_INT(cfg.remote.mode, ==, AD_REMOTE_OFF);
    AD_EXPECT_INT(cfg.remote.sensitivity, ==, 7);
    /* A null string is empty; a quoted "null" is the text. */
    AD_EXPECT_INT(load("model:\n  import:\nsinks: {webhook: {url: ~}, kafka: {topic: 'null'}}"), ==,
                  0);
    AD_EXPECT_STR(cfg.model.import, "");
    AD_EXPECT_STR(cfg.sinks.webhook_url, "");
    AD_EXPECT_STR(cfg.sinks.kafka_topic, "null");
    /* Null sections and lists are empty; an empty document is all defaults. */
    AD_EXPECT_INT(load("windows:\nsource: {kafka: {properties: ~}}\n"), ==, 0);
    AD_EXPECT_INT(load(""), ==, 0);
    AD_EXPECT_INT(load("# only a comment\n"), ==, 0);
    AD_EXPECT_INT(load("~"), ==, 0);
    ad_config_free(&cfg);
}

static void test_optional_blocks(void)
{
    AD_EXPECT_INT(load("windows: {tumbling: {}}"), ==, 0);
    AD_EXPECT(cfg.windows.tumbling && !cfg.windows.sliding);
    AD_EXPECT_INT(cfg.windows.tumbling_size_us, ==, MN);
    AD_EXPECT_INT(load("windows: {tumbling: {}, sliding: {}}"), ==, 0);
    AD_EXPECT(cfg.windows.tumbling && cfg.windows.sliding);
    AD_EXPECT_INT(cfg.windows.sliding_size_us, ==, 15 * MN);
    AD_EXPECT_INT(cfg.windows.sliding_slide_us, ==, 10 * MN);
    AD_EXPECT_INT(ad_config_validate(&cfg, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(load("windows:\n  tumbling:\n  sliding: null\n"), ==, 0);
    AD_EXPECT(!cfg.windows.tumbling && !cfg.windows.sliding);
    AD_EXPECT(ad_config_is_set(&cfg, "windows.tumbling"));
    ad_config_free(&cfg);
}

static void test_aliases(void)
{
    AD_EXPECT_INT(load("x-common: &t {size: 5m, aggregate: sum}\n"), ==, AD_ECONFIG);
    AD_EXPECT_STR(err, "t.yaml:1:1 x-common: unknown key");
    AD_EXPECT_INT(load("source:\n"
                       "  kafka:\n"
                       "    topics: &topics [a, b]\n"
                       "    group: &g grp\n"
                       "sinks:\n"
                       "  kafka: {topic: *g}\n"
                       "  dead_letter: {topic: *g}\n"
                       "windows:\n"
                       "  tumbling: &tb {size: 5m}\n"),
                  ==, 0);
    AD_EXPECT_STR(cfg.sinks.kafka_topic, "grp");
    AD_EXPECT_STR(cfg.sinks.dead_letter_topic, "grp");
    AD_EXPECT_INT(cfg.windows.tumbling_size_us, ==, 5 * MN);
    /* A cycle through an alias ends at the first unknown key. */
    AD_EXPECT_INT(load("windows: &w {tumbling: *w}\n"), ==, AD_ECONFIG);
    AD_EXPECT_STR(err, "t.yaml:1:14 windows.tumbling.tumbling: unknown key");
    AD_EXPECT_INT(load("input: {metrics: &m [*m]}\n"), ==, AD_ECONFIG);
    AD_EXPECT_STR(err, "t.yaml:1:18 input.metrics: item 1: expected a string, got a list");
    ad_config_free(&cfg);
}

/* ---- error messages --------------------------------------------------- */

struct err_case {
    const char *yaml;
    const char *msg;
};

static const struct err_case load_error_cases[] = {
    {"bogus: 1\n", "t.yaml:1:1 bogus: unknown key"},
    {"source:\n  kafka:\n    bogus: 1\n", "t.yaml:3:5 source.kafka.bogus: unknown key"},
    {"source: {kafka: {}, bogus: {}}\n", "t.yaml:1:21 source.bogus: unknown key"},
    {"windows:\n  tumbling:\n    size: 1m\n    aggregate: mean\n    extra: 1\n",
     "t.yaml:5:5 windows.tumbling.extra: unknown key"},
    {"windows: {tumbling.size: 1m}\n",
     "t.yaml:1:11 windows.tumbling.size: unknown key (dotted keys are not supported: nest "
     "mappings instead)"},
    {"windows:\n  tumbling:\n    size: 31d\n",
     "t.yaml:3:11 windows.tumbling.size: duration out of range (1ms..30d)"},
    {"windows: {allowed_lateness: 8d}\n",
     "t.yaml:1:29 windows.allowed_lateness: duration out of range (0..7d)"},
    {"windows: {idle_timeout: 0}\n",
     "t.yaml:1:25 windows.idle_timeout: duration out of range (1ms..30d)"},
    {"windows: {idle_timeout: 999999999999999d}\n",
     "t.yaml:1:25 windows.idle_timeout: duration out of range (1ms..30d)"},
    {"windows: {idle_timeout: 5 min}\n",
     "t.yaml:1:25 windows.idle_timeout: invalid duration \"5 min\" (e.g. 500ms, 10s, 1h30m; "
     "units us ms s m h d)"},
    {"state: {checkpoint_interval: 50ms}\n",
     "t.yaml:1:30 state.checkpoint_interval: duration out of range (100ms..1d)"},
    {"remote: {anomaly_detector: {timeout: 11m}}\n",
     "t.yaml:1:38 remote.anomaly_detector.timeout: duration out of range (1ms..10m)"},
    {"model:\n  welford:\n    threshold: {a: 1}\n",
     "t.yaml:3:16 model.welford.threshold: expected a number, got a mapping"},
    {"model:\n  welford:\n    threshold: 0\n",
     "t.yaml:3:16 model.welford.threshold: value out of range (above 0, up to 1000000)"},
    {"model:\n  welford:\n    threshold: nan\n",
     "t.yaml:3:16 model.welford.threshold: expected a number, got \"nan\""},
    {"model:\n  welford:\n    threshold: 1e999\n",
     "t.yaml:3:16 model.welford.threshold: value out of range (above 0, up to 1000000)"},
    {"model:\n  welford:\n    threshold:\n",
     "t.yaml:3:15 model.welford.threshold: missing value (expected a number)"},
    {"model:\n  welford:\n    min_samples: lots\n",
     "t.yaml:3:18 model.welford.min_samples: expected an integer, got \"lots\""},
    {"model:\n  welford:\n    min_samples: 1\n",
     "t.yaml:3:18 model.welford.min_samples: value out of range (2..1000000000)"},
    {"model:\n  welford:\n    min_samples: 1.5\n",
     "t.yaml:3:18 model.welford.min_samples: expected an integer, got \"1.5\""},
    {"model:\n  welford:\n    min_samples: 99999999999999999999\n",
     "t.yaml:3:18 model.welford.min_samples: value out of range (2..1000000000)"},
    {"model: {welford: {learn_anomalies: maybe}}\n",
     "t.yaml:1:36 model.welford.learn_anomalies: expected a boolean "
     "(true/false/yes/no/on/off), got \"maybe\""},
    {"model: {welford: {direction: up}}\n",
     "t.yaml:1:30 model.welford.direction: invalid value \"up\" (expected both | positive | "
     "negative)"},
    {"model: {welford: {scope: [lifetime]}}\n",
     "t.yaml:1:26 model.welford.scope: expected a string, got a list"},
    {"remote: {anomaly_detector: {sensitivity: 100}}\n",
     "t.yaml:1:42 remote.anomaly_detector.sensitivity: value out of range (0..99)"},
    {"remote: {anomaly_detector: {max_anomaly_ratio: 0.5}}\n",
     "t.yaml:1:48 remote.anomaly_detector.max_anomaly_ratio: value out of range (above 0, up "
     "to 0.49)"},
    {"remote: {anomaly_detector: {min_points: 11}}\n",
     "t.yaml:1:41 remote.anomaly_detector.min_points: value out of range (12..8640)"},
    {"remote: {anomaly_detector: {max_in_flight: 0}}\n",
     "t.yaml:1:44 remote.anomaly_detector.max_in_flight: value out of range (1..1024)"},
    {"remote: {anomaly_detector: {api_version: v2}}\n",
     "t.yaml:1:42 remote.anomaly_detector.api_version: invalid value \"v2\" (expected v1.0 | "
     "v1.1)"},
    {"remote: {anomaly_detector: {granularity: daily-ish}}\n",
     "t.yaml:1:42 remote.anomaly_detector.granularity: invalid value \"daily-ish\" (expected "
     "yearly | monthly | weekly | daily | hourly | minutely | secondly | microsecond | none)"},
    {"limits: {max_message_bytes: 63}\n",
     "t.yaml:1:29 limits.max_message_bytes: value out of range (64..67108864)"},
    {"limits: {max_series: 100000001}\n",
     "t.yaml:1:22 limits.max_series: value out of range (1..100000000)"},
    {"limits: {max_key_bytes: 1025}\n",
     "t.yaml:1:25 limits.max_key_bytes: value out of range (1..1024)"},
    {"log: {level: loud}\n",
     "t.yaml:1:14 log.level: invalid value \"loud\" (expected error | warn | info | debug)"},
    {"log:\n  level: info\n  level: debug\n",
     "t.yaml:3:3 log.level: duplicate key (first at line 2)"},
    {"log: {}\nlog: {}\n", "t.yaml:2:1 log: duplicate key (first at line 1)"},
    {"input:\n  metrics: /temp\n", "t.yaml:2:12 input.metrics: expected a list, got a scalar"},
    {"input: {metrics: []}\n", "t.yaml:1:18 input.metrics: expected 1..16 items, got 0"},
    {"input: {metrics: [/1, /2, /3, /4, /5, /6, /7, /8, /9, /10, /11, /12, /13, /14, /15, /16, "
     "/17]}\n",
     "t.yaml:1:18 input.metrics: expected 1..16 items, got 17"},
    {"input: {metrics: [/a, {b: 1}]}\n",
     "t.yaml:1:23 input.metrics: item 2: expected a string, got a mapping"},
    {"input: {key: [a]}\n", "t.yaml:1:14 input.key: expected a string, got a list"},
    {"source: {kafka: {topics: ['']}}\n",
     "t.yaml:1:27 source.kafka.topics: item 1 must not be empty"},
    {"source: {kafka: {group: ''}}\n", "t.yaml:1:25 source.kafka.group: must not be empty"},
    {"source: {kafka: {properties: [a]}}\n",
     "t.yaml:1:30 source.kafka.properties: expected a mapping, got a list"},
    {"source: {kafka: {properties: {a.b: [1]}}}\n",
     "t.yaml:1:36 source.kafka.properties.a.b: expected a scalar, got a list"},
    {"source: {kafka: {properties: {a: 1, a: 2}}}\n",
     "t.yaml:1:37 source.kafka.properties.a: duplicate key"},
    {"source: {kafka: {properties: {'': 1}}}\n",
     "t.yaml:1:31 source.kafka.properties: property names must be 1..128 printable ASCII "
     "characters, no blanks"},
    {"source: {kafka: {properties: {'a b': 1}}}\n",
     "t.yaml:1:31 source.kafka.properties: property names must be 1..128 printable ASCII "
     "characters, no blanks"},
    {"windows: 5\n", "t.yaml:1:10 windows: expected a mapping, got a scalar"},
    {"windows: {tumbling: 5}\n", "t.yaml:1:21 windows.tumbling: expected a mapping, got a scalar"},
    {"windows: {sliding: [1]}\n", "t.yaml:1:20 windows.sliding: expected a mapping, got a list"},
    {"- a\n- b\n", "t.yaml:1:1: the top level must be a mapping, got a list"},
    {"hello\n", "t.yaml:1:1: the top level must be a mapping, got a scalar"},
    {"log: {level: info}\n---\nlog: {level: debug}\n",
     "t.yaml:2:1: more than one YAML document (only one is allowed)"},
    {"? [a, b]\n: 1\n", "t.yaml:1:3: keys must be scalars, got a list"},
    {"model: {import: \"a\\0b\"}\n", "t.yaml:1:17 model.import: value contains a NUL byte"},
    {"log: [info\n",
     "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']' while parsing a flow "
     "sequence"},
    {"log:\n\tlevel: info\n",
     "t.yaml:2:1: YAML syntax error: found character that cannot start any token while "
     "scanning for the next token"},
    {"model: {import: *nope}\n", "t.yaml:1:17: YAML syntax error: found undefined alias"},
    {"log: {level: \"\x01\"}\n",
     "t.yaml:1:15: YAML syntax error: control characters are not allowed"},
    {"log: {level: \"\xff\"}\n", "t.yaml:1:15: YAML syntax error: invalid leading UTF-8 octet"},
};

static void test_load_errors(void)
{
    const struct err_case *cases = load_error_cases;
    for (size_t i = 0; i < sizeof(load_error_cases) / sizeof(load_error_cases[0]); i++) {
        int rc = load(cases[i].yaml);
        if (rc != AD_ECONFIG) AD_FAIL_("case %zu: rc %d (%s) for:\n%s", i, rc, err, cases[i].yaml);
        if (strcmp(err, cases[i].msg))
            AD_FAIL_("case %zu:\n  got:  %s\n  want: %s", i, err, cases[i].msg);
    }
    ad_config_free(&cfg);
}

static void test_load_limits(void)
{
    struct ad_config c;
    size_t big = AD_CONFIG_MAX_FILE + 1;
    char *buf = malloc(big);

    AD_EXPECT(buf != NULL);
    memset(buf, '#', big);
    AD_EXPECT_INT(ad_config_init(&c), ==, 0);
    AD_EXPECT_INT(ad_config_load_buffer(&c, "big.yaml", buf, big, err, sizeof(err)), ==,
                  AD_ECONFIG);
    AD_EXPECT_STR(err, "big.yaml: larger than 1048576 bytes");
    /* Exactly at the cap: one long comment is fine. */
    AD_EXPECT_INT(ad_config_load_buffer(&c, "big.yaml", buf, big - 1, err, sizeof(err)), ==, 0);
    free(buf);

    /* Many aliases of one scalar in a list are bounded by the item limit. */
    struct ad_buf b;
    ad_buf_init(&b, 1 << 20);
    AD_EXPECT_INT(ad_buf_adds(&b, "source: {kafka: {topics: [&a t"), ==, 0);
    for (int i = 0; i < 300; i++)
        AD_EXPECT_INT(ad_buf_adds(&b, ", *a"), ==, 0);
    AD_EXPECT_INT(ad_buf_adds(&b, "]}}\n"), ==, 0);
    AD_EXPECT_INT(ad_config_load_buffer(&c, "a.yaml", b.p, b.len, err, sizeof(err)), ==,
                  AD_ECONFIG);
    AD_EXPECT_STR(err, "a.yaml:1:26 source.kafka.topics: expected 1..256 items, got 301");
    ad_buf_free(&b);

    /* Missing file: AD_EIO with the path and the reason. */
    AD_EXPECT_INT(ad_config_load_file(&c, "/nonexistent/anomalyd.yaml", err, sizeof(err)), ==,
                  AD_EIO);
    AD_EXPECT_STR(err, "/nonexistent/anomalyd.yaml: No such file or directory");
    AD_EXPECT_INT(ad_config_load_file(&c, AD_TEST_DATA_DIR, err, sizeof(err)), ==, AD_EIO);
    AD_EXPECT_CONTAINS(err, "Is a directory");
    /* A failed load leaves a valid config behind. */
    AD_EXPECT_INT(ad_config_validate(&c, err, sizeof(err)), ==, 0);
    ad_config_free(&c);
}

/* ---- ${VAR} expansion ------------------------------------------------- */

static void test_env(void)
{
    setenv("AD_T_HOST", "h1", 1);
    setenv("AD_T_EMPTY", "", 1);
    setenv("AD_T_DOLLAR", "${AD_T_HOST}", 1);
    unsetenv("AD_T_UNSET");
    AD_EXPECT_INT(
        load("source:\n"
             "  kafka:\n"
             "    brokers: ${AD_T_HOST}:9092,\"${AD_T_HOST}\"\n"
             "    group: \"${AD_T_UNSET:-grp-${AD_T_HOST}\"\n"
             "    topics: ['${AD_T_EMPTY:-dflt}', 'x${AD_T_EMPTY}y', '${AD_T_UNSET:-}z']\n"
             "model:\n"
             "  import: a$$b$c$$$${AD_T_HOST}\n"
             "sinks:\n"
             "  webhook: {url: '${AD_T_DOLLAR}'}\n"),
        ==, 0);
    AD_EXPECT_STR(cfg.kafka.brokers, "h1:9092,\"h1\"");
    AD_EXPECT_STR(cfg.kafka.group, "grp-${AD_T_HOST");
    AD_EXPECT_STR(cfg.kafka.topics.v[0], "dflt");
    AD_EXPECT_STR(cfg.kafka.topics.v[1], "xy");
    AD_EXPECT_STR(cfg.kafka.topics.v[2], "z");
    AD_EXPECT_STR(cfg.model.import, "a$b$c$${AD_T_HOST}");
    AD_EXPECT_STR(cfg.sinks.webhook_url, "${AD_T_HOST}"); /* values are not re-expanded */

    static const struct err_case cases[] = {
        {"model:\n  import: ${AD_T_UNSET}\n",
         "t.yaml:2:11 model.import: environment variable AD_T_UNSET is not set"},
        {"model:\n  import: x${\n",
         "t.yaml:2:11 model.import: malformed variable reference \"${\" (missing '}')"},
        {"model:\n  import: x${}\n",
         "t.yaml:2:11 model.import: malformed variable reference \"${}\" (use ${NAME} or "
         "${NAME:-default})"},
        {"model:\n  import: ${1A}\n",
         "t.yaml:2:11 model.import: malformed variable reference \"${1A}\" (use ${NAME} or "
         "${NAME:-default})"},
        {"model:\n  import: \"${A B}\"\n",
         "t.yaml:2:11 model.import: malformed variable reference \"${A B}\" (use ${NAME} or "
         "${NAME:-default})"},
        {"model:\n  import: ${A:x}\n",
         "t.yaml:2:11 model.import: malformed variable reference \"${A:x}\" (use ${NAME} or "
         "${NAME:-default})"},
        {"input:\n  metrics: [/a, '${AD_T_UNSET}']\n",
         "t.yaml:2:17 input.metrics: environment variable AD_T_UNSET is not set"},
        {"source:\n  kafka:\n    properties:\n      sasl.password: ${AD_T_UNSET}\n",
         "t.yaml:4:22 source.kafka.properties.sasl.password: environment variable AD_T_UNSET is "
         "not set"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        AD_EXPECT_INT(load(cases[i].yaml), ==, AD_ECONFIG);
        if (strcmp(err, cases[i].msg))
            AD_FAIL_("case %zu:\n  got:  %s\n  want: %s", i, err, cases[i].msg);
    }

    /* The expansion result is capped at 64 KiB. */
    char *big = malloc(AD_CONFIG_MAX_SCALAR + 2);
    AD_EXPECT(big != NULL);
    memset(big, 'v', AD_CONFIG_MAX_SCALAR + 1);
    big[AD_CONFIG_MAX_SCALAR + 1] = '\0';
    setenv("AD_T_BIG", big, 1);
    AD_EXPECT_INT(load("model:\n  import: ${AD_T_BIG}\n"), ==, AD_ECONFIG);
    AD_EXPECT_STR(err, "t.yaml:2:11 model.import: value longer than 65536 bytes after expansion");
    big[AD_CONFIG_MAX_SCALAR] = '\0';
    setenv("AD_T_BIG", big, 1);
    AD_EXPECT_INT(load("model:\n  import: ${AD_T_BIG}\n"), ==, 0);
    AD_EXPECT_UINT(strlen(cfg.model.import), ==, AD_CONFIG_MAX_SCALAR);
    free(big);
    ad_config_free(&cfg);
}

/* ---- --set ------------------------------------------------------------ */

static void expect_set(const char *assignment, int want_rc, const char *want_err)
{
    err[0] = '\0';
    int rc = ad_config_set(&cfg, assignment, err, sizeof(err));
    if (rc != want_rc) AD_FAIL_("--set %s: rc %d, want %d (%s)", assignment, rc, want_rc, err);
    if (want_err && strcmp(err, want_err))
        AD_FAIL_("--set %s:\n  got:  %s\n  want: %s", assignment, err, want_err);
}

static void test_set(void)
{
    AD_EXPECT_INT(load(""), ==, 0);
    expect_set("log.level=debug", 0, NULL);
    AD_EXPECT_INT(cfg.log_level, ==, AD_LOG_DEBUG);
    AD_EXPECT(ad_config_is_set(&cfg, "log.level"));
    expect_set("source.kafka.brokers=127.0.0.1:9092", 0, NULL);
    AD_EXPECT_STR(cfg.kafka.brokers, "127.0.0.1:9092");
    expect_set("source.kafka.topics=[a, \"b,c\"]", 0, NULL);
    AD_EXPECT_UINT(cfg.kafka.topics.n, ==, 2);
    AD_EXPECT_STR(cfg.kafka.topics.v[1], "b,c");
    expect_set("input.key=header:device-id", 0, NULL);
    AD_EXPECT_STR(cfg.input.key, "header:device-id");
    expect_set("model.import=", 0, NULL);
    AD_EXPECT_STR(cfg.model.import, "");
    expect_set("sinks.webhook.url=http://h:8080/x?a=1&b=2#frag", 0, NULL);
    AD_EXPECT_STR(cfg.sinks.webhook_url, "http://h:8080/x?a=1&b=2#frag");
    setenv("AD_T_HOST", "h1", 1);
    expect_set("model.import=${AD_T_HOST}/m.json", 0, NULL);
    AD_EXPECT_STR(cfg.model.import, "h1/m.json");

    /* A key below an optional block opens it; null closes it. */
    AD_EXPECT(!cfg.windows.tumbling);
    expect_set("windows.tumbling.size=5m", 0, NULL);
    AD_EXPECT(cfg.windows.tumbling);
    AD_EXPECT(ad_config_is_set(&cfg, "windows.tumbling"));
    AD_EXPECT_INT(cfg.windows.tumbling_size_us, ==, 5 * MN);
    AD_EXPECT_INT(cfg.windows.aggregate, ==, AD_AGG_MEAN);
    expect_set("windows.sliding={}", 0, NULL);
    AD_EXPECT(cfg.windows.sliding);
    expect_set("windows.sliding=null", 0, NULL);
    AD_EXPECT(!cfg.windows.sliding);
    expect_set("windows={sliding: {size: 10m, slide: 5m}}", 0, NULL);
    AD_EXPECT(cfg.windows.sliding);
    AD_EXPECT_INT(cfg.windows.sliding_slide_us, ==, 5 * MN);

    /* Properties: the whole map, or one entry (names may contain dots). */
    expect_set("source.kafka.properties={a: 1}", 0, NULL);
    expect_set("source.kafka.properties.security.protocol=SASL_SSL", 0, NULL);
    expect_set("source.kafka.properties.a=2", 0, NULL);
    AD_EXPECT_UINT(cfg.kafka.properties.n, ==, 2);
    AD_EXPECT_STR(cfg.kafka.properties.v[0], "2");
    AD_EXPECT_STR(cfg.kafka.properties.k[1], "security.protocol");
    AD_EXPECT_STR(cfg.kafka.properties.v[1], "SASL_SSL");

    expect_set("bogus.key=1", AD_ECONFIG, "--set:1:1 bogus.key: unknown key");
    expect_set("windows.tumbling.bogus=1", AD_ECONFIG,
               "--set:1:1 windows.tumbling.bogus: unknown key");
    expect_set("source.kafka.properties.=1", AD_ECONFIG,
               "--set:1:1 source.kafka.properties.: unknown key");
    expect_set("log.level", AD_ECONFIG, "--set:1:1: expected PATH=VALUE, got \"log.level\"");
    expect_set("=x", AD_ECONFIG, "--set:1:1: expected PATH=VALUE, got \"=x\"");
    expect_set("log.level=loud", AD_ECONFIG,
               "--set:1:11 log.level: invalid value \"loud\" (expected error | warn | info | "
               "debug)");
    expect_set("source.kafka.topics=[a, [b]]", AD_ECONFIG,
               "--set:1:25 source.kafka.topics: item 2: expected a string, got a list");
    expect_set("input.metrics=/temp", AD_ECONFIG,
               "--set:1:15 input.metrics: expected a list, got a scalar");
    expect_set("source.kafka.group=", AD_ECONFIG,
               "--set:1:20 source.kafka.group: must not be empty");
    expect_set("windows={tumbling: {size: 99d}}", AD_ECONFIG,
               "--set:1:27 windows.tumbling.size: duration out of range (1ms..30d)");
    expect_set("windows={bogus: 1}", AD_ECONFIG, "--set:1:10 windows.bogus: unknown key");
    expect_set("source.kafka.topics=[a", AD_ECONFIG,
               "--set:2:1: YAML syntax error: did not find expected ',' or ']' while parsing a "
               "flow sequence");
    expect_set("model.import=${AD_T_UNSET}", AD_ECONFIG,
               "--set:1:14 model.import: environment variable AD_T_UNSET is not set");
    expect_set("source.kafka.properties.a\xde=1", AD_ECONFIG,
               "--set:1:1 source.kafka.properties.a\xde: property names must be 1..128 printable "
               "ASCII characters, no blanks");
    expect_set("source.kafka.properties.x=[1]", AD_ECONFIG,
               "--set:1:27 source.kafka.properties.x: expected a scalar, got a list");
    /* The config stays valid after a failed --set. */
    AD_EXPECT_INT(cfg.log_level, ==, AD_LOG_DEBUG);
    ad_config_free(&cfg);
}

/* ---- cross-field validation ------------------------------------------- */

static void test_validate(void)
{
    static const struct err_case cases[] = {
        {"windows:\n  sliding: {}\n", "t.yaml:2:3 windows.sliding: requires windows.tumbling"},
        {"windows:\n  tumbling: {size: 7m}\n  sliding: {}\n",
         "t.yaml:2:14 windows.tumbling.size: windows.sliding.size must be a multiple of "
         "windows.tumbling.size (7m)"},
        {"windows:\n  tumbling: {}\n  sliding: {size: 90s}\n",
         "t.yaml:3:13 windows.sliding.size: windows.sliding.size must be a multiple of "
         "windows.tumbling.size (1m)"},
        {"windows:\n  tumbling: {}\n  sliding: {size: 10m, slide: 150s}\n",
         "t.yaml:3:24 windows.sliding.slide: windows.sliding.slide must be a multiple of "
         "windows.tumbling.size (1m)"},
        {"windows:\n  tumbling: {}\n  sliding: {size: 5m}\n",
         "t.yaml:3:13 windows.sliding.size: windows.sliding.slide must not exceed "
         "windows.sliding.size (5m)"},
        {"windows:\n  tumbling: {size: 1ms}\n  sliding: {size: 9s, slide: 1s}\n  allowed_lateness: "
         "0\n",
         "t.yaml:3:13 windows.sliding.size: a sliding window of 9s holds 9000 tumbling points (max "
         "8640)"},
        {"windows:\n  tumbling: {size: 1s}\n  allowed_lateness: 63s\n",
         "t.yaml:3:3 windows.allowed_lateness: allowed_lateness / tumbling.size must be at most 62 "
         "(at most 64 open windows per series; tumbling.size is 1s)"},
        {"windows:\n  tumbling: {size: 10ms}\n",
         "t.yaml:2:14 windows.tumbling.size: allowed_lateness / tumbling.size must be at most 62 "
         "(at most 64 open windows per series; tumbling.size is 10ms)"},
        {"model: {welford: {scope: window}}\n",
         "t.yaml:1:19 model.welford.scope: window requires windows.sliding"},
        {"remote:\n  anomaly_detector:\n    mode: confirm\n",
         "t.yaml:3:5 remote.anomaly_detector.mode: confirm requires "
         "remote.anomaly_detector.endpoint"},
        {"remote:\n  anomaly_detector:\n    mode: always\n    endpoint: https://x\n",
         "t.yaml:3:5 remote.anomaly_detector.mode: always requires windows.sliding"},
        {"windows: {tumbling: {}, sliding: {size: 10m, slide: 10m}}\n"
         "remote: {anomaly_detector: {mode: always, endpoint: 'https://x'}}\n",
         "t.yaml:1:35 windows.sliding.size: a sliding window holds 10 tumbling points, fewer than "
         "remote.anomaly_detector.min_points (12)"},
        {"remote: {anomaly_detector: {endpoint: x.example.com}}\n",
         "t.yaml:1:29 remote.anomaly_detector.endpoint: must be an http:// or https:// URL"},
        {"sinks: {webhook: {url: 'ftp://x'}}\n",
         "t.yaml:1:19 sinks.webhook.url: must be an http:// or https:// URL"},
        {"source: {kafka: {brokers: ''}}\n",
         "t.yaml:1:18 source.kafka.brokers: must not be empty unless "
         "source.kafka.event_hubs_connection_string is set"},
        {"input: {key: id}\n", "t.yaml:1:9 input.key: \"id\" is neither a JSON pointer (\"\" or "
                               "\"/...\"), header:NAME nor const:NAME"},
        {"input: {key: 'header:'}\n",
         "t.yaml:1:9 input.key: \"header:\" is neither a JSON pointer (\"\" or \"/...\"), "
         "header:NAME nor const:NAME"},
        {"input: {time: ts}\n",
         "t.yaml:1:9 input.time: \"ts\" is neither a JSON pointer (\"\" or \"/...\") nor "
         "\"record\""},
        {"input: {metrics: [/a, temp]}\n",
         "t.yaml:1:9 input.metrics: item 2: \"temp\" is not a JSON pointer (\"\" or \"/...\")"},
        {"input: {metrics: [/a~2]}\n",
         "t.yaml:1:9 input.metrics: item 1: \"/a~2\" is not a JSON pointer (\"\" or \"/...\")"},
        {"input: {metrics: [/a/temp, /b/temp]}\n",
         "t.yaml:1:9 input.metrics: items 1 and 2 have the same metric name \"temp\" (the "
         "pointer's last token)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (load(cases[i].yaml) || ad_config_validate(&cfg, err, sizeof(err)) != AD_ECONFIG)
            AD_FAIL_("case %zu: \"%s\" for:\n%s", i, err, cases[i].yaml);
        if (strcmp(err, cases[i].msg))
            AD_FAIL_("case %zu:\n  got:  %s\n  want: %s", i, err, cases[i].msg);
    }

    static const char *const ok[] = {
        "input: {key: 'header:dev', time: record, metrics: ['', /a~1b, /c~0d]}\n",
        "windows: {tumbling: {size: 1s}, allowed_lateness: 62s}\n",
        "windows: {tumbling: {size: 1s}, allowed_lateness: 62999ms}\n",
        "windows: {tumbling: {size: 1ms}, sliding: {size: 8640ms, slide: 8640ms},\n"
        "          allowed_lateness: 62ms}\n",
        "windows: {tumbling: {size: 1m}, sliding: {size: 15m, slide: 15m}}\n"
        "model: {welford: {scope: window}}\n"
        "remote: {anomaly_detector: {mode: confirm, endpoint: 'https://x'}}\n",
        "source: {kafka: {brokers: '', event_hubs_connection_string: 'Endpoint=sb://x/'}}\n",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (load_valid(ok[i])) AD_FAIL_("ok case %zu: %s", i, err);

    /* Positions come from --set too; a defaulted key has none. */
    AD_EXPECT_INT(load(""), ==, 0);
    expect_set("windows.sliding.size=30m", 0, NULL);
    AD_EXPECT_INT(ad_config_validate(&cfg, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT_STR(err, "--set:1:1 windows.sliding: requires windows.tumbling");
    ad_config_free(&cfg);
    AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
    cfg.windows.sliding = true;
    AD_EXPECT_INT(ad_config_validate(&cfg, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT_STR(err, "windows.sliding: requires windows.tumbling");
    ad_config_free(&cfg);
}

/* ---- printing --------------------------------------------------------- */

static const char full_yaml[] =
    "source:\n"
    "  kafka:\n"
    "    brokers: 'a:1,b:2'\n"
    "    topics: [t1, 't 2', 'x,y', 'null', '$$v', 'a: b', \"q\\\"uote\", \"tab\\there\"]\n"
    "    group: 'g$$ #1'\n"
    "    start: earliest\n"
    "    event_hubs_connection_string: Endpoint=sb://h/;SharedAccessKey=EHSECRETVALUE\n"
    "    properties:\n"
    "      security.protocol: SASL_SSL\n"
    "      sasl.password: PWSECRET123\n"
    "      sasl.jaas.config: 'x required password=JAASSECRET;'\n"
    "      ssl.key.password: ''\n"
    "      'weird:key#1': 'v: 1'\n"
    "input:\n"
    "  key: 'header:dev'\n"
    "  time: record\n"
    "  time_format: epoch_ms\n"
    "  metrics: [/a/temp, /b~1c, \"/\\u00e9t\\u00e9\", \"/ctl\\u0085\\u2028x\"]\n"
    "windows:\n"
    "  tumbling: {size: 90s, aggregate: max}\n"
    "  sliding: {size: 30m, slide: 3m}\n"
    "  allowed_lateness: 1h30m\n"
    "  idle_timeout: 72h\n"
    "model:\n"
    "  welford: {scope: window, threshold: 3.25, min_samples: 50, direction: positive,\n"
    "            learn_anomalies: true}\n"
    "  import: '/x y/m.json'\n"
    "remote:\n"
    "  anomaly_detector:\n"
    "    mode: confirm\n"
    "    endpoint: 'https://e.example.com'\n"
    "    key: ADKEYSECRET\n"
    "    api_version: v1.0\n"
    "    granularity: hourly\n"
    "    sensitivity: 80\n"
    "    max_anomaly_ratio: 0.1\n"
    "    min_points: 12\n"
    "    timeout: 1500ms\n"
    "    max_in_flight: 4\n"
    "sinks:\n"
    "  kafka: {topic: out}\n"
    "  alert_log: {path: /tmp/a.jsonl}\n"
    "  webhook: {url: 'http://hook:1/x?y=1'}\n"
    "  dead_letter: {topic: dlq}\n"
    "http: {listen: '[::1]:9464'}\n"
    "state: {dir: '', checkpoint_interval: 1d}\n"
    "limits: {max_message_bytes: 64, max_series: 7, max_key_bytes: 1024}\n"
    "log: {level: warn}\n";

static void test_print_round_trip(void)
{
    struct ad_config again;
    char *out, *out2;

    AD_EXPECT_INT(load_valid(full_yaml), ==, 0);
    out = print_str(&cfg);
    /* Secrets never appear. */
    AD_EXPECT(strstr(out, "EHSECRETVALUE") == NULL);
    AD_EXPECT(strstr(out, "ADKEYSECRET") == NULL);
    AD_EXPECT(strstr(out, "PWSECRET123") == NULL);
    AD_EXPECT(strstr(out, "JAASSECRET") == NULL); /* the rule of ad_secret.h */
    AD_EXPECT_CONTAINS(out, "    event_hubs_connection_string: \"***\"\n");
    AD_EXPECT_CONTAINS(out, "      sasl.password: \"***\"\n");
    AD_EXPECT_CONTAINS(out, "      sasl.jaas.config: \"***\"\n");
    AD_EXPECT_CONTAINS(out, "      ssl.key.password: \"\"\n");
    AD_EXPECT_CONTAINS(out, "      security.protocol: SASL_SSL\n");
    /* Durations in their compact form. */
    AD_EXPECT_CONTAINS(out, "    size: 1m30s\n");
    AD_EXPECT_CONTAINS(out, "  allowed_lateness: 1h30m\n");
    AD_EXPECT_CONTAINS(out, "  idle_timeout: 72h\n");
    AD_EXPECT_CONTAINS(out, "    timeout: 1s500ms\n");
    AD_EXPECT_CONTAINS(out, "  checkpoint_interval: 24h\n");
    AD_EXPECT_CONTAINS(out, "    threshold: 3.25\n");
    AD_EXPECT_CONTAINS(out, "    topics: [t1, \"t 2\", \"x,y\", \"null\", \"$$v\", \"a: b\", "
                            "\"q\\\"uote\", \"tab\\there\"]\n");
    AD_EXPECT_CONTAINS(out, "    group: \"g$$ #1\"\n");

    /* It loads back to the same config, secrets aside, and prints the same. */
    AD_EXPECT_INT(ad_config_init(&again), ==, 0);
    if (ad_config_load_buffer(&again, "printed", out, strlen(out), err, sizeof(err)))
        AD_FAIL_("reload: %s\n%s", err, out);
    AD_EXPECT_INT(ad_config_validate(&again, err, sizeof(err)), ==, 0);
    expect_same(&cfg, &again, true);
    AD_EXPECT_STR(again.remote.key, "***");
    out2 = print_str(&again);
    AD_EXPECT_STR(out2, out);
    free(out);
    free(out2);
    ad_config_free(&again);

    /* Defaults round-trip too, with the optional blocks omitted. */
    AD_EXPECT_INT(load(""), ==, 0);
    out = print_str(&cfg);
    AD_EXPECT(strstr(out, "tumbling") == NULL && strstr(out, "sliding") == NULL);
    AD_EXPECT_CONTAINS(out, "    properties: {}\n");
    AD_EXPECT_CONTAINS(out, "    mode: off\n");
    AD_EXPECT_CONTAINS(out, "    threshold: 4.0\n");
    AD_EXPECT_INT(ad_config_init(&again), ==, 0);
    AD_EXPECT_INT(ad_config_load_buffer(&again, "printed", out, strlen(out), err, sizeof(err)), ==,
                  0);
    expect_same(&cfg, &again, false);
    free(out);
    ad_config_free(&again);
    ad_config_free(&cfg);
}

static void test_print_io_error(void)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f) return; /* not on this system */
    AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
    AD_EXPECT_INT(ad_config_print(&cfg, f), ==, AD_EIO);
    fclose(f);
    ad_config_free(&cfg);
}

/* ---- durations -------------------------------------------------------- */

static void test_duration(void)
{
    static const struct {
        const char *s;
        int64_t us;
    } ok[] = {
        {"0", 0},
        {"0s", 0},
        {"1us", 1},
        {"500ms", 500000},
        {"10s", 10 * S},
        {"5m", 5 * MN},
        {"1h", 60 * MN},
        {"72h", 72 * 60 * MN},
        {"1h30m", 90 * MN},
        {"1d", 1440 * MN},
        {"1m1s1ms1us", MN + S + 1001},
        {"9223372036854775807us", INT64_MAX},
    };
    static const struct {
        const char *s;
        int rc;
    } bad[] = {
        {"", AD_EPARSE},           {"-1s", AD_EPARSE},
        {"5", AD_EPARSE},          {"1x", AD_EPARSE},
        {"1h30", AD_EPARSE},       {" 1s", AD_EPARSE},
        {"1.5s", AD_EPARSE},       {"s", AD_EPARSE},
        {"+1s", AD_EPARSE},        {"1s ", AD_EPARSE},
        {"00", AD_EPARSE},         {"99999999999999999999s", AD_ERANGE},
        {"106751992d", AD_ERANGE}, {"9223372036854775807us1us", AD_ERANGE},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t v = -1;
        if (ad_duration_parse(ok[i].s, &v) != 0 || v != ok[i].us)
            AD_FAIL_("\"%s\": %lld", ok[i].s, (long long)v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 42;
        int rc = ad_duration_parse(bad[i].s, &v);
        if (rc != bad[i].rc || v != 42) AD_FAIL_("\"%s\": rc %d, want %d", bad[i].s, rc, bad[i].rc);
    }
    static const struct {
        int64_t us;
        const char *s;
    } fmt[] = {
        {0, "0"},
        {1, "1us"},
        {500000, "500ms"},
        {MN, "1m"},
        {90 * MN, "1h30m"},
        {72 * 60 * MN, "72h"},
        {30 * 1440 * MN, "720h"},
        {60 * MN + S, "1h1s"},
        {-5 * S, "-5s"},
        {INT64_MIN, "-2562047788h54s775ms808us"},
    };
    char buf[AD_DURATION_STRLEN];
    for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
        size_t n = ad_duration_format(fmt[i].us, buf);
        AD_EXPECT_STR(buf, fmt[i].s);
        AD_EXPECT_UINT(n, ==, strlen(fmt[i].s));
    }
    for (int64_t us = 1; us < INT64_MAX / 3; us = us * 3 + 7) {
        int64_t back;
        ad_duration_format(us, buf);
        AD_EXPECT_INT(ad_duration_parse(buf, &back), ==, 0);
        AD_EXPECT_INT(back, ==, us);
    }
}

/* ---- golden files ----------------------------------------------------- */

/* tests/data/config/NAME.yaml is loaded (named NAME.yaml) and validated;
 * NAME.err holds the exact error message, or NAME.out the printed config. */
static void test_golden(void)
{
    const char *dir = ad_test_data("config");
    char dirpath[4096];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(dirpath, sizeof(dirpath), "%s", dir);
    setenv("AD_GOLDEN_BROKERS", "golden-1:9092,golden-2:9092", 1);
    setenv("AD_GOLDEN_SECRET", "golden-secret-value", 1);
    unsetenv("AD_GOLDEN_UNSET");
    AD_EXPECT((d = opendir(dirpath)) != NULL);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), ylen;
        char path[4096 + 256], *yaml, *want;
        int rc;

        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        snprintf(path, sizeof(path), "%s/%s", dirpath, e->d_name);
        yaml = read_all(path, &ylen);
        AD_EXPECT(yaml != NULL);
        ad_config_free(&cfg);
        AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
        rc = ad_config_load_buffer(&cfg, e->d_name, yaml, ylen, err, sizeof(err));
        if (rc == 0) rc = ad_config_validate(&cfg, err, sizeof(err));
        snprintf(path + strlen(path) - 5, 5, ".err");
        if ((want = read_all(path, NULL)) != NULL) {
            want[strcspn(want, "\n")] = '\0';
            if (rc != AD_ECONFIG || strcmp(err, want))
                AD_FAIL_("%s: rc %d\n  got:  %s\n  want: %s", e->d_name, rc, err, want);
        } else {
            snprintf(path + strlen(path) - 4, 5, ".out");
            want = read_all(path, NULL);
            if (!want) AD_FAIL_("%s: neither .err nor .out", e->d_name);
            if (rc) AD_FAIL_("%s: %s", e->d_name, err);
            char *got = print_str(&cfg);
            if (strcmp(got, want))
                AD_FAIL_("%s: printed config differs from %s:\n%s", e->d_name, path, got);
            free(got);
        }
        free(want);
        free(yaml);
        n++;
    }
    closedir(d);
    AD_EXPECT_INT(n, >=, 10);
    ad_config_free(&cfg);
}

/* ---- the table, config/anomalyd.yaml and docs/config.md in step --------- */

struct yaml_keys {
    char path[128][96]; /* key paths found, in document order */
    int n;
};

/* Collects key paths of nested mappings (not inside properties). */
static void collect_keys(yaml_document_t *doc, yaml_node_t *n, const char *prefix,
                         struct yaml_keys *k)
{
    if (n->type != YAML_MAPPING_NODE || strcmp(prefix, "source.kafka.properties") == 0) return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        char full[96];
        snprintf(full, sizeof(full), "%s%s%s", prefix, *prefix ? "." : "",
                 (const char *)kn->data.scalar.value);
        AD_EXPECT_INT(k->n, <, 128);
        snprintf(k->path[k->n++], sizeof(k->path[0]), "%s", full);
        collect_keys(doc, yaml_document_get_node(doc, p->value), full, k);
    }
}

/* Checks that each option's line in text ends with "# HELP", its help text. */
static void check_help_comments(yaml_document_t *doc, yaml_node_t *n, const char *prefix,
                                const char *text)
{
    if (n->type != YAML_MAPPING_NODE) return;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        char full[96];
        snprintf(full, sizeof(full), "%s%s%s", prefix, *prefix ? "." : "",
                 (const char *)kn->data.scalar.value);
        const struct ad_option *o = ad_config_option_find(full);
        if (o) {
            /* The comment follows the value on the key's line. */
            const char *line = text + kn->start_mark.index;
            const char *eol = strchr(line, '\n');
            const char *from = o->type == AD_OPT_BLOCK || vn->type == YAML_MAPPING_NODE
                                   ? line
                                   : text + vn->end_mark.index;
            const char *c = strstr(from, " # ");
            if (!c || (eol && c > eol))
                AD_FAIL_("config/anomalyd.yaml:%zu: %s has no comment", kn->start_mark.line + 1,
                         full);
            size_t len = (size_t)((eol ? eol : c + strlen(c)) - (c + 3));
            if (len != strlen(o->help) || strncmp(c + 3, o->help, len))
                AD_FAIL_("config/anomalyd.yaml:%zu: %s: comment is\n  \"%.*s\", help is\n  \"%s\"",
                         kn->start_mark.line + 1, full, (int)len, c + 3, o->help);
        }
        if (!o || o->type == AD_OPT_BLOCK) check_help_comments(doc, vn, full, text);
    }
}

/* Turns the commented-out keys ("  #tumbling:", "  #  size: 1m") into keys
 * by deleting the '#': one that is the first non-blank of its line and is
 * followed by "name:" (after optional blanks). Prose comments never look so. */
static void uncomment_keys(char *text)
{
    for (char *line = text; *line;) {
        char *h = line + strspn(line, " ");
        if (*h == '#') {
            char *k = h + 1 + strspn(h + 1, " ");
            size_t nl = strspn(k, "abcdefghijklmnopqrstuvwxyz_");
            if (nl && k[nl] == ':' && (k[nl + 1] == ' ' || k[nl + 1] == '\n'))
                memmove(h, h + 1, strlen(h + 1) + 1);
        }
        char *eol = strchr(line, '\n');
        if (!eol) break;
        line = eol + 1;
    }
}

/* ---- the core stages' settings ----------------------------------------- */

static void expect_same_pipeline_cfg(const struct ad_pipeline_cfg *a,
                                     const struct ad_pipeline_cfg *b)
{
    AD_EXPECT_STR(a->decode.key, b->decode.key);
    AD_EXPECT_STR(a->decode.time, b->decode.time);
    AD_EXPECT_INT(a->decode.time_format, ==, b->decode.time_format);
    AD_EXPECT_UINT(a->decode.n_metrics, ==, b->decode.n_metrics);
    for (size_t i = 0; i < a->decode.n_metrics; i++)
        AD_EXPECT_STR(a->decode.metrics[i], b->decode.metrics[i]);
    AD_EXPECT_INT(a->decode.max_message_bytes, ==, b->decode.max_message_bytes);
    AD_EXPECT_INT(a->decode.max_key_bytes, ==, b->decode.max_key_bytes);
    AD_EXPECT_INT(a->window.tumbling, ==, b->window.tumbling);
    AD_EXPECT_INT(a->window.size_us, ==, b->window.size_us);
    AD_EXPECT_INT(a->window.aggregate, ==, b->window.aggregate);
    AD_EXPECT_INT(a->window.sliding, ==, b->window.sliding);
    AD_EXPECT_INT(a->window.win_us, ==, b->window.win_us);
    AD_EXPECT_INT(a->window.slide_us, ==, b->window.slide_us);
    AD_EXPECT_INT(a->window.lateness_us, ==, b->window.lateness_us);
    AD_EXPECT_INT(a->window.idle_us, ==, b->window.idle_us);
    AD_EXPECT_INT(a->window.window_scope, ==, b->window.window_scope);
    AD_EXPECT_UINT(a->window.max_series, ==, b->window.max_series);
    AD_EXPECT(a->score.threshold == b->score.threshold);
    AD_EXPECT_UINT(a->score.min_samples, ==, b->score.min_samples);
    AD_EXPECT_INT(a->score.direction, ==, b->score.direction);
    AD_EXPECT_INT(a->score.learn_anomalies, ==, b->score.learn_anomalies);
    AD_EXPECT_INT(a->remote_mode, ==, b->remote_mode);
}

/* Each option reaches the stage that uses it; the defaults are what the
 * core's tests start from (tests/ad_test_cfg.h); the checkpoint fingerprint
 * of a config is the one its checkpoints already carry. */
static void test_core_settings(void)
{
    struct ad_pipeline_cfg pc, want = ad_test_pipeline_cfg();

    AD_EXPECT_INT(load(""), ==, 0);
    ad_config_to_pipeline(&cfg, &pc);
    expect_same_pipeline_cfg(&pc, &want);
    /* As in fuzz/corpus/fuzz_checkpoint/scenario-c-p0.ckpt (default windows). */
    AD_EXPECT_UINT(ad_ckpt_fingerprint(&pc.window), ==, UINT64_C(0xd7e2a391abfa5110));

    AD_EXPECT_INT(load("input:\n  key: header:k\n  time: record\n  time_format: epoch_us\n"
                       "  metrics: [/a, /b/c]\n"
                       "windows:\n  tumbling:\n    size: 1m\n    aggregate: max\n"
                       "  sliding:\n    size: 15m\n    slide: 1m\n"
                       "  allowed_lateness: 10s\n  idle_timeout: 2m\n"
                       "model:\n  welford:\n    scope: window\n    threshold: 3.5\n"
                       "    min_samples: 12\n    direction: negative\n"
                       "    learn_anomalies: true\n"
                       "remote:\n  anomaly_detector:\n    mode: always\n"
                       "limits:\n  max_message_bytes: 4096\n  max_series: 77\n"
                       "  max_key_bytes: 64\n"),
                  ==, 0);
    ad_config_to_pipeline(&cfg, &pc);
    static const char *const metrics[] = {"/a", "/b/c"};
    want.decode = (struct ad_decode_cfg){.key = "header:k",
                                         .time = "record",
                                         .time_format = AD_TIME_EPOCH_US,
                                         .n_metrics = 2,
                                         .metrics = metrics,
                                         .max_message_bytes = 4096,
                                         .max_key_bytes = 64};
    want.window = (struct ad_window_cfg){.tumbling = true,
                                         .size_us = MN,
                                         .aggregate = AD_AGG_MAX,
                                         .sliding = true,
                                         .win_us = 15 * MN,
                                         .slide_us = MN,
                                         .lateness_us = 10 * S,
                                         .idle_us = 2 * MN,
                                         .window_scope = true,
                                         .max_series = 77};
    want.score = (struct ad_score_cfg){
        .threshold = 3.5, .min_samples = 12, .direction = AD_DIR_NEGATIVE, .learn_anomalies = true};
    want.remote_mode = AD_REMOTE_ALWAYS;
    expect_same_pipeline_cfg(&pc, &want);
    /* The decoder's strings are borrowed from the config, not copied. */
    AD_EXPECT(pc.decode.metrics[1] == cfg.input.metrics.v[1]);
    /* The text hashed is "1/60000000/2/1/900000000/60000000/1". */
    AD_EXPECT_UINT(ad_ckpt_fingerprint(&pc.window), ==, UINT64_C(0x4d3d9eda4d09608d));
}

/* The files docs/config.md names as the config's home exist. */
static void check_docs_files(const char *docs)
{
    static const char *const files[] = {"src/io/ad_config_table.c", "src/io/ad_config.c",
                                        "src/core/ad_secret.c"};
    char path[4096];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char named[128], *f;
        snprintf(named, sizeof(named), "`%s`", files[i]);
        if (!strstr(docs, named) && !strstr(docs, strrchr(named, '/') + 1))
            AD_FAIL_("docs/config.md does not name %s", files[i]);
        snprintf(path, sizeof(path), "%s/../../%s", AD_TEST_DATA_DIR, files[i]);
        if (!(f = read_all(path, NULL)))
            AD_FAIL_("docs/config.md names %s, which is missing", path);
        free(f);
    }
    if (strstr(docs, "`src/ad_config.c`"))
        AD_FAIL_("docs/config.md names src/ad_config.c (the config lives in src/io/)");
}

static void test_config_docs_in_step(void)
{
    char path[4096];
    size_t n, len;
    const struct ad_option *opt = ad_config_options(&n);
    struct ad_config def, file;
    struct yaml_keys *keys = calloc(1, sizeof(*keys));
    char *text, *docs;

    AD_EXPECT(keys != NULL);
    snprintf(path, sizeof(path), "%s/../../config/anomalyd.yaml", AD_TEST_DATA_DIR);
    text = read_all(path, &len);
    if (!text) AD_FAIL_("cannot read %s", path);

    /* 1. The shipped file loads to exactly the defaults. */
    AD_EXPECT_INT(ad_config_init(&def), ==, 0);
    AD_EXPECT_INT(ad_config_init(&file), ==, 0);
    if (ad_config_load_buffer(&file, "config/anomalyd.yaml", text, len, err, sizeof(err)))
        AD_FAIL_("%s", err);
    AD_EXPECT_INT(ad_config_validate(&file, err, sizeof(err)), ==, 0);
    expect_same(&def, &file, false);

    /* 2. With the optional blocks uncommented it loads to the defaults plus
     * those blocks, and then names every option, each with its help text. */
    uncomment_keys(text);
    len = strlen(text);
    ad_config_free(&file);
    AD_EXPECT_INT(ad_config_init(&file), ==, 0);
    if (ad_config_load_buffer(&file, "config/anomalyd.yaml (uncommented)", text, len, err,
                              sizeof(err)))
        AD_FAIL_("%s", err);
    AD_EXPECT_INT(ad_config_validate(&file, err, sizeof(err)), ==, 0);
    def.windows.tumbling = def.windows.sliding = true;
    expect_same(&def, &file, false);

    yaml_parser_t parser;
    yaml_document_t doc;
    AD_EXPECT(yaml_parser_initialize(&parser));
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    AD_EXPECT(yaml_parser_load(&parser, &doc));
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    AD_EXPECT(root != NULL);
    collect_keys(&doc, root, "", keys);
    check_help_comments(&doc, root, "", text);
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (int j = 0; j < keys->n && !found; j++)
            found = strcmp(keys->path[j], opt[i].path) == 0;
        if (!found) AD_FAIL_("option %s is missing from config/anomalyd.yaml", opt[i].path);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);

    /* 3. docs/config.md has a row "| `path` | type | default | ... | help |"
     * for every option, and no row for a path that is not an option. */
    static const char *const type_names[] = {"string",   "secret", "bool", "int", "number",
                                             "duration", "enum",   "list", "map", "block"};
    snprintf(path, sizeof(path), "%s/../../docs/config.md", AD_TEST_DATA_DIR);
    docs = read_all(path, NULL);
    if (!docs) AD_FAIL_("cannot read %s", path);
    for (char *r = docs, *w = docs;; r++) { /* unescape "\|" of table cells */
        if (r[0] == '\\' && r[1] == '|') r++;
        if ((*w++ = *r) == '\0') break;
    }
    for (size_t i = 0; i < n; i++) {
        char row[256];
        snprintf(row, sizeof(row), "\n| `%s` | %s |", opt[i].path, type_names[opt[i].type]);
        const char *r = strstr(docs, row);
        if (!r) AD_FAIL_("docs/config.md has no row starting \"%s\"", row + 1);
        const char *eol = strchr(r + 1, '\n');
        const char *h = strstr(r, opt[i].help);
        if (!h || (eol && h > eol))
            AD_FAIL_("docs/config.md: the row of %s lacks its help text \"%s\"", opt[i].path,
                     opt[i].help);
    }
    for (const char *r = strstr(docs, "\n| `"); r; r = strstr(r + 1, "\n| `")) {
        char p[128];
        size_t pl = strcspn(r + 4, "`");
        snprintf(p, sizeof(p), "%.*s", (int)pl, r + 4);
        if (!ad_config_option_find(p) && strchr(p, '.') &&
            strspn(p, "abcdefghijklmnopqrstuvwxyz_.") == strlen(p))
            AD_FAIL_("docs/config.md has a row for %s, which is not an option", p);
    }
    check_docs_files(docs);
    free(docs);
    free(text);
    free(keys);
    ad_config_free(&def);
    ad_config_free(&file);
}

int main(int argc, char **argv)
{
    /* Defaults read these; the tests want the documented values. */
    unsetenv("KAFKA_BROKERS");
    unsetenv("ANOMALY_DETECTOR_KEY");
    AD_TEST_RUN(argc, argv, test_defaults);
    AD_TEST_RUN(argc, argv, test_defaults_follow_env);
    AD_TEST_RUN(argc, argv, test_table);
    AD_TEST_RUN(argc, argv, test_every_type);
    AD_TEST_RUN(argc, argv, test_bools_and_textual_scalars);
    AD_TEST_RUN(argc, argv, test_optional_blocks);
    AD_TEST_RUN(argc, argv, test_aliases);
    AD_TEST_RUN(argc, argv, test_load_errors);
    AD_TEST_RUN(argc, argv, test_load_limits);
    AD_TEST_RUN(argc, argv, test_env);
    AD_TEST_RUN(argc, argv, test_set);
    AD_TEST_RUN(argc, argv, test_validate);
    AD_TEST_RUN(argc, argv, test_print_round_trip);
    AD_TEST_RUN(argc, argv, test_print_io_error);
    AD_TEST_RUN(argc, argv, test_duration);
    AD_TEST_RUN(argc, argv, test_golden);
    AD_TEST_RUN(argc, argv, test_core_settings);
    AD_TEST_RUN(argc, argv, test_config_docs_in_step);
    return ad_test_done();
}
