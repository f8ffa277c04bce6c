/* ad_dash_api.c - the dashboard's pages: the page and its assets, and the
 * JSON endpoints of ad_dash.h. Every string from the data (keys, metrics)
 * goes out JSON-escaped; the page puts it in the DOM as text. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ad_assets.h"
#include "ad_dash.h"
#include "ad_dash_int.h"
#include "ad_detect.h"
#include "ad_err.h"

#define SEARCH_MAX  50   /* matches answered */
#define FLAGGED_MAX 50   /* keys answered */
#define PARAM_MAX   1024 /* the request target is capped below this anyway */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The URL-decoded value of name in the query string q into out (cap bytes,
 * NUL-terminated). Returns its length, or -1 when absent, malformed or too
 * long. */
static long query_param(const char *q, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    while (*q) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        if (len > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
            size_t o = 0;
            for (size_t i = nl + 1; i < len; i++) {
                int c = (unsigned char)q[i];
                if (c == '%') {
                    int hi = i + 2 < len ? hexval(q[i + 1]) : -1;
                    int lo = i + 2 < len ? hexval(q[i + 2]) : -1;
                    if (hi < 0 || lo < 0)
                        return -1;
                    c = hi * 16 + lo;
                    i += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                if (o + 1 >= cap)
                    return -1;
                out[o++] = (char)c;
            }
            out[o] = '\0';
            return (long)o;
        }
        q += len + (end ? 1 : 0);
    }
    return -1;
}

static void add_num(struct ad_buf *b, double v)
{
    if (v == v && v - v == 0) /* finite */
        ad_buf_add_double(b, v);
    else
        ad_buf_adds(b, "null");
}

static int json_error(struct ad_httpd_get *g, int status, const char *msg)
{
    ad_buf_reset(g->out);
    ad_buf_adds(g->out, "{\"error\":");
    ad_buf_add_json_str(g->out, msg, strlen(msg));
    ad_buf_adds(g->out, "}\n");
    return status;
}

static int api_overview(struct ad_dash *d, struct ad_httpd_get *g)
{
    const struct ad_dash_overview *o = &d->last;
    struct ad_dash_stats st;
    struct ad_buf *b = g->out;
    ad_dash_stats(d, &st);
    ad_buf_printf(b, "{\"records\":%llu,\"alerts\":%llu,\"records_per_s\":",
                  (unsigned long long)o->records, (unsigned long long)o->alerts);
    add_num(b, d->rate_records);
    ad_buf_adds(b, ",\"alerts_per_s\":");
    add_num(b, d->rate_alerts);
    ad_buf_printf(b, ",\"lag\":%lld,\"series\":%llu,\"ready\":%s,\"health\":", (long long)o->lag,
                  (unsigned long long)o->series, o->ready ? "true" : "false");
    const char *h = o->health ? o->health : "unknown";
    ad_buf_add_json_str(b, h, strlen(h));
    ad_buf_printf(b,
                  ",\"feed_clients\":%zu,\"history_series\":%zu,\"history_bytes\":%zu,"
                  "\"sampled_ms\":%llu}\n",
                  st.clients, st.history_series, st.history_bytes,
                  (unsigned long long)d->sampled_ms);
    return 200;
}

/* One point: [t_ms, value, expected, lower, upper, score, flagged, kind, seq]. */
static void add_point(struct ad_buf *b, const struct ad_hist_point *p)
{
    ad_buf_printf(b, "[%lld,", (long long)(p->t_us / 1000));
    add_num(b, p->value);
    ad_buf_addc(b, ',');
    add_num(b, p->scored ? p->expected : NAN);
    ad_buf_addc(b, ',');
    add_num(b, p->scored ? p->lower : NAN);
    ad_buf_addc(b, ',');
    add_num(b, p->scored ? p->upper : NAN);
    ad_buf_addc(b, ',');
    add_num(b, p->score);
    ad_buf_printf(b, ",%d,\"%s\",%llu]", p->is_anomaly ? 1 : 0, ad_kind_name(p->kind),
                  (unsigned long long)p->alert_seq);
}

static int api_series(struct ad_dash *d, struct ad_httpd_get *g)
{
    char key[PARAM_MAX], metric[256];
    long klen = query_param(g->query, "key", key, sizeof(key));
    if (klen < 0)
        return json_error(g, 400, "key= is required");
    if (query_param(g->query, "metric", metric, sizeof(metric)) < 0)
        return json_error(g, 400, "metric= is required");
    int rc = ad_history_watch(d->hist, key, (size_t)klen, metric, (int64_t)uv_now(d->loop));
    size_t max = d->points;
    struct ad_hist_point *pts = max ? malloc(max * sizeof(*pts)) : NULL;
    if (!pts)
        return json_error(g, 500, "out of memory");
    size_t n = ad_history_read(d->hist, key, (size_t)klen, metric, pts, max);
    struct ad_buf *b = g->out;
    ad_buf_adds(b, "{\"key\":");
    ad_buf_add_json_str(b, key, (size_t)klen);
    ad_buf_adds(b, ",\"metric\":");
    ad_buf_add_json_str(b, metric, strlen(metric));
    ad_buf_printf(b, ",\"watched\":%s,\"points\":[", rc == 0 ? "true" : "false");
    for (size_t i = 0; i < n; i++) {
        if (i)
            ad_buf_addc(b, ',');
        add_point(b, &pts[i]);
    }
    ad_buf_adds(b, "],\"alerts\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        const struct ad_dash_recent *r = ad_dash_recent_seq(d, pts[i].alert_seq);
        if (!r)
            continue;
        ad_buf_printf(b, "%s{\"seq\":%llu,\"alert\":", first ? "" : ",",
                      (unsigned long long)r->seq);
        ad_buf_add(b, r->line, r->line_len); /* a JSON object as the sinks got it */
        ad_buf_addc(b, '}');
        first = false;
    }
    ad_buf_adds(b, "]}\n");
    free(pts);
    return 200;
}

