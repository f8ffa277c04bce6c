/* ad_uvad_stl.c - Seasonal-Trend decomposition by Loess (Cleveland,
 * Cleveland, McRae & Terpenning, J. Official Statistics 6(1), 1990) in the
 * configuration the service uses: a periodic seasonal component, robust
 * fitting (1 inner pass, 15 robustness passes), a degree-1 trend loess over
 * the next odd number >= 1.5 * period / (1 - 1.5 / ns), and the classic
 * low-pass filter (moving averages of period, period and 3, then a loess
 * over the next odd number >= period). Written from the paper's description;
 * loess fits are evaluated every ceil(span / 10) points and interpolated
 * linearly in between, as the reference implementation does.
 *
 * Speed without changing a bit: what a fit computes that does not depend on
 * the data (its tricube weights) is computed once per decomposition, in a
 * plan per smooth, not once per pass; neighbouring fits share a loop, in
 * the lanes of a vector where the compiler has them, each keeping its own
 * operations in its own order. */
#include <math.h>
#include <string.h>

#include "ad_err.h"
#include "ad_uvad_int.h"

#define STL_INNER 1  /* passes per robustness iteration */
#define STL_OUTER 15 /* robustness iterations */

struct loess_tab;
struct loess_plan;

struct loess_cfg {
    size_t span;
    int degree;
    size_t jump;
    const double *rw;              /* robustness weights, or NULL */
    const struct loess_plan *plan; /* its fits' weights (plan_new()) */
};

/* The bandwidth of a local fit at position xs (1-based, may lie outside
 * 1..n) from the points nleft..nright (1-based). */
static double fit_h(size_t n, const struct loess_cfg *c, double xs, size_t nleft, size_t nright)
{
    double h = fmax(xs - (double)nleft, (double)nright - xs);
    if (c->span > n)
        h += (double)((c->span - n) / 2);
    return h;
}

/* The tricube weights of that fit, which do not depend on the data: w[j -
 * *j0] for the points *j0..*j1 it uses (those within 0.999 h of xs: one
 * run, as the distance falls then rises). Returns false when it uses none. */
static bool fit_weights(double xs, size_t nleft, size_t nright, double h, double *w, size_t *j0,
                        size_t *j1)
{
    double h9 = 0.999 * h, h1 = 0.001 * h, inv_h = h > 0.0 ? 1.0 / h : 0.0;
    size_t m = 0;
    *j0 = 1;
    *j1 = 0;
    for (size_t j = nleft; j <= nright; j++) {
        double r = fabs((double)j - xs);
        if (r > h9)
            continue;
        if (m == 0)
            *j0 = j;
        if (r <= h1) {
            w[m++] = 1.0;
        } else {
            double u = r * inv_h, t = 1.0 - u * u * u;
            w[m++] = t * t * t;
        }
        *j1 = j;
    }
    return m > 0;
}

static bool fit_finish(size_t n, const struct loess_cfg *c, double h, double y0, double sw,
                       double swj, double swjj, double swy, double swjy, double *out);

/* The fit from its weights (fit_weights()) times the robustness weights: a
 * weighted mean, or with degree 1 a weighted line, in one pass, with sums
 * in coordinates centred on xs and on the window's first value (that keeps
 * the cancellation in the covariance small). Returns false when every
 * weight is zero. */
static bool fit_sums(const double *y, size_t n, const struct loess_cfg *c, double xs, size_t nleft,
                     double h, const double *w, size_t j0, size_t j1, double *out)
{
    double y0 = y[nleft - 1];
    double sw = 0.0, swj = 0.0, swjj = 0.0, swy = 0.0, swjy = 0.0;
    const double *rw = c->rw;
    if (c->degree == 0) { /* the other three sums would go unread */
        for (size_t j = j0; j <= j1; j++) {
            double wj = rw ? w[j - j0] * rw[j - 1] : w[j - j0];
            sw += wj;
            swy += wj * (y[j - 1] - y0);
        }
        return fit_finish(n, c, h, y0, sw, swj, swjj, swy, swjy, out);
    }
    for (size_t j = j0; j <= j1; j++) {
        double dj = (double)j - xs, wj = rw ? w[j - j0] * rw[j - 1] : w[j - j0];
        double yj = y[j - 1] - y0;
        sw += wj;
        swj += wj * dj;
        swjj += wj * dj * dj;
        swy += wj * yj;
        swjy += wj * dj * yj;
    }
    return fit_finish(n, c, h, y0, sw, swj, swjj, swy, swjy, out);
}

/* The tricube weights of an interior fit. When span < n, every fit at a
 * position i with a full window on both sides (half <= i <= n - half + 1,
 * half = (span + 1) / 2) has the same bandwidth h = half - 1 and the same
 * integer offsets j - i, so its weights are the same: computed once here
 * with fit_weights()' own operations (bit for bit what it computes), w[k]
 * for the k-th point of the window, and the points that it skips left out
 * of [*k0, *k1]. Returns false when no table applies. */
