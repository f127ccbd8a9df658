/* SPDX-License-Identifier: MIT */
/* Offline replay: read one pcap or pcapng file (nanosecond timestamps),
 * apply the BPF filter, and hand every frame to the monitor, with the
 * --timeline, -v and progress hooks around it. Several files replayed
 * through the same replay add up as one capture. */
#ifndef TCPWM_CLI_REPLAY_H
#define TCPWM_CLI_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpwm/monitor.h"

#include "status.h"
#include "timeline.h"

typedef struct replay {
    tcpwm_monitor *m;
    const char *filter;  /* BPF expression, NULL for none */
    timeline *tl;        /* NULL without --timeline */
    bool verbose;        /* -v lines */
    status *st;          /* stats lines and progress bar */
    FILE *err;           /* standard error */
    uint32_t since_tick; /* packets since the last status_tick() */
    int64_t last_ts;     /* capture time of the latest frame so far (the capture clock) */
} replay;

/* Replay one file ("-" is standard input). 0, or -1 with "NAME: reason"
 * in errbuf; packets read before the fault stay counted. */
int replay_file(replay *r, const char *path, char *errbuf, size_t errlen);

#endif
