/* SPDX-License-Identifier: MIT */
/* standalone/instream.c, one case per ctest test:
 *
 *   test_instream CASE PCAP_DIR WORK_DIR
 *
 * The original bytes are every capture of PCAP_DIR (tests/pcaps/real)
 * one after another, three times over: several MiB, so that windows
 * straddle the 1 MiB decompressed chunks and the 4 MiB page-release step.
 * Compressed forms are written at test time by the real tools (gzip,
 * zstd, lz4, xz) into WORK_DIR; whatever instream hands out must equal the
 * original byte for byte, whatever the window sizes, through a file or a
 * pipe. Damaged streams must hand out a prefix of the right bytes and
 * then say what is wrong. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "instream.h"

#define MIB (1u << 20)

static const char *pcap_dir, *work;
static uint8_t *orig;
static size_t orig_len;

/* ---- Fixtures ----------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static char *wpath(const char *name)
{
    static char buf[8][4096];
    static unsigned i;
    char *p = buf[i++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", work, name);
    return p;
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    if (b == NULL || fread(b, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void sh(const char *cmd)
{
    if (system(cmd) != 0) {
        fprintf(stderr, "command failed: %s\n", cmd);
        exit(2);
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The original: the captures, sorted by name, three times over. */
static void load_original(void)
{
    DIR *d = opendir(pcap_dir);
    struct dirent *e;
    char *names[64];
    size_t nn = 0;

    if (d == NULL) {
        fprintf(stderr, "cannot open %s\n", pcap_dir);
        exit(2);
    }
    while ((e = readdir(d)) != NULL && nn < 64) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".pcap") == 0)
            names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof names[0], cmp_names);
    size_t cap = 0;
    for (int rep = 0; rep < 3; rep++) {
        for (size_t i = 0; i < nn; i++) {
            char p[4096];
            size_t n;
            snprintf(p, sizeof p, "%s/%s", pcap_dir, names[i]);
            uint8_t *b = read_file(p, &n);
            if (orig_len + n > cap) {
                cap = (orig_len + n) * 2;
                orig = realloc(orig, cap);
            }
            memcpy(orig + orig_len, b, n);
            orig_len += n;
            free(b);
        }
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    if (orig_len < 4 * MIB) {
        fprintf(stderr, "%s: only %zu bytes of captures\n", pcap_dir, orig_len);
        exit(2);
    }
    write_file(wpath("orig.bin"), orig, orig_len);
}

/* The original cut in three, each part compressed on its own with CMD
 * (reading stdin, writing stdout), the results concatenated: what
 * `cat a.gz b.gz c.gz` or a rotation produces. parts[] gets the cuts. */
static size_t parts[3];

static void concatenated(const char *cmd, const char *out)
{
    parts[0] = orig_len / 5 + 12345;
    parts[1] = orig_len / 2;
    parts[2] = orig_len - parts[0] - parts[1];
    write_file(wpath("part0"), orig, parts[0]);
    write_file(wpath("part1"), orig + parts[0], parts[1]);
    write_file(wpath("part2"), orig + parts[0] + parts[1], parts[2]);
    char c[16384];
    snprintf(c, sizeof c, "cd '%s' && %s <part0 >'%s' && %s <part1 >>'%s' && %s <part2 >>'%s'", work,
             cmd, out, cmd, out, cmd, out);
    sh(c);
}

/* ---- Reading through ------------------------------------------------------ */

typedef enum mode {
    ONE_BYTE,    /* peek(1), consume(1) */
    SMALL,       /* record-like windows: 1..2000 bytes, consumed in part */
    LARGE,       /* 1..5 MiB windows */
    STRADDLE,    /* windows that reach just across a 1 MiB boundary */
    WHOLE,       /* consume everything each peek returns */
} mode;

static const char *mode_name[] = {"one-byte", "small", "large", "straddle", "whole"};

/* Reads s through, checking every window against want[0, want_len) (the
 * bytes expected, which may be only a prefix of what the stream holds when
 * prefix_only). Returns the number of bytes read. */
