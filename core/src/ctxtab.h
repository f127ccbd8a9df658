/* SPDX-License-Identifier: MIT */
/* Encapsulation contexts, interned (internal). Each distinct context (the
 * bytes tcpwm_segment.encap holds, tcpwm/encap.h) gets a small id, 1 to
 * TCPWM__CTX_MAX, which goes into the flow key instead of the bytes: the
 * key keeps its size, and a flow outside any tunnel (id 0) costs nothing.
 * Entries are reference-counted by the flows whose key holds their id
 * (and, while it is analyzed, by the packet that looked them up); an entry
 * whose count drops to 0 is freed and its id reused. */
#ifndef TCPWM_CTXTAB_H
#define TCPWM_CTXTAB_H

#include <stddef.h>
#include <stdint.h>

/* Ids are 16 bits (the flow key has room for that much); 0 is "none". */
#define TCPWM__CTX_MAX 65535u

typedef struct tcpwm__ctx_entry {
    uint8_t *bytes;    /* the context; NULL on a free entry */
    uint32_t refs;
    uint32_t hash;
    uint16_t len;
    uint16_t hnext;    /* next id in the same bucket, or next free id; 0: none */
} tcpwm__ctx_entry;

typedef struct tcpwm__ctxtab {
    tcpwm__ctx_entry *e; /* e[id - 1] */
    uint32_t made;       /* entries allocated in e (ids 1..made exist) */
    uint32_t room;       /* entries e has room for */
    uint16_t free_head;  /* a freed id, linked through hnext; 0: none */
    uint16_t buckets[1024]; /* heads of chains by hash, 0: empty */
    uint32_t count;      /* entries in use */
    uint64_t seed;
} tcpwm__ctxtab;

void tcpwm__ctxtab_init(tcpwm__ctxtab *t, uint64_t seed);
void tcpwm__ctxtab_destroy(tcpwm__ctxtab *t);
size_t tcpwm__ctxtab_memory(const tcpwm__ctxtab *t);

/* The id of an existing context, or 0. */
uint16_t tcpwm__ctxtab_find(const tcpwm__ctxtab *t, const uint8_t *bytes, size_t len);

/* The id of the context, made if new, with one reference taken for the
 * caller; 0 when the table holds TCPWM__CTX_MAX contexts or memory is
 * short. len is 1 .. 65535. */
uint16_t tcpwm__ctxtab_acquire(tcpwm__ctxtab *t, const uint8_t *bytes, size_t len);

void tcpwm__ctxtab_ref(tcpwm__ctxtab *t, uint16_t id);
/* Drops a reference; the last one frees the entry. Id 0 is ignored. */
void tcpwm__ctxtab_unref(tcpwm__ctxtab *t, uint16_t id);

/* The bytes of context id (len in *len); NULL for 0 or a free id. */
const uint8_t *tcpwm__ctxtab_bytes(const tcpwm__ctxtab *t, uint16_t id, uint16_t *len);

#endif
