/* SPDX-License-Identifier: MIT */
/* A main() for the harnesses without libFuzzer (any compiler): runs
 * LLVMFuzzerTestOneInput once on each file named, walking directories
 * recursively. The regression inputs and the seed corpus run through it in
 * every build, so a fixed crash stays fixed without clang.
 *
 *   fuzz_X_replay [-s SUFFIX]... PATH...
 *
 * -s keeps only files whose names end in SUFFIX (repeatable). A broken
 * invariant aborts, as under libFuzzer; otherwise prints how many inputs
 * ran and exits 0 (1 if a path cannot be read). */
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SUFFIXES 8

static const char *suffixes[MAX_SUFFIXES];
static int n_suffixes;
static unsigned long ran;

static bool wanted(const char *name)
{
    size_t n = strlen(name);
    if (n_suffixes == 0)
        return true;
    for (int i = 0; i < n_suffixes; i++) {
        size_t k = strlen(suffixes[i]);
        if (n >= k && strcmp(name + n - k, suffixes[i]) == 0)
            return true;
    }
    return false;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fprintf(stderr, "%s: out of memory\n", path);
            fclose(f);
            return -1;
        }
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        cap *= 2;
        uint8_t *grown = realloc(buf, cap);
        if (grown == NULL)
            free(buf);
        buf = grown;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        return -1;
    }
    /* An exact-size copy, as libFuzzer hands inputs over. */
    uint8_t *input = malloc(len > 0 ? len : 1);
    if (input == NULL) {
        free(buf);
        return -1;
    }
    memcpy(input, buf, len);
    free(buf);
    fprintf(stderr, "running %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(input, len);
    free(input);
    ran++;
    return 0;
}

static int run_path(const char *path, bool named)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (!named && (!S_ISREG(st.st_mode) || !wanted(path)))
            return 0;
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        perror(path);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *sub = malloc(n);
        if (sub == NULL) {
            rc = -1;
            break;
        }
        snprintf(sub, n, "%s/%s", path, e->d_name);
        if (run_path(sub, false) != 0)
            rc = -1;
        free(sub);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0, i = 1;
    for (; i + 1 < argc && strcmp(argv[i], "-s") == 0; i += 2) {
        if (n_suffixes == MAX_SUFFIXES) {
            fprintf(stderr, "too many -s\n");
            return 2;
        }
        suffixes[n_suffixes++] = argv[i + 1];
    }
    if (i >= argc) {
        fprintf(stderr, "usage: %s [-s SUFFIX]... PATH...\n", argv[0]);
        return 2;
    }
    for (; i < argc; i++) {
        if (run_path(argv[i], true) != 0)
            rc = 1;
    }
    printf("%lu inputs ran, no invariant broken\n", ran);
    return rc;
}
