/* SPDX-License-Identifier: MIT */
#include "http.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "tcpwm/buf.h"
#include "tcpwm/err.h"

#include "flowjson.h"
#include "flowsnap.h"
#include "top.h"
#include "webconfig.h"

#define PROG "tcp_window_monitor"

#define TEXT_PLAIN "text/plain; charset=utf-8"
/* RFC 8259 section 11: no charset parameter; JSON is UTF-8. */
#define APPLICATION_JSON "application/json"
#define OPENMETRICS_TYPE "application/openmetrics-text"

/* One loaded web configuration, shared by the handler (which may run
 * bcrypt for a while) and the watcher that replaces it: counted
 * references, the pointer swapped under http_server.mu. */
typedef struct web_ref {
    webconfig c;
    gnutls_x509_trust_list_t trust; /* client_ca_file, or the system's; NULL: none */
    unsigned refs;                  /* under http_server.mu */
} web_ref;

/* What a daemon's callbacks get: the server, and the configuration the
 * daemon was started with (its certificate and TLS policy). */
typedef struct daemon_ctx {
    struct http_server *h;
    web_ref *web;
} daemon_ctx;

struct http_server {
    struct MHD_Daemon *d;
    daemon_ctx *dctx;
    const char *path;
    snapshot *snap;
    flowsnap *flows; /* NULL: no /flows */
    bool verbose;
    int listen_fd;
    char home[1024]; /* the page at "/" */
    /* --web.config.file */
    const char *web_path;
    pthread_mutex_t mu;
    web_ref *web; /* under mu: what requests are checked against */
    pthread_t watcher;
    bool watching;
    pthread_cond_t wake;
    bool stopping;        /* under mu */
    char last_error[512]; /* the watcher's: a broken file is told once */
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

/* The web configuration of the request being answered (the handler runs
 * in the daemon's one thread; NULL without --web.config.file). */
static _Thread_local const web_ref *request_web;

/* Queue a response and drop our reference. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r,
                             const char *type)
{
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO; /* out of memory: MHD closes the connection */
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
        (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
         MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) ||
        (status == MHD_HTTP_UNAUTHORIZED &&
         MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                 "Basic realm=\"" HTTP_REALM "\", charset=\"UTF-8\"") !=
             MHD_YES)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    for (size_t i = 0; request_web != NULL && i < request_web->c.n_headers; i++) {
        if (MHD_add_response_header(r, request_web->c.header_name[i],
                                    request_web->c.header_value[i]) != MHD_YES) {
            MHD_destroy_response(r);
            return MHD_NO;
        }
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
    if (snapshot_scrape(h->snap, &d) != 0)
        return reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT_PLAIN,
                            "cannot render the metrics\n");
    tcpwm_buf_init(&b, HTTP_RESPONSE_LIMIT);
    rc = snapshot_render(&d, f, &b);
    snapshot_data_free(&d);
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

/* ---- /flows -------------------------------------------------------------- */

/* The query of a /flows request, as MHD hands out its arguments (decoded,
 * in order). A parameter given twice, without a value, or unknown is an
 * error: a dashboard link with a typo must not silently get the default. */
typedef struct flows_query {
    uint32_t top;
    top_by by;
    bool top_set, by_set;
    char why[160]; /* the first error, "" while none */
} flows_query;

