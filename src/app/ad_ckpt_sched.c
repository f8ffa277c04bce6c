/* ad_ckpt_sched.c - the daemon's checkpoint scheduler: when each partition's
 * checkpoint is taken, how (serialized on the loop and written on the thread
 * pool, or serialized and written by a forked child), the state topic
 * messages that go with it, evicted series, and restoring a partition on
 * assignment.
 *
 * A partition's checkpoint is IDLE, WANTED (due while outputs were in
 * flight: the state is not consistent with any offset until they are done)
 * or BUSY (file and messages in flight); every change goes through
 * ad_ckpt_set_state, which logs it at debug level.
 *
 * Incremental checkpoints (state.full_every > 1, ad_ckpt_delta.h): a full
 * checkpoint (the base) is followed by rounds that serialize only the
 * partition's dirty series (its dirty list: no walk over the others) and
 * append them to the base's delta log. After full_every - 1 such rounds a
 * full one is due: the next round's record is appended and then, on the
 * thread pool, merged with the base and the log into a new base
 * (ad_state_compact), so the loop never serializes every series for it. A
 * full one is serialized on the loop only when the log cannot lead to the
 * state: the first one after an assignment, a series having left the
 * partition, a failed write, the state topic asking for every series, and a
 * shutdown or revocation. The first base after an assignment comes early by
 * partition % full_every rounds, so that the partitions' compactions fall
 * apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_checkpoint.h"
#include "ad_ckpt_delta.h"
#include "ad_clock.h"
#include "ad_daemon_int.h"
#include "ad_err.h"
#include "ad_hash.h"
#include "ad_log.h"
#include "ad_notify.h"
#include "ad_pipeline.h"
#include "ad_snapshot.h"
#include "ad_spill.h"
#include "ad_state.h"
#include "ad_statetopic.h"

#define FLUSH_TIMEOUT_MS      5000
#define STATE_READ_TIMEOUT_MS 30000 /* restoring a partition from the state topic */

static const char *const ckpt_state_names[] = {"idle", "wanted", "busy"};

void ad_ckpt_set_state(struct tpart *t, enum ad_ckpt_state s)
{
    if (t->ckpt == s)
        return;
    AD_DEBUG("state", "checkpoint of %s[%d]: %s -> %s", t->lp->topic, (int)t->lp->partition,
             ckpt_state_names[t->ckpt], ckpt_state_names[s]);
    t->ckpt = s;
}

static int64_t wall_ms(void)
{
    return ad_clock_wall_us() / 1000000 * 1000; /* whole seconds, as checkpoints always had */
}

/* One checkpoint of a partition: the file (written on the thread pool or by
 * a forked child) and, with state.topic, the messages of the series changed
 * since the previous one and the partition's marker. It counts as durable,
 * and its offset may be committed, once the file is written and every
 * message acknowledged. */
struct ckpt_work {
    uv_work_t req;
    struct ad_daemon *d;
    uint32_t tp_id;
    char *dir, *topic;
    int32_t partition;
    int64_t offset;
    uint64_t consumed, nseries;
    struct ad_buf buf;                       /* the file, serialized on the loop (not forked) */
    uint64_t bytes;                          /* the file's size */
    struct ad_snapshot snap;                 /* the file, written by a forked child */
    uv_poll_t snap_poll;                     /* ... whose pipe says when it is done */
    struct ad_spill *spill;                  /* made durable before the file is written */
    struct ad_kafka_msg *stoks, *stoks_tail; /* state topic messages, sent by send_state() */
    int waits;                               /* the file, and each message not yet acknowledged */
    bool state_failed;                       /* a message was not delivered */
    bool delta;                              /* a record of the base's delta log */
    bool compact, compacted;                 /* ... then merged with it into a new base */
    char cerr[256];                          /* why the compaction failed */
    uint64_t seq, base_sum;                  /* ... its place in it */
    uint64_t departed;                       /* a full one: ad_pipeline_departed() then */
    uint64_t sum;                            /* a full one: the file's checksum, once written */
    int64_t t0;
    int rc;
    char err[512];
};

/* ---- state topic messages ---------------------------------------------------- */

struct state_msg {
    struct ad_kafka_msg msg;
    struct ad_daemon *d;
    struct ckpt_work *flush; /* the checkpoint it belongs to, or NULL */
    char data[];             /* key, value */
};

/* Not retried: a later checkpoint sends every series again instead, so an
 * old state never lands after a newer one. */
