/* ad_apiserve.c - the REST API on an ad_httpd mount (include/ad_apiserve.h):
 * admission on the loop (key, per-client bound), the computation on the
 * thread pool, the answer back on the loop. */
#include "ad_apiserve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_apiguard.h"
#include "ad_clock.h"
#include "ad_err.h"
#include "ad_log.h"
#include "ad_metrics.h"
#include "ad_uvad_api.h"

#define RESPONSE_MAX  (32 * 1024 * 1024)
#define JSON_TYPE     "application/json; charset=utf-8"
#define RETRY_AFTER_S 1

struct ad_apiserve {
    uv_loop_t *loop;
    struct ad_api_opts o;
    char **keys; /* owned copies; o.keys points here */
    struct ad_clients *clients;
    bool closing;
    struct ad_apiserve_stats st;
};

/* One request on the pool. */
struct job {
    uv_work_t w;
    struct ad_apiserve *a;
    struct ad_httpd_exchange *x;
    struct ad_uv_http_request req; /* borrowed from x, valid until the reply */
    struct ad_buf out;
    struct ad_uv_response res;
    int rc;
    int64_t compute_ns; /* time in ad_uv_api_handle, measured on the pool */
    char peer[64];
};

const double ad_api_latency_bounds_s[AD_API_LATENCY_BUCKETS] = {0.001, 0.0025, 0.005, 0.01,
                                                                0.025, 0.05,   0.1,   0.25,
                                                                0.5,   1.0,    2.5,   1e300};

enum ad_api_ep ad_api_endpoint(const char *path, size_t len)
{
    static const char *const tails[] = {"/timeseries/entire/detect", "/timeseries/last/detect",
                                        "/timeseries/changepoint/detect"};
    const char *q = memchr(path, '?', len);
    if (q)
        len = (size_t)(q - path);
    for (int e = 0; e < AD_API_EP_OTHER; e++) {
        size_t tl = strlen(tails[e]);
        if (len >= tl && memcmp(path + len - tl, tails[e], tl) == 0)
            return (enum ad_api_ep)e;
    }
    return AD_API_EP_OTHER;
}

const char *ad_api_ep_name(enum ad_api_ep e)
{
    static const char *const names[] = {"entire", "last", "changepoint", "other"};
    return e < AD_API_EP_COUNT ? names[e] : "other";
}

const char *ad_api_class_name(enum ad_api_class c)
{
    static const char *const names[] = {"2xx", "4xx", "5xx"};
    return c < AD_API_CLASS_COUNT ? names[c] : "5xx";
}

const char *ad_api_reject_name(enum ad_api_reject r)
{
    static const char *const names[] = {"401", "413", "429", "503"};
    return r < AD_API_REJECT_COUNT ? names[r] : "503";
}

/* Counts one answer of this status to a request for endpoint e. */
static void count_answer(struct ad_apiserve *a, enum ad_api_ep e, int status)
{
    enum ad_api_class c = status < 400 ? AD_API_2XX : status < 500 ? AD_API_4XX : AD_API_5XX;
    a->st.requests++;
    a->st.by_ep[e][c]++;
    enum ad_api_reject r = status == 401   ? AD_API_R401
                           : status == 413 ? AD_API_R413
                           : status == 429 ? AD_API_R429
                           : status == 503 ? AD_API_R503
                                           : AD_API_REJECT_COUNT;
    if (r != AD_API_REJECT_COUNT)
        a->st.rejected[r]++;
}

static void count_latency(struct ad_apiserve *a, int64_t ns)
{
    ad_prom_hist_observe(ad_api_latency_bounds_s, AD_API_LATENCY_BUCKETS, a->st.latency,
                         &a->st.latency_sum_s, (double)ns / 1e9);
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
}

int ad_apiserve_new(uv_loop_t *loop, const struct ad_api_opts *o, struct ad_apiserve **out)
{
    struct ad_apiserve *a = calloc(1, sizeof(*a));
    if (!a)
        return AD_ENOMEM;
    a->loop = loop;
    a->o = *o;
    a->clients = ad_clients_new();
    a->keys = calloc(o->nkeys + 1, sizeof(char *));
    if (!a->clients || !a->keys)
        goto err;
    for (size_t i = 0; i < o->nkeys; i++)
        if (!(a->keys[i] = strdup(o->keys[i])))
            goto err;
    a->o.keys = (const char *const *)a->keys;
    *out = a;
    return 0;
err:
    ad_clients_free(a->clients);
    free_keys(a->keys, o->nkeys);
    free(a);
    return AD_ENOMEM;
}

