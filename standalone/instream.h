/* SPDX-License-Identifier: MIT */
/* The bytes of one capture file, however they arrive: a compressed file
 * (gzip, zstd, lz4 frame, xz: recognised by its magic bytes, never by its
 * name) is decompressed on a second thread, streamed with bounded memory,
 * so that decompression and the analysis overlap; an uncompressed regular
 * file is read on that thread too (read-ahead), when there is a second
 * CPU and the caller does not keep it (instream_cpu); standard input,
 * pipes and the rest are read into a buffer. The capture-file readers
 * (capfile.h) see one uniform window of decompressed bytes and never know
 * which it was.
 *
 * Why not a memory mapping: on the machines the benchmark runs on, a
 * replay parsing records straight out of a mapping of the page cache took
 * 1.2 to 1.5 times as long as one reading into a buffer that stays in the
 * cache, and 1.4 to 2 times as long as one whose second thread does the
 * read() (bench/RESULTS.md, 2026-12-06).
 *
 * Not thread-safe: one reader thread calls everything below (the
 * second thread is internal). */
#ifndef TCPWM_CLI_INSTREAM_H
#define TCPWM_CLI_INSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct instream instream;

/* What the bytes were stored as, for messages. */
typedef enum instream_kind {
    INSTREAM_READAHEAD, /* uncompressed regular file, read on the second thread */
    INSTREAM_PLAIN,   /* uncompressed, read through a buffer (pipe, stdin, one CPU,
                         or INSTREAM_CPU_TAKEN) */
    INSTREAM_GZIP,    /* RFC 1952, concatenated members too */
    INSTREAM_ZSTD,    /* RFC 8878 frames, concatenated frames too */
    INSTREAM_LZ4,     /* LZ4 frame format */
    INSTREAM_XZ,      /* .xz container */
} instream_kind;

/* Whether the caller keeps the second CPU for a thread of its own, which
 * decides how an uncompressed regular file is read: ahead on the second
 * thread (SPARE), or by read() on the reader's (TAKEN, as with one CPU).
 * Reading ahead costs the second CPU about what the same read() would
 * cost the reader (0.05-0.09 s for the benchmark's 498 MB, with buffers
 * aligned as instream.c's READ_ALIGN says), and work of the caller's own
 * can run on that thread where it would wait (instream_set_idle), as the
 * replay's analysis does. TAKEN is for a caller that cannot share it.
 * Compressed input is decompressed on the second thread either way. */
typedef enum instream_cpu {
    INSTREAM_CPU_SPARE, /* nothing else runs there: read a plain file ahead */
    INSTREAM_CPU_TAKEN, /* the caller's own work runs there: read() here */
} instream_cpu;

/* The largest window instream_peek() guarantees to make contiguous: more
 * than any block a reader accepts (pcapng blocks are capped below it). */
#define INSTREAM_MAX_WINDOW (64u << 20)

/* Open path ("-": standard input, which instream_close leaves open). 0,
 * or -1 with the reason (no path) in errbuf ("No such file or directory",
 * "is a directory", ...). The first bytes are read here to recognise a
 * compression format, so opening a pipe waits for its first six bytes (or
 * its end). */
int instream_open(instream **out, const char *path, instream_cpu cpu, char *errbuf,
                  size_t errlen);

/* The same over a descriptor already open for reading (a pipe, a memfd:
 * the tests and the fuzz harness). own_fd: instream_close() closes it;
 * on failure it is left open either way. */
int instream_open_fd(instream **out, int fd, bool own_fd, instream_cpu cpu, char *errbuf,
                     size_t errlen);

/* Make at least `need` (<= INSTREAM_MAX_WINDOW) bytes from the current
 * position readable at *p, contiguous. Returns how many are readable
 * there: >= need, or fewer only at the end of the input or on an error
 * (then instream_error() says which). The bytes stay valid and unchanged
 * until the next instream_peek() or instream_close(); instream_consume()
 * does not move them. More than need may be readable, never the whole
 * input at once: what the second thread hands over shows the rest of its
 * current 1 MiB chunk, a buffer what one read() brought. */
size_t instream_peek(instream *s, size_t need, const uint8_t **p);

/* Work for a thread that would otherwise wait: the second thread when
 * it is ahead (its chunks all full), the reader's when it waits for
 * bytes. fn(ctx) does one piece of it and returns true, or false if there
 * was none (the thread then sleeps until its own wait is over). Called
 * from either thread, one call at a time, with no lock of the stream
 * held; fn NULL stops it, and returns once no call is under way. Only
 * where a second thread runs (instream_get_kind: not INSTREAM_PLAIN);
 * elsewhere nothing waits and this does nothing. */
void instream_set_idle(instream *s, bool (*fn)(void *ctx), void *ctx);

/* Step over n bytes of what the last peek made readable. */
void instream_consume(instream *s, size_t n);

/* Offset of the current position in the (decompressed) byte stream. */
uint64_t instream_offset(const instream *s);

/* Bytes of the underlying file read so far, for a progress bar: for a
 * compressed file, the compressed bytes behind what the reader has been
 * handed (to within a 1 MiB chunk of decompressed bytes); -1 if unknown. */
long long instream_position(const instream *s);

/* The size of the underlying regular file, or -1 (pipe, stdin). */
long long instream_file_size(const instream *s);

/* NULL while the input is good; after a short peek, the reason the input
 * stopped early ("corrupt gzip stream: ...", "truncated zstd stream", "read
 * error: ..."), NULL if it simply ended. Every byte decompressed before a
 * fault is handed out before the short peek. Bytes after the end of the
 * last gzip member, zstd/lz4 frame or xz stream that do not begin another
 * one are "corrupt" (gzip(1) only warns of such "trailing garbage"). */
const char *instream_error(const instream *s);

instream_kind instream_get_kind(const instream *s);
const char *instream_kind_name(instream_kind k); /* "gzip", "zstd", ... */

void instream_close(instream *s);

#endif
