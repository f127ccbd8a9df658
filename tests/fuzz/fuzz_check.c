/* SPDX-License-Identifier: MIT */
/* Invariant checks shared by the fuzz harnesses (see fuzz_check.h).
 *
 * The monitor's state is private to monitor.c, so it is compiled into this
 * file: the checks walk the real flow table, hole lists and record pools
 * (core/src/pool.h) without any test hook in the core. The harness targets
 * link every other core source as usual. */
#include "fuzz_check.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwm/err.h"
#include "tcpwm/expo.h"

/* The private part: struct tcpwm_monitor. */
#include "monitor.c"

#include "seq.h"

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what);
    fflush(stderr);
    abort();
}

void fuzz_config_small(tcpwm_config *c)
{
    tcpwm_config_default(c);
    c->scope = TCPWM_SCOPE_ALL;
    c->max_flows = 64;
    c->max_holes = 4;
    c->max_holes_total = 16;
}

/* now - then > limit, for then <= now, without overflowing. */
static bool older_than(int64_t now, int64_t then, int64_t limit)
{
    if (then < 0 && now > INT64_MAX + then)
        return true;
    return now - then > limit;
}

/* ---- Flow table and holes ----------------------------------------------- */

/* monitor.c moves a flow to the head of its LRU list at most once per tick
 * of 2^LRU_TICK_SHIFT ns of capture time: the lists are ordered by the
 * tick of each flow's latest packet, and expiry may run up to a tick late. */
#ifdef LRU_TICK_SHIFT
#define FUZZ_TICK(t) ((t) >> LRU_TICK_SHIFT)
#define FUZZ_LRU_SLACK ((int64_t)1 << LRU_TICK_SHIFT)
#else
#define FUZZ_TICK(t) (t)
#define FUZZ_LRU_SLACK 0
#endif

/* Which records of a pool the walk has met, to catch one record in two
 * places (two lists, or a list and the free list). */
typedef struct marks {
    uint8_t *flow, *hole;
} marks;

static void mark(uint8_t *seen, const tcpwm__pool *p, uint32_t i)
{
    FUZZ_CHECK(i < p->made);
    FUZZ_CHECK(!seen[i]);
    seen[i] = 1;
}

/* The pool's free list: well formed, disjoint from every record in use,
 * and together with them accounting for every record made. */
static void check_pool(const tcpwm__pool *p, uint8_t *seen, uint32_t in_use)
{
    uint32_t n = 0;
    for (uint32_t i = p->free_head; i != TCPWM__NIL; n++) {
        mark(seen, p, i);
        memcpy(&i, tcpwm__pool_at(p, i), sizeof i);
    }
    FUZZ_CHECK(p->made <= p->limit);
    FUZZ_CHECK(n + in_use == p->made);
}

static const tcpwm__hole *hole_at(const tcpwm_monitor *m, uint32_t i)
{
    return tcpwm__pool_at(&m->holes.records, i);
}

/* One direction's hole list: well linked, at most max_holes long, every
 * hole non-empty, holes ascending and disjoint, all below `next`. Returns
 * the number of holes. */
static uint32_t check_half(const tcpwm_monitor *m, const tcpwm__half *h, marks *mk)
{
    uint32_t n = 0, prev = TCPWM__NIL;

    for (uint32_t i = h->hole_head; i != TCPWM__NIL; n++) {
        mark(mk->hole, &m->holes.records, i); /* also ends a cycle */
        const tcpwm__hole *x = hole_at(m, i);
        if (prev != TCPWM__NIL) /* the head's prev is the tail: below */
            FUZZ_CHECK(x->prev == prev);
        FUZZ_CHECK(tcpwm__before(x->start, x->end));
        FUZZ_CHECK(x->opened_ns <= m->now_ns);
        /* [start, end) lies below next, within 2^31 (serial arithmetic):
         * sequence space already passed (bug 4 of docs/robustness.md). */
        FUZZ_CHECK(tcpwm__before(x->start, h->next));
        FUZZ_CHECK(!tcpwm__after(x->end, h->next));
        if (prev != TCPWM__NIL)
            FUZZ_CHECK(!tcpwm__after(hole_at(m, prev)->end, x->start));
        prev = i;
        i = x->next;
    }
    FUZZ_CHECK(tcpwm__holes_tail(&m->holes, h) == prev);
    /* A split hole counts against the cap too (bug 1). */
    FUZZ_CHECK(n == h->nholes);
    FUZZ_CHECK(n <= m->cfg.max_holes);
    FUZZ_CHECK(n == 0 || (h->flags & TCPWM__H_SEEN));
    return n;
}

