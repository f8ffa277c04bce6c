/* ad_pipeline.c - decode -> window -> score -> alert, wired once. */
#include "ad_pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_azure.h"
#include "ad_buf.h"
#include "ad_checkpoint.h"
#include "ad_ckpt_delta.h"
#include "ad_detector.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_htab.h"
#include "ad_model.h"
#include "ad_out.h"
#include "ad_pdet.h"
#include "ad_score.h"

#define ALERT_LINE_MAX (64 * 1024)
#define POINTS_MAX     8640

/* A remote job with what the pipeline needs to emit its alert later. */
struct job {
    struct ad_remote_job pub;
    struct job *prev_same, *next_same; /* pending jobs of the same series, in window order */
    struct job *prev_all, *next_all;
    uint64_t hash; /* of its series, in the "last job" table */
    bool done;
    struct ad_alert alert; /* key, metric and topic point into data */
    bool has_verdict;      /* the remote gave one: verdict */
    struct ad_azure_verdict verdict;
    char *json;
    size_t json_len;
    char data[]; /* key, topic */
};

struct ad_pipeline {
    struct ad_decoder *dec;
    struct ad_window *win;
    struct ad_score_cfg score;
    size_t n_metrics;
    struct ad_decoded rec; /* scratch: one decoded record */
    struct ad_buf line;    /* scratch: one alert line */
    ad_pipeline_alert_cb alert_cb;
    void *alert_ud;
    struct {
        ad_pipeline_score_cb cb;
        ad_pipeline_score_want want; /* NULL: every row */
        void *ud;
    } scorers[AD_PIPELINE_MAX_SCORERS]; /* ad_pipeline_on_score(), in order */
    size_t nscorers;
    struct ad_pdet *det; /* NULL: the Welford path */
    uint8_t *denc;       /* scratch: one series' detector encoding (det only) */
    void *darea;         /* scratch: one series' detector area, being restored */
    ad_pipeline_reject_cb reject_cb;
    void *reject_ud;
    ad_pipeline_remote_cb remote_cb;
    void *remote_ud;
    int remote_mode;
    bool sliding;
    int64_t size_us;  /* the tumbling size */
    struct job *jobs; /* pending, for ad_pipeline_free */
    size_t njobs;
    struct ad_htab last_job;  /* per series: its newest pending job */
    struct ad_tpoint *points; /* scratch: a window's series */
    struct ad_pipeline_store store;
    uint64_t fingerprint;
    char id_cluster[AD_CKPT_ID_MAX + 1], id_group[AD_CKPT_ID_MAX + 1]; /* whose state */
    struct ad_buf sbuf;          /* scratch: a one-series checkpoint */
    struct ad_ring_point *sring; /* scratch: its ring, while it is restored */
    size_t sring_cap;
    char skey[AD_KEY_MAX + 1];
    struct ad_pipeline_stats st;
};

static uint64_t job_hash(const char *key, size_t len, const char *metric)
{
    return ad_fnv1a64(ad_fnv1a64(AD_FNV64_BASIS, key, len), metric, strlen(metric));
}

static bool same_series(const void *va, const void *vb)
{
    const struct job *a = va, *b = vb;
    return a->hash == b->hash && a->alert.key_len == b->alert.key_len &&
           memcmp(a->alert.key, b->alert.key, a->alert.key_len) == 0 &&
           strcmp(a->alert.metric, b->alert.metric) == 0;
}

static void emit_alert(struct ad_pipeline *p, const struct ad_alert *a, const char *extra,
                       size_t extra_len)
{
    p->st.alerts++;
    if (a->direction == AD_DIR_POSITIVE)
        p->st.alerts_positive++;
    else
        p->st.alerts_negative++;
    ad_buf_reset(&p->line);
    if (ad_alert_format_ext(a, extra, extra_len, &p->line) != 0)
        p->st.alert_errors++;
    else if (p->alert_cb)
        p->alert_cb(p->alert_ud, a, p->line.p, p->line.len);
}

static void job_free(struct ad_pipeline *p, struct job *j)
{
    if (j->prev_all)
        j->prev_all->next_all = j->next_all;
    else
        p->jobs = j->next_all;
    if (j->next_all)
        j->next_all->prev_all = j->prev_all;
    p->njobs--;
    ad_free((void *)(uintptr_t)j->pub.points);
    ad_free(j->json);
    ad_free(j);
}

/* The table keeps, per series, the newest pending job; drop j if it is it. */
static void last_job_forget(struct ad_pipeline *p, struct job *j)
{
    (void)ad_htab_del(&p->last_job, j->hash, j);
}

/* Decides a done job by the mode (ad_detector_decide) and emits its alert,
 * if any. */
