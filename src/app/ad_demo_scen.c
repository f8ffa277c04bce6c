/* ad_demo_scen.c - `anomalyd demo --scenarios`: scenarios A and B offline.
 *
 * Each scenario's example config (config/examples/, embedded at build time)
 * replays the simulator's records in-process, with no Kafka and no remote
 * endpoint: the local detectors (the examples' model.detector: auto) score
 * every tumbling point, and what they flag is held against the simulator's
 * ground truth, as tests/it_detect.sh does:
 * - recall: injected anomalies (after 20 windows of warm-up per series; for
 *   B only the upward ones, which a 1-minute max can show) whose tumbling
 *   window is flagged;
 * - precision: flagged windows that hold an injected anomaly.
 * With a remote mode (--remote confirm|always) the examples' in-process
 * Anomaly Detector (endpoint: local) is asked too, through the engine, and
 * the alerts it keeps are what is counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ad_alert.h"
#include "ad_config.h"
#include "ad_demo.h"
#include "ad_demo_scen_config.h" /* demo_yaml_a[], demo_yaml_b[] */
#include "ad_engine.h"
#include "ad_err.h"
#include "ad_pipeline.h"
#include "ad_replay.h"
#include "ad_sim.h"
#include "ad_types.h"

#define MAX_KEYS  64
#define TRUTH_MAX 65536 /* injected anomalies counted (the scenarios hold a few hundred) */
#define KEY_MAX   32

/* A span of a series' time, in seconds: [w, end). */
struct win {
    char key[KEY_MAX];
    int64_t w, end;
};

struct winset {
    struct win *v;
    size_t n, cap;
};

struct scen {
    const char *name, *yaml;
    enum ad_sim_format format;
    uint32_t devices;
    uint64_t count, seed;
    int64_t interval_us, size_s;
    double rate;
    bool spikes_only; /* B: a max aggregate hides dips */
};

struct tally {
    int64_t size_s;
    int64_t slide_s; /* a remote alert stands for its slide's new points */
    bool by_alert;   /* the remote stage: flagged spans come from the alerts */
    struct winset flagged;
    struct win first[MAX_KEYS]; /* each series' first window */
    size_t nfirst;
};

static int winset_add(struct winset *s, const char *key, size_t klen, int64_t w, int64_t end)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        struct win *nv = realloc(s->v, ncap * sizeof(*nv));
        if (!nv)
            return AD_ENOMEM;
        s->v = nv;
        s->cap = ncap;
    }
    if (klen >= KEY_MAX)
        klen = KEY_MAX - 1;
    memcpy(s->v[s->n].key, key, klen);
    s->v[s->n].key[klen] = '\0';
    s->v[s->n].w = w;
    s->v[s->n].end = end;
    s->n++;
    return 0;
}

/* Whether a span of key's in s holds [lo, hi) in part. */
static bool winset_meets(const struct winset *s, const char *key, int64_t lo, int64_t hi)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].w < hi && lo < s->v[i].end && strcmp(s->v[i].key, key) == 0)
            return true;
    return false;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && a < 0);
}

static void note_first(struct tally *t, const char *key, size_t klen, int64_t w)
{
    for (size_t i = 0; i < t->nfirst; i++)
        if (strlen(t->first[i].key) == klen && memcmp(t->first[i].key, key, klen) == 0)
            return;
    if (t->nfirst == MAX_KEYS || klen >= KEY_MAX)
        return;
    memcpy(t->first[t->nfirst].key, key, klen);
    t->first[t->nfirst].key[klen] = '\0';
    t->first[t->nfirst++].w = w;
}

static int64_t first_of(const struct tally *t, const char *key)
{
    for (size_t i = 0; i < t->nfirst; i++)
        if (strcmp(t->first[i].key, key) == 0)
            return t->first[i].w;
    return INT64_MAX;
}

/* Every scored point (the --scores rows): the series' first window, and
 * without the remote stage the local verdict. */
static void on_row(void *ud, const struct ad_score_row *r)
{
    struct tally *t = ud;
    int64_t w = floor_div(r->t_us / 1000000, t->size_s) * t->size_s;

    note_first(t, r->key, r->key_len, w);
    if (r->is_anomaly && !t->by_alert)
        winset_add(&t->flagged, r->key, r->key_len, w, w + t->size_s);
}

/* The alerts that stand after the remote stage: a synchronous engine sink.
 * With the remote stage there is one alert per slide, about the points the
 * slide added: [window_end - slide, window_end) is what it flags. */
