/* ad_test_cfg.h - the core stages' settings as the default configuration
 * gives them (the option table's defaults, config/anomalyd.yaml), for the
 * core's unit tests, which link no config loader: a test starts from these
 * and changes what it is about. test_config_print checks that they agree with
 * ad_config_to_pipeline() of the defaults. */
#ifndef AD_TEST_CFG_H
#define AD_TEST_CFG_H

#include "ad_pipeline.h"
#include "ad_types.h"

#define AD_TEST_S INT64_C(1000000) /* microseconds */

static inline struct ad_pipeline_cfg ad_test_pipeline_cfg(void)
{
    static const char *const metrics[] = {"/temp"};
    struct ad_pipeline_cfg c = {
        .decode = {.key = "/id",
                   .time = "/ts",
                   .time_format = AD_TIME_AUTO,
                   .n_metrics = 1,
                   .metrics = metrics,
                   .max_message_bytes = 1048576,
                   .max_key_bytes = 256},
        .window = {.tumbling = false, /* the block is absent by default */
                   .size_us = 60 * AD_TEST_S,
                   .aggregate = AD_AGG_MEAN,
                   .sliding = false,
                   .win_us = 15 * 60 * AD_TEST_S,
                   .slide_us = 10 * 60 * AD_TEST_S,
                   .lateness_us = 5 * AD_TEST_S,
                   .idle_us = 60 * AD_TEST_S,
                   .window_scope = false,
                   .max_series = 1000000},
        .score = {.threshold = 4.0,
                  .min_samples = 30,
                  .direction = AD_DIR_BOTH,
                  .learn_anomalies = false},
        .remote_mode = AD_REMOTE_OFF,
    };
    return c;
}

#endif