static void job_emit(struct ad_pipeline *p, struct job *j)
{
    struct ad_alert a = j->alert;
    const struct ad_azure_verdict *v = j->has_verdict ? &j->verdict : NULL;
    bool local = j->pub.local_anomaly;
    bool flag = ad_detector_decide(p->remote_mode, local, v);

    if (!v)
        p->st.remote_fallback++;
    else if (v->is_anomaly)
        p->st.remote_flagged++;
    if (v && local && !flag)
        p->st.remote_vetoed++;
    if (!flag)
        return;
    if (!local) { /* only the remote flags it: v is not NULL */
        a.detector = AD_DETECTOR_REMOTE;
        a.direction = ad_detector_remote_direction(v);
        ad_alert_explain_welford(&a);
    }
    a.remote = v;
    emit_alert(p, &a, j->json, j->json_len);
}

/* Emits j and the done jobs queued behind it in its series. */
static void job_chain_emit(struct ad_pipeline *p, struct job *j)
{
    while (j && j->done && !j->prev_same) {
        struct job *next = j->next_same;
        job_emit(p, j);
        if (next)
            next->prev_same = NULL;
        else
            last_job_forget(p, j);
        job_free(p, j);
        j = next;
    }
}

void ad_pipeline_on_remote(struct ad_pipeline *p, ad_pipeline_remote_cb cb, void *ud)
{
    p->remote_cb = cb;
    p->remote_ud = ud;
}

size_t ad_pipeline_remote_pending(const struct ad_pipeline *p)
{
    return p->njobs;
}

void ad_pipeline_remote_done(struct ad_pipeline *p, struct ad_remote_job *pub,
                             const struct ad_remote_outcome *o)
{
    struct job *j = (struct job *)pub;
    j->done = true;
    j->has_verdict = o->verdict != NULL;
    if (o->verdict)
        j->verdict = *o->verdict;
    if (o->json_len && (j->json = ad_malloc(o->json_len)) != NULL) {
        memcpy(j->json, o->json, o->json_len);
        j->json_len = o->json_len;
    } else if (o->json_len) {
        p->st.nomem++; /* the alert goes out without its "remote" member */
    }
    job_chain_emit(p, j);
}

/* Out of memory for a job: the window is decided locally, now. */
static void job_nomem(struct ad_pipeline *p, const struct ad_alert *a, bool local)
{
    p->st.nomem++;
    if (local)
        emit_alert(p, a, NULL, 0);
}

/* Makes a job of a sliding window and hands it to the remote stage. */
static void job_submit(struct ad_pipeline *p, const struct ad_window_event *ev,
                       const struct ad_alert *a, bool local)
{
    size_t tl = strlen(a->topic) + 1;
    struct job *j = ad_calloc(1, sizeof(*j) + a->key_len + 1 + tl);
    size_t n = ad_window_event_points(ev, p->points, POINTS_MAX);
    struct ad_tpoint *pts = ad_malloc((n ? n : 1) * sizeof(*pts));

    if (!j || !pts) {
        ad_free(j);
        ad_free(pts);
        job_nomem(p, a, local);
        return;
    }
    if (n > POINTS_MAX)
        n = POINTS_MAX; /* cannot happen: the config caps a window at 8640 points */
    memcpy(pts, p->points, n * sizeof(*pts));
    memcpy(j->data, a->key, a->key_len);
    j->data[a->key_len] = '\0';
    memcpy(j->data + a->key_len + 1, a->topic, tl);
    j->alert = *a;
    j->alert.key = j->data;
    j->alert.topic = j->data + a->key_len + 1;
    j->hash = job_hash(a->key, a->key_len, a->metric);
    j->pub.key = j->alert.key;
    j->pub.key_len = a->key_len;
    j->pub.metric = a->metric; /* owned by the decoder, lives as long as the pipeline */
    j->pub.points = pts;
    j->pub.n_points = n;
    j->pub.local_anomaly = local;
    j->pub.topic = j->alert.topic;
    j->pub.partition = a->partition;
    j->pub.low_offset = a->low_offset;

    struct job *last = ad_htab_find(&p->last_job, j->hash, same_series, j);
    if (last) {
        last->next_same = j;
        j->prev_same = last;
        (void)ad_htab_replace(&p->last_job, j->hash, last, j);
    } else if (ad_htab_put(&p->last_job, j->hash, j) != 0) {
        ad_free(j);
        ad_free(pts);
        job_nomem(p, a, local);
        return;
    }
    j->next_all = p->jobs;
    if (p->jobs)
        p->jobs->prev_all = j;
    p->jobs = j;
    p->njobs++;
    p->st.remote_jobs++;
    p->remote_cb(p->remote_ud, &j->pub); /* may complete it at once */
}

