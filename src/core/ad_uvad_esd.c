/* ad_uvad_esd.c - the outlier vote the service's seasonal and dynamic
 * threshold models share: a one-tailed generalized ESD test (Rosner 1983) on
 * the sorted series, a modified z-score (median/MAD, Iglewicz-Hoaglin 3.5),
 * and for seasonal data a second ESD on the remainder. Each detector ranks
 * the points it flags from the most extreme; points the first detector
 * flags come before those only a later one flags, and the best max_outliers
 * per tail are kept. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_uvad_int.h"

#define ZSCORE_BAR 3.5

struct ranked {
    double v;
    size_t idx;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The order-preserving bits of a non-NaN double, -0 read as +0 (which
 * cmp_ranked() holds equal to it). */
static uint64_t sort_key(double x)
{
    uint64_t b;
    x = x == 0.0 ? 0.0 : x;
    memcpy(&b, &x, sizeof(b));
    return (b >> 63) ? ~b : b | (UINT64_C(1) << 63);
}

#define SORT_BITS 11
#define SORT_SIZE (1u << SORT_BITS)

/* Sorts s, in index order on entry, as qsort() with cmp_ranked() does (a
 * total order: by value, ties by index, so any correct sort gives the same
 * sequence) by a stable least-significant-digit radix sort on sort_key(),
 * 11 bits a pass, skipping the digits every key shares: no comparisons to
 * mispredict. A NaN (which the comparison does not order) leaves it to
 * qsort(). tmp: n entries. Returns whether s held a NaN. */
static bool sort_ranked(struct ranked *s, size_t n, struct ranked *tmp)
{
    bool nan = false;
    for (size_t i = 0; i < n; i++)
        nan |= isnan(s[i].v);
    if (nan) {
        qsort(s, n, sizeof(*s), cmp_ranked);
        return true;
    }
    struct ranked *src = s, *dst = tmp;
    for (unsigned sh = 0; sh < 64; sh += SORT_BITS) {
        uint32_t c[SORT_SIZE] = {0};
        for (size_t i = 0; i < n; i++)
            c[(sort_key(src[i].v) >> sh) & (SORT_SIZE - 1)]++;
        if (c[(sort_key(src[0].v) >> sh) & (SORT_SIZE - 1)] == n)
            continue; /* every key has this digit */
        uint32_t at = 0;
        for (size_t b = 0; b < SORT_SIZE; b++) {
            uint32_t k = c[b];
            c[b] = at;
            at += k;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(sort_key(src[i].v) >> sh) & (SORT_SIZE - 1)]++] = src[i];
        struct ranked *t = src;
        src = dst;
        dst = t;
    }
    if (src != s)
        memcpy(s, src, n * sizeof(*s));
    return false;
}

/* A tail of the sorted data: element k is the k-th most extreme. */
struct tail {
    const struct ranked *s;
    size_t n;
    bool upper;
};

static double tail_at(const struct tail *t, size_t k)
{
    return t->upper ? t->s[t->n - 1 - k].v : t->s[k].v;
}

static size_t tail_idx(const struct tail *t, size_t k)
{
    return t->upper ? t->s[t->n - 1 - k].idx : t->s[k].idx;
}

/* The majority value when most points are equal (MAD ~ 0) and that value is
 * not at an end of the range; NAN otherwise. mad: the values' MAD
 * (ad_uv_mad()). */
static double majority_value(const struct ranked *s, size_t n, double mad)
{
    if (!ad_uv_isclose(mad, 0.0))
        return NAN;
    double m = s[(n - 1) / 2].v;
    if (ad_uv_isclose(m, s[0].v) || ad_uv_isclose(m, s[n - 1].v))
        return NAN;
    return m;
}

/* Critical values are the costly part of ESD (a t quantile each). The k-th
 * (0-based) value for a series of len points depends only on m = len - k,
 * the points still in the test, so one table indexed by m serves every
 * detector and tail of a vote. v[m] is NAN until computed. */
struct crit_cache {
    double *v; /* n + 1 entries */
};

static double critical(struct crit_cache *c, size_t k, size_t len)
{
    size_t m = len - k;
    if (isnan(c->v[m]))
        c->v[m] = ad_uv_esd_critical((int)k + 1, AD_UV_ALPHA, len);
    return c->v[m];
}

