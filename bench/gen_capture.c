/* SPDX-License-Identifier: MIT */
/* gen_capture: writes a large, deterministic, synthetic TCP capture for the
 * benchmark (bench/run.sh). Classic pcap, Ethernet, IPv4 and some IPv6.
 *
 * F flows (client -> server connections) run over the file, up to C of
 * them at once; each is a handshake (MSS, SACK-permitted, timestamps and
 * window scale on the SYNs), rounds of request / response bursts with
 * delayed ACKs and receive windows that fill and drain, then a FIN close
 * (a few RST). Bulk data segments suffer, with small probabilities:
 *
 *   loss     dropped before the capture point and retransmitted after the
 *            burst: a "missing" then an "out-of-order" fill; the receiver
 *            sends duplicate ACKs with a SACK block meanwhile;
 *   gap      delivered but never captured: the receiver's ACK covers a
 *            hole the capture has (a capture gap);
 *   dup      captured twice (a spurious retransmission);
 *   reorder  swapped with the next segment.
 *
 * Now and then a receiver stalls (zero window, a zero-window probe, a
 * window update) or a side sends a keep-alive. Flows end and new ones start
 * all through the file; the flows still running at the end are cut
 * mid-stream, as in a real capture.
 *
 * Only the first SNAPLEN bytes of each frame are written (96 by default;
 * every header fits), the wire length is the full one: 5 M packets make a
 * file of about half a gigabyte. The same flags and seed give the same
 * bytes.
 *
 * With -F, a SYN flood instead (bench/syn_flood.sh): every packet is the
 * SYN of a flow of its own, so PACKETS distinct 4-tuples, each seen once,
 * as spoofed sources make them. The same seed and fewer packets give a
 * prefix of the file. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "gen_capture"

/* ---- deterministic PRNG: xoshiro256** seeded through splitmix64 ---- */

static uint64_t rng_s[4];

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
    uint64_t result = rotl(rng_s[1] * 5, 7) * 9;
    uint64_t t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return result;
}

static void rng_seed(uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng_s[i] = splitmix64(&seed);
}

static uint32_t rng_u32(void)
{
    return (uint32_t)(rng_next() >> 32);
}

/* Uniform in [0, n). */
static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(((uint64_t)rng_u32() * n) >> 32);
}

/* Uniform in [lo, hi]. */
static uint32_t rng_range(uint32_t lo, uint32_t hi)
{
    return lo + rng_below(hi - lo + 1u);
}

/* A probability as a 32-bit threshold: rng_u32() < p happens with it. */
typedef uint64_t prob;

static prob prob_of(double p)
{
    if (p <= 0.0)
        return 0;
    if (p >= 1.0)
        return 1ull << 32;
    return (prob)(p * 4294967296.0);
}

static bool rng_hit(prob p)
{
    return (uint64_t)rng_u32() < p;
}

/* (0, 1] */
static double rng_unit(void)
{
    return ((double)(rng_next() >> 11) + 1.0) / 9007199254740992.0;
}

/* ---- options ---- */

typedef struct opts {
    uint64_t packets;
    uint64_t flows;
    uint32_t concurrent;
    uint64_t seed;
    const char *out;
    uint32_t snaplen;  /* 0: headers only */
    bool usec;
    double v6;
    uint64_t gap_ns;   /* mean time between packets */
    bool keep_open;    /* flows end without FIN/RST */
    bool flood;        /* -F: one SYN per flow, nothing else */
    double train;      /* mean packets in a row from one flow */
    double p_loss, p_gap, p_dup, p_reorder;
} opts;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " PROG " -o FILE [OPTION...]\n"
            "Write a synthetic TCP capture (classic pcap, Ethernet) for the benchmark.\n"
            "\n"
            "  -o FILE      output path ('-' for standard output)\n"
            "  -n PACKETS   packets to write (default 5000000)\n"
            "  -f FLOWS     distinct flows to aim for; sets the mean flow length to\n"
            "               PACKETS/FLOWS (default 125000)\n"
            "  -c N         flows running at once (default FLOWS/8, 16..65536)\n"
            "  -s SEED      PRNG seed (default 1); same flags and seed, same bytes\n"
            "  -S SNAPLEN   bytes of each frame written, the rest only counted in\n"
            "               the wire length (default 96; 0: exactly the headers)\n"
            "  -u           microsecond timestamps (default nanosecond)\n"
            "  -6 FRACTION  share of IPv6 flows (default 0.1)\n"
            "  -g NS        mean capture time between packets, ns (default 40000)\n"
            "  -k           flows end without FIN or RST (they stay open: for\n"
            "               measuring memory per tracked flow)\n"
            "  -t MEAN      mean length of a packet train: packets in a row from one\n"
            "               flow, geometric (default 1: every packet comes from a\n"
            "               flow drawn anew, the worst case for a cache)\n"
            "  -l P         per data segment: lost upstream, retransmitted (0.005)\n"
            "  -G P         ... delivered but not captured, a capture gap (0.001)\n"
            "  -d P         ... captured twice (0.002)\n"
            "  -R P         ... swapped with the next segment (0.003)\n"
            "  -F           SYN flood: every packet a SYN from a 4-tuple of its own\n"
            "               (PACKETS distinct tuples, none seen twice; -f, -c, -k, -t\n"
            "               and the segment fates do not apply)\n"
            "  -h           this help\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *v = x;
    return 0;
}

