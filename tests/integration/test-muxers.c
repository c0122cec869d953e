/* gst-hangout — what a muxer makes is what receivers get: muxers that seek
 * back to rewrite their headers (wavenc, avimux, mp4mux, qtmux,
 * matroskamux), one that writes its index first (mp4mux faststart=true)
 * and a live one that never seeks (mpegtsmux); with spool=never, a
 * rewrite fails the file rather than reaching anyone damaged. Behind a tee, the sender's
 * pipeline writes the same stream to a local filesink too: each received
 * file must be that file, byte for byte, and GstDiscoverer must read it.
 *
 * hangout-server runs as a process, the pipelines here. Runs in a private
 * network namespace (lo only).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pipelines.h"

#include <string.h>
#include <gst/pbutils/pbutils.h>

#define TRANSFER_TIMEOUT (30 * GST_SECOND)
/* How long a sender that failed stays up before the test stops it. */
#define SETTLE_TIME (1 * GST_SECOND)

#define VIDEO "videotestsrc num-buffers=60 ! video/x-raw,width=320," \
  "height=240,framerate=30/1 ! openh264enc ! h264parse ! "
#define AUDIO "audiotestsrc num-buffers=100 ! "

static gchar *workdir;
static Server *server;

/* @muxing (a source, encoders and a muxer) shared in a room of its own; the
 * received file must equal what a filesink beside the sender wrote, and be
 * a media file with @streams streams. */
static void
share_muxed (const gchar *name, const gchar *muxing, guint streams)
{
  g_autofree gchar *local = g_strdup_printf ("%s/%s.local", workdir, name);
  g_autofree gchar *got = g_strdup_printf ("%s/%s.got", workdir, name);
  g_autofree gchar *send = g_strdup_printf ("%s ! tee name=t "
      "! queue ! hangoutsink room=%s server=%s min-peers=1 "
      "t. ! queue ! filesink location=%s", muxing, name, server->url, local);
  g_autofree gchar *receive = g_strdup_printf ("hangoutsrc room=%s "
      "server=%s num-files=1 ! filesink location=%s", name, server->url, got);
  g_autofree gchar *uri = g_filename_to_uri (got, NULL, NULL);
  g_autofree gchar *want_sum = NULL, *got_sum = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstDiscoverer) discoverer = NULL;
  g_autoptr (GstDiscovererInfo) info = NULL;
  GList *list;
  GstElement *receiver = launch (receive);
  GstElement *sender = launch (send);

  wait_eos (sender, "sender", TRANSFER_TIMEOUT);
  wait_eos (receiver, "receiver", TRANSFER_TIMEOUT);
  gst_element_set_state (sender, GST_STATE_NULL);
  gst_element_set_state (receiver, GST_STATE_NULL);
  gst_object_unref (sender);
  gst_object_unref (receiver);

  want_sum = file_sha256 (local);
  got_sum = file_sha256 (got);
  fail_unless_equals_string (got_sum, want_sum);

  discoverer = gst_discoverer_new (10 * GST_SECOND, &error);
  fail_unless (discoverer != NULL, "%s", error ? error->message : "");
  info = gst_discoverer_discover_uri (discoverer, uri, &error);
  fail_unless (info != NULL && gst_discoverer_info_get_result (info)
      == GST_DISCOVERER_OK, "%s: not readable: %s", name,
      error ? error->message : "");
  list = gst_discoverer_info_get_stream_list (info);
  fail_unless_equals_int (g_list_length (list), streams);
  gst_discoverer_stream_info_list_free (list);
  fail_unless (gst_discoverer_info_get_duration (info) > 0, "%s: no duration",
      name);
}

GST_START_TEST (test_wavenc)
{
  /* The header's sizes, rewritten at offset 0 at the end. */
  share_muxed ("wavenc", AUDIO "wavenc", 1);
}

GST_END_TEST;

GST_START_TEST (test_avimux)
{
  /* Rewrites its header without asking whether downstream can seek. */
  share_muxed ("avimux", VIDEO "avimux", 1);
}

GST_END_TEST;

GST_START_TEST (test_mp4mux)
{
  share_muxed ("mp4mux", VIDEO "mp4mux", 1);
}

GST_END_TEST;

GST_START_TEST (test_mp4mux_faststart)
{
  share_muxed ("mp4mux-faststart", VIDEO "mp4mux faststart=true", 1);
}

GST_END_TEST;

GST_START_TEST (test_qtmux)
{
  share_muxed ("qtmux", VIDEO "qtmux", 1);
}

