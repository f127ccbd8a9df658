/* SPDX-License-Identifier: MIT */
/* Exposition writers: canonical floats, histogram bucketing, escaping,
 * timestamps, multi-snapshot order, and whole documents in both formats
 * compared with expected text written out by hand from the format rules
 * (never pasted from program output).
 *
 * With `--dump prometheus|openmetrics|timeline FILE` it instead writes a
 * sample document to FILE, which tests/unit/promtool_check.sh feeds to
 * promtool (the text-format linter, and the OpenMetrics parser behind
 * `promtool tsdb create-blocks-from openmetrics`). */
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcpwm/buf.h"
#include "tcpwm/err.h"
#include "tcpwm/expo.h"
#include "tcpwm/metrics.h"

#define P TCPWM_FMT_PROMETHEUS
#define OM TCPWM_FMT_OPENMETRICS
#define RC(x) ((uint64_t)(int64_t)(x)) /* compare negative codes with CHECK_EQ_U64 */

/* ---- Fixtures ------------------------------------------------------------ */

/* Every counter distinct, so a value printed under the wrong name shows. */
static void known_metrics(tcpwm_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->packets = 1000;
    m->tcp_packets = 900;
    m->global_tcp_packets = 800;
    m->missing = 7;
    m->duplicate = 3;
    m->out_of_order = 4;
    m->capture_gap = 2;
    m->keepalive = 5;
    m->zero_window_probe = 1;
    m->zero_window = 6;
    m->window_shrink = 8;
    m->right_edge_retreat = 9;
    m->scale_unknown = 10;
    m->conn_opened = 11;
    m->conn_closed = 12;
    m->holes_forgotten = 13;
    m->evicted[TCPWM_EVICT_MAX_FLOWS] = 14;
    m->evicted[TCPWM_EVICT_IDLE] = 15;
    m->decode_errors[TCPWM_DE_UNSUPPORTED_LINKTYPE] = 23;
    m->decode_errors[TCPWM_DE_TRUNCATED_IP] = 21;
    m->decode_errors[TCPWM_DE_BAD_TCP_OPTION] = 22;
    m->decode_errors[TCPWM_DE_ENCAP_TOO_DEEP] = 26;
    m->tunneled[TCPWM_ENCAP_GRE] = 24;
    m->tunneled[TCPWM_ENCAP_MPLS] = 25;
    m->fragments[TCPWM_FRAG_REASSEMBLED] = 27;
    m->fragments[TCPWM_FRAG_TOO_MANY_RANGES] = 28;
    m->fragments_ignored[TCPWM_FRAG_IGN_DUPLICATE] = 29;
    m->fragments_ignored[TCPWM_FRAG_IGN_DISCARDED] = 30;
    m->active_connections = 17;
    m->current_window = 262144;
    /* Gap: on a bound, just above one, in between, on the last bound,
     * beyond it. Sum 33556062 = 3.3556062e+07. */
    tcpwm_hist_gap_observe(&m->gap, 64);
    tcpwm_hist_gap_observe(&m->gap, 65);
    tcpwm_hist_gap_observe(&m->gap, 1500);
    tcpwm_hist_gap_observe(&m->gap, 16777216);
    tcpwm_hist_gap_observe(&m->gap, 16777217);
    /* Fill: 100 us exactly, 1 ns more, 1 s, 3 s, 11 s.
     * Sum 15000200001 ns = 15.000200001 s. */
    tcpwm_hist_fill_observe(&m->fill, 100000);
    tcpwm_hist_fill_observe(&m->fill, 100001);
    tcpwm_hist_fill_observe(&m->fill, 1000000000);
    tcpwm_hist_fill_observe(&m->fill, 3000000000);
    tcpwm_hist_fill_observe(&m->fill, 11000000000);
    m->dup_ack = 31;
    m->retransmissions[TCPWM_RETX_FAST - 1] = 32;
    m->retransmissions[TCPWM_RETX_SPURIOUS - 1] = 33;
    m->retransmissions[TCPWM_RETX_OTHER - 1] = 34;
    m->reordered = 35;
    m->dsack = 36;
    m->rtt_untracked = 37;
    /* ACK RTT: 50 us exactly (the first bound), 1 ns more, 2 s, 10 s
     * exactly (the last bound), 12 s. Sum 24000100001 ns. */
    tcpwm_hist_rtt_observe(&m->ack_rtt, 50000);
    tcpwm_hist_rtt_observe(&m->ack_rtt, 50001);
    tcpwm_hist_rtt_observe(&m->ack_rtt, 2000000000);
    tcpwm_hist_rtt_observe(&m->ack_rtt, 10000000000);
    tcpwm_hist_rtt_observe(&m->ack_rtt, 12000000000);
    /* Handshake RTT: 1 ms, on a bound. */
    tcpwm_hist_rtt_observe(&m->handshake_rtt, 1000000);
}

/* HELP texts, shared by both expected documents. */
#define H_PACKETS "Frames read from the capture, TCP or not."
#define H_TCP "Frames that decoded to a TCP segment."
#define H_GLOBAL "TCP segments between two global unicast addresses."
#define H_MISSING "Segments that skipped sequence space the capture never showed (a hole opened)."
#define H_DUP "Segments carrying data the capture had already seen."
#define H_OOO "Segments that filled (part of) an open sequence hole."
#define H_CGAP "Sequence holes the receiver acknowledged but the capture never showed."
#define H_KA "TCP keep-alive segments."
#define H_ZWP "TCP zero-window probes."
#define H_ZW "Segments advertising a zero receive window."
#define H_SHRINK                                                                                   \
    "Segments whose scaled window was smaller than the previous one in the same direction."
#define H_RETREAT "Segments that moved the right edge of the window (ack + window) left."
#define H_SCALE "Window-analyzed segments whose window scale was unknown (handshake not seen)."
#define H_OPENED "Connections opened (first packet seen, or a new SYN on a reused port)."
#define H_CLOSED "Connections closed by a RST or by a FIN in both directions."
#define H_EVICT "Open flows removed from the flow table before they closed, by reason."
#define H_FORGOT "Sequence holes dropped because their direction had too many open."
#define H_DECODE "Frames that should carry IP and TCP but could not be decoded, by reason."
#define H_FRAG                                                                                     \
    "Fragmented TCP datagrams (IPv4, IPv6), counted once each when reassembly ends, by outcome."
#define H_FRAG_IGN "Fragments of TCP datagrams that reassembly ignored, by reason."
#define H_TUNNEL                                                                                   \
    "Frames decoded through each kind of encapsulation (tunnel or label stack), once per kind "   \
    "per frame."
#define H_ACTIVE "Connections in the flow table that are not closed."
#define H_WINDOW "Scaled receive window of the most recently analyzed segment."
#define H_GAP "Bytes of sequence space skipped by each missing event."
#define H_FILL "Capture time from a sequence hole opening to its out-of-order fill."
#define H_DUPACK "Duplicate ACKs, as Wireshark's tcp.analysis.duplicate_ack."
#define H_RETX                                                                                     \
    "Retransmitted segments by kind, as Wireshark's tcp.analysis.fast_retransmission, "           \
    "spurious_retransmission and the other tcp.analysis.retransmission."
#define H_REORD "Segments arriving out of order, as Wireshark's tcp.analysis.out_of_order."
#define H_DSACK "Segments whose SACK option reports a duplicate (D-SACK, RFC 2883)."
#define H_UNTRACKED "Data segments not remembered for the ACK RTT because a cap was reached."
#define H_ACK_RTT                                                                                  \
    "Capture time from a data segment to the ACK of its end, as Wireshark's "                     \
    "tcp.analysis.ack_rtt."
#define H_HS_RTT                                                                                   \
    "Capture time from a SYN to the ACK completing the handshake, as Wireshark's "                \
    "tcp.analysis.initial_rtt."

/* Prometheus text 0.0.4: HELP then TYPE, both naming the sample (x_total);
 * le values shortest-round-trip without ".0"; histogram groups end with
 * _sum then _count. */
