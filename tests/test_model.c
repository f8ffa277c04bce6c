/* test_model.c - M2 model import (lines and array forms, ids, metric, every
 * error message, the newest file of a directory, the size cap) and
 * ad_model_format_line() round-tripping through the import. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_buf.h"
#include "ad_err.h"
#include "ad_model.h"
#include "ad_test.h"

struct entry {
    char id[128];
    size_t id_len;
    char metric[64];
    int has_metric;
    uint64_t n;
    double mean, m2;
};

struct got {
    struct entry e[64];
    size_t count;
    size_t stop_at; /* refuse the entry with this 1-based index (0: never) */
};

static int collect(void *ud, const char *id, size_t id_len, const char *metric, uint64_t n,
                   double mean, double m2)
{
    struct got *g = ud;
    struct entry *e;

    AD_EXPECT(id != NULL);
    AD_EXPECT_UINT(strlen(id), ==, id_len); /* NUL-terminated, no inner NUL */
    AD_EXPECT(id_len < sizeof(e->id));
    AD_EXPECT(g->count < sizeof(g->e) / sizeof(g->e[0]));
    if (g->stop_at && g->count + 1 == g->stop_at)
        return AD_ELIMIT;
    e = &g->e[g->count++];
    memcpy(e->id, id, id_len + 1);
    e->id_len = id_len;
    e->has_metric = metric != NULL;
    snprintf(e->metric, sizeof(e->metric), "%s", metric ? metric : "");
    e->n = n;
    e->mean = mean;
    e->m2 = m2;
    return 0;
}

static int import_str(const char *s, struct got *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof(*g));
    err[0] = '\0';
    return ad_model_import_buffer("t", s, strlen(s),
                                  &(struct ad_model_import){.cb = collect, .ud = g}, err, errlen);
}

/* The five entries of sensors-lines.jsonl and sensors-array.json. */
static void expect_sensor_entries(const struct got *g)
{
    AD_EXPECT_UINT(g->count, ==, 5);
    AD_EXPECT_STR(g->e[0].id, "sim-614");
    AD_EXPECT(!g->e[0].has_metric);
    AD_EXPECT_UINT(g->e[0].n, ==, 373);
    AD_EXPECT(g->e[0].mean == 22.34);
    AD_EXPECT(g->e[0].m2 == 123.51);

    AD_EXPECT_STR(g->e[1].id, "sim-615");
    AD_EXPECT(g->e[1].has_metric);
    AD_EXPECT_STR(g->e[1].metric, "hum");
    AD_EXPECT_UINT(g->e[1].n, ==, 2);
    AD_EXPECT(g->e[1].mean == -3.5);
    AD_EXPECT(g->e[1].m2 == 0.5);

    AD_EXPECT_STR(g->e[2].id, "616"); /* integer id */
    AD_EXPECT_UINT(g->e[2].id_len, ==, 3);
    AD_EXPECT_UINT(g->e[2].n, ==, 1);
    AD_EXPECT(g->e[2].mean == 21);
    AD_EXPECT(g->e[2].m2 == 0);

    AD_EXPECT_STR(g->e[3].id, "capteur-\xc3\xa9t\xc3\xa9 \"A\"");
    AD_EXPECT(!g->e[3].has_metric); /* "metric": null */
    AD_EXPECT_UINT(g->e[3].n, ==, 0);

    AD_EXPECT_STR(g->e[4].id, "sim-617");
    AD_EXPECT_STR(g->e[4].metric, "temp");
    AD_EXPECT_UINT(g->e[4].n, ==, UINT64_C(9007199254740993));
    AD_EXPECT(g->e[4].mean == 150.0);
    AD_EXPECT(g->e[4].m2 == 1e-3);
}

static void test_lines_form(void)
{
    static struct got g;
    char err[512] = "", chosen[4096] = "";
    const char *path = ad_test_data("model/sensors-lines.jsonl");

    AD_EXPECT_INT(ad_model_import_file(path,
                                       &(struct ad_model_import){collect, &g, chosen,
                                                                 sizeof(chosen)},
                                       err, sizeof(err)),
                  ==, 0);
    AD_EXPECT_STR(err, "");
    AD_EXPECT_STR(chosen, path);
    expect_sensor_entries(&g);
}

