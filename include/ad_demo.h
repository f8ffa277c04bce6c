/* ad_demo.h - `anomalyd demo`: an in-process Kafka-protocol cluster
 * (librdkafka's mock cluster) on loopback, the simulator producing scenario C
 * telemetry to it, and the daemon consuming it with the scenario C config
 * (config/examples/scenario-c-sensors.yaml, embedded at build time), alerts
 * printed as they come. Ctrl-C (or --duration) stops all of it cleanly. */
#ifndef AD_DEMO_H
#define AD_DEMO_H

#include <stdint.h>

struct ad_demo_opts {
    double rate; /* records per second */
    uint32_t devices;
    uint64_t seed;
    int64_t duration_us; /* 0 = until SIGINT/SIGTERM */
};

/* Returns the exit status. */
int ad_demo_run(const struct ad_demo_opts *opts);

/* `demo --scenarios`: scenarios A and B's example configs replay the
 * simulator's records in-process (no Kafka, no remote service) and the
 * recall and precision of what they flag against the injected anomalies are
 * printed (ad_demo_scen.c). remote: NULL (the local auto detector), or
 * "confirm" / "always": the in-process Anomaly Detector (endpoint: local)
 * is asked too. Returns the exit status. */
int ad_demo_scenarios(const char *remote);

#endif
