/* SPDX-License-Identifier: MIT */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

void tcpwm__pool_init(tcpwm__pool *p, size_t record_size, uint32_t limit)
{
    p->chunks = NULL;
    p->nchunks = 0;
    p->made = 0;
    p->free_head = TCPWM__NIL;
    p->limit = limit;
    p->size = record_size < sizeof(uint32_t) ? sizeof(uint32_t) : record_size;
}

void tcpwm__pool_destroy(tcpwm__pool *p)
{
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
        /* Cache-line aligned, so records whose size is a multiple of 64
         * (the flows) each start a line. */
        p->chunks[p->nchunks] = aligned_alloc(64, TCPWM__POOL_CHUNK * p->size);
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
