/* quality_run.c - feeds every series of the generated corpus through each
 * detector configuration (via ad_detect.h) and prints NAB-style scores:
 * per detector for the three profiles, and per anomaly type (standard
 * profile, at the detector's corpus-wide best threshold), next to the best
 * Welford configuration of the same run.
 *
 *   quality_run [--seed N]... [--only NAME] [--set PARAM=VALUE]... [--odd-periods] [--uvad]
 *               [--series]
 *
 * Several --seed options pool their corpora (default: seeds 2 and 3; seed 1
 * is the one the defaults were tuned on, see docs/detection.md). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad_detect.h"
#include "ad_types.h"
#include "qgen.h"
#include "qscore.h"

#define MAX_SEEDS 8

struct config {
    const char *name;
    struct ad_detect_params p;
    int64_t tumble_us; /* > 0: score tumbling-window means, as the pipeline's windows do */
};

/* --set NAME=VALUE overrides for the detectors' parameters (tuning). */
static const char *sets[16];
static int nsets;
static bool
    with_uvad; /* --uvad: also the Anomaly Detector algorithm (slow: O(window log window)) */

static int apply_sets(struct ad_detect_params *p)
{
    for (int i = 0; i < nsets; i++) {
        const char *eq = strchr(sets[i], '=');
        char *end;
        double v;
        if (!eq)
            return -1;
        v = strtod(eq + 1, &end);
        if (*end)
            return -1;
#define SET_(name, field)                                                                          \
    if (strncmp(sets[i], name "=", strlen(name) + 1) == 0) {                                       \
        p->field = v;                                                                              \
        continue;                                                                                  \
    }
        SET_("event_score", autod.event_score)
        SET_("sensitivity", autod.sensitivity)
        SET_("change.k", change.k)
        SET_("change.h", change.h)
        SET_("change.var_ratio", change.var_ratio)
        SET_("change.flat_min", change.flat_min)
        SET_("robust.window", robust.window)
        SET_("seasonal.day_bins", seasonal.day_bins)
        SET_("seasonal.weekly", seasonal.weekly)
        SET_("seasonal.data_period", seasonal.data_period)
#undef SET_
        return -1;
    }
    return 0;
}

