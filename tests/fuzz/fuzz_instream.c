/* SPDX-License-Identifier: MIT */
/* libFuzzer harness over standalone/instream.c: the input is a whole file,
 * compressed or not (the seeds are captures compressed by gzip, zstd, lz4
 * and xz), handed over as a regular file (a memfd, read by the second
 * thread: decompressed, or read ahead as it is) or through a pipe written
 * by a thread of the harness, and read through with window sizes drawn
 * from a generator seeded by the input. Checked at every step:
 *
 *  - a peek gives at least what was asked, or fewer only at the end, and
 *    then the same again however often asked;
 *  - the bytes of a window are those the previous window showed at the
 *    same offsets (nothing torn or moved by the decompression thread);
 *  - an input without a compression magic number comes out unchanged;
 *  - instream_error() is NULL until a short peek, and a reason after one
 *    only if the stream ended early; the position never passes the size.
 *
 * Decompression bombs are cut short: reading stops after 8 MiB, and the
 * stream is closed with the thread still running (the early-stop path). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "instream.h"

#define OUT_LIMIT (8u << 20)
#define KEEP 4096u /* bytes of each window remembered for the next */

#define FUZZ_ASSERT(c)                                                                  \
    do {                                                                                \
        if (!(c)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

typedef struct writer {
    int fd;
    const uint8_t *data;
    size_t size;
} writer;

static void *write_all(void *arg)
{
    writer *w = arg;
    size_t off = 0;
    while (off < w->size) {
        ssize_t n = write(w->fd, w->data + off, w->size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the reader closed early: EPIPE */
        off += (size_t)n;
    }
    close(w->fd);
    return NULL;
}

static uint64_t mix(uint64_t *x)
{
    /* splitmix64 */
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static size_t window(uint64_t *rng)
{
    uint64_t r = mix(rng);
    switch (r & 7) {
    case 0:
        return 1;
    case 1:
    case 2:
    case 3:
        return 1 + (size_t)((r >> 8) % 64);
    case 4:
    case 5:
        return 1 + (size_t)((r >> 8) % 4096);
    case 6:
        return 1 + (size_t)((r >> 8) % (1u << 20));
    default:
        /* Across the decompressed chunks (1 MiB), up to 3 of them. */
        return (1u << 20) - 64 + (size_t)((r >> 8) % (2u << 20));
    }
}

static void read_through(instream *s, const uint8_t *data, size_t size, uint64_t rng)
{
    static uint8_t keep[KEEP];
    size_t kept = 0; /* keep[0, kept) are the bytes at the current offset */
    bool plain =
        instream_get_kind(s) == INSTREAM_READAHEAD || instream_get_kind(s) == INSTREAM_PLAIN;

    for (;;) {
        size_t need = window(&rng);
        const uint8_t *p = NULL;
        uint64_t off = instream_offset(s);
        size_t got = instream_peek(s, need, &p);
        FUZZ_ASSERT(instream_offset(s) == off);
        FUZZ_ASSERT(got == 0 || p != NULL);
        /* What the last window showed from here on is still here. */
        FUZZ_ASSERT(got >= kept);
        size_t same = kept < got ? kept : got;
        FUZZ_ASSERT(same == 0 || memcmp(p, keep, same) == 0);
        if (plain) {
            FUZZ_ASSERT(off + got <= size);
            FUZZ_ASSERT(got == 0 || memcmp(p, data + off, got) == 0);
        }
        if (got < need) {
            /* The end: the same answer again, and an error only if early. */
            const uint8_t *p2;
            FUZZ_ASSERT(instream_peek(s, need, &p2) == got);
            FUZZ_ASSERT(instream_peek(s, 1 + need, &p2) == got);
            if (plain) {
                FUZZ_ASSERT(off + got == size);
                FUZZ_ASSERT(instream_error(s) == NULL);
            }
            const char *e = instream_error(s);
            FUZZ_ASSERT(e == NULL || e[0] != '\0');
            return;
        }
        FUZZ_ASSERT(instream_error(s) == NULL);
        if (off > OUT_LIMIT)
            return; /* a bomb: stop reading, close with the thread busy */
        uint64_t r = mix(&rng);
        size_t take = (r & 1) ? need : 1 + (size_t)((r >> 1) % got);
        instream_consume(s, take);
        FUZZ_ASSERT(instream_offset(s) == off + take);
        kept = got - take < KEEP ? got - take : KEEP;
        memcpy(keep, p + take, kept);
        long long pos = instream_position(s);
        FUZZ_ASSERT(pos >= -1 && pos <= (long long)size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Everything about the run (pipe or file, the windows) comes from the
     * input, so that a crash replays. FNV-1a of the bytes. */
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    bool by_pipe = (h >> 60) & 1;
    /* A file is read ahead on the second thread or on this one. */
    instream_cpu cpu = (h >> 61) & 1 ? INSTREAM_CPU_TAKEN : INSTREAM_CPU_SPARE;
    int fd;
    pthread_t t;
    writer w;
    char err[256];
    instream *s = NULL;
    static bool once;

    if (!once) {
        /* The writer of a pipe closed early gets EPIPE, not a signal. */
        signal(SIGPIPE, SIG_IGN);
        once = true;
    }
    if (by_pipe) {
        int fds[2];
        FUZZ_ASSERT(pipe(fds) == 0);
        w = (writer){fds[1], data, size};
        FUZZ_ASSERT(pthread_create(&t, NULL, write_all, &w) == 0);
        fd = fds[0];
    } else {
        fd = memfd_create("fuzz_instream", MFD_CLOEXEC);
        FUZZ_ASSERT(fd >= 0);
        FUZZ_ASSERT(size == 0 || write(fd, data, size) == (ssize_t)size);
        FUZZ_ASSERT(lseek(fd, 0, SEEK_SET) == 0); /* read from the start */
    }
    if (instream_open_fd(&s, fd, true, cpu, err, sizeof err) == 0) {
        FUZZ_ASSERT(instream_file_size(s) == (by_pipe ? -1 : (long long)size));
        read_through(s, data, size, h);
        instream_close(s);
    } else {
        close(fd);
    }
    if (by_pipe)
        pthread_join(t, NULL);
    return 0;
}
