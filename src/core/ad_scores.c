/* ad_scores.c - the rows of replay's --scores (see include/ad_scores.h). */
#include "ad_scores.h"

#include <math.h>
#include <string.h>

#include "ad_detect.h"
#include "ad_err.h"
#include "ad_time.h"

int ad_scores_format_parse(const char *s)
{
    if (s && strcmp(s, "jsonl") == 0)
        return AD_SCORES_JSONL;
    if (s && strcmp(s, "csv") == 0)
        return AD_SCORES_CSV;
    return -1;
}

int ad_scores_header(int format, struct ad_buf *out)
{
    if (format != AD_SCORES_CSV)
        return 0;
    return ad_buf_adds(out, "key,metric,time,value,expected,lower,upper,score,is_anomaly,kind\n");
}

/* A CSV field: as it is, or quoted with inner quotes doubled. */
static int add_csv_str(struct ad_buf *b, const char *s, size_t len)
{
    if (strcspn(s, ",\"\r\n") >= len && memchr(s, '\0', len) == NULL)
        return ad_buf_add(b, s, len);
    int rc = ad_buf_addc(b, '"');
    for (size_t i = 0; rc == 0 && i < len; i++)
        rc = s[i] == '"' ? ad_buf_add(b, "\"\"", 2) : ad_buf_addc(b, s[i]);
    return rc ? rc : ad_buf_addc(b, '"');
}

/* A number, or the format's "no value" when the point was not scored. */
static int add_opt(struct ad_buf *b, int format, bool has, double v)
{
    if (has)
        return ad_buf_add_double(b, v);
    return format == AD_SCORES_CSV ? 0 : ad_buf_adds(b, "null");
}

static int add_jsonl(const struct ad_score_row *r, const char *t, size_t tn, struct ad_buf *b)
{
    const char *metric = r->metric ? r->metric : "";
    int rc = ad_buf_adds(b, "{\"key\":");
    rc = rc ? rc : ad_buf_add_json_str(b, r->key ? r->key : "", r->key ? r->key_len : 0);
    rc = rc ? rc : ad_buf_adds(b, ",\"metric\":");
    rc = rc ? rc : ad_buf_add_json_str(b, metric, strlen(metric));
    rc = rc ? rc : ad_buf_adds(b, ",\"time\":\"");
    rc = rc ? rc : ad_buf_add(b, t, tn);
    rc = rc ? rc : ad_buf_adds(b, "\",\"value\":");
    rc = rc ? rc : ad_buf_add_double(b, r->value);
    rc = rc ? rc : ad_buf_adds(b, ",\"expected\":");
    rc = rc ? rc : add_opt(b, AD_SCORES_JSONL, r->scored, r->expected);
    rc = rc ? rc : ad_buf_adds(b, ",\"lower\":");
    rc = rc ? rc : add_opt(b, AD_SCORES_JSONL, r->scored, r->lower);
    rc = rc ? rc : ad_buf_adds(b, ",\"upper\":");
    rc = rc ? rc : add_opt(b, AD_SCORES_JSONL, r->scored, r->upper);
    rc = rc ? rc : ad_buf_adds(b, ",\"score\":");
    rc = rc ? rc : ad_buf_add_double(b, r->scored ? r->score : 0.0);
    rc = rc ? rc
            : ad_buf_adds(b, r->is_anomaly ? ",\"is_anomaly\":true,\"kind\":\""
                                           : ",\"is_anomaly\":false,\"kind\":\"");
    rc = rc ? rc : ad_buf_adds(b, ad_kind_name(r->kind));
    return rc ? rc : ad_buf_adds(b, "\"}\n");
}

static int add_csv(const struct ad_score_row *r, const char *t, size_t tn, struct ad_buf *b)
{
    const char *metric = r->metric ? r->metric : "";
    int rc = add_csv_str(b, r->key ? r->key : "", r->key ? r->key_len : 0);
    rc = rc ? rc : ad_buf_addc(b, ',');
    rc = rc ? rc : add_csv_str(b, metric, strlen(metric));
    rc = rc ? rc : ad_buf_addc(b, ',');
    rc = rc ? rc : ad_buf_add(b, t, tn);
    rc = rc ? rc : ad_buf_addc(b, ',');
    rc = rc ? rc : ad_buf_add_double(b, r->value);
    rc = rc ? rc : ad_buf_addc(b, ',');
    rc = rc ? rc : add_opt(b, AD_SCORES_CSV, r->scored, r->expected);
    rc = rc ? rc : ad_buf_addc(b, ',');
    rc = rc ? rc : add_opt(b, AD_SCORES_CSV, r->scored, r->lower);
    rc = rc ? rc : ad_buf_addc(b, ',');
    rc = rc ? rc : add_opt(b, AD_SCORES_CSV, r->scored, r->upper);
    rc = rc ? rc : ad_buf_addc(b, ',');
    rc = rc ? rc : ad_buf_add_double(b, r->scored ? r->score : 0.0);
    rc = rc ? rc : ad_buf_adds(b, r->is_anomaly ? ",true," : ",false,");
    rc = rc ? rc : ad_buf_adds(b, ad_kind_name(r->kind));
    return rc ? rc : ad_buf_addc(b, '\n');
}

int ad_scores_format_row(const struct ad_score_row *r, int format, struct ad_buf *out)
{
    char t[AD_TIME_STRLEN];
    size_t start = out->len;
    int rc;

    if (format != AD_SCORES_JSONL && format != AD_SCORES_CSV)
        return AD_EINVAL;
    if (!isfinite(r->value) || (r->scored && !(isfinite(r->expected) && isfinite(r->lower) &&
                                               isfinite(r->upper) && isfinite(r->score))))
        return AD_EINVAL;
    size_t tn = ad_time_format(r->t_us, t);
    rc = format == AD_SCORES_CSV ? add_csv(r, t, tn, out) : add_jsonl(r, t, tn, out);
    if (rc) {
        out->len = start;
        if (out->p)
            out->p[start] = '\0';
    }
    return rc;
}
