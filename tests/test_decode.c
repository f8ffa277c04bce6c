/* test_decode.c - the record decoder: golden cases from tests/data/decode/,
 * decoder construction errors, and inputs too big for the golden file.
 *
 * Golden format. tests/data/decode/cases.jsonl and expected.txt correspond
 * line by line (line N of one file belongs to line N of the other):
 *   cases.jsonl                       expected.txt
 *   ## comment                        # anything
 *   #config OPT=VAL ...               # anything
 *   #meta OPT ...                     # anything
 *   a record (the line's bytes)       OK KEY TIME_US V1 V2 ...  |  REJECT REASON
 * #config builds a new decoder from defaults (key=/id time=/ts time_format=auto
 * metric=/temp max_message_bytes=1048576 max_key_bytes=1024) plus its options;
 * metric= repeats (the first replaces the default list). #meta replaces the
 * record metadata: timestamp_ms=N (default -1), header=NAME=VALUE (repeats),
 * nullheader=NAME (a header whose value is NULL), headers (a header callback
 * with no headers); without any header option there is no callback. Values and
 * KEY are %XX-decoded; REASON is ad_reject_name(). Each record is decoded from
 * an exact-size heap copy, so ASan sees any read past its end. */
#include <errno.h>
#include <stdbool.h>

#include "ad_decode.h"
#include "ad_err.h"
#include "ad_test.h"

/* ------------------------------------------------------------------------ */
/* Config fixtures: owned copies of the strings an ad_decode_cfg borrows, so
 * that a test can free them right after construction. */

struct fixture {
    char *key, *time;
    int time_format;
    size_t n_metrics;
    char **metrics;
    int64_t max_message_bytes, max_key_bytes;
};

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        AD_FAIL_("out of memory");
    return p;
}

static void cfg_init(struct fixture *c)
{
    memset(c, 0, sizeof(*c));
    c->key = xstrdup("/id");
    c->time = xstrdup("/ts");
    c->time_format = AD_TIME_AUTO;
    c->max_message_bytes = 1048576;
    c->max_key_bytes = 1024;
}

static void cfg_add_metric(struct fixture *c, const char *p)
{
    char **v = realloc(c->metrics, (c->n_metrics + 1) * sizeof(*v));
    if (!v)
        AD_FAIL_("out of memory");
    c->metrics = v;
    v[c->n_metrics++] = xstrdup(p);
}

static void cfg_clear_metrics(struct fixture *c)
{
    for (size_t i = 0; i < c->n_metrics; i++)
        free(c->metrics[i]);
    free(c->metrics);
    c->metrics = NULL;
    c->n_metrics = 0;
}

static void cfg_set(char **field, const char *v)
{
    free(*field);
    *field = xstrdup(v);
}

static void cfg_free(struct fixture *c)
{
    free(c->key);
    free(c->time);
    cfg_clear_metrics(c);
}

/* ad_decoder_new() on the fixture's strings (borrowed for the call). */
static int decoder_new(const struct fixture *c, struct ad_decoder **out, char *err, size_t errlen)
{
    struct ad_decode_cfg dc = {.key = c->key,
                               .time = c->time,
                               .time_format = c->time_format,
                               .n_metrics = c->n_metrics,
                               .metrics = (const char *const *)c->metrics,
                               .max_message_bytes = c->max_message_bytes,
                               .max_key_bytes = c->max_key_bytes};
    return ad_decoder_new(&dc, out, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* A fake header source */

#define MAX_HEADERS 8
struct fake_headers {
    size_t n;
    char name[MAX_HEADERS][64];
    char val[MAX_HEADERS][2048];
    size_t len[MAX_HEADERS];
    bool null[MAX_HEADERS];
};

static int fake_header(void *ctx, const char *name, const void **val, size_t *len)
{
    const struct fake_headers *h = ctx;
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->name[i], name) == 0) {
            *val = h->null[i] ? NULL : h->val[i];
            *len = h->null[i] ? 0 : h->len[i];
            return 0;
        }
    }
    return AD_ENOENT;
}

/* ------------------------------------------------------------------------ */
/* Golden file helpers */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        AD_FAIL_("cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, r;
    char *b = malloc(cap + 1);
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb)
                free(b);
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!b)
        AD_FAIL_("out of memory");
    b[n] = '\0';
    *len = n;
    return b;
}

