/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the files of the Wireshark plugin share: the registration
 * routines plugin.c calls, the analysis settings (the protocol's
 * preferences), and the record the postdissector queues on the "tcpwm"
 * tap for the tshark -z statistics. */
#ifndef TCPWM_PLUGIN_H
#define TCPWM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "tcpwm/monitor.h"

/* packet-tcpwm.c */
void proto_register_tcpwm(void);
void proto_reg_handoff_tcpwm(void);

/* tap-tcpwm.c: registers the -z tcpwm,prom and -z tcpwm,openmetrics
 * statistics (called through the tap plugin hook). */
void register_tap_listener_tcpwm(void);

/* tap-tcpwm-flows.c: registers the table of flows, Statistics > TCP Window
 * Monitor and tshark -z tcpwm,flows (called by register_tap_listener_tcpwm). */
void tcpwm_register_flows_table(void);

/* The monitor settings the preferences describe now (scope, hole cap,
 * idle timeout; everything else is the core's default, as in
 * tcp_window_monitor). */
void tcpwm_plugin_config(tcpwm_config *c);

/* The id of the "tcpwm" tap, registered by proto_register_tcpwm(). */
int tcpwm_plugin_tap_id(void);

/* One raw frame, as the postdissector saw it: the same four values
 * tcp_window_monitor hands to tcpwm_monitor_frame() for the same record.
 * Queued on the tap on every pass, in packet scope: the bytes stay valid
 * until the tap listeners have run for this frame. */
typedef struct tcpwm_tap_frame {
    const uint8_t *data;
    size_t caplen;
    size_t wirelen;
    int dlt;
    int64_t ts_ns;
} tcpwm_tap_frame;

#endif
