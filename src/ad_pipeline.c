/* ad_pipeline.c - decode -> window -> score -> alert, wired once. */
#include "ad_pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_err.h"
#include "ad_model.h"
#include "ad_score.h"
#include "ad_sink.h"

#define ALERT_LINE_MAX (64 * 1024)

struct ad_pipeline {
    struct ad_decoder *dec;
    struct ad_window *win;
    struct ad_score_cfg score;
    size_t n_metrics;
    struct ad_decoded rec; /* scratch: one decoded record */
    struct ad_buf line;    /* scratch: one alert line */
    ad_pipeline_alert_cb alert_cb;
    void *alert_ud;
    ad_pipeline_reject_cb reject_cb;
    void *reject_ud;
    struct ad_pipeline_stats st;
};

/* The scoring stage: the rule of interface.md, then the alert. */
static bool on_window_event(void *ud, const struct ad_window_event *ev)
{
    struct ad_pipeline *p = ud;
    struct ad_verdict v;

    ad_score_eval(&p->score, ev->model, ev->value, &v);
    if (!v.scored)
        p->st.unscored++;
    if (!v.anomalous)
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
        .detector = "welford",
        .topic = ad_part_topic(ev->part),
        .partition = ad_part_partition(ev->part),
        .offset = ev->offset,
        .low_offset = ev->low_offset,
    };
    p->st.alerts++;
    if (v.direction == AD_DIR_POSITIVE)
        p->st.alerts_positive++;
    else
        p->st.alerts_negative++;
    ad_buf_reset(&p->line);
    if (ad_alert_format(&a, &p->line) != 0)
        p->st.alert_errors++;
    else if (p->alert_cb)
        p->alert_cb(p->alert_ud, &a, p->line.p, p->line.len);
    return p->score.learn_anomalies;
}

int ad_pipeline_new(const struct ad_config *cfg, struct ad_pipeline **out, char *err,
                    size_t errlen)
{
    struct ad_pipeline *p = calloc(1, sizeof(*p));
    int rc;

    if (!p)
        return AD_ENOMEM;
    rc = ad_decoder_new(cfg, &p->dec, err, errlen);
    if (rc)
        goto err;
    p->n_metrics = ad_decoder_metric_count(p->dec);
    p->score.threshold = cfg->model.threshold;
    p->score.min_samples = (uint64_t)cfg->model.min_samples;
    p->score.direction = cfg->model.direction;
    p->score.learn_anomalies = cfg->model.learn_anomalies;

    struct ad_window_cfg wc = {
        .tumbling = cfg->windows.tumbling,
        .size_us = cfg->windows.tumbling_size_us,
        .aggregate = cfg->windows.aggregate,
        .sliding = cfg->windows.sliding,
        .win_us = cfg->windows.sliding_size_us,
        .slide_us = cfg->windows.sliding_slide_us,
        .lateness_us = cfg->windows.allowed_lateness_us,
        .idle_us = cfg->windows.idle_timeout_us,
        .window_scope = cfg->model.scope == AD_SCOPE_WINDOW,
        .max_series = (uint64_t)cfg->max_series,
    };
    rc = ad_window_new(&wc, on_window_event, p, &p->win);
    if (rc) {
        snprintf(err, errlen, "windows: inconsistent settings (%s)", ad_strerror(rc));
        goto err;
    }
    ad_buf_init(&p->line, ALERT_LINE_MAX);
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
    ad_decoder_free(p->dec);
    ad_buf_free(&p->line);
    free(p);
}

void ad_pipeline_on_alert(struct ad_pipeline *p, ad_pipeline_alert_cb cb, void *ud)
{
    p->alert_cb = cb;
    p->alert_ud = ud;
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
        switch (ad_window_push(p->win, part, r->key, r->key_len, (uint32_t)i, r->time_us,
                               r->values[i], meta->offset, now_ms)) {
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
    return ad_model_import_file(path, import_entry, &c, NULL, 0, err, errlen);
}

struct export_ctx {
    struct ad_pipeline *p;
    struct ad_buf buf;
    int fd;
};

static int export_series(void *ud, const struct ad_series *s)
{
    struct export_ctx *c = ud;
    size_t len;
    const char *key = ad_series_key(s, &len);
    const struct ad_welford *m = ad_series_model(s);
    int rc;

    if (m->n == 0)
        return 0;
    rc = ad_model_format_line(&c->buf, key, len,
                              ad_decoder_metric_name(c->p->dec, ad_series_metric(s)), m->n,
                              m->mean, m->m2);
    if (rc)
        return rc;
    if (c->buf.len >= 64 * 1024) {
        rc = ad_write_all(c->fd, c->buf.p, c->buf.len);
        ad_buf_reset(&c->buf);
    }
    return rc;
}

int ad_pipeline_export(struct ad_pipeline *p, int fd)
{
    struct export_ctx c = {.p = p, .fd = fd};
    int rc;

    ad_buf_init(&c.buf, 1024 * 1024);
    rc = ad_window_foreach(p->win, export_series, &c);
    if (rc == 0 && c.buf.len)
        rc = ad_write_all(fd, c.buf.p, c.buf.len);
    ad_buf_free(&c.buf);
    return rc;
}

void ad_pipeline_stats(const struct ad_pipeline *p, struct ad_pipeline_stats *out)
{
    *out = p->st;
    ad_window_stats(p->win, &out->win);
}

int64_t ad_pipeline_low_offset(struct ad_pipeline *p, const char *topic, int32_t partition)
{
    struct ad_part *part = ad_window_part(p->win, topic, partition);
    return part ? ad_part_low_offset(part) : -1;
}

void ad_pipeline_drop_partition(struct ad_pipeline *p, const char *topic, int32_t partition)
{
    struct ad_part *part = ad_window_part(p->win, topic, partition);
    if (part)
        ad_window_part_drop(p->win, part);
}
