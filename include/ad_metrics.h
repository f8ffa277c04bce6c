/* ad_metrics.h - writing the Prometheus text exposition format (0.0.4):
 * "# HELP" and "# TYPE" once per family, then samples with escaped label
 * values. Pure; the daemon composes the families from its stats on each
 * scrape, so there is no registry to keep in step. */
#ifndef AD_METRICS_H
#define AD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"

/* "# HELP name help\n# TYPE name type\n" (type: counter, gauge, histogram). */
int ad_prom_family(struct ad_buf *b, const char *name, const char *type, const char *help);

/* name{k1="v1",k2="v2"} value\n; labels is NULL or k/v pairs, nlabels pairs.
 * Label values are escaped (\\, \", \n); the value is written as an integer
 * when it is one, else in the shortest round-trip form; NaN/Inf as Prometheus
 * spells them. */
int ad_prom_sample(struct ad_buf *b, const char *name, const char *const *labels, size_t nlabels,
                   double value);

/* A histogram's values: counts[i] are per-bucket (not cumulative) for upper
 * bounds bounds[i], n of each (both borrowed); the last bound may be +Inf.
 * sum is the sum of all observations. */
struct ad_prom_hist {
    const double *bounds;
    const uint64_t *counts;
    size_t n;
    double sum;
};

/* A histogram family's samples: name_bucket{le=...} (cumulative), _sum,
 * _count, with labels (NULL or nlabels k/v pairs) prepended. */
int ad_prom_histogram(struct ad_buf *b, const char *name, const char *const *labels, size_t nlabels,
                      const struct ad_prom_hist *h);

/* Counts observation v in counts[] (n buckets, not cumulative: the first
 * whose upper bound is >= v, the last, +Inf, for anything larger) and adds
 * it to *sum: what ad_prom_histogram() renders. */
void ad_prom_hist_observe(const double *bounds, size_t n, uint64_t *counts, double *sum, double v);

#endif