/* Which subscribers want the row of (key, metric): bit i for subscriber i.
 * Asked once, before the row is built (the Welford row's score costs an
 * erfc; the dashboard's want is a hash lookup). */
static unsigned score_wanted(const struct ad_pipeline *p, const char *key, size_t key_len,
                             const char *metric, bool is_anomaly)
{
    unsigned mask = 0;
    for (size_t i = 0; i < p->nscorers; i++)
        if (!p->scorers[i].want ||
            p->scorers[i].want(p->scorers[i].ud, key, key_len, metric, is_anomaly))
            mask |= 1u << i;
    return mask;
}

/* Hands a scored point to the subscribers of mask. */
static void score_out(struct ad_pipeline *p, const struct ad_score_row *r, unsigned mask)
{
    for (size_t i = 0; i < p->nscorers; i++)
        if (mask & (1u << i))
            p->scorers[i].cb(p->scorers[i].ud, r);
}

/* The --scores row of a Welford verdict: the band is mean +- threshold x
 * stddev, the score the tail map of |z|. */
static void welford_row(struct ad_pipeline *p, const struct ad_window_event *ev,
                        const struct ad_verdict *v)
{
    size_t key_len;
    const char *key = ad_series_key(ev->series, &key_len);
    const char *metric = ad_decoder_metric_name(p->dec, ad_series_metric(ev->series));
    unsigned mask = score_wanted(p, key, key_len, metric, v->anomalous);
    if (!mask)
        return;
    struct ad_score_row r = {
        .key = key,
        .key_len = key_len,
        .metric = metric,
        .t_us = ev->start_us,
        .value = ev->value,
        .scored = v->scored,
        .expected = v->expected,
        .lower = v->expected - p->score.threshold * v->stddev,
        .upper = v->expected + p->score.threshold * v->stddev,
        .score = v->scored ? ad_detect_tail_score(v->zscore) : 0.0,
        .is_anomaly = v->anomalous,
        .kind = !v->anomalous                     ? AD_KIND_NONE
                : v->direction == AD_DIR_POSITIVE ? AD_KIND_SPIKE
                                                  : AD_KIND_DIP,
    };
    score_out(p, &r, mask);
}

/* The alert of a local detector's point (t_us, x) with result res. */
static void detect_alert(struct ad_pipeline *p, const struct ad_window_event *ev, double x,
                         const struct ad_detect_result *res, struct ad_alert *a)
{
    *a = (struct ad_alert){
        .metric = ad_decoder_metric_name(p->dec, ad_series_metric(ev->series)),
        .window_start_us = ev->start_us,
        .window_end_us = ev->end_us,
        .value = x,
        .expected = res->expected,
        .direction = x >= res->expected ? AD_DIR_POSITIVE : AD_DIR_NEGATIVE,
        .detector = ad_pdet_kind(p->det),
        .explained = true,
        .score = res->score,
        .lower = res->lower,
        .upper = res->upper,
        .kind = res->kind,
        .topic = ad_part_topic(ev->part),
        .partition = ad_part_partition(ev->part),
        .offset = ev->offset,
        .low_offset = ev->low_offset,
    };
    a->key = ad_series_key(ev->series, &a->key_len);
}

/* The points an event brings to a local detector: the point or window, or,
 * for a slide, the sliding window's points (those already stepped are
 * skipped by ad_pdet_point()). */
static size_t event_points(struct ad_pipeline *p, const struct ad_window_event *ev)
{
    if (!(p->sliding && ev->start_us != ev->end_us)) {
        p->points[0] = (struct ad_tpoint){.t_us = ev->start_us, .v = ev->value};
        return 1;
    }
    size_t n = ad_window_event_points(ev, p->points, POINTS_MAX);
    return n > POINTS_MAX ? POINTS_MAX : n;
}

/* The score row of point i of p->points. */
static void detect_row(struct ad_pipeline *p, const struct ad_window_event *ev, size_t i,
                       const struct ad_detect_result *r)
{
    struct ad_score_row row = {
        .metric = ad_decoder_metric_name(p->dec, ad_series_metric(ev->series)),
        .t_us = p->points[i].t_us,
        .value = p->points[i].v,
        .scored = r->scored,
        .expected = r->expected,
        .lower = r->lower,
        .upper = r->upper,
        .score = r->score,
        .is_anomaly = r->is_anomaly,
        .kind = r->kind,
    };
    row.key = ad_series_key(ev->series, &row.key_len);
    unsigned mask = score_wanted(p, row.key, row.key_len, row.metric, row.is_anomaly);
    if (mask)
        score_out(p, &row, mask);
}

