#include "ad_buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_alloc.h"
#include "ad_dtoa.h"
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

size_t ad_json_esc(unsigned char c, unsigned flags, char out[6])
{
    static const char hex[] = "0123456789abcdef";
    bool html = (flags & AD_JSON_HTML) != 0;
    char two = 0;

    if (c == '"' || c == '\\')
        two = (char)c;
    else if (!html)
        two = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;
    if (two) {
        out[0] = '\\';
        out[1] = two;
        return 2;
    }
    if (c >= 0x20 && (html ? c != '<' && c != '>' && c != '&' : c != 0x7f))
        return 0;
    memcpy(out, "\\u00", 4);
    out[4] = hex[c >> 4];
    out[5] = hex[c & 15];
    return 6;
}

/* U+2028 or U+2029 (E2 80 A8/A9) at s, n bytes available. */
static bool is_line_sep(const unsigned char *s, size_t n)
{
    return n >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9);
}

/* The bytes ad_buf_add_json_str_flags() must look at: bit 1 those that
 * ad_json_esc() escapes without flags, bit 2 those it escapes under
 * AD_JSON_HTML plus 0xe2 (U+2028/9 start with it). Every other byte is copied
 * at the cost of one lookup. test_report's test_json_str_bytes holds the
 * table to ad_json_esc() for every byte. */
#define JSON_CLASS_CTL8 3, 3, 3, 3, 3, 3, 3, 3
static const unsigned char json_class[256] = {
    JSON_CLASS_CTL8, JSON_CLASS_CTL8, JSON_CLASS_CTL8, JSON_CLASS_CTL8, /* 0x00 to 0x1f */
    ['"'] = 3,       ['\\'] = 3,      ['<'] = 2,       ['>'] = 2,
    ['&'] = 2,       [0x7f] = 1,      [0xe2] = 2,
};
#undef JSON_CLASS_CTL8

/* The escape of u[i] (len bytes in all) under flags, into e: its length (0:
 * the byte is copied), with *skip the further input bytes it stands for. */
static size_t json_esc_at(const unsigned char *u, size_t i, size_t len, unsigned flags, char e[6],
                          size_t *skip)
{
    size_t n = ad_json_esc(u[i], flags, e);

    *skip = 0;
    if (n == 0 && (flags & AD_JSON_HTML) && is_line_sep(u + i, len - i)) {
        memcpy(e, "\\u202", 5);
        e[5] = u[i + 2] == 0xa8 ? '8' : '9';
        *skip = 2;
        return 6;
    }
    return n;
}

int ad_buf_add_json_str_flags(struct ad_buf *b, const char *s, size_t len, unsigned flags)
{
    const unsigned char *u = (const unsigned char *)s;
    const unsigned char look = (flags & AD_JSON_HTML) ? 2 : 1;
    size_t need = len + 2, n, skip;
    char e[6], *w;
    int rc;

    /* One reservation makes room (or fails with the buffer as it was), then
     * the bytes are written in place: room for the longest escape of every
     * byte when the buffer's maximum allows it, else for the exact length,
     * counted first. */
    if (len > b->max)
        return AD_ELIMIT;
    bool worst = b->max >= 2 && len <= (b->max - 2) / 6 && b->len <= b->max - (6 * len + 2);
    if (worst)
        need = 6 * len + 2;
    for (size_t i = 0; !worst && i < len; i++) {
        if (!(json_class[u[i]] & look) || (n = json_esc_at(u, i, len, flags, e, &skip)) == 0)
            continue;
        need += n - 1 - skip;
        i += skip;
        if (need > b->max)
            return AD_ELIMIT;
    }
    if ((rc = buf_reserve(b, need)) != 0)
        return rc;
    w = b->p + b->len;
    *w++ = '"';
    for (size_t i = 0; i < len; i++) {
        if (!(json_class[u[i]] & look) || (n = json_esc_at(u, i, len, flags, e, &skip)) == 0) {
            *w++ = (char)u[i];
            continue;
        }
        memcpy(w, e, n);
        w += n;
        i += skip;
    }
    *w++ = '"';
    b->len = (size_t)(w - b->p);
    b->p[b->len] = '\0';
    return 0;
}

int ad_buf_add_json_str(struct ad_buf *b, const char *s, size_t len)
{
    return ad_buf_add_json_str_flags(b, s, len, 0);
}

int ad_buf_add_double(struct ad_buf *b, double v)
{
    if (v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308)
        return AD_EINVAL;
    /* integers stay integers (no '.' or exponent), which JSON allows */
    char tmp[AD_DTOA_MAX];
    size_t n = ad_dtoa(v, tmp);
    return ad_buf_add(b, tmp, n);
}
