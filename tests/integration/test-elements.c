/* gst-hangout — hangoutsink and hangoutsrc in one process against the real
 * hangout-server (so LeakSanitizer sees the whole data path): a file to two
 * receivers; the sender vanishing mid-file; a receiver stopped mid-file;
 * two senders at once to one receiver; the sender of a waiting file
 * vanishing; a blocked downstream (bounded queue); a sink that runs the
 * server itself (run-server).
 * The multi-process test with gst-launch-1.0 is test-elements.sh.
 *
 * HANGOUT_SERVER (server binary) and HANGOUT_PLUGIN_PATH (compiled in) come
 * from meson. Run in a private network namespace (tests/netns-run.sh).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <hangout/room.h>
#include <hangout/transfer.h>
#include <gio/gio.h>
#include <libsoup/soup.h>
#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>

/* gst_debug_add_log_function() and _remove_ abandon the previous list on
 * purpose (gst_debug_log() reads it without a lock);
 * test_waiting_sender_vanishes adds one. */
const char *
__lsan_default_suppressions (void)
{
  return "leak:gst_debug_add_log_function\n"
      "leak:gst_debug_remove_log_function\n";
}
#endif

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

/* @props: more properties of hangoutsrc, in gst-launch syntax. */
static Receiver *
receiver_start_at (const gchar *url, const gchar *room, const gchar *name,
    const gchar *dir, const gchar *props)
{
  Receiver *r = g_new0 (Receiver, 1);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *description = NULL;

  r->path = g_build_filename (dir, name, NULL);
  description = g_strdup_printf ("hangoutsrc name=src room=%s server=%s "
      "display-name=%s %s ! filesink location=%s", room, url, name, props,
      r->path);
  r->pipeline = gst_parse_launch (description, &error);
  fail_unless (r->pipeline != NULL);
  r->bus = gst_element_get_bus (r->pipeline);
  fail_if (gst_element_set_state (r->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
  return r;
}

static Receiver *
receiver_start (const gchar *room, const gchar *name, const gchar *dir)
{
  return receiver_start_at (server_url, room, name, dir, "");
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
sender_start_full (const gchar *room, const gchar *name,
    const gchar *filename, guint min_peers, guint join_timeout,
    guint ack_timeout, const gchar *secret, GstBus **bus)
{
  GstElement *sink = gst_element_factory_make ("hangoutsink", NULL);
  GstHarness *h;

  /* Set up before the harness starts it. The harness is a stream of an
   * unknown size that is not live: shared as it is fed (spool=never), not
   * held until its end. */
  *bus = gst_bus_new ();
  gst_element_set_bus (sink, *bus);
  gst_util_set_object_arg (G_OBJECT (sink), "spool", "never");
  g_object_set (sink, "room", room, "server", server_url,
      "display-name", name, "min-peers", min_peers, "filename",
      filename, "join-timeout", join_timeout, "ack-timeout", ack_timeout,
      "secret", secret, NULL);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  return h;
}

static GstHarness *
sender_start (const gchar *room, guint min_peers, guint join_timeout,
    GstBus **bus)
{
  return sender_start_full (room, "sender", "test.bin", min_peers,
      join_timeout, 20, NULL, bus);
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

/* Waits for @r's EOS: exactly one file completed, and its bytes on disk
 * have the SHA-256 in @checksum. */
static void
expect_whole_file (Receiver *r, GChecksum *checksum)
{
  g_autofree gchar *digest = NULL;
  guint completions = 0;

  gst_message_unref (wait_message (r->bus, GST_MESSAGE_EOS, NULL,
          &completions));
  fail_unless_equals_int (completions, 1);
  digest = file_sha256 (r->path);
  fail_unless_equals_string (digest, g_checksum_get_string (checksum));
}

/* An application's synchronous handler that takes its time over each ack:
 * the sink must not end the file before the ack messages are out. */
static GstBusSyncReply
slow_with_acks (GstBus *bus, GstMessage *message, gpointer data)
{
  const GstStructure *s = gst_message_get_structure (message);

  if (s != NULL && gst_structure_has_name (s, "hangout-ack"))
    g_usleep (200 * 1000);
  return GST_BUS_PASS;
}

GST_START_TEST (test_two_receivers)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  Receiver *r[2];
  GstHarness *h;
  GstBus *bus;
  guint i, acks = 0;

  r[0] = receiver_start ("two", "r1", dir);
  r[1] = receiver_start ("two", "r2", dir);
  h = sender_start ("two", 2, 20, &bus);
  gst_bus_set_sync_handler (bus, slow_with_acks, NULL, NULL);
  /* 5 MiB and a bit, in odd pieces: blocks until both are connected. */
  for (i = 0; i < 50; i++)
    fail_unless_equals_int (gst_harness_push (h, random_buffer (104857 + i,
                checksum)), GST_FLOW_OK);
  /* Returns once both have acknowledged. */
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  /* Each member's message says how its connection runs: both ends on
   * loopback, both our stack, so 16 KiB SCTP packets. */
  for (i = 0; i < 2; i++) {
    GstMessage *m = wait_message (bus, GST_MESSAGE_ELEMENT,
        "hangout-member-joined", NULL);
    GstStructure *transport = NULL;
    guint packet = 0;

    fail_unless (gst_structure_get (gst_message_get_structure (m),
            "transport", GST_TYPE_STRUCTURE, &transport, NULL));
    fail_unless_equals_string (gst_structure_get_string (transport,
            "local-type"), "host");
    fail_unless_equals_string (gst_structure_get_string (transport,
            "remote-type"), "host");
    fail_unless (g_str_has_prefix (gst_structure_get_string (transport,
                "remote-address"), "127.0.0.1:"));
    fail_unless_equals_string (gst_structure_get_string (transport,
            "transport"), "udp");
    fail_unless (gst_structure_get_uint (transport, "sctp-packet-size",
            &packet));
    fail_unless (packet > 16000, "%u-byte packets", packet);
    gst_structure_free (transport);
    gst_message_unref (m);
  }
  /* Both acks were posted before EOS returned: applications that stop at
   * EOS see them. */
  while (acks < 2) {
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
    gboolean ok = FALSE;

    fail_unless (m != NULL, "only %u hangout-ack before EOS", acks);
    if (!gst_structure_has_name (gst_message_get_structure (m),
            "hangout-ack")) {
      gst_message_unref (m);
      continue;
    }
    gst_structure_get_boolean (gst_message_get_structure (m), "ok", &ok);
    fail_unless (ok);
    gst_message_unref (m);
    acks++;
  }
  for (i = 0; i < 2; i++) {
    expect_whole_file (r[i], checksum);
    receiver_free (r[i]);
  }
  sender_stop (h, bus);
  g_checksum_free (checksum);
  g_rmdir (dir);
}

GST_END_TEST;

/* Pushes 20 MiB and EOS into the sender, from a thread of its own: each
 * push returns only once the sender's window has room. */
typedef struct {
  GstHarness *h;
  GChecksum *checksum;
  gint pushed;                  /* MiB, atomic */
} Pusher;

static gpointer
push_file (gpointer data)
{
  Pusher *p = data;
  guint i;

  for (i = 0; i < 20; i++) {
    fail_unless_equals_int (gst_harness_push (p->h, random_buffer (1 << 20,
                p->checksum)), GST_FLOW_OK);
    g_atomic_int_inc (&p->pushed);
  }
  fail_unless (gst_harness_push_event (p->h, gst_event_new_eos ()));
  return NULL;
}

static guint64
current_level (GstElement *src)
{
  guint64 level;

  g_object_get (src, "current-level-bytes", &level, NULL);
  return level;
}

/* Downstream of the receiver stops taking data: what waits in hangoutsrc
 * stays bounded (its queue: 8 MiB a file in version 1, 1 MiB in version 2,
 * what the sink offers it, with the window's 8 MiB below it) and the
 * sender is held back instead; once downstream goes on, the file arrives
 * whole. */
GST_START_TEST (test_slow_receiver)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  Pusher pusher = { NULL, g_checksum_new (G_CHECKSUM_SHA256), 0 };
  Receiver *r = receiver_start ("slow", "r1", dir);
  GstElement *src = gst_bin_get_by_name (GST_BIN (r->pipeline), "src");
  GstPad *pad = gst_element_get_static_pad (src, "src");
  const guint64 bound = 8 * 1024 * 1024 + 65536;  /* one message over */
  GThread *thread;
  gint64 end;
  gulong probe;
  GstBus *bus;

  probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BLOCK
      | GST_PAD_PROBE_TYPE_BUFFER, NULL, NULL, NULL);
  pusher.h = sender_start ("slow", 1, 20, &bus);
  thread = g_thread_new ("pusher", push_file, &pusher);

  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (current_level (src) < 512 * 1024) {
    fail_unless (g_get_monotonic_time () < end, "only %" G_GUINT64_FORMAT
        " bytes queued", current_level (src));
    g_usleep (10000);
  }
  /* Held there: for half a second nothing more piles up and the sender
   * cannot finish. */
  end = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
  while (g_get_monotonic_time () < end) {
    fail_unless (current_level (src) <= bound, "%" G_GUINT64_FORMAT
        " bytes queued", current_level (src));
    g_usleep (10000);
  }
  fail_unless (g_atomic_int_get (&pusher.pushed) < 20, "the sender sent "
      "everything into a receiver that takes nothing");
  GST_INFO ("downstream blocked: %" G_GUINT64_FORMAT " bytes queued, %d MiB "
      "pushed into the sender", current_level (src),
      g_atomic_int_get (&pusher.pushed));

  gst_pad_remove_probe (pad, probe);
  g_thread_join (thread);
  expect_whole_file (r, pusher.checksum);
  gst_object_unref (pad);
  gst_object_unref (src);
  receiver_free (r);
  sender_stop (pusher.h, bus);
  g_checksum_free (pusher.checksum);
  g_rmdir (dir);
}

GST_END_TEST;

/* GET @url; its body as a string. */
static gchar *
http_get (const gchar *url)
{
  g_autoptr (SoupSession) session = soup_session_new_with_options ("timeout",
      10, NULL);
  g_autoptr (SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read (session, message,
      NULL, &error);

  fail_unless (body != NULL, "GET %s: %s", url, error ? error->message : "");
  fail_unless_equals_int (soup_message_get_status (message), 200);
  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

/* A sink that runs the signalling server and the web client itself
 * (run-server): one pipeline opens a room. A member joins it there and
 * gets the file; a browser gets the page. The server goes with the
 * pipeline. */
GST_START_TEST (test_run_server)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  GstElement *sink = gst_element_factory_make ("hangoutsink", NULL);
  GstBus *bus = gst_bus_new ();
  g_autofree gchar *url = NULL, *web_url = NULL, *page = NULL;
  guint i;
  GstHarness *h;
  GstMessage *m;
  Receiver *r;

  gst_element_set_bus (sink, bus);
  /* Port 0: a free one, told in the "hangout-server" message. */
  g_object_set (sink, "room", "own", "server", "ws://127.0.0.1:0/ws",
      "run-server", TRUE, "display-name", "host", "filename", "own.bin",
      NULL);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  m = wait_message (bus, GST_MESSAGE_ELEMENT, "hangout-server", NULL);
  url = g_strdup (gst_structure_get_string (gst_message_get_structure (m),
          "url"));
  web_url = g_strdup (gst_structure_get_string (gst_message_get_structure
          (m), "web-url"));
  gst_message_unref (m);
  fail_unless (g_str_has_prefix (url, "ws://127.0.0.1:")
      && !g_str_has_suffix (url, ":0/ws"), "%s", url);
  page = http_get (web_url);
  fail_unless (strstr (page, "<title>Hangout</title>") != NULL);

  r = receiver_start_at (url, "own", "r1", dir, "");
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20,
                checksum)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  expect_whole_file (r, checksum);
  receiver_free (r);
  sender_stop (h, bus);

  /* Gone with the pipeline: the port is closed. */
  {
    g_autoptr (SoupSession) session = soup_session_new ();
    g_autoptr (SoupMessage) message = soup_message_new ("GET", web_url);
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) body = soup_session_send_and_read (session, message,
        NULL, &error);

    fail_unless (body == NULL && g_error_matches (error, G_IO_ERROR,
            G_IO_ERROR_CONNECTION_REFUSED), "%s", error ? error->message :
        "the server still answers");
  }
  g_checksum_free (checksum);
  g_rmdir (dir);
}

