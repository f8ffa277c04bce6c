/* ad_config_preflight.c - the start checks of a config, shared by the daemon
 * and --check-config (see include/ad_config_preflight.h). */
#include "ad_config_preflight.h"

#include <curl/curl.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "ad_err.h"
#include "ad_httpd.h"
#include "ad_kafka.h"
#include "ad_remote.h"
#include "ad_secret.h"
#include "ad_statetopic.h"
#include "ad_webhook.h"

#define PROBE_MS 5000

/* ---- paths ---------------------------------------------------------------------------- */

/* The directory part of path into dir ("." when there is none). */
static void dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* 0 when dir is a directory this process can create files in, else a reason
 * in why. */
static int dir_writable(const char *dir, char *why, size_t len)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(why, len, "directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, len, "%s is not a directory", dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(why, len, "directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* state.dir: an existing directory we can write to, or one the daemon can
 * create (it creates the last component only). */
static int check_state_dir(const char *sd, char *err, size_t errlen)
{
    char parent[4096], why[4400];
    struct stat st;
    if (!sd[0])
        return 0;
    if (stat(sd, &st) == 0) {
        if (dir_writable(sd, why, sizeof(why)) == 0)
            return 0;
    } else {
        dir_of(sd, parent, sizeof(parent));
        if (dir_writable(parent, why, sizeof(why)) == 0)
            return 0;
    }
    snprintf(err, errlen, "state.dir %s: %s", sd, why);
    return AD_EIO;
}

/* sinks.alert_log.path: a file we can append to, or a directory where it can
 * be created. */
static int check_alert_log(const char *path, char *err, size_t errlen)
{
    char dir[4096], why[4400];
    struct stat st;
    if (!path[0])
        return 0;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            snprintf(why, sizeof(why), "%s is a directory", path);
        else if (access(path, W_OK) != 0)
            snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
        else
            return 0;
    } else {
        dir_of(path, dir, sizeof(dir));
        if (dir_writable(dir, why, sizeof(why)) == 0)
            return 0;
    }
    snprintf(err, errlen, "sinks.alert_log.path: the alert log cannot be written: %s", why);
    return AD_ECONFIG;
}

/* ---- Kafka ------------------------------------------------------------------------------ */

/* Finds name in a dump (name, value pairs); NULL when absent. */
static const char *dump_find(const char **d, size_t n, const char *name)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        if (strcmp(d[i], name) == 0)
            return d[i + 1];
    return NULL;
}

/* True for a dump entry that is a pointer (callbacks, opaques, the default
 * topic configuration), not a setting. */
static bool is_pointer(const char *name, const char *value)
{
    size_t n = strlen(name);
    return (n > 3 && strcmp(name + n - 3, "_cb") == 0) || strstr(name, "opaque") ||
           strcmp(name, "default_topic_conf") == 0 || strncmp(value, "0x", 2) == 0;
}

/* Prints the pairs of dump that differ from base's, secrets masked, under
 * librdkafka's own names (bootstrap.servers is metadata.broker.list). */
static void print_diff(FILE *f, const char *role, const char **dump, size_t n, const char **base,
                       size_t nbase)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        const char *def = dump_find(base, nbase, dump[i]);
        if ((def && strcmp(def, dump[i + 1]) == 0) || is_pointer(dump[i], dump[i + 1]))
            continue;
        fprintf(f, "#   %s %s = %s\n", role, dump[i], ad_secret_show(dump[i], dump[i + 1]));
    }
}

/* The settings of conf that are not librdkafka's defaults (the client-level
 * ones, then the topic-level ones). */
static void print_kafka(FILE *f, const char *role, rd_kafka_conf_t *conf)
{
    rd_kafka_conf_t *def = rd_kafka_conf_new();
    size_t n, nbase;
    const char **dump = rd_kafka_conf_dump(conf, &n);
    const char **base = rd_kafka_conf_dump(def, &nbase);
    print_diff(f, role, dump, n, base, nbase);
    rd_kafka_conf_dump_free(base, nbase);
    rd_kafka_conf_dump_free(dump, n);
    rd_kafka_topic_conf_t *tc = rd_kafka_conf_get_default_topic_conf(conf);
    if (tc) {
        rd_kafka_topic_conf_t *tdef = rd_kafka_topic_conf_new();
        dump = rd_kafka_topic_conf_dump(tc, &n);
        base = rd_kafka_topic_conf_dump(tdef, &nbase);
        print_diff(f, role, dump, n, base, nbase);
        rd_kafka_conf_dump_free(base, nbase);
        rd_kafka_conf_dump_free(dump, n);
        rd_kafka_topic_conf_destroy(tdef);
    }
    rd_kafka_conf_destroy(def);
}

/* state.topic as the daemon checks it at start (ad_statetopic_partitions,
 * through the same kind of client): a topic that does not exist is the
 * config's error. */
static int probe_state_topic(rd_kafka_t *rk, const struct ad_config *cfg, int ms, FILE *report,
                             char *err, size_t errlen)
{
    char e[512];
    int n = ad_statetopic_partitions(rk, cfg->state_topic, ms, e, sizeof(e));
    if (n == AD_ENOENT) {
        snprintf(err, errlen, "state.topic: %s", e);
        return AD_ECONFIG;
    }
    if (n < 0) {
        snprintf(err, errlen, "state.topic: %s", e);
        return AD_EAGAIN;
    }
    if (report)
        fprintf(report, "# state.topic: %s, %d partition(s)\n", cfg->state_topic, n);
    return 0;
}

