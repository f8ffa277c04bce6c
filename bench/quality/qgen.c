/* qgen.c - the labelled-series generator (see qgen.h). */
#include "qgen.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400.0
#define PI  3.14159265358979323846

enum {
    S_NOISE = 0,
    S_DAILY,
    S_WEEKLY,
    S_TREND,
    S_AR1,
    S_HEAVY,
    S_SKEW,
    S_COUNTS,
    S_MINUTE,
    S_HOURLY,
    S_COUNT
};
static const char *const shape_names[S_COUNT] = {"noise", "daily", "weekly", "trend",  "ar1",
                                                 "heavy", "skew",  "counts", "minute", "hourly"};
static const char *const type_names[Q_TYPE_COUNT] = {"clean",       "spike",           "dip",
                                                     "level_shift", "variance_change", "seasonal",
                                                     "flatline"};

const char *q_type_name(int type)
{
    return type >= 0 && type < Q_TYPE_COUNT ? type_names[type] : "?";
}

struct rng {
    uint64_t s;
};

static uint64_t next_u64(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(struct rng *r)
{
    return ((double)(next_u64(r) >> 11) + 0.5) / 9007199254740992.0;
}

static double between(struct rng *r, double a, double b)
{
    return a + (b - a) * unif(r);
}

static double gauss(struct rng *r)
{
    return sqrt(-2.0 * log(unif(r))) * cos(2 * PI * unif(r));
}

static double poisson(struct rng *r, double lam)
{
    if (lam > 30)
        return fmax(0, round(lam + sqrt(lam) * gauss(r)));
    double l = exp(-lam), p = 1;
    int k = 0;
    do {
        k++;
        p *= unif(r);
    } while (p > l);
    return k - 1;
}

static bool seasonal_shape(int shape)
{
    return shape == S_DAILY || shape == S_WEEKLY || shape == S_MINUTE || shape == S_HOURLY ||
           shape == S_COUNTS;
}

/* The shape's parameters for one series. */
struct recipe {
    int shape;
    size_t n;
    double step, level, amp, noise, slope, phi, phase, weekend;
    double period; /* seconds of the seasonal pattern: a day, or odd (q_set_odd_periods) */
    int64_t start_us;
};

static bool odd_periods;

void q_set_odd_periods(bool on)
{
    odd_periods = on;
}

/* A period of 20..90 steps that is no divisor (nor multiple) of a day. */
static double odd_period(struct rng *r, double step)
{
    double pts = floor(between(r, 20, 90)), k;

    for (;; pts++) {
        k = DAY / (pts * step);
        if (fabs(k - round(k)) > 0.05 && fabs(1 / k - round(1 / k)) > 0.05)
            return pts * step;
    }
}

static void pick_recipe(struct rng *r, int shape, struct recipe *rc)
{
    memset(rc, 0, sizeof(*rc));
    rc->shape = shape;
    rc->step = shape == S_MINUTE ? 60 : shape == S_HOURLY ? 3600 : shape == S_WEEKLY ? 1800 : 300;
    rc->n = shape == S_MINUTE   ? (size_t)between(r, 10000, 20000)
            : shape == S_HOURLY ? (size_t)between(r, 1000, 2500)
                                : (size_t)between(r, 2000, 12000);
    rc->level = between(r, 10, 1000);
    rc->noise = rc->level * between(r, 0.01, 0.08);
    rc->amp = seasonal_shape(shape) ? rc->level * between(r, 0.2, 0.6) : 0;
    rc->phase = between(r, 0, 24);
    rc->weekend = shape == S_WEEKLY || shape == S_HOURLY ? between(r, 0.3, 0.7) : 1;
    rc->slope = shape == S_TREND ? between(r, -1, 1) * 8 * rc->noise / (double)rc->n : 0;
    rc->phi = shape == S_AR1 ? between(r, 0.9, 0.98) : 0;
    rc->period = odd_periods && seasonal_shape(shape) ? odd_period(r, rc->step) : DAY;
    if (odd_periods)
        rc->weekend = 1; /* one period, no weekly pattern on top */
    /* 2024-01-01 plus up to a year, aligned to the step. */
    int64_t start = 1704067200 + (int64_t)between(r, 0, 365) * 86400;
    rc->start_us = (start - start % (int64_t)rc->step) * 1000000;
}

/* The deterministic part at point i (shifted by dt seconds, for seasonal
 * anomalies; flat = the day's mean, for a "holiday"). */
static double det_at(const struct recipe *rc, size_t i, double dt, bool flat)
{
    double ts = (double)rc->start_us / 1e6 + (double)i * rc->step + dt;
    double h = fmod(ts, rc->period) / rc->period * 24.0, v = rc->level + rc->slope * (double)i;
    int dow = (int)fmod(floor(ts / DAY) + 3, 7); /* 0 = Monday */

    if (rc->amp > 0 && !flat) {
        double d = 0.7 * sin(2 * PI * (h - rc->phase) / 24) +
                   0.3 * sin(4 * PI * (h - rc->phase) / 24);
        v += rc->amp * d * (dow >= 5 ? rc->weekend : 1);
    }
    return v;
}

/* One noise draw (the AR state in *ar). */
static double noise_draw(struct rng *r, const struct recipe *rc, double *ar, double scale)
{
    double e = gauss(r);
    switch (rc->shape) {
    case S_AR1:
        *ar = rc->phi * *ar + sqrt(1 - rc->phi * rc->phi) * e * 3;
        return *ar * rc->noise * scale;
    case S_HEAVY: {
        double c = gauss(r), d = gauss(r), f = gauss(r);
        return rc->noise * scale * e / sqrt((c * c + d * d + f * f) / 3.0) * 0.6;
    }
    case S_SKEW:
        return rc->noise * scale * (exp(0.8 * e) - exp(0.32)) * 1.2;
    default:
        return rc->noise * scale * e;
    }
}

struct inj {
    size_t at[Q_MAX_WIN];
    size_t k;
    double mag[Q_MAX_WIN];
    size_t dur[Q_MAX_WIN];
};

static void place(struct rng *r, const struct recipe *rc, int type, struct inj *in)
{
    size_t n = rc->n, prob = (size_t)(0.15 * (double)n), lo, span;

    /* Past the warm-up and half a window (at most 5% of n) after it. */
    lo = (prob < 750 ? prob : 750) + n / 10;
    if (rc->shape == S_DAILY || rc->shape == S_WEEKLY || rc->shape == S_MINUTE ||
        rc->shape == S_COUNTS || rc->shape == S_HOURLY) {
        /* Leave the seasonal models three days to learn. */
        size_t three = (size_t)(3 * DAY / rc->step);
        if (lo < three && three < n / 2)
            lo = three;
    }
    in->k = type == Q_CLEAN ? 0
            : n < 4000      ? 1 + (size_t)(unif(r) < 0.5)
                            : 2 + (size_t)(unif(r) < 0.5);
    if (type == Q_LEVEL || type == Q_SEASONAL)
        in->k = in->k > 2 ? 2 : in->k;
    span = (n - n / 10 - lo) / (in->k ? in->k : 1);
    for (size_t j = 0; j < in->k; j++) {
        in->at[j] = lo + j * span + (size_t)(between(r, 0.1, 0.6) * (double)span);
        in->mag[j] = between(r, 0, 1);
        in->dur[j] = (size_t)(between(r, 0.3, 0.6) * (double)span);
    }
}

static double sigma_eff(const struct recipe *rc, double base)
{
    if (rc->shape == S_COUNTS)
        return sqrt(base > 1 ? base : 1);
    return rc->noise;
}

/* Writes values into v[0..n) for recipe rc with anomalies of type. */
static void render(struct rng *r, const struct recipe *rc, int type, const struct inj *in,
                   double *v)
{
    double ar = 0, shift = 0;
    size_t n = rc->n;

    for (size_t i = 0; i < n; i++) {
        double scale = 1, dt = 0, base, x;
        bool flat = false;
        for (size_t j = 0; j < in->k; j++) {
            if (i < in->at[j])
                continue;
            if (type == Q_VAR && i < in->at[j] + in->dur[j])
                scale = 3 + 2 * in->mag[j];
            if (type == Q_SEASONAL && (double)(i - in->at[j]) * rc->step < DAY) {
                flat = in->mag[j] < 0.4;
                dt = flat ? 0 : (in->mag[j] < 0.7 ? 6 : 10) / 24.0 * rc->period;
            }
        }
        base = det_at(rc, i, dt, flat);
        if (type == Q_LEVEL)
            for (size_t j = 0; j < in->k; j++)
                if (i == in->at[j])
                    shift += (in->mag[j] < 0.5 ? -1 : 1) * (3 + 4 * fabs(in->mag[j] - 0.5)) *
                             sigma_eff(rc, base) * (rc->shape == S_AR1 ? 3 : 1);
        base += shift;
        if (rc->shape == S_COUNTS)
            x = poisson(r, fmax(0.1, (base / rc->level) * 12.0 * scale * scale));
        else
            x = base + noise_draw(r, rc, &ar, scale);
        for (size_t j = 0; j < in->k; j++) {
            double s = sigma_eff(rc, rc->shape == S_COUNTS ? 12 : base);
            if (type == Q_SPIKE && i == in->at[j])
                x += (6 + 6 * in->mag[j]) * s * (rc->shape == S_HEAVY ? 2 : 1);
            if (type == Q_DIP && i == in->at[j])
                x -= (6 + 6 * in->mag[j]) * s * (rc->shape == S_HEAVY ? 2 : 1);
            if (type == Q_FLAT && i > in->at[j] && i < in->at[j] + 30 + in->dur[j] / 4)
                x = v[in->at[j]];
        }
        v[i] = x;
    }
}

/* Drops points (missing data) and writes the kept times; returns the new n
 * and remaps the anomaly starts. */
static size_t drop_points(struct rng *r, const struct recipe *rc, double *v, int64_t *t,
                          struct inj *in, bool missing)
{
    size_t n = rc->n, out = 0, gap_at = (size_t)(between(r, 0.2, 0.9) * (double)n),
           gap_len = n / 200;
    size_t newat[Q_MAX_WIN] = {0};
    bool seen[Q_MAX_WIN] = {false};

    for (size_t i = 0; i < n; i++) {
        bool keep = !missing || (unif(r) > 0.01 && (i < gap_at || i >= gap_at + gap_len));
        for (size_t j = 0; j < in->k; j++)
            if (i == in->at[j])
                keep = true; /* an anomaly's first point is always there */
        if (!keep)
            continue;
        for (size_t j = 0; j < in->k; j++)
            if (!seen[j] && i >= in->at[j]) {
                seen[j] = true;
                newat[j] = out;
            }
        v[out] = v[i];
        t[out] = rc->start_us + (int64_t)((double)i * rc->step) * 1000000;
        out++;
    }
    for (size_t j = 0; j < in->k; j++)
        in->at[j] = newat[j];
    return out;
}

static int make_one(struct q_series *s, uint64_t seed, int type, int shape, int variant)
{
    struct rng r = {seed * 1000003u + (uint64_t)type * 101u + (uint64_t)shape * 7u +
                    (uint64_t)variant * 7919u};
    struct recipe rc;
    struct inj in;
    bool missing;

    for (int k = 0; k < 4; k++)
        next_u64(&r);
    pick_recipe(&r, shape, &rc);
    place(&r, &rc, type, &in);
    missing = unif(&r) < 0.3;
    s->t_us = malloc(rc.n * sizeof(*s->t_us));
    s->v = malloc(rc.n * sizeof(*s->v));
    if (!s->t_us || !s->v)
        return -1;
    render(&r, &rc, type, &in, s->v);
    s->n = drop_points(&r, &rc, s->v, s->t_us, &in, missing);
    s->type = type;
    s->shape = shape;
    snprintf(s->name, sizeof(s->name), "%s-%s-%d%s", type_names[type], shape_names[shape], variant,
             missing ? "-gaps" : "");
    s->nwin = in.k;
    for (size_t j = 0; j < in.k; j++) {
        size_t len = (size_t)(0.1 * (double)s->n / (double)in.k);
        s->lo[j] = in.at[j] > len / 2 ? in.at[j] - len / 2 : 0;
        s->hi[j] = s->lo[j] + len - 1 < s->n ? s->lo[j] + len - 1 : s->n - 1;
    }
    return 0;
}

int q_corpus_make(struct q_corpus *c, uint64_t seed)
{
    size_t cap = Q_TYPE_COUNT * S_COUNT * 2;

    c->n = 0;
    c->s = calloc(cap, sizeof(*c->s));
    if (!c->s)
        return -1;
    for (int type = 0; type < Q_TYPE_COUNT; type++) {
        for (int shape = 0; shape < S_COUNT; shape++) {
            int variants = type == Q_SEASONAL ? 2 : 1;
            if (type == Q_SEASONAL && !seasonal_shape(shape))
                continue;
            if (type == Q_DIP && shape == S_COUNTS)
                continue;
            for (int v = 0; v < variants; v++)
                if (make_one(&c->s[c->n++], seed, type, shape, v) != 0)
                    return -1;
        }
    }
    return 0;
}

void q_corpus_free(struct q_corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->s[i].t_us);
        free(c->s[i].v);
    }
    free(c->s);
    c->s = NULL;
    c->n = 0;
}
