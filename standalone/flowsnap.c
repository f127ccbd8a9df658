/* SPDX-License-Identifier: MIT */
#include "flowsnap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int flowsnap_init(flowsnap *s)
{
    pthread_condattr_t ca;

    memset(s, 0, sizeof *s);
    atomic_init(&s->pending, false);
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        return -1;
    /* The monotonic clock: a wall clock set back must not stretch a wait. */
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&s->cv, &ca) != 0) {
        pthread_mutex_destroy(&s->mu);
        return -1;
    }
    pthread_condattr_destroy(&ca);
    return 0;
}

void flowsnap_destroy(flowsnap *s)
{
    free(s->ans.flows);
    s->ans.flows = NULL;
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

/* Wait on cv until deadline; false once it has passed. */
static bool wait_until(flowsnap *s, const struct timespec *deadline)
{
    return pthread_cond_timedwait(&s->cv, &s->mu, deadline) != ETIMEDOUT;
}

int flowsnap_query(flowsnap *s, uint32_t want, top_by by, flowsnap_answer *out)
{
    struct timespec deadline;
    uint64_t mine;
    int rc = -1;

    memset(out, 0, sizeof *out);
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += FLOWSNAP_WAIT_MS / 1000;
    deadline.tv_nsec += (FLOWSNAP_WAIT_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&s->mu);
    while (s->busy && !s->closed)
        if (!wait_until(s, &deadline))
            break;
    if (s->busy || s->closed) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    s->busy = true;
    mine = ++s->asked;
    s->want = want;
    s->by = by;
    atomic_store(&s->pending, true);
    while (s->answered != mine && !s->closed)
        if (!wait_until(s, &deadline))
            break;
    if (s->answered == mine) {
        *out = s->ans;
        memset(&s->ans, 0, sizeof s->ans);
        rc = 0;
    }
    /* Answered or given up: either way the question is withdrawn, and an
     * answer that comes later finds it gone (flowsnap_serve). */
    atomic_store(&s->pending, false);
    s->busy = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void flowsnap_serve(flowsnap *s, const tcpwm_monitor *m, int64_t time_ns, uint64_t left)
{
    uint64_t question;
    uint32_t want;
    top_by by;
    top t;

    if (!atomic_load(&s->pending))
        return;
    pthread_mutex_lock(&s->mu);
    question = s->asked;
    want = s->want;
    by = s->by;
    pthread_mutex_unlock(&s->mu);

    /* The ranking, outside the lock: the requester only waits. Out of
     * memory leaves the question to time out. */
    if (top_init(&t, want, by) != 0)
        return;
    tcpwm_monitor_foreach_flow(m, top_offer, &t);
    top_sort(&t);

    pthread_mutex_lock(&s->mu);
    if (s->busy && s->asked == question && s->answered != question) {
        free(s->ans.flows);
        s->ans = (flowsnap_answer){
            .flows = t.heap, .n = t.n, .in_table = t.seen, .left = left, .time_ns = time_ns};
        t.heap = NULL;
        s->answered = question;
        atomic_store(&s->pending, false);
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    top_free(&t);
}

void flowsnap_close(flowsnap *s)
{
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}
