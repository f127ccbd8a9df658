/* SPDX-License-Identifier: MIT */
/* Wireshark's TCP analysis rules (core/src/wsan.c, docs/semantics.md section 7):
 * handshake RTT, ACK RTT, duplicate ACKs, fast / spurious / other
 * retransmissions, reordering, keep-alives, zero-window probes, D-SACK,
 * the bounded list. Expected values follow the rules as stated in
 * docs/semantics.md section 7 (from Wireshark 4.0's packet-tcp.c), not the
 * code's output. Side 0 is the client (ISN 1000), side 1 the server
 * (ISN 5000). Times in microseconds. */
#include "check.h"
#include "wsan.h"

#define MS 1000000LL /* ns */
#define US 1000LL

static tcpwm__wsan c;
static tcpwm__wsan_result r;
static tcpwm__wsan_pool pool;

/* A fresh connection: its records back to the pool, its state zeroed. */
static void reset(void) { tcpwm__wsan_forget(&pool, &c); }

static void seg(unsigned dir, int64_t t_ns, uint8_t flags, uint32_t seq, uint32_t ack,
                uint32_t len, uint16_t win)
{
    tcpwm_segment s;
    memset(&s, 0, offsetof(tcpwm_segment, encap));
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.payload_len = len;
    s.window = win;
    s.ts_ns = t_ns;
    tcpwm__wsan_observe(&pool, &c, dir, &s, &r);
}

enum { A = TCPWM_ACK, S = TCPWM_SYN, F = TCPWM_FIN, R = TCPWM_RST };
#define T0 (1700000000LL * 1000000000LL)

/* SYN at 0, SYN-ACK at 10 ms, ACK at 20 ms: handshake RTT 20 ms on the
 * ACK, once; the client's data at 21 ms is acknowledged at 31 ms: ACK RTT
 * 10 ms; the SYN-ACK is acknowledged by the handshake ACK (10 ms). */
static void handshake(void)
{
    reset();
    seg(0, T0, S, 1000, 0, 0, 64240);
    CHECK(r.handshake_rtt_ns == -1 && r.ack_rtt_ns == -1);
    seg(1, T0 + 10 * MS, S | A, 5000, 1001, 0, 65160);
    CHECK_EQ_U64(r.ack_rtt_ns, 10 * MS); /* acknowledges the SYN (end 1001) */
    CHECK(r.handshake_rtt_ns == -1);     /* a SYN-ACK is not the completing ACK */
    seg(0, T0 + 20 * MS, A, 1001, 5001, 0, 502);
    CHECK_EQ_U64(r.handshake_rtt_ns, 20 * MS);
    CHECK_EQ_U64(r.ack_rtt_ns, 10 * MS);
    CHECK(!r.dup_ack && r.retx == TCPWM_RETX_NONE && !r.reordered);
}

static void test_rtt(void)
{
    handshake();
    seg(0, T0 + 21 * MS, A, 1001, 5001, 100, 502);
    CHECK(r.ack_rtt_ns == -1 && r.handshake_rtt_ns == -1);
    seg(0, T0 + 22 * MS, A, 1101, 5001, 100, 502);
    /* An ACK of the first segment only: its sample. */
    seg(1, T0 + 31 * MS, A, 5001, 1101, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 10 * MS);
    CHECK(r.handshake_rtt_ns == -1); /* once per connection */
    /* An ACK of the second, sent at 22 ms: 10.5 ms. */
    seg(1, T0 + 32 * MS + 500 * US, A, 5001, 1201, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 10 * MS + 500 * US);
    /* An ACK inside a segment gives no sample; the ACK of its end does. */
    seg(0, T0 + 40 * MS, A, 1201, 5001, 300, 502);
    seg(1, T0 + 45 * MS, A, 5001, 1301, 0, 509);
    CHECK(r.ack_rtt_ns == -1);
    seg(1, T0 + 50 * MS, A, 5001, 1501, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 10 * MS);
    /* Acknowledged twice: the second ACK has nothing left to time. */
    seg(1, T0 + 51 * MS, A, 5001, 1501, 0, 510);
    CHECK(r.ack_rtt_ns == -1);
}

