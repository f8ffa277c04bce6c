/* ad_types.h - the enums and hard limits that several layers share. Small on
 * purpose: a module includes this rather than the whole configuration. */
#ifndef AD_TYPES_H
#define AD_TYPES_H

#define AD_MAX_METRICS 16   /* metrics per record (input.metrics) */
#define AD_KEY_MAX     1024 /* bytes of a series key; limits.max_key_bytes may be lower */

enum ad_time_format {
    AD_TIME_AUTO = 0,
    AD_TIME_EPOCH_S,
    AD_TIME_EPOCH_MS,
    AD_TIME_EPOCH_US,
    AD_TIME_RFC3339
};
enum ad_agg { AD_AGG_MEAN = 0, AD_AGG_MIN, AD_AGG_MAX, AD_AGG_SUM, AD_AGG_COUNT, AD_AGG_LAST };
enum ad_scope { AD_SCOPE_LIFETIME = 0, AD_SCOPE_WINDOW };
enum ad_direction { AD_DIR_BOTH = 0, AD_DIR_POSITIVE, AD_DIR_NEGATIVE };
enum ad_remote_mode { AD_REMOTE_OFF = 0, AD_REMOTE_CONFIRM, AD_REMOTE_ALWAYS };
enum ad_start { AD_START_EARLIEST = 0, AD_START_LATEST };

#endif
