/* ad_config.c - the configuration loader: YAML (libyaml's document API)
 * applied through the option table (ad_config_table.c).
 *
 * Every way of setting a value goes through the same code: a file is parsed
 * into a node tree and its root mapping is applied as the section "", a
 * --set PATH=VALUE parses VALUE as a YAML document and applies its root at
 * PATH, and ad_config_init() applies each option's default text the same
 * way. Scalars are text: ${VAR} references are expanded, then the text is
 * converted by the option's type and checked against its bounds. The first
 * error stops the load and is reported as "file:line:col key.path: reason".
 *
 * Ownership: the config owns every string and list; a value is built in full
 * before it replaces (and frees) the old one, so a failed load leaves a valid
 * config behind.
 *
 * The other parts of the module: values and their conversion in
 * ad_config_value.c, the rules between options in ad_config_check.c, the
 * printer in ad_config_print.c, the core stages' settings in
 * ad_config_pipeline.c. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup, strndup, strerror_r */
#endif

#include "ad_config_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "ad_buf.h"
#include "ad_err.h"
#include "ad_secret.h"

/* ------------------------------------------------------------------------ */
/* Origins: where each option was last set                                   */

/* Returns the interned copy of name, owned by the origin, or NULL (ENOMEM). */
static const char *origin_name(struct ad_config *cfg, const char *name)
{
    struct ad_config_origin *o = cfg->origin_;
    for (size_t i = 0; i < o->nnames; i++)
        if (strcmp(o->names[i], name) == 0)
            return o->names[i];
    char **nn = realloc(o->names, (o->nnames + 1) * sizeof(*nn));
    if (!nn)
        return NULL;
    o->names = nn;
    if (!(nn[o->nnames] = strdup(name)))
        return NULL;
    return nn[o->nnames++];
}

bool ad_config_is_set(const struct ad_config *cfg, const char *path)
{
    const struct ad_option *o = ad_config_option_find(path);
    return o && cfg->origin_ && cfg->origin_->pos[o - ad_config_table_].src != NULL;
}

/* ------------------------------------------------------------------------ */
/* ${VAR} expansion                                                          */

/* Expands s[0..len) into out (reset first, capped by out->max). "$$" is a
 * literal '$', a '$' before anything but '$' or '{' is kept as is. Returns
 * 0, AD_ENOMEM, or AD_ECONFIG with the reason in why, which quotes none of s
 * when secret (the value of a secret option). */
