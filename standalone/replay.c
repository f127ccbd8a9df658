/* SPDX-License-Identifier: MIT */
#include "replay.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "tcpwm/decode.h"
#include "tcpwm/err.h"

#include "capfile.h"
#include "instream.h"
#include "offload.h"
#include "verbose.h"

#define PROG "tcp_window_monitor"

/* ---- Filters: one compiled program per link type ---------------------- */

/* libpcap compiles a BPF program for one link type; a pcapng file may
 * have several. Each link type gets its own, compiled the first time a
 * frame of it appears. */
typedef struct link_filter {
    int dlt;
    bool compiled; /* prog holds a program */
    struct bpf_program prog;
} link_filter;

typedef struct filters {
    const char *expr; /* NULL: no filter */
    link_filter *v;
    size_t n, cap;
    const link_filter *last; /* the previous frame's, to skip the search */
} filters;

static void filters_free(filters *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        if (fs->v[i].compiled)
            pcap_freecode(&fs->v[i].prog);
    free(fs->v);
    memset(fs, 0, sizeof *fs);
}

/* The program for dlt, compiled if need be. NULL with errbuf set when it
 * cannot be compiled for a link type the decoder reads (a bad expression,
 * or one that makes no sense on that link: the file stops there). For a
 * link type the decoder does not read, a failed compilation is no error:
 * the frame is counted as an unsupported link type either way. */
static const link_filter *filters_get(filters *fs, int dlt, const char *name, char *errbuf,
                                      size_t errlen)
{
    if (fs->last != NULL && fs->last->dlt == dlt)
        return fs->last;
    for (size_t i = 0; i < fs->n; i++)
        if (fs->v[i].dlt == dlt)
            return fs->last = &fs->v[i];
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 4;
        link_filter *v = realloc(fs->v, cap * sizeof *v);
        if (v == NULL) {
            snprintf(errbuf, errlen, "%s: out of memory", name);
            return NULL;
        }
        fs->v = v;
        fs->cap = cap;
    }
    link_filter *lf = &fs->v[fs->n];
    memset(lf, 0, sizeof *lf);
    lf->dlt = dlt;
    /* The snap length only sets the value a match returns, which
     * pcap_offline_filter() turns into yes or no. */
    pcap_t *dead = pcap_open_dead(dlt, 262144);
    if (dead == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory", name);
        return NULL;
    }
    /* The netmask only matters for "ip broadcast", which a file cannot
     * answer anyway. */
    if (pcap_compile(dead, &lf->prog, fs->expr, 1, PCAP_NETMASK_UNKNOWN) == 0) {
        lf->compiled = true;
    } else if (tcpwm_link_supported(dlt)) {
        const char *dname = pcap_datalink_val_to_name(dlt);
        snprintf(errbuf, errlen, "%s: bad filter expression '%s' for link type %s (%d): %s", name,
                 fs->expr, dname != NULL ? dname : "unknown", dlt, pcap_geterr(dead));
        pcap_close(dead);
        return NULL;
    }
    pcap_close(dead);
    fs->n++;
    return fs->last = lf;
}

/* ---- The decode-ahead ring --------------------------------------------- */

/* Frames are decoded this many ahead of their analysis, so the memory of
 * their flows is fetched (tcpwm_monitor_prefetch) while earlier frames are
 * analyzed: the flow lookup is the replay's main cost, and it is a cache
 * miss whenever flows interleave. */
#define AHEAD 6
/* ... and their flows' records are fetched this many frames ahead, once
 * the bucket fetched at decoding has arrived; and, one frame ahead, what
 * Wireshark's analysis will read when it runs on this thread. */
#define FLOW_AHEAD 2

/* A frame decoded, waiting for its turn. It holds no pointer into the
 * input: the record's bytes are gone at the next read. */
typedef struct pending {
    tcpwm_segment seg; /* seg.ts_ns is the frame's time, whatever the status */
    tcpwm_decode_status st;
    tcpwm_decode_error err;
    tcpwm_hint hint;   /* valid if st is TCPWM_DECODE_TCP */
    tcpwm_fragment frag; /* valid if st is TCPWM_DECODE_FRAGMENT: a copy of its bytes */
} pending;

static void decode_ahead(replay *r, const capfile_rec *rec, pending *p)
{
    size_t wirelen = rec->len < rec->caplen ? rec->caplen : rec->len;
    /* A link type the decoder does not read comes back as the decode
     * error unsupported_linktype, counted with the frame; the file goes
     * on (a pcapng file may mix link types). */
    p->st = tcpwm_monitor_decode(r->m, rec->data, rec->caplen, wirelen, rec->dlt, &p->seg,
                                 &p->frag, &p->err);
    p->seg.ts_ns = rec->ts_ns;
    if (p->st == TCPWM_DECODE_TCP)
        tcpwm_monitor_prefetch(r->m, &p->seg, &p->hint);
}

