/* ad_cmd_replay.c - `anomalyd -c FILE --input PATH|-`: JSON lines (or kcat
 * envelopes) through the engine, alerts to stdout (and to the alert log when
 * the config sets one explicitly, the webhook, the remote stage as
 * configured), a summary on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ad_buf.h"
#include "ad_config.h"
#include "ad_clock.h"
#include "ad_cmd.h"
#include "ad_engine.h"
#include "ad_err.h"
#include "ad_replay.h"
#include "ad_report_file.h"
#include "ad_scores.h"
#include "ad_sink.h"
#include "ad_state.h"

static void print_remote_summary(const struct ad_remote_stats *r)
{
    fprintf(stderr,
            "replay: remote: %llu requests, %llu ok, %llu skipped, %llu unavailable, %llu "
            "timeout, %llu rejected, %llu breaker_open, %llu overloaded, %llu retries\n",
            (unsigned long long)r->requests, (unsigned long long)r->ok,
            (unsigned long long)r->skipped, (unsigned long long)r->unavailable,
            (unsigned long long)r->timeout, (unsigned long long)r->rejected,
            (unsigned long long)r->breaker_open, (unsigned long long)r->overloaded,
            (unsigned long long)r->retries);
}

static void print_summary(const struct ad_pipeline_stats *st, double secs)
{
    struct ad_buf b;
    ad_buf_init(&b, 4096);
    ad_buf_printf(&b, "replay: %llu records, %llu accepted, %llu rejected",
                  (unsigned long long)st->records, (unsigned long long)st->accepted,
                  (unsigned long long)st->rejected);
    if (st->rejected) {
        const char *sep = " (";
        for (int r = 1; r < AD_REJECT_COUNT; r++) {
            if (!st->rejected_by[r])
                continue;
            ad_buf_printf(&b, "%s%s %llu", sep, ad_reject_name((enum ad_reject)r),
                          (unsigned long long)st->rejected_by[r]);
            sep = ", ";
        }
        ad_buf_adds(&b, ")");
    }
    ad_buf_printf(&b, ", %llu late, %llu duplicates\n", (unsigned long long)st->win.late,
                  (unsigned long long)st->win.duplicates);
    ad_buf_printf(&b,
                  "replay: %llu points, %llu windows, %llu slides, %llu scoring events, %llu "
                  "alerts (%llu positive, %llu negative), %llu series, %llu evictions\n",
                  (unsigned long long)st->win.points, (unsigned long long)st->win.windows,
                  (unsigned long long)st->win.slides, (unsigned long long)st->win.events,
                  (unsigned long long)st->alerts, (unsigned long long)st->alerts_positive,
                  (unsigned long long)st->alerts_negative, (unsigned long long)st->win.series,
                  (unsigned long long)st->win.evictions);
    if (st->detect_fresh)
        ad_buf_printf(&b,
                      "replay: %llu series restarted their detector fresh (a saved state of "
                      "another detector or parameters)\n",
                      (unsigned long long)st->detect_fresh);
    ad_buf_printf(&b, "replay: %.3f s, %.0f records/s\n", secs,
                  secs > 0 ? (double)st->records / secs : 0.0);
    fputs(b.p ? b.p : "", stderr);
    ad_buf_free(&b);
}

/* --scores: rows formatted into a buffer, written out in chunks. */
struct scores_out {
    FILE *f;
    int format;
    struct ad_buf b;
    uint64_t rows, errors;
};

static void scores_drain(struct scores_out *s, size_t above)
{
    if (s->b.len <= above)
        return;
    if (fwrite(s->b.p, 1, s->b.len, s->f) != s->b.len)
        s->errors++;
    ad_buf_reset(&s->b);
}

static void on_score(void *ud, const struct ad_score_row *row)
{
    struct scores_out *s = ud;
    if (ad_scores_format_row(row, s->format, &s->b) != 0)
        s->errors++;
    else
        s->rows++;
    scores_drain(s, (size_t)1 << 16);
}

/* Opens --scores (hooked to the pipeline by the caller). 0, or the exit status. */
static int scores_open(struct scores_out *s, const struct ad_cmd_replay_opts *o)
{
    s->format = o->scores_format;
    ad_buf_init(&s->b, (size_t)1 << 20);
    s->f = strcmp(o->scores_path, "-") == 0 ? stdout : fopen(o->scores_path, "w");
    if (!s->f) {
        fprintf(stderr, "anomalyd: %s: %s\n", o->scores_path, strerror(errno));
        return AD_CMD_EXIT_FATAL;
    }
    ad_scores_header(s->format, &s->b);
    return 0;
}

