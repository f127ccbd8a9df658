/* SPDX-License-Identifier: MIT */
/* The monitor's Wireshark analysis (wsan.h) with everything it writes:
 * its state per flow, its pool of outstanding segments and the metrics it
 * counts, apart from the rest of the monitor, fed by jobs of 32 bytes
 * (one per analyzed segment, one per flow that leaves the table). Kept
 * apart so that it can run on a thread of its own
 * (tcpwm_monitor_defer_analysis, monitor.h): the replay's analysis then
 * overlaps the flow table's, and the two share no memory but the jobs.
 *
 * Flows are the flow table's record indexes ("slots"): a slot's state is
 * zero when its flow starts, and a flow's end job zeroes it again. */
#ifndef TCPWM_ANALYZER_H
#define TCPWM_ANALYZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region.h"
#include "wsan.h"
#include "tcpwm/metrics.h"
#include "tcpwm/monitor.h"

/* A flow's analysis state and the figures of it --top and the flows
 * document show: retransmissions by kind, ACK RTT codes (rttcode.h) and
 * payload bytes (counted here, where every segment's length passes, to
 * keep the flow record within its budget, flow.h). 80 bytes. */
typedef struct tcpwm__anflow {
    tcpwm__wsan wsan;
    uint32_t retx[TCPWM_RETX_KINDS]; /* indexed by tcpwm_retx_kind - 1 */
    uint32_t bytes_lo;   /* payload bytes, 48 bits: bytes_lo + bytes_hi << 32 */
    uint16_t bytes_hi;
    uint16_t rtt_max;    /* ACK RTT codes (rttcode.h), 0: no sample yet */
    uint16_t rtt_median; /* the median estimate's code */
    uint8_t rtt_n;       /* ACK RTT samples so far, saturating at TCPWM__RTT_N_MAX */
} tcpwm__anflow;

_Static_assert(sizeof(tcpwm__anflow) == 80, "a flow's analysis state is 80 bytes");

/* Bits of tcpwm__job.kind. */
enum {
    TCPWM__JOB_DIR = 0x01,  /* a segment of the responder (side 1) */
    TCPWM__JOB_END = 0x02,  /* the flow leaves the table: report, then zero the slot */
    TCPWM__JOB_VIEW = 0x04, /* ... with its view at `view` in the batch, for the end callback */
};

typedef struct tcpwm__job {
    tcpwm__wsan_in in; /* the segment (not read for an end) */
    uint32_t slot;
    uint8_t kind;      /* TCPWM__JOB_* */
    uint8_t service;   /* the flow's metrics block (semantics 8) */
    uint16_t view;
} tcpwm__job;

_Static_assert(sizeof(tcpwm__job) == 32, "a job is half a cache line");

typedef struct tcpwm__analyzer {
    tcpwm__wsan_pool pool;
    tcpwm__anflow **chunks; /* TCPWM__POOL_CHUNK slots each, zeroed, made as the table grows */
    uint32_t nchunks;       /* room in `chunks`: enough for the table's cap */
    uint32_t made;          /* chunks allocated */
    tcpwm__region region;   /* the chunks' range, if reserved (region.h), else calloc'd */
    /* The analysis' metrics (only its fields are used): one block per
     * service block of the monitor, and the process-wide count of
     * segments the pool could not hold. */
    tcpwm_metrics *blocks;
    uint32_t nblocks;
    uint64_t rtt_untracked;
} tcpwm__analyzer;

/* max_flows: the table's cap; nblocks: the monitor's metrics blocks.
 * NULL when memory is short. The analyzer and its blocks start on cache
 * lines of their own: when it runs on another thread, what that thread
 * writes for every segment (the pool's free list, the counters) must not
 * share a line with what the monitor's thread writes for every packet. */
tcpwm__analyzer *tcpwm__analyzer_new(uint32_t max_flows, uint32_t nblocks, uint32_t max_rtt_blocks);
void tcpwm__analyzer_free(tcpwm__analyzer *a);
size_t tcpwm__analyzer_memory(const tcpwm__analyzer *a);

/* Makes sure slot i has its state: called by the thread that inserts
 * flows, before any job names the slot. false when memory is short. */
bool tcpwm__analyzer_reserve(tcpwm__analyzer *a, uint32_t slot);

static inline tcpwm__anflow *tcpwm__analyzer_at(const tcpwm__analyzer *a, uint32_t slot)
{
    return &a->chunks[slot >> TCPWM__POOL_CHUNK_SHIFT][slot & (TCPWM__POOL_CHUNK - 1u)];
}

/* Starts fetching what a job for the slot will read: its state, then,
 * once that is in, the pool's records (call both a few jobs apart). */
void tcpwm__analyzer_prefetch_slot(const tcpwm__analyzer *a, uint32_t slot);
void tcpwm__analyzer_prefetch_pool(const tcpwm__analyzer *a, uint32_t slot);

/* One segment job: analyzes it, counts it and, if res is not NULL, fills
 * res's analysis fields (dup_ack ... handshake_rtt_ns). */
void tcpwm__analyzer_segment(tcpwm__analyzer *a, const tcpwm__job *j, tcpwm_result *res);

/* The flow's figures from here into *s (bytes, retx_*, ack_rtt_*). */
void tcpwm__analyzer_stats(const tcpwm__analyzer *a, uint32_t slot, tcpwm_flow_stats *s);

/* The flow in slot left: its state goes back to zero. */
void tcpwm__analyzer_forget(tcpwm__analyzer *a, uint32_t slot);

/* Writes the analysis' fields of the metrics into the monitor's blocks
 * (blocks[k] from the analyzer's block k) and total (the process-wide
 * ones). */
void tcpwm__analyzer_publish(const tcpwm__analyzer *a, tcpwm_metrics *blocks, tcpwm_metrics *total);

#endif
