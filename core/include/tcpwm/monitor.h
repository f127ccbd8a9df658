/* SPDX-License-Identifier: MIT */
/* The monitor: decoded segments in, per-packet verdicts and metrics out.
 * It owns the flow table and the per-direction sequence and window
 * analysis described in docs/semantics.md. Single-threaded; no clock (all
 * time is capture time handed in with each segment), no I/O. */
#ifndef TCPWM_MONITOR_H
#define TCPWM_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwm/decode.h"
#include "tcpwm/metrics.h"
#include "tcpwm/segment.h"

typedef enum tcpwm_scope {
    TCPWM_SCOPE_GLOBAL = 0, /* analyze only global-unicast <-> global-unicast */
    TCPWM_SCOPE_ALL,        /* analyze every TCP packet */
} tcpwm_scope;

typedef struct tcpwm_config {
    tcpwm_scope scope;
    uint32_t max_flows;        /* flow-table cap; LRU eviction beyond it */
    uint32_t max_holes;        /* open holes kept per direction (1..255) */
    uint32_t max_holes_total;  /* hole records across all flows */
    int64_t idle_timeout_ns;   /* open flows idle this long (capture time) leave */
    int64_t closed_linger_ns;  /* closed flows stay this long for late packets */
    uint64_t hash_seed;        /* flow-hash seed; results never depend on it */
    tcpwm_decode_config decode; /* tunnel ports, for tcpwm_monitor_frame/_decode */
    uint32_t max_fragments;    /* fragmented datagrams in reassembly at once (0: the default);
                                * the oldest is evicted beyond it */
    uint32_t max_rtt_blocks;   /* blocks of up to 4 outstanding segments remembered for the
                                * ACK RTT, all flows (docs/semantics.md 7, "Memory");
                                * 0: the default */
    /* Service ports (docs/semantics.md 8): with n_service_ports > 0 the
     * per-flow metrics are also kept per flow's service port, one of
     * these or "other". Any order, no duplicates, at most
     * TCPWM_MAX_SERVICE_PORTS. 0: no per-service view. */
    uint32_t n_service_ports;
    uint16_t service_ports[TCPWM_MAX_SERVICE_PORTS];
} tcpwm_config;

#define TCPWM_DEFAULT_MAX_FLOWS (1u << 20)
#define TCPWM_DEFAULT_MAX_HOLES 32u
#define TCPWM_DEFAULT_IDLE_NS (300 * 1000000000LL)
#define TCPWM_DEFAULT_LINGER_NS (60 * 1000000000LL)
/* About 5 MB at most, near Linux's ipfrag_high_thresh (4 MB). */
#define TCPWM_DEFAULT_MAX_FRAGMENTS 8192u
/* 64 bytes each: 2 MiB at most, 2 bytes a flow at the default flow cap
 * (4 with half the cap in use), which keeps a flow within 256 bytes. A
 * direction with at most four segments in flight holds one block. The
 * per-direction cap is fixed (at most 65535). */
#define TCPWM_DEFAULT_MAX_RTT_BLOCKS (1u << 15)
#define TCPWM_RTT_SEGMENTS_PER_SIDE 16384u

void tcpwm_config_default(tcpwm_config *c);

/* Capture times are held within [0, TCPWM_MAX_TIME_NS] (1970 to about
 * 2116), so that differences of two times never overflow; a front end
 * may clamp to the same range. */
#define TCPWM_MAX_TIME_NS (INT64_C(1) << 62)

/* A record's capture time in ns from its seconds and nanoseconds, clamped
 * the one way every front end clamps it: seconds before 1970 count as 0,
 * seconds past TCPWM_MAX_TIME_NS give TCPWM_MAX_TIME_NS. pcapng allows
 * 64-bit seconds; such times are garbage, but the replay, the live
 * capture and the Wireshark plugin must all see the same garbage. nsec is
 * taken as the file gives it (it may exceed a second in a damaged file). */
