/* SPDX-License-Identifier: MIT */
#include "tcp.h"

#include "seq.h"

/* RFC 7323 section 2.3: a shift above 14 is treated as 14. */
#define MAX_WSCALE 14u
/* A side's `wscale` when its SYN's options were cut by the capture before
 * a window-scale option showed up (seg->opt_cut): it may have carried one,
 * of a shift nobody saw. Above any real (capped) shift. With TCPWM__H_WSCALE
 * set, so that a peer SYN without the option still settles the question
 * (docs/semantics.md 5). */
#define WSCALE_UNSEEN 0xffu
/* Holes more than this far below `next` are forgotten: 2^30 is the
 * largest window TCP can advertise (RFC 7323 2.3), so no retransmission
 * can reach further back, and it keeps every hole well inside the 2^31
 * that serial arithmetic can order. */
#define MAX_HOLE_DISTANCE (1u << 30)

static void observe_fill(void *ctx, int64_t age_ns)
{
    tcpwm_hist_fill_observe(&((tcpwm_metrics *)ctx)->fill, age_ns);
}

static void forgotten(const tcpwm__analysis *a, uint32_t n, tcpwm_result *res)
{
    if (n) {
        a->metrics->holes_forgotten += n;
        res->events |= TCPWM_EV_HOLE_FORGOTTEN;
    }
}

/* Data strictly before `next` that is not a keep-alive (semantics 4.4):
 * filling a hole is out-of-order, anything else a duplicate. */
static void analyze_old_data(const tcpwm__analysis *a, tcpwm__flow *f, tcpwm__half *h,
                             uint32_t seq, uint32_t end, int64_t now_ns, tcpwm_result *res)
{
    tcpwm__hole_report rep = {0, 0, 0};
    tcpwm__holes_fill(a->holes, h, seq, end, now_ns, a->max_holes, observe_fill, a->fm,
                      &rep);
    forgotten(a, rep.forgotten, res);
    if (rep.touched) {
        res->verdict = TCPWM_V_OUT_OF_ORDER;
        res->events |= TCPWM_EV_OUT_OF_ORDER;
        res->holes_filled = rep.touched;
        res->fill_ns = rep.oldest_ns;
        a->fm->out_of_order++;
        f->stats.out_of_order++;
    } else {
        res->verdict = TCPWM_V_DUPLICATE;
        res->events |= TCPWM_EV_DUPLICATE;
        a->fm->duplicate++;
        f->stats.duplicate++;
    }
}

static void analyze_sequence_at(const tcpwm__analysis *a, tcpwm__flow *f, unsigned dir,
                                const tcpwm_segment *s, int64_t now_ns, tcpwm_result *res);

static void analyze_sequence(const tcpwm__analysis *a, tcpwm__flow *f, unsigned dir,
                             const tcpwm_segment *s, int64_t now_ns, tcpwm_result *res)
{
    analyze_sequence_at(a, f, dir, s, now_ns, res);
    tcpwm__half *h = &f->half[dir];
    if (h->nholes) {
        tcpwm__hole_report rep = {0, 0, 0};
        tcpwm__holes_drop_far(a->holes, h, MAX_HOLE_DISTANCE, &rep);
        forgotten(a, rep.forgotten, res);
    }
}

