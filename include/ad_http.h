/* ad_http.h - HTTP client requests on the libuv loop through one libcurl
 * multi handle (curl's docs/examples/multi-uv.c pattern:
 * CURLMOPT_SOCKETFUNCTION -> uv_poll_start, CURLMOPT_TIMERFUNCTION ->
 * uv_timer_start, curl_multi_socket_action, curl_multi_info_read).
 * Shared by every HTTP client of the daemon; TLS verification on; connections
 * reused. A request never blocks the loop; its callback runs exactly once
 * (unless ad_http_post fails, in which case it never runs). */
#ifndef AD_HTTP_H
#define AD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ad_retry.h"

struct ad_http;

struct ad_http_request {
    const char *url;
    const char *const *headers; /* "Name: value" lines */
    size_t nheaders;
    const char *body; /* copied */
    size_t body_len;
    long timeout_ms;     /* whole request */
    size_t max_response; /* body bytes kept at most; more is a failure */
};

struct ad_http_response {
    int transport_error;               /* 0, or a CURLcode: no HTTP status then */
    enum ad_retry_transport transport; /* OK, or whether the failure will recur
                                        * on a retry (PERMANENT: a malformed URL,
                                        * an unsupported protocol, a TLS or
                                        * certificate failure): what
                                        * ad_retry_classify() takes */
    const char *error;                 /* text of the transport error, or "" */
    long status;                       /* HTTP status, 0 when the transport failed */
    const char *body;                  /* borrowed for the callback; NUL-terminated */
    size_t body_len;
    const char *retry_after;  /* the Retry-After header, or NULL */
    const char *x_error_code; /* the x-ms-error-code header, or NULL */
    double total_s;           /* request duration */
};

typedef void (*ad_http_cb)(void *ud, const struct ad_http_response *r);

/* Checks that url is one ad_http_post() can use: libcurl's URL parser
 * accepts it (host, port in range, no stray spaces) and its scheme is http or
 * https. Returns 0, or AD_ECONFIG with the reason in err (AD_ENOMEM). The
 * webhook and remote clients call it when they start, so a bad URL is a
 * config error (exit 78) rather than a request retried forever. */
int ad_http_url_check(const char *url, char *err, size_t errlen);

/* Returns 0 and an owned client, or AD_ENOMEM/AD_EIO. */
int ad_http_new(uv_loop_t *loop, struct ad_http **out);

/* Starts a POST. Returns 0 (cb will run once) or AD_ENOMEM/AD_EINVAL. */
int ad_http_post(struct ad_http *h, const struct ad_http_request *req, ad_http_cb cb, void *ud);

/* Requests in flight. */
size_t ad_http_in_flight(const struct ad_http *h);

/* Aborts every request (their callbacks run with transport_error set),
 * closes the handles; when the last one is closed, the client frees itself. */
void ad_http_close(struct ad_http *h);

#endif