static inline int64_t tcpwm_time_ns(int64_t sec, int64_t nsec)
{
    const int64_t max_sec = TCPWM_MAX_TIME_NS / 1000000000LL;
    if (sec < 0)
        sec = 0;
    if (sec >= max_sec)
        return TCPWM_MAX_TIME_NS;
    return sec * 1000000000LL + nsec;
}

/* Verdict of the sequence analysis for one packet (docs/semantics.md). */
#define TCPWM_VERDICT_MAP(XX)                  \
    XX(NONE, "none")                           \
    XX(FIRST, "first")                         \
    XX(IN_ORDER, "in_order")                   \
    XX(MISSING, "missing")                     \
    XX(DUPLICATE, "duplicate")                 \
    XX(OUT_OF_ORDER, "out_of_order")           \
    XX(KEEPALIVE, "keepalive")                 \
    XX(ZERO_WINDOW_PROBE, "zero_window_probe") \
    XX(OLD_ACK, "old_ack")                     \
    XX(RST, "rst")

typedef enum tcpwm_verdict {
#define TCPWM__VD_ENUM(name, label) TCPWM_V_##name,
    TCPWM_VERDICT_MAP(TCPWM__VD_ENUM)
#undef TCPWM__VD_ENUM
    TCPWM_V__COUNT
} tcpwm_verdict;

const char *tcpwm_verdict_label(tcpwm_verdict v);

/* Event bits of one packet (tcpwm_result.events). */
enum {
    TCPWM_EV_MISSING = 1u << 0,
    TCPWM_EV_DUPLICATE = 1u << 1,
    TCPWM_EV_OUT_OF_ORDER = 1u << 2,
    TCPWM_EV_KEEPALIVE = 1u << 3,
    TCPWM_EV_ZERO_WINDOW_PROBE = 1u << 4,
    TCPWM_EV_CAPTURE_GAP = 1u << 5,   /* this packet's ACK covered unseen holes */
    TCPWM_EV_WINDOW_SHRINK = 1u << 6,
    TCPWM_EV_RIGHT_EDGE_RETREAT = 1u << 7,
    TCPWM_EV_ZERO_WINDOW = 1u << 8,
    TCPWM_EV_SCALE_UNKNOWN = 1u << 9,
    TCPWM_EV_CONN_OPENED = 1u << 10,  /* this packet started a connection */
    TCPWM_EV_CONN_CLOSED = 1u << 11,  /* this packet closed it (RST, 2nd FIN) */
    TCPWM_EV_HOLE_FORGOTTEN = 1u << 12,
};

/* Running totals of one flow (both directions). */
typedef struct tcpwm_flow_stats {
    uint32_t packets;
    uint32_t missing, duplicate, out_of_order, capture_gap;
    uint32_t window_shrink, right_edge_retreat, zero_window;
    uint32_t min_window;      /* smallest scaled window seen; valid if has_window */
    bool has_window;
    /* Payload bytes of the flow's analyzed segments, both directions, as
     * their headers give them (snap length does not cut them), every copy
     * counted: retransmissions too. Wraps at 2^48. */
    uint64_t bytes;
    /* Wireshark's analysis per flow (docs/semantics.md 7): retransmissions
     * by kind, as tcpwm_result.retx reports them packet by packet. */
    uint32_t retx_fast, retx_spurious, retx_other;
    /* ACK RTT of the flow (tcpwm_result.ack_rtt_ns), -1 before a sample:
     * the largest and an estimate of the median, both kept to 1/1024 of
     * their value (docs/semantics.md section 7, "Per-flow figures": 2 bytes each). */
    int64_t ack_rtt_max_ns, ack_rtt_median_ns;
} tcpwm_flow_stats;

/* A flow as the front ends see it. Endpoint 0 is the side that sent the
 * first packet the monitor saw of this connection (its SYN, usually). */
