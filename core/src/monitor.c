/* SPDX-License-Identifier: MIT */
/* The monitor glues decode, scope, the flow table and the TCP analysis,
 * and keeps the metrics. Flow life cycle: docs/semantics.md section 3. */
#include "tcpwm/monitor.h"

#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h> /* job_put() */
#endif

#include "analyzer.h"
#include "ctxtab.h"
#include "decode_int.h"
#include "flow.h"
#include "holes.h"
#include "reasm.h"
#include "table.h"
#include "tcp.h"
#include "tcpwm/err.h"
#include "tcpwm/scope.h"

#define LRU_TICK_SHIFT 30

/* bench/analysis_cost.sh's other build compiles Wireshark's analysis out:
 * no jobs, no analysis state touched (per-flow bytes, retransmissions
 * and RTTs then stay 0), no deferring. */
#if defined(TCPWM_BENCH_NO_ANALYSIS)
#define ANALYSIS_ON 0
#else
#define ANALYSIS_ON 1
#endif

struct tcpwm_monitor {
    tcpwm_config cfg;
    tcpwm__table table;
    tcpwm__hole_pool holes;
    tcpwm__ctxtab ctx; /* encapsulation contexts of the flows in the table */
    tcpwm__reasm reasm; /* fragmented datagrams in progress */
    tcpwm__analyzer *an; /* Wireshark's analysis: its state and its metrics */
    tcpwm__analysis analysis;
    tcpwm_metrics metrics;
    int64_t now_ns;  /* latest capture time seen: the clock never goes back */
    bool have_now;
    /* Advancing the clock scans the expiry lists only past this time. It
     * is never later than the deadline (last_ns + idle timeout or linger)
     * of either list's tail, the flows the scan looks at: deadlines only
     * move later as flows see packets, a flow that starts or closes
     * lowers it to its own, and a tail leaving its place resets it to 0.
     * The scan drops exactly what a scan at every packet would. */
    int64_t expiry_due;
    tcpwm_flow_end_cb end_cb;
    void *end_ctx;
    tcpwm_flow_view view; /* what tcpwm_result.flow points at */
    /* Service ports (docs/semantics.md 8): the ports, ascending, and one
     * block of per-flow metrics per port and for "other" (the last). A
     * flow's `service` indexes `blocks`, which is &metrics itself without
     * service ports: the packet path picks its block without a branch. */
    uint32_t n_services;
    uint16_t services[TCPWM_MAX_SERVICE_PORTS];
    tcpwm_metrics *blocks;
    /* Deferred analysis (monitor.h): the batch being filled, NULL when
     * the analysis runs here, and where full batches go. */
    tcpwm_batch *batch;
    tcpwm_handoff_fn hand;
    void *hand_ctx;
};

/* A flow's record, its links and its analysis state within the 240 bytes
 * of flow.h's budget. */
_Static_assert(sizeof(tcpwm__flow) + sizeof(tcpwm__links) + sizeof(tcpwm__anflow) <= 240,
               "a flow's record, links and analysis state fit the per-flow budget");

/* A batch: jobs and the views of flows that ended (for the end
 * callback). Handed over when either is full. */
#define BATCH_JOBS 16384u
#define BATCH_VIEWS 256u
struct tcpwm_batch {
    uint32_t njobs, nviews;
    _Alignas(64) tcpwm__job job[BATCH_JOBS];
    tcpwm_flow_view view[BATCH_VIEWS];
};
_Static_assert(BATCH_VIEWS <= UINT16_MAX + 1u, "tcpwm__job.view indexes the views");

static const char *const verdict_labels[] = {
#define TCPWM__VD_LABEL(name, label) label,
    TCPWM_VERDICT_MAP(TCPWM__VD_LABEL)
#undef TCPWM__VD_LABEL
};

const char *tcpwm_verdict_label(tcpwm_verdict v)
{
    return (unsigned)v < TCPWM_V__COUNT ? verdict_labels[v] : NULL;
}

void tcpwm_config_default(tcpwm_config *c)
{
    c->scope = TCPWM_SCOPE_GLOBAL;
    c->max_flows = TCPWM_DEFAULT_MAX_FLOWS;
    c->max_holes = TCPWM_DEFAULT_MAX_HOLES;
    /* Four holes per flow on average at the cap: 96 MiB at most. */
    c->max_holes_total = TCPWM_DEFAULT_MAX_FLOWS * 4u;
    c->idle_timeout_ns = TCPWM_DEFAULT_IDLE_NS;
    c->closed_linger_ns = TCPWM_DEFAULT_LINGER_NS;
    c->hash_seed = 0x6a09e667f3bcc908ULL;
    tcpwm_decode_config_default(&c->decode);
    c->max_fragments = TCPWM_DEFAULT_MAX_FRAGMENTS;
    c->max_rtt_blocks = TCPWM_DEFAULT_MAX_RTT_BLOCKS;
    c->n_service_ports = 0;
    memset(c->service_ports, 0, sizeof c->service_ports);
}

