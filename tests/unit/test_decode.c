/* SPDX-License-Identifier: MIT */
/* Unit tests of the frame decoder (core/src/decode.c, docs/semantics.md 1).
 *
 * Frames are built byte by byte with the small builders below. Every
 * decode runs on a heap copy of exactly `caplen` bytes, so that under the
 * sanitizer preset a read one byte past the capture is an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cursor.h"
#include "decode_int.h"
#include "tcpwm/decode.h"
#include "tcpwm/err.h"

/* ---- Frame builder ------------------------------------------------------ */

typedef struct frame {
    uint8_t b[1024];
    size_t n;
    size_t ip;    /* offset of the IP header */
    int ipver;    /* 4 or 6 once an IP header is written */
    size_t tcp;   /* offset of the TCP header */
    size_t pppoe; /* offset of the PPPoE header, 0 if none */
    size_t nflog; /* offset of the NFLOG payload TLV, 0 if none */
} frame;

static void put8(frame *f, unsigned v)
{
    if (f->n < sizeof f->b)
        f->b[f->n++] = (uint8_t)v;
}

static void put16(frame *f, unsigned v)
{
    put8(f, (v >> 8) & 0xff);
    put8(f, v & 0xff);
}

static void put32(frame *f, uint32_t v)
{
    put16(f, (unsigned)(v >> 16));
    put16(f, (unsigned)(v & 0xffff));
}

static void put_fill(frame *f, unsigned v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(f, v);
}

static void put_bytes(frame *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(f, p[i]);
}

static void set8(frame *f, size_t off, unsigned v)
{
    f->b[off] = (uint8_t)v;
}

static void set16(frame *f, size_t off, unsigned v)
{
    f->b[off] = (uint8_t)((v >> 8) & 0xff);
    f->b[off + 1] = (uint8_t)(v & 0xff);
}

static void eth(frame *f, unsigned type)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
    put_bytes(f, macs, sizeof macs);
    put16(f, type);
}

/* A VLAN tag body: TCI, then the EtherType (or TPID) that follows. */
static void tag(frame *f, unsigned tci, unsigned next)
{
    put16(f, tci);
    put16(f, next);
}

static void pppoe(frame *f, unsigned ppp_proto)
{
    f->pppoe = f->n;
    put8(f, 0x11); /* VER 1, TYPE 1 */
    put8(f, 0x00); /* CODE: session data */
    put16(f, 0x1234);
    put16(f, 0); /* LENGTH, set by finish() */
    put16(f, ppp_proto);
}

static void sll(frame *f, unsigned proto)
{
    put16(f, 0); /* packet type: to us */
    put16(f, 1); /* ARPHRD_ETHER */
    put16(f, 6); /* address length */
    put_fill(f, 0xab, 8);
    put16(f, proto);
}

static void sll2(frame *f, unsigned proto)
{
    put16(f, proto);
    put16(f, 0); /* reserved */
    put32(f, 3); /* interface index */
    put16(f, 1); /* ARPHRD_ETHER */
    put8(f, 0);  /* packet type */
    put8(f, 6);  /* address length */
    put_fill(f, 0xab, 8);
}

/* IPv4 header with optlen (multiple of 4) bytes of options; total length
 * is set by finish(). Addresses 192.0.2.1 -> 198.51.100.2. */
static void ipv4(frame *f, unsigned proto, size_t optlen)
{
    f->ip = f->n;
    f->ipver = 4;
    put8(f, 0x40 | (unsigned)(5 + optlen / 4));
    put8(f, 0);
    put16(f, 0);      /* total length */
    put16(f, 0xbeef); /* identification */
    put16(f, 0x4000); /* DF */
    put8(f, 64);
    put8(f, proto);
    put16(f, 0); /* checksum */
    put32(f, 0xc0000201);
    put32(f, 0xc6336402);
    for (size_t i = 0; i < optlen / 4; i++)
        put32(f, 0x94040000); /* router alert, RFC 2113 */
}

/* IPv6 header; payload length set by finish(). 2001:db8::1 -> 2001:db8::2. */
static void ipv6(frame *f, unsigned nh)
{
    f->ip = f->n;
    f->ipver = 6;
    put32(f, 0x60000000);
    put16(f, 0);
    put8(f, nh);
    put8(f, 64);
    put32(f, 0x20010db8);
    put_fill(f, 0, 11);
    put8(f, 1);
    put32(f, 0x20010db8);
    put_fill(f, 0, 11);
    put8(f, 2);
}

/* Hop-by-hop, routing or destination options header of (len8 + 1) * 8
 * bytes (the body is Pad1 options). */
static void ext(frame *f, unsigned next, unsigned len8)
{
    put8(f, next);
    put8(f, len8);
    put_fill(f, 0, (size_t)(len8 + 1) * 8 - 2);
}

static void frag6(frame *f, unsigned next, unsigned offset, unsigned more)
{
    put8(f, next);
    put8(f, 0);
    put16(f, (offset << 3) | more);
    put32(f, 0xcafe);
}

enum { SPORT = 40000, DPORT = 443 };
#define SEQ 0x11223344u
#define ACK 0x55667788u
#define WIN 0xfedcu

/* TCP header with optlen (multiple of 4) bytes of options. */
static void tcp(frame *f, unsigned flags, const uint8_t *opts, size_t optlen)
{
    f->tcp = f->n;
    put16(f, SPORT);
    put16(f, DPORT);
    put32(f, SEQ);
    put32(f, ACK);
    put8(f, (unsigned)((20 + optlen) / 4) << 4);
    put8(f, flags);
    put16(f, WIN);
    put16(f, 0);
    put16(f, 0);
    put_bytes(f, opts, optlen);
}

static void payload(frame *f, size_t n)
{
    put_fill(f, 0xaa, n);
}

/* Fill in the lengths the headers claim, from what was built. */
static void finish(frame *f)
{
    if (f->ipver == 4)
        set16(f, f->ip + 2, (unsigned)(f->n - f->ip));
    else if (f->ipver == 6)
        set16(f, f->ip + 4, (unsigned)(f->n - f->ip - 40));
    if (f->pppoe)
        set16(f, f->pppoe + 4, (unsigned)(f->n - f->pppoe - 6));
    if (f->nflog) { /* little-endian TLV length, counting its header */
        size_t len = f->n - f->nflog;
        set8(f, f->nflog, (unsigned)(len & 0xff));
        set8(f, f->nflog + 1, (unsigned)(len >> 8));
    }
}

static void start(frame *f)
{
    memset(f, 0, sizeof *f);
}

/* The link header of `dlt` for an IP packet of version ipver. */
static void link_hdr(frame *f, int dlt, int ipver)
{
    unsigned etype = ipver == 4 ? 0x0800 : 0x86dd;
    switch (dlt) {
    case TCPWM_DLT_EN10MB:
        eth(f, etype);
        break;
    case TCPWM_DLT_LINUX_SLL:
        sll(f, etype);
        break;
    case TCPWM_DLT_LINUX_SLL2:
        sll2(f, etype);
        break;
    case TCPWM_DLT_NULL: /* a little-endian capturing host */
        put8(f, ipver == 4 ? 2 : 30);
        put_fill(f, 0, 3);
        break;
    case TCPWM_DLT_LOOP:
        put32(f, ipver == 4 ? 2 : 24);
        break;
    case TCPWM_DLT_PPP: /* RFC 1661 2: no framing, 2-byte protocol */
        put16(f, ipver == 4 ? 0x0021 : 0x0057);
        break;
    case TCPWM_DLT_PPP_SERIAL: /* RFC 1662 3.1: FF 03, then the protocol */
        put8(f, 0xff);
        put8(f, 0x03);
        put16(f, ipver == 4 ? 0x0021 : 0x0057);
        break;
    case TCPWM_DLT_C_HDLC: /* RFC 1547 4.3.1: unicast 0x0F, control 0 */
        put8(f, 0x0f);
        put8(f, 0x00);
        put16(f, etype);
        break;
    case TCPWM_DLT_NFLOG:
        /* nfgenmsg: AF_INET 2 / AF_INET6 10, version 0, resource ID 1
         * (network order); a prefix TLV "ab" (length 6, padded to 8),
         * then the payload TLV (type 9), little-endian (an x86 host). */
        put8(f, ipver == 4 ? 2 : 10);
        put8(f, 0);
        put16(f, 1);
        put8(f, 6), put8(f, 0), put8(f, 10), put8(f, 0); /* NFULA_PREFIX */
        put8(f, 'a'), put8(f, 'b'), put16(f, 0);
        f->nflog = f->n;
        put16(f, 0); /* length, set by finish() */
        put8(f, 9), put8(f, 0);
        break;
    case TCPWM_DLT_IPOIB: /* RFC 4391 6: protocol type, reserved */
        put16(f, etype);
        put16(f, 0);
        break;
    default: /* raw IP link types: no header */
        break;
    }
}

/* A plain segment: link header, IP, TCP with `opts`, payload. */
static void build(frame *f, int dlt, int ipver, const uint8_t *opts, size_t optlen, size_t plen)
{
    start(f);
    link_hdr(f, dlt, ipver);
    if (ipver == 4)
        ipv4(f, 6, 0);
    else
        ipv6(f, 6);
    tcp(f, TCPWM_ACK | TCPWM_PSH, opts, optlen);
    payload(f, plen);
    finish(f);
}

/* ---- Running the decoder ------------------------------------------------ */

static tcpwm_decode_status run_len(const frame *f, int dlt, size_t caplen, size_t wirelen,
                                   tcpwm_segment *s, tcpwm_decode_error *e)
{
    uint8_t *copy = caplen ? malloc(caplen) : NULL;
    if (caplen && !copy)
        abort();
    if (caplen)
        memcpy(copy, f->b, caplen);
    s->ts_ns = 0;
    *e = TCPWM_DE__COUNT;
    tcpwm_decode_status st = tcpwm_decode(copy, caplen, wirelen, dlt, s, e);
    free(copy);
    return st;
}

static tcpwm_decode_status run(const frame *f, int dlt, tcpwm_segment *s, tcpwm_decode_error *e)
{
    return run_len(f, dlt, f->n, f->n, s, e);
}

static const char *label(tcpwm_decode_error e)
{
    const char *l = tcpwm_decode_error_label(e);
    return l ? l : "(none)";
}

/* Decoding f must fail with `want`. */
#define EXPECT_ERROR(f, dlt, want)                                                                 \
    do {                                                                                           \
        tcpwm_segment s_ = {0};                                                                    \
        tcpwm_decode_error e_;                                                                     \
        CHECK_EQ_U64(run((f), (dlt), &s_, &e_), TCPWM_DECODE_ERROR);                               \
        CHECK_STREQ(label(e_), label(want));                                                       \
    } while (0)

#define EXPECT_NOT_TCP(f, dlt)                                                                     \
    do {                                                                                           \
        tcpwm_segment s_ = {0};                                                                    \
        tcpwm_decode_error e_;                                                                     \
        CHECK_EQ_U64(run((f), (dlt), &s_, &e_), TCPWM_DECODE_NOT_TCP);                             \
    } while (0)

/* The fields every builder writes. */
static void check_common(const tcpwm_segment *s, int ipver)
{
    static const uint8_t v4src[16] = {192, 0, 2, 1};
    static const uint8_t v4dst[16] = {198, 51, 100, 2};
    static const uint8_t v6src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    static const uint8_t v6dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    CHECK_EQ_U64(s->family, ipver);
    CHECK(memcmp(s->src, ipver == 4 ? v4src : v6src, 16) == 0);
    CHECK(memcmp(s->dst, ipver == 4 ? v4dst : v6dst, 16) == 0);
    CHECK_EQ_U64(s->sport, SPORT);
    CHECK_EQ_U64(s->dport, DPORT);
    CHECK_EQ_U64(s->seq, SEQ);
    CHECK_EQ_U64(s->ack, ACK);
    CHECK_EQ_U64(s->window, WIN);
}

/* Decoding f must give TCP with payload_len `plen`; the segment is returned. */
static tcpwm_segment expect_tcp_len(const frame *f, int dlt, size_t caplen, size_t wirelen,
                                    uint32_t plen, int line)
{
    tcpwm_segment s = {0};
    tcpwm_decode_error e;
    tcpwm_decode_status st = run_len(f, dlt, caplen, wirelen, &s, &e);
    CHECK_EQ_U64(st, TCPWM_DECODE_TCP);
    if (st != TCPWM_DECODE_TCP)
        fprintf(stderr, "  (line %d: dlt %d, error %s)\n", line, dlt,
                st == TCPWM_DECODE_ERROR ? label(e) : "not tcp");
    check_common(&s, f->ipver);
    CHECK_EQ_U64(s.payload_len, plen);
    return s;
}

