/* Fuzz target: checkpoint files (read back after a crash or from a disk
 * someone else wrote to).
 *
 * A checkpoint ends with the FNV-1a-64 of every byte before it, so a random
 * mutation is nearly always rejected at the checksum and the parser behind it
 * would stay unexplored. Each input is therefore read twice: once as it is
 * (the checksum check itself), and once with its last 8 bytes replaced by the
 * checksum of the rest, as a structure-aware fuzzer would write it, so that
 * every mutation of the body reaches the header and series parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_checkpoint.h"
#include "ad_hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int take(void *ud, const struct ad_series_state *st, const char *metric)
{
    size_t *n = ud;
    *n += st->key_len + st->rlen + (metric[0] != 0);
    return 0;
}

static void read_one(const uint8_t *buf, size_t size)
{
    struct ad_ckpt_header h;
    char err[256];
    size_t n = 0;
    if (ad_ckpt_check(buf, size, &h, err, sizeof(err)) == 0)
        ad_ckpt_each(buf, size, take, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_one(data, size);
    if (size < 8)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    uint64_t sum = ad_fnv1a64(AD_FNV64_BASIS, copy, size - 8);
    memcpy(copy + size - 8, &sum, 8);
    if (memcmp(copy, data, size) != 0)
        read_one(copy, size);
    free(copy);
    return 0;
}
