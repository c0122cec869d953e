/* gst-hangout — rooms across servers (hangout-server --redis;
 * docs/architecture.md, "Rooms across servers"): a Redis of the test's own
 * (on a Unix socket in a temporary directory, no TCP port, nothing saved)
 * and two hangout-server processes A and B on it. A file shared by a
 * hangoutsink on A reaches a hangoutsrc on B, identical; welcome lists the
 * members of both servers in join order, joins and leaves reach the other
 * server's members, signals cross, and the room limit holds over both;
 * SIGKILL of B makes A's members hear that B's members left within a few
 * seconds, and A's room goes on (a sender joins A and its file arrives);
 * when Redis dies both servers close their members and refuse joins, and
 * take joins again once a new Redis is there (where a receiver that kept
 * trying to rejoin gets a file from the other server); a Redis with a
 * password takes servers that have it, and a wrong one is an error at
 * start that does not show it.
 *
 * The members that check the protocol are WebSockets of the test; the
 * file goes through the elements in this process. Runs in a private
 * network namespace (tests/netns-run.sh). Exits 77 (skipped) without
 * redis-server.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pipelines.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define FILE_SIZE (1024 * 1024)
#define TRANSFER_TIMEOUT (30 * GST_SECOND)
#define DEADLINE_MS 5000
/* B's heartbeat lives 3 s and A sweeps every second: B's members leave
 * 3 to 4 s after B dies. The bound leaves room for a busy machine. */
#define DEAD_SERVER_BOUND_MS 8000
#define MAX_MEMBERS "3"

static gchar *workdir;
static gchar *redis_url;
static GSubprocess *redis;
static Server *server_a, *server_b;
static SoupSession *session;

/* ---- Redis and the servers ---- */

static gboolean
cond_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static gboolean wait_until (gboolean (*cond) (gpointer), gpointer data,
    guint timeout_ms);

/* Its log in the work directory; ready once its socket is there (it
 * listens before it makes the file known). */
static void
start_redis (void)
{
  g_autofree gchar *sock = g_build_filename (workdir, "redis.sock", NULL);
  g_autofree gchar *log = g_build_filename (workdir, "redis.log", NULL);
  const gchar *argv[] = { "redis-server", "--port", "0", "--unixsocket", sock,
    "--dir", workdir, "--logfile", log, "--save", "", "--appendonly", "no",
    NULL
  };

  redis = spawn (G_SUBPROCESS_FLAGS_NONE, argv);
  fail_unless (wait_until (cond_exists, sock, DEADLINE_MS),
      "redis-server did not start");
  redis_url = g_strconcat ("unix:", sock, NULL);
}

static Server *
start_member_server (void)
{
  const gchar *args[] = { "--redis", redis_url, "--max-members", MAX_MEMBERS,
    NULL
  };

  return server_start (args);
}

static void
setup (void)
{
  workdir = make_workdir ("redis");
  start_redis ();
  server_a = start_member_server ();
  server_b = start_member_server ();
  session = soup_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  /* The servers before Redis, so that they leave it cleanly (a killed
   * one is only reaped); stop_leftovers() stops Redis. */
  g_clear_pointer (&server_b, server_stop);
  g_clear_pointer (&server_a, server_stop);
  remove_workdir (workdir);
  workdir = NULL;
  g_clear_object (&redis);
  g_clear_pointer (&redis_url, g_free);
}

/* ---- Members as WebSockets ---- */

typedef struct {
  SoupWebsocketConnection *ws;
  gboolean done;
  gboolean closed;
  gushort close_code;
  gboolean dropped;             /* its server is gone: no close handshake */
  GError *error;
  GQueue msgs;                  /* JsonObject* */
  gchar *id;
} Member;

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
wait_until (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add (timeout_ms, on_deadline, &expired);

  while (!cond (data) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
  return cond (data);
}

static void
on_message (SoupWebsocketConnection *ws, gint type, GBytes *bytes,
    gpointer data)
{
  Member *m = data;
  g_autoptr (JsonParser) parser = json_parser_new ();

  fail_unless (json_parser_load_from_data (parser, g_bytes_get_data (bytes,
              NULL), g_bytes_get_size (bytes), NULL), "invalid JSON");
  g_queue_push_tail (&m->msgs, json_node_dup_object (json_parser_get_root
          (parser)));
}

static void
on_closed (SoupWebsocketConnection *ws, gpointer data)
{
  Member *m = data;

  m->closed = TRUE;
  m->close_code = soup_websocket_connection_get_close_code (ws);
}

static void
on_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  Member *m = data;

  m->ws = soup_session_websocket_connect_finish (SOUP_SESSION (src), res,
      &m->error);
  m->done = TRUE;
  if (m->ws) {
    g_signal_connect (m->ws, "message", G_CALLBACK (on_message), m);
    g_signal_connect (m->ws, "closed", G_CALLBACK (on_closed), m);
  }
}

