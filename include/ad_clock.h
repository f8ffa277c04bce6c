/* ad_clock.h - the one place the process reads a clock. The core never calls
 * it: its functions take the time as an argument. Tests replace the source
 * with ad_clock_override() and step it by hand. */
#ifndef AD_CLOCK_H
#define AD_CLOCK_H

#include <stdint.h>

/* Wall-clock time (CLOCK_REALTIME), microseconds since the epoch. */
int64_t ad_clock_wall_us(void);

/* Monotonic time (CLOCK_MONOTONIC) in nanoseconds and in milliseconds. */
int64_t ad_clock_mono_ns(void);
int64_t ad_clock_mono_ms(void);

/* A replacement clock for tests: each function gets ud. */
struct ad_clock_source {
    int64_t (*wall_us)(void *ud);
    int64_t (*mono_ns)(void *ud);
    void *ud;
};

/* Borrows src until the next call; NULL restores the system clocks. Not
 * thread-safe: set it before starting anything that reads the clock. */
void ad_clock_override(const struct ad_clock_source *src);

#endif
