/* SPDX-License-Identifier: MIT */
#include "capfile.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwm/monitor.h"

/* Classic pcap magic numbers as read in the writer's byte order
 * (pcap-savefile(5)); the "modified" format of Alexey Kuznetzov's
 * patched libpcap has 24-byte record headers. */
#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du
#define MAGIC_KUZNETZOV 0xa1b2cd34u
#define PCAP_FILE_HDR 24u

/* pcapng (draft-ietf-opsawg-pcapng section 4): block types, the
 * byte-order magic of the Section Header Block, option codes. */
#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 1u
#define BT_PB 2u /* obsolete Packet Block, appendix A */
#define BT_SPB 3u
#define BT_EPB 6u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_ENDOFOPT 0u
#define OPT_IF_TSRESOL 9u
#define OPT_IF_TSOFFSET 14u
/* Block header (type, total length) and trailer (total length). */
#define BLOCK_OVERHEAD 12u

/* libpcap's limit on a pcapng block until an interface of a link type
 * with a larger snap length raises it (sf-pcapng.c). */
#define NG_INITIAL_MAX_BLOCK (16u << 20)

/* The DLT_ values whose largest snap length is not 256 KiB in libpcap
 * (max_snaplen_for_dlt). */
#define DLT_DBUS_ 231
#define DLT_USBPCAP_ 249
#define DLT_EBHSCR_ 279
#define DLT_EN10MB_ 1

typedef enum lengths_order { LEN_NORMAL, LEN_MAYBE_SWAPPED, LEN_SWAPPED } lengths_order;

/* How an interface's time-stamp fractions become nanoseconds, as libpcap
 * converts them at nanosecond precision. */
typedef enum scale { SCALE_NONE, SCALE_UP_DEC, SCALE_DOWN_DEC, SCALE_BIN } scale;

typedef struct iface {
    int dlt;
    uint32_t snaplen;  /* after libpcap's adjustment: 0 or too big -> the maximum */
    uint64_t tsresol;  /* units per second: 10^n or 2^n */
    uint64_t tsoffset; /* seconds added to every time stamp (a signed value) */
    scale sc;
    uint64_t factor;   /* for SCALE_UP_DEC / SCALE_DOWN_DEC */
} iface;

struct capfile {
    capfile_io io;
    capfile_format fmt;
    const uint8_t *win; /* the bytes from the current position on */
    size_t win_len;
    uint64_t off;       /* stream offset of win[0] */
    uint64_t count;     /* records (pcap) or blocks (pcapng) started */
    bool swapped;       /* the file (pcap) or section (pcapng) is in the other byte order */
    bool failed;
    char err[256];
    /* classic pcap */
    uint32_t hdrsize;   /* record header: 16, or 24 (modified format) */
    int64_t frac_mult;  /* 1000 for microsecond files, 1 for nanosecond */
    lengths_order lengths;
    uint32_t snapshot;  /* records longer are cut to it */
    uint32_t max_caplen; /* records longer are an error */
    int dlt;
    /* pcapng */
    iface *ifs;         /* the current section's interfaces */
    uint32_t nifs, cap_ifs;
    uint32_t max_block;
    bool any_idb;       /* some section had an interface */
};

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v & 0xff00u) << 8) | (v << 24);
}

static uint32_t raw32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Fields in the writer's byte order, read in ours. The callers have
 * checked that the bytes are there. */
static uint32_t rd32(const capfile *f, const uint8_t *p)
{
    uint32_t v = raw32(p);
    return f->swapped ? bswap32(v) : v;
}

static uint16_t rd16(const capfile *f, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return f->swapped ? (uint16_t)((unsigned)(v >> 8) | ((unsigned)v << 8)) : v;
}

static uint64_t rd64(const capfile *f, const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    if (f->swapped)
        v = ((uint64_t)bswap32((uint32_t)v) << 32) | bswap32((uint32_t)(v >> 32));
    return v;
}

int capfile_linktype_to_dlt(uint32_t linktype)
{
    /* Most LINKTYPE_ values equal their DLT_; these five do not, because
     * the DLT_ values differ between systems (libpcap's linktype_to_dlt;
     * tests/unit/capfile_diff.c checks every value against the installed
     * libpcap). */
    switch (linktype) {
    case 100: return 11; /* ATM_RFC1483 */
    case 101: return 12; /* RAW */
    case 102: return 15; /* SLIP_BSDOS */
    case 103: return 16; /* PPP_BSDOS */
    case 106: return 19; /* ATM_CLIP */
    default: return (int)linktype;
    }
}