#define EXPECT_TCP(f, dlt, plen) expect_tcp_len((f), (dlt), (f)->n, (f)->n, (plen), __LINE__)

/* Every caplen below the end of the last layer must fail with the reason
 * of the layer it ends in: ends[i] is where layer i ends, reasons[i] its
 * error; the last layer is the fixed 20-byte TCP header. A caplen past it
 * ends in the TCP options, which the capture cut: the segment decodes,
 * saying so (semantics.md 1). The full frame must decode (it carries no
 * payload). */
static void sweep(const frame *f, int dlt, const size_t *ends, const tcpwm_decode_error *reasons,
                  size_t layers)
{
    size_t layer = 0;
    for (size_t cap = ends[layers - 1]; cap < f->n; cap++) {
        tcpwm_segment s = {0};
        tcpwm_decode_error e;
        CHECK_EQ_U64(run_len(f, dlt, cap, f->n, &s, &e), TCPWM_DECODE_TCP);
        CHECK(s.opt_cut);
        CHECK(!s.opt_bad);
    }
    for (size_t cap = 0; cap < ends[layers - 1]; cap++) {
        while (layer < layers && cap >= ends[layer])
            layer++;
        tcpwm_segment s = {0};
        tcpwm_decode_error e;
        tcpwm_decode_status st = run_len(f, dlt, cap, f->n, &s, &e);
        CHECK_EQ_U64(st, TCPWM_DECODE_ERROR);
        if (layer < layers && (st != TCPWM_DECODE_ERROR || e != reasons[layer])) {
            fprintf(stderr, "  sweep dlt %d caplen %zu: got %s, want %s\n", dlt, cap,
                    st == TCPWM_DECODE_ERROR ? label(e) : "no error", label(reasons[layer]));
            CHECK(0);
        }
    }
    tcpwm_segment s = {0};
    tcpwm_decode_error e;
    CHECK_EQ_U64(run(f, dlt, &s, &e), TCPWM_DECODE_TCP);
    CHECK(!s.opt_cut);
}

/* ---- Tests -------------------------------------------------------------- */

static const int all_dlts[] = {
    TCPWM_DLT_NULL,         TCPWM_DLT_EN10MB,     TCPWM_DLT_RAW,       TCPWM_DLT_RAW_OPENBSD,
    TCPWM_DLT_LINKTYPE_RAW, TCPWM_DLT_LOOP,       TCPWM_DLT_LINUX_SLL, TCPWM_DLT_IPV4,
    TCPWM_DLT_IPV6,         TCPWM_DLT_LINUX_SLL2, TCPWM_DLT_PPP,       TCPWM_DLT_PPP_SERIAL,
    TCPWM_DLT_C_HDLC,       TCPWM_DLT_NFLOG,      TCPWM_DLT_IPOIB,
};
#define N_DLTS (sizeof all_dlts / sizeof all_dlts[0])

static void test_link_types(void)
{
    frame f;
    for (size_t i = 0; i < N_DLTS; i++) {
        int dlt = all_dlts[i];
        CHECK(tcpwm_link_supported(dlt));
        for (int ipver = 4; ipver <= 6; ipver += 2) {
            if ((dlt == TCPWM_DLT_IPV4 && ipver == 6) || (dlt == TCPWM_DLT_IPV6 && ipver == 4))
                continue;
            build(&f, dlt, ipver, NULL, 0, 100);
            tcpwm_segment s = EXPECT_TCP(&f, dlt, 100);
            CHECK_EQ_U64(s.flags, TCPWM_ACK | TCPWM_PSH);
            CHECK_EQ_U64(s.vlan_count, 0);
            CHECK_EQ_U64(s.opt_present, 0);
            CHECK(!s.opt_bad);
        }
    }
    CHECK(!tcpwm_link_supported(-1));
    CHECK(!tcpwm_link_supported(105)); /* 802.11 */
    CHECK(!tcpwm_link_supported(127)); /* radiotap */
    CHECK(!tcpwm_link_supported(TCPWM_DLT_LINUX_SLL + 1));

    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 0);
    EXPECT_ERROR(&f, 105, TCPWM_DE_UNSUPPORTED_LINKTYPE);
    EXPECT_ERROR(&f, 9999, TCPWM_DE_UNSUPPORTED_LINKTYPE);
}

static void loop_frame(frame *f, const uint8_t fam[4], int ipver)
{
    start(f);
    put_bytes(f, fam, 4);
    if (ipver == 4)
        ipv4(f, 6, 0);
    else
        ipv6(f, 6);
    tcp(f, TCPWM_ACK, NULL, 0);
    finish(f);
}

static void test_loopback_families(void)
{
    frame f;
    static const uint8_t v6fams[] = {10, 24, 28, 30};
    for (size_t i = 0; i < sizeof v6fams; i++) {
        const uint8_t le[4] = {v6fams[i], 0, 0, 0};
        const uint8_t be[4] = {0, 0, 0, v6fams[i]};
        loop_frame(&f, le, 6); /* DLT_NULL, either byte order */
        EXPECT_TCP(&f, TCPWM_DLT_NULL, 0);
        loop_frame(&f, be, 6);
        EXPECT_TCP(&f, TCPWM_DLT_NULL, 0);
        EXPECT_TCP(&f, TCPWM_DLT_LOOP, 0);
        loop_frame(&f, le, 6); /* DLT_LOOP is network order only */
        EXPECT_NOT_TCP(&f, TCPWM_DLT_LOOP);
    }
    const uint8_t be4[4] = {0, 0, 0, 2}, le4[4] = {2, 0, 0, 0};
    loop_frame(&f, be4, 4);
    EXPECT_TCP(&f, TCPWM_DLT_NULL, 0);
    EXPECT_TCP(&f, TCPWM_DLT_LOOP, 0);
    loop_frame(&f, le4, 4);
    EXPECT_TCP(&f, TCPWM_DLT_NULL, 0);
    /* AF_INET announced, IPv6 inside. */
    loop_frame(&f, be4, 6);
    EXPECT_ERROR(&f, TCPWM_DLT_NULL, TCPWM_DE_BAD_IP_VERSION);
    /* Some other family (AF_APPLETALK-ish) is not TCP. */
    const uint8_t other[4] = {0, 0, 0, 7};
    loop_frame(&f, other, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_NULL);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_LOOP);
    /* Link header cut short. */
    for (size_t cap = 0; cap < 4; cap++) {
        tcpwm_segment s = {0};
        tcpwm_decode_error e;
        CHECK_EQ_U64(run_len(&f, TCPWM_DLT_NULL, cap, f.n, &s, &e), TCPWM_DECODE_ERROR);
        CHECK_EQ_U64(e, TCPWM_DE_TRUNCATED_LINK);
        CHECK_EQ_U64(run_len(&f, TCPWM_DLT_LOOP, cap, f.n, &s, &e), TCPWM_DECODE_ERROR);
        CHECK_EQ_U64(e, TCPWM_DE_TRUNCATED_LINK);
    }
}

static void test_ip_version(void)
{
    frame f;
    /* The EtherType says IPv4, the packet is IPv6, and the reverse. */
    build(&f, TCPWM_DLT_EN10MB, 6, NULL, 0, 0);
    set16(&f, 12, 0x0800);
    EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_IP_VERSION);
    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 0);
    set16(&f, 12, 0x86dd); /* 40 bytes follow: a whole IPv6 header's worth */
    EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_IP_VERSION);
    /* Raw link types by DLT. */
    build(&f, TCPWM_DLT_IPV4, 6, NULL, 0, 0);
    EXPECT_ERROR(&f, TCPWM_DLT_IPV4, TCPWM_DE_BAD_IP_VERSION);
    build(&f, TCPWM_DLT_IPV6, 4, NULL, 0, 40);
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_BAD_IP_VERSION);
    /* Raw IP: neither 4 nor 6. */
    build(&f, TCPWM_DLT_RAW, 4, NULL, 0, 0);
    for (unsigned v = 0; v < 16; v++) {
        if (v == 4 || v == 6)
            continue;
        set8(&f, 0, (v << 4) | 5);
        EXPECT_ERROR(&f, TCPWM_DLT_RAW, TCPWM_DE_BAD_IP_VERSION);
        EXPECT_ERROR(&f, TCPWM_DLT_LINKTYPE_RAW, TCPWM_DE_BAD_IP_VERSION);
    }
    /* An empty raw frame ends inside the IP header. */
    tcpwm_segment s = {0};
    tcpwm_decode_error e;
    CHECK_EQ_U64(run_len(&f, TCPWM_DLT_RAW, 0, 0, &s, &e), TCPWM_DECODE_ERROR);
    CHECK_EQ_U64(e, TCPWM_DE_TRUNCATED_IP);
}

static void test_vlan(void)
{
    frame f;
    /* One 802.1Q tag; PCP and DEI bits are not part of the ID. */
    start(&f);
    eth(&f, 0x8100);
    tag(&f, 0xb064, 0x0800); /* PCP 5, DEI 1, VID 100 */
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    tcpwm_segment s = EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 0);
    CHECK_EQ_U64(s.vlan_count, 1);
    CHECK_EQ_U64(s.vlan[0], 100);
    CHECK_EQ_U64(s.vlan[1], 0);

    /* QinQ: 802.1ad outer, 802.1Q inner. */
    start(&f);
    eth(&f, 0x88a8);
    tag(&f, 200, 0x8100);
    tag(&f, 300, 0x86dd);
    ipv6(&f, 6);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    s = EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 0);
    CHECK_EQ_U64(s.vlan_count, 2);
    CHECK_EQ_U64(s.vlan[0], 200);
    CHECK_EQ_U64(s.vlan[1], 300);

    /* Three tags, the old 0x9100 TPID first: the first two IDs are kept. */
    start(&f);
    eth(&f, 0x9100);
    tag(&f, 1, 0x88a8);
    tag(&f, 2, 0x8100);
    tag(&f, 4095, 0x0800);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    s = EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 0);
    CHECK_EQ_U64(s.vlan_count, 2);
    CHECK_EQ_U64(s.vlan[0], 1);
    CHECK_EQ_U64(s.vlan[1], 2);

    /* A tagged Linux cooked capture: the protocol is the VLAN TPID. */
    start(&f);
    sll(&f, 0x8100);
    tag(&f, 42, 0x0800);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    s = EXPECT_TCP(&f, TCPWM_DLT_LINUX_SLL, 0);
    CHECK_EQ_U64(s.vlan_count, 1);
    CHECK_EQ_U64(s.vlan[0], 42);

    start(&f);
    sll2(&f, 0x8100);
    tag(&f, 43, 0x86dd);
    ipv6(&f, 6);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    s = EXPECT_TCP(&f, TCPWM_DLT_LINUX_SLL2, 0);
    CHECK_EQ_U64(s.vlan_count, 1);
    CHECK_EQ_U64(s.vlan[0], 43);

    /* A tag carrying ARP. */
    start(&f);
    eth(&f, 0x8100);
    tag(&f, 7, 0x0806);
    put_fill(&f, 0, 28);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
}

static void test_pppoe(void)
{
    frame f;
    start(&f);
    eth(&f, 0x8864);
    pppoe(&f, 0x0021);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    payload(&f, 10);
    finish(&f);
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 10);

    start(&f);
    eth(&f, 0x8100);
    tag(&f, 10, 0x8864);
    pppoe(&f, 0x0057);
    ipv6(&f, 6);
    tcp(&f, TCPWM_ACK, NULL, 0);
    payload(&f, 3);
    finish(&f);
    tcpwm_segment s = EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 3);
    CHECK_EQ_U64(s.vlan[0], 10);

    /* LCP inside a session, a bad version, the discovery stage. */
    start(&f);
    eth(&f, 0x8864);
    pppoe(&f, 0xc021);
    put_fill(&f, 0, 20);
    finish(&f);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    start(&f);
    eth(&f, 0x8864);
    pppoe(&f, 0x0021);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    set8(&f, f.pppoe, 0x12);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    set8(&f, f.pppoe, 0x11);
    set8(&f, f.pppoe + 1, 0x09); /* PADI code */
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    start(&f);
    eth(&f, 0x8863);
    put_fill(&f, 0, 20);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);

    /* Truncation: Ethernet and PPPoE are link; then IP, then TCP. */
    start(&f);
    eth(&f, 0x8864);
    pppoe(&f, 0x0021);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    const size_t ends[] = {22, 42, 62};
    const tcpwm_decode_error why[] = {TCPWM_DE_TRUNCATED_LINK, TCPWM_DE_TRUNCATED_IP,
                                      TCPWM_DE_TRUNCATED_TCP};
    sweep(&f, TCPWM_DLT_EN10MB, ends, why, 3);
}

