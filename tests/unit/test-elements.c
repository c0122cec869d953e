/* gst-hangout — hangoutsink and hangoutsrc without a signalling server:
 * properties and defaults, state changes up and down, and the error paths
 * (no room, malformed server URL, unreachable server, a server that never
 * answers / join timeout), each with a clear message and no hang.
 *
 * The plugin is loaded by path (HANGOUT_PLUGIN_PATH, from meson). Run in a
 * private network namespace: "unreachable" is 127.0.0.1:1 there.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <gio/gio.h>
#include <string.h>

#define UNREACHABLE "ws://127.0.0.1:1/ws"

static void
load_plugin (void)
{
  g_autoptr (GError) error = NULL;
  GstPlugin *plugin = gst_plugin_load_file (HANGOUT_PLUGIN_PATH, &error);

  fail_unless (plugin != NULL, "cannot load %s: %s", HANGOUT_PLUGIN_PATH,
      error ? error->message : "");
  gst_object_unref (plugin);
}

/* Waits (bounded) for an error on @pipeline's bus; returns its text. */
/* ws:// URL of a port that takes connections (the kernel completes the
 * TCP handshake) but never answers: a server that hangs. */
static gchar *
silent_server_url (GSocket **socket)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  fail_unless (*socket != NULL, "%s", error ? error->message : "");
  fail_unless (g_socket_bind (*socket, any, TRUE, &error), "%s",
      error ? error->message : "");
  fail_unless (g_socket_listen (*socket, &error), "%s",
      error ? error->message : "");
  bound = g_socket_get_local_address (*socket, &error);
  return g_strdup_printf ("ws://127.0.0.1:%u/ws",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
}

static gchar *
wait_error (GstElement *pipeline, GstClockTime timeout)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *message = gst_bus_timed_pop_filtered (bus, timeout,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  g_autoptr (GError) error = NULL;
  gchar *debug = NULL;
  gchar *text;

  fail_unless (message != NULL, "no error within %" GST_TIME_FORMAT,
      GST_TIME_ARGS (timeout));
  fail_unless_equals_int (GST_MESSAGE_TYPE (message), GST_MESSAGE_ERROR);
  gst_message_parse_error (message, &error, &debug);
  fail_unless (error->domain == GST_RESOURCE_ERROR, "domain %s",
      g_quark_to_string (error->domain));
  text = g_strdup_printf ("%s (%s)", error->message, debug ? debug : "");
  GST_INFO ("error: %s", text);
  g_free (debug);
  gst_message_unref (message);
  gst_object_unref (bus);
  return text;
}

GST_START_TEST (test_properties)
{
  GstElement *sink = gst_element_factory_make ("hangoutsink", NULL);
  GstElement *src = gst_element_factory_make ("hangoutsrc", NULL);
  g_autofree gchar *server = NULL, *room = NULL, *name = NULL;
  g_autofree gchar *filename = NULL, *stun = NULL, *turn = NULL;
  g_autofree gchar *from = NULL;
  guint min_peers, join_timeout, ack_timeout, chunk_size, num_files;
  gboolean sink_runs_server, src_runs_server;
  guint64 level;

  fail_unless (sink != NULL && src != NULL);
  g_object_get (sink, "server", &server, "room", &room, "display-name",
      &name, "min-peers", &min_peers, "join-timeout", &join_timeout,
      "ack-timeout", &ack_timeout, "chunk-size", &chunk_size, "filename",
      &filename, "stun-server", &stun, "turn-server", &turn, NULL);
  fail_unless_equals_string (server, "ws://127.0.0.1:8080/ws");
  fail_unless (room == NULL && name == NULL && filename == NULL);
  fail_unless (stun == NULL && turn == NULL);
  fail_unless_equals_int (min_peers, 1);
  fail_unless_equals_int (join_timeout, 30);
  fail_unless_equals_int (ack_timeout, 30);
  fail_unless_equals_int (chunk_size, 65536);
  g_object_get (sink, "run-server", &sink_runs_server, NULL);
  g_object_get (src, "run-server", &src_runs_server, "current-level-bytes",
      &level, NULL);
  fail_unless (!sink_runs_server && !src_runs_server);
  fail_unless_equals_uint64 (level, 0);

  g_object_set (sink, "room", "team", "min-peers", 3, "chunk-size", 16384,
      "filename", "x.bin", NULL);
  g_clear_pointer (&room, g_free);
  g_clear_pointer (&filename, g_free);
  g_object_get (sink, "room", &room, "min-peers", &min_peers, "chunk-size",
      &chunk_size, "filename", &filename, NULL);
  fail_unless_equals_string (room, "team");
  fail_unless_equals_int (min_peers, 3);
  fail_unless_equals_int (chunk_size, 16384);
  fail_unless_equals_string (filename, "x.bin");

  g_clear_pointer (&server, g_free);
  g_object_get (src, "server", &server, "num-files", &num_files, "from",
      &from, NULL);
  fail_unless_equals_string (server, "ws://127.0.0.1:8080/ws");
  fail_unless_equals_int (num_files, 1);
  fail_unless (from == NULL);
  g_object_set (src, "num-files", 0, "from", "alice", NULL);
  g_object_get (src, "num-files", &num_files, "from", &from, NULL);
  fail_unless_equals_int (num_files, 0);
  fail_unless_equals_string (from, "alice");

  gst_object_unref (sink);
  gst_object_unref (src);
}