static int parse_prob(const char *s, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno != 0 || *end != '\0' || end == s || !(x >= 0.0 && x <= 1.0))
        return -1;
    *v = x;
    return 0;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    uint64_t v;
    int c;

    memset(o, 0, sizeof(*o));
    o->packets = 5000000;
    o->flows = 125000;
    o->seed = 1;
    o->snaplen = 96;
    o->v6 = 0.1;
    o->gap_ns = 40000;
    o->train = 1.0;
    o->p_loss = 0.005;
    o->p_gap = 0.001;
    o->p_dup = 0.002;
    o->p_reorder = 0.003;
    while ((c = getopt(argc, argv, "o:n:f:c:s:S:u6:g:kFt:l:G:d:R:h")) != -1) {
        switch (c) {
        case 'o':
            o->out = optarg;
            break;
        case 'n':
            if (parse_u64(optarg, &o->packets) != 0 || o->packets == 0)
                goto bad;
            break;
        case 'f':
            if (parse_u64(optarg, &o->flows) != 0 || o->flows == 0 || o->flows > (1u << 24))
                goto bad;
            break;
        case 'c':
            if (parse_u64(optarg, &v) != 0 || v == 0 || v > (1u << 22))
                goto bad;
            o->concurrent = (uint32_t)v;
            break;
        case 's':
            if (parse_u64(optarg, &o->seed) != 0)
                goto bad;
            break;
        case 'S':
            if (parse_u64(optarg, &v) != 0 || v > 262144)
                goto bad;
            o->snaplen = (uint32_t)v;
            break;
        case 'u':
            o->usec = true;
            break;
        case '6':
            if (parse_prob(optarg, &o->v6) != 0)
                goto bad;
            break;
        case 'g':
            if (parse_u64(optarg, &o->gap_ns) != 0 || o->gap_ns > 1000000000ull)
                goto bad;
            break;
        case 'k':
            o->keep_open = true;
            break;
        case 'F':
            o->flood = true;
            break;
        case 't': {
            char *end;
            errno = 0;
            o->train = strtod(optarg, &end);
            if (errno != 0 || *end != '\0' || end == optarg || !(o->train >= 1.0 && o->train <= 1000.0))
                goto bad;
            break;
        }
        case 'l':
            if (parse_prob(optarg, &o->p_loss) != 0)
                goto bad;
            break;
        case 'G':
            if (parse_prob(optarg, &o->p_gap) != 0)
                goto bad;
            break;
        case 'd':
            if (parse_prob(optarg, &o->p_dup) != 0)
                goto bad;
            break;
        case 'R':
            if (parse_prob(optarg, &o->p_reorder) != 0)
                goto bad;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
        continue;
    bad:
        fprintf(stderr, PROG ": bad value for -%c: '%s'\n", c, optarg);
        return -1;
    }
    if (optind != argc || o->out == NULL) {
        usage(stderr);
        return -1;
    }
    if (o->concurrent == 0) {
        uint64_t cc = o->flows / 8;
        o->concurrent = (uint32_t)(cc < 16 ? 16 : cc > 65536 ? 65536 : cc);
    }
    return 0;
}

/* ---- flows ---- */

enum { CLI = 0, SRV = 1 };
enum { ST_SYN, ST_DATA, ST_CLOSE, ST_DONE };

/* TCP flags */
enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

/* Options of a queued packet. */
enum { O_SYN = 0x01, O_SACK = 0x02 };

#define MAX_BURST 16
#define QCAP 96

/* A packet waiting in its flow's queue: headers to be, without time. */
typedef struct pdesc {
    uint32_t seq, ack;
    uint32_t len;
    uint32_t sack_l, sack_r;
    uint16_t win;
    uint8_t dir;   /* sender: CLI or SRV */
    uint8_t flags;
    uint8_t opts;
} pdesc;

typedef struct flow {
    uint64_t id;
    uint8_t v6, state, bulk, ts_on;
    uint8_t has_ws[2], ws[2];
    uint8_t addr[2][16];
    uint16_t port[2];
    uint16_t mss[2];
    uint16_t ipid[2];
    uint32_t nxt[2];    /* next sequence number each side sends */
    uint32_t rcvbuf[2]; /* receive buffer of each side */
    uint32_t unread[2]; /* bytes received, not yet read by the application */
    uint32_t tsoff[2];
    uint32_t edge[2];   /* right edge each side advertised last */
    uint8_t edge_set;
    int64_t budget;     /* packets left before the close */
    uint32_t qh, qn;
    pdesc q[QCAP];
} flow;