static void analyze_sequence_at(const tcpwm__analysis *a, tcpwm__flow *f, unsigned dir,
                                const tcpwm_segment *s, int64_t now_ns, tcpwm_result *res)
{
    tcpwm__half *h = &f->half[dir];
    const tcpwm__half *peer = &f->half[dir ^ 1u];
    uint32_t syn = (s->flags & TCPWM_SYN) ? 1u : 0u;
    uint32_t fin = (s->flags & TCPWM_FIN) ? 1u : 0u;
    uint32_t len = s->payload_len + syn + fin;
    uint32_t seq = s->seq;
    uint32_t end = seq + len;

    if (!(h->flags & TCPWM__H_SEEN)) {
        h->flags |= TCPWM__H_SEEN;
        h->next = end;
        res->verdict = TCPWM_V_FIRST;
        return;
    }
    if (tcpwm__after(seq, h->next)) {
        /* Bytes [next, seq) were never seen: a hole opens. */
        uint32_t gap = seq - h->next;
        tcpwm__hole_report rep = {0, 0, 0};
        tcpwm__holes_open(a->holes, h, h->next, seq, now_ns, a->max_holes, &rep);
        forgotten(a, rep.forgotten, res);
        tcpwm_hist_gap_observe(&a->fm->gap, gap);
        a->fm->missing++;
        f->stats.missing++;
        res->verdict = TCPWM_V_MISSING;
        res->events |= TCPWM_EV_MISSING;
        res->gap_bytes = gap;
        h->next = end;
        return;
    }
    if (seq == h->next) {
        /* RFC 9293 3.8.6.1: one byte sent into a zero window is a probe
         * the receiver will not accept, so `next` stays. */
        if (s->payload_len == 1 && !syn && !fin && (peer->flags & TCPWM__H_LAST_WIN0)) {
            a->fm->zero_window_probe++;
            res->verdict = TCPWM_V_ZERO_WINDOW_PROBE;
            res->events |= TCPWM_EV_ZERO_WINDOW_PROBE;
            return;
        }
        h->next = end;
        res->verdict = TCPWM_V_IN_ORDER;
        return;
    }
    /* seq before next. RFC 9293 3.8.4: a keep-alive carries SND.NXT - 1
     * and at most one (garbage) byte. */
    if (s->payload_len <= 1 && !syn && !fin && seq == h->next - 1u) {
        a->fm->keepalive++;
        res->verdict = TCPWM_V_KEEPALIVE;
        res->events |= TCPWM_EV_KEEPALIVE;
        return;
    }
    if (len == 0) {
        res->verdict = TCPWM_V_OLD_ACK;
        return;
    }
    analyze_old_data(a, f, h, seq, end, now_ns, res);
    if (tcpwm__after(end, h->next))
        h->next = end;
}

/* The receiver acknowledged bytes the capture never saw (semantics 4.5). */
static void analyze_capture_gap(const tcpwm__analysis *a, tcpwm__flow *f, unsigned dir,
                                const tcpwm_segment *s, tcpwm_result *res)
{
    tcpwm__half *sender = &f->half[dir ^ 1u];
    if (sender->nholes == 0)
        return;
    uint32_t n = tcpwm__holes_acked(a->holes, sender, s->ack);
    if (n) {
        a->fm->capture_gap += n;
        f->stats.capture_gap += n;
        res->capture_gaps = n;
        res->events |= TCPWM_EV_CAPTURE_GAP;
    }
}

