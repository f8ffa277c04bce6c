/* ad_dash.c - see ad_dash.h. The state: the history rings (ad_history.h),
 * a ring of the recent alerts (for the feed's first screen, the alert fields
 * of flagged points and the flagged-keys chart), the feed clients and a
 * one-second timer that samples the overview's rates and sends heartbeats.
 * The JSON endpoints are in ad_dash_api.c. */
#include "ad_dash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_clock.h"
#include "ad_dash_int.h"
#include "ad_err.h"
#include "ad_log.h"

#define FEED_BACKLOG 20 /* alerts a new feed client gets at once */

static const char feed_headers[] = AD_DASH_HEADERS "X-Accel-Buffering: no\r\n";

static void on_tick(uv_timer_t *t)
{
    struct ad_dash *d = t->data;
    struct ad_dash_overview o = {.lag = -1, .health = "unknown"};
    uint64_t now = uv_now(d->loop);
    d->ops.overview(d->ops.ud, &o);
    if (d->sampled_ms && now > d->sampled_ms) {
        double s = (double)(now - d->sampled_ms) / 1000.0;
        d->rate_records = (double)(o.records - d->last.records) / s;
        d->rate_alerts = (double)(o.alerts - d->last.alerts) / s;
    }
    d->last = o;
    d->sampled_ms = now;
    if (now - d->beat_ms >= d->heartbeat_ms) {
        d->beat_ms = now;
        static const char beat[] = ": heartbeat\n\n";
        for (size_t i = d->nclients; i-- > 0;)
            if (ad_httpd_stream_write(d->clients[i], beat, sizeof(beat) - 1) == AD_ELIMIT)
                d->dropped++;
    }
}

int ad_dash_new(const struct ad_dash_opts *opts, struct ad_dash **out, char *err, size_t errlen)
{
    struct ad_history_cfg hc = {.points = opts->history_points,
                                .series = opts->history_series,
                                .watch_ms = opts->watch_ms,
                                .max_key = opts->max_key};
    struct ad_dash *d = calloc(1, sizeof(*d));
    int rc = AD_ENOMEM;
    if (!d)
        goto err;
    d->loop = opts->loop;
    d->boot = (uint64_t)(ad_clock_wall_us() / 1000);
    d->ops = opts->ops;
    d->max_clients = opts->max_clients;
    d->client_queue = opts->client_queue;
    d->points = opts->history_points;
    d->heartbeat_ms = opts->heartbeat_ms ? opts->heartbeat_ms : 15000;
    d->clients = calloc(opts->max_clients ? opts->max_clients : 1, sizeof(*d->clients));
    if (!d->clients)
        goto err;
    rc = ad_history_new(&hc, &d->hist);
    if (rc)
        goto err;
    uv_timer_init(d->loop, &d->timer);
    d->timer.data = d;
    d->timer_open = true;
    uv_timer_start(&d->timer, on_tick, 0, 1000);
    *out = d;
    return 0;
err:
    snprintf(err, errlen, "while starting the dashboard: %s", ad_strerror(rc));
    ad_dash_free(d);
    return rc;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct ad_dash *d = h->data;
    d->timer_open = false;
}

void ad_dash_close(struct ad_dash *d)
{
    if (!d || d->closing)
        return;
    d->closing = true;
    while (d->nclients)
        ad_httpd_stream_close(d->clients[d->nclients - 1]); /* on_client_closed removes it */
    if (d->timer_open && !uv_is_closing((uv_handle_t *)&d->timer))
        uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}

void ad_dash_free(struct ad_dash *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < AD_DASH_RECENT; i++) {
        free(d->recent[i].id);
        free(d->recent[i].line);
    }
    ad_history_free(d->hist);
    free(d->clients);
    free(d);
}

void ad_dash_on_score(void *ud, const struct ad_score_row *row)
{
    struct ad_dash *d = ud;
    ad_history_score(d->hist, row, (int64_t)uv_now(d->loop));
}

bool ad_dash_wants(void *ud, const char *key, size_t key_len, const char *metric, bool is_anomaly)
{
    const struct ad_dash *d = ud;
    return ad_history_wants(d->hist, key, key_len, metric, is_anomaly);
}

/* Keeps the alert in the recent ring (replacing the oldest). */
static void remember(struct ad_dash *d, const struct ad_alert *a, const char *line, size_t len)
{
    struct ad_dash_recent *r = &d->recent[d->seq % AD_DASH_RECENT];
    size_t mlen = strlen(a->metric);
    d->recent_bytes -= r->id_len + r->line_len;
    free(r->id);
    free(r->line);
    *r = (struct ad_dash_recent){.seq = d->seq, .at_ms = (int64_t)uv_now(d->loop)};
    r->id = malloc(a->key_len + mlen + 2);
    r->line = malloc(len + 1);
    if (!r->id || !r->line) {
        free(r->id);
        free(r->line);
        r->id = r->line = NULL;
        return;
    }
    memcpy(r->id, a->key, a->key_len);
    r->id[a->key_len] = '\0';
    memcpy(r->id + a->key_len + 1, a->metric, mlen + 1);
    r->key_len = a->key_len;
    r->id_len = a->key_len + mlen + 2;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    memcpy(r->line, line, len);
    r->line[len] = '\0';
    r->line_len = len;
    d->recent_bytes += r->id_len + r->line_len;
}

