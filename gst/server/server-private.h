/* gst-hangout — the signalling server without its listening socket, for
 * driving its protocol handling from a test or fuzz target (tests/fuzz):
 * clients come on WebSocket connections the caller makes (over memory
 * streams, say) and their frames arrive through the connections' "message"
 * signal, as from libsoup. Not public; the caller's thread runs everything.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <hangout/server.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* A server that neither listens nor runs a thread; NULL @options: defaults. */
G_GNUC_INTERNAL
HangoutServer *hangout_server_new_detached (const HangoutServerOptions *options);
/* Closes nothing: drops every client and frees @server. */
G_GNUC_INTERNAL
void hangout_server_free_detached (HangoutServer *server);

/* A new client on @conn (a server-side connection, referenced), owning
 * @socket (or NULL), from @peer (for logs; NULL: unknown). */
G_GNUC_INTERNAL
void hangout_server_add_client (HangoutServer *server,
    SoupWebsocketConnection *conn, GSocket *socket, const char *peer);

G_END_DECLS
