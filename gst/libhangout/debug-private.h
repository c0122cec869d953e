/* gst-hangout — the library's debug categories, one per layer (private).
 *
 * Everything libhangout logs goes to GStreamer's debug system, so that
 * GST_DEBUG=hangout-room:6 (or hangout-*:5) shows it beside the elements'
 * own categories, in gst-launch-1.0 and in programs alike. What remote
 * members or servers send is logged here (WARNING or lower), never with
 * g_warning() or g_critical(): with G_DEBUG=fatal-warnings those would let
 * any member end the process.
 *
 * A layer's entry points (constructors, class_init) call
 * hangout_debug_init() before they log; it is cheap after the first call.
 * Internal (hidden) symbols: a program that links the library and loads
 * the plugin, which links it too, has two copies, which must not clash. 
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_sdp);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_ice);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_dtls);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_fec);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_sctp);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_channel);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_peer);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_signalling);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_room);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_transfer);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_transfer2);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_share);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_merkle);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_swarm);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (hangout_debug_pieces);

G_GNUC_INTERNAL void hangout_debug_init (void);

G_END_DECLS