/* The scoring stage with a local detector (ad_detect.h): each new point is
 * scored and learnt by the series' detector, then the rules. Each flagged
 * point is an alert of its own tumbling window (or point); when the remote
 * detector is asked about a slide, the slide is one job whose alert is its
 * most anomalous point. The window's Welford model is not used (the answer
 * is "not learnt"). */
static bool detect_event(struct ad_pipeline *p, const struct ad_window_event *ev)
{
    struct ad_detect_result r, best = {0};
    double best_x = ev->value;
    bool any = false, slide = p->sliding && ev->start_us != ev->end_us;
    bool remote = p->remote_cb && slide && p->remote_mode != AD_REMOTE_OFF;
    struct ad_alert a;

    if (!ev->det) {
        p->st.nomem++;
        return false;
    }
    size_t n = event_points(p, ev);
    for (size_t i = 0; i < n; i++) {
        if (!ad_pdet_point(p->det, ev->det, p->points[i].t_us, p->points[i].v, &r))
            continue;
        if (!r.scored)
            p->st.unscored++;
        if (p->nscorers)
            detect_row(p, ev, i, &r);
        if (!remote && r.is_anomaly) {
            detect_alert(p, ev, p->points[i].v, &r, &a);
            if (slide) { /* the point's own tumbling window */
                a.window_start_us = p->points[i].t_us;
                a.window_end_us = p->points[i].t_us + p->size_us;
            }
            emit_alert(p, &a, NULL, 0);
            continue;
        }
        if (r.is_anomaly ? !any || r.score > best.score : !any) {
            best = r;
            best_x = p->points[i].v;
            any = r.is_anomaly;
        }
    }
    bool ask = remote && ad_detector_should_ask(p->remote_mode, any);
    if (!any && !ask)
        return false;
    detect_alert(p, ev, best_x, &best, &a);
    if (ask)
        job_submit(p, ev, &a, any);
    else
        emit_alert(p, &a, NULL, 0);
    return false;
}

/* The scoring stage: the rule of interface.md, then the alert (now, or once
 * the remote detector has answered). */
static bool on_window_event(void *ud, const struct ad_window_event *ev)
{
    struct ad_pipeline *p = ud;
    struct ad_verdict v;

    if (p->det)
        return detect_event(p, ev);
    ad_score_eval(&p->score, ev->model, ev->value, &v);
    if (!v.scored)
        p->st.unscored++;
    if (p->nscorers)
        welford_row(p, ev, &v);
    bool ask = p->remote_cb && p->sliding && ev->start_us != ev->end_us &&
               ad_detector_should_ask(p->remote_mode, v.anomalous);
    if (!v.anomalous && !ask)
        return true;

    size_t key_len;
    const char *key = ad_series_key(ev->series, &key_len);
    struct ad_alert a = {
        .key = key,
        .key_len = key_len,
        .metric = ad_decoder_metric_name(p->dec, ad_series_metric(ev->series)),
        .window_start_us = ev->start_us,
        .window_end_us = ev->end_us,
        .value = ev->value,
        .expected = v.expected,
        .stddev = v.stddev,
        .zscore = v.zscore,
        .threshold = p->score.threshold,
        .direction = v.direction,
        .n = v.n,
        .detector = AD_DETECTOR_WELFORD,
        .topic = ad_part_topic(ev->part),
        .partition = ad_part_partition(ev->part),
        .offset = ev->offset,
        .low_offset = ev->low_offset,
    };
    ad_alert_explain_welford(&a);
    if (ask)
        job_submit(p, ev, &a, v.anomalous);
    else
        emit_alert(p, &a, NULL, 0);
    return ad_score_learns(&p->score, &v);
}

int ad_pipeline_new(const struct ad_pipeline_cfg *cfg, struct ad_pipeline **out, char *err,
                    size_t errlen)
{
    struct ad_pipeline *p;
    int rc;

    if (!cfg || !out) {
        if (err && errlen)
            snprintf(err, errlen, "ad_pipeline_new: NULL argument");
        return AD_EINVAL;
    }
    if (!(p = ad_calloc(1, sizeof(*p))))
        return AD_ENOMEM;
    rc = ad_decoder_new(&cfg->decode, &p->dec, err, errlen);
    if (rc)
        goto err;
    p->n_metrics = ad_decoder_metric_count(p->dec);
    p->score = cfg->score;
    struct ad_window_cfg wc = cfg->window;
    if (ad_pipeline_cfg_uses_detect(cfg)) {
        rc = ad_pdet_new(&cfg->detect, &cfg->rules, cfg->missing,
                         cfg->window.tumbling ? cfg->window.size_us : 0, &p->det, err, errlen);
        if (rc)
            goto err;
        wc.det_bytes = ad_pdet_area_size(p->det);
        p->denc = ad_malloc(ad_pdet_encoded_size(p->det));
        p->darea = ad_calloc(1, wc.det_bytes);
        if (!p->denc || !p->darea) {
            rc = AD_ENOMEM;
            goto err;
        }
    }
    rc = ad_window_new(&wc, on_window_event, p, &p->win);
    if (rc) {
        snprintf(err, errlen, "windows: inconsistent settings (%s)", ad_strerror(rc));
        goto err;
    }
    ad_buf_init(&p->line, ALERT_LINE_MAX);
    ad_buf_init(&p->sbuf, (size_t)1 << 24);
    p->remote_mode = cfg->remote_mode;
    p->sliding = cfg->window.sliding;
    p->size_us = cfg->window.size_us;
    p->points = ad_malloc(POINTS_MAX * sizeof(*p->points));
    if (!p->points) {
        rc = AD_ENOMEM;
        goto err;
    }
    *out = p;
    return 0;
err:
    ad_pipeline_free(p);
    return rc;
}

