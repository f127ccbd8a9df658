/* SPDX-License-Identifier: MIT */
/* Frame decoder: link layer -> IPv4/IPv6 -> TCP (docs/semantics.md, section 1).
 *
 * Every field is read through a cursor bounded by the captured length;
 * lengths the packet claims are used to compute, never to read. Each layer
 * reads its fixed fields, checks the cursor once, then validates. */
#include "tcpwm/decode.h"

#include <stddef.h>
#include <string.h>

#include "cursor.h"
#include "decap.h"
#include "decode_int.h"
#include "tcpwm/err.h"

/* EtherTypes (IEEE 802 numbering), also used by the Linux cooked headers. */
enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_IPV6 = 0x86dd,
    ETHERTYPE_VLAN = 0x8100,       /* IEEE 802.1Q customer tag */
    ETHERTYPE_QINQ = 0x88a8,       /* IEEE 802.1ad service tag */
    ETHERTYPE_QINQ_OLD = 0x9100,   /* pre-standard service tag, still seen */
    ETHERTYPE_PPPOE_SESS = 0x8864, /* RFC 2516 session stage */
    ETHERTYPE_MPLS = 0x8847,       /* RFC 3032 5: MPLS unicast */
    ETHERTYPE_MPLS_MCAST = 0x8848, /* ... and multicast */
};

/* PPP protocol numbers (RFC 1332 for IPv4, RFC 5072 for IPv6, RFC 3032
 * 4.3 for MPLS unicast). */
enum { PPP_IPV4 = 0x0021, PPP_IPV6 = 0x0057, PPP_MPLS = 0x0281 };

/* Address families in DLT_NULL / DLT_LOOP headers: AF_INET is 2
 * everywhere, AF_INET6 differs by the capturing OS. */
enum {
    LOOP_AF_INET = 2,
    LOOP_AF_INET6_LINUX = 10,
    LOOP_AF_INET6_BSD = 24, /* NetBSD, OpenBSD */
    LOOP_AF_INET6_FREEBSD = 28,
    LOOP_AF_INET6_DARWIN = 30,
};

/* IP protocol / IPv6 next-header numbers (IANA). */
enum {
    IP_PROTO_HOPOPTS = 0,
    IP_PROTO_IPV4 = 4,  /* IP in IP, RFC 2003 */
    IP_PROTO_TCP = 6,
    IP_PROTO_UDP = 17,
    IP_PROTO_IPV6 = 41, /* IPv6 in IP, RFC 4213 3.5, RFC 2473 */
    IP_PROTO_ROUTING = 43,
    IP_PROTO_GRE = 47,  /* RFC 2784 */
    IP_PROTO_FRAGMENT = 44,
    IP_PROTO_DSTOPTS = 60,
};

/* Extension headers walked before giving up (docs/semantics.md). */
#define IPV6_MAX_EXT 8

/* TCP option kinds (RFC 9293 3.2, RFC 7323, RFC 2018). */
enum {
    OPT_EOL = 0,
    OPT_NOP = 1,
    OPT_MSS = 2,
    OPT_WSCALE = 3,
    OPT_SACK_PERM = 4,
    OPT_SACK = 5,
    OPT_TS = 8,
};

#define ETHER_HDR 14 /* destination, source, EtherType */
#define VLAN_TAG 4   /* IEEE 802.1Q: TCI, then the next EtherType */
#define IPV4_MIN_HDR 20
#define IPV6_HDR 40
#define TCP_MIN_HDR 20

typedef struct decoder {
    tcpwm_cursor c; /* the frame, from the layer being decoded on */
    size_t caplen;  /* bytes captured */
    size_t wirelen; /* bytes on the wire, never less than caplen */
    /* Offset in the frame where what an enclosing layer (PPPoE, an outer
     * IP header, the NFLOG payload) says it carries ends; SIZE_MAX if none. */
    size_t link_end;
    const tcpwm_decode_config *cfg;
    unsigned depth; /* encapsulation headers entered */
    tcpwm_segment *seg;
    tcpwm_fragment *frag; /* where a fragment is described; may be NULL */
    bool reasm;     /* walking a reassembled datagram's first bytes, not a frame */
    tcpwm_decode_error err; /* set when a function returns TCPWM_DECODE_ERROR */
} decoder;

static tcpwm_decode_status fail(decoder *d, tcpwm_decode_error e)
{
    d->err = e;
    return TCPWM_DECODE_ERROR;
}

/* Bytes the link carried from the cursor's position on: the frame's
 * length on the wire, cut to what an enclosing layer (PPPoE) declares.
 * An IP length larger than this counts Ethernet padding or bytes that
 * were never on the wire, so it is cut to it (as Wireshark and tcpdump
 * do); an IP length of 0 (TSO, BIG TCP) takes it whole. */
static size_t wire_left(const decoder *d)
{
    size_t at = d->caplen - d->c.left;
    size_t end = d->wirelen < d->link_end ? d->wirelen : d->link_end;
    return end > at ? end - at : 0;
}

/* What the layer at the cursor carries ends `n` bytes on (or earlier). */
static void limit_link(decoder *d, size_t n)
{
    size_t at = d->caplen - d->c.left;
    if (n < d->link_end - at)
        d->link_end = at + n;
}

/* The IP datagram's length: the header's claim (0: unknown) cut to what
 * the link carried. */
static size_t ip_length(size_t claimed, size_t carried)
{
    return claimed == 0 || claimed > carried ? carried : claimed;
}

/* The same for an IP header inside a tunnel: there a claim larger than
 * what the outer header carried is believed. Mirroring (ERSPAN with its
 * T bit, VXLAN and Geneve mirror sessions) cuts the copied frames, as a
 * snap length does, and leaves their IP headers as they were on the
 * wire; Wireshark takes the inner length as claimed too. */
static size_t inner_ip_length(const decoder *d, size_t claimed, size_t carried)
{
    if (d->depth > 0 && claimed != 0)
        return claimed;
    return ip_length(claimed, carried);
}

/* A length taken from the link (TSO, BIG TCP) above this is not a real
 * super-packet (Linux makes them up to 512 KiB) but a corrupt record, and
 * would move sequence numbers by a large part of their 2^32 space. */
#define MAX_LINK_IP_LENGTH ((size_t)1 << 24)

