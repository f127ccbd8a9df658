/* SPDX-License-Identifier: MIT */
#include "table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwm/err.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The index starts at 64 lines (768 slots) and doubles with the flow
 * count (see grow()): sized for the cap up front, a busy table's index
 * would be spread over megabytes and miss the cache on every lookup. */
#define MIN_BUCKETS 64u
/* At most 9 flows per line on average (3/4 of the slots) before the index
 * doubles; at the cap the index stops growing with 9 or fewer, which is
 * 64 / 9 = 7.1 to 14.2 bytes a flow (8.4 at the default cap of 2^20). */
#define FLOWS_PER_BUCKET 9u

/* n empty buckets. An index of 2 MiB or more (from 32,768 lines, some
 * 150,000 flows) is read at random like the records, so it gets a range
 * of its own on huge pages where it can (region.h; *r says which). */
static tcpwm__bucket *new_buckets(uint32_t n, tcpwm__region *r)
{
    size_t size = (size_t)n * sizeof(tcpwm__bucket);
    if (size >= ((size_t)2 << 20) && tcpwm__region_reserve(r, size, false))
        return (tcpwm__bucket *)(void *)r->base; /* zero until written */
    tcpwm__bucket *b = aligned_alloc(64, size);
    if (b)
        memset(b, 0, size);
    return b;
}

static void free_buckets(tcpwm__bucket *b, tcpwm__region *r)
{
    if (r->base != NULL)
        tcpwm__region_release(r);
    else
        free(b);
}

int tcpwm__table_init(tcpwm__table *t, uint32_t max_flows, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    if (max_flows == 0 || max_flows > (1u << 30))
        return TCPWM_EINVAL;
    uint32_t n = 1;
    while ((uint64_t)n * FLOWS_PER_BUCKET < max_flows && n < MIN_BUCKETS)
        n <<= 1;
    t->buckets = new_buckets(n, &t->bregion);
    if (!t->buckets)
        return TCPWM_ENOMEM;
    t->mask = n - 1;
    tcpwm__pool_init(&t->flows, sizeof(tcpwm__flow), max_flows);
    tcpwm__pool_init(&t->links, sizeof(tcpwm__links), max_flows);
    /* Both read at random for every packet: on huge pages where we can. */
    (void)tcpwm__pool_reserve(&t->flows);
    (void)tcpwm__pool_reserve(&t->links);
    t->max = max_flows;
    t->seed = seed;
    t->open.head = t->open.tail = TCPWM__NIL;
    t->closed.head = t->closed.tail = TCPWM__NIL;
    return TCPWM_OK;
}

void tcpwm__table_destroy(tcpwm__table *t)
{
    tcpwm__pool_destroy(&t->flows);
    tcpwm__pool_destroy(&t->links);
    free_buckets(t->buckets, &t->bregion);
    memset(t, 0, sizeof(*t));
}

size_t tcpwm__table_memory(const tcpwm__table *t)
{
    return ((size_t)t->mask + 1) * sizeof(tcpwm__bucket) + tcpwm__pool_memory(&t->flows) +
           tcpwm__pool_memory(&t->links);
}

/* The first eight bytes at p as a big-endian number: comparing two of
 * these orders them as memcmp() orders the bytes. */