static bool interior_weights(size_t span, size_t n, double *w, size_t *k0, size_t *k1)
{
    if (span >= n || span < 3)
        return false;
    size_t half = (span + 1) / 2;
    double h = (double)(half - 1), xs = (double)(half - 1);
    double h9 = 0.999 * h, h1 = 0.001 * h, inv_h = 1.0 / h;
    *k0 = span;
    *k1 = 0;
    for (size_t k = 0; k < span; k++) {
        double dj = (double)k - xs, r = fabs(dj);
        if (r > h9) {
            w[k] = 0.0;
            continue;
        }
        if (r <= h1) {
            w[k] = 1.0;
        } else {
            double u = r * inv_h, t = 1.0 - u * u * u;
            w[k] = t * t * t;
        }
        if (k < *k0)
            *k0 = k;
        *k1 = k;
    }
    return *k0 <= *k1;
}

/* The tabulated interior weights of one smooth: w[k] for the k-th point of
 * the window (non-zero for k0 <= k <= k1), the offsets dj[k] = k - (half - 1)
 * of the points from the fitted position (whole numbers, exact in double),
 * and, for the fits without robustness weights, wd[k] = w[k] * dj[k] and the
 * three sums over the window that do not depend on the data (sw, swj, swjj,
 * accumulated in fit_sums()' order, so bit for bit what it computes). */
struct loess_tab {
    size_t k0, k1;
    double sw, swj, swjj;
    double *w, *dj, *wd; /* span entries each */
};

static void tab_sums(size_t span, struct loess_tab *t)
{
    double xs = (double)((span + 1) / 2 - 1);
    t->sw = t->swj = t->swjj = 0.0;
    for (size_t k = t->k0; k <= t->k1; k++) {
        double dj = (double)k - xs, wj = t->w[k];
        t->dj[k] = dj;
        t->wd[k] = wj * dj;
        t->sw += wj;
        t->swj += wj * dj;
        t->swjj += wj * dj * dj;
    }
}

/* fit_sums()'s closing step from the five sums. */
static bool fit_finish(size_t n, const struct loess_cfg *c, double h, double y0, double sw,
                       double swj, double swjj, double swy, double swjy, double *out)
{
    if (sw <= 0.0)
        return false;
    double mean_y = swy / sw;
    if (h > 0.0 && c->degree > 0) {
        double m = swj / sw;
        double v = swjj / sw - m * m;
        double cov = swjy / sw - m * mean_y;
        if (v > 0.0 && sqrt(v) > 0.001 * (double)(n - 1)) {
            *out = y0 + mean_y - m * cov / v;
            return true;
        }
    }
    *out = y0 + mean_y;
    return true;
}

/* fit_sums() for an interior position i (1-based) with the table of
 * interior_weights() and tab_sums(): the same sums in the same order (and
 * without robustness weights, the data-free ones taken from the table). */
static bool fit_interior(const double *y, size_t n, const struct loess_cfg *c, size_t i,
                         const struct loess_tab *t, double *out)
{
    size_t half = (c->span + 1) / 2, nleft = i - half + 1;
    double h = (double)(half - 1);
    const double *yw = y + nleft - 1, *rw = c->rw ? c->rw + nleft - 1 : NULL;
    double y0 = yw[0];
    double sw = 0.0, swj = 0.0, swjj = 0.0, swy = 0.0, swjy = 0.0;
    if (rw) {
        for (size_t k = t->k0; k <= t->k1; k++) {
            double dj = t->dj[k], wj = t->w[k] * rw[k];
            double yj = yw[k] - y0;
            sw += wj;
            swj += wj * dj;
            swjj += wj * dj * dj;
            swy += wj * yj;
            swjy += wj * dj * yj;
        }
    } else {
        for (size_t k = t->k0; k <= t->k1; k++) {
            double yj = yw[k] - y0;
            swy += t->w[k] * yj;
            swjy += t->wd[k] * yj;
        }
        sw = t->sw;
        swj = t->swj;
        swjj = t->swjj;
    }
    return fit_finish(n, c, h, y0, sw, swj, swjj, swy, swjy, out);
}

/* fit_interior() without robustness weights at i and at i + jump, in one
 * loop: each fit's two sums in its own order, the four chains interleaved
 * (one fit's alone wait on the adder's latency). Returns their outcomes in
 * ok[0] and ok[1]. */
static void fit_interior_pair(const double *y, size_t n, const struct loess_cfg *c, size_t i,
                              size_t jump, const struct loess_tab *t, double *out0, double *out1,
                              bool ok[2])
{
    size_t half = (c->span + 1) / 2, nleft = i - half + 1;
    double h = (double)(half - 1);
    const double *ya = y + nleft - 1, *yb = ya + jump;
    double ya0 = ya[0], yb0 = yb[0];
    double swya = 0.0, swjya = 0.0, swyb = 0.0, swjyb = 0.0;
    for (size_t k = t->k0; k <= t->k1; k++) {
        double a = ya[k] - ya0, b = yb[k] - yb0;
        swya += t->w[k] * a;
        swjya += t->wd[k] * a;
        swyb += t->w[k] * b;
        swjyb += t->wd[k] * b;
    }
    ok[0] = fit_finish(n, c, h, ya0, t->sw, t->swj, t->swjj, swya, swjya, out0);
    ok[1] = fit_finish(n, c, h, yb0, t->sw, t->swj, t->swjj, swyb, swjyb, out1);
}

