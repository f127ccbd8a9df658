/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a hard size cap set at creation (after
 * curl's dynbuf). Used for every exposition the core renders. */
#ifndef TCPWM_BUF_H
#define TCPWM_BUF_H

#include <stddef.h>

#if defined(__GNUC__)
#define TCPWM_WUR __attribute__((warn_unused_result))
#else
#define TCPWM_WUR
#endif

typedef struct tcpwm_buf {
    char *data;   /* NUL-terminated while len > 0; NULL before first append */
    size_t len;
    size_t cap;   /* bytes allocated */
    size_t limit; /* the most len may ever be */
} tcpwm_buf;

void tcpwm_buf_init(tcpwm_buf *b, size_t limit);
void tcpwm_buf_free(tcpwm_buf *b);
void tcpwm_buf_reset(tcpwm_buf *b); /* len = 0, memory kept */
/* 0, TCPWM_ENOMEM, or TCPWM_ELIMIT (nothing appended then). */
TCPWM_WUR int tcpwm_buf_add(tcpwm_buf *b, const void *p, size_t n);
TCPWM_WUR int tcpwm_buf_adds(tcpwm_buf *b, const char *s);
TCPWM_WUR int tcpwm_buf_printf(tcpwm_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