GST_END_TEST;

/* run-server where it cannot run: a clear error, no hang. */
GST_START_TEST (test_run_server_errors)
{
  const struct {
    const gchar *server, *expect;
  } cases[] = {
    /* The test's own hangout-server has that port. */
    { NULL, "Could not run the signalling server (run-server) at ws://" },
    { "wss://127.0.0.1:0/ws", "run-server needs a ws:// server URL" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *description = g_strdup_printf ("fakesrc ! hangoutsink "
        "room=r run-server=true server=%s", cases[i].server ? cases[i].server
        : server_url);
    g_autoptr (GError) error = NULL;
    GstElement *pipeline = gst_parse_launch (description, &error);
    GstBus *bus = gst_element_get_bus (pipeline);
    GstMessage *m;

    fail_unless_equals_int (gst_element_set_state (pipeline,
            GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    m = wait_message (bus, GST_MESSAGE_ERROR, NULL, NULL);
    gst_message_parse_error (m, &error, NULL);
    fail_unless (error->domain == GST_RESOURCE_ERROR);
    fail_unless (strstr (error->message, cases[i].expect) != NULL, "%s",
        error->message);
    gst_message_unref (m);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipeline);
  }
}

GST_END_TEST;

/* The sender goes away mid-file: the receiver errors, nothing completes. */
/* Behind a muxer the size is not known in advance (matroskamux answers a
 * duration query with an estimate from the bitrate, 3,456,000 bytes for
 * the few KB it writes): the file is held until its end and announced with
 * the size it has then, never the estimate. */
GST_START_TEST (test_muxed_stream)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  Receiver *r = receiver_start ("mux", "r1", dir);
  g_autofree gchar *description = g_strdup_printf ("videotestsrc "
      "num-buffers=30 ! video/x-raw,width=320,height=240 ! vp8enc ! "
      "matroskamux ! hangoutsink room=mux server=%s", server_url);
  GstElement *sender = gst_parse_launch (description, &error);
  GstBus *bus = gst_element_get_bus (sender);
  g_autofree gchar *contents = NULL;
  const GstStructure *s;
  GstMessage *m;
  gint64 announced = 0, size = 0;
  guint completions = 0;
  gsize len;

  fail_unless (sender != NULL, "%s", error ? error->message : "");
  fail_if (gst_element_set_state (sender, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
  m = wait_message (r->bus, GST_MESSAGE_ELEMENT, "hangout-file-started",
      &completions);
  fail_unless (gst_structure_get_int64 (gst_message_get_structure (m),
          "size", &announced));
  gst_message_unref (m);
  m = wait_message (r->bus, GST_MESSAGE_ELEMENT, "hangout-file-complete",
      NULL);
  s = gst_message_get_structure (m);
  fail_unless (gst_structure_get_int64 (s, "size", &size));
  fail_unless_equals_int64 (announced, size);
  gst_message_unref (m);
  gst_message_unref (wait_message (bus, GST_MESSAGE_EOS, NULL, NULL));
  gst_message_unref (wait_message (r->bus, GST_MESSAGE_EOS, NULL, NULL));
  fail_unless (g_file_get_contents (r->path, &contents, &len, NULL));
  fail_unless_equals_int64 ((gint64) len, size);
  /* A Matroska file: the EBML magic. */
  fail_unless (len > 4 && memcmp (contents, "\x1a\x45\xdf\xa3", 4) == 0);
  gst_element_set_state (sender, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (sender);
  receiver_free (r);
  g_rmdir (dir);
}

GST_END_TEST;

/* Runs @sender (a pipeline; "SERVER" in it stands for the server's URL)
 * into a receiver that takes @n files: the names and digests it completes
 * must be @names and those of the files in @dir of the same name. */
static void
expect_files (const gchar *room, const gchar *sender, const gchar *dir,
    const gchar *const *names, guint n)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *props = g_strdup_printf ("num-files=%u", n);
  Receiver *r = receiver_start_at (server_url, room, "r1", dir, props);
  g_auto (GStrv) pieces = g_strsplit (sender, "SERVER", -1);
  g_autofree gchar *description = g_strjoinv (server_url, pieces);
  GstElement *pipeline = gst_parse_launch (description, &error);
  GstBus *bus = gst_element_get_bus (pipeline);

  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
  for (guint i = 0; i < n; i++) {
    GstMessage *m = wait_message (r->bus, GST_MESSAGE_ELEMENT,
        "hangout-file-complete", NULL);
    const GstStructure *s = gst_message_get_structure (m);
    g_autofree gchar *path = g_build_filename (dir, names[i], NULL);
    g_autofree gchar *want = file_sha256 (path);

    fail_unless_equals_string (gst_structure_get_string (s, "name"),
        names[i]);
    fail_unless_equals_string (gst_structure_get_string (s, "sha256"), want);
    gst_message_unref (m);
  }
  gst_message_unref (wait_message (bus, GST_MESSAGE_EOS, NULL, NULL));
  gst_message_unref (wait_message (r->bus, GST_MESSAGE_EOS, NULL, NULL));
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  receiver_free (r);
}

static void
write_random_file (const gchar *dir, const gchar *name, gsize size)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  GstBuffer *buffer = random_buffer (size, NULL);
  GstMapInfo map;

  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  fail_unless (g_file_set_contents (path, (const gchar *) map.data, map.size,
          NULL));
  gst_buffer_unmap (buffer, &map);
  gst_buffer_unref (buffer);
}

/* Several files in one stream share as several files: multifilesrc's
 * buffers (next-file=buffer, numbered by its %d), and concat's streams
 * (each new stream-start, named after the first with -N). */
GST_START_TEST (test_several_files)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  const gchar *parts[] = { "part0.bin", "part1.bin", "part2.bin" };
  const gchar *joined[] = { "a.bin", "a-1.bin" };
  g_autofree gchar *multi = NULL, *concat = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    write_random_file (dir, parts[i], 100000 + 777 * i);
  multi = g_strdup_printf ("multifilesrc location=%s/part%%d.bin "
      "stop-index=2 ! hangoutsink room=multi next-file=buffer server=SERVER",
      dir);
  expect_files ("multi", multi, dir, parts, 3);

  write_random_file (dir, "a.bin", 300000);
  write_random_file (dir, "a-1.bin", 200001);
  concat = g_strdup_printf ("concat name=c ! hangoutsink room=concat "
      "filename=a.bin server=SERVER  filesrc location=%s/a.bin ! c.  "
      "filesrc location=%s/a-1.bin ! c.", dir, dir);
  expect_files ("concat", concat, dir, joined, 2);
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++) {
    g_autofree gchar *path = g_build_filename (dir, parts[i], NULL);
    g_unlink (path);
  }
  for (guint i = 0; i < G_N_ELEMENTS (joined); i++) {
    g_autofree gchar *path = g_build_filename (dir, joined[i], NULL);
    g_unlink (path);
  }
  g_rmdir (dir);
}

