/* SPDX-License-Identifier: MIT */
/* Flag parsing (getopt_long) and the checks between flags. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "help.h"

#define PROG "tcp_window_monitor"

/* The flow table's own limit (2^30). */
#define MAX_FLOWS_LIMIT (1u << 30)

/* Long-only options get values above the char range. */
enum {
    OPT_FORMAT = 256,
    OPT_TIMELINE,
    OPT_SCOPE,
    OPT_TOP,
    OPT_TOP_BY,
    OPT_MAX_FLOWS,
    OPT_MAX_HOLES,
    OPT_IDLE_TIMEOUT,
    OPT_LISTEN,
    OPT_TELEMETRY_PATH,
    OPT_SNAPLEN,
    OPT_NO_PROMISC,
    OPT_VXLAN_PORT,
    OPT_GENEVE_PORT,
    OPT_WEB_CONFIG,
    OPT_FLOWS_JSON,
    OPT_SERVICE_PORTS,
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
    {"top-by", required_argument, NULL, OPT_TOP_BY},
    {"flows-json", required_argument, NULL, OPT_FLOWS_JSON},
    {"service-ports", required_argument, NULL, OPT_SERVICE_PORTS},
    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
    {"max-holes", required_argument, NULL, OPT_MAX_HOLES},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"interface", required_argument, NULL, 'i'},
    {"prometheus-port", required_argument, NULL, 'p'},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"telemetry-path", required_argument, NULL, OPT_TELEMETRY_PATH},
    {"snaplen", required_argument, NULL, OPT_SNAPLEN},
    {"buffer-size", required_argument, NULL, 'B'},
    {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
    {"vxlan-port", required_argument, NULL, OPT_VXLAN_PORT},
    {"geneve-port", required_argument, NULL, OPT_GENEVE_PORT},
    {"user", required_argument, NULL, 'Z'},
    {"write", required_argument, NULL, 'w'},
    {"web.config.file", required_argument, NULL, OPT_WEB_CONFIG},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* The leading ':' makes a missing value return ':' rather than '?'. */
static const char short_options[] = ":r:o:s:vqhVi:p:B:Z:w:C:W:G:";

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
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* --vxlan-port / --geneve-port: ports 1-65535, comma-separated or repeated.
 * The first use replaces the default port, later ones add to the list. */
static int parse_ports(const char *arg, uint16_t list[TCPWM_MAX_TUNNEL_PORTS], bool *replaced)
{
    char buf[128];
    if (strlen(arg) >= sizeof buf)
        return -1;
    strcpy(buf, arg);
    if (!*replaced) {
        memset(list, 0, TCPWM_MAX_TUNNEL_PORTS * sizeof list[0]);
        *replaced = true;
    }
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint32_t port;
        if (parse_u32(tok, 1, 65535, &port) != 0 || tcpwm_decode_port_add(list, port) != 0)
            return -1;
    }
    return list[0] != 0 ? 0 : -1;
}

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

/* --service-ports LIST: ports 1-65535, comma-separated; repeating the
 * flag adds to the list. Every port adds a series to each per-flow family
 * (docs/semantics.md 8), hence the cap. 0, or -1 with the reason in why. */
