#include "ad_log.h"

#include "ad_buf.h"
#include "ad_clock.h"
#include "ad_utf8.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int ad_log_level_current = AD_LOG_INFO;
static int log_journal;
static int log_format = AD_LOG_FORMAT_TEXT;

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

void ad_log_set_format(int format)
{
    if (format == AD_LOG_FORMAT_TEXT || format == AD_LOG_FORMAT_JSON)
        log_format = format;
}

/* systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected
 * to stderr; a child whose stderr was redirected (to a file, a pipe) inherits
 * the variable, so it counts only when stderr is still that stream. */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    char tail;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void ad_log_init(void)
{
    log_journal = stderr_is_journal();
}

/* Appends src as the inside of a JSON string to dst (size bytes, at *off):
 * ad_buf_add_json_str's escapes, and bytes that are not UTF-8 become U+FFFD.
 * Stops short of the end; allocates nothing. */
static void json_escape(char *dst, size_t size, size_t *off, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t o = *off, n = strlen(src);
    for (size_t i = 0; i < n && o + 12 < size;) {
        size_t e = ad_json_esc(s[i], 0, dst + o), u = 1;
        if (e) {
            o += e;
        } else if ((u = ad_utf8_len(s + i, n - i)) == 0) {
            memcpy(dst + o, "\xef\xbf\xbd", 3);
            o += 3;
            u = 1;
        } else {
            memcpy(dst + o, s + i, u);
            o += u;
        }
        i += u;
    }
    *off = o;
}

static size_t put_time(char *line, size_t size)
{
    int64_t us = ad_clock_wall_us();
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[128]; /* room for any int fields: gcc's -O3 bound check needs it */
    int n = snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(us % 1000000 / 1000));
    if (n <= 0 || size == 0)
        return 0;
    size_t len = (size_t)n < size ? (size_t)n : size - 1;
    memcpy(line, ts, len);
    line[len] = '\0';
    return len;
}

/* Appends the formatted text at *off, never past size - 1. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
addf(char *line, size_t size, size_t *off, const char *fmt, ...)
{
    va_list ap;
    if (*off >= size - 1)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(line + *off, size - *off, fmt, ap);
    va_end(ap);
    if (n > 0)
        *off = *off + (size_t)n < size - 1 ? *off + (size_t)n : size - 1;
}

/* The "fields" member of the JSON form: strings escaped, numbers as they are. */
static void json_fields(char *line, size_t size, size_t *off, const struct ad_log_field *f,
                        size_t n)
{
    addf(line, size, off, ",\"fields\":{");
    for (size_t i = 0; i < n && *off + 40 < size; i++) {
        addf(line, size, off, "%s\"", i ? "," : "");
        json_escape(line, size, off, f[i].key);
        if (f[i].str) {
            addf(line, size, off, "\":\"");
            json_escape(line, size, off, f[i].str);
            addf(line, size, off, "\"");
        } else {
            addf(line, size, off, "\":%lld", f[i].num);
        }
    }
    addf(line, size, off, "}");
}

/* The JSON form: {"time","level","module","msg"[,"fields"]} on one line. */
static size_t json_line(char *line, size_t size, size_t off, int level, const char *module,
                        const char *msg, const struct ad_log_field *f, size_t n)
{
    char t[40];
    put_time(t, sizeof(t));
    addf(line, size, &off, "{\"time\":\"%s\",\"level\":\"%s\",\"module\":\"", t,
         level_names[level]);
    json_escape(line, size, &off, module);
    addf(line, size, &off, "\",\"msg\":\"");
    json_escape(line, n ? size - 256 : size, &off, msg); /* room for the fields */
    addf(line, size, &off, "\"");
    if (n)
        json_fields(line, size, &off, f, n);
    addf(line, size, &off, "}");
    return off;
}

__attribute__((format(printf, 5, 0))) static void log_vwrite(int level, const char *module,
                                                             const struct ad_log_field *f,
                                                             size_t nf, const char *fmt, va_list ap)
{
    char line[4096], msg[2048];
    size_t off = 0;
    int n;

    if (level < 0 || level > 3)
        level = AD_LOG_ERROR;
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0)
        msg[0] = 0;
    if (log_journal)
        off = (size_t)snprintf(line, sizeof(line), "<%d>", level_prio[level]);
    if (log_format == AD_LOG_FORMAT_JSON) {
        off = json_line(line, sizeof(line) - 1, off, level, module, msg, f, nf);
    } else {
        if (!log_journal) {
            off = put_time(line, sizeof(line));
            off += (size_t)snprintf(line + off, sizeof(line) - off, " %-5s ", level_names[level]);
        }
        n = snprintf(line + off, sizeof(line) - off, "[%s] %s", module, msg);
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

void ad_log_write(int level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, module, NULL, 0, fmt, ap);
    va_end(ap);
}

void ad_log_write_fields(int level, const char *module, const struct ad_log_field *f, size_t n,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, module, f, n, fmt, ap);
    va_end(ap);
}

void ad_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}

/* ---- the limiter ------------------------------------------------------------- */

bool ad_log_limit_allow(struct ad_log_limit *l, int64_t now_ms, unsigned burst, int64_t every_ms,
                        uint64_t *left_out)
{
    AD_ASSERT(burst >= 1);
    uint64_t left = 0;
    if (l->logged == 0 || now_ms - l->window_ms >= every_ms) {
        left = l->left;
        *l = (struct ad_log_limit){.window_ms = now_ms};
    }
    if (left_out)
        *left_out = left;
    if (l->logged < burst) {
        l->logged++;
        return true;
    }
    l->left++;
    return false;
}
