/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for IP fragment reassembly (core/src/reasm.c): an
 * arbitrary sequence of fragments over 16 keys, each one also applied to
 * a naive model that keeps every datagram as a 65536-bit map of held
 * bytes and states the rules of docs/semantics.md ("IP fragment
 * reassembly") directly on bytes. After every fragment the module must
 * agree with the model: the status, the complete datagram (length, header
 * bytes, captured prefix), every counter, how many datagrams are held,
 * and memory within its documented bound. Any difference aborts.
 *
 * Input format:
 *   byte 0   configuration:
 *              bits 0-1  max_datagrams  16, 1, 2, 5
 *              bit  2    timeout 30 s instead of 1 s
 *   then records of 8 bytes:
 *     b0     bits 0-1 identification, bit 2 context (none / 2 bytes),
 *            bit 3 family (4 / 6): the 16 keys; bit 4 more fragments;
 *            bits 5-7 IPv6 only: Next Header 6 + the value (not part of
 *            an IPv6 key, RFC 8200 4.5; IPv4 fragments are all TCP here)
 *     b1-b2  fragment offset: with b2's top bit clear, b1 * 8 (a small
 *            grid, so that fragments touch and overlap often); else
 *            (b1 | (b2 & 0x1f) << 8) * 8, up to 8191 * 8 = 65528, the
 *            largest the header can say, plus 1 if b2 & 0x40 (malformed)
 *     b3-b4  length per the IP header: with b4's top bit clear, b3 * 8 +
 *            (b4 & 7); else b3 | (b4 & 0x7f) << 8
 *     b5     bits 0-6 captured bytes (at most the length), bit 7 which
 *            contents (two versions of every byte, to see which is kept)
 *     b6     time step, int8 in 100 ms units (negative: time goes back);
 *            -128 jumps to INT64_MIN and 127 to INT64_MAX
 *     b7     hdr_len (the IP header bytes the 65535 limit counts) */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"
#include "tcpwm/monitor.h"

#define NKEYS 16
#define STEP_NS 100000000LL
#define T0_NS 1700000000000000000LL

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_reasm: %s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The model's loops are not what the fuzzer should steer by. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize_coverage)
#define MODEL __attribute__((no_sanitize_coverage))
#endif
#endif
#ifndef MODEL
#define MODEL
#endif

/* One key's datagram in the model. */
typedef struct model_dg {
    bool exists, dead;
    uint64_t seq;     /* creation order: eviction takes the lowest */
    int64_t first_ns;
    bool have_end;
    uint32_t end;
    uint32_t hi;      /* one past the highest held byte, 0 if none */
    uint8_t proto;    /* of the fragment at offset 0 */
    uint8_t held[65536 / 8];
    uint8_t hdr[TCPWM__REASM_HDR];
    bool hdr_have[TCPWM__REASM_HDR];
} model_dg;

typedef struct model {
    model_dg dg[NKEYS];
    uint32_t max;
    int64_t timeout_ns, now_ns;
    uint64_t seq;
    tcpwm__reasm_counts counts;
} model;

static model M;

static bool held(const model_dg *d, uint32_t p) { return ((unsigned)d->held[p >> 3] >> (p & 7)) & 1u; }

static uint32_t count_live(bool dead_too)
{
    uint32_t n = 0;
    for (int k = 0; k < NKEYS; k++)
        n += M.dg[k].exists && (dead_too || !M.dg[k].dead);
    return n;
}

static void model_remove(int k, int outcome)
{
    if (!M.dg[k].dead)
        M.counts.outcome[outcome]++;
    memset(&M.dg[k], 0, sizeof(M.dg[k]));
}

static void model_kill(model_dg *d, int outcome)
{
    d->dead = true;
    M.counts.outcome[outcome]++;
}

/* The runs of held bytes: what the module keeps as ranges. */
MODEL static unsigned runs(const model_dg *d)
{
    unsigned n = 0;
    unsigned carry = 0; /* the previous byte's top bit */
    for (size_t i = 0; i < sizeof(d->held); i++) {
        unsigned x = d->held[i];
        unsigned starts = x & ~((x << 1 | carry) & 0xffu);
        for (; starts; starts &= starts - 1)
            n++;
        carry = x >> 7;
    }
    return n;
}

/* How many bytes of [s, e) are held: whole bytes of the map at once. */
MODEL static uint32_t count_held(const model_dg *d, uint32_t s, uint32_t e)
{
    uint32_t n = 0, p = s;
    for (; p < e && (p & 7); p++)
        n += held(d, p);
    for (; p + 8 <= e; p += 8)
        n += (uint32_t)__builtin_popcount(d->held[p >> 3]);
    for (; p < e; p++)
        n += held(d, p);
    return n;
}

