/* SPDX-License-Identifier: MIT */
#include "flowjson.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/socket.h>

#include "flowtext.h"
#include "top.h"
#include "verbose.h"

#define NS_PER_S INT64_C(1000000000)

/* A JSON string (RFC 8259 section 7). What we write is ASCII we made
 * ourselves (addresses, the flow text), but a quote, a backslash or a
 * control byte would still come out as valid JSON. */
static int str(tcpwm_buf *b, const char *s)
{
    int rc = tcpwm_buf_adds(b, "\"");

    for (; rc == 0 && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            rc = tcpwm_buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            rc = tcpwm_buf_printf(b, "\\u%04x", c);
        else
            rc = tcpwm_buf_add(b, s, 1);
    }
    return rc == 0 ? tcpwm_buf_adds(b, "\"") : rc;
}

static int addr(tcpwm_buf *b, int family, const uint8_t *a)
{
    char s[INET6_ADDRSTRLEN];

    if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, s, sizeof s) == NULL)
        snprintf(s, sizeof s, "?");
    return str(b, s);
}

/* A capture time as RFC 3339 UTC with nanoseconds, as -v prints it. */
static int when(tcpwm_buf *b, int64_t ns)
{
    char s[VERBOSE_TIME_MAX];

    verbose_time(s, ns);
    return str(b, s);
}

/* A span of capture time in seconds, exact to the nanosecond: written
 * from the integer, so the same flows give the same bytes. Never
 * negative: a flow is not younger than the snapshot. */
static int seconds(tcpwm_buf *b, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    return tcpwm_buf_printf(b, "%" PRId64 ".%09" PRId64, ns / NS_PER_S, ns % NS_PER_S);
}

int flowjson_begin(tcpwm_buf *b, const flowjson_head *h)
{
    int rc = tcpwm_buf_adds(b, "{\"format\":\"" FLOWJSON_FORMAT "\",\"version\":");

    if (rc == 0)
        rc = str(b, TCPWM_VERSION);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"source\":");
    if (rc == 0)
        rc = str(b, h->source);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"time\":");
    if (rc == 0)
        rc = when(b, h->time_ns);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"order\":");
    if (rc == 0)
        rc = str(b, h->order);
    if (rc == 0 && h->top > 0)
        rc = tcpwm_buf_printf(b, ",\"top\":%" PRIu32, h->top);
    else if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"top\":null");
    if (rc == 0)
        rc = tcpwm_buf_printf(
            b, ",\"flows_in_table\":%" PRIu64 ",\"flows_left\":%" PRIu64 ",\"flows\":[",
            h->flows_in_table, h->flows_left);
    return rc;
}

/* The outer IP header of a tunnel: its two addresses, lower first (the
 * context's canonical order, not the direction). */
static int outer(tcpwm_buf *b, const tcpwm_encap_item *it)
{
    int rc = tcpwm_buf_printf(b, ",\"outer\":{\"family\":%u,\"addresses\":[", (unsigned)it->family);

    if (rc == 0)
        rc = addr(b, it->family, it->addr[0]);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",");
    if (rc == 0)
        rc = addr(b, it->family, it->addr[1]);
    return rc == 0 ? tcpwm_buf_adds(b, "]}") : rc;
}

/* The encapsulation, outermost first, one object per layer, grouped as
 * flowtext.c groups them for --top and -v: an outer IP header and the
 * GRE, VXLAN or Geneve header after it are one layer named by the
 * tunnel; consecutive MPLS labels are one layer. */
