/* SPDX-License-Identifier: MIT */
#include "replay.h"

#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "tcpwm/decode.h"
#include "tcpwm/err.h"

#include "pcapmap.h"
#include "verbose.h"

#define PROG "tcp_window_monitor"

/* libpcap's open errors often start with the path already
 * ("x.pcap: No such file or directory"); we add it ourselves. */
static const char *strip_path(const char *msg, const char *path)
{
    size_t n = strlen(path);

    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        return msg + n + 2;
    return msg;
}

/* Compiles the filter into prog (the caller frees it) and installs it in
 * libpcap, which applies it to the records it reads; the mapped records
 * go through pcap_offline_filter() with the same program. */
static int set_filter(pcap_t *p, const char *name, const char *filter, struct bpf_program *prog,
                      char *errbuf, size_t errlen)
{
    /* The netmask only matters for "ip broadcast", which a file cannot
     * answer anyway. */
    if (pcap_compile(p, prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(errbuf, errlen, "%s: bad filter expression '%s': %s", name, filter,
                 pcap_geterr(p));
        return -1;
    }
    if (pcap_setfilter(p, prog) != 0) {
        snprintf(errbuf, errlen, "%s: cannot set filter '%s': %s", name, filter, pcap_geterr(p));
        pcap_freecode(prog);
        return -1;
    }
    return 0;
}

/* Frames are decoded this many ahead of their analysis, so the memory of
 * their flows is fetched (tcpwm_monitor_prefetch) while earlier frames are
 * analyzed: the flow lookup is the replay's main cost, and it is a cache
 * miss whenever flows interleave. */
#define AHEAD 6
/* ... and their flows' records are fetched this many frames ahead, once
 * the bucket fetched at decoding has arrived. */
#define FLOW_AHEAD 2

/* A frame decoded, waiting for its turn. */
typedef struct pending {
    tcpwm_segment seg; /* seg.ts_ns is the frame's time, whatever the status */
    tcpwm_decode_status st;
    tcpwm_decode_error err;
    tcpwm_hint hint;   /* valid if st is TCPWM_DECODE_TCP */
} pending;

static void decode_ahead(replay *r, const struct pcap_pkthdr *h, const uint8_t *data, int dlt,
                         pending *p)
{
    size_t wirelen = h->len < h->caplen ? h->caplen : h->len;
    p->st = tcpwm_decode(data, h->caplen, wirelen, dlt, &p->seg, &p->err);
    /* Opened with PCAP_TSTAMP_PRECISION_NANO: tv_usec holds nanoseconds. */
    p->seg.ts_ns = tcpwm_time_ns((int64_t)h->ts.tv_sec, (int64_t)h->ts.tv_usec);
    if (p->st == TCPWM_DECODE_TCP)
        tcpwm_monitor_prefetch(r->m, &p->seg, &p->hint);
}

/* Where records come from: the mapped file while it has plain records
 * (pcapmap.h), then libpcap. */
typedef struct source {
    pcap_t *p;
    pcapmap map;
    bool mapping;                   /* map is in use */
    const struct bpf_program *prog; /* the filter, NULL for none */
    struct pcap_pkthdr hdr;         /* the mapped record, as libpcap gives it */
} source;

/* Like pcap_next_ex(): 1 with a record, PCAP_ERROR_BREAK at the end,
 * PCAP_ERROR with the reason in errbuf. */
static int source_next(source *src, const char *name, struct pcap_pkthdr **h,
                       const uint8_t **data, char *errbuf, size_t errlen)
{
    while (src->mapping) {
        pcapmap_rec rec;
        pcapmap_status st = pcapmap_next(&src->map, &rec);

        if (st == PCAPMAP_END)
            return PCAP_ERROR_BREAK;
        if (st == PCAPMAP_HANDOVER) {
            /* libpcap reads the file from this record on, and says what
             * is wrong with it if anything is. */
            src->mapping = false;
            if (src->map.off > (size_t)LONG_MAX ||
                fseek(pcap_file(src->p), (long)src->map.off, SEEK_SET) != 0) {
                snprintf(errbuf, errlen, "%s: cannot seek to offset %zu", name, src->map.off);
                return PCAP_ERROR;
            }
            break;
        }
        src->hdr.ts.tv_sec = (time_t)rec.sec;
        src->hdr.ts.tv_usec = (suseconds_t)rec.nsec;
        src->hdr.caplen = rec.caplen;
        src->hdr.len = rec.len;
        if (src->prog != NULL && pcap_offline_filter(src->prog, &src->hdr, rec.data) == 0)
            continue;
        *h = &src->hdr;
        *data = rec.data;
        return 1;
    }
    const u_char *d;
    int n;
    /* 0 is a live-capture timeout; a file never returns it. */
    while ((n = pcap_next_ex(src->p, h, &d)) == 0)
        ;
    *data = d;
    if (n == PCAP_ERROR)
        snprintf(errbuf, errlen, "%s: %s", name, pcap_geterr(src->p));
    return n;
}

/* Bytes of the file read so far, for the progress bar. */
static long long source_position(const source *src)
{
    return src->mapping ? (long long)src->map.off : (long long)ftell(pcap_file(src->p));
}

/* The file's size if it is a regular file, else -1. */
static long long file_size(FILE *fp)
{
    struct stat st;

    if (fp == NULL || fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return (long long)st.st_size;
}

/* One frame through the hooks and the monitor. 0, or TCPWM_ENOMEM. */
static int analyze(replay *r, const char *name, const source *src, const pending *p)
{
    int64_t ts = p->seg.ts_ns;
    tcpwm_result res;

    if (r->tl != NULL) {
        uint64_t skipped;
        int rc = timeline_packet(r->tl, ts, tcpwm_monitor_metrics(r->m), &skipped);

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
    if (p->st == TCPWM_DECODE_TCP) {
        tcpwm_monitor_segment_hinted(r->m, &p->seg, &p->hint, r->verbose ? &res : NULL);
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
        status_position(r->st, source_position(src));
        status_tick(r->st, tcpwm_monitor_metrics(r->m));
    }
    return 0;
}

int replay_file(replay *r, const char *path, char *errbuf, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
    struct bpf_program prog;
    struct pcap_pkthdr *h;
    const uint8_t *data;
    source src;
    int dlt, rc = 0;

    memset(&src, 0, sizeof src);
    perr[0] = '\0';
    src.p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (src.p == NULL) {
        snprintf(errbuf, errlen, "%s: %s", name, strip_path(perr, path));
        return -1;
    }

    dlt = pcap_datalink(src.p);
    if (!tcpwm_link_supported(dlt)) {
        const char *dname = pcap_datalink_val_to_name(dlt);

        snprintf(errbuf, errlen, "%s: unsupported link type %s (%d)", name,
                 dname != NULL ? dname : "unknown", dlt);
        pcap_close(src.p);
        return -1;
    }
    if (r->filter != NULL) {
        if (set_filter(src.p, name, r->filter, &prog, errbuf, errlen) != 0) {
            pcap_close(src.p);
            return -1;
        }
        src.prog = &prog;
    }
    /* libpcap has read and checked the file header; a classic pcap file
     * on disk is read from a mapping from here on. */
    if (strcmp(path, "-") != 0 && pcap_snapshot(src.p) > 0)
        src.mapping =
            pcapmap_open(&src.map, fileno(pcap_file(src.p)), (uint32_t)pcap_snapshot(src.p));

    pending ring[AHEAD];
    unsigned first = 0, queued = 0; /* ring[first] is the oldest frame waiting */
    status_file(r->st, name, file_size(pcap_file(src.p)));
    for (;;) {
        int n = source_next(&src, name, &h, &data, errbuf, errlen);

        if (n == PCAP_ERROR_BREAK)
            break; /* end of file */
        if (n != 1) {
            rc = -1;
            break;
        }
        decode_ahead(r, h, data, dlt, &ring[(first + queued) % AHEAD]);
        if (++queued < AHEAD)
            continue;
        const pending *soon = &ring[(first + FLOW_AHEAD) % AHEAD];
        if (soon->st == TCPWM_DECODE_TCP)
            tcpwm_monitor_prefetch_flow(r->m, &soon->hint);
        rc = analyze(r, name, &src, &ring[first]);
        first = (first + 1) % AHEAD;
        queued--;
        if (rc != 0)
            break;
    }
    /* Whatever ended the file, the frames read so far are all counted. */
    for (; queued > 0 && rc != TCPWM_ENOMEM; queued--, first = (first + 1) % AHEAD) {
        int arc = analyze(r, name, &src, &ring[first]);
        if (arc != 0 && rc == 0)
            rc = arc;
    }
    if (rc == TCPWM_ENOMEM) {
        snprintf(errbuf, errlen, "%s: out of memory", name);
        rc = -1;
    }
    status_file(r->st, NULL, -1);
    pcapmap_close(&src.map);
    if (src.prog != NULL)
        pcap_freecode(&prog);
    pcap_close(src.p);
    return rc;
}
