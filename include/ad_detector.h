/* ad_detector.h - the detectors that can flag a window and the one place
 * their verdicts are combined: the local model ("welford") and the remote
 * Anomaly Detector ("anomaly_detector"), by remote.anomaly_detector.mode
 * (docs/remote.md, "Verdict logic per mode"). The pipeline calls these; the
 * alert names its detector with ad_detector_name().
 *
 * Pure: no I/O, no allocation, no state. Pointers are borrowed for the call. */
#ifndef AD_DETECTOR_H
#define AD_DETECTOR_H

#include <stdbool.h>

/* Which detector flagged a window (the alert's "detector" member). */
enum ad_detector_kind {
    AD_DETECTOR_WELFORD = 0, /* the local model: "welford" */
    AD_DETECTOR_REMOTE,      /* the remote Anomaly Detector alone: "anomaly_detector" */
    AD_DETECTOR_ROBUST,      /* the local detectors of ad_detect.h, by name */
    AD_DETECTOR_SEASONAL,
    AD_DETECTOR_CHANGE,
    AD_DETECTOR_AUTO,
    AD_DETECTOR_WELFORD_LIK, /* welford + the likelihood stage: "welford_likelihood" */
    AD_DETECTOR_UVAD,        /* the Anomaly Detector algorithm as a local detector: "uvad" */
    AD_DETECTOR_COUNT
};

/* "welford", "anomaly_detector", "robust", "seasonal", "change", "auto",
 * "welford_likelihood", "uvad"; NULL for any other value. */
const char *ad_detector_name(enum ad_detector_kind kind);

struct ad_azure_verdict;

/* The modes are enum ad_remote_mode (ad_types.h): off, confirm, always. */

/* Is the remote asked about this window? off: never; confirm: only when the
 * local model flagged it; always: every window. */
bool ad_detector_should_ask(int mode, bool local_anomaly);

/* The final verdict on a window. Without a remote verdict (v NULL: off, not
 * asked, skipped, unavailable, timeout, rejected, breaker open, overloaded):
 * the local one. With one: confirm -> the remote's is_anomaly (a local
 * anomaly it does not confirm is cleared); always -> either verdict flags. */
bool ad_detector_decide(int mode, bool local_anomaly, const struct ad_azure_verdict *v);

/* The direction of a window only the remote flagged: AD_DIR_NEGATIVE when the
 * verdict says negative and not positive, else AD_DIR_POSITIVE (ad_types.h). */
int ad_detector_remote_direction(const struct ad_azure_verdict *v);

#endif
