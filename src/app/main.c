/* main.c - the command line of interface.md: the daemon, --check-config,
 * --input replay, simulate and demo. Wiring only; every stage lives in the
 * library. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_buf.h"
#include "ad_clock.h"
#include "ad_config.h"
#include "ad_daemon.h"
#include "ad_detector.h"
#include "ad_http.h"
#include "ad_remote.h"
#include "ad_webhook.h"
#include "ad_demo.h"
#include "ad_err.h"
#include "ad_log.h"
#include "ad_pipeline.h"
#include "ad_replay.h"
#include "ad_sim.h"
#include "ad_simprod.h"
#include "ad_sink.h"
#include "ad_state.h"
#include "ad_checkpoint.h"
#include "ad_model.h"
#include "ad_hash.h"
#include "ad_spill.h"
#include <dirent.h>
#include <signal.h>
#include "ad_time.h"

#define DEFAULT_CONFIG "/etc/anomalyd/anomalyd.yaml"
#define EXIT_FATAL     1

static const char usage_text[] =
    "usage:\n"
    "  anomalyd [-c FILE]                 run the daemon (default FILE: " DEFAULT_CONFIG ")\n"
    "  anomalyd -c FILE --check-config    validate, print the effective config, exit 0 or 78\n"
    "  anomalyd -c FILE --input PATH|-    offline replay of JSON lines; alerts to stdout\n"
    "  anomalyd -c FILE --set PATH=VALUE  override one config key (repeatable)\n"
    "  anomalyd demo                      the main job on an embedded default\n"
    "  anomalyd simulate [options]        simulated telemetry with injected anomalies\n"
    "  anomalyd model export -c FILE [--output PATH]   the models of state.dir (checkpoints\n"
    "                                     and evicted series) as M2 JSON lines (scenario C's\n"
    "                                     format); exits 1 while a daemon holds the store\n"
    "  anomalyd model import -c FILE PATH  seed state.dir with an M2 model file: series\n"
    "                                     without a checkpoint start from it\n"
    "  anomalyd --version | --help\n"
    "\n"
    "replay options:\n"
    "  --export-model PATH   write every series' lifetime model (M2 JSON lines) at the end\n"
    "  --input-format json|kcat  lines are records (json) or `kcat -C -J` envelopes\n"
    "                        carrying topic, partition, offset, timestamp and headers\n"
    "\n"
    "simulate options:\n"
    "  --format sensor|iot|tweet   record format (scenario C, B, A)      [sensor]\n"
    "  --count N                   records to produce                    [10000]\n"
    "  --devices N                 distinct devices (keys)               [100]\n"
    "  --seed N                    random seed                           [1]\n"
    "  --interval DURATION         event time between a device's records [1s]\n"
    "  --start RFC3339             event time of the first record        [2026-11-20T10:00:00Z]\n"
    "  --anomaly-rate P            probability of an injected anomaly    [0.001]\n"
    "  --truth FILE                write the injected anomalies as JSON lines\n"
    "  --output FILE|-             where records go                      [-]\n"
    "  --brokers LIST              produce to Kafka instead (with --topic, --rate)\n"
    "  --topic NAME                the topic to produce to                [sensor-raw]\n"
    "  --rate N                    records per second when producing      [1000]\n"
    "  --output-format json|kcat   plain records, or kcat -J envelopes with the event\n"
    "                              time as timestamp and (iot) the device-id header\n"
    "\n"
    "demo options:\n"
    "  --rate N --devices N --seed N   simulator settings             [1000 100 1]\n"
    "  --duration DURATION             stop after this long           [until Ctrl-C]\n"
    "\n"
    "exit codes: 0 clean stop, 78 bad config or usage, 1 fatal runtime error\n";

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "anomalyd: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see anomalyd --help)\n");
    return AD_CONFIG_EXIT;
}

/* ---- replay ---------------------------------------------------------------- */

struct replay_sinks {
    FILE *out;
    struct ad_alert_log *log;
    uint64_t log_errors;
    const struct ad_config *cfg;
    struct ad_pipeline *pipe;
    uv_loop_t loop; /* for the remote detector and the webhook */
    bool have_loop;
    struct ad_http *http;
    struct ad_remote *remote;
    struct ad_webhook *webhook;
    uint64_t webhook_lost;
    struct ad_remote_stats remote_stats;
    bool remote_stats_valid;
};

static void print_remote_summary(const struct ad_remote_stats *r)
{
    fprintf(stderr,
            "replay: remote: %llu requests, %llu ok, %llu skipped, %llu unavailable, %llu "
            "timeout, %llu rejected, %llu breaker_open, %llu overloaded, %llu retries\n",
            (unsigned long long)r->requests, (unsigned long long)r->ok,
            (unsigned long long)r->skipped, (unsigned long long)r->unavailable,
            (unsigned long long)r->timeout, (unsigned long long)r->rejected,
            (unsigned long long)r->breaker_open, (unsigned long long)r->overloaded,
            (unsigned long long)r->retries);
}

