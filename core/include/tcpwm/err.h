/* SPDX-License-Identifier: MIT */
/* Error codes of the tcpwm core: 0 is success, failures are negative.
 * The core never prints, exits or aborts; front ends turn these into words. */
#ifndef TCPWM_ERR_H
#define TCPWM_ERR_H

#define TCPWM_ERRNO_MAP(XX)                                   \
    XX(EINVAL, -1, "invalid argument")                        \
    XX(ENOMEM, -2, "out of memory")                           \
    XX(ELIMIT, -3, "size limit reached")

enum {
    TCPWM_OK = 0,
#define TCPWM__ERR_ENUM(name, val, msg) TCPWM_##name = (val),
    TCPWM_ERRNO_MAP(TCPWM__ERR_ENUM)
#undef TCPWM__ERR_ENUM
};

/* A static description of an error code; never NULL. */
const char *tcpwm_strerror(int err);

#endif