static uint32_t clamp_u32(size_t n)
{
    uint64_t v = n;
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* ---- TCP ---------------------------------------------------------------- */

static void set_opt(tcpwm_segment *s, unsigned bit)
{
    s->opt_present = (uint8_t)(s->opt_present | bit);
}

/* One option whose kind and length were valid; `b` holds its data. An
 * option of a known kind with an unexpected length is ignored, as Linux
 * does, rather than trusted. */
static void parse_option(uint8_t kind, tcpwm_cursor *b, tcpwm_segment *s)
{
    size_t n = b->left;
    switch (kind) {
    case OPT_MSS: /* RFC 9293 3.2: length 4 */
        if (n == 2) {
            s->mss = cur_be16(b);
            set_opt(s, TCPWM_OPT_MSS);
        }
        break;
    case OPT_WSCALE: /* RFC 7323 2.2: length 3; the shift is capped later */
        if (n == 1) {
            s->wscale = cur_be8(b);
            set_opt(s, TCPWM_OPT_WSCALE);
        }
        break;
    case OPT_SACK_PERM: /* RFC 2018 2: length 2 */
        if (n == 0)
            set_opt(s, TCPWM_OPT_SACK_PERM);
        break;
    case OPT_SACK: /* RFC 2018 3: length 2 + 8n, n >= 1 */
        if (n > 0 && n % 8 == 0) {
            size_t blocks = n / 8;
            if (blocks > TCPWM_MAX_SACK_BLOCKS)
                blocks = TCPWM_MAX_SACK_BLOCKS;
            for (size_t i = 0; i < blocks; i++) {
                s->sack[i][0] = cur_be32(b);
                s->sack[i][1] = cur_be32(b);
            }
            s->sack_count = (uint8_t)blocks;
            set_opt(s, TCPWM_OPT_SACK);
        }
        break;
    case OPT_TS: /* RFC 7323 3.2: length 10 */
        if (n == 8) {
            s->tsval = cur_be32(b);
            s->tsecr = cur_be32(b);
            set_opt(s, TCPWM_OPT_TS);
        }
        break;
    default: /* unknown kinds are skipped by their length (RFC 9293 3.2) */
        break;
    }
}

/* RFC 9293 3.2: EOL and NOP are single bytes; every other option is kind,
 * length (counting kind and length), data. A length that cannot be right
 * leaves the rest unparseable: flag it and stop. `c` holds the options
 * captured; `missing` is how many more the data offset says there are,
 * beyond the capture (0 when all were captured). An option that runs into
 * those is cut, not bad: parsing stops there and the segment says its
 * options were not all seen (semantics.md 1) -- unless an EOL was
 * captured first, after which there is only padding. */
static void parse_options(tcpwm_cursor *c, size_t missing, tcpwm_segment *s)
{
    while (c->left > 0) {
        uint8_t kind = cur_be8(c);
        if (kind == OPT_EOL)
            return;
        if (kind == OPT_NOP)
            continue;
        if (c->left == 0 && missing > 0)
            break; /* the length byte was not captured */
        uint8_t len = cur_be8(c);
        if (c->bad || len < 2) {
            s->opt_bad = true;
            return;
        }
        if ((size_t)len - 2 > c->left) {
            if ((size_t)len - 2 - c->left <= missing)
                break; /* ends in the bytes not captured */
            s->opt_bad = true;
            return;
        }
        tcpwm_cursor body = cur_sub(c, (size_t)len - 2);
        parse_option(kind, &body, s);
    }
    if (missing > 0)
        s->opt_cut = true;
}

#define ALIGNED_TS_LEN 12

/* The fast path's helpers (tcpwm__decode_common) are inlined into it
 * whatever else the program holds. Left to GCC's heuristics, which see
 * the whole program under LTO, unrelated edits elsewhere (a loop in
 * monitor.c, once an early return) outlined common_ipv4() and
 * tcp_fixed(): +46 M instructions on 500 k bench packets (+7%), where
 * their reads at a variable offset keep their bounds checks. */
#if defined(__GNUC__)
#define FAST_INLINE inline __attribute__((always_inline))
#else
#define FAST_INLINE inline
#endif

/* RFC 7323 appendix A: the layout almost every segment of a connection
 * with timestamps carries, NOP NOP TS (12 bytes), read in one go as Linux
 * does (tcp_parse_aligned_timestamp). Same result as parse_options().
 * Inline for the same reason as common_tcp(). */
static FAST_INLINE bool parse_aligned_timestamp(const tcpwm_cursor *opts, tcpwm_segment *s)
{
    if (opts->left != ALIGNED_TS_LEN)
        return false;
    tcpwm_cursor c = *opts;
    tcpwm_block b = cur_block(&c, ALIGNED_TS_LEN);
    if (blk_be32(b, 0) != ((uint32_t)OPT_NOP << 24 | (uint32_t)OPT_NOP << 16 |
                           (uint32_t)OPT_TS << 8 | 10u))
        return false;
    s->tsval = blk_be32(b, 4);
    s->tsecr = blk_be32(b, 8);
    set_opt(s, TCPWM_OPT_TS);
    return true;
}

/* RFC 9293 3.1: ports, sequence, acknowledgment, flags and window of the
 * fixed header at `at` in `h` (checksum and urgent pointer are not
 * needed); returns the header length its data offset gives, in bytes. */
static FAST_INLINE size_t tcp_fixed(tcpwm_block h, size_t at, tcpwm_segment *s)
{
    s->sport = blk_be16(h, at);
    s->dport = blk_be16(h, at + 2);
    s->seq = blk_be32(h, at + 4);
    s->ack = blk_be32(h, at + 8);
    s->flags = blk_8(h, at + 13);
    s->window = blk_be16(h, at + 14);
    return (size_t)(blk_8(h, at + 12) >> 4) * 4;
}

/* RFC 9293 3.1: the data offset counts 32-bit words and covers at least
 * the fixed header; a header longer than the IP payload is malformed. */
static bool tcp_hlen_ok(size_t hlen, size_t ip_len)
{
    return hlen >= TCP_MIN_HDR && hlen <= ip_len;
}

/* `ip_len` is the IP payload length (TCP header + data) the IP layer claims. */
static tcpwm_decode_status decode_tcp(decoder *d, size_t ip_len)
{
    tcpwm_cursor *c = &d->c;
    tcpwm_segment *s = d->seg;

    tcpwm_block h = cur_block(c, TCP_MIN_HDR);
    if (h.n == 0)
        return fail(d, TCPWM_DE_TRUNCATED_TCP);
    size_t hlen = tcp_fixed(h, 0, s);
    if (!tcp_hlen_ok(hlen, ip_len))
        return fail(d, TCPWM_DE_BAD_TCP_DATA_OFFSET);

    /* The header fits in the IP payload, which is bounded by what the
     * link carried (ip_length), so options that were not all captured were
     * on the wire and the capture cut them: a snap length, or a mirror
     * session inside a tunnel (inner_ip_length). As Wireshark does, the
     * fixed header is analyzed; the options are read as far as they were
     * captured and the rest are unknown (seg->opt_cut; semantics.md 1,
     * and 5 for what that means for the window scale of a SYN). */
    size_t optlen = hlen - TCP_MIN_HDR;
    size_t missing = optlen > c->left ? optlen - c->left : 0;
    tcpwm_cursor opts = cur_sub(c, optlen - missing);
    if (missing > 0 || !parse_aligned_timestamp(&opts, s))
        parse_options(&opts, missing, s);

    /* From the IP header, not the capture: a snap length cuts payloads. */
    s->payload_len = clamp_u32(ip_len - hlen);
    return TCPWM_DECODE_TCP;
}

/* ---- IP ----------------------------------------------------------------- */

/* A fragment of a TCP datagram, the cursor at its payload: described for
 * reassembly (the monitor's), which needs the datagram's first bytes only
 * (docs/semantics.md 1, "IP fragment reassembly"). `len` is the payload
 * length the IP header claims (bounded as for whole packets). */
static tcpwm_decode_status fragment(decoder *d, uint8_t proto, uint32_t id, uint32_t offset,
                                    size_t len, size_t hdr_len, bool more)
{
    tcpwm_fragment *f = d->frag;
    if (f != NULL) {
        f->proto = proto;
        f->more = more;
        f->id = id;
        f->offset = offset;
        f->len = clamp_u32(len);
        f->hdr_len = clamp_u32(hdr_len);
        size_t n = d->c.left < len ? d->c.left : len;
        size_t room = offset < TCPWM_FRAG_HEAD ? TCPWM_FRAG_HEAD - offset : 0;
        if (n > room)
            n = room;
        const uint8_t *q = cur_take(&d->c, n);
        if (q != NULL && n > 0)
            memcpy(f->head, q, n);
        f->head_len = q != NULL ? (uint32_t)n : 0;
    }
    return TCPWM_DECODE_FRAGMENT;
}

/* An IPv4 address into the first bytes of a 16-byte address field whose
 * rest is already zero, written as one 8-byte store: the flow key reads
 * the field a word at a time right after decoding, and a load spanning two
 * smaller stores still in flight cannot be forwarded from them (a stall of
 * a dozen cycles on x86: 4% of the benchmark's replay time). */
static void put_ipv4_addr(tcpwm_block h, size_t off, uint8_t *field)
{
    uint8_t word[8] = {0};
    blk_copy(h, off, word, 4);
    memcpy(field, word, sizeof(word));
}

/* RFC 791 3.1: the total length includes the header. 0 is not malformed
 * here: captures of TSO/GSO super-packets carry it (the NIC fills it), and
 * `len`, the datagram's length as ip_length() or inner_ip_length() made
 * it, is then the link's. */
static bool ipv4_length_ok(uint16_t total, size_t hlen, size_t len)
{
    return (total == 0 || total >= hlen) && len >= hlen && len <= MAX_LINK_IP_LENGTH;
}

static tcpwm_decode_status decode_tunnel(decoder *d, uint8_t family, uint8_t proto,
                                         size_t payload);

static tcpwm_decode_status decode_ipv4(decoder *d)
{
    tcpwm_cursor *c = &d->c;
    tcpwm_segment *s = d->seg;
    size_t carried = wire_left(d);

    /* RFC 791 3.1: version and IHL, total length, fragment offset,
     * protocol, addresses; the rest is not needed. */
    tcpwm_block h = cur_block(c, IPV4_MIN_HDR);
    if (h.n == 0)
        return fail(d, TCPWM_DE_TRUNCATED_IP);
    uint8_t ver_ihl = blk_8(h, 0);
    uint16_t total = blk_be16(h, 2);
    uint16_t ident = blk_be16(h, 4);
    uint16_t frag = blk_be16(h, 6);
    uint8_t proto = blk_8(h, 9);
    put_ipv4_addr(h, 12, s->src);
    put_ipv4_addr(h, 16, s->dst);

    if (ver_ihl >> 4 != 4)
        return fail(d, TCPWM_DE_BAD_IP_VERSION);
    /* RFC 791 3.1: IHL counts 32-bit words; the fixed header alone is 5. */
    size_t hlen = (size_t)(ver_ihl & 0x0f) * 4;
    if (hlen < IPV4_MIN_HDR)
        return fail(d, TCPWM_DE_BAD_IPV4_HEADER_LENGTH);
    size_t len = inner_ip_length(d, total, carried);
    if (!ipv4_length_ok(total, hlen, len))
        return fail(d, TCPWM_DE_BAD_IP_LENGTH);
    if (proto != IP_PROTO_TCP) {
        /* A later fragment holds no tunnel header either (fragments wait
         * for reassembly); a first one is read with the bytes it has. */
        if ((frag & 0x1fff) != 0)
            return TCPWM_DECODE_NOT_TCP;
        cur_skip(c, hlen - IPV4_MIN_HDR);
        if (c->bad)
            return fail(d, TCPWM_DE_TRUNCATED_IP);
        return decode_tunnel(d, 4, proto, len - hlen);
    }
    cur_skip(c, hlen - IPV4_MIN_HDR); /* options, skipped by IHL */
    if (c->bad)
        return fail(d, TCPWM_DE_TRUNCATED_IP);
    s->family = 4;
    /* RFC 791 3.2: MF set or a non-zero offset (8-byte units) is a fragment;
     * the first one too, or its datagram would count twice. */
    if ((frag & 0x3fff) != 0)
        return fragment(d, proto, ident, (uint32_t)(frag & 0x1fff) * 8, len - hlen, hlen,
                        (frag & 0x2000) != 0);
    return decode_tcp(d, len - hlen);
}

static bool is_ipv6_ext(uint8_t nh)
{
    return nh == IP_PROTO_HOPOPTS || nh == IP_PROTO_ROUTING || nh == IP_PROTO_FRAGMENT ||
           nh == IP_PROTO_DSTOPTS;
}

/* RFC 8200 section 4: walk the extension headers before the upper layer.
 * On TCPWM_DECODE_TCP ("go on"), *nh is the upper-layer protocol and *walked
 * the bytes of extension headers. plen is the IPv6 payload length as
 * carried (see ip_length). */
static tcpwm_decode_status ipv6_extensions(decoder *d, uint8_t *nh, size_t *walked, size_t plen)
{
    tcpwm_cursor *c = &d->c;

    for (int count = 0; is_ipv6_ext(*nh); count++) {
        if (count == IPV6_MAX_EXT)
            return fail(d, TCPWM_DE_BAD_IPV6_EXTENSION);
        uint8_t next = cur_be8(c);
        uint8_t ext_len = cur_be8(c);
        size_t hlen;
        uint16_t frag = 0;
        uint32_t ident = 0;
        if (*nh == IP_PROTO_FRAGMENT) {
            /* RFC 8200 4.5: a fixed 8 bytes; offset in the top 13 bits of
             * the third and fourth bytes, M in the lowest bit. */
            hlen = 8;
            frag = cur_be16(c);
            ident = cur_be32(c);
        } else {
            /* RFC 8200 4.3, 4.4, 4.6: length in 8-byte units after the
             * first 8 bytes. */
            hlen = ((size_t)ext_len + 1) * 8;
            cur_skip(c, hlen - 2);
        }
        /* In a reassembled datagram's first bytes, a chain that does not
         * fit them leaves the TCP header uncaptured. */
        if (c->bad)
            return fail(d, d->reasm ? TCPWM_DE_TRUNCATED_TCP : TCPWM_DE_BAD_IPV6_EXTENSION);
        *walked += hlen;
        if (*walked > plen)
            return fail(d, TCPWM_DE_BAD_IPV6_EXTENSION);
        if (*nh == IP_PROTO_FRAGMENT && (frag >> 3 != 0 || (frag & 1))) {
            /* A fragment. Its next header names the first header of the
             * fragmented part: if that can lead to TCP, the fragment goes
             * to reassembly. Otherwise a later fragment is not TCP, and a
             * first one is read with the bytes it has (a tunnel). An
             * atomic fragment (offset 0, M 0, RFC 6946) is a whole packet
             * and goes on. */
            if (next == IP_PROTO_TCP || is_ipv6_ext(next)) {
                if (d->reasm) /* fragmented again inside a reassembled datagram */
                    return fail(d, TCPWM_DE_BAD_IPV6_EXTENSION);
                d->seg->family = 6;
                return fragment(d, next, ident, (uint32_t)(frag >> 3) * 8, plen - *walked,
                                *walked - hlen, (frag & 1) != 0);
            }
            if (frag >> 3 != 0)
                return TCPWM_DECODE_NOT_TCP;
        }
        *nh = next;
    }
    return TCPWM_DECODE_TCP;
}

static tcpwm_decode_status decode_ipv6(decoder *d)
{
    tcpwm_cursor *c = &d->c;
    tcpwm_segment *s = d->seg;
    size_t carried = wire_left(d);

    /* RFC 8200 3: version, payload length, next header, addresses. */
    tcpwm_block h = cur_block(c, IPV6_HDR);
    if (h.n == 0)
        return fail(d, TCPWM_DE_TRUNCATED_IP);
    uint32_t ver_tc_flow = blk_be32(h, 0);
    uint16_t plen = blk_be16(h, 4);
    uint8_t nh = blk_8(h, 6);
    blk_copy(h, 8, s->src, 16);
    blk_copy(h, 24, s->dst, 16);
    if (ver_tc_flow >> 28 != 6)
        return fail(d, TCPWM_DE_BAD_IP_VERSION);

    /* RFC 8200 3: the payload length counts extension headers. 0 without
     * a jumbo option is BIG TCP (or TSO): the link knows the length. */
    if (carried < IPV6_HDR && !(d->depth > 0 && plen != 0))
        return fail(d, TCPWM_DE_BAD_IP_LENGTH);
    size_t len = inner_ip_length(d, plen, carried < IPV6_HDR ? 0 : carried - IPV6_HDR);
    if (len > MAX_LINK_IP_LENGTH)
        return fail(d, TCPWM_DE_BAD_IP_LENGTH);
    size_t walked = 0;
    tcpwm_decode_status st = ipv6_extensions(d, &nh, &walked, len);
    if (st != TCPWM_DECODE_TCP)
        return st; /* an error, not TCP, or a fragment */
    /* Tunnels; ESP, AH, no next header (59), ICMPv6, other UDP, ... */
    if (nh != IP_PROTO_TCP)
        return decode_tunnel(d, 6, nh, len - walked);

    s->family = 6;
    return decode_tcp(d, len - walked);
}

/* Raw IP: the version nibble says which. */
static tcpwm_decode_status decode_raw(decoder *d)
{
    if (d->c.left == 0)
        return fail(d, TCPWM_DE_TRUNCATED_IP);
    switch (cur_peek8(&d->c, 0) >> 4) {
    case 4:
        return decode_ipv4(d);
    case 6:
        return decode_ipv6(d);
    default:
        return fail(d, TCPWM_DE_BAD_IP_VERSION);
    }
}

/* ---- Link layers -------------------------------------------------------- */

static bool is_vlan_tpid(uint16_t type)
{
    return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD;
}

static void keep_vlan(tcpwm_segment *s, uint16_t vid)
{
    if (s->vlan_count < 2)
        s->vlan[s->vlan_count++] = vid;
}

static tcpwm_decode_status decode_mpls(decoder *d);

/* What a PPP protocol number (RFC 1661 2) carries. */
static tcpwm_decode_status decode_ppp_payload(decoder *d, uint16_t proto)
{
    switch (proto) {
    case PPP_IPV4:
        return decode_ipv4(d);
    case PPP_IPV6:
        return decode_ipv6(d);
    case PPP_MPLS:
        return decode_mpls(d);
    default: /* LCP, IPCP, ... */
        return TCPWM_DECODE_NOT_TCP;
    }
}

/* RFC 2516 section 4 (session stage): VER and TYPE 1 (0x11), CODE 0,
 * SESSION_ID, LENGTH, then the 2-byte PPP protocol field (RFC 1661 2). */
static tcpwm_decode_status decode_pppoe(decoder *d)
{
    tcpwm_cursor *c = &d->c;
    uint8_t ver_type = cur_be8(c);
    uint8_t code = cur_be8(c);
    cur_skip(c, 2); /* session id */
    uint16_t length = cur_be16(c);
    uint16_t proto = cur_be16(c);
    if (c->bad)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    if (ver_type != 0x11 || code != 0)
        return TCPWM_DECODE_NOT_TCP;
    /* RFC 2516 4: LENGTH counts the PPPoE payload, which starts with the
     * 2-byte PPP protocol; Ethernet padding after it is not IP. */
    limit_link(d, length >= 2 ? (size_t)length - 2 : 0);
    return decode_ppp_payload(d, proto);
}

/* Whatever follows an EtherType: any number of VLAN tags (IEEE 802.1Q,
 * 4 bytes each: TCI, then the next EtherType), then IP or PPPoE. */
static tcpwm_decode_status decode_ethertype(decoder *d, uint16_t type)
{
    unsigned inner_tags = 0;
    while (is_vlan_tpid(type)) {
        uint16_t tci = cur_be16(&d->c);
        type = cur_be16(&d->c);
        if (d->c.bad)
            return fail(d, d->depth ? TCPWM_DE_TRUNCATED_ENCAP : TCPWM_DE_TRUNCATED_LINK);
        uint16_t vid = (uint16_t)(tci & 0x0fff);
        /* The tags of a frame inside a tunnel belong to its context: the
         * segment's own two are the outermost link's. */
        if (d->depth == 0)
            keep_vlan(d->seg, vid);
        else if (inner_tags++ < 2 && !tcpwm__ctx_id(d->seg, TCPWM_EI_VLAN, vid))
            return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
    }
    switch (type) {
    case ETHERTYPE_IPV4:
        return decode_ipv4(d);
    case ETHERTYPE_IPV6:
        return decode_ipv6(d);
    case ETHERTYPE_PPPOE_SESS:
        return decode_pppoe(d);
    case ETHERTYPE_MPLS:
    case ETHERTYPE_MPLS_MCAST:
        return decode_mpls(d);
    default: /* ARP, LLDP, 802.3 lengths, PPPoE discovery, ... */
        return TCPWM_DECODE_NOT_TCP;
    }
}

static tcpwm_decode_status decode_ether(decoder *d)
{
    /* Destination and source MAC, then the EtherType. */
    tcpwm_block h = cur_block(&d->c, ETHER_HDR);
    if (h.n == 0)
        return fail(d, d->depth ? TCPWM_DE_TRUNCATED_ENCAP : TCPWM_DE_TRUNCATED_LINK);
    return decode_ethertype(d, blk_be16(h, 12));
}

/* Linux cooked v1: packet type, ARPHRD type, address length, 8 address
 * bytes, then the protocol (an EtherType for IP and VLAN tags). */
static tcpwm_decode_status decode_sll(decoder *d)
{
    cur_skip(&d->c, 14);
    uint16_t proto = cur_be16(&d->c);
    if (d->c.bad)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    return decode_ethertype(d, proto);
}

/* Linux cooked v2: protocol first, then reserved, interface index, ARPHRD
 * type, packet type, address length, 8 address bytes (20 in all). */
static tcpwm_decode_status decode_sll2(decoder *d)
{
    uint16_t proto = cur_be16(&d->c);
    cur_skip(&d->c, 18);
    if (d->c.bad)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    return decode_ethertype(d, proto);
}

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v & 0xff00u) << 8) | ((v & 0xffu) << 24);
}

