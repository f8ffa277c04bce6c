/* ad_fd.h - file descriptor helpers: the one write-all of the program, and a
 * stream output (ad_out.h) backed by a file descriptor. */
#ifndef AD_FD_H
#define AD_FD_H

#include <stddef.h>

#include "ad_out.h"

/* Writes all of buf to fd, retrying on EINTR and short writes, and waiting
 * with poll() when a non-blocking fd is full (EAGAIN). Returns 0 or AD_EIO
 * (errno then tells why). */
int ad_write_all(int fd, const void *buf, size_t len);

/* A stream output (ad_out_stream) that writes to fd (borrowed: not closed by
 * ad_out_close). A failed write leaves errno set. */
void ad_out_fd(struct ad_out *o, int fd);

#endif
