/* SPDX-License-Identifier: MIT */
/* IP fragment reassembly (core/src/reasm.c). Expected values come from
 * the rules in docs/semantics.md ("IP fragment reassembly") and the RFCs
 * they cite: RFC 791 3.2 (IPv4 key, offsets in 8-byte units, every
 * fragment but the last a multiple of 8), RFC 8200 4.5 (IPv6, 65535-byte
 * limit, exact duplicates may be dropped), RFC 5722 (an overlap discards
 * the whole datagram, later fragments included), RFC 1858 (tiny
 * fragments), and Linux's 30 s ipfrag_time for the timeout. */
#include "check.h"
#include "reasm.h"
#include "tcpwm/err.h"

#define SEC INT64_C(1000000000)
#define T0 (1700000000 * SEC)

/* The datagram payload the tests cut into fragments: byte i is i * 7 + 3
 * (mod 256), so a byte in the wrong place shows. */
static uint8_t payload[70000];

static void fill_payload(void)
{
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
}

/* A fragment of `payload` at [off, off + len), fully captured, between
 * 192.0.2.1 and 198.51.100.2, protocol TCP, identification id. */
static tcpwm__frag frag(uint32_t id, uint32_t off, uint32_t len, bool more, int64_t ts)
{
    tcpwm__frag f;
    memset(&f, 0, sizeof(f));
    f.family = 4;
    f.proto = 6;
    f.src[0] = 192, f.src[1] = 0, f.src[2] = 2, f.src[3] = 1;
    f.dst[0] = 198, f.dst[1] = 51, f.dst[2] = 100, f.dst[3] = 2;
    f.id = id;
    f.offset = off;
    f.len = len;
    f.hdr_len = 20; /* IPv4 header without options */
    f.more = more;
    f.data = payload + off;
    f.caplen = len;
    f.ts_ns = ts;
    return f;
}

static tcpwm__frag frag6(uint32_t id, uint32_t off, uint32_t len, bool more, int64_t ts)
{
    tcpwm__frag f = frag(id, off, len, more, ts);
    f.family = 6;
    memset(f.src, 0, 16);
    memset(f.dst, 0, 16);
    f.src[0] = 0x20, f.src[1] = 0x01, f.src[2] = 0x0d, f.src[3] = 0xb8, f.src[15] = 1;
    f.dst[0] = 0x20, f.dst[1] = 0x01, f.dst[2] = 0x0d, f.dst[3] = 0xb8, f.dst[15] = 2;
    f.hdr_len = 0; /* no extension headers before the Fragment header */
    return f;
}

static tcpwm__reasm new_reasm(uint32_t max)
{
    tcpwm__reasm r;
    int err = tcpwm__reasm_init(&r, max, TCPWM__REASM_DEFAULT_TIMEOUT_NS, 64, 42);
    CHECK_EQ_U64(err, 0);
    return r;
}

static uint64_t oc(const tcpwm__reasm *r, int o) { return r->counts.outcome[o]; }

/* The first min(60, total) bytes of hdr are the payload's. */
static bool header_is_payload(const tcpwm__reasm_out *o, uint32_t n)
{
    return memcmp(o->hdr, payload, n) == 0;
}

/* 3000 payload bytes (a 20-byte TCP header and 2980 of data) cut at a
 * 1500-byte MTU: 1480 + 1480 + 40, offsets 0, 185 and 370 units of 8. */
static void test_in_order(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    CHECK_EQ_U64(tcpwm__reasm_memory(&r), 0); /* nothing before a first fragment */
    tcpwm__frag a = frag(1, 0, 1480, true, T0), b = frag(1, 1480, 1480, true, T0 + 10),
                c = frag(1, 2960, 40, false, T0 + 20);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_HELD);
    CHECK(tcpwm__reasm_memory(&r) > 0);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 3000);
    CHECK_EQ_U64(o.hdr_caplen, 60);
    CHECK(header_is_payload(&o, 60));
    CHECK_EQ_U64(o.ts_ns, T0 + 20); /* the completing fragment's time */
    CHECK_EQ_U64(o.proto, 6);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_REASSEMBLED), 1);
    CHECK_EQ_U64(r.counts.started, 1);
    CHECK_EQ_U64(r.live, 0);
    CHECK_EQ_U64(r.count, 0);
    tcpwm__reasm_destroy(&r);
}

