/* ad_out.c - outputs for serialized bytes (see ad_out.h). */
#include "ad_out.h"

#include <string.h>

#include "ad_err.h"
#include "ad_hash.h"

#define STAGE_MAX ((size_t)1 << 30)

void ad_out_buf(struct ad_out *o, struct ad_buf *b)
{
    memset(o, 0, sizeof(*o));
    o->buf = b;
    o->hash = AD_FNV64_BASIS;
}

void ad_out_stream(struct ad_out *o, ad_out_write_fn write, void *ud)
{
    memset(o, 0, sizeof(*o));
    ad_buf_init(&o->stage, STAGE_MAX);
    o->buf = &o->stage;
    o->write = write;
    o->ud = ud;
    o->hash = AD_FNV64_BASIS;
}

bool ad_out_patchable(const struct ad_out *o)
{
    return o->write == NULL;
}

int ad_out_flush(struct ad_out *o, bool force)
{
    struct ad_buf *b = o->buf;
    if (!o->write || b->len == 0 || (!force && b->len < AD_OUT_CHUNK))
        return 0;
    o->hash = ad_fnv1a64(o->hash, b->p, b->len);
    o->written += b->len;
    int rc = o->write(o->ud, b->p, b->len) ? AD_EIO : 0;
    ad_buf_reset(b);
    return rc;
}

uint64_t ad_out_bytes(const struct ad_out *o)
{
    return o->written + o->buf->len;
}

void ad_out_close(struct ad_out *o)
{
    if (o->write)
        ad_buf_free(&o->stage);
    o->buf = NULL;
}