/* Asks the brokers for the cluster's metadata with a producer built from
 * conf (which it takes), then for state.topic's. */
static int probe_brokers(const struct ad_config *cfg, rd_kafka_conf_t *conf,
                         const struct ad_preflight_opts *o, char *err, size_t errlen)
{
    char e[512];
    const struct rd_kafka_metadata *md = NULL;
    int ms = o->timeout_ms > 0 ? o->timeout_ms : PROBE_MS;
    rd_kafka_conf_set(conf, "log_level", "0", e, sizeof(e));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "source.kafka: while creating a Kafka client: %s", e);
        return AD_ECONFIG;
    }
    rd_kafka_resp_err_t re = rd_kafka_metadata(rk, 0, NULL, &md, ms);
    int rc = 0;
    if (re != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "source.kafka.brokers: no metadata within %d ms: %s", ms,
                 rd_kafka_err2str(re));
        rc = AD_EAGAIN;
    } else if (o->report) {
        fprintf(o->report, "# brokers: reachable (%d broker(s), %d topic(s))\n", md->broker_cnt,
                md->topic_cnt);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rc == 0 && cfg->state_topic[0])
        rc = probe_state_topic(rk, cfg, ms, o->report, err, errlen);
    rd_kafka_destroy(rk);
    return rc;
}

/* The consumer's and the producer's configurations; reported, and with a
 * probe, the producer's asks the brokers for metadata. */
static int check_kafka(const struct ad_config *cfg, const struct ad_preflight_opts *o, char *err,
                       size_t errlen)
{
    static const char *const roles[] = {"consumer", "producer"};
    rd_kafka_conf_t *conf;
    int rc = 0;
    if (o->report)
        fprintf(o->report, "# derived Kafka client settings (not librdkafka's defaults):\n");
    for (int r = AD_KAFKA_CONSUMER; r <= AD_KAFKA_PRODUCER && rc == 0; r++) {
        rc = ad_kafka_conf_new(cfg, (enum ad_kafka_role)r, &conf, err, errlen);
        if (rc)
            return rc;
        if (o->report)
            print_kafka(o->report, roles[r], conf);
        if (o->probe && r == AD_KAFKA_PRODUCER)
            rc = probe_brokers(cfg, conf, o, err, errlen); /* takes conf */
        else
            rd_kafka_conf_destroy(conf);
    }
    return rc;
}

/* ---- HTTP endpoints ----------------------------------------------------------------------- */

/* Connects to url (TCP, and TLS for https) and disconnects. */
static int probe_url(const char *key, const char *url, const struct ad_preflight_opts *o, char *err,
                     size_t errlen)
{
    char shown[1024];
    long ms = o->timeout_ms > 0 ? o->timeout_ms : PROBE_MS;
    CURL *h = curl_easy_init();
    if (!h)
        return AD_ENOMEM;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode c = curl_easy_perform(h);
    curl_easy_cleanup(h);
    ad_secret_url(url, shown, sizeof(shown));
    if (c != CURLE_OK) {
        snprintf(err, errlen, "%s: cannot connect to %s: %s", key, shown, curl_easy_strerror(c));
        return AD_EAGAIN;
    }
    if (o->report)
        fprintf(o->report, "# %s: reachable (%s)\n", key, shown);
    return 0;
}

static int probe_http(const struct ad_config *cfg, const struct ad_preflight_opts *o, char *err,
                      size_t errlen)
{
    int rc = 0;
    if (cfg->sinks.webhook_url[0])
        rc = probe_url("sinks.webhook.url", cfg->sinks.webhook_url, o, err, errlen);
    if (rc == 0 && cfg->remote.mode != AD_REMOTE_OFF && strcmp(cfg->remote.endpoint, "local") != 0)
        rc = probe_url("remote.anomaly_detector.endpoint", cfg->remote.endpoint, o, err, errlen);
    return rc;
}

/* ---- all of it ----------------------------------------------------------------------------- */

int ad_config_preflight(const struct ad_config *cfg, const struct ad_preflight_opts *o, char *err,
                        size_t errlen)
{
    static const struct ad_preflight_opts quiet = {0};
    const char *ep = cfg->remote.endpoint;
    int rc;

    if (!o)
        o = &quiet;
    /* In the order the daemon meets them: the sinks, state.dir, http.listen,
     * Kafka. */
    rc = check_alert_log(cfg->sinks.alert_log_path, err, errlen);
    rc = rc ? rc : ad_webhook_check(cfg, err, errlen);
    if (rc == 0 && ep[0])
        rc = ad_remote_endpoint_check(ep, err, errlen);
    rc = rc ? rc : check_state_dir(cfg->state_dir, err, errlen);
    if (rc == 0 && cfg->http_listen[0]) {
        struct sockaddr_storage addr;
        rc = ad_httpd_listen_addr(cfg->http_listen, &addr, err, errlen);
    }
    rc = rc ? rc : check_kafka(cfg, o, err, errlen);
    if (rc == 0 && o->probe)
        rc = probe_http(cfg, o, err, errlen);
    return rc;
}