static void analyze_window(const tcpwm__analysis *a, tcpwm__flow *f, unsigned dir,
                           const tcpwm_segment *s, tcpwm_result *res)
{
    tcpwm__half *h = &f->half[dir];
    const tcpwm__half *peer = &f->half[dir ^ 1u];
    bool fin = (s->flags & TCPWM_FIN) != 0;
    /* RFC 7323 2.2: scaling is in force only if both SYNs carried the
     * option; without the handshake we cannot know the shift. Nor when
     * one SYN's options were cut (it may have carried the option, value
     * unseen) and the other's carried it; if the other's did not, no
     * scaling whatever the cut SYN had. */
    bool known = (h->flags & TCPWM__H_SYN) && (peer->flags & TCPWM__H_SYN);
    bool scaled = known && (h->flags & TCPWM__H_WSCALE) && (peer->flags & TCPWM__H_WSCALE);
    if (scaled && (h->wscale == WSCALE_UNSEEN || peer->wscale == WSCALE_UNSEEN))
        known = scaled = false;
    unsigned shift = scaled ? h->wscale : 0;
    uint32_t win = (uint32_t)s->window << shift;
    uint32_t edge = s->ack + win;

    res->window_analyzed = true;
    res->scale_known = known;
    res->scale = (uint8_t)shift;
    res->window = win;
    if (!known) {
        a->fm->scale_unknown++;
        res->events |= TCPWM_EV_SCALE_UNKNOWN;
    }
    if (h->flags & TCPWM__H_WIN) {
        res->window_prev = true;
        res->window_delta = (int64_t)win - (int64_t)h->win;
        /* Counted by adding 0 or 1 rather than under a branch: windows
         * shrink and grow from one ACK to the next as the receiver's
         * buffer drains, which no branch predictor foresees. */
        uint32_t shrink = win < h->win;
        a->fm->window_shrink += shrink;
        f->stats.window_shrink += shrink;
        res->events |= shrink * (uint32_t)TCPWM_EV_WINDOW_SHRINK;
        /* RFC 9293 3.8.6.2.2: the right edge should not move left. Below
         * one scale unit the move is rounding, not a retreat. A FIN's
         * window may close as the connection ends. */
        uint32_t retreat = !fin & (tcpwm__seq_diff(h->edge, edge) >= (int32_t)(1u << shift));
        a->fm->right_edge_retreat += retreat;
        f->stats.right_edge_retreat += retreat;
        res->events |= retreat * (uint32_t)TCPWM_EV_RIGHT_EDGE_RETREAT;
    }
    if (s->window == 0 && !fin) {
        a->fm->zero_window++;
        f->stats.zero_window++;
        res->events |= TCPWM_EV_ZERO_WINDOW;
    }
    /* TCPWM__NO_WINDOW before the first; a conditional move, not a branch. */
    f->stats.min_window = win < f->stats.min_window ? win : f->stats.min_window;
    h->win = win;
    h->edge = edge;
    h->flags |= TCPWM__H_WIN;
    a->metrics->current_window = win;
}

void tcpwm__tcp_analyze(const tcpwm__analysis *a, tcpwm__flow *f, unsigned dir, const tcpwm_segment *s, int64_t now_ns, tcpwm_result *res)
{
    tcpwm__half *h = &f->half[dir];
    uint8_t fl = s->flags;

    /* The side's first SYN; or a copy of it (same sequence number) that
     * shows options its first capture cut. */
    bool first_syn = !(h->flags & TCPWM__H_SYN);
    if ((fl & TCPWM_SYN) &&
        (first_syn || (h->wscale == WSCALE_UNSEEN && s->seq == h->syn_seq && !s->opt_cut))) {
        h->flags |= TCPWM__H_SYN;
        h->flags &= (uint8_t)~TCPWM__H_WSCALE;
        h->wscale = 0;
        h->syn_seq = s->seq;
        if (s->opt_present & TCPWM_OPT_WSCALE) {
            h->flags |= TCPWM__H_WSCALE;
            h->wscale = (uint8_t)(s->wscale > MAX_WSCALE ? MAX_WSCALE : s->wscale);
        } else if (s->opt_cut) {
            h->flags |= TCPWM__H_WSCALE;
            h->wscale = WSCALE_UNSEEN;
        }
    }
    if (fl & TCPWM_RST)
        res->verdict = TCPWM_V_RST;
    else
        analyze_sequence(a, f, dir, s, now_ns, res);
    if (fl & TCPWM_ACK)
        analyze_capture_gap(a, f, dir, s, res);
    if ((fl & TCPWM_ACK) && !(fl & (TCPWM_SYN | TCPWM_RST)))
        analyze_window(a, f, dir, s, res);
    if (!(fl & TCPWM_RST)) {
        if (s->window == 0)
            h->flags |= TCPWM__H_LAST_WIN0;
        else
            h->flags &= (uint8_t)~TCPWM__H_LAST_WIN0;
        if (fl & TCPWM_FIN)
            h->flags |= TCPWM__H_FIN;
    }
}
