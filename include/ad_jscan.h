/* ad_jscan.h - a strict single-pass JSON scanner that validates a record and
 * finds the values named by a few JSON pointers, without building a tree and
 * without allocating (the decoder's fast path; jansson is the reference).
 *
 * The scanner is conservative: it answers only for documents it is sure
 * jansson (json_loadb with JSON_DECODE_ANY | JSON_ALLOW_NUL) reads the same
 * way. Anything it is not sure about (a syntax error of any kind, an escape in
 * an object key, a duplicate member on a pointer's path, nesting deeper than
 * AD_JSCAN_MAX_DEPTH, an integer of 19 digits or more, a real that could
 * overflow a double, ...) is AD_JSCAN_FALLBACK: the caller parses the record
 * with jansson instead, which decides the outcome. */
#ifndef AD_JSCAN_H
#define AD_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define AD_JSCAN_MAX_DEPTH 64 /* containers, the top level being 1 */
#define AD_JSCAN_MAX_PATHS 32 /* pointers per scan */

/* One unescaped RFC 6901 token. */
struct ad_jscan_tok {
    const char *s; /* len bytes, NUL-terminated */
    size_t len;
    long long idx; /* the array index it names, or -1 */
};

/* A parsed JSON pointer of n >= 1 tokens (borrowed). */
struct ad_jscan_path {
    size_t n;
    const struct ad_jscan_tok *t;
};

enum ad_jscan_type {
    AD_JSCAN_MISSING = 0, /* the pointer names no value */
    AD_JSCAN_NULL,
    AD_JSCAN_FALSE,
    AD_JSCAN_TRUE,
    AD_JSCAN_INT,  /* a number without fraction or exponent */
    AD_JSCAN_REAL, /* any other number */
    AD_JSCAN_STRING,
    AD_JSCAN_OBJECT,
    AD_JSCAN_ARRAY
};

/* What a pointer names. p and len borrow the scanned buffer: for a number its
 * text, for a string its raw content between the quotes (escaped tells
 * whether it holds a backslash escape), for a container its first byte only. */
struct ad_jscan_val {
    enum ad_jscan_type type;
    bool escaped;
    const char *p;
    size_t len;
};

enum ad_jscan_rc {
    AD_JSCAN_OK = 0,     /* a valid object: vals[] filled */
    AD_JSCAN_NOT_OBJECT, /* a valid document whose top level is not an object */
    AD_JSCAN_FALLBACK    /* not decided here: ask jansson */
};

/* Scans len bytes of buf, fills vals[i] for paths[i] (n_paths <=
 * AD_JSCAN_MAX_PATHS; more is AD_JSCAN_FALLBACK). Duplicate members are
 * resolved the way jansson resolves them (the last wins) or, on a pointer's
 * path, left to jansson. vals[] is undefined unless AD_JSCAN_OK. */
enum ad_jscan_rc ad_jscan(const char *buf, size_t len, const struct ad_jscan_path *paths,
                          size_t n_paths, struct ad_jscan_val *vals);

/* The length of the JSON number at the start of p (len bytes) by the
 * scanner's grammar, 0 when there is none; *real tells an AD_JSCAN_REAL
 * (fraction or exponent) from an AD_JSCAN_INT. Its magnitude is not judged
 * (ad_jscan_int/ad_jscan_real refuse what they cannot read exactly) and what
 * follows it is not looked at. */
size_t ad_jscan_number(const char *p, size_t len, bool *real);

/* Reads an AD_JSCAN_INT text (at most 18 digits, as the scanner guarantees)
 * into *v. Returns false when it is not one. */
bool ad_jscan_int(const char *p, size_t len, long long *v);

/* Reads an AD_JSCAN_REAL text into *v exactly as strtod() does (correctly
 * rounded; overflow is refused). Returns false when it cannot (too long). */
bool ad_jscan_real(const char *p, size_t len, double *v);

#endif
