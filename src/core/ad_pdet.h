/* ad_pdet.h - the pipeline's side of the local detectors (ad_detect.h): the
 * per-series area a series carries (a small header, then the detector's own
 * state), stepping a point through the missing-data fill, the detector and
 * the rules, and the area's portable encoding for checkpoints, the state
 * topic and the evicted-series store. Internal to src/core (ad_pipeline.c).
 *
 * The area is owned by the caller (the window stage allocates it with each
 * series, zeroed); a zeroed area is a fresh series, initialised on its first
 * point. Pure: no clock, no I/O; allocation only in ad_pdet_new(). */
#ifndef AD_PDET_H
#define AD_PDET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"
#include "ad_detect.h"
#include "ad_detector.h"

struct ad_pdet;

/* Returns 0 and an owned object (ad_pdet_free()), AD_EINVAL with err for
 * parameters ad_detect_check() refuses, or AD_ENOMEM. dp and r are copied.
 * step_us is the tumbling size (the missing-data fill's slot; 0: no fill). */
int ad_pdet_new(const struct ad_detect_params *dp, const struct ad_detect_rules *r, int fill,
                int64_t step_us, struct ad_pdet **out, char *err, size_t errlen);
void ad_pdet_free(struct ad_pdet *d);

/* Bytes of a series' area (a multiple of 8). */
size_t ad_pdet_area_size(const struct ad_pdet *d);
/* The alert's detector. */
enum ad_detector_kind ad_pdet_kind(const struct ad_pdet *d);

/* Scores and learns the point (t_us, x) of the series whose area this is:
 * first the empty tumbling slots since its previous point (windows.tumbling.
 * missing), then the point, then the rules. Returns false (res unscored)
 * for a point not after the series' newest one (already stepped). */
bool ad_pdet_point(struct ad_pdet *d, void *area, int64_t t_us, double x,
                   struct ad_detect_result *res);
/* The time of the newest point the area has stepped, or INT64_MIN. */
int64_t ad_pdet_last_time(const void *area);

/* Bytes of an area's encoding: "PD", a version byte, a reserved byte, the
 * header's words (little-endian), then ad_detect_save()'s bytes. */
size_t ad_pdet_encoded_size(const struct ad_pdet *d);
/* Writes area's encoding into out (at most ad_pdet_encoded_size() bytes);
 * a fresh area encodes as 0 bytes. Returns 0 and *len, or AD_ELIMIT. */
int ad_pdet_encode(const struct ad_pdet *d, const void *area, uint8_t *out, size_t cap,
                   size_t *len);
/* Restores area from buf (borrowed). 0 bytes: a fresh area. AD_EPARSE when
 * the bytes are not an encoding of this detector and its parameters (then
 * the area is fresh, and counted: ad_pdet_fresh_restores()). */
int ad_pdet_decode(struct ad_pdet *d, void *area, const uint8_t *buf, size_t len);
uint64_t ad_pdet_fresh_restores(const struct ad_pdet *d);

#endif
