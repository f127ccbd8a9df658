/* SPDX-License-Identifier: MIT */
/* Sequence-number comparison in 32-bit serial arithmetic (RFC 1982; RFC
 * 9293 section 3.4), as Linux's before()/after(): correct across
 * wraparound as long as the two numbers are within 2^31 of each other. */
#ifndef TCPWM_SEQ_H
#define TCPWM_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline int32_t tcpwm__seq_diff(uint32_t a, uint32_t b)
{
    /* Two's-complement reinterpretation; every supported compiler does
     * this without UB for the conversion from uint32_t. */
    return (int32_t)(a - b);
}

static inline bool tcpwm__before(uint32_t a, uint32_t b) { return tcpwm__seq_diff(a, b) < 0; }
static inline bool tcpwm__after(uint32_t a, uint32_t b) { return tcpwm__seq_diff(a, b) > 0; }

#endif
