/* ad_time.c - event-time parsing and formatting (RFC 3339, epoch numbers).
 *
 * Pure: no clock, no allocation, no locale. Every function is safe on any
 * input: strings are read only within [s, s + len), numbers are range-checked
 * before any conversion that could overflow. */
#include "ad_time.h"

#include <math.h>
#include <stdio.h>

#include "ad_err.h"

#define US_PER_S   INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)

/* Howard Hinnant's days_from_civil (http://howardhinnant.github.io/date_algorithms.html).
 * Valid for |y| up to about 2.5e13 (no overflow); m in 1..12, d in 1..31. */
int64_t ad_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400; /* [0, 399] */
    const int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* Hinnant's civil_from_days. Valid for every day count ad_time_format() can
 * produce from an int64_t of microseconds. */
void ad_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    const int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29u : dim[m - 1];
}

/* Reads n decimal digits at s; returns -1 if any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i] - '0';
        if (c > 9)
            return -1;
        v = v * 10 + (int)c;
    }
    return v;
}

int ad_time_parse_rfc3339(const char *s, size_t len, int64_t *out_us)
{
    /* 0         1         2
     * 0123456789012345678901234
     * YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM) */
    if (!s || len < 20)
        return AD_EPARSE;
    if (s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
        return AD_EPARSE;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return AD_EPARSE;
    int year = digits(s, 4), mon = digits(s + 5, 2), day = digits(s + 8, 2);
    int hour = digits(s + 11, 2), min = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (year < 0 || mon < 1 || mon > 12 || day < 1 || hour < 0 || hour > 23 || min < 0 ||
        min > 59 || sec < 0 || sec > 60)
        return AD_EPARSE;
    if ((unsigned)day > days_in_month(year, (unsigned)mon))
        return AD_EPARSE;

    size_t i = 19;
    int64_t frac_us = 0;
    if (s[i] == '.') {
        i++;
        size_t start = i;
        int64_t scale = 100000;
        while (i < len && (unsigned)((unsigned char)s[i] - '0') <= 9) {
            if (i - start >= 9)
                return AD_EPARSE;            /* more than 9 fraction digits */
            frac_us += (s[i] - '0') * scale; /* digits past the 6th add 0: truncation */
            scale /= 10;
            i++;
        }
        if (i == start)
            return AD_EPARSE;
    }
    if (i >= len)
        return AD_EPARSE;

    int64_t offset_s = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        if (len - i < 6 || s[i + 3] != ':')
            return AD_EPARSE;
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return AD_EPARSE;
        offset_s = (int64_t)oh * 3600 + om * 60;
        if (s[i] == '-')
            offset_s = -offset_s;
        i += 6;
    } else {
        return AD_EPARSE;
    }
    if (i != len)
        return AD_EPARSE; /* trailing garbage */

    /* A leap second (:60) is normalised by the arithmetic to the next second. */
    int64_t secs = ad_days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
                   (int64_t)hour * 3600 + (int64_t)min * 60 + sec - offset_s;
    int64_t us = secs * US_PER_S + frac_us; /* |secs| < 3e11: cannot overflow */
    if (us < AD_TIME_MIN_US || us > AD_TIME_MAX_US)
        return AD_ERANGE;
    *out_us = us;
    return 0;
}

static int check_range(int64_t us, int64_t *out_us)
{
    if (us < AD_TIME_MIN_US || us > AD_TIME_MAX_US)
        return AD_ERANGE;
    *out_us = us;
    return 0;
}

int ad_time_from_epoch(double v, int64_t per_second, int64_t *out_us)
{
    if (per_second <= 0)
        return AD_EINVAL;
    double x;
    if (per_second <= US_PER_S && US_PER_S % per_second == 0)
        x = v * (double)(US_PER_S / per_second); /* one rounding: s and ms exact factors */
    else
        x = v / ((double)per_second / (double)US_PER_S);
    /* NaN fails both comparisons; the bounds keep llround() inside int64_t. */
    if (!(x > -1e18 && x < 1e18))
        return AD_ERANGE;
    return check_range((int64_t)llround(x), out_us);
}

int ad_time_from_epoch_auto(double v, int64_t *out_us)
{
    if (v < 1e11)
        return ad_time_from_epoch(v, 1, out_us);
    if (v < 1e14)
        return ad_time_from_epoch(v, 1000, out_us);
    return ad_time_from_epoch(v, US_PER_S, out_us); /* also NaN: fails the range check */
}

int ad_time_from_epoch_int(int64_t v, int64_t per_second, int64_t *out_us)
{
    if (per_second <= 0)
        return AD_EINVAL;
    if (per_second <= US_PER_S && US_PER_S % per_second == 0) {
        int64_t mul = US_PER_S / per_second;
        if (v > INT64_MAX / mul || v < INT64_MIN / mul)
            return AD_ERANGE;
        return check_range(v * mul, out_us);
    }
    if (per_second % US_PER_S == 0) {
        /* Finer than a microsecond (e.g. ns): round to nearest, half up. */
        int64_t div = per_second / US_PER_S;
        int64_t q = v / div, r = v % div;
        if (r < 0) {
            q--;
            r += div;
        }
        if (r >= div - r)
            q++;
        return check_range(q, out_us);
    }
    return ad_time_from_epoch((double)v, per_second, out_us);
}

int ad_time_from_epoch_auto_int(int64_t v, int64_t *out_us)
{
    if (v < INT64_C(100000000000))
        return ad_time_from_epoch_int(v, 1, out_us);
    if (v < INT64_C(100000000000000))
        return ad_time_from_epoch_int(v, 1000, out_us);
    return ad_time_from_epoch_int(v, US_PER_S, out_us);
}

size_t ad_time_format(int64_t us, char *buf)
{
    int64_t days = us / US_PER_DAY, rem = us % US_PER_DAY; /* no multiply: INT64_MIN safe */
    if (rem < 0) {
        rem += US_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    ad_civil_from_days(days, &y, &m, &d);
    int64_t sod = rem / US_PER_S, frac = rem % US_PER_S;
    int hh = (int)(sod / 3600), mm = (int)(sod / 60 % 60), ss = (int)(sod % 60);
    int n;
    if (frac % 1000 == 0)
        n = snprintf(buf, AD_TIME_STRLEN, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m,
                     d, hh, mm, ss, (int)(frac / 1000));
    else
        n = snprintf(buf, AD_TIME_STRLEN, "%04lld-%02u-%02uT%02d:%02d:%02d.%06dZ", (long long)y, m,
                     d, hh, mm, ss, (int)frac);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < AD_TIME_STRLEN ? (size_t)n : AD_TIME_STRLEN - 1;
}
