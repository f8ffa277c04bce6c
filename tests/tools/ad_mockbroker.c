/* ad_mockbroker - a Kafka-protocol cluster on loopback for tests and
 * benchmarks: librdkafka's mock cluster, served over TCP.
 *
 *   ad_mockbroker [--brokers N] [--topic NAME:PARTITIONS]... [--addr-file FILE]
 *
 * Prints the bootstrap address on stdout (and writes it to FILE, atomically,
 * once the cluster is up), then runs until SIGTERM/SIGINT or until stdin
 * reaches end of file, so a test that dies takes its broker with it. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    int brokers = 1;
    const char *addr_file = NULL;
    char errstr[512];

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
            brokers = (int)strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--addr-file") && i + 1 < argc) {
            addr_file = argv[++i];
        } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
            i++; /* created below, once the cluster exists */
        } else {
            fprintf(stderr, "usage: ad_mockbroker [--brokers N] [--topic NAME:PARTITIONS]... "
                            "[--addr-file FILE]\n");
            return 2;
        }
    }
    if (brokers < 1 || brokers > 9)
        brokers = 1;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "ad_mockbroker: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "ad_mockbroker: could not start the mock cluster\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--topic") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%s", argv[++i]);
        char *colon = strrchr(name, ':');
        int parts = 1;
        if (colon) {
            *colon = '\0';
            parts = (int)strtol(colon + 1, NULL, 10);
        }
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, parts > 0 ? parts : 1, 1);
        if (err) {
            fprintf(stderr, "ad_mockbroker: topic %s: %s\n", name, rd_kafka_err2str(err));
            return 1;
        }
    }
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    printf("%s\n", bootstrap);
    fflush(stdout);
    if (addr_file) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", addr_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", bootstrap) < 0 || fclose(f) != 0 || rename(tmp, addr_file)) {
            perror(addr_file);
            return 1;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    while (!stop) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int n = poll(&pfd, 1, 200);
        if (n > 0) {
            char buf[256];
            if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
                break; /* the parent is gone */
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