/* Wireshark times an ACK from the oldest copy of a segment that ends where
 * the ACK does (no Karn's rule); a sample of 0 is not shown. */
static void test_rtt_retransmitted_and_zero(void)
{
    handshake();
    seg(0, T0 + 30 * MS, A, 1001, 5001, 100, 502);
    seg(0, T0 + 330 * MS, A, 1001, 5001, 100, 502); /* timeout retransmission */
    CHECK(r.retx == TCPWM_RETX_OTHER);
    seg(1, T0 + 340 * MS, A, 5001, 1101, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 310 * MS);
    seg(0, T0 + 400 * MS, A, 1101, 5001, 10, 502);
    seg(1, T0 + 400 * MS, A, 5001, 1111, 0, 509);
    CHECK(r.ack_rtt_ns == -1);
}

/* Duplicate ACKs: same ack, window and nextseq, no data, no SYN/FIN/RST;
 * a change of window or ack ends the run; window 0 is never one. */
static void test_dup_ack(void)
{
    handshake();
    seg(1, T0 + 30 * MS, A, 5001, 1001, 0, 509); /* ack unchanged, window changed */
    CHECK(!r.dup_ack);                           /* a window update */
    seg(1, T0 + 31 * MS, A, 5001, 1001, 0, 509);
    CHECK(r.dup_ack);
    seg(1, T0 + 32 * MS, A, 5001, 1001, 0, 509);
    CHECK(r.dup_ack);
    seg(1, T0 + 33 * MS, A | F, 5001, 1001, 0, 509);
    CHECK(!r.dup_ack); /* FIN */
    reset();
    seg(0, T0, A, 1, 1, 0, 0);
    seg(0, T0 + 1, A, 1, 1, 0, 0);
    CHECK(!r.dup_ack); /* window 0 */
    seg(0, T0 + 2, A, 1, 1, 0, 10);
    seg(0, T0 + 3, A, 2, 1, 0, 10);
    CHECK(!r.dup_ack); /* seq moved past nextseq: not a duplicate */
}

/* Fast retransmission: data starting at the peer's ACK after two or more
 * duplicate ACKs, within 20 ms of the peer's latest segment. */
static void test_fast_retransmission(void)
{
    handshake();
    for (uint32_t i = 0; i < 4; i++)
        seg(0, T0 + 30 * MS, A, 1001 + 100 * i, 5001, 100, 502); /* 1001..1401 */
    seg(1, T0 + 40 * MS, A, 5001, 1101, 0, 509);
    seg(1, T0 + 41 * MS, A, 5001, 1101, 0, 509);
    CHECK(r.dup_ack);
    seg(1, T0 + 42 * MS, A, 5001, 1101, 0, 509);
    CHECK(r.dup_ack);
    seg(0, T0 + 43 * MS, A, 1101, 5001, 100, 502);
    CHECK(r.retx == TCPWM_RETX_FAST && !r.reordered);
    /* The same 25 ms after the latest duplicate ACK is no longer "fast",
     * nor reordering (nextseq moved 37 ms before, more than the 20 ms
     * handshake RTT): another retransmission. */
    handshake();
    for (uint32_t i = 0; i < 4; i++)
        seg(0, T0 + 30 * MS, A, 1001 + 100 * i, 5001, 100, 502);
    seg(1, T0 + 40 * MS, A, 5001, 1101, 0, 509);
    seg(1, T0 + 41 * MS, A, 5001, 1101, 0, 509);
    seg(1, T0 + 42 * MS, A, 5001, 1101, 0, 509);
    seg(0, T0 + 67 * MS, A, 1101, 5001, 100, 502);
    CHECK(r.retx == TCPWM_RETX_OTHER && !r.reordered);
}

