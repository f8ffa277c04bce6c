/* ad_cmd.c - what the commands share: the help text, usage errors and the
 * parsing of command-line numbers. */
#include "ad_cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ad_err.h"

/* The pieces of the help: the global --help is all of them, each command's
 * --help its own usage line(s) and options. */
#define USAGE_SERVE                                                                                \
    "  anomalyd serve --listen HOST:PORT [-c FILE]  the Anomaly Detector REST API alone\n"         \
    "                                     (no Kafka; FILE optional: http.api keys and limits;\n"   \
    "                                     keys also from ANOMALYD_API_KEYS, comma-separated)\n"
#define USAGE_MODEL                                                                                \
    "  anomalyd model export -c FILE [--output PATH]   the models of state.dir (checkpoints\n"     \
    "                                     and evicted series) as M2 JSON lines (scenario C's\n"    \
    "                                     format); exits 1 while a daemon holds the store\n"       \
    "  anomalyd model import -c FILE PATH  seed state.dir with an M2 model file: series\n"         \
    "                                     without a checkpoint start from it\n"
#define OPTIONS_SIMULATE                                                                           \
    "simulate options:\n"                                                                          \
    "  --format sensor|iot|tweet   record format (scenario C, B, A)      [sensor]\n"               \
    "  --count N                   records to produce                    [10000]\n"                \
    "  --devices N                 distinct devices (keys)               [100]\n"                  \
    "  --seed N                    random seed                           [1]\n"                    \
    "  --interval DURATION         event time between a device's records [1s]\n"                   \
    "  --start RFC3339             event time of the first record        [2026-11-20T10:00:00Z]\n" \
    "  --anomaly-rate P            probability of an injected anomaly    [0.001]\n"                \
    "  --truth FILE                write the injected anomalies as JSON lines\n"                   \
    "  --output FILE|-             where records go                      [-]\n"                    \
    "  --brokers LIST              produce to Kafka instead (with --topic, --rate)\n"              \
    "  --topic NAME                the topic to produce to                [sensor-raw]\n"          \
    "  --rate N                    records per second when producing      [1000]\n"                \
    "  --output-format json|kcat   plain records, or kcat -J envelopes with the event\n"           \
    "                              time as timestamp and (iot) the device-id header\n"
#define OPTIONS_DEMO                                                                               \
    "demo options:\n"                                                                              \
    "  --rate N --devices N --seed N   simulator settings             [1000 100 1]\n"              \
    "  --duration DURATION             stop after this long           [until Ctrl-C]\n"            \
    "  --scenarios                     instead: scenarios A and B offline, recall and\n"           \
    "                                  precision of their example configs (the local\n"            \
    "                                  detector alone, then as configured)\n"                      \
    "  --remote confirm|always         with --scenarios: the remote mode of the second\n"          \
    "                                  view (the examples': always, endpoint: local)\n"
#define EXIT_CODES "exit codes: 0 clean stop, 78 bad config or usage, 1 fatal runtime error\n"

const char ad_cmd_usage[] =
    "usage:\n"
    "  anomalyd [-c FILE]                 run the daemon (default FILE: " AD_CMD_DEFAULT_CONFIG
    ")\n"
    "  anomalyd -c FILE --check-config    validate, print the effective config, run the\n"
    "                                     daemon's start checks; exit 0 or 78\n"
    "  anomalyd -c FILE --check-config --probe  also reach the brokers and the HTTP\n"
    "                                     endpoints (exit 1 when one does not answer)\n"
    "  anomalyd -c FILE --input PATH|-    offline replay of JSON lines; alerts to stdout\n"
    "  anomalyd -c FILE --set PATH=VALUE  override one config key (repeatable)\n"
    "  anomalyd demo                      the main job on an embedded default\n"
    "  anomalyd simulate [options]        simulated telemetry with injected anomalies\n" USAGE_SERVE
        USAGE_MODEL "  anomalyd --version | --help\n"
    "\n"
    "replay options:\n"
    "  --export-model PATH   write every series' lifetime model (M2 JSON lines) at the end\n"
    "  --input-format json|kcat  lines are records (json) or `kcat -C -J` envelopes\n"
    "                        carrying topic, partition, offset, timestamp and headers\n"
    "  --scores PATH|-       every scored point, in input order, one row each: key, metric,\n"
    "                        time, value, expected, lower, upper, score, is_anomaly, kind\n"
    "                        (with -, alerts go only to the configured sinks)\n"
    "  --scores-format jsonl|csv  (default jsonl)\n"
    "  --report FILE.html    a self-contained HTML report: summary, alerts table, a chart\n"
    "                        per flagged series (docs/report.md)\n"
    "  --report-series N     charts in the report, most alerts first (default 20)\n"
    "  --max-rejected F      exit 1 when more than this fraction (0..1) of the records\n"
    "                        is rejected (default: no limit)\n"
    "\n" OPTIONS_SIMULATE "\n" OPTIONS_DEMO "\n" EXIT_CODES;

const char ad_cmd_usage_simulate[] =
    "usage: anomalyd simulate [options]   simulated telemetry with injected anomalies\n"
    "\n" OPTIONS_SIMULATE "\n" EXIT_CODES;

const char ad_cmd_usage_demo[] =
    "usage: anomalyd demo [options]   the simulator feeding the main job on an embedded\n"
    "                                 default config (scenario C), until Ctrl-C\n"
    "\n" OPTIONS_DEMO "\n" EXIT_CODES;

const char ad_cmd_usage_serve[] = "usage:\n" USAGE_SERVE "\n" EXIT_CODES;

const char ad_cmd_usage_model[] =
    "usage:\n" USAGE_MODEL "\n"
    "options:\n"
    "  -c, --config FILE   the config whose state.dir holds the models\n"
    "  --set PATH=VALUE    override one config key (repeatable)\n"
    "  --output PATH       (export) where the models go   [stdout]\n"
    "\n" EXIT_CODES;

int ad_cmd_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "anomalyd: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see anomalyd --help)\n");
    return AD_CONFIG_EXIT;
}

int ad_cmd_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return AD_EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return AD_EINVAL;
    *out = v;
    return 0;
}

int ad_cmd_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || v != v)
        return AD_EINVAL;
    *out = v;
    return 0;
}