static const char *const expected_prometheus[] = {
    "# HELP tcp_monitor_packets_total " H_PACKETS "\n"
    "# TYPE tcp_monitor_packets_total counter\n"
    "tcp_monitor_packets_total 1000\n",
    "# HELP tcp_monitor_tcp_packets_total " H_TCP "\n"
    "# TYPE tcp_monitor_tcp_packets_total counter\n"
    "tcp_monitor_tcp_packets_total 900\n",
    "# HELP tcp_monitor_global_tcp_packets_total " H_GLOBAL "\n"
    "# TYPE tcp_monitor_global_tcp_packets_total counter\n"
    "tcp_monitor_global_tcp_packets_total 800\n",
    "# HELP tcp_monitor_packet_loss_missing_total " H_MISSING "\n"
    "# TYPE tcp_monitor_packet_loss_missing_total counter\n"
    "tcp_monitor_packet_loss_missing_total 7\n",
    "# HELP tcp_monitor_packet_loss_duplicate_total " H_DUP "\n"
    "# TYPE tcp_monitor_packet_loss_duplicate_total counter\n"
    "tcp_monitor_packet_loss_duplicate_total 3\n",
    "# HELP tcp_monitor_packet_loss_out_of_order_total " H_OOO "\n"
    "# TYPE tcp_monitor_packet_loss_out_of_order_total counter\n"
    "tcp_monitor_packet_loss_out_of_order_total 4\n",
    "# HELP tcp_monitor_capture_gap_total " H_CGAP "\n"
    "# TYPE tcp_monitor_capture_gap_total counter\n"
    "tcp_monitor_capture_gap_total 2\n",
    "# HELP tcp_monitor_keepalive_total " H_KA "\n"
    "# TYPE tcp_monitor_keepalive_total counter\n"
    "tcp_monitor_keepalive_total 5\n",
    "# HELP tcp_monitor_zero_window_probe_total " H_ZWP "\n"
    "# TYPE tcp_monitor_zero_window_probe_total counter\n"
    "tcp_monitor_zero_window_probe_total 1\n",
    "# HELP tcp_monitor_zero_window_total " H_ZW "\n"
    "# TYPE tcp_monitor_zero_window_total counter\n"
    "tcp_monitor_zero_window_total 6\n",
    "# HELP tcp_monitor_window_shrink_total " H_SHRINK "\n"
    "# TYPE tcp_monitor_window_shrink_total counter\n"
    "tcp_monitor_window_shrink_total 8\n",
    "# HELP tcp_monitor_window_right_edge_retreat_total " H_RETREAT "\n"
    "# TYPE tcp_monitor_window_right_edge_retreat_total counter\n"
    "tcp_monitor_window_right_edge_retreat_total 9\n",
    "# HELP tcp_monitor_window_scale_unknown_packets_total " H_SCALE "\n"
    "# TYPE tcp_monitor_window_scale_unknown_packets_total counter\n"
    "tcp_monitor_window_scale_unknown_packets_total 10\n",
    "# HELP tcp_monitor_connections_opened_total " H_OPENED "\n"
    "# TYPE tcp_monitor_connections_opened_total counter\n"
    "tcp_monitor_connections_opened_total 11\n",
    "# HELP tcp_monitor_connections_closed_total " H_CLOSED "\n"
    "# TYPE tcp_monitor_connections_closed_total counter\n"
    "tcp_monitor_connections_closed_total 12\n",
    "# HELP tcp_monitor_flows_evicted_total " H_EVICT "\n"
    "# TYPE tcp_monitor_flows_evicted_total counter\n"
    "tcp_monitor_flows_evicted_total{reason=\"max_flows\"} 14\n"
    "tcp_monitor_flows_evicted_total{reason=\"idle\"} 15\n",
    "# HELP tcp_monitor_holes_forgotten_total " H_FORGOT "\n"
    "# TYPE tcp_monitor_holes_forgotten_total counter\n"
    "tcp_monitor_holes_forgotten_total 13\n",
    "# HELP tcp_monitor_decode_errors_total " H_DECODE "\n"
    "# TYPE tcp_monitor_decode_errors_total counter\n"
    "tcp_monitor_decode_errors_total{reason=\"unsupported_linktype\"} 23\n"
    "tcp_monitor_decode_errors_total{reason=\"truncated_link\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"truncated_ip\"} 21\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_ip_version\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_ipv4_header_length\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_ip_length\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_ipv6_extension\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"truncated_tcp\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_tcp_data_offset\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_tcp_option\"} 22\n"
    "tcp_monitor_decode_errors_total{reason=\"truncated_encapsulation\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_encapsulation\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"encapsulation_too_deep\"} 26\n"
    "tcp_monitor_decode_errors_total{reason=\"encapsulation_table_full\"} 0\n",
    "# HELP tcp_monitor_tunneled_packets_total " H_TUNNEL "\n"
    "# TYPE tcp_monitor_tunneled_packets_total counter\n"
    "tcp_monitor_tunneled_packets_total{encap=\"vxlan\"} 0\n"
    "tcp_monitor_tunneled_packets_total{encap=\"geneve\"} 0\n"
    "tcp_monitor_tunneled_packets_total{encap=\"gre\"} 24\n"
    "tcp_monitor_tunneled_packets_total{encap=\"erspan\"} 0\n"
    "tcp_monitor_tunneled_packets_total{encap=\"ipip\"} 0\n"
    "tcp_monitor_tunneled_packets_total{encap=\"mpls\"} 25\n",
    "# HELP tcp_monitor_fragments_total " H_FRAG "\n"
    "# TYPE tcp_monitor_fragments_total counter\n"
    "tcp_monitor_fragments_total{outcome=\"reassembled\"} 27\n"
    "tcp_monitor_fragments_total{outcome=\"timed_out\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"overlapping\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"evicted\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"too_large\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"inconsistent\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"too_many_ranges\"} 28\n",
    "# HELP tcp_monitor_fragments_ignored_total " H_FRAG_IGN "\n"
    "# TYPE tcp_monitor_fragments_ignored_total counter\n"
    "tcp_monitor_fragments_ignored_total{reason=\"duplicate\"} 29\n"
    "tcp_monitor_fragments_ignored_total{reason=\"malformed\"} 0\n"
    "tcp_monitor_fragments_ignored_total{reason=\"discarded\"} 30\n",
    "# HELP tcp_monitor_active_connections " H_ACTIVE "\n"
    "# TYPE tcp_monitor_active_connections gauge\n"
    "tcp_monitor_active_connections 17\n",
    "# HELP tcp_monitor_current_window_size_bytes " H_WINDOW "\n"
    "# TYPE tcp_monitor_current_window_size_bytes gauge\n"
    "tcp_monitor_current_window_size_bytes 262144\n",
    "# HELP tcp_monitor_packet_loss_gap_bytes " H_GAP "\n"
    "# TYPE tcp_monitor_packet_loss_gap_bytes histogram\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"64\"} 1\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"128\"} 2\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"256\"} 2\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"512\"} 2\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"1024\"} 2\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"2048\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"4096\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"8192\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"16384\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"32768\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"65536\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"131072\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"262144\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"524288\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"1.048576e+06\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"2.097152e+06\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"4.194304e+06\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"8.388608e+06\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"1.6777216e+07\"} 4\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"+Inf\"} 5\n"
    "tcp_monitor_packet_loss_gap_bytes_sum 3.3556062e+07\n"
    "tcp_monitor_packet_loss_gap_bytes_count 5\n",
    "# HELP tcp_monitor_hole_fill_seconds " H_FILL "\n"
    "# TYPE tcp_monitor_hole_fill_seconds histogram\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0001\"} 1\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.00025\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0005\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.001\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0025\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.005\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.01\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.025\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.05\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.1\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.25\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.5\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"1\"} 3\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"2.5\"} 3\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"5\"} 4\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"10\"} 4\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"+Inf\"} 5\n"
    "tcp_monitor_hole_fill_seconds_sum 15.000200001\n"
    "tcp_monitor_hole_fill_seconds_count 5\n",
    "# HELP tcp_monitor_duplicate_acks_total " H_DUPACK "\n"
    "# TYPE tcp_monitor_duplicate_acks_total counter\n"
    "tcp_monitor_duplicate_acks_total 31\n",
    "# HELP tcp_monitor_retransmissions_total " H_RETX "\n"
    "# TYPE tcp_monitor_retransmissions_total counter\n"
    "tcp_monitor_retransmissions_total{kind=\"fast\"} 32\n"
    "tcp_monitor_retransmissions_total{kind=\"spurious\"} 33\n"
    "tcp_monitor_retransmissions_total{kind=\"other\"} 34\n",
    "# HELP tcp_monitor_reordered_segments_total " H_REORD "\n"
    "# TYPE tcp_monitor_reordered_segments_total counter\n"
    "tcp_monitor_reordered_segments_total 35\n",
    "# HELP tcp_monitor_dsack_total " H_DSACK "\n"
    "# TYPE tcp_monitor_dsack_total counter\n"
    "tcp_monitor_dsack_total 36\n",
    "# HELP tcp_monitor_rtt_segments_untracked_total " H_UNTRACKED "\n"
    "# TYPE tcp_monitor_rtt_segments_untracked_total counter\n"
    "tcp_monitor_rtt_segments_untracked_total 37\n",
    "# HELP tcp_monitor_ack_rtt_seconds " H_ACK_RTT "\n"
    "# TYPE tcp_monitor_ack_rtt_seconds histogram\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"5e-05\"} 1\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.0001\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.00025\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.0005\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.001\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.0025\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.005\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.01\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.025\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.05\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.1\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.25\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.5\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"1\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"2.5\"} 3\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"5\"} 3\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"10\"} 4\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"+Inf\"} 5\n"
    "tcp_monitor_ack_rtt_seconds_sum 24.000100001\n"
    "tcp_monitor_ack_rtt_seconds_count 5\n",
    "# HELP tcp_monitor_handshake_rtt_seconds " H_HS_RTT "\n"
    "# TYPE tcp_monitor_handshake_rtt_seconds histogram\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"5e-05\"} 0\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.0001\"} 0\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.00025\"} 0\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.0005\"} 0\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.001\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.0025\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.005\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.01\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.025\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.05\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.1\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.25\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.5\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"1\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"2.5\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"5\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"10\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"+Inf\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_sum 0.001\n"
    "tcp_monitor_handshake_rtt_seconds_count 1\n",
    NULL,
};

