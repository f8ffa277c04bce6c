/* ad_uvad_api.h - the retired Anomaly Detector's univariate REST API as pure
 * functions: request bytes in, (status, error header, response bytes) out
 * (docs/api.md). The HTTP server, key checks and limits live in the io and
 * app layers; this is what they call, on a worker thread.
 *
 *   POST /anomalydetector/{v1.0,v1.1}/timeseries/entire/detect
 *   POST /anomalydetector/{v1.0,v1.1}/timeseries/last/detect
 *   POST /anomalydetector/v1.1/timeseries/changepoint/detect
 *
 * Ownership, for the whole family: arguments are borrowed for the call; the
 * response is appended to the caller's struct ad_buf (whose max bounds it);
 * a parsed request owns its arrays until ad_uv_parsed_free(). Reentrant. */
#ifndef AD_UVAD_API_H
#define AD_UVAD_API_H

#include <stdbool.h>
#include <stddef.h>

#include "ad_buf.h"
#include "ad_uvad.h"

#define AD_UV_API_MAX_BODY (8 * 1024 * 1024) /* request bytes the parser accepts */

enum ad_uv_endpoint { AD_UV_EP_ENTIRE = 0, AD_UV_EP_LAST, AD_UV_EP_CHANGEPOINT };

/* Maps a request path (query string ignored) to an API version (0 = v1.0,
 * 1 = v1.1) and an endpoint. Returns 0 or AD_ENOENT. */
int ad_uv_api_route(const char *path, size_t len, int *version, enum ad_uv_endpoint *ep);

/* A parsed detect or change-point request. The request structs point into
 * the owned arrays. */
struct ad_uv_parsed {
    enum ad_uv_endpoint ep;
    int version;
    struct ad_uv_request req;   /* entire/last */
    struct ad_uv_cp_request cp; /* changepoint */
    double *values;
    int64_t *index;
};

/* Parses a request body with the service's field names, defaults and
 * validation order. Returns 0 and fills *out; AD_EINVAL with the service's
 * error code and message in *err (InvalidJsonFormat, RequiredSeries,
 * RequiredGranularity (v1.0), InvalidGranularity, InvalidCustomInterval,
 * InvalidPeriod, InvalidModelArgument, InvalidImputeMode,
 * InvalidImputeFixedValue, InvalidSeries, BadArgument); AD_ENOMEM. */
int ad_uv_parse_request(const char *body, size_t len, int version, enum ad_uv_endpoint ep,
                        struct ad_uv_parsed *out, struct ad_uv_error *err);
void ad_uv_parsed_free(struct ad_uv_parsed *p);
/* The same parse through jansson alone: the reference that
 * ad_uv_parse_request() (a fast scan of the usual body, jansson for any
 * other) must agree with on every input (the differential fuzz target and
 * tests). */
int ad_uv_parse_request_reference(const char *body, size_t len, int version, enum ad_uv_endpoint ep,
                                  struct ad_uv_parsed *out, struct ad_uv_error *err);

/* Appends the 200 body of entire/detect (last == false) or last/detect for
 * API version 0 or 1 (severity only in v1.1). Returns 0 or the buffer's
 * AD_ELIMIT/AD_ENOMEM. */
int ad_uv_write_result(const struct ad_uv_result *r, int version, bool last, struct ad_buf *out);
int ad_uv_write_cp(const struct ad_uv_cp_result *r, struct ad_buf *out);
/* {"code":"...","message":"..."} */
int ad_uv_write_error(const char *code, const char *message, struct ad_buf *out);

/* What to send back. error_code is set for the service's 400 errors and is
 * the value of the x-ms-error-code header in v1.1 ("" when none is due). */
struct ad_uv_response {
    int status; /* 200, 400, 404, 405, 413, 500 */
    char error_code[40];
};

/* One HTTP request as the server read it (all borrowed). */
struct ad_uv_http_request {
    const char *method; /* NUL-terminated, e.g. "POST" */
    const char *path;   /* path_len bytes, query string allowed */
    size_t path_len;
    const char *body; /* body_len bytes, no NUL needed */
    size_t body_len;
    size_t max_points; /* a server's own bound below the service's 8640 points
                           (InvalidSeries beyond it); 0 = the service's */
};

/* The whole API: method, path, body -> status, error header, body (appended
 * to out). Returns 0 when a response was produced (any status), or the
 * buffer's AD_ELIMIT/AD_ENOMEM when even an error body did not fit. */
int ad_uv_api_handle(const struct ad_uv_http_request *req, struct ad_buf *out,
                     struct ad_uv_response *res);

#endif
