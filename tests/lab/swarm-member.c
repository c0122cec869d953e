/* gst-hangout lab — a member of a swarm room that the elements cannot be:
 *
 *   swarm-member --server URL --room ROOM --name NAME --corrupt
 *       a forwarder that accepts every version 2 file and forwards each
 *       piece it is handed with a byte changed (tests/helpers/rogue.h);
 *       prints "id ID" once joined, and runs until SIGINT or SIGTERM;
 *   swarm-member --server URL --room ROOM --name NAME --version1 FILE
 *       a receiver that speaks transfer version 1 alone (as the web page
 *       does): it writes the first file shared into FILE through the share
 *       layer, prints "complete SHA256" and exits 0, or prints why it
 *       failed and exits 1.
 *
 * Run by tests/lab/test-swarm-faults.sh, one member per network namespace.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rogue.h"
#include <hangout/share.h>

#include <stdio.h>
#include <glib-unix.h>

#define JOIN_TIMEOUT_S 30

typedef struct {
  GMainLoop *loop;
  gint status;
} Run;

static void
on_id (HangoutRoom *room, GParamSpec *pspec, gpointer data)
{
  g_autofree gchar *id = hangout_room_dup_id (room);

  if (id != NULL) {
    printf ("id %s\n", id);
    fflush (stdout);
  }
}

static void
on_failed (HangoutRoom *room, GError *error, Run *run)
{
  fprintf (stderr, "the room failed: %s\n", error->message);
  run->status = 1;
  g_main_loop_quit (run->loop);
}

/* Kept: timeout(1) sends its signal to us and then to its whole process
 * group, us again, and a removed source would leave the second one to the
 * default action. */
static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (((Run *) data)->loop);
  return G_SOURCE_CONTINUE;
}

/* The liar: until told to stop. */
static int
run_corrupt (HangoutRoom *room)
{
  Run run = { g_main_loop_new (NULL, FALSE), 0 };
  Rogue *rogue = rogue_new (room, ROGUE_CORRUPT, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_signal_connect (room, "notify::id", G_CALLBACK (on_id), NULL);
  g_signal_connect (room, "failed", G_CALLBACK (on_failed), &run);
  g_unix_signal_add (SIGINT, on_signal, &run);
  g_unix_signal_add (SIGTERM, on_signal, &run);
  if (!hangout_room_start (room, &error)) {
    fprintf (stderr, "cannot start: %s\n", error->message);
    run.status = 1;
  } else {
    g_main_loop_run (run.loop);
  }
  hangout_room_stop (room);
  printf ("handed %u piece messages\n", rogue_get_assigned (rogue));
  rogue_free (rogue);
  g_main_loop_unref (run.loop);
  return run.status;
}

/* Writes the events of one file into @out; TRUE once it is complete. */
static gboolean
receive_one (HangoutShareReceiver *share, FILE *out)
{
  for (;;) {
    g_autoptr (GError) error = NULL;
    HangoutTransferEvent *event =
        hangout_share_receiver_next (share, NULL, NULL, &error);
    gboolean done = FALSE, ok = FALSE;
    gsize len;
    const guint8 *bytes;

    if (event == NULL) {
      fprintf (stderr, "no file: %s\n", error->message);
      return FALSE;
    }
    switch (event->type) {
      case HANGOUT_TRANSFER_EVENT_DATA:
        bytes = g_bytes_get_data (event->payload, &len);
        if (fwrite (bytes, 1, len, out) != len) {
          perror ("write");
          done = TRUE;
        }
        break;
      case HANGOUT_TRANSFER_EVENT_COMPLETE:
        printf ("complete %s\n", event->sha256);
        done = ok = TRUE;
        break;
      case HANGOUT_TRANSFER_EVENT_FAILED:
        fprintf (stderr, "failed: %s\n", event->error->message);
        done = TRUE;
        break;
      default:
        break;
    }
    hangout_transfer_event_free (event);
    if (done)
      return ok;
  }
}

/* The version 1 member: one file, then leave. */
static int
run_version1 (HangoutRoom *room, const gchar *path)
{
  /* One file: the share layer declines what would follow. */
  HangoutShareReceiver *share = g_object_new (HANGOUT_TYPE_SHARE_RECEIVER,
      "room", room, "join-timeout", JOIN_TIMEOUT_S, "max-files", 1, NULL);
  g_autoptr (GError) error = NULL;
  FILE *out = fopen (path, "wb");
  gboolean ok = FALSE;

  if (out == NULL) {
    perror (path);
    g_object_unref (share);
    return 1;
  }
  /* The share receiver speaks both versions; this member, version 1
   * alone: set after it, before the room starts. */
  hangout_room_set_transfer_versions (room, HANGOUT_ROOM_TRANSFER_V (1));
  if (!hangout_room_start (room, &error))
    fprintf (stderr, "cannot start: %s\n", error->message);
  else
    ok = receive_one (share, out);
  hangout_room_stop (room);
  g_object_unref (share);
  if (fclose (out) != 0) {
    perror (path);
    ok = FALSE;
  }
  return ok ? 0 : 1;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *server = NULL, *room_name = NULL, *name = NULL;
  g_autofree gchar *version1 = NULL;
  gboolean corrupt = FALSE;
  GOptionEntry entries[] = {
    {"server", 0, 0, G_OPTION_ARG_STRING, &server, "signalling server",
        "URL"},
    {"room", 0, 0, G_OPTION_ARG_STRING, &room_name, "room", "ROOM"},
    {"name", 0, 0, G_OPTION_ARG_STRING, &name, "display name", "NAME"},
    {"corrupt", 0, 0, G_OPTION_ARG_NONE, &corrupt,
        "forward every piece corrupted", NULL},
    {"version1", 0, 0, G_OPTION_ARG_FILENAME, &version1,
        "receive one file in transfer version 1 into FILE", "FILE"},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- a swarm member for the network lab");
  g_autoptr (GError) error = NULL;
  g_autoptr (HangoutRoom) room = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 2;
  }
  if (server == NULL || room_name == NULL || name == NULL
      || corrupt == (version1 != NULL)) {
    fprintf (stderr, "--server, --room, --name and one of --corrupt, "
        "--version1 are needed\n");
    return 2;
  }
  room = hangout_room_new (room_name, name, server);
  return corrupt ? run_corrupt (room) : run_version1 (room, version1);
}
