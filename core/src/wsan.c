/* SPDX-License-Identifier: MIT */
/* Wireshark 4.0's TCP analysis rules for duplicate ACKs, retransmission
 * kinds, reordering, D-SACK and RTTs (wsan.h). Learnt from Wireshark's
 * epan/dissectors/packet-tcp.c: tcp_analyze_sequence_number() (one pass
 * over each segment, in capture order, with the per-direction state of
 * wsan.h), the SACK option dissector (D-SACK) and dissect_tcp() (the
 * handshake RTT); written here in our own words and code. Rule numbers
 * refer to docs/semantics.md section 7.
 *
 * Wireshark runs these rules on raw sequence numbers, and takes a value of
 * 0 in nextseq, lastack and maxseqtobeacked as "not seen yet"; we do the
 * same, so that even a sequence number that happens to be 0 is treated as
 * tshark treats it. */
#include "wsan.h"

#include <string.h>

#include "seq.h"

/* A retransmission is "fast" within this time of the peer's latest segment
 * (Wireshark: 20 ms, fixed). */
#define FAST_RETX_WINDOW_US 20000u
/* Reordering threshold while the handshake RTT is unknown (Wireshark: 3 ms). */
#define REORDER_DEFAULT_US 3000u
#define AGE_MAX 65535u

static uint32_t to_us(int64_t ns)
{
    int64_t us = ns / 1000;
    if (ns < 0 && us * 1000 != ns)
        us--; /* floor, so that a difference is never rounded the wrong way */
    return (uint32_t)(uint64_t)us;
}

static bool le(uint32_t a, uint32_t b) { return !tcpwm__after(a, b); }

const char *tcpwm__wsan_retx_label(tcpwm_retx_kind k)
{
    switch (k) {
    case TCPWM_RETX_FAST: return "fast";
    case TCPWM_RETX_SPURIOUS: return "spurious";
    case TCPWM_RETX_OTHER: return "other";
    case TCPWM_RETX_NONE: break;
    }
    return "";
}

/* ---- The pool of outstanding segments ----------------------------------
 * Each direction with outstanding segments has a circular list of blocks,
 * one cache line each, holding up to four segments in order of end
 * (equal ends in arrival order); the connection state holds the index of
 * the newest block (the tail, whose next is the oldest; TAIL_LIVE below)
 * and the tail block the number of segments in the list. So a packet
 * reaches its list without a lookup, and a connection with a few segments
 * in flight touches one line: new data appends at the tail, an ACK takes
 * from the oldest block, and only a retransmission ending below the
 * newest segment walks the list. Every block in a list holds at least one
 * segment. */
#define BLK_SLOTS 4

/* tcpwm__wsan.tail[side]: this bit says the side has a list, whose newest
 * block the other bits give; without it they keep the block the side had
 * last (0 at first), which was given back last, so the free list gives it
 * out first: the block the side's next segment will most likely take, and
 * what tcpwm__wsan_prefetch() fetches. */
#define TAIL_LIVE 0x80000000u

typedef struct seg_blk {
    uint32_t next;                 /* the next newer block; the tail's: the oldest */
    uint8_t first;                 /* slot of the block's oldest segment */
    uint8_t count;                 /* segments in slots first .. first + count - 1 */
    uint16_t total;                /* the tail block's: segments in the whole list */
    uint32_t end[BLK_SLOTS];       /* seq + payload + SYN + FIN: the ACK that takes a sample */
    int64_t ns[BLK_SLOTS];         /* capture times */
    uint8_t pad2_[8];
} seg_blk;

_Static_assert(sizeof(seg_blk) == TCPWM__WSAN_RECORD_BYTES, "a block is one cache line");

void tcpwm__wsan_pool_init(tcpwm__wsan_pool *p, uint32_t max_blocks, uint32_t max_per_side)
{
    if (max_blocks > ~TAIL_LIVE)
        max_blocks = ~TAIL_LIVE; /* indexes fit beside the bit */
    p->max_per_side = max_per_side < UINT16_MAX ? max_per_side : UINT16_MAX;
    p->in_use = 0;
    tcpwm__pool_init(&p->records, TCPWM__WSAN_RECORD_BYTES, max_blocks);
}

void tcpwm__wsan_pool_destroy(tcpwm__wsan_pool *p)
{
    tcpwm__pool_destroy(&p->records);
    p->in_use = 0;
}

size_t tcpwm__wsan_pool_memory(const tcpwm__wsan_pool *p) { return tcpwm__pool_memory(&p->records); }