MODEL static void set_range(model_dg *d, uint32_t s, uint32_t e, bool on)
{
    uint32_t p = s;
    for (; p < e && (p & 7); p++) {
        uint8_t bit = (uint8_t)(1u << (p & 7));
        d->held[p >> 3] = (uint8_t)(on ? d->held[p >> 3] | bit : d->held[p >> 3] & ~bit);
    }
    if (p + 8 <= e) {
        memset(d->held + (p >> 3), on ? 0xff : 0, (e - p) >> 3);
        p += (e - p) & ~7u;
    }
    for (; p < e; p++) {
        uint8_t bit = (uint8_t)(1u << (p & 7));
        d->held[p >> 3] = (uint8_t)(on ? d->held[p >> 3] | bit : d->held[p >> 3] & ~bit);
    }
}

static tcpwm__reasm_status model_add(int k, const tcpwm__frag *f, tcpwm__reasm_out *out)
{
    int64_t ts = f->ts_ns > TCPWM_MAX_TIME_NS ? TCPWM_MAX_TIME_NS : f->ts_ns;
    if (ts > M.now_ns)
        M.now_ns = ts;
    for (int j = 0; j < NKEYS; j++)
        if (M.dg[j].exists && M.now_ns - M.dg[j].first_ns > M.timeout_ns)
            model_remove(j, TCPWM__REASM_TIMED_OUT);
    if (f->offset % 8 != 0 || (f->more && (f->len == 0 || f->len % 8 != 0))) {
        M.counts.malformed++;
        return TCPWM__REASM_MALFORMED;
    }
    model_dg *d = &M.dg[k];
    if (d->exists && d->dead) {
        M.counts.discarded++;
        return TCPWM__REASM_DISCARDED;
    }
    if (!d->exists) {
        if (count_live(true) == M.max) {
            int old = -1;
            for (int j = 0; j < NKEYS; j++)
                if (M.dg[j].exists && (old < 0 || M.dg[j].seq < M.dg[old].seq))
                    old = j;
            model_remove(old, TCPWM__REASM_EVICTED);
        }
        d->exists = true;
        d->seq = M.seq++;
        d->first_ns = M.now_ns;
        M.counts.started++;
    }
    uint64_t e = (uint64_t)f->offset + f->len;
    if (e + f->hdr_len > 65535) {
        model_kill(d, TCPWM__REASM_TOO_LARGE);
        return TCPWM__REASM_DROPPED;
    }
    uint32_t s = f->offset, en = (uint32_t)e; /* at most 65535 now */
    bool bad_end = f->more ? d->have_end && e > d->end
                           : (d->have_end && e != d->end) || d->hi > e;
    if (bad_end) {
        model_kill(d, TCPWM__REASM_INCONSISTENT);
        return TCPWM__REASM_DROPPED;
    }
    bool dup;
    if (s == e) {
        dup = d->have_end;
        if (s == 0 && !dup)
            d->proto = f->proto;
    } else {
        uint32_t n = count_held(d, s, en);
        if (n != 0 && n != e - s) {
            model_kill(d, TCPWM__REASM_OVERLAPPING);
            return TCPWM__REASM_DROPPED;
        }
        dup = n != 0;
        if (!dup) {
            set_range(d, s, en, true);
            if (runs(d) > TCPWM__REASM_RANGES) {
                set_range(d, s, en, false); /* none of them was held */
                model_kill(d, TCPWM__REASM_TOO_MANY_RANGES);
                return TCPWM__REASM_DROPPED;
            }
            if (en > d->hi)
                d->hi = en;
            if (s == 0)
                d->proto = f->proto;
            uint32_t cap = f->caplen < f->len ? f->caplen : f->len;
            for (uint32_t p = s; p < s + cap && p < TCPWM__REASM_HDR; p++) {
                d->hdr[p] = f->data[p - s];
                d->hdr_have[p] = true;
            }
        }
    }
    if (!f->more && !d->have_end) {
        d->have_end = true;
        d->end = (uint32_t)e;
    }
    if (d->have_end) {
        if (count_held(d, 0, d->end) == d->end) {
            memset(out, 0, sizeof(*out));
            out->total = d->end;
            out->ts_ns = f->ts_ns;
            out->proto = d->proto;
            uint32_t n = 0;
            while (n < d->end && n < TCPWM__REASM_HDR && d->hdr_have[n])
                n++;
            out->hdr_caplen = n;
            memcpy(out->hdr, d->hdr, n);
            model_remove(k, TCPWM__REASM_REASSEMBLED);
            return TCPWM__REASM_COMPLETE;
        }
    }
    if (dup) {
        M.counts.duplicate++;
        return TCPWM__REASM_DUPLICATE;
    }
    return TCPWM__REASM_HELD;
}