GST_END_TEST;

/* Waits for @r's warning that its output is partial; fails on anything
 * else that ends the stream. */
static void
expect_partial_warning (Receiver *r)
{
  g_autoptr (GError) error = NULL;
  GstMessage *m = gst_bus_timed_pop_filtered (r->bus, 5 * GST_SECOND,
      GST_MESSAGE_WARNING | GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  fail_unless (m != NULL && GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING,
      "no warning");
  gst_message_parse_warning (m, &error, NULL);
  fail_unless (g_str_has_prefix (error->message, "The output is partial"),
      "%s", error->message);
  gst_message_unref (m);
}

/* A receiver ended mid-file, by EOS (gst-launch-1.0 -e on Ctrl-C) or by
 * stopping it, says that what it wrote is partial. */
GST_START_TEST (test_interrupted_receiver)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  GstHarness *h;
  GstBus *bus;

  for (guint how = 0; how < 2; how++) {
    Receiver *r = receiver_start ("cut", "r1", dir);

    h = sender_start ("cut", 1, 20, &bus);
    fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20,
                NULL)), GST_FLOW_OK);
    gst_message_unref (wait_message (r->bus, GST_MESSAGE_ELEMENT,
            "hangout-file-started", NULL));
    /* As gst-launch-1.0 does, once the pipeline plays: EOS to a pipeline
     * still prerolling waits for the preroll, which waits for its state
     * lock, which send_event holds. */
    fail_unless_equals_int (gst_element_get_state (r->pipeline, NULL, NULL,
            5 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    if (how == 0)
      fail_unless (gst_element_send_event (r->pipeline, gst_event_new_eos ()));
    else
      /* READY: stop() runs; the bus still holds what it posted. */
      gst_element_set_state (r->pipeline, GST_STATE_READY);
    expect_partial_warning (r);
    receiver_free (r);
    sender_stop (h, bus);
  }
  g_rmdir (dir);
}

