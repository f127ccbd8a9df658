/* SPDX-License-Identifier: MIT */
#include "status.h"

#include <inttypes.h>
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

void status_init(status *s, FILE *err, bool quiet, int64_t interval_ns)
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

static void stats_line(status *s, const char *what, const tcpwm_metrics *mt)
{
    char line[512];
    int n;

    /* One write: in live mode another thread may print too. */
    n = snprintf(line, sizeof line,
                 "tcp_window_monitor: %s: packets %" PRIu64 ", tcp %" PRIu64 ", missing %" PRIu64
                 ", duplicate %" PRIu64 ", out_of_order %" PRIu64 ", capture_gap %" PRIu64
                 ", active connections %" PRIu64,
                 what, mt->packets, mt->tcp_packets, mt->missing, mt->duplicate, mt->out_of_order,
                 mt->capture_gap, mt->active_connections);
    if (s->live && n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n,
                 ", capture dropped %" PRIu64 " (interface %" PRIu64 ")", s->dropped,
                 s->if_dropped);
    fprintf(s->err, "%s\n", line);
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
    if (s->lines) {
        int64_t now = now_ns();

        if (now >= s->next_line_ns) {
            status_clear(s);
            stats_line(s, "stats", mt);
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
    if (s->lines)
        stats_line(s, "final", mt);
}
