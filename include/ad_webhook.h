/* ad_webhook.h - the webhook sink (scenario B's dashboard push): flagged
 * windows as JSON rows, POSTed in batches (a JSON array) to
 * sinks.webhook.url with optional headers, one batch in flight at a time so
 * rows arrive in order. A batch goes when it holds batch_size rows or its
 * first row has waited flush_interval. 429, 5xx and connection failures are
 * retried with backoff (Retry-After honoured) for as long as it takes; other
 * 4xx and permanent transport errors (TLS, certificate, protocol: see
 * ad_http_response.permanent) drop the batch (counted, the latter logged once
 * per distinct reason). At most max_pending rows are held; past that,
 * new rows are refused (the caller counts and releases them). Each row
 * carries a caller's token, handed back once the row is delivered or
 * dropped, so that the caller can hold its source offsets until then. */
#ifndef AD_WEBHOOK_H
#define AD_WEBHOOK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ad_config.h"
#include "ad_http.h"

struct ad_webhook;

/* delivered: true when the endpoint accepted the row's batch. */
typedef void (*ad_webhook_ack_cb)(void *ud, void *token, bool delivered);

struct ad_webhook_stats {
    uint64_t rows, delivered, dropped, refused, posts, retries, failures;
    uint64_t permanent; /* batches dropped for a permanent transport error */
    uint64_t pending;
};

/* What a webhook is made of: the loop and the HTTP client it posts through
 * and the config it reads sinks.webhook_* from (all borrowed, they must
 * outlive it), and cb(ud, token, delivered) called once per row added. */
struct ad_webhook_opts {
    uv_loop_t *loop;
    struct ad_http *http;
    const struct ad_config *cfg;
    ad_webhook_ack_cb cb;
    void *ud;
};

/* The start checks of the webhook's config, also run by --check-config:
 * with sinks.webhook.url set, the URL must pass ad_http_url_check() and every
 * header must be sendable. Returns 0 or AD_ECONFIG with the reason in err. */
int ad_webhook_check(const struct ad_config *cfg, char *err, size_t errlen);

/* Creates the webhook into *out. Returns 0, AD_ENOMEM, or AD_ECONFIG (what
 * ad_webhook_check() refuses, with err). */
int ad_webhook_new(const struct ad_webhook_opts *o, struct ad_webhook **out, char *err,
                   size_t errlen);

/* Queues one row (a JSON value, copied). Returns 0, or AD_ELIMIT when
 * max_pending rows are already held (the row is not taken), AD_ENOMEM. */
int ad_webhook_add(struct ad_webhook *w, const char *row, size_t len, void *token);

/* Queues the dashboard row of a flagged window (its newest point, with the
 * remote verdict when the alert carries one, else the local model's band).
 * Returns as ad_webhook_add(), or AD_EINVAL for a row that cannot be built. */
struct ad_alert;
int ad_webhook_add_alert(struct ad_webhook *w, const struct ad_alert *a, void *token);

size_t ad_webhook_pending(const struct ad_webhook *w);
void ad_webhook_stats(const struct ad_webhook *w, struct ad_webhook_stats *out);

/* Sends what is queued now, without waiting for the batch to fill. */
void ad_webhook_flush(struct ad_webhook *w);

/* Stops; rows not yet delivered are acknowledged with delivered=false. The
 * sink frees itself once its timer is closed. */
void ad_webhook_close(struct ad_webhook *w);

#endif