/* One LRU list: well linked, most recent first, flags matching the list;
 * every flow findable by its key. Returns the number of flows, adding
 * their holes to *holes. */
static uint32_t check_list(const tcpwm_monitor *m, const tcpwm__list *l, bool closed,
                           bool check_age, marks *mk, uint32_t *holes)
{
    const tcpwm__table *t = &m->table;
    int64_t limit = closed ? m->cfg.closed_linger_ns : m->cfg.idle_timeout_ns;
    int64_t newer = INT64_MAX;
    uint32_t n = 0, prev = TCPWM__NIL;

    for (uint32_t i = l->head; i != TCPWM__NIL; n++) {
        mark(mk->flow, &t->flows, i); /* also ends a cycle */
        const tcpwm__flow *f = tcpwm__table_at(t, i);
        const tcpwm__links *ln = (const tcpwm__links *)tcpwm__pool_at(&t->links, i);
        FUZZ_CHECK((f->closed != 0) == closed);
        FUZZ_CHECK(ln->prev == prev);
        FUZZ_CHECK(tcpwm__table_newer(t, i) == prev);
        FUZZ_CHECK(f->key.family == 4 || f->key.family == 6);
        FUZZ_CHECK(f->key.vlan_count <= 2);
        FUZZ_CHECK(f->init_side <= 1);
        /* The cached scope answer is the addresses' own. */
        FUZZ_CHECK(f->global == (tcpwm_addr_is_global(f->key.family, f->key.addr[0]) &&
                                 tcpwm_addr_is_global(f->key.family, f->key.addr[1])));
        FUZZ_CHECK(f->stats.packets >= 1);
        FUZZ_CHECK((int64_t)f->first_s * 1000000000 <= (f->last_ns > 0 ? f->last_ns : 0));
        /* ACK RTT figures: none, or a median estimate within the samples. */
        const tcpwm__anflow *af = tcpwm__analyzer_at(m->an, i);
        FUZZ_CHECK((af->rtt_max == 0) == (af->rtt_n == 0));
        FUZZ_CHECK((af->rtt_max == 0) == (af->rtt_median == 0));
        FUZZ_CHECK(af->rtt_median <= af->rtt_max);
        FUZZ_CHECK(f->last_ns <= m->now_ns);
        FUZZ_CHECK(FUZZ_TICK(f->last_ns) <= FUZZ_TICK(newer)); /* the tail expires first */
        /* Expiry ran at this packet's time: nothing left is overdue. */
        if (check_age)
            FUZZ_CHECK(!older_than(m->now_ns, f->last_ns, limit + FUZZ_LRU_SLACK));
        FUZZ_CHECK(tcpwm__table_find(t, &f->key, tcpwm__key_hash(t, &f->key)) == i);
        *holes += check_half(m, &f->half[0], mk);
        *holes += check_half(m, &f->half[1], mk);
        newer = f->last_ns;
        prev = i;
        i = ln->next;
    }
    FUZZ_CHECK(l->tail == prev);
    /* Advancing the clock skips the expiry scan until expiry_due: that
     * must never be after the tail's deadline. */
    if (prev != TCPWM__NIL)
        FUZZ_CHECK(m->expiry_due <= deadline(tcpwm__table_at(t, prev)->last_ns, limit));
    return n;
}

/* The hash index (table.h): every flow in exactly one slot, with its
 * hash's tag, no further from its home bucket than the spill counts let a
 * lookup go; each bucket's spill is exactly the flows whose probe passed
 * it. (Findability by key: check_list.) */
