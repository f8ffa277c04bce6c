/* ad_detect.h - local anomaly detectors behind one interface.
 *
 * A detector is a table of operations (struct ad_detect_ops) over per-series
 * state of a fixed size that depends only on the parameters: the caller owns
 * the memory (ad_detect_size() bytes, 8-byte aligned; inline in a series, in
 * an arena, ...) and the detector never allocates. Each point (time, value)
 * is scored against the past only and then learnt, in one call
 * (ad_detect_step()); the result explains itself (expected value, band,
 * kind). State saves to a versioned, portable byte encoding (little-endian
 * words, IEEE-754 doubles and floats bit for bit) and restores from it.
 *
 * Pure: no clock (time comes in as an argument), no I/O, no allocation,
 * no logging. Callers must reject NaN/Inf before a point reaches a model;
 * ad_detect_step() refuses them as well (unscored, state untouched), and,
 * for every detector but welford, values beyond +-AD_DETECT_MAX_ABS (1e30),
 * so that no sum or square in a model can overflow.
 *
 * Detectors: "welford" (the interface.md rule, exact), "robust" (median/MAD
 * over a bounded window), "seasonal" (per-phase baseline by time of day and
 * of week, or by a period found in the data), "change" (level shift, variance change and flatline findings),
 * "auto" (all of them with one sensitivity knob), "uvad" (the retired Anomaly
 * Detector service's algorithm, ad_uvad.h, on a ring of the last points; it
 * needs caller-owned scratch: ad_detect_scratch_size()). Any of them may be
 * followed by the anomaly-likelihood post-stage (params.likelihood). */
#ifndef AD_DETECT_H
#define AD_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an anomalous point looks like. */
enum ad_kind {
    AD_KIND_NONE = 0,
    AD_KIND_SPIKE,           /* above the expected band */
    AD_KIND_DIP,             /* below the expected band */
    AD_KIND_LEVEL_SHIFT,     /* a lasting change of level (raised once, then re-baselined) */
    AD_KIND_VARIANCE_CHANGE, /* a lasting change of spread */
    AD_KIND_SEASONAL,        /* normal in range, wrong for its time of day or week */
    AD_KIND_FLATLINE,        /* stuck: the same value for far longer than usual */
    AD_KIND_COUNT_
};
/* "spike", "dip", ..., "none" for AD_KIND_NONE; "?" when out of range. */
const char *ad_kind_name(int kind);

enum ad_detector_id {
    AD_DET_WELFORD = 1,
    AD_DET_ROBUST = 2,
    AD_DET_SEASONAL = 3,
    AD_DET_CHANGE = 4,
    AD_DET_AUTO = 5,
    AD_DET_UVAD = 6
};
#define AD_DETECT_UVAD_MAX_WINDOW 1024

/* Parameters, one block per detector (the config's model.<detector>.*). */
struct ad_detect_params {
    int detector; /* enum ad_detector_id */
    struct {
        double threshold;     /* |z| strictly above it is anomalous */
        uint64_t min_samples; /* n before a point is scored */
        int direction;        /* enum ad_direction (ad_types.h) */
        bool learn_anomalies;
    } welford;
    struct {
        uint32_t window;  /* past points in the median/MAD window, 8..1024 */
        double threshold; /* robust |z| for is_anomaly */
    } robust;
    struct {
        int32_t utc_offset_s; /* local time = UTC + offset, for day and week phases */
        uint32_t day_bins;    /* bins per day, 24..1440 (288 = 5 minutes) */
        bool weekly;          /* also learn an hour-of-week profile (168 bins) */
        bool data_period;     /* also find the period from the data (ad_seasonal.c) */
        double threshold;     /* robust |z| of the residual for is_anomaly */
    } seasonal;
    struct {
        double k, h;       /* CUSUM slack and decision interval, in robust sigmas */
        double var_ratio;  /* spread ratio (short/long) that is a variance change */
        uint32_t flat_min; /* shortest run of equal values that can be a flatline */
    } change;
    struct {
        double sensitivity; /* 0..100, higher = more alerts */
        double event_score; /* score of a change finding (internal; 0.75) */
    } autod;
    struct {
        uint32_t window;          /* points judged together, 12..1024 (the ring) */
        int sensitivity;          /* the service's sensitivity, 0..99 */
        double max_anomaly_ratio; /* the service's maxAnomalyRatio, (0, 0.49] */
    } uvad;
    bool likelihood; /* follow the detector with the anomaly-likelihood stage */
};