static void replay_alert(void *ud, const struct ad_alert *a, const char *line, size_t len)
{
    struct replay_sinks *s = ud;
    fwrite(line, 1, len, s->out);
    if (s->log && ad_alert_log_write(s->log, line, len) != 0)
        s->log_errors++;
    if (s->webhook && ad_webhook_add_alert(s->webhook, a, NULL) != 0)
        s->webhook_lost++;
}

static void replay_remote_job(void *ud, struct ad_remote_job *job)
{
    struct replay_sinks *s = ud;
    ad_remote_submit(s->remote, job);
}

static void replay_remote_done(void *ud, struct ad_remote_job *job,
                               const struct ad_remote_outcome *o)
{
    struct replay_sinks *s = ud;
    ad_pipeline_remote_done(s->pipe, job, o);
}

static void replay_webhook_ack(void *ud, void *token, bool delivered)
{
    struct replay_sinks *s = ud;
    (void)token;
    if (!delivered)
        s->webhook_lost++;
}

/* Turns the loop between chunks; keeps the remote queue short; at the end,
 * waits for every verdict and (bounded) for the webhook, then closes. */
static void replay_pump(void *ud, bool final)
{
    struct replay_sinks *s = ud;
    uv_run(&s->loop, UV_RUN_NOWAIT);
    size_t limit = final ? 0 : 4 * (size_t)s->cfg->remote.max_in_flight;
    while (ad_pipeline_remote_pending(s->pipe) > limit)
        uv_run(&s->loop, UV_RUN_ONCE);
    if (!final)
        return;
    if (s->webhook) {
        ad_webhook_flush(s->webhook);
        uint64_t deadline = uv_now(&s->loop) + 30000;
        while (ad_webhook_pending(s->webhook) && uv_now(&s->loop) < deadline) {
            uv_run(&s->loop, UV_RUN_ONCE);
            uv_update_time(&s->loop);
        }
    }
    if (s->remote) {
        ad_remote_stats(s->remote, &s->remote_stats);
        s->remote_stats_valid = true;
        ad_remote_close(s->remote);
    }
    if (s->webhook)
        ad_webhook_close(s->webhook);
    if (s->http)
        ad_http_close(s->http);
    s->remote = NULL;
    s->webhook = NULL;
    s->http = NULL;
    uv_run(&s->loop, UV_RUN_DEFAULT);
}

static int replay_start_http(struct replay_sinks *s, char *err, size_t errlen)
{
    const struct ad_config *cfg = s->cfg;
    int rc;
    if (cfg->remote.mode == AD_REMOTE_OFF && !cfg->sinks.webhook_url[0])
        return 0;
    if (uv_loop_init(&s->loop) != 0)
        return AD_EIO;
    s->have_loop = true;
    rc = ad_http_new(&s->loop, &s->http);
    if (rc == 0 && cfg->remote.mode != AD_REMOTE_OFF) {
        rc = ad_remote_new(&s->loop, s->http, cfg, replay_remote_done, s, &s->remote, err, errlen);
        if (rc == 0)
            ad_pipeline_on_remote(s->pipe, replay_remote_job, s);
    }
    if (rc == 0 && cfg->sinks.webhook_url[0])
        rc = ad_webhook_new(&s->loop, s->http, cfg, replay_webhook_ack, s, &s->webhook, err,
                            errlen);
    return rc;
}

static void print_summary(const struct ad_pipeline_stats *st, double secs)
{
    struct ad_buf b;
    ad_buf_init(&b, 4096);
    ad_buf_printf(&b, "replay: %llu records, %llu accepted, %llu rejected",
                  (unsigned long long)st->records, (unsigned long long)st->accepted,
                  (unsigned long long)st->rejected);
    if (st->rejected) {
        const char *sep = " (";
        for (int r = 1; r < AD_REJECT_COUNT; r++) {
            if (!st->rejected_by[r])
                continue;
            ad_buf_printf(&b, "%s%s %llu", sep, ad_reject_name((enum ad_reject)r),
                          (unsigned long long)st->rejected_by[r]);
            sep = ", ";
        }
        ad_buf_adds(&b, ")");
    }
    ad_buf_printf(&b, ", %llu late, %llu duplicates\n", (unsigned long long)st->win.late,
                  (unsigned long long)st->win.duplicates);
    ad_buf_printf(&b,
                  "replay: %llu points, %llu windows, %llu slides, %llu scoring events, %llu "
                  "alerts (%llu positive, %llu negative), %llu series, %llu evictions\n",
                  (unsigned long long)st->win.points, (unsigned long long)st->win.windows,
                  (unsigned long long)st->win.slides, (unsigned long long)st->win.events,
                  (unsigned long long)st->alerts, (unsigned long long)st->alerts_positive,
                  (unsigned long long)st->alerts_negative, (unsigned long long)st->win.series,
                  (unsigned long long)st->win.evictions);
    ad_buf_printf(&b, "replay: %.3f s, %.0f records/s\n", secs,
                  secs > 0 ? (double)st->records / secs : 0.0);
    fputs(b.p ? b.p : "", stderr);
    ad_buf_free(&b);
}

