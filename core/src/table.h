/* SPDX-License-Identifier: MIT */
/* The flow table: a hash index of cache-line buckets over a
 * direction-independent key, flows from a record pool (no allocation per
 * packet or per flow once a chunk exists), and two LRU lists — open and
 * closed flows — whose tails are the first to expire or be evicted.
 * Memory is bounded by max_flows. */
#ifndef TCPWM_TABLE_H
#define TCPWM_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

typedef struct tcpwm__list {
    uint32_t head; /* most recently active */
    uint32_t tail; /* least recently active */
} tcpwm__list;

/* One cache line of the index: up to 12 flows whose hash picks this
 * bucket, or an earlier one that was full (linear probing by lines). A
 * lookup reads the line, compares one byte of hash per slot and fetches
 * only the records whose byte matches: about one record per lookup, none
 * for most new flows. No link in the flow record, and 64 bytes per 12
 * slots: 5.3 bytes a slot instead of a chain's 4-byte bucket plus 4-byte
 * link at a quarter of the load. */
#define TCPWM__BUCKET_SLOTS 12u
typedef struct tcpwm__bucket {
    _Alignas(64) uint8_t tag[TCPWM__BUCKET_SLOTS]; /* 0: empty slot, else the hash's tag */
    uint32_t spill; /* flows living past this bucket whose probe passed it */
    uint32_t flow[TCPWM__BUCKET_SLOTS];
} tcpwm__bucket;

/* A flow's neighbours in its LRU list, in an array of their own indexed
 * like the records. Moving a flow to the head of its list writes both
 * neighbours' links: flows that were active at about the same time, whose
 * records have usually left the cache while their 8 bytes of links,
 * 64 flows to a line, have not. */
typedef struct tcpwm__links {
    uint32_t prev, next; /* the newer neighbour (towards the head), the older one */
} tcpwm__links;

/* A flow's record and links are within flow.h's budget with its analysis
 * state (checked in monitor.c). */

typedef struct tcpwm__table {
    tcpwm__bucket *buckets;
    tcpwm__region bregion; /* the buckets' range when they fill one (from 2 MiB) */
    uint32_t mask;         /* buckets - 1 */
    tcpwm__pool flows;     /* of tcpwm__flow */
    tcpwm__pool links;     /* of tcpwm__links, carved with the flows: the same indexes */
    uint32_t count;        /* flows in the table */
    uint32_t max;
    uint64_t seed;
    tcpwm__list open, closed;
} tcpwm__table;

int tcpwm__table_init(tcpwm__table *t, uint32_t max_flows, uint64_t seed);
void tcpwm__table_destroy(tcpwm__table *t);
size_t tcpwm__table_memory(const tcpwm__table *t);

static inline tcpwm__flow *tcpwm__table_at(const tcpwm__table *t, uint32_t i)
{
    return (tcpwm__flow *)tcpwm__pool_at(&t->flows, i);
}

/* The next newer flow in flow i's list, TCPWM__NIL at the head. */
static inline uint32_t tcpwm__table_newer(const tcpwm__table *t, uint32_t i)
{
    return ((const tcpwm__links *)tcpwm__pool_at(&t->links, i))->prev;
}

/* Writes the key of a segment inside encapsulation context `encap` (0:
 * none) to the sizeof(tcpwm__key) bytes at key (a tcpwm__key, or a
 * buffer to copy one from); *side is the key side its source is on.
 * Returns the key's tcpwm__key_hash(). */
uint32_t tcpwm__key_make(const tcpwm__table *t, const tcpwm_segment *s, uint16_t encap, void *key,
                         uint8_t *side);

/* The seeded hash of a key (the bucket is hash & mask, the tag its top
 * byte). */
uint32_t tcpwm__key_hash(const tcpwm__table *t, const tcpwm__key *k);

/* Two steps of fetching the memory a lookup of a key will read: the
 * bucket, then, once that has arrived, the first flow in it whose tag
 * matches (its index is returned, TCPWM__NIL if none: the flow the lookup
 * will most likely find, for the caller to fetch what it keeps of it
 * elsewhere). A hash made before the table grew is still right: the
 * bucket is taken anew. */
void tcpwm__table_prefetch_bucket(const tcpwm__table *t, uint32_t hash);
uint32_t tcpwm__table_prefetch_flow(const tcpwm__table *t, uint32_t hash);

/* The flow with key k, whose tcpwm__key_hash() is hash, or TCPWM__NIL. */
uint32_t tcpwm__table_find(const tcpwm__table *t, const tcpwm__key *k, uint32_t hash);

/* A new open flow with key k, at the head of the open list, all state
 * zero. The table must have room (count < max): the caller evicts first.
 * TCPWM__NIL when memory is short. */
uint32_t tcpwm__table_insert(tcpwm__table *t, const tcpwm__key *k);

/* Removes flow i from the table and its list. */
void tcpwm__table_remove(tcpwm__table *t, uint32_t i);

/* Moves flow i to the head of the list its `closed` flag selects. */
void tcpwm__table_touch(tcpwm__table *t, uint32_t i);

/* Moves flow i from the open to the closed list. */
void tcpwm__table_move_closed(tcpwm__table *t, uint32_t i);

#endif
