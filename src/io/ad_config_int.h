/* ad_config_int.h - what the parts of the config module share: the option
 * table (ad_config_table.c), the values and their text (ad_config_value.c),
 * the origins the loader records (ad_config.c) and that the validation
 * (ad_config_check.c) reports errors at. The printer is ad_config_print.c.
 * Not for use outside src/io/ad_config*.c. */
#ifndef AD_CONFIG_INT_H
#define AD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_config.h"

/* Time units, in microseconds. */
#define US   INT64_C(1)
#define MS   (1000 * US)
#define SEC  (1000 * MS)
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

#define AD_CONFIG_MAX_ITEMS 256 /* entries of any list or property map: bounds alias fan-out */
#define AD_CONFIG_MAX_DEPTH 8   /* path components; the table uses at most 4 */

/* ---- the option table (ad_config_table.c) ---- */

extern const struct ad_option ad_config_table_[];
extern const size_t ad_config_table_len_;

/* True when s starts with prefix followed by '.' (prefix "" matches all). */
bool ad_config_path_under(const char *s, const char *prefix);
/* A section is a path with options below it ("source.kafka"), not an option. */
bool ad_config_is_section(const char *path);

/* The detector a config scores with (enum ad_cfg_detector): model.detector
 * when set, else welford for a config that sets model.welford.*,
 * model.import or no model key at all, else auto (ad_config_check.c). */
int ad_config_effective_detector(const struct ad_config *cfg);

static inline void *ad_config_field(struct ad_config *cfg, const struct ad_option *o)
{
    return (char *)cfg + o->offset;
}

static inline const void *ad_config_cfield(const struct ad_config *cfg, const struct ad_option *o)
{
    return (const char *)cfg + o->offset;
}

/* ---- origins: where each option was last set (ad_config.c) ---- */

struct ad_config_pos {
    const char *src; /* NULL: defaulted */
    unsigned long line, col;
};

struct ad_config_origin {
    char **names; /* interned source names, owned */
    size_t nnames;
    struct ad_config_pos pos[]; /* one per row of the table */
};

/* ---- values (ad_config_value.c) ---- */

/* The compact form of a duration, largest unit first; days only when asked
 * (the bounds in error messages read "30d", printed configs "720h"). buf
 * needs AD_DURATION_STRLEN bytes. Returns the length. */
size_t ad_config_duration_text(int64_t us, char *buf, bool days);

/* Shortest text that reads back as x; integral values without exponent. */
void ad_config_number_text(double x, char *buf, size_t len);

union ad_config_val {
    char *s;
    bool b;
    int64_t i;
    double d;
    int e;
};

/* Converts the text of a scalar option. Returns 0 (v->s is then owned by the
 * caller), AD_ENOMEM, or AD_ECONFIG with the reason in why. */
int ad_config_convert(const struct ad_option *o, const char *s, union ad_config_val *v, char *why,
                      size_t wl);

/* Replaces the value of a scalar option, taking ownership of v->s. */
void ad_config_store(struct ad_config *cfg, const struct ad_option *o,
                     const union ad_config_val *v);

void ad_config_strlist_free(struct ad_strlist *l);
void ad_config_kvlist_free(struct ad_kvlist *l);

/* Sets (or replaces) one entry; takes nothing, copies k and v. Returns 0,
 * AD_ELIMIT past AD_CONFIG_MAX_ITEMS entries, or AD_ENOMEM. */
int ad_config_kvlist_put(struct ad_kvlist *l, const char *k, const char *v);

#endif
