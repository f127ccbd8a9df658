/* SPDX-License-Identifier: MIT */
/* Global-unicast test for addresses, per the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (RFC 6890 and its updates); the same
 * set as Rust's IpAddr::is_global, which the original tool used. */
#ifndef TCPWM_SCOPE_H
#define TCPWM_SCOPE_H

#include <stdbool.h>
#include <stdint.h>

/* family 4: addr[0..3]; family 6: addr[0..15]. Any other family: false. */
bool tcpwm_addr_is_global(uint8_t family, const uint8_t addr[16]);

#endif
