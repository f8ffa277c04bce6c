/* ad_replay.h - the offline source: JSON lines from a file descriptor through
 * a pipeline. Lines longer than the record limit are skipped (and counted as
 * too_large) without being buffered whole; blank lines are ignored; a
 * trailing '\r' is dropped. Record metadata: topic = the input's name,
 * partition 0, offset = the line's 0-based index, no timestamp, no headers.
 *
 * With kcat_envelope, each line is instead the envelope `kcat -C -J` prints
 * ({"topic","partition","offset","ts","headers":[k,v,...],"key","payload"}):
 * the payload is the record and the rest its metadata, so a capture taken
 * from Kafka replays with its timestamps and headers. A line that is not such
 * an envelope is handed on as it is (and rejected by the decoder). */
#ifndef AD_REPLAY_H
#define AD_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_pipeline.h"

/* Processing-time clock in milliseconds (injectable for tests). */
typedef int64_t (*ad_clock_ms_fn)(void);

struct ad_replay_opts {
    const char *name;     /* the source name used as "topic" */
    size_t max_record;    /* limits.max_message_bytes */
    ad_clock_ms_fn clock; /* NULL: ad_clock_mono_ms */
    int progress_fd;      /* -1: none; else a progress line every second */
    bool kcat_envelope;   /* lines are `kcat -J` envelopes */
    /* Called after every chunk read and, with final set, after the flush at
     * the end: where a replay with remote calls turns its event loop. */
    void (*pump)(void *ud, bool final);
    void *pump_ud;
    /* Out, may be NULL: set to ad_replay_sniff()'s hint for the input's first
     * bytes (a static string), or NULL when they look like JSON lines. */
    const char **hint;
};

/* What the first len bytes of an input look like when it is not JSON lines:
 * "input starts with a UTF-8 byte order mark ...", "input looks like gzip:
 * decompress it first ...", "input is a JSON array: one record per line
 * expected ..." (a static string), or NULL. Pure. */
const char *ad_replay_sniff(const void *head, size_t len);

/* Reads fd to its end, pushing every line, ticking the pipeline about once a
 * second of processing time, and flushing it at the end. Returns 0 or AD_EIO
 * (a read error; what was read so far has been processed and flushed). */
int ad_replay_fd(struct ad_pipeline *p, int fd, const struct ad_replay_opts *opts);

#endif
