/* SPDX-License-Identifier: MIT */
/* Exposition writers: Prometheus text format 0.0.4 and OpenMetrics 1.0.0.
 *
 * Both formats come out of one table of families so that they cannot
 * drift apart. Differences, per format:
 *
 *                     Prometheus text 0.0.4        OpenMetrics 1.0.0
 *   metadata          # HELP, # TYPE               # TYPE, # UNIT, # HELP (spec order)
 *   counter family    full sample name (x_total)   name without _total
 *   info family       gauge x_info                 info x, sample x_info
 *   HELP escapes      \ and newline                \ " and newline
 *   floats            shortest round-trip          same, integral ones get ".0"
 *   timestamps        integer milliseconds         seconds, exact from ns
 *   histogram group   buckets, _sum, _count        buckets, _count, _sum
 *   end               nothing                      # EOF
 *
 * The histogram group orders follow each format's reference: the Go
 * client's text writer for 0.0.4, the OpenMetrics 1.0 spec's examples for
 * OpenMetrics (Prometheus' parser accepts either).
 *
 * Errors are sticky inside one call: the first failed append stops all
 * output, and the buffer is cut back to where the call started, so a
 * caller never sees half a line. */
#include "tcpwm/expo.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwm/buf.h"
#include "tcpwm/decode.h"
#include "tcpwm/err.h"
#include "tcpwm/metrics.h"

const char *tcpwm_expo_content_type(tcpwm_format f)
{
    if (f == TCPWM_FMT_OPENMETRICS)
        return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    /* Prometheus text is also what a scraper gets when it asks for nothing
     * in particular, so it is the answer for anything unknown too. */
    return "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- Canonical floats ------------------------------------------------- */

/* The OpenMetrics spec ("Canonical Numbers") makes the target rendering of
 * `le` values Go's %g: the shortest digits that read back to the same
 * double, in exponent form when the decimal exponent is below -4 or at
 * least 6 (strconv.FormatFloat(v, 'g', -1, 64)). Prometheus 3 normalizes
 * `le` to exactly this on ingestion, so emitting it means the stored label
 * value is the one printed here, whichever Prometheus reads it.
 *
 * C has no shortest-float printer, so: find the fewest significant digits
 * p for which "%.*e" reads back equal (with glibc's correctly rounded
 * printf and strtod that is the shortest, except possibly for rare values
 * next to a power of two, where the rounding interval is lopsided and one
 * more digit may appear), take its digits and exponent, and lay them out
 * ourselves. snprintf and strtod share the current locale, so the
 * round trip is consistent whatever the decimal point is; the digits are
 * then read without caring which separator was printed, and the output
 * always uses '.', whatever setlocale() was called with. */
#define TCPWM__EXP_FORM_MIN (-4)
#define TCPWM__EXP_FORM_MAX 6

void tcpwm_expo_float(char out[40], double v, tcpwm_format f)
{
    bool om = f == TCPWM_FMT_OPENMETRICS;
    if (isnan(v)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) { /* also -0.0, as Go's writers do */
        strcpy(out, om ? "0.0" : "0");
        return;
    }

    char tmp[64];
    for (int p = 0; p <= 16; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p, v);
        if (strtod(tmp, NULL) == v)
            break;
    }

    /* tmp is [-]d[<sep>ddd]e<sign>dd. Collect the digits and the exponent. */
    char dig[24];
    size_t nd = 0;
    const char *s = tmp;
    bool neg = *s == '-';
    if (neg)
        s++;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s >= '0' && *s <= '9' && nd < sizeof dig)
            dig[nd++] = *s;
    }
    int exp = *s ? atoi(s + 1) : 0;
    while (nd > 1 && dig[nd - 1] == '0') /* 1.50e+00 -> 1.5 */
        nd--;

    char *o = out;
    if (neg)
        *o++ = '-';
    if (exp < TCPWM__EXP_FORM_MIN || exp >= TCPWM__EXP_FORM_MAX) {
        /* d[.ddd]e<sign><at least two digits>, as C and Go both print. */
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, nd - 1);
            o += nd - 1;
        }
        /* A double's decimal exponent is within -324..308: 2 or 3 digits. */
        int ae = exp < 0 ? -exp : exp;
        *o++ = 'e';
        *o++ = exp < 0 ? '-' : '+';
        if (ae >= 100)
            *o++ = (char)('0' + ae / 100 % 10);
        *o++ = (char)('0' + ae / 10 % 10);
        *o++ = (char)('0' + ae % 10);
    } else if (exp < 0) {
        /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int i = -1; i > exp; i--)
            *o++ = '0';
        memcpy(o, dig, nd);
        o += nd;
    } else {
        /* ddd[.ddd], padding with zeros when the digits end before the point */
        size_t ip = (size_t)exp + 1;
        for (size_t i = 0; i < ip; i++)
            *o++ = i < nd ? dig[i] : '0';
        if (nd > ip) {
            *o++ = '.';
            memcpy(o, dig + ip, nd - ip);
            o += nd - ip;
        } else if (om) {
            /* OpenMetrics: a float must show it is one (the Go client's
             * writeOpenMetricsFloat does the same). */
            *o++ = '.';
            *o++ = '0';
        }
    }
    *o = '\0';
}

