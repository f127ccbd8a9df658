/* SPDX-License-Identifier: MIT */
#include "pcapmap.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* Pages of the file already read are dropped from the mapping every
 * RELEASE_STEP bytes, all but the last KEEP (more than the largest
 * record): they stay in the page cache, but a replay's resident size no
 * longer grows with the file. Both are multiples of any page size. */
#define RELEASE_STEP (4u << 20)
#define KEEP (1u << 20)

/* libpcap's largest snapshot length (MAXIMUM_SNAPLEN in pcap-int.h). */
#define LIBPCAP_MAX_SNAPLEN 262144u

/* Magic numbers as read in this host's order (pcap-savefile(5)). */
#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v & 0xff00u) << 8) | ((v & 0xffu) << 24);
}

static uint16_t bswap16(uint16_t v)
{
    return (uint16_t)((v >> 8) | (v << 8));
}

/* The file's fields are in the writer's byte order: read in ours, then
 * swapped if the magic said so. The caller has checked off + 4 <= size. */
static uint32_t rd32(const pcapmap *pm, size_t off)
{
    uint32_t v;
    memcpy(&v, pm->base + off, 4);
    return pm->swapped ? bswap32(v) : v;
}

bool pcapmap_init(pcapmap *pm, const uint8_t *base, size_t size, uint32_t max_caplen)
{
    uint32_t magic;
    uint16_t major, minor;

    memset(pm, 0, sizeof *pm);
    if (base == NULL || size < PCAPMAP_FILE_HDR)
        return false;
    memcpy(&magic, base, 4);
    pm->base = base;
    pm->size = size;
    if (magic == MAGIC_USEC || magic == MAGIC_NSEC) {
        pm->swapped = false;
    } else if (bswap32(magic) == MAGIC_USEC || bswap32(magic) == MAGIC_NSEC) {
        pm->swapped = true;
        magic = bswap32(magic);
    } else {
        return false; /* pcapng, the modified pcap format, anything else */
    }
    memcpy(&major, base + 4, 2);
    memcpy(&minor, base + 6, 2);
    if (pm->swapped) {
        major = bswap16(major);
        minor = bswap16(minor);
    }
    /* 2.4 only: libpcap reads older minor versions with quirks of their
     * own. The link type's upper bits (FCS length flags) likewise. */
    if (major != 2 || minor != 4 || (rd32(pm, 20) & 0xfc000000u) != 0)
        return false;
    pm->frac_mult = magic == MAGIC_NSEC ? 1 : 1000;
    pm->max_caplen = max_caplen < LIBPCAP_MAX_SNAPLEN ? max_caplen : LIBPCAP_MAX_SNAPLEN;
    pm->off = PCAPMAP_FILE_HDR;
    return true;
}

bool pcapmap_open(pcapmap *pm, int fd, uint32_t max_caplen)
{
    struct stat st;

    memset(pm, 0, sizeof *pm);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size < (off_t)PCAPMAP_FILE_HDR || (uintmax_t)st.st_size > SIZE_MAX)
        return false;
    size_t size = (size_t)st.st_size;
    void *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED)
        return false;
    /* Read once, front to back: read ahead, drop behind. */
    (void)madvise(base, size, MADV_SEQUENTIAL);
    if (!pcapmap_init(pm, base, size, max_caplen)) {
        munmap(base, size);
        memset(pm, 0, sizeof *pm);
        return false;
    }
    pm->mapped = true;
    return true;
}

pcapmap_status pcapmap_next(pcapmap *pm, pcapmap_rec *rec)
{
    size_t left = pm->size - pm->off;

    if (left == 0)
        return PCAPMAP_END;
    if (left < PCAPMAP_REC_HDR)
        return PCAPMAP_HANDOVER; /* a cut record header: libpcap says so */
    uint32_t caplen = rd32(pm, pm->off + 8);
    if (caplen > pm->max_caplen || caplen > left - PCAPMAP_REC_HDR)
        return PCAPMAP_HANDOVER;
    /* As libpcap 1.10.3 hands them over (checked against it, and by the
     * fuzz harness): in the host's byte order both fields are signed
     * 32-bit (struct pcap_timeval); swapped, they come out of its
     * unsigned swap, zero-extended. Microseconds are scaled in 64 bits. */
    uint32_t sec = rd32(pm, pm->off), frac = rd32(pm, pm->off + 4);
    rec->sec = pm->swapped ? (int64_t)sec : (int64_t)(int32_t)sec;
    rec->nsec = (pm->swapped ? (int64_t)frac : (int64_t)(int32_t)frac) * pm->frac_mult;
    rec->caplen = caplen;
    rec->len = rd32(pm, pm->off + 12);
    rec->data = pm->base + pm->off + PCAPMAP_REC_HDR;
    pm->off += PCAPMAP_REC_HDR + caplen;
    if (pm->mapped && pm->off - pm->released >= RELEASE_STEP + KEEP) {
        size_t upto = (pm->off - KEEP) & ~(size_t)(KEEP - 1);
        /* Read-only and private: a page touched again (never, here) would
         * simply be mapped from the file anew. */
        (void)madvise((void *)(uintptr_t)(pm->base + pm->released), upto - pm->released,
                      MADV_DONTNEED);
        pm->released = upto;
    }
    return PCAPMAP_RECORD;
}

void pcapmap_close(pcapmap *pm)
{
    if (pm->mapped)
        munmap((void *)(uintptr_t)pm->base, pm->size);
    memset(pm, 0, sizeof *pm);
}
