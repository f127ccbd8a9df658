/* SPDX-License-Identifier: MIT */
/* Command-line flags of tcp_window_monitor, parsed into one struct: offline
 * replay (-r FILE...) or live capture (-i IFACE), never both. */
#ifndef TCPWM_CLI_OPTIONS_H
#define TCPWM_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpwm/expo.h"
#include "tcpwm/monitor.h"

#include "endpoint.h"
#include "top.h"

/* Live capture defaults: headers only, and a 16 MiB kernel ring. With
 * libpcap's usual 2 MiB, bench/live_load.sh lost 0.05-1.6% of the packets
 * at 400-500 k packets/s on a busy 2-core machine; with 16 MiB (about
 * 100 ms of such traffic at this snap length) none. */
#define OPTIONS_DEFAULT_SNAPLEN 256
#define OPTIONS_DEFAULT_BUFFER_KIB 16384
#define OPTIONS_DEFAULT_TELEMETRY_PATH "/metrics"

typedef struct options {
    const char **inputs; /* -r files, in order (pointers into argv) */
    size_t n_inputs;
    char *filter;        /* BPF expression: the remaining words joined; NULL if none */
    const char *output;  /* -o FILE; NULL for stdout */
    tcpwm_format format; /* --format, or OpenMetrics with --timeline */
    bool timeline;       /* --timeline: one snapshot per stats interval */
    bool verbose;        /* -v: one stderr line per packet with events */
    bool quiet;          /* -q: no stats lines, no progress bar */
    int64_t interval_ns; /* -s: stats interval (wall clock) and timeline step */
    uint32_t top;        /* --top N; 0 when not asked */
    top_by top_by;       /* --top-by: what --top ranks by (loss by default) */
    const char *flows_json; /* --flows-json FILE: the flows still in the table, as JSON; NULL: no */
    tcpwm_config config; /* --scope, --max-flows, --max-holes, --idle-timeout */
    /* Live capture. */
    const char *interface;      /* -i; NULL: offline replay */
    endpoint listen;            /* --listen ADDR:PORT, -p PORT */
    const char *telemetry_path; /* --telemetry-path */
    int snaplen;                /* --snaplen */
    int buffer_kib;             /* -B */
    bool promisc;               /* not --no-promisc */
    const char *user;           /* -Z; NULL: nobody when started as root */
    const char *write;          /* -w FILE: also save the captured frames; NULL: no */
    uint32_t write_mb;          /* -C MB: rotate -w past MB * 1,000,000 bytes; 0: no */
    uint32_t write_files;       /* -W N: with -C a ring of N files, with -G N files */
    uint32_t write_seconds;     /* -G SECS: a new -w file every SECS, strftime names */
    const char *web_config;     /* --web.config.file: TLS and basic auth; NULL: plain */
} options;

/* What options_parse() decided. */
typedef enum options_status {
    OPTIONS_RUN = 0, /* analyze */
    OPTIONS_EXIT_OK, /* --help or --version was printed to out */
    OPTIONS_USAGE,   /* a usage error was printed to err */
    OPTIONS_NOMEM,   /* out of memory (printed to err) */
} options_status;

/* Parse argv into o (which options_free() releases whatever the result).
 * Help and version text go to out, usage errors to err. */
options_status options_parse(options *o, int argc, char **argv, FILE *out, FILE *err);
void options_free(options *o);

/* "12.5" -> 12500000000. Decimal seconds with at most 9 fractional
 * digits, > 0 and at most 1e9 s. 0 on success, -1 if not such a number. */
int options_parse_seconds(const char *s, int64_t *ns);

#endif
