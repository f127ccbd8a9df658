/* SPDX-License-Identifier: MIT */
/* Tunnel and label headers, and the encapsulation context
 * (docs/semantics.md section 1, "Tunnels and labels"). */
#include "decap.h"

#include <string.h>

/* EtherTypes that can follow a GRE or Geneve header. */
enum {
    ET_IPV4 = 0x0800,
    ET_IPV6 = 0x86dd,
    ET_TEB = 0x6558,       /* transparent Ethernet bridging (RFC 1701 ... 8926) */
    ET_ERSPAN2 = 0x88be,   /* ERSPAN type I and II */
    ET_ERSPAN3 = 0x22eb,   /* ERSPAN type III */
    ET_MPLS = 0x8847,      /* RFC 3032 5, RFC 4023 (MPLS in GRE) */
    ET_MPLS_MCAST = 0x8848,
};

/* Aruba's GRE protocol types for tunneled 802.11 frames: 0x8200 to 0x8370
 * in steps of 0x10. No RFC or IEEE registry describes them; Wireshark 4.0
 * (packet-gre.c, "ARUBA WLAN") hands all 24 to its 802.11 dissector
 * without FCS, and that is what the frames hold (tcpwm__wlan_read). */
static bool is_aruba_wlan(uint16_t type)
{
    return type >= 0x8200 && type <= 0x8370 && (type & 0x000f) == 0;
}

tcpwm__next tcpwm__next_of_ethertype(uint16_t type)
{
    if (is_aruba_wlan(type))
        return TCPWM__NEXT_WLAN;
    switch (type) {
    case ET_IPV4:
        return TCPWM__NEXT_IPV4;
    case ET_IPV6:
        return TCPWM__NEXT_IPV6;
    case ET_TEB:
        return TCPWM__NEXT_ETHER;
    case ET_ERSPAN2:
        return TCPWM__NEXT_ERSPAN2;
    case ET_ERSPAN3:
        return TCPWM__NEXT_ERSPAN3;
    case ET_MPLS:
    case ET_MPLS_MCAST:
        return TCPWM__NEXT_MPLS;
    default:
        return (tcpwm__next)0;
    }
}

/* ---- GRE ---------------------------------------------------------------- */

/* RFC 2784 2 with RFC 2890 2: C (bit 0), K (bit 2), S (bit 3), reserved0
 * (bits 1, 4-12), version (bits 13-15); then the protocol type. Present
 * in this order when their bit is set: checksum + reserved1 (4 bytes),
 * key (4), sequence number (4). */
#define GRE_C 0x8000u
#define GRE_K 0x2000u
#define GRE_S 0x1000u
#define GRE_RESERVED0 0x4ff8u /* bits 1, 4-12 */
#define GRE_VERSION 0x0007u

tcpwm__dx tcpwm__gre_read(tcpwm_cursor *c, tcpwm__gre *g)
{
    uint16_t flags = cur_be16(c);
    g->proto = cur_be16(c);
    if (c->bad)
        return TCPWM__DX_TRUNCATED;
    /* RFC 2784 2.3.1 / 2.4: version 0; version 1 is PPTP's enhanced GRE
     * (RFC 2637), which carries PPP, not a tunnel of ours. */
    unsigned version = flags & GRE_VERSION;
    if (version == 1)
        return TCPWM__DX_OTHER;
    /* RFC 2784 2.3: a receiver MUST discard a packet with any of bits 1-5
     * set unless it implements RFC 1701 (source routes, recursion), and
     * bits 6-12 and other versions are reserved. K and S (bits 2, 3) are
     * RFC 2890's. */
    if (version != 0 || (flags & GRE_RESERVED0) != 0)
        return TCPWM__DX_BAD;
    g->has_key = (flags & GRE_K) != 0;
    g->has_seq = (flags & GRE_S) != 0;
    if (flags & GRE_C)
        cur_skip(c, 4); /* checksum, reserved1 */
    g->key = g->has_key ? cur_be32(c) : 0;
    if (g->has_seq)
        cur_skip(c, 4);
    return c->bad ? TCPWM__DX_TRUNCATED : TCPWM__DX_OK;
}

