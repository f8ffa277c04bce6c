/* fuzz_config.c - the YAML config loader as a fuzz target.
 *
 * The input is a config buffer. If it starts with "--set " the rest is split
 * at newlines into --set assignments instead. Whatever loads is validated
 * and printed; the printed text must load back and print the same (secrets
 * are printed as "***" and stay "***", so the second print is identical).
 * Any difference aborts: the printer and the loader must agree. A config that
 * validates also builds the core pipeline from its own settings
 * (ad_config_to_pipeline): the decoder may still refuse a pointer with
 * AD_ECONFIG, but any other failure aborts, since the validation is meant to
 * cover the window stage's rules.
 *
 * Speed: the defaults are applied once per process and each input starts
 * from a copy of them (ad_config_copy); the reload of the round trip still
 * starts from ad_config_init, so both ways of getting the defaults run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_config.h"
#include "ad_err.h"
#include "ad_pipeline.h"

static void check_pipeline(const struct ad_config *cfg)
{
    struct ad_pipeline_cfg pc;
    struct ad_pipeline *p = NULL;
    char err[512];

    ad_config_to_pipeline(cfg, &pc);
    int rc = ad_pipeline_new(&pc, &p, err, sizeof(err));
    if (rc != 0 && rc != AD_ECONFIG && rc != AD_ENOMEM) {
        fprintf(stderr, "a valid config builds no pipeline: %s: %s\n", ad_err_name(rc), err);
        abort();
    }
    ad_pipeline_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns the printed config (owned) or NULL. */
static char *print_config(const struct ad_config *cfg, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    if (ad_config_print(cfg, f) != 0) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    return buf;
}

static void check_round_trip(const struct ad_config *cfg)
{
    struct ad_config again;
    char err[512], *a, *b;
    size_t alen = 0, blen = 0;

    if (!(a = print_config(cfg, &alen)))
        return;
    if (ad_config_init(&again) != 0) {
        free(a);
        return;
    }
    if (ad_config_load_buffer(&again, "printed", a, alen, err, sizeof(err)) != 0) {
        fprintf(stderr, "printed config does not load: %s\n%s", err, a);
        abort();
    }
    b = print_config(&again, &blen);
    if (b && (alen != blen || memcmp(a, b, alen) != 0)) {
        fprintf(stderr, "printed config changes on reload:\n%s\n----\n%s", a, b);
        abort();
    }
    free(a);
    free(b);
    ad_config_free(&again);
}

/* The defaults every input starts from: made on the first input (the replay
 * binary calls no LLVMFuzzerInitialize), kept for the process. */
static const struct ad_config *defaults(void)
{
    static struct ad_config def;
    static int state; /* 0 not yet, 1 ready, -1 failed */

    if (state == 0)
        state = ad_config_init(&def) == 0 ? 1 : -1;
    return state == 1 ? &def : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct ad_config *def = defaults();
    struct ad_config cfg;
    char err[512];
    int rc = 0;

    if (!def || ad_config_copy(&cfg, def) != 0)
        return 0;
    if (size >= 6 && memcmp(data, "--set ", 6) == 0) {
        char *s = malloc(size - 6 + 1), *line, *save = NULL;
        if (!s) {
            ad_config_free(&cfg);
            return 0;
        }
        memcpy(s, data + 6, size - 6);
        s[size - 6] = '\0';
        for (line = strtok_r(s, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save))
            rc = ad_config_set(&cfg, line, err, sizeof(err));
        free(s);
    } else {
        rc = ad_config_load_buffer(&cfg, "fuzz.yaml", (const char *)data, size, err, sizeof(err));
    }
    if (rc == 0) {
        if (ad_config_validate(&cfg, err, sizeof(err)) == 0)
            check_pipeline(&cfg);
        check_round_trip(&cfg);
    }
    ad_config_free(&cfg);
    return 0;
}
