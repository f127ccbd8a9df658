/* SPDX-License-Identifier: MIT */
/* A flow as text, in one direction: "192.0.2.1:443 > 198.51.100.7:50000",
 * "[2001:db8::1]:443 > [2001:db8::2]:50000", with "vlan 10 " (or
 * "vlan 10/20 " for two tags) in front when the flow was tagged, and its
 * encapsulation before that, outermost first, each header ending in " | ":
 * "vxlan 10.0.0.1<>10.0.0.2 vni 42 | ", "gre 10.0.0.1<>10.0.0.2 key 7 |
 * erspan2 session 100 | ", "ipip 10.0.0.1<>10.0.0.2 | ", "mpls 16/17 | ",
 * "vlan 30 | " (a tag of an Ethernet frame inside a tunnel). Tunnel
 * endpoints are written lower first, not by direction. */
#ifndef TCPWM_CLI_FLOWTEXT_H
#define TCPWM_CLI_FLOWTEXT_H

#include <stddef.h>

#include "tcpwm/monitor.h"

/* Longest possible text, with its NUL. */
#define FLOWTEXT_MAX 1024

/* dir 0: endpoint 0 -> endpoint 1; dir 1: the reverse. */
void flowtext_format(char out[FLOWTEXT_MAX], const tcpwm_flow_view *f, unsigned dir);

#endif