/* Writes the models to stdout ("-") or durably to path. */
static int export_models(struct ad_pipeline *p, const char *path)
{
    struct ad_buf b;
    char err[512];
    int rc;

    ad_buf_init(&b, (size_t)1 << 34);
    rc = ad_pipeline_export(p, &b);
    if (rc == 0)
        rc = strcmp(path, "-") == 0 ? ad_write_all(STDOUT_FILENO, b.p, b.len)
                                    : ad_state_write_atomic(path, b.p ? b.p : "", b.len, false,
                                                            err, sizeof(err));
    ad_buf_free(&b);
    return rc;
}

static int run_replay(const struct ad_config *cfg, const char *input, bool kcat,
                      const char *export_path)
{
    struct ad_pipeline *p = NULL;
    struct replay_sinks sinks = {.out = stdout, .cfg = cfg};
    char err[1024];
    int fd = STDIN_FILENO, rc, status = 0;

    struct ad_pipeline_cfg pc;
    ad_config_to_pipeline(cfg, &pc);
    rc = ad_pipeline_new(&pc, &p, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "anomalyd: %s\n", err);
        return rc == AD_ENOMEM ? EXIT_FATAL : AD_CONFIG_EXIT;
    }
    if (cfg->model.import[0]) {
        rc = ad_pipeline_import(p, cfg->model.import, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "anomalyd: model.import: %s\n", err);
            ad_pipeline_free(p);
            return AD_CONFIG_EXIT;
        }
    }
    /* In replay the alert log is written only when the config asks for it
     * explicitly, so that a replay never appends to a production log by default. */
    if (ad_config_is_set(cfg, "sinks.alert_log.path") && cfg->sinks.alert_log_path[0]) {
        rc = ad_alert_log_open(cfg->sinks.alert_log_path, &sinks.log, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "anomalyd: while opening the alert log: %s\n", err);
            ad_pipeline_free(p);
            return EXIT_FATAL;
        }
    }
    if (strcmp(input, "-") != 0) {
        fd = open(input, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "anomalyd: %s: %s\n", input, strerror(errno));
            ad_alert_log_close(sinks.log);
            ad_pipeline_free(p);
            return EXIT_FATAL;
        }
    }
    ad_pipeline_on_alert(p, replay_alert, &sinks);
    sinks.pipe = p;
    rc = replay_start_http(&sinks, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "anomalyd: %s\n", err);
        if (fd != STDIN_FILENO)
            close(fd);
        if (sinks.have_loop) {
            replay_pump(&sinks, true);
            uv_loop_close(&sinks.loop);
        }
        ad_alert_log_close(sinks.log);
        ad_pipeline_free(p);
        return AD_CONFIG_EXIT;
    }

    struct ad_replay_opts opts = {
        .name = strcmp(input, "-") == 0 ? "stdin" : input,
        .max_record = (size_t)cfg->max_message_bytes,
        .progress_fd = isatty(STDERR_FILENO) ? STDERR_FILENO : -1,
        .kcat_envelope = kcat,
        .pump = sinks.have_loop ? replay_pump : NULL,
        .pump_ud = &sinks,
    };
    int64_t t0 = ad_clock_mono_ms();
    rc = ad_replay_fd(p, fd, &opts);
    int64_t t1 = ad_clock_mono_ms();
    fflush(stdout);
    if (rc) {
        fprintf(stderr, "anomalyd: while reading %s: %s\n", opts.name, ad_strerror(rc));
        status = EXIT_FATAL;
    }
    struct ad_pipeline_stats st;
    ad_pipeline_stats(p, &st);
    print_summary(&st, (double)(t1 - t0) / 1000.0);
    if (sinks.remote_stats_valid)
        print_remote_summary(&sinks.remote_stats);
    if (sinks.webhook_lost)
        fprintf(stderr, "replay: %llu webhook rows not delivered\n",
                (unsigned long long)sinks.webhook_lost);
    if (sinks.have_loop)
        uv_loop_close(&sinks.loop);
    if (sinks.log_errors) {
        fprintf(stderr, "anomalyd: %llu alert lines could not be written to %s\n",
                (unsigned long long)sinks.log_errors, cfg->sinks.alert_log_path);
        status = EXIT_FATAL;
    }
    if (export_path && export_models(p, export_path) != 0) {
        fprintf(stderr, "anomalyd: while exporting models to %s: %s\n", export_path,
                strerror(errno));
        status = EXIT_FATAL;
    }
    if (fd != STDIN_FILENO)
        close(fd);
    ad_alert_log_close(sinks.log);
    ad_pipeline_free(p);
    return status;
}