static int encapsulation(tcpwm_buf *b, const tcpwm_flow_view *v)
{
    tcpwm_encap_item it, next;
    size_t off = 0;
    bool open = false; /* a layer's object is not closed yet */
    bool mpls = false; /* ... and it is an MPLS label list */
    bool first = true;
    int rc = tcpwm_buf_adds(b, "[");

    while (rc == 0 && tcpwm_encap_next(v->encap, v->encap_len, &off, &it)) {
        /* What continues the open layer: the tunnel header after its
         * outer IP header, or the next MPLS label. */
        bool cont = open && (mpls ? it.type == TCPWM_EI_MPLS
                                  : it.type == TCPWM_EI_GRE || it.type == TCPWM_EI_VXLAN ||
                                        it.type == TCPWM_EI_GENEVE);
        if (open && !cont) {
            rc = tcpwm_buf_adds(b, mpls ? "]}" : "}");
            open = mpls = false;
        }
        if (rc == 0 && !cont) {
            rc = tcpwm_buf_adds(b, first ? "{\"type\":" : ",{\"type\":");
            first = false;
        }
        if (rc != 0)
            break;
        switch (it.type) {
        case TCPWM_EI_IP: {
            size_t peek = off;
            bool more = tcpwm_encap_next(v->encap, v->encap_len, &peek, &next);
            const char *kind = it.proto == 47 ? "gre" : it.proto == 17 ? "udp" : "ipip";

            if (it.proto == 17 && more)
                kind = next.type == TCPWM_EI_VXLAN ? "vxlan" : "geneve";
            rc = str(b, kind);
            if (rc == 0)
                rc = outer(b, &it);
            /* IP in IP is whole with its outer header; the others wait
             * for their tunnel header. */
            open = it.proto != 4 && it.proto != 41;
            if (rc == 0 && !open)
                rc = tcpwm_buf_adds(b, "}");
            break;
        }
        case TCPWM_EI_GRE:
            rc = cont ? 0 : str(b, "gre");
            if (rc == 0 && it.has_key)
                rc = tcpwm_buf_printf(b, ",\"key\":%" PRIu32, it.id);
            if (rc == 0)
                rc = tcpwm_buf_adds(b, "}");
            open = false;
            break;
        case TCPWM_EI_VXLAN:
        case TCPWM_EI_GENEVE:
            rc = cont ? 0 : str(b, it.type == TCPWM_EI_VXLAN ? "vxlan" : "geneve");
            if (rc == 0)
                rc = tcpwm_buf_printf(b, ",\"vni\":%" PRIu32 "}", it.id);
            open = false;
            break;
        case TCPWM_EI_ERSPAN:
            /* version 0, 1, 2: ERSPAN type I, II, III; type I has no
             * session ID. */
            rc = tcpwm_buf_printf(b, "\"erspan\",\"erspan_type\":%u", it.version + 1u);
            if (rc == 0 && it.version > 0)
                rc = tcpwm_buf_printf(b, ",\"session\":%" PRIu32, it.id);
            if (rc == 0)
                rc = tcpwm_buf_adds(b, "}");
            break;
        case TCPWM_EI_MPLS:
            rc = cont ? tcpwm_buf_printf(b, ",%" PRIu32, it.id)
                      : tcpwm_buf_printf(b, "\"mpls\",\"labels\":[%" PRIu32, it.id);
            open = mpls = true;
            break;
        case TCPWM_EI_VLAN:
            rc = tcpwm_buf_printf(b, "\"vlan\",\"id\":%" PRIu32 "}", it.id);
            break;
        }
    }
    if (rc == 0 && open)
        rc = tcpwm_buf_adds(b, mpls ? "]}" : "}");
    return rc == 0 ? tcpwm_buf_adds(b, "]") : rc;
}

static int endpoints(tcpwm_buf *b, const tcpwm_flow_view *v)
{
    int rc = tcpwm_buf_adds(b, "\"endpoints\":[");

    for (unsigned i = 0; rc == 0 && i < 2; i++) {
        rc = tcpwm_buf_adds(b, i == 0 ? "{\"address\":" : ",{\"address\":");
        if (rc == 0)
            rc = addr(b, v->family, v->addr[i]);
        if (rc == 0)
            rc = tcpwm_buf_printf(b, ",\"port\":%u}", (unsigned)v->port[i]);
    }
    if (rc == 0)
        rc = tcpwm_buf_adds(b, "],\"vlans\":[");
    for (unsigned i = 0; rc == 0 && i < v->vlan_count && i < 2; i++)
        rc = tcpwm_buf_printf(b, i == 0 ? "%u" : ",%u", (unsigned)v->vlan[i]);
    return rc == 0 ? tcpwm_buf_adds(b, "]") : rc;
}

/* Every counter of tcpwm_flow_stats, by the name of its metric's event;
 * a counter the core adds is one more line here and in the schema. The
 * retransmissions are an object of their own, by kind, as their metric
 * is labelled (retransmissions below). */
static int counters(tcpwm_buf *b, const tcpwm_flow_stats *s)
{
    return tcpwm_buf_printf(b,
                            "\"counters\":{\"missing\":%" PRIu32 ",\"duplicate\":%" PRIu32
                            ",\"out_of_order\":%" PRIu32 ",\"capture_gap\":%" PRIu32
                            ",\"window_shrink\":%" PRIu32 ",\"right_edge_retreat\":%" PRIu32
                            ",\"zero_window\":%" PRIu32 "}",
                            s->missing, s->duplicate, s->out_of_order, s->capture_gap,
                            s->window_shrink, s->right_edge_retreat, s->zero_window);
}

