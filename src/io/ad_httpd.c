#include "ad_httpd.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad_err.h"
#include "ad_log.h"

#define READ_CHUNK (16 * 1024)
#define LINGER_MS  2000 /* reading what an early-answered client still sends */

struct ad_httpd {
    uv_loop_t *loop;
    uv_tcp_t listener;
    ad_httpd_handler handler;
    void *ud;
    struct ad_httpd_exchange *conns;
    size_t nconns;
    size_t ntriage, nhealth; /* of nconns: past every slot (see enum slot) */
    int port;
    bool closing;
    unsigned open_handles;
    struct ad_httpd_mount mount; /* handle == NULL: none */
    size_t buffered;             /* request body bytes held by all connections */
    char *prefix;                /* the mount's, owned */
    ad_httpd_pages_fn pages;     /* NULL: none */
    void *pages_ud;
    size_t nstreams; /* stream connections (not in nconns) */
};

/* Which slot a connection holds: a regular one, or, taken in when every
 * regular one was held, triage (until its target is known) then health. */
enum slot { SLOT_REGULAR = 0, SLOT_TRIAGE, SLOT_HEALTH };

/* A connection; for a mounted request also the exchange handed out. */
struct ad_httpd_exchange {
    struct ad_httpd_exchange *next, *prev;
    struct ad_httpd *s;
    uv_tcp_t tcp;
    uv_timer_t timer;
    http_parser parser;
    char rbuf[READ_CHUNK];
    size_t head_bytes; /* bytes received before the headers were complete */
    char url[4096];    /* the request target (the dashboard's series view takes a key) */
    size_t url_len;
    char hdr[AD_HTTPD_MAX_REQUEST]; /* "name\0value\0" pairs */
    size_t hdr_len;
    bool in_value;
    struct ad_buf body;
    char peer[64];
    char method[16];
    bool url_too_long, hdr_too_large, body_too_large, busy, headers_done, mounted, complete;
    bool responded, pending, gone;
    bool url_done; /* the request target is complete */
    enum slot slot;
    int handles; /* open: tcp, timer */
    uv_write_t wr;
    uv_shutdown_t sd;
    struct ad_buf resp;
    /* a stream (ad_httpd_stream_open) */
    bool streaming;
    size_t max_queued;
    void (*st_closed)(void *ud, struct ad_httpd_stream *st);
    void *st_ud;
};
typedef struct ad_httpd_exchange conn_t;

static void maybe_free(struct ad_httpd *s)
{
    if (s->closing && s->open_handles == 0 && s->nconns == 0 && s->nstreams == 0) {
        free(s->prefix);
        free(s);
    }
}

static void conn_free(conn_t *c)
{
    struct ad_httpd *s = c->s;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->streaming) {
        s->nstreams--;
    } else {
        s->nconns--;
        s->ntriage -= c->slot == SLOT_TRIAGE;
        s->nhealth -= c->slot == SLOT_HEALTH;
    }
    s->buffered -= c->body.len;
    ad_buf_free(&c->resp);
    ad_buf_free(&c->body);
    free(c);
    maybe_free(s);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->handles > 0)
        return;
    if (c->pending) {
        c->gone = true; /* the mount still holds it: freed by ad_httpd_reply */
        return;
    }
    conn_free(c);
}

static void conn_close(conn_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
        uv_timer_stop(&c->timer);
        uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
    }
    if (c->st_closed) { /* a stream's owner hears of it once */
        void (*cb)(void *, struct ad_httpd_stream *) = c->st_closed;
        c->st_closed = NULL;
        cb(c->st_ud, (struct ad_httpd_stream *)c);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void on_linger_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *sd, int status)
{
    (void)sd;
    (void)status;
}

/* Answered before the whole request was in (413, 431, 400): closing now,
 * with unread bytes, would reset the connection and could lose the answer
 * at the client. So: no more writes, read and discard until the client is
 * done or LINGER_MS pass, then close. */
static void linger(conn_t *c)
{
    c->sd.data = c;
    if (uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0);
}

static void on_written(uv_write_t *w, int status)
{
    conn_t *c = w->data;
    bool early = !c->complete || c->body_too_large || c->busy; /* request not read to its end */
    if (status == 0 && early && !uv_is_closing((uv_handle_t *)&c->tcp))
        linger(c);
    else
        conn_close(c);
}

