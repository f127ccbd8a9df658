/* SPDX-License-Identifier: MIT */
/* Wireshark's analysis (docs/semantics.md 7) on a thread of its own
 * during a replay: the monitor hands it batches of jobs
 * (tcpwm_monitor_defer_analysis, tcpwm/monitor.h) while the replay's
 * thread goes on with the flow table. On the benchmark capture the
 * analysis was 30% of the replay's time on one thread (bench/RESULTS.md);
 * the counts are the same either way.
 *
 * Only for a replay that neither prints per packet (-v) nor snapshots the
 * metrics as it goes (--timeline): the monitor's results for those come a
 * batch late (monitor.h); only with a second CPU; and only for input that
 * is not decompressed (replay.c), since a decompressor keeps the second
 * CPU busy already. While offloaded, the flow-end callback runs on the
 * analysis thread. */
#ifndef TCPWM_CLI_OFFLOAD_H
#define TCPWM_CLI_OFFLOAD_H

#include "tcpwm/monitor.h"

typedef struct offload offload;

/* Starts the thread and defers m's analysis to it. NULL when it does not
 * (one CPU, a build without the analysis, or no memory or thread to be
 * had): the monitor then analyzes as before, on the caller's thread. */
offload *offload_start(tcpwm_monitor *m);

/* Runs what is left, stops the thread and gives the monitor back whole
 * (every count and flow figure as if never offloaded). NULL is fine. */
void offload_stop(offload *o);

#endif
