/* ad_clock.c - the system clocks, or a test's replacement. */
#include "ad_clock.h"

#include <stddef.h>
#include <time.h>

static const struct ad_clock_source *override_src;

void ad_clock_override(const struct ad_clock_source *src)
{
    override_src = src;
}

int64_t ad_clock_wall_us(void)
{
    if (override_src && override_src->wall_us)
        return override_src->wall_us(override_src->ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ad_clock_mono_ns(void)
{
    if (override_src && override_src->mono_ns)
        return override_src->mono_ns(override_src->ud);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ad_clock_mono_ms(void)
{
    return ad_clock_mono_ns() / 1000000;
}
