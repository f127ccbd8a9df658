/* SPDX-License-Identifier: MIT */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

/* A region's memory reads as zero. Memcheck (valgrind) is told a carved
 * chunk is undefined, as malloc's would be, so that a read of a record
 * before it is written is still caught there (docs/robustness.md 4); a
 * no-op outside valgrind, and absent where its header is. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MARK_UNDEFINED(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED(p, n))
#endif
#endif
#ifndef MARK_UNDEFINED
#define MARK_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif

void tcpwm__pool_init(tcpwm__pool *p, size_t record_size, uint32_t limit)
{
    p->chunks = NULL;
    p->nchunks = 0;
    p->made = 0;
    p->free_head = TCPWM__NIL;
    p->limit = limit;
    p->size = record_size < sizeof(uint32_t) ? sizeof(uint32_t) : record_size;
    p->region.base = NULL;
    p->region.size = 0;
}

bool tcpwm__pool_reserve(tcpwm__pool *p)
{
    if (p->made > 0 || p->limit == 0)
        return false;
    /* Whole chunks, as alloc carves them. */
    size_t chunks = ((size_t)p->limit + TCPWM__POOL_CHUNK - 1u) >> TCPWM__POOL_CHUNK_SHIFT;
    return tcpwm__region_reserve(&p->region, chunks * TCPWM__POOL_CHUNK * p->size, true);
}

void tcpwm__pool_destroy(tcpwm__pool *p)
{
    if (p->region.base != NULL)
        tcpwm__region_release(&p->region);
    else
        for (uint32_t i = 0; i < p->nchunks; i++)
            free(p->chunks[i]);
    free(p->chunks);
    tcpwm__pool_init(p, p->size, p->limit);
}

size_t tcpwm__pool_memory(const tcpwm__pool *p)
{
    return (size_t)p->nchunks * (TCPWM__POOL_CHUNK * p->size + sizeof(*p->chunks));
}

uint32_t tcpwm__pool_alloc(tcpwm__pool *p)
{
    if (p->free_head != TCPWM__NIL) {
        uint32_t i = p->free_head;
        memcpy(&p->free_head, tcpwm__pool_at(p, i), sizeof(uint32_t));
        return i;
    }
    if (p->made >= p->limit)
        return TCPWM__NIL;
    if ((p->made & (TCPWM__POOL_CHUNK - 1u)) == 0) {
        unsigned char **chunks = realloc(p->chunks, (p->nchunks + 1u) * sizeof(*chunks));
        if (!chunks)
            return TCPWM__NIL;
        p->chunks = chunks;
        /* Cache-line aligned (a chunk of a region is: 1024 records), so
         * records whose size is a multiple of 64 each start a line. */
        size_t bytes = TCPWM__POOL_CHUNK * p->size;
        if (p->region.base != NULL) {
            p->chunks[p->nchunks] = p->region.base + (size_t)p->nchunks * bytes;
            MARK_UNDEFINED(p->chunks[p->nchunks], bytes);
        } else
            p->chunks[p->nchunks] = aligned_alloc(64, bytes);
        if (!p->chunks[p->nchunks])
            return TCPWM__NIL;
        p->nchunks++;
    }
    return p->made++;
}

void tcpwm__pool_free(tcpwm__pool *p, uint32_t i)
{
    memcpy(tcpwm__pool_at(p, i), &p->free_head, sizeof(uint32_t));
    p->free_head = i;
}
