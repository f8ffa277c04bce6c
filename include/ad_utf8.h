/* ad_utf8.h - the one strict UTF-8 rule (RFC 3629): no overlong forms, no
 * surrogates (U+D800-DFFF), nothing above U+10FFFF. The JSON scanner and the
 * log's JSON form both judge text by it. Pure; allocates nothing. */
#ifndef AD_UTF8_H
#define AD_UTF8_H

#include <stddef.h>

/* Length (1-4) of the one well-formed UTF-8 character that starts s, of the
 * n bytes there; 0 when there is none (n == 0, a continuation or invalid lead
 * byte, a sequence cut off by n, an overlong form, a surrogate, a code point
 * above U+10FFFF). */
static inline size_t ad_utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = n ? s[0] : 0x80;
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : lo; /* overlong */
        hi = c == 0xed ? 0x9f : hi; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : lo; /* overlong */
        hi = c == 0xf4 ? 0x8f : hi; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    return len;
}

#endif
