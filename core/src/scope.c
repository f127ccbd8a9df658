/* SPDX-License-Identifier: MIT */
/* Global unicast test (docs/semantics.md, section 2).
 *
 * Two tables per family: the blocks that are not global, and the few
 * addresses inside those blocks that the IANA Special-Purpose Address
 * Registries (RFC 6890 and updates) still mark globally reachable. No
 * exception lies inside more than one block, so "in a block and not an
 * exception" is the whole rule. */
#include "tcpwm/scope.h"

#include <stddef.h>

typedef struct prefix {
    uint8_t addr[16];
    uint8_t bits;
} prefix;

static bool in_prefix(const uint8_t *a, const prefix *p)
{
    size_t whole = p->bits / 8u;
    unsigned rest = p->bits % 8u;
    for (size_t i = 0; i < whole; i++)
        if (a[i] != p->addr[i])
            return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[whole] & mask) == (p->addr[whole] & mask);
}

static bool in_any(const uint8_t *a, const prefix *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (in_prefix(a, &t[i]))
            return true;
    return false;
}

static const prefix v4_not_global[] = {
    {{0}, 8},             /* "this network", RFC 791 */
    {{10}, 8},            /* private, RFC 1918 */
    {{100, 64}, 10},      /* shared address space, RFC 6598 */
    {{127}, 8},           /* loopback, RFC 1122 */
    {{169, 254}, 16},     /* link local, RFC 3927 */
    {{172, 16}, 12},      /* private, RFC 1918 */
    {{192, 0, 0}, 24},    /* IETF protocol assignments, RFC 6890 */
    {{192, 0, 2}, 24},    /* TEST-NET-1, RFC 5737 */
    {{192, 88, 99}, 24},  /* deprecated 6to4 relay anycast, RFC 7526 */
    {{192, 168}, 16},     /* private, RFC 1918 */
    {{198, 18}, 15},      /* benchmarking, RFC 2544 */
    {{198, 51, 100}, 24}, /* TEST-NET-2, RFC 5737 */
    {{203, 0, 113}, 24},  /* TEST-NET-3, RFC 5737 */
    {{224}, 4},           /* multicast, RFC 5771 */
    {{240}, 4},           /* reserved, RFC 1112, and limited broadcast */
};

static const prefix v4_global_inside[] = {
    {{192, 0, 0, 9}, 32},  /* PCP anycast, RFC 7723 */
    {{192, 0, 0, 10}, 32}, /* TURN anycast, RFC 8155 */
};

static const prefix v6_not_global[] = {
    {{0}, 128},                                              /* ::, unspecified */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128}, /* ::1, loopback */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96},        /* IPv4-mapped, RFC 4291 */
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48},              /* local-use NAT64, RFC 8215 */
    {{0x01, 0x00}, 64},                                      /* discard only, RFC 6666 */
    {{0x20, 0x01, 0x00, 0x00}, 23},                          /* IETF protocol assignments */
    {{0x20, 0x01, 0x0d, 0xb8}, 32},                          /* documentation, RFC 3849 */
    {{0x3f, 0xff}, 20},                                      /* documentation, RFC 9637 */
    {{0x20, 0x02}, 16},                                      /* 6to4, RFC 3056 */
    {{0x5f, 0x00}, 16},                                      /* SRv6 SIDs, RFC 9602 */
    {{0xfc}, 7},                                             /* unique local, RFC 4193 */
    {{0xfe, 0x80}, 10},                                      /* link local, RFC 4291 */
    {{0xff}, 8},                                             /* multicast, RFC 4291 */
};

/* All inside 2001::/23. */
static const prefix v6_global_inside[] = {
    {{0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128}, /* PCP anycast */
    {{0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 128}, /* TURN anycast */
    {{0x20, 0x01, 0x00, 0x03}, 32},                                      /* AMT, RFC 7450 */
    {{0x20, 0x01, 0x00, 0x04, 0x01, 0x12}, 48},                          /* AS112-v6, RFC 7535 */
    {{0x20, 0x01, 0x00, 0x20}, 28},                                      /* ORCHIDv2, RFC 7343 */
    {{0x20, 0x01, 0x00, 0x30}, 28},                                      /* DETs, RFC 9374 */
};

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* This runs twice per packet. Most addresses start with a byte that
 * begins no block in the tables above, and are global without a walk;
 * these are the first bytes of the blocks (keep them in step). */
static bool v4_first_byte_listed(uint8_t b)
{
    switch (b) {
    case 0: case 10: case 100: case 127: case 169: case 172: case 192: case 198: case 203:
        return true;
    default:
        return b >= 224;
    }
}

static bool v6_first_byte_listed(uint8_t b)
{
    switch (b) {
    case 0x00: case 0x01: case 0x20: case 0x3f: case 0x5f: case 0xfc: case 0xfd: case 0xfe:
    case 0xff:
        return true;
    default:
        return false;
    }
}

bool tcpwm_addr_is_global(uint8_t family, const uint8_t addr[16])
{
    switch (family) {
    case 4:
        if (!v4_first_byte_listed(addr[0]))
            return true;
        return !in_any(addr, v4_not_global, COUNT(v4_not_global)) ||
               in_any(addr, v4_global_inside, COUNT(v4_global_inside));
    case 6:
        if (!v6_first_byte_listed(addr[0]))
            return true;
        return !in_any(addr, v6_not_global, COUNT(v6_not_global)) ||
               in_any(addr, v6_global_inside, COUNT(v6_global_inside));
    default:
        return false;
    }
}
