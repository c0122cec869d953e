/* gst-hangout — the WebSocket signaller: docs/protocol.md §1 over libsoup-3,
 * JSON by json-glib.
 *
 * One connection at a time. When it drops (or cannot be made) the signaller
 * waits, with exponential backoff and jitter, connects again and sends a new
 * `join`; the server answers with a new id, and "welcome" is emitted again.
 * A join the server refuses (bad room or name, room full) is final: state
 * FAILED, no retry; so is a first connection that cannot be made (no server
 * there, the wrong path, a TLS failure): retries are for a server that was
 * there and went away. A rejoin refused as "unavailable" (a server that
 * has lost, for now, the rooms it shares with others) is such a server:
 * it is retried like a lost connection.
 *
 * TLS (wss://) is libsoup's, and so is every check of the server's
 * certificate: GIO verifies it against "tls-database" (NULL: GIO's default,
 * the system's authorities) and the URL's host, and reports what failed as
 * GTlsCertificateFlags in SoupMessage's "accept-certificate". We only read
 * that verdict, to say in the error which checks failed, and, with
 * "ssl-strict" off, accept the certificate anyway (with a warning).
 * A plain ws:// server sent a TLS hello reads it as the start of an HTTP
 * request and waits for the rest, silently: a handshake that has no
 * answer within 750 ms (plus four round trips of the TCP connect) ends
 * the attempt as a TLS failure, rather than hanging until join-timeout.
 *
 * Outgoing messages pass a token bucket shaped below the server's limits
 * (§1.4 `rate-limited`: 100 in one second, 20 per second sustained), so a
 * newcomer in a large room trickling many candidates is slowed down rather
 * than having messages dropped by the server.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/signalling.h>
#include <hangout/json.h>
#include <libsoup/soup.h>

#include <string.h>
#include "debug-private.h"
#include "source-private.h"
#include "signalling-private.h"

#define GST_CAT_DEFAULT hangout_debug_signalling

#define PROTOCOL_VERSION 1
#define MAX_FRAME_SIZE 65536
/* Token bucket just inside the server's (a burst of 100, 20 per second):
 * both start full when the connection opens and the server's refills
 * faster, so it always holds five more tokens than ours whatever the
 * network does to the timing (a late frame only gives it more time to
 * refill). The burst is what a newcomer spends at once: about three
 * signals per member (a description, a candidate, the end of candidates),
 * so up to 32 members connect without waiting for tokens. */
#define BUCKET_CAPACITY 95.0
#define BUCKET_RATE 18.0        /* tokens per second */
#define KEEPALIVE_INTERVAL_S 15
#define HANDSHAKE_TIMEOUT_MS 750
#define HANDSHAKE_TIMEOUT_RTTS 4

struct _HangoutWebSocketSignaller {
  GObject parent;

  gchar *url;
  GMainContext *context;
  HangoutSignallerState state;

  gchar *room;
  gchar *name;

  GTlsDatabase *tls_database;   /* NULL: GIO's default */
  gboolean ssl_strict;
  GTlsCertificateFlags tls_errors;      /* the attempt's certificate verdict */
  gint64 connect_started;       /* the attempt's TCP connect, monotonic µs */
  guint handshake_limit_ms;     /* for the handshake after that connect */
  GSource *handshake_timeout;   /* the TLS handshake under way */
  gboolean handshake_timed_out;

  SoupSession *session;
  SoupWebsocketConnection *conn;
  GCancellable *cancellable;    /* the connection attempt under way */
  GSource *retry;               /* backoff timer */
  guint failures;               /* consecutive attempts without a welcome */
  gboolean joined;              /* welcome received on this connection */
  gboolean ever_joined;         /* a welcome since start: retries are worth it */

  GQueue outgoing;              /* gchar *, text frames waiting for tokens */
  gdouble tokens;
  gint64 tokens_time;
  GSource *drain;
};

static void hangout_websocket_signaller_iface_init (HangoutSignallerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HangoutWebSocketSignaller,
    hangout_websocket_signaller, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (HANGOUT_TYPE_SIGNALLER,
        hangout_websocket_signaller_iface_init))

enum {
  PROP_0,
  PROP_URL,
  PROP_CONTEXT,
  PROP_TLS_DATABASE,
  PROP_SSL_STRICT,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void connect_now (HangoutWebSocketSignaller *self);

/* ---- helpers ---- */

static GSource *
attach_timeout (HangoutWebSocketSignaller *self, guint ms, GSourceFunc func)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, self->context);
  return source;
}

