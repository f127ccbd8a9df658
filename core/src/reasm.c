/* SPDX-License-Identifier: MIT */
#include "reasm.h"

#include <stdlib.h>
#include <string.h>

#include "tcpwm/err.h"
#include "tcpwm/monitor.h"

/* One datagram in progress, or a tombstone of a dropped one. */
typedef struct dgram {
    uint32_t chain;        /* next record in the same bucket, or TCPWM__NIL */
    uint32_t older, newer; /* arrival list links */
    uint32_t hash;         /* of the key, to rehash without reading it */
    int64_t first_ns;      /* module clock at the first fragment: the timeout runs from it */
    uint64_t hdr_have;     /* bit i: hdr[i] was captured */
    uint32_t end;          /* payload length, once have_end */
    uint32_t id;
    uint16_t ctx_len;
    uint8_t family, proto; /* key; proto 0 for IPv6 */
    uint8_t first_proto;   /* proto of the fragment at offset 0 */
    uint8_t nranges;       /* used entries of range[] */
    bool have_end;         /* a last fragment (MF/M = 0) was seen */
    bool dead;             /* tombstone: dropped, absorbs later fragments until the timeout */
    uint8_t src[16], dst[16];
    uint8_t hdr[TCPWM__REASM_HDR];
    uint32_t range[TCPWM__REASM_RANGES][2]; /* held [start, end), sorted, disjoint, not touching */
    uint8_t ctx[];         /* ctx_max bytes, ctx_len of them the context */
} dgram;

/* The first hash size, and the largest (a power of two >= max). */
#define FIRST_BUCKETS 1024u
#define MAX_BUCKETS (1u << 30)

static const char *const outcome_labels[] = {
#define TCPWM__REASM_OC_LABEL(name, label) label,
    TCPWM__REASM_OUTCOME_MAP(TCPWM__REASM_OC_LABEL)
#undef TCPWM__REASM_OC_LABEL
};

const char *tcpwm__reasm_outcome_label(int outcome)
{
    if (outcome < 0 || outcome >= TCPWM__REASM_OUTCOME_COUNT)
        return NULL;
    return outcome_labels[outcome];
}

static dgram *at(const tcpwm__reasm *r, uint32_t i) { return tcpwm__pool_at(&r->records, i); }

static uint32_t bucket_limit(uint32_t max)
{
    uint32_t n = 1;
    while (n < max && n < MAX_BUCKETS)
        n <<= 1;
    return n;
}

/* A record with room for ctx_max context bytes, 8-byte aligned. */
static size_t record_size(uint16_t ctx_max) { return (sizeof(dgram) + ctx_max + 7u) & ~(size_t)7u; }

int tcpwm__reasm_init(tcpwm__reasm *r, uint32_t max_datagrams, int64_t timeout_ns,
                      uint16_t ctx_max, uint64_t seed)
{
    memset(r, 0, sizeof(*r));
    if (max_datagrams == 0 || max_datagrams == TCPWM__NIL || timeout_ns <= 0)
        return TCPWM_EINVAL;
    r->buckets = NULL;
    r->max = max_datagrams;
    r->timeout_ns = timeout_ns;
    r->seed = seed;
    r->ctx_max = ctx_max;
    r->oldest = r->newest = TCPWM__NIL;
    tcpwm__pool_init(&r->records, record_size(ctx_max), max_datagrams);
    return 0;
}

void tcpwm__reasm_destroy(tcpwm__reasm *r)
{
    tcpwm__pool_destroy(&r->records);
    free(r->buckets);
    r->buckets = NULL;
    r->count = r->live = 0;
    r->oldest = r->newest = TCPWM__NIL;
}

size_t tcpwm__reasm_record_size(const tcpwm__reasm *r) { return record_size(r->ctx_max); }

size_t tcpwm__reasm_memory(const tcpwm__reasm *r)
{
    size_t b = r->buckets ? ((size_t)r->mask + 1) * sizeof(uint32_t) : 0;
    return tcpwm__pool_memory(&r->records) + b;
}

/* ---- Keys ------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

static uint64_t word(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

/* RFC 791 3.2: IPv4 fragments are told apart by protocol too. RFC 8200
 * 4.5: IPv6 fragments by addresses and identification only; their Next
 * Header values may differ, the offset-0 fragment's is the one. */
static uint8_t key_proto(const tcpwm__frag *f) { return f->family == 4 ? f->proto : 0; }