static void test_reverse_order(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    tcpwm__frag c = frag(2, 2960, 40, false, T0), b = frag(2, 1480, 1480, true, T0 + 1),
                a = frag(2, 0, 1480, true, T0 + 2);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 3000);
    CHECK_EQ_U64(o.hdr_caplen, 60);
    CHECK(header_is_payload(&o, 60));
    CHECK_EQ_U64(o.ts_ns, T0 + 2);
    tcpwm__reasm_destroy(&r);
}

/* Ten fragments of 8 * 100 bytes and a last of 5: 8005 bytes, added in a
 * fixed shuffled order. Complete exactly when the tenth arrives, at no
 * point needing more than the ranges it has. */
static void test_random_order(void)
{
    static const unsigned order[11] = {7, 2, 10, 0, 5, 9, 1, 3, 8, 6, 4};
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    for (unsigned k = 0; k < 11; k++) {
        unsigned j = order[k];
        bool last = j == 10;
        tcpwm__frag f = frag(3, j * 800, last ? 5 : 800, !last, T0 + (int64_t)k);
        tcpwm__reasm_status st = tcpwm__reasm_add(&r, &f, &o);
        CHECK_EQ_U64(st, k == 10 ? TCPWM__REASM_COMPLETE : TCPWM__REASM_HELD);
    }
    CHECK_EQ_U64(o.total, 8005);
    CHECK(header_is_payload(&o, 60));
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_REASSEMBLED), 1);
    tcpwm__reasm_destroy(&r);
}

/* A fragment whose bytes are all held is a duplicate: ignored, the
 * datagram kept (RFC 8200 4.5 for exact duplicates; Linux for any
 * fragment inside a held run), IPv4 and IPv6 alike. The bytes held first
 * stay: a duplicate with other contents does not rewrite the header. */
static void test_duplicates(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    tcpwm__frag a = frag(4, 0, 1480, true, T0);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_DUPLICATE);
    /* Inside the held run, with different bytes at offset 8 (TCP's flags
     * and window would be at 12..15): ignored. */
    static const uint8_t evil[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    tcpwm__frag x = frag(4, 8, 16, true, T0 + 1);
    x.data = evil;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &x, &o), TCPWM__REASM_DUPLICATE);
    tcpwm__frag b = frag(4, 1480, 20, false, T0 + 2);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 1500);
    CHECK(header_is_payload(&o, 60));
    CHECK_EQ_U64(r.counts.duplicate, 2);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_OVERLAPPING), 0);

    /* IPv6: an exact duplicate of the last fragment too. */
    tcpwm__frag c = frag6(4, 1232, 100, false, T0 + 3), d = frag6(4, 0, 1232, true, T0 + 4);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_DUPLICATE);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &d, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 1332);
    CHECK_EQ_U64(r.counts.duplicate, 3);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_REASSEMBLED), 2);

    /* A late duplicate after completion starts a datagram of its own,
     * which can only time out (Linux behaves the same). */
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &d, &o), TCPWM__REASM_HELD);
    tcpwm__reasm_expire(&r, T0 + 4 + TCPWM__REASM_DEFAULT_TIMEOUT_NS + 1);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_TIMED_OUT), 1);
    tcpwm__reasm_destroy(&r);
}

/* RFC 5722 (IPv6), and the same rule for IPv4 (Linux since 4.19): a
 * fragment overlapping held bytes in part discards the whole datagram,
 * and the fragments still to come are discarded with it. */