typedef struct gen {
    opts o;
    prob p_loss, p_gap, p_dup, p_reorder, p_v6;
    double mean_extra;  /* mean of the exponential part of a flow's budget */
    uint64_t next_id;
    int64_t now_ns;
    /* statistics */
    uint64_t n_pkts, n_v6_flows, n_closed, n_rst, n_lost, n_gaps, n_dups, n_reorders;
    uint64_t n_zero_win, n_keepalive, n_syn_retx;
} gen;

static void push(flow *f, uint8_t dir, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                 uint16_t win, uint8_t o, uint32_t sl, uint32_t sr)
{
    if (f->qn >= QCAP) {
        fprintf(stderr, PROG ": internal error: flow queue overflow\n");
        exit(1);
    }
    pdesc *p = &f->q[(f->qh + f->qn) % QCAP];
    p->dir = dir;
    p->flags = flags;
    p->seq = seq;
    p->ack = ack;
    p->len = len;
    p->win = win;
    p->opts = o;
    p->sack_l = sl;
    p->sack_r = sr;
    f->qn++;
}

static uint32_t shift_of(const flow *f, int s)
{
    return (f->has_ws[0] && f->has_ws[1]) ? f->ws[s] : 0;
}

/* Free space in side s's receive buffer. */
static uint32_t free_space(const flow *f, int s)
{
    return f->rcvbuf[s] > f->unread[s] ? f->rcvbuf[s] - f->unread[s] : 0;
}

/* The raw window side s advertises with acknowledgment number ack (after
 * the handshake). Like Linux, the right edge (ack + window) never moves
 * left: the window closes only as data arrives. */
static uint16_t adv_win(flow *f, int s, uint32_t ack)
{
    uint32_t sh = shift_of(f, s);
    uint32_t avail = free_space(f, s);
    int32_t keep = (int32_t)(f->edge[s] - ack);
    if (f->edge_set & (1u << s) && keep > 0 && (uint32_t)keep > avail)
        avail = (uint32_t)keep;
    uint32_t raw = (avail + (1u << sh) - 1u) >> sh;
    if (raw > 65535)
        raw = 65535;
    f->edge[s] = ack + (raw << sh);
    f->edge_set |= (uint8_t)(1u << s);
    return (uint16_t)raw;
}

/* A 24-bit bijection: spreads sequential flow ids over client addresses
 * without two flows ever sharing one. */
static uint32_t perm24(uint32_t x)
{
    const uint32_t m = 0xFFFFFFu;
    x &= m;
    x = (x * 0x9E3779u + 0x5A5A5Au) & m; /* odd multiplier: a bijection mod 2^24 */
    x ^= x >> 12;
    x = (x * 0xC2B2AFu) & m;
    x ^= x >> 11;
    return x;
}

static void flow_start(gen *g, flow *f)
{
    uint64_t id = g->next_id++;
    uint32_t host = perm24((uint32_t)id);

    memset(f, 0, offsetof(flow, q));
    f->id = id;
    f->state = ST_SYN;
    f->v6 = rng_hit(g->p_v6);
    if (f->v6) {
        /* 2a01:4f8:1000:HHHH:: / 2606:2800:220:1::SS (global unicast) */
        static const uint8_t cli6[8] = {0x2a, 0x01, 0x04, 0xf8, 0x10, 0x00, 0, 0};
        static const uint8_t srv6[14] = {0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01};
        memcpy(f->addr[CLI], cli6, 8);
        f->addr[CLI][8] = (uint8_t)(host >> 16);
        f->addr[CLI][9] = (uint8_t)(host >> 8);
        f->addr[CLI][10] = (uint8_t)host;
        f->addr[CLI][15] = (uint8_t)(1 + rng_below(250));
        memcpy(f->addr[SRV], srv6, 14);
        f->addr[SRV][15] = (uint8_t)(1 + rng_below(64));
        g->n_v6_flows++;
    } else {
        /* clients 45.0.0.0/8 (one address per flow id), servers
         * 93.184.216.0/24 */
        f->addr[CLI][0] = 45;
        f->addr[CLI][1] = (uint8_t)(host >> 16);
        f->addr[CLI][2] = (uint8_t)(host >> 8);
        f->addr[CLI][3] = (uint8_t)host;
        f->addr[SRV][0] = 93;
        f->addr[SRV][1] = 184;
        f->addr[SRV][2] = 216;
        f->addr[SRV][3] = (uint8_t)(1 + rng_below(64));
    }
    /* Above 2^24 flows, the client port keeps the 4-tuples distinct. */
    f->port[CLI] = (uint16_t)(32768 + ((id >> 24) & 0xFFF) * 7 + rng_below(7));
    static const uint16_t srv_ports[4] = {443, 80, 8443, 993};
    f->port[SRV] = srv_ports[rng_below(4)];
    f->ts_on = rng_below(10) != 0;
    f->bulk = rng_below(5) == 0 ? CLI : SRV;
    for (int s = 0; s < 2; s++) {
        f->mss[s] = f->v6 ? 1440 : 1460;
        f->has_ws[s] = rng_below(20) != 0;
        static const uint32_t bufs[6] = {65535, 131072, 262144, 524288, 1048576, 3145728};
        if (f->has_ws[s]) {
            f->rcvbuf[s] = bufs[rng_below(6)];
            f->ws[s] = (uint8_t)rng_range(7, 10);
        } else {
            f->rcvbuf[s] = 65535;
        }
        f->nxt[s] = rng_u32();
        f->tsoff[s] = rng_u32();
        f->ipid[s] = (uint16_t)rng_u32();
    }
    /* At least the handshake and a round; the rest exponential. */
    f->budget = 6 + (int64_t)(-g->mean_extra * log(rng_unit()));
}

