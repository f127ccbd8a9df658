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

/* How -w files rotate, as tcpdump's -C, -W and -G do it (all 0: one file
 * growing without bound). */
typedef struct capture_rotation {
    uint64_t max_bytes;   /* -C MB * 1,000,000: a new file before this is passed */
    uint32_t files;       /* -W: with -C a ring of this many files, with -G this
                           * many files then no more writing */
    uint32_t seconds;     /* -G: a new file every this many seconds, named
                           * through strftime(3) */
} capture_rotation;

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
    const char *dump_path; /* -w as given: the template of the file names */
    capture_rotation rot;
    char dump_name[4096];  /* the file being written now */
    uint64_t dump_bytes;   /* bytes in it, its 24-byte header included */
    uint64_t dump_packets; /* records in it */
    uint32_t dump_count;   /* -C: number of the current file within the -G period */
    uint32_t dump_files;   /* -G: files opened so far */
    int64_t dump_since;    /* -G: start of the current period, seconds since 1970 */
    bool dump_broken;      /* writing failed: nothing more until the next file */
    bool dump_done;        /* -G -W: the last file was written */
    uint64_t write_errors; /* packets that could not be saved */
    char write_error[4608]; /* why writing failed, for capture_flush() */
    bool write_error_new;  /* ... not told yet */
    bool write_error_told; /* told, and no file written since: stay quiet */
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
 * or opened in Wireshark later; rot (NULL: none) makes a series of files
 * named as tcpdump names them:
 *   -C alone      path, path1, path2, ...
 *   -C -W N       path0 ... path<N-1>, the number zero-padded to the
 *                 digits of N, then path0 again (a ring)
 *   -G            strftime(path) at the start of each period (local time)
 *   -G -C         strftime(path) followed by the -C number
 * Unlike tcpdump, which tests the size before each write and so passes it
 * by up to one packet, a file never exceeds -C: the packet that would take
 * it past goes to the next file. The first file is created here (before
 * privileges are dropped); later ones by the capture thread, as -Z's user.
 * 0, or -1 with one line in err. */
int capture_write(capture *c, const char *path, const capture_rotation *rot, char *err,
                  size_t errlen);

/* Push what capture_write() has buffered to the file. A write that fails
 * (the file system is full, ...) never stops the capture: the file is
 * closed as it is, the packets not saved are counted in write_errors, and
 * writing starts again with the next file of a rotation (without one, no
 * more is written). 0, or -1 with one line in err the first time writing
 * fails. */
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

/* Packets -w could not save since the start. */
static inline uint64_t capture_write_errors(const capture *c)
{
    return c->write_errors;
}

/* Closes the file of capture_write() too; check capture_flush() first to
 * learn whether its last writes reached it. */
void capture_close(capture *c);

#endif