/* Wireshark's retransmission kinds (docs/semantics.md 7, rule 3), named
 * as tcp_monitor_retransmissions_total's kind label. */
static int retransmissions(tcpwm_buf *b, const tcpwm_flow_stats *s)
{
    return tcpwm_buf_printf(b,
                            ",\"retransmissions\":{\"fast\":%" PRIu32 ",\"spurious\":%" PRIu32
                            ",\"other\":%" PRIu32 "}",
                            s->retx_fast, s->retx_spurious, s->retx_other);
}

/* The flow's ACK RTT (docs/semantics.md 7, rule 6), only once it has a
 * sample: the median is an estimate, the maximum kept to 1/1024 of its
 * value (monitor.h); both written from the integer, as the ages. */
static int ack_rtt(tcpwm_buf *b, const tcpwm_flow_stats *s)
{
    int rc;

    if (s->ack_rtt_median_ns < 0 || s->ack_rtt_max_ns < 0)
        return 0;
    rc = tcpwm_buf_adds(b, ",\"ack_rtt\":{\"median_seconds\":");
    if (rc == 0)
        rc = seconds(b, s->ack_rtt_median_ns);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"max_seconds\":");
    if (rc == 0)
        rc = seconds(b, s->ack_rtt_max_ns);
    return rc == 0 ? tcpwm_buf_adds(b, "}") : rc;
}

int flowjson_flow(tcpwm_buf *b, const tcpwm_flow_view *v, int64_t time_ns, bool first)
{
    const tcpwm_flow_stats *s = &v->stats;
    char text[FLOWTEXT_MAX];
    int rc = tcpwm_buf_printf(b, "%s\n{\"family\":%u,", first ? "" : ",", (unsigned)v->family);

    if (rc == 0)
        rc = endpoints(b, v);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"encapsulation\":");
    if (rc == 0)
        rc = encapsulation(b, v);
    flowtext_format(text, v, 0);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"text\":");
    if (rc == 0)
        rc = str(b, text);
    /* --service-ports: the flow's port label, as the metrics carry it. */
    if (rc == 0 && v->service_port >= 0)
        rc = tcpwm_buf_printf(b, ",\"service_port\":\"%d\"", (int)v->service_port);
    else if (rc == 0 && v->service_port == TCPWM_SERVICE_OTHER)
        rc = tcpwm_buf_adds(b, ",\"service_port\":\"other\"");
    if (rc == 0)
        rc = tcpwm_buf_printf(b, ",\"closed\":%s,\"first_seen\":", v->closed ? "true" : "false");
    if (rc == 0)
        rc = when(b, v->first_ns);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"last_seen\":");
    if (rc == 0)
        rc = when(b, v->last_ns);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"age_seconds\":");
    if (rc == 0)
        rc = seconds(b, time_ns - v->first_ns);
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"idle_seconds\":");
    if (rc == 0)
        rc = seconds(b, time_ns - v->last_ns);
    if (rc == 0)
        rc = tcpwm_buf_printf(
            b, ",\"packets\":%" PRIu32 ",\"bytes\":%" PRIu64 ",\"loss_events\":%" PRIu64 ",",
            s->packets, s->bytes, top_loss_events(s));
    if (rc == 0)
        rc = counters(b, s);
    if (rc == 0)
        rc = retransmissions(b, s);
    if (rc == 0)
        rc = ack_rtt(b, s);
    if (rc == 0 && s->has_window)
        rc = tcpwm_buf_printf(b, ",\"min_window_bytes\":%" PRIu32, s->min_window);
    else if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"min_window_bytes\":null");
    if (rc == 0)
        rc = tcpwm_buf_adds(b, ",\"current_window_bytes\":[");
    for (unsigned i = 0; rc == 0 && i < 2; i++) {
        if (v->window[i] >= 0)
            rc = tcpwm_buf_printf(b, "%s%" PRId64, i ? "," : "", v->window[i]);
        else
            rc = tcpwm_buf_adds(b, i ? ",null" : "null");
    }
    if (rc == 0)
        rc = tcpwm_buf_adds(b, "]}");
    return rc;
}

int flowjson_end(tcpwm_buf *b)
{
    return tcpwm_buf_adds(b, "\n]}\n");
}
