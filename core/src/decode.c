/* SPDX-License-Identifier: MIT */
/* Frame decoder: link layer -> IPv4/IPv6 -> TCP (docs/semantics.md, section 1).
 *
 * Every field is read through a cursor bounded by the captured length;
 * lengths the packet claims are used to compute, never to read. Each layer
 * reads its fixed fields, checks the cursor once, then validates. */
#include "tcpwm/decode.h"

#include <string.h>

#include "cursor.h"

/* EtherTypes (IEEE 802 numbering), also used by the Linux cooked headers. */
enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_IPV6 = 0x86dd,
    ETHERTYPE_VLAN = 0x8100,       /* IEEE 802.1Q customer tag */
    ETHERTYPE_QINQ = 0x88a8,       /* IEEE 802.1ad service tag */
    ETHERTYPE_QINQ_OLD = 0x9100,   /* pre-standard service tag, still seen */
    ETHERTYPE_PPPOE_SESS = 0x8864, /* RFC 2516 session stage */
};

/* PPP protocol numbers (RFC 1332 for IPv4, RFC 5072 for IPv6). */
enum { PPP_IPV4 = 0x0021, PPP_IPV6 = 0x0057 };

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
    IP_PROTO_TCP = 6,
    IP_PROTO_ROUTING = 43,
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

#define IPV4_MIN_HDR 20
#define IPV6_HDR 40
#define TCP_MIN_HDR 20

typedef struct decoder {
    tcpwm_cursor c; /* the frame, from the layer being decoded on */
    size_t caplen;  /* bytes captured */
    size_t wirelen; /* bytes on the wire, never less than caplen */
    size_t link_limit; /* bytes an inner layer (PPPoE) says it carries; SIZE_MAX if none */
    tcpwm_segment *seg;
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
    size_t n = d->wirelen - (d->caplen - d->c.left);
    return n < d->link_limit ? n : d->link_limit;
}

/* The IP datagram's length: the header's claim (0: unknown) cut to what
 * the link carried. */