static enum MHD_Result flows_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    flows_query *q = cls;

    (void)kind;
    if (q->why[0] != '\0')
        return MHD_NO;
    if (strcmp(key, "top") == 0) {
        char *end = NULL;
        unsigned long long n;

        if (q->top_set) {
            snprintf(q->why, sizeof q->why, "top is given twice");
            return MHD_NO;
        }
        q->top_set = true;
        n = value != NULL && value[0] >= '0' && value[0] <= '9' ? strtoull(value, &end, 10) : 0;
        if (n < 1 || n > HTTP_FLOWS_TOP_MAX || end == NULL || *end != '\0') {
            snprintf(q->why, sizeof q->why, "top: expected a count from 1 to %u",
                     HTTP_FLOWS_TOP_MAX);
            return MHD_NO;
        }
        q->top = (uint32_t)n;
    } else if (strcmp(key, "by") == 0) {
        if (q->by_set) {
            snprintf(q->why, sizeof q->why, "by is given twice");
            return MHD_NO;
        }
        q->by_set = true;
        if (value == NULL || top_by_parse(value, &q->by) != 0) {
            snprintf(q->why, sizeof q->why, "by: expected " TOP_BY_NAMES);
            return MHD_NO;
        }
    } else {
        snprintf(q->why, sizeof q->why, "unknown parameter: /flows takes top and by");
        return MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result reply_flows(http_server *h, struct MHD_Connection *conn)
{
    flows_query q = {.top = HTTP_FLOWS_TOP_DEFAULT, .by = TOP_BY_LOSS};
    flowsnap_answer a;
    char msg[256];
    tcpwm_buf b;
    int rc;

    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, flows_arg, &q);
    if (q.why[0] != '\0') {
        snprintf(msg, sizeof msg, "400 bad request: %s\n", q.why);
        return reply(conn, MHD_HTTP_BAD_REQUEST,
                     MHD_create_response_from_buffer(strlen(msg), msg, MHD_RESPMEM_MUST_COPY),
                     TEXT_PLAIN);
    }
    /* The capture thread ranks its table and hands the flows over
     * (flowsnap.h); this thread renders them. */
    if (flowsnap_query(h->flows, q.top, q.by, &a) != 0)
        return reply_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT_PLAIN,
                            "503 service unavailable: the capture did not answer\n");
    const flowjson_head head = {
        .source = "live",
        .order = top_by_name(q.by),
        .time_ns = a.time_ns,
        .top = q.top,
        .flows_in_table = a.in_table,
        .flows_left = a.left,
    };
    tcpwm_buf_init(&b, HTTP_FLOWS_RESPONSE_LIMIT);
    rc = flowjson_begin(&b, &head);
    for (size_t i = 0; rc == 0 && i < a.n; i++)
        rc = flowjson_flow(&b, &a.flows[i], a.time_ns, i == 0);
    if (rc == 0)
        rc = flowjson_end(&b);
    free(a.flows);
    if (rc != 0 || b.data == NULL) {
        tcpwm_buf_free(&b);
        return reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT_PLAIN,
                            "cannot render the flows\n");
    }
    return reply(conn, MHD_HTTP_OK,
                 MHD_create_response_from_buffer_with_free_callback(b.len, b.data, free),
                 APPLICATION_JSON);
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
    if (h->flows != NULL && strcmp(url, HTTP_FLOWS_PATH) == 0)
        return reply_flows(h, conn);
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

/* ---- Web configuration: references, client certificates, users ---------- */

static web_ref *web_get(http_server *h)
{
    web_ref *w;

    pthread_mutex_lock(&h->mu);
    w = h->web;
    if (w != NULL)
        w->refs++;
    pthread_mutex_unlock(&h->mu);
    return w;
}