static void test_ipv4_options(void)
{
    frame f;
    for (size_t optlen = 4; optlen <= 40; optlen += 4) {
        start(&f);
        eth(&f, 0x0800);
        ipv4(&f, 6, optlen);
        tcp(&f, TCPWM_ACK, NULL, 0);
        payload(&f, 7);
        finish(&f);
        tcpwm_segment s = EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 7);
        for (size_t i = 4; i < 16; i++) {
            CHECK_EQ_U64(s.src[i], 0);
            CHECK_EQ_U64(s.dst[i], 0);
        }
    }
}

static void test_ipv4_bad_lengths(void)
{
    frame f;
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 0);
        set8(&f, 14, 0x40 | ihl);
        EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_IPV4_HEADER_LENGTH);
    }
    /* Total length shorter than the header (1 .. 19 with IHL 5). */
    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 0);
    for (unsigned total = 1; total < 20; total++) {
        set16(&f, 16, total);
        EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_IP_LENGTH);
    }
    /* ... and shorter than a header with options. */
    start(&f);
    eth(&f, 0x0800);
    ipv4(&f, 6, 8);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    set16(&f, 16, 27);
    EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_IP_LENGTH);
    /* Equal to the header: no room for TCP at all. */
    set16(&f, 16, 28);
    EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_TCP_DATA_OFFSET);
}

static void test_ipv6_extensions(void)
{
    frame f;
    static const unsigned kinds[] = {0, 43, 60};
    for (size_t i = 0; i < 3; i++) {
        for (unsigned len8 = 0; len8 < 3; len8++) {
            start(&f);
            eth(&f, 0x86dd);
            ipv6(&f, kinds[i]);
            ext(&f, 6, len8);
            tcp(&f, TCPWM_ACK, NULL, 0);
            payload(&f, 5);
            finish(&f);
            EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 5);
        }
    }
    /* The whole family in one chain, ending in an atomic fragment. */
    start(&f);
    ipv6(&f, 0);
    ext(&f, 43, 0);
    ext(&f, 60, 1);
    ext(&f, 44, 0);
    frag6(&f, 6, 0, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    payload(&f, 9);
    finish(&f);
    EXPECT_TCP(&f, TCPWM_DLT_IPV6, 9);

    /* Eight headers are allowed, nine are not. */
    start(&f);
    ipv6(&f, 0);
    for (int i = 0; i < 7; i++)
        ext(&f, 60, 0);
    ext(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    EXPECT_TCP(&f, TCPWM_DLT_IPV6, 0);
    start(&f);
    ipv6(&f, 0);
    for (int i = 0; i < 8; i++)
        ext(&f, 60, 0);
    ext(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_BAD_IPV6_EXTENSION);

    /* A header longer than what was captured. */
    start(&f);
    ipv6(&f, 60);
    put8(&f, 6);
    put8(&f, 10); /* claims 88 bytes */
    put_fill(&f, 0, 30);
    finish(&f);
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_BAD_IPV6_EXTENSION);
    /* A header longer than the payload length, though captured. */
    start(&f);
    ipv6(&f, 0);
    ext(&f, 6, 3);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    set16(&f, 4, 16);
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_BAD_IPV6_EXTENSION);
    /* Exactly the payload length: nothing left for TCP. */
    set16(&f, 4, 32);
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_BAD_TCP_DATA_OFFSET);

    /* Sweep an Ethernet frame with two extension headers. */
    start(&f);
    eth(&f, 0x86dd);
    ipv6(&f, 0);
    ext(&f, 60, 0);
    ext(&f, 6, 1);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    const size_t ends[] = {14, 54, 78, 98};
    const tcpwm_decode_error why[] = {TCPWM_DE_TRUNCATED_LINK, TCPWM_DE_TRUNCATED_IP,
                                      TCPWM_DE_BAD_IPV6_EXTENSION, TCPWM_DE_TRUNCATED_TCP};
    sweep(&f, TCPWM_DLT_EN10MB, ends, why, 4);
}

static void test_not_tcp(void)
{
    frame f;
    /* ICMP destination unreachable quoting an IPv4 + TCP header. */
    start(&f);
    eth(&f, 0x0800);
    ipv4(&f, 1, 0);
    put8(&f, 3);
    put8(&f, 3);
    put16(&f, 0);
    put32(&f, 0);
    {
        size_t outer_ip = f.ip;
        ipv4(&f, 6, 0);
        tcp(&f, TCPWM_ACK, NULL, 0);
        finish(&f);
        f.ip = outer_ip;
    }
    finish(&f);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    /* ICMPv6 quoting IPv6 + TCP. */
    start(&f);
    ipv6(&f, 58);
    put32(&f, 0x01040000);
    put32(&f, 0);
    {
        size_t outer_ip = f.ip;
        ipv6(&f, 6);
        tcp(&f, TCPWM_ACK, NULL, 0);
        finish(&f);
        f.ip = outer_ip;
    }
    finish(&f);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_IPV6);
    /* UDP. */
    start(&f);
    eth(&f, 0x0800);
    ipv4(&f, 17, 0);
    put_fill(&f, 0, 8);
    finish(&f);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    start(&f);
    ipv6(&f, 0);
    ext(&f, 17, 0);
    put_fill(&f, 0, 8);
    finish(&f);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_IPV6);
    /* ESP, AH, no next header. (Tunnels: test_tunnels.) */
    static const unsigned v6nh[] = {50, 51, 59};
    for (size_t i = 0; i < sizeof v6nh / sizeof v6nh[0]; i++) {
        start(&f);
        ipv6(&f, v6nh[i]);
        put_fill(&f, 6, 60);
        finish(&f);
        EXPECT_NOT_TCP(&f, TCPWM_DLT_IPV6);
    }
    /* ARP, LLDP, an 802.3 length field. */
    static const unsigned types[] = {0x0806, 0x88cc, 0x0040, 0x8863};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        start(&f);
        eth(&f, types[i]);
        put_fill(&f, 0, 46);
        EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    }
    /* SLL carrying something that is not IP (802.2 LLC). */
    start(&f);
    sll(&f, 0x0004);
    put_fill(&f, 0, 20);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_LINUX_SLL);
}

/* Decoding f must give a fragment; its description is returned. */
static tcpwm_fragment expect_frag(const frame *f, int dlt, size_t caplen, int line)
{
    tcpwm_segment s = {0};
    tcpwm_fragment fr;
    tcpwm_decode_error e = TCPWM_DE__COUNT;
    memset(&fr, 0xee, sizeof fr);
    uint8_t *copy = malloc(caplen ? caplen : 1);
    if (!copy)
        abort();
    memcpy(copy, f->b, caplen);
    tcpwm_decode_status st = tcpwm_decode_frag(NULL, copy, caplen, f->n, dlt, &s, &fr, &e);
    free(copy);
    CHECK_EQ_U64(st, TCPWM_DECODE_FRAGMENT);
    if (st != TCPWM_DECODE_FRAGMENT)
        fprintf(stderr, "  (line %d: status %d, error %s)\n", line, (int)st, label(e));
    static const uint8_t v4src[16] = {192, 0, 2, 1};
    static const uint8_t v6src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    CHECK_EQ_U64(s.family, f->ipver);
    CHECK(memcmp(s.src, f->ipver == 4 ? v4src : v6src, 16) == 0);
    /* Without a description the status is the same. */
    CHECK_EQ_U64(tcpwm_decode(f->b, caplen, f->n, dlt, &s, &e), TCPWM_DECODE_FRAGMENT);
    return fr;
}
#define EXPECT_FRAG(f, dlt) expect_frag((f), (dlt), (f)->n, __LINE__)

static void test_fragments(void)
{
    frame f;
    /* IPv4 (RFC 791 3.2): any non-zero offset, with or without MF, and a
     * first fragment (MF, offset 0) go to reassembly; offsets in bytes,
     * the length from the IP header, without IHL x 4. */
    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 8);
    finish(&f);
    static const unsigned ff[] = {0x0001, 0x2001, 0x1fff, 0x3fff, 0x0100, 0x1000, 0x2000, 0x6000};
    for (size_t i = 0; i < sizeof ff / sizeof ff[0]; i++) {
        set16(&f, 20, ff[i]);
        tcpwm_fragment fr = EXPECT_FRAG(&f, TCPWM_DLT_EN10MB);
        CHECK_EQ_U64(fr.proto, 6);
        CHECK_EQ_U64(fr.id, 0xbeef);
        CHECK_EQ_U64(fr.offset, (ff[i] & 0x1fff) * 8u);
        CHECK_EQ_U64(fr.more, (ff[i] & 0x2000) != 0);
        CHECK_EQ_U64(fr.len, 28);
        CHECK_EQ_U64(fr.hdr_len, 20);
        /* The bytes that fall in the datagram's first 60. */
        uint32_t want = fr.offset >= 60 ? 0 : 28;
        CHECK_EQ_U64(fr.head_len, want);
        if (want)
            CHECK(memcmp(fr.head, f.b + f.tcp, 28) == 0);
    }
    /* DF alone is a whole packet. */
    set16(&f, 20, 0x4000);
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 8);
    /* Options skipped by IHL count in hdr_len; a fragment at offset 48
     * keeps its first 12 bytes (the datagram's 48..60); a snap length
     * keeps fewer, the length stays the IP header's. */
    start(&f);
    ipv4(&f, 6, 4);
    payload(&f, 40);
    finish(&f);
    set16(&f, 6, 0x2000 | 6);
    tcpwm_fragment fr = EXPECT_FRAG(&f, TCPWM_DLT_RAW);
    CHECK_EQ_U64(fr.hdr_len, 24);
    CHECK_EQ_U64(fr.len, 40);
    CHECK_EQ_U64(fr.offset, 48);
    CHECK_EQ_U64(fr.head_len, 12);
    fr = expect_frag(&f, TCPWM_DLT_RAW, 24 + 5, __LINE__);
    CHECK_EQ_U64(fr.len, 40);
    CHECK_EQ_U64(fr.head_len, 5);
    /* A later fragment of a UDP datagram is simply not TCP. */
    start(&f);
    ipv4(&f, 17, 0);
    put_fill(&f, 0, 16);
    finish(&f);
    set16(&f, 6, 0x0010);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_RAW);

    /* IPv6 (RFC 8200 4.5) fragments of TCP or of something that may lead
     * to it: offset and length after the Fragment header, hdr_len the
     * extension headers before it. */
    start(&f);
    ipv6(&f, 44);
    frag6(&f, 6, 185, 1);
    payload(&f, 64);
    finish(&f);
    fr = EXPECT_FRAG(&f, TCPWM_DLT_IPV6);
    CHECK_EQ_U64(fr.proto, 6);
    CHECK_EQ_U64(fr.id, 0xcafe);
    CHECK_EQ_U64(fr.offset, 185 * 8);
    CHECK(fr.more);
    CHECK_EQ_U64(fr.len, 64);
    CHECK_EQ_U64(fr.hdr_len, 0);
    CHECK_EQ_U64(fr.head_len, 0);
    start(&f);
    ipv6(&f, 0);
    ext(&f, 44, 0);
    frag6(&f, 60, 1, 1);
    payload(&f, 64);
    finish(&f);
    fr = EXPECT_FRAG(&f, TCPWM_DLT_IPV6);
    CHECK_EQ_U64(fr.proto, 60);
    CHECK_EQ_U64(fr.offset, 8);
    CHECK_EQ_U64(fr.hdr_len, 8);
    CHECK_EQ_U64(fr.len, 64);
    CHECK_EQ_U64(fr.head_len, 52);
    start(&f);
    ipv6(&f, 44);
    frag6(&f, 17, 1, 0);
    payload(&f, 64);
    finish(&f);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_IPV6);
    /* A first fragment (offset 0, M 1) goes to reassembly, with its TCP
     * header's bytes; an atomic fragment (M 0, RFC 6946) is a packet. */
    start(&f);
    eth(&f, 0x86dd);
    ipv6(&f, 44);
    frag6(&f, 6, 0, 1);
    tcp(&f, TCPWM_ACK, NULL, 0);
    payload(&f, 32);
    finish(&f);
    fr = EXPECT_FRAG(&f, TCPWM_DLT_EN10MB);
    CHECK_EQ_U64(fr.len, 52);
    CHECK_EQ_U64(fr.head_len, 52);
    CHECK(memcmp(fr.head, f.b + f.tcp, 52) == 0);
    set16(&f, 14 + 40 + 2, 0);
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 32);
    /* A first fragment of UDP is read with the bytes it has (a tunnel). */
    start(&f);
    ipv6(&f, 44);
    frag6(&f, 17, 0, 1);
    payload(&f, 64);
    finish(&f);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_IPV6);
    /* A fragment header cut short by the capture. */
    start(&f);
    ipv6(&f, 44);
    put_fill(&f, 6, 5);
    finish(&f);
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_BAD_IPV6_EXTENSION);
}

