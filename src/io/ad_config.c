/* ad_config.c - the configuration: YAML (libyaml's document API) applied
 * through one option table.
 *
 * Every way of setting a value goes through the same code: a file is parsed
 * into a node tree and its root mapping is applied as the section "", a
 * --set PATH=VALUE parses VALUE as a YAML document and applies its root at
 * PATH, and ad_config_init() applies each option's default text the same
 * way. Scalars are text: ${VAR} references are expanded, then the text is
 * converted by the option's type and checked against its bounds. The first
 * error stops the load and is reported as "file:line:col key.path: reason".
 *
 * Ownership: the config owns every string and list; a value is built in full
 * before it replaces (and frees) the old one, so a failed load leaves a valid
 * config behind. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup, strndup, strerror_r */
#endif

#include "ad_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "ad_buf.h"
#include "ad_err.h"

#define US   INT64_C(1)
#define MS   (1000 * US)
#define SEC  (1000 * MS)
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

#define MAX_ITEMS 256 /* entries of any list or property map: bounds alias fan-out */
#define MAX_DEPTH 8   /* path components; the table uses at most 4 */

/* ------------------------------------------------------------------------ */
/* The option table                                                          */

static const char *const start_names[] = {"earliest", "latest", NULL};
static const char *const time_format_names[] = {"auto",     "epoch_s", "epoch_ms",
                                                "epoch_us", "rfc3339", NULL};
static const char *const agg_names[] = {"mean", "min", "max", "sum", "count", "last", NULL};
static const char *const scope_names[] = {"lifetime", "window", NULL};
static const char *const direction_names[] = {"both", "positive", "negative", NULL};
static const char *const mode_names[] = {"off", "confirm", "always", NULL};
static const char *const api_version_names[] = {"v1.0", "v1.1", NULL};
static const char *const granularity_names[] = {"yearly", "monthly",  "weekly",   "daily",
                                                "hourly", "minutely", "secondly", "microsecond",
                                                "none",   NULL};
static const char *const log_level_names[] = {"error", "warn", "info", "debug", NULL};

#define OFF(f) offsetof(struct ad_config, f)

/* Sections must be contiguous and in the order of the printed layout: the
 * printer opens and closes mapping levels as it walks the rows. */
static const struct ad_option options[] = {
    {"source.kafka.brokers", AD_OPT_STRING, OFF(kafka.brokers), "${KAFKA_BROKERS:-localhost:9092}",
     0, 0, NULL, "bootstrap servers, host:port[,host:port...]", 0},
    {"source.kafka.topics", AD_OPT_STRLIST, OFF(kafka.topics), "[sensor-raw]", 1, MAX_ITEMS, NULL,
     "topics to consume", AD_OPT_F_NONEMPTY},
    {"source.kafka.group", AD_OPT_STRING, OFF(kafka.group), "anomalyd", 0, 0, NULL,
     "consumer group id", AD_OPT_F_NONEMPTY},
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
     "service URL, e.g. https://NAME.cognitiveservices.azure.com", 0},
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
    {"remote.anomaly_detector.breaker_threshold", AD_OPT_INT, OFF(remote.breaker_threshold), "5",
     1, 1000, NULL, "consecutive failures that open the circuit breaker", 0},
    {"remote.anomaly_detector.breaker_cooldown", AD_OPT_DURATION, OFF(remote.breaker_cooldown_us),
     "30s", (double)MS, (double)HOUR, NULL, "how long an open breaker waits before a probe", 0},

    {"sinks.kafka.topic", AD_OPT_STRING, OFF(sinks.kafka_topic), "anomalies", 0, 0, NULL,
     "alert output topic; \"\" disables", 0},
    {"sinks.alert_log.path", AD_OPT_STRING, OFF(sinks.alert_log_path),
     "/var/log/anomalyd/alerts.jsonl", 0, 0, NULL,
     "JSON lines file, reopened on SIGHUP; \"\" disables", 0},
    {"sinks.webhook.url", AD_OPT_STRING, OFF(sinks.webhook_url), "", 0, 0, NULL,
     "http(s) URL that gets flagged windows as batched JSON rows; \"\" disables", 0},
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
    {"sinks.dead_letter.topic", AD_OPT_STRING, OFF(sinks.dead_letter_topic), "", 0, 0, NULL,
     "topic for undecodable and late records; \"\" disables", 0},

    {"http.listen", AD_OPT_STRING, OFF(http_listen), "127.0.0.1:9464", 0, 0, NULL,
     "host:port of /metrics, /healthz, /readyz; \"\" disables", 0},

    {"state.dir", AD_OPT_STRING, OFF(state_dir), "/var/lib/anomalyd", 0, 0, NULL,
     "checkpoint directory; \"\" disables checkpoints", 0},
    {"state.checkpoint_interval", AD_OPT_DURATION, OFF(checkpoint_interval_us), "10s",
     (double)(100 * MS), (double)DAY, NULL, "time between checkpoints", 0},
    {"state.checkpoint_fork", AD_OPT_BOOL, OFF(checkpoint_fork), "false", 0, 0, NULL,
     "serialize checkpoints in a forked child instead of on the loop", 0},
    {"state.topic", AD_OPT_STRING, OFF(state_topic), "", 0, 0, NULL,
     "compacted topic that also keeps series state, for scale-out; \"\" disables", 0},

    {"limits.max_message_bytes", AD_OPT_INT, OFF(max_message_bytes), "1048576", 64,
     64.0 * 1024 * 1024, NULL, "largest record accepted", 0},
    {"limits.max_series", AD_OPT_INT, OFF(max_series), "1000000", 1, 1e8, NULL,
     "most (key, metric) series held at once", 0},
    {"limits.max_key_bytes", AD_OPT_INT, OFF(max_key_bytes), "256", 1, 1024, NULL,
     "longest series key accepted", 0},

    {"log.level", AD_OPT_ENUM, OFF(log_level), "info", 0, 0, log_level_names,
     "error | warn | info | debug", 0},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

const struct ad_option *ad_config_options(size_t *count)
{
    if (count) *count = NOPTIONS;
    return options;
}

const struct ad_option *ad_config_option_find(const char *path)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].path, path) == 0) return &options[i];
    return NULL;
}

/* True when s starts with prefix followed by '.' (prefix "" matches all). */
static bool path_under(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 0) return true;
    return strncmp(s, prefix, n) == 0 && s[n] == '.';
}

/* A section is a path with options below it ("source.kafka"), not an option. */
static bool is_section(const char *path)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (path_under(options[i].path, path)) return true;
    return false;
}

static void *field_of(struct ad_config *cfg, const struct ad_option *o)
{
    return (char *)cfg + o->offset;
}

static const void *cfield_of(const struct ad_config *cfg, const struct ad_option *o)
{
    return (const char *)cfg + o->offset;
}

/* ------------------------------------------------------------------------ */
/* Origins: where each option was last set                                   */

struct origin_pos {
    const char *src; /* NULL: defaulted */
    unsigned long line, col;
};

struct ad_config_origin {
    char **names; /* interned source names, owned */
    size_t nnames;
    struct origin_pos pos[NOPTIONS];
};

