/* SPDX-License-Identifier: MIT */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tcpwm/decode.h"
#include "tcpwm/monitor.h"

/* Why activation failed, in words a user can act on. */
static void activate_error(capture *c, int rc, char *err, size_t errlen)
{
    const char *detail = pcap_geterr(c->p);

    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        snprintf(err, errlen, "%s: no such interface (see 'ip link show')", c->iface);
        break;
    case PCAP_ERROR_PERM_DENIED:
        snprintf(err, errlen,
                 "%s: permission denied (%s): capturing needs root, or the capabilities "
                 "cap_net_raw and cap_net_admin (sudo setcap cap_net_raw,cap_net_admin=eip "
                 "$(command -v tcp_window_monitor))",
                 c->iface, detail);
        break;
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        snprintf(err, errlen,
                 "%s: no permission for promiscuous mode; run as root, or try --no-promisc",
                 c->iface);
        break;
    case PCAP_ERROR_IFACE_NOT_UP:
        snprintf(err, errlen, "%s: the interface is down (ip link set %s up)", c->iface, c->iface);
        break;
    default:
        snprintf(err, errlen, "%s: cannot capture: %s", c->iface,
                 detail[0] != '\0' ? detail : pcap_statustostr(rc));
        break;
    }
}

static int set_filter(capture *c, const char *filter, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    bpf_u_int32 net, mask;
    struct bpf_program prog;
    int rc;

    /* The netmask only matters for "ip broadcast". */
    if (pcap_lookupnet(c->iface, &net, &mask, perr) != 0)
        mask = PCAP_NETMASK_UNKNOWN;
    if (pcap_compile(c->p, &prog, filter, 1, mask) != 0) {
        snprintf(err, errlen, "%s: bad filter expression '%s': %s", c->iface, filter,
                 pcap_geterr(c->p));
        return -1;
    }
    rc = pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot set filter '%s': %s", c->iface, filter,
                 pcap_geterr(c->p));
        return -1;
    }
    return 0;
}

int capture_open(capture *c, const capture_config *cfg, char *err, size_t errlen, char *warn,
                 size_t warnlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    int rc;

    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->iface = cfg->iface;
    c->ts_mult = 1;
    warn[0] = '\0';
    perr[0] = '\0';
    c->p = pcap_create(cfg->iface, perr);
    if (c->p == NULL) {
        snprintf(err, errlen, "%s: cannot capture: %s", cfg->iface, perr);
        return -1;
    }
    /* Immediate mode stays off: the kernel hands over whole blocks of
     * packets, at the latest after the block timeout. */
    if (pcap_set_snaplen(c->p, cfg->snaplen) != 0 || pcap_set_promisc(c->p, cfg->promisc) != 0 ||
        pcap_set_timeout(c->p, CAPTURE_BLOCK_TIMEOUT_MS) != 0 ||
        pcap_set_buffer_size(c->p, cfg->buffer_kib * 1024) != 0 ||
        pcap_set_immediate_mode(c->p, 0) != 0) {
        snprintf(err, errlen, "%s: cannot configure the capture", cfg->iface);
        goto fail;
    }
    if (pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO) != 0)
        c->ts_mult = 1000;

    rc = pcap_activate(c->p);
    if (rc < 0) {
        activate_error(c, rc, err, errlen);
        goto fail;
    }
    if (rc == PCAP_WARNING_PROMISC_NOTSUP)
        snprintf(warn, warnlen, "%s: promiscuous mode is not supported; capturing without it",
                 cfg->iface);
    else if (rc > 0)
        snprintf(warn, warnlen, "%s: %s", cfg->iface, pcap_geterr(c->p));

    /* "any" gives Linux cooked headers; SLL2 also names the interface. */
    if (strcmp(cfg->iface, "any") == 0)
        (void)pcap_set_datalink(c->p, DLT_LINUX_SLL2);
    c->dlt = pcap_datalink(c->p);
    if (!tcpwm_link_supported(c->dlt)) {
        snprintf(err, errlen, "%s: unsupported link type %s (%d)", cfg->iface, capture_link_name(c),
                 c->dlt);
        goto fail;
    }
    if (cfg->filter != NULL && set_filter(c, cfg->filter, err, errlen) != 0)
        goto fail;
    if (pcap_setnonblock(c->p, 1, perr) != 0) {
        snprintf(err, errlen, "%s: cannot capture: %s", cfg->iface, perr);
        goto fail;
    }
    c->fd = pcap_get_selectable_fd(c->p);
    return 0;

