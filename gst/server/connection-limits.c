/* gst-hangout — the TCP connections of hangout-server (connection-limits.h).
 *
 * A file of its own because it is another layer than server.c's protocol:
 * it knows nothing of rooms or messages, only of connections libsoup has
 * accepted. libsoup emits "request-started" for a connection as soon as it
 * is accepted (before a byte is read, to let TLS certificates be checked)
 * and again for each further request on it; a connection ends with its
 * messages' "disconnected", which libsoup also emits when a WebSocket
 * takes the stream over. Those signals are all we need. (By then libsoup
 * has dropped the message's socket, so each message's handlers hold the
 * connection they belong to.)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "connection-limits.h"
#include "../libhangout/source-private.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Open files the process keeps for itself beyond its connections: the
 * listening socket, GLib's wakeup descriptors, the log, the web root and
 * a file being served, the next accept(). Connections are capped at the
 * limit of open files less this, so that accept() does not fail for want
 * of a descriptor. */
#define FD_RESERVE 64
/* When libsoup has stopped accepting, how long before we look again: the
 * listening socket stays readable while connections wait, and looking at
 * once would spin. */
#define ACCEPT_RETRY_MS 100

/* Referenced by the table while open and by its messages' handlers. */
typedef struct {
  gint refs;
  ConnectionLimits *limits; /* NULL once ended */
  GSocket *socket;          /* ref, NULL once ended */
  char *address;
  GSource *deadline; /* while a request is being read */
} Connection;

struct _ConnectionLimits {
  SoupServer *soup; /* not a ref: the server owns both */
  GMainContext *context;
  GSocket *listener; /* ref */
  SoupServerListenOptions listen_options;
  GSource *stall_watch;
  GSource *retry_timer;
  GHashTable *connections; /* GSocket* → Connection*, HTTP (not yet WebSocket) */
  GHashTable *per_address; /* address → count, HTTP and WebSocket */
  guint total;
  guint max_total;
  guint max_per_address;
  guint request_timeout_s;
  const ServerLog *log; /* the server's */
};

void
connection_limits_hold (ConnectionLimits *l, const char *address)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (l->per_address, address));

  g_hash_table_replace (l->per_address, g_strdup (address), GUINT_TO_POINTER (n + 1));
  l->total++;
}

void
connection_limits_release (ConnectionLimits *l, const char *address)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (l->per_address, address));

  g_return_if_fail (n > 0 && l->total > 0);
  if (n == 1)
    g_hash_table_remove (l->per_address, address);
  else
    g_hash_table_replace (l->per_address, g_strdup (address), GUINT_TO_POINTER (n - 1));
  l->total--;
}

static Connection *
connection_ref (Connection *c)
{
  c->refs++;
  return c;
}

static void
connection_unref (gpointer data, GClosure *closure)
{
  Connection *c = data;

  if (--c->refs > 0)
    return;
  g_free (c->address);
  g_free (c);
}

/* Gives back its place and its socket (at once: server.c's sweep looks at
 * the socket's reference count). */
static void
connection_end (Connection *c)
{
  ConnectionLimits *l = c->limits;

  if (!l)
    return;
  c->limits = NULL;
  hangout_clear_source (&c->deadline);
  connection_limits_release (l, c->address);
  g_hash_table_remove (l->connections, c->socket);
  g_clear_object (&c->socket);
  connection_unref (c, NULL); /* the table's */
}

/* Shutting our socket down makes libsoup read the end of the stream and
 * drop the connection itself, in its own time: closing it under libsoup
 * would not. */
static void
drop (GSocket *socket)
{
  g_socket_shutdown (socket, TRUE, TRUE, NULL);
}

static gboolean
on_request_deadline (gpointer data)
{
  Connection *c = data;

  server_log (c->limits->log, G_LOG_LEVEL_INFO,
              "%s: no complete request within the request timeout, closing", c->address);
  g_clear_pointer (&c->deadline, g_source_unref);
  drop (c->socket);
  return G_SOURCE_REMOVE;
}

static void
on_got_body (SoupServerMessage *msg, gpointer user_data)
{
  Connection *c = user_data;

  hangout_clear_source (&c->deadline);
}

/* An earlier message of the connection may still be alive and hear it
 * too: connection_end() counts the first hearing only. */
static void
on_disconnected (SoupServerMessage *msg, gpointer user_data)
{
  connection_end (user_data);
}

static void
on_request_started (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  ConnectionLimits *l = user_data;
  GSocket *socket = soup_server_message_get_socket (msg);
  Connection *c;

  if (!socket)
    return;
  c = g_hash_table_lookup (l->connections, socket);
  if (!c) {
    const char *address = soup_server_message_get_remote_host (msg);
    guint from_address;

    if (!address)
      address = "?";
    from_address = GPOINTER_TO_UINT (g_hash_table_lookup (l->per_address, address));
    if (l->total >= l->max_total || from_address >= l->max_per_address) {
      /* info: remote input, and a flood would flood the log otherwise. */
      server_log (l->log, G_LOG_LEVEL_INFO, "%s: connection refused: %u connections open, %u from this address", address, l->total,
              from_address);
      drop (socket);
      return;
    }
    c = g_new0 (Connection, 1);
    c->refs = 1;
    c->limits = l;
    c->socket = g_object_ref (socket);
    c->address = g_strdup (address);
    g_hash_table_insert (l->connections, socket, c);
    connection_limits_hold (l, address);
  }

  /* Each request (the first one, and each one on a kept-alive connection)
   * must arrive whole, body included, in time: also what ends an idle
   * kept-alive connection. */
  hangout_clear_source (&c->deadline);
  c->deadline = g_timeout_source_new_seconds (l->request_timeout_s);
  g_source_set_callback (c->deadline, on_request_deadline, c, NULL);
  g_source_attach (c->deadline, l->context);
  g_signal_connect_data (msg, "got-body", G_CALLBACK (on_got_body), connection_ref (c),
                         connection_unref, 0);
  g_signal_connect_data (msg, "disconnected", G_CALLBACK (on_disconnected), connection_ref (c),
                         connection_unref, 0);
}