static void web_put(http_server *h, web_ref *w)
{
    bool last;

    if (w == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    last = --w->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (last) {
        if (w->trust != NULL)
            gnutls_x509_trust_list_deinit(w->trust, 1);
        webconfig_free(&w->c);
        free(w);
    }
}

/* Take over a loaded configuration (c is left empty). NULL: out of memory
 * or the authorities would not load (err says which). */
static web_ref *web_new(webconfig *c, char *err, size_t errlen)
{
    web_ref *w = calloc(1, sizeof *w);

    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->c = *c;
    memset(c, 0, sizeof *c);
    w->refs = 1;
    if (w->c.tls && webconfig_verifies_cert(&w->c)) {
        int rc = gnutls_x509_trust_list_init(&w->trust, 0);

        if (rc == 0 && w->c.ca_pem != NULL) {
            gnutls_datum_t ca = {(unsigned char *)w->c.ca_pem, (unsigned)strlen(w->c.ca_pem)};
            /* An empty or unreadable file trusts nobody, as the toolkit's
             * would: every certificate is refused. */
            (void)gnutls_x509_trust_list_add_trust_mem(w->trust, &ca, NULL, GNUTLS_X509_FMT_PEM,
                                                       0, 0);
        } else if (rc == 0) {
            /* No client_ca_file: Go verifies against the system's roots. */
            (void)gnutls_x509_trust_list_add_system_trust(w->trust, 0, 0);
        }
        if (rc != 0) {
            snprintf(err, errlen, "cannot make a trust list: %s", gnutls_strerror(rc));
            w->trust = NULL;
            webconfig_free(&w->c);
            free(w);
            return NULL;
        }
    }
    return w;
}

/* Whether the peer of a TLS session passes client_auth_type: a
 * certificate when one is required, and one that chains to the
 * authorities, is valid now and is meant for TLS clients when
 * certificates are verified (Go checks the same: x509 ExtKeyUsageClientAuth).
 * 0, or -1 with the reason in why. */
static int check_peer(const web_ref *w, gnutls_session_t s, const char **why)
{
    gnutls_x509_crt_t chain[16];
    unsigned n = 0, got = 0, status = 0;
    const gnutls_datum_t *certs;
    int rc;

    if (w == NULL || !w->c.tls || !webconfig_requests_cert(&w->c))
        return 0;
    certs = gnutls_certificate_get_peers(s, &n);
    if (certs == NULL || n == 0) {
        *why = "no client certificate";
        return webconfig_requires_cert(&w->c) ? -1 : 0;
    }
    if (!webconfig_verifies_cert(&w->c))
        return 0;
    if (n > 16)
        n = 16;
    for (; got < n; got++) {
        if (gnutls_x509_crt_init(&chain[got]) != 0)
            break;
        if (gnutls_x509_crt_import(chain[got], &certs[got], GNUTLS_X509_FMT_DER) != 0) {
            gnutls_x509_crt_deinit(chain[got]);
            break;
        }
    }
    gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                     .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT};
    rc = got == n ? gnutls_x509_trust_list_verify_crt2(w->trust, chain, n, &purpose, 1, 0,
                                                       &status, NULL)
                  : -1;
    for (unsigned i = 0; i < got; i++)
        gnutls_x509_crt_deinit(chain[i]);
    if (rc != 0 || status != 0) {
        *why = (status & GNUTLS_CERT_EXPIRED) ? "the client certificate has expired"
               : (status & GNUTLS_CERT_NOT_ACTIVATED)
                   ? "the client certificate is not valid yet"
                   : "the client certificate is not signed by client_ca_file";
        return -1;
    }
    return 0;
}

/* GnuTLS calls this in the handshake once the client's certificate is in:
 * a certificate that fails ends the handshake with an alert, as in Go. */
static int verify_in_handshake(gnutls_session_t s)
{
    const web_ref *w = gnutls_session_get_ptr(s);
    const char *why;

    return check_peer(w, s, &why) == 0 ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
}

/* A new connection: libmicrohttpd has made its TLS session, not started
 * the handshake. Ask for a certificate as client_auth_type says (the
 * library itself asks only when it holds a trust list, and never
 * requires). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    daemon_ctx *dc = cls;
    const union MHD_ConnectionInfo *ci;
    gnutls_session_t s;

    (void)socket_ctx;
    if (code != MHD_CONNECTION_NOTIFY_STARTED || dc->web == NULL || !dc->web->c.tls)
        return;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci == NULL || ci->tls_session == NULL)
        return;
    s = (gnutls_session_t)ci->tls_session;
    gnutls_session_set_ptr(s, dc->web);
    if (webconfig_requests_cert(&dc->web->c)) {
        gnutls_certificate_server_set_request(s, webconfig_requires_cert(&dc->web->c)
                                                     ? GNUTLS_CERT_REQUIRE
                                                     : GNUTLS_CERT_REQUEST);
        gnutls_session_set_verify_function(s, verify_in_handshake);
    }
}

/* The client's credentials against the configuration: 0 to go on, or the
 * answer already queued (MHD_YES/MHD_NO in *ret). */
