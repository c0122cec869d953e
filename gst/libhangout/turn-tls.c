/* gst-hangout — TURN over TLS: a local tunnel for libnice
 * (turn-tls-private.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "turn-tls-private.h"
#include "debug-private.h"

#define GST_CAT_DEFAULT hangout_debug_ice

/* Every pending operation holds a reference (an rc box), so that a callback
 * that runs after hangout_turn_tls_free() finds the tunnel cancelled, not
 * freed. */
struct _HangoutTurnTls {
  GMainContext *context;
  GSocketListener *listener;
  GSocketClient *client;
  GSocketConnectable *server;
  gchar *name;                  /* HOST:PORT, for logs */
  GCancellable *cancellable;
  guint16 port;
};

/* One connection from libnice and its way to the server. */
typedef struct {
  HangoutTurnTls *tunnel;
  GSocketConnection *local;
} Link;

static void
tunnel_clear (gpointer data)
{
  HangoutTurnTls *tunnel = data;

  g_clear_object (&tunnel->listener);
  g_clear_object (&tunnel->client);
  g_clear_object (&tunnel->server);
  g_clear_object (&tunnel->cancellable);
  g_free (tunnel->name);
  g_main_context_unref (tunnel->context);
}

static void
tunnel_release (HangoutTurnTls *tunnel)
{
  g_atomic_rc_box_release_full (tunnel, tunnel_clear);
}

static void
link_free (Link *link)
{
  g_clear_object (&link->local);
  tunnel_release (link->tunnel);
  g_free (link);
}

static void
on_spliced (GObject *source, GAsyncResult *result, gpointer data)
{
  Link *link = data;
  g_autoptr (GError) error = NULL;

  if (!g_io_stream_splice_finish (result, &error))
    GST_DEBUG ("TURN over TLS to %s: %s", link->tunnel->name, error->message);
  link_free (link);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  Link *link = data;
  HangoutTurnTls *tunnel = link->tunnel;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) upstream =
      g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);

  if (upstream == NULL) {
    /* The server is remote input: no g_warning. */
    GST_WARNING ("TURN over TLS: could not reach %s: %s", tunnel->name,
        error->message);
    link_free (link);
    return;
  }
  GST_DEBUG ("TURN over TLS: connected to %s", tunnel->name);
  g_main_context_push_thread_default (tunnel->context);
  g_io_stream_splice_async (G_IO_STREAM (link->local), G_IO_STREAM (upstream),
      G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
      G_PRIORITY_DEFAULT, tunnel->cancellable, on_spliced, link);
  g_main_context_pop_thread_default (tunnel->context);
}

static void accept_next (HangoutTurnTls *tunnel);

static void
on_accepted (GObject *source, GAsyncResult *result, gpointer data)
{
  HangoutTurnTls *tunnel = data;
  g_autoptr (GError) error = NULL;
  GSocketConnection *local = g_socket_listener_accept_finish
      (G_SOCKET_LISTENER (source), result, NULL, &error);
  Link *link;

  if (local == NULL) {
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      GST_WARNING ("TURN over TLS to %s: accept failed: %s", tunnel->name,
          error->message);
    tunnel_release (tunnel);
    return;
  }
  link = g_new0 (Link, 1);
  link->tunnel = tunnel;        /* takes over the accept's reference */
  link->local = local;
  accept_next (tunnel);
  g_main_context_push_thread_default (tunnel->context);
  g_socket_client_connect_async (tunnel->client, tunnel->server,
      tunnel->cancellable, on_connected, link);
  g_main_context_pop_thread_default (tunnel->context);
}

static void
accept_next (HangoutTurnTls *tunnel)
{
  g_main_context_push_thread_default (tunnel->context);
  g_socket_listener_accept_async (tunnel->listener, tunnel->cancellable,
      on_accepted, g_atomic_rc_box_acquire (tunnel));
  g_main_context_pop_thread_default (tunnel->context);
}

HangoutTurnTls *
hangout_turn_tls_new (GMainContext *context, const gchar *host, guint16 port,
    GError **error)
{
  HangoutTurnTls *tunnel = g_atomic_rc_box_new0 (HangoutTurnTls);
  g_autoptr (GInetAddress) loopback =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  hangout_debug_init ();
  tunnel->context = g_main_context_ref (context);
  tunnel->cancellable = g_cancellable_new ();
  tunnel->name = g_strdup_printf (strchr (host, ':') ? "[%s]:%u" : "%s:%u",
      host, port);
  tunnel->server = g_network_address_new (host, port);
  tunnel->client = g_socket_client_new ();
  /* Validates the certificate for the host, which is what browsers do. */
  g_socket_client_set_tls (tunnel->client, TRUE);
  tunnel->listener = g_socket_listener_new ();
  if (!g_socket_listener_add_address (tunnel->listener, address,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound, error)) {
    tunnel_release (tunnel);
    return NULL;
  }
  tunnel->port =
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  accept_next (tunnel);
  GST_DEBUG ("TURN over TLS to %s through 127.0.0.1:%u", tunnel->name,
      tunnel->port);
  return tunnel;
}

guint16
hangout_turn_tls_get_port (HangoutTurnTls *tunnel)
{
  return tunnel->port;
}

void
hangout_turn_tls_free (HangoutTurnTls *tunnel)
{
  if (tunnel == NULL)
    return;
  g_cancellable_cancel (tunnel->cancellable);
  g_socket_listener_close (tunnel->listener);
  tunnel_release (tunnel);
}