static void maybe_free(struct ad_apiserve *a)
{
    if (!a->closing || a->st.in_flight)
        return;
    AD_INFO("api",
            "%" PRIu64 " requests answered: %" PRIu64 " ok, %" PRIu64 " client errors, %" PRIu64
            " unauthorized, %" PRIu64 " throttled, %" PRIu64 " dropped (client gone)",
            a->st.requests, a->st.ok, a->st.client_error, a->st.unauthorized, a->st.throttled,
            a->st.dropped);
    ad_clients_free(a->clients);
    free_keys(a->keys, a->o.nkeys);
    free(a);
}

void ad_apiserve_close(struct ad_apiserve *a)
{
    if (!a || a->closing)
        return;
    a->closing = true;
    maybe_free(a);
}

void ad_apiserve_stats(const struct ad_apiserve *a, struct ad_apiserve_stats *out)
{
    *out = a->st;
}

/* The gateway's envelope: {"error":{"code":"401","message":"..."}}. */
static void gateway_reply(struct ad_apiserve *a, struct ad_httpd_exchange *x, int status,
                          const char *headers, const char *message)
{
    char body[512];
    int n = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%d\",\"message\":\"%s\"}}", status,
                     message);
    size_t plen;
    const char *path = ad_httpd_x_path(x, &plen);
    count_answer(a, ad_api_endpoint(path, plen), status);
    if (ad_httpd_reply(x, status, headers, JSON_TYPE, body, (size_t)n) != 0)
        a->st.dropped++;
}

/* Whether x may go on; answers it (401) when not. */
static bool key_ok(struct ad_apiserve *a, struct ad_httpd_exchange *x)
{
    if (a->o.nkeys == 0)
        return true;
    const char *k = ad_httpd_x_header(x, AD_APISERVE_KEY_HEADER);
    if (k && ad_key_match(k, strlen(k), a->o.keys, a->o.nkeys))
        return true;
    a->st.unauthorized++;
    gateway_reply(a, x, 401, NULL,
                  k ? "Access denied: the subscription key is not valid for this server."
                    : "Access denied: the request has no Ocp-Apim-Subscription-Key header.");
    return false;
}

static void work(uv_work_t *w)
{
    struct job *j = w->data;
    int64_t t0 = ad_clock_mono_ns();
    j->rc = ad_uv_api_handle(&j->req, &j->out, &j->res);
    j->compute_ns = ad_clock_mono_ns() - t0;
}

static void after_work(uv_work_t *w, int status)
{
    struct job *j = w->data;
    struct ad_apiserve *a = j->a;
    char headers[96] = "";

    ad_clients_release(a->clients, j->peer);
    a->st.in_flight--;
    if (status == 0)
        count_latency(a, j->compute_ns);
    if (status != 0 || j->rc != 0) {
        gateway_reply(a, j->x, 500, NULL, "Internal error");
    } else {
        if (j->res.error_code[0])
            snprintf(headers, sizeof(headers), "x-ms-error-code: %s\r\n", j->res.error_code);
        count_answer(a, ad_api_endpoint(j->req.path, j->req.path_len), j->res.status);
        if (j->res.status == 200)
            a->st.ok++;
        else
            a->st.client_error++;
        if (ad_httpd_reply(j->x, j->res.status, headers, JSON_TYPE, j->out.p ? j->out.p : "",
                           j->out.len) != 0)
            a->st.dropped++;
    }
    ad_buf_free(&j->out);
    free(j);
    maybe_free(a);
}

static void on_request(void *ud, struct ad_httpd_exchange *x)
{
    struct ad_apiserve *a = ud;
    const char *peer = ad_httpd_x_peer(x);

    if (!key_ok(a, x))
        return;
    int rc = ad_clients_acquire(a->clients, peer, a->o.max_per_client);
    if (rc != 0) {
        char hdr[64];
        snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", RETRY_AFTER_S);
        a->st.throttled++;
        gateway_reply(a, x, rc == AD_EAGAIN ? 429 : 503, hdr,
                      "Rate limit is exceeded. Try again in 1 seconds.");
        return;
    }
    struct job *j = calloc(1, sizeof(*j));
    if (!j) {
        ad_clients_release(a->clients, peer);
        gateway_reply(a, x, 503, NULL, "Out of memory");
        return;
    }
    j->a = a;
    j->x = x;
    j->w.data = j;
    snprintf(j->peer, sizeof(j->peer), "%s", peer);
    j->req.method = ad_httpd_x_method(x);
    j->req.path = ad_httpd_x_path(x, &j->req.path_len);
    j->req.body = ad_httpd_x_body(x, &j->req.body_len);
    j->req.max_points = a->o.max_points;
    ad_buf_init(&j->out, RESPONSE_MAX);
    a->st.in_flight++;
    if (uv_queue_work(a->loop, &j->w, work, after_work) != 0) {
        a->st.in_flight--;
        ad_clients_release(a->clients, peer);
        free(j);
        gateway_reply(a, x, 503, NULL, "Service unavailable");
    }
}

