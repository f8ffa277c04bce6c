/* ad_config_value.c - the values of options: durations, numbers and their
 * text, the conversion of a scalar's text by the option's type and bounds,
 * and the lists the config owns. */
#include "ad_config_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad_err.h"

/* ------------------------------------------------------------------------ */
/* Durations                                                                 */

int ad_duration_parse(const char *s, int64_t *out_us)
{
    int64_t total = 0, last = INT64_MAX; /* the previous unit: each next one is smaller */
    const char *p = s;

    if (!s || !*s)
        return AD_EPARSE;
    if (strcmp(s, "0") == 0) {
        *out_us = 0;
        return 0;
    }
    while (*p) {
        char *end;
        long long n;
        int64_t mul;

        if (!isdigit((unsigned char)*p))
            return AD_EPARSE;
        errno = 0;
        n = strtoll(p, &end, 10);
        if (errno == ERANGE)
            return AD_ERANGE;
        p = end;
        if (p[0] == 'u' && p[1] == 's')
            mul = US, p += 2;
        else if (p[0] == 'm' && p[1] == 's')
            mul = MS, p += 2;
        else if (p[0] == 's')
            mul = SEC, p++;
        else if (p[0] == 'm')
            mul = MIN, p++;
        else if (p[0] == 'h')
            mul = HOUR, p++;
        else if (p[0] == 'd')
            mul = DAY, p++;
        else
            return AD_EPARSE;
        if (mul >= last)
            return AD_EPARSE; /* "1m1m", "30m1h": each unit once, largest first */
        last = mul;
        if (n > INT64_MAX / mul || n * mul > INT64_MAX - total)
            return AD_ERANGE;
        total += n * mul;
    }
    *out_us = total;
    return 0;
}

/* The compact form, largest unit first; days only when asked (the bounds in
 * error messages read "30d", printed configs "720h" as Go prints them). */
size_t ad_config_duration_text(int64_t us, char *buf, bool days)
{
    static const struct {
        const char *name;
        int64_t us;
    } units[] = {{"d", DAY}, {"h", HOUR}, {"m", MIN}, {"s", SEC}, {"ms", MS}, {"us", US}};
    size_t n = 0;
    uint64_t u;

    if (us == 0) {
        memcpy(buf, "0", 2);
        return 1;
    }
    if (us < 0) {
        buf[n++] = '-';
        u = (uint64_t)0 - (uint64_t)us;
    } else {
        u = (uint64_t)us;
    }
    buf[n] = '\0';
    for (size_t i = days ? 0 : 1; i < sizeof(units) / sizeof(units[0]); i++) {
        uint64_t q = u / (uint64_t)units[i].us;
        if (q == 0)
            continue;
        u %= (uint64_t)units[i].us;
        int w = snprintf(buf + n, AD_DURATION_STRLEN - n, "%" PRIu64 "%s", q, units[i].name);
        if (w > 0 && (size_t)w < AD_DURATION_STRLEN - n)
            n += (size_t)w;
    }
    return n;
}

size_t ad_duration_format(int64_t us, char *buf)
{
    return ad_config_duration_text(us, buf, false);
}
/* ------------------------------------------------------------------------ */
/* Scalars                                                                   */