static void test_tso(void)
{
    frame f;
    /* IPv4 total length 0: the payload is what the wire length leaves. */
    start(&f);
    eth(&f, 0x8100);
    tag(&f, 5, 0x0800);
    ipv4(&f, 6, 4);
    static const uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    tcp(&f, TCPWM_ACK, ts, sizeof ts);
    payload(&f, 100);
    set16(&f, f.ip + 2, 0);
    size_t hdrs = 18 + 24 + 32;
    expect_tcp_len(&f, TCPWM_DLT_EN10MB, f.n, 64000, (uint32_t)(64000 - hdrs), __LINE__);
    /* Caplen equal to the wire length. */
    expect_tcp_len(&f, TCPWM_DLT_EN10MB, f.n, f.n, 100, __LINE__);
    /* Raw IP: no link header to subtract. */
    start(&f);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    payload(&f, 100);
    set16(&f, 2, 0);
    expect_tcp_len(&f, TCPWM_DLT_RAW, f.n, 200000, 200000 - 40, __LINE__);
    /* IPv6 payload length 0 (BIG TCP), with a hop-by-hop header. */
    start(&f);
    sll2(&f, 0x86dd);
    ipv6(&f, 0);
    ext(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    payload(&f, 100);
    set16(&f, f.ip + 4, 0);
    expect_tcp_len(&f, TCPWM_DLT_LINUX_SLL2, f.n, 150000, 150000 - 20 - 40 - 8 - 20, __LINE__);
    /* A wire length below caplen (a broken front end) counts as caplen. */
    expect_tcp_len(&f, TCPWM_DLT_LINUX_SLL2, f.n, 10, 100, __LINE__);
}

static void test_snaplen(void)
{
    frame f;
    for (int ipver = 4; ipver <= 6; ipver += 2) {
        build(&f, TCPWM_DLT_EN10MB, ipver, NULL, 0, 900);
        size_t hdrs = f.tcp + 20;
        for (size_t cap = hdrs; cap < f.n; cap += 97)
            expect_tcp_len(&f, TCPWM_DLT_EN10MB, cap, f.n, 900, __LINE__);
        expect_tcp_len(&f, TCPWM_DLT_EN10MB, hdrs, f.n, 900, __LINE__);
    }
    /* Ethernet padding after a short packet is not payload. */
    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 0);
    put_fill(&f, 0, 6);
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 0);
}

static void test_tcp_data_offset(void)
{
    frame f;
    for (unsigned doff = 0; doff < 5; doff++) {
        build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 40);
        set8(&f, f.tcp + 12, doff << 4);
        EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_TCP_DATA_OFFSET);
    }
    /* Header (24 bytes) longer than the IP payload (20), though captured. */
    static const uint8_t mss[4] = {2, 4, 0x05, 0xb4};
    build(&f, TCPWM_DLT_EN10MB, 4, mss, 4, 30);
    set16(&f, f.ip + 2, 40);
    EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_TCP_DATA_OFFSET);
    set16(&f, f.ip + 2, 44);
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 0);
    /* Data offset 15 in a 20-byte IPv6 payload. */
    build(&f, TCPWM_DLT_IPV6, 6, NULL, 0, 0);
    set8(&f, f.tcp + 12, 0xf0);
    put_fill(&f, 0, 40);
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_BAD_TCP_DATA_OFFSET);
    /* Options on the wire but cut by the snap length: the segment is
     * read, the cut option is not, and the segment says so. */
    build(&f, TCPWM_DLT_IPV6, 6, mss, 4, 0);
    {
        tcpwm_segment s_ = expect_tcp_len(&f, TCPWM_DLT_IPV6, f.n - 1, f.n, 0, __LINE__);
        CHECK(s_.opt_cut);
        CHECK(!s_.opt_bad);
        CHECK_EQ_U64(s_.opt_present, 0);
    }
    /* The same frame one byte short on the wire: the IP length is cut to
     * what the link carried, and the header no longer fits in it. */
    f.n -= 1;
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_BAD_TCP_DATA_OFFSET);
}

/* An IP length beyond what the link carried (Ethernet padding counted in
 * it, a frame shorter on the wire) is cut to it; PPPoE's LENGTH also
 * bounds it (RFC 2516). */
static void test_ip_length_cut_to_link(void)
{
    frame f;
    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 100);
    set16(&f, f.ip + 2, 20 + 20 + 150); /* claims 150 bytes of payload */
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 100);
    build(&f, TCPWM_DLT_IPV6, 6, NULL, 0, 100);
    set16(&f, f.ip + 4, 20 + 150);
    EXPECT_TCP(&f, TCPWM_DLT_IPV6, 100);
    /* Snap length, not the wire: the header's length stands. */
    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 100);
    expect_tcp_len(&f, TCPWM_DLT_EN10MB, f.n - 60, f.n, 100, __LINE__);
    /* PPPoE says 6 bytes fewer than IPv4 (padding counted in the IP
     * length, as seen in the wild): PPPoE wins. */
    start(&f);
    eth(&f, 0x8864);
    pppoe(&f, 0x0021);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    payload(&f, 10);
    finish(&f);
    set16(&f, f.pppoe + 4, (unsigned)(f.n - f.pppoe - 6 - 6));
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 4);
}

/* Decode a SYN carrying `opts` (padded by the caller to a multiple of 4). */
static tcpwm_segment with_options(const uint8_t *opts, size_t n)
{
    frame f;
    start(&f);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_SYN, opts, n);
    finish(&f);
    tcpwm_segment s = EXPECT_TCP(&f, TCPWM_DLT_RAW, 0);
    CHECK_EQ_U64(s.flags, TCPWM_SYN);
    return s;
}

static void test_options_values(void)
{
    /* A Linux SYN: MSS, SACK permitted, timestamps, NOP, window scale. */
    static const uint8_t syn[20] = {2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0x01, 0x02,
                                    0x03, 0x04, 0,    0,    0, 0, 1, 3,  3,    7};
    tcpwm_segment s = with_options(syn, sizeof syn);
    CHECK_EQ_U64(s.opt_present,
                 TCPWM_OPT_MSS | TCPWM_OPT_SACK_PERM | TCPWM_OPT_TS | TCPWM_OPT_WSCALE);
    CHECK_EQ_U64(s.mss, 1460);
    CHECK_EQ_U64(s.wscale, 7);
    CHECK_EQ_U64(s.tsval, 0x01020304);
    CHECK_EQ_U64(s.tsecr, 0);
    CHECK(!s.opt_bad);

    /* Window scale as sent, beyond the cap of 14. */
    static const uint8_t ws[4] = {1, 3, 3, 15};
    s = with_options(ws, sizeof ws);
    CHECK_EQ_U64(s.opt_present, TCPWM_OPT_WSCALE);
    CHECK_EQ_U64(s.wscale, 15);

    /* One SACK block after timestamps. */
    static const uint8_t sack1[24] = {1, 1, 8, 10, 0, 0, 0,    9, 0, 0, 0,    8,
                                      1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0};
    s = with_options(sack1, sizeof sack1);
    CHECK_EQ_U64(s.opt_present, TCPWM_OPT_TS | TCPWM_OPT_SACK);
    CHECK_EQ_U64(s.tsval, 9);
    CHECK_EQ_U64(s.tsecr, 8);
    CHECK_EQ_U64(s.sack_count, 1);
    CHECK_EQ_U64(s.sack[0][0], 0x1000);
    CHECK_EQ_U64(s.sack[0][1], 0x2000);

    /* Four SACK blocks (the most that fit), all kept. */
    uint8_t sack4[36] = {1, 1, 5, 34};
    for (int i = 0; i < 8; i++) {
        sack4[4 + 4 * i + 3] = (uint8_t)(i + 1);
        sack4[4 + 4 * i] = 0xf0;
    }
    s = with_options(sack4, sizeof sack4);
    CHECK_EQ_U64(s.opt_present, TCPWM_OPT_SACK);
    CHECK_EQ_U64(s.sack_count, 4);
    for (uint32_t i = 0; i < 4; i++) {
        CHECK_EQ_U64(s.sack[i][0], 0xf0000000u | (2 * i + 1));
        CHECK_EQ_U64(s.sack[i][1], 0xf0000000u | (2 * i + 2));
    }

    /* Unknown kinds are skipped by their length (MPTCP, TCP-AO, exp.). */
    static const uint8_t unknown[12] = {30, 4, 0x10, 0x01, 254, 4, 0xab, 0xcd, 2, 4, 0x23, 0x28};
    s = with_options(unknown, sizeof unknown);
    CHECK_EQ_U64(s.opt_present, TCPWM_OPT_MSS);
    CHECK_EQ_U64(s.mss, 9000);
    CHECK(!s.opt_bad);

    /* EOL ends the list: what follows is padding, even if it looks bad. */
    static const uint8_t eol[8] = {2, 4, 0x05, 0x00, 0, 3, 0, 0xff};
    s = with_options(eol, sizeof eol);
    CHECK_EQ_U64(s.opt_present, TCPWM_OPT_MSS);
    CHECK_EQ_U64(s.mss, 1280);
    CHECK(!s.opt_bad);

    /* Known kinds with the wrong length are ignored, not trusted; the
     * options after them are still read. */
    static const uint8_t odd[20] = {2, 3, 0x05,                   /* MSS, length 3 */
                                    4, 3, 0,                      /* SACK_PERM, length 3 */
                                    5, 9, 0,    0, 0, 0, 0, 0, 0, /* SACK, length 9 */
                                    1, 3, 3,    2, 0};            /* NOP, WSCALE 2, EOL */
    s = with_options(odd, sizeof odd);
    CHECK_EQ_U64(s.opt_present, TCPWM_OPT_WSCALE);
    CHECK_EQ_U64(s.wscale, 2);
    CHECK(!s.opt_bad);
    static const uint8_t odd2[12] = {8, 9, 0, 0, 0, 0, 0, 0, 0, 5, 2, 0};
    s = with_options(odd2, sizeof odd2);
    CHECK_EQ_U64(s.opt_present, 0);
    CHECK(!s.opt_bad);
}

static void test_options_bad(void)
{
    /* Length 0 and 1: no progress possible. Earlier options are kept,
     * later ones ignored; the segment is still TCP. */
    for (uint8_t len = 0; len < 2; len++) {
        const uint8_t o[8] = {2, 4, 0x05, 0xb4, 30, len, 3, 3};
        tcpwm_segment s = with_options(o, sizeof o);
        CHECK(s.opt_bad);
        CHECK_EQ_U64(s.opt_present, TCPWM_OPT_MSS);
        CHECK_EQ_U64(s.mss, 1460);
        /* The same for a known kind. */
        const uint8_t k[8] = {1, 1, 3, len, 2, 4, 0x05, 0xb4};
        s = with_options(k, sizeof k);
        CHECK(s.opt_bad);
        CHECK_EQ_U64(s.opt_present, 0);
    }
    /* A length running past the header end. */
    static const uint8_t past[8] = {1, 1, 8, 10, 0, 0, 0, 1};
    tcpwm_segment s = with_options(past, sizeof past);
    CHECK(s.opt_bad);
    CHECK_EQ_U64(s.opt_present, 0);
    static const uint8_t past2[4] = {1, 1, 99, 3};
    s = with_options(past2, sizeof past2);
    CHECK(s.opt_bad);
    /* Exactly to the end is fine. */
    static const uint8_t edge[4] = {1, 99, 3, 0};
    s = with_options(edge, sizeof edge);
    CHECK(!s.opt_bad);
    /* A kind in the last byte, its length byte missing. */
    static const uint8_t nolen[4] = {1, 1, 1, 2};
    s = with_options(nolen, sizeof nolen);
    CHECK(s.opt_bad);
    CHECK_EQ_U64(s.opt_present, 0);
}

