/* SPDX-License-Identifier: MIT */
#include "timeline.h"

#include <stdlib.h>
#include <string.h>

#include "tcpwm/err.h"
#include "tcpwm/expo.h"

void timeline_init(timeline *t, int64_t interval_ns, const tcpwm_monitor *m)
{
    memset(t, 0, sizeof *t);
    t->interval_ns = interval_ns;
    t->n_ports = tcpwm_monitor_service_ports(m, &t->ports);
}

void timeline_free(timeline *t)
{
    free(t->snaps);
    free(t->ts_ns);
    free(t->blocks);
    t->snaps = NULL;
    t->ts_ns = NULL;
    t->blocks = NULL;
    t->n = t->cap = 0;
}

/* The smallest multiple of iv at or after ts (iv > 0). */
static int64_t ceil_multiple(int64_t ts, int64_t iv)
{
    int64_t q = ts / iv, r = ts % iv;

    if (r > 0)
        q += 1; /* C division truncates toward zero: only positives round up */
    return q * iv;
}

static int push(timeline *t, int64_t ts_ns, const tcpwm_monitor *m)
{
    size_t slots = t->n_ports ? t->n_ports + 1 : 0;

    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        tcpwm_metrics *s;
        int64_t *ts;

        if (cap > SIZE_MAX / sizeof *s / (slots + 1))
            return TCPWM_ENOMEM;
        s = realloc(t->snaps, cap * sizeof *s);
        if (s == NULL)
            return TCPWM_ENOMEM;
        t->snaps = s;
        ts = realloc(t->ts_ns, cap * sizeof *ts);
        if (ts == NULL)
            return TCPWM_ENOMEM;
        t->ts_ns = ts;
        if (slots > 0) {
            s = realloc(t->blocks, cap * slots * sizeof *s);
            if (s == NULL)
                return TCPWM_ENOMEM;
            t->blocks = s;
        }
        t->cap = cap;
    }
    t->snaps[t->n] = *tcpwm_monitor_metrics(m);
    if (slots > 0)
        memcpy(&t->blocks[t->n * slots], tcpwm_monitor_service_metrics(m),
               slots * sizeof *t->blocks);
    t->ts_ns[t->n] = ts_ns;
    t->n++;
    return 0;
}

int timeline_packet(timeline *t, int64_t ts_ns, const tcpwm_monitor *m, uint64_t *skipped)
{
    uint64_t passed;

    *skipped = 0;
    if (!t->started) {
        t->started = true;
        t->last_ns = ts_ns;
        t->next_ns = ceil_multiple(ts_ns, t->interval_ns);
        return 0;
    }
    if (ts_ns > t->last_ns)
        t->last_ns = ts_ns;
    if (ts_ns <= t->next_ns)
        return 0;

    /* Boundaries next_ns, next_ns + iv, ... strictly before ts_ns. */
    passed = (uint64_t)(ts_ns - t->next_ns - 1) / (uint64_t)t->interval_ns + 1;
    if (passed > TIMELINE_MAX_STEP) {
        int64_t last = t->next_ns + (int64_t)(passed - 1) * t->interval_ns;
        int rc = push(t, last, m);

        if (rc != 0)
            return rc;
        *skipped = passed - 1;
        t->next_ns = last + t->interval_ns;
        return 0;
    }
    for (uint64_t i = 0; i < passed; i++) {
        int rc = push(t, t->next_ns, m);

        if (rc != 0)
            return rc;
        t->next_ns += t->interval_ns;
    }
    return 0;
}

int timeline_finish(timeline *t, const tcpwm_monitor *m)
{
    if (!t->started)
        return 0;
    /* Every earlier stamp is before some packet, hence before last_ns. */
    if (t->n > 0 && t->ts_ns[t->n - 1] >= t->last_ns)
        return 0;
    return push(t, t->last_ns, m);
}

int timeline_render(const timeline *t, tcpwm_buf *b)
{
    int rc;

    /* No packet at all: an empty but valid document. */
    if (t->n > 0) {
        tcpwm_expo_services svc = {t->ports, t->n_ports, t->blocks};

        rc = tcpwm_expo_metrics_services(b, TCPWM_FMT_OPENMETRICS, t->snaps, t->ts_ns, t->n,
                                         t->n_ports ? &svc : NULL);
        if (rc != 0)
            return rc;
    }
    return tcpwm_expo_finish(b, TCPWM_FMT_OPENMETRICS);
}