GST_END_TEST;

GST_START_TEST (test_matroskamux)
{
  /* Seeks back many times: segment size, seek head, cues, duration. */
  share_muxed ("matroskamux", VIDEO "mux. " AUDIO "vorbisenc ! matroskamux "
      "name=mux", 2);
}

GST_END_TEST;

GST_START_TEST (test_mpegtsmux_live)
{
  /* Live: shared as it is made, without a size. */
  share_muxed ("mpegtsmux", "videotestsrc is-live=true num-buffers=60 "
      "! video/x-raw,width=320,height=240,framerate=30/1 ! openh264enc "
      "! h264parse ! mpegtsmux", 1);
}

GST_END_TEST;

/* With spool=never a rewrite cannot reach the members: the sender fails,
 * naming it; the receiver says the sender left (an error when it was
 * writing the file out, a warning when the file still waited for its
 * turn), and never that the file is complete. */
GST_START_TEST (test_rewrite_without_spool)
{
  g_autofree gchar *got = g_strdup_printf ("%s/never.got", workdir);
  g_autofree gchar *send = g_strdup_printf (AUDIO "wavenc ! hangoutsink "
      "room=never server=%s spool=never", server->url);
  g_autofree gchar *receive = g_strdup_printf ("hangoutsrc room=never "
      "server=%s num-files=1 ! filesink location=%s", server->url, got);
  GstElement *receiver = launch (receive);
  GstElement *sender = launch (send);
  g_autoptr (GstBus) sender_bus = gst_element_get_bus (sender);
  g_autoptr (GstBus) receiver_bus = gst_element_get_bus (receiver);
  g_autoptr (GError) error = NULL;
  GstMessage *message = gst_bus_timed_pop_filtered (sender_bus,
      TRANSFER_TIMEOUT, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gboolean stopped = FALSE;
  gint64 deadline;

  fail_unless (message != NULL && GST_MESSAGE_TYPE (message)
      == GST_MESSAGE_ERROR, "the sender did not fail");
  gst_message_parse_error (message, &error, NULL);
  gst_message_unref (message);
  fail_unless (g_str_has_prefix (error->message, "Upstream moves to byte 0 "
          "of this file after "), "%s", error->message);
  g_clear_error (&error);
  /* The sender stays up a moment after its error, as an application
   * would: upstream's EOS may still reach the sink, and must not end the
   * file as if it were whole. Then it stops, and the receiver notices. */
  deadline = g_get_monotonic_time () + SETTLE_TIME / GST_USECOND;
  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();

    if (!stopped && left <= 0) {
      gst_element_set_state (sender, GST_STATE_NULL);
      stopped = TRUE;
    }
    message = gst_bus_timed_pop_filtered (receiver_bus, stopped ?
        TRANSFER_TIMEOUT : (GstClockTime) left * GST_USECOND,
        GST_MESSAGE_WARNING | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    if (message == NULL && stopped)
      break;
    if (message == NULL)
      continue;
    if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT)
      break;
    fail_if (gst_message_has_name (message, "hangout-file-complete"),
        "a rewritten file was reported complete");
    gst_message_unref (message);
  }
  fail_unless (message != NULL, "the receiver did not notice");
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
    gst_message_parse_error (message, &error, NULL);
  else
    gst_message_parse_warning (message, &error, NULL);
  gst_message_unref (message);
  fail_unless (strstr (error->message, "left") != NULL, "%s", error->message);
  gst_element_set_state (receiver, GST_STATE_NULL);
  gst_object_unref (sender);
  gst_object_unref (receiver);
}

GST_END_TEST;

static void
setup (void)
{
  workdir = make_workdir ("muxers");
  server = server_start (NULL);
}

static void
teardown (void)
{
  server_stop (server);
  remove_workdir (g_steal_pointer (&workdir));
}

static Suite *
muxers_suite (void)
{
  Suite *s = suite_create ("muxers");
  TCase *tc = tcase_create ("muxers");

  tcase_add_unchecked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_wavenc);
  tcase_add_test (tc, test_avimux);
  tcase_add_test (tc, test_mp4mux);
  tcase_add_test (tc, test_mp4mux_faststart);
  tcase_add_test (tc, test_qtmux);
  tcase_add_test (tc, test_matroskamux);
  tcase_add_test (tc, test_mpegtsmux_live);
  tcase_add_test (tc, test_rewrite_without_spool);
  return s;
}

GST_CHECK_MAIN (muxers);