static size_t read_through(instream *s, mode m, const uint8_t *want, size_t want_len,
                           bool prefix_only, const char *label)
{
    int bad = 0;

    for (;;) {
        uint64_t off = instream_offset(s);
        size_t need;
        switch (m) {
        case ONE_BYTE:
            need = 1;
            break;
        case SMALL:
            need = 1 + rnd_below(2000);
            break;
        case LARGE:
            need = 1 + rnd_below(5 * MIB);
            break;
        case STRADDLE: {
            /* From here to a few bytes past the next MiB boundary. */
            size_t to = (size_t)((off / MIB + 1) * MIB) - (size_t)off;
            need = to + 1 + rnd_below(64);
            break;
        }
        default:
            need = 1 + rnd_below(100000);
            break;
        }
        const uint8_t *p = NULL;
        size_t got = instream_peek(s, need, &p);
        if (got < need) {
            /* The end: again, the same answer. */
            const uint8_t *p2 = NULL;
            size_t again = instream_peek(s, need, &p2);
            if (again != got && bad++ < 3)
                fprintf(stderr, "%s/%s: a second short peek gave %zu, not %zu\n", label,
                        mode_name[m], again, got);
        }
        /* The bytes readable must be the expected ones: check the window
         * asked for, and a sample of the rest. */
        size_t chk = got < need + 64 ? got : need + 64;
        if (off + chk > want_len && !prefix_only) {
            if (bad++ < 3)
                fprintf(stderr, "%s/%s: %zu bytes readable at %llu, beyond the %zu expected\n",
                        label, mode_name[m], got, (unsigned long long)off, want_len);
            break;
        }
        if (off + chk <= want_len && chk > 0 && memcmp(p, want + off, chk) != 0) {
            if (bad++ < 3)
                fprintf(stderr, "%s/%s: wrong bytes at offset %llu\n", label, mode_name[m],
                        (unsigned long long)off);
            break;
        }
        if (got > 0 && off + got <= want_len && p[got - 1] != want[off + got - 1]) {
            if (bad++ < 3)
                fprintf(stderr, "%s/%s: wrong last byte of a window at %llu\n", label,
                        mode_name[m], (unsigned long long)off);
            break;
        }
        if (got == 0)
            break;
        size_t take;
        switch (m) {
        case ONE_BYTE:
            take = 1;
            break;
        case WHOLE:
            take = got;
            break;
        case STRADDLE:
            take = need < got ? need : got;
            break;
        default:
            /* Like a reader: consume what it asked for, or a part of it. */
            take = 1 + rnd_below(need < got ? need : got);
            break;
        }
        instream_consume(s, take);
        CHECK_EQ_U64(instream_offset(s), off + take);
    }
    CHECK(bad == 0);
    /* After the end: nothing more. */
    const uint8_t *p = NULL;
    CHECK_EQ_U64(instream_peek(s, 1, &p), 0);
    return (size_t)instream_offset(s);
}

static instream *open_path_cpu(const char *path, instream_cpu cpu)
{
    char err[256];
    instream *s = NULL;
    if (instream_open(&s, path, cpu, err, sizeof err) != 0) {
        fprintf(stderr, "instream_open %s: %s\n", path, err);
        CHECK(!"instream_open");
        return NULL;
    }
    return s;
}

/* As the replay opens a file when the second CPU is free. */
static instream *open_path(const char *path)
{
    return open_path_cpu(path, INSTREAM_CPU_SPARE);
}

/* A child process writes path into a pipe in pieces of random size, with
 * short pauses now and then (a slow producer); the read end is returned
 * opened as an instream. */
static instream *open_pipe(const char *path)
{
    int fds[2];
    size_t n;
    uint8_t *b = read_file(path, &n);

    if (pipe(fds) != 0)
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        size_t o = 0;
        while (o < n) {
            size_t k = 1 + rnd_below(200000);
            if (k > n - o)
                k = n - o;
            ssize_t w = write(fds[1], b + o, k);
            if (w <= 0)
                _exit(1);
            o += (size_t)w;
            if (rnd_below(8) == 0)
                usleep(1000);
        }
        _exit(0);
    }
    free(b);
    close(fds[1]);
    char err[256];
    instream *s = NULL;
    if (instream_open_fd(&s, fds[0], true, INSTREAM_CPU_SPARE, err, sizeof err) != 0) {
        fprintf(stderr, "instream_open_fd: %s\n", err);
        CHECK(!"instream_open_fd");
        close(fds[0]);
    }
    return s;
}

