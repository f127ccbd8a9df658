/* SPDX-License-Identifier: MIT */
/* IP fragment reassembly, by byte ranges. The analysis needs only the
 * TCP header and the datagram's length, so a datagram in progress keeps
 * the first TCPWM__REASM_HDR bytes of its payload as bytes (tiny fragments
 * may split the TCP header, RFC 1858) and the rest as at most
 * TCPWM__REASM_RANGES disjoint byte ranges. A fragment's length comes from
 * its IP header, its captured bytes may be fewer (snap length): only the
 * header bytes need to be captured, and only to be parsed.
 *
 * Datagrams in progress are fixed-size records from one pool, allocated
 * lazily at the first fragment and bounded by max_datagrams (the byte cap
 * is max_datagrams records: see tcpwm__reasm_memory); a chained hash
 * finds them by key, and one list in order of arrival of their first
 * fragment serves both the timeout and eviction at the cap (oldest
 * first). O(1) per fragment, apart from the ranges (at most 8) and the
 * rare doubling of the hash. No memory at all until a first fragment.
 *
 * The rules, with their RFCs, are in docs/semantics.md ("IP fragment
 * reassembly"); in short:
 *  - key: family, source, destination, identification, the caller's
 *    encapsulation context bytes, and for IPv4 the protocol (RFC 791 3.2);
 *    not for IPv6, whose fragments may carry different Next Header values
 *    of which only the offset-0 fragment's counts (RFC 8200 4.5);
 *  - a fragment whose bytes are all held already is a duplicate: ignored,
 *    the datagram kept (RFC 8200 4.5 allows it for exact duplicates, Linux
 *    does it for any fragment inside a held run, IPv4 and IPv6 alike);
 *  - a fragment overlapping held bytes only in part drops the whole
 *    datagram, IPv4 and IPv6 alike (RFC 5722; Linux since 4.19 for IPv4);
 *  - a last fragment (MF/M = 0) whose end differs from an earlier last
 *    fragment's, or with held bytes beyond it, or a fragment past a known
 *    end, drops the datagram (inconsistent);
 *  - a datagram longer than 65535 bytes with its header drops (too_large);
 *  - a datagram needing more than TCPWM__REASM_RANGES disjoint ranges
 *    drops (too_many_ranges): real senders send contiguous fragments;
 *  - a dropped datagram stays as a tombstone until its timeout, so that
 *    its later fragments are discarded too (RFC 5722: "including those not
 *    yet received") instead of starting a new datagram;
 *  - timeout in capture time from the datagram's first fragment (default
 *    30 s, Linux's ipfrag_time): alive while now - first <= timeout;
 *  - a complete datagram is released at once: a late duplicate after it
 *    starts a new datagram, which times out (as in Linux).
 * Each datagram is counted once, in one outcome, when it ends: counts.started
 * is always the sum of the outcomes plus the datagrams in progress. */
#ifndef TCPWM_REASM_H
#define TCPWM_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"

#define TCPWM__REASM_HDR 60     /* payload bytes kept as bytes: a TCP header with options */
#define TCPWM__REASM_RANGES 8   /* disjoint ranges per datagram */
#define TCPWM__REASM_MAX_LEN 65535u /* RFC 791 total length, RFC 8200 payload length */
#define TCPWM__REASM_DEFAULT_TIMEOUT_NS (30 * INT64_C(1000000000)) /* Linux ipfrag_time */
/* 8192 records: about 5 MB with 389 context bytes (2 VLAN IDs and a
 * full tcpwm/encap.h context), near Linux's ipfrag_high_thresh (4 MB). */
#define TCPWM__REASM_DEFAULT_MAX 8192u

/* How a datagram ended: the `outcome` label of tcp_monitor_fragments_total. */
#define TCPWM__REASM_OUTCOME_MAP(XX)                                                               \
    XX(REASSEMBLED, "reassembled")         /* complete, handed to the caller */                    \
    XX(TIMED_OUT, "timed_out")             /* incomplete at its timeout */                         \
    XX(OVERLAPPING, "overlapping")         /* a fragment overlapped held bytes in part */           \
    XX(EVICTED, "evicted")                 /* the oldest, dropped for room at the cap */           \
    XX(TOO_LARGE, "too_large")             /* would exceed 65535 bytes */                          \
    XX(INCONSISTENT, "inconsistent")       /* conflicting ends */                                  \
    XX(TOO_MANY_RANGES, "too_many_ranges") /* more than TCPWM__REASM_RANGES disjoint ranges */

typedef enum tcpwm__reasm_outcome {
#define TCPWM__REASM_OC_ENUM(name, label) TCPWM__REASM_##name,
    TCPWM__REASM_OUTCOME_MAP(TCPWM__REASM_OC_ENUM)
#undef TCPWM__REASM_OC_ENUM
        TCPWM__REASM_OUTCOME_COUNT
} tcpwm__reasm_outcome;

/* The label value of an outcome; NULL if out of range. */
const char *tcpwm__reasm_outcome_label(int outcome);

/* What tcpwm__reasm_add did with one fragment. */
typedef enum tcpwm__reasm_status {
    TCPWM__REASM_COMPLETE = 1,   /* it completed its datagram: *out is filled */
    TCPWM__REASM_HELD = 0,       /* held; the datagram is still incomplete */
    TCPWM__REASM_DUPLICATE = -1, /* ignored: all its bytes were held already */
    TCPWM__REASM_MALFORMED = -2, /* ignored: not a valid fragment (see tcpwm__frag) */
    TCPWM__REASM_DROPPED = -3,   /* its datagram was dropped now (an outcome counted) */
    TCPWM__REASM_DISCARDED = -4, /* its datagram had been dropped: discarded with it */
} tcpwm__reasm_status;