/* The SSE event of recent alert r into b. */
static int feed_event(const struct ad_dash *d, const struct ad_dash_recent *r, struct ad_buf *b)
{
    ad_buf_reset(b);
    if (ad_buf_printf(b, "id: %llu-%llu\nevent: alert\ndata: ", (unsigned long long)d->boot,
                      (unsigned long long)r->seq) != 0 ||
        ad_buf_add(b, r->line, r->line_len) != 0 || ad_buf_adds(b, "\n\n") != 0)
        return AD_ENOMEM;
    return 0;
}

void ad_dash_alert(struct ad_dash *d, const struct ad_alert *a, const char *line, size_t len)
{
    if (d->closing)
        return;
    d->seq++;
    remember(d, a, line, len);
    struct ad_hist_alert ha = {a->key, a->key_len, a->metric, a->window_start_us, d->seq};
    ad_history_alert(d->hist, &ha, (int64_t)uv_now(d->loop));
    if (d->nclients == 0)
        return; /* nobody to write the event to */
    const struct ad_dash_recent *r = &d->recent[d->seq % AD_DASH_RECENT];
    struct ad_buf b;
    ad_buf_init(&b, 1u << 20);
    if (r->line && feed_event(d, r, &b) == 0)
        for (size_t i = d->nclients; i-- > 0;) /* a dropped client leaves from the end */
            if (ad_httpd_stream_write(d->clients[i], b.p, b.len) == AD_ELIMIT)
                d->dropped++;
    ad_buf_free(&b);
}

const struct ad_dash_recent *ad_dash_recent_seq(const struct ad_dash *d, uint64_t seq)
{
    const struct ad_dash_recent *r = &d->recent[seq % AD_DASH_RECENT];
    return seq && r->seq == seq && r->line ? r : NULL;
}

static void on_client_closed(void *ud, struct ad_httpd_stream *st)
{
    struct ad_dash *d = ud;
    for (size_t i = 0; i < d->nclients; i++)
        if (d->clients[i] == st) {
            d->clients[i] = d->clients[--d->nclients];
            return;
        }
}

/* GET /api/feed: a new stream with the newest alerts first, or 503. */
int ad_dash_feed(struct ad_dash *d, struct ad_httpd_get *g)
{
    if (d->closing || d->nclients >= d->max_clients) {
        d->refused++;
        g->headers = AD_DASH_HEADERS "Retry-After: 5\r\n";
        ad_buf_adds(g->out, "too many feed clients\n");
        return 503;
    }
    if (g->head) {
        g->ctype = "text/event-stream";
        g->headers = feed_headers;
        return 200;
    }
    struct ad_httpd_stream_opts so = {.ctype = "text/event-stream",
                                      .headers = feed_headers,
                                      .max_queued = d->client_queue,
                                      .sndbuf = 64 * 1024,
                                      .closed = on_client_closed,
                                      .ud = d};
    struct ad_httpd_stream *st = ad_httpd_stream_open(g, &so);
    if (!st)
        return 500;
    d->clients[d->nclients++] = st;
    d->accepted++;
    struct ad_buf b;
    ad_buf_init(&b, 1u << 20);
    int rc = ad_httpd_stream_write(st, "retry: 3000\n\n", 13);
    uint64_t from = d->seq > FEED_BACKLOG ? d->seq - FEED_BACKLOG + 1 : 1;
    for (uint64_t s = from; rc == 0 && s <= d->seq; s++) {
        const struct ad_dash_recent *r = ad_dash_recent_seq(d, s);
        if (r && feed_event(d, r, &b) == 0)
            rc = ad_httpd_stream_write(st, b.p, b.len);
    }
    if (rc == AD_ELIMIT)
        d->dropped++;
    ad_buf_free(&b);
    return 200;
}

void ad_dash_stats(const struct ad_dash *d, struct ad_dash_stats *out)
{
    struct ad_history_stats hs;
    ad_history_stats(d->hist, &hs);
    *out = (struct ad_dash_stats){
        .clients = d->nclients,
        .clients_total = d->accepted,
        .clients_refused = d->refused,
        .clients_dropped = d->dropped,
        .history_bytes = hs.bytes,
        .history_series = hs.series,
        .alert_bytes = d->recent_bytes + sizeof(d->recent),
    };
}