static void reap(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

/* path, read through in every mode (by file, and by pipe in two of them),
 * must give exactly the original and no error. kind: what the file is
 * read as with the second CPU free; with it taken, a plain file is read
 * on this thread and the rest as before. */
static void expect_original(const char *path, instream_kind kind)
{
    for (int m = ONE_BYTE; m <= WHOLE; m++) {
        instream_cpu cpu = m % 2 ? INSTREAM_CPU_TAKEN : INSTREAM_CPU_SPARE;
        instream *s = open_path_cpu(path, cpu);
        if (s == NULL)
            return;
        instream_kind want =
            cpu == INSTREAM_CPU_TAKEN && kind == INSTREAM_READAHEAD ? INSTREAM_PLAIN : kind;
        CHECK_STREQ(instream_kind_name(instream_get_kind(s)), instream_kind_name(want));
        size_t n = read_through(s, (mode)m, orig, orig_len, false, path);
        CHECK_EQ_U64(n, orig_len);
        CHECK(instream_error(s) == NULL);
        if (instream_error(s) != NULL)
            fprintf(stderr, "%s: %s\n", path, instream_error(s));
        /* The progress bar's figures: the whole file was read. */
        struct stat st;
        stat(path, &st);
        CHECK_EQ_U64(instream_file_size(s), st.st_size);
        CHECK_EQ_U64(instream_position(s), st.st_size);
        instream_close(s);
    }
    for (int m = SMALL; m <= LARGE; m++) {
        instream *s = open_pipe(path);
        if (s == NULL)
            return;
        instream_kind pk = kind == INSTREAM_READAHEAD ? INSTREAM_PLAIN : kind;
        CHECK_STREQ(instream_kind_name(instream_get_kind(s)), instream_kind_name(pk));
        size_t n = read_through(s, (mode)m, orig, orig_len, false, path);
        CHECK_EQ_U64(n, orig_len);
        CHECK(instream_error(s) == NULL);
        CHECK(instream_file_size(s) == -1);
        instream_close(s);
        reap();
    }
}

/* path must give a prefix of the original of at least min_good bytes
 * (exactly that many when exact), then stop with an error starting with
 * err_prefix. */
static void expect_failure(const char *path, size_t min_good, bool exact, const char *err_prefix)
{
    for (int m = SMALL; m <= WHOLE; m += 3) {
        instream *s = open_path(path);
        if (s == NULL)
            return;
        /* Beyond min_good the bytes of a corrupt stream may be wrong: only
         * the prefix is compared. */
        size_t n = read_through(s, (mode)m, orig, min_good, true, path);
        if (exact)
            CHECK_EQ_U64(n, min_good);
        else
            CHECK(n >= min_good);
        const char *e = instream_error(s);
        CHECK(e != NULL && strncmp(e, err_prefix, strlen(err_prefix)) == 0);
        if (e == NULL || strncmp(e, err_prefix, strlen(err_prefix)) != 0)
            fprintf(stderr, "%s: error '%s', expected '%s...'\n", path, e ? e : "(none)",
                    err_prefix);
        instream_close(s);
    }
}

/* ---- Cases ------------------------------------------------------------------ */

/* An idle function that finds nothing to do, slowly. The thread that
 * calls it has let go of the stream's lock meanwhile, so the other one
 * moves on: publishes chunks until the ring is full, or frees them, and
 * signals. A caller that then waits without looking again has missed that
 * signal, and both threads wait for ever. */
static bool slow_idle(void *ctx)
{
    atomic_ulong *calls = ctx;
    atomic_fetch_add(calls, 1);
    struct timespec pause = {0, 2000000}; /* 2 ms: a batch of the replay's analysis */
    nanosleep(&pause, NULL);
    return false;
}

typedef struct reader_job {
    instream *s;
    mode m;
    const char *name;
    size_t got;
    atomic_int done;
} reader_job;

static void *reader_run(void *arg)
{
    reader_job *j = arg;
    j->got = read_through(j->s, j->m, orig, orig_len, false, j->name);
    atomic_store(&j->done, 1);
    return NULL;
}

/* path read through in mode m with slow_idle as the idle work, on a thread
 * of its own, watched: a reader and a reading thread that both wait end
 * the test with a message instead of hanging it. */
static void expect_no_lost_wakeup(const char *path, mode m)
{
    atomic_ulong calls;
    atomic_init(&calls, 0);
    instream *s = open_path(path);
    if (s == NULL)
        return;
    instream_set_idle(s, slow_idle, &calls);
    reader_job j = {.s = s, .m = m, .name = path};
    atomic_init(&j.done, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, reader_run, &j) != 0)
        exit(2);
    struct timespec tick = {0, 10000000};
    for (int k = 0; k < 3000 && !atomic_load(&j.done); k++) /* 30 s */
        nanosleep(&tick, NULL);
    if (!atomic_load(&j.done)) {
        fprintf(stderr, "FAIL %s, %s windows, a slow idle function: no progress in 30 s "
                        "(the reader and the reading thread both wait: a wake-up lost)\n",
                path, mode_name[m]);
        _exit(1);
    }
    pthread_join(t, NULL);
    CHECK_EQ_U64(j.got, orig_len);
    /* A plain file on one CPU has no second thread, and nobody waits. */
    CHECK(atomic_load(&calls) > 0 || instream_get_kind(s) == INSTREAM_PLAIN);
    instream_set_idle(s, NULL, NULL);
    instream_close(s);
}

