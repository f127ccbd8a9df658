/* SPDX-License-Identifier: MIT */
/* Encapsulation: the tunnels and labels a TCP segment was found inside
 * (docs/semantics.md section 1, "Tunnels and labels").
 *
 * The decoder writes an encapsulation *context*: the bytes that identify
 * the tunnels a segment came through (outer addresses, VNI, GRE key,
 * ERSPAN session, MPLS labels, VLAN IDs of inner Ethernet frames), as a
 * sequence of records, outermost first, in a canonical form that is the
 * same for both directions of a connection. The flow key includes it, so
 * the same inner 4-tuple in two tunnels is two flows. Front ends read it
 * back with tcpwm_encap_next() to print it. */
#ifndef TCPWM_ENCAP_H
#define TCPWM_ENCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Encapsulation kinds: label values of tcp_monitor_tunneled_packets_total
 * {encap}, and bits of tcpwm_segment.encap_kinds (1 << TCPWM_ENCAP_x). */
#define TCPWM_ENCAP_MAP(XX)  \
    XX(VXLAN, "vxlan")       \
    XX(GENEVE, "geneve")     \
    XX(GRE, "gre")           \
    XX(ERSPAN, "erspan")     \
    XX(IPIP, "ipip")         \
    XX(MPLS, "mpls")

typedef enum tcpwm_encap_kind {
#define TCPWM__EK_ENUM(name, label) TCPWM_ENCAP_##name,
    TCPWM_ENCAP_MAP(TCPWM__EK_ENUM)
#undef TCPWM__EK_ENUM
    TCPWM_ENCAP__COUNT
} tcpwm_encap_kind;

/* "vxlan", ...; NULL if out of range. */
const char *tcpwm_encap_label(tcpwm_encap_kind k);

/* Encapsulation headers a frame may nest (IP in IP, GRE, ERSPAN, VXLAN,
 * Geneve, each MPLS label stack entry); one more is the decode error
 * encapsulation_too_deep. */
#define TCPWM_ENCAP_MAX_DEPTH 8

/* Bytes a context can take: 8 headers, each with at most an outer IPv6
 * address pair, its own record and two inner VLAN tags. */
#define TCPWM_ENCAP_CTX_MAX 384

/* One record of a context, as tcpwm_encap_next() hands it out. */
typedef enum tcpwm_encap_item_type {
    TCPWM_EI_IP = 1, /* the outer IP header of a tunnel: family, proto, addr */
    TCPWM_EI_GRE,    /* a GRE header: has_key, id = key */
    TCPWM_EI_ERSPAN, /* an ERSPAN header: version (1: type II, 2: type III; 0: type I),
                        id = session ID */
    TCPWM_EI_VXLAN,  /* id = VNI */
    TCPWM_EI_GENEVE, /* id = VNI */
    TCPWM_EI_MPLS,   /* one label stack entry: id = label */
    TCPWM_EI_VLAN,   /* an 802.1Q/802.1ad tag of an Ethernet frame inside a tunnel: id = VID */
} tcpwm_encap_item_type;

typedef struct tcpwm_encap_item {
    tcpwm_encap_item_type type;
    uint8_t family;       /* IP: 4 or 6 */
    uint8_t proto;        /* IP: what it carries: 4, 41 (IP), 47 (GRE), 17 (UDP) */
    uint8_t version;      /* ERSPAN */
    bool has_key;         /* GRE */
    uint32_t id;          /* see the types */
    uint8_t addr[2][16];  /* IP: the two addresses, lower first (not by direction) */
} tcpwm_encap_item;

/* Reads the record at *off of the context ctx[0..len) into *it and moves
 * *off past it. false at the end, or on bytes that are not a context. */
bool tcpwm_encap_next(const uint8_t *ctx, size_t len, size_t *off, tcpwm_encap_item *it);

#endif
