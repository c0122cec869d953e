/* gst-hangout — rooms against the real hangout-server: several HangoutRoom
 * objects in one process (each with its own network thread) form a full
 * mesh, see each other leave (cleanly, or killed in another process), carry
 * messages, keep their connections when one member loses its WebSocket, and
 * survive the server being killed and restarted.
 *
 * The server binary comes from the environment (HANGOUT_SERVER, set by
 * meson). Run in a private network namespace (tests/netns-run.sh).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <gio/gio.h>
#include <hangout/room.h>
#include <signal.h>
#include <string.h>

/* ---- the server ---- */

typedef struct {
  GSubprocess *process;
  GDataInputStream *out;
  gchar *url;
  guint port;
} Server;

/* Starts hangout-server on @port (0: any) and reads its URL; NULL when it
 * exits without printing one (port still taken, say). */
static Server *
server_try_start (guint port)
{
  const gchar *path = g_getenv ("HANGOUT_SERVER");
  g_autofree gchar *port_arg = g_strdup_printf ("%u", port);
  const gchar *argv[] = { path, "--port", port_arg, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = NULL;
  Server *server;

  fail_unless (path != NULL, "HANGOUT_SERVER is not set");
  server = g_new0 (Server, 1);
  server->process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE,
      &error);
  fail_unless (server->process != NULL, "cannot run %s: %s", path,
      error ? error->message : "");
  server->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe
      (server->process));
  /* Bounded by the test's timeout; the server prints it as it listens. */
  server->url = g_data_input_stream_read_line (server->out, NULL, NULL,
      &error);
  if (server->url == NULL) {
    g_subprocess_wait (server->process, NULL, NULL);
    g_object_unref (server->out);
    g_object_unref (server->process);
    g_free (server);
    return NULL;
  }
  uri = g_uri_parse (server->url, G_URI_FLAGS_NONE, &error);
  fail_unless (uri != NULL, "bad URL '%s' from the server", server->url);
  server->port = g_uri_get_port (uri);
  return server;
}

static Server *
server_start (guint port)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  Server *server;

  /* On a fixed port the old listener may linger for a moment. */
  while ((server = server_try_start (port)) == NULL)
    fail_if (g_get_monotonic_time () > end,
        "hangout-server did not start on port %u", port);
  return server;
}

static void
server_free (Server *server, gint signum)
{
  g_subprocess_send_signal (server->process, signum);
  fail_unless (g_subprocess_wait (server->process, NULL, NULL));
  g_object_unref (server->out);
  g_object_unref (server->process);
  g_free (server->url);
  g_free (server);
}

/* ---- rooms, observed from the test's thread ---- */

/* Everything below is written by the rooms' network threads and read by the
 * test under this lock; every change wakes the waiter. The test checks
 * what it read after unlocking: without a fork per test (CK_FORK=no), a
 * failed check leaves the test at once, and a lock it held would hang
 * every later test instead of naming the failure. */
static GMutex lock;
static GCond changed;

typedef struct {
  gchar *from;
  gboolean is_string;
  GBytes *data;
} Message;

typedef struct {
  HangoutRoom *room;
  gchar *name;
  gchar *id;                    /* latest own id */
  guint ids;                    /* ids received (1 + rejoins) */
  GHashTable *connected;        /* member id → its transfer versions */
  guint joined;                 /* "member-joined" count */
  GPtrArray *left;              /* ids, in order */
  GPtrArray *messages;          /* Message */
  guint errors;
} Node;

static void
message_free (Message *message)
{
  g_free (message->from);
  g_bytes_unref (message->data);
  g_free (message);
}