/* The receiver's ACK during a burst: ack, window and maybe one SACK block. */
static void push_ack(flow *f, int r, uint32_t ack, uint32_t sl, uint32_t sr)
{
    push(f, (uint8_t)r, F_ACK, f->nxt[r], ack, 0, adv_win(f, r, ack), sl != sr ? O_SACK : 0, sl, sr);
}

static void round_syn(gen *g, flow *f)
{
    uint16_t w0 = (uint16_t)(f->rcvbuf[CLI] > 64240 ? 64240 : f->rcvbuf[CLI]);
    uint16_t w1 = (uint16_t)(f->rcvbuf[SRV] > 65160 ? 65160 : f->rcvbuf[SRV]);
    push(f, CLI, F_SYN, f->nxt[CLI], 0, 0, w0, O_SYN, 0, 0);
    if (rng_below(300) == 0) {
        push(f, CLI, F_SYN, f->nxt[CLI], 0, 0, w0, O_SYN, 0, 0);
        g->n_syn_retx++;
    }
    f->nxt[CLI]++;
    push(f, SRV, F_SYN | F_ACK, f->nxt[SRV], f->nxt[CLI], 0, w1, O_SYN, 0, 0);
    f->nxt[SRV]++;
    push(f, CLI, F_ACK, f->nxt[CLI], f->nxt[SRV], 0, adv_win(f, CLI, f->nxt[SRV]), 0, 0, 0);
    f->state = ST_DATA;
}

/* Segment fates */
enum { FT_LOST = 1, FT_GAP = 2, FT_DUP = 4, FT_REORDER = 8 };

