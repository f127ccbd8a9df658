#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# plugin/screenshot-flows.sh: remake docs/wireshark-tcpwm-flows.png, the
# README's picture of Statistics > TCP Window Monitor: the table of flows
# (tap-tcpwm-flows.c) over a capture of many short connections, opened in
# the Wireshark GUI (under Xvfb) and enlarged to fill the screen.
#
# Usage: plugin/screenshot-flows.sh [BUILD_DIR [CAPTURE]]
#   BUILD_DIR  build tree holding plugin/wsplugins (default build/dev)
#   CAPTURE    default tests/pcaps/real/many-short-flows.pcap
# Needs (Debian): wireshark (the Qt GUI), xvfb, xauth, xdotool, imagemagick.
# The dialog is opened with wireshark -z tcpwm,flows, which opens what the
# menu item opens. As root, Wireshark runs as uid 65534 (it loads plugins
# from the system directory only when run as root). Nothing outside a
# temporary directory and docs/wireshark-tcpwm-flows.png is written.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHOT_NAME=screenshot-flows.sh
BUILD=${1:-$ROOT/build/dev}
CAPTURE=${2:-$ROOT/tests/pcaps/real/many-short-flows.pcap}
# shellcheck source=plugin/screenshot-lib.sh
. "$ROOT/plugin/screenshot-lib.sh"

shot_setup 1720 wireshark xvfb-run xdotool import convert
cat >"$W/shot.sh" <<'EOF'
#!/bin/sh
# $1 work dir: inside Xvfb
wireshark -r "$1/capture.pcap" -z tcpwm,flows >"$1/wireshark.log" 2>&1 &
pid=$!
sleep 20
# The dialog's title names the statistic; make it fill the screen.
win=$(xdotool search --name "TCP Window Monitor" | head -n 1)
if [ -n "$win" ]; then
    xdotool windowmove "$win" 0 0 windowsize "$win" 1720 860
    sleep 3
fi
xdotool mousemove 1710 850
import -window root "$1/shot.png"
xdotool key ctrl+q
sleep 3
kill $pid 2>/dev/null || true
[ -n "$win" ] || { echo "no TCP Window Monitor dialog" >"$1/nodialog"; }
EOF

shot_take 1720
if [ -e "$W/nodialog" ]; then
    echo "screenshot-flows.sh: the dialog did not open; wireshark said:" >&2
    cat "$W/wireshark.log" >&2
    exit 1
fi
shot_save "$ROOT/docs/wireshark-tcpwm-flows.png"