static int alert_emit(void *self, struct ad_engine_sink *sink, const struct ad_alert *a,
                      const char *line, size_t len, struct ad_engine_delivery *d)
{
    struct tally *t = self;
    (void)sink;
    (void)line;
    (void)len;
    (void)d;
    int64_t end = floor_div(a->window_end_us - 1, 1000000) + 1;
    return winset_add(&t->flagged, a->key, a->key_len, end - t->slide_s, end);
}

static const struct ad_engine_sink_ops alert_ops = {.name = "demo", .emit = alert_emit};

/* Writes the scenario's records (kcat envelopes: B's key is a header) to fd
 * and its injected anomalies to truth. */
static int write_records(const struct scen *sc, int fd, struct winset *truth, double *deltas)
{
    struct ad_sim_cfg cfg = {.format = sc->format,
                             .seed = sc->seed,
                             .devices = sc->devices,
                             .start_us = 1795168800000000LL, /* 2026-11-20T10:00:00Z */
                             .interval_us = sc->interval_us,
                             .anomaly_rate = sc->rate,
                             .noise = 0.5};
    struct ad_sim *sim = NULL;
    struct ad_sim_record r;
    struct ad_buf rec, env;
    int rc = ad_sim_new(&cfg, &sim);

    ad_buf_init(&rec, 4096);
    ad_buf_init(&env, 16384);
    for (uint64_t i = 0; rc == 0 && i < sc->count; i++) {
        ad_buf_reset(&rec);
        ad_buf_reset(&env);
        rc = ad_sim_next(sim, &rec, &r);
        if (rc)
            break;
        ad_sim_kcat_envelope(&r, sc->format, i, rec.p, rec.len, &env);
        rc = ad_buf_adds(&env, "\n");
        if (rc == 0 && write(fd, env.p, env.len) != (ssize_t)env.len)
            rc = AD_EIO;
        if (rc == 0 && r.anomaly && truth->n < TRUTH_MAX) {
            deltas[truth->n] = r.delta;
            rc = winset_add(truth, r.device, strlen(r.device), r.time_us / 1000000,
                            r.time_us / 1000000 + 1);
        }
    }
    ad_buf_free(&rec);
    ad_buf_free(&env);
    ad_sim_free(sim);
    return rc;
}

/* Whether an earlier counted anomaly of truth shares anomaly i's window (a
 * window is found once, however many anomalies it holds). */
static bool seen_window(const struct winset *truth, const double *deltas, size_t i, int64_t size,
                        bool spikes_only)
{
    int64_t w = floor_div(truth->v[i].w, size);

    for (size_t j = 0; j < i; j++)
        if (floor_div(truth->v[j].w, size) == w && (!spikes_only || deltas[j] > 0) &&
            strcmp(truth->v[j].key, truth->v[i].key) == 0)
            return true;
    return false;
}

/* Recall and precision of t against truth, printed. */
static void report(const struct scen *sc, const struct tally *t, const struct winset *truth,
                   const double *deltas, const char *how)
{
    size_t want = 0, found = 0, hit = 0;

    for (size_t i = 0; i < truth->n; i++) {
        int64_t w = floor_div(truth->v[i].w, t->size_s) * t->size_s;
        int64_t first = first_of(t, truth->v[i].key); /* INT64_MAX: a series never scored */
        bool flagged = winset_meets(&t->flagged, truth->v[i].key, w, w + t->size_s);
        if (seen_window(truth, deltas, i, t->size_s, sc->spikes_only) ||
            (sc->spikes_only && deltas[i] <= 0) || first == INT64_MAX || w < first + 20 * t->size_s)
            continue;
        want++;
        found += flagged;
    }
    /* A flagged span is right when an injected anomaly's window meets it. */
    for (size_t i = 0; i < t->flagged.n; i++) {
        const struct win *f = &t->flagged.v[i];
        hit += winset_meets(truth, f->key, floor_div(f->w, t->size_s) * t->size_s,
                            floor_div(f->end - 1, t->size_s) * t->size_s + t->size_s);
    }
    printf("%s (%s): recall %.3f (%zu of %zu windows with%s anomalies), precision %.3f (%zu "
           "flagged windows), %zu anomalies injected\n",
           sc->name, how, want ? (double)found / (double)want : 0.0, found, want,
           sc->spikes_only ? " upward" : "",
           t->flagged.n ? (double)hit / (double)t->flagged.n : 0.0, t->flagged.n, truth->n);
}

/* Loads the scenario's config with the remote mode mode (NULL: the
 * example's own). */
