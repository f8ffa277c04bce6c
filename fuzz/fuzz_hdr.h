/* fuzz_hdr.h - the record header the decode fuzz targets hand the decoder:
 * one header "k" whose value is the first bytes of the input. */
#ifndef FUZZ_HDR_H
#define FUZZ_HDR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ad_err.h"

struct hdr {
    const uint8_t *p;
    size_t len;
};

/* The decoder's header lookup (ad_record_meta's callback) over a struct hdr. */
static inline int header(void *ctx, const char *name, const void **val, size_t *len)
{
    const struct hdr *h = ctx;
    if (strcmp(name, "k") != 0)
        return AD_ENOENT;
    *val = h->p;
    *len = h->len;
    return 0;
}

#endif
