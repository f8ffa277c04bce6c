#include "ad_checkpoint.h"

#include "ad_alloc.h"
#include "ad_decode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"
#include "ad_hash.h"
#include "ad_types.h"

static const unsigned char magic[8] = {'A', 'D', 'C', 'K', 'P', 'T', 0, AD_CKPT_VERSION};

static uint64_t fnv(const unsigned char *p, size_t n)
{
    return ad_fnv1a64(AD_FNV64_BASIS, p, n);
}

uint64_t ad_ckpt_fingerprint(const struct ad_window_cfg *w)
{
    /* The text hashed is that of the configuration's fields: the booleans as
     * 0/1 and the scope as its enum ad_scope value (window_scope <=> window). */
    char s[256];
    int n = snprintf(s, sizeof(s), "%d/%lld/%d/%d/%lld/%lld/%d", w->tumbling ? 1 : 0,
                     (long long)w->size_us, w->aggregate, w->sliding ? 1 : 0, (long long)w->win_us,
                     (long long)w->slide_us, w->window_scope ? AD_SCOPE_WINDOW : AD_SCOPE_LIFETIME);
    return fnv((const unsigned char *)s, (size_t)n);
}

/* ---- writing ---- */

static int put(struct ad_buf *b, const void *p, size_t n)
{
    return ad_buf_add(b, p, n);
}

#define PUT(b, v) put((b), &(v), sizeof(v)) /* little-endian hosts only (x86-64, arm64) */

static int put_welford(struct ad_buf *b, const struct ad_welford *w)
{
    int rc = PUT(b, w->n);
    rc = rc ? rc : PUT(b, w->mean);
    return rc ? rc : PUT(b, w->m2);
}

/* An identity string: u8 length, the bytes (at most AD_CKPT_ID_MAX). */
static int put_id(struct ad_buf *b, const char *s, size_t cap)
{
    uint8_t l = (uint8_t)strnlen(s, cap - 1 < AD_CKPT_ID_MAX ? cap - 1 : AD_CKPT_ID_MAX);
    int rc = PUT(b, l);
    return rc ? rc : put(b, s, l);
}

int ad_ckpt_begin(struct ad_buf *b, const struct ad_ckpt_header *h)
{
    uint16_t tl = (uint16_t)strnlen(h->topic, sizeof(h->topic) - 1);
    uint64_t zero = 0;
    ad_buf_reset(b);
    int rc = put(b, magic, sizeof(magic));
    rc = rc ? rc : PUT(b, h->fingerprint);
    rc = rc ? rc : PUT(b, h->offset);
    rc = rc ? rc : PUT(b, h->created_ms);
    rc = rc ? rc : PUT(b, h->max_t);
    rc = rc ? rc : PUT(b, h->partition);
    rc = rc ? rc : PUT(b, tl);
    rc = rc ? rc : put(b, h->topic, tl);
    (void)zero;
    rc = rc ? rc : PUT(b, h->nseries); /* the series count, or 0 patched by ad_ckpt_finish */
    rc = rc ? rc : put_id(b, h->cluster, sizeof(h->cluster));
    return rc ? rc : put_id(b, h->group, sizeof(h->group));
}

int ad_ckpt_add(struct ad_buf *b, const struct ad_series_state *st, const char *metric)
{
    uint16_t kl = (uint16_t)st->key_len;
    uint8_t ml = (uint8_t)strnlen(metric, 255), pending = st->pending;
    uint32_t rlen = st->rlen > AD_CKPT_MAX_RING ? AD_CKPT_MAX_RING : st->rlen;
    size_t start = b->len;
    int rc = st->key_len > UINT16_MAX ? AD_EINVAL : 0;
    rc = rc ? rc : PUT(b, kl);
    rc = rc ? rc : put(b, st->key, kl);
    rc = rc ? rc : PUT(b, ml);
    rc = rc ? rc : put(b, metric, ml);
    rc = rc ? rc : put_welford(b, &st->life);
    rc = rc ? rc : put_welford(b, &st->win);
    rc = rc ? rc : PUT(b, st->model_off);
    rc = rc ? rc : PUT(b, st->last_t);
    rc = rc ? rc : PUT(b, st->closed_until);
    rc = rc ? rc : PUT(b, st->next_e);
    rc = rc ? rc : PUT(b, pending);
    rc = rc ? rc : PUT(b, st->unlearned);
    rc = rc ? rc : PUT(b, rlen);
    const struct ad_ring_point *r = st->ring + (st->rlen - rlen);
    for (uint32_t i = 0; rc == 0 && i < rlen; i++) {
        uint8_t in = r[i].in_model;
        rc = PUT(b, r[i].t_us);
        rc = rc ? rc : PUT(b, r[i].v);
        rc = rc ? rc : PUT(b, r[i].off);
        rc = rc ? rc : PUT(b, r[i].low_off);
        rc = rc ? rc : PUT(b, in);
    }
    uint32_t dl = st->det ? (uint32_t)st->det_len : 0;
    if (rc == 0 && st->det && st->det_len > AD_CKPT_MAX_DET)
        rc = AD_EINVAL;
    rc = rc ? rc : PUT(b, dl);
    rc = rc || dl == 0 ? rc : put(b, st->det, dl);
    if (rc) {
        b->len = start;
        if (b->p)
            b->p[start] = '\0';
    }
    return rc;
}