static void
on_peer_connected (HangoutRoom *room, const gchar *id, Node *node)
{
  guint versions = hangout_room_get_member_transfer_versions (room, id);

  g_mutex_lock (&lock);
  g_hash_table_insert (node->connected, g_strdup (id),
      GUINT_TO_POINTER (versions));
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
on_member_joined (HangoutRoom *room, const gchar *id, const gchar *name,
    Node *node)
{
  g_mutex_lock (&lock);
  node->joined++;
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
on_member_left (HangoutRoom *room, const gchar *id, const gchar *failure,
    Node *node)
{
  g_mutex_lock (&lock);
  g_hash_table_remove (node->connected, id);
  g_ptr_array_add (node->left, g_strdup (id));
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
on_message (HangoutRoom *room, const gchar *id, gboolean is_string,
    GBytes *data, Node *node)
{
  Message *message = g_new0 (Message, 1);

  message->from = g_strdup (id);
  message->is_string = is_string;
  message->data = g_bytes_ref (data);
  g_mutex_lock (&lock);
  g_ptr_array_add (node->messages, message);
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
on_error (HangoutRoom *room, GError *error, Node *node)
{
  g_mutex_lock (&lock);
  node->errors++;
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
on_id (HangoutRoom *room, GParamSpec *pspec, Node *node)
{
  gchar *id = hangout_room_dup_id (room);

  g_mutex_lock (&lock);
  if (id != NULL && g_strcmp0 (id, node->id) != 0) {
    g_free (node->id);
    node->id = id;
    node->ids++;
    id = NULL;
  }
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
  g_free (id);
}

static Node *
node_start_with (const gchar *url, const gchar *room_name, guint index,
    guint transfer_versions)
{
  Node *node = g_new0 (Node, 1);
  g_autoptr (GError) error = NULL;

  node->name = g_strdup_printf ("member-%u", index);
  node->connected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  node->left = g_ptr_array_new_with_free_func (g_free);
  node->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
      message_free);
  node->room = hangout_room_new (room_name, node->name, url);
  g_signal_connect (node->room, "peer-connected",
      G_CALLBACK (on_peer_connected), node);
  g_signal_connect (node->room, "member-joined",
      G_CALLBACK (on_member_joined), node);
  g_signal_connect (node->room, "member-left", G_CALLBACK (on_member_left),
      node);
  g_signal_connect (node->room, "message", G_CALLBACK (on_message), node);
  g_signal_connect (node->room, "error", G_CALLBACK (on_error), node);
  g_signal_connect (node->room, "notify::id", G_CALLBACK (on_id), node);
  if (transfer_versions != G_MAXUINT)
    hangout_room_set_transfer_versions (node->room, transfer_versions);
  fail_unless (hangout_room_start (node->room, &error), "start: %s",
      error ? error->message : "");
  return node;
}

static Node *
node_start (const gchar *url, const gchar *room_name, guint index)
{
  return node_start_with (url, room_name, index, G_MAXUINT);
}

static void
node_free (Node *node)
{
  hangout_room_stop (node->room);
  g_signal_handlers_disconnect_by_data (node->room, node);
  g_object_unref (node->room);
  g_hash_table_unref (node->connected);
  g_ptr_array_unref (node->left);
  g_ptr_array_unref (node->messages);
  g_free (node->name);
  g_free (node->id);
  g_free (node);
}

/* The messages @node received so far, read under the lock (transfer
 * container: the node keeps owning them). */
static GPtrArray *
messages_of (Node *node)
{
  GPtrArray *messages = g_ptr_array_new ();

  g_mutex_lock (&lock);
  for (guint i = 0; i < node->messages->len; i++)
    g_ptr_array_add (messages, node->messages->pdata[i]);
  g_mutex_unlock (&lock);
  return messages;
}

/* Waits, under the lock, until @cond holds; fails after @ms. */
#define WAIT_UNTIL(cond, ms) G_STMT_START {                                 \
    gint64 _end = g_get_monotonic_time () + (gint64) (ms) * 1000;          \
    gboolean _ok = TRUE;                                                    \
    g_mutex_lock (&lock);                                                   \
    while (_ok && !(cond))                                                  \
      _ok = g_cond_wait_until (&changed, &lock, _end) || (cond);            \
    g_mutex_unlock (&lock);                                                 \
    fail_unless (_ok, "timed out after %d ms waiting for: %s", (int) (ms),  \
        #cond);                                                             \
  } G_STMT_END

/* Under the lock. */
static gboolean
all_connected (GPtrArray *nodes, guint expected)
{
  for (guint i = 0; i < nodes->len; i++) {
    Node *node = nodes->pdata[i];

    if (g_hash_table_size (node->connected) != expected)
      return FALSE;
  }
  return TRUE;
}

static gboolean
all_joined (GPtrArray *nodes)
{
  for (guint i = 0; i < nodes->len; i++) {
    if (((Node *) nodes->pdata[i])->id == NULL)
      return FALSE;
  }
  return TRUE;
}

static gchar *
dup_id (Node *node)
{
  gchar *id;

  g_mutex_lock (&lock);
  id = g_strdup (node->id);
  g_mutex_unlock (&lock);
  return id;
}

/* Starts @n members one after the other (each joins before the next), and
 * waits for the full mesh. Returns the time that took. */
static GPtrArray *
mesh_start (const gchar *url, const gchar *room_name, guint n,
    guint timeout_ms, gint64 *elapsed_us)
{
  GPtrArray *nodes = g_ptr_array_new_with_free_func ((GDestroyNotify)
      node_free);
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (nodes, node_start (url, room_name, i));
  WAIT_UNTIL (all_connected (nodes, n - 1), timeout_ms);
  if (elapsed_us != NULL)
    *elapsed_us = g_get_monotonic_time () - start;
  WAIT_UNTIL (all_joined (nodes), 1000);
  for (guint i = 0; i < n; i++) {
    Node *node = nodes->pdata[i];
    g_auto (GStrv) list = hangout_room_list_connected (node->room);

    fail_unless_equals_int (g_strv_length (list), n - 1);
  }
  return nodes;
}

/* ---- tests ---- */

GST_START_TEST (test_full_mesh)
{
  Server *server = server_start (0);
  gint64 elapsed;
  GPtrArray *nodes = mesh_start (server->url, "mesh", 8, 10000, &elapsed);

  g_print ("full mesh of 8 members (28 pairs) in %.0f ms\n", elapsed / 1000.0);
  /* Each member saw 7 others join, and nobody left. */
  for (guint i = 0; i < nodes->len; i++) {
    Node *node = nodes->pdata[i];

    guint joined, left;

    g_mutex_lock (&lock);
    joined = node->joined;
    left = node->left->len;
    g_mutex_unlock (&lock);
    fail_unless_equals_int (joined, 7);
    fail_unless_equals_int (left, 0);
  }
  g_ptr_array_unref (nodes);
  server_free (server, SIGTERM);
}

GST_END_TEST;

/* Under the lock: the versions @node knew @other by when it connected. */
static guint
versions_seen (Node *node, Node *other)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (node->connected, other->id));
}

/* Each member says which transfer versions it speaks, and they are known
 * when "peer-connected" comes; one that says only version 1 is taken at
 * its word, and one that says nothing (as members from before version 2)
 * speaks version 1. */
GST_START_TEST (test_capabilities)
{
  const guint v1 = HANGOUT_ROOM_TRANSFER_V (1);
  const guint v12 = v1 | HANGOUT_ROOM_TRANSFER_V (2);
  Server *server = server_start (0);
  g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func
      ((GDestroyNotify) node_free);
  Node *a, *b, *c, *d;
  guint seen[7];

  g_ptr_array_add (nodes, node_start_with (server->url, "caps", 0, v12));
  g_ptr_array_add (nodes, node_start_with (server->url, "caps", 1, v12));
  g_ptr_array_add (nodes, node_start (server->url, "caps", 2));
  g_ptr_array_add (nodes, node_start_with (server->url, "caps", 3, 0));
  WAIT_UNTIL (all_connected (nodes, 3), 10000);
  WAIT_UNTIL (all_joined (nodes), 1000);
  a = nodes->pdata[0];
  b = nodes->pdata[1];
  c = nodes->pdata[2];
  d = nodes->pdata[3];
  g_mutex_lock (&lock);
  seen[0] = versions_seen (a, d);
  seen[1] = versions_seen (d, a);
  seen[2] = versions_seen (a, b);
  seen[3] = versions_seen (b, a);
  seen[4] = versions_seen (a, c);
  seen[5] = versions_seen (c, a);
  seen[6] = versions_seen (c, b);
  g_mutex_unlock (&lock);
  fail_unless_equals_int (seen[0], v1);
  fail_unless_equals_int (seen[1], v12);
  fail_unless_equals_int (seen[2], v12);
  fail_unless_equals_int (seen[3], v12);
  fail_unless_equals_int (seen[4], v1);
  fail_unless_equals_int (seen[5], v12);
  fail_unless_equals_int (seen[6], v12);
  fail_unless_equals_int (hangout_room_get_member_transfer_versions (b->room,
          c->id), v1);
  fail_unless_equals_int (hangout_room_get_member_transfer_versions (b->room,
          "nobody"), 0);
  g_clear_pointer (&nodes, g_ptr_array_unref);
  server_free (server, SIGTERM);
}

GST_END_TEST;

static gboolean
all_saw_leave (GPtrArray *nodes, guint from, const gchar *id)
{
  for (guint i = from; i < nodes->len; i++) {
    Node *node = nodes->pdata[i];
    gboolean seen = FALSE;

    for (guint j = 0; j < node->left->len; j++)
      seen |= g_strcmp0 (node->left->pdata[j], id) == 0;
    if (!seen || g_hash_table_contains (node->connected, id))
      return FALSE;
  }
  return TRUE;
}

GST_START_TEST (test_member_leaves)
{
  Server *server = server_start (0);
  GPtrArray *nodes = mesh_start (server->url, "leave", 8, 10000, NULL);
  g_autofree gchar *id = dup_id (nodes->pdata[0]);
  gint64 start = g_get_monotonic_time ();

  hangout_room_stop (((Node *) nodes->pdata[0])->room);
  WAIT_UNTIL (all_saw_leave (nodes, 1, id), 2000);
  g_print ("7 members saw the 8th leave within %.0f ms\n",
      (g_get_monotonic_time () - start) / 1000.0);
  g_ptr_array_remove_index (nodes, 0);
  WAIT_UNTIL (all_connected (nodes, 6), 1000);
  g_ptr_array_unref (nodes);
  server_free (server, SIGTERM);
}

GST_END_TEST;

static gboolean
all_received (GPtrArray *nodes, guint count)
{
  for (guint i = 1; i < nodes->len; i++) {
    if (((Node *) nodes->pdata[i])->messages->len < count)
      return FALSE;
  }
  return TRUE;
}

/* A member that sends and never reads gets its replies dropped once a
 * backlog of them waits for it: our memory does not grow with its
 * messages. What else we queued for it (our own file) does not count: a
 * member our data keeps busy still gets its answers. */
GST_START_TEST (test_reply_backlog)
{
  Server *server = server_start (0);
  GPtrArray *nodes = mesh_start (server->url, "backlog", 2, 10000, NULL);
  Node *victim = nodes->pdata[0], *reader = nodes->pdata[1];
  g_autofree gchar *victim_id = dup_id (victim);
  g_autofree gchar *reader_id = dup_id (reader);
  g_autofree gchar *reply = g_strnfill (1000, 'r');
  g_autoptr (GBytes) data = g_bytes_new_take (g_malloc0 (65536), 65536);
  g_autoptr (HangoutDataChannel) channel = NULL;
  g_autoptr (GError) error = NULL;
  guint sent = 0;

  /* The other member stops reading from the victim, which queues 4 MiB of
   * its own for it: more than SCTP's send buffer and the reader's receive
   * window (1 MiB each) can take before the check below, however fast the
   * reader's last reads were (with 2 MiB, 128 KiB was once all that
   * waited). */
  hangout_room_set_receiving (reader->room, victim_id, FALSE);
  for (guint i = 0; i < 64; i++)
    fail_unless (hangout_room_send (victim->room, reader_id, data, NULL));
  channel = hangout_room_get_channel (victim->room, reader_id);
  fail_unless (hangout_data_channel_get_buffered_amount (channel)
      > HANGOUT_ROOM_REPLY_BACKLOG, "only %" G_GUINT64_FORMAT " bytes queued",
      hangout_data_channel_get_buffered_amount (channel));
  while (sent < 20000 && hangout_room_send_reply (victim->room, reader_id,
          reply, &error))
    sent++;
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_STATE), "%s", error ? error->message : "");
  g_print ("replies refused after %u KB\n", sent);
  /* As many as the backlog holds went, no more. */
  assert_equals_uint64 (sent, HANGOUT_ROOM_REPLY_BACKLOG / 1000);
  /* Messages of its own still go (the application bounds those). */
  fail_unless (hangout_room_send_string (victim->room, reader_id, "hi",
          NULL));
  g_ptr_array_unref (nodes);
  server_free (server, SIGTERM);
}

