/* SPDX-License-Identifier: MIT */
/* Live mode (-i): capture an interface, serve the metrics over HTTP, and
 * run until SIGINT or SIGTERM.
 *
 * Start-up, in this order: the monitor (flow-hash seed from getrandom()),
 * the capture handle, the listening socket, then privileges are dropped,
 * and only then the HTTP thread starts. The main thread is the capture
 * thread: it owns the monitor, feeds it every frame, publishes a snapshot
 * for the HTTP thread every SNAPSHOT_EVERY_NS, prints the stats lines,
 * and when no traffic comes advances the monitor's clock by the wall time
 * since the last packet, less LIVE_CLOCK_LAG_NS, so idle flows still
 * expire.
 *
 * SIGINT/SIGTERM: the capture stops, the final snapshot is published, the
 * final stats line printed, the HTTP server stopped; exit status 0. A
 * capture that fails (the interface disappeared): one line saying so and
 * exit status 1, so that a service manager restarts us. */
#ifndef TCPWM_CLI_LIVE_H
#define TCPWM_CLI_LIVE_H

#include "options.h"

/* How often the capture thread publishes what a scrape sees. */
#define SNAPSHOT_EVERY_NS (50 * 1000000LL)

/* How long the capture thread sleeps at most when no packet comes. */
#define LIVE_IDLE_WAKE_MS 100

/* The core's clock never goes back, and a packet stamped before it is
 * taken at its time. A packet can wait in the kernel's open block for up
 * to CAPTURE_BLOCK_TIMEOUT_MS after its timestamp, unseen when the ring
 * reads empty; a clock advanced to the wall time would run ahead of it,
 * and a hole it fills would take the wall time as its fill time. Lagging
 * this far behind keeps live results those of a replay of the same
 * packets; expiry runs in seconds anyway. */
#define LIVE_CLOCK_LAG_NS 1000000000LL

/* Run until stopped; returns the exit status (0, or 1 on a failure). */
int live_run(const options *o);

#endif