/* A SYN whose options the capture cut (semantics.md 1): the options
 * captured whole are read, the segment says the rest are unknown. */
static void test_options_cut(void)
{
    /* MSS (4), SACK permitted (2), timestamps (10), NOP, window scale 7. */
    static const uint8_t syn[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                    0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
    frame f;
    start(&f);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_SYN, syn, sizeof syn);
    finish(&f);
    for (size_t have = 0; have <= sizeof syn; have++) {
        tcpwm_segment s = expect_tcp_len(&f, TCPWM_DLT_RAW, f.tcp + 20 + have, f.n, 0, __LINE__);
        unsigned want = (have >= 4 ? TCPWM_OPT_MSS : 0) | (have >= 6 ? TCPWM_OPT_SACK_PERM : 0) |
                        (have >= 16 ? TCPWM_OPT_TS : 0) | (have >= 20 ? TCPWM_OPT_WSCALE : 0);
        CHECK_EQ_U64(s.opt_present, want);
        CHECK_EQ_U64(s.opt_cut, have < sizeof syn);
        CHECK(!s.opt_bad);
        CHECK_EQ_U64(s.flags, TCPWM_SYN);
    }
    /* The window scale before the cut is seen. */
    static const uint8_t ws_first[12] = {1, 3, 3, 9, 2, 4, 0x05, 0xb4, 4, 2, 0, 0};
    start(&f);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_SYN, ws_first, sizeof ws_first);
    finish(&f);
    {
        tcpwm_segment s = expect_tcp_len(&f, TCPWM_DLT_RAW, f.tcp + 20 + 6, f.n, 0, __LINE__);
        CHECK_EQ_U64(s.opt_present, TCPWM_OPT_WSCALE);
        CHECK_EQ_U64(s.wscale, 9);
        CHECK(s.opt_cut);
    }
    /* An EOL captured before the cut: only padding follows, nothing is
     * unknown. */
    static const uint8_t eol[8] = {2, 4, 0x05, 0xb4, 0, 0, 0, 0};
    start(&f);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_SYN, eol, sizeof eol);
    finish(&f);
    {
        tcpwm_segment s = expect_tcp_len(&f, TCPWM_DLT_RAW, f.tcp + 20 + 5, f.n, 0, __LINE__);
        CHECK_EQ_U64(s.opt_present, TCPWM_OPT_MSS);
        CHECK(!s.opt_cut);
    }
    /* A length below 2 before the cut is bad, as in a whole header; so is
     * one running past the header's end even counting what was not
     * captured. */
    static const uint8_t bad[8] = {1, 30, 1, 0, 0, 0, 0, 0};
    start(&f);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_SYN, bad, sizeof bad);
    finish(&f);
    {
        tcpwm_segment s = expect_tcp_len(&f, TCPWM_DLT_RAW, f.tcp + 20 + 4, f.n, 0, __LINE__);
        CHECK(s.opt_bad);
    }
    static const uint8_t past[8] = {1, 1, 8, 30, 0, 0, 0, 0};
    start(&f);
    ipv4(&f, 6, 0);
    tcp(&f, TCPWM_SYN, past, sizeof past);
    finish(&f);
    {
        tcpwm_segment s = expect_tcp_len(&f, TCPWM_DLT_RAW, f.tcp + 20 + 4, f.n, 0, __LINE__);
        CHECK(s.opt_bad);
        CHECK(!s.opt_cut);
    }
    /* The fixed header itself cut: still truncated_tcp. */
    {
        tcpwm_segment s = {0};
        tcpwm_decode_error e;
        CHECK_EQ_U64(run_len(&f, TCPWM_DLT_RAW, f.tcp + 19, f.n, &s, &e), TCPWM_DECODE_ERROR);
        CHECK_STREQ(label(e), label(TCPWM_DE_TRUNCATED_TCP));
    }
}

/* The brief's case: VLAN + IPv4 options + TCP options, cut at every length. */
static void test_truncation_sweep(void)
{
    frame f;
    start(&f);
    eth(&f, 0x88a8);
    tag(&f, 100, 0x8100);
    tag(&f, 200, 0x0800);
    ipv4(&f, 6, 8);
    static const uint8_t opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                     0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
    tcp(&f, TCPWM_SYN, opts, sizeof opts);
    finish(&f);
    CHECK_EQ_U64(f.n, 22 + 28 + 40);
    const size_t ends[] = {22, 50, 70};
    const tcpwm_decode_error why[] = {TCPWM_DE_TRUNCATED_LINK, TCPWM_DE_TRUNCATED_IP,
                                      TCPWM_DE_TRUNCATED_TCP};
    sweep(&f, TCPWM_DLT_EN10MB, ends, why, 3);
    tcpwm_segment s = EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 0);
    CHECK_EQ_U64(s.vlan_count, 2);
    CHECK_EQ_U64(s.wscale, 7);

    /* The same sweep on every link type. */
    for (size_t i = 0; i < N_DLTS; i++) {
        int dlt = all_dlts[i];
        int ipver = dlt == TCPWM_DLT_IPV6 ? 6 : 4;
        build(&f, dlt, ipver, opts, sizeof opts, 0);
        size_t ip_end = f.ip + (ipver == 4 ? 20 : 40);
        const size_t e2[] = {f.ip, ip_end, f.tcp + 20};
        if (f.ip == 0) {
            sweep(&f, dlt, e2 + 1, why + 1, 2);
        } else {
            sweep(&f, dlt, e2, why, 3);
        }
    }
}

static void test_segment_reset(void)
{
    frame f;
    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 0);
    tcpwm_segment s;
    memset(&s, 0xff, sizeof s);
    s.ts_ns = 1234567890123;
    tcpwm_decode_error e = TCPWM_DE__COUNT;
    CHECK_EQ_U64(tcpwm_decode(f.b, f.n, f.n, TCPWM_DLT_EN10MB, &s, &e), TCPWM_DECODE_TCP);
    CHECK_EQ_U64(s.ts_ns, 1234567890123);
    CHECK_EQ_U64(s.opt_present, 0);
    CHECK_EQ_U64(s.sack_count, 0);
    CHECK_EQ_U64(s.vlan_count, 0);
    CHECK_EQ_U64(s.vlan[0], 0);
    CHECK_EQ_U64(s.mss, 0);
    CHECK(!s.opt_bad);
    CHECK_EQ_U64(e, TCPWM_DE__COUNT); /* untouched on success */
    /* A NULL frame is an empty one; a NULL err is allowed. */
    CHECK_EQ_U64(tcpwm_decode(NULL, 0, 0, TCPWM_DLT_EN10MB, &s, NULL), TCPWM_DECODE_ERROR);
    CHECK_EQ_U64(tcpwm_decode(NULL, 0, 0, TCPWM_DLT_EN10MB, &s, &e), TCPWM_DECODE_ERROR);
    CHECK_EQ_U64(e, TCPWM_DE_TRUNCATED_LINK);
}

/* The fast path (decode_int.h) takes exactly the frames its contract
 * names, and gives for each the walk's segment byte for byte; every other
 * frame it leaves to the walk. (tests/fuzz/fuzz_decode.c: the same over
 * every frame of the captures and their mutants.) */
static bool fast_takes(const frame *f, int dlt, size_t caplen, size_t wirelen)
{
    uint8_t *copy = malloc(caplen > 0 ? caplen : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, f->b, caplen);
    tcpwm_segment fast, walk;
    tcpwm_fragment frag;
    tcpwm_decode_error e;
    memset(&fast, 0x5a, sizeof fast);
    memset(&walk, 0x5a, sizeof walk);
    bool took = tcpwm__decode_common(copy, caplen, wirelen, dlt, &fast);
    tcpwm_decode_status st = tcpwm__decode_walk(NULL, copy, caplen, wirelen, dlt, &walk, &frag, &e);
    if (took) {
        CHECK_EQ_U64(st, TCPWM_DECODE_TCP);
        CHECK(memcmp(&fast, &walk, sizeof fast) == 0);
    }
    free(copy);
    return took;
}

#define FAST_TAKES(f) fast_takes((f), TCPWM_DLT_EN10MB, (f)->n, (f)->n)

static void test_fast_path(void)
{
    /* RFC 7323 appendix A: NOP, NOP, then TS (kind 8, length 10). */
    static const uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
    static const uint8_t ts_last[12] = {8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 1};
    static const uint8_t mss_ts[16] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
    static const uint8_t mss[4] = {2, 4, 0x05, 0xb4};
    frame f;

    /* Taken: IPv4 or IPv6, untagged or one tag of each TPID, TCP
     * without options or with NOP NOP TS, with payload or without. */
    for (int ipver = 4; ipver <= 6; ipver += 2) {
        build(&f, TCPWM_DLT_EN10MB, ipver, NULL, 0, 0);
        CHECK(FAST_TAKES(&f));
        build(&f, TCPWM_DLT_EN10MB, ipver, ts, sizeof ts, 500);
        CHECK(FAST_TAKES(&f));
        tcpwm_segment s = EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 500);
        CHECK_EQ_U64(s.opt_present, TCPWM_OPT_TS);
        CHECK_EQ_U64(s.tsval, 7);
        CHECK_EQ_U64(s.tsecr, 9);
        /* A snap length cuts the payload, not the headers. */
        CHECK(fast_takes(&f, TCPWM_DLT_EN10MB, f.n - 500, f.n));
        /* Ethernet padding after the datagram; a wire length that is
         * shorter than what was captured. */
        put_fill(&f, 0, 6);
        CHECK(fast_takes(&f, TCPWM_DLT_EN10MB, f.n, f.n));
        CHECK(fast_takes(&f, TCPWM_DLT_EN10MB, f.n, 0));
        static const unsigned tpids[] = {0x8100, 0x88a8, 0x9100};
        for (size_t i = 0; i < 3; i++) {
            start(&f);
            eth(&f, tpids[i]);
            tag(&f, 0xe000 | (unsigned)(100 + i), ipver == 4 ? 0x0800 : 0x86dd);
            if (ipver == 4)
                ipv4(&f, 6, 0);
            else
                ipv6(&f, 6);
            tcp(&f, TCPWM_ACK, ts, sizeof ts);
            finish(&f);
            CHECK(FAST_TAKES(&f));
            s = EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 0);
            CHECK_EQ_U64(s.vlan_count, 1);
            CHECK_EQ_U64(s.vlan[0], 100 + i);
            /* TSO (IP length 0): the wire's length from the IP header on. */
            set16(&f, f.ip + (ipver == 4 ? 2 : 4), 0);
            CHECK(fast_takes(&f, TCPWM_DLT_EN10MB, f.n, f.n + 1448));
            expect_tcp_len(&f, TCPWM_DLT_EN10MB, f.n, f.n + 1448, 1448, __LINE__);
        }
    }

    /* Left to the walk: other options, or TS not in the aligned layout;
     * two tags; IPv4 options; an IPv6 extension header; a fragment; a
     * frame cut inside the headers; a bad data offset; other links. */
    for (int ipver = 4; ipver <= 6; ipver += 2) {
        build(&f, TCPWM_DLT_EN10MB, ipver, mss, sizeof mss, 0);
        CHECK(!FAST_TAKES(&f));
        build(&f, TCPWM_DLT_EN10MB, ipver, mss_ts, sizeof mss_ts, 0);
        CHECK(!FAST_TAKES(&f));
        build(&f, TCPWM_DLT_EN10MB, ipver, ts_last, sizeof ts_last, 0);
        CHECK(!FAST_TAKES(&f));
        build(&f, TCPWM_DLT_EN10MB, ipver, ts, sizeof ts, 0);
        CHECK(!fast_takes(&f, TCPWM_DLT_EN10MB, f.n - 1, f.n));
        CHECK(!fast_takes(&f, TCPWM_DLT_EN10MB, f.tcp + 19, f.n));
        set8(&f, f.tcp + 12, 0xf0);
        CHECK(!FAST_TAKES(&f));
        build(&f, TCPWM_DLT_RAW, ipver, NULL, 0, 0);
        CHECK(!fast_takes(&f, TCPWM_DLT_RAW, f.n, f.n));
        start(&f);
        eth(&f, 0x88a8);
        tag(&f, 200, 0x8100);
        tag(&f, 300, ipver == 4 ? 0x0800 : 0x86dd);
        if (ipver == 4)
            ipv4(&f, 6, 0);
        else
            ipv6(&f, 6);
        tcp(&f, TCPWM_ACK, NULL, 0);
        finish(&f);
        CHECK(!FAST_TAKES(&f));
    }
    start(&f);
    eth(&f, 0x0800);
    ipv4(&f, 6, 4);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    CHECK(!FAST_TAKES(&f));
    start(&f);
    eth(&f, 0x86dd);
    ipv6(&f, 0);
    ext(&f, 6, 0);
    tcp(&f, TCPWM_ACK, NULL, 0);
    finish(&f);
    CHECK(!FAST_TAKES(&f));
    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 8);
    set16(&f, f.ip + 6, 0x2000); /* MF */
    CHECK(!FAST_TAKES(&f));
    set16(&f, f.ip + 6, 0x0001); /* offset 8 */
    CHECK(!FAST_TAKES(&f));
    /* An IP length below the headers', and a TSO length (0) taken from
     * a wire length past MAX_LINK_IP_LENGTH (16 MiB). */
    build(&f, TCPWM_DLT_EN10MB, 4, NULL, 0, 8);
    set16(&f, f.ip + 2, 39);
    CHECK(!FAST_TAKES(&f));
    set16(&f, f.ip + 2, 0);
    CHECK(fast_takes(&f, TCPWM_DLT_EN10MB, f.n, f.ip + ((size_t)1 << 24)));
    CHECK(!fast_takes(&f, TCPWM_DLT_EN10MB, f.n, f.ip + ((size_t)1 << 24) + 1));
    /* No frame at all. */
    CHECK(!tcpwm__decode_common(NULL, 100, 100, TCPWM_DLT_EN10MB, &(tcpwm_segment){0}));
}