/* Seeded, so that a live sender cannot aim identifications at one chain. */
static uint32_t key_hash(const tcpwm__reasm *r, const tcpwm__frag *f)
{
    uint64_t h = r->seed ^ 0x9e3779b97f4a7c15ULL;
    for (size_t off = 0; off < 16; off += 8) {
        h = mix(h, word(f->src + off));
        h = mix(h, word(f->dst + off));
    }
    h = mix(h, (uint64_t)f->id | (uint64_t)f->family << 32 | (uint64_t)key_proto(f) << 40 |
                   (uint64_t)f->ctx_len << 48);
    for (size_t off = 0; off < f->ctx_len; off += 8) {
        uint8_t tail[8] = {0};
        size_t n = f->ctx_len - off < 8 ? f->ctx_len - off : 8;
        memcpy(tail, f->ctx + off, n);
        h = mix(h, word(tail));
    }
    h *= 0xc4ceb9fe1a85ec53ULL;
    return (uint32_t)(h ^ (h >> 33));
}

static bool same_key(const dgram *d, const tcpwm__frag *f)
{
    return d->id == f->id && d->family == f->family && d->proto == key_proto(f) &&
           d->ctx_len == f->ctx_len && memcmp(d->src, f->src, 16) == 0 &&
           memcmp(d->dst, f->dst, 16) == 0 &&
           (f->ctx_len == 0 || memcmp(d->ctx, f->ctx, f->ctx_len) == 0);
}

static uint32_t find(const tcpwm__reasm *r, const tcpwm__frag *f, uint32_t hash)
{
    for (uint32_t i = r->buckets[hash & r->mask]; i != TCPWM__NIL; i = at(r, i)->chain) {
        const dgram *d = at(r, i);
        if (d->hash == hash && same_key(d, f))
            return i;
    }
    return TCPWM__NIL;
}

/* ---- Records: the hash and the arrival list ---------------------------- */

/* A bucket array of n heads, every record of the arrival list in it. */
static bool rehash(tcpwm__reasm *r, uint32_t n)
{
    uint32_t *b = malloc((size_t)n * sizeof(*b));
    if (!b)
        return false;
    for (uint32_t k = 0; k < n; k++)
        b[k] = TCPWM__NIL;
    for (uint32_t i = r->oldest; i != TCPWM__NIL; i = at(r, i)->newer) {
        dgram *d = at(r, i);
        d->chain = b[d->hash & (n - 1)];
        b[d->hash & (n - 1)] = i;
    }
    free(r->buckets);
    r->buckets = b;
    r->mask = n - 1;
    return true;
}

/* Unlinks record i from its chain and the arrival list, and frees it. */
static void release(tcpwm__reasm *r, uint32_t i)
{
    dgram *d = at(r, i);
    uint32_t *p = &r->buckets[d->hash & r->mask];
    while (*p != i)
        p = &at(r, *p)->chain;
    *p = d->chain;
    if (d->older != TCPWM__NIL)
        at(r, d->older)->newer = d->newer;
    else
        r->oldest = d->newer;
    if (d->newer != TCPWM__NIL)
        at(r, d->newer)->older = d->older;
    else
        r->newest = d->older;
    if (!d->dead)
        r->live--;
    r->count--;
    tcpwm__pool_free(&r->records, i);
}

/* Ends record i's datagram with outcome oc; a tombstone ends quietly. */
static void end_datagram(tcpwm__reasm *r, uint32_t i, int oc)
{
    if (!at(r, i)->dead)
        r->counts.outcome[oc]++;
    release(r, i);
}

/* Drops the datagram of record i with outcome oc, leaving a tombstone. */
static void drop(tcpwm__reasm *r, uint32_t i, int oc)
{
    dgram *d = at(r, i);
    d->dead = true;
    r->live--;
    r->counts.outcome[oc]++;
}

static void expire_due(tcpwm__reasm *r)
{
    /* The arrival list is in first-fragment order, and first_ns never
     * decreases along it: stop at the first one still young enough. */
    while (r->oldest != TCPWM__NIL && r->now_ns - at(r, r->oldest)->first_ns > r->timeout_ns)
        end_datagram(r, r->oldest, TCPWM__REASM_TIMED_OUT);
}

static void advance(tcpwm__reasm *r, int64_t ts)
{
    if (ts > TCPWM_MAX_TIME_NS)
        ts = TCPWM_MAX_TIME_NS;
    if (ts > r->now_ns) /* now_ns starts at 0, the lowest time held */
        r->now_ns = ts;
}

void tcpwm__reasm_expire(tcpwm__reasm *r, int64_t now_ns)
{
    advance(r, now_ns);
    if (r->count != 0)
        expire_due(r);
}

