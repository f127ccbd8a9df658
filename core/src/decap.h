/* SPDX-License-Identifier: MIT */
/* Tunnel and label headers (internal): one small reader per header, and
 * the writer of the encapsulation context (tcpwm/encap.h). The decoder
 * (decode.c) walks the layers and calls these; each reads its header
 * through the cursor, checks it against its RFC and says what follows. */
#ifndef TCPWM_DECAP_H
#define TCPWM_DECAP_H

#include <stdbool.h>
#include <stdint.h>

#include "cursor.h"
#include "tcpwm/segment.h"

/* How reading a header went. */
typedef enum tcpwm__dx {
    TCPWM__DX_OK = 0,    /* read; `next` says what follows */
    TCPWM__DX_TRUNCATED, /* the capture ends inside the header */
    TCPWM__DX_BAD,       /* a header its RFC says to discard */
    TCPWM__DX_OTHER,     /* well-formed, but carries nothing that leads to TCP */
} tcpwm__dx;

/* What follows a header. */
typedef enum tcpwm__next {
    TCPWM__NEXT_IPV4 = 1,
    TCPWM__NEXT_IPV6,
    TCPWM__NEXT_IP,    /* IPv4 or IPv6 by the version nibble */
    TCPWM__NEXT_ETHER, /* an Ethernet frame (transparent bridging) */
    TCPWM__NEXT_MPLS,  /* an MPLS label stack */
    TCPWM__NEXT_ERSPAN2,
    TCPWM__NEXT_ERSPAN3,
    TCPWM__NEXT_WLAN,  /* an 802.11 frame (Aruba's GRE) */
} tcpwm__next;

/* Maps a protocol type (an EtherType: GRE, Geneve) to what follows, 0 for
 * one that does not lead to TCP. */
tcpwm__next tcpwm__next_of_ethertype(uint16_t type);

typedef struct tcpwm__gre {
    uint16_t proto;  /* protocol type (an EtherType) */
    bool has_key, has_seq;
    uint32_t key;
} tcpwm__gre;
tcpwm__dx tcpwm__gre_read(tcpwm_cursor *c, tcpwm__gre *g);

typedef struct tcpwm__erspan {
    uint8_t version;  /* 0: type I (no header), 1: type II, 2: type III */
    uint16_t session; /* 10 bits */
    tcpwm__next next;
} tcpwm__erspan;
/* `type` is TCPWM__NEXT_ERSPAN2 or _ERSPAN3, from the GRE protocol type;
 * has_seq the GRE S bit (ERSPAN type I has none and no header). */
tcpwm__dx tcpwm__erspan_read(tcpwm_cursor *c, tcpwm__next type, bool has_seq, tcpwm__erspan *e);

/* An 802.11 data frame without FCS, as Aruba access points send their
 * clients' frames to the controller in GRE: its header and the LLC/SNAP
 * header after it, read to the EtherType of what the frame carries. */
tcpwm__dx tcpwm__wlan_read(tcpwm_cursor *c, uint16_t *type);

/* VXLAN (RFC 7348 5): the VNI; an Ethernet frame follows. */
tcpwm__dx tcpwm__vxlan_read(tcpwm_cursor *c, uint32_t *vni);

/* Geneve (RFC 8926 3.4): the VNI and what follows, options skipped. */
tcpwm__dx tcpwm__geneve_read(tcpwm_cursor *c, uint32_t *vni, tcpwm__next *next);

/* One MPLS label stack entry (RFC 3032 2.1). */
tcpwm__dx tcpwm__mpls_read(tcpwm_cursor *c, uint32_t *label, bool *bottom);
/* After the bottom of the stack: IP by its version nibble, or an Ethernet
 * pseudowire behind a control word (RFC 4385, RFC 4448). */
tcpwm__dx tcpwm__mpls_payload(tcpwm_cursor *c, tcpwm__next *next);

/* ---- The context ---- Each returns false when the record does not fit
 * (the decoder then reports encapsulation_too_deep). */
bool tcpwm__ctx_ip(tcpwm_segment *s, uint8_t family, uint8_t proto, const uint8_t *a,
                   const uint8_t *b);
bool tcpwm__ctx_id(tcpwm_segment *s, tcpwm_encap_item_type type, uint32_t id);
bool tcpwm__ctx_gre(tcpwm_segment *s, bool has_key, uint32_t key);
bool tcpwm__ctx_erspan(tcpwm_segment *s, uint8_t version, uint16_t session);

#endif
