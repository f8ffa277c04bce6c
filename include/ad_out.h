/* ad_out.h - an output for serialized bytes (redis' rio is the model): the
 * serializer appends to o->buf and calls ad_out_flush() now and then; what
 * happens to the bytes depends on how the output was set up.
 *
 * - A buffer output (ad_out_buf) keeps every byte in the caller's ad_buf:
 *   flushing does nothing, and the serializer may still patch bytes it wrote
 *   (ad_out_patchable).
 * - A stream output (ad_out_stream) stages bytes in a buffer of its own and
 *   hands them to a write function in chunks of about AD_OUT_CHUNK bytes; it
 *   keeps the FNV-1a-64 of every byte handed over (o->hash), so a checksum
 *   over the whole output can be appended without holding it. The io layer
 *   backs one with a file descriptor (ad_fd.h).
 *
 * Ownership: a buffer output borrows the ad_buf; a stream output owns its
 * staging buffer until ad_out_close(), which also accepts a buffer output. */
#ifndef AD_OUT_H
#define AD_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"

#define AD_OUT_CHUNK ((size_t)1 << 20)

/* Writes len bytes; returns 0 or non-zero to stop (the output fails). */
typedef int (*ad_out_write_fn)(void *ud, const void *buf, size_t len);

struct ad_out {
    struct ad_buf *buf;    /* append here */
    ad_out_write_fn write; /* NULL for a buffer output */
    void *ud;
    uint64_t hash;       /* FNV-1a-64 (from AD_FNV64_BASIS) of the bytes written out */
    uint64_t written;    /* bytes written out */
    struct ad_buf stage; /* a stream output's staging buffer */
};

/* A buffer output into b (borrowed; not reset). */
void ad_out_buf(struct ad_out *o, struct ad_buf *b);
/* A stream output through write(ud, ...). */
void ad_out_stream(struct ad_out *o, ad_out_write_fn write, void *ud);
/* True for a buffer output: every byte stays in o->buf, so bytes written
 * earlier may still be changed. */
bool ad_out_patchable(const struct ad_out *o);
/* Hands the staged bytes to the write function once there are at least
 * AD_OUT_CHUNK of them (all of them with force). Returns 0, or AD_EIO when
 * the write function failed. A buffer output does nothing. */
int ad_out_flush(struct ad_out *o, bool force);
/* Bytes appended in all (written out and staged). */
uint64_t ad_out_bytes(const struct ad_out *o);
/* Releases a stream output's staging buffer (unflushed bytes are dropped). */
void ad_out_close(struct ad_out *o);

#endif
