/* ad_ckpt_delta.c - the delta log's framing (ad_ckpt_delta.h). */
#include "ad_ckpt_delta.h"

#include <stdio.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"
#include "ad_hash.h"

static const unsigned char delta_magic[8] = {'A', 'D', 'C', 'K', 'D', 'L', 0, 1};

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only, as the checkpoint itself */
    return v;
}

uint64_t ad_ckpt_sum(const void *ckpt, size_t len)
{
    if (len < 16)
        return 0;
    return get_u64((const unsigned char *)ckpt + len - 8);
}

void ad_ckpt_delta_head(unsigned char out[AD_CKPT_DELTA_HEAD], uint64_t base_sum, uint64_t seq,
                        uint64_t len)
{
    memcpy(out, delta_magic, 8);
    memcpy(out + 8, &base_sum, 8);
    memcpy(out + 16, &seq, 8);
    memcpy(out + 24, &len, 8);
    uint64_t hs = ad_fnv1a64(AD_FNV64_BASIS, out, 32);
    memcpy(out + 32, &hs, 8);
}

/* Reads the frame of the record at pos (not its checkpoint): d's base_sum,
 * seq, ckpt and len. Returns 0, AD_ENOENT at the end or AD_EPARSE (err). */
static int read_frame(const void *log, size_t len, size_t pos, struct ad_ckpt_delta *d, char *err,
                      size_t errlen)
{
    const unsigned char *p = (const unsigned char *)log + pos;
    size_t left = len - pos;

    if (pos >= len)
        return AD_ENOENT;
    if (left < AD_CKPT_DELTA_HEAD) {
        snprintf(err, errlen, "torn record at byte %zu (%zu bytes of its frame)", pos, left);
        return AD_EPARSE;
    }
    if (memcmp(p, delta_magic, 8) != 0 || ad_fnv1a64(AD_FNV64_BASIS, p, 32) != get_u64(p + 32)) {
        snprintf(err, errlen, "bad record frame at byte %zu", pos);
        return AD_EPARSE;
    }
    uint64_t n = get_u64(p + 24);
    if (n > left - AD_CKPT_DELTA_HEAD) {
        snprintf(err, errlen, "torn record at byte %zu (%zu of %llu bytes)", pos,
                 left - AD_CKPT_DELTA_HEAD, (unsigned long long)n);
        return AD_EPARSE;
    }
    d->base_sum = get_u64(p + 8);
    d->seq = get_u64(p + 16);
    d->ckpt = p + AD_CKPT_DELTA_HEAD;
    d->len = (size_t)n;
    return 0;
}

/* Checks the checkpoint of a record read_frame() read at pos (the one
 * ad_ckpt_check of it) and fills d->h. Returns 0, AD_EPARSE (err) or
 * AD_ENOMEM. */
static int check_ckpt(struct ad_ckpt_delta *d, size_t pos, char *err, size_t errlen)
{
    char why[160];
    int rc = ad_ckpt_check(d->ckpt, d->len, &d->h, why, sizeof(why));
    if (rc == AD_ENOMEM)
        return rc;
    if (rc) {
        snprintf(err, errlen, "record %llu at byte %zu: %s", (unsigned long long)d->seq, pos, why);
        return AD_EPARSE;
    }
    return 0;
}

int ad_ckpt_delta_next(const void *log, size_t len, size_t *pos, struct ad_ckpt_delta *d, char *err,
                       size_t errlen)
{
    int rc = read_frame(log, len, *pos, d, err, errlen);
    rc = rc ? rc : check_ckpt(d, *pos, err, errlen);
    if (rc == 0)
        *pos += AD_CKPT_DELTA_HEAD + d->len;
    return rc;
}

size_t ad_ckpt_delta_index(const void *log, size_t len, uint64_t base_sum,
                           struct ad_ckpt_delta **recs, const char **why)
{
    size_t pos = 0, n = 0, cap = 0;
    struct ad_ckpt_delta d, *v = NULL;
    char err[256]; /* the reason is not passed on, but gcc checks the bound */
    *why = NULL;
    for (;;) {
        int rc = read_frame(log, len, pos, &d, err, sizeof(err));
        if (rc == AD_ENOENT)
            break;
        if (rc) {
            *why = "a torn or corrupt record";
            break;
        }
        /* the frame's fields first: a record that follows another base or
         * is out of order ends the log without its checkpoint being read */
        if (d.base_sum != base_sum) {
            *why = "a record of another base checkpoint";
            break;
        }
        if (d.seq != n + 1) {
            *why = "a record out of order";
            break;
        }
        rc = check_ckpt(&d, pos, err, sizeof(err));
        if (rc) {
            *why = rc == AD_ENOMEM ? "out of memory" : "a torn or corrupt record";
            break;
        }
        if (recs && n == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            struct ad_ckpt_delta *nv = ad_realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                *why = "out of memory";
                break;
            }
            v = nv;
            cap = ncap;
        }
        if (recs)
            v[n] = d;
        n++;
        pos += AD_CKPT_DELTA_HEAD + d.len;
    }
    if (recs)
        *recs = v;
    return n;
}

size_t ad_ckpt_delta_valid(const void *log, size_t len, uint64_t base_sum, const char **why)
{
    return ad_ckpt_delta_index(log, len, base_sum, NULL, why);
}