static int expand_env(const char *s, size_t len, bool secret, struct ad_buf *out, char *why,
                      size_t whylen)
{
    size_t i = 0;
    int rc = 0;

    ad_buf_reset(out);
    while (rc == 0 && i < len) {
        const char *d = memchr(s + i, '$', len - i);
        size_t lit = d ? (size_t)(d - (s + i)) : len - i;

        if ((rc = ad_buf_add(out, s + i, lit)) != 0 || !d)
            break;
        i += lit;
        if (i + 1 < len && s[i + 1] == '$') {
            rc = ad_buf_addc(out, '$');
            i += 2;
            continue;
        }
        if (i + 1 >= len || s[i + 1] != '{') {
            rc = ad_buf_addc(out, '$');
            i++;
            continue;
        }
        /* ${NAME} or ${NAME:-default}; the default runs to the first '}'. */
        const char *ref = s + i, *close = memchr(ref, '}', len - i);
        size_t nl = 0, reflen = close ? (size_t)(close - ref) + 1 : len - i;
        char name[AD_CONFIG_MAX_ENV_NAME + 1];

        while (ref + 2 + nl < s + len &&
               (isalnum((unsigned char)ref[2 + nl]) || ref[2 + nl] == '_'))
            nl++;
        if (nl >= sizeof(name)) {
            snprintf(why, whylen, "environment variable name longer than %d characters",
                     AD_CONFIG_MAX_ENV_NAME);
            return AD_ECONFIG;
        }
        if (!close || nl == 0 || isdigit((unsigned char)ref[2]) ||
            (ref[2 + nl] != '}' && (ref[2 + nl] != ':' || ref[3 + nl] != '-'))) {
            if (secret) /* the text after "${" may be the rest of a literal secret */
                snprintf(why, whylen,
                         "malformed variable reference in a secret value (not "
                         "shown; write a literal '$' as $$)%s",
                         close ? "" : " (missing '}')");
            else
                snprintf(why, whylen, "malformed variable reference \"%.*s\"%s",
                         (int)(reflen > 40 ? 40 : reflen), ref,
                         close ? " (use ${NAME} or ${NAME:-default})" : " (missing '}')");
            return AD_ECONFIG;
        }
        memcpy(name, ref + 2, nl);
        name[nl] = '\0';
        const char *val = getenv(name);
        if (ref[2 + nl] == ':') {
            if (!val || !*val) {
                val = ref + 4 + nl;
                rc = ad_buf_add(out, val, (size_t)(close - val));
                val = NULL;
            }
        } else if (!val) {
            snprintf(why, whylen, "environment variable %s is not set", name);
            return AD_ECONFIG;
        }
        if (rc == 0 && val)
            rc = ad_buf_adds(out, val);
        i += reflen;
    }
    if (rc == AD_ELIMIT) {
        snprintf(why, whylen, "value longer than %d bytes after expansion", AD_CONFIG_MAX_SCALAR);
        return AD_ECONFIG;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The loader                                                                */

struct pos {
    unsigned long line, col;
};

struct ld {
    struct ad_config *cfg;
    yaml_document_t *doc;
    const char *src;    /* file name in messages and origins */
    size_t col_off;     /* added to the columns of line 1: the VALUE of --set PATH=VALUE */
    bool user;          /* false while applying defaults: no origins, no implied blocks */
    struct ad_buf text; /* expanded scalar */
    char *err;
    size_t errlen;
};

/* A null document root: an empty file or an empty --set VALUE. */
static yaml_char_t empty_text[1];
static yaml_node_t null_node = {.type = YAML_SCALAR_NODE,
                                .data.scalar = {.value = empty_text,
                                                .length = 0,
                                                .style = YAML_PLAIN_SCALAR_STYLE}};

static struct pos ld_pos(const struct ld *L, yaml_mark_t m)
{
    struct pos p = {(unsigned long)m.line + 1,
                    (unsigned long)m.column + 1 + (m.line == 0 ? L->col_off : 0)};
    return p;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
ld_fail(struct ld *L, struct pos p, const char *path, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (L->errlen == 0)
        return AD_ECONFIG;
    if (path && *path)
        snprintf(L->err, L->errlen, "%s:%lu:%lu %s: %s", L->src, p.line, p.col, path, why);
    else
        snprintf(L->err, L->errlen, "%s:%lu:%lu: %s", L->src, p.line, p.col, why);
    return AD_ECONFIG;
}

static int ld_oom(struct ld *L)
{
    if (L->errlen)
        snprintf(L->err, L->errlen, "%s: out of memory", L->src);
    return AD_ENOMEM;
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

static const char *opt_kind(const struct ad_option *o)
{
    switch (o->type) {
    case AD_OPT_BOOL:
        return "a boolean";
    case AD_OPT_INT:
        return "an integer";
    case AD_OPT_DOUBLE:
        return "a number";
    case AD_OPT_DURATION:
        return "a duration";
    case AD_OPT_STRLIST:
        return "a list";
    case AD_OPT_KVLIST:
    case AD_OPT_BLOCK:
        return "a mapping";
    default:
        return "a string";
    }
}

/* A plain ~, null, Null, NULL or empty scalar. Quoted scalars are never null. */
static bool is_null(const yaml_node_t *n)
{
    static const char *const words[] = {"", "~", "null", "Null", "NULL"};
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (n->data.scalar.length == strlen(words[i]) &&
            memcmp(n->data.scalar.value, words[i], n->data.scalar.length) == 0)
            return true;
    return false;
}

/* Does the value at path (an option, or an entry of a map option) hold a
 * secret, by the one rule of ad_secret.h or the option's type and flags? */
static bool secret_path(const char *path)
{
    if (ad_secret_name(path))
        return true;
    /* The rows' types and flags first: only a few are secret, and the path
     * compares are what every scalar of every load (defaults too) pays. */
    for (size_t i = 0; i < ad_config_table_len_; i++) {
        const struct ad_option *o = &ad_config_table_[i];
        if ((o->type == AD_OPT_SECRET || (o->flags & (AD_OPT_F_SECRET_VALUES | AD_OPT_F_URL))) &&
            (strcmp(path, o->path) == 0 || ad_config_path_under(path, o->path)))
            return true;
    }
    return false;
}

/* The text of scalar n after ${VAR} expansion, in L->text (valid until the
 * next call); a null is "". Fails with the position of n. */
static int scalar_text(struct ld *L, const yaml_node_t *n, const char *path, const char **out)
{
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    char why[320];
    int rc;

    if (is_null(n)) {
        *out = "";
        return 0;
    }
    if (memchr(v, '\0', len))
        return ld_fail(L, ld_pos(L, n->start_mark), path, "value contains a NUL byte");
    /* Whether the value is a secret only matters to the message about a
     * malformed ${...} reference, so a text without '$' skips the lookup. */
    rc = expand_env(v, len, memchr(v, '$', len) && secret_path(path), &L->text, why, sizeof(why));
    if (rc == AD_ENOMEM)
        return ld_oom(L);
    if (rc)
        return ld_fail(L, ld_pos(L, n->start_mark), path, "%s", why);
    *out = L->text.p ? L->text.p : "";
    return 0;
}

static yaml_node_t *ld_node(struct ld *L, int id)
{
    yaml_node_t *n = yaml_document_get_node(L->doc, id);
    return n ? n : &null_node;
}
/* Records that option o was set at p, and opens the optional blocks above it
 * (a block that was absent now starts at p). Not for defaults. */
static void mark_set(struct ld *L, const struct ad_option *o, struct pos p)
{
    struct ad_config_pos *pos = L->cfg->origin_->pos;
    if (!L->user)
        return;
    for (size_t i = 0; i < ad_config_table_len_; i++) {
        bool *present = ad_config_field(L->cfg, &ad_config_table_[i]);
        if (ad_config_table_[i].type != AD_OPT_BLOCK ||
            !ad_config_path_under(o->path, ad_config_table_[i].path) || *present)
            continue;
        *present = true;
        pos[i] = (struct ad_config_pos){L->src, p.line, p.col};
    }
    pos[o - ad_config_table_] = (struct ad_config_pos){L->src, p.line, p.col};
}

static int apply_section(struct ld *L, const char *path, yaml_node_t *n);

static int apply_scalar(struct ld *L, const struct ad_option *o, yaml_node_t *n)
{
    struct pos vp = ld_pos(L, n->start_mark);
    const char *s;
    union ad_config_val v;
    char why[320];
    int rc;

    if (n->type != YAML_SCALAR_NODE)
        return ld_fail(L, vp, o->path, "expected %s, got %s", opt_kind(o), node_kind(n));
    if (is_null(n) && o->type != AD_OPT_STRING && o->type != AD_OPT_SECRET)
        return ld_fail(L, vp, o->path, "missing value (expected %s)", opt_kind(o));
    if ((rc = scalar_text(L, n, o->path, &s)) != 0)
        return rc;
    rc = ad_config_convert(o, s, &v, why, sizeof(why));
    if (rc == AD_ENOMEM)
        return ld_oom(L);
    if (rc)
        return ld_fail(L, vp, o->path, "%s", why);
    ad_config_store(L->cfg, o, &v);
    return 0;
}

/* A list of strings: a sequence of scalars, or null for the empty list. */
static int apply_strlist(struct ld *L, const struct ad_option *o, yaml_node_t *n)
{
    struct ad_strlist nl = {0, NULL}, *cur = ad_config_field(L->cfg, o);
    size_t count = 0;
    int rc = 0;

    if (!is_null(n)) {
        if (n->type != YAML_SEQUENCE_NODE)
            return ld_fail(L, ld_pos(L, n->start_mark), o->path, "expected a list, got %s",
                           node_kind(n));
        count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    }
    if ((double)count < o->min || (double)count > o->max)
        return ld_fail(L, ld_pos(L, n->start_mark), o->path, "expected %.0f..%.0f items, got %zu",
                       o->min, o->max, count);
    if (count && !(nl.v = calloc(count, sizeof(*nl.v))))
        return ld_oom(L);
    for (size_t i = 0; i < count && rc == 0; i++) {
        yaml_node_t *it = ld_node(L, n->data.sequence.items.start[i]);
        struct pos ip = ld_pos(L, it->start_mark);
        const char *s;

        if (it->type != YAML_SCALAR_NODE)
            rc = ld_fail(L, ip, o->path, "item %zu: expected a string, got %s", i + 1,
                         node_kind(it));
        else if ((rc = scalar_text(L, it, o->path, &s)) != 0)
            break;
        else if ((o->flags & AD_OPT_F_NONEMPTY) && !*s)
            rc = ld_fail(L, ip, o->path, "item %zu must not be empty", i + 1);
        else if (!(nl.v[nl.n++] = strdup(s)))
            rc = ld_oom(L);
    }
    if (rc) {
        ad_config_strlist_free(&nl);
        return rc;
    }
    ad_config_strlist_free(cur);
    *cur = nl;
    return 0;
}

/* librdkafka's property names are ASCII words; ours are printable ASCII
 * without blanks, which also keeps them printable as YAML keys. */
#define PROP_NAME_RULE "property names must be 1..%d printable ASCII characters, no blanks"
static bool prop_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > AD_CONFIG_MAX_PROP_NAME)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

/* A map of property names to scalars (names are not expanded), or null. */
static int apply_kvlist(struct ld *L, const struct ad_option *o, yaml_node_t *n)
{
    struct ad_kvlist nl = {0, NULL, NULL}, *cur = ad_config_field(L->cfg, o);
    size_t count = 0;
    int rc = 0;

    if (!is_null(n)) {
        if (n->type != YAML_MAPPING_NODE)
            return ld_fail(L, ld_pos(L, n->start_mark), o->path, "expected a mapping, got %s",
                           node_kind(n));
        count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    }
    if ((double)count > o->max)
        return ld_fail(L, ld_pos(L, n->start_mark), o->path, "too many entries (max %.0f)", o->max);
    if (count &&
        (!(nl.k = calloc(count, sizeof(*nl.k))) || !(nl.v = calloc(count, sizeof(*nl.v))))) {
        ad_config_kvlist_free(&nl);
        return ld_oom(L);
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        yaml_node_t *k = ld_node(L, n->data.mapping.pairs.start[i].key);
        yaml_node_t *v = ld_node(L, n->data.mapping.pairs.start[i].value);
        struct pos kp = ld_pos(L, k->start_mark);
        const char *ks = (const char *)k->data.scalar.value, *s;
        size_t kl = k->data.scalar.length;
        char path[AD_CONFIG_MAX_PROP_NAME + 64];

        if (k->type != YAML_SCALAR_NODE || !prop_name_ok(ks, kl)) {
            rc = ld_fail(L, kp, o->path, PROP_NAME_RULE, AD_CONFIG_MAX_PROP_NAME);
            break;
        }
        snprintf(path, sizeof(path), "%s.%.*s", o->path, (int)kl, ks);
        for (size_t j = 0; j < nl.n; j++)
            if (strlen(nl.k[j]) == kl && memcmp(nl.k[j], ks, kl) == 0)
                rc = ld_fail(L, kp, path, "duplicate key");
        if (rc)
            break;
        if (v->type != YAML_SCALAR_NODE)
            rc = ld_fail(L, ld_pos(L, v->start_mark), path, "expected a scalar, got %s",
                         node_kind(v));
        else if ((rc = scalar_text(L, v, path, &s)) != 0)
            break;
        else if (!(nl.k[nl.n] = strndup(ks, kl)) || !(nl.v[nl.n++] = strdup(s)))
            rc = ld_oom(L);
    }
    if (rc) {
        ad_config_kvlist_free(&nl);
        return rc;
    }
    ad_config_kvlist_free(cur);
    *cur = nl;
    return 0;
}

/* Applies node n to option o; kp is where its key is (its origin). */
static int apply_option(struct ld *L, const struct ad_option *o, struct pos kp, yaml_node_t *n)
{
    int rc;

    switch (o->type) {
    case AD_OPT_BLOCK:
        if (is_null(n)) {
            *(bool *)ad_config_field(L->cfg, o) = false;
            rc = 0;
        } else if (n->type != YAML_MAPPING_NODE) {
            rc = ld_fail(L, ld_pos(L, n->start_mark), o->path, "expected a mapping, got %s",
                         node_kind(n));
        } else {
            *(bool *)ad_config_field(L->cfg, o) = true;
            rc = apply_section(L, o->path, n);
        }
        break;
    case AD_OPT_STRLIST:
        rc = apply_strlist(L, o, n);
        break;
    case AD_OPT_KVLIST:
        rc = apply_kvlist(L, o, n);
        break;
    default:
        rc = apply_scalar(L, o, n);
        break;
    }
    if (rc == 0)
        mark_set(L, o, kp);
    return rc;
}

/* Applies n at path: an option, or a section whose keys are applied in turn. */
static int apply_node(struct ld *L, const char *path, struct pos kp, yaml_node_t *n)
{
    const struct ad_option *o = ad_config_option_find(path);
    if (o)
        return apply_option(L, o, kp, n);
    if (ad_config_is_section(path))
        return apply_section(L, path, n);
    return ld_fail(L, kp, path, "unknown key");
}

/* Applies a mapping of keys below path. Keys are plain names: no dots, no
 * duplicates. A null is an empty section. Recursion is bounded because every
 * level must be a known, longer path (aliases may form cycles). */
static int apply_section(struct ld *L, const char *path, yaml_node_t *n)
{
    if (is_null(n))
        return 0;
    if (n->type != YAML_MAPPING_NODE)
        return ld_fail(L, ld_pos(L, n->start_mark), path,
                       *path ? "expected a mapping, got %s"
                             : "the top level must be a mapping, got %s",
                       node_kind(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ld_node(L, p->key);
        struct pos kp = ld_pos(L, k->start_mark);
        const char *ks = (const char *)k->data.scalar.value;
        size_t kl = k->data.scalar.length;
        char full[128];
        int rc;

        if (k->type != YAML_SCALAR_NODE)
            return ld_fail(L, kp, path, "keys must be scalars, got %s", node_kind(k));
        int w = snprintf(full, sizeof(full), "%s%s%.*s", path, *path ? "." : "",
                         (int)(kl > 64 ? 64 : kl), ks);
        if (memchr(ks, '.', kl))
            return ld_fail(L, kp, full,
                           "unknown key (dotted keys are not supported: nest "
                           "mappings instead)");
        if (kl == 0 || kl > 64 || memchr(ks, '\0', kl) || w < 0 || (size_t)w >= sizeof(full))
            return ld_fail(L, kp, full, "unknown key");
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = ld_node(L, q->key);
            if (qk->data.scalar.length == kl && memcmp(qk->data.scalar.value, ks, kl) == 0)
                return ld_fail(L, kp, full, "duplicate key (first at line %lu)",
                               ld_pos(L, qk->start_mark).line);
        }
        if ((rc = apply_node(L, full, kp, ld_node(L, p->value))) != 0)
            return rc;
    }
    return 0;
}

/* Reports a libyaml parse failure. Reader errors (bad UTF-8, control
 * characters) carry a byte offset instead of a mark. */
static int yaml_fail(struct ld *L, const yaml_parser_t *p, const char *text, size_t len)
{
    yaml_mark_t m = p->problem_mark;
    const char *problem = p->problem ? p->problem : "syntax error";

    if (p->error == YAML_MEMORY_ERROR)
        return ld_oom(L);
    if (p->error == YAML_READER_ERROR) {
        memset(&m, 0, sizeof(m));
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n')
                m.line++, m.column = 0;
            else
                m.column++;
        }
    }
    if (p->context)
        return ld_fail(L, ld_pos(L, m), NULL, "YAML syntax error: %s %s", problem, p->context);
    return ld_fail(L, ld_pos(L, m), NULL, "YAML syntax error: %s", problem);
}

/* libyaml's time grows with the square of the nesting depth (every token
 * is checked against the pending keys of every open level: 40,000 levels of
 * "[" within the 1 MiB limit took 8 s), so the events are read once before
 * the document is built, and reading stops at the first collection deeper
 * than AD_CONFIG_MAX_NESTING, having scanned only that far. A syntax error is
 * left to the document's own read, which reports it. */
static int ld_depth(struct ld *L, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int depth = 0, rc = 0;
    bool end = false;

    if (!yaml_parser_initialize(&parser))
        return ld_oom(L);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!end && rc == 0 && yaml_parser_parse(&parser, &ev)) {
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
            if (++depth > AD_CONFIG_MAX_NESTING)
                rc = ld_fail(L, ld_pos(L, ev.start_mark), NULL, "YAML nested deeper than %d levels",
                             AD_CONFIG_MAX_NESTING);
        } else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    if (rc == 0 && !end && parser.error == YAML_MEMORY_ERROR)
        rc = ld_oom(L);
    yaml_parser_delete(&parser);
    return rc;
}

/* Parses text as exactly one YAML document into *doc (the caller deletes it
 * on success). Returns 0, AD_ENOMEM or AD_ECONFIG. */
static int ld_parse(struct ld *L, const char *text, size_t len, yaml_document_t *doc)
{
    yaml_parser_t parser;
    yaml_document_t more;
    int rc = L->user ? ld_depth(L, text, len) : 0; /* the defaults are ours */

    if (rc)
        return rc;
    if (!yaml_parser_initialize(&parser))
        return ld_oom(L);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        rc = yaml_fail(L, &parser, text, len);
        yaml_parser_delete(&parser);
        return rc;
    }
    if (yaml_document_get_root_node(doc)) {
        if (!yaml_parser_load(&parser, &more)) {
            rc = yaml_fail(L, &parser, text, len);
        } else {
            if (yaml_document_get_root_node(&more))
                rc = ld_fail(L, ld_pos(L, more.start_mark), NULL,
                             "more than one YAML document (only one is allowed)");
            yaml_document_delete(&more);
        }
    }
    yaml_parser_delete(&parser);
    if (rc)
        yaml_document_delete(doc);
    return rc;
}

