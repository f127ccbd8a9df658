/* SPDX-License-Identifier: MIT */
/* The decoder's entry for the monitor's reassembly (internal). */
#ifndef TCPWM_DECODE_INT_H
#define TCPWM_DECODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwm/decode.h"

/* The decoder's two ways through a frame: tcpwm_decode_frag() is the
 * first, or the second where the first declines. Declared here for the
 * differential test (tests/fuzz/fuzz_decode.c), which holds them against
 * each other.
 *  - The common frame (Ethernet, at most one VLAN tag, IPv4 without
 *    options or IPv6 without extension headers, TCP without options or
 *    with NOP NOP TS; well formed): true with *seg filled as the walk
 *    fills it; otherwise false, *seg clobbered but for its ts_ns. Never
 *    an error, a fragment or a tunnel.
 *  - The walk, layer by layer: every frame, every link type. */
bool tcpwm__decode_common(const uint8_t *frame, size_t caplen, size_t wirelen, int dlt,
                          tcpwm_segment *seg);
tcpwm_decode_status tcpwm__decode_walk(const tcpwm_decode_config *cfg, const uint8_t *frame,
                                       size_t caplen, size_t wirelen, int dlt, tcpwm_segment *seg,
                                       tcpwm_fragment *frag, tcpwm_decode_error *err);

/* A reassembled datagram's payload, from its first hdr_caplen bytes (all
 * that was captured of them) and its length `total`: the TCP header, after
 * the extension headers that start an IPv6 fragmentable part when proto
 * (the offset-0 fragment's) is not TCP. seg keeps its family, addresses,
 * VLAN IDs and encapsulation (those of the fragments); its TCP fields are
 * filled as tcpwm_decode() fills them. TCPWM_DECODE_TCP, NOT_TCP (the
 * datagram was not TCP after all), or ERROR with *err: truncated_tcp when
 * the header (or an extension chain) was not captured or does not fit the
 * kept bytes, as for a frame cut by a snap length. */
tcpwm_decode_status tcpwm__decode_reassembled(uint8_t family, uint8_t proto, const uint8_t *hdr,
                                              size_t hdr_caplen, size_t total,
                                              tcpwm_segment *seg, tcpwm_decode_error *err);

#endif
