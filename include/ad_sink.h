/* ad_sink.h - where alert lines go: a file descriptor (stdout in replay) and
 * the alert log.
 *
 * The alert log is opened O_WRONLY|O_APPEND|O_CREAT (mode 0640) and every
 * line is written with exactly one write() call, so `tail -F` never sees a
 * torn line; ad_alert_log_reopen() (for logrotate) opens the path again and
 * swaps descriptors only once the new one is open. */
#ifndef AD_SINK_H
#define AD_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_fd.h" /* ad_write_all */

struct ad_alert_log;

/* Opens path (creating it; path is copied). Returns 0 and an owned log (free
 * with ad_alert_log_close()), or AD_EIO with "path: strerror" in err
 * (AD_EINVAL for an empty path, AD_ENOMEM). *out is set only on success. */
int ad_alert_log_open(const char *path, struct ad_alert_log **out, char *err, size_t errlen);

/* Writes one complete line (must end in '\n') with one write(). Returns 0 or
 * AD_EIO (the line is then counted as failed; a short write is reported as
 * AD_EIO too, after completing the line so the file stays line-aligned).
 * An empty line or one without the final '\n' is not written: AD_EINVAL,
 * counted as failed. line is borrowed. */
int ad_alert_log_write(struct ad_alert_log *log, const char *line, size_t len);

/* Re-opens the path; on failure the old descriptor is kept and AD_EIO is
 * returned with the reason in err. */
int ad_alert_log_reopen(struct ad_alert_log *log, char *err, size_t errlen);

/* Lines written and failed since open. */
uint64_t ad_alert_log_lines(const struct ad_alert_log *log);
uint64_t ad_alert_log_failures(const struct ad_alert_log *log);
/* Whether the latest write failed (a line without '\n' is not a write). */
bool ad_alert_log_failing(const struct ad_alert_log *log);

/* Closes and frees; accepts NULL. */
void ad_alert_log_close(struct ad_alert_log *log);

#endif
