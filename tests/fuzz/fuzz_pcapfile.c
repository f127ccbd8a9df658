/* SPDX-License-Identifier: MIT */
/* libFuzzer harness over the pcap-file path: the input is a whole pcap or
 * pcapng file, read by libpcap from memory (fmemopen, a FILE * like any
 * other to pcap_fopen_offline) and fed record by record to the monitor as
 * standalone/replay.c does: nanosecond precision, the link type checked
 * once per file, wire length never below the captured length, capture
 * time held within [0, TCPWM_MAX_TIME_NS], frames decoded six ahead with
 * the flow lookups prefetched, then counted and analyzed through the
 * split API (tcpwm_monitor_count_frame, _segment, _count_decode_error);
 * reading stops at the first error, and the frames decoded by then are
 * all analyzed. Every invariant of fuzz_check.c is checked after each
 * record; the exposition is rendered every 64 records and at the end. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "fuzz_check.h"
#include "pcapmap.h"
#include "tcpwm/decode.h"
#include "tcpwm/monitor.h"

/* standalone/replay.c, capture_ns(): the capture time in ns of a record
 * read with PCAP_TSTAMP_PRECISION_NANO (tv_usec holds nanoseconds), held
 * within [0, TCPWM_MAX_TIME_NS]. Keep the two in step. */
static int64_t record_ns(const struct pcap_pkthdr *h)
{
    const int64_t max_sec = TCPWM_MAX_TIME_NS / 1000000000LL;
    int64_t sec = (int64_t)h->ts.tv_sec;
    if (sec < 0)
        sec = 0;
    if (sec >= max_sec)
        return TCPWM_MAX_TIME_NS;
    return sec * 1000000000LL + (int64_t)h->ts.tv_usec;
}

/* standalone/replay.c's pipeline: frames are decoded AHEAD records before
 * their analysis (starting the fetch of their hash bucket), and their
 * flow's record is fetched FLOW_AHEAD records before. */
#define AHEAD 6
#define FLOW_AHEAD 2

typedef struct pending {
    tcpwm_segment seg;
    tcpwm_decode_status st;
    tcpwm_decode_error err;
    tcpwm_hint hint;
} pending;

static void decode_ahead(fuzz_run *r, const struct pcap_pkthdr *h, const u_char *bytes, int dlt,
                         pending *p)
{
    /* Exactly caplen bytes on the heap: a read past them is a report
     * (libpcap's own buffer is larger). */
    uint8_t *copy = malloc(h->caplen);
    FUZZ_CHECK(copy != NULL || h->caplen == 0);
    if (h->caplen > 0)
        memcpy(copy, bytes, h->caplen);
    fuzz_text(r, bytes, h->caplen);
    size_t wirelen = h->len < h->caplen ? h->caplen : h->len;
    memset(&p->seg, 0, sizeof p->seg);
    p->err = TCPWM_DE__COUNT;
    p->st = tcpwm_decode(copy, h->caplen, wirelen, dlt, &p->seg, &p->err);
    free(copy);
    p->seg.ts_ns = record_ns(h);
    if (p->st == TCPWM_DECODE_TCP)
        tcpwm_monitor_prefetch(r->m, &p->seg, &p->hint);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *bytes;

    if (size == 0)
        return 0; /* fmemopen refuses an empty buffer */
    /* Read-only: the cast drops const for fmemopen's signature only. */
    FILE *f = fmemopen((void *)(uintptr_t)data, size, "rb");
    FUZZ_CHECK(f != NULL);
    err[0] = '\0';
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == NULL) {
        FUZZ_CHECK(err[0] != '\0'); /* a refusal always says why */
        fclose(f);
        return 0;
    }
    int dlt = pcap_datalink(p);
    if (!tcpwm_link_supported(dlt)) {
        pcap_close(p); /* closes f too */
        return 0;
    }

    tcpwm_config cfg;
    fuzz_config_small(&cfg);
    fuzz_run r;
    fuzz_begin(&r, &cfg, 64);
    pcapmap map;
    bool mapping = pcap_snapshot(p) > 0 && pcapmap_init(&map, data, size, (uint32_t)pcap_snapshot(p));
    pending ring[AHEAD];
    unsigned first = 0, queued = 0; /* ring[first] is the oldest frame waiting */
    for (;;) {
        int n = pcap_next_ex(p, &h, &bytes);
        pcapmap_rec rec;
        pcapmap_status mst = mapping ? pcapmap_next(&map, &rec) : PCAPMAP_HANDOVER;
        if (mst == PCAPMAP_HANDOVER)
            mapping = false; /* from here on the replay reads with libpcap too */
        if (n != 1) {
            /* End of file or a read error: the replay stops. A file never
             * gives 0 (a live-capture timeout). */
            FUZZ_CHECK(n == PCAP_ERROR_BREAK || n == PCAP_ERROR);
            FUZZ_CHECK(mst != PCAPMAP_RECORD);
            FUZZ_CHECK(mst != PCAPMAP_END || n == PCAP_ERROR_BREAK);
            break;
        }
        FUZZ_CHECK(mst != PCAPMAP_END);
        if (mst == PCAPMAP_RECORD) {
            FUZZ_CHECK(rec.sec == (int64_t)h->ts.tv_sec && rec.nsec == (int64_t)h->ts.tv_usec);
            FUZZ_CHECK(rec.caplen == h->caplen && rec.len == h->len);
            FUZZ_CHECK(h->caplen == 0 || memcmp(rec.data, bytes, h->caplen) == 0);
        }
        decode_ahead(&r, h, bytes, dlt, &ring[(first + queued) % AHEAD]);
        if (++queued < AHEAD)
            continue;
        const pending *soon = &ring[(first + FLOW_AHEAD) % AHEAD];
        if (soon->st == TCPWM_DECODE_TCP)
            tcpwm_monitor_prefetch_flow(r.m, &soon->hint);
        fuzz_decoded(&r, ring[first].st, &ring[first].seg, ring[first].err);
        first = (first + 1) % AHEAD;
        queued--;
    }
    /* Whatever ended the file, the frames read so far are all counted. */
    for (; queued > 0; queued--, first = (first + 1) % AHEAD)
        fuzz_decoded(&r, ring[first].st, &ring[first].seg, ring[first].err);
    fuzz_end(&r);
    pcap_close(p);
    return 0;
}
