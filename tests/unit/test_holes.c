/* SPDX-License-Identifier: MIT */
/* Hole list: open, fill (whole, lower part, upper part, split, several),
 * acknowledgment, caps, serial wraparound. */
#include "check.h"
#include "holes.h"

static int64_t ages[16];
static int nages;

static void record_age(void *ctx, int64_t age)
{
    (void)ctx;
    if (nages < 16)
        ages[nages++] = age;
}

static tcpwm__half empty_half(void)
{
    tcpwm__half h;
    memset(&h, 0, sizeof(h));
    h.hole_head = TCPWM__NIL;
    return h;
}

static tcpwm__hole *hole(tcpwm__hole_pool *p, uint32_t i)
{
    return tcpwm__pool_at(&p->records, i);
}

static void test_fill_shapes(void)
{
    tcpwm__hole_pool p;
    tcpwm__holes_init(&p, 100);
    tcpwm__half h = empty_half();
    tcpwm__hole_report r = {0, 0, 0};

    tcpwm__holes_open(&p, &h, 1000, 2000, 10, 32, &r);
    tcpwm__holes_open(&p, &h, 3000, 4000, 20, 32, &r);
    CHECK_EQ_U64(h.nholes, 2);
    CHECK_EQ_U64(r.forgotten, 0);

    /* Fill inside the first hole: it splits into [1000,1200) and [1300,2000). */
    nages = 0;
    memset(&r, 0, sizeof(r));
    tcpwm__holes_fill(&p, &h, 1200, 1300, 110, 32, record_age, NULL, &r);
    CHECK_EQ_U64(r.touched, 1);
    CHECK_EQ_U64(r.oldest_ns, 100);
    CHECK_EQ_U64(h.nholes, 3);
    CHECK_EQ_U64(hole(&p, h.hole_head)->end, 1200);
    CHECK_EQ_U64(hole(&p, hole(&p, h.hole_head)->next)->start, 1300);
    CHECK_EQ_U64(hole(&p, hole(&p, h.hole_head)->next)->opened_ns, 10);

    /* A segment covering [1100, 3500) touches all three holes. */
    nages = 0;
    memset(&r, 0, sizeof(r));
    tcpwm__holes_fill(&p, &h, 1100, 3500, 120, 32, record_age, NULL, &r);
    CHECK_EQ_U64(r.touched, 3);
    CHECK_EQ_U64(nages, 3);
    CHECK_EQ_U64(r.oldest_ns, 110);
    CHECK_EQ_U64(h.nholes, 2); /* [1000,1100) and [3500,4000) */
    CHECK_EQ_U64(hole(&p, h.hole_head)->start, 1000);
    CHECK_EQ_U64(hole(&p, h.hole_head)->end, 1100);
    CHECK_EQ_U64(hole(&p, tcpwm__holes_tail(&p, &h))->start, 3500);
    CHECK_EQ_U64(hole(&p, tcpwm__holes_tail(&p, &h))->end, 4000);

    /* Data outside every hole touches none. */
    memset(&r, 0, sizeof(r));
    tcpwm__holes_fill(&p, &h, 1100, 3500, 130, 32, record_age, NULL, &r);
    CHECK_EQ_U64(r.touched, 0);

    /* An ACK at 1100 closes the first hole only; at 4000 the second. */
    CHECK_EQ_U64(tcpwm__holes_acked(&p, &h, 1099), 0);
    CHECK_EQ_U64(tcpwm__holes_acked(&p, &h, 1100), 1);
    CHECK_EQ_U64(tcpwm__holes_acked(&p, &h, 3999), 0);
    CHECK_EQ_U64(tcpwm__holes_acked(&p, &h, 5000), 1);
    CHECK_EQ_U64(h.nholes, 0);
    CHECK(h.hole_head == TCPWM__NIL && tcpwm__holes_tail(&p, &h) == TCPWM__NIL);
    tcpwm__holes_destroy(&p);
}