static uint8_t content[2][65536 + 256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static bool once;
    if (!once) {
        for (size_t v = 0; v < 2; v++)
            for (size_t p = 0; p < sizeof(content[0]); p++)
                content[v][p] = (uint8_t)(p * 7 + v * 101 + 3);
        once = true;
    }
    static const uint32_t caps[4] = {16, 1, 2, 5};
    uint32_t max = caps[data[0] & 3u];
    int64_t timeout = data[0] & 4u ? 30 * 1000000000LL : 1000000000LL;

    tcpwm__reasm r;
    REQUIRE(tcpwm__reasm_init(&r, max, timeout, 2, 0x1234) == 0);
    memset(&M, 0, sizeof(M));
    M.max = max;
    M.timeout_ns = timeout;

    static const uint8_t ctx_bytes[2] = {0x81, 0x07};
    int64_t now = T0_NS;
    for (size_t at = 1; at + 8 <= size; at += 8) {
        const uint8_t *b = data + at;
        int k = b[0] & 15;
        tcpwm__frag f;
        memset(&f, 0, sizeof(f));
        f.id = (uint32_t)(b[0] & 3u) * 0x10001u;
        f.ctx = b[0] & 4u ? ctx_bytes : NULL;
        f.ctx_len = b[0] & 4u ? 2 : 0;
        f.family = b[0] & 8u ? 6 : 4;
        f.more = (b[0] & 16u) != 0;
        f.proto = (uint8_t)(f.family == 6 ? 6 + (b[0] >> 5) : 6);
        f.src[0] = 10, f.dst[0] = 10, f.dst[3] = 2;
        if (b[2] & 0x80u)
            f.offset = (uint32_t)(b[1] | (b[2] & 0x1f) << 8) * 8 + (b[2] & 0x40u ? 1u : 0u);
        else
            f.offset = (uint32_t)b[1] * 8;
        if (b[4] & 0x80u)
            f.len = (uint32_t)(b[3] | (b[4] & 0x7f) << 8);
        else
            f.len = (uint32_t)b[3] * 8 + (b[4] & 7u);
        f.caplen = b[5] & 0x7fu;
        f.data = content[b[5] >> 7] + (f.offset & 0xffffu);
        int8_t step = (int8_t)b[6];
        if (step == -128)
            now = INT64_MIN;
        else if (step == 127)
            now = INT64_MAX;
        else if (now > INT64_MIN / 2 && now < INT64_MAX / 2)
            now += step * STEP_NS;
        else
            now = T0_NS + step * STEP_NS;
        f.ts_ns = now;
        f.hdr_len = b[7];

        tcpwm__reasm_out got, want;
        memset(&got, 0xa5, sizeof(got));
        tcpwm__reasm_status st = tcpwm__reasm_add(&r, &f, &got);
        tcpwm__reasm_status ex = model_add(k, &f, &want);
        if (st != ex)
            fprintf(stderr, "fuzz_reasm: record %zu: status %d, model %d\n", (at - 1) / 8,
                    (int)st, (int)ex);
        REQUIRE(st == ex);
        if (st == TCPWM__REASM_COMPLETE) {
            REQUIRE(got.total == want.total);
            REQUIRE(got.hdr_caplen == want.hdr_caplen);
            REQUIRE(got.ts_ns == want.ts_ns);
            REQUIRE(got.proto == want.proto);
            REQUIRE(memcmp(got.hdr, want.hdr, sizeof(got.hdr)) == 0);
            REQUIRE(got.total + f.hdr_len <= 65535);
        }
        REQUIRE(memcmp(&r.counts, &M.counts, sizeof(M.counts)) == 0);
        REQUIRE(r.count == count_live(true));
        REQUIRE(r.live == count_live(false));
        REQUIRE(r.count <= max);
        uint64_t sum = r.live;
        for (int o = 0; o < TCPWM__REASM_OUTCOME_COUNT; o++)
            sum += r.counts.outcome[o];
        REQUIRE(sum == r.counts.started);
        /* tcpwm__reasm_memory's bound: one chunk of 1024 records (max is
         * below 1024 here) and at most 2 * max buckets. */
        REQUIRE(tcpwm__reasm_memory(&r) <=
                1024 * tcpwm__reasm_record_size(&r) + sizeof(void *) + 2 * max * sizeof(uint32_t));
    }
    tcpwm__reasm_destroy(&r);
    return 0;
}
