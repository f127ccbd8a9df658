/* SPDX-License-Identifier: MIT */
#include "flowtext.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* Appends with snprintf semantics, never past the buffer. */
static void add(char *out, size_t *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *out, size_t *at, const char *fmt, ...)
{
    if (*at >= FLOWTEXT_MAX - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out + *at, FLOWTEXT_MAX - *at, fmt, ap);
    va_end(ap);
    if (w > 0)
        *at += (size_t)w < FLOWTEXT_MAX - *at ? (size_t)w : FLOWTEXT_MAX - 1 - *at;
}

static void add_addr(char *out, size_t *at, int family, const uint8_t *a)
{
    char s[INET6_ADDRSTRLEN];
    if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, s, sizeof s) == NULL)
        snprintf(s, sizeof s, "?");
    add(out, at, "%s", s);
}

/* The encapsulation, outermost first: an outer IP header is named by what
 * it carries (the record after it says which tunnel). */
static void encap_text(char *out, size_t *at, const tcpwm_flow_view *f)
{
    tcpwm_encap_item it, next;
    size_t off = 0;
    bool mpls_open = false;
    while (tcpwm_encap_next(f->encap, f->encap_len, &off, &it)) {
        if (it.type != TCPWM_EI_MPLS && mpls_open) {
            add(out, at, " | ");
            mpls_open = false;
        }
        switch (it.type) {
        case TCPWM_EI_IP: {
            size_t peek = off;
            bool more = tcpwm_encap_next(f->encap, f->encap_len, &peek, &next);
            const char *kind = it.proto == 47 ? "gre" : it.proto == 17 ? "udp" : "ipip";
            if (it.proto == 17 && more)
                kind = next.type == TCPWM_EI_VXLAN ? "vxlan" : "geneve";
            add(out, at, "%s ", kind);
            add_addr(out, at, it.family, it.addr[0]);
            add(out, at, "<>");
            add_addr(out, at, it.family, it.addr[1]);
            if (it.proto == 4 || it.proto == 41)
                add(out, at, " | ");
            break;
        }
        case TCPWM_EI_GRE:
            add(out, at, it.has_key ? " key %" PRIu32 " | " : " | ", it.id);
            break;
        case TCPWM_EI_VXLAN:
        case TCPWM_EI_GENEVE:
            add(out, at, " vni %" PRIu32 " | ", it.id);
            break;
        case TCPWM_EI_ERSPAN:
            if (it.version == 0)
                add(out, at, "erspan1 | ");
            else
                add(out, at, "erspan%u session %" PRIu32 " | ", it.version + 1u, it.id);
            break;
        case TCPWM_EI_MPLS:
            add(out, at, mpls_open ? "/%" PRIu32 : "mpls %" PRIu32, it.id);
            mpls_open = true;
            break;
        case TCPWM_EI_VLAN:
            add(out, at, "vlan %" PRIu32 " | ", it.id);
            break;
        }
    }
    if (mpls_open)
        add(out, at, " | ");
}

void flowtext_format(char out[FLOWTEXT_MAX], const tcpwm_flow_view *f, unsigned dir)
{
    size_t at = 0;
    int w;

    out[0] = '\0';
    if (f->encap_len > 0) {
        /* The segment's own tags are the outermost link's: first. */
        if (f->vlan_count == 1)
            add(out, &at, "vlan %u | ", (unsigned)f->vlan[0]);
        else if (f->vlan_count >= 2)
            add(out, &at, "vlan %u/%u | ", (unsigned)f->vlan[0], (unsigned)f->vlan[1]);
        encap_text(out, &at, f);
        char rest[FLOWTEXT_MAX];
        tcpwm_flow_view plain = *f;
        plain.encap_len = 0;
        plain.vlan_count = 0;
        flowtext_format(rest, &plain, dir);
        add(out, &at, "%s", rest);
        return;
    }

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
