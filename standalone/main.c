/* SPDX-License-Identifier: MIT */
/* tcp_window_monitor: replay pcap/pcapng files through the tcpwm core and
 * print the metrics, or capture an interface live and serve them (live.c).
 * Exit status: 0 success, 1 an input or the output failed (what was
 * analyzed is still written) or a live capture failed, 2 usage error. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tcpwm/buf.h"
#include "tcpwm/err.h"
#include "tcpwm/expo.h"
#include "tcpwm/monitor.h"

#include "flowjson.h"
#include "live.h"
#include "options.h"
#include "output.h"
#include "replay.h"
#include "status.h"
#include "timeline.h"
#include "top.h"

#define PROG "tcp_window_monitor"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Render the final document: one snapshot without timestamp, or the
 * timeline. 0 or a TCPWM_ error. */
static int render(const options *o, tcpwm_monitor *m, timeline *tl, tcpwm_buf *b)
{
    int rc;

    if (o->timeline) {
        rc = timeline_finish(tl, m);
        if (rc == 0)
            rc = timeline_render(tl, b);
        return rc;
    }
    tcpwm_expo_services svc = {NULL, 0, tcpwm_monitor_service_metrics(m)};
    svc.n_ports = tcpwm_monitor_service_ports(m, &svc.ports);
    rc = tcpwm_expo_metrics_services(b, o->format, tcpwm_monitor_metrics(m), NULL, 1,
                                     svc.n_ports ? &svc : NULL);
    if (rc == 0)
        rc = tcpwm_expo_finish(b, o->format);
    return rc;
}

/* --flows-json in the table's order: the flows are written as they are
 * visited, so that memory does not grow with the table. */
typedef struct flow_writer {
    output *out;
    tcpwm_buf b;
    int64_t time_ns;
    uint64_t n; /* flows visited */
    int rc;     /* the first TCPWM_ error, or -1: a write failed (err says why) */
    char err[1024];
} flow_writer;

/* Write what the buffer holds once it is this big, and at the end. */
#define FLOWS_FLUSH_BYTES (1u << 20)

static void flush_flows(flow_writer *w)
{
    if (w->rc == 0 && w->b.len > 0 &&
        output_write(w->out, w->b.data, w->b.len, w->err, sizeof w->err) != 0)
        w->rc = -1;
    tcpwm_buf_reset(&w->b);
}

static void write_flow(void *ctx, const tcpwm_flow_view *flow)
{
    flow_writer *w = ctx;

    if (w->rc == 0)
        w->rc = flowjson_flow(&w->b, flow, w->time_ns, w->n == 0);
    w->n++;
    if (w->b.len >= FLOWS_FLUSH_BYTES)
        flush_flows(w);
}

static void count_flow(void *ctx, const tcpwm_flow_view *flow)
{
    (void)flow;
    (*(uint64_t *)ctx)++;
}

/* --flows-json: the flows still in the table, the --top N worst (by
 * --top-by) when --top is given, else all of them in the table's order
 * (closed flows, then open ones, each least recently active first). 0,
 * or -1 with the reason printed. */
static int write_flows(const options *o, tcpwm_monitor *m, output *out, int64_t time_ns,
                       uint64_t left)
{
    flow_writer w = {.out = out, .time_ns = time_ns};
    flowjson_head head = {
        .source = "replay",
        .order = o->top > 0 ? top_by_name(o->top_by) : "table",
        .time_ns = time_ns,
        .top = o->top,
        .flows_left = left,
    };
    top ranked;

    tcpwm_buf_init(&w.b, SIZE_MAX / 2);
    if (o->top > 0) {
        if (top_init(&ranked, o->top, o->top_by) != 0) {
            fprintf(stderr, PROG ": out of memory\n");
            return -1;
        }
        tcpwm_monitor_foreach_flow(m, top_offer, &ranked);
        top_sort(&ranked);
        head.flows_in_table = ranked.seen;
        w.rc = flowjson_begin(&w.b, &head);
        for (size_t i = 0; i < ranked.n; i++)
            write_flow(&w, &ranked.heap[i]);
        top_free(&ranked);
    } else {
        tcpwm_monitor_foreach_flow(m, count_flow, &head.flows_in_table);
        w.rc = flowjson_begin(&w.b, &head);
        tcpwm_monitor_foreach_flow(m, write_flow, &w);
    }
    if (w.rc == 0)
        w.rc = flowjson_end(&w.b);
    flush_flows(&w);
    tcpwm_buf_free(&w.b);
    if (w.rc == -1)
        fprintf(stderr, PROG ": %s\n", w.err);
    else if (w.rc != 0)
        fprintf(stderr, PROG ": cannot render the flows: %s\n", tcpwm_strerror(w.rc));
    return w.rc == 0 ? 0 : -1;
}