/* OpenMetrics 1.0.0: TYPE, UNIT (for _bytes/_seconds), HELP, naming the
 * family (counters without _total); integral le values get ".0" unless in
 * exponent form; histogram groups end with _count then _sum; # EOF. */
static const char *const expected_openmetrics[] = {
    "# TYPE tcp_monitor_packets counter\n"
    "# HELP tcp_monitor_packets " H_PACKETS "\n"
    "tcp_monitor_packets_total 1000\n",
    "# TYPE tcp_monitor_tcp_packets counter\n"
    "# HELP tcp_monitor_tcp_packets " H_TCP "\n"
    "tcp_monitor_tcp_packets_total 900\n",
    "# TYPE tcp_monitor_global_tcp_packets counter\n"
    "# HELP tcp_monitor_global_tcp_packets " H_GLOBAL "\n"
    "tcp_monitor_global_tcp_packets_total 800\n",
    "# TYPE tcp_monitor_packet_loss_missing counter\n"
    "# HELP tcp_monitor_packet_loss_missing " H_MISSING "\n"
    "tcp_monitor_packet_loss_missing_total 7\n",
    "# TYPE tcp_monitor_packet_loss_duplicate counter\n"
    "# HELP tcp_monitor_packet_loss_duplicate " H_DUP "\n"
    "tcp_monitor_packet_loss_duplicate_total 3\n",
    "# TYPE tcp_monitor_packet_loss_out_of_order counter\n"
    "# HELP tcp_monitor_packet_loss_out_of_order " H_OOO "\n"
    "tcp_monitor_packet_loss_out_of_order_total 4\n",
    "# TYPE tcp_monitor_capture_gap counter\n"
    "# HELP tcp_monitor_capture_gap " H_CGAP "\n"
    "tcp_monitor_capture_gap_total 2\n",
    "# TYPE tcp_monitor_keepalive counter\n"
    "# HELP tcp_monitor_keepalive " H_KA "\n"
    "tcp_monitor_keepalive_total 5\n",
    "# TYPE tcp_monitor_zero_window_probe counter\n"
    "# HELP tcp_monitor_zero_window_probe " H_ZWP "\n"
    "tcp_monitor_zero_window_probe_total 1\n",
    "# TYPE tcp_monitor_zero_window counter\n"
    "# HELP tcp_monitor_zero_window " H_ZW "\n"
    "tcp_monitor_zero_window_total 6\n",
    "# TYPE tcp_monitor_window_shrink counter\n"
    "# HELP tcp_monitor_window_shrink " H_SHRINK "\n"
    "tcp_monitor_window_shrink_total 8\n",
    "# TYPE tcp_monitor_window_right_edge_retreat counter\n"
    "# HELP tcp_monitor_window_right_edge_retreat " H_RETREAT "\n"
    "tcp_monitor_window_right_edge_retreat_total 9\n",
    "# TYPE tcp_monitor_window_scale_unknown_packets counter\n"
    "# HELP tcp_monitor_window_scale_unknown_packets " H_SCALE "\n"
    "tcp_monitor_window_scale_unknown_packets_total 10\n",
    "# TYPE tcp_monitor_connections_opened counter\n"
    "# HELP tcp_monitor_connections_opened " H_OPENED "\n"
    "tcp_monitor_connections_opened_total 11\n",
    "# TYPE tcp_monitor_connections_closed counter\n"
    "# HELP tcp_monitor_connections_closed " H_CLOSED "\n"
    "tcp_monitor_connections_closed_total 12\n",
    "# TYPE tcp_monitor_flows_evicted counter\n"
    "# HELP tcp_monitor_flows_evicted " H_EVICT "\n"
    "tcp_monitor_flows_evicted_total{reason=\"max_flows\"} 14\n"
    "tcp_monitor_flows_evicted_total{reason=\"idle\"} 15\n",
    "# TYPE tcp_monitor_holes_forgotten counter\n"
    "# HELP tcp_monitor_holes_forgotten " H_FORGOT "\n"
    "tcp_monitor_holes_forgotten_total 13\n",
    "# TYPE tcp_monitor_decode_errors counter\n"
    "# HELP tcp_monitor_decode_errors " H_DECODE "\n"
    "tcp_monitor_decode_errors_total{reason=\"unsupported_linktype\"} 23\n"
    "tcp_monitor_decode_errors_total{reason=\"truncated_link\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"truncated_ip\"} 21\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_ip_version\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_ipv4_header_length\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_ip_length\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_ipv6_extension\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"truncated_tcp\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_tcp_data_offset\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_tcp_option\"} 22\n"
    "tcp_monitor_decode_errors_total{reason=\"truncated_encapsulation\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"bad_encapsulation\"} 0\n"
    "tcp_monitor_decode_errors_total{reason=\"encapsulation_too_deep\"} 26\n"
    "tcp_monitor_decode_errors_total{reason=\"encapsulation_table_full\"} 0\n",
    "# TYPE tcp_monitor_tunneled_packets counter\n"
    "# HELP tcp_monitor_tunneled_packets " H_TUNNEL "\n"
    "tcp_monitor_tunneled_packets_total{encap=\"vxlan\"} 0\n"
    "tcp_monitor_tunneled_packets_total{encap=\"geneve\"} 0\n"
    "tcp_monitor_tunneled_packets_total{encap=\"gre\"} 24\n"
    "tcp_monitor_tunneled_packets_total{encap=\"erspan\"} 0\n"
    "tcp_monitor_tunneled_packets_total{encap=\"ipip\"} 0\n"
    "tcp_monitor_tunneled_packets_total{encap=\"mpls\"} 25\n",
    "# TYPE tcp_monitor_fragments counter\n"
    "# HELP tcp_monitor_fragments " H_FRAG "\n"
    "tcp_monitor_fragments_total{outcome=\"reassembled\"} 27\n"
    "tcp_monitor_fragments_total{outcome=\"timed_out\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"overlapping\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"evicted\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"too_large\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"inconsistent\"} 0\n"
    "tcp_monitor_fragments_total{outcome=\"too_many_ranges\"} 28\n",
    "# TYPE tcp_monitor_fragments_ignored counter\n"
    "# HELP tcp_monitor_fragments_ignored " H_FRAG_IGN "\n"
    "tcp_monitor_fragments_ignored_total{reason=\"duplicate\"} 29\n"
    "tcp_monitor_fragments_ignored_total{reason=\"malformed\"} 0\n"
    "tcp_monitor_fragments_ignored_total{reason=\"discarded\"} 30\n",
    "# TYPE tcp_monitor_active_connections gauge\n"
    "# HELP tcp_monitor_active_connections " H_ACTIVE "\n"
    "tcp_monitor_active_connections 17\n",
    "# TYPE tcp_monitor_current_window_size_bytes gauge\n"
    "# UNIT tcp_monitor_current_window_size_bytes bytes\n"
    "# HELP tcp_monitor_current_window_size_bytes " H_WINDOW "\n"
    "tcp_monitor_current_window_size_bytes 262144\n",
    "# TYPE tcp_monitor_packet_loss_gap_bytes histogram\n"
    "# UNIT tcp_monitor_packet_loss_gap_bytes bytes\n"
    "# HELP tcp_monitor_packet_loss_gap_bytes " H_GAP "\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"64.0\"} 1\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"128.0\"} 2\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"256.0\"} 2\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"512.0\"} 2\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"1024.0\"} 2\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"2048.0\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"4096.0\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"8192.0\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"16384.0\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"32768.0\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"65536.0\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"131072.0\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"262144.0\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"524288.0\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"1.048576e+06\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"2.097152e+06\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"4.194304e+06\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"8.388608e+06\"} 3\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"1.6777216e+07\"} 4\n"
    "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"+Inf\"} 5\n"
    "tcp_monitor_packet_loss_gap_bytes_count 5\n"
    "tcp_monitor_packet_loss_gap_bytes_sum 3.3556062e+07\n",
    "# TYPE tcp_monitor_hole_fill_seconds histogram\n"
    "# UNIT tcp_monitor_hole_fill_seconds seconds\n"
    "# HELP tcp_monitor_hole_fill_seconds " H_FILL "\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0001\"} 1\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.00025\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0005\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.001\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0025\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.005\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.01\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.025\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.05\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.1\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.25\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"0.5\"} 2\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"1.0\"} 3\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"2.5\"} 3\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"5.0\"} 4\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"10.0\"} 4\n"
    "tcp_monitor_hole_fill_seconds_bucket{le=\"+Inf\"} 5\n"
    "tcp_monitor_hole_fill_seconds_count 5\n"
    "tcp_monitor_hole_fill_seconds_sum 15.000200001\n",
    "# TYPE tcp_monitor_duplicate_acks counter\n"
    "# HELP tcp_monitor_duplicate_acks " H_DUPACK "\n"
    "tcp_monitor_duplicate_acks_total 31\n",
    "# TYPE tcp_monitor_retransmissions counter\n"
    "# HELP tcp_monitor_retransmissions " H_RETX "\n"
    "tcp_monitor_retransmissions_total{kind=\"fast\"} 32\n"
    "tcp_monitor_retransmissions_total{kind=\"spurious\"} 33\n"
    "tcp_monitor_retransmissions_total{kind=\"other\"} 34\n",
    "# TYPE tcp_monitor_reordered_segments counter\n"
    "# HELP tcp_monitor_reordered_segments " H_REORD "\n"
    "tcp_monitor_reordered_segments_total 35\n",
    "# TYPE tcp_monitor_dsack counter\n"
    "# HELP tcp_monitor_dsack " H_DSACK "\n"
    "tcp_monitor_dsack_total 36\n",
    "# TYPE tcp_monitor_rtt_segments_untracked counter\n"
    "# HELP tcp_monitor_rtt_segments_untracked " H_UNTRACKED "\n"
    "tcp_monitor_rtt_segments_untracked_total 37\n",
    "# TYPE tcp_monitor_ack_rtt_seconds histogram\n"
    "# UNIT tcp_monitor_ack_rtt_seconds seconds\n"
    "# HELP tcp_monitor_ack_rtt_seconds " H_ACK_RTT "\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"5e-05\"} 1\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.0001\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.00025\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.0005\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.001\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.0025\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.005\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.01\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.025\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.05\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.1\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.25\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"0.5\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"1.0\"} 2\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"2.5\"} 3\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"5.0\"} 3\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"10.0\"} 4\n"
    "tcp_monitor_ack_rtt_seconds_bucket{le=\"+Inf\"} 5\n"
    "tcp_monitor_ack_rtt_seconds_count 5\n"
    "tcp_monitor_ack_rtt_seconds_sum 24.000100001\n",
    "# TYPE tcp_monitor_handshake_rtt_seconds histogram\n"
    "# UNIT tcp_monitor_handshake_rtt_seconds seconds\n"
    "# HELP tcp_monitor_handshake_rtt_seconds " H_HS_RTT "\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"5e-05\"} 0\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.0001\"} 0\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.00025\"} 0\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.0005\"} 0\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.001\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.0025\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.005\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.01\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.025\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.05\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.1\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.25\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"0.5\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"1.0\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"2.5\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"5.0\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"10.0\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_bucket{le=\"+Inf\"} 1\n"
    "tcp_monitor_handshake_rtt_seconds_count 1\n"
    "tcp_monitor_handshake_rtt_seconds_sum 0.001\n",
    "# EOF\n",
    NULL,
};

/* The expected documents are arrays of per-family pieces: ISO C limits a
 * string literal to 4095 bytes. */
static char *join(const char *const *parts)
{
    size_t n = 1;
    for (size_t i = 0; parts[i]; i++)
        n += strlen(parts[i]);
    char *s = malloc(n);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; parts[i]; i++)
        strcat(s, parts[i]);
    return s;
}