static void test_array_form(void)
{
    static struct got g;
    char err[512] = "";

    AD_EXPECT_INT(ad_model_import_file(ad_test_data("model/sensors-array.json"),
                                       &(struct ad_model_import){.cb = collect, .ud = &g}, err,
                                       sizeof(err)),
                  ==, 0);
    AD_EXPECT_STR(err, "");
    expect_sensor_entries(&g);
}

static void test_small_forms(void)
{
    static struct got g;
    char err[256];

    /* Empty inputs hold no models and are not errors. */
    AD_EXPECT_INT(import_str("", &g, err, sizeof(err)), ==, 0);
    AD_EXPECT_UINT(g.count, ==, 0);
    AD_EXPECT_INT(import_str("\n \n\t\r\n", &g, err, sizeof(err)), ==, 0);
    AD_EXPECT_UINT(g.count, ==, 0);
    AD_EXPECT_INT(import_str(" [ ] \n", &g, err, sizeof(err)), ==, 0);
    AD_EXPECT_UINT(g.count, ==, 0);

    /* CRLF line ends, a BOM, no final newline. */
    AD_EXPECT_INT(import_str("\xef\xbb\xbf{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}\r\n"
                             "{\"id\":\"b\",\"m2\":{\"n\":3,\"mean\":2,\"m2\":3}}",
                             &g, err, sizeof(err)),
                  ==, 0);
    AD_EXPECT_UINT(g.count, ==, 2);
    AD_EXPECT_STR(g.e[1].id, "b");

    /* A BOM before an array; the array on one line. */
    AD_EXPECT_INT(import_str("\xef\xbb\xbf\n[{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}},"
                             "{\"id\":-7,\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}]",
                             &g, err, sizeof(err)),
                  ==, 0);
    AD_EXPECT_UINT(g.count, ==, 2);
    AD_EXPECT_STR(g.e[1].id, "-7");
}

static void test_integer_ids(void)
{
    static struct got g;
    char err[256];

    AD_EXPECT_INT(import_str("{\"id\":0,\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n"
                             "{\"id\":-12,\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n"
                             "{\"id\":9223372036854775807,\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n"
                             "{\"id\":-9223372036854775808,\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n",
                             &g, err, sizeof(err)),
                  ==, 0);
    AD_EXPECT_UINT(g.count, ==, 4);
    AD_EXPECT_STR(g.e[0].id, "0");
    AD_EXPECT_STR(g.e[1].id, "-12");
    AD_EXPECT_STR(g.e[2].id, "9223372036854775807");
    AD_EXPECT_STR(g.e[3].id, "-9223372036854775808");
    AD_EXPECT_UINT(g.e[3].id_len, ==, 20);
}

static void test_metric_field(void)
{
    static struct got g;
    char err[256];

    AD_EXPECT_INT(import_str("{\"id\":\"a\",\"metric\":\"temp\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":"
                             "0}}\n"
                             "{\"id\":\"a\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n"
                             "{\"id\":\"a\",\"metric\":null,\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n"
                             "{\"id\":\"a\",\"metric\":\"r\\u00e9el\",\"m2\":{\"n\":0,\"mean\":0,"
                             "\"m2\":0}}\n",
                             &g, err, sizeof(err)),
                  ==, 0);
    AD_EXPECT_UINT(g.count, ==, 4);
    AD_EXPECT(g.e[0].has_metric);
    AD_EXPECT_STR(g.e[0].metric, "temp");
    AD_EXPECT(!g.e[1].has_metric);
    AD_EXPECT(!g.e[2].has_metric);
    AD_EXPECT_STR(g.e[3].metric, "r\xc3\xa9"
                                 "el");
}

/* Valid entry text, for building error cases. */
#define OK "{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}"

struct err_case {
    const char *in;
    const char *want; /* exact message, or a prefix ending in "..." */
    size_t delivered; /* entries handed over before the error */
};

