#ifndef AD_ASSETS_H
#define AD_ASSETS_H
/* Files compiled into the binary from web/ (cmake/embed.cmake): the dashboard's
 * page, script and style, and the vendored chart library (web/vendor/uplot,
 * refreshed by tools/vendor-uplot.sh). Nothing is read from disk or the
 * network at view time. Static storage: never freed, never written. */
#include <stddef.h>

struct ad_asset {
    const char *path;          /* relative to web/, e.g. "vendor/uplot/uPlot.min.css" */
    const unsigned char *data; /* len bytes, then a NUL not counted in len */
    size_t len;
    const char *type; /* Content-Type by extension */
};

/* Every asset, sorted by path; *n receives the count. */
const struct ad_asset *ad_assets(size_t *n);

/* The asset at `path` (relative to web/, no leading slash), or NULL. */
const struct ad_asset *ad_asset_find(const char *path);

#endif
