/* ad_dash.h - the live dashboard on the daemon's HTTP listener (docs/
 * dashboard.md): the page and its assets (web/dashboard/, web/vendor/,
 * compiled in), JSON endpoints and a live alert feed as server-sent events.
 * Read-only: GET and HEAD only; every response carries a strict Content
 * Security Policy. Nothing secret is in any answer: alerts, series keys and
 * counters only.
 *
 *   /                          the page
 *   /ui/dashboard/..., /ui/vendor/...   static assets
 *   /api/overview              records/s, alerts/s, lag, series, health
 *   /api/series?key=K&metric=M  the series' recent scored points and alerts
 *                              (asking makes the series watched: its history
 *                              is kept for the watch time after the last ask)
 *   /api/search?q=PREFIX       series whose key starts with PREFIX (at most 50)
 *   /api/flagged?seconds=N     keys flagged in the last N seconds, with counts
 *   /api/feed                  text/event-stream of alerts (event "alert",
 *                              data: the alert line), heartbeats as comments;
 *                              at most max_clients (503 beyond); a client
 *                              more than client_queue bytes behind is dropped
 *
 * Fed by ad_dash_on_score() (the pipeline's score hook) and ad_dash_alert()
 * (an engine sink). Everything runs on the loop's thread. */
#ifndef AD_DASH_H
#define AD_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ad_alert.h"
#include "ad_httpd.h"
#include "ad_pipeline.h"
#include "ad_scores.h"

struct ad_dash;

/* What the overview shows, read from the daemon once a second. */
struct ad_dash_overview {
    uint64_t records; /* consumed since the start */
    uint64_t alerts;  /* emitted since the start */
    int64_t lag;      /* summed over the assigned partitions, -1 unknown */
    uint64_t series;  /* held by the pipeline */
    bool ready;
    const char *health; /* a short static text ("ok", "no partitions", ...) */
};

/* The daemon's side: the overview's numbers and the series to search. */
struct ad_dash_ops {
    void (*overview)(void *ud, struct ad_dash_overview *o);
    int (*each_series)(void *ud, ad_pipeline_each_fn fn, void *fn_ud);
    void *ud;
};

struct ad_dash_opts {
    uv_loop_t *loop;
    size_t max_clients;    /* feed clients */
    size_t history_points; /* per series */
    size_t history_series;
    size_t client_queue; /* bytes per feed client */
    size_t max_key;      /* longest key kept in a history */
    int64_t watch_ms;
    uint64_t heartbeat_ms; /* 0: 15 s */
    struct ad_dash_ops ops;
};

/* Returns 0 and an owned dashboard in *out (stop with ad_dash_close(), then
 * free with ad_dash_free() once the loop has run), or AD_EINVAL / AD_ENOMEM
 * with err. opts is copied. */
int ad_dash_new(const struct ad_dash_opts *opts, struct ad_dash **out, char *err, size_t errlen);

/* The pages hook for ad_httpd_set_pages() (ud: the dashboard). */
int ad_dash_pages(void *ud, struct ad_httpd_get *g);

/* A scored point (ad_pipeline_on_score_if(), ud: the dashboard), and which
 * ones it wants: flagged ones and those of the series it holds. */
void ad_dash_on_score(void *ud, const struct ad_score_row *row);
bool ad_dash_wants(void *ud, const char *key, size_t key_len, const char *metric, bool is_anomaly);

/* An alert and its line (len bytes, ending in '\n'); both borrowed. */
void ad_dash_alert(struct ad_dash *d, const struct ad_alert *a, const char *line, size_t len);

struct ad_dash_stats {
    size_t clients;           /* feed clients now */
    uint64_t clients_total;   /* feed clients ever accepted */
    uint64_t clients_refused; /* over max_clients */
    uint64_t clients_dropped; /* fell more than client_queue behind */
    size_t history_bytes, history_series;
    size_t alert_bytes; /* the recent alerts kept for the feed and the bar chart */
};
void ad_dash_stats(const struct ad_dash *d, struct ad_dash_stats *out);

/* Ends every feed stream and stops the timer. Idempotent. */
void ad_dash_close(struct ad_dash *d);
/* Frees it (after ad_dash_close() and a turn of the loop). Accepts NULL. */
void ad_dash_free(struct ad_dash *d);

#endif
