/* ad_webhook.c - the webhook sink on the loop (see include/ad_webhook.h):
 * the rows are ad_alert_webhook_row()'s, the retry rules ad_retry.c's. */
#include "ad_webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_alert.h"
#include "ad_alertmgr.h"
#include "ad_buf.h"
#include "ad_clock.h"
#include "ad_err.h"
#include "ad_log.h"
#include "ad_retry.h"
#include "ad_secret.h"

#define BATCH_MAX (16 * 1024 * 1024)

struct row {
    struct row *next;
    void *token;
    size_t len;
    char data[];
};

struct ad_webhook {
    uv_loop_t *loop;
    struct ad_http *http;
    const struct ad_config *cfg;
    ad_webhook_ack_cb cb;
    void *ud;
    uv_timer_t timer; /* flush interval, or retry backoff */
    struct row *head, *tail;
    size_t pending;
    size_t in_batch; /* rows of the batch in flight (from head) */
    bool busy, closing, timer_closed, backoff;
    unsigned attempt;
    struct ad_retry_policy retry;
    char **headers;
    size_t nheaders;
    struct ad_buf body;
    struct ad_webhook_stats st;
    char last_permanent[512]; /* the reason last logged for a permanent error */
};

static void post_batch(struct ad_webhook *w);

static void maybe_free(struct ad_webhook *w)
{
    if (!w->closing || !w->timer_closed || w->busy)
        return;
    for (size_t i = 0; i < w->nheaders; i++)
        free(w->headers[i]);
    free(w->headers);
    ad_buf_free(&w->body);
    free(w);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct ad_webhook *w = h->data;
    w->timer_closed = true;
    maybe_free(w);
}

/* Removes the first n rows, acknowledging each. */
static void ack_rows(struct ad_webhook *w, size_t n, bool delivered)
{
    while (n-- && w->head) {
        struct row *r = w->head;
        w->head = r->next;
        if (!w->head)
            w->tail = NULL;
        w->pending--;
        if (delivered)
            w->st.delivered++;
        else
            w->st.dropped++;
        w->cb(w->ud, r->token, delivered);
        free(r);
    }
}

static void on_timer(uv_timer_t *t)
{
    struct ad_webhook *w = t->data;
    w->backoff = false;
    post_batch(w);
}

static void schedule(struct ad_webhook *w)
{
    if (w->closing || w->busy || w->backoff || !w->head)
        return;
    if (w->pending >= (size_t)w->cfg->sinks.webhook_batch_size)
        post_batch(w);
    else if (!uv_is_active((uv_handle_t *)&w->timer))
        uv_timer_start(&w->timer, on_timer,
                       (uint64_t)(w->cfg->sinks.webhook_flush_interval_us / 1000), 0);
}

/* A batch that will never go through (a 4xx, a permanent transport error):
 * dropped, counted, and logged with its reason; a permanent transport error
 * is logged once per distinct reason, since every batch would repeat it. */
static void drop_batch(struct ad_webhook *w, const struct ad_http_response *resp, const char *why)
{
    w->st.failures++;
    if (resp->transport == AD_TRANSPORT_PERMANENT) {
        w->st.permanent++;
        if (strcmp(w->last_permanent, why) != 0) {
            snprintf(w->last_permanent, sizeof(w->last_permanent), "%s", why);
            AD_WARN("webhook",
                    "batch of %zu rows dropped: %s (not retried: this error is permanent; "
                    "further batches failing the same way are only counted)",
                    w->in_batch, why);
        }
    } else {
        AD_WARN("webhook", "batch of %zu rows dropped: HTTP %ld %s", w->in_batch, resp->status,
                why);
    }
    ack_rows(w, w->in_batch, false);
}

static void on_response(void *ud, const struct ad_http_response *resp)
{
    struct ad_webhook *w = ud;
    enum ad_retry_class cls = ad_retry_classify(resp->status, resp->transport);
    char why[512]; /* the transport's error, the URL's credentials masked */

    snprintf(why, sizeof(why), "%s", resp->error ? resp->error : "");
    ad_secret_scrub_url(why, sizeof(why), w->cfg->sinks.webhook_url);

    w->busy = false;
    if (cls == AD_RETRY_OK) {
        w->attempt = 0;
        ack_rows(w, w->in_batch, true);
    } else if (cls == AD_RETRY_FAIL || w->closing) {
        drop_batch(w, resp, why);
    } else {
        w->st.failures++;
        w->st.retries++;
        int64_t delay = ad_retry_delay_ms(&w->retry, w->attempt, resp->retry_after, resp->body,
                                          resp->body_len, ad_clock_wall_us() / 1000000);
        if (w->attempt < 30)
            w->attempt++;
        uv_update_time(w->loop);
        AD_WARN("webhook", "while posting %zu rows: %s; retrying in %lld ms", w->in_batch,
                resp->transport_error ? why : "server error", (long long)delay);
        w->in_batch = 0;
        w->backoff = true; /* no batch goes before the backoff is over */
        uv_timer_start(&w->timer, on_timer, (uint64_t)delay, 0);
        return;
    }
    w->in_batch = 0;
    if (w->closing) {
        ack_rows(w, w->pending, false);
        maybe_free(w);
        return;
    }
    schedule(w);
}