static const struct err_case err_cases[] = {
    /* JSON syntax (jansson's text follows the prefix). */
    {"{\"id\":\"a\",\"m2\":{\"n\":1,\"mean\":1,\"m2\":0}", "t:1: invalid JSON: ...", 0},
    {OK "\n\n{\"id\":\"a\",}", "t:3: invalid JSON: ...", 1},
    {OK "\n{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":1e400,\"m2\":2}}",
     "t:2: invalid JSON: real number overflow near '1e400'", 1},
    {"{\"id\":\"a\",\"m2\":{\"n\":99999999999999999999,\"mean\":1,\"m2\":2}}",
     "t:1: invalid JSON: too big integer near '99999999999999999999'", 0},
    {"{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":NaN,\"m2\":2}}", "t:1: invalid JSON: ...", 0},
    {"{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":Infinity,\"m2\":2}}", "t:1: invalid JSON: ...", 0},
    {"{\"id\":\"a\",\"id\":\"b\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}",
     "t:1: invalid JSON: duplicate object key near '\"id\"'", 0},
    {"{\"id\":\"a\\u0000b\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}", "t:1: invalid JSON: ...", 0},
    {OK " " OK, "t:1: invalid JSON: ...", 0},
    {"\"sim-1\"", "t:1: invalid JSON: ...", 0},
    /* Shape. */
    {OK "\n[1]", "t:2: expected a JSON object", 1},
    {"{\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}", "t:1: missing \"id\"", 0},
    {"{\"id\":1.5,\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}",
     "t:1: \"id\" must be a string or an integer", 0},
    {"{\"id\":null,\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}",
     "t:1: \"id\" must be a string or an integer", 0},
    {"{\"id\":true,\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}",
     "t:1: \"id\" must be a string or an integer", 0},
    {"{\"id\":[\"a\"],\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}",
     "t:1: \"id\" must be a string or an integer", 0},
    {"{\"id\":\"\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}", "t:1: \"id\" is empty", 0},
    {"{\"id\":\"a\"}", "t:1: missing \"m2\"", 0},
    {"{\"id\":\"a\",\"m2\":[2,1,2]}", "t:1: \"m2\" must be an object", 0},
    {"{\"id\":\"a\",\"m2\":123.51}", "t:1: \"m2\" must be an object", 0},
    {"{\"id\":\"a\",\"metric\":5,\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}",
     "t:1: \"metric\" must be a string", 0},
    {"{\"id\":\"a\",\"metric\":\"\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":2}}",
     "t:1: \"metric\" is empty", 0},
    /* n */
    {"{\"id\":\"a\",\"m2\":{\"mean\":1,\"m2\":2}}", "t:1: missing \"m2.n\"", 0},
    {"{\"id\":\"a\",\"m2\":{\"n\":2.0,\"mean\":1,\"m2\":2}}", "t:1: \"m2.n\" must be an integer",
     0},
    {"{\"id\":\"a\",\"m2\":{\"n\":\"2\",\"mean\":1,\"m2\":2}}", "t:1: \"m2.n\" must be an integer",
     0},
    {"{\"id\":\"a\",\"m2\":{\"n\":-1,\"mean\":1,\"m2\":2}}", "t:1: \"m2.n\" must be >= 0, got -1",
     0},
    /* mean */
    {"{\"id\":\"a\",\"m2\":{\"n\":2,\"m2\":2}}", "t:1: missing \"m2.mean\"", 0},
    {"{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":\"1\",\"m2\":2}}", "t:1: \"m2.mean\" must be a number",
     0},
    {"{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":null,\"m2\":2}}", "t:1: \"m2.mean\" must be a number",
     0},
    /* m2 */
    {"{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":1}}", "t:1: missing \"m2.m2\"", 0},
    {"{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":false}}", "t:1: \"m2.m2\" must be a number",
     0},
    {"{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":-0.5}}",
     "t:1: \"m2.m2\" must be >= 0, got -0.5", 0},
    /* consistency */
    {"{\"id\":\"a\",\"m2\":{\"n\":0,\"mean\":1,\"m2\":0}}",
     "t:1: \"m2.n\" is 0 but \"m2.mean\" or \"m2.m2\" is not 0", 0},
    {"{\"id\":\"a\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":1}}",
     "t:1: \"m2.n\" is 0 but \"m2.mean\" or \"m2.m2\" is not 0", 0},
    {"{\"id\":\"a\",\"m2\":{\"n\":1,\"mean\":5,\"m2\":0.25}}",
     "t:1: \"m2.n\" is 1 but \"m2.m2\" is not 0", 0},
    /* The array form. */
    {"[1]", "t:1: array element 1 is not a JSON object", 0},
    {"[" OK ",\n\"x\"]", "t:2: array element 2 is not a JSON object", 1},
    {"[", "t:1: unterminated array (missing ']')", 0},
    {"[\n" OK ",\n", "t:3: unterminated array (missing ']')", 1},
    {"[" OK, "t:1: unterminated array (missing ']')", 1},
    {"[" OK ",]", "t:1: trailing comma before ']'", 1},
    {"[" OK " " OK "]", "t:1: expected ',' or ']' after array element 1", 1},
    {"[" OK "]\n" OK, "t:2: unexpected data after the array", 1},
    {"[" OK "]]", "t:1: unexpected data after the array", 1},
    {"[\n" OK ",\n\n" OK ",\n{\"id\":\"b\"}\n]", "t:5: missing \"m2\"", 2},
    {"[\n{\"id\":\"a\",\n \"m2\":{\"n\":2,\n  \"mean\":1,,\"m2\":2}}]", "t:4: invalid JSON: ...",
     0},
    {"[\n  {\"id\":\"a\",\n   \"m2\":{\"n\":-3,\"mean\":1,\"m2\":2}}\n]",
     "t:2: \"m2.n\" must be >= 0, got -3", 0},
    {"[{\"id\":\"a\",\"m2\":{\"n\":2,\"mean\":1,\"m2\":2},\"id\":1}]",
     "t:1: invalid JSON: duplicate object key near '\"id\"'", 0},
};