static void test_labels(void)
{
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_UNSUPPORTED_LINKTYPE), "unsupported_linktype");
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_TRUNCATED_LINK), "truncated_link");
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_TRUNCATED_IP), "truncated_ip");
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_BAD_IP_VERSION), "bad_ip_version");
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_BAD_IPV4_HEADER_LENGTH),
                "bad_ipv4_header_length");
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_BAD_IP_LENGTH), "bad_ip_length");
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_BAD_IPV6_EXTENSION), "bad_ipv6_extension");
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_TRUNCATED_TCP), "truncated_tcp");
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_BAD_TCP_DATA_OFFSET), "bad_tcp_data_offset");
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_BAD_TCP_OPTION), "bad_tcp_option");
    CHECK(tcpwm_decode_error_label(TCPWM_DE__COUNT) == NULL);
    CHECK(tcpwm_decode_error_label((tcpwm_decode_error)-1) == NULL);

    CHECK_STREQ(tcpwm_strerror(TCPWM_OK), "success");
    CHECK_STREQ(tcpwm_strerror(TCPWM_EINVAL), "invalid argument");
    CHECK_STREQ(tcpwm_strerror(TCPWM_ENOMEM), "out of memory");
    CHECK_STREQ(tcpwm_strerror(TCPWM_ELIMIT), "size limit reached");
    CHECK_STREQ(tcpwm_strerror(-99), "unknown error");
    CHECK_STREQ(tcpwm_strerror(5), "unknown error");
}

static void test_cursor(void)
{
    static const uint8_t bytes[7] = {1, 2, 3, 4, 5, 6, 7};
    tcpwm_cursor c = cur_make(bytes, sizeof bytes);
    CHECK_EQ_U64(cur_be8(&c), 1);
    CHECK_EQ_U64(cur_be16(&c), 0x0203);
    tcpwm_cursor sub = cur_sub(&c, 2);
    CHECK(!sub.bad);
    CHECK_EQ_U64(cur_be16(&sub), 0x0405);
    CHECK_EQ_U64(sub.left, 0);
    CHECK_EQ_U64(cur_be8(&sub), 0);
    CHECK(sub.bad);
    CHECK(!c.bad);
    CHECK_EQ_U64(cur_peek8(&c, 1), 7);
    CHECK_EQ_U64(cur_peek8(&c, 2), 0);
    CHECK_EQ_U64(cur_be32(&c), 0); /* only two left */
    CHECK(c.bad);
    CHECK_EQ_U64(c.left, 0);
    CHECK_EQ_U64(cur_be8(&c), 0); /* sticky */
    tcpwm_cursor empty = cur_make(NULL, 0);
    tcpwm_cursor z = cur_sub(&empty, 0);
    CHECK(!z.bad && !empty.bad);
    cur_skip(&empty, 1);
    CHECK(empty.bad);
}

/* Random bytes and random cuts through every link type: no crash, no read
 * past caplen (the sanitizer build checks), and a valid answer each time. */
static void test_fuzz(void)
{
    uint64_t x = 0x9e3779b97f4a7c15u;
    frame base[4];
    static const uint8_t opts[12] = {2, 4, 1, 0, 5, 10, 0, 0, 0, 1, 0, 0};
    build(&base[0], TCPWM_DLT_EN10MB, 4, opts, sizeof opts, 20);
    build(&base[1], TCPWM_DLT_EN10MB, 6, opts, sizeof opts, 20);
    start(&base[2]);
    eth(&base[2], 0x8100);
    tag(&base[2], 1, 0x8864);
    pppoe(&base[2], 0x0057);
    ipv6(&base[2], 0);
    ext(&base[2], 44, 0);
    frag6(&base[2], 6, 0, 0);
    tcp(&base[2], TCPWM_ACK, opts, sizeof opts);
    finish(&base[2]);
    build(&base[3], TCPWM_DLT_LINUX_SLL2, 4, opts, sizeof opts, 4);
    int bad_status = 0;
    for (int iter = 0; iter < 20000; iter++) {
        frame f = base[iter % 4];
        for (int k = 0; k < 4; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            f.b[(x >> 8) % f.n] = (uint8_t)(x >> 40);
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t cap = (size_t)(x % (f.n + 1));
        int dlt = all_dlts[(x >> 32) % N_DLTS];
        tcpwm_segment s = {0};
        tcpwm_decode_error e;
        tcpwm_decode_status st = run_len(&f, dlt, cap, f.n, &s, &e);
        if (st == TCPWM_DECODE_ERROR && tcpwm_decode_error_label(e) == NULL)
            bad_status++;
        if (st == TCPWM_DECODE_TCP && s.family != 4 && s.family != 6)
            bad_status++;
        if (st == TCPWM_DECODE_TCP && s.sack_count > TCPWM_MAX_SACK_BLOCKS)
            bad_status++;
    }
    CHECK_EQ_U64(bad_status, 0);
}

/* ---- Tunnels and labels (docs/semantics.md 1, decap.c) ------------------- */

/* Outer headers whose lengths finish() does not set: it sets the last
 * IP header's. */
typedef struct outer {
    size_t off[12];
    int kind[12]; /* 4: IPv4 total length, 6: IPv6 payload length, 17: UDP length */
    size_t n;
} outer;

static void mark(outer *o, size_t off, int kind)
{
    o->off[o->n] = off;
    o->kind[o->n++] = kind;
}

/* An outer IPv4/IPv6 header (10.0.0.1 -> 10.0.0.2, 2001:db8:ff::1 -> ::2)
 * carrying `proto`; the inner headers keep the builder's addresses, so
 * check_common() proves the segment has the inner ones. */
static void outer_ip(frame *f, outer *o, int ver, unsigned proto)
{
    size_t at = f->n;
    if (ver == 4) {
        ipv4(f, proto, 0);
        set16(f, at + 12, 0x0a00);
        set16(f, at + 14, 0x0001);
        set16(f, at + 16, 0x0a00);
        set16(f, at + 18, 0x0002);
    } else {
        ipv6(f, proto);
        set16(f, at + 12, 0x00ff);
        set16(f, at + 28, 0x00ff);
    }
    mark(o, at, ver);
}

static void udp_hdr(frame *f, outer *o, unsigned dport)
{
    mark(o, f->n, 17);
    put16(f, 54321);
    put16(f, dport);
    put16(f, 0); /* length, set by done() */
    put16(f, 0);
}

/* Inner IPv4 or IPv6 + TCP with 10 bytes of payload, then every length. */
static void inner_tcp(frame *f, outer *o, int ver)
{
    if (ver == 4)
        ipv4(f, 6, 0);
    else
        ipv6(f, 6);
    tcp(f, TCPWM_ACK, NULL, 0);
    payload(f, 10);
    finish(f);
    for (size_t i = 0; i < o->n; i++) {
        size_t at = o->off[i], len = f->n - at;
        if (o->kind[i] == 4)
            set16(f, at + 2, (unsigned)len);
        else if (o->kind[i] == 6)
            set16(f, at + 4, (unsigned)(len - 40));
        else
            set16(f, at + 4, (unsigned)len);
    }
}

/* Decodes f as TCP and returns the context's records. */
static size_t items_of(const frame *f, int dlt, tcpwm_encap_item *it, size_t max,
                       uint8_t *kinds, int line)
{
    tcpwm_segment s = expect_tcp_len(f, dlt, f->n, f->n, 10, line);
    *kinds = s.encap_kinds;
    size_t off = 0, n = 0;
    while (n < max && tcpwm_encap_next(s.encap, s.encap_len, &off, &it[n]))
        n++;
    CHECK_EQ_U64(off, s.encap_len); /* every byte is a record */
    return n;
}

#define ITEMS(f, dlt, it, kinds) items_of((f), (dlt), (it), sizeof(it) / sizeof((it)[0]), (kinds), __LINE__)
#define KIND(k) (1u << TCPWM_ENCAP_##k)

static const uint8_t ten1[4] = {10, 0, 0, 1}, ten2[4] = {10, 0, 0, 2};

static void check_outer4(const tcpwm_encap_item *it, unsigned proto)
{
    CHECK_EQ_U64(it->type, TCPWM_EI_IP);
    CHECK_EQ_U64(it->family, 4);
    CHECK_EQ_U64(it->proto, proto);
    CHECK(memcmp(it->addr[0], ten1, 4) == 0);
    CHECK(memcmp(it->addr[1], ten2, 4) == 0);
}

static void test_ipip(void)
{
    frame f;
    outer o;
    tcpwm_encap_item it[10];
    uint8_t kinds;
    /* RFC 2003, RFC 4213, RFC 2473: 4in4, 6in4, 4in6, 6in6. */
    for (int ov = 4; ov <= 6; ov += 2) {
        for (int iv = 4; iv <= 6; iv += 2) {
            start(&f);
            memset(&o, 0, sizeof o);
            eth(&f, ov == 4 ? 0x0800 : 0x86dd);
            outer_ip(&f, &o, ov, iv == 4 ? 4 : 41);
            inner_tcp(&f, &o, iv);
            CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_EN10MB, it, &kinds), 1);
            CHECK_EQ_U64(kinds, KIND(IPIP));
            CHECK_EQ_U64(it[0].family, ov);
            CHECK_EQ_U64(it[0].proto, iv == 4 ? 4 : 41);
            if (ov == 4)
                check_outer4(&it[0], 4 + (iv == 6) * 37u);
        }
    }
    /* The same pair in either direction is one context: lower first. */
    start(&f);
    memset(&o, 0, sizeof o);
    outer_ip(&f, &o, 4, 4);
    set16(&f, 12, 0x0a00), set16(&f, 14, 2), set16(&f, 16, 0x0a00), set16(&f, 18, 1);
    inner_tcp(&f, &o, 4);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_RAW, it, &kinds), 1);
    check_outer4(&it[0], 4);
    /* 6in6in6 (two headers), and the bound: 8 nested headers decode, a
     * ninth is encapsulation_too_deep. */
    for (int depth = 2; depth <= 9; depth++) {
        start(&f);
        memset(&o, 0, sizeof o);
        outer_ip(&f, &o, 6, 41);
        for (int i = 1; i < depth; i++)
            outer_ip(&f, &o, 6, 41);
        inner_tcp(&f, &o, 6);
        if (depth <= TCPWM_ENCAP_MAX_DEPTH) {
            CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_IPV6, it, &kinds), (uint64_t)depth);
        } else {
            EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_ENCAP_TOO_DEEP);
        }
    }
}