/* ---- The writer: a buffer, a format and a sticky error ------------------ */

typedef struct writer {
    tcpwm_buf *b;
    tcpwm_format f;
    size_t start; /* where this call began; restored on failure */
    int rc;       /* first failure; once set, nothing more is written */
} writer;

static int w_begin(writer *w, tcpwm_buf *b, tcpwm_format f)
{
    w->b = b;
    w->f = f;
    w->rc = 0;
    if (!b || (f != TCPWM_FMT_PROMETHEUS && f != TCPWM_FMT_OPENMETRICS))
        return TCPWM_EINVAL;
    w->start = b->len;
    return 0;
}

static int w_end(writer *w)
{
    if (w->rc && w->b->len > w->start) {
        w->b->len = w->start;
        w->b->data[w->start] = '\0';
    }
    return w->rc;
}

static void put_n(writer *w, const char *s, size_t n)
{
    if (!w->rc)
        w->rc = tcpwm_buf_add(w->b, s, n);
}

static void put(writer *w, const char *s)
{
    put_n(w, s, strlen(s));
}

static void put_u64(writer *w, uint64_t v)
{
    /* By hand rather than with printf: no PRIu64 format juggling, and
     * integers never meet the locale. */
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_n(w, tmp + i, sizeof tmp - i);
}

static void put_float(writer *w, double v)
{
    char tmp[40];
    tcpwm_expo_float(tmp, v, w->f);
    put(w, tmp);
}

/* Escape per the format: label values always escape \ " and newline;
 * HELP text escapes \ and newline in Prometheus text, and also " in
 * OpenMetrics (whose HELP is the same escaped-string as label values). */
static void put_escaped(writer *w, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (*s == '"' && quote)
            rep = "\\\"";
        if (rep) {
            put_n(w, run, (size_t)(s - run));
            put(w, rep);
            run = s + 1;
        }
    }
    put_n(w, run, (size_t)(s - run));
}

/* A sample's timestamp, with its leading space. */
static void put_ts(writer *w, int64_t ns)
{
    char tmp[40];
    if (w->f == TCPWM_FMT_OPENMETRICS) {
        /* Seconds, exact: integer seconds and up to nine fraction digits,
         * trailing zeros trimmed. A float would lose the nanoseconds.
         * Negative times print as the negated magnitude (-1.5, not -2+0.5);
         * the magnitude is taken in unsigned so INT64_MIN works too. */
        bool neg = ns < 0;
        uint64_t mag = neg ? (uint64_t)(-(ns + 1)) + 1u : (uint64_t)ns;
        uint64_t sec = mag / 1000000000u;
        unsigned frac = (unsigned)(mag % 1000000000u);
        put(w, neg ? " -" : " ");
        put_u64(w, sec);
        if (frac) {
            snprintf(tmp, sizeof tmp, ".%09u", frac);
            size_t n = strlen(tmp);
            while (tmp[n - 1] == '0')
                n--;
            put_n(w, tmp, n);
        }
    } else {
        /* Integer milliseconds, rounded down (toward the past), also for
         * times before 1970. */
        int64_t ms = ns / 1000000;
        if (ns % 1000000 < 0)
            ms--;
        snprintf(tmp, sizeof tmp, " %lld", (long long)ms);
        put(w, tmp);
    }
}