static int enum_index(const char *const *names, const char *s)
{
    for (int i = 0; names && names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static void enum_list(const char *const *names, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && n < len; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", i ? " | " : "", names[i]);
        n += w > 0 ? (size_t)w : 0;
    }
}

/* Shortest text that reads back as x; integral values without exponent. */
void ad_config_number_text(double x, char *buf, size_t len)
{
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, len, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
}

/* "2..16", "1ms..30d", "above 0, up to 0.49". */
/* Says in why that o's value is out of its range, and which range that is;
 * returns AD_ECONFIG. */
static int out_of_range(const struct ad_option *o, char *why, size_t wl)
{
    char a[AD_DURATION_STRLEN], b[AD_DURATION_STRLEN];
    const char *what = o->type == AD_OPT_DURATION ? "duration" : "value";
    if (o->type == AD_OPT_DURATION) {
        ad_config_duration_text((int64_t)o->min, a, true);
        ad_config_duration_text((int64_t)o->max, b, true);
    } else {
        ad_config_number_text(o->min, a, sizeof(a));
        ad_config_number_text(o->max, b, sizeof(b));
    }
    if (o->flags & AD_OPT_F_MIN_EXCL)
        snprintf(why, wl, "%s out of range (above %s, up to %s)", what, a, b);
    else
        snprintf(why, wl, "%s out of range (%s..%s)", what, a, b);
    return AD_ECONFIG;
}

static bool in_range(const struct ad_option *o, double x)
{
    if (o->flags & AD_OPT_F_MIN_EXCL ? x <= o->min : x < o->min)
        return false;
    return x <= o->max;
}

int ad_config_convert(const struct ad_option *o, const char *s, union ad_config_val *v, char *why,
                      size_t wl)
{
    char r[160];
    char *end;

    switch (o->type) {
    case AD_OPT_STRING:
    case AD_OPT_SECRET:
        if ((o->flags & AD_OPT_F_NONEMPTY) && !*s) {
            snprintf(why, wl, "must not be empty");
            return AD_ECONFIG;
        }
        if (o->enum_names && enum_index(o->enum_names, s) < 0) {
            enum_list(o->enum_names, r, sizeof(r));
            snprintf(why, wl, "invalid value \"%.64s\" (expected %s)", s, r);
            return AD_ECONFIG;
        }
        return (v->s = strdup(s)) ? 0 : AD_ENOMEM;
    case AD_OPT_BOOL:
        if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
            v->b = true;
        else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
            v->b = false;
        else {
            snprintf(why, wl, "expected a boolean (true/false/yes/no/on/off), got \"%.64s\"", s);
            return AD_ECONFIG;
        }
        return 0;
    case AD_OPT_ENUM:
        if ((v->e = enum_index(o->enum_names, s)) < 0) {
            enum_list(o->enum_names, r, sizeof(r));
            snprintf(why, wl, "invalid value \"%.64s\" (expected %s)", s, r);
            return AD_ECONFIG;
        }
        return 0;
    case AD_OPT_INT: {
        const char *d = s + (*s == '-' || *s == '+');
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (!isdigit((unsigned char)*d) || *end) {
            snprintf(why, wl, "expected an integer, got \"%.64s\"", s);
            return AD_ECONFIG;
        }
        if (errno == ERANGE || !in_range(o, (double)x)) {
            return out_of_range(o, why, wl);
        }
        v->i = x;
        return 0;
    }
    case AD_OPT_DOUBLE: {
        errno = 0;
        double x = strtod(s, &end);
        if (!*s || s[strspn(s, "0123456789+-.eE")] || *end || end == s) {
            snprintf(why, wl, "expected a number, got \"%.64s\"", s);
            return AD_ECONFIG;
        }
        if (!isfinite(x) || (errno == ERANGE && fabs(x) > 1) || !in_range(o, x)) {
            return out_of_range(o, why, wl);
        }
        v->d = x;
        return 0;
    }
    case AD_OPT_DURATION: {
        int64_t us;
        int rc = ad_duration_parse(s, &us);
        if (rc == AD_EPARSE) {
            snprintf(why, wl,
                     "invalid duration \"%.64s\" (e.g. 500ms, 10s, 1h30m; units d h m s ms us, "
                     "each at most once, largest first)",
                     s);
            return AD_ECONFIG;
        }
        if (rc || !in_range(o, (double)us)) {
            return out_of_range(o, why, wl);
        }
        v->i = us;
        return 0;
    }
    default:
        snprintf(why, wl, "not a scalar option");
        return AD_ECONFIG;
    }
}

void ad_config_store(struct ad_config *cfg, const struct ad_option *o, const union ad_config_val *v)
{
    void *f = ad_config_field(cfg, o);
    switch (o->type) {
    case AD_OPT_STRING:
    case AD_OPT_SECRET:
        free(*(char **)f);
        *(char **)f = v->s;
        break;
    case AD_OPT_BOOL:
        *(bool *)f = v->b;
        break;
    case AD_OPT_INT:
    case AD_OPT_DURATION:
        *(int64_t *)f = v->i;
        break;
    case AD_OPT_DOUBLE:
        *(double *)f = v->d;
        break;
    case AD_OPT_ENUM:
        *(int *)f = v->e;
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Lists                                                                     */

void ad_config_strlist_free(struct ad_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void ad_config_kvlist_free(struct ad_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->k[i]);
        free(l->v[i]);
    }
    free(l->k);
    free(l->v);
    l->k = l->v = NULL;
    l->n = 0;
}

int ad_config_kvlist_put(struct ad_kvlist *l, const char *k, const char *v)
{
    char *vv = strdup(v), *kk = NULL, **nk, **nv;
    size_t i;

    if (!vv)
        return AD_ENOMEM;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->k[i], k) == 0) {
            free(l->v[i]);
            l->v[i] = vv;
            return 0;
        }
    if (l->n >= AD_CONFIG_MAX_ITEMS || !(kk = strdup(k)))
        goto fail;
    if (!(nk = realloc(l->k, (l->n + 1) * sizeof(*nk))))
        goto fail;
    l->k = nk;
    if (!(nv = realloc(l->v, (l->n + 1) * sizeof(*nv))))
        goto fail;
    l->v = nv;
    l->k[l->n] = kk;
    l->v[l->n++] = vv;
    return 0;
fail:
    free(kk);
    free(vv);
    return l->n >= AD_CONFIG_MAX_ITEMS ? AD_ELIMIT : AD_ENOMEM;
}