static void test_overlaps(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    tcpwm__frag a = frag(5, 0, 1480, true, T0), b = frag(5, 1472, 1488, true, T0 + 1),
                c = frag(5, 2960, 40, false, T0 + 2), a2 = frag(5, 1480, 1480, true, T0 + 3);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_OVERLAPPING), 1);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_DISCARDED);
    /* Even the fragment that would have completed it. */
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a2, &o), TCPWM__REASM_DISCARDED);
    CHECK_EQ_U64(r.counts.discarded, 2);
    CHECK_EQ_U64(r.live, 0);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_REASSEMBLED), 0);
    /* The tombstone leaves at the timeout, quietly (counted once). */
    tcpwm__reasm_expire(&r, T0 + TCPWM__REASM_DEFAULT_TIMEOUT_NS + 1);
    CHECK_EQ_U64(r.count, 0);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_TIMED_OUT), 0);

    /* IPv6: overlap from below, the later fragment first. */
    tcpwm__frag d = frag6(5, 1232, 1232, true, T0 + 40 * SEC),
                e = frag6(5, 8, 1232, true, T0 + 40 * SEC + 1);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &d, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &e, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_OVERLAPPING), 2);
    CHECK_EQ_U64(r.counts.started, 2);
    tcpwm__reasm_destroy(&r);
}

/* RFC 1858's tiny fragment: a first fragment of 8 bytes holds the ports
 * and the sequence number only; the flags (byte 13) and the rest come at
 * offset 8. The reassembled header is the whole 20 + 12 bytes. */
static void test_tiny_fragments(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    tcpwm__frag a = frag(6, 0, 8, true, T0), b = frag(6, 8, 24, false, T0 + 1);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 32);
    CHECK_EQ_U64(o.hdr_caplen, 32);
    CHECK(header_is_payload(&o, 32));
    CHECK_EQ_U64(o.hdr[32], 0); /* zero past hdr_caplen */

    /* Eight fragments of 8 bytes: still within the header bytes. */
    for (uint32_t k = 0; k < 8; k++) {
        tcpwm__frag f = frag(7, (7 - k) * 8, 8, k != 0, T0 + 2);
        CHECK_EQ_U64(tcpwm__reasm_add(&r, &f, &o), k == 7 ? TCPWM__REASM_COMPLETE
                                                           : TCPWM__REASM_HELD);
    }
    CHECK_EQ_U64(o.total, 64);
    CHECK_EQ_U64(o.hdr_caplen, 60);
    CHECK(header_is_payload(&o, 60));

    /* RFC 1858 3.2's overlapping variant (a second fragment at offset 8
     * rewriting the flags of a 24-byte first one) is a partial overlap. */
    tcpwm__frag c = frag(8, 0, 24, true, T0 + 3), d = frag(8, 8, 24, false, T0 + 4);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &d, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_OVERLAPPING), 1);
    tcpwm__reasm_destroy(&r);
}

/* A snap length cuts captured bytes, never the lengths: the total comes
 * from the IP headers; hdr_caplen is the captured prefix. */
static void test_snaplen(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    /* 1514-byte frames cut at 68: 34 bytes of IP payload captured after
     * 14 + 20 bytes of Ethernet and IPv4 headers. */
    tcpwm__frag a = frag(9, 0, 1480, true, T0), b = frag(9, 1480, 1480, true, T0 + 1),
                c = frag(9, 2960, 40, false, T0 + 2);
    a.caplen = b.caplen = c.caplen = 34;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 3000);
    CHECK_EQ_U64(o.hdr_caplen, 34);
    CHECK(header_is_payload(&o, 34));
    CHECK_EQ_U64(o.hdr[34], 0);

    /* Tiny first fragment fully captured, the second cut after 4 bytes:
     * 12 leading bytes; a later captured byte after the gap does not count. */
    tcpwm__frag d = frag(10, 0, 8, true, T0 + 3), e = frag(10, 8, 16, true, T0 + 4),
                g = frag(10, 24, 16, false, T0 + 5);
    e.caplen = 4;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &d, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &e, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &g, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 40);
    CHECK_EQ_U64(o.hdr_caplen, 12);
    CHECK(header_is_payload(&o, 12));

    /* caplen above len (a caller's slip) is taken as len. */
    tcpwm__frag h = frag(11, 0, 16, false, T0 + 6);
    h.caplen = 100;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &h, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 16);
    CHECK_EQ_U64(o.hdr_caplen, 16);
    tcpwm__reasm_destroy(&r);
}