/* GRE header (RFC 2784 2.1, RFC 2890 2): flags/version, protocol, then
 * checksum + reserved, key, sequence number as the flags say. */
static void gre(frame *f, unsigned flags, unsigned proto, uint32_t key)
{
    put16(f, flags);
    put16(f, proto);
    if (flags & 0x8000)
        put32(f, 0);
    if (flags & 0x2000)
        put32(f, key);
    if (flags & 0x1000)
        put32(f, 7);
}

static void test_gre(void)
{
    frame f;
    outer o;
    tcpwm_encap_item it[10];
    uint8_t kinds;
    /* C, K and S with IPv4 inside; no flags with IPv6 inside. */
    start(&f);
    memset(&o, 0, sizeof o);
    eth(&f, 0x0800);
    outer_ip(&f, &o, 4, 47);
    gre(&f, 0xb000, 0x0800, 0x01020304);
    inner_tcp(&f, &o, 4);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_EN10MB, it, &kinds), 2);
    CHECK_EQ_U64(kinds, KIND(GRE));
    check_outer4(&it[0], 47);
    CHECK_EQ_U64(it[1].type, TCPWM_EI_GRE);
    CHECK(it[1].has_key);
    CHECK_EQ_U64(it[1].id, 0x01020304);
    /* Cut at every byte: Ethernet, outer IPv4, GRE (12 bytes with key and
     * sequence number... and checksum: 16), inner IPv4, TCP. */
    {
        frame g = f;
        g.n -= 10; /* no payload: sweep() wants the full frame to decode */
        set16(&g, 14 + 2, (unsigned)(g.n - 14));
        set16(&g, 14 + 20 + 16 + 2, (unsigned)(g.n - 14 - 20 - 16));
        const size_t ends[] = {14, 34, 50, 70, 90};
        const tcpwm_decode_error why[] = {TCPWM_DE_TRUNCATED_LINK, TCPWM_DE_TRUNCATED_IP,
                                          TCPWM_DE_TRUNCATED_ENCAP, TCPWM_DE_TRUNCATED_IP,
                                          TCPWM_DE_TRUNCATED_TCP};
        CHECK_EQ_U64(g.n, 90);
        sweep(&g, TCPWM_DLT_EN10MB, ends, why, 5);
    }
    start(&f);
    memset(&o, 0, sizeof o);
    outer_ip(&f, &o, 6, 47);
    gre(&f, 0, 0x86dd, 0);
    inner_tcp(&f, &o, 6);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_IPV6, it, &kinds), 2);
    CHECK(!it[1].has_key);
    /* Transparent Ethernet bridging (0x6558) with a VLAN tag inside: the
     * tag goes to the context, not to the segment's own VLAN IDs. */
    start(&f);
    memset(&o, 0, sizeof o);
    eth(&f, 0x8100);
    tag(&f, 5, 0x0800);
    outer_ip(&f, &o, 4, 47);
    gre(&f, 0x2000, 0x6558, 9);
    eth(&f, 0x8100);
    tag(&f, 0x2007, 0x0800);
    inner_tcp(&f, &o, 4);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_EN10MB, it, &kinds), 3);
    CHECK_EQ_U64(it[2].type, TCPWM_EI_VLAN);
    CHECK_EQ_U64(it[2].id, 7);
    {
        tcpwm_segment s = EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 10);
        CHECK_EQ_U64(s.vlan_count, 1);
        CHECK_EQ_U64(s.vlan[0], 5);
    }
    /* RFC 2784 2.3: routing present (bit 1), strict source route (bit 4),
     * recursion (5-7), reserved (9-12) and versions 2-7 are discarded;
     * version 1 is PPTP's, not a tunnel: not TCP. */
    static const unsigned bad[] = {0x4000, 0x0800, 0x0100, 0x0040, 0x0008, 0x0002, 0x0007};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        start(&f);
        memset(&o, 0, sizeof o);
        outer_ip(&f, &o, 4, 47);
        gre(&f, bad[i], 0x0800, 0);
        inner_tcp(&f, &o, 4);
        EXPECT_ERROR(&f, TCPWM_DLT_RAW, TCPWM_DE_BAD_ENCAP);
    }
    start(&f);
    memset(&o, 0, sizeof o);
    outer_ip(&f, &o, 4, 47);
    gre(&f, 0x3081, 0x880b, 0);
    inner_tcp(&f, &o, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_RAW);
    /* GRE carrying something else (IPX 0x8137): not TCP. */
    start(&f);
    memset(&o, 0, sizeof o);
    outer_ip(&f, &o, 4, 47);
    gre(&f, 0, 0x8137, 0);
    inner_tcp(&f, &o, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_RAW);
}

/* An 802.11 data frame header as Aruba tunnels it (decap.c): frame
 * control, duration, three addresses, sequence control (fragment number
 * `frag`), Address 4 with To DS and From DS, QoS control (`qos`) and HT
 * control for QoS subtypes; then LLC/SNAP with the RFC 1042 OUI. */
static void wlan(frame *f, unsigned fc0, unsigned fc1, unsigned frag, unsigned qos,
                 unsigned etype)
{
    put8(f, fc0);
    put8(f, fc1);
    put16(f, 0);
    put_fill(f, 0x02, 18);
    put8(f, frag), put8(f, 0x7d);
    if ((fc1 & 3) == 3)
        put_fill(f, 0x04, 6);
    if (fc0 & 0x80) {
        put8(f, qos), put8(f, 0);
        if (fc1 & 0x80)
            put32(f, 0);
    }
    put8(f, 0xaa), put8(f, 0xaa), put8(f, 0x03);
    put8(f, 0), put16(f, 0);
    put16(f, etype);
}

static void aruba(frame *f, outer *o, unsigned gre_proto, unsigned fc0, unsigned fc1,
                  unsigned frag, unsigned qos, int ver)
{
    start(f);
    memset(o, 0, sizeof *o);
    eth(f, 0x0800);
    outer_ip(f, o, 4, 47);
    gre(f, 0, gre_proto, 0);
    wlan(f, fc0, fc1, frag, qos, ver == 4 ? 0x0800 : 0x86dd);
    inner_tcp(f, o, ver);
}

static void test_aruba(void)
{
    frame f;
    outer o;
    tcpwm_encap_item it[10];
    uint8_t kinds;
    /* QoS data to the DS (the shared capture's frames), over IPv4 and
     * IPv6: one GRE header, no other kind; the context is GRE's alone. */
    for (int ver = 4; ver <= 6; ver += 2) {
        aruba(&f, &o, 0x8200, 0x88, 0x01, 0, 0, ver);
        CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_EN10MB, it, &kinds), 2);
        CHECK_EQ_U64(kinds, KIND(GRE));
        check_outer4(&it[0], 47);
        CHECK_EQ_U64(it[1].type, TCPWM_EI_GRE);
    }
    /* Plain data (subtype 0), from the DS; the last Aruba type; four
     * addresses with QoS and HT control; a first 802.11 fragment. */
    aruba(&f, &o, 0x8370, 0x08, 0x02, 0, 0, 4);
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 10);
    aruba(&f, &o, 0x8210, 0x88, 0x83, 0, 0, 6);
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 10);
    aruba(&f, &o, 0x8200, 0x88, 0x05, 0, 0, 4);
    EXPECT_TCP(&f, TCPWM_DLT_EN10MB, 10);
    /* Not TCP: a protected (encrypted) body, a Null frame (no data), a
     * later fragment, an A-MSDU, a management frame (type 0), another
     * LLC than SNAP, a GRE type next to Aruba's (0x8208, 0x8380). */
    aruba(&f, &o, 0x8200, 0x88, 0x41, 0, 0, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    aruba(&f, &o, 0x8200, 0xc8, 0x01, 0, 0, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    aruba(&f, &o, 0x8200, 0x88, 0x01, 1, 0, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    aruba(&f, &o, 0x8200, 0x88, 0x01, 0, 0x80, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    aruba(&f, &o, 0x8200, 0x80, 0x01, 0, 0, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    aruba(&f, &o, 0x8200, 0x88, 0x01, 0, 0, 4);
    set8(&f, 14 + 20 + 4 + 26, 0x42); /* DSAP 0x42: spanning tree, not SNAP */
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    aruba(&f, &o, 0x8208, 0x88, 0x01, 0, 0, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    aruba(&f, &o, 0x8380, 0x88, 0x01, 0, 0, 4);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    /* Version 1 is discarded (802.11-2020 9.2.4.1.2). */
    aruba(&f, &o, 0x8200, 0x89, 0x01, 0, 0, 4);
    EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_ENCAP);
    /* Cut at every byte: Ethernet, outer IPv4, GRE + 802.11 + LLC/SNAP
     * (4 + 26 + 8), inner IPv4, TCP. */
    aruba(&f, &o, 0x8200, 0x88, 0x01, 0, 0, 4);
    {
        frame g = f;
        g.n -= 10; /* no payload: sweep() wants the full frame to decode */
        set16(&g, 14 + 2, (unsigned)(g.n - 14));
        set16(&g, 14 + 20 + 38 + 2, (unsigned)(g.n - 14 - 20 - 38));
        const size_t ends[] = {14, 34, 72, 92, 112};
        const tcpwm_decode_error why[] = {TCPWM_DE_TRUNCATED_LINK, TCPWM_DE_TRUNCATED_IP,
                                          TCPWM_DE_TRUNCATED_ENCAP, TCPWM_DE_TRUNCATED_IP,
                                          TCPWM_DE_TRUNCATED_TCP};
        CHECK_EQ_U64(g.n, 112);
        sweep(&g, TCPWM_DLT_EN10MB, ends, why, 5);
    }
}

static void test_erspan(void)
{
    frame f;
    outer o;
    tcpwm_encap_item it[10];
    uint8_t kinds;
    /* Type II: GRE with S, 0x88BE; Ver 1, VLAN 0, COS 0, En 3, T 0,
     * session 0x155; index 0. */
    start(&f);
    memset(&o, 0, sizeof o);
    eth(&f, 0x0800);
    outer_ip(&f, &o, 4, 47);
    gre(&f, 0x1000, 0x88be, 0);
    put16(&f, 0x1000);
    put16(&f, 0x1955);
    put32(&f, 0);
    eth(&f, 0x0800);
    inner_tcp(&f, &o, 4);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_EN10MB, it, &kinds), 3);
    CHECK_EQ_U64(kinds, KIND(GRE) | KIND(ERSPAN));
    CHECK_EQ_U64(it[2].type, TCPWM_EI_ERSPAN);
    CHECK_EQ_U64(it[2].version, 1);
    CHECK_EQ_U64(it[2].id, 0x155);
    /* Type II with version 2 in its header: discarded. */
    set16(&f, 14 + 20 + 8, 0x2000);
    EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_ENCAP);
    /* Type I: no sequence number, no header. */
    start(&f);
    memset(&o, 0, sizeof o);
    outer_ip(&f, &o, 4, 47);
    gre(&f, 0, 0x88be, 0);
    eth(&f, 0x86dd);
    inner_tcp(&f, &o, 6);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_RAW, it, &kinds), 3);
    CHECK_EQ_U64(it[2].version, 0);
    /* Type III: 0x22EB, Ver 2, session 0x3ff, timestamp, SGT, then P FT Hw
     * D Gra O with O set: an 8-byte platform subheader; FT 0: Ethernet. */
    for (int o_flag = 0; o_flag <= 1; o_flag++) {
        start(&f);
        memset(&o, 0, sizeof o);
        outer_ip(&f, &o, 4, 47);
        gre(&f, 0x1000, 0x22eb, 0);
        put16(&f, 0x2000);
        put16(&f, 0x03ff);
        put32(&f, 0x12345678);
        put16(&f, 0);
        put16(&f, (unsigned)o_flag);
        if (o_flag)
            put_fill(&f, 0xee, 8);
        eth(&f, 0x0800);
        inner_tcp(&f, &o, 4);
        CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_RAW, it, &kinds), 3);
        CHECK_EQ_U64(it[2].version, 2);
        CHECK_EQ_U64(it[2].id, 0x3ff);
    }
}

