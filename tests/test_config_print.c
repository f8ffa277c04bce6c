/* test_config_print.c - the config loader, continued (test_config.c has the
 * loading itself): printing and its round trip, the golden files in
 * tests/data/config/, the core stages' settings built from the config, and a
 * test that keeps the option table, config/anomalyd.yaml and docs/config.md
 * in step. */
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
    "http: {listen: '[::1]:9464', api: {enabled: true, keys: [APIKEYSECRET1, APIKEYSECRET2]}}\n"
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
    AD_EXPECT(strstr(out, "JAASSECRET") == NULL);   /* the rule of ad_secret.h */
    AD_EXPECT(strstr(out, "APIKEYSECRET") == NULL); /* http.api.keys */
    AD_EXPECT_CONTAINS(out, "    keys: [\"***\", \"***\"]\n");
    AD_EXPECT_CONTAINS(out, "    enabled: true\n");
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

/* URLs can carry credentials (issue 17, item 8): --check-config shows
 * scheme://host:port/path; sasl.oauthbearer.config is a secret too. */
static void test_print_masks_urls(void)
{
    char *out;

    AD_EXPECT_INT(load_valid(
                      "source: {kafka: {properties: {sasl.oauthbearer.config: "
                      "'principal=p extension_x=OAUTHSECRET'}}}\n"
                      "sinks: {webhook: {url: 'https://user:PA55@hook.example:8443/x?"
                      "token=T0KEN'}}\n"
                      "remote:\n"
                      "  anomaly_detector: {endpoint: 'https://e.example.com/?code=C0DE'}\n"),
                  ==, 0);
    out = print_str(&cfg);
    AD_EXPECT(strstr(out, "PA55") == NULL && strstr(out, "T0KEN") == NULL);
    AD_EXPECT(strstr(out, "C0DE") == NULL && strstr(out, "OAUTHSECRET") == NULL);
    AD_EXPECT_CONTAINS(out, "    url: \"https://***@hook.example:8443/x?***\"\n");
    AD_EXPECT_CONTAINS(out, "    endpoint: \"https://e.example.com/?***\"\n");
    AD_EXPECT_CONTAINS(out, "      sasl.oauthbearer.config: \"***\"\n");
    free(out);
    ad_config_free(&cfg);
}

static void test_print_io_error(void)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        return; /* not on this system */
    AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
    AD_EXPECT_INT(ad_config_print(&cfg, f), ==, AD_EIO);
    fclose(f);
    ad_config_free(&cfg);
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

        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dirpath, e->d_name);
        yaml = read_all(path, &ylen);
        AD_EXPECT(yaml != NULL);
        ad_config_free(&cfg);
        AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
        rc = ad_config_load_buffer(&cfg, e->d_name, yaml, ylen, err, sizeof(err));
        if (rc == 0)
            rc = ad_config_validate(&cfg, err, sizeof(err));
        snprintf(path + strlen(path) - 5, 5, ".err");
        if ((want = read_all(path, NULL)) != NULL) {
            want[strcspn(want, "\n")] = '\0';
            if (rc != AD_ECONFIG || strcmp(err, want))
                AD_FAIL_("%s: rc %d\n  got:  %s\n  want: %s", e->d_name, rc, err, want);
        } else {
            snprintf(path + strlen(path) - 4, 5, ".out");
            want = read_all(path, NULL);
            if (!want)
                AD_FAIL_("%s: neither .err nor .out", e->d_name);
            if (rc)
                AD_FAIL_("%s: %s", e->d_name, err);
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
    if (n->type != YAML_MAPPING_NODE || strcmp(prefix, "source.kafka.properties") == 0)
        return;
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
    if (n->type != YAML_MAPPING_NODE)
        return;
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
        if (!o || o->type == AD_OPT_BLOCK)
            check_help_comments(doc, vn, full, text);
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
        if (!eol)
            break;
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
    want.score = (struct ad_score_cfg){.threshold = 3.5,
                                       .min_samples = 12,
                                       .direction = AD_DIR_NEGATIVE,
                                       .learn_anomalies = true};
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
    if (!text)
        AD_FAIL_("cannot read %s", path);

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
        if (!found)
            AD_FAIL_("option %s is missing from config/anomalyd.yaml", opt[i].path);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);

    /* 3. docs/config.md has a row "| `path` | type | default | ... | help |"
     * for every option, and no row for a path that is not an option. */
    static const char *const type_names[] = {"string",   "secret", "bool", "int", "number",
                                             "duration", "enum",   "list", "map", "block"};
    snprintf(path, sizeof(path), "%s/../../docs/config.md", AD_TEST_DATA_DIR);
    docs = read_all(path, NULL);
    if (!docs)
        AD_FAIL_("cannot read %s", path);
    for (char *r = docs, *w = docs;; r++) { /* unescape "\|" of table cells */
        if (r[0] == '\\' && r[1] == '|')
            r++;
        if ((*w++ = *r) == '\0')
            break;
    }
    for (size_t i = 0; i < n; i++) {
        char row[256];
        snprintf(row, sizeof(row), "\n| `%s` | %s |", opt[i].path, type_names[opt[i].type]);
        const char *r = strstr(docs, row);
        if (!r)
            AD_FAIL_("docs/config.md has no row starting \"%s\"", row + 1);
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
    unset_config_env();
    AD_TEST_RUN(argc, argv, test_print_round_trip);
    AD_TEST_RUN(argc, argv, test_print_masks_urls);
    AD_TEST_RUN(argc, argv, test_print_io_error);
    AD_TEST_RUN(argc, argv, test_golden);
    AD_TEST_RUN(argc, argv, test_core_settings);
    AD_TEST_RUN(argc, argv, test_config_docs_in_step);
    return ad_test_done();
}
