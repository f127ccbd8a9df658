/* SPDX-License-Identifier: MIT */
/* A tiny assertion header for the unit tests: no framework to install.
 * Each CHECK prints file:line and the expression when it fails; main()
 * returns check_finish(), non-zero if anything failed. */
#ifndef TCPWM_TEST_CHECK_H
#define TCPWM_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check__failed;
static int check__passed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            check__passed++;                                                 \
        } else {                                                             \
            check__failed++;                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                   \
    do {                                                                     \
        uint64_t check__a = (uint64_t)(a), check__b = (uint64_t)(b);         \
        if (check__a == check__b) {                                          \
            check__passed++;                                                 \
        } else {                                                             \
            check__failed++;                                                 \
            fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n", \
                    __FILE__, __LINE__, #a, #b, check__a, check__b);         \
        }                                                                    \
    } while (0)

#define CHECK_STREQ(a, b)                                                    \
    do {                                                                     \
        const char *check__a = (a), *check__b = (b);                         \
        if (check__a && check__b && strcmp(check__a, check__b) == 0) {       \
            check__passed++;                                                 \
        } else {                                                             \
            check__failed++;                                                 \
            fprintf(stderr, "%s:%d: %s == %s failed:\n  got:  %s\n  want: %s\n", \
                    __FILE__, __LINE__, #a, #b, check__a ? check__a : "(null)", \
                    check__b ? check__b : "(null)");                         \
        }                                                                    \
    } while (0)

static inline int check_finish(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check__passed, check__failed);
    return check__failed ? 1 : (check__passed ? 0 : 1);
}

#endif