static int parse_service_ports(const char *arg, tcpwm_config *c, char *why, size_t whylen)
{
    const char *p = arg;

    if (*p == '\0') {
        snprintf(why, whylen, "--service-ports: expected a list of ports such as 22,80,443");
        return -1;
    }
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char tok[8];
        uint32_t port;

        if (n == 0 || n >= sizeof tok) {
            snprintf(why, whylen,
                     "--service-ports: expected ports from 1 to 65535, comma-separated, not "
                     "'%s'",
                     arg);
            return -1;
        }
        memcpy(tok, p, n);
        tok[n] = '\0';
        if (parse_u32(tok, 1, 65535, &port) != 0) {
            snprintf(why, whylen, "--service-ports: '%s' is not a port from 1 to 65535", tok);
            return -1;
        }
        for (uint32_t i = 0; i < c->n_service_ports; i++) {
            if (c->service_ports[i] == port) {
                snprintf(why, whylen, "--service-ports: port %u is listed twice", (unsigned)port);
                return -1;
            }
        }
        if (c->n_service_ports == TCPWM_MAX_SERVICE_PORTS) {
            snprintf(why, whylen,
                     "--service-ports: at most %d ports (each adds a series to every "
                     "per-flow family)",
                     TCPWM_MAX_SERVICE_PORTS);
            return -1;
        }
        c->service_ports[c->n_service_ports++] = (uint16_t)port;
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

/* A path of unreserved URL characters (RFC 3986 2.3) and slashes, so that
 * it needs no escaping in the HTML page; not one the server answers itself. */
static int valid_telemetry_path(const char *p)
{
    size_t n = strlen(p);

    if (p[0] != '/' || n < 2 || n > 256 || strcmp(p, "/-/healthy") == 0 ||
        strcmp(p, "/-/ready") == 0 || strcmp(p, "/flows") == 0)
        return -1;
    for (; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-._~/", *p) != NULL))
            return -1;
    }
    return 0;
}

/* The name of a flag that belongs to live capture (live) or to replay
 * (!live) only, for the usage error; NULL for the others. */
static const char *mode_flag(int c, bool live)
{
    switch (c) {
    case 'o':
        return live ? NULL : "-o";
    case OPT_FORMAT:
        return live ? NULL : "--format";
    case OPT_TIMELINE:
        return live ? NULL : "--timeline";
    case OPT_FLOWS_JSON:
        return live ? NULL : "--flows-json";
    case 'p':
        return live ? "-p" : NULL;
    case OPT_LISTEN:
        return live ? "--listen" : NULL;
    case OPT_TELEMETRY_PATH:
        return live ? "--telemetry-path" : NULL;
    case OPT_SNAPLEN:
        return live ? "--snaplen" : NULL;
    case 'B':
        return live ? "-B" : NULL;
    case OPT_NO_PROMISC:
        return live ? "--no-promisc" : NULL;
    case 'Z':
        return live ? "-Z" : NULL;
    case 'w':
        return live ? "-w" : NULL;
    case 'C':
        return live ? "-C" : NULL;
    case 'W':
        return live ? "-W" : NULL;
    case 'G':
        return live ? "-G" : NULL;
    case OPT_WEB_CONFIG:
        return live ? "--web.config.file" : NULL;
    default:
        return NULL;
    }
}

/* True if word names something to read: an existing file that is not a
 * directory, with a dot or a slash in its name, so that a file called
 * "tcp" or "port" in the current directory never hides a filter word. */
static bool names_file(const char *word)
{
    struct stat st;

    return (strchr(word, '.') != NULL || strchr(word, '/') != NULL) && stat(word, &st) == 0 &&
           !S_ISDIR(st.st_mode);
}

/* True if word ends like a capture file's name ("x.pcap", "x.pcapng.gz"):
 * no BPF expression word does. */
static bool looks_like_capture(const char *word)
{
    static const char *const ext[] = {".pcap", ".pcapng", ".cap", ".gz", ".zst",
                                      ".lz4", ".xz", ".dmp", ".ntar"};
    size_t n = strlen(word);

    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcmp(word + n - e, ext[i]) == 0)
            return true;
    }
    return false;
}

/* The words after the options of a replay are the filter, as with
 * tcpdump, unless they are files: `-r *.pcap` gives `-r a.pcap b.pcap
 * c.pcap`, and those are read as more files. Words are files when every
 * one names an existing file or ends like a capture file's name (a
 * missing one then fails as a missing -r file would, in its turn). Some
 * files and some filter words is a usage error: the files would be
 * silently taken as a filter or the filter as files. 0: words are the
 * filter; 1: they were added to o->inputs; -1: usage error printed. */