/* BSD loopback: a 4-byte address family. DLT_NULL stores it in the
 * capturing host's order, so a value too big to be a family is the other
 * byte order; DLT_LOOP stores it in network order. */
static tcpwm_decode_status decode_loop(decoder *d, bool host_order)
{
    uint32_t family = cur_be32(&d->c);
    if (d->c.bad)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    if (host_order && family > 0xffff)
        family = bswap32(family);
    switch (family) {
    case LOOP_AF_INET:
        return decode_ipv4(d);
    case LOOP_AF_INET6_LINUX:
    case LOOP_AF_INET6_BSD:
    case LOOP_AF_INET6_FREEBSD:
    case LOOP_AF_INET6_DARWIN:
        return decode_ipv6(d);
    default:
        return TCPWM_DECODE_NOT_TCP;
    }
}

/* PPP (RFC 1661 2): the protocol field, 2 bytes, or 1 when the sender
 * compresses it (RFC 1661 6.5: PFC; a protocol number's first byte is
 * even, its last odd, so an odd first byte is a whole 1-byte field). */
static tcpwm_decode_status decode_ppp_proto(decoder *d)
{
    uint16_t proto = cur_be8(&d->c);
    if (!(proto & 1))
        proto = (uint16_t)(proto << 8 | cur_be8(&d->c));
    if (d->c.bad)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    return decode_ppp_payload(d, proto);
}

