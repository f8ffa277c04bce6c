/* ad_config_print.c - the effective config as YAML in the layout of
 * config/anomalyd.yaml, secrets masked by the one rule of ad_secret.h. The
 * output loads back to the same config, secrets aside. */
#include "ad_config_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_err.h"
#include "ad_secret.h"

/* Can s be written as a plain scalar that reads back as the same text? In
 * flow context (inside [...]) ':' is not allowed. '$' always needs quoting
 * because the loader expands it. */
static bool plain_ok(const char *s, bool flow)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL"};
    const unsigned char *p = (const unsigned char *)s;

    if (!*p || !(isalnum(*p) || *p == '/' || *p == '_' || *p == '.'))
        return false;
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (strcmp(s, nulls[i]) == 0)
            return false;
    for (; *p; p++) {
        if (isalnum(*p) || strchr("_./+-", *p))
            continue;
        if (*p == ':' && !flow && p[1] && p[1] != ' ')
            continue;
        return false;
    }
    return true;
}

/* Length of the UTF-8 sequence at p and its code point, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
    size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
    uint32_t c = n == 4 ? *p & 0x07u : n == 3 ? *p & 0x0fu : *p & 0x1fu;

    if (n == 0 || *p >= 0xf8)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3fu);
    }
    *cp = c;
    return n;
}

/* Writes s as a YAML double-quoted scalar. With dollar, '$' is doubled so
 * that the loader's expansion gives s back. Code points YAML does not allow
 * raw (C0/C1 controls, line separators, BOM) are escaped. */
static int put_quoted(struct ad_buf *b, const char *s, bool dollar)
{
    const unsigned char *p = (const unsigned char *)s;
    int rc = ad_buf_addc(b, '"');

    while (rc == 0 && *p) {
        uint32_t cp;
        size_t n = 0;

        /* A run of printable ASCII that needs no escape goes in one piece. */
        while (p[n] >= 0x20 && p[n] < 0x7f && p[n] != '"' && p[n] != '\\' &&
               !(p[n] == '$' && dollar))
            n++;
        if (n) {
            rc = ad_buf_add(b, p, n);
            p += n;
        } else if (*p == '"' || *p == '\\') {
            rc = ad_buf_printf(b, "\\%c", *p++);
        } else if (*p == '$' && dollar) {
            rc = ad_buf_adds(b, "$$");
            p++;
        } else if (*p == '\n') {
            rc = ad_buf_adds(b, "\\n");
            p++;
        } else if (*p == '\t') {
            rc = ad_buf_adds(b, "\\t");
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            rc = ad_buf_printf(b, "\\x%02x", *p++);
        } else if ((n = utf8_decode(p, &cp)) == 0) {
            rc = ad_buf_addc(b, (char)*p++); /* not UTF-8 (only from the environment) */
        } else {
            if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
                (cp >= 0xd800 && cp < 0xe000) || cp == 0xfffe || cp == 0xffff)
                rc = ad_buf_printf(b, "\\u%04x", (unsigned)cp);
            else
                rc = ad_buf_add(b, p, n);
            p += n;
        }
    }
    return rc ? rc : ad_buf_addc(b, '"');
}

static int put_scalar(struct ad_buf *b, const char *s, bool flow, bool dollar)
{
    return plain_ok(s, flow) ? ad_buf_adds(b, s) : put_quoted(b, s, dollar);
}

/* Appends the value of o (after "key: "); depth is o's nesting level. */
static int put_value(struct ad_buf *b, const struct ad_config *cfg, const struct ad_option *o,
                     int depth)
{
    const void *f = ad_config_cfield(cfg, o);
    char tmp[64], url[AD_CONFIG_MAX_SCALAR + 1];
    int rc = 0;

    switch (o->type) {
    case AD_OPT_STRING:
        if (o->flags & AD_OPT_F_URL) /* a URL can carry a credential: the one rule */
            return put_scalar(b, ad_secret_url(*(char *const *)f, url, sizeof(url)), false, true);
        return put_scalar(b, *(char *const *)f, false, true);
    case AD_OPT_SECRET:
        return put_quoted(b, ad_secret_mask(*(char *const *)f), false);
    case AD_OPT_BOOL:
        return ad_buf_adds(b, *(const bool *)f ? "true" : "false");
    case AD_OPT_INT:
        return ad_buf_printf(b, "%" PRId64, *(const int64_t *)f);
    case AD_OPT_DURATION:
        ad_config_duration_text(*(const int64_t *)f, tmp, false);
        return ad_buf_adds(b, tmp);
    case AD_OPT_DOUBLE:
        ad_config_number_text(*(const double *)f, tmp, sizeof(tmp));
        if (!strpbrk(tmp, ".eEn"))
            return ad_buf_printf(b, "%s.0", tmp);
        return ad_buf_adds(b, tmp);
    case AD_OPT_ENUM: {
        int e = *(const int *)f;
        const char *name = ad_config_enum_name(o, e);
        return name ? ad_buf_adds(b, name) : ad_buf_printf(b, "%d", e);
    }
    case AD_OPT_STRLIST: {
        const struct ad_strlist *l = f;
        rc = ad_buf_addc(b, '[');
        for (size_t i = 0; rc == 0 && i < l->n; i++) {
            if (i)
                rc = ad_buf_adds(b, ", ");
            if (rc == 0)
                rc = put_scalar(b,
                                o->flags & AD_OPT_F_SECRET_VALUES ? ad_secret_mask(l->v[i])
                                                                  : l->v[i],
                                true, true);
        }
        return rc ? rc : ad_buf_addc(b, ']');
    }
    case AD_OPT_KVLIST: {
        const struct ad_kvlist *l = f;
        if (l->n == 0)
            return ad_buf_adds(b, "{}");
        for (size_t i = 0; rc == 0 && i < l->n; i++) {
            rc = ad_buf_printf(b, "\n%*s", 2 * (depth + 1), "");
            if (rc == 0)
                rc = put_scalar(b, l->k[i], false, false);
            if (rc == 0)
                rc = ad_buf_adds(b, ": ");
            if (rc == 0)
                rc = put_scalar(b,
                                o->flags & AD_OPT_F_SECRET_VALUES
                                    ? ad_secret_mask(l->v[i])
                                    : ad_secret_show(l->k[i], l->v[i]),
                                false, true);
        }
        return rc;
    }
    default:
        return 0;
    }
}