static void check_index(const tcpwm__table *t)
{
    uint32_t nb = t->mask + 1, used = 0;
    uint32_t *spill = calloc(nb, sizeof *spill);
    FUZZ_CHECK(spill != NULL);
    for (uint32_t bi = 0; bi < nb; bi++) {
        const tcpwm__bucket *b = &t->buckets[bi];
        for (unsigned j = 0; j < TCPWM__BUCKET_SLOTS; j++) {
            if (b->tag[j] == 0)
                continue;
            used++;
            const tcpwm__flow *f = tcpwm__table_at(t, b->flow[j]);
            uint32_t h = tcpwm__key_hash(t, &f->key);
            FUZZ_CHECK(b->tag[j] == ((h >> 24) ? (h >> 24) : 1u));
            for (uint32_t k = h & t->mask; k != bi; k = (k + 1) & t->mask)
                spill[k]++;
        }
    }
    FUZZ_CHECK(used == t->count);
    for (uint32_t bi = 0; bi < nb; bi++)
        FUZZ_CHECK(t->buckets[bi].spill == spill[bi]);
    free(spill);
}

/* The whole private state; returns the number of open flows. */
static uint32_t check_state(const tcpwm_monitor *m, bool check_age)
{
    const tcpwm__table *t = &m->table;
    uint32_t holes = 0;
    marks mk;
    mk.flow = calloc((size_t)t->flows.made + 1, 1);
    mk.hole = calloc((size_t)m->holes.records.made + 1, 1);
    FUZZ_CHECK(mk.flow != NULL && mk.hole != NULL);

    check_index(t);
    uint32_t open = check_list(m, &t->open, false, check_age, &mk, &holes);
    uint32_t closed = check_list(m, &t->closed, true, check_age, &mk, &holes);
    FUZZ_CHECK(open + closed == t->count);
    FUZZ_CHECK(t->count <= t->max);
    FUZZ_CHECK(t->max == m->cfg.max_flows);
    FUZZ_CHECK(t->flows.limit <= t->max);

    /* Every record is in use or on its pool's free list, never both: none
     * leaks, and the hole pool never exceeds max_holes_total. */
    /* A record not in use has its analysis state back at zero (analyzer.h:
     * a flow starts from zero). */
    static const tcpwm__anflow zero_state;
    for (uint32_t i = 0; i < t->flows.made; i++)
        if (!mk.flow[i])
            FUZZ_CHECK(memcmp(tcpwm__analyzer_at(m->an, i), &zero_state, sizeof zero_state) == 0);
    check_pool(&t->flows, mk.flow, t->count);
    check_pool(&m->holes.records, mk.hole, holes);
    FUZZ_CHECK(m->holes.records.limit == m->cfg.max_holes_total);
    free(mk.flow);
    free(mk.hole);
    return open;
}

/* ---- Metrics ------------------------------------------------------------ */

/* Every counter of a snapshot, in one array, for the monotonicity check. */
#define N_COUNTERS                                                                                \
    (16 + TCPWM_EVICT__COUNT + TCPWM_DE__COUNT + TCPWM_GAP_BUCKETS + 3 + TCPWM_FILL_BUCKETS + 3)

static void counters(const tcpwm_metrics *mt, uint64_t out[N_COUNTERS])
{
    size_t k = 0;
    out[k++] = mt->packets;
    out[k++] = mt->tcp_packets;
    out[k++] = mt->global_tcp_packets;
    out[k++] = mt->missing;
    out[k++] = mt->duplicate;
    out[k++] = mt->out_of_order;
    out[k++] = mt->capture_gap;
    out[k++] = mt->keepalive;
    out[k++] = mt->zero_window_probe;
    out[k++] = mt->zero_window;
    out[k++] = mt->window_shrink;
    out[k++] = mt->right_edge_retreat;
    out[k++] = mt->scale_unknown;
    out[k++] = mt->conn_opened;
    out[k++] = mt->conn_closed;
    out[k++] = mt->holes_forgotten;
    for (size_t i = 0; i < TCPWM_EVICT__COUNT; i++)
        out[k++] = mt->evicted[i];
    for (size_t i = 0; i < TCPWM_DE__COUNT; i++)
        out[k++] = mt->decode_errors[i];
    for (size_t i = 0; i < TCPWM_GAP_BUCKETS; i++)
        out[k++] = mt->gap.bucket[i];
    out[k++] = mt->gap.inf;
    out[k++] = mt->gap.count;
    out[k++] = mt->gap.sum;
    for (size_t i = 0; i < TCPWM_FILL_BUCKETS; i++)
        out[k++] = mt->fill.bucket[i];
    out[k++] = mt->fill.inf;
    out[k++] = mt->fill.count;
    FUZZ_CHECK(mt->fill.sum_ns >= 0);
    out[k++] = (uint64_t)mt->fill.sum_ns;
    FUZZ_CHECK(k == N_COUNTERS);
}