GST_END_TEST;

/* A member that stops right after its last messages (a receiver's ack, then
 * the end of its pipeline): what it queued arrives whole, and the member
 * is seen to leave. */
#define LAST_MESSAGES 8
#define LAST_MESSAGE_SIZE 200000

GST_START_TEST (test_last_messages_arrive)
{
  Server *server = server_start (0);
  GPtrArray *nodes = mesh_start (server->url, "last", 2, 10000, NULL);
  Node *leaving = nodes->pdata[0], *staying = nodes->pdata[1];
  g_autofree gchar *leaving_id = dup_id (leaving);
  g_autofree gchar *staying_id = dup_id (staying);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = NULL;
  g_autoptr (GBytes) ack = g_bytes_new_static ("ack", 3);
  g_autoptr (GPtrArray) got = NULL;
  guint8 *bytes = g_malloc (LAST_MESSAGE_SIZE);

  for (guint i = 0; i < LAST_MESSAGE_SIZE; i++)
    bytes[i] = (guint8) (i * 7 + (i >> 9));
  data = g_bytes_new_take (bytes, LAST_MESSAGE_SIZE);
  for (guint i = 0; i < LAST_MESSAGES; i++)
    fail_unless (hangout_room_send (leaving->room, staying_id, data, &error),
        "%s", error ? error->message : "");
  fail_unless (hangout_room_send_string (leaving->room, staying_id, "ack",
          &error), "%s", error ? error->message : "");
  hangout_room_stop (leaving->room);
  WAIT_UNTIL (staying->left->len == 1, 5000);
  got = messages_of (staying);
  fail_unless_equals_int (got->len, LAST_MESSAGES + 1);
  for (guint i = 0; i < LAST_MESSAGES; i++) {
    Message *m = got->pdata[i];

    fail_unless_equals_string (m->from, leaving_id);
    fail_unless (g_bytes_equal (m->data, data));
  }
  fail_unless (g_bytes_equal (((Message *) got->pdata[LAST_MESSAGES])->data,
          ack));
  g_ptr_array_unref (nodes);
  server_free (server, SIGTERM);
}

