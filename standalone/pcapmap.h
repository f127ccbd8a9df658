/* SPDX-License-Identifier: MIT */
/* The replay's fast path: classic pcap records read straight from the
 * memory-mapped file, instead of two stdio reads and copies per record
 * through libpcap (a third of the replay's time on a big capture).
 *
 * libpcap stays in charge of everything else. It opens the file and
 * checks the file header (and reads pcapng, standard input, pipes, the
 * old and modified pcap variants, which are never mapped). This reads
 * only records that libpcap would hand over unchanged: caplen within
 * libpcap's snapshot length for the file, the whole record in the file.
 * At the first record that is not like that, it stops and says where,
 * and the caller hands the rest of the file to libpcap from that offset,
 * so that odd and broken records get libpcap's own handling and error
 * messages. What has been read is dropped from the mapping as the reading
 * goes, so the resident size stays small however big the file. The
 * record parser works on any buffer (pcapmap_next), so the
 * fuzz harness can hold it against libpcap record by record. */
#ifndef TCPWM_CLI_PCAPMAP_H
#define TCPWM_CLI_PCAPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

/* The classic pcap file header (24 bytes), and each record's (16). */
#define PCAPMAP_FILE_HDR 24u
#define PCAPMAP_REC_HDR 16u

typedef struct pcapmap {
    const uint8_t *base; /* the whole file */
    size_t size;
    size_t off;          /* the next record's offset */
    bool swapped;        /* written in the other byte order */
    int64_t frac_mult;   /* 1000: microsecond file; 1: nanosecond */
    uint32_t max_caplen; /* larger records go to libpcap */
    bool mapped;         /* base is our mapping (pcapmap_close unmaps it) */
    size_t released;     /* bytes from the start already dropped from it */
} pcapmap;

/* One record, with the values libpcap's pcap_pkthdr would hold when
 * opened with nanosecond precision. */
typedef struct pcapmap_rec {
    int64_t sec;  /* ts.tv_sec */
    int64_t nsec; /* ts.tv_usec: nanoseconds, not normalized */
    uint32_t caplen, len;
    const uint8_t *data;
} pcapmap_rec;

typedef enum pcapmap_status {
    PCAPMAP_RECORD,   /* *rec is the next record */
    PCAPMAP_END,      /* the file ends cleanly after the last record */
    PCAPMAP_HANDOVER, /* the record at pm->off is for libpcap to read */
} pcapmap_status;

/* Set pm up over size bytes at base holding a classic pcap file (from its
 * file header on). max_caplen: libpcap's snapshot for it (pcap_snapshot),
 * capped at 256 KiB. false if the header is not one this path reads
 * (other magic, version other than 2.4, link-type flag bits): use libpcap
 * for the whole file then. */
bool pcapmap_init(pcapmap *pm, const uint8_t *base, size_t size, uint32_t max_caplen);

/* Map the regular file open on fd and pcapmap_init() it. false (nothing
 * to undo) if the file cannot or should not be mapped. */
bool pcapmap_open(pcapmap *pm, int fd, uint32_t max_caplen);

pcapmap_status pcapmap_next(pcapmap *pm, pcapmap_rec *rec);

void pcapmap_close(pcapmap *pm);

#endif
