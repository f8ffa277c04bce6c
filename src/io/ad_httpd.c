#include "ad_httpd.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_log.h"

struct ad_httpd {
    uv_loop_t *loop;
    uv_tcp_t listener;
    ad_httpd_handler handler;
    void *ud;
    struct conn *conns;
    size_t nconns;
    int port;
    bool closing;
    unsigned open_handles;
};

struct conn {
    struct conn *next, *prev;
    struct ad_httpd *s;
    uv_tcp_t tcp;
    uv_timer_t timer;
    http_parser parser;
    char buf[AD_HTTPD_MAX_REQUEST];
    size_t used; /* bytes received */
    char url[1024];
    size_t url_len;
    bool url_too_long, complete, responded;
    int handles; /* open: tcp, timer */
    uv_write_t wr;
    struct ad_buf resp;
};

static void maybe_free(struct ad_httpd *s)
{
    if (s->closing && s->open_handles == 0 && s->nconns == 0)
        free(s);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles > 0)
        return;
    struct ad_httpd *s = c->s;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    ad_buf_free(&c->resp);
    free(c);
    maybe_free(s);
}

static void conn_close(struct conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
        uv_timer_stop(&c->timer);
        uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
    }
}

static void on_written(uv_write_t *w, int status)
{
    struct conn *c = w->data;
    (void)status;
    conn_close(c);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static void respond(struct conn *c, int status, const char *ctype, const char *body, size_t len,
                    bool head)
{
    if (c->responded)
        return;
    c->responded = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    ad_buf_reset(&c->resp);
    ad_buf_printf(&c->resp,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n%s\r\n",
                  status, reason(status), ctype, len,
                  status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (!head)
        ad_buf_add(&c->resp, body, len);
    uv_buf_t b = uv_buf_init(c->resp.p, (unsigned)c->resp.len);
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0)
        conn_close(c);
}

static void respond_text(struct conn *c, int status, const char *text)
{
    respond(c, status, "text/plain; charset=utf-8", text, strlen(text), false);
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (c->url_len + len >= sizeof(c->url)) {
        c->url_too_long = true;
        return 0;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    c->complete = true;
    return 1; /* stop: one request per connection */
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_message_complete = on_message_complete,
};

static void dispatch(struct conn *c)
{
    struct ad_httpd *s = c->s;
    struct ad_buf body;
    const char *ctype = "text/plain; charset=utf-8";
    bool head = c->parser.method == HTTP_HEAD;

    if (c->url_too_long) {
        respond_text(c, 400, "request target too long\n");
        return;
    }
    char *q = strchr(c->url, '?');
    if (q)
        *q = '\0';
    ad_buf_init(&body, 4 * 1024 * 1024);
    int status = s->handler(s->ud, c->url, &body, &ctype);
    if (status != 404 && c->parser.method != HTTP_GET && !head) {
        ad_buf_reset(&body);
        ad_buf_adds(&body, "method not allowed\n");
        status = 405;
        ctype = "text/plain; charset=utf-8";
    }
    respond(c, status, ctype, body.p ? body.p : "", body.len, head);
    ad_buf_free(&body);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct conn *c = h->data;
    (void)suggested;
    *b = uv_buf_init(c->buf + c->used, (unsigned)(sizeof(c->buf) - c->used));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct conn *c = st->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0 || c->responded)
        return;
    size_t parsed = http_parser_execute(&c->parser, &settings, b->base, (size_t)n);
    c->used += (size_t)n;
    if (c->complete) {
        dispatch(c);
    } else if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK || parsed != (size_t)n) {
        respond_text(c, 400, "bad request\n");
    } else if (c->used >= sizeof(c->buf)) {
        respond_text(c, 431, "request too large\n");
    }
}

static void on_timeout(uv_timer_t *t)
{
    struct conn *c = t->data;
    if (!c->responded)
        conn_close(c); /* too slow: drop without a word */
}

static void on_connection(uv_stream_t *server, int status)
{
    struct ad_httpd *s = server->data;
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->s = s;
    ad_buf_init(&c->resp, 4 * 1024 * 1024 + 512);
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || s->nconns > AD_HTTPD_MAX_CONNS) {
        conn_close(c);
        return;
    }
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    uv_timer_start(&c->timer, on_timeout, AD_HTTPD_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
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

static void on_listener_closed(uv_handle_t *h)
{
    struct ad_httpd *s = h->data;
    s->open_handles--;
    maybe_free(s);
}

int ad_httpd_start(uv_loop_t *loop, const char *listen, ad_httpd_handler h, void *ud,
                   struct ad_httpd **out, char *err, size_t errlen)
{
    char host[256];
    int port, rc;
    struct sockaddr_storage addr;

    if (ad_hostport_parse(listen, host, sizeof(host), &port) != 0 ||
        (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
         uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0)) {
        snprintf(err, errlen, "http.listen: \"%s\" is not HOST:PORT with a numeric address",
                 listen);
        return AD_ECONFIG;
    }
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
    for (struct conn *c = s->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}