static int make_configs(struct config *c)
{
    int n = 0;
    const double thr[] = {3, 4, 5};

    for (int i = 0; i < 3; i++) {
        static char names[3][48];
        snprintf(names[i], sizeof(names[i]), "welford(learn=false,t=%g)", thr[i]);
        c[n].name = names[i];
        ad_detect_defaults(&c[n].p, AD_DET_WELFORD);
        c[n].p.welford.threshold = thr[i];
        n++;
    }
    c[n].name = "welford(learn=true)";
    ad_detect_defaults(&c[n].p, AD_DET_WELFORD);
    c[n++].p.welford.learn_anomalies = true;
    for (int learn = 0; learn <= 1; learn++) {
        c[n].name = learn ? "welford(1h mean, learn=true)" : "welford(1h mean, learn=false)";
        ad_detect_defaults(&c[n].p, AD_DET_WELFORD);
        c[n].p.welford.learn_anomalies = learn != 0;
        c[n].p.welford.min_samples = 24;
        c[n++].tumble_us = 3600 * (int64_t)1000000;
    }
    c[n].name = "welford(learn=true)+likelihood";
    ad_detect_defaults(&c[n].p, AD_DET_WELFORD);
    c[n].p.welford.learn_anomalies = true;
    c[n++].p.likelihood = true;
    c[n].name = "robust";
    ad_detect_defaults(&c[n++].p, AD_DET_ROBUST);
    c[n].name = "robust+likelihood";
    ad_detect_defaults(&c[n].p, AD_DET_ROBUST);
    c[n++].p.likelihood = true;
    c[n].name = "seasonal";
    ad_detect_defaults(&c[n++].p, AD_DET_SEASONAL);
    c[n].name = "change";
    ad_detect_defaults(&c[n++].p, AD_DET_CHANGE);
    c[n].name = "auto";
    ad_detect_defaults(&c[n++].p, AD_DET_AUTO);
    if (with_uvad) {
        c[n].name = "uvad";
        ad_detect_defaults(&c[n++].p, AD_DET_UVAD);
    }
    for (int i = 7; i < n; i++)
        if (apply_sets(&c[i].p) != 0)
            return -1;
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Scores the means of tumbling windows of c->tumble_us: a window's score
 * lands on its last point (it closes there), the others score 0. scratch:
 * the detector's (ad_detect_scratch_size()), or NULL when it needs none. */
static void run_tumbling(const struct config *c, void *state, const struct q_series *s,
                         void *scratch, double *out)
{
    struct ad_detect_result r;
    int64_t win = INT64_MIN;
    double sum = 0;
    size_t cnt = 0;

    for (size_t i = 0; i <= s->n; i++) {
        int64_t w = i < s->n ? s->t_us[i] / c->tumble_us : INT64_MAX;
        if (w != win && cnt > 0) {
            ad_detect_step_scratch(state, &c->p, win * c->tumble_us, sum / (double)cnt, scratch,
                                   &r);
            out[i - 1] = r.scored ? r.score : 0;
            sum = 0;
            cnt = 0;
        }
        if (i == s->n)
            break;
        win = w;
        sum += s->v[i];
        cnt++;
        out[i] = 0;
    }
}

/* Scores every point of s with detector c into out (scratch as for
 * run_tumbling()); returns the seconds. */
static double run_series(const struct config *c, void *state, void *scratch,
                         const struct q_series *s, double *out, double *decided)
{
    const struct ad_detect_params *p = &c->p;
    double t0 = now_s();
    struct ad_detect_result r;

    ad_detect_init(state, p);
    if (c->tumble_us > 0) {
        run_tumbling(c, state, s, scratch, out);
        for (size_t i = 0; i < s->n; i++)
            decided[i] = -1; /* not measured */
        return now_s() - t0;
    }
    for (size_t i = 0; i < s->n; i++) {
        ad_detect_step_scratch(state, p, s->t_us[i], s->v[i], scratch, &r);
        out[i] = r.scored ? r.score : 0;
        decided[i] = r.is_anomaly ? 1 : 0;
    }
    return now_s() - t0;
}

struct result {
    double prof[3], thr[3], type_score[Q_TYPE_COUNT], ns_per_point;
    double decided; /* standard profile with the detector's own is_anomaly */
    size_t clean_fp, bytes;
};

static void per_type(const struct q_scored *sc, const struct q_series *all, size_t ns, double thr,
                     struct result *res)
{
    struct q_scored *sub = malloc(ns * sizeof(*sub));

    for (int t = 0; t < Q_TYPE_COUNT; t++) {
        size_t k = 0;
        double null, perfect, raw;
        for (size_t i = 0; i < ns; i++)
            if (all[i].type == t)
                sub[k++] = sc[i];
        raw = q_total(sub, k, &q_profiles[0], thr, &null, &perfect);
        res->type_score[t] = q_normalize(raw, null, perfect);
        if (t == Q_CLEAN) {
            res->clean_fp = 0;
            for (size_t i = 0; i < k; i++)
                for (size_t j = q_probation(sub[i].n); j < sub[i].n; j++)
                    res->clean_fp += sub[i].score[j] >= thr;
        }
    }
    free(sub);
}

static int evaluate(const struct config *c, const struct q_series *all, size_t ns,
                    struct result *res, int verbose)
{
    struct q_scored *sc = calloc(ns, sizeof(*sc));
    double **bufs = calloc(ns, sizeof(*bufs)), **dec = calloc(ns, sizeof(*dec));
    struct q_scored *dsc = calloc(ns, sizeof(*dsc));
    size_t bytes = ad_detect_size(&c->p), points = 0, sb = ad_detect_scratch_size(&c->p);
    void *state = aligned_alloc(8, bytes);
    void *scratch = sb ? malloc(sb) : NULL; /* one for every series, as a job has */
    double secs = 0;
    int rc = -1;

    if (!sc || !bufs || !dec || !dsc || !state || (sb && !scratch))
        goto err;
    for (size_t i = 0; i < ns; i++) {
        double *out = bufs[i] = malloc(all[i].n * sizeof(double));
        double *d = dec[i] = malloc(all[i].n * sizeof(double));
        if (!out || !d)
            goto err;
        secs += run_series(c, state, scratch, &all[i], out, d);
        points += all[i].n;
        sc[i] = (struct q_scored){all[i].n, out, all[i].nwin, all[i].lo, all[i].hi};
        dsc[i] = (struct q_scored){all[i].n, d, all[i].nwin, all[i].lo, all[i].hi};
    }
    for (int k = 0; k < 3; k++)
        res->prof[k] = q_sweep(sc, ns, &q_profiles[k], &res->thr[k]);
    per_type(sc, all, ns, res->thr[0], res);
    {
        double null, perfect, raw = q_total(dsc, ns, &q_profiles[0], 0.5, &null, &perfect);
        res->decided = ns && dec[0][0] < 0 ? NAN : q_normalize(raw, null, perfect);
    }
    res->bytes = bytes;
    res->ns_per_point = secs * 1e9 / (double)points;
    if (verbose) {
        for (size_t i = 0; i < ns; i++) {
            double null, perfect,
                raw = q_total(&sc[i], 1, &q_profiles[0], res->thr[0], &null, &perfect);
            printf("  %-28s %-36s %8.1f  raw %7.2f\n", c->name, all[i].name,
                   q_normalize(raw, null, perfect), raw);
        }
    }
    rc = 0;
err:
    for (size_t i = 0; i < ns; i++) {
        if (bufs)
            free(bufs[i]);
        if (dec)
            free(dec[i]);
    }
    free(bufs);
    free(dec);
    free(dsc);
    free(sc);
    free(state);
    free(scratch);
    return rc;
}

static void print_row(const char *name, const struct result *r)
{
    printf("%-31s %6.1f %6.1f %6.1f  thr %.3f", name, r->prof[0], r->prof[1], r->prof[2],
           r->thr[0]);
    for (int t = 1; t < Q_TYPE_COUNT; t++)
        printf(" %7.1f", r->type_score[t]);
    printf(" %5zu %6zu %6.0f %6.1f\n", r->clean_fp, r->bytes, r->ns_per_point, r->decided);
}

int main(int argc, char **argv)
{
    uint64_t seeds[MAX_SEEDS];
    int nseeds = 0, verbose = 0, nc, best_w = -1;
    const char *only = NULL;
    struct config cfg[20];
    struct result res[20];
    struct q_corpus corp[MAX_SEEDS];
    struct q_series *all;
    size_t ns = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc && nseeds < MAX_SEEDS)
            seeds[nseeds++] = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && nsets < 16)
            sets[nsets++] = argv[++i];
        else if (strcmp(argv[i], "--uvad") == 0)
            with_uvad = true;
        else if (strcmp(argv[i], "--odd-periods") == 0)
            q_set_odd_periods(true);
        else if (strcmp(argv[i], "--series") == 0)
            verbose = 1;
        else {
            fprintf(stderr,
                    "usage: %s [--seed N]... [--only NAME] [--set PARAM=VALUE]... [--odd-periods] "
                    "[--uvad] [--series]\n",
                    argv[0]);
            return 2;
        }
    }
    if (nseeds == 0) {
        seeds[nseeds++] = 2;
        seeds[nseeds++] = 3;
    }
    for (int k = 0; k < nseeds; k++) {
        if (q_corpus_make(&corp[k], seeds[k]) != 0) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        ns += corp[k].n;
    }
    all = malloc(ns * sizeof(*all));
    ns = 0;
    for (int k = 0; k < nseeds; k++)
        for (size_t i = 0; i < corp[k].n; i++)
            all[ns++] = corp[k].s[i];
    {
        size_t pts = 0, wins = 0;
        for (size_t i = 0; i < ns; i++)
            pts += all[i].n, wins += all[i].nwin;
        printf("corpus: %zu series, %zu points, %zu windows, seeds", ns, pts, wins);
        for (int k = 0; k < nseeds; k++)
            printf(" %llu", (unsigned long long)seeds[k]);
        printf("\n\n%-31s %6s %6s %6s  %-9s", "detector", "std", "lowFP", "lowFN", "threshold");
        for (int t = 1; t < Q_TYPE_COUNT; t++)
            printf(" %7.7s", q_type_name(t));
        printf(" %5s %6s %6s %6s\n", "cleanFP", "bytes", "ns/pt", "own");
    }
    memset(cfg, 0, sizeof(cfg));
    nc = make_configs(cfg);
    if (nc < 0) {
        fprintf(stderr, "bad --set\n");
        return 2;
    }
    for (int i = 0; i < nc; i++) {
        if (only && !strstr(cfg[i].name, only) && strncmp(cfg[i].name, "welford", 7) != 0)
            continue;
        if (evaluate(&cfg[i], all, ns, &res[i], verbose) != 0) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        print_row(cfg[i].name, &res[i]);
        if (strncmp(cfg[i].name, "welford", 7) == 0 &&
            (best_w < 0 || res[i].prof[0] > res[best_w].prof[0]))
            best_w = i;
        fflush(stdout);
    }
    if (best_w >= 0) {
        printf("\nbest welford: ");
        print_row(cfg[best_w].name, &res[best_w]);
    }
    free(all);
    for (int k = 0; k < nseeds; k++)
        q_corpus_free(&corp[k]);
    return 0;
}