static yaml_node_t *ld_root(yaml_document_t *doc)
{
    yaml_node_t *r = yaml_document_get_root_node(doc);
    return r ? r : &null_node;
}

static void ld_init(struct ld *L, struct ad_config *cfg, const char *src, char *err, size_t errlen)
{
    memset(L, 0, sizeof(*L));
    L->cfg = cfg;
    L->src = src;
    L->user = true;
    L->err = err;
    L->errlen = err ? errlen : 0;
    ad_buf_init(&L->text, AD_CONFIG_MAX_SCALAR);
    if (L->errlen)
        err[0] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Public entry points                                                       */

void ad_config_free(struct ad_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < ad_config_table_len_; i++) {
        void *f = ad_config_field(cfg, &ad_config_table_[i]);
        switch (ad_config_table_[i].type) {
        case AD_OPT_STRING:
        case AD_OPT_SECRET:
            free(*(char **)f);
            break;
        case AD_OPT_STRLIST:
            ad_config_strlist_free(f);
            break;
        case AD_OPT_KVLIST:
            ad_config_kvlist_free(f);
            break;
        default:
            break;
        }
    }
    if (cfg->origin_) {
        for (size_t i = 0; i < cfg->origin_->nnames; i++)
            free(cfg->origin_->names[i]);
        free(cfg->origin_->names);
        free(cfg->origin_);
    }
    free(cfg->source_name_);
    memset(cfg, 0, sizeof(*cfg));
}

