/* ad_cmd_demo.c - `anomalyd demo`: the simulator feeding the main job on the
 * embedded scenario C config (ad_demo.c); with --scenarios, scenarios A and
 * B offline with their recall and precision (ad_demo_scen.c). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ad_cmd.h"
#include "ad_demo.h"
#include "ad_time.h"

int ad_cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rate", required_argument, NULL, 'r'}, {"devices", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'}, {"duration", required_argument, NULL, 't'},
        {"scenarios", no_argument, NULL, 'S'},  {"remote", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    bool scenarios = false;
    const char *remote = NULL;
    struct ad_demo_opts o = {.rate = 1000, .devices = 100, .seed = 1};
    uint64_t u;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (ad_cmd_parse_double(optarg, &o.rate) || !(o.rate > 0) || o.rate > 1e6)
                return ad_cmd_usage_error("demo: bad --rate '%s'", optarg);
            break;
        case 'd':
            if (ad_cmd_parse_u64(optarg, &u) || u == 0 || u > 1000000)
                return ad_cmd_usage_error("demo: bad --devices '%s'", optarg);
            o.devices = (uint32_t)u;
            break;
        case 's':
            if (ad_cmd_parse_u64(optarg, &o.seed))
                return ad_cmd_usage_error("demo: bad --seed '%s'", optarg);
            break;
        case 't':
            if (ad_duration_parse(optarg, &o.duration_us))
                return ad_cmd_usage_error("demo: bad --duration '%s'", optarg);
            break;
        case 'S':
            scenarios = true;
            break;
        case 'R':
            if (strcmp(optarg, "confirm") != 0 && strcmp(optarg, "always") != 0)
                return ad_cmd_usage_error("demo: bad --remote '%s' (confirm|always)", optarg);
            remote = optarg;
            break;
        case 'h':
            fputs(ad_cmd_usage_demo, stdout);
            return 0;
        default:
            return AD_CONFIG_EXIT;
        }
    }
    if (remote && !scenarios)
        return ad_cmd_usage_error("demo: --remote goes with --scenarios");
    return scenarios ? ad_demo_scenarios(remote) : ad_demo_run(&o);
}
