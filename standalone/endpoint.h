/* SPDX-License-Identifier: MIT */
/* The address the metrics server listens on: --listen ADDR:PORT and -p
 * PORT parsed into a socket address, and the listening socket opened from
 * it (by us, not by libmicrohttpd, so that a taken port is reported
 * precisely and the socket exists before root is dropped). */
#ifndef TCPWM_CLI_ENDPOINT_H
#define TCPWM_CLI_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

/* The port of the original tool, kept as the default. */
#define ENDPOINT_DEFAULT_PORT 9090

/* "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" and its NUL. */
#define ENDPOINT_TEXT_MAX 56

typedef struct endpoint {
    bool any;                     /* all addresses: [::] dual-stack, else 0.0.0.0 */
    struct sockaddr_storage addr; /* when !any: AF_INET or AF_INET6 */
    socklen_t addrlen;
    uint16_t port;
} endpoint;

/* All addresses, port 9090. */
void endpoint_default(endpoint *e);

/* "192.0.2.1:9100", "[::1]:9100", or ":9100" (all addresses). Numeric
 * addresses only; port 0 asks the kernel for a free one. 0, or -1 if s
 * is not such an address. */
int endpoint_parse(const char *s, endpoint *e);

/* "127.0.0.1:9100", "[::1]:9100", "[::]:9090" (all addresses). */
void endpoint_format(const endpoint *e, char out[ENDPOINT_TEXT_MAX]);

/* Open, bind and listen. Returns the socket, or -1 with the reason in err
 * (a taken port is explained: the Prometheus server defaults to 9090 too).
 * With port 0, e->port becomes the port the kernel chose. */
int endpoint_listen(endpoint *e, char *err, size_t errlen);

#endif
