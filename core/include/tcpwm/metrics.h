/* SPDX-License-Identifier: MIT */
/* The metric values the core keeps: plain counters, two gauges and two
 * fixed-bucket histograms. A tcpwm_metrics is a value type: copying it is
 * a consistent snapshot (what scrapes and --timeline render). */
#ifndef TCPWM_METRICS_H
#define TCPWM_METRICS_H

#include <stdint.h>

#include "tcpwm/decode.h"

/* Why a flow left the table before it closed. Label values of
 * tcp_monitor_flows_evicted_total{reason}. */
#define TCPWM_EVICT_MAP(XX)            \
    XX(MAX_FLOWS, "max_flows")         \
    XX(IDLE, "idle")

typedef enum tcpwm_evict_reason {
#define TCPWM__EV_ENUM(name, label) TCPWM_EVICT_##name,
    TCPWM_EVICT_MAP(TCPWM__EV_ENUM)
#undef TCPWM__EV_ENUM
    TCPWM_EVICT__COUNT
} tcpwm_evict_reason;

const char *tcpwm_evict_label(tcpwm_evict_reason r);

/* How a fragmented datagram ended: label values of
 * tcp_monitor_fragments_total{outcome} (docs/semantics.md 1, "IP fragment
 * reassembly"). */
#define TCPWM_FRAG_OUTCOME_MAP(XX)          \
    XX(REASSEMBLED, "reassembled")          \
    XX(TIMED_OUT, "timed_out")              \
    XX(OVERLAPPING, "overlapping")          \
    XX(EVICTED, "evicted")                  \
    XX(TOO_LARGE, "too_large")              \
    XX(INCONSISTENT, "inconsistent")        \
    XX(TOO_MANY_RANGES, "too_many_ranges")

typedef enum tcpwm_frag_outcome {
#define TCPWM__FO_ENUM(name, label) TCPWM_FRAG_##name,
    TCPWM_FRAG_OUTCOME_MAP(TCPWM__FO_ENUM)
#undef TCPWM__FO_ENUM
    TCPWM_FRAG__COUNT
} tcpwm_frag_outcome;

/* Why single fragments were ignored: label values of
 * tcp_monitor_fragments_ignored_total{reason}. */
#define TCPWM_FRAG_IGNORED_MAP(XX)  \
    XX(DUPLICATE, "duplicate")      \
    XX(MALFORMED, "malformed")      \
    XX(DISCARDED, "discarded")

typedef enum tcpwm_frag_ignored {
#define TCPWM__FI_ENUM(name, label) TCPWM_FRAG_IGN_##name,
    TCPWM_FRAG_IGNORED_MAP(TCPWM__FI_ENUM)
#undef TCPWM__FI_ENUM
    TCPWM_FRAG_IGN__COUNT
} tcpwm_frag_ignored;

/* Gap sizes in bytes: upper bounds 64, 128, ... 16 MiB (2^6 .. 2^24),
 * then +Inf. */
#define TCPWM_GAP_BUCKETS 19
/* Hole-fill times: 100 us to 10 s in 1-2.5-5 steps, then +Inf. Stored in
 * nanoseconds so that bucketing and sums are exact integers. */
#define TCPWM_FILL_BUCKETS 16

/* Round-trip times (ACK RTT, handshake RTT): 50 us to 10 s in 1-2.5-5
 * steps, then +Inf; nanoseconds, like the hole-fill times. */
#define TCPWM_RTT_BUCKETS 17

extern const uint64_t tcpwm_gap_bounds[TCPWM_GAP_BUCKETS];   /* bytes */
extern const int64_t tcpwm_fill_bounds_ns[TCPWM_FILL_BUCKETS]; /* ns */
extern const int64_t tcpwm_rtt_bounds_ns[TCPWM_RTT_BUCKETS];   /* ns */

/* Retransmission kinds (docs/semantics.md 7, rule 3): label values of
 * tcp_monitor_retransmissions_total{kind}, in the order of the enum
 * tcpwm_retx_kind less its NONE. */
#define TCPWM_RETX_KINDS 3

typedef enum tcpwm_retx_kind {
    TCPWM_RETX_NONE = 0,
    TCPWM_RETX_FAST,     /* tcp.analysis.fast_retransmission */
    TCPWM_RETX_SPURIOUS, /* tcp.analysis.spurious_retransmission */
    TCPWM_RETX_OTHER,    /* tcp.analysis.retransmission and neither of the two */
} tcpwm_retx_kind;

/* "fast", "spurious", "other"; NULL for NONE or out of range. */
const char *tcpwm_retx_label(tcpwm_retx_kind k);