/* Splits buf into lines in place ('\n' -> NUL); a final newline ends the last line. */
static size_t split_lines(char *buf, size_t len, char ***lines, size_t **lens)
{
    size_t n = 0, cap = 1024;
    *lines = malloc(cap * sizeof(**lines));
    *lens = malloc(cap * sizeof(**lens));
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len && start == len)
            break;
        if (i == len || buf[i] == '\n') {
            if (n == cap) {
                cap *= 2;
                *lines = realloc(*lines, cap * sizeof(**lines));
                *lens = realloc(*lens, cap * sizeof(**lens));
            }
            if (!*lines || !*lens)
                AD_FAIL_("out of memory");
            (*lines)[n] = buf + start;
            (*lens)[n] = i - start;
            n++;
            if (i < len)
                buf[i] = '\0';
            start = i + 1;
        }
    }
    return n;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* %XX-decodes s into out (NUL-terminated, may contain NULs); returns the length. */
static size_t pct_decode(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; s[i]; i++) {
        if (n + 1 >= cap)
            AD_FAIL_("value too long: %s", s);
        if (s[i] == '%') {
            int hi = hexval(s[i + 1]), lo = hi < 0 ? -1 : hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                AD_FAIL_("bad %%XX escape in \"%s\"", s);
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    return n;
}

static void escape_key(const char *k, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < cap; i++) {
        unsigned char c = (unsigned char)k[i];
        if (c > 0x20 && c < 0x7f && c != '%')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
    }
    out[n] = '\0';
}

struct golden {
    struct fixture cfg;
    struct ad_decoder *dec;
    struct fake_headers hdr;
    struct ad_record_meta meta;
    int line;
};

