/* ad_report_file.h - replay's --report FILE.html on disk: the scored points
 * spooled to an unlinked temporary file beside FILE during the run, the
 * alerts taken as an engine sink, and at the end the second pass over the
 * spool and the page (ad_report.h) written atomically as FILE. */
#ifndef AD_REPORT_FILE_H
#define AD_REPORT_FILE_H

#include <stddef.h>

#include "ad_engine.h"
#include "ad_report.h"

struct ad_report_file;

/* Opens the spool in the directory of path (created and unlinked at once, so
 * nothing is left behind however the process ends). Returns 0 and an owned
 * handle (free with ad_report_file_free()), or AD_EINVAL (bad options),
 * AD_EIO (the spool could not be made) or AD_ENOMEM, with a message in err.
 * path is copied. */
int ad_report_file_open(const char *path, const struct ad_report_opts *o,
                        struct ad_report_file **out, char *err, size_t errlen);

/* The pipeline's score callback (ad_pipeline_on_score): spools the row. A
 * row that cannot be written fails ad_report_file_finish(). */
void ad_report_file_score(void *ud, const struct ad_score_row *row);

/* Adds the report as a synchronous sink of e: every alert written goes to
 * the alerts table. 0 or the engine's error. */
int ad_report_file_attach(struct ad_report_file *f, struct ad_engine *e);

/* The second pass and the page: pg's inlined texts are filled here from the
 * embedded assets (ad_assets.h). Returns 0, or AD_EIO / AD_ENOMEM / AD_ELIMIT
 * / AD_EINVAL with a message in err. Once. */
int ad_report_file_finish(struct ad_report_file *f, struct ad_report_page *pg, char *err,
                          size_t errlen);

/* The report's totals (valid after finish). */
void ad_report_file_counts(const struct ad_report_file *f, struct ad_report_counts *out);

void ad_report_file_free(struct ad_report_file *f);

#endif
