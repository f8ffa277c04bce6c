/* ad_detect_int.h - pieces the detectors share inside the core (not API).
 *
 * The robust window, the seasonal profile and the change finder are each a
 * component with its own fixed-size state, so that "auto" can hold all three
 * in one block and the standalone detectors are thin wrappers over them. */
#ifndef AD_DETECT_INT_H
#define AD_DETECT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_detect.h"

extern const struct ad_detect_ops ad_detect_welford_ops;
extern const struct ad_detect_ops ad_detect_robust_ops;
extern const struct ad_detect_ops ad_detect_seasonal_ops;
extern const struct ad_detect_ops ad_detect_change_ops;
extern const struct ad_detect_ops ad_detect_auto_ops;
extern const struct ad_detect_ops ad_detect_uvad_ops;

#define AD_SQRT_PI   1.7724538509055160273
#define AD_ALIGN8(n) (((n) + (size_t)7) & ~(size_t)7)

/* Appends a segment; returns the new count (unchanged when full). */
size_t ad_detect_seg_add(struct ad_detect_seg *s, size_t n, size_t max, size_t off, uint32_t count,
                         uint8_t width);
/* Shifts segments [from, n) by base bytes. */
void ad_detect_seg_shift(struct ad_detect_seg *s, size_t from, size_t n, size_t base);
/* Every value is finite and within +-AD_DETECT_STATE_MAX: what a model fed
 * values within +-AD_DETECT_MAX_ABS can hold, with room for its sums; a
 * restored state beyond it is refused, so no arithmetic can overflow. */
#define AD_DETECT_STATE_MAX 1e200
bool ad_detect_finite(const double *v, size_t n);
/* v as a float, clamped to +-1e37 (a float bin never becomes infinite). */
float ad_detect_to_float(double v);

/* z deflated by the series' own tail: while *q99 (the running 99th
 * percentile of |z|, start it at AD_Q99_GAUSS) is above the Gaussian one
 * (heavy tails, skew), z is scaled down by the ratio, so that a score means
 * "rare for this series". Updates *q99 (clipped stochastic gradient on the
 * pinball loss) and returns the adjusted z. */
#define AD_Q99_GAUSS 2.5758
double ad_detect_tail_adjust(double *q99, double z);

/* ad_likelihood_update() for a caller that keeps the larger of its result
 * and ad_detect_tail_score(raw): the same state change, and the same larger
 * one, but 0 where the likelihood provably could not be the larger (it is
 * then not computed). */
double ad_likelihood_update_beside(struct ad_likelihood *lk, double raw);

/* ---- robust window: the median of the last AD_ROBUST_SHORT values is the
 * prediction; the band comes from the median of the last 'window' absolute
 * prediction errors (one-step residuals), so a drifting or seasonal series
 * is judged by how well its recent past predicts it, not by its spread. */
#define AD_ROBUST_SHORT 21
struct ad_robust_win {
    uint64_t n, head;                /* values held (<= AD_ROBUST_SHORT), next slot */
    uint64_t rn, rhead;              /* residuals held (<= window), next slot */
    double slow_scale;               /* long-run scale, a floor when the MAD collapses */
    double q99;                      /* for ad_detect_tail_adjust() (the robust detector's) */
    double vals[AD_ROBUST_SHORT];    /* ring, by arrival */
    double vsorted[AD_ROBUST_SHORT]; /* the same n values, ascending */
    /* then: float resid[window] (ring of absolute residuals), float
     * rsorted[window] (the same rn values, ascending) */
};
size_t ad_robust_win_size(uint32_t window);
void ad_robust_win_init(struct ad_robust_win *w);
/* The prediction (median of the recent values) and robust sigma (1.4826 x the
 * median absolute residual, floored); false while fewer than 3 values and 8
 * residuals are held. */
bool ad_robust_win_stats(const struct ad_robust_win *w, uint32_t window, double *med,
                         double *sigma);
/* Adds x; med is the prediction ad_robust_win_stats() gave for x, or NULL
 * (then it is computed). */
void ad_robust_win_add(struct ad_robust_win *w, uint32_t window, double x, const double *med);
/* Adds delta to the held values but the newest 'keep' (a re-baseline after
 * a level shift whose last 'keep' points are already at the new level). */
void ad_robust_win_shift(struct ad_robust_win *w, double delta, uint64_t keep);
size_t ad_robust_win_segs(uint32_t window, struct ad_detect_seg *s, size_t n, size_t max);
bool ad_robust_win_valid(const struct ad_robust_win *w, uint32_t window);
/* The smallest sigma worth dividing by for values around x. */
double ad_detect_sigma_floor(double x);