/* Render snapshots (+ finish) into a fresh string; NULL on failure. */
static char *render(tcpwm_format f, const tcpwm_metrics *s, const int64_t *ts, size_t n, int finish)
{
    tcpwm_buf b;
    tcpwm_buf_init(&b, 1u << 22);
    int rc = tcpwm_expo_metrics(&b, f, s, ts, n);
    if (!rc && finish)
        rc = tcpwm_expo_finish(&b, f);
    if (rc || !b.data) {
        tcpwm_buf_free(&b);
        return NULL;
    }
    return b.data; /* the caller frees */
}

/* The lines of `doc` from the line starting with `from` up to (not
 * including) the next line starting with "# TYPE " after it. */
static char *section(const char *doc, const char *from)
{
    const char *s = doc ? strstr(doc, from) : NULL;
    if (!s)
        return NULL;
    const char *e = strstr(s + 1, "\n# TYPE ");
    size_t n = e ? (size_t)(e + 1 - s) : strlen(s);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* ---- Floats -------------------------------------------------------------- */

static void check_float(double v, const char *prom, const char *om)
{
    char out[40];
    tcpwm_expo_float(out, v, P);
    CHECK_STREQ(out, prom);
    tcpwm_expo_float(out, v, OM);
    CHECK_STREQ(out, om);
}

static void test_float(void)
{
    check_float(0.1, "0.1", "0.1");
    check_float(0.00025, "0.00025", "0.00025");
    check_float(2.5, "2.5", "2.5");
    check_float(1, "1", "1.0");
    check_float(10, "10", "10.0");
    check_float(100000, "100000", "100000.0");
    /* From 1e6 on, exponent form, as Go's %g and the OpenMetrics canonical
     * examples (1e+06); then no ".0" is added. */
    check_float(1e6, "1e+06", "1e+06");
    check_float(16777216, "1.6777216e+07", "1.6777216e+07");
    check_float(1e21, "1e+21", "1e+21");
    check_float(1e100, "1e+100", "1e+100");
    /* Down to 1e-4 plain, below in exponent form. */
    check_float(0.0001, "0.0001", "0.0001");
    check_float(1e-5, "1e-05", "1e-05");
    check_float(1e-9, "1e-09", "1e-09");
    check_float(0.3, "0.3", "0.3");
    check_float(1.0 / 3, "0.3333333333333333", "0.3333333333333333");
    check_float(123456.5, "123456.5", "123456.5");
    check_float(-3.25, "-3.25", "-3.25");
    check_float(-2, "-2", "-2.0");
    check_float(0, "0", "0.0");
    check_float(-0.0, "0", "0.0");
    check_float(5e-324, "5e-324", "5e-324");
    check_float(DBL_MAX, "1.7976931348623157e+308", "1.7976931348623157e+308");
    check_float(HUGE_VAL, "+Inf", "+Inf");
    check_float(-HUGE_VAL, "-Inf", "-Inf");
    check_float(nan(""), "NaN", "NaN");
    /* Every rendering reads back to the same double. */
    double vals[] = {0.1, 2.5, 1e-9, 16777216, 1.0 / 3, 15.000200001, 5e-324, DBL_MAX, 7.001};
    int ok = 1;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char out[40];
        tcpwm_expo_float(out, vals[i], OM);
        if (strtod(out, NULL) != vals[i])
            ok = 0;
    }
    CHECK(ok);
}

/* A locale with a decimal comma must not leak into the output. Skipped
 * (with a note) when no such locale is installed. */
static void test_locale(void)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                        "fr_FR.utf8",  "de_DE",      "nl_NL.UTF-8"};
    tcpwm_metrics m;
    known_metrics(&m);
    char *c_doc = render(OM, &m, NULL, 1, 1);
    const char *got = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !got; i++)
        got = setlocale(LC_NUMERIC, names[i]);
    if (!got) {
        printf("test_expo: note: no decimal-comma locale installed, locale check skipped\n");
        free(c_doc);
        return;
    }
    char out[40];
    tcpwm_expo_float(out, 2.5, OM);
    CHECK_STREQ(out, "2.5");
    tcpwm_expo_float(out, 1e-9, P);
    CHECK_STREQ(out, "1e-09");
    char *l_doc = render(OM, &m, NULL, 1, 1);
    CHECK(c_doc && l_doc && strcmp(c_doc, l_doc) == 0);
    setlocale(LC_NUMERIC, "C");
    free(c_doc);
    free(l_doc);
}

