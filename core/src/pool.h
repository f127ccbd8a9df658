/* SPDX-License-Identifier: MIT */
/* A pool of fixed-size records addressed by 32-bit index. Records are
 * carved from chunks of 1024 that never move, so an index stays valid
 * while more are made; freed records are recycled before new ones are
 * carved; `limit` bounds how many may ever exist. The flow table and the
 * hole lists both draw from one: no allocation per packet, and memory
 * that grows with the busiest moment, never past the cap. */
#ifndef TCPWM_POOL_H
#define TCPWM_POOL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "region.h"

#define TCPWM__NIL UINT32_MAX
#define TCPWM__POOL_CHUNK_SHIFT 10u
#define TCPWM__POOL_CHUNK (1u << TCPWM__POOL_CHUNK_SHIFT)

typedef struct tcpwm__pool {
    unsigned char **chunks;
    uint32_t nchunks;
    uint32_t made;        /* records carved out of chunks so far */
    uint32_t free_head;   /* recycled records, linked through their first 4 bytes */
    uint32_t limit;       /* the most records that may exist */
    size_t size;          /* bytes per record, at least 4 */
    tcpwm__region region; /* where the chunks are carved, if reserved */
} tcpwm__pool;

void tcpwm__pool_init(tcpwm__pool *p, size_t record_size, uint32_t limit);
void tcpwm__pool_destroy(tcpwm__pool *p);

/* Carves the chunks, in order, out of one range reserved for `limit`
 * records (region.h), on huge pages where the system gives them: for the
 * pools read at random for every packet. Call before the first alloc;
 * false (the chunks are allocated one by one, as without) where no range
 * can be had. Memory is still only used as chunks are made, give or take
 * the huge page the latest chunk is in. */
bool tcpwm__pool_reserve(tcpwm__pool *p);

size_t tcpwm__pool_memory(const tcpwm__pool *p);

/* A record's index, or TCPWM__NIL at the limit or when memory is short.
 * The record's contents are undefined. */
uint32_t tcpwm__pool_alloc(tcpwm__pool *p);
void tcpwm__pool_free(tcpwm__pool *p, uint32_t i);

static inline void *tcpwm__pool_at(const tcpwm__pool *p, uint32_t i)
{
    return p->chunks[i >> TCPWM__POOL_CHUNK_SHIFT] +
           (size_t)(i & (TCPWM__POOL_CHUNK - 1u)) * p->size;
}

#endif