static seg_blk *blk_at(const tcpwm__wsan_pool *p, uint32_t i) { return tcpwm__pool_at(&p->records, i); }

static bool has_list(const tcpwm__wsan *c, unsigned side) { return (c->tail[side] & TAIL_LIVE) != 0; }

static uint32_t tail_of(const tcpwm__wsan *c, unsigned side) { return c->tail[side] & ~TAIL_LIVE; }

static uint32_t take_block(tcpwm__wsan_pool *p)
{
    uint32_t i = tcpwm__pool_alloc(&p->records);
    if (i != TCPWM__NIL) {
        p->in_use++;
        seg_blk *b = blk_at(p, i);
        b->first = 0;
        b->count = 0;
    }
    return i;
}

static void give_block(tcpwm__wsan_pool *p, uint32_t i)
{
    tcpwm__pool_free(&p->records, i);
    p->in_use--;
}

/* Room for one more segment at the end of side's list: the tail block
 * (its segments moved to the front when they sit at the back), or a new
 * block linked after it. The tail block, or NULL when the pool is full. */
static seg_blk *room_at_tail(tcpwm__wsan_pool *p, tcpwm__wsan *c, unsigned side)
{
    seg_blk *t = blk_at(p, tail_of(c, side));
    if (t->first + t->count < BLK_SLOTS)
        return t;
    if (t->first > 0) {
        memmove(t->end, t->end + t->first, t->count * sizeof t->end[0]);
        memmove(t->ns, t->ns + t->first, t->count * sizeof t->ns[0]);
        t->first = 0;
        return t;
    }
    uint32_t ni = take_block(p);
    if (ni == TCPWM__NIL)
        return NULL;
    seg_blk *nb = blk_at(p, ni);
    nb->next = t->next;
    nb->total = t->total;
    t->next = ni;
    c->tail[side] = ni | TAIL_LIVE;
    return nb;
}

static void put_last(seg_blk *b, uint32_t end, int64_t ns)
{
    unsigned k = (unsigned)b->first + b->count;
    b->end[k] = end;
    b->ns[k] = ns;
    b->count++;
}

/* Remembers a segment of side `side` ending at `end`, sent at ns; false
 * when a cap stops it. */
static bool remember(tcpwm__wsan_pool *p, tcpwm__wsan *c, unsigned side, uint32_t end, int64_t ns)
{
    seg_blk *t = has_list(c, side) ? blk_at(p, tail_of(c, side)) : NULL;
    uint32_t n = t ? t->total : 0u;
    if (n >= p->max_per_side)
        return false;
    if (n == 0) {
        uint32_t bi = take_block(p);
        if (bi == TCPWM__NIL)
            return false;
        seg_blk *b = blk_at(p, bi);
        b->next = bi;
        b->total = 1;
        c->tail[side] = bi | TAIL_LIVE;
        put_last(b, end, ns);
        return true;
    }
    bool in_order = le(t->end[t->first + t->count - 1u], end); /* the usual case */
    t = room_at_tail(p, c, side);
    if (t == NULL)
        return false;
    t->total = (uint16_t)(n + 1u);
    if (in_order) {
        put_last(t, end, ns);
        return true;
    }
    /* A retransmission ending below the newest: it goes before the first
     * segment that ends after it (one exists: the newest), and every
     * segment from there on moves one place towards the tail: the newest
     * lands in the room made at the tail. */
    const uint32_t tail = tail_of(c, side);
    uint32_t bi = blk_at(p, tail)->next;
    bool placing = false;
    for (;;) {
        seg_blk *b = blk_at(p, bi);
        unsigned stop = (unsigned)b->first + b->count;
        for (unsigned k = b->first; k < stop; k++) {
            if (!placing && !tcpwm__after(b->end[k], end))
                continue;
            placing = true;
            uint32_t e = b->end[k];
            int64_t t_ns = b->ns[k];
            b->end[k] = end;
            b->ns[k] = ns;
            end = e;
            ns = t_ns;
        }
        if (bi == tail)
            break;
        bi = b->next;
    }
    put_last(t, end, ns);
    return true;
}

/* Rule 6, the ACK RTT: the ACK's number takes every remembered segment of
 * side `side` that ends at or before it out of the list; one that ends
 * exactly at it gives the sample (the oldest such, when a retransmission
 * put the same end in twice). A sample of 0 is not shown by Wireshark. */
