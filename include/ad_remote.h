/* ad_remote.h - the Anomaly Detector client on the loop: a pipeline's remote
 * jobs become last/detect (or entire/detect) requests, with at most
 * max_in_flight outstanding, a timeout per request, retries of 429, 5xx and
 * connection failures with backoff and jitter (Retry-After, else "Try again
 * in N seconds", honoured), no retry of other 4xx, and a circuit breaker.
 * Whatever happens, every job is answered exactly once, within the budget:
 * with a verdict, or with the reason there is none (the local verdict then
 * stands). The wire format lives in ad_azure.c, the retry rules and the
 * breaker in ad_retry.c; this is the transport. With endpoint "local" the
 * request goes to the REST handler itself (ad_uv_api_handle) on the libuv
 * thread pool instead of over HTTP: the same body, the same verdict parser,
 * the same bookkeeping; no key is sent, and a computation that has started
 * is not cut short by the timeout (its answer then still counts). */
#ifndef AD_REMOTE_H
#define AD_REMOTE_H

#include <stdint.h>
#include <uv.h>

#include "ad_config.h"
#include "ad_http.h"
#include "ad_pipeline.h"

struct ad_remote;

/* Answers a job; o (and what it points to) is borrowed for the call. */
typedef void (*ad_remote_done_cb)(void *ud, struct ad_remote_job *job,
                                  const struct ad_remote_outcome *o);

struct ad_remote_stats {
    uint64_t requests; /* HTTP attempts */
    uint64_t ok, skipped, unavailable, timeout, rejected, breaker_open, overloaded;
    uint64_t retries;
    uint64_t in_flight, queued;
    int breaker_state;          /* enum ad_retry_breaker_state */
    uint64_t latency_le_ms[12]; /* histogram of attempt latency, upper bounds below */
    double latency_sum_s;
};
extern const double ad_remote_latency_bounds_ms[12];

/* What a client is made of: the loop, the shared HTTP client, the config it
 * reads remote.anomaly_detector.* from (all borrowed, they must outlive the
 * client), and cb(ud, job, outcome) called once per job. */
struct ad_remote_opts {
    uv_loop_t *loop;
    struct ad_http *http;
    const struct ad_config *cfg;
    ad_remote_done_cb cb;
    void *ud;
};

/* Creates the client into *out. Returns 0, AD_ENOMEM, or AD_ECONFIG (with
 * err) for settings the contract does not accept. */
/* The start check of remote.anomaly_detector.endpoint, also run by
 * --check-config: "local", or a URL ad_http_url_check() accepts. Returns 0 or
 * AD_ECONFIG with the reason in err (the URL is not quoted: it may carry a
 * token). */
int ad_remote_endpoint_check(const char *endpoint, char *err, size_t errlen);

int ad_remote_new(const struct ad_remote_opts *o, struct ad_remote **out, char *err, size_t errlen);

/* Asks about one job. cb runs once for it, possibly before this returns. */
void ad_remote_submit(struct ad_remote *r, struct ad_remote_job *job);

/* Jobs not yet answered. */
size_t ad_remote_pending(const struct ad_remote *r);

void ad_remote_stats(const struct ad_remote *r, struct ad_remote_stats *out);

/* Answers every pending job with status "unavailable" (reason "shutdown"),
 * stops, and frees itself once its timers are closed. */
void ad_remote_close(struct ad_remote *r);

#endif