/* LINKTYPE_PPP (9): the PPP header, or the HDLC-like framing of RFC 1662
 * 3.1 when the frame starts with the all-stations address FF and the UI
 * control 03. */
static tcpwm_decode_status decode_ppp(decoder *d)
{
    if (cur_peek8(&d->c, 0) == 0xff && cur_peek8(&d->c, 1) == 0x03)
        cur_skip(&d->c, 2);
    return decode_ppp_proto(d);
}

/* Cisco HDLC (RFC 1547 4.3.1): address (0x0F unicast, 0x8F broadcast),
 * control 0, then an EtherType. */
static tcpwm_decode_status decode_chdlc(decoder *d)
{
    cur_skip(&d->c, 2);
    uint16_t type = cur_be16(&d->c);
    if (d->c.bad)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    return decode_ethertype(d, type);
}

/* LINKTYPE_PPP_HDLC (50): PPP in HDLC-like framing (RFC 1662), first byte
 * FF, or Cisco HDLC, first byte 0F or 8F. */
static tcpwm_decode_status decode_ppp_serial(decoder *d)
{
    if (d->c.left == 0)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    switch (cur_peek8(&d->c, 0)) {
    case 0xff:
        cur_skip(&d->c, 2); /* address, control (RFC 1662 3.1) */
        return decode_ppp_proto(d);
    case 0x0f:
    case 0x8f:
        return decode_chdlc(d);
    default:
        return TCPWM_DECODE_NOT_TCP;
    }
}

