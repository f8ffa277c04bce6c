/* ad_fft.h - a double-precision complex discrete Fourier transform of any
 * length: iterative radix-2 for powers of two, Bluestein's chirp-z for every
 * other length (itself computed with the radix-2 code). Pure and reentrant:
 * no global state, scratch comes from the caller or from ad_malloc (ad_alloc.h)
 * per call.
 *
 * Conventions (numpy's): forward X[k] = sum_j x[j] * exp(-2*pi*i*j*k/n);
 * inverse x[j] = (1/n) * sum_k X[k] * exp(+2*pi*i*j*k/n). */
#ifndef AD_FFT_H
#define AD_FFT_H

#include <stddef.h>

#define AD_FFT_MAX_N ((size_t)1 << 24)

/* Transforms re/im (n values each) in place. inverse = 0 forward, 1 inverse
 * (scaled by 1/n). Returns 0, AD_EINVAL (n == 0 or n > AD_FFT_MAX_N, NULL
 * arrays) or AD_ENOMEM (Bluestein's scratch). Borrows re and im. */
int ad_fft(double *re, double *im, size_t n, int inverse);

/* Bytes of scratch ad_fft_scratch() needs for length n (n doubles for a
 * power of two, about 6 * next_pow2(2n - 1) doubles otherwise). */
size_t ad_fft_scratch_bytes(size_t n);

/* As ad_fft() with caller-provided scratch of at least
 * ad_fft_scratch_bytes(n) bytes (double-aligned): never allocates. */
int ad_fft_scratch(double *re, double *im, size_t n, int inverse, double *scratch);

#endif
