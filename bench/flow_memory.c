/* SPDX-License-Identifier: MIT */
/* flow_memory: memory per tracked flow, straight from the core. Feeds SYN
 * segments of N distinct 4-tuples through tcpwm_monitor_segment with the
 * flow table capped at MAX_FLOWS (N = 2 * MAX_FLOWS by default: the second
 * half runs at the cap, evicting the least recently active flow for each
 * new one), and prints at 25/50/75/100% of the run: flows in the table,
 * tcpwm_monitor_memory() and its share per flow, and the process's peak
 * and current RSS (VmHWM / VmRSS). Past the cap, both must stay flat.
 *
 * Usage: flow_memory [-n SEGMENTS] [-m MAX_FLOWS]
 * One line per checkpoint:
 *   checkpoint pct=P segments=S flows=F monitor_bytes=B bytes_per_flow=X
 *     vmhwm_kb=H vmrss_kb=R rss_bytes_per_flow=Y ns_per_segment=T
 * where rss_bytes_per_flow is (VmHWM now - VmHWM before the first segment)
 * / flows: what the table costs beyond its fixed bucket array. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcpwm/monitor.h"

/* VmHWM and VmRSS of this process, in kB. */
static void rss_kb(long *hwm, long *rss)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");

    *hwm = *rss = -1;
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            *hwm = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmRSS:", 6) == 0)
            *rss = strtol(line + 6, NULL, 10);
    }
    fclose(f);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse_u32(const char *s, uint32_t *v)
{
    char *end;
    unsigned long x = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || x == 0 || x > (1ul << 30))
        return -1;
    *v = (uint32_t)x;
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t max_flows = 1u << 20, n = 0;
    int c;

    while ((c = getopt(argc, argv, "n:m:")) != -1) {
        if (c == 'n' && parse_u32(optarg, &n) == 0)
            continue;
        if (c == 'm' && parse_u32(optarg, &max_flows) == 0)
            continue;
        fprintf(stderr, "Usage: flow_memory [-n SEGMENTS] [-m MAX_FLOWS]\n");
        return 2;
    }
    if (n == 0)
        n = 2 * max_flows;

    tcpwm_config cfg;
    tcpwm_config_default(&cfg);
    cfg.scope = TCPWM_SCOPE_ALL;
    cfg.max_flows = max_flows;
    tcpwm_monitor *m;
    int rc = tcpwm_monitor_new(&cfg, &m);
    if (rc != 0) {
        fprintf(stderr, "flow_memory: tcpwm_monitor_new failed (%d)\n", rc);
        return 1;
    }
    long hwm0, rss0;
    rss_kb(&hwm0, &rss0);
    printf("start max_flows=%u segments=%u monitor_bytes=%zu vmhwm_kb=%ld vmrss_kb=%ld\n",
           max_flows, n, tcpwm_monitor_memory(m), hwm0, rss0);

    tcpwm_segment seg;
    memset(&seg, 0, sizeof seg);
    seg.family = 4;
    seg.flags = TCPWM_SYN;
    seg.opt_present = TCPWM_OPT_MSS | TCPWM_OPT_WSCALE | TCPWM_OPT_SACK_PERM | TCPWM_OPT_TS;
    seg.mss = 1460;
    seg.wscale = 7;
    seg.window = 64240;
    seg.dst[0] = 93;
    seg.dst[1] = 184;
    seg.dst[2] = 216;
    seg.dst[3] = 34;
    seg.dport = 443;

    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    double t0 = now_s(), tprev = t0;
    uint32_t done = 0;
    for (int q = 1; q <= 4; q++) {
        uint32_t stop = (uint32_t)((uint64_t)n * (uint32_t)q / 4u);
        for (; done < stop; done++) {
            uint32_t i = done;
            /* 45.0.0.0/8 plus the source port: distinct for 2^32 flows. */
            seg.src[0] = 45;
            seg.src[1] = (uint8_t)(i >> 16);
            seg.src[2] = (uint8_t)(i >> 8);
            seg.src[3] = (uint8_t)i;
            seg.sport = (uint16_t)(1024u + (i >> 24));
            seg.seq = i * 2654435761u;
            seg.tsval = i;
            /* One microsecond apart: no flow reaches the idle timeout. */
            seg.ts_ns = 1700000000LL * 1000000000LL + (int64_t)i * 1000;
            tcpwm_monitor_count_frame(m);
            tcpwm_monitor_segment(m, &seg, NULL);
        }
        double t = now_s();
        long hwm, rss;
        rss_kb(&hwm, &rss);
        uint64_t flows = mt->active_connections;
        size_t mem = tcpwm_monitor_memory(m);
        uint32_t chunk = stop - (uint32_t)((uint64_t)n * (uint32_t)(q - 1) / 4u);
        printf("checkpoint pct=%d segments=%u flows=%llu monitor_bytes=%zu bytes_per_flow=%.1f "
               "vmhwm_kb=%ld vmrss_kb=%ld rss_bytes_per_flow=%.1f evicted=%llu "
               "ns_per_segment=%.1f\n",
               q * 25, done, (unsigned long long)flows, mem,
               flows ? (double)mem / (double)flows : 0.0, hwm, rss,
               flows ? (double)(hwm - hwm0) * 1024.0 / (double)flows : 0.0,
               (unsigned long long)mt->evicted[TCPWM_EVICT_MAX_FLOWS],
               chunk ? (t - tprev) * 1e9 / (double)chunk : 0.0);
        fflush(stdout);
        tprev = t;
    }
    tcpwm_monitor_free(m);
    return 0;
}
