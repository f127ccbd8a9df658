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

#include <stdlib.h>
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
 * Each direction with outstanding segments has a list head, found through
 * a hash of (connection id, side), and a circular list of segments sorted
 * by end (equal ends in arrival order), whose tail the head points at: new
 * data appends at the tail, an ACK takes from the front, and only a
 * retransmission ending below the newest segment walks the list. */
typedef struct seg_rec {
    uint32_t end;  /* seq + payload + SYN + FIN: the ACK that takes a sample */
    uint32_t next; /* next record of the circular list */
    int64_t ns;    /* capture time */
} seg_rec;

typedef struct head_rec {
    uint32_t key;   /* connection id * 2 + side */
    uint32_t hnext; /* next head in the same bucket */
    uint32_t tail;  /* newest (highest end) segment */
    uint32_t count; /* segments in the list */
} head_rec;

_Static_assert(sizeof(seg_rec) == TCPWM__WSAN_RECORD_BYTES, "segment records are 16 bytes");
_Static_assert(sizeof(head_rec) <= TCPWM__WSAN_RECORD_BYTES, "list heads fit a record");

int tcpwm__wsan_pool_init(tcpwm__wsan_pool *p, uint32_t max_records, uint32_t max_per_side)
{
    if (max_records > UINT32_MAX - 1u)
        max_records = UINT32_MAX - 1u;
    uint32_t n = 1024;
    while (n < max_records / 4u && n < (1u << 30))
        n <<= 1;
    p->bucket = malloc((size_t)n * sizeof *p->bucket);
    if (!p->bucket)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        p->bucket[i] = TCPWM__NIL;
    p->nbuckets = n;
    p->max_per_side = max_per_side;
    p->in_use = 0;
    tcpwm__pool_init(&p->records, TCPWM__WSAN_RECORD_BYTES, max_records);
    return 0;
}

void tcpwm__wsan_pool_destroy(tcpwm__wsan_pool *p)
{
    tcpwm__pool_destroy(&p->records);
    free(p->bucket);
    p->bucket = NULL;
    p->nbuckets = 0;
    p->in_use = 0;
}

size_t tcpwm__wsan_pool_memory(const tcpwm__wsan_pool *p)
{
    return tcpwm__pool_memory(&p->records) + (size_t)p->nbuckets * sizeof *p->bucket;
}

static seg_rec *seg_at(const tcpwm__wsan_pool *p, uint32_t i) { return tcpwm__pool_at(&p->records, i); }
static head_rec *head_at(const tcpwm__wsan_pool *p, uint32_t i) { return tcpwm__pool_at(&p->records, i); }

static uint32_t *bucket_of(const tcpwm__wsan_pool *p, uint32_t key)
{
    uint32_t h = key * 0x9e3779b1u;
    h ^= h >> 15;
    return &p->bucket[h & (p->nbuckets - 1u)];
}

static uint32_t take_record(tcpwm__wsan_pool *p)
{
    uint32_t i = tcpwm__pool_alloc(&p->records);
    if (i != TCPWM__NIL)
        p->in_use++;
    return i;
}

static void give_record(tcpwm__wsan_pool *p, uint32_t i)
{
    tcpwm__pool_free(&p->records, i);
    p->in_use--;
}

/* The head of side `side` of connection `id`, or NIL; *link is where it
 * is linked from (for unlinking). */
static uint32_t find_head(const tcpwm__wsan_pool *p, uint32_t key, uint32_t **link)
{
    uint32_t *l = bucket_of(p, key);
    while (*l != TCPWM__NIL) {
        head_rec *h = head_at(p, *l);
        if (h->key == key)
            break;
        l = &h->hnext;
    }
    *link = l;
    return *l;
}

static void drop_head(tcpwm__wsan_pool *p, uint32_t *link, uint32_t hi)
{
    *link = head_at(p, hi)->hnext;
    give_record(p, hi);
}

