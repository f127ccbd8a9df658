/* SPDX-License-Identifier: MIT */
/* A flow's ACK RTT figures in 2 bytes each: a 16-bit code for a duration,
 * and a running estimate of the median over those codes. The flow record
 * has 4 bytes for both (flow.h, budget of 256 bytes a flow), so neither a
 * list of samples nor a histogram fits.
 *
 * The code is a floating-point number with a 10-bit mantissa: durations
 * below 2048 ns exactly, longer ones rounded down to 1/1024 of their value
 * (0.1%), monotonic, so comparing codes compares durations. Code 0 means
 * "no sample".
 *
 * The median estimate is stochastic approximation (Robbins and Monro,
 * 1951, for a quantile): the first sample sets it, each later sample
 * moves it towards itself by 1/(n+1) octave (n: the samples before it;
 * 1/32 octave from the 32nd on, so that it follows a flow whose RTT
 * changes), never past the sample. It converges on the median of a steady flow; it
 * always lies between the flow's smallest and largest sample. Wireshark's
 * dialog (the plugin) computes exact medians from every sample it keeps. */
#ifndef TCPWM_RTTCODE_H
#define TCPWM_RTTCODE_H

#include <stdint.h>

#define TCPWM__RTT_CODE_MANT 1024u /* codes per octave above 2048 ns */
#define TCPWM__RTT_N_MAX 31u       /* the sample count saturates here */

/* The code of a duration >= 0 (negative ones count as 0). */
static inline uint16_t tcpwm__rtt_encode(int64_t ns)
{
    uint64_t v = ns > 0 ? (uint64_t)ns : 0;
    if (v < 2 * TCPWM__RTT_CODE_MANT)
        return (uint16_t)(v + 1);
    /* e: v >> e in [1024, 2047] */
#if defined(__GNUC__)
    unsigned e = 63u - (unsigned)__builtin_clzll(v) - 10u;
#else
    unsigned e = 0;
    while ((v >> e) >= 2 * TCPWM__RTT_CODE_MANT)
        e++;
#endif
    /* e <= 53 for v < 2^63: at most 55296, within 16 bits. */
    return (uint16_t)((e + 1) * TCPWM__RTT_CODE_MANT + ((v >> e) - TCPWM__RTT_CODE_MANT) + 1);
}

/* The shortest duration with this code (code >= 1). */
static inline int64_t tcpwm__rtt_decode(uint16_t code)
{
    uint32_t c = (uint32_t)code - 1;
    if (c < 2 * TCPWM__RTT_CODE_MANT)
        return (int64_t)c;
    unsigned e = c / TCPWM__RTT_CODE_MANT - 1;
    return (int64_t)((uint64_t)(c % TCPWM__RTT_CODE_MANT + TCPWM__RTT_CODE_MANT) << e);
}

/* The median estimate after sample x, given the estimate `med` over n >= 1
 * earlier samples (n saturated at TCPWM__RTT_N_MAX). */
static inline uint16_t tcpwm__rtt_median_step(uint16_t med, unsigned n, uint16_t x)
{
    /* 1024 / (n + 1): a division's latency on every sample is worth a
     * table of 32 steps. */
    static const uint16_t steps[TCPWM__RTT_N_MAX + 1] = {
        1024, 512, 341, 256, 204, 170, 146, 128, 113, 102, 93, 85, 78, 73, 68, 64,
        60,   56,  53,  51,  48,  46,  44,  42,  40,  39,  37, 36, 35, 34, 33, 32};
    uint32_t step = steps[n < TCPWM__RTT_N_MAX ? n : TCPWM__RTT_N_MAX];
    uint32_t m = med, v = x;
    if (v > m)
        return (uint16_t)(v - m < step ? v : m + step);
    if (v < m)
        return (uint16_t)(m - v < step ? v : m - step);
    return med;
}

#endif