static const char *reason(int status)
{
    static const struct {
        int status;
        const char *text;
    } t[] = {{200, "OK"},
             {400, "Bad Request"},
             {401, "Unauthorized"},
             {404, "Not Found"},
             {405, "Method Not Allowed"},
             {408, "Request Timeout"},
             {413, "Payload Too Large"},
             {429, "Too Many Requests"},
             {431, "Request Header Fields Too Large"},
             {500, "Internal Server Error"},
             {503, "Service Unavailable"}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].status == status)
            return t[i].text;
    return "Error";
}

static void respond(conn_t *c, int status, const char *extra, const char *ctype, const char *body,
                    size_t len, bool head)
{
    if (c->responded)
        return;
    c->responded = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_timer_stop(&c->timer);
    ad_buf_reset(&c->resp);
    int rc = ad_buf_printf(&c->resp,
                           "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                           "Connection: close\r\n%s\r\n",
                           status, reason(status), ctype, len, extra ? extra : "");
    if (rc == 0 && !head)
        rc = ad_buf_add(&c->resp, body, len);
    if (rc != 0) {
        conn_close(c);
        return;
    }
    uv_buf_t b = uv_buf_init(c->resp.p, (unsigned)c->resp.len);
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0)
        conn_close(c);
}

static void respond_text(conn_t *c, int status, const char *text)
{
    respond(c, status, NULL, "text/plain; charset=utf-8", text, strlen(text), false);
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    if (c->url_len + len >= sizeof(c->url)) {
        c->url_too_long = true;
        return 0;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = '\0';
    return 0;
}

/* Header names and values arrive in pieces: each piece is appended to the
 * current name or value, a NUL closes it when the other kind starts. */
static int hdr_add(conn_t *c, const char *at, size_t len, bool value)
{
    size_t need = len + 2;
    if (c->hdr_len + need > sizeof(c->hdr)) {
        c->hdr_too_large = true;
        return 0;
    }
    if (value != c->in_value) {
        c->hdr[c->hdr_len++] = '\0';
        c->in_value = value;
    }
    memcpy(c->hdr + c->hdr_len, at, len);
    c->hdr_len += len;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    c->url_done = true;
    if (c->hdr_len == 0)
        c->in_value = false;
    return hdr_add(c, at, len, false);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    return hdr_add(p->data, at, len, true);
}

static void on_timeout(uv_timer_t *t);

static bool under_mount(const struct ad_httpd *s, const char *url)
{
    return s->mount.handle && strncmp(url, s->prefix, strlen(s->prefix)) == 0;
}

static int on_headers_complete(http_parser *p)
{
    conn_t *c = p->data;
    struct ad_httpd *s = c->s;
    if (c->hdr_len < sizeof(c->hdr))
        c->hdr[c->hdr_len++] = '\0'; /* closes the last value */
    c->headers_done = true;
    c->url_done = true;
    c->mounted = !c->url_too_long && under_mount(s, c->url);
    size_t max = c->mounted ? s->mount.max_body : AD_HTTPD_MAX_REQUEST;
    c->body.max = max;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > max) {
        c->body_too_large = true;
        return 1; /* skip the body: 413 without reading it */
    }
    if (!c->mounted) {
        uv_timer_start(&c->timer, on_timeout, AD_HTTPD_TIMEOUT_MS, 0); /* the rest, if any */
    } else {
        /* The body may now take longer than the headers were given. */
        uv_timer_again(&c->timer);
        const char *expect = ad_httpd_x_header(c, "Expect");
        if (expect && strcasecmp(expect, "100-continue") == 0) {
            static char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            uv_buf_t b = uv_buf_init(cont, sizeof(cont) - 1);
            uv_try_write((uv_stream_t *)&c->tcp, &b, 1); /* best effort: curl waits 1 s */
        }
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    struct ad_httpd *s = c->s;
    if (c->mounted && s->mount.max_buffered && s->buffered + len > s->mount.max_buffered) {
        c->busy = true; /* all bodies together would pass the bound: come back later */
        return 1;
    }
    if (ad_buf_add(&c->body, at, len) != 0) {
        c->body_too_large = true;
        return 1; /* stop parsing */
    }
    s->buffered += len;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    conn_t *c = p->data;
    c->complete = true;
    return 1; /* stop: one request per connection */
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void dispatch_get(conn_t *c)
{
    struct ad_httpd *s = c->s;
    struct ad_buf body;
    const char *ctype = "text/plain; charset=utf-8";
    bool head = c->parser.method == HTTP_HEAD;

    char *q = strchr(c->url, '?');
    if (q)
        *q = '\0';
    ad_buf_init(&body, 4 * 1024 * 1024);
    struct ad_httpd_get g = {.path = c->url,
                             .query = q ? q + 1 : "",
                             .method_ok = c->parser.method == HTTP_GET || head,
                             .head = head,
                             .out = &body,
                             .x = c};
    int status = s->pages ? s->pages(s->pages_ud, &g) : 404;
    if (c->streaming) {
        ad_buf_free(&body);
        return; /* the hook made it a stream */
    }
    if (status != 404 && g.ctype)
        ctype = g.ctype;
    if (status == 404) {
        ad_buf_reset(&body);
        g.headers = NULL;
        status = s->handler ? s->handler(s->ud, c->url, &body, &ctype) : 404;
    }
    if (status != 404 && c->parser.method != HTTP_GET && !head) {
        ad_buf_reset(&body);
        ad_buf_adds(&body, "method not allowed\n");
        status = 405;
        ctype = "text/plain; charset=utf-8";
    }
    respond(c, status, status == 405 ? "Allow: GET, HEAD\r\n" : g.headers, ctype,
            body.p ? body.p : "", body.len, head);
    ad_buf_free(&body);
}

static void dispatch(conn_t *c)
{
    if (c->url_too_long) {
        respond_text(c, 400, "request target too long\n");
        return;
    }
    if (!c->mounted) {
        dispatch_get(c);
        return;
    }
    snprintf(c->method, sizeof(c->method), "%s", http_method_str(c->parser.method));
    c->pending = true;
    uv_timer_stop(&c->timer); /* the request is in: the mount answers it */
    c->s->mount.handle(c->s->mount.ud, c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    conn_t *c = h->data;
    (void)suggested;
    *b = uv_buf_init(c->rbuf, (unsigned)sizeof(c->rbuf));
}

/* The paths health checks and scrapes use: what the reserved slots are for. */
static bool health_path(const char *url, size_t len)
{
    static const char *const paths[] = {"/healthz", "/readyz", "/metrics"};
    const char *q = memchr(url, '?', len);
    if (q)
        len = (size_t)(q - url);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (strlen(paths[i]) == len && memcmp(url, paths[i], len) == 0)
            return true;
    return false;
}

/* A connection taken in past every regular slot named its target: a health
 * check moves to a health slot (with the header deadline from now), anything
 * else is closed. Returns whether it stays. */
static bool triage(conn_t *c)
{
    struct ad_httpd *s = c->s;
    s->ntriage--;
    c->slot = SLOT_REGULAR;
    if (c->url_too_long || !health_path(c->url, c->url_len) ||
        s->nhealth >= AD_HTTPD_HEALTH_CONNS) {
        conn_close(c);
        return false;
    }
    c->slot = SLOT_HEALTH;
    s->nhealth++;
    if (!c->headers_done)
        uv_timer_start(&c->timer, on_timeout, AD_HTTPD_HEADER_TIMEOUT_MS, 0);
    return true;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    conn_t *c = st->data;
    if (n < 0) {
        conn_close(c); /* a pending exchange outlives this (see on_conn_handle_closed) */
        return;
    }
    if (n == 0 || c->responded || c->complete)
        return; /* after the request, only an EOF matters */
    size_t parsed = http_parser_execute(&c->parser, &settings, b->base, (size_t)n);
    if (!c->headers_done)
        c->head_bytes += (size_t)n;
    if (c->slot == SLOT_TRIAGE && (c->url_done || c->url_too_long) && !triage(c))
        return;
    if ((c->body_too_large || c->busy) && c->mounted && c->s->mount.rejected)
        c->s->mount.rejected(c->s->mount.ud, c->body_too_large ? 413 : 503, c->url, c->url_len);
    if (c->body_too_large)
        respond_text(c, 413, "request body too large\n");
    else if (c->busy)
        respond(c, 503, "Retry-After: 1\r\n", "text/plain; charset=utf-8", "busy\n", 5, false);
    else if (c->hdr_too_large || (!c->headers_done && c->head_bytes >= AD_HTTPD_MAX_REQUEST))
        respond_text(c, 431, "request too large\n");
    else if (c->complete)
        dispatch(c);
    else if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK || parsed != (size_t)n)
        respond_text(c, 400, "bad request\n");
}

static void on_timeout(uv_timer_t *t)
{
    conn_t *c = t->data;
    if (!c->responded && !c->pending)
        conn_close(c); /* too slow: drop without a word */
}

static void peer_name(conn_t *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    snprintf(c->peer, sizeof(c->peer), "unknown");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof(c->peer));
    else if (ss.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof(c->peer));
}

static void on_connection(uv_stream_t *server, int status)
{
    struct ad_httpd *s = server->data;
    if (status < 0)
        return;
    conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->s = s;
    ad_buf_init(&c->resp, 64 * 1024 * 1024);
    ad_buf_init(&c->body, AD_HTTPD_MAX_REQUEST);
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    size_t max = s->mount.handle && s->mount.max_conns > AD_HTTPD_MAX_CONNS ? s->mount.max_conns
                                                                            : AD_HTTPD_MAX_CONNS;
    /* The others (this one counted): past every regular slot, it is taken in
     * for triage while there is room, else closed. */
    bool full = s->nconns - 1 - s->ntriage - s->nhealth >= max;
    if (full && s->ntriage < AD_HTTPD_TRIAGE_CONNS) {
        c->slot = SLOT_TRIAGE;
        s->ntriage++;
    }
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || (full && c->slot != SLOT_TRIAGE)) {
        conn_close(c);
        return;
    }
    peer_name(c);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    /* Headers within AD_HTTPD_HEADER_TIMEOUT_MS (the target within
     * AD_HTTPD_TRIAGE_MS in triage); then see on_headers_complete: a mounted
     * request's body within the repeat interval (uv_timer_again). */
    uv_timer_start(&c->timer, on_timeout,
                   c->slot == SLOT_TRIAGE ? AD_HTTPD_TRIAGE_MS : AD_HTTPD_HEADER_TIMEOUT_MS,
                   AD_HTTPD_BODY_TIMEOUT_MS);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int ad_httpd_mount(struct ad_httpd *s, const struct ad_httpd_mount *m)
{
    char *p = strdup(m->prefix);
    if (!p)
        return AD_ENOMEM;
    free(s->prefix);
    s->prefix = p;
    s->mount = *m;
    s->mount.prefix = p;
    return 0;
}

const char *ad_httpd_x_method(const struct ad_httpd_exchange *x)
{
    return x->method;
}

const char *ad_httpd_x_path(const struct ad_httpd_exchange *x, size_t *path_len)
{
    *path_len = x->url_len;
    return x->url;
}

const char *ad_httpd_x_body(const struct ad_httpd_exchange *x, size_t *len)
{
    *len = x->body.len;
    return x->body.p ? x->body.p : "";
}

const char *ad_httpd_x_header(const struct ad_httpd_exchange *x, const char *name)
{
    const char *found = NULL;
    size_t i = 0;
    while (i < x->hdr_len) {
        const char *k = x->hdr + i;
        size_t kl = strnlen(k, x->hdr_len - i);
        if (i + kl + 1 >= x->hdr_len)
            break;
        const char *v = k + kl + 1;
        size_t vl = strnlen(v, x->hdr_len - (i + kl + 1));
        if (strcasecmp(k, name) == 0)
            found = v;
        i += kl + 1 + vl + 1;
    }
    return found;
}

const char *ad_httpd_x_peer(const struct ad_httpd_exchange *x)
{
    return x->peer;
}

int ad_httpd_reply(struct ad_httpd_exchange *x, int status, const char *headers, const char *ctype,
                   const char *body, size_t len)
{
    x->pending = false;
    if (x->gone || uv_is_closing((uv_handle_t *)&x->tcp)) {
        if (x->gone)
            conn_free(x); /* the client left: the answer is dropped */
        return AD_ESTATE; /* (closing: freed when its handles are closed) */
    }
    respond(x, status, headers, ctype, body, len, false);
    return 0;
}

int ad_hostport_parse(const char *str, char *host, size_t hostlen, int *port)
{
    const char *colon;
    size_t hl;
    if (str[0] == '[') {
        const char *end = strchr(str, ']');
        if (!end || end[1] != ':')
            return AD_EINVAL;
        hl = (size_t)(end - str - 1);
        str++;
        colon = end + 1;
    } else {
        colon = strrchr(str, ':');
        if (!colon)
            return AD_EINVAL;
        hl = (size_t)(colon - str);
    }
    if (hl == 0 || hl >= hostlen)
        return AD_EINVAL;
    memcpy(host, str, hl);
    host[hl] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 0 || p > 65535)
        return AD_EINVAL;
    *port = (int)p;
    return 0;
}

