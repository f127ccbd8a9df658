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
    TCPWM_DLT_PPP = 9,         /* PPP (RFC 1661), with or without FF 03 in front */
    TCPWM_DLT_RAW_OPENBSD = 14,
    TCPWM_DLT_PPP_SERIAL = 50, /* PPP in HDLC-like framing (RFC 1662), or Cisco HDLC */
    TCPWM_DLT_LINKTYPE_RAW = 101,
    TCPWM_DLT_C_HDLC = 104,    /* Cisco HDLC: address, control, EtherType */
    TCPWM_DLT_LOOP = 108,      /* OpenBSD loopback, family in network order */
    TCPWM_DLT_LINUX_SLL = 113, /* Linux cooked v1 */
    TCPWM_DLT_IPV4 = 228,
    TCPWM_DLT_IPV6 = 229,
    TCPWM_DLT_NFLOG = 239,     /* Linux NFLOG: nfgenmsg, then TLVs; the payload TLV */
    TCPWM_DLT_IPOIB = 242,     /* IP over InfiniBand (RFC 4391): EtherType, reserved */
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
    XX(TRUNCATED_TCP, "truncated_tcp")                                    \
    XX(BAD_TCP_DATA_OFFSET, "bad_tcp_data_offset")                        \
    XX(BAD_TCP_OPTION, "bad_tcp_option")                                  \
    XX(TRUNCATED_ENCAP, "truncated_encapsulation")                        \
    XX(BAD_ENCAP, "bad_encapsulation")                                    \
    XX(ENCAP_TOO_DEEP, "encapsulation_too_deep")                          \
    XX(ENCAP_TABLE_FULL, "encapsulation_table_full")

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
    TCPWM_DECODE_FRAGMENT,  /* a fragment of a TCP datagram: *frag is filled (if given),
                             * and seg's family, addresses, VLAN IDs and encapsulation */
} tcpwm_decode_status;

/* Payload bytes of a fragmented datagram a fragment description keeps as
 * bytes: the most a TCP header takes (RFC 9293 3.1: data offset 15). */
#define TCPWM_FRAG_HEAD 60

/* One IP fragment of a TCP datagram (docs/semantics.md 1, "IP fragment
 * reassembly"), as the decoder found it; the monitor reassembles. IPv4
 * (RFC 791 3.2): a fragment with MF set or a non-zero offset, protocol 6.
 * IPv6 (RFC 8200 4.5): a Fragment header with M set or a non-zero offset
 * whose Next Header is TCP or an extension header (an atomic fragment,
 * RFC 6946, is a whole packet). Offsets and lengths count the datagram's
 * payload: after the IPv4 header, or after the IPv6 Fragment header. The
 * bytes are copied, so the description outlives the frame. */
typedef struct tcpwm_fragment {
    uint8_t proto;    /* IPv4 protocol; IPv6 the Fragment header's Next Header */
    bool more;        /* MF / M: more fragments follow */
    uint32_t id;      /* identification: 16 bits (IPv4), 32 bits (IPv6) */
    uint32_t offset;  /* in bytes: the offset field times 8 */
    uint32_t len;     /* payload bytes per the IP header (not what was captured) */
    uint32_t hdr_len; /* header bytes the reassembled length field also counts: IPv4
                       * IHL x 4, IPv6 the extension headers before the Fragment header */
    uint32_t head_len; /* bytes of head[] captured: of this fragment's payload, those
                        * that fall in the datagram's first TCPWM_FRAG_HEAD bytes */
    uint8_t head[TCPWM_FRAG_HEAD];
} tcpwm_fragment;

/* What the decoder takes as a tunnel: the UDP destination ports of VXLAN
 * (RFC 7348 5: IANA port 4789) and Geneve (RFC 8926 3.3: 6081). A port
 * 0 ends a list early. */
#define TCPWM_MAX_TUNNEL_PORTS 8
#define TCPWM_VXLAN_PORT 4789
#define TCPWM_GENEVE_PORT 6081

typedef struct tcpwm_decode_config {
    uint16_t vxlan_ports[TCPWM_MAX_TUNNEL_PORTS];
    uint16_t geneve_ports[TCPWM_MAX_TUNNEL_PORTS];
} tcpwm_decode_config;

/* The defaults: VXLAN on 4789, Geneve on 6081. */
void tcpwm_decode_config_default(tcpwm_decode_config *c);

/* Adds port to a list (vxlan_ports or geneve_ports): 0, or TCPWM_EINVAL
 * for port 0 and TCPWM_ELIMIT when the list is full. Adding a port
 * already there does nothing. */
int tcpwm_decode_port_add(uint16_t list[TCPWM_MAX_TUNNEL_PORTS], unsigned port);

/* True for the link types tcpwm_decode() understands. */
bool tcpwm_link_supported(int dlt);

/* Decode one frame of link type `dlt`. `caplen` bytes are readable at
 * `frame`; `wirelen` is the length on the wire (>= caplen), used only when
 * the IP header leaves the length to the link (IPv4 total length 0 with
 * TSO/BIG TCP, IPv6 payload length 0). seg->ts_ns is left to the caller. */
tcpwm_decode_status tcpwm_decode(const uint8_t *frame, size_t caplen, size_t wirelen,
                                 int dlt, tcpwm_segment *seg, tcpwm_decode_error *err);

/* The same with the tunnel ports of `cfg` (NULL: the defaults);
 * tcpwm_decode() is this with NULL. */
tcpwm_decode_status tcpwm_decode_with(const tcpwm_decode_config *cfg, const uint8_t *frame,
                                      size_t caplen, size_t wirelen, int dlt,
                                      tcpwm_segment *seg, tcpwm_decode_error *err);

/* The same, describing a fragment (status TCPWM_DECODE_FRAGMENT) in
 * *frag; frag may be NULL (the status says it all the same). */
tcpwm_decode_status tcpwm_decode_frag(const tcpwm_decode_config *cfg, const uint8_t *frame,
                                      size_t caplen, size_t wirelen, int dlt,
                                      tcpwm_segment *seg, tcpwm_fragment *frag,
                                      tcpwm_decode_error *err);

#endif