void ad_pipeline_free(struct ad_pipeline *p)
{
    if (!p)
        return;
    ad_window_free(p->win);
    ad_pdet_free(p->det);
    ad_free(p->denc);
    ad_free(p->darea);
    ad_decoder_free(p->dec);
    ad_buf_free(&p->line);
    ad_buf_free(&p->sbuf);
    ad_free(p->sring);
    while (p->jobs)
        job_free(p, p->jobs);
    ad_htab_free(&p->last_job);
    ad_free(p->points);
    ad_free(p);
}

void ad_pipeline_on_alert(struct ad_pipeline *p, ad_pipeline_alert_cb cb, void *ud)
{
    p->alert_cb = cb;
    p->alert_ud = ud;
}

int ad_pipeline_on_score(struct ad_pipeline *p, ad_pipeline_score_cb cb, void *ud)
{
    return ad_pipeline_on_score_if(p, cb, NULL, ud);
}

int ad_pipeline_on_score_if(struct ad_pipeline *p, ad_pipeline_score_cb cb,
                            ad_pipeline_score_want want, void *ud)
{
    if (p->nscorers == AD_PIPELINE_MAX_SCORERS)
        return AD_ELIMIT;
    p->scorers[p->nscorers].cb = cb;
    p->scorers[p->nscorers].want = want;
    p->scorers[p->nscorers++].ud = ud;
    return 0;
}

struct each_ctx {
    struct ad_pipeline *p;
    ad_pipeline_each_fn fn;
    void *ud;
};

static int each_series(void *ud, const struct ad_series *s)
{
    struct each_ctx *e = ud;
    size_t len;
    const char *key = ad_series_key(s, &len);
    return e->fn(e->ud, key, len, ad_decoder_metric_name(e->p->dec, ad_series_metric(s)));
}

int ad_pipeline_each_series(struct ad_pipeline *p, ad_pipeline_each_fn fn, void *ud)
{
    struct each_ctx e = {p, fn, ud};
    return ad_window_foreach(p->win, each_series, &e);
}

bool ad_pipeline_cfg_uses_detect(const struct ad_pipeline_cfg *cfg)
{
    return cfg->detect.detector != 0 &&
           !(cfg->detect.detector == AD_DET_WELFORD && !cfg->detect.likelihood);
}

void ad_pipeline_on_reject(struct ad_pipeline *p, ad_pipeline_reject_cb cb, void *ud)
{
    p->reject_cb = cb;
    p->reject_ud = ud;
}

enum ad_reject ad_pipeline_push(struct ad_pipeline *p, const void *buf, size_t len,
                                const struct ad_record_meta *meta, int64_t now_ms)
{
    struct ad_decoded *r = &p->rec;
    enum ad_reject why;
    bool late = false;

    p->st.records++;
    why = ad_decode(p->dec, buf, len, meta, r);
    if (why != AD_REJECT_NONE) {
        p->st.rejected++;
        p->st.rejected_by[why]++;
        if (p->reject_cb)
            p->reject_cb(p->reject_ud, buf, len, meta, ad_reject_name(why));
        return why;
    }
    p->st.accepted++;
    struct ad_part *part = ad_window_part(p->win, meta->topic, meta->partition);
    if (!part) {
        p->st.nomem += r->n_values;
        return AD_REJECT_NONE;
    }
    for (size_t i = 0; i < r->n_values; i++) {
        struct ad_window_point pt = {r->key,     r->key_len,   (uint32_t)i,
                                     r->time_us, r->values[i], meta->offset};
        switch (ad_window_push(p->win, part, &pt, now_ms)) {
        case AD_PUSH_LATE:
            late = true;
            break;
        case AD_PUSH_NOMEM:
            p->st.nomem++;
            break;
        default:
            break;
        }
    }
    ad_window_advance(p->win, part, r->time_us);
    if (late) {
        p->st.late_records++;
        if (p->reject_cb)
            p->reject_cb(p->reject_ud, buf, len, meta, "late");
    }
    return AD_REJECT_NONE;
}

