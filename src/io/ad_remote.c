/* ad_remote.c - the Anomaly Detector client on the loop (see
 * include/ad_remote.h and docs/remote.md): the wire format is ad_azure.c's,
 * the retry rules and the circuit breaker ad_retry.c's; this is the queue,
 * the timers and the bookkeeping. */
#include "ad_remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_alert.h"
#include "ad_azure.h"
#include "ad_buf.h"
#include "ad_clock.h"
#include "ad_err.h"
#include "ad_log.h"
#include "ad_retry.h"
#include "ad_secret.h"
#include "ad_uvad_api.h"

#define BODY_MAX     (2 * 1024 * 1024)
#define RESPONSE_MAX (1024 * 1024)
#define WARN_BURST   5     /* warnings logged per window ... */
#define WARN_WINDOW  60000 /* ... of this many ms; the rest are counted */

/* How a job was answered: the alert's remote.status. */
enum status {
    ST_OK = 0,
    ST_SKIPPED,
    ST_UNAVAILABLE,
    ST_TIMEOUT,
    ST_REJECTED,
    ST_BREAKER_OPEN,
    ST_OVERLOADED,
};
static const char *const status_names[] = {"ok",       "skipped",      "unavailable", "timeout",
                                           "rejected", "breaker_open", "overloaded"};

const double ad_remote_latency_bounds_ms[12] = {5,   10,   25,   50,   100,   250,
                                                500, 1000, 2500, 5000, 10000, 1e300};

/* One job on its way: queued, in flight, or waiting to retry. */
struct req {
    struct req *next, *prev;
    struct ad_remote *r;
    struct ad_remote_job *job;
    uv_timer_t timer; /* retry delay; closed with the request */
    bool timer_init, in_flight, waiting;
    unsigned attempt;
    uint64_t start_ms;
    size_t npoints;
    struct ad_buf body;
};

struct ad_remote {
    uv_loop_t *loop;
    struct ad_http *http;
    const struct ad_config *cfg;
    ad_remote_done_cb cb;
    void *ud;
    struct ad_azure_cfg det;
    struct ad_buf url;
    bool local;          /* endpoint "local": the handler on the pool, no HTTP */
    char local_path[96]; /* the URL's path, for the handler */
    char key_header[sizeof("Ocp-Apim-Subscription-Key: ") + AD_CONFIG_MAX_REMOTE_KEY];
    struct ad_retry_breaker breaker;
    struct ad_retry_policy retry;
    struct req *queue_head, *queue_tail; /* waiting for a slot, in order */
    struct req *active;                  /* in flight or waiting to retry */
    size_t in_flight, queued, open_timers;
    bool closing;
    struct ad_remote_stats st;
    struct ad_log_limit warn_limit; /* WARN_BURST warnings per WARN_WINDOW ms */
};

/* May a warning be logged now? WARN_BURST per WARN_WINDOW ms; the ones left
 * out are summed up in one line when the next window opens. */
static bool warn_allowed(struct ad_remote *r)
{
    int64_t now = (int64_t)uv_now(r->loop), opened = r->warn_limit.window_ms;
    uint64_t left;
    if (!ad_log_limit_allow(&r->warn_limit, now, WARN_BURST, WARN_WINDOW, &left))
        return false;
    if (left)
        AD_WARN("remote", "%llu further remote warnings left out in the last %u s",
                (unsigned long long)left, (unsigned)((now - opened) / 1000));
    if (r->warn_limit.logged == WARN_BURST)
        AD_WARN("remote", "further remote warnings are summarized every minute");
    return true;
}