/* ---- Names ---------------------------------------------------------------*/

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || (colon && c == ':');
        if (!ok)
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* Type word, and the suffix a sample of that type carries. */
static const char *type_word(writer *w, tcpwm_mtype t)
{
    switch (t) {
    case TCPWM_MT_COUNTER:
        return "counter";
    case TCPWM_MT_INFO:
        return w->f == TCPWM_FMT_OPENMETRICS ? "info" : "gauge";
    case TCPWM_MT_GAUGE:
    default:
        return "gauge";
    }
}

static const char *sample_suffix(tcpwm_mtype t)
{
    return t == TCPWM_MT_COUNTER ? "_total" : t == TCPWM_MT_INFO ? "_info" : "";
}

/* Metadata of one family. `name` is the family name without the sample
 * suffix; `type` the word for TYPE; `suffix` is added to the name in
 * Prometheus text, where metadata names the samples, not the family. */
static void put_meta(writer *w, const char *name, const char *suffix, const char *type,
                     const char *help, bool info)
{
    if (w->f == TCPWM_FMT_OPENMETRICS) {
        put(w, "# TYPE ");
        put(w, name);
        put(w, " ");
        put(w, type);
        put(w, "\n");
        /* A unit must be the name's suffix; these are the base units we
         * use. Info families must not have one. */
        const char *unit = NULL;
        if (!info && ends_with(name, "_bytes"))
            unit = "bytes";
        else if (!info && ends_with(name, "_seconds"))
            unit = "seconds";
        if (unit) {
            put(w, "# UNIT ");
            put(w, name);
            put(w, " ");
            put(w, unit);
            put(w, "\n");
        }
        if (help) {
            put(w, "# HELP ");
            put(w, name);
            put(w, " ");
            put_escaped(w, help, true);
            put(w, "\n");
        }
    } else {
        if (help) {
            put(w, "# HELP ");
            put(w, name);
            put(w, suffix);
            put(w, " ");
            put_escaped(w, help, false);
            put(w, "\n");
        }
        put(w, "# TYPE ");
        put(w, name);
        put(w, suffix);
        put(w, " ");
        put(w, type);
        put(w, "\n");
    }
}

/* `name suffix{k="v",...,le="x"}` up to the value. le is already canonical. */
static void put_series(writer *w, const char *name, const char *suffix, const char *const *labels,
                       size_t n_labels, const char *le)
{
    put(w, name);
    put(w, suffix);
    if (n_labels == 0 && !le)
        return;
    char sep = '{';
    for (size_t i = 0; i < n_labels; i++) {
        put_n(w, &sep, 1);
        put(w, labels[2 * i]);
        put(w, "=\"");
        put_escaped(w, labels[2 * i + 1], true);
        put(w, "\"");
        sep = ',';
    }
    if (le) {
        put_n(w, &sep, 1);
        put(w, "le=\"");
        put(w, le);
        put(w, "\"");
    }
    put(w, "}");
}

static void put_end(writer *w, const int64_t *ts)
{
    if (ts)
        put_ts(w, *ts);
    put(w, "\n");
}

/* ---- The core's families ------------------------------------------------ */