/* ---- Histograms ---------------------------------------------------------- */

static void test_bounds(void)
{
    int ok = 1;
    for (int i = 0; i < TCPWM_GAP_BUCKETS; i++)
        if (tcpwm_gap_bounds[i] != (uint64_t)64 << i)
            ok = 0;
    CHECK(ok);
    CHECK_EQ_U64(tcpwm_gap_bounds[TCPWM_GAP_BUCKETS - 1], 16777216);
    static const int64_t fill[TCPWM_FILL_BUCKETS] = {
        100000,   250000,    500000,    1000000,   2500000,    5000000,    10000000,   25000000,
        50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000};
    CHECK(memcmp(tcpwm_fill_bounds_ns, fill, sizeof fill) == 0);

    CHECK_STREQ(tcpwm_evict_label(TCPWM_EVICT_MAX_FLOWS), "max_flows");
    CHECK_STREQ(tcpwm_evict_label(TCPWM_EVICT_IDLE), "idle");
    CHECK(tcpwm_evict_label(TCPWM_EVICT__COUNT) == NULL);
    CHECK(tcpwm_evict_label((tcpwm_evict_reason)-1) == NULL);
}

static void test_bucketing(void)
{
    tcpwm_hist_gap g;
    memset(&g, 0, sizeof g);
    tcpwm_hist_gap_observe(&g, 64); /* on the bound: le="64" */
    CHECK_EQ_U64(g.bucket[0], 1);
    tcpwm_hist_gap_observe(&g, 65); /* just above: le="128" */
    CHECK_EQ_U64(g.bucket[1], 1);
    tcpwm_hist_gap_observe(&g, 1); /* below the first bound */
    CHECK_EQ_U64(g.bucket[0], 2);
    tcpwm_hist_gap_observe(&g, 16777216); /* the last bound */
    CHECK_EQ_U64(g.bucket[TCPWM_GAP_BUCKETS - 1], 1);
    tcpwm_hist_gap_observe(&g, 16777217); /* 16 MiB + 1: +Inf */
    CHECK_EQ_U64(g.inf, 1);
    tcpwm_hist_gap_observe(&g, UINT32_MAX);
    CHECK_EQ_U64(g.inf, 2);
    CHECK_EQ_U64(g.count, 6);
    CHECK_EQ_U64(g.sum, 64 + 65 + 1 + 16777216 + 16777217 + (uint64_t)UINT32_MAX);

    tcpwm_hist_fill f;
    memset(&f, 0, sizeof f);
    tcpwm_hist_fill_observe(&f, 100000); /* 100 us exactly: first bucket */
    CHECK_EQ_U64(f.bucket[0], 1);
    tcpwm_hist_fill_observe(&f, 100001);
    CHECK_EQ_U64(f.bucket[1], 1);
    tcpwm_hist_fill_observe(&f, 0);
    CHECK_EQ_U64(f.bucket[0], 2);
    tcpwm_hist_fill_observe(&f, -5); /* time went backwards: observed as 0 */
    CHECK_EQ_U64(f.bucket[0], 3);
    tcpwm_hist_fill_observe(&f, 10000000000); /* 10 s: last bucket */
    CHECK_EQ_U64(f.bucket[TCPWM_FILL_BUCKETS - 1], 1);
    tcpwm_hist_fill_observe(&f, 10000000001);
    CHECK_EQ_U64(f.inf, 1);
    CHECK_EQ_U64(f.count, 6);
    CHECK(f.sum_ns == 100000 + 100001 + 10000000000 + 10000000001);

    /* The sum saturates instead of overflowing. */
    f.sum_ns = INT64_MAX - 1;
    tcpwm_hist_fill_observe(&f, 5);
    CHECK(f.sum_ns == INT64_MAX);
}

/* Buckets are rendered cumulatively, +Inf and _count equal the total. */
static void test_cumulative(void)
{
    tcpwm_metrics m;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < 3; i++)
        tcpwm_hist_gap_observe(&m.gap, 100);  /* le=128 */
    tcpwm_hist_gap_observe(&m.gap, 5000);     /* le=8192 */
    tcpwm_hist_gap_observe(&m.gap, 1u << 30); /* +Inf */
    char *doc = render(P, &m, NULL, 1, 0);
    CHECK(doc != NULL);
    if (!doc)
        return;
    CHECK(strstr(doc, "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"64\"} 0\n") != NULL);
    CHECK(strstr(doc, "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"128\"} 3\n") != NULL);
    CHECK(strstr(doc, "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"4096\"} 3\n") != NULL);
    CHECK(strstr(doc, "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"8192\"} 4\n") != NULL);
    CHECK(strstr(doc, "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"1.6777216e+07\"} 4\n") !=
          NULL);
    CHECK(strstr(doc, "tcp_monitor_packet_loss_gap_bytes_bucket{le=\"+Inf\"} 5\n") != NULL);
    CHECK(strstr(doc, "tcp_monitor_packet_loss_gap_bytes_count 5\n") != NULL);
    /* 300 + 5000 + 2^30 = 1073747124 */
    CHECK(strstr(doc, "tcp_monitor_packet_loss_gap_bytes_sum 1.073747124e+09\n") != NULL);
    /* An empty histogram: all zero, sum 0. */
    CHECK(strstr(doc, "tcp_monitor_hole_fill_seconds_bucket{le=\"+Inf\"} 0\n") != NULL);
    CHECK(strstr(doc, "tcp_monitor_hole_fill_seconds_sum 0\n") != NULL);
    free(doc);
}

/* ---- Whole documents ----------------------------------------------------- */

static void test_full(void)
{
    tcpwm_metrics m;
    known_metrics(&m);
    char *want = join(expected_prometheus);
    char *doc = render(P, &m, NULL, 1, 1);
    CHECK_STREQ(doc, want);
    free(doc);
    free(want);
    want = join(expected_openmetrics);
    doc = render(OM, &m, NULL, 1, 1);
    CHECK_STREQ(doc, want);
    free(doc);
    free(want);

    /* Counters are unsigned 64-bit integers, all digits. */
    m.packets = UINT64_MAX;
    doc = render(P, &m, NULL, 1, 0);
    CHECK(doc && strstr(doc, "\ntcp_monitor_packets_total 18446744073709551615\n"));
    free(doc);
}