/* ---- simulate ---------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
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

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || v != v)
        return AD_EINVAL;
    *out = v;
    return 0;
}

static void simulate_done(struct ad_simprod *sp, void *ud)
{
    uv_signal_t *sig = ud;
    (void)sp;
    for (int i = 0; i < 2; i++)
        if (!uv_is_closing((uv_handle_t *)&sig[i]))
            uv_close((uv_handle_t *)&sig[i], NULL);
}

static void simulate_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    ad_simprod_stop(h->data);
}

/* Produces count records (0: until SIGINT/SIGTERM) to a Kafka topic. */
static int simulate_kafka(const struct ad_sim_cfg *sc, const char *brokers, const char *topic,
                          double rate, uint64_t count)
{
    uv_loop_t loop;
    uv_signal_t sig[2];
    struct ad_simprod *sp;
    char err[512];
    struct ad_simprod_opts o = {.brokers = brokers, .topic = topic, .rate = rate,
                                .count = count, .done = simulate_done, .ud = sig};
    uv_loop_init(&loop);
    if (ad_simprod_start(&loop, sc, &o, &sp, err, sizeof(err)) != 0) {
        fprintf(stderr, "anomalyd: %s\n", err);
        uv_loop_close(&loop);
        return AD_CONFIG_EXIT;
    }
    for (int i = 0; i < 2; i++) {
        uv_signal_init(&loop, &sig[i]);
        sig[i].data = sp;
        uv_signal_start(&sig[i], simulate_signal, i ? SIGTERM : SIGINT);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uint64_t produced = ad_simprod_produced(sp), delivered = ad_simprod_delivered(sp);
    fprintf(stderr, "simulate: %llu records produced, %llu delivered to %s\n",
            (unsigned long long)produced, (unsigned long long)delivered, topic);
    ad_simprod_free(sp);
    uv_loop_close(&loop);
    return produced == delivered ? 0 : EXIT_FATAL;
}

static int cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rate", required_argument, NULL, 'r'},     {"devices", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},     {"duration", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    struct ad_demo_opts o = {.rate = 1000, .devices = 100, .seed = 1};
    uint64_t u;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (parse_double(optarg, &o.rate) || !(o.rate > 0) || o.rate > 1e6)
                return usage_error("demo: bad --rate '%s'", optarg);
            break;
        case 'd':
            if (parse_u64(optarg, &u) || u == 0 || u > 1000000)
                return usage_error("demo: bad --devices '%s'", optarg);
            o.devices = (uint32_t)u;
            break;
        case 's':
            if (parse_u64(optarg, &o.seed))
                return usage_error("demo: bad --seed '%s'", optarg);
            break;
        case 't':
            if (ad_duration_parse(optarg, &o.duration_us))
                return usage_error("demo: bad --duration '%s'", optarg);
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return AD_CONFIG_EXIT;
        }
    }
    return ad_demo_run(&o);
}

static int cmd_simulate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},   {"count", required_argument, NULL, 'n'},
        {"devices", required_argument, NULL, 'd'},  {"seed", required_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'}, {"start", required_argument, NULL, 't'},
        {"anomaly-rate", required_argument, NULL, 'a'},
        {"truth", required_argument, NULL, 'g'},    {"output", required_argument, NULL, 'o'},
        {"output-format", required_argument, NULL, 'O'},
        {"brokers", required_argument, NULL, 'b'},  {"topic", required_argument, NULL, 'T'},
        {"rate", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    struct ad_sim_cfg sc = {
        .format = AD_SIM_SENSOR,
        .seed = 1,
        .devices = 100,
        .interval_us = 1000000,
        .anomaly_rate = 0.001,
        .noise = 0.5,
    };
    uint64_t count = 10000, u;
    const char *truth_path = NULL, *out_path = "-";
    bool kcat = false;
    const char *brokers = NULL, *topic = "sensor-raw";
    double rate = 1000;
    int c;

    ad_time_parse_rfc3339("2026-11-20T10:00:00Z", 20, &sc.start_us);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (ad_sim_format_parse(optarg, &sc.format))
                return usage_error("simulate: unknown --format '%s'", optarg);
            break;
        case 'n':
            if (parse_u64(optarg, &count))
                return usage_error("simulate: bad --count '%s'", optarg);
            break;
        case 'd':
            if (parse_u64(optarg, &u) || u == 0 || u > 10000000)
                return usage_error("simulate: bad --devices '%s' (1..10000000)", optarg);
            sc.devices = (uint32_t)u;
            break;
        case 's':
            if (parse_u64(optarg, &sc.seed))
                return usage_error("simulate: bad --seed '%s'", optarg);
            break;
        case 'i':
            if (ad_duration_parse(optarg, &sc.interval_us) || sc.interval_us <= 0)
                return usage_error("simulate: bad --interval '%s'", optarg);
            break;
        case 't':
            if (ad_time_parse_rfc3339(optarg, strlen(optarg), &sc.start_us))
                return usage_error("simulate: bad --start '%s' (RFC 3339)", optarg);
            break;
        case 'a':
            if (parse_double(optarg, &sc.anomaly_rate) || sc.anomaly_rate < 0 ||
                sc.anomaly_rate > 1)
                return usage_error("simulate: bad --anomaly-rate '%s' (0..1)", optarg);
            break;
        case 'g':
            truth_path = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'b':
            brokers = optarg;
            break;
        case 'T':
            topic = optarg;
            break;
        case 'r':
            if (parse_double(optarg, &rate) || !(rate > 0) || rate > 1e7)
                return usage_error("simulate: bad --rate '%s'", optarg);
            break;
        case 'O':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "kcat") != 0)
                return usage_error("simulate: unknown --output-format '%s' (json|kcat)", optarg);
            kcat = strcmp(optarg, "kcat") == 0;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return AD_CONFIG_EXIT;
        }
    }
    if (optind < argc)
        return usage_error("simulate: unexpected argument '%s'", argv[optind]);

    if (brokers)
        return simulate_kafka(&sc, brokers, topic, rate, count);
    struct ad_sim *sim;
    if (ad_sim_new(&sc, &sim) != 0)
        return usage_error("%s", "simulate: invalid options");
    FILE *out = strcmp(out_path, "-") == 0 ? stdout : fopen(out_path, "w");
    FILE *truth = truth_path ? fopen(truth_path, "w") : NULL;
    if (!out || (truth_path && !truth)) {
        fprintf(stderr, "anomalyd: simulate: %s: %s\n", !out ? out_path : truth_path,
                strerror(errno));
        ad_sim_free(sim);
        return EXIT_FATAL;
    }
    static const char *const metric_of[] = {"temp", "temperature", "favorite"};
    struct ad_buf rec, tl, env;
    struct ad_sim_record r;
    int status = 0;
    ad_buf_init(&rec, 4096);
    ad_buf_init(&tl, 4096);
    ad_buf_init(&env, 16384);
    for (uint64_t i = 0; i < count && status == 0; i++) {
        ad_buf_reset(&rec);
        if (ad_sim_next(sim, &rec, &r) != 0) {
            status = EXIT_FATAL;
            break;
        }
        if (kcat) {
            ad_buf_reset(&env);
            ad_buf_printf(&env, "{\"topic\":\"sim\",\"partition\":0,\"offset\":%llu,"
                                "\"tstype\":\"create\",\"ts\":%lld,\"headers\":[",
                          (unsigned long long)i, (long long)(r.time_us / 1000));
            if (sc.format == AD_SIM_IOT) {
                ad_buf_adds(&env, "\"iothub-connection-device-id\",");
                ad_buf_add_json_str(&env, r.device, strlen(r.device));
            }
            ad_buf_adds(&env, "],\"key\":");
            ad_buf_add_json_str(&env, r.device, strlen(r.device));
            ad_buf_adds(&env, ",\"payload\":");
            ad_buf_add_json_str(&env, rec.p, rec.len);
            ad_buf_adds(&env, "}");
            ad_buf_reset(&rec);
            ad_buf_add(&rec, env.p, env.len);
        }
        if (ad_buf_addc(&rec, '\n') != 0) {
            status = EXIT_FATAL;
            break;
        }
        if (fwrite(rec.p, 1, rec.len, out) != rec.len)
            status = EXIT_FATAL;
        if (truth && r.anomaly) {
            ad_buf_reset(&tl);
            ad_sim_truth_line(&r, metric_of[sc.format], &tl);
            fwrite(tl.p, 1, tl.len, truth);
        }
    }
    if (fflush(out) != 0 || (truth && fflush(truth) != 0))
        status = EXIT_FATAL;
    if (status)
        fprintf(stderr, "anomalyd: simulate: write failed: %s\n", strerror(errno));
    if (out != stdout)
        fclose(out);
    if (truth)
        fclose(truth);
    ad_buf_free(&rec);
    ad_buf_free(&tl);
    ad_buf_free(&env);
    ad_sim_free(sim);
    return status;
}