/* The timeout runs from the first fragment in capture time (Linux's
 * ipfrag_time, 30 s): a fragment exactly 30 s later still joins, one
 * nanosecond more and the datagram has timed out. */
static void test_timeout_boundary(void)
{
    const int64_t TO = TCPWM__REASM_DEFAULT_TIMEOUT_NS;
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    tcpwm__frag a = frag(12, 0, 1480, true, T0), b = frag(12, 1480, 20, false, T0 + TO);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_HELD);
    /* A later fragment does not restart the timer. */
    tcpwm__frag mid = frag(12, 0, 8, true, T0 + TO / 2);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &mid, &o), TCPWM__REASM_DUPLICATE);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_COMPLETE);

    tcpwm__frag c = frag(13, 0, 1480, true, T0 + TO),
                d = frag(13, 1480, 20, false, T0 + 2 * TO + 1);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_HELD);
    tcpwm__reasm_expire(&r, T0 + 2 * TO); /* exactly at the boundary: kept */
    CHECK_EQ_U64(r.live, 1);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_TIMED_OUT), 0);
    /* One ns more: timed out first, and d starts a datagram of its own. */
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &d, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_TIMED_OUT), 1);
    CHECK_EQ_U64(r.live, 1);
    /* The clock never goes back: an earlier time changes nothing. */
    tcpwm__reasm_expire(&r, T0);
    CHECK_EQ_U64(r.now_ns, T0 + 2 * TO + 1);
    tcpwm__reasm_expire(&r, T0 + 3 * TO + 2);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_TIMED_OUT), 2);
    CHECK_EQ_U64(r.live, 0);
    CHECK_EQ_U64(r.counts.started, 3);
    tcpwm__reasm_destroy(&r);
}

/* At the cap, a new datagram evicts the oldest one (first fragment
 * first), counted. */
static void test_eviction(void)
{
    tcpwm__reasm r = new_reasm(4);
    tcpwm__reasm_out o;
    for (uint32_t id = 100; id < 105; id++) {
        tcpwm__frag f = frag(id, 0, 1480, true, T0 + id);
        CHECK_EQ_U64(tcpwm__reasm_add(&r, &f, &o), TCPWM__REASM_HELD);
    }
    CHECK_EQ_U64(r.live, 4);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_EVICTED), 1);
    /* 101 is still held: its last fragment completes it. */
    tcpwm__frag l101 = frag(101, 1480, 20, false, T0 + 200);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &l101, &o), TCPWM__REASM_COMPLETE);
    /* 100 was the one evicted: its last fragment starts anew (a free
     * record: nothing more evicted). */
    tcpwm__frag l100 = frag(100, 1480, 20, false, T0 + 201);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &l100, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_EVICTED), 1);
    /* Memory: one chunk of records and the smallest hash, never more. */
    size_t mem = tcpwm__reasm_memory(&r);
    for (uint32_t id = 200; id < 2200; id++) {
        tcpwm__frag f = frag(id, 0, 1480, true, T0 + 300);
        CHECK_EQ_U64(tcpwm__reasm_add(&r, &f, &o), TCPWM__REASM_HELD);
    }
    CHECK_EQ_U64(tcpwm__reasm_memory(&r), mem);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_EVICTED), 1 + 2000);
    CHECK_EQ_U64(r.counts.started, 6 + 2000);
    CHECK_EQ_U64(r.live, 4);
    tcpwm__reasm_destroy(&r);
}

/* RFC 791 3.1: total length (header included) <= 65535; RFC 8200 4.5:
 * fragment offset + length <= 65535 (plus the unfragmentable extension
 * headers). The ping of death: the last fragment at offset 65528. */
