/* librdkafka configuration from the anomalyd config: Event Hubs translation,
 * the at-least-once consumer settings, pass-through properties, secrets. */
#include "ad_test.h"

#include "ad_config.h"
#include "ad_err.h"
#include "ad_kafka.h"
#include "ad_kafka_client.h"

#define CS                                                                                         \
    "Endpoint=sb://myns.servicebus.windows.net/"                                                   \
    ";SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=c2VjcmV0LWtleQ=="

static const char *get(rd_kafka_conf_t *c, const char *name)
{
    static char buf[1024];
    size_t len = sizeof(buf);
    if (rd_kafka_conf_get(c, name, buf, &len) != RD_KAFKA_CONF_OK)
        return "(unset)";
    return buf;
}

static void load(struct ad_config *cfg, const char *yaml)
{
    char err[512];
    AD_EXPECT_INT(ad_config_init(cfg), ==, 0);
    if (ad_config_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), err, sizeof(err)) != 0)
        AD_FAIL_("load: %s", err);
}

static void test_event_hubs_bootstrap(void)
{
    char b[256], err[256];
    AD_EXPECT_INT(ad_eventhubs_bootstrap(CS, b, sizeof(b), err, sizeof(err)), ==, 0);
    AD_EXPECT_STR(b, "myns.servicebus.windows.net:9093");
    AD_EXPECT_INT(ad_eventhubs_bootstrap("SharedAccessKey=abc", b, sizeof(b), err, sizeof(err)), ==,
                  AD_ECONFIG);
    AD_EXPECT(strstr(err, "abc") == NULL);
    AD_EXPECT_INT(ad_eventhubs_bootstrap("Endpoint=sb:///;SharedAccessKey=zz", b, sizeof(b), err,
                                         sizeof(err)),
                  ==, AD_ECONFIG);
    AD_EXPECT(strstr(err, "zz") == NULL);
}

static void test_event_hubs_consumer(void)
{
    struct ad_config cfg;
    rd_kafka_conf_t *c;
    char err[512];
    load(&cfg, "source:\n  kafka:\n    group: ad-con-grp\n    start: earliest\n"
               "    event_hubs_connection_string: \"" CS "\"\n");
    AD_EXPECT_INT(ad_kafka_conf_new(&cfg, AD_KAFKA_CONSUMER, &c, err, sizeof(err)), ==, 0);
    AD_EXPECT_STR(get(c, "bootstrap.servers"), "myns.servicebus.windows.net:9093");
    AD_EXPECT_STR(get(c, "security.protocol"), "sasl_ssl");
    AD_EXPECT_STR(get(c, "sasl.mechanisms"), "PLAIN");
    AD_EXPECT_STR(get(c, "sasl.username"), "$ConnectionString");
    AD_EXPECT_STR(get(c, "sasl.password"), CS);
    AD_EXPECT_STR(get(c, "socket.keepalive.enable"), "true");
    AD_EXPECT_STR(get(c, "metadata.max.age.ms"), "180000");
    AD_EXPECT_STR(get(c, "connections.max.idle.ms"), "180000");
    AD_EXPECT_STR(get(c, "session.timeout.ms"), "30000");
    AD_EXPECT_STR(get(c, "group.id"), "ad-con-grp");
    AD_EXPECT_STR(get(c, "enable.auto.offset.store"), "false");
    AD_EXPECT_STR(get(c, "partition.assignment.strategy"), "cooperative-sticky");
    AD_EXPECT_STR(get(c, "auto.offset.reset"), "smallest"); /* librdkafka's name for earliest */
    /* Well under Event Hubs' 4 commits/s per partition. */
    AD_EXPECT_INT(strtol(get(c, "auto.commit.interval.ms"), NULL, 10), >=, 1000);
    rd_kafka_conf_destroy(c);
    ad_config_free(&cfg);
}

static void test_properties_override(void)
{
    struct ad_config cfg;
    rd_kafka_conf_t *c;
    char err[512];
    load(&cfg, "source:\n  kafka:\n    event_hubs_connection_string: \"" CS "\"\n"
               "    properties: {session.timeout.ms: 45000, request.timeout.ms: 30000}\n");
    AD_EXPECT_INT(ad_kafka_conf_new(&cfg, AD_KAFKA_CONSUMER, &c, err, sizeof(err)), ==, 0);
    AD_EXPECT_STR(get(c, "session.timeout.ms"), "45000");
    AD_EXPECT_STR(get(c, "request.timeout.ms"), "30000");
    rd_kafka_conf_destroy(c);
    AD_EXPECT_INT(ad_kafka_conf_new(&cfg, AD_KAFKA_PRODUCER, &c, err, sizeof(err)), ==, 0);
    AD_EXPECT_STR(get(c, "enable.idempotence"), "true");
    AD_EXPECT_STR(get(c, "acks"), "-1");
    rd_kafka_conf_destroy(c);
    ad_config_free(&cfg);
}