/* ---- pages and streams ------------------------------------------------------------ */

void ad_httpd_set_pages(struct ad_httpd *s, ad_httpd_pages_fn fn, void *ud)
{
    s->pages = fn;
    s->pages_ud = ud;
}

/* One write of a stream, with its bytes. */
struct swrite {
    uv_write_t w;
    char data[];
};

static void on_stream_written(uv_write_t *w, int status)
{
    conn_t *c = w->data;
    free(w);
    if (status < 0)
        conn_close(c); /* the client went away (or the server closes) */
}

int ad_httpd_stream_write(struct ad_httpd_stream *st, const char *p, size_t len)
{
    conn_t *c = (conn_t *)st;
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return AD_ESTATE;
    if (ad_httpd_stream_queued(st) + len > c->max_queued) {
        conn_close(c); /* not reading: dropped, never buffered without bound */
        return AD_ELIMIT;
    }
    struct swrite *sw = malloc(sizeof(*sw) + len);
    if (!sw) {
        conn_close(c);
        return AD_ENOMEM;
    }
    memcpy(sw->data, p, len);
    sw->w.data = c;
    uv_buf_t b = uv_buf_init(sw->data, (unsigned)len);
    if (uv_write(&sw->w, (uv_stream_t *)&c->tcp, &b, 1, on_stream_written) != 0) {
        free(sw);
        conn_close(c);
        return AD_ESTATE;
    }
    return 0;
}