/* One fragment, as the decoder found it. Offsets and lengths count the
 * datagram's payload: after the IPv4 header, or the IPv6 fragmentable
 * part (after the Fragment header). */
typedef struct tcpwm__frag {
    const uint8_t *ctx; /* encapsulation context (VLANs, tunnels), opaque, compared as bytes */
    uint16_t ctx_len;   /* <= the ctx_max given to init, else malformed */
    uint8_t family;     /* 4 or 6, else malformed */
    uint8_t proto;      /* IPv4 protocol (part of the key); IPv6 Fragment header Next
                         * Header (not part of the key: the offset-0 fragment's is kept) */
    uint8_t src[16], dst[16]; /* IPv4: first 4 bytes, the rest 0 */
    uint32_t id;        /* identification: 16 bits for IPv4, 32 for IPv6 */
    uint32_t offset;    /* fragment offset in bytes (the field times 8) */
    uint32_t len;       /* payload bytes per the IP header */
    uint32_t hdr_len;   /* bytes the reassembled length field also counts: IPv4 IHL * 4
                         * (RFC 791 total length), IPv6 the extension headers before the
                         * Fragment header (RFC 8200 4.5 payload length) */
    bool more;          /* MF (IPv4) / M (IPv6): more fragments follow */
    const uint8_t *data; /* the captured bytes of this fragment's payload */
    uint32_t caplen;    /* how many; more than len is taken as len */
    int64_t ts_ns;      /* capture time */
} tcpwm__frag;
/* Malformed, ignored without touching any datagram: family not 4/6,
 * ctx_len over ctx_max, offset not a multiple of 8, or a fragment with
 * more = true whose length is 0 or not a multiple of 8 (RFC 791 3.2,
 * RFC 8200 4.5: only the last fragment may end anywhere). */

/* A complete datagram. */
typedef struct tcpwm__reasm_out {
    uint32_t total;      /* payload length (the last fragment's offset + length) */
    uint32_t hdr_caplen; /* leading bytes of hdr captured, <= min(TCPWM__REASM_HDR, total) */
    int64_t ts_ns;       /* capture time of the fragment that completed it */
    uint8_t proto;       /* proto of the fragment at offset 0 */
    uint8_t hdr[TCPWM__REASM_HDR]; /* the payload's first bytes; zero past hdr_caplen */
} tcpwm__reasm_out;

typedef struct tcpwm__reasm_counts {
    uint64_t outcome[TCPWM__REASM_OUTCOME_COUNT]; /* datagrams, by how they ended */
    uint64_t started;   /* datagrams that got a record: sum(outcome) + in progress */
    uint64_t duplicate; /* fragments ignored as duplicates */
    uint64_t malformed; /* fragments refused as malformed */
    uint64_t discarded; /* fragments of a dropped datagram (tombstone) */
} tcpwm__reasm_counts;

typedef struct tcpwm__reasm {
    uint32_t *buckets;   /* chain heads, or NULL before the first fragment */
    uint32_t mask;       /* buckets - 1 */
    tcpwm__pool records; /* of the datagram record (reasm.c) */
    uint32_t count;      /* records in use, tombstones included */
    uint32_t live;       /* of them, datagrams in progress */
    uint32_t max;        /* max_datagrams */
    uint16_t ctx_max;    /* context bytes a record holds */
    uint32_t oldest, newest; /* the arrival list: oldest is the first to go */
    int64_t timeout_ns;
    int64_t now_ns;      /* latest capture time seen; never goes back */
    uint64_t seed;
    tcpwm__reasm_counts counts;
} tcpwm__reasm;

/* 0, or TCPWM_EINVAL (max_datagrams 0 or UINT32_MAX, timeout_ns <= 0).
 * Each record holds up to ctx_max context bytes inline (the key must be
 * exact), so ctx_max sets the record size: tcpwm__reasm_record_size.
 * Allocates nothing: the pool and the hash come with the first fragment. */
int tcpwm__reasm_init(tcpwm__reasm *r, uint32_t max_datagrams, int64_t timeout_ns,
                      uint16_t ctx_max, uint64_t seed);
void tcpwm__reasm_destroy(tcpwm__reasm *r);

/* Bytes held: the records carved so far and the hash. At most
 * ceil(max / 1024) * 1024 records plus 4 bytes per bucket (buckets: a
 * power of two, at most 2 * max). */
size_t tcpwm__reasm_memory(const tcpwm__reasm *r);
size_t tcpwm__reasm_record_size(const tcpwm__reasm *r);

/* Adds one fragment; *out is written only when it returns
 * TCPWM__REASM_COMPLETE. First moves the clock to f->ts_ns (never back)
 * and expires what the timeout ends. Never allocates beyond the pool's chunks
 * and the hash's doubling, both bounded by max_datagrams. */
tcpwm__reasm_status tcpwm__reasm_add(tcpwm__reasm *r, const tcpwm__frag *f,
                                     tcpwm__reasm_out *out);

/* Moves the clock to now_ns (never back) and drops the datagrams whose
 * timeout has passed: now - first fragment's time > timeout. Call it as
 * capture time advances without fragments; O(1) when nothing is due. */
void tcpwm__reasm_expire(tcpwm__reasm *r, int64_t now_ns);

#endif
