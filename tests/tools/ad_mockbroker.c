/* ad_mockbroker - a Kafka-protocol cluster on loopback for tests and
 * benchmarks: librdkafka's mock cluster, served over TCP.
 *
 *   ad_mockbroker [--brokers N] [--topic NAME:PARTITIONS]... [--addr-file FILE]
 *
 * Prints the bootstrap address on stdout (and writes it to FILE, atomically,
 * once the cluster is up), then runs until SIGTERM/SIGINT or until stdin
 * reaches end of file, so a test that dies takes its broker with it.
 *
 * Lines on stdin control the cluster: "down ID" / "up ID" take broker ID
 * (1..N) down (its connections are closed, new ones refused) or up again;
 * "down all" / "up all" every broker; "rtt ID|all MS" delays broker ID's
 * responses by MS milliseconds. Anything else is ignored. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

/* Applies one control line (see above). */
static void control(rd_kafka_mock_cluster_t *mc, int brokers, const char *line)
{
    char verb[8], which[16];
    int ms = 0;
    if (sscanf(line, "%7s %15s %d", verb, which, &ms) < 2)
        return;
    bool down = !strcmp(verb, "down"), rtt = !strcmp(verb, "rtt");
    if (!down && !rtt && strcmp(verb, "up") != 0)
        return;
    int from = 1, to = brokers;
    if (strcmp(which, "all") != 0)
        from = to = (int)strtol(which, NULL, 10);
    for (int id = from; id >= 1 && id <= to && id <= brokers; id++) {
        rd_kafka_resp_err_t e = rtt    ? rd_kafka_mock_broker_set_rtt(mc, id, ms)
                                : down ? rd_kafka_mock_broker_set_down(mc, id)
                                       : rd_kafka_mock_broker_set_up(mc, id);
        fprintf(stderr, "ad_mockbroker: broker %d %s: %s\n", id, verb, rd_kafka_err2str(e));
    }
}

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
    char line[256];
    size_t have = 0;
    while (!stop) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int n = poll(&pfd, 1, 200);
        if (n > 0) {
            ssize_t r = read(STDIN_FILENO, line + have, sizeof(line) - 1 - have);
            if (r <= 0)
                break; /* the parent is gone */
            have += (size_t)r;
            line[have] = '\0';
            char *nl;
            while ((nl = strchr(line, '\n')) != NULL) {
                *nl = '\0';
                control(mc, brokers, line);
                have -= (size_t)(nl + 1 - line);
                memmove(line, nl + 1, have + 1);
            }
            if (have == sizeof(line) - 1)
                have = 0; /* an overlong line: dropped */
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