/* Writes what is left and closes --scores; non-zero when a row was lost. */
static int scores_close(struct scores_out *s, const char *path)
{
    scores_drain(s, 0);
    int bad = s->errors != 0 || fflush(s->f) != 0;
    if (s->f != stdout && fclose(s->f) != 0)
        bad = 1;
    ad_buf_free(&s->b);
    if (bad)
        fprintf(stderr, "anomalyd: %s: %llu score rows could not be written\n", path,
                (unsigned long long)s->errors);
    return bad;
}

/* Opens --report and takes the engine's alerts. 0, or the exit status. */
static int report_open(const struct ad_cmd_replay_opts *o, struct ad_engine *e,
                       struct ad_report_file **rf)
{
    struct ad_report_opts ro = {.max_series = o->report_series};
    char err[1024];
    int rc = ad_report_file_open(o->report_path, &ro, rf, err, sizeof(err));
    if (rc == 0 && (rc = ad_report_file_attach(*rf, e)) != 0)
        snprintf(err, sizeof(err), "--report: %s", ad_strerror(rc));
    if (rc == 0)
        return 0;
    fprintf(stderr, "anomalyd: %s\n", err);
    ad_report_file_free(*rf);
    *rf = NULL;
    return AD_CMD_EXIT_FATAL;
}

/* Writes --report: 0, or non-zero when it could not be written. */
static int report_finish(const struct ad_config *cfg, const struct ad_cmd_replay_opts *o,
                         struct ad_engine *e, struct ad_report_file *rf)
{
    struct ad_pipeline_stats st;
    struct ad_report_counts n;
    char err[1024];
    const char *base = o->config_path ? strrchr(o->config_path, '/') : NULL;

    ad_pipeline_stats(ad_engine_pipeline(e), &st);
    /* Names only: the config file's base name, the detector, the remote
     * mode; no value of the config that could hold a secret. */
    struct ad_report_page pg = {
        .input = strcmp(o->input, "-") == 0 ? "stdin" : o->input,
        .config = base ? base + 1 : o->config_path,
        .detector = ad_config_enum_name(ad_config_option_find("model.detector"),
                                        cfg->model.detector),
        .remote = ad_config_enum_name(ad_config_option_find("remote.anomaly_detector.mode"),
                                      cfg->remote.mode),
        .version = AD_VERSION,
        .stats = &st,
    };
    if (ad_report_file_finish(rf, &pg, err, sizeof(err)) != 0) {
        fprintf(stderr, "anomalyd: %s\n", err);
        return 1;
    }
    ad_report_file_counts(rf, &n);
    fprintf(stderr, "replay: report %s: %zu of %zu flagged series charted, %zu of %llu alerts\n",
            o->report_path, n.charted, n.flagged, n.alert_rows, (unsigned long long)n.alerts);
    return 0;
}

/* Writes the models to stdout ("-") or durably to path. */
static int export_models(struct ad_pipeline *p, const char *path)
{
    struct ad_buf b;
    char err[512];
    int rc;

    ad_buf_init(&b, (size_t)1 << 34);
    rc = ad_pipeline_export(p, &b);
    if (rc == 0)
        rc = strcmp(path, "-") == 0
                 ? ad_write_all(STDOUT_FILENO, b.p, b.len)
                 : ad_state_write_atomic(path, b.p ? b.p : "", b.len, false, err, sizeof(err));
    ad_buf_free(&b);
    return rc;
}

/* The summary lines and the exit status of what the sinks could not do;
 * hint (or NULL) says what the input looks like when records were rejected. */
static int report(const struct ad_config *cfg, struct ad_engine *e, double secs, const char *hint,
                  double max_rejected)
{
    struct ad_pipeline_stats st;
    struct ad_remote_stats rs;
    struct ad_engine_sink_stats ss;
    int status = 0;

    ad_pipeline_stats(ad_engine_pipeline(e), &st);
    print_summary(&st, secs);
    uint64_t lost = ad_pipeline_nomem(ad_engine_pipeline(e));
    if (lost) {
        fprintf(stderr,
                "anomalyd: %llu points, series states or outputs lost for want of memory: the "
                "result is incomplete (raise the memory limit or lower limits.max_series)\n",
                (unsigned long long)lost);
        status = AD_CMD_EXIT_FATAL;
    }
    if (hint && st.rejected)
        fprintf(stderr, "replay: %s\n", hint);
    if (max_rejected >= 0 && (double)st.rejected > max_rejected * (double)st.records) {
        fprintf(stderr, "anomalyd: %llu of %llu records rejected, more than --max-rejected %g\n",
                (unsigned long long)st.rejected, (unsigned long long)st.records, max_rejected);
        status = AD_CMD_EXIT_FATAL;
    }
    if (ad_engine_remote_stats(e, &rs))
        print_remote_summary(&rs);
    if (ad_engine_sink_stats_by_name(e, "webhook", &ss) == 0 && ss.refused + ss.failed)
        fprintf(stderr, "replay: %llu webhook rows not delivered\n",
                (unsigned long long)(ss.refused + ss.failed));
    if (ad_engine_sink_stats_by_name(e, "alert_log", &ss) == 0 && ss.refused) {
        fprintf(stderr, "anomalyd: %llu alert lines could not be written to %s\n",
                (unsigned long long)ss.refused, cfg->sinks.alert_log_path);
        status = AD_CMD_EXIT_FATAL;
    }
    return status;
}

