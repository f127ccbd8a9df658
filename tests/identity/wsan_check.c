/* SPDX-License-Identifier: MIT */
/* Test driver for core/src/wsan.c: reads a capture with our own reader
 * (standalone/capfile.c, the replay's: every pcapng interface with its own
 * link type), decodes each frame with tcpwm_decode(), keeps its own small
 * connection table and prints, for every TCP frame, what the analysis says
 * about it:
 *
 *   frame dup_ack retx reordered dsack ack_rtt_ns handshake_rtt_ns untracked
 *
 * (retx: 0 none, 1 fast, 2 spurious, 3 other; RTTs -1 when none), then a
 * last line "# pool PEAK_RECORDS MEMORY_BYTES" (the pool's busiest moment
 * and what it held then).
 *
 *   wsan_check [--max-records N] [--max-per-side N] CAPTURE
 *
 * The caps default to the monitor's planned defaults (below).
 * wsan_check.py compares that with tshark, frame by frame. Connections are
 * keyed as Wireshark keys TCP streams (addresses and ports, both
 * directions; not VLANs or tunnels), and a SYN whose sequence number
 * differs from the direction's first one starts a new connection, as in
 * Wireshark (docs/semantics.md section 3). Only plain frames: no IP
 * reassembly (wsan_check.py leaves fragmented captures out). */
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "capfile.h"
#include "tcpwm/decode.h"
#include "tcpwm/monitor.h"
#include "wsan.h"

/* The monitor's caps, so that an untracked segment here is one there. */
#define DEFAULT_MAX_RECORDS TCPWM_DEFAULT_MAX_RTT_BLOCKS
#define DEFAULT_MAX_PER_SIDE TCPWM_RTT_SEGMENTS_PER_SIDE

typedef struct conn {
    uint8_t used;
    uint8_t family;
    uint8_t addr[2][16]; /* [0]: the first sender */
    uint16_t port[2];
    uint32_t base_seq[2];
    uint8_t base_set[2];
    tcpwm__wsan st;
} conn;

static conn *table;
static size_t cap, count;

static uint64_t hash_key(const tcpwm_segment *s)
{
    /* Symmetric: the same for both directions. */
    uint64_t a = 1469598103934665603ull, b = a;
    for (int i = 0; i < 16; i++) {
        a = (a ^ s->src[i]) * 1099511628211ull;
        b = (b ^ s->dst[i]) * 1099511628211ull;
    }
    a ^= s->sport;
    b ^= s->dport;
    return (a + b) * 0x9e3779b97f4a7c15ull ^ s->family;
}

static int side_of(const conn *c, const tcpwm_segment *s)
{
    if (c->family != s->family)
        return -1;
    if (!memcmp(c->addr[0], s->src, 16) && !memcmp(c->addr[1], s->dst, 16) &&
        c->port[0] == s->sport && c->port[1] == s->dport)
        return 0;
    if (!memcmp(c->addr[1], s->src, 16) && !memcmp(c->addr[0], s->dst, 16) &&
        c->port[1] == s->sport && c->port[0] == s->dport)
        return 1;
    return -1;
}

static void grow(void);

static conn *lookup(const tcpwm_segment *s, int *side)
{
    if (count * 2 >= cap)
        grow();
    size_t i = (size_t)(hash_key(s) & (cap - 1));
    for (;; i = (i + 1) & (cap - 1)) {
        conn *c = &table[i];
        if (!c->used) {
            memset(c, 0, sizeof *c);
            c->used = 1;
            c->family = s->family;
            memcpy(c->addr[0], s->src, 16);
            memcpy(c->addr[1], s->dst, 16);
            c->port[0] = s->sport;
            c->port[1] = s->dport;
            count++;
            *side = 0;
            return c;
        }
        int sd = side_of(c, s);
        if (sd >= 0) {
            *side = sd;
            return c;
        }
    }
}

static void grow(void)
{
    size_t old = cap;
    conn *ot = table;
    cap = cap ? cap * 2 : 1024;
    table = calloc(cap, sizeof *table);
    if (!table) {
        fprintf(stderr, "wsan_check: out of memory\n");
        exit(2);
    }
    for (size_t k = 0; k < old; k++) {
        if (!ot[k].used)
            continue;
        tcpwm_segment key;
        memset(&key, 0, offsetof(tcpwm_segment, encap));
        key.family = ot[k].family;
        memcpy(key.src, ot[k].addr[0], 16);
        memcpy(key.dst, ot[k].addr[1], 16);
        key.sport = ot[k].port[0];
        key.dport = ot[k].port[1];
        size_t i = (size_t)(hash_key(&key) & (cap - 1));
        while (table[i].used)
            i = (i + 1) & (cap - 1);
        table[i] = ot[k];
    }
    free(ot);
}

/* Wireshark's base sequence numbers, only to decide port reuse: a SYN
 * (without ACK) whose number is not its direction's base starts anew. */