static void test_vxlan_geneve(void)
{
    frame f;
    outer o;
    tcpwm_encap_item it[10];
    uint8_t kinds;
    /* RFC 7348 5: flags I, VNI 42, an Ethernet frame with IPv6 inside. */
    start(&f);
    memset(&o, 0, sizeof o);
    eth(&f, 0x0800);
    outer_ip(&f, &o, 4, 17);
    udp_hdr(&f, &o, 4789);
    put32(&f, 0x08000000);
    put32(&f, 42u << 8);
    eth(&f, 0x86dd);
    inner_tcp(&f, &o, 6);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_EN10MB, it, &kinds), 2);
    CHECK_EQ_U64(kinds, KIND(VXLAN));
    check_outer4(&it[0], 17);
    CHECK_EQ_U64(it[1].type, TCPWM_EI_VXLAN);
    CHECK_EQ_U64(it[1].id, 42);
    /* Another port is plain UDP, unless configured. */
    set16(&f, 14 + 20 + 2, 8472);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    {
        tcpwm_decode_config c;
        tcpwm_decode_config_default(&c);
        CHECK_EQ_U64(tcpwm_decode_port_add(c.vxlan_ports, 8472), 0);
        CHECK_EQ_U64(tcpwm_decode_port_add(c.vxlan_ports, 8472), 0);
        CHECK_EQ_U64(tcpwm_decode_port_add(c.vxlan_ports, 0), TCPWM_EINVAL);
        CHECK_EQ_U64(c.vxlan_ports[1], 8472);
        CHECK_EQ_U64(c.vxlan_ports[2], 0);
        tcpwm_segment s = {0};
        tcpwm_decode_error e;
        CHECK_EQ_U64(tcpwm_decode_with(&c, f.b, f.n, f.n, TCPWM_DLT_EN10MB, &s, &e),
                     TCPWM_DECODE_TCP);
        for (unsigned p = 1; p < 8; p++)
            (void)tcpwm_decode_port_add(c.geneve_ports, 100 + p);
        CHECK_EQ_U64(tcpwm_decode_port_add(c.geneve_ports, 999), TCPWM_ELIMIT);
    }
    /* The I flag clear: discarded. */
    set16(&f, 14 + 20 + 2, 4789);
    set8(&f, 14 + 20 + 8, 0);
    EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_BAD_ENCAP);

    /* RFC 8926 3.4: Geneve, Opt Len 2 (8 bytes of options), protocol
     * 0x6558, VNI 0x123456; and protocol 0x0800 straight to IPv4. */
    for (int direct = 0; direct <= 1; direct++) {
        start(&f);
        memset(&o, 0, sizeof o);
        outer_ip(&f, &o, 6, 17);
        udp_hdr(&f, &o, 6081);
        put8(&f, 0x02);
        put8(&f, 0);
        put16(&f, direct ? 0x0800 : 0x6558);
        put32(&f, 0x12345600);
        put16(&f, 0x0103), put8(&f, 0x80), put8(&f, 1), put32(&f, 0xdeadbeef); /* an option */
        if (!direct)
            eth(&f, 0x0800);
        inner_tcp(&f, &o, 4);
        CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_IPV6, it, &kinds), 2);
        CHECK_EQ_U64(kinds, KIND(GENEVE));
        CHECK_EQ_U64(it[0].family, 6);
        CHECK_EQ_U64(it[1].type, TCPWM_EI_GENEVE);
        CHECK_EQ_U64(it[1].id, 0x123456);
    }
    set8(&f, 40 + 8, 0x42); /* version 1 */
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_BAD_ENCAP);
    set8(&f, 40 + 8, 0x3f); /* 252 bytes of options the frame does not have */
    EXPECT_ERROR(&f, TCPWM_DLT_IPV6, TCPWM_DE_TRUNCATED_ENCAP);
}

/* RFC 3032 2.1: label, TC, S, TTL. */
static void mpls_label(frame *f, uint32_t lbl, int bottom)
{
    put32(f, lbl << 12 | (bottom ? 0x100u : 0) | 64);
}

static void test_mpls(void)
{
    frame f;
    outer o = {0};
    tcpwm_encap_item it[12];
    uint8_t kinds;
    /* Two labels, IPv4 by its nibble, in a VLAN. */
    start(&f);
    eth(&f, 0x8100);
    tag(&f, 3, 0x8847);
    mpls_label(&f, 100, 0);
    mpls_label(&f, 0xfffff, 1);
    inner_tcp(&f, &o, 4);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_EN10MB, it, &kinds), 2);
    CHECK_EQ_U64(kinds, KIND(MPLS));
    CHECK_EQ_U64(it[0].type, TCPWM_EI_MPLS);
    CHECK_EQ_U64(it[0].id, 100);
    CHECK_EQ_U64(it[1].id, 0xfffff);
    /* An Ethernet pseudowire behind the control word (RFC 4385 3, RFC
     * 4448 3), multicast EtherType, IPv6 inside. */
    start(&f);
    eth(&f, 0x8848);
    mpls_label(&f, 16, 1);
    put32(&f, 0x00000001); /* control word: 0000, flags, sequence 1 */
    eth(&f, 0x86dd);
    inner_tcp(&f, &o, 6);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_EN10MB, it, &kinds), 1);
    /* PPP protocol 0x0281 (RFC 3032 4.3). */
    start(&f);
    put16(&f, 0x0281);
    mpls_label(&f, 16, 1);
    inner_tcp(&f, &o, 4);
    CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_PPP, it, &kinds), 1);
    /* A G-ACh (nibble 1) is not TCP; a stack cut before its bottom is
     * truncated; eight labels decode, nine are too deep. */
    start(&f);
    eth(&f, 0x8847);
    mpls_label(&f, 16, 1);
    put32(&f, 0x10000000);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_EN10MB);
    start(&f);
    eth(&f, 0x8847);
    mpls_label(&f, 16, 0);
    EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_TRUNCATED_ENCAP);
    for (int n = 8; n <= 9; n++) {
        start(&f);
        eth(&f, 0x8847);
        for (int i = 0; i < n; i++)
            mpls_label(&f, (uint32_t)(16 + i), i == n - 1);
        inner_tcp(&f, &o, 4);
        if (n == 8)
            CHECK_EQ_U64(ITEMS(&f, TCPWM_DLT_EN10MB, it, &kinds), 8);
        else
            EXPECT_ERROR(&f, TCPWM_DLT_EN10MB, TCPWM_DE_ENCAP_TOO_DEEP);
    }
    /* A nesting bomb: VXLAN in GRE in IPIP, nested until the bound. */
    start(&f);
    memset(&o, 0, sizeof o);
    for (int i = 0; i < 3; i++) {
        outer_ip(&f, &o, 4, 47);
        gre(&f, 0, 0x0800, 0);
        outer_ip(&f, &o, 4, 4);
        outer_ip(&f, &o, 4, 17);
        udp_hdr(&f, &o, 4789);
        put32(&f, 0x08000000);
        put32(&f, 0);
        eth(&f, 0x0800);
    }
    inner_tcp(&f, &o, 4);
    EXPECT_ERROR(&f, TCPWM_DLT_RAW, TCPWM_DE_ENCAP_TOO_DEEP);
}

/* IPoIB's 40-byte pseudo-header before RFC 4391's 4 bytes (decode.c):
 * without a GRH (zeros, then flags + QPN and the destination GID in bytes
 * 20-39) or with one (IPVer 6 first). */
static void ipoib_pseudo(frame *f, bool grh, unsigned etype)
{
    start(f);
    if (grh) {
        put32(f, 0x60000000); /* IPVer 6, traffic class 0, flow label 0 */
        put16(f, 0);          /* payload length */
        put8(f, 0x1b);        /* next header: the IBA transport */
        put8(f, 1);           /* hop limit */
        put_fill(f, 0xfe, 16); /* source GID */
    } else {
        put_fill(f, 0, 20);
        put32(f, 0x80000550); /* connected-mode flag, QPN 0x550 */
    }
    put16(f, 0xfe80);
    put_fill(f, 0, 13);
    put8(f, 0x51); /* destination GID fe80::..51 */
    put16(f, etype);
    put16(f, 0);
}

static void test_ipoib_pseudo(void)
{
    frame f;
    outer o = {0};
    for (int grh = 0; grh <= 1; grh++) {
        for (int ver = 4; ver <= 6; ver += 2) {
            ipoib_pseudo(&f, grh, ver == 4 ? 0x0800 : 0x86dd);
            CHECK_EQ_U64(f.n, 44);
            inner_tcp(&f, &o, ver);
            EXPECT_TCP(&f, TCPWM_DLT_IPOIB, 10);
            /* Cut inside the 44 bytes: the link header is truncated. */
            for (size_t cap = 1; cap < 44; cap += 7) {
                tcpwm_segment s = {0};
                tcpwm_decode_error e;
                CHECK_EQ_U64(run_len(&f, TCPWM_DLT_IPOIB, cap, f.n, &s, &e), TCPWM_DECODE_ERROR);
                CHECK_STREQ(label(e), label(TCPWM_DE_TRUNCATED_LINK));
            }
        }
    }
    /* ARP after the pseudo-header is not TCP. */
    ipoib_pseudo(&f, false, 0x0806);
    put_fill(&f, 0, 28);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_IPOIB);
    /* The 4-byte form (test_link_types) is not taken for the long one. */
    start(&f);
    put16(&f, 0x86dd), put16(&f, 0);
    inner_tcp(&f, &o, 6);
    EXPECT_TCP(&f, TCPWM_DLT_IPOIB, 10);
}

static void test_new_links(void)
{
    frame f;
    outer o = {0};
    /* PPP with FF 03 on DLT 9, and a compressed (1-byte) protocol field
     * (RFC 1661 6.5). */
    start(&f);
    put8(&f, 0xff), put8(&f, 0x03), put8(&f, 0x21);
    inner_tcp(&f, &o, 4);
    EXPECT_TCP(&f, TCPWM_DLT_PPP, 10);
    /* LCP is not TCP. */
    start(&f);
    put16(&f, 0xc021);
    put_fill(&f, 0, 8);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_PPP);
    /* DLT 50 with Cisco HDLC framing (first byte 0x8F). */
    start(&f);
    put8(&f, 0x8f), put8(&f, 0), put16(&f, 0x86dd);
    inner_tcp(&f, &o, 6);
    EXPECT_TCP(&f, TCPWM_DLT_PPP_SERIAL, 10);
    /* NFLOG with big-endian TLVs (a big-endian capturing host). */
    start(&f);
    put8(&f, 2), put8(&f, 0), put16(&f, 0);
    put16(&f, 8), put16(&f, 1), put32(&f, 0); /* NFULA_PACKET_HDR */
    size_t tlv = f.n;
    put16(&f, 0), put16(&f, 9);
    inner_tcp(&f, &o, 4);
    set16(&f, tlv, (unsigned)(f.n - tlv));
    EXPECT_TCP(&f, TCPWM_DLT_NFLOG, 10);
    /* NFLOG without a payload TLV, and one with a TLV length below 4. */
    start(&f);
    put8(&f, 2), put8(&f, 0), put16(&f, 0);
    put16(&f, 8), put16(&f, 1), put32(&f, 0);
    EXPECT_NOT_TCP(&f, TCPWM_DLT_NFLOG);
    set16(&f, 4, 2);
    EXPECT_ERROR(&f, TCPWM_DLT_NFLOG, TCPWM_DE_TRUNCATED_LINK);
    test_ipoib_pseudo();
}

static void test_tunnels(void)
{
    test_ipip();
    test_gre();
    test_aruba();
    test_erspan();
    test_vxlan_geneve();
    test_mpls();
    test_new_links();
    CHECK_STREQ(tcpwm_decode_error_label(TCPWM_DE_ENCAP_TOO_DEEP), "encapsulation_too_deep");
    CHECK_STREQ(tcpwm_encap_label(TCPWM_ENCAP_VXLAN), "vxlan");
    CHECK_STREQ(tcpwm_encap_label(TCPWM_ENCAP_MPLS), "mpls");
    CHECK(tcpwm_encap_label(TCPWM_ENCAP__COUNT) == NULL);
}

int main(void)
{
    test_cursor();
    test_labels();
    test_link_types();
    test_loopback_families();
    test_ip_version();
    test_vlan();
    test_pppoe();
    test_ipv4_options();
    test_ipv4_bad_lengths();
    test_ipv6_extensions();
    test_not_tcp();
    test_fragments();
    test_tso();
    test_snaplen();
    test_tcp_data_offset();
    test_options_values();
    test_options_bad();
    test_options_cut();
    test_truncation_sweep();
    test_ip_length_cut_to_link();
    test_segment_reset();
    test_fast_path();
    test_fuzz();
    test_tunnels();
    return check_finish("test_decode");
}