static void test_errors(void)
{
    static struct got g;
    char err[512];

    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const struct err_case *c = &err_cases[i];
        int rc = import_str(c->in, &g, err, sizeof(err));
        size_t wl = strlen(c->want);

        if (rc != AD_EPARSE)
            AD_FAIL_("case %zu (%s): rc %d, err \"%s\"", i, c->in, rc, err);
        if (wl > 3 && strcmp(c->want + wl - 3, "...") == 0) {
            if (strncmp(err, c->want, wl - 3) != 0 || strlen(err) <= wl - 3)
                AD_FAIL_("case %zu (%s):\n  got:  \"%s\"\n  want: \"%s\"", i, c->in, err, c->want);
        } else if (strcmp(err, c->want) != 0) {
            AD_FAIL_("case %zu (%s):\n  got:  \"%s\"\n  want: \"%s\"", i, c->in, err, c->want);
        }
        AD_EXPECT(strchr(err, '\n') == NULL);
        if (g.count != c->delivered)
            AD_FAIL_("case %zu: %zu entries delivered, want %zu", i, g.count, c->delivered);
    }
}

static void test_error_files(void)
{
    static struct got g;
    char err[8192], want[8192];
    const char *path;

    path = ad_test_data("model/bad-line3.jsonl");
    memset(&g, 0, sizeof(g));
    AD_EXPECT_INT(ad_model_import_file(path, &(struct ad_model_import){.cb = collect, .ud = &g},
                                       err, sizeof(err)),
                  ==, AD_EPARSE);
    snprintf(want, sizeof(want), "%s:3: \"m2.n\" is 1 but \"m2.m2\" is not 0", path);
    AD_EXPECT_STR(err, want);
    AD_EXPECT_UINT(g.count, ==, 1);

    path = ad_test_data("model/bad-array-line3.json");
    memset(&g, 0, sizeof(g));
    AD_EXPECT_INT(ad_model_import_file(path, &(struct ad_model_import){.cb = collect, .ud = &g},
                                       err, sizeof(err)),
                  ==, AD_EPARSE);
    snprintf(want, sizeof(want), "%s:3: \"m2.n\" must be >= 0, got -4", path);
    AD_EXPECT_STR(err, want);
}

