/* SPDX-License-Identifier: MIT */
/* tcpwm_buf: appends, growth, and above all the cap: an append that would
 * cross `limit` fails with TCPWM_ELIMIT and leaves the buffer unchanged. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "tcpwm/buf.h"
#include "tcpwm/err.h"

static void test_init_and_empty(void)
{
    tcpwm_buf b;
    tcpwm_buf_init(&b, 100);
    CHECK(b.data == NULL);
    CHECK_EQ_U64(b.len, 0);
    CHECK_EQ_U64(b.cap, 0);
    CHECK_EQ_U64(b.limit, 100);
    /* Appending nothing is fine and allocates nothing. */
    CHECK_EQ_U64(tcpwm_buf_add(&b, "x", 0), 0);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, ""), 0);
    CHECK(b.data == NULL);
    tcpwm_buf_reset(&b); /* safe before any allocation */
    tcpwm_buf_free(&b);
    tcpwm_buf_free(&b); /* and twice */
    CHECK(b.data == NULL);
}

static void test_append(void)
{
    tcpwm_buf b;
    tcpwm_buf_init(&b, 1000);
    CHECK_EQ_U64(tcpwm_buf_add(&b, "abc", 3), 0);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "def"), 0);
    CHECK_EQ_U64(tcpwm_buf_printf(&b, "-%d-%s-%05.1f", 42, "x", 2.5), 0);
    CHECK_STREQ(b.data, "abcdef-42-x-002.5");
    CHECK_EQ_U64(b.len, strlen("abcdef-42-x-002.5"));
    CHECK(b.cap > b.len); /* room for the NUL */

    /* Binary data with an embedded NUL goes in whole. */
    CHECK_EQ_U64(tcpwm_buf_add(&b, "1\0002", 3), 0);
    CHECK_EQ_U64(b.len, 20);
    CHECK(memcmp(b.data + 17, "1\0002", 4) == 0);

    /* reset keeps the memory. */
    size_t cap = b.cap;
    char *data = b.data;
    tcpwm_buf_reset(&b);
    CHECK_EQ_U64(b.len, 0);
    CHECK_EQ_U64(b.cap, cap);
    CHECK(b.data == data);
    CHECK_STREQ(b.data, "");
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "again"), 0);
    CHECK_STREQ(b.data, "again");

    /* free returns to the initial state, limit kept, reusable. */
    tcpwm_buf_free(&b);
    CHECK(b.data == NULL);
    CHECK_EQ_U64(b.len, 0);
    CHECK_EQ_U64(b.limit, 1000);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "reused"), 0);
    CHECK_STREQ(b.data, "reused");
    tcpwm_buf_free(&b);
}

static void test_growth(void)
{
    /* Many small appends across several reallocations keep every byte. */
    tcpwm_buf b;
    tcpwm_buf_init(&b, 1u << 20);
    int ok = 1;
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        if (tcpwm_buf_add(&b, &c, 1) != 0)
            ok = 0;
    }
    CHECK(ok);
    CHECK_EQ_U64(b.len, 10000);
    int same = 1;
    for (int i = 0; i < 10000; i++)
        if (b.data[i] != (char)('a' + i % 26))
            same = 0;
    CHECK(same);
    CHECK(b.data[10000] == '\0');
    CHECK(b.cap >= 10001);
    tcpwm_buf_free(&b);
}

static void test_limit(void)
{
    tcpwm_buf b;
    tcpwm_buf_init(&b, 10);

    /* Exactly the limit fits. */
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "12345678"), 0);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "90"), 0);
    CHECK_EQ_U64(b.len, 10);
    CHECK_STREQ(b.data, "1234567890");
    /* The allocation never exceeds what the cap can use (limit + NUL). */
    CHECK(b.cap <= 11);

    /* One byte more fails, with nothing changed. */
    char *data = b.data;
    size_t cap = b.cap;
    CHECK_EQ_U64(tcpwm_buf_add(&b, "x", 1), (uint64_t)(int64_t)TCPWM_ELIMIT);
    CHECK_EQ_U64(tcpwm_buf_printf(&b, "%d", 1), (uint64_t)(int64_t)TCPWM_ELIMIT);
    CHECK_EQ_U64(b.len, 10);
    CHECK_EQ_U64(b.cap, cap);
    CHECK(b.data == data);
    CHECK_STREQ(b.data, "1234567890");
    /* Appending nothing still succeeds at the limit. */
    CHECK_EQ_U64(tcpwm_buf_add(&b, "", 0), 0);
    tcpwm_buf_free(&b);

    /* An append that does not fit as a whole is not partly written. */
    tcpwm_buf_init(&b, 10);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "1234567"), 0);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "abcd"), (uint64_t)(int64_t)TCPWM_ELIMIT);
    CHECK_EQ_U64(tcpwm_buf_printf(&b, "%s", "abcd"), (uint64_t)(int64_t)TCPWM_ELIMIT);
    CHECK_STREQ(b.data, "1234567");
    CHECK_EQ_U64(b.len, 7);
    CHECK_EQ_U64(tcpwm_buf_printf(&b, "%s", "abc"), 0);
    CHECK_STREQ(b.data, "1234567abc");
    tcpwm_buf_free(&b);

    /* A huge length cannot wrap the size check around. */
    tcpwm_buf_init(&b, 10);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "ab"), 0);
    CHECK_EQ_U64(tcpwm_buf_add(&b, "x", SIZE_MAX), (uint64_t)(int64_t)TCPWM_ELIMIT);
    CHECK_EQ_U64(tcpwm_buf_add(&b, "x", SIZE_MAX - 1), (uint64_t)(int64_t)TCPWM_ELIMIT);
    CHECK_STREQ(b.data, "ab");
    tcpwm_buf_free(&b);

    /* Limit 0: nothing ever fits, nothing is allocated. */
    tcpwm_buf_init(&b, 0);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, "a"), (uint64_t)(int64_t)TCPWM_ELIMIT);
    CHECK(b.data == NULL);
    CHECK_EQ_U64(b.len, 0);
    tcpwm_buf_free(&b);
}

static void test_invalid(void)
{
    tcpwm_buf b;
    tcpwm_buf_init(&b, 10);
    CHECK_EQ_U64(tcpwm_buf_add(&b, NULL, 1), (uint64_t)(int64_t)TCPWM_EINVAL);
    CHECK_EQ_U64(tcpwm_buf_adds(&b, NULL), (uint64_t)(int64_t)TCPWM_EINVAL);
    CHECK_EQ_U64(tcpwm_buf_add(NULL, "a", 1), (uint64_t)(int64_t)TCPWM_EINVAL);
    CHECK(b.data == NULL);
    tcpwm_buf_free(&b);
}

int main(void)
{
    test_init_and_empty();
    test_append();
    test_growth();
    test_limit();
    test_invalid();
    return check_finish("test_buf");
}