GST_END_TEST;

GST_START_TEST (test_broadcast)
{
  Server *server = server_start (0);
  GPtrArray *nodes = mesh_start (server->url, "broadcast", 8, 10000, NULL);
  Node *sender = nodes->pdata[0];
  g_autofree gchar *id = dup_id (sender);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = NULL;
  const gchar *text = "hello, mesh — ünïcödé";
  guint8 *buffer = g_malloc (200 * 1024);

  for (gsize i = 0; i < 200 * 1024; i++)
    buffer[i] = g_random_int () & 0xff;
  data = g_bytes_new_take (buffer, 200 * 1024);
  fail_unless (hangout_room_broadcast (sender->room, data, &error), "%s",
      error ? error->message : "");
  fail_unless (hangout_room_broadcast_string (sender->room, text, &error),
      "%s", error ? error->message : "");
  WAIT_UNTIL (all_received (nodes, 2), 5000);

  for (guint i = 1; i < nodes->len; i++) {
    g_autoptr (GPtrArray) got = messages_of (nodes->pdata[i]);
    Message *binary, *string;

    fail_unless_equals_int (got->len, 2);
    binary = got->pdata[0];
    string = got->pdata[1];
    fail_unless_equals_string (binary->from, id);
    fail_unless (!binary->is_string);
    fail_unless (g_bytes_equal (binary->data, data), "binary message damaged");
    fail_unless_equals_string (string->from, id);
    fail_unless (string->is_string);
    fail_unless_equals_int (g_bytes_get_size (string->data), strlen (text));
    fail_unless (memcmp (g_bytes_get_data (string->data, NULL), text,
            strlen (text)) == 0);
  }

  /* To one member, and to one that is not there. */
  fail_unless (hangout_room_send_string (((Node *) nodes->pdata[1])->room, id,
          "back", &error), "%s", error ? error->message : "");
  WAIT_UNTIL (sender->messages->len == 1, 2000);
  fail_if (hangout_room_send_string (sender->room, "no-such-member", "x",
          &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_NO_SUCH_MEMBER));
  g_ptr_array_unref (nodes);
  server_free (server, SIGTERM);
}