/* LINKTYPE_NFLOG (239): struct nfgenmsg (family, version, resource ID),
 * then TLVs of Linux netlink attributes: length (counting its 4-byte
 * header) and type, each 16 bits, then the value, padded to 4 bytes. Type
 * NFULA_PAYLOAD (9) holds the packet, starting at its IP header; the
 * family says which IP. Length and type are in the host byte order of the
 * capturing machine (libpcap and Wireshark turn them to the reading
 * machine's): the first TLV's length, which must lie in [4, what is
 * left], tells the order, little-endian first. */
#define NFULA_PAYLOAD 9
#define NFLOG_AF_INET 2
#define NFLOG_AF_INET6 10

static tcpwm_decode_status decode_nflog(decoder *d)
{
    tcpwm_cursor *c = &d->c;
    uint8_t family = cur_be8(c);
    cur_skip(c, 3); /* version, resource ID */
    if (c->bad)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    size_t first_le = (size_t)cur_peek8(c, 0) | (size_t)cur_peek8(c, 1) << 8;
    bool little = first_le >= 4 && first_le <= c->left;
    for (;;) {
        uint16_t a = cur_be16(c), b = cur_be16(c);
        if (c->bad)
            return fail(d, TCPWM_DE_TRUNCATED_LINK);
        unsigned len = little ? (unsigned)(a >> 8 | (a & 0xffu) << 8) : a;
        unsigned type = little ? (unsigned)(b >> 8 | (b & 0xffu) << 8) : b;
        if (len < 4)
            return fail(d, TCPWM_DE_TRUNCATED_LINK);
        size_t value = (size_t)len - 4;
        /* The top bit of the type marks a nested attribute. */
        if ((type & 0x7fff) == NFULA_PAYLOAD) {
            limit_link(d, value);
            if (family == NFLOG_AF_INET)
                return decode_ipv4(d);
            if (family == NFLOG_AF_INET6)
                return decode_ipv6(d);
            return TCPWM_DECODE_NOT_TCP;
        }
        cur_skip(c, (value + 3) & ~(size_t)3);
        if (c->bad) /* the payload TLV was not captured */
            return fail(d, TCPWM_DE_TRUNCATED_LINK);
        if (c->left == 0) /* cut by the snap length, or no payload at all */
            return wire_left(d) > 0 ? fail(d, TCPWM_DE_TRUNCATED_LINK) : TCPWM_DECODE_NOT_TCP;
    }
}

/* LINKTYPE_IPOIB (242) comes in two forms; the first byte tells which.
 *  - RFC 4391 6's 4-byte encapsulation header alone: a protocol type (an
 *    EtherType: at least 0x0600, and 0x0800 / 0x86DD for IP), then 2
 *    reserved bytes.
 *  - The same 4 bytes after a 40-byte pseudo-header, the form the link
 *    type was registered for (by Oracle, for Solaris) and the only one
 *    tcpdump (print-ipoib.c: a 44-byte header, EtherType at offset 40) and
 *    Wireshark 4.0 (packet-ipoib.c, for WTAP_ENCAP_IP_OVER_IB_PCAP) read:
 *    either the InfiniBand Global Route Header (IBA 1.2.1 vol. 1 8.3; its
 *    first field, IPVer, is 6), or, when the packet had none, zeros and
 *    then the destination address (flags and QPN, 16-byte GID) in bytes
 *    20-39 -- Wireshark takes a first 16 bits of 0 as "no GRH".
 * So a first byte of 0x00 (no EtherType is below 0x0600) or 0x6_ (IPVer
 * 6; the EtherTypes 0x6000-0x6FFF are DEC's and Ethernet bridging, never
 * carried over IPoIB, which carries IP and ARP only) means the
 * pseudo-header; anything else is the protocol type itself. */
#define IPOIB_PSEUDO_HDR 40

static tcpwm_decode_status decode_ipoib(decoder *d)
{
    if (d->c.left == 0)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    uint8_t first = cur_peek8(&d->c, 0);
    if (first == 0 || first >> 4 == 6)
        cur_skip(&d->c, IPOIB_PSEUDO_HDR);
    uint16_t type = cur_be16(&d->c);
    cur_skip(&d->c, 2);
    if (d->c.bad)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
    return decode_ethertype(d, type);
}

/* ---- Tunnels and labels (decap.h; semantics.md 1) ----------------------- */

