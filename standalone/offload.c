/* SPDX-License-Identifier: MIT */
#include "offload.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* Batches in flight: one being filled, the rest full or being run. A
 * batch holds 16,384 segments (core/src/monitor.c), so a hand-over (a lock,
 * and a wake-up when the thread sleeps: a system call, dear in these
 * VMs) comes once per 16,384 packets: some 350 on the benchmark's 5 M. */
#define NBATCH 4u

struct offload {
    tcpwm_monitor *m;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t full_cv;  /* the thread waits: a batch handed over, or stop */
    pthread_cond_t empty_cv; /* the replay waits: a batch run */
    tcpwm_batch *all[NBATCH];
    /* Full batches in order: queue[(head + k) % NBATCH], k < nfull. */
    tcpwm_batch *queue[NBATCH];
    unsigned head, nfull;
    tcpwm_batch *empty[NBATCH]; /* run, to be filled again */
    unsigned nempty;
    bool stop;     /* no more batches will come */
    bool threaded; /* a thread of its own runs the batches; else offload_help */
    bool running;  /* a batch is being run: the next waits for it (order) */
};

/* With mu held, a batch full and none running: runs the oldest, with mu
 * released meanwhile, and gives it back as empty. */
static void run_oldest(offload *o)
{
    tcpwm_batch *b = o->queue[o->head];
    o->head = (o->head + 1) % NBATCH;
    o->nfull--;
    o->running = true;
    pthread_mutex_unlock(&o->mu);
    tcpwm_monitor_run_batch(o->m, b);
    pthread_mutex_lock(&o->mu);
    o->running = false;
    o->empty[o->nempty++] = b;
    pthread_cond_broadcast(&o->empty_cv);
}

static void *run(void *arg)
{
    offload *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (o->nfull == 0 && !o->stop)
            pthread_cond_wait(&o->full_cv, &o->mu);
        if (o->nfull == 0)
            break; /* stopped, and every batch run */
        run_oldest(o);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/* The monitor's tcpwm_handoff_fn. */
static tcpwm_batch *hand(void *ctx, tcpwm_batch *full)
{
    offload *o = ctx;
    pthread_mutex_lock(&o->mu);
    o->queue[(o->head + o->nfull) % NBATCH] = full;
    o->nfull++;
    pthread_cond_signal(&o->full_cv);
    while (o->nempty == 0) {
        /* Without a thread of its own, and nobody else running one: the
         * replay's thread runs the oldest itself. */
        if (!o->threaded && !o->running)
            run_oldest(o);
        else
            pthread_cond_wait(&o->empty_cv, &o->mu);
    }
    tcpwm_batch *b = o->empty[--o->nempty];
    pthread_mutex_unlock(&o->mu);
    return b;
}

static void free_all(offload *o)
{
    for (unsigned k = 0; k < NBATCH; k++)
        tcpwm_batch_free(o->all[k]);
    free(o);
}

/* Undoes what start() set up. */
static void destroy(offload *o)
{
    pthread_cond_destroy(&o->empty_cv);
    pthread_cond_destroy(&o->full_cv);
    pthread_mutex_destroy(&o->mu);
    free_all(o);
}

/* The batches and the lock, and m's analysis deferred to them; NULL (and
 * nothing changed) when one CPU, a build without the analysis, or short
 * of memory. */
static offload *start(tcpwm_monitor *m, bool threaded)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return NULL;
    offload *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->m = m;
    o->threaded = threaded;
    for (unsigned k = 0; k < NBATCH; k++) {
        o->all[k] = tcpwm_batch_new();
        if (o->all[k] == NULL) {
            free_all(o);
            return NULL;
        }
    }
    for (unsigned k = 1; k < NBATCH; k++)
        o->empty[o->nempty++] = o->all[k];
    if (pthread_mutex_init(&o->mu, NULL) != 0) {
        free_all(o);
        return NULL;
    }
    if (pthread_cond_init(&o->full_cv, NULL) != 0) {
        pthread_mutex_destroy(&o->mu);
        free_all(o);
        return NULL;
    }
    if (pthread_cond_init(&o->empty_cv, NULL) != 0) {
        pthread_cond_destroy(&o->full_cv);
        pthread_mutex_destroy(&o->mu);
        free_all(o);
        return NULL;
    }
    /* Deferred first, then the thread: nothing is handed over before the
     * caller feeds the monitor again. */
    if (!tcpwm_monitor_defer_analysis(m, hand, o, o->all[0])) {
        destroy(o);
        return NULL;
    }
    return o;
}

offload *offload_start(tcpwm_monitor *m)
{
    offload *o = start(m, true);
    if (o != NULL && pthread_create(&o->thread, NULL, run, o) != 0) {
        /* Nothing was handed over: the batch being filled is all there is. */
        tcpwm_monitor_run_batch(m, tcpwm_monitor_undefer_analysis(m));
        destroy(o);
        return NULL;
    }
    return o;
}

offload *offload_start_shared(tcpwm_monitor *m)
{
    return start(m, false);
}

bool offload_help(void *ctx)
{
    offload *o = ctx;
    bool did = false;
    pthread_mutex_lock(&o->mu);
    if (!o->threaded && !o->running && o->nfull > 0) {
        run_oldest(o);
        did = true;
    }
    pthread_mutex_unlock(&o->mu);
    return did;
}

void offload_stop(offload *o)
{
    if (o == NULL)
        return;
    tcpwm_batch *last = tcpwm_monitor_undefer_analysis(o->m);
    pthread_mutex_lock(&o->mu);
    o->queue[(o->head + o->nfull) % NBATCH] = last;
    o->nfull++;
    o->stop = true;
    if (o->threaded) {
        pthread_cond_signal(&o->full_cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->thread, NULL);
    } else {
        /* What is left runs here, after a batch under way elsewhere. */
        while (o->nfull > 0 || o->running) {
            if (!o->running)
                run_oldest(o);
            else
                pthread_cond_wait(&o->empty_cv, &o->mu);
        }
        pthread_mutex_unlock(&o->mu);
    }
    destroy(o);
}