/* ---- ERSPAN --------------------------------------------------------------- */

/* The ERSPAN headers of draft-foschiano-erspan-03 (section 4):
 *   type I:   GRE 0x88BE without a sequence number, no header: Ethernet.
 *   type II:  GRE 0x88BE with one, 8 bytes: Ver(4) = 1, VLAN(12), COS(3),
 *             En(2), T(1), Session ID(10), Reserved(12), Index(20).
 *   type III: GRE 0x22EB, 12 bytes: Ver(4) = 2, VLAN(12), COS(3), BSO(2),
 *             T(1), Session ID(10), Timestamp(32), SGT(16), P(1), FT(5),
 *             Hw ID(6), D(1), Gra(2), O(1); when O is set an 8-byte
 *             platform-specific subheader follows. FT 0 is an Ethernet
 *             frame, FT 2 an IP packet. */
tcpwm__dx tcpwm__erspan_read(tcpwm_cursor *c, tcpwm__next type, bool has_seq, tcpwm__erspan *e)
{
    e->next = TCPWM__NEXT_ETHER;
    e->session = 0;
    if (type == TCPWM__NEXT_ERSPAN2 && !has_seq) {
        e->version = 0;
        return TCPWM__DX_OK;
    }
    tcpwm_block h = cur_block(c, type == TCPWM__NEXT_ERSPAN2 ? 8 : 12);
    if (h.n == 0)
        return TCPWM__DX_TRUNCATED;
    uint16_t ver_vlan = blk_be16(h, 0);
    uint16_t cos_session = blk_be16(h, 2);
    e->version = (uint8_t)(ver_vlan >> 12);
    e->session = (uint16_t)(cos_session & 0x03ff);
    if (type == TCPWM__NEXT_ERSPAN2)
        return e->version == 1 ? TCPWM__DX_OK : TCPWM__DX_BAD;
    if (e->version != 2)
        return TCPWM__DX_BAD;
    uint16_t last = blk_be16(h, 10);
    unsigned ft = (last >> 10) & 0x1f;
    if (last & 0x0001)
        cur_skip(c, 8); /* platform-specific subheader */
    if (c->bad)
        return TCPWM__DX_TRUNCATED;
    if (ft == 2)
        e->next = TCPWM__NEXT_IP;
    else if (ft != 0)
        return TCPWM__DX_OTHER;
    return TCPWM__DX_OK;
}

/* ---- 802.11 in Aruba's GRE --------------------------------------------------- */

/* IEEE Std 802.11-2020 9.2.4.1.1 and 9.3.2.1: a data frame is
 *   Frame Control (2): byte 0 Protocol Version (bits 0-1), Type (2-3; 2 is
 *     data), Subtype (4-7: bit 7 QoS, bit 6 "no data"); byte 1 the flags
 *     To DS 0x01, From DS 0x02, More Fragments 0x04, Retry, Power
 *     Management, More Data, Protected Frame 0x40, +HTC/Order 0x80;
 *   Duration/ID (2), Address 1, 2, 3 (6 each), Sequence Control (2,
 *     little-endian, the fragment number in its low 4 bits);
 *   Address 4 (6) only when To DS and From DS are both set;
 *   QoS Control (2, little-endian; bit 7 "A-MSDU Present") in QoS subtypes;
 *   HT Control (4) in a QoS data frame with +HTC set (9.2.4.1.10);
 * then the body: an IEEE 802.2 LLC header with SNAP, AA AA 03, and an
 * organization code, 00-00-00 (RFC 1042) or 00-00-F8 (IEEE 802.1H bridge
 * tunnel), before an EtherType. */
