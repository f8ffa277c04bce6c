/* ad_config_preflight.h - every check the daemon runs on a validated config
 * before it starts anything, in one function that the daemon's start and
 * `anomalyd --check-config` both call, so that the two cannot disagree: the
 * Kafka client configurations of the consumer and the producer are built
 * (every property through rd_kafka_conf_set, the Event Hubs connection
 * string parsed; nothing connects), http.listen is parsed as the HTTP server
 * parses it, the paths are checked (state.dir can be created or written to,
 * the alert log's directory exists and can be written to) and the URLs
 * (sinks.webhook.url, remote.anomaly_detector.endpoint) are parsed with
 * libcurl's URL API.
 *
 * On request it prints the Kafka settings derived from the config (those
 * that differ from librdkafka's defaults, secrets masked by ad_secret.h) and
 * probes what the daemon will talk to: a metadata request to the brokers
 * (and for state.topic, which must exist, as at the daemon's start) and a
 * connection to each HTTP endpoint, with a deadline. */
#ifndef AD_CONFIG_PREFLIGHT_H
#define AD_CONFIG_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ad_config.h"

struct ad_preflight_opts {
    FILE *report;   /* NULL: silent; else the derived settings, as YAML comments */
    bool probe;     /* also reach the brokers and the HTTP endpoints */
    int timeout_ms; /* of each probe; 0: 5000 */
};

/* Runs the checks on cfg (validated: ad_config_validate). o may be NULL (no
 * report, no probe). Returns 0; AD_ECONFIG with "key: reason" in err for a
 * setting the daemon cannot start with; AD_EIO for state.dir that cannot be
 * created or written to (a disk's problem more than the config's: the daemon
 * exits 1 for it, as it always did); with o->probe, AD_EAGAIN for a broker
 * or endpoint that does not answer; AD_ENOMEM. No secret is ever in err. */
int ad_config_preflight(const struct ad_config *cfg, const struct ad_preflight_opts *o, char *err,
                        size_t errlen);

#endif