static void post_batch(struct ad_webhook *w)
{
    if (w->busy || w->backoff || !w->head || w->closing)
        return;
    uv_timer_stop(&w->timer);
    ad_buf_reset(&w->body);
    size_t n = 0;
    for (struct row *r = w->head; r && n < (size_t)w->cfg->sinks.webhook_batch_size; r = r->next) {
        if (ad_alert_batch_add(&w->body, r->data, r->len) != 0)
            break;
        n++;
    }
    if (n == 0) { /* a single row larger than a batch may be: drop it */
        ack_rows(w, 1, false);
        schedule(w);
        return;
    }
    struct ad_http_request req = {
        .url = w->cfg->sinks.webhook_url,
        .headers = (const char *const *)w->headers,
        .nheaders = w->nheaders,
        .body = w->body.p,
        .body_len = w->body.len,
        .timeout_ms = (long)(w->cfg->sinks.webhook_timeout_us / 1000),
        .max_response = 64 * 1024,
    };
    w->in_batch = n;
    w->busy = true;
    w->st.posts++;
    if (ad_http_post(w->http, &req, on_response, w) != 0) {
        w->busy = false;
        w->in_batch = 0;
        w->backoff = true;
        uv_timer_start(&w->timer, on_timer, AD_RETRY_CAP_MS, 0);
    }
}

/* Is a configured header one we can send as "Name: value"? */
static bool header_ok(const char *k, const char *v)
{
    return !strpbrk(k, ":\r\n") && !strpbrk(v, "\r\n");
}

int ad_webhook_check(const struct ad_config *cfg, char *err, size_t errlen)
{
    const struct ad_kvlist *h = &cfg->sinks.webhook_headers;
    char why[256];

    if (!cfg->sinks.webhook_url[0])
        return 0;
    if (ad_http_url_check(cfg->sinks.webhook_url, why, sizeof(why)) != 0) {
        /* the URL itself is not repeated: it may carry credentials */
        snprintf(err, errlen, "sinks.webhook.url: %s", why);
        return AD_ECONFIG;
    }
    for (size_t i = 0; i < h->n; i++)
        if (!header_ok(h->k[i], h->v[i])) {
            snprintf(err, errlen, "sinks.webhook.headers.%s: not a valid header", h->k[i]);
            return AD_ECONFIG;
        }
    return 0;
}

int ad_webhook_new(const struct ad_webhook_opts *o, struct ad_webhook **out, char *err,
                   size_t errlen)
{
    const struct ad_kvlist *h = &o->cfg->sinks.webhook_headers;
    int rc = ad_webhook_check(o->cfg, err, errlen);
    if (rc != 0)
        return rc;
    struct ad_webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return AD_ENOMEM;
    w->loop = o->loop;
    w->http = o->http;
    w->cfg = o->cfg;
    w->cb = o->cb;
    w->ud = o->ud;
    ad_retry_policy_init(&w->retry, AD_RETRY_BASE_MS, AD_RETRY_CAP_MS,
                         (uint64_t)ad_clock_wall_us() ^ (uint64_t)(uintptr_t)w);
    ad_buf_init(&w->body, BATCH_MAX);
    w->headers = calloc(h->n + 1, sizeof(char *));
    if (!w->headers) {
        free(w);
        return AD_ENOMEM;
    }
    w->headers[w->nheaders++] = strdup("Content-Type: application/json");
    for (size_t i = 0; i < h->n; i++) {
        size_t len = strlen(h->k[i]) + strlen(h->v[i]) + 3;
        char *line = malloc(len);
        if (!line) {
            snprintf(err, errlen, "out of memory");
            w->timer_closed = true;
            w->closing = true;
            maybe_free(w);
            return AD_ENOMEM;
        }
        snprintf(line, len, "%s: %s", h->k[i], h->v[i]);
        w->headers[w->nheaders++] = line;
    }
    uv_timer_init(w->loop, &w->timer);
    w->timer.data = w;
    *out = w;
    return 0;
}

int ad_webhook_add(struct ad_webhook *w, const char *row, size_t len, void *token)
{
    if (w->closing)
        return AD_ESTATE;
    if (w->pending >= (size_t)w->cfg->sinks.webhook_max_pending) {
        w->st.refused++;
        return AD_ELIMIT;
    }
    struct row *r = malloc(sizeof(*r) + len);
    if (!r)
        return AD_ENOMEM;
    r->next = NULL;
    r->token = token;
    r->len = len;
    memcpy(r->data, row, len);
    if (w->tail)
        w->tail->next = r;
    else
        w->head = r;
    w->tail = r;
    w->pending++;
    w->st.rows++;
    schedule(w);
    return 0;
}

int ad_webhook_add_alert(struct ad_webhook *w, const struct ad_alert *a, void *token)
{
    const struct ad_config *cfg = w->cfg;
    /* A slide's value is its newest tumbling point: timestamp = its start. */
    int64_t t = cfg->windows.sliding ? a->window_end_us - cfg->windows.tumbling_size_us
                                     : a->window_start_us;
    struct ad_buf row;
    ad_buf_init(&row, 4096);
    int rc = cfg->sinks.webhook_format == AD_WEBHOOK_ALERTMANAGER
                 ? ad_alertmgr_alert(&row, a)
                 : ad_alert_webhook_row(&row, a, t);
    if (rc == 0)
        rc = ad_webhook_add(w, row.p, row.len, token);
    ad_buf_free(&row);
    return rc;
}

size_t ad_webhook_pending(const struct ad_webhook *w)
{
    return w->pending;
}

void ad_webhook_stats(const struct ad_webhook *w, struct ad_webhook_stats *out)
{
    *out = w->st;
    out->pending = w->pending;
}

void ad_webhook_flush(struct ad_webhook *w)
{
    post_batch(w);
}

void ad_webhook_close(struct ad_webhook *w)
{
    if (!w || w->closing)
        return;
    w->closing = true;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, on_timer_closed);
    if (!w->busy)
        ack_rows(w, w->pending, false);
    /* A batch in flight is answered by the HTTP client (completed or aborted). */
}