/* Returns the interned copy of name, owned by the origin, or NULL (ENOMEM). */
static const char *origin_name(struct ad_config *cfg, const char *name)
{
    struct ad_config_origin *o = cfg->origin_;
    for (size_t i = 0; i < o->nnames; i++)
        if (strcmp(o->names[i], name) == 0) return o->names[i];
    char **nn = realloc(o->names, (o->nnames + 1) * sizeof(*nn));
    if (!nn) return NULL;
    o->names = nn;
    if (!(nn[o->nnames] = strdup(name))) return NULL;
    return nn[o->nnames++];
}

bool ad_config_is_set(const struct ad_config *cfg, const char *path)
{
    const struct ad_option *o = ad_config_option_find(path);
    return o && cfg->origin_ && cfg->origin_->pos[o - options].src != NULL;
}

/* ------------------------------------------------------------------------ */
/* Durations                                                                 */

int ad_duration_parse(const char *s, int64_t *out_us)
{
    int64_t total = 0;
    const char *p = s;

    if (!s || !*s) return AD_EPARSE;
    if (strcmp(s, "0") == 0) {
        *out_us = 0;
        return 0;
    }
    while (*p) {
        char *end;
        long long n;
        int64_t mul;

        if (!isdigit((unsigned char)*p)) return AD_EPARSE;
        errno = 0;
        n = strtoll(p, &end, 10);
        if (errno == ERANGE) return AD_ERANGE;
        p = end;
        if (p[0] == 'u' && p[1] == 's')
            mul = US, p += 2;
        else if (p[0] == 'm' && p[1] == 's')
            mul = MS, p += 2;
        else if (p[0] == 's')
            mul = SEC, p++;
        else if (p[0] == 'm')
            mul = MIN, p++;
        else if (p[0] == 'h')
            mul = HOUR, p++;
        else if (p[0] == 'd')
            mul = DAY, p++;
        else
            return AD_EPARSE;
        if (n > INT64_MAX / mul || n * mul > INT64_MAX - total) return AD_ERANGE;
        total += n * mul;
    }
    *out_us = total;
    return 0;
}

/* The compact form, largest unit first; days only when asked (the bounds in
 * error messages read "30d", printed configs "720h" as Go prints them). */
static size_t duration_fmt(int64_t us, char *buf, bool days)
{
    static const struct {
        const char *name;
        int64_t us;
    } units[] = {{"d", DAY}, {"h", HOUR}, {"m", MIN}, {"s", SEC}, {"ms", MS}, {"us", US}};
    size_t n = 0;
    uint64_t u;

    if (us == 0) {
        memcpy(buf, "0", 2);
        return 1;
    }
    if (us < 0) {
        buf[n++] = '-';
        u = (uint64_t)0 - (uint64_t)us;
    } else {
        u = (uint64_t)us;
    }
    buf[n] = '\0';
    for (size_t i = days ? 0 : 1; i < sizeof(units) / sizeof(units[0]); i++) {
        uint64_t q = u / (uint64_t)units[i].us;
        if (q == 0) continue;
        u %= (uint64_t)units[i].us;
        int w = snprintf(buf + n, AD_DURATION_STRLEN - n, "%" PRIu64 "%s", q, units[i].name);
        if (w > 0 && (size_t)w < AD_DURATION_STRLEN - n) n += (size_t)w;
    }
    return n;
}

size_t ad_duration_format(int64_t us, char *buf)
{
    return duration_fmt(us, buf, false);
}

/* ------------------------------------------------------------------------ */
/* ${VAR} expansion                                                          */

/* Expands s[0..len) into out (reset first, capped by out->max). "$$" is a
 * literal '$', a '$' before anything but '$' or '{' is kept as is. Returns
 * 0, AD_ENOMEM, or AD_ECONFIG with the reason in why. */