static void case_plain(void)
{
    /* A regular file is read ahead on the second thread, given a second
     * CPU to run it that the caller leaves free; else on this thread. */
    expect_original(wpath("orig.bin"),
                    sysconf(_SC_NPROCESSORS_ONLN) > 1 ? INSTREAM_READAHEAD : INSTREAM_PLAIN);
    /* The read-ahead with idle work (the replay's analysis), slow. */
    for (int round = 0; round < 3; round++)
        expect_no_lost_wakeup(wpath("orig.bin"), round == 1 ? LARGE : WHOLE);

    /* Standard input, as "-r -" opens it. */
    int saved = dup(STDIN_FILENO);
    int fd = open(wpath("orig.bin"), O_RDONLY);
    int fds[2];
    if (pipe(fds) != 0)
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        uint8_t b[65536];
        ssize_t r;
        while ((r = read(fd, b, sizeof b)) > 0)
            if (write(fds[1], b, (size_t)r) != r)
                _exit(1);
        _exit(0);
    }
    close(fd);
    close(fds[1]);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    instream *s = open_path("-");
    if (s != NULL) {
        CHECK(instream_get_kind(s) == INSTREAM_PLAIN);
        CHECK_EQ_U64(read_through(s, SMALL, orig, orig_len, false, "stdin"), orig_len);
        CHECK(instream_error(s) == NULL);
        CHECK_EQ_U64(instream_position(s), orig_len);
        instream_close(s);
    }
    dup2(saved, STDIN_FILENO);
    close(saved);
    reap();
    /* Standard input is not closed by instream_close. */
    CHECK(fcntl(STDIN_FILENO, F_GETFD) != -1);
}