static bool state_msg_done(struct ad_kafka_msg *km, int status, const char *error)
{
    struct state_msg *m = (struct state_msg *)km;
    struct ad_daemon *d = m->d;
    if (status == AD_EAGAIN)
        AD_WARN("state", "while delivering to %s: %s", km->topic, error);
    if (status == 0)
        d->state_sent++;
    else
        d->state_failed++;
    if (m->flush)
        ad_ckpt_state_done(m->flush, status == 0);
    free(m);
    return false;
}

/* A message for the state topic partition of source partition. */
static struct state_msg *state_msg_new(struct ad_daemon *d, const void *key, size_t key_len,
                                       const void *val, size_t val_len, int32_t partition)
{
    struct state_msg *m = malloc(sizeof(*m) + key_len + val_len);
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->d = d;
    memcpy(m->data, key, key_len);
    memcpy(m->data + key_len, val, val_len);
    m->msg.topic = d->cfg->state_topic;
    m->msg.partition = ad_statetopic_partition(partition, d->state_nparts);
    m->msg.key = m->data;
    m->msg.key_len = key_len;
    m->msg.val = m->data + key_len;
    m->msg.val_len = val_len;
    m->msg.done = state_msg_done;
    return m;
}

/* ---- one checkpoint ---------------------------------------------------------- */

static void ckpt_free(struct ckpt_work *w)
{
    while (w->stoks) {
        struct ad_kafka_msg *m = w->stoks;
        w->stoks = m->next;
        free(m);
    }
    ad_buf_free(&w->buf);
    free(w->dir);
    free(w->topic);
    free(w);
}

/* Queues the current d->skey / d->sval as a state topic message of w. */
static int ckpt_add_state(struct ad_daemon *d, struct ckpt_work *w)
{
    struct state_msg *m = state_msg_new(d, d->skey.p, d->skey.len, d->sval.p, d->sval.len,
                                        w->partition);
    if (!m)
        return AD_ENOMEM;
    m->flush = w;
    m->msg.next = NULL;
    if (w->stoks_tail)
        w->stoks_tail->next = &m->msg;
    else
        w->stoks = &m->msg;
    w->stoks_tail = &m->msg;
    return 0;
}

struct state_ctx {
    struct ad_daemon *d;
    struct ckpt_work *w;
    bool full;
};

static int state_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct state_ctx *c = ud;
    struct ad_daemon *d = c->d;
    if (!st->dirty && !c->full)
        return 0;
    struct ad_ckpt_header h = {.fingerprint = d->fingerprint,
                               .offset = c->w->offset,
                               .partition = c->w->partition};
    snprintf(h.topic, sizeof(h.topic), "%s", c->w->topic);
    ad_ckpt_set_owner(&h, d->cluster_id, d->cfg->kafka.group);
    int rc = ad_ckpt_one(&d->sval, &h, st, metric);
    rc = rc ? rc
            : ad_statetopic_series_key(&d->skey, c->w->topic, c->w->partition, metric, st->key,
                                       st->key_len);
    return rc ? rc : ckpt_add_state(d, c->w);
}

/* The marker goes last: it says where the partition is consumed again. */
static int add_marker(struct ad_daemon *d, struct ckpt_work *w, struct tpart *t, int64_t safe)
{
    struct ad_ckpt_header h = {.fingerprint = d->fingerprint,
                               .offset = safe,
                               .created_ms = wall_ms(),
                               .max_t = ad_pipeline_max_time(d->pipe, t->lp->topic,
                                                             t->lp->partition),
                               .partition = t->lp->partition};
    snprintf(h.topic, sizeof(h.topic), "%s", t->lp->topic);
    ad_ckpt_set_owner(&h, d->cluster_id, d->cfg->kafka.group);
    int rc = ad_ckpt_begin(&d->sval, &h);
    rc = rc ? rc : ad_ckpt_finish(&d->sval, 0);
    rc = rc ? rc : ad_statetopic_marker_key(&d->skey, t->lp->topic, t->lp->partition);
    rc = rc ? rc : ckpt_add_state(d, w);
    if (rc == 0)
        t->state_full = false; /* set again if a message is not delivered */
    return rc;
}

static struct ckpt_work *ckpt_new(struct ad_daemon *d, struct tpart *t, int64_t safe)
{
    struct ckpt_work *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->d = d;
    w->tp_id = t->lp->id;
    w->dir = strdup(d->cfg->state_dir);
    w->topic = strdup(t->lp->topic);
    w->partition = t->lp->partition;
    w->offset = safe;
    w->consumed = t->consumed;
    w->t0 = ad_clock_mono_ns();
    w->waits = 1;
    ad_buf_init(&w->buf, (size_t)4 << 30);
    w->req.data = w;
    return w;
}

