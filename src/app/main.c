/* main.c - the command line of interface.md: parses the global options,
 * loads the config and dispatches to a command (include/ad_cmd.h); each
 * command lives in its own src/app/ad_cmd_*.c. */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ad_alloc.h"
#include "ad_cmd.h"
#include "ad_config.h"
#include "ad_err.h"
#include "ad_log.h"
#include "ad_report.h"
#include "ad_scores.h"

enum command { CMD_DAEMON, CMD_CHECK, CMD_REPLAY, CMD_EXPORT, CMD_IMPORT };

struct args {
    enum command cmd;
    const char *config_path, *input, *export_path, *output, *model_path, *scores, *report;
    bool kcat;
    bool probe; /* --check-config --probe */
    int scores_format;
    uint64_t report_series; /* --report-series; 0: the default */
    double max_rejected;    /* --max-rejected; negative: no limit */
    char **sets;            /* the --set values (borrowed from argv) */
    size_t nsets;
};

/* Parses the options; 0, or the exit status to return now (-1: 0 after
 * --help/--version). */
static int parse_opts(int argc, char **argv, struct args *a)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"probe", no_argument, NULL, 'P'},
        {"input", required_argument, NULL, 'i'},
        {"set", required_argument, NULL, 's'},
        {"export-model", required_argument, NULL, 'e'},
        {"input-format", required_argument, NULL, 'F'},
        {"output", required_argument, NULL, 'o'},
        {"scores", required_argument, NULL, 'S'},
        {"scores-format", required_argument, NULL, 'G'},
        {"max-rejected", required_argument, NULL, 'R'},
        {"report", required_argument, NULL, 'H'},
        {"report-series", required_argument, NULL, 'N'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool check = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config_path = optarg;
            break;
        case 'C':
            check = true;
            break;
        case 'P':
            a->probe = true;
            break;
        case 'i':
            a->input = optarg;
            break;
        case 's':
            a->sets[a->nsets++] = optarg;
            break;
        case 'e':
            a->export_path = optarg;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'S':
            a->scores = optarg;
            break;
        case 'H':
            a->report = optarg;
            break;
        case 'N':
            if (ad_cmd_parse_u64(optarg, &a->report_series) || a->report_series < 1 ||
                a->report_series > AD_REPORT_MAX_SERIES)
                return ad_cmd_usage_error("bad --report-series '%s' (1..%d)", optarg,
                                          AD_REPORT_MAX_SERIES);
            break;
        case 'R':
            if (ad_cmd_parse_double(optarg, &a->max_rejected) || a->max_rejected < 0 ||
                a->max_rejected > 1)
                return ad_cmd_usage_error("bad --max-rejected '%s' (a fraction, 0..1)", optarg);
            break;
        case 'G':
            if ((a->scores_format = ad_scores_format_parse(optarg)) < 0)
                return ad_cmd_usage_error("unknown --scores-format '%s' (jsonl|csv)", optarg);
            break;
        case 'F':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "kcat") != 0)
                return ad_cmd_usage_error("unknown --input-format '%s' (json|kcat)", optarg);
            a->kcat = strcmp(optarg, "kcat") == 0;
            break;
        case 'V':
            printf("anomalyd %s\n", AD_VERSION);
            return -1;
        case 'h':
            fputs(a->cmd == CMD_EXPORT || a->cmd == CMD_IMPORT ? ad_cmd_usage_model : ad_cmd_usage,
                  stdout);
            return -1;
        default:
            return AD_CONFIG_EXIT;
        }
    }
    if (a->cmd == CMD_IMPORT && optind < argc)
        a->model_path = argv[optind++];
    if (a->cmd == CMD_IMPORT && !a->model_path)
        return ad_cmd_usage_error("%s", "model import: the model file to import is missing");
    if (optind < argc)
        return ad_cmd_usage_error("unexpected argument '%s'", argv[optind]);
    if (a->cmd == CMD_DAEMON)
        a->cmd = check ? CMD_CHECK : a->input ? CMD_REPLAY : CMD_DAEMON;
    if (a->probe && a->cmd != CMD_CHECK)
        return ad_cmd_usage_error("%s", "--probe needs --check-config");
    if (a->scores && a->cmd != CMD_REPLAY)
        return ad_cmd_usage_error("%s", "--scores needs --input (replay)");
    if ((a->report || a->report_series) && a->cmd != CMD_REPLAY)
        return ad_cmd_usage_error("%s", "--report needs --input (replay)");
    if (a->report_series && !a->report)
        return ad_cmd_usage_error("%s", "--report-series needs --report FILE.html");
    return 0;
}

