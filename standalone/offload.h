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
 * batch late (monitor.h); and only with a second CPU. For input read
 * ahead or decompressed, whose reading thread has that CPU, there is no
 * thread of its own: see offload_start_shared. While offloaded, the
 * flow-end callback runs on the thread that runs the batch. */
#ifndef TCPWM_CLI_OFFLOAD_H
#define TCPWM_CLI_OFFLOAD_H

#include "tcpwm/monitor.h"

typedef struct offload offload;

/* Starts the thread and defers m's analysis to it. NULL when it does not
 * (one CPU, a build without the analysis, or no memory or thread to be
 * had): the monitor then analyzes as before, on the caller's thread. */
offload *offload_start(tcpwm_monitor *m);

/* The same without a thread of its own, for a replay whose second CPU
 * reads ahead or decompresses (instream.h): full batches are run, in
 * order and one at a time, by whichever thread would otherwise wait. The
 * reading thread when it is ahead and the replay's thread when it waits
 * for bytes call offload_help (instream_set_idle); the replay's thread,
 * out of empty batches, runs the oldest itself. So the analysis fills
 * the gaps of both CPUs instead of a third thread taking a share of each
 * (on the benchmark's plain capture the reading thread ran all 306
 * batches and the replay's thread never waited). */
offload *offload_start_shared(tcpwm_monitor *m);

/* An instream idle function (ctx: an offload from offload_start_shared):
 * runs the oldest full batch if one waits and none is being run. true if
 * it ran one. Any thread; not after offload_stop. */
bool offload_help(void *ctx);

/* Runs what is left, stops the thread and gives the monitor back whole
 * (every count and flow figure as if never offloaded). NULL is fine. */
void offload_stop(offload *o);

#endif