GST_END_TEST;

/* A start-up failure: the state change fails and the bus says why. */
static void
check_start_error (const gchar *description, const gchar *expect)
{
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);
  g_autofree gchar *text = NULL;

  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  text = wait_error (pipeline, 5 * GST_SECOND);
  fail_unless (strstr (text, expect) != NULL, "'%s' lacks '%s'", text,
      expect);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_no_room)
{
  check_start_error ("fakesrc ! hangoutsink", "No room given");
  check_start_error ("hangoutsrc ! fakesink", "No room given");
}

GST_END_TEST;

GST_START_TEST (test_bad_server)
{
  const gchar *bad[] = { "", "nonsense", "http://127.0.0.1:8080/ws",
    "ws://", "ws:///ws", NULL
  };
  guint i;

  for (i = 0; bad[i] != NULL; i++) {
    g_autofree gchar *sink = g_strdup_printf ("fakesrc ! hangoutsink room=r "
        "server=\"%s\"", bad[i]);
    g_autofree gchar *src = g_strdup_printf ("hangoutsrc room=r "
        "server=\"%s\" ! fakesink", bad[i]);

    check_start_error (sink, "Invalid signalling server URL");
    check_start_error (src, "Invalid signalling server URL");
  }
}

GST_END_TEST;

/* A bad stun-server or turn-server fails the state change itself (not the
 * join, 30 s later), naming the property and what is wrong. */
GST_START_TEST (test_bad_ice_servers)
{
  const gchar *bad[][3] = {
    {"stun-server", "stuns:198.18.0.1", "STUN over TLS (stuns:) is not "
          "supported"},
    {"stun-server", "198.18.0.1:99999", "the port must be a number"},
    {"turn-server", "turn:198.18.0.1:3478", "a TURN server needs "
          "USER:PASSWORD@"},
    {"turn-server", "turn://u:p@198.18.0.1?transport=sctp", "the transport "
          "must be udp or tcp"},
    {"turn-server", "stun:198.18.0.1", "expected a turn: or turns: URL"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *expect = g_strdup_printf ("Invalid \"%s\" property: "
        "server '%s': %s", bad[i][0], bad[i][1], bad[i][2]);
    g_autofree gchar *sink = g_strdup_printf ("fakesrc ! hangoutsink room=r "
        "server=" UNREACHABLE " %s=\"%s\"", bad[i][0], bad[i][1]);
    g_autofree gchar *src = g_strdup_printf ("hangoutsrc room=r server="
        UNREACHABLE " %s=\"%s\" ! fakesink", bad[i][0], bad[i][1]);

    check_start_error (sink, expect);
    check_start_error (src, expect);
  }
}

GST_END_TEST;

/* Runs @description against a server that never answers and checks that
 * join-timeout (1 s) ends it with a clear error, not a hang. */
/* The pipeline @before URL @after, URL a server that never answers. */
static void
check_join_timeout (const gchar *before, const gchar *after)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autofree gchar *url = silent_server_url (&socket);
  g_autofree gchar *description = g_strconcat (before, url, after, NULL);
  GstElement *pipeline = gst_parse_launch (description, &error);
  g_autofree gchar *text = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  text = wait_error (pipeline, 10 * GST_SECOND);
  elapsed = g_get_monotonic_time () - start;
  fail_unless (strstr (text, "Could not join the room within 1 s") != NULL,
      "%s", text);
  fail_unless (elapsed >= G_USEC_PER_SEC * 9 / 10 && elapsed < 5 *
      G_USEC_PER_SEC, "took %" G_GINT64_FORMAT " us", elapsed);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
}

