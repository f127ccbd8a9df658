/* SPDX-License-Identifier: MIT */
#include "instream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/* The longest magic number we look for (xz's six bytes). */
#define MAGIC_MAX 6u

/* Plain input through a buffer: bytes asked of read() at a time. The
 * buffer holds at most one window and one read: INSTREAM_MAX_WINDOW +
 * READ_CHUNK. */
#define READ_CHUNK (1u << 20)

/* The second thread's read() size, and the decompressed (or, read ahead,
 * copied) chunks it hands to the reader. A chunk is far larger than a
 * record, so a window straddles two chunks (and is copied) about once a
 * chunk; NCHUNK of them let the thread run that far ahead. */
#define IN_CHUNK (256u << 10)
#define OUT_CHUNK (1u << 20)
#define NCHUNK 4u
/* A pipe that has given nothing for this long has stalled (milliseconds). */
#define PIPE_STALL_MS 20

/* Where read() puts bytes. The kernel copies a file's page-cache pages
 * with `rep movsb`; when the destination sits 1 to 31 bytes past the
 * source modulo 4096, each load of that copy aliases a store still in
 * flight (the CPU compares only an address's low 12 bits) and waits for
 * it. malloc() returns blocks 16 bytes into a page, so a chunk read from
 * a page-aligned file offset took 3 to 5 times as long: 0.20-0.37 s
 * instead of 0.05-0.09 s for the 498 MB bench capture (bench/RESULTS.md).
 * Buffers are therefore aligned to READ_ALIGN, and each read lands where
 * the input offset it reads from would: same address modulo READ_ALIGN
 * (the read-ahead's chunks are filled whole, from offset 0, so each
 * starts at a multiple of OUT_CHUNK). */
#define READ_ALIGN 64u

/* Memory a decoder may take for its history, whatever the file asks:
 * xz -9 needs 65 MiB, zstd's default window limit is 128 MiB (2^27, the
 * largest window its levels 1-19 use). Beyond, the input is refused. */
#define XZ_MEMLIMIT ((uint64_t)256 << 20)
#define ZSTD_WINDOWLOG_LIMIT 27

#define ERR_MAX 160

typedef struct chunk {
    uint8_t *data;
    size_t len;       /* decompressed bytes in it */
    long long in_pos; /* compressed bytes consumed once it was complete */
} chunk;

struct instream {
    instream_kind kind;
    int fd;
    bool own_fd;
    bool is_reg;          /* fd is a regular file: read() never blocks */
    long long file_size;  /* -1 unless a regular file */
    uint64_t offset;      /* of the current position, decompressed */
    bool ended;           /* the last peek hit the end or an error */
    char err[ERR_MAX];    /* empty while good */

    /* INSTREAM_PLAIN: buf[start, end) not consumed yet. */
    uint8_t *buf;
    size_t cap, start, end;
    long long read_total;

    /* Compressed, the reader's side: it owns the head chunk of the ring
     * while have_head, at hpos; a window that straddled chunks is copied
     * into join[jstart, jend), which comes before head[hpos..]. */
    bool have_head;
    size_t hpos, hlen;
    uint8_t *join;
    size_t jcap, jstart, jend;
    long long in_seen; /* in_pos of the head chunk */

    /* Compressed, shared: the ring holds count published chunks from
     * index head on. Everything here is under mu. */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t data_cv; /* the reader waits: a chunk published, or done */
    pthread_cond_t room_cv; /* the thread waits: a chunk freed, or stop */
    chunk ring[NCHUNK];
    unsigned head, count;
    bool done, stop;
    int wake[2]; /* written by instream_close to end a blocking read */
    /* The caller's work for a thread that would wait (instream_set_idle):
     * called under idle_mu only, never under mu. */
    pthread_mutex_t idle_mu;
    bool (*idle_fn)(void *ctx);
    void *idle_ctx;

    /* Compressed, the thread's own: its input buffer, the magic bytes
     * read at open (fed first), and the chunk it is filling. */
    uint8_t prefix[MAGIC_MAX];
    size_t prefix_len, prefix_off;
    uint8_t *in;
    size_t in_len, in_pos;
    long long in_total;
    bool filling;
    unsigned fill;
    size_t fill_len;
    char perr[ERR_MAX]; /* the thread's error, read by the reader after done */
};

