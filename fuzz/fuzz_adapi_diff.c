/* fuzz_adapi_diff.c - differential: every input goes through
 * ad_uv_parse_request() (the fast scan of the usual body, jansson for any
 * other) and through ad_uv_parse_request_reference() (jansson alone); any
 * difference in the outcome, the error's code or message, a parameter or a
 * point's value bits or grid position aborts. The first byte picks the
 * endpoint and API version, the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_uvad_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_request(const struct ad_uv_request *a, const struct ad_uv_request *b)
{
    if (a->n != b->n || a->granularity != b->granularity ||
        a->custom_interval != b->custom_interval || a->period != b->period ||
        memcmp(&a->max_anomaly_ratio, &b->max_anomaly_ratio, sizeof(double)) != 0 ||
        a->sensitivity != b->sensitivity || a->impute != b->impute ||
        memcmp(&a->impute_value, &b->impute_value, sizeof(double)) != 0 || a->mode != b->mode)
        abort();
    if (memcmp(a->values, b->values, a->n * sizeof(double)) != 0 ||
        memcmp(a->index, b->index, a->n * sizeof(int64_t)) != 0)
        abort();
}

static void same(int ra, const struct ad_uv_parsed *a, const struct ad_uv_error *ea, int rb,
                 const struct ad_uv_parsed *b, const struct ad_uv_error *eb)
{
    if (ra != rb)
        abort();
    if (ra != 0) {
        if (strcmp(ea->code, eb->code) != 0 || strcmp(ea->message, eb->message) != 0)
            abort();
        return;
    }
    if (a->ep != b->ep || a->version != b->version)
        abort();
    same_request(&a->req, &b->req);
    if (a->cp.n != b->cp.n || a->cp.stable_trend_window != b->cp.stable_trend_window ||
        memcmp(&a->cp.threshold, &b->cp.threshold, sizeof(double)) != 0 ||
        a->cp.period != b->cp.period || a->cp.granularity != b->cp.granularity ||
        a->cp.custom_interval != b->cp.custom_interval)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const enum ad_uv_endpoint eps[] = {AD_UV_EP_ENTIRE, AD_UV_EP_LAST, AD_UV_EP_ENTIRE,
                                              AD_UV_EP_LAST, AD_UV_EP_CHANGEPOINT};
    int which = data[0] % 5, version = which == 2 || which == 3 ? 0 : 1;
    /* exact-size copy: a read past the end is an ASan report */
    char *body = malloc(size - 1 ? size - 1 : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    struct ad_uv_parsed a, b;
    struct ad_uv_error ea = {"", ""}, eb = {"", ""};
    int ra = ad_uv_parse_request(body, size - 1, version, eps[which], &a, &ea);
    int rb = ad_uv_parse_request_reference(body, size - 1, version, eps[which], &b, &eb);
    same(ra, &a, &ea, rb, &b, &eb);
    if (ra == 0) {
        ad_uv_parsed_free(&a);
        ad_uv_parsed_free(&b);
    }
    free(body);
    return 0;
}