/* Spurious: every byte already acknowledged by the peer (checked first). */
static void test_spurious(void)
{
    handshake();
    seg(0, T0 + 30 * MS, A, 1001, 5001, 100, 502);
    seg(1, T0 + 40 * MS, A, 5001, 1101, 0, 509);
    seg(0, T0 + 41 * MS, A, 1001, 5001, 100, 502);
    CHECK(r.retx == TCPWM_RETX_SPURIOUS && !r.reordered);
    /* Bytes beyond the ACK: not spurious; 11 ms after nextseq moved,
     * under the 20 ms handshake RTT: reordered. */
    seg(0, T0 + 41 * MS, A, 1101, 5001, 100, 502); /* new data up to 1201 */
    CHECK(r.retx == TCPWM_RETX_NONE && !r.reordered);
    seg(0, T0 + 52 * MS, A, 1150, 5001, 50, 502); /* inside, ends 1200 */
    CHECK(r.retx == TCPWM_RETX_NONE && r.reordered);
}

/* Reordering: before nextseq, within the handshake RTT (3 ms when unknown)
 * of the moment nextseq last moved, and not ending exactly at nextseq. */
static void test_reordering_threshold(void)
{
    reset(); /* no handshake: 3 ms */
    seg(0, T0, A, 1000, 1, 100, 100);
    seg(0, T0 + 1 * MS, A, 1200, 1, 100, 100); /* 1100..1200 missing */
    seg(0, T0 + 3 * MS, A, 1100, 1, 100, 100); /* 2 ms later: reordered */
    CHECK(r.reordered && r.retx == TCPWM_RETX_NONE);
    seg(0, T0 + 4 * MS, A, 1300, 1, 100, 100);
    seg(0, T0 + 7 * MS, A, 1000, 1, 100, 100); /* 3 ms: not < 3 ms */
    CHECK(!r.reordered && r.retx == TCPWM_RETX_OTHER);
    seg(0, T0 + 8 * MS, A, 1400, 1, 100, 100);   /* nextseq 1500 */
    seg(0, T0 + 9 * MS, A, 1400, 1, 100, 100);   /* ends at nextseq: */
    CHECK(!r.reordered && r.retx == TCPWM_RETX_OTHER); /* a retransmission */
}

/* Keep-alive (seq = nextseq - 1, at most 1 byte) is no retransmission,
 * and its answer is no duplicate ACK; a zero-window probe neither. */
static void test_keepalive_and_probe(void)
{
    handshake();
    seg(0, T0 + 30 * MS, A, 1001, 5001, 100, 502);
    seg(1, T0 + 40 * MS, A, 5001, 1101, 0, 509);
    seg(1, T0 + 41 * MS, A, 5001, 1101, 0, 509);
    CHECK(r.dup_ack);
    seg(0, T0 + 5000 * MS, A, 1100, 5001, 1, 502); /* keep-alive */
    CHECK(r.retx == TCPWM_RETX_NONE && !r.reordered);
    seg(1, T0 + 5010 * MS, A, 5001, 1101, 0, 509); /* its answer */
    CHECK(!r.dup_ack);
    /* Zero window from the server, then a one-byte probe at nextseq. */
    seg(1, T0 + 6000 * MS, A, 5001, 1101, 0, 0);
    seg(0, T0 + 6100 * MS, A, 1101, 5001, 1, 502);
    CHECK(r.retx == TCPWM_RETX_NONE);
    seg(0, T0 + 6300 * MS, A, 1101, 5001, 1, 502); /* probe again: nextseq stayed */
    CHECK(r.retx == TCPWM_RETX_NONE && !r.reordered);
    seg(1, T0 + 6310 * MS, A, 5001, 1101, 0, 0); /* answer, window still 0 */
    CHECK(!r.dup_ack);
}

