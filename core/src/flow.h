/* SPDX-License-Identifier: MIT */
/* Internal flow state shared by the table, the analysis and the monitor. */
#ifndef TCPWM_FLOW_H
#define TCPWM_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "tcpwm/monitor.h"

/* Direction-independent flow key. Side 0 holds the lower (address, port)
 * pair. No padding, so the key hashes and compares as plain bytes. The
 * encapsulation is an interned context id (ctxtab.h): 0 outside tunnels. */
typedef struct tcpwm__key {
    uint8_t addr[2][16];
    uint16_t port[2];
    uint16_t vlan[2];
    uint8_t family;
    uint8_t vlan_count;
    uint16_t encap; /* encapsulation context id, 0: none */
} tcpwm__key;

/* Bits of tcpwm__half.flags. */
enum {
    TCPWM__H_SEEN = 0x01,      /* a non-RST segment was analyzed: `next` valid */
    TCPWM__H_SYN = 0x02,       /* this side's SYN was seen: syn_seq valid */
    TCPWM__H_WSCALE = 0x04,    /* ... and it carried a window-scale option */
    TCPWM__H_FIN = 0x08,       /* this side sent a FIN */
    TCPWM__H_WIN = 0x10,       /* win and edge hold a previous analyzed window */
    TCPWM__H_LAST_WIN0 = 0x20, /* the latest non-RST segment advertised window 0 */
};

/* What one side has sent: its sequence space and its advertised window. */
typedef struct tcpwm__half {
    uint32_t next;      /* highest sequence end seen */
    uint32_t syn_seq;   /* sequence number of this side's SYN */
    uint32_t win;       /* last analyzed scaled window */
    uint32_t edge;      /* last right edge, ack + win */
    uint32_t hole_head; /* lowest (oldest) open hole, or TCPWM__NIL; its prev is
                           the highest (newest), holes.h */
    uint8_t nholes;     /* open holes in the list */
    uint8_t wscale;     /* shift from this side's SYN, capped at 14 */
    uint8_t flags;      /* TCPWM__H_* */
} tcpwm__half;

/* A flow's running totals (tcpwm_flow_stats is what the front ends see:
 * monitor.c's view widens these). */
typedef struct tcpwm__fstats {
    uint32_t packets;
    uint32_t missing, duplicate, out_of_order, capture_gap;
    uint32_t window_shrink, right_edge_retreat, zero_window;
    uint32_t min_window; /* smallest scaled window seen; TCPWM__NO_WINDOW before one */
} tcpwm__fstats;

/* Scaled windows are at most 65535 << 14, so this is never one. */
#define TCPWM__NO_WINDOW UINT32_MAX

/* The first 64 bytes hold what the lookup and the expiry check read for
 * every packet; the LRU links live beside the records (table.h), and
 * Wireshark's analysis keeps its own state per flow (analyzer.h), indexed
 * like the records. Records are aligned to 8 bytes, not to cache lines:
 * a 64-byte alignment would round the record to 192 bytes, past the
 * budget of 256 per flow with the rest (issue 10). The pool's chunks
 * start on a cache line, so a record may straddle one more line than
 * that. */
typedef struct tcpwm__flow {
    _Alignas(8) tcpwm__key key;
    uint32_t first_s;        /* capture time of the first packet, whole seconds (to 2106) */
    int64_t last_ns;         /* capture time of the latest packet */
    tcpwm__half half[2];     /* [0]: the initiator's side, [1]: the responder's */
    tcpwm__fstats stats;
    unsigned init_side : 1;  /* key side (0/1) of the initiator */
    unsigned closed : 1;     /* RST seen, or FIN from both sides */
    unsigned global : 1;     /* both addresses global unicast (the key decides) */
    uint8_t service;         /* per-service metrics block (semantics 8); 0 without */
} tcpwm__flow;

/* 240 bytes with the LRU links and the analysis' state (checked in
 * table.h): with the index (at most 14.2 bytes a flow, 8.4 at the default
 * cap, table.h) and the RTT pool's share (monitor.h, 2 bytes a flow at
 * the cap, 4 at half of it) a flow costs at most 256 (bench/flow_memory,
 * and the RSS of bench/run.sh with half a million flows). The per-packet
 * fields end within the first line. */
_Static_assert(offsetof(tcpwm__flow, last_ns) + 8 <= 64, "the per-packet fields share a line");

#endif