static int cmp_port(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

/* The configured service ports, sorted into m; TCPWM_EINVAL for too many
 * or a duplicate. */
static int set_services(tcpwm_monitor *m, const tcpwm_config *cfg)
{
    m->blocks = &m->metrics;
    if (cfg->n_service_ports == 0)
        return TCPWM_OK;
    if (cfg->n_service_ports > TCPWM_MAX_SERVICE_PORTS)
        return TCPWM_EINVAL;
    m->n_services = cfg->n_service_ports;
    memcpy(m->services, cfg->service_ports, m->n_services * sizeof m->services[0]);
    qsort(m->services, m->n_services, sizeof m->services[0], cmp_port);
    for (uint32_t i = 1; i < m->n_services; i++)
        if (m->services[i] == m->services[i - 1])
            return TCPWM_EINVAL;
    m->blocks = calloc(m->n_services + 1u, sizeof *m->blocks);
    return m->blocks ? TCPWM_OK : TCPWM_ENOMEM;
}

/* Block index of a port: its place in the list, or n_services ("other"). */
static uint8_t service_of(const tcpwm_monitor *m, uint16_t port)
{
    uint32_t lo = 0, hi = m->n_services;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (m->services[mid] < port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint8_t)(lo < m->n_services && m->services[lo] == port ? lo : m->n_services);
}

/* Semantics 8: a connection's service port is the port its SYN went to;
 * without the SYN (the first packet seen is something else), whichever of
 * its ports is listed, the lower when both are; else "other". A SYN-ACK
 * first (the SYN not captured) comes from the port the SYN went to. */
static uint8_t service_of_flow(const tcpwm_monitor *m, const tcpwm_segment *s)
{
    if (m->n_services == 0)
        return 0;
    uint8_t syn = s->flags & (TCPWM_SYN | TCPWM_ACK | TCPWM_RST);
    if (syn == TCPWM_SYN)
        return service_of(m, s->dport);
    if (syn == (TCPWM_SYN | TCPWM_ACK))
        return service_of(m, s->sport);
    uint16_t lo = s->sport < s->dport ? s->sport : s->dport;
    uint16_t hi = s->sport < s->dport ? s->dport : s->sport;
    uint8_t k = service_of(m, lo);
    return k != m->n_services ? k : service_of(m, hi);
}

/* A fragment's reassembly context: the VLAN IDs (their count, then both,
 * big-endian) and the encapsulation context, the bytes that keep flows
 * apart (docs/semantics.md 1: the same datagram in two tunnels is two). */
#define FRAG_CTX_MAX (5 + TCPWM_ENCAP_CTX_MAX)

/* The reassembly counts, copied into the metrics (a value type) whenever
 * they may have changed: the outcomes map one to one. */
_Static_assert((int)TCPWM_FRAG__COUNT == (int)TCPWM__REASM_OUTCOME_COUNT,
               "tcp_monitor_fragments_total has the reassembly's outcomes");
_Static_assert((int)TCPWM_FRAG_REASSEMBLED == (int)TCPWM__REASM_REASSEMBLED &&
                   (int)TCPWM_FRAG_TOO_MANY_RANGES == (int)TCPWM__REASM_TOO_MANY_RANGES,
               "in the same order");

int tcpwm_monitor_new(const tcpwm_config *cfg, tcpwm_monitor **out)
{
    *out = NULL;
    if (cfg->n_service_ports > TCPWM_MAX_SERVICE_PORTS || cfg->max_holes == 0 || cfg->max_holes > 255 || cfg->idle_timeout_ns <= 0 ||
        cfg->closed_linger_ns < 0 || (cfg->scope != TCPWM_SCOPE_GLOBAL && cfg->scope != TCPWM_SCOPE_ALL))
        return TCPWM_EINVAL;
    tcpwm_monitor *m = calloc(1, sizeof(*m));
    if (!m)
        return TCPWM_ENOMEM;
    m->cfg = *cfg;
    int err = set_services(m, cfg);
    if (err) {
        if (m->blocks != &m->metrics)
            free(m->blocks);
        free(m);
        return err;
    }
    err = tcpwm__table_init(&m->table, cfg->max_flows, cfg->hash_seed);
    if (err) {
        if (m->blocks != &m->metrics)
            free(m->blocks);
        free(m);
        return err;
    }
    /* A seed of its own, so that the two tables' hashes do not correlate. */
    err = tcpwm__reasm_init(&m->reasm,
                            cfg->max_fragments ? cfg->max_fragments : TCPWM_DEFAULT_MAX_FRAGMENTS,
                            TCPWM__REASM_DEFAULT_TIMEOUT_NS, FRAG_CTX_MAX,
                            cfg->hash_seed ^ 0x3c6ef372fe94f82bULL);
    if (err) {
        tcpwm__table_destroy(&m->table);
        if (m->blocks != &m->metrics)
            free(m->blocks);
        free(m);
        return err;
    }
    uint32_t rtt_max = cfg->max_rtt_blocks ? cfg->max_rtt_blocks : TCPWM_DEFAULT_MAX_RTT_BLOCKS;
    m->an = tcpwm__analyzer_new(cfg->max_flows, m->n_services + 1u, rtt_max);
    if (m->an == NULL) {
        err = TCPWM_ENOMEM;
        tcpwm__reasm_destroy(&m->reasm);
        tcpwm__table_destroy(&m->table);
        if (m->blocks != &m->metrics)
            free(m->blocks);
        free(m);
        return err;
    }
    tcpwm__holes_init(&m->holes, cfg->max_holes_total);
    tcpwm__ctxtab_init(&m->ctx, cfg->hash_seed);
    m->analysis.holes = &m->holes;
    m->analysis.metrics = &m->metrics;
    m->analysis.fm = &m->metrics;
    m->analysis.max_holes = cfg->max_holes;
    m->expiry_due = INT64_MAX;
    *out = m;
    return TCPWM_OK;
}

void tcpwm_monitor_free(tcpwm_monitor *m)
{
    if (!m)
        return;
    tcpwm__table_destroy(&m->table);
    tcpwm__holes_destroy(&m->holes);
    tcpwm__ctxtab_destroy(&m->ctx);
    tcpwm__reasm_destroy(&m->reasm);
    tcpwm__analyzer_free(m->an);
    if (m->blocks != &m->metrics)
        free(m->blocks);
    free(m);
}

void tcpwm_monitor_on_flow_end(tcpwm_monitor *m, tcpwm_flow_end_cb cb, void *ctx)
{
    m->end_cb = cb;
    m->end_ctx = ctx;
}

/* The analysis' metrics into the monitor's blocks, unless it runs on
 * another thread now (monitor.h). m->blocks and analysis.metrics are the
 * monitor's own non-const pointers. */
static void publish_analysis(const tcpwm_monitor *m)
{
    if (m->batch == NULL)
        tcpwm__analyzer_publish(m->an, m->blocks, m->analysis.metrics);
}

const tcpwm_metrics *tcpwm_monitor_metrics(const tcpwm_monitor *m)
{
    publish_analysis(m);
    if (m->n_services != 0) {
        /* The per-flow totals are the blocks' sum: summed here, when
         * asked, rather than counted twice per packet. analysis.metrics is
         * the monitor's own (non-const) pointer to these totals. */
        tcpwm_metrics *t = m->analysis.metrics;
        tcpwm_metrics_clear_per_flow(t);
        for (uint32_t i = 0; i <= m->n_services; i++)
            tcpwm_metrics_add_per_flow(t, &m->blocks[i]);
    }
    return &m->metrics;
}

size_t tcpwm_monitor_service_ports(const tcpwm_monitor *m, const uint16_t **ports)
{
    *ports = m->n_services ? m->services : NULL;
    return m->n_services;
}

const tcpwm_metrics *tcpwm_monitor_service_metrics(const tcpwm_monitor *m)
{
    publish_analysis(m);
    return m->n_services ? m->blocks : NULL;
}

size_t tcpwm_monitor_memory(const tcpwm_monitor *m)
{
    size_t blocks = m->n_services ? (m->n_services + 1u) * sizeof(tcpwm_metrics) : 0;
    return sizeof(*m) + blocks + tcpwm__table_memory(&m->table) + tcpwm__holes_memory(&m->holes) +
           tcpwm__ctxtab_memory(&m->ctx) + tcpwm__reasm_memory(&m->reasm) +
           tcpwm__analyzer_memory(m->an);
}

/* The front ends' picture of flow i, endpoint 0 being the initiator. */
static void make_view(const tcpwm_monitor *m, uint32_t i, tcpwm_flow_view *v)
{
    const tcpwm__flow *f = tcpwm__table_at(&m->table, i);
    const tcpwm__ctxtab *ctx = &m->ctx;
    for (unsigned k = 0; k < 2; k++) /* half[0] is endpoint 0's, the initiator's */
        v->window[k] = (f->half[k].flags & TCPWM__H_WIN) ? (int64_t)f->half[k].win : -1;
    if (m->n_services == 0)
        v->service_port = TCPWM_SERVICE_NONE;
    else if (f->service < m->n_services)
        v->service_port = m->services[f->service];
    else
        v->service_port = TCPWM_SERVICE_OTHER;
    v->encap_len = 0;
    if (f->key.encap != 0) {
        uint16_t n;
        const uint8_t *b = tcpwm__ctxtab_bytes(ctx, f->key.encap, &n);
        if (b && n <= sizeof v->encap) {
            memcpy(v->encap, b, n);
            v->encap_len = n;
        }
    }
    unsigned a = f->init_side, b = a ^ 1u;
    v->family = f->key.family;
    v->vlan_count = f->key.vlan_count;
    v->vlan[0] = f->key.vlan[0];
    v->vlan[1] = f->key.vlan[1];
    memcpy(v->addr[0], f->key.addr[a], 16);
    memcpy(v->addr[1], f->key.addr[b], 16);
    v->port[0] = f->key.port[a];
    v->port[1] = f->key.port[b];
    v->first_ns = (int64_t)f->first_s * 1000000000;
    v->last_ns = f->last_ns;
    v->closed = f->closed != 0;
    const tcpwm__fstats *fs = &f->stats;
    tcpwm_flow_stats *vs = &v->stats;
    vs->packets = fs->packets;
    vs->missing = fs->missing;
    vs->duplicate = fs->duplicate;
    vs->out_of_order = fs->out_of_order;
    vs->capture_gap = fs->capture_gap;
    vs->window_shrink = fs->window_shrink;
    vs->right_edge_retreat = fs->right_edge_retreat;
    vs->zero_window = fs->zero_window;
    vs->has_window = fs->min_window != TCPWM__NO_WINDOW;
    vs->min_window = vs->has_window ? fs->min_window : 0;
    if (m->batch == NULL) {
        tcpwm__analyzer_stats(m->an, i, vs);
    } else { /* on another thread now (monitor.h) */
        vs->bytes = 0;
        vs->retx_fast = vs->retx_spurious = vs->retx_other = 0;
        vs->ack_rtt_max_ns = vs->ack_rtt_median_ns = -1;
    }
}

/* The batch being filled is full: hand it over. */
static void hand_over(tcpwm_monitor *m)
{
#if defined(__x86_64__) && defined(__SSE2__)
    _mm_sfence(); /* the jobs' non-temporal stores before the batch leaves */
#endif
    m->batch = m->hand(m->hand_ctx, m->batch);
    m->batch->njobs = m->batch->nviews = 0;
}

static tcpwm__job *next_job(tcpwm_monitor *m)
{
    if (m->batch->njobs == BATCH_JOBS)
        hand_over(m);
    return &m->batch->job[m->batch->njobs++];
}

/* Segment s's job into a batch. The batch goes to another core and this
 * core writes one every packet: on x86-64 the job is two non-temporal
 * 16-byte stores of words made in registers, so the stream bypasses this
 * core's caches instead of pushing out the flow records fetched ahead for
 * the next packets (and is not first built in memory and read back,
 * which stalled on the store-to-load forwarding of its small fields). */
static inline void job_put(tcpwm__job *to, const tcpwm_segment *s, uint8_t dsack, uint32_t slot,
                           uint8_t kind, uint8_t service)
{
#if defined(__x86_64__) && defined(__SSE2__)
    __m128i *w = (__m128i *)(void *)to;
    _mm_stream_si128(w, _mm_set_epi64x((long long)((uint64_t)s->seq | (uint64_t)s->ack << 32),
                                       s->ts_ns));
    _mm_stream_si128(w + 1, _mm_set_epi64x((long long)((uint64_t)slot | (uint64_t)kind << 32 |
                                                       (uint64_t)service << 40),
                                           (long long)((uint64_t)s->payload_len |
                                                       (uint64_t)s->window << 32 |
                                                       (uint64_t)s->flags << 48 |
                                                       (uint64_t)dsack << 56)));
#else
    to->in.ts_ns = s->ts_ns;
    to->in.seq = s->seq;
    to->in.ack = s->ack;
    to->in.len = s->payload_len;
    to->in.window = s->window;
    to->in.flags = s->flags;
    to->in.dsack = dsack;
    to->slot = slot;
    to->kind = kind;
    to->service = service;
    to->view = 0;
#endif
}
/* job_put()'s four words: the job's layout on a little-endian machine. */
_Static_assert(offsetof(tcpwm__job, in.ts_ns) == 0 && offsetof(tcpwm__job, in.seq) == 8 &&
                   offsetof(tcpwm__job, in.ack) == 12 && offsetof(tcpwm__job, in.len) == 16 &&
                   offsetof(tcpwm__job, in.window) == 20 && offsetof(tcpwm__job, in.flags) == 22 &&
                   offsetof(tcpwm__job, in.dsack) == 23 && offsetof(tcpwm__job, slot) == 24 &&
                   offsetof(tcpwm__job, kind) == 28 && offsetof(tcpwm__job, service) == 29 &&
                   offsetof(tcpwm__job, view) == 30,
               "job_put() writes the job as four words");

/* Flow i leaves the table: the end callback sees it, and its analysis
 * state goes (now, or as a job in its turn). */
static void flow_leaves(tcpwm_monitor *m, uint32_t i)
{
    if (m->batch == NULL) {
        if (m->end_cb) {
            tcpwm_flow_view v;
            make_view(m, i, &v);
            m->end_cb(m->end_ctx, &v);
        }
        if (ANALYSIS_ON)
            tcpwm__analyzer_forget(m->an, i);
        return;
    }
    if (m->end_cb && m->batch->nviews == BATCH_VIEWS)
        hand_over(m);
    tcpwm__job *j = next_job(m);
    j->slot = i;
    j->kind = TCPWM__JOB_END;
    if (m->end_cb) {
        j->kind |= TCPWM__JOB_VIEW;
        j->view = (uint16_t)m->batch->nviews;
        make_view(m, i, &m->batch->view[m->batch->nviews++]);
    }
}

/* Flow i is about to leave its place in an LRU list. If it is a tail,
 * the next flow in line may be due earlier than expiry_due says (order
 * within a tick is loose): the next advance scans the tails again. */
static void leaving_place(tcpwm_monitor *m, uint32_t i)
{
    if (i == m->table.open.tail || i == m->table.closed.tail)
        m->expiry_due = 0;
}

/* Takes flow i out of the table. `why` < 0: it leaves quietly (closed and
 * lingered out); otherwise the eviction reason counted. */
static void drop_flow(tcpwm_monitor *m, uint32_t i, int why)
{
    tcpwm__flow *f = tcpwm__table_at(&m->table, i);
    flow_leaves(m, i);
    if (!f->closed)
        m->metrics.active_connections--;
    if (why >= 0)
        m->metrics.evicted[why]++;
    tcpwm__holes_clear(&m->holes, &f->half[0]);
    tcpwm__holes_clear(&m->holes, &f->half[1]);
    leaving_place(m, i);
    uint16_t encap = f->key.encap;
    tcpwm__table_remove(&m->table, i);
    tcpwm__ctxtab_unref(&m->ctx, encap);
}

/* The time after which a flow last active at `last` has been idle longer
 * than `span`; times are in [0, 2^62], spans never negative. */
static int64_t deadline(int64_t last, int64_t span)
{
    return span > INT64_MAX - last ? INT64_MAX : last + span;
}

/* A flow's deadline is now `d`: the next expiry check may not be later. */
static void expiry_at(tcpwm_monitor *m, int64_t d)
{
    if (d < m->expiry_due)
        m->expiry_due = d;
}

/* Drops the flows whose deadline has passed at m->now_ns and sets
 * expiry_due to the next one. */
static void expire(tcpwm_monitor *m)
{
    int64_t now = m->now_ns;
    /* The list tails are the least recently active: stop at the first one
     * still young enough. */
    int64_t due = INT64_MAX;
    for (;;) {
        uint32_t i = m->table.open.tail;
        if (i == TCPWM__NIL)
            break;
        int64_t last = tcpwm__table_at(&m->table, i)->last_ns;
        if (now - last <= m->cfg.idle_timeout_ns) {
            due = deadline(last, m->cfg.idle_timeout_ns);
            break;
        }
        drop_flow(m, i, TCPWM_EVICT_IDLE);
    }
    for (;;) {
        uint32_t i = m->table.closed.tail;
        if (i == TCPWM__NIL)
            break;
        int64_t last = tcpwm__table_at(&m->table, i)->last_ns;
        if (now - last <= m->cfg.closed_linger_ns) {
            int64_t d = deadline(last, m->cfg.closed_linger_ns);
            due = d < due ? d : due;
            break;
        }
        drop_flow(m, i, -1);
    }
    m->expiry_due = due;
}

static void sync_fragment_counts(tcpwm_monitor *m)
{
    const tcpwm__reasm_counts *c = &m->reasm.counts;
    for (unsigned k = 0; k < TCPWM_FRAG__COUNT; k++)
        m->metrics.fragments[k] = c->outcome[k];
    m->metrics.fragments_ignored[TCPWM_FRAG_IGN_DUPLICATE] = c->duplicate;
    m->metrics.fragments_ignored[TCPWM_FRAG_IGN_MALFORMED] = c->malformed;
    m->metrics.fragments_ignored[TCPWM_FRAG_IGN_DISCARDED] = c->discarded;
}

/* Datagrams in reassembly time out as capture time moves, fragments or
 * not (their own clock only moves with fragments). */
static void expire_fragments(tcpwm_monitor *m)
{
    if (m->reasm.count != 0) {
        tcpwm__reasm_expire(&m->reasm, m->now_ns);
        sync_fragment_counts(m);
    }
}

/* Per packet: the clock, and the expiry lists only when something may be
 * due. Inlined into the packet path. true if flows may have left. */
static inline bool advance_clock(tcpwm_monitor *m, int64_t now_ns)
{
    if (now_ns > TCPWM_MAX_TIME_NS)
        now_ns = TCPWM_MAX_TIME_NS;
    if (now_ns < 0)
        now_ns = 0;
    if (!m->have_now || now_ns > m->now_ns) {
        m->now_ns = now_ns;
        m->have_now = true;
    }
    if (m->reasm.count != 0)
        expire_fragments(m);
    if (m->now_ns <= m->expiry_due)
        return false;
    expire(m);
    return true;
}

void tcpwm_monitor_advance(tcpwm_monitor *m, int64_t now_ns)
{
    (void)advance_clock(m, now_ns);
}

/* Room for one more flow: the least recently active closed flow goes
 * first, quietly, since it was leaving anyway; else the least recently
 * active open one, which counts as an eviction. */
static void make_room(tcpwm_monitor *m)
{
    while (m->table.count >= m->table.max) {
        if (m->table.closed.tail != TCPWM__NIL)
            drop_flow(m, m->table.closed.tail, -1);
        else
            drop_flow(m, m->table.open.tail, TCPWM_EVICT_MAX_FLOWS);
    }
}

static void flow_start(tcpwm_monitor *m, tcpwm__flow *f, uint8_t side, const tcpwm_segment *s,
                       tcpwm_result *res)
{
    f->init_side = side & 1u;
    f->global = res->global ? 1u : 0u; /* the key decides: it never changes */
    /* Whole seconds: the record has 4 bytes for it (flow.h). */
    int64_t first_s = m->now_ns / 1000000000;
    f->first_s = first_s < 0 ? 0 : first_s > UINT32_MAX ? UINT32_MAX : (uint32_t)first_s;
    f->stats.min_window = TCPWM__NO_WINDOW;
    f->service = service_of_flow(m, s);
    expiry_at(m, deadline(m->now_ns, m->cfg.idle_timeout_ns));
    m->blocks[f->service].conn_opened++;
    m->metrics.active_connections++;
    res->events |= TCPWM_EV_CONN_OPENED;
}

/* Semantics 3, port reuse: a SYN without ACK whose number differs from
 * the SYN seen earlier on that side (or on a side seen without one)
 * begins a new connection — Wireshark's rule for reused ports. */
static bool is_new_connection(const tcpwm__flow *f, uint8_t side, const tcpwm_segment *s)
{
    if ((s->flags & (TCPWM_SYN | TCPWM_ACK | TCPWM_RST)) != TCPWM_SYN)
        return false;
    const tcpwm__half *h = &f->half[side ^ f->init_side];
    if (!(h->flags & (TCPWM__H_SEEN | TCPWM__H_SYN)))
        return false;
    return !(h->flags & TCPWM__H_SYN) || h->syn_seq != s->seq;
}

/* Ends the connection in flow i and starts a new one on the same record,
 * at the head of the open list. Returns the (same) index. */
static uint32_t restart_flow(tcpwm_monitor *m, uint32_t i, uint8_t side, const tcpwm_segment *s,
                             tcpwm_result *res)
{
    tcpwm__flow *f = tcpwm__table_at(&m->table, i);
    /* Wireshark starts a new stream here: its analysis starts afresh. */
    flow_leaves(m, i);
    if (!f->closed) {
        m->blocks[f->service].conn_closed++;
        m->metrics.active_connections--;
    }
    tcpwm__holes_clear(&m->holes, &f->half[0]);
    tcpwm__holes_clear(&m->holes, &f->half[1]);
    tcpwm__key k = f->key;
    leaving_place(m, i);
    tcpwm__table_remove(&m->table, i);
    i = tcpwm__table_insert(&m->table, &k); /* takes the record just freed */
    flow_start(m, tcpwm__table_at(&m->table, i), side, s, res);
    return i;
}

static void close_flow(tcpwm_monitor *m, uint32_t i, tcpwm_result *res)
{
    tcpwm__flow *f = tcpwm__table_at(&m->table, i);
    f->closed = 1;
    leaving_place(m, i);
    tcpwm__table_move_closed(&m->table, i);
    expiry_at(m, deadline(m->now_ns, m->cfg.closed_linger_ns));
    m->blocks[f->service].conn_closed++;
    m->metrics.active_connections--;
    res->events |= TCPWM_EV_CONN_CLOSED;
}

void tcpwm_monitor_count_frame(tcpwm_monitor *m) { m->metrics.packets++; }

void tcpwm_monitor_count_decode_error(tcpwm_monitor *m, tcpwm_decode_error e)
{
    if ((unsigned)e < TCPWM_DE__COUNT)
        m->metrics.decode_errors[e]++;
}

_Static_assert(sizeof(tcpwm__key) <= sizeof(((tcpwm_hint *)0)->key),
               "tcpwm_hint.key holds a tcpwm__key");

void tcpwm_monitor_count_tunnels(tcpwm_monitor *m, const tcpwm_segment *s)
{
    /* Over the bits that are set, lowest first: nothing for a frame
     * outside tunnels (issue 9: tunnels cost the plain path nothing).
     * Bits past the known kinds (a front end's own segment) are ignored. */
    const unsigned known = (1u << TCPWM_ENCAP__COUNT) - 1u;
    for (unsigned b = s->encap_kinds & known; b != 0; b &= b - 1u) {
        unsigned k = 0;
        while (!(b & (1u << k)))
            k++;
        m->metrics.tunneled[k]++;
    }
}

tcpwm_decode_status tcpwm_monitor_decode(const tcpwm_monitor *m, const uint8_t *frame,
                                         size_t caplen, size_t wirelen, int dlt,
                                         tcpwm_segment *seg, tcpwm_fragment *frag,
                                         tcpwm_decode_error *err)
{
    return tcpwm_decode_frag(&m->cfg.decode, frame, caplen, wirelen, dlt, seg, frag, err);
}

bool tcpwm_monitor_fragment(tcpwm_monitor *m, tcpwm_segment *seg, const tcpwm_fragment *frag)
{
    uint8_t ctx[FRAG_CTX_MAX];
    size_t n = 0;
    ctx[n++] = seg->vlan_count;
    for (unsigned k = 0; k < 2; k++) {
        ctx[n++] = (uint8_t)(seg->vlan[k] >> 8);
        ctx[n++] = (uint8_t)seg->vlan[k];
    }
    size_t elen = seg->encap_len <= TCPWM_ENCAP_CTX_MAX ? seg->encap_len : TCPWM_ENCAP_CTX_MAX;
    memcpy(ctx + n, seg->encap, elen);
    n += elen;

    tcpwm__frag f = {
        .ctx = ctx,
        .ctx_len = (uint16_t)n,
        .family = seg->family,
        .proto = frag->proto,
        .id = frag->id,
        .offset = frag->offset,
        .len = frag->len,
        .hdr_len = frag->hdr_len,
        .more = frag->more,
        .data = frag->head,
        .caplen = frag->head_len,
        .ts_ns = seg->ts_ns,
    };
    memcpy(f.src, seg->src, sizeof f.src);
    memcpy(f.dst, seg->dst, sizeof f.dst);
    tcpwm__reasm_out out;
    tcpwm__reasm_status st = tcpwm__reasm_add(&m->reasm, &f, &out);
    sync_fragment_counts(m);
    if (st != TCPWM__REASM_COMPLETE)
        return false;

    /* The datagram's TCP header, read as a frame's; the segment is the
     * completing fragment's, at its capture time (as Wireshark shows it). */
    tcpwm_decode_error err;
    tcpwm_decode_status ds = tcpwm__decode_reassembled(seg->family, out.proto, out.hdr,
                                                       out.hdr_caplen, out.total, seg, &err);
    seg->ts_ns = out.ts_ns;
    if (ds == TCPWM_DECODE_ERROR)
        tcpwm_monitor_count_decode_error(m, err);
    return ds == TCPWM_DECODE_TCP;
}

void tcpwm_monitor_prefetch(const tcpwm_monitor *m, const tcpwm_segment *s, tcpwm_hint *hint)
{
    hint->flow = TCPWM__NIL;
    /* A tunneled segment's context may not be interned yet (or may be
     * gone by its turn): this key is only a guess to fetch memory with,
     * and tcpwm_monitor_segment_hinted() makes it again. */
    uint16_t encap = s->encap_len ? tcpwm__ctxtab_find(&m->ctx, s->encap, s->encap_len) : 0;
    hint->hash = tcpwm__key_make(&m->table, s, encap, hint->key, &hint->side);
    tcpwm__table_prefetch_bucket(&m->table, hint->hash);
}

void tcpwm_monitor_prefetch_flow(const tcpwm_monitor *m, tcpwm_hint *hint)
{
    uint32_t i = tcpwm__table_prefetch_flow(&m->table, hint->hash);
    hint->flow = i;
    /* Analyzed here, the flow's analysis state is read too (kept apart
     * from its record, analyzer.h); deferred, it is the other thread's. */
    if (ANALYSIS_ON && i != TCPWM__NIL && m->batch == NULL)
        tcpwm__analyzer_prefetch_slot(m->an, i);
}

void tcpwm_monitor_prefetch_analysis(const tcpwm_monitor *m, const tcpwm_hint *hint)
{
    /* The pool records of the flow's outstanding segments: their place is
     * in its analysis state, fetched a frame ago. A guess gone stale (the
     * flow left since) fetches a record in vain, nothing worse. */
    if (ANALYSIS_ON && hint->flow != TCPWM__NIL && m->batch == NULL)
        tcpwm__analyzer_prefetch_pool(m->an, hint->flow);
}

static void analyze_segment(tcpwm_monitor *m, const tcpwm_segment *s, const tcpwm__key *key,
                            uint8_t side, uint32_t hash, tcpwm_result *res);

/* A segment inside a tunnel: its context is interned, and held while it
 * is analyzed (a flow evicted to make room may have held the last other
 * reference). At the table's bound the segment is not analyzed. */
static void tunneled_segment(tcpwm_monitor *m, const tcpwm_segment *s, tcpwm_result *res)
{
    uint16_t encap = tcpwm__ctxtab_acquire(&m->ctx, s->encap, s->encap_len);
    if (encap == 0) {
        m->metrics.tcp_packets++;
        tcpwm_monitor_count_decode_error(m, TCPWM_DE_ENCAP_TABLE_FULL);
        if (res)
            memset(res, 0, sizeof(*res));
        return;
    }
    tcpwm__key key;
    uint8_t side;
    uint32_t hash = tcpwm__key_make(&m->table, s, encap, &key, &side);
    analyze_segment(m, s, &key, side, hash, res);
    tcpwm__ctxtab_unref(&m->ctx, encap);
}

void tcpwm_monitor_segment(tcpwm_monitor *m, const tcpwm_segment *s, tcpwm_result *res)
{
    if (s->encap_len != 0) {
        tunneled_segment(m, s, res);
        return;
    }
    tcpwm__key key;
    uint8_t side;
    uint32_t hash = tcpwm__key_make(&m->table, s, 0, &key, &side);
    analyze_segment(m, s, &key, side, hash, res);
}

void tcpwm_monitor_segment_hinted(tcpwm_monitor *m, const tcpwm_segment *s,
                                  const tcpwm_hint *hint, tcpwm_result *res)
{
    if (s->encap_len != 0) {
        tunneled_segment(m, s, res);
        return;
    }
    tcpwm__key key;
    memcpy(&key, hint->key, sizeof(key));
    analyze_segment(m, s, &key, hint->side, hint->hash, res);
}

/* Every field of a result zero (NULL, false, TCPWM_V_NONE), field by
 * field: the struct has outgrown what GCC clears with plain stores, and
 * its memset (`rep stos`) cost a mispredicted branch and some thirty
 * cycles on every packet. Padding is nobody's business. */
static void result_clear(tcpwm_result *r)
{
    r->analyzed = false;
    r->global = false;
    r->dir = 0;
    r->verdict = TCPWM_V_NONE;
    r->events = 0;
    r->gap_bytes = 0;
    r->holes_filled = 0;
    r->fill_ns = 0;
    r->capture_gaps = 0;
    r->window_analyzed = false;
    r->scale_known = false;
    r->scale = 0;
    r->window = 0;
    r->window_prev = false;
    r->window_delta = 0;
    r->dup_ack = false;
    r->reordered = false;
    r->dsack = false;
    r->retx = TCPWM_RETX_NONE;
    r->ack_rtt_ns = 0;
    r->handshake_rtt_ns = 0;
    r->flow = NULL;
}
/* A new field of tcpwm_result needs its line above (on LP64; elsewhere
 * the size differs and the check does not apply). */
_Static_assert(sizeof(void *) != 8 || sizeof(tcpwm_result) == 88,
               "result_clear() clears every field of tcpwm_result");

/* Wireshark's analysis (docs/semantics.md 7) of segment s of flow i, at
 * the segment's own capture time: its rules compare capture times as
 * Wireshark does, not the monitor's clock, which never goes back. Here,
 * or as a job on the other thread (monitor.h). */
static void analyze_wireshark(tcpwm_monitor *m, uint32_t i, const tcpwm__flow *f, unsigned dir,
                              const tcpwm_segment *s, tcpwm_result *res)
{
    if (!ANALYSIS_ON) {
        res->ack_rtt_ns = res->handshake_rtt_ns = -1;
        return;
    }
    const uint8_t kind = (uint8_t)(dir & TCPWM__JOB_DIR);
    if (m->batch != NULL) {
        job_put(next_job(m), s, tcpwm__wsan_is_dsack(s) ? 1u : 0u, i, kind, f->service);
        res->ack_rtt_ns = res->handshake_rtt_ns = -1;
        return;
    }
    tcpwm__job j = {.in = tcpwm__wsan_input(s), .slot = i, .kind = kind, .service = f->service};
    tcpwm__analyzer_segment(m->an, &j, res);
}

/* Everything after the key: scope, the flow's life cycle, the analysis. */
static void analyze_segment(tcpwm_monitor *m, const tcpwm_segment *s, const tcpwm__key *key,
                            uint8_t side, uint32_t hash, tcpwm_result *res)
{
    tcpwm_result scratch;
    bool want_view = res != NULL;
    if (!res)
        res = &scratch;
    result_clear(res);

    m->metrics.tcp_packets++;
    if (s->opt_bad)
        tcpwm_monitor_count_decode_error(m, TCPWM_DE_BAD_TCP_OPTION);
    /* Global or not depends on the addresses only: a flow in the table
     * has the answer already (the scope test walks prefix tables). */
    uint32_t i = tcpwm__table_find(&m->table, key, hash);
    if (i != TCPWM__NIL)
        res->global = tcpwm__table_at(&m->table, i)->global != 0;
    else
        res->global =
            tcpwm_addr_is_global(s->family, s->src) && tcpwm_addr_is_global(s->family, s->dst);
    if (res->global)
        m->metrics.global_tcp_packets++;
    if (m->cfg.scope == TCPWM_SCOPE_GLOBAL && !res->global)
        return;

    if (advance_clock(m, s->ts_ns) && i != TCPWM__NIL)
        i = tcpwm__table_find(&m->table, key, hash); /* expiry may have dropped it */
    if (i == TCPWM__NIL) {
        make_room(m);
        i = tcpwm__table_insert(&m->table, key);
        if (i != TCPWM__NIL && !tcpwm__analyzer_reserve(m->an, i)) {
            tcpwm__table_remove(&m->table, i);
            i = TCPWM__NIL;
        }
        if (i == TCPWM__NIL)
            return; /* out of memory: the packet is counted, not analyzed */
        tcpwm__ctxtab_ref(&m->ctx, key->encap);
        flow_start(m, tcpwm__table_at(&m->table, i), side, s, res);
    } else if (is_new_connection(tcpwm__table_at(&m->table, i), side, s)) {
        i = restart_flow(m, i, side, s, res);
    }
    tcpwm__flow *f = tcpwm__table_at(&m->table, i);
    if (ANALYSIS_ON && m->batch == NULL) /* what analyze_wireshark() reads, meanwhile */
        tcpwm__analyzer_prefetch_slot(m->an, i);
    /* Moving a flow to the head of its LRU list writes two other flows'
     * records, a cache miss each; doing it once per tick (2^30 ns, about
     * a second) of capture time instead of once per packet keeps the
     * list ordered by the tick of each flow's latest packet, which is all
     * expiry and eviction need. */
    if ((m->now_ns >> LRU_TICK_SHIFT) != (f->last_ns >> LRU_TICK_SHIFT)) {
        leaving_place(m, i);
        tcpwm__table_touch(&m->table, i);
    }
    f->last_ns = m->now_ns;
    f->stats.packets++;

    unsigned dir = side ^ f->init_side;
    res->analyzed = true;
    res->dir = (uint8_t)dir;
    m->analysis.fm = &m->blocks[f->service];
    tcpwm__tcp_analyze(&m->analysis, f, dir, s, m->now_ns, res);
    analyze_wireshark(m, i, f, dir, s, res);

    if (!f->closed && ((s->flags & TCPWM_RST) ||
                       ((f->half[0].flags & TCPWM__H_FIN) && (f->half[1].flags & TCPWM__H_FIN))))
        close_flow(m, i, res);

    if (want_view) {
        make_view(m, i, &m->view);
        res->flow = &m->view;
    }
}

void tcpwm_monitor_frame(tcpwm_monitor *m, const uint8_t *frame, size_t caplen, size_t wirelen,
                         int dlt, int64_t ts_ns, tcpwm_result *res)
{
    tcpwm_segment seg;
    tcpwm_fragment frag;
    tcpwm_decode_error err;
    m->metrics.packets++;
    tcpwm_decode_status st =
        tcpwm_monitor_decode(m, frame, caplen, wirelen, dlt, &seg, &frag, &err);
    tcpwm_monitor_count_tunnels(m, &seg);
    seg.ts_ns = ts_ns;
    if (st == TCPWM_DECODE_TCP ||
        (st == TCPWM_DECODE_FRAGMENT && tcpwm_monitor_fragment(m, &seg, &frag))) {
        tcpwm_monitor_segment(m, &seg, res);
        return;
    }
    if (st == TCPWM_DECODE_ERROR)
        tcpwm_monitor_count_decode_error(m, err);
    if (res)
        memset(res, 0, sizeof(*res));
}

static void visit_list(const tcpwm_monitor *m, uint32_t i, tcpwm_flow_end_cb cb, void *ctx)
{
    while (i != TCPWM__NIL) {
        tcpwm_flow_view v;
        make_view(m, i, &v);
        cb(ctx, &v);
        i = tcpwm__table_newer(&m->table, i);
    }
}

void tcpwm_monitor_foreach_flow(const tcpwm_monitor *m, tcpwm_flow_end_cb cb, void *ctx)
{
    visit_list(m, m->table.closed.tail, cb, ctx);
    visit_list(m, m->table.open.tail, cb, ctx);
}

/* ---- Deferred analysis (monitor.h) ------------------------------------- */

tcpwm_batch *tcpwm_batch_new(void)
{
    tcpwm_batch *b = aligned_alloc(64, sizeof *b); /* a multiple of 64 (_Alignas) */
    if (b != NULL)
        b->njobs = b->nviews = 0;
    return b;
}

void tcpwm_batch_free(tcpwm_batch *b) { free(b); }

bool tcpwm_monitor_defer_analysis(tcpwm_monitor *m, tcpwm_handoff_fn hand, void *ctx,
                                  tcpwm_batch *empty)
{
    if (!ANALYSIS_ON)
        return false;
    publish_analysis(m); /* what the metrics show meanwhile */
    m->hand = hand;
    m->hand_ctx = ctx;
    m->batch = empty;
    m->batch->njobs = m->batch->nviews = 0;
    return true;
}

tcpwm_batch *tcpwm_monitor_undefer_analysis(tcpwm_monitor *m)
{
    tcpwm_batch *b = m->batch;
    m->batch = NULL;
    m->hand = NULL;
    m->hand_ctx = NULL;
    return b;
}

/* Jobs are run in order; the state of the flow a job names is fetched
 * this many jobs ahead, and the pool records it leads to half as many. */
#define JOB_AHEAD 8u

void tcpwm_monitor_run_batch(tcpwm_monitor *m, tcpwm_batch *b)
{
    tcpwm__analyzer *an = m->an;
    const uint32_t n = b->njobs;
    for (uint32_t k = 0; k < n && k < JOB_AHEAD; k++)
        tcpwm__analyzer_prefetch_slot(an, b->job[k].slot);
    for (uint32_t k = 0; k < n; k++) {
        if (k + JOB_AHEAD < n)
            tcpwm__analyzer_prefetch_slot(an, b->job[k + JOB_AHEAD].slot);
        if (k + JOB_AHEAD / 2 < n)
            tcpwm__analyzer_prefetch_pool(an, b->job[k + JOB_AHEAD / 2].slot);
        const tcpwm__job *j = &b->job[k];
        if (!(j->kind & TCPWM__JOB_END)) {
            tcpwm__analyzer_segment(an, j, NULL);
            continue;
        }
        if (j->kind & TCPWM__JOB_VIEW) {
            tcpwm_flow_view *v = &b->view[j->view];
            tcpwm__analyzer_stats(an, j->slot, &v->stats);
            m->end_cb(m->end_ctx, v);
        }
        tcpwm__analyzer_forget(an, j->slot);
    }
    b->njobs = b->nviews = 0;
}
