# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers of the plugin tests (stdlib only).

tshark as root loads plugins from the system directory only: it ignores
both the personal plugin directory and WIRESHARK_PLUGIN_DIR. The tests
run as root in CI, so tshark runs as an unprivileged uid (65534, through
setpriv) with WIRESHARK_PLUGIN_DIR pointing at a private copy of the
build tree's plugin directory (layout DIR/<major.minor>/epan/tcpwm.so),
and HOME at an empty private directory, so that no personal preference
or profile changes what is tested. Nothing outside the temporary
directory is touched. As any other user, tshark runs as that user.

When the plugin was built with AddressSanitizer (the asan-ubsan preset),
it cannot be loaded into the distribution's tshark unless the ASan
runtime comes first in the process: the tests then run tshark with
LD_PRELOAD set to the runtime the compiler names (--preload), and any
sanitizer report, or a leak at exit, fails the test -- except leaks of
tshark's own libraries listed in lsan.supp. Extcap helpers are switched
off (WIRESHARK_EXTCAP_DIR): they would inherit the preloaded runtime and
hang.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import threading

NOBODY = 65534
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "AddressSanitizer:DEADLYSIGNAL", "UndefinedBehaviorSanitizer")


def parse_args(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument("--tshark", default="tshark")
    p.add_argument("--editcap", default="editcap")
    p.add_argument("--standalone", help="tcp_window_monitor binary")
    p.add_argument("--plugin-dir", required=True,
                   help="directory laid out as <major.minor>/epan/tcpwm.so")
    p.add_argument("--source-dir", required=True, help="the repository")
    p.add_argument("--preload", default="",
                   help="colon-separated libraries for LD_PRELOAD (sanitized plugin)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    if extra:
        extra(p)
    return p.parse_args()


class Suite:
    """A temporary world for tshark, and the pass/fail tally."""

    def __init__(self, args, name):
        self.args = args
        self.name = name
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.root = os.geteuid() == 0
        self.tmp = tempfile.mkdtemp(prefix="tcpwm-%s-" % name)
        os.chmod(self.tmp, 0o755)
        self.plugins = os.path.join(self.tmp, "plugins")
        self.home = os.path.join(self.tmp, "home")
        self.captures = os.path.join(self.tmp, "captures")
        shutil.copytree(args.plugin_dir, self.plugins)
        for d in (self.home, self.captures, os.path.join(self.tmp, "none")):
            os.mkdir(d)
        os.chmod(self.home, 0o777)
        os.chmod(self.captures, 0o755)
        for dirpath, dirnames, filenames in os.walk(self.plugins):
            os.chmod(dirpath, 0o755)
            for f in filenames:
                os.chmod(os.path.join(dirpath, f), 0o755)
        so = glob.glob(os.path.join(self.plugins, "*", "epan", "tcpwm.so"))
        if not so:
            self.fatal("no */epan/tcpwm.so under %s: is the plugin built?" % args.plugin_dir)
        self.staged = {}
        self.lock = threading.Lock()
        self.preload = args.preload
        # Leaks of tshark's own libraries, not ours (a copy uid 65534 can read).
        self.lsan_supp = os.path.join(self.tmp, "lsan.supp")
        shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan.supp"),
                        self.lsan_supp)
        os.chmod(self.lsan_supp, 0o644)
        if self.preload:
            print("sanitized plugin: tshark runs with LD_PRELOAD=%s" % self.preload)

    # ---- results ----
    def ok(self, what):
        self.passed += 1
        print("PASS  %s" % what)

    def fail(self, what, detail=""):
        self.failed += 1
        print("FAIL  %s" % what)
        if detail:
            for line in detail.rstrip("\n").split("\n")[:40]:
                print("      " + line)

    def check(self, cond, what, detail=""):
        if cond:
            self.ok(what)
        else:
            self.fail(what, detail)
        return cond

    def skip(self, what, reason):
        self.skipped += 1
        print("SKIP  %s: %s" % (what, reason))

    def fatal(self, msg):
        print("FATAL %s" % msg)
        print("0 passed, 1 failed")
        sys.exit(1)

    def finish(self):
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("kept %s" % self.tmp)
        if self.skipped:
            print("%d skipped" % self.skipped)
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed or self.passed == 0 else 0)

    def parallel(self, fn, items, workers=None):
        """fn over items on a few threads (each call mostly waits for its
        tshark runs), results in the order of items. fn must not report:
        it returns what the main thread reports. workers: threads (default
        the CPU count, 2 to 8)."""
        import concurrent.futures
        workers = workers or max(2, min(8, os.cpu_count() or 1))
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            return list(ex.map(fn, items))

    def per_file(self, fn, files):
        """fn(label, path) over the corpus files (label, path), as
        parallel() runs it. A file whose fn returned a string is skipped
        with that reason; the others' (label, result) come back in order."""
        done = []
        for (label, _), res in zip(files, self.parallel(lambda f: fn(*f), files)):
            if isinstance(res, str):
                self.skip(label, res)
            else:
                done.append((label, res))
        return done

    def check_all(self, checks):
        """check() of each (ok, what, detail)."""
        for ok, what, detail in checks:
            self.check(ok, what, detail)

    # ---- files ----
    def stage(self, path):
        """A copy of a capture that uid 65534 can read (the repository may
        sit under a directory it cannot traverse)."""
        path = os.path.abspath(path)
        with self.lock:
            if path not in self.staged:
                base = os.path.basename(path)
                dst = os.path.join(self.captures, "%03d-%s" % (len(self.staged), base))
                shutil.copyfile(path, dst)
                os.chmod(dst, 0o644)
                self.staged[path] = dst
            return self.staged[path]

    def new_file(self, name):
        """A path in the capture directory for a file the test writes."""
        return os.path.join(self.captures, name)

    def profile_dir(self, profile):
        d = os.path.join(self.home, ".config", "wireshark", "profiles", profile)
        os.makedirs(d, exist_ok=True)
        p = d
        while p != self.home:  # uid 65534 may write there (Wireshark saves recent files)
            os.chmod(p, 0o777)
            p = os.path.dirname(p)
        return d

    # ---- tshark ----
    def env(self, plugins=True, leaks=True):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "LC_ALL": "C",
            "WIRESHARK_PLUGIN_DIR": self.plugins if plugins else os.path.join(self.tmp, "none"),
            # No extcap helpers: none is needed, and with the ASan runtime
            # preloaded they inherit it and hang (-G plugins runs them all).
            "WIRESHARK_EXTCAP_DIR": os.path.join(self.tmp, "none"),
        }
        if self.preload and plugins:
            env["LD_PRELOAD"] = self.preload
            env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
            if not leaks:
                env["ASAN_OPTIONS"] += ":detect_leaks=0"
            env["UBSAN_OPTIONS"] = os.environ.get("UBSAN_OPTIONS",
                                                  "print_stacktrace=1:halt_on_error=1")
            env["LSAN_OPTIONS"] = "suppressions=%s" % self.lsan_supp
        return env

    def command(self, argv, plugins=True, leaks=True):
        """argv run as uid 65534 when we are root, with the test environment."""
        envs = ["%s=%s" % kv for kv in sorted(self.env(plugins, leaks).items())]
        cmd = ["env", "-i"] + envs + list(argv)
        if self.root:
            cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                   "--clear-groups"] + cmd
        return cmd

    def tshark(self, *args, plugins=True, timeout=600, leaks=True):
        """Run tshark; returns (returncode, stdout, stderr). A sanitizer
        report on stderr is a failure of its own, whatever the caller
        checks. leaks=False: no leak check at exit, for the few tshark
        features that leak memory of their own (see the callers)."""
        cmd = self.command([self.args.tshark] + list(args), plugins=plugins, leaks=leaks)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        self.sanitizer_check(err, args)
        return p.returncode, out, err

    def sanitizer_check(self, err, args):
        if any(m in err for m in SANITIZER_MARKS):
            self.fail("sanitizer report: tshark %s" % " ".join(args), err[-4000:])

    def standalone(self, *args):
        p = subprocess.run([self.args.standalone] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=600)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8",
                                                                               "replace")