GST_END_TEST;

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

/* A file starting while the application changes the source's state: the
 * streaming thread must not need the state lock (it would deadlock with a
 * state change that waits for it to stop). The test holds that lock while
 * the file starts; bytes must still reach downstream. */
static GstPadProbeReturn
count_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_file_starts_under_state_lock)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  Receiver *r = receiver_start ("statelock", "r1", dir);
  GstElement *src = gst_bin_get_by_name (GST_BIN (r->pipeline), "src");
  GstPad *pad = gst_element_get_static_pad (src, "src");
  gint arrived = 0, seen;
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GstHarness *h;
  GstBus *bus;

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &arrived,
      NULL);
  h = sender_start ("statelock", 1, 20, &bus);
  GST_STATE_LOCK (src);
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20, NULL)),
      GST_FLOW_OK);
  while (g_atomic_int_get (&arrived) == 0 && g_get_monotonic_time () < end)
    g_usleep (10 * 1000);
  seen = g_atomic_int_get (&arrived);
  GST_STATE_UNLOCK (src);
  fail_unless (seen > 0, "no data while the state lock was held");
  gst_object_unref (pad);
  gst_object_unref (src);
  receiver_free (r);
  sender_stop (h, bus);
  g_rmdir (dir);
}

GST_END_TEST;

/* ---- a member that sends whatever it likes ----
 *
 * A HangoutRoom of the test's own: it joins the room like any member and
 * sends raw transfer messages (docs/protocol.md §2) to the first member it
 * connects to. */

typedef struct {
  HangoutRoom *room;
  GMutex lock;
  GCond cond;
  gchar *peer;
} RawMember;

static void
on_raw_connected (HangoutRoom *room, const gchar *id, RawMember *m)
{
  g_mutex_lock (&m->lock);
  if (m->peer == NULL)
    m->peer = g_strdup (id);
  g_cond_broadcast (&m->cond);
  g_mutex_unlock (&m->lock);
}

/* Joins @room after its one other member and waits for the connection. */
static RawMember *
raw_member_start (const gchar *room)
{
  RawMember *m = g_new0 (RawMember, 1);
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_mutex_init (&m->lock);
  g_cond_init (&m->cond);
  m->room = hangout_room_new (room, "rogue", server_url);
  g_signal_connect (m->room, "peer-connected", G_CALLBACK (on_raw_connected),
      m);
  fail_unless (hangout_room_start (m->room, NULL));
  g_mutex_lock (&m->lock);
  while (m->peer == NULL)
    fail_unless (g_cond_wait_until (&m->cond, &m->lock, end),
        "the raw member did not connect");
  g_mutex_unlock (&m->lock);
  return m;
}

