/* SPDX-License-Identifier: MIT */
#include "ctxtab.h"

#include <stdlib.h>
#include <string.h>

#define NBUCKETS (sizeof(((tcpwm__ctxtab *)0)->buckets) / sizeof(uint16_t))

void tcpwm__ctxtab_init(tcpwm__ctxtab *t, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    t->seed = seed;
}

void tcpwm__ctxtab_destroy(tcpwm__ctxtab *t)
{
    for (uint32_t i = 0; i < t->made; i++)
        free(t->e[i].bytes);
    free(t->e);
    memset(t, 0, sizeof(*t));
}

size_t tcpwm__ctxtab_memory(const tcpwm__ctxtab *t)
{
    size_t n = (size_t)t->room * sizeof(tcpwm__ctx_entry);
    for (uint32_t i = 0; i < t->made; i++)
        n += t->e[i].len;
    return n;
}

/* FNV-1a over the bytes, seeded: contexts are few and short, and only
 * tunneled packets hash them. */
static uint32_t ctx_hash(const tcpwm__ctxtab *t, const uint8_t *b, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static uint16_t find(const tcpwm__ctxtab *t, const uint8_t *bytes, size_t len, uint32_t h)
{
    for (uint16_t id = t->buckets[h % NBUCKETS]; id != 0; id = t->e[id - 1].hnext) {
        const tcpwm__ctx_entry *e = &t->e[id - 1];
        if (e->hash == h && e->len == len && memcmp(e->bytes, bytes, len) == 0)
            return id;
    }
    return 0;
}

uint16_t tcpwm__ctxtab_find(const tcpwm__ctxtab *t, const uint8_t *bytes, size_t len)
{
    if (len == 0 || len > UINT16_MAX)
        return 0;
    return find(t, bytes, len, ctx_hash(t, bytes, len));
}

/* A free id, growing the entry array if needed; 0 at the cap. */
static uint16_t new_id(tcpwm__ctxtab *t)
{
    if (t->free_head != 0) {
        uint16_t id = t->free_head;
        t->free_head = t->e[id - 1].hnext;
        return id;
    }
    if (t->made == TCPWM__CTX_MAX)
        return 0;
    if (t->made == t->room) {
        uint32_t room = t->room ? t->room * 2 : 16;
        if (room > TCPWM__CTX_MAX)
            room = TCPWM__CTX_MAX;
        tcpwm__ctx_entry *e = realloc(t->e, (size_t)room * sizeof(*e));
        if (!e)
            return 0;
        t->e = e;
        t->room = room;
    }
    memset(&t->e[t->made], 0, sizeof(t->e[0]));
    return (uint16_t)++t->made;
}

uint16_t tcpwm__ctxtab_acquire(tcpwm__ctxtab *t, const uint8_t *bytes, size_t len)
{
    if (len == 0 || len > UINT16_MAX)
        return 0;
    uint32_t h = ctx_hash(t, bytes, len);
    uint16_t id = find(t, bytes, len, h);
    if (id != 0) {
        t->e[id - 1].refs++;
        return id;
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return 0;
    id = new_id(t);
    if (id == 0) {
        free(copy);
        return 0;
    }
    memcpy(copy, bytes, len);
    tcpwm__ctx_entry *e = &t->e[id - 1];
    e->bytes = copy;
    e->len = (uint16_t)len;
    e->hash = h;
    e->refs = 1;
    e->hnext = t->buckets[h % NBUCKETS];
    t->buckets[h % NBUCKETS] = id;
    t->count++;
    return id;
}

void tcpwm__ctxtab_ref(tcpwm__ctxtab *t, uint16_t id)
{
    if (id != 0)
        t->e[id - 1].refs++;
}

void tcpwm__ctxtab_unref(tcpwm__ctxtab *t, uint16_t id)
{
    if (id == 0)
        return;
    tcpwm__ctx_entry *e = &t->e[id - 1];
    if (--e->refs != 0)
        return;
    uint16_t *p = &t->buckets[e->hash % NBUCKETS];
    while (*p != id)
        p = &t->e[*p - 1].hnext;
    *p = e->hnext;
    free(e->bytes);
    e->bytes = NULL;
    e->len = 0;
    e->hnext = t->free_head;
    t->free_head = id;
    t->count--;
}

const uint8_t *tcpwm__ctxtab_bytes(const tcpwm__ctxtab *t, uint16_t id, uint16_t *len)
{
    if (id == 0 || id > t->made || t->e[id - 1].bytes == NULL) {
        *len = 0;
        return NULL;
    }
    *len = t->e[id - 1].len;
    return t->e[id - 1].bytes;
}
