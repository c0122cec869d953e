/* gst-hangout example: joins a room and saves every file the members share
 * into one directory, each under its sender's name for it, made safe
 * (examples/safe-name.c): a hostile name cannot escape the directory or
 * replace a file there.
 *
 *   GST_PLUGIN_PATH=build/gst/elements build/examples/hangout-receive \
 *       --room team --server ws://HOST:PORT/ws --dir ~/Downloads
 *
 * The pipeline is "hangoutsrc num-files=N skip-failed=true ! fakesink"; the
 * bytes are taken from hangoutsrc's pad by a probe. The element's
 * "hangout-file-started", "-complete" and "-failed" messages are posted
 * from the streaming thread, so a synchronous bus handler sees them in
 * order with the buffers: started, the file's bytes, complete or failed.
 * Every file is written to a hidden temporary file first and only takes
 * its name once complete (its SHA-256 verified by the element), so a
 * partial file never looks like a received one. A file that fails costs
 * only itself: with skip-failed the element goes on with the next file,
 * and the files waiting behind it (some already acknowledged to their
 * senders) are kept. Names and errors are printed with their control and
 * bidirectional characters escaped: members choose them.
 *
 * Each member that connects is printed with the pair's short
 * authentication string: the sender sees the same six digits unless
 * someone (the signalling server) sits between them. With --secret (the
 * element's "secret": never sent to the server) members that do not know
 * it are refused, and printed as such.
 *
 * A wss:// server with a private or self-signed certificate is trusted
 * with --ca-file (the element's "ssl-ca-file": a PEM file of its
 * authority's certificate, or of its own).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "safe-name.h"
#include <hangout/transfer.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <gst/gst.h>

typedef struct {
  GMainLoop *loop;
  GstElement *pipeline;
  gchar *dir;
  int status;

  /* The file being received. Touched by the streaming thread only while
   * the pipeline runs, and by the main thread only once it is stopped
   * (gst_element_set_state (NULL) joins the streaming thread). */
  FILE *out;
  gchar *tmp_path;
  gchar *name;                  /* as the sender chose it */
  gchar *shown;                 /* for the terminal */
  gchar *sender;                /* display name, for the terminal */
  guint64 written;
  gboolean write_failed;
} Receiver;

static void
post_error (Receiver *r, const gchar *what, int err)
{
  GError *error = g_error_new (G_FILE_ERROR, g_file_error_from_errno (err),
      "%s: %s", what, g_strerror (err));

  gst_element_post_message (r->pipeline,
      gst_message_new_error (GST_OBJECT (r->pipeline), error, NULL));
  g_error_free (error);
}

/* Forgets the file being received, deleting what has arrived of it. */
static void
discard_partial (Receiver *r)
{
  if (r->out != NULL) {
    fclose (r->out);
    r->out = NULL;
  }
  if (r->tmp_path != NULL) {
    g_unlink (r->tmp_path);
    g_clear_pointer (&r->tmp_path, g_free);
  }
  g_clear_pointer (&r->name, g_free);
  g_clear_pointer (&r->shown, g_free);
  g_clear_pointer (&r->sender, g_free);
  r->written = 0;
  r->write_failed = FALSE;
}

static void
file_started (Receiver *r, const GstStructure *s)
{
  int fd;

  /* The element finishes or fails a file before starting the next one;
   * anything left over is not worth keeping. */
  discard_partial (r);
  r->name = g_strdup (gst_structure_get_string (s, "name"));
  r->shown = hangout_transfer_printable (r->name != NULL ? r->name : "");
  r->sender = hangout_transfer_printable (gst_structure_get_string (s,
          "sender-name"));
  /* A leading dot: no sanitised name can collide with it (they never
   * start with one). */
  r->tmp_path = g_build_filename (r->dir, ".hangout-XXXXXX.part", NULL);
  fd = g_mkstemp_full (r->tmp_path, O_WRONLY, 0666);
  if (fd < 0 || (r->out = fdopen (fd, "wb")) == NULL) {
    int err = errno;

    if (fd >= 0)
      close (fd);
    g_clear_pointer (&r->tmp_path, g_free);
    r->write_failed = TRUE;
    post_error (r, "Could not create a file in the directory", err);
    return;
  }
  g_print ("receiving '%s' from %s\n", r->shown, r->sender);
}