static void
raw_send_text (RawMember *m, const gchar *text)
{
  g_autoptr (GError) error = NULL;

  fail_unless (hangout_room_send_string (m->room, m->peer, text, &error),
      "%s", error ? error->message : "");
}

static void
raw_send_data (RawMember *m, const gchar *id, guint64 offset, gsize len)
{
  g_autofree guint8 *payload = g_malloc0 (len);
  g_autoptr (GBytes) data = hangout_transfer_build_data (id, offset, payload,
      len);
  g_autoptr (GError) error = NULL;

  fail_unless (hangout_room_send (m->room, m->peer, data, &error), "%s",
      error ? error->message : "");
}

static void
raw_member_free (RawMember *m)
{
  hangout_room_stop (m->room);
  g_object_unref (m->room);
  g_free (m->peer);
  g_mutex_clear (&m->lock);
  g_cond_clear (&m->cond);
  g_free (m);
}

#define ROGUE_ID "0123456789abcdef0123456789abcdef"

/* An offer never followed by data does not take the only place of a
 * default hangoutsrc (num-files=1): the file another member shares
 * arrives, and the stream ends. */
GST_START_TEST (test_offer_without_data)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  g_autofree gchar *offer = hangout_transfer_build_offer (ROGUE_ID,
      "rogue.bin", 1000, "application/octet-stream", 65536);
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  Receiver *r = receiver_start ("stall", "r1", dir);
  RawMember *rogue = raw_member_start ("stall");
  GstHarness *h;
  GstBus *bus;

  raw_send_text (rogue, offer);
  h = sender_start_full ("stall", "sender", "test.bin", 2, 20, 1, NULL,
      &bus);
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20,
              checksum)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  expect_whole_file (r, checksum);
  receiver_free (r);
  sender_stop (h, bus);
  raw_member_free (rogue);
  g_checksum_free (checksum);
  g_rmdir (dir);
}

GST_END_TEST;

/* A member's file is being output when it turns out broken (SHA-256
 * mismatch) while another member's good file waits (its bytes held in the
 * source): the source flushes the broken bytes away (filesink truncates)
 * and outputs the good file instead of failing. */
GST_START_TEST (test_broken_first_file)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  g_autofree gchar *offer = hangout_transfer_build_offer (ROGUE_ID,
      "rogue.bin", 200000, "application/octet-stream", 65536);
  g_autofree gchar *end = hangout_transfer_build_end (ROGUE_ID, 200000,
      "0000000000000000000000000000000000000000000000000000000000000000");
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  Receiver *r = receiver_start ("broken", "r1", dir);
  GstElement *src = gst_bin_get_by_name (GST_BIN (r->pipeline), "src");
  RawMember *rogue = raw_member_start ("broken");
  guint completions = 0;
  gint64 deadline;
  GstHarness *h;
  GstBus *bus;
  GstMessage *m;

  raw_send_text (rogue, offer);
  for (guint64 offset = 0; offset < 200000; offset += 50000)
    raw_send_data (rogue, ROGUE_ID, offset, 50000);
  m = wait_message (r->bus, GST_MESSAGE_ELEMENT, "hangout-file-started",
      &completions);
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (m), "name"), "rogue.bin");
  gst_message_unref (m);

  /* The good file arrives and waits behind the broken one: in version 2
   * it is not whole until it is output (the window holds its sender). */
  h = sender_start_full ("broken", "sender", "test.bin", 2, 20, 10, NULL,
      &bus);
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20,
              checksum)), GST_FLOW_OK);
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (current_level (src) < 512 * 1024) {
    fail_unless (g_get_monotonic_time () < deadline, "only %"
        G_GUINT64_FORMAT " bytes of the good file wait", current_level (src));
    g_usleep (10000);
  }

  raw_send_text (rogue, end);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  gst_message_unref (wait_message (bus, GST_MESSAGE_ELEMENT, "hangout-ack",
          NULL));
  expect_whole_file (r, checksum);
  gst_object_unref (src);
  receiver_free (r);
  sender_stop (h, bus);
  raw_member_free (rogue);
  g_checksum_free (checksum);
  g_rmdir (dir);
}

GST_END_TEST;

/* A receiver stops mid-file: the sender warns naming it, the other
 * receiver gets the whole file. */
/* 1 MiB into the sender, @leaving leaves (and is freed) once its file has
 * started, then 1 MiB more; @checksum, if any, takes every byte. */
static void
send_while_leaving (GstHarness *h, Receiver *leaving, GChecksum *checksum)
{
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20,
              checksum)), GST_FLOW_OK);
  gst_message_unref (wait_message (leaving->bus, GST_MESSAGE_ELEMENT,
          "hangout-file-started", NULL));
  receiver_free (leaving);
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20,
              checksum)), GST_FLOW_OK);
}

static void
expect_members (GstMessage *summary, const gchar *field, guint n)
{
  const GValue *members = gst_structure_get_value (gst_message_get_structure
      (summary), field);

  fail_unless (members != NULL && GST_VALUE_HOLDS_ARRAY (members), "%s",
      field);
  fail_unless_equals_int (gst_value_array_get_size (members), n);
}

GST_START_TEST (test_receiver_leaves)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GError) error = NULL;
  Receiver *r1 = receiver_start ("leave", "r1", dir);
  Receiver *r2 = receiver_start ("leave", "r2", dir);
  GstHarness *h;
  GstBus *bus;
  GstMessage *m;

  h = sender_start ("leave", 2, 20, &bus);
  send_while_leaving (h, r2, checksum);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  m = wait_message (bus, GST_MESSAGE_WARNING, NULL, NULL);
  gst_message_parse_warning (m, &error, NULL);
  fail_unless (strstr (error->message, "r2") != NULL
      && strstr (error->message, "left") != NULL, "%s", error->message);
  gst_message_unref (m);
  /* Before EOS returned: who has the file and who does not. */
  m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
  while (m != NULL && !gst_structure_has_name (gst_message_get_structure (m),
          "hangout-summary")) {
    gst_message_unref (m);
    m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
  }
  fail_unless (m != NULL, "no hangout-summary before EOS");
  expect_members (m, "complete", 1);
  expect_members (m, "left", 1);
  expect_members (m, "failed", 0);
  expect_members (m, "no-answer", 0);
  gst_message_unref (m);

  expect_whole_file (r1, checksum);
  receiver_free (r1);
  sender_stop (h, bus);
  g_checksum_free (checksum);
  g_rmdir (dir);
}