int ad_cmd_replay(const struct ad_config *cfg, const struct ad_cmd_replay_opts *o)
{
    const char *input = o->input, *export_path = o->export_path;
    bool scores_stdout = o->scores_path && strcmp(o->scores_path, "-") == 0;
    struct scores_out so = {0};
    struct ad_report_file *rf = NULL;
    /* In replay the alert log is written only when the config asks for it
     * explicitly, so that a replay never appends to a production log by default. */
    struct ad_engine_opts eo = {
        .out = scores_stdout ? NULL : stdout,
        .alert_log = ad_config_is_set(cfg, "sinks.alert_log.path") && cfg->sinks.alert_log_path[0],
    };
    struct ad_engine *e;
    char err[1024];
    int fd = STDIN_FILENO, rc, status = 0;
    const char *hint = NULL;

    rc = ad_engine_new(cfg, &eo, &e, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "anomalyd: %s\n", err);
        return rc == AD_ENOMEM || rc == AD_EIO ? AD_CMD_EXIT_FATAL : AD_CONFIG_EXIT;
    }
    if (strcmp(input, "-") != 0) {
        fd = open(input, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "anomalyd: %s: %s\n", input, strerror(errno));
            ad_engine_free(e);
            return AD_CMD_EXIT_FATAL;
        }
    }
    struct ad_replay_opts opts = {
        .name = strcmp(input, "-") == 0 ? "stdin" : input,
        .max_record = (size_t)cfg->max_message_bytes,
        .progress_fd = isatty(STDERR_FILENO) ? STDERR_FILENO : -1,
        .kcat_envelope = o->kcat,
        .pump = ad_engine_has_loop(e) ? ad_engine_pump : NULL,
        .pump_ud = e,
        .hint = &hint,
    };
    if ((o->scores_path && scores_open(&so, o) != 0) ||
        (o->report_path && report_open(o, e, &rf) != 0)) {
        if (so.f && so.f != stdout)
            fclose(so.f);
        ad_buf_free(&so.b);
        if (fd != STDIN_FILENO)
            close(fd);
        ad_engine_free(e);
        return AD_CMD_EXIT_FATAL;
    }
    /* the pipeline hands every point to each subscriber, in this order */
    if (so.f)
        ad_pipeline_on_score(ad_engine_pipeline(e), on_score, &so);
    if (rf)
        ad_pipeline_on_score(ad_engine_pipeline(e), ad_report_file_score, rf);
    int64_t t0 = ad_clock_mono_ms();
    rc = ad_replay_fd(ad_engine_pipeline(e), fd, &opts);
    int64_t t1 = ad_clock_mono_ms();
    fflush(stdout);
    if (rc) {
        fprintf(stderr, "anomalyd: while reading %s: %s\n", opts.name, ad_strerror(rc));
        status = AD_CMD_EXIT_FATAL;
    }
    if (o->scores_path && scores_close(&so, o->scores_path) != 0)
        status = AD_CMD_EXIT_FATAL;
    if (report(cfg, e, (double)(t1 - t0) / 1000.0, hint, o->max_rejected) != 0)
        status = AD_CMD_EXIT_FATAL;
    if (rf && report_finish(cfg, o, e, rf) != 0)
        status = AD_CMD_EXIT_FATAL;
    if (export_path && export_models(ad_engine_pipeline(e), export_path) != 0) {
        fprintf(stderr, "anomalyd: while exporting models to %s: %s\n", export_path,
                strerror(errno));
        status = AD_CMD_EXIT_FATAL;
    }
    if (fd != STDIN_FILENO)
        close(fd);
    ad_engine_free(e);
    ad_report_file_free(rf);
    return status;
}