static void
file_complete (Receiver *r, const GstStructure *s)
{
  gint64 size = -1;
  GError *error = NULL;
  gchar *path;

  if (r->out == NULL || r->write_failed)
    return;
  gst_structure_get_int64 (s, "size", &size);
  if (fclose (r->out) != 0) {
    r->out = NULL;
    post_error (r, "Could not write the file", errno);
    discard_partial (r);
    return;
  }
  r->out = NULL;
  /* The element verified the SHA-256; this only guards our own writes. */
  if (size >= 0 && (guint64) size != r->written) {
    g_printerr ("'%s': wrote %" G_GUINT64_FORMAT " bytes of %" G_GINT64_FORMAT
        "; not saved\n", r->shown, r->written, size);
    discard_partial (r);
    return;
  }
  path = hangout_publish_file (r->dir, r->tmp_path, r->name, &error);
  if (path == NULL) {
    gst_element_post_message (r->pipeline,
        gst_message_new_error (GST_OBJECT (r->pipeline), error, NULL));
    g_error_free (error);
  } else {
    g_print ("saved '%s' from %s as %s (%" G_GUINT64_FORMAT " bytes)\n",
        r->shown, r->sender, path, r->written);
    g_free (path);
    g_clear_pointer (&r->tmp_path, g_free);
  }
  discard_partial (r);
}

static void
file_failed (Receiver *r, const GstStructure *s)
{
  g_autofree gchar *why = hangout_transfer_printable (gst_structure_get_string
      (s, "error"));

  if (r->shown != NULL)
    g_printerr ("'%s' from %s failed: %s; not saved\n", r->shown, r->sender,
        why);
  discard_partial (r);
}

/* Streaming thread: in order with the buffers the probe sees. */
static GstBusSyncReply
on_sync_message (GstBus *bus, GstMessage *message, Receiver *r)
{
  const GstStructure *s;

  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT)
    return GST_BUS_PASS;
  s = gst_message_get_structure (message);
  if (gst_structure_has_name (s, "hangout-file-started"))
    file_started (r, s);
  else if (gst_structure_has_name (s, "hangout-file-complete"))
    file_complete (r, s);
  else if (gst_structure_has_name (s, "hangout-file-failed"))
    file_failed (r, s);
  return GST_BUS_PASS;
}

/* Streaming thread: the bytes of the current file. */
static GstPadProbeReturn
on_buffer (GstPad *pad, GstPadProbeInfo *info, Receiver *r)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;

  if (r->out == NULL || r->write_failed)
    return GST_PAD_PROBE_OK;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  if (fwrite (map.data, 1, map.size, r->out) != map.size) {
    r->write_failed = TRUE;
    post_error (r, "Could not write the file", errno);
  } else {
    r->written += map.size;
  }
  gst_buffer_unmap (buffer, &map);
  return GST_PAD_PROBE_OK;
}