/* libpcap's largest snap length for a link type, and the adjustment it
 * makes to a file's: 0 or more than that means "no limit". */
static uint32_t max_snaplen(int dlt)
{
    switch (dlt) {
    case DLT_DBUS_: return 128u << 20;
    case DLT_EBHSCR_: return 8u << 20;
    case DLT_USBPCAP_: return 1u << 20;
    default: return 262144u;
    }
}

static uint32_t adjust_snaplen(int dlt, uint32_t snaplen)
{
    uint32_t max = max_snaplen(dlt);
    return snaplen == 0 || snaplen > max ? max : snaplen;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static capfile_status fail(capfile *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err, sizeof f->err, fmt, ap);
    va_end(ap);
    f->failed = true;
    return CAPFILE_ERROR;
}

/* Make need bytes readable at f->win. false when the input has fewer
 * left (f->win_len says how many). */
static inline bool ensure(capfile *f, size_t need)
{
    if (f->win_len >= need)
        return true;
    f->win_len = f->io.peek(f->io.ctx, need, &f->win);
    return f->win_len >= need;
}

static inline void advance(capfile *f, size_t n)
{
    f->io.consume(f->io.ctx, n);
    f->win += n;
    f->win_len -= n;
    f->off += n;
}

/* The input's own reason for stopping early, or NULL (it just ended). */
static const char *input_error(const capfile *f)
{
    return f->io.error != NULL ? f->io.error(f->io.ctx) : NULL;
}

/* A short read: the input's error if it has one, else a truncation. */
static capfile_status short_read(capfile *f, const char *what, uint64_t want)
{
    const char *ie = input_error(f);
    if (ie != NULL)
        return fail(f, "%s", ie);
    return fail(f, "%s %" PRIu64 " (offset %" PRIu64 "): truncated: %" PRIu64 " bytes, the file has %zu",
                what, f->count, f->off, want, f->win_len);
}

/* ---- classic pcap ------------------------------------------------------ */

static int pcap_header(capfile *f, char *errbuf, size_t errlen)
{
    uint32_t magic = raw32(f->win);

    f->swapped = !(magic == MAGIC_USEC || magic == MAGIC_NSEC || magic == MAGIC_KUZNETZOV);
    if (f->swapped)
        magic = bswap32(magic);
    if (!ensure(f, PCAP_FILE_HDR)) {
        const char *ie = input_error(f);
        snprintf(errbuf, errlen, "%s%s%zu of %u bytes", ie != NULL ? ie : "",
                 ie != NULL ? " (pcap file header: " : "truncated pcap file header: ", f->win_len,
                 PCAP_FILE_HDR);
        if (ie != NULL)
            strncat(errbuf, ")", errlen - strlen(errbuf) - 1);
        return -1;
    }
    uint16_t major = rd16(f, f->win + 4), minor = rd16(f, f->win + 6);
    /* libpcap reads 2.0 to 2.4, and 543.0 (DG/UX tcpdump). Before 2.3 the
     * record header had caplen and len the other way round; 2.3 files
     * have either order (sf-pcap.c). */
    if (major == 2 && minor <= 4) {
        f->lengths = minor < 3 ? LEN_SWAPPED : minor == 3 ? LEN_MAYBE_SWAPPED : LEN_NORMAL;
    } else if (major == 543 && minor == 0) {
        f->lengths = LEN_SWAPPED;
    } else {
        snprintf(errbuf, errlen, "unsupported pcap version %u.%u", major, minor);
        return -1;
    }
    /* The link type's upper 6 bits are flags (FCS length): not the type. */
    f->dlt = capfile_linktype_to_dlt(rd32(f, f->win + 20) & 0x03FFFFFFu);
    f->max_caplen = max_snaplen(f->dlt);
    f->snapshot = adjust_snaplen(f->dlt, rd32(f, f->win + 16));
    f->frac_mult = magic == MAGIC_NSEC ? 1 : 1000;
    f->hdrsize = 16;
    if (magic == MAGIC_KUZNETZOV) {
        /* Kuznetzov's records carry ifindex, protocol and packet type
         * after the usual 16 bytes. His cooked Ethernet captures added a
         * 14-byte fake header to a snap-length read, so libpcap allows
         * 14 more bytes (sf-pcap.c). */
        f->hdrsize = 24;
        if (f->dlt == DLT_EN10MB_)
            f->snapshot = f->snapshot <= 0x7FFFFFFFu - 14 ? f->snapshot + 14 : 0x7FFFFFFFu;
    }
    f->fmt = CAPFILE_PCAP;
    advance(f, PCAP_FILE_HDR);
    return 0;
}

