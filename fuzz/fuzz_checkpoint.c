/* Fuzz target: checkpoint files (read back after a crash or from a disk
 * someone else wrote to). */
#include <stdint.h>
#include <stdlib.h>

#include "ad_checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int take(void *ud, const struct ad_series_state *st, const char *metric)
{
    size_t *n = ud;
    *n += st->key_len + st->rlen + (metric[0] != 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ad_ckpt_header h;
    char err[256];
    size_t n = 0;
    if (ad_ckpt_check(data, size, &h, err, sizeof(err)) == 0)
        ad_ckpt_each(data, size, take, &n);
    return 0;
}
