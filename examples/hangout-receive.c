/* gst-hangout example: joins a room and saves every file the members share
 * into one directory, each under its sender's name for it, made safe
 * (examples/safe-name.c): a hostile name cannot escape the directory or
 * replace a file there.
 *
 *   build/examples/hangout-receive --room team --server ws://HOST:PORT/ws \
 *       --dir ~/Downloads
 *
 * No pipeline: a HangoutRoom and the share layer's HangoutShareReceiver
 * (include/hangout/share.h), which hands out the files one at a time as
 * events, in order: started, the file's bytes, complete or failed. A
 * thread of ours takes them and writes; the main loop waits for a signal.
 * Every file is written to a hidden temporary file first and only takes
 * its name once complete (its SHA-256 verified by the share layer), so a
 * partial file never looks like a received one. A file that fails costs
 * only itself: the next one follows, and the files waiting behind it
 * (some already acknowledged to their senders) are kept. Names and errors
 * are printed with their control and bidirectional characters escaped:
 * members choose them.
 *
 * Each member that connects is printed with the pair's short
 * authentication string: the sender sees the same six digits unless
 * someone (the signalling server) sits between them. With --secret (the
 * room's "secret": never sent to the server) members that do not know it
 * are refused, and printed as such.
 *
 * A wss:// server with a private or self-signed certificate is trusted
 * with --ca-file (the element's "ssl-ca-file": a PEM file of its
 * authority's certificate, or of its own).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "safe-name.h"
#include <hangout/share.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

/* As the elements' "server" and "join-timeout" defaults. */
#define DEFAULT_SERVER "ws://127.0.0.1:8080/ws"
#define JOIN_TIMEOUT_S 30

typedef struct {
  GMainLoop *loop;
  HangoutRoom *room;
  HangoutShareReceiver *share;
  GCancellable *cancellable;    /* cancelled to end the receiving thread */
  gchar *dir;
  guint count;
  gint status;                  /* atomic */

  /* The file being received: the receiving thread's only. */
  FILE *out;
  gchar *tmp_path;
  gchar *name;                  /* as the sender chose it */
  gchar *shown;                 /* for the terminal */
  gchar *sender;                /* display name, for the terminal */
  guint64 written;
} Receiver;

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* Ends the program with @status (the first reason counts). Any thread;
 * also before the main loop runs, which an idle source waits for. */
static void
finish (Receiver *r, int status)
{
  g_atomic_int_compare_and_exchange (&r->status, 0, status);
  g_cancellable_cancel (r->cancellable);
  g_idle_add (quit_loop, r->loop);
}

static void
fail (Receiver *r, const gchar *what, const gchar *why)
{
  g_autofree gchar *text = hangout_transfer_printable (why);

  g_printerr ("error: %s: %s\n", what, text);
  finish (r, 1);
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
}

static gboolean
file_started (Receiver *r, const HangoutTransferEvent *event)
{
  g_autofree gchar *sender = hangout_room_dup_member_name (r->room,
      event->member);
  int fd;

  /* The share layer finishes or fails a file before starting the next
   * one; anything left over is not worth keeping. */
  discard_partial (r);
  r->name = g_strdup (event->name);
  r->shown = hangout_transfer_printable (r->name);
  r->sender = hangout_transfer_printable (sender ? sender : event->member);
  /* A leading dot: no sanitised name can collide with it (they never
   * start with one). */
  r->tmp_path = g_build_filename (r->dir, ".hangout-XXXXXX.part", NULL);
  fd = g_mkstemp_full (r->tmp_path, O_WRONLY, 0666);
  if (fd < 0 || (r->out = fdopen (fd, "wb")) == NULL) {
    int err = errno;

    if (fd >= 0)
      close (fd);
    g_clear_pointer (&r->tmp_path, g_free);
    fail (r, "Could not create a file in the directory", g_strerror (err));
    return FALSE;
  }
  g_print ("receiving '%s' from %s\n", r->shown, r->sender);
  return TRUE;
}

static gboolean
file_data (Receiver *r, GBytes *payload)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (payload, &size);

  if (fwrite (data, 1, size, r->out) != size) {
    fail (r, "Could not write the file", g_strerror (errno));
    return FALSE;
  }
  r->written += size;
  return TRUE;
}

static gboolean
file_complete (Receiver *r, const HangoutTransferEvent *event)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;

  if (fclose (r->out) != 0) {
    r->out = NULL;
    fail (r, "Could not write the file", g_strerror (errno));
    return FALSE;
  }
  r->out = NULL;
  /* The share layer verified the SHA-256; this only guards our own
   * writes. */
  if ((guint64) event->size != r->written) {
    g_printerr ("'%s': wrote %" G_GUINT64_FORMAT " bytes of %" G_GINT64_FORMAT
        "; not saved\n", r->shown, r->written, event->size);
    discard_partial (r);
    return TRUE;
  }
  path = hangout_publish_file (r->dir, r->tmp_path, r->name, &error);
  if (path == NULL) {
    fail (r, "Could not save the file", error->message);
    return FALSE;
  }
  g_print ("saved '%s' from %s as %s (%" G_GUINT64_FORMAT " bytes)\n",
      r->shown, r->sender, path, r->written);
  g_clear_pointer (&r->tmp_path, g_free);
  discard_partial (r);
  return TRUE;
}