static capfile_status pcap_next_rec(capfile *f, capfile_rec *rec)
{
    f->count++;
    if (!ensure(f, f->hdrsize)) {
        if (f->win_len == 0 && input_error(f) == NULL)
            return CAPFILE_END;
        return short_read(f, "record", f->hdrsize);
    }
    const uint8_t *h = f->win;
    uint32_t caplen = rd32(f, h + 8), len = rd32(f, h + 12);
    if (f->lengths == LEN_SWAPPED || (f->lengths == LEN_MAYBE_SWAPPED && caplen > len)) {
        uint32_t t = caplen;
        caplen = len;
        len = t;
    }
    if (caplen > f->max_caplen || caplen > CAPFILE_MAX_BLOCK)
        return fail(f, "record %" PRIu64 " (offset %" PRIu64 "): invalid packet capture length %" PRIu32
                       ", bigger than the maximum of %" PRIu32,
                    f->count, f->off, caplen, f->max_caplen);
    size_t total = (size_t)f->hdrsize + caplen;
    if (!ensure(f, total))
        return short_read(f, "record", total);
    h = f->win;
    /* In the host's byte order libpcap reads both time fields as signed
     * 32-bit values (struct pcap_timeval); swapped, through its unsigned
     * swap, zero-extended. Microseconds are scaled in 64 bits. */
    uint32_t sec = rd32(f, h), frac = rd32(f, h + 4);
    rec->sec = f->swapped ? (int64_t)sec : (int64_t)(int32_t)sec;
    rec->nsec = (f->swapped ? (int64_t)frac : (int64_t)(int32_t)frac) * f->frac_mult;
    rec->ts_ns = tcpwm_time_ns(rec->sec, rec->nsec);
    /* A record longer than the file's snap length (Solaris BUFMOD wrote
     * such files) is cut to it, as libpcap does. */
    rec->caplen = caplen < f->snapshot ? caplen : f->snapshot;
    rec->len = len;
    rec->data = h + f->hdrsize;
    rec->dlt = f->dlt;
    rec->iface = 0;
    advance(f, total);
    return CAPFILE_RECORD;
}

/* ---- pcapng ------------------------------------------------------------ */

/* One interface's options (draft-ietf-opsawg-pcapng 4.2): code, length,
 * value padded to 32 bits, up to opt_endofopt or the end of the block.
 * Only if_tsresol and if_tsoffset matter here; a malformed option list is
 * an error, as in libpcap, since the time stamps depend on it. */
static capfile_status idb_options(capfile *f, iface *ifc, const uint8_t *p, size_t n)
{
    bool saw_res = false, saw_off = false;
    uint8_t res = 6; /* default: microseconds */

    while (n > 0) {
        if (n < 4)
            return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): interface option header cut short",
                        f->count, f->off);
        uint16_t code = rd16(f, p), olen = rd16(f, p + 2);
        size_t padded = ((size_t)olen + 3u) & ~(size_t)3u;
        if (padded > n - 4)
            return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): interface option %u of %u bytes past the block's end",
                        f->count, f->off, code, olen);
        const uint8_t *v = p + 4;
        p += 4 + padded;
        n -= 4 + padded;
        if (code == OPT_ENDOFOPT) {
            if (olen != 0)
                return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): opt_endofopt with length %u",
                            f->count, f->off, olen);
            break;
        }
        if (code == OPT_IF_TSRESOL) {
            if (olen != 1 || saw_res)
                return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): %s if_tsresol option",
                            f->count, f->off, saw_res ? "a second" : "a malformed");
            saw_res = true;
            res = v[0];
        } else if (code == OPT_IF_TSOFFSET) {
            if (olen != 8 || saw_off)
                return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): %s if_tsoffset option",
                            f->count, f->off, saw_off ? "a second" : "a malformed");
            saw_off = true;
            ifc->tsoffset = rd64(f, v);
        }
    }
    /* if_tsresol: the high bit set, a negative power of 2, else of 10. */
    unsigned e = res & 0x7Fu;
    if (res & 0x80u) {
        if (e > 63)
            return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): if_tsresol 2^-%u is too fine",
                        f->count, f->off, e);
        ifc->tsresol = UINT64_C(1) << e;
        ifc->sc = SCALE_BIN;
    } else {
        if (e > 19)
            return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): if_tsresol 10^-%u is too fine",
                        f->count, f->off, e);
        ifc->tsresol = 1;
        for (unsigned i = 0; i < e; i++)
            ifc->tsresol *= 10;
        if (ifc->tsresol == 1000000000u) {
            ifc->sc = SCALE_NONE;
        } else if (ifc->tsresol > 1000000000u) {
            ifc->sc = SCALE_DOWN_DEC;
            ifc->factor = ifc->tsresol / 1000000000u;
        } else {
            ifc->sc = SCALE_UP_DEC;
            ifc->factor = 1000000000u / ifc->tsresol;
        }
    }
    return CAPFILE_RECORD;
}