#if defined(__GNUC__) || defined(__clang__)
#define STL_LANES 1
typedef double lanes2 __attribute__((vector_size(2 * sizeof(double))));

/* fit_interior() with robustness weights at i and at i + jump, the two fits
 * in the two lanes of a vector: each lane does its own fit's operations in
 * its order (IEEE operations per lane, so bit-identical), and the pair
 * costs about what one fit did (the fits with robustness weights are most
 * of a decomposition's time). Returns their outcomes in ok[0] and ok[1]. */
static void fit_interior_rw_pair(const double *y, size_t n, const struct loess_cfg *c, size_t i,
                                 size_t jump, const struct loess_tab *t, double *out0, double *out1,
                                 bool ok[2])
{
    size_t half = (c->span + 1) / 2, nleft = i - half + 1;
    double h = (double)(half - 1);
    const double *ya = y + nleft - 1, *yb = ya + jump;
    const double *ra = c->rw + nleft - 1, *rb = ra + jump;
    const lanes2 y0 = {ya[0], yb[0]};
    lanes2 sw = {0.0, 0.0}, swj = sw, swjj = sw, swy = sw, swjy = sw;
    for (size_t k = t->k0; k <= t->k1; k++) {
        const lanes2 dj = {t->dj[k], t->dj[k]}, w = {t->w[k], t->w[k]};
        const lanes2 r = {ra[k], rb[k]}, yk = {ya[k], yb[k]};
        lanes2 wj = w * r, yj = yk - y0;
        sw += wj;
        swj += wj * dj;
        swjj += wj * dj * dj;
        swy += wj * yj;
        swjy += wj * dj * yj;
    }
    ok[0] = fit_finish(n, c, h, y0[0], sw[0], swj[0], swjj[0], swy[0], swjy[0], out0);
    ok[1] = fit_finish(n, c, h, y0[1], sw[1], swj[1], swjj[1], swy[1], swjy[1], out1);
}

/* fit_interior() without robustness weights at i, i + jump, i + 2 jump and
 * i + 3 jump: fit_interior_pair() in vector lanes, two vectors of two fits,
 * each lane its own fit's operations in its order. ok: the four outcomes. */
static void fit_interior_quad(const double *y, size_t n, const struct loess_cfg *c, size_t i,
                              size_t jump, const struct loess_tab *t, double *ys, bool ok[4])
{
    size_t half = (c->span + 1) / 2, nleft = i - half + 1;
    double h = (double)(half - 1);
    const double *ya = y + nleft - 1, *yb = ya + jump, *yc = yb + jump, *yd = yc + jump;
    const lanes2 y0a = {ya[0], yb[0]}, y0b = {yc[0], yd[0]};
    lanes2 swya = {0.0, 0.0}, swjya = swya, swyb = swya, swjyb = swya;
    for (size_t k = t->k0; k <= t->k1; k++) {
        const lanes2 w = {t->w[k], t->w[k]}, wd = {t->wd[k], t->wd[k]};
        const lanes2 a = (lanes2){ya[k], yb[k]} - y0a, b = (lanes2){yc[k], yd[k]} - y0b;
        swya += w * a;
        swjya += wd * a;
        swyb += w * b;
        swjyb += wd * b;
    }
    for (size_t q = 0; q < 4; q++) {
        const lanes2 *y0 = q < 2 ? &y0a : &y0b, *swy = q < 2 ? &swya : &swyb;
        const lanes2 *swjy = q < 2 ? &swjya : &swjyb;
        ok[q] = fit_finish(n, c, h, (*y0)[q % 2], t->sw, t->swj, t->swjj, (*swy)[q % 2],
                           (*swjy)[q % 2], &ys[i - 1 + q * jump]);
    }
}
#else
#define STL_LANES 0
#endif

#if STL_LANES && defined(__x86_64__)
#define STL_AVX 1
typedef double lanes4 __attribute__((vector_size(4 * sizeof(double))));

/* fit_interior_rw_pair() for the four fits at i + q jump (q < 4), in the
 * four lanes of an AVX vector: twice the fits per instruction where the
 * CPU has AVX (the caller checks, have_avx()); each lane still does its
 * own fit's IEEE operations in its order. ok: the four outcomes. */
