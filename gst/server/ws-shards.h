/* gst-hangout — WebSockets run on shard threads, so that the server's own
 * main loop holds none of them (docs/architecture.md, "The server's
 * threads").
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _WsShards WsShards;
typedef struct _WsLink WsLink;

/* What a link reports, on the owner's context, in the order it happened;
 * none after ws_link_release(). */
typedef struct {
  void (*message) (WsLink *link, gint type, GBytes *bytes, gpointer user_data);
  void (*error) (WsLink *link, const GError *error, gpointer user_data);
  /* The last one. */
  void (*closed) (WsLink *link, gushort code, gpointer user_data);
} WsLinkCallbacks;

/* WebSockets for the owner whose context is @owner (it calls every
 * function here from there). With @per_shard > 0 they run on threads of
 * their own, each with its own context and at most @per_shard WebSockets,
 * made as needed; with 0 they run on @owner, as if there were no shards.
 * A frame or message over the limit is answered with @too_big_reply (a
 * text message) and close code 1009 on the connection's own thread, at
 * once: libsoup drops the connection right after (the owner still gets
 * the error). */
G_GNUC_INTERNAL
WsShards *ws_shards_new (GMainContext *owner, guint per_shard,
    const char *too_big_reply);
/* After every link was released: ends the threads once they have dropped
 * their connections. */
G_GNUC_INTERNAL
void ws_shards_free (WsShards *shards);

/* Takes over @stream, whose handshake was answered (101), as the server
 * end of a WebSocket: refuses frames over @max_payload bytes and pings
 * every @keepalive seconds. @socket is the stream's (for
 * ws_link_drop()), or NULL. */
G_GNUC_INTERNAL
WsLink *ws_shards_adopt (WsShards *shards, GIOStream *stream, GSocket *socket, GUri *uri,
    const char *origin, guint64 max_payload, guint keepalive,
    const WsLinkCallbacks *callbacks, gpointer user_data);
/* An open connection that runs on the owner's context already (one made by
 * a test); a reference is taken. */
G_GNUC_INTERNAL
WsLink *ws_shards_adopt_connection (WsShards *shards,
    SoupWebsocketConnection *conn, GSocket *socket, guint64 max_payload, guint keepalive,
    const WsLinkCallbacks *callbacks, gpointer user_data);

/* Nothing is sent once the link is closing. */
G_GNUC_INTERNAL
void ws_link_send_text (WsLink *link, const char *text);
G_GNUC_INTERNAL
void ws_link_close (WsLink *link, gushort code, const char *reason);
/* Closes and shuts the socket down at once, on the connection's thread:
 * for a peer that does not read, whose close frame would wait behind all
 * it has not read. */
G_GNUC_INTERNAL
void ws_link_drop (WsLink *link, gushort code, const char *reason);
/* FALSE once either end began to close. */
G_GNUC_INTERNAL
gboolean ws_link_is_open (WsLink *link);
/* No more callbacks; the connection is dropped (closed first if open). */
G_GNUC_INTERNAL
void ws_link_release (WsLink *link);

G_END_DECLS
