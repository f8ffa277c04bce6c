/* ad_alertmgr.h - an alert as one element of the JSON array that
 * Prometheus Alertmanager's POST /api/v2/alerts takes (the webhook sink with
 * sinks.webhook.format: alertmanager; docs/alerts.md). Pure. */
#ifndef AD_ALERTMGR_H
#define AD_ALERTMGR_H

#include <stdint.h>

#include "ad_alert.h"
#include "ad_buf.h"

/* How long after its window ends an alert stays active in Alertmanager,
 * unless it is posted again: endsAt = window end + this. */
#define AD_ALERTMGR_HOLD_US (INT64_C(5) * 60 * 1000000)

/* Appends one JSON object (no newline):
 *   {"labels":{"alertname":"AnomalyDetected","key":"sim-614","metric":"temp",
 *              "detector":"welford","direction":"positive","kind":"spike",
 *              "alert_id":"4f0c..."},
 *    "annotations":{"summary":"temp of sim-614 is 31.2, expected 22.3",
 *                   "value":"31.2","expected":"22.3","lower":"17.9",
 *                   "upper":"26.7","score":"0.98"},
 *    "startsAt":"2026-11-20T10:00:00.000Z","endsAt":"2026-11-20T10:06:00.000Z"}
 * startsAt = the window start, endsAt = the window end + AD_ALERTMGR_HOLD_US.
 * Labels and annotations are strings, as Alertmanager requires. Every
 * pointer is borrowed. Returns 0, AD_EINVAL (a non-finite number, a
 * direction or detector without a name) or the buffer's errors; on error out
 * is unchanged. */
int ad_alertmgr_alert(struct ad_buf *out, const struct ad_alert *a);

#endif
