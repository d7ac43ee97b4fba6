/* A cgroup v2 per blueprint for the process actuator (private to src/workload; the node's side
 * is actuator_cgroup_start/stop in include/aether/actuator.h).
 *
 * Every instance joins its blueprint's cgroup before exec, so whatever it starts (setsid()
 * grandchildren, daemons that double-fork) stays countable and killable: when the blueprint's
 * actuator closes, what is left in the cgroup is killed and the cgroup removed. The node's
 * cgroup is named after its data_dir, so a node restarted after a SIGKILL finds the previous
 * one and kills what survived. Without a writable cgroup v2 every call here does nothing and
 * the /proc walk (kin.h) is all there is. */
#ifndef AETHER_WORKLOAD_CGROUP_H
#define AETHER_WORKLOAD_CGROUP_H

/* The blueprint's cgroup, created if needed: an open write descriptor (close-on-exec) of its
 * cgroup.procs for spawn_process_in, owned by the caller (give it back to cg_bp_close). -1 when
 * the node uses no cgroup or the cgroup cannot be made (the /proc walk still works). */
int cg_bp_open(const char *blueprint);

/* Kills everything left in the blueprint's cgroup (reaping those that are this process's
 * children), removes the cgroup and closes fd (when >= 0). */
void cg_bp_close(const char *blueprint, int fd);

#endif