static gboolean
cond_done (gpointer data)
{
  return ((Member *) data)->done;
}

static gboolean
cond_message (gpointer data)
{
  Member *m = data;

  return !g_queue_is_empty (&m->msgs) || m->closed;
}

static gboolean
cond_closed (gpointer data)
{
  return ((Member *) data)->closed;
}

/* The next message, which must be of @type (caller unrefs). */
static JsonObject *
expect (Member *m, const gchar *type, guint timeout_ms)
{
  JsonObject *o;

  wait_until (cond_message, m, timeout_ms);
  fail_if (g_queue_is_empty (&m->msgs), "no '%s' within %u ms", type,
      timeout_ms);
  o = g_queue_pop_head (&m->msgs);
  fail_unless_equals_string (json_object_get_string_member_with_default (o,
          "type", ""), type);
  return o;
}

static void
send_text (Member *m, const gchar *text)
{
  soup_websocket_connection_send_text (m->ws, text);
}

/* A WebSocket to @server that sends a join of @room as @name; the answer
 * is the caller's to read. */
static Member *
connect_member (Server *server, const gchar *room, const gchar *name)
{
  Member *m = g_new0 (Member, 1);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", server->url);
  g_autofree gchar *join = g_strdup_printf ("{\"type\":\"join\",\"room\":"
      "\"%s\",\"name\":\"%s\"}", room, name);

  g_queue_init (&m->msgs);
  soup_session_websocket_connect_async (session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, on_connected, m);
  fail_unless (wait_until (cond_done, m, DEADLINE_MS), "connect timed out");
  fail_unless (m->ws != NULL, "connect: %s", m->error->message);
  send_text (m, join);
  return m;
}

/* connect_member(), then its welcome, whose members must be @ids (NULL
 * terminated, in that order) named @names. */
static Member *
join (Server *server, const gchar *room, const gchar *name,
    const gchar *const *ids, const gchar *const *names)
{
  Member *m = connect_member (server, room, name);
  g_autoptr (JsonObject) welcome = expect (m, "welcome", DEADLINE_MS);
  JsonArray *members = json_object_get_array_member (welcome, "members");
  guint n = ids ? g_strv_length ((gchar **) ids) : 0;

  m->id = g_strdup (json_object_get_string_member (welcome, "id"));
  fail_unless_equals_int (json_array_get_length (members), n);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = json_array_get_object_element (members, i);

    fail_unless_equals_string (json_object_get_string_member (o, "id"),
        ids[i]);
    fail_unless_equals_string (json_object_get_string_member (o, "name"),
        names[i]);
  }
  return m;
}

