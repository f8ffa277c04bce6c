#include "ad_replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ad_err.h"

#define READ_CHUNK (256 * 1024)

int64_t ad_clock_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct replay {
    struct ad_pipeline *p;
    const struct ad_replay_opts *o;
    ad_clock_ms_fn clock;
    int64_t line_no;
    int64_t now_ms;
    int64_t next_tick_ms;
    uint64_t since_clock;
};

static void progress(struct replay *r, bool final)
{
    struct ad_pipeline_stats st;
    char line[256];

    ad_pipeline_stats(r->p, &st);
    int n = snprintf(line, sizeof(line),
                     "\r%s: %llu records, %llu rejected, %llu alerts, %llu series%s", r->o->name,
                     (unsigned long long)st.records, (unsigned long long)st.rejected,
                     (unsigned long long)st.alerts, (unsigned long long)st.win.series,
                     final ? "\n" : "");
    if (n > 0 && write(r->o->progress_fd, line, (size_t)n) < 0) {
        /* progress is best effort */
    }
}

static void push_line(struct replay *r, const char *s, size_t len, bool too_long)
{
    struct ad_record_meta meta = {
        .topic = r->o->name,
        .partition = 0,
        .offset = r->line_no++,
        .timestamp_ms = -1,
    };

    if (len && s[len - 1] == '\r')
        len--;
    if (!too_long) {
        size_t i = 0;
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == len)
            return; /* blank line: not a record */
    }
    /* Read the clock every 1024 records, not every record. */
    if (++r->since_clock >= 1024) {
        r->since_clock = 0;
        r->now_ms = r->clock();
        if (r->now_ms >= r->next_tick_ms) {
            ad_pipeline_tick(r->p, r->now_ms);
            if (r->o->progress_fd >= 0)
                progress(r, false);
            r->next_tick_ms = r->now_ms + 1000;
        }
    }
    /* An over-long line is handed over as its prefix plus one byte, so the
     * decoder's own size check rejects and counts it like any record. */
    ad_pipeline_push(r->p, s, too_long ? r->o->max_record + 1 : len, &meta, r->now_ms);
}

int ad_replay_fd(struct ad_pipeline *p, int fd, const struct ad_replay_opts *opts)
{
    struct replay r = {.p = p, .o = opts, .clock = opts->clock ? opts->clock : ad_clock_monotonic_ms};
    size_t cap = opts->max_record + 1 + READ_CHUNK, len = 0;
    char *buf = malloc(cap);
    bool skipping = false; /* inside a line that is already too long */
    int rc = 0;

    if (!buf)
        return AD_ENOMEM;
    r.now_ms = r.clock();
    r.next_tick_ms = r.now_ms + 1000;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = AD_EIO;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', len - start);
            if (!nl)
                break;
            size_t l = (size_t)(nl - (buf + start));
            if (skipping)
                skipping = false; /* the tail of a too-long line, already counted */
            else
                push_line(&r, buf + start, l, l > opts->max_record);
            start += l + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (len > opts->max_record) {
            /* No newline within the limit: count the record now, drop its bytes. */
            if (!skipping)
                push_line(&r, buf, len, true);
            skipping = true;
            len = 0;
        }
    }
    if (len && !skipping)
        push_line(&r, buf, len, len > opts->max_record);
    free(buf);
    ad_pipeline_flush(p);
    if (opts->progress_fd >= 0)
        progress(&r, true);
    return rc;
}