gboolean
connection_bytes_taken (GSocket *socket, guint64 *taken)
{
  struct tcp_info info = { 0 };
  socklen_t len = sizeof info;
  int fd = g_socket_get_fd (socket), queued = 0;

  if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 || ioctl (fd, SIOCOUTQ, &queued) < 0)
    return FALSE;
  *taken = info.tcpi_bytes_acked + (guint64) queued;
  return TRUE;
}

ConnectionLimits *
connection_limits_new (SoupServer *soup, GMainContext *context, guint max_per_address,
                       guint request_timeout_s, const ServerLog *log)
{
  ConnectionLimits *l = g_new0 (ConnectionLimits, 1);
  struct rlimit files = { 0 };

  l->soup = soup;
  l->context = g_main_context_ref (context);
  l->connections = g_hash_table_new_full (NULL, NULL, NULL, NULL);
  l->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  l->max_per_address = max_per_address;
  l->request_timeout_s = request_timeout_s;
  l->log = log;
  if (getrlimit (RLIMIT_NOFILE, &files) < 0 || files.rlim_cur == RLIM_INFINITY || files.rlim_cur > G_MAXUINT)
    files.rlim_cur = G_MAXUINT;
  l->max_total = files.rlim_cur > 2 * FD_RESERVE ? (guint) files.rlim_cur - FD_RESERVE
                                                 : (guint) files.rlim_cur / 2;
  g_signal_connect (soup, "request-started", G_CALLBACK (on_request_started), l);
  return l;
}

guint
connection_limits_get_max_total (ConnectionLimits *l)
{
  return l->max_total;
}

static void watch_listener (ConnectionLimits *l);

static gboolean
on_accept_retry (gpointer data)
{
  ConnectionLimits *l = data;

  g_clear_pointer (&l->retry_timer, g_source_unref);
  watch_listener (l);
  return G_SOURCE_REMOVE;
}

/* libsoup 3.2's listener removes its source when one accept() fails
 * (soup-listener.c, listen_watch: out of descriptors, say) and never
 * accepts again. This watch, on the same socket at a lower priority, runs
 * only while a connection waits and libsoup's source (at the default
 * priority, ready whenever ours is) no longer exists. Then, once a
 * descriptor is free again, a new libsoup listener takes over the socket.
 * (libsoup keeps the dead one until the server is freed: a few hundred
 * bytes a time, and at most one every ACCEPT_RETRY_MS.) */
static gboolean
on_listener_stalled (GSocket *listener, GIOCondition condition, gpointer data)
{
  ConnectionLimits *l = data;
  int probe = fcntl (g_socket_get_fd (listener), F_DUPFD_CLOEXEC, 0);
  GError *error = NULL;

  if (probe >= 0) {
    close (probe);
    if (soup_server_listen_socket (l->soup, listener, l->listen_options, &error))
      server_log (l->log, G_LOG_LEVEL_MESSAGE, "accepting connections again (an accept had failed, %u connections open)", l->total);
    else
      server_log (l->log, G_LOG_LEVEL_MESSAGE, "cannot accept connections again yet: %s", error->message);
    g_clear_error (&error);
  }
  g_clear_pointer (&l->stall_watch, g_source_unref);
  l->retry_timer = g_timeout_source_new (ACCEPT_RETRY_MS);
  g_source_set_callback (l->retry_timer, on_accept_retry, l, NULL);
  g_source_attach (l->retry_timer, l->context);
  return G_SOURCE_REMOVE;
}

static void
watch_listener (ConnectionLimits *l)
{
  l->stall_watch = g_socket_create_source (l->listener, G_IO_IN, NULL);
  g_source_set_priority (l->stall_watch, G_PRIORITY_LOW);
  g_source_set_callback (l->stall_watch, G_SOURCE_FUNC (on_listener_stalled), l, NULL);
  g_source_attach (l->stall_watch, l->context);
}

gboolean
connection_limits_listen (ConnectionLimits *l, GSocket *listener, SoupServerListenOptions options,
                          GError **error)
{
  if (!soup_server_listen_socket (l->soup, listener, options, error))
    return FALSE;
  l->listener = g_object_ref (listener);
  l->listen_options = options;
  watch_listener (l);
  return TRUE;
}

void
connection_limits_stop_listening (ConnectionLimits *l)
{
  hangout_clear_source (&l->stall_watch);
  hangout_clear_source (&l->retry_timer);
}

void
connection_limits_free (ConnectionLimits *l)
{
  GList *open = g_hash_table_get_values (l->connections);

  connection_limits_stop_listening (l);
  /* Normally none: libsoup told us of each connection's end. */
  for (GList *i = open; i; i = i->next)
    connection_end (i->data);
  g_list_free (open);
  g_hash_table_unref (l->connections);
  g_hash_table_unref (l->per_address);
  g_clear_object (&l->listener);
  g_main_context_unref (l->context);
  g_free (l);
}
