/* SPDX-License-Identifier: MIT */
#include "snapshot.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The per-service blocks of a snapshot: ports + 1. */
static size_t blocks_size(const snapshot_data *d)
{
    return d->n_ports ? (d->n_ports + 1) * sizeof *d->blocks : 0;
}

int snapshot_init(snapshot *s, const tcpwm_monitor *m)
{
    memset(&s->d, 0, sizeof s->d);
    atomic_init(&s->write_errors, 0);
    s->d.n_ports = tcpwm_monitor_service_ports(m, &s->d.ports);
    if (s->d.n_ports) {
        s->d.blocks = calloc(s->d.n_ports + 1, sizeof *s->d.blocks);
        if (s->d.blocks == NULL)
            return -1;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s->d.blocks);
        return -1;
    }
    return 0;
}

void snapshot_destroy(snapshot *s)
{
    pthread_mutex_destroy(&s->mu);
    free(s->d.blocks);
}

/* Under the lock. The totals' per-flow fields are summed from the
 * per-service blocks by tcpwm_monitor_metrics(): the same packets. */
static void store(snapshot *s, const tcpwm_monitor *mon, uint64_t dropped, uint64_t if_dropped)
{
    s->d.m = *tcpwm_monitor_metrics(mon);
    if (s->d.n_ports)
        memcpy(s->d.blocks, tcpwm_monitor_service_metrics(mon), blocks_size(&s->d));
    s->d.capture_dropped = dropped;
    s->d.capture_if_dropped = if_dropped;
    s->d.ready = true;
}

bool snapshot_try_publish(snapshot *s, const tcpwm_monitor *m, uint64_t dropped,
                          uint64_t if_dropped)
{
    if (pthread_mutex_trylock(&s->mu) != 0)
        return false;
    store(s, m, dropped, if_dropped);
    pthread_mutex_unlock(&s->mu);
    return true;
}

void snapshot_publish(snapshot *s, const tcpwm_monitor *m, uint64_t dropped, uint64_t if_dropped)
{
    pthread_mutex_lock(&s->mu);
    store(s, m, dropped, if_dropped);
    pthread_mutex_unlock(&s->mu);
}

void snapshot_write_errors(snapshot *s, uint64_t n)
{
    atomic_store(&s->write_errors, n);
}

int snapshot_scrape(snapshot *s, snapshot_data *out)
{
    /* The ports never change: the copy's room is taken before the lock. */
    tcpwm_metrics *blocks = NULL;

    if (s->d.n_ports) {
        blocks = malloc(blocks_size(&s->d));
        if (blocks == NULL) {
            memset(out, 0, sizeof *out);
            return -1;
        }
    }
    pthread_mutex_lock(&s->mu);
    s->d.scrapes++;
    *out = s->d;
    if (blocks != NULL)
        memcpy(blocks, s->d.blocks, blocks_size(&s->d));
    pthread_mutex_unlock(&s->mu);
    out->blocks = blocks;
    out->capture_write_errors = atomic_load(&s->write_errors);
    return 0;
}

void snapshot_data_free(snapshot_data *d)
{
    free(d->blocks);
    d->blocks = NULL;
}

bool snapshot_ready(snapshot *s)
{
    bool ready;

    pthread_mutex_lock(&s->mu);
    ready = s->d.ready;
    pthread_mutex_unlock(&s->mu);
    return ready;
}

/* One unlabelled counter family with its sample. */
static int counter(tcpwm_buf *b, tcpwm_format f, const char *name, const char *help, uint64_t value)
{
    int rc = tcpwm_expo_family(b, f, name, TCPWM_MT_COUNTER, help);

    if (rc == 0)
        rc = tcpwm_expo_sample_u64(b, f, name, TCPWM_MT_COUNTER, NULL, 0, value);
    return rc;
}

int snapshot_render(const snapshot_data *d, tcpwm_format f, tcpwm_buf *b)
{
    static const char *const version[] = {"version", TCPWM_VERSION};
    tcpwm_expo_services svc = {d->ports, d->n_ports, d->blocks};
    int rc = tcpwm_expo_metrics_services(b, f, &d->m, NULL, 1, d->n_ports ? &svc : NULL);

    if (rc == 0)
        rc = tcpwm_expo_family(b, f, "tcp_monitor_build", TCPWM_MT_INFO,
                               "Version of tcp_window_monitor; always 1.");
    if (rc == 0)
        rc = tcpwm_expo_sample_u64(b, f, "tcp_monitor_build", TCPWM_MT_INFO, version, 1, 1);
    if (rc == 0)
        rc = counter(b, f, "tcp_monitor_scrapes", "Metrics requests served, this one included.",
                     d->scrapes);
    /* Beside tcp_monitor_capture_gap_total on purpose: these are packets
     * lost at the monitor, a capture gap is what such a loss looks like
     * in the analysis. */
    if (rc == 0)
        rc = counter(b, f, "tcp_monitor_capture_dropped",
                     "Packets the kernel dropped because the capture buffer was full "
                     "(pcap_stats ps_drop): lost at the monitor, not in the network.",
                     d->capture_dropped);
    if (rc == 0)
        rc = counter(b, f, "tcp_monitor_capture_interface_dropped",
                     "Packets the network interface or its driver dropped "
                     "(pcap_stats ps_ifdrop).",
                     d->capture_if_dropped);
    if (rc == 0)
        rc = counter(b, f, "tcp_monitor_capture_write_errors",
                     "Captured packets that -w could not save (a write failed: the file "
                     "system is full, ...); the analysis counted them all the same.",
                     d->capture_write_errors);
    if (rc == 0)
        rc = tcpwm_expo_finish(b, f);
    return rc;
}
