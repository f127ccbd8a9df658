/* SPDX-License-Identifier: MIT */
/* The --help text. */
#ifndef TCPWM_CLI_HELP_H
#define TCPWM_CLI_HELP_H

#include <stdio.h>

void help_print(FILE *out);

#endif