static void case_small_files(void)
{
    const uint8_t *p;

    /* Empty: a regular file and a pipe. */
    write_file(wpath("empty"), orig, 0);
    instream *s = open_path(wpath("empty"));
    if (s != NULL) {
        CHECK_EQ_U64(instream_peek(s, 1, &p), 0);
        CHECK_EQ_U64(instream_peek(s, 24, &p), 0);
        CHECK(instream_error(s) == NULL);
        CHECK_EQ_U64(instream_file_size(s), 0);
        instream_close(s);
    }
    s = open_pipe(wpath("empty"));
    if (s != NULL) {
        CHECK_EQ_U64(instream_peek(s, 24, &p), 0);
        CHECK(instream_error(s) == NULL);
        instream_close(s);
        reap();
    }

    /* Three bytes: fewer than any magic number; plain. */
    write_file(wpath("three"), (const uint8_t *)"abc", 3);
    s = open_path(wpath("three"));
    if (s != NULL) {
        CHECK_EQ_U64(instream_peek(s, 24, &p), 3);
        CHECK(memcmp(p, "abc", 3) == 0);
        instream_consume(s, 2);
        CHECK_EQ_U64(instream_peek(s, 1, &p), 1);
        CHECK(p[0] == 'c');
        instream_consume(s, 1);
        CHECK_EQ_U64(instream_peek(s, 1, &p), 0);
        CHECK(instream_error(s) == NULL);
        CHECK_EQ_U64(instream_offset(s), 3);
        instream_close(s);
    }
    s = open_pipe(wpath("three"));
    if (s != NULL) {
        CHECK(instream_get_kind(s) == INSTREAM_PLAIN);
        CHECK_EQ_U64(instream_peek(s, 24, &p), 3);
        CHECK(memcmp(p, "abc", 3) == 0);
        CHECK(instream_error(s) == NULL);
        instream_close(s);
        reap();
    }

    /* Three bytes that begin like gzip: a gzip stream cut short. */
    write_file(wpath("three.gz"), (const uint8_t *)"\x1f\x8b\x08", 3);
    s = open_path(wpath("three.gz"));
    if (s != NULL) {
        CHECK(instream_get_kind(s) == INSTREAM_GZIP);
        CHECK_EQ_U64(instream_peek(s, 24, &p), 0);
        CHECK_STREQ(instream_error(s), "truncated gzip stream");
        instream_close(s);
    }

    /* A zstd file of one skippable frame (RFC 8878 3.1.2): no bytes, no
     * error. Magic 0x184D2A53, size 4, 4 bytes of user data. */
    write_file(wpath("skip.zst"),
               (const uint8_t *)"\x53\x2a\x4d\x18\x04\x00\x00\x00WXYZ", 12);
    s = open_path(wpath("skip.zst"));
    if (s != NULL) {
        CHECK(instream_get_kind(s) == INSTREAM_ZSTD);
        CHECK_EQ_U64(instream_peek(s, 1, &p), 0);
        CHECK(instream_error(s) == NULL);
        instream_close(s);
    }

    /* Missing, and a directory. */
    char err[256];
    CHECK(instream_open(&s, wpath("no-such-file"), INSTREAM_CPU_SPARE, err, sizeof err) == -1);
    CHECK_STREQ(err, "No such file or directory");
    CHECK(instream_open(&s, work, INSTREAM_CPU_TAKEN, err, sizeof err) == -1);
    CHECK_STREQ(err, "is a directory");
}

typedef struct codec {
    const char *name, *ext;
    const char *cmd; /* stdin to stdout */
    instream_kind kind;
    /* For the cut streams: an LZ4 block (4 MiB by default, more than
     * half the file) is decoded only once whole, so they get 256 KiB
     * blocks for bytes to come out before the cut. */
    const char *cut_cmd;
} codec;

static const codec codecs[] = {
    {"gzip", "gz", "gzip -6 -c", INSTREAM_GZIP, "gzip -6 -c"},
    {"zstd", "zst", "zstd -q -3 -c", INSTREAM_ZSTD, "zstd -q -3 -c"},
    {"lz4", "lz4", "lz4 -q -c", INSTREAM_LZ4, "lz4 -q -B5 -c"},
    {"xz", "xz", "xz -1 -c", INSTREAM_XZ, "xz -1 -c"},
};

static const codec *find_codec(const char *name)
{
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (strcmp(codecs[i].name, name) == 0)
            return &codecs[i];
    return NULL;
}

/* Where, in a concatenation of three members, the second begins: the
 * length of the first compressed on its own. */
static size_t first_member_len(const codec *c)
{
    char cmd[8192], name[64];
    size_t n;
    snprintf(name, sizeof name, "part0.%s", c->ext);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s <part0 >%s", work, c->cmd, name);
    sh(cmd);
    free(read_file(wpath(name), &n));
    return n;
}

/* An idle function (instream_set_idle) that counts its calls, notes any
 * that overlap, and says it did work two calls in three (the thread then
 * looks again before it waits). */
typedef struct idle_count {
    atomic_ulong calls, overlaps;
    atomic_int inside;
} idle_count;

static bool count_idle(void *ctx)
{
    idle_count *ic = ctx;
    if (atomic_fetch_add(&ic->inside, 1) != 0)
        atomic_fetch_add(&ic->overlaps, 1);
    unsigned long k = atomic_fetch_add(&ic->calls, 1);
    atomic_fetch_sub(&ic->inside, 1);
    return k % 3 != 2;
}