/* ---- seasonal profile: level + day-phase + hour-of-week offsets ---- */
struct ad_season {
    uint64_t n;
    int64_t first_t, last_t;  /* microseconds */
    double step_s;            /* typical spacing of points, seconds */
    double base;              /* the first value: bins are relative to it */
    double level;             /* slow drift of the deseasonalised series, from 0 */
    double mean;              /* slow mean of the values (the flat model) */
    double mad_day, mad_week; /* mean |residual| with day / day+week terms */
    double mad_flat;          /* mean |x - mean| (no seasonal term) */
    double q99;               /* for ad_detect_tail_adjust() (the seasonal detector's) */
    int64_t period_pts;       /* data period in points; 0 undecided, -1 none (timestamps) */
    int64_t period_us;        /* its length (period_pts x the buffer's step); 0: a day */
    int64_t origin_t;         /* phase 0 of the data period (the first point) */
    /* then: float day[bins], float week[168], uint32 day_set[(bins+31)/32],
     * uint32 week_set[6], float warm[AD_SEASON_WARM] (with data_period: the
     * first values, relative to base, until the period is decided) */
};
#define AD_SEASON_WARM       192 /* points the data period is found from */
#define AD_SEASON_MIN_PERIOD 4   /* shortest data period, in points */
size_t ad_season_size(const struct ad_detect_params *p);
void ad_season_init(struct ad_season *s, const struct ad_detect_params *p);
/* What the profile says about one time: worked out once, used by the
 * prediction and by the learning of the same point. */
struct ad_season_pt {
    uint32_t db, wh;        /* profile bin, hour of week */
    double age;             /* periods since the first point */
    bool ok;                /* a prediction: the phase was seen on an earlier day */
    double expected, sigma; /* it and the residual's robust scale, when ok */
};
/* Fills *pt for t: the seasonal prediction, false (pt->ok) when the phase
 * has not been seen on an earlier day (or the series is younger than a
 * day). Returns pt->ok. */
bool ad_season_look(const struct ad_season *s, const struct ad_detect_params *p, int64_t t_us,
                    struct ad_season_pt *pt);
/* Learns x at t (residuals clipped to 'clip' sigmas so spikes are not
 * learnt), with pt from ad_season_look() for this t on the state as it is
 * now (nothing learnt or shifted since). */
void ad_season_learn_pt(struct ad_season *s, const struct ad_detect_params *p, int64_t t_us,
                        double x, double clip, const struct ad_season_pt *pt);
/* Ratio of the seasonal model's error to a flat model's (lower = seasonal). */
double ad_season_gain(const struct ad_season *s);
void ad_season_shift(struct ad_season *s, double delta);
size_t ad_season_segs(const struct ad_detect_params *p, struct ad_detect_seg *seg, size_t n,
                      size_t max);
bool ad_season_valid(const struct ad_season *s, const struct ad_detect_params *p);

/* ---- change finder: CUSUM level shifts, variance changes, flatlines ---- */
#define AD_CHANGE_RECENT 8
struct ad_change {
    uint64_t n;
    double spos, sneg;         /* CUSUM sums of clipped z */
    double rpos, rneg;         /* sums of residuals during each run */
    double cpos, cneg;         /* points in each run */
    double var_short;          /* short EWMA of z^2 */
    double mean_short;         /* short EWMA of z */
    double flat_run, flat_max; /* current run of equal values, longest normal run */
    double last;
    double flagged_flat;             /* 1 while the current run has been reported */
    double var_low;                  /* faster EWMA of z^2 (a variance decrease) */
    double since_event;              /* points since the last shift or variance finding */
    double recent[AD_CHANGE_RECENT]; /* the last residuals, by n */
};
enum ad_change_event { AD_CHANGE_NONE = 0, AD_CHANGE_SHIFT, AD_CHANGE_VARIANCE, AD_CHANGE_FLAT };
void ad_change_init(struct ad_change *c);
/* What one point told the change finder. */
struct ad_change_out {
    int event;    /* enum ad_change_event */
    double delta; /* shift: new level - old (add it to the baseline); variance: spread ratio
                   * (above 1: an increase, below 1: a decrease) */
    double stat;  /* the larger CUSUM sum over h (a graded score) */
    uint64_t run; /* shift: points of the run that raised it (already at the new level) */
};
/* Feeds one point: x, its residual from the baseline and that residual in
 * sigmas. Returns o->event. */
int ad_change_feed(struct ad_change *c, const struct ad_detect_params *p, double x, double resid,
                   double z, struct ad_change_out *o);
/* True while in a reported flatline (the baseline should not learn). */
bool ad_change_in_flat(const struct ad_change *c);
size_t ad_change_segs(struct ad_detect_seg *seg, size_t n, size_t max);
bool ad_change_valid(const struct ad_change *c);

#endif
