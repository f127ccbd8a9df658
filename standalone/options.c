/* SPDX-License-Identifier: MIT */
/* Flag parsing (getopt_long) and the --help text. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#define PROG "tcp_window_monitor"

/* The flow table's own limit (2^30). */
#define MAX_FLOWS_LIMIT (1u << 30)

/* Long-only options get values above the char range. */
enum {
    OPT_FORMAT = 256,
    OPT_TIMELINE,
    OPT_SCOPE,
    OPT_TOP,
    OPT_MAX_FLOWS,
    OPT_MAX_HOLES,
    OPT_IDLE_TIMEOUT,
};

static const struct option long_options[] = {
    {"read", required_argument, NULL, 'r'},
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"timeline", no_argument, NULL, OPT_TIMELINE},
    {"scope", required_argument, NULL, OPT_SCOPE},
    {"stats-interval", required_argument, NULL, 's'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"top", required_argument, NULL, OPT_TOP},
    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
    {"max-holes", required_argument, NULL, OPT_MAX_HOLES},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* The leading ':' makes a missing value return ':' rather than '?'. */
static const char short_options[] = ":r:o:s:vqhV";

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: " PROG " -r FILE [-r FILE ...] [OPTION...] [FILTER...]\n"
            "\n"
            "Replay pcap/pcapng captures through the TCP loss and window analysis\n"
            "and print the resulting metrics in the Prometheus text format.\n"
            "FILTER is a BPF expression (as for tcpdump), applied to every file.\n"
            "\n"
            "Input and output:\n"
            "  -r, --read FILE          read a pcap or pcapng file ('-' for standard input);\n"
            "                           repeat to replay several files, in order, as one\n"
            "                           capture\n"
            "  -o, --output FILE        write the metrics to FILE instead of standard output\n"
            "      --format FORMAT      prometheus (text 0.0.4, the default) or openmetrics\n"
            "      --timeline           OpenMetrics with one snapshot per stats interval of\n"
            "                           capture time, each stamped with its capture time\n"
            "                           (for promtool tsdb create-blocks-from openmetrics)\n"
            "\n"
            "Analysis:\n"
            "      --scope SCOPE        global (the default): analyze only TCP between two\n"
            "                           global unicast addresses; all: every TCP packet\n"
            "      --max-flows N        flow-table size (default %u)\n"
            "      --max-holes N        open sequence holes kept per direction, 1-255\n"
            "                           (default %u)\n"
            "      --idle-timeout SECS  open flows idle this long in capture time leave the\n"
            "                           table (default %lld)\n"
            "\n"
            "Reporting (standard error):\n"
            "  -s, --stats-interval SECS\n"
            "                           seconds between stats lines while replaying, and\n"
            "                           between --timeline snapshots (default 1; decimals\n"
            "                           such as 0.5 are fine)\n"
            "  -v, --verbose            one line per packet with loss or window events\n"
            "  -q, --quiet              no stats lines and no progress bar\n"
            "      --top N              at the end, a table of the N flows with the most\n"
            "                           loss events\n"
            "  -h, --help               show this help and exit\n"
            "  -V, --version            show the version and exit\n"
            "\n"
            "Files are read in order; the first file that cannot be opened or read to\n"
            "its end (missing, truncated, corrupt, unsupported link type, bad filter)\n"
            "stops the replay. The metrics of everything analyzed before the fault are\n"
            "still written, and the exit status is 1.\n"
            "\n"
            "Exit status: 0 on success, 1 if an input or the output failed, 2 on a usage\n"
            "error.\n",
            TCPWM_DEFAULT_MAX_FLOWS, TCPWM_DEFAULT_MAX_HOLES,
            (long long)(TCPWM_DEFAULT_IDLE_NS / 1000000000LL));
}

static options_status usage_error(FILE *err, const char *fmt, const char *arg)
{
    fprintf(err, PROG ": ");
    fprintf(err, fmt, arg);
    fprintf(err, "\nTry '" PROG " --help' for more information.\n");
    return OPTIONS_USAGE;
}

int options_parse_seconds(const char *s, int64_t *ns)
{
    int64_t whole = 0, frac = 0;
    int digits = 0, frac_digits = 0;
    const char *p = s;

    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (whole > 1000000000LL)
            return -1;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (++frac_digits > 9)
                return -1;
            frac = frac * 10 + (*p - '0');
        }
    }
    if (*p != '\0' || digits == 0 || whole > 1000000000LL)
        return -1;
    for (; frac_digits < 9; frac_digits++)
        frac *= 10;
    *ns = whole * 1000000000LL + frac;
    return *ns > 0 ? 0 : -1;
}