/* Truth as 0/1, to compare with step(). */
static unsigned b01(bool b) { return b ? 1u : 0u; }

/* 1 if the counter grew by one, 0 if it stayed; anything else breaks. */
static unsigned step(uint64_t before, uint64_t after)
{
    FUZZ_CHECK(after == before || after == before + 1);
    return after != before;
}

static void check_hists(const tcpwm_metrics *mt)
{
    uint64_t n = mt->gap.inf;
    for (size_t i = 0; i < TCPWM_GAP_BUCKETS; i++)
        n += mt->gap.bucket[i];
    FUZZ_CHECK(n == mt->gap.count);
    n = mt->fill.inf;
    for (size_t i = 0; i < TCPWM_FILL_BUCKETS; i++)
        n += mt->fill.bucket[i];
    FUZZ_CHECK(n == mt->fill.count);
    /* Each missing event observes its gap once. */
    FUZZ_CHECK(mt->gap.count == mt->missing);
    FUZZ_CHECK(mt->fill.count >= mt->out_of_order);
    FUZZ_CHECK(mt->global_tcp_packets <= mt->tcp_packets);
    FUZZ_CHECK(mt->tcp_packets <= mt->packets);
    FUZZ_CHECK(mt->conn_closed <= mt->conn_opened);
    FUZZ_CHECK(mt->active_connections <= mt->conn_opened - mt->conn_closed);
}

/* What one frame did to the metrics and the result (NULL: none was
 * asked for), against the rules. Returns whether the frame was analyzed. */
