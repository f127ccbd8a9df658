/* SPDX-License-Identifier: MIT */
/* Progress on standard error: a stats line every stats interval of
 * wall-clock time and one at the end (not with -q), and a progress bar for
 * big files when standard error is a terminal. A live capture prints a
 * line only when a figure changed, and otherwise one heartbeat line every
 * STATUS_HEARTBEAT_NS. The lines say how many TCP packets were analyzed
 * and how many the scope left out; the first time it leaves any out, one
 * note (even with -q) names --scope all, so that "missing 0" is never
 * read as "no loss" about packets that were not looked at. Anything else
 * written to standard error calls status_clear() first, so the bar never
 * mixes with it. */
#ifndef TCPWM_CLI_STATUS_H
#define TCPWM_CLI_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpwm/metrics.h"
#include "tcpwm/monitor.h"

/* Check the clock once every this many packets. */
#define STATUS_TICK_PACKETS 4096u

/* A live capture whose figures stand still still says so this often. */
#define STATUS_HEARTBEAT_NS (60 * 1000000000LL)

/* Files smaller than this get no progress bar. */
#define STATUS_BAR_MIN_BYTES (64LL * 1024 * 1024)

typedef struct status {
    FILE *err;
    bool lines; /* stats lines wanted (not -q) */
    bool tty;   /* err is a terminal: a bar may be drawn */
    int64_t interval_ns;
    int64_t next_line_ns; /* monotonic time of the next stats line */
    /* The bar, for the current file. */
    bool bar;   /* a bar is wanted for the current file */
    long long pos; /* bytes of it read, from status_position() */
    const char *path;
    long long size;
    int shown_pct; /* -1 when no bar is on screen */
    /* Live capture: the lines also tell the capture drops, and come only
     * on change or as a heartbeat. */
    bool live;
    uint64_t dropped, if_dropped;
    char last[512];       /* the last line printed, for "on change" */
    int64_t last_line_ns; /* when it was printed */
    tcpwm_scope scope;
    bool noted;           /* the --scope note was printed */
} status;

void status_init(status *s, FILE *err, bool quiet, int64_t interval_ns, tcpwm_scope scope);

/* A new input file begins; size is its size in bytes when it is a
 * regular file, else -1 (no bar). path NULL: the file has ended. */
void status_file(status *s, const char *path, long long size);

/* How far into the current file the reading is, in bytes of the file. */
void status_position(status *s, long long pos);

/* Every STATUS_TICK_PACKETS packets: print a stats line when one is due,
 * redraw the bar. */
void status_tick(status *s, const tcpwm_metrics *mt);

/* Live capture: from now on the lines end with the capture drops. */
void status_drops(status *s, uint64_t dropped, uint64_t if_dropped);

/* Erase the bar (if drawn) before other output on standard error. */
void status_clear(status *s);

/* The end: erase the bar, print the final stats line. */
void status_final(status *s, const tcpwm_metrics *mt);

#endif
