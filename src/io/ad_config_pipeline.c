/* ad_config_pipeline.c - the core stages' own settings, filled from the
 * loaded configuration. The one place that knows which option feeds which
 * stage: the core never sees struct ad_config. */
#include "ad_config.h"

#include <string.h>

#include "ad_pipeline.h"

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
        .window_scope = cfg->model.scope == AD_SCOPE_WINDOW,
        .max_series = cfg->max_series > 0 ? (uint64_t)cfg->max_series : 0,
    };
    out->score = (struct ad_score_cfg){
        .threshold = cfg->model.threshold,
        .min_samples = cfg->model.min_samples > 0 ? (uint64_t)cfg->model.min_samples : 0,
        .direction = cfg->model.direction,
        .learn_anomalies = cfg->model.learn_anomalies,
    };
    out->remote_mode = cfg->remote.mode;
}
