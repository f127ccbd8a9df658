/* SPDX-License-Identifier: MIT */
/* Words for the core's error codes, generated from the table in err.h. */
#include "tcpwm/err.h"

const char *tcpwm_strerror(int err)
{
    switch (err) {
    case TCPWM_OK:
        return "success";
#define TCPWM__ERR_CASE(name, val, msg)                                                            \
    case TCPWM_##name:                                                                             \
        return msg;
        TCPWM_ERRNO_MAP(TCPWM__ERR_CASE)
#undef TCPWM__ERR_CASE
    default:
        return "unknown error";
    }
}
