#include "ad_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad_buf.h"
#include "ad_err.h"
#include "ad_log.h"

#define HEADER_MAX 8192

struct ad_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    size_t in_flight;
    struct xfer *xfers;  /* in flight, for ad_http_close */
    size_t open_handles; /* timer + socket contexts being closed */
    bool closing;
};

/* One socket curl asked us to watch. */
struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct ad_http *h;
};

/* One request. */
struct xfer {
    struct xfer *prev, *next;
    struct ad_http *h;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    struct ad_buf resp;
    bool too_big;
    char retry_after[128];
    char x_error_code[128];
    bool has_retry_after, has_x_error;
    char errbuf[CURL_ERROR_SIZE];
    ad_http_cb cb;
    void *ud;
    uv_timer_t deadline; /* safety net: libcurl's own timeout may never fire */
};

static void maybe_free(struct ad_http *h)
{
    if (h->closing && h->open_handles == 0 && h->in_flight == 0) {
        curl_multi_cleanup(h->multi);
        free(h);
    }
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct ad_http *h = handle->data;
    h->open_handles--;
    maybe_free(h);
}

static void on_sock_closed(uv_handle_t *handle)
{
    struct sock_ctx *c = handle->data;
    struct ad_http *h = c->h;
    free(c);
    h->open_handles--;
    maybe_free(h);
}

static void on_deadline_closed(uv_handle_t *handle)
{
    struct xfer *x = handle->data;
    struct ad_http *h = x->h;
    free(x);
    h->open_handles--;
    maybe_free(h);
}

static void finish(struct xfer *x, CURLcode code);

/* Will the same request fail the same way next time? A URL curl cannot use,
 * a protocol it does not speak, a TLS handshake or certificate it rejects:
 * retrying only delays the error. Connection, DNS and timeout failures may
 * pass, so they are not in the list. */
static bool permanent_failure(CURLcode code)
{
    switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
        return true;
    default:
        return false;
    }
}

int ad_http_url_check(const char *url, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int rc = 0;

    if (!u) {
        snprintf(err, errlen, "out of memory");
        return AD_ENOMEM;
    }
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url ? url : "", 0);
    if (uc != CURLUE_OK) {
        snprintf(err, errlen, "not a valid URL: %s", curl_url_strerror(uc));
        rc = AD_ECONFIG;
        goto err;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(err, errlen, "not a valid URL: the scheme must be http or https");
        rc = AD_ECONFIG;
    }
err:
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

static void on_deadline(uv_timer_t *t)
{
    finish(t->data, CURLE_OPERATION_TIMEDOUT);
}

static void finish(struct xfer *x, CURLcode code)
{
    struct ad_http *h = x->h;
    struct ad_http_response r;
    long status = 0;
    double total = 0;

    memset(&r, 0, sizeof(r));
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
    if (code == CURLE_WRITE_ERROR && x->too_big) {
        r.transport_error = CURLE_FILESIZE_EXCEEDED;
        r.transport = AD_TRANSPORT_TRANSIENT;
        r.error = "response body too large";
    } else if (code != CURLE_OK) {
        r.transport_error = (int)code;
        r.transport = permanent_failure(code) ? AD_TRANSPORT_PERMANENT : AD_TRANSPORT_TRANSIENT;
        r.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
    } else {
        r.error = "";
        r.status = status;
    }
    r.body = x->resp.p ? x->resp.p : "";
    r.body_len = x->resp.len;
    r.retry_after = x->has_retry_after ? x->retry_after : NULL;
    r.x_error_code = x->has_x_error ? x->x_error_code : NULL;
    r.total_s = total;
    curl_multi_remove_handle(h->multi, x->easy);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    if (x->prev)
        x->prev->next = x->next;
    else
        h->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    h->in_flight--;
    x->cb(x->ud, &r);
    ad_buf_free(&x->resp);
    free(x->body);
    uv_timer_stop(&x->deadline);
    h->open_handles++;
    uv_close((uv_handle_t *)&x->deadline, on_deadline_closed); /* frees x */
}

static void check_multi_info(struct ad_http *h)
{
    CURLMsg *msg;
    int pending;
    while ((msg = curl_multi_info_read(h->multi, &pending))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x)
            finish(x, msg->data.result);
    }
    maybe_free(h);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock_ctx *c = p->data;
    struct ad_http *h = c->h;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(h->multi, c->fd, flags, &running);
    check_multi_info(h);
}

