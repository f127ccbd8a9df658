/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz harnesses: a monitor driven frame by frame, with the
 * invariants of docs/semantics.md checked after every frame against the
 * public metrics, the per-packet result and the private flow table and
 * hole lists (fuzz_check.c compiles monitor.c and holes.c into itself to
 * see them). A broken invariant prints what broke and aborts, which
 * libFuzzer reports as a crash with the input that caused it. */
#ifndef TCPWM_FUZZ_CHECK_H
#define TCPWM_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "tcpwm/buf.h"
#include "tcpwm/decode.h"
#include "tcpwm/metrics.h"
#include "tcpwm/monitor.h"

typedef struct fuzz_run {
    tcpwm_monitor *m;
    tcpwm_config cfg;
    tcpwm_metrics prev;     /* metrics before the frame being checked */
    int64_t prev_ts;        /* capture time of the previous snapshot rendered */
    uint64_t frames;        /* frames fed */
    uint64_t fills;         /* sum of tcpwm_result.holes_filled */
    uint64_t capture_gaps;  /* sum of tcpwm_result.capture_gaps */
    uint64_t ended;         /* flow-end callbacks */
    unsigned render_every;  /* render the exposition every N frames (0: never) */
    tcpwm_buf buf;
    tcpwm_buf small;        /* a buffer with a small limit: the rollback check */
    char text[48];          /* bytes of the latest frame, as help and label text */
} fuzz_run;

/* Small caps, so that inputs of a few kilobytes reach the eviction and
 * hole-forgetting paths: scope all, 64 flows, 4 holes per direction. */
void fuzz_config_small(tcpwm_config *c);

/* Starts a run; aborts if the monitor cannot be created. */
void fuzz_begin(fuzz_run *r, const tcpwm_config *cfg, unsigned render_every);

/* Feeds one frame through tcpwm_monitor_frame() (copied into a buffer of
 * exactly caplen bytes, so that AddressSanitizer sees any read past it)
 * and checks every invariant. Every fourth frame goes in without a result
 * (res NULL, as the replay does without -v). */
void fuzz_frame(fuzz_run *r, const uint8_t *frame, size_t caplen, size_t wirelen, int dlt,
                int64_t ts_ns);

/* The split path standalone/replay.c takes: a frame decoded earlier
 * (tcpwm_decode_frag(), seg->ts_ns set), now counted with
 * tcpwm_monitor_count_frame() and handed in with tcpwm_monitor_segment(),
 * tcpwm_monitor_fragment() (a fragment: frag) or
 * tcpwm_monitor_count_decode_error(); then every invariant. */
void fuzz_decoded(fuzz_run *r, tcpwm_decode_status st, const tcpwm_segment *seg,
                  const tcpwm_fragment *frag, tcpwm_decode_error err);

/* Keeps the frame's first bytes as the exposition's help and label text. */
void fuzz_text(fuzz_run *r, const uint8_t *frame, size_t caplen);

/* Renders the exposition in both formats (and a two-snapshot timeline),
 * with an extra family whose help text and label value are frame bytes,
 * and checks that each document is complete and well formed; renders it
 * again into a buffer too small for it, which must fail cleanly. */
void fuzz_render(fuzz_run *r, int64_t ts_ns);

/* Final checks, a last render, and frees everything. */
void fuzz_end(fuzz_run *r);

/* Prints "fuzz invariant broken: ..." and aborts. */
#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond))                                                                             \
            fuzz_fail(__FILE__, __LINE__, #cond);                                                \
    } while (0)

#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void fuzz_fail(const char *file, int line, const char *what);

#endif