static void test_bad_property_names_the_key_not_the_value(void)
{
    struct ad_config cfg;
    rd_kafka_conf_t *c = NULL;
    char err[512];
    load(&cfg, "source:\n  kafka:\n    properties: {no.such.property: hunter2}\n");
    AD_EXPECT_INT(ad_kafka_conf_new(&cfg, AD_KAFKA_CONSUMER, &c, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT_CONTAINS(err, "source.kafka.properties.no.such.property");
    AD_EXPECT(strstr(err, "hunter2") == NULL);
    ad_config_free(&cfg);
}

static void test_plain_brokers(void)
{
    struct ad_config cfg;
    rd_kafka_conf_t *c;
    char err[512];
    load(&cfg, "source:\n  kafka:\n    brokers: \"10.0.0.1:9092,10.0.0.2:9092\"\n");
    AD_EXPECT_INT(ad_kafka_conf_new(&cfg, AD_KAFKA_CONSUMER, &c, err, sizeof(err)), ==, 0);
    AD_EXPECT_STR(get(c, "bootstrap.servers"), "10.0.0.1:9092,10.0.0.2:9092");
    AD_EXPECT_STR(get(c, "security.protocol"), "plaintext");
    AD_EXPECT_STR(get(c, "auto.offset.reset"), "largest");
    rd_kafka_conf_destroy(c);
    ad_config_free(&cfg);
}

/* Item 9 of issue 17: the Event Hubs preset's request.timeout.ms is a
 * producer property; a consumer given it logs a configuration warning at
 * every start. Creates both clients and watches librdkafka's log. */
static char conf_warnings[2048];

static void capture_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    size_t n = strlen(conf_warnings);
    (void)rk;
    if (level <= 4 && !strcmp(fac, "CONFWARN"))
        snprintf(conf_warnings + n, sizeof(conf_warnings) - n, "%s: %s\n", fac, buf);
}

static void new_client(const struct ad_config *cfg, enum ad_kafka_role role)
{
    rd_kafka_conf_t *c;
    char err[512];
    AD_EXPECT_INT(ad_kafka_conf_new(cfg, role, &c, err, sizeof(err)), ==, 0);
    rd_kafka_conf_set_log_cb(c, capture_log);
    rd_kafka_t *rk = rd_kafka_new(role == AD_KAFKA_CONSUMER ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER,
                                  c, err, sizeof(err));
    if (!rk)
        AD_FAIL_("rd_kafka_new: %s", err);
    rd_kafka_destroy(rk);
}

static void test_event_hubs_no_config_warning(void)
{
    struct ad_config cfg;
    rd_kafka_conf_t *c;
    char err[512];
    /* A closed port on loopback: nothing answers, nothing waits. */
    load(&cfg, "source:\n  kafka:\n    event_hubs_connection_string: "
               "\"Endpoint=sb://127.0.0.1/;SharedAccessKeyName=k;SharedAccessKey=eA==\"\n");
    conf_warnings[0] = '\0';
    new_client(&cfg, AD_KAFKA_CONSUMER);
    AD_EXPECT(strstr(conf_warnings, "request.timeout.ms") == NULL);
    AD_EXPECT_STR(conf_warnings, "");
    new_client(&cfg, AD_KAFKA_PRODUCER);
    AD_EXPECT_STR(conf_warnings, "");
    if (conf_warnings[0])
        fprintf(stderr, "# librdkafka warned:\n%s", conf_warnings);
    AD_EXPECT_INT(ad_kafka_conf_new(&cfg, AD_KAFKA_PRODUCER, &c, err, sizeof(err)), ==, 0);
    AD_EXPECT_STR(get(c, "request.timeout.ms"), "60000"); /* still the producer's */
    rd_kafka_conf_destroy(c);
    ad_config_free(&cfg);
}

/* Item 2 of issue 17: static membership (group.instance.id). */
static void instance_id(const char *yaml, char *out, size_t len)
{
    struct ad_config cfg;
    rd_kafka_conf_t *c;
    char err[512];
    load(&cfg, yaml);
    AD_EXPECT_INT(ad_kafka_conf_new(&cfg, AD_KAFKA_CONSUMER, &c, err, sizeof(err)), ==, 0);
    snprintf(out, len, "%s", get(c, "group.instance.id"));
    rd_kafka_conf_destroy(c);
    AD_EXPECT_INT(ad_kafka_conf_new(&cfg, AD_KAFKA_PRODUCER, &c, err, sizeof(err)), ==, 0);
    const char *p = get(c, "group.instance.id"); /* consumers only */
    AD_EXPECT(strcmp(p, "(unset)") == 0 || p[0] == '\0');
    rd_kafka_conf_destroy(c);
    ad_config_free(&cfg);
}

static void test_static_membership(void)
{
    char a[1024], b[1024], x[1024], off[1024];
    instance_id("source:\n  kafka:\n    group: g1\n    instance_id: auto\n"
                "state:\n  dir: /var/lib/anomalyd/a\n",
                a, sizeof(a));
    instance_id("source:\n  kafka:\n    group: g1\n    instance_id: auto\n"
                "state:\n  dir: /var/lib/anomalyd/a\n",
                b, sizeof(b));
    AD_EXPECT_CONTAINS(a, "g1");
    AD_EXPECT_STR(a, b); /* stable: a restarted instance rejoins as itself */
    instance_id("source:\n  kafka:\n    group: g1\n    instance_id: auto\n"
                "state:\n  dir: /var/lib/anomalyd/b\n",
                b, sizeof(b));
    AD_EXPECT(strcmp(a, b) != 0); /* another instance on the same host */
    instance_id("source:\n  kafka:\n    group: g1\n    instance_id: sensor-7\n", x, sizeof(x));
    AD_EXPECT_STR(x, "sensor-7");
    instance_id("source:\n  kafka:\n    group: g1\n", off, sizeof(off));
    AD_EXPECT(strcmp(off, "(unset)") == 0 || off[0] == '\0');
}

/* Items 17 and 22 of issue 17: broker reachability from the statistics. */
static int brokers_up(const char *doc)
{
    struct ad_kafka_client c = {.brokers_up = 5};
    json_error_t e;
    json_t *root = json_loads(doc, 0, &e);
    AD_EXPECT(root != NULL);
    ad_kafka_client_stats(&c, root);
    json_decref(root);
    return c.brokers_up;
}

static void test_broker_reachability_from_stats(void)
{
#define INTERNAL "\":0/internal\": {\"source\": \"internal\", \"state\": \"UP\"}"
    AD_EXPECT_INT(brokers_up("{\"brokers\": {" INTERNAL ", \"a:1/1\": {\"source\": \"learned\", "
                             "\"state\": \"UP\"}, \"b:1/2\": {\"state\": \"DOWN\"}}}"),
                  ==, 1);
    /* Every broker down or being retried: none reachable, the internal
     * broker's UP notwithstanding. */
    AD_EXPECT_INT(brokers_up("{\"brokers\": {" INTERNAL ", \"a:1/1\": {\"state\": \"DOWN\"}, "
                             "\"b:1/2\": {\"state\": \"TRY_CONNECT\"}}}"),
                  ==, 0);
    /* Idle (no connection wanted): unknown, not a failure. */
    AD_EXPECT_INT(brokers_up("{\"brokers\": {" INTERNAL ", \"a:1/1\": {\"state\": \"INIT\"}}}"), ==,
                  -1);
    AD_EXPECT_INT(brokers_up("{\"name\": \"x\"}"), ==, 5); /* no brokers object: unchanged */
#undef INTERNAL
}

/* --check-config never prints the connection string or secret properties. */
static void test_check_config_masks_secrets(void)
{
    struct ad_config cfg;
    load(&cfg, "source:\n  kafka:\n    event_hubs_connection_string: \"" CS "\"\n"
               "    properties: {sasl.password: hunter2, ssl.key.password: pw2,\n"
               "                 sasl.jaas.config: \"x required password=jaas-pw;\"}\n"
               "remote:\n  anomaly_detector:\n    key: remote-secret-key\n");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    AD_EXPECT_INT(ad_config_print(&cfg, f), ==, 0);
    fclose(f);
    AD_EXPECT(strstr(text, "c2VjcmV0LWtleQ") == NULL);
    AD_EXPECT(strstr(text, "hunter2") == NULL);
    AD_EXPECT(strstr(text, "pw2") == NULL);
    AD_EXPECT(strstr(text, "remote-secret-key") == NULL);
    AD_EXPECT(strstr(text, "jaas-pw") == NULL); /* masked by ad_secret.h's rule */
    free(text);
    ad_config_free(&cfg);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_event_hubs_bootstrap);
    AD_TEST_RUN(argc, argv, test_event_hubs_consumer);
    AD_TEST_RUN(argc, argv, test_properties_override);
    AD_TEST_RUN(argc, argv, test_bad_property_names_the_key_not_the_value);
    AD_TEST_RUN(argc, argv, test_plain_brokers);
    AD_TEST_RUN(argc, argv, test_check_config_masks_secrets);
    AD_TEST_RUN(argc, argv, test_event_hubs_no_config_warning);
    AD_TEST_RUN(argc, argv, test_static_membership);
    AD_TEST_RUN(argc, argv, test_broker_reachability_from_stats);
    return ad_test_done();
}