/* Is s[0..len) one plain YAML scalar whose value is the text itself (a word,
 * number, duration, path, host:port; outside a flow collection also a ${VAR}
 * reference)? Conservative: no blank, quote, '#' or ',', a first character
 * that is no YAML indicator, no ':' at the end (a mapping key). */
static bool plain_text(const char *s, size_t len, bool flow)
{
    const char *ok = flow ? "._/-" : "._/:-${}";

    if (len == 0 || !(isalnum((unsigned char)s[0]) || s[0] == '/' || (!flow && s[0] == '$') ||
                      (s[0] == '-' && len > 1 && isdigit((unsigned char)s[1]))))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr(ok, s[i]))
            return false;
    return s[len - 1] != ':';
}

/* The nodes libyaml makes of a default, for the defaults of the table:
 * "" (no root: null), one plain scalar, "[]", "{}" or "[SCALAR]". A parser
 * and its buffers per option were most of the cost of an init; with these
 * no default needs one. */
struct def_doc {
    yaml_node_t n[2];      /* n[0] the root, n[1] a list's item */
    yaml_node_item_t item; /* the list's item: node 2 */
    yaml_document_t doc;   /* holds n for ld_node */
};

static void def_scalar(yaml_node_t *n, const char *s, size_t len)
{
    n->type = YAML_SCALAR_NODE;
    n->data.scalar.value = (yaml_char_t *)(uintptr_t)s; /* only read */
    n->data.scalar.length = len;
    n->data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
}