static void test_too_large(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    /* IPv4, 20-byte header: payload up to 65515. */
    tcpwm__frag a = frag(20, 0, 1480, true, T0), pod = frag(20, 65528, 8, false, T0 + 1),
                late = frag(20, 1480, 1480, true, T0 + 2);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &pod, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_TOO_LARGE), 1);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &late, &o), TCPWM__REASM_DISCARDED);
    /* Exactly 65535 with the header: allowed. */
    tcpwm__frag b = frag(21, 65512, 3, false, T0 + 3), c = frag(21, 0, 65512, true, T0 + 4);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 65515);
    /* With 40 bytes of IPv4 options, the same fragment is too large. */
    tcpwm__frag d = frag(22, 65512, 3, false, T0 + 5);
    d.hdr_len = 60;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &d, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_TOO_LARGE), 2);
    /* IPv6 without extension headers: 65528 + 7 = 65535 fits, + 8 does not. */
    tcpwm__frag e = frag6(23, 65528, 7, false, T0 + 6), g = frag6(24, 65528, 8, false, T0 + 7);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &e, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &g, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_TOO_LARGE), 3);
    tcpwm__reasm_destroy(&r);
}

/* Every fragment must agree on the end: RFC 791 3.2 and RFC 8200 4.5 let
 * only the last fragment (MF/M = 0) set it, so a second, different end,
 * bytes beyond an end, or an end below held bytes is inconsistent. */
static void test_conflicting_end(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    /* An end at 1600, then a fragment reaching 3000. */
    tcpwm__frag a = frag(30, 1480, 120, false, T0), b = frag(30, 2960, 40, true, T0 + 1);
    b.len = 40;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_INCONSISTENT), 1);
    /* Held bytes up to 2960, then a last fragment ending at 1000 (inside
     * them: without the end check it would pass as a duplicate). */
    tcpwm__frag c = frag(31, 0, 1480, true, T0 + 2), d = frag(31, 1480, 1480, true, T0 + 3),
                e = frag(31, 0, 1000, false, T0 + 4);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &d, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &e, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_INCONSISTENT), 2);
    /* Two last fragments with different ends. */
    tcpwm__frag g = frag(32, 1480, 40, false, T0 + 5), h = frag(32, 1520, 40, false, T0 + 6);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &g, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &h, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_INCONSISTENT), 3);
    /* A non-last fragment ending exactly at the end is fine. */
    tcpwm__frag k = frag(33, 1480, 40, false, T0 + 7), m = frag(33, 1472, 8, true, T0 + 8),
                n = frag(33, 0, 1472, true, T0 + 9);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &k, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &m, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &n, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 1520);
    tcpwm__reasm_destroy(&r);
}

/* After a datagram completes its identification may come again (IPv4's
 * 16 bits wrap fast): a new datagram. */
static void test_id_reuse(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    for (int round = 0; round < 2; round++) {
        tcpwm__frag a = frag(40, 0, 1480, true, T0 + round), b = frag(40, 1480, 100, false, T0 + round);
        CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_HELD);
        CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_COMPLETE);
        CHECK_EQ_U64(o.total, 1580);
    }
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_REASSEMBLED), 2);
    CHECK_EQ_U64(r.counts.duplicate, 0);
    tcpwm__reasm_destroy(&r);
}

/* The key: the same inner addresses and identification in two
 * encapsulations (VLANs, tunnels) are two datagrams; so are IPv4 protocol
 * numbers (RFC 791 3.2) and the two families. */
