/* SPDX-License-Identifier: MIT */
/* The hand-off between the capture thread and the HTTP thread.
 *
 * The capture thread owns the monitor. Every few tens of milliseconds it
 * publishes a copy of the metrics (a tcpwm_metrics is a value type: a copy
 * is a consistent snapshot) and the capture-drop counters; a scrape copies
 * the latest published snapshot and renders it outside the lock. Both
 * sides hold the mutex only for a memcpy of a few hundred bytes, and the
 * capture thread uses trylock for its periodic publishes, so it never
 * waits on a scrape. */
#ifndef TCPWM_CLI_SNAPSHOT_H
#define TCPWM_CLI_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include <pthread.h>

#include "tcpwm/buf.h"
#include "tcpwm/expo.h"
#include "tcpwm/metrics.h"
#include "tcpwm/monitor.h"

/* What a scrape renders. */
typedef struct snapshot_data {
    tcpwm_metrics m;
    uint64_t capture_dropped;    /* pcap_stats ps_drop: the kernel had no room */
    uint64_t capture_if_dropped; /* pcap_stats ps_ifdrop: the interface dropped */
    uint64_t capture_write_errors; /* packets -w could not save */
    uint64_t scrapes;            /* metrics requests served, this one included */
    bool ready;                  /* something was published */
    /* --service-ports: the monitor's ports and its n_ports + 1 per-service
     * blocks (owned: snapshot_data_free); n_ports 0: none. */
    const uint16_t *ports;
    size_t n_ports;
    tcpwm_metrics *blocks;
} snapshot_data;

typedef struct snapshot {
    pthread_mutex_t mu;
    snapshot_data d; /* under mu */
    _Atomic uint64_t write_errors; /* lock-free: the capture thread never waits */
} snapshot;

/* Snapshots of monitor m (its service ports too). 0, or -1 (no memory,
 * or the mutex could not be created). */
int snapshot_init(snapshot *s, const tcpwm_monitor *m);
void snapshot_destroy(snapshot *s);

/* Capture thread: publish m's metrics, unless a scrape holds the lock
 * right now (then false: try again at the next occasion). */
bool snapshot_try_publish(snapshot *s, const tcpwm_monitor *m, uint64_t dropped,
                          uint64_t if_dropped);
/* Capture thread: publish, waiting for the lock (at shutdown). */
void snapshot_publish(snapshot *s, const tcpwm_monitor *m, uint64_t dropped, uint64_t if_dropped);

/* Capture thread: the packets -w could not save so far. */
void snapshot_write_errors(snapshot *s, uint64_t n);

/* HTTP thread: count one scrape and copy the latest snapshot into out,
 * which snapshot_data_free() releases. 0, or -1: out of memory (nothing
 * counted, out holds nothing). */
int snapshot_scrape(snapshot *s, snapshot_data *out);
void snapshot_data_free(snapshot_data *d);
bool snapshot_ready(snapshot *s);

/* The exposition of a snapshot: the core's families, then the exporter's
 * own (build info, scrapes, capture drops, -w write errors), then the end. 0 or a TCPWM_
 * error. */
TCPWM_WUR int snapshot_render(const snapshot_data *d, tcpwm_format f, tcpwm_buf *b);

#endif