static bool check_frame(fuzz_run *r, const tcpwm_metrics *a, const tcpwm_metrics *b,
                        const tcpwm_result *res)
{
    uint64_t ca[N_COUNTERS], cb[N_COUNTERS];
    counters(a, ca);
    counters(b, cb);
    for (size_t i = 0; i < N_COUNTERS; i++)
        FUZZ_CHECK(cb[i] >= ca[i]); /* counters never go down */
    check_hists(b);

    /* Every frame counts once; at most one decode outcome. */
    FUZZ_CHECK(b->packets == a->packets + 1);
    unsigned tcp = step(a->tcp_packets, b->tcp_packets);
    unsigned errs = 0;
    for (size_t i = 0; i < TCPWM_DE__COUNT; i++) {
        unsigned e = step(a->decode_errors[i], b->decode_errors[i]);
        if (i != TCPWM_DE_BAD_TCP_OPTION)
            errs += e;
        else
            FUZZ_CHECK(e <= tcp); /* a bad option still makes a segment */
    }
    FUZZ_CHECK(tcp + errs <= 1);
    unsigned global = step(a->global_tcp_packets, b->global_tcp_packets);
    FUZZ_CHECK(global <= tcp);
    bool analyzed = tcp && (r->cfg.scope == TCPWM_SCOPE_ALL || global);
    FUZZ_CHECK(b->active_connections <= r->cfg.max_flows);
    step(a->conn_opened, b->conn_opened);
    step(a->zero_window, b->zero_window);
    step(a->window_shrink, b->window_shrink);
    step(a->right_edge_retreat, b->right_edge_retreat);
    step(a->scale_unknown, b->scale_unknown);
    if (res == NULL) {
        /* Without a result the running sums can only follow. */
        r->fills = b->fill.count;
        r->capture_gaps = b->capture_gap;
        return analyzed;
    }
    FUZZ_CHECK(res->analyzed == analyzed);
    FUZZ_CHECK(res->global == (global != 0) || !tcp);

    /* The result. */
    FUZZ_CHECK((unsigned)res->verdict < TCPWM_V__COUNT);
    FUZZ_CHECK(tcpwm_verdict_label(res->verdict) != NULL);
    FUZZ_CHECK(res->events < (TCPWM_EV_HOLE_FORGOTTEN << 1));
    if (!res->analyzed) {
        FUZZ_CHECK(res->flow == NULL);
        FUZZ_CHECK(res->verdict == TCPWM_V_NONE);
        FUZZ_CHECK(res->events == 0);
    } else {
        FUZZ_CHECK(res->flow != NULL);
        FUZZ_CHECK(res->verdict != TCPWM_V_NONE);
        FUZZ_CHECK(res->dir <= 1);
        FUZZ_CHECK(res->flow->family == 4 || res->flow->family == 6);
        FUZZ_CHECK(res->flow->first_ns <= res->flow->last_ns);
        FUZZ_CHECK(res->flow->stats.packets >= 1);
    }

    /* The verdict counters move with the verdict, by one. */
    FUZZ_CHECK(step(a->missing, b->missing) == b01(res->verdict == TCPWM_V_MISSING));
    FUZZ_CHECK(step(a->duplicate, b->duplicate) == b01(res->verdict == TCPWM_V_DUPLICATE));
    FUZZ_CHECK(step(a->out_of_order, b->out_of_order) == b01(res->verdict == TCPWM_V_OUT_OF_ORDER));
    FUZZ_CHECK(step(a->keepalive, b->keepalive) == b01(res->verdict == TCPWM_V_KEEPALIVE));
    FUZZ_CHECK(step(a->zero_window_probe, b->zero_window_probe) ==
               b01(res->verdict == TCPWM_V_ZERO_WINDOW_PROBE));
    FUZZ_CHECK(!(res->events & TCPWM_EV_MISSING) == (res->verdict != TCPWM_V_MISSING));
    FUZZ_CHECK(!(res->events & TCPWM_EV_OUT_OF_ORDER) == (res->verdict != TCPWM_V_OUT_OF_ORDER));
    if (res->verdict == TCPWM_V_MISSING)
        FUZZ_CHECK(res->gap_bytes > 0 && res->gap_bytes < (1u << 31));
    if (res->verdict == TCPWM_V_OUT_OF_ORDER)
        FUZZ_CHECK(res->holes_filled > 0 && res->fill_ns >= 0);
    FUZZ_CHECK(step(a->conn_opened, b->conn_opened) == b01(res->events & TCPWM_EV_CONN_OPENED));
    if (res->events & TCPWM_EV_CONN_CLOSED)
        FUZZ_CHECK(b->conn_closed == a->conn_closed + 1);

    /* Running sums that must match the counters exactly. */
    r->fills += res->holes_filled;
    r->capture_gaps += res->capture_gaps;
    FUZZ_CHECK(b->fill.count == r->fills);
    FUZZ_CHECK(b->capture_gap == r->capture_gaps);
    FUZZ_CHECK(!(res->events & TCPWM_EV_CAPTURE_GAP) == (res->capture_gaps == 0));

    /* Gauges. */
    if (res->window_analyzed) {
        FUZZ_CHECK(res->analyzed);
        FUZZ_CHECK(b->current_window == res->window);
        FUZZ_CHECK(res->scale <= 14);
    } else {
        FUZZ_CHECK(b->current_window == a->current_window);
    }
    return analyzed;
}

/* ---- Exposition --------------------------------------------------------- */

/* An escaped string up to its closing quote (label values; OpenMetrics
 * HELP is the same escaped-string): only \\, \" and \n escapes. Returns
 * the closing quote, or NULL when the line ends first. */
static const char *escaped_to(const char *s, const char *nl, char close)
{
    for (; s < nl; s++) {
        if (*s == '\\') {
            FUZZ_CHECK(s + 1 < nl);
            s++;
            FUZZ_CHECK(*s == '\\' || *s == '"' || *s == 'n');
        } else if (*s == close) {
            return s;
        } else {
            FUZZ_CHECK(close != '"' || *s != '"');
        }
    }
    return NULL;
}

static bool name_char(char c, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || (colon && c == ':');
}

/* name{label="value",...} value [timestamp] */
static void check_sample(const char *s, const char *nl)
{
    FUZZ_CHECK(strncmp(s, "tcp_monitor_", 12) == 0);
    while (s < nl && name_char(*s, true))
        s++;
    if (s < nl && *s == '{') {
        s++;
        while (s < nl && *s != '}') {
            FUZZ_CHECK(name_char(*s, false));
            while (s < nl && name_char(*s, false))
                s++;
            FUZZ_CHECK(s + 1 < nl && s[0] == '=' && s[1] == '"');
            s = escaped_to(s + 2, nl, '"');
            FUZZ_CHECK(s != NULL);
            s++;
            if (s < nl && *s == ',')
                s++;
        }
        FUZZ_CHECK(s < nl && *s == '}');
        s++;
    }
    FUZZ_CHECK(s + 1 < nl && *s == ' ' && s[1] != ' ');
}