static size_t ip_length(size_t claimed, size_t carried)
{
    return claimed == 0 || claimed > carried ? carried : claimed;
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
 * leaves the rest unparseable: flag it and stop. */
static void parse_options(tcpwm_cursor *c, tcpwm_segment *s)
{
    while (c->left > 0) {
        uint8_t kind = cur_be8(c);
        if (kind == OPT_EOL)
            return;
        if (kind == OPT_NOP)
            continue;
        uint8_t len = cur_be8(c);
        if (c->bad || len < 2 || (size_t)len - 2 > c->left) {
            s->opt_bad = true;
            return;
        }
        tcpwm_cursor body = cur_sub(c, (size_t)len - 2);
        parse_option(kind, &body, s);
    }
}

/* RFC 7323 appendix A: the layout almost every segment of a connection
 * with timestamps carries, NOP NOP TS (12 bytes), read in one go as Linux
 * does (tcp_parse_aligned_timestamp). Same result as parse_options(). */
static bool parse_aligned_timestamp(const tcpwm_cursor *opts, tcpwm_segment *s)
{
    if (opts->left != 12)
        return false;
    tcpwm_cursor c = *opts;
    tcpwm_block b = cur_block(&c, 12);
    if (blk_be32(b, 0) != ((uint32_t)OPT_NOP << 24 | (uint32_t)OPT_NOP << 16 |
                           (uint32_t)OPT_TS << 8 | 10u))
        return false;
    s->tsval = blk_be32(b, 4);
    s->tsecr = blk_be32(b, 8);
    set_opt(s, TCPWM_OPT_TS);
    return true;
}

/* `ip_len` is the IP payload length (TCP header + data) the IP layer claims. */
static tcpwm_decode_status decode_tcp(decoder *d, size_t ip_len)
{
    tcpwm_cursor *c = &d->c;
    tcpwm_segment *s = d->seg;

    /* RFC 9293 3.1: ports, sequence, acknowledgment, data offset, flags,
     * window; checksum and urgent pointer are not needed. */
    tcpwm_block h = cur_block(c, TCP_MIN_HDR);
    if (h.n == 0)
        return fail(d, TCPWM_DE_TRUNCATED_TCP);
    s->sport = blk_be16(h, 0);
    s->dport = blk_be16(h, 2);
    s->seq = blk_be32(h, 4);
    s->ack = blk_be32(h, 8);
    uint8_t off = blk_8(h, 12);
    s->flags = blk_8(h, 13);
    s->window = blk_be16(h, 14);

    /* RFC 9293 3.1: the data offset counts 32-bit words and covers at least
     * the fixed header; a header longer than the IP payload is malformed. */
    size_t hlen = (size_t)(off >> 4) * 4;
    if (hlen < TCP_MIN_HDR || hlen > ip_len)
        return fail(d, TCPWM_DE_BAD_TCP_DATA_OFFSET);

    tcpwm_cursor opts = cur_sub(c, hlen - TCP_MIN_HDR);
    if (opts.bad)
        return fail(d, TCPWM_DE_TRUNCATED_TCP);
    if (!parse_aligned_timestamp(&opts, s))
        parse_options(&opts, s);

    /* From the IP header, not the capture: a snap length cuts payloads. */
    s->payload_len = clamp_u32(ip_len - hlen);
    return TCPWM_DECODE_TCP;
}

/* ---- IP ----------------------------------------------------------------- */

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
    /* RFC 791 3.1: total length includes the header. 0 is not malformed
     * here: captures of TSO/GSO super-packets carry it (the NIC fills it). */
    if (total != 0 && total < hlen)
        return fail(d, TCPWM_DE_BAD_IP_LENGTH);
    size_t len = ip_length(total, carried);
    if (len < hlen || len > MAX_LINK_IP_LENGTH)
        return fail(d, TCPWM_DE_BAD_IP_LENGTH);
    if (proto != IP_PROTO_TCP)
        return TCPWM_DECODE_NOT_TCP;
    /* RFC 791 3.2: only the fragment at offset 0 holds the TCP header; a
     * first fragment (MF set) is decoded with the bytes it carries. */
    if ((frag & 0x1fff) != 0)
        return fail(d, TCPWM_DE_FRAGMENT);
    cur_skip(c, hlen - IPV4_MIN_HDR); /* options, skipped by IHL */
    if (c->bad)
        return fail(d, TCPWM_DE_TRUNCATED_IP);

    s->family = 4;
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
        if (*nh == IP_PROTO_FRAGMENT) {
            /* RFC 8200 4.5: a fixed 8 bytes; offset in the top 13 bits of
             * the third and fourth bytes, M in the lowest bit. */
            hlen = 8;
            frag = cur_be16(c);
            cur_skip(c, 4); /* identification */
        } else {
            /* RFC 8200 4.3, 4.4, 4.6: length in 8-byte units after the
             * first 8 bytes. */
            hlen = ((size_t)ext_len + 1) * 8;
            cur_skip(c, hlen - 2);
        }
        if (c->bad)
            return fail(d, TCPWM_DE_BAD_IPV6_EXTENSION);
        *walked += hlen;
        if (*walked > plen)
            return fail(d, TCPWM_DE_BAD_IPV6_EXTENSION);
        if (frag >> 3 != 0) {
            /* A later fragment holds no TCP header. Its next header names
             * the first header of the fragmented part: if that cannot
             * lead to TCP, the frame is simply not TCP. An atomic fragment
             * (offset 0, M 0, RFC 6946) is a whole packet and goes on. */
            if (next != IP_PROTO_TCP && !is_ipv6_ext(next))
                return TCPWM_DECODE_NOT_TCP;
            return fail(d, TCPWM_DE_FRAGMENT);
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
    if (carried < IPV6_HDR)
        return fail(d, TCPWM_DE_BAD_IP_LENGTH);
    size_t len = ip_length(plen, carried - IPV6_HDR);
    if (len > MAX_LINK_IP_LENGTH)
        return fail(d, TCPWM_DE_BAD_IP_LENGTH);
    size_t walked = 0;
    tcpwm_decode_status st = ipv6_extensions(d, &nh, &walked, len);
    if (st != TCPWM_DECODE_TCP)
        return st;
    /* ESP, AH, no next header (59), tunnels, ICMPv6, UDP, ... */
    if (nh != IP_PROTO_TCP)
        return TCPWM_DECODE_NOT_TCP;

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
    d->link_limit = length >= 2 ? (size_t)length - 2 : 0;
    switch (proto) {
    case PPP_IPV4:
        return decode_ipv4(d);
    case PPP_IPV6:
        return decode_ipv6(d);
    default: /* LCP, IPCP, ... */
        return TCPWM_DECODE_NOT_TCP;
    }
}

/* Whatever follows an EtherType: any number of VLAN tags (IEEE 802.1Q,
 * 4 bytes each: TCI, then the next EtherType), then IP or PPPoE. */
static tcpwm_decode_status decode_ethertype(decoder *d, uint16_t type)
{
    while (is_vlan_tpid(type)) {
        uint16_t tci = cur_be16(&d->c);
        type = cur_be16(&d->c);
        if (d->c.bad)
            return fail(d, TCPWM_DE_TRUNCATED_LINK);
        keep_vlan(d->seg, (uint16_t)(tci & 0x0fff));
    }
    switch (type) {
    case ETHERTYPE_IPV4:
        return decode_ipv4(d);
    case ETHERTYPE_IPV6:
        return decode_ipv6(d);
    case ETHERTYPE_PPPOE_SESS:
        return decode_pppoe(d);
    default: /* ARP, LLDP, 802.3 lengths, PPPoE discovery, ... */
        return TCPWM_DECODE_NOT_TCP;
    }
}

static tcpwm_decode_status decode_ether(decoder *d)
{
    /* Destination and source MAC, then the EtherType. */
    tcpwm_block h = cur_block(&d->c, 14);
    if (h.n == 0)
        return fail(d, TCPWM_DE_TRUNCATED_LINK);
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

/* Zeroes all of the segment but its timestamp. In two halves: GCC turns
 * one memset of this size into `rep stosq`, whose start-up alone costs as
 * much as decoding the rest of a packet; two smaller ones become a few
 * vector stores. */
static void clear_segment(tcpwm_segment *s)
{
    int64_t ts_ns = s->ts_ns;
    size_t half = sizeof(*s) / 2;
    memset(s, 0, half);
    memset((unsigned char *)s + half, 0, sizeof(*s) - half);
    s->ts_ns = ts_ns;
}

tcpwm_decode_status tcpwm_decode(const uint8_t *frame, size_t caplen, size_t wirelen, int dlt,
                                 tcpwm_segment *seg, tcpwm_decode_error *err)
{
    clear_segment(seg);

    if (frame == NULL)
        caplen = 0;
    decoder d = {
        .c = cur_make(frame, caplen),
        .caplen = caplen,
        .wirelen = wirelen < caplen ? caplen : wirelen,
        .link_limit = SIZE_MAX,
        .seg = seg,
        .err = TCPWM_DE__COUNT,
    };
    tcpwm_decode_status st = decode_link(&d, dlt);
    if (st == TCPWM_DECODE_ERROR && err)
        *err = d.err;
    return st;
}