void ad_pipeline_tick(struct ad_pipeline *p, int64_t now_ms)
{
    ad_window_tick(p->win, now_ms);
}

void ad_pipeline_flush(struct ad_pipeline *p)
{
    ad_window_flush(p->win);
}

struct import_ctx {
    struct ad_pipeline *p;
    const char *name;
    char *err;
    size_t errlen;
    uint64_t entries;
};

static int import_entry(void *ud, const char *id, size_t id_len, const char *metric, uint64_t n,
                        double mean, double m2)
{
    struct import_ctx *c = ud;
    uint32_t mi = 0;

    if (metric) {
        for (mi = 0; mi < c->p->n_metrics; mi++)
            if (strcmp(ad_decoder_metric_name(c->p->dec, mi), metric) == 0)
                break;
        if (mi == c->p->n_metrics)
            return 0; /* a model of a metric this config does not score */
    }
    if (id_len == 0 || id_len > AD_KEY_MAX) {
        snprintf(c->err, c->errlen, "%s: model id of %zu bytes is not a usable key", c->name,
                 id_len);
        return AD_EPARSE;
    }
    struct ad_welford *w = ad_window_model(c->p->win, id, id_len, mi);
    if (!w)
        return AD_ENOMEM;
    w->n = n;
    w->mean = mean;
    w->m2 = m2;
    c->entries++;
    return 0;
}

int ad_pipeline_import(struct ad_pipeline *p, const char *path, char *err, size_t errlen)
{
    struct import_ctx c = {.p = p, .name = path, .err = err, .errlen = errlen};
    struct ad_model_import im = {.cb = import_entry, .ud = &c};
    return ad_model_import_file(path, &im, err, errlen);
}

struct export_ctx {
    struct ad_pipeline *p;
    struct ad_buf *out;
};

static int export_series(void *ud, const struct ad_series *s)
{
    struct export_ctx *c = ud;
    size_t len;
    const char *key = ad_series_key(s, &len);
    const struct ad_welford *m = ad_series_model(s);

    if (m->n == 0)
        return 0;
    struct ad_model_entry e =
        {key, len, ad_decoder_metric_name(c->p->dec, ad_series_metric(s)), m->n, m->mean, m->m2};
    return ad_model_format_line(c->out, &e);
}

int ad_pipeline_export(struct ad_pipeline *p, struct ad_buf *out)
{
    struct export_ctx c = {.p = p, .out = out};
    return ad_window_foreach(p->win, export_series, &c);
}

void ad_pipeline_stats(const struct ad_pipeline *p, struct ad_pipeline_stats *out)
{
    *out = p->st;
    out->detect_fresh = p->det ? ad_pdet_fresh_restores(p->det) : 0;
    ad_window_stats(p->win, &out->win);
}

uint64_t ad_pipeline_nomem(const struct ad_pipeline *p)
{
    return p->st.nomem + ad_window_nomem(p->win);
}

int64_t ad_pipeline_low_offset(struct ad_pipeline *p, const char *topic, int32_t partition)
{
    struct ad_part *part = ad_window_part(p->win, topic, partition);
    return part ? ad_part_low_offset(part) : -1;
}

/* *out = st with its detector area (the window's raw bytes) replaced by its
 * encoding (in p->denc, valid until the next call), as a checkpoint keeps it. */
static int det_encode(struct ad_pipeline *p, const struct ad_series_state *st,
                      struct ad_series_state *out)
{
    size_t len = 0;
    *out = *st;
    out->det = NULL;
    out->det_len = 0;
    if (!p->det || !st->det)
        return 0;
    int rc = ad_pdet_encode(p->det, st->det, p->denc, ad_pdet_encoded_size(p->det), &len);
    if (rc == 0 && len) {
        out->det = p->denc;
        out->det_len = len;
    }
    return rc;
}

/* The reverse, for a restore: s->det (a checkpoint's encoding, or none) is
 * decoded into p->darea, which s then points to. A detector state of another
 * detector, parameters or layout restarts the series' detector (counted). */
static void det_decode(struct ad_pipeline *p, struct ad_series_state *s)
{
    if (!p->det) {
        s->det = NULL;
        s->det_len = 0;
        return;
    }
    ad_pdet_decode(p->det, p->darea, s->det, s->det ? s->det_len : 0);
    s->det = p->darea;
    s->det_len = ad_pdet_area_size(p->det);
}

