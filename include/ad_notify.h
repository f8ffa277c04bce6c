/* ad_notify.h - systemd's notification protocol, spoken directly: one
 * datagram per message to the AF_UNIX socket named by NOTIFY_SOCKET (a path,
 * or an abstract name when it starts with '@'). A no-op when the variable is
 * unset. */
#ifndef AD_NOTIFY_H
#define AD_NOTIFY_H

#include <stdint.h>

/* Sends msg ("READY=1", "WATCHDOG=1", "RELOADING=1", "STOPPING=1",
 * "STATUS=..."). Returns 0 (also when not under systemd) or AD_EIO. */
int ad_notify(const char *msg);

/* The watchdog interval systemd asks for (WATCHDOG_USEC, for this pid when
 * WATCHDOG_PID is set), in microseconds, or 0 when none. */
uint64_t ad_notify_watchdog_usec(void);

#endif
