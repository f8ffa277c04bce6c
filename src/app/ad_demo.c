#include "ad_demo.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "ad_clock.h"
#include "ad_config.h"
#include "ad_daemon.h"
#include "ad_demo_config.h" /* demo_yaml[]: generated from the scenario C example */
#include "ad_err.h"
#include "ad_log.h"
#include "ad_simprod.h"

struct demo {
    uv_loop_t loop;
    uv_signal_t sig[2];
    uv_timer_t stop_timer;
    struct ad_daemon *daemon;
    struct ad_simprod *sim;
    bool stopping;
};

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void demo_stop(struct demo *d)
{
    if (d->stopping)
        return;
    d->stopping = true;
    if (d->sim)
        ad_simprod_stop(d->sim);
    if (d->daemon)
        ad_daemon_stop(d->daemon);
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&d->sig[i], on_closed);
    uv_close((uv_handle_t *)&d->stop_timer, on_closed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    fprintf(stderr, "demo: stopping\n");
    demo_stop(h->data);
}

static void on_timeout(uv_timer_t *t)
{
    demo_stop(t->data);
}

int ad_demo_run(const struct ad_demo_opts *opts)
{
    struct demo d;
    struct ad_config cfg;
    char err[1024], errstr[512];
    int status = 1;

    memset(&d, 0, sizeof(d));
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_conf_set(mconf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof(errstr));
    rd_kafka_mock_cluster_t *mc = owner ? rd_kafka_mock_cluster_new(owner, 1) : NULL;
    if (!mc) {
        fprintf(stderr, "anomalyd: demo: could not start the mock cluster\n");
        if (owner)
            rd_kafka_destroy(owner);
        return 1;
    }
    rd_kafka_mock_topic_create(mc, "sensor-raw", 4, 1);
    rd_kafka_mock_topic_create(mc, "anomalies", 1, 1);
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);

    if (ad_config_init(&cfg) != 0 ||
        ad_config_load_buffer(&cfg, "demo (scenario-c-sensors.yaml)", demo_yaml, strlen(demo_yaml),
                              err, sizeof(err)) != 0) {
        fprintf(stderr, "anomalyd: demo config: %s\n", err);
        goto out_cfg;
    }
    char set_brokers[600];
    snprintf(set_brokers, sizeof(set_brokers), "source.kafka.brokers=%s", bootstrap);
    const char *sets[] = {set_brokers,
                          "source.kafka.start=earliest",
                          "source.kafka.group=anomalyd-demo",
                          "sinks.alert_log.path=",
                          "model.import=",
                          "state.dir=",
                          "http.listen=127.0.0.1:0"};
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        if (ad_config_set(&cfg, sets[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "anomalyd: demo config: %s\n", err);
            goto out_cfg;
        }

    fprintf(stderr,
            "demo: Kafka-protocol cluster on %s (topics sensor-raw, anomalies)\n"
            "demo: watch the alerts with: kcat -b %s -t anomalies -C\n"
            "demo: %u simulated sensors, %.0f records/s; alerts follow (Ctrl-C stops)\n",
            bootstrap, bootstrap, opts->devices, opts->rate);
    uv_loop_init(&d.loop);
    struct ad_daemon_opts dopts = {.alerts_to_stdout = true, .handle_signals = false};
    if (ad_daemon_start(&d.loop, &cfg, &dopts, &d.daemon, err, sizeof(err)) != 0) {
        fprintf(stderr, "anomalyd: demo: %s\n", err);
        goto out_loop;
    }
    struct ad_sim_cfg sc = {
        .format = AD_SIM_SENSOR,
        .seed = opts->seed,
        .devices = opts->devices,
        .start_us = ad_clock_wall_us() / 1000000 * 1000000,
        .interval_us = (int64_t)((double)opts->devices * 1e6 / opts->rate),
        .anomaly_rate = 0.002,
        .noise = 0.5,
    };
    struct ad_simprod_opts so = {.brokers = bootstrap, .topic = "sensor-raw", .rate = opts->rate};
    if (sc.interval_us <= 0 || ad_simprod_start(&d.loop, &sc, &so, &d.sim, err, sizeof(err))) {
        fprintf(stderr, "anomalyd: demo: %s\n", err);
        ad_daemon_stop(d.daemon);
        uv_run(&d.loop, UV_RUN_DEFAULT);
        goto out_daemon;
    }
    for (int i = 0; i < 2; i++) {
        uv_signal_init(&d.loop, &d.sig[i]);
        d.sig[i].data = &d;
        uv_signal_start(&d.sig[i], on_signal, i ? SIGTERM : SIGINT);
    }
    uv_timer_init(&d.loop, &d.stop_timer);
    d.stop_timer.data = &d;
    if (opts->duration_us > 0)
        uv_timer_start(&d.stop_timer, on_timeout, (uint64_t)(opts->duration_us / 1000), 0);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    status = ad_daemon_status(d.daemon);
    fprintf(stderr, "demo: %llu records produced, stopped cleanly\n",
            (unsigned long long)ad_simprod_produced(d.sim));
    ad_simprod_free(d.sim);
out_daemon:
    ad_daemon_free(d.daemon);
out_loop:
    uv_loop_close(&d.loop);
out_cfg:
    ad_config_free(&cfg);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    return status;
}