static void
set_state (HangoutWebSocketSignaller *self, HangoutSignallerState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
emit_error (HangoutWebSocketSignaller *self, HangoutError code,
    const gchar *format, ...) G_GNUC_PRINTF (3, 4);

static void
emit_error (HangoutWebSocketSignaller *self, HangoutError code,
    const gchar *format, ...)
{
  va_list args;
  g_autoptr (GError) error = NULL;

  va_start (args, format);
  error = g_error_new_valist (HANGOUT_ERROR, code, format, args);
  va_end (args);
  GST_DEBUG ("signaller %s: %s", self->url, error->message);
  hangout_signaller_emit_error (HANGOUT_SIGNALLER (self), error);
}

static gchar *
object_to_text (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  return json_to_string (node, FALSE);
}

/* ---- sending, through the token bucket ---- */

static void
refill (HangoutWebSocketSignaller *self)
{
  gint64 now = g_get_monotonic_time ();

  self->tokens = MIN (BUCKET_CAPACITY, self->tokens
      + (now - self->tokens_time) * BUCKET_RATE / G_USEC_PER_SEC);
  self->tokens_time = now;
}

static gboolean on_drain (gpointer data);

static void
flush_outgoing (HangoutWebSocketSignaller *self)
{
  refill (self);
  while (self->conn != NULL && !g_queue_is_empty (&self->outgoing)
      && self->tokens >= 1.0) {
    g_autofree gchar *text = g_queue_pop_head (&self->outgoing);

    soup_websocket_connection_send_text (self->conn, text);
    self->tokens -= 1.0;
  }
  if (!g_queue_is_empty (&self->outgoing) && self->drain == NULL) {
    guint ms = (guint) ((1.0 - self->tokens) * 1000 / BUCKET_RATE) + 1;

    self->drain = attach_timeout (self, ms, on_drain);
  }
}

static gboolean
on_drain (gpointer data)
{
  HangoutWebSocketSignaller *self = data;

  g_clear_pointer (&self->drain, g_source_unref);
  flush_outgoing (self);
  return G_SOURCE_REMOVE;
}

static void
clear_outgoing (HangoutWebSocketSignaller *self)
{
  hangout_clear_source (&self->drain);
  g_queue_clear_full (&self->outgoing, g_free);
}

/* ---- TLS ---- */

/* GIO's verdict on a certificate, in words: "unknown authority (…), …". */
static gchar *
describe_certificate_errors (GTlsCertificateFlags errors, const gchar *host)
{
  static const struct {
    GTlsCertificateFlags flag;
    const gchar *text;
  } checks[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA,
        "unknown authority (no trusted certificate authority signed it)" },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not yet valid" },
    { G_TLS_CERTIFICATE_EXPIRED, "expired" },
    { G_TLS_CERTIFICATE_REVOKED, "revoked" },
    { G_TLS_CERTIFICATE_INSECURE, "insecure (a weak algorithm)" },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid" },
  };
  GString *text = g_string_new (NULL);

  /* First: the one a trusted certificate can still fail. */
  if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_string_append_printf (text, "bad identity (it was not issued for %s)",
        host);
  for (guint i = 0; i < G_N_ELEMENTS (checks); i++) {
    if (!(errors & checks[i].flag))
      continue;
    if (text->len > 0)
      g_string_append (text, ", ");
    g_string_append (text, checks[i].text);
  }
  return g_string_free (text, FALSE);
}

static const gchar *
url_host (HangoutWebSocketSignaller *self, GUri **uri)
{
  *uri = g_uri_parse (self->url, G_URI_FLAGS_NONE, NULL);
  return *uri != NULL ? g_uri_get_host (*uri) : self->url;
}

/* GIO found the certificate wrong (its "accept-certificate" runs only
 * then): refuse it, or with ssl-strict off take it and say so. */
static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *certificate,
    GTlsCertificateFlags errors, gpointer data)
{
  HangoutWebSocketSignaller *self = data;
  g_autoptr (GUri) uri = NULL;
  const gchar *host = url_host (self, &uri);
  g_autofree gchar *why = describe_certificate_errors (errors, host);

  self->tls_errors = errors;
  if (self->ssl_strict)
    return FALSE;
  GST_WARNING ("signaller %s: accepting a certificate that is not trusted, "
      "because strict checking is off: %s", self->url, why);
  emit_error (self, HANGOUT_ERROR_TLS_CERTIFICATE, "TLS: accepted the "
      "certificate of %s although it is not trusted (strict checking is "
      "off): %s", host, why);
  return TRUE;
}

