/* ad_log.h - leveled logging to stderr.
 *
 * One macro per level; the level is checked before the arguments are
 * evaluated. Lines are "TIME LEVEL [module] message", or with log.format
 * json one object per line: {"time":"2026-01-02T03:04:05.678Z","level":
 * "info","module":"http","msg":"..."}, with "fields":{...} for a line
 * written with AD_LOGF (the message escaped; bytes that are
 * not UTF-8 become U+FFFD). Under journald (stderr is the stream that
 * JOURNAL_STREAM names: its device and inode) a line starts with a "<N>"
 * priority prefix, and a text line has no timestamp. Alerts are data and
 * never go through here; secrets are never passed here. */
#ifndef AD_LOG_H
#define AD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ad_log_level { AD_LOG_ERROR = 0, AD_LOG_WARN, AD_LOG_INFO, AD_LOG_DEBUG };
/* log.format's values, in the order of the option's names. */
enum ad_log_format { AD_LOG_FORMAT_TEXT = 0, AD_LOG_FORMAT_JSON };

extern int ad_log_level_current;

/* Parses "error|warn|info|debug"; returns the level or -1. */
int ad_log_level_parse(const char *s);
const char *ad_log_level_name(int level);
void ad_log_set_level(int level);
/* enum ad_log_format; anything else is ignored. */
void ad_log_set_format(int format);
/* Decides whether stderr is journald's (JOURNAL_STREAM, checked against
 * stderr's device and inode). */
void ad_log_init(void);

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void ad_log_write(int level, const char *module, const char *fmt, ...);

/* One structured field of a log line, for the JSON form's "fields" object:
 * a string (str) or, when str is NULL, the integer num. The text form shows
 * only the message, which should say the same. Never a secret. */
struct ad_log_field {
    const char *key;
    const char *str;
    long long num;
};

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
void ad_log_write_fields(int level, const char *module, const struct ad_log_field *f, size_t n,
                         const char *fmt, ...);

#define AD_LOG_(lvl, mod, ...)                                                                     \
    do {                                                                                           \
        if ((lvl) <= ad_log_level_current)                                                         \
            ad_log_write((lvl), (mod), __VA_ARGS__);                                               \
    } while (0)

#define AD_ERROR(mod, ...) AD_LOG_(AD_LOG_ERROR, mod, __VA_ARGS__)
#define AD_WARN(mod, ...)  AD_LOG_(AD_LOG_WARN, mod, __VA_ARGS__)
#define AD_INFO(mod, ...)  AD_LOG_(AD_LOG_INFO, mod, __VA_ARGS__)
#define AD_DEBUG(mod, ...) AD_LOG_(AD_LOG_DEBUG, mod, __VA_ARGS__)
/* A line with fields (f: an array of n struct ad_log_field). */
#define AD_LOGF(lvl, mod, f, n, ...)                                                               \
    do {                                                                                           \
        if ((lvl) <= ad_log_level_current)                                                         \
            ad_log_write_fields((lvl), (mod), (f), (n), __VA_ARGS__);                              \
    } while (0)

/* A throttle for a warning that can repeat on every record or request: at
 * most burst lines per window of every_ms; the first call after a window
 * ended opens the next one and is told how many calls the limiter left out
 * in between. With burst 1 that is "log the first, then at most one line per
 * every_ms saying how many were left out". Zero-initialize it; one per
 * warning (or group of warnings), used from one thread. A caller may read
 * the fields: window_ms (when the current window opened, in the caller's
 * clock) and logged (lines allowed in it). */
struct ad_log_limit {
    int64_t window_ms; /* when the current window opened */
    unsigned logged;   /* lines allowed in it; 0 only before the first call */
    uint64_t left;     /* calls left out in it */
};

/* May the line be logged at now_ms (any clock in ms, the same on every
 * call)? burst >= 1. left_out (or NULL) gets the count of calls left out
 * in the previous window when this call opens a new one (then it is always
 * allowed), else 0. */
bool ad_log_limit_allow(struct ad_log_limit *l, int64_t now_ms, unsigned burst, int64_t every_ms,
                        uint64_t *left_out);

/* Invariants only, never input. */
#define AD_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ad_assert_fail(#cond, __FILE__, __LINE__);                                             \
    } while (0)
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void ad_assert_fail(const char *expr, const char *file, int line);

#endif