typedef enum fam_kind {
    FK_COUNTER,
    FK_GAUGE,
    FK_EVICT,  /* counter{reason} over TCPWM_EVICT_MAP */
    FK_DECODE, /* counter{reason} over TCPWM_DECODE_ERROR_MAP */
    FK_ENCAP,  /* counter{encap} over TCPWM_ENCAP_MAP */
    FK_FRAG,   /* counter{outcome} over TCPWM_FRAG_OUTCOME_MAP */
    FK_FRAG_IGNORED, /* counter{reason} over TCPWM_FRAG_IGNORED_MAP */
    FK_GAP,    /* histogram */
    FK_FILL,   /* histogram */
    FK_RETX,   /* counter{kind} over fast, spurious, other */
    FK_RTT,    /* histogram of a tcpwm_hist_rtt */
} fam_kind;

typedef struct family {
    const char *name; /* without the _total of counters */
    fam_kind kind;
    size_t off; /* offset of the uint64_t value in tcpwm_metrics */
    const char *help;
    bool per_flow; /* counts events of flows: gets the port label (semantics 8) */
} family;

/* Families of per-flow fields (tcpwm/metrics.h), and the others: the
 * whole capture's, or the monitor's own limits. */
#define PER_FLOW true
#define WHOLE false

#define TCPWM__OFF(field) offsetof(tcpwm_metrics, field)

/* The exposition order is this table's order; it is part of the output
 * format (tests and the plugin compare documents byte for byte). */