static gboolean
on_handshake_timeout (gpointer data)
{
  HangoutWebSocketSignaller *self = data;

  g_clear_pointer (&self->handshake_timeout, g_source_unref);
  self->handshake_timed_out = TRUE;
  g_cancellable_cancel (self->cancellable);
  return G_SOURCE_REMOVE;
}

/* Times the TLS handshake of a wss:// attempt (see the top). */
static void
on_network_event (SoupMessage *msg, GSocketClientEvent event,
    GIOStream *connection, gpointer data)
{
  HangoutWebSocketSignaller *self = data;

  switch (event) {
    case G_SOCKET_CLIENT_CONNECTING:
      self->connect_started = g_get_monotonic_time ();
      break;
    case G_SOCKET_CLIENT_CONNECTED:
      self->handshake_limit_ms = HANDSHAKE_TIMEOUT_MS + HANDSHAKE_TIMEOUT_RTTS
          * (guint) ((g_get_monotonic_time () - self->connect_started) / 1000);
      break;
    case G_SOCKET_CLIENT_TLS_HANDSHAKING:
      hangout_clear_source (&self->handshake_timeout);
      self->handshake_timeout = attach_timeout (self,
          self->handshake_limit_ms, on_handshake_timeout);
      break;
    case G_SOCKET_CLIENT_TLS_HANDSHAKED:
      hangout_clear_source (&self->handshake_timeout);
      break;
    default:
      break;
  }
}

/* Why the connection could not be made, for "error": a refused
 * certificate, another TLS failure, or anything else. */
static void
emit_connect_error (HangoutWebSocketSignaller *self, const GError *error)
{
  g_autoptr (GUri) uri = NULL;
  const gchar *host = url_host (self, &uri);

  if (self->handshake_timed_out) {
    emit_error (self, HANGOUT_ERROR_TLS, "TLS with %s failed: no answer to "
        "the TLS handshake within %u ms (is it a server without TLS?)",
        host, self->handshake_limit_ms);
  } else if (self->tls_errors != 0 && self->ssl_strict) {
    g_autofree gchar *why = describe_certificate_errors (self->tls_errors,
        host);

    emit_error (self, HANGOUT_ERROR_TLS_CERTIFICATE, "TLS: the certificate "
        "of %s is not trusted: %s", host, why);
  } else if (error->domain == G_TLS_ERROR) {
    emit_error (self, HANGOUT_ERROR_TLS, "TLS with %s failed (is a TLS "
        "server there?): %s", host, error->message);
  } else {
    emit_error (self, HANGOUT_ERROR_SIGNALLING, "cannot connect to %s: %s",
        self->url, error->message);
  }
}

/* ---- the connection ---- */

static void on_message (SoupWebsocketConnection *conn, gint type,
    GBytes *message, gpointer data);
static void on_closed (SoupWebsocketConnection *conn, gpointer data);

static void
release_closed_connection (SoupWebsocketConnection *conn, gpointer data)
{
  /* Holds the signaller (the closure's data) until the close handshake is
   * over, so that its owner can wait for it before dropping the context. */
  g_signal_handlers_disconnect_by_func (conn, release_closed_connection, data);
  g_object_unref (conn);
}

/* Forgets the connection; closes it first if it is open. */
static void
drop_connection (HangoutWebSocketSignaller *self)
{
  SoupWebsocketConnection *conn = g_steal_pointer (&self->conn);

  self->joined = FALSE;
  if (conn == NULL)
    return;
  g_signal_handlers_disconnect_by_data (conn, self);
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN) {
    g_signal_connect_data (conn, "closed",
        G_CALLBACK (release_closed_connection), g_object_ref (self),
        (GClosureNotify) (void (*)(void)) g_object_unref, 0);
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    return;
  }
  g_object_unref (conn);
}

