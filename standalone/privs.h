/* SPDX-License-Identifier: MIT */
/* Dropping privileges once the capture handle and the listening socket are
 * open: nothing after that needs them.
 *
 * Started as root: switch to -Z USER (default nobody): supplementary
 * groups cleared, then the group, then the user. Without PR_SET_KEEPCAPS
 * the kernel clears every capability when the last root uid goes.
 * Started as another user with file or ambient capabilities (setcap,
 * systemd's AmbientCapabilities): -Z may only name that same user, and the
 * capabilities are cleared. Either way no_new_privs is set, and the result
 * is checked: no capability left (the CapEff and CapPrm lines of
 * /proc/self/status, read through capget) and no way back to root. */
#ifndef TCPWM_CLI_PRIVS_H
#define TCPWM_CLI_PRIVS_H

#include <stddef.h>

#define PRIVS_DEFAULT_USER "nobody"

/* user: -Z, or NULL. 0 with "user NAME (uid N, gid N), no capabilities"
 * in done; -1 with the reason in err. */
int privs_drop(const char *user, char *done, size_t donelen, char *err, size_t errlen);

#endif
