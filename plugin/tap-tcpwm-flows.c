/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap-tcpwm-flows.c: the table of flows -- Statistics > TCP Window Monitor
 * in Wireshark, tshark -z tcpwm,flows[,FILTER].
 *
 * One stat-tap table UI (epan/stat_tap_ui.h) gives both: Wireshark lists it
 * in the Statistics menu and shows it in its "simple statistics" dialog
 * (sortable columns, copy and save as text/CSV/YAML), tshark prints it at
 * the end of the run for -z tcpwm,flows. Two tables: "Flows", one row per
 * flow in the order of their first packets (the "First frame" column, by
 * which the dialog sorts when it opens), and "All flows", one row of totals.
 *
 * Like -z tcpwm,prom, the table has a monitor of its own (settings from the
 * tcpwm preferences) fed with the raw frames the postdissector queues on
 * the "tcpwm" tap -- those that pass the filter -- and keeps per flow what
 * the per-packet results (tcpwm_result) say: the flow's running totals, the
 * retransmissions by kind, duplicate ACKs and every ACK RTT sample, so that
 * the median is exact. That costs Wireshark's memory (two heaps of 8-byte
 * samples per flow), not the core's budget, which keeps only histograms.
 * So the per-flow figures add up to what -z tcpwm,prom prints for the same
 * filter: the same frames through the same core.
 *
 * A flow is a row from its first packet until it leaves the monitor's table
 * (docs/semantics.md 3: close and linger, idle timeout, port reuse); a later
 * packet of the same addresses and ports starts a new row, as it starts a
 * new flow in the metrics.
 *
 * One exception to "the frames that pass the filter": Wireshark withholds
 * from stat-table listeners a frame whose dissection left the "inside an
 * ICMP error" flag set (an exception thrown in the quoted packet). Such a
 * frame is an ICMP packet, never a TCP segment the core analyzes, so no
 * flow misses it; -z tcpwm,prom counts it as a frame, this table has no
 * frame count. */
#define WS_LOG_DOMAIN "tcpwm"

#include <wireshark.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <epan/packet.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>

#include "tcpwm/metrics.h"
#include "tcpwm/monitor.h"

#include "flowtext.h"
#include "tcpwm-plugin.h"

/* ---- Columns ---------------------------------------------------------------- */

enum {
    COL_FIRST,
    COL_FLOW,
    COL_PACKETS,
    COL_MISSING,
    COL_DUPLICATE,
    COL_OUT_OF_ORDER,
    COL_CAPTURE_GAP,
    COL_RETX_FAST,
    COL_RETX_SPURIOUS,
    COL_RETX_OTHER,
    COL_REORDERED,
    COL_DUP_ACK,
    COL_RTT_MEDIAN,
    COL_RTT_MAX,
    COL_MIN_WINDOW,
    COL_ZERO_WINDOW,
    NCOLS
};

/* tshark prints each column name as it is and each cell in its format:
 * every width is its name's, so that the rows line up under the names. The
 * flow's name is padded to the width of most IPv4 flows (its padding is
 * narrower than the flows' text in the dialog, so it costs no room there);
 * longer flows push their row to the right. The optional figures (no RTT
 * sample, no window yet) are strings, so that they can say "-"; their
 * numbers are right-aligned in the column's width, so that the dialog,
 * which sorts strings with strcmp, sorts them as numbers ("-" has the most
 * leading blanks: it comes first). */
#define OPT_SIZE 24
#define FLOW_NAME "Flow                                         " /* 45 */

