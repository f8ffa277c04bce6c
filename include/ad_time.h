/* ad_time.h - event-time parsing and formatting. Times are int64_t
 * microseconds since the Unix epoch (UTC). Pure: no clock is read here. */
#ifndef AD_TIME_H
#define AD_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Accepted event times: 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z. */
#define AD_TIME_MIN_US 0
#define AD_TIME_MAX_US INT64_C(253402300799999999)

/* Parses RFC 3339 ("2026-11-20T10:00:00Z", "2026-11-20T10:00:00.123+01:00",
 * 't'/' ' separators, lowercase 'z'; fractions up to 9 digits, truncated to
 * microseconds). len is the string's length (no NUL needed). Returns 0,
 * AD_EPARSE for a malformed string or AD_ERANGE outside the accepted range. */
int ad_time_parse_rfc3339(const char *s, size_t len, int64_t *out_us);

/* Converts an epoch number in the given unit (1 = s, 1000 = ms, 1000000 = us)
 * to microseconds. Returns 0 or AD_ERANGE (also for NaN/Inf). */
int ad_time_from_epoch(double v, int64_t per_second, int64_t *out_us);

/* Picks the unit of a bare epoch number by magnitude: < 1e11 seconds,
 * < 1e14 milliseconds, else microseconds. Returns 0 or AD_ERANGE. */
int ad_time_from_epoch_auto(double v, int64_t *out_us);

/* Formats "2026-11-20T10:00:00.000Z" (milliseconds; microseconds when the
 * time has a sub-millisecond part). buf needs AD_TIME_STRLEN bytes. Returns
 * the length written. */
#define AD_TIME_STRLEN 32
size_t ad_time_format(int64_t us, char *buf);

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t ad_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The inverse: the civil date of a day count since 1970-01-01. */
void ad_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Exact integer forms of ad_time_from_epoch()/ad_time_from_epoch_auto(): no
 * precision is lost for any int64_t input (units above 1 us are rounded to
 * the nearest microsecond). Returns 0, AD_ERANGE, or AD_EINVAL for a
 * per_second <= 0. */
int ad_time_from_epoch_int(int64_t v, int64_t per_second, int64_t *out_us);
int ad_time_from_epoch_auto_int(int64_t v, int64_t *out_us);

#endif