static const family families[] = {
    {"tcp_monitor_packets", FK_COUNTER, TCPWM__OFF(packets),
     "Frames read from the capture, TCP or not.", WHOLE},
    {"tcp_monitor_tcp_packets", FK_COUNTER, TCPWM__OFF(tcp_packets),
     "Frames that decoded to a TCP segment.", WHOLE},
    {"tcp_monitor_global_tcp_packets", FK_COUNTER, TCPWM__OFF(global_tcp_packets),
     "TCP segments between two global unicast addresses.", WHOLE},
    {"tcp_monitor_packet_loss_missing", FK_COUNTER, TCPWM__OFF(missing),
     "Segments that skipped sequence space the capture never showed (a hole opened).", PER_FLOW},
    {"tcp_monitor_packet_loss_duplicate", FK_COUNTER, TCPWM__OFF(duplicate),
     "Segments carrying data the capture had already seen.", PER_FLOW},
    {"tcp_monitor_packet_loss_out_of_order", FK_COUNTER, TCPWM__OFF(out_of_order),
     "Segments that filled (part of) an open sequence hole.", PER_FLOW},
    {"tcp_monitor_capture_gap", FK_COUNTER, TCPWM__OFF(capture_gap),
     "Sequence holes the receiver acknowledged but the capture never showed.", PER_FLOW},
    {"tcp_monitor_keepalive", FK_COUNTER, TCPWM__OFF(keepalive), "TCP keep-alive segments.", PER_FLOW},
    {"tcp_monitor_zero_window_probe", FK_COUNTER, TCPWM__OFF(zero_window_probe),
     "TCP zero-window probes.", PER_FLOW},
    {"tcp_monitor_zero_window", FK_COUNTER, TCPWM__OFF(zero_window),
     "Segments advertising a zero receive window.", PER_FLOW},
    {"tcp_monitor_window_shrink", FK_COUNTER, TCPWM__OFF(window_shrink),
     "Segments whose scaled window was smaller than the previous one in the same direction.", PER_FLOW},
    {"tcp_monitor_window_right_edge_retreat", FK_COUNTER, TCPWM__OFF(right_edge_retreat),
     "Segments that moved the right edge of the window (ack + window) left.", PER_FLOW},
    {"tcp_monitor_window_scale_unknown_packets", FK_COUNTER, TCPWM__OFF(scale_unknown),
     "Window-analyzed segments whose window scale was unknown (handshake not seen).", PER_FLOW},
    {"tcp_monitor_connections_opened", FK_COUNTER, TCPWM__OFF(conn_opened),
     "Connections opened (first packet seen, or a new SYN on a reused port).", PER_FLOW},
    {"tcp_monitor_connections_closed", FK_COUNTER, TCPWM__OFF(conn_closed),
     "Connections closed by a RST or by a FIN in both directions.", PER_FLOW},
    {"tcp_monitor_flows_evicted", FK_EVICT, TCPWM__OFF(evicted),
     "Open flows removed from the flow table before they closed, by reason.", WHOLE},
    {"tcp_monitor_holes_forgotten", FK_COUNTER, TCPWM__OFF(holes_forgotten),
     "Sequence holes dropped because their direction had too many open.", WHOLE},
    {"tcp_monitor_decode_errors", FK_DECODE, TCPWM__OFF(decode_errors),
     "Frames that should carry IP and TCP but could not be decoded, by reason.", WHOLE},
    {"tcp_monitor_tunneled_packets", FK_ENCAP, TCPWM__OFF(tunneled),
     "Frames decoded through each kind of encapsulation (tunnel or label stack), once per "
     "kind per frame.", WHOLE},
    {"tcp_monitor_fragments", FK_FRAG, TCPWM__OFF(fragments),
     "Fragmented TCP datagrams (IPv4, IPv6), counted once each when reassembly ends, by "
     "outcome.", WHOLE},
    {"tcp_monitor_fragments_ignored", FK_FRAG_IGNORED, TCPWM__OFF(fragments_ignored),
     "Fragments of TCP datagrams that reassembly ignored, by reason.", WHOLE},
    {"tcp_monitor_active_connections", FK_GAUGE, TCPWM__OFF(active_connections),
     "Connections in the flow table that are not closed.", WHOLE},
    {"tcp_monitor_current_window_size_bytes", FK_GAUGE, TCPWM__OFF(current_window),
     "Scaled receive window of the most recently analyzed segment.", WHOLE},
    {"tcp_monitor_packet_loss_gap_bytes", FK_GAP, TCPWM__OFF(gap),
     "Bytes of sequence space skipped by each missing event.", PER_FLOW},
    {"tcp_monitor_hole_fill_seconds", FK_FILL, TCPWM__OFF(fill),
     "Capture time from a sequence hole opening to its out-of-order fill.", PER_FLOW},
    {"tcp_monitor_duplicate_acks", FK_COUNTER, TCPWM__OFF(dup_ack),
     "Duplicate ACKs, as Wireshark's tcp.analysis.duplicate_ack.", PER_FLOW},
    {"tcp_monitor_retransmissions", FK_RETX, TCPWM__OFF(retransmissions),
     "Retransmitted segments by kind, as Wireshark's tcp.analysis.fast_retransmission, "
     "spurious_retransmission and the other tcp.analysis.retransmission.", PER_FLOW},
    {"tcp_monitor_reordered_segments", FK_COUNTER, TCPWM__OFF(reordered),
     "Segments arriving out of order, as Wireshark's tcp.analysis.out_of_order.", PER_FLOW},
    {"tcp_monitor_dsack", FK_COUNTER, TCPWM__OFF(dsack),
     "Segments whose SACK option reports a duplicate (D-SACK, RFC 2883).", PER_FLOW},
    {"tcp_monitor_rtt_segments_untracked", FK_COUNTER, TCPWM__OFF(rtt_untracked),
     "Data segments not remembered for the ACK RTT because a cap was reached.", WHOLE},
    {"tcp_monitor_ack_rtt_seconds", FK_RTT, TCPWM__OFF(ack_rtt),
     "Capture time from a data segment to the ACK of its end, as Wireshark's "
     "tcp.analysis.ack_rtt.", PER_FLOW},
    {"tcp_monitor_handshake_rtt_seconds", FK_RTT, TCPWM__OFF(handshake_rtt),
     "Capture time from a SYN to the ACK completing the handshake, as Wireshark's "
     "tcp.analysis.initial_rtt.", PER_FLOW},
};

/* Label values of the two labelled counters, straight from the maps in the
 * headers, so a new reason shows up here without touching this file. */
static const char *const evict_reasons[] = {
#define TCPWM__EXPO_LABEL(name, label) label,
    TCPWM_EVICT_MAP(TCPWM__EXPO_LABEL)};