/* After a file failed: the ones after it that were not read. */
static void not_read(const char *const *rest, size_t n)
{
    if (n == 0)
        return;
    fprintf(stderr, PROG ": not read: ");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i > 0 ? ", " : "",
                strcmp(rest[i], "-") == 0 ? "standard input" : rest[i]);
    fprintf(stderr, " (%zu more file%s after the one that failed)\n", n, n == 1 ? "" : "s");
}

static int run(const options *o)
{
    char err[1024];
    int code = EXIT_OK, rc;
    tcpwm_monitor *m = NULL;
    output out, flows_out;
    timeline tl;
    status st;
    tcpwm_buf b;
    top t;

    if (output_open(&out, o->output, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_FAIL;
    }
    /* Opened (and truncated) now: an unwritable path fails before the
     * analysis, as -o does. */
    if (o->flows_json != NULL && output_open(&flows_out, o->flows_json, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        output_close(&out, err, sizeof err);
        return EXIT_FAIL;
    }
    rc = tcpwm_monitor_new(&o->config, &m);
    if (rc == 0 && top_init(&t, o->top, o->top_by) != 0) {
        tcpwm_monitor_free(m);
        rc = TCPWM_ENOMEM;
    }
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot start the analysis: %s\n", tcpwm_strerror(rc));
        output_close(&out, err, sizeof err);
        if (o->flows_json != NULL)
            output_close(&flows_out, err, sizeof err);
        return rc == TCPWM_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    top_ends e = {.t = o->top > 0 ? &t : NULL};
    /* Flows that leave are read by --top and counted by the flows
     * document; without either, no view of them is made. */
    if (o->top > 0 || o->flows_json != NULL)
        tcpwm_monitor_on_flow_end(m, top_ends_cb, &e);
    timeline_init(&tl, o->interval_ns, m);
    status_init(&st, stderr, o->quiet, o->interval_ns, o->config.scope);
    tcpwm_buf_init(&b, SIZE_MAX / 2);

    replay r = {
        .m = m,
        .filter = o->filter,
        .tl = o->timeline ? &tl : NULL,
        .verbose = o->verbose,
        .st = &st,
        .err = stderr,
    };
    for (size_t i = 0; i < o->n_inputs; i++) {
        if (replay_file(&r, o->inputs[i], err, sizeof err) != 0) {
            /* Stop here; what was analyzed so far is still written. */
            status_clear(&st);
            fprintf(stderr, PROG ": %s\n", err);
            not_read(o->inputs + i + 1, o->n_inputs - i - 1);
            code = EXIT_FAIL;
            break;
        }
    }
    /* A failure before the first frame leaves nothing to report: an
     * exposition of zeros would look like a clean capture (and scroll the
     * error off the screen). The exit status says it failed. */
    bool nothing = code != EXIT_OK && tcpwm_monitor_metrics(m)->packets == 0;
    if (!nothing)
        status_final(&st, tcpwm_monitor_metrics(m));

    rc = nothing ? 0 : render(o, m, &tl, &b);
    if (nothing) {
        output_close(&out, err, sizeof err);
    } else if (rc != 0) {
        fprintf(stderr, PROG ": cannot render the metrics: %s\n", tcpwm_strerror(rc));
        code = EXIT_FAIL;
        output_close(&out, err, sizeof err);
    } else if (output_write(&out, b.data, b.len, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        code = EXIT_FAIL;
        output_close(&out, err, sizeof err);
    } else if (output_close(&out, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        code = EXIT_FAIL;
    }

    if (o->flows_json != NULL) {
        /* After a failure before the first frame, the file stays empty,
         * as the metrics do. */
        if (!nothing && write_flows(o, m, &flows_out, r.last_ts, e.left) != 0)
            code = EXIT_FAIL;
        if (output_close(&flows_out, err, sizeof err) != 0) {
            fprintf(stderr, PROG ": %s\n", err);
            code = EXIT_FAIL;
        }
    }
    /* Flows still in the table are offered to --top below, not again
     * when the monitor is freed. */
    tcpwm_monitor_on_flow_end(m, NULL, NULL);
    if (o->top > 0 && !nothing) {
        tcpwm_monitor_foreach_flow(m, top_offer, &t);
        top_print(&t, stderr);
    }

    tcpwm_buf_free(&b);
    timeline_free(&tl);
    top_free(&t);
    tcpwm_monitor_free(m);
    return code;
}

int main(int argc, char **argv)
{
    options o;
    int code;

    switch (options_parse(&o, argc, argv, stdout, stderr)) {
    case OPTIONS_RUN:
        code = o.interface != NULL ? live_run(&o) : run(&o);
        break;
    case OPTIONS_EXIT_OK:
        code = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
        break;
    case OPTIONS_USAGE:
        code = EXIT_USAGE;
        break;
    default:
        code = EXIT_FAIL;
        break;
    }
    options_free(&o);
    return code;
}