static void test_callback_stops(void)
{
    static struct got g;
    char err[256];
    const char *in = "{\"id\":\"a\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n"
                     "{\"id\":\"b\\n\\u0001c\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n"
                     "{\"id\":\"c\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n";

    memset(&g, 0, sizeof(g));
    g.stop_at = 2;
    AD_EXPECT_INT(ad_model_import_buffer("t", in, strlen(in),
                                         &(struct ad_model_import){.cb = collect, .ud = &g}, err,
                                         sizeof(err)),
                  ==, AD_ELIMIT);
    AD_EXPECT_UINT(g.count, ==, 1);
    AD_EXPECT_STR(err, "t:2: entry \"b??c\" refused: configured limit exceeded");
}

static void test_missing_and_unreadable(void)
{
    static struct got g;
    char err[8192] = "", want[8192];
    const char *path = ad_test_data("model/no-such-file.json");

    AD_EXPECT_INT(ad_model_import_file(path, &(struct ad_model_import){.cb = collect, .ud = &g},
                                       err, sizeof(err)),
                  ==, AD_ENOENT);
    snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
    AD_EXPECT_STR(err, want);

    /* A model file path below a regular file. */
    path = ad_test_data("model/sensors-lines.jsonl/x.json");
    AD_EXPECT_INT(ad_model_import_file(path, &(struct ad_model_import){.cb = collect, .ud = &g},
                                       err, sizeof(err)),
                  ==, AD_EIO);
    snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOTDIR));
    AD_EXPECT_STR(err, want);
}

static void test_dir_picks_newest(void)
{
    static struct got g;
    char err[512] = "", chosen[4096] = "", want[8192];
    const char *dir = ad_test_data("model/dir");

    memset(&g, 0, sizeof(g));
    AD_EXPECT_INT(ad_model_import_file(dir,
                                       &(struct ad_model_import){collect, &g, chosen,
                                                                 sizeof(chosen)},
                                       err, sizeof(err)),
                  ==, 0);
    /* Not sensors-m2-999.json (smaller number, though longer-lived), not the
     * dotfile, the .tmp, the non-numeric name, nor the Spark-style
     * directory with a greater number. */
    snprintf(want, sizeof(want), "%s/sensors-m2-1700000060000.json", dir);
    AD_EXPECT_STR(chosen, want);
    AD_EXPECT_UINT(g.count, ==, 2);
    AD_EXPECT_STR(g.e[0].id, "newest");
    AD_EXPECT_STR(g.e[1].id, "newest-2");
    AD_EXPECT_UINT(g.e[1].n, ==, 8);

    /* A trailing slash works too. */
    char slash[8192];
    snprintf(slash, sizeof(slash), "%s/", dir);
    memset(&g, 0, sizeof(g));
    AD_EXPECT_INT(ad_model_import_file(slash, &(struct ad_model_import){.cb = collect, .ud = &g},
                                       err, sizeof(err)),
                  ==, 0);
    AD_EXPECT_STR(g.e[0].id, "newest");
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    AD_EXPECT(f != NULL);
    AD_EXPECT_UINT(fwrite(s, 1, strlen(s), f), ==, strlen(s));
    AD_EXPECT_INT(fclose(f), ==, 0);
}

