#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# plugin/screenshot.sh: remake docs/wireshark-tcpwm.png, the README's
# picture of what Wireshark users see: a capture with missing segments
# opened in the Wireshark GUI (under Xvfb) with the tcpwm profile, the
# display filter tcpwm.loss.missing, one packet selected and its TCP Window
# Monitor tree expanded.
#
# Usage: plugin/screenshot.sh [BUILD_DIR [CAPTURE [FRAME]]]
#   BUILD_DIR  build tree holding plugin/wsplugins (default build/dev)
#   CAPTURE    default tests/pcaps/real/bulk-random-drop-rx.pcap
#   FRAME      packet to select (default: the first missing one)
# Needs (Debian): wireshark (the Qt GUI), xvfb, xauth, xdotool, imagemagick.
# As root, Wireshark runs as uid 65534 (it loads plugins from the system
# directory only when run as root). Nothing outside a temporary directory
# and docs/wireshark-tcpwm.png is written.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHOT_NAME=screenshot.sh
BUILD=${1:-$ROOT/build/dev}
CAPTURE=${2:-$ROOT/tests/pcaps/real/bulk-random-drop-rx.pcap}
FRAME=${3:-}
# shellcheck source=plugin/screenshot-lib.sh
. "$ROOT/plugin/screenshot-lib.sh"

shot_setup 1360 wireshark tshark xvfb-run xdotool import convert
cp -r "$ROOT/plugin/profile" "$W/home/.config/wireshark/profiles/tcpwm"
cat >"$W/shot.sh" <<'EOF'
#!/bin/sh
# $1 work dir, $2 frame: inside Xvfb
wireshark -C tcpwm -r "$1/capture.pcap" -Y tcpwm.loss.missing -g "$2" >"$1/wireshark.log" 2>&1 &
pid=$!
sleep 20
# the TCP Window Monitor line of the packet details: select, expand all below
xdotool mousemove 200 560 click 1
sleep 1
xdotool key shift+Right
sleep 2
xdotool mousemove 1000 700
import -window root "$1/shot.png"
xdotool key ctrl+q
sleep 3
kill $pid 2>/dev/null || true
EOF

if [ -z "$FRAME" ]; then
    FRAME=$(as_user tshark -r "$W/capture.pcap" -Y tcpwm.loss.missing -T fields -e frame.number | head -n 1)
fi
[ -n "$FRAME" ] || { echo "screenshot.sh: no missing segment in $CAPTURE" >&2; exit 1; }
shot_take 1360 "$FRAME"
shot_save "$ROOT/docs/wireshark-tcpwm.png"
