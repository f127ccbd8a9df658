# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# plugin/screenshot-lib.sh: what plugin/screenshot.sh and
# plugin/screenshot-flows.sh share. Sourced (never run) by each, after it
# has set SHOT_NAME (its name, for messages), BUILD (a build tree holding
# plugin/wsplugins) and CAPTURE:
#   shot_setup WIDTH TOOL...  exit 1 unless each TOOL is installed; make
#                             the work directory $W (removed at exit) with
#                             the build's plugins in $W/plugins, the capture
#                             as $W/capture.pcap and a Wireshark home,
#                             $W/home, whose main window is WIDTH x 860 at
#                             the top left, without the "running as root"
#                             warning. The script then writes $W/shot.sh,
#                             run inside Xvfb with $W as its first argument.
#   as_user CMD...            CMD with that home and those plugins; as
#                             root, as uid 65534 (Wireshark loads plugins
#                             from the system directory only when run as
#                             root)
#   shot_take WIDTH ARG...    run $W/shot.sh $W ARG... in an Xvfb screen of
#                             WIDTH x 860 (it leaves $W/shot.png)
#   shot_save OUT             $W/shot.png to OUT with a palette of 128
#                             colors (keeps the picture small)
# Needs (Debian): wireshark (the Qt GUI), xvfb, xauth, xdotool, imagemagick.

shot_setup() {
    width=$1
    shift
    for t in "$@"; do
        command -v "$t" >/dev/null || { echo "$SHOT_NAME: missing $t" >&2; exit 1; }
    done
    [ -d "$BUILD/plugin/wsplugins" ] || { echo "$SHOT_NAME: no $BUILD/plugin/wsplugins" >&2; exit 1; }
    W=$(mktemp -d)
    trap 'rm -rf "$W"' EXIT
    chmod 755 "$W"
    mkdir -p "$W/home/.config/wireshark/profiles"
    cp -r "$BUILD/plugin/wsplugins" "$W/plugins"
    cp "$CAPTURE" "$W/capture.pcap"
    cat >"$W/home/.config/wireshark/recent_common" <<EOF
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $width
gui.geometry_main_height: 860
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
EOF
    chmod -R a+rwX "$W" # for uid 65534 (as_user); shot_take does it again
}

as_user() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH="$PATH" HOME="$W/home" \
            WIRESHARK_PLUGIN_DIR="$W/plugins" "$@"
    else
        env HOME="$W/home" WIRESHARK_PLUGIN_DIR="$W/plugins" "$@"
    fi
}

shot_take() {
    width=$1
    shift
    chmod -R a+rwX "$W"
    as_user xvfb-run -a -s "-screen 0 ${width}x860x24" sh "$W/shot.sh" "$W" "$@"
}

shot_save() {
    convert "$W/shot.png" -colors 128 "PNG8:$1"
    ls -l "$1"
}