GST_END_TEST;

static gboolean
all_rejoined (GPtrArray *nodes, guint ids)
{
  for (guint i = 0; i < nodes->len; i++) {
    if (((Node *) nodes->pdata[i])->ids < ids)
      return FALSE;
  }
  return TRUE;
}

static gboolean
all_disconnected (GPtrArray *nodes)
{
  for (guint i = 0; i < nodes->len; i++) {
    if (((Node *) nodes->pdata[i])->errors == 0)
      return FALSE;
  }
  return TRUE;
}

GST_START_TEST (test_server_restart)
{
  const guint n = 4;
  Server *server = server_start (0);
  guint port = server->port;
  GPtrArray *nodes = mesh_start (server->url, "restart", n, 10000, NULL);
  g_autoptr (GPtrArray) channels = g_ptr_array_new_with_free_func
      (g_object_unref);
  g_autoptr (GPtrArray) member_ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *url = g_strdup (server->url);
  gint64 start;
  Node *newcomer;

  /* The channels of the original mesh. */
  for (guint i = 0; i < n; i++) {
    Node *node = nodes->pdata[i];
    g_auto (GStrv) list = hangout_room_list_connected (node->room);

    for (guint j = 0; list[j] != NULL; j++) {
      g_ptr_array_add (channels, hangout_room_get_channel (node->room,
              list[j]));
      g_ptr_array_add (member_ids, g_strdup (list[j]));
    }
  }
  fail_unless_equals_int (channels->len, n * (n - 1));
  g_mutex_lock (&lock);
  for (guint i = 0; i < n; i++)
    ((Node *) nodes->pdata[i])->errors = 0;
  g_mutex_unlock (&lock);

  server_free (server, SIGKILL);
  WAIT_UNTIL (all_disconnected (nodes), 2000);
  start = g_get_monotonic_time ();
  server = server_start (port);
  fail_unless_equals_string (server->url, url);
  WAIT_UNTIL (all_rejoined (nodes, 2), 10000);
  g_print ("%u members rejoined the restarted server in %.0f ms\n", n,
      (g_get_monotonic_time () - start) / 1000.0);

  /* A newcomer connects to everyone. */
  start = g_get_monotonic_time ();
  newcomer = node_start (server->url, "restart", n);
  g_ptr_array_add (nodes, newcomer);
  WAIT_UNTIL (all_connected (nodes, n), 10000);
  g_print ("a newcomer connected to %u rejoined members in %.0f ms\n", n,
      (g_get_monotonic_time () - start) / 1000.0);

  /* Nobody left, nobody was counted twice, and the old connections are the
   * same objects, open, and carry messages. */
  for (guint i = 0; i < nodes->len; i++) {
    Node *node = nodes->pdata[i];
    guint left, joined, connected;

    g_mutex_lock (&lock);
    left = node->left->len;
    joined = node->joined;
    connected = g_hash_table_size (node->connected);
    g_mutex_unlock (&lock);
    fail_unless_equals_int (left, 0);
    fail_unless_equals_int (joined, n);
    fail_unless_equals_int (connected, n);
  }
  for (guint i = 0, k = 0; i < n; i++) {
    Node *node = nodes->pdata[i];

    for (guint j = 0; j < n - 1; j++, k++) {
      g_autoptr (HangoutDataChannel) now = hangout_room_get_channel
          (node->room, member_ids->pdata[k]);
      g_autoptr (GError) error = NULL;

      fail_unless (now == channels->pdata[k],
          "the connection from %s to %s was replaced", node->name,
          (gchar *) member_ids->pdata[k]);
      fail_unless (hangout_data_channel_get_ready_state (now) ==
          HANGOUT_DATA_CHANNEL_STATE_OPEN);
      fail_unless (hangout_room_send_string (node->room, member_ids->pdata[k],
              "still here", &error), "%s", error ? error->message : "");
    }
  }
  for (guint i = 0; i < n; i++)
    WAIT_UNTIL (((Node *) nodes->pdata[i])->messages->len == n - 1, 2000);

  g_ptr_array_unref (nodes);
  server_free (server, SIGTERM);
}

