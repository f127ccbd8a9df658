/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet-tcpwm.c: the TCP Window Monitor postdissector.
 *
 * It runs the tcpwm core -- the very code tcp_window_monitor links -- over
 * the capture and shows, under every analyzed TCP packet, what the core
 * concluded: the sequence verdict, loss events with gap bytes and hole-fill
 * time, the scaled window and its events, and the flow's running totals.
 * Semantics of every field: docs/semantics.md.
 *
 * How the core is fed. The postdissector hands the core the raw frame --
 * the record's bytes, captured and wire length, link type and capture
 * time -- through tcpwm_monitor_frame(), exactly the four values
 * tcp_window_monitor hands it for the same record. It does not read
 * Wireshark's tcp.* / ip.* fields. Those would give other counts: Wireshark
 * dissects TCP quoted inside ICMP errors, TCP inside GRE and IP-in-IP
 * tunnels, and IP fragments it reassembled, and the core on purpose
 * analyzes only the outermost IP header of each frame (semantics.md 1).
 * Feeding it the frame makes the numbers equal by construction: the same
 * frames counted, the same decoder and decode-error reasons, the same TCP
 * parsing. So no field of another dissector is needed, and none is asked
 * for with set_postdissector_wanted_hfids().
 *
 * Passes. Wireshark dissects every frame once, in order, on its first pass
 * (loading a file, tshark's only or first pass), then again in any order
 * whenever it needs the tree (clicking a packet, refiltering, tshark -2).
 * The core is a state machine over the packet sequence, so it runs on the
 * first pass only; each frame's result is kept in file scope, keyed by
 * frame number, and replayed on every later pass (transum's pattern).
 * The -z statistics have monitors of their own (tap-tcpwm.c), fed from the
 * frames this postdissector queues on the "tcpwm" tap on every pass. */
#define WS_LOG_DOMAIN "tcpwm"

#include <wireshark.h>

#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/range.h>
#include <epan/tap.h>
#include <wiretap/pcap-encap.h>
#include <wiretap/wtap.h>

#include "tcpwm/decode.h"
#include "tcpwm/err.h"
#include "tcpwm/metrics.h"
#include "tcpwm/monitor.h"

#include "tcpwm-plugin.h"

/* ---- Registration handles ---------------------------------------------- */

static int proto_tcpwm = -1;
static int tcpwm_tap = -1;
static dissector_handle_t tcpwm_handle;

static int hf_tcpwm_verdict = -1;
static int hf_tcpwm_direction = -1;
static int hf_tcpwm_global = -1;
static int hf_tcpwm_decode_error = -1;
static int hf_tcpwm_conn_opened = -1;
static int hf_tcpwm_conn_closed = -1;

static int hf_tcpwm_loss_missing = -1;
static int hf_tcpwm_loss_duplicate = -1;
static int hf_tcpwm_loss_out_of_order = -1;
static int hf_tcpwm_loss_capture_gap = -1;
static int hf_tcpwm_loss_keepalive = -1;
static int hf_tcpwm_loss_zero_window_probe = -1;
static int hf_tcpwm_loss_gap_bytes = -1;
static int hf_tcpwm_loss_holes_filled = -1;
static int hf_tcpwm_loss_fill_time = -1;
static int hf_tcpwm_loss_capture_gap_holes = -1;
static int hf_tcpwm_loss_hole_forgotten = -1;

static int hf_tcpwm_window_size = -1;
static int hf_tcpwm_window_scale_known = -1;
static int hf_tcpwm_window_scale_unknown = -1;
static int hf_tcpwm_window_scale = -1;
static int hf_tcpwm_window_delta = -1;
static int hf_tcpwm_window_shrink = -1;
static int hf_tcpwm_window_right_edge_retreat = -1;
static int hf_tcpwm_window_zero_window = -1;

static int hf_tcpwm_flow_packets = -1;
static int hf_tcpwm_flow_missing = -1;
static int hf_tcpwm_flow_duplicate = -1;
static int hf_tcpwm_flow_out_of_order = -1;
static int hf_tcpwm_flow_capture_gap = -1;
static int hf_tcpwm_flow_window_shrink = -1;
static int hf_tcpwm_flow_right_edge_retreat = -1;
static int hf_tcpwm_flow_zero_window = -1;
static int hf_tcpwm_flow_min_window = -1;

static int hf_tcpwm_dup_ack = -1;
static int hf_tcpwm_retrans_kind = -1;
static int hf_tcpwm_reordered = -1;
static int hf_tcpwm_dsack = -1;
static int hf_tcpwm_rtt_ack = -1;
static int hf_tcpwm_rtt_handshake = -1;

static gint ett_tcpwm = -1;
static gint ett_tcpwm_loss = -1;
static gint ett_tcpwm_window = -1;
static gint ett_tcpwm_flow = -1;
static gint ett_tcpwm_analysis = -1;

static expert_field ei_tcpwm_missing = EI_INIT;
static expert_field ei_tcpwm_duplicate = EI_INIT;
static expert_field ei_tcpwm_out_of_order = EI_INIT;
static expert_field ei_tcpwm_capture_gap = EI_INIT;
static expert_field ei_tcpwm_window_shrink = EI_INIT;
static expert_field ei_tcpwm_right_edge_retreat = EI_INIT;
static expert_field ei_tcpwm_zero_window = EI_INIT;
static expert_field ei_tcpwm_fast_retransmission = EI_INIT;
static expert_field ei_tcpwm_spurious_retransmission = EI_INIT;
static expert_field ei_tcpwm_retransmission = EI_INIT;
static expert_field ei_tcpwm_reordered = EI_INIT;
static expert_field ei_tcpwm_dup_ack = EI_INIT;
static expert_field ei_tcpwm_dsack = EI_INIT;

/* ---- Preferences: the knobs of tcp_window_monitor's flags -------------- */

static gint pref_scope = TCPWM_SCOPE_ALL;              /* --scope; "all" here, see below */
static guint pref_max_holes = TCPWM_DEFAULT_MAX_HOLES; /* --max-holes */
static guint pref_idle_timeout = (guint)(TCPWM_DEFAULT_IDLE_NS / 1000000000LL); /* seconds */
static range_t *pref_vxlan_ports;  /* --vxlan-port; "4789" */
static range_t *pref_geneve_ports; /* --geneve-port; "6081" */
static range_t *pref_service_ports; /* --service-ports; "": no port label */

/* The preferences file shows the description: keep it the flag's word. */
static const enum_val_t scope_vals[] = {
    {"all", "all", TCPWM_SCOPE_ALL},
    {"global", "global", TCPWM_SCOPE_GLOBAL},
    {NULL, NULL, 0},
};

/* A port range preference as the decoder's list: the preference is the
 * whole list, as the flag's first use replaces the default; ports past
 * the list's TCPWM_MAX_TUNNEL_PORTS are left out, as the flag refuses
 * them. An empty preference leaves the default. */
static void ports_from_range(const range_t *r, uint16_t list[TCPWM_MAX_TUNNEL_PORTS])
{
    if (r == NULL || r->nranges == 0)
        return;
    memset(list, 0, TCPWM_MAX_TUNNEL_PORTS * sizeof list[0]);
    for (guint i = 0; i < r->nranges; i++)
        for (guint32 p = r->ranges[i].low; p <= r->ranges[i].high && p <= 65535; p++)
            if (tcpwm_decode_port_add(list, p) == TCPWM_ELIMIT)
                return;
}

/* The service ports preference as the monitor's list (docs/semantics.md
 * 8): each port once, at most TCPWM_MAX_SERVICE_PORTS of them (the flag
 * refuses more; here the lowest are kept, the description says so). */
static void services_from_range(const range_t *r, tcpwm_config *c)
{
    c->n_service_ports = 0;
    if (r == NULL)
        return;
    for (guint32 p = 1; p <= 65535 && c->n_service_ports < TCPWM_MAX_SERVICE_PORTS; p++)
        if (value_is_in_range(r, p))
            c->service_ports[c->n_service_ports++] = (uint16_t)p;
}

void tcpwm_plugin_config(tcpwm_config *c)
{
    tcpwm_config_default(c);
    c->scope = pref_scope == TCPWM_SCOPE_GLOBAL ? TCPWM_SCOPE_GLOBAL : TCPWM_SCOPE_ALL;
    c->max_holes = pref_max_holes < 1 ? 1 : pref_max_holes > 255 ? 255 : pref_max_holes;
    c->idle_timeout_ns = (int64_t)(pref_idle_timeout < 1 ? 1 : pref_idle_timeout) * 1000000000LL;
    ports_from_range(pref_vxlan_ports, c->decode.vxlan_ports);
    ports_from_range(pref_geneve_ports, c->decode.geneve_ports);
    services_from_range(pref_service_ports, c);
}

int tcpwm_plugin_tap_id(void)
{
    return tcpwm_tap;
}

/* ---- Value strings from the core's own label tables -------------------- */

/* clang-format off */
static const value_string verdict_vals[] = {
#define TCPWM__VD_VALS(name, label) {TCPWM_V_##name, label},
    TCPWM_VERDICT_MAP(TCPWM__VD_VALS)
#undef TCPWM__VD_VALS
    {0, NULL},
};

static const value_string decode_error_vals[] = {
#define TCPWM__DE_VALS(name, label) {TCPWM_DE_##name, label},
    TCPWM_DECODE_ERROR_MAP(TCPWM__DE_VALS)
#undef TCPWM__DE_VALS
    {0, NULL},
};
/* clang-format on */

/* Retransmission kinds by the core's labels (tcpwm_retx_label), filled
 * at registration: "fast", "spurious", "other". */
static value_string retx_vals[TCPWM_RETX_KINDS + 1];

static const value_string direction_vals[] = {
    {0, "endpoint 0 to endpoint 1 (the first sender)"},
    {1, "endpoint 1 to endpoint 0"},
    {0, NULL},
};

/* ---- Per-frame results, kept for the later passes ---------------------- */

#define NO_DECODE_ERROR 0xFF

/* What the tree shows of one frame: tcpwm_result minus the flow pointer
 * (only valid until the next frame), plus a copy of the flow's totals as
 * they were after this frame. */
typedef struct frame_result {
    int64_t fill_ns;
    int64_t window_delta;
    int64_t ack_rtt_ns;       /* -1: none */
    int64_t handshake_rtt_ns; /* -1: none */
    uint32_t events;          /* TCPWM_EV_* */
    uint32_t gap_bytes;
    uint32_t holes_filled;
    uint32_t capture_gaps;
    uint32_t window;
    tcpwm_flow_stats flow;
    uint8_t verdict;
    uint8_t dir;
    uint8_t scale;
    uint8_t decode_error; /* a tcpwm_decode_error, or NO_DECODE_ERROR */
    uint8_t flags;        /* FR_* */
    uint8_t retx;         /* a tcpwm_retx_kind */
} frame_result;

enum {
    FR_PRESENT = 1u << 0, /* a result was stored for this frame */
    FR_ANALYZED = 1u << 1,
    FR_GLOBAL = 1u << 2,
    FR_WINDOW = 1u << 3, /* window_analyzed */
    FR_SCALE_KNOWN = 1u << 4,
    FR_DUP_ACK = 1u << 5,
    FR_REORDERED = 1u << 6,
    FR_DSACK = 1u << 7,
};

/* The results live in file scope, keyed by frame number: the map holds
 * blocks of CHUNK consecutive frames, so that storing a frame costs no
 * hashing and no allocation of its own (a capture of a million frames
 * keeps 104 MB of results rather than twice that). Frames are numbered
 * from 1, in order, on the first pass. */
#define CHUNK_SHIFT 12
#define CHUNK (1u << CHUNK_SHIFT)

static tcpwm_monitor *g_monitor; /* the first pass's monitor; NULL: no memory */
static wmem_map_t *g_results;    /* frame number >> CHUNK_SHIFT -> frame_result[CHUNK] */
static frame_result *g_chunk;    /* the chunk of g_chunk_no, or NULL */
static guint32 g_chunk_no;
static guint32 g_last_fed; /* highest frame number the monitor has seen */

static void tcpwm_init(void)
{
    tcpwm_config c;
    int rc;

    tcpwm_plugin_config(&c);
    tcpwm_monitor_free(g_monitor);
    g_monitor = NULL;
    rc = tcpwm_monitor_new(&c, &g_monitor);
    if (rc != 0)
        ws_warning("TCP Window Monitor disabled for this file: cannot start the analysis (%d)", rc);
    g_results = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    g_chunk = NULL;
    g_last_fed = 0;
}

static void tcpwm_cleanup(void)
{
    tcpwm_monitor_free(g_monitor);
    g_monitor = NULL;
    g_results = NULL; /* freed with the file scope */
    g_chunk = NULL;
    g_last_fed = 0;
}

/* The slot of frame num; create: allocate its chunk if missing. */
static frame_result *result_slot(guint32 num, bool create)
{
    guint32 no = num >> CHUNK_SHIFT;

    if (g_results == NULL)
        return NULL;
    if (g_chunk == NULL || g_chunk_no != no) {
        frame_result *c = (frame_result *)wmem_map_lookup(g_results, GUINT_TO_POINTER(no));

        if (c == NULL) {
            if (!create)
                return NULL;
            c = wmem_alloc0_array(wmem_file_scope(), frame_result, CHUNK);
            wmem_map_insert(g_results, GUINT_TO_POINTER(no), c);
        }
        g_chunk = c;
        g_chunk_no = no;
    }
    return &g_chunk[num & (CHUNK - 1)];
}

static const frame_result *stored_result(guint32 num)
{
    const frame_result *r = result_slot(num, false);

    return r != NULL && (r->flags & FR_PRESENT) ? r : NULL;
}

/* ---- From a Wireshark record to the standalone's four values ----------- */

/* wtap encapsulation -> the libpcap DLT the core knows it by. libwiretap
 * exports only the pcap -> wtap direction (wtap_wtap_encap_to_pcap_encap()
 * is not exported by 4.0), so the table is its inverse over the DLTs the
 * decoder supports, built once at registration. 12, 14 and 101 all map to
 * WTAP_ENCAP_RAW_IP; the first (12, libpcap's DLT_RAW) is kept, and the
 * core decodes the three alike. */
#define MAX_LINKS 16
static struct {
    int encap;
    int dlt;
} g_links[MAX_LINKS];
static unsigned g_nlinks;

static void build_link_table(void)
{
    g_nlinks = 0;
    for (int dlt = 0; dlt < 1024 && g_nlinks < MAX_LINKS; dlt++) {
        int encap;
        unsigned i;

        if (!tcpwm_link_supported(dlt))
            continue;
        encap = wtap_pcap_encap_to_wtap_encap(dlt);
        if (encap <= WTAP_ENCAP_UNKNOWN)
            continue;
        for (i = 0; i < g_nlinks && g_links[i].encap != encap; i++)
            ;
        if (i == g_nlinks) {
            g_links[i].encap = encap;
            g_links[i].dlt = dlt;
            g_nlinks++;
        }
    }
}

/* A link type the decoder does not know gets -1: the core counts the frame
 * and a decode error unsupported_linktype, as it does for the frames of a
 * pcapng interface of another link type. (tcp_window_monitor refuses a
 * whole file of an unsupported link type before reading a frame.) */
static int encap_to_dlt(int encap)
{
    for (unsigned i = 0; i < g_nlinks; i++)
        if (g_links[i].encap == encap)
            return g_links[i].dlt;
    return -1;
}

/* Fill f with this record's frame: its cap_len bytes as read from the
 * file. They are held by the record's top-level tvb, the first data source
 * (dissect_record() adds it before calling the frame dissector, which hands
 * the same tvb to the postdissectors). Its length fields may have shrunk
 * since: dissectors call set_actual_length() on the tvb they are given, and
 * a link layer that passes its own tvb down (raw IP) lets IPv4/IPv6 cut the
 * frame's tvb to the IP length, dropping padding or excess bytes the core
 * does see. The bytes themselves do not move: the tvb is a view of the
 * record's buffer of cap_len bytes, so its start pointer is the frame's.
 * False if even that cannot be had. */
static bool frame_of(tvbuff_t *tvb, packet_info *pinfo, tcpwm_tap_frame *f)
{
    static const uint8_t empty[1];
    guint caplen = pinfo->fd->cap_len;
    guint wirelen = pinfo->fd->pkt_len;
    tvbuff_t *top = NULL;
    guint have;

    if (pinfo->data_src != NULL)
        top = get_data_source_tvb((const struct data_source *)pinfo->data_src->data);
    if (top == NULL)
        top = tvb;
    have = tvb_captured_length(top);
    if (have > caplen || (have == 0 && caplen > 0))
        return false;
    f->data = caplen > 0 ? tvb_get_ptr(top, 0, (gint)have) : empty;
    f->caplen = caplen;
    /* As tcp_window_monitor: the wire length is never below caplen. */
    f->wirelen = wirelen < caplen ? caplen : wirelen;
    f->dlt = encap_to_dlt(pinfo->rec->rec_header.packet_header.pkt_encap);
    /* Clamped as tcp_window_monitor clamps it. */
    f->ts_ns = tcpwm_time_ns((int64_t)pinfo->abs_ts.secs, (int64_t)pinfo->abs_ts.nsecs);
    return true;
}

/* The reason the frame just fed was counted as a decode error, if any:
 * the one counter of the table that moved. */
static uint8_t new_decode_error(const uint64_t before[TCPWM_DE__COUNT], const tcpwm_metrics *after)
{
    for (unsigned i = 0; i < TCPWM_DE__COUNT; i++)
        if (after->decode_errors[i] != before[i])
            return (uint8_t)i;
    return NO_DECODE_ERROR;
}

/* First pass: run the frame through the monitor and keep what it said.
 * NULL when there is nothing to show (not TCP, out of scope). */
static const frame_result *analyze(packet_info *pinfo, const tcpwm_tap_frame *f)
{
    uint64_t errs[TCPWM_DE__COUNT];
    const tcpwm_metrics *mt;
    frame_result *r;
    tcpwm_result res;
    uint8_t de;

    if (g_monitor == NULL || g_results == NULL)
        return NULL;
    /* Never feed a frame twice: the first pass goes up in frame numbers;
     * anything at or below the last fed frame is a re-dissection. */
    if (pinfo->num <= g_last_fed)
        return stored_result(pinfo->num);
    g_last_fed = pinfo->num;

    mt = tcpwm_monitor_metrics(g_monitor);
    memcpy(errs, mt->decode_errors, sizeof errs);
    tcpwm_monitor_frame(g_monitor, f->data, f->caplen, f->wirelen, f->dlt, f->ts_ns, &res);
    de = new_decode_error(errs, mt);
    if (!res.analyzed && de == NO_DECODE_ERROR)
        return NULL;

    r = result_slot(pinfo->num, true);
    r->flags = FR_PRESENT;
    r->decode_error = de;
    if (res.analyzed) {
        r->flags |= (uint8_t)(FR_ANALYZED | (res.global ? FR_GLOBAL : 0) |
                              (res.window_analyzed ? FR_WINDOW : 0) |
                              (res.scale_known ? FR_SCALE_KNOWN : 0));
        r->events = res.events;
        r->gap_bytes = res.gap_bytes;
        r->holes_filled = res.holes_filled;
        r->capture_gaps = res.capture_gaps;
        r->window = res.window;
        r->fill_ns = res.fill_ns;
        r->window_delta = res.window_delta;
        r->verdict = (uint8_t)res.verdict;
        r->dir = res.dir;
        r->scale = res.scale;
        r->flags |= (uint8_t)((res.dup_ack ? FR_DUP_ACK : 0) | (res.reordered ? FR_REORDERED : 0) |
                              (res.dsack ? FR_DSACK : 0));
        r->retx = (uint8_t)res.retx;
        r->ack_rtt_ns = res.ack_rtt_ns;
        r->handshake_rtt_ns = res.handshake_rtt_ns;
        if (res.flow != NULL)
            r->flow = res.flow->stats;
    }
    return r;
}

/* ---- The tree ----------------------------------------------------------- */

/* A boolean flag, added only when set (so -Y tcpwm.loss.missing selects
 * exactly the frames that have it), with its expert info if any. */
static proto_item *add_flag(proto_tree *tree, packet_info *pinfo, tvbuff_t *tvb, int hf,
                            expert_field *ei)
{
    proto_item *ti = proto_tree_add_boolean(tree, hf, tvb, 0, 0, TRUE);

    proto_item_set_generated(ti);
    if (ei != NULL)
        expert_add_info(pinfo, ti, ei);
    return ti;
}

static void add_u32(proto_tree *tree, tvbuff_t *tvb, int hf, uint32_t v)
{
    proto_item_set_generated(proto_tree_add_uint(tree, hf, tvb, 0, 0, v));
}

static void add_loss(proto_tree *tree, packet_info *pinfo, tvbuff_t *tvb, const frame_result *r)
{
    proto_tree *lt;
    nstime_t fill;

    if ((r->events &
         (TCPWM_EV_MISSING | TCPWM_EV_DUPLICATE | TCPWM_EV_OUT_OF_ORDER | TCPWM_EV_CAPTURE_GAP |
          TCPWM_EV_KEEPALIVE | TCPWM_EV_ZERO_WINDOW_PROBE | TCPWM_EV_HOLE_FORGOTTEN)) == 0)
        return;
    lt = proto_tree_add_subtree(tree, tvb, 0, 0, ett_tcpwm_loss, NULL, "Sequence analysis");
    if (r->events & TCPWM_EV_MISSING) {
        add_flag(lt, pinfo, tvb, hf_tcpwm_loss_missing, &ei_tcpwm_missing);
        add_u32(lt, tvb, hf_tcpwm_loss_gap_bytes, r->gap_bytes);
    }
    if (r->events & TCPWM_EV_DUPLICATE)
        add_flag(lt, pinfo, tvb, hf_tcpwm_loss_duplicate, &ei_tcpwm_duplicate);
    if (r->events & TCPWM_EV_OUT_OF_ORDER) {
        add_flag(lt, pinfo, tvb, hf_tcpwm_loss_out_of_order, &ei_tcpwm_out_of_order);
        add_u32(lt, tvb, hf_tcpwm_loss_holes_filled, r->holes_filled);
        nstime_set_zero(&fill);
        if (r->fill_ns > 0) {
            fill.secs = (time_t)(r->fill_ns / 1000000000LL);
            fill.nsecs = (int)(r->fill_ns % 1000000000LL);
        }
        proto_item_set_generated(
            proto_tree_add_time(lt, hf_tcpwm_loss_fill_time, tvb, 0, 0, &fill));
    }
    if (r->events & TCPWM_EV_CAPTURE_GAP) {
        add_flag(lt, pinfo, tvb, hf_tcpwm_loss_capture_gap, &ei_tcpwm_capture_gap);
        add_u32(lt, tvb, hf_tcpwm_loss_capture_gap_holes, r->capture_gaps);
    }
    if (r->events & TCPWM_EV_KEEPALIVE)
        add_flag(lt, pinfo, tvb, hf_tcpwm_loss_keepalive, NULL);
    if (r->events & TCPWM_EV_ZERO_WINDOW_PROBE)
        add_flag(lt, pinfo, tvb, hf_tcpwm_loss_zero_window_probe, NULL);
    if (r->events & TCPWM_EV_HOLE_FORGOTTEN)
        add_flag(lt, pinfo, tvb, hf_tcpwm_loss_hole_forgotten, NULL);
}

static void add_window(proto_tree *tree, packet_info *pinfo, tvbuff_t *tvb, const frame_result *r)
{
    proto_item *ti;
    proto_tree *wt;

    if (!(r->flags & FR_WINDOW))
        return;
    ti = proto_tree_add_uint(tree, hf_tcpwm_window_size, tvb, 0, 0, r->window);
    proto_item_set_generated(ti);
    wt = proto_item_add_subtree(ti, ett_tcpwm_window);
    if (r->flags & FR_SCALE_KNOWN) {
        add_flag(wt, pinfo, tvb, hf_tcpwm_window_scale_known, NULL);
        proto_item_set_generated(
            proto_tree_add_uint(wt, hf_tcpwm_window_scale, tvb, 0, 0, r->scale));
    } else {
        add_flag(wt, pinfo, tvb, hf_tcpwm_window_scale_unknown, NULL);
    }
    proto_item_set_generated(
        proto_tree_add_int64(wt, hf_tcpwm_window_delta, tvb, 0, 0, r->window_delta));
    if (r->events & TCPWM_EV_WINDOW_SHRINK)
        add_flag(wt, pinfo, tvb, hf_tcpwm_window_shrink, &ei_tcpwm_window_shrink);
    if (r->events & TCPWM_EV_RIGHT_EDGE_RETREAT)
        add_flag(wt, pinfo, tvb, hf_tcpwm_window_right_edge_retreat, &ei_tcpwm_right_edge_retreat);
    if (r->events & TCPWM_EV_ZERO_WINDOW)
        add_flag(wt, pinfo, tvb, hf_tcpwm_window_zero_window, &ei_tcpwm_zero_window);
}

static void add_time(proto_tree *tree, tvbuff_t *tvb, int hf, int64_t ns)
{
    nstime_t t;

    t.secs = (time_t)(ns / 1000000000LL);
    t.nsecs = (int)(ns % 1000000000LL);
    proto_item_set_generated(proto_tree_add_time(tree, hf, tvb, 0, 0, &t));
}

/* The expert info of a retransmission kind: notes, as Wireshark's
 * tcp.analysis.retransmission and its fast and spurious forms are. */
static expert_field *retx_expert(uint8_t kind)
{
    switch (kind) {
    case TCPWM_RETX_FAST:
        return &ei_tcpwm_fast_retransmission;
    case TCPWM_RETX_SPURIOUS:
        return &ei_tcpwm_spurious_retransmission;
    case TCPWM_RETX_OTHER:
        return &ei_tcpwm_retransmission;
    default:
        return NULL;
    }
}

#define HAS_ANALYSIS(r)                                                                            \
    (((r)->flags & (FR_DUP_ACK | FR_REORDERED | FR_DSACK)) || (r)->retx != TCPWM_RETX_NONE ||      \
     (r)->ack_rtt_ns >= 0 || (r)->handshake_rtt_ns >= 0)

/* Wireshark's analysis as the core repeats it (docs/semantics.md 7): each
 * item present only when it applies, as tcp.analysis.* are. */
static void add_analysis(proto_tree *tree, packet_info *pinfo, tvbuff_t *tvb, const frame_result *r)
{
    proto_tree *at;

    if (!HAS_ANALYSIS(r))
        return;
    at = proto_tree_add_subtree(tree, tvb, 0, 0, ett_tcpwm_analysis, NULL,
                                "Retransmissions and round-trip times");
    if (r->retx != TCPWM_RETX_NONE) {
        proto_item *ti = proto_tree_add_uint(at, hf_tcpwm_retrans_kind, tvb, 0, 0, r->retx);

        proto_item_set_generated(ti);
        expert_add_info(pinfo, ti, retx_expert(r->retx));
    }
    if (r->flags & FR_REORDERED)
        add_flag(at, pinfo, tvb, hf_tcpwm_reordered, &ei_tcpwm_reordered);
    if (r->flags & FR_DUP_ACK)
        add_flag(at, pinfo, tvb, hf_tcpwm_dup_ack, &ei_tcpwm_dup_ack);
    if (r->flags & FR_DSACK)
        add_flag(at, pinfo, tvb, hf_tcpwm_dsack, &ei_tcpwm_dsack);
    if (r->ack_rtt_ns >= 0)
        add_time(at, tvb, hf_tcpwm_rtt_ack, r->ack_rtt_ns);
    if (r->handshake_rtt_ns >= 0)
        add_time(at, tvb, hf_tcpwm_rtt_handshake, r->handshake_rtt_ns);
}

static void add_flow(proto_tree *tree, tvbuff_t *tvb, const frame_result *r)
{
    const tcpwm_flow_stats *s = &r->flow;
    proto_tree *ft;

    ft = proto_tree_add_subtree_format(tree, tvb, 0, 0, ett_tcpwm_flow, NULL,
                                       "Flow totals: %u packets, %u missing, %u duplicate, "
                                       "%u out-of-order, %u capture gaps",
                                       s->packets, s->missing, s->duplicate, s->out_of_order,
                                       s->capture_gap);
    add_u32(ft, tvb, hf_tcpwm_flow_packets, s->packets);
    add_u32(ft, tvb, hf_tcpwm_flow_missing, s->missing);
    add_u32(ft, tvb, hf_tcpwm_flow_duplicate, s->duplicate);
    add_u32(ft, tvb, hf_tcpwm_flow_out_of_order, s->out_of_order);
    add_u32(ft, tvb, hf_tcpwm_flow_capture_gap, s->capture_gap);
    add_u32(ft, tvb, hf_tcpwm_flow_window_shrink, s->window_shrink);
    add_u32(ft, tvb, hf_tcpwm_flow_right_edge_retreat, s->right_edge_retreat);
    add_u32(ft, tvb, hf_tcpwm_flow_zero_window, s->zero_window);
    if (s->has_window)
        add_u32(ft, tvb, hf_tcpwm_flow_min_window, s->min_window);
}

/* The one-line summary on the protocol item. */
static void add_summary(proto_item *ti, const frame_result *r)
{
    if (!(r->flags & FR_ANALYZED)) {
        proto_item_append_text(ti, ": not analyzed, decode error %s",
                               val_to_str_const(r->decode_error, decode_error_vals, "?"));
        return;
    }
    proto_item_append_text(ti, ": %s", val_to_str_const(r->verdict, verdict_vals, "?"));
    if (r->events & TCPWM_EV_MISSING)
        proto_item_append_text(ti, ", gap %u bytes", r->gap_bytes);
    if (r->events & TCPWM_EV_CAPTURE_GAP)
        proto_item_append_text(ti, ", capture gap");
    if (r->flags & FR_WINDOW)
        proto_item_append_text(ti, ", window %u%s", r->window,
                               (r->flags & FR_SCALE_KNOWN) ? "" : " (scale unknown)");
    if (r->events & TCPWM_EV_ZERO_WINDOW)
        proto_item_append_text(ti, ", zero window");
    else if (r->events & TCPWM_EV_WINDOW_SHRINK)
        proto_item_append_text(ti, ", shrink");
    if (r->retx != TCPWM_RETX_NONE)
        proto_item_append_text(ti, ", %s retransmission",
                               val_to_str_const(r->retx, retx_vals, "?"));
    if (r->flags & FR_REORDERED)
        proto_item_append_text(ti, ", reordered");
    if (r->flags & FR_DUP_ACK)
        proto_item_append_text(ti, ", duplicate ACK");
    if (r->ack_rtt_ns >= 0)
        proto_item_append_text(ti, ", ACK RTT %.6f s", (double)r->ack_rtt_ns / 1e9);
}

static void add_tree(proto_tree *tree, packet_info *pinfo, tvbuff_t *tvb, const frame_result *r)
{
    proto_item *ti = proto_tree_add_item(tree, proto_tcpwm, tvb, 0, 0, ENC_NA);
    proto_tree *t = proto_item_add_subtree(ti, ett_tcpwm);

    proto_item_set_generated(ti);
    add_summary(ti, r);
    if (r->decode_error != NO_DECODE_ERROR)
        proto_item_set_generated(
            proto_tree_add_uint(t, hf_tcpwm_decode_error, tvb, 0, 0, r->decode_error));
    if (!(r->flags & FR_ANALYZED))
        return;
    proto_item_set_generated(proto_tree_add_uint(t, hf_tcpwm_verdict, tvb, 0, 0, r->verdict));
    proto_item_set_generated(proto_tree_add_uint(t, hf_tcpwm_direction, tvb, 0, 0, r->dir));
    if (r->flags & FR_GLOBAL)
        add_flag(t, pinfo, tvb, hf_tcpwm_global, NULL);
    if (r->events & TCPWM_EV_CONN_OPENED)
        add_flag(t, pinfo, tvb, hf_tcpwm_conn_opened, NULL);
    if (r->events & TCPWM_EV_CONN_CLOSED)
        add_flag(t, pinfo, tvb, hf_tcpwm_conn_closed, NULL);
    add_loss(t, pinfo, tvb, r);
    add_window(t, pinfo, tvb, r);
    add_analysis(t, pinfo, tvb, r);
    add_flow(t, tvb, r);
}

/* Without a tree (tshark -z expert, the GUI's first pass), the expert infos
 * still go to the expert tap, as the TCP dissector's do. */
#define EXPERT_EVENTS                                                                              \
    (TCPWM_EV_MISSING | TCPWM_EV_DUPLICATE | TCPWM_EV_OUT_OF_ORDER | TCPWM_EV_CAPTURE_GAP |        \
     TCPWM_EV_WINDOW_SHRINK | TCPWM_EV_RIGHT_EDGE_RETREAT | TCPWM_EV_ZERO_WINDOW)

static void add_experts(packet_info *pinfo, const frame_result *r)
{
    static const struct {
        uint32_t ev;
        expert_field *ei;
    } map[] = {
        {TCPWM_EV_MISSING, &ei_tcpwm_missing},
        {TCPWM_EV_DUPLICATE, &ei_tcpwm_duplicate},
        {TCPWM_EV_OUT_OF_ORDER, &ei_tcpwm_out_of_order},
        {TCPWM_EV_CAPTURE_GAP, &ei_tcpwm_capture_gap},
        {TCPWM_EV_WINDOW_SHRINK, &ei_tcpwm_window_shrink},
        {TCPWM_EV_RIGHT_EDGE_RETREAT, &ei_tcpwm_right_edge_retreat},
        {TCPWM_EV_ZERO_WINDOW, &ei_tcpwm_zero_window},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
        if (r->events & map[i].ev)
            expert_add_info(pinfo, NULL, map[i].ei);
    if (!(r->flags & FR_ANALYZED))
        return;
    if (r->retx != TCPWM_RETX_NONE)
        expert_add_info(pinfo, NULL, retx_expert(r->retx));
    if (r->flags & FR_REORDERED)
        expert_add_info(pinfo, NULL, &ei_tcpwm_reordered);
    if (r->flags & FR_DUP_ACK)
        expert_add_info(pinfo, NULL, &ei_tcpwm_dup_ack);
    if (r->flags & FR_DSACK)
        expert_add_info(pinfo, NULL, &ei_tcpwm_dsack);
}

/* ---- The postdissector --------------------------------------------------- */

static int dissect_tcpwm(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    const frame_result *r = NULL;
    bool tapping = have_tap_listener(tcpwm_tap);
    tcpwm_tap_frame f;

    /* Only packets: other records (pcapng events, journal entries) are no
     * frames to libpcap either. */
    if (pinfo->rec == NULL || pinfo->rec->rec_type != REC_TYPE_PACKET)
        return 0;

    if (!PINFO_FD_VISITED(pinfo) || tapping) {
        if (!frame_of(tvb, pinfo, &f))
            return 0;
        if (tapping) {
            tcpwm_tap_frame *q = wmem_new(pinfo->pool, tcpwm_tap_frame);

            *q = f;
            tap_queue_packet(tcpwm_tap, pinfo, q);
        }
    }
    if (!PINFO_FD_VISITED(pinfo))
        r = analyze(pinfo, &f);
    else
        r = stored_result(pinfo->num);

    /* A frame of a link type the core does not know is no news to show. */
    if (r == NULL ||
        (!(r->flags & FR_ANALYZED) && r->decode_error == TCPWM_DE_UNSUPPORTED_LINKTYPE))
        return (int)tvb_captured_length(tvb);
    if (tree != NULL)
        add_tree(tree, pinfo, tvb, r);
    else if ((r->events & EXPERT_EVENTS) ||
             ((r->flags & FR_ANALYZED) &&
              ((r->flags & (FR_DUP_ACK | FR_REORDERED | FR_DSACK)) || r->retx != TCPWM_RETX_NONE)))
        add_experts(pinfo, r);
    return (int)tvb_captured_length(tvb);
}

/* ---- Registration ---------------------------------------------------------- */

void proto_register_tcpwm(void)
{
/* clang-format off */
#define FLAG(hf, name, abbrev, blurb) \
    {&hf, {name, abbrev, FT_BOOLEAN, BASE_NONE, NULL, 0x0, blurb, HFILL}}
#define U32(hf, name, abbrev, blurb) \
    {&hf, {name, abbrev, FT_UINT32, BASE_DEC, NULL, 0x0, blurb, HFILL}}
    /* clang-format on */
    static hf_register_info hf[] = {
        {&hf_tcpwm_verdict,
         {"Verdict", "tcpwm.verdict", FT_UINT8, BASE_DEC, VALS(verdict_vals), 0x0,
          "Sequence analysis verdict of this segment (docs/semantics.md section 4)", HFILL}},
        {&hf_tcpwm_direction,
         {"Direction", "tcpwm.direction", FT_UINT8, BASE_DEC, VALS(direction_vals), 0x0,
          "Direction within the flow; endpoint 0 sent the first packet seen", HFILL}},
        FLAG(hf_tcpwm_global, "Global scope", "tcpwm.global",
             "Both addresses are global unicast (counted by --scope global)"),
        {&hf_tcpwm_decode_error,
         {"Decode error", "tcpwm.decode_error", FT_UINT8, BASE_DEC, VALS(decode_error_vals), 0x0,
          "Why the core could not decode this frame to a TCP segment", HFILL}},
        FLAG(hf_tcpwm_conn_opened, "Connection opened", "tcpwm.conn.opened",
             "First packet of a connection (or a new SYN on a reused 4-tuple)"),
        FLAG(hf_tcpwm_conn_closed, "Connection closed", "tcpwm.conn.closed",
             "This packet closed the connection (RST, or the second FIN)"),

        FLAG(hf_tcpwm_loss_missing, "Missing", "tcpwm.loss.missing",
             "The sequence number jumped past bytes the capture never showed: a hole opened"),
        FLAG(hf_tcpwm_loss_duplicate, "Duplicate", "tcpwm.loss.duplicate",
             "Data the capture has already seen, touching no open hole"),
        FLAG(hf_tcpwm_loss_out_of_order, "Out-of-order", "tcpwm.loss.out_of_order",
             "Data that filled (part of) an open sequence hole"),
        FLAG(hf_tcpwm_loss_capture_gap, "Capture gap", "tcpwm.loss.capture_gap",
             "This ACK covered holes the capture never showed: lost by the capture, "
             "not by the network"),
        FLAG(hf_tcpwm_loss_keepalive, "Keep-alive", "tcpwm.loss.keepalive",
             "TCP keep-alive (RFC 9293 3.8.4)"),
        FLAG(hf_tcpwm_loss_zero_window_probe, "Zero-window probe", "tcpwm.loss.zero_window_probe",
             "One byte sent into a zero window (RFC 9293 3.8.6.1)"),
        U32(hf_tcpwm_loss_gap_bytes, "Gap (bytes)", "tcpwm.loss.gap_bytes",
            "Bytes of sequence space skipped (missing)"),
        U32(hf_tcpwm_loss_holes_filled, "Holes filled", "tcpwm.loss.holes_filled",
            "Open holes this out-of-order segment touched"),
        {&hf_tcpwm_loss_fill_time,
         {"Hole-fill time", "tcpwm.loss.fill_time", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
          "Age of the oldest hole this out-of-order segment filled", HFILL}},
        U32(hf_tcpwm_loss_capture_gap_holes, "Capture-gap holes", "tcpwm.loss.capture_gap_holes",
            "Holes of the other direction this ACK closed"),
        FLAG(hf_tcpwm_loss_hole_forgotten, "Hole forgotten", "tcpwm.loss.hole_forgotten",
             "The direction had too many open holes; the oldest was dropped"),

        U32(hf_tcpwm_window_size, "Scaled window (bytes)", "tcpwm.window.size",
            "Receive window in bytes, after window scaling"),
        FLAG(hf_tcpwm_window_scale_known, "Scale known", "tcpwm.window.scale_known",
             "Both SYNs were seen, so the window scale is known"),
        FLAG(hf_tcpwm_window_scale_unknown, "Scale unknown", "tcpwm.window.scale_unknown",
             "The handshake was not seen: the raw window is shown"),
        {&hf_tcpwm_window_scale,
         {"Scale shift", "tcpwm.window.scale", FT_UINT8, BASE_DEC, NULL, 0x0,
          "Window scale shift applied (RFC 7323)", HFILL}},
        {&hf_tcpwm_window_delta,
         {"Window change", "tcpwm.window.delta", FT_INT64, BASE_DEC, NULL, 0x0,
          "Change from the previous analyzed window of this direction", HFILL}},
        FLAG(hf_tcpwm_window_shrink, "Window shrink", "tcpwm.window.shrink",
             "The scaled window is smaller than the previous one"),
        FLAG(hf_tcpwm_window_right_edge_retreat, "Right-edge retreat",
             "tcpwm.window.right_edge_retreat",
             "ack + window moved left (RFC 9293 3.8.6.2.2 'shrinking the window')"),
        FLAG(hf_tcpwm_window_zero_window, "Zero window", "tcpwm.window.zero_window",
             "The receiver advertised a zero window"),

        U32(hf_tcpwm_flow_packets, "Packets", "tcpwm.flow.packets", "Flow's packets so far"),
        U32(hf_tcpwm_flow_missing, "Missing", "tcpwm.flow.missing", "Flow's missing events so far"),
        U32(hf_tcpwm_flow_duplicate, "Duplicate", "tcpwm.flow.duplicate",
            "Flow's duplicates so far"),
        U32(hf_tcpwm_flow_out_of_order, "Out-of-order", "tcpwm.flow.out_of_order",
            "Flow's out-of-order segments so far"),
        U32(hf_tcpwm_flow_capture_gap, "Capture gaps", "tcpwm.flow.capture_gap",
            "Flow's capture gaps so far"),
        U32(hf_tcpwm_flow_window_shrink, "Window shrinks", "tcpwm.flow.window_shrink",
            "Flow's window shrinks so far"),
        U32(hf_tcpwm_flow_right_edge_retreat, "Right-edge retreats",
            "tcpwm.flow.right_edge_retreat", "Flow's right-edge retreats so far"),
        U32(hf_tcpwm_flow_zero_window, "Zero windows", "tcpwm.flow.zero_window",
            "Flow's zero windows so far"),
        U32(hf_tcpwm_flow_min_window, "Smallest window (bytes)", "tcpwm.flow.min_window",
            "Smallest scaled window seen in the flow so far"),

        {&hf_tcpwm_retrans_kind,
         {"Retransmission", "tcpwm.retrans.kind", FT_UINT8, BASE_DEC, VALS(retx_vals), 0x0,
          "Kind of retransmission as Wireshark's analysis tells them (docs/semantics.md 7): "
          "fast, spurious (already acknowledged) or other (timeouts, tail-loss probes)",
          HFILL}},
        FLAG(hf_tcpwm_reordered, "Reordered", "tcpwm.reordered",
             "Came within the handshake RTT (3 ms if unknown) of the highest segment: "
             "tcp.analysis.out_of_order"),
        FLAG(hf_tcpwm_dup_ack, "Duplicate ACK", "tcpwm.dup_ack",
             "Duplicate ACK in Wireshark's sense (RFC 5681 section 2): tcp.analysis.duplicate_ack"),
        FLAG(hf_tcpwm_dsack, "D-SACK", "tcpwm.dsack",
             "The first SACK block reports bytes received twice (RFC 2883)"),
        {&hf_tcpwm_rtt_ack,
         {"ACK RTT", "tcpwm.rtt.ack", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
          "Time from the data segment this ACK acknowledges to the ACK: tcp.analysis.ack_rtt",
          HFILL}},
        {&hf_tcpwm_rtt_handshake,
         {"Handshake RTT", "tcpwm.rtt.handshake", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
          "SYN to the ACK that completes the handshake, on that ACK: tcp.analysis.initial_rtt",
          HFILL}},
    };
#undef FLAG
#undef U32
    static gint *ett[] = {&ett_tcpwm, &ett_tcpwm_loss, &ett_tcpwm_window, &ett_tcpwm_flow,
                          &ett_tcpwm_analysis};
    static ei_register_info ei[] = {
        {&ei_tcpwm_missing,
         {"tcpwm.expert.missing", PI_SEQUENCE, PI_WARN,
          "Missing: bytes before this segment were never seen", EXPFILL}},
        {&ei_tcpwm_duplicate,
         {"tcpwm.expert.duplicate", PI_SEQUENCE, PI_WARN,
          "Duplicate: data the capture has already seen", EXPFILL}},
        {&ei_tcpwm_out_of_order,
         {"tcpwm.expert.out_of_order", PI_SEQUENCE, PI_WARN, "Out-of-order: fills a sequence hole",
          EXPFILL}},
        {&ei_tcpwm_capture_gap,
         {"tcpwm.expert.capture_gap", PI_SEQUENCE, PI_WARN,
          "Capture gap: the receiver ACKed bytes the capture never showed", EXPFILL}},
        {&ei_tcpwm_window_shrink,
         {"tcpwm.expert.window_shrink", PI_SEQUENCE, PI_NOTE,
          "Window shrink: smaller than the previous window", EXPFILL}},
        {&ei_tcpwm_right_edge_retreat,
         {"tcpwm.expert.right_edge_retreat", PI_SEQUENCE, PI_NOTE,
          "Right edge of the window moved left", EXPFILL}},
        {&ei_tcpwm_zero_window,
         {"tcpwm.expert.zero_window", PI_SEQUENCE, PI_NOTE, "Zero window", EXPFILL}},
        /* The severities of Wireshark's tcp.analysis counterparts. */
        {&ei_tcpwm_fast_retransmission,
         {"tcpwm.expert.fast_retransmission", PI_SEQUENCE, PI_NOTE,
          "Fast retransmission: after duplicate ACKs, at the peer's ACK", EXPFILL}},
        {&ei_tcpwm_spurious_retransmission,
         {"tcpwm.expert.spurious_retransmission", PI_SEQUENCE, PI_NOTE,
          "Spurious retransmission: the peer had acknowledged these bytes", EXPFILL}},
        {&ei_tcpwm_retransmission,
         {"tcpwm.expert.retransmission", PI_SEQUENCE, PI_NOTE,
          "Retransmission (timeout, tail-loss probe or other)", EXPFILL}},
        {&ei_tcpwm_reordered,
         {"tcpwm.expert.reordered", PI_SEQUENCE, PI_WARN,
          "Reordered: out of order within the round-trip time", EXPFILL}},
        {&ei_tcpwm_dup_ack,
         {"tcpwm.expert.dup_ack", PI_SEQUENCE, PI_NOTE, "Duplicate ACK", EXPFILL}},
        {&ei_tcpwm_dsack,
         {"tcpwm.expert.dsack", PI_SEQUENCE, PI_CHAT,
          "D-SACK: the receiver reports bytes it got twice", EXPFILL}},
    };
    module_t *prefs;
    expert_module_t *expert;

    for (int k = TCPWM_RETX_FAST; k <= TCPWM_RETX_OTHER; k++) {
        retx_vals[k - TCPWM_RETX_FAST].value = (guint32)k;
        retx_vals[k - TCPWM_RETX_FAST].strptr = tcpwm_retx_label((tcpwm_retx_kind)k);
    }
    proto_tcpwm = proto_register_protocol("TCP Window Monitor", "TCPWM", "tcpwm");
    proto_register_field_array(proto_tcpwm, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert = expert_register_protocol(proto_tcpwm);
    expert_register_field_array(expert, ei, array_length(ei));

    prefs = prefs_register_protocol(proto_tcpwm, NULL);
    /* "all" by default here, unlike tcp_window_monitor's "global": people
     * open LAN captures in Wireshark. */
    prefs_register_enum_preference(prefs, "scope", "Scope",
                                   "Which TCP packets to analyze: all, or only those between "
                                   "two global unicast addresses (tcp_window_monitor --scope)",
                                   &pref_scope, scope_vals, FALSE);
    prefs_register_uint_preference(prefs, "max_holes", "Open holes per direction",
                                   "Sequence holes kept per direction, 1-255; opening one more "
                                   "forgets the oldest (tcp_window_monitor --max-holes)",
                                   10, &pref_max_holes);
    prefs_register_uint_preference(prefs, "idle_timeout", "Idle timeout (seconds)",
                                   "Open flows idle this long in capture time leave the flow "
                                   "table (tcp_window_monitor --idle-timeout)",
                                   10, &pref_idle_timeout);
    range_convert_str(wmem_epan_scope(), &pref_vxlan_ports, "4789", 65535);
    range_convert_str(wmem_epan_scope(), &pref_geneve_ports, "6081", 65535);
    range_convert_str(wmem_epan_scope(), &pref_service_ports, "", 65535);
    prefs_register_range_preference(prefs, "vxlan_ports", "VXLAN UDP ports",
                                    "UDP destination ports read as VXLAN (RFC 7348), at most 8 "
                                    "(tcp_window_monitor --vxlan-port)",
                                    &pref_vxlan_ports, 65535);
    prefs_register_range_preference(prefs, "geneve_ports", "Geneve UDP ports",
                                    "UDP destination ports read as Geneve (RFC 8926), at most 8 "
                                    "(tcp_window_monitor --geneve-port)",
                                    &pref_geneve_ports, 65535);
    prefs_register_range_preference(prefs, "service_ports", "Service ports",
                                    "Ports whose flows get their own port label in -z tcpwm,prom "
                                    "(tcp_window_monitor --service-ports; at most 64, the lowest "
                                    "are kept); empty: no port label",
                                    &pref_service_ports, 65535);

    tcpwm_tap = register_tap("tcpwm");
    tcpwm_handle = register_dissector("tcpwm", dissect_tcpwm, proto_tcpwm);
    register_init_routine(tcpwm_init);
    register_cleanup_routine(tcpwm_cleanup);
    build_link_table();
}

void proto_reg_handoff_tcpwm(void)
{
    register_postdissector(tcpwm_handle);
}
