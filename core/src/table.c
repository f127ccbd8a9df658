/* SPDX-License-Identifier: MIT */
#include "table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwm/err.h"

#define MIN_BUCKETS 1024u

int tcpwm__table_init(tcpwm__table *t, uint32_t max_flows, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    if (max_flows == 0 || max_flows > (1u << 30))
        return TCPWM_EINVAL;
    /* The bucket array starts small and doubles with the flow count (see
     * grow()): sized for the cap up front, a busy table's buckets would be
     * spread over megabytes and miss the cache on every lookup. */
    uint32_t n = 1;
    while (n < max_flows && n < MIN_BUCKETS)
        n <<= 1;
    t->buckets = malloc((size_t)n * sizeof(uint32_t));
    if (!t->buckets)
        return TCPWM_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        t->buckets[i] = TCPWM__NIL;
    t->mask = n - 1;
    tcpwm__pool_init(&t->flows, sizeof(tcpwm__flow), max_flows);
    t->max = max_flows;
    t->seed = seed;
    t->open.head = t->open.tail = TCPWM__NIL;
    t->closed.head = t->closed.tail = TCPWM__NIL;
    return TCPWM_OK;
}

void tcpwm__table_destroy(tcpwm__table *t)
{
    tcpwm__pool_destroy(&t->flows);
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

size_t tcpwm__table_memory(const tcpwm__table *t)
{
    return ((size_t)t->mask + 1) * sizeof(uint32_t) + tcpwm__pool_memory(&t->flows);
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

void tcpwm__key_make(const tcpwm_segment *s, uint16_t encap, tcpwm__key *k, uint8_t *side)
{
    memset(k, 0, sizeof(*k));
    unsigned src = endpoint_after(s->src, s->sport, s->dst, s->dport);
    memcpy(k->addr[src], s->src, 16);
    memcpy(k->addr[src ^ 1], s->dst, 16);
    k->port[src] = s->sport;
    k->port[src ^ 1] = s->dport;
    k->vlan[0] = s->vlan[0];
    k->vlan[1] = s->vlan[1];
    k->vlan_count = s->vlan_count;
    k->family = s->family;
    k->encap = encap;
    *side = (uint8_t)src;
}

/* A seeded 64-bit mix over the key's bytes (the murmur3 finalizer per
 * word). Seeded so that a live attacker cannot aim 4-tuples at one chain. */
static uint32_t key_hash(const tcpwm__key *k, uint64_t seed)
{
    const uint8_t *b = (const uint8_t *)k;
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ULL;
    for (size_t off = 0; off + 8 <= sizeof(*k); off += 8) {
        uint64_t w;
        memcpy(&w, b + off, 8);
        h ^= w;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
    }
    uint32_t tail;
    memcpy(&tail, b + sizeof(*k) - 4, 4);
    h ^= tail;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return (uint32_t)h;
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

void tcpwm__table_prefetch_flow(const tcpwm__table *t, uint32_t hash)
{
    uint32_t i = t->buckets[hash & t->mask];
    if (i != TCPWM__NIL) {
        /* The whole record: key and links, both halves, stats and the
         * Wireshark analysis state (flow.h); records are not aligned to
         * lines, so its last byte may be on a fifth. */
        const char *f = (const char *)tcpwm__table_at(t, i);
        PREFETCH(f);
        PREFETCH(f + 64);
        PREFETCH(f + 128);
        PREFETCH(f + 192);
        PREFETCH(f + sizeof(tcpwm__flow) - 1);
    }
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
    for (; off < sizeof(*a); off++)
        diff |= (uint64_t)(x[off] ^ y[off]);
    return diff == 0;
}

uint32_t tcpwm__table_find(const tcpwm__table *t, const tcpwm__key *k, uint32_t hash)
{
    uint32_t i = t->buckets[hash & t->mask];
    while (i != TCPWM__NIL) {
        const tcpwm__flow *f = tcpwm__table_at(t, i);
        if (key_equal(&f->key, k))
            return i;
        i = f->hnext;
    }
    return TCPWM__NIL;
}

static tcpwm__list *list_of(tcpwm__table *t, const tcpwm__flow *f)
{
    return f->closed ? &t->closed : &t->open;
}

static void list_unlink(tcpwm__table *t, tcpwm__list *l, uint32_t i)
{
    tcpwm__flow *f = tcpwm__table_at(t, i);
    if (f->prev != TCPWM__NIL)
        tcpwm__table_at(t, f->prev)->next = f->next;
    else
        l->head = f->next;
    if (f->next != TCPWM__NIL)
        tcpwm__table_at(t, f->next)->prev = f->prev;
    else
        l->tail = f->prev;
}

static void list_push_head(tcpwm__table *t, tcpwm__list *l, uint32_t i)
{
    tcpwm__flow *f = tcpwm__table_at(t, i);
    f->prev = TCPWM__NIL;
    f->next = l->head;
    if (l->head != TCPWM__NIL)
        tcpwm__table_at(t, l->head)->prev = i;
    else
        l->tail = i;
    l->head = i;
}

static void rehash_list(tcpwm__table *t, uint32_t *buckets, uint32_t mask, uint32_t i)
{
    for (; i != TCPWM__NIL; i = tcpwm__table_at(t, i)->next) {
        tcpwm__flow *f = tcpwm__table_at(t, i);
        uint32_t *b = &buckets[key_hash(&f->key, t->seed) & mask];
        f->hnext = *b;
        *b = i;
    }
}

/* Doubles the bucket array once the flows reach a quarter of the buckets,
 * up to four buckets per flow at the cap (16 bytes a flow): a chain then
 * almost never holds a second flow, so the record prefetched for a bucket
 * is the one looked up. A second record in a chain is a cache miss that
 * nothing fetched ahead; at two buckets per flow these cost 4% of the
 * benchmark's replay time. Amortized O(1) per new flow; if memory is short
 * the table keeps working with longer chains. Never past 2^31 buckets, so
 * that the count of buckets still fits 32 bits. */
static void grow(tcpwm__table *t)
{
    uint32_t n = t->mask + 1;
    if (t->count < n / 4 || (uint64_t)n >= 4 * (uint64_t)t->max || n >= (1u << 31))
        return;
    uint32_t *buckets = malloc((size_t)n * 2 * sizeof(uint32_t));
    if (!buckets)
        return;
    for (uint32_t i = 0; i < n * 2; i++)
        buckets[i] = TCPWM__NIL;
    rehash_list(t, buckets, n * 2 - 1, t->open.head);
    rehash_list(t, buckets, n * 2 - 1, t->closed.head);
    free(t->buckets);
    t->buckets = buckets;
    t->mask = n * 2 - 1;
}

uint32_t tcpwm__table_insert(tcpwm__table *t, const tcpwm__key *k)
{
    grow(t);
    uint32_t i = tcpwm__pool_alloc(&t->flows);
    if (i == TCPWM__NIL)
        return TCPWM__NIL;
    tcpwm__flow *f = tcpwm__table_at(t, i);
    memset(f, 0, sizeof(*f));
    f->key = *k;
    f->half[0].hole_head = f->half[0].hole_tail = TCPWM__NIL;
    f->half[1].hole_head = f->half[1].hole_tail = TCPWM__NIL;
    uint32_t *b = &t->buckets[key_hash(k, t->seed) & t->mask];
    f->hnext = *b;
    *b = i;
    list_push_head(t, &t->open, i);
    t->count++;
    return i;
}

void tcpwm__table_remove(tcpwm__table *t, uint32_t i)
{
    tcpwm__flow *f = tcpwm__table_at(t, i);
    list_unlink(t, list_of(t, f), i);
    uint32_t *p = &t->buckets[key_hash(&f->key, t->seed) & t->mask];
    while (*p != i)
        p = &tcpwm__table_at(t, *p)->hnext;
    *p = f->hnext;
    tcpwm__pool_free(&t->flows, i);
    t->count--;
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