static gboolean
on_retry (gpointer data)
{
  HangoutWebSocketSignaller *self = data;

  g_clear_pointer (&self->retry, g_source_unref);
  connect_now (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (HangoutWebSocketSignaller *self)
{
  guint shift = MIN (self->failures, 16);
  guint delay = MIN ((guint) HANGOUT_WEBSOCKET_SIGNALLER_BACKOFF_MAX_MS,
      (guint) HANGOUT_WEBSOCKET_SIGNALLER_BACKOFF_MIN_MS << shift);
  guint ms = g_random_int_range (delay / 2, delay + 1);

  self->failures++;
  hangout_clear_source (&self->retry);
  GST_DEBUG ("signaller %s: reconnecting in %u ms", self->url, ms);
  self->retry = attach_timeout (self, ms, on_retry);
}

/* The connection is gone, or could not be made: try again later. */
static void
connection_lost (HangoutWebSocketSignaller *self)
{
  drop_connection (self);
  clear_outgoing (self);
  if (self->state == HANGOUT_SIGNALLER_STATE_JOINED)
    set_state (self, HANGOUT_SIGNALLER_STATE_RECONNECTING);
  if (self->state == HANGOUT_SIGNALLER_STATE_CONNECTING
      || self->state == HANGOUT_SIGNALLER_STATE_RECONNECTING)
    schedule_retry (self);
}

/* After the "error" that says why: FAILED, no retry. */
static void
give_up (HangoutWebSocketSignaller *self)
{
  if (self->state == HANGOUT_SIGNALLER_STATE_STOPPED)
    return;                     /* stopped by an "error" handler */
  hangout_clear_source (&self->retry);
  clear_outgoing (self);
  drop_connection (self);
  set_state (self, HANGOUT_SIGNALLER_STATE_FAILED);
}

static void
send_join (HangoutWebSocketSignaller *self)
{
  g_autoptr (JsonObject) join = json_object_new ();
  g_autofree gchar *text = NULL;

  json_object_set_string_member (join, "type", "join");
  json_object_set_string_member (join, "room", self->room);
  json_object_set_string_member (join, "name", self->name);
  json_object_set_int_member (join, "version", PROTOCOL_VERSION);
  text = object_to_text (join);
  /* The join goes first, ahead of the bucket; the bucket starts full. */
  soup_websocket_connection_send_text (self->conn, text);
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  HangoutWebSocketSignaller *self = data;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *conn;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &error);
  hangout_clear_source (&self->handshake_timeout);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && !self->handshake_timed_out) {
    g_object_unref (self);
    return;
  }
  g_clear_object (&self->cancellable);
  if (conn == NULL && !self->ever_joined) {
    /* Never in: no server there, the wrong path, a TLS failure. A retry
     * would only hide that for the caller's whole join timeout. */
    emit_connect_error (self, error);
    give_up (self);
  } else if (conn == NULL) {
    /* Report the first failure of a series, not every retry. */
    if (self->failures == 0)
      emit_connect_error (self, error);
    else
      GST_DEBUG ("signaller %s: %s", self->url, error->message);
    connection_lost (self);
  } else if (self->state != HANGOUT_SIGNALLER_STATE_CONNECTING
      && self->state != HANGOUT_SIGNALLER_STATE_RECONNECTING) {
    /* Stopped meanwhile and the cancellation came too late. */
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref (conn);
  } else {
    self->conn = conn;
    soup_websocket_connection_set_keepalive_interval (conn,
        KEEPALIVE_INTERVAL_S);
    g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
    g_signal_connect (conn, "closed", G_CALLBACK (on_closed), self);
    send_join (self);
  }
  g_object_unref (self);
}

static void
connect_now (HangoutWebSocketSignaller *self)
{
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, self->url);

  g_return_if_fail (msg != NULL);       /* the URL was checked in start */
  self->tls_errors = 0;
  self->handshake_timed_out = FALSE;
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (on_accept_certificate), self);
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event),
      self);
  self->cancellable = g_cancellable_new ();
  g_main_context_push_thread_default (self->context);
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, self->cancellable, on_connected, g_object_ref (self));
  g_main_context_pop_thread_default (self->context);
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  HangoutWebSocketSignaller *self = g_object_ref (data);
  gushort code = soup_websocket_connection_get_close_code (conn);

  emit_error (self, HANGOUT_ERROR_SIGNALLING,
      "connection to %s lost (close code %u)", self->url, code);
  if (self->conn == conn)
    connection_lost (self);
  g_object_unref (self);
}

/* ---- incoming messages ---- */

/* What libsoup accepts by default (max-incoming-payload-size). */
#define MAX_SERVER_MESSAGE (128 * 1024)

