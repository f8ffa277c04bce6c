/* ad_jscan.c - the decoder's fast path: one pass over a record's bytes that
 * validates it as strict JSON and notes where the configured pointers' values
 * are. No tree, no allocation, no recursion (an explicit stack of at most
 * AD_JSCAN_MAX_DEPTH frames).
 *
 * The rule that keeps it in step with jansson: it never rejects. A document
 * it accepts is one jansson accepts with the same values; everything else
 * (including every malformed document) is AD_JSCAN_FALLBACK, and jansson
 * gives the verdict and its reason. So each check below may be stricter than
 * jansson's, never looser:
 * - UTF-8: strict (no overlongs, surrogates or code points past U+10FFFF),
 *   bytes >= 0x80 only inside strings.
 * - Strings: no raw control bytes; escapes \" \\ \/ \b \f \n \r \t \uXXXX,
 *   a high surrogate only with a low one after it, no lone low surrogate.
 * - Object keys: no escapes at all (jansson refuses \u0000 in a key, and a
 *   pointer could match an escaped key).
 * - Numbers: the JSON grammar; integers of 19 digits or more (jansson fails
 *   past int64) and reals whose magnitude could pass 1e300 (jansson fails on
 *   overflow past DBL_MAX) are left to jansson.
 * - Duplicate members: jansson keeps the last. A duplicate that matches a
 *   pointer token on the pointer's path is left to jansson; other duplicates
 *   do not matter, nobody reads them.
 * - Nesting past AD_JSCAN_MAX_DEPTH (the decoder's limit) is left to jansson,
 *   which then says TOO_DEEP or whatever else is wrong first. */
#include "ad_jscan.h"
#include "ad_utf8.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t mask_t; /* one bit per path: AD_JSCAN_MAX_PATHS <= 32 */

struct frame {
    bool obj;
    mask_t mask;   /* paths still descending through this container */
    mask_t seen;   /* objects: paths whose token a member already matched */
    long long idx; /* arrays: the index of the current element */
};

struct scan {
    const unsigned char *b;
    size_t len, i;
    const struct ad_jscan_path *paths;
    size_t n_paths;
    struct ad_jscan_val *vals;
    mask_t final[AD_JSCAN_MAX_DEPTH + 1]; /* paths of exactly L tokens, by L */
};