/* A fresh record for f's key at the newest end of the arrival list, or
 * TCPWM__NIL when memory is short even after evicting everything. */
static uint32_t create(tcpwm__reasm *r, const tcpwm__frag *f, uint32_t hash)
{
    uint32_t i = tcpwm__pool_alloc(&r->records);
    while (i == TCPWM__NIL && r->oldest != TCPWM__NIL) {
        /* At the cap: the oldest makes room (Linux and Suricata evict the
         * oldest queues first too). */
        end_datagram(r, r->oldest, TCPWM__REASM_EVICTED);
        i = tcpwm__pool_alloc(&r->records);
    }
    if (i == TCPWM__NIL)
        return TCPWM__NIL;
    dgram *d = at(r, i);
    memset(d, 0, sizeof(*d)); /* the context bytes are copied below */
    d->hash = hash;
    d->first_ns = r->now_ns;
    d->id = f->id;
    d->family = f->family;
    d->proto = key_proto(f);
    d->ctx_len = f->ctx_len;
    memcpy(d->src, f->src, 16);
    memcpy(d->dst, f->dst, 16);
    if (f->ctx_len)
        memcpy(d->ctx, f->ctx, f->ctx_len);
    d->chain = r->buckets[hash & r->mask];
    r->buckets[hash & r->mask] = i;
    d->older = r->newest;
    d->newer = TCPWM__NIL;
    if (r->newest != TCPWM__NIL)
        at(r, r->newest)->newer = i;
    else
        r->oldest = i;
    r->newest = i;
    r->count++;
    r->live++;
    r->counts.started++;
    /* Load factor at most 1; a failed doubling only lengthens chains. */
    if (r->count > r->mask + 1 && r->mask + 1 < bucket_limit(r->max))
        (void)rehash(r, (r->mask + 1) * 2);
    return i;
}

/* ---- Ranges --------------------------------------------------------------- */

enum { DISJOINT, INSIDE, OVERLAP };

/* How [s, e) (non-empty) meets the held ranges. */
static int classify(const dgram *d, uint32_t s, uint32_t e)
{
    for (unsigned k = 0; k < d->nranges; k++) {
        uint32_t a = d->range[k][0], b = d->range[k][1];
        if (s >= a && e <= b)
            return INSIDE;
        if (s < b && a < e)
            return OVERLAP;
    }
    return DISJOINT;
}

/* Adds [s, e), disjoint from the held ranges, merging it with the ranges
 * it touches; false if that would take more than TCPWM__REASM_RANGES. */
static bool insert(dgram *d, uint32_t s, uint32_t e)
{
    unsigned n = d->nranges, k = 0;
    while (k < n && d->range[k][0] < s)
        k++;
    bool left = k > 0 && d->range[k - 1][1] == s;
    bool right = k < n && d->range[k][0] == e;
    if (left && right) {
        d->range[k - 1][1] = d->range[k][1];
        memmove(d->range[k], d->range[k + 1], (n - k - 1) * sizeof(d->range[0]));
        d->nranges--;
    } else if (left) {
        d->range[k - 1][1] = e;
    } else if (right) {
        d->range[k][0] = s;
    } else {
        if (n == TCPWM__REASM_RANGES)
            return false;
        memmove(d->range[k + 1], d->range[k], (n - k) * sizeof(d->range[0]));
        d->range[k][0] = s;
        d->range[k][1] = e;
        d->nranges++;
    }
    return true;
}

static bool complete(const dgram *d)
{
    if (!d->have_end)
        return false;
    if (d->end == 0)
        return d->nranges == 0;
    return d->nranges == 1 && d->range[0][0] == 0 && d->range[0][1] == d->end;
}

/* The captured header bytes of a fragment at [off, off + caplen). */
static void keep_header(dgram *d, uint32_t off, const uint8_t *data, uint32_t caplen)
{
    if (off >= TCPWM__REASM_HDR || data == NULL)
        return;
    uint32_t n = TCPWM__REASM_HDR - off < caplen ? TCPWM__REASM_HDR - off : caplen;
    memcpy(d->hdr + off, data, n);
    for (uint32_t k = off; k < off + n; k++)
        d->hdr_have |= UINT64_C(1) << k;
}

static void fill_out(const dgram *d, int64_t ts_ns, tcpwm__reasm_out *out)
{
    uint32_t lim = d->end < TCPWM__REASM_HDR ? d->end : TCPWM__REASM_HDR;
    uint32_t n = 0;
    while (n < lim && (d->hdr_have >> n & 1u))
        n++;
    memset(out->hdr, 0, sizeof(out->hdr));
    memcpy(out->hdr, d->hdr, n);
    out->hdr_caplen = n;
    out->total = d->end;
    out->ts_ns = ts_ns;
    out->proto = d->first_proto;
}