static void test_key(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    static const uint8_t vlan10[3] = {0x81, 0x00, 10}, vlan20[3] = {0x81, 0x00, 20};
    tcpwm__frag a1 = frag(50, 0, 1480, true, T0), a2 = frag(50, 1480, 20, false, T0 + 1);
    tcpwm__frag b1 = a1, b2 = a2;
    a1.ctx = a2.ctx = vlan10;
    b1.ctx = b2.ctx = vlan20;
    a1.ctx_len = a2.ctx_len = b1.ctx_len = b2.ctx_len = 3;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a1, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b2, &o), TCPWM__REASM_HELD); /* not a1's end */
    /* A prefix of the context is another context. */
    tcpwm__frag p2 = a2;
    p2.ctx_len = 2;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &p2, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a2, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b1, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_REASSEMBLED), 2);
    CHECK_EQ_U64(r.live, 1); /* the prefix context's */

    /* Protocol 17 with TCP's addresses and id: another datagram. */
    tcpwm__frag u = frag(51, 0, 1480, true, T0 + 2), t = frag(51, 1480, 20, false, T0 + 3);
    u.proto = 17;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &u, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &t, &o), TCPWM__REASM_HELD);
    /* Same address bytes and id, other family. */
    tcpwm__frag v = frag(51, 0, 1480, true, T0 + 4);
    v.family = 6;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &v, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(r.live, 4);
    CHECK_EQ_U64(r.counts.started, 6);

    /* IPv6 (RFC 8200 4.5): addresses and identification only; the Next
     * Header values of the fragments may differ, the offset-0 fragment's
     * is the datagram's. */
    tcpwm__frag w1 = frag6(52, 0, 1232, true, T0 + 5), w2 = frag6(52, 1232, 10, false, T0 + 6);
    w1.proto = 6;
    w2.proto = 60; /* destination options: another value, same datagram */
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &w2, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &w1, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.proto, 6);
    CHECK_EQ_U64(o.total, 1242);
    tcpwm__reasm_destroy(&r);

    /* Long contexts (nested tunnels: up to 384 bytes, tcpwm/encap.h, plus
     * VLAN IDs) are compared whole: two that differ in the last byte are
     * two datagrams. */
    static uint8_t deep1[389], deep2[389];
    memset(deep1, 0x42, sizeof(deep1));
    memset(deep2, 0x42, sizeof(deep2));
    deep2[388] = 0x43;
    CHECK_EQ_U64(tcpwm__reasm_init(&r, 16, TCPWM__REASM_DEFAULT_TIMEOUT_NS, 389, 7), 0);
    CHECK(tcpwm__reasm_record_size(&r) >= 389 + TCPWM__REASM_HDR);
    tcpwm__frag l1 = frag(53, 0, 1480, true, T0 + 7), l2 = frag(53, 1480, 20, false, T0 + 8);
    l1.ctx = deep1;
    l2.ctx = deep2;
    l1.ctx_len = l2.ctx_len = 389;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &l1, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &l2, &o), TCPWM__REASM_HELD);
    l2.ctx = deep1;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &l2, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(r.live, 1);
    tcpwm__reasm_destroy(&r);
}

/* RFC 791 3.2 / RFC 8200 4.5: a fragment with more to follow carries a
 * multiple of 8 bytes; malformed fragments touch nothing. */
static void test_malformed(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    tcpwm__frag a = frag(60, 0, 1481, true, T0), b = frag(60, 0, 0, true, T0),
                c = frag(60, 4, 8, false, T0), d = frag(60, 0, 8, true, T0),
                e = frag(60, 0, 8, true, T0);
    d.family = 5;
    e.ctx_len = 65; /* new_reasm's ctx_max is 64 */
    e.ctx = payload;
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &a, &o), TCPWM__REASM_MALFORMED);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &b, &o), TCPWM__REASM_MALFORMED);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &c, &o), TCPWM__REASM_MALFORMED);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &d, &o), TCPWM__REASM_MALFORMED);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &e, &o), TCPWM__REASM_MALFORMED);
    CHECK_EQ_U64(r.counts.malformed, 5);
    CHECK_EQ_U64(r.counts.started, 0);
    CHECK_EQ_U64(tcpwm__reasm_memory(&r), 0);
    /* The last fragment may end anywhere, and be empty. */
    tcpwm__frag f = frag(61, 8, 0, false, T0), g = frag(61, 0, 8, true, T0 + 1);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &f, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &f, &o), TCPWM__REASM_DUPLICATE);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &g, &o), TCPWM__REASM_COMPLETE);
    CHECK_EQ_U64(o.total, 8);
    /* Bad arguments to init. */
    tcpwm__reasm z;
    CHECK_EQ_U64(tcpwm__reasm_init(&z, 0, SEC, 0, 0), (uint64_t)(int64_t)TCPWM_EINVAL);
    CHECK_EQ_U64(tcpwm__reasm_init(&z, 4, 0, 0, 0), (uint64_t)(int64_t)TCPWM_EINVAL);
    tcpwm__reasm_destroy(&r);
}

