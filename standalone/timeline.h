/* SPDX-License-Identifier: MIT */
/* --timeline: snapshots of the metrics at every multiple of the interval
 * in capture time, rendered at the end as one OpenMetrics document with
 * timestamps (OpenMetrics wants each family's samples together, so the
 * document cannot be streamed while replaying).
 *
 * A snapshot stamped t holds every packet with a timestamp at or before t:
 * it is taken when the first packet later than t arrives, before that
 * packet is analyzed. The last snapshot is stamped with the latest packet
 * time. Boundaries are floor(ts / interval) * interval in epoch time, so
 * two runs over the same capture line up whatever the first packet. */
#ifndef TCPWM_CLI_TIMELINE_H
#define TCPWM_CLI_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwm/buf.h"
#include "tcpwm/metrics.h"
#include "tcpwm/monitor.h"

/* A jump in capture time across more boundaries than this gives only one
 * snapshot (the values did not change in between anyway). */
#define TIMELINE_MAX_STEP 10000

typedef struct timeline {
    int64_t interval_ns;
    bool started;         /* a packet has been seen */
    int64_t next_ns;      /* the next boundary not yet snapshotted */
    int64_t last_ns;      /* latest packet time (time never goes back) */
    tcpwm_metrics *snaps; /* snapshots, ascending time */
    int64_t *ts_ns;       /* their stamps */
    size_t n, cap;
    /* --service-ports: the monitor's ports, and per snapshot its n_ports + 1
     * per-service blocks (tcpwm_expo_services' layout); n_ports 0: none. */
    const uint16_t *ports;
    size_t n_ports;
    tcpwm_metrics *blocks;
} timeline;

/* The snapshots are of monitor m (its service ports too). */
void timeline_init(timeline *t, int64_t interval_ns, const tcpwm_monitor *m);
void timeline_free(timeline *t);

/* Before analyzing a packet stamped ts_ns, with m the monitor (read only
 * when a snapshot is due). 0, or TCPWM_ENOMEM. *skipped is set to the number of boundaries passed
 * without a snapshot of their own (a jump of more than TIMELINE_MAX_STEP
 * intervals), 0 normally. */
int timeline_packet(timeline *t, int64_t ts_ns, const tcpwm_monitor *m, uint64_t *skipped);

/* After the last packet: the final snapshot. 0 or TCPWM_ENOMEM. */
int timeline_finish(timeline *t, const tcpwm_monitor *m);

/* The OpenMetrics document, "# EOF" included. 0 or a TCPWM_ error. */
int timeline_render(const timeline *t, tcpwm_buf *b);

#endif