GST_END_TEST;

/* A TCP proxy in front of the server, on its own thread, whose
 * connections the test can cut: one member losing only its WebSocket. */
typedef struct {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GSocketService *service;
  guint upstream_port;
  guint port;
  GPtrArray *connections;       /* GIOStream, both ends of each link */
  GMutex lock;
  GCond cond;
  gboolean ready;
} Proxy;

static void
on_spliced (GObject *source, GAsyncResult *result, gpointer data)
{
  g_io_stream_splice_finish (result, NULL);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *downstream,
    GObject *source, Proxy *proxy)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autofree gchar *host = g_strdup_printf ("127.0.0.1:%u",
      proxy->upstream_port);
  GSocketConnection *upstream = g_socket_client_connect_to_host (client,
      host, 0, NULL, NULL);

  if (upstream == NULL)
    return TRUE;                /* downstream is closed as it is dropped */
  g_ptr_array_add (proxy->connections, g_object_ref (downstream));
  g_ptr_array_add (proxy->connections, upstream);
  g_io_stream_splice_async (G_IO_STREAM (downstream), G_IO_STREAM (upstream),
      G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
      G_PRIORITY_DEFAULT, NULL, on_spliced, NULL);
  return TRUE;
}

static gpointer
proxy_thread (gpointer data)
{
  Proxy *proxy = data;

  g_main_context_push_thread_default (proxy->context);
  proxy->service = g_socket_service_new ();
  proxy->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER
      (proxy->service), NULL, NULL);
  g_signal_connect (proxy->service, "incoming", G_CALLBACK (on_incoming),
      proxy);
  g_socket_service_start (proxy->service);
  g_mutex_lock (&proxy->lock);
  proxy->ready = TRUE;
  g_cond_broadcast (&proxy->cond);
  g_mutex_unlock (&proxy->lock);
  g_main_loop_run (proxy->loop);
  g_socket_service_stop (proxy->service);
  g_socket_listener_close (G_SOCKET_LISTENER (proxy->service));
  g_clear_object (&proxy->service);
  g_ptr_array_set_size (proxy->connections, 0);
  while (g_main_context_iteration (proxy->context, FALSE));
  g_main_context_pop_thread_default (proxy->context);
  return NULL;
}

static Proxy *
proxy_start (guint upstream_port)
{
  Proxy *proxy = g_new0 (Proxy, 1);

  proxy->upstream_port = upstream_port;
  proxy->context = g_main_context_new ();
  proxy->loop = g_main_loop_new (proxy->context, FALSE);
  proxy->connections = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_init (&proxy->lock);
  g_cond_init (&proxy->cond);
  proxy->thread = g_thread_new ("proxy", proxy_thread, proxy);
  g_mutex_lock (&proxy->lock);
  while (!proxy->ready)
    g_cond_wait (&proxy->cond, &proxy->lock);
  g_mutex_unlock (&proxy->lock);
  fail_unless (proxy->port != 0);
  return proxy;
}

