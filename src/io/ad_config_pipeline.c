/* ad_config_pipeline.c - the core stages' own settings, filled from the
 * loaded configuration. The one place that knows which option feeds which
 * stage: the core never sees struct ad_config. */
#include "ad_config.h"
#include "ad_config_int.h"

#include <string.h>

#include "ad_pipeline.h"

/* model.detector's names (enum ad_cfg_detector) to enum ad_detector_id. */
static int detector_id(int cfg_detector)
{
    switch (cfg_detector) {
    case AD_CFG_DET_WELFORD:
        return AD_DET_WELFORD;
    case AD_CFG_DET_ROBUST:
        return AD_DET_ROBUST;
    case AD_CFG_DET_SEASONAL:
        return AD_DET_SEASONAL;
    case AD_CFG_DET_CHANGE:
        return AD_DET_CHANGE;
    case AD_CFG_DET_UVAD:
        return AD_DET_UVAD;
    default:
        return AD_DET_AUTO;
    }
}

/* The detector's parameters: its documented defaults, then model.*. */
static void detect_params(const struct ad_config *cfg, struct ad_detect_params *d)
{
    ad_detect_defaults(d, detector_id(ad_config_effective_detector(cfg)));
    d->welford.threshold = cfg->model.threshold;
    d->welford.min_samples = cfg->model.min_samples > 0 ? (uint64_t)cfg->model.min_samples : 0;
    d->welford.direction = cfg->model.direction;
    d->welford.learn_anomalies = cfg->model.learn_anomalies;
    d->robust.window = (uint32_t)cfg->model.robust_window;
    d->robust.threshold = cfg->model.robust_threshold;
    d->seasonal.utc_offset_s = (int32_t)(cfg->model.seasonal_utc_offset_min * 60);
    d->seasonal.day_bins = (uint32_t)cfg->model.seasonal_day_bins;
    d->seasonal.weekly = cfg->model.seasonal_weekly;
    d->seasonal.data_period = cfg->model.seasonal_data_period;
    d->seasonal.threshold = cfg->model.seasonal_threshold;
    d->change.k = cfg->model.change_k;
    d->change.h = cfg->model.change_h;
    d->change.var_ratio = cfg->model.change_var_ratio;
    d->change.flat_min = (uint32_t)cfg->model.change_flat_min;
    d->autod.sensitivity = cfg->model.auto_sensitivity;
    d->uvad.window = (uint32_t)cfg->model.uvad_window;
    d->uvad.sensitivity = (int)cfg->model.uvad_sensitivity;
    d->uvad.max_anomaly_ratio = cfg->model.uvad_max_anomaly_ratio;
    d->likelihood = cfg->model.likelihood;
}

void ad_config_to_pipeline(const struct ad_config *cfg, struct ad_pipeline_cfg *out)
{
    memset(out, 0, sizeof(*out));
    out->decode = (struct ad_decode_cfg){
        .key = cfg->input.key,
        .time = cfg->input.time,
        .time_format = cfg->input.time_format,
        .n_metrics = cfg->input.metrics.n,
        /* char ** to const char *const *: adds qualifiers only, which C
         * does not do implicitly below the first level. */
        .metrics = (const char *const *)cfg->input.metrics.v,
        .max_message_bytes = cfg->max_message_bytes,
        .max_key_bytes = cfg->max_key_bytes,
    };
    out->window = (struct ad_window_cfg){
        .tumbling = cfg->windows.tumbling,
        .size_us = cfg->windows.tumbling_size_us,
        .aggregate = cfg->windows.aggregate,
        .sliding = cfg->windows.sliding,
        .win_us = cfg->windows.sliding_size_us,
        .slide_us = cfg->windows.sliding_slide_us,
        .lateness_us = cfg->windows.allowed_lateness_us,
        .idle_us = cfg->windows.idle_timeout_us,
        /* The window scope is the Welford model's; other detectors see each
         * tumbling point once, whatever model.welford says. */
        .window_scope = cfg->model.scope == AD_SCOPE_WINDOW &&
                        ad_config_effective_detector(cfg) == AD_CFG_DET_WELFORD,
        .max_series = cfg->max_series > 0 ? (uint64_t)cfg->max_series : 0,
    };
    out->score = (struct ad_score_cfg){
        .threshold = cfg->model.threshold,
        .min_samples = cfg->model.min_samples > 0 ? (uint64_t)cfg->model.min_samples : 0,
        .direction = cfg->model.direction,
        .learn_anomalies = cfg->model.learn_anomalies,
    };
    out->remote_mode = cfg->remote.mode;
    detect_params(cfg, &out->detect);
    out->rules = (struct ad_detect_rules){
        .direction = cfg->model.rules_direction,
        .min_abs_dev = cfg->model.rules_min_abs_dev,
        .min_rel_dev = cfg->model.rules_min_rel_dev,
        .cooldown_us = cfg->model.rules_cooldown_us,
    };
    out->missing = cfg->windows.missing;
}
