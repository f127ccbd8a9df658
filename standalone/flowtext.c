/* SPDX-License-Identifier: MIT */
#include "flowtext.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

/* "addr:port" or "[addr]:port"; returns the length written. */
static int endpoint(char *out, size_t n, const tcpwm_flow_view *f, unsigned side)
{
    char addr[INET6_ADDRSTRLEN];

    if (f->family == 6) {
        if (inet_ntop(AF_INET6, f->addr[side], addr, sizeof addr) == NULL)
            snprintf(addr, sizeof addr, "?");
        return snprintf(out, n, "[%s]:%u", addr, (unsigned)f->port[side]);
    }
    if (inet_ntop(AF_INET, f->addr[side], addr, sizeof addr) == NULL)
        snprintf(addr, sizeof addr, "?");
    return snprintf(out, n, "%s:%u", addr, (unsigned)f->port[side]);
}

void flowtext_format(char out[FLOWTEXT_MAX], const tcpwm_flow_view *f, unsigned dir)
{
    size_t at = 0;
    int w;

    if (f->vlan_count == 1)
        w = snprintf(out, FLOWTEXT_MAX, "vlan %u ", (unsigned)f->vlan[0]);
    else if (f->vlan_count >= 2)
        w = snprintf(out, FLOWTEXT_MAX, "vlan %u/%u ", (unsigned)f->vlan[0], (unsigned)f->vlan[1]);
    else
        w = 0;
    at += (size_t)w;
    w = endpoint(out + at, FLOWTEXT_MAX - at, f, dir & 1u);
    at += (size_t)w;
    w = snprintf(out + at, FLOWTEXT_MAX - at, " > ");
    at += (size_t)w;
    endpoint(out + at, FLOWTEXT_MAX - at, f, (dir & 1u) ^ 1u);
    out[FLOWTEXT_MAX - 1] = '\0';
}
