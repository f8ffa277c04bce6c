/* ad_pdet.c - a series' detector area: fill, step, rules, encoding (see
 * ad_pdet.h). */
#include "ad_pdet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_err.h"

#define LIVE       UINT32_C(0x50444554) /* "PDET": the area was initialised */
#define ENC_VER    1
#define ENC_HEAD   28    /* "PD", version, reserved, then 3 x 8 bytes */
#define MAX_FILLED 10000 /* empty slots filled before one point; a longer gap is skipped */

/* The header of a series' area; the detector's state follows it. */
struct hdr {
    int64_t last_alert_us; /* the rules' cooldown: INT64_MIN none */
    int64_t prev_t_us;     /* newest point stepped: INT64_MIN none */
    double prev_value;
    uint32_t live;
    uint32_t reserved;
};
#define HDR_SIZE ((sizeof(struct hdr) + 7) / 8 * 8)

struct ad_pdet {
    struct ad_detect_params p;
    struct ad_detect_rules rules;
    int fill;
    int64_t step_us;
    size_t state_size;
    uint64_t fresh_restores;
    void *scratch; /* the detector's scratch, shared by every series (uvad) */
};

int ad_pdet_new(const struct ad_detect_params *dp, const struct ad_detect_rules *r, int fill,
                int64_t step_us, struct ad_pdet **out, char *err, size_t errlen)
{
    int rc = ad_detect_check(dp, err, errlen);
    if (rc)
        return rc;
    struct ad_pdet *d = calloc(1, sizeof(*d));
    if (!d)
        return AD_ENOMEM;
    d->p = *dp;
    d->rules = *r;
    d->fill = fill;
    d->step_us = step_us > 0 ? step_us : 0;
    d->state_size = ad_detect_size(dp);
    size_t sb = ad_detect_scratch_size(dp);
    if (sb && !(d->scratch = malloc(sb))) {
        free(d);
        return AD_ENOMEM;
    }
    *out = d;
    return 0;
}

void ad_pdet_free(struct ad_pdet *d)
{
    if (d)
        free(d->scratch);
    free(d);
}

size_t ad_pdet_area_size(const struct ad_pdet *d)
{
    return HDR_SIZE + d->state_size;
}

enum ad_detector_kind ad_pdet_kind(const struct ad_pdet *d)
{
    switch (d->p.detector) {
    case AD_DET_ROBUST:
        return AD_DETECTOR_ROBUST;
    case AD_DET_SEASONAL:
        return AD_DETECTOR_SEASONAL;
    case AD_DET_CHANGE:
        return AD_DETECTOR_CHANGE;
    case AD_DET_AUTO:
        return AD_DETECTOR_AUTO;
    case AD_DET_UVAD:
        return AD_DETECTOR_UVAD;
    default:
        return AD_DETECTOR_WELFORD_LIK;
    }
}

static void *state_of(void *area)
{
    return (char *)area + HDR_SIZE;
}

static void area_init(const struct ad_pdet *d, void *area)
{
    struct hdr *h = area;
    memset(area, 0, HDR_SIZE);
    h->last_alert_us = INT64_MIN;
    h->prev_t_us = INT64_MIN;
    h->live = LIVE;
    ad_detect_init(state_of(area), &d->p);
}

/* Steps the empty tumbling slots between the previous point and (t_us, x). */
static void fill_gap(const struct ad_pdet *d, void *area, int64_t t_us, double x)
{
    const struct hdr *h = area;
    struct ad_detect_result r;
    double v;

    if (d->fill == AD_FILL_SKIP || d->step_us == 0 || h->prev_t_us == INT64_MIN)
        return;
    /* In double: a gap of any size cannot overflow. */
    double slots = ((double)t_us - (double)h->prev_t_us) / (double)d->step_us;
    if (!(slots >= 2) || slots > MAX_FILLED + 1)
        return;
    uint64_t gap = (uint64_t)slots - 1;
    for (uint64_t k = 1; k <= gap; k++)
        if (ad_fill_value(d->fill, h->prev_value, x, k, gap, &v))
            ad_detect_step_scratch(state_of(area), &d->p, h->prev_t_us + (int64_t)k * d->step_us, v,
                                   d->scratch, &r);
}

bool ad_pdet_point(struct ad_pdet *d, void *area, int64_t t_us, double x,
                   struct ad_detect_result *res)
{
    struct hdr *h = area;

    memset(res, 0, sizeof(*res));
    if (h->live != LIVE)
        area_init(d, area);
    if (h->prev_t_us != INT64_MIN && t_us <= h->prev_t_us)
        return false;
    fill_gap(d, area, t_us, x);
    ad_detect_step_scratch(state_of(area), &d->p, t_us, x, d->scratch, res);
    if (!res->scored)
        res->is_anomaly = false;
    ad_detect_rules_apply(&d->rules, &h->last_alert_us, t_us, x, res);
    h->prev_t_us = t_us;
    h->prev_value = x;
    return true;
}

int64_t ad_pdet_last_time(const void *area)
{
    const struct hdr *h = area;
    return h->live == LIVE ? h->prev_t_us : INT64_MIN;
}

size_t ad_pdet_encoded_size(const struct ad_pdet *d)
{
    return ENC_HEAD + ad_detect_encoded_size(&d->p);
}

static void put64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

int ad_pdet_encode(const struct ad_pdet *d, const void *area, uint8_t *out, size_t cap, size_t *len)
{
    const struct hdr *h = area;
    uint64_t bits;
    size_t n;

    *len = 0;
    if (h->live != LIVE)
        return 0;
    if (cap < ENC_HEAD)
        return AD_ELIMIT;
    out[0] = 'P';
    out[1] = 'D';
    out[2] = ENC_VER;
    out[3] = 0;
    put64(out + 4, (uint64_t)h->last_alert_us);
    put64(out + 12, (uint64_t)h->prev_t_us);
    memcpy(&bits, &h->prev_value, sizeof(bits));
    put64(out + 20, bits);
    int rc = ad_detect_save((const char *)area + HDR_SIZE, &d->p, out + ENC_HEAD, cap - ENC_HEAD,
                            &n);
    if (rc)
        return rc;
    *len = ENC_HEAD + n;
    return 0;
}

int ad_pdet_decode(struct ad_pdet *d, void *area, const uint8_t *buf, size_t len)
{
    struct hdr *h = area;
    uint64_t bits;

    memset(area, 0, ad_pdet_area_size(d));
    if (len == 0)
        return 0;
    if (len < ENC_HEAD || buf[0] != 'P' || buf[1] != 'D' || buf[2] != ENC_VER)
        goto fresh;
    area_init(d, area);
    if (ad_detect_restore(state_of(area), &d->p, buf + ENC_HEAD, len - ENC_HEAD) != 0)
        goto fresh;
    h->last_alert_us = (int64_t)get64(buf + 4);
    h->prev_t_us = (int64_t)get64(buf + 12);
    bits = get64(buf + 20);
    memcpy(&h->prev_value, &bits, sizeof(bits));
    return 0;
fresh:
    memset(area, 0, ad_pdet_area_size(d));
    d->fresh_restores++;
    return AD_EPARSE;
}

uint64_t ad_pdet_fresh_restores(const struct ad_pdet *d)
{
    return d->fresh_restores;
}
