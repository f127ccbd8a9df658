/* SPDX-License-Identifier: MIT */
/* bench/frag_flood: memory under a fragment flood. N first fragments of
 * N distinct datagrams that never finish (offset 0, 1480 bytes, MF set;
 * each its own source address and identification) go through the
 * reassembly module, core/src/reasm.c, directly (the monitor embeds the
 * same module: docs/robustness.md has the flood through it). For each cap, in a child process of its own, it prints at
 * 25/50/75/100% of the flood: datagrams started, in progress, evicted,
 * timed out, the module's own memory, the process's RSS and peak RSS,
 * and the time per fragment; then whether the counts are exact
 * (in progress = min(k, cap), evicted = k - in progress, nothing else)
 * and memory flat once the cap is reached (module memory equal, peak RSS
 * within 1%).
 *
 *   bench/frag_flood [-n N] [-c CAP]... [-s STEP_NS]
 *
 * Records hold 389 context bytes (2 VLAN IDs, a full tcpwm/encap.h
 * context), as the monitor will need.
 * Defaults: N = 2^21 (2,097,152), caps 8192 (the module's default) and
 * 65536, a fragment every 1000 ns of capture time (N of them span 2.1 s,
 * well within the 30 s timeout: every drop is an eviction). With -s large
 * enough for the timeout to end datagrams first, timed_out counts them
 * and the exactness check then is started = in progress + evicted +
 * timed out. Exit 0 when every check passes, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reasm.h"
#include "tcpwm/encap.h"

#define T0_NS INT64_C(1700000000000000000)
#define MAX_CAPS 8
#define CTX_MAX (5 + TCPWM_ENCAP_CTX_MAX)

/* VmRSS and VmHWM of this process, in KiB. */
static void rss_kib(long *now, long *peak)
{
    *now = *peak = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            *now = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            *peak = strtol(line + 6, NULL, 10);
    }
    fclose(f);
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint8_t payload[1480];