static int expand_env(const char *s, size_t len, struct ad_buf *out, char *why, size_t whylen)
{
    size_t i = 0;
    int rc = 0;

    ad_buf_reset(out);
    while (rc == 0 && i < len) {
        const char *d = memchr(s + i, '$', len - i);
        size_t lit = d ? (size_t)(d - (s + i)) : len - i;

        if ((rc = ad_buf_add(out, s + i, lit)) != 0 || !d) break;
        i += lit;
        if (i + 1 < len && s[i + 1] == '$') {
            rc = ad_buf_addc(out, '$');
            i += 2;
            continue;
        }
        if (i + 1 >= len || s[i + 1] != '{') {
            rc = ad_buf_addc(out, '$');
            i++;
            continue;
        }
        /* ${NAME} or ${NAME:-default}; the default runs to the first '}'. */
        const char *ref = s + i, *close = memchr(ref, '}', len - i);
        size_t nl = 0, reflen = close ? (size_t)(close - ref) + 1 : len - i;
        char name[256];

        while (ref + 2 + nl < s + len &&
               (isalnum((unsigned char)ref[2 + nl]) || ref[2 + nl] == '_'))
            nl++;
        if (!close || nl == 0 || isdigit((unsigned char)ref[2]) || nl >= sizeof(name) ||
            (ref[2 + nl] != '}' && (ref[2 + nl] != ':' || ref[3 + nl] != '-'))) {
            snprintf(why, whylen, "malformed variable reference \"%.*s\"%s",
                     (int)(reflen > 40 ? 40 : reflen), ref,
                     close ? " (use ${NAME} or ${NAME:-default})" : " (missing '}')");
            return AD_ECONFIG;
        }
        memcpy(name, ref + 2, nl);
        name[nl] = '\0';
        const char *val = getenv(name);
        if (ref[2 + nl] == ':') {
            if (!val || !*val) {
                val = ref + 4 + nl;
                rc = ad_buf_add(out, val, (size_t)(close - val));
                val = NULL;
            }
        } else if (!val) {
            snprintf(why, whylen, "environment variable %s is not set", name);
            return AD_ECONFIG;
        }
        if (rc == 0 && val) rc = ad_buf_adds(out, val);
        i += reflen;
    }
    if (rc == AD_ELIMIT) {
        snprintf(why, whylen, "value longer than %d bytes after expansion", AD_CONFIG_MAX_SCALAR);
        return AD_ECONFIG;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The loader                                                                */

struct pos {
    unsigned long line, col;
};

struct ld {
    struct ad_config *cfg;
    yaml_document_t *doc;
    const char *src;    /* file name in messages and origins */
    size_t col_off;     /* added to the columns of line 1: the VALUE of --set PATH=VALUE */
    bool user;          /* false while applying defaults: no origins, no implied blocks */
    struct ad_buf text; /* expanded scalar */
    char *err;
    size_t errlen;
};

/* A null document root: an empty file or an empty --set VALUE. */
static yaml_char_t empty_text[1];
static yaml_node_t null_node = {
    .type = YAML_SCALAR_NODE,
    .data.scalar = {.value = empty_text, .length = 0, .style = YAML_PLAIN_SCALAR_STYLE}};

static struct pos ld_pos(const struct ld *L, yaml_mark_t m)
{
    struct pos p = {(unsigned long)m.line + 1,
                    (unsigned long)m.column + 1 + (m.line == 0 ? L->col_off : 0)};
    return p;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
ld_fail(struct ld *L, struct pos p, const char *path, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (L->errlen == 0) return AD_ECONFIG;
    if (path && *path)
        snprintf(L->err, L->errlen, "%s:%lu:%lu %s: %s", L->src, p.line, p.col, path, why);
    else
        snprintf(L->err, L->errlen, "%s:%lu:%lu: %s", L->src, p.line, p.col, why);
    return AD_ECONFIG;
}

static int ld_oom(struct ld *L)
{
    if (L->errlen) snprintf(L->err, L->errlen, "%s: out of memory", L->src);
    return AD_ENOMEM;
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

static const char *opt_kind(const struct ad_option *o)
{
    switch (o->type) {
    case AD_OPT_BOOL:
        return "a boolean";
    case AD_OPT_INT:
        return "an integer";
    case AD_OPT_DOUBLE:
        return "a number";
    case AD_OPT_DURATION:
        return "a duration";
    case AD_OPT_STRLIST:
        return "a list";
    case AD_OPT_KVLIST:
    case AD_OPT_BLOCK:
        return "a mapping";
    default:
        return "a string";
    }
}

/* A plain ~, null, Null, NULL or empty scalar. Quoted scalars are never null. */
static bool is_null(const yaml_node_t *n)
{
    static const char *const words[] = {"", "~", "null", "Null", "NULL"};
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (n->data.scalar.length == strlen(words[i]) &&
            memcmp(n->data.scalar.value, words[i], n->data.scalar.length) == 0)
            return true;
    return false;
}

/* The text of scalar n after ${VAR} expansion, in L->text (valid until the
 * next call); a null is "". Fails with the position of n. */
static int scalar_text(struct ld *L, const yaml_node_t *n, const char *path, const char **out)
{
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    char why[320];
    int rc;

    if (is_null(n)) {
        *out = "";
        return 0;
    }
    if (memchr(v, '\0', len))
        return ld_fail(L, ld_pos(L, n->start_mark), path, "value contains a NUL byte");
    rc = expand_env(v, len, &L->text, why, sizeof(why));
    if (rc == AD_ENOMEM) return ld_oom(L);
    if (rc) return ld_fail(L, ld_pos(L, n->start_mark), path, "%s", why);
    *out = L->text.p ? L->text.p : "";
    return 0;
}

static yaml_node_t *ld_node(struct ld *L, int id)
{
    yaml_node_t *n = yaml_document_get_node(L->doc, id);
    return n ? n : &null_node;
}

static int enum_index(const char *const *names, const char *s)
{
    for (int i = 0; names && names[i]; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

static void enum_list(const char *const *names, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && n < len; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", i ? " | " : "", names[i]);
        n += w > 0 ? (size_t)w : 0;
    }
}

/* Shortest text that reads back as x; integral values without exponent. */
static void fmt_number(double x, char *buf, size_t len)
{
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, len, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
}

/* "2..16", "1ms..30d", "above 0, up to 0.49". */
static void range_text(const struct ad_option *o, char *buf, size_t len)
{
    char a[AD_DURATION_STRLEN], b[AD_DURATION_STRLEN];
    if (o->type == AD_OPT_DURATION) {
        duration_fmt((int64_t)o->min, a, true);
        duration_fmt((int64_t)o->max, b, true);
    } else {
        fmt_number(o->min, a, sizeof(a));
        fmt_number(o->max, b, sizeof(b));
    }
    if (o->flags & AD_OPT_F_MIN_EXCL)
        snprintf(buf, len, "above %s, up to %s", a, b);
    else
        snprintf(buf, len, "%s..%s", a, b);
}

static bool in_range(const struct ad_option *o, double x)
{
    if (o->flags & AD_OPT_F_MIN_EXCL ? x <= o->min : x < o->min) return false;
    return x <= o->max;
}

union val {
    char *s;
    bool b;
    int64_t i;
    double d;
    int e;
};

/* Converts the text of a scalar option. Returns 0 (v->s is then owned by the
 * caller), AD_ENOMEM, or AD_ECONFIG with the reason in why. */
static int convert(const struct ad_option *o, const char *s, union val *v, char *why, size_t wl)
{
    char r[160];
    char *end;

    switch (o->type) {
    case AD_OPT_STRING:
    case AD_OPT_SECRET:
        if ((o->flags & AD_OPT_F_NONEMPTY) && !*s) {
            snprintf(why, wl, "must not be empty");
            return AD_ECONFIG;
        }
        if (o->enum_names && enum_index(o->enum_names, s) < 0) {
            enum_list(o->enum_names, r, sizeof(r));
            snprintf(why, wl, "invalid value \"%.64s\" (expected %s)", s, r);
            return AD_ECONFIG;
        }
        return (v->s = strdup(s)) ? 0 : AD_ENOMEM;
    case AD_OPT_BOOL:
        if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
            v->b = true;
        else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
            v->b = false;
        else {
            snprintf(why, wl, "expected a boolean (true/false/yes/no/on/off), got \"%.64s\"", s);
            return AD_ECONFIG;
        }
        return 0;
    case AD_OPT_ENUM:
        if ((v->e = enum_index(o->enum_names, s)) < 0) {
            enum_list(o->enum_names, r, sizeof(r));
            snprintf(why, wl, "invalid value \"%.64s\" (expected %s)", s, r);
            return AD_ECONFIG;
        }
        return 0;
    case AD_OPT_INT: {
        const char *d = s + (*s == '-' || *s == '+');
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (!isdigit((unsigned char)*d) || *end) {
            snprintf(why, wl, "expected an integer, got \"%.64s\"", s);
            return AD_ECONFIG;
        }
        if (errno == ERANGE || !in_range(o, (double)x)) {
            range_text(o, r, sizeof(r));
            snprintf(why, wl, "value out of range (%s)", r);
            return AD_ECONFIG;
        }
        v->i = x;
        return 0;
    }
    case AD_OPT_DOUBLE: {
        errno = 0;
        double x = strtod(s, &end);
        if (!*s || s[strspn(s, "0123456789+-.eE")] || *end || end == s) {
            snprintf(why, wl, "expected a number, got \"%.64s\"", s);
            return AD_ECONFIG;
        }
        if (!isfinite(x) || (errno == ERANGE && fabs(x) > 1) || !in_range(o, x)) {
            range_text(o, r, sizeof(r));
            snprintf(why, wl, "value out of range (%s)", r);
            return AD_ECONFIG;
        }
        v->d = x;
        return 0;
    }
    case AD_OPT_DURATION: {
        int64_t us;
        int rc = ad_duration_parse(s, &us);
        if (rc == AD_EPARSE) {
            snprintf(why, wl,
                     "invalid duration \"%.64s\" (e.g. 500ms, 10s, 1h30m; units us ms s m h d)", s);
            return AD_ECONFIG;
        }
        if (rc || !in_range(o, (double)us)) {
            range_text(o, r, sizeof(r));
            snprintf(why, wl, "duration out of range (%s)", r);
            return AD_ECONFIG;
        }
        v->i = us;
        return 0;
    }
    default:
        snprintf(why, wl, "not a scalar option");
        return AD_ECONFIG;
    }
}

/* Replaces the value of a scalar option, taking ownership of v->s. */
static void store(struct ad_config *cfg, const struct ad_option *o, const union val *v)
{
    void *f = field_of(cfg, o);
    switch (o->type) {
    case AD_OPT_STRING:
    case AD_OPT_SECRET:
        free(*(char **)f);
        *(char **)f = v->s;
        break;
    case AD_OPT_BOOL:
        *(bool *)f = v->b;
        break;
    case AD_OPT_INT:
    case AD_OPT_DURATION:
        *(int64_t *)f = v->i;
        break;
    case AD_OPT_DOUBLE:
        *(double *)f = v->d;
        break;
    case AD_OPT_ENUM:
        *(int *)f = v->e;
        break;
    default:
        break;
    }
}

static void strlist_free(struct ad_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void kvlist_free(struct ad_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->k[i]);
        free(l->v[i]);
    }
    free(l->k);
    free(l->v);
    l->k = l->v = NULL;
    l->n = 0;
}

/* Sets (or replaces) one entry; takes nothing, copies k and v. */
static int kvlist_put(struct ad_kvlist *l, const char *k, const char *v)
{
    char *vv = strdup(v), *kk = NULL, **nk, **nv;
    size_t i;

    if (!vv) return AD_ENOMEM;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->k[i], k) == 0) {
            free(l->v[i]);
            l->v[i] = vv;
            return 0;
        }
    if (l->n >= MAX_ITEMS || !(kk = strdup(k))) goto fail;
    if (!(nk = realloc(l->k, (l->n + 1) * sizeof(*nk)))) goto fail;
    l->k = nk;
    if (!(nv = realloc(l->v, (l->n + 1) * sizeof(*nv)))) goto fail;
    l->v = nv;
    l->k[l->n] = kk;
    l->v[l->n++] = vv;
    return 0;
fail:
    free(kk);
    free(vv);
    return l->n >= MAX_ITEMS ? AD_ELIMIT : AD_ENOMEM;
}

/* Records that option o was set at p, and opens the optional blocks above it
 * (a block that was absent now starts at p). Not for defaults. */
static void mark_set(struct ld *L, const struct ad_option *o, struct pos p)
{
    struct origin_pos *pos = L->cfg->origin_->pos;
    if (!L->user) return;
    for (size_t i = 0; i < NOPTIONS; i++) {
        bool *present = field_of(L->cfg, &options[i]);
        if (options[i].type != AD_OPT_BLOCK || !path_under(o->path, options[i].path) || *present)
            continue;
        *present = true;
        pos[i] = (struct origin_pos){L->src, p.line, p.col};
    }
    pos[o - options] = (struct origin_pos){L->src, p.line, p.col};
}

static int apply_section(struct ld *L, const char *path, yaml_node_t *n);

static int apply_scalar(struct ld *L, const struct ad_option *o, yaml_node_t *n)
{
    struct pos vp = ld_pos(L, n->start_mark);
    const char *s;
    union val v;
    char why[320];
    int rc;

    if (n->type != YAML_SCALAR_NODE)
        return ld_fail(L, vp, o->path, "expected %s, got %s", opt_kind(o), node_kind(n));
    if (is_null(n) && o->type != AD_OPT_STRING && o->type != AD_OPT_SECRET)
        return ld_fail(L, vp, o->path, "missing value (expected %s)", opt_kind(o));
    if ((rc = scalar_text(L, n, o->path, &s)) != 0) return rc;
    rc = convert(o, s, &v, why, sizeof(why));
    if (rc == AD_ENOMEM) return ld_oom(L);
    if (rc) return ld_fail(L, vp, o->path, "%s", why);
    store(L->cfg, o, &v);
    return 0;
}

/* A list of strings: a sequence of scalars, or null for the empty list. */
static int apply_strlist(struct ld *L, const struct ad_option *o, yaml_node_t *n)
{
    struct ad_strlist nl = {0, NULL}, *cur = field_of(L->cfg, o);
    size_t count = 0;
    int rc = 0;

    if (!is_null(n)) {
        if (n->type != YAML_SEQUENCE_NODE)
            return ld_fail(L, ld_pos(L, n->start_mark), o->path, "expected a list, got %s",
                           node_kind(n));
        count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    }
    if ((double)count < o->min || (double)count > o->max)
        return ld_fail(L, ld_pos(L, n->start_mark), o->path, "expected %.0f..%.0f items, got %zu",
                       o->min, o->max, count);
    if (count && !(nl.v = calloc(count, sizeof(*nl.v)))) return ld_oom(L);
    for (size_t i = 0; i < count && rc == 0; i++) {
        yaml_node_t *it = ld_node(L, n->data.sequence.items.start[i]);
        struct pos ip = ld_pos(L, it->start_mark);
        const char *s;

        if (it->type != YAML_SCALAR_NODE)
            rc = ld_fail(L, ip, o->path, "item %zu: expected a string, got %s", i + 1,
                         node_kind(it));
        else if ((rc = scalar_text(L, it, o->path, &s)) != 0)
            break;
        else if ((o->flags & AD_OPT_F_NONEMPTY) && !*s)
            rc = ld_fail(L, ip, o->path, "item %zu must not be empty", i + 1);
        else if (!(nl.v[nl.n++] = strdup(s)))
            rc = ld_oom(L);
    }
    if (rc) {
        strlist_free(&nl);
        return rc;
    }
    strlist_free(cur);
    *cur = nl;
    return 0;
}

/* librdkafka's property names are ASCII words; ours are printable ASCII
 * without blanks, which also keeps them printable as YAML keys. */
#define PROP_NAME_RULE "property names must be 1..%d printable ASCII characters, no blanks"
static bool prop_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > AD_CONFIG_MAX_PROP_NAME) return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] > '~') return false;
    return true;
}

