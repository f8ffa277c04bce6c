/* ad_fd.c - write-all and the file descriptor output (see ad_fd.h). */
#include "ad_fd.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include "ad_err.h"

/* Waits until fd is writable; used when a non-blocking descriptor (a pipe
 * or terminal that libuv or the parent left in O_NONBLOCK) is full. */
static int wait_writable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int r;

    do {
        r = poll(&p, 1, -1);
    } while (r < 0 && errno == EINTR);
    if (r < 0 || (p.revents & (POLLERR | POLLNVAL)))
        return AD_EIO;
    return 0;
}

int ad_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (wait_writable(fd) != 0)
                    return AD_EIO;
                continue;
            }
            return AD_EIO;
        }
        if (w == 0) {
            errno = EIO;
            return AD_EIO;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int fd_write(void *ud, const void *buf, size_t len)
{
    return ad_write_all((int)(intptr_t)ud, buf, len);
}

void ad_out_fd(struct ad_out *o, int fd)
{
    ad_out_stream(o, fd_write, (void *)(intptr_t)fd);
}
