/* ad_cmd_serve.c - `anomalyd serve --listen HOST:PORT [-c FILE]`: the
 * Anomaly Detector REST API alone (docs/api.md), with /healthz, /readyz and
 * /metrics (the anomalyd_api_* families);
 * no Kafka, no state. The config file is optional: it may give http.api.*
 * (keys, limits) and log.level; the rest of it is not used. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ad_apiserve.h"
#include "ad_buf.h"
#include "ad_cmd.h"
#include "ad_daemon.h"
#include "ad_err.h"
#include "ad_httpd.h"
#include "ad_log.h"

struct serve {
    uv_signal_t sig[2];
    struct ad_httpd *httpd;
    struct ad_apiserve *api;
};

static int on_get(void *ud, const char *path, struct ad_buf *out, const char **ctype)
{
    const struct serve *sv = ud;
    if (strcmp(path, "/metrics") == 0 && sv->api) {
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        ad_api_metrics_render(sv->api, out);
        return 200;
    }
    *ctype = "text/plain; charset=utf-8";
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0) {
        ad_buf_adds(out, "ok\n");
        return 200;
    }
    return 404;
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct serve *sv = h->data;
    AD_INFO("serve", "signal %d: stopping", signum);
    for (int i = 0; i < 2; i++)
        if (!uv_is_closing((uv_handle_t *)&sv->sig[i]))
            uv_close((uv_handle_t *)&sv->sig[i], NULL);
    /* Requests on the pool finish; their answers go to closed connections
     * and are dropped. */
    ad_httpd_close(sv->httpd); /* closes the API too */
}

static int load(const char *path, struct ad_config *cfg)
{
    char err[1024];
    int rc = ad_config_init(cfg);
    if (rc == 0 && path) {
        rc = ad_config_load_file(cfg, path, err, sizeof(err));
        if (rc == 0)
            rc = ad_config_validate(cfg, err, sizeof(err));
    } else if (rc) {
        snprintf(err, sizeof(err), "%s", ad_strerror(rc));
    }
    if (rc) {
        fprintf(stderr, "anomalyd: %s\n", err);
        ad_config_free(cfg);
        return AD_CONFIG_EXIT;
    }
    ad_log_set_level(cfg->log_level);
    return 0;
}

/* The pool's size when the environment does not choose it: one thread per
 * core this process may run on, at least 2. A detect request is all CPU,
 * so threads beyond the cores add no throughput; they share the cores among
 * more requests at once, which stretches every one of them and widens the
 * latency tail (16 clients on 2 cores: p99 41-48 ms with 2 threads, 45-68 ms
 * with libuv's default 4, 76 ms with 8; docs/benchmarks.md). libuv reads the
 * variable when the loop first queues work, so this runs before. */
static void size_pool(void)
{
    if (getenv("UV_THREADPOOL_SIZE"))
        return;
    unsigned n = uv_available_parallelism();
    char v[16];
    snprintf(v, sizeof(v), "%u", n < 2 ? 2 : n);
    if (setenv("UV_THREADPOOL_SIZE", v, 0) != 0)
        AD_WARN("serve", "could not size the thread pool (UV_THREADPOOL_SIZE=%s)", v);
}

/* Serves until SIGINT/SIGTERM. */
static int run(const struct ad_config *cfg, const char *listen)
{
    uv_loop_t loop;
    struct serve sv = {0};
    struct ad_api_opts o;
    char **keys = NULL, err[512];
    int status = AD_CMD_EXIT_FATAL;

    if (ad_api_opts_from_config(cfg, &o, &keys) != 0)
        return AD_CMD_EXIT_FATAL;
    size_pool();
    uv_loop_init(&loop);
    struct ad_httpd_opts ho = {&loop, listen, on_get, &sv};
    int rc = ad_httpd_start(&ho, &sv.httpd, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "anomalyd: serve: %s\n", err + (strncmp(err, "http.", 5) == 0 ? 5 : 0));
        status = rc == AD_ECONFIG ? AD_CONFIG_EXIT : AD_CMD_EXIT_FATAL;
        goto err;
    }
    if (ad_apiserve_new(&loop, &o, &sv.api) != 0 || ad_apiserve_mount(sv.api, sv.httpd) != 0) {
        ad_httpd_close(sv.httpd);
        ad_apiserve_close(sv.api);
        goto err;
    }
    for (int i = 0; i < 2; i++) {
        uv_signal_init(&loop, &sv.sig[i]);
        sv.sig[i].data = &sv;
        uv_signal_start(&sv.sig[i], on_signal, i ? SIGTERM : SIGINT);
    }
    const char *pool = getenv("UV_THREADPOOL_SIZE");
    AD_INFO("serve",
            "Anomaly Detector API on port %d (%s), %zu key(s), max_body %zu, "
            "max_points %zu, %u per client, %s pool threads",
            ad_httpd_port(sv.httpd), listen, o.nkeys, o.max_body, o.max_points, o.max_per_client,
            pool ? pool : "4 (libuv's default)");
    status = 0;
err:
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        AD_WARN("serve", "the loop still had handles at exit");
    ad_api_keys_free(keys);
    return status;
}

int ad_cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = NULL, *config = NULL;
    struct ad_config cfg;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'h':
            fputs(ad_cmd_usage_serve, stdout);
            return 0;
        default:
            return AD_CONFIG_EXIT;
        }
    }
    if (optind < argc)
        return ad_cmd_usage_error("serve: unexpected argument '%s'", argv[optind]);
    if (!listen)
        return ad_cmd_usage_error("%s", "serve: --listen HOST:PORT is required");
    if (load(config, &cfg) != 0)
        return AD_CONFIG_EXIT;
    int status = run(&cfg, listen);
    ad_config_free(&cfg);
    return status;
}