GST_END_TEST;

/* Fewer members than min-peers: an error once join-timeout has passed. */
/* A receiver at @url joining @room: the error it posts, within 2 s (not
 * after its 30 s join-timeout); its message contains @what. */
static void
expect_join_error (const gchar *url, const gchar *room, const gchar *what)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;
  gint64 start = g_get_monotonic_time ();
  Receiver *r = receiver_start_at (url, room, "r1", dir, "");
  GstMessage *m = gst_bus_timed_pop_filtered (r->bus, 5 * GST_SECOND,
      GST_MESSAGE_ERROR);
  gint64 ms = (g_get_monotonic_time () - start) / 1000;

  fail_unless (m != NULL, "no error for %s", url);
  gst_message_parse_error (m, &error, &debug);
  GST_INFO ("%s, room '%s': after %" G_GINT64_FORMAT " ms: %s (%s)", url,
      room, ms, error->message, debug);
  fail_unless (ms < 2000, "the error took %" G_GINT64_FORMAT " ms", ms);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ), "%s", error->message);
  fail_unless (g_str_has_prefix (error->message, "Could not join room"),
      "%s", error->message);
  fail_unless (strstr (error->message, what) != NULL, "%s", error->message);
  fail_unless (strstr (debug, "property") != NULL, "%s", debug);
  gst_message_unref (m);
  receiver_free (r);
  g_rmdir (dir);
}

/* Joins that cannot work say so at once, with the cause. */
GST_START_TEST (test_join_errors)
{
  g_autofree gchar *wrong_path = g_strdup (server_url);
  gchar *ws = strstr (wrong_path, "/ws");

  /* The server refuses the room name. */
  expect_join_error (server_url, "no*such*room", "refused");
  /* Nothing listens there. */
  expect_join_error ("ws://127.0.0.1:9/ws", "closed", "cannot connect");
  /* A server, but not its WebSocket. */
  fail_unless (ws != NULL);
  strcpy (ws, "/x");
  expect_join_error (wrong_path, "path", "cannot connect");
}

GST_END_TEST;

/* The only member leaves mid-file: nobody has it, and the sink says so
 * with an error (min-acks=1) instead of ending as if it had shared it. */
GST_START_TEST (test_nobody_has_the_file)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  Receiver *r = receiver_start ("nobody", "r1", dir);
  GstHarness *h;
  GstBus *bus;
  GstMessage *m;

  h = sender_start ("nobody", 1, 20, &bus);
  send_while_leaving (h, r, NULL);
  fail_if (gst_harness_push_event (h, gst_event_new_eos ()));
  m = wait_message (bus, GST_MESSAGE_ERROR, NULL, NULL);
  gst_message_parse_error (m, &error, NULL);
  fail_unless_equals_string (error->message,
      "Only 0 members have the whole file, 1 needed (min-acks)");
  gst_message_unref (m);
  sender_stop (h, bus);
  g_rmdir (dir);
}

GST_END_TEST;

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

/* ---- what a source outputs, split into files ---- */

typedef struct {
  gchar *name;                  /* the tag event's title */
  GChecksum *checksum;
  guint64 size;
  gboolean discont;             /* its first buffer was DISCONT */
} OutputFile;

typedef struct {
  GMutex lock;
  GPtrArray *files;             /* OutputFile */
  gboolean tagged;              /* a tag event came, no buffer yet */
  gboolean stray;               /* bytes outside a file, or a DISCONT inside */
} Output;

static void
output_file_free (OutputFile *f)
{
  g_free (f->name);
  g_checksum_free (f->checksum);
  g_free (f);
}

/* Each file starts with a tag event (its name), then a DISCONT buffer. */
static GstPadProbeReturn
output_probe (GstPad *pad, GstPadProbeInfo *info, Output *out)
{
  g_mutex_lock (&out->lock);
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
    OutputFile *f = out->files->len ?
        g_ptr_array_index (out->files, out->files->len - 1) : NULL;
    GstMapInfo map;

    if (f == NULL || GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT)
        != out->tagged)
      out->stray = TRUE;
    if (f != NULL && out->tagged)
      f->discont = GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT);
    out->tagged = FALSE;
    if (f != NULL && gst_buffer_map (buffer, &map, GST_MAP_READ)) {
      g_checksum_update (f->checksum, map.data, map.size);
      f->size += map.size;
      gst_buffer_unmap (buffer, &map);
    }
  } else {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    GstTagList *tags;
    gchar *title = NULL;

    if (GST_EVENT_TYPE (event) == GST_EVENT_TAG) {
      gst_event_parse_tag (event, &tags);
      if (gst_tag_list_get_string (tags, GST_TAG_TITLE, &title)) {
        OutputFile *f = g_new0 (OutputFile, 1);

        f->name = title;
        f->checksum = g_checksum_new (G_CHECKSUM_SHA256);
        g_ptr_array_add (out->files, f);
        out->tagged = TRUE;
      }
    }
  }
  g_mutex_unlock (&out->lock);
  return GST_PAD_PROBE_OK;
}

/* Two senders share a file each at the same time; the receiver accepts
 * both and outputs them one after the other, each intact. */
