/* ad_httpd.h - a small HTTP/1.1 server on the loop for /metrics, /healthz
 * and /readyz, built on the http-parser library (the parser Node.js used for
 * years). Every connection gets one request and a "Connection: close"
 * response. Request lines and headers are capped in size
 * (AD_HTTPD_MAX_REQUEST), as are bodies (that much for the GET handler, the
 * mount's max_body under a mounted prefix); a client that has not sent its
 * headers within AD_HTTPD_HEADER_TIMEOUT_MS is dropped, the rest of an
 * unmounted request must follow within AD_HTTPD_TIMEOUT_MS, a mounted
 * request's body within AD_HTTPD_BODY_TIMEOUT_MS, and at most
 * AD_HTTPD_MAX_CONNS connections (or the mount's max_conns) are open; so
 * slow or malformed clients cannot hold the loop or its memory.
 *
 * Health checks cannot be starved by clients holding every slot (a
 * slowloris): once the slots are taken, up to AD_HTTPD_TRIAGE_CONNS more
 * connections are taken in and must name their target within
 * AD_HTTPD_TRIAGE_MS; one for /healthz, /readyz or /metrics gets one of
 * AD_HTTPD_HEALTH_CONNS slots that only those paths may use, any other is
 * closed at once.
 *
 * A mount (ad_httpd_mount) takes every method under a path prefix and answers
 * later (the REST API computes on the thread pool): the exchange stays valid
 * until ad_httpd_reply(), even when the client goes away meanwhile; the reply
 * to a client that left is dropped. */
#ifndef AD_HTTPD_H
#define AD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "ad_buf.h"

#define AD_HTTPD_MAX_REQUEST       8192
#define AD_HTTPD_HEADER_TIMEOUT_MS 1000 /* request line and headers */
#define AD_HTTPD_TIMEOUT_MS        5000 /* an unmounted request's body, after its headers */
#define AD_HTTPD_MAX_CONNS         64
#define AD_HTTPD_BODY_TIMEOUT_MS   30000
#define AD_HTTPD_HEALTH_CONNS      16  /* slots only /healthz, /readyz, /metrics may use */
#define AD_HTTPD_TRIAGE_CONNS      64  /* past every slot: connections yet to name their target */
#define AD_HTTPD_TRIAGE_MS         500 /* ... and how long they have to */

struct ad_httpd;

/* Answers a GET for path (query string removed). Appends the body to out,
 * sets *content_type (static) and returns the status (200, 404, 503, ...).
 * Methods other than GET/HEAD on a known path are answered 405 by the
 * server itself (it asks the handler with method_ok false first: return 404
 * for unknown paths). */
typedef int (*ad_httpd_handler)(void *ud, const char *path, struct ad_buf *out,
                                const char **content_type);

/* Where and how a server listens: "host:port" (IPv4 or [IPv6]) on loop, GET
 * requests answered by handler(ud, ...). All borrowed for the call only
 * (listen) or for the server's life (loop, ud). */
struct ad_httpd_opts {
    uv_loop_t *loop;
    const char *listen;
    ad_httpd_handler handler;
    void *ud;
};

/* Starts a server into *out. Returns 0, or AD_ECONFIG with err for an
 * unusable address, AD_EIO when it cannot bind. */
int ad_httpd_start(const struct ad_httpd_opts *o, struct ad_httpd **out, char *err, size_t errlen);

/* The port actually bound (for ":0"). */
int ad_httpd_port(const struct ad_httpd *s);

/* One request under a mounted prefix, owned by the server until answered. */
struct ad_httpd_exchange;

struct ad_httpd_mount {
    const char *prefix;  /* copied; e.g. "/anomalydetector/" */
    size_t max_body;     /* larger bodies get 413 (decided from Content-Length when given) */
    unsigned max_conns;  /* open connections allowed once mounted (>= AD_HTTPD_MAX_CONNS) */
    size_t max_buffered; /* request body bytes held by all connections together; beyond:
                            503 with Retry-After (0: no bound) */
    /* Called on the loop with a whole request; must lead to exactly one
     * ad_httpd_reply(x, ...), now or later on the loop. */
    void (*handle)(void *ud, struct ad_httpd_exchange *x);
    /* Called once from ad_httpd_close() (NULL: not needed): the mount may
     * release itself once the exchanges it holds are answered. */
    void (*close)(void *ud);
    /* Called on the loop (NULL: not needed) when the server itself answers a
     * request under the mount with 413 (body over max_body) or 503 (bodies
     * over max_buffered): the mount's handle never sees those requests.
     * path (path_len bytes) is the request's target, borrowed for the call. */
    void (*rejected)(void *ud, int status, const char *path, size_t path_len);
    void *ud;
};