def corpus(source_dir, shared=True):
    """(label, path) of every capture in tests/pcaps/ and, when it exists,
    the shared corpus beside the repository."""
    out = []
    base = os.path.join(source_dir, "tests", "pcaps")
    for p in sorted(glob.glob(os.path.join(base, "**", "*.pcap*"), recursive=True)):
        if os.path.isfile(p):
            out.append((os.path.relpath(p, source_dir), p))
    # The public corpus, and its captures of tunnels and fragments.
    for folder in ("pcaps", "pcaps-encap"):
        sh = os.path.join(source_dir, "..", "shared", folder)
        if shared and os.path.isdir(sh):
            for p in sorted(glob.glob(os.path.join(sh, "*.pcap*"))):
                if os.path.isfile(p):
                    out.append(("shared/%s/%s" % (folder, os.path.basename(p))
                                if folder != "pcaps" else "shared/" + os.path.basename(p), p))
    return out


def corpus_suite(args, name):
    """The Suite of a test that compares the plugin with the standalone
    over the whole corpus, and the corpus: (suite, files). Exits 2 without
    --standalone, fails the suite if there are no captures."""
    if not args.standalone:
        print("--standalone is required")
        sys.exit(2)
    suite = Suite(args, name)
    files = corpus(args.source_dir)
    if not files:
        suite.fatal("no captures under tests/pcaps")
    return suite, files


def diff(a, b, n=20):
    import difflib
    return "".join(list(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                             "expected", "actual"))[:n])