typedef struct tcpwm_flow_view {
    uint8_t family;
    uint8_t vlan_count;
    uint16_t vlan[2];
    uint8_t addr[2][16];
    uint16_t port[2];
    int64_t first_ns, last_ns; /* first_ns: whole seconds (the record keeps 4 bytes) */
    bool closed;
    tcpwm_flow_stats stats;
    /* The encapsulation context (tcpwm/encap.h, read it with
     * tcpwm_encap_next()); encap_len 0: not encapsulated. */
    uint16_t encap_len;
    uint8_t encap[TCPWM_ENCAP_CTX_MAX];
    /* The flow's service port with service ports configured, or one of: */
    int32_t service_port;
    /* The receive window endpoint i advertised last, scaled (docs/
     * semantics.md 5: the packets whose window is analyzed); -1 before
     * one was. */
    int64_t window[2];
} tcpwm_flow_view;

#define TCPWM_SERVICE_OTHER (-1) /* service ports configured, none of them this flow's */
#define TCPWM_SERVICE_NONE (-2)  /* no service ports configured */

/* What the monitor concluded about one packet. */
typedef struct tcpwm_result {
    bool analyzed;          /* false: not TCP, decode error, or out of scope */
    bool global;            /* both addresses global unicast */
    uint8_t dir;            /* 0: endpoint 0 -> 1, 1: the reverse */
    tcpwm_verdict verdict;
    uint32_t events;        /* TCPWM_EV_* */
    uint32_t gap_bytes;     /* MISSING: bytes skipped */
    uint32_t holes_filled;  /* OUT_OF_ORDER: holes touched */
    int64_t fill_ns;        /* OUT_OF_ORDER: age of the oldest hole touched */
    uint32_t capture_gaps;  /* CAPTURE_GAP: holes closed by this ACK */
    bool window_analyzed;   /* the fields below are meaningful */
    bool scale_known;
    uint8_t scale;          /* shift applied */
    uint32_t window;        /* scaled window */
    bool window_prev;       /* this direction had an analyzed window before */
    int64_t window_delta;   /* change from that window; 0 without window_prev */
    /* Wireshark's analysis (docs/semantics.md 7). */
    bool dup_ack;           /* tcp.analysis.duplicate_ack */
    bool reordered;         /* tcp.analysis.out_of_order */
    bool dsack;             /* tcp.options.sack.dsack */
    tcpwm_retx_kind retx;   /* retransmission kind, or TCPWM_RETX_NONE */
    int64_t ack_rtt_ns;     /* tcp.analysis.ack_rtt, or -1 */
    int64_t handshake_rtt_ns; /* tcp.analysis.initial_rtt, or -1 */
    const tcpwm_flow_view *flow; /* valid until the next call; NULL if !analyzed */
} tcpwm_result;

typedef struct tcpwm_monitor tcpwm_monitor;

/* Called when a flow leaves the table (idle expiry, the closed linger,
 * eviction at the cap, port reuse), with its final view; not called by
 * tcpwm_monitor_free (visit the remaining flows with foreach first). */
typedef void (*tcpwm_flow_end_cb)(void *ctx, const tcpwm_flow_view *flow);

/* 0 or TCPWM_EINVAL / TCPWM_ENOMEM. */
int tcpwm_monitor_new(const tcpwm_config *cfg, tcpwm_monitor **out);
void tcpwm_monitor_free(tcpwm_monitor *m);
void tcpwm_monitor_on_flow_end(tcpwm_monitor *m, tcpwm_flow_end_cb cb, void *ctx);

/* One captured frame: counts it, decodes it and, if it is an in-scope TCP
 * segment, analyzes it. A fragment goes to reassembly; the fragment that
 * completes a datagram is analyzed as its TCP segment, at its own capture
 * time, and the other fragments are not TCP packets. res may be NULL. */
void tcpwm_monitor_frame(tcpwm_monitor *m, const uint8_t *frame, size_t caplen, size_t wirelen,
                         int dlt, int64_t ts_ns, tcpwm_result *res);

/* The same, split for front ends with their own dissector: count a frame,
 * count a decode error, or hand in a decoded TCP segment (the caller has
 * counted its frame already). */
