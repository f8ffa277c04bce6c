#include "ad_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_time.h"

struct device {
    double base;
    double hum;
};

struct ad_sim {
    struct ad_sim_cfg cfg;
    uint64_t state;
    uint64_t i;
    struct device *dev;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double uniform(struct ad_sim *s)
{
    return (double)(splitmix64(&s->state) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller). */
static double normal(struct ad_sim *s)
{
    double u1 = uniform(s), u2 = uniform(s);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int ad_sim_format_parse(const char *s, enum ad_sim_format *out)
{
    static const char *const names[] = {"sensor", "iot", "tweet"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum ad_sim_format)i;
            return 0;
        }
    return AD_EINVAL;
}

int ad_sim_new(const struct ad_sim_cfg *cfg, struct ad_sim **out)
{
    struct ad_sim *s;

    if (cfg->devices == 0 || cfg->interval_us <= 0 || cfg->anomaly_rate < 0 ||
        cfg->anomaly_rate > 1 || !(cfg->noise > 0))
        return AD_EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return AD_ENOMEM;
    s->dev = calloc(cfg->devices, sizeof(*s->dev));
    if (!s->dev) {
        free(s);
        return AD_ENOMEM;
    }
    s->cfg = *cfg;
    s->state = cfg->seed;
    for (uint32_t d = 0; d < cfg->devices; d++) {
        s->dev[d].base = cfg->format == AD_SIM_TWEET ? 20 + 30 * uniform(s) : 15 + 15 * uniform(s);
        s->dev[d].hum = 30 + 40 * uniform(s);
    }
    *out = s;
    return 0;
}

void ad_sim_free(struct ad_sim *s)
{
    if (!s)
        return;
    free(s->dev);
    free(s);
}

int ad_sim_next(struct ad_sim *s, struct ad_buf *out, struct ad_sim_record *rec)
{
    /* Tweets form one stream (scenario A): one "device", one record per interval. */
    bool single = s->cfg.format == AD_SIM_TWEET;
    uint32_t d = single ? 0 : (uint32_t)(s->i % s->cfg.devices);
    struct device *dv = &s->dev[d];
    double noise = s->cfg.noise * (s->cfg.format == AD_SIM_TWEET ? 10 : 1), v, delta = 0, hum;
    char ts[AD_TIME_STRLEN];
    int rc;

    rec->time_us = s->cfg.start_us +
                   (int64_t)(single ? s->i : s->i / s->cfg.devices) * s->cfg.interval_us;
    v = dv->base + normal(s) * noise;
    hum = dv->hum + normal(s) * noise;
    if (uniform(s) < s->cfg.anomaly_rate) {
        double mag = (8 + 4 * uniform(s)) * noise;
        delta = uniform(s) < 0.5 ? -mag : mag;
        v = dv->base + delta;
    }
    rec->anomaly = delta != 0;
    rec->delta = delta;
    s->i++;

    switch (s->cfg.format) {
    case AD_SIM_IOT:
        snprintf(rec->device, sizeof(rec->device), "device-%u", d);
        rec->value = round(v * 100) / 100;
        rc = ad_buf_printf(out,
                           "{\"messageId\":%llu,\"deviceId\":\"%s\",\"temperature\":%.2f,"
                           "\"humidity\":%.2f}",
                           (unsigned long long)s->i, rec->device, rec->value, hum);
        break;
    case AD_SIM_TWEET:
        snprintf(rec->device, sizeof(rec->device), "tweets");
        rec->value = v < 0 ? 0 : round(v);
        ad_time_format(rec->time_us, ts);
        rc = ad_buf_printf(out, "{\"timestamp\":\"%s\",\"favorite\":%.0f}", ts, rec->value);
        break;
    default:
        snprintf(rec->device, sizeof(rec->device), "sim-%u", d);
        rec->value = round(v * 100) / 100;
        rc = ad_buf_printf(out, "{\"id\":\"%s\",\"ts\":%lld,\"temp\":%.2f,\"hum\":%.2f}",
                           rec->device, (long long)(rec->time_us / 1000), rec->value, hum);
        break;
    }
    return rc;
}

int ad_sim_kcat_envelope(const struct ad_sim_record *rec, enum ad_sim_format format,
                         uint64_t offset, const char *payload, size_t len, struct ad_buf *out)
{
    ad_buf_printf(out,
                  "{\"topic\":\"sim\",\"partition\":0,\"offset\":%llu,"
                  "\"tstype\":\"create\",\"ts\":%lld,\"headers\":[",
                  (unsigned long long)offset, (long long)(rec->time_us / 1000));
    if (format == AD_SIM_IOT) {
        ad_buf_adds(out, "\"iothub-connection-device-id\",");
        ad_buf_add_json_str(out, rec->device, strlen(rec->device));
    }
    ad_buf_adds(out, "],\"key\":");
    ad_buf_add_json_str(out, rec->device, strlen(rec->device));
    ad_buf_adds(out, ",\"payload\":");
    ad_buf_add_json_str(out, payload, len);
    return ad_buf_adds(out, "}");
}

int ad_sim_truth_line(const struct ad_sim_record *rec, const char *metric, struct ad_buf *out)
{
    char ts[AD_TIME_STRLEN];
    ad_time_format(rec->time_us, ts);
    return ad_buf_printf(out,
                         "{\"key\":\"%s\",\"metric\":\"%s\",\"time\":\"%s\",\"value\":%.2f,"
                         "\"delta\":%.3f}\n",
                         rec->device, metric, ts, rec->value, rec->delta);
}
