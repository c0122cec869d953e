/* gst-hangout — the least a libsoup WebSocket server can keep per member:
 * the reference for hangout-server's memory in bench/server-load.sh.
 *
 * libsoup's own WebSocket handler on one main loop, as its documentation
 * shows it, with what hangout-server gives every connection as well (a
 * ping every 30 s, the 64 KiB frame limit); each message is answered with
 * a `welcome`, nothing else is kept or relayed; it listens with
 * hangout-server's backlog (libsoup's own would refuse some of the joins
 * in flight). Prints ws://HOST:PORT/ws
 * first, like hangout-server; SIGTERM ends it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <stdio.h>

#define WELCOME "{\"type\":\"welcome\",\"id\":\"00000000000000000000000000000000\"}"

static void
on_message (SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  soup_websocket_connection_send_text (conn, WELCOME);
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  g_object_unref (conn);
}

static void
on_websocket (SoupServer *server, SoupServerMessage *msg, const char *path,
              SoupWebsocketConnection *conn, gpointer data)
{
  g_object_ref (conn);
  soup_websocket_connection_set_keepalive_interval (conn, 30);
  soup_websocket_connection_set_max_incoming_payload_size (conn, 65537);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), NULL);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), NULL);
}

static gboolean
on_term (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (void)
{
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);
  SoupServer *server = soup_server_new (NULL, NULL);
  GError *error = NULL;
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *any_port = g_inet_socket_address_new (loopback, 0);
  GSocket *listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                    &error);
  GSocketAddress *bound;

  soup_server_add_websocket_handler (server, "/ws", NULL, NULL, on_websocket, NULL, NULL);
  if (listener)
    g_socket_set_listen_backlog (listener, 1024);
  if (!listener || !g_socket_bind (listener, any_port, TRUE, &error) || !g_socket_listen (listener, &error)
      || !soup_server_listen_socket (server, listener, 0, &error)) {
    fprintf (stderr, "soup-floor: %s\n", error->message);
    return 1;
  }
  bound = g_socket_get_local_address (listener, NULL);
  printf ("ws://127.0.0.1:%u/ws\n", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  fflush (stdout);
  g_object_unref (bound);
  g_object_unref (any_port);
  g_object_unref (loopback);
  g_unix_signal_add (SIGTERM, on_term, loop);
  g_main_loop_run (loop);
  g_object_unref (server);
  g_object_unref (listener);
  g_main_loop_unref (loop);
  return 0;
}
