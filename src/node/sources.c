/* What collectors and actuators this build attaches to the node (see sources.h).
 *
 * None yet: every blueprint's actuator is reported unavailable and only pushed metrics (and the
 * node's own control-loop lag) reach the snapshots. The workload module plugs its host/process
 * collectors, Prometheus scraping and the process/exec actuators in here. */
#include "sources.h"

#include "log.h"

int node_attach_sources(struct node *n, const struct ae_config *cfg, char *err, size_t errlen)
{
    (void)n;
    (void)err;
    (void)errlen;
    for (int i = 0; i < cfg->blueprint_count; i++)
        nlog(NLOG_WARN, "node",
             "blueprint %s: actuator \"%s\" is not available in this build; instances are not "
             "started (requested counts are computed and reported only)",
             cfg->blueprints[i].name, cfg_actuator_names[cfg->blueprints[i].actuator]);
    return 0;
}