/* One frame through the hooks and the monitor. 0, or TCPWM_ENOMEM. */
static int analyze(replay *r, const char *name, const instream *s, pending *p)
{
    int64_t ts = p->seg.ts_ns;
    tcpwm_result res;

    if (ts > r->last_ts)
        r->last_ts = ts;

    if (r->tl != NULL) {
        uint64_t skipped;
        int rc = timeline_packet(r->tl, ts, r->m, &skipped);

        if (rc != 0)
            return rc;
        if (skipped > 0) {
            char when[VERBOSE_TIME_MAX];

            verbose_time(when, ts);
            status_clear(r->st);
            fprintf(r->err,
                    PROG ": %s: capture time jumps to %s, past %" PRIu64
                         " timeline intervals without packets; they get one snapshot\n",
                    name, when, skipped + 1);
        }
    }

    tcpwm_monitor_count_frame(r->m);
    tcpwm_monitor_count_tunnels(r->m, &p->seg);
    if (p->st == TCPWM_DECODE_TCP) {
        tcpwm_monitor_segment_hinted(r->m, &p->seg, &p->hint, r->verbose ? &res : NULL);
    } else if (p->st == TCPWM_DECODE_FRAGMENT && tcpwm_monitor_fragment(r->m, &p->seg, &p->frag)) {
        /* Reassembly moves here, in capture order, not when decoded ahead;
         * the fragment that completed a datagram is its TCP segment. */
        tcpwm_monitor_segment(r->m, &p->seg, r->verbose ? &res : NULL);
    } else {
        if (p->st == TCPWM_DECODE_ERROR)
            tcpwm_monitor_count_decode_error(r->m, p->err);
        memset(&res, 0, sizeof(res));
    }
    if (r->verbose && verbose_wants(&res)) {
        status_clear(r->st);
        verbose_event(r->err, ts, &res);
    }
    if (++r->since_tick == STATUS_TICK_PACKETS) {
        r->since_tick = 0;
        status_position(r->st, instream_position(s));
        status_tick(r->st, tcpwm_monitor_metrics(r->m));
    }
    return 0;
}

/* ---- instream as the reader's input ------------------------------------ */

static size_t io_peek(void *ctx, size_t need, const uint8_t **p)
{
    return instream_peek(ctx, need, p);
}

static void io_consume(void *ctx, size_t n)
{
    instream_consume(ctx, n);
}

static const char *io_error(void *ctx)
{
    return instream_error(ctx);
}

int replay_file(replay *r, const char *path, char *errbuf, size_t errlen)
{
    const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
    char why[256];
    instream *s;
    capfile *f;
    filters fs;
    int rc = 0;

    if (instream_open(&s, path, INSTREAM_CPU_SPARE, why, sizeof why) != 0) {
        snprintf(errbuf, errlen, "%s: %s", name, why);
        return -1;
    }
    capfile_io io = {io_peek, io_consume, io_error, s};
    if (capfile_open(&f, &io, why, sizeof why) != 0) {
        snprintf(errbuf, errlen, "%s: %s", name, why);
        instream_close(s);
        return -1;
    }
    /* Wireshark's analysis leaves this thread (offload.h) unless -v or
     * --timeline need its results as each packet goes (or there is no
     * second CPU, or the build has no analysis). A file read ahead or
     * decompressed has a thread on the second CPU already: the analysis
     * runs where either thread would wait (offload_start_shared), since a
     * third busy thread would take a share of the replay's CPU too. A
     * pipe, read here, gives the analysis a thread of its own. */
    offload *ol = NULL;
    if (!r->verbose && r->tl == NULL) {
        if (instream_get_kind(s) != INSTREAM_PLAIN) {
            ol = offload_start_shared(r->m);
            if (ol != NULL)
                instream_set_idle(s, offload_help, ol);
        } else {
            ol = offload_start(r->m);
        }
    }
    memset(&fs, 0, sizeof fs);
    fs.expr = r->filter;

    pending ring[AHEAD];
    unsigned first = 0, queued = 0; /* ring[first] is the oldest frame waiting */
    status_file(r->st, name, instream_file_size(s));
    for (;;) {
        capfile_rec rec;
        capfile_status cs = capfile_next(f, &rec);

        if (cs == CAPFILE_END)
            break;
        if (cs != CAPFILE_RECORD) {
            snprintf(errbuf, errlen, "%s: %s", name, capfile_error(f));
            rc = -1;
            break;
        }
        if (fs.expr != NULL) {
            /* Before the next read: the record's bytes go with it. */
            const link_filter *lf = filters_get(&fs, rec.dlt, name, errbuf, errlen);
            if (lf == NULL) {
                rc = -1;
                break;
            }
            if (lf->compiled) {
                struct pcap_pkthdr h;
                h.ts.tv_sec = (time_t)rec.sec;
                h.ts.tv_usec = (suseconds_t)rec.nsec;
                h.caplen = rec.caplen;
                h.len = rec.len;
                if (pcap_offline_filter(&lf->prog, &h, rec.data) == 0)
                    continue;
            }
        }
        decode_ahead(r, &rec, &ring[(first + queued) % AHEAD]);
        if (++queued < AHEAD)
            continue;
        pending *soon = &ring[(first + FLOW_AHEAD) % AHEAD];
        if (soon->st == TCPWM_DECODE_TCP)
            tcpwm_monitor_prefetch_flow(r->m, &soon->hint);
        /* Only for an analysis in line: handed over, it is not ours. */
        const pending *next = &ring[(first + 1) % AHEAD];
        if (ol == NULL && next->st == TCPWM_DECODE_TCP)
            tcpwm_monitor_prefetch_analysis(r->m, &next->hint);
        rc = analyze(r, name, s, &ring[first]);
        first = (first + 1) % AHEAD;
        queued--;
        if (rc != 0)
            break;
    }
    /* Whatever ended the file, the frames read so far are all counted. */
    for (; queued > 0 && rc != TCPWM_ENOMEM; queued--, first = (first + 1) % AHEAD) {
        int arc = analyze(r, name, s, &ring[first]);
        if (arc != 0 && rc == 0)
            rc = arc;
    }
    instream_set_idle(s, NULL, NULL); /* before ol goes */
    offload_stop(ol);
    if (rc == TCPWM_ENOMEM) {
        snprintf(errbuf, errlen, "%s: out of memory", name);
        rc = -1;
    }
    status_file(r->st, NULL, -1);
    filters_free(&fs);
    capfile_close(f);
    instream_close(s);
    return rc;
}