static const char *const decode_reasons[] = {TCPWM_DECODE_ERROR_MAP(TCPWM__EXPO_LABEL)};
static const char *const encap_kinds[] = {TCPWM_ENCAP_MAP(TCPWM__EXPO_LABEL)};
static const char *const frag_outcomes[] = {TCPWM_FRAG_OUTCOME_MAP(TCPWM__EXPO_LABEL)};
static const char *const frag_ignored[] = {TCPWM_FRAG_IGNORED_MAP(TCPWM__EXPO_LABEL)};
static const char *const retx_kinds[TCPWM_RETX_KINDS] = {"fast", "spurious", "other"};
#undef TCPWM__EXPO_LABEL

static uint64_t u64_at(const tcpwm_metrics *m, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)m + off, sizeof v);
    return v;
}

/* Where one family's samples come from: snapshot i is at[i * stride];
 * with a port label (port != NULL), the flows of that service only. */
typedef struct source {
    const tcpwm_metrics *at;
    size_t stride;
    const char *port; /* the port label's value, or NULL: no label */
} source;

/* The sample's labels: the source's port label, then (name, value) if
 * name is not NULL. Label names in alphabetical order, as the Go client
 * writes them; `le` comes last, from put_series. Returns the count. */
static size_t labels_of(const source *src, const char *name, const char *value,
                        const char *out[4])
{
    size_t n = 0;
    if (name) {
        out[2 * n] = name;
        out[2 * n + 1] = value;
        n++;
    }
    if (src->port) {
        out[2 * n] = "port";
        out[2 * n + 1] = src->port;
        n++;
    }
    return n;
}

/* Every sample of a counter family with a label of its own: label set by
 * label set, each series in snapshot order (OpenMetrics forbids
 * interleaving Metrics, and wants the points of one Metric in ascending
 * time). */
static void put_labelled(writer *w, const family *fa, const char *label,
                         const char *const *reasons, size_t nr, const source *src,
                         const int64_t *ts, size_t n)
{
    for (size_t r = 0; r < nr; r++) {
        const char *pairs[4];
        size_t nl = labels_of(src, label, reasons[r], pairs);
        for (size_t i = 0; i < n; i++) {
            put_series(w, fa->name, "_total", pairs, nl, NULL);
            put(w, " ");
            put_u64(w, u64_at(&src->at[i * src->stride], fa->off + r * sizeof(uint64_t)));
            put_end(w, ts ? &ts[i] : NULL);
        }
    }
}

/* One histogram MetricPoint: cumulative buckets, +Inf, then _count and
 * _sum in the format's order. _count is the +Inf value (not a separate
 * field) so the document is consistent by construction. */
static void put_hist_point(writer *w, const char *name, const char *const *labels, size_t nl,
                           const uint64_t *bucket, char (*le)[40], size_t nb, uint64_t inf,
                           double sum, const int64_t *ts)
{
    uint64_t c = 0;
    for (size_t j = 0; j <= nb; j++) {
        c += j < nb ? bucket[j] : inf;
        put_series(w, name, "_bucket", labels, nl, j < nb ? le[j] : "+Inf");
        put(w, " ");
        put_u64(w, c);
        put_end(w, ts);
    }
    for (int k = 0; k < 2; k++) {
        /* OpenMetrics: _count then _sum; Prometheus text the reverse. */
        bool count = (k == 0) == (w->f == TCPWM_FMT_OPENMETRICS);
        put_series(w, name, count ? "_count" : "_sum", labels, nl, NULL);
        put(w, " ");
        if (count)
            put_u64(w, c);
        else
            put_float(w, sum);
        put_end(w, ts);
    }
}

/* Bucket bounds as label values, rendered once per document. */
typedef struct bounds {
    char gap[TCPWM_GAP_BUCKETS][40];
    char fill[TCPWM_FILL_BUCKETS][40];
    char rtt[TCPWM_RTT_BUCKETS][40];
} bounds;