static void case_codec(const codec *c)
{
    char one[64], cat[64], cmd[8192];

    /* One stream, of the whole original. */
    snprintf(one, sizeof one, "orig.%s", c->ext);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s <orig.bin >%s", work, c->cmd, one);
    sh(cmd);
    expect_original(wpath(one), c->kind);

    /* Idle work: called where either thread would wait (a byte-by-byte
     * reader leaves the decompressor ahead), one call at a time, the
     * bytes unchanged; none once taken back. */
    {
        idle_count ic;
        atomic_init(&ic.calls, 0);
        atomic_init(&ic.overlaps, 0);
        atomic_init(&ic.inside, 0);
        instream *s = open_path(wpath(one));
        if (s != NULL) {
            instream_set_idle(s, count_idle, &ic);
            CHECK_EQ_U64(read_through(s, ONE_BYTE, orig, orig_len, false, one), orig_len);
            instream_set_idle(s, NULL, NULL);
            unsigned long calls = atomic_load(&ic.calls);
            CHECK(calls > 0);
            CHECK_EQ_U64(atomic_load(&ic.overlaps), 0);
            instream_close(s);
            CHECK_EQ_U64(atomic_load(&ic.calls), calls);
        }
    }

    /* Idle work that finds nothing to do, slowly, on both sides. */
    for (int round = 0; round < 3; round++)
        expect_no_lost_wakeup(wpath(one), round == 1 ? LARGE : WHOLE);

    /* Three streams one after another. */
    snprintf(cat, sizeof cat, "cat.%s", c->ext);
    concatenated(c->cmd, cat);
    expect_original(wpath(cat), c->kind);

    size_t n;
    snprintf(cmd, sizeof cmd, "cd '%s' && %s <orig.bin >whole.%s", work, c->cut_cmd, c->ext);
    sh(cmd);
    char whole[64];
    snprintf(whole, sizeof whole, "whole.%s", c->ext);
    uint8_t *z = read_file(wpath(whole), &n);
    char truncated[64];
    snprintf(truncated, sizeof truncated, "cut.%s", c->ext);
    char want[64];

    /* Cut in the middle: the bytes before the cut, then "truncated". The
     * decoder delivers everything it could decode from the first half of
     * the compressed bytes: some of the original, never wrong bytes. */
    write_file(wpath(truncated), z, n / 2);
    snprintf(want, sizeof want, "truncated %s stream", c->name);
    expect_failure(wpath(truncated), orig_len / 8, false, want);
    /* ... and exactly those, never more than the original. */
    {
        instream *s = open_path(wpath(truncated));
        if (s != NULL) {
            size_t got = read_through(s, WHOLE, orig, orig_len, false, truncated);
            CHECK(got > orig_len / 8 && got < orig_len);
            CHECK_STREQ(instream_error(s), want);
            instream_close(s);
        }
    }
    /* Cut a few bytes short of its end (inside the trailer / checksum). */
    write_file(wpath(truncated), z, n - 3);
    expect_failure(wpath(truncated), orig_len / 2, false, want);
    free(z);

    /* The second of three members damaged at its very start (its magic
     * number): the first member's bytes exactly, then "corrupt". */
    size_t first = first_member_len(c);
    size_t cn;
    uint8_t *cz = read_file(wpath(cat), &cn);
    char bad[64];
    snprintf(bad, sizeof bad, "bad-head.%s", c->ext);
    cz[first] ^= 0xaa; /* not 0x55: 0x04 ^ 0x55 is an LZ4 skippable frame */
    write_file(wpath(bad), cz, cn);
    snprintf(want, sizeof want, "corrupt %s stream", c->name);
    expect_failure(wpath(bad), parts[0], true, want);
    cz[first] ^= 0xaa;

    /* A byte flipped in the middle of the second member's data: the
     * first member's bytes, then an error naming the format (a checksum,
     * or the data itself, catches it; a flipped length may make it look
     * cut short instead). */
    snprintf(bad, sizeof bad, "bad-mid.%s", c->ext);
    size_t at = first + (cn - first) / 4;
    cz[at] ^= 0x10;
    write_file(wpath(bad), cz, cn);
    for (int m = SMALL; m <= WHOLE; m += 3) {
        instream *s = open_path(wpath(bad));
        if (s == NULL)
            break;
        size_t got = read_through(s, (mode)m, orig, parts[0], true, bad);
        CHECK(got >= parts[0]);
        const char *e = instream_error(s);
        CHECK(e != NULL && strstr(e, c->name) != NULL &&
              (strncmp(e, "corrupt", 7) == 0 || strncmp(e, "truncated", 9) == 0));
        if (e == NULL || strstr(e, c->name) == NULL)
            fprintf(stderr, "%s: error '%s'\n", bad, e ? e : "(none)");
        instream_close(s);
    }
    /* The same damaged stream through a pipe. */
    {
        instream *s = open_pipe(wpath(bad));
        if (s != NULL) {
            size_t got = read_through(s, SMALL, orig, parts[0], true, bad);
            CHECK(got >= parts[0]);
            CHECK(instream_error(s) != NULL);
            instream_close(s);
            reap();
        }
    }
    free(cz);
}

