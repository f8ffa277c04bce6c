/* ad_report_file.c - replay's --report on disk (include/ad_report_file.h):
 * a spool of every scored point in an unlinked temporary file, the alerts
 * from an engine sink, the second pass and the atomic write of the page. */
#include "ad_report_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ad_assets.h"
#include "ad_buf.h"
#include "ad_err.h"
#include "ad_fd.h"
#include "ad_state.h"

#define SPOOL_FLUSH   ((size_t)1 << 20) /* bytes buffered before a write */
#define READ_CHUNK    ((size_t)1 << 20) /* bytes read at a time in the second pass */
#define PAGE_MAX      ((size_t)1 << 33) /* the largest page */
#define SPOOL_REC_MAX ((size_t)1 << 31) /* the largest spool record */

struct ad_report_file {
    char *path;
    int fd; /* the spool */
    struct ad_buf b;
    struct ad_report *r;
    uint64_t rows, lost;
    int first_err; /* the first spool error */
    bool finished;
};

int ad_report_file_open(const char *path, const struct ad_report_opts *o,
                        struct ad_report_file **out, char *err, size_t errlen)
{
    struct ad_report_file *f = calloc(1, sizeof(*f));
    char *tmpl = NULL;
    int rc = AD_ENOMEM;

    *out = NULL;
    if (!f)
        goto err;
    f->fd = -1;
    f->path = strdup(path);
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    tmpl = malloc(dlen + 32);
    if (!f->path || !tmpl)
        goto err;
    /* The spool lives beside the report: the same disk as the file asked for. */
    memcpy(tmpl, path, dlen);
    memcpy(tmpl + dlen, ".anomalyd-report-XXXXXX", sizeof(".anomalyd-report-XXXXXX"));
    rc = ad_report_new(o, &f->r);
    if (rc) {
        snprintf(err, errlen, "--report: %s", ad_strerror(rc));
        goto err;
    }
    f->fd = mkstemp(tmpl);
    if (f->fd < 0) {
        rc = AD_EIO;
        snprintf(err, errlen, "%s: cannot make a temporary file beside it: %s", path,
                 strerror(errno));
        goto err;
    }
    unlink(tmpl);
    ad_buf_init(&f->b, 2 * SPOOL_FLUSH + SPOOL_REC_MAX);
    free(tmpl);
    *out = f;
    return 0;
err:
    if (rc == AD_ENOMEM)
        snprintf(err, errlen, "--report: %s", ad_strerror(rc));
    free(tmpl);
    ad_report_file_free(f);
    return rc;
}

static void spool_flush(struct ad_report_file *f)
{
    if (f->b.len && f->first_err == 0) {
        int rc = ad_write_all(f->fd, f->b.p, f->b.len);
        if (rc)
            f->first_err = rc;
    }
    ad_buf_reset(&f->b);
}

void ad_report_file_score(void *ud, const struct ad_score_row *row)
{
    struct ad_report_file *f = ud;
    int rc = ad_report_spool_put(&f->b, row);
    if (rc) {
        f->lost++;
        if (f->first_err == 0)
            f->first_err = rc;
        return;
    }
    f->rows++;
    if (f->b.len >= SPOOL_FLUSH)
        spool_flush(f);
}

static int sink_emit(void *self, struct ad_engine_sink *s, const struct ad_alert *a,
                     const char *line, size_t len, struct ad_engine_delivery *d)
{
    struct ad_report_file *f = self;
    (void)s, (void)line, (void)len, (void)d;
    return ad_report_alert(f->r, a);
}

static const struct ad_engine_sink_ops sink_ops = {.name = "report", .emit = sink_emit};

int ad_report_file_attach(struct ad_report_file *f, struct ad_engine *e)
{
    return ad_engine_add_sink(e, &sink_ops, f, NULL);
}

/* Offers every whole record of p[0..len) to the report; *at receives the
 * bytes used. 0, or the report's or the record's error. */
static int offer(struct ad_report_file *f, const char *p, size_t len, size_t *at)
{
    struct ad_score_row row;
    size_t used = 0;
    int rc;

    *at = 0;
    while ((rc = ad_report_spool_get(p + *at, len - *at, &row, &used)) == 0) {
        if ((rc = ad_report_point(f->r, &row)) != 0)
            return rc;
        *at += used;
    }
    return rc == AD_EAGAIN ? 0 : rc;
}

/* Reads the spool back and offers each point to the report. */
static int second_pass(struct ad_report_file *f)
{
    size_t cap = READ_CHUNK, len = 0, at = 0;
    char *buf = malloc(cap);
    int rc = 0;

    if (!buf)
        return AD_ENOMEM;
    if (lseek(f->fd, 0, SEEK_SET) != 0)
        rc = AD_EIO;
    while (rc == 0) {
        if (len == cap) { /* one record larger than the buffer */
            char *nb = cap < SPOOL_REC_MAX ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                rc = AD_ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(f->fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 || len ? AD_EIO : 0; /* a read error, or a record cut short */
            break;
        }
        len += (size_t)n;
        rc = offer(f, buf, len, &at);
        memmove(buf, buf + at, len - at);
        len -= at;
    }
    free(buf);
    return rc;
}

static struct ad_report_text asset_text(const char *name)
{
    const struct ad_asset *a = ad_asset_find(name);
    return a ? (struct ad_report_text){(const char *)a->data, a->len}
             : (struct ad_report_text){NULL, 0};
}

int ad_report_file_finish(struct ad_report_file *f, struct ad_report_page *pg, char *err,
                          size_t errlen)
{
    struct ad_buf page;
    int rc;

    if (f->finished)
        return AD_ESTATE;
    f->finished = true;
    spool_flush(f);
    if (f->first_err) {
        snprintf(err, errlen, "%s: %llu scored points could not be spooled: %s", f->path,
                 (unsigned long long)(f->lost ? f->lost : 1), ad_strerror(f->first_err));
        return AD_EIO;
    }
    /* No flagged series: nothing to chart, no need to read the spool back. */
    rc = ad_report_select(f->r) ? second_pass(f) : 0;
    if (rc) {
        snprintf(err, errlen, "%s: reading the spool back: %s", f->path, ad_strerror(rc));
        return rc;
    }
    pg->uplot_js = asset_text("vendor/uplot/uPlot.iife.min.js");
    pg->uplot_css = asset_text("vendor/uplot/uPlot.min.css");
    pg->report_js = asset_text("report/report.js");
    pg->report_css = asset_text("report/report.css");
    if (!pg->uplot_js.p || !pg->uplot_css.p || !pg->report_js.p || !pg->report_css.p) {
        snprintf(err, errlen, "%s: the report's script or style is not built in", f->path);
        return AD_EINVAL;
    }
    ad_buf_init(&page, PAGE_MAX);
    rc = ad_report_write(f->r, pg, &page);
    if (rc)
        snprintf(err, errlen, "%s: %s", f->path, ad_strerror(rc));
    else
        rc = ad_state_write_atomic(f->path, page.p, page.len, false, err, errlen);
    ad_buf_free(&page);
    return rc;
}

void ad_report_file_counts(const struct ad_report_file *f, struct ad_report_counts *out)
{
    ad_report_counts(f->r, out);
}

void ad_report_file_free(struct ad_report_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    ad_buf_free(&f->b);
    ad_report_free(f->r);
    free(f->path);
    free(f);
}