int ad_ckpt_set_count(struct ad_buf *b, uint64_t nseries)
{
    size_t at = sizeof(magic) + 8 + 8 + 8 + 8 + 4;
    uint16_t tl;
    if (b->len < at + 2)
        return AD_EINVAL;
    memcpy(&tl, b->p + at, 2);
    memcpy(b->p + at + 2 + tl, &nseries, 8);
    return 0;
}

int ad_ckpt_finish(struct ad_buf *b, uint64_t nseries)
{
    int rc = ad_ckpt_set_count(b, nseries);
    return rc ? rc : ad_ckpt_seal(b, AD_FNV64_BASIS);
}

int ad_ckpt_seal(struct ad_buf *b, uint64_t hash)
{
    uint64_t sum = ad_fnv1a64(hash, b->p, b->len);
    return PUT(b, sum);
}

int ad_ckpt_one(struct ad_buf *b, const struct ad_ckpt_header *h, const struct ad_series_state *st,
                const char *metric)
{
    int rc = ad_ckpt_begin(b, h);
    rc = rc ? rc : ad_ckpt_add(b, st, metric);
    return rc ? rc : ad_ckpt_finish(b, 1);
}

/* ---- reading ---- */

struct rd {
    const unsigned char *p;
    size_t len, off;
    bool bad;
    unsigned version; /* of the file being read */
};

static void get(struct rd *r, void *out, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = true;
        memset(out, 0, n);
        return;
    }
    memcpy(out, r->p + r->off, n);
    r->off += n;
}

#define GET(r, v) get((r), &(v), sizeof(v))

static bool welford_ok(const struct ad_welford *w)
{
    return isfinite(w->mean) && isfinite(w->m2) && w->m2 >= 0;
}

/* Reads an identity string (u8 length, bytes) into out (AD_CKPT_ID_MAX + 1
 * bytes), NUL-terminated; one holding a NUL byte is malformed. */
static void get_id(struct rd *r, char *out)
{
    uint8_t l;
    GET(r, l);
    get(r, out, l);
    out[r->bad ? 0 : l] = '\0';
    if (strlen(out) != l)
        r->bad = true;
}

/* Reads the header of buf (whose last 8 bytes are the checksum, not checked
 * here) into *h and leaves r at the first series. */
static int read_header(struct rd *r, const void *buf, size_t len, struct ad_ckpt_header *h,
                       char *err, size_t errlen)
{
    unsigned char m[8];
    uint16_t tl;

    *r = (struct rd){.p = buf, .len = len - 8};
    get(r, m, sizeof(m));
    if (memcmp(m, magic, 7) != 0) {
        snprintf(err, errlen, "not an anomalyd checkpoint");
        return AD_EPARSE;
    }
    if (m[7] < 1 || m[7] > AD_CKPT_VERSION) {
        snprintf(err, errlen, "checkpoint version %u, this build reads versions 1 to %u", m[7],
                 AD_CKPT_VERSION);
        return AD_ERANGE;
    }
    memset(h, 0, sizeof(*h));
    r->version = m[7];
    GET(r, h->fingerprint);
    GET(r, h->offset);
    GET(r, h->created_ms);
    h->max_t = INT64_MIN;
    if (m[7] >= 2)
        GET(r, h->max_t);
    GET(r, h->partition);
    GET(r, tl);
    if (tl >= sizeof(h->topic))
        r->bad = true;
    else
        get(r, h->topic, tl);
    GET(r, h->nseries);
    if (m[7] >= 4) {
        get_id(r, h->cluster);
        get_id(r, h->group);
    }
    if (r->bad || h->nseries > (r->len - r->off) / 80 + 1) {
        snprintf(err, errlen, "malformed header");
        return AD_EPARSE;
    }
    return 0;
}

/* A series record's buffers: key and metric name, and the ring, grown as
 * needed (owned: freed by the caller). */
struct rec_buf {
    char key[AD_KEY_MAX + 1];
    char metric[256];
    struct ad_ring_point *ring;
    size_t ring_cap;
};

/* Reads one series record into *st (pointing into b). Returns 0 (r->bad set
 * when the record is malformed) or AD_ENOMEM. */
