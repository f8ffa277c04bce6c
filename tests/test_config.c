/* test_config.c - the config loader: defaults, types, exact error messages,
 * ${VAR} expansion, --set, cross-field validation and durations. Printing,
 * the golden files and the table/yaml/docs agreement: test_config_print.c. */
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
#include "ad_test_cfg.h"
#include "test_config_util.h"

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

/* ad_config_init applies the plain defaults without the YAML parser: each
 * default must come out the same as when it is parsed (--set PATH=DEFAULT),
 * ${VAR} references both set and unset. */
static void test_defaults_as_parsed(void)
{
    size_t n;
    const struct ad_option *o = ad_config_options(&n);

    for (int env = 0; env < 2; env++) {
        struct ad_config a, b;
        if (env) {
            setenv("KAFKA_BROKERS", "k1:9092,k2:9092", 1);
            setenv("ANOMALY_DETECTOR_KEY", "s3cr3t-key", 1);
        } else {
            unset_config_env();
        }
        AD_EXPECT_INT(ad_config_init(&a), ==, 0);
        AD_EXPECT_INT(ad_config_init(&b), ==, 0);
        for (size_t i = 0; i < n; i++) {
            char set[512];
            if (!o[i].def)
                continue;
            AD_EXPECT_INT(snprintf(set, sizeof(set), "%s=%s", o[i].path, o[i].def), <,
                          (int)sizeof(set));
            err[0] = '\0';
            if (ad_config_set(&b, set, err, sizeof(err)) != 0)
                AD_FAIL_("--set %s: %s", set, err);
        }
        /* --set opens the optional blocks above what it sets; init does not. */
        for (size_t i = 0; i < n; i++)
            if (o[i].type == AD_OPT_BLOCK)
                *(bool *)((char *)&b + o[i].offset) = *(bool *)((char *)&a + o[i].offset);
        expect_same(&a, &b, false);
        ad_config_free(&a);
        ad_config_free(&b);
    }
    unset_config_env();
}

/* A copy holds its own strings, lists and origins: it compares, prints,
 * answers ad_config_is_set and reports validation errors (whose positions
 * come from the origins) as the original, after the original is freed. */