/* ---- model export / import ---------------------------------------------------- */

/* The models of the spill stores (series evicted at limits.max_series), by
 * series id ("metric NUL key bytes": a metric name has no NUL, a key may hold
 * any byte), hashed with FNV-1a into an open-addressing table of indexes into
 * ents, which keeps the order of first sight. A series that a checkpoint file
 * holds too is marked in_ckpt: it was live when that checkpoint was written,
 * so the checkpoint's state is the newer one (and the one a restart uses). */
struct export_ent {
    uint64_t hash;
    char *id;
    size_t id_len;
    bool in_ckpt;
    uint64_t n;
    double mean, m2;
};

struct export_set {
    struct export_ent *ents;
    size_t count, cap;
    size_t *slots; /* index + 1 into ents, 0 empty */
    size_t nslots; /* a power of two, at least twice count */
};

/* Finds the series, or adds it (zeroed but for its id) when add is set.
 * NULL when absent (without add) or out of memory (with add). */
static struct export_ent *export_set_find(struct export_set *s, const char *key, size_t key_len,
                                          const char *metric, bool add)
{
    static const char sep = '\0';
    size_t mlen = strlen(metric), id_len = mlen + 1 + key_len;
    uint64_t h = ad_fnv1a64(AD_FNV64_BASIS, metric, mlen);
    h = ad_fnv1a64(ad_fnv1a64(h, &sep, 1), key, key_len);

    for (size_t i = h & (s->nslots - 1); s->nslots && s->slots[i]; i = (i + 1) & (s->nslots - 1)) {
        struct export_ent *e = &s->ents[s->slots[i] - 1];
        if (e->hash == h && e->id_len == id_len && memcmp(e->id, metric, mlen + 1) == 0 &&
            (key_len == 0 || memcmp(e->id + mlen + 1, key, key_len) == 0))
            return e;
    }
    if (!add)
        return NULL;
    if (2 * (s->count + 1) > s->nslots) {
        size_t nn = s->nslots ? 2 * s->nslots : 1024;
        size_t *ns = calloc(nn, sizeof(*ns));
        if (!ns)
            return NULL;
        for (size_t k = 0; k < s->count; k++) {
            size_t i = s->ents[k].hash & (nn - 1);
            while (ns[i])
                i = (i + 1) & (nn - 1);
            ns[i] = k + 1;
        }
        free(s->slots);
        s->slots = ns;
        s->nslots = nn;
    }
    if (s->count == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 1024;
        struct export_ent *ne = realloc(s->ents, nc * sizeof(*ne));
        if (!ne)
            return NULL;
        s->ents = ne;
        s->cap = nc;
    }
    char *id = malloc(id_len);
    if (!id)
        return NULL;
    memcpy(id, metric, mlen + 1);
    if (key_len)
        memcpy(id + mlen + 1, key, key_len);
    struct export_ent *e = &s->ents[s->count];
    *e = (struct export_ent){.hash = h, .id = id, .id_len = id_len};
    size_t i = h & (s->nslots - 1);
    while (s->slots[i])
        i = (i + 1) & (s->nslots - 1);
    s->slots[i] = ++s->count;
    return e;
}