static void golden_config(struct golden *g, char *args)
{
    char err[256], val[4096];
    bool metrics_given = false;
    cfg_free(&g->cfg);
    cfg_init(&g->cfg);
    for (char *save = NULL, *tok = strtok_r(args, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            AD_FAIL_("cases.jsonl:%d: bad #config option \"%s\"", g->line, tok);
        *eq = '\0';
        pct_decode(eq + 1, val, sizeof(val));
        if (strcmp(tok, "key") == 0) {
            cfg_set(&g->cfg.key, val);
        } else if (strcmp(tok, "time") == 0) {
            cfg_set(&g->cfg.time, val);
        } else if (strcmp(tok, "time_format") == 0) {
            static const char *const names[] = {"auto", "epoch_s", "epoch_ms", "epoch_us",
                                                "rfc3339"};
            int f = -1;
            for (int i = 0; i < 5; i++)
                if (strcmp(val, names[i]) == 0)
                    f = i;
            if (f < 0)
                AD_FAIL_("cases.jsonl:%d: bad time_format %s", g->line, val);
            g->cfg.time_format = f;
        } else if (strcmp(tok, "metric") == 0) {
            if (!metrics_given)
                cfg_clear_metrics(&g->cfg);
            metrics_given = true;
            cfg_add_metric(&g->cfg, val);
        } else if (strcmp(tok, "max_message_bytes") == 0) {
            g->cfg.max_message_bytes = strtoll(val, NULL, 10);
        } else if (strcmp(tok, "max_key_bytes") == 0) {
            g->cfg.max_key_bytes = strtoll(val, NULL, 10);
        } else {
            AD_FAIL_("cases.jsonl:%d: unknown #config option \"%s\"", g->line, tok);
        }
    }
    if (!metrics_given)
        cfg_add_metric(&g->cfg, "/temp");
    ad_decoder_free(g->dec);
    g->dec = NULL;
    int rc = decoder_new(&g->cfg, &g->dec, err, sizeof(err));
    if (rc != 0)
        AD_FAIL_("cases.jsonl:%d: ad_decoder_new: %s: %s", g->line, ad_err_name(rc), err);
    /* The decoder copied what it needs: the config may go away. */
    cfg_free(&g->cfg);
    cfg_init(&g->cfg);
}

static void golden_meta(struct golden *g, char *args)
{
    char val[4096];
    memset(&g->hdr, 0, sizeof(g->hdr));
    memset(&g->meta, 0, sizeof(g->meta));
    g->meta.topic = "golden";
    g->meta.timestamp_ms = -1;
    for (char *save = NULL, *tok = strtok_r(args, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        if (strcmp(tok, "headers") == 0) {
            g->meta.header = fake_header;
            continue;
        }
        char *eq = strchr(tok, '=');
        if (!eq)
            AD_FAIL_("cases.jsonl:%d: bad #meta option \"%s\"", g->line, tok);
        *eq = '\0';
        if (strcmp(tok, "timestamp_ms") == 0) {
            g->meta.timestamp_ms = strtoll(eq + 1, NULL, 10);
        } else if (strcmp(tok, "header") == 0 || strcmp(tok, "nullheader") == 0) {
            size_t i = g->hdr.n++;
            AD_EXPECT(i < MAX_HEADERS);
            char *name = eq + 1, *eq2 = strchr(name, '=');
            if (eq2)
                *eq2 = '\0';
            snprintf(g->hdr.name[i], sizeof(g->hdr.name[i]), "%s", name);
            g->hdr.null[i] = tok[0] == 'n';
            g->hdr.len[i] = eq2 ? pct_decode(eq2 + 1, val, sizeof(val)) : 0;
            AD_EXPECT(g->hdr.len[i] <= sizeof(g->hdr.val[i]));
            memcpy(g->hdr.val[i], val, g->hdr.len[i]);
            g->meta.header = fake_header;
        } else {
            AD_FAIL_("cases.jsonl:%d: unknown #meta option \"%s\"", g->line, tok);
        }
    }
    g->meta.header_ctx = &g->hdr;
}

/* Compares one result with its expected line; returns 0 or prints and returns 1. */
static int golden_check(struct golden *g, const char *rec, size_t rec_len, char *exp)
{
    char *copy = malloc(rec_len ? rec_len : 1); /* exact size, not NUL-terminated */
    AD_EXPECT(copy != NULL);
    memcpy(copy, rec, rec_len);
    struct ad_decoded out;
    memset(&out, 0xA5, sizeof(out));
    enum ad_reject r = ad_decode(g->dec, copy, rec_len, &g->meta, &out);
    free(copy);

    char got[8192], want[8192];
    if (r != AD_REJECT_NONE) {
        snprintf(got, sizeof(got), "REJECT %s", ad_reject_name(r));
    } else {
        char key[4 * AD_KEY_MAX + 1];
        AD_EXPECT(out.key_len <= AD_KEY_MAX && out.key[out.key_len] == '\0');
        escape_key(out.key, out.key_len, key, sizeof(key));
        int n = snprintf(got, sizeof(got), "OK %s %lld", key, (long long)out.time_us);
        for (size_t i = 0; i < out.n_values; i++)
            n += snprintf(got + n, sizeof(got) - (size_t)n, " %.17g", out.values[i]);
    }

    /* Normalise the expected line: same tokens, numbers compared as numbers. */
    bool match = true;
    snprintf(want, sizeof(want), "%s", exp);
    char *save = NULL, *t = strtok_r(exp, " \t", &save);
    if (!t) {
        match = false;
    } else if (strcmp(t, "REJECT") == 0) {
        char *reason = strtok_r(NULL, " \t", &save);
        snprintf(want, sizeof(want), "REJECT %s", reason ? reason : "?");
        match = strcmp(got, want) == 0;
    } else if (strcmp(t, "OK") == 0 && r == AD_REJECT_NONE) {
        char *key = strtok_r(NULL, " \t", &save), *tm = strtok_r(NULL, " \t", &save);
        char kb[AD_KEY_MAX * 2 + 1];
        size_t kl = key ? pct_decode(key, kb, sizeof(kb)) : 0;
        int n = snprintf(want, sizeof(want), "OK %s %s", key ? key : "?", tm ? tm : "?");
        match = key && tm && kl == out.key_len && memcmp(kb, out.key, kl) == 0 &&
                strtoll(tm, NULL, 10) == out.time_us;
        size_t nv = 0;
        for (char *v; (v = strtok_r(NULL, " \t", &save)) != NULL; nv++) {
            n += snprintf(want + n, sizeof(want) - (size_t)n, " %s", v);
            double x = strtod(v, NULL);
            if (nv >= out.n_values || x != out.values[nv] || signbit(x) != signbit(out.values[nv]))
                match = false;
        }
        if (nv != out.n_values)
            match = false;
    } else {
        match = false;
    }
    if (!match) {
        printf("  cases.jsonl:%d: %.*s%s\n    got:  %s\n    want: %s\n", g->line,
               (int)(rec_len > 120 ? 120 : rec_len), rec, rec_len > 120 ? "..." : "", got, want);
        return 1;
    }
    return 0;
}

static void test_golden(void)
{
    size_t clen, elen;
    char *cbuf = read_all(ad_test_data("decode/cases.jsonl"), &clen);
    char *ebuf = read_all(ad_test_data("decode/expected.txt"), &elen);
    char **cl, **el;
    size_t *cll, *ell;
    size_t nc = split_lines(cbuf, clen, &cl, &cll), ne = split_lines(ebuf, elen, &el, &ell);
    if (nc != ne)
        AD_FAIL_("cases.jsonl has %zu lines, expected.txt %zu: they must correspond line by line",
                 nc, ne);

    struct golden g;
    memset(&g, 0, sizeof(g));
    cfg_init(&g.cfg);
    char none[] = "";
    g.line = 0;
    golden_config(&g, none);
    golden_meta(&g, none);

    int failed = 0, records = 0;
    bool seen[AD_REJECT_COUNT] = {false};
    for (size_t i = 0; i < nc; i++) {
        g.line = (int)i + 1;
        bool directive = cll[i] > 0 && cl[i][0] == '#';
        bool exp_comment = ell[i] == 0 || el[i][0] == '#';
        if (directive != exp_comment)
            AD_FAIL_("line %d: cases.jsonl and expected.txt are out of step (%s vs %s)", g.line,
                     directive ? "a directive" : "a record",
                     exp_comment ? "a comment" : "a result");
        if (directive) {
            if (strncmp(cl[i], "#config", 7) == 0 && (cl[i][7] == ' ' || cl[i][7] == '\0'))
                golden_config(&g, cl[i] + 7);
            else if (strncmp(cl[i], "#meta", 5) == 0 && (cl[i][5] == ' ' || cl[i][5] == '\0'))
                golden_meta(&g, cl[i] + 5);
            else if (strncmp(cl[i], "##", 2) != 0)
                AD_FAIL_("cases.jsonl:%d: unknown directive", g.line);
            continue;
        }
        for (int r = 0; r < AD_REJECT_COUNT; r++) {
            size_t nl = strlen(ad_reject_name((enum ad_reject)r));
            if (strncmp(el[i], "REJECT ", 7) == 0 &&
                strncmp(el[i] + 7, ad_reject_name((enum ad_reject)r), nl) == 0 &&
                (el[i][7 + nl] == '\0' || el[i][7 + nl] == ' '))
                seen[r] = true;
        }
        if (strncmp(el[i], "OK ", 3) == 0)
            seen[AD_REJECT_NONE] = true;
        records++;
        failed += golden_check(&g, cl[i], cll[i], el[i]);
    }
    printf("  %d golden records, %d mismatches\n", records, failed);
    for (int r = 0; r < AD_REJECT_COUNT; r++)
        if (!seen[r] && r != AD_REJECT_NOMEM) /* out_of_memory: tests/test_oom.c */
            AD_FAIL_("no golden case for %s", ad_reject_name((enum ad_reject)r));
    AD_EXPECT_INT(failed, ==, 0);
    ad_decoder_free(g.dec);
    cfg_free(&g.cfg);
    free(cl);
    free(cll);
    free(el);
    free(ell);
    free(cbuf);
    free(ebuf);
}

/* ------------------------------------------------------------------------ */
/* Construction */

static int try_new(const char *key, const char *time, const char *const *metrics, size_t nm,
                   char *err, size_t errlen)
{
    struct fixture c;
    cfg_init(&c);
    if (key)
        cfg_set(&c.key, key);
    else {
        free(c.key);
        c.key = NULL;
    }
    if (time)
        cfg_set(&c.time, time);
    for (size_t i = 0; i < nm; i++)
        cfg_add_metric(&c, metrics[i]);
    struct ad_decoder *d = (struct ad_decoder *)&c; /* must stay untouched on failure */
    int rc = decoder_new(&c, &d, err, errlen);
    if (rc == 0)
        ad_decoder_free(d);
    else
        AD_EXPECT(d == (struct ad_decoder *)&c);
    cfg_free(&c);
    return rc;
}

static void expect_config_error(const char *key, const char *time, const char *const *metrics,
                                size_t nm, const char *msg)
{
    char err[256] = "";
    int rc = try_new(key, time, metrics, nm, err, sizeof(err));
    if (rc != AD_ECONFIG)
        AD_FAIL_("key=%s time=%s metric0=%s: %s, want AD_ECONFIG", key ? key : "NULL",
                 time ? time : "NULL", nm ? metrics[0] : "-", ad_err_name(rc));
    AD_EXPECT_CONTAINS(err, msg);
}

static void test_new_errors(void)
{
    const char *const temp[] = {"/temp"};
    char err[256];
    AD_EXPECT_INT(try_new("/id", "/ts", temp, 1, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(try_new("header:id", "record", temp, 1, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(try_new("/", "/~0~1", temp, 1, err, sizeof(err)), ==, 0);
    AD_EXPECT_INT(try_new("/id", "/ts", temp, 1, NULL, 0), ==, 0);

    expect_config_error("id", "/ts", temp, 1, "input.key");
    expect_config_error("", "/ts", temp, 1, "input.key");
    expect_config_error(NULL, "/ts", temp, 1, "input.key");
    expect_config_error("header:", "/ts", temp, 1, "input.key");
    expect_config_error("/a~2", "/ts", temp, 1, "'~'");
    expect_config_error("/a~", "/ts", temp, 1, "'~'");
    expect_config_error("/id", "ts", temp, 1, "input.time");
    expect_config_error("/id", "", temp, 1, "input.time");
    expect_config_error("/id", "Record", temp, 1, "input.time");
    expect_config_error("/id", "/t~", temp, 1, "input.time");
    expect_config_error("/id", "/ts", NULL, 0, "input.metrics");
    const char *const bad1[] = {"/temp", "temp"};
    expect_config_error("/id", "/ts", bad1, 2, "input.metrics[1]");
    const char *const bad2[] = {""};
    expect_config_error("/id", "/ts", bad2, 1, "input.metrics[0]");
    const char *const bad3[] = {"/"};
    expect_config_error("/id", "/ts", bad3, 1, "empty");
    const char *const bad4[] = {"/a/"};
    expect_config_error("/id", "/ts", bad4, 1, "empty");
    const char *const bad5[] = {"/a/temp", "/b/temp"};
    expect_config_error("/id", "/ts", bad5, 2, "same name");
    const char *const bad6[] = {"/x~1y", "/x/y", "/x~0y~"};
    expect_config_error("/id", "/ts", bad6, 3, "input.metrics[2]");
    const char *many[AD_MAX_METRICS + 1];
    char names[AD_MAX_METRICS + 1][16];
    for (int i = 0; i <= AD_MAX_METRICS; i++) {
        snprintf(names[i], sizeof(names[i]), "/m%d", i);
        many[i] = names[i];
    }
    AD_EXPECT_INT(try_new("/id", "/ts", many, AD_MAX_METRICS, err, sizeof(err)), ==, 0);
    expect_config_error("/id", "/ts", many, AD_MAX_METRICS + 1, "at most");

    /* Limits and enums */
    struct fixture c;
    struct ad_decoder *d = NULL;
    cfg_init(&c);
    cfg_add_metric(&c, "/temp");
    c.max_message_bytes = 0;
    AD_EXPECT_INT(decoder_new(&c, &d, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT_CONTAINS(err, "max_message_bytes");
    c.max_message_bytes = 1;
    c.max_key_bytes = -1;
    AD_EXPECT_INT(decoder_new(&c, &d, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT_CONTAINS(err, "max_key_bytes");
    c.max_key_bytes = 1;
    c.time_format = 99;
    AD_EXPECT_INT(decoder_new(&c, &d, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT_CONTAINS(err, "time_format");
    c.time_format = AD_TIME_RFC3339;
    AD_EXPECT(d == NULL);
    AD_EXPECT_INT(decoder_new(&c, &d, err, sizeof(err)), ==, 0);
    AD_EXPECT(d != NULL);
    ad_decoder_free(d);
    AD_EXPECT_INT(ad_decoder_new(NULL, &d, err, sizeof(err)), ==, AD_EINVAL);
    struct ad_decode_cfg no_list = {.key = "/id",
                                    .time = "/ts",
                                    .n_metrics = 1,
                                    .max_message_bytes = 64,
                                    .max_key_bytes = 8};
    d = NULL;
    AD_EXPECT_INT(ad_decoder_new(&no_list, &d, err, sizeof(err)), ==, AD_EINVAL);
    AD_EXPECT(d == NULL);
    cfg_free(&c);
    ad_decoder_free(NULL);
}

static void test_metric_names(void)
{
    struct fixture c;
    cfg_init(&c);
    cfg_add_metric(&c, "/temp");
    cfg_add_metric(&c, "/a/b");
    cfg_add_metric(&c, "/x~1y");
    cfg_add_metric(&c, "/x~01");
    cfg_add_metric(&c, "/arr/0");
    cfg_add_metric(&c, "/~0~1~0");
    char err[256];
    struct ad_decoder *d = NULL;
    AD_EXPECT_INT(decoder_new(&c, &d, err, sizeof(err)), ==, 0);
    cfg_free(&c); /* names are owned by the decoder */
    AD_EXPECT_UINT(ad_decoder_metric_count(d), ==, 6);
    AD_EXPECT_STR(ad_decoder_metric_name(d, 0), "temp");
    AD_EXPECT_STR(ad_decoder_metric_name(d, 1), "b");
    AD_EXPECT_STR(ad_decoder_metric_name(d, 2), "x/y");
    AD_EXPECT_STR(ad_decoder_metric_name(d, 3), "x~1");
    AD_EXPECT_STR(ad_decoder_metric_name(d, 4), "0");
    AD_EXPECT_STR(ad_decoder_metric_name(d, 5), "~/~");
    AD_EXPECT(ad_decoder_metric_name(d, 6) == NULL);
    AD_EXPECT_UINT(ad_decoder_metric_count(NULL), ==, 0);
    ad_decoder_free(d);
}

static void test_reject_names(void)
{
    AD_EXPECT_STR(ad_reject_name(AD_REJECT_NONE), "none");
    AD_EXPECT_STR(ad_reject_desc(AD_REJECT_NONE), "accepted");
    AD_EXPECT_STR(ad_reject_desc(AD_REJECT_COUNT), "unknown reason");
    AD_EXPECT_STR(ad_reject_name(AD_REJECT_TOO_LARGE), "too_large");
    AD_EXPECT_STR(ad_reject_name(AD_REJECT_TIME_RANGE), "time_out_of_range");
    AD_EXPECT_STR(ad_reject_name(AD_REJECT_METRIC_RANGE), "metric_out_of_range");
    AD_EXPECT_STR(ad_reject_desc(AD_REJECT_TOO_DEEP), "JSON nested too deeply");
    AD_EXPECT_STR(ad_reject_name(AD_REJECT_COUNT), "unknown");
    AD_EXPECT_STR(ad_reject_name((enum ad_reject) - 1), "unknown");
    for (int i = 1; i < AD_REJECT_COUNT; i++) {
        AD_EXPECT(strlen(ad_reject_name((enum ad_reject)i)) > 0);
        AD_EXPECT(strlen(ad_reject_desc((enum ad_reject)i)) > 0);
        for (int j = 1; j < i; j++)
            AD_EXPECT(
                strcmp(ad_reject_name((enum ad_reject)i), ad_reject_name((enum ad_reject)j)) != 0);
    }
}

/* ------------------------------------------------------------------------ */
/* Inputs too large or too odd for the golden file */

static struct ad_decoder *default_decoder(const char *key, const char *time)
{
    struct fixture c;
    cfg_init(&c);
    cfg_set(&c.key, key);
    cfg_set(&c.time, time);
    cfg_add_metric(&c, "/temp");
    struct ad_decoder *d = NULL;
    char err[256];
    int rc = decoder_new(&c, &d, err, sizeof(err));
    if (rc != 0)
        AD_FAIL_("ad_decoder_new: %s", err);
    cfg_free(&c);
    return d;
}

static enum ad_reject decode_str(struct ad_decoder *d, const char *s,
                                 const struct ad_record_meta *meta, struct ad_decoded *out)
{
    return ad_decode(d, s, strlen(s), meta, out);
}

static void test_deep_nesting(void)
{
    struct ad_decoder *d = default_decoder("/id", "/ts");
    struct ad_decoded out;
    size_t n = 100000;
    char *b = malloc(8 * n + 64);
    AD_EXPECT(b != NULL);

    memset(b, '[', n);
    AD_EXPECT_INT(ad_decode(d, b, n, NULL, &out), ==, AD_REJECT_TOO_DEEP);
    memset(b + n, ']', n);
    AD_EXPECT_INT(ad_decode(d, b, 2 * n, NULL, &out), ==, AD_REJECT_TOO_DEEP);

    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(b + len, "{\"a\":", 5);
        len += 5;
    }
    AD_EXPECT_INT(ad_decode(d, b, len, NULL, &out), ==, AD_REJECT_TOO_DEEP);

    /* Wide rather than deep: many siblings at depth 64 are fine. */
    len = (size_t)snprintf(b, 64, "{\"id\":\"w\",\"ts\":1,\"temp\":2,\"x\":");
    for (int i = 0; i < 62; i++)
        b[len++] = '[';
    for (int i = 0; i < 2000; i++) {
        memcpy(b + len, "[],{},", 6);
        len += 6;
    }
    b[len++] = '1';
    for (int i = 0; i < 62; i++)
        b[len++] = ']';
    b[len++] = '}';
    AD_EXPECT_INT(ad_decode(d, b, len, NULL, &out), ==, AD_REJECT_NONE);
    AD_EXPECT_STR(out.key, "w");
    free(b);
    ad_decoder_free(d);
}

static void test_meta_null(void)
{
    struct ad_decoded out;
    struct ad_decoder *d = default_decoder("header:k", "/ts");
    AD_EXPECT_INT(decode_str(d, "{\"ts\":1,\"temp\":1}", NULL, &out), ==, AD_REJECT_MISSING_KEY);
    ad_decoder_free(d);
    d = default_decoder("/id", "record");
    AD_EXPECT_INT(decode_str(d, "{\"id\":\"a\",\"ts\":1,\"temp\":1}", NULL, &out), ==,
                  AD_REJECT_MISSING_TIME);
    struct ad_record_meta meta = {.topic = "t", .timestamp_ms = 1234};
    AD_EXPECT_INT(decode_str(d, "{\"id\":\"a\",\"ts\":1,\"temp\":1}", &meta, &out), ==,
                  AD_REJECT_NONE);
    AD_EXPECT_INT(out.time_us, ==, 1234000);
    /* Empty and NULL buffers */
    AD_EXPECT_INT(ad_decode(d, NULL, 0, &meta, &out), ==, AD_REJECT_INVALID_JSON);
    AD_EXPECT_INT(ad_decode(d, "", 0, &meta, &out), ==, AD_REJECT_INVALID_JSON);
    ad_decoder_free(d);
}

static void test_output(void)
{
    struct fixture c;
    cfg_init(&c);
    cfg_add_metric(&c, "/a");
    cfg_add_metric(&c, "/b/c");
    cfg_add_metric(&c, "/d/2");
    struct ad_decoder *d = NULL;
    char err[256];
    AD_EXPECT_INT(decoder_new(&c, &d, err, sizeof(err)), ==, 0);
    cfg_free(&c);
    struct ad_decoded out;
    memset(&out, 0xA5, sizeof(out));
    const char *rec = "{\"id\":\"sensor-7\",\"ts\":\"2026-11-20T10:00:00Z\",\"a\":1,"
                      "\"b\":{\"c\":-2.5},\"d\":[0,0,3e-3]}\n";
    AD_EXPECT_INT(decode_str(d, rec, NULL, &out), ==, AD_REJECT_NONE);
    AD_EXPECT_STR(out.key, "sensor-7");
    AD_EXPECT_UINT(out.key_len, ==, 8);
    AD_EXPECT_INT(out.time_us, ==, INT64_C(1795168800000000));
    AD_EXPECT_UINT(out.n_values, ==, 3);
    AD_EXPECT(out.values[0] == 1.0 && out.values[1] == -2.5 && out.values[2] == 3e-3);
    /* Same decoder, many records: nothing accumulates (ASan/LSan checks leaks). */
    for (int i = 0; i < 10000; i++)
        AD_EXPECT_INT(decode_str(d, i % 2 ? rec : "{\"id\":1}", NULL, &out), ==,
                      i % 2 ? AD_REJECT_NONE : AD_REJECT_MISSING_TIME);
    ad_decoder_free(d);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_golden);
    AD_TEST_RUN(argc, argv, test_new_errors);
    AD_TEST_RUN(argc, argv, test_metric_names);
    AD_TEST_RUN(argc, argv, test_reject_names);
    AD_TEST_RUN(argc, argv, test_deep_nesting);
    AD_TEST_RUN(argc, argv, test_meta_null);
    AD_TEST_RUN(argc, argv, test_output);
    return ad_test_done();
}
