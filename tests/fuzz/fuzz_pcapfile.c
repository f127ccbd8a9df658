/* SPDX-License-Identifier: MIT */
/* libFuzzer harness over the capture-file path: the input is a whole pcap
 * or pcapng file, read by our reader (standalone/capfile.c) from memory
 * and fed record by record to the monitor as standalone/replay.c does:
 * each record with its own link type (an unsupported one is a decode
 * error), wire length never below the captured length, capture time from
 * tcpwm_time_ns(), frames decoded six ahead with the flow lookups
 * prefetched, then counted and analyzed through the split API
 * (tcpwm_monitor_count_frame, _segment, _count_decode_error); reading
 * stops at the first error, and the frames decoded by then are all
 * analyzed. Every invariant of fuzz_check.c is checked after each record;
 * the exposition is rendered every 64 records and at the end.
 *
 * Differential: libpcap reads the same bytes (fmemopen, nanosecond
 * precision). Wherever it hands over a record, the reader must hand over
 * the same one (time, caplen, len, bytes, link type); where libpcap ends
 * cleanly, so must the reader. Past a record libpcap refuses the reader
 * may go on (pcapng interfaces that differ, sections of another byte
 * order, an EPB longer than the snap length: docs/reader.md). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capfile.h"
#include "fuzz_check.h"
#include "tcpwm/decode.h"
#include "tcpwm/monitor.h"

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
    tcpwm_fragment frag; /* st TCPWM_DECODE_FRAGMENT: reassembled in its turn */
} pending;

static void decode_ahead(fuzz_run *r, const capfile_rec *rec, pending *p)
{
    /* Exactly caplen bytes on the heap: a read past them is a report. */
    uint8_t *copy = malloc(rec->caplen);
    FUZZ_CHECK(copy != NULL || rec->caplen == 0);
    if (rec->caplen > 0)
        memcpy(copy, rec->data, rec->caplen);
    fuzz_text(r, rec->data, rec->caplen);
    size_t wirelen = rec->len < rec->caplen ? rec->caplen : rec->len;
    memset(&p->seg, 0, sizeof p->seg);
    p->err = TCPWM_DE__COUNT;
    p->st = tcpwm_decode_frag(NULL, copy, rec->caplen, wirelen, rec->dlt, &p->seg, &p->frag,
                              &p->err);
    free(copy);
    p->seg.ts_ns = rec->ts_ns;
    if (p->st == TCPWM_DECODE_TCP)
        tcpwm_monitor_prefetch(r->m, &p->seg, &p->hint);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[PCAP_ERRBUF_SIZE], why[256];
    capfile_mem mem;
    capfile_io io;
    capfile *f;

    capfile_mem_io(&io, &mem, data, size);
    int crc = capfile_open(&f, &io, why, sizeof why);
    if (crc != 0)
        FUZZ_CHECK(why[0] != '\0'); /* a refusal always says why */

    /* libpcap, the reference, over the same bytes. */
    pcap_t *p = NULL;
    FILE *fp = NULL;
    if (size > 0) { /* fmemopen refuses an empty buffer */
        /* Read-only: the cast drops const for fmemopen's signature only. */
        fp = fmemopen((void *)(uintptr_t)data, size, "rb");
        FUZZ_CHECK(fp != NULL);
        err[0] = '\0';
        p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, err);
        if (p == NULL)
            fclose(fp);
    }
    /* Whatever libpcap opens, the reader opens too, but for one check
     * libpcap leaves out: the first Section Header Block's length at its
     * end (libpcap checks it on every later block). */
    if (p != NULL && crc != 0 && size >= 12 && memcmp(data, "\x0a\x0d\x0d\x0a", 4) == 0) {
        uint32_t len, bom;
        memcpy(&len, data + 4, 4);
        memcpy(&bom, data + 8, 4);
        if (bom != 0x1A2B3C4Du)
            len = __builtin_bswap32(len);
        uint32_t end = 0;
        if (len >= 12 && len <= size) {
            memcpy(&end, data + len - 4, 4);
            if (bom != 0x1A2B3C4Du)
                end = __builtin_bswap32(end);
        }
        if (end != len) {
            pcap_close(p);
            return 0;
        }
    }
    FUZZ_CHECK(p == NULL || crc == 0);
    if (crc != 0)
        return 0;
    int dlt = p != NULL ? pcap_datalink(p) : -1;

    tcpwm_config cfg;
    fuzz_config_small(&cfg);
    fuzz_run r;
    fuzz_begin(&r, &cfg, 64);
    pending ring[AHEAD];
    unsigned first = 0, queued = 0; /* ring[first] is the oldest frame waiting */
    for (;;) {
        capfile_rec rec;
        capfile_status st = capfile_next(f, &rec);
        if (p != NULL) {
            struct pcap_pkthdr *h;
            const u_char *bytes;
            int n = pcap_next_ex(p, &h, &bytes);
            if (n == 1) {
                FUZZ_CHECK(st == CAPFILE_RECORD);
                FUZZ_CHECK(rec.sec == (int64_t)h->ts.tv_sec && rec.nsec == (int64_t)h->ts.tv_usec);
                FUZZ_CHECK(rec.caplen == h->caplen && rec.len == h->len && rec.dlt == dlt);
                FUZZ_CHECK(h->caplen == 0 || memcmp(rec.data, bytes, h->caplen) == 0);
            } else {
                /* A file never gives 0 (a live-capture timeout). */
                FUZZ_CHECK(n == PCAP_ERROR_BREAK || n == PCAP_ERROR);
                if (n == PCAP_ERROR_BREAK)
                    FUZZ_CHECK(st == CAPFILE_END);
                pcap_close(p); /* closes fp too */
                p = NULL;
            }
        }
        if (st != CAPFILE_RECORD) {
            FUZZ_CHECK(st == CAPFILE_END || capfile_error(f) != NULL);
            break;
        }
        FUZZ_CHECK(rec.data >= data && rec.caplen <= size &&
                   (size_t)(rec.data - data) <= size - rec.caplen);
        decode_ahead(&r, &rec, &ring[(first + queued) % AHEAD]);
        if (++queued < AHEAD)
            continue;
        pending *soon = &ring[(first + FLOW_AHEAD) % AHEAD];
        if (soon->st == TCPWM_DECODE_TCP)
            tcpwm_monitor_prefetch_flow(r.m, &soon->hint);
        const pending *next = &ring[(first + 1) % AHEAD];
        if (next->st == TCPWM_DECODE_TCP)
            tcpwm_monitor_prefetch_analysis(r.m, &next->hint);
        fuzz_decoded(&r, ring[first].st, &ring[first].seg, &ring[first].frag, ring[first].err);
        first = (first + 1) % AHEAD;
        queued--;
    }
    /* Whatever ended the file, the frames read so far are all counted. */
    for (; queued > 0; queued--, first = (first + 1) % AHEAD)
        fuzz_decoded(&r, ring[first].st, &ring[first].seg, &ring[first].frag, ring[first].err);
    fuzz_end(&r);
    if (p != NULL)
        pcap_close(p);
    capfile_close(f);
    return 0;
}