static void export_set_free(struct export_set *s)
{
    for (size_t k = 0; k < s->count; k++)
        free(s->ents[k].id);
    free(s->ents);
    free(s->slots);
}

struct export_ctx {
    FILE *out;
    struct ad_buf line;
    uint64_t n;
    uint64_t fp;                    /* ad_ckpt_fingerprint() of the config */
    const struct ad_ckpt_header *h; /* of the checkpoint being read, filled before its series */
    struct export_set spilled;
    bool nomem;
    const char *skey; /* the spill entry being read */
    size_t skey_len;
    const char *smetric;
    uint64_t sp_entries, sp_other, sp_bad;
};

static void export_line(struct export_ctx *c, const char *key, size_t key_len, const char *metric,
                        uint64_t n, double mean, double m2)
{
    ad_buf_reset(&c->line);
    if (ad_model_format_line(&c->line, key, key_len, metric, n, mean, m2) == 0) {
        fwrite(c->line.p, 1, c->line.len, c->out);
        c->n++;
    }
}

/* A series of a checkpoint file: written out, and its spill entry, if any,
 * superseded. A checkpoint of other settings is left out (the daemon does
 * not restore it either). */
static int export_series_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct export_ctx *c = ud;
    if (c->h->fingerprint != c->fp)
        return 0;
    struct export_ent *e = export_set_find(&c->spilled, st->key, st->key_len, metric, false);
    if (e)
        e->in_ckpt = true;
    if (st->life.n)
        export_line(c, st->key, st->key_len, metric, st->life.n, st->life.mean, st->life.m2);
    return 0;
}

/* The series of a spill entry (a one-series checkpoint, its header's
 * partition -1 when the series' partition had been dropped): of two stores
 * holding it, the state with more points wins (a model's n only grows). */
static int export_spill_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct export_ctx *c = ud;
    if (c->h->nseries != 1 || st->key_len != c->skey_len ||
        (st->key_len && memcmp(st->key, c->skey, st->key_len) != 0) ||
        strcmp(metric, c->smetric) != 0) {
        c->sp_bad++;
        return 0;
    }
    if (c->h->fingerprint != c->fp) {
        c->sp_other++;
        return 0;
    }
    if (st->life.n == 0)
        return 0;
    struct export_ent *e = export_set_find(&c->spilled, st->key, st->key_len, metric, true);
    if (!e) {
        c->nomem = true;
        return AD_ENOMEM;
    }
    if (e->n < st->life.n) {
        e->n = st->life.n;
        e->mean = st->life.mean;
        e->m2 = st->life.m2;
    }
    return 0;
}

static int export_spill_entry(void *ud, const char *key, size_t key_len, const char *metric,
                              const void *val, size_t val_len)
{
    struct export_ctx *c = ud;
    struct ad_ckpt_header h;
    char err[256];
    c->sp_entries++;
    c->skey = key;
    c->skey_len = key_len;
    c->smetric = metric;
    c->h = &h;
    int rc = ad_ckpt_read(val, val_len, &h, export_spill_series, c, err, sizeof(err));
    c->h = NULL;
    if (c->nomem)
        return AD_ENOMEM;
    if (rc != 0)
        c->sp_bad++;
    return 0;
}

/* Reads the spill store dir/evicted.mdb, if there is one, into c->spilled.
 * 0, or 1 when it could not be read (reported). */
static int export_spill(struct export_ctx *c, const char *dir)
{
    char path[4096], err[1024];
    struct ad_spill *sp;
    struct stat sb;

    snprintf(path, sizeof(path), "%s/%s", dir, AD_SPILL_FILE);
    if (stat(path, &sb) != 0) /* none (and ad_spill_open would create one) */
        return 0;
    int rc = ad_spill_open(dir, &sp, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr,
                "anomalyd: model export: %s: the models of the series evicted at "
                "limits.max_series are not exported%s\n",
                err,
                strstr(err, "(locked)") ? "; a running anomalyd holds the store: stop it for a "
                                          "complete export"
                                        : "");
        return 1;
    }
    rc = ad_spill_foreach(sp, export_spill_entry, c);
    ad_spill_close(sp);
    if (rc != 0) {
        fprintf(stderr, "anomalyd: model export: %s: %s\n", path,
                c->nomem ? "out of memory" : "not read to its end");
        return 1;
    }
    return 0;
}

