/* SPDX-License-Identifier: MIT */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/capability.h>

/* capset/capget through raw system calls: no libcap needed for "none". */
static int caps_clear(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    memset(data, 0, sizeof data);
    return (int)syscall(SYS_capset, &hdr, data);
}

/* 1 if any capability is effective or permitted, 0 if none, -1 on error. */
static int caps_left(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) != 0)
        return -1;
    for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
        if (data[i].effective != 0 || data[i].permitted != 0 || data[i].inheritable != 0)
            return 1;
    }
    return 0;
}

/* Root: become uid/gid for good. */
static int switch_user(const struct passwd *pw, char *err, size_t errlen)
{
    /* KEEPCAPS off (the default, made sure): setuid away from root then
     * clears the permitted, effective and ambient sets. */
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0 || setgroups(0, NULL) != 0 ||
        setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "cannot switch to user %s: %s", pw->pw_name, strerror(errno));
        return -1;
    }
    return 0;
}

int privs_drop(const char *user, char *done, size_t donelen, char *err, size_t errlen)
{
    const struct passwd *pw = NULL;
    uid_t uid = getuid();
    gid_t gid = getgid();
    bool root = geteuid() == 0;
    char name[64];

    if (user == NULL && root)
        user = PRIVS_DEFAULT_USER;
    if (user != NULL) {
        errno = 0;
        pw = getpwnam(user);
        if (pw == NULL) {
            snprintf(err, errlen, "-Z %s: %s", user, errno != 0 ? strerror(errno) : "no such user");
            return -1;
        }
        if (!root && pw->pw_uid != uid) {
            snprintf(err, errlen,
                     "-Z %s: switching users needs root; started as uid %u, keep it by "
                     "leaving -Z out",
                     user, (unsigned)uid);
            return -1;
        }
        snprintf(name, sizeof name, "%s", pw->pw_name);
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    } else {
        const struct passwd *me = getpwuid(uid);

        snprintf(name, sizeof name, "%s", me != NULL ? me->pw_name : "?");
    }

    if (root && switch_user(pw, err, errlen) != 0)
        return -1;
    /* What setuid did not clear: file capabilities of a non-root start,
     * ambient ones from a service manager, or -Z root. */
    if (caps_clear() != 0) {
        snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
        return -1;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
        return -1;
    }

    /* Trust, but verify. */
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
        (uid != 0 && setuid(0) == 0) || caps_left() != 0) {
        snprintf(err, errlen, "privileges are still there after dropping them");
        return -1;
    }
    snprintf(done, donelen, "user %s (uid %u, gid %u), no capabilities", name, (unsigned)uid,
             (unsigned)gid);
    return 0;
}