static capfile_status ng_idb(capfile *f, const uint8_t *b, size_t n)
{
    if (n < 8)
        return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): interface description block too short",
                    f->count, f->off);
    if (f->nifs == f->cap_ifs) {
        uint32_t cap = f->cap_ifs ? f->cap_ifs * 2 : 8;
        /* A block holds at most CAPFILE_MAX_BLOCK / 20 interfaces' worth
         * of bytes each; the count is bounded by the file's size. */
        iface *ifs = realloc(f->ifs, (size_t)cap * sizeof *ifs);
        if (ifs == NULL)
            return fail(f, "out of memory for %" PRIu32 " interfaces", f->nifs + 1);
        f->ifs = ifs;
        f->cap_ifs = cap;
    }
    iface *ifc = &f->ifs[f->nifs];
    memset(ifc, 0, sizeof *ifc);
    ifc->dlt = capfile_linktype_to_dlt(rd16(f, b));
    ifc->snaplen = adjust_snaplen(ifc->dlt, rd32(f, b + 4));
    if (idb_options(f, ifc, b + 8, n - 8) != CAPFILE_RECORD)
        return CAPFILE_ERROR;
    /* libpcap lets blocks grow to hold a whole packet of the interface's
     * largest snap length plus room for options. */
    uint64_t need = 8u + 20u + (uint64_t)max_snaplen(ifc->dlt) + 131072u + 4u;
    if (need > f->max_block)
        f->max_block = need > CAPFILE_MAX_BLOCK ? CAPFILE_MAX_BLOCK : (uint32_t)need;
    f->nifs++;
    f->any_idb = true;
    return CAPFILE_RECORD;
}

/* The Section Header Block at f->win, whose length and trailer are
 * checked; sets the section's byte order and forgets the interfaces. */
static capfile_status ng_shb(capfile *f, const uint8_t *b, size_t n)
{
    if (n < 16)
        return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): section header block too short",
                    f->count, f->off);
    uint16_t major = rd16(f, b + 4), minor = rd16(f, b + 6);
    /* A new major version is a format this reader does not know (draft
     * section 4.1); minor versions (1.0, 1.2) read alike. */
    if (major != 1)
        return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): unsupported pcapng version %u.%u",
                    f->count, f->off, major, minor);
    f->nifs = 0;
    return CAPFILE_RECORD;
}

/* The packet time stamp in units of the interface's resolution as
 * libpcap's sec/nsec at nanosecond precision: the same unsigned 64-bit
 * arithmetic, wraparounds included, so that every front end agrees. */
static void ng_time(const iface *ifc, uint64_t t, capfile_rec *rec)
{
    uint64_t sec, frac;
    /* The two usual resolutions with constant divisors, which the
     * compiler turns into multiplications. */
    if (ifc->tsresol == 1000000u) { /* the default */
        sec = t / 1000000u;
        frac = (t % 1000000u) * 1000u;
    } else if (ifc->tsresol == 1000000000u) {
        sec = t / 1000000000u;
        frac = t % 1000000000u;
    } else {
        sec = t / ifc->tsresol;
        frac = t % ifc->tsresol;
        switch (ifc->sc) {
        case SCALE_NONE: break;
        case SCALE_UP_DEC: frac *= ifc->factor; break;
        case SCALE_DOWN_DEC: frac /= ifc->factor; break;
        case SCALE_BIN: frac = frac * 1000000000u / ifc->tsresol; break;
        }
    }
    sec += ifc->tsoffset;
    rec->sec = (int64_t)sec;
    rec->nsec = (int64_t)frac;
    rec->ts_ns = tcpwm_time_ns(rec->sec, rec->nsec);
}