/* The sink waits for members in render(). */
GST_START_TEST (test_join_timeout)
{
  check_join_timeout ("fakesrc num-buffers=2 sizetype=fixed sizemax=1000 ! "
      "hangoutsink room=r join-timeout=1 server=", "");
}

GST_END_TEST;

/* The source waits for files without limit, but not for the room. */
GST_START_TEST (test_src_join_timeout)
{
  check_join_timeout ("hangoutsrc room=r join-timeout=1 server=",
      " ! fakesink");
}

GST_END_TEST;

/* Nothing listens where "server" points: the error comes at once, says
 * so, and names the property. */
GST_START_TEST (test_unreachable_server)
{
  const gchar *descriptions[] = {
    "fakesrc num-buffers=2 sizetype=fixed sizemax=1000 ! hangoutsink room=r "
        "server=" UNREACHABLE,
    "hangoutsrc room=r server=" UNREACHABLE " ! fakesink",
    NULL
  };

  for (guint d = 0; descriptions[d] != NULL; d++) {
    g_autoptr (GError) error = NULL;
    GstElement *pipeline = gst_parse_launch (descriptions[d], &error);
    g_autofree gchar *text = NULL;
    gint64 start = g_get_monotonic_time ();

    fail_unless (pipeline != NULL);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    text = wait_error (pipeline, 5 * GST_SECOND);
    fail_unless (g_get_monotonic_time () - start < G_USEC_PER_SEC,
        "took %" G_GINT64_FORMAT " us", g_get_monotonic_time () - start);
    fail_unless (strstr (text, "Could not join room 'r': cannot connect to "
            UNREACHABLE) != NULL, "%s", text);
    fail_unless (strstr (text, "Connection refused") != NULL, "%s", text);
    fail_unless (strstr (text, "\"server\" property") != NULL, "%s", text);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
}

GST_END_TEST;

/* Up to PLAYING and down again, repeatedly: the sink is blocked waiting for
 * members (join-timeout far away) and the source waiting for files;
 * unlock() must release both at once. */
GST_START_TEST (test_state_changes)
{
  const gchar *descriptions[] = {
    "fakesrc sizetype=fixed sizemax=1000 ! hangoutsink room=r "
        "join-timeout=3600 server=" UNREACHABLE,
    "hangoutsrc room=r server=" UNREACHABLE " ! fakesink",
    NULL
  };
  guint d, i;

  for (d = 0; descriptions[d] != NULL; d++) {
    g_autoptr (GError) error = NULL;
    GstElement *pipeline = gst_parse_launch (descriptions[d], &error);

    fail_unless (pipeline != NULL);
    for (i = 0; i < 5; i++) {
      gint64 start;

      fail_if (gst_element_set_state (pipeline, GST_STATE_READY)
          == GST_STATE_CHANGE_FAILURE);
      fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
          == GST_STATE_CHANGE_FAILURE);
      /* Let the streaming thread reach its wait (or not: either way the
       * way down must be prompt). */
      gst_element_get_state (pipeline, NULL, NULL, 100 * GST_MSECOND);
      start = g_get_monotonic_time ();
      fail_unless_equals_int (gst_element_set_state (pipeline,
              i % 2 ? GST_STATE_READY : GST_STATE_NULL),
          GST_STATE_CHANGE_SUCCESS);
      fail_unless (g_get_monotonic_time () - start < 3 * G_USEC_PER_SEC,
          "stopping took %" G_GINT64_FORMAT " us",
          g_get_monotonic_time () - start);
    }
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
}

GST_END_TEST;

static Suite *
elements_suite (void)
{
  Suite *s = suite_create ("elements");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, load_plugin, NULL);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_no_room);
  tcase_add_test (tc, test_bad_server);
  tcase_add_test (tc, test_bad_ice_servers);
  tcase_add_test (tc, test_join_timeout);
  tcase_add_test (tc, test_src_join_timeout);
  tcase_add_test (tc, test_unreachable_server);
  tcase_add_test (tc, test_state_changes);
  return s;
}

GST_CHECK_MAIN (elements);