static void track_base(conn *c, int side, const tcpwm_segment *s)
{
    if (!c->base_set[side]) {
        c->base_seq[side] = (s->flags & TCPWM_SYN) ? s->seq : s->seq - 1u;
        c->base_set[side] = 1;
    }
    if (!c->base_set[side ^ 1] && (s->flags & TCPWM_ACK)) {
        c->base_seq[side ^ 1] = s->ack - 1u;
        c->base_set[side ^ 1] = 1;
    }
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap_ = 1 << 20, n = 0;
    unsigned char *buf = malloc(cap_);
    while (buf) {
        n += fread(buf + n, 1, cap_ - n, fp);
        if (n < cap_)
            break;
        unsigned char *nb = realloc(buf, cap_ * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap_ *= 2;
    }
    if (buf && ferror(fp)) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *size = n;
    return buf;
}

static uint32_t peak_records;

int main(int argc, char **argv)
{
    unsigned long max_records = DEFAULT_MAX_RECORDS, max_per_side = DEFAULT_MAX_PER_SIDE;
    int a = 1;
    for (; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--max-records"))
            max_records = strtoul(argv[a + 1], NULL, 10);
        else if (!strcmp(argv[a], "--max-per-side"))
            max_per_side = strtoul(argv[a + 1], NULL, 10);
        else
            break;
    }
    if (a != argc - 1) {
        fprintf(stderr, "usage: wsan_check [--max-records N] [--max-per-side N] CAPTURE\n");
        return 2;
    }
    const char *path = argv[a];
    size_t size;
    unsigned char *file = read_all(path, &size);
    if (!file) {
        fprintf(stderr, "wsan_check: %s: cannot read\n", path);
        return 1;
    }
    capfile_io io;
    capfile_mem mem;
    capfile_mem_io(&io, &mem, file, size);
    capfile *cf;
    char errbuf[256];
    if (capfile_open(&cf, &io, errbuf, sizeof errbuf) != 0) {
        fprintf(stderr, "wsan_check: %s: %s\n", path, errbuf);
        free(file);
        return 1;
    }
    tcpwm__wsan_pool pool;
    tcpwm__wsan_pool_init(&pool, (uint32_t)max_records, (uint32_t)max_per_side);
    capfile_rec rec;
    unsigned long frame = 0;
    static tcpwm_segment seg;
    capfile_status rc;
    while ((rc = capfile_next(cf, &rec)) == CAPFILE_RECORD) {
        frame++;
        tcpwm_decode_error err;
        tcpwm_decode_status st = tcpwm_decode(rec.data, rec.caplen, rec.len, rec.dlt, &seg, &err);
        if (st != TCPWM_DECODE_TCP)
            continue;
        seg.ts_ns = rec.ts_ns;
        int side;
        conn *c = lookup(&seg, &side);
        if ((seg.flags & (TCPWM_SYN | TCPWM_ACK)) == TCPWM_SYN && c->base_set[side] &&
            seg.seq != c->base_seq[side]) {
            /* Port reuse: a new stream, the sender of this SYN is side 0. */
            tcpwm__wsan_forget(&pool, &c->st);
            memset(c->base_set, 0, sizeof c->base_set);
            if (side == 1) {
                uint8_t t[16];
                memcpy(t, c->addr[0], 16);
                memcpy(c->addr[0], c->addr[1], 16);
                memcpy(c->addr[1], t, 16);
                uint16_t pt = c->port[0];
                c->port[0] = c->port[1];
                c->port[1] = pt;
                side = 0;
            }
        }
        track_base(c, side, &seg);
        tcpwm__wsan_result r;
        tcpwm__wsan_observe(&pool, &c->st, (unsigned)side, &seg, &r);
        if (pool.in_use > peak_records)
            peak_records = pool.in_use;
        printf("%lu %d %d %d %d %lld %lld %d\n", frame, r.dup_ack, (int)r.retx, r.reordered,
               r.dsack, (long long)r.ack_rtt_ns, (long long)r.handshake_rtt_ns, r.rtt_untracked);
    }
    printf("# pool %u %zu\n", peak_records, tcpwm__wsan_pool_memory(&pool));
    int status = 0;
    if (rc == CAPFILE_ERROR) {
        /* Like the replay: what was read is analyzed, the damage reported. */
        fprintf(stderr, "wsan_check: %s: %s\n", path, capfile_error(cf));
    }
    /* Every connection gives its records back: the pool must be empty. */
    for (size_t k = 0; k < cap; k++)
        if (table[k].used)
            tcpwm__wsan_forget(&pool, &table[k].st);
    if (pool.in_use != 0) {
        fprintf(stderr, "wsan_check: %u pool records not given back\n", pool.in_use);
        status = 3;
    }
    tcpwm__wsan_pool_destroy(&pool);
    capfile_close(cf);
    free(file);
    free(table);
    return status;
}