/* One more encapsulation header, of kind `k`. */
static bool enter(decoder *d, tcpwm_encap_kind k)
{
    d->seg->encap_kinds = (uint8_t)(d->seg->encap_kinds | 1u << k);
    return ++d->depth <= TCPWM_ENCAP_MAX_DEPTH;
}

static tcpwm_decode_status decap_fail(decoder *d, tcpwm__dx r)
{
    switch (r) {
    case TCPWM__DX_TRUNCATED:
        return fail(d, TCPWM_DE_TRUNCATED_ENCAP);
    case TCPWM__DX_BAD:
        return fail(d, TCPWM_DE_BAD_ENCAP);
    default:
        return TCPWM_DECODE_NOT_TCP;
    }
}

static tcpwm_decode_status decode_erspan(decoder *d, tcpwm__next type, bool has_seq);

/* An 802.11 data frame in Aruba's GRE (decap.h): what its LLC/SNAP
 * header names follows, read as an EtherType is after Ethernet. Like an
 * Ethernet frame inside GRE 0x6558, it is the inner frame's link layer,
 * not one more encapsulation header. */
static tcpwm_decode_status decode_wlan(decoder *d)
{
    uint16_t type = 0;
    tcpwm__dx r = tcpwm__wlan_read(&d->c, &type);
    if (r != TCPWM__DX_OK)
        return decap_fail(d, r);
    return decode_ethertype(d, type);
}

/* Whatever a tunnel header says follows it. */
static tcpwm_decode_status decode_next(decoder *d, tcpwm__next next, bool has_seq)
{
    switch (next) {
    case TCPWM__NEXT_IPV4:
        return decode_ipv4(d);
    case TCPWM__NEXT_IPV6:
        return decode_ipv6(d);
    case TCPWM__NEXT_IP:
        return decode_raw(d);
    case TCPWM__NEXT_ETHER:
        return decode_ether(d);
    case TCPWM__NEXT_MPLS:
        return decode_mpls(d);
    case TCPWM__NEXT_ERSPAN2:
    case TCPWM__NEXT_ERSPAN3:
        return decode_erspan(d, next, has_seq);
    case TCPWM__NEXT_WLAN:
        return decode_wlan(d);
    default:
        return TCPWM_DECODE_NOT_TCP;
    }
}

static tcpwm_decode_status decode_erspan(decoder *d, tcpwm__next type, bool has_seq)
{
    if (!enter(d, TCPWM_ENCAP_ERSPAN))
        return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
    tcpwm__erspan e;
    tcpwm__dx r = tcpwm__erspan_read(&d->c, type, has_seq, &e);
    if (r != TCPWM__DX_OK)
        return decap_fail(d, r);
    if (!tcpwm__ctx_erspan(d->seg, e.version, e.session))
        return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
    return decode_next(d, e.next, false);
}

/* RFC 3032: label stack entries down to the one with S set; each is one
 * encapsulation header, and each label is part of the context. */
static tcpwm_decode_status decode_mpls(decoder *d)
{
    bool bottom = false;
    while (!bottom) {
        if (!enter(d, TCPWM_ENCAP_MPLS))
            return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
        uint32_t label;
        tcpwm__dx r = tcpwm__mpls_read(&d->c, &label, &bottom);
        if (r != TCPWM__DX_OK)
            return decap_fail(d, r);
        if (!tcpwm__ctx_id(d->seg, TCPWM_EI_MPLS, label))
            return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
    }
    tcpwm__next next;
    tcpwm__dx r = tcpwm__mpls_payload(&d->c, &next);
    if (r != TCPWM__DX_OK)
        return decap_fail(d, r);
    return decode_next(d, next, false);
}

static bool port_in(const uint16_t list[TCPWM_MAX_TUNNEL_PORTS], uint16_t port)
{
    for (int i = 0; i < TCPWM_MAX_TUNNEL_PORTS && list[i] != 0; i++)
        if (list[i] == port)
            return true;
    return false;
}

/* The outer IP header of a tunnel into the context; the segment's
 * addresses are the inner header's from here on. */
static bool outer_ip(decoder *d, uint8_t family, uint8_t proto)
{
    tcpwm_segment *s = d->seg;
    bool ok = tcpwm__ctx_ip(s, family, proto, s->src, s->dst);
    memset(s->src, 0, sizeof s->src);
    memset(s->dst, 0, sizeof s->dst);
    return ok;
}

/* UDP (RFC 768) to a VXLAN or Geneve port; any other UDP is not TCP. */
static tcpwm_decode_status decode_udp_tunnel(decoder *d, uint8_t family, size_t payload)
{
    tcpwm_block h = cur_block(&d->c, 8);
    if (h.n == 0)
        return TCPWM_DECODE_NOT_TCP;
    uint16_t dport = blk_be16(h, 2);
    uint16_t ulen = blk_be16(h, 4);
    bool vxlan = port_in(d->cfg->vxlan_ports, dport);
    if (!vxlan && !port_in(d->cfg->geneve_ports, dport))
        return TCPWM_DECODE_NOT_TCP;
    if (!enter(d, vxlan ? TCPWM_ENCAP_VXLAN : TCPWM_ENCAP_GENEVE))
        return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
    /* The UDP length counts its header; 0 (GSO) or more than the IP
     * payload leaves the IP payload as the bound. */
    size_t n = ulen >= 8 && ulen <= payload ? ulen : payload;
    limit_link(d, n >= 8 ? n - 8 : 0);
    if (!outer_ip(d, family, IP_PROTO_UDP))
        return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
    uint32_t vni = 0;
    tcpwm__next next = TCPWM__NEXT_ETHER;
    tcpwm__dx r = vxlan ? tcpwm__vxlan_read(&d->c, &vni) : tcpwm__geneve_read(&d->c, &vni, &next);
    if (r != TCPWM__DX_OK)
        return decap_fail(d, r);
    if (!tcpwm__ctx_id(d->seg, vxlan ? TCPWM_EI_VXLAN : TCPWM_EI_GENEVE, vni))
        return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
    return decode_next(d, next, false);
}

/* An IP payload that is not TCP: a tunnel, or not TCP at all. `payload`
 * is the IP payload length (after IPv6 extension headers), as carried. */
static tcpwm_decode_status decode_tunnel(decoder *d, uint8_t family, uint8_t proto,
                                         size_t payload)
{
    switch (proto) {
    case IP_PROTO_IPV4:
    case IP_PROTO_IPV6:
        /* RFC 2003 3.1, RFC 4213 3.5, RFC 2473 3: the inner packet is the
         * whole payload of the outer one. */
        if (!enter(d, TCPWM_ENCAP_IPIP))
            return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
        limit_link(d, payload);
        if (!outer_ip(d, family, proto))
            return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
        return proto == IP_PROTO_IPV4 ? decode_ipv4(d) : decode_ipv6(d);
    case IP_PROTO_GRE: {
        if (!enter(d, TCPWM_ENCAP_GRE))
            return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
        limit_link(d, payload);
        if (!outer_ip(d, family, proto))
            return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
        tcpwm__gre g;
        tcpwm__dx r = tcpwm__gre_read(&d->c, &g);
        if (r != TCPWM__DX_OK)
            return decap_fail(d, r);
        if (!tcpwm__ctx_gre(d->seg, g.has_key, g.key))
            return fail(d, TCPWM_DE_ENCAP_TOO_DEEP);
        return decode_next(d, tcpwm__next_of_ethertype(g.proto), g.has_seq);
    }
    case IP_PROTO_UDP:
        return decode_udp_tunnel(d, family, payload);
    default:
        return TCPWM_DECODE_NOT_TCP;
    }
}