/* A map of property names to scalars (names are not expanded), or null. */
static int apply_kvlist(struct ld *L, const struct ad_option *o, yaml_node_t *n)
{
    struct ad_kvlist nl = {0, NULL, NULL}, *cur = field_of(L->cfg, o);
    size_t count = 0;
    int rc = 0;

    if (!is_null(n)) {
        if (n->type != YAML_MAPPING_NODE)
            return ld_fail(L, ld_pos(L, n->start_mark), o->path, "expected a mapping, got %s",
                           node_kind(n));
        count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    }
    if ((double)count > o->max)
        return ld_fail(L, ld_pos(L, n->start_mark), o->path, "too many entries (max %.0f)", o->max);
    if (count &&
        (!(nl.k = calloc(count, sizeof(*nl.k))) || !(nl.v = calloc(count, sizeof(*nl.v))))) {
        kvlist_free(&nl);
        return ld_oom(L);
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        yaml_node_t *k = ld_node(L, n->data.mapping.pairs.start[i].key);
        yaml_node_t *v = ld_node(L, n->data.mapping.pairs.start[i].value);
        struct pos kp = ld_pos(L, k->start_mark);
        const char *ks = (const char *)k->data.scalar.value, *s;
        size_t kl = k->data.scalar.length;
        char path[AD_CONFIG_MAX_PROP_NAME + 64];

        if (k->type != YAML_SCALAR_NODE || !prop_name_ok(ks, kl)) {
            rc = ld_fail(L, kp, o->path, PROP_NAME_RULE, AD_CONFIG_MAX_PROP_NAME);
            break;
        }
        snprintf(path, sizeof(path), "%s.%.*s", o->path, (int)kl, ks);
        for (size_t j = 0; j < nl.n; j++)
            if (strlen(nl.k[j]) == kl && memcmp(nl.k[j], ks, kl) == 0)
                rc = ld_fail(L, kp, path, "duplicate key");
        if (rc) break;
        if (v->type != YAML_SCALAR_NODE)
            rc = ld_fail(L, ld_pos(L, v->start_mark), path, "expected a scalar, got %s",
                         node_kind(v));
        else if ((rc = scalar_text(L, v, path, &s)) != 0)
            break;
        else if (!(nl.k[nl.n] = strndup(ks, kl)) || !(nl.v[nl.n++] = strdup(s)))
            rc = ld_oom(L);
    }
    if (rc) {
        kvlist_free(&nl);
        return rc;
    }
    kvlist_free(cur);
    *cur = nl;
    return 0;
}