static GPtrArray *
parse_members (JsonArray *array)
{
  GPtrArray *members = g_ptr_array_new_with_free_func ((GDestroyNotify)
      hangout_signaller_member_free);

  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *element = json_array_get_element (array, i);
    const gchar *member_id, *name;

    if (!JSON_NODE_HOLDS_OBJECT (element))
      continue;
    member_id = hangout_json_get_string (json_node_get_object (element), "id");
    name = hangout_json_get_string (json_node_get_object (element), "name");
    if (member_id != NULL)
      g_ptr_array_add (members, hangout_signaller_member_new (member_id,
              name != NULL ? name : ""));
  }
  return members;
}

/* One URL of an RTCIceServer; a bad one is left out, the others kept. */
static void
add_ice_server (GPtrArray *servers, const gchar *url, JsonObject *entry)
{
  g_autoptr (GError) error = NULL;
  HangoutIceServer *server = hangout_ice_server_parse (url,
      hangout_json_get_string (entry, "username"),
      hangout_json_get_string (entry, "credential"), &error);

  if (server == NULL) {
    GST_INFO ("welcome: ICE server left out: %s", error->message);
    return;
  }
  g_ptr_array_add (servers, server);
}

/* welcome's iceServers: RTCIceServer objects whose "urls" is a string or
 * an array of strings (docs/protocol.md §1.4). */
static GPtrArray *
parse_ice_servers (JsonNode *node)
{
  GPtrArray *servers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      hangout_ice_server_free);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return servers;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *element = json_array_get_element (array, i);
    JsonObject *entry;
    JsonNode *urls;

    if (!JSON_NODE_HOLDS_OBJECT (element))
      continue;
    entry = json_node_get_object (element);
    urls = json_object_get_member (entry, "urls");
    if (urls != NULL && JSON_NODE_HOLDS_ARRAY (urls)) {
      JsonArray *list = json_node_get_array (urls);

      for (guint j = 0; j < json_array_get_length (list); j++) {
        JsonNode *url = json_array_get_element (list, j);

        if (JSON_NODE_HOLDS_VALUE (url)
            && json_node_get_value_type (url) == G_TYPE_STRING)
          add_ice_server (servers, json_node_get_string (url), entry);
      }
    } else if (hangout_json_get_string (entry, "urls") != NULL) {
      add_ice_server (servers, hangout_json_get_string (entry, "urls"), entry);
    }
  }
  return servers;
}

gboolean
hangout_server_message_parse (const gchar *text, gsize len,
    HangoutServerMessage *message, GError **error)
{
  JsonObject *msg;
  const gchar *type;

  memset (message, 0, sizeof *message);
  msg = hangout_json_parse_object (text, len, MAX_SERVER_MESSAGE, error);
  if (msg == NULL)
    return FALSE;
  message->object = msg;
  type = message->type_name = hangout_json_get_string (msg, "type");
  if (g_strcmp0 (type, "welcome") == 0) {
    JsonNode *node = json_object_get_member (msg, "members");

    message->type = HANGOUT_SERVER_MESSAGE_WELCOME;
    message->id = hangout_json_get_string (msg, "id");
    message->complete = message->id != NULL && node != NULL
        && JSON_NODE_HOLDS_ARRAY (node);
    if (message->complete) {
      message->members = parse_members (json_node_get_array (node));
      message->ice_servers = parse_ice_servers (json_object_get_member (msg,
              "iceServers"));
    }
  } else if (g_strcmp0 (type, "error") == 0) {
    message->type = HANGOUT_SERVER_MESSAGE_ERROR;
    message->code = hangout_json_get_string (msg, "code");
    message->reason = hangout_json_get_string (msg, "reason");
    if (message->code == NULL)
      message->code = "unknown";
    if (message->reason == NULL)
      message->reason = "no reason given";
    message->complete = TRUE;
  } else if (g_strcmp0 (type, "member-joined") == 0) {
    message->type = HANGOUT_SERVER_MESSAGE_MEMBER_JOINED;
    message->id = hangout_json_get_string (msg, "id");
    message->name = hangout_json_get_string (msg, "name");
    if (message->name == NULL)
      message->name = "";
    message->complete = message->id != NULL;
  } else if (g_strcmp0 (type, "member-left") == 0) {
    message->type = HANGOUT_SERVER_MESSAGE_MEMBER_LEFT;
    message->id = hangout_json_get_string (msg, "id");
    message->complete = message->id != NULL;
  } else if (g_strcmp0 (type, "signal") == 0) {
    JsonNode *payload = json_object_get_member (msg, "payload");

    message->type = HANGOUT_SERVER_MESSAGE_SIGNAL;
    message->from = hangout_json_get_string (msg, "from");
    if (payload != NULL && JSON_NODE_HOLDS_OBJECT (payload))
      message->payload = json_node_get_object (payload);
    message->complete = message->from != NULL && message->payload != NULL;
  } else {
    message->type = HANGOUT_SERVER_MESSAGE_UNKNOWN;
  }
  return TRUE;
}

