/* ad_replay.c - the offline source (ad_replay.h): JSON lines from a file
 * descriptor through a pipeline, with a hint when the input is not that. */
#include "ad_replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ad_clock.h"
#include "ad_err.h"

#define READ_CHUNK (256 * 1024)

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

/* Header lookup over an envelope's flat ["name", "value", ...] array. */
static int envelope_header(void *ctx, const char *name, const void **val, size_t *len)
{
    json_t *h = ctx;
    for (size_t i = 0; i + 1 < json_array_size(h); i += 2) {
        json_t *k = json_array_get(h, i), *v = json_array_get(h, i + 1);
        if (json_is_string(k) && json_is_string(v) && strcmp(json_string_value(k), name) == 0) {
            *val = json_string_value(v);
            *len = json_string_length(v);
            return 0;
        }
    }
    return AD_ENOENT;
}

/* Unwraps a kcat envelope and pushes its payload; returns false when the line
 * is not an envelope. */
static bool push_envelope(struct replay *r, const char *s, size_t len, struct ad_record_meta *meta)
{
    json_error_t e;
    json_t *env = json_loadb(s, len, 0, &e);
    json_t *payload = json_object_get(env, "payload");
    if (!json_is_string(payload)) {
        json_decref(env);
        return false;
    }
    json_t *v;
    if (json_is_string(v = json_object_get(env, "topic")))
        meta->topic = json_string_value(v);
    if (json_is_integer(v = json_object_get(env, "partition")))
        meta->partition = (int32_t)json_integer_value(v);
    if (json_is_integer(v = json_object_get(env, "offset")))
        meta->offset = (int64_t)json_integer_value(v);
    if (json_is_integer(v = json_object_get(env, "ts")))
        meta->timestamp_ms = (int64_t)json_integer_value(v);
    if (json_is_array(v = json_object_get(env, "headers"))) {
        meta->header = envelope_header;
        meta->header_ctx = v;
    }
    ad_pipeline_push(r->p, json_string_value(payload), json_string_length(payload), meta,
                     r->now_ms);
    json_decref(env);
    return true;
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
    if (r->o->kcat_envelope && !too_long && push_envelope(r, s, len, &meta))
        return;
    /* An over-long line is handed over as its prefix plus one byte, so the
     * decoder's own size check rejects and counts it like any record. */
    ad_pipeline_push(r->p, s, too_long ? r->o->max_record + 1 : len, &meta, r->now_ms);
}

const char *ad_replay_sniff(const void *head, size_t len)
{
    const unsigned char *h = head;
    size_t i = 0;

    if (len >= 3 && h[0] == 0xef && h[1] == 0xbb && h[2] == 0xbf)
        return "input starts with a UTF-8 byte order mark: save it without one "
               "(sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)";
    if (len >= 2 && ((h[0] == 0xff && h[1] == 0xfe) || (h[0] == 0xfe && h[1] == 0xff)))
        return "input starts with a UTF-16 byte order mark: convert it to UTF-8 JSON lines";
    if (len >= 2 && h[0] == 0x1f && h[1] == 0x8b)
        return "input looks like gzip: decompress it first (zcat FILE | anomalyd ... --input -)";
    while (i < len && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n'))
        i++;
    if (i < len && h[i] == '[')
        return "input is a JSON array: one record per line expected (jq -c '.[]' FILE)";
    return NULL;
}

int ad_replay_fd(struct ad_pipeline *p, int fd, const struct ad_replay_opts *opts)
{
    struct replay r = {.p = p, .o = opts, .clock = opts->clock ? opts->clock : ad_clock_mono_ms};
    size_t cap = opts->max_record + 1 + READ_CHUNK, len = 0;
    char *buf = malloc(cap);
    bool skipping = false; /* inside a line that is already too long */
    bool sniffed = false;
    unsigned since_pump = 0;
    int rc = 0;

    if (opts->hint)
        *opts->hint = NULL;
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
        if (!sniffed && opts->hint) /* the first bytes read say what the input is */
            *opts->hint = ad_replay_sniff(buf, (size_t)n);
        sniffed = true;
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
            if (opts->pump && ++since_pump >= 64) { /* keep HTTP moving within a chunk */
                since_pump = 0;
                opts->pump(opts->pump_ud, false);
            }
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (opts->pump)
            opts->pump(opts->pump_ud, false);
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
    if (opts->pump)
        opts->pump(opts->pump_ud, true);
    if (opts->progress_fd >= 0)
        progress(&r, true);
    return rc;
}
