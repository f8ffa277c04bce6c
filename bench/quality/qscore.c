/* qscore.c - the NAB-style scorer (rules in qscore.h). */
#include "qscore.h"

#include <math.h>
#include <stdlib.h>

const struct q_profile q_profiles[3] = {
    {"standard", 1.0, 0.11, 1.0},
    {"low_fp", 1.0, 0.22, 1.0},
    {"low_fn", 1.0, 0.11, 2.0},
};

size_t q_probation(size_t n)
{
    size_t p = (size_t)floor(0.15 * (double)n);
    return p < 750 ? p : 750;
}

double q_sigmoid(double y)
{
    if (y > 3.0)
        return -1.0;
    return 2.0 / (1.0 + exp(5.0 * y)) - 1.0;
}

/* The window holding i (or -1), and the last window ending before i. */
static long find_window(const struct q_scored *s, size_t i, long *prev)
{
    *prev = -1;
    for (size_t w = 0; w < s->nwin; w++) {
        if (i >= s->lo[w] && i <= s->hi[w])
            return (long)w;
        if (s->hi[w] < i && (*prev < 0 || s->hi[w] > s->hi[*prev]))
            *prev = (long)w;
    }
    return -1;
}

/* The value of a detection at i: a TP (win >= 0) or an FP (win < 0). */
static double point_value(const struct q_scored *s, const struct q_profile *pr, size_t i, long *win)
{
    long prev;
    *win = find_window(s, i, &prev);
    if (*win >= 0) {
        double len = (double)(s->hi[*win] - s->lo[*win] + 1);
        return pr->a_tp * q_sigmoid(-((double)(s->hi[*win] - i) + 1) / len);
    }
    if (prev < 0)
        return -pr->a_fp;
    double len = (double)(s->hi[prev] - s->lo[prev] + 1);
    return pr->a_fp * q_sigmoid((double)(i - s->hi[prev]) / len);
}

double q_total(const struct q_scored *series, size_t ns, const struct q_profile *pr, double thr,
               double *null, double *perfect)
{
    double total = 0;

    *null = *perfect = 0;
    for (size_t k = 0; k < ns; k++) {
        const struct q_scored *s = &series[k];
        double best[64];
        int hit[64] = {0};
        size_t nw = s->nwin < 64 ? s->nwin : 64;

        for (size_t w = 0; w < nw; w++) {
            *null -= pr->a_fn;
            *perfect += pr->a_tp * q_sigmoid(-1.0);
            best[w] = -pr->a_fn;
        }
        for (size_t i = q_probation(s->n); i < s->n; i++) {
            long w;
            double v;
            if (!(s->score[i] >= thr))
                continue;
            v = point_value(s, pr, i, &w);
            if (w < 0) {
                total += v;
            } else if (!hit[w]) {
                hit[w] = 1; /* the earliest detection only */
                best[w] = v;
            }
        }
        for (size_t w = 0; w < nw; w++)
            total += best[w];
    }
    return total;
}

double q_normalize(double raw, double null, double perfect)
{
    if (perfect == null)
        return 0;
    return 100.0 * (raw - null) / (perfect - null);
}

struct entry {
    double score, value;
    long win; /* global window id, or -1 */
};

static int by_score_desc(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

double q_sweep(const struct q_scored *series, size_t ns, const struct q_profile *pr,
               double *best_thr)
{
    size_t cap = 0, ne = 0, nwin = 0, base = 0;
    struct entry *e;
    double *wbest, null = 0, perfect = 0, total, best, thr;

    for (size_t k = 0; k < ns; k++) {
        cap += series[k].n;
        nwin += series[k].nwin;
    }
    e = malloc((cap ? cap : 1) * sizeof(*e));
    wbest = malloc((nwin ? nwin : 1) * sizeof(*wbest));
    if (!e || !wbest) {
        free(e);
        free(wbest);
        return -1e300;
    }
    for (size_t k = 0; k < ns; k++) {
        const struct q_scored *s = &series[k];
        for (size_t w = 0; w < s->nwin; w++) {
            null -= pr->a_fn;
            perfect += pr->a_tp * q_sigmoid(-1.0);
            wbest[base + w] = -pr->a_fn;
        }
        for (size_t i = q_probation(s->n); i < s->n; i++) {
            long w;
            e[ne].score = s->score[i];
            e[ne].value = point_value(s, pr, i, &w);
            e[ne].win = w < 0 ? -1 : (long)base + w;
            ne++;
        }
        base += s->nwin;
    }
    qsort(e, ne, sizeof(*e), by_score_desc);
    total = null;
    best = null;
    thr = ne ? nextafter(e[0].score, INFINITY) : 1.0;
    /* Lowering the threshold adds detections in descending score order; a
     * window's value is that of its earliest detection, which is its largest
     * (sigma falls along the window), so a max per window suffices. */
    for (size_t i = 0; i < ne;) {
        size_t j = i;
        while (j < ne && e[j].score == e[i].score) {
            if (e[j].win < 0) {
                total += e[j].value;
            } else if (e[j].value > wbest[e[j].win]) {
                total += e[j].value - wbest[e[j].win];
                wbest[e[j].win] = e[j].value;
            }
            j++;
        }
        if (total > best) {
            best = total;
            thr = e[i].score;
        }
        i = j;
    }
    free(e);
    free(wbest);
    *best_thr = thr;
    return q_normalize(best, null, perfect);
}
