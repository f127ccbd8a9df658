/* SPDX-License-Identifier: MIT */
#include "endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Enough for the pending connections of a burst of scrapers; libmicrohttpd
 * takes them off the queue as its connection limit allows. */
#define LISTEN_BACKLOG 256

void endpoint_default(endpoint *e)
{
    memset(e, 0, sizeof *e);
    e->any = true;
    e->port = ENDPOINT_DEFAULT_PORT;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int endpoint_parse(const char *s, endpoint *e)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *colon, *hstart = s;
    size_t hlen;
    endpoint r;

    memset(&r, 0, sizeof r);
    if (*s == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL || close[1] != ':')
            return -1;
        hstart = s + 1;
        hlen = (size_t)(close - hstart);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen) != NULL)
            return -1; /* a bare IPv6 address: it needs brackets */
    }
    if (hlen >= sizeof host || parse_port(colon + 1, &r.port) != 0)
        return -1;
    memcpy(host, hstart, hlen);
    host[hlen] = '\0';

    if (hlen == 0 && *s != '[') {
        r.any = true;
    } else if (*s == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&r.addr;

        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return -1;
        a6->sin6_family = AF_INET6;
        r.addrlen = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&r.addr;

        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return -1;
        a4->sin_family = AF_INET;
        r.addrlen = sizeof *a4;
    }
    *e = r;
    return 0;
}

void endpoint_format(const endpoint *e, char out[ENDPOINT_TEXT_MAX])
{
    char host[INET6_ADDRSTRLEN] = "::";
    int v6 = 1;

    if (!e->any && e->addr.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&e->addr)->sin_addr, host, sizeof host);
        v6 = 0;
    } else if (!e->any) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&e->addr)->sin6_addr, host, sizeof host);
    }
    snprintf(out, ENDPOINT_TEXT_MAX, v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)e->port);
}

/* One socket of the given address, bound and listening; -1 with errno.
 * dual_stack: an IPv6 socket that takes IPv4 connections too, whatever
 * net.ipv6.bindv6only says. */
static int open_bound(const struct sockaddr *sa, socklen_t len, bool dual_stack)
{
    int one = 1, zero = 0, saved;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    /* A restart must not wait for the previous instance's TIME_WAIT
     * connections; a port held by a live listener still fails. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (dual_stack && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0) ||
        bind(fd, sa, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int endpoint_listen(endpoint *e, char *err, size_t errlen)
{
    char text[ENDPOINT_TEXT_MAX];
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    int fd;

    if (e->any) {
        struct sockaddr_in6 a6;
        struct sockaddr_in a4;

        memset(&a6, 0, sizeof a6);
        a6.sin6_family = AF_INET6;
        a6.sin6_addr = in6addr_any;
        a6.sin6_port = htons(e->port);
        fd = open_bound((const struct sockaddr *)&a6, sizeof a6, true);
        if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
            /* A kernel without IPv6: all IPv4 addresses then. */
            memset(&a4, 0, sizeof a4);
            a4.sin_family = AF_INET;
            a4.sin_addr.s_addr = htonl(INADDR_ANY);
            a4.sin_port = htons(e->port);
            fd = open_bound((const struct sockaddr *)&a4, sizeof a4, false);
            if (fd >= 0) {
                e->any = false;
                memcpy(&e->addr, &a4, sizeof a4);
                e->addrlen = sizeof a4;
            }
        }
    } else {
        if (e->addr.ss_family == AF_INET)
            ((struct sockaddr_in *)&e->addr)->sin_port = htons(e->port);
        else
            ((struct sockaddr_in6 *)&e->addr)->sin6_port = htons(e->port);
        fd = open_bound((const struct sockaddr *)&e->addr, e->addrlen, false);
    }

    endpoint_format(e, text);
    if (fd < 0 && errno == EADDRINUSE) {
        snprintf(err, errlen,
                 "cannot listen on %s: port %u is already in use (see 'ss -ltnp | grep :%u')%s",
                 text, (unsigned)e->port, (unsigned)e->port,
                 e->port == ENDPOINT_DEFAULT_PORT
                     ? "; the Prometheus server itself listens on 9090 by default: next to it, "
                       "give this exporter another port, e.g. -p 9100"
                     : "; choose another port with -p");
        return -1;
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", text, strerror(errno));
        return -1;
    }
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0) {
        if (bound.ss_family == AF_INET)
            e->port = ntohs(((const struct sockaddr_in *)&bound)->sin_port);
        else if (bound.ss_family == AF_INET6)
            e->port = ntohs(((const struct sockaddr_in6 *)&bound)->sin6_port);
    }
    return fd;
}