#define WLAN_HDR 24
#define WLAN_TYPE_DATA 2
#define WLAN_SUB_QOS 0x80u
#define WLAN_SUB_NODATA 0x40u
#define WLAN_TO_DS 0x01u
#define WLAN_FROM_DS 0x02u
#define WLAN_PROTECTED 0x40u
#define WLAN_HTC 0x80u
#define WLAN_QOS_AMSDU 0x80u

tcpwm__dx tcpwm__wlan_read(tcpwm_cursor *c, uint16_t *type)
{
    tcpwm_block h = cur_block(c, WLAN_HDR);
    if (h.n == 0)
        return TCPWM__DX_TRUNCATED;
    uint8_t fc0 = blk_8(h, 0);
    uint8_t fc1 = blk_8(h, 1);
    unsigned frag_no = blk_8(h, 22) & 0x0fu;
    /* 9.2.4.1.2: a frame of a version the receiver does not know is
     * discarded. */
    if ((fc0 & 0x03u) != 0)
        return TCPWM__DX_BAD;
    /* Management and control frames carry no IP; nor do the "no data"
     * subtypes (Null, CF-Ack ...). A protected body is encrypted. */
    if (((fc0 >> 2) & 0x03u) != WLAN_TYPE_DATA || (fc0 & WLAN_SUB_NODATA) ||
        (fc1 & WLAN_PROTECTED))
        return TCPWM__DX_OTHER;
    /* 10.6: a later fragment of an MSDU holds no headers of its own; the
     * first is read with the bytes it has, as a first IP fragment inside
     * a tunnel is (semantics.md 1). */
    if (frag_no != 0)
        return TCPWM__DX_OTHER;
    if ((fc1 & (WLAN_TO_DS | WLAN_FROM_DS)) == (WLAN_TO_DS | WLAN_FROM_DS))
        cur_skip(c, 6); /* Address 4 */
    if (fc0 & WLAN_SUB_QOS) {
        uint8_t qos = cur_be8(c);
        cur_skip(c, 1);
        if (fc1 & WLAN_HTC)
            cur_skip(c, 4);
        /* 9.3.2.2: an A-MSDU body is a run of subframes, each a packet of
         * its own; the decoder gives one segment per frame. */
        if (!c->bad && (qos & WLAN_QOS_AMSDU))
            return TCPWM__DX_OTHER;
    }
    /* A body that is not LLC/SNAP is not IP, however short. */
    if (c->left >= 3 &&
        (cur_peek8(c, 0) != 0xaa || cur_peek8(c, 1) != 0xaa || cur_peek8(c, 2) != 0x03))
        return TCPWM__DX_OTHER;
    tcpwm_block llc = cur_block(c, 8);
    if (llc.n == 0)
        return TCPWM__DX_TRUNCATED;
    uint32_t oui = blk_be32(llc, 2) & 0xffffffu; /* after AA AA 03 */
    if (oui != 0x000000 && oui != 0x0000f8)
        return TCPWM__DX_OTHER;
    *type = blk_be16(llc, 6);
    return TCPWM__DX_OK;
}

/* ---- VXLAN and Geneve ------------------------------------------------------ */

/* RFC 7348 5: flags (8: I = 0x08), reserved (24), VNI (24), reserved (8).
 * "The I flag MUST be set to 1 for a valid VXLAN Network ID"; the other
 * bits are ignored on receipt. */
tcpwm__dx tcpwm__vxlan_read(tcpwm_cursor *c, uint32_t *vni)
{
    tcpwm_block h = cur_block(c, 8);
    if (h.n == 0)
        return TCPWM__DX_TRUNCATED;
    if (!(blk_8(h, 0) & 0x08))
        return TCPWM__DX_BAD;
    *vni = blk_be32(h, 4) >> 8;
    return TCPWM__DX_OK;
}

