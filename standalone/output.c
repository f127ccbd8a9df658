/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <errno.h>
#include <string.h>

static int fail(const output *o, int e, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", o->name, e != 0 ? strerror(e) : "write error");
    return -1;
}

int output_open(output *o, const char *path, char *err, size_t errlen)
{
    if (path == NULL || strcmp(path, "-") == 0) {
        o->f = stdout;
        o->name = "standard output";
        o->is_file = 0;
        return 0;
    }
    o->name = path;
    o->is_file = 1;
    o->f = fopen(path, "wb");
    if (o->f == NULL)
        return fail(o, errno, err, errlen);
    return 0;
}

int output_write(output *o, const void *data, size_t len, char *err, size_t errlen)
{
    errno = 0;
    if (len > 0 && fwrite(data, 1, len, o->f) != len)
        return fail(o, errno, err, errlen);
    if (fflush(o->f) != 0)
        return fail(o, errno, err, errlen);
    return 0;
}

int output_close(output *o, char *err, size_t errlen)
{
    int rc = 0;

    if (o->f == NULL)
        return 0;
    errno = 0;
    if (o->is_file) {
        /* fclose reports what a full disk or a network file system kept
         * back until now. */
        if (ferror(o->f))
            rc = fail(o, 0, err, errlen);
        if (fclose(o->f) != 0 && rc == 0)
            rc = fail(o, errno, err, errlen);
    } else if (fflush(o->f) != 0 || ferror(o->f)) {
        rc = fail(o, errno, err, errlen);
    }
    o->f = NULL;
    return rc;
}
