/* test_config_util.h - what the config loader's tests share (test_config.c,
 * test_config_print.c): the config under test, its error buffer, loading
 * YAML into it, printing it and comparing two configs option by option.
 * Included by one test file per binary. */
#ifndef TEST_CONFIG_UTIL_H
#define TEST_CONFIG_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_config.h"
#include "ad_secret.h"
#include "ad_test.h"

#define S  INT64_C(1000000)
#define MN (60 * S)

/* ---- helpers ---------------------------------------------------------- */

static struct ad_config cfg;
static char err[1024];

/* Loads yaml over a fresh config named "t.yaml"; returns the loader's code. */
static inline int load(const char *yaml)
{
    ad_config_free(&cfg);
    AD_EXPECT_INT(ad_config_init(&cfg), ==, 0);
    err[0] = '\0';
    return ad_config_load_buffer(&cfg, "t.yaml", yaml, strlen(yaml), err, sizeof(err));
}

/* Loads and validates; returns the first failing code. */
static inline int load_valid(const char *yaml)
{
    int rc = load(yaml);
    return rc ? rc : ad_config_validate(&cfg, err, sizeof(err));
}

/* Returns the printed config (owned; free it). */
static inline char *print_str(const struct ad_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    AD_EXPECT(f != NULL);
    AD_EXPECT_INT(ad_config_print(c, f), ==, 0);
    fclose(f);
    return buf;
}

/* Reads a whole file (owned; NULL if missing). */
static inline char *read_all(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    AD_EXPECT(buf != NULL);
    AD_EXPECT_UINT(fread(buf, 1, (size_t)n, f), ==, (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (lenp)
        *lenp = (size_t)n;
    return buf;
}

/* Compares two configs option by option; secrets too unless skip_secrets. */
static inline void expect_same(const struct ad_config *a, const struct ad_config *b,
                               bool skip_secrets)
{
    size_t n;
    const struct ad_option *opt = ad_config_options(&n);

    for (size_t i = 0; i < n; i++) {
        const struct ad_option *o = &opt[i];
        const void *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;
        switch (o->type) {
        case AD_OPT_SECRET:
            if (skip_secrets)
                break;
            /* fall through */
        case AD_OPT_STRING:
            if (skip_secrets && (o->flags & AD_OPT_F_URL)) { /* b was printed: masked */
                char ma[1024];
                ad_secret_url(*(char *const *)fa, ma, sizeof(ma));
                if (strcmp(ma, *(char *const *)fb))
                    AD_FAIL_("%s: \"%s\" vs \"%s\"", o->path, ma, *(char *const *)fb);
                break;
            }
            if (strcmp(*(char *const *)fa, *(char *const *)fb))
                AD_FAIL_("%s: \"%s\" vs \"%s\"", o->path, *(char *const *)fa, *(char *const *)fb);
            break;
        case AD_OPT_BOOL:
        case AD_OPT_BLOCK:
            if (*(const bool *)fa != *(const bool *)fb)
                AD_FAIL_("%s differs", o->path);
            break;
        case AD_OPT_INT:
        case AD_OPT_DURATION:
            if (*(const int64_t *)fa != *(const int64_t *)fb)
                AD_FAIL_("%s: %lld vs %lld", o->path, (long long)*(const int64_t *)fa,
                         (long long)*(const int64_t *)fb);
            break;
        case AD_OPT_DOUBLE:
            if (*(const double *)fa != *(const double *)fb)
                AD_FAIL_("%s: %.17g vs %.17g", o->path, *(const double *)fa, *(const double *)fb);
            break;
        case AD_OPT_ENUM:
            if (*(const int *)fa != *(const int *)fb)
                AD_FAIL_("%s: %d vs %d", o->path, *(const int *)fa, *(const int *)fb);
            break;
        case AD_OPT_STRLIST: {
            const struct ad_strlist *la = fa, *lb = fb;
            if (la->n != lb->n)
                AD_FAIL_("%s: %zu vs %zu items", o->path, la->n, lb->n);
            for (size_t j = 0; j < la->n; j++)
                if (strcmp(la->v[j], lb->v[j]) &&
                    (!skip_secrets || !(o->flags & AD_OPT_F_SECRET_VALUES) ||
                     strcmp(lb->v[j], "***")))
                    AD_FAIL_("%s[%zu]: \"%s\" vs \"%s\"", o->path, j, la->v[j], lb->v[j]);
            break;
        }
        case AD_OPT_KVLIST: {
            const struct ad_kvlist *la = fa, *lb = fb;
            if (la->n != lb->n)
                AD_FAIL_("%s: %zu vs %zu entries", o->path, la->n, lb->n);
            for (size_t j = 0; j < la->n; j++)
                if (strcmp(la->k[j], lb->k[j]) ||
                    (strcmp(la->v[j], lb->v[j]) && (!skip_secrets || strcmp(lb->v[j], "***"))))
                    AD_FAIL_("%s[%zu]: %s=%s vs %s=%s", o->path, j, la->k[j], la->v[j], lb->k[j],
                             lb->v[j]);
            break;
        }
        }
    }
}

/* Defaults read these; the tests want the documented values. */
static inline void unset_config_env(void)
{
    unsetenv("KAFKA_BROKERS");
    unsetenv("ANOMALY_DETECTOR_KEY");
}

#endif