/* Marks the series clean when no state topic message is wanted of them. */
static int accept_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    (void)ud;
    (void)st;
    (void)metric;
    return 0;
}

/* Whether t's next checkpoint can be incremental: its delta log still
 * leads to its state. */
static bool delta_ok(struct ad_daemon *d, struct tpart *t, bool state_owed)
{
    return d->cfg->full_every > 1 && t->base_sum != 0 && !state_owed && !t->ckpt_owed &&
           ad_pipeline_departed(d->pipe, t->lp->topic, t->lp->partition) == t->departed;
}

/* Serializes t's state (with fork, a full one only for the state topic: the
 * child serializes the file; an incremental one here all the same); may_delta
 * allows an incremental one. Returns NULL when there is nothing new to save
 * or the state is not consistent now (outputs in flight). */
static struct ckpt_work *ckpt_prepare(struct ad_daemon *d, struct tpart *t, bool fork,
                                      bool may_delta)
{
    if (!d->checkpoints || t->ckpt == AD_CKPT_BUSY || ad_ledger_pending(t->lp))
        return NULL;
    int64_t safe = ad_daemon_tp_safe(d, t);
    bool state_owed = d->state_reader && t->state_full;
    if (safe < 0 ||
        (t->consumed == t->ckpt_consumed && safe == t->ckpt_offset && !state_owed && !t->ckpt_owed))
        return NULL;
    struct ckpt_work *w = ckpt_new(d, t, safe);
    if (!w)
        return NULL;
    w->delta = may_delta && delta_ok(d, t, state_owed);
    /* A full one is due: made off the loop, from the base and its log. */
    w->compact = w->delta && t->deltas_left == 0;
    w->seq = t->delta_seq + 1;
    w->base_sum = t->base_sum;
    w->departed = ad_pipeline_departed(d->pipe, t->lp->topic, t->lp->partition);
    struct state_ctx sc = {d, w, t->state_full};
    struct ad_ckpt_req req = {.topic = t->lp->topic,
                              .partition = t->lp->partition,
                              .offset = safe,
                              .created_ms = wall_ms(),
                              .fingerprint = d->fingerprint,
                              .unsealed = true,
                              .each = d->state_reader ? state_series : accept_series,
                              .ud = &sc,
                              /* forked: the series the state topic is to get
                               * are the dirty ones, unless it wants them all */
                              .delta = w->delta || (fork && !state_owed)};
    struct ad_ckpt_result res = {0};
    struct ad_out out;
    ad_out_buf(&out, &w->buf);
    int rc = w->dir && w->topic ? 0 : AD_ENOMEM;
    rc = rc ? rc : ad_pipeline_checkpoint(d->pipe, &req, fork && !w->delta ? NULL : &out, &res);
    w->nseries = res.nseries;
    w->bytes = w->buf.len;
    if (rc == 0 && d->state_reader)
        rc = add_marker(d, w, t, safe);
    if (rc) {
        AD_ERROR("state", "while serializing the state of %s[%d]: %s", t->lp->topic,
                 t->lp->partition, ad_strerror(rc));
        d->ckpt_failed++;
        t->base_sum = 0; /* series taken off the dirty list were not saved: a full one next */
        ckpt_free(w);
        return NULL;
    }
    if (d->spill)
        ad_spill_commit(d->spill); /* made durable with this checkpoint's file */
    w->spill = d->spill;
    return w;
}

static void ckpt_write(struct ckpt_work *w)
{
    if (w->spill && ad_spill_sync(w->spill) != 0) {
        snprintf(w->err, sizeof(w->err), "while syncing the evicted series' store in %s", w->dir);
        w->rc = AD_EIO;
        return;
    }
    /* The checksum is appended here, off the loop. */
    if (ad_ckpt_seal(&w->buf, AD_FNV64_BASIS) != 0) {
        snprintf(w->err, sizeof(w->err), "%s[%d]: out of memory", w->topic, w->partition);
        w->rc = AD_ENOMEM;
        return;
    }
    w->bytes = w->buf.len;
    struct ad_state_loc loc = {.dir = w->dir, .topic = w->topic, .partition = w->partition};
    if (w->delta) {
        struct ad_ckpt_delta rec = {.base_sum = w->base_sum,
                                    .seq = w->seq,
                                    .ckpt = w->buf.p,
                                    .len = w->buf.len};
        w->rc = ad_state_append_delta(&loc, &rec, w->err, sizeof(w->err));
        if (w->rc == 0 && w->compact)
            w->compacted = ad_state_compact(&loc, w->base_sum, w->seq, &w->sum, w->cerr,
                                            sizeof(w->cerr)) == 0;
        return;
    }
    w->rc = ad_state_write(&loc, w->buf.p, w->buf.len, w->err, sizeof(w->err));
    if (w->rc == 0) {
        w->sum = ad_ckpt_sum(w->buf.p, w->buf.len);
        (void)ad_state_remove_delta(&loc); /* a log left behind follows another base */
    }
}