/* The defaults, the file (-c, else the default path when it exists), the
 * --set overrides, validated. 0, or AD_CONFIG_EXIT (reported). */
static int load_config(const struct args *a, struct ad_config *cfg)
{
    char err[1024];
    struct stat sb;
    int rc = ad_config_init(cfg);
    if (rc == 0) {
        if (a->config_path)
            rc = ad_config_load_file(cfg, a->config_path, err, sizeof(err));
        else if (stat(AD_CMD_DEFAULT_CONFIG, &sb) == 0)
            rc = ad_config_load_file(cfg, AD_CMD_DEFAULT_CONFIG, err, sizeof(err));
    } else {
        snprintf(err, sizeof(err), "%s", ad_strerror(rc));
    }
    for (size_t i = 0; rc == 0 && i < a->nsets; i++)
        rc = ad_config_set(cfg, a->sets[i], err, sizeof(err));
    if (rc == 0)
        rc = ad_config_validate(cfg, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "anomalyd: %s\n", err);
        ad_config_free(cfg);
        return AD_CONFIG_EXIT;
    }
    ad_log_set_level(cfg->log_level);
    ad_log_set_format(cfg->log_format);
    return 0;
}

static int dispatch(const struct args *a, const struct ad_config *cfg)
{
    switch (a->cmd) {
    case CMD_EXPORT:
        return ad_cmd_model_export(cfg, a->output);
    case CMD_IMPORT:
        return ad_cmd_model_import(cfg, a->model_path);
    case CMD_CHECK:
        return ad_cmd_check_config(cfg, a->probe);
    case CMD_REPLAY: {
        struct ad_cmd_replay_opts o = {.input = a->input,
                                       .kcat = a->kcat,
                                       .export_path = a->export_path,
                                       .scores_path = a->scores,
                                       .scores_format = a->scores_format,
                                       .report_path = a->report,
                                       .report_series = (size_t)a->report_series,
                                       .config_path = a->config_path,
                                       .max_rejected = a->max_rejected};
        return ad_cmd_replay(cfg, &o);
    }
    case CMD_DAEMON:
        break;
    }
    return ad_cmd_daemon(cfg, a->config_path, a->sets, a->nsets);
}

/* The commands with a config: the daemon, --check-config, --input, model. */
static int run_with_config(int argc, char **argv, enum command cmd)
{
    struct args a = {.cmd = cmd, .sets = calloc((size_t)argc, sizeof(char *)), .max_rejected = -1};
    struct ad_config cfg;
    int status;

    if (!a.sets)
        return AD_CMD_EXIT_FATAL;
    status = parse_opts(argc, argv, &a);
    if (status == 0) {
        status = load_config(&a, &cfg);
        if (status == 0) {
            status = dispatch(&a, &cfg);
            ad_config_free(&cfg);
        }
    }
    free(a.sets);
    return status < 0 ? 0 : status;
}

int main(int argc, char **argv)
{
    ad_log_init();
    signal(SIGPIPE, SIG_IGN);
    /* jansson allocates through the core's wrapper, so the decoder can tell
     * its out-of-memory from malformed input (ad_alloc_failures()). */
    json_set_alloc_funcs(ad_malloc, ad_free);
    if (argc >= 2 && strcmp(argv[1], "simulate") == 0)
        return ad_cmd_simulate(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "demo") == 0)
        return ad_cmd_demo(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return ad_cmd_serve(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "model") == 0) {
        if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            fputs(ad_cmd_usage_model, stdout);
            return 0;
        }
        if (argc < 3 || (strcmp(argv[2], "export") != 0 && strcmp(argv[2], "import") != 0))
            return ad_cmd_usage_error("%s", "model: export or import expected");
        enum command cmd = strcmp(argv[2], "export") == 0 ? CMD_EXPORT : CMD_IMPORT;
        argv[2] = argv[0]; /* "anomalyd model export ARGS" parses as "anomalyd ARGS" */
        return run_with_config(argc - 2, argv + 2, cmd);
    }
    return run_with_config(argc, argv, CMD_DAEMON);
}
