/* test_detector.c - the one place the local and the remote verdict are
 * combined: when the remote is asked, what decides a window in each mode (the
 * table of docs/remote.md), the direction of a window only the remote flags,
 * and the detector names. */
#include <stdbool.h>
#include <stddef.h>

#include "ad_azure.h"
#include "ad_detector.h"
#include "ad_test.h"
#include "ad_types.h"

static void test_should_ask(void)
{
    AD_EXPECT(!ad_detector_should_ask(AD_REMOTE_OFF, true));
    AD_EXPECT(!ad_detector_should_ask(AD_REMOTE_OFF, false));
    AD_EXPECT(ad_detector_should_ask(AD_REMOTE_CONFIRM, true));
    AD_EXPECT(!ad_detector_should_ask(AD_REMOTE_CONFIRM, false));
    AD_EXPECT(ad_detector_should_ask(AD_REMOTE_ALWAYS, false));
    AD_EXPECT(ad_detector_should_ask(AD_REMOTE_ALWAYS, true));
}

/* Every (mode, local, remote) combination against the table in
 * docs/remote.md: off -> local; confirm -> the remote decides; always ->
 * either flags; no remote verdict -> local, in every mode. */
static void test_decide_table(void)
{
    const struct ad_azure_verdict yes = {.is_anomaly = true, .period = -1},
                                  no = {.is_anomaly = false, .period = -1};
    static const struct {
        int mode;
        bool local;
        int remote; /* -1 none, 0 no, 1 yes */
        bool want;
    } t[] = {
        {AD_REMOTE_OFF, false, -1, false},   {AD_REMOTE_OFF, true, -1, true},
        {AD_REMOTE_OFF, true, 0, true},      {AD_REMOTE_OFF, false, 1, false},
        {AD_REMOTE_CONFIRM, true, 1, true},  {AD_REMOTE_CONFIRM, true, 0, false},
        {AD_REMOTE_CONFIRM, true, -1, true}, {AD_REMOTE_CONFIRM, false, -1, false},
        {AD_REMOTE_ALWAYS, false, 1, true},  {AD_REMOTE_ALWAYS, true, 0, true},
        {AD_REMOTE_ALWAYS, true, 1, true},   {AD_REMOTE_ALWAYS, false, 0, false},
        {AD_REMOTE_ALWAYS, true, -1, true},  {AD_REMOTE_ALWAYS, false, -1, false},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const struct ad_azure_verdict *v = t[i].remote < 0 ? NULL : t[i].remote ? &yes : &no;
        if (ad_detector_decide(t[i].mode, t[i].local, v) != t[i].want)
            AD_FAIL_("decide(mode %d, local %d, remote %d) != %d", t[i].mode, t[i].local,
                     t[i].remote, t[i].want);
    }
}

static void test_remote_direction(void)
{
    struct ad_azure_verdict v = {.is_anomaly = true, .is_positive_anomaly = true};
    AD_EXPECT_INT(ad_detector_remote_direction(&v), ==, AD_DIR_POSITIVE);
    v.is_positive_anomaly = false;
    v.is_negative_anomaly = true;
    AD_EXPECT_INT(ad_detector_remote_direction(&v), ==, AD_DIR_NEGATIVE);
    v.is_negative_anomaly = false; /* no direction given: positive */
    AD_EXPECT_INT(ad_detector_remote_direction(&v), ==, AD_DIR_POSITIVE);
    v.is_positive_anomaly = v.is_negative_anomaly = true;
    AD_EXPECT_INT(ad_detector_remote_direction(&v), ==, AD_DIR_POSITIVE);
}

static void test_names(void)
{
    AD_EXPECT_STR(ad_detector_name(AD_DETECTOR_WELFORD), "welford");
    AD_EXPECT_STR(ad_detector_name(AD_DETECTOR_REMOTE), "anomaly_detector");
    AD_EXPECT(ad_detector_name(AD_DETECTOR_COUNT) == NULL);
    AD_EXPECT(ad_detector_name((enum ad_detector_kind) - 1) == NULL);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_should_ask);
    AD_TEST_RUN(argc, argv, test_decide_table);
    AD_TEST_RUN(argc, argv, test_remote_direction);
    AD_TEST_RUN(argc, argv, test_names);
    return ad_test_done();
}
