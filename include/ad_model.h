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

/* Files (and buffers) larger than this are refused with AD_ELIMIT. */
#define AD_MODEL_MAX_BYTES ((size_t)1 << 30)

/* Called once per model entry, in file order (duplicate ids are passed on as
 * they come: the callback decides, e.g. the last one wins); id (id_len bytes,
 * also NUL-terminated; an integer id arrives as its decimal string) and
 * metric (NULL when absent or null) are borrowed for the call. Returning
 * non-zero stops the import with that code ("name:line: entry ... refused"
 * in err). */
typedef int (*ad_model_entry_cb)(void *ud, const char *id, size_t id_len, const char *metric,
                                 uint64_t n, double mean, double m2);

/* Where an import delivers: cb(ud, ...) per entry; chosen (chosenlen bytes,
 * may be NULL) receives the name of the file ad_model_import_file() read. */
struct ad_model_import {
    ad_model_entry_cb cb;
    void *ud;
    char *chosen;
    size_t chosenlen;
};

/* Imports from a buffer (borrowed; len bytes, no NUL needed). The layout is
 * JSON lines (blank lines skipped) unless the first non-blank character is
 * '[' (one array of objects); a UTF-8 BOM is skipped. name is used in error
 * messages ("name:line: reason", the line where the object starts). Unknown
 * members are ignored; duplicate members, a missing or mistyped id/m2/n/mean/
 * m2, an empty id or metric, n < 0, non-finite or out-of-range numbers,
 * m2 < 0, n == 0 with mean/m2 != 0 and n == 1 with m2 != 0 are errors.
 * Returns 0, AD_EPARSE (with err), AD_ELIMIT (len > AD_MODEL_MAX_BYTES) or the
 * callback's code. Entries before an error have already been delivered. */
int ad_model_import_buffer(const char *name, const char *buf, size_t len,
                           const struct ad_model_import *im, char *err, size_t errlen);

/* Imports from a file; when path is a directory, the regular file whose name
 * is "<prefix>-<epoch ms>.json" with the greatest epoch (the reference "loads
 * the most recent file"; ties go to the greater name; names starting with '.'
 * are skipped) is used. The file read is written to im->chosen (may be NULL).
 * Files are capped at AD_MODEL_MAX_BYTES (1 GiB). Returns as above, or
 * AD_ENOENT (no such path / no matching file), AD_EIO, AD_ELIMIT, AD_ENOMEM,
 * always with "path: reason" in err. */
int ad_model_import_file(const char *path, const struct ad_model_import *im, char *err,
                         size_t errlen);

/* One model entry as ad_model_format_line() writes it: id is id_len bytes,
 * metric NULL or NUL-terminated (both borrowed); n, mean, m2 the M2 state. */
struct ad_model_entry {
    const char *id;
    size_t id_len;
    const char *metric;
    uint64_t n;
    double mean;
    double m2;
};

/* Appends one line {"id":...,"metric":...,"m2":{"n":..,"mean":..,"m2":..}}\n
 * for e ("metric" omitted when NULL; numbers in shortest round-trip form). Returns
 * 0, AD_EINVAL for anything the import would refuse (empty id or one with a
 * NUL byte, empty metric, invalid n/mean/m2), or AD_ELIMIT/AD_ENOMEM from the
 * buffer; on error the buffer is unchanged. */
int ad_model_format_line(struct ad_buf *out, const struct ad_model_entry *e);

#endif