fail:
    pcap_close(c->p);
    c->p = NULL;
    return -1;
}

/* ---- -w and its rotation -------------------------------------------- */

/* pcap file header and record header sizes (pcap-savefile(5)). */
#define PCAP_FILE_HEADER 24u
#define PCAP_RECORD_HEADER 16u

/* Digits of n: the width tcpdump pads -W file numbers to. */
static int digits(uint32_t n)
{
    int d = 1;

    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

/* The name of the next file, from -w's template: strftime(3) of it at
 * `when` (local time, as tcpdump) with -G, then the -C number when there
 * is one (0 is left out unless -W asks for fixed-width numbers). 0, or -1
 * if the name does not fit. */
static int file_name(const capture *c, int64_t when, char *out, size_t outlen)
{
    char base[sizeof c->dump_name];
    int n;

    if (c->rot.seconds > 0) {
        time_t t = (time_t)when;
        struct tm tm;

        if (localtime_r(&t, &tm) == NULL || strftime(base, sizeof base, c->dump_path, &tm) == 0)
            return -1;
    } else {
        n = snprintf(base, sizeof base, "%s", c->dump_path);
        if (n < 0 || (size_t)n >= sizeof base)
            return -1;
    }
    if (c->rot.max_bytes > 0 && c->rot.files > 0)
        n = snprintf(out, outlen, "%s%0*u", base, digits(c->rot.files), c->dump_count);
    else if (c->rot.max_bytes > 0 && c->dump_count > 0)
        n = snprintf(out, outlen, "%s%u", base, c->dump_count);
    else
        n = snprintf(out, outlen, "%s", base);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Writing failed: close the file as it is and remember why, for
 * capture_flush() to tell once. */
static void dump_failed(capture *c, const char *why)
{
    if (c->dump != NULL)
        pcap_dump_close(c->dump);
    c->dump = NULL;
    c->dump_broken = true;
    if (!c->write_error_told && !c->write_error_new) {
        snprintf(c->write_error, sizeof c->write_error,
                 "%s: writing the capture failed: %s; the analysis goes on, the packets not "
                 "saved are counted in tcp_monitor_capture_write_errors_total",
                 c->dump_name, why);
        c->write_error_new = true;
    }
}

/* Open c->dump_name. 0, or -1 with the reason in c->p's error text. */
static int open_file(capture *c)
{
    c->dump = pcap_dump_open(c->p, c->dump_name);
    c->dump_bytes = PCAP_FILE_HEADER;
    c->dump_packets = 0;
    c->dump_broken = c->dump == NULL;
    return c->dump != NULL ? 0 : -1;
}

/* Close the current file and start the next one: a new -G period at
 * `now` (seconds), or the next -C file. */
static void next_file(capture *c, int64_t now, bool new_period)
{
    if (c->dump != NULL) {
        if (pcap_dump_flush(c->dump) != 0 || ferror(pcap_dump_file(c->dump)))
            dump_failed(c, strerror(errno));
        else
            pcap_dump_close(c->dump);
        c->dump = NULL;
    }
    if (new_period) {
        c->dump_since = now;
        c->dump_count = 0;
        /* -G -W N: N files, then no more (tcpdump exits there; the
         * analysis and the server go on). With -C too, -W only sets the
         * width of the numbers, as in tcpdump. */
        if (c->rot.files > 0 && c->rot.max_bytes == 0 && ++c->dump_files >= c->rot.files) {
            c->dump_done = true;
            return;
        }
    } else {
        c->dump_count++;
        if (c->rot.files > 0 && c->dump_count >= c->rot.files)
            c->dump_count = 0; /* the ring: overwrite the oldest */
    }
    if (file_name(c, now, c->dump_name, sizeof c->dump_name) != 0) {
        dump_failed(c, "the file name is too long");
        return;
    }
    if (open_file(c) != 0)
        dump_failed(c, pcap_geterr(c->p));
}

/* One frame into the -w file, rotating first if it is time. */
static void save(capture *c, const struct pcap_pkthdr *h, const u_char *data)
{
    uint64_t rec = PCAP_RECORD_HEADER + (uint64_t)h->caplen;
    int64_t now = (int64_t)h->ts.tv_sec;

    if (c->dump_done)
        return;
    if (c->rot.seconds > 0 && now - c->dump_since >= (int64_t)c->rot.seconds)
        next_file(c, now, true);
    else if (c->rot.max_bytes > 0 && c->dump_packets > 0 && c->dump_bytes + rec > c->rot.max_bytes)
        next_file(c, now, false);
    if (c->dump_done)
        return;
    if (c->dump == NULL) {
        c->write_errors++;
        return;
    }
    pcap_dump((u_char *)c->dump, h, data);
    c->dump_bytes += rec;
    c->dump_packets++;
    /* stdio writes when its buffer fills: a failure shows here. The
     * record may be half written; the file ends there. */
    if (ferror(pcap_dump_file(c->dump))) {
        c->write_errors++;
        dump_failed(c, strerror(errno));
    }
}

int capture_write(capture *c, const char *path, const capture_rotation *rot, char *err,
                  size_t errlen)
{
    struct timespec now;

    c->dump_path = path;
    if (rot != NULL)
        c->rot = *rot;
    clock_gettime(CLOCK_REALTIME, &now);
    c->dump_since = (int64_t)now.tv_sec;
    c->dump_files = 1;
    if (file_name(c, c->dump_since, c->dump_name, sizeof c->dump_name) != 0) {
        snprintf(err, errlen, "%s: the file name is too long", path);
        return -1;
    }
    /* The file takes the handle's link type, snaplen and timestamp
     * precision (nanoseconds when the handle has them). */
    if (open_file(c) != 0) {
        snprintf(err, errlen, "%s: cannot write the capture: %s", c->dump_name,
                 pcap_geterr(c->p));
        return -1;
    }
    return 0;
}

int capture_flush(capture *c, char *err, size_t errlen)
{
    if (c->dump != NULL) {
        if (pcap_dump_flush(c->dump) != 0 || ferror(pcap_dump_file(c->dump))) {
            c->write_errors++; /* at least the packet whose write failed */
            dump_failed(c, strerror(errno));
        } else if (c->dump_packets > 0) {
            c->write_error_told = false; /* writing works again */
        }
    }
    if (!c->write_error_new)
        return 0;
    snprintf(err, errlen, "%s", c->write_error);
    c->write_error_new = false;
    c->write_error_told = true;
    return -1;
}

const char *capture_link_name(const capture *c)
{
    const char *name = pcap_datalink_val_to_name(c->dlt);

    return name != NULL ? name : "unknown";
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    capture *c = (capture *)(void *)user;
    /* Clamped as the replay clamps it: live counters must equal a replay
     * of the frames this capture saved (-w). */
    int64_t ts = tcpwm_time_ns((int64_t)h->ts.tv_sec, (int64_t)h->ts.tv_usec * c->ts_mult);

    if (c->dump_path != NULL)
        save(c, h, data);
    c->cb(c->ctx, data, h->caplen, h->len < h->caplen ? h->caplen : h->len, ts);
}

int capture_dispatch(capture *c, capture_cb cb, void *ctx, char *err, size_t errlen)
{
    int n;

    c->cb = cb;
    c->ctx = ctx;
    n = pcap_dispatch(c->p, -1, on_packet, (u_char *)(void *)c);
    if (n >= 0)
        return n;
    if (n == PCAP_ERROR_BREAK)
        return CAPTURE_STOPPED;
    snprintf(err, errlen, "%s: capture failed: %s", c->iface, pcap_geterr(c->p));
    return -1;
}

void capture_wait(capture *c, int timeout_ms)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

    if (c->fd < 0) {
        (void)poll(NULL, 0, timeout_ms);
        return;
    }
    /* An error or a hang-up wakes us too; capture_dispatch() reports it.
     * EINTR (a signal) simply returns. */
    (void)poll(&pfd, 1, timeout_ms);
}

void capture_break(capture *c)
{
    if (c->p != NULL)
        pcap_breakloop(c->p);
}

int capture_drops(capture *c, uint64_t *drop, uint64_t *ifdrop)
{
    struct pcap_stat st;
    int rc = 0;

    if (pcap_stats(c->p, &st) == 0) {
        /* Unsigned differences survive a wrap of the 32-bit counters. */
        c->drop += (unsigned)(st.ps_drop - c->last_drop);
        c->ifdrop += (unsigned)(st.ps_ifdrop - c->last_ifdrop);
        c->last_drop = st.ps_drop;
        c->last_ifdrop = st.ps_ifdrop;
    } else {
        rc = -1;
    }
    *drop = c->drop;
    *ifdrop = c->ifdrop;
    return rc;
}

void capture_close(capture *c)
{
    if (c->dump != NULL)
        pcap_dump_close(c->dump);
    c->dump = NULL;
    if (c->p != NULL)
        pcap_close(c->p);
    c->p = NULL;
}