static int64_t take_acked(tcpwm__wsan_pool *p, tcpwm__wsan *c, unsigned side, uint32_t ack,
                          int64_t now_ns)
{
    if (!has_list(c, side))
        return -1;
    const uint32_t ti = tail_of(c, side);
    int64_t rtt = -1;
    seg_blk *t = blk_at(p, ti);
    uint32_t n = t->total;
    for (;;) {
        uint32_t bi = t->next; /* the oldest block */
        seg_blk *b = blk_at(p, bi);
        while (b->count) {
            unsigned k = b->first;
            if (tcpwm__after(b->end[k], ack))
                break;
            if (b->end[k] == ack && rtt < 0 && now_ns > b->ns[k])
                rtt = now_ns - b->ns[k];
            b->first++;
            b->count--;
            n--;
        }
        if (b->count)
            break;
        if (bi == ti) { /* the last block: the list is empty */
            give_block(p, bi);
            c->tail[side] = ti; /* kept, without the bit: see TAIL_LIVE */
            return rtt;
        }
        t->next = b->next;
        give_block(p, bi);
    }
    t->total = (uint16_t)n;
    return rtt;
}

static void forget_side(tcpwm__wsan_pool *p, tcpwm__wsan *c, unsigned side)
{
    if (!has_list(c, side))
        return;
    uint32_t tail = tail_of(c, side);
    uint32_t bi = blk_at(p, tail)->next;
    for (;;) {
        uint32_t nx = blk_at(p, bi)->next;
        give_block(p, bi);
        if (bi == tail)
            break;
        bi = nx;
    }
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* The tail block: for the segment appended to it and, when the list is a
 * single block (the usual case), for the ACK that takes from it. Without
 * testing whether each side has a list: whether it does changes from
 * packet to packet, a branch no predictor learns, and a side without one
 * fetches the block it had last, the one its next segment will most
 * likely take (TAIL_LIVE). */
void tcpwm__wsan_prefetch(const tcpwm__wsan_pool *p, const tcpwm__wsan *c)
{
    if (p->records.made == 0) /* not even block 0 yet */
        return;
    PREFETCH(blk_at(p, tail_of(c, 0)));
    PREFETCH(blk_at(p, tail_of(c, 1)));
}

uint32_t tcpwm__wsan_outstanding(const tcpwm__wsan_pool *p, const tcpwm__wsan *c, unsigned side)
{
    return has_list(c, side) ? blk_at(p, tail_of(c, side))->total : 0u;
}

void tcpwm__wsan_forget(tcpwm__wsan_pool *p, tcpwm__wsan *c)
{
    forget_side(p, c, 0);
    forget_side(p, c, 1);
    memset(c, 0, sizeof *c);
}

static unsigned dup_run(const tcpwm__wsan *c, unsigned side)
{
    return ((unsigned)c->hflags[side] & TCPWM__WS_DUP_MASK) >> TCPWM__WS_DUP_SHIFT;
}

static void set_dup_run(tcpwm__wsan *c, unsigned side, unsigned v)
{
    c->hflags[side] = (uint8_t)(((unsigned)c->hflags[side] & ~(unsigned)TCPWM__WS_DUP_MASK) |
                                (v << TCPWM__WS_DUP_SHIFT));
}

/* How long ago (us, saturating) side `side` sent its latest segment, at
 * time now; AGE_MAX if it never did. */
static uint64_t age_of(const tcpwm__wsan *c, unsigned side, uint32_t now)
{
    if (!(c->hflags[0] & TCPWM__WS_X2))
        return AGE_MAX;
    unsigned latest = (c->hflags[1] & TCPWM__WS_X2) ? 1u : 0u;
    uint64_t since = (uint32_t)(now - c->last_us);
    return latest == side ? since : since + c->other_age;
}

/* Rule 5, D-SACK (RFC 2883 section 4): the first SACK block reports
 * bytes received twice when it lies at or below the cumulative ACK
 * (condition 1), or inside the second block (condition 2). */
bool tcpwm__wsan_is_dsack(const tcpwm_segment *s)
{
    if (!(s->opt_present & TCPWM_OPT_SACK) || s->sack_count == 0)
        return false;
    uint32_t l0 = s->sack[0][0], r0 = s->sack[0][1];
    if (le(r0, s->ack))
        return true;
    if (s->sack_count >= 2) {
        uint32_t l1 = s->sack[1][0], r1 = s->sack[1][1];
        if (le(l1, l0) && le(r0, r1))
            return true;
    }
    return false;
}

tcpwm__wsan_in tcpwm__wsan_input(const tcpwm_segment *s)
{
    tcpwm__wsan_in in = {
        .ts_ns = s->ts_ns,
        .seq = s->seq,
        .ack = s->ack,
        .len = s->payload_len,
        .window = s->window,
        .flags = s->flags,
        .dsack = tcpwm__wsan_is_dsack(s) ? 1u : 0u,
    };
    return in;
}

void tcpwm__wsan_observe(tcpwm__wsan_pool *p, tcpwm__wsan *c, unsigned dir,
                         const tcpwm_segment *s, tcpwm__wsan_result *r)
{
    tcpwm__wsan_in in = tcpwm__wsan_input(s);
    tcpwm__wsan_observe_in(p, c, dir, &in, r);
}

void tcpwm__wsan_observe_in(tcpwm__wsan_pool *pool, tcpwm__wsan *c, unsigned dir,
                            const tcpwm__wsan_in *s, tcpwm__wsan_result *r)
{
    const unsigned d = dir & 1u, o = d ^ 1u;
    const uint8_t fl = s->flags;
    const bool synfin = (fl & (TCPWM_SYN | TCPWM_FIN)) != 0;
    const bool ctl = (fl & (TCPWM_SYN | TCPWM_FIN | TCPWM_RST)) != 0;
    const uint32_t len = s->len, seq = s->seq, ack = s->ack;
    const uint16_t win = s->window;
    const int64_t now_ns = s->ts_ns;
    const uint32_t now = to_us(now_ns);
    const uint32_t next = c->nextseq[d];
    const uint8_t peer_flags = c->hflags[o];
    bool zwp = false, ka = false;

    r->dup_ack = false;
    r->reordered = false;
    r->dsack = s->dsack != 0;
    r->rtt_untracked = false;
    r->retx = TCPWM_RETX_NONE;
    r->ack_rtt_ns = -1;
    r->handshake_rtt_ns = -1;

    /* Rule 1a, zero-window probe: one byte at nextseq while the peer's
     * latest window is 0 (RFC 9293 3.8.6.1). It is neither a duplicate ACK
     * nor a retransmission, and nextseq stays. */
    if (len == 1 && seq == next && c->window[o] == 0) {
        zwp = true;
        goto after_dup_ack;
    }
    /* Rule 1b, keep-alive: at most one byte at nextseq - 1, no SYN, FIN or
     * RST (RFC 9293 3.8.4). Never a retransmission. */
    ka = (len <= 1) & (seq == next - 1u) & !ctl; /* one test, not three */
    /* Rule 2, duplicate ACK (RFC 5681 section 2, in Wireshark's form): no
     * data, no SYN/FIN/RST, the same non-zero window, the same ACK and
     * seq == nextseq as this side's previous segment. An ACK that answers
     * the peer's keep-alive or zero-window probe in that form is an answer,
     * not a duplicate ACK. */
    if (len == 0 && !ctl && seq == next && ack == c->lastack[d] && win == c->window[d]) {
        if (win != 0 && (peer_flags & TCPWM__WS_LAST_KA))
            goto after_dup_ack;
        if (win == 0 && (peer_flags & TCPWM__WS_LAST_ZWP))
            goto after_dup_ack;
        if (win != 0) {
            unsigned run = dup_run(c, d);
            set_dup_run(c, d, run == TCPWM__WS_DUPNEG || run == TCPWM__WS_DUP0 ? TCPWM__WS_DUP1
                                                                               : TCPWM__WS_DUP2);
            r->dup_ack = true;
        }
    }
after_dup_ack:
    /* A new ACK number ends a run of duplicate ACKs. */
    if (ack != c->lastack[d])
        set_dup_run(c, d, TCPWM__WS_DUP0);
    /* An ACK beyond the contiguous data the peer was seen to send
     * ("ACKed unseen segment") resets the peer's duplicate-ACK run, unless
     * it only pulls that boundary back to the peer's nextseq. */
    if (c->maxack[o] && tcpwm__after(ack, c->maxack[o]) && (fl & TCPWM_ACK)) {
        if (c->maxack[o] > c->nextseq[o]) /* a plain comparison in Wireshark */
            c->maxack[o] = c->nextseq[o];
        else
            set_dup_run(c, o, TCPWM__WS_DUPNEG);
    }

    /* Rule 3, retransmission kinds, for segments that occupy sequence
     * space (data, SYN or FIN) and do not start past nextseq. */
    if ((len > 0 || synfin) && !ka) {
        bool not_advanced = next != 0 && tcpwm__before(seq, next);
        /* More than one byte starting at nextseq - 1 follows a probe that
         * sent the byte before: new data, not a retransmission. */
        if (len > 1 && next - 1u == seq)
            not_advanced = false;
        unsigned prun = dup_run(c, o);
        if (len > 0 && c->lastack[o] && le(seq + len, c->lastack[o])) {
            /* 3a spurious: every byte already acknowledged by the peer. */
            r->retx = TCPWM_RETX_SPURIOUS;
        } else if (not_advanced && prun >= TCPWM__WS_DUP2 && c->lastack[o] == seq &&
                   age_of(c, o, now) < FAST_RETX_WINDOW_US) {
            /* 3b fast (RFC 5681 3.2): at the peer's ACK after at least two
             * duplicate ACKs, soon after the peer's latest segment. The
             * "-1" left by an ACK of unseen data is an unsigned 2^32 - 1 in
             * Wireshark's comparison, so it passes too (zeek__reassembly).
             * Wireshark gives this precedence over reordering by default
             * (tcp.fastrt_supersedes_ooo). */
            r->retx = TCPWM_RETX_FAST;
        } else {
            uint32_t thres = (c->hflags[1] & TCPWM__WS_X1) ? c->hs_us : REORDER_DEFAULT_US;
            uint32_t end = seq + len + (synfin ? 1u : 0u);
            if (not_advanced && now - c->next_us[d] < thres && next != end)
                r->reordered = true; /* 3c: within an RTT of the highest segment */
            else if (not_advanced)
                r->retx = TCPWM_RETX_OTHER; /* 3d: timeouts, tail-loss probes, ... */
        }
    }

    /* Remember the segment for rule 6, and move nextseq (rule 4). */
    uint32_t end = seq + len;
    if (len > 0 || synfin) {
        end += synfin ? 1u : 0u;
        if (!remember(pool, c, d, end, now_ns))
            r->rtt_untracked = true;
    }
    if ((tcpwm__after(end, c->nextseq[d]) || c->nextseq[d] == 0) && !zwp) {
        c->nextseq[d] = end;
        c->next_us[d] = now;
    }
    if ((seq == c->maxack[d] || c->maxack[d] == 0) && !zwp)
        c->maxack[d] = c->nextseq[d];
    c->window[d] = win;
    c->lastack[d] = ack;
    c->hflags[d] = (uint8_t)(((unsigned)c->hflags[d] &
                              ~(unsigned)(TCPWM__WS_LAST_KA | TCPWM__WS_LAST_ZWP)) |
                             (ka ? (unsigned)TCPWM__WS_LAST_KA : 0u) |
                             (zwp ? (unsigned)TCPWM__WS_LAST_ZWP : 0u));
    /* This side is now the latest; the other side's age moves to now. */
    uint64_t other = age_of(c, o, now);
    c->other_age = (uint16_t)(other < AGE_MAX ? other : AGE_MAX);
    c->last_us = now;
    c->hflags[0] |= TCPWM__WS_X2;
    if (d)
        c->hflags[1] |= TCPWM__WS_X2;
    else
        c->hflags[1] &= (uint8_t)~TCPWM__WS_X2;

    /* Rule 6: this segment's ACK number against the peer's list (whatever
     * its flags: Wireshark reads the field as it is). */
    r->ack_rtt_ns = take_acked(pool, c, o, ack, now_ns);

    /* Rule 7, handshake RTT (dissect_tcp): from the latest SYN without ACK,
     * in either direction, to the first segment with ACK and without SYN;
     * once per connection. A capture time of exactly 0 and a difference of
     * 0 both mean "not set" to Wireshark. */
    if (!(c->hflags[1] & TCPWM__WS_X1)) {
        if ((fl & (TCPWM_SYN | TCPWM_ACK)) == TCPWM_ACK && (c->hflags[0] & TCPWM__WS_X1)) {
            uint32_t dt = now - c->hs_us;
            if (dt != 0) {
                c->hs_us = dt;
                c->hflags[1] |= TCPWM__WS_X1;
                r->handshake_rtt_ns = (int64_t)dt * 1000;
            }
        } else if ((fl & (TCPWM_SYN | TCPWM_ACK)) == TCPWM_SYN && now_ns != 0) {
            c->hs_us = now;
            c->hflags[0] |= TCPWM__WS_X1;
        }
    }
}
