/* ad_retry.h - when to try an HTTP request again, shared by every client that
 * posts to a server which may be busy or down (the remote detector, the
 * webhook sink): how an attempt's outcome is classified, how long the server
 * asked us to wait (Retry-After, "Try again in N seconds"), exponential
 * backoff with jitter, and a circuit breaker (docs/remote.md).
 *
 * Pure: no I/O, no clock (every time is passed in), no global state; the
 * random numbers come from a splitmix64 state the caller owns and seeds.
 * Pointer arguments are borrowed for the duration of the call. */
#ifndef AD_RETRY_H
#define AD_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AD_RETRY_MAX_AFTER_MS 3600000 /* ad_retry_after_ms()'s cap: 1 hour */
#define AD_RETRY_MAX_BODY     1048576 /* bytes of a body searched for "Try again in" */
#define AD_RETRY_BASE_MS      200     /* the clients' backoff: first delay ... */
#define AD_RETRY_CAP_MS       10000   /* ... and the longest */

/* ---- one attempt --------------------------------------------------------- */

enum ad_retry_class {
    AD_RETRY_OK = 0, /* use the body */
    AD_RETRY_AGAIN,  /* transient: retry later with backoff */
    AD_RETRY_FAIL    /* permanent: never retried */
};

/* How the transport fared (the HTTP client decides which failures will not
 * go away by trying again). false and true convert to the first two. */
enum ad_retry_transport {
    AD_TRANSPORT_OK = 0,    /* a complete response came back */
    AD_TRANSPORT_TRANSIENT, /* connection refused/reset, DNS, timeout */
    AD_TRANSPORT_PERMANENT  /* malformed URL, unsupported protocol, TLS or
                             * certificate failure: the same request fails the
                             * same way every time */
};

/* Classifies an attempt: a transient transport failure (no complete
 * response) -> AGAIN; a permanent one -> FAIL; else 2xx -> OK; 408, 429 and
 * 5xx -> AGAIN; any other status (1xx, 3xx, other 4xx, 0) -> FAIL. */
enum ad_retry_class ad_retry_classify(long http_status, enum ad_retry_transport transport);

/* How long the server asked us to wait, in ms, from (first match wins):
 *   - retry_after, the Retry-After header (NULL when absent): delta-seconds
 *     ("7") or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") taken relative
 *     to now_epoch_s (a date in the past gives 0);
 *   - the body (len bytes; the first AD_RETRY_MAX_BODY are searched): the
 *     text "Try again in N second(s)" anywhere, case-insensitive, e.g. inside
 *     a gateway's error envelope.
 * Returns the delay capped at AD_RETRY_MAX_AFTER_MS, or -1 when neither gives
 * one (an unreadable header falls through to the body). */
int64_t ad_retry_after_ms(const char *retry_after, const char *body, size_t len,
                          int64_t now_epoch_s);

/* The delay before retry number attempt (0 = the first retry), in ms:
 * d = min(base_ms * 2^attempt, max_ms), then "equal jitter": d/2 plus a
 * uniform integer in [0, d - d/2], so the result lies in [d/2, d].
 * *rng_state is the caller's splitmix64 state (any seed; advanced by one
 * step). base_ms <= 0 gives 0; max_ms < base_ms caps at max_ms. */
int64_t ad_retry_backoff_ms(unsigned attempt, int64_t base_ms, int64_t max_ms, uint64_t *rng_state);

/* ---- a client's schedule ------------------------------------------------- */

/* The backoff settings and random state of one client. Caller-owned, no
 * resources. */
struct ad_retry_policy {
    int64_t base_ms;
    int64_t max_ms;
    uint64_t rng; /* splitmix64 state */
};

/* seed: any value, e.g. the wall clock (read by the caller) mixed with the
 * client's address, so that clients started together do not retry in step. */
void ad_retry_policy_init(struct ad_retry_policy *p, int64_t base_ms, int64_t max_ms,
                          uint64_t seed);

/* The delay before retry number attempt after a failed response: what the
 * server asked for (ad_retry_after_ms() of retry_after, body, len and
 * now_epoch_s) when it asked, else ad_retry_backoff_ms(attempt) with p's
 * settings (advancing p->rng). */
int64_t ad_retry_delay_ms(struct ad_retry_policy *p, unsigned attempt, const char *retry_after,
                          const char *body, size_t len, int64_t now_epoch_s);

/* ---- circuit breaker ----------------------------------------------------- */

enum ad_retry_breaker_state { AD_BREAKER_CLOSED = 0, AD_BREAKER_OPEN, AD_BREAKER_HALF_OPEN };

/* A breaker for one endpoint. Caller-owned, no resources, driven by injected
 * time in ms (any monotonic origin). Fields are read-only outside the
 * ad_retry_breaker_* functions; every state change goes through one setter
 * (breaker_set() in ad_retry.c). */
struct ad_retry_breaker {
    int state;                 /* enum ad_retry_breaker_state */
    unsigned failures;         /* consecutive failures while closed */
    unsigned threshold;        /* failures that open the circuit, >= 1 */
    int64_t open_until_ms;     /* while open: when a probe is allowed */
    int64_t cooldown_ms;       /* the current cooldown */
    int64_t base_cooldown_ms;  /* the configured one; cooldown_ms <= 16x this */
    unsigned probes_in_flight; /* 0 or 1, in half-open */
};

/* Closed, no failures. threshold 0 counts as 1, cooldown_ms < 1 as 1. */
void ad_retry_breaker_init(struct ad_retry_breaker *b, unsigned threshold, int64_t cooldown_ms);

/* May a request start now? Closed: yes. Open: no until open_until_ms, then
 * the breaker turns half-open and allows exactly one probe. Half-open: no
 * while the probe is in flight. Every true must be followed by one
 * ad_retry_breaker_record() for that request. */
bool ad_retry_breaker_allow(struct ad_retry_breaker *b, int64_t now_ms);

/* Records the outcome of an allowed request (success = AD_RETRY_OK; a FAIL
 * such as a 400 is the server answering and should be recorded as success).
 * Closed: a success resets the count; threshold consecutive failures open the
 * circuit for cooldown_ms. Half-open: success closes it (cooldown back to the
 * base); failure opens it again with the cooldown doubled, capped at 16x the
 * base. Open: outcomes of requests started before it opened are ignored. */
void ad_retry_breaker_record(struct ad_retry_breaker *b, bool success, int64_t now_ms);

/* "closed", "open", "half_open" ("unknown" otherwise). */
const char *ad_retry_breaker_state_name(int state);

#endif
