#include "ad_metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ad_err.h"

int ad_prom_family(struct ad_buf *b, const char *name, const char *type, const char *help)
{
    return ad_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int add_label_value(struct ad_buf *b, const char *v)
{
    int rc = 0;
    for (; rc == 0 && *v; v++) {
        if (*v == '\\')
            rc = ad_buf_adds(b, "\\\\");
        else if (*v == '"')
            rc = ad_buf_adds(b, "\\\"");
        else if (*v == '\n')
            rc = ad_buf_adds(b, "\\n");
        else
            rc = ad_buf_addc(b, *v);
    }
    return rc;
}

static int add_value(struct ad_buf *b, double v)
{
    if (isnan(v))
        return ad_buf_adds(b, "NaN");
    if (isinf(v))
        return ad_buf_adds(b, v > 0 ? "+Inf" : "-Inf");
    if (v == floor(v) && fabs(v) < 9e15)
        return ad_buf_printf(b, "%.0f", v);
    return ad_buf_add_double(b, v);
}

static int add_labels(struct ad_buf *b, const char *const *labels, size_t n, const char *extra_k,
                      const char *extra_v)
{
    int rc = 0;
    if (!n && !extra_k)
        return 0;
    rc = ad_buf_addc(b, '{');
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = ad_buf_printf(b, "%s%s=\"", i ? "," : "", labels[2 * i]);
        if (rc == 0)
            rc = add_label_value(b, labels[2 * i + 1]);
        if (rc == 0)
            rc = ad_buf_addc(b, '"');
    }
    if (rc == 0 && extra_k) {
        rc = ad_buf_printf(b, "%s%s=\"", n ? "," : "", extra_k);
        if (rc == 0)
            rc = add_label_value(b, extra_v);
        if (rc == 0)
            rc = ad_buf_addc(b, '"');
    }
    return rc ? rc : ad_buf_addc(b, '}');
}

int ad_prom_sample(struct ad_buf *b, const char *name, const char *const *labels, size_t nlabels,
                   double value)
{
    int rc = ad_buf_adds(b, name);
    if (rc == 0)
        rc = add_labels(b, labels, nlabels, NULL, NULL);
    if (rc == 0)
        rc = ad_buf_addc(b, ' ');
    if (rc == 0)
        rc = add_value(b, value);
    return rc ? rc : ad_buf_addc(b, '\n');
}

int ad_prom_histogram(struct ad_buf *b, const char *name, const char *const *labels, size_t nlabels,
                      const struct ad_prom_hist *h)
{
    const double *bounds = h->bounds;
    const uint64_t *counts = h->counts;
    size_t n = h->n;
    uint64_t cum = 0;
    int rc = 0;
    char le[64];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cum += counts[i];
        if (isinf(bounds[i]) || bounds[i] > 1e299)
            snprintf(le, sizeof(le), "+Inf");
        else
            snprintf(le, sizeof(le), "%g", bounds[i]);
        rc = ad_buf_printf(b, "%s_bucket", name);
        if (rc == 0)
            rc = add_labels(b, labels, nlabels, "le", le);
        if (rc == 0)
            rc = ad_buf_printf(b, " %llu\n", (unsigned long long)cum);
    }
    if (rc == 0 && (n == 0 || !(isinf(bounds[n - 1]) || bounds[n - 1] > 1e299))) {
        rc = ad_buf_printf(b, "%s_bucket", name);
        if (rc == 0)
            rc = add_labels(b, labels, nlabels, "le", "+Inf");
        if (rc == 0)
            rc = ad_buf_printf(b, " %llu\n", (unsigned long long)cum);
    }
    if (rc == 0)
        rc = ad_buf_printf(b, "%s_sum", name);
    if (rc == 0)
        rc = add_labels(b, labels, nlabels, NULL, NULL);
    if (rc == 0)
        rc = ad_buf_addc(b, ' ');
    if (rc == 0)
        rc = add_value(b, h->sum);
    if (rc == 0)
        rc = ad_buf_printf(b, "\n%s_count", name);
    if (rc == 0)
        rc = add_labels(b, labels, nlabels, NULL, NULL);
    return rc ? rc : ad_buf_printf(b, " %llu\n", (unsigned long long)cum);
}

void ad_prom_hist_observe(const double *bounds, size_t n, uint64_t *counts, double *sum, double v)
{
    size_t i = 0;
    while (i + 1 < n && v > bounds[i])
        i++;
    counts[i]++;
    *sum += v;
}