/* The server's own 413 and 503 under the mount. */
static void on_rejected(void *ud, int status, const char *path, size_t path_len)
{
    struct ad_apiserve *a = ud;
    count_answer(a, ad_api_endpoint(path, path_len), status);
    if (status == 413)
        a->st.client_error++;
    else
        a->st.throttled++;
}

static void on_server_close(void *ud)
{
    ad_apiserve_close(ud);
}

int ad_apiserve_mount(struct ad_apiserve *a, struct ad_httpd *s)
{
    struct ad_httpd_mount m = {
        .prefix = AD_APISERVE_PREFIX,
        .max_body = a->o.max_body,
        .max_conns = 1024,
        .max_buffered = a->o.max_body * AD_APISERVE_BODIES,
        .handle = on_request,
        .close = on_server_close,
        .rejected = on_rejected,
        .ud = a,
    };
    return ad_httpd_mount(s, &m);
}

/* Appends the comma-separated keys of s (spaces around them trimmed, empty
 * ones skipped) to keys[*n..]. */
static int add_env_keys(const char *s, char ***keys, size_t *n)
{
    while (s && *s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *b = s;
        while (len && (*b == ' ' || *b == '\t')) {
            b++;
            len--;
        }
        while (len && (b[len - 1] == ' ' || b[len - 1] == '\t'))
            len--;
        if (len) {
            char **k = realloc(*keys, (*n + 2) * sizeof(char *));
            if (!k)
                return AD_ENOMEM;
            *keys = k;
            if (!(k[*n] = strndup(b, len)))
                return AD_ENOMEM;
            k[++*n] = NULL;
        }
        s = end ? end + 1 : NULL;
    }
    return 0;
}

int ad_api_opts_from_config(const struct ad_config *cfg, struct ad_api_opts *o, char ***keys_out)
{
    size_t n = 0;
    char **keys = calloc(cfg->http_api.keys.n + 1, sizeof(char *));
    if (!keys)
        return AD_ENOMEM;
    for (size_t i = 0; i < cfg->http_api.keys.n; i++) {
        if (!cfg->http_api.keys.v[i][0])
            continue; /* "${VAR:-}" that expanded to nothing */
        if (!(keys[n++] = strdup(cfg->http_api.keys.v[i])))
            goto err;
    }
    if (add_env_keys(getenv(AD_APISERVE_KEYS_ENV), &keys, &n) != 0)
        goto err;
    o->keys = (const char *const *)keys;
    o->nkeys = n;
    o->max_body = (size_t)cfg->http_api.max_body;
    o->max_points = (size_t)cfg->http_api.max_points;
    o->max_per_client = (unsigned)cfg->http_api.max_concurrent_per_client;
    *keys_out = keys;
    return 0;
err:
    ad_api_keys_free(keys);
    return AD_ENOMEM;
}

void ad_api_keys_free(char **keys)
{
    for (size_t i = 0; keys && keys[i]; i++)
        free(keys[i]);
    free(keys);
}

int ad_apiserve_attach(uv_loop_t *loop, const struct ad_config *cfg, struct ad_httpd *s,
                       struct ad_apiserve **api, char *err, size_t errlen)
{
    struct ad_api_opts o;
    struct ad_apiserve *a = NULL;
    char **keys = NULL;

    if (api)
        *api = NULL;
    if (!cfg->http_api.enabled)
        return 0;
    int rc = ad_api_opts_from_config(cfg, &o, &keys);
    if (rc == 0)
        rc = ad_apiserve_new(loop, &o, &a);
    if (rc == 0 && (rc = ad_apiserve_mount(a, s)) != 0)
        ad_apiserve_close(a);
    if (rc == 0 && api)
        *api = a;
    if (rc == 0)
        AD_INFO("http", "serving the Anomaly Detector API under %s (%zu key(s))",
                AD_APISERVE_PREFIX, o.nkeys);
    else
        snprintf(err, errlen, "http.api: %s", ad_strerror(rc));
    ad_api_keys_free(keys);
    return rc;
}
