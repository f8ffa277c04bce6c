/* ad_report.h - replay's --report FILE.html: one self-contained page with the
 * run's summary, the alerts table and a chart per flagged series (value,
 * expected value, lower/upper band, flagged points), docs/report.md.
 *
 * Two passes, so that a replay of a million series keeps no series' history
 * in memory: during the run the report takes every alert (ad_report_alert)
 * and the caller spools every scored point elsewhere (ad_report_spool_put
 * into a temporary file, src/io/ad_report_file.c); after it,
 * ad_report_select() picks the series to chart, the spool is read back
 * through ad_report_point(), which keeps points of those series only (each
 * thinned to a bounded count), and ad_report_write() renders the page.
 *
 * Memory: one entry per flagged series (key, metric, counters), at most
 * max_alerts alert rows, at most 2 * max_points points per charted series.
 * Pure: no clock, no I/O; the page's assets are handed in. */
#ifndef AD_REPORT_H
#define AD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_alert.h"
#include "ad_buf.h"
#include "ad_pipeline.h"
#include "ad_scores.h"

#define AD_REPORT_DEF_SERIES 20    /* charts (--report-series) */
#define AD_REPORT_DEF_POINTS 1000  /* a chart holds at most twice this */
#define AD_REPORT_DEF_ALERTS 10000 /* rows of the alerts table */
#define AD_REPORT_DEF_LISTED 1000  /* flagged series past the charts, by name */
#define AD_REPORT_MAX_SERIES 1000  /* the largest --report-series */

struct ad_report_opts {
    size_t max_series; /* 0: AD_REPORT_DEF_SERIES */
    size_t max_points; /* 0: AD_REPORT_DEF_POINTS */
    size_t max_alerts; /* 0: AD_REPORT_DEF_ALERTS */
    size_t max_listed; /* 0: AD_REPORT_DEF_LISTED */
};

/* One file to inline (borrowed). */
struct ad_report_text {
    const char *p;
    size_t len;
};

/* What the page says about the run. Strings are borrowed, NULL = not shown;
 * none may be a secret (the caller shows config-derived text through
 * ad_secret.h). */
struct ad_report_page {
    const char *input;    /* the input's name */
    const char *config;   /* the config file's name */
    const char *detector; /* model.detector */
    const char *remote;   /* remote.anomaly_detector.mode */
    const char *version;
    const struct ad_pipeline_stats *stats; /* not NULL */
    /* The inlined script and style: uPlot's, then the report's (web/report/).
     * Each is hashed into the page's Content-Security-Policy. */
    struct ad_report_text uplot_js, uplot_css, report_js, report_css;
};

struct ad_report;

/* A new, empty report (free with ad_report_free()). Returns 0 or AD_ENOMEM;
 * AD_EINVAL when max_series is above AD_REPORT_MAX_SERIES. */
int ad_report_new(const struct ad_report_opts *o, struct ad_report **out);
void ad_report_free(struct ad_report *r);

/* Counts an alert for its series (a copy of what is needed is kept) and keeps
 * its row while fewer than max_alerts are kept. 0 or AD_ENOMEM. Only before
 * ad_report_select(): AD_ESTATE after. */
int ad_report_alert(struct ad_report *r, const struct ad_alert *a);

/* Orders the flagged series (most alerts, then highest score, then key and
 * metric) and chooses the first max_series to chart. Once. Returns the
 * number of series charted. */
size_t ad_report_select(struct ad_report *r);

/* A scored point of the second pass: kept when its series is charted, the
 * series thinned to at most 2 * max_points by keeping every 2^k-th point
 * (flagged points first, up to max_points of them). 0, or AD_ENOMEM; AD_ESTATE
 * before ad_report_select(). */
int ad_report_point(struct ad_report *r, const struct ad_score_row *row);

/* Appends the whole page (sorting each chart's points by time first). 0,
 * AD_EINVAL (an inlined text holding "</script", "</style" or "<!--", which
 * would end it early), AD_ESTATE before ad_report_select(), or the buffer's
 * errors (out then as it was). */
int ad_report_write(struct ad_report *r, const struct ad_report_page *pg, struct ad_buf *out);

/* Totals, for the caller's summary line and the tests. */
struct ad_report_counts {
    uint64_t alerts;      /* alerts taken */
    size_t alert_rows;    /* rows kept for the table */
    size_t flagged;       /* series with an alert */
    size_t charted;       /* series chosen for a chart */
    uint64_t points;      /* points kept over every chart */
    uint64_t points_seen; /* points of charted series offered */
};
void ad_report_counts(const struct ad_report *r, struct ad_report_counts *out);

/* A JSON string that is safe inside an HTML <script> data block: '<', '>',
 * '&', U+2028 and U+2029 escaped as \uXXXX besides JSON's own escapes
 * (control characters, '"' and '\'). Other bytes are copied. 0 or the
 * buffer's errors. (ad_buf_add_json_str_flags() with AD_JSON_HTML.) */
int ad_report_json_str(struct ad_buf *out, const char *s, size_t len);

/* The CSP source for an inline script or style: "'sha256-" + base64 of the
 * SHA-256 of len bytes + "'" (53 characters) appended. 0 or the buffer's
 * errors. */
int ad_report_csp_hash(struct ad_buf *out, const void *p, size_t len);

/* SHA-256 (FIPS 180-4) of len bytes. */
void ad_report_sha256(const void *p, size_t len, unsigned char out[32]);

/* The spool's record: one scored point in the process's own byte order (the
 * spool never leaves the process). put appends one; get reads the one at p
 * (len bytes available) into row (key and metric point into p) and its size
 * into *used: 0, AD_EAGAIN when len holds only part of it, AD_EINVAL when it
 * is not a record (unknown flags, a length past 2^30, a missing NUL, a NUL
 * inside the metric). */
int ad_report_spool_put(struct ad_buf *out, const struct ad_score_row *row);
int ad_report_spool_get(const void *p, size_t len, struct ad_score_row *row, size_t *used);

#endif