typedef struct tcpwm_hist_gap {
    uint64_t bucket[TCPWM_GAP_BUCKETS]; /* non-cumulative counts per bucket */
    uint64_t inf;                       /* observations above the last bound */
    uint64_t count;
    uint64_t sum;                       /* bytes */
} tcpwm_hist_gap;

typedef struct tcpwm_hist_fill {
    uint64_t bucket[TCPWM_FILL_BUCKETS];
    uint64_t inf;
    uint64_t count;
    int64_t sum_ns;
} tcpwm_hist_fill;

typedef struct tcpwm_hist_rtt {
    uint64_t bucket[TCPWM_RTT_BUCKETS];
    uint64_t inf;
    uint64_t count;
    int64_t sum_ns;
} tcpwm_hist_rtt;

void tcpwm_hist_gap_observe(tcpwm_hist_gap *h, uint64_t bytes);
/* Negative durations (capture time going backwards) are observed as 0. */
void tcpwm_hist_fill_observe(tcpwm_hist_fill *h, int64_t ns);
/* Negative durations are observed as 0 (the analysis never hands one). */
void tcpwm_hist_rtt_observe(tcpwm_hist_rtt *h, int64_t ns);

typedef struct tcpwm_metrics {
    /* Counters. */
    uint64_t packets;            /* frames handed to the core */
    uint64_t tcp_packets;        /* frames that decoded to a TCP segment */
    uint64_t global_tcp_packets; /* ... between two global unicast addresses */
    uint64_t missing;            /* sequence jumped past `next`: a hole opened */
    uint64_t duplicate;          /* data entirely at or below `next`, no hole touched */
    uint64_t out_of_order;       /* data filled (part of) an open hole */
    uint64_t capture_gap;        /* holes the receiver ACKed but we never saw */
    uint64_t keepalive;
    uint64_t zero_window_probe;
    uint64_t zero_window;
    uint64_t window_shrink;
    uint64_t right_edge_retreat;
    uint64_t scale_unknown;      /* window-analyzed packets with unknown scale */
    uint64_t conn_opened;
    uint64_t conn_closed;
    uint64_t holes_forgotten;    /* holes dropped by the per-direction cap */
    uint64_t evicted[TCPWM_EVICT__COUNT];
    uint64_t decode_errors[TCPWM_DE__COUNT];
    uint64_t tunneled[TCPWM_ENCAP__COUNT]; /* frames per encapsulation kind crossed */
    uint64_t fragments[TCPWM_FRAG__COUNT]; /* fragmented datagrams, by how they ended */
    uint64_t fragments_ignored[TCPWM_FRAG_IGN__COUNT]; /* single fragments ignored */
    /* Wireshark's analysis (docs/semantics.md 7). */
    uint64_t dup_ack;                        /* tcp.analysis.duplicate_ack */
    uint64_t retransmissions[TCPWM_RETX_KINDS]; /* fast, spurious, other */
    uint64_t reordered;                      /* tcp.analysis.out_of_order */
    uint64_t dsack;                          /* tcp.options.sack.dsack */
    uint64_t rtt_untracked;                  /* data segments the RTT pool could not hold */
    /* Gauges. */
    uint64_t active_connections;
    uint64_t current_window;     /* scaled window of the latest analyzed packet */
    /* Histograms. */
    tcpwm_hist_gap gap;
    tcpwm_hist_fill fill;
    tcpwm_hist_rtt ack_rtt;       /* tcp.analysis.ack_rtt */
    tcpwm_hist_rtt handshake_rtt; /* tcp.analysis.initial_rtt */
} tcpwm_metrics;

/* Service ports (--service-ports, docs/semantics.md 8): at most this many
 * ports, so that a document has at most (64 + 1) series per labelled
 * family. */
#define TCPWM_MAX_SERVICE_PORTS 64

/* The per-flow fields of tcpwm_metrics: those counted for events of one
 * flow, which --service-ports labels with the flow's service port —
 * missing through conn_closed but holes_forgotten, dup_ack through dsack,
 * and the four histograms. The others (frames, decode errors, tunnels,
 * fragments, evictions, holes_forgotten, rtt_untracked, the two gauges)
 * describe the whole capture or the monitor's own limits. */
/* to's per-flow fields += from's; histogram sums saturate as observing
 * does, so summing per-port blocks gives exactly the unlabelled totals. */
void tcpwm_metrics_add_per_flow(tcpwm_metrics *to, const tcpwm_metrics *from);
/* Zeroes m's per-flow fields. */
void tcpwm_metrics_clear_per_flow(tcpwm_metrics *m);

#endif