/* Applies node n to option o; kp is where its key is (its origin). */
static int apply_option(struct ld *L, const struct ad_option *o, struct pos kp, yaml_node_t *n)
{
    int rc;

    switch (o->type) {
    case AD_OPT_BLOCK:
        if (is_null(n)) {
            *(bool *)field_of(L->cfg, o) = false;
            rc = 0;
        } else if (n->type != YAML_MAPPING_NODE) {
            rc = ld_fail(L, ld_pos(L, n->start_mark), o->path, "expected a mapping, got %s",
                         node_kind(n));
        } else {
            *(bool *)field_of(L->cfg, o) = true;
            rc = apply_section(L, o->path, n);
        }
        break;
    case AD_OPT_STRLIST:
        rc = apply_strlist(L, o, n);
        break;
    case AD_OPT_KVLIST:
        rc = apply_kvlist(L, o, n);
        break;
    default:
        rc = apply_scalar(L, o, n);
        break;
    }
    if (rc == 0) mark_set(L, o, kp);
    return rc;
}

/* Applies n at path: an option, or a section whose keys are applied in turn. */
static int apply_node(struct ld *L, const char *path, struct pos kp, yaml_node_t *n)
{
    const struct ad_option *o = ad_config_option_find(path);
    if (o) return apply_option(L, o, kp, n);
    if (is_section(path)) return apply_section(L, path, n);
    return ld_fail(L, kp, path, "unknown key");
}

/* Applies a mapping of keys below path. Keys are plain names: no dots, no
 * duplicates. A null is an empty section. Recursion is bounded because every
 * level must be a known, longer path (aliases may form cycles). */
static int apply_section(struct ld *L, const char *path, yaml_node_t *n)
{
    if (is_null(n)) return 0;
    if (n->type != YAML_MAPPING_NODE)
        return ld_fail(L, ld_pos(L, n->start_mark), path,
                       *path ? "expected a mapping, got %s"
                             : "the top level must be a mapping, got %s",
                       node_kind(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ld_node(L, p->key);
        struct pos kp = ld_pos(L, k->start_mark);
        const char *ks = (const char *)k->data.scalar.value;
        size_t kl = k->data.scalar.length;
        char full[128];
        int rc;

        if (k->type != YAML_SCALAR_NODE)
            return ld_fail(L, kp, path, "keys must be scalars, got %s", node_kind(k));
        int w = snprintf(full, sizeof(full), "%s%s%.*s", path, *path ? "." : "",
                         (int)(kl > 64 ? 64 : kl), ks);
        if (memchr(ks, '.', kl))
            return ld_fail(L, kp, full,
                           "unknown key (dotted keys are not supported: nest "
                           "mappings instead)");
        if (kl == 0 || kl > 64 || memchr(ks, '\0', kl) || w < 0 || (size_t)w >= sizeof(full))
            return ld_fail(L, kp, full, "unknown key");
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = ld_node(L, q->key);
            if (qk->data.scalar.length == kl && memcmp(qk->data.scalar.value, ks, kl) == 0)
                return ld_fail(L, kp, full, "duplicate key (first at line %lu)",
                               ld_pos(L, qk->start_mark).line);
        }
        if ((rc = apply_node(L, full, kp, ld_node(L, p->value))) != 0) return rc;
    }
    return 0;
}

/* Reports a libyaml parse failure. Reader errors (bad UTF-8, control
 * characters) carry a byte offset instead of a mark. */
static int yaml_fail(struct ld *L, const yaml_parser_t *p, const char *text, size_t len)
{
    yaml_mark_t m = p->problem_mark;
    const char *problem = p->problem ? p->problem : "syntax error";

    if (p->error == YAML_MEMORY_ERROR) return ld_oom(L);
    if (p->error == YAML_READER_ERROR) {
        memset(&m, 0, sizeof(m));
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n')
                m.line++, m.column = 0;
            else
                m.column++;
        }
    }
    if (p->context)
        return ld_fail(L, ld_pos(L, m), NULL, "YAML syntax error: %s %s", problem, p->context);
    return ld_fail(L, ld_pos(L, m), NULL, "YAML syntax error: %s", problem);
}

/* Parses text as exactly one YAML document into *doc (the caller deletes it
 * on success). Returns 0, AD_ENOMEM or AD_ECONFIG. */
static int ld_parse(struct ld *L, const char *text, size_t len, yaml_document_t *doc)
{
    yaml_parser_t parser;
    yaml_document_t more;
    int rc = 0;

    if (!yaml_parser_initialize(&parser)) return ld_oom(L);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        rc = yaml_fail(L, &parser, text, len);
        yaml_parser_delete(&parser);
        return rc;
    }
    if (yaml_document_get_root_node(doc)) {
        if (!yaml_parser_load(&parser, &more)) {
            rc = yaml_fail(L, &parser, text, len);
        } else {
            if (yaml_document_get_root_node(&more))
                rc = ld_fail(L, ld_pos(L, more.start_mark), NULL,
                             "more than one YAML document (only one is allowed)");
            yaml_document_delete(&more);
        }
    }
    yaml_parser_delete(&parser);
    if (rc) yaml_document_delete(doc);
    return rc;
}

static yaml_node_t *ld_root(yaml_document_t *doc)
{
    yaml_node_t *r = yaml_document_get_root_node(doc);
    return r ? r : &null_node;
}

static void ld_init(struct ld *L, struct ad_config *cfg, const char *src, char *err, size_t errlen)
{
    memset(L, 0, sizeof(*L));
    L->cfg = cfg;
    L->src = src;
    L->user = true;
    L->err = err;
    L->errlen = err ? errlen : 0;
    ad_buf_init(&L->text, AD_CONFIG_MAX_SCALAR);
    if (L->errlen) err[0] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Public entry points                                                       */

void ad_config_free(struct ad_config *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < NOPTIONS; i++) {
        void *f = field_of(cfg, &options[i]);
        switch (options[i].type) {
        case AD_OPT_STRING:
        case AD_OPT_SECRET:
            free(*(char **)f);
            break;
        case AD_OPT_STRLIST:
            strlist_free(f);
            break;
        case AD_OPT_KVLIST:
            kvlist_free(f);
            break;
        default:
            break;
        }
    }
    if (cfg->origin_) {
        for (size_t i = 0; i < cfg->origin_->nnames; i++)
            free(cfg->origin_->names[i]);
        free(cfg->origin_->names);
        free(cfg->origin_);
    }
    free(cfg->source_name_);
    memset(cfg, 0, sizeof(*cfg));
}

