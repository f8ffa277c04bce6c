/* ad_alert.c - the alert record: its stable id, its JSON line, its "remote"
 * member and its dashboard row.
 *
 * Pure and allocation-free except for the output buffer's own growth: this
 * runs once per alert, possibly many thousands of times a second. */
#include "ad_alert.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "ad_azure.h"
#include "ad_detect.h"
#include "ad_err.h"
#include "ad_time.h"
#include "ad_types.h"

/* ---------------------------------------------------------------------------
 * alert_id
 *
 * The canonical byte string of an alert is
 *
 *     key bytes (key_len of them, may contain any byte)
 *     0x00
 *     metric (strlen bytes; NULL is the empty string)
 *     0x00
 *     window_start_us in decimal ASCII ("-" then digits when negative, no
 *                     leading zeros, "0" for zero)
 *     0x00
 *     window_end_us in decimal ASCII (same)
 *     0x00
 *     detector: its name (ad_detector_name(); none is the empty string)
 *
 * with no terminator after the detector. Two 64-bit halves are computed over
 * these bytes:
 *
 *     h1 = FNV-1a-64(bytes) with the standard offset basis 0xcbf29ce484222325
 *     h2 = FNV-1a-64(bytes) with the offset basis 0xcbf29ce484222325 ^
 *          0x9e3779b97f4a7c15 = 0x551e9f9d5b57af30
 *
 * where FNV-1a-64 is: h = basis; for each byte c: h ^= c; h *= 0x100000001b3
 * (mod 2^64). Each half then goes through the splitmix64 finalizer
 *
 *     z ^= z >> 30; z *= 0xbf58476d1ce4e5b9;
 *     z ^= z >> 27; z *= 0x94d049bb133111eb;
 *     z ^= z >> 31;
 *
 * and the id is the 16 lowercase hex digits of fin(h1) followed by the 16 of
 * fin(h2) (big-endian, zero-padded): 32 characters. The id is stable across
 * machines and versions; it is not a cryptographic hash (docs/alerts.md).
 * ------------------------------------------------------------------------- */

#define FNV64_BASIS   UINT64_C(0xcbf29ce484222325)
#define FNV64_PRIME   UINT64_C(0x100000001b3)
#define ID_BASIS2_XOR UINT64_C(0x9e3779b97f4a7c15)

struct id_hash {
    uint64_t h1;
    uint64_t h2;
};

static void id_update(struct id_hash *h, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h1 = h->h1, h2 = h->h2;

    for (size_t i = 0; i < len; i++) {
        h1 = (h1 ^ p[i]) * FNV64_PRIME;
        h2 = (h2 ^ p[i]) * FNV64_PRIME;
    }
    h->h1 = h1;
    h->h2 = h2;
}

static uint64_t splitmix64_fin(uint64_t z)
{
    z ^= z >> 30;
    z *= UINT64_C(0xbf58476d1ce4e5b9);
    z ^= z >> 27;
    z *= UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    return z;
}

/* Writes the decimal form of v into buf (at least 21 bytes, no NUL) and
 * returns the length. */
static size_t fmt_u64(uint64_t v, char *buf)
{
    char tmp[20];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static size_t fmt_i64(int64_t v, char *buf)
{
    if (v < 0) {
        buf[0] = '-';
        /* -(v + 1) + 1 avoids overflowing on INT64_MIN. */
        return 1 + fmt_u64((uint64_t)(-(v + 1)) + 1u, buf + 1);
    }
    return fmt_u64((uint64_t)v, buf);
}

static void put_hex64(uint64_t v, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 15; i >= 0; i--) {
        out[i] = hex[v & 15];
        v >>= 4;
    }
}