static int run(uint32_t n, uint32_t cap, int64_t step_ns)
{
    tcpwm__reasm r;
    /* Records with room for what the monitor will hand it: 2 VLAN IDs
     * and a full encapsulation context (tcpwm/encap.h). */
    if (tcpwm__reasm_init(&r, cap, TCPWM__REASM_DEFAULT_TIMEOUT_NS, CTX_MAX, 0x5eed) != 0) {
        fprintf(stderr, "frag_flood: bad cap %" PRIu32 "\n", cap);
        return 1;
    }
    printf("\ncap %" PRIu32 " datagrams (record %zu B)\n", cap, tcpwm__reasm_record_size(&r));
    printf("  %5s %9s %9s %11s %9s %9s %11s %9s %9s %8s\n", "point", "frags", "started",
           "in_progress", "evicted", "timed_out", "module", "RSS", "peak RSS", "ns/frag");
    printf("  %5s %9s %9s %11s %9s %9s %11s %9s %9s\n", "", "", "", "", "", "", "KiB", "KiB",
           "KiB");
    long peak[4] = {0};
    size_t mem[4] = {0};
    int bad = 0;
    uint32_t done = 0;
    tcpwm__reasm_out out;
    for (int q = 1; q <= 4; q++) {
        uint32_t upto = (uint32_t)((uint64_t)n * (uint64_t)q / 4);
        double t0 = cpu_s();
        for (; done < upto; done++) {
            tcpwm__frag f;
            memset(&f, 0, sizeof(f));
            f.family = 4;
            f.proto = 6;
            /* 10.0.0.0/8 sources, 16 bits of identification each: the
             * flood's keys are all distinct. */
            uint32_t src = 0x0a000000u | (done >> 16);
            f.src[0] = (uint8_t)(src >> 24), f.src[1] = (uint8_t)(src >> 16);
            f.src[2] = (uint8_t)(src >> 8), f.src[3] = (uint8_t)src;
            f.dst[0] = 192, f.dst[1] = 0, f.dst[2] = 2, f.dst[3] = 1;
            f.id = done & 0xffffu;
            f.offset = 0;
            f.len = sizeof(payload);
            f.hdr_len = 20;
            f.more = true;
            f.data = payload;
            f.caplen = 60;
            f.ts_ns = T0_NS + (int64_t)done * step_ns;
            if (tcpwm__reasm_add(&r, &f, &out) != TCPWM__REASM_HELD)
                bad = 1; /* a first fragment of a new datagram is always held */
        }
        double t1 = cpu_s();
        long now_kib;
        rss_kib(&now_kib, &peak[q - 1]);
        mem[q - 1] = tcpwm__reasm_memory(&r);
        const tcpwm__reasm_counts *c = &r.counts;
        uint64_t ev = c->outcome[TCPWM__REASM_EVICTED], to = c->outcome[TCPWM__REASM_TIMED_OUT];
        uint32_t chunk = upto - (uint32_t)((uint64_t)n * (uint64_t)(q - 1) / 4);
        printf("  %4d%% %9" PRIu32 " %9" PRIu64 " %11" PRIu32 " %9" PRIu64 " %9" PRIu64
               " %11zu %9ld %9ld %8.1f\n",
               25 * q, upto, c->started, r.live, ev, to, mem[q - 1] / 1024, now_kib,
               peak[q - 1], chunk ? (t1 - t0) * 1e9 / chunk : 0.0);
        /* Every fragment a datagram; what is not in progress was evicted
         * or timed out, and nothing else happened. */
        uint64_t others = 0;
        for (int o = 0; o < TCPWM__REASM_OUTCOME_COUNT; o++)
            if (o != TCPWM__REASM_EVICTED && o != TCPWM__REASM_TIMED_OUT)
                others += c->outcome[o];
        if (c->started != upto || r.live > cap || c->started != r.live + ev + to || others != 0 ||
            c->duplicate + c->malformed + c->discarded != 0)
            bad = 1;
        if (to == 0 && r.live != (upto < cap ? upto : cap))
            bad = 1;
    }
    printf("  counts: %s\n", bad ? "FAIL" : "PASS (started = fragments = in progress + evicted + "
                                            "timed out; in progress <= cap)");
    uint32_t half = n / 2;
    if (half >= cap) {
        double growth = peak[1] > 0 ? (double)(peak[3] - peak[1]) * 100.0 / (double)peak[1] : 0;
        int flat = mem[1] == mem[3] && growth <= 1.0;
        printf("  memory from 50%% to 100%%: module %zu -> %zu KiB, peak RSS %ld -> %ld KiB "
               "(%+.2f%%): %s\n",
               mem[1] / 1024, mem[3] / 1024, peak[1], peak[3], growth,
               flat ? "flat, PASS" : "FAIL");
        bad |= !flat;
    } else {
        printf("  (the cap is reached after the 50%% point: no flatness check)\n");
    }
    printf("  module memory / cap: %.0f B per datagram in progress\n",
           (double)mem[3] / (double)cap);
    tcpwm__reasm_destroy(&r);
    return bad;
}

int main(int argc, char **argv)
{
    uint32_t n = 1u << 21;
    uint32_t caps[MAX_CAPS];
    int ncaps = 0;
    int64_t step = 1000;
    int opt;
    while ((opt = getopt(argc, argv, "n:c:s:h")) != -1) {
        switch (opt) {
        case 'n':
            n = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'c':
            if (ncaps < MAX_CAPS)
                caps[ncaps++] = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 's':
            step = strtoll(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: frag_flood [-n N] [-c CAP]... [-s STEP_NS]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (n < 4 || step < 0) {
        fprintf(stderr, "frag_flood: -n must be at least 4 and -s not negative\n");
        return 2;
    }
    if (ncaps == 0) {
        caps[ncaps++] = TCPWM__REASM_DEFAULT_MAX;
        caps[ncaps++] = 1u << 16;
    }
    printf("tcpwm fragment flood: %" PRIu32 " distinct unfinished datagrams (first fragment "
           "only, 1480 B, MF=1), one every %" PRId64 " ns of capture time, timeout 30 s\n",
           n, step);
    printf("driving core/src/reasm.c directly (the monitor does not call it yet)\n");
    fflush(stdout);
    int failed = 0;
    for (int i = 0; i < ncaps; i++) {
        /* A child per cap: each one's peak RSS is its own. */
        pid_t pid = fork();
        if (pid < 0) {
            perror("frag_flood: fork");
            return 1;
        }
        if (pid == 0) {
            int rc = run(n, caps[i], step);
            fflush(stdout);
            _exit(rc);
        }
        int st = 0;
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed = 1;
    }
    printf("\n%s\n", failed ? "frag_flood: FAIL" : "frag_flood: PASS");
    return failed;
}