static int authorize(const web_ref *w, struct MHD_Connection *conn, enum MHD_Result *ret)
{
    const union MHD_ConnectionInfo *ci;
    const char *why = NULL;
    char *user, *pass = NULL;
    bool ok;

    if (w == NULL)
        return 0;
    if (w->c.tls) {
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (ci == NULL || ci->tls_session == NULL ||
            check_peer(w, (gnutls_session_t)ci->tls_session, &why) != 0) {
            *ret = reply_static(conn, MHD_HTTP_FORBIDDEN, TEXT_PLAIN, "403 forbidden\n");
            return -1;
        }
    }
    if (w->c.n_users == 0)
        return 0;
    user = MHD_basic_auth_get_username_password(conn, &pass);
    /* An unknown user costs the bcrypt run of a known one; a request
     * without credentials names nobody and is refused at once, as the
     * toolkit does. */
    ok = user != NULL && webconfig_check_user(&w->c, user, pass != NULL ? pass : "");
    if (user != NULL)
        MHD_free(user);
    if (pass != NULL) {
        memset(pass, 0, strlen(pass));
        MHD_free(pass);
    }
    if (ok)
        return 0;
    *ret = reply_static(conn, MHD_HTTP_UNAUTHORIZED, TEXT_PLAIN, "401 unauthorized\n");
    return -1;
}

/* MHD calls this once the headers are in, then for each piece of a body,
 * then once the request is complete. An answer given before that last
 * call discards the rest of the request and closes the connection; an
 * answer given in it keeps the connection alive for the next scrape. */
static enum MHD_Result handle_request(http_server *h, struct MHD_Connection *conn,
                                      const char *url, const char *method,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    static int seen; /* marks a request whose headers were handled */

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

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    daemon_ctx *dc = cls;
    http_server *h = dc->h;
    enum MHD_Result ret;
    web_ref *w;

    (void)version;
    if (h->web_path == NULL)
        return handle_request(h, conn, url, method, upload_data, upload_data_size, req_cls);
    /* Every request is checked, before anything else is looked at. */
    w = web_get(h);
    request_web = w;
    if (*req_cls == NULL && authorize(w, conn, &ret) != 0) {
        *req_cls = dc; /* answered */
    } else if (*req_cls == dc) {
        *upload_data_size = 0; /* the rest of a refused request */
        ret = MHD_YES;
    } else {
        ret = handle_request(h, conn, url, method, upload_data, upload_data_size, req_cls);
    }
    request_web = NULL;
    web_put(h, w);
    return ret;
}

/* ---- The daemon --------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs(PROG ": http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* Start a daemon on fd with web configuration w (NULL: plain HTTP).
 * NULL on failure. */
static struct MHD_Daemon *daemon_start(http_server *h, daemon_ctx *dc, int fd, web_ref *w)
{
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
    char prio[128];

