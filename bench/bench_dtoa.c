/* bench_dtoa - CPU per number of the JSON number writer: ad_dtoa() against
 * its reference (printf and strtod), the baseline measured in the same run,
 * over four sets of doubles of 100,000 each:
 *
 *   bench_dtoa [ROUNDS]   (default 5; best round of each is printed)
 *
 *   detector   what a response or an alert carries: results of arithmetic
 *              (17 or 16 digits), e.g. an expected value or a margin
 *   readings   what sensors send: short decimals (0.1 .. 99999.9)
 *   severity   mostly 0 with some values in (0, 1]
 *   wide       magnitudes 1e-12 .. 1e20 (many outside the fast path's range)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ad_dtoa.h"
#include "bench_util.h"

#define N 100000

static uint64_t rng = 7;

static double unif(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

/* CPU ns per number of one pass of f over v; sink keeps the work. */
static double pass(size_t (*f)(double, char *), const double *v, size_t *sink)
{
    char out[AD_DTOA_MAX];
    double t0 = cpu_s();
    for (size_t i = 0; i < N; i++)
        *sink += f(v[i], out);
    return (cpu_s() - t0) * 1e9 / N;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 5;
    if (rounds < 1 || rounds > 1000)
        rounds = 5;
    static double sets[4][N];
    static const char *const names[] = {"detector", "readings", "severity", "wide"};
    for (size_t i = 0; i < N; i++) {
        sets[0][i] = 50.0 + 10.0 * sin((double)i / 24.0) + unif() / 3.0;
        sets[1][i] = floor(unif() * 1000000.0) / 10.0;
        sets[2][i] = unif() < 0.9 ? 0.0 : unif();
        sets[3][i] = pow(10.0, unif() * 32.0 - 12.0) * (unif() < 0.5 ? -1.0 : 1.0);
    }
    size_t sink = 0;
    printf("%-10s %14s %14s %8s\n", "set", "ad_dtoa ns", "reference ns", "ratio");
    for (int s = 0; s < 4; s++) {
        double best_f = INFINITY, best_r = INFINITY;
        for (long r = 0; r < rounds; r++) {
            best_f = fmin(best_f, pass(ad_dtoa, sets[s], &sink));
            best_r = fmin(best_r, pass(ad_dtoa_reference, sets[s], &sink));
        }
        printf("%-10s %14.1f %14.1f %8.3f\n", names[s], best_f, best_r, best_f / best_r);
    }
    fprintf(stderr, "(%zu bytes written)\n", sink);
    return 0;
}
