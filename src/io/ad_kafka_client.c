/* ad_kafka_client.c - a librdkafka client served on a libuv loop (see
 * ad_kafka_client.h). */
#include "ad_kafka_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ad_err.h"
#include "ad_log.h"

void ad_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    int lvl = level <= 3   ? AD_LOG_ERROR
              : level <= 4 ? AD_LOG_WARN
              : level <= 6 ? AD_LOG_INFO
                           : AD_LOG_DEBUG;
    AD_LOG_(lvl, "rdkafka", "%s: %s: %s", rd_kafka_name(rk), fac, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct ad_kafka_client *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        AD_ERROR("kafka", "fatal error in %s: %s: %s", rd_kafka_name(rk), rd_kafka_err2name(orig),
                 buf);
        if (c->fatal)
            c->fatal(c->fatal_ud);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        c->brokers_up = 0; /* at once, not at the next statistics */
    AD_WARN("kafka", "%s: %s: %s", rd_kafka_name(rk), rd_kafka_err2name(err), reason);
}

void ad_kafka_client_stats(struct ad_kafka_client *c, const json_t *root)
{
    json_t *brokers = json_object_get(root, "brokers"), *b;
    const char *name;
    int up = 0, failing = 0;
    if (!json_is_object(brokers))
        return;
    json_object_foreach(brokers, name, b)
    {
        const char *src = json_string_value(json_object_get(b, "source"));
        const char *state = json_string_value(json_object_get(b, "state"));
        if (!state || (src && (!strcmp(src, "internal") || !strcmp(src, "logical"))))
            continue; /* librdkafka's own, never a connection */
        up += !strcmp(state, "UP");
        failing += !strcmp(state, "DOWN") || !strcmp(state, "TRY_CONNECT") ||
                   !strcmp(state, "CONNECT");
    }
    /* No connection at all and none being tried (INIT: an idle client with
     * sparse connections, or one closed by connections.max.idle.ms) is not
     * a failure: unknown. */
    c->brokers_up = up ? up : failing ? 0 : -1;
}

void ad_kafka_client_stats_interval(rd_kafka_conf_t *conf, const struct ad_config *cfg)
{
    char e[512];
    for (size_t i = 0; i < cfg->kafka.properties.n; i++)
        if (!strcmp(cfg->kafka.properties.k[i], "statistics.interval.ms"))
            return;
    rd_kafka_conf_set(conf, "statistics.interval.ms", "1000", e, sizeof(e));
}

int ad_kafka_client_conf(struct ad_kafka_client *c, const struct ad_config *cfg,
                         enum ad_kafka_role role, rd_kafka_conf_t **conf, char *err, size_t errlen)
{
    char e[512];
    c->fd[0] = c->fd[1] = -1;
    c->brokers_up = -1;
    if (ad_kafka_conf_new(cfg, role, conf, err, errlen))
        return AD_ECONFIG;
    rd_kafka_conf_set_opaque(*conf, c);
    rd_kafka_conf_set_error_cb(*conf, on_error);
    rd_kafka_conf_set_log_cb(*conf, ad_kafka_log_cb);
    rd_kafka_conf_set(*conf, "log.queue", "true", e, sizeof(e));
    return 0;
}

static int make_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return AD_EIO;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

static void on_wake(uv_poll_t *h, int status, int events)
{
    struct ad_kafka_client *c = h->data;
    char buf[256];
    (void)status;
    (void)events;
    while (read(c->fd[0], buf, sizeof(buf)) > 0) {
    }
    c->wake(c);
}

int ad_kafka_client_start(struct ad_kafka_client *c, uv_loop_t *loop, rd_kafka_conf_t *conf,
                          enum ad_kafka_role role, char *err, size_t errlen)
{
    char e[512];
    bool consumer = role == AD_KAFKA_CONSUMER;
    c->rk = rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "while creating the Kafka %s: %s", consumer ? "consumer" : "producer",
                 e);
        return AD_ECONFIG;
    }
    rd_kafka_set_log_queue(c->rk, NULL); /* logs go to the main queue, served on the loop */
    if (make_pipe(c->fd)) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        c->fd[0] = c->fd[1] = -1;
        return AD_EIO;
    }
    if (consumer)
        rd_kafka_poll_set_consumer(c->rk);
    c->q = consumer ? rd_kafka_queue_get_consumer(c->rk) : rd_kafka_queue_get_main(c->rk);
    rd_kafka_queue_io_event_enable(c->q, c->fd[1], "1", 1);
    if (uv_poll_init(loop, &c->poll, c->fd[0]) != 0) {
        snprintf(err, errlen, "while starting the event loop handles");
        return AD_EIO;
    }
    c->handles++;
    c->poll.data = c;
    uv_poll_start(&c->poll, UV_READABLE, on_wake);
    /* librdkafka signals only when the queue turns non-empty: what it
     * queued before the pipe was set up (logs of the start) needs one wake
     * of our own, or the queue is served only by the caller's polls. */
    if (write(c->fd[1], "1", 1) < 0) {
        /* the pipe is empty and non-blocking: cannot fail */
    }
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct ad_kafka_client *c = h->data;
    c->handles--;
}

void ad_kafka_client_close(struct ad_kafka_client *c)
{
    uv_handle_t *h = (uv_handle_t *)&c->poll;
    if (h->loop && !uv_is_closing(h))
        uv_close(h, on_closed);
}

void ad_kafka_client_free(struct ad_kafka_client *c)
{
    if (c->q)
        rd_kafka_queue_destroy(c->q);
    if (c->rk)
        rd_kafka_destroy(c->rk);
    for (int i = 0; i < 2; i++)
        if (c->fd[i] >= 0)
            close(c->fd[i]);
    c->q = NULL;
    c->rk = NULL;
    c->fd[0] = c->fd[1] = -1;
}