    dc->h = h;
    dc->web = w;
    if (h->verbose)
        flags |= MHD_USE_ERROR_LOG;
    if (h->web_path == NULL)
        return MHD_start_daemon(
            flags, 0, NULL, NULL, handle, dc, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
            HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_END);
    /* MHD_USE_ITC: MHD_quiesce_daemon() needs it, for a restart. */
    flags |= MHD_USE_ITC;
    if (w == NULL || !w->c.tls)
        return MHD_start_daemon(
            flags, 0, NULL, NULL, handle, dc, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
            HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_END);
    webconfig_priorities(&w->c, prio, sizeof prio);
    /* The idle timeout covers the handshake too: a client that sends half
     * a ClientHello is cut off like one that sends half a request. */
    return MHD_start_daemon(
        flags | MHD_USE_TLS, 0, NULL, NULL, handle, dc, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
        HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_HTTPS_MEM_KEY,
        w->c.key_pem, MHD_OPTION_HTTPS_MEM_CERT, w->c.cert_pem, MHD_OPTION_HTTPS_PRIORITIES, prio,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, dc, MHD_OPTION_END);
}

static bool same_users_headers(const webconfig *a, const webconfig *b)
{
    if (a->n_users != b->n_users || a->n_headers != b->n_headers)
        return false;
    for (size_t i = 0; i < a->n_users; i++)
        if (strcmp(a->users[i].name, b->users[i].name) != 0 ||
            strcmp(a->users[i].hash, b->users[i].hash) != 0)
            return false;
    for (size_t i = 0; i < a->n_headers; i++)
        if (a->header_name[i] != b->header_name[i] ||
            strcmp(a->header_value[i], b->header_value[i]) != 0)
            return false;
    return true;
}

/* Tell a problem of the watcher once (until it changes or goes away). */
static void watcher_say(http_server *h, const char *msg)
{
    if (strcmp(h->last_error, msg) == 0)
        return;
    snprintf(h->last_error, sizeof h->last_error, "%s", msg);
    fprintf(stderr, PROG ": %s\n", msg);
}

/* One look at the files: reload when something changed. */
static void reload(http_server *h)
{
    char err[768], msg[1024];
    webconfig c;
    web_ref *cur, *w;

    if (webconfig_load(h->web_path, &c, err, sizeof err) != 0) {
        snprintf(msg, sizeof msg, "%s; keeping the web configuration in use", err);
        watcher_say(h, msg);
        return;
    }
    h->last_error[0] = '\0';
    cur = h->web; /* only this thread replaces it */
    if (webconfig_same_tls(&cur->c, &c) && same_users_headers(&cur->c, &c)) {
        webconfig_free(&c);
        return;
    }
    bool restart = !webconfig_same_tls(&cur->c, &c);
    w = web_new(&c, err, sizeof err);
    if (w == NULL) {
        webconfig_free(&c);
        snprintf(msg, sizeof msg, "%s: %s; keeping the web configuration in use", h->web_path,
                 err);
        watcher_say(h, msg);
        return;
    }
    if (restart) {
        /* The new daemon listens on a copy of the socket beside the old
         * one, then the old one lets go: no connection is refused. */
        daemon_ctx *dc = calloc(1, sizeof *dc);
        int fd = dup(h->listen_fd);
        struct MHD_Daemon *d = NULL;

        if (dc != NULL && fd >= 0) {
            w->refs++; /* the daemon's */
            d = daemon_start(h, dc, fd, w);
            if (d == NULL)
                w->refs--;
        }
        if (d == NULL) {
            if (fd >= 0)
                close(fd);
            free(dc);
            web_put(h, w);
            snprintf(msg, sizeof msg,
                     "%s: cannot start the HTTPS server with the new certificate; keeping the "
                     "web configuration in use",
                     h->web_path);
            watcher_say(h, msg);
            return;
        }
        struct MHD_Daemon *old = h->d;
        daemon_ctx *old_dc = h->dctx;
        int old_fd = h->listen_fd;

        pthread_mutex_lock(&h->mu);
        h->web = w;
        pthread_mutex_unlock(&h->mu);
        h->d = d;
        h->dctx = dc;
        h->listen_fd = fd;
        (void)MHD_quiesce_daemon(old); /* returns old_fd, ours to close */
        MHD_stop_daemon(old);
        close(old_fd);
        web_put(h, old_dc->web);
        free(old_dc);
    } else {
        pthread_mutex_lock(&h->mu);
        h->web = w;
        pthread_mutex_unlock(&h->mu);
    }
    web_put(h, cur);
    fprintf(stderr, PROG ": %s: reloaded (%s)\n", h->web_path,
            restart ? "new certificate or TLS settings: HTTPS server restarted"
                    : "users or headers");
}