/* Remembers a segment ending at `end`, sent at ns; false when a cap stops it. */
static bool remember(tcpwm__wsan_pool *p, tcpwm__wsan *c, uint32_t key, unsigned side,
                     uint32_t end, int64_t ns)
{
    uint32_t *link;
    uint32_t hi = (c->hflags[side] & TCPWM__WS_OUT) ? find_head(p, key, &link) : TCPWM__NIL;
    if (hi != TCPWM__NIL && head_at(p, hi)->count >= p->max_per_side)
        return false;
    if (hi == TCPWM__NIL && p->max_per_side == 0)
        return false;
    uint32_t si = take_record(p);
    if (si == TCPWM__NIL)
        return false;
    seg_rec *s = seg_at(p, si);
    s->end = end;
    s->ns = ns;
    if (hi == TCPWM__NIL) {
        hi = take_record(p);
        if (hi == TCPWM__NIL) {
            give_record(p, si);
            return false;
        }
        uint32_t *b = bucket_of(p, key);
        head_rec *h = head_at(p, hi);
        h->key = key;
        h->hnext = *b;
        h->tail = si;
        h->count = 1;
        *b = hi;
        s->next = si;
        c->hflags[side] |= TCPWM__WS_OUT;
        return true;
    }
    head_rec *h = head_at(p, hi);
    seg_rec *t = seg_at(p, h->tail);
    h->count++;
    if (le(t->end, end)) { /* the usual case: the newest end */
        s->next = t->next;
        t->next = si;
        h->tail = si;
        return true;
    }
    /* A retransmission ending below the newest: before the first record
     * that ends after it (one exists: the tail). */
    uint32_t prev = h->tail;
    uint32_t cur = t->next;
    while (le(seg_at(p, cur)->end, end)) {
        prev = cur;
        cur = seg_at(p, cur)->next;
    }
    s->next = cur;
    seg_at(p, prev)->next = si;
    return true;
}

/* Rule 6, the ACK RTT: the ACK's number takes every remembered segment of
 * side `side` that ends at or before it out of the list; one that ends
 * exactly at it gives the sample (the oldest such, when a retransmission
 * put the same end in twice). A sample of 0 is not shown by Wireshark. */
static int64_t take_acked(tcpwm__wsan_pool *p, tcpwm__wsan *c, uint32_t key, unsigned side,
                          uint32_t ack, int64_t now_ns)
{
    if (!(c->hflags[side] & TCPWM__WS_OUT))
        return -1;
    uint32_t *link;
    uint32_t hi = find_head(p, key, &link);
    if (hi == TCPWM__NIL) {
        c->hflags[side] &= (uint8_t)~TCPWM__WS_OUT;
        return -1;
    }
    head_rec *h = head_at(p, hi);
    int64_t rtt = -1;
    while (h->count) {
        seg_rec *t = seg_at(p, h->tail);
        uint32_t first = t->next;
        seg_rec *s = seg_at(p, first);
        if (tcpwm__after(s->end, ack))
            break;
        if (s->end == ack && rtt < 0 && now_ns > s->ns)
            rtt = now_ns - s->ns;
        t->next = s->next;
        h->count--;
        give_record(p, first);
    }
    if (h->count == 0) {
        drop_head(p, link, hi);
        c->hflags[side] &= (uint8_t)~TCPWM__WS_OUT;
    }
    return rtt;
}

static void forget_side(tcpwm__wsan_pool *p, tcpwm__wsan *c, uint32_t key, unsigned side)
{
    if (!(c->hflags[side] & TCPWM__WS_OUT))
        return;
    uint32_t *link;
    uint32_t hi = find_head(p, key, &link);
    if (hi == TCPWM__NIL)
        return;
    head_rec *h = head_at(p, hi);
    uint32_t i = seg_at(p, h->tail)->next;
    for (uint32_t k = 0; k < h->count; k++) {
        uint32_t nx = seg_at(p, i)->next;
        give_record(p, i);
        i = nx;
    }
    drop_head(p, link, hi);
}

void tcpwm__wsan_forget(tcpwm__wsan_pool *p, tcpwm__wsan *c, uint32_t conn_id)
{
    forget_side(p, c, conn_id * 2u, 0);
    forget_side(p, c, conn_id * 2u + 1u, 1);
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
static bool is_dsack(const tcpwm_segment *s)
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

void tcpwm__wsan_observe(tcpwm__wsan_pool *pool, tcpwm__wsan *c, uint32_t conn_id, unsigned dir,
                         const tcpwm_segment *s, tcpwm__wsan_result *r)
{
    const unsigned d = dir & 1u, o = d ^ 1u;
    const uint8_t fl = s->flags;
    const bool synfin = (fl & (TCPWM_SYN | TCPWM_FIN)) != 0;
    const bool ctl = (fl & (TCPWM_SYN | TCPWM_FIN | TCPWM_RST)) != 0;
    const uint32_t len = s->payload_len, seq = s->seq, ack = s->ack;
    const uint16_t win = s->window;
    const int64_t now_ns = s->ts_ns;
    const uint32_t now = to_us(now_ns);
    const uint32_t next = c->nextseq[d];
    const uint8_t peer_flags = c->hflags[o];
    bool zwp = false, ka = false;

    r->dup_ack = false;
    r->reordered = false;
    r->dsack = is_dsack(s);
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
    if (len <= 1 && seq == next - 1u && !ctl)
        ka = true;
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
        if (!remember(pool, c, conn_id * 2u + d, d, end, now_ns))
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
    r->ack_rtt_ns = take_acked(pool, c, conn_id * 2u + o, o, ack, now_ns);

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