__attribute__((target("avx"))) static void
fit_interior_rw_quad(const double *y, size_t n, const struct loess_cfg *c, size_t i, size_t jump,
                     const struct loess_tab *t, double *ys, bool ok[4])
{
    size_t half = (c->span + 1) / 2, nleft = i - half + 1, j2 = 2 * jump, j3 = 3 * jump;
    double h = (double)(half - 1);
    const double *ya = y + nleft - 1, *ra = c->rw + nleft - 1;
    const lanes4 y0 = {ya[0], ya[jump], ya[j2], ya[j3]};
    lanes4 sw = {0.0, 0.0, 0.0, 0.0}, swj = sw, swjj = sw, swy = sw, swjy = sw;
    for (size_t k = t->k0; k <= t->k1; k++) {
        const double dk = t->dj[k], wk = t->w[k];
        const lanes4 dj = {dk, dk, dk, dk}, w = {wk, wk, wk, wk};
        const lanes4 r = {ra[k], ra[k + jump], ra[k + j2], ra[k + j3]};
        const lanes4 yk = {ya[k], ya[k + jump], ya[k + j2], ya[k + j3]};
        lanes4 wj = w * r, yj = yk - y0;
        sw += wj;
        swj += wj * dj;
        swjj += wj * dj * dj;
        swy += wj * yj;
        swjy += wj * dj * yj;
    }
    for (size_t q = 0; q < 4; q++)
        ok[q] = fit_finish(n, c, h, y0[q], sw[q], swj[q], swjj[q], swy[q], swjy[q],
                           &ys[i - 1 + q * jump]);
}

/* fit_interior_quad() for the eight fits at i + q jump (q < 8): two AVX
 * vectors of four, each lane its own fit's operations in its order. */
__attribute__((target("avx"))) static void fit_interior_oct(const double *y, size_t n,
                                                            const struct loess_cfg *c, size_t i,
                                                            size_t jump, const struct loess_tab *t,
                                                            double *ys, bool ok[8])
{
    size_t half = (c->span + 1) / 2, nleft = i - half + 1;
    double h = (double)(half - 1);
    const double *ya = y + nleft - 1, *yb = ya + 4 * jump;
    const size_t j1 = jump, j2 = 2 * jump, j3 = 3 * jump;
    const lanes4 y0a = {ya[0], ya[j1], ya[j2], ya[j3]}, y0b = {yb[0], yb[j1], yb[j2], yb[j3]};
    lanes4 swya = {0.0, 0.0, 0.0, 0.0}, swjya = swya, swyb = swya, swjyb = swya;
    for (size_t k = t->k0; k <= t->k1; k++) {
        const double wk = t->w[k], dk = t->wd[k];
        const lanes4 w = {wk, wk, wk, wk}, wd = {dk, dk, dk, dk};
        const lanes4 a = (lanes4){ya[k], ya[k + j1], ya[k + j2], ya[k + j3]} - y0a;
        const lanes4 b = (lanes4){yb[k], yb[k + j1], yb[k + j2], yb[k + j3]} - y0b;
        swya += w * a;
        swjya += wd * a;
        swyb += w * b;
        swjyb += wd * b;
    }
    for (size_t q = 0; q < 8; q++) {
        const lanes4 *y0 = q < 4 ? &y0a : &y0b, *swy = q < 4 ? &swya : &swyb;
        const lanes4 *swjy = q < 4 ? &swjya : &swjyb;
        ok[q] = fit_finish(n, c, h, (*y0)[q % 4], t->sw, t->swj, t->swjj, (*swy)[q % 4],
                           (*swjy)[q % 4], &ys[i - 1 + q * jump]);
    }
}

/* Does this CPU (and its OS) run AVX? A read of what the compiler's
 * runtime found at start-up. */
static bool have_avx(void)
{
    return __builtin_cpu_supports("avx");
}
#else
#define STL_AVX 0
#endif

/* The window of `span` points around position i (1-based). */
static void window_at(size_t n, size_t span, size_t i, size_t *l, size_t *r)
{
    if (span >= n) {
        *l = 1;
        *r = n;
        return;
    }
    size_t half = (span + 1) / 2;
    if (i < half) {
        *l = 1;
        *r = span;
    } else if (i >= n - half + 1) {
        *l = n - span + 1;
        *r = n;
    } else {
        *l = i - half + 1;
        *r = span + i - half;
    }
}

/* One fit of a smooth that the interior table does not cover, with the
 * part that does not depend on the data done once: position, window, and
 * bandwidth, and its weights w[off ..] for the points j0..j1 it uses (ok is
 * false when it uses none). */
struct planned {
    double xs, h;
    size_t nleft, nright, j0, j1, off;
    bool ok;
};

/* Everything a smooth of n points under one configuration computes the same
 * way on every call (every pass of a decomposition): the interior table
 * (or NULL), then the other fits in smooth()'s order, followed by the extra
 * fits its caller asked for (subseries()' end points). */
struct loess_plan {
    size_t n, nfit;
    bool whole; /* subseries: its 4 fits use every point (subseries_whole()) */
    struct loess_tab *tab;
    struct planned *fit;
    double *w;
};

/* Where a fit outside smooth() (an end point) is taken. */
struct extra_fit {
    double xs;
    size_t l, r;
};

/* smooth()'s step between fitted positions (n >= 2). */
static size_t fit_step(size_t n, const struct loess_cfg *c)
{
    size_t jump = c->jump < n - 1 ? c->jump : n - 1;
    return jump < 1 ? 1 : jump;
}

