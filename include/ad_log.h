/* ad_log.h - leveled logging to stderr.
 *
 * One macro per level; the level is checked before the arguments are
 * evaluated. Lines are "TIME LEVEL [module] message"; under journald
 * (JOURNAL_STREAM set) they carry a "<N>" priority prefix and no timestamp.
 * Alerts are data and never go through here; secrets are never passed here. */
#ifndef AD_LOG_H
#define AD_LOG_H

enum ad_log_level { AD_LOG_ERROR = 0, AD_LOG_WARN, AD_LOG_INFO, AD_LOG_DEBUG };

extern int ad_log_level_current;

/* Parses "error|warn|info|debug"; returns the level or -1. */
int ad_log_level_parse(const char *s);
const char *ad_log_level_name(int level);
void ad_log_set_level(int level);
/* Decides the output format from the environment (JOURNAL_STREAM). */
void ad_log_init(void);

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void ad_log_write(int level, const char *module, const char *fmt, ...);

#define AD_LOG_(lvl, mod, ...)                                                                     \
    do {                                                                                           \
        if ((lvl) <= ad_log_level_current)                                                         \
            ad_log_write((lvl), (mod), __VA_ARGS__);                                               \
    } while (0)

#define AD_ERROR(mod, ...) AD_LOG_(AD_LOG_ERROR, mod, __VA_ARGS__)
#define AD_WARN(mod, ...)  AD_LOG_(AD_LOG_WARN, mod, __VA_ARGS__)
#define AD_INFO(mod, ...)  AD_LOG_(AD_LOG_INFO, mod, __VA_ARGS__)
#define AD_DEBUG(mod, ...) AD_LOG_(AD_LOG_DEBUG, mod, __VA_ARGS__)

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