void
hangout_server_message_clear (HangoutServerMessage *message)
{
  g_clear_pointer (&message->members, g_ptr_array_unref);
  g_clear_pointer (&message->ice_servers, g_ptr_array_unref);
  g_clear_pointer (&message->object, json_object_unref);
  memset (message, 0, sizeof *message);
}

static void
handle_welcome (HangoutWebSocketSignaller *self, HangoutServerMessage *msg)
{
  if (!msg->complete) {
    GST_WARNING ("signaller %s: malformed welcome: ignored", self->url);
    return;
  }
  self->joined = TRUE;
  self->ever_joined = TRUE;
  self->failures = 0;
  set_state (self, HANGOUT_SIGNALLER_STATE_JOINED);
  hangout_signaller_emit_welcome (HANGOUT_SIGNALLER (self), msg->id,
      msg->members, msg->ice_servers);
  if (self->joined)
    flush_outgoing (self);
}

static void
handle_error (HangoutWebSocketSignaller *self, HangoutServerMessage *msg)
{
  if (self->joined || g_strcmp0 (msg->code, "rate-limited") == 0) {
    emit_error (self, HANGOUT_ERROR_SIGNALLING,
        "the server refused a message: %s (%s)", msg->reason,
        msg->code);
    return;
  }
  /* A server that shares its rooms with others (hangout-server --redis)
   * and has lost them closes its members and refuses their joins for a
   * while: a rejoin tries again, maybe through another server behind the
   * same address. A first join fails at once, as for a server not there. */
  if (self->ever_joined && g_strcmp0 (msg->code, "unavailable") == 0) {
    GST_DEBUG ("signaller %s: rejoin refused for now: %s", self->url,
        msg->reason);
    connection_lost (self);
    return;
  }
  /* Our join was refused: retrying would be refused again. */
  emit_error (self, HANGOUT_ERROR_JOIN_REFUSED,
      "the server refused the join: %s (%s)", msg->reason, msg->code);
  give_up (self);
}

static void
handle_text (HangoutWebSocketSignaller *self, const gchar *text, gsize len)
{
  g_auto (HangoutServerMessage) msg = { 0 };
  g_autoptr (GError) error = NULL;

  if (!hangout_server_message_parse (text, len, &msg, &error)) {
    GST_WARNING ("signaller %s: message from the server ignored: %s",
        self->url, error->message);
    return;
  }
  if (msg.type == HANGOUT_SERVER_MESSAGE_WELCOME) {
    handle_welcome (self, &msg);
  } else if (msg.type == HANGOUT_SERVER_MESSAGE_ERROR) {
    handle_error (self, &msg);
  } else if (!self->joined) {
    GST_DEBUG ("signaller %s: '%s' before welcome: ignored", self->url,
        msg.type_name);
  } else if (msg.type == HANGOUT_SERVER_MESSAGE_MEMBER_JOINED) {
    if (msg.complete)
      hangout_signaller_emit_member_joined (HANGOUT_SIGNALLER (self), msg.id,
          msg.name);
  } else if (msg.type == HANGOUT_SERVER_MESSAGE_MEMBER_LEFT) {
    if (msg.complete)
      hangout_signaller_emit_member_left (HANGOUT_SIGNALLER (self), msg.id);
  } else if (msg.type == HANGOUT_SERVER_MESSAGE_SIGNAL) {
    if (msg.complete)
      hangout_signaller_emit_signal (HANGOUT_SIGNALLER (self), msg.from,
          msg.payload);
    else
      GST_WARNING ("signaller %s: malformed signal: ignored", self->url);
  } else {
    GST_DEBUG ("signaller %s: unknown message type '%s': ignored", self->url,
        msg.type_name);
  }
}