static gboolean
cut_in_thread (gpointer data)
{
  Proxy *proxy = data;

  for (guint i = 0; i < proxy->connections->len; i++)
    g_io_stream_close (proxy->connections->pdata[i], NULL, NULL);
  g_ptr_array_set_size (proxy->connections, 0);
  return G_SOURCE_REMOVE;
}

static void
proxy_cut (Proxy *proxy)
{
  g_main_context_invoke (proxy->context, cut_in_thread, proxy);
}

static gboolean
quit_in_thread (gpointer data)
{
  g_main_loop_quit (((Proxy *) data)->loop);
  return G_SOURCE_REMOVE;
}

static void
proxy_free (Proxy *proxy)
{
  g_main_context_invoke (proxy->context, quit_in_thread, proxy);
  g_thread_join (proxy->thread);
  g_ptr_array_unref (proxy->connections);
  g_main_loop_unref (proxy->loop);
  g_main_context_unref (proxy->context);
  g_mutex_clear (&proxy->lock);
  g_cond_clear (&proxy->cond);
  g_free (proxy);
}

/* Fails if @cond turns false within @ms (a watch, not a sleep: it looks at
 * every change). */
#define STAYS_TRUE(cond, ms) G_STMT_START {                                 \
    gint64 _end = g_get_monotonic_time () + (gint64) (ms) * 1000;          \
    gboolean _ok = TRUE;                                                    \
    g_mutex_lock (&lock);                                                   \
    while ((_ok = (cond)) && g_cond_wait_until (&changed, &lock, _end));    \
    _ok = _ok && (cond);                                                    \
    g_mutex_unlock (&lock);                                                 \
    fail_unless (_ok, "no longer true: %s", #cond);                         \
  } G_STMT_END

static gboolean
nobody_left (GPtrArray *nodes)
{
  for (guint i = 0; i < nodes->len; i++) {
    if (((Node *) nodes->pdata[i])->left->len > 0)
      return FALSE;
  }
  return TRUE;
}

/* One member loses its WebSocket while the server stays up: the others
 * hear member-left, ping it over the mesh, get an answer and keep it; it
 * rejoins under a new id and offers to nobody (it knows them all). */
GST_START_TEST (test_member_loses_signalling)
{
  const guint n = 4;
  Server *server = server_start (0);
  Proxy *proxy = proxy_start (server->port);
  g_autofree gchar *proxied = g_strdup_printf ("ws://127.0.0.1:%u/ws",
      proxy->port);
  GPtrArray *nodes = mesh_start (server->url, "flaky", n - 1, 10000, NULL);
  Node *flaky = node_start (proxied, "flaky", n - 1);

  g_ptr_array_add (nodes, flaky);
  WAIT_UNTIL (all_connected (nodes, n - 1), 10000);
  proxy_cut (proxy);
  WAIT_UNTIL (flaky->ids == 2, 5000);
  STAYS_TRUE (all_connected (nodes, n - 1) && nobody_left (nodes),
      HANGOUT_ROOM_LIVENESS_TIMEOUT_MS + 500);
  for (guint i = 0; i < n; i++) {
    guint joined;

    g_mutex_lock (&lock);
    joined = ((Node *) nodes->pdata[i])->joined;
    g_mutex_unlock (&lock);
    fail_unless_equals_int (joined, n - 1);
  }
  g_ptr_array_unref (nodes);
  proxy_free (proxy);
  server_free (server, SIGTERM);
}

GST_END_TEST;

/* A member in another process (this program, see main()) that is killed:
 * no SCTP ABORT, no WebSocket close. The server notices the dead socket and
 * says member-left; the others ping it on the control channel, get no
 * answer, and drop it. */
