/* ad_cmd_daemon.c - `anomalyd [-c FILE]`: the daemon (ad_daemon.c) with
 * signal handling, reloading from the file it was started with. */
#include <sys/stat.h>

#include "ad_cmd.h"
#include "ad_daemon.h"

int ad_cmd_daemon(const struct ad_config *cfg, const char *config_path, char **sets, size_t nsets)
{
    struct stat sb;
    struct ad_daemon_opts opts = {
        .handle_signals = true,
        .config_path = config_path
                           ? config_path
                           : (stat(AD_CMD_DEFAULT_CONFIG, &sb) == 0 ? AD_CMD_DEFAULT_CONFIG : NULL),
        .sets = sets,
        .nsets = nsets,
    };
    return ad_daemon_run(cfg, &opts);
}
