/* SPDX-License-Identifier: MIT */
/* The decoder's entry for the monitor's reassembly (internal). */
#ifndef TCPWM_DECODE_INT_H
#define TCPWM_DECODE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tcpwm/decode.h"

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