static void
member_free (Member *m)
{
  if (m->ws) {
    if (!m->dropped && soup_websocket_connection_get_state (m->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN) {
      soup_websocket_connection_close (m->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
      wait_until (cond_closed, m, DEADLINE_MS);
    }
    g_signal_handlers_disconnect_by_data (m->ws, m);
    g_object_unref (m->ws);
  }
  g_queue_clear_full (&m->msgs, (GDestroyNotify) json_object_unref);
  g_clear_error (&m->error);
  g_free (m->id);
  g_free (m);
}

/* The next message of @m is member-joined (@name given) or member-left
 * of @id. */
static void
expect_event (Member *m, const gchar *id, const gchar *name, guint timeout_ms)
{
  g_autoptr (JsonObject) o = expect (m, name ? "member-joined" :
      "member-left", timeout_ms);

  fail_unless_equals_string (json_object_get_string_member (o, "id"), id);
  if (name)
    fail_unless_equals_string (json_object_get_string_member (o, "name"),
        name);
}

/* ---- Files ---- */

/* A receiver's pipeline in @room on @server, writing @out. */
static GstElement *
start_receiver (Server *server, const gchar *room, const gchar *out)
{
  g_autofree gchar *description = g_strdup_printf ("hangoutsrc room=%s "
      "server=%s display-name=receiver num-files=1 ! filesink location=%s",
      room, server->url, out);

  return launch (description);
}

/* A sender in @room on @server shares a new random file, which @receiver
 * (writing @out; consumed) must get identical. */
static void
share_file (Server *server, const gchar *room, GstElement *receiver,
    const gchar *out)
{
  g_autofree gchar *in = g_build_filename (workdir, "in.bin", NULL);
  g_autofree gchar *description = NULL;
  g_autofree gchar *want = NULL, *got = NULL;
  GstElement *sender;

  write_random_file (in, FILE_SIZE);
  description = g_strdup_printf ("filesrc location=%s ! hangoutsink room=%s "
      "server=%s display-name=sender min-peers=1", in, room, server->url);
  sender = launch (description);
  wait_eos (sender, "sender", TRANSFER_TIMEOUT);
  wait_eos (receiver, "receiver", TRANSFER_TIMEOUT);
  want = file_sha256 (in);
  got = file_sha256 (out);
  fail_unless_equals_string (got, want);
  /* Stopped within the test: its end waits for every streaming thread. */
  gst_element_set_state (sender, GST_STATE_NULL);
  gst_element_set_state (receiver, GST_STATE_NULL);
  gst_object_unref (sender);
  gst_object_unref (receiver);
}

/* ---- Tests ---- */

GST_START_TEST (test_file_across_servers)
{
  g_autofree gchar *out = g_build_filename (workdir, "out.bin", NULL);
  GstElement *receiver = start_receiver (server_b, "files", out);

  share_file (server_a, "files", receiver, out);
}

GST_END_TEST;

GST_START_TEST (test_one_room_over_both)
{
  Member *a1, *b1, *a2, *b2;
  g_autoptr (JsonObject) error = NULL, signal = NULL;
  g_autofree gchar *text = NULL, *b1_id = NULL;

  a1 = join (server_a, "both", "a1", NULL, NULL);
  b1 = join (server_b, "both", "b1", (const gchar *[]) { a1->id, NULL },
      (const gchar *[]) { "a1", NULL });
  expect_event (a1, b1->id, "b1", DEADLINE_MS);
  a2 = join (server_a, "both", "a2", (const gchar *[]) { a1->id, b1->id, NULL },
      (const gchar *[]) { "a1", "b1", NULL });
  expect_event (a1, a2->id, "a2", DEADLINE_MS);
  expect_event (b1, a2->id, "a2", DEADLINE_MS);

  /* Three on two servers: the room is full on B too. */
  b2 = connect_member (server_b, "both", "b2");
  error = expect (b2, "error", DEADLINE_MS);
  fail_unless_equals_string (json_object_get_string_member (error, "code"),
      "room-full");

  /* A signal from A to B, as it was sent. */
  text = g_strdup_printf ("{\"type\":\"signal\",\"to\":\"%s\",\"payload\":"
      "{\"sdp\":\"x\",\"n\":[1,2.5,\"\\u00e9\"]}}", b1->id);
  send_text (a2, text);
  signal = expect (b1, "signal", DEADLINE_MS);
  fail_unless_equals_string (json_object_get_string_member (signal, "from"),
      a2->id);
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (signal, "payload"), "sdp"), "x");

  /* B's member leaves: A's hear it, and there is room again on B. */
  b1_id = g_strdup (b1->id);
  member_free (b1);
  expect_event (a1, b1_id, NULL, DEADLINE_MS);
  expect_event (a2, b1_id, NULL, DEADLINE_MS);
  member_free (b2);
  b2 = join (server_b, "both", "b2", (const gchar *[]) { a1->id, a2->id, NULL },
      (const gchar *[]) { "a1", "a2", NULL });
  expect_event (a1, b2->id, "b2", DEADLINE_MS);
  member_free (b2);
  member_free (a2);
  member_free (a1);
}

