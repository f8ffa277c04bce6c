/* ad_model.h - the reference scenario's M2 model files.
 *
 * Format (scenario C): one JSON object per line, or one JSON array of such
 * objects: {"id": "sim-614", "m2": {"n": 373, "mean": 22.34, "m2": 123.51}}.
 * An optional "metric" string names the metric the model belongs to; without
 * it the model belongs to the first configured metric. */
#ifndef AD_MODEL_H
#define AD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ad_buf.h"

/* Called once per model entry; id and metric (NULL when absent) are borrowed
 * for the call. Returning non-zero stops the import with that code. */
typedef int (*ad_model_entry_cb)(void *ud, const char *id, size_t id_len, const char *metric,
                                 uint64_t n, double mean, double m2);

/* Imports from a buffer. name is used in error messages ("name:line: reason").
 * An entry with n < 0, non-finite mean/m2, m2 < 0, or n == 0 with mean/m2 != 0
 * is an error. Returns 0, AD_EPARSE (with err) or the callback's code. */
int ad_model_import_buffer(const char *name, const char *buf, size_t len, ad_model_entry_cb cb,
                           void *ud, char *err, size_t errlen);

/* Imports from a file; when path is a directory, the file whose name is
 * "<prefix>-<epoch ms>.json" with the greatest epoch (the reference "loads
 * the most recent file") is used, and its path is written to chosen (may be
 * NULL). Files are capped at 1 GiB. Returns as above, or AD_EIO/AD_ENOENT. */
int ad_model_import_file(const char *path, ad_model_entry_cb cb, void *ud, char *chosen,
                         size_t chosenlen, char *err, size_t errlen);

/* Appends one line {"id":...,"metric":...,"m2":{"n":..,"mean":..,"m2":..}}\n. */
int ad_model_format_line(struct ad_buf *out, const char *id, size_t id_len, const char *metric,
                         uint64_t n, double mean, double m2);

#endif
