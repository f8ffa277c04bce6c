/* ad_cmd_simulate.c - `anomalyd simulate`: simulated telemetry (ad_sim.c)
 * with injected anomalies, as JSON lines or kcat envelopes to a file, or
 * produced to a Kafka topic (ad_simprod.c). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "ad_buf.h"
#include "ad_cmd.h"
#include "ad_sim.h"
#include "ad_simprod.h"
#include "ad_time.h"

struct sim_opts {
    struct ad_sim_cfg sc;
    uint64_t count;
    const char *truth_path, *out_path;
    bool kcat;
    const char *brokers, *topic;
    double rate;
};

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
static int simulate_kafka(const struct sim_opts *so)
{
    uv_loop_t loop;
    uv_signal_t sig[2];
    struct ad_simprod *sp;
    char err[512];
    struct ad_simprod_opts o = {.brokers = so->brokers,
                                .topic = so->topic,
                                .rate = so->rate,
                                .count = so->count,
                                .done = simulate_done,
                                .ud = sig};
    uv_loop_init(&loop);
    if (ad_simprod_start(&loop, &so->sc, &o, &sp, err, sizeof(err)) != 0) {
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
            (unsigned long long)produced, (unsigned long long)delivered, so->topic);
    ad_simprod_free(sp);
    uv_loop_close(&loop);
    return produced == delivered ? 0 : AD_CMD_EXIT_FATAL;
}

/* Wraps the record in rec as the envelope kcat -J prints (offset i). */
static void kcat_wrap(const struct sim_opts *so, uint64_t i, const struct ad_sim_record *r,
                      struct ad_buf *rec, struct ad_buf *env)
{
    ad_buf_reset(env);
    ad_sim_kcat_envelope(r, so->sc.format, i, rec->p, rec->len, env);
    ad_buf_reset(rec);
    ad_buf_add(rec, env->p, env->len);
}

/* Writes count records to out and the injected anomalies to truth (or NULL). */
static int simulate_write(const struct sim_opts *so, struct ad_sim *sim, FILE *out, FILE *truth)
{
    static const char *const metric_of[] = {"temp", "temperature", "favorite"};
    struct ad_buf rec, tl, env;
    struct ad_sim_record r;
    int status = 0;
    ad_buf_init(&rec, 4096);
    ad_buf_init(&tl, 4096);
    ad_buf_init(&env, 16384);
    for (uint64_t i = 0; i < so->count && status == 0; i++) {
        ad_buf_reset(&rec);
        if (ad_sim_next(sim, &rec, &r) != 0) {
            status = AD_CMD_EXIT_FATAL;
            break;
        }
        if (so->kcat)
            kcat_wrap(so, i, &r, &rec, &env);
        if (ad_buf_addc(&rec, '\n') != 0) {
            status = AD_CMD_EXIT_FATAL;
            break;
        }
        if (fwrite(rec.p, 1, rec.len, out) != rec.len)
            status = AD_CMD_EXIT_FATAL;
        if (truth && r.anomaly) {
            ad_buf_reset(&tl);
            ad_sim_truth_line(&r, metric_of[so->sc.format], &tl);
            fwrite(tl.p, 1, tl.len, truth);
        }
    }
    if (fflush(out) != 0 || (truth && fflush(truth) != 0))
        status = AD_CMD_EXIT_FATAL;
    if (status)
        fprintf(stderr, "anomalyd: simulate: write failed: %s\n", strerror(errno));
    ad_buf_free(&rec);
    ad_buf_free(&tl);
    ad_buf_free(&env);
    return status;
}

static int simulate_file(const struct sim_opts *so)
{
    struct ad_sim *sim;
    if (ad_sim_new(&so->sc, &sim) != 0)
        return ad_cmd_usage_error("%s", "simulate: invalid options");
    FILE *out = strcmp(so->out_path, "-") == 0 ? stdout : fopen(so->out_path, "w");
    FILE *truth = so->truth_path ? fopen(so->truth_path, "w") : NULL;
    int status;
    if (!out || (so->truth_path && !truth)) {
        fprintf(stderr, "anomalyd: simulate: %s: %s\n", !out ? so->out_path : so->truth_path,
                strerror(errno));
        status = AD_CMD_EXIT_FATAL;
    } else {
        status = simulate_write(so, sim, out, truth);
    }
    if (out && out != stdout)
        fclose(out);
    if (truth)
        fclose(truth);
    ad_sim_free(sim);
    return status;
}

