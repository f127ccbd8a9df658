/* SPDX-License-Identifier: MIT */
/* The metrics server: libmicrohttpd with its own polling thread, on a
 * listening socket opened beforehand (endpoint.h).
 *
 *   GET <telemetry path>   the metrics: Prometheus text 0.0.4, or
 *                          OpenMetrics 1.0 when Accept prefers it
 *   GET /flows?top=N&by=loss|retransmissions|rtt
 *                          JSON of the N worst flows of the table, by
 *                          loss events (the default), retransmissions or
 *                          ACK RTT (top.h; flowjson.h,
 *                          docs/flows.schema.json; N from 1 to
 *                          HTTP_FLOWS_TOP_MAX, default
 *                          HTTP_FLOWS_TOP_DEFAULT); a bad query gets 400
 *                          with a one-line reason
 *   GET /                  a small HTML page linking to the metrics
 *   GET /-/healthy         200 while the process runs
 *   GET /-/ready           200 once metrics are published, else 503
 *   other paths            404; methods other than GET and HEAD: 405
 *
 * Abuse is bounded: connections (HTTP_CONNECTION_LIMIT, further clients
 * wait in the listen queue), idle time per connection (HTTP_TIMEOUT_S,
 * against slow clients), request size (HTTP_MEMORY_LIMIT per connection:
 * bigger headers get an error), response size (HTTP_RESPONSE_LIMIT).
 *
 * With a web configuration (--web.config.file, webconfig.h): HTTPS through
 * libmicrohttpd's GnuTLS support, client certificates asked for in the
 * handshake as client_auth_type says and verified there and again in the
 * handler (libmicrohttpd itself only asks), basic authentication (401 with
 * WWW-Authenticate), the configured response headers. A thread of the
 * server re-reads the file and the files it names every
 * HTTP_WEBCONFIG_POLL_S: new users or headers apply at once; a new
 * certificate, key, authority or TLS policy starts a new daemon on the
 * same listening socket (libmicrohttpd cannot swap certificates) before
 * the old one stops, so the port never refuses a connection; a file that
 * no longer loads keeps the configuration that runs, with one line on
 * stderr. The capture thread takes no part in any of it. */
#ifndef TCPWM_CLI_HTTP_H
#define TCPWM_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "snapshot.h"

struct webconfig;
struct flowsnap;

#define HTTP_CONNECTION_LIMIT 64u
#define HTTP_TIMEOUT_S 10u
#define HTTP_MEMORY_LIMIT (32u * 1024u)
#define HTTP_RESPONSE_LIMIT (1024u * 1024u)

/* /flows: where, how many flows by default and at most (the ranking costs
 * the capture thread one pass over its table and O(N) memory), and the
 * largest answer: a flow takes well under 8 KiB of JSON, even with the
 * deepest encapsulation. */
#define HTTP_FLOWS_PATH "/flows"
#define HTTP_FLOWS_TOP_DEFAULT 10u
#define HTTP_FLOWS_TOP_MAX 1000u
#define HTTP_FLOWS_RESPONSE_LIMIT (HTTP_FLOWS_TOP_MAX * 8192u + 4096u)

typedef struct http_config {
    int listen_fd;              /* bound and listening; the server owns it */
    const char *telemetry_path; /* "/metrics" */
    snapshot *snap;
    struct flowsnap *flows; /* GET /flows asks the capture thread; NULL: no /flows */
    bool verbose; /* print libmicrohttpd's messages */
    /* --web.config.file and its loaded contents (the server takes them
     * over; webconfig_free() is its business), or NULL: plain HTTP, as
     * without the flag. */
    const char *web_path;
    struct webconfig *web;
} http_config;

#define HTTP_WEBCONFIG_POLL_S 1
#define HTTP_REALM "tcp_window_monitor"

typedef struct http_server http_server;

/* Start serving. 0, or -1 with the reason in err (listen_fd is closed
 * either way when the server stops or fails to start). */
int http_start(const http_config *cfg, http_server **out, char *err, size_t errlen);

/* Stop the thread, close every connection and the socket. */
void http_stop(http_server *h);

/* Whether an Accept header value prefers OpenMetrics to the text format:
 * the best q of application/openmetrics-text is above 0 and at least that
 * of text/plain and the wildcards that cover it. NULL: no. */
bool http_wants_openmetrics(const char *accept);

#endif