/* Fills p with the defaults of detector id (the documented defaults). */
void ad_detect_defaults(struct ad_detect_params *p, int id);

/* One scored point. */
struct ad_detect_result {
    bool scored;         /* false while warming up (or for a refused point) */
    bool is_anomaly;     /* the detector's decision (before ad_detect_rules) */
    int kind;            /* enum ad_kind; AD_KIND_NONE when nothing stands out */
    double score;        /* 0..1, monotone in how unusual the point is */
    double raw;          /* detector-specific: |z| for welford, robust |z|, ... */
    double expected;     /* what the past predicted for this point */
    double lower, upper; /* the band outside which a point is anomalous */
};

/* A run of same-width words of the state, for the portable encoding. */
struct ad_detect_seg {
    size_t off;     /* byte offset in the state */
    uint32_t count; /* words */
    uint8_t width;  /* 4 (float/uint32) or 8 (double/int64/uint64) */
};
#define AD_DETECT_MAX_SEGS 24

/* The operations of one detector. state is size(p) bytes, 8-byte aligned. */
struct ad_detect_ops {
    const char *name;
    int id;
    uint8_t version; /* of the state layout; bumped when it changes */
    /* 0, or AD_EINVAL with a reason in err for parameters out of range. */
    int (*check)(const struct ad_detect_params *p, char *err, size_t errlen);
    size_t (*size)(const struct ad_detect_params *p);
    void (*init)(void *state, const struct ad_detect_params *p);
    /* Scores (t_us, x) against the past, then learns it. x is finite.
     * scratch: scratch(p) bytes, or NULL (see scratch below); a detector
     * without a scratch op ignores it. */
    void (*step)(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                 void *scratch, struct ad_detect_result *out);
    /* Describes the state's words; returns the number of segments. */
    size_t (*segs)(const struct ad_detect_params *p, struct ad_detect_seg *out, size_t max);
    /* After a restore: true when the state is one step() can run on. */
    bool (*valid)(const void *state, const struct ad_detect_params *p);
    /* Optional (NULL: none): bytes of scratch one step needs, shared by all
     * series of a caller and reused at every step (16-byte aligned); step()
     * given NULL instead then learns the point but leaves it unscored. */
    size_t (*scratch)(const struct ad_detect_params *p);
};

/* The table of a detector by name ("welford", "robust", "seasonal",
 * "change", "auto", "uvad") or id; NULL when unknown. Static; never freed. */
const struct ad_detect_ops *ad_detect_find(const char *name);
const struct ad_detect_ops *ad_detect_by_id(int id);

/* ---- the generic layer (detector + optional likelihood post-stage) ---- */

/* 0, or AD_EINVAL (unknown detector, parameters out of range) with err. */
int ad_detect_check(const struct ad_detect_params *p, char *err, size_t errlen);
/* Bytes of state per series for p (a multiple of 8). */
size_t ad_detect_size(const struct ad_detect_params *p);
/* Initialises state (ad_detect_size(p) bytes, 8-byte aligned). p is valid. */
void ad_detect_init(void *state, const struct ad_detect_params *p);
#define AD_DETECT_MAX_ABS 1e30
/* Scores then learns one point. A non-finite x (or, but for welford, one
 * beyond +-AD_DETECT_MAX_ABS) is refused: out->scored is false and the state
 * is unchanged. Runs without scratch: a detector that needs some (uvad)
 * learns the point but leaves it unscored (ad_detect_step_scratch()). */
void ad_detect_step(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                    struct ad_detect_result *out);
/* Bytes of scratch ad_detect_step_scratch() needs for p: 0 for every
 * detector but uvad. The caller owns it (16-byte aligned, e.g. from malloc),
 * one buffer for all its series, never touched between calls. */
size_t ad_detect_scratch_size(const struct ad_detect_params *p);
/* ad_detect_step() with that scratch (NULL when the size is 0). */
void ad_detect_step_scratch(void *state, const struct ad_detect_params *p, int64_t t_us, double x,
                            void *scratch, struct ad_detect_result *out);