GST_START_TEST (test_member_crashes)
{
  const guint n = 3;
  Server *server = server_start (0);
  GPtrArray *nodes = mesh_start (server->url, "crash", n, 10000, NULL);
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new
      (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;

  g_subprocess_launcher_setenv (launcher, "TEST_ROOM_CHILD_SERVER",
      server->url, TRUE);
  g_subprocess_launcher_setenv (launcher, "TEST_ROOM_CHILD_ROOM", "crash",
      TRUE);
  child = g_subprocess_launcher_spawn (launcher, &error, "/proc/self/exe",
      NULL);
  fail_unless (child != NULL, "%s", error ? error->message : "");
  WAIT_UNTIL (all_connected (nodes, n), 10000);

  start = g_get_monotonic_time ();
  g_subprocess_send_signal (child, SIGKILL);
  g_subprocess_wait (child, NULL, NULL);
  WAIT_UNTIL (all_connected (nodes, n - 1),
      HANGOUT_ROOM_LIVENESS_TIMEOUT_MS + 2000);
  g_print ("%u members dropped a killed member after %.0f ms\n", n,
      (g_get_monotonic_time () - start) / 1000.0);
  for (guint i = 0; i < n; i++) {
    guint left;

    g_mutex_lock (&lock);
    left = ((Node *) nodes->pdata[i])->left->len;
    g_mutex_unlock (&lock);
    fail_unless_equals_int (left, 1);
  }
  g_ptr_array_unref (nodes);
  server_free (server, SIGTERM);
}

GST_END_TEST;

/* Bad properties fail at start; a server that is not there is retried
 * until stop, which ends the retries at once. */
GST_START_TEST (test_start_errors)
{
  g_autoptr (GError) error = NULL;
  HangoutRoom *room = hangout_room_new ("r", "n", NULL);
  Server *server = server_start (0);
  guint port = server->port;
  g_autofree gchar *url = g_strdup (server->url);
  gint64 start;

  fail_if (hangout_room_start (room, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_STATE), "%s", error->message);
  g_clear_error (&error);
  /* A STUN or TURN server that does not parse, at once. */
  g_object_set (room, "server", url, "turn-server", "turn:127.0.0.1:3478",
      NULL);
  fail_if (hangout_room_start (room, &error));
  fail_unless (strstr (error->message, "turn-server: server "
          "'turn:127.0.0.1:3478': a TURN server needs USER:PASSWORD@") != NULL,
      "%s", error->message);
  g_clear_error (&error);
  g_object_set (room, "turn-server", NULL, "stun-server", "stuns:127.0.0.1",
      NULL);
  fail_if (hangout_room_start (room, &error));
  fail_unless (strstr (error->message, "stun-server: ") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  g_object_set (room, "stun-server", NULL, NULL);
  g_object_set (room, "server", "http://127.0.0.1:1/ws", NULL);
  fail_if (hangout_room_start (room, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_SIGNALLING), "%s", error->message);
  g_clear_error (&error);

  /* Nobody listens on the port any more. */
  server_free (server, SIGTERM);
  g_object_set (room, "server", url, NULL);
  fail_unless (hangout_room_start (room, &error), "%s",
      error ? error->message : "");
  fail_if (hangout_room_start (room, NULL));
  start = g_get_monotonic_time ();
  hangout_room_stop (room);
  fail_unless (g_get_monotonic_time () - start < G_USEC_PER_SEC);
  fail_unless (hangout_room_dup_id (room) == NULL);
  /* The server comes (back): a room started again joins. */
  server = server_start (port);
  fail_unless (hangout_room_start (room, &error), "%s",
      error ? error->message : "");
  {
    Node node = { 0 };

    node.room = room;
    g_signal_connect (room, "notify::id", G_CALLBACK (on_id), &node);
    /* It may have joined before the handler was connected. */
    on_id (room, NULL, &node);
    WAIT_UNTIL (node.id != NULL, 5000);
    hangout_room_stop (room);
    g_signal_handlers_disconnect_by_data (room, &node);
    g_free (node.id);
  }
  g_object_unref (room);
  server_free (server, SIGTERM);
}

GST_END_TEST;

static Suite *
room_suite (void)
{
  Suite *s = suite_create ("room");
  TCase *tc = tcase_create ("mesh");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_start_errors);
  tcase_add_test (tc, test_full_mesh);
  tcase_add_test (tc, test_capabilities);
  tcase_add_test (tc, test_member_leaves);
  tcase_add_test (tc, test_last_messages_arrive);
  tcase_add_test (tc, test_broadcast);
  tcase_add_test (tc, test_reply_backlog);
  tcase_add_test (tc, test_server_restart);
  tcase_add_test (tc, test_member_crashes);
  tcase_add_test (tc, test_member_loses_signalling);
  suite_add_tcase (s, tc);
  return s;
}

/* The member test_member_crashes kills: joins, then waits to be killed. */
static int
child_main (const gchar *url, const gchar *room_name)
{
  g_autoptr (HangoutRoom) room = hangout_room_new (room_name, "doomed", url);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  if (!hangout_room_start (room, NULL))
    return 1;
  g_main_loop_run (loop);
  return 0;
}

int
main (int argc, char **argv)
{
  Suite *s;

  if (g_getenv ("TEST_ROOM_CHILD_SERVER") != NULL)
    return child_main (g_getenv ("TEST_ROOM_CHILD_SERVER"),
        g_getenv ("TEST_ROOM_CHILD_ROOM"));
  gst_check_init (&argc, &argv);
  s = room_suite ();
  return gst_check_run_suite (s, "room", __FILE__);
}
