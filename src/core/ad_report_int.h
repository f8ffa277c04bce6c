/* ad_report_int.h - what ad_report.c (the accumulator) and ad_report_html.c
 * (the page) share. Not a public header. */
#ifndef AD_REPORT_INT_H
#define AD_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_htab.h"
#include "ad_report.h"

#define RPT_SCORED  1u /* expected, lower and upper hold values */
#define RPT_ANOMALY 2u /* the detector flagged the point */
#define RPT_PINNED  4u /* kept as a flagged point, whatever the thinning */

/* One kept point of a charted series. */
struct rpt_point {
    int64_t t_us;
    double value, expected, lower, upper;
    uint64_t idx; /* its ordinal among the series' points */
    unsigned flags;
};

/* One flagged series. Owns key, metric and pts. */
struct rpt_series {
    char *key;
    size_t key_len;
    char *metric;
    uint64_t alerts;
    double max_score;
    bool charted;
    struct rpt_point *pts;
    size_t n, cap; /* cap grows to 2 * max_points */
    uint64_t seen; /* points offered */
    uint64_t stride;
    size_t pinned;
};

/* One row of the alerts table; s is borrowed from the report's series. */
struct rpt_alert {
    const struct rpt_series *s;
    int64_t start_us, end_us;
    double value, expected, lower, upper, score;
    int kind;
    int detector;
    int direction;
};

struct ad_report {
    struct ad_report_opts o;
    struct ad_htab idx;         /* (key, metric) -> struct rpt_series */
    struct rpt_series **series; /* every flagged series; ordered by ad_report_select() */
    size_t nseries, series_cap;
    size_t charted;
    bool selected;
    struct rpt_alert *rows;
    size_t nrows, rows_cap;
    uint64_t alerts;
    uint64_t points, points_seen;
};

#endif