static void test_copy(void)
{
    static const char yaml[] = "source:\n  kafka:\n    topics: [a, b]\n    properties:\n"
                               "      sasl.password: pw\n      client.id: c\n"
                               "input:\n  metrics: [/x, /y]\n"
                               "windows:\n  tumbling: {size: 7m}\n  sliding: {}\n"
                               "sinks:\n  webhook:\n    url: https://u:p@h/x?k=v\n"
                               "    headers: {Authorization: Bearer t}\n";
    struct ad_config a, b, c;
    char e1[256], e2[256];

    AD_EXPECT_INT(load(yaml), ==, 0);
    AD_EXPECT_INT(ad_config_set(&cfg, "remote.anomaly_detector.key=k3y", err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(ad_config_copy(&a, &cfg), ==, 0);
    AD_EXPECT_INT(ad_config_copy(&b, &cfg), ==, 0);
    char *want = print_str(&cfg);
    AD_EXPECT_INT(ad_config_validate(&cfg, e1, sizeof(e1)), ==, AD_ECONFIG);
    AD_EXPECT_STR(e1, "t.yaml:10:14 windows.tumbling.size: windows.sliding.size must be a "
                      "multiple of windows.tumbling.size (7m)");
    AD_EXPECT_INT(ad_config_init(&c), ==, 0);
    AD_EXPECT_INT(ad_config_load_buffer(&c, "t.yaml", yaml, strlen(yaml), err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(ad_config_set(&c, "remote.anomaly_detector.key=k3y", err, sizeof(err)), ==, 0);
    ad_config_free(&cfg);
    expect_same(&a, &c, false);
    char *got = print_str(&a);
    AD_EXPECT_STR(got, want);
    AD_EXPECT(ad_config_is_set(&a, "source.kafka.topics"));
    AD_EXPECT(ad_config_is_set(&a, "remote.anomaly_detector.key"));
    AD_EXPECT(!ad_config_is_set(&a, "input.key"));
    AD_EXPECT_INT(ad_config_validate(&a, e2, sizeof(e2)), ==, AD_ECONFIG);
    AD_EXPECT_STR(e2, e1);
    /* The copies share nothing: changing one leaves the other. */
    AD_EXPECT_INT(ad_config_set(&a, "source.kafka.topics=[z]", err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(ad_config_set(&a, "source.kafka.properties.client.id=d", err, sizeof(err)), ==,
                  0);
    ad_config_free(&a);
    expect_same(&b, &c, false);
    ad_config_free(&b);
    ad_config_free(&c);
    free(got);
    free(want);
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
     "units d h m s ms us, each at most once, largest first)"},
    {"windows: {idle_timeout: 1m1m}\n",
     "t.yaml:1:25 windows.idle_timeout: invalid duration \"1m1m\" (e.g. 500ms, 10s, 1h30m; "
     "units d h m s ms us, each at most once, largest first)"},
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
        if (rc != AD_ECONFIG)
            AD_FAIL_("case %zu: rc %d (%s) for:\n%s", i, rc, err, cases[i].yaml);
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
    AD_EXPECT_INT(load(
                      "source:\n"
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
        /* A secret's value is never quoted, even in part (issue 17, item 11). */
        {"remote:\n  anomaly_detector:\n    key: \"Sup3r${Secr3tTail\"\n",
         "t.yaml:3:10 remote.anomaly_detector.key: malformed variable reference in a secret value "
         "(not shown; write a literal '$' as $$) (missing '}')"},
        {"source:\n  kafka:\n    properties: {sasl.password: 'pw${Secr3t Tail}'}\n",
         "t.yaml:3:33 source.kafka.properties.sasl.password: malformed variable reference in a "
         "secret value (not shown; write a literal '$' as $$)"},
        {"sinks:\n  webhook: {headers: {Authorization: 'Bearer ${tok en}'}}\n",
         "t.yaml:2:38 sinks.webhook.headers.Authorization: malformed variable reference in a "
         "secret value (not shown; write a literal '$' as $$)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        AD_EXPECT_INT(load(cases[i].yaml), ==, AD_ECONFIG);
        if (strcmp(err, cases[i].msg))
            AD_FAIL_("case %zu:\n  got:  %s\n  want: %s", i, err, cases[i].msg);
    }

    /* A variable name is at most 255 characters, and the error says so. */
    char yaml[600], name[300];
    memset(name, 'N', 256);
    name[256] = '\0';
    snprintf(yaml, sizeof(yaml), "model:\n  import: ${%s}\n", name);
    AD_EXPECT_INT(load(yaml), ==, AD_ECONFIG);
    AD_EXPECT_STR(err, "t.yaml:2:11 model.import: environment variable name longer than 255 "
                       "characters");
    name[255] = '\0';
    setenv(name, "ok255", 1);
    snprintf(yaml, sizeof(yaml), "model:\n  import: ${%s}\n", name);
    AD_EXPECT_INT(load(yaml), ==, 0);
    AD_EXPECT_STR(cfg.model.import, "ok255");
    unsetenv(name);

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
    if (rc != want_rc)
        AD_FAIL_("--set %s: rc %d, want %d (%s)", assignment, rc, want_rc, err);
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

/* endpoint: local is the in-process algorithm; the http.api block's defaults. */
static void test_remote_local_and_api(void)
{
    AD_EXPECT_INT(load_valid("windows: {tumbling: {size: 1m}, sliding: {size: 15m, slide: 10m}}\n"
                             "remote: {anomaly_detector: {mode: confirm, endpoint: local}}\n"),
                  ==, 0);
    AD_EXPECT_STR(cfg.remote.endpoint, "local");
    AD_EXPECT_INT(load_valid("http: {api: {enabled: true}}\n"), ==, 0);
    AD_EXPECT(cfg.http_api.enabled);
    AD_EXPECT_UINT(cfg.http_api.keys.n, ==, 0);
    AD_EXPECT_INT(cfg.http_api.max_body, ==, 4194304);
    AD_EXPECT_INT(cfg.http_api.max_points, ==, 8640);
    AD_EXPECT_INT(cfg.http_api.max_concurrent_per_client, ==, 16);
    AD_EXPECT_INT(load_valid("http: {api: {max_points: 8641}}\n"), ==, AD_ECONFIG);
}

/* remote.anomaly_detector.key becomes a request header: a control character
 * would inject headers, and a key is bounded; neither error quotes it. */
static void test_remote_key(void)
{
    static const char *const bad[] = {"abc\\r\\nX-Evil: 1", "abc\\n", "a\\tb", "a\\x7fb"};
    char yaml[1024], key[AD_CONFIG_MAX_REMOTE_KEY + 2];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), "remote: {anomaly_detector: {key: \"%s\"}}\n", bad[i]);
        AD_EXPECT_INT(load_valid(yaml), ==, AD_ECONFIG);
        AD_EXPECT_STR(err, "t.yaml:1:29 remote.anomaly_detector.key: must not contain control "
                           "characters (CR, LF, tab, ...)");
    }
    memset(key, 'k', AD_CONFIG_MAX_REMOTE_KEY + 1);
    key[AD_CONFIG_MAX_REMOTE_KEY + 1] = '\0';
    snprintf(yaml, sizeof(yaml), "remote: {anomaly_detector: {key: %s}}\n", key);
    AD_EXPECT_INT(load_valid(yaml), ==, AD_ECONFIG);
    AD_EXPECT_STR(err, "t.yaml:1:29 remote.anomaly_detector.key: longer than 480 bytes");
    key[AD_CONFIG_MAX_REMOTE_KEY] = '\0';
    snprintf(yaml, sizeof(yaml), "remote: {anomaly_detector: {key: %s}}\n", key);
    AD_EXPECT_INT(load_valid(yaml), ==, 0);
    AD_EXPECT_UINT(strlen(cfg.remote.key), ==, AD_CONFIG_MAX_REMOTE_KEY);
    ad_config_free(&cfg);
}

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
        {"http:\n  listen: ''\n  api:\n    enabled: true\n",
         "t.yaml:4:5 http.api.enabled: requires http.listen"},
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
         "t.yaml:1:29 remote.anomaly_detector.endpoint: must be an http:// or https:// URL, "
         "or local"},
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
        if (load_valid(ok[i]))
            AD_FAIL_("ok case %zu: %s", i, err);

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
        {"106751992d", AD_ERANGE}, {"9223372036854775ms808us", AD_ERANGE},
        {"1m1m", AD_EPARSE},       {"30m1h", AD_EPARSE},
        {"1s1m", AD_EPARSE},       {"1ms1s", AD_EPARSE},
        {"1h1h30m", AD_EPARSE},    {"1us1us", AD_EPARSE},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t v = -1;
        if (ad_duration_parse(ok[i].s, &v) != 0 || v != ok[i].us)
            AD_FAIL_("\"%s\": %lld", ok[i].s, (long long)v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 42;
        int rc = ad_duration_parse(bad[i].s, &v);
        if (rc != bad[i].rc || v != 42)
            AD_FAIL_("\"%s\": rc %d, want %d", bad[i].s, rc, bad[i].rc);
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

int main(int argc, char **argv)
{
    unset_config_env();
    AD_TEST_RUN(argc, argv, test_defaults);
    AD_TEST_RUN(argc, argv, test_defaults_follow_env);
    AD_TEST_RUN(argc, argv, test_defaults_as_parsed);
    AD_TEST_RUN(argc, argv, test_copy);
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
    AD_TEST_RUN(argc, argv, test_remote_local_and_api);
    AD_TEST_RUN(argc, argv, test_remote_key);
    AD_TEST_RUN(argc, argv, test_duration);
    return ad_test_done();
}
