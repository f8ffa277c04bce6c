/* The web/ files compiled into the binary (cmake/embed.cmake, ad_assets.h). */
#include "ad_assets.h"
#include "ad_test.h"

#include <stdio.h>

static void test_vendored_uplot_is_embedded_whole(void)
{
    const struct ad_asset *a = ad_asset_find("vendor/uplot/uPlot.iife.min.js");
    AD_EXPECT(a != NULL);
    AD_EXPECT_STR(a->type, "text/javascript; charset=utf-8");
    AD_EXPECT_INT(a->data[a->len], ==, 0);
    /* the same bytes as the file in the tree */
    FILE *f = fopen(AD_TEST_DATA_DIR "/../../web/vendor/uplot/uPlot.iife.min.js", "rb");
    AD_EXPECT(f != NULL);
    size_t off = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        AD_EXPECT(off < a->len);
        if (a->data[off] != (unsigned char)c)
            AD_FAIL_("byte %zu differs", off);
        off++;
    }
    fclose(f);
    AD_EXPECT_INT(off, ==, a->len);
    AD_EXPECT(ad_asset_find("vendor/uplot/LICENSE") != NULL);
}

static void test_table_is_sorted_and_lookup_exact(void)
{
    size_t n = 0;
    const struct ad_asset *all = ad_assets(&n);
    AD_EXPECT(n >= 3);
    for (size_t i = 0; i + 1 < n; i++)
        AD_EXPECT(strcmp(all[i].path, all[i + 1].path) < 0);
    for (size_t i = 0; i < n; i++)
        AD_EXPECT(ad_asset_find(all[i].path) == &all[i]);
    AD_EXPECT(ad_asset_find("") == NULL);
    AD_EXPECT(ad_asset_find("/vendor/uplot/LICENSE") == NULL);
    AD_EXPECT(ad_asset_find("vendor/uplot/../uplot/LICENSE") == NULL);
    AD_EXPECT(ad_asset_find("vendor/uplot") == NULL);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_vendored_uplot_is_embedded_whole);
    AD_TEST_RUN(argc, argv, test_table_is_sorted_and_lookup_exact);
    return ad_test_done();
}
