/* SPDX-License-Identifier: MIT */
/* Frame decoder: link layer -> IPv4/IPv6 -> TCP, bounds-checked against
 * the captured length. Never reads past caplen, never allocates. */
#ifndef TCPWM_DECODE_H
#define TCPWM_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwm/segment.h"

/* Link types, by their libpcap DLT_ numbers (which pcap_datalink() returns;
 * libpcap maps the file's LINKTYPE_RAW 101 to DLT_RAW). */
enum {
    TCPWM_DLT_NULL = 0,        /* BSD loopback, 4-byte family in host order */
    TCPWM_DLT_EN10MB = 1,      /* Ethernet, with 802.1Q / 802.1ad tags */
    TCPWM_DLT_RAW = 12,        /* raw IP, version from the first nibble */
    TCPWM_DLT_RAW_OPENBSD = 14,
    TCPWM_DLT_LINKTYPE_RAW = 101,
    TCPWM_DLT_LOOP = 108,      /* OpenBSD loopback, family in network order */
    TCPWM_DLT_LINUX_SLL = 113, /* Linux cooked v1 */
    TCPWM_DLT_IPV4 = 228,
    TCPWM_DLT_IPV6 = 229,
    TCPWM_DLT_LINUX_SLL2 = 276, /* Linux cooked v2 (-i any) */
};

/* Why a frame could not be decoded into a TCP segment. The string is the
 * `reason` label value of tcp_monitor_decode_errors_total. */
#define TCPWM_DECODE_ERROR_MAP(XX)                                         \
    XX(UNSUPPORTED_LINKTYPE, "unsupported_linktype")                      \
    XX(TRUNCATED_LINK, "truncated_link")                                  \
    XX(TRUNCATED_IP, "truncated_ip")                                      \
    XX(BAD_IP_VERSION, "bad_ip_version")                                  \
    XX(BAD_IPV4_HEADER_LENGTH, "bad_ipv4_header_length")                  \
    XX(BAD_IP_LENGTH, "bad_ip_length")                                    \
    XX(BAD_IPV6_EXTENSION, "bad_ipv6_extension")                          \
    XX(FRAGMENT, "non_first_fragment")                                    \
    XX(TRUNCATED_TCP, "truncated_tcp")                                    \
    XX(BAD_TCP_DATA_OFFSET, "bad_tcp_data_offset")                        \
    XX(BAD_TCP_OPTION, "bad_tcp_option")

typedef enum tcpwm_decode_error {
#define TCPWM__DE_ENUM(name, label) TCPWM_DE_##name,
    TCPWM_DECODE_ERROR_MAP(TCPWM__DE_ENUM)
#undef TCPWM__DE_ENUM
    TCPWM_DE__COUNT
} tcpwm_decode_error;

/* The label value for a reason ("truncated_tcp", ...); NULL if out of range. */
const char *tcpwm_decode_error_label(tcpwm_decode_error e);

typedef enum tcpwm_decode_status {
    TCPWM_DECODE_TCP = 0,   /* *seg is filled (check seg->opt_bad too) */
    TCPWM_DECODE_NOT_TCP,   /* a well-formed frame that carries no TCP */
    TCPWM_DECODE_ERROR,     /* *err says why; counted by the caller */
} tcpwm_decode_status;

/* True for the link types tcpwm_decode() understands. */
bool tcpwm_link_supported(int dlt);

/* Decode one frame of link type `dlt`. `caplen` bytes are readable at
 * `frame`; `wirelen` is the length on the wire (>= caplen), used only when
 * the IP header leaves the length to the link (IPv4 total length 0 with
 * TSO/BIG TCP, IPv6 payload length 0). seg->ts_ns is left to the caller. */
tcpwm_decode_status tcpwm_decode(const uint8_t *frame, size_t caplen, size_t wirelen,
                                 int dlt, tcpwm_segment *seg, tcpwm_decode_error *err);

#endif