int ad_config_init(struct ad_config *cfg)
{
    struct ld L;
    char err[256];
    int rc = 0;

    memset(cfg, 0, sizeof(*cfg));
    if (!(cfg->origin_ = calloc(1, sizeof(*cfg->origin_)))) return AD_ENOMEM;
    ld_init(&L, cfg, "default", err, sizeof(err));
    L.user = false;
    for (size_t i = 0; i < NOPTIONS && rc == 0; i++) {
        const struct ad_option *o = &options[i];
        yaml_document_t doc;
        struct pos p = {1, 1};

        if (!o->def) continue;
        if ((rc = ld_parse(&L, o->def, strlen(o->def), &doc)) == 0) {
            L.doc = &doc;
            rc = apply_option(&L, o, p, ld_root(&doc));
            yaml_document_delete(&doc);
        }
    }
    ad_buf_free(&L.text);
    if (rc) ad_config_free(cfg);
    return rc;
}

int ad_config_load_buffer(struct ad_config *cfg, const char *name, const char *buf, size_t len,
                          char *err, size_t errlen)
{
    struct ld L;
    yaml_document_t doc;
    int rc;

    if (!name) name = "<config>";
    ld_init(&L, cfg, name, err, errlen);
    if (!cfg->origin_) {
        if (L.errlen) snprintf(err, errlen, "%s: config not initialized", name);
        return AD_EINVAL;
    }
    if (len > AD_CONFIG_MAX_FILE) {
        if (L.errlen) snprintf(err, errlen, "%s: larger than %d bytes", name, AD_CONFIG_MAX_FILE);
        return AD_ECONFIG;
    }
    char *dup = strdup(name);
    if (!dup || !(L.src = origin_name(cfg, name))) {
        free(dup);
        L.src = name;
        return ld_oom(&L);
    }
    free(cfg->source_name_);
    cfg->source_name_ = dup;
    if ((rc = ld_parse(&L, buf ? buf : "", buf ? len : 0, &doc)) == 0) {
        L.doc = &doc;
        rc = apply_section(&L, "", ld_root(&doc));
        yaml_document_delete(&doc);
    }
    ad_buf_free(&L.text);
    return rc;
}

int ad_config_load_file(struct ad_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    int rc, e = 0;

    if (f && (buf = malloc(AD_CONFIG_MAX_FILE + 1)) != NULL) {
        len = fread(buf, 1, AD_CONFIG_MAX_FILE + 1, f);
        if (ferror(f)) e = errno ? errno : EIO;
    } else {
        e = errno ? errno : ENOMEM;
    }
    if (f) fclose(f);
    if (e) {
        char msg[128];
        if (strerror_r(e, msg, sizeof(msg)) != 0) snprintf(msg, sizeof(msg), "error %d", e);
        if (err && errlen) snprintf(err, errlen, "%s: %s", path, msg);
        free(buf);
        return e == ENOMEM ? AD_ENOMEM : AD_EIO;
    }
    rc = ad_config_load_buffer(cfg, path, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* If path names an entry of a KVLIST option ("source.kafka.properties.x.y"),
 * returns that option and sets *name to the entry's name. */
static const struct ad_option *kv_entry(const char *path, const char **name)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        size_t n = strlen(options[i].path);
        if (options[i].type == AD_OPT_KVLIST && path_under(path, options[i].path) && path[n + 1]) {
            *name = path + n + 1;
            return &options[i];
        }
    }
    return NULL;
}

