/* ad_dtoa.h - the decimal text of a double that every JSON number anomalyd
 * writes uses: the first of printf's %.15g, %.16g and %.17g that reads back
 * (strtod) to the same double. Fifteen digits when they suffice keeps
 * values such as 0.1 short; seventeen always read back. */
#ifndef AD_DTOA_H
#define AD_DTOA_H

#include <stddef.h>

/* Longest text either function writes, its NUL included
 * ("-1.2345678901234567e-308"). */
#define AD_DTOA_MAX 32

/* Writes v's text into out (NUL-terminated) and returns its length. v must
 * be finite. Exact integer arithmetic for the usual magnitudes (1e-3 to
 * 1e15), ad_dtoa_reference() for any other value: the bytes are the same. */
size_t ad_dtoa(double v, char out[AD_DTOA_MAX]);

/* The same text by snprintf and strtod alone, up to three of each: the
 * definition ad_dtoa() is tested and fuzzed against. */
size_t ad_dtoa_reference(double v, char out[AD_DTOA_MAX]);

#endif
