/* ad_scores.h - every scored point out (replay's --scores): one row per
 * scoring event of the pipeline, as a JSON object or a CSV line with the
 * fields key, metric, time, value, expected, lower, upper, score,
 * is_anomaly, kind. Pure; the output buffer is the only memory touched. */
#ifndef AD_SCORES_H
#define AD_SCORES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"

/* One scored point. Pointers are borrowed for the duration of the call that
 * hands the row over. */
struct ad_score_row {
    const char *key;
    size_t key_len;
    const char *metric;
    int64_t t_us; /* the point's time: the window's start, or the record's time */
    double value;
    bool scored; /* false while the model warms up: expected, lower and upper
                     are written as null (CSV: empty), score as 0 */
    double expected, lower, upper;
    double score;    /* 0..1 */
    bool is_anomaly; /* the final local verdict (after model.rules) */
    int kind;        /* enum ad_kind (ad_detect.h) */
};

enum ad_scores_format { AD_SCORES_JSONL = 0, AD_SCORES_CSV };

/* "jsonl" or "csv" to enum ad_scores_format; -1 when unknown. */
int ad_scores_format_parse(const char *s);

/* Appends the CSV header line (nothing for JSONL). Returns 0 or the buffer's
 * errors. */
int ad_scores_header(int format, struct ad_buf *out);

/* Appends one row and a '\n'. JSONL:
 *   {"key":"k","metric":"temp","time":"2026-11-20T10:00:00.000Z","value":3,
 *    "expected":2.5,"lower":1.5,"upper":3.5,"score":0.2,"is_anomaly":false,
 *    "kind":"none"}
 * CSV: the same fields in that order; key and metric quoted as RFC 4180 when
 * they hold a comma, a quote, CR or LF. Returns 0, AD_EINVAL (an unknown
 * format, a non-finite number) or the buffer's errors; on error out is
 * unchanged. */
int ad_scores_format_row(const struct ad_score_row *r, int format, struct ad_buf *out);

#endif
