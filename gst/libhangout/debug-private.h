/* gst-hangout — the library's debug categories, one per layer (private).
 *
 * Everything libhangout logs goes to GStreamer's debug system, so that
 * GST_DEBUG=hangout-room:6 (or hangout-*:5) shows it beside the elements'
 * own categories, in gst-launch-1.0 and in programs alike. What remote
 * members or servers send is logged here (WARNING or lower), never with
 * g_warning() or g_critical(): with G_DEBUG=fatal-warnings those would let
 * any member end the process.
 *
 * A layer's entry points (constructors, class_init, parsers) call
 * hangout_debug_init() before they log; it is cheap after the first call.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (hangout_debug_sdp);
GST_DEBUG_CATEGORY_EXTERN (hangout_debug_ice);
GST_DEBUG_CATEGORY_EXTERN (hangout_debug_dtls);
GST_DEBUG_CATEGORY_EXTERN (hangout_debug_sctp);
GST_DEBUG_CATEGORY_EXTERN (hangout_debug_channel);
GST_DEBUG_CATEGORY_EXTERN (hangout_debug_peer);
GST_DEBUG_CATEGORY_EXTERN (hangout_debug_signalling);
GST_DEBUG_CATEGORY_EXTERN (hangout_debug_room);
GST_DEBUG_CATEGORY_EXTERN (hangout_debug_transfer);

void hangout_debug_init (void);

G_END_DECLS