static tcpwm_decode_status decode_link(decoder *d, int dlt)
{
    switch (dlt) {
    case TCPWM_DLT_NULL:
        return decode_loop(d, true);
    case TCPWM_DLT_LOOP:
        return decode_loop(d, false);
    case TCPWM_DLT_EN10MB:
        return decode_ether(d);
    case TCPWM_DLT_RAW:
    case TCPWM_DLT_RAW_OPENBSD:
    case TCPWM_DLT_LINKTYPE_RAW:
        return decode_raw(d);
    case TCPWM_DLT_IPV4:
        return decode_ipv4(d);
    case TCPWM_DLT_IPV6:
        return decode_ipv6(d);
    case TCPWM_DLT_LINUX_SLL:
        return decode_sll(d);
    case TCPWM_DLT_LINUX_SLL2:
        return decode_sll2(d);
    case TCPWM_DLT_PPP:
        return decode_ppp(d);
    case TCPWM_DLT_PPP_SERIAL:
        return decode_ppp_serial(d);
    case TCPWM_DLT_C_HDLC:
        return decode_chdlc(d);
    case TCPWM_DLT_NFLOG:
        return decode_nflog(d);
    case TCPWM_DLT_IPOIB:
        return decode_ipoib(d);
    default:
        return fail(d, TCPWM_DE_UNSUPPORTED_LINKTYPE);
    }
}

/* ---- Public ------------------------------------------------------------- */

bool tcpwm_link_supported(int dlt)
{
    switch (dlt) {
    case TCPWM_DLT_NULL:
    case TCPWM_DLT_EN10MB:
    case TCPWM_DLT_RAW:
    case TCPWM_DLT_RAW_OPENBSD:
    case TCPWM_DLT_LINKTYPE_RAW:
    case TCPWM_DLT_LOOP:
    case TCPWM_DLT_LINUX_SLL:
    case TCPWM_DLT_IPV4:
    case TCPWM_DLT_IPV6:
    case TCPWM_DLT_LINUX_SLL2:
    case TCPWM_DLT_PPP:
    case TCPWM_DLT_PPP_SERIAL:
    case TCPWM_DLT_C_HDLC:
    case TCPWM_DLT_NFLOG:
    case TCPWM_DLT_IPOIB:
        return true;
    default:
        return false;
    }
}

const char *tcpwm_decode_error_label(tcpwm_decode_error e)
{
    static const char *const labels[] = {
#define TCPWM__DE_LABEL(name, label) label,
        TCPWM_DECODE_ERROR_MAP(TCPWM__DE_LABEL)
#undef TCPWM__DE_LABEL
    };
    if ((int)e < 0 || (int)e >= TCPWM_DE__COUNT)
        return NULL;
    return labels[e];
}

void tcpwm_decode_config_default(tcpwm_decode_config *c)
{
    memset(c, 0, sizeof(*c));
    c->vxlan_ports[0] = TCPWM_VXLAN_PORT;
    c->geneve_ports[0] = TCPWM_GENEVE_PORT;
}

int tcpwm_decode_port_add(uint16_t list[TCPWM_MAX_TUNNEL_PORTS], unsigned port)
{
    if (port == 0 || port > 65535)
        return TCPWM_EINVAL;
    for (int i = 0; i < TCPWM_MAX_TUNNEL_PORTS; i++) {
        if (list[i] == port)
            return TCPWM_OK;
        if (list[i] == 0) {
            list[i] = (uint16_t)port;
            return TCPWM_OK;
        }
    }
    return TCPWM_ELIMIT;
}

/* Zeroes the segment up to its encapsulation context (whose length it
 * zeroes), but its timestamp. In two halves: GCC turns one memset of this
 * size into `rep stosq`, whose start-up alone costs as much as decoding
 * the rest of a packet; two smaller ones become a few vector stores. */
static void clear_segment(tcpwm_segment *s)
{
    int64_t ts_ns = s->ts_ns;
    size_t n = offsetof(tcpwm_segment, encap);
    size_t half = n / 2;
    memset(s, 0, half);
    memset((unsigned char *)s + half, 0, n - half);
    s->ts_ns = ts_ns;
}

/* ---- The common frame -------------------------------------------------- */

/* Most frames of most captures are Ethernet, untagged or with one VLAN
 * tag, then IPv4 without options and not a fragment, or IPv6 with TCP
 * right after its header, then TCP with no options or with NOP NOP TS
 * (RFC 7323 appendix A). tcpwm__decode_common() decodes those without the
 * layer-by-layer walk: one bounds check covers the Ethernet and IP
 * headers (and with IPv4 the TCP header), whose fields are then read at
 * constant offsets, so that the block reads' own checks fold away; an
 * IPv6 frame's TCP header and the timestamp option take one check more
 * each. It applies the walk's rules through the walk's helpers, so the
 * segment comes out byte for byte as the walk makes it; any other frame,
 * and every frame the walk would call malformed, it leaves to the walk.
 * tests/fuzz/fuzz_decode.c holds the two against each other. `wire` is
 * the frame's length on the wire from where the blocks start (never less
 * than what was captured from there). */

/* The IP header starts here in the blocks below. */
#define COMMON_IP_AT ETHER_HDR
/* ... and the first block runs this far past it: an IPv6 header, or IPv4
 * and TCP headers without options. */
#define COMMON_IP_LEN 40

/* The TCP header at `at` in `h`, its options at the cursor; `ip_len` as
 * for decode_tcp(). Inline: with two callers GCC keeps it out of line,
 * where its reads at a variable `at` keep their bounds checks and the
 * fast path saves next to nothing (cachegrind, bench/RESULTS.md). */
static FAST_INLINE bool common_tcp(tcpwm_cursor *c, tcpwm_block h, size_t at, size_t ip_len,
                              tcpwm_segment *s)
{
    size_t hlen = tcp_fixed(h, at, s);
    if (!tcp_hlen_ok(hlen, ip_len))
        return false;
    if (hlen == TCP_MIN_HDR + ALIGNED_TS_LEN) {
        tcpwm_cursor opts = cur_sub(c, ALIGNED_TS_LEN);
        if (!parse_aligned_timestamp(&opts, s))
            return false;
    } else if (hlen != TCP_MIN_HDR) {
        return false;
    }
    s->payload_len = clamp_u32(ip_len - hlen);
    return true;
}

/* `h` holds the IPv4 header and the TCP one. As decode_ipv4() with IHL 5
 * and protocol TCP, not a fragment (MF clear, offset 0). */
