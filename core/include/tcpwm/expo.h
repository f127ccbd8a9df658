/* SPDX-License-Identifier: MIT */
/* Exposition writers: Prometheus text format 0.0.4 and OpenMetrics 1.0.
 * Every front end prints through these, so they print the same bytes.
 *
 * A document is: tcpwm_expo_metrics() (the core's families, in a fixed
 * order), then any extra families a front end adds with the family/sample
 * helpers, then tcpwm_expo_finish() (which writes "# EOF" for OpenMetrics). */
#ifndef TCPWM_EXPO_H
#define TCPWM_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "tcpwm/buf.h"
#include "tcpwm/metrics.h"

typedef enum tcpwm_format {
    TCPWM_FMT_PROMETHEUS = 0, /* text/plain; version=0.0.4 */
    TCPWM_FMT_OPENMETRICS,    /* application/openmetrics-text; version=1.0.0 */
} tcpwm_format;

/* The exact Content-Type for a format. */
const char *tcpwm_expo_content_type(tcpwm_format f);

/* Render the core's metric families for `n` snapshots. With ts_ns == NULL
 * (and n == 1) samples carry no timestamp. With ts_ns, snapshot i is
 * stamped ts_ns[i] (OpenMetrics: seconds with a fraction; Prometheus text:
 * integer milliseconds), samples grouped family by family, each series in
 * ascending time, as OpenMetrics requires for backfilling. */
TCPWM_WUR int tcpwm_expo_metrics(tcpwm_buf *b, tcpwm_format f, const tcpwm_metrics *snaps,
                                 const int64_t *ts_ns, size_t n);

/* The per-service view (docs/semantics.md 8): the per-flow families
 * (tcpwm/metrics.h) get a `port` label, one series per port and one for
 * "other", in place of their unlabelled series. For snapshot i, the block
 * of port j is blocks[i * (n_ports + 1) + j], "other" the last (the
 * layout of tcpwm_monitor_service_metrics(), snapshot after snapshot). */
typedef struct tcpwm_expo_services {
    const uint16_t *ports;       /* ascending, as the labels come out */
    size_t n_ports;              /* 1 .. TCPWM_MAX_SERVICE_PORTS */
    const tcpwm_metrics *blocks; /* (n_ports + 1) * n */
} tcpwm_expo_services;

/* tcpwm_expo_metrics() with the per-service view; svc NULL: without it
 * (the same bytes as tcpwm_expo_metrics()). The unlabelled families come
 * from snaps as there. */
TCPWM_WUR int tcpwm_expo_metrics_services(tcpwm_buf *b, tcpwm_format f,
                                          const tcpwm_metrics *snaps, const int64_t *ts_ns,
                                          size_t n, const tcpwm_expo_services *svc);

typedef enum tcpwm_mtype {
    TCPWM_MT_COUNTER = 0,
    TCPWM_MT_GAUGE,
    TCPWM_MT_INFO, /* OpenMetrics info; rendered as a gauge in Prometheus text */
} tcpwm_mtype;

/* Extra families. `name` is the family name without suffix (a counter named
 * "tcp_monitor_scrapes" gets samples "tcp_monitor_scrapes_total"; an info
 * family "tcp_monitor_build" gets "tcp_monitor_build_info"). `help` is
 * escaped here. */
TCPWM_WUR int tcpwm_expo_family(tcpwm_buf *b, tcpwm_format f, const char *name,
                                tcpwm_mtype t, const char *help);
/* One sample of the family just begun. labels: n_labels name/value pairs
 * (values escaped here), may be NULL when n_labels == 0. */
TCPWM_WUR int tcpwm_expo_sample_u64(tcpwm_buf *b, tcpwm_format f, const char *name,
                                    tcpwm_mtype t, const char *const *labels,
                                    size_t n_labels, uint64_t value);
TCPWM_WUR int tcpwm_expo_finish(tcpwm_buf *b, tcpwm_format f);

/* Canonical float text: the shortest decimal that reads back to the same
 * double; "+Inf", "-Inf", "NaN". OpenMetrics adds ".0" to integral values
 * (as the Go client does). Writes at most 32 bytes plus NUL into out. */
void tcpwm_expo_float(char out[40], double v, tcpwm_format f);

#endif