static bool is_interior(size_t i, size_t n, size_t half, const struct loess_tab *t)
{
    return t && i >= half && i + half <= n + 1;
}

/* The positions of smooth()'s fits that the table does not cover, in its
 * order, into pos ((n - 1) / step + 2 entries). Returns their count. */
static size_t outer_positions(size_t n, const struct loess_cfg *c, const struct loess_tab *t,
                              size_t *pos)
{
    size_t jump = fit_step(n, c), half = (c->span + 1) / 2, m = 0, last = 1;
    for (size_t i = 1; i <= n; i += jump) {
        if (!is_interior(i, n, half, t))
            pos[m++] = i;
        last = i;
    }
    if (last != n)
        pos[m++] = n;
    return m;
}

static void plan_free(struct loess_plan *p)
{
    if (!p)
        return;
    if (p->tab)
        ad_free(p->tab->w);
    ad_free(p->tab);
    ad_free(p->fit);
    ad_free(p->w);
    ad_free(p);
}

/* The interior table of a smooth of n points, or NULL when none applies
 * (*rc: 0 or AD_ENOMEM). */
static struct loess_tab *tab_new(size_t n, size_t span, int *rc)
{
    *rc = 0;
    if (span >= n || span < 3)
        return NULL;
    struct loess_tab *t = ad_calloc(1, sizeof(*t));
    double *w = ad_malloc(3 * span * sizeof(double));
    if (!t || !w) {
        ad_free(t);
        ad_free(w);
        *rc = AD_ENOMEM;
        return NULL;
    }
    t->w = w;
    t->dj = w + span;
    t->wd = w + 2 * span;
    if (!interior_weights(span, n, t->w, &t->k0, &t->k1)) {
        ad_free(w);
        ad_free(t);
        return NULL;
    }
    tab_sums(span, t);
    return t;
}

/* The plan of smooth() over n points under c (with an interior table when
 * `tab`), then nx extra fits. Returns NULL when out of memory. */
static struct loess_plan *plan_new(size_t n, const struct loess_cfg *c, bool tab,
                                   const struct extra_fit *ex, size_t nx)
{
    struct loess_plan *p = ad_calloc(1, sizeof(*p));
    size_t cap = (n >= 2 ? (n - 1) / fit_step(n, c) + 2 : 0) + nx;
    size_t *pos = ad_malloc((cap + 1) * sizeof(size_t)), total = 0, m = 0;
    int rc = AD_ENOMEM;
    if (!p || !pos)
        goto err;
    p->n = n;
    if (tab && n >= 2 && (p->tab = tab_new(n, c->span, &rc), rc != 0))
        goto err;
    m = n >= 2 ? outer_positions(n, c, p->tab, pos) : 0;
    p->nfit = m + nx;
    if (!(p->fit = ad_malloc((p->nfit + 1) * sizeof(*p->fit))))
        goto err;
    for (size_t f = 0; f < p->nfit; f++) {
        struct planned *q = &p->fit[f];
        size_t l, r;
        if (f < m)
            window_at(n, c->span, pos[f], &l, &r);
        else
            l = ex[f - m].l, r = ex[f - m].r;
        q->xs = f < m ? (double)pos[f] : ex[f - m].xs;
        q->nleft = l;
        q->nright = r;
        q->off = total;
        total += r - l + 1;
        q->h = fit_h(n, c, q->xs, l, r);
    }
    if (!(p->w = ad_malloc((total + 1) * sizeof(double))))
        goto err;
    for (size_t f = 0; f < p->nfit; f++) {
        struct planned *q = &p->fit[f];
        q->ok = fit_weights(q->xs, q->nleft, q->nright, q->h, p->w + q->off, &q->j0, &q->j1);
    }
    ad_free(pos);
    return p;
err:
    ad_free(pos);
    plan_free(p);
    return NULL;
}

static bool fit_planned(const double *y, size_t n, const struct loess_cfg *c,
                        const struct planned *f, const double *w, double *out)
{
    return f->ok && fit_sums(y, n, c, f->xs, f->nleft, f->h, w + f->off, f->j0, f->j1, out);
}

#if STL_LANES
/* Can two planned degree-1 fits share the lanes of fit_planned_pair()? */
static bool planned_pairs(const struct loess_cfg *c, const struct planned *a)
{
    const struct planned *b = a + 1;
    return c->degree == 1 && a->ok && b->ok && a->nleft == b->nleft && a->j0 == b->j0 &&
           a->j1 == b->j1;
}

/* fit_planned() of fa and fa + 1 (planned_pairs()) in the two lanes of a
 * vector, as fit_interior_rw_pair() does: each lane fit_sums()' operations
 * for its fit in its order. */
