/* SPDX-License-Identifier: MIT */
#include "verbose.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "flowtext.h"

#define NS_PER_S 1000000000LL

/* Events that get a line. Connection open/close and unknown scale are
 * left out: they happen on nearly every flow and would drown the rest. */
#define LOSS_EVENTS                                                                                \
    (TCPWM_EV_MISSING | TCPWM_EV_DUPLICATE | TCPWM_EV_OUT_OF_ORDER | TCPWM_EV_KEEPALIVE |          \
     TCPWM_EV_ZERO_WINDOW_PROBE | TCPWM_EV_CAPTURE_GAP | TCPWM_EV_HOLE_FORGOTTEN)
#define WINDOW_EVENTS (TCPWM_EV_WINDOW_SHRINK | TCPWM_EV_RIGHT_EDGE_RETREAT | TCPWM_EV_ZERO_WINDOW)

void verbose_time(char out[VERBOSE_TIME_MAX], int64_t ts_ns)
{
    /* Floor division, so that times before 1970 still print sensibly. */
    int64_t sec = ts_ns / NS_PER_S, ns = ts_ns % NS_PER_S;
    struct tm tm;
    time_t t;

    if (ns < 0) {
        ns += NS_PER_S;
        sec -= 1;
    }
    t = (time_t)sec;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, VERBOSE_TIME_MAX, "%" PRId64 ".%09" PRId64, sec, ns);
        return;
    }
    snprintf(out, VERBOSE_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
}

/* Wireshark's verdicts (docs/semantics.md 7) get a line too; an ACK RTT
 * alone does not (nearly every ACK has one), it rides on lines printed
 * for something else. */
static bool wireshark_event(const tcpwm_result *r)
{
    return r->dup_ack || r->reordered || r->dsack || r->retx != TCPWM_RETX_NONE;
}

bool verbose_wants(const tcpwm_result *r)
{
    return r->analyzed && r->flow != NULL &&
           ((r->events & (LOSS_EVENTS | WINDOW_EVENTS)) != 0 || wireshark_event(r));
}

/* Seconds with nanoseconds: "0.000123456s". */
static void seconds(char *out, size_t n, int64_t ns)
{
    const char *sign = "";
    uint64_t mag;

    if (ns < 0) {
        sign = "-";
        mag = (uint64_t)0 - (uint64_t)ns;
    } else {
        mag = (uint64_t)ns;
    }
    snprintf(out, n, "%s%" PRIu64 ".%09" PRIu64 "s", sign, mag / (uint64_t)NS_PER_S,
             mag % (uint64_t)NS_PER_S);
}

void verbose_event(FILE *f, int64_t ts_ns, const tcpwm_result *r)
{
    char line[640], when[VERBOSE_TIME_MAX], flow[FLOWTEXT_MAX], fill[32];
    size_t at = 0;
    uint32_t ev = r->events;

    verbose_time(when, ts_ns);
    flowtext_format(flow, r->flow, r->dir);

    /* Every piece below is short and bounded, and line has room for all of
     * them (about 400 bytes at most); the guard only keeps that promise. */
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (at < sizeof line)                                                                      \
            at += (size_t)snprintf(line + at, sizeof line - at, __VA_ARGS__);                      \
    } while (0)
    ADD("%s %s", when, flow);
    if (ev & TCPWM_EV_MISSING)
        ADD(" missing gap=%" PRIu32, r->gap_bytes);
    if (ev & TCPWM_EV_DUPLICATE)
        ADD(" duplicate");
    if (ev & TCPWM_EV_OUT_OF_ORDER) {
        seconds(fill, sizeof fill, r->fill_ns);
        ADD(" out_of_order fill=%s holes=%" PRIu32, fill, r->holes_filled);
    }
    if (ev & TCPWM_EV_KEEPALIVE)
        ADD(" keepalive");
    if (ev & TCPWM_EV_ZERO_WINDOW_PROBE)
        ADD(" zero_window_probe");
    if (ev & TCPWM_EV_CAPTURE_GAP)
        ADD(" capture_gap holes=%" PRIu32, r->capture_gaps);
    if (ev & TCPWM_EV_HOLE_FORGOTTEN)
        ADD(" hole_forgotten");
    if (ev & TCPWM_EV_WINDOW_SHRINK)
        ADD(" window_shrink");
    if (ev & TCPWM_EV_RIGHT_EDGE_RETREAT)
        ADD(" right_edge_retreat");
    if (ev & TCPWM_EV_ZERO_WINDOW)
        ADD(" zero_window");
    if ((ev & WINDOW_EVENTS) && r->window_analyzed) {
        /* The first window of a direction has nothing to compare with. */
        if (r->window_prev)
            ADD(" window=%" PRIu32 " was=%" PRId64, r->window,
                (int64_t)r->window - r->window_delta);
        else
            ADD(" window=%" PRIu32 " was=-", r->window);
        if (r->scale_known)
            ADD(" scale=%u", (unsigned)r->scale);
        else
            ADD(" scale=?");
    }
    if (r->retx != TCPWM_RETX_NONE) {
        /* With the flow's running figures (issue 10: -v gains them), this
         * one included: what --top would show for the flow so far. */
        const char *kind = tcpwm_retx_label(r->retx);
        const tcpwm_flow_stats *fs = &r->flow->stats;
        ADD(" retransmission=%s flow_retransmissions=fast:%" PRIu32 ",spurious:%" PRIu32
            ",other:%" PRIu32,
            kind ? kind : "?", fs->retx_fast, fs->retx_spurious, fs->retx_other);
        if (fs->ack_rtt_max_ns >= 0) {
            char med[32];
            seconds(med, sizeof med, fs->ack_rtt_median_ns);
            seconds(fill, sizeof fill, fs->ack_rtt_max_ns);
            ADD(" flow_ack_rtt=median:%s,max:%s", med, fill);
        }
    }
    if (r->reordered)
        ADD(" reordered");
    if (r->dup_ack)
        ADD(" dup_ack");
    if (r->dsack)
        ADD(" dsack");
    if (r->ack_rtt_ns >= 0) {
        seconds(fill, sizeof fill, r->ack_rtt_ns);
        ADD(" ack_rtt=%s", fill);
    }
    if (r->handshake_rtt_ns >= 0) {
        seconds(fill, sizeof fill, r->handshake_rtt_ns);
        ADD(" handshake_rtt=%s", fill);
    }
#undef ADD
    fputs(line, f);
    fputc('\n', f);
}