/* ---- Small helpers ------------------------------------------------------ */

static void seterr(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(char *dst, const char *fmt, ...)
{
    va_list ap;

    if (dst[0] != '\0')
        return; /* the first reason is the one worth telling */
    va_start(ap, fmt);
    vsnprintf(dst, ERR_MAX, fmt, ap);
    va_end(ap);
}

/* Waits until fd (not a regular file) can be read, or wake (if >= 0) is
 * written, for at most ms milliseconds (-1: no limit). 1: readable; 0:
 * woken; 2: timed out; -1: poll failed (errno). */
static int wait_readable(int fd, int wake, int ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = wake, .events = POLLIN}};

    for (;;) {
        int r = poll(p, wake >= 0 ? 2 : 1, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 2;
        if (wake >= 0 && p[1].revents != 0)
            return 0;
        return 1; /* POLLIN, POLLHUP (end) or POLLERR: read() tells which */
    }
}

/* read() that retries interruptions, and waits on a non-blocking
 * descriptor (an inherited standard input can be one). */
static ssize_t read_some(int fd, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_readable(fd, -1, -1) == 1)
            continue;
        return -1;
    }
}

static instream_kind detect(const uint8_t *b, size_t n, bool *compressed)
{
    static const uint8_t xz[6] = {0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00};

    *compressed = true;
    /* RFC 1952 2.3.1: ID1 ID2. */
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
        return INSTREAM_GZIP;
    /* RFC 8878 3.1.1: frame magic 0xFD2FB528, little-endian. */
    if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
        return INSTREAM_ZSTD;
    /* RFC 8878 3.1.2: a skippable frame, 0x184D2A50-5F, may come first.
     * The LZ4 frame format shares the range: a file that starts with one
     * is taken for zstd, the commoner of the two. */
    if (n >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18)
        return INSTREAM_ZSTD;
    /* LZ4 frame format, magic 0x184D2204 little-endian. */
    if (n >= 4 && b[0] == 0x04 && b[1] == 0x22 && b[2] == 0x4d && b[3] == 0x18)
        return INSTREAM_LZ4;
    /* The .xz file format 2.1.1.1: header magic. */
    if (n >= 6 && memcmp(b, xz, 6) == 0)
        return INSTREAM_XZ;
    *compressed = false;
    return INSTREAM_PLAIN;
}

/* ---- The second thread: decompression, or read-ahead ---------------------- */

/* Compressed bytes the decoder has taken so far. */
static long long consumed(const instream *s)
{
    return s->in_total - (long long)(s->in_len - s->in_pos);
}

/* Hands the chunk being filled to the reader, if it holds anything. */
static void publish(instream *s)
{
    if (!s->filling || s->fill_len == 0)
        return;
    pthread_mutex_lock(&s->mu);
    s->ring[s->fill].len = s->fill_len;
    s->ring[s->fill].in_pos = consumed(s);
    s->count++;
    pthread_cond_signal(&s->data_cv);
    pthread_mutex_unlock(&s->mu);
    s->filling = false;
}

/* With mu held, where a thread would wait: the caller's idle work, once,
 * with mu released meanwhile (the other thread must be able to take or
 * publish chunks). true if there was some. Either way the caller looks
 * again before it waits: what the other thread did meanwhile, and the
 * signal it sent, would otherwise be missed, and both would wait for ever
 * (instream.plain and the codecs' cases check it with a slow idle
 * function). */
static bool idle_help(instream *s)
{
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->idle_mu);
    bool did = s->idle_fn != NULL && s->idle_fn(s->idle_ctx);
    pthread_mutex_unlock(&s->idle_mu);
    pthread_mutex_lock(&s->mu);
    return did;
}

/* Room for decompressed bytes: the rest of the chunk being filled, or a
 * free chunk once the reader has released one. NULL when told to stop
 * (or out of memory: perr says). */
