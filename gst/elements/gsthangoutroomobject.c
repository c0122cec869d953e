/* gst-hangout — the room side shared by hangoutsink and hangoutsrc.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthangoutroomobject.h"
#include <hangout/server.h>
#include <hangout/iceserver.h>

GST_DEBUG_CATEGORY_STATIC (gst_hangout_room_object_debug);
/* The log of the signalling server run in the pipeline (run-server). */
GST_DEBUG_CATEGORY_STATIC (gst_hangout_server_debug);
#define GST_CAT_DEFAULT gst_hangout_room_object_debug

/* How long a server we run waits for its clients to answer its close. */
#define SERVER_GRACE_MS 1000

struct _GstHangoutRoomObject {
  GstElement *element;          /* not a reference: it owns us */

  /* Properties, under the element's object lock. */
  gchar *room_name;
  gchar *server;
  gchar *display_name;
  gchar *stun_server;
  gchar *turn_server;
  gchar *secret;
  gchar *ssl_ca_file;
  GTlsDatabase *tls_database;
  guint join_timeout;
  gboolean run_server;
  gboolean relay_only;
  gboolean ssl_strict;

  /* State-change thread. */
  HangoutServer *server_run;    /* the server we run (run-server) */
  HangoutRoom *room;
  GstResourceError open_error;  /* what a failed join posts */

  gint64 last_progress;         /* streaming thread */

  GMutex names_lock;
  GHashTable *names;            /* member id → display name, all we met */
};

#define PARAM_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS \
    | GST_PARAM_MUTABLE_READY)