/* Fills d for def and returns its root, or NULL when def is none of the
 * above (libyaml parses it). test_config checks both ways agree. */
static yaml_node_t *def_nodes(const char *def, struct def_doc *d)
{
    size_t len = strlen(def);

    memset(d, 0, sizeof(*d));
    d->doc.nodes.start = d->n;
    d->doc.nodes.end = d->doc.nodes.top = d->n + 2;
    if (len == 0)
        return &null_node;
    if (plain_text(def, len, false)) {
        def_scalar(&d->n[0], def, len);
        return &d->n[0];
    }
    if (strcmp(def, "{}") == 0) {
        d->n[0].type = YAML_MAPPING_NODE;
        d->n[0].data.mapping.style = YAML_FLOW_MAPPING_STYLE;
        return &d->n[0];
    }
    if (def[0] != '[' || def[len - 1] != ']' || (len > 2 && !plain_text(def + 1, len - 2, true)))
        return NULL;
    d->n[0].type = YAML_SEQUENCE_NODE;
    d->n[0].data.sequence.style = YAML_FLOW_SEQUENCE_STYLE;
    if (len > 2) {
        d->item = 2;
        d->n[0].data.sequence.items.start = &d->item;
        d->n[0].data.sequence.items.end = d->n[0].data.sequence.items.top = &d->item + 1;
        def_scalar(&d->n[1], def + 1, len - 2);
    }
    return &d->n[0];
}

