/* SPDX-License-Identifier: MIT */
/* mmap and madvise are POSIX and Linux, not C11: this file alone asks for
 * them, and compiles to the fallback (no region) elsewhere. */
#if defined(__linux__)
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#endif
#include "region.h"

#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define TCPWM__NO_REGION 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TCPWM__NO_REGION 1
#endif
#endif

#if defined(__linux__) && UINTPTR_MAX > 0xffffffffu && !defined(TCPWM__NO_REGION)
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE ((size_t)2 << 20)

bool tcpwm__region_reserve(tcpwm__region *r, size_t size, bool grows)
{
    r->base = NULL;
    r->size = 0;
    if (size == 0 || size > SIZE_MAX - HUGE_PAGE)
        return false;
    /* Map a huge page more than asked, then return the ends that are off
     * the 2 MiB boundary. MAP_NORESERVE: what is never written is never
     * counted against the system's commit limit either. */
    size_t span = size + HUGE_PAGE;
    void *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED)
        return false;
    uintptr_t start = (uintptr_t)m,
              aligned = (start + HUGE_PAGE - 1u) & ~(uintptr_t)(HUGE_PAGE - 1u);
    size_t head = (size_t)(aligned - start);
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096u;
    size_t used = (size + page - 1u) / page * page;
    if (head > 0)
        munmap(m, head);
    if (span - head > used)
        munmap((unsigned char *)aligned + used, span - head - used);
    /* A growing array on huge pages from its second 2 MiB on: a small
     * table (under some 14,000 flows) fits the TLB anyway, and costs no
     * more memory than it did; the partial page at the end stays small. */
    size_t whole = size & ~(HUGE_PAGE - 1u), from = grows ? HUGE_PAGE : 0;
    if (whole > from)
        (void)madvise((unsigned char *)aligned + from, whole - from, MADV_HUGEPAGE);
    r->base = (unsigned char *)aligned;
    r->size = used;
    return true;
}

void tcpwm__region_release(tcpwm__region *r)
{
    if (r->base != NULL)
        munmap(r->base, r->size);
    r->base = NULL;
    r->size = 0;
}

#else

bool tcpwm__region_reserve(tcpwm__region *r, size_t size, bool grows)
{
    (void)size;
    (void)grows;
    r->base = NULL;
    r->size = 0;
    return false;
}

void tcpwm__region_release(tcpwm__region *r)
{
    r->base = NULL;
    r->size = 0;
}

#endif
