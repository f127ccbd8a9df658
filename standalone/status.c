/* SPDX-License-Identifier: MIT */
#include "status.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30

static int64_t now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void status_init(status *s, FILE *err, bool quiet, int64_t interval_ns, tcpwm_scope scope)
{
    s->err = err;
    s->lines = !quiet;
    s->tty = !quiet && isatty(fileno(err));
    s->interval_ns = interval_ns;
    s->next_line_ns = now_ns() + interval_ns;
    s->bar = false;
    s->pos = 0;
    s->path = NULL;
    s->size = 0;
    s->shown_pct = -1;
    s->live = false;
    s->dropped = s->if_dropped = 0;
    s->last[0] = '\0';
    s->last_line_ns = 0;
    s->scope = scope;
    s->noted = false;
}

void status_drops(status *s, uint64_t dropped, uint64_t if_dropped)
{
    s->live = true;
    s->dropped = dropped;
    s->if_dropped = if_dropped;
}

void status_file(status *s, const char *path, long long size)
{
    status_clear(s);
    s->pos = 0;
    s->path = path;
    s->size = size;
    s->bar = s->tty && path != NULL && size >= STATUS_BAR_MIN_BYTES;
}

void status_clear(status *s)
{
    if (s->shown_pct < 0)
        return;
    fputs("\r\033[K", s->err);
    s->shown_pct = -1;
}

/* TCP packets the scope left out. */
static uint64_t outside_scope(const status *s, const tcpwm_metrics *mt)
{
    if (s->scope != TCPWM_SCOPE_GLOBAL || mt->global_tcp_packets > mt->tcp_packets)
        return 0;
    return mt->tcp_packets - mt->global_tcp_packets;
}

/* Once, the first time the scope leaves packets out. */
static void scope_note(status *s, const tcpwm_metrics *mt)
{
    if (s->noted || outside_scope(s, mt) == 0)
        return;
    s->noted = true;
    status_clear(s);
    fprintf(s->err, "tcp_window_monitor: note: --scope global analyzes only TCP between two "
                    "global unicast addresses; packets between private, loopback or link-local "
                    "addresses are counted as 'outside --scope global' and not analyzed (no "
                    "loss, no windows): --scope all analyzes every TCP packet\n");
}

/* The figures after "NAME: " (without the time of the line). */
static void format_line(const status *s, const tcpwm_metrics *mt, char *line, size_t size)
{
    uint64_t outside = outside_scope(s, mt);
    uint64_t analyzed = mt->tcp_packets - outside;
    size_t n = 0;

#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n < size)                                                                              \
            n += (size_t)snprintf(line + n, size - n, __VA_ARGS__);                                \
    } while (0)
    ADD("packets %" PRIu64 ", tcp %" PRIu64 ", analyzed %" PRIu64, mt->packets, mt->tcp_packets,
        analyzed);
    if (outside > 0)
        ADD(" (%" PRIu64 " outside --scope global)", outside);
    ADD(", missing %" PRIu64 ", duplicate %" PRIu64 ", out_of_order %" PRIu64
        ", capture_gap %" PRIu64 ", zero_window %" PRIu64 ", window_shrink %" PRIu64
        ", active connections %" PRIu64,
        mt->missing, mt->duplicate, mt->out_of_order, mt->capture_gap, mt->zero_window,
        mt->window_shrink, mt->active_connections);
    if (s->live)
        ADD(", dropped by this monitor %" PRIu64 " (capture buffer full), by the interface %" PRIu64,
            s->dropped, s->if_dropped);
#undef ADD
}

static void stats_line(status *s, const char *what, const tcpwm_metrics *mt, bool force)
{
    char line[sizeof s->last];
    int64_t now = now_ns();

    format_line(s, mt, line, sizeof line);
    /* Live: an unchanged line says nothing new, but a heartbeat shows the
     * monitor is alive. */
    if (!force && s->live && strcmp(line, s->last) == 0 &&
        now - s->last_line_ns < STATUS_HEARTBEAT_NS)
        return;
    memcpy(s->last, line, sizeof line);
    s->last_line_ns = now;
    /* One write: in live mode another thread may print too. */
    fprintf(s->err, "tcp_window_monitor: %s: %s\n", what, line);
}

void status_position(status *s, long long pos)
{
    s->pos = pos;
}

static void draw_bar(status *s)
{
    long long pos = s->pos;
    int pct, fill;

    if (pos < 0)
        return;
    pct = (int)(pos * 100 / s->size);
    if (pct > 100)
        pct = 100;
    if (pct == s->shown_pct)
        return;
    fill = pct * BAR_WIDTH / 100;
    fprintf(s->err, "\r[%.*s%*s] %3d%% %s", fill, "##############################",
            BAR_WIDTH - fill, "", pct, s->path);
    s->shown_pct = pct;
}

void status_tick(status *s, const tcpwm_metrics *mt)
{
    scope_note(s, mt);
    if (s->lines) {
        int64_t now = now_ns();

        if (now >= s->next_line_ns) {
            status_clear(s);
            stats_line(s, "stats", mt, false);
            /* Skip intervals missed while a slow file system stalled us. */
            s->next_line_ns += ((now - s->next_line_ns) / s->interval_ns + 1) * s->interval_ns;
        }
    }
    if (s->bar)
        draw_bar(s);
}

void status_final(status *s, const tcpwm_metrics *mt)
{
    status_clear(s);
    s->bar = false;
    scope_note(s, mt);
    if (s->lines)
        stats_line(s, "final", mt, true);
}
