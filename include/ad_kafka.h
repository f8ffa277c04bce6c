/* ad_kafka.h - librdkafka configuration from the anomalyd config: brokers or
 * the Event Hubs Kafka endpoint, the consumer group settings that the
 * at-least-once rule needs, and raw properties passed through last. */
#ifndef AD_KAFKA_H
#define AD_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "ad_config.h"

enum ad_kafka_role { AD_KAFKA_CONSUMER = 0, AD_KAFKA_PRODUCER };

/* Parses an Event Hubs connection string
 * ("Endpoint=sb://NAMESPACE.servicebus.windows.net/;SharedAccessKeyName=..;
 * SharedAccessKey=..[;EntityPath=..]") and writes "HOST:9093" to bootstrap.
 * Returns 0 or AD_ECONFIG with a reason in err (which never contains the key). */
int ad_eventhubs_bootstrap(const char *connstr, char *bootstrap, size_t len, char *err,
                           size_t errlen);

/* Writes the consumer's group.instance.id (static membership) from
 * source.kafka.instance_id to out: "" none, "auto"
 * anomalyd-HOSTNAME-GROUP-XXXXXXXX (a hash of state.dir), anything else as
 * given. Returns its length (0: no static membership), or AD_ECONFIG when it
 * does not fit in len. */
int ad_kafka_instance_id(const struct ad_config *cfg, char *out, size_t len);

/* Builds a librdkafka configuration for role. Consumers: group.id,
 * cooperative-sticky assignment, group.instance.id (ad_kafka_instance_id),
 * enable.auto.offset.store=false,
 * auto.offset.reset from source.kafka.start, enable.partition.eof=false.
 * Producers: enable.idempotence=true, acks=all. With an Event Hubs connection
 * string: bootstrap <namespace>:9093, SASL_SSL, PLAIN, user $ConnectionString,
 * the connection string as password, and the service's recommended client
 * settings. source.kafka.properties are applied last and override all of it.
 * Returns 0 and an owned conf (hand it to rd_kafka_new or destroy it), or
 * AD_ECONFIG with "source.kafka.properties.NAME: reason" in err; the value
 * of a property with a secret name (ad_secret_name()) is never in err. */
int ad_kafka_conf_new(const struct ad_config *cfg, enum ad_kafka_role role, rd_kafka_conf_t **out,
                      char *err, size_t errlen);

#endif
