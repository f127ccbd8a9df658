/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap-tcpwm.c: tshark -z tcpwm,prom[,FILTER] and -z tcpwm,openmetrics[,FILTER].
 *
 * Each -z instance owns a monitor of its own (settings from the tcpwm
 * preferences), fed with the raw frames the postdissector queues on the
 * "tcpwm" tap -- those that pass FILTER, if given. At the end it prints the
 * exposition the core's writer makes. Without a filter, the monitor sees
 * the same frames with the same four values as tcp_window_monitor, so the
 * output equals `tcp_window_monitor -r FILE --scope all` byte for byte.
 *
 * Taps see the frames in order on the pass that runs them (tshark's only
 * pass, the second with -2, a GUI retap), never twice: reset starts a
 * fresh monitor for every retap. */
#define WS_LOG_DOMAIN "tcpwm"

#include <wireshark.h>

#include <stdio.h>
#include <stdlib.h>

#include <epan/packet.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>

#include "tcpwm/buf.h"
#include "tcpwm/err.h"
#include "tcpwm/expo.h"
#include "tcpwm/monitor.h"

#include "tcpwm-plugin.h"

typedef struct tcpwm_stat {
    const char *cli; /* "tcpwm,prom" or "tcpwm,openmetrics", for messages */
    tcpwm_format format;
    tcpwm_monitor *m; /* NULL after a failure to create it */
    int err;          /* that failure (a TCPWM_ error), else 0 */
} tcpwm_stat;

static void stat_start(tcpwm_stat *s)
{
    tcpwm_config c;

    tcpwm_monitor_free(s->m);
    s->m = NULL;
    tcpwm_plugin_config(&c);
    s->err = tcpwm_monitor_new(&c, &s->m);
}

static void stat_reset(void *tapdata)
{
    stat_start((tcpwm_stat *)tapdata);
}

static tap_packet_status stat_packet(void *tapdata, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
                                     const void *data, tap_flags_t flags _U_)
{
    tcpwm_stat *s = (tcpwm_stat *)tapdata;
    const tcpwm_tap_frame *f = (const tcpwm_tap_frame *)data;

    if (s->m == NULL || f == NULL)
        return TAP_PACKET_DONT_REDRAW;
    tcpwm_monitor_frame(s->m, f->data, f->caplen, f->wirelen, f->dlt, f->ts_ns, NULL);
    return TAP_PACKET_DONT_REDRAW;
}

/* Print the document: the core's families, then the end marker (# EOF for
 * OpenMetrics) -- what tcp_window_monitor prints, nothing else. */
static void stat_draw(void *tapdata)
{
    tcpwm_stat *s = (tcpwm_stat *)tapdata;
    tcpwm_buf b;
    int rc;

    if (s->m == NULL) {
        fprintf(stderr, "tshark: -z %s: cannot start the analysis: %s\n", s->cli,
                tcpwm_strerror(s->err));
        return;
    }
    tcpwm_buf_init(&b, SIZE_MAX / 2);
    /* The service ports preference: the port label, as --service-ports. */
    tcpwm_expo_services svc = {NULL, 0, tcpwm_monitor_service_metrics(s->m)};
    svc.n_ports = tcpwm_monitor_service_ports(s->m, &svc.ports);
    rc = tcpwm_expo_metrics_services(&b, s->format, tcpwm_monitor_metrics(s->m), NULL, 1,
                                     svc.n_ports ? &svc : NULL);
    if (rc == 0)
        rc = tcpwm_expo_finish(&b, s->format);
    if (rc != 0)
        fprintf(stderr, "tshark: -z %s: cannot render the metrics: %s\n", s->cli,
                tcpwm_strerror(rc));
    else if (b.len > 0 && (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0))
        fprintf(stderr, "tshark: -z %s: cannot write the metrics\n", s->cli);
    tcpwm_buf_free(&b);
}

static void stat_finish(void *tapdata)
{
    tcpwm_stat *s = (tcpwm_stat *)tapdata;

    tcpwm_monitor_free(s->m);
    g_free(s);
}

/* opt is the whole -z argument: CLI, CLI,FILTER. */
static void stat_init(const char *opt, tcpwm_format format, const char *cli)
{
    size_t n = strlen(cli);
    const char *filter = NULL;
    tcpwm_stat *s;
    GString *err;

    if (strncmp(opt, cli, n) != 0 || (opt[n] != '\0' && opt[n] != ',')) {
        fprintf(stderr, "tshark: invalid -z argument '%s'; expected -z %s[,FILTER]\n", opt, cli);
        exit(1);
    }
    if (opt[n] == ',' && opt[n + 1] != '\0')
        filter = opt + n + 1;

    s = g_new0(tcpwm_stat, 1);
    s->cli = cli;
    s->format = format;
    stat_start(s);
    /* TL_REQUIRES_ERROR_PACKETS: every frame counts. Without it a frame
     * whose dissection left pinfo->flags.in_error_pkt set (an exception
     * inside the packet an ICMP error quotes) would be withheld from us. */
    err = register_tap_listener("tcpwm", s, filter, TL_REQUIRES_ERROR_PACKETS, stat_reset,
                                stat_packet, stat_draw, stat_finish);
    if (err != NULL) {
        fprintf(stderr, "tshark: -z %s: cannot register the tap: %s\n", cli, err->str);
        g_string_free(err, TRUE);
        tcpwm_monitor_free(s->m);
        g_free(s);
        exit(1);
    }
}

static void stat_init_prom(const char *opt, void *userdata _U_)
{
    stat_init(opt, TCPWM_FMT_PROMETHEUS, "tcpwm,prom");
}

static void stat_init_openmetrics(const char *opt, void *userdata _U_)
{
    stat_init(opt, TCPWM_FMT_OPENMETRICS, "tcpwm,openmetrics");
}

void register_tap_listener_tcpwm(void)
{
    static tap_param filter_param[] = {{PARAM_FILTER, "filter", "Filter", NULL, TRUE}};
    static stat_tap_ui prom_ui = {
        .group = REGISTER_STAT_GROUP_GENERIC,
        .title = "TCP Window Monitor metrics (Prometheus text)",
        .cli_string = "tcpwm,prom",
        .tap_init_cb = stat_init_prom,
        .nparams = G_N_ELEMENTS(filter_param),
        .params = filter_param,
    };
    static stat_tap_ui om_ui = {
        .group = REGISTER_STAT_GROUP_GENERIC,
        .title = "TCP Window Monitor metrics (OpenMetrics)",
        .cli_string = "tcpwm,openmetrics",
        .tap_init_cb = stat_init_openmetrics,
        .nparams = G_N_ELEMENTS(filter_param),
        .params = filter_param,
    };

    register_stat_tap_ui(&prom_ui, NULL);
    register_stat_tap_ui(&om_ui, NULL);
    tcpwm_register_flows_table();
}
