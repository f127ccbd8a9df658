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
BUILD=${1:-$ROOT/build/dev}
CAPTURE=${2:-$ROOT/tests/pcaps/real/many-short-flows.pcap}
OUT=$ROOT/docs/wireshark-tcpwm-flows.png

for t in wireshark xvfb-run xdotool import convert; do
    command -v $t >/dev/null || { echo "screenshot-flows.sh: missing $t" >&2; exit 1; }
done
[ -d "$BUILD/plugin/wsplugins" ] || { echo "screenshot-flows.sh: no $BUILD/plugin/wsplugins" >&2; exit 1; }

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"
mkdir -p "$W/home/.config/wireshark"
cp -r "$BUILD/plugin/wsplugins" "$W/plugins"
cp "$CAPTURE" "$W/capture.pcap"
cat >"$W/home/.config/wireshark/recent_common" <<EOF
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 1720
gui.geometry_main_height: 860
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
EOF
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
chmod -R a+rwX "$W"

as_user() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH="$PATH" HOME="$W/home" \
            WIRESHARK_PLUGIN_DIR="$W/plugins" "$@"
    else
        env HOME="$W/home" WIRESHARK_PLUGIN_DIR="$W/plugins" "$@"
    fi
}
as_user xvfb-run -a -s "-screen 0 1720x860x24" sh "$W/shot.sh" "$W"
if [ -e "$W/nodialog" ]; then
    echo "screenshot-flows.sh: the dialog did not open; wireshark said:" >&2
    cat "$W/wireshark.log" >&2
    exit 1
fi
# A palette of 128 colors keeps the picture small.
convert "$W/shot.png" -colors 128 "PNG8:$OUT"
ls -l "$OUT"