/* D-SACK (RFC 2883): first block at or below the ACK, or inside the second. */
static void test_dsack(void)
{
    tcpwm_segment s;
    reset();
    memset(&s, 0, offsetof(tcpwm_segment, encap));
    s.flags = A;
    s.seq = 1;
    s.ack = 3000;
    s.window = 100;
    s.opt_present = TCPWM_OPT_SACK;
    s.sack_count = 1;
    s.sack[0][0] = 2000;
    s.sack[0][1] = 3000;
    s.ts_ns = T0;
    tcpwm__wsan_observe(&pool, &c, 0, &s, &r);
    CHECK(r.dsack);
    s.sack[0][0] = 3500;
    s.sack[0][1] = 4000;
    s.ts_ns = T0;
    tcpwm__wsan_observe(&pool, &c, 0, &s, &r);
    CHECK(!r.dsack); /* an ordinary SACK block above the ACK */
    s.sack_count = 2;
    s.sack[1][0] = 3200;
    s.sack[1][1] = 4500;
    s.ts_ns = T0;
    tcpwm__wsan_observe(&pool, &c, 0, &s, &r);
    CHECK(r.dsack); /* inside the second block */
    s.sack[0][0] = 0xfffffff0u; /* below the ACK across the wrap */
    s.sack[0][1] = 0x10u;
    s.ack = 0x20u;
    s.sack_count = 1;
    s.ts_ns = T0;
    tcpwm__wsan_observe(&pool, &c, 0, &s, &r);
    CHECK(r.dsack);
}

/* The pool's caps: with 2 segments per side, the third outstanding
 * segment is not remembered (rtt_untracked) and its ACK gives no sample;
 * acknowledged segments go back to the pool. */
static void test_caps(void)
{
    tcpwm__wsan_pool_destroy(&pool);
    tcpwm__wsan_pool_init(&pool, 1000, 2);
    handshake(); /* SYN and SYN-ACK were acknowledged: nothing outstanding */
    CHECK_EQ_U64(pool.in_use, 0);
    seg(0, T0 + 30 * MS, A, 1001, 5001, 100, 502);
    CHECK(!r.rtt_untracked);
    seg(0, T0 + 30 * MS, A, 1101, 5001, 100, 502);
    CHECK(!r.rtt_untracked);
    CHECK_EQ_U64(pool.in_use, 1); /* one block holds both segments */
    seg(0, T0 + 31 * MS, A, 1201, 5001, 100, 502);
    CHECK(r.rtt_untracked);
    seg(1, T0 + 50 * MS, A, 5001, 1301, 0, 509);
    CHECK(r.ack_rtt_ns == -1); /* its segment was not remembered */
    CHECK_EQ_U64(pool.in_use, 0);
    /* The global cap: 2 blocks hold eight segments of one direction (the
     * handshake needs both at a time: a SYN-ACK is remembered before it
     * acknowledges the SYN). */
    tcpwm__wsan_pool_destroy(&pool);
    tcpwm__wsan_pool_init(&pool, 2, 100);
    handshake();
    for (uint32_t i = 0; i < 8; i++) {
        seg(0, T0 + 30 * MS, A, 1001 + 100 * i, 5001, 100, 502);
        CHECK(!r.rtt_untracked);
    }
    seg(0, T0 + 30 * MS, A, 1801, 5001, 100, 502);
    CHECK(r.rtt_untracked);
    CHECK_EQ_U64(pool.in_use, 2);
    tcpwm__wsan_forget(&pool, &c);
    CHECK_EQ_U64(pool.in_use, 0);
    tcpwm__wsan_pool_destroy(&pool);
    tcpwm__wsan_pool_init(&pool, 1u << 16, 1u << 14);
}

/* A retransmission ending below the newest segment goes into the list in
 * order of end: an ACK of it takes its first copy's sample and leaves the
 * later segments; two connections do not mix. */