static void store_evicted(void *ud, const struct ad_part *part, const struct ad_series_state *raw)
{
    struct ad_pipeline *p = ud;
    struct ad_series_state enc, *st = &enc;
    if (det_encode(p, raw, &enc) != 0) {
        p->st.nomem++;
        return;
    }
    const char *metric = ad_decoder_metric_name(p->dec, st->metric);
    struct ad_ckpt_header h = {.fingerprint = p->fingerprint,
                               .offset = -1,
                               .partition = part ? ad_part_partition(part) : -1};
    snprintf(h.topic, sizeof(h.topic), "%s", part ? ad_part_topic(part) : "");
    ad_ckpt_set_owner(&h, p->id_cluster, p->id_group);
    if (ad_ckpt_one(&p->sbuf, &h, st, metric) == 0)
        p->store.evicted(p->store.ud, h.topic, h.partition, st->key, st->key_len, metric, p->sbuf.p,
                         p->sbuf.len);
    else
        p->st.nomem++; /* its state is lost: it starts afresh when seen again */
}

struct load_ctx {
    struct ad_pipeline *p;
    struct ad_series_state *out;
};

static int load_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct load_ctx *c = ud;
    struct ad_pipeline *p = c->p;
    if (st->rlen > p->sring_cap) {
        struct ad_ring_point *nr = ad_realloc(p->sring, st->rlen * sizeof(*nr));
        if (!nr)
            return AD_ENOMEM;
        p->sring = nr;
        p->sring_cap = st->rlen;
    }
    if (st->rlen)
        memcpy(p->sring, st->ring, st->rlen * sizeof(*st->ring));
    memcpy(p->skey, st->key, st->key_len);
    *c->out = *st;
    c->out->key = p->skey;
    c->out->ring = p->sring;
    (void)metric;
    return 0;
}

static int store_load(void *ud, const struct ad_part *part, const char *key, size_t key_len,
                      uint32_t metric, struct ad_series_state *st)
{
    struct ad_pipeline *p = ud;
    const char *mname = ad_decoder_metric_name(p->dec, metric);
    struct ad_ckpt_header h;
    struct load_ctx c = {p, st};
    char err[128];
    int rc = p->store.load(p->store.ud, key, key_len, mname, &p->sbuf);
    rc = rc ? rc : ad_ckpt_check(p->sbuf.p, p->sbuf.len, &h, err, sizeof(err));
    rc = rc ? rc : ad_ckpt_each(p->sbuf.p, p->sbuf.len, load_series, &c);
    if (rc)
        return rc;
    if (h.nseries != 1 || h.fingerprint != p->fingerprint || st->key_len != key_len ||
        memcmp(st->key, key, key_len) != 0)
        return AD_ENOENT;
    if (ad_ckpt_other_owner(&h, p->id_cluster, p->id_group)) {
        p->st.store_mismatch++;
        return AD_ENOENT;
    }
    det_decode(p, st);
    st->metric = metric;
    st->dirty = true; /* the state topic is to have it again, under its partition */
    if (h.partition != ad_part_partition(part) || strcmp(h.topic, ad_part_topic(part)) != 0)
        st->model_off = -1; /* offsets of another partition do not compare */
    return 0;
}

void ad_pipeline_set_identity(struct ad_pipeline *p, const char *cluster, const char *group)
{
    snprintf(p->id_cluster, sizeof(p->id_cluster), "%s", cluster ? cluster : "");
    snprintf(p->id_group, sizeof(p->id_group), "%s", group ? group : "");
}

void ad_pipeline_set_store(struct ad_pipeline *p, const struct ad_pipeline_store *store,
                           uint64_t fingerprint)
{
    p->fingerprint = fingerprint;
    if (store && store->evicted && store->load) {
        p->store = *store;
        struct ad_window_store ws = {store_evicted, store_load, p};
        ad_window_set_store(p->win, &ws);
    } else {
        memset(&p->store, 0, sizeof(p->store));
        ad_window_set_store(p->win, NULL);
    }
}

int64_t ad_pipeline_max_time(struct ad_pipeline *p, const char *topic, int32_t partition)
{
    struct ad_part *part = ad_window_part(p->win, topic, partition);
    return part ? ad_part_max_time(part) : INT64_MIN;
}

void ad_pipeline_restore_clock(struct ad_pipeline *p, const char *topic, int32_t partition,
                               int64_t max_t)
{
    struct ad_part *part = ad_window_part(p->win, topic, partition);
    if (part && max_t != INT64_MIN)
        ad_window_advance(p->win, part, max_t); /* no window of it is open yet */
}