static void test_content_type(void)
{
    CHECK_STREQ(tcpwm_expo_content_type(P), "text/plain; version=0.0.4; charset=utf-8");
    CHECK_STREQ(tcpwm_expo_content_type(OM),
                "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

/* ---- Extra families and escaping ----------------------------------------- */

/* HELP "Input: C:\caps "x"<newline>next", label file="C:\caps\"odd"<newline>x.pcap" */
#define ODD_HELP "Input: C:\\caps \"x\"\nnext"
#define ODD_FILE "C:\\caps\\\"odd\"\nx.pcap"

static int extras(tcpwm_buf *b, tcpwm_format f)
{
    const char *input[] = {"file", ODD_FILE, "iface", ""};
    const char *two[] = {"a", "1", "b", "2"};
    int rc = 0;
    rc |= tcpwm_expo_family(b, f, "tcp_monitor_input", TCPWM_MT_INFO, ODD_HELP);
    rc |= tcpwm_expo_sample_u64(b, f, "tcp_monitor_input", TCPWM_MT_INFO, input, 2, 1);
    rc |= tcpwm_expo_family(b, f, "tcp_monitor_scrapes", TCPWM_MT_COUNTER, "Scrapes served.");
    rc |= tcpwm_expo_sample_u64(b, f, "tcp_monitor_scrapes", TCPWM_MT_COUNTER, two, 2, 3);
    rc |= tcpwm_expo_family(b, f, "tcp_monitor_buffer_bytes", TCPWM_MT_GAUGE, "Buffer size.");
    rc |= tcpwm_expo_sample_u64(b, f, "tcp_monitor_buffer_bytes", TCPWM_MT_GAUGE, NULL, 0, 4096);
    rc |= tcpwm_expo_finish(b, f);
    return rc;
}

static void test_extras(void)
{
    tcpwm_buf b;
    tcpwm_buf_init(&b, 4096);
    CHECK_EQ_U64(extras(&b, P), 0);
    /* Text: HELP escapes \ and newline only; label values also ". */
    CHECK_STREQ(b.data,
                "# HELP tcp_monitor_input_info Input: C:\\\\caps \"x\"\\nnext\n"
                "# TYPE tcp_monitor_input_info gauge\n"
                "tcp_monitor_input_info{file=\"C:\\\\caps\\\\\\\"odd\\\"\\nx.pcap\",iface=\"\"} 1\n"
                "# HELP tcp_monitor_scrapes_total Scrapes served.\n"
                "# TYPE tcp_monitor_scrapes_total counter\n"
                "tcp_monitor_scrapes_total{a=\"1\",b=\"2\"} 3\n"
                "# HELP tcp_monitor_buffer_bytes Buffer size.\n"
                "# TYPE tcp_monitor_buffer_bytes gauge\n"
                "tcp_monitor_buffer_bytes 4096\n");
    tcpwm_buf_reset(&b);
    CHECK_EQ_U64(extras(&b, OM), 0);
    /* OpenMetrics: HELP escapes " as well; info and unit rules. */
    CHECK_STREQ(b.data,
                "# TYPE tcp_monitor_input info\n"
                "# HELP tcp_monitor_input Input: C:\\\\caps \\\"x\\\"\\nnext\n"
                "tcp_monitor_input_info{file=\"C:\\\\caps\\\\\\\"odd\\\"\\nx.pcap\",iface=\"\"} 1\n"
                "# TYPE tcp_monitor_scrapes counter\n"
                "# HELP tcp_monitor_scrapes Scrapes served.\n"
                "tcp_monitor_scrapes_total{a=\"1\",b=\"2\"} 3\n"
                "# TYPE tcp_monitor_buffer_bytes gauge\n"
                "# UNIT tcp_monitor_buffer_bytes bytes\n"
                "# HELP tcp_monitor_buffer_bytes Buffer size.\n"
                "tcp_monitor_buffer_bytes 4096\n"
                "# EOF\n");

    /* Without HELP there is no HELP line. */
    tcpwm_buf_reset(&b);
    CHECK_EQ_U64(tcpwm_expo_family(&b, P, "tcp_monitor_x", TCPWM_MT_GAUGE, NULL), 0);
    CHECK_EQ_U64(tcpwm_expo_family(&b, OM, "tcp_monitor_x", TCPWM_MT_GAUGE, NULL), 0);
    CHECK_STREQ(b.data, "# TYPE tcp_monitor_x gauge\n# TYPE tcp_monitor_x gauge\n");

    /* The front end's build info, as in the brief. */
    tcpwm_buf_reset(&b);
    const char *ver[] = {"version", "0.1.0"};
    CHECK_EQ_U64(tcpwm_expo_sample_u64(&b, P, "tcp_monitor_build", TCPWM_MT_INFO, ver, 1, 1), 0);
    CHECK_STREQ(b.data, "tcp_monitor_build_info{version=\"0.1.0\"} 1\n");

    /* Refused: bad names, le, reserved labels, missing values; nothing written. */
    tcpwm_buf_reset(&b);
    const char *le[] = {"le", "1"};
    const char *res[] = {"__name__", "x"};
    const char *badl[] = {"1a", "x"};
    const char *nullv[] = {"a", NULL};
    CHECK_EQ_U64(tcpwm_expo_family(&b, P, "bad name", TCPWM_MT_GAUGE, "x"), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_family(&b, P, "", TCPWM_MT_GAUGE, "x"), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_family(&b, P, "9lives", TCPWM_MT_GAUGE, "x"), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_family(&b, P, "ok", (tcpwm_mtype)7, "x"), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_family(&b, (tcpwm_format)9, "ok", TCPWM_MT_GAUGE, "x"),
                 RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_sample_u64(&b, P, "ok", TCPWM_MT_GAUGE, le, 1, 1), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_sample_u64(&b, P, "ok", TCPWM_MT_GAUGE, res, 1, 1), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_sample_u64(&b, P, "ok", TCPWM_MT_GAUGE, badl, 1, 1), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_sample_u64(&b, P, "ok", TCPWM_MT_GAUGE, nullv, 1, 1), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_sample_u64(&b, P, "ok", TCPWM_MT_GAUGE, NULL, 1, 1), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(b.len, 0);
    /* Colons are allowed in metric names (recording-rule style). */
    CHECK_EQ_U64(tcpwm_expo_sample_u64(&b, P, "a:b", TCPWM_MT_GAUGE, NULL, 0, 0), 0);
    CHECK_STREQ(b.data, "a:b 0\n");
    /* Prometheus text has no end marker. */
    tcpwm_buf_reset(&b);
    CHECK_EQ_U64(tcpwm_expo_finish(&b, P), 0);
    CHECK_EQ_U64(b.len, 0);
    tcpwm_buf_free(&b);
}

/* ---- Timestamps and several snapshots ------------------------------------ */

static void test_timestamps(void)
{
    static const struct {
        int64_t ns;
        const char *om, *prom;
    } cases[] = {
        {1700000000123456789LL, "1700000000.123456789", "1700000000123"},
        {1700000000500000000LL, "1700000000.5", "1700000000500"},
        {1700000000000000000LL, "1700000000", "1700000000000"},
        {1700000000000999999LL, "1700000000.000999999", "1700000000000"},
        {0, "0", "0"},
        {1, "0.000000001", "0"},
        {-1, "-0.000000001", "-1"},
        {-1500000, "-0.0015", "-2"},
        {-1500000000LL, "-1.5", "-1500"},
        {-2000000, "-0.002", "-2"},
        {INT64_MAX, "9223372036.854775807", "9223372036854"},
        {INT64_MIN, "-9223372036.854775808", "-9223372036855"},
    };
    tcpwm_metrics m;
    known_metrics(&m);
    int ok = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[128];
        char *om = render(OM, &m, &cases[i].ns, 1, 1);
        snprintf(want, sizeof want, "\ntcp_monitor_packets_total 1000 %s\n", cases[i].om);
        if (!om || !strstr(om, want)) {
            fprintf(stderr, "timestamp %lld: OpenMetrics lacks %s", (long long)cases[i].ns,
                    want + 1);
            ok = 0;
        }
        char *pr = render(P, &m, &cases[i].ns, 1, 0);
        snprintf(want, sizeof want, "\ntcp_monitor_packets_total 1000 %s\n", cases[i].prom);
        if (!pr || !strstr(pr, want)) {
            fprintf(stderr, "timestamp %lld: text lacks %s", (long long)cases[i].ns, want + 1);
            ok = 0;
        }
        free(om);
        free(pr);
    }
    CHECK(ok);

    /* Every sample line carries the stamp, histogram lines included. */
    int64_t t = 1700000000123456789LL;
    char *om = render(OM, &m, &t, 1, 1);
    CHECK(om && strstr(om, "\ntcp_monitor_hole_fill_seconds_bucket{le=\"0.0001\"} 1 "
                           "1700000000.123456789\n"));
    CHECK(om && strstr(om, "\ntcp_monitor_packet_loss_gap_bytes_sum 3.3556062e+07 "
                           "1700000000.123456789\n"));
    CHECK(om && strstr(om, "\ntcp_monitor_flows_evicted_total{reason=\"idle\"} 15 "
                           "1700000000.123456789\n"));
    free(om);
}

/* Snapshots for the ordering test and the timeline dump: each one second
 * after the previous, with more of everything. */
static void growing(tcpwm_metrics *s, int64_t *ts, size_t n)
{
    known_metrics(&s[0]);
    ts[0] = 1700000000123456789LL;
    for (size_t i = 1; i < n; i++) {
        s[i] = s[i - 1];
        ts[i] = ts[i - 1] + 1000000000;
        s[i].packets += 100;
        s[i].tcp_packets += 90;
        s[i].missing += 1;
        s[i].evicted[TCPWM_EVICT_IDLE] += 2;
        s[i].decode_errors[TCPWM_DE_TRUNCATED_TCP] += 1;
        s[i].current_window = 65535;
        tcpwm_hist_gap_observe(&s[i].gap, 3000);
        tcpwm_hist_fill_observe(&s[i].fill, 40000000);
    }
}

static void test_snapshots(void)
{
    tcpwm_metrics s[3];
    int64_t ts[3];
    growing(s, ts, 3);
    char *doc = render(OM, s, ts, 3, 1);
    CHECK(doc != NULL);

    /* A counter: one series, in time order. */
    char *sec = section(doc, "# TYPE tcp_monitor_packets counter\n");
    CHECK_STREQ(sec, "# TYPE tcp_monitor_packets counter\n"
                     "# HELP tcp_monitor_packets " H_PACKETS "\n"
                     "tcp_monitor_packets_total 1000 1700000000.123456789\n"
                     "tcp_monitor_packets_total 1100 1700000001.123456789\n"
                     "tcp_monitor_packets_total 1200 1700000002.123456789\n");
    free(sec);

    /* Labelled: label set by label set, each in time order. */
    sec = section(doc, "# TYPE tcp_monitor_flows_evicted counter\n");
    CHECK_STREQ(sec,
                "# TYPE tcp_monitor_flows_evicted counter\n"
                "# HELP tcp_monitor_flows_evicted " H_EVICT "\n"
                "tcp_monitor_flows_evicted_total{reason=\"max_flows\"} 14 1700000000.123456789\n"
                "tcp_monitor_flows_evicted_total{reason=\"max_flows\"} 14 1700000001.123456789\n"
                "tcp_monitor_flows_evicted_total{reason=\"max_flows\"} 14 1700000002.123456789\n"
                "tcp_monitor_flows_evicted_total{reason=\"idle\"} 15 1700000000.123456789\n"
                "tcp_monitor_flows_evicted_total{reason=\"idle\"} 17 1700000001.123456789\n"
                "tcp_monitor_flows_evicted_total{reason=\"idle\"} 19 1700000002.123456789\n");
    free(sec);
    free(doc);

    /* Histograms: the whole group (buckets, _count, _sum) per snapshot.
     * Two snapshots: a 1 ms fill, then a 7 s one. */
    tcpwm_metrics h[2];
    memset(h, 0, sizeof h);
    tcpwm_hist_fill_observe(&h[0].fill, 1000000);
    h[1] = h[0];
    tcpwm_hist_fill_observe(&h[1].fill, 7000000000);
    int64_t hts[2] = {1700000000000000000LL, 1700000001000000000LL};
    doc = render(OM, h, hts, 2, 1);
    sec = section(doc, "# TYPE tcp_monitor_hole_fill_seconds histogram\n");
    CHECK_STREQ(sec, "# TYPE tcp_monitor_hole_fill_seconds histogram\n"
                     "# UNIT tcp_monitor_hole_fill_seconds seconds\n"
                     "# HELP tcp_monitor_hole_fill_seconds " H_FILL "\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0001\"} 0 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.00025\"} 0 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0005\"} 0 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.001\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0025\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.005\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.01\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.025\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.05\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.1\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.25\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.5\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"1.0\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"2.5\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"5.0\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"10.0\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"+Inf\"} 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_count 1 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_sum 0.001 1700000000\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0001\"} 0 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.00025\"} 0 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0005\"} 0 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.001\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0025\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.005\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.01\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.025\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.05\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.1\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.25\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"0.5\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"1.0\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"2.5\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"5.0\"} 1 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"10.0\"} 2 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_bucket{le=\"+Inf\"} 2 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_count 2 1700000001\n"
                     "tcp_monitor_hole_fill_seconds_sum 7.001 1700000001\n");
    free(sec);
    /* The document still ends with the last family's group and # EOF. */
    CHECK(doc && strlen(doc) >= 6 && strcmp(doc + strlen(doc) - 6, "# EOF\n") == 0);
    free(doc);

    /* Text format: same grouping, integer ms, _sum before _count. */
    doc = render(P, h, hts, 2, 0);
    const char *c0 = doc ? strstr(doc, "tcp_monitor_hole_fill_seconds_sum 0.001 1700000000000\n"
                                       "tcp_monitor_hole_fill_seconds_count 1 1700000000000\n"
                                       "tcp_monitor_hole_fill_seconds_bucket{le=\"0.0001\"} 0 "
                                       "1700000001000\n")
                         : NULL;
    CHECK(c0 != NULL);
    CHECK(doc && strstr(doc, "tcp_monitor_hole_fill_seconds_sum 7.001 1700000001000\n"
                             "tcp_monitor_hole_fill_seconds_count 2 1700000001000\n"));
    free(doc);
}

/* ---- Errors: invalid calls and the size cap ------------------------------ */

static void test_errors(void)
{
    tcpwm_metrics m[2];
    known_metrics(&m[0]);
    m[1] = m[0];
    int64_t ts[2] = {1, 2};
    tcpwm_buf b;
    tcpwm_buf_init(&b, 1u << 20);
    CHECK_EQ_U64(tcpwm_expo_metrics(&b, P, m, NULL, 0), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_metrics(&b, P, NULL, NULL, 1), RC(TCPWM_EINVAL));
    /* Two untimestamped points of one series would be duplicates. */
    CHECK_EQ_U64(tcpwm_expo_metrics(&b, P, m, NULL, 2), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_metrics(&b, (tcpwm_format)5, m, NULL, 1), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_metrics(NULL, P, m, NULL, 1), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(tcpwm_expo_finish(&b, (tcpwm_format)5), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(b.len, 0);
    tcpwm_buf_free(&b);

    /* Under every cap too small for the document, the call fails with
     * TCPWM_ELIMIT and leaves what was in the buffer before untouched;
     * at exactly the document's size it succeeds. */
    static const tcpwm_format fmts[] = {P, OM};
    for (size_t k = 0; k < 2; k++) {
        char *full = render(fmts[k], m, ts, 2, 0);
        CHECK(full != NULL);
        if (!full)
            continue;
        size_t len = strlen(full);
        int ok = 1;
        for (size_t lim = 3; lim < len + 3; lim++) {
            tcpwm_buf_init(&b, lim);
            if (tcpwm_buf_adds(&b, "pre") != 0)
                ok = 0;
            if (tcpwm_expo_metrics(&b, fmts[k], m, ts, 2) != TCPWM_ELIMIT || b.len != 3 ||
                strcmp(b.data, "pre") != 0)
                ok = 0;
            tcpwm_buf_free(&b);
        }
        CHECK(ok);
        tcpwm_buf_init(&b, len + 3);
        CHECK_EQ_U64(tcpwm_buf_adds(&b, "pre"), 0);
        CHECK_EQ_U64(tcpwm_expo_metrics(&b, fmts[k], m, ts, 2), 0);
        CHECK(b.data && strcmp(b.data + 3, full) == 0);
        tcpwm_buf_free(&b);
        free(full);
    }

    /* The helpers roll back too. */
    tcpwm_buf_init(&b, 10);
    CHECK_EQ_U64(tcpwm_expo_family(&b, OM, "tcp_monitor_x", TCPWM_MT_GAUGE, "help"),
                 RC(TCPWM_ELIMIT));
    CHECK_EQ_U64(tcpwm_expo_sample_u64(&b, OM, "tcp_monitor_x", TCPWM_MT_GAUGE, NULL, 0, 1),
                 RC(TCPWM_ELIMIT));
    CHECK_EQ_U64(b.len, 0);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "0123456"), 0);
    CHECK_EQ_U64(tcpwm_expo_finish(&b, OM), RC(TCPWM_ELIMIT));
    CHECK_STREQ(b.data, "0123456");
    tcpwm_buf_free(&b);
}


/* ---- The per-service view (docs/semantics.md 8) ------------------------ */

/* Per-service blocks for ports 22 and 443 and "other": block j of
 * snapshot i holds only per-flow fields, each a distinct figure. */
#define SVC_PORTS 2
static const uint16_t svc_ports[SVC_PORTS] = {22, 443};

static void service_blocks(tcpwm_metrics *blk, size_t n)
{
    memset(blk, 0, n * (SVC_PORTS + 1) * sizeof *blk);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j <= SVC_PORTS; j++) {
            tcpwm_metrics *b = &blk[i * (SVC_PORTS + 1) + j];
            b->missing = 10 * (j + 1) + i;
            b->retransmissions[0] = 100 + j;
            tcpwm_hist_gap_observe(&b->gap, 100 * (j + 1));
        }
    }
}

