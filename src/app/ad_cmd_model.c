/* ad_cmd_model.c - `anomalyd model export` and `anomalyd model import`: the
 * lifetime models of state.dir as M2 JSON lines, and a model file as the
 * seed of state.dir. Where state.dir keeps what is ad_state.h's business;
 * this file only reads what the state layer lists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_checkpoint.h"
#include "ad_cmd.h"
#include "ad_err.h"
#include "ad_model.h"
#include "ad_pipeline.h"
#include "ad_spill.h"
#include "ad_state.h"

/* The models of the spill stores (series evicted at limits.max_series): one
 * entry per spill entry read, in the order read (seq). Once every store is
 * read, they are sorted by series id ("metric NUL key bytes": a metric has
 * no NUL, a key may hold any byte) and folded, so that a series held by two
 * stores keeps the state with more points (a model's n only grows; the first
 * read wins a tie) at the place it was first read; the checkpoint files'
 * series then find theirs by binary search. A series that a checkpoint file
 * holds too is marked in_ckpt: it was live when that checkpoint was written,
 * so the checkpoint's state is the newer one (and the one a restart uses). */
struct export_ent {
    char *id;
    size_t id_len, mlen;
    uint64_t seq;
    bool in_ckpt;
    uint64_t n;
    double mean, m2;
};

struct export_ctx {
    FILE *out;
    struct ad_buf line;
    uint64_t n;
    uint64_t fp;                    /* ad_ckpt_fingerprint() of the config */
    const struct ad_ckpt_header *h; /* of the checkpoint being read, filled before its series */
    struct export_ent *ents;        /* the spilled series */
    size_t count, cap;
    bool nomem;
    int status;
    const char *skey; /* the spill entry being read */
    size_t skey_len;
    const char *smetric;
    uint64_t sp_entries, sp_other, sp_bad;
};