void ad_alert_id(const struct ad_alert *a, char out[AD_ALERT_ID_LEN + 1])
{
    static const char zero = '\0';
    struct id_hash h = {FNV64_BASIS, FNV64_BASIS ^ ID_BASIS2_XOR};
    char num[24];
    size_t n;

    id_update(&h, a->key, a->key ? a->key_len : 0);
    id_update(&h, &zero, 1);
    if (a->metric)
        id_update(&h, a->metric, strlen(a->metric));
    id_update(&h, &zero, 1);
    n = fmt_i64(a->window_start_us, num);
    id_update(&h, num, n);
    id_update(&h, &zero, 1);
    n = fmt_i64(a->window_end_us, num);
    id_update(&h, num, n);
    id_update(&h, &zero, 1);
    const char *det = ad_detector_name(a->detector);
    if (det)
        id_update(&h, det, strlen(det));

    put_hex64(splitmix64_fin(h.h1), out);
    put_hex64(splitmix64_fin(h.h2), out + 16);
    out[AD_ALERT_ID_LEN] = '\0';
}

/* ---------------------------------------------------------------------------
 * The JSON line
 * ------------------------------------------------------------------------- */

static int add_lit(struct ad_buf *b, const char *lit)
{
    return ad_buf_add(b, lit, strlen(lit));
}

static int add_cstr(struct ad_buf *b, const char *s)
{
    return ad_buf_add_json_str(b, s ? s : "", s ? strlen(s) : 0);
}

static int add_time(struct ad_buf *b, int64_t us)
{
    char t[AD_TIME_STRLEN];
    size_t n = ad_time_format(us, t);
    int rc = ad_buf_addc(b, '"');

    if (rc == 0)
        rc = ad_buf_add(b, t, n);
    if (rc == 0)
        rc = ad_buf_addc(b, '"');
    return rc;
}

static int add_i64(struct ad_buf *b, int64_t v)
{
    char num[24];
    return ad_buf_add(b, num, fmt_i64(v, num));
}

static int add_u64(struct ad_buf *b, uint64_t v)
{
    char num[24];
    return ad_buf_add(b, num, fmt_u64(v, num));
}

/* Each step runs only while rc is 0, so the first error is kept. */
#define STEP(expr)                                                                                 \
    do {                                                                                           \
        if (rc == 0)                                                                               \
            rc = (expr);                                                                           \
    } while (0)

int ad_alert_format_ext(const struct ad_alert *a, const char *extra, size_t extra_len,
                        struct ad_buf *out)
{
    char id[AD_ALERT_ID_LEN + 1];
    size_t start = out->len;
    const char *dir, *det = ad_detector_name(a->detector);
    int rc = 0;

    if (a->direction == AD_DIR_POSITIVE)
        dir = "\"positive\"";
    else if (a->direction == AD_DIR_NEGATIVE)
        dir = "\"negative\"";
    else
        return AD_EINVAL;
    if (!det)
        return AD_EINVAL;