static void
on_message (SoupWebsocketConnection *conn, gint type, GBytes *message,
    gpointer data)
{
  HangoutWebSocketSignaller *self = g_object_ref (data);
  gsize len;
  const gchar *text = g_bytes_get_data (message, &len);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    GST_WARNING ("signaller %s: binary frame from the server: ignored",
        self->url);
  else
    handle_text (self, text, len);
  g_object_unref (self);
}

/* ---- HangoutSignaller ---- */

static gboolean
ws_start (HangoutSignaller *signaller, const gchar *room, const gchar *name,
    GError **error)
{
  HangoutWebSocketSignaller *self = HANGOUT_WEBSOCKET_SIGNALLER (signaller);
  g_autoptr (GUri) uri = NULL;

  if (self->state != HANGOUT_SIGNALLER_STATE_STOPPED
      && self->state != HANGOUT_SIGNALLER_STATE_FAILED) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "the signaller is already started");
    return FALSE;
  }
  uri = self->url ? g_uri_parse (self->url, G_URI_FLAGS_NONE, NULL) : NULL;
  if (uri == NULL || (g_strcmp0 (g_uri_get_scheme (uri), "ws") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "wss") != 0)
      || g_uri_get_host (uri) == NULL) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_SIGNALLING,
        "'%s' is not a ws:// or wss:// URL", self->url ? self->url : "(none)");
    return FALSE;
  }
  g_free (self->room);
  self->room = g_strdup (room);
  g_free (self->name);
  self->name = g_strdup (name);
  self->failures = 0;
  self->ever_joined = FALSE;
  self->tokens = BUCKET_CAPACITY;
  self->tokens_time = g_get_monotonic_time ();
  /* A SoupSession belongs to the thread-default context it is made in. */
  g_main_context_push_thread_default (self->context);
  self->session = soup_session_new ();
  /* Only when set: a NULL database would trust nothing at all. */
  if (self->tls_database != NULL)
    soup_session_set_tls_database (self->session, self->tls_database);
  g_main_context_pop_thread_default (self->context);
  set_state (self, HANGOUT_SIGNALLER_STATE_CONNECTING);
  connect_now (self);
  return TRUE;
}

static void
ws_stop (HangoutSignaller *signaller)
{
  HangoutWebSocketSignaller *self = HANGOUT_WEBSOCKET_SIGNALLER (signaller);

  if (self->cancellable != NULL) {
    g_cancellable_cancel (self->cancellable);
    g_clear_object (&self->cancellable);
  }
  hangout_clear_source (&self->handshake_timeout);
  self->handshake_timed_out = FALSE;    /* a late result is a cancelled one */
  hangout_clear_source (&self->retry);
  clear_outgoing (self);
  drop_connection (self);
  if (self->session != NULL) {
    soup_session_abort (self->session);
    g_clear_object (&self->session);
  }
  set_state (self, HANGOUT_SIGNALLER_STATE_STOPPED);
}

static gboolean
ws_send (HangoutSignaller *signaller, const gchar *to, JsonObject *payload,
    GError **error)
{
  HangoutWebSocketSignaller *self = HANGOUT_WEBSOCKET_SIGNALLER (signaller);
  g_autoptr (JsonObject) msg = NULL;
  gchar *text;

  if (!self->joined) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_SIGNALLING,
        "not in a room (signaller %s)", g_enum_to_string
        (HANGOUT_TYPE_SIGNALLER_STATE, self->state));
    return FALSE;
  }
  msg = json_object_new ();
  json_object_set_string_member (msg, "type", "signal");
  json_object_set_string_member (msg, "to", to);
  json_object_set_object_member (msg, "payload", json_object_ref (payload));
  text = object_to_text (msg);
  if (strlen (text) > MAX_FRAME_SIZE) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_MESSAGE_TOO_BIG,
        "a signalling message of %zu bytes exceeds the %d the server takes",
        strlen (text), MAX_FRAME_SIZE);
    g_free (text);
    return FALSE;
  }
  g_queue_push_tail (&self->outgoing, text);
  flush_outgoing (self);
  return TRUE;
}

static void
hangout_websocket_signaller_iface_init (HangoutSignallerInterface *iface)
{
  iface->start = ws_start;
  iface->stop = ws_stop;
  iface->send = ws_send;
}