/* A decimal integer in [min, max]. */
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Join the filter words with spaces, as tcpdump does. */
static char *join_words(char **words, int n)
{
    size_t len = 0, at = 0;
    char *s;

    for (int i = 0; i < n; i++)
        len += strlen(words[i]) + 1;
    s = malloc(len);
    if (s == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        size_t w = strlen(words[i]);
        memcpy(s + at, words[i], w);
        at += w;
        s[at++] = ' ';
    }
    s[at - 1] = '\0';
    return s;
}

options_status options_parse(options *o, int argc, char **argv, FILE *out, FILE *err)
{
    bool format_set = false;
    int c;

    memset(o, 0, sizeof *o);
    o->format = TCPWM_FMT_PROMETHEUS;
    o->interval_ns = 1000000000LL;
    tcpwm_config_default(&o->config);
    o->config.scope = TCPWM_SCOPE_GLOBAL;
    o->inputs = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *o->inputs);
    if (o->inputs == NULL) {
        fprintf(err, PROG ": out of memory\n");
        return OPTIONS_NOMEM;
    }

    /* Messages are ours, so that every usage error reads the same way.
     * getopt_long permutes argv: like tcpdump, filter words may come
     * before or after the flags ("--" ends the flags). */
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        const char *arg = optarg;

        switch (c) {
        case 'r':
            o->inputs[o->n_inputs++] = arg;
            break;
        case 'o':
            o->output = arg;
            break;
        case OPT_FORMAT:
            if (strcmp(arg, "prometheus") == 0)
                o->format = TCPWM_FMT_PROMETHEUS;
            else if (strcmp(arg, "openmetrics") == 0)
                o->format = TCPWM_FMT_OPENMETRICS;
            else
                return usage_error(err, "--format: expected prometheus or openmetrics, not '%s'",
                                   arg);
            format_set = true;
            break;
        case OPT_TIMELINE:
            o->timeline = true;
            break;
        case OPT_SCOPE:
            if (strcmp(arg, "global") == 0)
                o->config.scope = TCPWM_SCOPE_GLOBAL;
            else if (strcmp(arg, "all") == 0)
                o->config.scope = TCPWM_SCOPE_ALL;
            else
                return usage_error(err, "--scope: expected global or all, not '%s'", arg);
            break;
        case 's':
            if (options_parse_seconds(arg, &o->interval_ns) != 0)
                return usage_error(err,
                                   "--stats-interval: expected a positive number of seconds, "
                                   "not '%s'",
                                   arg);
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case OPT_TOP:
            if (parse_u32(arg, 1, 1000000, &o->top) != 0)
                return usage_error(err, "--top: expected a count from 1 to 1000000, not '%s'", arg);
            break;
        case OPT_MAX_FLOWS:
            if (parse_u32(arg, 1, MAX_FLOWS_LIMIT, &o->config.max_flows) != 0)
                return usage_error(err,
                                   "--max-flows: expected a count from 1 to 1073741824, "
                                   "not '%s'",
                                   arg);
            break;
        case OPT_MAX_HOLES:
            if (parse_u32(arg, 1, 255, &o->config.max_holes) != 0)
                return usage_error(err, "--max-holes: expected a count from 1 to 255, not '%s'",
                                   arg);
            break;
        case OPT_IDLE_TIMEOUT:
            if (options_parse_seconds(arg, &o->config.idle_timeout_ns) != 0)
                return usage_error(err,
                                   "--idle-timeout: expected a positive number of seconds, "
                                   "not '%s'",
                                   arg);
            break;
        case 'h':
            print_help(out);
            return OPTIONS_EXIT_OK;
        case 'V':
            fprintf(out, PROG " %s (%s)\n", TCPWM_VERSION, pcap_lib_version());
            return OPTIONS_EXIT_OK;
        case ':':
            return usage_error(err, "option '%s' needs a value", argv[optind - 1]);
        default: /* '?' */
            if (optopt != 0) {
                char flag[3] = {'-', (char)optopt, '\0'};
                return usage_error(err, "unknown option '%s'", flag);
            }
            return usage_error(err, "unknown option '%s'", argv[optind - 1]);
        }
    }

    if (o->n_inputs == 0)
        return usage_error(err, "%s", "no input: give at least one -r FILE");
    if (o->timeline) {
        if (format_set && o->format != TCPWM_FMT_OPENMETRICS)
            return usage_error(err, "%s",
                               "--timeline writes OpenMetrics; it cannot be combined with "
                               "--format prometheus");
        o->format = TCPWM_FMT_OPENMETRICS;
    }
    if (optind < argc) {
        o->filter = join_words(argv + optind, argc - optind);
        if (o->filter == NULL) {
            fprintf(err, PROG ": out of memory\n");
            return OPTIONS_NOMEM;
        }
    }
    return OPTIONS_RUN;
}

void options_free(options *o)
{
    free(o->inputs);
    free(o->filter);
    o->inputs = NULL;
    o->filter = NULL;
}
