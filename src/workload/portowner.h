/* Who listens on a TCP port (private to src/workload; Linux /proc).
 *
 * The process supervisor counts an instance as ready when its port answers the probe. Another
 * program already listening on that port answers too, while our instance is still starting (or
 * about to fail to bind and exit). port_listened_by_group() tells the two apart: it looks up the
 * listening sockets of the port in /proc/net/tcp and /proc/net/tcp6 and looks for one of them
 * among the open files of the processes of a process group (an instance and whatever it
 * started: the supervisor gives each instance a group of its own). */
#ifndef AETHER_WORKLOAD_PORTOWNER_H
#define AETHER_WORKLOAD_PORTOWNER_H

#include <sys/types.h>

/* 1 when a process of group pgid holds a socket listening on TCP port `port` (any local
 * address), 0 when the listeners of that port belong to other processes, -1 when it cannot be
 * told: /proc/net is not readable, or no listener of the port is visible there (another network
 * namespace). Reads /proc only; allocates nothing. */
int port_listened_by_group(int port, pid_t pgid);

#endif
