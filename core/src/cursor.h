/* SPDX-License-Identifier: MIT */
/* A bounds-checked reader over captured packet bytes (internal).
 *
 * In the spirit of tcpdump's GET_ accessors, without the longjmp: a read
 * past the end returns 0 and sets a sticky `bad` flag, so a layer reads all
 * its fields and checks once. Integers are assembled byte by byte in network
 * order; packet memory is never cast to a struct. The bound is always what
 * was captured, never a length the packet claims. */
#ifndef TCPWM_CURSOR_H
#define TCPWM_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct tcpwm_cursor {
    const uint8_t *p; /* next unread byte */
    size_t left;      /* readable bytes from p */
    bool bad;         /* a read ran past the end; sticky */
} tcpwm_cursor;

static inline tcpwm_cursor cur_make(const uint8_t *p, size_t n)
{
    tcpwm_cursor c = {p, n, false};
    return c;
}

/* Consume n bytes if they are all there and return where they start;
 * otherwise mark the cursor bad and empty it, so that every later read
 * fails too, and return NULL. A zero-byte take always succeeds. */
static inline const uint8_t *cur_take(tcpwm_cursor *c, size_t n)
{
    if (c->bad || n > c->left) {
        c->bad = true;
        c->left = 0;
        return NULL;
    }
    const uint8_t *q = c->p;
    if (n > 0) { /* no arithmetic on a NULL p of an empty frame */
        c->p += n;
        c->left -= n;
    }
    return q;
}

static inline uint8_t cur_be8(tcpwm_cursor *c)
{
    const uint8_t *q = cur_take(c, 1);
    return q ? q[0] : 0;
}

static inline uint16_t cur_be16(tcpwm_cursor *c)
{
    const uint8_t *q = cur_take(c, 2);
    return q ? (uint16_t)((unsigned)q[0] << 8 | q[1]) : 0;
}

static inline uint32_t cur_be32(tcpwm_cursor *c)
{
    const uint8_t *q = cur_take(c, 4);
    if (!q)
        return 0;
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | (uint32_t)q[3];
}

static inline void cur_skip(tcpwm_cursor *c, size_t n)
{
    (void)cur_take(c, n);
}

/* Copy n (> 0) bytes out; on a short read dst is zero-filled. */
static inline void cur_copy(tcpwm_cursor *c, void *dst, size_t n)
{
    const uint8_t *q = cur_take(c, n);
    if (q)
        memcpy(dst, q, n);
    else
        memset(dst, 0, n);
}

/* The next n bytes as a cursor of their own, consumed from c. If fewer
 * than n are there, both c and the returned cursor are bad. */
static inline tcpwm_cursor cur_sub(tcpwm_cursor *c, size_t n)
{
    const uint8_t *q = cur_take(c, n);
    tcpwm_cursor s = {q, c->bad ? 0 : n, c->bad};
    return s;
}

/* A fixed-size header taken whole: one bounds check through the cursor
 * (cur_block), then fields read at constant offsets inside it (blk_*),
 * each checked against the block's length as well. Inlined, those checks
 * fold away once the caller has tested the block (n is then the constant
 * it asked for), so a header costs one check instead of one per field. A
 * failed take gives an empty block (n == 0) and a bad cursor. */
typedef struct tcpwm_block {
    const uint8_t *p;
    size_t n;
} tcpwm_block;

static inline tcpwm_block cur_block(tcpwm_cursor *c, size_t n)
{
    const uint8_t *q = cur_take(c, n);
    tcpwm_block b = {q, q != NULL ? n : 0};
    return b;
}

static inline uint8_t blk_8(tcpwm_block b, size_t off)
{
    return off < b.n ? b.p[off] : 0;
}

static inline uint16_t blk_be16(tcpwm_block b, size_t off)
{
    if (off > b.n || b.n - off < 2)
        return 0;
    return (uint16_t)((unsigned)b.p[off] << 8 | b.p[off + 1]);
}

static inline uint32_t blk_be32(tcpwm_block b, size_t off)
{
    if (off > b.n || b.n - off < 4)
        return 0;
    const uint8_t *q = b.p + off;
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | (uint32_t)q[3];
}

/* n bytes at off out to dst; zeros if they are not in the block. */
static inline void blk_copy(tcpwm_block b, size_t off, void *dst, size_t n)
{
    if (off > b.n || b.n - off < n)
        memset(dst, 0, n);
    else
        memcpy(dst, b.p + off, n);
}

/* The byte at offset `off` without consuming anything; 0 if not there.
 * For fields that decide how to read the rest (the IP version nibble). */
static inline uint8_t cur_peek8(const tcpwm_cursor *c, size_t off)
{
    return (!c->bad && off < c->left) ? c->p[off] : 0;
}

#endif
