/* ad_dash_int.h - what ad_dash.c (state, feed) and ad_dash_api.c (the
 * pages and JSON endpoints) share. Private to src/io. */
#ifndef AD_DASH_INT_H
#define AD_DASH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ad_buf.h"
#include "ad_dash.h"
#include "ad_history.h"
#include "ad_httpd.h"

#define AD_DASH_RECENT 1024 /* alerts remembered */

/* The headers of every dashboard answer: a strict policy, nothing inline. */
#define AD_DASH_HEADERS                                                                            \
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "           \
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'\r\n"                         \
    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"

/* One recent alert. */
struct ad_dash_recent {
    uint64_t seq;  /* 1, 2, ...; 0: empty */
    int64_t at_ms; /* when it was emitted (loop time) */
    char *id;      /* key, '\0', metric, '\0' (owned) */
    size_t key_len, id_len;
    char *line; /* the alert's JSON object, without the newline (owned) */
    size_t line_len;
};

struct ad_dash {
    uv_loop_t *loop;
    struct ad_dash_ops ops;
    struct ad_history *hist;
    struct ad_dash_recent recent[AD_DASH_RECENT]; /* by seq % AD_DASH_RECENT */
    uint64_t seq;
    uint64_t boot; /* wall ms at the start: feed ids are BOOT-SEQ, so a page
                      that reconnects to a restarted daemon does not take
                      new alerts for ones it has seen */
    size_t recent_bytes;
    struct ad_httpd_stream **clients;
    size_t nclients, max_clients, client_queue;
    size_t points; /* history_points */
    uint64_t accepted, refused, dropped;
    uv_timer_t timer;
    bool timer_open, closing;
    uint64_t heartbeat_ms, beat_ms, sampled_ms;
    struct ad_dash_overview last; /* at sampled_ms */
    double rate_records, rate_alerts;
};

/* The recent alert numbered seq, or NULL when it is gone. */
const struct ad_dash_recent *ad_dash_recent_seq(const struct ad_dash *d, uint64_t seq);

/* GET /api/feed (ad_dash.c). */
int ad_dash_feed(struct ad_dash *d, struct ad_httpd_get *g);

#endif
