/* ad_cmd_demo.c - `anomalyd demo`: the simulator feeding the main job on the
 * embedded scenario C config (ad_demo.c). */
#include <getopt.h>
#include <stdio.h>

#include "ad_cmd.h"
#include "ad_demo.h"
#include "ad_time.h"

int ad_cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rate", required_argument, NULL, 'r'}, {"devices", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'}, {"duration", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
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
        case 'h':
            fputs(ad_cmd_usage_demo, stdout);
            return 0;
        default:
            return AD_CONFIG_EXIT;
        }
    }
    return ad_demo_run(&o);
}
