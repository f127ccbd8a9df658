/* SPDX-License-Identifier: MIT */
#include "snapshot.h"

#include <stdatomic.h>
#include <string.h>

int snapshot_init(snapshot *s)
{
    memset(&s->d, 0, sizeof s->d);
    atomic_init(&s->write_errors, 0);
    return pthread_mutex_init(&s->mu, NULL) == 0 ? 0 : -1;
}

void snapshot_destroy(snapshot *s)
{
    pthread_mutex_destroy(&s->mu);
}

/* Under the lock. */
static void store(snapshot *s, const tcpwm_metrics *m, uint64_t dropped, uint64_t if_dropped)
{
    s->d.m = *m;
    s->d.capture_dropped = dropped;
    s->d.capture_if_dropped = if_dropped;
    s->d.ready = true;
}

bool snapshot_try_publish(snapshot *s, const tcpwm_metrics *m, uint64_t dropped,
                          uint64_t if_dropped)
{
    if (pthread_mutex_trylock(&s->mu) != 0)
        return false;
    store(s, m, dropped, if_dropped);
    pthread_mutex_unlock(&s->mu);
    return true;
}

void snapshot_publish(snapshot *s, const tcpwm_metrics *m, uint64_t dropped, uint64_t if_dropped)
{
    pthread_mutex_lock(&s->mu);
    store(s, m, dropped, if_dropped);
    pthread_mutex_unlock(&s->mu);
}

void snapshot_write_errors(snapshot *s, uint64_t n)
{
    atomic_store(&s->write_errors, n);
}

void snapshot_scrape(snapshot *s, snapshot_data *out)
{
    pthread_mutex_lock(&s->mu);
    s->d.scrapes++;
    *out = s->d;
    pthread_mutex_unlock(&s->mu);
    out->capture_write_errors = atomic_load(&s->write_errors);
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
    int rc = tcpwm_expo_metrics(b, f, &d->m, NULL, 1);

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
