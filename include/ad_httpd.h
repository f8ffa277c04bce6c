/* ad_httpd.h - a small HTTP/1.1 server on the loop for /metrics, /healthz
 * and /readyz, built on the http-parser library (the parser Node.js used for
 * years). Every connection gets one request and a "Connection: close"
 * response. Requests are capped in size (AD_HTTPD_MAX_REQUEST), a client that
 * has not sent a whole request within AD_HTTPD_TIMEOUT_MS is dropped, and at
 * most AD_HTTPD_MAX_CONNS connections are open; so slow or malformed clients
 * cannot hold the loop or its memory. */
#ifndef AD_HTTPD_H
#define AD_HTTPD_H

#include <stddef.h>
#include <uv.h>

#include "ad_buf.h"

#define AD_HTTPD_MAX_REQUEST 8192
#define AD_HTTPD_TIMEOUT_MS  5000
#define AD_HTTPD_MAX_CONNS   64

struct ad_httpd;

/* Answers a GET for path (query string removed). Appends the body to out,
 * sets *content_type (static) and returns the status (200, 404, 503, ...).
 * Methods other than GET/HEAD on a known path are answered 405 by the
 * server itself (it asks the handler with method_ok false first: return 404
 * for unknown paths). */
typedef int (*ad_httpd_handler)(void *ud, const char *path, struct ad_buf *out,
                                const char **content_type);

/* Listens on "host:port" (IPv4 or [IPv6]). Returns 0, or AD_ECONFIG with
 * err for an unusable address, AD_EIO when it cannot bind. */
int ad_httpd_start(uv_loop_t *loop, const char *listen, ad_httpd_handler h, void *ud,
                   struct ad_httpd **out, char *err, size_t errlen);

/* The port actually bound (for ":0"). */
int ad_httpd_port(const struct ad_httpd *s);

/* Closes the listener and every connection; frees itself when closed. */
void ad_httpd_close(struct ad_httpd *s);

/* Parses "host:port" / "[v6]:port" into host and port. Returns 0 or AD_EINVAL. */
int ad_hostport_parse(const char *s, char *host, size_t hostlen, int *port);

#endif