int ad_config_set(struct ad_config *cfg, const char *assignment, char *err, size_t errlen)
{
    struct ld L;
    struct pos kp = {1, 1};
    const char *eq = strchr(assignment, '='), *name = NULL, *s;
    const struct ad_option *kvo = NULL;
    yaml_document_t doc;
    char *path;
    int rc;

    ld_init(&L, cfg, "--set", err, errlen);
    if (!cfg->origin_) {
        if (L.errlen) snprintf(err, errlen, "--set: config not initialized");
        return AD_EINVAL;
    }
    if (!eq || eq == assignment)
        return ld_fail(&L, kp, NULL, "expected PATH=VALUE, got \"%.64s\"", assignment);
    if (!(path = strndup(assignment, (size_t)(eq - assignment))) ||
        !(L.src = origin_name(cfg, "--set"))) {
        free(path);
        L.src = "--set";
        return ld_oom(&L);
    }
    L.col_off = (size_t)(eq + 1 - assignment);
    if (!ad_config_option_find(path) && !is_section(path) && !(kvo = kv_entry(path, &name))) {
        rc = ld_fail(&L, kp, path, "unknown key");
        goto out;
    }
    if ((rc = ld_parse(&L, eq + 1, strlen(eq + 1), &doc)) != 0) goto out;
    L.doc = &doc;
    if (!kvo) {
        rc = apply_node(&L, path, kp, ld_root(&doc));
    } else {
        yaml_node_t *v = ld_root(&doc);
        if (!prop_name_ok(name, strlen(name)))
            rc = ld_fail(&L, kp, path, PROP_NAME_RULE, AD_CONFIG_MAX_PROP_NAME);
        else if (v->type != YAML_SCALAR_NODE)
            rc = ld_fail(&L, ld_pos(&L, v->start_mark), path, "expected a scalar, got %s",
                         node_kind(v));
        else if ((rc = scalar_text(&L, v, path, &s)) == 0) {
            rc = kvlist_put(field_of(cfg, kvo), name, s);
            if (rc == AD_ELIMIT)
                rc = ld_fail(&L, kp, path, "too many entries (max %d)", MAX_ITEMS);
            else if (rc)
                rc = ld_oom(&L);
            else
                mark_set(&L, kvo, kp);
        }
    }
    yaml_document_delete(&doc);
out:
    ad_buf_free(&L.text);
    free(path);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Validation                                                                */

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int
vfail(const struct ad_config *cfg, char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    const struct ad_option *o = ad_config_option_find(path);
    const struct origin_pos *p = o && cfg->origin_ ? &cfg->origin_->pos[o - options] : NULL;
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (!err || !errlen) return AD_ECONFIG;
    if (p && p->src)
        snprintf(err, errlen, "%s:%lu:%lu %s: %s", p->src, p->line, p->col, path, why);
    else
        snprintf(err, errlen, "%s: %s", path, why);
    return AD_ECONFIG;
}

/* The first of a and b that was set explicitly, else a. */
static const char *blame(const struct ad_config *cfg, const char *a, const char *b)
{
    return !ad_config_is_set(cfg, a) && ad_config_is_set(cfg, b) ? b : a;
}

/* "" or "/a/b" with ~ only as ~0 or ~1 (RFC 6901). */
static bool json_pointer_ok(const char *p)
{
    if (*p && *p != '/') return false;
    for (; *p; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1') return false;
    return true;
}

static bool url_ok(const char *s)
{
    return !*s || (!strncmp(s, "http://", 7) && s[7]) || (!strncmp(s, "https://", 8) && s[8]);
}

int ad_config_validate(struct ad_config *cfg, char *err, size_t errlen)
{
    const struct ad_strlist *m = &cfg->input.metrics;
    int64_t g = cfg->windows.tumbling_size_us, w = cfg->windows.sliding_size_us;
    int64_t s = cfg->windows.sliding_slide_us;
    char a[AD_DURATION_STRLEN], b[AD_DURATION_STRLEN];

    if (!*cfg->kafka.brokers && !*cfg->kafka.event_hubs_connection_string)
        return vfail(cfg, err, errlen, "source.kafka.brokers",
                     "must not be empty unless source.kafka.event_hubs_connection_string is set");
    if (cfg->kafka.topics.n == 0)
        return vfail(cfg, err, errlen, "source.kafka.topics", "at least one topic is required");

    /* input */
    bool key_prefixed = !strncmp(cfg->input.key, "header:", 7) ||
                        !strncmp(cfg->input.key, "const:", 6);
    if (key_prefixed ? !strchr(cfg->input.key, ':')[1] : !json_pointer_ok(cfg->input.key))
        return vfail(cfg, err, errlen, "input.key",
                     "\"%.64s\" is neither a JSON pointer (\"\" or \"/...\"), header:NAME nor "
                     "const:NAME",
                     cfg->input.key);
    if (strcmp(cfg->input.time, "record") && !json_pointer_ok(cfg->input.time))
        return vfail(cfg, err, errlen, "input.time",
                     "\"%.64s\" is neither a JSON pointer (\"\" or \"/...\") nor \"record\"",
                     cfg->input.time);
    if (m->n < 1 || m->n > 16)
        return vfail(cfg, err, errlen, "input.metrics", "expected 1..16 metrics, got %zu", m->n);
    for (size_t i = 0; i < m->n; i++) {
        const char *ni = strrchr(m->v[i], '/');
        if (!json_pointer_ok(m->v[i]))
            return vfail(cfg, err, errlen, "input.metrics",
                         "item %zu: \"%.64s\" is not a JSON pointer (\"\" or \"/...\")", i + 1,
                         m->v[i]);
        for (size_t j = 0; j < i; j++) {
            const char *nj = strrchr(m->v[j], '/');
            if (strcmp(ni ? ni + 1 : "", nj ? nj + 1 : "") == 0)
                return vfail(cfg, err, errlen, "input.metrics",
                             "items %zu and %zu have the same metric name \"%.64s\" (the "
                             "pointer's last token)",
                             j + 1, i + 1, ni ? ni + 1 : "");
        }
    }

    /* windows */
    if (cfg->windows.sliding && !cfg->windows.tumbling)
        return vfail(cfg, err, errlen, "windows.sliding", "requires windows.tumbling");
    if (cfg->windows.tumbling) {
        if (g <= 0) return vfail(cfg, err, errlen, "windows.tumbling.size", "must be positive");
        duration_fmt(g, a, true);
        if (cfg->windows.allowed_lateness_us / g > 62)
            return vfail(cfg, err, errlen,
                         blame(cfg, "windows.allowed_lateness", "windows.tumbling.size"),
                         "allowed_lateness / tumbling.size must be at most 62 (at most 64 open "
                         "windows per series; tumbling.size is %s)",
                         a);
    }
    if (cfg->windows.sliding) {
        if (w <= 0 || w % g)
            return vfail(
                cfg, err, errlen, blame(cfg, "windows.sliding.size", "windows.tumbling.size"),
                "windows.sliding.size must be a multiple of windows.tumbling.size (%s)", a);
        if (s <= 0 || s % g)
            return vfail(
                cfg, err, errlen, blame(cfg, "windows.sliding.slide", "windows.tumbling.size"),
                "windows.sliding.slide must be a multiple of windows.tumbling.size (%s)", a);
        duration_fmt(w, b, true);
        if (s > w)
            return vfail(cfg, err, errlen,
                         blame(cfg, "windows.sliding.slide", "windows.sliding.size"),
                         "windows.sliding.slide must not exceed windows.sliding.size (%s)", b);
        if (w / g > 8640)
            return vfail(
                cfg, err, errlen, blame(cfg, "windows.sliding.size", "windows.tumbling.size"),
                "a sliding window of %s holds %" PRId64 " tumbling points (max 8640)", b, w / g);
    }

    if (*cfg->state_topic && !*cfg->state_dir)
        return vfail(cfg, err, errlen, "state.topic", "requires state.dir (checkpoints)");

    /* model */
    if (cfg->model.scope == AD_SCOPE_WINDOW && !cfg->windows.sliding)
        return vfail(cfg, err, errlen, "model.welford.scope", "window requires windows.sliding");

    /* remote */
    if (cfg->remote.mode != AD_REMOTE_OFF) {
        const char *mode = cfg->remote.mode == AD_REMOTE_CONFIRM ? "confirm" : "always";
        if (!*cfg->remote.endpoint)
            return vfail(cfg, err, errlen, "remote.anomaly_detector.mode",
                         "%s requires remote.anomaly_detector.endpoint", mode);
        if (!cfg->windows.sliding)
            return vfail(cfg, err, errlen, "remote.anomaly_detector.mode",
                         "%s requires windows.sliding", mode);
        if (w / g < cfg->remote.min_points)
            return vfail(cfg, err, errlen,
                         blame(cfg, "remote.anomaly_detector.min_points", "windows.sliding.size"),
                         "a sliding window holds %" PRId64 " tumbling points, fewer than "
                         "remote.anomaly_detector.min_points (%" PRId64 ")",
                         w / g, cfg->remote.min_points);
    }
    if (!url_ok(cfg->remote.endpoint))
        return vfail(cfg, err, errlen, "remote.anomaly_detector.endpoint",
                     "must be an http:// or https:// URL");
    if (!url_ok(cfg->sinks.webhook_url))
        return vfail(cfg, err, errlen, "sinks.webhook.url", "must be an http:// or https:// URL");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                  */

/* Can s be written as a plain scalar that reads back as the same text? In
 * flow context (inside [...]) ':' is not allowed. '$' always needs quoting
 * because the loader expands it. */
static bool plain_ok(const char *s, bool flow)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL"};
    const unsigned char *p = (const unsigned char *)s;

    if (!*p || !(isalnum(*p) || *p == '/' || *p == '_' || *p == '.')) return false;
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (strcmp(s, nulls[i]) == 0) return false;
    for (; *p; p++) {
        if (isalnum(*p) || strchr("_./+-", *p)) continue;
        if (*p == ':' && !flow && p[1] && p[1] != ' ') continue;
        return false;
    }
    return true;
}

/* Length of the UTF-8 sequence at p and its code point, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
    size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
    uint32_t c = n == 4 ? *p & 0x07u : n == 3 ? *p & 0x0fu : *p & 0x1fu;

    if (n == 0 || *p >= 0xf8) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3fu);
    }
    *cp = c;
    return n;
}

/* Writes s as a YAML double-quoted scalar. With dollar, '$' is doubled so
 * that the loader's expansion gives s back. Code points YAML does not allow
 * raw (C0/C1 controls, line separators, BOM) are escaped. */
static int put_quoted(struct ad_buf *b, const char *s, bool dollar)
{
    const unsigned char *p = (const unsigned char *)s;
    int rc = ad_buf_addc(b, '"');

    while (rc == 0 && *p) {
        uint32_t cp;
        size_t n;

        if (*p == '"' || *p == '\\') {
            rc = ad_buf_printf(b, "\\%c", *p++);
        } else if (*p == '$' && dollar) {
            rc = ad_buf_adds(b, "$$");
            p++;
        } else if (*p == '\n') {
            rc = ad_buf_adds(b, "\\n");
            p++;
        } else if (*p == '\t') {
            rc = ad_buf_adds(b, "\\t");
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            rc = ad_buf_printf(b, "\\x%02x", *p++);
        } else if (*p < 0x80) {
            rc = ad_buf_addc(b, (char)*p++);
        } else if ((n = utf8_decode(p, &cp)) == 0) {
            rc = ad_buf_addc(b, (char)*p++); /* not UTF-8 (only from the environment) */
        } else {
            if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
                (cp >= 0xd800 && cp < 0xe000) || cp == 0xfffe || cp == 0xffff)
                rc = ad_buf_printf(b, "\\u%04x", (unsigned)cp);
            else
                rc = ad_buf_add(b, p, n);
            p += n;
        }
    }
    return rc ? rc : ad_buf_addc(b, '"');
}

static int put_scalar(struct ad_buf *b, const char *s, bool flow, bool dollar)
{
    return plain_ok(s, flow) ? ad_buf_adds(b, s) : put_quoted(b, s, dollar);
}

/* Case-insensitive substring test. */
static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return true;
    return false;
}

