/* SPDX-License-Identifier: MIT */
/* Unit tests of the global-unicast test (core/src/scope.c,
 * docs/semantics.md section 2): for every listed range, the first and last
 * address inside and the neighbours just outside. */
#define _POSIX_C_SOURCE 200112L

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "tcpwm/scope.h"

typedef struct probe {
    const char *addr;
    bool global;
} probe;

static const probe v4[] = {
    {"8.8.8.8", true},
    {"1.1.1.1", true},
    /* 0.0.0.0/8 */
    {"0.0.0.0", false},
    {"0.255.255.255", false},
    {"1.0.0.0", true},
    /* 10.0.0.0/8 */
    {"9.255.255.255", true},
    {"10.0.0.0", false},
    {"10.255.255.255", false},
    {"11.0.0.0", true},
    /* 100.64.0.0/10 */
    {"100.63.255.255", true},
    {"100.64.0.0", false},
    {"100.127.255.255", false},
    {"100.128.0.0", true},
    /* 127.0.0.0/8 */
    {"126.255.255.255", true},
    {"127.0.0.0", false},
    {"127.0.0.1", false},
    {"127.255.255.255", false},
    {"128.0.0.0", true},
    /* 169.254.0.0/16 */
    {"169.253.255.255", true},
    {"169.254.0.0", false},
    {"169.254.255.255", false},
    {"169.255.0.0", true},
    /* 172.16.0.0/12 */
    {"172.15.255.255", true},
    {"172.16.0.0", false},
    {"172.31.255.255", false},
    {"172.32.0.0", true},
    /* 192.0.0.0/24, except .9 and .10 */
    {"191.255.255.255", true},
    {"192.0.0.0", false},
    {"192.0.0.8", false},
    {"192.0.0.9", true},
    {"192.0.0.10", true},
    {"192.0.0.11", false},
    {"192.0.0.255", false},
    {"192.0.1.0", true},
    /* 192.0.2.0/24 */
    {"192.0.1.255", true},
    {"192.0.2.0", false},
    {"192.0.2.255", false},
    {"192.0.3.0", true},
    /* 192.88.99.0/24 */
    {"192.88.98.255", true},
    {"192.88.99.0", false},
    {"192.88.99.255", false},
    {"192.88.100.0", true},
    /* 192.168.0.0/16 */
    {"192.167.255.255", true},
    {"192.168.0.0", false},
    {"192.168.255.255", false},
    {"192.169.0.0", true},
    /* 198.18.0.0/15 */
    {"198.17.255.255", true},
    {"198.18.0.0", false},
    {"198.19.255.255", false},
    {"198.20.0.0", true},
    /* 198.51.100.0/24 */
    {"198.51.99.255", true},
    {"198.51.100.0", false},
    {"198.51.100.255", false},
    {"198.51.101.0", true},
    /* 203.0.113.0/24 */
    {"203.0.112.255", true},
    {"203.0.113.0", false},
    {"203.0.113.255", false},
    {"203.0.114.0", true},
    /* 224.0.0.0/4 */
    {"223.255.255.255", true},
    {"224.0.0.0", false},
    {"239.255.255.255", false},
    /* 240.0.0.0/4 with 255.255.255.255 */
    {"240.0.0.0", false},
    {"255.255.255.254", false},
    {"255.255.255.255", false},
};

static const probe v6[] = {
    {"2606:4700:4700::1111", true},
    {"2a00:1450:4001::200e", true},
    /* ::/128 and ::1/128, and nothing else near them */
    {"::", false},
    {"::1", false},
    {"::2", true},
    {"::1.2.3.4", true},
    /* ::ffff:0:0/96 */
    {"::fffe:ffff:ffff", true},
    {"::ffff:0.0.0.0", false},
    {"::ffff:8.8.8.8", false},
    {"::ffff:255.255.255.255", false},
    {"::1:0:0:0", true},
    /* 64:ff9b:1::/48 (64:ff9b::/96 stays global) */
    {"64:ff9b::8.8.8.8", true},
    {"64:ff9b:0:ffff:ffff:ffff:ffff:ffff", true},
    {"64:ff9b:1::", false},
    {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", false},
    {"64:ff9b:2::", true},
    /* 100::/64 */
    {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"100::", false},
    {"100::ffff:ffff:ffff:ffff", false},
    {"100:0:0:1::", true},
    /* 2001::/23 and its global exceptions */
    {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001::", false},
    {"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"2001:1::", false},
    {"2001:1::1", true},
    {"2001:1::2", true},
    {"2001:1::3", false},
    {"2001:2::", false},
    {"2001:2:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"2001:3::", true},
    {"2001:3:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:4::", false},
    {"2001:4:111:ffff:ffff:ffff:ffff:ffff", false},
    {"2001:4:112::", true},
    {"2001:4:112:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:4:113::", false},
    {"2001:10::", false},
    {"2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"2001:20::", true},
    {"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:30::", true},
    {"2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:40::", false},
    {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"2001:200::", true},
    /* 2001:db8::/32 */
    {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:db8::", false},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"2001:db9::", true},
    /* 2002::/16 */
    {"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2002::", false},
    {"2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"2003::", true},
    /* fc00::/7 */
    {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"fc00::", false},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"fe00::", true},
    /* fe80::/10 */
    {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"fe80::", false},
    {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"fec0::", true},
    /* ff00::/8 */
    {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"ff00::", false},
    {"ff0e::1", false},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
};

static void check_probe(int af, uint8_t family, const probe *p)
{
    uint8_t a[16];
    memset(a, 0, sizeof a);
    CHECK(inet_pton(af, p->addr, a) == 1);
    bool got = tcpwm_addr_is_global(family, a);
    CHECK(got == p->global);
    if (got != p->global)
        fprintf(stderr, "  %s: got %s\n", p->addr, got ? "global" : "not global");
}

int main(void)
{
    for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++)
        check_probe(AF_INET, 4, &v4[i]);
    for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++)
        check_probe(AF_INET6, 6, &v6[i]);

    /* Only the first four bytes count for IPv4. */
    uint8_t a[16] = {8, 8, 8, 8, 0xff, 0xff, 0xff, 0xff};
    CHECK(tcpwm_addr_is_global(4, a));
    a[0] = 10;
    CHECK(!tcpwm_addr_is_global(4, a));
    /* Unknown families are never global. */
    uint8_t g[16] = {0x26, 0x06, 0x47};
    CHECK(tcpwm_addr_is_global(6, g));
    CHECK(!tcpwm_addr_is_global(0, g));
    CHECK(!tcpwm_addr_is_global(5, g));
    CHECK(!tcpwm_addr_is_global(255, g));
    return check_finish("test_scope");
}