static void ckpt_work_cb(uv_work_t *req)
{
    ckpt_write(req->data);
}

/* Where t's delta log stands once w's file is done (written or not,
 * whatever became of the state topic messages). */
static void chain_settle(struct ad_daemon *d, struct tpart *t, const struct ckpt_work *w)
{
    uint64_t every = (uint64_t)d->cfg->full_every;
    if (w->rc) {
        t->base_sum = 0; /* the log may end in a torn record: a full one next */
    } else if (w->delta && !w->compacted) {
        t->delta_seq = w->seq;
        t->deltas_left -= t->deltas_left > 0;
        d->ckpt_deltas++;
        if (w->compact)
            AD_WARN("state", "%s (the log goes on; tried again next time)", w->cerr);
    } else {
        d->ckpt_deltas += w->delta;
        d->ckpt_compactions += w->compacted;
        t->base_sum = w->sum;
        t->delta_seq = 0;
        t->departed = w->departed;
        t->deltas_left = t->bases++ ? every - 1 : (uint64_t)t->lp->partition % every;
    }
}

/* When the file and every state message are done: the checkpoint is durable
 * (or failed). */
static void ckpt_settle(struct ckpt_work *w)
{
    if (--w->waits > 0)
        return;
    struct ad_daemon *d = w->d;
    struct tpart *t = ad_daemon_tp_by_id(d, w->tp_id);
    if (t) {
        ad_ckpt_set_state(t, AD_CKPT_IDLE);
        chain_settle(d, t, w);
    }
    if (w->rc || w->state_failed) {
        d->ckpt_failed++;
        if (w->rc)
            AD_ERROR("state", "%s", w->err);
        if (w->state_failed && t)
            t->state_full = true;
    } else {
        d->ckpt_written++;
        d->ckpt_bytes = w->bytes;
        d->ckpt_series = w->nseries;
        d->ckpt_seconds = (double)(ad_clock_mono_ns() - w->t0) / 1e9;
        d->ckpt_last = ad_clock_wall_us() / 1000000;
        if (t && w->offset >= t->ckpt_offset) {
            t->ckpt_offset = w->offset;
            t->ckpt_consumed = w->consumed;
            t->ckpt_owed = false;
        }
    }
    ckpt_free(w);
}

void ad_ckpt_state_done(struct ckpt_work *w, bool delivered)
{
    w->state_failed |= !delivered;
    ckpt_settle(w);
}

/* Hands w's state messages to the producer. */
static void send_state(struct ad_daemon *d, struct ckpt_work *w)
{
    struct ad_kafka_msg *m = w->stoks;
    w->stoks = w->stoks_tail = NULL;
    w->waits++; /* until the last one is handed over */
    while (m) {
        struct ad_kafka_msg *next = m->next;
        w->waits++;
        ad_kafka_out_send(d->out, m);
        m = next;
    }
    ckpt_settle(w);
}

static void ckpt_after_cb(uv_work_t *req, int status)
{
    (void)status;
    ckpt_settle(req->data);
}

void ad_ckpt_sync(struct ad_daemon *d, struct tpart *t)
{
    struct ckpt_work *w = ckpt_prepare(d, t, false, false); /* a whole file to leave behind */
    if (!w)
        return;
    ad_ckpt_set_state(t, AD_CKPT_BUSY);
    ckpt_write(w);
    bool state = w->stoks != NULL;
    send_state(d, w);
    if (state) {
        const char *fe = ad_kafka_out_flush(d->out, false, FLUSH_TIMEOUT_MS);
        if (fe)
            AD_WARN("state", "state topic flush for %s[%d]: %s", t->lp->topic, t->lp->partition,
                    fe);
    }
    ckpt_settle(w); /* the file's part; durable now if every message was acknowledged */
}