static bool secret_property(const char *name)
{
    return contains_ci(name, "password") || contains_ci(name, "secret") ||
           contains_ci(name, "key") || contains_ci(name, "token");
}

/* Appends the value of o (after "key: "); depth is o's nesting level. */
static int put_value(struct ad_buf *b, const struct ad_config *cfg, const struct ad_option *o,
                     int depth)
{
    const void *f = cfield_of(cfg, o);
    char tmp[64];
    int rc = 0;

    switch (o->type) {
    case AD_OPT_STRING:
        return put_scalar(b, *(char *const *)f, false, true);
    case AD_OPT_SECRET:
        return ad_buf_adds(b, **(char *const *)f ? "\"***\"" : "\"\"");
    case AD_OPT_BOOL:
        return ad_buf_adds(b, *(const bool *)f ? "true" : "false");
    case AD_OPT_INT:
        return ad_buf_printf(b, "%" PRId64, *(const int64_t *)f);
    case AD_OPT_DURATION:
        duration_fmt(*(const int64_t *)f, tmp, false);
        return ad_buf_adds(b, tmp);
    case AD_OPT_DOUBLE:
        fmt_number(*(const double *)f, tmp, sizeof(tmp));
        if (!strpbrk(tmp, ".eEn")) return ad_buf_printf(b, "%s.0", tmp);
        return ad_buf_adds(b, tmp);
    case AD_OPT_ENUM: {
        int e = *(const int *)f, n = 0;
        while (o->enum_names[n])
            n++;
        return e >= 0 && e < n ? ad_buf_adds(b, o->enum_names[e]) : ad_buf_printf(b, "%d", e);
    }
    case AD_OPT_STRLIST: {
        const struct ad_strlist *l = f;
        rc = ad_buf_addc(b, '[');
        for (size_t i = 0; rc == 0 && i < l->n; i++) {
            if (i) rc = ad_buf_adds(b, ", ");
            if (rc == 0) rc = put_scalar(b, l->v[i], true, true);
        }
        return rc ? rc : ad_buf_addc(b, ']');
    }
    case AD_OPT_KVLIST: {
        const struct ad_kvlist *l = f;
        if (l->n == 0) return ad_buf_adds(b, "{}");
        for (size_t i = 0; rc == 0 && i < l->n; i++) {
            rc = ad_buf_printf(b, "\n%*s", 2 * (depth + 1), "");
            if (rc == 0) rc = put_scalar(b, l->k[i], false, false);
            if (rc == 0) rc = ad_buf_adds(b, ": ");
            if (rc == 0)
                rc = (secret_property(l->k[i]) || (o->flags & AD_OPT_F_SECRET_VALUES)) && *l->v[i]
                         ? ad_buf_adds(b, "\"***\"")
                         : put_scalar(b, l->v[i], false, true);
        }
        return rc;
    }
    default:
        return 0;
    }
}

/* Is o, or a block above it, an absent optional block? */
static bool hidden(const struct ad_config *cfg, const struct ad_option *o)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct ad_option *bo = &options[i];
        if (bo->type == AD_OPT_BLOCK && !*(const bool *)cfield_of(cfg, bo) &&
            (bo == o || path_under(o->path, bo->path)))
            return true;
    }
    return false;
}

/* Splits a table path into at most MAX_DEPTH components. */
static int split_path(const char *path, char comp[][48])
{
    int n = 0;
    while (n < MAX_DEPTH) {
        size_t len = strcspn(path, ".");
        snprintf(comp[n++], 48, "%.*s", (int)len, path);
        if (!path[len]) break;
        path += len + 1;
    }
    return n;
}

int ad_config_print(const struct ad_config *cfg, FILE *out)
{
    struct ad_buf b;
    char open[MAX_DEPTH][48], comp[MAX_DEPTH][48];
    int nopen = 0, rc;

    ad_buf_init(&b, 64u * 1024 * 1024);
    rc = ad_buf_adds(&b, "# anomalyd effective configuration (secrets masked)\n");
    for (size_t i = 0; rc == 0 && i < NOPTIONS; i++) {
        const struct ad_option *o = &options[i];
        int n, j = 0;

        if (hidden(cfg, o)) continue;
        n = split_path(o->path, comp);
        while (j < nopen && j < n - 1 && strcmp(open[j], comp[j]) == 0)
            j++;
        for (nopen = j; rc == 0 && j < n - 1; j++) {
            rc = ad_buf_printf(&b, "%*s%s:\n", 2 * j, "", comp[j]);
            memcpy(open[nopen++], comp[j], sizeof(comp[j]));
        }
        if (rc) break;
        if (o->type == AD_OPT_BLOCK) {
            rc = ad_buf_printf(&b, "%*s%s:\n", 2 * j, "", comp[j]);
            memcpy(open[nopen++], comp[j], sizeof(comp[j]));
            continue;
        }
        /* A non-empty map goes on the following lines: no space after the colon. */
        bool block = o->type == AD_OPT_KVLIST && ((const struct ad_kvlist *)cfield_of(cfg, o))->n;
        rc = ad_buf_printf(&b, "%*s%s:%s", 2 * j, "", comp[j], block ? "" : " ");
        if (rc == 0) rc = put_value(&b, cfg, o, j);
        if (rc == 0) rc = ad_buf_addc(&b, '\n');
    }
    if (rc == 0 && b.len && (fwrite(b.p, 1, b.len, out) != b.len || fflush(out) != 0)) rc = AD_EIO;
    ad_buf_free(&b);
    return rc == AD_ELIMIT ? AD_ENOMEM : rc;
}