static void fit_planned_pair(const double *y, size_t n, const struct loess_cfg *c,
                             const struct planned *fa, const double *w, double *out0, double *out1,
                             bool ok[2])
{
    const struct planned *fb = fa + 1;
    const double *wa = w + fa->off, *wb = w + fb->off, *rw = c->rw, y0 = y[fa->nleft - 1];
    const lanes2 xs = {fa->xs, fb->xs};
    lanes2 sw = {0.0, 0.0}, swj = sw, swjj = sw, swy = sw, swjy = sw;
    for (size_t j = fa->j0; j <= fa->j1; j++) {
        const lanes2 jj = {(double)j, (double)j}, dj = jj - xs;
        const lanes2 wv = {wa[j - fa->j0], wb[j - fa->j0]};
        const lanes2 r = {rw ? rw[j - 1] : 1.0, rw ? rw[j - 1] : 1.0};
        const double d = y[j - 1] - y0;
        const lanes2 yj = {d, d};
        lanes2 wj = rw ? wv * r : wv;
        sw += wj;
        swj += wj * dj;
        swjj += wj * dj * dj;
        swy += wj * yj;
        swjy += wj * dj * yj;
    }
    ok[0] = fit_finish(n, c, fa->h, y0, sw[0], swj[0], swjj[0], swy[0], swjy[0], out0);
    ok[1] = fit_finish(n, c, fb->h, y0, sw[1], swj[1], swjj[1], swy[1], swjy[1], out1);
}
#endif

/* The fit at position i of smooth() and, when they pair (both interior, or
 * both planned over the same points), the one at i + jump in the same
 * loop, or the next three or seven (interior; eight and four with
 * robustness weights need AVX); *f is the next planned fit. Returns the
 * positions filled (1, 2, 4 or 8). */
static size_t fit_next(const double *y, size_t n, const struct loess_cfg *c, size_t i, size_t jump,
                       size_t *f, double *ys)
{
    const struct loess_plan *p = c->plan;
    size_t half = (c->span + 1) / 2, i2 = i + jump;
    bool in = is_interior(i, n, half, p->tab), ok[8];
    bool two = i2 <= n && in == is_interior(i2, n, half, p->tab);
#if STL_LANES
    size_t i4 = i + 3 * jump;
    bool four = two && in && i4 <= n && is_interior(i4, n, half, p->tab);
#if STL_AVX
    size_t i8 = i + 7 * jump;
    if (four && !c->rw && i8 <= n && is_interior(i8, n, half, p->tab) && have_avx()) {
        fit_interior_oct(y, n, c, i, jump, p->tab, ys, ok);
        for (size_t q = 0; q < 8; q++)
            if (!ok[q])
                ys[i - 1 + q * jump] = y[i - 1 + q * jump];
        return 8;
    }
    if (four && c->rw && have_avx()) {
        fit_interior_rw_quad(y, n, c, i, jump, p->tab, ys, ok);
        for (size_t q = 0; q < 4; q++)
            if (!ok[q])
                ys[i - 1 + q * jump] = y[i - 1 + q * jump];
        return 4;
    }
#endif
    if (four && !c->rw) {
        fit_interior_quad(y, n, c, i, jump, p->tab, ys, ok);
        for (size_t q = 0; q < 4; q++)
            if (!ok[q])
                ys[i - 1 + q * jump] = y[i - 1 + q * jump];
        return 4;
    }
#endif
    if (two && in && !c->rw) {
        fit_interior_pair(y, n, c, i, jump, p->tab, &ys[i - 1], &ys[i2 - 1], ok);
#if STL_LANES
    } else if (two && in) {
        fit_interior_rw_pair(y, n, c, i, jump, p->tab, &ys[i - 1], &ys[i2 - 1], ok);
    } else if (two && *f + 1 < p->nfit && planned_pairs(c, &p->fit[*f])) {
        fit_planned_pair(y, n, c, &p->fit[*f], p->w, &ys[i - 1], &ys[i2 - 1], ok);
        *f += 2;
#endif
    } else {
        if (!(in ? fit_interior(y, n, c, i, p->tab, &ys[i - 1])
                 : fit_planned(y, n, c, &p->fit[(*f)++], p->w, &ys[i - 1])))
            ys[i - 1] = y[i - 1];
        return 1;
    }
    if (!ok[0])
        ys[i - 1] = y[i - 1];
    if (!ok[1])
        ys[i2 - 1] = y[i2 - 1];
    return 2;
}

static void interpolate(double *ys, size_t n, size_t jump);

/* Loess smooth of y into ys (both c->plan->n long), evaluated every c->jump
 * points and interpolated linearly in between. */
static void smooth(const double *y, size_t n, const struct loess_cfg *c, double *ys)
{
    if (n < 2) {
        ys[0] = y[0];
        return;
    }
    const struct loess_plan *p = c->plan;
    size_t jump = fit_step(n, c), last = 1, f = 0;
    for (size_t i = 1; i <= n; i += jump) {
        size_t done = fit_next(y, n, c, i, jump, &f, ys);
        i += (done - 1) * jump;
        last = i;
    }
    if (last != n && !fit_planned(y, n, c, &p->fit[f++], p->w, &ys[n - 1]))
        ys[n - 1] = y[n - 1];
    interpolate(ys, n, jump);
}

