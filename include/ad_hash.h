/* ad_hash.h - FNV-1a (64 bit), the one non-cryptographic hash of the
 * in-memory tables and of the checkpoint checksum. (The alert id runs its own
 * two-lane FNV-1a, specified in docs/alerts.md.) */
#ifndef AD_HASH_H
#define AD_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define AD_FNV64_BASIS UINT64_C(0xcbf29ce484222325)

/* Folds len bytes into h (start with AD_FNV64_BASIS). */
static inline uint64_t ad_fnv1a64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* The hash of a series named by its key bytes and metric name (a NUL
 * between them, so "ab"+"c" and "a"+"bc" differ). */
static inline uint64_t ad_series_name_hash(const char *key, size_t key_len, const char *metric)
{
    uint64_t h = ad_fnv1a64(AD_FNV64_BASIS, key, key_len);
    h = ad_fnv1a64(h, "", 1);
    return ad_fnv1a64(h, metric, strlen(metric));
}

#endif