    ad_alert_id(a, id);
    STEP(add_lit(out, "{\"alert_id\":\""));
    STEP(ad_buf_add(out, id, AD_ALERT_ID_LEN));
    STEP(add_lit(out, "\",\"key\":"));
    STEP(ad_buf_add_json_str(out, a->key ? a->key : "", a->key ? a->key_len : 0));
    STEP(add_lit(out, ",\"metric\":"));
    STEP(add_cstr(out, a->metric));
    STEP(add_lit(out, ",\"window_start\":"));
    STEP(add_time(out, a->window_start_us));
    STEP(add_lit(out, ",\"window_end\":"));
    STEP(add_time(out, a->window_end_us));
    STEP(add_lit(out, ",\"value\":"));
    STEP(ad_buf_add_double(out, a->value));
    STEP(add_lit(out, ",\"expected\":"));
    STEP(ad_buf_add_double(out, a->expected));
    STEP(add_lit(out, ",\"score\":"));
    STEP(ad_buf_add_double(out, a->score));
    STEP(add_lit(out, ",\"lower\":"));
    STEP(ad_buf_add_double(out, a->lower));
    STEP(add_lit(out, ",\"upper\":"));
    STEP(ad_buf_add_double(out, a->upper));
    STEP(add_lit(out, ",\"kind\":"));
    STEP(add_cstr(out, ad_kind_name(a->kind)));
    if (a->explained) {
        STEP(add_lit(out, ",\"direction\":"));
        STEP(add_lit(out, dir));
    } else {
        STEP(add_lit(out, ",\"stddev\":"));
        STEP(ad_buf_add_double(out, a->stddev));
        STEP(add_lit(out, ",\"zscore\":"));
        STEP(ad_buf_add_double(out, a->zscore));
        STEP(add_lit(out, ",\"threshold\":"));
        STEP(ad_buf_add_double(out, a->threshold));
        STEP(add_lit(out, ",\"direction\":"));
        STEP(add_lit(out, dir));
        STEP(add_lit(out, ",\"n\":"));
        STEP(add_u64(out, a->n));
    }
    STEP(add_lit(out, ",\"detector\":"));
    STEP(add_cstr(out, det));
    if (a->topic) {
        STEP(add_lit(out, ",\"source\":{\"topic\":"));
        STEP(add_cstr(out, a->topic));
        STEP(add_lit(out, ",\"partition\":"));
        STEP(add_i64(out, a->partition));
        STEP(add_lit(out, ",\"offset\":"));
        STEP(add_i64(out, a->offset));
        STEP(ad_buf_addc(out, '}'));
    }
    if (extra && extra_len) {
        STEP(ad_buf_addc(out, ','));
        STEP(ad_buf_add(out, extra, extra_len));
    }
    STEP(add_lit(out, "}\n"));

    return rc ? ad_buf_rollback(out, start, rc) : 0;
}

void ad_alert_explain_welford(struct ad_alert *a)
{
    double half = a->threshold * a->stddev;
    a->score = ad_detect_tail_score(fabs(a->zscore));
    a->lower = a->expected - half;
    a->upper = a->expected + half;
    a->kind = a->direction == AD_DIR_POSITIVE ? AD_KIND_SPIKE : AD_KIND_DIP;
}

int ad_alert_format(const struct ad_alert *a, struct ad_buf *out)
{
    return ad_alert_format_ext(a, NULL, 0, out);
}

/* ---------------------------------------------------------------------------
 * The remote member and the dashboard row
 * ------------------------------------------------------------------------- */

static int add_bool(struct ad_buf *out, bool v)
{
    return v ? ad_buf_add(out, "true", 4) : ad_buf_add(out, "false", 5);
}

/* Appends ,"name":<number>. */
static int add_num_member(struct ad_buf *out, const char *name, double v)
{
    int rc = ad_buf_printf(out, ",\"%s\":", name);
    return rc ? rc : ad_buf_add_double(out, v);
}

static int add_bool_member(struct ad_buf *out, const char *name, bool v)
{
    int rc = ad_buf_printf(out, ",\"%s\":", name);
    return rc ? rc : add_bool(out, v);
}

int ad_alert_remote_json(struct ad_buf *out, const struct ad_azure_verdict *v, const char *status,
                         const char *detail)
{
    size_t start = out->len;
    int rc;

    if (!status)
        return AD_EINVAL;
    rc = ad_buf_adds(out, "\"remote\":{\"status\":");
    if (rc == 0)
        rc = ad_buf_add_json_str(out, status, strlen(status));
    if (rc == 0 && v) {
        if ((rc = add_bool_member(out, "is_anomaly", v->is_anomaly)) == 0 &&
            (rc = add_num_member(out, "expected_value", v->expected_value)) == 0 &&
            (rc = add_num_member(out, "upper_margin", v->upper_margin)) == 0 &&
            (rc = add_num_member(out, "lower_margin", v->lower_margin)) == 0 &&
            (rc = add_bool_member(out, "is_positive_anomaly", v->is_positive_anomaly)) == 0)
            rc = add_bool_member(out, "is_negative_anomaly", v->is_negative_anomaly);
        if (rc == 0 && v->has_severity)
            rc = add_num_member(out, "severity", v->severity);
        if (rc == 0 && v->period >= 0)
            rc = ad_buf_printf(out, ",\"period\":%d", v->period);
    }
    if (rc == 0 && detail) {
        rc = ad_buf_adds(out, ",\"reason\":");
        if (rc == 0)
            rc = ad_buf_add_json_str(out, detail, strlen(detail));
    }
    if (rc == 0)
        rc = ad_buf_addc(out, '}');
    return rc ? ad_buf_rollback(out, start, rc) : 0;
}