GST_END_TEST;

GST_START_TEST (test_server_killed)
{
  g_autofree gchar *out = g_build_filename (workdir, "out.bin", NULL);
  Member *a1, *b1, *b2;
  GstElement *receiver;
  gint64 killed;

  a1 = join (server_a, "kill", "a1", NULL, NULL);
  b1 = join (server_b, "kill", "b1", (const gchar *[]) { a1->id, NULL },
      (const gchar *[]) { "a1", NULL });
  b2 = join (server_b, "kill", "b2", (const gchar *[]) { a1->id, b1->id, NULL },
      (const gchar *[]) { "a1", "b1", NULL });
  expect_event (a1, b1->id, "b1", DEADLINE_MS);
  expect_event (a1, b2->id, "b2", DEADLINE_MS);

  g_subprocess_send_signal (server_b->proc, SIGKILL);
  fail_unless (g_subprocess_wait (server_b->proc, NULL, NULL));
  killed = g_get_monotonic_time ();
  expect_event (a1, b1->id, NULL, DEAD_SERVER_BOUND_MS);
  expect_event (a1, b2->id, NULL, DEADLINE_MS);
  GST_INFO ("B's members left %" G_GINT64_FORMAT " ms after B died",
      (g_get_monotonic_time () - killed) / 1000);

  /* A's room goes on: with B's two gone there is room for a receiver and
   * a sender, and the file arrives. */
  receiver = start_receiver (server_a, "kill", out);
  share_file (server_a, "kill", receiver, out);
  b1->dropped = b2->dropped = TRUE;
  member_free (b2);
  member_free (b1);
  member_free (a1);
}

GST_END_TEST;

static gboolean
cond_false (gpointer data)
{
  return FALSE;
}

/* A join on @server as @name in @room, tried again every 200 ms while the
 * server answers "unavailable", for at most @timeout_ms. */
static Member *
join_retrying (Server *server, const gchar *room, const gchar *name,
    guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * (gint64) 1000;

  for (;;) {
    Member *m = connect_member (server, room, name);
    JsonObject *o;

    wait_until (cond_message, m, DEADLINE_MS);
    fail_if (g_queue_is_empty (&m->msgs), "no answer to a join");
    o = g_queue_pop_head (&m->msgs);
    if (g_str_equal (json_object_get_string_member (o, "type"), "welcome")) {
      m->id = g_strdup (json_object_get_string_member (o, "id"));
      json_object_unref (o);
      return m;
    }
    fail_unless_equals_string (json_object_get_string_member (o, "code"),
        "unavailable");
    json_object_unref (o);
    member_free (m);
    fail_unless (g_get_monotonic_time () < end, "still unavailable after "
        "%u ms", timeout_ms);
    wait_until (cond_false, NULL, 200);
  }
}

/* Redis dies: the servers close their members (1011) rather than keep a
 * room split in two, and refuse joins until Redis is back; then the room
 * spans both servers again. */
GST_START_TEST (test_redis_lost)
{
  g_autofree gchar *sock = g_build_filename (workdir, "redis.sock", NULL);
  g_autofree gchar *out = g_build_filename (workdir, "out.bin", NULL);
  Member *a1, *b1, *refused;
  g_autoptr (JsonObject) error = NULL;
  GstElement *receiver;

  a1 = join (server_a, "lost", "a1", NULL, NULL);
  b1 = join (server_b, "lost", "b1", (const gchar *[]) { a1->id, NULL },
      (const gchar *[]) { "a1", NULL });
  expect_event (a1, b1->id, "b1", DEADLINE_MS);
  receiver = start_receiver (server_a, "lost", out);
  g_clear_pointer (&error, json_object_unref);
  error = expect (a1, "member-joined", DEADLINE_MS);
  fail_unless_equals_string (json_object_get_string_member (error, "name"),
      "receiver");

  g_subprocess_send_signal (redis, SIGKILL);
  fail_unless (g_subprocess_wait (redis, NULL, NULL));
  g_clear_object (&redis);
  fail_unless (wait_until (cond_closed, a1, DEADLINE_MS), "a1 not closed");
  fail_unless (wait_until (cond_closed, b1, DEADLINE_MS), "b1 not closed");
  fail_unless_equals_int (a1->close_code, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR);
  fail_unless_equals_int (b1->close_code, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR);
  refused = connect_member (server_a, "lost", "a2");
  g_clear_pointer (&error, json_object_unref);
  error = expect (refused, "error", DEADLINE_MS);
  fail_unless_equals_string (json_object_get_string_member (error, "code"),
      "unavailable");
  member_free (refused);
  member_free (b1);
  member_free (a1);

  /* The same socket, a new Redis (nothing kept): both servers reconnect
   * within a second or two and take joins again. The receiver, whose
   * rejoins were refused meanwhile, has kept trying: a sender on B
   * reaches it. */
  g_unlink (sock);
  g_clear_pointer (&redis_url, g_free);
  start_redis ();
  a1 = join_retrying (server_a, "lost", "a1", DEADLINE_MS);
  b1 = join_retrying (server_b, "lost", "b1", DEADLINE_MS);
  member_free (b1);
  member_free (a1);
  share_file (server_b, "lost", receiver, out);
}