/* Bytes ad_detect_save() writes for p. */
size_t ad_detect_encoded_size(const struct ad_detect_params *p);
/* Writes the state's encoding: "AD", detector id, layout version, a flags
 * byte (bit 0: likelihood stage), a reserved byte, the word count (u32 LE),
 * then each word little-endian. Returns 0 and the bytes written in
 * *written, AD_ELIMIT when cap is too small, AD_EINVAL for an unknown
 * detector. */
int ad_detect_save(const void *state, const struct ad_detect_params *p, uint8_t *buf, size_t cap,
                   size_t *written);
/* Restores state from buf (borrowed). AD_EPARSE when the encoding is not one
 * of these parameters' detector and layout, or describes a state that step()
 * could not run on; then the state is re-initialised. */
int ad_detect_restore(void *state, const struct ad_detect_params *p, const uint8_t *buf,
                      size_t len);

/* ---- the anomaly likelihood (Ahmad et al. 2017) as a component ---- */

/* The long-run distribution of a raw score (exponentially weighted mean and
 * variance over about 'long' points) and its recent average (the last 'short'
 * points); the likelihood is the Gaussian tail probability of the recent
 * average under the long-run distribution. */
#define AD_LIK_SHORT 8
struct ad_likelihood {
    uint64_t n;
    double mean, var;
    double recent[AD_LIK_SHORT];
};
void ad_likelihood_init(struct ad_likelihood *lk);
/* Adds raw (clipped to [0, 50]) and returns the tail score in [0, 1]: 0 when
 * the recent average is usual, towards 1 as its tail probability vanishes
 * (the same log scale as ad_detect_tail_score()). 0 while warming up. */
double ad_likelihood_update(struct ad_likelihood *lk, double raw);
bool ad_likelihood_valid(const struct ad_likelihood *lk);
/* Forgets the recent scores (each set to the long-run mean): after a
 * re-baseline, what led up to it is no longer news. */
void ad_likelihood_forget_recent(struct ad_likelihood *lk);

/* Maps a robust |z| to a score in [0, 1] through the two-sided Gaussian tail
 * probability on a log scale: -log10(p) / (-log10(p) + 5). z = 4 -> 0.46. */
double ad_detect_tail_score(double z);
/* The same map from a -log10 tail probability. */
double ad_detect_logp_score(double logp10);
/* The -log10 tail probability the map gives 0.5 (p = 1e-5). */
#define AD_DETECT_LOGP_HALF 5.0

/* ---- rules that apply to any detector ---- */

struct ad_detect_rules {
    int direction;       /* enum ad_direction: keep only anomalies that way */
    double min_abs_dev;  /* |value - expected| at least this (0 = off) */
    double min_rel_dev;  /* |value - expected| at least this * |expected| (0 = off) */
    int64_t cooldown_us; /* after an alert, the series' next alert waits this long */
};
/* Applies r to res for the point (t_us, x): clears res->is_anomaly when a
 * rule refuses it. *last_alert_us is the series' time of its last alert
 * (INT64_MIN: none), updated when the point stays an anomaly. Direction and
 * deviation rules apply to spikes, dips, level shifts and seasonal points;
 * variance changes and flatlines have no direction and no deviation. */
void ad_detect_rules_apply(const struct ad_detect_rules *r, int64_t *last_alert_us, int64_t t_us,
                           double x, struct ad_detect_result *res);

/* ---- missing data for regular (tumbling) series ---- */

enum ad_fill { AD_FILL_SKIP = 0, AD_FILL_PREVIOUS, AD_FILL_LINEAR, AD_FILL_ZERO };
/* Parses "skip", "previous", "linear", "zero"; -1 when unknown. */
int ad_fill_parse(const char *s);
/* The value of missing slot k (1..gap) between a point v0 and the next point
 * v1 that arrived gap + 1 slots later. Returns false for AD_FILL_SKIP (no
 * value: the slot is not scored) or bad arguments. */
bool ad_fill_value(int policy, double v0, double v1, uint64_t k, uint64_t gap, double *out);

#endif