void
gst_hangout_room_object_install_properties (GObjectClass *klass,
    const gchar *join_timeout_blurb)
{
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_ROOM,
      g_param_spec_string ("room", "Room",
          "Name of the room to join (required): 1 to 64 characters from "
          "A-Z a-z 0-9 . _ -", NULL, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_SERVER,
      g_param_spec_string ("server", "Signalling server",
          "WebSocket URL of the hangout-server that introduces the members "
          "(ws:// or wss://; a wss:// server's certificate is verified, see "
          "ssl-ca-file)", GST_HANGOUT_ROOM_DEFAULT_SERVER, PARAM_FLAGS));
  /* Not "name": that is every GstObject's element name. */
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_DISPLAY_NAME,
      g_param_spec_string ("display-name", "Display name",
          "How the other members see us (NULL: the host name); hangoutsrc's "
          "\"from\" matches it", NULL, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_STUN_SERVER,
      g_param_spec_string ("stun-server", "STUN server",
          "STUN server as stun:HOST:PORT (NULL: the ones the signalling "
          "server hands out, if any)", NULL, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_TURN_SERVER,
      g_param_spec_string ("turn-server", "TURN server",
          "TURN server as turn://USER:PASSWORD@HOST:PORT (UDP), "
          "turn://USER:PASSWORD@HOST:PORT?transport=tcp or "
          "turns://USER:PASSWORD@HOST:PORT (TLS; the certificate is checked "
          "against the system's authorities); NULL: the ones the signalling "
          "server hands out, if any", NULL, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_RELAY_ONLY,
      g_param_spec_boolean ("relay-only", "Relay only",
          "Connect through TURN servers only, like the browsers' "
          "iceTransportPolicy \"relay\": no local or server-reflexive "
          "address is offered to the other members", FALSE, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_JOIN_TIMEOUT,
      g_param_spec_uint ("join-timeout", "Join timeout", join_timeout_blurb,
          1, 24 * 3600, GST_HANGOUT_ROOM_DEFAULT_JOIN_TIMEOUT, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_RUN_SERVER,
      g_param_spec_boolean ("run-server", "Run server",
          "Run the signalling server, and the web client for browsers, in "
          "this pipeline, listening where \"server\" points (ws:// only; "
          "port 0: a free one; host 0.0.0.0: other machines can join): one "
          "pipeline opens a room with no other process. Its URLs are posted "
          "as an element message \"hangout-server\" and an info message",
          FALSE, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_SECRET,
      g_param_spec_string ("secret", "Room secret",
          "Secret shared by the members, never sent to the server: each "
          "pair proves with it that no one (not even the signalling "
          "server) sits between them, and a member without it is refused "
          "(message \"hangout-member-refused\"). NULL: none, the server is "
          "trusted; compare the \"sas\" of \"hangout-member-joined\" with "
          "the other member's instead", NULL, PARAM_FLAGS));
  /* As souphttpsrc's, which users know: trust is GIO's, never ours. */
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of the certificates to trust for a wss:// server, "
          "instead of the system's authorities: its certificate authority's, "
          "or the server's own (self-signed) certificate. Read when the "
          "element starts; tls-database, when set, takes precedence",
          NULL, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_SSL_STRICT,
      g_param_spec_boolean ("ssl-strict", "SSL strict",
          "Refuse a wss:// server whose certificate fails verification "
          "(unknown authority, another host name, expired, ...); FALSE "
          "accepts any certificate, with a warning saying what was wrong "
          "with it", TRUE, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_ROOM_PROP_TLS_DATABASE,
      g_param_spec_object ("tls-database", "TLS database",
          "GTlsDatabase a wss:// server's certificate is verified against, "
          "for applications (NULL: ssl-ca-file, or the system's "
          "authorities)", G_TYPE_TLS_DATABASE, PARAM_FLAGS));
}

GstHangoutRoomObject *
gst_hangout_room_object_new (GstElement *element)
{
  GstHangoutRoomObject *object = g_new0 (GstHangoutRoomObject, 1);
  static gsize debug_initialized = 0;

  if (g_once_init_enter (&debug_initialized)) {
    GST_DEBUG_CATEGORY_INIT (gst_hangout_room_object_debug, "hangoutroom", 0,
        "hangout elements: joining the room");
    GST_DEBUG_CATEGORY_INIT (gst_hangout_server_debug, "hangoutserver", 0,
        "hangout elements: the signalling server run-server runs (joins "
        "and leaves at INFO, each connection's details at DEBUG)");
    g_once_init_leave (&debug_initialized, 1);
  }
  object->element = element;
  object->server = g_strdup (GST_HANGOUT_ROOM_DEFAULT_SERVER);
  object->join_timeout = GST_HANGOUT_ROOM_DEFAULT_JOIN_TIMEOUT;
  object->ssl_strict = TRUE;
  g_mutex_init (&object->names_lock);
  object->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  return object;
}

void
gst_hangout_room_object_free (GstHangoutRoomObject *object)
{
  g_warn_if_fail (object->room == NULL && object->server_run == NULL);
  g_free (object->room_name);
  g_free (object->server);
  g_free (object->display_name);
  g_free (object->stun_server);
  g_free (object->turn_server);
  g_free (object->secret);
  g_free (object->ssl_ca_file);
  g_clear_object (&object->tls_database);
  g_hash_table_unref (object->names);
  g_mutex_clear (&object->names_lock);
  g_free (object);
}

static gchar **
string_field (GstHangoutRoomObject *object, guint prop_id)
{
  switch (prop_id) {
    case GST_HANGOUT_ROOM_PROP_ROOM:
      return &object->room_name;
    case GST_HANGOUT_ROOM_PROP_SERVER:
      return &object->server;
    case GST_HANGOUT_ROOM_PROP_DISPLAY_NAME:
      return &object->display_name;
    case GST_HANGOUT_ROOM_PROP_STUN_SERVER:
      return &object->stun_server;
    case GST_HANGOUT_ROOM_PROP_TURN_SERVER:
      return &object->turn_server;
    case GST_HANGOUT_ROOM_PROP_SECRET:
      return &object->secret;
    case GST_HANGOUT_ROOM_PROP_SSL_CA_FILE:
      return &object->ssl_ca_file;
    default:
      return NULL;
  }
}

static gboolean *
boolean_field (GstHangoutRoomObject *object, guint prop_id)
{
  switch (prop_id) {
    case GST_HANGOUT_ROOM_PROP_RUN_SERVER:
      return &object->run_server;
    case GST_HANGOUT_ROOM_PROP_RELAY_ONLY:
      return &object->relay_only;
    case GST_HANGOUT_ROOM_PROP_SSL_STRICT:
      return &object->ssl_strict;
    default:
      return NULL;
  }
}

gboolean
gst_hangout_room_object_set_property (GstHangoutRoomObject *object,
    guint prop_id, const GValue *value)
{
  gchar **field = string_field (object, prop_id);

  gboolean *flag = boolean_field (object, prop_id);

  if (field == NULL && flag == NULL
      && prop_id != GST_HANGOUT_ROOM_PROP_JOIN_TIMEOUT
      && prop_id != GST_HANGOUT_ROOM_PROP_TLS_DATABASE)
    return FALSE;
  GST_OBJECT_LOCK (object->element);
  if (field != NULL) {
    g_free (*field);
    *field = g_value_dup_string (value);
  } else if (flag != NULL) {
    *flag = g_value_get_boolean (value);
  } else if (prop_id == GST_HANGOUT_ROOM_PROP_TLS_DATABASE) {
    g_set_object (&object->tls_database, g_value_get_object (value));
  } else {
    object->join_timeout = g_value_get_uint (value);
  }
  GST_OBJECT_UNLOCK (object->element);
  return TRUE;
}

gboolean
gst_hangout_room_object_get_property (GstHangoutRoomObject *object,
    guint prop_id, GValue *value)
{
  gchar **field = string_field (object, prop_id);

  gboolean *flag = boolean_field (object, prop_id);

  if (field == NULL && flag == NULL
      && prop_id != GST_HANGOUT_ROOM_PROP_JOIN_TIMEOUT
      && prop_id != GST_HANGOUT_ROOM_PROP_TLS_DATABASE)
    return FALSE;
  GST_OBJECT_LOCK (object->element);
  if (field != NULL)
    g_value_set_string (value, *field);
  else if (flag != NULL)
    g_value_set_boolean (value, *flag);
  else if (prop_id == GST_HANGOUT_ROOM_PROP_TLS_DATABASE)
    g_value_set_object (value, object->tls_database);
  else
    g_value_set_uint (value, object->join_timeout);
  GST_OBJECT_UNLOCK (object->element);
  return TRUE;
}

guint
gst_hangout_room_object_get_join_timeout (GstHangoutRoomObject *object)
{
  guint timeout;

  GST_OBJECT_LOCK (object->element);
  timeout = object->join_timeout;
  GST_OBJECT_UNLOCK (object->element);
  return timeout;
}

/* GST_ELEMENT_ERROR with the code chosen at run time. Takes @text and
 * @debug. */
static void
post_error (GstHangoutRoomObject *object, GstResourceError code, gchar *text,
    gchar *debug)
{
  gst_element_message_full (object->element, GST_MESSAGE_ERROR,
      GST_RESOURCE_ERROR, code, text, debug, __FILE__, GST_FUNCTION,
      __LINE__);
}

/* A stun-server or turn-server value the ICE layer would refuse only when
 * the first member connects, long after the state change. Posts the
 * error. */
static gboolean
ice_server_is_valid (GstHangoutRoomObject *object, const gchar *property,
    const gchar *value, gboolean turn)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HangoutIceServer) server = NULL;

  if (value == NULL || *value == '\0')
    return TRUE;
  server = hangout_ice_server_parse_setting (value, turn, &error);
  if (server == NULL) {
    post_error (object, GST_RESOURCE_ERROR_SETTINGS,
        g_strdup_printf ("Invalid \"%s\" property: %s", property,
            error->message), NULL);
    return FALSE;
  }
  return TRUE;
}

/* ssl-ca-file, read at the state change: a file that cannot be read, or
 * holds no certificate, is an error naming it now, not an untrusted server
 * later. GIO parses it, and verifies servers against it. Posts the error;
 * NULL then. */
static GTlsDatabase *
load_ca_file (GstHangoutRoomObject *object, const gchar *path)
{
  g_autoptr (GError) error = NULL;
  GList *certificates = g_tls_certificate_list_new_from_file (path, &error);
  /* GIO's file database takes absolute paths only. */
  g_autofree gchar *absolute = g_canonicalize_filename (path, NULL);
  GTlsDatabase *database;

  if (certificates == NULL) {
    post_error (object, error != NULL ? GST_RESOURCE_ERROR_OPEN_READ
        : GST_RESOURCE_ERROR_SETTINGS,
        g_strdup_printf ("Could not use \"ssl-ca-file\" '%s': %s", path,
            error != NULL ? error->message : "it holds no PEM certificate"),
        g_strdup ("it must be a PEM file of the certificates to trust: the "
            "server's certificate authority's, or the server's own"));
    return NULL;
  }
  g_list_free_full (certificates, g_object_unref);
  database = g_tls_file_database_new (absolute, &error);
  if (database == NULL)
    post_error (object, GST_RESOURCE_ERROR_OPEN_READ,
        g_strdup_printf ("Could not use \"ssl-ca-file\" '%s': %s", path,
            error->message), NULL);
  return database;
}

/* A ws:// or wss:// URL with a host; the room would only find out on its
 * network thread, and say so in a log line rather than an error. */
static gboolean
server_url_is_valid (const gchar *url)
{
  g_autoptr (GUri) uri = url ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) :
      NULL;

  return uri != NULL && g_uri_get_host (uri) != NULL
      && *g_uri_get_host (uri) != '\0'
      && (g_strcmp0 (g_uri_get_scheme (uri), "ws") == 0
      || g_strcmp0 (g_uri_get_scheme (uri), "wss") == 0);
}

/* The server's log lines, from its thread: GStreamer's debug log, not the
 * host application's stderr. */
static void
on_server_log (GLogLevelFlags level, const gchar *line, gpointer user_data)
{
  GstHangoutRoomObject *object = user_data;

  if (level & G_LOG_LEVEL_MESSAGE)
    GST_CAT_INFO_OBJECT (gst_hangout_server_debug, object->element, "%s",
        line);
  else
    GST_CAT_DEBUG_OBJECT (gst_hangout_server_debug, object->element, "%s",
        line);
}

/* Starts the server @url points at (host and port; ws:// only: the
 * server has no certificate to offer). Returns the URL to join it at,
 * with the real port; NULL after posting an error. */
static gchar *
run_server (GstHangoutRoomObject *object, const gchar *url,
    const gchar *room_name, GstResourceError open_error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr (GError) error = NULL;
  HangoutServerOptions options = { 0 };
  gint port = g_uri_get_port (uri);

  if (g_strcmp0 (g_uri_get_scheme (uri), "ws") != 0) {
    post_error (object, GST_RESOURCE_ERROR_SETTINGS,
        g_strdup_printf ("run-server needs a ws:// server URL, not '%s'",
            url), g_strdup ("the server run in the pipeline has no TLS "
            "certificate; run hangout-server --tls-cert for wss://"));
    return NULL;
  }
  options.host = g_uri_get_host (uri);
  options.port = port < 0 ? 80 : (guint16) port;
  options.log_func = on_server_log;
  options.log_data = object;
  object->server_run = hangout_server_start (&options, &error);
  if (object->server_run == NULL) {
    post_error (object, open_error,
        g_strdup_printf ("Could not run the signalling server (run-server) "
            "at %s", url), g_strdup (error->message));
    return NULL;
  }
  GST_INFO_OBJECT (object->element, "running the signalling server at %s, "
      "the web client at %s", hangout_server_get_url (object->server_run),
      hangout_server_get_web_url (object->server_run));
  gst_hangout_room_object_post_message (object,
      gst_structure_new ("hangout-server",
          "url", G_TYPE_STRING, hangout_server_get_url (object->server_run),
          "web-url", G_TYPE_STRING,
          hangout_server_get_web_url (object->server_run), NULL));
  /* gst-launch-1.0 prints an info message's debug text: the user learns
   * where browsers go. */
  gst_element_message_full (object->element, GST_MESSAGE_INFO,
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      g_strdup ("Running the signalling server and the web client"),
      g_strdup_printf ("signalling server at %s; browsers join at %s?room=%s",
          hangout_server_get_url (object->server_run),
          hangout_server_get_web_url (object->server_run), room_name),
      __FILE__, GST_FUNCTION, __LINE__);
  return g_strdup (hangout_server_get_url (object->server_run));
}

static void
stop_server (GstHangoutRoomObject *object)
{
  if (object->server_run != NULL)
    hangout_server_stop (g_steal_pointer (&object->server_run),
        SERVER_GRACE_MS);
}

static void
on_member_joined (HangoutRoom *room, const gchar *member, const gchar *name,
    GstHangoutRoomObject *object)
{
  g_mutex_lock (&object->names_lock);
  g_hash_table_insert (object->names, g_strdup (member), g_strdup (name));
  g_mutex_unlock (&object->names_lock);
}

void
gst_hangout_room_object_post_message (GstHangoutRoomObject *object,
    GstStructure *structure)
{
  gst_element_post_message (object->element,
      gst_message_new_element (GST_OBJECT (object->element), structure));
}

static void
on_peer_connected (HangoutRoom *room, const gchar *member,
    GstHangoutRoomObject *object)
{
  g_autofree gchar *name = gst_hangout_room_object_dup_member_name (object,
      member);
  g_autofree gchar *sas = hangout_room_dup_member_sas (room, member);

  GstStructure *structure = gst_structure_new ("hangout-member-joined",
      "id", G_TYPE_STRING, member, "name", G_TYPE_STRING, name,
      "sas", G_TYPE_STRING, sas, NULL);
  GstStructure *transport = hangout_room_dup_member_transport (room, member);

  /* How the connection runs: the selected ICE pair (candidate types and
   * addresses: host, srflx through a NAT, relay through TURN), SCTP's
   * packet size and the DTLS session. */
  if (transport != NULL) {
    g_autofree gchar *text = gst_structure_to_string (transport);

    GST_INFO_OBJECT (object->element, "member %s connected: %s", member, text);
    gst_structure_set (structure, "transport", GST_TYPE_STRUCTURE, transport,
        NULL);
    gst_structure_free (transport);
  }
  gst_hangout_room_object_post_message (object, structure);
}

static void
on_member_left (HangoutRoom *room, const gchar *member, const gchar *failure,
    GstHangoutRoomObject *object)
{
  g_autofree gchar *name = gst_hangout_room_object_dup_member_name (object,
      member);
  GstStructure *structure = gst_structure_new ("hangout-member-left",
      "id", G_TYPE_STRING, member, "name", G_TYPE_STRING, name, NULL);

  if (failure != NULL) {
    g_autofree gchar *who = gst_hangout_room_object_describe_member (object,
        member);

    GST_INFO_OBJECT (object->element, "the connection to %s failed: %s", who,
        failure);
    gst_structure_set (structure, "failure", G_TYPE_STRING, failure, NULL);
  }
  gst_hangout_room_object_post_message (object, structure);
}

static void
on_member_refused (HangoutRoom *room, const gchar *member, const gchar *name,
    const gchar *reason, GstHangoutRoomObject *object)
{
  g_autofree gchar *who = gst_hangout_room_object_describe_member (object,
      member);

  gst_hangout_room_object_post_message (object,
      gst_structure_new ("hangout-member-refused", "id", G_TYPE_STRING,
          member, "name", G_TYPE_STRING, name, "reason", G_TYPE_STRING,
          reason, NULL));
  gst_element_message_full (object->element, GST_MESSAGE_WARNING,
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      g_strdup_printf ("Refused member %s: %s", who, reason),
      g_strdup ("it did not prove the room secret (the \"secret\" "
          "property); its connection is closed"), __FILE__, GST_FUNCTION,
      __LINE__);
}

/* Informational errors of the room: only a certificate taken although it
 * failed verification (ssl-strict=false) is the user's business. With
 * ssl-strict, the same error is the refusal that "failed" posts. */
static void
on_room_error (HangoutRoom *room, GError *error, GstHangoutRoomObject *object)
{
  gboolean strict;

  GST_OBJECT_LOCK (object->element);
  strict = object->ssl_strict;
  GST_OBJECT_UNLOCK (object->element);
  if (strict
      || !g_error_matches (error, HANGOUT_ERROR, HANGOUT_ERROR_TLS_CERTIFICATE))
    return;
  gst_element_message_full (object->element, GST_MESSAGE_WARNING,
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      g_strdup_printf ("%s (ssl-strict=false)", error->message),
      g_strdup ("anyone between us and the signalling server can read and "
          "change what it relays; trust its certificate with "
          "\"ssl-ca-file\" instead"), __FILE__, GST_FUNCTION, __LINE__);
}

/* Where a wss:// server's certificate was verified against, for errors. */
static gchar *
describe_trust (GstHangoutRoomObject *object)
{
  gchar *trust;

  GST_OBJECT_LOCK (object->element);
  if (object->tls_database != NULL)
    trust = g_strdup ("the \"tls-database\" set by the application");
  else if (object->ssl_ca_file != NULL && *object->ssl_ca_file != '\0')
    trust = g_strdup_printf ("\"ssl-ca-file\" '%s'", object->ssl_ca_file);
  else
    trust = g_strdup ("the system's certificate authorities");
  GST_OBJECT_UNLOCK (object->element);
  return trust;
}

/* The room cannot join (network thread): posted at once, naming what to
 * change, rather than after the join timeout. */
static void
on_room_failed (HangoutRoom *room, GError *error, GstHangoutRoomObject *object)
{
  g_autofree gchar *room_name = NULL, *server = NULL;
  const gchar *why = error != NULL ? error->message : "unknown";

  GST_OBJECT_LOCK (object->element);
  room_name = g_strdup (object->room_name);
  server = g_strdup (object->server);
  GST_OBJECT_UNLOCK (object->element);
  if (g_error_matches (error, HANGOUT_ERROR, HANGOUT_ERROR_TLS_CERTIFICATE)) {
    g_autofree gchar *trust = describe_trust (object);

    post_error (object, object->open_error,
        g_strdup_printf ("Could not join room '%s': %s; set \"ssl-ca-file\" "
            "to the PEM certificate of its authority (or its own), "
            "\"server\" to the host name it was issued for, or "
            "ssl-strict=false to accept any certificate", room_name, why),
        g_strdup_printf ("GIO verified the certificate of %s against %s",
            server, trust));
  } else if (g_error_matches (error, HANGOUT_ERROR, HANGOUT_ERROR_TLS)) {
    post_error (object, object->open_error,
        g_strdup_printf ("Could not join room '%s': %s; check \"server\": "
            "wss:// is for a server with TLS (hangout-server --tls-cert), "
            "ws:// for one without", room_name, why),
        g_strdup_printf ("server %s", server));
  } else if (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_JOIN_REFUSED))
    post_error (object, object->open_error,
        g_strdup_printf ("Could not join room '%s': %s", room_name, why),
        g_strdup ("change the \"room\" or \"display-name\" property, or "
            "the server's --max-members for a full room"));
  else
    post_error (object, object->open_error,
        g_strdup_printf ("Could not join room '%s': %s", room_name, why),
        g_strdup_printf ("check the \"server\" property (%s): it must be "
            "the ws:// or wss:// URL that hangout-server prints, and the "
            "server must be running", server));
}

HangoutRoom *
gst_hangout_room_object_start (GstHangoutRoomObject *object,
    GstResourceError open_error,
    void (*prepare) (HangoutRoom *room, gpointer user_data),
    gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *room_name = NULL, *server = NULL, *name = NULL;
  g_autofree gchar *stun = NULL, *turn = NULL, *secret = NULL;
  g_autofree gchar *ca_file = NULL;
  g_autoptr (GTlsDatabase) tls_database = NULL;
  gboolean run, relay_only, ssl_strict;

  g_return_val_if_fail (object->room == NULL, NULL);
  GST_OBJECT_LOCK (object->element);
  room_name = g_strdup (object->room_name);
  server = g_strdup (object->server);
  name = g_strdup (object->display_name);
  stun = g_strdup (object->stun_server);
  turn = g_strdup (object->turn_server);
  secret = g_strdup (object->secret);
  ca_file = g_strdup (object->ssl_ca_file);
  g_set_object (&tls_database, object->tls_database);
  run = object->run_server;
  relay_only = object->relay_only;
  ssl_strict = object->ssl_strict;
  GST_OBJECT_UNLOCK (object->element);

  if (room_name == NULL || *room_name == '\0') {
    post_error (object, GST_RESOURCE_ERROR_SETTINGS,
        g_strdup ("No room given: set the \"room\" property"), NULL);
    return NULL;
  }
  if (!server_url_is_valid (server)) {
    post_error (object, GST_RESOURCE_ERROR_SETTINGS,
        g_strdup_printf ("Invalid signalling server URL '%s': expected "
            "ws://HOST:PORT/PATH or wss://…", server ? server : ""), NULL);
    return NULL;
  }
  if (!ice_server_is_valid (object, "stun-server", stun, FALSE)
      || !ice_server_is_valid (object, "turn-server", turn, TRUE))
    return NULL;
  if (tls_database == NULL && ca_file != NULL && *ca_file != '\0'
      && (tls_database = load_ca_file (object, ca_file)) == NULL)
    return NULL;
  if (name == NULL)
    name = g_strdup (g_get_host_name ());
  if (run) {
    gchar *url = run_server (object, server, room_name, open_error);

    if (url == NULL)
      return NULL;
    g_free (server);
    server = url;
  }

  object->room = hangout_room_new (room_name, name, server);
  g_object_set (object->room, "stun-server", stun, "turn-server", turn,
      "relay-only", relay_only, "secret", secret,
      "tls-database", tls_database, "ssl-strict", ssl_strict, NULL);
  g_signal_connect (object->room, "member-joined",
      G_CALLBACK (on_member_joined), object);
  prepare (object->room, user_data);
  /* After the element's own handlers: a member is in its state before the
   * application hears of it. */
  g_signal_connect (object->room, "peer-connected",
      G_CALLBACK (on_peer_connected), object);
  g_signal_connect (object->room, "member-left", G_CALLBACK (on_member_left),
      object);
  g_signal_connect (object->room, "member-refused",
      G_CALLBACK (on_member_refused), object);
  object->open_error = open_error;
  g_signal_connect (object->room, "failed", G_CALLBACK (on_room_failed),
      object);
  g_signal_connect (object->room, "error", G_CALLBACK (on_room_error),
      object);
  if (!hangout_room_start (object->room, &error)) {
    post_error (object, open_error,
        g_strdup_printf ("Could not join room '%s'", room_name),
        g_strdup (error->message));
    g_signal_handlers_disconnect_by_data (object->room, object);
    g_signal_handlers_disconnect_by_data (object->room, user_data);
    g_clear_object (&object->room);
    stop_server (object);
    return NULL;
  }
  GST_INFO_OBJECT (object->element, "joining room %s on %s as %s", room_name,
      server, name);
  return object->room;
}

void
gst_hangout_room_object_stop (GstHangoutRoomObject *object,
    gpointer user_data)
{
  if (object->room != NULL) {
    /* After this no handler runs: the network thread is joined. */
    hangout_room_stop (object->room);
    g_signal_handlers_disconnect_by_data (object->room, object);
    g_signal_handlers_disconnect_by_data (object->room, user_data);
    g_clear_object (&object->room);
  }
  /* After the room: we leave before the members see the server go. */
  stop_server (object);
  g_mutex_lock (&object->names_lock);
  g_hash_table_remove_all (object->names);
  g_mutex_unlock (&object->names_lock);
}

void
gst_hangout_room_object_post_join_error (GstHangoutRoomObject *object,
    GstResourceError open_error)
{
  g_autofree gchar *server = NULL;
  guint timeout;

  GST_OBJECT_LOCK (object->element);
  server = g_strdup (object->server);
  timeout = object->join_timeout;
  GST_OBJECT_UNLOCK (object->element);
  post_error (object, open_error,
      g_strdup_printf ("Could not join the room within %u s (join-timeout)",
          timeout),
      g_strdup_printf ("the signalling server %s did not let us in "
          "(unreachable, or it refused the join)", server));
}

gchar *
gst_hangout_room_object_dup_member_name (GstHangoutRoomObject *object,
    const gchar *member)
{
  gchar *name;

  g_mutex_lock (&object->names_lock);
  name = g_strdup (g_hash_table_lookup (object->names, member));
  g_mutex_unlock (&object->names_lock);
  return name;
}

gchar *
gst_hangout_room_object_describe_member (GstHangoutRoomObject *object,
    const gchar *member)
{
  g_autofree gchar *name = gst_hangout_room_object_dup_member_name (object,
      member);

  return g_strdup_printf ("%s (%s)", name ? name : "unnamed", member);
}

void
gst_hangout_room_object_post_progress (GstHangoutRoomObject *object,
    GstProgressType type, const gchar *code, gboolean force,
    const gchar *format, ...)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree gchar *text = NULL;
  va_list args;

  if (!force && now - object->last_progress < G_USEC_PER_SEC / 2)
    return;
  object->last_progress = now;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  gst_element_post_message (object->element,
      gst_message_new_progress (GST_OBJECT (object->element), type, code,
          text));
}
