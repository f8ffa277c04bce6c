/* ad_detector.c - combining the local and the remote verdict (see
 * include/ad_detector.h and docs/remote.md). */
#include "ad_detector.h"

#include <stddef.h>

#include "ad_azure.h"
#include "ad_types.h"

const char *ad_detector_name(enum ad_detector_kind kind)
{
    switch (kind) {
    case AD_DETECTOR_WELFORD:
        return "welford";
    case AD_DETECTOR_REMOTE:
        return "anomaly_detector";
    case AD_DETECTOR_ROBUST:
        return "robust";
    case AD_DETECTOR_SEASONAL:
        return "seasonal";
    case AD_DETECTOR_CHANGE:
        return "change";
    case AD_DETECTOR_AUTO:
        return "auto";
    case AD_DETECTOR_WELFORD_LIK:
        return "welford_likelihood";
    case AD_DETECTOR_UVAD:
        return "uvad";
    default:
        return NULL;
    }
}

bool ad_detector_should_ask(int mode, bool local_anomaly)
{
    if (mode == AD_REMOTE_CONFIRM)
        return local_anomaly;
    return mode == AD_REMOTE_ALWAYS;
}

bool ad_detector_decide(int mode, bool local_anomaly, const struct ad_azure_verdict *v)
{
    if (!v || mode == AD_REMOTE_OFF)
        return local_anomaly;
    if (mode == AD_REMOTE_CONFIRM)
        return v->is_anomaly;
    return local_anomaly || v->is_anomaly;
}

int ad_detector_remote_direction(const struct ad_azure_verdict *v)
{
    return v->is_negative_anomaly && !v->is_positive_anomaly ? AD_DIR_NEGATIVE : AD_DIR_POSITIVE;
}
