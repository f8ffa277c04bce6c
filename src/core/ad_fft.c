/* ad_fft.c - see ad_fft.h. Written for the univariate detector, whose
 * spectral residual needs a double-precision transform of arbitrary length
 * (the service's numpy FFT is double precision; a float FFT flips verdicts
 * near the threshold). Powers of two take the iterative radix-2 path; any
 * other length is re-expressed as a circular convolution (Bluestein) of a
 * power-of-two length >= 2n - 1, so the cost stays O(n log n). */
#include "ad_fft.h"

#include <math.h>
#include <stdint.h>

#include "ad_alloc.h"
#include "ad_err.h"

#define AD_FFT_PI 3.14159265358979323846

static int is_pow2(size_t n)
{
    return n && (n & (n - 1)) == 0;
}

static size_t next_pow2(size_t n)
{
    size_t m = 1;
    while (m < n)
        m <<= 1;
    return m;
}

/* cos/sin of 2*pi*k/n for k < n/2, into tw (n/2 cos then n/2 sin). */
static void fill_twiddles(double *tw, size_t n)
{
    size_t h = n / 2;
    for (size_t k = 0; k < h; k++) {
        double a = 2.0 * AD_FFT_PI * (double)k / (double)n;
        tw[k] = cos(a);
        tw[h + k] = sin(a);
    }
}

/* In-place forward radix-2 transform of a power-of-two length with a
 * twiddle table from fill_twiddles(n). */
static void radix2(double *re, double *im, size_t n, const double *tw)
{
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    size_t h = n / 2;
    for (size_t len = 2; len <= n; len <<= 1) {
        size_t half = len / 2, stride = n / len;
        for (size_t s = 0; s < n; s += len) {
            for (size_t k = 0; k < half; k++) {
                double wr = tw[k * stride], wi = -tw[h + k * stride];
                size_t a = s + k, b = a + half;
                double xr = re[b] * wr - im[b] * wi;
                double xi = re[b] * wi + im[b] * wr;
                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
            }
        }
    }
}

/* Forward transform of any length by Bluestein's algorithm. scratch holds
 * 4m (two padded sequences) + m (twiddles) + 2n (the chirp) doubles. */
static void bluestein(double *re, double *im, size_t n, double *scratch)
{
    size_t m = next_pow2(2 * n - 1);
    double *ar = scratch, *ai = ar + m, *br = ai + m, *bi = br + m;
    double *tw = bi + m, *cr = tw + m, *ci = cr + n;
    fill_twiddles(tw, m);
    /* chirp w[k] = exp(-i*pi*k^2/n); k^2 is reduced mod 2n first so the
     * angle stays small and exact for every n we accept. */
    for (size_t k = 0; k < n; k++) {
        uint64_t q = ((uint64_t)k * (uint64_t)k) % (2 * (uint64_t)n);
        double a = AD_FFT_PI * (double)q / (double)n;
        cr[k] = cos(a);
        ci[k] = -sin(a);
    }
    for (size_t k = 0; k < m; k++)
        ar[k] = ai[k] = br[k] = bi[k] = 0.0;
    for (size_t k = 0; k < n; k++) {
        ar[k] = re[k] * cr[k] - im[k] * ci[k];
        ai[k] = re[k] * ci[k] + im[k] * cr[k];
        br[k] = cr[k];
        bi[k] = -ci[k];
        if (k) {
            br[m - k] = cr[k];
            bi[m - k] = -ci[k];
        }
    }
    radix2(ar, ai, m, tw);
    radix2(br, bi, m, tw);
    /* pointwise product, then an inverse transform done as conj-forward-conj */
    for (size_t k = 0; k < m; k++) {
        double pr = ar[k] * br[k] - ai[k] * bi[k];
        double pi = ar[k] * bi[k] + ai[k] * br[k];
        ar[k] = pr;
        ai[k] = -pi;
    }
    radix2(ar, ai, m, tw);
    for (size_t k = 0; k < n; k++) {
        double vr = ar[k] / (double)m, vi = -ai[k] / (double)m;
        re[k] = vr * cr[k] - vi * ci[k];
        im[k] = vr * ci[k] + vi * cr[k];
    }
}

size_t ad_fft_scratch_bytes(size_t n)
{
    if (n == 0 || n > AD_FFT_MAX_N)
        return 0;
    if (is_pow2(n))
        return n * sizeof(double);
    return (5 * next_pow2(2 * n - 1) + 2 * n) * sizeof(double);
}

int ad_fft_scratch(double *re, double *im, size_t n, int inverse, double *scratch)
{
    if (!re || !im || !scratch || n == 0 || n > AD_FFT_MAX_N)
        return AD_EINVAL;
    if (n == 1)
        return 0;
    if (inverse)
        for (size_t k = 0; k < n; k++)
            im[k] = -im[k];
    if (is_pow2(n)) {
        fill_twiddles(scratch, n);
        radix2(re, im, n, scratch);
    } else {
        bluestein(re, im, n, scratch);
    }
    if (inverse)
        for (size_t k = 0; k < n; k++) {
            re[k] /= (double)n;
            im[k] = -im[k] / (double)n;
        }
    return 0;
}

int ad_fft(double *re, double *im, size_t n, int inverse)
{
    if (!re || !im || n == 0 || n > AD_FFT_MAX_N)
        return AD_EINVAL;
    double *scratch = ad_malloc(ad_fft_scratch_bytes(n));
    if (!scratch)
        return AD_ENOMEM;
    int rc = ad_fft_scratch(re, im, n, inverse, scratch);
    ad_free(scratch);
    return rc;
}