void tcpwm_monitor_count_frame(tcpwm_monitor *m);
void tcpwm_monitor_count_decode_error(tcpwm_monitor *m, tcpwm_decode_error e);
/* Counts the encapsulations a decoded frame crossed
 * (tcp_monitor_tunneled_packets_total), whatever its decode status; once
 * per frame, next to tcpwm_monitor_count_frame(). */
void tcpwm_monitor_count_tunnels(tcpwm_monitor *m, const tcpwm_segment *seg);
/* tcpwm_decode_frag() with the monitor's decode configuration (its tunnel
 * ports), for front ends that decode frames themselves. frag may be NULL
 * (then fragments cannot be reassembled). */
tcpwm_decode_status tcpwm_monitor_decode(const tcpwm_monitor *m, const uint8_t *frame,
                                         size_t caplen, size_t wirelen, int dlt,
                                         tcpwm_segment *seg, tcpwm_fragment *frag,
                                         tcpwm_decode_error *err);
/* A frame tcpwm_monitor_decode() found to be a fragment (status
 * TCPWM_DECODE_FRAGMENT): seg and frag as it filled them, seg->ts_ns the
 * frame's capture time; its frame is counted already. Reassembly state
 * changes here, so call it in capture order, when the frame's turn comes
 * (not when it is decoded ahead). true when this fragment completed a TCP
 * datagram: seg then holds its segment, to hand to tcpwm_monitor_segment()
 * as the frame's own. false otherwise (held, ignored, dropped, not TCP
 * after all, or a decode error, which it counts). */
bool tcpwm_monitor_fragment(tcpwm_monitor *m, tcpwm_segment *seg, const tcpwm_fragment *frag);
void tcpwm_monitor_segment(tcpwm_monitor *m, const tcpwm_segment *seg, tcpwm_result *res);

/* Prefetching, for front ends that decode a few frames ahead of their
 * analysis: the flow lookup's cache misses are the main cost of a busy
 * table. Call tcpwm_monitor_prefetch() when a frame is decoded (it builds
 * the flow key into the hint and starts fetching the hash bucket), then
 * tcpwm_monitor_prefetch_flow() a frame or two before handing the segment
 * to tcpwm_monitor_segment_hinted() (it starts fetching the flow), and,
 * optionally, tcpwm_monitor_prefetch_analysis() a frame after that (it
 * starts fetching what Wireshark's analysis of the flow will read, when
 * it runs in line). tcpwm_monitor_segment_hinted() uses the key from the
 * hint instead of building it again. Results are exactly those of
 * tcpwm_monitor_segment(); only timing changes. */
typedef struct tcpwm_hint {
    uint32_t hash;                /* of the key, for the bucket */
    uint32_t flow;                /* the flow the lookup will likely find; opaque */
    uint8_t side;                 /* the key side of the segment's source */
    _Alignas(8) uint8_t key[48];  /* the core's flow key; opaque */
} tcpwm_hint;
void tcpwm_monitor_prefetch(const tcpwm_monitor *m, const tcpwm_segment *seg, tcpwm_hint *hint);
void tcpwm_monitor_prefetch_flow(const tcpwm_monitor *m, tcpwm_hint *hint);
void tcpwm_monitor_prefetch_analysis(const tcpwm_monitor *m, const tcpwm_hint *hint);
/* seg and the hint tcpwm_monitor_prefetch() made from it, on the same
 * monitor. */
void tcpwm_monitor_segment_hinted(tcpwm_monitor *m, const tcpwm_segment *seg,
                                  const tcpwm_hint *hint, tcpwm_result *res);

/* Expire flows idle at capture time now_ns (segments do this as they
 * come; a live front end calls it when traffic stops). */
void tcpwm_monitor_advance(tcpwm_monitor *m, int64_t now_ns);