static void maybe_free(struct ad_remote *r)
{
    if (r->closing && r->open_timers == 0 && !r->active && !r->queue_head) {
        ad_buf_free(&r->url);
        free(r);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    struct req *q = h->data;
    struct ad_remote *r = q->r;
    ad_buf_free(&q->body);
    free(q);
    r->open_timers--;
    maybe_free(r);
}

static void unlink_active(struct ad_remote *r, struct req *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else if (r->active == q)
        r->active = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->next = q->prev = NULL;
}

static void start_next(struct ad_remote *r);

/* The counter of a status in the stats. */
static uint64_t *status_count(struct ad_remote *r, enum status st)
{
    uint64_t *const counts[] = {&r->st.ok,        &r->st.skipped,  &r->st.unavailable,
                                &r->st.timeout,   &r->st.rejected, &r->st.breaker_open,
                                &r->st.overloaded};
    return counts[st];
}

/* Answers q's job and frees q (the timer first, if it has one). */
static void answer(struct ad_remote *r, struct req *q, const struct ad_azure_verdict *v,
                   enum status st, const char *detail)
{
    char json[1024];
    struct ad_buf b;
    struct ad_remote_outcome o = {.verdict = v};

    ad_buf_init(&b, sizeof(json));
    if (ad_alert_remote_json(&b, v, status_names[st], detail) != 0) {
        ad_buf_reset(&b);
        ad_alert_remote_json(&b, NULL, status_names[st], NULL);
    }
    snprintf(json, sizeof(json), "%s", b.p ? b.p : "");
    ad_buf_free(&b);
    o.json = json;
    o.json_len = strlen(json);
    (*status_count(r, st))++;
    struct ad_remote_job *job = q->job;
    unlink_active(r, q);
    if (q->timer_init) {
        uv_timer_stop(&q->timer);
        uv_close((uv_handle_t *)&q->timer, on_timer_closed);
    } else {
        ad_buf_free(&q->body);
        free(q);
    }
    r->cb(r->ud, job, &o);
}

static void on_response(void *ud, const struct ad_http_response *resp);

/* endpoint "local": the request body goes to the REST handler itself on the
 * thread pool, and its answer comes back as if over HTTP, so that both paths
 * share the verdict parsing, the retry rules and the bookkeeping. */
struct local_call {
    uv_work_t w;
    struct req *q;
    struct ad_uv_http_request hr;
    struct ad_uv_response res;
    struct ad_buf out;
    int rc;
    uint64_t start_ms;
};

static void local_work(uv_work_t *w)
{
    struct local_call *lc = w->data;
    lc->rc = ad_uv_api_handle(&lc->hr, &lc->out, &lc->res);
}

static void local_done(uv_work_t *w, int status)
{
    struct local_call *lc = w->data;
    struct ad_remote *r = lc->q->r;
    struct ad_http_response resp = {.error = "", .body = "", .x_error_code = NULL};
    uv_update_time(r->loop);
    resp.total_s = (double)(uv_now(r->loop) - lc->start_ms) / 1000.0;
    if (status != 0 || lc->rc != 0) {
        resp.status = 500;
    } else {
        resp.status = lc->res.status;
        resp.body = lc->out.p ? lc->out.p : "";
        resp.body_len = lc->out.len;
        if (lc->res.error_code[0])
            resp.x_error_code = lc->res.error_code;
    }
    on_response(lc->q, &resp);
    ad_buf_free(&lc->out);
    free(lc);
}

/* Starts q on the pool; 0 or AD_ENOMEM/AD_EIO. */
static int local_post(struct ad_remote *r, struct req *q)
{
    struct local_call *lc = calloc(1, sizeof(*lc));
    if (!lc)
        return AD_ENOMEM;
    lc->q = q;
    lc->w.data = lc;
    lc->hr.method = "POST";
    lc->hr.path = r->local_path;
    lc->hr.path_len = strlen(r->local_path);
    lc->hr.body = q->body.p;
    lc->hr.body_len = q->body.len;
    lc->start_ms = uv_now(r->loop);
    ad_buf_init(&lc->out, RESPONSE_MAX);
    if (uv_queue_work(r->loop, &lc->w, local_work, local_done) != 0) {
        free(lc);
        return AD_EIO;
    }
    return 0;
}

static void attempt(struct ad_remote *r, struct req *q)
{
    const char *headers[2] = {"Content-Type: application/json", r->key_header};
    struct ad_http_request hr = {
        .url = r->url.p,
        .headers = headers,
        .nheaders = r->key_header[0] ? 2 : 1,
        .body = q->body.p,
        .body_len = q->body.len,
        .timeout_ms = (long)(r->cfg->remote.timeout_us / 1000),
        .max_response = RESPONSE_MAX,
    };
    uint64_t now = uv_now(r->loop);
    uint64_t left = q->start_ms + (uint64_t)(r->cfg->remote.budget_us / 1000) - now;
    if ((int64_t)left <= 0) {
        /* The budget ran out while the job waited for a slot: no request, and
         * no failure for the breaker (the server was never asked). */
        answer(r, q, NULL, ST_TIMEOUT, "budget exhausted before the request could start");
        return;
    }
    if ((long)left < hr.timeout_ms)
        hr.timeout_ms = (long)left > 0 ? (long)left : 1;
    if (!ad_retry_breaker_allow(&r->breaker, (int64_t)now)) {
        answer(r, q, NULL, ST_BREAKER_OPEN, NULL);
        return;
    }
    q->waiting = false;
    q->in_flight = true;
    r->in_flight++;
    r->st.requests++;
    if ((r->local ? local_post(r, q) : ad_http_post(r->http, &hr, on_response, q)) != 0) {
        q->in_flight = false;
        r->in_flight--;
        ad_retry_breaker_record(&r->breaker, false, (int64_t)now);
        answer(r, q, NULL, ST_UNAVAILABLE, "could not start the request");
    }
}

/* A retry is due: it needs a free slot like any request. Without one it
 * goes back to the front of the queue (ahead of jobs that never had a try)
 * and start_next() sends it when a slot frees up. */
static void on_retry_timer(uv_timer_t *t)
{
    struct req *q = t->data;
    struct ad_remote *r = q->r;
    if (r->in_flight < (size_t)r->cfg->remote.max_in_flight) {
        attempt(r, q);
        return;
    }
    unlink_active(r, q);
    q->next = r->queue_head;
    r->queue_head = q;
    if (!r->queue_tail)
        r->queue_tail = q;
    r->queued++;
}

static void record_latency(struct ad_remote *r, double secs)
{
    double ms = secs * 1000;
    for (int i = 0; i < 12; i++)
        if (ms <= ad_remote_latency_bounds_ms[i]) {
            r->st.latency_le_ms[i]++;
            break;
        }
    r->st.latency_sum_s += secs;
}

static void on_response(void *ud, const struct ad_http_response *resp)
{
    struct req *q = ud;
    struct ad_remote *r = q->r;
    uv_update_time(r->loop); /* the loop's cached time may lag: retries wait from now */
    uint64_t now = uv_now(r->loop);
    bool transport = resp->transport_error != 0;
    enum ad_retry_class cls = ad_retry_classify(resp->status, resp->transport);
    char err[256], detail[128];

    q->in_flight = false;
    r->in_flight--;
    record_latency(r, resp->total_s);
    if (r->closing) {
        answer(r, q, NULL, ST_UNAVAILABLE, "shutdown");
        maybe_free(r);
        return;
    }
    if (cls == AD_RETRY_OK) {
        struct ad_azure_verdict v;
        int rc = r->cfg->remote.entire
                     ? ad_azure_parse_entire_last(resp->body, resp->body_len, q->npoints, &v, err,
                                                  sizeof(err))
                     : ad_azure_parse_last(resp->body, resp->body_len, &v, err, sizeof(err));
        if (rc == 0) {
            ad_retry_breaker_record(&r->breaker, true, (int64_t)now);
            answer(r, q, &v, ST_OK, NULL);
            start_next(r);
            return;
        }
        if (warn_allowed(r))
            AD_WARN("remote", "while reading a verdict: %s", err);
        cls = AD_RETRY_AGAIN; /* a 200 we cannot read: the server misbehaves */
        snprintf(detail, sizeof(detail), "malformed response");
    } else if (transport && cls == AD_RETRY_FAIL) {
        /* A TLS or certificate failure: the same request would fail the same
         * way, so it is not retried; the breaker counts it (the endpoint is
         * unusable) so that jobs stop trying it for a while. */
        snprintf(detail, sizeof(detail), "%s", resp->error);
        ad_secret_scrub_url(detail, sizeof(detail), r->cfg->remote.endpoint);
        ad_retry_breaker_record(&r->breaker, false, (int64_t)now);
        if (warn_allowed(r))
            AD_WARN("remote", "request failed, not retried: %s", detail);
        answer(r, q, NULL, ST_UNAVAILABLE, detail);
        start_next(r);
        return;
    } else if (cls == AD_RETRY_FAIL) {
        /* The server answered: it is up, the request is wrong. Never retried. */
        struct ad_azure_error e;
        ad_azure_parse_error(resp->body, resp->body_len, resp->x_error_code, &e);
        ad_retry_breaker_record(&r->breaker, true, (int64_t)now);
        snprintf(detail, sizeof(detail), "%ld %s", resp->status, e.code[0] ? e.code : "error");
        if (warn_allowed(r))
            AD_WARN("remote", "request rejected: HTTP %ld code=%s message=%s", resp->status, e.code,
                    e.message);
        answer(r, q, NULL, ST_REJECTED, detail);
        start_next(r);
        return;
    } else if (transport) {
        snprintf(detail, sizeof(detail), "%s", resp->error);
        ad_secret_scrub_url(detail, sizeof(detail), r->cfg->remote.endpoint);
    } else {
        snprintf(detail, sizeof(detail), "HTTP %ld", resp->status);
    }
    ad_retry_breaker_record(&r->breaker, false, (int64_t)now);

    /* Retry, if the budget allows it. */
    int64_t delay = ad_retry_delay_ms(&r->retry, q->attempt, resp->retry_after, resp->body,
                                      resp->body_len, ad_clock_wall_us() / 1000000);
    uint64_t deadline = q->start_ms + (uint64_t)(r->cfg->remote.budget_us / 1000);
    if (q->attempt < (unsigned)r->cfg->remote.retries && now + (uint64_t)delay < deadline) {
        q->attempt++;
        q->waiting = true;
        r->st.retries++;
        if (!q->timer_init) {
            uv_timer_init(r->loop, &q->timer);
            q->timer.data = q;
            q->timer_init = true;
            r->open_timers++;
        }
        uv_timer_start(&q->timer, on_retry_timer, (uint64_t)delay, 0);
    } else {
        bool timed_out = transport && resp->transport_error == 28; /* CURLE_OPERATION_TIMEDOUT */
        answer(r, q, NULL, timed_out ? ST_TIMEOUT : ST_UNAVAILABLE, detail);
    }
    start_next(r);
}

/* Starts queued requests while there are free slots. */
static void start_next(struct ad_remote *r)
{
    while (!r->closing && r->queue_head && r->in_flight < (size_t)r->cfg->remote.max_in_flight) {
        struct req *q = r->queue_head;
        r->queue_head = q->next;
        if (!r->queue_head)
            r->queue_tail = NULL;
        r->queued--;
        q->next = r->active;
        q->prev = NULL;
        if (r->active)
            r->active->prev = q;
        r->active = q;
        attempt(r, q);
    }
}

int ad_remote_endpoint_check(const char *endpoint, char *err, size_t errlen)
{
    char why[256];
    if (strcmp(endpoint, "local") == 0 || ad_http_url_check(endpoint, why, sizeof(why)) == 0)
        return 0;
    snprintf(err, errlen, "remote.anomaly_detector.endpoint: %s", why);
    return AD_ECONFIG;
}

int ad_remote_new(const struct ad_remote_opts *o, struct ad_remote **out, char *err, size_t errlen)
{
    uv_loop_t *loop = o->loop;
    struct ad_http *http = o->http;
    const struct ad_config *cfg = o->cfg;
    ad_remote_done_cb cb = o->cb;
    void *ud = o->ud;
    struct ad_remote *r = calloc(1, sizeof(*r));
    int64_t ci;

    if (!r)
        return AD_ENOMEM;
    r->loop = loop;
    r->http = http;
    r->cfg = cfg;
    r->cb = cb;
    r->ud = ud;
    r->det.api_version = ad_azure_api_version(cfg->remote.api_version);
    r->det.granularity = cfg->remote.granularity;
    r->det.interval_us = cfg->windows.tumbling_size_us;
    r->det.sensitivity = (int)cfg->remote.sensitivity;
    r->det.max_anomaly_ratio = cfg->remote.max_anomaly_ratio;
    r->det.period = (int)cfg->remote.period;
    r->det.min_points = (int)cfg->remote.min_points;
    if (r->det.api_version < 0 ||
        ad_azure_custom_interval(cfg->remote.granularity, r->det.interval_us, &ci) != 0) {
        snprintf(err, errlen,
                 "remote.anomaly_detector: windows.tumbling.size is not a whole multiple of "
                 "the %s granularity",
                 cfg->remote.granularity);
        free(r);
        return AD_ECONFIG;
    }
    r->local = strcmp(cfg->remote.endpoint, "local") == 0;
    if (ad_remote_endpoint_check(cfg->remote.endpoint, err, errlen) != 0) {
        free(r);
        return AD_ECONFIG;
    }
    ad_buf_init(&r->url, 4096);
    if (ad_azure_url(r->local ? "http://local" : cfg->remote.endpoint, r->det.api_version,
                     cfg->remote.entire, &r->url) != 0) {
        snprintf(err, errlen, "remote.anomaly_detector.endpoint: not usable");
        ad_buf_free(&r->url);
        free(r);
        return AD_ECONFIG;
    }
    if (r->local)
        snprintf(r->local_path, sizeof(r->local_path), "%s", r->url.p + strlen("http://local"));
    else if (cfg->remote.key[0])
        snprintf(r->key_header, sizeof(r->key_header), "Ocp-Apim-Subscription-Key: %s",
                 cfg->remote.key);
    ad_retry_breaker_init(&r->breaker, (unsigned)cfg->remote.breaker_threshold,
                          cfg->remote.breaker_cooldown_us / 1000);
    ad_retry_policy_init(&r->retry, AD_RETRY_BASE_MS, AD_RETRY_CAP_MS,
                         (uint64_t)ad_clock_wall_us() ^ (uint64_t)(uintptr_t)r);
    *out = r;
    return 0;
}

void ad_remote_submit(struct ad_remote *r, struct ad_remote_job *job)
{
    struct req *q = calloc(1, sizeof(*q));
    size_t sent = 0;

    if (!q) {
        struct ad_remote_outcome o = {.json = "\"remote\":{\"status\":\"unavailable\"}"};
        o.json_len = strlen(o.json);
        r->st.unavailable++;
        r->cb(r->ud, job, &o);
        return;
    }
    q->r = r;
    q->job = job;
    uv_update_time(r->loop);
    q->start_ms = uv_now(r->loop);
    ad_buf_init(&q->body, BODY_MAX);
    struct ad_azure_point *pts = malloc((job->n_points ? job->n_points : 1) * sizeof(*pts));
    int rc = pts ? 0 : AD_ENOMEM;
    for (size_t i = 0; pts && i < job->n_points; i++) {
        pts[i].t_us = job->points[i].t_us;
        pts[i].v = job->points[i].v;
    }
    if (rc == 0)
        rc = r->closing ? AD_ESTATE
                        : ad_azure_build_request(&r->det, pts, job->n_points, &q->body, &sent);
    free(pts);
    q->npoints = sent;
    if (rc == AD_ERANGE) {
        answer(r, q, NULL, ST_SKIPPED, "too few points");
        return;
    }
    if (rc) {
        answer(r, q, NULL, ST_UNAVAILABLE, r->closing ? "shutdown" : "request not built");
        return;
    }
    if (r->queued >= 64 * (size_t)r->cfg->remote.max_in_flight) {
        answer(r, q, NULL, ST_OVERLOADED, NULL);
        return;
    }
    q->next = NULL;
    if (r->queue_tail)
        r->queue_tail->next = q;
    else
        r->queue_head = q;
    r->queue_tail = q;
    r->queued++;
    start_next(r);
}

size_t ad_remote_pending(const struct ad_remote *r)
{
    size_t n = r->queued;
    for (const struct req *q = r->active; q; q = q->next)
        n++;
    return n;
}

void ad_remote_stats(const struct ad_remote *r, struct ad_remote_stats *out)
{
    *out = r->st;
    out->in_flight = r->in_flight;
    out->queued = r->queued;
    out->breaker_state = r->breaker.state;
}

void ad_remote_close(struct ad_remote *r)
{
    if (!r || r->closing)
        return;
    r->closing = true;
    while (r->queue_head) {
        struct req *q = r->queue_head;
        r->queue_head = q->next;
        r->queued--;
        q->next = NULL;
        answer(r, q, NULL, ST_UNAVAILABLE, "shutdown");
    }
    r->queue_tail = NULL;
    /* Waiting to retry: answer now. In flight: answered when the HTTP client
     * aborts or completes them (on_response sees closing). */
    struct req *q = r->active, *next;
    for (; q; q = next) {
        next = q->next;
        if (!q->in_flight)
            answer(r, q, NULL, ST_UNAVAILABLE, "shutdown");
    }
    maybe_free(r);
}
