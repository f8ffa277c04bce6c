/* ad_sim.h - simulated telemetry with injected anomalies, deterministic for a
 * seed. Pure: formats records into a buffer; the caller sends them somewhere.
 *
 * Record i belongs to device i % devices and has event time
 * start + (i / devices) * interval; tweets are one stream (record i at
 * start + i * interval). Each device has its own base level; a
 * reading is base + N(0, 1) * noise, and with probability anomaly_rate it is
 * moved by 8..12 noise units up or down instead (the ground truth). */
#ifndef AD_SIM_H
#define AD_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"

enum ad_sim_format {
    AD_SIM_SENSOR = 0, /* scenario C: {"id","ts","temp","hum"} */
    AD_SIM_IOT,        /* scenario B: {"messageId","deviceId","temperature","humidity"} */
    AD_SIM_TWEET       /* scenario A: {"timestamp","favorite"} */
};

struct ad_sim_cfg {
    enum ad_sim_format format;
    uint64_t seed;
    uint32_t devices;
    int64_t start_us;
    int64_t interval_us;
    double anomaly_rate;
    double noise;
};

struct ad_sim_record {
    char device[32]; /* the key (also the iot device-id header) */
    int64_t time_us;
    double value; /* the metric that may carry an anomaly */
    bool anomaly; /* injected */
    double delta; /* injected offset, 0 when none */
};

struct ad_sim;

/* Parses "sensor" | "iot" | "tweet"; returns 0 or AD_EINVAL. */
int ad_sim_format_parse(const char *s, enum ad_sim_format *out);

/* Returns 0 and an owned simulator (free with ad_sim_free()), AD_EINVAL or
 * AD_ENOMEM. */
int ad_sim_new(const struct ad_sim_cfg *cfg, struct ad_sim **out);
void ad_sim_free(struct ad_sim *s);

/* Appends the next record's JSON (no newline) to out and describes it in rec. */
int ad_sim_next(struct ad_sim *s, struct ad_buf *out, struct ad_sim_record *rec);

/* Appends the record (payload, len bytes) of rec wrapped as `kcat -J` prints
 * it, at the given offset of partition 0 of topic "sim" (no newline); an IoT
 * record carries its device id as the iothub-connection-device-id header. */
int ad_sim_kcat_envelope(const struct ad_sim_record *rec, enum ad_sim_format format,
                         uint64_t offset, const char *payload, size_t len, struct ad_buf *out);

/* Appends the ground-truth line of an injected anomaly (with '\n'). */
int ad_sim_truth_line(const struct ad_sim_record *rec, const char *metric, struct ad_buf *out);

#endif