/* Fills the points between smooth()'s fits, every jump points from 1 and
 * at n, linearly. */
static void interpolate(double *ys, size_t n, size_t jump)
{
    if (jump == 1)
        return;
    for (size_t i = 1; i < n; i += jump) {
        size_t j = i + jump <= n ? i + jump : n;
        if (j == i)
            break;
        double d = (ys[j - 1] - ys[i - 1]) / (double)(j - i);
        for (size_t k = i + 1; k < j; k++)
            ys[k - 1] = ys[i - 1] + d * (double)(k - i);
    }
}

/* The plan of a k-point subseries: its smooth, then the fits one point
 * before and one after it. */
static struct loess_plan *subseries_plan(size_t k, const struct loess_cfg *s)
{
    struct extra_fit ex[2] = {{0.0, 1, s->span < k ? s->span : k},
                              {(double)(k + 1), k + 1 > s->span ? k + 1 - s->span : 1, k}};
    struct loess_plan *p = plan_new(k, s, false, ex, 2);
    if (!p || k < 2 || p->nfit != 4 || fit_step(k, s) != k - 1)
        return p;
    /* smooth() fits at 1 and k only; is every window all of it? */
    const double at[4] = {1.0, (double)k, 0.0, (double)(k + 1)};
    p->whole = true;
    for (size_t f = 0; f < 4; f++)
        p->whole = p->whole && p->fit[f].ok && p->fit[f].xs == at[f] && p->fit[f].nleft == 1 &&
                   p->fit[f].j0 == 1 && p->fit[f].j1 == k;
    return p;
}

/* The four degree-0 fits of a subseries (p->whole) in one pass over it:
 * the same sums as fit_sums() in the same order, four at a time (one
 * difference from the first value serves all four). out: k + 2 values, as
 * smooth() then the end points leave them. */
static void subseries_whole(const double *sub, const double *srw, size_t k,
                            const struct loess_cfg *cs, const struct loess_plan *p, double *out)
{
    const double *w0 = p->w + p->fit[0].off, *w1 = p->w + p->fit[1].off;
    const double *w2 = p->w + p->fit[2].off, *w3 = p->w + p->fit[3].off;
    double y0 = sub[0], sw[4] = {0.0, 0.0, 0.0, 0.0}, swy[4] = {0.0, 0.0, 0.0, 0.0};
    for (size_t i = 0; i < k; i++) {
        double yj = sub[i] - y0;
        double a0 = srw ? w0[i] * srw[i] : w0[i], a1 = srw ? w1[i] * srw[i] : w1[i];
        double a2 = srw ? w2[i] * srw[i] : w2[i], a3 = srw ? w3[i] * srw[i] : w3[i];
        sw[0] += a0;
        swy[0] += a0 * yj;
        sw[1] += a1;
        swy[1] += a1 * yj;
        sw[2] += a2;
        swy[2] += a2 * yj;
        sw[3] += a3;
        swy[3] += a3 * yj;
    }
    double v[4];
    bool ok[4];
    for (size_t f = 0; f < 4; f++)
        ok[f] = fit_finish(k, cs, p->fit[f].h, y0, sw[f], 0.0, 0.0, swy[f], 0.0, &v[f]);
    out[1] = ok[0] ? v[0] : sub[0];
    out[k] = ok[1] ? v[1] : sub[k - 1];
    interpolate(out + 1, k, k - 1);
    out[0] = ok[2] ? v[2] : out[1];
    out[k + 1] = ok[3] ? v[3] : out[k];
}

/* Cycle-subseries smoothing: each phase's subseries smoothed and extended
 * by one value at each end, into c (n + 2 * np values). plans: those of the
 * longest subseries and of one point less. work: 3 * (n / np + 3)
 * doubles. */
static void subseries(const double *y, size_t n, size_t np, const struct loess_cfg *s,
                      const double *rw, struct loess_plan *const plans[2], double *c, double *work)
{
    size_t cap = n / np + 3;
    double *sub = work, *out = sub + cap, *srw = out + cap;
    for (size_t j = 0; j < np && j < n; j++) {
        size_t k = (n - 1 - j) / np + 1;
        for (size_t i = 0; i < k; i++) {
            sub[i] = y[i * np + j];
            srw[i] = rw ? rw[i * np + j] : 1.0;
        }
        struct loess_cfg cs = *s;
        cs.rw = rw ? srw : NULL;
        cs.plan = plans[k == plans[0]->n ? 0 : 1];
        if (cs.plan->whole) {
            subseries_whole(sub, cs.rw, k, &cs, cs.plan, out);
            for (size_t m = 0; m < k + 2; m++)
                c[m * np + j] = out[m];
            continue;
        }
        smooth(sub, k, &cs, out + 1);
        const struct planned *e = &cs.plan->fit[cs.plan->nfit - 2];
        if (!fit_planned(sub, k, &cs, e, cs.plan->w, &out[0]))
            out[0] = out[1];
        if (!fit_planned(sub, k, &cs, e + 1, cs.plan->w, &out[k + 1]))
            out[k + 1] = out[k];
        for (size_t m = 0; m < k + 2; m++)
            c[m * np + j] = out[m];
    }
}