static capfile_status ng_packet(capfile *f, uint32_t type, const uint8_t *b, size_t n,
                                capfile_rec *rec)
{
    uint32_t ifx, caplen, len;
    uint64_t t;
    size_t hdr;

    if (type == BT_SPB) {
        /* Simple Packet Block (draft 4.4): interface 0, no time stamp;
         * the captured length is the original length cut to the
         * interface's snap length. */
        hdr = 4;
        if (n < hdr)
            return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): simple packet block too short",
                        f->count, f->off);
        ifx = 0;
        len = rd32(f, b);
        t = 0;
        caplen = len;
        if (f->nifs > 0 && caplen > f->ifs[0].snaplen)
            caplen = f->ifs[0].snaplen;
    } else {
        hdr = 20;
        if (n < hdr)
            return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): packet block too short", f->count,
                        f->off);
        /* The obsolete Packet Block (appendix A) has a 16-bit interface
         * ID and a drops count where the EPB has a 32-bit interface ID. */
        ifx = type == BT_PB ? rd16(f, b) : rd32(f, b);
        t = ((uint64_t)rd32(f, b + 4) << 32) | rd32(f, b + 8);
        caplen = rd32(f, b + 12);
        len = rd32(f, b + 16);
    }
    if (ifx >= f->nifs)
        return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): packet of interface %" PRIu32
                       ", but the section describes %" PRIu32,
                    f->count, f->off, ifx, f->nifs);
    if (caplen > n - hdr)
        return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): captured length %" PRIu32
                       " past the block's end",
                    f->count, f->off, caplen);
    const iface *ifc = &f->ifs[ifx];
    ng_time(ifc, t, rec);
    rec->caplen = caplen;
    rec->len = len;
    rec->data = b + hdr;
    rec->dlt = ifc->dlt;
    rec->iface = ifx;
    return CAPFILE_RECORD;
}

/* The next block: checks its total length at both ends (draft 3.1) and
 * hands back its body. CAPFILE_END at a clean end of file. */
static capfile_status ng_block(capfile *f, uint32_t *type, const uint8_t **body, size_t *n,
                               size_t *total)
{
    f->count++;
    if (!ensure(f, 8)) {
        if (f->win_len == 0 && input_error(f) == NULL)
            return CAPFILE_END;
        return short_read(f, "block", 8);
    }
    *type = rd32(f, f->win);
    if (*type == BT_SHB) {
        /* A new section may be in either byte order: its byte-order magic
         * says which, before its length can be read (draft 4.1). */
        if (!ensure(f, 12))
            return short_read(f, "block", 12);
        uint32_t bom = raw32(f->win + 8);
        if (bom == BYTE_ORDER_MAGIC)
            f->swapped = false;
        else if (bom == bswap32(BYTE_ORDER_MAGIC))
            f->swapped = true;
        else
            return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): section header with a bad byte-order magic",
                        f->count, f->off);
    }
    uint32_t len = rd32(f, f->win + 4);
    if (len < BLOCK_OVERHEAD || len % 4 != 0)
        return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): bad block length %" PRIu32, f->count,
                    f->off, len);
    if (len > f->max_block)
        return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): block length %" PRIu32
                       " over the maximum of %" PRIu32,
                    f->count, f->off, len, f->max_block);
    if (!ensure(f, len))
        return short_read(f, "block", len);
    /* The blocks after this one: reading each block's trailer first
     * touches its last cache line, a miss the hardware prefetcher does
     * not always hide. */
    if (f->win_len >= (size_t)len + 1024)
        __builtin_prefetch(f->win + len + 1024);
    uint32_t trailer = rd32(f, f->win + len - 4);
    if (trailer != len)
        return fail(f, "block %" PRIu64 " (offset %" PRIu64 "): block length %" PRIu32
                       " at the start, %" PRIu32 " at the end",
                    f->count, f->off, len, trailer);
    *body = f->win + 8;
    *n = len - BLOCK_OVERHEAD;
    *total = len;
    return CAPFILE_RECORD;
}

