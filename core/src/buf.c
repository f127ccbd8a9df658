/* SPDX-License-Identifier: MIT */
/* tcpwm_buf: a growable byte buffer with a hard cap, after curl's dynbuf.
 *
 * The cap is what keeps a scrape of a huge table from eating the process:
 * every append either fits entirely under `limit` or fails with
 * TCPWM_ELIMIT and leaves the buffer exactly as it was, so a caller can
 * stop, roll back or report without cleaning up half a line. */
#include "tcpwm/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwm/err.h"

/* First allocation. Small expositions fit at once; large ones double from
 * here, so the number of reallocs stays logarithmic in the output size. */
#define TCPWM__BUF_MIN_ALLOC 256u

void tcpwm_buf_init(tcpwm_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void tcpwm_buf_free(tcpwm_buf *b)
{
    free(b->data);
    /* Back to the initial state, limit kept, so the buffer can be reused. */
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void tcpwm_buf_reset(tcpwm_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Make room for `n` more bytes plus the terminating NUL. Checks the cap
 * first, so nothing is allocated for an append that cannot succeed. */
static int buf_reserve(tcpwm_buf *b, size_t n)
{
    /* Written as a subtraction so that a huge n cannot wrap around. */
    if (b->len > b->limit || n > b->limit - b->len)
        return TCPWM_ELIMIT;
    size_t need = b->len + n + 1; /* cannot overflow: len + n <= limit < SIZE_MAX */
    if (need <= b->cap)
        return 0;

    size_t ncap = b->cap ? b->cap : TCPWM__BUF_MIN_ALLOC;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
    /* Never allocate more than the cap can use. */
    if (b->limit < SIZE_MAX && ncap > b->limit + 1)
        ncap = b->limit + 1;

    char *p = realloc(b->data, ncap);
    if (!p)
        return TCPWM_ENOMEM; /* realloc left the old block untouched */
    b->data = p;
    b->cap = ncap;
    return 0;
}

int tcpwm_buf_add(tcpwm_buf *b, const void *p, size_t n)
{
    if (!b || (!p && n))
        return TCPWM_EINVAL;
    if (n == 0)
        return 0;
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int tcpwm_buf_adds(tcpwm_buf *b, const char *s)
{
    if (!s)
        return TCPWM_EINVAL;
    return tcpwm_buf_add(b, s, strlen(s));
}

int tcpwm_buf_printf(tcpwm_buf *b, const char *fmt, ...)
{
    if (!b || !fmt)
        return TCPWM_EINVAL;

    /* Measure first, then format in place: no temporary buffer, and a
     * line that would cross the cap is refused before anything is written. */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TCPWM_EINVAL; /* an encoding error in the format */
    if (n == 0)
        return 0;

    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    int m = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (m != n) {
        /* Cannot happen with the same arguments; keep the buffer as it was. */
        b->data[b->len] = '\0';
        return TCPWM_EINVAL;
    }
    b->len += (size_t)n;
    return 0;
}