static int load(const struct scen *sc, const char *remote, struct ad_config *cfg, char *err,
                size_t errlen)
{
    char set[128];
    int rc = ad_config_init(cfg);

    rc = rc ? rc : ad_config_load_buffer(cfg, sc->name, sc->yaml, strlen(sc->yaml), err, errlen);
    snprintf(set, sizeof(set), "remote.anomaly_detector.mode=%s", remote ? remote : "");
    if (remote)
        rc = rc ? rc : ad_config_set(cfg, set, err, errlen);
    rc = rc ? rc : ad_config_set(cfg, "sinks.alert_log.path=", err, errlen);
    return rc ? rc : ad_config_validate(cfg, err, errlen);
}

/* Runs one scenario with remote mode mode (NULL: the example's); returns 0
 * or the exit status. */
static int run_one(const struct scen *sc, const char *mode)
{
    static const char *const mode_names[] = {"off", "confirm", "always"};
    bool remote = false;
    char how[128];
    struct ad_config cfg;
    struct ad_engine *e = NULL;
    struct tally t = {.size_s = sc->size_s};
    struct winset truth = {0};
    double *deltas = calloc(TRUTH_MAX, sizeof(double));
    char err[1024] = "out of memory";
    FILE *tmp = tmpfile();
    int rc = deltas && tmp ? load(sc, mode, &cfg, err, sizeof(err)) : AD_ENOMEM;
    struct ad_engine_opts eo = {.out = NULL};

    rc = rc ? rc : ad_engine_new(&cfg, &eo, &e, err, sizeof(err));
    if (rc == 0) {
        remote = cfg.remote.mode != AD_REMOTE_OFF;
        t.slide_s = cfg.windows.sliding_slide_us / 1000000;
        snprintf(how, sizeof(how), "%s%s", remote ? "auto + remote mode " : "auto alone",
                 remote ? mode_names[cfg.remote.mode % 3] : "");
        struct ad_replay_opts ro = {.name = sc->name,
                                    .max_record = (size_t)cfg.max_message_bytes,
                                    .progress_fd = -1,
                                    .kcat_envelope = true,
                                    .pump = ad_engine_has_loop(e) ? ad_engine_pump : NULL,
                                    .pump_ud = e};
        /* Rows give each series' first window (the warm-up); with the remote
         * stage the alerts, not the rows, say what was flagged. */
        t.by_alert = remote;
        rc = ad_pipeline_on_score(ad_engine_pipeline(e), on_row, &t);
        if (rc == 0 && remote)
            rc = ad_engine_add_sink(e, &alert_ops, &t, NULL);
        rc = rc ? rc : write_records(sc, fileno(tmp), &truth, deltas);
        if (rc == 0 && lseek(fileno(tmp), 0, SEEK_SET) != 0)
            rc = AD_EIO;
        rc = rc ? rc : ad_replay_fd(ad_engine_pipeline(e), fileno(tmp), &ro);
        if (rc == 0)
            report(sc, &t, &truth, deltas, how);
        else
            snprintf(err, sizeof(err), "%s", ad_strerror(rc));
    }
    if (rc)
        fprintf(stderr, "anomalyd: demo: %s: %s\n", sc->name, err);
    ad_engine_free(e);
    ad_config_free(&cfg);
    if (tmp)
        fclose(tmp);
    free(deltas);
    free(truth.v);
    free(t.flagged.v);
    return rc ? 1 : 0;
}

int ad_demo_scenarios(const char *remote)
{
    const struct scen scens[] = {
        {"scenario B (config/examples/scenario-b-iot.yaml: 5 devices, 1-minute max)", demo_yaml_b,
         AD_SIM_IOT, 5, 30000, 5, 10000000, 60, 0.01, true},
        {"scenario A (config/examples/scenario-a-tweets.yaml: hourly mean of tweets)", demo_yaml_a,
         AD_SIM_TWEET, 100, 3000, 3, 1200000000, 3600, 0.05, false}, /* simulate's defaults */
    };
    int status = 0;

    printf("demo: scenarios A and B offline: the simulator's records replayed in-process through "
           "each example config (no Kafka, no remote service): first its local detector alone, "
           "then as configured (%s), with the Anomaly Detector algorithm in-process "
           "(endpoint: local); with it there is one alert per slide, which stands for the "
           "points the slide added (10 minutes in B)\n",
           remote ? remote : "the example's remote mode");
    for (size_t i = 0; i < sizeof(scens) / sizeof(scens[0]); i++)
        if (run_one(&scens[i], "off") != 0 || run_one(&scens[i], remote) != 0)
            status = 1;
    return status;
}
