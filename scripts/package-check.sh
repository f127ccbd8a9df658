#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian packages on a fresh Debian 12: install build/package/*.deb
# into a new minimal bookworm chroot with apt (which resolves their
# dependencies from Debian's archive, as `apt install ./x.deb` does on a
# real host), then check what an operator relies on:
#   - tcp_window_monitor --version runs;
#   - getcap shows cap_net_admin,cap_net_raw=ep (set by the postinst);
#   - a normal user (nobody) captures an interface with them (lo, in a
#     network namespace of its own), and ends cleanly on SIGINT;
#   - tshark run as root loads the plugin from the system plugin directory
#     (root's tshark ignores personal plugin directories);
#   - tshark -z tcpwm,prom prints, byte for byte, what
#     tcp_window_monitor -r --scope all prints for the same capture;
#   - the man page is there, and the packages purge cleanly.
#
#   cmake --workflow --preset package
#   sudo scripts/package-check.sh [DEB...]      (default: build/package/*.deb)
#
# Slow (a few minutes) and it downloads some 150 MB from the mirror, so it
# is not part of the test suite. Needs root, debootstrap, and a mirror:
# MIRROR, else the bookworm URIs of /etc/apt/sources.list.d/debian.sources
# (or /etc/apt/sources.list), else deb.debian.org. The chroot's apt uses
# the host's Debian sources (bookworm, its updates and security, as a
# default installation has them). Everything it mounts is unmounted and
# the chroot deleted at the end, also on failure or interruption.
set -eu

cd "$(dirname "$0")/.."
say() { printf 'package-check: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run me as root (debootstrap, chroot, mounts)"
command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"

if [ $# -gt 0 ]; then
    debs="$*"
else
    debs=$(ls build/package/*.deb 2>/dev/null || true)
fi
[ -n "$debs" ] || die "no packages: run cmake --workflow --preset package first"
for d in $debs; do
    [ -f "$d" ] || die "$d: no such file"
done
capture=tests/pcaps/real/bulk-random-drop-rx.pcap

sources=/etc/apt/sources.list.d/debian.sources
if [ -z "${MIRROR:-}" ] && [ -f "$sources" ]; then
    # deb822: the URIs of the stanza whose Suites name bookworm itself.
    MIRROR=$(awk '/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print u; exit } }
                  /^$/ { u = "" }' "$sources")
fi
if [ -z "${MIRROR:-}" ] && [ -f /etc/apt/sources.list ]; then
    MIRROR=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
fi
MIRROR=${MIRROR:-http://deb.debian.org/debian}

root=$(mktemp -d /var/tmp/tcpwm-chroot.XXXXXX)
# mktemp makes it 0700: the chroot's / must be open to its other users
# (apt's _apt, nobody below).
chmod 755 "$root"
mounted=""
cleanup() {
    rc=$?
    set +e
    # In reverse order of mounting: /dev/pts before /dev.
    for m in $mounted; do
        umount "$root$m" || umount -l "$root$m"
    done
    # Never delete through a mount that is still there.
    if ! grep -q " $root/" /proc/self/mounts; then
        rm -rf "$root"
    else
        say "mounts left under $root, not deleted" >&2
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "debootstrap --variant=minbase bookworm $root $MIRROR"
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.log" 2>&1 ||
    { tail -20 "$root.log" >&2; rm -f "$root.log"; die "debootstrap failed"; }
rm -f "$root.log"

for m in /proc /sys /dev /dev/pts; do
    mkdir -p "$root$m"
    mount --bind "$m" "$root$m"
    mounted="$m $mounted"
done

if [ -f "$sources" ]; then
    rm -f "$root/etc/apt/sources.list"
    cp "$sources" "$root/etc/apt/sources.list.d/"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root "$@"; }

mkdir -p "$root/tmp/tcpwm"
for d in $debs; do
    cp "$d" "$root/tmp/tcpwm/"
done
cp "$capture" "$root/tmp/tcpwm/capture.pcap"

say "apt-get install ./*.deb (dependencies from Debian)"
in_root apt-get update -q >/dev/null
in_root sh -c 'cd /tmp/tcpwm && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./*.deb' \
    >"$root/tmp/tcpwm/apt.log" 2>&1 ||
    { tail -30 "$root/tmp/tcpwm/apt.log" >&2; die "apt-get install failed"; }
grep -E '^(Setting up|tcpwm)' "$root/tmp/tcpwm/apt.log" | grep -i tcpwm || true
grep -i 'tcpwm:' "$root/tmp/tcpwm/apt.log" && die "the postinst complained (above)"

fail=0
check() { # description, then the command (status 0 = pass)
    what=$1
    shift
    if out=$("$@" 2>&1); then
        say "ok   $what"
    else
        say "FAIL $what"
        printf '%s\n' "$out" | sed 's/^/    /' >&2
        fail=1
    fi
}

version=$(in_root tcp_window_monitor --version)
say "tcp_window_monitor --version: $version"
check "tcp_window_monitor --version" sh -c "echo '$version' | grep -q '^tcp_window_monitor [0-9]'"

caps=$(in_root getcap /usr/bin/tcp_window_monitor)
say "getcap: $caps"
check "getcap shows cap_net_admin,cap_net_raw=ep" \
    sh -c "echo '$caps' | grep -q ' cap_net_admin,cap_net_raw=ep\$'"

# As nobody, in a network namespace of its own (its lo only): the file
# capabilities open the capture, SIGINT ends it with status 0.
live_as_nobody() {
    # shellcheck disable=SC2016 # $1 is the inner shell's
    unshare --net sh -c '
        ip link set lo up
        chroot --userspec=65534:65534 "$1" env -i PATH=/usr/bin:/bin \
            timeout --preserve-status -s INT 3 tcp_window_monitor -i lo --listen 127.0.0.1:9100 -q
    ' sh "$root" >"$root/tmp/tcpwm/live.log" 2>&1
    rc=$?
    cat "$root/tmp/tcpwm/live.log"
    echo "exit status $rc"
    [ $rc -eq 0 ] && grep -q 'capturing on lo' "$root/tmp/tcpwm/live.log"
}
check "user nobody captures lo with the file capabilities" live_as_nobody

plugins=$(in_root tshark -G plugins 2>&1 | grep tcpwm || true)
say "tshark -G plugins (as root): $plugins"
check "root's tshark loads tcpwm.so from the system plugin directory" \
    sh -c "echo '$plugins' | grep -q '/usr/lib/[^ ]*/wireshark/plugins/[0-9.]*/epan/tcpwm.so'"

same_output() {
    in_root tcp_window_monitor -q -r /tmp/tcpwm/capture.pcap --scope all >"$root/tmp/tcpwm/a.prom" &&
        in_root tshark -r /tmp/tcpwm/capture.pcap -q -z tcpwm,prom >"$root/tmp/tcpwm/b.prom" &&
        [ -s "$root/tmp/tcpwm/a.prom" ] &&
        cmp "$root/tmp/tcpwm/a.prom" "$root/tmp/tcpwm/b.prom"
}
check "tshark -z tcpwm,prom == tcp_window_monitor -r --scope all ($capture)" same_output

check "the man page is installed" test -s "$root/usr/share/man/man1/tcp_window_monitor.1.gz"

purge() {
    in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q tcpwm tcpwm-wireshark-plugin &&
        [ ! -e "$root/usr/bin/tcp_window_monitor" ] &&
        ! ls "$root"/usr/lib/*/wireshark/plugins/*/epan/tcpwm.so 2>/dev/null
}
check "apt-get purge removes both packages" purge

[ $fail -eq 0 ] || die "some checks failed"
say "all checks passed"