static void test_dir_cases(void)
{
    static struct got g;
    char dir[256], err[1024], want[1024], p[512], chosen[512];
    const char *base = getenv("TMPDIR");

    snprintf(dir, sizeof(dir), "%s/ad_test_model.XXXXXX", base && *base ? base : "/tmp");
    AD_EXPECT(mkdtemp(dir) != NULL);

    /* No matching file. */
    AD_EXPECT_INT(ad_model_import_file(dir, &(struct ad_model_import){.cb = collect, .ud = &g}, err,
                                       sizeof(err)),
                  ==, AD_ENOENT);
    snprintf(want, sizeof(want), "%s: no model file named <prefix>-<epoch ms>.json", dir);
    AD_EXPECT_STR(err, want);
    snprintf(p, sizeof(p), "%s/model.json", dir);
    write_file(p, OK "\n");
    snprintf(p, sizeof(p), "%s/m-.json", dir);
    write_file(p, OK "\n");
    snprintf(p, sizeof(p), "%s/m-99999999999999999999999.json", dir); /* > UINT64_MAX */
    write_file(p, OK "\n");
    AD_EXPECT_INT(ad_model_import_file(dir, &(struct ad_model_import){.cb = collect, .ud = &g}, err,
                                       sizeof(err)),
                  ==, AD_ENOENT);

    /* Numbers compare as numbers, not strings; ties go to the greater name. */
    snprintf(p, sizeof(p), "%s/a-900.json", dir);
    write_file(p, "{\"id\":\"900\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n");
    snprintf(p, sizeof(p), "%s/a-1000.json", dir);
    write_file(p, "{\"id\":\"a1000\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n");
    snprintf(p, sizeof(p), "%s/b-0001000.json", dir);
    write_file(p, "{\"id\":\"b1000\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n");
    memset(&g, 0, sizeof(g));
    AD_EXPECT_INT(ad_model_import_file(dir,
                                       &(struct ad_model_import){collect, &g, chosen,
                                                                 sizeof(chosen)},
                                       err, sizeof(err)),
                  ==, 0);
    AD_EXPECT_STR(g.e[0].id, "b1000");
    snprintf(want, sizeof(want), "%s/b-0001000.json", dir);
    AD_EXPECT_STR(chosen, want);

    /* The newest file is broken: its error names it. */
    snprintf(p, sizeof(p), "%s/a-2000.json", dir);
    write_file(p, "{\"id\":\"x\"}\n");
    AD_EXPECT_INT(ad_model_import_file(dir, &(struct ad_model_import){.cb = collect, .ud = &g}, err,
                                       sizeof(err)),
                  ==, AD_EPARSE);
    snprintf(want, sizeof(want), "%s:1: missing \"m2\"", p);
    AD_EXPECT_STR(err, want);

    /* Size cap: a sparse file one byte over 1 GiB. */
    snprintf(p, sizeof(p), "%s/big-3000.json", dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    AD_EXPECT(fd >= 0);
    AD_EXPECT_INT(ftruncate(fd, (off_t)AD_MODEL_MAX_BYTES + 1), ==, 0);
    close(fd);
    AD_EXPECT_INT(ad_model_import_file(dir, &(struct ad_model_import){.cb = collect, .ud = &g}, err,
                                       sizeof(err)),
                  ==, AD_ELIMIT);
    snprintf(want, sizeof(want), "%s: larger than 1073741824 bytes", p);
    AD_EXPECT_STR(err, want);
    unlink(p);

    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    AD_EXPECT_INT(system(cmd), ==, 0);
}

static void test_buffer_size_cap(void)
{
    static struct got g;
    char err[256];
    static const char one = '{';

    /* The length alone decides; nothing is read. */
    AD_EXPECT_INT(ad_model_import_buffer("t", &one, AD_MODEL_MAX_BYTES + 1,
                                         &(struct ad_model_import){.cb = collect, .ud = &g}, err,
                                         sizeof(err)),
                  ==, AD_ELIMIT);
    AD_EXPECT_STR(err, "t: larger than 1073741824 bytes");
}

static void test_format_line(void)
{
    struct ad_buf b;

    ad_buf_init(&b, 4096);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"sim-614", 7, "temp", 373,
                                                                    22.34, 123.51}),
                  ==, 0);
    AD_EXPECT_STR(b.p, "{\"id\":\"sim-614\",\"metric\":\"temp\",\"m2\":{\"n\":373,\"mean\":22.34,"
                       "\"m2\":123.51}}\n");
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"a\"b\n\xc3\xa9", 6, NULL, 0, 0,
                                                                    0}),
                  ==, 0);
    AD_EXPECT_STR(b.p, "{\"id\":\"a\\\"b\\n\xc3\xa9\",\"m2\":{\"n\":0,\"mean\":0,\"m2\":0}}\n");

    /* Refused like the import refuses, leaving the buffer as it was. */
    ad_buf_reset(&b);
    AD_EXPECT_INT(ad_buf_adds(&b, "x"), ==, 0);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"", 0, NULL, 2, 1, 1}), ==,
                  AD_EINVAL);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"a\0b", 3, NULL, 2, 1, 1}), ==,
                  AD_EINVAL);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"a", 1, "", 2, 1, 1}), ==,
                  AD_EINVAL);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"a", 1, NULL, 2, NAN, 1}), ==,
                  AD_EINVAL);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"a", 1, NULL, 2, 1, INFINITY}),
                  ==, AD_EINVAL);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"a", 1, NULL, 2, 1, -1}), ==,
                  AD_EINVAL);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"a", 1, NULL, 0, 1, 0}), ==,
                  AD_EINVAL);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"a", 1, NULL, 1, 1, 1}), ==,
                  AD_EINVAL);
    AD_EXPECT_INT(ad_model_format_line(&b,
                                       &(struct ad_model_entry){"a", 1, NULL, UINT64_MAX, 1, 1}),
                  ==, AD_EINVAL);
    AD_EXPECT_STR(b.p, "x");
    ad_buf_free(&b);

    /* Buffer limit: every short maximum fails and changes nothing. */
    const size_t line_len = strlen("{\"id\":\"sim-614\",\"metric\":\"temp\",\"m2\":{\"n\":373,"
                                   "\"mean\":22.34,\"m2\":123.51}}\n");
    for (size_t max = 1; max <= 1 + line_len; max++) {
        ad_buf_init(&b, max);
        AD_EXPECT_INT(ad_buf_adds(&b, "x"), ==, 0);
        int rc = ad_model_format_line(&b, &(struct ad_model_entry){"sim-614", 7, "temp", 373, 22.34,
                                                                   123.51});
        AD_EXPECT_INT(rc, ==, max < 1 + line_len ? AD_ELIMIT : 0);
        if (rc)
            AD_EXPECT_STR(b.p, "x");
        ad_buf_free(&b);
    }
}