/* RFC 8926 3.4: Ver(2), Opt Len(6, in 4-byte words), O(1), C(1), Rsvd(6),
 * Protocol Type(16), VNI(24), Reserved(8), then the options. 3.4: "packets
 * received by a tunnel endpoint with an unknown version MUST be dropped".
 * The protocol type is an EtherType (3.4: 0x6558 for Ethernet). */
tcpwm__dx tcpwm__geneve_read(tcpwm_cursor *c, uint32_t *vni, tcpwm__next *next)
{
    tcpwm_block h = cur_block(c, 8);
    if (h.n == 0)
        return TCPWM__DX_TRUNCATED;
    uint8_t ver_optlen = blk_8(h, 0);
    uint16_t proto = blk_be16(h, 2);
    *vni = blk_be32(h, 4) >> 8;
    if (ver_optlen >> 6 != 0)
        return TCPWM__DX_BAD;
    cur_skip(c, (size_t)(ver_optlen & 0x3f) * 4);
    if (c->bad)
        return TCPWM__DX_TRUNCATED;
    *next = tcpwm__next_of_ethertype(proto);
    if (*next != TCPWM__NEXT_IPV4 && *next != TCPWM__NEXT_IPV6 && *next != TCPWM__NEXT_ETHER)
        return TCPWM__DX_OTHER;
    return TCPWM__DX_OK;
}

/* ---- MPLS ------------------------------------------------------------------ */

/* RFC 3032 2.1: Label(20), Traffic Class(3), S(1, bottom of stack), TTL(8). */
tcpwm__dx tcpwm__mpls_read(tcpwm_cursor *c, uint32_t *label, bool *bottom)
{
    uint32_t e = cur_be32(c);
    if (c->bad)
        return TCPWM__DX_TRUNCATED;
    *label = e >> 12;
    *bottom = (e & 0x100) != 0;
    return TCPWM__DX_OK;
}

/* RFC 3032 has no payload type: an LSR knows it from the label. Captures
 * do not, so (as every analyzer does) the first nibble decides: 4 and 6
 * are IP; 0 is the pseudowire control word of RFC 4385 3 (first nibble
 * 0000, 4 bytes), behind which an Ethernet pseudowire (RFC 4448 3) carries
 * a frame; 1 is the associated channel (RFC 5586), not TCP. */
tcpwm__dx tcpwm__mpls_payload(tcpwm_cursor *c, tcpwm__next *next)
{
    if (c->left == 0)
        return TCPWM__DX_TRUNCATED;
    switch (cur_peek8(c, 0) >> 4) {
    case 4:
        *next = TCPWM__NEXT_IPV4;
        return TCPWM__DX_OK;
    case 6:
        *next = TCPWM__NEXT_IPV6;
        return TCPWM__DX_OK;
    case 0:
        cur_skip(c, 4);
        if (c->bad)
            return TCPWM__DX_TRUNCATED;
        *next = TCPWM__NEXT_ETHER;
        return TCPWM__DX_OK;
    default:
        return TCPWM__DX_OTHER;
    }
}

/* ---- The context ------------------------------------------------------------ */

/* Record layouts, after the type byte (tcpwm_encap_item_type):
 *   IP      family, proto, lower address, higher address (4 or 16 each)
 *   GRE     has_key, key (4)
 *   ERSPAN  version, session (2)
 *   VXLAN, GENEVE, MPLS   id (3)
 *   VLAN    id (2)
 * Integers in network order. */

static uint8_t *ctx_room(tcpwm_segment *s, size_t n)
{
    if ((size_t)s->encap_len + n > sizeof s->encap)
        return NULL;
    uint8_t *p = s->encap + s->encap_len;
    s->encap_len = (uint16_t)(s->encap_len + n);
    return p;
}