static void *watch(void *arg)
{
    http_server *h = arg;

    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        struct timespec until;

        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += HTTP_WEBCONFIG_POLL_S;
        while (!h->stopping && pthread_cond_timedwait(&h->wake, &h->mu, &until) != ETIMEDOUT)
            ;
        if (h->stopping)
            break;
        pthread_mutex_unlock(&h->mu);
        reload(h);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int http_start(const http_config *cfg, http_server **out, char *err, size_t errlen)
{
    http_server *h = calloc(1, sizeof *h);
    web_ref *w = NULL;

    if (h == NULL || (h->dctx = calloc(1, sizeof *h->dctx)) == NULL) {
        free(h);
        close(cfg->listen_fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->path = cfg->telemetry_path;
    h->snap = cfg->snap;
    h->flows = cfg->flows;
    h->verbose = cfg->verbose;
    h->listen_fd = cfg->listen_fd;
    h->web_path = cfg->web_path;
    /* The path holds only unreserved URL characters (options.c): no
     * escaping needed. */
    snprintf(h->home, sizeof h->home,
             "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
             "<title>tcp_window_monitor</title></head>\n<body><h1>tcp_window_monitor</h1>\n"
             "<p>TCP loss and window monitor %s.</p>\n"
             "<p><a href=\"%s\">Metrics</a></p>\n%s</body></html>\n",
             TCPWM_VERSION, h->path,
             h->flows != NULL
                 ? "<p><a href=\"" HTTP_FLOWS_PATH "\">Flows</a> (JSON: the flows with the "
                   "most loss events; <a href=\"" HTTP_FLOWS_PATH "?by=retransmissions\">by "
                   "retransmissions</a>, <a href=\"" HTTP_FLOWS_PATH "?by=rtt\">by ACK "
                   "RTT</a>)</p>\n"
                 : "");

    if (h->web_path != NULL) {
        pthread_condattr_t ca;

        pthread_mutex_init(&h->mu, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&h->wake, &ca);
        pthread_condattr_destroy(&ca);
        w = web_new(cfg->web, err, errlen);
        if (w == NULL)
            goto fail;
        h->web = w;
        w->refs++; /* the daemon's */
    }
    h->d = daemon_start(h, h->dctx, cfg->listen_fd, w);
    if (h->d == NULL) {
        snprintf(err, errlen, "cannot start the HTTP%s server (libmicrohttpd %s%s)",
                 w != NULL && w->c.tls ? "S" : "", MHD_get_version(),
                 w != NULL && w->c.tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES
                     ? ", built without TLS"
                     : "");
        goto fail;
    }
    if (h->web_path != NULL) {
        if (pthread_create(&h->watcher, NULL, watch, h) != 0) {
            snprintf(err, errlen, "cannot start a thread");
            MHD_stop_daemon(h->d);
            goto fail;
        }
        h->watching = true;
    }
    *out = h;
    return 0;

fail:
    close(cfg->listen_fd);
    if (w != NULL) {
        w->refs = 1;
        web_put(h, w);
    }
    if (h->web_path != NULL) {
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->mu);
    }
    free(h->dctx);
    free(h);
    return -1;
}

void http_stop(http_server *h)
{
    if (h == NULL)
        return;
    if (h->watching) {
        pthread_mutex_lock(&h->mu);
        h->stopping = true;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->watcher, NULL);
    }
    MHD_stop_daemon(h->d);
    if (h->web_path != NULL) {
        web_put(h, h->dctx->web);
        web_put(h, h->web);
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->mu);
    }
    free(h->dctx);
    free(h);
}