/* The samples of family fa from one source, all snapshots. */
static void put_samples(writer *w, const family *fa, const source *src, bounds *le,
                        const int64_t *ts_ns, size_t n)
{
    const char *pairs[4];
    size_t nl = labels_of(src, NULL, NULL, pairs);
    switch (fa->kind) {
    case FK_COUNTER:
    case FK_GAUGE:
        for (size_t i = 0; i < n; i++) {
            put_series(w, fa->name, fa->kind == FK_COUNTER ? "_total" : "", pairs, nl, NULL);
            put(w, " ");
            put_u64(w, u64_at(&src->at[i * src->stride], fa->off));
            put_end(w, ts_ns ? &ts_ns[i] : NULL);
        }
        break;
    case FK_EVICT:
        put_labelled(w, fa, "reason", evict_reasons, TCPWM_EVICT__COUNT, src, ts_ns, n);
        break;
    case FK_DECODE:
        put_labelled(w, fa, "reason", decode_reasons, TCPWM_DE__COUNT, src, ts_ns, n);
        break;
    case FK_ENCAP:
        put_labelled(w, fa, "encap", encap_kinds, TCPWM_ENCAP__COUNT, src, ts_ns, n);
        break;
    case FK_FRAG:
        put_labelled(w, fa, "outcome", frag_outcomes, TCPWM_FRAG__COUNT, src, ts_ns, n);
        break;
    case FK_FRAG_IGNORED:
        put_labelled(w, fa, "reason", frag_ignored, TCPWM_FRAG_IGN__COUNT, src, ts_ns, n);
        break;
    case FK_RETX:
        put_labelled(w, fa, "kind", retx_kinds, TCPWM_RETX_KINDS, src, ts_ns, n);
        break;
    case FK_GAP:
        for (size_t i = 0; i < n; i++) {
            const tcpwm_hist_gap *h = &src->at[i * src->stride].gap;
            put_hist_point(w, fa->name, pairs, nl, h->bucket, le->gap, TCPWM_GAP_BUCKETS,
                           h->inf, (double)h->sum, ts_ns ? &ts_ns[i] : NULL);
        }
        break;
    case FK_FILL:
        for (size_t i = 0; i < n; i++) {
            const tcpwm_hist_fill *h = &src->at[i * src->stride].fill;
            /* One division of exact integers: correctly rounded, so
             * 1500000 ns prints as 0.0015, not 0.0015000000000000000312. */
            put_hist_point(w, fa->name, pairs, nl, h->bucket, le->fill, TCPWM_FILL_BUCKETS,
                           h->inf, (double)h->sum_ns / 1e9, ts_ns ? &ts_ns[i] : NULL);
        }
        break;
    case FK_RTT:
        for (size_t i = 0; i < n; i++) {
            tcpwm_hist_rtt h;
            memcpy(&h, (const char *)&src->at[i * src->stride] + fa->off, sizeof h);
            put_hist_point(w, fa->name, pairs, nl, h.bucket, le->rtt, TCPWM_RTT_BUCKETS, h.inf,
                           (double)h.sum_ns / 1e9, ts_ns ? &ts_ns[i] : NULL);
        }
        break;
    }
}

static const char *type_of(fam_kind k)
{
    switch (k) {
    case FK_GAUGE:
        return "gauge";
    case FK_GAP:
    case FK_FILL:
    case FK_RTT:
        return "histogram";
    default:
        return "counter";
    }
}

int tcpwm_expo_metrics(tcpwm_buf *b, tcpwm_format f, const tcpwm_metrics *snaps,
                       const int64_t *ts_ns, size_t n)
{
    return tcpwm_expo_metrics_services(b, f, snaps, ts_ns, n, NULL);
}

