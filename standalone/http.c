/* SPDX-License-Identifier: MIT */
#include "http.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>

#include "tcpwm/buf.h"
#include "tcpwm/err.h"

#define PROG "tcp_window_monitor"

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define OPENMETRICS_TYPE "application/openmetrics-text"

struct http_server {
    struct MHD_Daemon *d;
    const char *path;
    snapshot *snap;
    char home[1024]; /* the page at "/" */
};

/* ---- Content negotiation ------------------------------------------------ */

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* [p, p + n) without the blanks around it. */
static const char *trim(const char *p, size_t *n)
{
    while (*n > 0 && is_space(*p)) {
        p++;
        (*n)--;
    }
    while (*n > 0 && is_space(p[*n - 1]))
        (*n)--;
    return p;
}

/* The q of a media range's parameters ";version=1.0.0;q=0.5" (n bytes):
 * 1 when absent, 0 when unreadable (RFC 9110 12.4.2: at most 3 decimals). */
static double q_param(const char *p, size_t n)
{
    while (n > 0) {
        size_t len = 0, plen;
        const char *param;

        while (len < n && p[len] != ';')
            len++;
        plen = len;
        param = trim(p, &plen);
        if (plen >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
            char num[8], *end;
            double q;

            if (plen - 2 == 0 || plen - 2 >= sizeof num)
                return 0;
            memcpy(num, param + 2, plen - 2);
            num[plen - 2] = '\0';
            q = strtod(num, &end);
            return (*end != '\0' || q < 0 || q > 1) ? 0 : q;
        }
        if (len == n)
            break;
        p += len + 1;
        n -= len + 1;
    }
    return 1;
}

static bool type_is(const char *t, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(t, want, n) == 0;
}

bool http_wants_openmetrics(const char *accept)
{
    double q_om = 0, q_text = 0;

    if (accept == NULL)
        return false;
    for (const char *p = accept; *p != '\0';) {
        size_t n = strcspn(p, ",");     /* one element: type, then parameters */
        size_t tlen = strcspn(p, ";,"); /* the type */
        double q = q_param(p + tlen, n - tlen);
        const char *t = trim(p, &tlen);

        if (type_is(t, tlen, OPENMETRICS_TYPE)) {
            if (q > q_om)
                q_om = q;
        } else if (type_is(t, tlen, "text/plain") || type_is(t, tlen, "text/*") ||
                   type_is(t, tlen, "*/*")) {
            if (q > q_text)
                q_text = q;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return q_om > 0 && q_om >= q_text;
}

/* ---- Responses ---------------------------------------------------------- */

/* Queue a response and drop our reference. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r,
                             const char *type)
{
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO; /* out of memory: MHD closes the connection */
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
        (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
         MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* A constant body. */
static enum MHD_Result reply_static(struct MHD_Connection *conn, unsigned status, const char *type,
                                    const char *body)
{
    return reply(conn, status,
                 MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                                 MHD_RESPMEM_PERSISTENT),
                 type);
}

static enum MHD_Result reply_metrics(http_server *h, struct MHD_Connection *conn)
{
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    tcpwm_format f = http_wants_openmetrics(accept) ? TCPWM_FMT_OPENMETRICS : TCPWM_FMT_PROMETHEUS;
    snapshot_data d;
    tcpwm_buf b;
    int rc;

    /* The copy is taken under the lock; rendering happens outside it. */
    snapshot_scrape(h->snap, &d);
    tcpwm_buf_init(&b, HTTP_RESPONSE_LIMIT);
    rc = snapshot_render(&d, f, &b);
    if (rc != 0 || b.data == NULL) {
        tcpwm_buf_free(&b);
        return reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT_PLAIN,
                            "cannot render the metrics\n");
    }
    /* MHD frees the buffer once the response is gone. */
    return reply(conn, MHD_HTTP_OK,
                 MHD_create_response_from_buffer_with_free_callback(b.len, b.data, free),
                 tcpwm_expo_content_type(f));
}

/* Whether the request announced a body (a GET normally has none). */
static bool has_body(struct MHD_Connection *conn)
{
    const char *len =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

    return (len != NULL && strcmp(len, "0") != 0) ||
           MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
               NULL;
}

static enum MHD_Result answer(http_server *h, struct MHD_Connection *conn, const char *url)
{
    if (strcmp(url, h->path) == 0)
        return reply_metrics(h, conn);
    if (strcmp(url, "/") == 0)
        return reply_static(conn, MHD_HTTP_OK, "text/html; charset=utf-8", h->home);
    if (strcmp(url, "/-/healthy") == 0)
        return reply_static(conn, MHD_HTTP_OK, TEXT_PLAIN, "OK\n");
    if (strcmp(url, "/-/ready") == 0) {
        if (snapshot_ready(h->snap))
            return reply_static(conn, MHD_HTTP_OK, TEXT_PLAIN, "Ready\n");
        return reply_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT_PLAIN, "Not ready\n");
    }
    return reply_static(conn, MHD_HTTP_NOT_FOUND, TEXT_PLAIN, "404 not found\n");
}

/* MHD calls this once the headers are in, then for each piece of a body,
 * then once the request is complete. An answer given before that last
 * call discards the rest of the request and closes the connection; an
 * answer given in it keeps the connection alive for the next scrape. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    static int seen; /* marks a request whose headers were handled */
    http_server *h = cls;

    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        *req_cls = &seen;
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
            return reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT_PLAIN,
                                "405 method not allowed: use GET\n");
        /* Nobody sends a body with GET; answer at once, not reading it. */
        if (has_body(conn))
            return answer(h, conn, url);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* not reached: bodies are refused above */
        return MHD_YES;
    }
    /* MHD answers HEAD with the headers of this response, without body. */
    return answer(h, conn, url);
}

/* ---- The daemon --------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs(PROG ": http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

int http_start(const http_config *cfg, http_server **out, char *err, size_t errlen)
{
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
    http_server *h = calloc(1, sizeof *h);

    if (h == NULL) {
        close(cfg->listen_fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->path = cfg->telemetry_path;
    h->snap = cfg->snap;
    /* The path holds only unreserved URL characters (options.c): no
     * escaping needed. */
    snprintf(h->home, sizeof h->home,
             "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
             "<title>tcp_window_monitor</title></head>\n<body><h1>tcp_window_monitor</h1>\n"
             "<p>TCP loss and window monitor %s.</p>\n"
             "<p><a href=\"%s\">Metrics</a></p>\n</body></html>\n",
             TCPWM_VERSION, h->path);

    if (cfg->verbose)
        flags |= MHD_USE_ERROR_LOG;
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)cfg->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
        HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_END);
    if (h->d == NULL) {
        close(cfg->listen_fd);
        free(h);
        snprintf(err, errlen, "cannot start the HTTP server (libmicrohttpd %s)", MHD_get_version());
        return -1;
    }
    *out = h;
    return 0;
}

void http_stop(http_server *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