GST_START_TEST (test_two_senders)
{
  const gchar *names[2] = { "a.bin", "b.bin" };
  GChecksum *checksum[2];
  GstHarness *h[2];
  GstBus *bus[2];
  GstElement *pipeline, *src;
  GstBus *rbus;
  GstPad *pad;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *description = NULL;
  Output out = { 0 };
  guint i, j, completions = 0;

  g_mutex_init (&out.lock);
  out.files = g_ptr_array_new_with_free_func ((GDestroyNotify)
      output_file_free);
  description = g_strdup_printf ("hangoutsrc name=src room=both server=%s "
      "display-name=r1 num-files=2 ! fakesink", server_url);
  pipeline = gst_parse_launch (description, &error);
  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER
      | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      (GstPadProbeCallback) output_probe, &out, NULL);
  gst_object_unref (pad);
  gst_object_unref (src);
  rbus = gst_element_get_bus (pipeline);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);

  /* Each sender also sees the other as a member (min-peers 2: the receiver
   * and it). A sink ignores the other's offer and so never acknowledges
   * it: ack-timeout 1 bounds that wait. */
  for (i = 0; i < 2; i++) {
    checksum[i] = g_checksum_new (G_CHECKSUM_SHA256);
    h[i] = sender_start_full ("both", i ? "s2" : "s1", names[i], 2, 20, 1,
        NULL, &bus[i]);
  }
  /* Interleaved: both files are in flight at once. */
  for (j = 0; j < 20; j++)
    for (i = 0; i < 2; i++)
      fail_unless_equals_int (gst_harness_push (h[i], random_buffer (65536
                  + 1000 * i + j, checksum[i])), GST_FLOW_OK);
  for (i = 0; i < 2; i++)
    fail_unless (gst_harness_push_event (h[i], gst_event_new_eos ()));

  gst_message_unref (wait_message (rbus, GST_MESSAGE_EOS, NULL,
          &completions));
  fail_unless_equals_int (completions, 2);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  g_mutex_lock (&out.lock);
  fail_if (out.stray);
  fail_unless_equals_int (out.files->len, 2);
  for (j = 0; j < 2; j++) {
    OutputFile *f = g_ptr_array_index (out.files, j);

    fail_unless (f->discont);
    for (i = 0; i < 2; i++)
      if (g_strcmp0 (f->name, names[i]) == 0)
        break;
    fail_unless (i < 2, "unexpected file %s", f->name);
    fail_unless_equals_string (g_checksum_get_string (f->checksum),
        g_checksum_get_string (checksum[i]));
  }
  fail_if (g_strcmp0 (((OutputFile *) g_ptr_array_index (out.files,
                  0))->name, ((OutputFile *) g_ptr_array_index (out.files,
                  1))->name) == 0);
  g_mutex_unlock (&out.lock);

  for (i = 0; i < 2; i++) {
    sender_stop (h[i], bus[i]);
    g_checksum_free (checksum[i]);
  }
  gst_object_unref (rbus);
  gst_object_unref (pipeline);
  g_ptr_array_unref (out.files);
  g_mutex_clear (&out.lock);
}

GST_END_TEST;

/* The share layer under the source logs (INFO) when an accepted file has
 * to wait: the only
 * outside sign that it took the offer. */
typedef struct {
  GMutex lock;
  GCond cond;
  gboolean seen;
} LogWatch;

static void
log_watch (GstDebugCategory *category, GstDebugLevel level,
    const gchar *file, const gchar *function, gint line, GObject *object,
    GstDebugMessage *message, gpointer data)
{
  LogWatch *watch = data;
  const gchar *text;

  /* The share layer under hangoutsrc queues the files. */
  if (g_strcmp0 (gst_debug_category_get_name (category), "hangout-share")
      != 0)
    return;
  text = gst_debug_message_get (message);
  if (text == NULL || strstr (text, "b.bin") == NULL
      || strstr (text, "waits for") == NULL)
    return;
  g_mutex_lock (&watch->lock);
  watch->seen = TRUE;
  g_cond_broadcast (&watch->cond);
  g_mutex_unlock (&watch->lock);
}

/* The sender of a file waiting for its turn leaves: that file is dropped
 * with a warning naming it, the file being output completes intact. */
GST_START_TEST (test_waiting_sender_vanishes)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "out", NULL);
  g_autofree gchar *description = NULL;
  g_autofree gchar *digest = NULL;
  g_autoptr (GError) error = NULL;
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  LogWatch watch = { 0 };
  GstElement *pipeline;
  GstHarness *h[2];
  GstBus *bus[2], *rbus;
  GstMessage *m;
  gint64 end;
  guint i;

  g_mutex_init (&watch.lock);
  g_cond_init (&watch.cond);
  gst_debug_add_log_function (log_watch, &watch, NULL);
  gst_debug_set_threshold_for_name ("hangout-share", GST_LEVEL_INFO);
  description = g_strdup_printf ("hangoutsrc room=drop server=%s "
      "display-name=r1 num-files=2 ! filesink location=%s", server_url,
      path);
  pipeline = gst_parse_launch (description, &error);
  fail_unless (pipeline != NULL);
  rbus = gst_element_get_bus (pipeline);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
  h[0] = sender_start_full ("drop", "s1", "a.bin", 2, 20, 1, NULL, &bus[0]);
  h[1] = sender_start_full ("drop", "s2", "b.bin", 2, 20, 1, NULL, &bus[1]);

  fail_unless_equals_int (gst_harness_push (h[0], random_buffer (100000,
              checksum)), GST_FLOW_OK);
  gst_message_unref (wait_message (rbus, GST_MESSAGE_ELEMENT,
          "hangout-file-started", NULL));
  fail_unless_equals_int (gst_harness_push (h[1], random_buffer (100000,
              NULL)), GST_FLOW_OK);
  end = g_get_monotonic_time () + DEADLINE / GST_USECOND;
  g_mutex_lock (&watch.lock);
  while (!watch.seen)
    if (!g_cond_wait_until (&watch.cond, &watch.lock, end))
      break;
  g_mutex_unlock (&watch.lock);
  fail_unless (watch.seen, "b.bin was not accepted in time");
  sender_stop (h[1], bus[1]);

  m = wait_message (rbus, GST_MESSAGE_WARNING, NULL, NULL);
  gst_message_parse_warning (m, &error, NULL);
  fail_unless (strstr (error->message, "b.bin") != NULL
      && strstr (error->message, "s2") != NULL, "%s", error->message);
  gst_message_unref (m);

  for (i = 0; i < 10; i++)
    fail_unless_equals_int (gst_harness_push (h[0], random_buffer (100000,
                checksum)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h[0], gst_event_new_eos ()));
  gst_message_unref (wait_message (rbus, GST_MESSAGE_ELEMENT,
          "hangout-file-complete", NULL));
  gst_element_set_state (pipeline, GST_STATE_NULL);
  digest = file_sha256 (path);
  fail_unless_equals_string (digest, g_checksum_get_string (checksum));

  sender_stop (h[0], bus[0]);
  gst_debug_remove_log_function (log_watch);
  gst_debug_set_threshold_for_name ("hangout-share", GST_LEVEL_NONE);
  gst_object_unref (rbus);
  gst_object_unref (pipeline);
  g_checksum_free (checksum);
  g_mutex_clear (&watch.lock);
  g_cond_clear (&watch.cond);
  g_unlink (path);
  g_rmdir (dir);
}