static void test_caps(void)
{
    tcpwm__hole_pool p;
    tcpwm__holes_init(&p, 5);
    tcpwm__half a = empty_half(), b = empty_half();
    tcpwm__hole_report r = {0, 0, 0};
    /* Per-side cap 3: the fourth hole forgets the oldest. */
    for (uint32_t k = 0; k < 4; k++)
        tcpwm__holes_open(&p, &a, k * 100, k * 100 + 50, k, 3, &r);
    CHECK_EQ_U64(a.nholes, 3);
    CHECK_EQ_U64(r.forgotten, 1);
    CHECK_EQ_U64(hole(&p, a.hole_head)->start, 100);
    /* Pool of 5: side b gets 2, then must recycle its own oldest. */
    memset(&r, 0, sizeof(r));
    for (uint32_t k = 0; k < 3; k++)
        tcpwm__holes_open(&p, &b, k * 100, k * 100 + 50, k, 32, &r);
    CHECK_EQ_U64(b.nholes, 2);
    CHECK_EQ_U64(r.forgotten, 1);
    CHECK_EQ_U64(hole(&p, b.hole_head)->start, 100);
    /* A split with the pool empty keeps the lower part only. */
    memset(&r, 0, sizeof(r));
    tcpwm__holes_fill(&p, &b, 110, 120, 9, 32, record_age, NULL, &r);
    CHECK_EQ_U64(r.touched, 1);
    CHECK_EQ_U64(r.forgotten, 1);
    CHECK_EQ_U64(hole(&p, b.hole_head)->end, 110);
    /* A third side with nothing to recycle forgets the new hole. */
    tcpwm__half c = empty_half();
    memset(&r, 0, sizeof(r));
    tcpwm__holes_open(&p, &c, 0, 10, 0, 32, &r);
    CHECK_EQ_U64(c.nholes, 0);
    CHECK_EQ_U64(r.forgotten, 1);
    tcpwm__holes_clear(&p, &a);
    tcpwm__holes_clear(&p, &b);
    CHECK_EQ_U64(a.nholes + b.nholes, 0);
    /* Everything went back to the pool: five fresh holes fit again. */
    memset(&r, 0, sizeof(r));
    for (uint32_t k = 0; k < 5; k++)
        tcpwm__holes_open(&p, &c, k * 100, k * 100 + 50, k, 32, &r);
    CHECK_EQ_U64(c.nholes, 5);
    CHECK_EQ_U64(r.forgotten, 0);
    tcpwm__holes_destroy(&p);
}

static void test_wraparound(void)
{
    tcpwm__hole_pool p;
    tcpwm__holes_init(&p, 10);
    tcpwm__half h = empty_half();
    tcpwm__hole_report r = {0, 0, 0};
    /* A hole across 2^32: [0xffffff00, 0x100). */
    tcpwm__holes_open(&p, &h, 0xffffff00u, 0x100u, 0, 32, &r);
    tcpwm__holes_fill(&p, &h, 0xffffff80u, 0x10u, 5, 32, record_age, NULL, &r);
    CHECK_EQ_U64(r.touched, 1);
    CHECK_EQ_U64(h.nholes, 2);
    CHECK_EQ_U64(hole(&p, h.hole_head)->end, 0xffffff80u);
    CHECK_EQ_U64(hole(&p, tcpwm__holes_tail(&p, &h))->start, 0x10u);
    CHECK_EQ_U64(tcpwm__holes_acked(&p, &h, 0x20u), 1);
    CHECK_EQ_U64(tcpwm__holes_acked(&p, &h, 0x100u), 1);
    tcpwm__holes_destroy(&p);
}

/* A split at the per-side cap keeps the lower part; holes that fall more
 * than the allowed distance below next are forgotten. */
static void test_split_cap_and_distance(void)
{
    tcpwm__hole_pool p;
    tcpwm__holes_init(&p, 100);
    tcpwm__half h = empty_half();
    tcpwm__hole_report r = {0, 0, 0};
    tcpwm__holes_open(&p, &h, 100, 200, 0, 2, &r);
    tcpwm__holes_open(&p, &h, 300, 400, 0, 2, &r);
    tcpwm__holes_fill(&p, &h, 320, 330, 1, 2, record_age, NULL, &r);
    CHECK_EQ_U64(h.nholes, 2);
    CHECK_EQ_U64(r.forgotten, 1);
    CHECK_EQ_U64(hole(&p, tcpwm__holes_tail(&p, &h))->end, 320);
    memset(&r, 0, sizeof(r));
    h.next = 100 + 1000;
    tcpwm__holes_drop_far(&p, &h, 1000, &r);
    CHECK_EQ_U64(r.forgotten, 0);
    h.next = 100 + 1001;
    tcpwm__holes_drop_far(&p, &h, 1000, &r);
    CHECK_EQ_U64(r.forgotten, 1);
    CHECK_EQ_U64(h.nholes, 1);
    tcpwm__holes_destroy(&p);
}

int main(void)
{
    test_split_cap_and_distance();
    test_fill_shapes();
    test_caps();
    test_wraparound();
    return check_finish("test_holes");
}
