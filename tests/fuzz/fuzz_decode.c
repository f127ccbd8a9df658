/* SPDX-License-Identifier: MIT */
/* Differential harness over the decoder's two ways through a frame
 * (core/src/decode_int.h): tcpwm__decode_common(), the fast path for
 * plain Ethernet / IPv4 or IPv6 / TCP frames, and tcpwm__decode_walk(),
 * the layer-by-layer walk every frame can take. Wherever the fast path
 * takes a frame, its segment must be the walk's byte for byte, status
 * TCP; and the public tcpwm_decode_frag(), which is one or the other,
 * must give the walk's status, segment, fragment and error for every
 * frame. A difference prints both and aborts (a crash to libFuzzer).
 *
 * The input is a capture file (pcap or pcapng, read by the replay's own
 * reader, standalone/capfile.c). Each frame goes through as captured,
 * then as mutants that aim at what the fast path decides on: the wire
 * length (0-length IP headers take theirs from it), the captured length
 * cut at each header boundary, and header fields set to values next to
 * the ones it accepts (EtherTypes and tags, IP version and IHL, lengths,
 * fragment bits, protocol, data offset, the option bytes). Raw IP frames
 * also go through behind an Ethernet header, and every IP frame with a
 * VLAN tag added, so that captures of any link type feed the fast path.
 * The mutants are drawn from a generator seeded by the frame's bytes:
 * the same input runs the same frames every time.
 *
 * Every decode reads a heap copy of exactly the bytes it is given, so
 * that under AddressSanitizer a read past the capture is an error. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capfile.h"
#include "decode_int.h"
#include "tcpwm/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes of a frame the mutants touch and keep: every header the fast
 * path reads ends before this (18 + 40 + 20 + 12). */
#define HEAD 96
/* Mutants of each frame (and of its tagged copy), past the cuts. */
#define MUTANTS 16
/* IPv6 header bytes its payload length does not count (RFC 8200 3). */
#define IPV6_FIXED 40

typedef struct stats {
    unsigned long frames, decodes, common;
} stats;

/* ---- The check ---------------------------------------------------------- */