/* # HELP / # TYPE / # UNIT / # EOF lines; HELP text escaped per format. */
static void check_comment(const char *s, const char *nl, tcpwm_format f)
{
    if (strncmp(s, "# HELP ", 7) == 0) {
        const char *sp = memchr(s + 7, ' ', (size_t)(nl - s - 7));
        FUZZ_CHECK(sp != NULL);
        for (const char *q = sp + 1; q < nl; q++) {
            if (*q == '\\') {
                FUZZ_CHECK(q + 1 < nl);
                q++;
                FUZZ_CHECK(*q == '\\' || *q == 'n' || (f == TCPWM_FMT_OPENMETRICS && *q == '"'));
            } else {
                FUZZ_CHECK(f != TCPWM_FMT_OPENMETRICS || *q != '"');
            }
        }
    } else {
        FUZZ_CHECK(strncmp(s, "# TYPE ", 7) == 0 || strncmp(s, "# UNIT ", 7) == 0 ||
                   strncmp(s, "# EOF", 5) == 0);
    }
}

/* A complete document: newline-terminated lines, no empty line, no NUL,
 * only comments and well-formed tcp_monitor_* samples, "# EOF" exactly at
 * the end of OpenMetrics and nowhere in Prometheus text. */
static void check_doc(const tcpwm_buf *b, tcpwm_format f)
{
    FUZZ_CHECK(b->len > 0 && b->data != NULL);
    FUZZ_CHECK(memchr(b->data, '\0', b->len) == NULL);
    FUZZ_CHECK(b->data[b->len] == '\0');
    FUZZ_CHECK(b->data[b->len - 1] == '\n');
    bool eof_seen = false;
    for (const char *s = b->data; s < b->data + b->len;) {
        const char *nl = memchr(s, '\n', (size_t)(b->data + b->len - s));
        FUZZ_CHECK(nl != NULL && nl > s);
        FUZZ_CHECK(!eof_seen); /* nothing after # EOF */
        if (*s == '#') {
            check_comment(s, nl, f);
            if (nl - s == 5 && strncmp(s, "# EOF", 5) == 0)
                eof_seen = true;
        } else {
            check_sample(s, nl);
        }
        s = nl + 1;
    }
    FUZZ_CHECK(eof_seen == (f == TCPWM_FMT_OPENMETRICS));
}

/* The core's families, then one extra family (type, help and label value
 * from the input), then the end: one whole document. */
static int render_doc(fuzz_run *r, tcpwm_buf *b, tcpwm_format f, const tcpwm_metrics *snaps,
                      const int64_t *stamps, size_t n)
{
    static const tcpwm_mtype types[3] = {TCPWM_MT_COUNTER, TCPWM_MT_GAUGE, TCPWM_MT_INFO};
    tcpwm_mtype t = types[r->frames % 3];
    const char *labels[4] = {"text", r->text, "frames", r->text + strlen(r->text) / 2};
    int rc = tcpwm_expo_metrics(b, f, snaps, stamps, n);
    if (rc == 0)
        rc = tcpwm_expo_family(b, f, "tcp_monitor_fuzz", t, r->text);
    if (rc == 0)
        rc = tcpwm_expo_sample_u64(b, f, "tcp_monitor_fuzz", t, labels, 2, r->frames);
    if (rc == 0)
        rc = tcpwm_expo_finish(b, f);
    return rc;
}

static void visit_count(void *ctx, const tcpwm_flow_view *v)
{
    uint32_t *n = ctx;
    FUZZ_CHECK(v->family == 4 || v->family == 6);
    FUZZ_CHECK(v->first_ns <= v->last_ns);
    n[0]++;
    if (!v->closed)
        n[1]++;
}