/* Main thread. */
static gboolean
on_message (GstBus *bus, GstMessage *message, Receiver *r)
{
  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ERROR:{
      GError *error = NULL;
      g_autofree gchar *text = NULL;

      /* A file that fails is skipped by the element (skip-failed); what
       * remains (no server, a full disk) would only fail again. */
      gst_message_parse_error (message, &error, NULL);
      text = hangout_transfer_printable (error->message);
      g_printerr ("error: %s\n", text);
      g_error_free (error);
      r->status = 1;
      g_main_loop_quit (r->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (r->loop);
      break;
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (message);
      const gchar *raw = gst_structure_get_string (s, "name");
      g_autofree gchar *name = hangout_transfer_printable (raw ? raw : "");

      if (gst_structure_has_name (s, "hangout-member-joined")) {
        g_print ("%s (%s) connected; SAS %s: it sees the same unless "
            "someone is in the middle\n", name,
            gst_structure_get_string (s, "id"),
            gst_structure_get_string (s, "sas"));
      } else if (gst_structure_has_name (s, "hangout-member-refused")) {
        g_printerr ("refused %s (%s): %s\n", name,
            gst_structure_get_string (s, "id"),
            gst_structure_get_string (s, "reason"));
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  Receiver *r = user_data;

  r->status = 130;
  g_main_loop_quit (r->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *room = NULL, *server = NULL, *name = NULL;
  g_autofree gchar *dir = NULL, *secret = NULL, *ca_file = NULL;
  gint count = 0;
  GOptionEntry entries[] = {
    {"room", 'r', 0, G_OPTION_ARG_STRING, &room, "Room to join (required)",
        "NAME"},
    {"server", 's', 0, G_OPTION_ARG_STRING, &server,
        "Signalling server URL (default: the element's)", "URL"},
    {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
        "PEM file of the certificates to trust for a wss:// server (its "
        "authority's, or its own) instead of the system's", "FILE"},
    {"name", 'n', 0, G_OPTION_ARG_STRING, &name,
        "Display name in the room (default: the host name)", "NAME"},
    {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir,
        "Directory to save files in (default: the current one)", "DIR"},
    {"secret", 0, 0, G_OPTION_ARG_STRING, &secret,
        "Room secret the members share (never sent to the server); members "
        "without it are refused", "SECRET"},
    {"count", 'c', 0, G_OPTION_ARG_INT, &count,
        "Exit after this many files (default 0: never)", "N"},
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *context;
  GError *error = NULL;
  Receiver r = { 0 };
  GstElement *src, *sink;
  GstPad *pad;
  GstBus *bus;

  context = g_option_context_new ("- save the files shared in a room");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    g_error_free (error);
    g_option_context_free (context);
    return 2;
  }
  g_option_context_free (context);
  if (room == NULL || count < 0) {
    g_printerr ("usage: %s --room NAME [--server URL] [--ca-file FILE] "
        "[--name NAME] [--dir DIR] [--secret SECRET] [--count N]\n",
        g_get_prgname ());
    return 2;
  }
  r.dir = dir != NULL ? g_strdup (dir) : g_get_current_dir ();
  if (!g_file_test (r.dir, G_FILE_TEST_IS_DIR)) {
    g_printerr ("%s is not a directory\n", r.dir);
    g_free (r.dir);
    return 2;
  }

  src = gst_element_factory_make ("hangoutsrc", NULL);
  sink = gst_element_factory_make ("fakesink", NULL);
  if (src == NULL || sink == NULL) {
    g_printerr ("hangoutsrc not found: set GST_PLUGIN_PATH to the directory "
        "of the gst-hangout plugin\n");
    if (src != NULL)
      gst_object_unref (gst_object_ref_sink (src));
    if (sink != NULL)
      gst_object_unref (gst_object_ref_sink (sink));
    g_free (r.dir);
    return 1;
  }
  g_object_set (src, "room", room, "num-files", (guint) count,
      "skip-failed", TRUE, NULL);
  if (server != NULL)
    g_object_set (src, "server", server, NULL);
  if (ca_file != NULL)
    g_object_set (src, "ssl-ca-file", ca_file, NULL);
  if (name != NULL)
    g_object_set (src, "display-name", name, NULL);
  if (secret != NULL)
    g_object_set (src, "secret", secret, NULL);
  /* The probe writes; the sink only has to take buffers as fast as they
   * come. */
  g_object_set (sink, "sync", FALSE, NULL);
  r.pipeline = gst_pipeline_new ("receive");
  gst_bin_add_many (GST_BIN (r.pipeline), src, sink, NULL);
  gst_element_link (src, sink);
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
      (GstPadProbeCallback) on_buffer, &r, NULL);
  gst_object_unref (pad);

  r.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (r.pipeline);
  gst_bus_set_sync_handler (bus, (GstBusSyncHandler) on_sync_message, &r,
      NULL);
  gst_bus_add_watch (bus, (GstBusFunc) on_message, &r);
  g_unix_signal_add (SIGINT, on_signal, &r);
  g_unix_signal_add (SIGTERM, on_signal, &r);

  g_print ("joining room %s; saving files in %s\n", room, r.dir);
  if (gst_element_set_state (r.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    r.status = 1;
  else
    g_main_loop_run (r.loop);

  gst_element_set_state (r.pipeline, GST_STATE_NULL);
  discard_partial (&r);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (r.pipeline);
  g_main_loop_unref (r.loop);
  g_free (r.dir);
  return r.status;
}
