/* SPDX-License-Identifier: MIT */
/* Wireshark's analysis with its own state and metrics (analyzer.h). */
#include "analyzer.h"

#include <stdlib.h>
#include <string.h>

#include "rttcode.h"

#define LINE 64u

/* n bytes on cache lines of their own, zeroed; NULL when memory is short. */
static void *lines_alloc(size_t n)
{
    size_t size = (n + LINE - 1u) / LINE * LINE;
    void *p = aligned_alloc(LINE, size);
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

tcpwm__analyzer *tcpwm__analyzer_new(uint32_t max_flows, uint32_t nblocks, uint32_t max_rtt_blocks)
{
    tcpwm__analyzer *a = lines_alloc(sizeof *a);
    if (a == NULL)
        return NULL;
    /* The slot pointers for the table's cap, made now: a chunk pointer
     * never moves, so the thread running jobs may read it while the
     * inserting thread makes the next. */
    uint64_t n = ((uint64_t)max_flows + TCPWM__POOL_CHUNK - 1u) >> TCPWM__POOL_CHUNK_SHIFT;
    a->nchunks = (uint32_t)(n ? n : 1u);
    a->chunks = calloc(a->nchunks, sizeof *a->chunks);
    a->blocks = lines_alloc((size_t)nblocks * sizeof *a->blocks);
    if (a->chunks == NULL || a->blocks == NULL) {
        free(a->chunks);
        free(a->blocks);
        free(a);
        return NULL;
    }
    a->nblocks = nblocks;
    /* Read at random for every segment, as the flow records are. */
    size_t chunk_bytes = TCPWM__POOL_CHUNK * sizeof(tcpwm__anflow);
    (void)tcpwm__region_reserve(&a->region, (size_t)a->nchunks * chunk_bytes, true);
    tcpwm__wsan_pool_init(&a->pool, max_rtt_blocks, TCPWM_RTT_SEGMENTS_PER_SIDE);
    return a;
}

void tcpwm__analyzer_free(tcpwm__analyzer *a)
{
    if (a == NULL)
        return;
    if (a->region.base != NULL)
        tcpwm__region_release(&a->region);
    else
        for (uint32_t k = 0; k < a->nchunks; k++)
            free(a->chunks[k]);
    free(a->chunks);
    free(a->blocks);
    tcpwm__wsan_pool_destroy(&a->pool);
    free(a);
}

size_t tcpwm__analyzer_memory(const tcpwm__analyzer *a)
{
    return sizeof *a + (size_t)a->nchunks * sizeof *a->chunks +
           (size_t)a->nblocks * sizeof *a->blocks +
           (size_t)a->made * TCPWM__POOL_CHUNK * sizeof(tcpwm__anflow) +
           tcpwm__wsan_pool_memory(&a->pool);
}

bool tcpwm__analyzer_reserve(tcpwm__analyzer *a, uint32_t slot)
{
    uint32_t k = slot >> TCPWM__POOL_CHUNK_SHIFT;
    if (k >= a->nchunks)
        return false;
    if (a->chunks[k] != NULL)
        return true;
    size_t chunk_bytes = TCPWM__POOL_CHUNK * sizeof(tcpwm__anflow);
    if (a->region.base != NULL) /* zero until written */
        a->chunks[k] = (tcpwm__anflow *)(void *)(a->region.base + (size_t)k * chunk_bytes);
    else
        a->chunks[k] = calloc(TCPWM__POOL_CHUNK, sizeof(tcpwm__anflow));
    if (a->chunks[k] == NULL)
        return false;
    a->made++;
    return true;
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

void tcpwm__analyzer_prefetch_slot(const tcpwm__analyzer *a, uint32_t slot)
{
    const char *p = (const char *)tcpwm__analyzer_at(a, slot);
    PREFETCH(p);
    PREFETCH(p + sizeof(tcpwm__anflow) - 1); /* a state may straddle two lines */
}

void tcpwm__analyzer_prefetch_pool(const tcpwm__analyzer *a, uint32_t slot)
{
    tcpwm__wsan_prefetch(&a->pool, &tcpwm__analyzer_at(a, slot)->wsan);
}

/* The flow's ACK RTT figures (rttcode.h): largest, median estimate. */
static void observe_flow_rtt(tcpwm__anflow *f, int64_t ns)
{
    uint16_t code = tcpwm__rtt_encode(ns);
    f->rtt_max = code > f->rtt_max ? code : f->rtt_max;
    if (f->rtt_n == 0)
        f->rtt_median = code;
    else
        f->rtt_median = tcpwm__rtt_median_step(f->rtt_median, f->rtt_n, code);
    if (f->rtt_n < TCPWM__RTT_N_MAX)
        f->rtt_n++;
}

void tcpwm__analyzer_segment(tcpwm__analyzer *a, const tcpwm__job *j, tcpwm_result *res)
{
    tcpwm__anflow *f = tcpwm__analyzer_at(a, j->slot);
    /* 48 bits of payload bytes: 256 TiB a flow before they wrap. */
    uint32_t lo = f->bytes_lo + j->in.len;
    if (lo < j->in.len)
        f->bytes_hi++;
    f->bytes_lo = lo;
    tcpwm__wsan_result wr;
    tcpwm__wsan_observe_in(&a->pool, &f->wsan, j->kind & TCPWM__JOB_DIR, &j->in, &wr);
    tcpwm_metrics *m = &a->blocks[j->service];
    if (res != NULL) {
        res->dup_ack = wr.dup_ack;
        res->reordered = wr.reordered;
        res->dsack = wr.dsack;
        res->retx = wr.retx;
        res->ack_rtt_ns = wr.ack_rtt_ns;
        res->handshake_rtt_ns = wr.handshake_rtt_ns;
    }
    if (wr.dup_ack)
        m->dup_ack++;
    if (wr.reordered)
        m->reordered++;
    if (wr.dsack)
        m->dsack++;
    if (wr.rtt_untracked)
        a->rtt_untracked++; /* the pool's cap: process-wide */
    if (wr.retx != TCPWM_RETX_NONE) {
        m->retransmissions[wr.retx - 1]++;
        f->retx[wr.retx - 1]++;
    }
    if (wr.ack_rtt_ns >= 0) {
        tcpwm_hist_rtt_observe(&m->ack_rtt, wr.ack_rtt_ns);
        observe_flow_rtt(f, wr.ack_rtt_ns);
    }
    if (wr.handshake_rtt_ns >= 0)
        tcpwm_hist_rtt_observe(&m->handshake_rtt, wr.handshake_rtt_ns);
}

void tcpwm__analyzer_stats(const tcpwm__analyzer *a, uint32_t slot, tcpwm_flow_stats *s)
{
    const tcpwm__anflow *f = tcpwm__analyzer_at(a, slot);
    s->bytes = (uint64_t)f->bytes_hi << 32 | f->bytes_lo;
    s->retx_fast = f->retx[TCPWM_RETX_FAST - 1];
    s->retx_spurious = f->retx[TCPWM_RETX_SPURIOUS - 1];
    s->retx_other = f->retx[TCPWM_RETX_OTHER - 1];
    s->ack_rtt_max_ns = f->rtt_max ? tcpwm__rtt_decode(f->rtt_max) : -1;
    s->ack_rtt_median_ns = f->rtt_max ? tcpwm__rtt_decode(f->rtt_median) : -1;
}

void tcpwm__analyzer_forget(tcpwm__analyzer *a, uint32_t slot)
{
    tcpwm__anflow *f = tcpwm__analyzer_at(a, slot);
    tcpwm__wsan_forget(&a->pool, &f->wsan);
    memset(f, 0, sizeof *f);
}

void tcpwm__analyzer_publish(const tcpwm__analyzer *a, tcpwm_metrics *blocks, tcpwm_metrics *total)
{
    for (uint32_t k = 0; k < a->nblocks; k++) {
        const tcpwm_metrics *from = &a->blocks[k];
        tcpwm_metrics *to = &blocks[k];
        to->dup_ack = from->dup_ack;
        memcpy(to->retransmissions, from->retransmissions, sizeof to->retransmissions);
        to->reordered = from->reordered;
        to->dsack = from->dsack;
        to->ack_rtt = from->ack_rtt;
        to->handshake_rtt = from->handshake_rtt;
    }
    total->rtt_untracked = a->rtt_untracked;
}