bool tcpwm__ctx_ip(tcpwm_segment *s, uint8_t family, uint8_t proto, const uint8_t *a,
                   const uint8_t *b)
{
    size_t alen = family == 4 ? 4 : 16;
    uint8_t *p = ctx_room(s, 3 + 2 * alen);
    if (!p)
        return false;
    /* The pair lower first, so that both directions of a tunnel (and of
     * the connections inside it) have one context. */
    if (memcmp(a, b, alen) > 0) {
        const uint8_t *t = a;
        a = b;
        b = t;
    }
    p[0] = TCPWM_EI_IP;
    p[1] = family;
    p[2] = proto;
    memcpy(p + 3, a, alen);
    memcpy(p + 3 + alen, b, alen);
    return true;
}

bool tcpwm__ctx_id(tcpwm_segment *s, tcpwm_encap_item_type type, uint32_t id)
{
    bool vlan = type == TCPWM_EI_VLAN;
    uint8_t *p = ctx_room(s, vlan ? 3 : 4);
    if (!p)
        return false;
    p[0] = (uint8_t)type;
    if (vlan) {
        p[1] = (uint8_t)(id >> 8);
        p[2] = (uint8_t)id;
    } else {
        p[1] = (uint8_t)(id >> 16);
        p[2] = (uint8_t)(id >> 8);
        p[3] = (uint8_t)id;
    }
    return true;
}

bool tcpwm__ctx_gre(tcpwm_segment *s, bool has_key, uint32_t key)
{
    uint8_t *p = ctx_room(s, 6);
    if (!p)
        return false;
    p[0] = TCPWM_EI_GRE;
    p[1] = has_key ? 1 : 0;
    p[2] = (uint8_t)(key >> 24);
    p[3] = (uint8_t)(key >> 16);
    p[4] = (uint8_t)(key >> 8);
    p[5] = (uint8_t)key;
    return true;
}

bool tcpwm__ctx_erspan(tcpwm_segment *s, uint8_t version, uint16_t session)
{
    uint8_t *p = ctx_room(s, 4);
    if (!p)
        return false;
    p[0] = TCPWM_EI_ERSPAN;
    p[1] = version;
    p[2] = (uint8_t)(session >> 8);
    p[3] = (uint8_t)session;
    return true;
}

bool tcpwm_encap_next(const uint8_t *ctx, size_t len, size_t *off, tcpwm_encap_item *it)
{
    if (ctx == NULL || *off >= len)
        return false;
    tcpwm_cursor c = cur_make(ctx + *off, len - *off);
    memset(it, 0, sizeof(*it));
    it->type = (tcpwm_encap_item_type)cur_be8(&c);
    switch (it->type) {
    case TCPWM_EI_IP: {
        it->family = cur_be8(&c);
        it->proto = cur_be8(&c);
        size_t alen = it->family == 4 ? 4 : it->family == 6 ? 16 : 0;
        if (alen == 0)
            return false;
        cur_copy(&c, it->addr[0], alen);
        cur_copy(&c, it->addr[1], alen);
        break;
    }
    case TCPWM_EI_GRE:
        it->has_key = cur_be8(&c) != 0;
        it->id = cur_be32(&c);
        break;
    case TCPWM_EI_ERSPAN:
        it->version = cur_be8(&c);
        it->id = cur_be16(&c);
        break;
    case TCPWM_EI_VXLAN:
    case TCPWM_EI_GENEVE:
    case TCPWM_EI_MPLS:
        it->id = (uint32_t)cur_be8(&c) << 16;
        it->id |= cur_be16(&c);
        break;
    case TCPWM_EI_VLAN:
        it->id = cur_be16(&c);
        break;
    default:
        return false;
    }
    if (c.bad)
        return false;
    *off = len - c.left;
    return true;
}

const char *tcpwm_encap_label(tcpwm_encap_kind k)
{
    static const char *const labels[] = {
#define TCPWM__EK_LABEL(name, label) label,
        TCPWM_ENCAP_MAP(TCPWM__EK_LABEL)
#undef TCPWM__EK_LABEL
    };
    if ((int)k < 0 || (int)k >= TCPWM_ENCAP__COUNT)
        return NULL;
    return labels[k];
}