static void round_data(gen *g, flow *f)
{
    int b = f->bulk, r = 1 - b;

    /* The request: one or two segments from r, maybe ACKed at once. */
    int nreq = rng_below(5) == 0 ? 2 : 1;
    for (int i = 0; i < nreq; i++) {
        uint32_t len = rng_range(60, 1200);
        push(f, (uint8_t)r, F_ACK | F_PSH, f->nxt[r], f->nxt[b], len, adv_win(f, r, f->nxt[b]), 0, 0, 0);
        f->nxt[r] += len;
    }
    if (rng_below(5) < 2)
        push(f, (uint8_t)b, F_ACK, f->nxt[b], f->nxt[r], 0, adv_win(f, b, f->nxt[r]), 0, 0, 0);

    /* Now and then an idle side sends a keep-alive, answered by an ACK. */
    if (rng_below(500) == 0) {
        push(f, (uint8_t)b, F_ACK, f->nxt[b] - 1, f->nxt[r], 0, adv_win(f, b, f->nxt[r]), 0, 0, 0);
        push(f, (uint8_t)r, F_ACK, f->nxt[r], f->nxt[b], 0, adv_win(f, r, f->nxt[b]), 0, 0, 0);
        g->n_keepalive++;
    }

    /* The response burst from b, within r's window. */
    uint32_t room = free_space(f, r);
    if (room < f->mss[b]) {
        f->unread[r] = 0; /* the application caught up */
        push(f, (uint8_t)r, F_ACK, f->nxt[r], f->nxt[b], 0, adv_win(f, r, f->nxt[b]), 0, 0, 0);
        room = free_space(f, r);
    }
    int64_t cap = f->budget / 2;
    uint32_t maxk = (uint32_t)(cap < 1 ? 1 : cap > MAX_BURST ? MAX_BURST : cap);
    uint32_t k = rng_range(1, maxk);
    uint32_t seg_start[MAX_BURST + 1], fate[MAX_BURST];
    uint32_t total = 0, i;
    for (i = 0; i < k; i++) {
        uint32_t len = (i + 1 == k) ? rng_range(1, f->mss[b]) : f->mss[b];
        if (total + len > room)
            break;
        seg_start[i] = f->nxt[b] + total;
        total += len;
        fate[i] = 0;
        if (rng_hit(g->p_loss))
            fate[i] |= FT_LOST;
        else if (rng_hit(g->p_gap))
            fate[i] |= FT_GAP;
        if (rng_hit(g->p_dup))
            fate[i] |= FT_DUP;
        if (rng_hit(g->p_reorder))
            fate[i] |= FT_REORDER;
    }
    k = i;
    if (k == 0) { /* window too small even for one segment: skip the burst */
        f->budget -= 3;
        return;
    }
    seg_start[k] = f->nxt[b] + total;

    /* Delivery order: lost segments go last (their retransmissions); a
     * reordered segment swaps with the next one. */
    uint32_t ord[MAX_BURST], nord = 0;
    for (i = 0; i < k; i++)
        if (!(fate[i] & FT_LOST))
            ord[nord++] = i;
    for (i = 0; i + 1 < nord; i++) {
        if (fate[ord[i]] & FT_REORDER) {
            uint32_t t = ord[i];
            ord[i] = ord[i + 1];
            ord[i + 1] = t;
            g->n_reorders++;
            i++;
        }
    }
    for (i = 0; i < k; i++)
        if (fate[i] & FT_LOST) {
            ord[nord++] = i;
            g->n_lost++;
        }

    /* The receiver: cumulative ACK every second in-order segment, at once
     * (with a SACK block) on out-of-order arrival or a filled hole. */
    uint32_t got = 0, rcv = 0, since_ack = 0;
    uint16_t wb = adv_win(f, b, f->nxt[r]);
    for (uint32_t p = 0; p < nord; p++) {
        uint32_t j = ord[p];
        uint32_t len = seg_start[j + 1] - seg_start[j];
        uint8_t fl = (j + 1 == k) ? (F_ACK | F_PSH) : F_ACK;
        if (fate[j] & FT_GAP)
            g->n_gaps++; /* delivered, not captured */
        else
            push(f, (uint8_t)b, fl, seg_start[j], f->nxt[r], len, wb, 0, 0, 0);
        if (fate[j] & FT_DUP) {
            push(f, (uint8_t)b, fl, seg_start[j], f->nxt[r], len, wb, 0, 0, 0);
            g->n_dups++;
        }
        bool had_hole = (got >> rcv) != 0; /* data above a hole was waiting */
        got |= 1u << j;
        f->unread[r] += len;
        while (rcv < k && (got & (1u << rcv)))
            rcv++;
        if (rcv <= j) {
            /* Out of order: duplicate ACK, SACK the block around j. */
            uint32_t lo = j, hi = j;
            while (lo > 0 && (got & (1u << (lo - 1))))
                lo--;
            while (hi + 1 < k && (got & (1u << (hi + 1))))
                hi++;
            push_ack(f, r, seg_start[rcv], seg_start[lo], seg_start[hi + 1]);
            since_ack = 0;
        } else if (had_hole || ++since_ack >= 2 || p + 1 == nord) {
            push_ack(f, r, seg_start[rcv], 0, 0);
            since_ack = 0;
        }
    }
    f->nxt[b] += total;

    /* A stalled receiver: zero window, a one-byte probe refused, then the
     * window opens again. */
    if (rng_below(1000) == 0) {
        f->unread[r] = f->rcvbuf[r];
        f->edge[r] = f->nxt[b];
        push(f, (uint8_t)r, F_ACK, f->nxt[r], f->nxt[b], 0, 0, 0, 0, 0);
        push(f, (uint8_t)b, F_ACK, f->nxt[b], f->nxt[r], 1, wb, 0, 0, 0);
        push(f, (uint8_t)r, F_ACK, f->nxt[r], f->nxt[b], 0, 0, 0, 0, 0);
        f->unread[r] = 0;
        push(f, (uint8_t)r, F_ACK, f->nxt[r], f->nxt[b], 0, adv_win(f, r, f->nxt[b]), 0, 0, 0);
        g->n_zero_win++;
    }
    /* Mostly the application reads everything; else the window stays
     * smaller for the next burst. */
    if (rng_below(10) < 7)
        f->unread[r] = 0;
}

static void round_close(gen *g, flow *f)
{
    int a = rng_below(10) < 7 ? CLI : SRV, p = 1 - a;

    if (rng_below(25) == 0) {
        push(f, (uint8_t)a, F_RST | F_ACK, f->nxt[a], f->nxt[p], 0, 0, 0, 0, 0);
        g->n_rst++;
    } else {
        push(f, (uint8_t)a, F_FIN | F_ACK, f->nxt[a], f->nxt[p], 0, adv_win(f, a, f->nxt[p]), 0, 0, 0);
        f->nxt[a]++;
        if (rng_below(2) == 0)
            push(f, (uint8_t)p, F_ACK, f->nxt[p], f->nxt[a], 0, adv_win(f, p, f->nxt[a]), 0, 0, 0);
        push(f, (uint8_t)p, F_FIN | F_ACK, f->nxt[p], f->nxt[a], 0, adv_win(f, p, f->nxt[a]), 0, 0, 0);
        f->nxt[p]++;
        push(f, (uint8_t)a, F_ACK, f->nxt[a], f->nxt[p], 0, adv_win(f, a, f->nxt[p]), 0, 0, 0);
    }
    g->n_closed++;
    f->state = ST_DONE;
}