int tcpwm_expo_metrics_services(tcpwm_buf *b, tcpwm_format f, const tcpwm_metrics *snaps,
                                const int64_t *ts_ns, size_t n, const tcpwm_expo_services *svc)
{
    writer w;
    int rc = w_begin(&w, b, f);
    if (rc)
        return rc;
    /* Several untimestamped points of one series would be duplicates. */
    if (!snaps || n == 0 || (!ts_ns && n != 1))
        return TCPWM_EINVAL;
    if (svc && (svc->n_ports == 0 || svc->n_ports > TCPWM_MAX_SERVICE_PORTS || !svc->ports ||
                !svc->blocks))
        return TCPWM_EINVAL;

    bounds le;
    for (size_t j = 0; j < TCPWM_GAP_BUCKETS; j++)
        tcpwm_expo_float(le.gap[j], (double)tcpwm_gap_bounds[j], f);
    for (size_t j = 0; j < TCPWM_FILL_BUCKETS; j++)
        tcpwm_expo_float(le.fill[j], (double)tcpwm_fill_bounds_ns[j] / 1e9, f);
    for (size_t j = 0; j < TCPWM_RTT_BUCKETS; j++)
        tcpwm_expo_float(le.rtt[j], (double)tcpwm_rtt_bounds_ns[j] / 1e9, f);

    /* Port label values: the ports in the given (ascending) order, then
     * "other". */
    char port_text[TCPWM_MAX_SERVICE_PORTS][8];
    size_t slots = svc ? svc->n_ports + 1 : 0;
    for (size_t j = 0; j + 1 < slots; j++)
        snprintf(port_text[j], sizeof port_text[j], "%u", (unsigned)svc->ports[j]);

    for (size_t k = 0; k < sizeof families / sizeof families[0] && !w.rc; k++) {
        const family *fa = &families[k];
        const char *type = type_of(fa->kind);
        bool counter = strcmp(type, "counter") == 0;
        put_meta(&w, fa->name, counter ? "_total" : "", type, fa->help, false);
        if (svc && fa->per_flow) {
            for (size_t j = 0; j < slots; j++) {
                source src = {&svc->blocks[j], slots, j + 1 < slots ? port_text[j] : "other"};
                put_samples(&w, fa, &src, &le, ts_ns, n);
            }
        } else {
            source src = {snaps, 1, NULL};
            put_samples(&w, fa, &src, &le, ts_ns, n);
        }
    }
    return w_end(&w);
}

/* ---- Extra families for the front ends ---------------------------------- */

int tcpwm_expo_family(tcpwm_buf *b, tcpwm_format f, const char *name, tcpwm_mtype t,
                      const char *help)
{
    writer w;
    int rc = w_begin(&w, b, f);
    if (rc)
        return rc;
    if (!valid_name(name, true) ||
        (t != TCPWM_MT_COUNTER && t != TCPWM_MT_GAUGE && t != TCPWM_MT_INFO))
        return TCPWM_EINVAL;
    put_meta(&w, name, sample_suffix(t), type_word(&w, t), help, t == TCPWM_MT_INFO);
    return w_end(&w);
}

int tcpwm_expo_sample_u64(tcpwm_buf *b, tcpwm_format f, const char *name, tcpwm_mtype t,
                          const char *const *labels, size_t n_labels, uint64_t value)
{
    writer w;
    int rc = w_begin(&w, b, f);
    if (rc)
        return rc;
    if (!valid_name(name, true) || (n_labels && !labels))
        return TCPWM_EINVAL;
    for (size_t i = 0; i < n_labels; i++) {
        /* "le" is the histogram bucket label; a plain sample must not
         * carry it. Names starting with "__" are reserved. */
        const char *ln = labels[2 * i];
        if (!valid_name(ln, false) || strncmp(ln, "__", 2) == 0 || strcmp(ln, "le") == 0 ||
            !labels[2 * i + 1])
            return TCPWM_EINVAL;
    }
    put_series(&w, name, sample_suffix(t), labels, n_labels, NULL);
    put(&w, " ");
    put_u64(&w, value);
    put(&w, "\n");
    return w_end(&w);
}

int tcpwm_expo_finish(tcpwm_buf *b, tcpwm_format f)
{
    writer w;
    int rc = w_begin(&w, b, f);
    if (rc)
        return rc;
    if (f == TCPWM_FMT_OPENMETRICS)
        put(&w, "# EOF\n");
    return w_end(&w);
}
