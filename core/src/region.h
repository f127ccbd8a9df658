/* SPDX-License-Identifier: MIT */
/* An address range for a big array read at random: one that grows, in
 * order, up to a bound known in advance (the records of a pool whose
 * limit is the flow table's cap), or one made whole (the table's hash
 * index). Nothing is backed by memory until it is first written, so
 * reserving for the cap costs address space, not memory.
 *
 * Why: the per-flow arrays are read at random, one record a packet, and
 * with 4 KiB pages nearly every such read also misses the TLB (the
 * benchmark's 125,000 flows spread their records over 4,400 pages, more
 * than the second-level TLB holds); in a virtual machine that page walk
 * costs as much as the miss itself. A reserved range can ask for
 * transparent huge pages (2 MiB: 9 pages for the same records), which the
 * scattered chunks of an allocator cannot: the benchmark's replay ran 10%
 * faster (bench/RESULTS.md, 2026-12-06).
 *
 * Only where the platform allows it: Linux, 64-bit, and not under
 * AddressSanitizer (its redzones around each allocated chunk are worth
 * more than the speed in that build). tcpwm__region_reserve() says false
 * elsewhere, and callers allocate as before. */
#ifndef TCPWM_REGION_H
#define TCPWM_REGION_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tcpwm__region {
    unsigned char *base; /* NULL: none */
    size_t size;
} tcpwm__region;

/* Reserves `size` bytes, zero until written, on a 2 MiB boundary, and
 * offers its whole 2 MiB pages to transparent huge pages (advice the
 * system may ignore). `grows`: the array is written in order over time (a
 * pool's records), so its first 2 MiB stay on small pages, and neither a
 * small array nor the partial page it is growing into at the end holds
 * more memory than it uses, give or take a small page; otherwise it is
 * written all at once (the hash index) and every whole 2 MiB page is
 * offered. false (and r->base NULL) where not available or when the
 * address space is short. */
bool tcpwm__region_reserve(tcpwm__region *r, size_t size, bool grows);

/* Returns the range (no-op without one). */
void tcpwm__region_release(tcpwm__region *r);

#endif
