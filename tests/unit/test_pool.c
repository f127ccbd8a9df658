/* SPDX-License-Identifier: MIT */
/* The record pool (pool.h) with and without a reserved range (region.h):
 * the same indexes in the same order, records that keep what was written
 * to them across chunks, recycling, the limit; and what a reservation
 * promises: a 2 MiB boundary, zeroed memory, chunks carved in order, huge
 * pages asked for from the second 2 MiB on for a growing array, from the
 * first for one made whole. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "pool.h"
#include "region.h"

#define HUGE ((size_t)2 << 20)

/* Where reserve() must succeed: the platforms region.c implements. */
#if defined(__linux__) && UINTPTR_MAX > 0xffffffffu && !defined(__SANITIZE_ADDRESS__)
#define EXPECT_REGION 1
#else
#define EXPECT_REGION 0
#endif

typedef struct rec {
    uint32_t link; /* the pool's free-list word */
    uint32_t id;
    uint8_t fill[136];
} rec;

static void run(bool reserve, uint32_t limit, uint32_t *order, uint32_t n)
{
    tcpwm__pool p;
    tcpwm__pool_init(&p, sizeof(rec), limit);
    if (reserve)
        CHECK(tcpwm__pool_reserve(&p) == EXPECT_REGION);
    /* Fill to the limit, free every third, take them back, free all. */
    for (uint32_t i = 0; i < limit; i++) {
        uint32_t k = tcpwm__pool_alloc(&p);
        CHECK_EQ_U64(k, i);
        rec *r = tcpwm__pool_at(&p, k);
        r->id = k ^ 0x5a5a5a5au;
        memset(r->fill, (int)(k & 0xff), sizeof r->fill);
    }
    CHECK_EQ_U64(tcpwm__pool_alloc(&p), TCPWM__NIL);
    bool kept = true;
    for (uint32_t i = 0; i < limit; i++) {
        const rec *r = tcpwm__pool_at(&p, i);
        kept = kept && r->id == (i ^ 0x5a5a5a5au) && r->fill[0] == (uint8_t)i &&
               r->fill[135] == (uint8_t)i;
    }
    CHECK(kept);
    for (uint32_t i = 0; i < limit; i += 3)
        tcpwm__pool_free(&p, i);
    uint32_t got = 0;
    for (uint32_t k; got < n && (k = tcpwm__pool_alloc(&p)) != TCPWM__NIL; got++)
        order[got] = k;
    CHECK_EQ_U64(got, (limit + 2u) / 3u);
    CHECK_EQ_U64(tcpwm__pool_memory(&p),
                 (size_t)p.nchunks * (TCPWM__POOL_CHUNK * sizeof(rec) + sizeof(*p.chunks)));
    if (reserve && EXPECT_REGION) {
        CHECK(p.region.base != NULL);
        for (uint32_t c = 0; c < p.nchunks; c++)
            CHECK(p.chunks[c] == p.region.base + (size_t)c * TCPWM__POOL_CHUNK * sizeof(rec));
    }
    tcpwm__pool_destroy(&p);
    CHECK(p.region.base == NULL);
}

static void test_same_with_and_without(void)
{
    /* 5,000 records of 144 bytes: five chunks, a partial last one, and a
     * range of 720 KiB, under a huge page. */
    enum { LIMIT = 5000 };
    static uint32_t a[LIMIT], b[LIMIT];
    run(true, LIMIT, a, LIMIT);
    run(false, LIMIT, b, LIMIT);
    CHECK(memcmp(a, b, sizeof a) == 0);
}

/* Whether the kernel has transparent huge pages at all: without, the
 * advice is refused and there is nothing to look for. */
static bool have_thp(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f == NULL)
        return false;
    fclose(f);
    return true;
}

/* 1: the mapping holding p carries the huge page advice ("hg" in its
 * VmFlags line in smaps), 0: it does not, -1: no mapping holds p. */
static int advised(const void *p)
{
    char line[512];
    bool in = false;
    int found = -1;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        if (in && strncmp(line, "VmFlags:", 8) == 0) {
            found = strstr(line, " hg") != NULL;
            break;
        }
    }
    fclose(f);
    return found;
}

static void test_region(void)
{
    tcpwm__region r;
    size_t size = 3 * HUGE + 12345; /* three whole huge pages and a partial one */
    bool ok = tcpwm__region_reserve(&r, size, true);
    CHECK(ok == EXPECT_REGION);
    if (!ok) {
        CHECK(r.base == NULL);
        tcpwm__region_release(&r);
        return;
    }
    CHECK(((uintptr_t)r.base & (HUGE - 1u)) == 0);
    CHECK(r.size >= size && r.size < size + 65536u);
    /* Zero until written, and writable to the last byte asked for. */
    bool zero = true;
    for (size_t off = 0; off < size; off += 4096)
        zero = zero && r.base[off] == 0;
    CHECK(zero && r.base[size - 1] == 0);
    r.base[0] = 1;
    r.base[size - 1] = 2;
    CHECK(r.base[size - 1] == 2);
    /* Advice recorded on the second to the third huge page, not on the
     * first nor on the partial one. */
    if (have_thp()) {
        CHECK(advised(r.base) == 0);
        CHECK(advised(r.base + HUGE) == 1);
        CHECK(advised(r.base + 3 * HUGE - 1u) == 1);
        CHECK(advised(r.base + 3 * HUGE) == 0);
    }
    tcpwm__region_release(&r);
    CHECK(r.base == NULL && r.size == 0);
    tcpwm__region_release(&r); /* twice is harmless */
    CHECK(!tcpwm__region_reserve(&r, 0, true));
}

/* An array written at once (the hash index): every whole huge page
 * advised, the first too. */
static void test_region_whole(void)
{
    tcpwm__region r;
    bool ok = tcpwm__region_reserve(&r, 2 * HUGE, false);
    CHECK(ok == EXPECT_REGION);
    if (!ok)
        return;
    CHECK(((uintptr_t)r.base & (HUGE - 1u)) == 0 && r.size == 2 * HUGE);
    r.base[2 * HUGE - 1] = 1;
    if (have_thp()) {
        CHECK(advised(r.base) == 1);
        CHECK(advised(r.base + 2 * HUGE - 1u) == 1);
    }
    tcpwm__region_release(&r);
}

int main(void)
{
    test_same_with_and_without();
    test_region();
    test_region_whole();
    return check_finish("test_pool");
}