/* Up to 8 disjoint ranges are held; touching ones merge; a ninth
 * disjoint range drops the datagram (too_many_ranges). */
static void test_ranges(void)
{
    tcpwm__reasm r = new_reasm(16);
    tcpwm__reasm_out o;
    /* Blocks 0, 2, 4, ..., 14 of 8 bytes: 8 ranges. */
    for (uint32_t k = 0; k < 8; k++) {
        tcpwm__frag f = frag(70, k * 16, 8, true, T0);
        CHECK_EQ_U64(tcpwm__reasm_add(&r, &f, &o), TCPWM__REASM_HELD);
    }
    /* Block 1 joins blocks 0 and 2: 7 ranges, so block 17 fits again. */
    tcpwm__frag j = frag(70, 8, 8, true, T0), k17 = frag(70, 17 * 8, 8, true, T0);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &j, &o), TCPWM__REASM_HELD);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &k17, &o), TCPWM__REASM_HELD);
    tcpwm__frag k19 = frag(70, 19 * 8, 8, true, T0);
    CHECK_EQ_U64(tcpwm__reasm_add(&r, &k19, &o), TCPWM__REASM_DROPPED);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_TOO_MANY_RANGES), 1);
    /* The same 8-range shape, then the gaps filled: it completes. */
    for (uint32_t k = 0; k < 8; k++) {
        tcpwm__frag f = frag(71, k * 16, 8, true, T0);
        CHECK_EQ_U64(tcpwm__reasm_add(&r, &f, &o), TCPWM__REASM_HELD);
    }
    for (uint32_t k = 0; k < 8; k++) {
        tcpwm__frag f = frag(71, k * 16 + 8, 8, k != 7, T0);
        CHECK_EQ_U64(tcpwm__reasm_add(&r, &f, &o), k == 7 ? TCPWM__REASM_COMPLETE
                                                           : TCPWM__REASM_HELD);
    }
    CHECK_EQ_U64(o.total, 128);
    CHECK_EQ_U64(o.hdr_caplen, 60);
    CHECK(header_is_payload(&o, 60));
    tcpwm__reasm_destroy(&r);
}

/* Many datagrams at once: the hash grows, every one still found. */
static void test_many(void)
{
    tcpwm__reasm r = new_reasm(5000);
    tcpwm__reasm_out o;
    for (uint32_t id = 0; id < 5000; id++) {
        tcpwm__frag f = frag(id, 0, 1480, true, T0);
        CHECK_EQ_U64(tcpwm__reasm_add(&r, &f, &o), TCPWM__REASM_HELD);
    }
    CHECK(r.mask + 1 >= 4096);
    uint32_t done = 0;
    for (uint32_t id = 0; id < 5000; id++) {
        tcpwm__frag f = frag(id, 1480, 20, false, T0 + 1);
        done += tcpwm__reasm_add(&r, &f, &o) == TCPWM__REASM_COMPLETE;
    }
    CHECK_EQ_U64(done, 5000);
    CHECK_EQ_U64(oc(&r, TCPWM__REASM_EVICTED), 0);
    CHECK_EQ_U64(r.count, 0);
    CHECK_STREQ(tcpwm__reasm_outcome_label(TCPWM__REASM_TIMED_OUT), "timed_out");
    CHECK(tcpwm__reasm_outcome_label(TCPWM__REASM_OUTCOME_COUNT) == NULL);
    tcpwm__reasm_destroy(&r);
}

int main(void)
{
    fill_payload();
    test_in_order();
    test_reverse_order();
    test_random_order();
    test_duplicates();
    test_overlaps();
    test_tiny_fragments();
    test_snaplen();
    test_timeout_boundary();
    test_eviction();
    test_too_large();
    test_conflicting_end();
    test_id_reuse();
    test_key();
    test_malformed();
    test_ranges();
    test_many();
    return check_finish("test_reasm");
}
