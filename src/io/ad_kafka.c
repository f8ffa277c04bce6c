#include "ad_kafka.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ad_err.h"
#include "ad_secret.h"

int ad_eventhubs_bootstrap(const char *connstr, char *bootstrap, size_t len, char *err,
                           size_t errlen)
{
    const char *p = connstr;
    while (p && *p) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        if (n > 9 && strncasecmp(p, "Endpoint=", 9) == 0) {
            const char *host = p + 9;
            size_t hl = n - 9;
            if (hl > 5 && strncasecmp(host, "sb://", 5) == 0) {
                host += 5;
                hl -= 5;
            }
            size_t i = 0;
            while (i < hl && host[i] != '/' && host[i] != ':')
                i++;
            if (i == 0 || i + 6 > len) {
                snprintf(err, errlen, "Endpoint has no usable host name");
                return AD_ECONFIG;
            }
            memcpy(bootstrap, host, i);
            snprintf(bootstrap + i, len - i, ":9093");
            return 0;
        }
        p = end ? end + 1 : NULL;
    }
    snprintf(err, errlen, "no Endpoint=sb://<namespace>.servicebus.windows.net/ in it");
    return AD_ECONFIG;
}

int ad_kafka_instance_id(const struct ad_config *cfg, char *out, size_t len)
{
    const char *id = cfg->kafka.instance_id ? cfg->kafka.instance_id : "";
    char host[256];
    int n;
    if (strcmp(id, "auto") != 0) {
        n = snprintf(out, len, "%s", id);
    } else {
        if (gethostname(host, sizeof(host)) != 0)
            snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        /* Two instances on one host differ by their state directory (a
         * hash of its path: stable across restarts, short). */
        uint32_t h = 2166136261u;
        for (const char *p = cfg->state_dir ? cfg->state_dir : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        n = snprintf(out, len, "anomalyd-%s-%s-%08x", host, cfg->kafka.group, (unsigned)h);
    }
    if (n < 0 || (size_t)n >= len) {
        if (len)
            out[0] = '\0';
        return AD_ECONFIG;
    }
    return n;
}

/* Sets one property. librdkafka's reason may quote the value: that of a
 * property with a secret name (ad_secret.h) is masked in it. */
static int set(rd_kafka_conf_t *conf, const char *name, const char *value, const char *what,
               char *err, size_t errlen)
{
    char e[512];
    if (rd_kafka_conf_set(conf, name, value, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
        if (ad_secret_name(name))
            ad_secret_scrub(e, sizeof(e), value);
        snprintf(err, errlen, "%s%s: %s", what, name, e);
        return AD_ECONFIG;
    }
    return 0;
}

int ad_kafka_conf_new(const struct ad_config *cfg, enum ad_kafka_role role, rd_kafka_conf_t **out,
                      char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *cs = cfg->kafka.event_hubs_connection_string;
    char bootstrap[512], iid[300];
    int rc = 0;

#define SET(n, v)                                                                                  \
    do {                                                                                           \
        if ((rc = set(conf, (n), (v), "", err, errlen)) != 0)                                      \
            goto fail;                                                                             \
    } while (0)

    SET("client.id", "anomalyd");
    if (cs && *cs) {
        rc = ad_eventhubs_bootstrap(cs, bootstrap, sizeof(bootstrap), err, errlen);
        if (rc) {
            char inner[256];
            snprintf(inner, sizeof(inner), "%s", err);
            snprintf(err, errlen, "source.kafka.event_hubs_connection_string: %s", inner);
            goto fail;
        }
        SET("bootstrap.servers", bootstrap);
        SET("security.protocol", "SASL_SSL");
        SET("sasl.mechanisms", "PLAIN");
        SET("sasl.username", "$ConnectionString");
        SET("sasl.password", cs);
        /* The service's recommended client settings. librdkafka's own idle
         * connection fix for Azure does not trigger for servicebus hosts. */
        SET("socket.keepalive.enable", "true");
        SET("metadata.max.age.ms", "180000");
        SET("connections.max.idle.ms", "180000");
        /* request.timeout.ms is a producer property: a consumer logs a
         * configuration warning for it at every start. */
        if (role == AD_KAFKA_PRODUCER)
            SET("request.timeout.ms", "60000");
        else
            SET("session.timeout.ms", "30000");
    } else {
        SET("bootstrap.servers", cfg->kafka.brokers);
    }
    if (role == AD_KAFKA_CONSUMER) {
        SET("group.id", cfg->kafka.group);
        SET("partition.assignment.strategy", "cooperative-sticky");
        int idn = ad_kafka_instance_id(cfg, iid, sizeof(iid));
        if (idn < 0) {
            snprintf(err, errlen, "source.kafka.instance_id: longer than %zu bytes",
                     sizeof(iid) - 1);
            rc = AD_ECONFIG;
            goto fail;
        }
        if (idn > 0)
            SET("group.instance.id", iid);
        SET("enable.auto.offset.store", "false");
        SET("enable.auto.commit", "true");
        SET("auto.commit.interval.ms", "5000");
        SET("enable.partition.eof", "false");
        SET("auto.offset.reset", cfg->kafka.start == AD_START_EARLIEST ? "earliest" : "latest");
        /* librdkafka (before 2.4) stops fetching at queued.min.messages
         * (100k) and looks again only when its broker thread wakes, up to a
         * second later; we drain 100k records in a fraction of that. The
         * queue stays bounded by queued.max.messages.kbytes (64 MiB). */
        SET("queued.min.messages", "1000000");
    } else {
        SET("enable.idempotence", "true");
        SET("acks", "all");
        /* Alerts leave as soon as their window closes: 1 ms at most of
         * batching (docs/config.md; source.kafka.properties overrides). */
        SET("linger.ms", "1");
    }
    for (size_t i = 0; i < cfg->kafka.properties.n; i++) {
        rc = set(conf, cfg->kafka.properties.k[i], cfg->kafka.properties.v[i],
                 "source.kafka.properties.", err, errlen);
        if (rc)
            goto fail;
    }
#undef SET
    *out = conf;
    return 0;
fail:
    rd_kafka_conf_destroy(conf);
    return rc;
}
