/* gst-hangout — an in-process signaller: rooms of one process meet through
 * a hub instead of a signalling server, for tests and programs that need
 * no network to find each other (the peer connections still run over
 * ICE).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <hangout/signalling.h>

G_BEGIN_DECLS

/* What hangout-server is to WebSocket signallers: it knows the rooms and
 * their members, hands out ids, and relays payloads. Thread-safe; the
 * signallers on it may live on any contexts. No ICE servers are handed
 * out. */
typedef struct _HangoutLocalHub HangoutLocalHub;

HangoutLocalHub *hangout_local_hub_new (void);
HangoutLocalHub *hangout_local_hub_ref (HangoutLocalHub *hub);
void hangout_local_hub_unref (HangoutLocalHub *hub);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HangoutLocalHub, hangout_local_hub_unref)

#define HANGOUT_TYPE_LOCAL_SIGNALLER (hangout_local_signaller_get_type ())
G_DECLARE_FINAL_TYPE (HangoutLocalSignaller, hangout_local_signaller,
    HANGOUT, LOCAL_SIGNALLER, GObject)

/* A member of @hub's rooms, on @context (NULL: the thread default). Every
 * signal is emitted there, from an idle source: never from within a call
 * (as from a server, what it sends arrives later). */
HangoutSignaller *hangout_local_signaller_new (HangoutLocalHub *hub,
    GMainContext *context);

/* For hangout_room_set_signaller_factory(): @data is the hub. */
HangoutSignaller *hangout_local_signaller_factory (GMainContext *context,
    gpointer data);

G_END_DECLS