static FAST_INLINE bool common_ipv4(tcpwm_cursor *c, tcpwm_block h, size_t wire, tcpwm_segment *s)
{
    const size_t ip = COMMON_IP_AT;
    uint16_t total = blk_be16(h, ip + 2);
    if (blk_8(h, ip) != (4u << 4 | IPV4_MIN_HDR / 4) || blk_8(h, ip + 9) != IP_PROTO_TCP ||
        (blk_be16(h, ip + 6) & 0x3fff) != 0)
        return false;
    size_t len = ip_length(total, wire - ip);
    if (!ipv4_length_ok(total, IPV4_MIN_HDR, len))
        return false;
    put_ipv4_addr(h, ip + 12, s->src);
    put_ipv4_addr(h, ip + 16, s->dst);
    s->family = 4;
    return common_tcp(c, h, ip + IPV4_MIN_HDR, len - IPV4_MIN_HDR, s);
}

/* `h` holds the IPv6 header. As decode_ipv6() with TCP as next header. */
static FAST_INLINE bool common_ipv6(tcpwm_cursor *c, tcpwm_block h, size_t wire, tcpwm_segment *s)
{
    const size_t ip = COMMON_IP_AT;
    if (blk_8(h, ip) >> 4 != 6 || blk_8(h, ip + 6) != IP_PROTO_TCP)
        return false;
    size_t len = ip_length(blk_be16(h, ip + 4), wire - ip - IPV6_HDR);
    if (len > MAX_LINK_IP_LENGTH)
        return false;
    blk_copy(h, ip + 8, s->src, 16);
    blk_copy(h, ip + 24, s->dst, 16);
    s->family = 6;
    tcpwm_block t = cur_block(c, TCP_MIN_HDR);
    return t.n != 0 && common_tcp(c, t, 0, len, s);
}

bool tcpwm__decode_common(const uint8_t *frame, size_t caplen, size_t wirelen, int dlt,
                          tcpwm_segment *seg)
{
    if (dlt != TCPWM_DLT_EN10MB || frame == NULL)
        return false;
    size_t wire = wirelen < caplen ? caplen : wirelen;
    tcpwm_cursor c = cur_make(frame, caplen);
    tcpwm_block h = cur_block(&c, COMMON_IP_AT + COMMON_IP_LEN);
    if (h.n == 0)
        return false;
    clear_segment(seg);
    uint16_t type = blk_be16(h, 12);
    if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6) {
        /* One tag (IEEE 802.1Q, or an 802.1ad service tag): the frame
         * from 4 bytes on reads as an untagged one, with the tag's
         * EtherType where the EtherType is (a second tag is not IP). */
        if (!is_vlan_tpid(type))
            return false;
        keep_vlan(seg, (uint16_t)(blk_be16(h, ETHER_HDR) & 0x0fff));
        c = cur_make(frame, caplen);
        cur_skip(&c, VLAN_TAG);
        h = cur_block(&c, COMMON_IP_AT + COMMON_IP_LEN);
        if (h.n == 0)
            return false;
        wire -= VLAN_TAG;
        type = blk_be16(h, 12);
    }
    switch (type) {
    case ETHERTYPE_IPV4:
        return common_ipv4(&c, h, wire, seg);
    case ETHERTYPE_IPV6:
        return common_ipv6(&c, h, wire, seg);
    default:
        return false;
    }
}

tcpwm_decode_status tcpwm_decode(const uint8_t *frame, size_t caplen, size_t wirelen, int dlt,
                                 tcpwm_segment *seg, tcpwm_decode_error *err)
{
    return tcpwm_decode_with(NULL, frame, caplen, wirelen, dlt, seg, err);
}

tcpwm_decode_status tcpwm_decode_with(const tcpwm_decode_config *cfg, const uint8_t *frame,
                                      size_t caplen, size_t wirelen, int dlt,
                                      tcpwm_segment *seg, tcpwm_decode_error *err)
{
    return tcpwm_decode_frag(cfg, frame, caplen, wirelen, dlt, seg, NULL, err);
}

static const tcpwm_decode_config defaults = {
    .vxlan_ports = {TCPWM_VXLAN_PORT},
    .geneve_ports = {TCPWM_GENEVE_PORT},
};

tcpwm_decode_status tcpwm_decode_frag(const tcpwm_decode_config *cfg, const uint8_t *frame,
                                      size_t caplen, size_t wirelen, int dlt,
                                      tcpwm_segment *seg, tcpwm_fragment *frag,
                                      tcpwm_decode_error *err)
{
    if (tcpwm__decode_common(frame, caplen, wirelen, dlt, seg))
        return TCPWM_DECODE_TCP;
    return tcpwm__decode_walk(cfg, frame, caplen, wirelen, dlt, seg, frag, err);
}

tcpwm_decode_status tcpwm__decode_walk(const tcpwm_decode_config *cfg, const uint8_t *frame,
                                       size_t caplen, size_t wirelen, int dlt, tcpwm_segment *seg,
                                       tcpwm_fragment *frag, tcpwm_decode_error *err)
{
    clear_segment(seg);

    if (frame == NULL)
        caplen = 0;
    decoder d = {
        .c = cur_make(frame, caplen),
        .caplen = caplen,
        .wirelen = wirelen < caplen ? caplen : wirelen,
        .link_end = SIZE_MAX,
        .cfg = cfg ? cfg : &defaults,
        .seg = seg,
        .frag = frag,
        .err = TCPWM_DE__COUNT,
    };
    tcpwm_decode_status st = decode_link(&d, dlt);
    if (st == TCPWM_DECODE_ERROR && err)
        *err = d.err;
    return st;
}

tcpwm_decode_status tcpwm__decode_reassembled(uint8_t family, uint8_t proto, const uint8_t *hdr,
                                              size_t hdr_caplen, size_t total,
                                              tcpwm_segment *seg, tcpwm_decode_error *err)
{
    /* The fields the fragments' IP headers gave stay; the TCP ones start
     * from zero, as for a frame. */
    tcpwm_segment keep = *seg;
    clear_segment(seg);
    seg->family = keep.family;
    seg->vlan_count = keep.vlan_count;
    memcpy(seg->vlan, keep.vlan, sizeof seg->vlan);
    memcpy(seg->src, keep.src, sizeof seg->src);
    memcpy(seg->dst, keep.dst, sizeof seg->dst);
    seg->encap_kinds = keep.encap_kinds;
    seg->encap_len = keep.encap_len;

    decoder d = {
        .c = cur_make(hdr, hdr_caplen),
        .caplen = hdr_caplen,
        .wirelen = hdr_caplen,
        .link_end = SIZE_MAX,
        .cfg = &defaults,
        .seg = seg,
        .reasm = true,
        .err = TCPWM_DE__COUNT,
    };
    tcpwm_decode_status st = TCPWM_DECODE_NOT_TCP;
    size_t len = total;
    uint8_t nh = proto;
    if (family == 6 && nh != IP_PROTO_TCP) {
        /* RFC 8200 4.5: the fragmentable part may start with extension
         * headers (destination options, routing) before TCP. */
        size_t walked = 0;
        st = ipv6_extensions(&d, &nh, &walked, total);
        len = total - walked;
    } else {
        st = TCPWM_DECODE_TCP;
    }
    if (st == TCPWM_DECODE_TCP)
        st = nh == IP_PROTO_TCP ? decode_tcp(&d, len) : TCPWM_DECODE_NOT_TCP;
    if (st == TCPWM_DECODE_ERROR && err)
        *err = d.err;
    return st;
}