/* The row's members that say which series fired and which alert it is. */
static int add_row_identity(struct ad_buf *out, const struct ad_alert *a)
{
    char id[AD_ALERT_ID_LEN + 1];
    const char *det = ad_detector_name(a->detector);
    int rc;

    ad_alert_id(a, id);
    if ((rc = ad_buf_printf(out, ",\"alertId\":\"%s\",\"key\":", id)) == 0 &&
        (rc = ad_buf_add_json_str(out, a->key ? a->key : "", a->key ? a->key_len : 0)) == 0 &&
        (rc = add_lit(out, ",\"metric\":")) == 0 && (rc = add_cstr(out, a->metric)) == 0 &&
        (rc = add_lit(out, ",\"detector\":")) == 0)
        rc = add_cstr(out, det ? det : "");
    return rc;
}

int ad_alert_webhook_row(struct ad_buf *out, const struct ad_alert *a, int64_t t_us)
{
    const struct ad_azure_verdict *v = a->remote;
    struct ad_azure_verdict lv;
    size_t start = out->len;
    double value = a->value;
    int rc;

    if (!v) {
        bool local = a->detector != AD_DETECTOR_REMOTE;
        memset(&lv, 0, sizeof(lv));
        lv.expected_value = a->expected;
        if (a->explained) {
            lv.upper_margin = a->upper - a->expected;
            lv.lower_margin = a->expected - a->lower;
        } else {
            lv.upper_margin = lv.lower_margin = a->threshold * a->stddev;
        }
        lv.is_anomaly = local;
        lv.is_positive_anomaly = local && value > a->expected;
        lv.is_negative_anomaly = local && value < a->expected;
        v = &lv;
    }
    rc = ad_buf_adds(out, "{\"timestamp\":\"");
    if (rc == 0)
        rc = ad_azure_add_time(out, t_us);
    if (rc == 0)
        rc = ad_buf_addc(out, '"');
    if (rc == 0 && (rc = add_num_member(out, "value", value)) == 0 &&
        (rc = add_num_member(out, "expectedValue", v->expected_value)) == 0 &&
        (rc = add_num_member(out, "upperMargin", v->upper_margin)) == 0 &&
        (rc = add_num_member(out, "lowerMargin", v->lower_margin)) == 0 &&
        (rc = add_bool_member(out, "isAnomaly", v->is_anomaly)) == 0 &&
        (rc = add_bool_member(out, "isPositiveAnomaly", v->is_positive_anomaly)) == 0 &&
        (rc = add_bool_member(out, "isNegativeAnomaly", v->is_negative_anomaly)) == 0)
        rc = add_row_identity(out, a);
    if (rc == 0)
        rc = ad_buf_addc(out, '}');
    return rc ? ad_buf_rollback(out, start, rc) : 0;
}

int ad_alert_batch_add(struct ad_buf *batch, const char *row, size_t len)
{
    size_t start = batch->len;
    int rc;

    if (start > 0 && batch->p[start - 1] != ']')
        return AD_EINVAL;
    if (start == 0)
        rc = ad_buf_addc(batch, '[');
    else {
        batch->len--; /* reopen the array */
        rc = ad_buf_addc(batch, ',');
    }
    if (rc == 0)
        rc = ad_buf_add(batch, row, len);
    if (rc == 0)
        rc = ad_buf_addc(batch, ']');
    if (rc && start > 0)
        batch->p[start - 1] = ']'; /* where the ',' went */
    return rc ? ad_buf_rollback(batch, start, rc) : 0;
}
