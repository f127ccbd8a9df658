/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin's entry points: Wireshark's plugin loader looks these four
 * symbols up in every .so of DIR/<major.minor>/epan, refuses a plugin whose
 * plugin_want_major/minor differ from its own version, then calls
 * plugin_register(), which only queues our registration routines; epan
 * calls them later, in its own order. */
#define WS_LOG_DOMAIN "tcpwm"

#include <wireshark.h>

#include <epan/packet.h>
#include <epan/proto.h>
#include <epan/tap.h>

#include "tcpwm-plugin.h"

#ifndef TCPWM_PLUGIN_VERSION
#define TCPWM_PLUGIN_VERSION "0.0.0"
#endif

WS_DLL_PUBLIC_DEF const gchar plugin_version[] = TCPWM_PLUGIN_VERSION;
/* The Wireshark we are compiled against: a plugin is bound to one
 * major.minor (the dissector ABI changes between them). */
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);

void plugin_register(void)
{
    static proto_plugin proto = {
        .register_protoinfo = proto_register_tcpwm,
        .register_handoff = proto_reg_handoff_tcpwm,
    };
    static tap_plugin tap = {
        .register_tap_listener = register_tap_listener_tcpwm,
    };

    proto_register_plugin(&proto);
    tap_register_plugin(&tap);
}