static int id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static int ent_order(const void *x, const void *y)
{
    const struct export_ent *a = x, *b = y;
    int c = id_cmp(a->id, a->id_len, b->id, b->id_len);
    if (c)
        return c;
    /* more points first, then first read */
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int seq_order(const void *x, const void *y)
{
    const struct export_ent *a = x, *b = y;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Appends a spilled series; AD_ENOMEM. */
static int ents_add(struct export_ctx *c, const struct ad_series_state *st, const char *metric)
{
    size_t mlen = strlen(metric), id_len = mlen + 1 + st->key_len;
    if (c->count == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 1024;
        struct export_ent *ne = realloc(c->ents, nc * sizeof(*ne));
        if (!ne)
            return AD_ENOMEM;
        c->ents = ne;
        c->cap = nc;
    }
    char *id = malloc(id_len);
    if (!id)
        return AD_ENOMEM;
    memcpy(id, metric, mlen + 1);
    if (st->key_len)
        memcpy(id + mlen + 1, st->key, st->key_len);
    c->ents[c->count] = (struct export_ent){.id = id,
                                            .id_len = id_len,
                                            .mlen = mlen,
                                            .seq = c->count,
                                            .n = st->life.n,
                                            .mean = st->life.mean,
                                            .m2 = st->life.m2};
    c->count++;
    return 0;
}

/* Sorts by id and keeps one entry per series (the first after sorting). */
static void ents_fold(struct export_ctx *c)
{
    size_t w = 0;
    if (c->count)
        qsort(c->ents, c->count, sizeof(*c->ents), ent_order);
    for (size_t r = 0; r < c->count; r++) {
        struct export_ent *e = &c->ents[r];
        if (w && id_cmp(c->ents[w - 1].id, c->ents[w - 1].id_len, e->id, e->id_len) == 0) {
            if (e->seq < c->ents[w - 1].seq)
                c->ents[w - 1].seq = e->seq; /* its place: where it was first read */
            free(e->id);
            continue;
        }
        c->ents[w++] = *e;
    }
    c->count = w;
}

static struct export_ent *ents_find(struct export_ctx *c, const char *key, size_t key_len,
                                    const char *metric)
{
    size_t mlen = strlen(metric), lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        struct export_ent *e = &c->ents[mid];
        int r = id_cmp(e->id, e->mlen + 1 < e->id_len ? e->mlen + 1 : e->id_len, metric, mlen + 1);
        if (r == 0)
            r = id_cmp(e->id + e->mlen + 1, e->id_len - e->mlen - 1, key, key_len);
        if (r == 0)
            return e;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void export_line(struct export_ctx *c, const char *key, size_t key_len, const char *metric,
                        uint64_t n, double mean, double m2)
{
    ad_buf_reset(&c->line);
    struct ad_model_entry e = {key, key_len, metric, n, mean, m2};
    if (ad_model_format_line(&c->line, &e) == 0) {
        fwrite(c->line.p, 1, c->line.len, c->out);
        c->n++;
    }
}

/* A series of a checkpoint file: written out, and its spill entry, if any,
 * superseded. A checkpoint of other settings is left out (the daemon does
 * not restore it either). */
static int export_series_cb(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct export_ctx *c = ud;
    if (c->h->fingerprint != c->fp)
        return 0;
    struct export_ent *e = ents_find(c, st->key, st->key_len, metric);
    if (e)
        e->in_ckpt = true;
    if (st->life.n)
        export_line(c, st->key, st->key_len, metric, st->life.n, st->life.mean, st->life.m2);
    return 0;
}

/* The series of a spill entry (a one-series checkpoint, its header's
 * partition -1 when the series' partition had been dropped). */
static int export_spill_series(void *ud, const struct ad_series_state *st, const char *metric)
{
    struct export_ctx *c = ud;
    if (c->h->nseries != 1 || st->key_len != c->skey_len ||
        (st->key_len && memcmp(st->key, c->skey, st->key_len) != 0) ||
        strcmp(metric, c->smetric) != 0) {
        c->sp_bad++;
        return 0;
    }
    if (c->h->fingerprint != c->fp) {
        c->sp_other++;
        return 0;
    }
    if (st->life.n == 0)
        return 0;
    if (ents_add(c, st, metric) != 0) {
        c->nomem = true;
        return AD_ENOMEM;
    }
    return 0;
}

static int export_spill_entry(void *ud, const char *key, size_t key_len, const char *metric,
                              const void *val, size_t val_len)
{
    struct export_ctx *c = ud;
    struct ad_ckpt_header h;
    char err[256];
    c->sp_entries++;
    c->skey = key;
    c->skey_len = key_len;
    c->smetric = metric;
    c->h = &h;
    int rc = ad_ckpt_check(val, val_len, &h, err, sizeof(err));
    rc = rc ? rc : ad_ckpt_each(val, val_len, export_spill_series, c);
    c->h = NULL;
    if (c->nomem)
        return AD_ENOMEM;
    if (rc != 0)
        c->sp_bad++;
    return 0;
}

/* Reads one spill store (ad_state_foreach_spill) into c->ents; a store that
 * cannot be read is reported and makes the export fail. */
static int export_spill(void *ud, const char *dir)
{
    struct export_ctx *c = ud;
    char err[1024];
    struct ad_spill *sp;

    int rc = ad_spill_open(dir, &sp, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr,
                "anomalyd: model export: %s: the models of the series evicted at "
                "limits.max_series are not exported%s\n",
                err,
                strstr(err, "(locked)") ? "; a running anomalyd holds the store: stop it for a "
                                          "complete export"
                                        : "");
        c->status = AD_CMD_EXIT_FATAL;
        return 0;
    }
    rc = ad_spill_foreach(sp, export_spill_entry, c);
    ad_spill_close(sp);
    if (rc != 0) {
        fprintf(stderr, "anomalyd: model export: %s/%s: %s\n", dir, AD_SPILL_FILE,
                c->nomem ? "out of memory" : "not read to its end");
        c->status = AD_CMD_EXIT_FATAL;
    }
    return c->nomem ? AD_ENOMEM : 0;
}

/* Writes the series of one checkpoint file. */
static void export_checkpoint(struct export_ctx *c, const char *path)
{
    char err[256];
    struct ad_ckpt_header h;

    c->h = &h;
    /* The base and its delta log (incremental checkpoints): newest states. */
    if (ad_state_each_latest(path, &h, export_series_cb, c, err, sizeof(err)) != 0) {
        fprintf(stderr, "anomalyd: %s: not usable, skipped\n", path);
        c->status = AD_CMD_EXIT_FATAL;
    } else if (h.fingerprint != c->fp) {
        fprintf(stderr, "anomalyd: %s: written under other window/model settings, left out\n",
                path);
    }
    c->h = NULL;
}

/* The spilled series no checkpoint holds, in the order first read, and the
 * summary on stderr. */
static void export_finish(struct export_ctx *c)
{
    uint64_t from_ckpt = c->n, superseded = 0;
    if (c->count)
        qsort(c->ents, c->count, sizeof(*c->ents), seq_order);
    for (size_t k = 0; k < c->count; k++) {
        const struct export_ent *e = &c->ents[k];
        if (e->in_ckpt)
            superseded++;
        else
            export_line(c, e->id + e->mlen + 1, e->id_len - e->mlen - 1, e->id, e->n, e->mean,
                        e->m2);
    }
    if (c->sp_other)
        fprintf(stderr,
                "anomalyd: model export: %llu evicted series written under other window/model "
                "settings, left out\n",
                (unsigned long long)c->sp_other);
    if (c->sp_bad) {
        fprintf(stderr,
                "anomalyd: model export: %llu evicted series' entries not usable, skipped\n",
                (unsigned long long)c->sp_bad);
        c->status = AD_CMD_EXIT_FATAL;
    }
    if (c->nomem)
        c->status = AD_CMD_EXIT_FATAL;
    fprintf(stderr,
            "model export: %llu models (%llu of evicted series; %llu evicted series' entries "
            "read, %llu of them superseded by a checkpoint)\n",
            (unsigned long long)c->n, (unsigned long long)(c->n - from_ckpt),
            (unsigned long long)c->sp_entries, (unsigned long long)superseded);
}

/* The lifetime models of state.dir: every series of its checkpoint files,
 * then those of the series evicted at limits.max_series that no checkpoint
 * holds, from the spill stores (read first, since only they are held in
 * memory). A store that a running daemon holds cannot be read: that is
 * reported and the export fails (exit 1) after writing the rest, for the
 * evicted series may be most of the models. */
int ad_cmd_model_export(const struct ad_config *cfg, const char *out_path)
{
    struct export_ctx c = {.out = stdout};
    struct ad_state_files files;

    if (!cfg->state_dir[0])
        return ad_cmd_usage_error("%s", "model export: state.dir is not set");
    if (out_path && strcmp(out_path, "-") != 0 && !(c.out = fopen(out_path, "w"))) {
        fprintf(stderr, "anomalyd: %s: %s\n", out_path, strerror(errno));
        return AD_CMD_EXIT_FATAL;
    }
    int rc = ad_state_list_checkpoints(cfg->state_dir, &files);
    if (rc) {
        fprintf(stderr, "anomalyd: %s: %s\n", cfg->state_dir,
                rc == AD_ENOMEM ? "out of memory" : strerror(errno));
        if (c.out != stdout)
            fclose(c.out);
        return AD_CMD_EXIT_FATAL;
    }
    ad_buf_init(&c.line, 1 << 20);
    struct ad_pipeline_cfg pc;
    ad_config_to_pipeline(cfg, &pc);
    c.fp = ad_ckpt_fingerprint(&pc.window);

    (void)ad_state_foreach_spill(cfg->state_dir, export_spill, &c);
    ents_fold(&c);
    for (size_t i = 0; i < files.n && !c.nomem; i++)
        export_checkpoint(&c, files.paths[i]);
    ad_state_files_free(&files);
    export_finish(&c);

    ad_buf_free(&c.line);
    for (size_t k = 0; k < c.count; k++)
        free(c.ents[k].id);
    free(c.ents);
    if (c.out != stdout && fclose(c.out) != 0)
        c.status = AD_CMD_EXIT_FATAL;
    return c.status;
}

static int count_entry(void *ud, const char *id, size_t id_len, const char *metric, uint64_t n,
                       double mean, double m2)
{
    (void)id, (void)id_len, (void)metric, (void)n, (void)mean, (void)m2;
    ++*(uint64_t *)ud;
    return 0;
}

int ad_cmd_model_import(const struct ad_config *cfg, const char *path)
{
    char err[1024], chosen[4096], dst[4096];
    uint64_t count = 0;
    char *buf = NULL;
    size_t len;

    if (!cfg->state_dir[0])
        return ad_cmd_usage_error("%s", "model import: state.dir is not set");
    struct ad_model_import im = {count_entry, &count, chosen, sizeof(chosen)};
    if (ad_model_import_file(path, &im, err, sizeof(err)) != 0) {
        fprintf(stderr, "anomalyd: model import: %s\n", err);
        return AD_CONFIG_EXIT;
    }
    if (ad_state_dir_init(cfg->state_dir, err, sizeof(err)) != 0 ||
        ad_state_read_file(chosen[0] ? chosen : path, (size_t)1 << 30, &buf, &len) != 0) {
        fprintf(stderr, "anomalyd: model import: %s\n", err);
        return AD_CMD_EXIT_FATAL;
    }
    if (ad_state_seed_path(cfg->state_dir, dst, sizeof(dst)) != 0) {
        free(buf);
        fprintf(stderr, "anomalyd: model import: %s: path too long\n", cfg->state_dir);
        return AD_CMD_EXIT_FATAL;
    }
    int rc = ad_state_write_atomic(dst, buf, len, false, err, sizeof(err));
    free(buf);
    if (rc) {
        fprintf(stderr, "anomalyd: model import: %s\n", err);
        return AD_CMD_EXIT_FATAL;
    }
    fprintf(stderr,
            "model import: %llu models from %s to %s (series without a checkpoint "
            "start from them at the next start)\n",
            (unsigned long long)count, chosen[0] ? chosen : path, dst);
    return 0;
}
