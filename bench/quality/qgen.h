/* qgen.h - a seeded generator of labelled series for the quality harness.
 *
 * Each series has one anomaly type (or none: clean) injected one to three
 * times into one of ten shapes (flat noise, daily and weekly profiles, trend,
 * AR(1) drift, heavy tails, skew, counts, 1-minute and hourly steps), some
 * with missing points. Labels are NAB-style windows: one per anomaly,
 * centred on its first point, 10% of the series length divided by the
 * number of anomalies. The same seed always gives the same corpus. */
#ifndef QGEN_H
#define QGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum q_type { Q_CLEAN = 0, Q_SPIKE, Q_DIP, Q_LEVEL, Q_VAR, Q_SEASONAL, Q_FLAT, Q_TYPE_COUNT };
const char *q_type_name(int type);

#define Q_MAX_WIN 4

struct q_series {
    char name[64];
    int type;  /* enum q_type */
    int shape; /* index into the shape table */
    size_t n;
    int64_t *t_us; /* owned */
    double *v;     /* owned */
    size_t nwin;
    size_t lo[Q_MAX_WIN], hi[Q_MAX_WIN]; /* window bounds, inclusive indices */
};

struct q_corpus {
    size_t n;
    struct q_series *s; /* owned */
};

/* From now on, seasonal shapes repeat every 20..90 steps, a period that is
 * no divisor of a day (so timestamps alone cannot model it), with no weekly
 * pattern; default off (daily and weekly profiles). */
void q_set_odd_periods(bool on);

/* Builds the corpus of seed. Returns 0 or -1 (out of memory). */
int q_corpus_make(struct q_corpus *c, uint64_t seed);
void q_corpus_free(struct q_corpus *c);

#endif
