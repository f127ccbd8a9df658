/* SPDX-License-Identifier: MIT */
/* One decoded TCP segment: everything the tracker needs from a packet.
 * Filled by tcpwm_decode() from raw frames, or by a front end that has its
 * own dissector (the Wireshark plugin). */
#ifndef TCPWM_SEGMENT_H
#define TCPWM_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpwm/encap.h"

/* TCP header flag bits, RFC 9293 section 3.1 (and RFC 3168 for ECE/CWR). */
enum {
    TCPWM_FIN = 0x01,
    TCPWM_SYN = 0x02,
    TCPWM_RST = 0x04,
    TCPWM_PSH = 0x08,
    TCPWM_ACK = 0x10,
    TCPWM_URG = 0x20,
    TCPWM_ECE = 0x40,
    TCPWM_CWR = 0x80,
};

/* Which TCP options were present (bits of tcpwm_segment.opt_present). */
enum {
    TCPWM_OPT_MSS = 0x01,       /* RFC 9293 3.2, kind 2 */
    TCPWM_OPT_WSCALE = 0x02,    /* RFC 7323 2.2, kind 3 */
    TCPWM_OPT_SACK_PERM = 0x04, /* RFC 2018, kind 4 */
    TCPWM_OPT_SACK = 0x08,      /* RFC 2018, kind 5 */
    TCPWM_OPT_TS = 0x10,        /* RFC 7323 3.2, kind 8 */
};

#define TCPWM_MAX_SACK_BLOCKS 4

typedef struct tcpwm_segment {
    int64_t ts_ns;        /* capture time, nanoseconds since the Unix epoch */
    uint8_t family;       /* 4 or 6 */
    uint8_t flags;        /* TCPWM_FIN ... TCPWM_CWR */
    uint8_t vlan_count;   /* 802.1Q/802.1ad tags seen, 0..2 kept */
    uint8_t opt_present;  /* TCPWM_OPT_* bits */
    uint16_t vlan[2];     /* outer, inner VLAN ID (12 bits); 0 where absent */
    uint8_t src[16];      /* source address; IPv4 uses the first 4 bytes, rest 0 */
    uint8_t dst[16];      /* destination address, same layout */
    uint16_t sport, dport;
    uint32_t seq, ack;    /* absolute (raw) sequence and acknowledgment numbers */
    uint16_t window;      /* raw window field, unscaled */
    uint32_t payload_len; /* TCP payload bytes per the IP header, not caplen */
    /* Options (valid per opt_present). */
    uint16_t mss;
    uint8_t wscale;       /* shift as sent, not yet capped */
    uint8_t sack_count;   /* blocks kept, at most TCPWM_MAX_SACK_BLOCKS */
    uint32_t sack[TCPWM_MAX_SACK_BLOCKS][2]; /* left, right edges */
    uint32_t tsval, tsecr;
    bool opt_bad;         /* an option had a bad length; parsing stopped there */
    bool opt_cut;         /* the capture ended inside the options: those before the
                           * cut are kept, any after it are unknown */
    /* Encapsulation (tcpwm/encap.h). Set by the decoder whatever its
     * status, for the kinds crossed before it stopped. */
    uint8_t encap_kinds;  /* 1 << TCPWM_ENCAP_x for each kind crossed */
    uint16_t encap_len;   /* bytes of encap[] in use; 0: not encapsulated */
    /* The context; only encap_len bytes are meaningful. Last, so that
     * clearing a segment clears the fields above and leaves this alone. */
    uint8_t encap[TCPWM_ENCAP_CTX_MAX];
} tcpwm_segment;

#endif
