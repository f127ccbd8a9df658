/* SPDX-License-Identifier: MIT */
#include "live.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "tcpwm/err.h"
#include "tcpwm/monitor.h"

#include "capture.h"
#include "endpoint.h"
#include "flowsnap.h"
#include "http.h"
#include "privs.h"
#include "snapshot.h"
#include "status.h"
#include "top.h"
#include "verbose.h"
#include "webconfig.h"

#define PROG "tcp_window_monitor"

enum { EXIT_OK = 0, EXIT_FAIL = 1 };

/* Counted by the signal handler; the capture loop checks it. */
static volatile sig_atomic_t stop_requested;
static capture *volatile signal_capture;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = stop_requested + 1;
    if (signal_capture != NULL)
        capture_break(signal_capture); /* async-signal-safe in libpcap */
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* State of the capture loop. */
typedef struct loop {
    tcpwm_monitor *m;
    capture *c;
    bool verbose;
    status *st;
    flowsnap *flows; /* questions of GET /flows */
    const top_ends *ends;
    int64_t last_ts;   /* capture time of the newest packet (or of the start) */
    int64_t last_mono; /* monotonic time when it was handled */
} loop;

static void on_frame(void *ctx, const uint8_t *data, size_t caplen, size_t wirelen, int64_t ts)
{
    loop *l = ctx;
    tcpwm_result res;

    tcpwm_monitor_frame(l->m, data, caplen, wirelen, l->c->dlt, ts, l->verbose ? &res : NULL);
    if (l->verbose && verbose_wants(&res))
        verbose_event(stderr, ts, &res);
    if (ts > l->last_ts)
        l->last_ts = ts;
}

/* After the stop: packets that arrived before it may still sit in a block
 * the kernel has not handed over yet; it does within the block timeout.
 * A second signal cuts this short (the first one's break is still
 * pending in libpcap when the loop left between two dispatches). */
static void drain(loop *l)
{
    int64_t until = clock_ns(CLOCK_MONOTONIC) + (CAPTURE_BLOCK_TIMEOUT_MS + 20) * 1000000LL;
    sig_atomic_t signals = stop_requested;
    char err[256];

    for (;;) {
        int n = capture_dispatch(l->c, on_frame, l, err, sizeof err);
        int64_t left = until - clock_ns(CLOCK_MONOTONIC);

        if ((n == CAPTURE_STOPPED && stop_requested != signals) || n == -1 || left <= 0)
            break;
        if (n == 0)
            capture_wait(l->c, (int)(left / 1000000LL) + 1);
    }
}