/* Generalized ESD from the extreme end of one tail: the k-th test compares
 * the k-th most extreme point's studentized distance from the mean of the
 * points not yet removed with the critical value; the flagged points are
 * those up to the last test that passed. With a majority value only the
 * part of the tail up to the majority block takes part. Writes the flagged
 * count to *count and their original indices to out. */
static void esd_tail(const struct tail *t, double majority, size_t max_out, struct crit_cache *cc,
                     size_t *out, size_t *count)
{
    size_t len = t->n;
    if (!isnan(majority)) {
        size_t last = 0;
        bool found = false;
        for (size_t k = 0; k < t->n; k++)
            if (fabs(tail_at(t, k) - majority) < AD_UV_EPS) {
                last = k;
                found = true;
            }
        len = found ? last + 1 : t->n;
    }
    double sum = 0.0, sum2 = 0.0;
    for (size_t k = 0; k < len; k++) {
        double x = tail_at(t, k);
        sum += x;
        sum2 += x * x;
    }
    size_t flagged = 0;
    for (size_t k = 0; k < max_out && len - k >= 3; k++) {
        double m = (double)(len - k);
        double mean = sum / m;
        double var = (sum2 - sum * mean) / (m - 1.0);
        double x = tail_at(t, k);
        if (!(var > 0.0))
            break;
        double r = fabs(x - mean) / sqrt(var);
        bool above_floor = r > ad_uv_esd_critical_floor((int)k + 1, AD_UV_ALPHA, len);
        if (above_floor && r > critical(cc, k, len))
            flagged = k + 1;
        sum -= x;
        sum2 -= x * x;
    }
    for (size_t k = 0; k < flagged; k++)
        out[k] = tail_idx(t, k);
    *count = flagged;
}

/* Modified z-score from the extreme end: flagged while above the bar. */
static void zscore_tail(const struct tail *t, double med, double mad_raw, size_t max_out,
                        size_t *out, size_t *count)
{
    size_t c = 0;
    if (mad_raw > 0.0)
        for (size_t k = 0; k < max_out && k < t->n; k++) {
            double z = 0.6745 * fabs(tail_at(t, k) - med) / mad_raw;
            if (!(z > ZSCORE_BAR))
                break;
            out[c++] = tail_idx(t, k);
        }
    *count = c;
}

/* Vote bookkeeping for one tail: score[i] is the rank key of point i, or
 * SIZE_MAX when no detector flagged it; order lists points first flagged. */
struct vote {
    size_t *score;
    size_t *order;
    size_t norder;
};

static void vote_add(struct vote *vt, const size_t *flag, size_t count, size_t det, size_t n)
{
    for (size_t k = 0; k < count; k++) {
        size_t i = flag[k];
        if (vt->score[i] != SIZE_MAX) {
            vt->score[i] += k;
        } else {
            vt->score[i] = k + det * n;
            vt->order[vt->norder++] = i;
        }
    }
}