static void skip_ws(struct scan *s)
{
    while (s->i < s->len) {
        unsigned char c = s->b[s->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        s->i++;
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads \uXXXX at s->i (pointing at the backslash). Returns the code unit or
 * -1. */
static long read_u(struct scan *s)
{
    if (s->len - s->i < 6 || s->b[s->i] != '\\' || s->b[s->i + 1] != 'u')
        return -1;
    long v = 0;
    for (size_t k = 2; k < 6; k++) {
        int h = hexval(s->b[s->i + k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    s->i += 6;
    return v;
}

/* One escape at s->i (the backslash). Returns false when not sure. */
static bool scan_escape(struct scan *s)
{
    if (s->len - s->i < 2)
        return false;
    switch (s->b[s->i + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        s->i += 2;
        return true;
    case 'u':
        break;
    default:
        return false;
    }
    long u = read_u(s);
    if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
        return false;
    if (u >= 0xD800 && u <= 0xDBFF) {
        long lo = read_u(s);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return false;
    }
    return true;
}

/* A string at s->i (the opening quote). Sets its content span and whether it
 * holds an escape; leaves s->i after the closing quote. */
static bool scan_string(struct scan *s, size_t *start, size_t *end, bool *escaped)
{
    const unsigned char *b = s->b;
    size_t i = ++s->i;
    *start = i;
    *escaped = false;
    for (;;) {
        while (i < s->len && b[i] >= 0x20 && b[i] < 0x80 && b[i] != '"' && b[i] != '\\')
            i++;
        if (i >= s->len || b[i] < 0x20)
            return false;
        s->i = i;
        if (b[i] == '"')
            break;
        if (b[i] == '\\') {
            *escaped = true;
            if (!scan_escape(s))
                return false;
            i = s->i;
        } else {
            size_t u = ad_utf8_len(b + i, s->len - i); /* 2-4 here: b[i] >= 0x80 */
            if (u == 0)
                return false;
            i += u;
        }
    }
    *end = i;
    s->i = i + 1;
    return true;
}

static size_t scan_digits(struct scan *s)
{
    size_t k = s->i;
    while (s->i < s->len && s->b[s->i] >= '0' && s->b[s->i] <= '9')
        s->i++;
    return s->i - k;
}

/* A number by the JSON grammar at s->i (s->i < s->len); sets *real, *intd
 * (the digits before any fraction) and *exp (the exponent, saturated at
 * 100,000). False on a grammar error. Inlined into both callers: the
 * decoder's scan_scalar is a hot path (a call here cost it about 4%). */
__attribute__((always_inline)) static inline bool number_grammar(struct scan *s, bool *real,
                                                                 size_t *intd_out, long *exp_out)
{
    if (s->b[s->i] == '-')
        s->i++;
    size_t intd = scan_digits(s);
    if (intd == 0 || (intd > 1 && s->b[s->i - intd] == '0'))
        return false;
    *real = false;
    if (s->i < s->len && s->b[s->i] == '.') {
        s->i++;
        if (scan_digits(s) == 0)
            return false;
        *real = true;
    }
    long exp = 0;
    if (s->i < s->len && (s->b[s->i] == 'e' || s->b[s->i] == 'E')) {
        s->i++;
        bool neg = false;
        if (s->i < s->len && (s->b[s->i] == '+' || s->b[s->i] == '-'))
            neg = s->b[s->i++] == '-';
        size_t k = s->i;
        if (scan_digits(s) == 0)
            return false;
        for (; k < s->i && exp < 100000; k++)
            exp = exp * 10 + (s->b[k] - '0');
        exp = neg ? -exp : exp;
        *real = true;
    }
    *intd_out = intd;
    *exp_out = exp;
    return true;
}

/* A number at s->i; sets *real. False on a grammar error or a magnitude that
 * jansson might refuse. */
static bool scan_number(struct scan *s, bool *real)
{
    size_t intd;
    long exp;
    if (!number_grammar(s, real, &intd, &exp))
        return false;
    if (!*real)
        return intd <= 18;
    return (long)intd + exp <= 300; /* |value| < 10^(intd + exp) */
}

size_t ad_jscan_number(const char *p, size_t len, bool *real)
{
    struct scan s = {.b = (const unsigned char *)p, .len = len};
    size_t intd;
    long exp;
    return len && number_grammar(&s, real, &intd, &exp) ? s.i : 0;
}

static bool scan_literal(struct scan *s, const char *lit, size_t n)
{
    if (s->len - s->i < n || memcmp(s->b + s->i, lit, n) != 0)
        return false;
    s->i += n;
    return true;
}

/* A scalar at s->i, recorded for the paths in finals. */
static bool scan_scalar(struct scan *s, mask_t finals)
{
    size_t start = s->i, end;
    bool escaped = false, real;
    enum ad_jscan_type type;
    switch (s->b[s->i]) {
    case '"':
        if (!scan_string(s, &start, &end, &escaped))
            return false;
        type = AD_JSCAN_STRING;
        break;
    case 't':
        type = AD_JSCAN_TRUE;
        if (!scan_literal(s, "true", 4))
            return false;
        break;
    case 'f':
        type = AD_JSCAN_FALSE;
        if (!scan_literal(s, "false", 5))
            return false;
        break;
    case 'n':
        type = AD_JSCAN_NULL;
        if (!scan_literal(s, "null", 4))
            return false;
        break;
    default:
        if (!scan_number(s, &real))
            return false;
        type = real ? AD_JSCAN_REAL : AD_JSCAN_INT;
        break;
    }
    if (type != AD_JSCAN_STRING)
        end = s->i;
    for (size_t p = 0; finals; p++, finals >>= 1)
        if (finals & 1)
            s->vals[p] = (struct ad_jscan_val){type, escaped, (const char *)s->b + start,
                                               end - start};
    return true;
}

/* The paths of mask whose token at level names key (an object member). */
static mask_t match_key(const struct scan *s, mask_t mask, size_t level, const unsigned char *key,
                        size_t klen)
{
    mask_t out = 0;
    for (size_t p = 0; mask; p++, mask >>= 1) {
        const struct ad_jscan_tok *t = &s->paths[p].t[level];
        if ((mask & 1) && t->len == klen && memcmp(t->s, key, klen) == 0)
            out |= (mask_t)1 << p;
    }
    return out;
}

static mask_t match_index(const struct scan *s, mask_t mask, size_t level, long long idx)
{
    mask_t out = 0;
    for (size_t p = 0; mask; p++, mask >>= 1)
        if ((mask & 1) && s->paths[p].t[level].idx == idx)
            out |= (mask_t)1 << p;
    return out;
}

/* An object member's key and colon; sets *mask to the paths it continues. */
static bool scan_member(struct scan *s, struct frame *f, size_t level, mask_t *mask)
{
    size_t ks, ke;
    bool escaped;
    skip_ws(s);
    if (s->i >= s->len || s->b[s->i] != '"' || !scan_string(s, &ks, &ke, &escaped) || escaped)
        return false;
    skip_ws(s);
    if (s->i >= s->len || s->b[s->i] != ':')
        return false;
    s->i++;
    *mask = f->mask ? match_key(s, f->mask, level, s->b + ks, ke - ks) : 0;
    if (*mask & f->seen)
        return false; /* a duplicate on a pointer's path */
    f->seen |= *mask;
    return true;
}

/* The loop over values; st[0..sp) are the open containers. */
static enum ad_jscan_rc scan_doc(struct scan *s, struct frame *st, mask_t mask)
{
    size_t sp = 0;
    for (;;) {
        /* A value at level sp, continuing the paths in mask. */
        skip_ws(s);
        if (s->i >= s->len)
            return AD_JSCAN_FALLBACK;
        unsigned char c = s->b[s->i];
        mask_t finals = mask & s->final[sp];
        if (c == '{' || c == '[') {
            if (sp == AD_JSCAN_MAX_DEPTH)
                return AD_JSCAN_FALLBACK;
            enum ad_jscan_type type = c == '{' ? AD_JSCAN_OBJECT : AD_JSCAN_ARRAY;
            for (mask_t f = finals, p = 0; f; p++, f >>= 1)
                if (f & 1)
                    s->vals[p] = (struct ad_jscan_val){type, false, (const char *)s->b + s->i, 1};
            st[sp++] = (struct frame){c == '{', mask & ~finals, 0, 0};
            s->i++;
            skip_ws(s);
            if (s->i < s->len && s->b[s->i] == (c == '{' ? '}' : ']')) {
                s->i++;
                sp--;
            } else if (c == '{') {
                if (!scan_member(s, &st[sp - 1], sp - 1, &mask))
                    return AD_JSCAN_FALLBACK;
                continue;
            } else {
                mask = st[sp - 1].mask ? match_index(s, st[sp - 1].mask, sp - 1, 0) : 0;
                continue;
            }
        } else if (!scan_scalar(s, finals)) {
            return AD_JSCAN_FALLBACK;
        }
        /* After a value: a separator, the end of containers, or the end. */
        for (;;) {
            skip_ws(s);
            if (sp == 0)
                return s->i == s->len ? AD_JSCAN_OK : AD_JSCAN_FALLBACK;
            if (s->i >= s->len)
                return AD_JSCAN_FALLBACK;
            struct frame *f = &st[sp - 1];
            c = s->b[s->i++];
            if (c == (f->obj ? '}' : ']')) {
                sp--;
                continue;
            }
            if (c != ',')
                return AD_JSCAN_FALLBACK;
            if (f->obj) {
                if (!scan_member(s, f, sp - 1, &mask))
                    return AD_JSCAN_FALLBACK;
            } else {
                f->idx++;
                mask = f->mask ? match_index(s, f->mask, sp - 1, f->idx) : 0;
            }
            break;
        }
    }
}

enum ad_jscan_rc ad_jscan(const char *buf, size_t len, const struct ad_jscan_path *paths,
                          size_t n_paths, struct ad_jscan_val *vals)
{
    if (n_paths > AD_JSCAN_MAX_PATHS)
        return AD_JSCAN_FALLBACK;
    struct scan s = {(const unsigned char *)buf, len, 0, paths, n_paths, vals, {0}};
    mask_t all = 0;
    for (size_t p = 0; p < n_paths; p++) {
        vals[p] = (struct ad_jscan_val){AD_JSCAN_MISSING, false, NULL, 0};
        if (paths[p].n == 0 || paths[p].n > AD_JSCAN_MAX_DEPTH)
            continue; /* names nothing the scanner can reach: stays missing */
        s.final[paths[p].n] |= (mask_t)1 << p;
        all |= (mask_t)1 << p;
    }
    struct frame st[AD_JSCAN_MAX_DEPTH];
    skip_ws(&s);
    bool object = s.i < len && buf[s.i] == '{';
    enum ad_jscan_rc rc = scan_doc(&s, st, object ? all : 0);
    if (rc == AD_JSCAN_OK && !object)
        return AD_JSCAN_NOT_OBJECT;
    return rc;
}

bool ad_jscan_int(const char *p, size_t len, long long *v)
{
    size_t i = 0;
    bool neg = len > 0 && p[0] == '-';
    i += neg;
    if (i == len || len - i > 18)
        return false;
    long long x = 0;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        x = x * 10 + (p[i] - '0');
    }
    *v = neg ? -x : x;
    return true;
}

/* Powers of ten that a double holds exactly. */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Clinger's fast path: a mantissa of at most 15 significant digits (exact in
 * a double) times or divided by an exact power of ten is one correctly
 * rounded IEEE operation, so it equals strtod's result. */
static bool real_fast(const char *p, size_t len, double *v)
{
    size_t i = 0;
    bool neg = p[0] == '-';
    i += neg;
    uint64_t m = 0;
    int sig = 0;
    long e10 = 0;
    bool frac = false;
    for (; i < len && p[i] != 'e' && p[i] != 'E'; i++) {
        if (p[i] == '.') {
            frac = true;
            continue;
        }
        if (m == 0 && p[i] == '0') {
            e10 -= frac;
            continue;
        }
        if (++sig > 15)
            return false;
        m = m * 10 + (uint64_t)(p[i] - '0');
        e10 -= frac;
    }
    if (i < len) {
        long x = 0;
        bool eneg = false;
        i++;
        if (p[i] == '+' || p[i] == '-')
            eneg = p[i++] == '-';
        for (; i < len && x < 1000; i++)
            x = x * 10 + (p[i] - '0');
        e10 += eneg ? -x : x;
    }
    double d = (double)m;
    if (m != 0 && (e10 < -22 || e10 > 22))
        return false;
    if (m != 0)
        d = e10 < 0 ? d / pow10_exact[-e10] : d * pow10_exact[e10];
    *v = neg ? -d : d;
    return true;
}

bool ad_jscan_real(const char *p, size_t len, double *v)
{
    if (len == 0)
        return false;
    if (real_fast(p, len, v))
        return true;
    char tmp[128];
    if (len >= sizeof(tmp))
        return false;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    double d = strtod(tmp, &end);
    if (end != tmp + len || (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)))
        return false;
    *v = d;
    return true;
}
