/* ad_history.h - the dashboard's bounded memory of scored points: one ring of
 * the latest points per series, kept only for the series someone watches (the
 * series view asks again and again; a watch lapses watch_ms after the last
 * ask) and for the most recently flagged ones (least recently flagged goes
 * first). Every other scored point costs one hash lookup and nothing else, so
 * a million series cost no memory here. Pure: time comes in as now_ms.
 *
 * Memory is bounded by the configuration: at most cfg.series slots, each with
 * a ring of cfg.points points and a key of at most cfg.max_key bytes. A ring is
 * allocated the first time its slot is used and kept for reuse.
 *
 * Ownership: the history owns everything it holds; keys and metrics given to
 * it are copied. Results are copied out. */
#ifndef AD_HISTORY_H
#define AD_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_scores.h"

struct ad_history;

struct ad_history_cfg {
    size_t points;    /* ring length per series (>= 1) */
    size_t series;    /* slots (>= 1) */
    int64_t watch_ms; /* how long a watch lasts after the last ask */
    size_t max_key;   /* longer keys are never held */
};

/* One scored point as kept. */
struct ad_hist_point {
    int64_t t_us;
    double value, expected, lower, upper, score;
    uint64_t alert_seq; /* the alert it raised (the caller's number), 0 none */
    bool scored, is_anomaly;
    uint8_t kind; /* enum ad_kind */
};

/* Returns 0 and an owned history in *out (free with ad_history_free()),
 * AD_EINVAL for a zero bound, AD_ENOMEM. */
int ad_history_new(const struct ad_history_cfg *cfg, struct ad_history **out);
void ad_history_free(struct ad_history *h);

/* A scored point: appended to its series' ring when the series is held; a
 * flagged point of a series not held claims a slot (evicting the least
 * recently flagged series nobody watches; when every slot is watched the
 * point is not kept). */
void ad_history_score(struct ad_history *h, const struct ad_score_row *row, int64_t now_ms);

/* Whether ad_history_score() would keep a point of (key, metric): it is
 * flagged, or the series is held. One hash lookup; none while nothing is held. */
bool ad_history_wants(const struct ad_history *h, const char *key, size_t key_len,
                      const char *metric, bool is_anomaly);

/* An alert: of (key, metric) for the point at t_us, numbered seq by the
 * caller (not 0). Pointers borrowed for the call. */
struct ad_hist_alert {
    const char *key;
    size_t key_len;
    const char *metric;
    int64_t t_us;
    uint64_t seq;
};

/* The newest point of a->t_us in the ring gets a->seq and is marked flagged;
 * the series counts as flagged now (it claims a slot as above). Returns 0,
 * AD_ENOENT (no such point held; the series is held from now on when a slot
 * was free), AD_ELIMIT (no slot). */
int ad_history_alert(struct ad_history *h, const struct ad_hist_alert *a, int64_t now_ms);

/* Someone looks at (key, metric): held (claiming a slot if needed) until
 * now_ms + watch_ms at least. Watches hold at most half the slots (rounded
 * up), so that the flagged series always have room, whatever keys are asked
 * for. Returns 0, AD_ELIMIT (that many slots are watched already: a series
 * already held is still watched), AD_EINVAL (key longer than max_key). */
int ad_history_watch(struct ad_history *h, const char *key, size_t key_len, const char *metric,
                     int64_t now_ms);

/* Copies up to max of the series' points, oldest first, into out and
 * returns how many there were; 0 when the series is not held. */
size_t ad_history_read(const struct ad_history *h, const char *key, size_t key_len,
                       const char *metric, struct ad_hist_point *out, size_t max);

/* Whether (key, metric) is held now. */
bool ad_history_has(const struct ad_history *h, const char *key, size_t key_len,
                    const char *metric);

struct ad_history_stats {
    size_t bytes;   /* heap held: tables, rings allocated, keys */
    size_t series;  /* slots in use */
    size_t watched; /* of them watched at the last call that had a time */
    uint64_t evictions, refused;
};
void ad_history_stats(const struct ad_history *h, struct ad_history_stats *out);

#endif