/* One option into so: 0, or the exit status to return now (-1 for --help). */
static int simulate_opt(struct sim_opts *so, int c, const char *arg)
{
    uint64_t u;
    switch (c) {
    case 'f':
        return ad_sim_format_parse(arg, &so->sc.format)
                   ? ad_cmd_usage_error("simulate: unknown --format '%s'", arg)
                   : 0;
    case 'n':
        return ad_cmd_parse_u64(arg, &so->count)
                   ? ad_cmd_usage_error("simulate: bad --count '%s'", arg)
                   : 0;
    case 'd':
        if (ad_cmd_parse_u64(arg, &u) || u == 0 || u > 10000000)
            return ad_cmd_usage_error("simulate: bad --devices '%s' (1..10000000)", arg);
        so->sc.devices = (uint32_t)u;
        return 0;
    case 's':
        return ad_cmd_parse_u64(arg, &so->sc.seed)
                   ? ad_cmd_usage_error("simulate: bad --seed '%s'", arg)
                   : 0;
    case 'i':
        if (ad_duration_parse(arg, &so->sc.interval_us) || so->sc.interval_us <= 0)
            return ad_cmd_usage_error("simulate: bad --interval '%s'", arg);
        return 0;
    case 't':
        return ad_time_parse_rfc3339(arg, strlen(arg), &so->sc.start_us)
                   ? ad_cmd_usage_error("simulate: bad --start '%s' (RFC 3339)", arg)
                   : 0;
    case 'a':
        if (ad_cmd_parse_double(arg, &so->sc.anomaly_rate) || so->sc.anomaly_rate < 0 ||
            so->sc.anomaly_rate > 1)
            return ad_cmd_usage_error("simulate: bad --anomaly-rate '%s' (0..1)", arg);
        return 0;
    case 'g':
        so->truth_path = arg;
        return 0;
    case 'o':
        so->out_path = arg;
        return 0;
    case 'b':
        so->brokers = arg;
        return 0;
    case 'T':
        so->topic = arg;
        return 0;
    case 'r':
        if (ad_cmd_parse_double(arg, &so->rate) || !(so->rate > 0) || so->rate > 1e7)
            return ad_cmd_usage_error("simulate: bad --rate '%s'", arg);
        return 0;
    case 'O':
        if (strcmp(arg, "json") != 0 && strcmp(arg, "kcat") != 0)
            return ad_cmd_usage_error("simulate: unknown --output-format '%s' (json|kcat)", arg);
        so->kcat = strcmp(arg, "kcat") == 0;
        return 0;
    case 'h':
        return -1;
    default:
        return AD_CONFIG_EXIT;
    }
}

int ad_cmd_simulate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},
        {"devices", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'},
        {"start", required_argument, NULL, 't'},
        {"anomaly-rate", required_argument, NULL, 'a'},
        {"truth", required_argument, NULL, 'g'},
        {"output", required_argument, NULL, 'o'},
        {"output-format", required_argument, NULL, 'O'},
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 'T'},
        {"rate", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sim_opts so = {
        .sc = {.format = AD_SIM_SENSOR,
               .seed = 1,
               .devices = 100,
               .interval_us = 1000000,
               .anomaly_rate = 0.001,
               .noise = 0.5},
        .count = 10000,
        .out_path = "-",
        .topic = "sensor-raw",
        .rate = 1000,
    };
    int c, rc;

    ad_time_parse_rfc3339("2026-11-20T10:00:00Z", 20, &so.sc.start_us);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        rc = simulate_opt(&so, c, optarg);
        if (rc == -1) {
            fputs(ad_cmd_usage_simulate, stdout);
            return 0;
        }
        if (rc)
            return rc;
    }
    if (optind < argc)
        return ad_cmd_usage_error("simulate: unexpected argument '%s'", argv[optind]);
    return so.brokers ? simulate_kafka(&so) : simulate_file(&so);
}