/* Capture until a signal or a failure. 0, or -1 with the reason in err. */
static int capture_loop(loop *l, snapshot *snap, char *err, size_t errlen)
{
    int64_t next_publish = 0;
    uint64_t dropped = 0, if_dropped = 0;

    while (!stop_requested) {
        int n = capture_dispatch(l->c, on_frame, l, err, errlen);
        int64_t now;

        if (n == CAPTURE_STOPPED)
            break;
        if (n < 0)
            return -1;
        now = clock_ns(CLOCK_MONOTONIC);
        /* The capture clock: the newest packet's time, moving on with the
         * wall clock (less the lag) when traffic stops. */
        int64_t capture_now = l->last_ts;
        if (n > 0)
            l->last_mono = now;
        else if (now - l->last_mono > LIVE_CLOCK_LAG_NS) { /* quiet: let time pass */
            capture_now = l->last_ts + (now - l->last_mono) - LIVE_CLOCK_LAG_NS;
            tcpwm_monitor_advance(l->m, capture_now);
        }
        /* Between two batches: the table is still, a /flows question can
         * be answered from it. */
        flowsnap_serve(l->flows, l->m, capture_now, l->ends->left);
        if (now >= next_publish) {
            char werr[4608];

            if (capture_flush(l->c, werr, sizeof werr) != 0) {
                status_clear(l->st);
                fprintf(stderr, PROG ": warning: %s\n", werr);
            }
            (void)capture_drops(l->c, &dropped, &if_dropped);
            snapshot_write_errors(snap, capture_write_errors(l->c));
            /* A scrape copying right now: try again on the next turn. */
            if (snapshot_try_publish(snap, l->m, dropped, if_dropped))
                next_publish = now + SNAPSHOT_EVERY_NS;
            status_drops(l->st, dropped, if_dropped);
        }
        status_tick(l->st, tcpwm_monitor_metrics(l->m));
        if (n == 0)
            capture_wait(l->c, LIVE_IDLE_WAKE_MS);
    }
    drain(l);
    return 0;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A scraper that hangs up must not kill us. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* Start the HTTP thread with SIGINT and SIGTERM blocked in it, so that
 * they reach the capture thread and interrupt its wait. */
static int start_http(const http_config *hc, http_server **h, char *err, size_t errlen)
{
    sigset_t block, old;
    int rc;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = http_start(hc, h, err, errlen);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Everything after the monitor exists. */
static int serve(const options *o, tcpwm_monitor *m, top *t, const top_ends *e)
{
    char err[1024], warn[512], who[160], where[ENDPOINT_TEXT_MAX];
    endpoint ep = o->listen;
    http_server *h = NULL;
    uint64_t dropped = 0, if_dropped = 0;
    snapshot snap;
    flowsnap flows;
    capture c;
    status st;
    int fd, code = EXIT_OK;
    webconfig web;

    const capture_config cc = {
        .iface = o->interface,
        .filter = o->filter,
        .snaplen = o->snaplen,
        .buffer_kib = o->buffer_kib,
        .promisc = o->promisc,
    };
    if (capture_open(&c, &cc, err, sizeof err, warn, sizeof warn) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_FAIL;
    }
    if (warn[0] != '\0')
        fprintf(stderr, PROG ": warning: %s\n", warn);
    const capture_rotation rot = {
        .max_bytes = (uint64_t)o->write_mb * 1000000u,
        .files = o->write_files,
        .seconds = o->write_seconds,
    };
    if (o->write != NULL && capture_write(&c, o->write, &rot, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        capture_close(&c);
        return EXIT_FAIL;
    }
    /* Read while still privileged: key files are often root's alone.
     * Reloads run as -Z's user (they keep what runs if they cannot read). */
    memset(&web, 0, sizeof web);
    if (o->web_config != NULL) {
        if (webconfig_load(o->web_config, &web, err, sizeof err) != 0) {
            fprintf(stderr, PROG ": %s\n", err);
            capture_close(&c);
            return EXIT_FAIL;
        }
        if (web.ignored_ciphers)
            fprintf(stderr,
                    PROG ": warning: %s: cipher_suites and curve_preferences are not applied: "
                         "GnuTLS' default choice for the allowed TLS versions is used\n",
                    o->web_config);
    }
    fd = endpoint_listen(&ep, err, sizeof err);
    if (fd >= 0 && privs_drop(o->user, who, sizeof who, err, sizeof err) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd >= 0 && snapshot_init(&snap, m) != 0) {
        snprintf(err, sizeof err, "cannot create a mutex (or out of memory)");
        close(fd);
        fd = -1;
    } else if (fd >= 0 && flowsnap_init(&flows) != 0) {
        snprintf(err, sizeof err, "cannot create a mutex");
        snapshot_destroy(&snap);
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        webconfig_free(&web);
        capture_close(&c);
        return EXIT_FAIL;
    }
    snapshot_publish(&snap, m, 0, 0);
    status_init(&st, stderr, o->quiet, o->interval_ns, o->config.scope);
    status_drops(&st, 0, 0);

    signal_capture = &c;
    install_signals();
    const http_config hc = {
        .listen_fd = fd,
        .telemetry_path = o->telemetry_path,
        .snap = &snap,
        .flows = &flows,
        .verbose = o->verbose,
        .web_path = o->web_config,
        .web = o->web_config != NULL ? &web : NULL,
    };
    bool https = web.tls;
    const char *auth = web.n_users > 0 ? ", basic auth" : "";
    const char *certs = !web.tls || !webconfig_requests_cert(&web) ? ""
                        : webconfig_verifies_cert(&web) ? ", client certificates verified"
                                                        : ", client certificates asked for";
    if (start_http(&hc, &h, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        code = EXIT_FAIL;
        goto out;
    }
    endpoint_format(&ep, where);
    fprintf(stderr,
            PROG ": capturing on %s (%s, snaplen %d%s%s%s), analyzing %s, metrics at "
                 "%s://%s%s%s%s, running as %s\n",
            o->interface, capture_link_name(&c), o->snaplen, o->filter ? ", filter '" : "",
            o->filter ? o->filter : "", o->filter ? "'" : "",
            o->config.scope == TCPWM_SCOPE_GLOBAL
                ? "TCP between global unicast addresses only (--scope global)"
                : "every TCP packet (--scope all)",
            https ? "https" : "http", where, o->telemetry_path, auth, certs, who);

    loop l = {
        .m = m,
        .c = &c,
        .verbose = o->verbose,
        .st = &st,
        .flows = &flows,
        .ends = e,
        .last_ts = clock_ns(CLOCK_REALTIME),
        .last_mono = clock_ns(CLOCK_MONOTONIC),
    };
    if (capture_loop(&l, &snap, err, sizeof err) != 0) {
        status_clear(&st);
        fprintf(stderr, PROG ": %s\n", err);
        code = EXIT_FAIL;
    }

    /* The last word: what the final scrape and the final line show. */
    (void)capture_drops(&c, &dropped, &if_dropped);
    snapshot_publish(&snap, m, dropped, if_dropped);
    status_drops(&st, dropped, if_dropped);
    if (capture_flush(&c, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        code = EXIT_FAIL;
    }
    status_final(&st, tcpwm_monitor_metrics(m));
    /* A /flows request waiting now gets its 503 at once, rather than
     * holding up the server's stop. */
    flowsnap_close(&flows);
    http_stop(h);
    if (t->want > 0) {
        tcpwm_monitor_foreach_flow(m, top_offer, t);
        tcpwm_monitor_on_flow_end(m, NULL, NULL);
        top_print(t, stderr);
    }
out:
    signal_capture = NULL;
    capture_close(&c);
    snapshot_destroy(&snap);
    flowsnap_destroy(&flows);
    webconfig_free(&web); /* what the server did not take over */
    return code;
}

int live_run(const options *o)
{
    tcpwm_config cfg = o->config;
    tcpwm_monitor *m = NULL;
    int rc, code;
    top t;

    /* Results never depend on the seed; a random one keeps anyone from
     * aiming 4-tuples at one hash chain. Without getrandom() the fixed
     * default stays. */
    if (getrandom(&cfg.hash_seed, sizeof cfg.hash_seed, GRND_NONBLOCK) !=
        (ssize_t)sizeof cfg.hash_seed)
        cfg.hash_seed = o->config.hash_seed;
    rc = tcpwm_monitor_new(&cfg, &m);
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot start the analysis: %s\n", tcpwm_strerror(rc));
        return EXIT_FAIL;
    }
    if (top_init(&t, o->top, o->top_by) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        tcpwm_monitor_free(m);
        return EXIT_FAIL;
    }
    top_ends e = {.t = o->top > 0 ? &t : NULL};
    tcpwm_monitor_on_flow_end(m, top_ends_cb, &e);
    code = serve(o, m, &t, &e);
    tcpwm_monitor_free(m);
    top_free(&t);
    return code;
}
