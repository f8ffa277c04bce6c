/* fuzz_adapi.c - the univariate REST API (ad_uv_api_handle) on arbitrary
 * bytes: the first byte picks the endpoint and version, the rest is the
 * request body. Never crashes or leaks; aborts when an invariant breaks:
 *   - every response is one JSON object;
 *   - 200 bodies have the endpoint's fields (arrays of the right length);
 *   - 400 bodies carry {"code","message"}, and v1.1 sets x-ms-error-code to
 *     the same code (v1.0 sets none). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ad_buf.h"
#include "ad_uvad_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
    "/anomalydetector/v1.1/timeseries/entire/detect",
    "/anomalydetector/v1.1/timeseries/last/detect",
    "/anomalydetector/v1.0/timeseries/entire/detect",
    "/anomalydetector/v1.0/timeseries/last/detect",
    "/anomalydetector/v1.1/timeseries/changepoint/detect",
};

static void check_200(int which, const json_t *root)
{
    if (which == 1 || which == 3) {
        if (!json_is_boolean(json_object_get(root, "isAnomaly")) ||
            !json_is_number(json_object_get(root, "expectedValue")) ||
            (json_object_get(root, "severity") != NULL) != (which == 1))
            abort();
        return;
    }
    const char *k = which == 4 ? "isChangePoint" : "isAnomaly";
    const json_t *a = json_object_get(root, k);
    const json_t *b = json_object_get(root, which == 4 ? "confidenceScores" : "expectedValues");
    if (!json_is_array(a) || !json_is_array(b) || json_array_size(a) != json_array_size(b) ||
        json_array_size(a) < 12 || !json_is_integer(json_object_get(root, "period")))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int which = data[0] % 5;
    const char *path = paths[which];
    struct ad_buf out;
    struct ad_uv_response res;
    ad_buf_init(&out, 16 << 20);
    struct ad_uv_http_request rq = {"POST",       path,
                                    strlen(path), (const char *)data + 1,
                                    size - 1,     (data[0] & 0x80) ? 20 : 0};
    if (ad_uv_api_handle(&rq, &out, &res) != 0)
        abort();
    json_error_t jerr;
    json_t *root = json_loadb(out.p, out.len, 0, &jerr);
    if (!json_is_object(root))
        abort();
    if (res.status == 200) {
        check_200(which, root);
    } else if (res.status == 400) {
        const char *code = json_string_value(json_object_get(root, "code"));
        if (!code || !json_is_string(json_object_get(root, "message")))
            abort();
        bool v11 = which != 2 && which != 3;
        if (strcmp(res.error_code, v11 ? code : "") != 0)
            abort();
    } else if (!json_is_object(json_object_get(root, "error"))) {
        abort();
    }
    json_decref(root);
    ad_buf_free(&out);
    return 0;
}
