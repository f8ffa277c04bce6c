#include "ad_log.h"

#include "ad_clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ad_log_level_current = AD_LOG_INFO;
static int log_journal;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* syslog priorities: err, warning, info, debug */
static const int level_prio[] = {3, 4, 6, 7};

int ad_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

const char *ad_log_level_name(int level)
{
    return level >= 0 && level < 4 ? level_names[level] : "?";
}

void ad_log_set_level(int level)
{
    if (level >= AD_LOG_ERROR && level <= AD_LOG_DEBUG)
        ad_log_level_current = level;
}

void ad_log_init(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    log_journal = js != NULL && *js != '\0';
}

void ad_log_write(int level, const char *module, const char *fmt, ...)
{
    char line[2048];
    size_t off = 0;
    int n;

    if (level < 0 || level > 3)
        level = AD_LOG_ERROR;
    if (log_journal) {
        n = snprintf(line, sizeof(line), "<%d>", level_prio[level]);
    } else {
        int64_t us = ad_clock_wall_us();
        time_t secs = (time_t)(us / 1000000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(us % 1000000 / 1000), level_names[level]);
    }
    off = n > 0 ? (size_t)n : 0;
    n = snprintf(line + off, sizeof(line) - off, "[%s] ", module);
    if (n > 0)
        off += (size_t)n;
    if (off < sizeof(line)) {
        va_list ap;
        va_start(ap, fmt);
        n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
        va_end(ap);
        if (n > 0)
            off += (size_t)n;
    }
    if (off >= sizeof(line) - 1)
        off = sizeof(line) - 2;
    line[off++] = '\n';
    /* One write per line: lines from threads never interleave mid-line. */
    fwrite(line, 1, off, stderr);
    fflush(stderr);
}

void ad_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