HangoutSignaller *
hangout_websocket_signaller_new (const gchar *url, GMainContext *context)
{
  return g_object_new (HANGOUT_TYPE_WEBSOCKET_SIGNALLER, "url", url,
      "context", context, NULL);
}

/* ---- GObject ---- */

static void
hangout_websocket_signaller_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  HangoutWebSocketSignaller *self = HANGOUT_WEBSOCKET_SIGNALLER (object);

  switch (prop_id) {
    case PROP_URL:
      g_free (self->url);
      self->url = g_value_dup_string (value);
      break;
    case PROP_CONTEXT:
      self->context = g_value_dup_boxed (value);
      if (self->context == NULL)
        self->context = g_main_context_ref_thread_default ();
      break;
    case PROP_TLS_DATABASE:
      g_set_object (&self->tls_database, g_value_get_object (value));
      break;
    case PROP_SSL_STRICT:
      self->ssl_strict = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
hangout_websocket_signaller_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  HangoutWebSocketSignaller *self = HANGOUT_WEBSOCKET_SIGNALLER (object);

  switch (prop_id) {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, self->tls_database);
      break;
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, self->ssl_strict);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
hangout_websocket_signaller_dispose (GObject *object)
{
  HangoutWebSocketSignaller *self = HANGOUT_WEBSOCKET_SIGNALLER (object);

  /* Pending operations hold a reference: only reached when idle, or
   * stopped. */
  ws_stop (HANGOUT_SIGNALLER (self));
  G_OBJECT_CLASS (hangout_websocket_signaller_parent_class)->dispose (object);
}

static void
hangout_websocket_signaller_finalize (GObject *object)
{
  HangoutWebSocketSignaller *self = HANGOUT_WEBSOCKET_SIGNALLER (object);

  g_free (self->url);
  g_free (self->room);
  g_free (self->name);
  g_clear_object (&self->tls_database);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (hangout_websocket_signaller_parent_class)->finalize (object);
}

static void
hangout_websocket_signaller_init (HangoutWebSocketSignaller *self)
{
  self->state = HANGOUT_SIGNALLER_STATE_STOPPED;
  self->ssl_strict = TRUE;
  g_queue_init (&self->outgoing);
}

static void
hangout_websocket_signaller_class_init (HangoutWebSocketSignallerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  hangout_debug_init ();
  object_class->set_property = hangout_websocket_signaller_set_property;
  object_class->get_property = hangout_websocket_signaller_get_property;
  object_class->dispose = hangout_websocket_signaller_dispose;
  object_class->finalize = hangout_websocket_signaller_finalize;

  /**
   * HangoutWebSocketSignaller:url:
   *
   * The server's WebSocket URL, `ws://HOST:PORT/ws` (what hangout-server
   * prints first).
   */
  properties[PROP_URL] = g_param_spec_string ("url", "URL",
      "WebSocket URL of the signalling server (ws:// or wss://)", NULL,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * HangoutWebSocketSignaller:context:
   *
   * The #GMainContext that runs the signaller; every signal is emitted on the
   * thread iterating it. %NULL: the thread default at construction.
   */
  properties[PROP_CONTEXT] = g_param_spec_boxed ("context", "Context",
      "The GMainContext that runs the signaller (NULL: the thread default)",
      G_TYPE_MAIN_CONTEXT, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY
      | G_PARAM_STATIC_STRINGS);
  /**
   * HangoutWebSocketSignaller:tls-database:
   *
   * The certificates a wss:// server's certificate is checked against.
   * %NULL: GIO's default database, the system's authorities. Read at
   * start.
   */
  properties[PROP_TLS_DATABASE] = g_param_spec_object ("tls-database",
      "TLS database", "The certificates a wss:// server's is checked "
      "against (NULL: the system's authorities)", G_TYPE_TLS_DATABASE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * HangoutWebSocketSignaller:ssl-strict:
   *
   * Refuse a wss:// server whose certificate fails verification (the
   * default). %FALSE accepts it, with a warning and an "error" that say
   * what was wrong. Read at start.
   */
  properties[PROP_SSL_STRICT] = g_param_spec_boolean ("ssl-strict",
      "Strict TLS", "Refuse a server certificate that fails verification",
      TRUE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, PROP_STATE, properties);
  g_object_class_override_property (object_class, PROP_STATE, "state");
  properties[PROP_STATE] = g_object_class_find_property (object_class,
      "state");
}
