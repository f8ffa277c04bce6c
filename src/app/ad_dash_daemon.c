/* ad_dash_daemon.c - the daemon's side of the dashboard (ad_dash.h): its
 * pages on the daemon's listener, the pipeline's scored points and the
 * engine's alerts into it, and the overview's numbers out of the daemon. */
#include <stdio.h>
#include <string.h>

#include "ad_daemon_int.h"
#include "ad_dash.h"
#include "ad_engine.h"
#include "ad_err.h"
#include "ad_httpd.h"
#include "ad_log.h"
#include "ad_pipeline.h"

static void overview(void *ud, struct ad_dash_overview *o)
{
    struct ad_daemon *d = ud;
    struct ad_engine_stats es;
    struct ad_pipeline_stats ps;
    ad_engine_stats(d->engine, &es);
    ad_pipeline_stats(d->pipe, &ps);
    o->records = d->consumed;
    o->alerts = es.alerts;
    o->series = ps.win.series;
    o->lag = -1;
    for (const struct ad_ledger_part *p = d->ledger.parts; p; p = p->next) {
        const struct tpart *t = p->ud;
        if (t->lag >= 0)
            o->lag = (o->lag < 0 ? 0 : o->lag) + t->lag;
    }
    const char *why = ad_daemon_not_ready(d);
    o->ready = why == NULL;
    o->health = why ? why : "ok";
}

static int each_series(void *ud, ad_pipeline_each_fn fn, void *fn_ud)
{
    struct ad_daemon *d = ud;
    return ad_pipeline_each_series(d->pipe, fn, fn_ud);
}

static int dash_emit(void *self, struct ad_engine_sink *sink, const struct ad_alert *a,
                     const char *line, size_t len, struct ad_engine_delivery *delivery)
{
    struct ad_daemon *d = self;
    (void)sink, (void)delivery;
    if (d->dash)
        ad_dash_alert(d->dash, a, line, len);
    return 0;
}

static const struct ad_engine_sink_ops dash_ops = {.name = "dashboard", .emit = dash_emit};

int ad_daemon_dash_open(struct ad_daemon *d, char *err, size_t errlen)
{
    const struct ad_config *cfg = d->cfg;
    struct ad_dash_opts o = {
        .loop = d->loop,
        .max_clients = (size_t)cfg->http_dashboard.max_clients,
        .history_points = (size_t)cfg->http_dashboard.history_points,
        .history_series = (size_t)cfg->http_dashboard.history_series,
        .client_queue = (size_t)cfg->http_dashboard.client_queue,
        .max_key = (size_t)cfg->max_key_bytes,
        .watch_ms = cfg->http_dashboard.watch_us / 1000,
        .ops = {overview, each_series, d},
    };
    int rc = ad_dash_new(&o, &d->dash, err, errlen);
    if (rc)
        return rc;
    rc = ad_pipeline_on_score_if(d->pipe, ad_dash_on_score, ad_dash_wants, d->dash);
    rc = rc ? rc : ad_engine_add_sink(d->engine, &dash_ops, d, NULL);
    if (rc) {
        snprintf(err, errlen, "while wiring the dashboard: %s", ad_strerror(rc));
        return rc;
    }
    ad_httpd_set_pages(d->httpd, ad_dash_pages, d->dash);
    char host[256];
    int port;
    if (ad_hostport_parse(cfg->http_listen, host, sizeof(host), &port) == 0)
        AD_INFO("http", "dashboard on http://%s%s%s:%d/", strchr(host, ':') ? "[" : "", host,
                strchr(host, ':') ? "]" : "", ad_httpd_port(d->httpd));
    return 0;
}
