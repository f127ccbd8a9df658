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
 * 1951, for a quantile), in octaves: the first sample sets it; each later
 * one moves it towards itself, never past it, by the larger of 3/(n+1)
 * octave and 1/(n+1) of the distance (n: the samples before it, counted
 * up to 31). The fixed part makes it settle where as many samples fall
 * above as below; the proportional part leaves a first sample far from
 * the rest in a few steps. From the 32nd sample on the steps stay at
 * 3/32 octave and 1/32 of the distance, so that it follows a flow whose
 * RTT changes. It always lies between the flow's smallest and largest
 * sample; tests/unit/test_table.c measures it on skewed, multi-modal and
 * changing flows, cli.flows_tshark on real ones against tshark's samples.
 * Wireshark's dialog (the plugin) computes exact medians from every
 * sample it keeps. */
#ifndef TCPWM_RTTCODE_H
#define TCPWM_RTTCODE_H

#include <stdint.h>

#define TCPWM__RTT_CODE_MANT 1024u /* codes per octave above 2048 ns */

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

#define TCPWM__RTT_N_MAX 31u /* the sample count saturates here */

/* The median estimate after sample code x, given the estimate `med` (a
 * code) over n >= 1 earlier samples (n saturated at TCPWM__RTT_N_MAX). */
static inline uint16_t tcpwm__rtt_median_step(uint16_t med, unsigned n, uint16_t x)
{
    /* 65536 / (n + 1): a division's latency on every sample is worth a
     * table. */
    static const uint16_t inv[TCPWM__RTT_N_MAX + 1] = {
        0,    32768, 21845, 16384, 13107, 10922, 9362, 8192, 7281, 6553, 5957,
        5461, 5041,  4681,  4369,  4096,  3855,  3640, 3449, 3276, 3120, 2978,
        2849, 2730,  2621,  2520,  2427,  2340,  2259, 2184, 2114, 2048};
    uint32_t m = med, v = x;
    uint32_t dist = v > m ? v - m : m - v; /* < 2^16 */
    uint32_t k = inv[n < TCPWM__RTT_N_MAX ? n : TCPWM__RTT_N_MAX];
    uint32_t fixed = (3u * TCPWM__RTT_CODE_MANT * k) >> 16, prop = (dist * k) >> 16;
    uint32_t step = fixed > prop ? fixed : prop;
    if (v > m)
        return (uint16_t)(dist < step ? v : m + step);
    return (uint16_t)(dist < step ? v : m - step);
}

#endif