/* instream_close must stop the decompression thread wherever it is: with
 * the ring full (the reader stopped early), or waiting for a pipe that
 * sends nothing more. */
static void case_close_early(void)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && gzip -1 -c <orig.bin >early.gz", work);
    sh(cmd);

    /* Ring full: read one window, let the thread fill every chunk, close. */
    instream *s = open_path(wpath("early.gz"));
    if (s != NULL) {
        const uint8_t *p;
        CHECK(instream_peek(s, 100, &p) >= 100);
        CHECK(memcmp(p, orig, 100) == 0);
        usleep(200000);
        instream_close(s);
    }

    /* A pipe whose writer is alive but silent: a gzip header and the start
     * of the data, then nothing. */
    size_t n;
    uint8_t *z = read_file(wpath("early.gz"), &n);
    int fds[2];
    if (pipe(fds) != 0)
        exit(2);
    CHECK(write(fds[1], z, 4096) == 4096);
    char err[256];
    if (instream_open_fd(&s, fds[0], true, INSTREAM_CPU_SPARE, err, sizeof err) == 0) {
        const uint8_t *p;
        /* What the first 4 KiB decode to comes through (published before
         * the thread waits on the pipe) ... */
        size_t got = instream_peek(s, 1, &p);
        CHECK(got >= 1 && memcmp(p, orig, got < orig_len ? got : orig_len) == 0);
        usleep(100000);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        instream_close(s); /* ... and close does not wait for the writer. */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK(t1.tv_sec - t0.tv_sec < 2);
    }
    close(fds[1]);
    free(z);

    /* Input that decodes to nothing for long: a zstd skippable frame of
     * 4 GiB - 1 (RFC 8878 3.1.2), a sparse file. Closing does not wait
     * for the thread to read through it. */
    int sf = open(wpath("huge-skip.zst"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(sf >= 0 && write(sf, "\x50\x2a\x4d\x18\xff\xff\xff\xff", 8) == 8);
    CHECK(ftruncate(sf, (off_t)8 + 0xffffffffu) == 0);
    close(sf);
    s = open_path(wpath("huge-skip.zst"));
    if (s != NULL) {
        usleep(20000);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        instream_close(s);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        CHECK(took < 0.5);
        if (took >= 0.5)
            fprintf(stderr, "closing during a 4 GiB skippable frame took %.2f s\n", took);
    }
    unlink(wpath("huge-skip.zst"));

    /* Many opens and early closes in a row, at random points. */
    for (int i = 0; i < 50; i++) {
        s = open_path(wpath("early.gz"));
        if (s == NULL)
            break;
        size_t steps = rnd_below(40);
        for (size_t k = 0; k < steps; k++) {
            const uint8_t *p;
            size_t got = instream_peek(s, 1 + rnd_below(300000), &p);
            if (got == 0)
                break;
            instream_consume(s, 1 + rnd_below(got));
        }
        instream_close(s);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_instream CASE PCAP_DIR WORK_DIR\n");
        return 2;
    }
    const char *which = argv[1];
    pcap_dir = argv[2];
    work = argv[3];
    signal(SIGPIPE, SIG_IGN);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", work, work);
    sh(cmd);
    load_original();

    if (strcmp(which, "plain") == 0) {
        case_plain();
    } else if (strcmp(which, "small") == 0) {
        case_small_files();
    } else if (strcmp(which, "close") == 0) {
        case_close_early();
    } else if (find_codec(which) != NULL) {
        case_codec(find_codec(which));
    } else {
        fprintf(stderr, "unknown case %s\n", which);
        return 2;
    }
    char name[128];
    snprintf(name, sizeof name, "test_instream %s", which);
    return check_finish(name);
}
