/* Who may steer the node, and what it trusts on disk.
 *
 * The API token: the configured one, or (api.token not written) one generated at first start
 * into <data_dir>/api-token with mode 0600 and read back on later starts, or none when
 * api.token = "" is written (logged as a warning). A node without a token refuses an address
 * other than loopback unless api.allow_remote_without_token is set.
 *
 * Files the node runs or loads (the config, whose exec commands run as the node's user; the
 * model; the engine module): a warning when anyone may write them, and the engine module is
 * only loaded from a directory, and a file, owned by the node's user or root. */
#ifndef AETHER_NODE_ACCESS_H
#define AETHER_NODE_ACCESS_H

#include <stddef.h>

#include "aether/config.h"

/* Settles api->token as described above (data_dir must exist). 0, or a negative AE_E* code with
 * a message naming the file or the key. */
int access_resolve_token(struct cfg_api *api, const char *data_dir, char *err, size_t errlen);

/* Logs a warning when path (what: "config", "model", ...) is writable by every user, or sits in
 * a directory every user may write without the sticky bit. Missing files are not reported. */
void access_warn_writable(const char *what, const char *path);

/* 0 when path (a directory or a file) is owned by this process's user or root; else AE_EPERM
 * with a message naming the path and its owner. */
int access_check_owner(const char *path, char *err, size_t errlen);

#endif