static uint8_t *out_room(instream *s, size_t *room)
{
    if (s->filling && s->fill_len == OUT_CHUNK)
        publish(s);
    if (!s->filling) {
        pthread_mutex_lock(&s->mu);
        while (s->count == NCHUNK && !s->stop) {
            if (!idle_help(s) && s->count == NCHUNK && !s->stop)
                pthread_cond_wait(&s->room_cv, &s->mu);
        }
        bool stop = s->stop;
        s->fill = (s->head + s->count) % NCHUNK;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            return NULL;
        /* Chunks are allocated on first use: a small file needs one. */
        if (s->ring[s->fill].data == NULL) {
            s->ring[s->fill].data = aligned_alloc(READ_ALIGN, OUT_CHUNK);
            if (s->ring[s->fill].data == NULL) {
                seterr(s->perr, "out of memory");
                return NULL;
            }
        }
        s->filling = true;
        s->fill_len = 0;
    }
    *room = OUT_CHUNK - s->fill_len;
    return s->ring[s->fill].data + s->fill_len;
}

/* Reads what there is, up to len bytes, into dst: the rest of the magic
 * bytes read at open first, then the file. 1: *got bytes; 0: end of
 * input; -1: read error (perr says) or told to stop. */
static int read_input(instream *s, uint8_t *dst, size_t len, size_t *got)
{
    if (s->prefix_off < s->prefix_len) {
        size_t n = s->prefix_len - s->prefix_off;
        if (n > len)
            n = len;
        memcpy(dst, s->prefix + s->prefix_off, n);
        s->prefix_off += n;
        s->in_total += (long long)n;
        *got = n;
        return 1;
    }
    /* Input that decodes to nothing (a skippable frame of gigabytes) is
     * read without asking for room: instream_close is checked here too. */
    pthread_mutex_lock(&s->mu);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    if (stop)
        return -1;
    for (;;) {
        if (!s->is_reg) {
            /* A pipe may keep us waiting, and instream_close can wake us.
             * When it stalls (not for the moment a fast writer takes to
             * refill it), what has been decompressed goes to the reader
             * first: a live `tcpdump -w - | gzip` is not held back a
             * chunk. */
            int w = wait_readable(s->fd, s->wake[0], PIPE_STALL_MS);
            if (w == 2) {
                publish(s);
                w = wait_readable(s->fd, s->wake[0], -1);
            }
            if (w == 0)
                return -1;
            if (w < 0) {
                seterr(s->perr, "read error: %s", strerror(errno));
                return -1;
            }
        }
        ssize_t n = read(s->fd, dst, len);
        if (n > 0) {
            s->in_total += n;
            *got = (size_t)n;
            return 1;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            continue;
        seterr(s->perr, "read error: %s", strerror(errno));
        return -1;
    }
}

/* Refills the empty input buffer (as read_input). */
static int in_refill(instream *s)
{
    /* Where the input offset says (READ_ALIGN). */
    size_t at = (size_t)s->in_total % READ_ALIGN, got = 0;
    s->in_pos = s->in_len = at;
    int r = read_input(s, s->in + at, IN_CHUNK - at, &got);
    s->in_len += got;
    return r;
}

/* Every decoder runs the same loop (run_decoder): feed input when the
 * decoder has used it all (and did not stop only because the output was
 * full: it may hold decoded bytes still), give it the room left in the
 * current chunk, and stop at the end of the input, an error or
 * instream_close. A call that has input and room but neither takes nor
 * gives a byte would loop forever: that is reported rather than spun on.
 * What differs per format is one call of its library (a decoder_step). */
typedef enum step { STEP_GO, STEP_END, STEP_STOP } step;

static step feed(instream *s, bool out_full, const char *name, bool mid_stream)
{
    if (s->in_pos < s->in_len || out_full)
        return STEP_GO;
    int r = in_refill(s);
    if (r > 0)
        return STEP_GO;
    if (r == 0 && mid_stream)
        seterr(s->perr, "truncated %s stream", name);
    return r == 0 ? STEP_END : STEP_STOP;
}

typedef enum dec_ret { DEC_MORE, DEC_DONE, DEC_FAIL } dec_ret;

/* One call of a format's library on in[0, in_len) into out[0, room):
 * sets *used and *made; *mid says whether a frame (member, stream) is
 * unfinished, so that the input's end is a truncation. at_end: the input
 * has ended (only decoders that are told so: xz). DEC_FAIL after seterr. */
typedef struct dec_call {
    const uint8_t *in;
    size_t in_len;
    uint8_t *out;
    size_t room;
    bool at_end;
    size_t used, made;
} dec_call;
typedef dec_ret (*decoder_step)(instream *s, void *state, dec_call *c, bool *mid);

/* tell_end: the decoder is called once more at the input's end (xz needs
 * LZMA_FINISH to say whether the stream was cut); otherwise the end of the
 * input ends the loop, a truncation if *mid. */
static void run_decoder(instream *s, const char *name, decoder_step dstep, void *state,
                        bool tell_end)
{
    bool out_full = false, mid = false, at_end = false;
    for (;;) {
        if (!at_end) {
            step st = feed(s, out_full, name, mid && !tell_end);
            if (st == STEP_STOP || (st == STEP_END && !tell_end))
                break;
            at_end = st == STEP_END;
        }
        dec_call c = {.in = s->in + s->in_pos, .in_len = s->in_len - s->in_pos, .at_end = at_end};
        c.out = out_room(s, &c.room);
        if (c.out == NULL)
            break;
        dec_ret r = dstep(s, state, &c, &mid);
        s->in_pos += c.used;
        s->fill_len += c.made;
        out_full = c.made == c.room;
        if (r != DEC_MORE)
            break;
        if (c.used == 0 && c.made == 0 && c.in_len > 0) {
            seterr(s->perr, "corrupt %s stream: the decoder makes no progress", name);
            break;
        }
    }
}

/* RFC 1952: gzip members, one after another (`cat a.gz b.gz`, what
 * `gzip` itself decompresses into the concatenation). */
static dec_ret gzip_step(instream *s, void *state, dec_call *c, bool *in_member)
{
    z_stream *z = state;
    z->next_in = (Bytef *)(uintptr_t)c->in;
    z->avail_in = (uInt)c->in_len;
    z->next_out = c->out;
    z->avail_out = (uInt)c->room;
    int ret = inflate(z, Z_NO_FLUSH);
    c->used = c->in_len - z->avail_in;
    c->made = c->room - z->avail_out;
    if (c->used > 0)
        *in_member = true;
    if (ret == Z_STREAM_END) {
        /* A member ended (its CRC-32 and length checked): whatever
         * follows must be another member. */
        *in_member = false;
        inflateReset(z);
        return DEC_MORE;
    }
    if (ret == Z_OK || ret == Z_BUF_ERROR) /* no progress: run_decoder says so */
        return DEC_MORE;
    if (ret == Z_MEM_ERROR)
        seterr(s->perr, "gzip decoder: out of memory");
    else
        seterr(s->perr, "corrupt gzip stream: %s", z->msg != NULL ? z->msg : "bad data");
    return DEC_FAIL;
}

static void run_gzip(instream *s)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 16 + MAX_WBITS: a gzip wrapper only, with the largest window. */
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        seterr(s->perr, "cannot start the gzip decoder: out of memory");
        return;
    }
    run_decoder(s, "gzip", gzip_step, &z, false);
    inflateEnd(&z);
}

