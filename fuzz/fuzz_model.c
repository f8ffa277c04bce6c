/* fuzz_model.c - ad_model_import_buffer() on arbitrary bytes.
 *
 * Beyond "no crash, no leak", every entry the import accepts must satisfy
 * the documented invariants, and must survive ad_model_format_line() and a
 * second import bit for bit (format_line refuses exactly what the import
 * refuses). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_err.h"
#include "ad_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct expect {
    const char *id;
    size_t id_len;
    const char *metric;
    uint64_t n;
    double mean, m2;
    int seen;
};

static int check_again(void *ud, const char *id, size_t id_len, const char *metric, uint64_t n,
                       double mean, double m2)
{
    struct expect *x = ud;

    if (x->seen++ || id_len != x->id_len || memcmp(id, x->id, id_len) != 0 || n != x->n ||
        mean != x->mean || m2 != x->m2 || (metric == NULL) != (x->metric == NULL) ||
        (metric && strcmp(metric, x->metric) != 0))
        abort();
    return 0;
}

static int count_entry(void *ud, const char *id, size_t id_len, const char *metric, uint64_t n,
                       double mean, double m2)
{
    size_t *count = ud;
    struct ad_buf b;
    struct expect x = {id, id_len, metric, n, mean, m2, 0};
    char err[256];

    if (!id || id_len == 0 || id[id_len] != '\0' || strlen(id) != id_len)
        abort();
    if (metric && *metric == '\0')
        abort();
    if (!isfinite(mean) || !isfinite(m2) || m2 < 0 || (n == 0 && (mean != 0 || m2 != 0)) ||
        (n == 1 && m2 != 0))
        abort();

    ad_buf_init(&b, 1 << 20);
    if (ad_model_format_line(&b, &(struct ad_model_entry){id, id_len, metric, n, mean, m2}) != 0)
        abort();
    if (ad_model_import_buffer("again", b.p, b.len,
                               &(struct ad_model_import){.cb = check_again, .ud = &x}, err,
                               sizeof(err)) != 0 ||
        x.seen != 1)
        abort();
    ad_buf_free(&b);
    (*count)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    size_t count = 0;
    int rc;

    err[0] = '\0';
    rc = ad_model_import_buffer("fuzz", (const char *)data, size,
                                &(struct ad_model_import){.cb = count_entry, .ud = &count}, err,
                                sizeof(err));
    if (rc != 0 && rc != AD_EPARSE && rc != AD_ELIMIT)
        abort();
    if (rc == AD_EPARSE && strncmp(err, "fuzz:", 5) != 0)
        abort();
    return 0;
}
