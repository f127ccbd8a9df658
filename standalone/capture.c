/* SPDX-License-Identifier: MIT */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

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

int capture_write(capture *c, const char *path, char *err, size_t errlen)
{
    /* The file takes the handle's link type, snaplen and timestamp
     * precision (nanoseconds when the handle has them). */
    c->dump = pcap_dump_open(c->p, path);
    if (c->dump == NULL) {
        snprintf(err, errlen, "%s: cannot write the capture: %s", path, pcap_geterr(c->p));
        return -1;
    }
    c->dump_path = path;
    return 0;
}

int capture_flush(capture *c, char *err, size_t errlen)
{
    if (c->dump == NULL)
        return 0;
    if (pcap_dump_flush(c->dump) == 0 && !ferror(pcap_dump_file(c->dump)))
        return 0;
    snprintf(err, errlen, "%s: writing the capture failed: %s; going on without it", c->dump_path,
             strerror(errno));
    pcap_dump_close(c->dump);
    c->dump = NULL;
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

    if (c->dump != NULL)
        pcap_dump((u_char *)c->dump, h, data);
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
