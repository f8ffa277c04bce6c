/* Lookup over the table cmake/embed.cmake generates from web/. */
#include "ad_assets.h"

#include <string.h>

const struct ad_asset *ad_asset_find(const char *path)
{
    size_t n = 0;
    const struct ad_asset *a = ad_assets(&n);
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, a[mid].path);
        if (c == 0)
            return &a[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