int ad_config_init(struct ad_config *cfg)
{
    struct ld L;
    char err[256];
    int rc = 0;

    memset(cfg, 0, sizeof(*cfg));
    cfg->origin_ = calloc(1, sizeof(*cfg->origin_) +
                                 ad_config_table_len_ * sizeof(cfg->origin_->pos[0]));
    if (!cfg->origin_)
        return AD_ENOMEM;
    ld_init(&L, cfg, "default", err, sizeof(err));
    L.user = false;
    for (size_t i = 0; i < ad_config_table_len_ && rc == 0; i++) {
        const struct ad_option *o = &ad_config_table_[i];
        yaml_document_t doc;
        struct def_doc dd;
        yaml_node_t *root;
        struct pos p = {1, 1};

        if (!o->def)
            continue;
        if ((root = def_nodes(o->def, &dd)) != NULL) {
            L.doc = &dd.doc;
            rc = apply_option(&L, o, p, root);
        } else if ((rc = ld_parse(&L, o->def, strlen(o->def), &doc)) == 0) {
            L.doc = &doc;
            rc = apply_option(&L, o, p, ld_root(&doc));
            yaml_document_delete(&doc);
        }
    }
    ad_buf_free(&L.text);
    if (rc)
        ad_config_free(cfg);
    return rc;
}

