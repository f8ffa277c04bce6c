/* ad_config_check.c - the rules between options, checked after every file
 * and --set is applied. An error names the key that was set (and where), or
 * just the key when it kept its default. */
#include "ad_config_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ad_detect.h"
#include "ad_err.h"
#include "ad_pipeline.h"

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int
vfail(const struct ad_config *cfg, char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    const struct ad_option *o = ad_config_option_find(path);
    const struct ad_config_pos *p = o && cfg->origin_ ? &cfg->origin_->pos[o - ad_config_table_]
                                                      : NULL;
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (!err || !errlen)
        return AD_ECONFIG;
    if (p && p->src)
        snprintf(err, errlen, "%s:%lu:%lu %s: %s", p->src, p->line, p->col, path, why);
    else
        snprintf(err, errlen, "%s: %s", path, why);
    return AD_ECONFIG;
}

/* The first of a and b that was set explicitly, else a. */
static const char *blame(const struct ad_config *cfg, const char *a, const char *b)
{
    return !ad_config_is_set(cfg, a) && ad_config_is_set(cfg, b) ? b : a;
}

/* "" or "/a/b" with ~ only as ~0 or ~1 (RFC 6901). */
static bool json_pointer_ok(const char *p)
{
    if (*p && *p != '/')
        return false;
    for (; *p; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return false;
    return true;
}

static bool url_ok(const char *s)
{
    return !*s || (!strncmp(s, "http://", 7) && s[7]) || (!strncmp(s, "https://", 8) && s[8]);
}

/* source.kafka and input. */
static int check_input(const struct ad_config *cfg, char *err, size_t errlen)
{
    const struct ad_strlist *m = &cfg->input.metrics;

    if (!*cfg->kafka.brokers && !*cfg->kafka.event_hubs_connection_string)
        return vfail(cfg, err, errlen, "source.kafka.brokers",
                     "must not be empty unless source.kafka.event_hubs_connection_string is set");
    if (cfg->kafka.topics.n == 0)
        return vfail(cfg, err, errlen, "source.kafka.topics", "at least one topic is required");

    bool key_prefixed = !strncmp(cfg->input.key, "header:", 7) ||
                        !strncmp(cfg->input.key, "const:", 6);
    if (key_prefixed ? !strchr(cfg->input.key, ':')[1] : !json_pointer_ok(cfg->input.key))
        return vfail(cfg, err, errlen, "input.key",
                     "\"%.64s\" is neither a JSON pointer (\"\" or \"/...\"), header:NAME nor "
                     "const:NAME",
                     cfg->input.key);
    if (strcmp(cfg->input.time, "record") && !json_pointer_ok(cfg->input.time))
        return vfail(cfg, err, errlen, "input.time",
                     "\"%.64s\" is neither a JSON pointer (\"\" or \"/...\") nor \"record\"",
                     cfg->input.time);
    if (m->n < 1 || m->n > 16)
        return vfail(cfg, err, errlen, "input.metrics", "expected 1..16 metrics, got %zu", m->n);
    for (size_t i = 0; i < m->n; i++) {
        const char *ni = strrchr(m->v[i], '/');
        if (!json_pointer_ok(m->v[i]))
            return vfail(cfg, err, errlen, "input.metrics",
                         "item %zu: \"%.64s\" is not a JSON pointer (\"\" or \"/...\")", i + 1,
                         m->v[i]);
        for (size_t j = 0; j < i; j++) {
            const char *nj = strrchr(m->v[j], '/');
            if (strcmp(ni ? ni + 1 : "", nj ? nj + 1 : "") == 0)
                return vfail(cfg, err, errlen, "input.metrics",
                             "items %zu and %zu have the same metric name \"%.64s\" (the "
                             "pointer's last token)",
                             j + 1, i + 1, ni ? ni + 1 : "");
        }
    }
    return 0;
}

/* windows: sizes that are multiples of each other, bounded ring sizes. */
static int check_windows(const struct ad_config *cfg, char *err, size_t errlen)
{
    int64_t g = cfg->windows.tumbling_size_us, w = cfg->windows.sliding_size_us;
    int64_t s = cfg->windows.sliding_slide_us;
    char a[AD_DURATION_STRLEN], b[AD_DURATION_STRLEN];

    a[0] = '\0';
    if (cfg->windows.sliding && !cfg->windows.tumbling)
        return vfail(cfg, err, errlen, "windows.sliding", "requires windows.tumbling");
    if (cfg->windows.tumbling) {
        if (g <= 0)
            return vfail(cfg, err, errlen, "windows.tumbling.size", "must be positive");
        ad_config_duration_text(g, a, true);
        if (cfg->windows.allowed_lateness_us / g > 62)
            return vfail(cfg, err, errlen,
                         blame(cfg, "windows.allowed_lateness", "windows.tumbling.size"),
                         "allowed_lateness / tumbling.size must be at most 62 (at most 64 open "
                         "windows per series; tumbling.size is %s)",
                         a);
    }
    if (!cfg->windows.sliding)
        return 0;
    if (w <= 0 || w % g)
        return vfail(cfg, err, errlen, blame(cfg, "windows.sliding.size", "windows.tumbling.size"),
                     "windows.sliding.size must be a multiple of windows.tumbling.size (%s)", a);
    if (s <= 0 || s % g)
        return vfail(cfg, err, errlen, blame(cfg, "windows.sliding.slide", "windows.tumbling.size"),
                     "windows.sliding.slide must be a multiple of windows.tumbling.size (%s)", a);
    ad_config_duration_text(w, b, true);
    if (s > w)
        return vfail(cfg, err, errlen, blame(cfg, "windows.sliding.slide", "windows.sliding.size"),
                     "windows.sliding.slide must not exceed windows.sliding.size (%s)", b);
    if (w / g > 8640)
        return vfail(cfg, err, errlen, blame(cfg, "windows.sliding.size", "windows.tumbling.size"),
                     "a sliding window of %s holds %" PRId64 " tumbling points (max 8640)", b,
                     w / g);
    return 0;
}

/* remote.anomaly_detector, and the URLs of the remote and the webhook. */
static int check_remote(const struct ad_config *cfg, char *err, size_t errlen)
{
    int64_t g = cfg->windows.tumbling_size_us, w = cfg->windows.sliding_size_us;

    if (cfg->remote.mode != AD_REMOTE_OFF) {
        const char *mode = cfg->remote.mode == AD_REMOTE_CONFIRM ? "confirm" : "always";
        if (!*cfg->remote.endpoint)
            return vfail(cfg, err, errlen, "remote.anomaly_detector.mode",
                         "%s requires remote.anomaly_detector.endpoint", mode);
        if (!cfg->windows.sliding)
            return vfail(cfg, err, errlen, "remote.anomaly_detector.mode",
                         "%s requires windows.sliding", mode);
        if (w / g < cfg->remote.min_points)
            return vfail(cfg, err, errlen,
                         blame(cfg, "remote.anomaly_detector.min_points", "windows.sliding.size"),
                         "a sliding window holds %" PRId64 " tumbling points, fewer than "
                         "remote.anomaly_detector.min_points (%" PRId64 ")",
                         w / g, cfg->remote.min_points);
    }
    /* The key goes into a request header: no control character (CR/LF would
     * inject headers), bounded. Its value is never quoted: it is a secret. */
    for (const unsigned char *k = (const unsigned char *)cfg->remote.key; *k; k++)
        if (*k < 0x20 || *k == 0x7f)
            return vfail(cfg, err, errlen, "remote.anomaly_detector.key",
                         "must not contain control characters (CR, LF, tab, ...)");
    if (strlen(cfg->remote.key) > AD_CONFIG_MAX_REMOTE_KEY)
        return vfail(cfg, err, errlen, "remote.anomaly_detector.key", "longer than %d bytes",
                     AD_CONFIG_MAX_REMOTE_KEY);
    if (strcmp(cfg->remote.endpoint, "local") != 0 && !url_ok(cfg->remote.endpoint))
        return vfail(cfg, err, errlen, "remote.anomaly_detector.endpoint",
                     "must be an http:// or https:// URL, or local");
    if (!url_ok(cfg->sinks.webhook_url))
        return vfail(cfg, err, errlen, "sinks.webhook.url", "must be an http:// or https:// URL");
    return 0;
}

/* Any option under prefix set by a file or --set. */
static bool any_set_under(const struct ad_config *cfg, const char *prefix)
{
    for (size_t i = 0; i < ad_config_table_len_; i++)
        if (ad_config_path_under(ad_config_table_[i].path, prefix) &&
            ad_config_is_set(cfg, ad_config_table_[i].path))
            return true;
    return false;
}

/* The effective detector: model.detector when set; else welford for a config
 * that sets model.welford.* (its threshold and scope keep their meaning) or
 * model.import (which seeds welford models), else the default (auto). */
int ad_config_effective_detector(const struct ad_config *cfg)
{
    if (ad_config_is_set(cfg, "model.detector"))
        return cfg->model.detector;
    return any_set_under(cfg, "model.welford") || ad_config_is_set(cfg, "model.import")
               ? AD_CFG_DET_WELFORD
               : AD_CFG_DET_AUTO;
}

static int check_detector(struct ad_config *cfg, char *err, size_t errlen)
{
    cfg->model.detector = ad_config_effective_detector(cfg);
    struct ad_pipeline_cfg pc;
    char why[256];
    ad_config_to_pipeline(cfg, &pc);
    if (ad_detect_check(&pc.detect, why, sizeof(why)) != 0)
        return vfail(cfg, err, errlen, "model.detector", "%s", why);
    return 0;
}

int ad_config_validate(struct ad_config *cfg, char *err, size_t errlen)
{
    int rc;

    if ((rc = check_detector(cfg, err, errlen)) != 0)
        return rc;
    if ((rc = check_input(cfg, err, errlen)) != 0)
        return rc;
    if ((rc = check_windows(cfg, err, errlen)) != 0)
        return rc;
    if (cfg->http_api.enabled && !*cfg->http_listen)
        return vfail(cfg, err, errlen, "http.api.enabled", "requires http.listen");
    if (*cfg->state_topic && !*cfg->state_dir)
        return vfail(cfg, err, errlen, "state.topic", "requires state.dir (checkpoints)");
    if (cfg->model.scope == AD_SCOPE_WINDOW && !cfg->windows.sliding &&
        cfg->model.detector == AD_CFG_DET_WELFORD)
        return vfail(cfg, err, errlen, "model.welford.scope", "window requires windows.sliding");
    return check_remote(cfg, err, errlen);
}
