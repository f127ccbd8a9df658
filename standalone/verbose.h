/* SPDX-License-Identifier: MIT */
/* -v: one line on standard error for every analyzed packet with a loss or
 * window event:
 *
 *   2024-05-01T12:00:00.123456789Z 192.0.2.1:443 > 198.51.100.7:50000 missing gap=1448
 *
 * the capture time (RFC 3339, UTC, nanoseconds), the flow in the packet's
 * direction, then each event with its detail: gap= bytes skipped (missing),
 * fill= age of the oldest hole filled and holes= holes touched
 * (out_of_order), holes= holes the ACK closed (capture_gap), and for the
 * window events window= (scaled), was= (the previous window of that
 * direction) and scale= (the shift, or "?" when the handshake was not seen). */
#ifndef TCPWM_CLI_VERBOSE_H
#define TCPWM_CLI_VERBOSE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpwm/monitor.h"

/* Capture time as RFC 3339 UTC with nanoseconds: "2024-05-01T12:00:00.123456789Z". */
#define VERBOSE_TIME_MAX 48
void verbose_time(char out[VERBOSE_TIME_MAX], int64_t ts_ns);

/* True when r carries an event worth a line. */
bool verbose_wants(const tcpwm_result *r);

/* Write the line for r (call only when verbose_wants(r)). */
void verbose_event(FILE *f, int64_t ts_ns, const tcpwm_result *r);

#endif
