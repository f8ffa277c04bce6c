/* test_config_yaml.c - the YAML reader's bound on nesting (issue 17, item
 * 10): libyaml takes time quadratic in the depth (40,000 levels within the
 * 1 MiB limit took 8 s), so a document nested deeper than
 * AD_CONFIG_MAX_NESTING is refused as the parser reaches that depth, with the
 * file:line:col of the level that is one too deep. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_config.h"
#include "ad_err.h"
#include "test_config_util.h"

/* n flow sequences, one inside the other: "[[[...]]]". */
static char *flow_nest(size_t n, size_t *len)
{
    char *s = malloc(2 * n + 2);
    if (!s)
        return NULL;
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\n';
    s[2 * n + 1] = 0;
    *len = 2 * n + 1;
    return s;
}

static void test_deep_flow(void)
{
    struct ad_config c;
    size_t len;
    char *s = flow_nest(200000, &len); /* 400 KB: over a minute before */
    AD_EXPECT(s != NULL);
    AD_EXPECT_INT(ad_config_init(&c), ==, 0);
    AD_EXPECT_INT(ad_config_load_buffer(&c, "deep.yaml", s, len, err, sizeof(err)), ==, AD_ECONFIG);
    /* The 65th "[" is at column 65. */
    AD_EXPECT_STR(err, "deep.yaml:1:65: YAML nested deeper than 64 levels");
    free(s);
    /* --set values go through the same reader. */
    char set[300] = "source.kafka.topics=";
    size_t at = strlen(set);
    memset(set + at, '[', 100);
    set[at + 100] = 0;
    AD_EXPECT_INT(ad_config_set(&c, set, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT_CONTAINS(err, "YAML nested deeper than 64 levels");
    ad_config_free(&c);
}

static void test_deep_block(void)
{
    struct ad_config c;
    struct ad_buf b;
    char line[200];
    ad_buf_init(&b, 1 << 20);
    /* Line i+1 holds key "ki" indented by i spaces: 100 mappings deep. */
    for (int i = 0; i < 100; i++) {
        snprintf(line, sizeof(line), "%*sk%d:\n", i, "", i);
        AD_EXPECT_INT(ad_buf_adds(&b, line), ==, 0);
    }
    snprintf(line, sizeof(line), "%*sv: 1\n", 100, "");
    AD_EXPECT_INT(ad_buf_adds(&b, line), ==, 0);
    AD_EXPECT_INT(ad_config_init(&c), ==, 0);
    AD_EXPECT_INT(ad_config_load_buffer(&c, "block.yaml", b.p, b.len, err, sizeof(err)), ==,
                  AD_ECONFIG);
    /* Mapping 65 is the value of k63: its first key, k64, is at line 65,
     * after 64 spaces. */
    AD_EXPECT_STR(err, "block.yaml:65:65: YAML nested deeper than 64 levels");
    ad_buf_free(&b);
    ad_config_free(&c);
}

/* At the limit the reader goes on; the error is then the config's own. */
static void test_at_limit(void)
{
    struct ad_config c;
    size_t len;
    char *s = flow_nest(64, &len);
    AD_EXPECT(s != NULL);
    AD_EXPECT_INT(ad_config_init(&c), ==, 0);
    AD_EXPECT_INT(ad_config_load_buffer(&c, "ok.yaml", s, len, err, sizeof(err)), ==, AD_ECONFIG);
    AD_EXPECT(strstr(err, "nested deeper") == NULL);
    free(s);
    const char *ok = "source: {kafka: {properties: {a.b: 1}}}\n";
    AD_EXPECT_INT(ad_config_load_buffer(&c, "ok.yaml", ok, strlen(ok), err, sizeof(err)), ==, 0);
    ad_config_free(&c);
}

int main(int argc, char **argv)
{
    unset_config_env();
    AD_TEST_RUN(argc, argv, test_deep_flow);
    AD_TEST_RUN(argc, argv, test_deep_block);
    AD_TEST_RUN(argc, argv, test_at_limit);
    return ad_test_done();
}