/* RFC 8878: zstd frames and skippable frames, one after another. */
static dec_ret zstd_step(instream *s, void *state, dec_call *c, bool *in_frame)
{
    ZSTD_inBuffer in = {c->in, c->in_len, 0};
    ZSTD_outBuffer out = {c->out, c->room, 0};
    size_t ret = ZSTD_decompressStream(state, &out, &in);
    c->used = in.pos;
    c->made = out.pos;
    if (ZSTD_isError(ret)) {
        if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge)
            seterr(s->perr, "zstd stream needs a window over %u MiB to decompress",
                   1u << (ZSTD_WINDOWLOG_LIMIT - 20));
        else
            seterr(s->perr, "corrupt zstd stream: %s", ZSTD_getErrorName(ret));
        return DEC_FAIL;
    }
    *in_frame = ret != 0; /* 0 when a frame ended and was flushed */
    return DEC_MORE;
}

static void run_zstd(instream *s)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (d == NULL || ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax,
                                                         ZSTD_WINDOWLOG_LIMIT))) {
        seterr(s->perr, "cannot start the zstd decoder: out of memory");
        ZSTD_freeDCtx(d);
        return;
    }
    run_decoder(s, "zstd", zstd_step, d, false);
    ZSTD_freeDCtx(d);
}