static void dump(const char *what, const void *p, size_t n)
{
    const uint8_t *b = p;
    fprintf(stderr, "%s (%zu bytes):", what, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n  " : " ", b[i]);
    fprintf(stderr, "\n");
}

static void differ(const char *what, int dlt, const uint8_t *frame, size_t caplen, size_t wirelen,
                   const void *a, const void *b, size_t n)
{
    fprintf(stderr, "decode differential: %s differs (dlt %d, caplen %zu, wirelen %zu)\n", what,
            dlt, caplen, wirelen);
    dump("frame", frame, caplen);
    dump("walk", a, n);
    dump("other", b, n);
    abort();
}

/* One frame through the walk, the fast path and the public entry, each
 * on a segment, fragment and error first filled with `fill`. */
static void check(stats *st, int dlt, const uint8_t *frame, size_t caplen, size_t wirelen,
                  uint8_t fill)
{
    uint8_t *copy = malloc(caplen > 0 ? caplen : 1);
    if (copy == NULL)
        abort();
    if (caplen > 0)
        memcpy(copy, frame, caplen);

    tcpwm_segment walk, common, pub;
    tcpwm_fragment walk_frag, pub_frag;
    tcpwm_decode_error walk_err, pub_err;
    memset(&walk, fill, sizeof walk);
    memset(&common, fill, sizeof common);
    memset(&pub, fill, sizeof pub);
    memset(&walk_frag, fill, sizeof walk_frag);
    memset(&pub_frag, fill, sizeof pub_frag);
    memset(&walk_err, fill, sizeof walk_err);
    memset(&pub_err, fill, sizeof pub_err);

    tcpwm_decode_status ws =
        tcpwm__decode_walk(NULL, copy, caplen, wirelen, dlt, &walk, &walk_frag, &walk_err);
    if (tcpwm__decode_common(copy, caplen, wirelen, dlt, &common)) {
        st->common++;
        if (ws != TCPWM_DECODE_TCP)
            differ("status (the fast path took a frame that is not plain TCP)", dlt, copy, caplen,
                   wirelen, &ws, &ws, sizeof ws);
        if (memcmp(&walk, &common, sizeof walk) != 0)
            differ("fast path segment", dlt, copy, caplen, wirelen, &walk, &common, sizeof walk);
    }
    tcpwm_decode_status ps =
        tcpwm_decode_frag(NULL, copy, caplen, wirelen, dlt, &pub, &pub_frag, &pub_err);
    if (ps != ws)
        differ("tcpwm_decode_frag status", dlt, copy, caplen, wirelen, &ws, &ps, sizeof ws);
    if (memcmp(&walk, &pub, sizeof walk) != 0)
        differ("tcpwm_decode_frag segment", dlt, copy, caplen, wirelen, &walk, &pub, sizeof walk);
    if (memcmp(&walk_frag, &pub_frag, sizeof walk_frag) != 0)
        differ("tcpwm_decode_frag fragment", dlt, copy, caplen, wirelen, &walk_frag, &pub_frag,
               sizeof walk_frag);
    if (memcmp(&walk_err, &pub_err, sizeof walk_err) != 0)
        differ("tcpwm_decode_frag error", dlt, copy, caplen, wirelen, &walk_err, &pub_err,
               sizeof walk_err);
    st->decodes++;
    free(copy);
}

/* ---- Mutants ------------------------------------------------------------ */

/* splitmix64: small, and good enough to pick mutations. */
static uint64_t next(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned pick(uint64_t *x, unsigned n)
{
    return (unsigned)(next(x) % n);
}

static void set16(uint8_t *b, size_t n, size_t off, unsigned v)
{
    if (off + 1 < n) {
        b[off] = (uint8_t)(v >> 8);
        b[off + 1] = (uint8_t)v;
    }
}

static void set8(uint8_t *b, size_t n, size_t off, unsigned v)
{
    if (off < n)
        b[off] = (uint8_t)v;
}

/* One field of the headers set to a value next to what the fast path
 * takes, or one byte or bit of them changed. The IP header is taken to
 * start after no, one or two tags, at random; `wirelen` is the length the
 * frame will be decoded with. */
static void mutate(uint64_t *x, uint8_t *b, size_t n, size_t wirelen)
{
    static const unsigned types[] = {0x0800, 0x86dd, 0x8100, 0x88a8,
                                     0x9100, 0x8864, 0x8847, 0x0806};
    static const unsigned ver_ihl[] = {0x45, 0x46, 0x44, 0x4f, 0x40, 0x55, 0x65, 0x60, 0x6f};
    static const unsigned protos[] = {6, 17, 4, 41, 47, 0, 43, 44, 60, 59};
    static const unsigned frags[] = {0, 0x4000, 0x2000, 0x0001, 0x1fff, 0x8000, 0x6000, 0x3fff};
    static const unsigned opts[] = {0, 1, 8, 10, 2, 3, 4, 5, 0xff};
    size_t ip = 14 + 4 * pick(x, 3);
    size_t carried = (wirelen > ip ? wirelen : ip) - ip;
    size_t got = (n > ip ? n : ip) - ip;
    switch (pick(x, 9)) {
    case 0: /* EtherType or the tag's */
        set16(b, n, ip - 2, types[pick(x, sizeof types / sizeof types[0])]);
        break;
    case 1:
        set8(b, n, ip, ver_ihl[pick(x, sizeof ver_ihl / sizeof ver_ihl[0])]);
        break;
    case 2: { /* IPv4 total length or IPv6 payload length */
        const size_t near[] = {
            0,           1,           19,           20,           21,          31,
            32,          39,          40,           41,           51,          52,
            53,          0xffff,      got,          got + 1,      got - 1,     carried,
            carried + 1, carried - 1, carried - 40, carried - 41, carried - 39};
        set16(b, n, ip + 2 + 2 * pick(x, 2), (unsigned)near[pick(x, sizeof near / sizeof near[0])]);
        break;
    }
    case 3: /* IPv4 fragment field */
        set16(b, n, ip + 6, frags[pick(x, sizeof frags / sizeof frags[0])]);
        break;
    case 4: /* IPv4 protocol or IPv6 next header */
        set8(b, n, pick(x, 2) ? ip + 9 : ip + 6, protos[pick(x, sizeof protos / sizeof protos[0])]);
        break;
    case 5: /* TCP data offset, after IPv4 or IPv6 */
        set8(b, n, ip + (pick(x, 2) ? 20 : 40) + 12, pick(x, 16) << 4 | pick(x, 16));
        break;
    case 6: /* an option byte */
        set8(b, n, ip + (pick(x, 2) ? 20 : 40) + 20 + pick(x, 12),
             opts[pick(x, sizeof opts / sizeof opts[0])]);
        break;
    case 7: /* any byte of the headers */
        set8(b, n, pick(x, HEAD), pick(x, 256));
        break;
    default: /* one bit of them */
        if (n > 0) {
            size_t at = pick(x, (unsigned)(n < HEAD ? n : HEAD));
            b[at] = (uint8_t)(b[at] ^ 1u << pick(x, 8));
        }
        break;
    }
}

/* Wire lengths: as captured, or such that an IP length of 0 makes the
 * datagram MAX_LINK_IP_LENGTH (16 MiB) long give or take a byte (IPv4
 * counts from its header on, IPv6 after it; with no tag or one), or the
 * most a record may claim. */
static size_t wire_variant(uint64_t *x, size_t caplen, size_t wirelen)
{
    size_t limit = ((size_t)1 << 24) + 14 + 4 * pick(x, 2);
    switch (pick(x, 8)) {
    case 0:
        return caplen;
    case 1:
        return caplen + 1;
    case 2:
        return limit - 1 + pick(x, 3);
    case 3:
        return limit + IPV6_FIXED - 1 + pick(x, 3);
    case 4:
        return UINT32_MAX;
    default:
        return wirelen;
    }
}

/* The edges of the length rules, on the frame's IP header (after the
 * Ethernet header, or after one tag): the IP length field at 0 with the
 * wire length that makes the datagram MAX_LINK_IP_LENGTH (16 MiB) long,
 * give or take a byte, and at values next to the headers' sizes and to
 * what was captured or carried; and every TCP data offset. */
static void edges(stats *st, int dlt, const uint8_t *frame, size_t caplen, size_t wirelen,
                  uint64_t *x)
{
    unsigned type = caplen >= 14 ? (unsigned)frame[12] << 8 | frame[13] : 0;
    size_t ip = type == 0x8100 || type == 0x88a8 || type == 0x9100 ? 18 : 14;
    if (caplen < ip + 40)
        return;
    bool v6 = frame[ip] >> 4 == 6;
    size_t field = ip + (v6 ? 4 : 2);    /* IPv4 total length, IPv6 payload length */
    size_t fixed = v6 ? IPV6_FIXED : 20; /* what the field does not count */
    size_t got = caplen - ip - fixed, carried = wirelen - ip - fixed;
    const size_t lens[] = {0,       1,   19,      20,          21,      31,         32,
                           33,      39,  40,      41,          51,      52,         53,
                           got - 1, got, got + 1, carried - 1, carried, carried + 1};
    uint8_t *b = malloc(caplen);
    if (b == NULL)
        abort();
    memcpy(b, frame, caplen);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        set16(b, caplen, field, (unsigned)(lens[i] & 0xffff));
        check(st, dlt, b, caplen, wirelen, (uint8_t)next(x));
    }
    /* The datagram is the rest of the wire: IPv4 from its header on,
     * IPv6 after it. */
    size_t limit = ((size_t)1 << 24) + ip + (v6 ? IPV6_FIXED : 0);
    set16(b, caplen, field, 0);
    for (size_t w = limit - 1; w <= limit + 1; w++)
        check(st, dlt, b, caplen, w, (uint8_t)next(x));
    memcpy(b, frame, caplen);
    size_t tcp = ip + (v6 ? 40 : (size_t)(frame[ip] & 0x0f) * 4) + 12;
    for (unsigned off = 0; off < 16 && tcp < caplen; off++) {
        b[tcp] = (uint8_t)(off << 4 | (frame[tcp] & 0x0f));
        check(st, dlt, b, caplen, wirelen, (uint8_t)next(x));
    }
    free(b);
}

/* A frame, its edges, its cuts at each header boundary (and next to
 * it), and MUTANTS mutants with up to three fields changed. */
static void frame_and_mutants(stats *st, int dlt, const uint8_t *frame, size_t caplen,
                              size_t wirelen, uint64_t seed)
{
    /* Ethernet; + IPv4 and TCP, or IPv6; + TCP after IPv6; + the
     * timestamp option after either: untagged, and with one tag. */
    static const size_t cuts[] = {0, 14, 34, 54, 66, 74, 86};
    uint64_t x = seed;
    check(st, dlt, frame, caplen, wirelen, 0);
    check(st, dlt, frame, caplen, wirelen, 0xa5);
    if (dlt == TCPWM_DLT_EN10MB)
        edges(st, dlt, frame, caplen, wirelen, &x);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        for (size_t tag = 0; tag <= 4; tag += 4)
            for (size_t c = cuts[i] + tag - (cuts[i] > 0); c <= cuts[i] + tag + 1; c++)
                if (c < caplen)
                    check(st, dlt, frame, c, pick(&x, 2) ? wirelen : c, (uint8_t)next(&x));

    uint8_t *b = malloc(caplen > 0 ? caplen : 1);
    if (b == NULL)
        abort();
    for (int m = 0; m < MUTANTS; m++) {
        if (caplen > 0)
            memcpy(b, frame, caplen);
        size_t w = wire_variant(&x, caplen, wirelen);
        for (unsigned k = 1 + pick(&x, 3); k > 0; k--)
            mutate(&x, b, caplen, w);
        size_t n = caplen;
        if (pick(&x, 4) == 0 && n > 0)
            n = pick(&x, (unsigned)(n < HEAD ? n : HEAD) + 1);
        check(st, dlt, b, n, w < n ? n : w, (uint8_t)next(&x));
    }
    free(b);
}

/* FNV-1a over the frame's first bytes: the mutants' seed. */
static uint64_t seed_of(const uint8_t *p, size_t n, uint64_t index)
{
    uint64_t h = 0xcbf29ce484222325ull ^ index;
    for (size_t i = 0; i < n && i < HEAD; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* A raw IP frame (or an Ethernet one's IP packet) behind an Ethernet
 * header with the EtherType its version names, and, with `tag`, one
 * 802.1Q tag (VLAN ID from the seed) in between. */
static void as_ethernet(stats *st, const uint8_t *ip, size_t caplen, size_t wirelen, bool tag,
                        uint64_t seed)
{
    if (caplen == 0)
        return;
    size_t hdr = 14 + (tag ? 4 : 0);
    uint8_t *b = malloc(hdr + caplen);
    if (b == NULL)
        abort();
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
    memcpy(b, macs, sizeof macs);
    unsigned type = ip[0] >> 4 == 6 ? 0x86dd : 0x0800;
    if (tag) {
        set16(b, hdr, 12, 0x8100);
        set16(b, hdr, 14, (unsigned)(seed & 0xffff));
    }
    set16(b, hdr, hdr - 2, type);
    memcpy(b + hdr, ip, caplen);
    frame_and_mutants(st, TCPWM_DLT_EN10MB, b, hdr + caplen, hdr + wirelen, seed);
    free(b);
}

static bool raw_ip(int dlt)
{
    return dlt == TCPWM_DLT_RAW || dlt == TCPWM_DLT_RAW_OPENBSD || dlt == TCPWM_DLT_LINKTYPE_RAW ||
           dlt == TCPWM_DLT_IPV4 || dlt == TCPWM_DLT_IPV6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    capfile_mem mem;
    capfile_io io;
    capfile *f;
    char why[256];
    capfile_mem_io(&io, &mem, data, size);
    if (capfile_open(&f, &io, why, sizeof why) != 0)
        return 0;

    stats st = {0, 0, 0};
    capfile_rec rec;
    while (capfile_next(f, &rec) == CAPFILE_RECORD) {
        size_t caplen = rec.caplen;
        size_t wirelen = rec.len < rec.caplen ? rec.caplen : rec.len;
        uint64_t seed = seed_of(rec.data, caplen, st.frames++);
        frame_and_mutants(&st, rec.dlt, rec.data, caplen, wirelen, seed);
        if (raw_ip(rec.dlt)) {
            as_ethernet(&st, rec.data, caplen, wirelen, false, seed);
            as_ethernet(&st, rec.data, caplen, wirelen, true, seed);
        } else if (rec.dlt == TCPWM_DLT_EN10MB && caplen > 14) {
            /* The same IP packet behind a tag (whatever the EtherType
             * was: the mutants change it anyway). */
            as_ethernet(&st, rec.data + 14, caplen - 14, wirelen - 14, true, seed);
        }
    }
    capfile_close(f);
#ifdef FUZZ_DECODE_STATS
    fprintf(stderr, "  %lu frames, %lu compared with their mutants, %lu by the fast path too\n",
            st.frames, st.decodes, st.common);
#endif
    return 0;
}
