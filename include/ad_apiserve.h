/* ad_apiserve.h - the Anomaly Detector REST API (docs/api.md) served on an
 * ad_httpd listener: the key check, per-client concurrency bounds, then the
 * pure handler ad_uv_api_handle() on the libuv thread pool, never on the loop.
 * Used by `anomalyd serve` and, with http.api.enabled, by the daemon.
 *
 * Keys are never logged. A client that disconnects mid-request has its work
 * finish on the pool and the answer dropped. */
#ifndef AD_APISERVE_H
#define AD_APISERVE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ad_config.h"
#include "ad_httpd.h"

#define AD_APISERVE_PREFIX     "/anomalydetector/"
#define AD_APISERVE_KEY_HEADER "Ocp-Apim-Subscription-Key"
#define AD_APISERVE_KEYS_ENV   "ANOMALYD_API_KEYS" /* comma-separated, added to the config's */
#define AD_APISERVE_BODIES     16 /* all connections together hold at most this many max_body */

struct ad_api_opts {
    const char *const *keys; /* accepted keys, borrowed; none: no key check */
    size_t nkeys;
    size_t max_body;         /* request bytes; over it: 413 */
    size_t max_points;       /* points in a series; over it: 400 InvalidSeries */
    unsigned max_per_client; /* requests in flight per client address; over it: 429 */
};

/* The endpoints and status classes the counters are kept by. */
enum ad_api_ep {
    AD_API_EP_ENTIRE = 0,
    AD_API_EP_LAST,
    AD_API_EP_CHANGEPOINT,
    AD_API_EP_OTHER,
    AD_API_EP_COUNT
};
enum ad_api_class { AD_API_2XX = 0, AD_API_4XX, AD_API_5XX, AD_API_CLASS_COUNT };
/* Rejections before any computation, by status. */
enum ad_api_reject { AD_API_R401 = 0, AD_API_R413, AD_API_R429, AD_API_R503, AD_API_REJECT_COUNT };

#define AD_API_LATENCY_BUCKETS 12 /* the last one is +Inf */
/* Upper bounds (seconds) of the compute latency histogram's buckets. */
extern const double ad_api_latency_bounds_s[AD_API_LATENCY_BUCKETS];

struct ad_apiserve_stats {
    uint64_t requests;     /* answered, any status */
    uint64_t ok;           /* 200 */
    uint64_t client_error; /* 400, 404, 405, 413 from the handler */
    uint64_t unauthorized; /* 401 */
    uint64_t throttled;    /* 429 */
    uint64_t dropped;      /* computed for a client that had left */
    uint64_t in_flight;
    /* answers by endpoint (from the path) and status class, the server's own
     * 413 and 503 included (AD_API_EP_OTHER when the path names none) */
    uint64_t by_ep[AD_API_EP_COUNT][AD_API_CLASS_COUNT];
    uint64_t rejected[AD_API_REJECT_COUNT];
    /* time on the pool computing an answer (parse, detect, write), per
     * bucket (not cumulative), and the sum */
    uint64_t latency[AD_API_LATENCY_BUCKETS];
    double latency_sum_s;
};

/* The endpoint a request path names (a query string allowed). */
enum ad_api_ep ad_api_endpoint(const char *path, size_t len);
/* "entire", "last", "changepoint", "other" / "2xx", "4xx", "5xx" /
 * "401", "413", "429", "503". */
const char *ad_api_ep_name(enum ad_api_ep e);
const char *ad_api_class_name(enum ad_api_class c);
const char *ad_api_reject_name(enum ad_api_reject r);

struct ad_apiserve;

/* o is copied (keys included). Returns 0 or AD_ENOMEM. */
int ad_apiserve_new(uv_loop_t *loop, const struct ad_api_opts *o, struct ad_apiserve **out);

/* Serves the API under AD_APISERVE_PREFIX on s. From then on s owns a:
 * ad_httpd_close(s) closes a too (do not call ad_apiserve_close then).
 * Returns 0 or AD_ENOMEM (a is then still the caller's). */
int ad_apiserve_mount(struct ad_apiserve *a, struct ad_httpd *s);

/* The daemon's hook: when cfg->http_api.enabled, serves the API on s with
 * the options of ad_api_opts_from_config() (s owns it, as above) and sets
 * *api (when not NULL) to it, borrowed until ad_httpd_close(s); else *api =
 * NULL. Returns 0 (also when not enabled), or AD_ENOMEM with err. */
int ad_apiserve_attach(uv_loop_t *loop, const struct ad_config *cfg, struct ad_httpd *s,
                       struct ad_apiserve **api, char *err, size_t errlen);

void ad_apiserve_stats(const struct ad_apiserve *a, struct ad_apiserve_stats *out);

/* Frees a once the work in flight is done (its answers still go to the
 * server, which drops those for closed connections). For an a that was
 * never mounted. */
void ad_apiserve_close(struct ad_apiserve *a);

/* The options of the config's http.api block plus the keys of the
 * environment variable AD_APISERVE_KEYS_ENV. The key strings are owned by
 * *keys_out (a NULL-terminated array; free with ad_api_keys_free). Returns 0
 * or AD_ENOMEM. */
int ad_api_opts_from_config(const struct ad_config *cfg, struct ad_api_opts *o, char ***keys_out);
void ad_api_keys_free(char **keys);

#endif