/* Queue the next round of f; false when the flow is over. */
static bool flow_refill(gen *g, flow *f)
{
    uint32_t before = f->qn;

    switch (f->state) {
    case ST_SYN:
        round_syn(g, f);
        break;
    case ST_DATA:
        round_data(g, f);
        if (f->budget - (int64_t)(f->qn - before) <= 0)
            f->state = g->o.keep_open ? ST_DONE : ST_CLOSE;
        break;
    case ST_CLOSE:
        round_close(g, f);
        break;
    default:
        return false;
    }
    f->budget -= (int64_t)(f->qn - before);
    return f->qn > 0;
}

/* ---- pcap output ---- */

typedef struct out {
    FILE *f;
    uint8_t *buf;
    size_t len, cap;
    uint64_t bytes;
} out;

static void out_flush(out *w)
{
    if (w->len > 0 && fwrite(w->buf, 1, w->len, w->f) != w->len) {
        fprintf(stderr, PROG ": write error: %s\n", strerror(errno));
        exit(1);
    }
    w->bytes += w->len;
    w->len = 0;
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void write_file_header(out *w, const opts *o)
{
    uint8_t *h = w->buf + w->len;
    le32(h, o->usec ? 0xA1B2C3D4u : 0xA1B23C4Du);
    le16(h + 4, 2);
    le16(h + 6, 4);
    le32(h + 8, 0);  /* thiszone */
    le32(h + 12, 0); /* sigfigs */
    le32(h + 16, o->snaplen ? o->snaplen : 262144);
    le32(h + 20, 1); /* LINKTYPE_ETHERNET */
    w->len += 24;
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Builds the frame of p into w's buffer with its record header. */
static void emit(gen *g, out *w, flow *f, const pdesc *p)
{
    uint8_t hdr[128];
    size_t n = 0;
    int s = p->dir, d = 1 - s;

    /* Ethernet */
    static const uint8_t mac[2][6] = {{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01},
                                      {0x02, 0x00, 0x5e, 0x10, 0x00, 0x02}};
    memcpy(hdr, mac[d], 6);
    memcpy(hdr + 6, mac[s], 6);
    be16(hdr + 12, f->v6 ? 0x86DD : 0x0800);
    n = 14;

    /* TCP options */
    uint8_t opt[40];
    size_t ol = 0;
    uint32_t ms = (uint32_t)(g->now_ns / 1000000);
    uint32_t tsval = f->tsoff[s] + ms, tsecr = (p->flags & F_SYN) && !(p->flags & F_ACK)
                                                   ? 0
                                                   : f->tsoff[d] + (ms > 0 ? ms - 1 : 0);
    if (p->opts & O_SYN) {
        opt[ol++] = 2; /* MSS */
        opt[ol++] = 4;
        be16(opt + ol, f->mss[s]);
        ol += 2;
        opt[ol++] = 4; /* SACK permitted */
        opt[ol++] = 2;
        if (f->ts_on) {
            opt[ol++] = 8;
            opt[ol++] = 10;
            be32(opt + ol, tsval);
            be32(opt + ol + 4, tsecr);
            ol += 8;
        } else {
            opt[ol++] = 1;
            opt[ol++] = 1;
        }
        if (f->has_ws[s]) {
            opt[ol++] = 1;
            opt[ol++] = 3;
            opt[ol++] = 3;
            opt[ol++] = f->ws[s];
        }
    } else if (p->opts & O_SACK) {
        /* Timestamps then one SACK block, 20 bytes without NOPs, so that an
         * IPv6 frame's headers still fit 96 bytes. */
        if (f->ts_on) {
            opt[ol++] = 8;
            opt[ol++] = 10;
            be32(opt + ol, tsval);
            be32(opt + ol + 4, tsecr);
            ol += 8;
        } else {
            opt[ol++] = 1;
            opt[ol++] = 1;
        }
        opt[ol++] = 5;
        opt[ol++] = 10;
        be32(opt + ol, p->sack_l);
        be32(opt + ol + 4, p->sack_r);
        ol += 8;
    } else if (f->ts_on && !(p->flags & F_RST)) {
        opt[ol++] = 1;
        opt[ol++] = 1;
        opt[ol++] = 8;
        opt[ol++] = 10;
        be32(opt + ol, tsval);
        be32(opt + ol + 4, tsecr);
        ol += 8;
    }
    while (ol % 4)
        opt[ol++] = 0; /* end of options */
    size_t tcp_len = 20 + ol;
    uint32_t l4 = (uint32_t)tcp_len + p->len;

    /* IP */
    if (f->v6) {
        uint32_t label = (uint32_t)(f->id * 2654435761u) & 0xFFFFFu;
        be32(hdr + n, (6u << 28) | label);
        be16(hdr + n + 4, (uint16_t)l4);
        hdr[n + 6] = 6;  /* next header: TCP */
        hdr[n + 7] = 64; /* hop limit */
        memcpy(hdr + n + 8, f->addr[s], 16);
        memcpy(hdr + n + 24, f->addr[d], 16);
        n += 40;
    } else {
        uint8_t *ip = hdr + n;
        ip[0] = 0x45;
        ip[1] = 0;
        be16(ip + 2, (uint16_t)(20 + l4));
        be16(ip + 4, f->ipid[s]++);
        be16(ip + 6, 0x4000); /* DF */
        ip[8] = (uint8_t)(s == CLI ? 64 : 57);
        ip[9] = 6;
        be16(ip + 10, 0);
        memcpy(ip + 12, f->addr[s], 4);
        memcpy(ip + 16, f->addr[d], 4);
        be16(ip + 10, ip_checksum(ip, 20));
        n += 20;
    }

    /* TCP; the checksum stays 0: the payload is not in the file. */
    uint8_t *t = hdr + n;
    be16(t, f->port[s]);
    be16(t + 2, f->port[d]);
    be32(t + 4, p->seq);
    be32(t + 8, (p->flags & F_ACK) ? p->ack : 0);
    t[12] = (uint8_t)((tcp_len / 4) << 4);
    t[13] = p->flags;
    be16(t + 14, p->win);
    be16(t + 16, 0);
    be16(t + 18, 0);
    memcpy(t + 20, opt, ol);
    n += tcp_len;

    uint32_t wire = (uint32_t)n + p->len;
    uint32_t cap = g->o.snaplen == 0 ? (uint32_t)n : (wire < g->o.snaplen ? wire : g->o.snaplen);

    if (w->len + 16 + cap > w->cap)
        out_flush(w);
    uint8_t *rec = w->buf + w->len;
    uint64_t sec = (uint64_t)g->now_ns / 1000000000u;
    uint32_t frac = (uint32_t)((uint64_t)g->now_ns % 1000000000u);
    le32(rec, (uint32_t)sec);
    le32(rec + 4, g->o.usec ? frac / 1000 : frac);
    le32(rec + 8, cap);
    le32(rec + 12, wire);
    if (cap <= n) {
        memcpy(rec + 16, hdr, cap);
    } else {
        memcpy(rec + 16, hdr, n);
        memset(rec + 16 + n, 0, cap - n);
    }
    w->len += 16 + cap;
    g->n_pkts++;
}

/* -F: PACKETS SYNs, each from a flow of its own. The flow ids run from a
 * start drawn from the seed; flow_start() gives each id below 2^24 its own
 * client address and each block of 2^24 ids its own client ports, so no
 * two SYNs share a 4-tuple. */
static void flood(gen *g, out *w)
{
    flow *f = malloc(sizeof(*f));
    if (f == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(1);
    }
    uint64_t gap2 = 2 * g->o.gap_ns;
    g->next_id = rng_below(1u << 24);
    while (g->n_pkts < g->o.packets) {
        flow_start(g, f);
        uint16_t win = (uint16_t)(f->rcvbuf[CLI] > 64240 ? 64240 : f->rcvbuf[CLI]);
        pdesc p = {.seq = f->nxt[CLI], .win = win, .dir = CLI, .flags = F_SYN, .opts = O_SYN};
        g->now_ns += (int64_t)(gap2 ? rng_below((uint32_t)(gap2 + 1)) : 0);
        emit(g, w, f, &p);
    }
    free(f);
}

int main(int argc, char **argv)
{
    gen g;
    out w;
    struct timespec t0, t1;

    memset(&g, 0, sizeof(g));
    if (parse_opts(argc, argv, &g.o) != 0)
        return 2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rng_seed(g.o.seed);
    g.p_loss = prob_of(g.o.p_loss);
    g.p_gap = prob_of(g.o.p_gap);
    g.p_dup = prob_of(g.o.p_dup);
    g.p_reorder = prob_of(g.o.p_reorder);
    g.p_v6 = prob_of(g.o.v6);
    /* The flows still running at the end are cut short: aim the mean
     * budget a little above PACKETS/FLOWS minus the fixed part. */
    double mean = (double)g.o.packets / (double)g.o.flows;
    g.mean_extra = mean > 8.0 ? mean - 6.0 : 2.0;
    /* 2023-11-14 22:13:20 UTC: a fixed start keeps the output the same. */
    g.now_ns = 1700000000LL * 1000000000LL;

    memset(&w, 0, sizeof(w));
    w.f = strcmp(g.o.out, "-") == 0 ? stdout : fopen(g.o.out, "wb");
    if (w.f == NULL) {
        fprintf(stderr, PROG ": %s: %s\n", g.o.out, strerror(errno));
        return 1;
    }
    w.cap = 8u << 20;
    w.buf = malloc(w.cap);
    if (g.o.flood) {
        if (w.buf == NULL) {
            fprintf(stderr, PROG ": out of memory\n");
            return 1;
        }
        write_file_header(&w, &g.o);
        flood(&g, &w);
        out_flush(&w);
        if (w.f != stdout ? fclose(w.f) != 0 : fflush(w.f) != 0) {
            fprintf(stderr, PROG ": %s: %s\n", g.o.out, strerror(errno));
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        double span = (double)(g.now_ns - 1700000000LL * 1000000000LL) / 1e9;
        fprintf(stderr,
                PROG ": SYN flood: %llu packets, %llu bytes in %.2f s; %llu distinct 4-tuples "
                     "(%llu IPv6), one SYN each\n" PROG ": capture time %.3f s\n",
                (unsigned long long)g.n_pkts, (unsigned long long)w.bytes, secs,
                (unsigned long long)g.n_pkts, (unsigned long long)g.n_v6_flows, span);
        printf("packets=%llu flows=%llu concurrent=0 bytes=%llu capture_seconds=%.3f\n",
               (unsigned long long)g.n_pkts, (unsigned long long)g.n_pkts,
               (unsigned long long)w.bytes, span);
        free(w.buf);
        return 0;
    }
    uint32_t nslots = g.o.concurrent;
    flow *slots = malloc((size_t)nslots * sizeof(flow));
    uint32_t *act = malloc((size_t)nslots * sizeof(uint32_t));
    if (w.buf == NULL || slots == NULL || act == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    write_file_header(&w, &g.o);

    uint32_t nact = 0;
    for (uint32_t i = 0; i < nslots; i++) {
        flow_start(&g, &slots[i]);
        slots[i].qh = slots[i].qn = 0;
        act[nact++] = i;
    }
    uint64_t gap2 = 2 * g.o.gap_ns;
    uint32_t ai = 0, train = 0;
    double train_log = g.o.train > 1.0 ? log(1.0 - 1.0 / g.o.train) : 0.0;
    while (g.n_pkts < g.o.packets && nact > 0) {
        if (train == 0) {
            ai = rng_below(nact);
            train = 1;
            if (train_log < 0.0) {
                double extra = log(rng_unit()) / train_log;
                train += extra > 1e6 ? 1000000u : (uint32_t)extra;
            }
        }
        flow *f = &slots[act[ai]];
        if (f->qn == 0 && !flow_refill(&g, f)) {
            /* This flow is over: a new one takes its slot. */
            flow_start(&g, f);
            f->qh = f->qn = 0;
            train = 0;
            continue;
        }
        train--;
        g.now_ns += (int64_t)(gap2 ? rng_below((uint32_t)(gap2 + 1)) : 0);
        emit(&g, &w, f, &f->q[f->qh]);
        f->qh = (f->qh + 1) % QCAP;
        f->qn--;
    }
    out_flush(&w);
    if (w.f != stdout ? fclose(w.f) != 0 : fflush(w.f) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", g.o.out, strerror(errno));
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    /* Flows that sent at least one packet: all but the slots whose first
     * round never came up. */
    uint64_t unstarted = 0;
    for (uint32_t i = 0; i < nslots; i++)
        if (slots[i].state == ST_SYN && slots[i].qn == 0) {
            unstarted++;
            g.n_v6_flows -= slots[i].v6;
        }
    fprintf(stderr,
            PROG ": %llu packets, %llu bytes in %.2f s (%.0f packets/s)\n"
            PROG ": flows: %llu (%llu IPv6), %llu at once, %llu closed (%llu by RST), "
                 "%llu never closed\n"
            PROG ": data segments lost upstream %llu, not captured %llu, duplicated %llu, "
                 "reordered %llu; zero windows %llu, keep-alives %llu, SYN retransmissions %llu\n"
            PROG ": capture time %.3f s\n",
            (unsigned long long)g.n_pkts, (unsigned long long)w.bytes, secs,
            (double)g.n_pkts / (secs > 0 ? secs : 1e-9),
            (unsigned long long)(g.next_id - unstarted), (unsigned long long)g.n_v6_flows,
            (unsigned long long)nslots, (unsigned long long)g.n_closed,
            (unsigned long long)g.n_rst,
            (unsigned long long)(g.next_id - unstarted - g.n_closed),
            (unsigned long long)g.n_lost, (unsigned long long)g.n_gaps,
            (unsigned long long)g.n_dups, (unsigned long long)g.n_reorders,
            (unsigned long long)g.n_zero_win, (unsigned long long)g.n_keepalive,
            (unsigned long long)g.n_syn_retx,
            (double)(g.now_ns - 1700000000LL * 1000000000LL) / 1e9);
    /* A line for scripts. */
    printf("packets=%llu flows=%llu concurrent=%u bytes=%llu capture_seconds=%.3f\n",
           (unsigned long long)g.n_pkts, (unsigned long long)(g.next_id - unstarted), nslots,
           (unsigned long long)w.bytes, (double)(g.now_ns - 1700000000LL * 1000000000LL) / 1e9);
    free(act);
    free(slots);
    free(w.buf);
    return 0;
}