/* Is o, or a block above it, one of the n absent optional blocks? */
static bool hidden(const struct ad_option *const *absent, size_t n, const struct ad_option *o)
{
    for (size_t i = 0; i < n; i++)
        if (absent[i] == o || ad_config_path_under(o->path, absent[i]->path))
            return true;
    return false;
}

/* The absent optional blocks of cfg (owned; NULL when out of memory), found
 * once per print instead of once per row. */
static const struct ad_option **absent_blocks(const struct ad_config *cfg, size_t *n)
{
    const struct ad_option **v = malloc(ad_config_table_len_ * sizeof(*v));

    *n = 0;
    for (size_t i = 0; v && i < ad_config_table_len_; i++)
        if (ad_config_table_[i].type == AD_OPT_BLOCK &&
            !*(const bool *)ad_config_cfield(cfg, &ad_config_table_[i]))
            v[(*n)++] = &ad_config_table_[i];
    return v;
}

/* Splits a table path into at most AD_CONFIG_MAX_DEPTH components. */
static int split_path(const char *path, char comp[][48])
{
    int n = 0;
    while (n < AD_CONFIG_MAX_DEPTH) {
        size_t len = strcspn(path, ".");
        snprintf(comp[n++], 48, "%.*s", (int)len, path);
        if (!path[len])
            break;
        path += len + 1;
    }
    return n;
}

int ad_config_print(const struct ad_config *cfg, FILE *out)
{
    struct ad_buf b;
    char open[AD_CONFIG_MAX_DEPTH][48], comp[AD_CONFIG_MAX_DEPTH][48];
    int nopen = 0, rc;
    size_t nabsent;
    const struct ad_option **absent = absent_blocks(cfg, &nabsent);

    if (!absent)
        return AD_ENOMEM;
    ad_buf_init(&b, 64u * 1024 * 1024);
    rc = ad_buf_adds(&b, "# anomalyd effective configuration (secrets masked)\n");
    for (size_t i = 0; rc == 0 && i < ad_config_table_len_; i++) {
        const struct ad_option *o = &ad_config_table_[i];
        int n, j = 0;

        if (hidden(absent, nabsent, o))
            continue;
        n = split_path(o->path, comp);
        while (j < nopen && j < n - 1 && strcmp(open[j], comp[j]) == 0)
            j++;
        for (nopen = j; rc == 0 && j < n - 1; j++) {
            rc = ad_buf_printf(&b, "%*s%s:\n", 2 * j, "", comp[j]);
            memcpy(open[nopen++], comp[j], sizeof(comp[j]));
        }
        if (rc)
            break;
        if (o->type == AD_OPT_BLOCK) {
            rc = ad_buf_printf(&b, "%*s%s:\n", 2 * j, "", comp[j]);
            memcpy(open[nopen++], comp[j], sizeof(comp[j]));
            continue;
        }
        /* A non-empty map goes on the following lines: no space after the colon. */
        bool block = o->type == AD_OPT_KVLIST &&
                     ((const struct ad_kvlist *)ad_config_cfield(cfg, o))->n;
        rc = ad_buf_printf(&b, "%*s%s:%s", 2 * j, "", comp[j], block ? "" : " ");
        if (rc == 0)
            rc = put_value(&b, cfg, o, j);
        if (rc == 0)
            rc = ad_buf_addc(&b, '\n');
    }
    if (rc == 0 && b.len && (fwrite(b.p, 1, b.len, out) != b.len || fflush(out) != 0))
        rc = AD_EIO;
    ad_buf_free(&b);
    free(absent);
    return rc == AD_ELIMIT ? AD_ENOMEM : rc;
}
