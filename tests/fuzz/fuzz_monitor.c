/* SPDX-License-Identifier: MIT */
/* libFuzzer harness over decode + tracker: raw frames of one link type
 * through tcpwm_monitor_frame(), every invariant of fuzz_check.c checked
 * after each frame, the exposition rendered every 16 frames.
 *
 * Input format (tests/fuzz/seeds.py writes it from captures):
 *
 *   byte 0   link type: index into `links` below (modulo its length)
 *   byte 1   configuration:
 *              bits 0-1  max_flows        64, 1, 3, 16
 *              bits 2-3  max_holes        4, 1, 2, 8
 *              bits 4-5  max_holes_total  16, 1, 4, 64
 *              bit  6    scope global instead of all
 *              bit  7    default timeouts (300 s idle, 10 s linger)
 *                        instead of 2 s idle, 0.5 s linger
 *   then records, each a 4-byte header and the frame:
 *     int8   time step in units of 25 ms (negative: capture time goes back);
 *            -128 jumps to INT64_MIN and 127 to INT64_MAX ns (the core
 *            holds any time within its range, TCPWM_MAX_TIME_NS)
 *     u16le  captured length (cut to the bytes left in the input)
 *     u8     wire length beyond the captured length: w * 257 bytes for
 *            w < 0xf0, else 2^(w - 0xf0 + 17) bytes (up to 4 GiB: what a
 *            pcap record header may claim)
 *     bytes  the frame
 *
 * Capture time starts at 2023-11-14 and moves by the steps, so idle expiry
 * and the closed linger happen within a few records. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_check.h"
#include "tcpwm/decode.h"

static const int links[] = {
    TCPWM_DLT_EN10MB,    TCPWM_DLT_RAW,         TCPWM_DLT_IPV4,        TCPWM_DLT_IPV6,
    TCPWM_DLT_LINUX_SLL, TCPWM_DLT_LINUX_SLL2,  TCPWM_DLT_NULL,        TCPWM_DLT_LOOP,
    TCPWM_DLT_RAW_OPENBSD, TCPWM_DLT_LINKTYPE_RAW,
    147, /* LINKTYPE_USER0: unsupported, every frame a decode error */
};
#define N_LINKS (sizeof links / sizeof links[0])

#define STEP_NS 25000000LL
#define T0_NS 1700000000000000000LL

static void configure(uint8_t b, tcpwm_config *c)
{
    static const uint32_t flows[4] = {64, 1, 3, 16};
    static const uint32_t holes[4] = {4, 1, 2, 8};
    static const uint32_t pool[4] = {16, 1, 4, 64};

    fuzz_config_small(c);
    c->max_flows = flows[b & 3u];
    c->max_holes = holes[(b >> 2) & 3u];
    c->max_holes_total = pool[(b >> 4) & 3u];
    if (b & 0x40u)
        c->scope = TCPWM_SCOPE_GLOBAL;
    if (!(b & 0x80u)) {
        c->idle_timeout_ns = 2000000000LL;
        c->closed_linger_ns = 500000000LL;
    }
}

static size_t wire_extra(uint8_t w)
{
    if (w < 0xf0u)
        return (size_t)w * 257u;
    return (size_t)1 << (w - 0xf0u + 17u);
}

/* The capture time after a record's step, saturating. */
static int64_t next_time(int64_t ts, int8_t step)
{
    if (step == INT8_MIN)
        return INT64_MIN;
    if (step == INT8_MAX)
        return INT64_MAX;
    int64_t d = step * STEP_NS;
    if (d > 0 && ts > INT64_MAX - d)
        return INT64_MAX;
    if (d < 0 && ts < INT64_MIN - d)
        return INT64_MIN;
    return ts + d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int dlt = links[data[0] % N_LINKS];
    tcpwm_config cfg;
    configure(data[1], &cfg);

    fuzz_run r;
    fuzz_begin(&r, &cfg, 16);
    int64_t ts = T0_NS;
    size_t at = 2;
    while (size - at >= 4) {
        const uint8_t *h = data + at;
        ts = next_time(ts, (int8_t)h[0]);
        size_t caplen = (size_t)h[1] | (size_t)h[2] << 8;
        size_t extra = wire_extra(h[3]);
        at += 4;
        if (caplen > size - at)
            caplen = size - at;
        fuzz_frame(&r, data + at, caplen, caplen + extra, dlt, ts);
        at += caplen;
    }
    fuzz_end(&r);
    return 0;
}
