/* gst-hangout — hangoutsink and hangoutsrc in one process against the real
 * hangout-server (so LeakSanitizer sees the whole data path): a file to two
 * receivers; the sender vanishing mid-file; a receiver stopped mid-file.
 * The multi-process test with gst-launch-1.0 is test-elements.sh.
 *
 * HANGOUT_SERVER (server binary) and HANGOUT_PLUGIN_PATH (compiled in) come
 * from meson. Run in a private network namespace (tests/netns-run.sh).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>

#define DEADLINE (30 * GST_SECOND)

static GSubprocess *server;
static gchar *server_url;

/* The server must not outlive a test that fails (CK_FORK=no may skip the
 * teardown). Runs in the child between fork and exec. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
setup (void)
{
  const gchar *path = g_getenv ("HANGOUT_SERVER");
  const gchar *argv[] = { path, "--port", "0", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  GstPlugin *plugin;

  plugin = gst_plugin_load_file (HANGOUT_PLUGIN_PATH, &error);
  fail_unless (plugin != NULL, "%s", error ? error->message : "");
  gst_object_unref (plugin);
  fail_unless (path != NULL, "HANGOUT_SERVER is not set");
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL,
      NULL);
  server = g_subprocess_launcher_spawnv (launcher, argv, &error);
  fail_unless (server != NULL, "%s", error ? error->message : "");
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
  /* Printed once it listens; bounded by the test's timeout. */
  server_url = g_data_input_stream_read_line (out, NULL, NULL, &error);
  fail_unless (server_url != NULL, "hangout-server printed no URL");
}

static void
teardown (void)
{
  g_subprocess_send_signal (server, SIGTERM);
  g_subprocess_wait (server, NULL, NULL);
  g_clear_object (&server);
  g_clear_pointer (&server_url, g_free);
}

/* ---- a receiving pipeline ---- */

typedef struct {
  GstElement *pipeline;
  GstBus *bus;
  gchar *path;
} Receiver;

static Receiver *
receiver_start (const gchar *room, const gchar *name, const gchar *dir)
{
  Receiver *r = g_new0 (Receiver, 1);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *description = NULL;

  r->path = g_build_filename (dir, name, NULL);
  description = g_strdup_printf ("hangoutsrc room=%s server=%s "
      "display-name=%s ! filesink location=%s", room, server_url, name,
      r->path);
  r->pipeline = gst_parse_launch (description, &error);
  fail_unless (r->pipeline != NULL);
  r->bus = gst_element_get_bus (r->pipeline);
  fail_if (gst_element_set_state (r->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
  return r;
}

static void
receiver_free (Receiver *r)
{
  gst_element_set_state (r->pipeline, GST_STATE_NULL);
  gst_object_unref (r->bus);
  gst_object_unref (r->pipeline);
  g_unlink (r->path);
  g_free (r->path);
  g_free (r);
}

/* Pops messages until one of @types (and, for element messages, named
 * @name) arrives; fails at the deadline. Element messages named
 * "hangout-file-complete" are counted in @completions. */
static GstMessage *
wait_message (GstBus *bus, GstMessageType types, const gchar *name,
    guint *completions)
{
  GstClockTime end = gst_util_get_timestamp () + DEADLINE;

  for (;;) {
    GstClockTime now = gst_util_get_timestamp ();
    GstMessage *message;
    const GstStructure *s;

    fail_unless (now < end, "no %s message in time", name ? name : "");
    message = gst_bus_timed_pop_filtered (bus, end - now, types
        | GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    fail_unless (message != NULL, "no %s message in time", name ? name : "");
    s = gst_message_get_structure (message);
    if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT && completions
        && gst_structure_has_name (s, "hangout-file-complete"))
      (*completions)++;
    if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR
        && !(types & GST_MESSAGE_ERROR)) {
      g_autoptr (GError) error = NULL;

      gst_message_parse_error (message, &error, NULL);
      fail ("unexpected error: %s", error->message);
    }
    if ((GST_MESSAGE_TYPE (message) & types)
        && (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT
            || (name && gst_structure_has_name (s, name))))
      return message;
    gst_message_unref (message);
  }
}

/* ---- the sending side: a harness, so the test feeds it by hand ---- */

static GstHarness *
sender_start (const gchar *room, guint min_peers, guint join_timeout,
    GstBus **bus)
{
  GstElement *sink = gst_element_factory_make ("hangoutsink", NULL);
  GstHarness *h;

  /* Set up before the harness starts it. */
  *bus = gst_bus_new ();
  gst_element_set_bus (sink, *bus);
  g_object_set (sink, "room", room, "server", server_url,
      "display-name", "sender", "min-peers", min_peers, "filename",
      "test.bin", "join-timeout", join_timeout, "ack-timeout", 20, NULL);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  return h;
}

/* Queued messages hold the sink, which holds the bus: drop them first. */
static void
sender_stop (GstHarness *h, GstBus *bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

static GstBuffer *
random_buffer (gsize size, GChecksum *checksum)
{
  guint8 *data = g_malloc (size);
  gsize i;

  for (i = 0; i < size; i += 4) {
    guint32 v = g_random_int ();

    memcpy (data + i, &v, MIN (4, size - i));
  }
  if (checksum)
    g_checksum_update (checksum, data, size);
  return gst_buffer_new_wrapped (data, size);
}

static gchar *
file_sha256 (const gchar *path)
{
  g_autofree gchar *contents = NULL;
  gsize len;

  fail_unless (g_file_get_contents (path, &contents, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guint8 *) contents,
      len);
}

GST_START_TEST (test_two_receivers)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  Receiver *r[2];
  GstHarness *h;
  GstBus *bus;
  guint i, acks = 0, completions;

  r[0] = receiver_start ("two", "r1", dir);
  r[1] = receiver_start ("two", "r2", dir);
  h = sender_start ("two", 2, 20, &bus);
  /* 5 MiB and a bit, in odd pieces: blocks until both are connected. */
  for (i = 0; i < 50; i++)
    fail_unless_equals_int (gst_harness_push (h, random_buffer (104857 + i,
                checksum)), GST_FLOW_OK);
  /* Returns once both have acknowledged. */
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  while (acks < 2) {
    GstMessage *m = wait_message (bus, GST_MESSAGE_ELEMENT, "hangout-ack",
        NULL);
    gboolean ok = FALSE;

    gst_structure_get_boolean (gst_message_get_structure (m), "ok", &ok);
    fail_unless (ok);
    gst_message_unref (m);
    acks++;
  }
  for (i = 0; i < 2; i++) {
    g_autofree gchar *digest = NULL;

    completions = 0;
    gst_message_unref (wait_message (r[i]->bus, GST_MESSAGE_EOS, NULL,
            &completions));
    fail_unless_equals_int (completions, 1);
    digest = file_sha256 (r[i]->path);
    fail_unless_equals_string (digest, g_checksum_get_string (checksum));
    receiver_free (r[i]);
  }
  sender_stop (h, bus);
  g_checksum_free (checksum);
  g_rmdir (dir);
}

GST_END_TEST;

/* The sender goes away mid-file: the receiver errors, nothing completes. */
GST_START_TEST (test_sender_vanishes)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  Receiver *r = receiver_start ("vanish", "r1", dir);
  GstHarness *h;
  GstBus *bus;
  GstMessage *m;
  guint completions = 0;

  h = sender_start ("vanish", 1, 20, &bus);
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20, NULL)),
      GST_FLOW_OK);
  gst_message_unref (wait_message (r->bus, GST_MESSAGE_ELEMENT,
          "hangout-file-started", &completions));
  sender_stop (h, bus);

  m = wait_message (r->bus, GST_MESSAGE_ERROR, NULL, &completions);
  gst_message_parse_error (m, &error, NULL);
  fail_unless (error->domain == GST_RESOURCE_ERROR);
  fail_unless (strstr (error->message, "left") != NULL, "%s",
      error->message);
  fail_unless_equals_int (completions, 0);
  gst_message_unref (m);
  receiver_free (r);
  g_rmdir (dir);
}