static int words_as_files(options *o, char **words, int n, FILE *err)
{
    int files = 0;

    for (int i = 0; i < n; i++)
        if (names_file(words[i]) || looks_like_capture(words[i]))
            files++;
    if (files == 0)
        return 0;
    if (files < n) {
        for (int i = 0; i < n; i++) {
            if (names_file(words[i]) || looks_like_capture(words[i])) {
                usage_error(err,
                            "'%s' after the options is a file, but the other words are not: "
                            "give each file its own -r (-r a.pcap -r b.pcap) and put the "
                            "filter after the options",
                            words[i]);
                return -1;
            }
        }
    }
    for (int i = 0; i < n; i++)
        o->inputs[o->n_inputs++] = words[i];
    return 1;
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
    const char *live_flag = NULL, *offline_flag = NULL;
    bool format_set = false, port_set = false, scope_set = false, top_by_set = false;
    uint16_t port = ENDPOINT_DEFAULT_PORT;
    uint32_t u;
    int c;

    memset(o, 0, sizeof *o);
    o->format = TCPWM_FMT_PROMETHEUS;
    o->interval_ns = 1000000000LL;
    tcpwm_config_default(&o->config);
    o->config.scope = TCPWM_SCOPE_GLOBAL;
    endpoint_default(&o->listen);
    o->telemetry_path = OPTIONS_DEFAULT_TELEMETRY_PATH;
    o->snaplen = OPTIONS_DEFAULT_SNAPLEN;
    o->buffer_kib = OPTIONS_DEFAULT_BUFFER_KIB;
    o->promisc = true;
    bool vxlan_ports_set = false, geneve_ports_set = false;
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

        if (mode_flag(c, false) != NULL)
            offline_flag = mode_flag(c, false);
        if (mode_flag(c, true) != NULL)
            live_flag = mode_flag(c, true);

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
            scope_set = true;
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
        case OPT_TOP_BY:
            if (top_by_parse(arg, &o->top_by) != 0)
                return usage_error(err, "--top-by: expected " TOP_BY_NAMES ", not '%s'", arg);
            top_by_set = true;
            break;
        case OPT_FLOWS_JSON:
            if (arg[0] == '\0')
                return usage_error(err, "%s", "--flows-json: expected a file name");
            o->flows_json = arg;
            break;
        case OPT_MAX_FLOWS:
            if (parse_u32(arg, 1, MAX_FLOWS_LIMIT, &o->config.max_flows) != 0)
                return usage_error(err,
                                   "--max-flows: expected a count from 1 to 1073741824, "
                                   "not '%s'",
                                   arg);
            break;
        case OPT_SERVICE_PORTS: {
            char why[160];
            if (parse_service_ports(arg, &o->config, why, sizeof why) != 0)
                return usage_error(err, "%s", why);
            break;
        }
        case OPT_MAX_HOLES:
            if (parse_u32(arg, 1, 255, &o->config.max_holes) != 0)
                return usage_error(err, "--max-holes: expected a count from 1 to 255, not '%s'",
                                   arg);
            break;
        case OPT_VXLAN_PORT:
            if (parse_ports(arg, o->config.decode.vxlan_ports, &vxlan_ports_set) != 0)
                return usage_error(err,
                                   "--vxlan-port: expected up to 8 ports from 1 to 65535, "
                                   "not '%s'",
                                   arg);
            break;
        case OPT_GENEVE_PORT:
            if (parse_ports(arg, o->config.decode.geneve_ports, &geneve_ports_set) != 0)
                return usage_error(err,
                                   "--geneve-port: expected up to 8 ports from 1 to 65535, "
                                   "not '%s'",
                                   arg);
            break;
        case OPT_IDLE_TIMEOUT:
            if (options_parse_seconds(arg, &o->config.idle_timeout_ns) != 0)
                return usage_error(err,
                                   "--idle-timeout: expected a positive number of seconds, "
                                   "not '%s'",
                                   arg);
            break;
        case 'i':
            if (o->interface != NULL)
                return usage_error(err, "%s", "-i: give one interface (or 'any')");
            o->interface = arg;
            break;
        case 'p':
            if (parse_u32(arg, 0, 65535, &u) != 0)
                return usage_error(err,
                                   "--prometheus-port: expected a port from 0 to 65535, "
                                   "not '%s'",
                                   arg);
            port = (uint16_t)u;
            port_set = true;
            break;
        case OPT_LISTEN:
            if (endpoint_parse(arg, &o->listen) != 0)
                return usage_error(err,
                                   "--listen: expected ADDR:PORT (192.0.2.1:9100, [::1]:9100 "
                                   "or :9100), not '%s'",
                                   arg);
            break;
        case OPT_TELEMETRY_PATH:
            if (valid_telemetry_path(arg) != 0)
                return usage_error(err,
                                   "--telemetry-path: expected a path such as /metrics "
                                   "(letters, digits, - . _ ~ /; not /-/healthy, /-/ready or "
                                   "/flows), not '%s'",
                                   arg);
            o->telemetry_path = arg;
            break;
        case OPT_SNAPLEN:
            if (parse_u32(arg, 64, 262144, &u) != 0)
                return usage_error(err,
                                   "--snaplen: expected a byte count from 64 to 262144, "
                                   "not '%s'",
                                   arg);
            o->snaplen = (int)u;
            break;
        case 'B':
            if (parse_u32(arg, 64, 2097151, &u) != 0)
                return usage_error(err,
                                   "--buffer-size: expected KiB from 64 to 2097151, "
                                   "not '%s'",
                                   arg);
            o->buffer_kib = (int)u;
            break;
        case OPT_NO_PROMISC:
            o->promisc = false;
            break;
        case 'Z':
            if (*arg == '\0')
                return usage_error(err, "%s", "--user: expected a user name");
            o->user = arg;
            break;
        case 'w':
            if (*arg == '\0')
                return usage_error(err, "%s", "--write: expected a file name");
            o->write = arg;
            break;
        /* tcpdump's rotation flags, in its units: -C in millions of bytes. */
        case 'C':
            if (parse_u32(arg, 1, 1000000, &u) != 0)
                return usage_error(err, "-C: expected a file size in MB (1,000,000 bytes) from 1 "
                                        "to 1000000, not '%s'", arg);
            o->write_mb = u;
            break;
        case 'W':
            if (parse_u32(arg, 1, 1000000, &u) != 0)
                return usage_error(err, "-W: expected a file count from 1 to 1000000, not '%s'",
                                   arg);
            o->write_files = u;
            break;
        case 'G':
            if (parse_u32(arg, 1, 31536000, &u) != 0)
                return usage_error(err, "-G: expected seconds from 1 to 31536000, not '%s'", arg);
            o->write_seconds = u;
            break;
        case OPT_WEB_CONFIG:
            if (*arg == '\0')
                return usage_error(err, "%s", "--web.config.file: expected a file name");
            o->web_config = arg;
            break;
        case 'h':
            help_print(out);
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

    if (o->n_inputs == 0 && o->interface == NULL)
        return usage_error(err, "%s",
                           "no input: give -r FILE to replay a capture, or -i INTERFACE to "
                           "capture live");
    if (o->n_inputs > 0 && o->interface != NULL)
        return usage_error(err, "%s", "-r and -i cannot be combined: replay files or capture live");
    if (o->interface != NULL && offline_flag != NULL)
        return usage_error(err,
                           "%s is for replaying files (-r); a live capture serves its "
                           "metrics over HTTP",
                           offline_flag);
    if (o->interface == NULL && live_flag != NULL)
        return usage_error(err, "%s is for live capture (-i)", live_flag);
    if (port_set)
        o->listen.port = port;
    if ((o->write_mb > 0 || o->write_files > 0 || o->write_seconds > 0) && o->write == NULL)
        return usage_error(err, "%s", "-C, -W and -G rotate the -w file: give -w FILE too");
    if (o->write_files > 0 && o->write_mb == 0 && o->write_seconds == 0)
        return usage_error(err, "%s", "-W needs -C (a ring of files) or -G (a number of files)");
    if ((o->write_mb > 0 || o->write_seconds > 0) && strcmp(o->write, "-") == 0)
        return usage_error(err, "%s", "-C and -G need a file name, not '-' (standard output)");
    /* A capture file was chosen to be analyzed, and lab and shared
     * captures are mostly of private addresses: replay analyzes every TCP
     * packet, as the Wireshark plugin does. A live exporter keeps the
     * original tool's default, global addresses only: its traffic is what
     * an internet-facing host sees, its own private and loopback traffic
     * aside. Either way the stats lines say what the scope left out. */
    if (!scope_set)
        o->config.scope = o->interface != NULL ? TCPWM_SCOPE_GLOBAL : TCPWM_SCOPE_ALL;
    /* A ranking of nothing: the flag would be silently ignored. */
    if (top_by_set && o->top == 0)
        return usage_error(err, "%s", "--top-by ranks the flows of --top: give --top N too");
    /* Two documents on one stream would be neither. */
    if (o->flows_json != NULL && strcmp(o->flows_json, "-") == 0 &&
        (o->output == NULL || strcmp(o->output, "-") == 0))
        return usage_error(err, "%s",
                           "--flows-json -: standard output carries the metrics; give -o FILE "
                           "for them");
    if (o->timeline) {
        if (format_set && o->format != TCPWM_FMT_OPENMETRICS)
            return usage_error(err, "%s",
                               "--timeline writes OpenMetrics; it cannot be combined with "
                               "--format prometheus");
        o->format = TCPWM_FMT_OPENMETRICS;
    }
    if (optind < argc && o->interface == NULL) {
        int as_files = words_as_files(o, argv + optind, argc - optind, err);
        if (as_files < 0)
            return OPTIONS_USAGE;
        if (as_files > 0)
            optind = argc;
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