static char *render_svc(tcpwm_format f, const tcpwm_metrics *s, const int64_t *ts, size_t n,
                        const tcpwm_expo_services *svc)
{
    tcpwm_buf b;
    tcpwm_buf_init(&b, 1u << 22);
    int rc = tcpwm_expo_metrics_services(&b, f, s, ts, n, svc);
    if (rc || !b.data) {
        tcpwm_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static void test_services(void)
{
    tcpwm_metrics m;
    known_metrics(&m);
    tcpwm_metrics blk[SVC_PORTS + 1];
    service_blocks(blk, 1);
    tcpwm_expo_services svc = {svc_ports, SVC_PORTS, blk};

    /* Without the view: the very bytes of tcpwm_expo_metrics(). */
    char *plain = render(P, &m, NULL, 1, 0), *none = render_svc(P, &m, NULL, 1, NULL);
    CHECK(plain && none && strcmp(plain, none) == 0);
    free(none);

    char *doc = render_svc(P, &m, NULL, 1, &svc);
    CHECK(doc != NULL);
    /* A per-flow counter: one series per port, then "other", no total. */
    CHECK(strstr(doc, "\n# HELP tcp_monitor_packet_loss_missing_total " H_MISSING "\n"
                      "# TYPE tcp_monitor_packet_loss_missing_total counter\n"
                      "tcp_monitor_packet_loss_missing_total{port=\"22\"} 10\n"
                      "tcp_monitor_packet_loss_missing_total{port=\"443\"} 20\n"
                      "tcp_monitor_packet_loss_missing_total{port=\"other\"} 30\n"
                      "# HELP tcp_monitor_packet_loss_duplicate_total " H_DUP "\n"));
    /* Its own label first (names in alphabetical order), then port. */
    CHECK(strstr(doc, "\ntcp_monitor_retransmissions_total{kind=\"fast\",port=\"22\"} 100\n"
                      "tcp_monitor_retransmissions_total{kind=\"spurious\",port=\"22\"} 0\n"));
    CHECK(strstr(doc, "\ntcp_monitor_retransmissions_total{kind=\"fast\",port=\"other\"} 102\n"));
    /* Histograms: port, then le. */
    CHECK(strstr(doc, "\ntcp_monitor_packet_loss_gap_bytes_bucket{port=\"443\",le=\"128\"} 0\n"
                      "tcp_monitor_packet_loss_gap_bytes_bucket{port=\"443\",le=\"256\"} 1\n"));
    CHECK(strstr(doc, "\ntcp_monitor_packet_loss_gap_bytes_sum{port=\"other\"} 300\n"
                      "tcp_monitor_packet_loss_gap_bytes_count{port=\"other\"} 1\n"));
    CHECK(!strstr(doc, "\ntcp_monitor_packet_loss_missing_total "));
    CHECK(!strstr(doc, "\ntcp_monitor_hole_fill_seconds_count "));
    /* The whole capture's families keep their unlabelled lines, from the
     * totals. */
    CHECK(strstr(doc, "\ntcp_monitor_packets_total 1000\n"));
    CHECK(strstr(doc, "\ntcp_monitor_flows_evicted_total{reason=\"idle\"} 15\n"));
    CHECK(strstr(doc, "\ntcp_monitor_current_window_size_bytes "));
    CHECK(!strstr(doc, "tcp_monitor_packets_total{"));
    /* Every family that loses its total gains exactly 3 series per sample
     * line; the others are unchanged: the line counts tell. */
    size_t lines_plain = 0, lines_svc = 0;
    for (const char *c = plain; c && *c; c++)
        lines_plain += *c == '\n';
    for (const char *c = doc; c && *c; c++)
        lines_svc += *c == '\n';
    /* Per-flow sample lines without the view: 15 counters, 3 kinds, and 4
     * histograms of 19+3, 16+3, 17+3 and 17+3 lines. */
    size_t per_flow = 15 + 3 + 22 + 19 + 20 + 20;
    CHECK_EQ_U64(lines_svc, lines_plain + per_flow * SVC_PORTS);
    free(doc);
    free(plain);

    /* Timestamped: each port's series in time order, port after port. */
    tcpwm_metrics s[2], blk2[2 * (SVC_PORTS + 1)];
    int64_t ts[2];
    growing(s, ts, 2);
    service_blocks(blk2, 2);
    svc.blocks = blk2;
    doc = render_svc(OM, s, ts, 2, &svc);
    char *sec = section(doc, "# TYPE tcp_monitor_packet_loss_missing counter\n");
    CHECK_STREQ(sec, "# TYPE tcp_monitor_packet_loss_missing counter\n"
                     "# HELP tcp_monitor_packet_loss_missing " H_MISSING "\n"
                     "tcp_monitor_packet_loss_missing_total{port=\"22\"} 10 1700000000.123456789\n"
                     "tcp_monitor_packet_loss_missing_total{port=\"22\"} 11 1700000001.123456789\n"
                     "tcp_monitor_packet_loss_missing_total{port=\"443\"} 20 1700000000.123456789\n"
                     "tcp_monitor_packet_loss_missing_total{port=\"443\"} 21 1700000001.123456789\n"
                     "tcp_monitor_packet_loss_missing_total{port=\"other\"} 30 "
                     "1700000000.123456789\n"
                     "tcp_monitor_packet_loss_missing_total{port=\"other\"} 31 "
                     "1700000001.123456789\n");
    free(sec);
    free(doc);

    /* No ports, too many, or no blocks: refused. */
    tcpwm_buf b;
    tcpwm_buf_init(&b, 1u << 20);
    tcpwm_expo_services bad = {svc_ports, 0, blk};
    CHECK_EQ_U64(tcpwm_expo_metrics_services(&b, P, &m, NULL, 1, &bad), RC(TCPWM_EINVAL));
    bad.n_ports = TCPWM_MAX_SERVICE_PORTS + 1;
    CHECK_EQ_U64(tcpwm_expo_metrics_services(&b, P, &m, NULL, 1, &bad), RC(TCPWM_EINVAL));
    bad.n_ports = SVC_PORTS;
    bad.blocks = NULL;
    CHECK_EQ_U64(tcpwm_expo_metrics_services(&b, P, &m, NULL, 1, &bad), RC(TCPWM_EINVAL));
    CHECK_EQ_U64(b.len, 0);
    tcpwm_buf_free(&b);
}

/* ---- --dump -------------------------------------------------------------- */

static int dump(const char *mode, const char *path)
{
    tcpwm_buf b;
    tcpwm_buf_init(&b, 1u << 22);
    int rc;
    tcpwm_metrics blk[3 * (SVC_PORTS + 1)];
    tcpwm_expo_services svc = {svc_ports, SVC_PORTS, blk};
    if (strcmp(mode, "services") == 0 || strcmp(mode, "services-timeline") == 0) {
        /* --service-ports: a scrape (text format), or a --timeline. */
        bool tl = mode[8] == '-';
        tcpwm_metrics s[3];
        int64_t ts[3];
        growing(s, ts, 3);
        service_blocks(blk, 3);
        tcpwm_format f = tl ? OM : P;
        rc = tcpwm_expo_metrics_services(&b, f, tl ? s : &s[2], tl ? ts : NULL, tl ? 3 : 1,
                                         &svc);
        if (!rc)
            rc = tcpwm_expo_finish(&b, f);
    } else if (strcmp(mode, "timeline") == 0) {
        /* What --timeline writes: OpenMetrics, every sample stamped. */
        tcpwm_metrics s[3];
        int64_t ts[3];
        growing(s, ts, 3);
        rc = tcpwm_expo_metrics(&b, OM, s, ts, 3);
        if (!rc)
            rc = tcpwm_expo_finish(&b, OM);
    } else if (strcmp(mode, "prometheus") == 0 || strcmp(mode, "openmetrics") == 0) {
        /* What a scrape returns: the core's families, then a front end's
         * own, escaping-heavy ones included. */
        tcpwm_format f = mode[0] == 'p' ? P : OM;
        tcpwm_metrics m;
        known_metrics(&m);
        const char *ver[] = {"version", "0.1.0"};
        rc = tcpwm_expo_metrics(&b, f, &m, NULL, 1);
        if (!rc)
            rc = tcpwm_expo_family(&b, f, "tcp_monitor_build", TCPWM_MT_INFO,
                                   "Build information of tcpwm.");
        if (!rc)
            rc = tcpwm_expo_sample_u64(&b, f, "tcp_monitor_build", TCPWM_MT_INFO, ver, 1, 1);
        if (!rc)
            rc = extras(&b, f); /* ends the document */
    } else {
        fprintf(stderr, "test_expo: --dump wants prometheus, openmetrics, timeline, services or "
                        "services-timeline\n");
        return 2;
    }
    if (rc) {
        fprintf(stderr, "test_expo: rendering failed: %d\n", rc);
        tcpwm_buf_free(&b);
        return 1;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(b.data, 1, b.len, fp) != b.len || fclose(fp) != 0) {
        fprintf(stderr, "test_expo: cannot write %s\n", path);
        tcpwm_buf_free(&b);
        return 1;
    }
    tcpwm_buf_free(&b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--dump") == 0)
        return dump(argv[2], argv[3]);
    if (argc != 1) {
        fprintf(stderr, "usage: test_expo [--dump prometheus|openmetrics|timeline|services|"
                        "services-timeline FILE]\n");
        return 2;
    }
    test_float();
    test_locale();
    test_bounds();
    test_bucketing();
    test_cumulative();
    test_full();
    test_content_type();
    test_extras();
    test_timestamps();
    test_snapshots();
    test_errors();
    test_services();
    return check_finish("test_expo");
}
