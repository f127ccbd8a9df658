/* SPDX-License-Identifier: MIT */
#include "holes.h"

#include "seq.h"

static tcpwm__hole *at(const tcpwm__hole_pool *p, uint32_t i)
{
    return tcpwm__pool_at(&p->records, i);
}

void tcpwm__holes_init(tcpwm__hole_pool *p, uint32_t limit)
{
    tcpwm__pool_init(&p->records, sizeof(tcpwm__hole), limit);
}

void tcpwm__holes_destroy(tcpwm__hole_pool *p) { tcpwm__pool_destroy(&p->records); }

size_t tcpwm__holes_memory(const tcpwm__hole_pool *p) { return tcpwm__pool_memory(&p->records); }

/* A record, or TCPWM__NIL when the pool is at its limit or memory is
 * short (the caller then forgets a hole). */
static uint32_t alloc(tcpwm__hole_pool *p) { return tcpwm__pool_alloc(&p->records); }

static void release(tcpwm__hole_pool *p, uint32_t i) { tcpwm__pool_free(&p->records, i); }

/* The list's links (holes.h): `next` ends at the tail with TCPWM__NIL;
 * `prev` is the previous hole, except the head's, which is the tail. */

uint32_t tcpwm__holes_tail(const tcpwm__hole_pool *p, const tcpwm__half *h)
{
    return h->hole_head == TCPWM__NIL ? TCPWM__NIL : at(p, h->hole_head)->prev;
}

/* Unlinks hole i from h's list and returns it to the pool. */
static void unlink_hole(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t i)
{
    tcpwm__hole *x = at(p, i);
    if (i == h->hole_head) {
        h->hole_head = x->next;
        if (x->next != TCPWM__NIL)
            at(p, x->next)->prev = x->prev; /* the tail, still */
    } else {
        at(p, x->prev)->next = x->next;
        /* The next hole's prev, or, for the tail, the head's. */
        at(p, x->next != TCPWM__NIL ? x->next : h->hole_head)->prev = x->prev;
    }
    h->nholes--;
    release(p, i);
}

/* Links a fresh record i after `after` (TCPWM__NIL: at the head). */
static void link_after(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t after, uint32_t i)
{
    tcpwm__hole *x = at(p, i);
    if (after == TCPWM__NIL) {
        uint32_t head = h->hole_head;
        x->next = head;
        if (head != TCPWM__NIL) {
            x->prev = at(p, head)->prev; /* the tail */
            at(p, head)->prev = i;
        } else {
            x->prev = i; /* alone: its own tail */
        }
        h->hole_head = i;
    } else {
        tcpwm__hole *a = at(p, after);
        x->prev = after;
        x->next = a->next;
        at(p, x->next != TCPWM__NIL ? x->next : h->hole_head)->prev = i;
        a->next = i;
    }
    h->nholes++;
}

void tcpwm__holes_open(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t start, uint32_t end,
                       int64_t now_ns, uint32_t max_per_side, tcpwm__hole_report *rep)
{
    if (h->nholes >= max_per_side && h->hole_head != TCPWM__NIL) {
        unlink_hole(p, h, h->hole_head);
        rep->forgotten++;
    }
    uint32_t i = alloc(p);
    if (i == TCPWM__NIL && h->hole_head != TCPWM__NIL) {
        /* Pool exhausted: this side's oldest hole makes room. */
        unlink_hole(p, h, h->hole_head);
        rep->forgotten++;
        i = alloc(p);
    }
    if (i == TCPWM__NIL) {
        rep->forgotten++;
        return;
    }
    tcpwm__hole *x = at(p, i);
    x->start = start;
    x->end = end;
    x->opened_ns = now_ns;
    link_after(p, h, tcpwm__holes_tail(p, h), i);
}

void tcpwm__holes_fill(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t seq, uint32_t end,
                       int64_t now_ns, uint32_t max_per_side,
                       void (*fill_cb)(void *ctx, int64_t age_ns), void *ctx,
                       tcpwm__hole_report *rep)
{
    uint32_t i = h->hole_head;
    while (i != TCPWM__NIL) {
        tcpwm__hole *x = at(p, i);
        uint32_t next = x->next;
        /* Sorted list: once a hole starts at or after the segment's end,
         * no later one can overlap it. */
        if (!tcpwm__before(x->start, end))
            break;
        if (tcpwm__before(seq, x->end)) { /* overlaps: seq < x.end && x.start < end */
            int64_t age = now_ns - x->opened_ns;
            if (age < 0)
                age = 0;
            if (rep->touched == 0 || age > rep->oldest_ns)
                rep->oldest_ns = age;
            rep->touched++;
            fill_cb(ctx, age);
            bool covers_start = !tcpwm__after(seq, x->start);
            bool covers_end = !tcpwm__before(end, x->end);
            if (covers_start && covers_end) {
                unlink_hole(p, h, i);
            } else if (covers_start) {
                x->start = end;
            } else if (covers_end) {
                x->end = seq;
            } else {
                /* The segment sits inside the hole: it splits in two,
                 * both halves keeping the original opening time. */
                uint32_t j = h->nholes < max_per_side ? alloc(p) : TCPWM__NIL;
                if (j == TCPWM__NIL) {
                    rep->forgotten++; /* the upper part is forgotten */
                    x->end = seq;
                } else {
                    tcpwm__hole *y = at(p, j);
                    x = at(p, i); /* alloc may have added a chunk, not moved one */
                    y->start = end;
                    y->end = x->end;
                    y->opened_ns = x->opened_ns;
                    x->end = seq;
                    link_after(p, h, i, j);
                }
                break;
            }
        }
        i = next;
    }
}

void tcpwm__holes_drop_far(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t max_distance,
                           tcpwm__hole_report *rep)
{
    /* The head is the lowest hole: the others are nearer to next. */
    while (h->hole_head != TCPWM__NIL && h->next - at(p, h->hole_head)->start > max_distance) {
        unlink_hole(p, h, h->hole_head);
        rep->forgotten++;
    }
}

uint32_t tcpwm__holes_acked(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t ack)
{
    uint32_t n = 0;
    /* Ends ascend with starts, so the acknowledged holes are a prefix. */
    while (h->hole_head != TCPWM__NIL && !tcpwm__before(ack, at(p, h->hole_head)->end)) {
        unlink_hole(p, h, h->hole_head);
        n++;
    }
    return n;
}

void tcpwm__holes_clear(tcpwm__hole_pool *p, tcpwm__half *h)
{
    while (h->hole_head != TCPWM__NIL)
        unlink_hole(p, h, h->hole_head);
}
