/* ad_buf.h - a growable byte buffer with a hard maximum (after curl's dynbuf).
 *
 * The buffer owns its memory; ad_buf_free() releases it and accepts a zeroed
 * struct. The content is always NUL-terminated. Appending past max fails with
 * AD_ELIMIT and leaves the content unchanged. */
#ifndef AD_BUF_H
#define AD_BUF_H

#include <stddef.h>

struct ad_buf {
    char *p;
    size_t len;
    size_t cap;
    size_t max;
};

void ad_buf_init(struct ad_buf *b, size_t max);
void ad_buf_free(struct ad_buf *b);
void ad_buf_reset(struct ad_buf *b); /* len = 0, memory kept */
/* Cuts the content back to its first len bytes (len <= b->len; memory kept)
 * and returns rc: the one error exit of a function that appends several
 * pieces and must leave the buffer as it found it on failure. */
int ad_buf_rollback(struct ad_buf *b, size_t len, int rc);
int ad_buf_add(struct ad_buf *b, const void *data, size_t len);
int ad_buf_addc(struct ad_buf *b, char c);
int ad_buf_adds(struct ad_buf *b, const char *s);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int ad_buf_printf(struct ad_buf *b, const char *fmt, ...);
/* Appends s as a JSON string literal, quotes included: '"', '\\', '\n', '\r'
 * and '\t' as two-character escapes, other control characters and 0x7f as
 * \u00XX; every other byte is copied. */
int ad_buf_add_json_str(struct ad_buf *b, const char *s, size_t len);

/* Escape policies of ad_buf_add_json_str_flags() (0 is ad_buf_add_json_str's).
 * AD_JSON_HTML: safe inside an HTML <script> block: '<', '>', '&', U+2028 and U+2029 and
 * every control character as \uXXXX, '"' and '\\' as \" and \\, 0x7f copied. */
#define AD_JSON_HTML 1u

/* Appends s as a JSON string literal under the AD_JSON_* policy in flags.
 * On an error (the buffer's) the content is left as it was. */
int ad_buf_add_json_str_flags(struct ad_buf *b, const char *s, size_t len, unsigned flags);

/* The JSON escape of the single byte c under flags written to out (2 or 6
 * bytes) and its length; 0 (out untouched) when c is copied as it is. Bytes of
 * 0x80 and up are always copied: multi-byte sequences (U+2028/9) are the
 * caller's. Allocates nothing. */
size_t ad_json_esc(unsigned char c, unsigned flags, char out[6]);

/* Appends v's text by ad_dtoa() (finite only; AD_EINVAL otherwise). */
int ad_buf_add_double(struct ad_buf *b, double v);

#endif