static int name_order(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The lifetime models of state.dir: every series of its checkpoint files,
 * then those of the series evicted at limits.max_series that no checkpoint
 * holds, from the spill stores (evicted.mdb, and spill-N/evicted.mdb of
 * other instances that shared state.dir; read first, since only they are
 * held in memory). A store that a running daemon holds cannot be read: that
 * is reported and the export fails (exit 1) after writing the rest, for the
 * evicted series may be most of the models. */
static int model_export(const struct ad_config *cfg, const char *out_path)
{
    struct export_ctx c = {.out = stdout};
    struct dirent **names;
    int n, status = 0;

    if (!cfg->state_dir[0])
        return usage_error("%s", "model export: state.dir is not set");
    if (out_path && strcmp(out_path, "-") != 0 && !(c.out = fopen(out_path, "w"))) {
        fprintf(stderr, "anomalyd: %s: %s\n", out_path, strerror(errno));
        return EXIT_FATAL;
    }
    n = scandir(cfg->state_dir, &names, NULL, name_order);
    if (n < 0) {
        fprintf(stderr, "anomalyd: %s: %s\n", cfg->state_dir, strerror(errno));
        if (c.out != stdout)
            fclose(c.out);
        return EXIT_FATAL;
    }
    ad_buf_init(&c.line, 1 << 20);
    struct ad_pipeline_cfg pc;
    ad_config_to_pipeline(cfg, &pc);
    c.fp = ad_ckpt_fingerprint(&pc.window);

    /* The evicted series: the daemon's store, then those of other instances
     * that shared state.dir (ad_daemon.c's spill_open: spill-1..16). */
    if (export_spill(&c, cfg->state_dir) != 0)
        status = EXIT_FATAL;
    for (int i = 1; i <= 16 && !c.nomem; i++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/spill-%d", cfg->state_dir, i);
        if (export_spill(&c, dir) != 0)
            status = EXIT_FATAL;
    }

    for (int i = 0; i < n; i++) {
        size_t l = strlen(names[i]->d_name);
        char path[4096], *buf = NULL, err[256];
        size_t len;
        struct ad_ckpt_header h;
        if (l > 5 && strcmp(names[i]->d_name + l - 5, ".ckpt") == 0 && !c.nomem) {
            snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, names[i]->d_name);
            c.h = &h;
            if (ad_state_read_file(path, (size_t)4 << 30, &buf, &len) != 0 ||
                ad_ckpt_read(buf, len, &h, export_series_cb, &c, err, sizeof(err)) != 0) {
                fprintf(stderr, "anomalyd: %s: not usable, skipped\n", path);
                status = EXIT_FATAL;
            } else if (h.fingerprint != c.fp) {
                fprintf(stderr,
                        "anomalyd: %s: written under other window/model settings, left out\n",
                        path);
            }
            c.h = NULL;
            free(buf);
        }
        free(names[i]);
    }
    free(names);

    uint64_t from_ckpt = c.n, superseded = 0;
    for (size_t k = 0; k < c.spilled.count; k++) {
        const struct export_ent *e = &c.spilled.ents[k];
        size_t mlen = strlen(e->id);
        if (e->in_ckpt)
            superseded++;
        else
            export_line(&c, e->id + mlen + 1, e->id_len - mlen - 1, e->id, e->n, e->mean, e->m2);
    }
    if (c.sp_other)
        fprintf(stderr,
                "anomalyd: model export: %llu evicted series written under other window/model "
                "settings, left out\n",
                (unsigned long long)c.sp_other);
    if (c.sp_bad) {
        fprintf(stderr,
                "anomalyd: model export: %llu evicted series' entries not usable, skipped\n",
                (unsigned long long)c.sp_bad);
        status = EXIT_FATAL;
    }
    if (c.nomem)
        status = EXIT_FATAL;
    fprintf(stderr,
            "model export: %llu models (%llu of evicted series; %llu evicted series' entries "
            "read, %llu of them superseded by a checkpoint)\n",
            (unsigned long long)c.n, (unsigned long long)(c.n - from_ckpt),
            (unsigned long long)c.sp_entries, (unsigned long long)superseded);
    ad_buf_free(&c.line);
    export_set_free(&c.spilled);
    if (c.out != stdout && fclose(c.out) != 0)
        status = EXIT_FATAL;
    return status;
}

static int count_entry(void *ud, const char *id, size_t id_len, const char *metric, uint64_t n,
                       double mean, double m2)
{
    (void)id, (void)id_len, (void)metric, (void)n, (void)mean, (void)m2;
    ++*(uint64_t *)ud;
    return 0;
}

