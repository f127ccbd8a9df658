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
        rc = timeline_finish(tl, tcpwm_monitor_metrics(m));
        if (rc == 0)
            rc = timeline_render(tl, b);
        return rc;
    }
    rc = tcpwm_expo_metrics(b, o->format, tcpwm_monitor_metrics(m), NULL, 1);
    if (rc == 0)
        rc = tcpwm_expo_finish(b, o->format);
    return rc;
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
    output out;
    timeline tl;
    status st;
    tcpwm_buf b;
    top t;

    if (output_open(&out, o->output, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_FAIL;
    }
    rc = tcpwm_monitor_new(&o->config, &m);
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot start the analysis: %s\n", tcpwm_strerror(rc));
        output_close(&out, err, sizeof err);
        return rc == TCPWM_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    if (top_init(&t, o->top) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        tcpwm_monitor_free(m);
        output_close(&out, err, sizeof err);
        return EXIT_FAIL;
    }
    if (o->top > 0)
        tcpwm_monitor_on_flow_end(m, top_offer, &t);
    timeline_init(&tl, o->interval_ns);
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

    if (o->top > 0 && !nothing) {
        tcpwm_monitor_foreach_flow(m, top_offer, &t);
        /* Flows still in the table were offered just now, not again when
         * the monitor is freed. */
        tcpwm_monitor_on_flow_end(m, NULL, NULL);
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
