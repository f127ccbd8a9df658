/* SPDX-License-Identifier: MIT */
/* Wireshark's TCP sequence analysis, the part tcpwm reports as metrics:
 * duplicate ACKs, the kind of a retransmission (fast, spurious, other),
 * reordering (Wireshark's "out-of-order"), D-SACK, ACK RTT and handshake
 * RTT, with the same rules as tshark 4.0 (`tcp.analysis.*`), so that the
 * counts can be checked against tshark frame by frame. The rules, in our
 * words and with their sources, are in wsan.c and
 * docs/semantics.md section 7.
 *
 * Memory. One tcpwm__wsan per connection (both directions), exactly 56
 * bytes, zeroed when the connection starts (also when a SYN reuses the
 * ports: Wireshark then starts a new stream). The data segments still
 * waiting for an ACK (for the ACK RTT) live outside it, in one
 * tcpwm__wsan_pool shared by all connections: a list of cache-line blocks
 * per direction whose tail the connection state holds (no lookup on the
 * packet path), with a cap per direction and a global cap. A segment that finds
 * either cap reached is not remembered and r->rtt_untracked says so
 * (tcp_monitor_rtt_segments_untracked_total): only then can an ACK miss
 * a sample that tshark shows.
 *
 * Why the state keeps its own copies instead of the flow's (flow.h): the
 * flow's `next` differs from Wireshark's nextseq on RSTs (tcp.c skips
 * them), on zero-window probes (tcp.c needs the peer's window 0 from a
 * segment it saw; Wireshark also counts a peer never seen) and where a
 * sequence number is 0 (Wireshark's "unknown"); the flow's last_ns is the
 * monitor's clock, which never goes back while capture times may. Each
 * would change verdicts on captures of the corpus.
 *
 * Time. The ACK RTT is kept to the nanosecond (each pool record holds its
 * segment's capture time): it equals tshark's on every capture. The times
 * the rules compare (20 ms after the peer's latest segment, a handshake
 * RTT after nextseq moved) and the handshake RTT are microseconds modulo
 * 2^32 (71.6 minutes): exact for captures with microsecond stamps; with
 * nanosecond stamps a threshold is decided within 1 us of its edge and
 * the handshake RTT is within 1 us of tshark's. */
#ifndef TCPWM_WSAN_H
#define TCPWM_WSAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "tcpwm/metrics.h"
#include "tcpwm/segment.h"

/* Bits of tcpwm__wsan.hflags[d]. */
enum {
    TCPWM__WS_LAST_KA = 0x01,  /* side d's latest segment was a keep-alive */
    TCPWM__WS_LAST_ZWP = 0x02, /* ... a zero-window probe */
    TCPWM__WS_DUP_SHIFT = 2,   /* bits 2-3: duplicate-ACK run, TCPWM__WS_DUP_* */
    TCPWM__WS_DUP_MASK = 0x0c,
    TCPWM__WS_X1 = 0x20,  /* hflags[0]: a SYN was seen (hs_us is its time);
                             hflags[1]: the handshake RTT is known (hs_us is it) */
    TCPWM__WS_X2 = 0x40,  /* hflags[0]: a segment was seen (last_us valid);
                             hflags[1]: side 1 sent the latest segment */
};

/* The duplicate-ACK run in two bits: Wireshark's counter only matters as
 * 0, 1, "2 or more" and the -1 an ACK of unseen data leaves. */
enum { TCPWM__WS_DUP0 = 0, TCPWM__WS_DUP1 = 1, TCPWM__WS_DUP2 = 2, TCPWM__WS_DUPNEG = 3 };

/* Per connection. Sequence and acknowledgment numbers are raw; 0 means
 * "not yet" for nextseq, lastack and maxack, as in Wireshark. Index: the
 * caller's side (0 or 1), fixed for the connection. */
typedef struct tcpwm__wsan {
    uint32_t nextseq[2]; /* highest seq + len seen (a zero-window probe does not count) */
    uint32_t lastack[2]; /* acknowledgment field of the side's latest segment */
    uint32_t maxack[2];  /* end of the contiguous data seen: ACKs beyond it acknowledge unseen bytes */
    uint32_t next_us[2]; /* when nextseq last moved */
    uint32_t last_us;    /* when the connection's latest segment was sent (either side) */
    uint32_t hs_us;      /* latest SYN's time, then the handshake RTT */
    uint16_t window[2];  /* raw (unscaled) window of the side's latest segment */
    uint16_t other_age;  /* how long before last_us the other side sent its latest
                            segment, us, saturating at 65535 (only < 20 ms matters) */
    uint8_t hflags[2];   /* TCPWM__WS_* */
    uint32_t tail[2];    /* the pool block of side's newest outstanding segment, with a
                            bit saying there is one (wsan.c; the block holds the count) */
} tcpwm__wsan;