static int read_series(struct rd *r, struct rec_buf *b, struct ad_series_state *st)
{
    uint16_t kl;
    uint8_t ml, pending;

    memset(st, 0, sizeof(*st));
    GET(r, kl);
    if (kl == 0 || kl > AD_KEY_MAX) {
        r->bad = true;
        return 0;
    }
    get(r, b->key, kl);
    b->key[kl] = '\0';
    GET(r, ml);
    get(r, b->metric, ml);
    b->metric[ml] = '\0';
    GET(r, st->life.n);
    GET(r, st->life.mean);
    GET(r, st->life.m2);
    GET(r, st->win.n);
    GET(r, st->win.mean);
    GET(r, st->win.m2);
    GET(r, st->model_off);
    GET(r, st->last_t);
    GET(r, st->closed_until);
    GET(r, st->next_e);
    GET(r, pending);
    GET(r, st->unlearned);
    GET(r, st->rlen);
    if (r->bad || st->rlen > AD_CKPT_MAX_RING || !welford_ok(&st->life) || !welford_ok(&st->win) ||
        pending > 1) {
        r->bad = true;
        return 0;
    }
    if (st->rlen > b->ring_cap) {
        struct ad_ring_point *nr = ad_realloc(b->ring, st->rlen * sizeof(*nr));
        if (!nr)
            return AD_ENOMEM;
        b->ring = nr;
        b->ring_cap = st->rlen;
    }
    for (uint32_t j = 0; j < st->rlen; j++) {
        struct ad_ring_point *pt = &b->ring[j];
        uint8_t in;
        GET(r, pt->t_us);
        GET(r, pt->v);
        GET(r, pt->off);
        GET(r, pt->low_off);
        GET(r, in);
        pt->in_model = in != 0;
        if (!isfinite(pt->v))
            r->bad = true;
    }
    if (r->version >= 3) {
        uint32_t dl;
        GET(r, dl);
        if (r->bad || dl > AD_CKPT_MAX_DET || dl > r->len - r->off) {
            r->bad = true;
            return 0;
        }
        st->det = dl ? r->p + r->off : NULL;
        st->det_len = dl;
        r->off += dl;
    }
    st->key = b->key;
    st->key_len = kl;
    st->pending = pending;
    st->ring = b->ring;
    if (st->unlearned > st->rlen)
        st->unlearned = st->rlen;
    return 0;
}

/* Reads every series of buf, handing each to cb when it is not NULL. */
static int walk(const void *buf, size_t len, struct ad_ckpt_header *h, ad_ckpt_series_cb cb,
                void *ud, char *err, size_t errlen)
{
    struct rd r;
    struct rec_buf b;
    int rc = read_header(&r, buf, len, h, err, errlen);

    b.ring = NULL;
    b.ring_cap = 0;
    for (uint64_t i = 0; i < h->nseries && rc == 0 && !r.bad; i++) {
        struct ad_series_state st;
        rc = read_series(&r, &b, &st);
        if (rc == 0 && !r.bad && cb)
            rc = cb(ud, &st, b.metric);
    }
    if (rc == 0 && (r.bad || r.off != r.len)) {
        snprintf(err, errlen, "malformed series record");
        rc = AD_EPARSE;
    }
    ad_free(b.ring);
    return rc;
}

int ad_ckpt_check(const void *buf, size_t len, struct ad_ckpt_header *h, char *err, size_t errlen)
{
    uint64_t sum;

    if (len < sizeof(magic) + 8) {
        snprintf(err, errlen, "truncated: %zu bytes", len);
        return AD_EPARSE;
    }
    memcpy(&sum, (const unsigned char *)buf + len - 8, 8);
    if (fnv(buf, len - 8) != sum) {
        snprintf(err, errlen, "checksum mismatch (corrupt or truncated)");
        return AD_EPARSE;
    }
    return walk(buf, len, h, NULL, NULL, err, errlen);
}

int ad_ckpt_each(const void *buf, size_t len, ad_ckpt_series_cb cb, void *ud)
{
    struct ad_ckpt_header h;
    char err[8];
    if (len < sizeof(magic) + 8)
        return AD_EPARSE;
    return walk(buf, len, &h, cb, ud, err, sizeof(err));
}

void ad_ckpt_set_owner(struct ad_ckpt_header *h, const char *cluster, const char *group)
{
    snprintf(h->cluster, sizeof(h->cluster), "%s", cluster ? cluster : "");
    snprintf(h->group, sizeof(h->group), "%s", group ? group : "");
}

/* Whether want and have differ, both being known. */
static bool id_differs(const char *want, const char *have)
{
    return want && want[0] && have[0] && strcmp(want, have) != 0;
}

bool ad_ckpt_other_owner(const struct ad_ckpt_header *h, const char *cluster, const char *group)
{
    return id_differs(cluster, h->cluster) || id_differs(group, h->group);
}