struct search_ctx {
    const char *q;
    size_t qlen;
    struct ad_buf *b;
    int n;
};

static int search_one(void *ud, const char *key, size_t key_len, const char *metric)
{
    struct search_ctx *s = ud;
    if (key_len < s->qlen || memcmp(key, s->q, s->qlen) != 0)
        return 0;
    ad_buf_adds(s->b, s->n ? ",{\"key\":" : "{\"key\":");
    ad_buf_add_json_str(s->b, key, key_len);
    ad_buf_adds(s->b, ",\"metric\":");
    ad_buf_add_json_str(s->b, metric, strlen(metric));
    ad_buf_addc(s->b, '}');
    return ++s->n >= SEARCH_MAX ? 1 : 0;
}

static int api_search(struct ad_dash *d, struct ad_httpd_get *g)
{
    char q[PARAM_MAX];
    long qlen = query_param(g->query, "q", q, sizeof(q));
    if (qlen < 0)
        return json_error(g, 400, "q= is required");
    struct search_ctx s = {q, (size_t)qlen, g->out, 0};
    ad_buf_adds(g->out, "{\"matches\":[");
    int more = d->ops.each_series ? d->ops.each_series(d->ops.ud, search_one, &s) : 0;
    ad_buf_printf(g->out, "],\"truncated\":%s}\n", more ? "true" : "false");
    return 200;
}

static int by_id(const void *a, const void *b)
{
    const struct ad_dash_recent *x = *(const struct ad_dash_recent *const *)a;
    const struct ad_dash_recent *y = *(const struct ad_dash_recent *const *)b;
    size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
    int c = memcmp(x->id, y->id, n);
    return c ? c : (x->id_len > y->id_len) - (x->id_len < y->id_len);
}

struct run {
    const struct ad_dash_recent *r;
    size_t count;
};

static int by_count(const void *a, const void *b)
{
    const struct run *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return by_id(&x->r, &y->r);
}

static int api_flagged(struct ad_dash *d, struct ad_httpd_get *g)
{
    char arg[32];
    long seconds = 5;
    if (query_param(g->query, "seconds", arg, sizeof(arg)) >= 0) {
        char *end;
        seconds = strtol(arg, &end, 10);
        if (*end || end == arg || seconds < 1 || seconds > 3600)
            return json_error(g, 400, "seconds= must be 1..3600");
    }
    static const struct ad_dash_recent *in[AD_DASH_RECENT];
    static struct run runs[AD_DASH_RECENT];
    size_t n = 0, nr = 0;
    int64_t since = (int64_t)uv_now(d->loop) - seconds * 1000;
    for (size_t i = 0; i < AD_DASH_RECENT; i++)
        if (d->recent[i].seq && d->recent[i].id && d->recent[i].at_ms >= since)
            in[n++] = &d->recent[i];
    qsort(in, n, sizeof(*in), by_id);
    for (size_t i = 0; i < n; i++) {
        if (nr && by_id(&runs[nr - 1].r, &in[i]) == 0)
            runs[nr - 1].count++;
        else
            runs[nr++] = (struct run){in[i], 1};
    }
    qsort(runs, nr, sizeof(*runs), by_count);
    struct ad_buf *b = g->out;
    ad_buf_printf(b, "{\"seconds\":%ld,\"alerts\":%zu,\"keys\":[", seconds, n);
    for (size_t i = 0; i < nr && i < FLAGGED_MAX; i++) {
        const struct ad_dash_recent *r = runs[i].r;
        ad_buf_adds(b, i ? ",{\"key\":" : "{\"key\":");
        ad_buf_add_json_str(b, r->id, r->key_len);
        ad_buf_adds(b, ",\"metric\":");
        ad_buf_add_json_str(b, r->id + r->key_len + 1, r->id_len - r->key_len - 2);
        ad_buf_printf(b, ",\"count\":%zu}", runs[i].count);
    }
    ad_buf_printf(b, "],\"distinct\":%zu}\n", nr);
    return 200;
}

static int asset(struct ad_httpd_get *g, const char *name)
{
    const struct ad_asset *a = ad_asset_find(name);
    if (!a)
        return 404;
    g->ctype = a->type;
    if (ad_buf_add(g->out, a->data, a->len) != 0)
        return 500;
    return 200;
}

int ad_dash_pages(void *ud, struct ad_httpd_get *g)
{
    struct ad_dash *d = ud;
    static const struct {
        const char *path;
        int (*fn)(struct ad_dash *d, struct ad_httpd_get *g);
    } api[] = {{"/api/overview", api_overview},
               {"/api/series", api_series},
               {"/api/search", api_search},
               {"/api/flagged", api_flagged},
               {"/api/feed", ad_dash_feed}};
    const char *p = g->path;
    g->headers = AD_DASH_HEADERS;
    if (strcmp(p, "/") == 0 || strcmp(p, "/index.html") == 0)
        return g->method_ok ? asset(g, "dashboard/index.html") : 200;
    if (strncmp(p, "/ui/dashboard/", 14) == 0 || strncmp(p, "/ui/vendor/", 11) == 0) {
        if (!ad_asset_find(p + 4))
            return 404;
        return g->method_ok ? asset(g, p + 4) : 200;
    }
    for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
        if (strcmp(p, api[i].path) != 0)
            continue;
        if (!g->method_ok)
            return 200; /* the server answers 405 */
        g->ctype = "application/json";
        return api[i].fn(d, g);
    }
    return 404;
}