/* ---- Fragments -------------------------------------------------------------- */

static bool malformed(const tcpwm__reasm *r, const tcpwm__frag *f)
{
    if ((f->family != 4 && f->family != 6) || f->ctx_len > r->ctx_max)
        return true;
    if (f->offset % 8 != 0)
        return true; /* the header field counts 8-byte units */
    /* RFC 791 3.2 and RFC 8200 4.5: every fragment but the last carries a
     * multiple of 8 bytes; an empty one with more to follow says nothing. */
    return f->more && (f->len == 0 || f->len % 8 != 0);
}

tcpwm__reasm_status tcpwm__reasm_add(tcpwm__reasm *r, const tcpwm__frag *f,
                                     tcpwm__reasm_out *out)
{
    tcpwm__reasm_expire(r, f->ts_ns);
    if (malformed(r, f)) {
        r->counts.malformed++;
        return TCPWM__REASM_MALFORMED;
    }
    if (!r->buckets && !rehash(r, bucket_limit(r->max) < FIRST_BUCKETS ? bucket_limit(r->max)
                                                                       : FIRST_BUCKETS)) {
        /* No memory for even the hash: the datagram cannot be held. */
        r->counts.started++;
        r->counts.outcome[TCPWM__REASM_EVICTED]++;
        return TCPWM__REASM_DROPPED;
    }
    uint32_t hash = key_hash(r, f);
    uint32_t i = find(r, f, hash);
    if (i != TCPWM__NIL && at(r, i)->dead) {
        r->counts.discarded++;
        return TCPWM__REASM_DISCARDED;
    }
    if (i == TCPWM__NIL) {
        i = create(r, f, hash);
        if (i == TCPWM__NIL) {
            r->counts.started++;
            r->counts.outcome[TCPWM__REASM_EVICTED]++;
            return TCPWM__REASM_DROPPED;
        }
    }
    dgram *d = at(r, i);
    uint64_t e64 = (uint64_t)f->offset + f->len;

    /* RFC 791 3.1 (total length) and RFC 8200 4.5 (payload length): the
     * reassembled datagram cannot exceed 65535 bytes with its header. */
    if (e64 + f->hdr_len > TCPWM__REASM_MAX_LEN) {
        drop(r, i, TCPWM__REASM_TOO_LARGE);
        return TCPWM__REASM_DROPPED;
    }
    uint32_t s = f->offset, e = (uint32_t)e64;
    uint32_t held_end = d->nranges ? d->range[d->nranges - 1][1] : 0;
    /* Every fragment must agree on where the datagram ends: one last
     * fragment's end, no bytes beyond it (Linux drops such queues too). */
    if (f->more ? d->have_end && e > d->end
                : (d->have_end && e != d->end) || held_end > e) {
        drop(r, i, TCPWM__REASM_INCONSISTENT);
        return TCPWM__REASM_DROPPED;
    }
    bool dup;
    if (s == e) {
        dup = d->have_end; /* an empty last fragment: new only if it tells the end */
        if (s == 0 && !dup)
            d->first_proto = f->proto;
    } else {
        int how = classify(d, s, e);
        if (how == OVERLAP) {
            /* RFC 5722, RFC 8200 4.5: the whole datagram is discarded. */
            drop(r, i, TCPWM__REASM_OVERLAPPING);
            return TCPWM__REASM_DROPPED;
        }
        dup = how == INSIDE;
        if (!dup) {
            if (!insert(d, s, e)) {
                drop(r, i, TCPWM__REASM_TOO_MANY_RANGES);
                return TCPWM__REASM_DROPPED;
            }
            keep_header(d, s, f->data, f->caplen < f->len ? f->caplen : f->len);
            if (s == 0)
                d->first_proto = f->proto;
        }
    }
    if (!f->more && !d->have_end) {
        /* A duplicate's bytes add nothing, but its end is news. */
        d->have_end = true;
        d->end = e;
    }
    if (complete(d)) {
        fill_out(d, f->ts_ns, out);
        end_datagram(r, i, TCPWM__REASM_REASSEMBLED);
        return TCPWM__REASM_COMPLETE;
    }
    if (dup) {
        r->counts.duplicate++;
        return TCPWM__REASM_DUPLICATE;
    }
    return TCPWM__REASM_HELD;
}