static void
file_failed (Receiver *r, const HangoutTransferEvent *event)
{
  g_autofree gchar *why = hangout_transfer_printable (event->error->message);

  if (r->shown != NULL)
    g_printerr ("'%s' from %s failed: %s; not saved\n", r->shown, r->sender,
        why);
  discard_partial (r);
}

/* The receiving thread: the share layer's events, one file after the
 * other, until --count files are saved or the program ends. */
static gpointer
receive_files (gpointer data)
{
  Receiver *r = data;
  gboolean going = TRUE;

  while (going) {
    g_autoptr (GError) error = NULL;
    HangoutTransferEvent *event = hangout_share_receiver_next (r->share,
        r->cancellable, NULL, &error);

    if (event == NULL) {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (r, "Could not join the room", error->message);
      break;
    }
    switch (event->type) {
      case HANGOUT_TRANSFER_EVENT_STARTED:
        going = file_started (r, event);
        break;
      case HANGOUT_TRANSFER_EVENT_DATA:
        going = file_data (r, event->payload);
        break;
      case HANGOUT_TRANSFER_EVENT_COMPLETE:
        going = file_complete (r, event);
        /* The share layer (max-files) declined the files it still
         * held. */
        if (going && r->count > 0
            && hangout_share_receiver_get_completed (r->share) >= r->count) {
          finish (r, 0);
          going = FALSE;
        }
        break;
      default:
        file_failed (r, event);
        break;
    }
    hangout_transfer_event_free (event);
  }
  discard_partial (r);
  return NULL;
}

/* ---- the room's signals (its network thread) ---- */

static void
on_peer_connected (HangoutRoom *room, const gchar *member, Receiver *r)
{
  g_autofree gchar *raw = hangout_room_dup_member_name (room, member);
  g_autofree gchar *name = hangout_transfer_printable (raw ? raw : "");
  g_autofree gchar *sas = hangout_room_dup_member_sas (room, member);

  g_print ("%s (%s) connected; SAS %s: it sees the same unless someone is "
      "in the middle\n", name, member, sas);
}

static void
on_member_refused (HangoutRoom *room, const gchar *member,
    const gchar *raw_name, const gchar *reason, Receiver *r)
{
  g_autofree gchar *name = hangout_transfer_printable (raw_name ? raw_name :
      "");

  g_printerr ("refused %s (%s): %s\n", name, member, reason);
}

static void
on_room_failed (HangoutRoom *room, GError *error, Receiver *r)
{
  fail (r, "Could not join the room", error->message);
}

static gboolean
on_signal (gpointer user_data)
{
  finish (user_data, 130);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *room = NULL, *server = NULL, *name = NULL;
  g_autofree gchar *dir = NULL, *secret = NULL, *ca_file = NULL;
  g_autoptr (GTlsDatabase) database = NULL;
  gint count = 0;
  GOptionEntry entries[] = {
    {"room", 'r', 0, G_OPTION_ARG_STRING, &room, "Room to join (required)",
        "NAME"},
    {"server", 's', 0, G_OPTION_ARG_STRING, &server,
        "Signalling server URL (default: " DEFAULT_SERVER ")", "URL"},
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
  GThread *thread;

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
  if (ca_file != NULL) {
    /* GIO's file database needs an absolute path. */
    g_autofree gchar *path = g_canonicalize_filename (ca_file, NULL);
    g_autoptr (GError) ca_error = NULL;

    database = g_tls_file_database_new (path, &ca_error);
    if (database == NULL) {
      g_printerr ("error: --ca-file %s: %s\n", ca_file, ca_error->message);
      g_free (r.dir);
      return 2;
    }
  }
  r.count = count;
  r.loop = g_main_loop_new (NULL, FALSE);
  r.cancellable = g_cancellable_new ();
  r.room = hangout_room_new (room, name ? name : g_get_host_name (),
      server ? server : DEFAULT_SERVER);
  if (secret != NULL)
    g_object_set (r.room, "secret", secret, NULL);
  if (database != NULL)
    g_object_set (r.room, "tls-database", database, NULL);
  r.share = hangout_share_receiver_new (r.room, JOIN_TIMEOUT_S);
  g_object_set (r.share, "max-files", r.count, NULL);
  g_signal_connect (r.room, "peer-connected", G_CALLBACK (on_peer_connected),
      &r);
  g_signal_connect (r.room, "member-refused", G_CALLBACK (on_member_refused),
      &r);
  g_signal_connect (r.room, "failed", G_CALLBACK (on_room_failed), &r);
  g_unix_signal_add (SIGINT, on_signal, &r);
  g_unix_signal_add (SIGTERM, on_signal, &r);

  g_print ("joining room %s; saving files in %s\n", room, r.dir);
  if (!hangout_room_start (r.room, &error)) {
    fail (&r, "Could not join the room", error->message);
    g_clear_error (&error);
  } else {
    thread = g_thread_new ("receive", receive_files, &r);
    g_main_loop_run (r.loop);
    g_cancellable_cancel (r.cancellable);
    g_thread_join (thread);
  }

  hangout_room_stop (r.room);
  g_object_unref (r.share);
  g_object_unref (r.room);
  g_object_unref (r.cancellable);
  g_main_loop_unref (r.loop);
  g_free (r.dir);
  return g_atomic_int_get (&r.status);
}