static int model_import(const struct ad_config *cfg, const char *path)
{
    char err[1024], chosen[4096], dst[4096];
    uint64_t count = 0;
    char *buf = NULL;
    size_t len;

    if (!cfg->state_dir[0])
        return usage_error("%s", "model import: state.dir is not set");
    if (ad_model_import_file(path, count_entry, &count, chosen, sizeof(chosen), err,
                             sizeof(err)) != 0) {
        fprintf(stderr, "anomalyd: model import: %s\n", err);
        return AD_CONFIG_EXIT;
    }
    if (ad_state_dir_init(cfg->state_dir, err, sizeof(err)) != 0 ||
        ad_state_read_file(chosen[0] ? chosen : path, (size_t)1 << 30, &buf, &len) != 0) {
        fprintf(stderr, "anomalyd: model import: %s\n", err);
        return EXIT_FATAL;
    }
    snprintf(dst, sizeof(dst), "%s/seed.m2.jsonl", cfg->state_dir);
    int rc = ad_state_write_atomic(dst, buf, len, false, err, sizeof(err));
    free(buf);
    if (rc) {
        fprintf(stderr, "anomalyd: model import: %s\n", err);
        return EXIT_FATAL;
    }
    fprintf(stderr, "model import: %llu models from %s to %s (series without a checkpoint "
                    "start from them at the next start)\n",
            (unsigned long long)count, chosen[0] ? chosen : path, dst);
    return 0;
}

/* ---- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"input", required_argument, NULL, 'i'},
        {"set", required_argument, NULL, 's'},
        {"export-model", required_argument, NULL, 'e'},
        {"input-format", required_argument, NULL, 'F'},
        {"output", required_argument, NULL, 'o'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *input = NULL, *export_path = NULL, *output = NULL;
    bool check = false, kcat = false;
    char **sets = calloc((size_t)argc, sizeof(char *));
    size_t nsets = 0;
    int c, status;

    ad_log_init();
    signal(SIGPIPE, SIG_IGN);
    if (!sets)
        return EXIT_FATAL;
    if (argc >= 2 && strcmp(argv[1], "simulate") == 0) {
        free(sets);
        return cmd_simulate(argc - 1, argv + 1);
    }
    const char *model_cmd = NULL;
    if (argc >= 3 && strcmp(argv[1], "model") == 0 &&
        (strcmp(argv[2], "export") == 0 || strcmp(argv[2], "import") == 0)) {
        model_cmd = argv[2];
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    } else if (argc >= 2 && strcmp(argv[1], "model") == 0) {
        free(sets);
        return usage_error("%s", "model: export or import expected");
    }
    if (argc >= 2 && strcmp(argv[1], "demo") == 0) {
        free(sets);
        return cmd_demo(argc - 1, argv + 1);
    }
    while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'C':
            check = true;
            break;
        case 'i':
            input = optarg;
            break;
        case 's':
            sets[nsets++] = optarg;
            break;
        case 'e':
            export_path = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'F':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "kcat") != 0) {
                free(sets);
                return usage_error("unknown --input-format '%s' (json|kcat)", optarg);
            }
            kcat = strcmp(optarg, "kcat") == 0;
            break;
        case 'V':
            printf("anomalyd %s\n", AD_VERSION);
            free(sets);
            return 0;
        case 'h':
            fputs(usage_text, stdout);
            free(sets);
            return 0;
        default:
            free(sets);
            return AD_CONFIG_EXIT;
        }
    }
    const char *model_path = NULL;
    if (model_cmd && !strcmp(model_cmd, "import") && optind < argc)
        model_path = argv[optind++];
    if (model_cmd && !strcmp(model_cmd, "import") && !model_path) {
        free(sets);
        return usage_error("%s", "model import: the model file to import is missing");
    }
    if (optind < argc) {
        free(sets);
        return usage_error("unexpected argument '%s'", argv[optind]);
    }

    struct ad_config cfg;
    char err[1024];
    int rc = ad_config_init(&cfg);
    if (rc == 0) {
        struct stat sb;
        if (config_path)
            rc = ad_config_load_file(&cfg, config_path, err, sizeof(err));
        else if (stat(DEFAULT_CONFIG, &sb) == 0)
            rc = ad_config_load_file(&cfg, DEFAULT_CONFIG, err, sizeof(err));
    } else {
        snprintf(err, sizeof(err), "%s", ad_strerror(rc));
    }
    for (size_t i = 0; rc == 0 && i < nsets; i++)
        rc = ad_config_set(&cfg, sets[i], err, sizeof(err));
    if (rc == 0)
        rc = ad_config_validate(&cfg, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "anomalyd: %s\n", err);
        free(sets);
        ad_config_free(&cfg);
        return AD_CONFIG_EXIT;
    }
    ad_log_set_level(cfg.log_level);
    if (model_cmd) {
        status = !strcmp(model_cmd, "export") ? model_export(&cfg, output)
                                              : model_import(&cfg, model_path);
    } else if (check) {
        status = ad_config_print(&cfg, stdout) == 0 ? 0 : EXIT_FATAL;
    } else if (input) {
        status = run_replay(&cfg, input, kcat, export_path);
    } else {
        struct stat sb;
        struct ad_daemon_opts opts = {
            .handle_signals = true,
            .config_path = config_path ? config_path
                                       : (stat(DEFAULT_CONFIG, &sb) == 0 ? DEFAULT_CONFIG : NULL),
            .sets = sets,
            .nsets = nsets,
        };
        status = ad_daemon_run(&cfg, &opts);
    }
    free(sets);
    ad_config_free(&cfg);
    return status;
}