GST_END_TEST;

/* A receiver stops mid-file: the sender warns naming it, the other
 * receiver gets the whole file. */
GST_START_TEST (test_receiver_leaves)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *digest = NULL;
  Receiver *r1 = receiver_start ("leave", "r1", dir);
  Receiver *r2 = receiver_start ("leave", "r2", dir);
  GstHarness *h;
  GstBus *bus;
  GstMessage *m;
  guint completions = 0;

  h = sender_start ("leave", 2, 20, &bus);
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20,
              checksum)), GST_FLOW_OK);
  gst_message_unref (wait_message (r2->bus, GST_MESSAGE_ELEMENT,
          "hangout-file-started", NULL));
  receiver_free (r2);
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20,
              checksum)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  m = wait_message (bus, GST_MESSAGE_WARNING, NULL, NULL);
  gst_message_parse_warning (m, &error, NULL);
  fail_unless (strstr (error->message, "r2") != NULL
      && strstr (error->message, "left") != NULL, "%s", error->message);
  gst_message_unref (m);

  gst_message_unref (wait_message (r1->bus, GST_MESSAGE_EOS, NULL,
          &completions));
  fail_unless_equals_int (completions, 1);
  digest = file_sha256 (r1->path);
  fail_unless_equals_string (digest, g_checksum_get_string (checksum));
  receiver_free (r1);
  sender_stop (h, bus);
  g_checksum_free (checksum);
  g_rmdir (dir);
}

GST_END_TEST;

/* Fewer members than min-peers: an error once join-timeout has passed. */
GST_START_TEST (test_join_timeout)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  Receiver *r = receiver_start ("few", "r1", dir);
  GstHarness *h;
  GstBus *bus;
  GstMessage *m;

  h = sender_start ("few", 2, 1, &bus);
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1000, NULL)),
      GST_FLOW_ERROR);
  m = wait_message (bus, GST_MESSAGE_ERROR, NULL, NULL);
  gst_message_parse_error (m, &error, NULL);
  fail_unless (strstr (error->message, "Only 1 of the 2 members") != NULL,
      "%s", error->message);
  gst_message_unref (m);
  sender_stop (h, bus);
  receiver_free (r);
  g_rmdir (dir);
}

GST_END_TEST;

static Suite *
elements_suite (void)
{
  Suite *s = suite_create ("elements-integration");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_two_receivers);
  tcase_add_test (tc, test_sender_vanishes);
  tcase_add_test (tc, test_receiver_leaves);
  tcase_add_test (tc, test_join_timeout);
  return s;
}

GST_CHECK_MAIN (elements);
