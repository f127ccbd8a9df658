/* SPDX-License-Identifier: MIT */
/* Where the exposition goes: standard output, or -o FILE. The file is
 * opened (and truncated) before the replay, so that an unwritable path
 * fails before minutes of analysis; the whole document is written in one
 * go at the end, and every write, flush and close is checked. */
#ifndef TCPWM_CLI_OUTPUT_H
#define TCPWM_CLI_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

typedef struct output {
    FILE *f;
    const char *name; /* the path, or "standard output" */
    int is_file;
} output;

/* path NULL or "-" (as -r - reads standard input): standard output.
 * 0, or -1 with "NAME: reason" in err. */
int output_open(output *o, const char *path, char *err, size_t errlen);

/* Write len bytes and flush. 0, or -1 with "NAME: reason" in err. */
int output_write(output *o, const void *data, size_t len, char *err, size_t errlen);

/* Close (a file) or flush (standard output). 0, or -1 with "NAME: reason"
 * in err. Safe to call after a failed write; call it exactly once. */
int output_close(output *o, char *err, size_t errlen);

#endif
