/* test_config_detector.c - model.detector and the detectors' keys: which
 * detector a config gets (the migration rule of docs/config.md), and that
 * every key reaches its field of the pipeline's settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_config.h"
#include "ad_detect.h"
#include "ad_err.h"
#include "ad_pipeline.h"
#include "ad_test.h"

static char err[512];

/* Loads yaml over the defaults, validates it and returns the pipeline
 * settings' detector id (0 with err set when it fails). */
static int detector_of(const char *yaml, struct ad_pipeline_cfg *pc)
{
    struct ad_config c;
    int id = 0;
    err[0] = '\0';
    if (ad_config_init(&c) != 0)
        return 0;
    if (ad_config_load_buffer(&c, "t.yaml", yaml, strlen(yaml), err, sizeof(err)) == 0 &&
        ad_config_validate(&c, err, sizeof(err)) == 0) {
        ad_config_to_pipeline(&c, pc);
        id = pc->detect.detector;
    }
    ad_config_free(&c);
    return id;
}

static void test_which_detector(void)
{
    struct ad_pipeline_cfg pc;
    /* No model key at all: the default, auto (interface.md). */
    AD_EXPECT_INT(detector_of("input: {key: /id}\n", &pc), ==, AD_DET_AUTO);
    /* model.welford.* and no detector: welford. */
    AD_EXPECT_INT(detector_of("model: {welford: {threshold: 3}}\n", &pc), ==, AD_DET_WELFORD);
    AD_EXPECT(pc.score.threshold == 3);
    AD_EXPECT_INT(detector_of("model: {import: /tmp/m.json}\n", &pc), ==, AD_DET_WELFORD);
    /* Other model keys and no detector: the default, auto. */
    AD_EXPECT_INT(detector_of("model: {auto: {sensitivity: 70}}\n", &pc), ==, AD_DET_AUTO);
    AD_EXPECT(pc.detect.autod.sensitivity == 70);
    /* An explicit detector always wins. */
    AD_EXPECT_INT(detector_of("model: {detector: auto, welford: {threshold: 3}}\n", &pc), ==,
                  AD_DET_AUTO);
    AD_EXPECT_INT(detector_of("model: {detector: robust}\n", &pc), ==, AD_DET_ROBUST);
    AD_EXPECT_INT(detector_of("model: {detector: seasonal}\n", &pc), ==, AD_DET_SEASONAL);
    AD_EXPECT_INT(detector_of("model: {detector: change}\n", &pc), ==, AD_DET_CHANGE);
    AD_EXPECT_INT(detector_of("model: {detector: welford}\n", &pc), ==, AD_DET_WELFORD);
    /* Unknown names are refused. */
    AD_EXPECT_INT(detector_of("model: {detector: magic}\n", &pc), ==, 0);
    AD_EXPECT(strstr(err, "t.yaml:1:") == err);
    AD_EXPECT(strstr(err, "model.detector") != NULL);
    /* The welford block is the Welford model's only: with another detector
     * its window scope neither applies nor needs a sliding window. */
    AD_EXPECT_INT(detector_of("windows: {tumbling: {size: 1m}, sliding: {size: 15m, slide: 5m}}\n"
                              "model: {detector: auto, welford: {scope: window}}\n",
                              &pc),
                  ==, AD_DET_AUTO);
    AD_EXPECT(!pc.window.window_scope);
    AD_EXPECT_INT(detector_of("model: {detector: auto, welford: {scope: window}}\n", &pc), ==,
                  AD_DET_AUTO);
    AD_EXPECT_INT(detector_of("windows: {tumbling: {size: 1m}, sliding: {size: 15m, slide: 5m}}\n"
                              "model: {detector: welford, welford: {scope: window}}\n",
                              &pc),
                  ==, AD_DET_WELFORD);
    AD_EXPECT(pc.window.window_scope);
    AD_EXPECT_INT(detector_of("model: {detector: welford, welford: {scope: window}}\n", &pc), ==,
                  0);
    AD_EXPECT(strstr(err, "model.welford.scope") != NULL);
}

static void test_keys_reach_params(void)
{
    struct ad_pipeline_cfg pc;
    AD_EXPECT_INT(detector_of("windows: {tumbling: {size: 5m, missing: linear}}\n"
                              "model:\n  detector: change\n  likelihood: true\n"
                              "  robust: {window: 100, threshold: 5.5}\n"
                              "  seasonal: {utc_offset_minutes: -300, day_bins: 96, weekly: false,"
                              " threshold: 7}\n"
                              "  change: {k: 0.5, h: 8, var_ratio: 3, flat_min: 20}\n"
                              "  rules: {direction: negative, min_abs_dev: 2, min_rel_dev: 0.1,"
                              " cooldown: 1h}\n",
                              &pc),
                  ==, AD_DET_CHANGE);
    AD_EXPECT(pc.detect.likelihood);
    AD_EXPECT_UINT(pc.detect.robust.window, ==, 100);
    AD_EXPECT(pc.detect.robust.threshold == 5.5);
    AD_EXPECT_INT(pc.detect.seasonal.utc_offset_s, ==, -300 * 60);
    AD_EXPECT_UINT(pc.detect.seasonal.day_bins, ==, 96);
    AD_EXPECT(!pc.detect.seasonal.weekly);
    AD_EXPECT(pc.detect.seasonal.threshold == 7);
    AD_EXPECT(pc.detect.change.k == 0.5 && pc.detect.change.h == 8);
    AD_EXPECT(pc.detect.change.var_ratio == 3);
    AD_EXPECT_UINT(pc.detect.change.flat_min, ==, 20);
    AD_EXPECT_INT(pc.rules.direction, ==, AD_DIR_NEGATIVE);
    AD_EXPECT(pc.rules.min_abs_dev == 2 && pc.rules.min_rel_dev == 0.1);
    AD_EXPECT_INT(pc.rules.cooldown_us, ==, INT64_C(3600000000));
    AD_EXPECT_INT(pc.missing, ==, AD_FILL_LINEAR);
    /* Bounds of the table. */
    AD_EXPECT_INT(detector_of("model: {detector: auto, auto: {sensitivity: 101}}\n", &pc), ==, 0);
    AD_EXPECT_INT(detector_of("model: {detector: robust, robust: {window: 4}}\n", &pc), ==, 0);
    AD_EXPECT(strstr(err, "model.robust.window") != NULL);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_which_detector);
    AD_TEST_RUN(argc, argv, test_keys_reach_params);
    return ad_test_done();
}
