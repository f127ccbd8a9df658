/* SPDX-License-Identifier: MIT */
/* Per-packet TCP analysis of one flow: the sequence rules (missing,
 * duplicate, out-of-order, keep-alive, zero-window probe, capture gap) and
 * the window rules (shrink, right-edge retreat, zero window) of
 * docs/semantics.md sections 4 and 5. */
#ifndef TCPWM_TCP_H
#define TCPWM_TCP_H

#include <stdint.h>

#include "flow.h"
#include "holes.h"
#include "tcpwm/metrics.h"
#include "tcpwm/monitor.h"
#include "tcpwm/segment.h"

typedef struct tcpwm__analysis {
    tcpwm__hole_pool *holes;
    tcpwm_metrics *metrics; /* the whole capture's: process-wide fields */
    /* Where this packet's per-flow fields count (tcpwm/metrics.h): the
     * flow's service block, or `metrics` itself without service ports. */
    tcpwm_metrics *fm;
    uint32_t max_holes; /* per side */
} tcpwm__analysis;

/* Analyzes segment s, sent by side `dir` of flow f (0: initiator) at
 * capture time now_ns. Updates the flow, the metrics and res (whose
 * verdict/events/... fields it fills; the caller set the rest). */
void tcpwm__tcp_analyze(const tcpwm__analysis *a, tcpwm__flow *f, unsigned dir, const tcpwm_segment *s, int64_t now_ns, tcpwm_result *res);

#endif