static void snap_closed(uv_handle_t *h)
{
    ckpt_settle(h->data); /* the file's part */
}

static void on_snap_done(uv_poll_t *h, int status, int events)
{
    struct ckpt_work *w = h->data;
    (void)status;
    (void)events;
    w->rc = ad_snapshot_finish(&w->snap, w->err, sizeof(w->err));
    w->nseries = w->snap.series;
    w->bytes = w->snap.bytes;
    w->sum = w->snap.sum;
    uv_close((uv_handle_t *)h, snap_closed);
}

/* Forks a child to serialize and write the file. Returns false when fork
 * failed (the file is to be serialized here after all). */
static bool ckpt_fork(struct ad_daemon *d, struct ckpt_work *w)
{
    struct ad_ckpt_req req = {.topic = w->topic,
                              .partition = w->partition,
                              .offset = w->offset,
                              .created_ms = wall_ms(),
                              .fingerprint = d->fingerprint};
    if (w->buf.len != 0 ||
        ad_snapshot_start(d->pipe, w->dir, &req, ad_spill_fd(w->spill), &w->snap) != 0)
        return false;
    if (uv_poll_init(d->loop, &w->snap_poll, w->snap.fd) == 0) {
        w->snap_poll.data = w;
        uv_poll_start(&w->snap_poll, UV_READABLE, on_snap_done);
    } else {
        w->rc = ad_snapshot_finish(&w->snap, w->err, sizeof(w->err)); /* waits */
        w->waits--;
    }
    send_state(d, w);
    return true;
}

/* Starts an asynchronous checkpoint of t: serialized here and written on the
 * thread pool, or with state.checkpoint_fork serialized and written by a
 * forked child (ad_snapshot.h), so that the loop does not stop for the
 * serialization (when fork fails, it is serialized here after all). */
void ad_ckpt_start(struct ad_daemon *d, struct tpart *t)
{
    if (t->ckpt == AD_CKPT_BUSY)
        return;
    if (ad_ledger_pending(t->lp)) {
        ad_ckpt_set_state(t, AD_CKPT_WANTED);
        return;
    }
    ad_ckpt_set_state(t, AD_CKPT_IDLE);
    bool fork = d->cfg->checkpoint_fork;
    struct ckpt_work *w = ckpt_prepare(d, t, fork, true);
    if (!w)
        return;
    ad_ckpt_set_state(t, AD_CKPT_BUSY);
    fork = fork && !w->delta; /* an incremental one is serialized here already */
    if (fork && ckpt_fork(d, w))
        return;
    if (fork) {
        struct ad_ckpt_req req = {.topic = t->lp->topic,
                                  .partition = t->lp->partition,
                                  .offset = w->offset,
                                  .created_ms = wall_ms(),
                                  .fingerprint = d->fingerprint,
                                  .unsealed = true};
        struct ad_out out;
        ad_out_buf(&out, &w->buf);
        w->rc = ad_pipeline_checkpoint(d->pipe, &req, &out, NULL);
        w->bytes = w->buf.len;
        if (w->rc) {
            snprintf(w->err, sizeof(w->err), "while serializing %s[%d]: %s", t->lp->topic,
                     t->lp->partition, ad_strerror(w->rc));
            send_state(d, w);
            ckpt_settle(w);
            return;
        }
    }
    /* Serialized here: written on the thread pool. */
    if (uv_queue_work(d->loop, &w->req, ckpt_work_cb, ckpt_after_cb) != 0) {
        ckpt_write(w);
        send_state(d, w);
        ckpt_settle(w);
        return;
    }
    send_state(d, w);
}

void ad_ckpt_on_timer(uv_timer_t *timer)
{
    struct ad_daemon *d = timer->data;
    int64_t t0 = ad_clock_mono_ns();
    for (struct ad_ledger_part *p = d->ledger.parts; p; p = p->next)
        ad_ckpt_start(d, p->ud);
    /* What the loop waited for this round: serializing (and forking). */
    d->ckpt_stall_seconds = (double)(ad_clock_mono_ns() - t0) / 1e9;
}

/* ---- evicted series ------------------------------------------------------------ */

/* A series evicted at limits.max_series: its state goes to the spill store
 * (and the state topic), so that it resumes when it is seen again. */
