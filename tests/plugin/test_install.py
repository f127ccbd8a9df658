#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The README's system-wide install puts the plugin where every tshark,
root's included, loads it from (issue 12, item 4): root's tshark ignores
the personal plugin directory, so an install there fails silently for it.

    test_install.py --build-dir DIR --tshark TSHARK

Installs the wireshark-plugin component into a staging root (DESTDIR), so
the machine's own plugin directory is left alone, and checks that the file
lands at <Global Plugins>/epan/tcpwm.so, where `tshark -G folders` says the
global plugins are. Then runs that staged copy the way root's tshark would
find it: WIRESHARK_PLUGIN_DIR pointed at the staged global folder (as a
non-root user; root's tshark ignores the variable), and checks the fields.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--tshark", required=True)
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--preload", default="", help="the ASan runtime, for a sanitized plugin")
    a = ap.parse_args()

    env = dict(os.environ, HOME=tempfile.mkdtemp(prefix="tcpwm-home-"))
    folders = subprocess.run([a.tshark, "-G", "folders"], capture_output=True, text=True,
                             env=env, check=True).stdout
    glob = None
    for line in folders.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Global Plugins":
            glob = value.strip()
    if not glob:
        print("FAIL: tshark -G folders names no Global Plugins folder:\n" + folders)
        return 1

    stage = tempfile.mkdtemp(prefix="tcpwm-destdir-")
    try:
        p = subprocess.run([a.cmake, "--install", a.build_dir, "--component",
                            "wireshark-plugin"], capture_output=True, text=True,
                           env=dict(os.environ, DESTDIR=stage))
        if p.returncode != 0:
            print(f"FAIL: cmake --install: {p.stdout}{p.stderr}")
            return 1
        want = os.path.join(stage + glob, "epan", "tcpwm.so")
        if not os.path.isfile(want):
            found = [os.path.join(d, f) for d, _, fs in os.walk(stage) for f in fs]
            print(f"FAIL: the system-wide install did not land in tshark's global plugin "
                  f"folder {glob}/epan: installed {found}")
            return 1
        # Load the staged copy as the global plugin folder. Root's tshark
        # ignores WIRESHARK_PLUGIN_DIR, so run it as nobody then.
        for d, _, _ in os.walk(stage):
            os.chmod(d, 0o755)
        cmd = [a.tshark, "-G", "plugins"]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
        env["WIRESHARK_PLUGIN_DIR"] = os.path.dirname(stage + glob)
        env["HOME"] = "/nonexistent"
        # No extcap helpers: -G plugins runs them all, and with the ASan
        # runtime preloaded they inherit it and hang (as wstest.py says).
        env["WIRESHARK_EXTCAP_DIR"] = os.path.join(stage, "no-extcap")
        if a.preload:
            env["LD_PRELOAD"] = a.preload
            env["ASAN_OPTIONS"] = "detect_leaks=0"
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if "tcpwm.so" not in p.stdout:
            print(f"FAIL: tshark does not load the installed plugin from {glob}/epan:\n"
                  f"{p.stdout}{p.stderr}")
            return 1
        print(f"ok: installed into {glob}/epan, tshark's Global Plugins folder, and loaded "
              f"from there")
        return 0
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(env["HOME"], ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