void fuzz_render(fuzz_run *r, int64_t ts_ns)
{
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(r->m);
    char want[96];

    /* One snapshot, each format: the packet counter is printed as is. */
    snprintf(want, sizeof want, "\ntcp_monitor_packets_total %" PRIu64 "\n", mt->packets);
    for (int f = TCPWM_FMT_PROMETHEUS; f <= TCPWM_FMT_OPENMETRICS; f++) {
        tcpwm_buf_reset(&r->buf);
        FUZZ_CHECK(render_doc(r, &r->buf, (tcpwm_format)f, mt, NULL, 1) == 0);
        check_doc(&r->buf, (tcpwm_format)f);
        FUZZ_CHECK(strstr(r->buf.data, want) != NULL);

        /* Errors are all or nothing: a call that hits the limit leaves
         * the buffer as it found it (docs: "never half a line"). */
        size_t len = r->buf.len;
        r->small.limit = (size_t)((r->frames * 7919u) % (len + 1));
        tcpwm_buf_reset(&r->small);
        size_t before = 0;
        int rc = tcpwm_expo_metrics(&r->small, (tcpwm_format)f, mt, NULL, 1);
        FUZZ_CHECK(rc == 0 || rc == TCPWM_ELIMIT);
        if (rc == TCPWM_ELIMIT)
            FUZZ_CHECK(r->small.len == before);
        else
            FUZZ_CHECK(memcmp(r->small.data, r->buf.data, r->small.len) == 0);
    }

    /* A two-snapshot timeline (what --timeline writes), stamps ascending. */
    if (ts_ns > INT64_MIN + 1000000000LL) {
        tcpwm_metrics snaps[2] = {r->prev, *mt};
        int64_t stamps[2] = {ts_ns - 1000000000LL, ts_ns};
        tcpwm_buf_reset(&r->buf);
        FUZZ_CHECK(render_doc(r, &r->buf, TCPWM_FMT_OPENMETRICS, snaps, stamps, 2) == 0);
        check_doc(&r->buf, TCPWM_FMT_OPENMETRICS);
    }

    /* The public walk sees what the private one does. */
    uint32_t n[2] = {0, 0};
    tcpwm_monitor_foreach_flow(r->m, visit_count, n);
    FUZZ_CHECK(n[0] == r->m->table.count);
    FUZZ_CHECK(n[1] == mt->active_connections);
}

/* ---- Driving ------------------------------------------------------------ */

static void on_end(void *ctx, const tcpwm_flow_view *v)
{
    fuzz_run *r = ctx;
    FUZZ_CHECK(v->family == 4 || v->family == 6);
    FUZZ_CHECK(v->first_ns <= v->last_ns);
    FUZZ_CHECK(v->stats.packets >= 1);
    r->ended++;
}

void fuzz_begin(fuzz_run *r, const tcpwm_config *cfg, unsigned render_every)
{
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    r->render_every = render_every;
    FUZZ_CHECK(tcpwm_monitor_new(cfg, &r->m) == TCPWM_OK);
    tcpwm_monitor_on_flow_end(r->m, on_end, r);
    tcpwm_buf_init(&r->buf, (size_t)1 << 20);
    tcpwm_buf_init(&r->small, 0);
    strcpy(r->text, "none");
}

void fuzz_text(fuzz_run *r, const uint8_t *frame, size_t caplen)
{
    /* NUL-free, for the exposition's escaping. */
    size_t nt = caplen < sizeof r->text - 1 ? caplen : sizeof r->text - 1;
    for (size_t i = 0; i < nt; i++)
        r->text[i] = frame[i] != 0 ? (char)frame[i] : '0';
    r->text[nt] = '\0';
}

/* Every frame: one of the two entry points, then every check. */
typedef struct frame_in {
    /* tcpwm_monitor_frame() */
    const uint8_t *bytes;
    size_t caplen, wirelen;
    int dlt;
    /* or the split path */
    const tcpwm_segment *seg;
    const tcpwm_fragment *frag; /* st TCPWM_DECODE_FRAGMENT */
    tcpwm_decode_status st;
    tcpwm_decode_error err;
    int64_t ts_ns;
} frame_in;