static stat_tap_table_item flow_fields[NCOLS] = {
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "First frame", "%11u"},
    {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, FLOW_NAME, "%-45s"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Packets", "%7u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Missing", "%7u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Duplicate", "%9u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Out-of-order", "%12u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Capture gaps", "%12u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Fast retx", "%9u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Spurious retx", "%13u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Other retx", "%10u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Reordered", "%9u"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Dup ACKs", "%8u"},
    {TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "ACK RTT median (ms)", "%s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "ACK RTT max (ms)", "%s"},
    {TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Min window", "%s"},
    {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Zero windows", "%12u"},
};

static const char FLOWS_TABLE[] = "Flows";
static const char TOTAL_TABLE[] = "All flows";

/* ---- An exact running median: two heaps ------------------------------------ */

/* lo holds the smaller half as a max-heap, hi the larger as a min-heap,
 * lo never smaller than hi nor more than one longer: the median is lo's
 * top, or the mean of both tops for an even count. O(log n) a sample. */
typedef struct median {
    GArray *lo, *hi; /* int64_t; NULL until the first sample */
} median;

static bool heap_before(int64_t a, int64_t b, bool max)
{
    return max ? a > b : a < b;
}

static void heap_push(GArray *h, int64_t v, bool max)
{
    guint i = h->len;

    g_array_append_val(h, v);
    while (i > 0) {
        guint up = (i - 1) / 2;
        int64_t *a = &g_array_index(h, int64_t, 0);

        if (!heap_before(a[i], a[up], max))
            break;
        int64_t t = a[i];
        a[i] = a[up];
        a[up] = t;
        i = up;
    }
}

static int64_t heap_pop(GArray *h, bool max)
{
    int64_t *a = &g_array_index(h, int64_t, 0);
    int64_t top = a[0];
    guint n = h->len - 1, i = 0;

    a[0] = a[n];
    g_array_set_size(h, n);
    for (;;) {
        guint l = 2 * i + 1, r = l + 1, best = i;

        if (l < n && heap_before(a[l], a[best], max))
            best = l;
        if (r < n && heap_before(a[r], a[best], max))
            best = r;
        if (best == i)
            break;
        int64_t t = a[i];
        a[i] = a[best];
        a[best] = t;
        i = best;
    }
    return top;
}

static void median_add(median *m, int64_t v)
{
    if (m->lo == NULL) {
        m->lo = g_array_new(FALSE, FALSE, sizeof(int64_t));
        m->hi = g_array_new(FALSE, FALSE, sizeof(int64_t));
    }
    if (m->lo->len == 0 || v <= g_array_index(m->lo, int64_t, 0))
        heap_push(m->lo, v, true);
    else
        heap_push(m->hi, v, false);
    if (m->lo->len > m->hi->len + 1)
        heap_push(m->hi, heap_pop(m->lo, true), false);
    else if (m->hi->len > m->lo->len)
        heap_push(m->lo, heap_pop(m->hi, false), true);
}

/* The median in ns; only with at least one sample. */
static double median_ns(const median *m)
{
    int64_t a = g_array_index(m->lo, int64_t, 0);

    if (m->lo->len > m->hi->len)
        return (double)a;
    return ((double)a + (double)g_array_index(m->hi, int64_t, 0)) / 2.0;
}

static void median_free(median *m)
{
    if (m->lo != NULL) {
        g_array_free(m->lo, TRUE);
        g_array_free(m->hi, TRUE);
    }
    m->lo = m->hi = NULL;
}

/* ---- Per-flow figures -------------------------------------------------------- */

/* What identifies a flow while it is in the monitor's table: the view's
 * addresses, ports, VLANs and encapsulation (endpoint 0 first, as the
 * monitor keeps them). Zeroed before filling, so it compares with memcmp. */
typedef struct flow_key {
    uint8_t family;
    uint8_t vlan_count;
    uint16_t vlan[2];
    uint16_t port[2];
    uint16_t encap_len;
    uint8_t addr[2][16];
    uint8_t encap[TCPWM_ENCAP_CTX_MAX];
} flow_key;

/* What the per-packet results add to the flow's own totals. */
typedef struct flow_figures {
    uint32_t first_frame;
    uint32_t retx[TCPWM_RETX_KINDS]; /* fast, spurious, other */
    uint32_t reordered;
    uint32_t dup_ack;
    median rtt;
    int64_t rtt_max; /* ns; meaningful with samples */
} flow_figures;

typedef struct flow_rec {
    flow_figures fig;
    guint row; /* in the Flows table */
} flow_rec;

/* The listener's state. Wireshark keeps one table per statistic, so one
 * state: a second -z tcpwm,flows in the same run shares it. */
static struct {
    bool started;     /* since the last init, reset or cleanup */
    tcpwm_monitor *m; /* NULL: not started, or no memory (then nothing counts) */
    GHashTable *live; /* flow_key -> flow_rec, flows now in the monitor's table */
    GPtrArray *recs;  /* every flow_rec, in row order (owns them) */
    flow_figures total;
    tcpwm_flow_stats sum; /* the flows' own totals, summed over the rows */
    uint32_t flows;
    uint32_t min_window;
    bool has_window;
} g_fl;

static void key_of(flow_key *k, const tcpwm_flow_view *v)
{
    memset(k, 0, sizeof *k);
    k->family = v->family;
    k->vlan_count = v->vlan_count;
    memcpy(k->vlan, v->vlan, sizeof k->vlan);
    memcpy(k->port, v->port, sizeof k->port);
    memcpy(k->addr, v->addr, sizeof k->addr);
    k->encap_len = v->encap_len <= sizeof k->encap ? v->encap_len : (uint16_t)sizeof k->encap;
    memcpy(k->encap, v->encap, k->encap_len);
}

static guint key_hash(gconstpointer p)
{
    const uint8_t *b = (const uint8_t *)p;
    const flow_key *k = (const flow_key *)p;
    size_t n = offsetof(flow_key, encap) + k->encap_len;
    guint32 h = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(flow_key)) == 0;
}

static void rec_free(gpointer p)
{
    flow_rec *r = (flow_rec *)p;

    median_free(&r->fig.rtt);
    g_free(r);
}

/* A flow left the monitor: its row stays, its key is free for a new flow. */
static void on_flow_end(void *ctx _U_, const tcpwm_flow_view *v)
{
    flow_key k;

    if (g_fl.live == NULL)
        return;
    key_of(&k, v);
    g_hash_table_remove(g_fl.live, &k);
}

static void state_free(void)
{
    tcpwm_monitor_free(g_fl.m);
    if (g_fl.live != NULL)
        g_hash_table_destroy(g_fl.live);
    if (g_fl.recs != NULL)
        g_ptr_array_free(g_fl.recs, TRUE);
    median_free(&g_fl.total.rtt);
    memset(&g_fl, 0, sizeof g_fl);
}

static void state_start(void)
{
    tcpwm_config c;
    int rc;

    state_free();
    g_fl.started = true;
    tcpwm_plugin_config(&c);
    rc = tcpwm_monitor_new(&c, &g_fl.m);
    if (rc != 0) {
        ws_warning("TCP Window Monitor flows: cannot start the analysis (%d)", rc);
        g_fl.m = NULL;
        return;
    }
    tcpwm_monitor_on_flow_end(g_fl.m, on_flow_end, NULL);
    g_fl.live = g_hash_table_new_full(key_hash, key_equal, g_free, NULL);
    g_fl.recs = g_ptr_array_new_with_free_func(rec_free);
}

/* ---- Table rows ------------------------------------------------------------ */

static void set_uint(stat_tap_table *t, guint row, guint col, uint32_t v)
{
    stat_tap_get_field_data(t, row, col)->value.uint_value = v;
}

static uint32_t cell(const stat_tap_table *t, guint row, guint col)
{
    return stat_tap_get_field_data(t, row, col)->value.uint_value;
}

/* The optional figures live in buffers of OPT_SIZE the row owns. */
static void set_opt(stat_tap_table *t, guint row, guint col, const char *fmt, double v, bool have)
{
    char *s = (char *)stat_tap_get_field_data(t, row, col)->value.string_value;
    int width = (int)strlen(flow_fields[col].column_name);

    if (have)
        snprintf(s, OPT_SIZE, fmt, width, v);
    else
        snprintf(s, OPT_SIZE, "%*s", width, "-");
}

static void new_row(stat_tap_table *t, guint row, const char *flow)
{
    stat_tap_table_item_type items[NCOLS];

    memset(items, 0, sizeof items);
    for (guint c = 0; c < NCOLS; c++) {
        items[c].type = flow_fields[c].type;
        if (items[c].type == TABLE_ITEM_STRING)
            items[c].value.string_value = c == COL_FLOW ? g_strdup(flow) : g_malloc0(OPT_SIZE);
    }
    stat_tap_init_table_row(t, row, NCOLS, items);
    for (guint c = COL_RTT_MEDIAN; c <= COL_MIN_WINDOW; c++)
        set_opt(t, row, c, NULL, 0, false);
}

static void fill_row(stat_tap_table *t, guint row, const flow_figures *f, const tcpwm_flow_stats *s,
                     uint32_t min_window, bool has_window)
{
    bool rtt = f->rtt.lo != NULL;

    set_uint(t, row, COL_FIRST, f->first_frame);
    set_uint(t, row, COL_PACKETS, s->packets);
    set_uint(t, row, COL_MISSING, s->missing);
    set_uint(t, row, COL_DUPLICATE, s->duplicate);
    set_uint(t, row, COL_OUT_OF_ORDER, s->out_of_order);
    set_uint(t, row, COL_CAPTURE_GAP, s->capture_gap);
    set_uint(t, row, COL_RETX_FAST, f->retx[TCPWM_RETX_FAST - 1]);
    set_uint(t, row, COL_RETX_SPURIOUS, f->retx[TCPWM_RETX_SPURIOUS - 1]);
    set_uint(t, row, COL_RETX_OTHER, f->retx[TCPWM_RETX_OTHER - 1]);
    set_uint(t, row, COL_REORDERED, f->reordered);
    set_uint(t, row, COL_DUP_ACK, f->dup_ack);
    set_opt(t, row, COL_RTT_MEDIAN, "%*.3f", rtt ? median_ns(&f->rtt) / 1e6 : 0, rtt);
    set_opt(t, row, COL_RTT_MAX, "%*.3f", (double)f->rtt_max / 1e6, rtt);
    set_opt(t, row, COL_MIN_WINDOW, "%*.0f", (double)min_window, has_window);
    set_uint(t, row, COL_ZERO_WINDOW, s->zero_window);
}

/* Frees what a row's cell owns (the stat_tap_free_table_item callback). */
static void free_item(stat_tap_table *t _U_, guint row _U_, guint col,
                      stat_tap_table_item_type *field)
{
    if (col < NCOLS && flow_fields[col].type == TABLE_ITEM_STRING) {
        g_free((char *)field->value.string_value);
        field->value.string_value = NULL;
    }
}

static void clear_rows(stat_tap_table *t)
{
    for (guint row = 0; row < t->num_elements; row++) {
        for (guint c = 0; c < t->num_fields; c++)
            free_item(t, row, c, stat_tap_get_field_data(t, row, c));
        g_free(t->elements[row]);
    }
    g_free(t->elements);
    t->elements = NULL;
    t->num_elements = 0;
}

/* "N flows" in the totals row's Flow cell. */
static void set_total_label(stat_tap_table *t, uint32_t flows)
{
    stat_tap_table_item_type *f = stat_tap_get_field_data(t, 0, COL_FLOW);

    g_free((char *)f->value.string_value);
    f->value.string_value = g_strdup_printf("%" PRIu32 " flow%s", flows, flows == 1 ? "" : "s");
}

static void reset_total(stat_tap_table *t)
{
    static const tcpwm_flow_stats none;
    flow_figures empty;

    memset(&empty, 0, sizeof empty);
    clear_rows(t);
    new_row(t, 0, "");
    set_total_label(t, 0);
    fill_row(t, 0, &empty, &none, 0, false);
}

/* ---- The stat-tap table callbacks ----------------------------------------- */

static stat_tap_table *table_named(stat_tap_table_ui *ui, const char *name)
{
    stat_tap_table *t = stat_tap_find_table(ui, name);

    if (t == NULL) {
        t = stat_tap_init_table(name, NCOLS, 0, NULL);
        stat_tap_add_table(ui, t);
    }
    return t;
}

/* Called before each listener is registered (tshark: once per -z; the
 * dialog: every time it fills its tree). */
static void flows_init(stat_tap_table_ui *ui)
{
    clear_rows(table_named(ui, FLOWS_TABLE));
    reset_total(table_named(ui, TOTAL_TABLE));
    state_start();
}

/* Called for each table on a retap, before the frames come again. */
static void flows_reset(stat_tap_table *t)
{
    if (strcmp(t->title, TOTAL_TABLE) == 0) {
        reset_total(t);
        return;
    }
    clear_rows(t);
    state_start();
}

static void add_figures(flow_figures *f, const tcpwm_result *res)
{
    if (res->retx != TCPWM_RETX_NONE && res->retx <= TCPWM_RETX_KINDS)
        f->retx[res->retx - 1]++;
    if (res->reordered)
        f->reordered++;
    if (res->dup_ack)
        f->dup_ack++;
    if (res->ack_rtt_ns >= 0) {
        if (f->rtt.lo == NULL || res->ack_rtt_ns > f->rtt_max)
            f->rtt_max = res->ack_rtt_ns;
        median_add(&f->rtt, res->ack_rtt_ns);
    }
}

static tap_packet_status flows_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_,
                                      const void *data, tap_flags_t flags _U_)
{
    stat_data_t *sd = (stat_data_t *)tapdata;
    const tcpwm_tap_frame *fr = (const tcpwm_tap_frame *)data;
    const tcpwm_flow_view *v;
    stat_tap_table *flows, *total;
    tcpwm_result res;
    flow_rec *rec;
    flow_key k;

    if (fr == NULL || sd->stat_tap_data->tables == NULL || sd->stat_tap_data->tables->len < 2)
        return TAP_PACKET_DONT_REDRAW;
    if (!g_fl.started)
        state_start(); /* after a cleanup without a new init: a fresh start */
    if (g_fl.m == NULL)
        return TAP_PACKET_DONT_REDRAW;
    tcpwm_monitor_frame(g_fl.m, fr->data, fr->caplen, fr->wirelen, fr->dlt, fr->ts_ns, &res);
    if (!res.analyzed || res.flow == NULL)
        return TAP_PACKET_DONT_REDRAW;
    v = res.flow;
    flows = stat_tap_find_table(sd->stat_tap_data, FLOWS_TABLE);
    total = stat_tap_find_table(sd->stat_tap_data, TOTAL_TABLE);
    if (flows == NULL || total == NULL)
        return TAP_PACKET_DONT_REDRAW;

    key_of(&k, v);
    rec = (flow_rec *)g_hash_table_lookup(g_fl.live, &k);
    if (rec == NULL) {
        char text[FLOWTEXT_MAX];

        rec = g_new0(flow_rec, 1);
        rec->row = flows->num_elements;
        rec->fig.first_frame = pinfo->num;
        g_ptr_array_add(g_fl.recs, rec);
        g_hash_table_insert(g_fl.live, g_memdup2(&k, sizeof k), rec);
        flowtext_format(text, v, 0);
        new_row(flows, rec->row, text);
        if (g_fl.flows++ == 0)
            g_fl.total.first_frame = pinfo->num;
        set_total_label(total, g_fl.flows);
    }
    /* The totals: the flows' own running totals move by what this packet
     * added to its flow's (taken from the row before it is refilled). */
    g_fl.sum.packets += v->stats.packets - cell(flows, rec->row, COL_PACKETS);
    g_fl.sum.missing += v->stats.missing - cell(flows, rec->row, COL_MISSING);
    g_fl.sum.duplicate += v->stats.duplicate - cell(flows, rec->row, COL_DUPLICATE);
    g_fl.sum.out_of_order += v->stats.out_of_order - cell(flows, rec->row, COL_OUT_OF_ORDER);
    g_fl.sum.capture_gap += v->stats.capture_gap - cell(flows, rec->row, COL_CAPTURE_GAP);
    g_fl.sum.zero_window += v->stats.zero_window - cell(flows, rec->row, COL_ZERO_WINDOW);
    if (v->stats.has_window && (!g_fl.has_window || v->stats.min_window < g_fl.min_window)) {
        g_fl.min_window = v->stats.min_window;
        g_fl.has_window = true;
    }
    add_figures(&rec->fig, &res);
    add_figures(&g_fl.total, &res);
    fill_row(flows, rec->row, &rec->fig, &v->stats, v->stats.min_window, v->stats.has_window);
    fill_row(total, 0, &g_fl.total, &g_fl.sum, g_fl.min_window, g_fl.has_window);
    return TAP_PACKET_REDRAW;
}

static void flows_cleanup(void)
{
    state_free();
}

void tcpwm_register_flows_table(void)
{
    static tap_param filter_param[] = {{PARAM_FILTER, "filter", "Filter", NULL, TRUE}};
    static stat_tap_table_ui ui = {
        /* The Statistics menu's list of single dialogs (beside "ONC-RPC
         * Programs"); Wireshark 4.0 puts no GENERIC entry in any menu. */
        .group = REGISTER_PACKET_STAT_GROUP_UNSORTED,
        .title = "TCP Window Monitor",
        .tap_name = "tcpwm",
        .cli_string = "tcpwm,flows",
        .stat_tap_init_cb = flows_init,
        .packet_func = flows_packet,
        .stat_tap_reset_table_cb = flows_reset,
        .stat_tap_free_table_item_cb = free_item,
        .nfields = NCOLS,
        .fields = flow_fields,
        .nparams = G_N_ELEMENTS(filter_param),
        .params = filter_param,
    };

    register_stat_tap_table_ui(&ui);
    register_cleanup_routine(flows_cleanup);
}
