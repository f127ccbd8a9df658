/* SPDX-License-Identifier: MIT */
/* The flow drill-down document: JSON of flows of the table, as the live
 * exporter's GET /flows and the replay's --flows-json write it. Its
 * schema is docs/flows.schema.json; the README describes it.
 *
 *   {"format":"tcpwm-flows/1","version":"...","source":"replay",
 *    "time":"2023-11-14T22:13:20.200000000Z","order":"loss","top":10,
 *    "flows_in_table":2,"flows_left":0,"flows":[
 *   {"family":4,"endpoints":[{"address":"192.0.2.1","port":40000},...],...},
 *   ...
 *   ]}
 *
 * One flow a line between the head and the end, so that the file reads
 * and diffs line by line. Everything comes from the flow's view and the
 * snapshot's capture time: the same flows give the same bytes. */
#ifndef TCPWM_CLI_FLOWJSON_H
#define TCPWM_CLI_FLOWJSON_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpwm/buf.h"
#include "tcpwm/monitor.h"

/* The document's format name; a new major number would mean an
 * incompatible change. */
#define FLOWJSON_FORMAT "tcpwm-flows/1"

/* What the document says about itself. */
typedef struct flowjson_head {
    const char *source;      /* "replay" or "live" */
    const char *order;       /* "loss", "retransmissions", "rtt": ranked, worst
                              * first (top.h); "table": the table's order */
    int64_t time_ns;         /* capture time of the snapshot (ages count to it) */
    uint32_t top;            /* the N asked for; 0: every flow in the table */
    uint64_t flows_in_table; /* flows in the table at that time */
    uint64_t flows_left;     /* flows that had left the table before it */
} flowjson_head;

/* The head, up to and including the opening of the flow list. 0 or a
 * TCPWM_ error of the buffer. */
TCPWM_WUR int flowjson_begin(tcpwm_buf *b, const flowjson_head *h);

/* One flow, on its own line; first: the first of the list (no comma
 * before it). time_ns: the head's. */
TCPWM_WUR int flowjson_flow(tcpwm_buf *b, const tcpwm_flow_view *v, int64_t time_ns, bool first);

/* The end of the list and of the document, with a final newline. */
TCPWM_WUR int flowjson_end(tcpwm_buf *b);

#endif