static int on_socket(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp)
{
    struct ad_http *h = userp;
    struct sock_ctx *c = socketp;
    (void)easy;
    if (action == CURL_POLL_REMOVE) {
        if (c) {
            uv_poll_stop(&c->poll);
            uv_close((uv_handle_t *)&c->poll, on_sock_closed);
            curl_multi_assign(h->multi, s, NULL);
        }
        return 0;
    }
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c || uv_poll_init_socket(h->loop, &c->poll, s) != 0) {
            free(c);
            return -1;
        }
        c->fd = s;
        c->h = h;
        c->poll.data = c;
        h->open_handles++;
        curl_multi_assign(h->multi, s, c);
    }
    int events = 0;
    if (action != CURL_POLL_IN)
        events |= UV_WRITABLE;
    if (action != CURL_POLL_OUT)
        events |= UV_READABLE;
    uv_poll_start(&c->poll, events, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    struct ad_http *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(h);
}

static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    struct ad_http *h = userp;
    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timer, timeout_ms ? (uint64_t)timeout_ms : 1, 0);
    return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    if (ad_buf_add(&x->resp, data, size * n) != 0) {
        x->too_big = true;
        return 0; /* aborts with CURLE_WRITE_ERROR */
    }
    return size * n;
}

static void header_value(const char *line, size_t len, size_t name_len, char *out, size_t cap,
                         bool *has)
{
    const char *v = line + name_len;
    size_t vl = len - name_len;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl >= cap)
        vl = cap - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
    *has = true;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    /* A new response (after a 100 Continue or a redirect) resets what we saw. */
    if (len > 5 && strncmp(data, "HTTP/", 5) == 0)
        x->has_retry_after = x->has_x_error = false;
    if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0)
        header_value(data, len, 12, x->retry_after, sizeof(x->retry_after), &x->has_retry_after);
    else if (len > 16 && strncasecmp(data, "x-ms-error-code:", 16) == 0)
        header_value(data, len, 16, x->x_error_code, sizeof(x->x_error_code), &x->has_x_error);
    return len;
}

int ad_http_new(uv_loop_t *loop, struct ad_http **out)
{
    static bool global_done;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return AD_EIO;
        global_done = true;
    }
    struct ad_http *h = calloc(1, sizeof(*h));
    if (!h)
        return AD_ENOMEM;
    h->loop = loop;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return AD_ENOMEM;
    }
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    h->open_handles = 1;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    /* Keep idle keep-alive connections: the default cache shrinks with the
     * number of transfers and closes connections after every quiet moment. */
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 64L);
    *out = h;
    return 0;
}

int ad_http_post(struct ad_http *h, const struct ad_http_request *req, ad_http_cb cb, void *ud)
{
    struct xfer *x;

    if (h->closing || !req->url || !cb)
        return AD_EINVAL;
    x = calloc(1, sizeof(*x));
    if (!x)
        return AD_ENOMEM;
    x->h = h;
    x->cb = cb;
    x->ud = ud;
    ad_buf_init(&x->resp, req->max_response ? req->max_response : 1024 * 1024);
    x->body = malloc(req->body_len + 1);
    x->easy = curl_easy_init();
    if (!x->body || !x->easy)
        goto fail;
    memcpy(x->body, req->body, req->body_len);
    x->body[req->body_len] = '\0';
    for (size_t i = 0; i < req->nheaders; i++) {
        struct curl_slist *n = curl_slist_append(x->headers, req->headers[i]);
        if (!n)
            goto fail;
        x->headers = n;
    }
    struct curl_slist *n = curl_slist_append(x->headers, "Expect:"); /* no 100-continue */
    if (!n)
        goto fail;
    x->headers = n;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 5000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 5000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "anomalyd/" AD_VERSION);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)(req->max_response ? req->max_response : 1024 * 1024));
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
        goto fail;
    x->next = h->xfers;
    if (h->xfers)
        h->xfers->prev = x;
    h->xfers = x;
    h->in_flight++;
    uv_timer_init(h->loop, &x->deadline);
    x->deadline.data = x;
    uv_update_time(h->loop);
    uv_timer_start(&x->deadline, on_deadline,
                   (uint64_t)(req->timeout_ms > 0 ? req->timeout_ms : 5000L) + 100, 0);
    return 0;
fail:
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    ad_buf_free(&x->resp);
    free(x);
    return AD_ENOMEM;
}

size_t ad_http_in_flight(const struct ad_http *h)
{
    return h->in_flight;
}

void ad_http_close(struct ad_http *h)
{
    if (!h || h->closing)
        return;
    h->closing = true;
    /* Abort what is in flight: each callback runs with a transport error. */
    while (h->xfers)
        finish(h->xfers, CURLE_ABORTED_BY_CALLBACK);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, on_handle_closed);
}