/* The LZ4 frame format: frames (and skippable frames) one after another. */
static dec_ret lz4_step(instream *s, void *state, dec_call *c, bool *in_frame)
{
    size_t src = c->in_len, dst = c->room;
    size_t ret = LZ4F_decompress(state, c->out, &dst, c->in, &src, NULL);
    c->used = src;
    c->made = dst;
    if (LZ4F_isError(ret)) {
        seterr(s->perr, "corrupt lz4 stream: %s", LZ4F_getErrorName(ret));
        return DEC_FAIL;
    }
    *in_frame = ret != 0; /* the size hint: 0 when a frame ended */
    return DEC_MORE;
}

static void run_lz4(instream *s)
{
    LZ4F_dctx *d = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
        seterr(s->perr, "cannot start the lz4 decoder: out of memory");
        return;
    }
    run_decoder(s, "lz4", lz4_step, d, false);
    LZ4F_freeDecompressionContext(d);
}

static const char *lzma_reason(lzma_ret r)
{
    switch (r) {
    case LZMA_DATA_ERROR:
        return "corrupt xz stream: compressed data is corrupt";
    case LZMA_FORMAT_ERROR:
        return "corrupt xz stream: not in the .xz format";
    case LZMA_OPTIONS_ERROR:
        return "corrupt xz stream: unsupported options";
    case LZMA_BUF_ERROR:
        return "truncated xz stream";
    case LZMA_MEMLIMIT_ERROR:
        return "xz stream needs over 256 MiB of memory to decompress";
    case LZMA_MEM_ERROR:
        return "xz decoder: out of memory";
    default:
        return "corrupt xz stream";
    }
}

/* The .xz format: streams one after another, with stream padding.
 * LZMA_CONCATENATED reads on after the first stream, as xz -d does; the
 * end of the input then has to be told with LZMA_FINISH, and liblzma
 * itself says whether the stream was cut. */
static dec_ret xz_step(instream *s, void *state, dec_call *c, bool *mid)
{
    lzma_stream *z = state;
    z->next_in = c->in;
    z->avail_in = c->in_len;
    z->next_out = c->out;
    z->avail_out = c->room;
    lzma_ret r = lzma_code(z, c->at_end ? LZMA_FINISH : LZMA_RUN);
    c->used = c->in_len - z->avail_in;
    c->made = c->room - z->avail_out;
    *mid = false; /* truncation: liblzma's LZMA_BUF_ERROR */
    if (r == LZMA_STREAM_END)
        return DEC_DONE;
    if (r != LZMA_OK) {
        seterr(s->perr, "%s", lzma_reason(r));
        return DEC_FAIL;
    }
    return DEC_MORE;
}

static void run_xz(instream *s)
{
    lzma_stream z = LZMA_STREAM_INIT;
    lzma_ret r = lzma_stream_decoder(&z, XZ_MEMLIMIT, LZMA_CONCATENATED);
    if (r != LZMA_OK) {
        seterr(s->perr, "cannot start the xz decoder: %s", lzma_reason(r));
        return;
    }
    run_decoder(s, "xz", xz_step, &z, true);
    lzma_end(&z);
}

/* An uncompressed file, read straight into the chunks the reader is
 * handed: a copy through the input buffer took 40% of this thread's
 * samples, and this thread shares its CPU with the analysis (offload.h). */
static void run_readahead(instream *s)
{
    for (;;) {
        size_t room, got = 0;
        uint8_t *out = out_room(s, &room);
        if (out == NULL || read_input(s, out, room, &got) <= 0)
            return;
        s->fill_len += got;
    }
}

