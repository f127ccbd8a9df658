/* SPDX-License-Identifier: MIT */
/* Live capture with libpcap: open an interface (TPACKET_V3 memory-mapped
 * ring, libpcap's default on Linux: no system call per packet), apply the
 * BPF filter, and hand frames with nanosecond timestamps to a callback.
 *
 * The handle is non-blocking: capture_dispatch() takes what the ring holds
 * and returns, and capture_wait() sleeps until a block of packets is ready
 * or a timeout passes. libpcap's own blocking read would sleep forever on
 * an idle interface (TPACKET_V3 retires only blocks that hold packets), and
 * the caller needs to wake up to expire idle flows, publish metrics and
 * print stats lines. */
#ifndef TCPWM_CLI_CAPTURE_H
#define TCPWM_CLI_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

/* A block of packets is handed over at the latest this long after its
 * first packet arrived. */
#define CAPTURE_BLOCK_TIMEOUT_MS 100

typedef struct capture_config {
    const char *iface;  /* "eth0", "any" */
    const char *filter; /* BPF expression, NULL for none */
    int snaplen;
    int buffer_kib;
    bool promisc;
} capture_config;

/* One frame: caplen bytes at data, wirelen on the wire, capture time. */
typedef void (*capture_cb)(void *ctx, const uint8_t *data, size_t caplen, size_t wirelen,
                           int64_t ts_ns);

typedef struct capture {
    pcap_t *p;
    const char *iface;
    int dlt;
    int fd;          /* poll()able; -1 if libpcap has none */
    int64_t ts_mult; /* 1 with nanosecond timestamps, 1000 with microseconds */
    capture_cb cb;
    void *ctx;
    pcap_dumper_t *dump; /* capture_write(): every frame also goes here */
    const char *dump_path;
    /* pcap_stats() counters are 32-bit and wrap; these add up the deltas. */
    unsigned last_drop, last_ifdrop;
    uint64_t drop, ifdrop;
} capture;

/* Open and activate. 0, or -1 with one line in err. A non-fatal problem
 * (promiscuous mode refused, ...) leaves a line in warn (else warn[0] is
 * NUL). */
int capture_open(capture *c, const capture_config *cfg, char *err, size_t errlen, char *warn,
                 size_t warnlen);

/* Also write every captured frame, as captured, to the pcap file path
 * ("-": standard output), so that what the analysis saw can be replayed
 * or opened in Wireshark later. 0, or -1 with one line in err. */
int capture_write(capture *c, const char *path, char *err, size_t errlen);

/* Push what capture_write() has buffered to the file. 0, or -1 with one
 * line in err if writing failed (the file system is full, ...); the
 * capture goes on without the file then. */
int capture_flush(capture *c, char *err, size_t errlen);

/* Name of the link type, "EN10MB" etc. */
const char *capture_link_name(const capture *c);

/* Hand every frame the ring holds now to cb. Returns the number of frames
 * (0: none ready), CAPTURE_STOPPED after capture_break(), or -1 with the
 * reason in err (the interface went away, ...). */
#define CAPTURE_STOPPED (-2)
int capture_dispatch(capture *c, capture_cb cb, void *ctx, char *err, size_t errlen);

/* Sleep until frames may be ready, timeout_ms passes, or a signal
 * arrives. */
void capture_wait(capture *c, int timeout_ms);

/* Make the next capture_dispatch() return CAPTURE_STOPPED. Safe in a
 * signal handler. */
void capture_break(capture *c);

/* Packets dropped since the open: by the kernel for want of buffer space
 * (ps_drop), and by the interface or its driver (ps_ifdrop). 0, or -1 if
 * libpcap could not tell (the totals then stay as they were). */
int capture_drops(capture *c, uint64_t *drop, uint64_t *ifdrop);

/* Closes the file of capture_write() too; check capture_flush() first to
 * learn whether its last writes reached it. */
void capture_close(capture *c);

#endif