GST_END_TEST;

static gboolean
cond_redis_ready (gpointer data)
{
  g_autofree gchar *text = NULL;

  return g_file_get_contents (data, &text, NULL, NULL)
      && strstr (text, "Ready to accept connections") != NULL;
}

/* A Redis on TCP with a password (requirepass): servers with it in their
 * URL share a room; one with a wrong password does not start, and says
 * why. The port is free: the test has a network namespace of its own. */
GST_START_TEST (test_password)
{
  g_autofree gchar *log = g_build_filename (workdir, "tcp.log", NULL);
  const gchar *argv[] = { "redis-server", "--port", "16379", "--bind",
    "127.0.0.1", "--requirepass", "s3cret", "--dir", workdir, "--logfile",
    log, "--save", "", "--appendonly", "no", NULL
  };
  const gchar *good[] = { "--redis", "redis://:s3cret@127.0.0.1:16379", NULL };
  const gchar *bad_argv[] = { g_getenv ("HANGOUT_SERVER"), "--port", "0",
    "--redis", "redis://:n0t-it@127.0.0.1:16379", NULL
  };
  g_autoptr (GSubprocess) tcp_redis = spawn (G_SUBPROCESS_FLAGS_NONE, argv);
  g_autoptr (GSubprocess) bad = NULL;
  g_autofree gchar *err = NULL;
  Server *a, *b;
  Member *a1, *b1;

  fail_unless (wait_until (cond_redis_ready, log, DEADLINE_MS),
      "redis-server did not start");
  a = server_start (good);
  b = server_start (good);
  a1 = join (a, "pw", "a1", NULL, NULL);
  b1 = join (b, "pw", "b1", (const gchar *[]) { a1->id, NULL },
      (const gchar *[]) { "a1", NULL });
  expect_event (a1, b1->id, "b1", DEADLINE_MS);
  member_free (b1);
  member_free (a1);
  server_stop (b);
  server_stop (a);

  bad = spawn (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
      bad_argv);
  fail_unless (g_subprocess_communicate_utf8 (bad, NULL, NULL, NULL, &err,
          NULL));
  fail_if (g_subprocess_get_successful (bad), "started with a wrong password");
  fail_unless (strstr (err, "authentication refused") != NULL, "%s", err);
  fail_if (strstr (err, "n0t-it") != NULL, "the password is in the log: %s",
      err);
}

GST_END_TEST;

static Suite *
redis_rooms_suite (void)
{
  Suite *s = suite_create ("redis-rooms");
  TCase *tc = tcase_create ("two-servers");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_file_across_servers);
  tcase_add_test (tc, test_one_room_over_both);
  tcase_add_test (tc, test_server_killed);
  tcase_add_test (tc, test_redis_lost);
  tcase_add_test (tc, test_password);
  return s;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *redis_server = g_find_program_in_path ("redis-server");

  if (redis_server == NULL) {
    g_print ("SKIP: redis-server not found; scripts/install-deps.sh "
        "installs it\n");
    return 77;
  }
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (redis_rooms_suite (), "redis-rooms", __FILE__);
}