struct keyed {
    size_t score, pos, idx;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Keeps the max_out best-ranked points of the vote (ties: first flagged).
 * keyed: room for vt->norder entries. */
static void vote_apply(const struct vote *vt, size_t max_out, bool upper, struct keyed *keyed,
                       struct ad_uv_raw *raw)
{
    for (size_t k = 0; k < vt->norder; k++) {
        keyed[k].score = vt->score[vt->order[k]];
        keyed[k].pos = k;
        keyed[k].idx = vt->order[k];
    }
    qsort(keyed, vt->norder, sizeof(*keyed), cmp_keyed);
    for (size_t k = 0; k < max_out && k < vt->norder; k++) {
        size_t i = keyed[k].idx;
        raw->anom[i] = 1;
        if (upper)
            raw->pos[i] = 1;
        else
            raw->neg[i] = 1;
    }
}

struct series_ctx {
    struct ranked *s;
    double majority, med, mad_raw;
};

/* The median and the median absolute deviation from it of the sorted
 * series (NaN-free): the values the selections of ad_uv_median() and
 * ad_uv_mad() find, read off the order instead. The deviations of the
 * points below the median, taken downwards, and of those above it, taken
 * upwards, are two ascending runs (a rounded difference is monotone), so
 * their middle ranks come from merging the runs' fronts. Returns false
 * when the median is a zero (whose sign a selection picks either way: left
 * to the selections, as before). */
static bool sorted_median_mad(const struct ranked *s, size_t n, double *med, double *mad_raw)
{
    bool even = n % 2 == 0;
    double m = even ? (s[n / 2 - 1].v + s[n / 2].v) / 2.0 : s[n / 2].v;
    if (m == 0.0)
        return false;
    size_t up = 0; /* first point at or above the median */
    while (up < n && s[up].v < m)
        up++;
    size_t down = up, want = n / 2 + 1; /* ranks 0 .. n / 2 */
    double prev = 0.0, cur = 0.0;
    for (size_t r = 0; r < want; r++) {
        double a = down > 0 ? fabs(s[down - 1].v - m) : INFINITY;
        double b = up < n ? fabs(s[up].v - m) : INFINITY;
        prev = cur;
        if (a <= b) {
            cur = a;
            down--;
        } else {
            cur = b;
            up++;
        }
    }
    *med = m;
    *mad_raw = even ? (prev + cur) / 2.0 : cur;
    return true;
}

static int prepare(const double *x, size_t n, struct series_ctx *c, double *tmp)
{
    c->s = ad_malloc(n * sizeof(*c->s));
    struct ranked *spare = ad_malloc(n * sizeof(*spare));
    if (!c->s || !spare) {
        ad_free(spare);
        return AD_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        c->s[i].v = x[i];
        c->s[i].idx = i;
    }
    bool nan = sort_ranked(c->s, n, spare);
    ad_free(spare);
    if (!nan && sorted_median_mad(c->s, n, &c->med, &c->mad_raw)) {
        /* ad_uv_mad() of the values: this median deviation over its constant */
        c->majority = majority_value(c->s, n, c->mad_raw / 0.6744897501960817);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        tmp[i] = c->s[i].v;
    c->majority = majority_value(c->s, n, ad_uv_mad(tmp, n, tmp + n));
    c->med = ad_uv_median(x, n, tmp);
    for (size_t i = 0; i < n; i++)
        tmp[i] = fabs(x[i] - c->med);
    c->mad_raw = ad_uv_median(tmp, n, tmp + n);
    return 0;
}

int ad_uv_esd_vote(const double *data, const double *remainder, size_t n, double ratio,
                   struct ad_uv_raw *raw, bool *mad_used)
{
    size_t max_out = (size_t)ceil((double)n * ratio);
    if (max_out < 1)
        max_out = 1;
    if (n / 2 >= 1 && max_out > n / 2 - 1)
        max_out = n / 2 - 1;
    struct series_ctx d = {0}, r = {0};
    double *tmp = ad_malloc(2 * n * sizeof(double));
    size_t *flag = ad_malloc(n * sizeof(size_t)), *score = ad_malloc(n * sizeof(size_t));
    size_t *order = ad_malloc(n * sizeof(size_t));
    struct keyed *keyed = ad_malloc(n * sizeof(*keyed));
    struct crit_cache cc = {ad_malloc((n + 1) * sizeof(double))};
    int rc = AD_ENOMEM;
    if (!tmp || !flag || !score || !order || !keyed || !cc.v)
        goto err;
    for (size_t m = 0; m <= n; m++)
        cc.v[m] = NAN;
    if ((rc = prepare(data, n, &d, tmp)) != 0)
        goto err;
    if (remainder && (rc = prepare(remainder, n, &r, tmp)) != 0)
        goto err;
    *mad_used = !isnan(d.majority) || (remainder && !isnan(r.majority));
    for (int up = 1; up >= 0 && max_out > 0; up--) {
        struct vote vt = {score, order, 0};
        for (size_t i = 0; i < n; i++)
            score[i] = SIZE_MAX;
        struct tail td = {d.s, n, up == 1};
        size_t c;
        esd_tail(&td, d.majority, max_out, &cc, flag, &c);
        vote_add(&vt, flag, c, 0, n);
        zscore_tail(&td, d.med, d.mad_raw, max_out, flag, &c);
        vote_add(&vt, flag, c, 1, n);
        if (remainder) {
            struct tail tr = {r.s, n, up == 1};
            esd_tail(&tr, r.majority, max_out, &cc, flag, &c);
            vote_add(&vt, flag, c, 2, n);
        }
        vote_apply(&vt, max_out, up == 1, keyed, raw);
    }
    rc = 0;
err:
    ad_free(d.s);
    ad_free(r.s);
    ad_free(tmp);
    ad_free(flag);
    ad_free(score);
    ad_free(order);
    ad_free(keyed);
    ad_free(cc.v);
    return rc;
}