static uint64_t load_be64(const uint8_t *p)
{
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
           (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
           (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/* 1 if endpoint (a, pa) orders after (b, pb): the addresses as memcmp()
 * would, eight bytes at a time, then the ports. Both directions of a
 * connection share a key by putting the lower endpoint first. Computed
 * without branches: which endpoint is lower is a coin toss per packet, and
 * a mispredicted branch here cost more than the comparisons themselves
 * (2.5% of the benchmark's replay time). */
static unsigned endpoint_after(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
    uint64_t a0 = load_be64(a), a1 = load_be64(a + 8);
    uint64_t b0 = load_be64(b), b1 = load_be64(b + 8);
    unsigned after_port = pa > pb;
    unsigned after_low = (a1 > b1) | ((a1 == b1) & after_port);
    return (a0 > b0) | ((a0 == b0) & after_low);
}

/* The seeded 64-bit mix behind key_hash (the murmur3 finalizer per word)
 * over the key's five 8-byte words and its last 4 bytes, as loaded from
 * memory. Seeded so that a live attacker cannot aim 4-tuples at one
 * chain. */
static uint64_t mix_word(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ h >> 33;
}

static uint32_t mix_words(uint64_t seed, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3,
                          uint64_t w4, uint32_t tail)
{
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ULL;
    h = mix_word(mix_word(mix_word(mix_word(mix_word(h, w0), w1), w2), w3), w4);
    h ^= tail;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return (uint32_t)h;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static void store64(uint8_t *p, uint64_t w) { memcpy(p, &w, sizeof w); }

_Static_assert(sizeof(tcpwm__key) == 44 && offsetof(tcpwm__key, port) == 32 &&
                   offsetof(tcpwm__key, vlan) == 36 && offsetof(tcpwm__key, family) == 40 &&
                   offsetof(tcpwm__key, vlan_count) == 41 && offsetof(tcpwm__key, encap) == 42,
               "key_hash reads five words and a 4-byte tail; tcpwm__key_make packs them");

static uint32_t key_hash(const tcpwm__key *k, uint64_t seed)
{
    const uint8_t *b = (const uint8_t *)k;
    uint32_t tail;
    memcpy(&tail, &k->family, sizeof tail);
    return mix_words(seed, load64(b), load64(b + 8), load64(b + 16), load64(b + 24),
                     load64(b + 32), tail);
}

/* The bytes of ports and VLAN IDs (port[0], port[1], vlan[0], vlan[1]),
 * and of family, vlan_count and encap, as the host stores those fields:
 * what key_hash loads from offsets 32 and 40. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PACK4X16(a, b, c, d) \
    ((uint64_t)(a) << 48 | (uint64_t)(b) << 32 | (uint64_t)(c) << 16 | (uint64_t)(d))
#define PACK8_8_16(a, b, c) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c))
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PACK4X16(a, b, c, d) \
    ((uint64_t)(a) | (uint64_t)(b) << 16 | (uint64_t)(c) << 32 | (uint64_t)(d) << 48)
#define PACK8_8_16(a, b, c) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16)
#else
#error "tcpwm__key_make needs the byte order (__BYTE_ORDER__)"
#endif

/* The key is written as five 8-byte stores and a 4-byte one, and hashed
 * from the values in registers, not read back. In the replay the hash
 * comes right after the key is made, and a load wider than the stores it
 * reads (8 bytes over four 2-byte ports and VLAN IDs) cannot take its
 * value from them: it waits until they reach the cache (the profile put
 * 14% of the replay loop's samples there, bench/RESULTS.md). */
uint32_t tcpwm__key_make(const tcpwm__table *t, const tcpwm_segment *s, uint16_t encap, void *key,
                         uint8_t *side)
{
    unsigned src = endpoint_after(s->src, s->sport, s->dst, s->dport);
    const uint8_t *a0 = src ? s->dst : s->src, *a1 = src ? s->src : s->dst;
    uint16_t p0 = src ? s->dport : s->sport, p1 = src ? s->sport : s->dport;
    uint64_t w0 = load64(a0), w1 = load64(a0 + 8), w2 = load64(a1), w3 = load64(a1 + 8);
    uint64_t w4 = PACK4X16(p0, p1, s->vlan[0], s->vlan[1]);
    uint32_t tail = PACK8_8_16(s->family, s->vlan_count, encap);
    uint8_t *k = key;

    store64(k, w0);
    store64(k + 8, w1);
    store64(k + 16, w2);
    store64(k + 24, w3);
    store64(k + 32, w4);
    memcpy(k + offsetof(tcpwm__key, family), &tail, sizeof tail);
    *side = (uint8_t)src;
    return mix_words(t->seed, w0, w1, w2, w3, w4, tail);
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

uint32_t tcpwm__key_hash(const tcpwm__table *t, const tcpwm__key *k)
{
    return key_hash(k, t->seed);
}

void tcpwm__table_prefetch_bucket(const tcpwm__table *t, uint32_t hash)
{
    PREFETCH(&t->buckets[hash & t->mask]);
}

/* A slot's tag: the hash's top byte, never 0 (the empty slot's). The
 * bucket comes from the low bits, so the two are independent up to 2^24
 * buckets. */
static uint8_t tag_of(uint32_t hash)
{
    uint8_t tag = (uint8_t)(hash >> 24);
    return tag ? tag : 1;
}

/* The slots of b whose tag is `tag`, one bit per slot (bit j: slot j). */
#if defined(__SSE2__)
static uint32_t slots_with(const tcpwm__bucket *b, uint8_t tag)
{
    /* The 12 tags and the spill count are the line's first 16 bytes. */
    __m128i line = _mm_load_si128((const __m128i *)(const void *)b->tag);
    __m128i eq = _mm_cmpeq_epi8(line, _mm_set1_epi8((char)tag));
    return (uint32_t)_mm_movemask_epi8(eq) & ((1u << TCPWM__BUCKET_SLOTS) - 1u);
}
#else
#define BYTES_01 0x0101010101010101ULL
#define BYTES_7F 0x7f7f7f7f7f7f7f7fULL

/* Bit 8j+7 set where byte j of w equals `tag` (exact: no borrow runs
 * from one byte into the next). */
static uint64_t bytes_equal(uint64_t w, uint8_t tag)
{
    uint64_t x = w ^ (BYTES_01 * tag);
    return ~(((x & BYTES_7F) + BYTES_7F) | x | BYTES_7F);
}

static uint32_t slots_with(const tcpwm__bucket *b, uint8_t tag)
{
    uint64_t lo;
    uint32_t hi;
    memcpy(&lo, b->tag, 8);
    memcpy(&hi, b->tag + 8, 4);
    /* One bit per byte at bit 8j; the multiplication gathers bit 8j into
     * bit 56 + j with no carries (each partial product lands on its own
     * bit), so the top byte holds the eight flags in slot order. */
    uint64_t m_lo = bytes_equal(lo, tag) >> 7, m_hi = (bytes_equal(hi, tag) & 0x80808080u) >> 7;
    const uint64_t gather = 0x0102040810204080ULL;
    return (uint32_t)((m_lo * gather) >> 56) | (uint32_t)((m_hi * gather) >> 56) << 8;
}
#endif

static unsigned lowest_slot(uint32_t slots)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctz(slots);
#else
    unsigned j = 0;
    while (!(slots & 1u)) {
        slots >>= 1;
        j++;
    }
    return j;
#endif
}

/* The furthest into a cache line a record can start: records sit
 * sizeof(tcpwm__flow) apart from a line boundary, so at multiples of the
 * largest power of two (up to 64) that divides their size. */
#define RECORD_ALIGN (sizeof(tcpwm__flow) & (~sizeof(tcpwm__flow) + 1u))
#define RECORD_MAX_START (RECORD_ALIGN >= 64 ? 0u : 64u - RECORD_ALIGN)

uint32_t tcpwm__table_prefetch_flow(const tcpwm__table *t, uint32_t hash)
{
    const tcpwm__bucket *b = &t->buckets[hash & t->mask];
    uint32_t slots = slots_with(b, tag_of(hash));
    if (!slots)
        return TCPWM__NIL;
    /* The whole record: key, both halves, stats (flow.h). Records are
     * not aligned to lines, but their chunks are (pool.h), so a record
     * starts a multiple of gcd(size, 64) into a line: 144-byte records,
     * at 0, 16, 32 or 48, end on their third line. A size that could
     * reach a fourth line fetches its last byte too. */
    uint32_t i = b->flow[lowest_slot(slots)];
    const char *f = (const char *)tcpwm__table_at(t, i);
    PREFETCH(f);
    PREFETCH(f + 64);
    PREFETCH(f + 128);
    if (RECORD_MAX_START + sizeof(tcpwm__flow) > 192)
        PREFETCH(f + sizeof(tcpwm__flow) - 1);
    return i;
}

/* Keys compare as plain bytes (their padding is zeroed), a word at a
 * time: libc's memcmp is a call, and most lookups compare one key. */
static bool key_equal(const tcpwm__key *a, const tcpwm__key *b)
{
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    uint64_t diff = 0;
    size_t off = 0;
    for (; off + 8 <= sizeof(*a); off += 8) {
        uint64_t u, v;
        memcpy(&u, x + off, 8);
        memcpy(&v, y + off, 8);
        diff |= u ^ v;
    }
    for (; off + 4 <= sizeof(*a); off += 4) {
        uint32_t u, v;
        memcpy(&u, x + off, 4);
        memcpy(&v, y + off, 4);
        diff |= u ^ v;
    }
    for (; off < sizeof(*a); off++)
        diff |= (uint64_t)(x[off] ^ y[off]);
    return diff == 0;
}

uint32_t tcpwm__table_find(const tcpwm__table *t, const tcpwm__key *k, uint32_t hash)
{
    uint8_t tag = tag_of(hash);
    for (uint32_t bi = hash & t->mask;; bi = (bi + 1) & t->mask) {
        const tcpwm__bucket *b = &t->buckets[bi];
        for (uint32_t slots = slots_with(b, tag); slots; slots &= slots - 1) {
            uint32_t i = b->flow[lowest_slot(slots)];
            if (key_equal(&tcpwm__table_at(t, i)->key, k))
                return i;
        }
        if (b->spill == 0) /* nothing with this home went further */
            return TCPWM__NIL;
    }
}

static tcpwm__list *list_of(tcpwm__table *t, const tcpwm__flow *f)
{
    return f->closed ? &t->closed : &t->open;
}

static tcpwm__links *links_at(const tcpwm__table *t, uint32_t i)
{
    return (tcpwm__links *)tcpwm__pool_at(&t->links, i);
}

static void list_unlink(tcpwm__table *t, tcpwm__list *l, uint32_t i)
{
    tcpwm__links *f = links_at(t, i);
    if (f->prev != TCPWM__NIL)
        links_at(t, f->prev)->next = f->next;
    else
        l->head = f->next;
    if (f->next != TCPWM__NIL)
        links_at(t, f->next)->prev = f->prev;
    else
        l->tail = f->prev;
}

static void list_push_head(tcpwm__table *t, tcpwm__list *l, uint32_t i)
{
    tcpwm__links *f = links_at(t, i);
    f->prev = TCPWM__NIL;
    f->next = l->head;
    if (l->head != TCPWM__NIL)
        links_at(t, l->head)->prev = i;
    else
        l->tail = i;
    l->head = i;
}

/* Puts flow i (hash `hash`) in the first bucket from its home with a free
 * slot, counting the spill of each full bucket it passes. The caller
 * keeps the index below 12 flows a line, so one exists. */
static void index_put(tcpwm__bucket *buckets, uint32_t mask, uint32_t hash, uint32_t i)
{
    for (uint32_t bi = hash & mask;; bi = (bi + 1) & mask) {
        tcpwm__bucket *b = &buckets[bi];
        uint32_t free_slots = slots_with(b, 0);
        if (free_slots) {
            unsigned j = lowest_slot(free_slots);
            b->tag[j] = tag_of(hash);
            b->flow[j] = i;
            return;
        }
        b->spill++;
    }
}

static void rehash_list(tcpwm__table *t, tcpwm__bucket *buckets, uint32_t mask, uint32_t i)
{
    for (; i != TCPWM__NIL; i = links_at(t, i)->next)
        index_put(buckets, mask, key_hash(&tcpwm__table_at(t, i)->key, t->seed), i);
}

/* Doubles the index once the flows reach 9 a line (FLOWS_PER_BUCKET),
 * until the cap fits at that load. At 9 of 12 slots a line rarely spills
 * into the next, so a lookup reads one line; the spill counts keep a miss
 * from probing past lines that nothing passed. Amortized O(1) per new
 * flow; if memory is short the index keeps filling (longer probes) up to
 * 11 flows a line, then refuses new flows. Never past 2^26 lines. */
static void grow(tcpwm__table *t)
{
    uint64_t n = (uint64_t)t->mask + 1;
    if (t->count < n * FLOWS_PER_BUCKET || n * FLOWS_PER_BUCKET >= t->max || n >= (1u << 26))
        return;
    tcpwm__region r = {NULL, 0};
    tcpwm__bucket *buckets = new_buckets((uint32_t)n * 2, &r);
    if (!buckets)
        return;
    uint32_t mask = (uint32_t)n * 2 - 1;
    rehash_list(t, buckets, mask, t->open.head);
    rehash_list(t, buckets, mask, t->closed.head);
    free_buckets(t->buckets, &t->bregion);
    t->buckets = buckets;
    t->bregion = r;
    t->mask = mask;
}

uint32_t tcpwm__table_insert(tcpwm__table *t, const tcpwm__key *k)
{
    grow(t);
    if ((uint64_t)t->count >= ((uint64_t)t->mask + 1) * (TCPWM__BUCKET_SLOTS - 1))
        return TCPWM__NIL; /* the index could not grow */
    uint32_t i = tcpwm__pool_alloc(&t->flows);
    if (i == TCPWM__NIL)
        return TCPWM__NIL;
    /* The links' pool never frees, so it carves index after index, in
     * step with the flows' pool, which carves a new index only when it
     * has none to recycle. */
    if (i == t->links.made && tcpwm__pool_alloc(&t->links) == TCPWM__NIL) {
        tcpwm__pool_free(&t->flows, i);
        return TCPWM__NIL;
    }
    tcpwm__flow *f = tcpwm__table_at(t, i);
    memset(f, 0, sizeof(*f));
    f->key = *k;
    f->half[0].hole_head = TCPWM__NIL;
    f->half[1].hole_head = TCPWM__NIL;
    index_put(t->buckets, t->mask, key_hash(k, t->seed), i);
    list_push_head(t, &t->open, i);
    t->count++;
    return i;
}

void tcpwm__table_remove(tcpwm__table *t, uint32_t i)
{
    tcpwm__flow *f = tcpwm__table_at(t, i);
    list_unlink(t, list_of(t, f), i);
    uint32_t hash = key_hash(&f->key, t->seed);
    uint8_t tag = tag_of(hash);
    for (uint32_t bi = hash & t->mask;; bi = (bi + 1) & t->mask) {
        tcpwm__bucket *b = &t->buckets[bi];
        for (uint32_t slots = slots_with(b, tag); slots; slots &= slots - 1) {
            unsigned j = lowest_slot(slots);
            if (b->flow[j] == i) {
                b->tag[j] = 0;
                tcpwm__pool_free(&t->flows, i);
                t->count--;
                return;
            }
        }
        b->spill--; /* flow i's probe passed this bucket */
    }
}

void tcpwm__table_touch(tcpwm__table *t, uint32_t i)
{
    tcpwm__list *l = list_of(t, tcpwm__table_at(t, i));
    if (l->head == i)
        return;
    list_unlink(t, l, i);
    list_push_head(t, l, i);
}

void tcpwm__table_move_closed(tcpwm__table *t, uint32_t i)
{
    list_unlink(t, &t->open, i);
    list_push_head(t, &t->closed, i);
}