static void test_sorted_and_two_connections(void)
{
    handshake();
    seg(0, T0 + 30 * MS, A, 1001, 5001, 100, 502);
    seg(0, T0 + 31 * MS, A, 1101, 5001, 100, 502);
    seg(0, T0 + 32 * MS, A, 1201, 5001, 100, 502);
    seg(0, T0 + 300 * MS, A, 1001, 5001, 100, 502); /* timeout retransmission */
    CHECK(r.retx == TCPWM_RETX_OTHER);
    tcpwm__wsan other = {0};
    tcpwm__wsan_result r2;
    tcpwm_segment s2;
    memset(&s2, 0, offsetof(tcpwm_segment, encap));
    s2.flags = A;
    s2.seq = 1001;
    s2.ack = 1;
    s2.payload_len = 50;
    s2.window = 100;
    s2.ts_ns = T0 + 305 * MS;
    tcpwm__wsan_observe(&pool, &other, 0, &s2, &r2);
    seg(1, T0 + 310 * MS, A, 5001, 1101, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 280 * MS); /* from the first copy, at 30 ms */
    seg(1, T0 + 320 * MS, A, 5001, 1301, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 288 * MS); /* the segment sent at 32 ms */
    s2.flags = A;
    s2.seq = 1;
    s2.ack = 1051;
    s2.payload_len = 0;
    s2.ts_ns = T0 + 306 * MS;
    tcpwm__wsan_observe(&pool, &other, 1, &s2, &r2);
    CHECK_EQ_U64(r2.ack_rtt_ns, 1 * MS);
    CHECK_EQ_U64(pool.in_use, 0);
    tcpwm__wsan_forget(&pool, &other);
}

/* Past one block: a list of three blocks, a retransmission sorted in
 * among them, a partial ACK that empties the first blocks and leaves the
 * rest in order, an ACK that empties the list. */
static void test_blocks(void)
{
    handshake();
    for (uint32_t i = 0; i < 9; i++) /* ends 1101 .. 1901 at 30 .. 38 ms */
        seg(0, T0 + (30 + i) * MS, A, 1001 + 100 * i, 5001, 100, 502);
    CHECK_EQ_U64(pool.in_use, 3);
    seg(0, T0 + 300 * MS, A, 1101, 5001, 100, 502); /* ends 1201, a timeout retransmission */
    CHECK(r.retx == TCPWM_RETX_OTHER);
    CHECK_EQ_U64(tcpwm__wsan_outstanding(&pool, &c, 0), 10);
    seg(1, T0 + 310 * MS, A, 5001, 1201, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 279 * MS); /* the first copy, sent at 31 ms */
    CHECK_EQ_U64(tcpwm__wsan_outstanding(&pool, &c, 0), 7);          /* 1101 and both copies of 1201 went */
    seg(1, T0 + 320 * MS, A, 5001, 1701, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 284 * MS); /* sent at 36 ms */
    CHECK_EQ_U64(tcpwm__wsan_outstanding(&pool, &c, 0), 2);
    CHECK_EQ_U64(pool.in_use, 1);
    seg(1, T0 + 330 * MS, A, 5001, 1901, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 292 * MS); /* sent at 38 ms */
    CHECK_EQ_U64(tcpwm__wsan_outstanding(&pool, &c, 0), 0);
    CHECK_EQ_U64(pool.in_use, 0);
}

/* Nanosecond stamps: the ACK RTT keeps them. */
static void test_nanoseconds(void)
{
    handshake();
    seg(0, T0 + 30 * MS + 123, A, 1001, 5001, 100, 502);
    seg(1, T0 + 40 * MS + 456, A, 5001, 1101, 0, 509);
    CHECK_EQ_U64(r.ack_rtt_ns, 10 * MS + 333);
}

int main(void)
{
    /* The budget: 56 bytes of the flow's 80 of analysis state (analyzer.h). */
    CHECK_EQ_U64(sizeof(tcpwm__wsan), 56);
    CHECK_EQ_U64(TCPWM__WSAN_BYTES, 56);
    tcpwm__wsan_pool_init(&pool, 1u << 16, 1u << 14);
    CHECK_STREQ(tcpwm__wsan_retx_label(TCPWM_RETX_FAST), "fast");
    test_rtt();
    test_rtt_retransmitted_and_zero();
    test_dup_ack();
    test_fast_retransmission();
    test_spurious();
    test_reordering_threshold();
    test_keepalive_and_probe();
    test_dsack();
    test_caps();
    test_sorted_and_two_connections();
    test_blocks();
    test_nanoseconds();
    reset();
    CHECK_EQ_U64(pool.in_use, 0);
    tcpwm__wsan_pool_destroy(&pool);
    return check_finish("test_wsan");
}