static void *decompress_main(void *arg)
{
    instream *s = arg;

    switch (s->kind) {
    case INSTREAM_READAHEAD:
        run_readahead(s);
        break;
    case INSTREAM_GZIP:
        run_gzip(s);
        break;
    case INSTREAM_ZSTD:
        run_zstd(s);
        break;
    case INSTREAM_LZ4:
        run_lz4(s);
        break;
    case INSTREAM_XZ:
        run_xz(s);
        break;
    default:
        break;
    }
    /* What was decompressed before an error is delivered before it. */
    publish(s);
    pthread_mutex_lock(&s->mu);
    s->done = true;
    pthread_cond_signal(&s->data_cv);
    /* The caller's idle work goes on while the reader has chunks to take
     * (the replay's analysis of the last megabytes): else the reader would
     * be left all of it at the end. */
    while (s->count > 0 && !s->stop) {
        if (!idle_help(s) && s->count > 0 && !s->stop)
            pthread_cond_wait(&s->room_cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- Opening and closing ------------------------------------------------ */

static int start_thread(instream *s, char *errbuf, size_t errlen)
{
    sigset_t all, old;
    int e;

    /* A decompressor's input buffer; the read-ahead reads into the chunks. */
    if (s->kind != INSTREAM_READAHEAD && (s->in = aligned_alloc(READ_ALIGN, IN_CHUNK)) == NULL)
        goto nomem;
    if (pipe(s->wake) != 0) {
        s->wake[0] = s->wake[1] = -1;
        snprintf(errbuf, errlen, "cannot start the reading thread: %s", strerror(errno));
        return -1;
    }
    (void)fcntl(s->wake[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(s->wake[1], F_SETFD, FD_CLOEXEC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->idle_mu, NULL);
    pthread_cond_init(&s->data_cv, NULL);
    pthread_cond_init(&s->room_cv, NULL);
    /* Signals (SIGINT, SIGTERM, ...) are the main thread's business. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&s->thread, NULL, decompress_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        snprintf(errbuf, errlen, "cannot start the reading thread: %s", strerror(e));
        return -1;
    }
    s->thread_started = true;
    return 0;
nomem:
    snprintf(errbuf, errlen, "cannot start the reading thread: out of memory");
    return -1;
}

int instream_open(instream **out, const char *path, instream_cpu cpu, char *errbuf,
                  size_t errlen)
{
    bool stdin_ = strcmp(path, "-") == 0;
    int fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);

    *out = NULL;
    if (fd < 0) {
        snprintf(errbuf, errlen, "%s", strerror(errno));
        return -1;
    }
    int rc = instream_open_fd(out, fd, !stdin_, cpu, errbuf, errlen);
    if (rc != 0 && !stdin_)
        close(fd);
    return rc;
}

int instream_open_fd(instream **out, int fd, bool own_fd, instream_cpu cpu, char *errbuf,
                     size_t errlen)
{
    struct stat st;
    bool compressed;

    *out = NULL;
    if (fstat(fd, &st) != 0) {
        snprintf(errbuf, errlen, "%s", strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(errbuf, errlen, "is a directory");
        return -1;
    }
    instream *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    s->fd = fd;
    s->wake[0] = s->wake[1] = -1;
    s->is_reg = S_ISREG(st.st_mode);
    s->file_size = s->is_reg ? (long long)st.st_size : -1;

    /* The magic bytes, read (not peeked: a pipe cannot be) and kept. */
    while (s->prefix_len < MAGIC_MAX) {
        ssize_t n = read_some(fd, s->prefix + s->prefix_len, MAGIC_MAX - s->prefix_len);
        if (n < 0) {
            snprintf(errbuf, errlen, "read error: %s", strerror(errno));
            free(s);
            return -1;
        }
        if (n == 0)
            break;
        s->prefix_len += (size_t)n;
    }
    s->kind = detect(s->prefix, s->prefix_len, &compressed);
    /* An uncompressed regular file is read on the second thread as if
     * decompressed by a copy, when a second CPU can run it and the caller
     * has no work of its own for it (instream_cpu): the analysis then
     * parses bytes another core has just brought into the cache. With one
     * CPU the thread would only add a copy. Pipes keep the buffer: a live
     * `tcpdump -w - |` is passed on as it comes. */
    bool ahead = compressed || (cpu == INSTREAM_CPU_SPARE && s->is_reg && st.st_size > 0 &&
                                sysconf(_SC_NPROCESSORS_ONLN) > 1);

    if (ahead) {
        if (!compressed)
            s->kind = INSTREAM_READAHEAD;
        if (s->is_reg)
            (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        if (start_thread(s, errbuf, errlen) != 0) {
            instream_close(s); /* fd is the caller's to close on failure */
            return -1;
        }
    } else {
        /* A pipe, a terminal, or a file on one CPU or with the second
         * one taken: through a buffer that starts with the magic bytes
         * already read. */
        s->kind = INSTREAM_PLAIN;
        s->cap = READ_CHUNK;
        s->buf = aligned_alloc(READ_ALIGN, s->cap);
        if (s->buf == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            free(s);
            return -1;
        }
        memcpy(s->buf, s->prefix, s->prefix_len);
        s->end = s->prefix_len;
        s->read_total = (long long)s->prefix_len;
    }
    s->own_fd = own_fd;
    *out = s;
    return 0;
}

void instream_close(instream *s)
{
    if (s == NULL)
        return;
    if (s->thread_started) {
        /* The thread may wait for room (room_cv) or for input (wake). */
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->room_cv);
        pthread_mutex_unlock(&s->mu);
        ssize_t w;
        do {
            w = write(s->wake[1], "x", 1);
        } while (w < 0 && errno == EINTR);
        pthread_join(s->thread, NULL);
        pthread_mutex_destroy(&s->mu);
        pthread_mutex_destroy(&s->idle_mu);
        pthread_cond_destroy(&s->data_cv);
        pthread_cond_destroy(&s->room_cv);
    }
    for (unsigned i = 0; i < NCHUNK; i++)
        free(s->ring[i].data);
    for (unsigned i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
    free(s->in);
    free(s->join);
    free(s->buf);
    if (s->own_fd)
        close(s->fd);
    free(s);
}

/* ---- Reading ----------------------------------------------------------- */

static size_t peek_plain(instream *s, size_t need, const uint8_t **p)
{
    while (s->end - s->start < need && !s->ended) {
        size_t have = s->end - s->start, want = need + READ_CHUNK;
        if (s->cap - s->start < want) {
            /* have < need: a small move, once a buffer's worth of input,
             * to where the input offset of its first byte says
             * (READ_ALIGN), into a larger buffer if need be. */
            size_t at = (size_t)(s->read_total - (long long)have) % READ_ALIGN;
            if (s->cap < at + want) {
                size_t ncap = s->cap * 2 > at + want ? s->cap * 2 : at + want;
                if (ncap > (size_t)INSTREAM_MAX_WINDOW + READ_CHUNK + READ_ALIGN)
                    ncap = (size_t)INSTREAM_MAX_WINDOW + READ_CHUNK + READ_ALIGN;
                /* aligned_alloc wants a multiple of the alignment. */
                ncap = (ncap + READ_ALIGN - 1) / READ_ALIGN * READ_ALIGN;
                uint8_t *nb = aligned_alloc(READ_ALIGN, ncap);
                if (nb == NULL) {
                    seterr(s->err, "out of memory for a %zu-byte window", need);
                    s->ended = true;
                    break;
                }
                memcpy(nb + at, s->buf + s->start, have);
                free(s->buf);
                s->buf = nb;
                s->cap = ncap;
            } else {
                memmove(s->buf + at, s->buf + s->start, have);
            }
            s->start = at;
            s->end = at + have;
        }
        ssize_t n = read_some(s->fd, s->buf + s->end, s->cap - s->end);
        if (n < 0) {
            seterr(s->err, "read error: %s", strerror(errno));
            s->ended = true;
        } else if (n == 0) {
            s->ended = true;
        } else {
            s->end += (size_t)n;
            s->read_total += n;
        }
    }
    *p = s->buf + s->start;
    return s->end - s->start;
}

/* Releases the exhausted head chunk (if any) and waits for the next one.
 * false at the end of the decompressed stream (s->err then says why, if
 * it ended early). */
static bool next_chunk(instream *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->have_head) {
        s->head = (s->head + 1) % NCHUNK;
        s->count--;
        s->have_head = false;
        pthread_cond_signal(&s->room_cv);
    }
    while (s->count == 0 && !s->done) {
        if (!idle_help(s) && s->count == 0 && !s->done)
            pthread_cond_wait(&s->data_cv, &s->mu);
    }
    bool got = s->count > 0;
    if (got) {
        s->have_head = true;
        s->hpos = 0;
        s->hlen = s->ring[s->head].len;
        s->in_seen = s->ring[s->head].in_pos;
    } else {
        s->ended = true;
        if (s->perr[0] != '\0')
            seterr(s->err, "%s", s->perr);
        s->in_seen = s->in_total; /* the thread is done with it */
    }
    pthread_mutex_unlock(&s->mu);
    return got;
}

static bool grow_join(instream *s, size_t need)
{
    if (s->jcap - s->jstart >= need)
        return true;
    size_t have = s->jend - s->jstart;
    if (have > 0)
        memmove(s->join, s->join + s->jstart, have);
    s->jstart = 0;
    s->jend = have;
    if (s->jcap >= need)
        return true;
    size_t ncap = s->jcap * 2 > need ? s->jcap * 2 : need;
    if (ncap < 65536)
        ncap = 65536;
    if (ncap > INSTREAM_MAX_WINDOW)
        ncap = INSTREAM_MAX_WINDOW;
    uint8_t *nj = realloc(s->join, ncap);
    if (nj == NULL) {
        seterr(s->err, "out of memory for a %zu-byte window", need);
        s->ended = true;
        return false;
    }
    s->join = nj;
    s->jcap = ncap;
    return true;
}

static size_t peek_chunks(instream *s, size_t need, const uint8_t **p)
{
    if (s->jend == s->jstart) {
        /* In a chunk: no copy while the window fits in it (nearly always). */
        for (;;) {
            size_t avail = s->have_head ? s->hlen - s->hpos : 0;
            if (avail > 0 && avail >= need) {
                *p = s->ring[s->head].data + s->hpos;
                return avail;
            }
            if (avail > 0)
                break;
            if (!next_chunk(s)) {
                *p = (const uint8_t *)""; /* nothing is readable */
                return 0;
            }
        }
        s->jstart = s->jend = 0;
    }
    /* The window straddles chunks: copy exactly what it needs, so that
     * the reader is back in a chunk as soon as it has consumed it. */
    while (s->jend - s->jstart < need) {
        size_t avail = s->have_head ? s->hlen - s->hpos : 0;
        if (avail == 0) {
            if (!next_chunk(s))
                break;
            continue;
        }
        size_t take = need - (s->jend - s->jstart);
        if (take > avail)
            take = avail;
        /* Grown as bytes come, not to need at once: near the end of the
         * input a large window asked for finds few. */
        if (!grow_join(s, s->jend - s->jstart + take))
            break;
        memcpy(s->join + s->jend, s->ring[s->head].data + s->hpos, take);
        s->jend += take;
        s->hpos += take;
    }
    *p = s->join != NULL ? s->join + s->jstart : (const uint8_t *)"";
    return s->jend - s->jstart;
}

size_t instream_peek(instream *s, size_t need, const uint8_t **p)
{
    if (need > INSTREAM_MAX_WINDOW)
        need = INSTREAM_MAX_WINDOW;
    switch (s->kind) {
    case INSTREAM_PLAIN:
        return peek_plain(s, need, p);
    default:
        return peek_chunks(s, need, p);
    }
}

void instream_set_idle(instream *s, bool (*fn)(void *ctx), void *ctx)
{
    if (!s->thread_started)
        return; /* no second thread, and nobody waits */
    pthread_mutex_lock(&s->idle_mu); /* a call under way ends first */
    s->idle_fn = fn;
    s->idle_ctx = ctx;
    pthread_mutex_unlock(&s->idle_mu);
}

void instream_consume(instream *s, size_t n)
{
    s->offset += n;
    switch (s->kind) {
    case INSTREAM_PLAIN:
        s->start += n;
        break;
    default:
        if (s->jend > s->jstart)
            s->jstart += n;
        else
            s->hpos += n;
        break;
    }
}

uint64_t instream_offset(const instream *s)
{
    return s->offset;
}

long long instream_position(const instream *s)
{
    switch (s->kind) {
    case INSTREAM_PLAIN:
        return s->read_total;
    default:
        return s->in_seen;
    }
}

long long instream_file_size(const instream *s)
{
    return s->file_size;
}

const char *instream_error(const instream *s)
{
    return s->err[0] != '\0' ? s->err : NULL;
}

instream_kind instream_get_kind(const instream *s)
{
    return s->kind;
}

const char *instream_kind_name(instream_kind k)
{
    switch (k) {
    case INSTREAM_READAHEAD:
        return "readahead";
    case INSTREAM_PLAIN:
        return "plain";
    case INSTREAM_GZIP:
        return "gzip";
    case INSTREAM_ZSTD:
        return "zstd";
    case INSTREAM_LZ4:
        return "lz4";
    case INSTREAM_XZ:
        return "xz";
    }
    return "unknown";
}