static int same_double(double a, double b)
{
    return a == b; /* -0.0 reads back as 0: equal, as the model needs */
}

static void test_format_roundtrip(void)
{
    static struct got g;
    struct ad_buf b;
    char err[256];
    static const double means[] = {0,
                                   22.34,
                                   -3.5,
                                   1e-300,
                                   DBL_MAX,
                                   -DBL_MAX,
                                   0.1,
                                   1.0 / 3,
                                   4.9406564584124654e-324,
                                   1e17,
                                   123456789012345678.0,
                                   -0.0,
                                   2.5e-7,
                                   9007199254740993.0};
    struct ad_model_case {
        const char *id;
        size_t id_len;
        const char *metric;
    } ids[] = {{"sim-614", 0, "temp"},
               {"x", 0, NULL},
               {"q\"uote\\back\tslash\x01\x7f", 0, "hum"},
               {"\xc3\xa9t\xc3\xa9-\xf0\x9f\x98\x80", 0, "t\xc3\xa9mp"},
               {"616", 0, NULL}};
    uint64_t seed = 42;

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        ids[i].id_len = strlen(ids[i].id);
    ad_buf_init(&b, 1 << 20);
    size_t want = 0;
    for (size_t i = 0; i < 40; i++) {
        const struct ad_model_case *c = &ids[i % 5];
        double mean = means[i % (sizeof(means) / sizeof(means[0]))];
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint64_t n = 2 + (seed >> 40);
        double m2 = (double)(seed >> 11) * 0x1p-53 * 1e6;
        if (i == 7)
            n = UINT64_C(9223372036854775807), m2 = 0;
        AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){c->id, c->id_len, c->metric,
                                                                        n, mean, m2}),
                      ==, 0);
        want++;
    }
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"zero", 4, NULL, 0, 0, 0}), ==,
                  0);
    AD_EXPECT_INT(ad_model_format_line(&b, &(struct ad_model_entry){"one", 3, NULL, 1, -7.25, 0}),
                  ==, 0);
    want += 2;

    /* Read back: every value bit for bit. */
    memset(&g, 0, sizeof(g));
    AD_EXPECT_INT(ad_model_import_buffer("rt", b.p, b.len,
                                         &(struct ad_model_import){.cb = collect, .ud = &g}, err,
                                         sizeof(err)),
                  ==, 0);
    AD_EXPECT_UINT(g.count, ==, want);
    seed = 42;
    for (size_t i = 0; i < 40; i++) {
        const struct ad_model_case *c = &ids[i % 5];
        double mean = means[i % (sizeof(means) / sizeof(means[0]))];
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint64_t n = 2 + (seed >> 40);
        double m2 = (double)(seed >> 11) * 0x1p-53 * 1e6;
        if (i == 7)
            n = UINT64_C(9223372036854775807), m2 = 0;
        AD_EXPECT_UINT(g.e[i].id_len, ==, c->id_len);
        AD_EXPECT(memcmp(g.e[i].id, c->id, c->id_len) == 0);
        AD_EXPECT_INT(g.e[i].has_metric, ==, c->metric != NULL);
        if (c->metric)
            AD_EXPECT_STR(g.e[i].metric, c->metric);
        AD_EXPECT_UINT(g.e[i].n, ==, n);
        if (!same_double(g.e[i].mean, mean) || !same_double(g.e[i].m2, m2))
            AD_FAIL_("entry %zu: %.17g/%.17g vs %.17g/%.17g", i, g.e[i].mean, g.e[i].m2, mean, m2);
    }
    AD_EXPECT_STR(g.e[40].id, "zero");
    AD_EXPECT(g.e[41].mean == -7.25);

    /* The same lines wrapped as an array read back the same. */
    struct ad_buf arr;
    ad_buf_init(&arr, 1 << 20);
    AD_EXPECT_INT(ad_buf_adds(&arr, "[\n"), ==, 0);
    for (char *s = b.p, *nl; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
        AD_EXPECT_INT(ad_buf_add(&arr, s, (size_t)(nl - s)), ==, 0);
        AD_EXPECT_INT(ad_buf_adds(&arr, nl[1] ? ",\n" : "\n]\n"), ==, 0);
    }
    static struct got g2;
    memset(&g2, 0, sizeof(g2));
    AD_EXPECT_INT(ad_model_import_buffer("rt", arr.p, arr.len,
                                         &(struct ad_model_import){.cb = collect, .ud = &g2}, err,
                                         sizeof(err)),
                  ==, 0);
    AD_EXPECT_UINT(g2.count, ==, g.count);
    AD_EXPECT(memcmp(g2.e, g.e, sizeof(g.e)) == 0);
    ad_buf_free(&arr);
    ad_buf_free(&b);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_lines_form);
    AD_TEST_RUN(argc, argv, test_array_form);
    AD_TEST_RUN(argc, argv, test_small_forms);
    AD_TEST_RUN(argc, argv, test_integer_ids);
    AD_TEST_RUN(argc, argv, test_metric_field);
    AD_TEST_RUN(argc, argv, test_errors);
    AD_TEST_RUN(argc, argv, test_error_files);
    AD_TEST_RUN(argc, argv, test_callback_stops);
    AD_TEST_RUN(argc, argv, test_missing_and_unreadable);
    AD_TEST_RUN(argc, argv, test_dir_picks_newest);
    AD_TEST_RUN(argc, argv, test_dir_cases);
    AD_TEST_RUN(argc, argv, test_buffer_size_cap);
    AD_TEST_RUN(argc, argv, test_format_line);
    AD_TEST_RUN(argc, argv, test_format_roundtrip);
    return ad_test_done();
}