/* Moving average of `len` points: out has n - len + 1 values. */
static void moving_average(const double *x, size_t n, size_t len, double *out)
{
    double s = 0.0;
    for (size_t i = 0; i < len; i++)
        s += x[i];
    out[0] = s / (double)len;
    for (size_t j = 1; j + len <= n; j++) {
        s += x[j + len - 1] - x[j - 1];
        out[j] = s / (double)len;
    }
}

static size_t next_odd(double x)
{
    size_t v = (size_t)ceil(x);
    return v % 2 ? v : v + 1;
}

/* 6 * median(|r|) based bisquare weights; *cmad: the previous pass's 6 *
 * median (0 at first), updated. tmp: n doubles. */
static void robustness(const double *y, const double *fit, size_t n, double *rw, double *tmp,
                       double *prev)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = fabs(y[i] - fit[i]);
    double cmad = 6.0 * ad_uv_median_near(tmp, n, *prev / 6.0, rw);
    *prev = cmad;
    double c9 = 0.999 * cmad, c1 = 0.001 * cmad;
    for (size_t i = 0; i < n; i++) {
        double r = fabs(y[i] - fit[i]);
        if (r <= c1)
            rw[i] = 1.0;
        else if (r <= c9)
            rw[i] = (1.0 - (r / cmad) * (r / cmad)) * (1.0 - (r / cmad) * (r / cmad));
        else
            rw[i] = 0.0;
    }
}

int ad_uv_stl(const double *y, size_t n, size_t np, double *trend, double *season)
{
    if (np < 2 || n < 2 * np + 1)
        return AD_EINVAL;
    size_t ns = 10 * n + 1;
    size_t nt = next_odd(1.5 * (double)np / (1.0 - 1.5 / (double)ns));
    size_t nl = next_odd((double)np);
    struct loess_cfg cs = {ns, 0, (ns + 9) / 10, NULL, NULL};
    struct loess_cfg ct = {nt, 1, (nt + 9) / 10, NULL, NULL};
    struct loess_cfg cl = {nl, 1, (nl + 9) / 10, NULL, NULL};
    /* the weights of every fit, computed once for the 16 passes */
    size_t kmax = (n - 1) / np + 1, kmin = (n - np) / np + 1;
    struct loess_plan *ps[2] = {subseries_plan(kmax, &cs), subseries_plan(kmin, &cs)};
    struct loess_plan *pt = plan_new(n, &ct, true, NULL, 0), *pl = plan_new(n, &cl, true, NULL, 0);
    ct.plan = pt;
    cl.plan = pl;
    size_t clen = n + 2 * np;
    double *c = ad_malloc(clen * sizeof(double)), *a = ad_malloc(clen * sizeof(double));
    double *b = ad_malloc(clen * sizeof(double)), *d = ad_malloc(n * sizeof(double));
    double *rw = ad_malloc(n * sizeof(double));
    double *work = ad_malloc(3 * (n / np + 3) * sizeof(double));
    int rc = AD_ENOMEM;
    if (!c || !a || !b || !d || !rw || !work || !ps[0] || !ps[1] || !pt || !pl)
        goto err;
    for (size_t i = 0; i < n; i++)
        trend[i] = 0.0;
    double cmad = 0.0;
    for (int pass = 0; pass <= STL_OUTER; pass++) {
        const double *rwp = pass ? rw : NULL;
        for (int inner = 0; inner < STL_INNER; inner++) {
            for (size_t i = 0; i < n; i++)
                d[i] = y[i] - trend[i];
            subseries(d, n, np, &cs, rwp, ps, c, work);
            moving_average(c, clen, np, a);
            moving_average(a, clen - np + 1, np, b);
            moving_average(b, clen - 2 * np + 2, 3, a);
            smooth(a, n, &cl, b);
            for (size_t i = 0; i < n; i++) {
                season[i] = c[np + i] - b[i];
                d[i] = y[i] - season[i];
            }
            ct.rw = rwp;
            smooth(d, n, &ct, trend);
        }
        if (pass == STL_OUTER)
            break;
        for (size_t i = 0; i < n; i++)
            a[i] = trend[i] + season[i];
        robustness(y, a, n, rw, b, &cmad);
    }
    /* periodic: every phase takes its mean seasonal value */
    for (size_t j = 0; j < np; j++) {
        double s = 0.0;
        size_t k = 0;
        for (size_t i = j; i < n; i += np, k++)
            s += season[i];
        for (size_t i = j; i < n; i += np)
            season[i] = s / (double)k;
    }
    rc = 0;
err:
    ad_free(c);
    ad_free(a);
    ad_free(b);
    ad_free(d);
    ad_free(rw);
    ad_free(work);
    plan_free(ps[0]);
    plan_free(ps[1]);
    plan_free(pt);
    plan_free(pl);
    return rc;
}