#define TCPWM__WSAN_BYTES 56
_Static_assert(sizeof(tcpwm__wsan) == TCPWM__WSAN_BYTES, "tcpwm__wsan is 56 bytes per connection");

/* The shared pool of outstanding segments: blocks of one cache line, each
 * holding up to four segments of one direction (wsan.c). */
typedef struct tcpwm__wsan_pool {
    tcpwm__pool records;   /* the blocks */
    uint32_t max_per_side; /* at most 65535 (a block's total) */
    uint32_t in_use;       /* blocks taken */
} tcpwm__wsan_pool;

#define TCPWM__WSAN_RECORD_BYTES 64

/* max_blocks: the global cap (at most 2^31 - 1); max_per_side: segments
 * remembered per direction (Wireshark does not bound its list), at most
 * 65535. Allocates nothing until blocks are taken. */
void tcpwm__wsan_pool_init(tcpwm__wsan_pool *p, uint32_t max_blocks, uint32_t max_per_side);
void tcpwm__wsan_pool_destroy(tcpwm__wsan_pool *p);
/* Bytes held: the blocks carved so far. */
size_t tcpwm__wsan_pool_memory(const tcpwm__wsan_pool *p);

/* tcpwm_retx_kind: tcpwm/metrics.h (the front ends see it in tcpwm_result). */

typedef struct tcpwm__wsan_result {
    bool dup_ack;             /* tcp.analysis.duplicate_ack */
    bool reordered;           /* tcp.analysis.out_of_order */
    bool dsack;               /* tcp.options.sack.dsack */
    bool rtt_untracked;       /* a data segment not remembered: a cap was reached */
    tcpwm_retx_kind retx;     /* the kind, or NONE */
    int64_t ack_rtt_ns;       /* tcp.analysis.ack_rtt, or -1 */
    int64_t handshake_rtt_ns; /* tcp.analysis.initial_rtt, on the ACK that completes it; or -1 */
} tcpwm__wsan_result;

/* What the rules read of a segment: its TCP header's numbers and flags,
 * its payload length, whether its SACK option is a D-SACK
 * (tcpwm__wsan_is_dsack) and its capture time. 32 bytes: the monitor
 * hands this, not the segment, to an analysis on another thread
 * (analyzer.h). */
typedef struct tcpwm__wsan_in {
    int64_t ts_ns;
    uint32_t seq, ack, len;
    uint16_t window; /* raw, unscaled */
    uint8_t flags;   /* TCPWM_SYN, ... */
    uint8_t dsack;   /* 1: the SACK option reports a duplicate */
} tcpwm__wsan_in;

/* Rule 5, D-SACK, read from the segment's SACK option. */
bool tcpwm__wsan_is_dsack(const tcpwm_segment *s);

/* What the rules read of segment s (at s->ts_ns). */
tcpwm__wsan_in tcpwm__wsan_input(const tcpwm_segment *s);

/* Analyzes segment `in`, sent by side `dir` (0 or 1, the caller's
 * numbering, fixed for the connection) at its capture time in->ts_ns, and
 * fills *r. Every TCP segment of the connection goes through here, RST
 * included, in capture order. */
void tcpwm__wsan_observe_in(tcpwm__wsan_pool *p, tcpwm__wsan *c, unsigned dir,
                            const tcpwm__wsan_in *in, tcpwm__wsan_result *r);

/* The same, reading segment s (at s->ts_ns). */
void tcpwm__wsan_observe(tcpwm__wsan_pool *p, tcpwm__wsan *c, unsigned dir,
                         const tcpwm_segment *s, tcpwm__wsan_result *r);

/* Starts fetching the pool records the connection's next segment will
 * read (the tails of both lists); changes nothing. */
void tcpwm__wsan_prefetch(const tcpwm__wsan_pool *p, const tcpwm__wsan *c);

/* Side's outstanding segments in the pool (for tests). */
uint32_t tcpwm__wsan_outstanding(const tcpwm__wsan_pool *p, const tcpwm__wsan *c, unsigned side);

/* Gives the connection's records back to the pool and zeroes *c. Call it
 * when the connection ends, is evicted or restarts (port reuse). */
void tcpwm__wsan_forget(tcpwm__wsan_pool *p, tcpwm__wsan *c);

/* The retransmission kind's label value ("fast", "spurious", "other"; "" for NONE). */
const char *tcpwm__wsan_retx_label(tcpwm_retx_kind k);

#endif
