#include "ad_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_err.h"

void ad_buf_init(struct ad_buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void ad_buf_free(struct ad_buf *b)
{
    ad_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void ad_buf_reset(struct ad_buf *b)
{
    ad_buf_rollback(b, 0, 0);
}

int ad_buf_rollback(struct ad_buf *b, size_t len, int rc)
{
    b->len = len;
    if (b->p)
        b->p[len] = '\0';
    return rc;
}

/* Makes room for extra more bytes plus the NUL. */
static int buf_reserve(struct ad_buf *b, size_t extra)
{
    size_t need, ncap;
    char *np;

    if (extra > b->max || b->len > b->max - extra)
        return AD_ELIMIT;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap *= 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    np = ad_realloc(b->p, ncap);
    if (!np)
        return AD_ENOMEM;
    b->p = np;
    b->cap = ncap;
    return 0;
}

int ad_buf_add(struct ad_buf *b, const void *data, size_t len)
{
    int rc = buf_reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

int ad_buf_addc(struct ad_buf *b, char c)
{
    return ad_buf_add(b, &c, 1);
}

int ad_buf_adds(struct ad_buf *b, const char *s)
{
    return ad_buf_add(b, s, strlen(s));
}

int ad_buf_printf(struct ad_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return AD_EINVAL;
    if ((size_t)n < sizeof(small))
        return ad_buf_add(b, small, (size_t)n);
    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int ad_buf_add_json_str(struct ad_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = b->len;
    int rc = ad_buf_addc(b, '"');

    for (size_t i = 0; rc == 0 && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            rc = ad_buf_add(b, "\\\"", 2);
            break;
        case '\\':
            rc = ad_buf_add(b, "\\\\", 2);
            break;
        case '\n':
            rc = ad_buf_add(b, "\\n", 2);
            break;
        case '\r':
            rc = ad_buf_add(b, "\\r", 2);
            break;
        case '\t':
            rc = ad_buf_add(b, "\\t", 2);
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                rc = ad_buf_add(b, esc, 6);
            } else {
                rc = ad_buf_addc(b, (char)c);
            }
        }
    }
    if (rc == 0)
        rc = ad_buf_addc(b, '"');
    return rc ? ad_buf_rollback(b, start, rc) : 0;
}

int ad_buf_add_double(struct ad_buf *b, double v)
{
    char tmp[40];
    int n = 0;

    if (v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308)
        return AD_EINVAL;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* Keep it a JSON number that reads back as a float where it has no '.'
     * or exponent: integers stay integers, which JSON allows. */
    return ad_buf_add(b, tmp, (size_t)n);
}