/* Mounts m on s (one mount per server; a second replaces the first). Returns
 * 0 or AD_ENOMEM. */
int ad_httpd_mount(struct ad_httpd *s, const struct ad_httpd_mount *m);

/* The request, borrowed until the reply: method ("POST"), path with its query
 * string (path_len bytes, NUL-terminated), body (not NUL-terminated), the value
 * of a header (case-insensitive name; NULL when absent; the last one wins),
 * the client's address ("127.0.0.1", "::1"). */
const char *ad_httpd_x_method(const struct ad_httpd_exchange *x);
const char *ad_httpd_x_path(const struct ad_httpd_exchange *x, size_t *path_len);
const char *ad_httpd_x_body(const struct ad_httpd_exchange *x, size_t *len);
const char *ad_httpd_x_header(const struct ad_httpd_exchange *x, const char *name);
const char *ad_httpd_x_peer(const struct ad_httpd_exchange *x);

/* The response to x; x is invalid afterwards. headers (NULL: none) are extra
 * "Name: value\r\n" lines; body is copied. Returns 0, or AD_ESTATE when the
 * client had left (it gets nothing). */
int ad_httpd_reply(struct ad_httpd_exchange *x, int status, const char *headers, const char *ctype,
                   const char *body, size_t len);

/* ---- pages and streams (the dashboard) -------------------------------------------------
 * A pages hook, when set, is offered every request outside the mount before
 * the GET handler: it sees the query string, may add header lines, or may turn
 * the request into a stream (server-sent events): the response then has no
 * length, the connection stays open and the hook's owner writes to it until
 * either side closes. Stream connections do not count against the
 * connection cap (the owner bounds them), and each has an output queue
 * bounded in bytes: a write past it drops the client. */
struct ad_httpd_get {
    const char *path;  /* without the query string */
    const char *query; /* after '?', "" when none */
    bool method_ok;    /* GET or HEAD; false: only say whether path exists
                          (return 404 or not: the server answers 405) */
    bool head;
    struct ad_buf *out;          /* the body */
    const char *ctype;           /* set by the hook (static); defaults to text/plain */
    const char *headers;         /* extra "Name: value\r\n" lines, static (NULL: none) */
    struct ad_httpd_exchange *x; /* for ad_httpd_stream_open() */
};

/* Returns the status, or 404 to leave the request to the GET handler. */
typedef int (*ad_httpd_pages_fn)(void *ud, struct ad_httpd_get *g);

/* Sets s's pages hook (NULL: none); ud borrowed for the server's life. */
void ad_httpd_set_pages(struct ad_httpd *s, ad_httpd_pages_fn fn, void *ud);

struct ad_httpd_stream;

struct ad_httpd_stream_opts {
    const char *ctype;   /* e.g. "text/event-stream" */
    const char *headers; /* extra header lines (NULL: none) */
    size_t max_queued;   /* bytes written but not yet taken by the socket */
    size_t sndbuf;       /* the socket's send buffer (0: the system's) */
    /* Called once when the stream ends for any reason (the client left, a
     * write over max_queued, ad_httpd_stream_close(), the server closing);
     * the stream is invalid from then on. */
    void (*closed)(void *ud, struct ad_httpd_stream *st);
    void *ud;
};

/* From a pages hook (g as it got it, method_ok and not head): sends the
 * header and returns the stream, or NULL (out of memory, the client left;
 * then answer as usual). After a stream is opened the hook's return value is
 * ignored. */
struct ad_httpd_stream *ad_httpd_stream_open(struct ad_httpd_get *g,
                                             const struct ad_httpd_stream_opts *o);

/* Queues len bytes (copied). Returns 0, or AD_ELIMIT when the queue would
 * pass max_queued (the client is dropped: closed() runs before this returns),
 * AD_ENOMEM (the same), AD_ESTATE (already closing). */
int ad_httpd_stream_write(struct ad_httpd_stream *st, const char *p, size_t len);

/* Bytes queued on st now. */
size_t ad_httpd_stream_queued(const struct ad_httpd_stream *st);

/* Ends the stream (closed() runs before this returns). */
void ad_httpd_stream_close(struct ad_httpd_stream *st);

/* Closes the listener and every connection; frees itself when closed. */
void ad_httpd_close(struct ad_httpd *s);

/* Parses "host:port" / "[v6]:port" into host and port. Returns 0 or AD_EINVAL. */
int ad_hostport_parse(const char *s, char *host, size_t hostlen, int *port);

/* http.listen as the listener binds it: HOST:PORT with a numeric address,
 * into *addr (the caller's). Returns 0 or AD_ECONFIG with the reason in err.
 * ad_httpd_start() and --check-config both use it. */
int ad_httpd_listen_addr(const char *listen, struct sockaddr_storage *addr, char *err,
                         size_t errlen);

#endif