static capfile_status ng_next(capfile *f, capfile_rec *rec)
{
    for (;;) {
        uint32_t type = 0;
        const uint8_t *b = NULL;
        size_t n = 0, total = 0;
        capfile_status st = ng_block(f, &type, &b, &n, &total);

        if (st == CAPFILE_END) {
            /* A file whose sections describe no interface has no packets
             * anyone can read; libpcap refuses it too. */
            if (!f->any_idb)
                return fail(f, "no interface description block in the file");
            return CAPFILE_END;
        }
        if (st != CAPFILE_RECORD)
            return st;
        switch (type) {
        case BT_EPB:
        case BT_SPB:
        case BT_PB:
            st = ng_packet(f, type, b, n, rec);
            break;
        case BT_IDB:
            st = ng_idb(f, b, n);
            break;
        case BT_SHB:
            st = ng_shb(f, b, n);
            break;
        default:
            /* Name resolution, statistics, decryption secrets, custom and
             * unknown blocks: nothing for the analysis. */
            break;
        }
        if (st != CAPFILE_RECORD)
            return st;
        /* The record's bytes stay readable: consuming does not move them. */
        advance(f, total);
        if (type == BT_EPB || type == BT_SPB || type == BT_PB)
            return CAPFILE_RECORD;
    }
}

/* ---- a memory buffer as input ----------------------------------------- */

static size_t mem_peek(void *ctx, size_t need, const uint8_t **p)
{
    capfile_mem *m = ctx;
    (void)need;
    *p = m->data + m->off;
    return m->size - m->off;
}

static void mem_consume(void *ctx, size_t n)
{
    capfile_mem *m = ctx;
    m->off += n;
}

void capfile_mem_io(capfile_io *io, capfile_mem *m, const uint8_t *data, size_t size)
{
    m->data = data;
    m->size = data != NULL ? size : 0;
    m->off = 0;
    io->peek = mem_peek;
    io->consume = mem_consume;
    io->error = NULL;
    io->ctx = m;
}

/* ---- the interface ----------------------------------------------------- */

int capfile_open(capfile **out, const capfile_io *io, char *errbuf, size_t errlen)
{
    capfile *f = calloc(1, sizeof *f);

    *out = NULL;
    if (f == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    f->io = *io;
    f->max_block = NG_INITIAL_MAX_BLOCK;
    if (!ensure(f, 4)) {
        const char *ie = input_error(f);
        snprintf(errbuf, errlen, "%s",
                 ie != NULL ? ie : f->win_len == 0 ? "empty file" : "unknown file format");
        free(f);
        return -1;
    }
    uint32_t magic = raw32(f->win);
    uint32_t sw = bswap32(magic);
    if (magic == MAGIC_USEC || magic == MAGIC_NSEC || magic == MAGIC_KUZNETZOV ||
        sw == MAGIC_USEC || sw == MAGIC_NSEC || sw == MAGIC_KUZNETZOV) {
        if (pcap_header(f, errbuf, errlen) != 0) {
            free(f);
            return -1;
        }
        *out = f;
        return 0;
    }
    if (magic == BT_SHB) {
        f->fmt = CAPFILE_PCAPNG;
        /* Not pcapng after all unless the byte-order magic is right. */
        if (ensure(f, 12) && raw32(f->win + 8) != BYTE_ORDER_MAGIC &&
            raw32(f->win + 8) != bswap32(BYTE_ORDER_MAGIC)) {
            snprintf(errbuf, errlen, "unknown file format");
            free(f);
            return -1;
        }
        uint32_t type;
        const uint8_t *b;
        size_t n, total;
        capfile_status st = ng_block(f, &type, &b, &n, &total);
        if (st == CAPFILE_RECORD)
            st = ng_shb(f, b, n);
        if (st == CAPFILE_END) /* cannot happen: 4 bytes are there */
            fail(f, "empty file");
        if (st != CAPFILE_RECORD) {
            snprintf(errbuf, errlen, "%s", f->err);
            free(f);
            return -1;
        }
        advance(f, total);
        *out = f;
        return 0;
    }
    snprintf(errbuf, errlen, "unknown file format");
    free(f);
    return -1;
}

capfile_status capfile_next(capfile *f, capfile_rec *rec)
{
    if (f->failed)
        return CAPFILE_ERROR;
    return f->fmt == CAPFILE_PCAP ? pcap_next_rec(f, rec) : ng_next(f, rec);
}

const char *capfile_error(const capfile *f)
{
    return f->failed ? f->err : NULL;
}

capfile_format capfile_get_format(const capfile *f)
{
    return f->fmt;
}

void capfile_close(capfile *f)
{
    if (f == NULL)
        return;
    free(f->ifs);
    free(f);
}