size_t ad_httpd_stream_queued(const struct ad_httpd_stream *st)
{
    const conn_t *c = (const conn_t *)st;
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

struct ad_httpd_stream *ad_httpd_stream_open(struct ad_httpd_get *g,
                                             const struct ad_httpd_stream_opts *o)
{
    conn_t *c = g->x;
    struct ad_httpd *s = c->s;
    if (c->responded || c->streaming || uv_is_closing((uv_handle_t *)&c->tcp))
        return NULL;
    c->responded = true;
    uv_timer_stop(&c->timer);
    c->streaming = true; /* from now on counted apart from the connection cap */
    s->nconns--;
    s->ntriage -= c->slot == SLOT_TRIAGE; /* and it gives back any kept slot */
    s->nhealth -= c->slot == SLOT_HEALTH;
    c->slot = SLOT_REGULAR;
    s->nstreams++;
    c->max_queued = o->max_queued;
    if (o->sndbuf) {
        int v = (int)o->sndbuf;
        uv_send_buffer_size((uv_handle_t *)&c->tcp, &v);
    }
    ad_buf_reset(&c->resp);
    if (ad_buf_printf(&c->resp,
                      "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: no-store\r\n"
                      "Connection: close\r\n%s\r\n",
                      o->ctype, o->headers ? o->headers : "") != 0 ||
        ad_httpd_stream_write((struct ad_httpd_stream *)c, c->resp.p, c->resp.len) != 0) {
        conn_close(c);
        return NULL;
    }
    ad_buf_free(&c->resp);
    c->st_closed = o->closed;
    c->st_ud = o->ud;
    return (struct ad_httpd_stream *)c;
}

void ad_httpd_stream_close(struct ad_httpd_stream *st)
{
    conn_close((conn_t *)st);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct ad_httpd *s = h->data;
    s->open_handles--;
    maybe_free(s);
}
int ad_httpd_listen_addr(const char *listen, struct sockaddr_storage *addr, char *err,
                         size_t errlen)
{
    char host[256];
    int port;

    if (ad_hostport_parse(listen, host, sizeof(host), &port) != 0 ||
        (uv_ip4_addr(host, port, (struct sockaddr_in *)addr) != 0 &&
         uv_ip6_addr(host, port, (struct sockaddr_in6 *)addr) != 0)) {
        snprintf(err, errlen, "http.listen: \"%s\" is not HOST:PORT with a numeric address",
                 listen);
        return AD_ECONFIG;
    }
    return 0;
}

int ad_httpd_start(const struct ad_httpd_opts *o, struct ad_httpd **out, char *err, size_t errlen)
{
    uv_loop_t *loop = o->loop;
    const char *listen = o->listen;
    ad_httpd_handler h = o->handler;
    void *ud = o->ud;
    int rc;
    struct sockaddr_storage addr;

    if ((rc = ad_httpd_listen_addr(listen, &addr, err, errlen)) != 0)
        return rc;
    struct ad_httpd *s = calloc(1, sizeof(*s));
    if (!s)
        return AD_ENOMEM;
    s->loop = loop;
    s->handler = h;
    s->ud = ud;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->open_handles = 1;
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 64, on_connection);
    if (rc) {
        snprintf(err, errlen, "http.listen: cannot listen on %s: %s", listen, uv_strerror(rc));
        s->closing = true;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return AD_EIO;
    }
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &blen);
    s->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                          : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *out = s;
    return 0;
}

int ad_httpd_port(const struct ad_httpd *s)
{
    return s->port;
}

void ad_httpd_close(struct ad_httpd *s)
{
    if (!s || s->closing)
        return;
    s->closing = true;
    for (conn_t *c = s->conns; c; c = c->next)
        conn_close(c);
    if (s->mount.handle && s->mount.close)
        s->mount.close(s->mount.ud);
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}
