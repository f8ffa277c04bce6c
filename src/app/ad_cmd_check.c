/* ad_cmd_check.c - `anomalyd --check-config [--probe]`: the effective config,
 * then every check the daemon runs at start (ad_config_preflight, the same
 * function the daemon calls) with the derived Kafka settings. */
#include <stdio.h>

#include "ad_cmd.h"
#include "ad_config_preflight.h"
#include "ad_err.h"

int ad_cmd_check_config(const struct ad_config *cfg, bool probe)
{
    char err[1024];
    struct ad_preflight_opts o = {.report = stdout, .probe = probe};
    if (ad_config_print(cfg, stdout) != 0)
        return AD_CMD_EXIT_FATAL;
    int rc = ad_config_preflight(cfg, &o, err, sizeof(err));
    fflush(stdout);
    if (rc == 0)
        return 0;
    fprintf(stderr, "anomalyd: %s\n", err);
    /* Whatever stops the daemon's start is the config's problem (78); a
     * broker or an endpoint that does not answer a probe may be down for
     * now (1). */
    return rc == AD_EAGAIN ? AD_CMD_EXIT_FATAL : AD_CONFIG_EXIT;
}