static void feed(fuzz_run *r, const frame_in *in)
{
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(r->m);
    int64_t before_now = r->m->now_ns;
    bool had_now = r->m->have_now;
    tcpwm_result res;
    /* Every fourth frame without a result, as the replay does without -v. */
    tcpwm_result *want = r->frames % 4 == 3 ? NULL : &res;
    memset(&res, 0xa5, sizeof res); /* the monitor must fill it in */
    r->prev = *mt;
    if (in->seg == NULL) {
        tcpwm_monitor_frame(r->m, in->bytes, in->caplen, in->wirelen, in->dlt, in->ts_ns, want);
    } else {
        tcpwm_monitor_count_frame(r->m);
        tcpwm_segment whole;
        if (in->st == TCPWM_DECODE_FRAGMENT) /* reassembly changes the segment */
            whole = *in->seg;
        if (in->st == TCPWM_DECODE_TCP) {
            tcpwm_monitor_segment(r->m, in->seg, want);
        } else if (in->st == TCPWM_DECODE_FRAGMENT &&
                   tcpwm_monitor_fragment(r->m, &whole, in->frag)) {
            tcpwm_monitor_segment(r->m, &whole, want);
        } else {
            if (in->st == TCPWM_DECODE_ERROR)
                tcpwm_monitor_count_decode_error(r->m, in->err);
            if (want)
                memset(want, 0, sizeof *want);
        }
    }
    r->frames++;

    /* The clock never goes back. */
    if (had_now)
        FUZZ_CHECK(r->m->now_ns >= before_now);
    mt = tcpwm_monitor_metrics(r->m); /* the analysis' families as of now */
    bool analyzed = check_frame(r, &r->prev, mt, want);
    uint32_t open = check_state(r->m, analyzed);
    FUZZ_CHECK(mt->active_connections == open);
    /* Bounded memory: one chunk of flows and of holes at these caps. */
    FUZZ_CHECK(r->cfg.max_flows > 1024 || tcpwm_monitor_memory(r->m) < ((size_t)4 << 20));

    if (r->render_every && r->frames % r->render_every == 0)
        fuzz_render(r, in->ts_ns);
}

void fuzz_frame(fuzz_run *r, const uint8_t *frame, size_t caplen, size_t wirelen, int dlt,
                int64_t ts_ns)
{
    /* Exactly caplen bytes on the heap: a read past them is a report. */
    uint8_t *copy = malloc(caplen);
    FUZZ_CHECK(copy != NULL || caplen == 0);
    if (caplen > 0)
        memcpy(copy, frame, caplen);
    fuzz_text(r, frame, caplen);
    frame_in in = {copy,           caplen, wirelen, dlt, NULL, NULL, TCPWM_DECODE_NOT_TCP,
                   TCPWM_DE__COUNT, ts_ns};
    feed(r, &in);
    free(copy);
}

void fuzz_decoded(fuzz_run *r, tcpwm_decode_status st, const tcpwm_segment *seg,
                  const tcpwm_fragment *frag, tcpwm_decode_error err)
{
    FUZZ_CHECK(st == TCPWM_DECODE_TCP || st == TCPWM_DECODE_NOT_TCP || st == TCPWM_DECODE_ERROR ||
               (st == TCPWM_DECODE_FRAGMENT && frag != NULL));
    if (st == TCPWM_DECODE_FRAGMENT)
        FUZZ_CHECK((seg->family == 4 || seg->family == 6) && frag->head_len <= TCPWM_FRAG_HEAD);
    if (st == TCPWM_DECODE_ERROR)
        FUZZ_CHECK(tcpwm_decode_error_label(err) != NULL);
    if (st == TCPWM_DECODE_TCP)
        FUZZ_CHECK(seg->family == 4 || seg->family == 6);
    frame_in in = {NULL, 0, 0, 0, seg, frag, st, err, seg->ts_ns};
    feed(r, &in);
}

void fuzz_end(fuzz_run *r)
{
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(r->m);
    FUZZ_CHECK(mt->packets == r->frames);
    check_hists(mt);
    r->prev = *mt;
    fuzz_render(r, r->m->have_now ? r->m->now_ns : 0);
    /* Flows that left plus flows still there: every opened connection. */
    FUZZ_CHECK(r->ended + r->m->table.count == mt->conn_opened);
    tcpwm_monitor_free(r->m);
    tcpwm_buf_free(&r->buf);
    tcpwm_buf_free(&r->small);
    r->m = NULL;
}