GST_END_TEST;

/* The sas of the first "hangout-member-joined" on @bus. */
static gchar *
wait_joined_sas (GstBus *bus)
{
  GstMessage *m = wait_message (bus, GST_MESSAGE_ELEMENT,
      "hangout-member-joined", NULL);
  gchar *sas = g_strdup (gst_structure_get_string
      (gst_message_get_structure (m), "sas"));

  gst_message_unref (m);
  fail_unless (sas != NULL && strlen (sas) == 6, "sas '%s'", sas);
  return sas;
}

/* The same secret on both sides: a file goes through, and both post the
 * pair's short authentication string, the same. */
GST_START_TEST (test_secret)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  g_autofree gchar *sas_sink = NULL, *sas_src = NULL;
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  GstMessage *m;
  gboolean ok = FALSE;
  Receiver *r;
  GstHarness *h;
  GstBus *bus;

  r = receiver_start_at (server_url, "secret", "r1", dir, "secret=s3cret");
  h = sender_start_full ("secret", "sender", "test.bin", 1, 20, 20, "s3cret",
      &bus);
  fail_unless_equals_int (gst_harness_push (h, random_buffer (1 << 20,
              checksum)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  sas_sink = wait_joined_sas (bus);
  m = wait_message (bus, GST_MESSAGE_ELEMENT, "hangout-ack", NULL);
  gst_structure_get_boolean (gst_message_get_structure (m), "ok", &ok);
  fail_unless (ok);
  gst_message_unref (m);
  sas_src = wait_joined_sas (r->bus);
  fail_unless_equals_string (sas_sink, sas_src);
  expect_whole_file (r, checksum);
  receiver_free (r);
  sender_stop (h, bus);
  g_checksum_free (checksum);
  g_rmdir (dir);
}

GST_END_TEST;

/* "hangout-member-refused" with the reason, then a warning naming the
 * member; nobody was reported joined before. */
static void
expect_refused (GstBus *bus, const gchar *who)
{
  GstMessage *m;
  const GstStructure *s;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;

  for (;;) {
    m = gst_bus_timed_pop_filtered (bus, DEADLINE, GST_MESSAGE_ELEMENT);
    fail_unless (m != NULL, "%s not refused in time", who);
    s = gst_message_get_structure (m);
    fail_if (gst_structure_has_name (s, "hangout-member-joined"),
        "%s joined", who);
    if (gst_structure_has_name (s, "hangout-member-refused"))
      break;
    gst_message_unref (m);
  }

  fail_unless_equals_string (gst_structure_get_string (s, "reason"),
      HANGOUT_ROOM_REFUSED_WRONG_PROOF);
  fail_unless_equals_string (gst_structure_get_string (s, "name"), who);
  gst_message_unref (m);
  m = wait_message (bus, GST_MESSAGE_WARNING, NULL, NULL);
  gst_message_parse_warning (m, &error, &debug);
  fail_unless (strstr (error->message, who) != NULL
      && strstr (error->message, HANGOUT_ROOM_REFUSED_WRONG_PROOF) != NULL,
      "warning: %s", error->message);
  gst_message_unref (m);
}

/* Another secret: both elements refuse the other member and say so; the
 * sink never counts it as connected (min-peers). */
GST_START_TEST (test_wrong_secret)
{
  g_autofree gchar *dir = g_dir_make_tmp ("hangout-XXXXXX", NULL);
  Receiver *r;
  GstHarness *h;
  GstBus *bus;

  r = receiver_start_at (server_url, "secret", "r1", dir, "secret=s3cret");
  h = sender_start_full ("secret", "sender", "test.bin", 1, 20, 20, "another",
      &bus);
  expect_refused (bus, "r1");
  expect_refused (r->bus, "sender");
  receiver_free (r);
  sender_stop (h, bus);
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
  tcase_add_test (tc, test_slow_receiver);
  tcase_add_test (tc, test_run_server);
  tcase_add_test (tc, test_run_server_errors);
  tcase_add_test (tc, test_sender_vanishes);
  tcase_add_test (tc, test_offer_without_data);
  tcase_add_test (tc, test_broken_first_file);
  tcase_add_test (tc, test_receiver_leaves);
  tcase_add_test (tc, test_file_starts_under_state_lock);
  tcase_add_test (tc, test_join_timeout);
  tcase_add_test (tc, test_join_errors);
  tcase_add_test (tc, test_nobody_has_the_file);
  tcase_add_test (tc, test_muxed_stream);
  tcase_add_test (tc, test_several_files);
  tcase_add_test (tc, test_interrupted_receiver);
  tcase_add_test (tc, test_two_senders);
  tcase_add_test (tc, test_waiting_sender_vanishes);
  tcase_add_test (tc, test_secret);
  tcase_add_test (tc, test_wrong_secret);
  return s;
}

GST_CHECK_MAIN (elements);
