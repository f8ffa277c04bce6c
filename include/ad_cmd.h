/* ad_cmd.h - the commands of the command line (interface.md), one file each
 * under src/app/: main.c parses the global options, loads the config and
 * dispatches here. Every command returns the process exit status: 0, 1
 * (AD_CMD_EXIT_FATAL: a runtime error) or 78 (AD_CONFIG_EXIT: bad config or
 * usage). The config is borrowed. */
#ifndef AD_CMD_H
#define AD_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ad_config.h"

#define AD_CMD_DEFAULT_CONFIG "/etc/anomalyd/anomalyd.yaml"
#define AD_CMD_EXIT_FATAL     1

/* The --help text, and each command's own (`anomalyd CMD --help`). */
extern const char ad_cmd_usage[];
extern const char ad_cmd_usage_simulate[];
extern const char ad_cmd_usage_demo[];
extern const char ad_cmd_usage_serve[];
extern const char ad_cmd_usage_model[];

/* Prints "anomalyd: <message>" and a pointer to --help to stderr; returns
 * AD_CONFIG_EXIT. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int ad_cmd_usage_error(const char *fmt, ...);

/* Command-line numbers: 0 or AD_EINVAL (no sign for u64; NaN refused). */
int ad_cmd_parse_u64(const char *s, uint64_t *out);
int ad_cmd_parse_double(const char *s, double *out);

/* --input's options. Strings are borrowed. */
struct ad_cmd_replay_opts {
    const char *input;       /* a path, or "-" for stdin */
    bool kcat;               /* the lines are kcat -J envelopes */
    const char *export_path; /* NULL: none; else the models at the end */
    const char *scores_path; /* NULL: none; else every scored point ("-": stdout,
                                and then alerts go only to the configured sinks) */
    int scores_format;       /* enum ad_scores_format (ad_scores.h) */
    const char *report_path; /* NULL: none; else the HTML report (ad_report_file.h) */
    size_t report_series;    /* charts in the report; 0: the default */
    const char *config_path; /* the config file, named in the report; NULL: none */
    double max_rejected;     /* the largest fraction (0..1) of records that may be
                                rejected before the replay fails (exit 1);
                                negative: no limit (0 is a limit: none) */
};

/* --input: replays o->input through the engine. */
int ad_cmd_replay(const struct ad_config *cfg, const struct ad_cmd_replay_opts *o);

/* model export [--output PATH] / model import PATH. */
int ad_cmd_model_export(const struct ad_config *cfg, const char *out_path);
int ad_cmd_model_import(const struct ad_config *cfg, const char *path);

/* --check-config [--probe]: the effective config and the start checks
 * (ad_config_preflight.h); 0, 78 for a config the daemon would refuse, 1
 * for a broker or endpoint that does not answer the probe. */
int ad_cmd_check_config(const struct ad_config *cfg, bool probe);

/* simulate / demo: argv[0] is the command's name; they parse their options. */
int ad_cmd_simulate(int argc, char **argv);
int ad_cmd_demo(int argc, char **argv);
/* serve --listen HOST:PORT [-c FILE]: the REST API alone (ad_cmd_serve.c). */
int ad_cmd_serve(int argc, char **argv);

/* The daemon: config_path (NULL: none) and the --set overrides (borrowed) for
 * reloads. */
int ad_cmd_daemon(const struct ad_config *cfg, const char *config_path, char **sets, size_t nsets);

#endif
