/* SPDX-License-Identifier: MIT */
/* Our capture-file reader: classic pcap and pcapng, record by record,
 * over a window of bytes (instream.h for files, pipes and compressed
 * input; a memory buffer for tests and fuzzing). No copies: a record's
 * data points into the window.
 *
 * What it reads (docs/reader.md has the rules and their sources):
 *  - classic pcap (pcap-savefile(5)) in both byte orders, microsecond
 *    (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magic, versions 2.0-2.4
 *    and 543.0 as libpcap reads them, and the "modified" (Kuznetzov,
 *    0xa1b2cd34) variant with its 24-byte record header;
 *  - pcapng (draft-ietf-opsawg-pcapng): several sections, each with its
 *    own byte order and interfaces; every interface with its own link
 *    type, snap length, if_tsresol and if_tsoffset; Enhanced, Simple and
 *    obsolete Packet blocks; every other block skipped.
 *
 * Wherever libpcap accepts a file, the records are the ones libpcap 1.10
 * hands over at nanosecond precision: same time (sec, nsec), caplen, len,
 * bytes and link type (tests/unit/capfile_diff.c and the fuzz harness
 * tests/fuzz/fuzz_pcapfile.c hold the two side by side). Where libpcap
 * refuses a pcapng file only because its interfaces differ, this reads it
 * as Wireshark does.
 *
 * Not thread-safe; one reader per file. */
#ifndef TCPWM_CLI_CAPFILE_H
#define TCPWM_CLI_CAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the bytes come from: the instream.h contract, as callbacks so
 * that the reader can run over a memory buffer too. */
typedef struct capfile_io {
    /* Make at least `need` bytes readable at *p; returns how many are
     * (fewer only at the end or on an error). They stay valid until the
     * next peek. */
    size_t (*peek)(void *ctx, size_t need, const uint8_t **p);
    /* Step over n bytes of what the last peek returned. */
    void (*consume)(void *ctx, size_t n);
    /* After a short peek: why the input stopped early, NULL if it simply
     * ended. May be NULL (the input never fails). */
    const char *(*error)(void *ctx);
    void *ctx;
} capfile_io;

/* A memory buffer as an input (tests, fuzzing): capfile_mem_io() fills
 * io to read the size bytes at data, which must outlive the reader. */
typedef struct capfile_mem {
    const uint8_t *data;
    size_t size, off;
} capfile_mem;

void capfile_mem_io(capfile_io *io, capfile_mem *m, const uint8_t *data, size_t size);

/* The largest block or record accepted: libpcap's largest pcapng block
 * (16 MiB) and caplen (256 KiB for most link types) are well below it. */
#define CAPFILE_MAX_BLOCK (64u << 20)

typedef enum capfile_format {
    CAPFILE_PCAP,   /* classic pcap */
    CAPFILE_PCAPNG, /* pcapng */
} capfile_format;

/* One record. */
typedef struct capfile_rec {
    int64_t ts_ns;  /* capture time: tcpwm_time_ns(sec, nsec) */
    int64_t sec;    /* as libpcap's ts.tv_sec at nanosecond precision */
    int64_t nsec;   /* ... and ts.tv_usec: nanoseconds, not normalized */
    uint32_t caplen;
    uint32_t len;   /* original length as the file says (may be < caplen) */
    const uint8_t *data; /* caplen bytes, valid until the next capfile_next() */
    int dlt;        /* link type as pcap_datalink() would report it (DLT_) */
    uint32_t iface; /* pcapng: interface index in its section; pcap: 0 */
} capfile_rec;

typedef enum capfile_status {
    CAPFILE_RECORD, /* *rec is the next record */
    CAPFILE_END,    /* the file ended cleanly */
    CAPFILE_ERROR,  /* damaged or unreadable: capfile_error() says why */
} capfile_status;

typedef struct capfile capfile;

/* Read the file header (classic pcap) or the first section header
 * (pcapng). 0; or -1 with a one-line reason in errbuf: "unknown file
 * format" when the bytes are neither, the input's own error (a corrupt
 * compressed stream), or what is wrong with the header. io is copied. */
int capfile_open(capfile **out, const capfile_io *io, char *errbuf, size_t errlen);

/* The next record. Bytes of the previous record are no longer valid. */
capfile_status capfile_next(capfile *f, capfile_rec *rec);

/* After CAPFILE_ERROR: one line naming the record or block (number and
 * byte offset) and what is wrong, or the input's own error. */
const char *capfile_error(const capfile *f);

capfile_format capfile_get_format(const capfile *f);

void capfile_close(capfile *f);

/* A LINKTYPE_ value of a file as the DLT_ value libpcap reports for it
 * (LINKTYPE_RAW 101 -> DLT_RAW 12, ...; most are equal). */
int capfile_linktype_to_dlt(uint32_t linktype);

#endif