/* Current values; the pointer stays valid for the monitor's life. The
 * families of Wireshark's analysis (dup_ack ... rtt_untracked and the two
 * RTT histograms) and, with service ports, all per-flow fields
 * (tcpwm/metrics.h: the sum of the per-service blocks) are as of this
 * call: call it again to see later packets (the other fields are always
 * current). */
const tcpwm_metrics *tcpwm_monitor_metrics(const tcpwm_monitor *m);

/* Service ports (docs/semantics.md 8). The configured ports in ascending
 * order, their count as the result (0 without: *ports is then NULL). */
size_t tcpwm_monitor_service_ports(const tcpwm_monitor *m, const uint16_t **ports);
/* The per-service blocks: count + 1 of them, block i for the i-th port,
 * the last for "other"; only their per-flow fields are used (the others
 * stay 0). NULL without service ports. Valid for the monitor's life. */
const tcpwm_metrics *tcpwm_monitor_service_metrics(const tcpwm_monitor *m);

/* Visit every flow still in the table: closed flows, then open ones,
 * each least recently active first. */
void tcpwm_monitor_foreach_flow(const tcpwm_monitor *m, tcpwm_flow_end_cb cb, void *ctx);

/* Bytes the monitor holds now (flow table, hole pool, encapsulation
 * contexts, fragment reassembly, Wireshark's analysis), for the
 * benchmark. */
size_t tcpwm_monitor_memory(const tcpwm_monitor *m);

/* ---- Wireshark's analysis on another thread ----------------------------
 * Wireshark's analysis (docs/semantics.md 7) keeps state of its own and
 * needs from the rest only what each segment was and when its flow ends.
 * A front end with a core to spare can run it there: the monitor then
 * records that in jobs of 32 bytes, collected in batches, and hands each
 * full batch to the front end, which runs it on its other thread with
 * tcpwm_monitor_run_batch() — in the order handed, one batch at a time.
 * Counts and per-flow figures come out exactly as without deferring.
 *
 * While deferred: tcpwm_result's analysis fields are not filled (dup_ack
 * ... retx are false/NONE, the RTTs -1); tcpwm_monitor_metrics() and the
 * service blocks show the analysis' families as they were when deferring
 * began; views (tcpwm_result.flow, foreach) show no payload bytes,
 * retransmissions or ACK RTT; the flow-end callback runs on the thread
 * that runs the batches, with the flow's complete figures;
 * tcpwm_monitor_memory() and tcpwm_monitor_on_flow_end() must not be
 * called. So a front end that shows results per packet (-v, a dissector)
 * or snapshots metrics as it goes does not defer. */
typedef struct tcpwm_batch tcpwm_batch;

/* An empty batch (about 650 KiB), or NULL when memory is short. */
tcpwm_batch *tcpwm_batch_new(void);
void tcpwm_batch_free(tcpwm_batch *b);

/* Takes a full batch and gives back an empty one to fill next (it may
 * wait for one to be run). Never NULL. */
typedef tcpwm_batch *(*tcpwm_handoff_fn)(void *ctx, tcpwm_batch *full);

/* From now on, the analysis is deferred: jobs go into `empty`, full
 * batches to hand(ctx, full). false (nothing changes, `empty` is still
 * the caller's) in a build without the analysis (bench/analysis_cost.sh). */
bool tcpwm_monitor_defer_analysis(tcpwm_monitor *m, tcpwm_handoff_fn hand, void *ctx,
                                  tcpwm_batch *empty);

/* Stops deferring and returns the batch being filled (perhaps empty),
 * which must be run after every batch handed before it. Only once all
 * have run is the monitor whole again; until then, call nothing else on
 * it. NULL if it was not deferring. */
tcpwm_batch *tcpwm_monitor_undefer_analysis(tcpwm_monitor *m);

/* Runs batch b's jobs (on any one thread at a time) and empties it. Reads
 * and writes only the analysis' part of the monitor, and calls the
 * flow-end callback for the flows that ended. */
void tcpwm_monitor_run_batch(tcpwm_monitor *m, tcpwm_batch *b);

#endif