static void on_evicted(void *ud, const char *topic, int32_t partition, const char *key,
                       size_t key_len, const char *metric, const void *ckpt, size_t len)
{
    struct ad_daemon *d = ud;
    if (d->spill && ad_spill_put(d->spill, key, key_len, metric, ckpt, len) != 0)
        AD_WARN("state", "an evicted series' state was not stored; it starts afresh if seen "
                         "again");
    if (!d->state_reader || partition < 0 ||
        ad_statetopic_series_key(&d->skey, topic, partition, metric, key, key_len) != 0)
        return;
    struct state_msg *m = state_msg_new(d, d->skey.p, d->skey.len, ckpt, len, partition);
    if (m)
        ad_kafka_out_send(d->out, &m->msg);
}

static int load_evicted(void *ud, const char *key, size_t key_len, const char *metric,
                        struct ad_buf *out)
{
    struct ad_daemon *d = ud;
    return d->spill ? ad_spill_get(d->spill, key, key_len, metric, out) : AD_ENOENT;
}

void ad_ckpt_wire_store(struct ad_daemon *d)
{
    struct ad_pipeline_store ps = {on_evicted, load_evicted, d};
    ad_pipeline_set_store(d->pipe, &ps, d->fingerprint);
}

/* ---- restoring ----------------------------------------------------------------- */

struct restore_ctx {
    struct ad_daemon *d;
    const char *topic;
    int32_t partition;
};

static int restore_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct restore_ctx *c = ud;
    return ad_pipeline_restore(c->d->pipe, c->topic, c->partition, st, metric);
}

/* The loop stands still while a partition is restored: tell systemd's
 * watchdog that it is busy, not hung. */
static void restore_alive(void *ud)
{
    struct ad_daemon *d = ud;
    if (d->watchdog_ms)
        ad_notify("WATCHDOG=1");
}

/* From the state topic: returns 0 with *off and *max_t, or -1 on failure
 * (logged and counted). */
static int restore_from_topic(struct ad_daemon *d, struct tpart *t, int64_t *off, int64_t *max_t)
{
    const char *topic = t->lp->topic;
    int32_t partition = t->lp->partition;
    struct restore_ctx rc = {d, topic, partition};
    struct ad_statetopic_restore r = {.state_topic = d->cfg->state_topic,
                                      .nparts = d->state_nparts,
                                      .timeout_ms = STATE_READ_TIMEOUT_MS,
                                      .cb = restore_series,
                                      .ud = &rc,
                                      .fingerprint = d->fingerprint,
                                      .group = d->cfg->kafka.group,
                                      .alive = restore_alive,
                                      .alive_ud = d};
    char e[512];
    int64_t t0 = ad_clock_mono_ns();
    if (ad_statetopic_read(d->state_reader, topic, partition, &r, e, sizeof(e)) != 0) {
        d->state_restore_errors++;
        AD_ERROR("state", "%s[%d] not restored from the state topic: %s", topic, partition, e);
        return -1;
    }
    d->state_restored += r.series;
    *off = r.offset;
    *max_t = r.max_t;
    t->state_full = r.offset < 0;
    t->ckpt_owed = r.offset >= 0;
    AD_INFO("state",
            "%s[%d]: %llu series states restored from %s[%d] (offsets %lld..%lld, %llu "
            "messages, %llu skipped) in %.3f s; resuming at offset %lld",
            topic, partition, (unsigned long long)r.series, d->cfg->state_topic,
            (int)ad_statetopic_partition(partition, d->state_nparts), (long long)r.low,
            (long long)r.high, (unsigned long long)r.messages, (unsigned long long)r.skipped,
            (double)(ad_clock_mono_ns() - t0) / 1e9, (long long)r.offset);
    return 0;
}

int64_t ad_ckpt_restore(struct ad_daemon *d, struct tpart *t)
{
    int64_t off = -1, max_t = INT64_MIN;
    t->state_full = true;
    t->base_sum = 0; /* the first checkpoint after a restore is a full one */
    t->bases = 0;
    if (d->state_reader)
        restore_from_topic(d, t, &off, &max_t);
    struct ad_ckpt_header h;
    struct restore_ctx rc = {d, t->lp->topic, t->lp->partition};
    struct ad_state_loc loc = {d->cfg->state_dir, t->lp->topic, t->lp->partition, d->cluster_id,
                               d->cfg->kafka.group};
    if (ad_state_load(&loc, d->fingerprint, off, &h, restore_series, &rc) == 0) {
        off = h.offset;
        max_t = h.max_t;
        t->state_full = true;
    }
    ad_pipeline_restore_clock(d->pipe, t->lp->topic, t->lp->partition, max_t);
    return off;
}