void ad_pipeline_drop_partition(struct ad_pipeline *p, const char *topic, int32_t partition)
{
    struct ad_part *part = ad_window_part(p->win, topic, partition);
    if (part)
        ad_window_part_drop(p->win, part);
}

void ad_pipeline_reload_score(struct ad_pipeline *p, const struct ad_score_cfg *cfg)
{
    p->score = *cfg;
}

struct ckpt_ctx {
    struct ad_pipeline *p;
    struct ad_out *out;
    uint64_t n;
    ad_pipeline_series_cb each;
    void *ud;
};

static int ckpt_series(void *ud, const struct ad_series_state *raw)
{
    struct ckpt_ctx *c = ud;
    const char *metric = ad_decoder_metric_name(c->p->dec, raw->metric);
    struct ad_series_state enc, *st = &enc;
    int rc = det_encode(c->p, raw, &enc);
    if (rc)
        return rc;
    c->n++;
    if (c->out) {
        rc = ad_ckpt_add(c->out->buf, st, metric);
        rc = rc ? rc : ad_out_flush(c->out, false);
    }
    return rc || !c->each ? rc : c->each(c->ud, st, metric);
}

/* The header is written first: with a buffer output its series count is
 * patched in at the end, otherwise the series are counted beforehand. */
int ad_pipeline_checkpoint(struct ad_pipeline *p, const struct ad_ckpt_req *req, struct ad_out *out,
                           struct ad_ckpt_result *res)
{
    struct ad_part *part = ad_window_part(p->win, req->topic, req->partition);
    struct ckpt_ctx c = {.p = p, .out = out, .each = req->each, .ud = req->ud};
    bool patch = out && ad_out_patchable(out);
    uint64_t sum = 0;
    int rc = part ? 0 : AD_ENOMEM;

    if (rc == 0 && out && req->unsealed && !patch)
        rc = AD_EINVAL; /* a stream output cannot be sealed later */
    if (rc == 0 && req->delta && ((out && !patch) || !req->each))
        rc = AD_EINVAL; /* counted at the end, and the series marked clean */
    if (rc == 0 && out) {
        struct ad_ckpt_header h = {.fingerprint = req->fingerprint,
                                   .offset = req->offset,
                                   .created_ms = req->created_ms,
                                   .partition = req->partition,
                                   .max_t = ad_part_max_time(part)};
        snprintf(h.topic, sizeof(h.topic), "%s", req->topic);
        ad_ckpt_set_owner(&h, p->id_cluster, p->id_group);
        h.nseries = patch ? 0 : ad_window_part_count(p->win, part);
        rc = ad_ckpt_begin(out->buf, &h);
        if (rc == 0 && req->delta)
            rc = ad_window_part_export_dirty(p->win, part, ckpt_series, &c);
        else if (rc == 0)
            rc = ad_window_part_export(p->win, part, req->each != NULL, ckpt_series, &c);
        if (rc == 0 && patch)
            rc = ad_ckpt_set_count(out->buf, c.n);
        else if (rc == 0 && c.n != h.nseries)
            rc = AD_ESTATE;
        if (rc == 0 && !req->unsealed)
            rc = ad_ckpt_seal(out->buf, out->hash);
        if (rc == 0 && !req->unsealed)
            sum = ad_ckpt_sum(out->buf->p, out->buf->len);
        rc = rc ? rc : ad_out_flush(out, true);
    } else if (rc == 0 && req->delta) {
        rc = ad_window_part_export_dirty(p->win, part, ckpt_series, &c);
    } else if (rc == 0) {
        rc = ad_window_part_export(p->win, part, req->each != NULL, ckpt_series, &c);
    }
    if (res) {
        res->nseries = c.n;
        res->bytes = out ? ad_out_bytes(out) : 0;
        res->sum = sum;
    }
    return rc;
}

uint64_t ad_pipeline_departed(struct ad_pipeline *p, const char *topic, int32_t partition)
{
    struct ad_part *part = ad_window_part(p->win, topic, partition);
    return part ? ad_part_departed(part) : UINT64_MAX;
}

int ad_pipeline_restore(struct ad_pipeline *p, const char *topic, int32_t partition,
                        const struct ad_series_state *st, const char *metric)
{
    size_t mi;
    for (mi = 0; mi < p->n_metrics; mi++)
        if (strcmp(ad_decoder_metric_name(p->dec, mi), metric) == 0)
            break;
    if (mi == p->n_metrics)
        return 0;
    struct ad_series_state s = *st;
    s.metric = (uint32_t)mi;
    det_decode(p, &s);
    struct ad_part *part = ad_window_part(p->win, topic, partition);
    return part ? ad_window_restore(p->win, part, &s) : AD_ENOMEM;
}
