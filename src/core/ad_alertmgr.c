/* ad_alertmgr.c - an alert in Alertmanager's /api/v2/alerts shape (see
 * include/ad_alertmgr.h). Labels identify the series and the alert, so that
 * Alertmanager groups and silences by them; annotations carry the numbers,
 * as strings (Alertmanager's labels and annotations are string maps). */
#include "ad_alertmgr.h"

#include <math.h>
#include <string.h>

#include "ad_detect.h"
#include "ad_err.h"
#include "ad_time.h"
#include "ad_types.h"

static int add_str_member(struct ad_buf *out, const char *name, const char *v, size_t len,
                          bool first)
{
    int rc = first ? 0 : ad_buf_addc(out, ',');
    if (rc == 0)
        rc = ad_buf_add_json_str(out, name, strlen(name));
    if (rc == 0)
        rc = ad_buf_addc(out, ':');
    return rc ? rc : ad_buf_add_json_str(out, v, len);
}

static int add_cstr_member(struct ad_buf *out, const char *name, const char *v, bool first)
{
    return add_str_member(out, name, v ? v : "", v ? strlen(v) : 0, first);
}

/* A number as a JSON string member: "name":"31.2". */
static int add_num_str_member(struct ad_buf *out, const char *name, double v)
{
    struct ad_buf num;
    int rc;

    ad_buf_init(&num, 64);
    rc = ad_buf_add_double(&num, v);
    if (rc == 0)
        rc = add_str_member(out, name, num.p, num.len, false);
    ad_buf_free(&num);
    return rc;
}

static int add_time_member(struct ad_buf *out, const char *name, int64_t us)
{
    char t[AD_TIME_STRLEN];
    size_t n = ad_time_format(us, t);
    return add_str_member(out, name, t, n, false);
}

static int add_labels(struct ad_buf *out, const struct ad_alert *a, const char *det,
                      const char *dir)
{
    char id[AD_ALERT_ID_LEN + 1];
    int rc;

    ad_alert_id(a, id);
    if ((rc = ad_buf_adds(out, "{\"labels\":{")) == 0 &&
        (rc = add_cstr_member(out, "alertname", "AnomalyDetected", true)) == 0 &&
        (rc = add_str_member(out, "key", a->key ? a->key : "", a->key ? a->key_len : 0, false)) ==
            0 &&
        (rc = add_cstr_member(out, "metric", a->metric, false)) == 0 &&
        (rc = add_cstr_member(out, "detector", det, false)) == 0 &&
        (rc = add_cstr_member(out, "direction", dir, false)) == 0 &&
        (rc = add_cstr_member(out, "kind", ad_kind_name(a->kind), false)) == 0 &&
        (rc = add_cstr_member(out, "alert_id", id, false)) == 0)
        rc = ad_buf_addc(out, '}');
    return rc;
}

static int add_summary(struct ad_buf *out, const struct ad_alert *a)
{
    struct ad_buf s;
    int rc;

    ad_buf_init(&s, 4096);
    rc = ad_buf_printf(&s, "%s of %.*s is ", a->metric ? a->metric : "",
                       (int)(a->key ? a->key_len : 0), a->key ? a->key : "");
    if (rc == 0)
        rc = ad_buf_add_double(&s, a->value);
    if (rc == 0)
        rc = ad_buf_adds(&s, ", expected ");
    if (rc == 0)
        rc = ad_buf_add_double(&s, a->expected);
    if (rc == 0)
        rc = add_str_member(out, "summary", s.p, s.len, true);
    ad_buf_free(&s);
    return rc;
}

int ad_alertmgr_alert(struct ad_buf *out, const struct ad_alert *a)
{
    const char *det = ad_detector_name(a->detector);
    const char *dir = a->direction == AD_DIR_POSITIVE   ? "positive"
                      : a->direction == AD_DIR_NEGATIVE ? "negative"
                                                        : NULL;
    size_t start = out->len;
    int rc;

    if (!det || !dir || !isfinite(a->value) || !isfinite(a->expected) || !isfinite(a->lower) ||
        !isfinite(a->upper) || !isfinite(a->score) || a->window_end_us > INT64_MAX / 2)
        return AD_EINVAL;
    if ((rc = add_labels(out, a, det, dir)) == 0 &&
        (rc = ad_buf_adds(out, ",\"annotations\":{")) == 0 && (rc = add_summary(out, a)) == 0 &&
        (rc = add_num_str_member(out, "value", a->value)) == 0 &&
        (rc = add_num_str_member(out, "expected", a->expected)) == 0 &&
        (rc = add_num_str_member(out, "lower", a->lower)) == 0 &&
        (rc = add_num_str_member(out, "upper", a->upper)) == 0 &&
        (rc = add_num_str_member(out, "score", a->score)) == 0 &&
        (rc = ad_buf_addc(out, '}')) == 0 &&
        (rc = add_time_member(out, "startsAt", a->window_start_us)) == 0 &&
        (rc = add_time_member(out, "endsAt", a->window_end_us + AD_ALERTMGR_HOLD_US)) == 0)
        rc = ad_buf_addc(out, '}');
    return rc ? ad_buf_rollback(out, start, rc) : 0;
}