int ad_config_load_buffer(struct ad_config *cfg, const char *name, const char *buf, size_t len,
                          char *err, size_t errlen)
{
    struct ld L;
    yaml_document_t doc;
    int rc;

    if (!name)
        name = "<config>";
    ld_init(&L, cfg, name, err, errlen);
    if (!cfg->origin_) {
        if (L.errlen)
            snprintf(err, errlen, "%s: config not initialized", name);
        return AD_EINVAL;
    }
    if (len > AD_CONFIG_MAX_FILE) {
        if (L.errlen)
            snprintf(err, errlen, "%s: larger than %d bytes", name, AD_CONFIG_MAX_FILE);
        return AD_ECONFIG;
    }
    char *dup = strdup(name);
    if (!dup || !(L.src = origin_name(cfg, name))) {
        free(dup);
        L.src = name;
        return ld_oom(&L);
    }
    free(cfg->source_name_);
    cfg->source_name_ = dup;
    if ((rc = ld_parse(&L, buf ? buf : "", buf ? len : 0, &doc)) == 0) {
        L.doc = &doc;
        rc = apply_section(&L, "", ld_root(&doc));
        yaml_document_delete(&doc);
    }
    ad_buf_free(&L.text);
    return rc;
}

int ad_config_load_file(struct ad_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    int rc, e = 0;

    if (f && (buf = malloc(AD_CONFIG_MAX_FILE + 1)) != NULL) {
        len = fread(buf, 1, AD_CONFIG_MAX_FILE + 1, f);
        if (ferror(f))
            e = errno ? errno : EIO;
    } else {
        e = errno ? errno : ENOMEM;
    }
    if (f)
        fclose(f);
    if (e) {
        char msg[128];
        if (strerror_r(e, msg, sizeof(msg)) != 0)
            snprintf(msg, sizeof(msg), "error %d", e);
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, msg);
        free(buf);
        return e == ENOMEM ? AD_ENOMEM : AD_EIO;
    }
    rc = ad_config_load_buffer(cfg, path, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* If path names an entry of a KVLIST option ("source.kafka.properties.x.y"),
 * returns that option and sets *name to the entry's name. */
static const struct ad_option *kv_entry(const char *path, const char **name)
{
    for (size_t i = 0; i < ad_config_table_len_; i++) {
        size_t n = strlen(ad_config_table_[i].path);
        if (ad_config_table_[i].type == AD_OPT_KVLIST &&
            ad_config_path_under(path, ad_config_table_[i].path) && path[n + 1]) {
            *name = path + n + 1;
            return &ad_config_table_[i];
        }
    }
    return NULL;
}

int ad_config_set(struct ad_config *cfg, const char *assignment, char *err, size_t errlen)
{
    struct ld L;
    struct pos kp = {1, 1};
    const char *eq = strchr(assignment, '='), *name = NULL, *s;
    const struct ad_option *kvo = NULL;
    yaml_document_t doc;
    char *path;
    int rc;

    ld_init(&L, cfg, "--set", err, errlen);
    if (!cfg->origin_) {
        if (L.errlen)
            snprintf(err, errlen, "--set: config not initialized");
        return AD_EINVAL;
    }
    if (!eq || eq == assignment)
        return ld_fail(&L, kp, NULL, "expected PATH=VALUE, got \"%.64s\"", assignment);
    if (!(path = strndup(assignment, (size_t)(eq - assignment))) ||
        !(L.src = origin_name(cfg, "--set"))) {
        free(path);
        L.src = "--set";
        return ld_oom(&L);
    }
    L.col_off = (size_t)(eq + 1 - assignment);
    if (!ad_config_option_find(path) && !ad_config_is_section(path) &&
        !(kvo = kv_entry(path, &name))) {
        rc = ld_fail(&L, kp, path, "unknown key");
        goto out;
    }
    if ((rc = ld_parse(&L, eq + 1, strlen(eq + 1), &doc)) != 0)
        goto out;
    L.doc = &doc;
    if (!kvo) {
        rc = apply_node(&L, path, kp, ld_root(&doc));
    } else {
        yaml_node_t *v = ld_root(&doc);
        if (!prop_name_ok(name, strlen(name)))
            rc = ld_fail(&L, kp, path, PROP_NAME_RULE, AD_CONFIG_MAX_PROP_NAME);
        else if (v->type != YAML_SCALAR_NODE)
            rc = ld_fail(&L, ld_pos(&L, v->start_mark), path, "expected a scalar, got %s",
                         node_kind(v));
        else if ((rc = scalar_text(&L, v, path, &s)) == 0) {
            rc = ad_config_kvlist_put(ad_config_field(cfg, kvo), name, s);
            if (rc == AD_ELIMIT)
                rc = ld_fail(&L, kp, path, "too many entries (max %d)", AD_CONFIG_MAX_ITEMS);
            else if (rc)
                rc = ld_oom(&L);
            else
                mark_set(&L, kvo, kp);
        }
    }
    yaml_document_delete(&doc);
out:
    ad_buf_free(&L.text);
    free(path);
    return rc;
}
